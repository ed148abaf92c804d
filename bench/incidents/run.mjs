/**
 * Incident engine benchmark (issue 6): alerts correlated against 100,000 open incidents, and the queue's list with
 * filters over them.
 *
 *   npm run build && node bench/incidents/run.mjs [--incidents 100000] [--alerts 10000] [--rate 10000]
 *     [--checkpoint background|inline] [--sync inline|worker]
 *
 * `--checkpoint` and `--sync` choose the state store's WAL checkpoints (a worker thread, or SQLite's automatic one
 * inside commits) and how commits are made durable (SQLite's fsync in COMMIT, or group commit with the fsync on a
 * worker thread); see packages/server/src/state/sql-driver.ts.
 *
 * 1. Seed: `--incidents` alerts with distinct hosts go through the service with correlation off (one incident each,
 *    all open); a tenth get an owner, a twentieth a tag. The seeded state store is cached under `--cache` for reuse.
 * 2. Steady load: `--alerts` alerts arrive open-loop at `--rate` alerts per minute (one every 6 ms at 10,000/min),
 *    correlation on, SecurityIncident rows written to a DuckDB event store through the outbox (`--event-store 0`
 *    turns it off). Mix: 40% share a host with an open incident (join), 5% bridge two incidents (merge), 10% carry
 *    a domain controller seen in a large share of alerts plus a new host (common entity, new incident), 45% new.
 *    Latency per alert = from hand-in to committed (state store, audit, events, outbox rows in one transaction).
 * 3. One at a time: `--sequential` alerts of the mix, each handed in after the previous one committed (its own
 *    transaction): per-alert wall time and CPU time (the process's, all threads; steadier than wall time on a shared
 *    machine), so the engine's own cost per alert is seen apart from queueing behind other alerts.
 * 4. Burst: the same mix handed in all at once: throughput when alerts queue up.
 * 5. Queue: list queries with filters, sorts and cursors over the incidents, `--queries` runs of each.
 * Results go to bench/results/incidents.json (and stdout).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWorkspace, tableDefinitionsFromTablesJson } from '../../packages/server/dist/engine/index.js';
import { IncidentService } from '../../packages/server/dist/incidents/service.js';
import { SqliteDriver } from '../../packages/server/dist/state/sql-driver.js';
import { args } from '../lib/args.mjs';
import { alert, alertSeq, DC, hostE, ipE, mixEntities, rng, seedFile, USERS, userE } from './alerts.mjs';

const ROOT = new URL('../../', import.meta.url);

const opt = args({
  incidents: 100_000,
  alerts: 10_000,
  rate: 10_000,
  burst: 10_000,
  sequential: 1000,
  queries: 100,
  'event-store': 1,
  checkpoint: 'background',
  sync: 'inline',
  cache: join(tmpdir(), 'vigil-bench-incidents'),
  out: 'bench/results/incidents.json',
});

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
function stats(list) {
  const s = [...list].sort((a, b) => a - b);
  const r = (x) => (x === null ? null : Math.round(x * 100) / 100);
  return {
    n: s.length,
    p50: r(percentile(s, 50)),
    p90: r(percentile(s, 90)),
    p99: r(percentile(s, 99)),
    max: r(s[s.length - 1] ?? null),
  };
}
const cpuMs = (u) => (u.user + u.system) / 1000;
const log = (m) => process.stderr.write(`${m}\n`);

// ───────────────────────────── 1. seed ─────────────────────────────

mkdirSync(opt.cache, { recursive: true });
const seedFileName = seedFile(opt.cache, opt.incidents);
const work = join(opt.cache, `run-${process.pid}`);
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const seedStart = Date.now() - 20 * 3600_000;
const result = { machine: { cores: 2, note: 'shared machine; see loadAverage' }, options: opt };

if (!existsSync(seedFileName)) {
  log(`seeding ${opt.incidents} incidents (cached in ${seedFileName})...`);
  const tmp = `${seedFileName}.tmp`;
  rmSync(tmp, { force: true });
  const state = new SqliteDriver(tmp);
  const svc = await IncidentService.open({
    state,
    maxBatch: 1000,
    settings: {
      correlation: {
        enabled: false,
        sharedEntityWindowMs: 86_400_000,
        stageWindowMs: 7 * 86_400_000,
        maxEntitiesPerIncident: 500,
      },
    },
  });
  const random = rng(1);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const CHUNK = 5000;
  for (let i = 0; i < opt.incidents; i += CHUNK) {
    const batch = [];
    for (let k = i; k < Math.min(opt.incidents, i + CHUNK); k++) {
      const entities = [hostE(k), userE(Math.floor(random() * USERS)), ipE(1_000_000 + k)];
      if (random() < 0.1) entities.push(DC);
      batch.push(alert(random, seedStart + Math.floor((k / opt.incidents) * 19 * 3600_000), entities));
    }
    await svc.ingestAlerts(batch);
    if ((i / CHUNK) % 4 === 0)
      log(`  ${i + batch.length} (${Math.round((i + batch.length) / ((performance.now() - t0) / 1000))}/s)`);
  }
  // A tenth of the incidents get an owner, a twentieth a tag (filters need them).
  const owners = [];
  const tagged = [];
  for (let n = 1; n <= opt.incidents; n++) {
    if (n % 10 === 0) owners.push(n);
    if (n % 20 === 7) tagged.push(n);
  }
  for (let i = 0; i < owners.length; i += 1000) {
    const part = owners.slice(i, i + 1000);
    await svc.bulkUpdate(
      part,
      { owner: { userPrincipalName: `analyst${(i / 1000) % 8}@contoso.com` } },
      { type: 'automation-rule', id: 'seed' },
    );
  }
  for (let i = 0; i < tagged.length; i += 1000) {
    await svc.bulkUpdate(
      tagged.slice(i, i + 1000),
      { addTags: [`wave-${(i / 1000) % 5}`] },
      { type: 'automation-rule', id: 'seed' },
    );
  }
  await svc.close();
  await state.run('ANALYZE');
  await state.close();
  copyFileSync(tmp, seedFileName);
  rmSync(tmp, { force: true });
  rmSync(`${tmp}-wal`, { force: true });
  rmSync(`${tmp}-shm`, { force: true });
  const seconds = (performance.now() - t0) / 1000;
  result.seed = {
    incidents: opt.incidents,
    seconds: Math.round(seconds),
    alertsPerSecond: Math.round(opt.incidents / seconds),
    cpuSeconds: Math.round(cpuMs(process.cpuUsage(c0)) / 1000),
  };
  log(`  seeded in ${Math.round(seconds)} s`);
} else {
  log(`reusing seeded state ${seedFileName}`);
}
copyFileSync(seedFileName, join(work, 'state.sqlite'));

// ───────────────────────────── 2. steady load ─────────────────────────────

const state = new SqliteDriver(join(work, 'state.sqlite'), { checkpoint: opt.checkpoint, sync: opt.sync });
let engine = null;
let eventStore = null;
if (opt['event-store']) {
  const defs = tableDefinitionsFromTablesJson(
    JSON.parse(await readFile(new URL('content/schema/tables.json', ROOT), 'utf8')),
  );
  engine = await openWorkspace(join(work, 'ws'), { threads: 1 });
  eventStore = { engine, definitions: defs, scratchDir: join(work, 'scratch') };
}
if (process.env.SYNC_OFF) await state.run('PRAGMA synchronous=OFF');
if (Number(process.env.CACHE_MB) > 0) await state.run(`PRAGMA cache_size=-${Number(process.env.CACHE_MB) * 1024}`);
const batches = [];
const service = await IncidentService.open({
  state,
  eventStore,
  log: (m) => log(`  [incidents] ${m}`),
  onBatch: (b) => batches.push(b),
});
const open0 = await state.get("SELECT COUNT(*) AS n FROM inc_incidents WHERE status <> 'Closed'");
result.openIncidentsAtStart = Number(open0.n);
log(`${result.openIncidentsAtStart} open incidents`);

/** Alerts of the benchmark mix. */
function mix(random, count, atMs) {
  const out = [];
  const kinds = { join: 0, bridge: 0, common: 0, new: 0 };
  for (let k = 0; k < count; k++) {
    const { kind, entities } = mixEntities(random, opt.incidents, 10_000_000 + alertSeq + k);
    kinds[kind]++;
    out.push(alert(random, atMs, entities));
  }
  return { alerts: out, kinds };
}

async function steady(random) {
  const { alerts, kinds } = mix(random, opt.alerts, Date.now());
  const interval = 60_000 / opt.rate;
  const latencies = [];
  const processing = [];
  batches.length = 0;
  const outcomes = { created: 0, joined: 0, updated: 0, unattached: 0, merges: 0 };
  const pending = [];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let lag = 0;
  for (let k = 0; k < alerts.length; k++) {
    const due = t0 + k * interval;
    let now = performance.now();
    while (now < due) {
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(5, due - now))));
      now = performance.now();
    }
    lag = Math.max(lag, now - due);
    const start = performance.now();
    pending.push(
      service.ingestAlerts([alerts[k]]).then(([o]) => {
        latencies.push(performance.now() - start);
        processing.push(o.processingMs);
        outcomes[o.outcome]++;
        outcomes.merges += o.merged.length;
      }),
    );
  }
  await Promise.all(pending);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuMs(process.cpuUsage(c0));
  return {
    alerts: alerts.length,
    targetPerMinute: opt.rate,
    achievedPerMinute: Math.round((alerts.length / seconds) * 60),
    seconds: Math.round(seconds * 10) / 10,
    cpuMsPerAlert: Math.round((cpu / alerts.length) * 100) / 100,
    latencyMs: stats(latencies),
    processingMs: stats(processing),
    batches: batchStats(),
    maxSchedulerLagMs: Math.round(lag),
    mix: kinds,
    outcomes,
    walBytesAtEnd: walBytes(),
    checkpoints: state.checkpointStats(),
    syncs: state.syncStats(),
  };
}

function walBytes() {
  try {
    return statSync(join(work, 'state.sqlite-wal')).size;
  } catch {
    return 0;
  }
}

async function sequential(random) {
  const { alerts, kinds } = mix(random, opt.sequential, Date.now());
  const wall = [];
  const cpu = [];
  const processing = [];
  batches.length = 0;
  for (const a of alerts) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const [o] = await service.ingestAlerts([a]);
    wall.push(performance.now() - t0);
    cpu.push(cpuMs(process.cpuUsage(c0)));
    processing.push(o.processingMs);
  }
  return {
    alerts: alerts.length,
    wallMs: stats(wall),
    cpuMs: stats(cpu),
    processingMs: stats(processing),
    commitMs: stats(batches.map((b) => b.commitMs)),
    mix: kinds,
  };
}

async function burst(random) {
  const { alerts, kinds } = mix(random, opt.burst, Date.now());
  const latencies = [];
  const processing = [];
  batches.length = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await Promise.all(
    alerts.map((a) => {
      const start = performance.now();
      return service.ingestAlerts([a]).then(([o]) => {
        latencies.push(performance.now() - start);
        processing.push(o.processingMs);
      });
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return {
    alerts: alerts.length,
    seconds: Math.round(seconds * 10) / 10,
    alertsPerSecond: Math.round(alerts.length / seconds),
    cpuMsPerAlert: Math.round((cpuMs(process.cpuUsage(c0)) / alerts.length) * 100) / 100,
    latencyMs: stats(latencies),
    processingMs: stats(processing),
    batches: batchStats(),
    mix: kinds,
  };
}

function batchStats() {
  return {
    count: batches.length,
    alertsPerBatch: stats(batches.map((b) => b.alerts)),
    workMs: stats(batches.map((b) => b.workMs)),
    commitMs: stats(batches.map((b) => b.commitMs)),
  };
}

/** Share of time some runnable task waited for a CPU (Linux PSI, last 60 s): how busy the shared machine was. */
function cpuPressure() {
  try {
    const m = /avg60=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
const load0 = (await import('node:os')).loadavg();
const pressure0 = cpuPressure();
log(`steady load: ${opt.alerts} alerts at ${opt.rate}/min...`);
result.steady = await steady(rng(2));
log(JSON.stringify(result.steady));
log('event store (outbox) catching up...');
let t = performance.now();
await service.flush();
result.outboxFlushSeconds = Math.round((performance.now() - t) / 100) / 10;
log(`one at a time: ${opt.sequential} alerts...`);
result.sequential = await sequential(rng(4));
log(JSON.stringify(result.sequential));
await service.flush();
log(`burst: ${opt.burst} alerts at once...`);
result.burst = await burst(rng(3));
log(JSON.stringify(result.burst));
t = performance.now();
await service.flush();
result.outboxFlushAfterBurstSeconds = Math.round((performance.now() - t) / 100) / 10;
if (engine) {
  const { runKql } = await import('../../packages/server/dist/query/query-service.js');
  const q = await runKql(
    { engine, definitions: eventStore.definitions },
    'SecurityIncident | summarize rows = count(), incidents = dcount(IncidentNumber)',
  );
  const [[rows, incidents]] = await q.result.rows();
  await q.result.close();
  result.securityIncidentRows = { rows, incidents };
}

// ───────────────────────────── 4. queue ─────────────────────────────

const total = await state.get('SELECT COUNT(*) AS n FROM inc_incidents');
result.incidentsForQueue = Number(total.n);
const hour = 3600_000;
// The seeded history's start (the seed is cached: its times are those of the day it was made).
const historyStart = Date.parse(
  (await state.get('SELECT MIN(first_activity) AS t FROM inc_incidents')).t ?? new Date(seedStart).toISOString(),
);
const QUERIES = {
  'open, newest first': { status: ['New', 'Active'] },
  'high severity, by last activity': { status: ['New', 'Active'], severity: ['High'], sort: 'lastActivityTime' },
  'owner, by last update': { owner: ['analyst3@contoso.com'], sort: 'lastModifiedTime' },
  unassigned: { owner: ['unassigned'], status: ['New'] },
  'tag (5% of incidents)': { tags: ['wave-2'] },
  product: { product: ['Office 365 Advanced Threat Protection'], status: ['New', 'Active'] },
  tactic: { tactic: ['LateralMovement'], severity: ['Medium', 'High'] },
  'entity (one host)': { entity: ['ws-4242'] },
  'entity (a user)': { entity: ['user123@contoso.com'] },
  'text in title': { text: 'ransomware' },
  'created in the last 2 h': { createdFrom: new Date(Date.now() - 2 * hour).toISOString() },
  'activity in the last 2 h + severity': {
    activityFrom: new Date(Date.now() - 2 * hour).toISOString(),
    severity: ['High', 'Medium'],
  },
  // An hour in the middle of the history with the newest first: no index fits, most incidents are visited.
  'past activity window (worst case)': {
    activityFrom: new Date(historyStart + 5 * hour).toISOString(),
    activityTo: new Date(historyStart + 6 * hour).toISOString(),
    severity: ['High'],
  },
  'sort by severity': { sort: 'severity' },
  'sort by alert count': { sort: 'alertCount' },
  'sort by title': { sort: 'title', order: 'asc' },
};
const queue = {};
const allLatencies = [];
const allCpu = [];
for (const [name, q] of Object.entries(QUERIES)) {
  const lat = [];
  const cpu = [];
  let pageSizes = 0;
  for (let i = 0; i < opt.queries; i++) {
    // Page 1, then page 3 through the cursor (a user paging on).
    let c = process.cpuUsage();
    let s = performance.now();
    const p1 = await service.list({ ...q, limit: 50 });
    lat.push(performance.now() - s);
    cpu.push(cpuMs(process.cpuUsage(c)));
    pageSizes += p1.items.length;
    if (p1.nextCursor && i % 2 === 0) {
      const p2 = await service.list({ ...q, limit: 50, cursor: p1.nextCursor });
      c = process.cpuUsage();
      s = performance.now();
      await service.list({ ...q, limit: 50, cursor: p2.nextCursor ?? p1.nextCursor });
      lat.push(performance.now() - s);
      cpu.push(cpuMs(process.cpuUsage(c)));
    }
  }
  allLatencies.push(...lat);
  allCpu.push(...cpu);
  queue[name] = { ...stats(lat), cpuMs: stats(cpu), rowsOnFirstPage: Math.round(pageSizes / opt.queries) };
  log(`  ${name}: ${JSON.stringify(queue[name])}`);
}
result.queue = { perQuery: queue, all: stats(allLatencies), allCpuMs: stats(allCpu) };
const detailLat = [];
for (let i = 0; i < 50; i++) {
  const n = 1 + Math.floor(Math.random() * result.incidentsForQueue);
  const s = performance.now();
  await service.get(n);
  detailLat.push(performance.now() - s);
}
result.incidentPage = stats(detailLat);
result.cpuPressurePercent = { atStart: pressure0, atEnd: cpuPressure() };
result.loadAverage = {
  atStart: load0.map((x) => Math.round(x * 10) / 10),
  atEnd: (await import('node:os')).loadavg().map((x) => Math.round(x * 10) / 10),
};
result.measuredAt = new Date().toISOString();

await service.close();
await engine?.close();
await state.close();
rmSync(work, { recursive: true, force: true });
writeFileSync(new URL(opt.out, ROOT), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  `${JSON.stringify({ steady: result.steady, sequential: result.sequential, burst: result.burst, queue: result.queue.all }, null, 2)}\n`,
);
