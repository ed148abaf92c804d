/**
 * Automation rule files (YAML, or JSON through the API): parsing and validation with diagnostics on the field they
 * are about. A condition on the incident title is accepted with a warning: Defender XDR names incidents itself and
 * renames them as alerts join and incidents merge, so a title is a brittle criterion.
 *
 * ```yaml
 * id: defender-xdr-triage
 * name: Tag and route Defender XDR incidents
 * order: 1
 * trigger: incidentCreated          # incidentCreated | incidentUpdated | alertCreated
 * expiresAt: 2027-01-01T00:00:00Z   # optional
 * conditions:                       # a list (all must hold), or {all: [...]} / {any: [...]}, nested freely
 *   any:
 *     - { property: provider, operator: equals, value: Microsoft XDR }
 *     - { property: product, operator: in, values: [Microsoft 365 Defender] }
 * actions:                          # in order
 *   - addTags: [defender-xdr]
 *   - assignOwner: Tier 1 queue
 *   - addTasks: { list: defender-xdr-triage }
 *   - runPlaybook: enrich-incident-ips
 * ```
 */
import {
  CLASSIFICATION_REASONS,
  CLASSIFICATIONS,
  type Classification,
  INCIDENT_STATUSES,
  type IncidentStatus,
  type Owner,
  SEVERITY_BY_RANK,
  type Severity,
} from '../incidents/model.js';
import { conditionProblem, ENTITY_TYPES, leafConditions, propertyInfo } from './conditions.js';
import {
  type AutomationRuleDefinition,
  CONDITION_OPERATORS,
  type ConditionNode,
  type ConditionOperator,
  RULE_TRIGGERS,
  type RuleAction,
  type RuleTrigger,
  type TaskTemplate,
} from './model.js';
import { type AutomationDiagnostic, type PathPart, Source } from './source.js';

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const TITLE_CONDITION_WARNING =
  'Incident titles are generated and change as alerts join and incidents merge (Defender XDR names incidents ' +
  'automatically): prefer stable criteria such as tags, product, provider, severity or entities.';

export interface ParsedRule {
  readonly rule: AutomationRuleDefinition | null;
  readonly diagnostics: readonly AutomationDiagnostic[];
  readonly text: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses one rule from YAML or JSON text. */
export function parseRule(text: string, options: { now?: number } = {}): ParsedRule {
  const src = new Source(text);
  const rule = src.ok ? new RuleReader(src, options.now ?? Date.now()).read() : null;
  return { rule: src.ok ? rule : null, diagnostics: src.diagnostics, text };
}

/** Parses a rule given as a value (API JSON): positions refer to its JSON text. */
export function parseRuleValue(value: unknown, options: { now?: number } = {}): ParsedRule {
  return parseRule(JSON.stringify(value, null, 2), options);
}

const ACTION_KEYS = ['changeStatus', 'changeSeverity', 'assignOwner', 'addTags', 'addTasks', 'runPlaybook'] as const;

class RuleReader {
  constructor(
    private readonly src: Source,
    private readonly now: number,
  ) {}

  private err(path: readonly PathPart[], code: string, message: string): void {
    this.src.error(code, message, path);
  }

  read(): AutomationRuleDefinition | null {
    const v = this.src.value;
    if (!isObject(v)) {
      this.err([], 'rule.shape', 'a rule is a map with id, name, trigger, conditions and actions');
      return null;
    }
    const known = new Set([
      'id',
      'name',
      'description',
      'order',
      'enabled',
      'trigger',
      'expiresAt',
      'conditions',
      'actions',
    ]);
    for (const k of Object.keys(v)) {
      if (!known.has(k)) this.err([k], 'rule.unknown-field', `unknown field '${k}' (fields: ${[...known].join(', ')})`);
    }
    const id = this.string(v, 'id', true);
    if (id !== null && !ID_PATTERN.test(id))
      this.err(['id'], 'rule.id', 'an id is 1 to 128 letters, digits, dots, dashes or underscores');
    const name = this.string(v, 'name', true);
    if (name !== null && (!name.trim() || name.length > 256))
      this.err(['name'], 'rule.name', 'a name is 1 to 256 characters');
    const description = this.string(v, 'description', false) ?? '';
    let order = 100;
    if (v.order !== undefined) {
      if (typeof v.order !== 'number' || !Number.isInteger(v.order) || v.order < 1 || v.order > 1000)
        this.err(['order'], 'rule.order', 'order is a whole number from 1 to 1000 (rules run in ascending order)');
      else order = v.order;
    }
    let enabled = true;
    if (v.enabled !== undefined) {
      if (typeof v.enabled !== 'boolean') this.err(['enabled'], 'rule.enabled', 'enabled is true or false');
      else enabled = v.enabled;
    }
    let trigger: RuleTrigger | null = null;
    if (v.trigger === undefined)
      this.err(['trigger'], 'rule.trigger', `a rule needs a trigger: ${RULE_TRIGGERS.join(', ')}`);
    else if (!RULE_TRIGGERS.includes(v.trigger as RuleTrigger))
      this.err(['trigger'], 'rule.trigger', `trigger is one of ${RULE_TRIGGERS.join(', ')}`);
    else trigger = v.trigger as RuleTrigger;
    let expiresAt: string | null = null;
    if (v.expiresAt !== undefined && v.expiresAt !== null) {
      const ms = typeof v.expiresAt === 'string' ? Date.parse(v.expiresAt) : Number.NaN;
      if (!Number.isFinite(ms))
        this.err(['expiresAt'], 'rule.expires-at', 'expiresAt is an ISO 8601 date and time (2027-01-31T00:00:00Z)');
      else {
        expiresAt = new Date(ms).toISOString();
        if (ms <= this.now)
          this.src.warn('rule.expired', 'the rule has already expired: it will not run', ['expiresAt']);
      }
    }
    const conditions =
      v.conditions === undefined || v.conditions === null ? null : this.node(v.conditions, ['conditions']);
    if (trigger && conditions) this.checkConditions(conditions, trigger, v.conditions, ['conditions']);
    const actions = this.actions(v.actions, trigger);
    if (!this.src.ok || id === null || name === null || trigger === null) return null;
    return { id, name: name.trim(), description, order, enabled, trigger, expiresAt, conditions, actions };
  }

  private string(o: Record<string, unknown>, key: string, required: boolean): string | null {
    const x = o[key];
    if (x === undefined || x === null) {
      if (required) this.err([key], 'rule.required', `'${key}' is required`);
      return null;
    }
    if (typeof x !== 'string') {
      this.err([key], 'rule.type', `'${key}' is text`);
      return null;
    }
    return x;
  }

  // ── conditions ──

  private node(v: unknown, path: PathPart[]): ConditionNode | null {
    if (Array.isArray(v)) {
      const all = v.map((x, i) => this.node(x, [...path, i])).filter((x): x is ConditionNode => x !== null);
      return { all };
    }
    if (!isObject(v)) {
      this.err(
        path,
        'rule.condition',
        'a condition is {property, operator, value(s)} or a group {all: [...]} / {any: [...]}',
      );
      return null;
    }
    for (const group of ['all', 'any'] as const) {
      if (group in v) {
        if (Object.keys(v).length !== 1) {
          this.err(path, 'rule.condition', `a group has only '${group}' (nest groups to combine AND and OR)`);
          return null;
        }
        const items = v[group];
        if (!Array.isArray(items) || items.length === 0) {
          this.err([...path, group], 'rule.condition', `'${group}' is a non-empty list of conditions`);
          return null;
        }
        const list = items
          .map((x, i) => this.node(x, [...path, group, i]))
          .filter((x): x is ConditionNode => x !== null);
        return group === 'all' ? { all: list } : { any: list };
      }
    }
    for (const k of Object.keys(v)) {
      if (!['property', 'operator', 'value', 'values'].includes(k))
        this.err([...path, k], 'rule.condition', `unknown condition field '${k}' (property, operator, value, values)`);
    }
    if (typeof v.property !== 'string' || !v.property) {
      this.err([...path, 'property'], 'rule.condition', 'a condition needs a property');
      return null;
    }
    const op = v.operator;
    if (typeof op !== 'string' || !CONDITION_OPERATORS.includes(op as ConditionOperator)) {
      this.err([...path, 'operator'], 'rule.operator', `operator is one of ${CONDITION_OPERATORS.join(', ')}`);
      return null;
    }
    if (v.value !== undefined && v.values !== undefined) {
      this.err([...path, 'values'], 'rule.condition', "give 'value' or 'values', not both");
      return null;
    }
    const raw = v.values !== undefined ? v.values : v.value !== undefined ? [v.value] : [];
    const list = Array.isArray(raw) ? raw : [raw];
    const values: string[] = [];
    for (const [i, x] of list.entries()) {
      if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') values.push(String(x));
      else
        this.err(
          [...path, v.values !== undefined ? 'values' : 'value', ...(Array.isArray(raw) ? [i] : [])],
          'rule.condition',
          'condition values are text',
        );
    }
    return { property: v.property, operator: op as ConditionOperator, values };
  }

  private checkConditions(node: ConditionNode, trigger: RuleTrigger, raw: unknown, path: PathPart[]): void {
    // Walk the raw value alongside the node to report on the right path.
    const walk = (n: ConditionNode, r: unknown, p: PathPart[]) => {
      if ('all' in n || 'any' in n) {
        const key = 'all' in n ? 'all' : 'any';
        const items = 'all' in n ? n.all : n.any;
        const rawItems = Array.isArray(r) ? r : isObject(r) && Array.isArray(r[key]) ? (r[key] as unknown[]) : [];
        const base = Array.isArray(r) ? p : [...p, key];
        for (const [i, child] of items.entries()) walk(child, rawItems[i], [...base, i]);
        return;
      }
      const problem = conditionProblem(n, trigger);
      if (problem) {
        this.err([...p, propertyInfo(n.property) ? 'operator' : 'property'], 'rule.condition', problem);
        return;
      }
      if (n.property === 'title') this.src.warn('rule.title-condition', TITLE_CONDITION_WARNING, [...p, 'property']);
      if (n.property.startsWith('entity.') && !ENTITY_TYPES.includes(n.property.slice(7).toLowerCase()))
        this.src.warn(
          'rule.entity-type',
          `'${n.property.slice(7)}' is not a Sentinel entity type (${ENTITY_TYPES.slice(0, 8).join(', ')}, ...)`,
          [...p, 'property'],
        );
    };
    walk(node, raw, path);
    if (leafConditions(node).length === 0) this.err(path, 'rule.condition', 'the conditions are empty');
  }

  // ── actions ──

  private actions(v: unknown, trigger: RuleTrigger | null): RuleAction[] {
    if (!Array.isArray(v) || v.length === 0) {
      this.err(['actions'], 'rule.actions', `a rule needs a list of actions (${ACTION_KEYS.join(', ')})`);
      return [];
    }
    const out: RuleAction[] = [];
    for (const [i, a] of v.entries()) {
      const path: PathPart[] = ['actions', i];
      if (!isObject(a) || Object.keys(a).length !== 1) {
        this.err(path, 'rule.action', `an action is a map with one key: ${ACTION_KEYS.join(', ')}`);
        continue;
      }
      const [key, value] = Object.entries(a)[0] as [string, unknown];
      if (!(ACTION_KEYS as readonly string[]).includes(key)) {
        this.err([...path, key], 'rule.action', `unknown action '${key}' (${ACTION_KEYS.join(', ')})`);
        continue;
      }
      if (trigger === 'alertCreated' && key !== 'runPlaybook') {
        this.err(
          [...path, key],
          'rule.action',
          'rules on alertCreated can only run playbooks (an alert has no owner, tags or tasks)',
        );
        continue;
      }
      const action = this.action(key as (typeof ACTION_KEYS)[number], value, [...path, key]);
      if (action) out.push(action);
    }
    return out;
  }

  private action(key: (typeof ACTION_KEYS)[number], v: unknown, path: PathPart[]): RuleAction | null {
    switch (key) {
      case 'changeSeverity':
        if (typeof v !== 'string' || !SEVERITY_BY_RANK.includes(v as Severity)) {
          this.err(path, 'rule.action', `severity is one of ${SEVERITY_BY_RANK.join(', ')}`);
          return null;
        }
        return { type: 'changeSeverity', severity: v as Severity };
      case 'changeStatus': {
        const o = typeof v === 'string' ? { status: v } : v;
        if (!isObject(o)) {
          this.err(
            path,
            'rule.action',
            'changeStatus is a status, or {status, classification, classificationReason, comment}',
          );
          return null;
        }
        const status = o.status;
        if (typeof status !== 'string' || !INCIDENT_STATUSES.includes(status as IncidentStatus)) {
          this.err([...path, 'status'], 'rule.action', `status is one of ${INCIDENT_STATUSES.join(', ')}`);
          return null;
        }
        const classification = o.classification;
        if (classification !== undefined && !CLASSIFICATIONS.includes(classification as Classification)) {
          this.err(
            [...path, 'classification'],
            'rule.action',
            `classification is one of ${CLASSIFICATIONS.join(', ')}`,
          );
          return null;
        }
        if (status === 'Closed' && classification === undefined) {
          this.err(path, 'rule.action', 'closing an incident needs a classification');
          return null;
        }
        if (status !== 'Closed' && classification !== undefined) {
          this.err([...path, 'classification'], 'rule.action', 'a classification goes with closing (status: Closed)');
          return null;
        }
        const reason = o.classificationReason;
        if (reason !== undefined) {
          const allowed = CLASSIFICATION_REASONS[classification as Classification] ?? [];
          if (typeof reason !== 'string' || !allowed.includes(reason)) {
            this.err(
              [...path, 'classificationReason'],
              'rule.action',
              `a ${String(classification)} incident's reason is one of: ${allowed.join(', ') || '(none)'}`,
            );
            return null;
          }
        }
        const comment = o.classificationComment ?? o.comment;
        if (comment !== undefined && typeof comment !== 'string') {
          this.err([...path, 'comment'], 'rule.action', 'the classification comment is text');
          return null;
        }
        for (const k of Object.keys(o))
          if (!['status', 'classification', 'classificationReason', 'classificationComment', 'comment'].includes(k))
            this.err([...path, k], 'rule.action', `unknown changeStatus field '${k}'`);
        return {
          type: 'changeStatus',
          status: status as IncidentStatus,
          ...(classification !== undefined ? { classification: classification as Classification } : {}),
          ...(typeof reason === 'string' ? { classificationReason: reason } : {}),
          ...(typeof comment === 'string' ? { classificationComment: comment } : {}),
        };
      }
      case 'assignOwner': {
        if (typeof v === 'string' && v.trim()) return { type: 'assignOwner', owner: { assignedTo: v.trim() } };
        if (isObject(v)) {
          const owner: Record<string, string> = {};
          for (const [k, x] of Object.entries(v)) {
            if (!['assignedTo', 'userPrincipalName', 'email', 'objectId'].includes(k))
              this.err(
                [...path, k],
                'rule.action',
                `unknown owner field '${k}' (assignedTo, userPrincipalName, email, objectId)`,
              );
            else if (typeof x !== 'string') this.err([...path, k], 'rule.action', `'${k}' is text`);
            else owner[k] = x;
          }
          if (Object.keys(owner).length > 0) return { type: 'assignOwner', owner: owner as Owner };
        }
        this.err(
          path,
          'rule.action',
          'assignOwner is a queue or person name, or {assignedTo, userPrincipalName, email, objectId}',
        );
        return null;
      }
      case 'addTags': {
        const list = typeof v === 'string' ? [v] : v;
        if (!Array.isArray(list) || list.length === 0 || list.some((t) => typeof t !== 'string' || !t.trim())) {
          this.err(path, 'rule.action', 'addTags is a tag or a list of tags');
          return null;
        }
        return { type: 'addTags', tags: list.map((t) => String(t).trim()) };
      }
      case 'addTasks': {
        let listName: string | undefined;
        let raw: unknown = v;
        if (isObject(v)) {
          for (const k of Object.keys(v))
            if (k !== 'list' && k !== 'tasks')
              this.err([...path, k], 'rule.action', `unknown addTasks field '${k}' (list, tasks)`);
          if (v.list !== undefined) {
            if (typeof v.list !== 'string' || !ID_PATTERN.test(v.list)) {
              this.err([...path, 'list'], 'rule.action', 'list is the id of a task list');
              return null;
            }
            listName = v.list;
          }
          raw = v.tasks ?? [];
          path = v.tasks !== undefined ? [...path, 'tasks'] : path;
        }
        if (!Array.isArray(raw)) {
          this.err(path, 'rule.action', 'addTasks is a list of tasks, or {list: <task list id>}');
          return null;
        }
        const tasks: TaskTemplate[] = [];
        for (const [i, t] of raw.entries()) {
          const task = taskTemplate(t);
          if (!task) this.err([...path, i], 'rule.action', 'a task is a title, or {title, description}');
          else tasks.push(task);
        }
        if (tasks.length === 0 && !listName) {
          this.err(path, 'rule.action', 'addTasks needs tasks or a task list');
          return null;
        }
        return { type: 'addTasks', tasks, ...(listName ? { list: listName } : {}) };
      }
      case 'runPlaybook': {
        const id = isObject(v) ? v.playbook : v;
        if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
          this.err(path, 'rule.action', 'runPlaybook is the id of a playbook');
          return null;
        }
        return { type: 'runPlaybook', playbookId: id };
      }
    }
  }
}

/** A task of a rule or a task list: a title, or {title, description}. */
export function taskTemplate(t: unknown): TaskTemplate | null {
  if (typeof t === 'string' && t.trim()) return { title: t.trim() };
  if (isObject(t) && typeof t.title === 'string' && t.title.trim()) {
    if (t.description !== undefined && typeof t.description !== 'string') return null;
    if (Object.keys(t).some((k) => k !== 'title' && k !== 'description')) return null;
    return { title: t.title.trim(), ...(typeof t.description === 'string' ? { description: t.description } : {}) };
  }
  return null;
}

export interface ParsedTaskList {
  readonly list: { readonly id: string; readonly name: string; readonly tasks: readonly TaskTemplate[] } | null;
  readonly diagnostics: readonly AutomationDiagnostic[];
}

/** A task list file: `{id, name, tasks: [title | {title, description}]}`. */
export function parseTaskList(text: string): ParsedTaskList {
  const src = new Source(text);
  if (!src.ok) return { list: null, diagnostics: src.diagnostics };
  const v = src.value;
  if (!isObject(v)) {
    src.error('tasklist.shape', 'a task list is a map with id, name and tasks', []);
    return { list: null, diagnostics: src.diagnostics };
  }
  for (const k of Object.keys(v))
    if (!['id', 'name', 'tasks'].includes(k))
      src.error('tasklist.unknown-field', `unknown field '${k}' (id, name, tasks)`, [k]);
  if (typeof v.id !== 'string' || !ID_PATTERN.test(v.id))
    src.error('tasklist.id', 'a task list needs an id (letters, digits, dots, dashes, underscores)', ['id']);
  if (v.name !== undefined && typeof v.name !== 'string') src.error('tasklist.name', 'name is text', ['name']);
  const tasks: TaskTemplate[] = [];
  if (!Array.isArray(v.tasks) || v.tasks.length === 0)
    src.error('tasklist.tasks', 'tasks is a non-empty list', ['tasks']);
  else
    for (const [i, t] of v.tasks.entries()) {
      const task = taskTemplate(t);
      if (!task) src.error('tasklist.task', 'a task is a title, or {title, description}', ['tasks', i]);
      else tasks.push(task);
    }
  if (!src.ok) return { list: null, diagnostics: src.diagnostics };
  const id = v.id as string;
  return { list: { id, name: typeof v.name === 'string' ? v.name : id, tasks }, diagnostics: src.diagnostics };
}
