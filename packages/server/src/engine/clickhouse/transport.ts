/**
 * How the ClickHouse engine reaches ClickHouse: in process through chdb (embedded ClickHouse, one session per
 * workspace folder; tests and single-node installs) or over HTTP with `@clickhouse/client` (a server or a cluster).
 * Both take SQL text and return the text of the chosen output format, so everything above is transport-neutral.
 */
import { createRequire } from 'node:module';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClient } from '@clickhouse/client';

export interface RunOptions {
  readonly queryId?: string;
  readonly signal?: AbortSignal;
  /** Per-query settings (sent as the statement's SETTINGS clause by chdb, as HTTP parameters by the client). */
  readonly settings?: Readonly<Record<string, string | number>>;
}

export interface Transport {
  readonly kind: 'chdb' | 'http';
  /** Runs a statement that returns rows in `format` (e.g. JSONCompactEachRowWithNamesAndTypes); returns its text. */
  query(sql: string, format: string, options?: RunOptions): Promise<string>;
  /** Runs a statement without a result (DDL, INSERT ... SELECT, ALTER). */
  command(sql: string, options?: RunOptions): Promise<void>;
  /** Inserts JSONEachRow text into a table. */
  insertJsonEachRow(table: string, rows: string, settings?: Readonly<Record<string, string | number>>): Promise<void>;
  /** Stops a running query (best effort: chdb cannot interrupt a single-shot query, it only stops waiting). */
  cancel(queryId: string): Promise<void>;
  close(): Promise<void>;
}

function settingsClause(settings: RunOptions['settings']): string {
  const entries = Object.entries(settings ?? {});
  if (!entries.length) return '';
  return `\nSETTINGS ${entries.map(([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`}`).join(', ')}`;
}

// chdb is an optional (dev) dependency: loaded only when an in-process engine is opened.
interface ChdbResult {
  text(): string;
}
interface ChdbSession {
  queryAsync(sql: string, opts?: { format?: string; signal?: AbortSignal }): Promise<ChdbResult>;
  close(): void;
}
interface ChdbModule {
  Session: new (path?: string, opts?: { connectionArgs?: readonly string[] }) => ChdbSession;
}

/**
 * chdb allows one data directory per process: every in-process workspace shares one session (the first opened
 * workspace's folder holds the data), and each workspace's tables carry a prefix of their own (see the engine).
 */
let shared: { session: ChdbSession; path: string; refs: number } | null = null;

export class ChdbTransport implements Transport {
  readonly kind = 'chdb' as const;
  private closed = false;

  private constructor(
    private readonly session: ChdbSession,
    /** False when the process's session belongs to another folder: this workspace's tables then carry a prefix. */
    readonly primary: boolean,
  ) {}

  /** Opens the embedded database kept in `path` (or joins the process's session, see above). */
  static open(path: string): ChdbTransport {
    if (!shared) {
      let mod: ChdbModule;
      try {
        mod = createRequire(import.meta.url)('chdb') as ChdbModule;
      } catch (e) {
        throw new Error(`the in-process ClickHouse engine needs the npm package chdb: ${(e as Error).message}`);
      }
      // Files reachable by file()-like functions are confined to a folder inside the data directory (and the
      // guard refuses those functions anyway).
      const session = new mod.Session(path, {
        connectionArgs: [
          `--user_files_path=${path}/user_files`,
          '--max_query_size=16777216',
          '--max_ast_elements=2000000',
          '--max_expanded_ast_elements=2000000',
        ],
      });
      shared = { session, path, refs: 0 };
    }
    shared.refs++;
    return new ChdbTransport(shared.session, shared.path === path);
  }

  /** The folder holding the process's in-process ClickHouse data. */
  static dataPath(): string | null {
    return shared?.path ?? null;
  }

  async query(sql: string, format: string, options: RunOptions = {}): Promise<string> {
    return this.run(sql + settingsClause(options.settings), format, options);
  }

  async command(sql: string, options: RunOptions = {}): Promise<void> {
    await this.run(sql + settingsClause(options.settings), 'TabSeparated', options);
  }

  /**
   * One chdb call at a time: a chdb session mixes up the results of concurrent calls, and an aborted call keeps
   * running while the next one would read its output (chdb 3.4.0). So calls queue, a cancelled caller stops waiting at once,
   * and the statement itself ends at its own `max_execution_time` (ClickHouse checks it while it runs).
   */
  private queue: Promise<unknown> = Promise.resolve();

  private run(sql: string, format: string, options: RunOptions): Promise<string> {
    const job = this.queue.then(async () => {
      if (options.signal?.aborted) throw new Error('cancelled before it started');
      try {
        return (await this.session.queryAsync(sql, { format })).text();
      } catch (e) {
        // A statement that fails after its output began (a timeout, a run-time error) leaves that output in the
        // session, where the next call would read it first: one throwaway statement drains it.
        await this.session.queryAsync('SELECT 1', { format: 'TSVRaw' }).catch(() => undefined);
        throw e;
      }
    });
    this.queue = job.catch(() => undefined);
    const signal = options.signal;
    if (!signal) return job;
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => reject(new Error('cancelled'));
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      job.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Resolves when every call started so far has finished (close() waits for it). */
  idle(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  async insertJsonEachRow(table: string, rows: string, settings?: Readonly<Record<string, string | number>>) {
    if (rows === '') return;
    // Inline data after FORMAT: ClickHouse's own parser reads the rows (the table name stays a quoted identifier).
    const clause = settingsClause(settings).replace('\n', ' ');
    await this.run(`INSERT INTO ${table}${clause} FORMAT JSONEachRow\n${rows}`, 'TabSeparated', {});
  }

  async cancel(_queryId: string): Promise<void> {
    // chdb cannot interrupt a running statement: the caller stops waiting (its signal) and the statement ends at
    // its max_execution_time.
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle();
    if (shared && shared.session === this.session && --shared.refs === 0) {
      shared = null;
      this.session.close();
    }
  }
}

export interface HttpTransportOptions {
  /** e.g. `http://user:password@host:8123/database` (the database in the path or `database`). */
  readonly url: string;
  readonly database?: string;
  readonly requestTimeoutMs?: number;
}

export class HttpTransport implements Transport {
  readonly kind = 'http' as const;
  private readonly client: ClickHouseClient;

  constructor(options: HttpTransportOptions) {
    const url = new URL(options.url);
    const database = options.database ?? (url.pathname.replace(/^\/+|\/+$/g, '') || 'default');
    url.pathname = '/';
    this.client = createClient({
      url: url.toString(),
      database,
      request_timeout: options.requestTimeoutMs ?? 5 * 60 * 1000,
      // Generated SQL for wide unions exceeds the default 256 KiB parser limit.
      clickhouse_settings: {
        max_query_size: '16777216',
        max_ast_elements: '2000000',
        max_expanded_ast_elements: '2000000',
      },
    });
  }

  async query(sql: string, format: string, options: RunOptions = {}): Promise<string> {
    const rs = await this.client.query({
      query: sql,
      // biome-ignore lint/suspicious/noExplicitAny: the client's format union does not list every ClickHouse format
      format: format as any,
      ...(options.queryId ? { query_id: options.queryId } : {}),
      ...(options.signal ? { abort_signal: options.signal } : {}),
      ...(options.settings ? { clickhouse_settings: { ...options.settings } } : {}),
    });
    return rs.text();
  }

  async command(sql: string, options: RunOptions = {}): Promise<void> {
    await this.client.command({
      query: sql,
      ...(options.queryId ? { query_id: options.queryId } : {}),
      ...(options.signal ? { abort_signal: options.signal } : {}),
      ...(options.settings ? { clickhouse_settings: { ...options.settings } } : {}),
    });
  }

  async insertJsonEachRow(table: string, rows: string, settings?: Readonly<Record<string, string | number>>) {
    if (rows === '') return;
    await this.client.command({
      query: `INSERT INTO ${table} FORMAT JSONEachRow\n${rows}`,
      ...(settings ? { clickhouse_settings: { ...settings } } : {}),
    });
  }

  async cancel(queryId: string): Promise<void> {
    await this.client.command({
      query: `KILL QUERY WHERE query_id = '${queryId.replace(/[^A-Za-z0-9-]/g, '')}' ASYNC`,
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
