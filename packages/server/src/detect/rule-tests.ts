/**
 * Inline rule tests (`tests:` in a rule file, like Panther's): each test loads its rows into a scratch workspace,
 * evaluates the rule over exactly the ingestion window of those rows, and compares the alerts with `expect`
 * (`alerts: N` and/or `contains: [...]`, a subset match on alert fields such as AlertName, Severity, Tactics,
 * Entities, CustomDetails, Actions). Tests share one scratch workspace; each sees only its own rows because each
 * evaluates its own ingestion window.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredFunction } from '@vigil/kql';
import type { Engine, TableDefinition } from '../engine/engine.js';
import { openWorkspace } from '../engine/workspace.js';
import { compilerWorkspace, type QueryWorkspace } from '../query/query-service.js';
import type { DetectionAlert } from './alerts.js';
import { evaluateRule } from './evaluate.js';
import { SENTINEL_HEALTH } from './health.js';
import type { RuleDefinition, RuleTest } from './model.js';
import { type ParsedRule, parseRuleFile } from './rule-file.js';
import { validateRule } from './validate.js';

export interface RuleTestResult {
  readonly path: string | null;
  readonly ruleId: string;
  readonly ruleName: string;
  readonly test: string;
  readonly passed: boolean;
  readonly failures: readonly string[];
  readonly alerts: readonly DetectionAlert[];
}

export interface RuleTestReport {
  /** Rules that could not be tested (the file did not validate). */
  readonly invalid: readonly ParsedRule[];
  readonly results: readonly RuleTestResult[];
  /** Rules without tests. */
  readonly untested: readonly { readonly path: string | null; readonly ruleId: string; readonly name: string }[];
}

/** The view of an alert that `expect.contains` entries are matched against. */
export function alertView(a: DetectionAlert): Record<string, unknown> {
  return {
    AlertName: a.alertName,
    Description: a.description,
    Severity: a.severity,
    Tactics: a.tactics,
    Techniques: a.techniques,
    SubTechniques: a.subTechniques,
    Entities: a.entities.map(({ $id: _id, ...rest }) => rest),
    CustomDetails: a.customDetails,
    ResultCount: a.resultCount,
    Summary: a.summary,
    ProductName: a.productName,
    ProviderName: a.providerName,
    CompromisedEntity: a.compromisedEntity,
    StartTime: a.startTime,
    EndTime: a.endTime,
    Actions: a.actions.map((x) => ({ type: x.type, targetId: x.targetId, identifier: x.identifier })),
    ExtendedProperties: a.extendedProperties,
  };
}

/** Deep subset match: every expected key (case-insensitive) matches; an expected array's items each match some item. */
export function matches(expected: unknown, actual: unknown): boolean {
  if (expected === null || expected === undefined) return actual === null || actual === undefined || actual === '';
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return false;
    return expected.every((e) => actual.some((a) => matches(e, a)));
  }
  if (typeof expected === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const entries = Object.entries(actual as Record<string, unknown>);
    return Object.entries(expected as Record<string, unknown>).every(([k, v]) => {
      const hit = entries.find(([ak]) => ak.toLowerCase() === k.toLowerCase());
      return hit !== undefined && matches(v, hit[1]);
    });
  }
  if (Array.isArray(actual)) return actual.some((a) => matches(expected, a));
  return String(expected) === String(actual);
}

export async function runRuleTests(
  files: readonly { readonly text: string; readonly path: string | null }[],
  definitions: readonly TableDefinition[],
  options: {
    readonly missingTimeGenerated?: 'error' | 'warning';
    /** Stored functions the rules may call (a workspace's functions, e.g. the content pack's `_GetWatchlist`). */
    readonly functions?: readonly StoredFunction[];
  } = {},
): Promise<RuleTestReport> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-rule-tests-'));
  const engine = await openWorkspace(join(dir, 'ws'), { threads: 2, connections: 2 });
  const defs = definitions.some((d) => d.name === SENTINEL_HEALTH.name)
    ? definitions
    : [...definitions, SENTINEL_HEALTH];
  const ws: QueryWorkspace = { engine, definitions: defs, functions: options.functions ?? [] };
  const invalid: ParsedRule[] = [];
  const results: RuleTestResult[] = [];
  const untested: { path: string | null; ruleId: string; name: string }[] = [];
  try {
    const schema = compilerWorkspace(ws);
    for (const f of files) {
      for (const parsed of parseRuleFile(f.text, f.path)) {
        const analysis = validateRule(parsed, schema, {
          missingTimeGenerated: options.missingTimeGenerated ?? 'warning',
        });
        const rule = parsed.rule;
        if (!rule || !analysis) {
          invalid.push(parsed);
          continue;
        }
        if (rule.tests.length === 0) untested.push({ path: f.path, ruleId: rule.id, name: rule.name });
        for (const t of rule.tests) {
          results.push(await runOne(ws, engine, defs, dir, f.path, rule, analysis.tables, t));
        }
      }
    }
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
  return { invalid, results, untested };
}

let seq = 0;

async function runOne(
  ws: QueryWorkspace,
  engine: Engine,
  definitions: readonly TableDefinition[],
  dir: string,
  path: string | null,
  rule: RuleDefinition,
  tables: readonly string[],
  test: RuleTest,
): Promise<RuleTestResult> {
  const failures: string[] = [];
  const result = (alerts: readonly DetectionAlert[]): RuleTestResult => ({
    path,
    ruleId: rule.id,
    ruleName: rule.name,
    test: test.name,
    passed: failures.length === 0,
    failures,
    alerts,
  });
  // Each test reads only the rows it loads: its own ingestion window, after the previous test's.
  const start = Date.now();
  for (const [table, rows] of Object.entries(test.rows)) {
    const def = definitions.find((d) => d.name === table);
    if (!def) {
      failures.push(`rows for ${table}: the workspace has no such table`);
      continue;
    }
    await engine.ensureTable(def);
    if (rows.length === 0) continue;
    const file = join(dir, `test-${++seq}.ndjson`);
    await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    const report = await engine.loadFile(table, file, { format: 'ndjson' });
    for (const r of report.rejected) {
      failures.push(
        `rows for ${table}, row ${r.row}: ${r.columns.map((c) => `${c.column} = ${JSON.stringify(c.value)} is not a ${c.expected}`).join('; ')}`,
      );
    }
  }
  if (failures.length) return result([]);
  const end = Date.now() + 1;
  while (Date.now() < end) await new Promise((r) => setTimeout(r, 1));
  const nowMs = test.now ? Date.parse(test.now) : end;
  if (Number.isNaN(nowMs)) {
    failures.push(`now: '${test.now}' is not a date`);
    return result([]);
  }
  const e = await evaluateRule(
    ws,
    rule,
    { startMs: start, endMs: end, queryStartMs: start },
    {
      trigger: 'manual',
      tables,
      queryNowMs: nowMs,
    },
  );
  if (e.run.status === 'failure') {
    failures.push(`the query failed: ${e.run.error ?? ''}`);
    return result([]);
  }
  if (test.expect.alerts !== undefined && e.alerts.length !== test.expect.alerts) {
    failures.push(`expected ${test.expect.alerts} alerts, got ${e.alerts.length} (${e.run.rows} results)`);
  }
  const views = e.alerts.map(alertView);
  for (const [i, want] of (test.expect.contains ?? []).entries()) {
    if (!views.some((v) => matches(want, v))) {
      failures.push(`expect.contains[${i}] matches none of the ${views.length} alerts: ${JSON.stringify(want)}`);
    }
  }
  return result(e.alerts);
}
