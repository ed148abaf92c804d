/**
 * Automation rule conditions: which properties exist, which operators each accepts, and their evaluation against
 * an incident (or alert) event. Text comparisons are case-insensitive, as in Sentinel. A multi-valued property
 * (tags, products, entities) matches a positive operator when any of its values does, and a negative operator
 * when none does. `changed*` and `added` only make sense for the incident-updated trigger.
 */
import type { Actor, Incident, IncidentAlertSummary } from '../incidents/model.js';
import type { ConditionNode, ConditionOperator, PropertyCondition, RuleTrigger } from './model.js';

export type PropertyScope = 'incident' | 'alert' | 'update' | 'entity' | 'details';

export interface PropertyInfo {
  readonly name: string;
  readonly scope: PropertyScope;
  readonly description: string;
  /** Operators `changedTo` / `changedFrom` / `changed` apply. */
  readonly changeable?: boolean;
  /** A list: `added` applies. */
  readonly list?: boolean;
  /** Only `added` / `changed` apply (alerts, comments, tasks). */
  readonly changeOnly?: boolean;
}

const P = (
  name: string,
  scope: PropertyScope,
  description: string,
  extra: Partial<PropertyInfo> = {},
): PropertyInfo => ({ name, scope, description, ...extra });

/** The properties conditions can test. `entity.<type>` and `customDetails.<key>` are patterns. */
export const PROPERTIES: readonly PropertyInfo[] = [
  P('title', 'incident', 'the incident title (generated; changes as incidents merge)', { changeable: true }),
  P('description', 'incident', 'the incident description', { changeable: true }),
  P('severity', 'incident', 'Informational, Low, Medium or High', { changeable: true }),
  P('status', 'incident', 'New, Active or Closed', { changeable: true }),
  P('classification', 'incident', 'TruePositive, BenignPositive, FalsePositive, Undetermined', { changeable: true }),
  P('owner', 'incident', "the owner's name, UPN, email or object id", { changeable: true }),
  P('tags', 'incident', 'the incident tags', { changeable: true, list: true }),
  P('tactics', 'incident', 'MITRE ATT&CK tactics', { changeable: true, list: true }),
  P('techniques', 'incident', 'MITRE ATT&CK technique ids', { list: true }),
  P('provider', 'incident', '`Microsoft XDR`, or `Azure Sentinel` when every alert is from Sentinel rules'),
  P('product', 'incident', "the alerts' product names (Microsoft Defender Advanced Threat Protection, ...)", {
    list: true,
  }),
  P('ruleId', 'incident', 'the analytics rules whose alerts are in the incident', { list: true }),
  P('alerts', 'update', 'alerts were added to the incident', { changeOnly: true, list: true }),
  P('comments', 'update', 'comments were added', { changeOnly: true, list: true }),
  P('tasks', 'update', 'tasks were added or changed', { changeOnly: true, list: true }),
  P('updatedBy', 'update', 'who made the update: analyst, automation-rule, playbook, sync or system'),
  P('alert.title', 'alert', 'the alert title'),
  P('alert.severity', 'alert', 'the alert severity'),
  P('alert.status', 'alert', 'the alert status'),
  P('alert.product', 'alert', 'the product that raised the alert'),
  P('alert.provider', 'alert', "the alert's provider name"),
  P('alert.ruleId', 'alert', 'the analytics rule that raised the alert'),
  P('alert.tactics', 'alert', "the alert's tactics", { list: true }),
  P('alert.techniques', 'alert', "the alert's techniques", { list: true }),
  P('entity', 'entity', 'any entity (display name or any identifier)', { list: true }),
  P('entity.<type>', 'entity', 'entities of one type (`entity.ip`, `entity.account`, `entity.host`, ...)', {
    list: true,
  }),
  P('customDetails.<key>', 'details', "a custom detail of the incident's (or alert's) alerts", { list: true }),
];

/** Sentinel's entity types (lower case, as entities carry them). */
export const ENTITY_TYPES: readonly string[] = [
  'account',
  'host',
  'ip',
  'url',
  'filehash',
  'file',
  'process',
  'mailbox',
  'mailmessage',
  'mailcluster',
  'cloudapplication',
  'dns',
  'azureresource',
  'registrykey',
  'registryvalue',
  'securitygroup',
  'iotdevice',
  'malware',
  'submissionmail',
  'network',
  'nic',
];

export function propertyInfo(name: string): PropertyInfo | null {
  const exact = PROPERTIES.find((p) => p.name === name);
  if (exact && !exact.name.includes('<')) return exact;
  if (/^entity\.[A-Za-z]+$/.test(name)) return PROPERTIES.find((p) => p.name === 'entity.<type>') ?? null;
  if (/^customDetails\.[^.\s]+$/.test(name)) return PROPERTIES.find((p) => p.name === 'customDetails.<key>') ?? null;
  return null;
}

const CHANGE_OPERATORS = new Set<ConditionOperator>(['changed', 'changedTo', 'changedFrom', 'added']);
const NEGATIVE: Partial<Record<ConditionOperator, ConditionOperator>> = {
  notEquals: 'equals',
  notContains: 'contains',
  notStartsWith: 'startsWith',
  notEndsWith: 'endsWith',
  notIn: 'in',
};

/** What is wrong with a condition for a trigger (null: nothing). */
export function conditionProblem(c: PropertyCondition, trigger: RuleTrigger): string | null {
  const info = propertyInfo(c.property);
  if (!info) return `unknown property '${c.property}'`;
  if (CHANGE_OPERATORS.has(c.operator)) {
    if (trigger !== 'incidentUpdated')
      return `'${c.operator}' needs the incidentUpdated trigger (it compares the incident before and after an update)`;
    if (c.operator === 'added' && !info.list) return `'added' applies to lists (tags, tactics, alerts, comments)`;
    if ((c.operator === 'changedTo' || c.operator === 'changedFrom') && !info.changeable)
      return `'${c.operator}' applies to ${PROPERTIES.filter((p) => p.changeable)
        .map((p) => p.name)
        .join(', ')}`;
    if (c.operator === 'changed' && !info.changeable && !info.changeOnly)
      return `'changed' does not apply to ${c.property}`;
  } else if (info.changeOnly) return `${c.property} only takes 'added' or 'changed'`;
  if (info.scope === 'update' && c.property === 'updatedBy' && trigger !== 'incidentUpdated')
    return 'updatedBy needs the incidentUpdated trigger';
  if (info.scope === 'alert' && trigger !== 'alertCreated')
    return `${c.property} needs the alertCreated trigger (incident triggers read incident properties)`;
  const needsValues = !(c.operator === 'changed' || c.operator === 'added');
  if (needsValues && c.values.length === 0) return `'${c.operator}' needs at least one value`;
  if ((c.operator === 'equals' || c.operator === 'notEquals') && c.values.length > 1)
    return `'${c.operator}' takes one value; use 'in' / 'notIn' for a list`;
  return null;
}

// ───────────────────────────── evaluation ─────────────────────────────

/** What conditions read; the slow parts (entities, custom details, previous values) load on first use. */
export interface ConditionContext {
  readonly trigger: RuleTrigger;
  /** The incident as the previous rules left it. */
  readonly incident: Incident | null;
  readonly alert: IncidentAlertSummary | null;
  /** Fields the update changed, plus those changed by earlier rules for this event. */
  readonly changes: ReadonlySet<string>;
  /** Who made the update (incidentUpdated). */
  readonly actor: Actor | null;
  entities(): Promise<readonly { readonly type: string; readonly values: readonly string[] }[]>;
  customDetails(): Promise<Readonly<Record<string, readonly string[]>>>;
  /** The value of a field before the update (undefined when not known). */
  previous(field: string): Promise<unknown>;
}

const lower = (s: string) => s.toLowerCase();

function ownerValues(o: unknown): string[] {
  if (!o || typeof o !== 'object') return [];
  const r = o as Record<string, unknown>;
  return ['assignedTo', 'userPrincipalName', 'email', 'objectId']
    .map((k) => r[k])
    .filter((v): v is string => typeof v === 'string' && v !== '');
}

/** The current values of a property (strings; empty for none). */
async function currentValues(property: string, ctx: ConditionContext): Promise<string[]> {
  const i = ctx.incident;
  const a = ctx.alert;
  if (property.startsWith('entity')) {
    const type = property === 'entity' ? null : lower(property.slice('entity.'.length));
    const out: string[] = [];
    for (const e of await ctx.entities()) if (type === null || e.type === type) out.push(...e.values);
    return out;
  }
  if (property.startsWith('customDetails.')) {
    const key = lower(property.slice('customDetails.'.length));
    const details = await ctx.customDetails();
    for (const [k, v] of Object.entries(details)) if (lower(k) === key) return [...v];
    return [];
  }
  switch (property) {
    case 'title':
      return i ? [i.title] : [];
    case 'description':
      return i ? [i.description] : [];
    case 'severity':
      return i ? [i.severity] : [];
    case 'status':
      return i ? [i.status] : [];
    case 'classification':
      return i?.classification ? [i.classification] : [];
    case 'owner':
      return ownerValues(i?.owner);
    case 'tags':
      return i ? [...i.tags] : [];
    case 'tactics':
      return i ? [...i.tactics] : [];
    case 'techniques':
      return i ? [...i.techniques] : [];
    case 'provider':
      return i ? [i.providerName] : a ? [a.providerName] : [];
    case 'product':
      return i ? [...i.productNames] : a ? [a.productName] : [];
    case 'ruleId':
      return i ? [...i.ruleIds] : a?.ruleId ? [a.ruleId] : [];
    case 'updatedBy':
      return ctx.actor ? [ctx.actor.type] : [];
    case 'alert.title':
      return a ? [a.title] : [];
    case 'alert.severity':
      return a ? [a.severity] : [];
    case 'alert.status':
      return a ? [a.status] : [];
    case 'alert.product':
      return a ? [a.productName] : [];
    case 'alert.provider':
      return a ? [a.providerName] : [];
    case 'alert.ruleId':
      return a?.ruleId ? [a.ruleId] : [];
    case 'alert.tactics':
      return a ? [...a.tactics] : [];
    case 'alert.techniques':
      return a ? [...a.techniques] : [];
    default:
      return [];
  }
}

function previousValues(property: string, v: unknown): string[] {
  if (v === null || v === undefined) return [];
  if (property === 'owner') return ownerValues(v);
  if (Array.isArray(v)) return v.map(String);
  return [String(v)];
}

function test(op: ConditionOperator, value: string, wanted: string): boolean {
  const v = lower(value);
  const w = lower(wanted);
  switch (op) {
    case 'equals':
    case 'in':
    case 'changedTo':
    case 'changedFrom':
    case 'added':
      return v === w;
    case 'contains':
      return v.includes(w);
    case 'startsWith':
      return v.startsWith(w);
    case 'endsWith':
      return v.endsWith(w);
    default:
      return false;
  }
}

const anyMatch = (op: ConditionOperator, values: readonly string[], wanted: readonly string[]) =>
  values.some((v) => wanted.some((w) => test(op, v, w)));

/** The event's change-set name of a property (the incident service's `changes` vocabulary). */
function changeField(property: string): string {
  return property === 'provider' ? 'providerName' : property;
}

export async function evaluateCondition(c: PropertyCondition, ctx: ConditionContext): Promise<boolean> {
  const negated = NEGATIVE[c.operator];
  if (negated) return !(await evaluateCondition({ ...c, operator: negated }, ctx));
  if (CHANGE_OPERATORS.has(c.operator)) {
    if (ctx.trigger !== 'incidentUpdated' || !ctx.changes.has(changeField(c.property))) return false;
    if (c.operator === 'changed') return true;
    if (c.operator === 'changedTo') return anyMatch('equals', await currentValues(c.property, ctx), c.values);
    if (c.operator === 'changedFrom') {
      const before = await ctx.previous(c.property);
      return anyMatch('equals', previousValues(c.property, before), c.values);
    }
    // added: new items of a list (any new item when no values are given).
    const info = propertyInfo(c.property);
    if (info?.changeOnly) return c.values.length === 0;
    const now = await currentValues(c.property, ctx);
    const beforeRaw = await ctx.previous(c.property);
    const before = new Set(previousValues(c.property, beforeRaw).map(lower));
    const added = beforeRaw === undefined ? now : now.filter((v) => !before.has(lower(v)));
    return c.values.length === 0 ? added.length > 0 : anyMatch('equals', added, c.values);
  }
  return anyMatch(c.operator, await currentValues(c.property, ctx), c.values);
}

export async function evaluateConditions(node: ConditionNode | null, ctx: ConditionContext): Promise<boolean> {
  if (node === null) return true;
  if ('all' in node) {
    for (const n of node.all) if (!(await evaluateConditions(n, ctx))) return false;
    return true;
  }
  if ('any' in node) {
    for (const n of node.any) if (await evaluateConditions(n, ctx)) return true;
    return false;
  }
  return evaluateCondition(node, ctx);
}

/** Every property condition of a tree, depth first. */
export function leafConditions(node: ConditionNode | null): PropertyCondition[] {
  if (node === null) return [];
  if ('all' in node) return node.all.flatMap(leafConditions);
  if ('any' in node) return node.any.flatMap(leafConditions);
  return [node];
}
