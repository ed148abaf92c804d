/**
 * The automation model: automation rules (trigger, conditions, ordered actions), task lists, playbook runs and
 * their steps, approvals of response actions, and action policies. Plain JSON-serializable data shared by the
 * engine, the runtime, the state repositories and the API.
 */
import type { Actor, Classification, IncidentStatus, Owner, Severity } from '../incidents/model.js';

// ───────────────────────────── automation rules ─────────────────────────────

export type RuleTrigger = 'incidentCreated' | 'incidentUpdated' | 'alertCreated';
export const RULE_TRIGGERS: readonly RuleTrigger[] = ['incidentCreated', 'incidentUpdated', 'alertCreated'];

export type ConditionOperator =
  | 'equals'
  | 'notEquals'
  | 'contains'
  | 'notContains'
  | 'startsWith'
  | 'notStartsWith'
  | 'endsWith'
  | 'notEndsWith'
  | 'in'
  | 'notIn'
  | 'changed'
  | 'changedTo'
  | 'changedFrom'
  | 'added';

export const CONDITION_OPERATORS: readonly ConditionOperator[] = [
  'equals',
  'notEquals',
  'contains',
  'notContains',
  'startsWith',
  'notStartsWith',
  'endsWith',
  'notEndsWith',
  'in',
  'notIn',
  'changed',
  'changedTo',
  'changedFrom',
  'added',
];

/** One test on a property (case-insensitive; a multi-valued property matches when any of its values does). */
export interface PropertyCondition {
  readonly property: string;
  readonly operator: ConditionOperator;
  /** Matches when the property matches any of these (negative operators: none of these). */
  readonly values: readonly string[];
}

export type ConditionNode =
  | PropertyCondition
  | { readonly all: readonly ConditionNode[] }
  | { readonly any: readonly ConditionNode[] };

export interface TaskTemplate {
  readonly title: string;
  readonly description?: string;
}

export type RuleAction =
  | {
      readonly type: 'changeStatus';
      readonly status: IncidentStatus;
      readonly classification?: Classification;
      readonly classificationReason?: string;
      readonly classificationComment?: string;
    }
  | { readonly type: 'changeSeverity'; readonly severity: Severity }
  | { readonly type: 'assignOwner'; readonly owner: Owner }
  | { readonly type: 'addTags'; readonly tags: readonly string[] }
  /** Tasks written inline, or the tasks of a named task list (read when the rule runs). */
  | { readonly type: 'addTasks'; readonly list?: string; readonly tasks: readonly TaskTemplate[] }
  | { readonly type: 'runPlaybook'; readonly playbookId: string };

export type RuleActionType = RuleAction['type'];

export interface AutomationRuleDefinition {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** Rules run in ascending order (ties: by id). */
  readonly order: number;
  readonly enabled: boolean;
  readonly trigger: RuleTrigger;
  /** The rule stops running at this time (ISO), if set. */
  readonly expiresAt: string | null;
  /** null: every incident (or alert) of the trigger. */
  readonly conditions: ConditionNode | null;
  readonly actions: readonly RuleAction[];
}

export interface AutomationRule extends AutomationRuleDefinition {
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly updatedBy: Actor;
  /** The YAML the rule was saved from (null when saved as JSON through the API). */
  readonly source: string | null;
}

export interface TaskList {
  readonly id: string;
  readonly name: string;
  readonly tasks: readonly TaskTemplate[];
  readonly updatedAt: string;
}

/** What one rule did for one event (kept for the rule's history and health). */
export interface RuleExecution {
  readonly id: number;
  readonly ruleId: string;
  readonly eventSeq: number;
  readonly trigger: RuleTrigger;
  readonly incidentId: string | null;
  readonly alertId: string | null;
  readonly at: string;
  /** `applied`, `failed` (an action failed; later actions were still tried). */
  readonly outcome: 'applied' | 'failed';
  readonly actions: readonly { readonly type: RuleActionType; readonly ok: boolean; readonly detail?: string }[];
}

// ───────────────────────────── playbook runs ─────────────────────────────

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'aborted' | 'rejected' | 'expired';
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'aborted', 'rejected', 'expired'];

export type StepStatus =
  | 'running'
  | 'waiting'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'rejected'
  | 'expired'
  | 'aborted';

export type TriggerKind = 'incident' | 'alert' | 'entity' | 'manual';

/** What started a run, resolved when it was queued (so a resumed run sees the same trigger). */
export interface RunTrigger {
  readonly kind: TriggerKind;
  readonly incidentId: string | null;
  readonly alertId: string | null;
  /** The incident (queue fields) when the run was queued. */
  readonly incident: Readonly<Record<string, unknown>> | null;
  readonly alert: Readonly<Record<string, unknown>> | null;
  /** The incident's (or alert's) entities, flattened: `{type, name, ...fields}`. */
  readonly entities: readonly Readonly<Record<string, unknown>>[];
  /** The entity of an entity-triggered run. */
  readonly entity: Readonly<Record<string, unknown>> | null;
  readonly inputs: Readonly<Record<string, unknown>>;
  /** The automation rule (or person) that started the run. */
  readonly startedBy: Actor;
}

export interface PlaybookRun {
  readonly id: string;
  readonly playbookId: string;
  readonly playbookVersion: number;
  readonly playbookName: string;
  readonly status: RunStatus;
  readonly trigger: RunTrigger;
  readonly incidentId: string | null;
  /** Set when the run was started with an idempotency key (a rule's event): the same key is the same run. */
  readonly idempotencyKey: string | null;
  readonly rerunOf: string | null;
  readonly queuedAt: string;
  readonly startedAt: string | null;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  /** Times the runtime (re)started executing the run: above 1 after a restart resumed it. */
  readonly executions: number;
  readonly error: string | null;
  readonly abortedBy: Actor | null;
}

export interface StepRecord {
  readonly runId: string;
  /** Unique in the run: the step id, with the loop position for steps inside loops (`per-ip[2].ti`). */
  readonly key: string;
  readonly stepId: string;
  readonly type: string;
  readonly status: StepStatus;
  readonly attempts: number;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** The rendered input, secrets masked. */
  readonly input: unknown;
  readonly output: unknown;
  readonly error: string | null;
  /** Sent with side effects (`Idempotency-Key`), stable across retries and restarts. */
  readonly idempotencyKey: string | null;
  /** Order of first execution in the run. */
  readonly seq: number;
}

export interface RunLogEntry {
  readonly runId: string;
  readonly seq: number;
  readonly at: string;
  readonly stepKey: string | null;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}

// ───────────────────────────── approvals and actions ─────────────────────────────

export type ApprovalStatus =
  | 'pending'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'cancelled'
  | 'executing'
  | 'succeeded'
  | 'failed';

export type ApprovalKind = 'action' | 'approval';

export interface ActionTarget {
  /** `device`, `user`, `file`, `ip`, `url`, `email`, ... */
  readonly type: string;
  readonly id: string;
  /** Extra identifiers (device id of a file, mailbox of a message, ...). */
  readonly details?: Readonly<Record<string, string>>;
}

/** A request for a human decision: a response action, or a playbook's approval step. */
export interface Approval {
  readonly id: string;
  readonly kind: ApprovalKind;
  /** The response action (kind `action`). */
  readonly action: string | null;
  readonly target: ActionTarget | null;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly title: string;
  readonly description: string;
  readonly incidentId: string | null;
  readonly alertId: string | null;
  readonly runId: string | null;
  readonly stepKey: string | null;
  readonly requestedBy: Actor;
  readonly requestedAt: string;
  readonly expiresAt: string;
  readonly status: ApprovalStatus;
  /** Who decided (an analyst, or `policy` for automatic execution), when, and why. */
  readonly decidedBy: Actor | null;
  readonly decidedAt: string | null;
  readonly decisionComment: string | null;
  /** The adapter's answer (actions). */
  readonly result: ActionResult | null;
  readonly executedAt: string | null;
  readonly attempts: number;
}

export type PolicyMode = 'approval' | 'auto';

export interface ActionPolicy {
  readonly action: string;
  readonly mode: PolicyMode;
  /** How long a request waits for a decision (default 7 days). */
  readonly expiryMs: number;
  readonly updatedBy: Actor | null;
  readonly updatedAt: string | null;
}

export interface ActionResult {
  readonly status: 'succeeded' | 'failed';
  readonly message: string;
  /** The bridge's own id for the operation (e.g. the EDR's machine action id). */
  readonly externalId: string | null;
  readonly details: unknown;
}

export const DEFAULT_APPROVAL_EXPIRY_MS = 7 * 86_400_000;
