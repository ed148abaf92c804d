/**
 * The automation module's state (issue 7, migrations 700–799): automation rules, task lists, the incident-event
 * cursor, rule executions, playbook versions, runs with their steps and logs, approvals, action policies,
 * encrypted secrets and watchlists. Portable SQL through `SqlDriver`; every method takes the driver (or the
 * transaction) it runs on. Timestamps are ISO text; JSON is stored as text.
 */

import type {
  ActionPolicy,
  ActionResult,
  ActionTarget,
  Approval,
  ApprovalKind,
  ApprovalStatus,
  AutomationRule,
  AutomationRuleDefinition,
  PlaybookRun,
  PolicyMode,
  RuleExecution,
  RunLogEntry,
  RunStatus,
  RunTrigger,
  StepRecord,
  StepStatus,
  TaskList,
  TaskTemplate,
} from '../automation/model.js';
import type { Actor } from '../incidents/model.js';
import type { Migration } from './migrations.js';
import type { Param, SqlDriver } from './sql-driver.js';

export const AUTOMATION_MIGRATIONS: readonly Migration[] = [
  {
    version: 700,
    name: 'automation: rules, task lists, event cursor, rule executions',
    statements: [
      `CREATE TABLE automation_rules (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, ord INTEGER NOT NULL, enabled INTEGER NOT NULL,
        trigger_type TEXT NOT NULL, expires_at TEXT, definition TEXT NOT NULL, source TEXT,
        version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL)`,
      `CREATE TABLE automation_task_lists (id TEXT PRIMARY KEY, name TEXT NOT NULL, tasks TEXT NOT NULL,
        updated_at TEXT NOT NULL)`,
      `CREATE TABLE automation_kv (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      `CREATE TABLE automation_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
      `INSERT INTO automation_counters (name, value) VALUES ('rule_execution', 0)`,
      `CREATE TABLE automation_rule_executions (id INTEGER PRIMARY KEY, rule_id TEXT NOT NULL,
        event_seq INTEGER NOT NULL, trigger_type TEXT NOT NULL, incident_id TEXT, alert_id TEXT, at TEXT NOT NULL,
        outcome TEXT NOT NULL, actions TEXT NOT NULL)`,
      'CREATE INDEX automation_rule_executions_by_rule ON automation_rule_executions (rule_id, id)',
      'CREATE INDEX automation_rule_executions_by_incident ON automation_rule_executions (incident_id, id)',
    ],
  },
  {
    version: 701,
    name: 'automation: playbook versions, runs, steps, logs',
    statements: [
      `CREATE TABLE automation_playbooks (id TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,
        trigger_kind TEXT NOT NULL, source TEXT NOT NULL, definition TEXT NOT NULL, created_at TEXT NOT NULL,
        created_by TEXT NOT NULL, PRIMARY KEY (id, version))`,
      `CREATE TABLE automation_playbook_heads (id TEXT PRIMARY KEY, version INTEGER NOT NULL, enabled INTEGER NOT NULL,
        deleted INTEGER NOT NULL, updated_at TEXT NOT NULL)`,
      `CREATE TABLE automation_runs (id TEXT PRIMARY KEY, playbook_id TEXT NOT NULL, playbook_version INTEGER NOT NULL,
        playbook_name TEXT NOT NULL, status TEXT NOT NULL, trigger_data TEXT NOT NULL, incident_id TEXT,
        idempotency_key TEXT UNIQUE, rerun_of TEXT, queued_at TEXT NOT NULL, started_at TEXT, updated_at TEXT NOT NULL,
        finished_at TEXT, executions INTEGER NOT NULL, error TEXT, aborted_by TEXT)`,
      'CREATE INDEX automation_runs_by_status ON automation_runs (status, queued_at)',
      'CREATE INDEX automation_runs_by_playbook ON automation_runs (playbook_id, queued_at)',
      'CREATE INDEX automation_runs_by_incident ON automation_runs (incident_id, queued_at)',
      'CREATE INDEX automation_runs_by_time ON automation_runs (queued_at, id)',
      `CREATE TABLE automation_run_steps (run_id TEXT NOT NULL, step_key TEXT NOT NULL, step_id TEXT NOT NULL,
        step_type TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, started_at TEXT NOT NULL,
        finished_at TEXT, input TEXT, output TEXT, error TEXT, idempotency_key TEXT, seq INTEGER NOT NULL,
        PRIMARY KEY (run_id, step_key))`,
      `CREATE TABLE automation_run_logs (run_id TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, step_key TEXT,
        level TEXT NOT NULL, message TEXT NOT NULL, PRIMARY KEY (run_id, seq))`,
    ],
  },
  {
    version: 702,
    name: 'automation: approvals and action policies',
    statements: [
      `CREATE TABLE automation_approvals (id TEXT PRIMARY KEY, kind TEXT NOT NULL, action TEXT, target TEXT,
        parameters TEXT NOT NULL, title TEXT NOT NULL, description TEXT NOT NULL, incident_id TEXT, alert_id TEXT,
        run_id TEXT, step_key TEXT, requested_by TEXT NOT NULL, requested_at TEXT NOT NULL, expires_at TEXT NOT NULL,
        status TEXT NOT NULL, decided_by TEXT, decided_at TEXT, decision_comment TEXT, result TEXT, executed_at TEXT,
        attempts INTEGER NOT NULL, recorded_at TEXT)`,
      'CREATE INDEX automation_approvals_by_status ON automation_approvals (status, expires_at)',
      'CREATE INDEX automation_approvals_by_incident ON automation_approvals (incident_id, requested_at)',
      'CREATE INDEX automation_approvals_by_run ON automation_approvals (run_id)',
      `CREATE TABLE automation_action_policies (action TEXT PRIMARY KEY, mode TEXT NOT NULL, expiry_ms INTEGER NOT NULL,
        updated_by TEXT NOT NULL, updated_at TEXT NOT NULL)`,
    ],
  },
  {
    version: 703,
    name: 'automation: encrypted secrets and watchlists',
    statements: [
      `CREATE TABLE automation_secrets (name TEXT PRIMARY KEY, ciphertext TEXT NOT NULL, created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL, updated_by TEXT NOT NULL)`,
      `CREATE TABLE automation_watchlists (alias TEXT PRIMARY KEY, name TEXT NOT NULL, search_key TEXT NOT NULL,
        item_count INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL)`,
      `CREATE TABLE automation_watchlist_items (alias TEXT NOT NULL, n INTEGER NOT NULL, key_lower TEXT NOT NULL,
        item TEXT NOT NULL, PRIMARY KEY (alias, n))`,
      'CREATE INDEX automation_watchlist_items_by_key ON automation_watchlist_items (alias, key_lower)',
    ],
  },
];

const json = (v: unknown): string => JSON.stringify(v ?? null);
const parse = <T>(text: unknown, fallback: T): T => {
  if (typeof text !== 'string') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

type Row = Record<string, unknown>;

// ───────────────────────────── rules ─────────────────────────────

function ruleFromRow(r: Row): AutomationRule {
  const d = parse<AutomationRuleDefinition>(r.definition, {} as AutomationRuleDefinition);
  return {
    ...d,
    enabled: Number(r.enabled) === 1,
    version: Number(r.version),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
    updatedBy: parse<Actor>(r.updated_by, { type: 'system', id: 'unknown' }),
    source: str(r.source),
  };
}

function runFromRow(r: Row): PlaybookRun {
  return {
    id: String(r.id),
    playbookId: String(r.playbook_id),
    playbookVersion: Number(r.playbook_version),
    playbookName: String(r.playbook_name),
    status: String(r.status) as RunStatus,
    trigger: parse<RunTrigger>(r.trigger_data, {} as RunTrigger),
    incidentId: str(r.incident_id),
    idempotencyKey: str(r.idempotency_key),
    rerunOf: str(r.rerun_of),
    queuedAt: String(r.queued_at),
    startedAt: str(r.started_at),
    updatedAt: String(r.updated_at),
    finishedAt: str(r.finished_at),
    executions: Number(r.executions),
    error: str(r.error),
    abortedBy: parse<Actor | null>(r.aborted_by, null),
  };
}

function stepFromRow(r: Row): StepRecord {
  return {
    runId: String(r.run_id),
    key: String(r.step_key),
    stepId: String(r.step_id),
    type: String(r.step_type),
    status: String(r.status) as StepStatus,
    attempts: Number(r.attempts),
    startedAt: String(r.started_at),
    finishedAt: str(r.finished_at),
    input: parse<unknown>(r.input, null),
    output: parse<unknown>(r.output, null),
    error: str(r.error),
    idempotencyKey: str(r.idempotency_key),
    seq: Number(r.seq),
  };
}

function approvalFromRow(r: Row): Approval {
  return {
    id: String(r.id),
    kind: String(r.kind) as ApprovalKind,
    action: str(r.action),
    target: parse<ActionTarget | null>(r.target, null),
    parameters: parse<Record<string, unknown>>(r.parameters, {}),
    title: String(r.title),
    description: String(r.description),
    incidentId: str(r.incident_id),
    alertId: str(r.alert_id),
    runId: str(r.run_id),
    stepKey: str(r.step_key),
    requestedBy: parse<Actor>(r.requested_by, { type: 'system', id: 'unknown' }),
    requestedAt: String(r.requested_at),
    expiresAt: String(r.expires_at),
    status: String(r.status) as ApprovalStatus,
    decidedBy: parse<Actor | null>(r.decided_by, null),
    decidedAt: str(r.decided_at),
    decisionComment: str(r.decision_comment),
    result: parse<ActionResult | null>(r.result, null),
    executedAt: str(r.executed_at),
    attempts: Number(r.attempts),
  };
}

export interface StoredPlaybook {
  readonly id: string;
  readonly version: number;
  readonly name: string;
  readonly triggerKind: string;
  readonly source: string;
  readonly definition: unknown;
  readonly createdAt: string;
  readonly createdBy: Actor;
  readonly enabled: boolean;
  /** The latest version (the one new runs use). */
  readonly latestVersion: number;
}

export interface RunQuery {
  readonly playbookId?: string;
  readonly incidentId?: string;
  readonly status?: RunStatus;
  /** Runs queued before this cursor (`queuedAt|id`, from a previous page). */
  readonly cursor?: string | null;
  readonly limit?: number;
}

export interface WatchlistInfo {
  readonly alias: string;
  readonly name: string;
  readonly searchKey: string;
  readonly itemCount: number;
  readonly updatedAt: string;
  readonly updatedBy: Actor;
}

export class AutomationStore {
  // ── key/value ──

  async getValue(db: SqlDriver, name: string): Promise<string | null> {
    const r = await db.get<{ value: string }>('SELECT value FROM automation_kv WHERE name = ?', [name]);
    return r ? String(r.value) : null;
  }

  async putValue(db: SqlDriver, name: string, value: string, at: string): Promise<void> {
    await db.run(
      `INSERT INTO automation_kv (name, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [name, value, at],
    );
  }

  private async next(db: SqlDriver, name: string): Promise<number> {
    await db.run('UPDATE automation_counters SET value = value + 1 WHERE name = ?', [name]);
    const r = await db.get<{ value: number }>('SELECT value FROM automation_counters WHERE name = ?', [name]);
    return Number(r?.value);
  }

  // ── rules ──

  async rules(db: SqlDriver): Promise<AutomationRule[]> {
    const rows = await db.all<Row>('SELECT * FROM automation_rules ORDER BY ord, id');
    return rows.map(ruleFromRow);
  }

  async rule(db: SqlDriver, id: string): Promise<AutomationRule | null> {
    const r = await db.get<Row>('SELECT * FROM automation_rules WHERE id = ?', [id]);
    return r ? ruleFromRow(r) : null;
  }

  /** Inserts or replaces a rule; returns the stored rule (version + 1 on update). */
  async putRule(
    db: SqlDriver,
    d: AutomationRuleDefinition,
    source: string | null,
    actor: Actor,
    at: string,
  ): Promise<AutomationRule> {
    const before = await this.rule(db, d.id);
    const version = (before?.version ?? 0) + 1;
    const params: Param[] = [
      d.id,
      d.name,
      d.order,
      d.enabled,
      d.trigger,
      d.expiresAt,
      json(d),
      source,
      version,
      before?.createdAt ?? at,
      at,
      json(actor),
    ];
    await db.run(
      `INSERT INTO automation_rules (id, name, ord, enabled, trigger_type, expires_at, definition, source, version,
         created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, ord = excluded.ord, enabled = excluded.enabled,
         trigger_type = excluded.trigger_type, expires_at = excluded.expires_at, definition = excluded.definition,
         source = excluded.source, version = excluded.version, updated_at = excluded.updated_at,
         updated_by = excluded.updated_by`,
      params,
    );
    return (await this.rule(db, d.id)) as AutomationRule;
  }

  async deleteRule(db: SqlDriver, id: string): Promise<boolean> {
    return (await db.run('DELETE FROM automation_rules WHERE id = ?', [id])) > 0;
  }

  async addRuleExecutions(db: SqlDriver, list: readonly Omit<RuleExecution, 'id'>[]): Promise<void> {
    for (const e of list) {
      const id = await this.next(db, 'rule_execution');
      await db.run(
        `INSERT INTO automation_rule_executions (id, rule_id, event_seq, trigger_type, incident_id, alert_id, at,
           outcome, actions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, e.ruleId, e.eventSeq, e.trigger, e.incidentId, e.alertId, e.at, e.outcome, json(e.actions)],
      );
    }
  }

  async ruleExecutions(
    db: SqlDriver,
    filter: { ruleId?: string; incidentId?: string; limit?: number },
  ): Promise<RuleExecution[]> {
    const where: string[] = [];
    const params: Param[] = [];
    if (filter.ruleId) {
      where.push('rule_id = ?');
      params.push(filter.ruleId);
    }
    if (filter.incidentId) {
      where.push('incident_id = ?');
      params.push(filter.incidentId);
    }
    params.push(Math.min(1000, Math.max(1, filter.limit ?? 100)));
    const rows = await db.all<Row>(
      `SELECT * FROM automation_rule_executions${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT ?`,
      params,
    );
    return rows.map((r) => ({
      id: Number(r.id),
      ruleId: String(r.rule_id),
      eventSeq: Number(r.event_seq),
      trigger: String(r.trigger_type) as RuleExecution['trigger'],
      incidentId: str(r.incident_id),
      alertId: str(r.alert_id),
      at: String(r.at),
      outcome: String(r.outcome) as RuleExecution['outcome'],
      actions: parse<RuleExecution['actions']>(r.actions, []),
    }));
  }

  // ── task lists ──

  async taskLists(db: SqlDriver): Promise<TaskList[]> {
    const rows = await db.all<Row>('SELECT * FROM automation_task_lists ORDER BY id');
    return rows.map((r) => ({
      id: String(r.id),
      name: String(r.name),
      tasks: parse<TaskTemplate[]>(r.tasks, []),
      updatedAt: String(r.updated_at),
    }));
  }

  async putTaskList(db: SqlDriver, list: Omit<TaskList, 'updatedAt'>, at: string): Promise<void> {
    await db.run(
      `INSERT INTO automation_task_lists (id, name, tasks, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, tasks = excluded.tasks, updated_at = excluded.updated_at`,
      [list.id, list.name, json(list.tasks), at],
    );
  }

  async deleteTaskList(db: SqlDriver, id: string): Promise<boolean> {
    return (await db.run('DELETE FROM automation_task_lists WHERE id = ?', [id])) > 0;
  }

  // ── playbooks ──

  async putPlaybook(
    db: SqlDriver,
    p: { id: string; name: string; triggerKind: string; source: string; definition: unknown },
    actor: Actor,
    at: string,
  ): Promise<number> {
    const head = await db.get<{ version: number }>('SELECT version FROM automation_playbook_heads WHERE id = ?', [
      p.id,
    ]);
    const latest = await db.get<{ v: number }>('SELECT MAX(version) AS v FROM automation_playbooks WHERE id = ?', [
      p.id,
    ]);
    const version = Math.max(Number(head?.version ?? 0), Number(latest?.v ?? 0)) + 1;
    await db.run(
      `INSERT INTO automation_playbooks (id, version, name, trigger_kind, source, definition, created_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [p.id, version, p.name, p.triggerKind, p.source, json(p.definition), at, json(actor)],
    );
    await db.run(
      `INSERT INTO automation_playbook_heads (id, version, enabled, deleted, updated_at) VALUES (?, ?, 1, 0, ?)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, deleted = 0, updated_at = excluded.updated_at`,
      [p.id, version, at],
    );
    return version;
  }

  async setPlaybookEnabled(db: SqlDriver, id: string, enabled: boolean, at: string): Promise<boolean> {
    return (
      (await db.run('UPDATE automation_playbook_heads SET enabled = ?, updated_at = ? WHERE id = ? AND deleted = 0', [
        enabled,
        at,
        id,
      ])) > 0
    );
  }

  /** Deleting keeps the versions (runs refer to them); the playbook no longer lists or starts. */
  async deletePlaybook(db: SqlDriver, id: string, at: string): Promise<boolean> {
    return (
      (await db.run('UPDATE automation_playbook_heads SET deleted = 1, updated_at = ? WHERE id = ? AND deleted = 0', [
        at,
        id,
      ])) > 0
    );
  }

  private playbookFromRow(r: Row): StoredPlaybook {
    return {
      id: String(r.id),
      version: Number(r.version),
      name: String(r.name),
      triggerKind: String(r.trigger_kind),
      source: String(r.source),
      definition: parse<unknown>(r.definition, null),
      createdAt: String(r.created_at),
      createdBy: parse<Actor>(r.created_by, { type: 'system', id: 'unknown' }),
      enabled: Number(r.enabled) === 1,
      latestVersion: Number(r.head_version),
    };
  }

  /** A playbook version (default: the latest), null when unknown or deleted (a pinned version stays readable). */
  async playbook(db: SqlDriver, id: string, version?: number): Promise<StoredPlaybook | null> {
    const r = await db.get<Row>(
      `SELECT p.*, h.enabled, h.version AS head_version FROM automation_playbooks p
       JOIN automation_playbook_heads h ON h.id = p.id
       WHERE p.id = ? AND p.version = ${version === undefined ? 'h.version AND h.deleted = 0' : '?'}`,
      version === undefined ? [id] : [id, version],
    );
    return r ? this.playbookFromRow(r) : null;
  }

  async playbooks(db: SqlDriver): Promise<StoredPlaybook[]> {
    const rows = await db.all<Row>(
      `SELECT p.*, h.enabled, h.version AS head_version FROM automation_playbooks p
       JOIN automation_playbook_heads h ON h.id = p.id AND h.version = p.version
       WHERE h.deleted = 0 ORDER BY p.id`,
    );
    return rows.map((r) => this.playbookFromRow(r));
  }

  async playbookVersions(
    db: SqlDriver,
    id: string,
  ): Promise<{ version: number; name: string; createdAt: string; createdBy: Actor }[]> {
    const rows = await db.all<Row>(
      'SELECT version, name, created_at, created_by FROM automation_playbooks WHERE id = ? ORDER BY version DESC',
      [id],
    );
    return rows.map((r) => ({
      version: Number(r.version),
      name: String(r.name),
      createdAt: String(r.created_at),
      createdBy: parse<Actor>(r.created_by, { type: 'system', id: 'unknown' }),
    }));
  }

  // ── runs ──

  async insertRun(db: SqlDriver, run: PlaybookRun): Promise<boolean> {
    const n = await db.run(
      `INSERT INTO automation_runs (id, playbook_id, playbook_version, playbook_name, status, trigger_data,
         incident_id, idempotency_key, rerun_of, queued_at, started_at, updated_at, finished_at, executions, error,
         aborted_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
      [
        run.id,
        run.playbookId,
        run.playbookVersion,
        run.playbookName,
        run.status,
        json(run.trigger),
        run.incidentId,
        run.idempotencyKey,
        run.rerunOf,
        run.queuedAt,
        run.startedAt,
        run.updatedAt,
        run.finishedAt,
        run.executions,
        run.error,
        run.abortedBy ? json(run.abortedBy) : null,
      ],
    );
    return n > 0;
  }

  async run(db: SqlDriver, id: string): Promise<PlaybookRun | null> {
    const r = await db.get<Row>('SELECT * FROM automation_runs WHERE id = ?', [id]);
    return r ? runFromRow(r) : null;
  }

  async runByKey(db: SqlDriver, key: string): Promise<PlaybookRun | null> {
    const r = await db.get<Row>('SELECT * FROM automation_runs WHERE idempotency_key = ?', [key]);
    return r ? runFromRow(r) : null;
  }

  async updateRun(
    db: SqlDriver,
    id: string,
    patch: Partial<Pick<PlaybookRun, 'status' | 'startedAt' | 'finishedAt' | 'executions' | 'error' | 'abortedBy'>>,
    at: string,
  ): Promise<void> {
    const sets: string[] = ['updated_at = ?'];
    const params: Param[] = [at];
    const col: Record<string, string> = {
      status: 'status',
      startedAt: 'started_at',
      finishedAt: 'finished_at',
      executions: 'executions',
      error: 'error',
      abortedBy: 'aborted_by',
    };
    for (const [k, v] of Object.entries(patch)) {
      const c = col[k];
      if (!c) continue;
      sets.push(`${c} = ?`);
      params.push(k === 'abortedBy' ? (v ? json(v) : null) : (v as Param));
    }
    params.push(id);
    await db.run(`UPDATE automation_runs SET ${sets.join(', ')} WHERE id = ?`, params);
  }

  async runsWithStatus(db: SqlDriver, statuses: readonly RunStatus[]): Promise<PlaybookRun[]> {
    const rows = await db.all<Row>(
      `SELECT * FROM automation_runs WHERE status IN (${statuses.map(() => '?').join(', ')}) ORDER BY queued_at, id`,
      [...statuses],
    );
    return rows.map(runFromRow);
  }

  async runs(db: SqlDriver, q: RunQuery): Promise<{ items: PlaybookRun[]; nextCursor: string | null }> {
    const where: string[] = [];
    const params: Param[] = [];
    if (q.playbookId) {
      where.push('playbook_id = ?');
      params.push(q.playbookId);
    }
    if (q.incidentId) {
      where.push('incident_id = ?');
      params.push(q.incidentId);
    }
    if (q.status) {
      where.push('status = ?');
      params.push(q.status);
    }
    if (q.cursor) {
      const [at, id] = q.cursor.split('|');
      where.push('(queued_at < ? OR (queued_at = ? AND id < ?))');
      params.push(at ?? '', at ?? '', id ?? '');
    }
    const limit = Math.min(500, Math.max(1, q.limit ?? 50));
    params.push(limit + 1);
    const rows = await db.all<Row>(
      `SELECT * FROM automation_runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
       ORDER BY queued_at DESC, id DESC LIMIT ?`,
      params,
    );
    const items = rows.slice(0, limit).map(runFromRow);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? `${last.queuedAt}|${last.id}` : null };
  }

  // ── steps and logs ──

  async steps(db: SqlDriver, runId: string): Promise<StepRecord[]> {
    const rows = await db.all<Row>('SELECT * FROM automation_run_steps WHERE run_id = ? ORDER BY seq', [runId]);
    return rows.map(stepFromRow);
  }

  async putStep(db: SqlDriver, s: StepRecord): Promise<void> {
    await db.run(
      `INSERT INTO automation_run_steps (run_id, step_key, step_id, step_type, status, attempts, started_at,
         finished_at, input, output, error, idempotency_key, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, step_key) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
         finished_at = excluded.finished_at, input = excluded.input, output = excluded.output, error = excluded.error`,
      [
        s.runId,
        s.key,
        s.stepId,
        s.type,
        s.status,
        s.attempts,
        s.startedAt,
        s.finishedAt,
        json(s.input),
        json(s.output),
        s.error,
        s.idempotencyKey,
        s.seq,
      ],
    );
  }

  async deleteStep(db: SqlDriver, runId: string, key: string): Promise<void> {
    await db.run('DELETE FROM automation_run_steps WHERE run_id = ? AND step_key = ?', [runId, key]);
  }

  async addLogs(db: SqlDriver, logs: readonly RunLogEntry[]): Promise<void> {
    for (const l of logs)
      await db.run(
        'INSERT INTO automation_run_logs (run_id, seq, at, step_key, level, message) VALUES (?, ?, ?, ?, ?, ?)',
        [l.runId, l.seq, l.at, l.stepKey, l.level, l.message],
      );
  }

  async logs(db: SqlDriver, runId: string, limit = 5000): Promise<RunLogEntry[]> {
    const rows = await db.all<Row>('SELECT * FROM automation_run_logs WHERE run_id = ? ORDER BY seq LIMIT ?', [
      runId,
      limit,
    ]);
    return rows.map((r) => ({
      runId: String(r.run_id),
      seq: Number(r.seq),
      at: String(r.at),
      stepKey: str(r.step_key),
      level: String(r.level) as RunLogEntry['level'],
      message: String(r.message),
    }));
  }

  async lastLogSeq(db: SqlDriver, runId: string): Promise<number> {
    const r = await db.get<{ n: number | null }>('SELECT MAX(seq) AS n FROM automation_run_logs WHERE run_id = ?', [
      runId,
    ]);
    return Number(r?.n ?? 0);
  }

  // ── approvals ──

  /** Inserts a request; false when one with this id exists (asking twice is one request). */
  async insertApproval(db: SqlDriver, a: Approval): Promise<boolean> {
    const n = await db.run(
      `INSERT INTO automation_approvals (id, kind, action, target, parameters, title, description, incident_id,
         alert_id, run_id, step_key, requested_by, requested_at, expires_at, status, decided_by, decided_at,
         decision_comment, result, executed_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
      [
        a.id,
        a.kind,
        a.action,
        a.target ? json(a.target) : null,
        json(a.parameters),
        a.title,
        a.description,
        a.incidentId,
        a.alertId,
        a.runId,
        a.stepKey,
        json(a.requestedBy),
        a.requestedAt,
        a.expiresAt,
        a.status,
        a.decidedBy ? json(a.decidedBy) : null,
        a.decidedAt,
        a.decisionComment,
        a.result ? json(a.result) : null,
        a.executedAt,
        a.attempts,
      ],
    );
    return n > 0;
  }

  async approval(db: SqlDriver, id: string): Promise<Approval | null> {
    const r = await db.get<Row>('SELECT * FROM automation_approvals WHERE id = ?', [id]);
    return r ? approvalFromRow(r) : null;
  }

  /** Moves an approval from one of `from` to a new status; false when it was not in `from` (someone else won). */
  async transitionApproval(
    db: SqlDriver,
    id: string,
    from: readonly ApprovalStatus[],
    patch: {
      status: ApprovalStatus;
      decidedBy?: Actor;
      decidedAt?: string;
      decisionComment?: string | null;
      result?: ActionResult | null;
      executedAt?: string;
      attempts?: number;
      incidentId?: string | null;
    },
  ): Promise<boolean> {
    const sets = ['status = ?'];
    const params: Param[] = [patch.status];
    if (patch.decidedBy) {
      sets.push('decided_by = ?');
      params.push(json(patch.decidedBy));
    }
    if (patch.decidedAt) {
      sets.push('decided_at = ?');
      params.push(patch.decidedAt);
    }
    if (patch.decisionComment !== undefined) {
      sets.push('decision_comment = ?');
      params.push(patch.decisionComment);
    }
    if (patch.result !== undefined) {
      sets.push('result = ?');
      params.push(patch.result ? json(patch.result) : null);
    }
    if (patch.executedAt) {
      sets.push('executed_at = ?');
      params.push(patch.executedAt);
    }
    if (patch.attempts !== undefined) {
      sets.push('attempts = ?');
      params.push(patch.attempts);
    }
    if (patch.incidentId !== undefined) {
      sets.push('incident_id = ?');
      params.push(patch.incidentId);
    }
    params.push(id, ...from);
    const n = await db.run(
      `UPDATE automation_approvals SET ${sets.join(', ')} WHERE id = ? AND status IN (${from.map(() => '?').join(', ')})`,
      params,
    );
    return n > 0;
  }

  async approvals(
    db: SqlDriver,
    q: { status?: ApprovalStatus; incidentId?: string; runId?: string; limit?: number },
  ): Promise<Approval[]> {
    const where: string[] = [];
    const params: Param[] = [];
    if (q.status) {
      where.push('status = ?');
      params.push(q.status);
    }
    if (q.incidentId) {
      where.push('incident_id = ?');
      params.push(q.incidentId);
    }
    if (q.runId) {
      where.push('run_id = ?');
      params.push(q.runId);
    }
    params.push(Math.min(1000, Math.max(1, q.limit ?? 200)));
    const rows = await db.all<Row>(
      `SELECT * FROM automation_approvals${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
       ORDER BY requested_at DESC, id LIMIT ?`,
      params,
    );
    return rows.map(approvalFromRow);
  }

  async approvalsWithStatus(db: SqlDriver, statuses: readonly ApprovalStatus[]): Promise<Approval[]> {
    const rows = await db.all<Row>(
      `SELECT * FROM automation_approvals WHERE status IN (${statuses.map(() => '?').join(', ')})
       ORDER BY requested_at, id`,
      [...statuses],
    );
    return rows.map(approvalFromRow);
  }

  /** Pending requests whose time is up. */
  async dueApprovals(db: SqlDriver, now: string): Promise<Approval[]> {
    const rows = await db.all<Row>(
      "SELECT * FROM automation_approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at",
      [now],
    );
    return rows.map(approvalFromRow);
  }

  /** Settled action requests whose outcome is not yet on their incident. */
  async unrecordedApprovals(db: SqlDriver): Promise<Approval[]> {
    const rows = await db.all<Row>(
      `SELECT * FROM automation_approvals WHERE kind = 'action' AND recorded_at IS NULL
         AND status IN ('succeeded', 'failed', 'rejected', 'expired') ORDER BY requested_at`,
    );
    return rows.map(approvalFromRow);
  }

  async markRecorded(db: SqlDriver, id: string, at: string): Promise<void> {
    await db.run('UPDATE automation_approvals SET recorded_at = ? WHERE id = ?', [at, id]);
  }

  async nextExpiry(db: SqlDriver): Promise<string | null> {
    const r = await db.get<{ t: string | null }>(
      "SELECT MIN(expires_at) AS t FROM automation_approvals WHERE status = 'pending'",
    );
    return r?.t ?? null;
  }

  // ── policies ──

  async policies(db: SqlDriver): Promise<ActionPolicy[]> {
    const rows = await db.all<Row>('SELECT * FROM automation_action_policies ORDER BY action');
    return rows.map((r) => ({
      action: String(r.action),
      mode: String(r.mode) as PolicyMode,
      expiryMs: Number(r.expiry_ms),
      updatedBy: parse<Actor | null>(r.updated_by, null),
      updatedAt: str(r.updated_at),
    }));
  }

  async putPolicy(db: SqlDriver, p: ActionPolicy, actor: Actor, at: string): Promise<void> {
    await db.run(
      `INSERT INTO automation_action_policies (action, mode, expiry_ms, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (action) DO UPDATE SET mode = excluded.mode, expiry_ms = excluded.expiry_ms,
         updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      [p.action, p.mode, p.expiryMs, json(actor), at],
    );
  }

  // ── secrets ──

  async secretCiphertext(db: SqlDriver, name: string): Promise<string | null> {
    const r = await db.get<{ ciphertext: string }>('SELECT ciphertext FROM automation_secrets WHERE name = ?', [name]);
    return r ? String(r.ciphertext) : null;
  }

  async putSecret(db: SqlDriver, name: string, ciphertext: string, actor: Actor, at: string): Promise<void> {
    await db.run(
      `INSERT INTO automation_secrets (name, ciphertext, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET ciphertext = excluded.ciphertext, updated_at = excluded.updated_at,
         updated_by = excluded.updated_by`,
      [name, ciphertext, at, at, json(actor)],
    );
  }

  async deleteSecret(db: SqlDriver, name: string): Promise<boolean> {
    return (await db.run('DELETE FROM automation_secrets WHERE name = ?', [name])) > 0;
  }

  async secretNames(db: SqlDriver): Promise<{ name: string; updatedAt: string; updatedBy: Actor }[]> {
    const rows = await db.all<Row>('SELECT name, updated_at, updated_by FROM automation_secrets ORDER BY name');
    return rows.map((r) => ({
      name: String(r.name),
      updatedAt: String(r.updated_at),
      updatedBy: parse<Actor>(r.updated_by, { type: 'system', id: 'unknown' }),
    }));
  }

  // ── watchlists ──

  async putWatchlist(
    db: SqlDriver,
    w: { alias: string; name: string; searchKey: string; items: readonly Record<string, unknown>[] },
    actor: Actor,
    at: string,
  ): Promise<void> {
    await db.run('DELETE FROM automation_watchlist_items WHERE alias = ?', [w.alias]);
    await db.run(
      `INSERT INTO automation_watchlists (alias, name, search_key, item_count, updated_at, updated_by)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (alias) DO UPDATE SET name = excluded.name, search_key = excluded.search_key,
         item_count = excluded.item_count, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      [w.alias, w.name, w.searchKey, w.items.length, at, json(actor)],
    );
    for (const [n, item] of w.items.entries()) {
      const key = item[w.searchKey];
      await db.run('INSERT INTO automation_watchlist_items (alias, n, key_lower, item) VALUES (?, ?, ?, ?)', [
        w.alias,
        n,
        String(key ?? '').toLowerCase(),
        json(item),
      ]);
    }
  }

  async deleteWatchlist(db: SqlDriver, alias: string): Promise<boolean> {
    await db.run('DELETE FROM automation_watchlist_items WHERE alias = ?', [alias]);
    return (await db.run('DELETE FROM automation_watchlists WHERE alias = ?', [alias])) > 0;
  }

  async watchlists(db: SqlDriver): Promise<WatchlistInfo[]> {
    const rows = await db.all<Row>('SELECT * FROM automation_watchlists ORDER BY alias');
    return rows.map((r) => ({
      alias: String(r.alias),
      name: String(r.name),
      searchKey: String(r.search_key),
      itemCount: Number(r.item_count),
      updatedAt: String(r.updated_at),
      updatedBy: parse<Actor>(r.updated_by, { type: 'system', id: 'unknown' }),
    }));
  }

  async watchlist(db: SqlDriver, alias: string): Promise<WatchlistInfo | null> {
    return (await this.watchlists(db)).find((w) => w.alias === alias) ?? null;
  }

  async watchlistItems(
    db: SqlDriver,
    alias: string,
    key: string | null,
    limit = 100,
  ): Promise<Record<string, unknown>[]> {
    const rows = await db.all<{ item: string }>(
      `SELECT item FROM automation_watchlist_items WHERE alias = ?${key !== null ? ' AND key_lower = ?' : ''}
       ORDER BY n LIMIT ?`,
      key !== null ? [alias, key.toLowerCase(), limit] : [alias, limit],
    );
    return rows.map((r) => parse<Record<string, unknown>>(r.item, {}));
  }
}
