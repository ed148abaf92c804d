/**
 * A real incident stack for tests: a SQLite state store in a temporary folder, the incident service on a clock the
 * test moves, and builders for the three alert shapes the engine consumes (a Vigil rule's alert, a `SecurityAlert`
 * row of a security product, Defender XDR `AlertInfo` + `AlertEvidence` rows), with realistic field values.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DetectionAlert } from '../../src/detect/alerts.js';
import type { Entity } from '../../src/detect/entities.js';
import type { Severity } from '../../src/detect/model.js';
import type { Actor, IncidentSettings } from '../../src/incidents/model.js';
import type { EventStoreTarget } from '../../src/incidents/outbox.js';
import { IncidentService } from '../../src/incidents/service.js';
import { SqliteDriver } from '../../src/state/sql-driver.js';

export const T0 = Date.parse('2026-03-02T09:00:00.000Z');
export const MIN = 60_000;
export const HOUR = 3600_000;
export const DAY = 86_400_000;

export class TestClock {
  constructor(public ms = T0) {}
  readonly now = () => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface Stack {
  readonly dir: string;
  readonly state: SqliteDriver;
  readonly clock: TestClock;
  service: IncidentService;
  reopen(): Promise<IncidentService>;
  close(): Promise<void>;
}

export async function openStack(
  options: { settings?: Partial<IncidentSettings>; eventStore?: (dir: string) => Promise<EventStoreTarget> } = {},
): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-incidents-'));
  const state = new SqliteDriver(join(dir, 'state.db'));
  const clock = new TestClock();
  const eventStore = options.eventStore ? await options.eventStore(dir) : null;
  const make = () =>
    IncidentService.open({
      state,
      clock: clock.now,
      tenantId: 'test-workspace',
      eventStore,
      ...(options.settings ? { settings: options.settings } : {}),
    });
  const s: Stack = {
    dir,
    state,
    clock,
    service: await make(),
    async reopen() {
      await s.service.close();
      s.service = await make();
      return s.service;
    },
    async close() {
      await s.service.close();
      await eventStore?.engine.close();
      await state.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return s;
}

export const analyst = (upn: string): Actor => ({ type: 'analyst', id: upn, name: upn });

let seq = 0;
const id = (prefix: string) => `${prefix}-${(++seq).toString().padStart(6, '0')}`;
const at = (ms: number) => new Date(ms).toISOString();

// ── entities (Sentinel entity JSON) ──

export const host = (name: string, deviceId?: string): Entity => ({
  Type: 'host',
  HostName: name,
  DnsDomain: 'contoso.com',
  ...(deviceId ? { MdatpDeviceId: deviceId } : {}),
});
export const account = (upn: string, extra: Record<string, unknown> = {}): Entity => ({
  Type: 'account',
  Name: upn.split('@')[0],
  UPNSuffix: upn.split('@')[1],
  ...extra,
});
export const ip = (address: string): Entity => ({ Type: 'ip', Address: address });
export const url = (u: string): Entity => ({ Type: 'url', Url: u });
export const fileHash = (sha256: string): Entity => ({ Type: 'filehash', Algorithm: 'SHA256', Value: sha256 });
export const mailbox = (address: string): Entity => ({ Type: 'mailbox', MailboxPrimaryAddress: address });

// ── a Vigil rule's alert ──

export function ruleAlert(o: {
  ruleId?: string;
  ruleName?: string;
  title?: string;
  severity?: Severity;
  tactics?: string[];
  techniques?: string[];
  entities: Entity[];
  atMs: number;
  incidentConfiguration?: Record<string, unknown> | null;
  createIncident?: boolean;
  customDetails?: Record<string, unknown[]>;
  kind?: 'Scheduled' | 'NRT' | 'CustomDetection';
}): DetectionAlert {
  const ruleId = o.ruleId ?? 'rule-1';
  const custom = o.kind === 'CustomDetection';
  return {
    systemAlertId: id('rule-alert'),
    ruleId,
    ruleName: o.ruleName ?? ruleId,
    ruleKind: o.kind ?? 'Scheduled',
    runId: id('run'),
    timeGenerated: at(o.atMs + MIN),
    alertName: o.title ?? o.ruleName ?? ruleId,
    description: 'test rule alert',
    severity: o.severity ?? 'Medium',
    tactics: o.tactics ?? [],
    techniques: o.techniques ?? [],
    subTechniques: [],
    startTime: at(o.atMs),
    endTime: at(o.atMs),
    entities: o.entities.map((e, i) => ({ $id: String(i + 2), ...e })),
    customDetails: o.customDetails ?? {},
    extendedProperties: {},
    vendorName: 'Microsoft',
    productName: custom ? 'Microsoft 365 Defender' : 'Azure Sentinel',
    providerName: custom ? 'MTP' : 'ASI Scheduled Alerts',
    productComponentName: custom ? 'CustomDetection' : 'Scheduled Alerts',
    alertLink: '',
    extendedLinks: [],
    compromisedEntity: '',
    remediationSteps: '',
    confidenceLevel: '',
    confidenceScore: null,
    resultCount: 1,
    summary: false,
    createIncident: o.createIncident ?? true,
    incidentConfiguration: o.incidentConfiguration ?? null,
    actions: [],
    alertKeys: [],
    window: { startMs: o.atMs, endMs: o.atMs + 5 * MIN, queryStartMs: o.atMs - HOUR },
  };
}

// ── a security product's SecurityAlert row ──

export const PRODUCTS = {
  mde: { ProductName: 'Microsoft Defender Advanced Threat Protection', ProviderName: 'MDATP' },
  mdi: { ProductName: 'Azure Advanced Threat Protection', ProviderName: 'Azure Advanced Threat Protection' },
  mdo: { ProductName: 'Office 365 Advanced Threat Protection', ProviderName: 'OATP' },
  aadip: { ProductName: 'Azure Active Directory Identity Protection', ProviderName: 'IPC' },
  mdca: { ProductName: 'Microsoft Cloud App Security', ProviderName: 'MCAS' },
} as const;

export function productAlertRow(o: {
  product: keyof typeof PRODUCTS;
  title: string;
  severity?: Severity;
  tactics?: string[];
  techniques?: string[];
  entities: Entity[];
  atMs: number;
  alertId?: string;
  status?: string;
}): Record<string, unknown> {
  const alertId = o.alertId ?? id(`${o.product}-alert`);
  return {
    Type: 'SecurityAlert',
    TimeGenerated: at(o.atMs + 2 * MIN),
    TenantId: 'test-workspace',
    DisplayName: o.title,
    AlertName: o.title,
    AlertSeverity: o.severity ?? 'Medium',
    Description: `${o.title} (test)`,
    ...PRODUCTS[o.product],
    VendorName: 'Microsoft',
    VendorOriginalId: alertId,
    SystemAlertId: alertId,
    AlertType: o.title.replace(/\W+/g, ''),
    StartTime: at(o.atMs),
    EndTime: at(o.atMs + MIN),
    ProcessingEndTime: at(o.atMs + 2 * MIN),
    Status: o.status ?? 'New',
    Entities: JSON.stringify(o.entities.map((e, i) => ({ $id: String(i + 2), ...e }))),
    ExtendedProperties: '{}',
    Tactics: (o.tactics ?? []).join(', '),
    Techniques: (o.techniques ?? []).join(', '),
    SubTechniques: '',
    ProductComponentName: '',
    CompromisedEntity: '',
  };
}

// ── Defender XDR AlertInfo + AlertEvidence rows ──

export type Evidence = Record<string, unknown> & { EntityType: string };

export function defenderAlertRows(o: {
  serviceSource: string;
  title: string;
  category: string;
  severity?: string;
  techniques?: string[];
  evidence: Evidence[];
  atMs: number;
  alertId?: string;
}): { info: Record<string, unknown>; evidence: Record<string, unknown>[]; alertId: string } {
  const alertId = o.alertId ?? id('da');
  const common = {
    Timestamp: at(o.atMs),
    AlertId: alertId,
    Title: o.title,
    ServiceSource: o.serviceSource,
    DetectionSource: 'Test detection source',
    AttackTechniques: JSON.stringify(o.techniques ?? []),
  };
  return {
    alertId,
    info: { Type: 'AlertInfo', ...common, Category: o.category, Severity: o.severity ?? 'Medium' },
    evidence: o.evidence.map((e) => ({
      Type: 'AlertEvidence',
      ...common,
      Categories: JSON.stringify([o.category]),
      EvidenceRole: 'Impacted',
      ...e,
    })),
  };
}
