/**
 * From a rule's result rows to alerts, as Sentinel and Defender build them: event grouping (one alert per run, or
 * one per result with the 150 cap whose last alert summarizes every result), entity mapping, custom details, alert
 * details override, custom detection alert templates and response action targets; and the `SecurityAlert` row of
 * an alert (Sentinel's schema: entities and extended properties as JSON text, tactics and techniques as
 * comma-separated lists, provider and product names, links to the rule and to the query that reproduces it).
 */
import type { KqlValue } from '../engine/values.js';
import { ACTION_TARGETS, type ActionTargetType } from './actions.js';
import { formatDuration } from './duration.js';
import { assembleEntities, type Entity, entitiesFromJson, entityDisplayName, entityFromRow } from './entities.js';
import {
  MAX_ALERTS_PER_RUN,
  type ResponseActionType,
  type RuleDefinition,
  SEVERITIES,
  type Severity,
} from './model.js';
import { identifierColumn } from './validate.js';

/** Entities per alert beyond which Sentinel truncates (and says so in the extended properties). */
export const MAX_ENTITIES_PER_ALERT = 500;
/** Distinct values kept per custom detail in a one-alert-per-run alert. */
const MAX_CUSTOM_DETAIL_VALUES = 50;

export const PRODUCT = {
  /** Sentinel's values for scheduled and NRT rule alerts (queries in the wild filter on them). */
  sentinel: { vendor: 'Microsoft', product: 'Azure Sentinel', provider: 'ASI Scheduled Alerts' },
  /** Defender XDR custom detections. */
  defender: { vendor: 'Microsoft', product: 'Microsoft 365 Defender', provider: 'MTP' },
} as const;

export interface RequestedAction {
  readonly type: ResponseActionType;
  readonly targetType: ActionTargetType;
  readonly identifier: string;
  readonly targetId: string;
  readonly deviceId: string | null;
  readonly parameters: Readonly<Record<string, string>>;
}

/** An alert raised by a rule: everything issue 6 (incidents) and issue 7 (automation) need, as plain data. */
export interface DetectionAlert {
  readonly systemAlertId: string;
  readonly ruleId: string;
  readonly ruleName: string;
  readonly ruleKind: RuleDefinition['kind'];
  readonly runId: string;
  readonly timeGenerated: string;
  readonly alertName: string;
  readonly description: string;
  readonly severity: Severity;
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly subTechniques: readonly string[];
  readonly startTime: string;
  readonly endTime: string;
  readonly entities: readonly Entity[];
  readonly customDetails: Readonly<Record<string, readonly unknown[]>>;
  readonly extendedProperties: Readonly<Record<string, string>>;
  readonly vendorName: string;
  readonly productName: string;
  readonly providerName: string;
  readonly productComponentName: string;
  readonly alertLink: string;
  readonly extendedLinks: readonly { readonly Href: string; readonly Category: string; readonly Label: string }[];
  readonly compromisedEntity: string;
  readonly remediationSteps: string;
  readonly confidenceLevel: string;
  readonly confidenceScore: number | null;
  /** The results this alert stands for (1 per result; all of them for a per-run or summary alert). */
  readonly resultCount: number;
  readonly summary: boolean;
  readonly createIncident: boolean;
  readonly incidentConfiguration: Readonly<Record<string, unknown>> | null;
  /** Response actions to request for this alert (custom detections). */
  readonly actions: readonly RequestedAction[];
  /** Row keys a custom detection remembers so that a later, overlapping lookback does not alert twice. */
  readonly alertKeys: readonly string[];
  readonly window: { readonly startMs: number; readonly endMs: number; readonly queryStartMs: number };
}

export interface AlertContext {
  readonly rule: RuleDefinition;
  readonly runId: string;
  readonly window: { readonly startMs: number; readonly endMs: number; readonly queryStartMs: number };
  /** When the alerts are generated (ms). */
  readonly nowMs: number;
  readonly tables: readonly string[];
  readonly newId: () => string;
}

type Row = readonly KqlValue[];

/** Builds the alerts of one run from its result (`total` counts results even when `rows` was truncated). */
export function buildAlerts(
  ctx: AlertContext,
  columns: readonly { name: string }[],
  rows: readonly Row[],
  total: number,
): DetectionAlert[] {
  const index = new Map(columns.map((c, i) => [c.name, i] as const));
  const get = (row: Row, name: string): unknown => {
    const i = index.get(name);
    return i === undefined ? undefined : row[i];
  };
  if (rows.length === 0) return [];
  const b = new Builder(
    ctx,
    get,
    (name) => index.has(name),
    columns.map((c) => c.name),
  );
  const rule = ctx.rule;
  if (rule.kind === 'CustomDetection') return b.customDetection(rows);
  if (rule.aggregationKind === 'SingleAlert') return [b.alert(rows, total, false)];
  if (total <= MAX_ALERTS_PER_RUN) return rows.slice(0, MAX_ALERTS_PER_RUN).map((r) => b.alert([r], 1, false));
  return [...rows.slice(0, MAX_ALERTS_PER_RUN - 1).map((r) => b.alert([r], 1, false)), b.alert(rows, total, true)];
}

class Builder {
  constructor(
    private readonly ctx: AlertContext,
    private readonly get: (row: Row, name: string) => unknown,
    private readonly has: (name: string) => boolean,
    private readonly names: readonly string[],
  ) {}

  alert(rows: readonly Row[], resultCount: number, summary: boolean, extra?: Partial<DetectionAlert>): DetectionAlert {
    const { rule } = this.ctx;
    const first = rows[0] as Row;
    const o = rule.alertDetailsOverride;
    const entities: Entity[] = [];
    for (const row of rows) {
      for (const m of rule.entityMappings) {
        const e = entityFromRow(m, (c) => this.get(row, c));
        if (e) entities.push(e);
      }
      for (const c of rule.sentinelEntitiesColumns) entities.push(...entitiesFromJson(this.get(row, c)));
    }
    if (extra?.entities) entities.push(...extra.entities);
    const assembled = assembleEntities(entities, MAX_ENTITIES_PER_ALERT);
    const customDetails: Record<string, unknown[]> = {};
    for (const [key, column] of Object.entries(rule.customDetails)) {
      const seen = new Set<string>();
      const values: unknown[] = [];
      for (const row of rows) {
        const v = this.get(row, column);
        if (v === undefined || v === null || v === '') continue;
        const k = JSON.stringify(v);
        if (seen.has(k)) continue;
        seen.add(k);
        if (values.length < MAX_CUSTOM_DETAIL_VALUES) values.push(v);
      }
      customDetails[key] = values;
    }
    let severity = rule.severity;
    let tactics = [...rule.tactics];
    const techniques = [...rule.techniques];
    const dynamic: Record<string, string> = {};
    if (o?.alertSeverityColumnName) {
      const v = text(this.get(first, o.alertSeverityColumnName));
      const s = SEVERITIES.find((x) => x.toLowerCase() === v.trim().toLowerCase());
      if (s) severity = s;
    }
    if (o?.alertTacticsColumnName) {
      const list = listValue(this.get(first, o.alertTacticsColumnName));
      if (list.length) tactics = list;
    }
    for (const p of o?.alertDynamicProperties ?? []) dynamic[p.alertProperty] = text(this.get(first, p.value));
    const alertName = truncate(
      o?.alertDisplayNameFormat ? this.format(o.alertDisplayNameFormat, first) || rule.name : rule.name,
      256,
    );
    const description = truncate(
      o?.alertDescriptionFormat ? this.format(o.alertDescriptionFormat, first) : rule.description,
      5000,
    );
    const techniqueList = dynamic.Techniques ? listValue(dynamic.Techniques) : techniques;
    const times = this.timeRange(rows);
    const isCustom = rule.kind === 'CustomDetection';
    const product = isCustom ? PRODUCT.defender : PRODUCT.sentinel;
    const systemAlertId = this.ctx.newId();
    const windowStart = new Date(this.ctx.window.queryStartMs).toISOString();
    const windowEnd = new Date(this.ctx.window.endMs).toISOString();
    const extended: Record<string, string> = {
      'Analytic Rule Ids': JSON.stringify([rule.id]),
      'Analytic Rule Name': rule.name,
      Query: rule.query,
      'Query Period': formatDuration(
        rule.kind === 'NRT'
          ? this.ctx.window.endMs - this.ctx.window.queryStartMs || 60_000
          : rule.queryPeriodMs || 60_000,
      ),
      'Query Start Time UTC': windowStart,
      'Query End Time UTC': windowEnd,
      'Query Time Basis': 'ingestion_time()',
      'Trigger Operator': OPERATOR_NAMES[rule.triggerOperator],
      'Trigger Threshold': String(rule.triggerThreshold),
      'Search Query Results Overall Count': String(resultCount),
      'Event Grouping': rule.aggregationKind,
      'Alert generation status': summary
        ? `Summary alert: ${resultCount} results; the first ${MAX_ALERTS_PER_RUN - 1} have an alert each`
        : 'Full alert created',
      'Data Sources': JSON.stringify(this.ctx.tables),
      'Vigil Run Id': this.ctx.runId,
      ...(Object.keys(customDetails).length ? { 'Custom Details': JSON.stringify(customDetails) } : {}),
      ...(assembled.truncated ? { 'Entities Truncated': `first ${MAX_ENTITIES_PER_ALERT} kept` } : {}),
    };
    const queryHref =
      `/hunting?query=${encodeURIComponent(rule.query)}` +
      `&ingestionStart=${encodeURIComponent(windowStart)}&ingestionEnd=${encodeURIComponent(windowEnd)}` +
      `&now=${encodeURIComponent(windowEnd)}`;
    const links = [
      { Href: `/rules/${encodeURIComponent(rule.id)}`, Category: 'Rule', Label: rule.name },
      { Href: queryHref, Category: 'Query', Label: 'Run the query over this window' },
    ];
    const compromised = assembled.list.find((e) => e.Type === 'host' || e.Type === 'account');
    return {
      systemAlertId,
      ruleId: rule.id,
      ruleName: rule.name,
      ruleKind: rule.kind,
      runId: this.ctx.runId,
      timeGenerated: new Date(this.ctx.nowMs).toISOString(),
      alertName,
      description,
      severity,
      tactics,
      // Sentinel lists parent techniques in Techniques and the T1234.001 forms in SubTechniques.
      techniques: [...new Set(techniqueList.map((t) => t.split('.')[0] as string))],
      subTechniques: dynamic.SubTechniques
        ? listValue(dynamic.SubTechniques)
        : techniqueList.filter((t) => t.includes('.')),
      startTime: times.start,
      endTime: times.end,
      entities: assembled.list,
      customDetails,
      extendedProperties: extended,
      vendorName: product.vendor,
      productName: dynamic.ProductName || product.product,
      providerName: dynamic.ProviderName || (rule.kind === 'NRT' ? 'ASI NRT Alerts' : product.provider),
      productComponentName:
        dynamic.ProductComponentName ||
        (isCustom ? 'CustomDetection' : rule.kind === 'NRT' ? 'NRT Alerts' : 'Scheduled Alerts'),
      alertLink:
        dynamic.AlertLink || `/rules/${encodeURIComponent(rule.id)}/runs/${encodeURIComponent(this.ctx.runId)}`,
      extendedLinks: dynamic.ExtendedLinks
        ? [...links, { Href: dynamic.ExtendedLinks, Category: 'Custom', Label: '' }]
        : links,
      compromisedEntity: compromised ? entityDisplayName(compromised) : '',
      remediationSteps: dynamic.RemediationSteps ?? (isCustom ? (rule.customDetection?.recommendedActions ?? '') : ''),
      confidenceLevel: dynamic.ConfidenceLevel ?? '',
      confidenceScore:
        dynamic.ConfidenceScore !== undefined && dynamic.ConfidenceScore !== ''
          ? Number(dynamic.ConfidenceScore)
          : null,
      resultCount,
      summary,
      createIncident: rule.createIncident,
      incidentConfiguration: rule.incidentConfiguration,
      actions: extra?.actions ?? [],
      alertKeys: extra?.alertKeys ?? [],
      window: this.ctx.window,
    };
  }

  /** Defender: one alert per impacted asset (the first asset column), with its response actions. */
  customDetection(rows: readonly Row[]): DetectionAlert[] {
    const cd = this.ctx.rule.customDetection;
    if (!cd) return [];
    const assetColumn = cd.impactedAssets
      .map((a) => identifierColumn(a.identifier, this.names))
      .find((c): c is string => c !== null);
    const groups = new Map<string, Row[]>();
    for (const row of rows) {
      const key = assetColumn ? text(this.get(row, assetColumn)) : '';
      const g = groups.get(key);
      if (g) g.push(row);
      else groups.set(key, [row]);
    }
    const out: DetectionAlert[] = [];
    for (const group of [...groups.values()].slice(0, MAX_ALERTS_PER_RUN)) {
      const entities = group.flatMap((r) => this.assetEntities(r));
      const actions: RequestedAction[] = [];
      const seen = new Set<string>();
      for (const spec of cd.responseActions) {
        const column = identifierColumn(spec.identifier, this.names);
        if (!column) continue;
        for (const r of group) {
          const target = text(this.get(r, column));
          if (!target || seen.has(`${spec.type}\n${target}`)) continue;
          seen.add(`${spec.type}\n${target}`);
          const device = this.has('DeviceId') ? text(this.get(r, 'DeviceId')) : '';
          actions.push({
            type: spec.type,
            targetType: ACTION_TARGETS[spec.type],
            identifier: column,
            targetId: target,
            deviceId: device || null,
            parameters: spec.parameters,
          });
        }
      }
      out.push(
        this.alert(group, group.length, false, { entities, actions, alertKeys: group.map((r) => this.rowKey(r)) }),
      );
    }
    return out;
  }

  /** The key Defender de-duplicates custom detection results on: Timestamp, ReportId and the impacted asset. */
  rowKey(row: Row): string {
    const cd = this.ctx.rule.customDetection;
    const asset = cd?.impactedAssets.map((a) => identifierColumn(a.identifier, this.names)).find((c) => c !== null);
    return [
      text(this.get(row, 'Timestamp')),
      text(this.get(row, 'ReportId')),
      asset ? text(this.get(row, asset)) : '',
    ].join('|');
  }

  private assetEntities(row: Row): Entity[] {
    const cd = this.ctx.rule.customDetection;
    const out: Entity[] = [];
    const col = (name: string) => (this.has(name) ? text(this.get(row, name)) : '');
    for (const a of cd?.impactedAssets ?? []) {
      const t = a.type.toLowerCase();
      if (t.includes('device')) {
        const name = col('DeviceName');
        const fields: Record<string, unknown> = {};
        if (name) {
          const dot = name.indexOf('.');
          fields.HostName = dot > 0 ? name.slice(0, dot) : name;
          if (dot > 0) fields.DnsDomain = name.slice(dot + 1);
        }
        if (col('DeviceId')) fields.MdatpDeviceId = col('DeviceId');
        if (Object.keys(fields).length) out.push({ Type: 'host', ...fields });
      } else if (t.includes('mailbox')) {
        const column = identifierColumn(a.identifier, this.names);
        const v = column ? col(column) : '';
        if (v) out.push({ Type: 'mailbox', MailboxPrimaryAddress: v });
      } else if (t.includes('user')) {
        const fields: Record<string, unknown> = {};
        const upn = col('AccountUpn') || col('InitiatingProcessAccountUpn');
        if (upn.includes('@')) {
          fields.Name = upn.slice(0, upn.lastIndexOf('@'));
          fields.UPNSuffix = upn.slice(upn.lastIndexOf('@') + 1);
        } else if (col('AccountName')) fields.Name = col('AccountName');
        const sid = col('AccountSid') || col('InitiatingProcessAccountSid');
        if (sid) fields.Sid = sid;
        const oid = col('AccountObjectId') || col('InitiatingProcessAccountObjectId');
        if (oid) fields.AadUserId = oid;
        if (Object.keys(fields).length) out.push({ Type: 'account', ...fields });
      }
    }
    return out;
  }

  /** `{{Column}}` placeholders replaced with the row's values. */
  private format(template: string, row: Row): string {
    return template.replace(/\{\{\s*([^{}\s]+)\s*\}\}/g, (_m, name: string) =>
      this.has(name) ? text(this.get(row, name)) : '',
    );
  }

  private timeRange(rows: readonly Row[]): { start: string; end: string } {
    const column = this.ctx.rule.kind === 'CustomDetection' ? 'Timestamp' : 'TimeGenerated';
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    if (this.has(column)) {
      for (const r of rows) {
        const v = this.get(r, column);
        const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
        if (Number.isFinite(t)) {
          min = Math.min(min, t);
          max = Math.max(max, t);
        }
      }
    }
    // Without event times, the alert covers the query's window (what Sentinel shows for aggregated results).
    if (!Number.isFinite(min)) {
      min = this.ctx.window.queryStartMs;
      max = this.ctx.window.endMs;
    }
    return { start: new Date(min).toISOString(), end: new Date(max).toISOString() };
  }
}

const OPERATOR_NAMES = { gt: 'GreaterThan', lt: 'LessThan', eq: 'Equal', ne: 'NotEqual' } as const;

/** A cell as text: strings as they are, other values as JSON; null and missing as ''. */
export function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** A list from a cell: a JSON array, a dynamic array, or comma-separated text. */
function listValue(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(text).filter((x) => x !== '');
  const t = text(v).trim();
  if (t.startsWith('[')) {
    try {
      const parsed = JSON.parse(t) as unknown;
      if (Array.isArray(parsed)) return parsed.map(text).filter((x) => x !== '');
    } catch {
      // not JSON: fall through to a comma-separated list
    }
  }
  return t
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max);
}

/** The `SecurityAlert` row of an alert (KQL column names; JSON text where Sentinel stores JSON in strings). */
export function securityAlertRow(a: DetectionAlert, tenantId: string): Record<string, unknown> {
  const row: Record<string, unknown> = {
    TimeGenerated: a.timeGenerated,
    TenantId: tenantId,
    DisplayName: a.alertName,
    AlertName: a.alertName,
    AlertSeverity: a.severity,
    Description: a.description,
    ProviderName: a.providerName,
    VendorName: a.vendorName,
    VendorOriginalId: a.runId,
    SystemAlertId: a.systemAlertId,
    ResourceId: (a.entities.find((e) => e.Type === 'azure-resource')?.ResourceId as string | undefined) ?? '',
    SourceComputerId: '',
    AlertType: a.ruleId,
    ConfidenceLevel: a.confidenceLevel,
    ConfidenceScore: a.confidenceScore,
    IsIncident: false,
    StartTime: a.startTime,
    EndTime: a.endTime,
    ProcessingEndTime: a.timeGenerated,
    RemediationSteps: a.remediationSteps,
    ExtendedProperties: JSON.stringify(a.extendedProperties),
    Entities: JSON.stringify(a.entities),
    SourceSystem: 'Detection',
    WorkspaceSubscriptionId: '',
    WorkspaceResourceGroup: '',
    ExtendedLinks: JSON.stringify(a.extendedLinks),
    ProductName: a.productName,
    ProductComponentName: a.productComponentName,
    AlertLink: a.alertLink,
    Status: 'New',
    CompromisedEntity: a.compromisedEntity,
    Tactics: a.tactics.join(', '),
    Techniques: a.techniques.join(', '),
    SubTechniques: a.subTechniques.join(', '),
    Type: 'SecurityAlert',
    _IsBillable: 'false',
  };
  row._BilledSize = Buffer.byteLength(JSON.stringify(row));
  return row;
}
