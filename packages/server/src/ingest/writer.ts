/**
 * The group-commit writer. Requests hand it their records as byte ranges of their bodies (never as JS objects);
 * everything that waits for the same table while the engine is busy is written to one spool file, one record per
 * line, and loaded with one engine load, in one transaction together with the receipts of the requests' batch ids.
 * Each request then gets its own answer (rows ingested, rejected rows with their index within the request), cut
 * from the load's per-part report. A 2xx answer is only given after the commit, so it survives a crash.
 *
 * Loads run one at a time (the engine has one writer anyway); while one runs, the next group builds up, so the
 * group size adapts to the load: one request per commit when idle, many under pressure. A request's records are
 * appended to its group's spool file as soon as it is queued, so the file is written while the previous load runs
 * and the next load starts as soon as the engine is free (writing a 250 MB group after the previous commit cost up
 * to a second of idle engine per group).
 *
 * Bounded: `pendingBytes` counts the bytes accepted and not yet committed; `admit()` refuses new work beyond
 * `maxPendingBytes` (the HTTP layer answers 429 with Retry-After) instead of buffering without bound.
 *
 * A group whose load fails (e.g. a record DuckDB cannot read although it is valid JSON, like a duplicate key) is
 * retried part by part, so one bad request cannot fail the others; the part that still fails gets the error.
 */
import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine, LoadPart, LoadReport, LoadTransform, PartReport, Receipt } from '../engine/engine.js';
import { engineMessage, isEngineError } from '../engine/errors.js';
import { IngestError } from './errors.js';
import { compactRecord } from './json-scan.js';

/** Records of one request for one table: byte ranges of `body`. */
export interface RecordsInput {
  readonly kind: 'records';
  readonly body: Uint8Array;
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  /** Records (indexes) that contain line breaks and must be compacted to one line. */
  readonly multiline?: readonly number[];
  /** The records are already one per line between the first start and the last end (written as one slice). */
  readonly lineSeparated?: boolean;
  /** Field names seen in the records (a sample is enough; the table's column names are then always read). */
  readonly fields: readonly string[];
  /** `fields` holds every top-level key of every record (the engine then reads only those). */
  readonly fieldsComplete?: boolean;
}

/** A whole body the engine reads on its own (CSV): loaded alone, not grouped. */
export interface FileInput {
  readonly kind: 'file';
  readonly body: Uint8Array;
  readonly format: 'csv';
}

export interface WriteRequest {
  readonly table: string;
  readonly input: RecordsInput | FileInput;
  /** Accounted against the pending bound. */
  readonly bytes: number;
  readonly requestId: string;
  readonly clientBatchId?: string;
  /** Endpoint or listener, for the dead-letter table. */
  readonly source: string;
  /** Stored with the rows: the receipt of this part (idempotency), computed from its result. */
  readonly receipt?: (result: PartResult) => Receipt;
  /** Constant string columns (Type, TenantId). */
  readonly set: Readonly<Record<string, string>>;
  /** Applied with the load (data collection rules); such requests are loaded alone. */
  readonly transform?: LoadTransform;
}

export interface RejectedValue {
  /** 0-based record index within the request. */
  readonly index: number;
  readonly column: string;
  readonly reason: string;
  readonly value: string;
}

export interface PartResult {
  readonly table: string;
  readonly rowsReceived: number;
  readonly rowsIngested: number;
  readonly rowsRejected: number;
  /** The first rejected rows' values that could not be coerced (all rows are in the dead-letter table). */
  readonly rejected: readonly RejectedValue[];
  /** Fields of the records that match no column of the table. */
  readonly ignoredFields: readonly string[];
  readonly ingestionTime: string;
  /** The engine's load batch that holds the rows. */
  readonly loadBatchId: number;
}

export interface WriterOptions {
  /** Folder for spool files (created, emptied at start). */
  readonly spoolDir: string;
  /** Bytes accepted and not yet committed beyond which `admit` refuses. Default 256 MB. */
  readonly maxPendingBytes?: number;
  /** Largest group loaded at once. Default 256 MB. */
  readonly maxGroupBytes?: number;
  /** Rejected rows described per request. Default 100. */
  readonly maxRejectedDetails?: number;
  /** Called after each commit (for metrics and tests). */
  readonly onCommit?: (info: CommitInfo) => void;
  /**
   * While requests are still arriving (announced with `arriving()`, body not yet queued), wait up to this long
   * before starting the next commit, so that they join it instead of each paying for a commit of its own.
   * Default 25 ms.
   */
  readonly lingerMs?: number;
  /**
   * Loads do not checkpoint (each checkpoint rewrites the table's last row group, which made many small commits
   * quadratic); the writer folds the WAL into the database once nothing has been written for this long.
   * Default 2 s.
   */
  readonly idleCheckpointMs?: number;
}

export interface CommitInfo {
  readonly table: string;
  readonly requests: number;
  readonly records: number;
  readonly bytes: number;
  readonly ms: number;
}

interface Pending {
  readonly request: WriteRequest;
  readonly records: number;
  resolve(r: PartResult): void;
  reject(e: unknown): void;
}

/** Requests of one table loaded together, written to one spool file as they arrive. */
class Group {
  readonly members: Pending[] = [];
  /** Accepted bytes of the members (the `maxGroupBytes` bound). */
  size = 0;
  /** Bytes written to the spool file. */
  written = 0;
  /** No more members once its load started. */
  sealed = false;
  private handle: Promise<FileHandle> | undefined;
  /** Each member's write, at its own offset: they run side by side, not one after the other's completion (each
   * completion waits for the event loop, which under load is busy scanning bodies: a chain of 16 took 0.8 s). */
  private readonly writes: Promise<unknown>[] = [];

  constructor(
    readonly file: string,
    /** Members must have the same constant columns (`set`). */
    readonly key: string,
    /** A whole file or a transformed request: loaded alone. */
    readonly alone: boolean,
    private readonly ready: Promise<void>,
  ) {}

  add(p: Pending): void {
    this.members.push(p);
    this.size += p.request.bytes;
    const chunks = spoolChunks(p.request.input);
    const at = this.written;
    for (const c of chunks) this.written += c.length;
    if (chunks.length === 0) return;
    this.handle ??= this.ready.then(() => open(this.file, 'w'));
    const write = this.handle.then((h) => h.writev(chunks, at));
    write.catch(() => undefined); // awaited by `finish`; not an unhandled rejection meanwhile
    this.writes.push(write);
  }

  /** Waits for every write (rethrows the first failed one). The data is then in the file for any reader. */
  async finish(): Promise<void> {
    await Promise.all(this.writes);
  }

  /** Closes and deletes the file. */
  async remove(): Promise<void> {
    await Promise.allSettled(this.writes);
    if (this.handle) await (await this.handle).close().catch(() => undefined);
    await rm(this.file, { force: true });
  }
}

export class GroupCommitWriter {
  /** Per table, its groups in arrival order; only the last one may still take members. */
  private readonly queues = new Map<string, Group[]>();
  /** Tables with pending requests, in the order their oldest request arrived. */
  private readonly order: string[] = [];
  private pending = 0;
  private waiting = 0;
  /** Requests announced by `arriving()` and not yet queued or given up. */
  private incoming = 0;
  private onArrival: (() => void) | undefined;
  private running: Promise<void> | null = null;
  private closing = false;
  private readonly maxPendingBytes: number;
  private readonly maxGroupBytes: number;
  /** Recent commit throughput (bytes/s, smoothed), for Retry-After. */
  private throughput = 50e6;
  private spoolReady: Promise<void>;
  /** Spool files being removed (after their answers, off their path); `close()` waits for them. */
  private readonly removing = new Set<Promise<void>>();
  private idleTimer: NodeJS.Timeout | undefined;
  /** Something was committed since the last checkpoint. */
  private dirty = false;

  constructor(
    private readonly engine: Engine,
    private readonly options: WriterOptions,
  ) {
    this.maxPendingBytes = options.maxPendingBytes ?? 256 * 1024 * 1024;
    this.maxGroupBytes = options.maxGroupBytes ?? 256 * 1024 * 1024;
    this.spoolReady = rm(options.spoolDir, { recursive: true, force: true }).then(() =>
      mkdir(options.spoolDir, { recursive: true }).then(() => undefined),
    );
  }

  /** Bytes accepted and not yet committed. */
  get pendingBytes(): number {
    return this.pending;
  }

  /** Requests accepted and not yet answered. */
  get pendingRequests(): number {
    return this.waiting;
  }

  /** Throws `writer_busy` (with a Retry-After estimate) when `bytes` more would exceed the bound. */
  admit(bytes: number): void {
    if (this.closing) throw new IngestError('shutting_down', 'the server is shutting down; retry shortly');
    // One request larger than the bound is still admitted when nothing waits, so that it can ever be written.
    if (this.pending > 0 && this.pending + bytes > this.maxPendingBytes) {
      const seconds = Math.min(60, Math.max(1, Math.ceil(this.pending / this.throughput)));
      throw new IngestError(
        'writer_busy',
        `the writer is behind (${Math.round(this.pending / 1e6)} MB waiting); retry after ${seconds} s`,
        { pendingBytes: this.pending },
        seconds,
      );
    }
  }

  /**
   * Announces a request whose body is still being received: the next commit may wait for it (see `lingerMs`).
   * Call the returned function once the request was queued with `write` or failed; calling it again is harmless.
   */
  arriving(): () => void {
    this.incoming++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.incoming--;
      this.onArrival?.();
    };
  }

  /** Queues a request's records; resolves after the commit that holds them. */
  write(request: WriteRequest): Promise<PartResult> {
    if (this.closing) return Promise.reject(new IngestError('shutting_down', 'the server is shutting down'));
    const records = request.input.kind === 'records' ? request.input.starts.length : -1;
    return new Promise<PartResult>((resolve, reject) => {
      let groups = this.queues.get(request.table);
      if (!groups) {
        groups = [];
        this.queues.set(request.table, groups);
      }
      if (groups.length === 0) this.order.push(request.table);
      const key = JSON.stringify(request.set);
      const alone = request.input.kind === 'file' || request.transform !== undefined;
      let group = groups.at(-1);
      if (
        !group ||
        group.sealed ||
        group.alone ||
        alone ||
        group.key !== key ||
        group.size + request.bytes > this.maxGroupBytes
      ) {
        group = this.newGroup(request, key, alone);
        groups.push(group);
      }
      group.add({ request, records, resolve, reject });
      this.pending += request.bytes;
      this.waiting++;
      this.onArrival?.();
      this.kick();
    });
  }

  private newGroup(first: WriteRequest, key: string, alone: boolean): Group {
    const file = join(this.options.spoolDir, `${randomUUID()}.${first.input.kind === 'file' ? 'csv' : 'ndjson'}`);
    return new Group(file, key, alone, this.spoolReady);
  }

  /** Stops accepting, writes everything queued, and resolves when the last commit is done. */
  async close(): Promise<void> {
    this.closing = true;
    while (this.running) await this.running;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    await Promise.all(this.removing);
  }

  private kick(): void {
    if (this.running) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.order.length > 0) this.kick();
      else this.scheduleCheckpoint();
    });
  }

  private scheduleCheckpoint(): void {
    if (!this.dirty || this.closing) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.running || this.order.length > 0 || this.closing) return;
      this.dirty = false;
      this.engine.checkpoint().then(
        (done) => {
          // Refused (queries were running): try again after another idle period.
          if (!done) {
            this.dirty = true;
            this.scheduleCheckpoint();
          }
        },
        () => undefined,
      );
    }, this.options.idleCheckpointMs ?? 2000);
    this.idleTimer.unref();
  }

  private async drain(): Promise<void> {
    await this.spoolReady;
    for (;;) {
      await this.linger();
      const table = this.order.shift();
      if (table === undefined) return;
      const groups = this.queues.get(table) ?? [];
      const group = groups.shift() as Group;
      group.sealed = true;
      if (groups.length > 0) this.order.push(table);
      try {
        await this.commit(table, group.members, group);
      } finally {
        this.pending -= group.size;
        this.waiting -= group.members.length;
      }
    }
  }

  /** Waits, up to `lingerMs`, while announced requests are still on their way. */
  private async linger(): Promise<void> {
    const limit = this.options.lingerMs ?? 25;
    if (this.incoming === 0 || limit <= 0 || this.pending >= this.maxGroupBytes) return;
    const deadline = performance.now() + limit;
    while (this.incoming > 0 && this.pending < this.maxGroupBytes) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.onArrival = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.onArrival = undefined;
    }
  }

  /** Loads `group` (spooled already when `spooled` is given) and answers each request. */
  private async commit(table: string, group: readonly Pending[], spooled?: Group): Promise<void> {
    try {
      const results = await this.load(table, group, spooled);
      group.forEach((p, i) => {
        p.resolve(results[i] as PartResult);
      });
    } catch (e) {
      if (group.length > 1) {
        // Isolate: one bad request must not fail the others.
        for (const p of group) await this.commit(table, [p]);
        return;
      }
      for (const p of group) p.reject(toIngestError(e, p));
    }
  }

  private async load(table: string, group: readonly Pending[], spooled?: Group): Promise<PartResult[]> {
    const started = performance.now();
    const first = group[0] as Pending;
    let spool = spooled;
    if (!spool) {
      // A retry of one request of a failed group: a file of its own.
      spool = this.newGroup(first.request, '', true);
      for (const p of group) spool.add(p);
    }
    const file = spool.file;
    let bytes = 0;
    try {
      await spool.finish();
      bytes = spool.written;
      const records = group.every((p) => p.records >= 0) ? group.reduce((n, p) => n + p.records, 0) : undefined;
      const fields = new Set<string>();
      for (const p of group)
        if (p.request.input.kind === 'records') for (const f of p.request.input.fields) fields.add(f);
      const fieldsComplete = group.every((p) => p.request.input.kind === 'records' && p.request.input.fieldsComplete);
      const maxRecordBytes = records === undefined ? undefined : longestRecord(group);
      const parts: LoadPart[] | undefined =
        records === undefined
          ? undefined
          : group.map((p) => ({
              records: p.records,
              requestId: p.request.requestId,
              source: p.request.source,
              ...(p.request.clientBatchId ? { clientBatchId: p.request.clientBatchId } : {}),
            }));
      const maxDetails = this.options.maxRejectedDetails ?? 100;
      let results: PartResult[] = [];
      const report = await this.engine.loadFile(table, file, {
        ...(first.request.input.kind === 'file'
          ? { format: first.request.input.format }
          : {
              oneRecordPerLine: true,
              fields: [...fields],
              fieldsComplete,
              ...(maxRecordBytes !== undefined ? { maxRecordBytes } : {}),
            }),
        ...(records !== undefined ? { records } : {}),
        ...(parts ? { parts } : {}),
        set: first.request.set,
        deadLetter: true,
        maxRejectedDetails: maxDetails,
        checkpoint: false,
        ...(first.request.transform ? { transform: first.request.transform } : {}),
        receipts: (r) => {
          results = partResults(r, group);
          return group.flatMap((p, i) => (p.request.receipt ? [p.request.receipt(results[i] as PartResult)] : []));
        },
      });
      if (results.length === 0) results = partResults(report, group);
      this.dirty = true;
      const ms = performance.now() - started;
      if (ms > 0) this.throughput = 0.7 * this.throughput + 0.3 * (bytes / (ms / 1000));
      this.options.onCommit?.({ table, requests: group.length, records: report.rowsRead, bytes, ms });
      return results;
    } finally {
      const removed = spool.remove().catch(() => undefined);
      this.removing.add(removed);
      void removed.then(() => this.removing.delete(removed));
    }
  }
}

/**
 * The longest line of a group's spool file, in bytes: a record (a compacted multi-line record is no longer than it
 * was), or for a body written as one slice, a record with the whitespace up to the next one.
 */
function longestRecord(group: readonly Pending[]): number {
  let longest = 0;
  for (const p of group) {
    const input = p.request.input;
    if (input.kind !== 'records') continue;
    const { starts, ends } = input;
    const last = starts.length - 1;
    for (let i = 0; i <= last; i++) {
      const stop = input.lineSeparated && i < last ? (starts[i + 1] as number) : (ends[i] as number);
      const n = stop - (starts[i] as number);
      if (n > longest) longest = n;
    }
  }
  return longest;
}

const NEWLINE = Buffer.from('\n');

/** A request's records as spool file bytes, one record per line. */
function spoolChunks(input: RecordsInput | FileInput): Uint8Array[] {
  if (input.kind === 'file') return [input.body];
  const { starts, ends, body } = input;
  if (starts.length === 0) return [];
  if (input.lineSeparated) return [body.subarray(starts[0], ends[ends.length - 1]), NEWLINE];
  // Copy the records into one buffer, one per line (one write instead of one slice per record).
  const multiline = new Set(input.multiline ?? []);
  let size = 0;
  for (let i = 0; i < starts.length; i++) size += (ends[i] as number) - (starts[i] as number) + 1;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < starts.length; i++) {
    const s = starts[i] as number;
    const e = ends[i] as number;
    const rec = multiline.has(i) ? compactRecord(body, s, e) : body.subarray(s, e);
    out.set(rec, at);
    at += rec.length;
    out[at++] = 0x0a;
  }
  return [out.subarray(0, at)];
}

/** Each request's answer, from the load report's parts (or the whole report for a single unsplit load). */
function partResults(report: LoadReport, group: readonly Pending[]): PartResult[] {
  const parts: readonly PartReport[] = report.parts ?? [
    {
      records: report.rowsRead,
      rowsLoaded: report.rowsRead - report.rowsRejected,
      rowsRejected: report.rowsRejected,
      rejected: report.rejected,
    },
  ];
  return group.map((_, i) => {
    const part = parts[i] as PartReport;
    const rowsIngested = report.transformed && group.length === 1 ? report.rowsLoaded : part.rowsLoaded;
    return {
      table: report.table,
      rowsReceived: part.records,
      rowsIngested,
      rowsRejected: part.rowsRejected,
      rejected: part.rejected.flatMap((r) =>
        r.columns.map((c) => ({
          index: r.row - 1,
          column: c.column,
          reason: `${JSON.stringify(c.value)} is not a valid ${c.expected}`,
          value: c.value,
        })),
      ),
      ignoredFields: report.ignored,
      ingestionTime: report.ingestionTime,
      loadBatchId: report.batchId,
    };
  });
}

/** What a request whose load failed on its own is told. */
function toIngestError(e: unknown, p: Pending): IngestError {
  if (e instanceof IngestError) return e;
  const message = engineMessage(e);
  if (isEngineError(e, 'closed')) return new IngestError('shutting_down', 'the server is shutting down');
  const bad = /Malformed JSON|JSON transform error|duplicate key|Invalid Input Error|CSV Error|Conversion Error/i.test(
    message,
  );
  if (isEngineError(e, 'load') && bad) {
    // DuckDB names the spool file (not the client's business) and, for records it cannot map to columns, the line:
    // the request is alone in the file, one record per line, so that line is its record number.
    const text = (message.split('\n')[0] ?? message)
      .replace(/^.*?(Invalid Input Error|Conversion Error): /, '')
      .replace(/ in file "[^"]*"/, '');
    const line = /JSON transform error.*?\bin line (\d+)/.exec(message)?.[1];
    return new IngestError(
      'invalid_records',
      `the records could not be read: ${text}`,
      line && p.request.input.kind === 'records' ? { record: Number(line) - 1 } : undefined,
    );
  }
  return new IngestError('ingest_failed', `ingestion failed: ${message.split('\n')[0]}`);
}
