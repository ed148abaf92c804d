/**
 * Entities as the incident engine sees them. Alerts carry entities in Sentinel's entity JSON (`{"$id": "3", "Type":
 * "host", "HostName": ...}`, nested objects and `{"$ref": "3"}` references in product alerts); here each becomes a
 * `NormalizedEntity` with identity keys (`host|name|ws01`, `account|sid|s-1-5-21-...`):
 *
 * - two entities of one incident are the same entity when they have the same type and share a key (de-duplication,
 *   fields are merged);
 * - a key marked `link` correlates alerts: alerts that share one may belong to one incident. Keys that identify
 *   something too weakly (an account by name alone, a well-known SID, a loopback address, a process) or too broadly
 *   (a security group) are identity-only. A few keys cross types on purpose: a mailbox and a mail recipient also
 *   carry `account|upn|<address>`, so an email alert links to the user's sign-in and endpoint alerts.
 */
import type { Entity } from '../detect/entities.js';

export interface NormalizedEntity {
  readonly type: string;
  /** Scalar fields of the entity JSON (nested entities become entities of their own). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Identity keys, all of them (de-duplication). */
  readonly keys: readonly string[];
  /** The keys that link alerts (a subset of `keys`). */
  readonly linkKeys: readonly string[];
  readonly displayName: string;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (o: Obj, k: string): string => {
  const v = o[k];
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return '';
};
const lower = (s: string) => s.toLowerCase();

/** Account names that identify nobody in particular (Sentinel drops them when they are all there is). */
const GENERIC_ACCOUNTS = new Set([
  'admin',
  'administrator',
  'system',
  'root',
  'anonymous',
  'anonymous logon',
  'authenticated user',
  'network',
  'null',
  'local system',
  'localsystem',
  'network service',
  'local service',
  'guest',
  '-',
]);
const GENERIC_DOMAINS = new Set(['nt authority', 'workgroup', 'builtin', 'font driver host', 'window manager', '-']);

/** Domain (S-1-5-21-...) and Entra ID (S-1-12-1-...) SIDs name one account; well-known SIDs name many. */
const isSpecificSid = (sid: string) => /^s-1-(5-21|12-1)-/i.test(sid);

/** Addresses that are the same everywhere and say nothing about which machine. */
function isNonRoutable(ip: string): boolean {
  const a = ip.toLowerCase();
  return (
    a === '' ||
    a === '0.0.0.0' ||
    a === '::' ||
    a === '::1' ||
    a === '255.255.255.255' ||
    a.startsWith('127.') ||
    a.startsWith('169.254.') ||
    a.startsWith('fe80:') ||
    a === '-'
  );
}

/**
 * Every entity of an alert's entity JSON (a JSON text, an array, or one object): nested entities defined inline are
 * collected too, `$ref`s are resolved; each object is returned once.
 */
export function collectEntities(raw: unknown): { readonly entities: Obj[]; readonly resolve: (v: unknown) => unknown } {
  let value = raw;
  if (typeof value === 'string') {
    if (value.trim() === '') return { entities: [], resolve: (v) => v };
    try {
      value = JSON.parse(value);
    } catch {
      return { entities: [], resolve: (v) => v };
    }
  }
  const byId = new Map<string, Obj>();
  const register = (v: unknown, depth: number): void => {
    if (depth > 16) return;
    if (Array.isArray(v)) for (const x of v) register(x, depth + 1);
    else if (isObj(v)) {
      const id = v.$id;
      if ((typeof id === 'string' || typeof id === 'number') && v.$ref === undefined) byId.set(String(id), v);
      for (const x of Object.values(v)) if (typeof x === 'object' && x !== null) register(x, depth + 1);
    }
  };
  register(value, 0);
  const resolve = (v: unknown): unknown => {
    if (isObj(v) && v.$ref !== undefined && Object.keys(v).length === 1) return byId.get(String(v.$ref)) ?? null;
    return v;
  };
  const seen = new Set<Obj>();
  const out: Obj[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 16) return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    const o = resolve(v);
    if (!isObj(o) || seen.has(o)) return;
    seen.add(o);
    if (typeof o.Type === 'string' && o.Type !== '') out.push(o);
    for (const [k, x] of Object.entries(o)) if (k !== '$ref' && typeof x === 'object' && x !== null) walk(x, depth + 1);
  };
  walk(Array.isArray(value) || !isObj(value) ? value : [value], 0);
  return { entities: out, resolve };
}

/** Scalar fields of an entity object (no `$id`, no nested objects, no empty strings). */
function scalarFields(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === '$id' || k === '$ref') continue;
    if (typeof v === 'string') {
      if (v.trim() !== '') out[k] = v;
    } else if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

class Keys {
  readonly keys: string[] = [];
  readonly linkKeys: string[] = [];
  add(key: string, link: boolean): void {
    if (!this.keys.includes(key)) this.keys.push(key);
    if (link && !this.linkKeys.includes(key)) this.linkKeys.push(key);
  }
}

function hostShortName(name: string): string {
  // An address is not a host.domain name.
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return name;
  const dot = name.indexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

function accountKeys(o: Obj, k: Keys, resolve: (v: unknown) => unknown): string {
  const name = str(o, 'Name');
  const nameL = lower(name);
  const generic = GENERIC_ACCOUNTS.has(nameL);
  const aad = str(o, 'AadUserId');
  const sid = str(o, 'Sid');
  const upnSuffix = str(o, 'UPNSuffix');
  const nt = str(o, 'NTDomain');
  const dns = str(o, 'DnsDomain');
  if (aad) k.add(`account|aad|${lower(aad)}`, true);
  if (sid) k.add(`account|sid|${lower(sid)}`, isSpecificSid(sid));
  for (const f of ['ObjectGuid', 'PUID', 'CloudAppAccountId'] as const) {
    const v = str(o, f);
    if (v) k.add(`account|${lower(f)}|${lower(v)}`, true);
  }
  let upn = '';
  if (name && upnSuffix) upn = `${nameL}@${lower(upnSuffix)}`;
  else if (name.includes('@')) upn = nameL;
  if (upn) k.add(`account|upn|${upn}`, !generic);
  if (name && nt) k.add(`account|nt|${lower(nt)}\\${nameL}`, !generic && !GENERIC_DOMAINS.has(lower(nt)));
  if (name && dns && !upn) k.add(`account|upn|${nameL}@${lower(dns)}`, !generic);
  const host = resolve(o.Host);
  if (name && isObj(host)) {
    const h = str(host, 'HostName') || str(host, 'NetBiosName');
    if (h) k.add(`account|local|${lower(hostShortName(h))}\\${nameL}`, false);
  }
  if (name && k.keys.length === 0) k.add(`account|name|${nameL}`, false);
  if (upn) return upn;
  if (name && nt) return `${nt}\\${name}`;
  return name || aad || sid || str(o, 'DisplayName');
}

function hostKeys(o: Obj, k: Keys): string {
  const hostName = str(o, 'HostName');
  const netbios = str(o, 'NetBiosName');
  const dns = str(o, 'DnsDomain');
  for (const [f, tag] of [
    ['MdatpDeviceId', 'mde'],
    ['AzureID', 'azure'],
    ['OMSAgentID', 'oms'],
  ] as const) {
    const v = str(o, f);
    if (v) k.add(`host|${tag}|${lower(v)}`, true);
  }
  const short = hostName ? hostShortName(hostName) : netbios;
  if (short) k.add(`host|name|${lower(short)}`, true);
  if (netbios && lower(netbios) !== lower(short)) k.add(`host|name|${lower(netbios)}`, true);
  if (hostName && dns && !hostName.includes('.')) return `${hostName}.${dns}`;
  return hostName || netbios || str(o, 'FQDN') || str(o, 'MdatpDeviceId') || str(o, 'AzureID');
}

function fileHashes(o: Obj, k: Keys, resolve: (v: unknown) => unknown): void {
  const list = o.FileHashes;
  if (Array.isArray(list)) {
    for (const h of list) {
      const x = resolve(h);
      if (isObj(x) && str(x, 'Value')) k.add(`filehash|${lower(str(x, 'Value'))}`, true);
    }
  }
  for (const f of ['SHA1', 'SHA256', 'MD5', 'Sha1', 'Sha256', 'Md5'] as const) {
    const v = str(o, f);
    if (v) k.add(`filehash|${lower(v)}`, true);
  }
}

/** One entity object → a normalized entity (null when it identifies nothing). */
export function normalizeEntity(o: Obj, resolve: (v: unknown) => unknown = (v) => v): NormalizedEntity | null {
  const type = typeof o.Type === 'string' ? o.Type : '';
  if (!type) return null;
  const t = type.toLowerCase();
  const k = new Keys();
  let display = '';
  switch (t) {
    case 'account':
      display = accountKeys(o, k, resolve);
      break;
    case 'host':
      display = hostKeys(o, k);
      break;
    case 'ip': {
      const a = str(o, 'Address');
      if (a) k.add(`ip|${lower(a)}`, !isNonRoutable(a));
      display = a;
      break;
    }
    case 'url': {
      const u = str(o, 'Url');
      if (u) k.add(`url|${lower(u).replace(/\/+$/, '')}`, true);
      display = u;
      break;
    }
    case 'dns': {
      const d = str(o, 'DomainName');
      if (d) k.add(`dns|${lower(d).replace(/\.$/, '')}`, true);
      display = d;
      break;
    }
    case 'filehash': {
      const v = str(o, 'Value');
      if (v) k.add(`filehash|${lower(v)}`, true);
      display = v;
      break;
    }
    case 'file': {
      fileHashes(o, k, resolve);
      const dir = str(o, 'Directory');
      const name = str(o, 'Name');
      if (name)
        k.add(dir ? `file|${lower(dir.replace(/[\\/]+$/, ''))}\\${lower(name)}` : `file|name|${lower(name)}`, false);
      display = name ? (dir ? `${dir.replace(/[\\/]+$/, '')}\\${name}` : name) : '';
      break;
    }
    case 'mailbox': {
      const addr = str(o, 'MailboxPrimaryAddress');
      if (addr) {
        k.add(`mailbox|${lower(addr)}`, true);
        k.add(`account|upn|${lower(addr)}`, true);
      }
      const upn = str(o, 'Upn');
      if (upn) k.add(`account|upn|${lower(upn)}`, true);
      const oid = str(o, 'ExternalDirectoryObjectId');
      if (oid) k.add(`account|aad|${lower(oid)}`, true);
      display = addr || upn || str(o, 'DisplayName');
      break;
    }
    case 'mail-message': {
      const id = str(o, 'NetworkMessageId');
      const recipient = str(o, 'Recipient');
      if (id) k.add(`mail-message|${lower(id)}${recipient ? `|${lower(recipient)}` : ''}`, true);
      if (recipient) k.add(`account|upn|${lower(recipient)}`, true);
      display = str(o, 'Subject') || id;
      break;
    }
    case 'cloud-application': {
      const id = str(o, 'AppId');
      const name = str(o, 'Name');
      if (id) k.add(`cloud-application|id|${lower(id)}`, true);
      if (name) k.add(`cloud-application|name|${lower(name)}`, true);
      display = name || id;
      break;
    }
    case 'azure-resource': {
      const id = str(o, 'ResourceId');
      if (id) k.add(`azure-resource|${lower(id)}`, true);
      display = id;
      break;
    }
    case 'process': {
      const pid = str(o, 'ProcessId');
      const created = str(o, 'CreationTimeUtc');
      const cmd = str(o, 'CommandLine');
      const host = resolve(o.Host);
      const h = isObj(host) ? lower(str(host, 'HostName')) : '';
      if (pid && created) k.add(`process|${h}|${pid}|${created}`, false);
      else if (cmd) k.add(`process|cmd|${h}|${lower(cmd)}`, false);
      const image = resolve(o.ImageFile);
      display = cmd || (isObj(image) ? str(image, 'Name') : '') || pid;
      break;
    }
    case 'registry-key': {
      const key = [str(o, 'Hive'), str(o, 'Key')].filter(Boolean).join('\\');
      if (key) k.add(`registry-key|${lower(key)}`, false);
      display = key;
      break;
    }
    case 'registry-value': {
      const name = str(o, 'Name');
      const key = resolve(o.Key);
      const keyText = isObj(key) ? [str(key, 'Hive'), str(key, 'Key')].filter(Boolean).join('\\') : '';
      if (name || keyText) k.add(`registry-value|${lower(keyText)}|${lower(name)}`, false);
      display = name ? (keyText ? `${keyText}\\${name}` : name) : keyText;
      break;
    }
    case 'security-group': {
      for (const f of ['SID', 'ObjectGuid', 'DistinguishedName'] as const) {
        const v = str(o, f);
        if (v) k.add(`security-group|${lower(v)}`, false);
      }
      display = str(o, 'DistinguishedName') || str(o, 'SID') || str(o, 'ObjectGuid');
      break;
    }
    case 'malware': {
      const name = str(o, 'Name');
      if (name) k.add(`malware|${lower(name)}|${lower(str(o, 'Category'))}`, false);
      display = name;
      break;
    }
    default:
      break;
  }
  const fields = scalarFields(o);
  delete (fields as { Type?: unknown }).Type;
  if (k.keys.length === 0) {
    // Anything else (logon sessions, IoT devices, mail clusters, ...) is identified by its fields.
    const entries = Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) return null;
    k.add(`${t}|fields|${lower(JSON.stringify(entries))}`, false);
  }
  if (!display) display = firstText(fields) || t;
  return { type: t, fields, keys: k.keys, linkKeys: k.linkKeys, displayName: display };
}

function firstText(fields: Obj): string {
  for (const v of Object.values(fields)) if (typeof v === 'string' && v !== '') return v;
  return '';
}

/** All entities of an alert, normalized, de-duplicated within the alert. */
export function normalizeEntities(raw: readonly Entity[] | unknown): NormalizedEntity[] {
  const { entities, resolve } = collectEntities(raw);
  const out: NormalizedEntity[] = [];
  for (const o of entities) {
    const e = normalizeEntity(o, resolve);
    if (!e) continue;
    const same = out.findIndex((x) => sameEntity(x, e));
    const prev = same >= 0 ? out[same] : undefined;
    if (prev) out[same] = mergeEntities(prev, e);
    else out.push(e);
  }
  return out;
}

/** Same type and a shared key of that type. */
export function sameEntity(a: { type: string; keys: readonly string[] }, b: { type: string; keys: readonly string[] }) {
  if (a.type !== b.type) return false;
  const prefix = `${a.type}|`;
  return a.keys.some((k) => k.startsWith(prefix) && b.keys.includes(k));
}

/** The union of two descriptions of one entity (the first one's field values win). */
export function mergeEntities(a: NormalizedEntity, b: NormalizedEntity): NormalizedEntity {
  const keys = [...a.keys];
  for (const k of b.keys) if (!keys.includes(k)) keys.push(k);
  const linkKeys = [...a.linkKeys];
  for (const k of b.linkKeys) if (!linkKeys.includes(k)) linkKeys.push(k);
  return {
    type: a.type,
    fields: { ...b.fields, ...a.fields },
    keys,
    linkKeys,
    displayName: a.displayName || b.displayName,
  };
}

/** The value part of a key (`host|name|ws01` → `ws01`), what an analyst types to filter by entity. */
export function keyValue(key: string): string {
  const parts = key.split('|');
  if (parts[0] === 'mail-message') return parts[1] ?? '';
  return parts[parts.length - 1] ?? '';
}

/** The entity type a key belongs to. */
export function keyType(key: string): string {
  const bar = key.indexOf('|');
  return bar < 0 ? key : key.slice(0, bar);
}

/**
 * The identity keys an identifier typed by an analyst may stand for (`ws01`, `ws01.contoso.com`, `alice@contoso.com`,
 * `CONTOSO\\alice`, an address, a hash, a URL, a SID, a device or object id), for finding incidents by entity.
 */
export function entityFilterKeys(value: string): string[] {
  const v = value.trim().toLowerCase();
  if (!v) return [];
  const out = [
    `host|name|${v}`,
    `host|mde|${v}`,
    `host|azure|${v}`,
    `account|upn|${v}`,
    `account|aad|${v}`,
    `account|sid|${v}`,
    `account|name|${v}`,
    `account|objectguid|${v}`,
    `ip|${v}`,
    `url|${v.replace(/\/+$/, '')}`,
    `dns|${v.replace(/\.$/, '')}`,
    `filehash|${v}`,
    `file|${v}`,
    `file|name|${v}`,
    `mailbox|${v}`,
    `cloud-application|id|${v}`,
    `cloud-application|name|${v}`,
    `azure-resource|${v}`,
    `registry-key|${v}`,
    `security-group|${v}`,
  ];
  if (v.includes('\\')) out.push(`account|nt|${v}`);
  const dot = v.indexOf('.');
  if (dot > 0 && !/^\d+\.\d+\.\d+\.\d+$/.test(v)) out.push(`host|name|${v.slice(0, dot)}`);
  return out;
}
