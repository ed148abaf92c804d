/**
 * Usage and cost per table. Which tables are billable comes from the server (`billable` on the usage points, the
 * usage tables and `tables.list`), never from a list kept here; costs exist only once a price per GB is set.
 */
import type { TableInfo, UsagePoint, UsageReport, UsageTable } from '../api/types.js';

export interface UsageSummary {
  /** Largest billable volume first (the server's order). */
  readonly tables: readonly UsageTable[];
  readonly bytes: number;
  readonly billableBytes: number;
  readonly freeBytes: number;
  /** Null while no price per GB is configured. */
  readonly cost: number | null;
}

/** The usage page's totals and rows from the server's report. */
export function summarize(report: UsageReport): UsageSummary {
  const freeBytes = report.tables.filter((t) => !t.billable).reduce((s, t) => s + t.bytes, 0);
  return {
    tables: report.tables,
    bytes: report.totals.bytes,
    billableBytes: report.totals.billableBytes,
    freeBytes,
    cost: report.totals.cost,
  };
}

const GB = 1024 ** 3;

/**
 * Totals from `tables.list` alone, when the usage report is unavailable: the tables' ingested volume, each billable
 * as the server flags it (a table without the flag counts as billable, so an estimate never hides a cost). Nobody's
 * use of the tables is known, so no table is called unused.
 */
export function summarizeTables(tables: readonly TableInfo[], pricePerGb: number | null): UsageSummary {
  const rows: UsageTable[] = tables
    .filter((t) => (t.ingestedBytes ?? 0) > 0)
    .map((t) => {
      const bytes = t.ingestedBytes ?? 0;
      const billable = t.billable ?? true;
      const billableBytes = billable ? bytes : 0;
      return {
        table: t.name,
        connector: t.connector ?? null,
        ...(t.selected !== undefined ? { selected: t.selected } : {}),
        rows: t.rows,
        bytes,
        billableBytes,
        billable,
        cost: pricePerGb === null ? null : (billableBytes / GB) * pricePerGb,
        rules: [],
        huntQueries: 0,
        unused: false,
      };
    })
    .sort((a, b) => b.billableBytes - a.billableBytes || b.bytes - a.bytes || a.table.localeCompare(b.table));
  const bytes = rows.reduce((s, t) => s + t.bytes, 0);
  const billableBytes = rows.reduce((s, t) => s + t.billableBytes, 0);
  return {
    tables: rows,
    bytes,
    billableBytes,
    freeBytes: bytes - billableBytes,
    cost: pricePerGb === null ? null : (billableBytes / GB) * pricePerGb,
  };
}

/** Usage points (one per table) from `tables.list`, for the chart when the daily series is unavailable. */
export function pointsFromTables(tables: readonly TableInfo[]): UsagePoint[] {
  return tables
    .filter((t) => (t.ingestedBytes ?? 0) > 0)
    .map((t) => ({
      day: (t.lastIngestion ?? '').slice(0, 10),
      table: t.name,
      bytes: t.ingestedBytes ?? 0,
      rows: t.rows,
      billable: t.billable ?? true,
    }));
}

/** Who uses a table: enabled rules reading it, hunting queries naming it; `unused` as the server decides it. */
export function usedBy(t: UsageTable): { text: string; unused: boolean; title: string } {
  const enabled = t.rules.filter((r) => r.enabled);
  const disabled = t.rules.length - enabled.length;
  const parts: string[] = [];
  if (enabled.length) parts.push(`${enabled.length} rule${enabled.length === 1 ? '' : 's'}`);
  if (t.huntQueries) parts.push(`${t.huntQueries} hunt${t.huntQueries === 1 ? '' : 's'}`);
  if (disabled) parts.push(`${disabled} disabled rule${disabled === 1 ? '' : 's'}`);
  const title = t.rules.map((r) => `${r.name}${r.enabled ? '' : ' (disabled)'}`).join('\n');
  if (t.unused) return { text: parts.length ? `Unused · ${parts.join(' · ')}` : 'Unused', unused: true, title };
  return { text: parts.join(' · ') || '—', unused: false, title };
}

/** A cost as the page shows it: two decimals and the currency; a cost too small for cents is not shown as zero. */
export function formatCost(cost: number, currency: string): string {
  if (cost > 0 && cost < 0.005) return `< 0.01 ${currency}`;
  return `${cost.toFixed(2)} ${currency}`;
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
