#!/usr/bin/env node
/**
 * Engine speed benchmark (issue 3 "Speed"): for each query of queries.mjs, KQL end to end (runKql: compile +
 * execute, the result encoded and held by the engine) against the hand-written DuckDB SQL run through the same
 * engine.query() path, on the same workspace, in the same run, interleaved; medians of --rounds and their ratio.
 * Also: the engine time alone of both SQL texts (DuckDB computes the result, nothing is delivered), compile time per
 * query (median of many compiles), and, with --js, a naive row-by-row JavaScript evaluation of the same queries over
 * rows held as JS objects.
 *
 *   npm run build
 *   node bench/engine/run.mjs --rows 1000000 --dir /tmp/vigil-bench-1m --js > bench/results/engine-1m.json
 *   node bench/engine/run.mjs --rows 10000000 --dir /tmp/vigil-bench-10m > bench/results/engine-10m.json
 *
 * --dir keeps the generated workspace for later runs (generation: ~1 min per million processes); without it a
 * temporary one is made and removed. --only take10,suspicious runs a subset. Every result of the KQL query is
 * compared with the hand-written SQL's (and with the JS evaluation's), so a ratio is never reported for
 * different answers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { openWorkspace } from '../../packages/server/dist/engine/index.js';
import { compileKql, runKql } from '../../packages/server/dist/query/query-service.js';
import { END_MS, ensureData, tableDefinitions } from './generate.mjs';
import { benchQueries, JS_COLUMNS } from './queries.mjs';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '7' },
    seed: { type: 'string', default: '7' },
    dir: { type: 'string' },
    only: { type: 'string' },
    js: { type: 'boolean', default: false },
    'compile-rounds': { type: 'string', default: '200' },
    memory: { type: 'string', default: '8GB' },
  },
});
const ROWS = Number(args.rows);
const ROUNDS = Number(args.rounds);
const log = (...a) => console.error(...a);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const dir = args.dir ?? (await mkdtemp(join(tmpdir(), 'vigil-bench-engine-')));
log(`data: ${ROWS.toLocaleString()} DeviceProcessEvents (seed ${args.seed}) in ${dir}`);
const t0 = performance.now();
const data = await ensureData({ dir, rows: ROWS, seed: Number(args.seed), log });
log(`  ready in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(data.sizes)}`);

const definitions = await tableDefinitions();
const engine = await openWorkspace(dir, { threads: 2, memoryLimit: args.memory });
const ws = { engine, definitions };
const storage = (t) => engine.storage(t);
const quote = (n) => `"${n.replace(/"/g, '""')}"`;
const col = (t, c) => {
  const s = storage(t)?.columns.find((x) => x.name === c);
  if (!s) throw new Error(`no column ${t}.${c}`);
  return quote(s.storageName);
};
const tab = (t) => quote(storage(t).storageName);
const dpeColumns = definitions.find((d) => d.name === 'DeviceProcessEvents').columns.map((c) => c.name);
let queries = benchQueries({ col, tab, dpeColumns, endMs: END_MS });
if (args.only) {
  const only = new Set(args.only.split(','));
  queries = queries.filter((x) => only.has(x.id));
}

const LIMITS = { nowMs: END_MS, timeoutMs: 600_000, maxRows: 500_000 };

/**
 * CPU time of this process (all threads: DuckDB runs in-process) in ms. On a shared machine wall time swings with
 * other processes' load; CPU time measures the work done and is far steadier, so both are reported.
 */
function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function timeKql(kql) {
  const t = performance.now();
  const c = cpuMs();
  const out = await runKql(ws, kql, LIMITS);
  if (out.error || !out.result) throw new Error(`${out.error?.code}: ${out.error?.message}`);
  return { ms: performance.now() - t, cpu: cpuMs() - c, result: out.result, compileMs: out.compileMs };
}

async function timeSql(sql, columns) {
  const t = performance.now();
  const c = cpuMs();
  const result = await engine.query(sql, { columns, timeoutMs: LIMITS.timeoutMs, maxRows: LIMITS.maxRows });
  return { ms: performance.now() - t, cpu: cpuMs() - c, result };
}

/** Rows compared the way the query asks: all rows (unordered), one column in order, or the count. */
function comparable(rows, compare) {
  if (compare === 'count') return String(rows.length);
  if (compare === 'rows') return JSON.stringify(rows.map((r) => JSON.stringify(r)).sort());
  const vals = rows.map((r) => r[compare.column]);
  return JSON.stringify(compare.ordered ? vals : vals.sort());
}

const report = {
  date: new Date().toISOString(),
  rows: ROWS,
  sizes: data.sizes,
  seed: data.seed,
  rounds: ROUNDS,
  machine: 'see bench/README.md',
  queries: [],
};

for (const query of queries) {
  const compiled = compileKql(ws, query.kql, END_MS);
  if (!compiled.ok || !compiled.sql) {
    const d = compiled.diagnostics.find((x) => x.severity === 'error');
    log(`${query.id}: not compiled (${d?.message})`);
    report.queries.push({ id: query.id, title: query.title, kql: query.kql, unsupported: d?.message ?? 'error' });
    continue;
  }
  const columns = compiled.columns.map((c) => ({ name: c.name, type: c.type }));

  // Warm-up, and the check that both sides give the same answer.
  const k = await timeKql(query.kql);
  const s = await timeSql(query.sql, columns);
  const kRows = await k.result.rows();
  const sRows = await s.result.rows();
  await k.result.close();
  await s.result.close();
  const same = comparable(kRows, query.compare) === comparable(sRows, query.compare);
  if (!same) {
    log(
      `${query.id}: RESULTS DIFFER\n  kql: ${JSON.stringify(kRows.slice(0, 3))}\n  sql: ${JSON.stringify(sRows.slice(0, 3))}`,
    );
  }

  const kqlMs = [];
  const sqlMs = [];
  const kqlCpu = [];
  const sqlCpu = [];
  const runtimeCompile = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which side runs first, so neither always benefits from a warmer cache.
    const order = r % 2 === 0 ? ['kql', 'sql'] : ['sql', 'kql'];
    for (const side of order) {
      if (side === 'kql') {
        const x = await timeKql(query.kql);
        await x.result.close();
        kqlMs.push(x.ms);
        kqlCpu.push(x.cpu);
        runtimeCompile.push(x.compileMs);
      } else {
        const x = await timeSql(query.sql, columns);
        await x.result.close();
        sqlMs.push(x.ms);
        sqlCpu.push(x.cpu);
      }
    }
  }

  // Engine time alone (no encoding, no delivery): which SQL text DuckDB runs faster.
  const engKql = [];
  const engSql = [];
  if (typeof engine.runWithoutDelivery === 'function') {
    for (let r = 0; r < ROUNDS; r++) {
      engKql.push((await engine.runWithoutDelivery(compiled.sql)).ms);
      engSql.push((await engine.runWithoutDelivery(query.sql)).ms);
    }
  }

  // Compile time alone: the compiler, warm.
  const compileRounds = Number(args['compile-rounds']);
  const compileMs = [];
  for (let r = 0; r < compileRounds; r++) {
    const t = performance.now();
    compileKql(ws, query.kql, END_MS);
    compileMs.push(performance.now() - t);
  }

  const row = {
    id: query.id,
    title: query.title,
    resultRows: kRows.length,
    sameResult: same,
    kqlEndToEndMs: median(kqlMs),
    sqlEndToEndMs: median(sqlMs),
    ratio: median(kqlMs) / median(sqlMs),
    kqlCpuMs: median(kqlCpu),
    sqlCpuMs: median(sqlCpu),
    cpuRatio: median(kqlCpu) / median(sqlCpu),
    loadAverage: os.loadavg()[0],
    engineKqlSqlMs: engKql.length ? median(engKql) : null,
    engineHandSqlMs: engSql.length ? median(engSql) : null,
    compileMs: median(compileMs),
    compileP99Ms: [...compileMs].sort((a, b) => a - b)[Math.floor(compileMs.length * 0.99)],
    compileInRunKqlMs: median(runtimeCompile),
    kql: query.kql,
    kqlSql: compiled.sql,
    handSql: query.sql,
  };
  report.queries.push(row);
  log(
    `${query.id.padEnd(13)} ${String(row.resultRows).padStart(6)} rows | KQL ${row.kqlEndToEndMs.toFixed(1)} ms | SQL ${row.sqlEndToEndMs.toFixed(1)} ms | ratio ${row.ratio.toFixed(2)} | CPU ${row.kqlCpuMs.toFixed(0)} vs ${row.sqlCpuMs.toFixed(0)} ms, ratio ${row.cpuRatio.toFixed(2)} | engine ${row.engineKqlSqlMs?.toFixed(1)} vs ${row.engineHandSqlMs?.toFixed(1)} ms | compile ${row.compileMs.toFixed(3)} ms${same ? '' : ' | RESULTS DIFFER'}`,
  );
}
await engine.close();

// Naive row-by-row JavaScript over rows held as JS objects (the data is loaded once, not timed per query).
if (args.js) {
  const db = await DuckDBInstance.create(join(dir, 'workspace.duckdb'), { threads: '2', access_mode: 'READ_ONLY' });
  const c = await db.connect();
  const rowsOf = {};
  const tLoad = performance.now();
  for (const [table, cols] of Object.entries(JS_COLUMNS)) {
    const defs = definitions.find((d) => d.name === table);
    const select = cols.map((name) => {
      const type = defs.columns.find((x) => x.name === name).type;
      return type === 'datetime'
        ? `epoch_ms(${col(table, name)}) AS ${quote(name)}`
        : `${col(table, name)} AS ${quote(name)}`;
    });
    // Read by column (cheaper than DuckDB's row objects), then build one plain object per row.
    const reader = await c.runAndReadAll(`SELECT ${select.join(', ')} FROM ${tab(table)}`);
    const columns = reader.getColumnsJS();
    const n = columns[0]?.length ?? 0;
    const rows = new Array(n);
    for (let i = 0; i < n; i++) {
      const r = {};
      cols.forEach((name, j) => {
        const v = columns[j][i];
        r[name] = typeof v === 'bigint' ? Number(v) : v;
      });
      rows[i] = r;
    }
    rowsOf[table] = rows;
  }
  const loadMs = performance.now() - tLoad;
  const heapMb = process.memoryUsage().heapUsed / 1e6;
  c.closeSync();
  db.closeSync();
  log(`js: rows loaded as objects in ${(loadMs / 1000).toFixed(1)} s (heap ${heapMb.toFixed(0)} MB)`);
  report.js = { loadMs, heapMb, queries: [] };
  for (const query of queries) {
    query.js(rowsOf); // warm-up
    const ms = [];
    let out;
    for (let r = 0; r < Math.min(ROUNDS, 5); r++) {
      const t = performance.now();
      out = query.js(rowsOf);
      ms.push(performance.now() - t);
    }
    const entry = report.queries.find((x) => x.id === query.id);
    const jsMs = median(ms);
    report.js.queries.push({ id: query.id, ms: jsMs, resultRows: out.length });
    log(
      `js ${query.id.padEnd(13)} ${String(out.length).padStart(6)} rows | ${jsMs.toFixed(1)} ms` +
        (entry?.kqlEndToEndMs ? ` | ${(jsMs / entry.kqlEndToEndMs).toFixed(1)}× KQL on DuckDB` : ''),
    );
  }
}

console.log(JSON.stringify(report, null, 2));
if (!args.dir) await rm(dir, { recursive: true, force: true });
