/**
 * NRT latency: DeviceProcessEvents-shaped rows flow into a workspace at a target rate (default 20,000 rows/s, in
 * batches every 200 ms) while 50 NRT rules are enabled; every batch carries one row that one rule (in turn)
 * alerts on. Measured per alert: from the batch's ingestion answer (the load committed) to the alert row being
 * committed in SecurityAlert (the `onAlertCreated` event fires after that commit; the end of the run checks that
 * every alert is in the table).
 *
 * Batches go through the ingestion service in process (`IngestService.ingestTable`, its group-commit writer on the
 * tracked engine, as `vigil serve` wires it; no HTTP), sent open-loop: the answer is the service's answer to the
 * request. `--via engine` loads each batch straight through the engine instead (at most 3 waiting).
 *
 *   npm run build && node bench/detect/nrt-latency.mjs [--seconds 60] [--rate 20000] [--batchMs 200] [--rules 50]
 *       [--via ingest|engine] [--combine no|yes] [--out FILE]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestService } from '../../packages/server/dist/ingest/service.js';
import { args, loadOptions, ms, openStack, quantile, writeBatches } from './common.mjs';

const opt = args({
  seconds: 60,
  rate: 20000,
  batchMs: 200,
  rules: 50,
  warmup: 5,
  nrtConcurrency: 2,
  combine: 'no',
  via: 'ingest',
  out: '',
});
const batchRows = Math.round((opt.rate * opt.batchMs) / 1000);
const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-nrt-'));
const log = (m) => process.stderr.write(`${m}\n`);

function ruleYaml(i) {
  const m = `vigilmark${i}`;
  const where = [
    `ProcessCommandLine has "${m}"`,
    `ProcessCommandLine contains "${m}.dll"`,
    `FileName =~ "rundll32.exe" and ProcessCommandLine has_any ("${m}", "neverseen${i}")`,
    `ProcessCommandLine matches regex @"${m}\\.dll"`,
    `ProcessCommandLine endswith "${m}.dll,Start"`,
  ][i % 5];
  return `id: 00000000-0000-4000-8000-${String(i).padStart(12, '0')}
name: NRT bench rule ${i}
severity: High
kind: NRT
tactics: [Execution]
relevantTechniques: [T1218.011]
query: |
  DeviceProcessEvents
  | where ${where}
  | project TimeGenerated, DeviceName, AccountName, AccountDomain, ProcessCommandLine, FileName
entityMappings:
  - entityType: Host
    fieldMappings:
      - identifier: FullName
        columnName: DeviceName
  - entityType: Account
    fieldMappings:
      - identifier: Name
        columnName: AccountName
      - identifier: NTDomain
        columnName: AccountDomain
  - entityType: Process
    fieldMappings:
      - identifier: CommandLine
        columnName: ProcessCommandLine
`;
}

try {
  log(
    `workspace ${dir}; ${opt.rules} NRT rules; ${opt.rate} rows/s as ${batchRows}-row batches every ${opt.batchMs} ms`,
  );
  const files = Math.max(opt.rules, 20);
  const batches = await writeBatches(join(dir, 'batches'), {
    files,
    rows: batchRows,
    marker: (k) => `vigilmark${k % opt.rules}`,
  });
  const stack = await openStack(join(dir, 'ws'), {
    service: { nrtConcurrency: opt.nrtConcurrency, combineNrt: opt.combine === 'yes' },
  });
  const { service, tracker, engine, defs } = stack;
  await engine.ensureTable(defs.find((d) => d.name === 'DeviceProcessEvents'));
  // Every engine load, by table: time inside the writer lock (the engine's report) and waiting for it.
  const writes = new Map();
  const rawLoad = engine.loadFile.bind(engine);
  engine.loadFile = async (table, file, options) => {
    const t = performance.now();
    const report = await rawLoad(table, file, options);
    const list = writes.get(table) ?? [];
    list.push({ total: performance.now() - t, inLock: report.ms });
    writes.set(table, list);
    return report;
  };
  const ingest = await IngestService.start({
    engine: tracker.wrap(engine),
    dataDir: join(dir, 'ws'),
    schemaTables: defs,
    jobs: false,
  });
  for (let i = 0; i < opt.rules; i++) {
    const [r] = await service.importText(ruleYaml(i));
    if (r?.mode !== 'nrt') throw new Error(`rule ${i}: ${JSON.stringify(r)}`);
  }
  const alerts = new Map(); // rule id → [{at, results}]
  let alertCount = 0;
  service.onAlertCreated((a) => {
    alertCount++;
    const list = alerts.get(a.ruleId) ?? [];
    // The alert's TimeGenerated is the end of its evaluation: the latency splits into evaluation and write.
    const builtAgo = Date.now() - Date.parse(a.timeGenerated);
    list.push({ at: performance.now(), built: performance.now() - builtAgo, results: a.resultCount });
    alerts.set(a.ruleId, list);
  });
  service.start();

  const answered = new Map(); // rule id → [answer times]
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let loaded = 0;
  let outstanding = 0;
  let refused = 0;
  const loads = [];
  const loadMs = [];
  const bodies = await Promise.all(batches.map((b) => readFile(b.path)));
  for (let k = 0; performance.now() - t0 < opt.seconds * 1000; k++) {
    const due = t0 + k * opt.batchMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const batch = k % batches.length;
    const ruleId = `00000000-0000-4000-8000-${String(k % opt.rules).padStart(12, '0')}`;
    const warm = performance.now() - t0 >= opt.warmup * 1000;
    const sent = performance.now();
    if (opt.via === 'ingest') {
      // Open loop through the ingestion service (group commit: requests arriving during a load share the next).
      outstanding++;
      loads.push(
        ingest
          .ingestTable('DeviceProcessEvents', bodies[batch], 'json', { requestId: `bench-${k}`, source: 'bench' })
          .then(
            (answer) => {
              outstanding--;
              loaded += answer.rowsIngested;
              loadMs.push(performance.now() - sent);
              const list = answered.get(ruleId) ?? [];
              list.push({ at: performance.now(), warm });
              answered.set(ruleId, list);
            },
            (e) => {
              outstanding--;
              if (e?.code === 'writer_busy') refused++;
              else throw e;
            },
          ),
      );
      continue;
    }
    // Straight to the engine: at most 3 loads waiting for the writer (the ingestion service would answer 429).
    if (outstanding >= 3) {
      refused++;
      continue;
    }
    outstanding++;
    const b = batches[batch];
    loads.push(
      tracker.loadFile(engine, 'DeviceProcessEvents', b.path, loadOptions(b)).then((report) => {
        outstanding--;
        loaded += report.rowsLoaded;
        loadMs.push(report.ms);
        const list = answered.get(ruleId) ?? [];
        list.push({ at: performance.now(), warm });
        answered.set(ruleId, list);
      }),
    );
  }
  await Promise.all(loads);
  const wall = (performance.now() - t0) / 1000;
  const expected = [...answered.values()].reduce((n, l) => n + l.length, 0);
  const deadline = performance.now() + 30_000;
  while (
    [...alerts.values()].reduce((n, l) => n + l.reduce((m, a) => m + a.results, 0), 0) < expected &&
    performance.now() < deadline
  ) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const cpu = process.cpuUsage(cpu0);
  await service.stop();
  await ingest.close();

  // Match each rule's batches to its alerts in order (an alert may cover several batches' rows).
  const latencies = [];
  const toEvaluated = [];
  let unmatched = 0;
  for (const [ruleId, list] of answered) {
    const got = [...(alerts.get(ruleId) ?? [])];
    let current = got.shift();
    let left = current?.results ?? 0;
    for (const b of list) {
      while (current && left === 0) {
        current = got.shift();
        left = current?.results ?? 0;
      }
      if (!current) {
        unmatched++;
        continue;
      }
      left--;
      if (b.warm) {
        latencies.push(current.at - b.at);
        toEvaluated.push(current.built - b.at);
      }
    }
  }
  latencies.sort((a, b) => a - b);
  toEvaluated.sort((a, b) => a - b);
  const rows = await service.workspace.engine.execute('SELECT 1');
  void rows;
  const q = await (await import('../../packages/server/dist/query/query-service.js')).runKql(
    service.workspace,
    'SecurityAlert | count',
  );
  const [[inTable]] = await q.result.rows();
  await q.result.close();
  const runs = await service.runs();
  const evaluations = runs.reduce((n, r) => n + r.evaluations, 0);
  const result = {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, loadavg: (await import('node:os')).loadavg() },
    rules: opt.rules,
    combinedNrtQueries: opt.combine === 'yes',
    targetRowsPerSecond: opt.rate,
    achievedRowsPerSecond: Math.round(loaded / wall),
    batches: loads.length,
    batchesRefused: refused,
    batchRows,
    alerts: alertCount,
    alertsInSecurityAlert: Number(inTable),
    markerBatchesWithoutAlert: unmatched,
    nrtEvaluations: evaluations,
    via: opt.via,
    // Engine loads (--via engine) or ingestion requests until their answer (--via ingest).
    loadMs: {
      p50: Math.round(
        quantile(
          [...loadMs].sort((a, b) => a - b),
          0.5,
        ),
      ),
      max: Math.round(Math.max(...loadMs)),
    },
    evaluationMs: {
      p50: Math.round(
        quantile(
          runs.map((r) => r.durationMs / Math.max(1, r.evaluations)).sort((a, b) => a - b),
          0.5,
        ),
      ),
      p90: Math.round(
        quantile(
          runs.map((r) => r.durationMs / Math.max(1, r.evaluations)).sort((a, b) => a - b),
          0.9,
        ),
      ),
    },
    latencyMs: {
      samples: latencies.length,
      p50: Math.round(quantile(latencies, 0.5)),
      p90: Math.round(quantile(latencies, 0.9)),
      p99: Math.round(quantile(latencies, 0.99)),
      max: Math.round(latencies[latencies.length - 1] ?? Number.NaN),
    },
    // From the ingestion answer to the end of the evaluation that raised the alert (the rest is the alert write).
    toEvaluatedMs: {
      p50: Math.round(quantile(toEvaluated, 0.5)),
      p90: Math.round(quantile(toEvaluated, 0.9)),
      p99: Math.round(quantile(toEvaluated, 0.99)),
    },
    cpuShare: (cpu.user + cpu.system) / 1000 / (wall * 1000) / cpus().length,
    engineLoads: Object.fromEntries(
      [...writes].map(([table, list]) => {
        const inLock = list.map((w) => w.inLock).sort((a, b) => a - b);
        const waited = list.map((w) => w.total - w.inLock).sort((a, b) => a - b);
        return [
          table,
          {
            loads: list.length,
            inLockMs: { p50: Math.round(quantile(inLock, 0.5)), p90: Math.round(quantile(inLock, 0.9)) },
            waitedMs: { p50: Math.round(quantile(waited, 0.5)), p90: Math.round(quantile(waited, 0.9)) },
          },
        ];
      }),
    ),
  };
  log(
    `achieved ${result.achievedRowsPerSecond.toLocaleString()} rows/s (target ${opt.rate.toLocaleString()}), ` +
      `${result.alerts} alerts (${result.alertsInSecurityAlert} in SecurityAlert), ${evaluations} NRT evaluations\n` +
      `latency ingestion answer → alert committed: p50 ${ms(result.latencyMs.p50)}, p90 ${ms(result.latencyMs.p90)}, ` +
      `p99 ${ms(result.latencyMs.p99)}, max ${ms(result.latencyMs.max)} (${latencies.length} alerts after warm-up); ` +
      `to the end of the evaluation: p50 ${ms(result.toEvaluatedMs.p50)}, p99 ${ms(result.toEvaluatedMs.p99)}; ` +
      `CPU ${(result.cpuShare * 100).toFixed(0)}% of ${cpus().length} cores`,
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (opt.out) await writeFile(opt.out, `${JSON.stringify(result, null, 2)}\n`);
  await stack.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
