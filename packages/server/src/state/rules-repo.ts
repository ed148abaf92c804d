/**
 * Detection rules in the state store: rule definitions (with their original YAML), rule runs, the per-rule
 * coverage ledger, alerts waiting to be written to `SecurityAlert`, and the keys of rows a custom detection already
 * alerted on. Portable SQL (see sql-driver.ts); migrations 500-599 belong to detections.
 *
 * The coverage ledger is the run table plus a head per rule (`covered_until`): every evaluated, suppressed,
 * skipped or failed window is a run row, and a new row must start exactly where the head is, so the windows of a
 * rule tile ingestion time without gaps or overlaps. The head only moves in the transaction that records the run.
 */
import type { RuleDefinition, ScheduleMode } from '../detect/model.js';
import type { Migration } from './migrations.js';
import type { Param, SqlDriver } from './sql-driver.js';

export const RULES_MIGRATIONS: readonly Migration[] = [
  {
    version: 500,
    name: 'detect: rules, rule runs (coverage ledger), pending alerts, alert keys',
    statements: [
      `CREATE TABLE detect_rules (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        mode TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        definition TEXT NOT NULL,
        source_yaml TEXT NOT NULL,
        source_path TEXT,
        tables TEXT NOT NULL,
        frequency_ms INTEGER NOT NULL,
        period_ms INTEGER NOT NULL,
        covered_until TEXT,
        suppressed_until TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`,
      `CREATE TABLE detect_rule_runs (
        run_id TEXT PRIMARY KEY,
        rule_id TEXT NOT NULL,
        run_trigger TEXT NOT NULL,
        status TEXT NOT NULL,
        window_start TEXT NOT NULL,
        window_end TEXT NOT NULL,
        query_start TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        evaluations INTEGER NOT NULL,
        result_rows INTEGER NOT NULL,
        alerts INTEGER NOT NULL,
        truncated INTEGER NOT NULL,
        error TEXT,
        duration_ms REAL NOT NULL,
        lag_ms REAL NOT NULL
      )`,
      'CREATE INDEX detect_rule_runs_by_rule ON detect_rule_runs (rule_id, window_end)',
      'CREATE INDEX detect_rule_runs_by_time ON detect_rule_runs (finished_at)',
      `CREATE TABLE detect_pending_alerts (
        alert_id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL
      )`,
      `CREATE TABLE detect_alert_keys (
        rule_id TEXT NOT NULL,
        alert_key TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        PRIMARY KEY (rule_id, alert_key)
      )`,
    ],
  },
];

export type RunTrigger = 'schedule' | 'catch-up' | 'batch' | 'manual';
export type RunStatus = 'success' | 'failure' | 'suppressed' | 'skipped';

export interface StoredRule {
  readonly id: string;
  readonly definition: RuleDefinition;
  readonly sourceYaml: string;
  readonly sourcePath: string | null;
  readonly mode: ScheduleMode;
  readonly tables: readonly string[];
  readonly enabled: boolean;
  /** The effective schedule (ms): how often windows close, and how far back each evaluation reads. */
  readonly frequencyMs: number;
  readonly periodMs: number;
  /** The ledger head: the end of the last recorded window (ms), null before the first. */
  readonly coveredUntilMs: number | null;
  /** Windows ending at or before this time are suppressed (after an alert), ms. */
  readonly suppressedUntilMs: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface RuleRun {
  readonly runId: string;
  readonly ruleId: string;
  readonly trigger: RunTrigger;
  readonly status: RunStatus;
  /** The window of newly ingested rows this run accounts for: [start, end) by ingestion time, ms. */
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  /** Where the query's read started (windowEnd - queryPeriod; equal to windowStart for NRT rules). */
  readonly queryStartMs: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** NRT rules merge consecutive quiet evaluations of one minute into one row: how many. */
  readonly evaluations: number;
  readonly rows: number;
  readonly alerts: number;
  readonly truncated: boolean;
  readonly error: string | null;
  readonly durationMs: number;
  /** From the window's end to the end of its evaluation. */
  readonly lagMs: number;
}

export interface PendingAlert {
  readonly alertId: string;
  readonly runId: string;
  readonly ruleId: string;
  /** The alert (detect/alerts.ts `DetectionAlert`) as JSON. */
  readonly payload: string;
}

/** One run to record, with what it changes. */
export interface RunRecord {
  readonly run: RuleRun;
  /** Alerts the run raised, written to `SecurityAlert` after the commit (and re-written after a crash). */
  readonly alerts: readonly PendingAlert[];
  /** Suppression set by this run's alert (ms), if any. */
  readonly suppressUntilMs?: number;
  /** Merge into the rule's previous row when both are quiet successes of the same minute (NRT). */
  readonly mergeQuiet?: boolean;
}

export interface RuleUpsert {
  readonly definition: RuleDefinition;
  readonly sourceYaml: string;
  readonly sourcePath: string | null;
  readonly mode: ScheduleMode;
  readonly tables: readonly string[];
  readonly frequencyMs: number;
  readonly periodMs: number;
  /** The ledger head of a new rule. */
  readonly initialHeadMs: number;
}

export class LedgerConflict extends Error {
  override readonly name = 'LedgerConflict';
}

export interface RulesRepository {
  /** Creates or updates a rule (by id). An update keeps the ledger head and the enabled state unless the file sets it. */
  upsertRule(rule: RuleUpsert, nowMs: number): Promise<'created' | 'updated' | 'unchanged'>;
  getRule(id: string): Promise<StoredRule | undefined>;
  listRules(): Promise<StoredRule[]>;
  /**
   * Enables or disables a rule. Enabling moves the ledger head to `headMs` and records the interval the rule was
   * off as one `skipped` run, so the ledger still tiles time and the gap is explicit.
   */
  setEnabled(id: string, enabled: boolean, headMs: number, nowMs: number): Promise<boolean>;
  deleteRule(id: string): Promise<boolean>;
  /**
   * Records runs in one transaction: run rows, ledger heads (checked), suppression, pending alerts; and forgets
   * pending alerts that were written to `SecurityAlert` since the last call.
   */
  recordRuns(records: readonly RunRecord[], writtenAlertIds?: readonly string[]): Promise<void>;
  listRuns(filter?: { ruleId?: string; sinceMs?: number; limit?: number }): Promise<RuleRun[]>;
  pendingAlerts(): Promise<PendingAlert[]>;
  deletePendingAlerts(alertIds: readonly string[]): Promise<void>;
  /** Which of these keys the rule already alerted on (not expired). */
  seenAlertKeys(ruleId: string, keys: readonly string[], nowMs: number): Promise<Set<string>>;
  addAlertKeys(ruleId: string, keys: readonly string[], expiresMs: number): Promise<void>;
  /** Deletes runs that finished before the time, and expired alert keys; returns the number of runs deleted. */
  prune(beforeMs: number, nowMs: number): Promise<number>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const ms = (text: string | null | undefined) => (text ? Date.parse(text) : null);

interface RuleRow {
  id: string;
  mode: string;
  enabled: number;
  definition: string;
  source_yaml: string;
  source_path: string | null;
  tables: string;
  frequency_ms: number;
  period_ms: number;
  covered_until: string | null;
  suppressed_until: string | null;
  created_at: string;
  updated_at: string;
}

interface RunRow {
  run_id: string;
  rule_id: string;
  run_trigger: string;
  status: string;
  window_start: string;
  window_end: string;
  query_start: string;
  started_at: string;
  finished_at: string;
  evaluations: number;
  result_rows: number;
  alerts: number;
  truncated: number;
  error: string | null;
  duration_ms: number;
  lag_ms: number;
}

function toRule(r: RuleRow): StoredRule {
  return {
    id: r.id,
    // The column is the truth: enabling and disabling do not rewrite the imported definition's intent.
    definition: { ...(JSON.parse(r.definition) as RuleDefinition), enabled: Number(r.enabled) === 1 },
    sourceYaml: r.source_yaml,
    sourcePath: r.source_path,
    mode: r.mode as ScheduleMode,
    tables: JSON.parse(r.tables) as string[],
    enabled: Number(r.enabled) === 1,
    frequencyMs: Number(r.frequency_ms),
    periodMs: Number(r.period_ms),
    coveredUntilMs: ms(r.covered_until),
    suppressedUntilMs: ms(r.suppressed_until),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toRun(r: RunRow): RuleRun {
  return {
    runId: r.run_id,
    ruleId: r.rule_id,
    trigger: r.run_trigger as RunTrigger,
    status: r.status as RunStatus,
    windowStartMs: Date.parse(r.window_start),
    windowEndMs: Date.parse(r.window_end),
    queryStartMs: Date.parse(r.query_start),
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    evaluations: Number(r.evaluations),
    rows: Number(r.result_rows),
    alerts: Number(r.alerts),
    truncated: Number(r.truncated) === 1,
    error: r.error,
    durationMs: Number(r.duration_ms),
    lagMs: Number(r.lag_ms),
  };
}

const RUN_COLUMNS =
  'run_id, rule_id, run_trigger, status, window_start, window_end, query_start, started_at, finished_at, ' +
  'evaluations, result_rows, alerts, truncated, error, duration_ms, lag_ms';

function runParams(r: RuleRun): Param[] {
  return [
    r.runId,
    r.ruleId,
    r.trigger,
    r.status,
    iso(r.windowStartMs),
    iso(r.windowEndMs),
    iso(r.queryStartMs),
    r.startedAt,
    r.finishedAt,
    r.evaluations,
    r.rows,
    r.alerts,
    r.truncated,
    r.error,
    r.durationMs,
    r.lagMs,
  ];
}

export class SqlRulesRepository implements RulesRepository {
  constructor(private readonly db: SqlDriver) {}

  async upsertRule(u: RuleUpsert, nowMs: number): Promise<'created' | 'updated' | 'unchanged'> {
    return this.db.transaction(async (tx) => {
      const existing = await tx.get<RuleRow>('SELECT * FROM detect_rules WHERE id = ?', [u.definition.id]);
      const definition = JSON.stringify(u.definition);
      const tables = JSON.stringify(u.tables);
      const now = iso(nowMs);
      if (!existing) {
        await tx.run(
          `INSERT INTO detect_rules (id, name, kind, mode, enabled, definition, source_yaml, source_path, tables,
             frequency_ms, period_ms, covered_until, suppressed_until, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
          [
            u.definition.id,
            u.definition.name,
            u.definition.kind,
            u.mode,
            u.definition.enabled,
            definition,
            u.sourceYaml,
            u.sourcePath,
            tables,
            u.frequencyMs,
            u.periodMs,
            iso(u.initialHeadMs),
            now,
            now,
          ],
        );
        return 'created';
      }
      if (
        existing.definition === definition &&
        existing.source_yaml === u.sourceYaml &&
        existing.mode === u.mode &&
        Number(existing.frequency_ms) === u.frequencyMs &&
        Number(existing.period_ms) === u.periodMs
      ) {
        return 'unchanged';
      }
      await tx.run(
        `UPDATE detect_rules SET name = ?, kind = ?, mode = ?, definition = ?, source_yaml = ?, source_path = ?,
           tables = ?, frequency_ms = ?, period_ms = ?, updated_at = ? WHERE id = ?`,
        [
          u.definition.name,
          u.definition.kind,
          u.mode,
          definition,
          u.sourceYaml,
          u.sourcePath,
          tables,
          u.frequencyMs,
          u.periodMs,
          now,
          u.definition.id,
        ],
      );
      return 'updated';
    });
  }

  async getRule(id: string): Promise<StoredRule | undefined> {
    const r = await this.db.get<RuleRow>('SELECT * FROM detect_rules WHERE id = ?', [id]);
    return r ? toRule(r) : undefined;
  }

  async listRules(): Promise<StoredRule[]> {
    return (await this.db.all<RuleRow>('SELECT * FROM detect_rules ORDER BY name, id')).map(toRule);
  }

  async setEnabled(id: string, enabled: boolean, headMs: number, nowMs: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const r = await tx.get<RuleRow>('SELECT * FROM detect_rules WHERE id = ?', [id]);
      if (!r) return false;
      if ((Number(r.enabled) === 1) === enabled) return true;
      const rule = toRule(r);
      const definition = JSON.stringify({ ...rule.definition, enabled });
      if (enabled) {
        const from = rule.coveredUntilMs;
        if (from !== null && headMs > from) {
          await tx.run(
            `INSERT INTO detect_rule_runs (${RUN_COLUMNS}) VALUES (${RUN_COLUMNS.split(',')
              .map(() => '?')
              .join(', ')})`,
            runParams({
              runId: `skip-${id}-${from}`,
              ruleId: id,
              trigger: 'manual',
              status: 'skipped',
              windowStartMs: from,
              windowEndMs: headMs,
              queryStartMs: from,
              startedAt: iso(nowMs),
              finishedAt: iso(nowMs),
              evaluations: 0,
              rows: 0,
              alerts: 0,
              truncated: false,
              error: 'rule disabled',
              durationMs: 0,
              lagMs: 0,
            }),
          );
        }
        await tx.run(
          'UPDATE detect_rules SET enabled = 1, definition = ?, covered_until = ?, updated_at = ? WHERE id = ?',
          [definition, iso(Math.max(headMs, from ?? headMs)), iso(nowMs), id],
        );
      } else {
        await tx.run('UPDATE detect_rules SET enabled = 0, definition = ?, updated_at = ? WHERE id = ?', [
          definition,
          iso(nowMs),
          id,
        ]);
      }
      return true;
    });
  }

  async deleteRule(id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const n = await tx.run('DELETE FROM detect_rules WHERE id = ?', [id]);
      await tx.run('DELETE FROM detect_alert_keys WHERE rule_id = ?', [id]);
      return n > 0;
    });
  }

  async recordRuns(records: readonly RunRecord[], writtenAlertIds: readonly string[] = []): Promise<void> {
    if (records.length === 0 && writtenAlertIds.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (let i = 0; i < writtenAlertIds.length; i += 500) {
        const chunk = writtenAlertIds.slice(i, i + 500);
        await tx.run(`DELETE FROM detect_pending_alerts WHERE alert_id IN (${chunk.map(() => '?').join(', ')})`, chunk);
      }
      for (const rec of records) {
        const run = rec.run;
        const head = await tx.get<{ covered_until: string | null }>(
          'SELECT covered_until FROM detect_rules WHERE id = ?',
          [run.ruleId],
        );
        if (!head) continue; // the rule was deleted while it ran
        const headMs = ms(head.covered_until);
        if (headMs !== null && headMs !== run.windowStartMs) {
          throw new LedgerConflict(
            `internal: rule ${run.ruleId} ledger is at ${iso(headMs)}, a run for [${iso(run.windowStartMs)}, ${iso(run.windowEndMs)}) cannot follow it`,
          );
        }
        let merged = false;
        if (rec.mergeQuiet && run.status === 'success' && run.alerts === 0) {
          const minute = iso(Math.floor(run.windowEndMs / 60_000) * 60_000);
          merged =
            (await tx.run(
              `UPDATE detect_rule_runs SET window_end = ?, finished_at = ?, evaluations = evaluations + 1,
                 result_rows = result_rows + ?, duration_ms = duration_ms + ?, lag_ms = ?
               WHERE rule_id = ? AND window_end = ? AND status = 'success' AND alerts = 0 AND run_trigger = 'batch'
                 AND window_end >= ?`,
              [
                iso(run.windowEndMs),
                run.finishedAt,
                run.rows,
                run.durationMs,
                run.lagMs,
                run.ruleId,
                iso(run.windowStartMs),
                minute,
              ],
            )) > 0;
        }
        if (!merged) {
          await tx.run(
            `INSERT INTO detect_rule_runs (${RUN_COLUMNS}) VALUES (${RUN_COLUMNS.split(',')
              .map(() => '?')
              .join(', ')})`,
            runParams(run),
          );
        }
        await tx.run('UPDATE detect_rules SET covered_until = ? WHERE id = ?', [iso(run.windowEndMs), run.ruleId]);
        if (rec.suppressUntilMs !== undefined) {
          await tx.run('UPDATE detect_rules SET suppressed_until = ? WHERE id = ?', [
            iso(rec.suppressUntilMs),
            run.ruleId,
          ]);
        }
        for (const a of rec.alerts) {
          await tx.run(
            'INSERT INTO detect_pending_alerts (alert_id, run_id, rule_id, payload, created_at) VALUES (?, ?, ?, ?, ?)',
            [a.alertId, a.runId, a.ruleId, a.payload, run.finishedAt],
          );
        }
      }
    });
  }

  async listRuns(filter: { ruleId?: string; sinceMs?: number; limit?: number } = {}): Promise<RuleRun[]> {
    const where: string[] = [];
    const params: Param[] = [];
    if (filter.ruleId) {
      where.push('rule_id = ?');
      params.push(filter.ruleId);
    }
    if (filter.sinceMs !== undefined) {
      where.push('window_end > ?');
      params.push(iso(filter.sinceMs));
    }
    const limit = filter.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}` : '';
    const rows = await this.db.all<RunRow>(
      `SELECT * FROM detect_rule_runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY rule_id, window_end${limit}`,
      params,
    );
    return rows.map(toRun);
  }

  async pendingAlerts(): Promise<PendingAlert[]> {
    const rows = await this.db.all<{ alert_id: string; run_id: string; rule_id: string; payload: string }>(
      'SELECT alert_id, run_id, rule_id, payload FROM detect_pending_alerts ORDER BY created_at, alert_id',
    );
    return rows.map((r) => ({ alertId: r.alert_id, runId: r.run_id, ruleId: r.rule_id, payload: r.payload }));
  }

  async deletePendingAlerts(alertIds: readonly string[]): Promise<void> {
    if (alertIds.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (let i = 0; i < alertIds.length; i += 500) {
        const chunk = alertIds.slice(i, i + 500);
        await tx.run(`DELETE FROM detect_pending_alerts WHERE alert_id IN (${chunk.map(() => '?').join(', ')})`, chunk);
      }
    });
  }

  async seenAlertKeys(ruleId: string, keys: readonly string[], nowMs: number): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const rows = await this.db.all<{ alert_key: string }>(
        `SELECT alert_key FROM detect_alert_keys WHERE rule_id = ? AND expires_at > ? AND alert_key IN (${chunk.map(() => '?').join(', ')})`,
        [ruleId, iso(nowMs), ...chunk],
      );
      for (const r of rows) out.add(r.alert_key);
    }
    return out;
  }

  async addAlertKeys(ruleId: string, keys: readonly string[], expiresMs: number): Promise<void> {
    if (keys.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const k of keys) {
        await tx.run(
          `INSERT INTO detect_alert_keys (rule_id, alert_key, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (rule_id, alert_key) DO UPDATE SET expires_at = excluded.expires_at`,
          [ruleId, k, iso(expiresMs)],
        );
      }
    });
  }

  async prune(beforeMs: number, nowMs: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      const n = await tx.run('DELETE FROM detect_rule_runs WHERE finished_at < ?', [iso(beforeMs)]);
      await tx.run('DELETE FROM detect_alert_keys WHERE expires_at <= ?', [iso(nowMs)]);
      return n;
    });
  }
}
