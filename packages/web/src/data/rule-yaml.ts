/**
 * The analytics-rule wizard's state and its Sentinel YAML (the same format `vigil rules import` and the content
 * pack use, so a rule made in the console exports unchanged). Validation here mirrors what the server checks first,
 * to show problems while typing; the server's import is the authority.
 */
import { stringify } from 'yaml';
import type { Severity } from '../api/types.js';
import { parseDuration } from './format.js';

export const TACTICS = [
  'Reconnaissance',
  'ResourceDevelopment',
  'InitialAccess',
  'Execution',
  'Persistence',
  'PrivilegeEscalation',
  'DefenseEvasion',
  'CredentialAccess',
  'Discovery',
  'LateralMovement',
  'Collection',
  'CommandAndControl',
  'Exfiltration',
  'Impact',
] as const;

export const ENTITY_TYPES: Readonly<Record<string, readonly string[]>> = {
  Account: ['FullName', 'Name', 'UPNSuffix', 'AadUserId', 'Sid', 'NTDomain'],
  Host: ['FullName', 'HostName', 'DnsDomain', 'AzureID', 'OMSAgentID'],
  IP: ['Address'],
  URL: ['Url'],
  File: ['Name', 'Directory'],
  FileHash: ['Algorithm', 'Value'],
  Process: ['ProcessId', 'CommandLine'],
  Mailbox: ['MailboxPrimaryAddress', 'DisplayName', 'Upn'],
  DNS: ['DomainName'],
  CloudApplication: ['AppId', 'Name'],
};

export interface WizardMapping {
  entityType: string;
  identifier: string;
  columnName: string;
}

export interface WizardState {
  id: string;
  name: string;
  description: string;
  severity: Severity;
  kind: 'Scheduled' | 'NRT';
  query: string;
  queryFrequency: string;
  queryPeriod: string;
  triggerOperator: 'gt' | 'lt' | 'eq' | 'ne';
  triggerThreshold: number;
  tactics: string[];
  techniques: string;
  mappings: WizardMapping[];
  customDetails: { key: string; column: string }[];
  alertNameFormat: string;
  alertDescriptionFormat: string;
  aggregation: 'SingleAlert' | 'AlertPerResult';
  createIncident: boolean;
  grouping: boolean;
  matchingMethod: 'AllEntities' | 'AnyAlert' | 'Selected';
  groupLookback: string;
  reopenClosed: boolean;
  suppressionEnabled: boolean;
  suppressionDuration: string;
  enabled: boolean;
}

export function newWizard(query = '', id = crypto.randomUUID()): WizardState {
  return {
    id,
    name: '',
    description: '',
    severity: 'Medium',
    kind: 'Scheduled',
    query,
    queryFrequency: '1h',
    queryPeriod: '1h',
    triggerOperator: 'gt',
    triggerThreshold: 0,
    tactics: [],
    techniques: '',
    mappings: [],
    customDetails: [],
    alertNameFormat: '',
    alertDescriptionFormat: '',
    aggregation: 'AlertPerResult',
    createIncident: true,
    grouping: true,
    matchingMethod: 'AllEntities',
    groupLookback: '5h',
    reopenClosed: false,
    suppressionEnabled: false,
    suppressionDuration: '5h',
    enabled: true,
  };
}

export interface WizardProblem {
  readonly step: 'general' | 'query' | 'incident' | 'review';
  readonly message: string;
}

const TECHNIQUE = /^T\d{4}(\.\d{3})?$/;

export function techniqueList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((t) => t.trim().toUpperCase())
    .filter(Boolean);
}

export function validateWizard(s: WizardState): WizardProblem[] {
  const out: WizardProblem[] = [];
  if (!s.name.trim()) out.push({ step: 'general', message: 'The rule needs a name.' });
  for (const t of techniqueList(s.techniques))
    if (!TECHNIQUE.test(t))
      out.push({ step: 'general', message: `${t} is not a MITRE technique id (T1234 or T1234.001).` });
  if (!s.query.trim()) out.push({ step: 'query', message: 'The rule needs a query.' });
  if (s.kind === 'Scheduled') {
    const f = parseDuration(s.queryFrequency);
    const p = parseDuration(s.queryPeriod);
    if (f === null) out.push({ step: 'query', message: 'Run every: a duration such as 5m, 1h or 1d.' });
    else if (f < 5 * 60_000) out.push({ step: 'query', message: 'Run every: at least 5 minutes.' });
    if (p === null) out.push({ step: 'query', message: 'Lookup data from the last: a duration such as 1h or 14d.' });
    else if (p > 14 * 86400_000) out.push({ step: 'query', message: 'Lookup data from the last: at most 14 days.' });
    if (f !== null && p !== null && p < f)
      out.push({ step: 'query', message: 'The lookback should cover at least one run interval.' });
  }
  for (const m of s.mappings)
    if (!m.columnName)
      out.push({ step: 'query', message: `Entity mapping ${m.entityType}.${m.identifier}: pick a column.` });
  if (s.suppressionEnabled && parseDuration(s.suppressionDuration) === null)
    out.push({ step: 'incident', message: 'Suppression: a duration such as 5h.' });
  if (s.grouping && parseDuration(s.groupLookback) === null)
    out.push({ step: 'incident', message: 'Grouping lookback: a duration such as 5h.' });
  return out;
}

/** Sentinel YAML for the wizard's rule. */
export function wizardToYaml(s: WizardState): string {
  const mappings = new Map<string, { identifier: string; columnName: string }[]>();
  for (const m of s.mappings) {
    if (!m.columnName) continue;
    mappings.set(m.entityType, [
      ...(mappings.get(m.entityType) ?? []),
      { identifier: m.identifier, columnName: m.columnName },
    ]);
  }
  const custom = Object.fromEntries(s.customDetails.filter((d) => d.key && d.column).map((d) => [d.key, d.column]));
  const doc: Record<string, unknown> = {
    id: s.id,
    name: s.name.trim(),
    description: s.description.trim(),
    severity: s.severity,
    kind: s.kind,
    query: s.query.trim(),
  };
  if (s.kind === 'Scheduled') {
    doc.queryFrequency = s.queryFrequency;
    doc.queryPeriod = s.queryPeriod;
    doc.triggerOperator = s.triggerOperator;
    doc.triggerThreshold = s.triggerThreshold;
  }
  doc.tactics = s.tactics;
  doc.relevantTechniques = techniqueList(s.techniques);
  if (mappings.size)
    doc.entityMappings = [...mappings].map(([entityType, fieldMappings]) => ({ entityType, fieldMappings }));
  if (Object.keys(custom).length) doc.customDetails = custom;
  if (s.alertNameFormat || s.alertDescriptionFormat)
    doc.alertDetailsOverride = {
      ...(s.alertNameFormat ? { alertDisplayNameFormat: s.alertNameFormat } : {}),
      ...(s.alertDescriptionFormat ? { alertDescriptionFormat: s.alertDescriptionFormat } : {}),
    };
  doc.eventGroupingSettings = { aggregationKind: s.aggregation };
  doc.incidentConfiguration = {
    createIncident: s.createIncident,
    groupingConfiguration: {
      enabled: s.grouping,
      reopenClosedIncident: s.reopenClosed,
      lookbackDuration: s.groupLookback,
      matchingMethod: s.matchingMethod,
    },
  };
  doc.suppressionEnabled = s.suppressionEnabled;
  doc.suppressionDuration = s.suppressionDuration;
  doc.version = '1.0.0';
  return stringify(doc, { lineWidth: 0 });
}

/** Result columns a KQL query's entity mapping may pick, guessed per identifier from common column names. */
export function suggestColumn(identifier: string, columns: readonly string[]): string {
  const prefs: Readonly<Record<string, readonly string[]>> = {
    FullName: ['AccountUpn', 'UserPrincipalName', 'AccountName', 'DeviceName', 'Computer'],
    Name: ['AccountName', 'FileName'],
    HostName: ['DeviceName', 'Computer', 'HostName'],
    Address: ['RemoteIP', 'IPAddress', 'SourceIP', 'LocalIP'],
    Url: ['Url', 'RemoteUrl'],
    AadUserId: ['AccountObjectId', 'UserId'],
    CommandLine: ['ProcessCommandLine'],
    Value: ['SHA256', 'SHA1', 'MD5'],
    MailboxPrimaryAddress: ['RecipientEmailAddress'],
  };
  for (const c of prefs[identifier] ?? []) if (columns.includes(c)) return c;
  return '';
}
