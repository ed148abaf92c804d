#!/usr/bin/env node
// Syslog ingestion speed (issue 4): parse throughput of each parser, and the listeners' UDP/TCP throughput on
// loopback with the sender in another process. Baselines in the same run: decoding the bytes only, and
// JSON.parse of the same row (what parsing costs compared with receiving the row ready-made as JSON).
// Run: npm run build && node bench/syslog/run.mjs [--rounds 5] [--messages 200000] > bench/results/syslog.json
import { spawn } from 'node:child_process';
import { startSyslogListeners } from '../../packages/server/dist/ingest/syslog/index.js';
import { parseSyslogRecord } from '../../packages/server/dist/ingest/syslog/records.js';
import { KINDS } from './messages.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg('rounds', 5);
const MESSAGES = arg('messages', 200_000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (s) => process.stderr.write(`${s}\n`);

// --- 1. parsers -------------------------------------------------------------------------------------------
const ctx = { receivedAt: Date.UTC(2024, 4, 20), peerAddress: '10.0.0.1', collectorHostName: 'bench' };
const parsers = {};
for (const [kind, gen] of Object.entries(KINDS)) {
  const inputs = Array.from({ length: 2000 }, (_, i) => Buffer.from(gen(i)));
  const bytes = inputs.reduce((a, b) => a + b.length, 0) / inputs.length;
  const sample = parseSyslogRecord(inputs[0], ctx);
  if (sample.parseError || sample.warnings) throw new Error(`${kind}: ${sample.parseError ?? sample.warnings}`);
  const rowJson = inputs.map((b) => JSON.stringify(parseSyslogRecord(b, ctx).row));
  // Rates per second of CPU time (process.cpuUsage) as well as of wall time: on a shared, loaded machine the wall
  // clock mostly measures the neighbours.
  const time = (fn) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let sink = 0;
    for (let i = 0; i < MESSAGES; i++) sink += fn(i % inputs.length) ? 1 : 0;
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    if (sink < 0) throw new Error('unreachable');
    return { wall: MESSAGES / wall, cpu: MESSAGES / ((c.user + c.system) / 1e6) };
  };
  const parse = (i) => parseSyslogRecord(inputs[i], ctx).row;
  const decode = (i) => inputs[i].toString('utf8');
  const json = (i) => JSON.parse(rowJson[i]);
  time(parse); // warm-up
  time(json);
  const r = { parse: [], decode: [], jsonParse: [] };
  for (let k = 0; k < ROUNDS; k++) {
    r.parse.push(time(parse));
    r.decode.push(time(decode));
    r.jsonParse.push(time(json));
  }
  const med = (xs, k) => Math.round(median(xs.map((x) => x[k])));
  const p = {
    table: sample.table,
    bytesPerMessage: Math.round(bytes),
    columnsPerRow: Object.keys(sample.row).length,
    messagesPerCpuSecond: med(r.parse, 'cpu'),
    messagesPerWallSecond: med(r.parse, 'wall'),
    mbPerCpuSecond: Number(((med(r.parse, 'cpu') * bytes) / 1e6).toFixed(1)),
    decodeOnlyPerCpuSecond: med(r.decode, 'cpu'),
    jsonParseOfRowPerCpuSecond: med(r.jsonParse, 'cpu'),
  };
  p.costVsJsonParse = Number((p.jsonParseOfRowPerCpuSecond / p.messagesPerCpuSecond).toFixed(2));
  parsers[kind] = p;
  log(
    `parse ${kind.padEnd(8)} ${p.messagesPerCpuSecond.toLocaleString('en')} msg/CPU-s (wall ${p.messagesPerWallSecond.toLocaleString('en')}/s, ` +
      `${p.mbPerCpuSecond} MB/CPU-s, ${p.bytesPerMessage} B/msg); JSON.parse of the same row ${p.jsonParseOfRowPerCpuSecond.toLocaleString('en')}/CPU-s (${p.costVsJsonParse}x)`,
  );
}

// --- 2. listeners -------------------------------------------------------------------------------------------
function runSender(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [new URL('./sender.mjs', import.meta.url).pathname, ...args.map(String)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`sender exited ${code}`))));
  });
}

async function listenerRun({ proto, count, connections = 1, kind = 'rfc3164', rate = 0 }) {
  let rows = 0;
  let first = 0;
  let last = 0;
  let done;
  const finished = new Promise((r) => {
    done = r;
  });
  const l = await startSyslogListeners({
    [proto === 'tcp' ? 'tcpPort' : 'udpPort']: 0,
    onRecords: (_table, batch) => {
      if (rows === 0) first = performance.now();
      rows += batch.length;
      last = performance.now();
      if (rows >= count) done();
    },
    onError: (e) => log(`listener error: ${e.message}`),
  });
  const port = proto === 'tcp' ? l.tcpPort : l.udpPort;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sender = await runSender([proto, port, count, connections, kind, rate]);
  // UDP loses datagrams under overload: stop waiting once nothing arrived for a second.
  for (;;) {
    const before = rows;
    const r = await Promise.race([
      finished.then(() => 'done'),
      new Promise((res) => setTimeout(() => res('idle'), 1000)),
    ]);
    if (r === 'done' || rows === before) break;
  }
  const stats = l.stats();
  await l.close();
  const cpu = process.cpuUsage(cpu0);
  const seconds = (last - t0) / 1000;
  const result = {
    proto,
    kind,
    connections,
    sent: count,
    received: rows,
    lossPercent: Number((((count - rows) / count) * 100).toFixed(2)),
    senderSeconds: Number(sender.seconds.toFixed(2)),
    seconds: Number(seconds.toFixed(2)),
    rowsPerSecond: Math.round(rows / seconds),
    listenerCpuMicrosPerRow: Number(((cpu.user + cpu.system) / rows).toFixed(2)),
    firstRowAfterMs: Math.round(first - t0),
    ...(rate > 0 && { offeredRatePerSecond: rate }),
    udpDropped: stats.udpDropped,
    tcpPauses: stats.tcpPauses,
    batches: stats.batches,
  };
  log(
    `${proto} ${kind} x${connections}${rate ? ` @${rate}/s` : ''}: ${result.received.toLocaleString('en')}/${count.toLocaleString('en')} rows, ` +
      `${result.rowsPerSecond.toLocaleString('en')} rows/s, loss ${result.lossPercent}%, listener ${result.listenerCpuMicrosPerRow} CPU-µs/row`,
  );
  return result;
}

const listeners = [];
listeners.push(await listenerRun({ proto: 'tcp', count: 500_000, connections: 1 }));
listeners.push(await listenerRun({ proto: 'tcp', count: 500_000, connections: 8 }));
listeners.push(await listenerRun({ proto: 'tcp', count: 200_000, connections: 4, kind: 'cef' }));
listeners.push(await listenerRun({ proto: 'udp', count: 200_000 }));
listeners.push(await listenerRun({ proto: 'udp', count: 200_000, rate: 50_000 }));
listeners.push(await listenerRun({ proto: 'udp', count: 200_000, kind: 'cef', rate: 30_000 }));
// Moderate offered rates, to show where UDP stops losing datagrams on this machine.
listeners.push(await listenerRun({ proto: 'udp', count: 100_000, rate: 10_000 }));
listeners.push(await listenerRun({ proto: 'udp', count: 50_000, kind: 'cef', rate: 5_000 }));

const load = (await import('node:os')).loadavg();
process.stdout.write(
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, loadAverage: load, rounds: ROUNDS, messages: MESSAGES, parsers, listeners }, null, 2)}\n`,
);
