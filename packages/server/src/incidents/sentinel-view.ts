/**
 * The Sentinel view of incidents and alerts in the event store, so KQL sees what Sentinel shows:
 * - `SecurityIncident`: one row per change of an incident (Sentinel appends a row per update); `AlertIds` lists at
 *   most 150 alerts (Sentinel's cap) and `AdditionalData.alertsCount` the real count, with `alertIdsBeyondCap`;
 *   `ModifiedBy` says who changed it (an analyst's name, `Automation rule - <name>`, `Playbook - <name>`, the sync
 *   source, or Vigil), and `AdditionalData.modifiedBy` the structured actor.
 * - `SecurityAlert`: rows for alerts that arrived as `AlertInfo` / `AlertEvidence` rows (the Defender XDR connector
 *   writes Defender alerts to `SecurityAlert` too), so `SecurityIncident | mv-expand AlertIds | join SecurityAlert`
 *   finds every alert. Rule alerts are written by the detection service; product `SecurityAlert` rows by ingestion.
 */
import type { Actor, Comment, Incident, Task } from './model.js';
import type { NormalizedAlert } from './normalize.js';

/** Sentinel shows at most this many alert ids on an incident. */
export const SENTINEL_ALERT_CAP = 150;

export function modifiedByText(actor: Actor): string {
  const name = actor.name ?? actor.id;
  switch (actor.type) {
    case 'analyst':
      return name;
    case 'automation-rule':
      return `Automation rule - ${name}`;
    case 'playbook':
      return `Playbook - ${name}`;
    case 'sync':
      return name;
    case 'system':
      return `Vigil - ${name}`;
  }
}

const principal = (a: Actor) => ({
  objectId: null,
  email: a.type === 'analyst' && a.id.includes('@') ? a.id : null,
  name: a.name ?? a.id,
  userPrincipalName: a.type === 'analyst' ? a.id : null,
});

export interface SecurityIncidentContext {
  readonly tenantId: string;
  /** When the change happened (TimeGenerated). */
  readonly at: string;
  /** The first alert ids (at most SENTINEL_ALERT_CAP). */
  readonly alertIds: readonly string[];
  readonly comments: readonly Comment[];
  readonly tasks: readonly Task[];
  /** Base URL of the incident page (default `/incidents/`). */
  readonly urlBase?: string;
}

/** The `SecurityIncident` row of an incident's state after a change (KQL column names). */
export function securityIncidentRow(i: Incident, ctx: SecurityIncidentContext): Record<string, unknown> {
  const beyond = Math.max(0, i.alertCount - SENTINEL_ALERT_CAP);
  const row: Record<string, unknown> = {
    TimeGenerated: ctx.at,
    TenantId: ctx.tenantId,
    IncidentName: i.id,
    Title: i.title,
    Description: i.description,
    Severity: i.severity,
    Status: i.status,
    Classification: i.classification ?? '',
    ClassificationComment: i.classificationComment ?? '',
    ClassificationReason: i.classificationReason ?? '',
    Owner: {
      objectId: i.owner?.objectId ?? null,
      email: i.owner?.email ?? null,
      assignedTo: i.owner?.assignedTo ?? null,
      userPrincipalName: i.owner?.userPrincipalName ?? null,
    },
    ProviderName: i.providerName,
    ProviderIncidentId: String(i.number),
    FirstActivityTime: i.firstActivityTime,
    LastActivityTime: i.lastActivityTime,
    FirstModifiedTime: i.firstModifiedTime,
    LastModifiedTime: i.lastModifiedTime,
    CreatedTime: i.createdTime,
    ClosedTime: i.closedTime,
    IncidentNumber: i.number,
    RelatedAnalyticRuleIds: i.ruleIds,
    AlertIds: ctx.alertIds.slice(0, SENTINEL_ALERT_CAP),
    BookmarkIds: [],
    Comments: ctx.comments.map((c) => ({
      message: c.message,
      createdTimeUtc: c.createdTime,
      lastModifiedTimeUtc: c.lastModifiedTime,
      author: principal(c.author),
    })),
    Tasks: ctx.tasks.map((t) => ({
      taskId: t.id,
      title: t.title,
      description: t.description,
      status: t.status,
      assignee: t.assignee,
      createdTimeUtc: t.createdTime,
      lastModifiedTimeUtc: t.lastModifiedTime,
      createdBy: principal(t.createdBy),
      lastModifiedBy: principal(t.lastModifiedBy),
    })),
    Labels: i.tags.map((t) => ({ labelName: t, labelType: 'User' })),
    IncidentUrl: `${ctx.urlBase ?? '/incidents/'}${i.number}`,
    AdditionalData: {
      alertsCount: i.alertCount,
      bookmarksCount: 0,
      commentsCount: i.commentCount,
      alertProductNames: i.productNames,
      tactics: i.tactics,
      techniques: i.techniques,
      providerIncidentUrl: `${ctx.urlBase ?? '/incidents/'}${i.number}`,
      ...(beyond > 0 ? { alertIdsBeyondCap: beyond } : {}),
      ...(i.redirectedTo ? { redirectedTo: i.redirectedTo } : {}),
      entitiesCount: i.entityCount,
      modifiedBy: i.lastModifiedBy,
    },
    ModifiedBy: modifiedByText(i.lastModifiedBy),
    SourceSystem: 'Vigil',
    Type: 'SecurityIncident',
    _IsBillable: 'false',
  };
  row._BilledSize = Buffer.byteLength(JSON.stringify(row));
  return row;
}

/** A `SecurityAlert` row for an alert that arrived as Defender XDR `AlertInfo` / `AlertEvidence` rows. */
export function securityAlertRowOf(
  a: NormalizedAlert,
  tenantId: string,
  entities: readonly unknown[],
): Record<string, unknown> {
  const withIds = entities.map((e, i) =>
    typeof e === 'object' && e !== null ? { $id: String(i + 2), ...(e as Record<string, unknown>) } : e,
  );
  const row: Record<string, unknown> = {
    TimeGenerated: a.timeGenerated,
    TenantId: tenantId,
    DisplayName: a.title,
    AlertName: a.title,
    AlertSeverity: a.severity,
    Description: a.description,
    ProviderName: a.providerName,
    VendorName: a.vendorName,
    VendorOriginalId: a.alertId,
    SystemAlertId: a.alertId,
    ResourceId: '',
    SourceComputerId: '',
    AlertType: a.productComponentName,
    ConfidenceLevel: '',
    ConfidenceScore: null,
    IsIncident: false,
    StartTime: a.startTime,
    EndTime: a.endTime,
    ProcessingEndTime: a.timeGenerated,
    RemediationSteps: '',
    ExtendedProperties: JSON.stringify({ 'Vigil Source': a.source }),
    Entities: JSON.stringify(withIds),
    SourceSystem: 'Detection',
    WorkspaceSubscriptionId: '',
    WorkspaceResourceGroup: '',
    ExtendedLinks: '',
    ProductName: a.productName,
    ProductComponentName: a.productComponentName,
    AlertLink: a.alertLink,
    Status: a.status,
    CompromisedEntity: a.compromisedEntity,
    Tactics: a.tactics.join(', '),
    Techniques: a.techniques.filter((t) => !t.includes('.')).join(', '),
    SubTechniques: a.techniques.filter((t) => t.includes('.')).join(', '),
    Type: 'SecurityAlert',
    _IsBillable: 'false',
  };
  row._BilledSize = Buffer.byteLength(JSON.stringify(row));
  return row;
}
