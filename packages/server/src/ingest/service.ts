/**
 * The ingestion service: what every endpoint and listener calls. It turns a body into records (formats.ts), checks
 * the table (tables.ts), applies client batch ids (accepted once, across restarts: the answer is stored as a
 * receipt in the same commit as the rows), and hands the records to the group-commit writer (writer.ts).
 *
 * Every row gets `Type` (the table) and `TenantId` (the workspace id) set, whatever the source says; `TimeGenerated`
 * keeps the source's value, else `Timestamp` (Defender tables), else the ingestion time (the engine's defaults).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SENTINEL_HEALTH } from '../detect/health.js';
import { TableWriter } from '../detect/table-writer.js';
import { DEAD_LETTER_TABLE, type Engine, type TableDefinition } from '../engine/engine.js';
import { type DataCollectionRule, flowTransform, parseRule, RuleStore } from './dcr.js';
import { IngestError } from './errors.js';
import { DEFENDER_CATEGORY_PREFIX, parseRecords, rowsToRecords, splitDefender } from './formats.js';
import { ConnectorHealth, type ConnectorRef } from './health.js';
import { DEFAULT_RETENTION_DAYS, RetentionJob } from './retention.js';
import { ALL_ENABLED, TableCatalog, type TablePolicy } from './tables.js';
import { USAGE_TABLE, UsageRecorder } from './usage.js';
import { type CommitInfo, GroupCommitWriter, type PartResult, type RecordsInput, type WriteRequest } from './writer.js';

export interface IngestServiceOptions {
  readonly engine: Engine;
  /** The workspace folder (for the spool and the data collection rules). */
  readonly dataDir: string;
  /** The workspace schema's tables (content/schema/tables.json). */
  readonly schemaTables: readonly TableDefinition[];
  readonly policy?: TablePolicy;
  /** Bytes accepted and not yet committed beyond which requests get 429. Default 256 MB. */
  readonly maxPendingBytes?: number;
  /** How long batch-id receipts are kept. Default 7 days. */
  readonly receiptTtlMs?: number;
  readonly onCommit?: (info: CommitInfo) => void;
  /** Problems that do not fail a request (a stored rule that no longer compiles, a purge that failed). */
  readonly onWarning?: (message: string) => void;
  /** The data connector a table belongs to (health rows, `Usage.Solution`). */
  readonly connectorOf?: (table: string) => ConnectorRef | undefined;
  /** A table's retention in days (default 90 for every table). */
  readonly retentionDays?: (table: string) => number;
  /**
   * Run the background jobs: usage roll-up (every 5 minutes), retention purge (hourly), health writes (every
   * second). Default true; tests turn them off and call `usage.rollup()`, `retention.run()`, `health.flush()`.
   */
  readonly jobs?: boolean;
  readonly clock?: () => number;
}

export interface RequestContext {
  /** The server's id for the request (dead-letter rows carry it). */
  readonly requestId: string;
  /** The client's batch id (`x-ms-client-request-id` or `?batchId=`), if any. */
  readonly clientBatchId?: string;
  /** The endpoint, e.g. `POST /api/ingest/Syslog`. */
  readonly source: string;
  /** The body was gzip-compressed (error offsets then refer to the decompressed bytes). */
  readonly compressed?: boolean;
  /** From `arriving()`: released once the request's records are queued (or it failed). */
  readonly arrival?: () => void;
}

export interface TableAnswer extends PartResult {
  readonly requestId: string;
  readonly batchId: string | null;
  /** True when the batch id had been accepted before: this is the first answer, and nothing was written again. */
  readonly duplicate: boolean;
}

export interface MultiTableAnswer {
  readonly requestId: string;
  readonly batchId: string | null;
  readonly rowsReceived: number;
  readonly rowsIngested: number;
  readonly rowsRejected: number;
  readonly duplicate: boolean;
  readonly tables: readonly TableAnswer[];
}

interface Receipted {
  readonly bytes: number;
  readonly result: PartResult;
}

const DAY = 86_400_000;

export class IngestService {
  readonly catalog: TableCatalog;
  readonly writer: GroupCommitWriter;
  readonly rules: RuleStore;
  /** `Usage` rows per table per hour, and usage straight from the load history. */
  readonly usage: UsageRecorder;
  /** Data connector health (`SentinelHealth` rows and the current state). */
  readonly health: ConnectorHealth;
  readonly retention: RetentionJob;
  private readonly engine: Engine;
  private usageTimer: NodeJS.Timeout | undefined;
  private readonly inflight = new Map<string, { bytes: number; promise: Promise<Receipted & { stored: boolean }> }>();
  private purgeTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly options: IngestServiceOptions) {
    this.engine = options.engine;
    this.catalog = new TableCatalog(options.engine, options.schemaTables, options.policy ?? ALL_ENABLED);
    this.writer = new GroupCommitWriter(options.engine, {
      spoolDir: join(options.dataDir, 'spool', 'ingest'),
      ...(options.maxPendingBytes !== undefined ? { maxPendingBytes: options.maxPendingBytes } : {}),
      ...(options.onCommit ? { onCommit: options.onCommit } : {}),
    });
    this.rules = new RuleStore(join(options.dataDir, 'dcr'));
    const connectorOf = options.connectorOf ?? (() => undefined);
    this.usage = new UsageRecorder({
      engine: options.engine,
      spoolDir: join(options.dataDir, 'spool', 'usage'),
      billable: (t) => this.billable(t),
      connectorOf: (t) => connectorOf(t)?.id,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.health = new ConnectorHealth({
      sink: new TableWriter(options.engine, SENTINEL_HEALTH, join(options.dataDir, 'spool', 'health'), null),
      tenantId: options.engine.workspaceId,
      connectorOf,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
    this.retention = new RetentionJob({
      engine: options.engine,
      retentionDays: options.retentionDays ?? (() => DEFAULT_RETENTION_DAYS),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
  }

  static async start(options: IngestServiceOptions): Promise<IngestService> {
    const service = new IngestService(options);
    await service.rules.load(service.catalog, (id, e) =>
      options.onWarning?.(`data collection rule ${id} was not loaded: ${e instanceof Error ? e.message : String(e)}`),
    );
    const ttl = options.receiptTtlMs ?? 7 * DAY;
    const purge = () =>
      service.engine
        .purgeReceipts(new Date(Date.now() - ttl))
        .catch((e: unknown) => options.onWarning?.(`receipt purge failed: ${String(e)}`));
    await purge();
    service.purgeTimer = setInterval(purge, Math.min(ttl, DAY) / 4);
    service.purgeTimer.unref();
    if (options.jobs !== false) {
      service.health.start();
      service.retention.start();
      const rollup = () =>
        void service.usage.rollup().catch((e: unknown) => options.onWarning?.(`usage roll-up failed: ${String(e)}`));
      rollup();
      service.usageTimer = setInterval(rollup, 5 * 60_000);
      service.usageTimer.unref();
    }
    return service;
  }

  /** Ingestion into the table is billed: the schema's `billing`; the service's own tables are free. */
  billable(table: string): boolean {
    if (INTERNAL_TABLES.has(table)) return false;
    return this.catalog.definition(table)?.billable ?? true;
  }

  /** Refuses work when the writer is behind (`writer_busy`, 429) or closing. */
  admit(bytes: number): void {
    this.writer.admit(bytes);
  }

  /** Announces a request whose body is on its way (see GroupCommitWriter.arriving). */
  arriving(): () => void {
    return this.writer.arriving();
  }

  /** Every table a KQL query can name (schema, custom and dead-letter tables). */
  definitions(): TableDefinition[] {
    return this.catalog.definitions();
  }

  // ------------------------------------------------------------------------------------------- endpoints

  /** `POST /api/ingest/{table}`: NDJSON or a JSON array (a Defender envelope for this table is unwrapped); CSV. */
  async ingestTable(
    table: string,
    body: Uint8Array,
    format: 'json' | 'csv',
    ctx: RequestContext,
  ): Promise<TableAnswer> {
    return this.watch({ table }, () => this.ingestTableNow(table, body, format, ctx));
  }

  private async ingestTableNow(
    table: string,
    body: Uint8Array,
    format: 'json' | 'csv',
    ctx: RequestContext,
  ): Promise<TableAnswer> {
    await this.catalog.writable(table);
    this.admit(body.length);
    let input: WriteRequest['input'];
    if (format === 'csv') {
      input = { kind: 'file', body, format: 'csv' };
    } else {
      const records = parseRecords(body, ctx.compressed);
      const columns = this.catalog.columns(table) ?? [];
      const envelope = looksLikeDefender(records) && !columns.some((c) => ENVELOPE_KEYS.has(c.name));
      input = envelope ? defenderForTable(body, table, ctx) : records;
    }
    return this.once(ctx, table, body.length, input);
  }

  /** `POST /api/ingest/defender`: routed by each record's category. */
  async ingestDefender(body: Uint8Array, ctx: RequestContext): Promise<MultiTableAnswer> {
    const defender = this.options.connectorOf?.('DeviceProcessEvents');
    return this.watch(defender ? { connector: defender } : null, () => this.ingestDefenderNow(body, ctx));
  }

  private async ingestDefenderNow(body: Uint8Array, ctx: RequestContext): Promise<MultiTableAnswer> {
    this.admit(body.length);
    const byTable = splitDefender(body, ctx.compressed);
    // Check every table before writing any, so that a request is refused as a whole.
    for (const table of byTable.keys()) await this.watch({ table }, () => this.catalog.writable(table));
    const answers = await Promise.all([...byTable].map(([table, input]) => this.once(ctx, table, body.length, input)));
    return {
      requestId: ctx.requestId,
      batchId: ctx.clientBatchId ?? null,
      rowsReceived: sum(answers, (a) => a.rowsReceived),
      rowsIngested: sum(answers, (a) => a.rowsIngested),
      rowsRejected: sum(answers, (a) => a.rowsRejected),
      duplicate: answers.length > 0 && answers.every((a) => a.duplicate),
      tables: answers,
    };
  }

  /** `POST /dataCollectionRules/{id}/streams/{stream}`: a JSON array through the rule's transform. */
  async ingestStream(ruleId: string, stream: string, body: Uint8Array, ctx: RequestContext): Promise<TableAnswer> {
    const custom = this.options.connectorOf?.('Stream_CL');
    const flow = await this.watch(custom ? { connector: custom } : null, async () => this.rules.flow(ruleId, stream));
    return this.watch({ table: flow.table }, async () => {
      await this.catalog.writable(flow.table);
      this.admit(body.length);
      const records = parseRecords(body, ctx.compressed);
      return this.once(ctx, flow.table, body.length, records, flowTransform(flow), `dcr:${ruleId}:${stream}`);
    });
  }

  /** Rows from a listener (syslog): serialized once and written like any request; no batch id. */
  async ingestRows(
    table: string,
    rows: readonly Readonly<Record<string, unknown>>[],
    source: string,
  ): Promise<PartResult> {
    return this.watch({ table }, async () => {
      await this.catalog.writable(table);
      const input = rowsToRecords(rows);
      const r = await this.writer.write(
        this.request(table, input, input.body.length, { requestId: randomUUID(), source }),
      );
      this.recordWrite(r);
      return r;
    });
  }

  /** `PUT /dataCollectionRules/{id}`: checks, compiles and stores a rule. */
  async putRule(id: string, definition: unknown): Promise<DataCollectionRule> {
    const rule = parseRule(id, definition, this.catalog);
    await this.rules.put(rule);
    return rule;
  }

  async close(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    if (this.usageTimer) clearInterval(this.usageTimer);
    await this.usage.close();
    await this.retention.close();
    await this.writer.close();
    await this.health.close();
  }

  /** Records a request's failure in the connector's health, then rethrows it. */
  private async watch<T>(
    target: { table: string } | { connector: ConnectorRef } | null,
    run: () => Promise<T>,
  ): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (target && e instanceof IngestError && !e.recorded) {
        e.recorded = true;
        this.health.failed(target, e.code, e.message);
      }
      throw e;
    }
  }

  private recordWrite(r: PartResult): void {
    this.health.written(
      r.table,
      r.rowsIngested,
      r.rowsRejected,
      [...new Set(r.rejected.map((x) => `${x.column}: ${x.reason}`))].slice(0, 5),
    );
  }

  // ------------------------------------------------------------------------------------------- internals

  private request(
    table: string,
    input: WriteRequest['input'],
    bytes: number,
    ctx: Pick<RequestContext, 'requestId' | 'clientBatchId' | 'source'>,
    receiptKey?: string,
    transform?: WriteRequest['transform'],
  ): WriteRequest {
    return {
      table,
      input,
      bytes: pendingBytes(input),
      requestId: ctx.requestId,
      ...(ctx.clientBatchId ? { clientBatchId: ctx.clientBatchId } : {}),
      source: ctx.source,
      set: { Type: table, TenantId: this.engine.workspaceId },
      ...(receiptKey
        ? { receipt: (result: PartResult) => ({ key: receiptKey, value: JSON.stringify({ bytes, result }) }) }
        : {}),
      ...(transform ? { transform } : {}),
    };
  }

  /**
   * Writes one table's part of a request, once per client batch id: a retry while the first attempt is in flight
   * waits for it; a retry after it committed (even before a restart) gets the stored answer.
   */
  private async once(
    ctx: RequestContext,
    table: string,
    bytes: number,
    input: WriteRequest['input'],
    transform?: WriteRequest['transform'],
    scope = 'table',
  ): Promise<TableAnswer> {
    const answer = (r: PartResult, duplicate: boolean): TableAnswer => ({
      ...r,
      requestId: ctx.requestId,
      batchId: ctx.clientBatchId ?? null,
      duplicate,
    });
    if (!ctx.clientBatchId) {
      const written = this.writer.write(this.request(table, input, bytes, ctx, undefined, transform));
      ctx.arrival?.();
      const r = await written;
      this.recordWrite(r);
      return answer(r, false);
    }
    const key = `batch:${scope}:${table}:${ctx.clientBatchId}`;
    const conflict = (first: number) =>
      new IngestError(
        'batch_conflict',
        `batch id ${ctx.clientBatchId} was already used for a different body (${first} bytes, now ${bytes})`,
        { batchId: ctx.clientBatchId },
      );
    const running = this.inflight.get(key);
    if (running) {
      if (running.bytes !== bytes) throw conflict(running.bytes);
      return answer((await running.promise).result, true);
    }
    const promise = (async () => {
      const stored = (await this.engine.receipts([key])).get(key);
      if (stored !== undefined) return { ...(JSON.parse(stored) as Receipted), stored: true };
      const written = this.writer.write(this.request(table, input, bytes, ctx, key, transform));
      ctx.arrival?.();
      const result = await written;
      this.recordWrite(result);
      return { bytes, result, stored: false };
    })();
    this.inflight.set(key, { bytes, promise });
    try {
      const done = await promise;
      if (done.stored && done.bytes !== bytes) throw conflict(done.bytes);
      return answer(done.result, done.stored);
    } finally {
      this.inflight.delete(key);
    }
  }
}

/** The bytes a request holds in the writer's queue (its records, not the whole body they are in). */
function pendingBytes(input: WriteRequest['input']): number {
  if (input.kind === 'file') return input.body.length;
  let n = 0;
  for (let i = 0; i < input.starts.length; i++) n += (input.ends[i] as number) - (input.starts[i] as number) + 1;
  return n;
}

function sum<T>(items: readonly T[], f: (t: T) => number): number {
  return items.reduce((n, t) => n + f(t), 0);
}

/** The service's own tables: written by Vigil, free, refused as ingestion targets. */
const INTERNAL_TABLES: ReadonlySet<string> = new Set([DEAD_LETTER_TABLE.name, USAGE_TABLE.name, SENTINEL_HEALTH.name]);

const ENVELOPE_KEYS = new Set(['records', 'category', 'properties']);

/** The records are Defender streaming-API messages rather than rows. */
function looksLikeDefender(records: RecordsInput): boolean {
  const f = records.fields;
  return (f.length === 1 && f[0] === 'records') || (f.includes('category') && f.includes('properties'));
}

/** A Defender body sent to `/api/ingest/{table}`: unwrapped, and every record must be of that table. */
function defenderForTable(body: Uint8Array, table: string, ctx: RequestContext): RecordsInput {
  const byTable = splitDefender(body, ctx.compressed);
  const others = [...byTable.keys()].filter((t) => t !== table);
  if (others.length > 0) {
    throw new IngestError(
      'invalid_body',
      `the body holds Defender records of ${others.map((t) => DEFENDER_CATEGORY_PREFIX + t).join(', ')}; ` +
        `send it to /api/ingest/defender, which routes records by category`,
    );
  }
  return byTable.get(table) ?? { kind: 'records', body, starts: [], ends: [], fields: [] };
}
