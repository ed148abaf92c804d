/**
 * Compiled query templates (`sql-cache.ts`): a rendered template must be the SQL a fresh compile gives for the same
 * window and now(), and a query whose SQL is not a linear function of the times must not be templated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateRule } from '../../src/detect/evaluate.js';
import { SqlTemplateCache } from '../../src/detect/sql-cache.js';
import { compileKql, runKql } from '../../src/query/query-service.js';
import { type Harness, openHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await openHarness();
  await h.ingest('SecurityEvent', [{ TimeGenerated: new Date().toISOString(), EventID: 4625, Account: 'a' }]);
});
afterAll(async () => h?.close());

const window = { startMs: Date.UTC(2026, 10, 28, 1, 55, 0, 123), endMs: Date.UTC(2026, 10, 28, 2, 0, 0, 456) };
const nowMs = Date.UTC(2026, 10, 28, 2, 0, 7, 891);

describe('SQL templates of rule queries', () => {
  const templated = [
    'SecurityEvent | where EventID == 4625 | project TimeGenerated, Account',
    'SecurityEvent | where TimeGenerated > ago(1d) and Account has "adm"',
    'SecurityEvent | where TimeGenerated between (datetime(2026-01-01) .. now()) | extend Age = now() - TimeGenerated',
    'SecurityEvent | where TimeGenerated >= startofday(ago(2d)) | summarize count() by bin(TimeGenerated, 1h)',
    'SecurityEvent | where dayofweek(now()) == 1d and hourofday(TimeGenerated) < 6',
    'let start = ago(14d); SecurityEvent | where TimeGenerated > start + 30m | extend Deadline = now() + 1h',
  ];
  for (const q of templated) {
    it(`renders what a fresh compile gives: ${q.slice(0, 60)}`, () => {
      const cache = new SqlTemplateCache(h.service.workspace);
      const t = cache.get(q);
      expect(t).not.toBeNull();
      const fresh = compileKql(h.service.workspace, q, nowMs, undefined, window);
      expect(t?.render(window, nowMs)).toBe(fresh.sql);
      expect(t?.columns).toEqual(fresh.columns.map((c) => ({ name: c.name, type: c.type })));
    });
  }

  it('compiles every time a query whose SQL folds now() non-linearly', () => {
    const cache = new SqlTemplateCache(h.service.workspace);
    // The compiler folds bin() of a constant now() into a day boundary, which does not move with now() one for one.
    expect(cache.get('SecurityEvent | where TimeGenerated > bin(now(), 1d)')).toBeNull();
  });

  it('does not template a query over a table storage does not have yet (the full path creates it)', () => {
    const cache = new SqlTemplateCache(h.service.workspace);
    expect(cache.get('Syslog | where SyslogMessage has "x"')).toBeNull();
  });

  it('compiles again when a stored function the query calls changes', () => {
    let functions = [{ name: 'FailedLogons', parameters: '()', body: 'SecurityEvent | where EventID == 4625' }];
    const ws = {
      engine: h.engine,
      definitions: h.definitions,
      get functions() {
        return [...functions];
      },
    };
    const cache = new SqlTemplateCache(ws);
    const q = 'FailedLogons() | project TimeGenerated, Account';
    const before = cache.get(q)?.render(window, nowMs);
    expect(before).toContain('4625');
    expect(cache.get(q)?.render(window, nowMs)).toBe(before);
    functions = [{ name: 'FailedLogons', parameters: '()', body: 'SecurityEvent | where EventID == 4771' }];
    const after = cache.get(q)?.render(window, nowMs);
    expect(after).toContain('4771');
    expect(after).toBe(compileKql(ws, q, nowMs, undefined, window).sql);
  });

  it('evaluates a rule through its template with the result of the full path', async () => {
    const [r] = await h.service.importText(
      `id: 5b0c1a1e-0000-4000-8000-000000000001
name: failed logons
severity: Low
kind: Scheduled
queryFrequency: 5m
queryPeriod: 5m
triggerOperator: gt
triggerThreshold: 0
query: SecurityEvent | where EventID == 4625 | project TimeGenerated, Account
`,
      null,
      { enabled: false },
    );
    const rule = (await h.service.getRule(r?.ruleId ?? ''))?.definition;
    if (!rule) throw new Error('not imported');
    const w = { startMs: Date.now() - 3600_000, endMs: Date.now() + 1000, queryStartMs: Date.now() - 3600_000 };
    const cache = new SqlTemplateCache(h.service.workspace);
    const viaTemplate = await evaluateRule(h.service.workspace, rule, w, {
      trigger: 'manual',
      tables: ['SecurityEvent'],
      templates: cache,
    });
    const full = await evaluateRule(h.service.workspace, rule, w, { trigger: 'manual', tables: ['SecurityEvent'] });
    expect(cache.get(rule.query)).not.toBeNull();
    expect(viaTemplate.run.status).toBe('success');
    expect(viaTemplate.rows).toEqual(full.rows);
    expect(viaTemplate.rows.length).toBe(1);
    expect(viaTemplate.alerts.length).toBe(1);
  });

  it('runs a repeated hunting query from its template, with the SQL and rows of a fresh compile', async () => {
    const ws = { engine: h.engine, definitions: h.definitions, functions: [] };
    const q = 'SecurityEvent | where TimeGenerated > ago(7d) | summarize n = count() by Account | render barchart';
    const runs = [];
    for (const at of [nowMs, nowMs + 61_000, nowMs + 3_600_000]) {
      const out = await runKql(ws, q, { nowMs: at });
      expect(out.error).toBeNull();
      expect(out.compiled.sql).toBe(compileKql(ws, q, at).sql);
      expect(out.compiled.visualization?.type).toBe('barchart');
      runs.push({ rows: await out.result?.rows(), plan: out.compiled.plan });
      await out.result?.close();
    }
    // The first run compiles (its plan is there); later runs render the template (no plan of their own).
    expect(runs[0]?.plan).not.toBeNull();
    expect(runs[2]?.plan).toBeNull();
    expect(runs[2]?.rows).toEqual(runs[0]?.rows);
  });
});
