#!/usr/bin/env node
/**
 * ClickHouse engine benchmark (issue 11 "Speed"): the engine benchmark's queries (bench/engine/queries.mjs) as KQL
 * end to end on ClickHouse (runKql: compile with the ClickHouse dialect + execute on chdb, the result encoded and
 * spooled) against hand-written ClickHouse SQL (queries.mjs here) through the same engine.query() path, on the
 * same data, in the same run, interleaved; medians of --rounds and their ratio, and the engine time alone
 * (runWithoutDelivery) of both SQL texts. Every KQL result is compared with the hand-written SQL's first.
 *
 *   npm run build
 *   node bench/clickhouse/run.mjs --rows 1000000 --dir /tmp/vigil-bench-1m > bench/results/clickhouse-1m.json
 *
 * The data is the engine benchmark's (`--dir` is its DuckDB workspace, generated when missing): the three tables
 * are exported to Parquet by DuckDB and read by ClickHouse's own Parquet reader into a ClickHouse workspace kept in
 * `<dir>-clickhouse` (reused by later runs).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { ClickHouseEngine } from '../../packages/server/dist/engine/clickhouse/clickhouse-engine.js';
import { openWorkspace } from '../../packages/server/dist/engine/index.js';
import { compileKql, runKql } from '../../packages/server/dist/query/query-service.js';
import { END_MS, ensureData, tableDefinitions } from '../engine/generate.mjs';
import { benchQueries } from '../engine/queries.mjs';
import { clickhouseQueries } from './queries.mjs';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
    // Queries whose warm-up takes under a second get at least this many rounds: their medians are tens of ms, where
    // one scheduling hiccup on a shared machine moves a 5-round median by 20-50%.
    'short-rounds': { type: 'string', default: '15' },
    seed: { type: 'string', default: '7' },
    dir: { type: 'string' },
    only: { type: 'string' },
    // Also run the DuckDB side (bench/engine/queries.mjs' KQL and hand-written DuckDB SQL on the DuckDB workspace
    // in --dir) in the same rounds, interleaved with the ClickHouse side, for the side-by-side table.
    duckdb: { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const ROUNDS = Number(args.rounds);
const SHORT_ROUNDS = Math.max(ROUNDS, Number(args['short-rounds']));
const log = (...a) => console.error(...a);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const TABLES = ['DeviceProcessEvents', 'DeviceNetworkEvents', 'SigninLogs'];

const dir = args.dir ?? `/tmp/vigil-bench-${ROWS}`;
const chDir = `${dir}-clickhouse`;
const data = await ensureData({ dir, rows: ROWS, seed: Number(args.seed), log });
const definitions = await tableDefinitions();
const open = () =>
  ClickHouseEngine.open({ path: join(chDir, 'clickhouse'), spoolDir: join(chDir, 'spool'), threads: 2 });

const marker = join(chDir, 'bench-data.json');
const current = existsSync(marker) ? JSON.parse(await readFile(marker, 'utf8')) : null;
if (!current || current.rows !== data.rows || current.seed !== data.seed || current.version !== data.version) {
  await rm(chDir, { recursive: true, force: true });
  const staging = join(chDir, 'clickhouse', 'user_files');
  await mkdir(staging, { recursive: true });
  const t0 = performance.now();
  // DuckDB writes Parquet; the DuckDB workspace is opened read-only (another run may hold it).
  const db = await DuckDBInstance.create(join(dir, 'workspace.duckdb'), { access_mode: 'READ_ONLY', threads: '2' });
  const c = await db.connect();
  for (const t of TABLES) {
    await c.run(`COPY "${t}" TO '${join(staging, `${t}.parquet`)}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)`);
  }
  c.closeSync();
  db.closeSync();
  log(`  exported to Parquet in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const engine = await open();
  const storage = {};
  for (const t of TABLES) storage[t] = await engine.ensureTable(definitions.find((d) => d.name === t));
  await engine.close();
  // ClickHouse's own Parquet reader loads the rows (a bulk import, outside the query guard).
  const { Session } = createRequire(import.meta.url)('chdb');
  const s = new Session(join(chDir, 'clickhouse'), { connectionArgs: [`--user_files_path=${staging}`] });
  for (const t of TABLES) {
    const t1 = performance.now();
    const cols = [...storage[t].columns.map((x) => x.storageName), '__ingestion_time', '__batch_id'].map(
      (n) => `"${n}"`,
    );
    await s.queryAsync(
      `INSERT INTO "${storage[t].storageName}" (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM file('${join(staging, `${t}.parquet`)}', Parquet) SETTINGS max_insert_threads = 2, max_threads = 2`,
    );
    log(`  ${t}: loaded in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }
  await s.queryAsync('SYSTEM STOP MERGES'); // let the loaded parts settle before measuring
  await s.queryAsync('SYSTEM START MERGES');
  s.close();
  await rm(staging, { recursive: true, force: true });
  await writeFile(marker, `${JSON.stringify(data, null, 2)}\n`);
}

const engine = await open();
const ws = { engine, definitions };
const col = (t, c) => `"${engine.storage(t).columns.find((x) => x.name === c).storageName}"`;
const tab = (t) => `"${engine.storage(t).storageName}"`;
const dpeColumns = definitions.find((d) => d.name === 'DeviceProcessEvents').columns.map((c) => c.name);
let queries = clickhouseQueries({ col, tab, dpeColumns, endMs: END_MS });
if (args.only) {
  const only = new Set(args.only.split(','));
  queries = queries.filter((x) => only.has(x.id));
}

// The DuckDB side: the engine benchmark's workspace and hand-written DuckDB SQL (same data, same KQL).
let duck = null;
if (args.duckdb) {
  const dengine = await openWorkspace(dir, { threads: 2, memoryLimit: '8GB' });
  const quote = (n) => `"${n.replace(/"/g, '""')}"`;
  const dcol = (t, c) => quote(dengine.storage(t).columns.find((x) => x.name === c).storageName);
  const dtab = (t) => quote(dengine.storage(t).storageName);
  const sqlById = new Map(benchQueries({ col: dcol, tab: dtab, dpeColumns, endMs: END_MS }).map((x) => [x.id, x.sql]));
  duck = { engine: dengine, ws: { engine: dengine, definitions }, sqlById };
}

const LIMITS = { nowMs: END_MS, timeoutMs: 600_000, maxRows: 500_000 };
/** CPU time of this process in ms (chdb and DuckDB both run in-process): steadier than wall time on a shared machine. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
async function timeKql(w, kql) {
  const t = performance.now();
  const c = cpuMs();
  const out = await runKql(w, kql, LIMITS);
  if (out.error || !out.result) throw new Error(`${out.error?.code}: ${out.error?.message}`);
  return { ms: performance.now() - t, cpu: cpuMs() - c, result: out.result };
}
async function timeSql(e, sql, columns) {
  const t = performance.now();
  const c = cpuMs();
  const result = await e.query(sql, { columns, timeoutMs: LIMITS.timeoutMs, maxRows: LIMITS.maxRows });
  return { ms: performance.now() - t, cpu: cpuMs() - c, result };
}
function comparable(rows, compare) {
  if (compare === 'count') return String(rows.length);
  if (compare === 'rows') return JSON.stringify(rows.map((r) => JSON.stringify(r)).sort());
  const vals = rows.map((r) => r[compare.column]);
  return JSON.stringify(compare.ordered ? vals : vals.sort());
}

/** Warm-up run of both sides of one engine; whether their answers agree. */
async function warmUp(w, kql, sql, columns, compare) {
  const k = await timeKql(w, kql);
  const s = await timeSql(w.engine, sql, columns);
  const kRows = await k.result.rows();
  const sRows = await s.result.rows();
  await k.result.close();
  await s.result.close();
  return { same: comparable(kRows, compare) === comparable(sRows, compare), kRows, sRows };
}
const report = {
  date: new Date().toISOString(),
  engine: 'clickhouse (chdb 3.4.0, ClickHouse 26.7)',
  rows: ROWS,
  sizes: data.sizes,
  rounds: ROUNDS,
  shortRounds: SHORT_ROUNDS,
  loadAverageStart: os.loadavg()[0],
  queries: [],
};
for (const query of queries) {
  const compiled = compileKql(ws, query.kql, END_MS);
  if (!compiled.ok || !compiled.sql) {
    const d = compiled.diagnostics.find((x) => x.severity === 'error');
    log(`${query.id}: not compiled (${d?.message})`);
    report.queries.push({ id: query.id, title: query.title, unsupported: d?.message ?? 'error' });
    continue;
  }
  const columns = compiled.columns.map((c) => ({ name: c.name, type: c.type }));
  const warmStart = performance.now();
  const w = await warmUp(ws, query.kql, query.sql, columns, query.compare);
  const rounds = performance.now() - warmStart < 1000 ? SHORT_ROUNDS : ROUNDS;
  if (!w.same)
    log(
      `${query.id}: RESULTS DIFFER\n  kql: ${JSON.stringify(w.kRows.slice(0, 3))}\n  sql: ${JSON.stringify(w.sRows.slice(0, 3))}`,
    );
  const duckSql = duck?.sqlById.get(query.id);
  const duckColumns = duck
    ? compileKql(duck.ws, query.kql, END_MS).columns.map((c) => ({ name: c.name, type: c.type }))
    : [];
  const dw = duck && duckSql ? await warmUp(duck.ws, query.kql, duckSql, duckColumns, query.compare) : null;
  if (dw && !dw.same) log(`${query.id}: DuckDB RESULTS DIFFER`);
  // Each round runs every side once, in an order that rotates between rounds (load swings hit all sides alike).
  const sides = [
    { key: 'chKql', run: () => timeKql(ws, query.kql) },
    { key: 'chSql', run: () => timeSql(engine, query.sql, columns) },
    ...(dw
      ? [
          { key: 'ddKql', run: () => timeKql(duck.ws, query.kql) },
          { key: 'ddSql', run: () => timeSql(duck.engine, duckSql, duckColumns) },
        ]
      : []),
  ];
  const ms = Object.fromEntries(sides.map((x) => [x.key, []]));
  const cpu = Object.fromEntries(sides.map((x) => [x.key, []]));
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < sides.length; j++) {
      const side = sides[(j + r) % sides.length];
      const x = await side.run();
      await x.result.close();
      ms[side.key].push(x.ms);
      cpu[side.key].push(x.cpu);
    }
  }
  const engKql = [];
  const engSql = [];
  for (let r = 0; r < rounds; r++) {
    engKql.push((await engine.runWithoutDelivery(compiled.sql)).ms);
    engSql.push((await engine.runWithoutDelivery(query.sql)).ms);
  }
  const m = (k) => median(ms[k]);
  const c = (k) => median(cpu[k]);
  const row = {
    id: query.id,
    title: query.title,
    rounds,
    resultRows: w.kRows.length,
    sameResult: w.same,
    kqlEndToEndMs: m('chKql'),
    sqlEndToEndMs: m('chSql'),
    ratio: m('chKql') / m('chSql'),
    kqlCpuMs: c('chKql'),
    sqlCpuMs: c('chSql'),
    cpuRatio: c('chKql') / c('chSql'),
    engineKqlSqlMs: median(engKql),
    engineHandSqlMs: median(engSql),
    engineRatio: median(engKql) / median(engSql),
    ...(dw
      ? {
          duckdb: {
            sameResult: dw.same,
            kqlEndToEndMs: m('ddKql'),
            sqlEndToEndMs: m('ddSql'),
            ratio: m('ddKql') / m('ddSql'),
            kqlCpuMs: c('ddKql'),
            sqlCpuMs: c('ddSql'),
            cpuRatio: c('ddKql') / c('ddSql'),
          },
        }
      : {}),
    loadAverage: os.loadavg()[0],
  };
  report.queries.push(row);
  log(
    `${query.id}: ClickHouse KQL ${row.kqlEndToEndMs.toFixed(1)} ms vs SQL ${row.sqlEndToEndMs.toFixed(1)} ms (×${row.ratio.toFixed(2)}, CPU ×${row.cpuRatio.toFixed(2)}); engine ${row.engineKqlSqlMs.toFixed(1)} vs ${row.engineHandSqlMs.toFixed(1)} ms (×${row.engineRatio.toFixed(2)}); ${row.resultRows} rows, same=${w.same}` +
      (row.duckdb
        ? ` | DuckDB KQL ${row.duckdb.kqlEndToEndMs.toFixed(1)} vs SQL ${row.duckdb.sqlEndToEndMs.toFixed(1)} ms (×${row.duckdb.ratio.toFixed(2)}), same=${row.duckdb.sameResult}`
        : ''),
  );
}
await engine.close();
await duck?.engine.close();
report.loadAverageEnd = os.loadavg()[0];
// The side-by-side table (stderr; the JSON report goes to stdout).
log('\n| query | rows | ClickHouse KQL / SQL ms | ratio | CPU ratio | DuckDB KQL / SQL ms | ratio | same |');
log('|---|---|---|---|---|---|---|---|');
for (const q of report.queries) {
  if (q.unsupported) continue;
  const d = q.duckdb;
  log(
    `| ${q.id} | ${q.resultRows} | ${q.kqlEndToEndMs.toFixed(0)} / ${q.sqlEndToEndMs.toFixed(0)} | **${q.ratio.toFixed(2)}** | ${q.cpuRatio.toFixed(2)} | ${d ? `${d.kqlEndToEndMs.toFixed(0)} / ${d.sqlEndToEndMs.toFixed(0)}` : '–'} | ${d ? d.ratio.toFixed(2) : '–'} | ${q.sameResult && (!d || d.sameResult) ? 'yes' : 'NO'} |`,
  );
}
console.log(JSON.stringify(report, null, 2));
