/**
 * The incident model: plain, JSON-serializable data shared by the correlation engine, the queue API, the state
 * repository and the Sentinel view (`SecurityIncident`). Field names follow Sentinel's incident resource where one
 * exists (severity, status, classification, classificationReason, owner, labels → tags, firstActivityTime, ...).
 */
import type { Severity } from '../detect/model.js';

export type { Severity } from '../detect/model.js';

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { Informational: 0, Low: 1, Medium: 2, High: 3 };
export const SEVERITY_BY_RANK: readonly Severity[] = ['Informational', 'Low', 'Medium', 'High'];

export type IncidentStatus = 'New' | 'Active' | 'Closed';
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['New', 'Active', 'Closed'];

export type Classification = 'TruePositive' | 'BenignPositive' | 'FalsePositive' | 'Undetermined';
export const CLASSIFICATIONS: readonly Classification[] = [
  'TruePositive',
  'BenignPositive',
  'FalsePositive',
  'Undetermined',
];

/** Sentinel's classification reasons, per classification. */
export const CLASSIFICATION_REASONS: Readonly<Record<Classification, readonly string[]>> = {
  TruePositive: ['SuspiciousActivity'],
  BenignPositive: ['SuspiciousButExpected'],
  FalsePositive: ['IncorrectAlertLogic', 'InaccurateData'],
  Undetermined: [],
};

/** The tag a merged-away incident gets, as in Defender XDR. */
export const REDIRECTED_TAG = 'Redirected';

/**
 * Who made a change — Sentinel's "Updated by": an analyst, an automation rule, a playbook, a synchronization with
 * another system, or Vigil itself (the correlation engine, rule grouping).
 */
export type ActorType = 'analyst' | 'automation-rule' | 'playbook' | 'sync' | 'system';
export const ACTOR_TYPES: readonly ActorType[] = ['analyst', 'automation-rule', 'playbook', 'sync', 'system'];

export interface Actor {
  readonly type: ActorType;
  /** UPN, automation rule id, playbook id, sync source, or the engine component. */
  readonly id: string;
  /** Display name (defaults to the id). */
  readonly name?: string;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: 'correlation', name: 'Vigil correlation engine' };

/** An incident's owner, Sentinel's shape. */
export interface Owner {
  readonly objectId?: string | null;
  readonly email?: string | null;
  readonly userPrincipalName?: string | null;
  readonly assignedTo?: string | null;
}

/** The incident as the queue shows it (without its alerts, entities, comments, tasks and audit). */
export interface Incident {
  /** A GUID: Sentinel's `IncidentName`. */
  readonly id: string;
  /** Sentinel's `IncidentNumber`: 1, 2, 3, ... per workspace. */
  readonly number: number;
  readonly title: string;
  /** The title was set by an analyst: automatic naming no longer changes it. */
  readonly titleManual: boolean;
  readonly description: string;
  readonly severity: Severity;
  /** The severity was set by hand: new alerts no longer raise it. */
  readonly severityManual: boolean;
  readonly status: IncidentStatus;
  readonly classification: Classification | null;
  readonly classificationReason: string | null;
  readonly classificationComment: string | null;
  readonly owner: Owner | null;
  readonly tags: readonly string[];
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  /** `Azure Sentinel` when every alert comes from a Sentinel analytics rule, else `Microsoft XDR`. */
  readonly providerName: string;
  readonly productNames: readonly string[];
  readonly ruleIds: readonly string[];
  readonly firstActivityTime: string | null;
  readonly lastActivityTime: string | null;
  readonly createdTime: string;
  readonly lastModifiedTime: string;
  /** The first change after creation (Sentinel's FirstModifiedTime), null until then. */
  readonly firstModifiedTime: string | null;
  readonly closedTime: string | null;
  /** Set when the incident was merged into another one (Defender's `redirectIncidentId`). */
  readonly redirectedTo: string | null;
  readonly alertCount: number;
  readonly entityCount: number;
  readonly commentCount: number;
  readonly taskCount: number;
  readonly openTaskCount: number;
  /** Increases with every change (optimistic concurrency: `update(..., {expectedVersion})`). */
  readonly version: number;
  readonly lastModifiedBy: Actor;
}

/** An entity of an incident: the alerts' entities, de-duplicated (same type and a shared identifier). */
export interface IncidentEntity {
  readonly id: number;
  /** Sentinel's entity type (`account`, `host`, `ip`, ...). */
  readonly type: string;
  readonly displayName: string;
  /** The entity's identifying fields (Sentinel entity JSON, scalar fields only). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Identity keys (`host|name|ws01`): the values the engine matches on. */
  readonly keys: readonly string[];
  readonly alertCount: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
}

/** One alert of an incident (what the queue shows; the full normalized alert is `alert`). */
export interface IncidentAlertSummary {
  readonly alertId: string;
  readonly incidentId: string | null;
  readonly title: string;
  readonly severity: Severity;
  readonly status: string;
  readonly providerName: string;
  readonly productName: string;
  readonly ruleId: string | null;
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly startTime: string;
  readonly endTime: string;
  readonly timeGenerated: string;
  readonly receivedAt: string;
}

/** Which rule of the engine put an alert in an incident, or changed the incident's alert set. */
export type LinkRule =
  | 'new-incident'
  | 'rule-grouping'
  | 'shared-entity'
  | 'stage-sequence'
  | 'bridging-merge'
  | 'manual-merge'
  | 'manual-split'
  | 'manual-move';

/** A guardrail that stopped a join or a merge. */
export type Guardrail = 'closed' | 'owner' | 'classification' | 'entity-cap';

export interface LinkEntity {
  readonly type: string;
  readonly displayName: string;
  /** The identity keys that matched. */
  readonly keys: readonly string[];
}

/** Why an alert is in an incident (or why two incidents were merged): shown in the incident. */
export interface LinkReason {
  readonly rule: LinkRule;
  /** One sentence, for people. */
  readonly summary: string;
  /** The shared entities that made the link. */
  readonly entities?: readonly LinkEntity[];
  /** Alerts already in the incident that carry those entities. */
  readonly relatedAlerts?: readonly string[];
  /** Rule grouping: the rule, its matching method and the group's key. */
  readonly grouping?: {
    readonly ruleId: string;
    readonly matchingMethod: string;
    readonly groupKey: string;
    readonly reopened?: boolean;
  };
  /** Stage sequence: the tactics already in the incident and the alert's. */
  readonly stages?: { readonly incident: readonly string[]; readonly alert: readonly string[] };
  readonly windowMs?: number;
  /** Merges: the incidents involved. */
  readonly mergedFrom?: readonly { readonly id: string; readonly number: number }[];
  readonly mergedInto?: { readonly id: string; readonly number: number };
  /** Entities that were too common to link (share of recent alerts at or above the threshold). */
  readonly commonEntities?: readonly (LinkEntity & { readonly share: number })[];
  /** Incidents the alert matched but could not join or merge, and why. */
  readonly refused?: readonly {
    readonly incidentId: string;
    readonly number: number;
    readonly guardrail: Guardrail;
    readonly detail: string;
  }[];
}

export interface IncidentLink {
  readonly id: number;
  readonly incidentId: string;
  /** The alert the link is about (null for merges of whole incidents). */
  readonly alertId: string | null;
  readonly at: string;
  readonly actor: Actor;
  readonly reason: LinkReason;
}

export interface Comment {
  readonly id: string;
  readonly incidentId: string;
  readonly message: string;
  readonly author: Actor;
  readonly createdTime: string;
  readonly lastModifiedTime: string;
}

export type TaskStatus = 'New' | 'Completed';

export interface Task {
  readonly id: string;
  readonly incidentId: string;
  readonly title: string;
  readonly description: string;
  readonly status: TaskStatus;
  readonly assignee: string | null;
  readonly createdBy: Actor;
  readonly lastModifiedBy: Actor;
  readonly createdTime: string;
  readonly lastModifiedTime: string;
  readonly completedTime: string | null;
}

export interface FieldChange {
  readonly field: string;
  readonly from: unknown;
  readonly to: unknown;
}

/** One entry of an incident's audit trail. */
export interface AuditEntry {
  readonly id: number;
  readonly incidentId: string;
  readonly at: string;
  readonly actor: Actor;
  /** `created`, `updated`, `alert-added`, `merged`, `merged-into`, `split`, `reopened`, `comment-added`, ... */
  readonly action: string;
  readonly changes: readonly FieldChange[];
  readonly note?: string;
}

export type IncidentEventType = 'IncidentCreated' | 'IncidentUpdated' | 'AlertCreated';

/**
 * A change event, stored in the same transaction as the change (a durable feed: `events(afterSeq)`), then handed
 * to listeners in order. Automation rules (issue 7) trigger on these, with Sentinel's conditions: who updated it,
 * which fields changed (`alerts`, `comments`, `owner`, `severity`, `status`, `tags`, `tactics`, ...).
 */
export interface IncidentEvent {
  readonly seq: number;
  readonly type: IncidentEventType;
  readonly at: string;
  readonly incidentId: string | null;
  readonly alertId: string | null;
  readonly actor: Actor;
  /** Changed fields (IncidentUpdated). */
  readonly changes: readonly string[];
  /**
   * The incident after the change (IncidentCreated / IncidentUpdated). AlertCreated carries only `incidentId`: the
   * same transaction's IncidentCreated / IncidentUpdated event holds the incident.
   */
  readonly incident: Incident | null;
  /** The alert (AlertCreated). */
  readonly alert: IncidentAlertSummary | null;
}

/** The engine's settings (stored in the state store; changed with `updateSettings`). */
export interface IncidentSettings {
  readonly correlation: {
    /** Off: alerts only group by rule configuration (or get one incident each), as Sentinel alone does. */
    readonly enabled: boolean;
    /** Alerts sharing an entity within this time of each other join one incident. */
    readonly sharedEntityWindowMs: number;
    /** Alerts that follow each other as attack stages on a shared entity join within this longer time. */
    readonly stageWindowMs: number;
    /** No join or automatic merge makes an incident hold more entities than this. */
    readonly maxEntitiesPerIncident: number;
  };
  readonly commonEntities: {
    /** An entity in at least this share of recent alerts does not link alerts (0.05 = 5%). */
    readonly share: number;
    /** "Recent": alerts received within this time. */
    readonly windowMs: number;
    /** The share is only judged once this many alerts were received in the window. */
    readonly minAlerts: number;
    /** Identity keys or values that never link (known domain controllers, proxies, scanners). */
    readonly excluded: readonly string[];
  };
}

export const DEFAULT_SETTINGS: IncidentSettings = {
  correlation: {
    enabled: true,
    sharedEntityWindowMs: 24 * 3600_000,
    stageWindowMs: 7 * 24 * 3600_000,
    maxEntitiesPerIncident: 500,
  },
  commonEntities: { share: 0.05, windowMs: 24 * 3600_000, minAlerts: 100, excluded: [] },
};

/** An incident with everything the incident page shows (alerts, entities and audit paged). */
export interface IncidentDetail {
  readonly incident: Incident;
  readonly alerts: Page<IncidentAlertSummary>;
  readonly entities: Page<IncidentEntity>;
  /** Alerts ↔ entities for the alerts and entities of the pages above. */
  readonly graph: IncidentGraph;
  readonly links: Page<IncidentLink>;
  readonly comments: readonly Comment[];
  readonly tasks: readonly Task[];
  readonly audit: Page<AuditEntry>;
  /** Incidents merged into this one. */
  readonly mergedFrom: readonly { readonly id: string; readonly number: number }[];
}

export interface IncidentGraph {
  readonly nodes: readonly (
    | { readonly id: string; readonly kind: 'alert'; readonly label: string; readonly severity: Severity }
    | { readonly id: string; readonly kind: 'entity'; readonly label: string; readonly type: string }
  )[];
  readonly edges: readonly { readonly from: string; readonly to: string }[];
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Pass as `cursor` for the next page; null at the end. */
  readonly nextCursor: string | null;
  /** The total when it is cheap to know (counts kept on the incident). */
  readonly total?: number;
}
