/**
 * Which tables and indexes a single-alert commit writes: alerts of the benchmark mix go in one per transaction over a
 * copy of the seeded state (run `run.mjs` once to make the seed), and the WAL frames each commit appended are mapped
 * to b-trees with SQLite's `dbstat`. Prints frames (4 KiB pages) per alert, per kind of alert and per b-tree.
 *
 *   npm run build && node bench/incidents/frames.mjs [alerts = 300]
 */
import { copyFileSync, fstatSync, mkdirSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IncidentService } from '../../packages/server/dist/incidents/service.js';
import { INCIDENT_MIGRATIONS } from '../../packages/server/dist/state/incidents-repo.js';
import { SqliteDriver } from '../../packages/server/dist/state/sql-driver.js';

const N = Number(process.argv[2] ?? 300);
const seed = join(
  tmpdir(),
  'vigil-bench-incidents',
  `seed-100000-v${Math.max(...INCIDENT_MIGRATIONS.map((m) => m.version))}.sqlite`,
);
const dir = join(tmpdir(), `vigil-bench-incidents-frames-${process.pid}`);
mkdirSync(dir, { recursive: true });
const file = join(dir, 'state.sqlite');
copyFileSync(seed, file);
const names = new Map();
{
  const db = new Database(file, { readonly: true });
  for (const r of db.prepare('SELECT name, pageno FROM dbstat').iterate()) names.set(r.pageno, r.name);
  db.close();
}
const state = new SqliteDriver(file, { checkpoint: 'inline' });
await state.run('PRAGMA wal_autocheckpoint = 0');
const svc = await IncidentService.open({ state });
let seq = 0;
let r = 1;
const rnd = () => {
  r = (r * 16807) % 2147483647;
  return r / 2147483647;
};
const hostE = (n) => ({ Type: 'host', HostName: `ws-${n}`, DnsDomain: 'contoso.com', MdatpDeviceId: `dev-${n}` });
const userE = (n) => ({ Type: 'account', Name: `user${n}`, UPNSuffix: 'contoso.com', AadUserId: `aad-${n}` });
const ipE = (n) => ({ Type: 'ip', Address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` });
const DC = { Type: 'host', HostName: 'dc01', DnsDomain: 'contoso.com', MdatpDeviceId: 'dev-dc01' };
function alert(entities) {
  const t = new Date().toISOString();
  return {
    alertId: `fr-${process.pid}-${++seq}`,
    source: 'SecurityAlert',
    ruleId: null,
    ruleName: null,
    title: 'Credential dumping',
    description: 'benchmark alert',
    severity: 'High',
    status: 'New',
    tactics: ['Execution'],
    techniques: ['T1059'],
    vendorName: 'Microsoft',
    productName: 'Microsoft Defender Advanced Threat Protection',
    providerName: 'MDATP',
    productComponentName: '',
    startTime: t,
    endTime: t,
    timeGenerated: t,
    entities,
    customDetails: {},
    compromisedEntity: '',
    alertLink: '',
    createIncident: true,
    incidentConfiguration: null,
  };
}
const fd = openSync(`${file}-wal`, 'r');
let off = 32;
const perName = new Map();
const pages = [];
const kinds = new Map();
let frames = 0;
const buf = Buffer.alloc(24);
for (let k = 0; k < N; k++) {
  const x = rnd();
  const fresh = 10_000_000 + seq;
  let e;
  let kind;
  if (x < 0.4) {
    kind = 'join';
    e = [hostE(Math.floor(rnd() * 100000)), ipE(fresh)];
  } else if (x < 0.45) {
    kind = 'bridge';
    e = [hostE(Math.floor(rnd() * 100000)), hostE(Math.floor(rnd() * 100000))];
  } else if (x < 0.55) {
    kind = 'common';
    e = [DC, hostE(fresh), ipE(fresh)];
  } else {
    kind = 'new';
    e = [hostE(fresh), userE(60000 + fresh), ipE(fresh)];
  }
  await svc.ingestAlerts([alert(e)]);
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
{
  const db = new Database(file, { readonly: true });
  for (const r of db.prepare('SELECT name, pageno FROM dbstat').iterate()) names.set(r.pageno, r.name);
  db.close();
}
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
