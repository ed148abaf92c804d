/** Usage logic: billable as the server flags it, costs only with a price, who uses a table, the daily series. */
import { describe, expect, it } from 'vitest';
import type { TableInfo, UsageReport, UsageTable } from '../../src/api/types.js';
import { dailySeries, formatCost, pointsFromTables, summarize, summarizeTables, usedBy } from '../../src/data/usage.js';

const GB = 1024 ** 3;
const table = (name: string, ingestedBytes: number, billable?: boolean): TableInfo => ({
  name,
  columns: [],
  rows: 10,
  ingestedBytes,
  lastIngestion: '2026-11-27T10:00:00Z',
  ...(billable !== undefined ? { billable } : {}),
});
const usage = (over: Partial<UsageTable> & { table: string }): UsageTable => ({
  rows: 1,
  bytes: 0,
  billableBytes: 0,
  billable: true,
  cost: null,
  rules: [],
  huntQueries: 0,
  unused: false,
  ...over,
});

describe('summarizeTables (usage report unavailable)', () => {
  it("takes billable from the server's flag, not from the table's name", () => {
    // SecurityAlert is free in Sentinel, but the flag is the server's to decide: flagged billable, it is billable.
    const s = summarizeTables([table('SecurityAlert', GB, true), table('SigninLogs', 2 * GB, false)], 2);
    expect(s.billableBytes).toBe(GB);
    expect(s.freeBytes).toBe(2 * GB);
    expect(s.cost).toBe(2);
    expect(s.tables.map((t) => [t.table, t.billable, t.cost])).toEqual([
      ['SecurityAlert', true, 2],
      ['SigninLogs', false, 0],
    ]);
    expect(pointsFromTables([table('SecurityAlert', GB, false)])[0]?.billable).toBe(false);
  });

  it('has no cost while no price is set, and counts a table without the flag as billable', () => {
    const s = summarizeTables([table('Custom_CL', GB), table('Empty', 0, true)], null);
    expect(s.cost).toBeNull();
    expect(s.tables).toHaveLength(1);
    expect(s.tables[0]).toMatchObject({ table: 'Custom_CL', billable: true, billableBytes: GB, cost: null });
  });
});

describe('summarize (usage report)', () => {
  it("uses the server's totals and per-table costs; free bytes are the non-billable tables'", () => {
    const report: UsageReport = {
      from: '2026-10-29T00:00:00Z',
      to: '2026-11-28T00:00:00Z',
      days: 30,
      pricePerGb: null,
      currency: 'EUR',
      points: [],
      tables: [
        usage({ table: 'SigninLogs', bytes: 300, billableBytes: 300 }),
        usage({ table: 'SecurityAlert', bytes: 50, billable: false }),
      ],
      totals: { rows: 2, bytes: 350, billableBytes: 300, cost: null },
    };
    expect(summarize(report)).toMatchObject({ bytes: 350, billableBytes: 300, freeBytes: 50, cost: null });
  });
});

describe('formatCost', () => {
  it('shows cents with the currency, and a cost below a cent as such rather than zero', () => {
    expect(formatCost(12.345, 'EUR')).toBe('12.35 EUR');
    expect(formatCost(0, 'USD')).toBe('0.00 USD');
    expect(formatCost(0.0004, 'USD')).toBe('< 0.01 USD');
  });
});

describe('usedBy', () => {
  it('names enabled rules and hunts, and says unused when the server says so', () => {
    const rules = [
      { id: 'a', name: 'Brute force', enabled: true },
      { id: 'b', name: 'Old rule', enabled: false },
    ];
    expect(usedBy(usage({ table: 'T', rules, huntQueries: 3 }))).toEqual({
      text: '1 rule · 3 hunts · 1 disabled rule',
      unused: false,
      title: 'Brute force\nOld rule (disabled)',
    });
    expect(usedBy(usage({ table: 'T', rules: [rules[1]!], unused: true }))).toMatchObject({
      text: 'Unused · 1 disabled rule',
      unused: true,
    });
    expect(usedBy(usage({ table: 'T', unused: true })).text).toBe('Unused');
  });
});

const point = (day: string, table: string, bytes: number, billable: boolean) => ({
  day,
  table,
  bytes,
  rows: 1,
  billable,
});

describe('dailySeries', () => {
  it('sums billable and free bytes per day', () => {
    const s = dailySeries([
      point('2026-11-27', 'SigninLogs', 100, true),
      point('2026-11-27', 'SecurityAlert', 10, false),
      point('2026-11-28', 'SigninLogs', 50, true),
    ]);
    expect(s).toEqual({ days: ['2026-11-27', '2026-11-28'], billable: [100, 50], free: [10, 0] });
  });

  it('pads to the span ending today (or the latest day with data), empty days as zero', () => {
    const s = dailySeries([point('2026-11-28', 'SigninLogs', 7, true)], 3, '2026-11-28');
    expect(s).toEqual({ days: ['2026-11-26', '2026-11-27', '2026-11-28'], billable: [0, 0, 7], free: [0, 0, 0] });
    const later = dailySeries([point('2026-11-29', 'SecurityAlert', 5, false)], 2, '2026-11-28');
    expect(later.days).toEqual(['2026-11-28', '2026-11-29']);
    expect(later.free).toEqual([0, 5]);
  });
});
