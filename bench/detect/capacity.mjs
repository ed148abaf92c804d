/**
 * Scheduler capacity: 500 enabled scheduled rules at a 5-minute frequency over a 10M-row workspace
 * (DeviceProcessEvents 10M, DeviceNetworkEvents 5M, SigninLogs 1M from bench/engine/generate.mjs, seeded), while
 * DeviceProcessEvents rows keep arriving (default 2,000 rows/s through the engine's load path and the ingestion
 * tracker). Rules: ten query shapes (term and substring filters, regex, `in~`, `has_any` over a dynamic list,
 * summarize/dcount thresholds, other tables); lookbacks 5 min (80%), 1 h (15%), 1 d (5%). Windows are staggered
 * per rule (a hash of the id), as the service schedules them.
 *
 * Reported: the CPU time of one full cycle (every rule's window once, in one scheduler pass, no ingestion: the
 * share of the machine 500 rules need per 5 minutes, robust to other load on a shared machine); then, live, the
 * lag from a window closing to the end of its evaluation (p50/p95/max, windows closing after the first minute),
 * windows evaluated, failures, and the process CPU share with rules + ingestion against ingestion alone (a first
 * phase without rules).
 *
 *   npm run build && node bench/detect/capacity.mjs --dir /tmp/vigil-detect-10m [--rows 10000000] [--minutes 11]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { ensureData } from '../engine/generate.mjs';
import { args, loadOptions, ms, openStack, quantile, writeBatches } from './common.mjs';

const opt = args({
  dir: '/tmp/vigil-detect-bench-10m',
  rows: 10_000_000,
  rules: 500,
  minutes: 11,
  baselineSeconds: 60,
  rate: 2000,
  warmupSeconds: 60,
  concurrency: 2,
  out: '',
});
const log = (m) => process.stderr.write(`${m}\n`);

const SHAPES = [
  (i) =>
    `DeviceProcessEvents\n| where FileName in~ ("powershell.exe", "pwsh.exe", "cmd.exe") and ProcessCommandLine has_any ("-enc", "DownloadString", "term${i}")\n| project TimeGenerated, DeviceName, AccountName, ProcessCommandLine`,
  (i) =>
    `DeviceProcessEvents\n| where ProcessCommandLine contains "term${i}"\n| project TimeGenerated, DeviceName, AccountName, ProcessCommandLine`,
  (i) =>
    `DeviceProcessEvents\n| summarize TimeGenerated = max(TimeGenerated), Count = count() by DeviceName, AccountName\n| where Count > ${5000 + i}`,
  (i) =>
    `DeviceProcessEvents\n| where ProcessCommandLine matches regex @"(?i)term${i}[0-9]+"\n| project TimeGenerated, DeviceName, AccountName, ProcessCommandLine`,
  () =>
    `DeviceProcessEvents\n| where InitiatingProcessFileName =~ "winword.exe" and FileName in~ ("cmd.exe", "powershell.exe")\n| project TimeGenerated, DeviceName, AccountName, ProcessCommandLine`,
  (i) =>
    `DeviceProcessEvents\n| summarize TimeGenerated = max(TimeGenerated), Devices = dcount(DeviceName) by AccountName\n| where Devices > ${600 + (i % 7)}`,
  (i) =>
    `DeviceNetworkEvents\n| where RemotePort == ${4000 + i}\n| project TimeGenerated, DeviceName, RemoteIP, RemotePort`,
  () =>
    `SigninLogs\n| where ResultType != "0"\n| summarize TimeGenerated = max(TimeGenerated), Failures = count() by UserPrincipalName\n| where Failures > 50`,
  (i) =>
    `DeviceProcessEvents\n| where ProcessCommandLine has "rundll32" and ProcessCommandLine has "term${i}"\n| project TimeGenerated, DeviceName, AccountName, ProcessCommandLine`,
  (i) =>
    `let Suspicious = dynamic(["mimikatz", "procdump", "term${i}"]);\nDeviceProcessEvents\n| where ProcessCommandLine has_any (Suspicious)\n| project TimeGenerated, DeviceName, AccountName, ProcessCommandLine`,
];

function ruleYaml(i) {
  const period = i % 20 === 19 ? '1d' : i % 20 >= 16 ? '1h' : '5m';
  const query = SHAPES[i % SHAPES.length](i);
  return `id: ca9ac170-0000-4000-8000-${String(i).padStart(12, '0')}
name: Capacity rule ${i}
severity: Medium
kind: Scheduled
queryFrequency: 5m
queryPeriod: ${period}
triggerOperator: gt
triggerThreshold: 0
tactics: [Execution]
query: |
${query
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;
}

async function ingestLoop(stack, batches, untilMs, stats) {
  const { tracker, engine } = stack;
  for (let k = 0; Date.now() < untilMs; k++) {
    const due = stats.t0 + k * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const b = batches[k % batches.length];
    const r = await tracker.loadFile(engine, 'DeviceProcessEvents', b.path, loadOptions(b));
    stats.rows += r.rowsLoaded;
    stats.loads++;
  }
}

await mkdir(opt.dir, { recursive: true });
const t = performance.now();
const meta = await ensureData({ dir: opt.dir, rows: opt.rows, log });
log(`data: ${JSON.stringify(meta.sizes)} (ready in ${((performance.now() - t) / 1000).toFixed(0)} s)`);
const batches = await writeBatches(join(opt.dir, 'live-batches'), {
  files: 10,
  rows: opt.rate,
  marker: () => null,
  markersPerBatch: 0,
});
const stack = await openStack(opt.dir, { service: { scheduledConcurrency: opt.concurrency } });
try {
  for (const r of await stack.service.listRules()) await stack.service.deleteRule(r.id);
  // Phase A: ingestion alone.
  const a = { t0: Date.now(), rows: 0, loads: 0 };
  let cpu0 = process.cpuUsage();
  await ingestLoop(stack, batches, a.t0 + opt.baselineSeconds * 1000, a);
  let cpu = process.cpuUsage(cpu0);
  const baseline = {
    rowsPerSecond: Math.round(a.rows / opt.baselineSeconds),
    cpuShare: (cpu.user + cpu.system) / 1000 / (opt.baselineSeconds * 1000) / cpus().length,
  };
  log(
    `ingestion alone: ${baseline.rowsPerSecond} rows/s, CPU ${(baseline.cpuShare * 100).toFixed(1)}% of ${cpus().length} cores`,
  );

  // Phase B: the rules and ingestion.
  const ti = performance.now();
  for (let i = 0; i < opt.rules; i++) {
    const [r] = await stack.service.importText(ruleYaml(i));
    if (r?.status !== 'created') throw new Error(`rule ${i}: ${JSON.stringify(r?.diagnostics)}`);
  }
  log(`imported ${opt.rules} rules in ${((performance.now() - ti) / 1000).toFixed(1)} s`);
  // Phase B0: one full cycle — every rule's first window (the last closed one) in one scheduler pass, without
  // ingestion. Its CPU time is what 500 rules cost per 5 minutes, whatever else the machine is doing.
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const cycleStart = Date.now();
  // Frozen time: no window closes during the pass, so it evaluates exactly one window per rule.
  stack.freeze(Date.now());
  await stack.service.tick();
  stack.freeze(null);
  const cycleCpu = process.cpuUsage(c0);
  const cycle = {
    // Runs of this pass (the state store may hold runs of earlier benchmark runs).
    windows: (await stack.service.runs({ limit: 1_000_000 })).filter((r) => Date.parse(r.startedAt) >= cycleStart)
      .length,
    wallMs: Math.round(performance.now() - w0),
    cpuMs: Math.round((cycleCpu.user + cycleCpu.system) / 1000),
  };
  log(
    `one cycle: ${cycle.windows} windows in ${ms(cycle.wallMs)} wall, ${ms(cycle.cpuMs)} CPU = ` +
      `${((cycle.cpuMs / (300_000 * cpus().length)) * 100).toFixed(1)}% of ${cpus().length} cores over 5 minutes`,
  );
  const b = { t0: Date.now(), rows: 0, loads: 0 };
  stack.service.start();
  cpu0 = process.cpuUsage();
  await ingestLoop(stack, batches, b.t0 + opt.minutes * 60_000, b);
  const wall = (Date.now() - b.t0) / 1000;
  cpu = process.cpuUsage(cpu0);
  await stack.service.stop();
  const runs = (await stack.service.runs()).filter((r) => r.windowEndMs > b.t0 + opt.warmupSeconds * 1000);
  const lags = runs.map((r) => r.lagMs).sort((x, y) => x - y);
  const durations = runs.map((r) => r.durationMs).sort((x, y) => x - y);
  const result = {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, loadavg: loadavg() },
    workspaceRows: meta.sizes,
    rules: opt.rules,
    frequency: '5m',
    liveRowsPerSecond: Math.round(b.rows / wall),
    minutes: opt.minutes,
    // Phase B0: one scheduler pass over every rule's first window, no ingestion.
    cycle: {
      ...cycle,
      cpuSharePer5Minutes: cycle.cpuMs / (300_000 * cpus().length),
    },
    windowsEvaluated: runs.length,
    windowsExpected: Math.round(((opt.minutes * 60 - opt.warmupSeconds) / 300) * opt.rules),
    failures: runs.filter((r) => r.status === 'failure').length,
    lagMs: {
      p50: Math.round(quantile(lags, 0.5)),
      p95: Math.round(quantile(lags, 0.95)),
      max: Math.round(lags[lags.length - 1] ?? Number.NaN),
    },
    evaluationMs: {
      p50: Math.round(quantile(durations, 0.5)),
      p95: Math.round(quantile(durations, 0.95)),
      max: Math.round(durations[durations.length - 1] ?? Number.NaN),
    },
    cpuShare: {
      rulesAndIngestion: (cpu.user + cpu.system) / 1000 / (wall * 1000) / cpus().length,
      ingestionAlone: baseline.cpuShare,
    },
    errors: [...new Set(runs.filter((r) => r.error && r.status === 'failure').map((r) => r.error))].slice(0, 5),
  };
  log(
    `${result.windowsEvaluated} windows (expected ~${result.windowsExpected}), ${result.failures} failures; lag window close → ` +
      `evaluated: p50 ${ms(result.lagMs.p50)}, p95 ${ms(result.lagMs.p95)}, max ${ms(result.lagMs.max)}; evaluation p50 ` +
      `${ms(result.evaluationMs.p50)}, p95 ${ms(result.evaluationMs.p95)}; CPU ${(result.cpuShare.rulesAndIngestion * 100).toFixed(1)}% ` +
      `(ingestion alone ${(baseline.cpuShare * 100).toFixed(1)}%) of ${cpus().length} cores`,
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (opt.out) await writeFile(opt.out, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await stack.close();
}
