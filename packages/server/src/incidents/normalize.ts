/**
 * The alert the incident engine consumes, whatever raised it:
 * - a Vigil rule (`DetectionAlert`, from the detection service);
 * - a security product, as a `SecurityAlert` row (Sentinel's schema: Defender for Endpoint, Identity, Office 365,
 *   Cloud Apps, Entra ID Protection, Defender for Cloud, or any connector marked as an alert source; the legacy
 *   column names of old exports are accepted);
 * - a security product, as Defender XDR advanced-hunting rows: one `AlertInfo` row and its `AlertEvidence` rows
 *   (evidence may arrive first, alone, or later: any of them makes the alert, later rows add to it).
 */
import type { DetectionAlert } from '../detect/alerts.js';
import { SEVERITIES, type Severity } from '../detect/model.js';
import { canonicalTactic, sortTactics } from './naming.js';

export type AlertSource = 'rule' | 'SecurityAlert' | 'AlertInfo';

export interface NormalizedAlert {
  /** Sentinel's `SystemAlertId` (Defender's `AlertId`). */
  readonly alertId: string;
  readonly source: AlertSource;
  /** The Vigil rule that raised it (rule alerts), or the product's detector/alert type. */
  readonly ruleId: string | null;
  readonly ruleName: string | null;
  readonly title: string;
  readonly description: string;
  readonly severity: Severity;
  readonly status: string;
  /** Sentinel tactic names in kill-chain order. */
  readonly tactics: readonly string[];
  /** MITRE technique ids (`T1059`, `T1059.001`). */
  readonly techniques: readonly string[];
  readonly vendorName: string;
  readonly productName: string;
  readonly providerName: string;
  readonly productComponentName: string;
  /** ISO times: when the activity started and ended, and when the alert was generated. */
  readonly startTime: string;
  readonly endTime: string;
  readonly timeGenerated: string;
  /** Sentinel entity JSON objects (nested objects and `$ref`s allowed). */
  readonly entities: readonly unknown[];
  readonly customDetails: Readonly<Record<string, readonly unknown[]>>;
  readonly compromisedEntity: string;
  readonly alertLink: string;
  /** Rule alerts: the rule's wish to create an incident (`incidentConfiguration.createIncident`). */
  readonly createIncident: boolean;
  /** Rule alerts: `incidentConfiguration` as the rule file wrote it. */
  readonly incidentConfiguration: Readonly<Record<string, unknown>> | null;
}

/** Products, as Defender XDR names its services and as Sentinel's SecurityAlert names them. */
export interface ProductInfo {
  readonly serviceSource: string;
  readonly productName: string;
  readonly providerName: string;
  /** What the product watches (naming says "reported by multiple sources" when these differ). */
  readonly family: 'endpoint' | 'identity' | 'email' | 'cloud-apps' | 'cloud' | 'xdr' | 'siem' | 'other';
}

export const PRODUCTS: readonly ProductInfo[] = [
  {
    serviceSource: 'Microsoft Defender for Endpoint',
    productName: 'Microsoft Defender Advanced Threat Protection',
    providerName: 'MDATP',
    family: 'endpoint',
  },
  {
    serviceSource: 'Microsoft Defender for Identity',
    productName: 'Azure Advanced Threat Protection',
    providerName: 'Azure Advanced Threat Protection',
    family: 'identity',
  },
  {
    serviceSource: 'Microsoft Defender for Office 365',
    productName: 'Office 365 Advanced Threat Protection',
    providerName: 'OATP',
    family: 'email',
  },
  {
    serviceSource: 'Microsoft Defender for Cloud Apps',
    productName: 'Microsoft Cloud App Security',
    providerName: 'MCAS',
    family: 'cloud-apps',
  },
  {
    serviceSource: 'Microsoft Entra ID Protection',
    productName: 'Azure Active Directory Identity Protection',
    providerName: 'IPC',
    family: 'identity',
  },
  {
    serviceSource: 'Microsoft Defender for Cloud',
    productName: 'Azure Security Center',
    providerName: 'Azure Security Center',
    family: 'cloud',
  },
  {
    serviceSource: 'Microsoft Defender XDR',
    productName: 'Microsoft 365 Defender',
    providerName: 'MTP',
    family: 'xdr',
  },
  {
    serviceSource: 'Microsoft Data Loss Prevention',
    productName: 'Microsoft Data Loss Prevention',
    providerName: 'Microsoft Data Loss Prevention',
    family: 'other',
  },
  {
    serviceSource: 'Microsoft Sentinel',
    productName: 'Azure Sentinel',
    providerName: 'ASI Scheduled Alerts',
    family: 'siem',
  },
];

const PRODUCT_ALIASES: Readonly<Record<string, string>> = {
  'microsoft 365 defender': 'Microsoft Defender XDR',
  'microsoft defender for cloud app security': 'Microsoft Defender for Cloud Apps',
  'microsoft cloud app security': 'Microsoft Defender for Cloud Apps',
  'azure active directory identity protection': 'Microsoft Entra ID Protection',
  'aad identity protection': 'Microsoft Entra ID Protection',
  'microsoft sentinel': 'Microsoft Sentinel',
  'azure sentinel': 'Microsoft Sentinel',
  microsoftdefenderforendpoint: 'Microsoft Defender for Endpoint',
  microsoftdefenderforidentity: 'Microsoft Defender for Identity',
  microsoftdefenderforoffice365: 'Microsoft Defender for Office 365',
  microsoftdefenderforcloudapps: 'Microsoft Defender for Cloud Apps',
  microsoft365defender: 'Microsoft Defender XDR',
  azureadidentityprotection: 'Microsoft Entra ID Protection',
  microsoftdefenderforcloud: 'Microsoft Defender for Cloud',
};

/** A product by any of its names (service source, SecurityAlert product or provider name, Graph's enum). */
export function productInfo(name: string): ProductInfo | undefined {
  const l = name.trim().toLowerCase();
  if (!l) return undefined;
  const alias = PRODUCT_ALIASES[l] ?? PRODUCT_ALIASES[l.replace(/\s/g, '')];
  return PRODUCTS.find(
    (p) =>
      (alias && p.serviceSource === alias) ||
      p.serviceSource.toLowerCase() === l ||
      p.productName.toLowerCase() === l ||
      p.providerName.toLowerCase() === l,
  );
}

/** The "source" of an alert for naming: its product family, or its product name. */
export function sourceOf(productName: string, providerName: string): string {
  const p = productInfo(productName) ?? productInfo(providerName);
  return p ? p.family : productName.toLowerCase() || providerName.toLowerCase();
}

export function severityOf(v: unknown, fallback: Severity = 'Medium'): Severity {
  const t = typeof v === 'string' ? v.trim().toLowerCase() : '';
  return SEVERITIES.find((s) => s.toLowerCase() === t) ?? (t === 'informational' ? 'Informational' : fallback);
}

/** A list from a cell: a JSON array (text or value), or comma-separated text. */
export function listOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x.trim() : String(x))).filter(Boolean);
  if (typeof v !== 'string') return [];
  const t = v.trim();
  if (t.startsWith('[')) {
    try {
      const parsed = JSON.parse(t) as unknown;
      if (Array.isArray(parsed)) return listOf(parsed);
    } catch {
      // not JSON: a comma-separated list
    }
  }
  return t
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Tactics in Sentinel's spelling, kill-chain ordered; unknown words are dropped. */
export function tacticsOf(values: readonly string[]): string[] {
  return sortTactics(values.map(canonicalTactic).filter((t): t is string => t !== null));
}

/** Technique ids found in text such as `PowerShell (T1059.001)` or `T1566, T1204.002`. */
export function techniquesOf(values: readonly string[]): string[] {
  const out = new Set<string>();
  for (const v of values) for (const m of v.matchAll(/\bT\d{4}(?:\.\d{3})?\b/gi)) out.add(m[0].toUpperCase());
  return [...out];
}

/** A datetime cell as ISO text (ISO strings, `2019-01-11 06:31:40`, epoch ms), or null. */
export function isoTime(v: unknown): string | null {
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.toISOString() : null;
  if (typeof v === 'number' && Number.isFinite(v)) return new Date(v).toISOString();
  if (typeof v !== 'string' || v.trim() === '') return null;
  let t = v.trim();
  // `2019-01-11 06:31:40` (exports) is UTC.
  if (/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(t)) t = `${t.replace(' ', 'T')}Z`;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));

function parseJsonObject(v: unknown): Record<string, unknown> {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  if (typeof v !== 'string' || !v.trim().startsWith('{')) return {};
  try {
    const o = JSON.parse(v) as unknown;
    return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function parseEntityList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string' && v.trim() !== '') {
    try {
      const parsed = JSON.parse(v) as unknown;
      return Array.isArray(parsed) ? parsed : parsed && typeof parsed === 'object' ? [parsed] : [];
    } catch {
      return [];
    }
  }
  return [];
}

/** From a Vigil rule's alert. */
export function fromDetectionAlert(a: DetectionAlert): NormalizedAlert {
  return {
    alertId: a.systemAlertId,
    source: 'rule',
    ruleId: a.ruleId,
    ruleName: a.ruleName,
    title: a.alertName,
    description: a.description,
    severity: a.severity,
    status: 'New',
    tactics: tacticsOf(a.tactics),
    techniques: [...new Set([...a.techniques, ...a.subTechniques])],
    vendorName: a.vendorName,
    productName: a.productName,
    providerName: a.providerName,
    productComponentName: a.productComponentName,
    startTime: a.startTime,
    endTime: a.endTime,
    timeGenerated: a.timeGenerated,
    entities: a.entities,
    customDetails: a.customDetails,
    compromisedEntity: a.compromisedEntity,
    alertLink: a.alertLink,
    createIncident: a.createIncident,
    incidentConfiguration: a.incidentConfiguration,
  };
}

export interface RowProblem {
  readonly index: number;
  readonly message: string;
}

/**
 * From a `SecurityAlert` row (KQL column names; legacy `AlertDisplayName`, `Severity`, `StartTimeUtc`, ... too).
 * Alerts of Sentinel rules that Vigil did not run carry their rule id in `ExtendedProperties["Analytic Rule Ids"]`.
 */
export function fromSecurityAlertRow(row: Readonly<Record<string, unknown>>, nowIso: string): NormalizedAlert | string {
  const id = text(row.SystemAlertId || row.ProviderAlertId || row.VendorOriginalId).trim();
  if (!id) return 'the row has no SystemAlertId';
  const ext = parseJsonObject(row.ExtendedProperties);
  const ruleIds = listOf(ext['Analytic Rule Ids']);
  const generated = isoTime(row.TimeGenerated) ?? isoTime(row.ProcessingEndTime) ?? nowIso;
  const start = isoTime(row.StartTime) ?? isoTime(row.StartTimeUtc) ?? generated;
  const end = isoTime(row.EndTime) ?? isoTime(row.EndTimeUtc) ?? start;
  const customRaw = parseJsonObject(ext['Custom Details']);
  const customDetails: Record<string, unknown[]> = {};
  for (const [k, v] of Object.entries(customRaw)) customDetails[k] = Array.isArray(v) ? v : [v];
  const productName = text(row.ProductName);
  const providerName = text(row.ProviderName);
  const product = productInfo(productName) ?? productInfo(providerName);
  return {
    alertId: id,
    source: 'SecurityAlert',
    ruleId: ruleIds[0] ?? (text(row.AlertType) || null),
    ruleName: text(ext['Analytic Rule Name']) || null,
    title: text(row.AlertName || row.DisplayName || row.AlertDisplayName) || 'Alert',
    description: text(row.Description),
    severity: severityOf(row.AlertSeverity ?? row.Severity),
    status: text(row.Status) || 'New',
    tactics: tacticsOf(listOf(row.Tactics)),
    techniques: techniquesOf([...listOf(row.Techniques), ...listOf(row.SubTechniques)]),
    vendorName: text(row.VendorName),
    productName: productName || product?.productName || '',
    providerName: providerName || product?.providerName || '',
    productComponentName: text(row.ProductComponentName),
    startTime: start,
    endTime: end,
    timeGenerated: generated,
    entities: parseEntityList(row.Entities),
    customDetails,
    compromisedEntity: text(row.CompromisedEntity),
    alertLink: text(row.AlertLink),
    createIncident: true,
    incidentConfiguration: null,
  };
}

/** Evidence rows → entity objects (Sentinel's entity JSON), by `EntityType`. */
export function evidenceEntities(row: Readonly<Record<string, unknown>>): Record<string, unknown>[] {
  const t = text(row.EntityType).toLowerCase();
  const out: Record<string, unknown>[] = [];
  const s = (k: string) => text(row[k]).trim();
  switch (t) {
    case 'user': {
      const e: Record<string, unknown> = { Type: 'account' };
      const upn = s('AccountUpn');
      if (upn.includes('@')) {
        e.Name = upn.slice(0, upn.lastIndexOf('@'));
        e.UPNSuffix = upn.slice(upn.lastIndexOf('@') + 1);
      } else if (s('AccountName')) e.Name = s('AccountName');
      if (s('AccountDomain')) e.NTDomain = s('AccountDomain');
      if (s('AccountSid')) e.Sid = s('AccountSid');
      if (s('AccountObjectId')) e.AadUserId = s('AccountObjectId');
      out.push(e);
      break;
    }
    case 'machine':
    case 'device': {
      const e: Record<string, unknown> = { Type: 'host' };
      const name = s('DeviceName');
      if (name) {
        const dot = /^\d+\.\d+\.\d+\.\d+$/.test(name) ? -1 : name.indexOf('.');
        e.HostName = dot > 0 ? name.slice(0, dot) : name;
        if (dot > 0) e.DnsDomain = name.slice(dot + 1);
      }
      if (s('DeviceId')) e.MdatpDeviceId = s('DeviceId');
      out.push(e);
      break;
    }
    case 'ip':
      for (const a of [s('RemoteIP'), s('LocalIP')]) if (a) out.push({ Type: 'ip', Address: a });
      break;
    case 'url':
      if (s('RemoteUrl')) out.push({ Type: 'url', Url: s('RemoteUrl') });
      break;
    case 'file': {
      const hashes: Record<string, unknown>[] = [];
      if (s('SHA1')) hashes.push({ Type: 'filehash', Algorithm: 'SHA1', Value: s('SHA1') });
      if (s('SHA256')) hashes.push({ Type: 'filehash', Algorithm: 'SHA256', Value: s('SHA256') });
      out.push({
        Type: 'file',
        ...(s('FileName') ? { Name: s('FileName') } : {}),
        ...(s('FolderPath') ? { Directory: s('FolderPath').replace(/[\\/][^\\/]*$/, '') } : {}),
        ...(hashes.length ? { FileHashes: hashes } : {}),
      });
      break;
    }
    case 'process':
      out.push({
        Type: 'process',
        ...(s('ProcessCommandLine') ? { CommandLine: s('ProcessCommandLine') } : {}),
        ...(s('FileName') ? { ImageFile: { Type: 'file', Name: s('FileName') } } : {}),
      });
      break;
    case 'mailbox':
      if (s('AccountUpn') || s('AccountName'))
        out.push({ Type: 'mailbox', MailboxPrimaryAddress: s('AccountUpn') || s('AccountName') });
      break;
    case 'mailmessage':
      out.push({
        Type: 'mail-message',
        ...(s('NetworkMessageId') ? { NetworkMessageId: s('NetworkMessageId') } : {}),
        ...(s('AccountUpn') ? { Recipient: s('AccountUpn') } : {}),
        ...(s('EmailSubject') ? { Subject: s('EmailSubject') } : {}),
      });
      break;
    case 'cloudapplication':
    case 'oauthapplication':
      out.push({
        Type: 'cloud-application',
        ...(s('Application') ? { Name: s('Application') } : {}),
        ...(s('OAuthApplicationId') || s('ApplicationId')
          ? { AppId: s('OAuthApplicationId') || s('ApplicationId') }
          : {}),
      });
      break;
    case 'registrykey':
      if (s('RegistryKey')) out.push({ Type: 'registry-key', Key: s('RegistryKey') });
      break;
    case 'registryvalue':
      out.push({
        Type: 'registry-value',
        ...(s('RegistryValueName') ? { Name: s('RegistryValueName') } : {}),
        ...(s('RegistryValueData') ? { Value: s('RegistryValueData') } : {}),
        ...(s('RegistryKey') ? { Key: { Type: 'registry-key', Key: s('RegistryKey') } } : {}),
      });
      break;
    case 'azureresource':
    case 'cloudresource':
      if (s('ResourceID') || s('CloudResource'))
        out.push({ Type: 'azure-resource', ResourceId: s('ResourceID') || s('CloudResource') });
      break;
    case 'malware':
      if (s('ThreatFamily')) out.push({ Type: 'malware', Name: s('ThreatFamily'), Category: '' });
      break;
    default:
      break;
  }
  return out.filter((e) => Object.keys(e).length > 1);
}

/**
 * From Defender XDR rows of one alert: its `AlertInfo` row (if it came) and its `AlertEvidence` rows. Evidence
 * rows repeat the alert's title, service source and techniques, so they can make the alert on their own.
 */
export function fromAlertInfoRows(
  info: Readonly<Record<string, unknown>> | null,
  evidence: readonly Readonly<Record<string, unknown>>[],
  nowIso: string,
): NormalizedAlert | string {
  const first = info ?? evidence[0];
  if (!first) return 'no rows';
  const id = text(first.AlertId).trim();
  if (!id) return 'the row has no AlertId';
  const pick = (k: string): string => {
    const v = info ? text(info[k]) : '';
    if (v) return v;
    for (const e of evidence) if (text(e[k])) return text(e[k]);
    return '';
  };
  const serviceSource = pick('ServiceSource');
  const product = productInfo(serviceSource);
  const times = [info, ...evidence]
    .map((r) => (r ? (isoTime(r.Timestamp) ?? isoTime(r.TimeGenerated)) : null))
    .filter((t): t is string => t !== null)
    .sort();
  const start = times[0] ?? nowIso;
  const end = times[times.length - 1] ?? start;
  const category = pick('Category');
  const categories = [category, ...evidence.flatMap((e) => listOf(e.Categories))];
  const entities = evidence.flatMap(evidenceEntities);
  return {
    alertId: id,
    source: 'AlertInfo',
    ruleId: null,
    ruleName: null,
    title: pick('Title') || 'Alert',
    description: '',
    severity: severityOf(pick('Severity')),
    status: 'New',
    tactics: tacticsOf(categories),
    techniques: techniquesOf(listOf(pick('AttackTechniques'))),
    vendorName: 'Microsoft',
    productName: product?.productName ?? serviceSource,
    providerName: product?.providerName ?? serviceSource,
    productComponentName: pick('DetectionSource'),
    startTime: start,
    endTime: end,
    timeGenerated: end,
    entities,
    customDetails: {},
    compromisedEntity: '',
    alertLink: '',
    createIncident: true,
    incidentConfiguration: null,
  };
}

/** Rows of the three alert tables grouped into alerts (rows of other tables are refused). */
export function alertsFromProductRows(
  rows: readonly Readonly<Record<string, unknown>>[],
  nowIso: string,
  table?: string,
): { alerts: NormalizedAlert[]; problems: RowProblem[] } {
  const alerts: NormalizedAlert[] = [];
  const problems: RowProblem[] = [];
  const defender = new Map<
    string,
    { info: Readonly<Record<string, unknown>> | null; evidence: Readonly<Record<string, unknown>>[]; index: number }
  >();
  rows.forEach((row, index) => {
    const type = table ?? text(row.Type);
    if (type === 'SecurityAlert') {
      const a = fromSecurityAlertRow(row, nowIso);
      if (typeof a === 'string') problems.push({ index, message: a });
      else alerts.push(a);
    } else if (type === 'AlertInfo' || type === 'AlertEvidence') {
      const id = text(row.AlertId).trim();
      if (!id) {
        problems.push({ index, message: 'the row has no AlertId' });
        return;
      }
      let g = defender.get(id);
      if (!g) {
        g = { info: null, evidence: [], index };
        defender.set(id, g);
      }
      if (type === 'AlertInfo') g.info = row;
      else g.evidence.push(row);
    } else {
      problems.push({
        index,
        message: `a ${type ? `${type} row` : 'row without Type'} is not an alert (SecurityAlert, AlertInfo or AlertEvidence)`,
      });
    }
  });
  for (const g of defender.values()) {
    const a = fromAlertInfoRows(g.info, g.evidence, nowIso);
    if (typeof a === 'string') problems.push({ index: g.index, message: a });
    else alerts.push(a);
  }
  return { alerts, problems };
}
