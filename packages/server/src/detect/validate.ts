/**
 * Checks a parsed rule against the workspace: the query compiles (every KQL diagnostic is reported at its place in
 * the file), its tables exist, its result has the columns the rule refers to (entity mappings, custom details,
 * alert details override, response actions), a Sentinel rule returns `TimeGenerated`, a custom detection returns
 * `Timestamp`, `ReportId` and an entity column. Also decides how the scheduler runs the rule: an NRT rule whose
 * query only filters and reshapes rows runs on each ingestion batch; one that aggregates or joins over its input
 * runs on a one-minute schedule instead, and the import report says so.
 */
import type { CompiledQuery, PlanColumn, WorkspaceSchema } from '@vigil/kql';
import { Codes, compile, duckdb } from '@vigil/kql';
import { CUSTOM_DETECTION_ENTITY_COLUMNS, type RuleDefinition, type ScheduleMode } from './model.js';
import type { ParsedRule } from './rule-file.js';

export interface RuleAnalysis {
  readonly mode: ScheduleMode;
  /** Tables the query reads. */
  readonly tables: readonly string[];
  /** The result schema. */
  readonly columns: readonly PlanColumn[];
  /** For NRT rules: why the rule cannot run per batch (it then runs on the fallback schedule). */
  readonly notIncremental: string | null;
}

export interface ValidateOptions {
  /** How a Sentinel rule without `TimeGenerated` in its result is reported (default `error`, as Sentinel does). */
  readonly missingTimeGenerated?: 'error' | 'warning';
}

/** Validates `parsed.rule` against the workspace and adds diagnostics to `parsed`; null when the rule cannot run. */
export function validateRule(
  parsed: ParsedRule,
  workspace: WorkspaceSchema,
  options: ValidateOptions = {},
): RuleAnalysis | null {
  const rule = parsed.rule;
  if (!rule) return null;
  const queryRange = parsed.fieldRange(rule.kind === 'CustomDetection' ? ['queryCondition', 'queryText'] : ['query']);
  let compiled: CompiledQuery;
  try {
    compiled = compile(rule.query, workspace, { dialect: duckdb, nowMs: Date.now() });
  } catch (e) {
    // A compiler defect on one rule must not stop an import of many: the rule is rejected with the reason.
    const [s, e2] = queryRange ?? [parsed.offset, parsed.offset];
    parsed.report(
      'error',
      'internal',
      `The compiler failed on this query: ${e instanceof Error ? e.message : String(e)}`,
      s,
      e2,
    );
    return null;
  }
  let failed = false;
  for (const d of compiled.diagnostics) {
    if (d.severity !== 'error' && d.severity !== 'warning') continue;
    const start = parsed.queryOffset(d.start);
    const end = parsed.queryOffset(d.start + d.length);
    const code =
      d.code === Codes.UnknownTable.code || (d.code === Codes.UnknownName.code && isTableReference(rule.query, d.start))
        ? 'missing-table'
        : d.code === Codes.Unsupported.code
          ? 'unsupported'
          : `query-${d.code}`;
    const prefix = code === 'missing-table' ? 'Missing table: ' : code === 'unsupported' ? 'Unsupported: ' : '';
    parsed.report(d.severity, code, `${prefix}${d.message}`, start, end);
    if (d.severity === 'error') failed = true;
  }
  if (failed || !compiled.ok || !compiled.plan) {
    if (!failed) {
      const [s, e] = queryRange ?? [parsed.offset, parsed.offset];
      parsed.report('error', 'query', 'The query cannot be compiled.', s, e);
    }
    return null;
  }
  const columns = compiled.columns;
  const has = (name: string) => columns.some((c) => c.name === name);
  const missingColumn = (path: (string | number)[], column: string, what: string) => {
    const r = parsed.fieldRange(path) ?? queryRange ?? [parsed.offset, parsed.offset];
    // A warning: Sentinel rules in the wild map columns their query no longer returns; such values stay empty.
    parsed.report(
      'warning',
      'missing-column',
      `${what} '${column}' is not a column of the query's result.`,
      r[0],
      r[1],
    );
  };

  if (rule.kind === 'CustomDetection') {
    checkCustomDetection(
      rule,
      parsed,
      columns.map((c) => c.name),
      missingColumn,
    );
  } else if (!has('TimeGenerated')) {
    const r = queryRange ?? [parsed.offset, parsed.offset];
    parsed.report(
      options.missingTimeGenerated ?? 'error',
      'no-timegenerated',
      `A ${rule.kind} rule's query must return TimeGenerated (the result has ${columns.map((c) => c.name).join(', ') || 'no columns'}).`,
      r[0],
      r[1],
    );
  }
  rule.entityMappings.forEach((m, i) => {
    m.fieldMappings.forEach((f, j) => {
      if (!has(f.columnName)) {
        missingColumn(
          ['entityMappings', i, 'fieldMappings', j, 'columnName'],
          f.columnName,
          `The ${m.entityType} column`,
        );
      }
    });
  });
  for (const [key, column] of Object.entries(rule.customDetails)) {
    if (!has(column)) missingColumn(['customDetails', key], column, `Custom detail ${key}: the column`);
  }
  for (const column of rule.sentinelEntitiesColumns) {
    if (!has(column)) missingColumn(['sentinelEntitiesMappings'], column, 'The Sentinel entities column');
  }
  const o = rule.alertDetailsOverride;
  if (o && rule.kind !== 'CustomDetection') {
    for (const key of ['alertDisplayNameFormat', 'alertDescriptionFormat'] as const) {
      for (const column of placeholders(o[key] ?? '')) {
        if (!has(column)) missingColumn(['alertDetailsOverride', key], column, 'The placeholder column');
      }
    }
    for (const key of ['alertTacticsColumnName', 'alertSeverityColumnName'] as const) {
      const column = o[key];
      if (column && !has(column)) missingColumn(['alertDetailsOverride', key], column, 'The column');
    }
    (o.alertDynamicProperties ?? []).forEach((p, i) => {
      if (!has(p.value))
        missingColumn(['alertDetailsOverride', 'alertDynamicProperties', i, 'value'], p.value, 'The column');
    });
  }
  if (parsed.diagnostics.some((d) => d.severity === 'error')) return null;

  const tables = scannedTables(compiled);
  let mode: ScheduleMode = 'scheduled';
  let notIncremental: string | null = null;
  const nrt = rule.kind === 'NRT' || (rule.kind === 'CustomDetection' && rule.customDetection?.period === '0');
  if (nrt) {
    notIncremental = nonIncrementalReason(compiled.plan.rel);
    mode = notIncremental ? 'nrt-fallback' : 'nrt';
    if (notIncremental) {
      const at = operatorSpan(rule.query, notIncremental);
      const start = at ? parsed.queryOffset(at[0]) : (queryRange?.[0] ?? parsed.offset);
      const end = at ? parsed.queryOffset(at[1]) : (queryRange?.[1] ?? parsed.offset);
      parsed.report(
        'warning',
        'nrt-not-incremental',
        `This near-real-time rule ${describeReason(notIncremental)}, so it cannot run on each ingestion batch: it runs ` +
          'every minute over the rows ingested in that minute instead.',
        start,
        end,
      );
    }
  }
  return { mode, tables, columns, notIncremental };
}

/**
 * Whether an unknown name at `offset` stands where a table goes: first in a statement or a parenthesized
 * sub-query, right after `union`, `join`/`lookup` (and their `kind=...`), or after a comma in a union's list.
 */
export function isTableReference(query: string, offset: number): boolean {
  const before = query
    .slice(0, offset)
    .replace(/\/\/[^\n]*/g, '')
    .trimEnd();
  if (before === '' || /[;(]$/.test(before)) return true;
  if (/\b(union|join|lookup)(\s+(kind|withsource|isfuzzy)\s*=\s*\w+)*$/i.test(before)) return true;
  if (/\blet\s+\w+\s*=$/.test(before)) return true;
  // A comma continues a union's table list when the statement's last operator is a union.
  return before.endsWith(',') && /\bunion\b[^|]*$/i.test(before);
}

/** `{{Column}}` placeholders of an alert details format. */
export function placeholders(format: string): string[] {
  return [...format.matchAll(/\{\{\s*([^{}\s]+)\s*\}\}/g)].map((m) => m[1] as string);
}

/** The result column a Graph-style identifier (`deviceId`, `sha1`) names: exact, else ignoring case. */
export function identifierColumn(identifier: string, columns: readonly string[]): string | null {
  if (columns.includes(identifier)) return identifier;
  const lower = identifier.toLowerCase();
  return columns.find((c) => c.toLowerCase() === lower) ?? null;
}

function checkCustomDetection(
  rule: RuleDefinition,
  parsed: ParsedRule,
  names: readonly string[],
  missingColumn: (path: (string | number)[], column: string, what: string) => void,
): void {
  const queryRange = parsed.fieldRange(['queryCondition', 'queryText']) ?? [parsed.offset, parsed.offset];
  const has = (name: string) => names.includes(name);
  for (const required of ['Timestamp', 'ReportId']) {
    if (!has(required)) {
      parsed.report(
        'error',
        'missing-column',
        `A custom detection's query must return ${required}.`,
        queryRange[0],
        queryRange[1],
      );
    }
  }
  if (!CUSTOM_DETECTION_ENTITY_COLUMNS.some(has)) {
    parsed.report(
      'error',
      'missing-column',
      `A custom detection's query must return an entity column (${CUSTOM_DETECTION_ENTITY_COLUMNS.join(', ')}).`,
      queryRange[0],
      queryRange[1],
    );
  }
  const cd = rule.customDetection;
  cd?.impactedAssets.forEach((a, i) => {
    if (!identifierColumn(a.identifier, names)) {
      missingColumn(
        ['detectionAction', 'alertTemplate', 'impactedAssets', i, 'identifier'],
        a.identifier,
        'The impacted asset',
      );
    }
  });
  cd?.responseActions.forEach((a, i) => {
    if (!identifierColumn(a.identifier, names)) {
      missingColumn(
        ['detectionAction', 'responseActions', i, 'identifier'],
        a.identifier,
        'The response action target',
      );
    }
  });
}

type PlanNode = { readonly kind?: unknown } & Readonly<Record<string, unknown>>;

/** Visits every object in a plan (relations and scalars alike), so nested sub-queries are seen too. */
function visit(node: unknown, f: (n: PlanNode) => void): void {
  if (Array.isArray(node)) {
    for (const x of node) visit(x, f);
    return;
  }
  if (!node || typeof node !== 'object') return;
  f(node as PlanNode);
  for (const v of Object.values(node)) if (v && typeof v === 'object') visit(v, f);
}

/**
 * Whether a plan part reads a table, directly or through a named sub-plan (`ref` to a `with` binding: lowering names
 * the relations several parts read, e.g. basket's input, and the passes keep them named).
 */
function containsScan(node: unknown, bindings: ReadonlyMap<string, unknown> = new Map(), seen = new Set<string>()) {
  let found = false;
  visit(node, (n) => {
    if (found) return;
    if (n.kind === 'scan') found = true;
    else if (n.kind === 'ref' && typeof n.name === 'string' && !seen.has(n.name)) {
      seen.add(n.name);
      found = containsScan(bindings.get(n.name), bindings, seen);
    }
  });
  return found;
}

export function scannedTables(compiled: CompiledQuery): string[] {
  const out = new Set<string>();
  visit(compiled.plan?.rel, (n) => {
    if (n.kind === 'scan' && typeof n.table === 'string') out.add(n.table);
  });
  return [...out].sort();
}

/**
 * Why a plan cannot be evaluated batch by batch (the union of per-batch results differs from the result over all
 * rows): an aggregation, de-duplication, row window, limit or join whose inputs read tables. Null when it can.
 */
export function nonIncrementalReason(rel: unknown): string | null {
  const bindings = new Map<string, unknown>();
  visit(rel, (n) => {
    if (n.kind !== 'with' || !Array.isArray(n.bindings)) return;
    for (const b of n.bindings as { name?: unknown; rel?: unknown }[]) {
      if (typeof b.name === 'string') bindings.set(b.name, b.rel);
    }
  });
  const reads = (node: unknown) => containsScan(node, bindings);
  let reason: string | null = null;
  visit(rel, (n) => {
    if (reason) return;
    switch (n.kind) {
      case 'aggregate':
      case 'make-series':
        if (reads(n.input)) reason = 'aggregate';
        break;
      case 'distinct':
        if (reads(n.input)) reason = 'distinct';
        break;
      case 'window':
        if (reads(n.input)) reason = 'window';
        break;
      case 'limit':
        if (reads(n.input)) reason = 'limit';
        break;
      case 'join':
        if (reads(n.left) && reads(n.right)) reason = 'join';
        break;
    }
  });
  return reason;
}

function describeReason(reason: string): string {
  switch (reason) {
    case 'aggregate':
      return 'aggregates over its input (summarize, count, make-series)';
    case 'join':
      return 'joins two tables';
    case 'distinct':
      return 'de-duplicates its input (distinct)';
    case 'window':
      return 'uses row functions over its input (serialize, row_number, prev/next)';
    case 'limit':
      return 'limits its result (take, top)';
    default:
      return reason;
  }
}

const REASON_OPERATORS: Readonly<Record<string, RegExp>> = {
  aggregate: /\|\s*(summarize|count|make-series|top-nested|evaluate)\b/,
  join: /\b(join|lookup)\b/,
  distinct: /\|\s*distinct\b/,
  window: /\|\s*serialize\b|\b(row_number|prev|next|row_cumsum)\s*\(/,
  limit: /\|\s*(take|limit|top|sample)\b/,
};

/** Where in the query the operator behind a reason is (first match outside comments), for the diagnostic span. */
function operatorSpan(query: string, reason: string): [number, number] | null {
  const re = REASON_OPERATORS[reason];
  if (!re) return null;
  const masked = query.replace(/\/\/[^\n]*/g, (m) => ' '.repeat(m.length));
  const m = re.exec(masked);
  if (!m) return null;
  const word = m[1] ?? m[0];
  const start = m.index + m[0].indexOf(word);
  return [start, start + word.length];
}
