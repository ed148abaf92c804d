/**
 * One evaluation of a rule over one window: run the query with every table scan restricted to the rows ingested in
 * [queryStart, windowEnd) and now() = windowEnd (so `ago()` means the same thing in a catch-up as it did live),
 * count the results, apply the trigger, and build the alerts. Nothing is written here: the service records the run
 * and writes the alerts; replay and rule tests use the outcome as it is.
 */
import { randomUUID } from 'node:crypto';
import type { ResultSet } from '../engine/engine.js';
import { engineMessage } from '../engine/errors.js';
import type { KqlValue } from '../engine/values.js';
import type { QueryWorkspace } from '../query/query-service.js';
import { compileKql, runKql } from '../query/query-service.js';
import type { RuleRun, RunTrigger } from '../state/rules-repo.js';
import { buildAlerts, type DetectionAlert } from './alerts.js';
import type { RuleDefinition, TriggerOperator } from './model.js';
import type { SqlTemplateCache } from './sql-cache.js';
import { identifierColumn } from './validate.js';

/** Results read per evaluation; beyond it the count is exact (a second query) but only these rows feed alerts. */
export const MAX_RESULT_ROWS = 10_000;

export interface EvaluationWindow {
  /** The new-data window the run accounts for in the ledger. */
  readonly startMs: number;
  readonly endMs: number;
  /** Where the query's read starts (<= startMs: the lookback). */
  readonly queryStartMs: number;
}

export interface EvaluationOptions {
  readonly trigger: RunTrigger;
  readonly tables: readonly string[];
  readonly timeoutMs?: number;
  /** The time the evaluation happens (ms), for the alert's TimeGenerated and the run's lag. */
  readonly clock?: () => number;
  /** now() for the query (default: the window's end). */
  readonly queryNowMs?: number;
  /** Compiled query templates (the service's); without it every evaluation compiles the query. */
  readonly templates?: SqlTemplateCache;
  /** Drops results a custom detection already alerted on (the rows' keys). */
  readonly seenKeys?: (keys: readonly string[]) => Promise<Set<string>>;
}

export interface Evaluation {
  readonly run: RuleRun;
  readonly alerts: DetectionAlert[];
  readonly triggered: boolean;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly (readonly KqlValue[])[];
}

export function triggers(op: TriggerOperator, count: number, threshold: number): boolean {
  switch (op) {
    case 'gt':
      return count > threshold;
    case 'lt':
      return count < threshold;
    case 'eq':
      return count === threshold;
    case 'ne':
      return count !== threshold;
  }
}

/** The run bookkeeping shared by single and combined evaluations. */
function runClock(rule: RuleDefinition, window: EvaluationWindow, options: EvaluationOptions, share = 1) {
  const clock = options.clock ?? Date.now;
  const started = clock();
  const t0 = performance.now();
  const runId = randomUUID();
  const finish = (fields: Pick<RuleRun, 'status' | 'rows' | 'alerts' | 'truncated' | 'error'>): RuleRun => {
    const end = clock();
    return {
      runId,
      ruleId: rule.id,
      trigger: options.trigger,
      windowStartMs: window.startMs,
      windowEndMs: window.endMs,
      queryStartMs: window.queryStartMs,
      startedAt: new Date(started).toISOString(),
      evaluations: 1,
      ...fields,
      finishedAt: new Date(end).toISOString(),
      // A combined evaluation's time is shared by its rules.
      durationMs: (performance.now() - t0) / share,
      lagMs: Math.max(0, end - window.endMs),
    };
  };
  return { clock, runId, finish };
}

function failed(finish: ReturnType<typeof runClock>['finish'], error: string): Evaluation {
  return {
    run: finish({ status: 'failure', rows: 0, alerts: 0, truncated: false, error }),
    alerts: [],
    triggered: false,
    columns: [],
    rows: [],
  };
}

/** Counting, de-duplication (custom detections), the trigger, and the alerts, once the result is read. */
async function complete(
  rule: RuleDefinition,
  window: EvaluationWindow,
  options: EvaluationOptions,
  timing: ReturnType<typeof runClock>,
  columns: readonly { readonly name: string; readonly type: string }[],
  result: { rows: KqlValue[][]; total: number; truncated: boolean },
): Promise<Evaluation> {
  let { rows, total } = result;
  // A custom detection's lookback overlaps the previous runs': results it already alerted on are not new.
  if (rule.kind === 'CustomDetection' && options.seenKeys && rows.length > 0) {
    const keyOf = rowKeyFn(columns, rule);
    const seen = await options.seenKeys(rows.map(keyOf));
    if (seen.size > 0) {
      rows = rows.filter((r) => !seen.has(keyOf(r)));
      total = rows.length;
    }
  }
  const triggered = triggers(rule.triggerOperator, total, rule.triggerThreshold);
  const alerts = triggered
    ? buildAlerts(
        { rule, runId: timing.runId, window, nowMs: timing.clock(), tables: options.tables, newId: randomUUID },
        columns,
        rows,
        total,
      )
    : [];
  return {
    run: timing.finish({
      status: 'success',
      rows: total,
      alerts: alerts.length,
      truncated: result.truncated,
      error: null,
    }),
    alerts,
    triggered,
    columns,
    rows,
  };
}

function queryOptions(window: EvaluationWindow, options: EvaluationOptions, maxRows: number) {
  return {
    nowMs: options.queryNowMs ?? window.endMs,
    ingestionWindow: { startMs: window.queryStartMs, endMs: window.endMs },
    timeoutMs: options.timeoutMs ?? 5 * 60_000,
    maxRows,
  };
}

export async function evaluateRule(
  ws: QueryWorkspace,
  rule: RuleDefinition,
  window: EvaluationWindow,
  options: EvaluationOptions,
): Promise<Evaluation> {
  const timing = runClock(rule, window, options);
  const runOptions = queryOptions(window, options, MAX_RESULT_ROWS);
  let result: ResultSet;
  const template = options.templates?.get(rule.query);
  if (template) {
    // The compiled query with this window's times: no compile on the evaluation path.
    try {
      result = await ws.engine.query(template.render(runOptions.ingestionWindow, runOptions.nowMs), {
        timeoutMs: runOptions.timeoutMs,
        maxRows: runOptions.maxRows,
        columns: template.columns,
      });
    } catch (e) {
      return failed(timing.finish, engineMessage(e));
    }
  } else {
    let out: Awaited<ReturnType<typeof runKql>>;
    try {
      out = await runKql(ws, rule.query, runOptions);
    } catch (e) {
      return failed(timing.finish, `internal: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!out.result || out.error) return failed(timing.finish, out.error?.message ?? 'no result');
    result = out.result;
  }
  const columns = result.columns;
  let rows: KqlValue[][];
  let total: number;
  let truncated = false;
  try {
    rows = await result.rows();
    total = result.rowCount;
    if (result.truncated) {
      truncated = true;
      total = await exactCount(ws, rule.query, runOptions, total);
    }
  } finally {
    await result.close();
  }
  return complete(rule, window, options, timing, columns, { rows, total, truncated });
}

/** A rule ready for combined evaluation: its result columns, known from compiling it once. */
export interface CombinableRule {
  readonly rule: RuleDefinition;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly tables: readonly string[];
}

/** The KQL that evaluates several rules in one query: each rule a function, each result row a tagged bag. */
export function combinedQuery(rules: readonly RuleDefinition[]): string {
  const lets = rules.map((r, i) => `let __vigil_rule${i} = () {\n${r.query}\n};`);
  const branches = rules.map((_, i) => `(__vigil_rule${i}() | project __rule = ${i}, __row = pack_all())`);
  return `${lets.join('\n')}\nunion ${branches.join(',\n  ')}`;
}

/**
 * Evaluates rules that read the same window in one query (NRT rules on a batch: one scan of the new rows, one
 * engine round trip, instead of one per rule). Returns null when the combined query cannot run or its result was
 * cut; the caller then evaluates the rules one by one.
 */
export async function evaluateCombined(
  ws: QueryWorkspace,
  rules: readonly CombinableRule[],
  window: EvaluationWindow,
  options: Omit<EvaluationOptions, 'tables'>,
): Promise<Map<string, Evaluation> | null> {
  const timings = rules.map((r) => runClock(r.rule, window, { ...options, tables: r.tables }, rules.length));
  const text = combinedQuery(rules.map((r) => r.rule));
  const runOptions = queryOptions(window, { ...options, tables: [] }, MAX_RESULT_ROWS);
  let result: ResultSet;
  try {
    const template = options.templates?.get(text);
    if (template) {
      result = await ws.engine.query(template.render(runOptions.ingestionWindow, runOptions.nowMs), {
        timeoutMs: runOptions.timeoutMs,
        maxRows: runOptions.maxRows,
        columns: template.columns,
      });
    } else {
      const out = await runKql(ws, text, runOptions);
      if (!out.result || out.error) return null;
      result = out.result;
    }
  } catch {
    return null;
  }
  const perRule: KqlValue[][][] = rules.map(() => []);
  try {
    if (result.truncated) return null;
    for (const [index, bag] of await result.rows()) {
      const i = Number(index);
      const rule = rules[i];
      const list = perRule[i];
      if (!rule || !list) continue;
      const b = bag && typeof bag === 'object' && !Array.isArray(bag) ? (bag as Record<string, KqlValue>) : {};
      list.push(rule.columns.map((c) => b[c.name] ?? null));
    }
  } finally {
    await result.close();
  }
  const results = new Map<string, Evaluation>();
  for (const [i, r] of rules.entries()) {
    const rows = perRule[i] ?? [];
    const timing = timings[i] as ReturnType<typeof runClock>;
    results.set(
      r.rule.id,
      await complete(r.rule, window, { ...options, tables: r.tables }, timing, r.columns, {
        rows,
        total: rows.length,
        truncated: false,
      }),
    );
  }
  return results;
}

/** Whether a rule can take part in a combined evaluation (its query compiles wrapped as a function). */
export function combinedColumns(
  ws: QueryWorkspace,
  rule: RuleDefinition,
): readonly { readonly name: string; readonly type: string }[] | null {
  try {
    const alone = compileKql(ws, rule.query, Date.now());
    if (!alone.ok) return null;
    const wrapped = compileKql(ws, combinedQuery([rule]), Date.now());
    return wrapped.ok ? alone.columns : null;
  } catch {
    return null;
  }
}

async function exactCount(
  ws: QueryWorkspace,
  query: string,
  options: Parameters<typeof runKql>[2],
  fallback: number,
): Promise<number> {
  const out = await runKql(ws, `${query}\n| count`, { ...options, maxRows: 1 });
  if (!out.result) return fallback;
  try {
    const [row] = await out.result.rows();
    const n = Number(row?.[0]);
    return Number.isFinite(n) ? n : fallback;
  } finally {
    await out.result.close();
  }
}

/** Custom detection row key (Timestamp, ReportId, the impacted asset), as `alerts.ts` remembers it. */
function rowKeyFn(columns: readonly { name: string }[], rule: RuleDefinition): (row: readonly KqlValue[]) => string {
  const idx = (n: string) => columns.findIndex((c) => c.name === n);
  const ts = idx('Timestamp');
  const report = idx('ReportId');
  const names = columns.map((c) => c.name);
  const assetName = rule.customDetection?.impactedAssets
    .map((a) => idx(identifierColumn(a.identifier, names) ?? ''))
    .find((i) => i >= 0);
  const cell = (row: readonly KqlValue[], i: number | undefined) => {
    if (i === undefined || i < 0) return '';
    const v = row[i];
    return v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  };
  return (row) => [cell(row, ts), cell(row, report), cell(row, assetName)].join('|');
}
