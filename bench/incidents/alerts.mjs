/**
 * The incident benchmarks' alerts (run.mjs, frames.mjs): deterministic random numbers, the products, tactics and
 * entities alerts carry, the seed's file name, and the mix of alert kinds a steady load is made of.
 */
import { join } from 'node:path';
import { INCIDENT_MIGRATIONS } from '../../packages/server/dist/state/incidents-repo.js';

export { rng } from '../lib/rng.mjs';

const PRODUCTS = [
  ['Microsoft Defender Advanced Threat Protection', 'MDATP', 'SecurityAlert'],
  ['Azure Advanced Threat Protection', 'Azure Advanced Threat Protection', 'SecurityAlert'],
  ['Office 365 Advanced Threat Protection', 'OATP', 'AlertInfo'],
  ['Azure Sentinel', 'ASI Scheduled Alerts', 'rule'],
];
const TACTICS = [
  'InitialAccess',
  'Execution',
  'Persistence',
  'PrivilegeEscalation',
  'DefenseEvasion',
  'CredentialAccess',
  'Discovery',
  'LateralMovement',
  'CommandAndControl',
  'Exfiltration',
  'Impact',
];
const SEVERITIES = ['Informational', 'Low', 'Medium', 'High'];
const TITLES = [
  'Suspicious PowerShell command line',
  'Credential dumping',
  'Unfamiliar sign-in properties',
  'Phishing email delivered',
  'Communication with a known C2 server',
  'Suspicious service creation',
  'Ransomware behavior',
  'Mass download',
];

export let alertSeq = 0;
export function alert(random, atMs, entities) {
  const [productName, providerName, source] = PRODUCTS[Math.floor(random() * PRODUCTS.length)];
  const t = new Date(atMs).toISOString();
  return {
    alertId: `bench-${process.pid}-${++alertSeq}`,
    source,
    ruleId: source === 'rule' ? `rule-${Math.floor(random() * 50)}` : null,
    ruleName: null,
    title: TITLES[Math.floor(random() * TITLES.length)],
    description: 'benchmark alert',
    severity: SEVERITIES[Math.floor(random() * 4)],
    status: 'New',
    tactics: [TACTICS[Math.floor(random() * TACTICS.length)]],
    techniques: [`T1${String(Math.floor(random() * 600)).padStart(3, '0')}`],
    vendorName: 'Microsoft',
    productName,
    providerName,
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

export const hostE = (n) => ({
  Type: 'host',
  HostName: `ws-${n}`,
  DnsDomain: 'contoso.com',
  MdatpDeviceId: `dev-${n}`,
});
export const userE = (n) => ({ Type: 'account', Name: `user${n}`, UPNSuffix: 'contoso.com', AadUserId: `aad-${n}` });
export const ipE = (n) => ({ Type: 'ip', Address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` });
export const DC = { Type: 'host', HostName: 'dc01', DnsDomain: 'contoso.com', MdatpDeviceId: 'dev-dc01' };

export const USERS = 60_000;

/**
 * The seed of `incidents` open incidents under `cache`, named by the schema's last migration: a seed migrated at
 * open would carry freshly built (packed) indexes, whose page splits inflate the writes of every alert in the first
 * minutes of a run (measured with frames.mjs: the activity index of migration 601 cost 25 frames per alert over the
 * first 60 alerts, ~1.5 once built over time).
 */
export function seedFile(cache, incidents) {
  const schemaVersion = Math.max(...INCIDENT_MIGRATIONS.map((m) => m.version));
  return join(cache, `seed-${incidents}-v${schemaVersion}.sqlite`);
}

/**
 * One alert's entities in the benchmark mix, over `incidents` seeded hosts: 40% join an open incident by host, 5%
 * bridge two incidents (a merge), 10% carry the common domain controller, 45% are new. `fresh` numbers new entities.
 */
export function mixEntities(random, incidents, fresh) {
  const r = random();
  if (r < 0.4) return { kind: 'join', entities: [hostE(Math.floor(random() * incidents)), ipE(fresh)] };
  if (r < 0.45) {
    return {
      kind: 'bridge',
      entities: [hostE(Math.floor(random() * incidents)), hostE(Math.floor(random() * incidents))],
    };
  }
  if (r < 0.55) return { kind: 'common', entities: [DC, hostE(fresh), ipE(fresh)] };
  return { kind: 'new', entities: [hostE(fresh), userE(USERS + fresh), ipE(fresh)] };
}
