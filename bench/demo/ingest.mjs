#!/usr/bin/env node
/**
 * End-to-end ingestion of the demo's simulated data (issue 10): a Vigil server in process (embedded DuckDB +
 * SQLite, no rules running), a token with the ingest scope, and N simulated minutes of the company posted through
 * the same HTTP path `vigil demo` uses (Defender streaming-API records, per-table NDJSON, product alerts) as fast
 * as the server answers. Reports generated rows, rows/s end to end, and the rows the engine holds afterwards.
 * Needs `npm run build`.
 *
 *   node bench/demo/ingest.mjs [--devices 200] [--minutes 60] [--step 60]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startVigil } from '../../packages/server/dist/api/server.js';
import { Sender } from '../../packages/server/dist/demo/runner.js';
import { Simulator } from '../../packages/server/dist/demo/simulator/index.js';

const { values } = parseArgs({
  options: { devices: { type: 'string' }, minutes: { type: 'string' }, step: { type: 'string' } },
});
const devices = Number(values.devices ?? 200);
const minutes = Number(values.minutes ?? 60);
const stepS = Number(values.step ?? 60);

const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-demo-'));
const password = `bench-${Date.now()}-Pw!`;
const server = await startVigil({
  dataDir: dir,
  port: 0,
  initialAdminPassword: password,
  workspace: { scheduler: false, automation: false },
});
try {
  const ws = server.manager.get('default');
  const admin = await server.auth.findUserByName('admin');
  const { value } = await server.auth.createToken(admin.id, { name: 'bench', scopes: ['ingest'], workspaceId: ws.id });
  const problems = [];
  const sender = new Sender(`${server.url}/api/workspaces/default`, value, ws.id, (l) => problems.push(l));
  const sim = new Simulator({ seed: 1, devices, startMs: Date.now() - minutes * 60_000 });
  let rows = 0;
  let sent = 0;
  const tables = new Set();
  let generateMs = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let s = stepS; s <= minutes * 60; s += stepS) {
    const g = performance.now();
    const batch = sim.advanceTo(s * 1000);
    generateMs += performance.now() - g;
    rows += batch.rows;
    for (const t of batch.tables.keys()) tables.add(t);
    const r = await sender.send(batch);
    sent += r.rows;
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const stats = await ws.engine.stats();
  // Only the simulated tables (the incident queue writes SecurityIncident rows of its own).
  const stored = stats.filter((t) => tables.has(t.table)).reduce((n, t) => n + (t.rows ?? 0), 0);
  console.log(
    JSON.stringify(
      {
        devices,
        simulatedMinutes: minutes,
        requestEvery: `${stepS} simulated s`,
        rowsGenerated: rows,
        rowsAcknowledged: sent,
        rowsStored: stored,
        wallS: +wall.toFixed(2),
        generateS: +(generateMs / 1000).toFixed(2),
        processCpuS: +((cpu.user + cpu.system) / 1e6).toFixed(2),
        rowsPerWallS: Math.round(sent / wall),
        problems: problems.slice(0, 5),
      },
      null,
      2,
    ),
  );
} finally {
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
