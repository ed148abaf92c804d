/**
 * The detection rule model: what a Sentinel analytics-rule YAML (Scheduled, NRT) or a Defender custom detection
 * becomes after parsing. Plain data (JSON-serializable): the state store keeps it as the rule's definition, next to
 * the original YAML text, which export gives back when the rule was not edited.
 */

export type RuleKind = 'Scheduled' | 'NRT' | 'CustomDetection';
export type Severity = 'Informational' | 'Low' | 'Medium' | 'High';
export const SEVERITIES: readonly Severity[] = ['Informational', 'Low', 'Medium', 'High'];

/** Sentinel's trigger operators (YAML short forms; the ARM forms `GreaterThan`, ... are accepted on import). */
export type TriggerOperator = 'gt' | 'lt' | 'eq' | 'ne';

export interface FieldMapping {
  readonly identifier: string;
  readonly columnName: string;
}

export interface EntityMapping {
  readonly entityType: string;
  readonly fieldMappings: readonly FieldMapping[];
}

export interface AlertDynamicProperty {
  readonly alertProperty: string;
  readonly value: string;
}

/** Alert details taken from result columns (`{{Column}}` placeholders in the formats). */
export interface AlertDetailsOverride {
  readonly alertDisplayNameFormat?: string;
  readonly alertDescriptionFormat?: string;
  readonly alertTacticsColumnName?: string;
  readonly alertSeverityColumnName?: string;
  readonly alertDynamicProperties?: readonly AlertDynamicProperty[];
}

export type AggregationKind = 'SingleAlert' | 'AlertPerResult';

/** Defender's response actions (Graph `microsoft.graph.security.*ResponseAction`), requested, never executed here. */
export type ResponseActionType =
  | 'isolateDevice'
  | 'collectInvestigationPackage'
  | 'runAntivirusScan'
  | 'initiateInvestigation'
  | 'restrictAppExecution'
  | 'stopAndQuarantineFile'
  | 'disableUser'
  | 'forceUserPasswordReset'
  | 'markUserAsCompromised';

export interface ResponseActionSpec {
  readonly type: ResponseActionType;
  /** The result column holding the target (Graph's identifier, e.g. `deviceId` → the `DeviceId` column). */
  readonly identifier: string;
  /** Extra settings, e.g. `isolationType: full`. */
  readonly parameters: Readonly<Record<string, string>>;
}

/** Defender custom detection settings (Graph `detectionRule`). */
export interface CustomDetectionSettings {
  /** `0` (continuous, NRT), `1H`, `3H`, `12H`, `24H`. */
  readonly period: '0' | '1H' | '3H' | '12H' | '24H';
  /** Impacted assets: result columns that identify the entities (`deviceId`, `accountObjectId`, ...). */
  readonly impactedAssets: readonly { readonly type: string; readonly identifier: string }[];
  readonly category: string;
  readonly recommendedActions: string | null;
  readonly responseActions: readonly ResponseActionSpec[];
}

/** A rule file's inline test: rows to load per table, then the alerts the rule must raise. */
export interface RuleTest {
  readonly name: string;
  /** now() for the evaluation (ISO); default: the time of the test. */
  readonly now?: string;
  readonly rows: Readonly<Record<string, readonly Readonly<Record<string, unknown>>[]>>;
  readonly expect: {
    /** Exact number of alerts. */
    readonly alerts?: number;
    /** Each listed alert must match one raised alert (subset match on the given fields). */
    readonly contains?: readonly Readonly<Record<string, unknown>>[];
  };
}

export interface RuleDefinition {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly kind: RuleKind;
  readonly severity: Severity;
  readonly query: string;
  /** How often the rule runs (Scheduled; also the fallback schedule of NRT rules that cannot run per batch). */
  readonly queryFrequencyMs: number;
  /** How far back each run reads, by ingestion time. */
  readonly queryPeriodMs: number;
  readonly triggerOperator: TriggerOperator;
  readonly triggerThreshold: number;
  readonly tactics: readonly string[];
  /** MITRE technique ids, sub-techniques included (`T1059.001`). */
  readonly techniques: readonly string[];
  readonly entityMappings: readonly EntityMapping[];
  /** Columns holding Sentinel entities as JSON (`sentinelEntitiesMappings`). */
  readonly sentinelEntitiesColumns: readonly string[];
  /** Custom detail key → result column. */
  readonly customDetails: Readonly<Record<string, string>>;
  readonly alertDetailsOverride: AlertDetailsOverride | null;
  readonly aggregationKind: AggregationKind;
  /** Whether alerts should open incidents (issue 6 reads it with the rest of `incidentConfiguration`). */
  readonly createIncident: boolean;
  /** The YAML's `incidentConfiguration`, as written (grouping settings for the incident engine). */
  readonly incidentConfiguration: Readonly<Record<string, unknown>> | null;
  readonly suppressionEnabled: boolean;
  readonly suppressionDurationMs: number;
  readonly enabled: boolean;
  readonly version: string;
  readonly customDetection: CustomDetectionSettings | null;
  readonly tests: readonly RuleTest[];
}

/** How the scheduler runs a rule (decided at import from the kind and the query's plan). */
export type ScheduleMode = 'scheduled' | 'nrt' | 'nrt-fallback';

export const MIN_FREQUENCY_MS = 5 * 60_000;
export const MAX_PERIOD_MS = 14 * 24 * 3600_000;
/** NRT rules that cannot run per batch run on this schedule instead (Sentinel runs NRT rules once a minute). */
export const NRT_FALLBACK_FREQUENCY_MS = 60_000;
/** Sentinel's cap on alerts per run in alert-per-result mode (the last one summarizes all results). */
export const MAX_ALERTS_PER_RUN = 150;

/** Defender custom detection frequencies and their lookbacks. */
export const CUSTOM_DETECTION_SCHEDULES: Readonly<
  Record<CustomDetectionSettings['period'], { frequencyMs: number; lookbackMs: number }>
> = {
  '0': { frequencyMs: 0, lookbackMs: 0 },
  '1H': { frequencyMs: 3600_000, lookbackMs: 4 * 3600_000 },
  '3H': { frequencyMs: 3 * 3600_000, lookbackMs: 12 * 3600_000 },
  '12H': { frequencyMs: 12 * 3600_000, lookbackMs: 48 * 3600_000 },
  '24H': { frequencyMs: 24 * 3600_000, lookbackMs: 30 * 24 * 3600_000 },
};

/** Columns a custom detection's results may use as the impacted entity (Defender's list). */
export const CUSTOM_DETECTION_ENTITY_COLUMNS: readonly string[] = [
  'DeviceId',
  'DeviceName',
  'RemoteDeviceName',
  'RecipientEmailAddress',
  'SenderFromAddress',
  'SenderMailFromAddress',
  'RecipientObjectId',
  'AccountObjectId',
  'AccountSid',
  'AccountUpn',
  'InitiatingProcessAccountSid',
  'InitiatingProcessAccountUpn',
  'InitiatingProcessAccountObjectId',
];
