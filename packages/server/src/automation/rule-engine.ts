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
 *
 * Merges: an incident may be merged into another between its event and the rules running on it (correlation at
 * speed, an analyst's merge). The changes then go to the incident it was merged into (the redirect chain is
 * followed, inside the transaction that writes them), still audited as the rule, and a task the rule already added
 * there is not added again: the survivor gets what the merged-away incident would have got, and the run history
 * shows no error for this normal race. The merge event of the merged-away incident itself triggers no update rule
 * (it is read-only now; the survivor has its own `merged` update event).
 */
import type {
  Actor,
  Classification,
  Incident,
  IncidentEvent,
  IncidentStatus,
  Owner,
  Severity,
} from '../incidents/model.js';
import type { AutomationStore } from '../state/automation-repo.js';
import type { SqlDriver } from '../state/sql-driver.js';
import { type ConditionContext, evaluateConditions } from './conditions.js';
import { entityValues, flattenEntity, flattenRawEntity, type IncidentGateway } from './gateway.js';
import type { AutomationRule, RuleActionType, RuleExecution, RuleTrigger, TaskList, TaskTemplate } from './model.js';
import type { PlaybookRuntime } from './runtime.js';

const CURSOR_KEY = 'rules.cursor';
/**
 * The cursor and the rule-execution records are saved this long after the last event (or after 50 events): one
 * transaction per event would put a second commit between an incident's rule changes and the next reader.
 * Losing them in a crash only means re-processing those events, which is harmless.
 */
const CURSOR_SAVE_DELAY_MS = 200;

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

interface Plan {
  readonly rule: AutomationRule;
  readonly actor: Actor;
  readonly patch: {
    status?: IncidentStatus;
    classification?: Classification;
    classificationReason?: string;
    classificationComment?: string;
    severity?: Severity;
    owner?: Owner;
    addTags?: string[];
  };
  readonly patchTypes: RuleActionType[];
  readonly tasks: TaskTemplate[];
  readonly playbooks: string[];
  readonly results: { type: RuleActionType; ok: boolean; detail?: string }[];
}

/**
 * The incident after a rule's patch and tasks, as the incident service will write it (tags deduplicated without
 * case, the owner's `assignedTo` defaulting to the UPN or email), so the next rule's conditions see it before the
 * one transaction that writes every rule's changes commits.
 */
export function simulate(i: Incident, patch: Plan['patch'], tasks: number): Incident {
  let tags = [...i.tags];
  for (const t of patch.addTags ?? []) {
    const v = t.trim();
    if (v && !tags.some((x) => x.toLowerCase() === v.toLowerCase())) tags = [...tags, v];
  }
  let owner = i.owner;
  if (patch.owner) {
    const o: Record<string, string | null> = {};
    for (const k of ['objectId', 'email', 'userPrincipalName', 'assignedTo'] as const) {
      const v = patch.owner[k];
      o[k] = typeof v === 'string' && v.trim() ? v.trim() : null;
    }
    o.assignedTo ??= o.userPrincipalName ?? o.email ?? null;
    owner = o as Owner;
  }
  return {
    ...i,
    tags,
    owner,
    ...(patch.severity ? { severity: patch.severity, severityManual: true } : {}),
    ...(patch.status ? { status: patch.status } : {}),
    ...(patch.classification ? { classification: patch.classification } : {}),
    ...(patch.classificationReason ? { classificationReason: patch.classificationReason } : {}),
    ...(patch.classificationComment ? { classificationComment: patch.classificationComment } : {}),
    taskCount: i.taskCount + tasks,
    openTaskCount: i.openTaskCount + tasks,
  };
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
  private saveTimer: ReturnType<typeof setTimeout> | null = null;

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
        if (this.lastSeq - this.savedSeq >= 50) await this.saveCursor(false);
        else this.scheduleSave();
      }
    };
    this.running = run().finally(() => {
      this.running = null;
      this.kick();
    });
  }

  private scheduleSave(): void {
    if (this.saveTimer || this.closed) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.saveCursor(false);
    }, CURSOR_SAVE_DELAY_MS);
    this.saveTimer.unref?.();
  }

  /** Saves the cursor and the rule-execution records now (before reading them back). */
  async flush(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    await this.saveCursor(false);
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
    if (trigger === 'incidentUpdated' && e.changes.includes('redirected')) return 0;
    const now = this.o.clock();
    const rules = this.rules.filter(
      (r) => r.enabled && r.trigger === trigger && (r.expiresAt === null || Date.parse(r.expiresAt) > now),
    );
    if (rules.length === 0) return 0;
    const g = this.o.incidents;
    const incidentId = e.incidentId ?? e.alert?.incidentId ?? null;
    const ctx = new EventContext(g, e, trigger);
    // The incident as it is now, merges followed (read once, only if a task list or a playbook needs it).
    let current: Promise<Incident | null> | null = null;
    const survivor = () => {
      current ??= incidentId ? this.survivor(incidentId) : Promise.resolve(null);
      return current;
    };
    let existingTasks: Set<string> | null = null;
    const plans: Plan[] = [];
    // 1. Decide, rule by rule: each rule's conditions read the incident as the rules before it left it.
    for (const rule of rules) {
      let match: boolean;
      try {
        match = await evaluateConditions(rule.conditions, ctx);
      } catch (err) {
        this.log(`rule ${rule.id}: conditions failed: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      if (!match) continue;
      const plan: Plan = {
        rule,
        actor: { type: 'automation-rule', id: rule.id, name: rule.name },
        patch: {},
        patchTypes: [],
        tasks: [],
        playbooks: [],
        results: [],
      };
      for (const a of rule.actions) {
        switch (a.type) {
          case 'changeStatus':
            plan.patch.status = a.status;
            if (a.classification) plan.patch.classification = a.classification;
            if (a.classificationReason) plan.patch.classificationReason = a.classificationReason;
            if (a.classificationComment) plan.patch.classificationComment = a.classificationComment;
            plan.patchTypes.push(a.type);
            break;
          case 'changeSeverity':
            plan.patch.severity = a.severity;
            plan.patchTypes.push(a.type);
            break;
          case 'assignOwner':
            plan.patch.owner = a.owner;
            plan.patchTypes.push(a.type);
            break;
          case 'addTags':
            plan.patch.addTags = [...(plan.patch.addTags ?? []), ...a.tags];
            plan.patchTypes.push(a.type);
            break;
          case 'addTasks':
            try {
              if (!incidentId) throw new Error('the event has no incident');
              // A task this rule already added (an event processed again after a restart) is not added twice.
              if (existingTasks === null) {
                // The tasks of the incident the changes will go to (the survivor, if it was merged meanwhile).
                const now = await survivor();
                if (!now) throw new Error(`no incident ${incidentId}`);
                existingTasks = new Set(
                  now.taskCount > 0
                    ? (await g.tasks(now.id)).map((t) => `${t.createdBy.id}\n${t.title.toLowerCase()}`)
                    : [],
                );
              }
              const fresh = this.tasksOf(a.list, a.tasks).filter(
                (t) => !(existingTasks as Set<string>).has(`${rule.id}\n${t.title.toLowerCase()}`),
              );
              plan.tasks.push(...fresh);
              plan.results.push({
                type: a.type,
                ok: true,
                detail: `${fresh.length} task${fresh.length === 1 ? '' : 's'}`,
              });
            } catch (err) {
              plan.results.push({ type: a.type, ok: false, detail: err instanceof Error ? err.message : String(err) });
            }
            break;
          case 'runPlaybook':
            plan.playbooks.push(a.playbookId);
            break;
        }
      }
      if (ctx.incident && (plan.patchTypes.length > 0 || plan.tasks.length > 0))
        ctx.observe(ctx.incident, simulate(ctx.incident, plan.patch, plan.tasks.length));
      plans.push(plan);
    }
    if (plans.length === 0) return 0;
    // 2. Apply every rule's changes in one transaction, each audited as its rule.
    const changes = plans.filter((p) => p.patchTypes.length > 0 || p.tasks.length > 0);
    let changedId: string | null = null;
    if (changes.length > 0) {
      if (!incidentId) {
        for (const p of changes)
          for (const type of p.patchTypes) p.results.push({ type, ok: false, detail: 'the event has no incident' });
      } else changedId = await this.commit(incidentId, changes, survivor);
    }
    // 3. Playbooks start after the changes are committed, so they see them.
    const targetId =
      changedId ??
      (incidentId && plans.some((p) => p.playbooks.length > 0) ? ((await survivor())?.id ?? incidentId) : incidentId);
    for (const p of plans) {
      for (const playbookId of p.playbooks) {
        try {
          const run = await this.o.runtime.start(
            playbookId,
            trigger === 'alertCreated' && e.alertId
              ? { kind: 'alert', alertId: e.alertId }
              : { kind: 'incident', incidentId: targetId as string },
            { startedBy: p.actor, idempotencyKey: `rule:${p.rule.id}:event:${e.seq}:${playbookId}` },
          );
          p.results.push({ type: 'runPlaybook', ok: true, detail: `run ${run.id}` });
        } catch (err) {
          p.results.push({ type: 'runPlaybook', ok: false, detail: err instanceof Error ? err.message : String(err) });
        }
      }
      for (const r of p.results)
        if (!r.ok) this.log(`rule ${p.rule.id} on event ${e.seq}: ${r.type} failed: ${r.detail}`);
      this.pendingExecutions.push({
        ruleId: p.rule.id,
        eventSeq: e.seq,
        trigger,
        // Where the changes went: the survivor when the event's incident was merged meanwhile.
        incidentId: targetId,
        alertId: e.alertId,
        at: new Date(this.o.clock()).toISOString(),
        outcome: p.results.every((r) => r.ok) ? 'applied' : 'failed',
        actions: p.results,
      });
    }
    return plans.length;
  }

  /**
   * One transaction for all rules; if it fails (one rule's change is refused), rule by rule to keep the others.
   * Returns the id of the incident changed (the survivor if the event's incident was merged).
   */
  private async commit(
    incidentId: string,
    plans: readonly Plan[],
    survivor: () => Promise<Incident | null>,
  ): Promise<string> {
    const g = this.o.incidents;
    const ok = (p: Plan, merged: string | undefined) => {
      for (const type of p.patchTypes) p.results.push({ type, ok: true, ...(merged ? { detail: merged } : {}) });
    };
    const mergedNote = (target: Incident) =>
      target.id === incidentId ? undefined : `applied to #${target.number}, which the incident was merged into`;
    if (g.applyChanges) {
      try {
        const done = await g.applyChanges(
          incidentId,
          plans.map((p) => ({
            actor: p.actor,
            ...(p.patchTypes.length > 0 ? { patch: p.patch } : {}),
            ...(p.tasks.length > 0 ? { tasks: p.tasks } : {}),
          })),
          { followMerges: true, skipDuplicateTasks: true },
        );
        for (const p of plans) ok(p, mergedNote(done));
        return done.id;
      } catch (err) {
        this.log(
          `automation rules on ${incidentId}: one transaction failed (${err instanceof Error ? err.message : String(err)}); applying rule by rule`,
        );
      }
    }
    const target = await survivor();
    const id = target?.id ?? incidentId;
    const note = target ? mergedNote(target) : undefined;
    for (const p of plans) {
      try {
        if (p.patchTypes.length > 0) await g.update(id, p.patch, p.actor);
        ok(p, note);
      } catch (err) {
        for (const type of p.patchTypes)
          p.results.push({ type, ok: false, detail: err instanceof Error ? err.message : String(err) });
      }
      for (const t of p.tasks) {
        try {
          await g.addTask(id, t, p.actor);
        } catch (err) {
          p.results.push({ type: 'addTasks', ok: false, detail: err instanceof Error ? err.message : String(err) });
        }
      }
    }
    return id;
  }

  /** The incident an id leads to now, following merge pointers (null if it does not exist). */
  private async survivor(id: string): Promise<Incident | null> {
    let i = await this.o.incidents.getIncident(id);
    for (let hops = 0; i?.redirectedTo && hops < 64; hops++) {
      const next = await this.o.incidents.getIncident(i.redirectedTo);
      if (!next) break;
      i = next;
    }
    return i;
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
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
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
    if (after.taskCount !== before?.taskCount) this.changes.add('tasks');
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
