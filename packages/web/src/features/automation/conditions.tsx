/** The automation rule condition builder: AND/OR groups of property conditions, as Sentinel's editor has. */
import type { ConditionNode, PropertyCondition } from '../../api/types.js';

/** The rule engine's condition properties (packages/server/src/automation/conditions.ts). */
export const PROPERTIES = [
  'severity',
  'status',
  'title',
  'description',
  'classification',
  'owner',
  'tags',
  'tactics',
  'techniques',
  'provider',
  'product',
  'ruleId',
  'alerts',
  'comments',
  'tasks',
  'updatedBy',
  'alert.title',
  'alert.severity',
  'alert.product',
  'alert.provider',
  'alert.ruleId',
  'alert.tactics',
  'entity',
  'entity.host',
  'entity.account',
  'entity.ip',
] as const;

export const OPERATORS = [
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
] as const;

export type Group = { mode: 'all' | 'any'; items: PropertyCondition[] };

/** The builder edits one level of groups: all-of (any-of conditions). Deeper trees show read-only. */
export function toGroups(node: ConditionNode | null): Group[] | null {
  if (!node) return [];
  const isProp = (n: ConditionNode): n is PropertyCondition => 'property' in n;
  if (isProp(node)) return [{ mode: 'all', items: [node] }];
  if ('all' in node) {
    const out: Group[] = [];
    const plain: PropertyCondition[] = [];
    for (const c of node.all) {
      if (isProp(c)) plain.push(c);
      else if ('any' in c && c.any.every(isProp)) out.push({ mode: 'any', items: [...(c.any as PropertyCondition[])] });
      else return null;
    }
    return plain.length ? [{ mode: 'all', items: plain }, ...out] : out;
  }
  if ('any' in node && node.any.every(isProp)) return [{ mode: 'any', items: [...(node.any as PropertyCondition[])] }];
  return null;
}

export function fromGroups(groups: readonly Group[]): ConditionNode | null {
  const parts: ConditionNode[] = [];
  for (const g of groups) {
    const items = g.items.filter((c) => c.property);
    if (!items.length) continue;
    if (g.mode === 'all') parts.push(...items);
    else parts.push(items.length === 1 ? items[0]! : { any: items });
  }
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0]! : { all: parts };
}

export function describe(node: ConditionNode | null): string {
  if (!node) return 'Always';
  if ('property' in node) return `${node.property} ${node.operator} ${node.values.join(', ')}`.trim();
  if ('all' in node) return node.all.map((n) => ('any' in n ? `(${describe(n)})` : describe(n))).join(' and ');
  return node.any.map(describe).join(' or ');
}
