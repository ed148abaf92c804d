/**
 * What detections need from ingestion: (1) when a batch commits (NRT rules run on it), and (2) a watermark, the
 * time before which no uncommitted batch can still get an ingestion time, so that a window [start, end) is only
 * evaluated once every row that will ever have an ingestion time below `end` is visible. The engine stamps a
 * batch's ingestion time when its load starts (inside the load, after the writer lock), so a load that began at
 * `t` gets a stamp >= `t`: the watermark is min(now, the start of the oldest load in flight).
 *
 * A tighter bound: the engine stamps while holding its single writer lock, so a load still in flight gets a stamp
 * above the stamp of every load that has committed (that load held the lock first). Loads queued behind a running
 * one therefore do not hold the watermark back by their whole wait: it is min(now, max(start of the oldest load in
 * flight, the latest committed stamp + 1 ms)). Priority loads (`LoadOptions.priority`: alerts, rule runs) are a
 * second lane the engine may run beside the first; the order argument holds within a lane only, so each lane keeps
 * its own latest stamp.
 *
 * Writers tell the tracker about their loads either by loading through `tracker.wrap(engine)` (the wrapped
 * `loadFile` does it) or with `begin()` / `committed()` / `aborted()` around their own load path. A load that goes
 * around the tracker could commit rows below the watermark; `settleMs` gives such writers a safety margin.
 */
import type { Engine, LoadOptions, LoadReport } from '../engine/engine.js';

export interface BatchCommit {
  readonly table: string;
  /** The engine's batch id (`vigil_meta.loads.batch_id`). */
  readonly batchId: number;
  /** The ingestion time the rows carry (ISO). */
  readonly ingestionTime: string;
  readonly rows?: number;
}

export type BatchListener = (commit: BatchCommit) => void;

export type LoadLane = 'normal' | 'priority';

export interface LoadTicket {
  readonly table: string;
  readonly startedMs: number;
  readonly lane: LoadLane;
}

export class IngestionTracker {
  private readonly inflight = new Set<LoadTicket>();
  /** The latest ingestion time stamped on a committed batch, per lane (ms). */
  private readonly lastStampMs: Record<LoadLane, number> = {
    normal: Number.NEGATIVE_INFINITY,
    priority: Number.NEGATIVE_INFINITY,
  };
  private readonly listeners = new Set<BatchListener>();

  constructor(
    private readonly options: {
      /** Subtracted from the watermark for writers that do not report their loads (default 0). */
      readonly settleMs?: number;
      readonly clock?: () => number;
    } = {},
  ) {}

  private now(): number {
    return this.options.clock ? this.options.clock() : Date.now();
  }

  /** Call before asking the engine to load a batch (`priority`: the load's `LoadOptions.priority`). */
  begin(table: string, priority = false): LoadTicket {
    const t: LoadTicket = { table, startedMs: this.now(), lane: priority ? 'priority' : 'normal' };
    this.inflight.add(t);
    return t;
  }

  /** Call after the engine committed the batch: releases the watermark and notifies listeners. */
  committed(ticket: LoadTicket, commit: BatchCommit): void {
    this.inflight.delete(ticket);
    const stamp = Date.parse(commit.ingestionTime);
    if (Number.isFinite(stamp)) this.lastStampMs[ticket.lane] = Math.max(this.lastStampMs[ticket.lane], stamp);
    this.batchCommitted(commit);
  }

  /** Call when the load failed (nothing was committed). */
  aborted(ticket: LoadTicket): void {
    this.inflight.delete(ticket);
  }

  /** Notifies listeners of a committed batch (for writers that track their own loads). */
  batchCommitted(commit: BatchCommit): void {
    for (const l of this.listeners) {
      try {
        l(commit);
      } catch {
        // A listener's failure must not fail the writer that committed the rows.
      }
    }
  }

  onBatchCommitted(listener: BatchListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** No row committed later can have an ingestion time below this (ms). */
  watermarkMs(): number {
    let w = this.now() - (this.options.settleMs ?? 0);
    // Stamps are whole milliseconds and a load holds the writer lock for more than one, so a load still in flight
    // stamps at least 1 ms after the latest committed stamp: the rows of that batch are below the watermark, and an
    // NRT round sees the batch that just committed instead of waiting for the next one.
    for (const t of this.inflight) w = Math.min(w, Math.max(t.startedMs, this.lastStampMs[t.lane] + 1));
    return w;
  }

  /** Loads in flight (for tests and health). */
  get loadsInFlight(): number {
    return this.inflight.size;
  }

  /** Loads a file through the engine with tracking. */
  async loadFile(engine: Engine, table: string, file: string, options?: LoadOptions): Promise<LoadReport> {
    const ticket = this.begin(table, options?.priority === true);
    let report: LoadReport;
    try {
      report = await engine.loadFile(table, file, options);
    } catch (e) {
      this.aborted(ticket);
      throw e;
    }
    this.committed(ticket, {
      table: report.table,
      batchId: report.batchId,
      ingestionTime: report.ingestionTime,
      rows: report.rowsLoaded,
    });
    return report;
  }

  /**
   * The engine with every `loadFile` tracked. A proxy, so that methods the engine gains later pass through
   * untouched.
   */
  wrap<E extends Engine>(engine: E): E {
    const loadFile = (table: string, file: string, options?: LoadOptions) =>
      this.loadFile(engine, table, file, options);
    return new Proxy(engine, {
      get(target, prop, receiver) {
        if (prop === 'loadFile') return loadFile;
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
      },
    });
  }
}
