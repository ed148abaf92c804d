#!/usr/bin/env node
/**
 * The demo simulator's generation speed (issue 10): rows per second of wall time and of CPU time (all threads,
 * steadier on a shared machine), then the cost of serialising them as NDJSON. Needs `npm run build`.
 *
 *   node bench/demo/generator.mjs [--devices 1000] [--minutes 30] [--seed 1]
 */
import { parseArgs } from 'node:util';
import { simulate } from '../../packages/server/dist/demo/simulator/index.js';

const { values } = parseArgs({
  options: { devices: { type: 'string' }, minutes: { type: 'string' }, seed: { type: 'string' } },
});
const devices = Number(values.devices ?? 1000);
const minutes = Number(values.minutes ?? 30);
const seed = Number(values.seed ?? 1);

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const batch = simulate({ seed, devices, startMs: Date.parse('2026-01-01T00:00:00Z'), durationMs: minutes * 60_000 });
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuS = (cpu.user + cpu.system) / 1e6;

const c1 = process.cpuUsage();
let bytes = 0;
for (const rows of batch.tables.values()) for (const r of rows) bytes += JSON.stringify(r).length + 1;
const c2 = process.cpuUsage(c1);
const serS = (c2.user + c2.system) / 1e6;

const out = {
  devices,
  simulatedMinutes: minutes,
  rows: batch.rows,
  stories: batch.stories.length,
  wallS: +wall.toFixed(2),
  cpuS: +cpuS.toFixed(2),
  rowsPerWallS: Math.round(batch.rows / wall),
  rowsPerCpuS: Math.round(batch.rows / cpuS),
  ndjsonMB: +(bytes / 1e6).toFixed(1),
  ndjsonRowsPerCpuS: Math.round(batch.rows / serS),
  tables: Object.fromEntries([...batch.tables].map(([t, r]) => [t, r.length])),
};
console.log(JSON.stringify(out, null, 2));
