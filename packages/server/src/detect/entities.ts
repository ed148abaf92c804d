/**
 * Sentinel entities: the entity types and identifiers an analytics rule may map result columns to (Sentinel's
 * "entity types and identifiers" reference), and how a mapping turns result rows into the entity objects stored in
 * `SecurityAlert.Entities` (`{"$id": "2", "Type": "account", "Name": ..., ...}`).
 */
import type { EntityMapping } from './model.js';

export interface EntityTypeInfo {
  /** The name rules use in `entityType`. */
  readonly name: string;
  /** The `Type` value in the entity JSON. */
  readonly type: string;
  /** Identifiers a field mapping may use. */
  readonly identifiers: readonly string[];
  /** Identifier sets that identify an entity on their own (Sentinel's strong identifiers, mappable parts). */
  readonly strong: readonly (readonly string[])[];
}

const T = (
  name: string,
  type: string,
  identifiers: readonly string[],
  strong: readonly (readonly string[])[],
): EntityTypeInfo => ({ name, type, identifiers, strong });

export const ENTITY_TYPES: readonly EntityTypeInfo[] = [
  T(
    'Account',
    'account',
    [
      'Name',
      'FullName',
      'NTDomain',
      'DnsDomain',
      'UPNSuffix',
      'Sid',
      'AadTenantId',
      'AadUserId',
      'PUID',
      'IsDomainJoined',
      'DisplayName',
      'ObjectGuid',
      'CloudAppAccountId',
    ],
    [
      ['Name', 'UPNSuffix'],
      ['AadUserId'],
      ['Sid'],
      ['Name', 'NTDomain'],
      ['Name', 'DnsDomain'],
      ['PUID'],
      ['ObjectGuid'],
    ],
  ),
  T(
    'Host',
    'host',
    [
      'DnsDomain',
      'NTDomain',
      'HostName',
      'FullName',
      'NetBiosName',
      'AzureID',
      'OMSAgentID',
      'OSFamily',
      'OSVersion',
      'IsDomainJoined',
    ],
    [
      ['HostName', 'NTDomain'],
      ['HostName', 'DnsDomain'],
      ['NetBiosName', 'NTDomain'],
      ['NetBiosName', 'DnsDomain'],
      ['AzureID'],
      ['OMSAgentID'],
    ],
  ),
  T('IP', 'ip', ['Address', 'AddressScope'], [['Address']]),
  T('URL', 'url', ['Url'], [['Url']]),
  T('AzureResource', 'azure-resource', ['ResourceId'], [['ResourceId']]),
  T('CloudApplication', 'cloud-application', ['AppId', 'Name', 'InstanceName'], [['AppId'], ['Name']]),
  T('DNS', 'dns', ['DomainName'], [['DomainName']]),
  T('File', 'file', ['Directory', 'Name'], [['Directory', 'Name']]),
  T('FileHash', 'filehash', ['Algorithm', 'Value'], [['Algorithm', 'Value']]),
  T('Malware', 'malware', ['Name', 'Category'], [['Name', 'Category']]),
  T(
    'Process',
    'process',
    ['ProcessId', 'CommandLine', 'ElevationToken', 'CreationTimeUtc'],
    [['ProcessId', 'CreationTimeUtc']],
  ),
  T('RegistryKey', 'registry-key', ['Hive', 'Key'], [['Hive', 'Key']]),
  T('RegistryValue', 'registry-value', ['Name', 'Value', 'ValueType'], [['Name']]),
  T(
    'SecurityGroup',
    'security-group',
    ['DistinguishedName', 'SID', 'ObjectGuid'],
    [['DistinguishedName'], ['SID'], ['ObjectGuid']],
  ),
  T(
    'Mailbox',
    'mailbox',
    ['MailboxPrimaryAddress', 'DisplayName', 'Upn', 'ExternalDirectoryObjectId', 'RiskLevel'],
    [['MailboxPrimaryAddress']],
  ),
  T(
    'MailCluster',
    'mail-cluster',
    [
      'NetworkMessageIds',
      'CountByDeliveryStatus',
      'CountByThreatType',
      'CountByProtectionStatus',
      'Threats',
      'Query',
      'QueryTime',
      'MailCount',
      'IsVolumeAnomaly',
      'Source',
      'ClusterSourceIdentifier',
      'ClusterSourceType',
      'ClusterQueryStartTime',
      'ClusterQueryEndTime',
      'ClusterGroup',
    ],
    [['Query', 'Source']],
  ),
  T(
    'MailMessage',
    'mail-message',
    [
      'Recipient',
      'Urls',
      'Threats',
      'Sender',
      'P1Sender',
      'P1SenderDisplayName',
      'P1SenderDomain',
      'SenderIP',
      'P2Sender',
      'P2SenderDisplayName',
      'P2SenderDomain',
      'ReceivedDate',
      'NetworkMessageId',
      'InternetMessageId',
      'Subject',
      'BodyFingerprintBin1',
      'BodyFingerprintBin2',
      'BodyFingerprintBin3',
      'BodyFingerprintBin4',
      'BodyFingerprintBin5',
      'AntispamDirection',
      'DeliveryAction',
      'DeliveryLocation',
      'Language',
      'ThreatDetectionMethods',
    ],
    [['NetworkMessageId', 'Recipient']],
  ),
  T(
    'SubmissionMail',
    'SubmissionMail',
    [
      'NetworkMessageId',
      'Timestamp',
      'Recipient',
      'Sender',
      'SenderIp',
      'Subject',
      'ReportType',
      'SubmissionId',
      'SubmissionDate',
      'Submitter',
    ],
    [['SubmissionId', 'NetworkMessageId', 'Recipient', 'Submitter']],
  ),
];

const BY_KEY = new Map(ENTITY_TYPES.map((t) => [normalizeTypeName(t.name), t] as const));
// Spellings found in real rule files and the docs' display names.
for (const [alias, name] of [
  ['filehash', 'FileHash'],
  ['dnsresolution', 'DNS'],
  ['azureresource', 'AzureResource'],
  ['cloudapplication', 'CloudApplication'],
  ['registrykey', 'RegistryKey'],
  ['registryvalue', 'RegistryValue'],
  ['securitygroup', 'SecurityGroup'],
  ['mailcluster', 'MailCluster'],
  ['mailmessage', 'MailMessage'],
  ['submissionmail', 'SubmissionMail'],
] as const) {
  const t = ENTITY_TYPES.find((x) => x.name === name);
  if (t) BY_KEY.set(alias, t);
}

function normalizeTypeName(name: string): string {
  return name.replace(/[\s_-]/g, '').toLowerCase();
}

/** The entity type a rule names (tolerating `File hash`-style spellings), if it exists. */
export function entityType(name: string): EntityTypeInfo | undefined {
  return BY_KEY.get(normalizeTypeName(name));
}

/** The identifier as the type spells it (identifiers are matched case-insensitively, as Sentinel does). */
export function entityIdentifier(type: EntityTypeInfo, identifier: string): string | undefined {
  const lower = identifier.toLowerCase();
  return type.identifiers.find((i) => i.toLowerCase() === lower);
}

/** An entity as stored in `SecurityAlert.Entities` (without `$id`, assigned when the alert is assembled). */
export type Entity = { readonly Type: string } & Readonly<Record<string, unknown>>;

/** Generic account names Sentinel drops when an account is identified by its name alone. */
const BUILT_IN_ACCOUNTS = new Set([
  'ADMIN',
  'ADMINISTRATOR',
  'SYSTEM',
  'ROOT',
  'ANONYMOUS',
  'AUTHENTICATED USER',
  'NETWORK',
  'NULL',
  'LOCAL SYSTEM',
  'LOCALSYSTEM',
  'NETWORK SERVICE',
]);

const BOOLEAN_IDENTIFIERS = new Set(['IsDomainJoined', 'IsVolumeAnomaly']);

/** A cell as an identifier value: text for scalars, JSON for arrays and bags; null when empty. */
function cellValue(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v.trim() === '' ? null : v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** `DOMAIN\name` and `name@suffix` forms of an account's full name. */
function splitAccount(full: string, into: Record<string, unknown>): void {
  const slash = full.indexOf('\\');
  if (slash > 0) {
    into.NTDomain = full.slice(0, slash);
    into.Name = full.slice(slash + 1);
    return;
  }
  const at = full.lastIndexOf('@');
  if (at > 0) {
    into.Name = full.slice(0, at);
    into.UPNSuffix = full.slice(at + 1);
    return;
  }
  into.Name = full;
}

/** `host.dns.domain` and `DOMAIN\host` forms of a host's full name. */
function splitHost(full: string, into: Record<string, unknown>): void {
  const slash = full.indexOf('\\');
  if (slash > 0) {
    into.NTDomain = full.slice(0, slash);
    into.HostName = full.slice(slash + 1);
    return;
  }
  // An IP address is not a host.domain name.
  const dot = /^\d+\.\d+\.\d+\.\d+$/.test(full) ? -1 : full.indexOf('.');
  if (dot > 0) {
    into.HostName = full.slice(0, dot);
    into.DnsDomain = full.slice(dot + 1);
    return;
  }
  into.HostName = full;
}

/** One entity from one row, or null when the row gives none of the mapped identifiers. */
export function entityFromRow(mapping: EntityMapping, column: (name: string) => unknown): Entity | null {
  const type = entityType(mapping.entityType);
  if (!type) return null;
  const fields: Record<string, unknown> = {};
  for (const f of mapping.fieldMappings) {
    const identifier = entityIdentifier(type, f.identifier);
    if (!identifier) continue;
    const value = cellValue(column(f.columnName));
    if (value === null) continue;
    if (identifier === 'FullName' && type.name === 'Account') splitAccount(value, fields);
    else if (identifier === 'FullName' && type.name === 'Host') splitHost(value, fields);
    else if (BOOLEAN_IDENTIFIERS.has(identifier)) fields[identifier] = /^(true|1)$/i.test(value);
    else fields[identifier] = value;
  }
  const keys = Object.keys(fields);
  if (keys.length === 0) return null;
  if (type.name === 'Account' && keys.length === 1 && typeof fields.Name === 'string') {
    if (BUILT_IN_ACCOUNTS.has(fields.Name.toUpperCase())) return null;
  }
  return { Type: type.type, ...fields };
}

/** Entities given as JSON by a column (`sentinelEntitiesMappings`): an array of entity objects, or one. */
export function entitiesFromJson(value: unknown): Entity[] {
  let v = value;
  if (typeof v === 'string') {
    if (v.trim() === '') return [];
    try {
      v = JSON.parse(v);
    } catch {
      return [];
    }
  }
  const list = Array.isArray(v) ? v : [v];
  const out: Entity[] = [];
  for (const e of list) {
    if (e && typeof e === 'object' && !Array.isArray(e) && typeof (e as { Type?: unknown }).Type === 'string') {
      const { $id: _id, ...rest } = e as Record<string, unknown>;
      out.push(rest as Entity);
    }
  }
  return out;
}

/** A stable identity for de-duplicating entities within an alert. */
export function entityKey(e: Entity): string {
  const keys = Object.keys(e).sort();
  return JSON.stringify(keys.map((k) => [k, e[k]]));
}

/** Entities with `$id`s in order, de-duplicated, at most `max`. */
export function assembleEntities(entities: readonly Entity[], max: number): { list: Entity[]; truncated: boolean } {
  const seen = new Set<string>();
  const list: Entity[] = [];
  let truncated = false;
  for (const e of entities) {
    const key = entityKey(e);
    if (seen.has(key)) continue;
    seen.add(key);
    if (list.length >= max) {
      truncated = true;
      break;
    }
    list.push({ $id: String(list.length + 2), ...e } as Entity);
  }
  return { list, truncated };
}

/** The display name Sentinel shows for an entity (CompromisedEntity: the first host or account). */
export function entityDisplayName(e: Entity): string {
  const s = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : '');
  switch (e.Type) {
    case 'host':
      return s('HostName') ? (s('DnsDomain') ? `${s('HostName')}.${s('DnsDomain')}` : s('HostName')) : s('NetBiosName');
    case 'account':
      if (s('UPNSuffix')) return `${s('Name')}@${s('UPNSuffix')}`;
      if (s('NTDomain')) return `${s('NTDomain')}\\${s('Name')}`;
      return s('Name') || s('AadUserId') || s('Sid');
    case 'ip':
      return s('Address');
    case 'url':
      return s('Url');
    case 'azure-resource':
      return s('ResourceId');
    default:
      return '';
  }
}
