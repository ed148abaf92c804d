/**
 * Rule runs as a KQL-queryable health table, in the shape of Sentinel's `SentinelHealth` (one row per analytics
 * rule run; details in `ExtendedProperties`), e.g.
 *
 *   SentinelHealth | where SentinelResourceType == "Analytics Rule" and Status != "Success"
 *   | extend Rows = toint(ExtendedProperties.ResultsCount), Window = ExtendedProperties.WindowEndUTC
 *
 * The state store's run table is the ledger of record; this table mirrors it in batches (about once a second).
 * Quiet NRT evaluations (no alert, no error) of one rule within one minute become one row, as in the ledger.
 */
import type { TableDefinition } from '../engine/engine.js';
import type { RuleRun } from '../state/rules-repo.js';
import type { RuleKind, ScheduleMode } from './model.js';
import type { TableWriter } from './table-writer.js';

export const SENTINEL_HEALTH: TableDefinition = {
  name: 'SentinelHealth',
  columns: [
    { name: 'TimeGenerated', type: 'datetime' },
    { name: 'OperationName', type: 'string' },
    { name: 'SentinelResourceId', type: 'string' },
    { name: 'SentinelResourceName', type: 'string' },
    { name: 'Status', type: 'string' },
    { name: 'Description', type: 'string' },
    { name: 'Reason', type: 'string' },
    { name: 'WorkspaceId', type: 'string' },
    { name: 'SentinelResourceType', type: 'string' },
    { name: 'SentinelResourceKind', type: 'string' },
    { name: 'RecordId', type: 'string' },
    { name: 'ExtendedProperties', type: 'dynamic' },
    { name: 'TenantId', type: 'string' },
    { name: 'Type', type: 'string' },
  ],
};

export interface HealthRule {
  readonly id: string;
  readonly name: string;
  readonly kind: RuleKind;
  readonly mode: ScheduleMode;
}

const STATUS: Readonly<Record<RuleRun['status'], string>> = {
  success: 'Success',
  failure: 'Failure',
  suppressed: 'Suppressed',
  skipped: 'Skipped',
};

export function healthRow(rule: HealthRule, run: RuleRun, tenantId: string): Record<string, unknown> {
  const operation =
    rule.kind === 'CustomDetection'
      ? 'Custom detection rule run'
      : rule.kind === 'NRT'
        ? 'NRT analytics rule run'
        : 'Scheduled analytics rule run';
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    TimeGenerated: run.finishedAt,
    OperationName: operation,
    SentinelResourceId: `/rules/${rule.id}`,
    SentinelResourceName: rule.name,
    Status: STATUS[run.status],
    Description:
      run.status === 'failure'
        ? `The rule failed: ${run.error ?? ''}`
        : run.status === 'success'
          ? `${run.rows} results, ${run.alerts} alerts`
          : (run.error ?? ''),
    Reason: run.error ?? '',
    WorkspaceId: tenantId,
    SentinelResourceType: 'Analytics Rule',
    SentinelResourceKind: rule.kind,
    RecordId: run.runId,
    ExtendedProperties: {
      RuleId: rule.id,
      RunId: run.runId,
      Trigger: run.trigger,
      ScheduleMode: rule.mode,
      WindowStartUTC: iso(run.windowStartMs),
      WindowEndUTC: iso(run.windowEndMs),
      QueryStartTimeUTC: iso(run.queryStartMs),
      QueryEndTimeUTC: iso(run.windowEndMs),
      RunStartTimeUTC: run.startedAt,
      RunEndTimeUTC: run.finishedAt,
      ResultsCount: run.rows,
      AlertsGeneratedAmount: run.alerts,
      Evaluations: run.evaluations,
      DurationMs: Math.round(run.durationMs),
      LagMs: Math.round(run.lagMs),
      Truncated: run.truncated,
      Error: run.error ?? '',
    },
    TenantId: tenantId,
    Type: 'SentinelHealth',
  };
}

interface Aggregate {
  rule: HealthRule;
  run: RuleRun;
  minute: number;
}

/** How often buffered health rows are written (at most). */
export const HEALTH_FLUSH_MS = 5000;

export class HealthRecorder {
  private buffer: Record<string, unknown>[] = [];
  private readonly quiet = new Map<string, Aggregate>();
  private lastFlushMs = 0;

  constructor(
    private readonly writer: TableWriter,
    private readonly tenantId: string,
    private readonly clock: () => number,
  ) {}

  record(rule: HealthRule, run: RuleRun): void {
    const quietBatch = run.trigger === 'batch' && run.status === 'success' && run.alerts === 0;
    const agg = this.quiet.get(rule.id);
    const minute = Math.floor(run.windowEndMs / 60_000);
    if (quietBatch && agg && agg.minute === minute && agg.run.windowEndMs === run.windowStartMs) {
      agg.run = {
        ...agg.run,
        windowEndMs: run.windowEndMs,
        finishedAt: run.finishedAt,
        evaluations: agg.run.evaluations + run.evaluations,
        rows: agg.run.rows + run.rows,
        durationMs: agg.run.durationMs + run.durationMs,
        lagMs: run.lagMs,
      };
      return;
    }
    if (agg) {
      this.buffer.push(healthRow(agg.rule, agg.run, this.tenantId));
      this.quiet.delete(rule.id);
    }
    if (quietBatch) this.quiet.set(rule.id, { rule, run, minute });
    else this.buffer.push(healthRow(rule, run, this.tenantId));
  }

  /**
   * Writes what is buffered when `HEALTH_FLUSH_MS` have passed since the last write: each write is a load that
   * takes the engine's writer lock, which alert rows and ingestion wait for.
   */
  async flushIfDue(): Promise<void> {
    if (this.clock() - this.lastFlushMs >= HEALTH_FLUSH_MS) await this.flush(false);
  }

  /** Writes buffered rows; `all` also closes the per-minute NRT aggregates (at shutdown). */
  async flush(all = true): Promise<void> {
    this.lastFlushMs = this.clock();
    const minute = Math.floor(this.clock() / 60_000);
    for (const [id, agg] of this.quiet) {
      if (all || agg.minute < minute) {
        this.buffer.push(healthRow(agg.rule, agg.run, this.tenantId));
        this.quiet.delete(id);
      }
    }
    const rows = this.buffer;
    this.buffer = [];
    await this.writer.write(rows);
  }
}
