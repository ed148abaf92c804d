/**
 * The durable playbook runtime. A run is persisted when it is queued (with its trigger resolved: the incident,
 * entities, inputs), and every step's result is persisted when the step ends; side-effect steps are also
 * persisted *before* they start, with an idempotency key derived from the run and the step's position. Running
 * a run is a replay: steps with a stored result are not executed again (their output is read back), so a run
 * resumed after a restart — or after an approval — continues where it stopped. A side-effect step that was in
 * flight when the process died is executed again with the same idempotency key (HTTP receivers dedupe on
 * `Idempotency-Key`; a comment already on the incident is not added twice).
 *
 * Steps: see playbook.ts. Each has a timeout (default 60 s) and retries transient failures (network, timeout,
 * 429, 5xx) with exponential backoff. Runs can be aborted (the step in flight is cut off, pending approvals are
 * cancelled) and re-run (a new run with the same trigger). Secrets are revealed only for the step that sends them
 * and masked in everything stored (inputs, outputs, errors, logs).
 */
import { createHash, randomUUID } from 'node:crypto';
import { parseDuration } from '../detect/duration.js';
import type { Actor } from '../incidents/model.js';
import type { IncidentPatch } from '../incidents/service.js';
import type { AutomationStore, RunQuery } from '../state/automation-repo.js';
import type { SqlDriver } from '../state/sql-driver.js';
import { actionInfo } from './actions.js';
import { type ApprovalService, SETTLED } from './approvals.js';
import { type EvalContext, evaluateCondition, renderValue, type Scope, toText } from './expressions.js';
import { flattenEntity, flattenRawEntity, type IncidentGateway } from './gateway.js';
import { OutboundBlockedError, OutboundError, type OutboundHttp, type OutboundResponse } from './http-guard.js';
import {
  accountRef,
  deviceInfo,
  type IndicatorType,
  identityInfo,
  indicatorTypeOf,
  lookupThreatIntel,
  type QueryRunner,
  withParameters,
} from './lookups.js';
import {
  type Approval,
  type PlaybookRun,
  type RunLogEntry,
  type RunStatus,
  type RunTrigger,
  type StepRecord,
  type StepStatus,
  TERMINAL_RUN_STATUSES,
  type TriggerKind,
} from './model.js';
import {
  factsOf,
  genericTicket,
  jiraIssue,
  type LinkSpec,
  slackMessage,
  teamsAdaptiveCard,
  teamsMessageCard,
} from './payloads.js';
import {
  MAX_LOOP_ITEMS,
  type PlaybookDefinition,
  parsePlaybook,
  retryPolicy,
  SIDE_EFFECT_STEPS,
  type StepDefinition,
  stepTimeoutMs,
} from './playbook.js';
import { Redactor, type SecretStore } from './secrets.js';
import { AutomationError } from './source.js';

/** How a run is started. */
export type TriggerInput =
  | { readonly kind: 'incident'; readonly incidentId: string | number; readonly inputs?: Record<string, unknown> }
  | { readonly kind: 'alert'; readonly alertId: string; readonly inputs?: Record<string, unknown> }
  | {
      readonly kind: 'entity';
      readonly entity: Record<string, unknown>;
      readonly incidentId?: string | number;
      readonly inputs?: Record<string, unknown>;
    }
  | { readonly kind: 'manual'; readonly inputs?: Record<string, unknown>; readonly incidentId?: string | number };

export interface StoredDefinition {
  readonly playbook: PlaybookDefinition;
  readonly secrets: readonly string[];
}

export interface RuntimeOptions {
  readonly db: SqlDriver;
  readonly store: AutomationStore;
  readonly clock: () => number;
  readonly incidents: IncidentGateway | null;
  readonly query: QueryRunner | null;
  readonly http: OutboundHttp;
  readonly secrets: SecretStore;
  readonly approvals: ApprovalService;
  /** Runs executing at once (default 4). */
  readonly concurrency?: number;
  /** Largest stored text of a response body (default 64 KiB). */
  readonly maxStoredBody?: number;
  readonly log?: (message: string) => void;
}

export interface RunDetail {
  readonly run: PlaybookRun;
  readonly steps: readonly StepRecord[];
  readonly logs: readonly RunLogEntry[];
  readonly approvals: readonly Approval[];
}

/** The run waits (for an approval); it is resumed when the approval settles. */
class Suspend extends Error {}
/** The run ends without failing the way `status` says (rejected or expired approval). */
class Stop extends Error {
  constructor(
    readonly status: RunStatus,
    message: string,
  ) {
    super(message);
  }
}
class StepFailed extends Error {}
/** A failure worth retrying. */
class Transient extends Error {}

const TERMINAL_STEP: ReadonlySet<StepStatus> = new Set([
  'succeeded',
  'failed',
  'skipped',
  'rejected',
  'expired',
  'aborted',
]);

export function idempotencyKey(runId: string, stepKey: string): string {
  return createHash('sha256').update(`${runId}\n${stepKey}`).digest('hex').slice(0, 32);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): string[] =>
  v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]).map(toText).filter((s) => s !== '');

/** Fields of a step that are not its input. */
const CONTROL_FIELDS = new Set(['id', 'type', 'name', 'if', 'timeout', 'retry', 'continueOnError', 'steps']);

export class PlaybookRuntime {
  private readonly active = new Map<string, { controller: AbortController; again: boolean; done: Promise<void> }>();
  private readonly queue: string[] = [];
  private readonly concurrency: number;
  private closed = false;
  private readonly idleWaiters = new Set<() => void>();

  constructor(private readonly o: RuntimeOptions) {
    this.concurrency = Math.max(1, o.concurrency ?? 4);
    o.approvals.onSettled((a) => {
      if (a.runId) this.schedule(a.runId);
    });
  }

  private now(): string {
    return new Date(this.o.clock()).toISOString();
  }

  /** Resumes what a stop or a crash interrupted: queued, running and waiting runs. */
  async open(): Promise<void> {
    for (const r of await this.o.store.runsWithStatus(this.o.db, ['queued', 'running', 'waiting'])) this.schedule(r.id);
  }

  // ───────────────────────────── starting ─────────────────────────────

  async start(
    playbookId: string,
    trigger: TriggerInput,
    options: { startedBy: Actor; idempotencyKey?: string; version?: number; rerunOf?: string },
  ): Promise<PlaybookRun> {
    if (options.idempotencyKey) {
      const existing = await this.o.store.runByKey(this.o.db, options.idempotencyKey);
      if (existing) return existing;
    }
    const stored = await this.o.store.playbook(this.o.db, playbookId, options.version);
    if (!stored) throw new AutomationError('not_found', `no playbook '${playbookId}'`);
    if (!stored.enabled && options.version === undefined)
      throw new AutomationError('conflict', `playbook '${playbookId}' is disabled`);
    const def = (stored.definition as StoredDefinition).playbook;
    const resolved = await this.resolveTrigger(def, trigger, options.startedBy);
    const now = this.now();
    const run: PlaybookRun = {
      id: randomUUID(),
      playbookId,
      playbookVersion: stored.version,
      playbookName: stored.name,
      status: 'queued',
      trigger: resolved,
      incidentId: resolved.incidentId,
      idempotencyKey: options.idempotencyKey ?? null,
      rerunOf: options.rerunOf ?? null,
      queuedAt: now,
      startedAt: null,
      updatedAt: now,
      finishedAt: null,
      executions: 0,
      error: null,
      abortedBy: null,
    };
    if (!(await this.o.store.insertRun(this.o.db, run))) {
      // Someone else started it with the same key meanwhile.
      const existing = options.idempotencyKey ? await this.o.store.runByKey(this.o.db, options.idempotencyKey) : null;
      if (existing) return existing;
      throw new Error('the run could not be stored');
    }
    this.o.log?.(`run ${run.id} of ${playbookId} v${stored.version} queued (${trigger.kind})`);
    this.schedule(run.id);
    return run;
  }

  private async resolveTrigger(def: PlaybookDefinition, t: TriggerInput, startedBy: Actor): Promise<RunTrigger> {
    const want = def.trigger.kind;
    if (want !== 'manual' && t.kind !== want)
      throw new AutomationError('invalid', `playbook '${def.id}' runs on the ${want} trigger, not ${t.kind}`);
    const inputs = this.inputs(def, t.inputs ?? {});
    const g = this.o.incidents;
    let incident: Record<string, unknown> | null = null;
    let alert: Record<string, unknown> | null = null;
    let entities: Record<string, unknown>[] = [];
    let incidentId: string | null = null;
    let alertId: string | null = null;
    const incidentRef = t.kind === 'alert' ? undefined : t.incidentId;
    if (incidentRef !== undefined) {
      if (!g) throw new AutomationError('invalid', 'no incident service is connected');
      const i = await g.getIncident(incidentRef);
      if (!i) throw new AutomationError('not_found', `no incident ${incidentRef}`);
      incidentId = i.id;
      incident = { ...i };
      const page = await g.entities(i.id, null, 500);
      entities = page.items.map(flattenEntity);
    }
    if (t.kind === 'alert') {
      if (!g) throw new AutomationError('invalid', 'no incident service is connected');
      const a = await g.alert(t.alertId);
      if (!a) throw new AutomationError('not_found', `no alert ${t.alertId}`);
      alertId = a.summary.alertId;
      alert = { ...a.summary, description: a.alert.description, customDetails: a.alert.customDetails };
      entities = a.alert.entities.map(flattenRawEntity).filter((e): e is Record<string, unknown> => e !== null);
      incidentId = a.summary.incidentId;
      if (incidentId) {
        const i = await g.getIncident(incidentId);
        incident = i ? { ...i } : null;
      }
    }
    let entity: Record<string, unknown> | null = null;
    if (t.kind === 'entity') {
      const flat =
        flattenRawEntity(t.entity) ??
        (isObject(t.entity) && typeof t.entity.type === 'string' ? { ...t.entity } : null);
      if (!flat) throw new AutomationError('invalid', 'an entity needs a type (Sentinel entity JSON, or {type, ...})');
      const types = def.trigger.entityTypes?.map((x) => x.toLowerCase());
      if (types && !types.includes(String(flat.type).toLowerCase()))
        throw new AutomationError(
          'invalid',
          `playbook '${def.id}' runs on ${types.join(', ')} entities, not ${String(flat.type)}`,
        );
      entity = flat;
      if (entities.length === 0) entities = [flat];
    }
    return { kind: t.kind as TriggerKind, incidentId, alertId, incident, alert, entities, entity, inputs, startedBy };
  }

  private inputs(def: PlaybookDefinition, given: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const spec = def.inputs ?? {};
    for (const k of Object.keys(given))
      if (!(k in spec)) throw new AutomationError('invalid', `playbook '${def.id}' has no input '${k}'`);
    for (const [k, s] of Object.entries(spec)) {
      const v = given[k] ?? s.default;
      if (v === undefined || v === null) {
        if (s.required) throw new AutomationError('invalid', `input '${k}' is required`);
        continue;
      }
      const type = s.type ?? 'string';
      if (typeof v !== type) throw new AutomationError('invalid', `input '${k}' is a ${type}`);
      out[k] = v;
    }
    return out;
  }

  // ───────────────────────────── scheduling ─────────────────────────────

  private schedule(runId: string): void {
    if (this.closed) return;
    const a = this.active.get(runId);
    if (a) {
      a.again = true;
      return;
    }
    if (!this.queue.includes(runId)) this.queue.push(runId);
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.active.size < this.concurrency && this.queue.length > 0) {
      const id = this.queue.shift() as string;
      const entry = { controller: new AbortController(), again: false, done: Promise.resolve() };
      this.active.set(id, entry);
      entry.done = this.execute(id, entry.controller.signal)
        .catch((e: unknown) => this.o.log?.(`run ${id}: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => {
          this.active.delete(id);
          if (entry.again && !this.closed) this.schedule(id);
          this.pump();
          if (this.active.size === 0 && this.queue.length === 0) for (const w of this.idleWaiters) w();
        });
    }
  }

  /** Resolves when no run is executing or queued (runs waiting for approvals do not count). */
  idle(): Promise<void> {
    if (this.active.size === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const w = () => {
        this.idleWaiters.delete(w);
        resolve();
      };
      this.idleWaiters.add(w);
    });
  }

  /** Stops executing: steps in flight are cut off; their runs resume at the next `open()`. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    for (const a of this.active.values()) a.controller.abort(new Error('shutdown'));
    await Promise.all([...this.active.values()].map((a) => a.done));
  }

  // ───────────────────────────── abort, re-run, history ─────────────────────────────

  async abort(runId: string, actor: Actor): Promise<PlaybookRun> {
    const run = await this.o.store.run(this.o.db, runId);
    if (!run) throw new AutomationError('not_found', `no run ${runId}`);
    if (TERMINAL_RUN_STATUSES.includes(run.status))
      throw new AutomationError('conflict', `the run is already ${run.status}`);
    const now = this.now();
    await this.o.store.updateRun(
      this.o.db,
      runId,
      { status: 'aborted', finishedAt: now, abortedBy: actor, error: null },
      now,
    );
    await this.o.store.addLogs(this.o.db, [
      {
        runId,
        seq: (await this.o.store.lastLogSeq(this.o.db, runId)) + 1,
        at: now,
        stepKey: null,
        level: 'warn',
        message: `aborted by ${actor.name ?? actor.id}`,
      },
    ]);
    for (const a of await this.o.store.approvals(this.o.db, { runId, status: 'pending' }))
      await this.o.approvals.cancel(a.id, actor);
    this.active.get(runId)?.controller.abort(new Error('aborted'));
    await this.active.get(runId)?.done;
    return (await this.o.store.run(this.o.db, runId)) as PlaybookRun;
  }

  /** Starts a new run of a finished run's playbook (latest version) with the same trigger. */
  async rerun(runId: string, actor: Actor, options: { sameVersion?: boolean } = {}): Promise<PlaybookRun> {
    const run = await this.o.store.run(this.o.db, runId);
    if (!run) throw new AutomationError('not_found', `no run ${runId}`);
    if (!TERMINAL_RUN_STATUSES.includes(run.status))
      throw new AutomationError('conflict', `the run is ${run.status}: abort it first or wait for it to end`);
    const t = run.trigger;
    const input: TriggerInput =
      t.kind === 'incident' && t.incidentId
        ? { kind: 'incident', incidentId: t.incidentId, inputs: { ...t.inputs } }
        : t.kind === 'alert' && t.alertId
          ? { kind: 'alert', alertId: t.alertId, inputs: { ...t.inputs } }
          : t.kind === 'entity' && t.entity
            ? {
                kind: 'entity',
                entity: { ...t.entity },
                ...(t.incidentId ? { incidentId: t.incidentId } : {}),
                inputs: { ...t.inputs },
              }
            : { kind: 'manual', inputs: { ...t.inputs }, ...(t.incidentId ? { incidentId: t.incidentId } : {}) };
    return this.start(run.playbookId, input, {
      startedBy: actor,
      rerunOf: run.id,
      ...(options.sameVersion ? { version: run.playbookVersion } : {}),
    });
  }

  async get(runId: string): Promise<RunDetail | null> {
    const run = await this.o.store.run(this.o.db, runId);
    if (!run) return null;
    const [steps, logs, approvals] = await Promise.all([
      this.o.store.steps(this.o.db, runId),
      this.o.store.logs(this.o.db, runId),
      this.o.store.approvals(this.o.db, { runId }),
    ]);
    return { run, steps, logs, approvals };
  }

  list(q: RunQuery): Promise<{ items: PlaybookRun[]; nextCursor: string | null }> {
    return this.o.store.runs(this.o.db, q);
  }

  // ───────────────────────────── execution ─────────────────────────────

  private async execute(runId: string, signal: AbortSignal): Promise<void> {
    const run = await this.o.store.run(this.o.db, runId);
    if (!run || TERMINAL_RUN_STATUSES.includes(run.status)) return;
    const stored = await this.o.store.playbook(this.o.db, run.playbookId, run.playbookVersion);
    const now = this.now();
    if (!stored) {
      await this.o.store.updateRun(
        this.o.db,
        runId,
        { status: 'failed', finishedAt: now, error: `playbook version ${run.playbookVersion} is gone` },
        now,
      );
      return;
    }
    let def = stored.definition as StoredDefinition;
    // Definitions stored by older code: re-derive the secrets list.
    if (!def.secrets) def = { playbook: def.playbook, secrets: parsePlaybook(JSON.stringify(def.playbook)).secrets };
    const ex = new Execution(
      this.o,
      run,
      def,
      signal,
      await this.o.store.steps(this.o.db, runId),
      await this.o.store.lastLogSeq(this.o.db, runId),
    );
    await this.o.store.updateRun(
      this.o.db,
      runId,
      { status: 'running', startedAt: run.startedAt ?? now, executions: run.executions + 1 },
      now,
    );
    if (run.executions > 0) ex.log(null, 'info', `resumed (execution ${run.executions + 1})`);
    else ex.log(null, 'info', `started by ${run.trigger.startedBy.name ?? run.trigger.startedBy.id}`);
    let status: RunStatus = 'succeeded';
    let error: string | null = null;
    try {
      await ex.prepare();
      await ex.block(def.playbook.steps, '', ex.rootScope());
    } catch (e) {
      if (e instanceof Suspend) status = 'waiting';
      else if (e instanceof Stop) {
        status = e.status;
        error = e.message;
      } else if (signal.aborted) {
        const reason = signal.reason instanceof Error ? signal.reason.message : '';
        if (reason === 'shutdown') {
          await ex.flushLogs();
          return; // stays `running`: resumed at the next start
        }
        status = 'aborted';
      } else {
        status = 'failed';
        error = ex.redactor.text(e instanceof Error ? e.message : String(e));
      }
    }
    const end = this.now();
    if (status === 'waiting') {
      ex.log(null, 'info', 'waiting for an approval');
      await ex.flushLogs();
      // An abort may have landed meanwhile: it owns the status then.
      const cur = await this.o.store.run(this.o.db, runId);
      if (cur && !TERMINAL_RUN_STATUSES.includes(cur.status))
        await this.o.store.updateRun(this.o.db, runId, { status: 'waiting' }, end);
      return;
    }
    if (status === 'aborted') {
      await ex.flushLogs();
      return; // abort() wrote the status
    }
    ex.log(
      null,
      status === 'succeeded' ? 'info' : 'error',
      status === 'succeeded' ? 'succeeded' : `${status}: ${error ?? ''}`,
    );
    await ex.flushLogs();
    const cur = await this.o.store.run(this.o.db, runId);
    if (cur && TERMINAL_RUN_STATUSES.includes(cur.status)) return;
    await this.o.store.updateRun(this.o.db, runId, { status, finishedAt: end, error }, end);
    this.o.log?.(`run ${runId} of ${run.playbookId}: ${status}${error ? ` (${error})` : ''}`);
  }
}

interface StepState {
  readonly status: StepStatus;
  readonly output: unknown;
  readonly error: string | null;
}

interface BlockScope {
  readonly steps: Record<string, StepState>;
  readonly vars: Record<string, unknown>;
  readonly locals: Readonly<Record<string, unknown>>;
}

/** One execution (replay) of a run. */
class Execution {
  readonly redactor = new Redactor();
  private readonly records: Map<string, StepRecord>;
  private readonly pendingLogs: RunLogEntry[] = [];
  private nextSeq: number;
  private secretValues: Record<string, string> = {};
  private readonly actor: Actor;
  private readonly evalCtx: EvalContext;

  constructor(
    private readonly o: RuntimeOptions,
    private readonly run: PlaybookRun,
    private readonly def: StoredDefinition,
    private readonly signal: AbortSignal,
    records: readonly StepRecord[],
    private logSeq: number,
  ) {
    this.records = new Map(records.map((r) => [r.key, r]));
    this.nextSeq = Math.max(0, ...records.map((r) => r.seq)) + 1;
    this.actor = { type: 'playbook', id: run.playbookId, name: `${run.playbookName} (run ${run.id.slice(0, 8)})` };
    // now() in expressions is the run's start, so a replay computes the same values.
    const started = Date.parse(run.startedAt ?? run.queuedAt);
    this.evalCtx = { now: () => started };
  }

  async prepare(): Promise<void> {
    const missing: string[] = [];
    for (const name of this.def.secrets) {
      const v = await this.o.secrets.reveal(name);
      if (v === null) missing.push(name);
      else {
        this.secretValues[name] = v;
        this.redactor.add(name, v);
      }
    }
    if (missing.length > 0)
      throw new Error(
        `secret${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} do${missing.length > 1 ? '' : 'es'} not exist (PUT /api/automation/secrets/<name>)`,
      );
  }

  rootScope(): BlockScope {
    return { steps: {}, vars: {}, locals: {} };
  }

  private scopeOf(s: BlockScope): Scope {
    return {
      trigger: this.run.trigger,
      inputs: this.run.trigger.inputs,
      run: {
        id: this.run.id,
        playbookId: this.run.playbookId,
        playbookVersion: this.run.playbookVersion,
        startedAt: this.run.startedAt ?? this.run.queuedAt,
      },
      secrets: this.secretValues,
      steps: s.steps,
      vars: s.vars,
      ...s.locals,
    };
  }

  log(stepKey: string | null, level: RunLogEntry['level'], message: string): void {
    this.pendingLogs.push({
      runId: this.run.id,
      seq: ++this.logSeq,
      at: new Date(this.o.clock()).toISOString(),
      stepKey,
      level,
      message: this.redactor.text(message),
    });
  }

  async flushLogs(): Promise<void> {
    if (this.pendingLogs.length === 0) return;
    const logs = this.pendingLogs.splice(0);
    await this.o.store.addLogs(this.o.db, logs);
  }

  /** Persists a step record (masked) with the pending log lines, in one transaction. */
  private async save(r: StepRecord): Promise<StepRecord> {
    const masked: StepRecord = {
      ...r,
      input: this.redactor.value(r.input),
      output: this.redactor.value(r.output),
      error: r.error === null ? null : this.redactor.text(r.error),
    };
    const logs = this.pendingLogs.splice(0);
    await this.o.db.transaction(async (tx) => {
      await this.o.store.putStep(tx, masked);
      await this.o.store.addLogs(tx, logs);
    });
    this.records.set(r.key, masked);
    return masked;
  }

  private isShutdown(): boolean {
    return this.signal.reason instanceof Error && this.signal.reason.message === 'shutdown';
  }

  private checkAbort(): void {
    if (this.signal.aborted) throw this.signal.reason instanceof Error ? this.signal.reason : new Error('aborted');
  }

  async block(steps: readonly StepDefinition[], prefix: string, scope: BlockScope): Promise<void> {
    for (const s of steps) {
      this.checkAbort();
      await this.step(s, `${prefix}${s.id}`, scope);
    }
  }

  private restore(s: StepDefinition, r: StepRecord, scope: BlockScope): void {
    scope.steps[s.id] = { status: r.status, output: r.output, error: r.error };
    if (s.type === 'setVariable' && r.status === 'succeeded' && isObject(r.output))
      scope.vars[String(r.output.variable)] = r.output.value;
  }

  private async step(s: StepDefinition, key: string, scope: BlockScope): Promise<void> {
    const prior = this.records.get(key);
    if (prior && TERMINAL_STEP.has(prior.status)) {
      this.restore(s, prior, scope);
      if (prior.status === 'failed' && !s.continueOnError)
        throw new StepFailed(`step ${key} failed: ${prior.error ?? ''}`);
      if (prior.status === 'rejected' || prior.status === 'expired')
        throw new Stop(prior.status, prior.error ?? prior.status);
      return;
    }
    const ctx = this.scopeOf(scope);
    if (s.if !== undefined && !prior) {
      let go: boolean;
      try {
        go = evaluateCondition(s.if, ctx, this.evalCtx);
      } catch (e) {
        throw new StepFailed(`step ${key}: its condition failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!go) {
        const r = await this.save(this.record(s, key, 'skipped', null, null, null, 0));
        this.restore(s, r, scope);
        return;
      }
    }
    if (s.type === 'forEach') return this.loop(s, key, scope, prior);
    // The input: every field but the control fields, rendered (KQL text is never rendered).
    const input: Record<string, unknown> = {};
    try {
      for (const [k, v] of Object.entries(s))
        if (!CONTROL_FIELDS.has(k))
          input[k] = s.type === 'kql' && k === 'query' ? v : renderValue(v, ctx, this.evalCtx);
    } catch (e) {
      throw new StepFailed(`step ${key}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (s.type === 'approval' || s.type === 'responseAction') return this.waitingStep(s, key, scope, input, prior);
    const policy = retryPolicy(s);
    const sideEffect = SIDE_EFFECT_STEPS.has(s.type);
    const idem = sideEffect ? idempotencyKey(this.run.id, key) : null;
    let attempts = prior?.attempts ?? 0;
    const resumed = prior?.status === 'running';
    if (resumed)
      this.log(
        key,
        'warn',
        `resuming after an interruption (attempt ${attempts} may have taken effect; idempotency key ${idem})`,
      );
    let delay = policy.backoffMs;
    const startedAt = prior?.startedAt ?? new Date(this.o.clock()).toISOString();
    for (;;) {
      attempts++;
      // Side effects are on record before they happen, so a crash leaves a trace and the key.
      if (sideEffect) await this.save({ ...this.record(s, key, 'running', input, null, null, attempts), startedAt });
      try {
        const output = await this.withTimeout(stepTimeoutMs(s), (signal) =>
          this.perform(s, key, input, {
            idempotencyKey: idem,
            signal,
            resumed: resumed && attempts === (prior?.attempts ?? 0) + 1,
          }),
        );
        const r = await this.save({
          ...this.record(s, key, 'succeeded', input, output, null, attempts),
          startedAt,
          finishedAt: new Date(this.o.clock()).toISOString(),
        });
        this.log(key, 'info', `${s.type} succeeded`);
        this.restore(s, r, scope);
        return;
      } catch (e) {
        if (this.signal.aborted) {
          // An abort (not a shutdown) ends the step for good; after a shutdown it stays `running` and resumes.
          if (!this.isShutdown())
            await this.save({
              ...this.record(s, key, 'aborted', input, null, 'the run was aborted', attempts),
              startedAt,
            });
          this.checkAbort();
        }
        const message = e instanceof Error ? e.message : String(e);
        if (e instanceof Transient && attempts < policy.attempts) {
          this.log(key, 'warn', `attempt ${attempts} failed (${message}); retrying in ${delay} ms`);
          await this.sleep(delay);
          delay = Math.min(policy.maxBackoffMs, Math.round(delay * policy.factor));
          continue;
        }
        this.log(key, 'error', `${s.type} failed: ${message}`);
        const r = await this.save({
          ...this.record(s, key, 'failed', input, null, message, attempts),
          startedAt,
          finishedAt: new Date(this.o.clock()).toISOString(),
        });
        this.restore(s, r, scope);
        if (s.continueOnError) return;
        throw new StepFailed(`step ${key} failed: ${this.redactor.text(message)}`);
      }
    }
  }

  private record(
    s: StepDefinition,
    key: string,
    status: StepStatus,
    input: unknown,
    output: unknown,
    error: string | null,
    attempts: number,
  ): StepRecord {
    const prior = this.records.get(key);
    return {
      runId: this.run.id,
      key,
      stepId: s.id,
      type: s.type,
      status,
      attempts,
      startedAt: prior?.startedAt ?? new Date(this.o.clock()).toISOString(),
      finishedAt: TERMINAL_STEP.has(status) ? new Date(this.o.clock()).toISOString() : null,
      input,
      output,
      error,
      idempotencyKey: SIDE_EFFECT_STEPS.has(s.type) ? idempotencyKey(this.run.id, key) : null,
      seq: prior?.seq ?? this.nextSeq++,
    };
  }

  private async withTimeout<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const c = new AbortController();
    const onAbort = () => c.abort(this.signal.reason);
    this.signal.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        c.abort(new Error('timeout'));
        reject(new Transient(`the step timed out after ${ms} ms`));
      }, ms);
    });
    try {
      return await Promise.race([fn(c.signal), timeout]);
    } finally {
      clearTimeout(timer);
      this.signal.removeEventListener('abort', onAbort);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(this.signal.reason instanceof Error ? this.signal.reason : new Error('aborted'));
      };
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  // ── loops ──

  private async loop(s: StepDefinition, key: string, scope: BlockScope, prior: StepRecord | undefined): Promise<void> {
    let items: unknown;
    try {
      items = renderValue(s.items, this.scopeOf(scope), this.evalCtx);
    } catch (e) {
      throw new StepFailed(`step ${key}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (items === null || items === undefined) items = [];
    if (!Array.isArray(items)) throw new StepFailed(`step ${key}: items is not a list (${typeof items})`);
    const max = typeof s.maxItems === 'number' ? s.maxItems : 50;
    const all = items as unknown[];
    const chosen = all.slice(0, Math.min(max, MAX_LOOP_ITEMS));
    if (!prior) {
      if (all.length > chosen.length)
        this.log(key, 'warn', `${all.length} items; the loop takes the first ${chosen.length}`);
      await this.save(this.record(s, key, 'running', { count: chosen.length, of: all.length }, null, null, 1));
    }
    const as = typeof s.as === 'string' ? s.as : 'item';
    const iterations: Record<string, unknown>[] = [];
    for (const [i, item] of chosen.entries()) {
      const inner: BlockScope = {
        steps: { ...scope.steps },
        vars: scope.vars,
        locals: { ...scope.locals, [as]: item, index: i },
      };
      await this.block(s.steps ?? [], `${key}[${i}].`, inner);
      const out: Record<string, unknown> = {};
      for (const c of s.steps ?? []) out[c.id] = inner.steps[c.id]?.output ?? null;
      iterations.push(out);
    }
    const r = await this.save(
      this.record(
        s,
        key,
        'succeeded',
        { count: chosen.length, of: all.length },
        { count: chosen.length, iterations },
        null,
        1,
      ),
    );
    this.restore(s, r, scope);
  }

  // ── approvals and response actions ──

  private async waitingStep(
    s: StepDefinition,
    key: string,
    scope: BlockScope,
    input: Record<string, unknown>,
    prior: StepRecord | undefined,
  ): Promise<void> {
    const id = idempotencyKey(this.run.id, key);
    const expiresInMs = typeof s.expiresIn === 'string' ? (parseDuration(s.expiresIn) ?? undefined) : undefined;
    let a = await this.o.approvals.get(id);
    if (!a) {
      if (!prior) await this.save(this.record(s, key, 'waiting', input, null, null, 1));
      if (s.type === 'approval') {
        a = await this.o.approvals.requestApproval({
          id,
          title: toText(input.title),
          description: toText(input.description),
          incidentId: this.run.incidentId,
          runId: this.run.id,
          stepKey: key,
          requestedBy: this.actor,
          ...(expiresInMs !== undefined ? { expiresInMs } : {}),
        });
      } else {
        const target = targetOf(input.target, String(input.action));
        a = await this.o.approvals.requestAction({
          id,
          action: String(input.action),
          target,
          parameters: isObject(input.parameters) ? input.parameters : {},
          ...(input.title ? { title: toText(input.title) } : {}),
          ...(input.description ? { description: toText(input.description) } : {}),
          incidentId: this.run.incidentId,
          alertId: this.run.trigger.alertId,
          runId: this.run.id,
          stepKey: key,
          requestedBy: this.actor,
          ...(expiresInMs !== undefined ? { expiresInMs } : {}),
        });
      }
      this.log(
        key,
        'info',
        `${a.title}: ${a.status === 'pending' ? `waiting for approval until ${a.expiresAt}` : a.status} (request ${a.id})`,
      );
    }
    const decided = {
      decision: a.status,
      approved:
        a.status === 'approved' || a.status === 'succeeded' || a.status === 'failed' || a.status === 'executing',
      approver: a.decidedBy,
      comment: a.decisionComment,
      decidedAt: a.decidedAt,
      requestId: a.id,
    };
    const settledForStep = s.type === 'approval' ? a.status !== 'pending' : SETTLED.includes(a.status);
    if (!settledForStep) {
      if (prior?.status !== 'waiting') await this.save(this.record(s, key, 'waiting', input, null, null, 1));
      throw new Suspend();
    }
    if (a.status === 'rejected' || a.status === 'expired' || a.status === 'cancelled') {
      const why =
        a.status === 'rejected'
          ? `rejected by ${a.decidedBy?.name ?? a.decidedBy?.id ?? 'someone'}${a.decisionComment ? `: ${a.decisionComment}` : ''}`
          : a.status === 'expired'
            ? `expired without a decision at ${a.expiresAt}`
            : 'cancelled';
      if (s.continueOnReject) {
        const r = await this.save(this.record(s, key, 'succeeded', input, decided, null, 1));
        this.log(key, 'info', `${a.title}: ${why}; continuing`);
        this.restore(s, r, scope);
        return;
      }
      const status: StepStatus = a.status === 'expired' ? 'expired' : a.status === 'cancelled' ? 'aborted' : 'rejected';
      const r = await this.save(this.record(s, key, status, input, decided, why, 1));
      this.log(key, 'warn', `${a.title}: ${why}`);
      this.restore(s, r, scope);
      throw new Stop(a.status === 'expired' ? 'expired' : a.status === 'cancelled' ? 'aborted' : 'rejected', why);
    }
    const output = s.type === 'approval' ? decided : { ...decided, status: a.status, result: a.result };
    if (a.status === 'failed') {
      const message = `the action failed: ${a.result?.message ?? ''}`;
      const r = await this.save(this.record(s, key, 'failed', input, output, message, 1));
      this.log(key, 'error', message);
      this.restore(s, r, scope);
      if (s.continueOnError) return;
      throw new StepFailed(`step ${key}: ${message}`);
    }
    const r = await this.save(this.record(s, key, 'succeeded', input, output, null, 1));
    this.log(
      key,
      'info',
      `${a.title}: ${a.status}${a.decidedBy ? ` (approved by ${a.decidedBy.name ?? a.decidedBy.id})` : ''}`,
    );
    this.restore(s, r, scope);
  }

  // ── step executors ──

  private async perform(
    s: StepDefinition,
    key: string,
    input: Record<string, unknown>,
    c: { idempotencyKey: string | null; signal: AbortSignal; resumed: boolean },
  ): Promise<unknown> {
    switch (s.type) {
      case 'setVariable':
        return { variable: String(input.variable), value: input.value ?? null };
      case 'http':
        return this.http(input, c);
      case 'kql': {
        const run = this.requireQuery();
        const params = isObject(input.parameters) ? input.parameters : {};
        const maxRows = typeof input.maxRows === 'number' ? input.maxRows : 100;
        const res = await run(withParameters(String(input.query), params), {
          timeoutMs: stepTimeoutMs(s),
          signal: c.signal,
          maxRows,
        });
        return { columns: res.columns, rows: res.rows, count: res.rows.length, truncated: res.truncated };
      }
      case 'lookupThreatIntel': {
        const indicator = toText(input.indicator).trim();
        if (!indicator) throw new Error('the indicator is empty');
        const t =
          input.indicatorType && input.indicatorType !== 'auto'
            ? (input.indicatorType as IndicatorType)
            : indicatorTypeOf(indicator);
        return lookupThreatIntel(this.requireQuery(), indicator, t, {
          lookbackMs: (typeof input.lookback === 'string' ? parseDuration(input.lookback) : null) ?? 90 * 86_400_000,
          maxMatches: typeof input.maxMatches === 'number' ? input.maxMatches : 20,
          timeoutMs: stepTimeoutMs(s),
          signal: c.signal,
        });
      }
      case 'lookupWatchlist': {
        const alias = toText(input.watchlist);
        const w = await this.o.store.watchlist(this.o.db, alias);
        if (!w) throw new Error(`no watchlist '${alias}'`);
        const items = await this.o.store.watchlistItems(this.o.db, alias, toText(input.key), 20);
        return {
          watchlist: alias,
          key: toText(input.key),
          found: items.length > 0,
          count: items.length,
          item: items[0] ?? null,
          items,
        };
      }
      case 'lookupAssetOwner':
        return this.assetOwner(s, input, c.signal);
      case 'comment': {
        const incidentId = this.requireIncident();
        const message = toText(input.message).trim();
        if (!message) throw new Error('the comment is empty');
        const g = this.o.incidents as IncidentGateway;
        if (c.resumed) {
          // The step was in flight when the run stopped: the comment may be there already.
          const since = this.records.get(key)?.startedAt ?? '';
          const done = (await g.comments(incidentId)).find(
            (x) =>
              x.author.type === 'playbook' &&
              x.author.id === this.actor.id &&
              x.message === message &&
              x.createdTime >= since,
          );
          if (done) return { commentId: done.id, deduplicated: true };
        }
        const comment = await g.addComment(incidentId, message, this.actor);
        return { commentId: comment.id };
      }
      case 'updateIncident': {
        const incidentId = this.requireIncident();
        const patch: Record<string, unknown> = {};
        for (const k of [
          'severity',
          'status',
          'classification',
          'classificationReason',
          'classificationComment',
          'title',
          'description',
        ])
          if (input[k] !== undefined && input[k] !== null && input[k] !== '') patch[k] = toText(input[k]);
        if (input.owner !== undefined && input.owner !== null)
          patch.owner = typeof input.owner === 'string' ? { assignedTo: input.owner } : input.owner;
        if (input.addTags !== undefined) patch.addTags = list(input.addTags);
        if (input.removeTags !== undefined) patch.removeTags = list(input.removeTags);
        if (Object.keys(patch).length === 0) throw new Error('nothing to change');
        const i = await (this.o.incidents as IncidentGateway).update(incidentId, patch as IncidentPatch, this.actor);
        return {
          incident: {
            id: i.id,
            number: i.number,
            severity: i.severity,
            status: i.status,
            tags: i.tags,
            owner: i.owner,
          },
        };
      }
      case 'notifyTeams': {
        const link = linkOf(input.link);
        const o = { title: toText(input.title), text: toText(input.text), facts: factsOf(input.facts), link };
        const body =
          input.format === 'messageCard'
            ? teamsMessageCard({ ...o, themeColor: toText(input.themeColor) || '0076D7' })
            : teamsAdaptiveCard(o);
        const res = await this.send(toText(input.webhook), 'POST', body, {}, c);
        return { status: res.status, delivered: true };
      }
      case 'notifySlack': {
        const body = slackMessage({
          title: toText(input.title),
          text: toText(input.text),
          fields: factsOf(input.fields),
          link: linkOf(input.link),
        });
        const res = await this.send(toText(input.webhook), 'POST', body, {}, c);
        return { status: res.status, delivered: true };
      }
      case 'ticket':
        return this.ticket(input, c);
      default:
        throw new Error(`step type ${s.type} cannot run here`);
    }
  }

  private requireQuery(): QueryRunner {
    if (!this.o.query) throw new Error('no workspace is connected for KQL');
    return this.o.query;
  }

  private requireIncident(): string {
    if (!this.o.incidents) throw new Error('no incident service is connected');
    if (!this.run.incidentId) throw new Error('this run has no incident');
    return this.run.incidentId;
  }

  private authHeaders(auth: unknown): Record<string, string> {
    if (!isObject(auth)) return {};
    if (auth.bearer !== undefined) return { authorization: `Bearer ${toText(auth.bearer)}` };
    if (isObject(auth.basic)) {
      const token = Buffer.from(`${toText(auth.basic.username)}:${toText(auth.basic.password)}`).toString('base64');
      this.redactor.add('basicAuth', token);
      return { authorization: `Basic ${token}` };
    }
    return {};
  }

  /** An HTTP call with the run's outbound rules; transient failures are retried by the caller. */
  private async send(
    url: string,
    method: string,
    body: unknown,
    headers: Record<string, string>,
    c: { idempotencyKey: string | null; signal: AbortSignal },
  ): Promise<OutboundResponse> {
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v;
    let payload: string | undefined;
    if (body !== undefined && body !== null) {
      if (typeof body === 'string') payload = body;
      else {
        payload = JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
    }
    if (c.idempotencyKey && method !== 'GET' && method !== 'HEAD') h['idempotency-key'] ??= c.idempotencyKey;
    let res: OutboundResponse;
    try {
      res = await this.o.http.request({
        method,
        url,
        headers: h,
        ...(payload !== undefined ? { body: payload } : {}),
        signal: c.signal,
        timeoutMs: 3_600_000,
      });
    } catch (e) {
      if (e instanceof OutboundBlockedError) throw e;
      if (e instanceof OutboundError && (e.code === 'network' || e.code === 'timeout')) throw new Transient(e.message);
      throw e;
    }
    if (res.status === 429 || res.status >= 500)
      throw new Transient(`${method} ${new URL(url).host} answered ${res.status}`);
    if (res.status < 200 || res.status >= 300)
      throw new Error(`${method} ${new URL(url).host} answered ${res.status}: ${res.body.slice(0, 300)}`);
    return res;
  }

  private async http(
    input: Record<string, unknown>,
    c: { idempotencyKey: string | null; signal: AbortSignal },
  ): Promise<unknown> {
    const method = toText(input.method || (input.body !== undefined ? 'POST' : 'GET')).toUpperCase();
    const url = new URL(toText(input.url));
    if (isObject(input.query)) for (const [k, v] of Object.entries(input.query)) url.searchParams.set(k, toText(v));
    const headers: Record<string, string> = {};
    if (isObject(input.headers)) for (const [k, v] of Object.entries(input.headers)) headers[k] = toText(v);
    Object.assign(headers, this.authHeaders(input.auth));
    const success = Array.isArray(input.successStatus) ? input.successStatus.map(Number) : null;
    let res: OutboundResponse;
    try {
      res = await this.send(url.toString(), method, input.body, headers, c);
    } catch (e) {
      const m = /answered (\d{3})/.exec(e instanceof Error ? e.message : '');
      if (!(success && m && success.includes(Number(m[1])))) throw e;
      return { status: Number(m[1]), body: null, json: null };
    }
    if (success && !success.includes(res.status)) throw new Error(`${method} ${url.host} answered ${res.status}`);
    const max = this.o.maxStoredBody ?? 65_536;
    return {
      status: res.status,
      headers: { 'content-type': res.headers['content-type'] ?? null },
      body: res.body.length > max ? `${res.body.slice(0, max)}…` : res.body,
      json: res.json,
    };
  }

  private async ticket(
    input: Record<string, unknown>,
    c: { idempotencyKey: string | null; signal: AbortSignal },
  ): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (isObject(input.headers)) for (const [k, v] of Object.entries(input.headers)) headers[k] = toText(v);
    Object.assign(headers, this.authHeaders(input.auth));
    const incident = this.run.trigger.incident;
    const severity = incident ? toText(incident.severity) : null;
    const labels = list(input.labels);
    const fields = isObject(input.fields) ? input.fields : {};
    if (input.system === 'jira') {
      const base = toText(input.url).replace(/\/+$/, '');
      const body = jiraIssue({
        project: toText(input.project),
        title: toText(input.title),
        description: toText(input.description),
        issueType: toText(input.issueType) || 'Task',
        priority: input.priority ? toText(input.priority) : severity,
        labels,
        fields,
      });
      const res = await this.send(
        `${base}/rest/api/2/issue`,
        'POST',
        body,
        { accept: 'application/json', ...headers },
        c,
      );
      const j = isObject(res.json) ? res.json : {};
      const issueKey = j.key ? toText(j.key) : null;
      return {
        status: res.status,
        id: j.id ? toText(j.id) : null,
        key: issueKey,
        url: issueKey ? `${base}/browse/${issueKey}` : null,
      };
    }
    const body = genericTicket({
      title: toText(input.title),
      description: toText(input.description),
      severity,
      labels,
      incident: incident
        ? { id: incident.id, number: incident.number, title: incident.title, severity: incident.severity }
        : null,
      fields,
    });
    const res = await this.send(toText(input.url), 'POST', body, headers, c);
    const j = isObject(res.json) ? res.json : {};
    const id = j.id ?? j.key ?? j.ticketId ?? null;
    return { status: res.status, id: id === null ? null : toText(id), url: j.url ? toText(j.url) : null };
  }

  private async assetOwner(s: StepDefinition, input: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const asset = input.asset;
    let type = toText(input.assetType || 'auto');
    let value: string;
    if (isObject(asset)) {
      const t = toText(asset.type).toLowerCase();
      if (type === 'auto') type = t === 'account' ? 'account' : 'host';
      value =
        type === 'account'
          ? toText(
              asset.UPNSuffix && asset.Name
                ? `${toText(asset.Name)}@${toText(asset.UPNSuffix)}`
                : (asset.name ?? asset.Name ?? asset.Sid),
            )
          : toText(asset.HostName ?? asset.name ?? asset.MdatpDeviceId);
    } else {
      value = toText(asset).trim();
      if (type === 'auto') type = /@|\\|^S-1-/i.test(value) ? 'account' : 'host';
    }
    if (!value) throw new Error('the asset is empty');
    const sources = Array.isArray(input.sources) ? input.sources.map(String) : ['deviceInfo', 'identityInfo'];
    const lookbackMs = (typeof input.lookback === 'string' ? parseDuration(input.lookback) : null) ?? 30 * 86_400_000;
    const opts = { lookbackMs, timeoutMs: stepTimeoutMs(s), signal };
    const result: Record<string, unknown> = {
      asset: value,
      assetType: type,
      found: false,
      owner: null,
      device: null,
      source: null,
    };
    if (sources.includes('watchlist') && input.watchlist) {
      const items = await this.o.store.watchlistItems(this.o.db, toText(input.watchlist), value, 1);
      const item = items[0];
      if (item) {
        const field = toText(input.ownerField) || 'Owner';
        const owner = toText(item[field]);
        if (owner)
          return {
            ...result,
            found: true,
            source: 'watchlist',
            owner: { upn: owner.includes('@') ? owner : null, displayName: owner },
            watchlistItem: item,
          };
      }
    }
    if (type === 'host' && sources.includes('deviceInfo')) {
      const device = await deviceInfo(this.requireQuery(), value, opts);
      if (device) {
        result.device = device;
        const user = device.loggedOnUsers[0];
        if (user) {
          const owner = sources.includes('identityInfo')
            ? await identityInfo(
                this.requireQuery(),
                { ...(user.sid ? { sid: user.sid } : {}), name: user.userName },
                opts,
              )
            : null;
          return {
            ...result,
            found: true,
            source: owner ? 'deviceInfo+identityInfo' : 'deviceInfo',
            owner: owner ?? {
              upn: null,
              displayName: user.userName,
              accountName: user.userName,
              domain: user.domainName,
              sid: user.sid || null,
            },
          };
        }
      }
    }
    if (type === 'account' && sources.includes('identityInfo')) {
      const owner = await identityInfo(this.requireQuery(), accountRef(value), opts);
      if (owner) return { ...result, found: true, source: 'identityInfo', owner };
    }
    return result;
  }
}

function linkOf(v: unknown): LinkSpec | null {
  if (!isObject(v) || !v.url) return null;
  return { title: toText(v.title), url: toText(v.url) };
}

/** A response action's target from a step: an id, an entity, or {type, id, details}. */
function targetOf(v: unknown, action: string): { type: string; id: string; details?: Record<string, string> } {
  const kinds: Record<string, string> = {
    host: 'device',
    account: 'user',
    filehash: 'file',
    file: 'file',
    ip: 'ip',
    url: 'url',
    mailmessage: 'email',
    mailbox: 'email',
  };
  if (isObject(v)) {
    const t = toText(v.type).toLowerCase();
    const type = kinds[t] ?? t;
    const id =
      toText(v.id) ||
      toText(
        v.MdatpDeviceId ??
          v.HostName ??
          v.AadUserId ??
          (v.Name && v.UPNSuffix ? `${toText(v.Name)}@${toText(v.UPNSuffix)}` : v.Name) ??
          v.Value ??
          v.Address ??
          v.Url ??
          v.NetworkMessageId ??
          v.name,
      );
    const details: Record<string, string> = {};
    if (isObject(v.details)) for (const [k, x] of Object.entries(v.details)) details[k] = toText(x);
    return { type: type || 'unknown', id, ...(Object.keys(details).length ? { details } : {}) };
  }
  const text = toText(v).trim();
  if (!text) throw new Error(`${action} needs a target`);
  return { type: actionInfo(action)?.target ?? 'unknown', id: text };
}
