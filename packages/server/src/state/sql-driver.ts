/**
 * The state store's SQL access: a small async driver interface that SQLite (default, `better-sqlite3`) and
 * PostgreSQL (scale-out, later) both implement, so repositories are written once in portable SQL:
 * - placeholders are `?` (the PostgreSQL driver rewrites them to `$1, $2, ...`);
 * - types: TEXT, INTEGER (64-bit), REAL; JSON is stored as TEXT; timestamps as ISO-8601 TEXT in UTC (sortable);
 * - no engine-specific functions in repository SQL (use `driver.dialect` for the rare exception).
 * Transactions serialize through the driver: an async function runs inside BEGIN ... COMMIT, or ROLLBACK on throw.
 */
import { closeSync, fdatasyncSync, openSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';

export type Param = string | number | bigint | null | boolean | Buffer;

export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  /** Rows of a SELECT (or a statement with RETURNING). */
  all<T = Record<string, unknown>>(sql: string, params?: readonly Param[]): Promise<T[]>;
  /** The first row, or undefined. */
  get<T = Record<string, unknown>>(sql: string, params?: readonly Param[]): Promise<T | undefined>;
  /** A statement without result rows; returns the number of rows changed. */
  run(sql: string, params?: readonly Param[]): Promise<number>;
  /** Runs `fn` in a transaction (serialized with other transactions of this driver); resolves once durable. */
  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T>;
  /**
   * Like `transaction`, but resolves as soon as the transaction committed, with `durable` resolving once the commit
   * survives a power loss. Until then nothing outside transactions reads the change, so a caller that acknowledges
   * (or tells anyone) only after `durable` keeps the same guarantee, while its next transaction runs during the
   * sync. Drivers whose commits are durable at once resolve `durable` immediately.
   */
  stagedTransaction?<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<{ value: T; durable: Promise<void> }>;
  close(): Promise<void>;
}

/** `driver.stagedTransaction`, or a plain transaction (durable when it resolves) for drivers without it. */
export async function stagedTransaction<T>(
  driver: SqlDriver,
  fn: (tx: SqlDriver) => Promise<T>,
): Promise<{ value: T; durable: Promise<void> }> {
  if (driver.stagedTransaction) return driver.stagedTransaction(fn);
  return { value: await driver.transaction(fn), durable: Promise.resolve() };
}

export interface SqliteDriverOptions {
  /**
   * Where WAL checkpoints run. `background` (default for a file): on a worker thread with its own connection, so
   * no commit waits for one (SQLite's automatic checkpoint runs inside the commit that crosses its threshold: ~20 ms
   * of copying and fsync every few dozen commits at a steady write rate, the p99 of a commit). `inline`: SQLite's.
   */
  readonly checkpoint?: 'background' | 'inline';
  /** WAL frames (pages) past which the WAL starts over after a background checkpoint (default 16,384: 64 MiB). */
  readonly checkpointRestartFrames?: number;
  /** How long after a write the background checkpoint runs (default 1 s). */
  readonly checkpointIntervalMs?: number;
  /**
   * How a commit is made durable before the transaction resolves. `worker` (default for a file): SQLite commits
   * without fsync (`synchronous = NORMAL`) and a worker thread fsyncs the WAL; the transaction resolves once a
   * sync that started after its commit is done, and commits made meanwhile share the next sync (group commit).
   * The event loop never waits for the disk, and the next transaction runs during the sync. `inline`: SQLite's
   * `synchronous = FULL` (the fsync inside COMMIT, on the event loop).
   */
  readonly sync?: 'worker' | 'inline';
}

/**
 * SQLite through better-sqlite3: one connection, WAL, full sync (an acknowledged change survives a crash). All
 * operations queue behind running transactions, so no caller ever sees (or joins) another's uncommitted state;
 * inside a transaction, the `tx` handed to the callback runs statements directly.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  /** The tail of the operation queue, and how many operations are in it (running or waiting). */
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Prepared statements by SQL text: preparing costs more than running a small statement. */
  private readonly statements = new Map<string, Database.Statement>();
  private readonly checkpointer: Checkpointer | null;
  private readonly syncer: Syncer | null;

  constructor(path: string, options: SqliteDriverOptions = {}) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    const file = path !== '' && path !== ':memory:' && !path.startsWith('file:');
    this.syncer = file && (options.sync ?? 'inline') === 'worker' ? new Syncer(`${path}-wal`) : null;
    this.db.pragma(this.syncer ? 'synchronous = NORMAL' : 'synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.checkpointer =
      file && (options.checkpoint ?? 'background') === 'background'
        ? new Checkpointer(
            this.db,
            path,
            options.checkpointRestartFrames ?? 16_384,
            (op) => this.enqueue(op),
            () => this.queued === 0,
            options.checkpointIntervalMs ?? 1000,
          )
        : null;
  }

  /** Checkpoints the background checkpointer ran, and how the last one ended (for tests and metrics). */
  checkpointStats(): CheckpointStats | null {
    return this.checkpointer?.stats() ?? null;
  }

  private prepare(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      // Bounded: repositories use a few hundred distinct statements; generated variants must not grow it forever.
      if (this.statements.size >= 2000) this.statements.clear();
      this.statements.set(sql, st);
    }
    return st;
  }

  private bind(params: readonly Param[]): unknown[] {
    return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
  }

  private enqueue<T>(op: () => T | Promise<T>): Promise<T> {
    this.queued++;
    const next = this.queue.then(op);
    const done = () => {
      this.queued--;
    };
    next.then(done, done);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private direct(): SqlDriver {
    const tx: SqlDriver = {
      dialect: 'sqlite',
      all: async <T>(sql: string, params: readonly Param[] = []) => this.prepare(sql).all(...this.bind(params)) as T[],
      get: async <T>(sql: string, params: readonly Param[] = []) =>
        this.prepare(sql).get(...this.bind(params)) as T | undefined,
      run: async (sql: string, params: readonly Param[] = []) => this.prepare(sql).run(...this.bind(params)).changes,
      // A nested transaction joins the running one.
      transaction: <T>(fn: (t: SqlDriver) => Promise<T>) => fn(tx),
      close: async () => undefined,
    };
    return tx;
  }

  // Reads return once every commit they could see is durable: nobody reads a change before it would survive a
  // power loss (with the sync worker, a commit is visible to the connection before its fsync).
  all<T>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return this.durable(
      this.enqueue(() => ({ value: this.prepare(sql).all(...this.bind(params)) as T[], seq: this.lastCommit() })),
    );
  }

  get<T>(sql: string, params: readonly Param[] = []): Promise<T | undefined> {
    return this.durable(
      this.enqueue(() => ({
        value: this.prepare(sql).get(...this.bind(params)) as T | undefined,
        seq: this.lastCommit(),
      })),
    );
  }

  run(sql: string, params: readonly Param[] = []): Promise<number> {
    return this.durable(
      this.enqueue(() => {
        const changes = this.prepare(sql).run(...this.bind(params)).changes;
        return { value: changes, seq: this.committed() };
      }),
    );
  }

  /** Executes several statements separated by `;` (migrations), inside the queue. */
  exec(sql: string): Promise<void> {
    return this.durable(
      this.enqueue(() => {
        this.db.exec(sql);
        return { value: undefined, seq: this.committed() };
      }),
    );
  }

  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    return this.durable(this.commit(fn));
  }

  async stagedTransaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<{ value: T; durable: Promise<void> }> {
    const { value, seq } = await this.commit(fn);
    return { value, durable: this.syncer ? this.syncer.through(seq) : Promise.resolve() };
  }

  private commit<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<{ value: T; seq: number }> {
    return this.enqueue(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const value = await fn(this.direct());
        this.db.exec('COMMIT');
        return { value, seq: this.committed() };
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  private lastCommit(): number {
    return this.syncer?.lastCommit() ?? 0;
  }

  /** After a commit (inside the queue): the checkpointer's cue, and the commit's number for the syncer. */
  private committed(): number {
    this.checkpointer?.afterWrite();
    return this.syncer?.noteCommit() ?? 0;
  }

  /** Resolves once the commit is durable (outside the queue, so the next operation runs during the sync). */
  private async durable<T>(done: Promise<{ value: T; seq: number }>): Promise<T> {
    const { value, seq } = await done;
    if (this.syncer) await this.syncer.through(seq);
    return value;
  }

  /** Commits made durable by the sync worker, and the syncs it ran (for tests and metrics). */
  syncStats(): SyncStats | null {
    return this.syncer?.stats() ?? null;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.syncer?.close();
    // The worker's connection first: the last connection to close checkpoints and removes the WAL.
    await this.checkpointer?.close();
    this.db.close();
  }
}

export interface CheckpointStats {
  /** Background checkpoints run by the worker while the main connection kept writing. */
  readonly background: number;
  /** Times the WAL started over: in a gap between commits (`gapRestarts`), or after a round holding the queue. */
  readonly restarts: number;
  /** Times the WAL passed the limit and no round found a gap; the WAL may then grow to 4 × the limit. */
  readonly deferredRestarts: number;
  /** Restarts that happened in a gap between commits, holding nobody up (the rest held the queue). */
  readonly gapRestarts: number;
  /** How long each of the last (up to 1000) restarts that held the queue held it, in ms. */
  readonly restartMs: readonly number[];
  /** WAL frames at the last checkpoint, and how many of them were in the database afterwards. */
  readonly lastLogFrames: number;
  readonly lastCheckpointedFrames: number;
  /** Times the worker failed and SQLite's automatic checkpoint was switched back on. */
  readonly failures: number;
}

/*
 * The worker: its own connection to the same file. `PASSIVE` copies committed WAL frames into the database and
 * fsyncs it without taking the write lock, so the main connection keeps committing meanwhile.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 0');
parentPort.on('message', (m) => {
  if (m === 'close') { db.close(); parentPort.close(); return; }
  try {
    const t0 = performance.now();
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, log: r.log, checkpointed: r.checkpointed, ms: performance.now() - t0 });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: String((e && e.message) || e) });
  }
});
`;

interface CheckpointReply {
  readonly ok: boolean;
  readonly log?: number;
  readonly checkpointed?: number;
  /** How long the checkpoint took in the worker. */
  readonly ms?: number;
  readonly error?: string;
}

/** Rounds tried, each after a commit, to find a gap in which the WAL can start over without holding the queue. */
const CONVERGE_ROUNDS = 16;
/** WAL size (× the restart limit) at which a round holds the queue so that the WAL starts over. */
const HOLD_FACTOR = 4;
/** How long the rounds look for gaps before giving up until the next background round. */
const CONVERGE_MS = 1000;
/** How often a round waiting for a gap checks the queue when no commit comes. */
const GAP_POLL_MS = 10;

/** Asks a helper worker to close its connection and waits until it has exited (keeping the process alive till then). */
async function stopWorker(w: Worker): Promise<void> {
  const exited = new Promise<void>((r) => w.once('exit', () => r()));
  w.ref();
  w.postMessage('close');
  await exited;
}

/**
 * Runs WAL checkpoints off the commit path. A second after writes, the worker copies the WAL into the database
 * while the main connection goes on committing. That alone would let the WAL grow for ever under a steady write
 * rate: SQLite starts it over only when a writer begins while every frame is copied, and frames keep arriving
 * during each copy. So once the WAL holds `restartFrames` frames, short rounds follow, each started right after a
 * commit and copying only what arrived since the previous one, until one ends before the next transaction begins
 * (the gaps between alerts at a steady rate): that transaction starts the WAL over, holding nobody up. Only when
 * writes leave no gap and the WAL reaches 4 × the limit does a round run with the driver's queue held (no
 * transaction starts meanwhile; the event loop stays free). The worker starts when the WAL first reaches 1 MiB, so
 * small stores (tests) never start one. If the worker fails, SQLite's automatic checkpoint comes back.
 */
class Checkpointer {
  private worker: Worker | null = null;
  private waiting: ((r: CheckpointReply) => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private busy = false;
  private dirty = false;
  private background = 0;
  private restarts = 0;
  private deferred = 0;
  private gapRestarts = 0;
  /** Set while a round waits for a gap: told of each commit, and how to stop waiting (close). */
  private gap: (() => void) | null = null;
  private stopGap: (() => void) | null = null;
  private readonly restartMs: number[] = [];
  private failures = 0;
  private last = { log: 0, checkpointed: 0 };
  private closed = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
    private readonly restartFrames: number,
    private readonly holdQueue: (op: () => Promise<void>) => Promise<void>,
    private readonly queueIdle: () => boolean,
    private readonly intervalMs: number,
  ) {
    db.pragma('wal_autocheckpoint = 0');
  }

  stats(): CheckpointStats {
    return {
      background: this.background,
      restarts: this.restarts,
      deferredRestarts: this.deferred,
      gapRestarts: this.gapRestarts,
      restartMs: [...this.restartMs],
      lastLogFrames: this.last.log,
      lastCheckpointedFrames: this.last.checkpointed,
      failures: this.failures,
    };
  }

  /** After a write: a checkpoint round a little later (one timer at a time; cheap enough for every commit). */
  afterWrite(): void {
    this.dirty = true;
    this.gap?.();
    if (this.timer || this.busy || this.closed) return;
    this.dirty = false;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.idle = this.round();
    }, this.intervalMs);
    this.timer.unref?.();
  }

  private async round(): Promise<void> {
    if (this.closed) return;
    if (!this.worker) {
      let size = 0;
      try {
        size = statSync(`${this.path}-wal`).size;
      } catch {
        return;
      }
      if (size < 1 << 20) return;
    }
    this.busy = true;
    try {
      let r = await this.checkpoint();
      if (r.ok) this.background++;
      if (r.ok && (r.log ?? 0) >= this.restartFrames && !this.closed) {
        // Start the WAL over without holding anyone up: short rounds, each begun in a gap (the queue empty after a
        // commit) and copying only what arrived since the previous one. Once one finishes before the next
        // transaction begins, the WAL is fully copied and that transaction starts it over (SQLite's rule); the
        // next round then sees a short WAL.
        const holdAt = HOLD_FACTOR * this.restartFrames;
        const deadline = performance.now() + CONVERGE_MS;
        for (let i = 0; i < CONVERGE_ROUNDS && r.ok && (r.log ?? 0) < holdAt && !this.closed; i++) {
          const before = r.log ?? 0;
          if (!(await this.nextGap(deadline))) break;
          r = await this.checkpoint();
          if (!r.ok) break;
          this.background++;
          if ((r.log ?? 0) < before) {
            this.restarts++;
            this.gapRestarts++;
            return;
          }
        }
        // No gap found (writes back to back): past 4 × the limit, hold the queue for one round (no transaction
        // starts meanwhile; the event loop stays free), so the WAL cannot grow without bound.
        if (!r.ok || (r.log ?? 0) < holdAt || this.closed) {
          this.deferred++;
          return;
        }
        await this.holdQueue(async () => {
          const t0 = performance.now();
          const again = await this.checkpoint();
          if (!again.ok) return;
          this.restarts++;
          this.restartMs.push(performance.now() - t0);
          if (this.restartMs.length > 1000) this.restartMs.shift();
        });
      }
    } catch {
      this.fail();
    } finally {
      this.busy = false;
      // Writes during the round: another one.
      if (this.dirty) this.afterWrite();
    }
  }

  /**
   * Resolves with true at the start of a gap: the driver's queue is empty one macrotask after a commit (a caller
   * chaining its next transaction onto the commit has queued it by then), or on a poll when nothing was committed.
   * False once `deadline` passed without one (writes back to back: rounds would only compete with them).
   */
  private nextGap(deadline: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let done = false;
      const check = () => {
        if (done) return;
        if (this.queueIdle()) finish(true);
        else if (performance.now() >= deadline) finish(false);
      };
      const poll = setInterval(check, GAP_POLL_MS);
      poll.unref?.();
      const finish = (found: boolean) => {
        done = true;
        clearInterval(poll);
        this.gap = null;
        this.stopGap = null;
        resolve(found);
      };
      this.gap = () => {
        setImmediate(check);
      };
      this.stopGap = () => finish(false);
    });
  }

  private checkpoint(): Promise<CheckpointReply> {
    if (!this.worker) this.worker = this.start();
    const w = this.worker;
    return new Promise<CheckpointReply>((resolve) => {
      this.waiting = (r) => {
        if (r.ok) this.last = { log: r.log ?? 0, checkpointed: r.checkpointed ?? 0 };
        resolve(r);
      };
      // Referenced while a reply is awaited, so a process waiting for it stays alive.
      w.ref();
      w.postMessage('checkpoint');
    });
  }

  private start(): Worker {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, path: this.path } });
    w.unref();
    w.on('message', (m: CheckpointReply) => {
      w.unref();
      const waiting = this.waiting;
      this.waiting = null;
      waiting?.(m);
    });
    w.on('error', () => this.fail());
    return w;
  }

  private fail(): void {
    this.failures++;
    this.worker = null;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.({ ok: false, error: 'checkpoint worker failed' });
    // Without a worker, checkpoints go back into commits rather than never happening.
    if (!this.closed) this.db.pragma('wal_autocheckpoint = 1000');
  }

  /** Stops the rounds and the worker (the main connection's close then checkpoints what is left). */
  async close(): Promise<void> {
    this.closed = true;
    this.stopGap?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.idle;
    const w = this.worker;
    this.worker = null;
    if (w) await stopWorker(w);
  }
}

export interface SyncStats {
  /** Commits so far, and how many of them are known durable. */
  readonly commits: number;
  readonly synced: number;
  /** fsyncs the worker ran (fewer than commits: commits made during a sync share the next one). */
  readonly syncs: number;
  /** Times the worker failed and the fsync ran on the event loop instead. */
  readonly failures: number;
}

const WORKER_AFTER_COMMITS = 100;

/* The sync worker: fdatasync of the WAL file (any descriptor of a file flushes the file's data). */
const SYNC_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
let fd = null;
parentPort.on('message', (m) => {
  if (m === 'close') { if (fd !== null) fs.closeSync(fd); parentPort.close(); return; }
  try {
    if (fd === null) {
      try {
        fd = fs.openSync(workerData.wal, 'r+');
      } catch (e) {
        // No WAL yet: nothing was committed through it.
        if (e && e.code === 'ENOENT') { parentPort.postMessage({ ok: true, upTo: m }); return; }
        throw e;
      }
    }
    fs.fdatasyncSync(fd);
    parentPort.postMessage({ ok: true, upTo: m });
  } catch (e) {
    parentPort.postMessage({ ok: false, upTo: m, error: String((e && e.message) || e) });
  }
});
`;

/**
 * Group commit without blocking the event loop: commits are numbered; `through(n)` resolves once an fsync of the
 * WAL that started after commit n returned. One sync at a time; the commits made while it runs share the next.
 * With `synchronous = NORMAL` in WAL mode, SQLite itself never fsyncs at commit (only around checkpoints), so
 * this fsync is what makes a commit survive a power loss; a process crash loses nothing either way (committed
 * frames are in the OS's cache).
 */
class Syncer {
  private seq = 0;
  private synced = 0;
  private syncs = 0;
  private failures = 0;
  private inFlight = false;
  private worker: Worker | null = null;
  private broken = false;
  private readonly waiters: { seq: number; resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(private readonly walPath: string) {}

  noteCommit(): number {
    return ++this.seq;
  }

  lastCommit(): number {
    return this.seq;
  }

  stats(): SyncStats {
    return { commits: this.seq, synced: this.synced, syncs: this.syncs, failures: this.failures };
  }

  through(seq: number): Promise<void> {
    if (seq <= this.synced) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.inFlight || this.waiters.length === 0) return;
    const upTo = this.seq;
    this.inFlight = true;
    // The first commits sync here: a store that writes little (a test, a CLI command) never starts a thread.
    if (this.broken || (!this.worker && upTo <= WORKER_AFTER_COMMITS)) {
      this.syncHere(upTo);
      return;
    }
    try {
      if (!this.worker) this.worker = this.start();
      this.worker.ref();
      this.worker.postMessage(upTo);
    } catch {
      this.failed(upTo);
    }
  }

  private start(): Worker {
    const w = new Worker(SYNC_WORKER_SOURCE, { eval: true, workerData: { wal: this.walPath } });
    w.unref();
    w.on('message', (m: { ok: boolean; upTo: number }) => {
      w.unref();
      if (m.ok) this.done(m.upTo);
      else this.failed(m.upTo);
    });
    w.on('error', () => {
      if (this.inFlight) this.failed(this.seq);
    });
    return w;
  }

  /** The worker failed: from now on the fsync runs on the event loop. */
  private failed(upTo: number): void {
    this.failures++;
    this.broken = true;
    this.worker?.terminate().catch(() => undefined);
    this.worker = null;
    this.syncHere(upTo);
  }

  private syncHere(upTo: number): void {
    try {
      let fd: number;
      try {
        fd = openSync(this.walPath, 'r+');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        this.done(upTo);
        return;
      }
      try {
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.done(upTo);
    } catch (e) {
      this.inFlight = false;
      for (const w of this.waiters.splice(0)) w.reject(e);
    }
  }

  private done(upTo: number): void {
    this.syncs++;
    this.inFlight = false;
    this.synced = Math.max(this.synced, upTo);
    let kept = 0;
    for (const w of this.waiters) {
      if (w.seq <= this.synced) w.resolve();
      else this.waiters[kept++] = w;
    }
    this.waiters.length = kept;
    this.pump();
  }

  async close(): Promise<void> {
    while (this.waiters.length > 0 || this.inFlight) await new Promise((r) => setTimeout(r, 1));
    const w = this.worker;
    this.worker = null;
    if (w) await stopWorker(w);
  }
}
