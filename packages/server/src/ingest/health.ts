/**
 * Data connector health, in Sentinel's `SentinelHealth` table (the detections service writes rule runs there too)
 * with `SentinelResourceType == "Data connector"`, e.g.
 *
 *   SentinelHealth | where SentinelResourceType == "Data connector" and Status != "Success"
 *
 * Rows: `Data connector status change` (turned on or off, tables selected or deselected: who and what),
 * `Data fetch status change` (a connector's ingestion goes from failing to succeeding or back; the first outcome
 * after a start is recorded too) and `Data fetch failure summary` (per connector per minute: failed requests and
 * rejected rows with their reasons). Rows are buffered and written about once a second; the current state (status,
 * last data, recent errors) is also kept in memory for the REST API.
 */
import { randomUUID } from 'node:crypto';
import type { IngestErrorCode } from './errors.js';

export interface ConnectorRef {
  readonly id: string;
  readonly name: string;
}

export interface HealthSink {
  write(rows: readonly Record<string, unknown>[]): Promise<void>;
}

export interface ConnectorError {
  readonly at: string;
  readonly table: string | null;
  readonly code: string;
  readonly message: string;
}

export interface ConnectorState {
  /** `Success` or `Failure`: the outcome of the connector's last write (null before the first since start). */
  readonly fetch: 'Success' | 'Failure' | null;
  readonly lastSuccessAt: string | null;
  readonly lastErrorAt: string | null;
  /** The latest errors, newest first (at most 20). */
  readonly errors: readonly ConnectorError[];
}

interface MinuteSummary {
  minute: number;
  connector: ConnectorRef;
  failedRequests: number;
  rowsRejected: number;
  rowsIngested: number;
  reasons: Map<string, number>;
  tables: Set<string>;
}

interface MutableState {
  fetch: 'Success' | 'Failure' | null;
  lastSuccessAt: string | null;
  lastErrorAt: string | null;
  errors: ConnectorError[];
}

/** Refusals that are flow control or shutdown, not a connector problem. */
const NOT_ERRORS: ReadonlySet<IngestErrorCode> = new Set(['writer_busy', 'shutting_down']);
const MAX_ERRORS = 20;

export class ConnectorHealth {
  private readonly states = new Map<string, MutableState>();
  private readonly summaries = new Map<string, MinuteSummary>();
  private buffer: Record<string, unknown>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly options: {
      readonly sink: HealthSink;
      readonly tenantId: string;
      readonly connectorOf: (table: string) => ConnectorRef | undefined;
      readonly clock?: () => number;
      /** Called when a health write fails (the rows are dropped: health must never block ingestion). */
      readonly onWarning?: (message: string) => void;
    },
  ) {}

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.flush(false), intervalMs);
    this.timer.unref();
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  state(connectorId: string): ConnectorState {
    const s = this.states.get(connectorId);
    return s ? { ...s, errors: [...s.errors] } : { fetch: null, lastSuccessAt: null, lastErrorAt: null, errors: [] };
  }

  /** A write of `table` committed: `ingested` rows stored, `rejected` rows sent to the dead-letter table. */
  written(table: string, ingested: number, rejected: number, reasons: readonly string[] = []): void {
    const c = this.options.connectorOf(table);
    if (!c) return;
    const at = new Date(this.now()).toISOString();
    const s = this.stateOf(c.id);
    const sum = this.summary(c);
    sum.rowsIngested += ingested;
    sum.tables.add(table);
    if (rejected > 0) {
      sum.rowsRejected += rejected;
      for (const r of reasons.length ? reasons : ['rows rejected']) sum.reasons.set(r, (sum.reasons.get(r) ?? 0) + 1);
      this.pushError(s, {
        at,
        table,
        code: 'rows_rejected',
        message: `${rejected} rows of ${table} rejected${reasons[0] ? `: ${reasons[0]}` : ''} (see IngestionErrors)`,
      });
    }
    if (ingested > 0) {
      s.lastSuccessAt = at;
      this.fetchStatus(c, s, 'Success', `${table}: data received`);
    } else if (rejected > 0) {
      this.fetchStatus(c, s, 'Failure', `${table}: every row of a request was rejected`);
    }
  }

  /** A request for `table` (or for a connector, when no table is known yet) was refused or failed. */
  failed(target: { table: string } | { connector: ConnectorRef }, code: IngestErrorCode, message: string): void {
    if (NOT_ERRORS.has(code)) return;
    const table = 'table' in target ? target.table : null;
    const c = 'table' in target ? this.options.connectorOf(target.table) : target.connector;
    if (!c) return;
    const s = this.stateOf(c.id);
    const at = new Date(this.now()).toISOString();
    this.pushError(s, { at, table, code, message });
    const sum = this.summary(c);
    sum.failedRequests++;
    sum.reasons.set(code, (sum.reasons.get(code) ?? 0) + 1);
    if (table) sum.tables.add(table);
    // A disabled table refuses by design: the status change row already says so.
    if (code !== 'table_disabled') this.fetchStatus(c, s, 'Failure', `${table ?? c.name}: ${message}`);
  }

  /** A connector was turned on or off, or its table selection changed. */
  changed(
    c: ConnectorRef,
    change: { enabled?: boolean; tables?: Readonly<Record<string, boolean>> },
    by: string,
  ): void {
    const parts: string[] = [];
    if (change.enabled !== undefined) parts.push(change.enabled ? 'turned on' : 'turned off');
    const tables = Object.entries(change.tables ?? {});
    const on = tables.filter(([, v]) => v).map(([t]) => t);
    const off = tables.filter(([, v]) => !v).map(([t]) => t);
    if (on.length) parts.push(`tables selected: ${on.join(', ')}`);
    if (off.length) parts.push(`tables deselected: ${off.join(', ')}`);
    this.row(c, {
      OperationName: 'Data connector status change',
      Status: change.enabled === false ? 'Disabled' : change.enabled === true ? 'Enabled' : 'Changed',
      Description: `${c.name} ${parts.join('; ')} by ${by}`,
      Reason: '',
      ExtendedProperties: { ...change, ChangedBy: by },
    });
  }

  /** Writes what is buffered; `all` also closes the current minute's summaries (at shutdown). */
  flush(all = true): Promise<void> {
    const run = async () => {
      const minute = Math.floor(this.now() / 60_000);
      for (const [key, s] of this.summaries) {
        if (!all && s.minute >= minute) continue;
        this.summaries.delete(key);
        if (s.failedRequests === 0 && s.rowsRejected === 0) continue;
        this.row(
          s.connector,
          {
            OperationName: 'Data fetch failure summary',
            Status: s.rowsIngested > 0 ? 'Warning' : 'Failure',
            Description: `${s.failedRequests} failed requests, ${s.rowsRejected} rejected rows, ${s.rowsIngested} rows ingested`,
            Reason: [...s.reasons.keys()].join('; ').slice(0, 1000),
            ExtendedProperties: {
              FailedRequests: s.failedRequests,
              RowsRejected: s.rowsRejected,
              RowsIngested: s.rowsIngested,
              Tables: [...s.tables],
              Reasons: Object.fromEntries(s.reasons),
              MinuteStartUTC: new Date(s.minute * 60_000).toISOString(),
            },
          },
          new Date((s.minute + 1) * 60_000 - 1),
        );
      }
      const rows = this.buffer;
      this.buffer = [];
      if (rows.length === 0) return;
      try {
        await this.options.sink.write(rows);
      } catch (e) {
        this.options.onWarning?.(`connector health: ${rows.length} rows not written: ${String(e)}`);
      }
    };
    // One flush at a time; a flush asked for meanwhile runs after it.
    const next = (this.flushing ?? Promise.resolve()).then(run);
    this.flushing = next.finally(() => {
      if (this.flushing === next) this.flushing = null;
    });
    return next;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush(true);
  }

  private stateOf(id: string): MutableState {
    let s = this.states.get(id);
    if (!s) {
      s = { fetch: null, lastSuccessAt: null, lastErrorAt: null, errors: [] };
      this.states.set(id, s);
    }
    return s;
  }

  private summary(c: ConnectorRef): MinuteSummary {
    const minute = Math.floor(this.now() / 60_000);
    const key = `${c.id}:${minute}`;
    let s = this.summaries.get(key);
    if (!s) {
      s = {
        minute,
        connector: c,
        failedRequests: 0,
        rowsRejected: 0,
        rowsIngested: 0,
        reasons: new Map(),
        tables: new Set(),
      };
      this.summaries.set(key, s);
    }
    return s;
  }

  private pushError(s: MutableState, e: ConnectorError): void {
    s.lastErrorAt = e.at;
    s.errors.unshift(e);
    if (s.errors.length > MAX_ERRORS) s.errors.length = MAX_ERRORS;
  }

  private fetchStatus(c: ConnectorRef, s: MutableState, to: 'Success' | 'Failure', why: string): void {
    if (s.fetch === to) return;
    const from = s.fetch;
    s.fetch = to;
    this.row(c, {
      OperationName: 'Data fetch status change',
      Status: to,
      Description: from ? `${c.name}: ${from} → ${to} (${why})` : `${c.name}: ${to} (${why})`,
      Reason: to === 'Failure' ? why : '',
      ExtendedProperties: { From: from, To: to },
    });
  }

  private row(
    c: ConnectorRef,
    fields: {
      OperationName: string;
      Status: string;
      Description: string;
      Reason: string;
      ExtendedProperties: Record<string, unknown>;
    },
    at = new Date(this.now()),
  ): void {
    this.buffer.push({
      TimeGenerated: at.toISOString(),
      SentinelResourceId: `/dataConnectors/${c.id}`,
      SentinelResourceName: c.name,
      WorkspaceId: this.options.tenantId,
      SentinelResourceType: 'Data connector',
      SentinelResourceKind: c.id,
      RecordId: randomUUID(),
      TenantId: this.options.tenantId,
      Type: 'SentinelHealth',
      ...fields,
    });
  }
}
