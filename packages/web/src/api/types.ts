/**
 * The API's shapes as the console reads them. Mirrors the server's plain models (`packages/server/src/incidents/
 * model.ts`, `detect/model.ts`, `automation/model.ts`, `auth/model.ts`): the console cannot import server code (it
 * runs in a browser), so the fields it uses are declared here; the API's OpenAPI document is the contract.
 */

export type Severity = 'Informational' | 'Low' | 'Medium' | 'High';
export const SEVERITIES: readonly Severity[] = ['High', 'Medium', 'Low', 'Informational'];
export type IncidentStatus = 'New' | 'Active' | 'Closed';
export const STATUSES: readonly IncidentStatus[] = ['New', 'Active', 'Closed'];
export type Classification = 'TruePositive' | 'BenignPositive' | 'FalsePositive' | 'Undetermined';
export const CLASSIFICATION_REASONS: Readonly<Record<Classification, readonly string[]>> = {
  TruePositive: ['SuspiciousActivity'],
  BenignPositive: ['SuspiciousButExpected'],
  FalsePositive: ['IncorrectAlertLogic', 'InaccurateData'],
  Undetermined: [],
};

export interface Actor {
  readonly type: 'analyst' | 'automation-rule' | 'playbook' | 'sync' | 'system';
  readonly id: string;
  readonly name?: string;
}

export interface Owner {
  readonly objectId?: string | null;
  readonly email?: string | null;
  readonly userPrincipalName?: string | null;
  readonly assignedTo?: string | null;
}

export interface Incident {
  readonly id: string;
  readonly number: number;
  readonly title: string;
  readonly description: string;
  readonly severity: Severity;
  readonly status: IncidentStatus;
  readonly classification: Classification | null;
  readonly classificationReason: string | null;
  readonly classificationComment: string | null;
  readonly owner: Owner | null;
  readonly tags: readonly string[];
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly providerName: string;
  readonly productNames: readonly string[];
  readonly ruleIds: readonly string[];
  readonly firstActivityTime: string | null;
  readonly lastActivityTime: string | null;
  readonly createdTime: string;
  readonly lastModifiedTime: string;
  readonly closedTime: string | null;
  readonly redirectedTo: string | null;
  readonly alertCount: number;
  readonly entityCount: number;
  readonly commentCount: number;
  readonly taskCount: number;
  readonly openTaskCount: number;
  readonly version: number;
  readonly lastModifiedBy: Actor;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
  readonly total?: number;
}

export interface IncidentEntity {
  readonly id: number;
  readonly type: string;
  readonly displayName: string;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly keys: readonly string[];
  readonly alertCount: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
}

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

export interface LinkEntity {
  readonly type: string;
  readonly displayName: string;
  readonly keys: readonly string[];
}

export interface LinkReason {
  readonly rule: string;
  readonly summary: string;
  readonly entities?: readonly LinkEntity[];
  readonly relatedAlerts?: readonly string[];
  readonly grouping?: { readonly ruleId: string; readonly matchingMethod: string; readonly groupKey: string };
  readonly stages?: { readonly incident: readonly string[]; readonly alert: readonly string[] };
  readonly mergedFrom?: readonly { readonly id: string; readonly number: number }[];
  readonly mergedInto?: { readonly id: string; readonly number: number };
  readonly commonEntities?: readonly (LinkEntity & { readonly share: number })[];
  readonly refused?: readonly {
    readonly incidentId: string;
    readonly number: number;
    readonly guardrail: string;
    readonly detail: string;
  }[];
}

export interface IncidentLink {
  readonly id: number;
  readonly incidentId: string;
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

export interface Task {
  readonly id: string;
  readonly incidentId: string;
  readonly title: string;
  readonly description: string;
  readonly status: 'New' | 'Completed';
  readonly assignee: string | null;
  readonly createdBy: Actor;
  readonly createdTime: string;
  readonly completedTime: string | null;
}

export interface AuditEntry {
  readonly id: number;
  readonly incidentId: string;
  readonly at: string;
  readonly actor: Actor;
  readonly action: string;
  readonly changes: readonly { readonly field: string; readonly from: unknown; readonly to: unknown }[];
  readonly note?: string;
}

export type GraphNode =
  | { readonly id: string; readonly kind: 'alert'; readonly label: string; readonly severity: Severity }
  | { readonly id: string; readonly kind: 'entity'; readonly label: string; readonly type: string };

export interface IncidentGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly { readonly from: string; readonly to: string }[];
}

export interface IncidentDetail {
  readonly incident: Incident;
  readonly alerts: Page<IncidentAlertSummary>;
  readonly entities: Page<IncidentEntity>;
  readonly graph: IncidentGraph;
  readonly links: Page<IncidentLink>;
  readonly comments: readonly Comment[];
  readonly tasks: readonly Task[];
  readonly audit: Page<AuditEntry>;
  readonly mergedFrom: readonly { readonly id: string; readonly number: number }[];
}

export interface IncidentPatch {
  readonly title?: string;
  readonly severity?: Severity;
  readonly status?: IncidentStatus;
  readonly classification?: Classification | null;
  readonly classificationReason?: string | null;
  readonly classificationComment?: string | null;
  readonly owner?: Owner | null;
  readonly tags?: readonly string[];
  readonly addTags?: readonly string[];
  readonly removeTags?: readonly string[];
}

export interface IncidentEvent {
  readonly seq: number;
  readonly type: 'IncidentCreated' | 'IncidentUpdated' | 'AlertCreated';
  readonly at: string;
  readonly incidentId: string | null;
  readonly incident: Incident | null;
}

// ───────────── queries ─────────────

export interface Column {
  readonly name: string;
  readonly type: string;
}

export interface QueryDiagnostic {
  readonly code: string;
  readonly message: string;
  readonly start: number;
  readonly length: number;
  readonly severity?: string;
}

export interface QueryResult {
  readonly columns: readonly Column[];
  /** The first page of rows (the console asks for pages as large as the API allows). */
  readonly rows: readonly (readonly unknown[])[];
  /** Rows in the whole result (more than `rows.length` when it was paged). */
  readonly rowCount: number;
  /** Cut at the row or size limit. */
  readonly truncated: boolean;
  /** The query's `render` operator, when it has one. */
  readonly visualization?: { readonly type: string; readonly properties?: Readonly<Record<string, unknown>> } | null;
  readonly warnings?: readonly QueryDiagnostic[];
  readonly statistics?: { readonly compileMs?: number; readonly engineMs?: number; readonly totalMs?: number };
  readonly resultId?: string | null;
  readonly nextCursor?: string | null;
}

export interface SavedQuery {
  readonly id: string;
  readonly name: string;
  readonly query: string;
  readonly description: string;
  readonly category: string;
  readonly tags: readonly string[];
  readonly visibility: 'shared' | 'private';
  readonly ownerName: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface TableInfo {
  readonly name: string;
  readonly columns: readonly Column[];
  readonly rows: number;
  readonly ingestedBytes?: number;
  readonly storageBytes?: number;
  readonly lastIngestion: string | null;
  readonly connector?: string | null;
  /** Paid ingestion as Sentinel bills it (the schema's `billing.freeInSentinel`), from the server. */
  readonly billable?: boolean;
  readonly retentionDays?: number;
  /** Collected: a deselected table refuses data. */
  readonly selected?: boolean;
}

// ───────────── rules ─────────────

export interface EntityMapping {
  readonly entityType: string;
  readonly fieldMappings: readonly { readonly identifier: string; readonly columnName: string }[];
}

export interface RuleDefinition {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly kind: 'Scheduled' | 'NRT' | 'CustomDetection';
  readonly severity: Severity;
  readonly query: string;
  readonly queryFrequencyMs: number;
  readonly queryPeriodMs: number;
  readonly triggerOperator: 'gt' | 'lt' | 'eq' | 'ne';
  readonly triggerThreshold: number;
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly entityMappings: readonly EntityMapping[];
  readonly customDetails: Readonly<Record<string, string>>;
  readonly suppressionEnabled: boolean;
  readonly suppressionDurationMs: number;
  readonly enabled: boolean;
  readonly version: string;
  readonly customDetection: {
    readonly period: string;
    readonly responseActions: readonly { readonly type: string; readonly identifier: string }[];
  } | null;
}

/** A rule as the API lists it (`GET /rules`). */
export interface StoredRule {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly severity: Severity;
  readonly enabled: boolean;
  /** `scheduled`, `nrt` or `nrt-fallback`. */
  readonly mode?: string;
  readonly tables?: readonly string[];
  readonly frequencyMs?: number;
  readonly periodMs?: number;
  /** Ingestion time up to which every window ran: how far behind the rule is. */
  readonly coveredUntil?: string | null;
  readonly definition: RuleDefinition;
  readonly createdAt?: string;
  readonly updatedAt?: string;
}

export interface RuleRun {
  readonly id?: number;
  readonly ruleId: string;
  readonly startedAt?: string;
  readonly status?: string;
  readonly rows?: number;
  readonly alerts?: number;
  readonly error?: string | null;
}

export interface RuleDiagnostic {
  readonly message: string;
  readonly severity?: string;
  readonly code?: string;
  readonly path?: string;
}

export interface RuleImportResult {
  readonly ruleId: string | null;
  readonly name?: string | null;
  readonly status: 'created' | 'updated' | 'unchanged' | 'rejected';
  readonly diagnostics: readonly RuleDiagnostic[];
}

export interface SimulatedAlert {
  readonly at: string;
  readonly title: string;
  readonly severity: Severity;
  readonly resultCount: number;
  readonly entities?: readonly { readonly type: string; readonly name: string }[];
}

// ───────────── automation ─────────────

export interface PropertyCondition {
  readonly property: string;
  readonly operator: string;
  readonly values: readonly string[];
}
export type ConditionNode =
  | PropertyCondition
  | { readonly all: readonly ConditionNode[] }
  | { readonly any: readonly ConditionNode[] };

export type RuleAction =
  | { readonly type: 'changeStatus'; readonly status: IncidentStatus; readonly classification?: Classification }
  | { readonly type: 'changeSeverity'; readonly severity: Severity }
  | { readonly type: 'assignOwner'; readonly owner: Owner }
  | { readonly type: 'addTags'; readonly tags: readonly string[] }
  | { readonly type: 'addTasks'; readonly tasks: readonly { readonly title: string; readonly description?: string }[] }
  | { readonly type: 'runPlaybook'; readonly playbookId: string };

export interface AutomationRule {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly order: number;
  readonly enabled: boolean;
  readonly trigger: 'incidentCreated' | 'incidentUpdated' | 'alertCreated';
  readonly expiresAt: string | null;
  readonly conditions: ConditionNode | null;
  readonly actions: readonly RuleAction[];
  readonly updatedAt?: string;
}

/** A problem in an automation rule or playbook (`path` names the field, offsets point into the source). */
export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly message: string;
  readonly path: string;
  readonly start?: number;
  readonly length?: number;
}

export interface PlaybookSummary {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly enabled: boolean;
  readonly trigger?: unknown;
  readonly createdAt: string;
}

export interface PlaybookDetail extends PlaybookSummary {
  /** The playbook's YAML as written. */
  readonly source: string;
}

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'aborted' | 'rejected' | 'expired';

export interface PlaybookRun {
  readonly id: string;
  readonly playbookId: string;
  readonly playbookName: string;
  readonly playbookVersion: number;
  readonly status: RunStatus;
  readonly incidentId: string | null;
  readonly queuedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: string | null;
  readonly trigger?: { readonly kind: string; readonly startedBy?: Actor };
}

export interface StepRecord {
  readonly key: string;
  readonly stepId: string;
  readonly type: string;
  readonly status: string;
  readonly attempts: number;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly output: unknown;
  readonly error: string | null;
}

export interface RunLogEntry {
  readonly seq: number;
  readonly at: string;
  readonly stepKey: string | null;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}

export interface RunDetail {
  readonly run: PlaybookRun;
  readonly steps: readonly StepRecord[];
  readonly logs: readonly RunLogEntry[];
  readonly approvals?: readonly Approval[];
}

export type ApprovalStatus =
  | 'pending'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'cancelled'
  | 'executing'
  | 'succeeded'
  | 'failed';

export interface Approval {
  readonly id: string;
  readonly kind: 'action' | 'approval';
  readonly action: string | null;
  readonly target: { readonly type: string; readonly id: string } | null;
  readonly title: string;
  readonly description: string;
  readonly incidentId: string | null;
  readonly runId: string | null;
  readonly requestedBy: Actor;
  readonly requestedAt: string;
  readonly expiresAt: string;
  readonly status: ApprovalStatus;
  readonly decidedBy: Actor | null;
  readonly decidedAt: string | null;
  readonly decisionComment: string | null;
}

// ───────────── connectors, usage, health ─────────────

export interface ConnectorTable {
  readonly name: string;
  /** Selected ("Connect events"): a deselected table refuses data. */
  readonly enabled: boolean;
  readonly billable: boolean;
  readonly rows: number;
  readonly lastIngestion: string | null;
}

export type ConnectorStatus = 'Connected' | 'Failing' | 'NoData' | 'Disabled';

export interface ConnectorError {
  readonly at: string;
  readonly table?: string | null;
  readonly code: string;
  readonly message: string;
}

export interface Connector {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly enabled: boolean;
  readonly status: ConnectorStatus;
  readonly lastData?: string | null;
  readonly lastError?: string | null;
  readonly errors?: readonly ConnectorError[];
  /** Rows and bytes per hour over the last 24 hours. */
  readonly hourly?: readonly { readonly hour: string; readonly rows: number; readonly bytes: number }[];
  readonly tables: readonly ConnectorTable[];
}

export interface UsagePoint {
  readonly day: string;
  readonly table: string;
  readonly bytes: number;
  readonly rows: number;
  readonly billable: boolean;
}

/** One table's ingestion over the period and who uses it (`GET /usage`). */
export interface UsageTable {
  readonly table: string;
  readonly connector?: string | null;
  readonly selected?: boolean;
  readonly rows: number;
  readonly bytes: number;
  readonly billableBytes: number;
  readonly billable: boolean;
  /** At the configured price; null while no price is set. */
  readonly cost: number | null;
  readonly rules: readonly { readonly id: string; readonly name: string; readonly enabled: boolean }[];
  /** Hunting queries that named the table in the period. */
  readonly huntQueries: number;
  readonly lastQueried?: string | null;
  /** No enabled rule reads it and no query named it in the period. */
  readonly unused: boolean;
}

export interface PriceSettings {
  /** Price per billable GB; null until someone sets it. */
  readonly pricePerGb: number | null;
  readonly currency: string;
}

export interface UsageReport extends PriceSettings {
  readonly from: string;
  readonly to: string;
  readonly days: number;
  readonly points: readonly UsagePoint[];
  readonly tables: readonly UsageTable[];
  readonly totals: {
    readonly rows: number;
    readonly bytes: number;
    readonly billableBytes: number;
    readonly cost: number | null;
  };
}

// ───────────── users ─────────────

export type Role = 'Reader' | 'Responder' | 'Contributor' | 'Owner';
export const ROLES: readonly Role[] = ['Reader', 'Responder', 'Contributor', 'Owner'];

export interface User {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly email: string | null;
  readonly serverAdmin: boolean;
  readonly disabled: boolean;
}

export interface Member {
  readonly user: User;
  readonly role: Role;
  readonly approver: boolean;
  /** A one-time code for the new user to set a password (when created without one). */
  readonly setupCode?: string | null;
}

export interface Workspace {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
}

export interface Me {
  readonly user: User;
  readonly method?: string;
  readonly workspaces: readonly (Workspace & {
    readonly role: Role | null;
    readonly approver: boolean;
    readonly permissions: readonly string[];
  })[];
}
