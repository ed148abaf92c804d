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
import { compileKql, runKql } from '../../packages/server/dist/query/query-service.js';
import { END_MS, ensureData, tableDefinitions } from '../engine/generate.mjs';
import { clickhouseQueries } from './queries.mjs';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '7' },
    dir: { type: 'string' },
    only: { type: 'string' },
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
const LIMITS = { nowMs: END_MS, timeoutMs: 600_000, maxRows: 500_000 };
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
async function timeKql(kql) {
  const t = performance.now();
  const c = cpuMs();
  const out = await runKql(ws, kql, LIMITS);
  if (out.error || !out.result) throw new Error(`${out.error?.code}: ${out.error?.message}`);
  return { ms: performance.now() - t, cpu: cpuMs() - c, result: out.result };
}
async function timeSql(sql, columns) {
  const t = performance.now();
  const c = cpuMs();
  const result = await engine.query(sql, { columns, timeoutMs: LIMITS.timeoutMs, maxRows: LIMITS.maxRows });
  return { ms: performance.now() - t, cpu: cpuMs() - c, result };
}
function comparable(rows, compare) {
  if (compare === 'count') return String(rows.length);
  if (compare === 'rows') return JSON.stringify(rows.map((r) => JSON.stringify(r)).sort());
  const vals = rows.map((r) => r[compare.column]);
  return JSON.stringify(compare.ordered ? vals : vals.sort());
}

const report = {
  date: new Date().toISOString(),
  engine: 'clickhouse (chdb 3.4.0, ClickHouse 26.7)',
  rows: ROWS,
  sizes: data.sizes,
  rounds: ROUNDS,
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
  const k = await timeKql(query.kql);
  const s = await timeSql(query.sql, columns);
  const kRows = await k.result.rows();
  const sRows = await s.result.rows();
  await k.result.close();
  await s.result.close();
  const same = comparable(kRows, query.compare) === comparable(sRows, query.compare);
  if (!same)
    log(
      `${query.id}: RESULTS DIFFER\n  kql: ${JSON.stringify(kRows.slice(0, 3))}\n  sql: ${JSON.stringify(sRows.slice(0, 3))}`,
    );
  const kqlMs = [];
  const sqlMs = [];
  const kqlCpu = [];
  const sqlCpu = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const side of r % 2 === 0 ? ['kql', 'sql'] : ['sql', 'kql']) {
      const x = side === 'kql' ? await timeKql(query.kql) : await timeSql(query.sql, columns);
      await x.result.close();
      (side === 'kql' ? kqlMs : sqlMs).push(x.ms);
      (side === 'kql' ? kqlCpu : sqlCpu).push(x.cpu);
    }
  }
  const engKql = [];
  const engSql = [];
  for (let r = 0; r < ROUNDS; r++) {
    engKql.push((await engine.runWithoutDelivery(compiled.sql)).ms);
    engSql.push((await engine.runWithoutDelivery(query.sql)).ms);
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
    engineKqlSqlMs: median(engKql),
    engineHandSqlMs: median(engSql),
    engineRatio: median(engKql) / median(engSql),
    loadAverage: os.loadavg()[0],
  };
  report.queries.push(row);
  log(
    `${query.id}: KQL ${row.kqlEndToEndMs.toFixed(1)} ms vs SQL ${row.sqlEndToEndMs.toFixed(1)} ms (×${row.ratio.toFixed(2)}); engine ${row.engineKqlSqlMs.toFixed(1)} vs ${row.engineHandSqlMs.toFixed(1)} ms (×${row.engineRatio.toFixed(2)}); ${row.resultRows} rows, same=${same}`,
  );
}
await engine.close();
console.log(JSON.stringify(report, null, 2));
