/**
 * Ingestion benchmark (issue 4): `vigil serve` as a separate process, loaded over HTTP with durability on (a 2xx
 * answer means committed), against DuckDB bulk-loading the same rows itself (`read_json` with declared columns
 * into the same table shape, in a fresh database file, then CHECKPOINT), in the same run, interleaved by round.
 *
 * 1. Throughput: DeviceProcessEvents-shaped NDJSON (bench/ingest/generate.mjs) sent in batches of `--batch` rows by
 *    `--concurrency` keep-alive clients (a list runs each after the same baseline: `--concurrency 4,16`); rows/s from
 *    the first request to the last answer.
 * 2. Freshness: rows sent at each of `--rates` rows/s for `--seconds`, in batches every 50 ms, open loop; a prober
 *    queries the latest answered batch's last row with KQL until it is visible. Reports p50/p99 of answer→visible
 *    and of send→visible.
 *
 * CPU seconds (server process and DuckDB baseline) are reported besides wall time: the machine is shared, and CPU
 * time is less disturbed by other load than wall time.
 *
 *   npm run build
 *   node bench/ingest/run.mjs --rows 1000000 --rounds 3 > bench/results/ingest.json
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { chunk, writeFile } from './generate.mjs';

const ROOT = new URL('../../', import.meta.url);
const MAIN = new URL('packages/server/dist/cli/main.js', ROOT).pathname;
// The V8 flags the `vigil` launcher runs node with (its shebang line), so the server runs as `vigil serve` does.
const NODE_FLAGS = readFileSync(new URL('packages/server/bin/vigil.js', ROOT), 'utf8')
  .split('\n')[0]
  .split(' ')
  .filter((f) => f.startsWith('--'));

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '4' },
    rates: { type: 'string', default: '20000,5000' },
    seconds: { type: 'string', default: '20' },
    shape: { type: 'string', default: 'compact' },
    dir: { type: 'string' },
    skip: { type: 'string', default: '' },
  },
});
const ROWS = Number(args.rows);
const ROUNDS = Number(args.rounds);
const BATCH = Number(args.batch);
// Several values (`--concurrency 4,16`): each round runs the HTTP load once per value, after the same baseline.
const CONCURRENCIES = args.concurrency.split(',').map(Number);
const RATES = args.rates.split(',').map(Number);
const SECONDS = Number(args.seconds);
const SHAPE = args.shape;
const SKIP = new Set(args.skip.split(',').filter(Boolean));
const DIR = args.dir ?? join(tmpdir(), 'vigil-bench-ingest');
const log = (m) => process.stderr.write(`${m}\n`);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : Number.NaN;
};
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : Number.NaN;
};

/** CPU seconds (user + system) of a process, from /proc. */
function cpuOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s on Linux)
}

/** The DeviceProcessEvents table in its workspace form, as the schema declares it. */
function tableColumns() {
  const t = JSON.parse(readFileSync(new URL('content/schema/tables.json', ROOT), 'utf8')).tables.DeviceProcessEvents;
  const seen = new Map();
  for (const c of [...t.columns, ...t.sentinelColumns]) if (!seen.has(c.name)) seen.set(c.name, c.type);
  return seen;
}

const DUCK = {
  string: 'VARCHAR',
  long: 'BIGINT',
  int: 'INTEGER',
  bool: 'BOOLEAN',
  datetime: 'TIMESTAMP',
  dynamic: 'JSON',
  real: 'DOUBLE',
  guid: 'UUID',
};

async function dataFile() {
  await mkdir(DIR, { recursive: true });
  const file = join(DIR, `dpe-${SHAPE}-${ROWS}.ndjson`);
  if (!existsSync(file)) {
    log(`generating ${ROWS} rows (${SHAPE}) into ${file}`);
    await writeFile(file, ROWS, { shape: SHAPE });
  }
  return file;
}

/** DuckDB alone: read_json with the declared columns into the same table, in a fresh database file. */
async function baseline(file, fields) {
  const db = join(DIR, 'baseline.duckdb');
  await rm(db, { force: true });
  await rm(`${db}.wal`, { force: true });
  const instance = await DuckDBInstance.create(db, { threads: '2' });
  const c = await instance.connect();
  const columns = tableColumns();
  await c.run(`CREATE TABLE t (${[...columns].map(([n, ty]) => `"${n}" ${DUCK[ty]}`).join(', ')})`);
  const decl = fields.map((f) => `'${f}': '${DUCK[columns.get(f)]}'`).join(', ');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await c.run(
    `INSERT INTO t BY NAME SELECT * FROM read_json('${file}', format = 'newline_delimited', columns = {${decl}})`,
  );
  await c.run('CHECKPOINT');
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  c.closeSync();
  instance.closeSync();
  await rm(db, { force: true });
  return { rows: Number(r.rowsChanged), ms, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

async function startServer(dataDir) {
  await rm(dataDir, { recursive: true, force: true });
  const child = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      MAIN,
      'serve',
      '--data',
      dataDir,
      '--port',
      '0',
      '--threads',
      '2',
      '--max-pending',
      '1GB',
      '--body-limit',
      '64MB',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line).url));
    exited.then(({ code }) => reject(new Error(`vigil serve exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Byte ranges of consecutive batches of `size` lines. */
function batches(buf, size) {
  const out = [];
  let start = 0;
  let lines = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) {
    if (++lines === size) {
      out.push([start, i + 1]);
      start = i + 1;
      lines = 0;
    }
  }
  if (start < buf.length) out.push([start, buf.length]);
  return out;
}

// Keep-alive connections, one per client. node:http rather than fetch: the load generator shares the machine's two
// cores with the server, and fetch (web streams) took ~2x the CPU per request body.
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/ingest/DeviceProcessEvents`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-ndjson', 'content-length': body.length },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            retryAfter: res.headers['retry-after'],
            json: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function postBatch(url, body) {
  for (;;) {
    const res = await post(url, body);
    if (res.status === 200) return res.json;
    if (res.status === 429) {
      await new Promise((r) => setTimeout(r, Number(res.retryAfter ?? 1) * 1000));
      continue;
    }
    throw new Error(`ingest failed: ${res.status} ${JSON.stringify(res.json)}`);
  }
}

async function query(url, kql) {
  const res = await fetch(`${url}/api/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: kql }),
  });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`query failed: ${JSON.stringify(json)}`);
  return json.rows;
}

async function throughput(file, concurrency) {
  const buf = await readFile(file);
  const ranges = batches(buf, BATCH);
  const server = await startServer(join(DIR, 'server-throughput'));
  try {
    // One row first: the table and its columns exist before the clock starts, as the baseline's CREATE TABLE does.
    await postBatch(server.url, buf.subarray(ranges[0][0], buf.indexOf(10, ranges[0][0]) + 1));
    const cpu0 = cpuOf(server.pid);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    let rows = 0;
    const worker = async () => {
      while (next < ranges.length) {
        const [s, e] = ranges[next++];
        const answer = await postBatch(server.url, buf.subarray(s, e));
        if (answer.rowsRejected !== 0) throw new Error(`rejected rows: ${JSON.stringify(answer.rejected)}`);
        rows += answer.rowsIngested;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const ms = performance.now() - t0;
    const serverCpu = cpuOf(server.pid) - cpu0;
    const client = process.cpuUsage(client0);
    const stored = (await query(server.url, 'DeviceProcessEvents | count'))[0][0];
    if (stored !== ROWS + 1) throw new Error(`expected ${ROWS} rows stored (+1 warm-up row), found ${stored}`);
    return { rows, ms, cpuSeconds: serverCpu, clientCpuSeconds: (client.user + client.system) / 1e6 };
  } finally {
    await server.stop();
  }
}

/**
 * Open loop: a batch every 50 ms (pre-generated, so that building rows costs the client nothing while it runs),
 * whatever the answers. One prober at a time takes the latest answered batch and queries its last row until KQL
 * sees it: answer→visible (what durability plus visibility costs after the 2xx) and send→visible (including the
 * wait for the group commit).
 */
async function freshness(rate) {
  const server = await startServer(join(DIR, 'server-freshness'));
  const perTick = Math.max(1, Math.round(rate / 20));
  const ticks = SECONDS * 20;
  const bodies = Array.from({ length: ticks }, (_, k) =>
    chunk(1e9 + k * perTick, 1e9 + (k + 1) * perTick, { shape: SHAPE }),
  );
  const answerToVisible = [];
  const sendToVisible = [];
  const answerMs = [];
  const probeMs = [];
  let behind = 0;
  try {
    await postBatch(server.url, chunk(0, 1, { shape: SHAPE })); // creates the table
    const answered = []; // [lastReportId, sentAt, answeredAt]
    let sending = true;
    const prober = (async () => {
      let probedUpTo = -1;
      while (sending || probedUpTo < answered.length - 1) {
        const i = answered.length - 1;
        if (i <= probedUpTo) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        probedUpTo = i;
        const [id, sent, got] = answered[i];
        for (;;) {
          const q0 = performance.now();
          const rows = await query(server.url, `DeviceProcessEvents | where ReportId == ${id} | count`);
          probeMs.push(performance.now() - q0);
          if (rows[0][0] === 1) break;
          await new Promise((r) => setTimeout(r, 20)); // poll, without taking the server's CPU in a hot loop
        }
        const visible = performance.now();
        answerToVisible.push(visible - got);
        sendToVisible.push(visible - sent);
      }
    })();
    const t0 = performance.now();
    const sends = [];
    for (let k = 0; k < ticks; k++) {
      const wait = t0 + k * 50 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -50) behind++;
      const sent = performance.now();
      const last = 1e9 + (k + 1) * perTick - 1;
      sends.push(
        postBatch(server.url, bodies[k]).then(() => {
          const got = performance.now();
          answerMs.push(got - sent);
          answered.push([last, sent, got]);
        }),
      );
    }
    await Promise.all(sends);
    const elapsed = (performance.now() - t0) / 1000;
    sending = false;
    await prober;
    return {
      rate,
      seconds: SECONDS,
      achievedRowsPerSecond: Math.round((ticks * perTick) / elapsed),
      ticksBehindSchedule: behind,
      probes: answerToVisible.length,
      answerMs: { p50: median(answerMs), p99: percentile(answerMs, 99) },
      answerToVisibleMs: { p50: median(answerToVisible), p99: percentile(answerToVisible, 99) },
      sendToVisibleMs: { p50: median(sendToVisible), p99: percentile(sendToVisible, 99) },
      probeQueryMs: { p50: median(probeMs), p99: percentile(probeMs, 99) },
    };
  } finally {
    await server.stop();
  }
}

if (!existsSync(MAIN)) throw new Error(`build first (npm run build): ${MAIN} is missing`);
const file = await dataFile();
const bytes = (await stat(file)).size;
// The first record's keys (the file can be larger than a JS string may be: read its head only).
const head = Buffer.alloc(65536);
const fh = await open(file, 'r');
const { bytesRead } = await fh.read(head, 0, head.length, 0);
await fh.close();
const fields = Object.keys(JSON.parse(head.subarray(0, bytesRead).toString('utf8').split('\n')[0]));
const results = {
  date: new Date().toISOString(),
  rows: ROWS,
  bytes,
  shape: SHAPE,
  batch: BATCH,
  concurrency: CONCURRENCIES.length === 1 ? CONCURRENCIES[0] : CONCURRENCIES,
  rounds: [],
};
if (!SKIP.has('throughput')) {
  const rate = (x) => x.rows / (x.ms / 1000);
  for (let r = 0; r < ROUNDS; r++) {
    const duck = await baseline(file, fields);
    log(
      `round ${r + 1}: read_json ${Math.round(rate(duck))} rows/s (${(duck.ms / 1000).toFixed(1)} s, ${duck.cpuSeconds.toFixed(1)} CPU s)`,
    );
    const round = { readJson: duck };
    for (const c of CONCURRENCIES) {
      const http = await throughput(file, c);
      log(
        `round ${r + 1}: HTTP c=${c} ${Math.round(rate(http))} rows/s (${(http.ms / 1000).toFixed(1)} s, server ${http.cpuSeconds.toFixed(1)} CPU s, client ${http.clientCpuSeconds.toFixed(1)} CPU s)`,
      );
      round[c === CONCURRENCIES[0] ? 'http' : `http${c}`] = http;
    }
    results.rounds.push(round);
  }
  const duckRate = median(results.rounds.map((r) => rate(r.readJson)));
  const summary = (key) => {
    const httpRate = median(results.rounds.map((r) => rate(r[key])));
    return {
      readJsonRowsPerSecond: Math.round(duckRate),
      httpRowsPerSecond: Math.round(httpRate),
      ratioOfMedians: httpRate / duckRate,
      medianRoundRatio: median(results.rounds.map((r) => rate(r[key]) / rate(r.readJson))),
      cpuRatio: median(results.rounds.map((r) => r.readJson.cpuSeconds / r[key].cpuSeconds)),
    };
  };
  for (const c of CONCURRENCIES) {
    const key = c === CONCURRENCIES[0] ? 'http' : `http${c}`;
    const t = summary(key);
    if (key === 'http') results.throughput = { concurrency: c, ...t };
    else results[`throughput${c}`] = { concurrency: c, ...t };
    log(
      `throughput c=${c}: HTTP ${t.httpRowsPerSecond} rows/s vs read_json ${t.readJsonRowsPerSecond} rows/s = ${(100 * t.medianRoundRatio).toFixed(0)}% (median of rounds); CPU efficiency ${(100 * t.cpuRatio).toFixed(0)}%`,
    );
  }
}
if (!SKIP.has('freshness')) {
  results.freshness = [];
  for (const rate of RATES) {
    const f = await freshness(rate);
    results.freshness.push(f);
    log(`freshness at ${rate} rows/s: ${JSON.stringify(f)}`);
  }
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
