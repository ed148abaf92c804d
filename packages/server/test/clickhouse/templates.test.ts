/**
 * Repeated queries on ClickHouse render from their compiled template (query/sql-template.ts reads and writes the
 * ClickHouse dialect's `toDateTime64('…', 7, 'UTC')` literals as well as DuckDB's): the rendered SQL is what a fresh
 * compile gives, and a repeated runKql skips compiling (no plan of its own) with the same rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { compileKql, runKql } from '../../src/query/query-service.js';
import { SqlTemplateCache } from '../../src/query/sql-template.js';
import { workspaceDefinitions } from '../conformance/runner.js';

const definitions = workspaceDefinitions();
let engine: Engine;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-ch-templates-'));
  engine = await openWorkspace(dir, { threads: 2, engine: 'clickhouse' });
  const def = definitions.find((d) => d.name === 'SecurityEvent');
  if (def) await engine.ensureTable(def);
});
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

const window = { startMs: Date.UTC(2026, 10, 28, 1, 55, 0, 123), endMs: Date.UTC(2026, 10, 28, 2, 0, 0, 456) };
const nowMs = Date.UTC(2026, 10, 28, 2, 0, 7, 891);

describe('SQL templates on ClickHouse', () => {
  const templated = [
    'SecurityEvent | where TimeGenerated > ago(1d) and Account has "adm"',
    'SecurityEvent | where TimeGenerated between (datetime(2026-01-01 10:11:12.1234567) .. now()) | extend Age = now() - TimeGenerated',
    'let start = ago(14d); SecurityEvent | where TimeGenerated > start + 30m | extend Deadline = now() + 1h',
  ];
  it.each(templated)('renders what a fresh compile gives: %s', (q) => {
    const ws = { engine, definitions };
    const cache = new SqlTemplateCache(ws, (text, t) => compileKql(ws, text, t.nowMs, undefined, t));
    const t = cache.get(q);
    expect(t).not.toBeNull();
    const fresh = compileKql(ws, q, nowMs, undefined, window);
    expect(fresh.sql).toContain("toDateTime64('");
    expect(t?.render(window, nowMs)).toBe(fresh.sql);
  });

  // ClickHouse computes startofday()/dayofweek() of the now() literal in SQL (the template moves that literal
  // only); the compiler folds bin() of a constant now() to a day boundary, so that one must not be templated.
  it.each(['SecurityEvent | where TimeGenerated > startofday(now())', 'SecurityEvent | where dayofweek(now()) == 1d'])(
    'a calendar function of now() computed by ClickHouse is templated exactly: %s',
    (q) => {
      const ws = { engine, definitions };
      const cache = new SqlTemplateCache(ws, (text, t) => compileKql(ws, text, t.nowMs, undefined, t));
      const t = cache.get(q);
      expect(t).not.toBeNull();
      expect(t?.render(window, nowMs)).toBe(compileKql(ws, q, nowMs, undefined, window).sql);
    },
  );

  it('a query whose SQL folds now() non-linearly is compiled every time', () => {
    const ws = { engine, definitions };
    const cache = new SqlTemplateCache(ws, (text, t) => compileKql(ws, text, t.nowMs, undefined, t));
    expect(cache.get('SecurityEvent | where TimeGenerated > bin(now(), 1d) - 3d')).toBeNull();
  });

  it('runs a repeated query from its template, with the SQL and rows of a fresh compile', async () => {
    const ws = { engine, definitions };
    const q = 'SecurityEvent | where TimeGenerated > ago(7d) | summarize n = count() by Account';
    const runs = [];
    for (const at of [nowMs, nowMs + 61_000, nowMs + 3_600_000]) {
      const out = await runKql(ws, q, { nowMs: at });
      expect(out.error).toBeNull();
      expect(out.compiled.sql).toBe(compileKql(ws, q, at).sql);
      runs.push({ rows: await out.result?.rows(), plan: out.compiled.plan });
      await out.result?.close();
    }
    expect(runs[0]?.plan).not.toBeNull();
    expect(runs[2]?.plan).toBeNull();
    expect(runs[2]?.rows).toEqual(runs[0]?.rows);
  });
});
