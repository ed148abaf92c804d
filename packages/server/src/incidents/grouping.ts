/**
 * Sentinel's alert grouping (`incidentConfiguration.groupingConfiguration` of an analytics rule): alerts of one rule
 * go into one incident when they arrive within `lookbackDuration` of the group's first alert and match by
 * - `AnyAlert`: always;
 * - `AllEntities`: the same set of entities;
 * - `Selected`: the same entities of the listed types, the same listed alert details (`DisplayName`, `Severity`)
 *   and the same listed custom details.
 * A closed incident of the group is reopened when `reopenClosedIncident` is set; otherwise the alert starts a new
 * group. The result is a group key; the service keeps the group → incident map.
 */
import { createHash } from 'node:crypto';
import { parseDuration } from '../detect/duration.js';
import { entityType } from '../detect/entities.js';
import type { NormalizedEntity } from './entities.js';
import type { NormalizedAlert } from './normalize.js';

export type MatchingMethod = 'AllEntities' | 'AnyAlert' | 'Selected';

export interface GroupingConfig {
  readonly enabled: boolean;
  readonly reopenClosedIncident: boolean;
  readonly lookbackMs: number;
  readonly matchingMethod: MatchingMethod;
  /** Sentinel entity `Type` values (`account`, `host`, ...). */
  readonly groupByEntities: readonly string[];
  /** `DisplayName`, `Severity`. */
  readonly groupByAlertDetails: readonly string[];
  readonly groupByCustomDetails: readonly string[];
}

/** Sentinel's default lookback (5 hours). */
export const DEFAULT_LOOKBACK_MS = 5 * 3600_000;

const asList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.trim() !== '') : [];

/** The grouping of a rule alert (null: the rule does not group; the alert is correlated on its own). */
export function groupingConfig(incidentConfiguration: Readonly<Record<string, unknown>> | null): GroupingConfig | null {
  const g = incidentConfiguration?.groupingConfiguration;
  if (!g || typeof g !== 'object' || Array.isArray(g)) return null;
  const c = g as Record<string, unknown>;
  const enabled = c.enabled === true || c.enabled === 'true';
  if (!enabled) return null;
  const lookback = typeof c.lookbackDuration === 'string' ? parseDuration(c.lookbackDuration) : null;
  const method = typeof c.matchingMethod === 'string' ? c.matchingMethod : 'AllEntities';
  const matchingMethod: MatchingMethod =
    method === 'AnyAlert' || method === 'Selected' || method === 'AllEntities' ? method : 'AllEntities';
  return {
    enabled,
    reopenClosedIncident: c.reopenClosedIncident === true || c.reopenClosedIncident === 'true',
    lookbackMs: lookback && lookback > 0 ? lookback : DEFAULT_LOOKBACK_MS,
    matchingMethod,
    groupByEntities: asList(c.groupByEntities).map((t) => entityType(t)?.type ?? t.toLowerCase()),
    groupByAlertDetails: asList(c.groupByAlertDetails),
    groupByCustomDetails: asList(c.groupByCustomDetails),
  };
}

/** An entity's identity for grouping: its type and its sorted identity keys of that type. */
function entityIdentity(e: NormalizedEntity): string {
  const prefix = `${e.type}|`;
  return `${e.type}:${e.keys
    .filter((k) => k.startsWith(prefix))
    .sort()
    .join(',')}`;
}

/** The key of the group an alert belongs to (rule id + method + the matched values, hashed). */
export function groupKey(
  alert: NormalizedAlert,
  entities: readonly NormalizedEntity[],
  config: GroupingConfig,
): { key: string; parts: string[] } {
  const parts: string[] = [];
  if (config.matchingMethod === 'AllEntities') {
    parts.push(...[...new Set(entities.map(entityIdentity))].sort());
  } else if (config.matchingMethod === 'Selected') {
    for (const t of config.groupByEntities) {
      const ids = [...new Set(entities.filter((e) => e.type === t).map(entityIdentity))].sort();
      parts.push(`${t}=${ids.join(';')}`);
    }
    for (const d of config.groupByAlertDetails) {
      const v = d.toLowerCase() === 'severity' ? alert.severity : d.toLowerCase() === 'displayname' ? alert.title : '';
      parts.push(`detail:${d}=${v}`);
    }
    for (const c of config.groupByCustomDetails) {
      const values = (alert.customDetails[c] ?? []).map((v) => JSON.stringify(v)).sort();
      parts.push(`custom:${c}=${values.join(';')}`);
    }
  }
  const digest = createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
  return { key: `${alert.ruleId ?? ''}|${config.matchingMethod}|${digest}`, parts };
}
