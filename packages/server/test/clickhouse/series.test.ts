/**
 * Seasonality, decomposition and outliers on ClickHouse agree with DuckDB (the reference templates): the same KQL
 * runs on both engines and every value must match, reals within a relative 1e-9 (the engines sum in different
 * orders). The cases cover the corpus' shapes (make-series counts into series_decompose_anomalies with linefit and
 * autodetected seasonality, series_outliers of a list) and the edges: no period, nulls, too short, not an array.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { runKql } from '../../src/query/query-service.js';
import { workspaceDefinitions } from '../conformance/runner.js';

/** A weekly pattern over 8 weeks of daily values, a slow rise, a spike on day 40 and a dip on day 47. */
const WEEKLY =
  'range i from 0 to 55 step 1 | extend v = (i % 7) * 10.0 + i / 4.0 + iff(i == 40, 90.0, 0.0) - iff(i == 47, 60.0, 0.0) | summarize s = make_list(v)';
/** Hourly sign-in counts as the corpus builds them: make-series over a datatable (a daily cycle, one burst). */
const HOURLY = `range h from 0 to 95 step 1 | extend t = datetime(2024-01-01) + h * 1h, n = 5 + (h % 24) / 3 + iff(h == 80, 40, 0) | mv-expand k = range(1, n, 1) to typeof(long) | make-series Total = count() default = 0 on t from datetime(2024-01-01) to datetime(2024-01-05) step 1h`;

const CASES: readonly string[] = [
  `${WEEKLY} | extend (flag, score, baseline) = series_decompose_anomalies(s)`,
  `${WEEKLY} | extend (flag, score, baseline) = series_decompose_anomalies(s, 1.5, -1, 'linefit')`,
  `${WEEKLY} | extend (flag, score, baseline) = series_decompose_anomalies(s, 2.5, 7, 'avg', 7, 'tukey', 0.9)`,
  `${WEEKLY} | extend (flag, score, baseline) = series_decompose_anomalies(s, 1.5, -1, 'linefit', 0, 'ctukey', 3)`,
  `${WEEKLY} | extend (flag, score, baseline) = series_decompose_anomalies(s, 1.5, 0, 'none')`,
  `${HOURLY} | extend (flag, score, baseline) = series_decompose_anomalies(Total, 3, -1, 'linefit') | project flag, score, baseline`,
  `${HOURLY} | extend a = series_decompose_anomalies(Total) | project a`,
  `${WEEKLY} | extend (baseline, seasonal, trend, residual) = series_decompose(s)`,
  `${WEEKLY} | extend (baseline, seasonal, trend, residual) = series_decompose(s, 7, 'linefit', 5)`,
  `${WEEKLY} | extend (baseline, seasonal, trend, residual) = series_decompose_forecast(s, 7)`,
  `${WEEKLY} | extend x = series_seasonal(s), y = series_seasonal(s, 14), z = series_seasonal(s, 0)`,
  `${WEEKLY} | extend (periods, scores) = series_periods_detect(s, 0, 30, 3)`,
  `${WEEKLY} | extend (periods, scores) = series_periods_validate(s, 7, 5.0, 14)`,
  `${WEEKLY} | extend o = series_outliers(s), t = series_outliers(s, 'tukey'), c = series_outliers(s, 'ctukey', 0.0, 5, 95)`,
  'print o = series_outliers(dynamic([1, 2, 3, 4, 100, 5, -50, null, "x", 2.5]), "ctukey", 2.5)',
  // Nested calls: each template's lambda names are numbered above its arguments' own.
  `${WEEKLY} | extend o = series_outliers(series_seasonal(s, 7)), (a, b, c) = series_decompose_anomalies(series_fill_linear(s)) | project o, a, b`,
  'print s = dynamic([1, null, 3, 4, 5, 6, 7, 8, 9, 10, 30]) | extend (f, sc, b) = series_decompose_anomalies(s)',
  'print s = dynamic([7]) | extend (f, sc, b) = series_decompose_anomalies(s, 1.5, -1, "linefit")',
  'print s = dynamic([]) | extend (b, se, t, r) = series_decompose(s)',
  'datatable(k:long, s:dynamic)[1, dynamic({"a": 1}), 2, dynamic(null), 3, dynamic([3, 1, 4, 1, 5, 9, 2, 6])] | extend (f, sc, b) = series_decompose_anomalies(s), o = series_outliers(s) | order by k asc',
];

/** Reals compared to 1e-9 relative; everything else exactly. */
function close(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number')
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => close(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length &&
      ka.every((k) => close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return a === b;
}

describe('series decomposition and outliers: ClickHouse = DuckDB', () => {
  const definitions = workspaceDefinitions();
  const engines: Record<'duckdb' | 'clickhouse', Engine | undefined> = { duckdb: undefined, clickhouse: undefined };
  const dirs: string[] = [];
  beforeAll(async () => {
    for (const kind of ['duckdb', 'clickhouse'] as const) {
      const dir = mkdtempSync(join(tmpdir(), `vigil-series-${kind}-`));
      dirs.push(dir);
      engines[kind] = await openWorkspace(dir, { threads: 2, engine: kind });
    }
  });
  afterAll(async () => {
    for (const e of Object.values(engines)) await e?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.each(CASES)('%s', async (kql) => {
    const rows: Record<string, unknown[][]> = {};
    for (const kind of ['duckdb', 'clickhouse'] as const) {
      const engine = engines[kind] as Engine;
      const out = await runKql({ engine, definitions }, kql, { nowMs: Date.UTC(2026, 0, 1), timeoutMs: 60_000 });
      expect(out.error, `${kind}: ${out.error?.message}`).toBeNull();
      rows[kind] = (await out.result?.rows()) ?? [];
      await out.result?.close();
    }
    expect(rows.duckdb?.length).toBeGreaterThan(0);
    if (!close(rows.clickhouse, rows.duckdb)) expect(rows.clickhouse).toEqual(rows.duckdb);
  });

  it('finds the planted anomalies (not only agreement): the weekly spike and dip are flagged', async () => {
    const out = await runKql(
      { engine: engines.clickhouse as Engine, definitions },
      `${WEEKLY} | extend (flag, score, baseline) = series_decompose_anomalies(s) | project flag`,
      { nowMs: Date.UTC(2026, 0, 1), timeoutMs: 60_000 },
    );
    expect(out.error).toBeNull();
    const [[flags]] = ((await out.result?.rows()) ?? [[[]]]) as number[][][];
    await out.result?.close();
    const flagged = (flags ?? []).flatMap((f, i) => (f !== 0 ? [[i, f]] : []));
    expect(flagged).toEqual([
      [40, 1],
      [47, -1],
    ]);
  });
});
