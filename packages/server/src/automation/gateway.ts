/**
 * What automation needs from the incident service (issue 6). `IncidentService` satisfies it as is; tests and other
 * deployments may pass anything with the same shape.
 */

import type {
  Actor,
  AuditEntry,
  Comment,
  Incident,
  IncidentAlertSummary,
  IncidentEntity,
  IncidentEvent,
  Page,
  Task,
} from '../incidents/model.js';
import type { NormalizedAlert } from '../incidents/normalize.js';
import type { IncidentPatch, TaskInput } from '../incidents/service.js';

export interface IncidentGateway {
  getIncident(idOrNumber: string | number): Promise<Incident | null>;
  update(idOrNumber: string | number, patch: IncidentPatch, actor: Actor): Promise<Incident>;
  addTask(idOrNumber: string | number, input: TaskInput, actor: Actor): Promise<Task>;
  tasks(idOrNumber: string | number): Promise<Task[]>;
  addComment(idOrNumber: string | number, message: string, actor: Actor): Promise<Comment>;
  comments(idOrNumber: string | number): Promise<Comment[]>;
  entities(idOrNumber: string | number, cursor: string | null, limit?: number): Promise<Page<IncidentEntity>>;
  alerts(idOrNumber: string | number, cursor: string | null, limit?: number): Promise<Page<IncidentAlertSummary>>;
  alert(alertId: string): Promise<{ summary: IncidentAlertSummary; alert: NormalizedAlert } | null>;
  auditTrail(idOrNumber: string | number, cursor: string | null, limit?: number): Promise<Page<AuditEntry>>;
  onEvent(listener: (event: IncidentEvent) => void | Promise<void>): () => void;
  /**
   * Several actors' patches and tasks in one transaction (optional: without it, rule by rule). With
   * `followMerges`, a merged-away incident's changes go to the incident it was merged into; returns the incident
   * changed. With `skipDuplicateTasks`, a task its actor already added (same title) is not added again.
   */
  applyChanges?(
    idOrNumber: string | number,
    changes: readonly {
      readonly actor: Actor;
      readonly patch?: IncidentPatch;
      readonly tasks?: readonly TaskInput[];
    }[],
    options?: { readonly followMerges?: boolean; readonly skipDuplicateTasks?: boolean },
  ): Promise<Incident>;
  events(afterSeq?: number, limit?: number): Promise<IncidentEvent[]>;
}

/** An entity as expressions and conditions see it: `{type, name, ...identifying fields}`. */
export function flattenEntity(e: {
  type: string;
  displayName: string;
  fields: Readonly<Record<string, unknown>>;
}): Record<string, unknown> {
  return { ...e.fields, type: e.type.toLowerCase(), name: e.displayName };
}

/** A raw Sentinel entity (alert JSON) flattened the same way (`$id` and nested objects dropped). */
export function flattenRawEntity(raw: unknown): Record<string, unknown> | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  const type =
    typeof r.Type === 'string' ? r.Type.toLowerCase() : typeof r.type === 'string' ? r.type.toLowerCase() : null;
  if (!type) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r))
    if (k !== '$id' && k !== 'Type' && (v === null || typeof v !== 'object')) out[k] = v;
  const name =
    type === 'account' && typeof r.Name === 'string'
      ? typeof r.UPNSuffix === 'string'
        ? `${r.Name}@${r.UPNSuffix}`
        : r.Name
      : (r.HostName ?? r.Address ?? r.Url ?? r.Value ?? r.Name ?? r.MailboxPrimaryAddress ?? r.DomainName ?? '');
  return { ...out, type, name: String(name) };
}

/** Every string value of an entity (what `entity.<type>` conditions compare with). */
export function entityValues(e: Readonly<Record<string, unknown>>): string[] {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(e))
    if (k !== 'type' && (typeof v === 'string' || typeof v === 'number') && v !== '') out.add(String(v));
  return [...out];
}
