/**
 * The automation service: automation rules, task lists, playbooks (versioned), the durable runtime, approvals and
 * action policies, secrets and watchlists, behind one object the API and the server use. It implements the
 * detections' `ActionRequester` (`service.actions`), so custom detections' response actions wait for approval too.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActionRequester } from '../detect/actions.js';
import type { Actor } from '../incidents/model.js';
import type { QueryWorkspace } from '../query/query-service.js';
import {
  AUTOMATION_MIGRATIONS,
  AutomationStore,
  type RunQuery,
  type StoredPlaybook,
} from '../state/automation-repo.js';
import { migrate } from '../state/migrations.js';
import type { SqlDriver } from '../state/sql-driver.js';
import { ACTION_CATALOG, ACTION_NAMES, HttpActionAdapter, type HttpAdapterConfig } from './actions.js';
import { ApprovalService } from './approvals.js';
import type { IncidentGateway } from './gateway.js';
import { OutboundHttp, type OutboundHttpOptions } from './http-guard.js';
import { type QueryRunner, workspaceRunner } from './lookups.js';
import type {
  ActionPolicy,
  Approval,
  ApprovalStatus,
  AutomationRule,
  PlaybookRun,
  PolicyMode,
  RuleExecution,
  TaskList,
} from './model.js';
import { type PlaybookDefinition, parsePlaybook } from './playbook.js';
import { RuleEngine } from './rule-engine.js';
import { parseRule, parseRuleValue, parseTaskList } from './rules.js';
import { PlaybookRuntime, type RunDetail, type StoredDefinition, type TriggerInput } from './runtime.js';
import { SecretBox, SecretStore } from './secrets.js';
import { type AutomationDiagnostic, AutomationError, diagnosticAt } from './source.js';

export interface AutomationServiceOptions {
  readonly state: SqlDriver;
  /** The incident service (rules need it; playbooks without incidents run without it). */
  readonly incidents: IncidentGateway | null;
  /** The workspace for KQL steps and look-ups (or a runner). */
  readonly query?: QueryWorkspace | QueryRunner | null;
  /** 32 bytes (see secrets.ts `loadSecretKey`). */
  readonly secretKey: Buffer;
  /** Outbound HTTP rules: allow-listed addresses/CIDRs for private targets, response cap, DNS. */
  readonly http?: OutboundHttpOptions;
  /** Response action bridges (HTTP JSON contract `vigil.action/v1`). */
  readonly adapters?: readonly HttpAdapterConfig[];
  readonly clock?: () => number;
  readonly concurrency?: number;
  /** How often pending approvals are checked for expiry (default 60 s). */
  readonly approvalSweepMs?: number;
  /** Backoff before retrying a failed action call (default 1 s, doubling; 3 attempts). */
  readonly actionRetryBackoffMs?: number;
  readonly log?: (message: string) => void;
  readonly onRuleEvent?: ConstructorParameters<typeof RuleEngine>[0]['onProcessed'];
  /**
   * Called after a watchlist is created, replaced or deleted (committed), so the workspace can regenerate what
   * reads watchlists (`_GetWatchlist`): rules then see an edit at their next run.
   */
  readonly onWatchlistsChanged?: () => Promise<void>;
}

export interface SaveResult<T> {
  readonly value: T | null;
  readonly diagnostics: readonly AutomationDiagnostic[];
}

export interface PlaybookSummary {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly enabled: boolean;
  readonly trigger: PlaybookDefinition['trigger'];
  readonly secrets: readonly string[];
  readonly createdAt: string;
  readonly createdBy: Actor;
}

export interface PlaybookDetail extends PlaybookSummary {
  readonly source: string;
  readonly definition: PlaybookDefinition;
}

const isText = (v: unknown): v is string => typeof v === 'string';

export class AutomationService {
  readonly store = new AutomationStore();
  readonly secrets: SecretStore;
  readonly http: OutboundHttp;
  readonly approvals: ApprovalService;
  readonly runtime: PlaybookRuntime;
  readonly rules: RuleEngine | null;
  private readonly db: SqlDriver;
  private readonly clock: () => number;
  private sweepTimer: NodeJS.Timeout | null = null;

  private constructor(private readonly o: AutomationServiceOptions) {
    this.db = o.state;
    this.clock = o.clock ?? Date.now;
    this.secrets = new SecretStore(this.db, this.store, new SecretBox(o.secretKey), this.clock);
    this.http = new OutboundHttp(o.http ?? {});
    const adapters = (o.adapters ?? []).map((c) => new HttpActionAdapter(c, this.http, (n) => this.secrets.reveal(n)));
    this.approvals = new ApprovalService({
      db: this.db,
      store: this.store,
      clock: this.clock,
      incidents: o.incidents,
      adapters,
      ...(o.actionRetryBackoffMs !== undefined ? { retryBackoffMs: o.actionRetryBackoffMs } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
    const q = o.query;
    const query: QueryRunner | null = !q ? null : typeof q === 'function' ? q : workspaceRunner(q, this.clock);
    this.runtime = new PlaybookRuntime({
      db: this.db,
      store: this.store,
      clock: this.clock,
      incidents: o.incidents,
      query,
      http: this.http,
      secrets: this.secrets,
      approvals: this.approvals,
      ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
    this.rules = o.incidents
      ? new RuleEngine({
          db: this.db,
          store: this.store,
          clock: this.clock,
          incidents: o.incidents,
          runtime: this.runtime,
          ...(o.log ? { log: o.log } : {}),
          ...(o.onRuleEvent ? { onProcessed: o.onRuleEvent } : {}),
        })
      : null;
  }

  /** Migrates the state store, resumes interrupted runs and actions, and starts following incident events. */
  static async open(o: AutomationServiceOptions): Promise<AutomationService> {
    await migrate(o.state, AUTOMATION_MIGRATIONS);
    const s = new AutomationService(o);
    await s.approvals.open();
    await s.approvals.expireDue();
    await s.runtime.open();
    await s.rules?.open();
    s.scheduleSweep();
    return s;
  }

  /** What detections call to request response actions. */
  get actions(): ActionRequester {
    return this.approvals;
  }

  private scheduleSweep(): void {
    const every = this.o.approvalSweepMs ?? 60_000;
    this.sweepTimer = setInterval(() => {
      void this.approvals.expireDue().catch((e: unknown) => this.o.log?.(`approval expiry: ${String(e)}`));
    }, every);
    this.sweepTimer.unref();
  }

  // ───────────────────────────── rules ─────────────────────────────

  /** Validates a rule (YAML/JSON text or a value) without saving it. */
  async validateRule(input: string | unknown): Promise<SaveResult<AutomationRule['id']>> {
    const parsed = isText(input)
      ? parseRule(input, { now: this.clock() })
      : parseRuleValue(input, { now: this.clock() });
    const diagnostics = [...parsed.diagnostics];
    if (parsed.rule) diagnostics.push(...(await this.ruleReferences(parsed.rule)));
    const ok = !diagnostics.some((d) => d.severity === 'error');
    return { value: ok && parsed.rule ? parsed.rule.id : null, diagnostics };
  }

  private async ruleReferences(
    rule: NonNullable<ReturnType<typeof parseRule>['rule']>,
  ): Promise<AutomationDiagnostic[]> {
    const out: AutomationDiagnostic[] = [];
    const lists = new Set((await this.store.taskLists(this.db)).map((t) => t.id));
    for (const [i, a] of rule.actions.entries()) {
      if (a.type === 'runPlaybook') {
        const p = await this.store.playbook(this.db, a.playbookId);
        if (!p)
          out.push(
            diagnosticAt('error', 'rule.playbook', `no playbook '${a.playbookId}'`, ['actions', i, 'runPlaybook']),
          );
        else {
          const kind = (p.definition as StoredDefinition).playbook.trigger.kind;
          const want = rule.trigger === 'alertCreated' ? 'alert' : 'incident';
          if (kind !== want && kind !== 'manual')
            out.push(
              diagnosticAt(
                'error',
                'rule.playbook',
                `playbook '${a.playbookId}' runs on the ${kind} trigger; this rule starts it with an ${want}`,
                ['actions', i, 'runPlaybook'],
              ),
            );
        }
      }
      if (a.type === 'addTasks' && a.list && !lists.has(a.list))
        out.push(
          diagnosticAt('error', 'rule.task-list', `no task list '${a.list}'`, ['actions', i, 'addTasks', 'list']),
        );
    }
    return out;
  }

  /**
   * Saves a rule (new or replacing the one with its id). Errors are diagnostics; nothing is saved then. With
   * `expectedId` (PUT .../rules/{id}), a valid rule whose id differs is refused.
   */
  async putRule(input: string | unknown, actor: Actor, expectedId?: string): Promise<SaveResult<AutomationRule>> {
    const text = isText(input) ? input : null;
    const parsed =
      text !== null ? parseRule(text, { now: this.clock() }) : parseRuleValue(input, { now: this.clock() });
    const diagnostics = [...parsed.diagnostics];
    if (parsed.rule) diagnostics.push(...(await this.ruleReferences(parsed.rule)));
    if (!parsed.rule || diagnostics.some((d) => d.severity === 'error')) return { value: null, diagnostics };
    checkId('rule', parsed.rule.id, expectedId);
    const saved = await this.store.putRule(this.db, parsed.rule, text, actor, new Date(this.clock()).toISOString());
    await this.rules?.reload();
    return { value: saved, diagnostics };
  }

  async listRules(): Promise<AutomationRule[]> {
    return this.store.rules(this.db);
  }

  async getRule(id: string): Promise<AutomationRule | null> {
    return this.store.rule(this.db, id);
  }

  async setRuleEnabled(id: string, enabled: boolean, actor: Actor): Promise<AutomationRule> {
    const r = await this.store.rule(this.db, id);
    if (!r) throw new AutomationError('not_found', `no automation rule '${id}'`);
    const { version: _v, createdAt: _c, updatedAt: _u, updatedBy: _b, source, ...def } = r;
    const saved = await this.store.putRule(
      this.db,
      { ...def, enabled },
      source,
      actor,
      new Date(this.clock()).toISOString(),
    );
    await this.rules?.reload();
    return saved;
  }

  async deleteRule(id: string): Promise<boolean> {
    const ok = await this.store.deleteRule(this.db, id);
    await this.rules?.reload();
    return ok;
  }

  async ruleExecutions(filter: { ruleId?: string; incidentId?: string; limit?: number }): Promise<RuleExecution[]> {
    await this.rules?.flush();
    return this.store.ruleExecutions(this.db, filter);
  }

  // ───────────────────────────── task lists ─────────────────────────────

  async putTaskList(text: string): Promise<SaveResult<TaskList>> {
    const parsed = parseTaskList(text);
    if (!parsed.list) return { value: null, diagnostics: parsed.diagnostics };
    const at = new Date(this.clock()).toISOString();
    await this.store.putTaskList(this.db, parsed.list, at);
    await this.rules?.reload();
    return { value: { ...parsed.list, updatedAt: at }, diagnostics: parsed.diagnostics };
  }

  taskLists(): Promise<TaskList[]> {
    return this.store.taskLists(this.db);
  }

  async deleteTaskList(id: string): Promise<boolean> {
    const used = (await this.store.rules(this.db)).filter((r) =>
      r.actions.some((a) => a.type === 'addTasks' && a.list === id),
    );
    if (used.length > 0)
      throw new AutomationError('conflict', `task list '${id}' is used by ${used.map((r) => r.id).join(', ')}`);
    const ok = await this.store.deleteTaskList(this.db, id);
    await this.rules?.reload();
    return ok;
  }

  // ───────────────────────────── playbooks ─────────────────────────────

  async validatePlaybook(text: string): Promise<SaveResult<string>> {
    const parsed = parsePlaybook(text);
    const diagnostics = [...parsed.diagnostics, ...(await this.secretWarnings(parsed.secrets))];
    return { value: parsed.playbook?.id ?? null, diagnostics };
  }

  private async secretWarnings(names: readonly string[]): Promise<AutomationDiagnostic[]> {
    const out: AutomationDiagnostic[] = [];
    for (const n of names)
      if (!(await this.secrets.has(n)))
        out.push(
          diagnosticAt(
            'warning',
            'playbook.secret-missing',
            `secret '${n}' does not exist yet: runs fail until it is set`,
            [],
          ),
        );
    return out;
  }

  /** Saves a new version of a playbook (YAML or JSON text); with `expectedId`, one with another id is refused. */
  async putPlaybook(text: string, actor: Actor, expectedId?: string): Promise<SaveResult<PlaybookDetail>> {
    const parsed = parsePlaybook(text);
    if (!parsed.playbook) return { value: null, diagnostics: parsed.diagnostics };
    checkId('playbook', parsed.playbook.id, expectedId);
    const diagnostics = [...parsed.diagnostics, ...(await this.secretWarnings(parsed.secrets))];
    const p = parsed.playbook;
    const definition: StoredDefinition = { playbook: p, secrets: parsed.secrets };
    await this.store.putPlaybook(
      this.db,
      { id: p.id, name: p.name, triggerKind: p.trigger.kind, source: text, definition },
      actor,
      new Date(this.clock()).toISOString(),
    );
    return { value: await this.getPlaybook(p.id), diagnostics };
  }

  private detail(s: StoredPlaybook): PlaybookDetail {
    const d = s.definition as StoredDefinition;
    return {
      id: s.id,
      name: s.name,
      version: s.version,
      enabled: s.enabled,
      trigger: d.playbook.trigger,
      secrets: d.secrets,
      createdAt: s.createdAt,
      createdBy: s.createdBy,
      source: s.source,
      definition: d.playbook,
    };
  }

  async getPlaybook(id: string, version?: number): Promise<PlaybookDetail | null> {
    const s = await this.store.playbook(this.db, id, version);
    return s ? this.detail(s) : null;
  }

  async listPlaybooks(): Promise<PlaybookSummary[]> {
    return (await this.store.playbooks(this.db)).map((s) => {
      const { source: _s, definition: _d, ...summary } = this.detail(s);
      return summary;
    });
  }

  playbookVersions(id: string) {
    return this.store.playbookVersions(this.db, id);
  }

  async setPlaybookEnabled(id: string, enabled: boolean): Promise<void> {
    if (!(await this.store.setPlaybookEnabled(this.db, id, enabled, new Date(this.clock()).toISOString())))
      throw new AutomationError('not_found', `no playbook '${id}'`);
  }

  async deletePlaybook(id: string): Promise<boolean> {
    const used = (await this.store.rules(this.db)).filter((r) =>
      r.actions.some((a) => a.type === 'runPlaybook' && a.playbookId === id),
    );
    if (used.length > 0)
      throw new AutomationError('conflict', `playbook '${id}' is run by ${used.map((r) => r.id).join(', ')}`);
    return this.store.deletePlaybook(this.db, id, new Date(this.clock()).toISOString());
  }

  // ───────────────────────────── runs ─────────────────────────────

  startRun(
    playbookId: string,
    trigger: TriggerInput,
    actor: Actor,
    options: { idempotencyKey?: string } = {},
  ): Promise<PlaybookRun> {
    return this.runtime.start(playbookId, trigger, { startedBy: actor, ...options });
  }

  runs(q: RunQuery) {
    return this.runtime.list(q);
  }

  run(id: string): Promise<RunDetail | null> {
    return this.runtime.get(id);
  }

  abortRun(id: string, actor: Actor): Promise<PlaybookRun> {
    return this.runtime.abort(id, actor);
  }

  rerun(id: string, actor: Actor, options: { sameVersion?: boolean } = {}): Promise<PlaybookRun> {
    return this.runtime.rerun(id, actor, options);
  }

  // ───────────────────────────── approvals and policies ─────────────────────────────

  listApprovals(
    q: { status?: ApprovalStatus; incidentId?: string; runId?: string; limit?: number } = {},
  ): Promise<Approval[]> {
    return this.approvals.list(q);
  }

  getApproval(id: string): Promise<Approval | null> {
    return this.approvals.get(id);
  }

  approve(id: string, approver: Actor, comment?: string | null): Promise<Approval> {
    return this.approvals.approve(id, approver, comment ?? null);
  }

  reject(id: string, approver: Actor, comment?: string | null): Promise<Approval> {
    return this.approvals.reject(id, approver, comment ?? null);
  }

  policies(): ActionPolicy[] {
    return this.approvals.policies(ACTION_NAMES);
  }

  actionCatalog() {
    return ACTION_CATALOG.map((a) => ({ ...a, policy: this.approvals.policy(a.name) }));
  }

  setPolicy(action: string, p: { mode: PolicyMode; expiryMs?: number }, actor: Actor): Promise<ActionPolicy> {
    return this.approvals.setPolicy(action, p, actor);
  }

  // ───────────────────────────── watchlists ─────────────────────────────

  async putWatchlist(
    w: { alias: string; name?: string; searchKey: string; items: readonly Record<string, unknown>[] },
    actor: Actor,
  ): Promise<void> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(w.alias))
      throw new AutomationError('invalid', 'a watchlist alias is 1 to 64 letters, digits, dots, dashes or underscores');
    if (!w.searchKey) throw new AutomationError('invalid', 'a watchlist needs its search key column');
    if (!Array.isArray(w.items) || w.items.length > 100_000)
      throw new AutomationError('invalid', 'items is a list of at most 100,000 objects');
    for (const [i, it] of w.items.entries())
      if (!it || typeof it !== 'object' || Array.isArray(it))
        throw new AutomationError('invalid', `item ${i} is not an object`);
    await this.db.transaction((tx) =>
      this.store.putWatchlist(
        tx,
        { alias: w.alias, name: w.name ?? w.alias, searchKey: w.searchKey, items: w.items },
        actor,
        new Date(this.clock()).toISOString(),
      ),
    );
    await this.watchlistsChanged();
  }

  watchlists() {
    return this.store.watchlists(this.db);
  }

  watchlistItems(alias: string, key: string | null, limit = 100) {
    return this.store.watchlistItems(this.db, alias, key, limit);
  }

  async deleteWatchlist(alias: string): Promise<boolean> {
    const deleted = await this.db.transaction((tx) => this.store.deleteWatchlist(tx, alias));
    if (deleted) await this.watchlistsChanged();
    return deleted;
  }

  /** Every watchlist with all its items (what `_GetWatchlist` is generated from). */
  async watchlistsWithItems(): Promise<{ alias: string; searchKey: string; items: Record<string, unknown>[] }[]> {
    const out = [];
    for (const w of await this.store.watchlists(this.db))
      out.push({
        alias: w.alias,
        searchKey: w.searchKey,
        items: await this.store.watchlistItems(this.db, w.alias, null, Math.max(1, w.itemCount)),
      });
    return out;
  }

  /** The change is committed; a failing listener is logged, not reported as a failed save. */
  private async watchlistsChanged(): Promise<void> {
    try {
      await this.o.onWatchlistsChanged?.();
    } catch (e) {
      this.o.log?.(`watchlist functions were not regenerated: ${(e as Error).message}`);
    }
  }

  // ───────────────────────────── content ─────────────────────────────

  /**
   * Loads a content folder: `task-lists/*.yaml`, then `playbooks/*.yaml`, then `rules/*.yaml` (rules refer to the
   * other two). A file with errors is reported and skipped; the others load.
   */
  async loadContent(
    dir: string,
    actor: Actor,
  ): Promise<{ file: string; ok: boolean; diagnostics: readonly AutomationDiagnostic[] }[]> {
    const out: { file: string; ok: boolean; diagnostics: readonly AutomationDiagnostic[] }[] = [];
    const files = async (sub: string) => {
      try {
        return (await readdir(join(dir, sub)))
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(dir, sub, f));
      } catch {
        return [];
      }
    };
    for (const f of await files('task-lists')) {
      const r = await this.putTaskList(await readFile(f, 'utf8'));
      out.push({ file: f, ok: r.value !== null, diagnostics: r.diagnostics });
    }
    for (const f of await files('playbooks')) {
      const text = await readFile(f, 'utf8');
      const parsed = parsePlaybook(text);
      // Unchanged playbooks keep their version.
      const current = parsed.playbook ? await this.store.playbook(this.db, parsed.playbook.id) : null;
      if (current && current.source === text) {
        out.push({ file: f, ok: true, diagnostics: parsed.diagnostics });
        continue;
      }
      const r = await this.putPlaybook(text, actor);
      out.push({ file: f, ok: r.value !== null, diagnostics: r.diagnostics });
    }
    for (const f of await files('rules')) {
      const r = await this.putRule(await readFile(f, 'utf8'), actor);
      out.push({ file: f, ok: r.value !== null, diagnostics: r.diagnostics });
    }
    return out;
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  /** Waits until delivered incident events are processed and no run is executing. */
  async idle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await this.rules?.idle();
      await this.runtime.idle();
      await this.approvals.idle();
    }
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.rules?.close();
    await this.runtime.close();
    await this.approvals.close();
  }
}

/** A definition PUT at one id must carry that id (checked once the definition parses, before anything is saved). */
function checkId(what: 'rule' | 'playbook', id: string, expected: string | undefined): void {
  if (expected !== undefined && id !== expected)
    throw new AutomationError('invalid', `the ${what}'s id is '${id}', not '${expected}'`);
}
