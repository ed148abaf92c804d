/**
 * Groups parsed records into per-table batches for the writer and hands them over one at a time.
 *
 * - A batch is cut when it reaches `batchSize` rows or `flushIntervalMs` after its first row, whichever comes
 *   first, so the writer gets large batches under load and fresh ones when traffic is light.
 * - Deliveries are serialized: `onRecords` is not called again until the promise it returned settles. Rows that
 *   arrive meanwhile wait here; once `maxPendingRows` are waiting the batcher reports itself `congested` and the
 *   TCP listener pauses its sockets (back-pressure reaches the senders through TCP flow control). `onDrain`
 *   fires when the backlog is back under half of that.
 * - UDP cannot be paused: past `maxQueuedRows` waiting rows its records are dropped and counted, so a flood
 *   cannot exhaust memory. TCP records are never dropped (`force`).
 * - A delivery that throws or rejects is reported to `onError` with its batch; its rows are not retried here
 *   (syslog has no acknowledgements to give back anyway; durability is the writer's job).
 */
import type { CellValue, ParsedRecord, SyslogTableName } from './types.js';

/** A row as delivered: the parsed columns (see types.ts). */
export type DeliveredRow = Readonly<Record<string, CellValue>>;

export interface BatchInfo {
  /** Rows that could not be parsed (raw text kept): their index in `rows` and the reason. */
  readonly parseErrors: readonly { readonly index: number; readonly reason: string }[];
  /** Rows whose message was cut at the size limit. */
  readonly truncated: number;
}

export type OnRecords = (
  table: SyslogTableName,
  rows: readonly DeliveredRow[],
  info: BatchInfo,
) => void | Promise<void>;

export interface BatcherOptions {
  readonly onRecords: OnRecords;
  readonly onError: (error: Error) => void;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxPendingRows: number;
  readonly maxQueuedRows: number;
}

interface OpenBatch {
  rows: DeliveredRow[];
  parseErrors: { index: number; reason: string }[];
  truncated: number;
}

interface ReadyBatch extends OpenBatch {
  readonly table: SyslogTableName;
}

export interface BatcherStats {
  batches: number;
  rowsDelivered: number;
  deliveryErrors: number;
  dropped: number;
}

const emptyBatch = (): OpenBatch => ({ rows: [], parseErrors: [], truncated: 0 });

export class RecordBatcher {
  private readonly open: Record<SyslogTableName, OpenBatch> = {
    Syslog: emptyBatch(),
    CommonSecurityLog: emptyBatch(),
  };
  private readonly ready: ReadyBatch[] = [];
  private pendingRows = 0;
  private delivering = false;
  private timer: NodeJS.Timeout | undefined;
  private wasCongested = false;
  private readonly drainListeners: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  readonly stats: BatcherStats = { batches: 0, rowsDelivered: 0, deliveryErrors: 0, dropped: 0 };

  constructor(private readonly options: BatcherOptions) {}

  /** Queues a record; false when it was dropped because the queue is full (only without `force`). */
  add(record: ParsedRecord, force = false): boolean {
    if (!force && this.pendingRows >= this.options.maxQueuedRows) {
      this.stats.dropped++;
      return false;
    }
    const batch = this.open[record.table];
    if (record.parseError !== undefined)
      batch.parseErrors.push({ index: batch.rows.length, reason: record.parseError });
    if (record.truncated) batch.truncated++;
    batch.rows.push(record.row);
    this.pendingRows++;
    if (batch.rows.length >= this.options.batchSize) {
      this.cut(record.table);
      this.pump();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.cutAll();
        this.pump();
      }, this.options.flushIntervalMs);
    }
    if (this.congested) this.wasCongested = true;
    return true;
  }

  /** True while a delivery is pending and `maxPendingRows` or more rows wait behind it. */
  get congested(): boolean {
    return this.delivering && this.pendingRows >= this.options.maxPendingRows;
  }

  /** Rows received but not yet handed to `onRecords`. */
  get backlog(): number {
    return this.pendingRows;
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  /** Delivers everything queued and resolves once every delivery has settled. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.cutAll();
    this.pump();
    if (!this.delivering && this.ready.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private cut(table: SyslogTableName): void {
    const b = this.open[table];
    if (b.rows.length === 0) return;
    this.ready.push({ table, ...b });
    this.open[table] = emptyBatch();
  }

  private cutAll(): void {
    this.cut('Syslog');
    this.cut('CommonSecurityLog');
  }

  private pump(): void {
    while (!this.delivering) {
      const batch = this.ready.shift();
      if (batch === undefined) break;
      this.pendingRows -= batch.rows.length;
      this.stats.batches++;
      let result: void | Promise<void>;
      try {
        result = this.options.onRecords(batch.table, batch.rows, {
          parseErrors: batch.parseErrors,
          truncated: batch.truncated,
        });
      } catch (error) {
        this.failed(batch, error);
        continue;
      }
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        this.delivering = true;
        (result as Promise<void>).then(
          () => this.settled(batch, undefined),
          (error: unknown) => this.settled(batch, error ?? new Error('onRecords rejected')),
        );
        return;
      }
      this.stats.rowsDelivered += batch.rows.length;
    }
    this.checkDrain();
    if (!this.delivering && this.ready.length === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private settled(batch: ReadyBatch, error: unknown): void {
    this.delivering = false;
    if (error === undefined) this.stats.rowsDelivered += batch.rows.length;
    else this.failed(batch, error);
    this.pump();
  }

  private failed(batch: ReadyBatch, error: unknown): void {
    this.stats.deliveryErrors++;
    const e = error instanceof Error ? error : new Error(String(error));
    this.options.onError(
      new Error(`delivery of ${batch.rows.length} ${batch.table} rows failed: ${e.message}`, { cause: e }),
    );
  }

  private checkDrain(): void {
    if (!this.wasCongested || this.pendingRows >= this.options.maxPendingRows / 2) return;
    this.wasCongested = false;
    for (const l of this.drainListeners) l();
  }
}
