/**
 * Automation rules at work: listens to the incident service's change events, and for each event runs the enabled,
 * unexpired rules of its trigger in their order. Each rule sees the incident as the rules before it left it; the
 * changes a rule makes are made as that rule (`{type: 'automation-rule', id, name}`), so the audit trail says
 * which rule did what. Property changes of one rule are one update; tasks are added one by one (a task a rule
 * already added is not added again); playbooks are started with an idempotency key per (rule, event).
 *
 * Durability: the position in the event feed is stored; at start the engine catches up on events it missed (the
 * feed is durable), so an incident created while the process was down still gets its rules. Re-processing an
 * event after a crash is harmless (tags, owner, status and severity are set values; tasks and runs are deduped).
 * Updates made by automation rules do not trigger incident-updated rules (no loops between rules).
 */
import type { Actor, Incident, IncidentEvent } from '../incidents/model.js';
import type { IncidentPatch } from '../incidents/service.js';
import type { AutomationStore } from '../state/automation-repo.js';
import type { SqlDriver } from '../state/sql-driver.js';
import { type ConditionContext, evaluateConditions } from './conditions.js';
import { entityValues, flattenEntity, flattenRawEntity, type IncidentGateway } from './gateway.js';
import type { AutomationRule, RuleExecution, RuleTrigger, TaskList, TaskTemplate } from './model.js';
import type { PlaybookRuntime } from './runtime.js';

const CURSOR_KEY = 'rules.cursor';

export interface RuleEngineOptions {
  readonly db: SqlDriver;
  readonly store: AutomationStore;
  readonly clock: () => number;
  readonly incidents: IncidentGateway;
  readonly runtime: PlaybookRuntime;
  readonly log?: (message: string) => void;
  /** Called after each event (for metrics and benchmarks). */
  readonly onProcessed?: (event: IncidentEvent, info: { readonly matched: number; readonly ms: number }) => void;
}

const TRIGGERS: Readonly<Record<IncidentEvent['type'], RuleTrigger>> = {
  IncidentCreated: 'incidentCreated',
  IncidentUpdated: 'incidentUpdated',
  AlertCreated: 'alertCreated',
};

export class RuleEngine {
  private rules: AutomationRule[] = [];
  private taskLists = new Map<string, TaskList>();
  private queue: IncidentEvent[] = [];
  private running: Promise<void> | null = null;
  private lastSeq = 0;
  private savedSeq = 0;
  private pendingExecutions: Omit<RuleExecution, 'id'>[] = [];
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  constructor(private readonly o: RuleEngineOptions) {}

  private log(m: string): void {
    this.o.log?.(m);
  }

  /** Loads the rules, catches up on missed events, then follows the live feed. */
  async open(): Promise<void> {
    await this.reload();
    const stored = await this.o.store.getValue(this.o.db, CURSOR_KEY);
    this.unsubscribe = this.o.incidents.onEvent((e) => this.push(e));
    if (stored === null) {
      // First start: rules apply from now on, not to the history.
      let seq = 0;
      for (;;) {
        const page = await this.o.incidents.events(seq, 5000);
        const last = page[page.length - 1];
        if (!last) break;
        seq = last.seq;
      }
      this.lastSeq = seq;
      await this.saveCursor(true);
    } else {
      this.lastSeq = Number(stored);
      this.savedSeq = this.lastSeq;
      for (;;) {
        const page = await this.o.incidents.events(this.lastSeq, 500);
        if (page.length === 0) break;
        for (const e of page) await this.process(e);
      }
      await this.saveCursor(true);
    }
    this.kick();
  }

  /** Re-reads rules and task lists (after a change through the service). */
  async reload(): Promise<void> {
    this.rules = await this.o.store.rules(this.o.db);
    this.taskLists = new Map((await this.o.store.taskLists(this.o.db)).map((t) => [t.id, t]));
  }

  private push(e: IncidentEvent): void {
    if (this.closed) return;
    this.queue.push(e);
    this.kick();
  }

  private kick(): void {
    if (this.running || this.closed || this.queue.length === 0) return;
    const run = async () => {
      // Yield first, so that `running` is set before the loop can end.
      await Promise.resolve();
      while (this.queue.length > 0 && !this.closed) {
        const e = this.queue.shift() as IncidentEvent;
        if (e.seq <= this.lastSeq) continue;
        await this.process(e);
        if (this.queue.length === 0 || this.lastSeq - this.savedSeq >= 50) await this.saveCursor(false);
      }
    };
    this.running = run().finally(() => {
      this.running = null;
      this.kick();
    });
  }

  /** Waits until every event delivered so far is processed. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async saveCursor(force: boolean): Promise<void> {
    if (!force && this.lastSeq === this.savedSeq && this.pendingExecutions.length === 0) return;
    const executions = this.pendingExecutions.splice(0);
    const seq = this.lastSeq;
    try {
      await this.o.db.transaction(async (tx) => {
        await this.o.store.addRuleExecutions(tx, executions);
        await this.o.store.putValue(tx, CURSOR_KEY, String(seq), new Date(this.o.clock()).toISOString());
      });
      this.savedSeq = seq;
    } catch (e) {
      this.log(`automation rules: saving the cursor failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async process(e: IncidentEvent): Promise<void> {
    const t0 = performance.now();
    let matched = 0;
    try {
      matched = await this.apply(e);
    } catch (err) {
      this.log(`automation rules on event ${e.seq}: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.lastSeq = Math.max(this.lastSeq, e.seq);
    this.o.onProcessed?.(e, { matched, ms: performance.now() - t0 });
  }

  private async apply(e: IncidentEvent): Promise<number> {
    const trigger = TRIGGERS[e.type];
    // Changes made by automation rules do not trigger update rules: no rule can loop with another.
    if (trigger === 'incidentUpdated' && e.actor.type === 'automation-rule') return 0;
    const now = this.o.clock();
    const rules = this.rules.filter(
      (r) => r.enabled && r.trigger === trigger && (r.expiresAt === null || Date.parse(r.expiresAt) > now),
    );
    if (rules.length === 0) return 0;
    const g = this.o.incidents;
    const incidentId = e.incidentId ?? e.alert?.incidentId ?? null;
    const ctx = new EventContext(g, e, trigger);
    let matched = 0;
    for (const rule of rules) {
      let match: boolean;
      try {
        match = await evaluateConditions(rule.conditions, ctx);
      } catch (err) {
        this.log(`rule ${rule.id}: conditions failed: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      if (!match) continue;
      matched++;
      const actor: Actor = { type: 'automation-rule', id: rule.id, name: rule.name };
      const results: { type: RuleExecution['actions'][number]['type']; ok: boolean; detail?: string }[] = [];
      let patch: Record<string, unknown> = {};
      let patchTypes: RuleExecution['actions'][number]['type'][] = [];
      const flush = async () => {
        if (patchTypes.length === 0) return;
        const types = patchTypes;
        const p = patch;
        patch = {};
        patchTypes = [];
        try {
          if (!incidentId) throw new Error('the event has no incident');
          const before = ctx.incident;
          const after = await g.update(incidentId, p as IncidentPatch, actor);
          ctx.observe(before, after);
          for (const type of types) results.push({ type, ok: true });
        } catch (err) {
          for (const type of types)
            results.push({ type, ok: false, detail: err instanceof Error ? err.message : String(err) });
        }
      };
      for (const a of rule.actions) {
        switch (a.type) {
          case 'changeStatus':
            patch.status = a.status;
            if (a.classification) patch.classification = a.classification;
            if (a.classificationReason) patch.classificationReason = a.classificationReason;
            if (a.classificationComment) patch.classificationComment = a.classificationComment;
            patchTypes.push(a.type);
            break;
          case 'changeSeverity':
            patch.severity = a.severity;
            patchTypes.push(a.type);
            break;
          case 'assignOwner':
            patch.owner = a.owner;
            patchTypes.push(a.type);
            break;
          case 'addTags':
            patch.addTags = [...((patch.addTags as string[] | undefined) ?? []), ...a.tags];
            patchTypes.push(a.type);
            break;
          case 'addTasks': {
            await flush();
            try {
              if (!incidentId) throw new Error('the event has no incident');
              const tasks = this.tasksOf(a.list, a.tasks);
              const existing = new Set(
                (await g.tasks(incidentId)).filter((x) => x.createdBy.id === rule.id).map((x) => x.title.toLowerCase()),
              );
              let added = 0;
              for (const task of tasks) {
                if (existing.has(task.title.toLowerCase())) continue;
                await g.addTask(
                  incidentId,
                  { title: task.title, ...(task.description ? { description: task.description } : {}) },
                  actor,
                );
                added++;
              }
              if (added > 0) {
                ctx.changes.add('tasks');
                const i = await g.getIncident(incidentId);
                if (i) ctx.incident = i;
              }
              results.push({ type: a.type, ok: true, detail: `${added} task${added === 1 ? '' : 's'}` });
            } catch (err) {
              results.push({ type: a.type, ok: false, detail: err instanceof Error ? err.message : String(err) });
            }
            break;
          }
          case 'runPlaybook': {
            await flush();
            try {
              const run = await this.o.runtime.start(
                a.playbookId,
                trigger === 'alertCreated' && e.alertId
                  ? { kind: 'alert', alertId: e.alertId }
                  : { kind: 'incident', incidentId: incidentId as string },
                { startedBy: actor, idempotencyKey: `rule:${rule.id}:event:${e.seq}:${a.playbookId}` },
              );
              results.push({ type: a.type, ok: true, detail: `run ${run.id}` });
            } catch (err) {
              results.push({ type: a.type, ok: false, detail: err instanceof Error ? err.message : String(err) });
            }
            break;
          }
        }
      }
      await flush();
      for (const r of results) if (!r.ok) this.log(`rule ${rule.id} on event ${e.seq}: ${r.type} failed: ${r.detail}`);
      this.pendingExecutions.push({
        ruleId: rule.id,
        eventSeq: e.seq,
        trigger,
        incidentId,
        alertId: e.alertId,
        at: new Date(this.o.clock()).toISOString(),
        outcome: results.every((r) => r.ok) ? 'applied' : 'failed',
        actions: results,
      });
    }
    return matched;
  }

  private tasksOf(listId: string | undefined, inline: readonly TaskTemplate[]): TaskTemplate[] {
    const out = [...inline];
    if (listId) {
      const l = this.taskLists.get(listId);
      if (!l) throw new Error(`no task list '${listId}'`);
      out.unshift(...l.tasks);
    }
    return out;
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await this.idle();
    this.closed = true;
    await this.saveCursor(true);
  }
}

/** What conditions read for one event; the slow parts load once, on first use. */
class EventContext implements ConditionContext {
  incident: Incident | null;
  readonly alert;
  readonly changes: Set<string>;
  readonly actor: Actor | null;
  private entityCache: Promise<{ type: string; values: string[] }[]> | null = null;
  private detailCache: Promise<Record<string, string[]>> | null = null;
  private auditCache: Promise<Map<string, unknown>> | null = null;
  /** Values before this event's rules changed them (a later rule's `changedFrom` still sees the original). */
  private readonly before = new Map<string, unknown>();

  constructor(
    private readonly g: IncidentGateway,
    private readonly e: IncidentEvent,
    readonly trigger: RuleTrigger,
  ) {
    this.incident = e.incident;
    this.alert = e.alert;
    this.changes = new Set(e.changes);
    this.actor = trigger === 'incidentUpdated' ? e.actor : null;
  }

  /** Records what an earlier rule changed: later rules see the fields as changed. */
  observe(before: Incident | null, after: Incident): void {
    const fields: (keyof Incident)[] = [
      'severity',
      'status',
      'classification',
      'owner',
      'tags',
      'title',
      'description',
    ];
    for (const f of fields) {
      if (JSON.stringify(before?.[f]) !== JSON.stringify(after[f])) {
        if (!this.before.has(f) && !this.changes.has(f)) this.before.set(f, before?.[f] ?? null);
        this.changes.add(f);
      }
    }
    this.incident = after;
  }

  entities(): Promise<readonly { readonly type: string; readonly values: readonly string[] }[]> {
    this.entityCache ??= (async () => {
      const id = this.e.incidentId;
      if (this.trigger === 'alertCreated' && this.e.alertId) {
        const a = await this.g.alert(this.e.alertId);
        return (a?.alert.entities ?? [])
          .map(flattenRawEntity)
          .filter((x): x is Record<string, unknown> => x !== null)
          .map((x) => ({ type: String(x.type), values: entityValues(x) }));
      }
      if (!id) return [];
      const out: { type: string; values: string[] }[] = [];
      let cursor: string | null = null;
      // At most 1,000 entities (an incident's entity cap is 500 by default).
      for (let i = 0; i < 2; i++) {
        const page = await this.g.entities(id, cursor, 500);
        for (const e of page.items) {
          const flat = flattenEntity(e);
          out.push({ type: String(flat.type), values: entityValues(flat) });
        }
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      return out;
    })();
    return this.entityCache;
  }

  customDetails(): Promise<Readonly<Record<string, readonly string[]>>> {
    this.detailCache ??= (async () => {
      const out: Record<string, string[]> = {};
      const add = (d: Readonly<Record<string, readonly unknown[]>>) => {
        for (const [k, v] of Object.entries(d)) {
          const values = out[k] ?? [];
          values.push(...v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))));
          out[k] = values;
        }
      };
      if (this.trigger === 'alertCreated' && this.e.alertId) {
        const a = await this.g.alert(this.e.alertId);
        if (a) add(a.alert.customDetails);
        return out;
      }
      if (!this.e.incidentId) return out;
      // The first 150 alerts, as Sentinel shows on an incident.
      const page = await this.g.alerts(this.e.incidentId, null, 150);
      for (const s of page.items) {
        const a = await this.g.alert(s.alertId);
        if (a) add(a.alert.customDetails);
      }
      return out;
    })();
    return this.detailCache;
  }

  async previous(field: string): Promise<unknown> {
    if (this.before.has(field)) return this.before.get(field);
    if (!this.e.incidentId) return undefined;
    this.auditCache ??= (async () => {
      // The audit entries written with this event: same time, same actor.
      const m = new Map<string, unknown>();
      const page = await this.g.auditTrail(this.e.incidentId as string, null, 50);
      for (const a of page.items) {
        if (a.at !== this.e.at || a.actor.type !== this.e.actor.type || a.actor.id !== this.e.actor.id) continue;
        // Newest first: the oldest entry of the event, read last, holds the value before it.
        for (const c of a.changes) m.set(c.field, c.from);
      }
      return m;
    })();
    const m = await this.auditCache;
    const key = field === 'provider' ? 'providerName' : field;
    return m.has(key) ? m.get(key) : undefined;
  }
}
