/** The usage chart's daily series: billable and free bytes per day, padded to the span shown. */
import { describe, expect, it } from 'vitest';
import { dailySeries } from '../../src/data/usage.js';

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
