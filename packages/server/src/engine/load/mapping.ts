/**
 * Which source field feeds which column when a file is loaded into a table. Engine-neutral: the engines turn the
 * result into their own reader SQL.
 *
 * Real exports do not always use the schema's names (see fixtures/shared/sample-data/README.md):
 * - Log Analytics portal CSV exports suffix datetime headers with ` [UTC]` (`TimeGenerated [UTC]`);
 * - a KQL `union` over differently-typed columns splits them into `X_dynamic`/`X_string`, `X_long`/`X_string`...;
 * - custom-log style type suffixes `X_s`, `X_d`, ... and a trailing `_` (`OrganizationId_`) for renamed duplicates;
 * - a few tables have legacy column names (SecurityAlert's `StartTimeUtc`, `AlertDisplayName`, `Severity`).
 * A field whose own name is a column always maps to it exactly; the rewrites only apply to fields that are not
 * columns, and when several fields feed one column the exact one wins, then the others in file order.
 */
import type { TableStorage } from '../engine.js';

export interface FieldMapping {
  /** KQL column name → indexes into the field list, in priority order. Columns without sources are absent. */
  readonly sources: ReadonlyMap<string, readonly number[]>;
  readonly renamed: readonly { readonly source: string; readonly column: string }[];
  readonly ignored: readonly string[];
}

const TYPE_SUFFIX =
  /^(.+)_(dynamic|string|long|int|real|double|bool|boolean|datetime|guid|timespan|decimal|s|d|b|g|t|l|i|r)$/;
const EXPORT_SUFFIX = /^(.+?)\s+\[[^\]]*\]$/;

/** Legacy column names still found in exports, per table. */
const LEGACY_NAMES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  SecurityAlert: {
    StartTimeUtc: 'StartTime',
    EndTimeUtc: 'EndTime',
    AlertDisplayName: 'DisplayName',
    Severity: 'AlertSeverity',
    ProviderAlertId: 'VendorOriginalId',
  },
};

export function mapSourceFields(fields: readonly string[], table: TableStorage): FieldMapping {
  const columns = new Set(table.columns.map((c) => c.name));
  const byLower = new Map<string, string>();
  for (const c of table.columns) if (!byLower.has(c.name.toLowerCase())) byLower.set(c.name.toLowerCase(), c.name);
  const legacy = LEGACY_NAMES[table.name] ?? {};

  const resolve = (field: string): string | undefined => {
    const candidates: string[] = [];
    const exported = EXPORT_SUFFIX.exec(field)?.[1];
    const base = exported ?? field;
    candidates.push(base);
    const typed = TYPE_SUFFIX.exec(base)?.[1];
    if (typed) candidates.push(typed);
    if (base.endsWith('_') && base.length > 1) candidates.push(base.slice(0, -1));
    const old = legacy[base];
    if (old) candidates.push(old);
    for (const c of candidates) if (columns.has(c)) return c;
    for (const c of candidates) {
      const ci = byLower.get(c.toLowerCase());
      if (ci) return ci;
    }
    return undefined;
  };

  const exact = new Map<string, number[]>();
  const other = new Map<string, number[]>();
  const renamed: { source: string; column: string }[] = [];
  const ignored: string[] = [];
  fields.forEach((field, i) => {
    if (columns.has(field)) {
      push(exact, field, i);
      return;
    }
    const column = resolve(field);
    if (column === undefined) {
      ignored.push(field);
      return;
    }
    push(other, column, i);
    renamed.push({ source: field, column });
  });

  const own = new Map<string, number[]>();
  for (const name of columns) {
    const list = [...(exact.get(name) ?? []), ...(other.get(name) ?? [])];
    if (list.length > 0) own.set(name, list);
  }

  // Case variants hold one value: each member takes its own sources first, then its partners'.
  const groups = new Map<string, string[]>();
  for (const c of table.columns) {
    const head = c.variantOf ?? c.name;
    const g = groups.get(head) ?? [];
    g.push(c.name);
    groups.set(head, g);
  }
  const sources = new Map<string, readonly number[]>();
  for (const c of table.columns) {
    const group = groups.get(c.variantOf ?? c.name) ?? [c.name];
    const list = [...(own.get(c.name) ?? [])];
    for (const partner of group) if (partner !== c.name) list.push(...(own.get(partner) ?? []));
    if (list.length > 0) sources.set(c.name, list);
  }
  return { sources, renamed, ignored };
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
