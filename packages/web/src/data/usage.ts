/**
 * Usage and cost per table: free vs billable as Sentinel bills them (alerts and incidents are free; raw Defender
 * and SIEM tables are paid ingestion), daily series for the chart, totals for the table.
 */
import type { UsagePoint } from '../api/types.js';

/** Sentinel's free data sources among Vigil's tables (content/schema/tables.json, `billing.freeInSentinel`). */
export const FREE_TABLES: ReadonlySet<string> = new Set([
  'SecurityAlert',
  'SecurityIncident',
  'AzureActivity',
  'OfficeActivity',
]);

export function isBillable(table: string): boolean {
  return !FREE_TABLES.has(table);
}

export interface TableUsage {
  readonly table: string;
  readonly bytes: number;
  readonly rows: number;
  readonly billable: boolean;
  readonly cost: number;
}

const GB = 1024 ** 3;

export function summarize(
  points: readonly UsagePoint[],
  pricePerGb: number,
): { tables: TableUsage[]; billableBytes: number; freeBytes: number; cost: number } {
  const by = new Map<string, { bytes: number; rows: number; billable: boolean }>();
  for (const p of points) {
    const t = by.get(p.table) ?? { bytes: 0, rows: 0, billable: p.billable };
    t.bytes += p.bytes;
    t.rows += p.rows;
    by.set(p.table, t);
  }
  const tables = [...by].map(([table, t]) => ({ table, ...t, cost: t.billable ? (t.bytes / GB) * pricePerGb : 0 }));
  tables.sort((a, b) => b.bytes - a.bytes || a.table.localeCompare(b.table));
  const billableBytes = tables.filter((t) => t.billable).reduce((s, t) => s + t.bytes, 0);
  const freeBytes = tables.filter((t) => !t.billable).reduce((s, t) => s + t.bytes, 0);
  return { tables, billableBytes, freeBytes, cost: (billableBytes / GB) * pricePerGb };
}

/**
 * Daily billable and free bytes, days ascending (for the stacked chart). With `span`, every day of the last `span`
 * days up to `today` (or the latest day with data) is there, empty days as zero: one day of data is one bar of
 * thirty, not the whole width.
 */
export function dailySeries(
  points: readonly UsagePoint[],
  span = 0,
  today: string = new Date().toISOString().slice(0, 10),
): { days: string[]; billable: number[]; free: number[] } {
  const seen = new Set(points.map((p) => p.day).filter((d) => d !== ''));
  if (span > 0) {
    const last = [...seen, today].sort().at(-1) ?? today;
    const end = Date.parse(`${last}T00:00:00Z`);
    for (let i = 0; i < span; i++) seen.add(new Date(end - i * 86_400_000).toISOString().slice(0, 10));
  }
  const days = [...seen].sort();
  const index = new Map(days.map((d, i) => [d, i]));
  const billable = days.map(() => 0);
  const free = days.map(() => 0);
  for (const p of points) {
    const i = index.get(p.day);
    if (i === undefined) continue;
    if (p.billable) billable[i]! += p.bytes;
    else free[i]! += p.bytes;
  }
  return { days, billable, free };
}
