/**
 * The correlation decision for one alert, as a pure function of what the state store returned: which open incident
 * the alert joins, which other incidents merge into it, and why — or why not (guardrails). The service gathers the
 * inputs (entity-key hits, candidate incidents, the rule-grouping target) and applies the plan.
 *
 * Rules of the engine:
 * - shared-entity: the alert and the incident share a linking entity seen within `sharedEntityWindowMs`;
 * - stage-sequence: they share a linking entity seen within the longer `stageWindowMs`, and the alert continues
 *   the attack in kill-chain order (a later tactic after the incident's activity, or an earlier one before it).
 * Guardrails (Defender XDR's): never join or merge into a closed incident; never merge incidents with different
 * owners or different classifications; never let a join or a merge take an incident past the entity cap.
 * The surviving incident is the rule-grouping target if any, else the oldest candidate (lowest number).
 */
import type { Guardrail, IncidentSettings, LinkRule } from './model.js';
import { tacticOrder } from './naming.js';

export interface KeyHit {
  readonly key: string;
  readonly incidentId: string;
  readonly entityId: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

export interface Candidate {
  readonly id: string;
  readonly number: number;
  readonly status: string;
  /** Lower-cased owner identity, null when unassigned. */
  readonly ownerKey: string | null;
  readonly classification: string | null;
  readonly entityCount: number;
  readonly tactics: readonly string[];
}

export interface CorrelationInput {
  readonly alertStartMs: number;
  readonly alertEndMs: number;
  readonly alertTactics: readonly string[];
  /** Entities the alert would add to an incident (an upper bound: some may already be there). */
  readonly alertEntityCount: number;
  readonly hits: readonly KeyHit[];
  readonly candidates: ReadonlyMap<string, Candidate>;
  /** The incident rule grouping chose (already open, or reopened), if any. */
  readonly groupTarget: Candidate | null;
  readonly settings: IncidentSettings['correlation'];
}

export interface Match {
  readonly incident: Candidate;
  readonly rule: Extract<LinkRule, 'shared-entity' | 'stage-sequence'>;
  /** The keys that matched under that rule. */
  readonly keys: readonly string[];
  readonly entityIds: readonly number[];
}

export interface Refusal {
  readonly incident: Candidate;
  readonly guardrail: Guardrail;
  readonly detail: string;
}

export interface CorrelationPlan {
  /** The incident the alert joins through correlation (null: a new incident, unless rule grouping chose one). */
  readonly join: Match | null;
  /** Incidents to merge into the surviving incident (the group target, the joined one, or the new one). */
  readonly merges: readonly Match[];
  readonly refused: readonly Refusal[];
}

/** Distance (ms) between the alert's activity and a key's span in an incident (0 when they overlap). */
function gap(input: CorrelationInput, h: KeyHit): number {
  if (input.alertEndMs < h.firstSeenMs) return h.firstSeenMs - input.alertEndMs;
  if (input.alertStartMs > h.lastSeenMs) return input.alertStartMs - h.lastSeenMs;
  return 0;
}

/** Whether the alert continues the incident's attack in kill-chain order, given which side came first. */
export function continuesAttack(
  alertTactics: readonly string[],
  incidentTactics: readonly string[],
  alertIsLater: boolean,
): boolean {
  if (alertTactics.length === 0 || incidentTactics.length === 0) return false;
  const a = alertTactics.map(tacticOrder);
  const i = incidentTactics.map(tacticOrder);
  return alertIsLater ? Math.max(...a) > Math.max(...i) : Math.min(...a) < Math.min(...i);
}

/** Matches per incident under the engine's two rules (shared entity first). */
export function matchIncidents(input: CorrelationInput): Match[] {
  const byIncident = new Map<string, KeyHit[]>();
  for (const h of input.hits) {
    const list = byIncident.get(h.incidentId);
    if (list) list.push(h);
    else byIncident.set(h.incidentId, [h]);
  }
  const out: Match[] = [];
  for (const [id, hits] of byIncident) {
    const incident = input.candidates.get(id);
    if (!incident) continue;
    const shared = hits.filter((h) => gap(input, h) <= input.settings.sharedEntityWindowMs);
    if (shared.length > 0) {
      out.push({
        incident,
        rule: 'shared-entity',
        keys: [...new Set(shared.map((h) => h.key))],
        entityIds: [...new Set(shared.map((h) => h.entityId))],
      });
      continue;
    }
    const staged = hits.filter(
      (h) =>
        gap(input, h) <= input.settings.stageWindowMs &&
        continuesAttack(input.alertTactics, incident.tactics, input.alertStartMs > h.lastSeenMs),
    );
    if (staged.length > 0) {
      out.push({
        incident,
        rule: 'stage-sequence',
        keys: [...new Set(staged.map((h) => h.key))],
        entityIds: [...new Set(staged.map((h) => h.entityId))],
      });
    }
  }
  return out.sort((a, b) => a.incident.number - b.incident.number);
}

/** The merge guardrails between a surviving incident and another one. */
export function mergeGuardrail(
  survivor: Candidate,
  other: Candidate,
  survivorEntities: number,
  cap: number,
): { guardrail: Guardrail; detail: string } | null {
  if (other.status === 'Closed') return { guardrail: 'closed', detail: `#${other.number} is closed` };
  if (survivor.ownerKey && other.ownerKey && survivor.ownerKey !== other.ownerKey) {
    return {
      guardrail: 'owner',
      detail: `#${survivor.number} is assigned to ${survivor.ownerKey} and #${other.number} to ${other.ownerKey}`,
    };
  }
  if (survivor.classification && other.classification && survivor.classification !== other.classification) {
    return {
      guardrail: 'classification',
      detail: `#${survivor.number} is classified ${survivor.classification} and #${other.number} ${other.classification}`,
    };
  }
  if (survivorEntities + other.entityCount > cap) {
    return {
      guardrail: 'entity-cap',
      detail: `merging #${other.number} would make ${survivorEntities + other.entityCount} entities (cap ${cap})`,
    };
  }
  return null;
}

export function planCorrelation(input: CorrelationInput): CorrelationPlan {
  const cap = input.settings.maxEntitiesPerIncident;
  const refused: Refusal[] = [];
  const matches = matchIncidents(input);
  const open: Match[] = [];
  for (const m of matches) {
    if (m.incident.status === 'Closed') {
      if (!input.groupTarget || m.incident.id !== input.groupTarget.id)
        refused.push({ incident: m.incident, guardrail: 'closed', detail: `#${m.incident.number} is closed` });
    } else open.push(m);
  }
  let join: Match | null = null;
  let survivor: Candidate | null = input.groupTarget;
  let entities = input.groupTarget ? input.groupTarget.entityCount + input.alertEntityCount : input.alertEntityCount;
  if (!survivor) {
    for (const m of open) {
      if (m.incident.entityCount + input.alertEntityCount > cap) {
        refused.push({
          incident: m.incident,
          guardrail: 'entity-cap',
          detail: `#${m.incident.number} holds ${m.incident.entityCount} entities; this alert would pass the cap of ${cap}`,
        });
        continue;
      }
      join = m;
      survivor = m.incident;
      entities = m.incident.entityCount + input.alertEntityCount;
      break;
    }
  }
  const merges: Match[] = [];
  // The survivor adopts an owner or a classification from an incident merged into it, so later merges compare
  // against what the survivor will hold.
  let ownerKey = survivor?.ownerKey ?? null;
  let classification = survivor?.classification ?? null;
  for (const m of open) {
    if (m === join || (survivor && m.incident.id === survivor.id)) continue;
    if (refused.some((r) => r.incident.id === m.incident.id)) continue;
    // When the alert joins nothing, a new incident survives (no owner, no classification).
    const s: Candidate = {
      id: survivor?.id ?? '',
      number: survivor?.number ?? Number.MAX_SAFE_INTEGER,
      status: survivor?.status ?? 'New',
      ownerKey,
      classification,
      entityCount: entities,
      tactics: survivor?.tactics ?? input.alertTactics,
    };
    const g = mergeGuardrail(s, m.incident, entities, cap);
    if (g) {
      refused.push({ incident: m.incident, ...g });
      continue;
    }
    merges.push(m);
    entities += m.incident.entityCount;
    ownerKey = ownerKey ?? m.incident.ownerKey;
    classification = classification ?? m.incident.classification;
  }
  return { join, merges, refused };
}
