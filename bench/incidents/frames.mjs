/**
 * Which tables and indexes a single-alert commit writes: alerts of the benchmark mix (alerts.mjs) go in one per
 * transaction over a copy of the seeded state (run `run.mjs` once to make the seed), and the WAL frames each commit
 * appended are mapped to b-trees with SQLite's `dbstat`. Prints frames (4 KiB pages) per alert, per kind of alert and per b-tree.
 *
 *   npm run build && node bench/incidents/frames.mjs [alerts = 300]
 */
import { copyFileSync, fstatSync, mkdirSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IncidentService } from '../../packages/server/dist/incidents/service.js';
import { SqliteDriver } from '../../packages/server/dist/state/sql-driver.js';
import { alert, alertSeq, mixEntities, rng, seedFile } from './alerts.mjs';

const N = Number(process.argv[2] ?? 300);
const dir = join(tmpdir(), `vigil-bench-incidents-frames-${process.pid}`);
mkdirSync(dir, { recursive: true });
const file = join(dir, 'state.sqlite');
copyFileSync(seedFile(join(tmpdir(), 'vigil-bench-incidents'), 100_000), file);
/** Page number → b-tree name, from SQLite's `dbstat` (read again at the end: new pages belong to b-trees too). */
const names = new Map();
function readPageNames() {
  const db = new Database(file, { readonly: true });
  for (const r of db.prepare('SELECT name, pageno FROM dbstat').iterate()) names.set(r.pageno, r.name);
  db.close();
}
readPageNames();
const state = new SqliteDriver(file, { checkpoint: 'inline' });
await state.run('PRAGMA wal_autocheckpoint = 0');
const svc = await IncidentService.open({ state });
const random = rng(5);
const fd = openSync(`${file}-wal`, 'r');
let off = 32;
const perName = new Map();
const pages = [];
const kinds = new Map();
let frames = 0;
const buf = Buffer.alloc(24);
for (let k = 0; k < N; k++) {
  const { kind, entities } = mixEntities(random, 100_000, 10_000_000 + alertSeq);
  await svc.ingestAlerts([alert(random, Date.now(), entities)]);
  const size = fstatSync(fd).size;
  let n = 0;
  while (off + 24 + 4096 <= size) {
    readSync(fd, buf, 0, 24, off);
    const pg = buf.readUInt32BE(0);
    pages.push(pg);
    off += 24 + 4096;
    n++;
  }
  frames += n;
  const kd = kinds.get(kind) ?? [0, 0];
  kd[0]++;
  kd[1] += n;
  kinds.set(kind, kd);
}
readPageNames();
for (const pg of pages) {
  const nm = names.get(pg) ?? 'free';
  perName.set(nm, (perName.get(nm) ?? 0) + 1);
}
console.log(`frames per alert ${(frames / N).toFixed(1)}`);
for (const [k, [c, f]] of kinds) console.log(`  ${k}: ${c} alerts, ${(f / c).toFixed(1)} frames each`);
for (const [nm, c] of [...perName].sort((a, b) => b[1] - a[1])) console.log(`${nm}\t${(c / N).toFixed(2)}`);
const ev = await state.get(
  'SELECT AVG(length(payload)) AS a, COUNT(*) AS n FROM inc_events WHERE seq > (SELECT MAX(seq) - 300 FROM inc_events)',
);
console.log('recent event payload avg bytes', ev);
await svc.close();
await state.close();
rmSync(dir, { recursive: true, force: true });
