/**
 * Approvals: nothing that changes the world runs until a person says so. A response action (from a playbook step,
 * or requested by a custom detection through `ActionRequester`) becomes a pending request with an expiry (default
 * 7 days); an analyst approves or rejects it through the API (the decision and who made it are recorded); an
 * approved action runs once through its adapter, and its outcome is written on the incident. A per-action policy
 * may allow automatic execution; the default is approval. Playbooks' plain approval steps use the same requests.
 *
 * Exactly once: the request id is the adapter call's idempotency key; the request moves approved → executing →
 * succeeded/failed with conditional updates (only one caller wins a transition); after a crash, requests left in
 * `approved` or `executing` are executed again with the same key, and outcomes not yet written on their incident
 * are written (a comment already there is not repeated).
 */
import type { ActionRequester, ActionRequestStatus, ResponseActionRequest } from '../detect/actions.js';
import type { Actor } from '../incidents/model.js';
import type { AutomationStore } from '../state/automation-repo.js';
import type { SqlDriver } from '../state/sql-driver.js';
import { type ActionAdapter, type ActionExecution, actionInfo, TransientActionError } from './actions.js';
import type { IncidentGateway } from './gateway.js';
import {
  type ActionPolicy,
  type ActionResult,
  type ActionTarget,
  type Approval,
  type ApprovalStatus,
  DEFAULT_APPROVAL_EXPIRY_MS,
  type PolicyMode,
} from './model.js';
import { AutomationError } from './source.js';

export const ACTIONS_ACTOR: Actor = { type: 'system', id: 'response-actions', name: 'Vigil response actions' };
export const POLICY_ACTOR: Actor = { type: 'system', id: 'action-policy', name: 'Automatic execution policy' };

export interface ApprovalServiceOptions {
  readonly db: SqlDriver;
  readonly store: AutomationStore;
  readonly clock: () => number;
  readonly incidents: IncidentGateway | null;
  readonly adapters: readonly ActionAdapter[];
  /** Attempts per execution for transient adapter failures (default 3), and the first backoff (default 1 s). */
  readonly executionAttempts?: number;
  readonly retryBackoffMs?: number;
  readonly log?: (message: string) => void;
}

export interface ActionRequestInput {
  readonly id: string;
  readonly action: string;
  readonly target: ActionTarget;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly title?: string;
  readonly description?: string;
  readonly incidentId: string | null;
  readonly alertId: string | null;
  readonly runId: string | null;
  readonly stepKey: string | null;
  readonly requestedBy: Actor;
  readonly expiresInMs?: number;
}

/** Decided or finished: what waits on a request can go on. */
export const SETTLED: readonly ApprovalStatus[] = ['rejected', 'expired', 'cancelled', 'succeeded', 'failed'];

export class ApprovalService implements ActionRequester {
  private readonly policyCache = new Map<string, ActionPolicy>();
  private readonly executing = new Map<string, Promise<void>>();
  private readonly listeners = new Set<(a: Approval) => void>();
  private closed = false;
  private readonly abort = new AbortController();

  constructor(private readonly o: ApprovalServiceOptions) {}

  private now(): string {
    return new Date(this.o.clock()).toISOString();
  }

  private log(m: string): void {
    this.o.log?.(m);
  }

  /** Loads the policies, executes what a crash interrupted, writes outcomes not yet on their incidents. */
  async open(): Promise<void> {
    for (const p of await this.o.store.policies(this.o.db)) this.policyCache.set(p.action, p);
    for (const a of await this.o.store.approvalsWithStatus(this.o.db, ['approved', 'executing']))
      if (a.kind === 'action') void this.execute(a.id, true);
    for (const a of await this.o.store.unrecordedApprovals(this.o.db)) await this.record(a);
  }

  /** Called when a request is settled (decided, executed, expired). */
  onSettled(listener: (a: Approval) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private settled(a: Approval): void {
    for (const l of this.listeners) {
      try {
        l(a);
      } catch (e) {
        this.log(`approval listener: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  // ── policies ──

  policy(action: string): ActionPolicy {
    return (
      this.policyCache.get(action) ?? {
        action,
        mode: 'approval',
        expiryMs: DEFAULT_APPROVAL_EXPIRY_MS,
        updatedBy: null,
        updatedAt: null,
      }
    );
  }

  policies(actions: readonly string[]): ActionPolicy[] {
    return actions.map((a) => this.policy(a));
  }

  async setPolicy(action: string, p: { mode: PolicyMode; expiryMs?: number }, actor: Actor): Promise<ActionPolicy> {
    if (!actionInfo(action)) throw new AutomationError('not_found', `no response action '${action}'`);
    if (actor.type !== 'analyst') throw new AutomationError('forbidden', 'only a person can change an action policy');
    if (p.mode !== 'approval' && p.mode !== 'auto')
      throw new AutomationError('invalid', "mode is 'approval' or 'auto'");
    const expiryMs = p.expiryMs ?? this.policy(action).expiryMs;
    if (!(expiryMs >= 60_000 && expiryMs <= 30 * 86_400_000))
      throw new AutomationError('invalid', 'an approval expires after 1 minute to 30 days');
    const policy: ActionPolicy = { action, mode: p.mode, expiryMs, updatedBy: actor, updatedAt: this.now() };
    await this.o.store.putPolicy(this.o.db, policy, actor, policy.updatedAt as string);
    this.policyCache.set(action, policy);
    return policy;
  }

  // ── requests ──

  /** Detections' requests (custom detection response actions): pending approval unless the policy is automatic. */
  async request(r: ResponseActionRequest): Promise<ActionRequestStatus> {
    const a = await this.requestAction({
      id: r.requestId,
      action: r.action,
      target: {
        type: r.targetType,
        id: r.targetId,
        details: { identifier: r.identifier, ...(r.deviceId ? { deviceId: r.deviceId } : {}) },
      },
      parameters: r.parameters,
      description: `Requested by the custom detection '${r.ruleName}' for alert ${r.alertId}.`,
      incidentId: null,
      alertId: r.alertId,
      runId: null,
      stepKey: null,
      requestedBy: { type: 'system', id: r.requestedBy, name: r.ruleName },
    });
    return { requestId: a.id, status: a.status === 'pending' ? 'pending_approval' : a.status };
  }

  async requestAction(input: ActionRequestInput): Promise<Approval> {
    const info = actionInfo(input.action);
    if (!info) throw new AutomationError('invalid', `no response action '${input.action}'`);
    if (!input.target.id) throw new AutomationError('invalid', `${input.action} needs a target`);
    const existing = await this.o.store.approval(this.o.db, input.id);
    if (existing) return existing;
    const policy = this.policy(input.action);
    // One clock read: the expiry is exactly the policy's duration after the request.
    const at = this.o.clock();
    const now = new Date(at).toISOString();
    const auto = policy.mode === 'auto';
    const a: Approval = {
      id: input.id,
      kind: 'action',
      action: input.action,
      target: input.target,
      parameters: input.parameters,
      title: input.title ?? `${input.action} on ${input.target.type} ${input.target.id}`,
      description: input.description ?? info.description,
      incidentId: input.incidentId,
      alertId: input.alertId,
      runId: input.runId,
      stepKey: input.stepKey,
      requestedBy: input.requestedBy,
      requestedAt: now,
      expiresAt: new Date(at + (input.expiresInMs ?? policy.expiryMs)).toISOString(),
      status: auto ? 'approved' : 'pending',
      decidedBy: auto ? POLICY_ACTOR : null,
      decidedAt: auto ? now : null,
      decisionComment: auto ? `the policy of ${input.action} allows automatic execution` : null,
      result: null,
      executedAt: null,
      attempts: 0,
    };
    if (!(await this.o.store.insertApproval(this.o.db, a)))
      return (await this.o.store.approval(this.o.db, input.id)) as Approval;
    this.log(`${a.title}: ${auto ? 'approved by policy' : 'waiting for approval'} (${a.id})`);
    if (auto) void this.execute(a.id);
    return a;
  }

  /** A playbook's approval step: a decision only, nothing is executed. */
  async requestApproval(input: {
    id: string;
    title: string;
    description: string;
    incidentId: string | null;
    runId: string;
    stepKey: string;
    requestedBy: Actor;
    expiresInMs?: number;
  }): Promise<Approval> {
    const existing = await this.o.store.approval(this.o.db, input.id);
    if (existing) return existing;
    const at = this.o.clock();
    const a: Approval = {
      id: input.id,
      kind: 'approval',
      action: null,
      target: null,
      parameters: {},
      title: input.title,
      description: input.description,
      incidentId: input.incidentId,
      alertId: null,
      runId: input.runId,
      stepKey: input.stepKey,
      requestedBy: input.requestedBy,
      requestedAt: new Date(at).toISOString(),
      expiresAt: new Date(at + (input.expiresInMs ?? DEFAULT_APPROVAL_EXPIRY_MS)).toISOString(),
      status: 'pending',
      decidedBy: null,
      decidedAt: null,
      decisionComment: null,
      result: null,
      executedAt: null,
      attempts: 0,
    };
    await this.o.store.insertApproval(this.o.db, a);
    return (await this.o.store.approval(this.o.db, input.id)) as Approval;
  }

  async get(id: string): Promise<Approval | null> {
    return this.o.store.approval(this.o.db, id);
  }

  async list(
    q: { status?: ApprovalStatus; incidentId?: string; runId?: string; limit?: number } = {},
  ): Promise<Approval[]> {
    return this.o.store.approvals(this.o.db, q);
  }

  // ── decisions ──

  private async pendingOrFail(id: string): Promise<Approval> {
    const a = await this.o.store.approval(this.o.db, id);
    if (!a) throw new AutomationError('not_found', `no approval request ${id}`);
    if (a.status === 'pending' && this.o.clock() >= Date.parse(a.expiresAt)) {
      await this.expire(a);
      throw new AutomationError('conflict', `the request expired at ${a.expiresAt}`);
    }
    if (a.status !== 'pending')
      throw new AutomationError(
        'conflict',
        `the request is ${a.status}${a.decidedBy ? ` (decided by ${a.decidedBy.name ?? a.decidedBy.id})` : ''}`,
      );
    return a;
  }

  async approve(id: string, approver: Actor, comment: string | null = null): Promise<Approval> {
    return this.decide(id, approver, comment, 'approved');
  }

  async reject(id: string, approver: Actor, comment: string | null = null): Promise<Approval> {
    return this.decide(id, approver, comment, 'rejected');
  }

  private async decide(
    id: string,
    approver: Actor,
    comment: string | null,
    status: 'approved' | 'rejected',
  ): Promise<Approval> {
    if (approver.type !== 'analyst' || !approver.id)
      throw new AutomationError('forbidden', 'a request is approved or rejected by a person (an analyst actor)');
    await this.pendingOrFail(id);
    const ok = await this.o.store.transitionApproval(this.o.db, id, ['pending'], {
      status,
      decidedBy: approver,
      decidedAt: this.now(),
      decisionComment: comment,
    });
    const a = (await this.o.store.approval(this.o.db, id)) as Approval;
    if (!ok) throw new AutomationError('conflict', `the request is ${a.status}`);
    this.log(`${a.title}: ${status} by ${approver.name ?? approver.id}`);
    if (status === 'approved' && a.kind === 'action') void this.execute(id);
    else {
      if (a.kind === 'action') await this.record(a);
      this.settled(a);
    }
    return a;
  }

  /** Cancels a pending request (its run was aborted). */
  async cancel(id: string, by: Actor): Promise<boolean> {
    const ok = await this.o.store.transitionApproval(this.o.db, id, ['pending'], {
      status: 'cancelled',
      decidedBy: by,
      decidedAt: this.now(),
      decisionComment: 'the playbook run was aborted',
    });
    if (ok) this.settled((await this.o.store.approval(this.o.db, id)) as Approval);
    return ok;
  }

  private async expire(a: Approval): Promise<boolean> {
    const ok = await this.o.store.transitionApproval(this.o.db, a.id, ['pending'], {
      status: 'expired',
      decidedAt: this.now(),
      decisionComment: `no decision before ${a.expiresAt}`,
    });
    if (!ok) return false;
    const after = (await this.o.store.approval(this.o.db, a.id)) as Approval;
    this.log(`${a.title}: expired`);
    if (after.kind === 'action') await this.record(after);
    this.settled(after);
    return true;
  }

  /** Expires pending requests whose time is up; returns how many. */
  async expireDue(): Promise<number> {
    let n = 0;
    for (const a of await this.o.store.dueApprovals(this.o.db, this.now())) if (await this.expire(a)) n++;
    return n;
  }

  async nextExpiry(): Promise<number | null> {
    const t = await this.o.store.nextExpiry(this.o.db);
    return t ? Date.parse(t) : null;
  }

  // ── execution ──

  /** Runs an approved action once (in this process: one execution per request at a time). */
  execute(id: string, resume = false): Promise<void> {
    const running = this.executing.get(id);
    if (running) return running;
    const p = this.executeOnce(id, resume)
      .catch((e: unknown) => this.log(`action ${id}: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => this.executing.delete(id));
    this.executing.set(id, p);
    return p;
  }

  private async executeOnce(id: string, resume: boolean): Promise<void> {
    if (this.closed) return;
    const before = await this.o.store.approval(this.o.db, id);
    if (before?.kind !== 'action') return;
    const won = await this.o.store.transitionApproval(
      this.o.db,
      id,
      resume ? ['approved', 'executing'] : ['approved'],
      {
        status: 'executing',
        attempts: before.attempts + 1,
      },
    );
    if (!won) return;
    const a = (await this.o.store.approval(this.o.db, id)) as Approval;
    const incidentId = a.incidentId ?? (await this.incidentOfAlert(a.alertId));
    const incident = incidentId && this.o.incidents ? await this.o.incidents.getIncident(incidentId) : null;
    const request: ActionExecution = {
      contract: 'vigil.action/v1',
      id: a.id,
      action: a.action as string,
      target: a.target as ActionTarget,
      parameters: a.parameters,
      incident: incident ? { id: incident.id, number: incident.number, title: incident.title } : null,
      alertId: a.alertId,
      requestedBy: a.requestedBy,
      requestedAt: a.requestedAt,
      approvedBy: a.decidedBy ?? POLICY_ACTOR,
      approvedAt: a.decidedAt ?? a.requestedAt,
      comment: a.decisionComment,
    };
    const adapter = this.o.adapters.find((x) => x.handles(request.action));
    let result: ActionResult;
    if (!adapter) {
      result = {
        status: 'failed',
        message: `no action adapter is configured for ${request.action}`,
        externalId: null,
        details: null,
      };
    } else {
      const r = await this.callAdapter(adapter, request);
      // Shutting down: the request stays `executing` and runs again (same idempotency key) at the next start.
      if (r === null) return;
      result = r;
    }
    await this.o.store.transitionApproval(this.o.db, id, ['executing'], {
      status: result.status,
      result,
      executedAt: this.now(),
      incidentId,
    });
    const done = (await this.o.store.approval(this.o.db, id)) as Approval;
    this.log(`${done.title}: ${result.status} (${result.message})`);
    await this.record(done);
    this.settled(done);
  }

  private async callAdapter(adapter: ActionAdapter, request: ActionExecution): Promise<ActionResult | null> {
    const attempts = Math.max(1, this.o.executionAttempts ?? 3);
    let delay = this.o.retryBackoffMs ?? 1000;
    for (let i = 1; ; i++) {
      try {
        const r = await adapter.execute(request, this.abort.signal);
        return this.abort.signal.aborted ? null : r;
      } catch (e) {
        if (this.abort.signal.aborted) return null;
        const message = e instanceof Error ? e.message : String(e);
        if (!(e instanceof TransientActionError) || i >= attempts)
          return { status: 'failed', message: `${adapter.id}: ${message}`, externalId: null, details: { attempts: i } };
        this.log(`${request.action} ${request.id}: attempt ${i} failed (${message}); retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
  }

  private async incidentOfAlert(alertId: string | null): Promise<string | null> {
    if (!alertId || !this.o.incidents) return null;
    return (await this.o.incidents.alert(alertId))?.summary.incidentId ?? null;
  }

  /** Writes an action's outcome on its incident (once). */
  private async record(a: Approval): Promise<void> {
    const incidentId = a.incidentId ?? (await this.incidentOfAlert(a.alertId));
    if (!incidentId || !this.o.incidents) {
      // Nothing to write on (yet): a detection's alert may not be in an incident; the request keeps the result.
      if (!a.alertId || !this.o.incidents) await this.o.store.markRecorded(this.o.db, a.id, this.now());
      return;
    }
    const who = a.decidedBy ? (a.decidedBy.name ?? a.decidedBy.id) : null;
    const target = a.target ? `${a.target.type} ${a.target.id}` : '';
    const message =
      a.status === 'succeeded' || a.status === 'failed'
        ? `Response action ${a.action} on ${target} ${a.status} (approved by ${who ?? 'policy'}): ${a.result?.message ?? ''}` +
          (a.result?.externalId ? ` [${a.result.externalId}]` : '')
        : a.status === 'rejected'
          ? `Response action ${a.action} on ${target} was rejected by ${who}${a.decisionComment ? `: ${a.decisionComment}` : ''}`
          : `Response action ${a.action} on ${target} expired without a decision (requested ${a.requestedAt})`;
    try {
      const existing = await this.o.incidents.comments(incidentId);
      if (!existing.some((c) => c.author.id === ACTIONS_ACTOR.id && c.message === message))
        await this.o.incidents.addComment(incidentId, message, ACTIONS_ACTOR);
      await this.o.store.markRecorded(this.o.db, a.id, this.now());
    } catch (e) {
      this.log(`recording ${a.id} on incident ${incidentId}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Waits for executions in flight. */
  async idle(): Promise<void> {
    while (this.executing.size > 0) await Promise.all([...this.executing.values()]);
  }

  /** Stops: calls in flight are cut off and their requests run again at the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    await this.idle();
  }
}
