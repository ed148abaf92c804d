/**
 * The state store's SQL access: a small async driver interface that SQLite (default, `better-sqlite3`) and
 * PostgreSQL (scale-out, later) both implement, so repositories are written once in portable SQL:
 * - placeholders are `?` (the PostgreSQL driver rewrites them to `$1, $2, ...`);
 * - types: TEXT, INTEGER (64-bit), REAL; JSON is stored as TEXT; timestamps as ISO-8601 TEXT in UTC (sortable);
 * - no engine-specific functions in repository SQL (use `driver.dialect` for the rare exception).
 * Transactions serialize through the driver: an async function runs inside BEGIN ... COMMIT, or ROLLBACK on throw.
 */
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
  /** Runs `fn` in a transaction (serialized with other transactions of this driver). */
  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * SQLite through better-sqlite3: one connection, WAL, full sync (an acknowledged change survives a crash). All
 * operations queue behind running transactions, so no caller ever sees (or joins) another's uncommitted state;
 * inside a transaction, the `tx` handed to the callback runs statements directly.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  /** The tail of the operation queue. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Prepared statements by SQL text: preparing costs more than running a small statement. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
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
    const next = this.queue.then(op);
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

  all<T>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return this.enqueue(() => this.prepare(sql).all(...this.bind(params)) as T[]);
  }

  get<T>(sql: string, params: readonly Param[] = []): Promise<T | undefined> {
    return this.enqueue(() => this.prepare(sql).get(...this.bind(params)) as T | undefined);
  }

  run(sql: string, params: readonly Param[] = []): Promise<number> {
    return this.enqueue(() => this.prepare(sql).run(...this.bind(params)).changes);
  }

  /** Executes several statements separated by `;` (migrations), inside the queue. */
  exec(sql: string): Promise<void> {
    return this.enqueue(() => {
      this.db.exec(sql);
    });
  }

  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    return this.enqueue(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.direct());
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  async close(): Promise<void> {
    await this.queue;
    this.db.close();
  }
}
