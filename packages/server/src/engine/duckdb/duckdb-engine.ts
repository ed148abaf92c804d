/**
 * The embedded engine: one DuckDB database file per workspace, opened locked down (no file access outside the
 * workspace spool, no extension loading, configuration frozen), a pool of connections for parallel queries and
 * one writer at a time for DDL and loads. See ../CONTEXT.md for the storage model and the invariants.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, readdir, realpath, rm, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, StatementType } from '@duckdb/node-api';
import type { ScalarTypeName } from '@vigil/kql';
import {
  DEAD_LETTER_TABLE,
  DEFAULT_LIMITS,
  type Engine,
  type ExecuteOptions,
  type HourlyLoads,
  type LoadOptions,
  type LoadPart,
  type LoadReport,
  type PartReport,
  type QueryResult,
  type RejectedRow,
  type ResultColumn,
  type ResultSet,
  type StorageColumn,
  type TableDefinition,
  type TableStats,
  type TableStorage,
} from '../engine.js';
import { EngineError, engineMessage } from '../errors.js';
import { mapSourceFields } from '../load/mapping.js';
import { decideFormat, jsonFormatName, parseCsvHeader, readHead } from '../load/sniff.js';
import { openResultFile } from '../result-file.js';
import { HIDDEN_COLUMNS, StorageNamespace } from '../storage-names.js';
import { type DuckKind, duckKind, encodeRowSql, kqlTypeOfKind } from './encode-sql.js';
import { checkParseTree, GuardVerdicts } from './guard.js';
import { registerHostFunctions } from './host-functions/index.js';
import {
  allRejectsSql,
  countSql,
  insertSql,
  type LoadPlan,
  type LoadSource,
  objectSizeBound,
  rawRecordsSql,
  rejectsSql,
  STRICT_REJECT,
  sampleKeysSql,
  unseenFieldsSql,
  writtenColumns,
} from './load-sql.js';
import { instanceConfig, lockDown } from './lockdown.js';
import {
  lazyLayout,
  lazyViewSql,
  legacyLayout,
  META_DDL,
  makeStorage,
  readLayouts,
  readStorageMaps,
  storageColumn,
  type TableLayout,
} from './meta.js';
import { ConnectionPool, Mutex } from './pool.js';
import { DUCKDB_STORAGE_TYPES, ident, str, timestampLiteral } from './sql.js';

export interface DuckDBEngineOptions {
  /** The database file (created if missing). */
  readonly path: string;
  /** The only directory the database may read or write besides its own files; created if missing. */
  readonly spoolDir: string;
  /** DuckDB worker threads (default: DuckDB's choice, the number of cores). */
  readonly threads?: number;
  /** DuckDB memory limit, e.g. `4GB` (default: DuckDB's, 80% of RAM). */
  readonly memoryLimit?: string;
  /** Connections in the query pool (default 4): how many queries run at the same time. */
  readonly connections?: number;
  /**
   * WAL size that triggers an automatic checkpoint (default DuckDB's 16MB). Each checkpoint rewrites the table's
   * last, partly filled row group, so a writer committing many small batches wants a larger threshold.
   */
  readonly checkpointThreshold?: string;
  /**
   * How far past the byte limit a result file may grow before the query is stopped and its cut recomputed
   * exactly (default 16 MB). Tests set 0 to exercise that path.
   */
  readonly resultSlackBytes?: number;
}

interface Running {
  readonly conn: DuckDBConnection;
  /** Why the engine interrupted the query: a user-visible stop, or an oversized result (retried exactly). */
  reason?: 'timeout' | 'cancelled' | 'oversize';
}

const KQL_TYPES = new Set<string>(Object.keys(DUCKDB_STORAGE_TYPES));
const SAMPLE_RECORDS = 2000;

export class DuckDBEngine implements Engine {
  readonly dialect = 'duckdb' as const;
  private readonly tableMap = new Map<string, TableStorage>();
  /** Each table's physical layout (lazy or legacy, see meta.ts); changed only under the table's lock. */
  private readonly layouts = new Map<string, TableLayout>();
  private readonly tableNames = new StorageNamespace();
  private readonly running = new Map<string, Running>();
  /** SQL texts the query guard accepted (see GuardVerdicts). */
  private readonly verdicts = new GuardVerdicts();
  private readonly openResults = new Set<ResultSet>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly writer = new Mutex();
  /** The lane of `LoadOptions.priority` loads (small writes that must not wait behind bulk loads). */
  private readonly priorityWriter = new Mutex();
  /**
   * One lock per table written: the two lanes run side by side (DuckDB appends of concurrent transactions do not
   * conflict), but never on the same table, whose DDL (columns added by a load, the view) must not race.
   */
  private readonly tableLocks = new Map<string, Mutex>();
  private closed = false;
  /** The next load's batch id (from vigil_meta.loads at open; ids are taken synchronously by either lane). */
  private nextBatchId = 1;

  private constructor(
    readonly workspaceId: string,
    private readonly instance: DuckDBInstance,
    /** Used for DDL and loads only, under `writer`. */
    private readonly writeConn: DuckDBConnection,
    /** Used for priority loads only, under `priorityWriter`. */
    private readonly priorityConn: DuckDBConnection,
    private readonly pool: ConnectionPool,
    private readonly spool: string,
    private readonly resultSlackBytes: number,
  ) {}

  static async open(options: DuckDBEngineOptions): Promise<DuckDBEngine> {
    await mkdir(options.spoolDir, { recursive: true });
    const spool = await realpath(options.spoolDir);
    for (const sub of ['load', 'results']) {
      await rm(join(spool, sub), { recursive: true, force: true }); // leftovers of a crash
      await mkdir(join(spool, sub), { recursive: true });
    }
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(options.path, instanceConfig(options));
    } catch (e) {
      const message = engineMessage(e);
      const inUse = /Could not set lock|Conflicting lock|file handle conflict/i.test(message);
      throw new EngineError(
        'workspace',
        inUse
          ? `the workspace ${options.path} is in use by another process (${message.split('\n')[0]})`
          : `cannot open ${options.path}: ${message}`,
        { cause: e },
      );
    }
    const first = await instance.connect();
    await lockDown(first, spool);
    // Host functions (vigil_*) live in the instance's catalog: every connection sees them.
    registerHostFunctions(first);
    for (const ddl of META_DDL) await first.run(ddl);
    const conns: DuckDBConnection[] = [];
    for (let i = 0; i < (options.connections ?? 4); i++) conns.push(await instance.connect());
    const workspaceId = String(
      (await first.runAndReadAll("SELECT value FROM vigil_meta.info WHERE key = 'workspace_id'")).getRowsJS()[0]?.[0],
    );
    const engine = new DuckDBEngine(
      workspaceId,
      instance,
      first,
      await instance.connect(),
      new ConnectionPool(conns),
      spool,
      options.resultSlackBytes ?? 16 * 1024 * 1024,
    );
    engine.nextBatchId = Number(
      (await first.runAndReadAll('SELECT coalesce(max(batch_id), 0) + 1 FROM vigil_meta.loads')).getRowsJS()[0]?.[0],
    );
    const maps = await readStorageMaps(first);
    const layouts = await readLayouts(first, maps);
    for (const t of maps) {
      engine.tableMap.set(t.name, t);
      engine.layouts.set(t.name, layouts.get(t.name) ?? legacyLayout(t));
      engine.tableNames.reserve(t.storageName);
    }
    return engine;
  }

  // ---------------------------------------------------------------------------------------------- tables

  storage(tableName: string): TableStorage | undefined {
    return this.tableMap.get(tableName);
  }

  tables(): readonly TableStorage[] {
    return [...this.tableMap.values()];
  }

  async ensureTable(def: TableDefinition): Promise<TableStorage> {
    this.assertOpen();
    validateDefinition(def);
    return this.writer.run(() => this.withTables([def.name], () => this.ensureTableLocked(this.writeConn, def)));
  }

  /** Runs `task` holding the locks of these tables (taken in name order, so that two lanes cannot deadlock). */
  private withTables<T>(names: readonly string[], task: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(names)].sort();
    const run = (i: number): Promise<T> => {
      const name = sorted[i];
      if (name === undefined) return task();
      let lock = this.tableLocks.get(name);
      if (!lock) {
        lock = new Mutex();
        this.tableLocks.set(name, lock);
      }
      return lock.run(() => run(i + 1));
    };
    return run(0);
  }

  /** ensureTable's work; the caller holds a writer lock (`conn` is its connection) and the table's lock. */
  private async ensureTableLocked(conn: DuckDBConnection, def: TableDefinition): Promise<TableStorage> {
    const existing = this.tableMap.get(def.name);
    const variantOf = new Map<string, string>();
    for (const [a, b] of def.caseVariants ?? []) variantOf.set(b, a);
    await conn.run('BEGIN TRANSACTION');
    try {
      let result: TableStorage;
      let layout: TableLayout;
      if (!existing) {
        const names = new StorageNamespace(Object.values(HIDDEN_COLUMNS));
        const tableNames = new StorageNamespace(this.tables().map((t) => t.storageName));
        const storageName = tableNames.assign(def.name);
        const columns = def.columns.map((c) =>
          storageColumn(c.name, c.type as ScalarTypeName, names.assign(c.name), variantOf.get(c.name)),
        );
        result = makeStorage(def.name, storageName, columns);
        // Lazy: the physical table starts with the hidden columns only; loads add the columns they write.
        layout = lazyLayout(result, []);
        const hidden = [`${ident(HIDDEN_COLUMNS.ingestionTime)} TIMESTAMP`, `${ident(HIDDEN_COLUMNS.batchId)} BIGINT`];
        await conn.run(`CREATE TABLE ${layout.physical} (${hidden.join(', ')})`);
        await conn.run(lazyViewSql(result, layout));
        await conn.run(
          `INSERT INTO vigil_meta.tables VALUES (${str(def.name)}, ${str(storageName)}, ${timestampLiteral(new Date())})`,
        );
        await conn.run(`INSERT INTO vigil_meta.lazy_tables VALUES (${str(def.name)})`);
        await insertColumnMeta(conn, def.name, columns, 0);
      } else {
        const missing = def.columns.filter((c) => {
          const have = existing.columns.find((e) => e.name === c.name);
          if (have && have.type !== c.type) {
            throw new EngineError(
              'schema',
              `${def.name}.${c.name} is ${have.type} in the workspace; it cannot become ${c.type}`,
            );
          }
          return !have;
        });
        if (missing.length === 0) {
          await conn.run('ROLLBACK');
          return existing;
        }
        const names = new StorageNamespace([
          ...Object.values(HIDDEN_COLUMNS),
          ...existing.columns.map((c) => c.storageName),
        ]);
        const added = missing.map((c) =>
          storageColumn(c.name, c.type as ScalarTypeName, names.assign(c.name), variantOf.get(c.name)),
        );
        await insertColumnMeta(conn, def.name, added, existing.columns.length);
        result = makeStorage(def.name, existing.storageName, [...existing.columns, ...added]);
        const before = this.layouts.get(def.name) ?? legacyLayout(existing);
        if (before.lazy) {
          // New columns are not stored until a load writes them: the view shows them empty.
          layout = before;
          await conn.run(lazyViewSql(result, layout));
        } else {
          for (const c of added) await conn.run(`ALTER TABLE ${before.physical} ADD COLUMN ${columnDdl(c)}`);
          layout = legacyLayout(result);
        }
      }
      await conn.run('COMMIT');
      this.tableMap.set(def.name, result);
      this.layouts.set(def.name, layout);
      this.tableNames.reserve(result.storageName);
      return result;
    } catch (e) {
      await conn.run('ROLLBACK').catch(() => undefined);
      if (e instanceof EngineError) throw e;
      throw new EngineError('schema', `cannot create ${def.name}: ${engineMessage(e)}`, { cause: e });
    }
  }

  // ---------------------------------------------------------------------------------------------- loading

  async loadFile(table: string, file: string, options: LoadOptions = {}): Promise<LoadReport> {
    this.assertOpen();
    const storage = this.tableMap.get(table);
    if (!storage) throw new EngineError('unknown_table', `unknown table ${table}`);
    if (options.transform) validateDefinition(options.transform.input);
    if (options.parts && options.records === undefined) {
      throw new EngineError('load', 'load parts need the record count of the file (LoadOptions.records)');
    }
    if (options.parts && options.parts.reduce((n, p) => n + p.records, 0) !== options.records) {
      throw new EngineError('load', 'the records of the load parts do not add up to the records of the file');
    }
    const [lane, conn] = options.priority ? [this.priorityWriter, this.priorityConn] : [this.writer, this.writeConn];
    const tables = [table, ...(options.deadLetter ? [DEAD_LETTER_TABLE.name] : [])];
    return lane.run(() => this.withTables(tables, () => this.load(conn, storage, resolve(file), options)));
  }

  /** One load on `conn`, under its lane's lock and the locks of the tables it writes. */
  private async load(
    conn: DuckDBConnection,
    target: TableStorage,
    file: string,
    options: LoadOptions,
  ): Promise<LoadReport> {
    const started = performance.now();
    // DuckDB may only read the spool: stage the file there (a hard link when possible, else a copy), while its size
    // is read (side by side: each file system call waits for the event loop on its way back).
    const staged = join(this.spool, 'load', `${randomUUID()}${extname(file) || '.dat'}`);
    const [bytes] = await Promise.all([
      stat(file).then(
        (s) => s.size,
        (e: unknown) => {
          throw new EngineError('load', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
        },
      ),
      link(file, staged).catch(() => copyFile(file, staged)),
    ]);
    // A one-record-per-line file needs no sniffing (its head only served the progress estimate).
    const head = options.oneRecordPerLine && !options.onProgress ? { text: '', complete: true } : await readHead(file);
    const format = options.oneRecordPerLine ? 'json' : decideFormat(file, head.text, options.format);
    const rowsPerByte = lineDensity(head.text, format);
    const maxDetails = options.maxRejectedDetails ?? 20;
    try {
      if (options.deadLetter && !this.tableMap.has(DEAD_LETTER_TABLE.name)) {
        await this.ensureTableLocked(conn, DEAD_LETTER_TABLE);
      }
      // The table the records are coerced into: the target, or the transform's scratch table.
      const table = options.transform ? scratchStorage(options.transform.input) : target;
      let source: LoadSource;
      let envelope: 'records' | 'properties' | undefined;
      if (format === 'csv') {
        source = { kind: 'csv', path: staged, fields: parseCsvHeader(head) };
      } else {
        envelope = options.fields ? undefined : await this.detectEnvelope(conn, staged);
        const sampled = options.fields ? [...new Set(options.fields)] : await this.sampleKeys(conn, staged, envelope);
        const collide = hasCaseCollision(sampled);
        const fields = [...sampled];
        const lower = new Set(sampled.map((k) => k.toLowerCase()));
        // Declare every column name too, so that a key first seen after the sample still loads (not needed when
        // the caller knows every key).
        const complete = options.fields !== undefined && options.fieldsComplete === true && !collide;
        for (const c of complete ? [] : table.columns) {
          if (collide || envelope || !lower.has(c.name.toLowerCase())) {
            if (!fields.includes(c.name)) fields.push(c.name);
            lower.add(c.name.toLowerCase());
          }
        }
        const mode = collide || envelope ? 'objects' : 'columns';
        const lines = options.oneRecordPerLine === true && !envelope;
        source = {
          kind: 'json',
          path: staged,
          fields,
          sampled: sampled.length,
          // No record is longer than the file (or than the caller says).
          maxObjectBytes: objectSizeBound(options.maxRecordBytes ?? bytes),
          mode,
          ...(envelope ? { envelope } : {}),
          ...(lines ? { lines } : {}),
        };
      }
      let mapping = mapSourceFields(source.fields, table);
      // First the strict insert (each value converted once; the first value that cannot be coerced fails the
      // statement), then, only if a value failed, the checked insert that rejects rows (see insertSql). Fields
      // declared only in case a late record has them are not written; when the strict insert fails, the ones that
      // do hold a value are found first (one pass) and written like sampled ones, so no late key is lost.
      let strict = true;
      let lateKeysChecked = false;
      for (;;) {
        const ingestionDate = new Date();
        // Layouts this transaction changes, adopted only once it commits.
        const layouts = new Map<string, TableLayout>();
        // Statements sent with the next one, in the same call: each call is a round trip through the event loop,
        // which under ingestion load waits for whatever the main thread is doing (e.g. scanning a 12 MB body).
        const deferred: string[] = ['BEGIN TRANSACTION'];
        const run = (sql: string) => {
          const all = [...deferred.splice(0), sql].join(';\n');
          return conn.run(all);
        };
        try {
          // Taken synchronously, so the two lanes never share an id (an id is not reused after a failed load, so
          // ids may have gaps).
          const batchId = this.nextBatchId++;
          if (options.transform) await run(scratchDdl(table));
          const plan: LoadPlan = {
            table,
            source,
            mapping,
            ingestionTime: timestampLiteral(ingestionDate),
            batchId,
            ...(options.set && !options.transform ? { set: options.set } : {}),
            ...(options.transform ? {} : { into: this.layoutOf(target, layouts).physical }),
          };
          if (!options.transform) await this.storeColumns(conn, target, plan, layouts, deferred);
          let shown = 0; // DuckDB's figure covers the read; keep the display monotonic
          const progress = options.onProgress
            ? setInterval(() => {
                const p = conn.progress.percentage;
                shown = Math.max(shown, p > 0 ? Math.min(1, p / 100) : 0);
                options.onProgress?.({
                  table: target.name,
                  file,
                  bytes,
                  fraction: shown,
                  ...(rowsPerByte ? { estimatedRows: Math.round(shown * bytes * rowsPerByte) } : {}),
                  elapsedMs: performance.now() - started,
                });
              }, 250)
            : undefined;
          let loaded: number;
          try {
            // The INSERT comes last in its call, so the call's result is the INSERT's.
            loaded = (await run(insertSql(plan, strict))).rowsChanged;
          } catch (e) {
            if (strict && engineMessage(e).includes(STRICT_REJECT)) {
              await conn.run('ROLLBACK');
              const late = lateKeysChecked ? null : unseenFieldsSql(plan);
              lateKeysChecked = true;
              if (late && source.kind === 'json') {
                const found = (await conn.runAndReadAll(late.sql)).getRowsJS()[0] ?? [];
                const promote = new Set(late.fields.filter((_, k) => found[k] === true));
                if (promote.size > 0) {
                  // The fields that hold values join the sampled ones; the strict insert gets another try.
                  const fields: readonly string[] = source.fields;
                  const sampled: number = source.sampled ?? fields.length;
                  const order: string[] = [
                    ...fields.slice(0, sampled),
                    ...fields.filter((_, i) => promote.has(i)),
                    ...fields.filter((_, i) => i >= sampled && !promote.has(i)),
                  ];
                  source = { ...source, fields: order, sampled: sampled + promote.size };
                  mapping = mapSourceFields(source.fields, table);
                  continue;
                }
              }
              strict = false;
              continue;
            }
            throw e;
          } finally {
            if (progress) clearInterval(progress);
          }
          // A strict insert loaded every record; otherwise the caller's record count spares a second pass over the
          // file, and only without one are the records counted.
          const read = strict
            ? loaded
            : options.records !== undefined && loaded <= options.records
              ? options.records
              : Number((await conn.runAndReadAll(countSql(plan))).getRowsJS()[0]?.[0]);
          let rejected: RejectedRow[] = [];
          let rejectsPerPart: Map<number, { count: number; rows: RejectedRow[] }> | undefined;
          if (read > loaded) {
            if (options.deadLetter || options.parts) {
              const found = await this.collectRejects(conn, plan, target.name, file, options, maxDetails, layouts);
              rejected = found.rejected;
              rejectsPerPart = found.perPart;
            } else {
              rejected = await this.describeRejects(conn, plan, maxDetails);
            }
          }
          let rowsLoaded = loaded;
          let transformed: LoadReport['transformed'];
          if (options.transform) {
            const out = options.transform.select(table);
            await this.describe(conn, out.sql, undefined);
            const relation: LoadPlan = {
              table: target,
              source: { kind: 'relation', sql: out.sql, columns: out.columns },
              mapping: mapSourceFields(out.columns, target),
              ingestionTime: plan.ingestionTime,
              batchId,
              ...(options.set ? { set: options.set } : {}),
              into: this.layoutOf(target, layouts).physical,
            };
            await this.storeColumns(conn, target, relation, layouts);
            rowsLoaded = (await conn.run(insertSql(relation))).rowsChanged;
            transformed = { rowsIn: loaded, rowsOut: rowsLoaded };
            await conn.run(`DROP TABLE ${ident(table.storageName)}`);
          }
          const ms = performance.now() - started;
          const formatName = format === 'csv' ? 'csv' : options.oneRecordPerLine ? 'ndjson' : jsonFormatName(head.text);
          // The load record, the receipts and the COMMIT: one call.
          deferred.push(
            `INSERT INTO vigil_meta.loads VALUES (${batchId}, ${str(target.name)}, ${str(file)}, ${str(formatName)}, ` +
              `${bytes}, ${read}, ${rowsLoaded}, ${read - loaded}, ${plan.ingestionTime}, ${ms})`,
          );
          const parts = options.parts ? partReports(options.parts, rejectsPerPart) : undefined;
          const report: LoadReport = {
            table: target.name,
            file,
            format: formatName,
            ...(envelope ? { envelope } : {}),
            batchId,
            bytes,
            rowsRead: read,
            rowsLoaded,
            rowsRejected: read - loaded,
            rejected,
            ...(parts ? { parts } : {}),
            ...(transformed ? { transformed } : {}),
            renamed: mapping.renamed,
            ignored: mapping.ignored,
            ingestionTime: ingestionDate.toISOString(),
            ms,
          };
          const receipts = options.receipts?.(report) ?? [];
          if (receipts.length > 0) {
            const values = receipts.map((r) => `(${str(r.key)}, ${str(r.value)}, ${plan.ingestionTime})`);
            deferred.push(`INSERT INTO vigil_meta.receipts VALUES ${values.join(', ')} ON CONFLICT DO NOTHING`);
          }
          await run('COMMIT');
          for (const [name, layout] of layouts) this.layouts.set(name, layout);
          // Move the rows from the WAL into the database file now (cheap right after a bulk insert); if another
          // transaction is open DuckDB refuses, and its automatic checkpoint does it later.
          if (options.checkpoint !== false) await conn.run('CHECKPOINT').catch(() => undefined);
          options.onProgress?.({ table: target.name, file, bytes, fraction: 1, estimatedRows: read, elapsedMs: ms });
          return report;
        } catch (e) {
          await conn.run('ROLLBACK').catch(() => undefined);
          throw e;
        }
      }
    } catch (e) {
      if (e instanceof EngineError) throw e;
      throw new EngineError('load', `cannot load ${basename(file)} into ${target.name}: ${engineMessage(e)}`, {
        cause: e,
      });
    } finally {
      await rm(staged, { force: true });
    }
  }

  /**
   * Every rejected record, in one pass: the first `limit` overall and per part for the report, the count per
   * part, and (with `deadLetter`) one dead-letter row per record with its raw text. Runs inside the load's
   * transaction, after the insert.
   */
  private async collectRejects(
    conn: DuckDBConnection,
    plan: LoadPlan,
    table: string,
    file: string,
    options: LoadOptions,
    limit: number,
    layouts: Map<string, TableLayout>,
  ): Promise<{ rejected: RejectedRow[]; perPart: Map<number, { count: number; rows: RejectedRow[] }> }> {
    const rejects = ident('__vigil_rejects');
    await conn.run(`CREATE TEMP TABLE ${rejects} AS ${allRejectsSql(plan)}`);
    try {
      // Parts as record ranges [first, last] (1-based, inclusive); a load without parts is one part.
      const parts: readonly LoadPart[] = options.parts ?? [{ records: Number.MAX_SAFE_INTEGER }];
      let first = 1;
      const ranges = parts.map((p, i) => {
        const row = `(${i}, ${first}, ${first + p.records - 1}, ${str(p.source ?? file)}, ${str(p.requestId ?? '')}, ${str(p.clientBatchId ?? '')})`;
        first += p.records;
        return row;
      });
      const partsSql = `(VALUES ${ranges.join(', ')}) AS __p(i, first, last, source, request, batch)`;
      const toRow = (row: unknown, errors: unknown, offset: number): RejectedRow => ({
        row: Number(row) - offset,
        columns: (JSON.parse(String(errors)) as { column: string; expected: string; value: string }[]).map((e) => ({
          column: e.column,
          value: e.value ?? '',
          expected: e.expected as ScalarTypeName,
        })),
      });
      const overall = (
        await conn.runAndReadAll(`SELECT __row, errors FROM ${rejects} ORDER BY __row LIMIT ${Math.max(0, limit)}`)
      ).getRowsJS() as unknown[][];
      const rejected = overall.map(([row, errors]) => toRow(row, errors, 0));
      const perPart = new Map<number, { count: number; rows: RejectedRow[] }>();
      if (options.parts) {
        const counts = (
          await conn.runAndReadAll(
            `SELECT __p.i, count(*) FROM ${rejects} JOIN ${partsSql} ON __row BETWEEN __p.first AND __p.last GROUP BY __p.i`,
          )
        ).getRowsJS() as [number, bigint][];
        for (const [i, n] of counts) perPart.set(Number(i), { count: Number(n), rows: [] });
        const details = (
          await conn.runAndReadAll(
            `SELECT __p.i, __p.first, __row, errors FROM ${rejects} JOIN ${partsSql} ON __row BETWEEN __p.first AND __p.last ` +
              `QUALIFY row_number() OVER (PARTITION BY __p.i ORDER BY __row) <= ${Math.max(0, limit)} ORDER BY __row`,
          )
        ).getRowsJS() as unknown[][];
        for (const [i, firstRow, row, errors] of details) {
          perPart.get(Number(i))?.rows.push(toRow(row, errors, Number(firstRow) - 1));
        }
      }
      if (options.deadLetter) {
        const dl = this.tableMap.get(DEAD_LETTER_TABLE.name);
        if (!dl) throw new EngineError('load', 'the dead-letter table is missing');
        const col = (name: string) => ident(dl.columns.find((c) => c.name === name)?.storageName ?? name);
        const into = await this.storeColumnsByName(
          conn,
          dl,
          dl.columns.map((c) => c.name),
          layouts,
        );
        const values: [string, string][] = [
          ['TimeGenerated', plan.ingestionTime],
          ['TargetTable', str(table)],
          ['Source', '__p.source'],
          ['RequestId', '__p.request'],
          ['ClientBatchId', '__p.batch'],
          ['RecordIndex', '__r.__row - __p.first'],
          ['Reason', '__r.reason'],
          ['Errors', 'CAST(__r.errors AS JSON)'],
          ['RawRecord', "coalesce(__raw.__raw, '')"],
          ['LoadBatchId', String(plan.batchId)],
          ['TenantId', str(this.workspaceId)],
          ['Type', str(DEAD_LETTER_TABLE.name)],
        ];
        await conn.run(
          `INSERT INTO ${into.physical} (${values.map(([c]) => col(c)).join(', ')}, ${ident(dl.hidden.ingestionTime)}, ${ident(dl.hidden.batchId)}) ` +
            `SELECT ${values.map(([, v]) => v).join(', ')}, ${plan.ingestionTime}, ${plan.batchId} ` +
            `FROM ${rejects} AS __r JOIN ${partsSql} ON __r.__row BETWEEN __p.first AND __p.last ` +
            `LEFT JOIN (${rawRecordsSql(plan.source)}) AS __raw ON __raw.__n = __r.__row`,
        );
      }
      return { rejected, perPart };
    } finally {
      await conn.run(`DROP TABLE IF EXISTS ${rejects}`);
    }
  }

  /** A table's layout as the current transaction sees it (`pending`: changed by it, not committed yet). */
  private layoutOf(t: TableStorage, pending: ReadonlyMap<string, TableLayout>): TableLayout {
    return pending.get(t.name) ?? this.layouts.get(t.name) ?? legacyLayout(t);
  }

  /** Inside a load's transaction: stores the columns `plan` writes that its (lazy) table does not store yet. */
  private async storeColumns(
    conn: DuckDBConnection,
    t: TableStorage,
    plan: LoadPlan,
    pending: Map<string, TableLayout>,
    deferred?: string[],
  ): Promise<void> {
    const names = writtenColumns(plan).map((j) => (plan.table.columns[j] as StorageColumn).name);
    await this.storeColumnsByName(conn, t, names, pending, deferred);
  }

  /**
   * Adds the columns a lazy table lacks (ALTER TABLE, their metadata, the view again), in the caller's transaction
   * on the write connection; the new layout goes to `pending` until the transaction commits. The statements go to
   * DuckDB in one call (or into `deferred`, for the caller's next call): each call is a round trip through the
   * event loop, which under ingestion load waits for the scan of a body (measured: a first load's 27 ALTERs, one
   * call each, took 5 s).
   */
  private async storeColumnsByName(
    conn: DuckDBConnection,
    t: TableStorage,
    names: readonly string[],
    pending: Map<string, TableLayout>,
    deferred?: string[],
  ): Promise<TableLayout> {
    const layout = this.layoutOf(t, pending);
    const wanted = new Set(names);
    const missing = t.columns.filter((c) => wanted.has(c.name) && !layout.stored.has(c.name));
    if (missing.length === 0) return layout;
    const next = lazyLayout(t, [...layout.stored, ...missing.map((c) => c.name)]);
    const statements = [
      ...missing.map((c) => `ALTER TABLE ${layout.physical} ADD COLUMN ${columnDdl(c)}`),
      `INSERT INTO vigil_meta.stored_columns VALUES ${missing.map((c) => `(${str(t.name)}, ${str(c.name)})`).join(', ')}`,
      lazyViewSql(t, next),
    ];
    if (deferred) deferred.push(...statements);
    else await conn.run(statements.join(';\n'));
    pending.set(t.name, next);
    return next;
  }

  /** The Defender streaming envelopes: `{"records":[...]}` (Event Hubs) or one record per line (blob). */
  private async detectEnvelope(conn: DuckDBConnection, path: string): Promise<'records' | 'properties' | undefined> {
    const keys = await this.sampleKeys(conn, path, undefined);
    if (keys.length === 1 && keys[0] === 'records') return 'records';
    if (keys.includes('properties') && keys.includes('category')) {
      const r = await conn.runAndReadAll(
        `SELECT count(*) FILTER (WHERE NOT starts_with(coalesce(json_extract_string(__j, '$.category'), ''), 'AdvancedHunting-')) ` +
          `FROM (SELECT json AS __j FROM read_json_objects(${str(path)}, format = 'auto') LIMIT ${SAMPLE_RECORDS})`,
      );
      if (Number(r.getRowsJS()[0]?.[0]) === 0) return 'properties';
    }
    return undefined;
  }

  private async sampleKeys(
    conn: DuckDBConnection,
    path: string,
    envelope: 'records' | 'properties' | undefined,
  ): Promise<string[]> {
    const r = await conn.runAndReadAll(sampleKeysSql(path, envelope, SAMPLE_RECORDS));
    const seen = new Set<string>();
    for (const [keys] of r.getRowsJS() as [string[]][]) for (const k of keys) seen.add(k);
    return [...seen];
  }

  private async describeRejects(conn: DuckDBConnection, plan: LoadPlan, limit: number): Promise<RejectedRow[]> {
    if (limit <= 0) return [];
    const { sql, rawColumns } = rejectsSql(plan, limit);
    const rows = (await conn.runAndReadAll(sql)).getRowsJS() as unknown[][];
    return rows.map((row) => {
      const failed = String(row[1]).split(',').map(Number);
      return {
        row: Number(row[0]),
        columns: failed.map((j) => {
          const c = plan.table.columns[j] as StorageColumn;
          const raw = row[2 + rawColumns.indexOf(j)];
          return { column: c.name, value: String(raw ?? '').slice(0, 200), expected: c.type };
        }),
      };
    });
  }

  // ---------------------------------------------------------------------------------------------- receipts

  async receipts(keys: readonly string[]): Promise<ReadonlyMap<string, string>> {
    this.assertOpen();
    const out = new Map<string, string>();
    if (keys.length === 0) return out;
    const conn = await this.pool.acquire();
    try {
      const rows = (
        await conn.runAndReadAll(
          `SELECT key, value FROM vigil_meta.receipts WHERE key IN (${[...new Set(keys)].map(str).join(', ')})`,
        )
      ).getRowsJS() as [string, string][];
      for (const [k, v] of rows) out.set(k, v);
      return out;
    } finally {
      this.pool.release(conn);
    }
  }

  async checkpoint(): Promise<boolean> {
    this.assertOpen();
    return this.writer.run(() =>
      this.writeConn.run('CHECKPOINT').then(
        () => true,
        () => false,
      ),
    );
  }

  async purgeReceipts(before: Date): Promise<number> {
    this.assertOpen();
    return this.writer.run(
      async () =>
        (await this.writeConn.run(`DELETE FROM vigil_meta.receipts WHERE created < ${timestampLiteral(before)}`))
          .rowsChanged,
    );
  }

  async deleteIngestedBefore(table: string, before: Date): Promise<number> {
    this.assertOpen();
    const t = this.storage(table);
    if (!t) return 0;
    return this.writer.run(() =>
      this.withTables(
        [table],
        async () =>
          (
            await this.writeConn.run(
              `DELETE FROM ${this.layoutOf(t, new Map()).physical} WHERE ${ident(t.hidden.ingestionTime)} < ${timestampLiteral(before)}`,
            )
          ).rowsChanged,
      ),
    );
  }

  async loadHistory(from: Date, to: Date): Promise<HourlyLoads[]> {
    this.assertOpen();
    const conn = await this.pool.acquire();
    try {
      const rows = (
        await conn.runAndReadAll(
          `SELECT table_name, strftime(date_trunc('hour', ingestion_time), '%Y-%m-%dT%H:00:00Z') AS h, ` +
            'sum(rows_loaded)::BIGINT, sum(bytes)::BIGINT, count(*)::BIGINT FROM vigil_meta.loads ' +
            `WHERE ingestion_time >= ${timestampLiteral(from)} AND ingestion_time < ${timestampLiteral(to)} ` +
            'GROUP BY ALL ORDER BY h, table_name',
        )
      ).getRowsJS() as [string, string, bigint, bigint, bigint][];
      return rows.map(([table, hour, r, b, n]) => ({
        table,
        hour,
        rows: Number(r),
        bytes: Number(b),
        loads: Number(n),
      }));
    } finally {
      this.pool.release(conn);
    }
  }

  // ---------------------------------------------------------------------------------------------- queries

  query(sql: string, options: ExecuteOptions = {}): Promise<ResultSet> {
    const run = this.runQuery(sql, options);
    // close() waits for queries in flight before it closes their connections.
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
    return run;
  }

  private async runQuery(sql: string, options: ExecuteOptions): Promise<ResultSet> {
    this.assertOpen();
    const queryId = options.queryId ?? randomUUID();
    if (this.running.has(queryId)) throw new EngineError('refused', `a query with id ${queryId} is already running`);
    const timeoutMs = options.timeoutMs ?? DEFAULT_LIMITS.timeoutMs;
    const maxRows = options.maxRows ?? DEFAULT_LIMITS.maxRows;
    const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxBytes;
    const conn = await this.pool.acquire(options.signal);
    const state: Running = { conn };
    this.running.set(queryId, state);
    const stop = (reason: 'timeout' | 'cancelled') => {
      if (state.reason) return;
      state.reason = reason;
      conn.interrupt();
    };
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onAbort = () => stop('cancelled');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const file = join(this.spool, 'results', `${randomUUID()}.jsonl`);
    const check = () => {
      if (state.reason === 'timeout') throw new EngineError('timeout', `query exceeded its timeout of ${timeoutMs} ms`);
      if (state.reason === 'cancelled') throw new EngineError('cancelled', 'query cancelled');
    };
    try {
      const columns = await this.describe(conn, sql, options.columns);
      check();
      const started = performance.now();
      const body = sql.trim().replace(/;+\s*$/, '');
      const alias = columns.map((_, i) => `c${i}`).join(', ');
      const row = encodeRowSql(columns.map((c, i) => ({ type: c.type, kind: c.kind, sql: `__q.c${i}` })));
      // The newline after the embedded SQL ends any trailing line comment in it.
      const encoded = `SELECT ${row} AS __l FROM (\n${body}\n) AS __q${alias ? `(${alias})` : ''} LIMIT ${maxRows + 1}`;
      const copy = (select: string) =>
        `COPY (${select}) TO ${str(file)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\t')`;
      // Fast path: DuckDB writes up to maxRows + 1 rows; the byte limit is applied to the file afterwards. A
      // watchdog stops a result that outgrows the byte limit, which is then recomputed with an exact (slower)
      // running-sum cut, so the spool never holds much more than maxBytes.
      const ceiling = maxBytes + maxRows + 1 + this.resultSlackBytes;
      // A stat() still in flight when the first run ends must not interrupt the capped re-run (a loaded machine
      // makes that race real): the watchdog acts only while `watching`.
      let watching = true;
      const watchdog = setInterval(() => {
        stat(file).then(
          (st) => {
            if (watching && st.size > ceiling && !state.reason) {
              state.reason = 'oversize';
              conn.interrupt();
            }
          },
          () => undefined,
        );
      }, 50);
      let written: number;
      try {
        written = (await conn.run(copy(encoded))).rowsChanged;
      } catch (e) {
        if (state.reason !== 'oversize') throw e;
        written = -1;
      } finally {
        watching = false;
        clearInterval(watchdog);
        if (state.reason === 'oversize') state.reason = undefined;
      }
      check();
      if (written < 0) {
        const capped =
          `SELECT __l FROM (SELECT __l, sum(strlen(__l)) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) ` +
          `AS __cum FROM (${encoded})) WHERE __cum - strlen(__l) <= ${maxBytes}`;
        written = (await conn.run(copy(capped))).rowsChanged;
        check();
      }
      const engineMs = performance.now() - started;
      const result = await openResultFile({
        queryId,
        file,
        columns: columns.map(({ name, type }) => ({ name, type })),
        engineMs,
        rowsWritten: written,
        maxRows,
        maxBytes,
        onClose: () => this.openResults.delete(result),
      });
      this.openResults.add(result);
      return result;
    } catch (e) {
      await rm(file, { force: true });
      check();
      if (e instanceof EngineError) throw e;
      throw new EngineError('sql', engineMessage(e), { cause: e });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      this.running.delete(queryId);
      this.pool.release(conn);
    }
  }

  /** Checks that `sql` is exactly one SELECT and returns its result columns in KQL terms. */
  private async describe(
    conn: DuckDBConnection,
    sql: string,
    expected: ExecuteOptions['columns'],
  ): Promise<(ResultColumn & { kind: DuckKind })[]> {
    if (!this.verdicts.has(sql)) {
      // json_serialize_sql needs a constant argument: the SQL travels as an escaped literal. It parses the whole
      // text (every statement) and serializes SELECTs only, so it also counts the statements.
      const tree = await conn.runAndReadAll(`SELECT CAST(json_serialize_sql(${str(sql)}) AS VARCHAR)`);
      const storageNames = new Set(this.tables().map((t) => t.storageName.toLowerCase()));
      const verdict = checkParseTree(String(tree.getRowsJS()[0]?.[0]), (name) => storageNames.has(name.toLowerCase()));
      if (verdict.statements !== 1) {
        throw new EngineError('refused', `expected one SELECT statement, got ${verdict.statements} statements`);
      }
      if (!verdict.consultedTables) this.verdicts.remember(sql);
    }
    // One statement (checked above): prepared from the text directly, without a separate statement split.
    const prepared = await conn.prepare(sql);
    try {
      if (prepared.statementType !== StatementType.SELECT) {
        throw new EngineError(
          'refused',
          `only SELECT statements run as queries, not ${StatementType[prepared.statementType]}`,
        );
      }
      const out: (ResultColumn & { kind: DuckKind })[] = [];
      for (let i = 0; i < prepared.columnCount; i++) {
        const type = prepared.columnType(i);
        const kind = duckKind(prepared.columnTypeId(i), type.alias);
        const want = expected?.[i];
        const kql: ScalarTypeName = want && want.type !== 'unknown' ? want.type : kqlTypeOfKind(kind);
        out.push({ name: want?.name ?? prepared.columnName(i), type: kql, kind });
      }
      if (expected && expected.length !== out.length) {
        throw new EngineError('sql', `the SQL returns ${out.length} columns, the compiler expected ${expected.length}`);
      }
      return out;
    } finally {
      prepared.destroySync();
    }
  }

  /**
   * Diagnostics and benchmarks only: runs a (guarded) SELECT to completion inside DuckDB, its result held in
   * DuckDB's memory and never converted or delivered. What "engine time" means in bench/engine-delivery.
   */
  async runWithoutDelivery(sql: string): Promise<{ rows: number; ms: number }> {
    this.assertOpen();
    const conn = await this.pool.acquire();
    try {
      await this.describe(conn, sql, undefined);
      const started = performance.now();
      const result = await conn.run(sql);
      return { rows: result.rowCount, ms: performance.now() - started };
    } catch (e) {
      if (e instanceof EngineError) throw e;
      throw new EngineError('sql', engineMessage(e), { cause: e });
    } finally {
      this.pool.release(conn);
    }
  }

  async execute(sql: string, options: ExecuteOptions = {}): Promise<QueryResult> {
    const result = await this.query(sql, options);
    try {
      return {
        queryId: result.queryId,
        columns: result.columns,
        rows: await result.rows(),
        truncated: result.truncated,
        engineMs: result.engineMs,
      };
    } finally {
      await result.close();
    }
  }

  cancel(queryId: string): boolean {
    const state = this.running.get(queryId);
    if (!state) return false;
    if (!state.reason) {
      state.reason = 'cancelled';
      state.conn.interrupt();
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------------- stats

  async stats(): Promise<TableStats[]> {
    this.assertOpen();
    const conn = await this.pool.acquire();
    try {
      const blockSize = Number(
        (await conn.runAndReadAll('SELECT block_size FROM pragma_database_size()')).getRowsJS()[0]?.[0] ?? 262144,
      );
      const loads = new Map(
        (
          (
            await conn.runAndReadAll(
              'SELECT table_name, sum(bytes), max(ingestion_time)::VARCHAR FROM vigil_meta.loads GROUP BY table_name',
            )
          ).getRowsJS() as [string, bigint, string][]
        ).map(([t, b, last]) => [t, { bytes: Number(b), last }]),
      );
      const out: TableStats[] = [];
      for (const t of this.tables()) {
        const q = ident(t.storageName);
        const rows = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${q}`)).getRowsJS()[0]?.[0]);
        const blocks = Number(
          (
            await conn.runAndReadAll(
              `SELECT count(DISTINCT block_id) FROM pragma_storage_info(${str(this.layoutOf(t, new Map()).physical)}) WHERE block_id >= 0`,
            )
          ).getRowsJS()[0]?.[0],
        );
        const load = loads.get(t.name);
        out.push({
          table: t.name,
          rows,
          ingestedBytes: load?.bytes ?? 0,
          storageBytes: blocks * blockSize,
          lastIngestion: load?.last ? `${load.last.replace(' ', 'T')}Z` : null,
        });
      }
      return out;
    } finally {
      this.pool.release(conn);
    }
  }

  // ---------------------------------------------------------------------------------------------- lifecycle

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pool.stopAccepting();
    for (const id of [...this.running.keys()]) this.cancel(id);
    await Promise.all(this.inflight);
    await this.writer.run(async () => undefined);
    await this.priorityWriter.run(async () => undefined);
    for (const r of [...this.openResults]) await r.close();
    this.pool.close();
    this.writeConn.closeSync();
    this.priorityConn.closeSync();
    this.instance.closeSync();
    await rm(join(this.spool, 'results'), { recursive: true, force: true });
    await rm(join(this.spool, 'load'), { recursive: true, force: true });
  }

  private assertOpen(): void {
    if (this.closed) throw new EngineError('closed', 'the engine is closed');
  }

  /** Files currently in the spool (tests use it to check that nothing is left behind). */
  async spoolFiles(): Promise<string[]> {
    const out: string[] = [];
    for (const sub of ['load', 'results']) {
      const names = await readdir(join(this.spool, sub)).catch(() => [] as string[]);
      out.push(...names.map((n) => join(sub, n)));
    }
    return out;
  }
}

/** The scratch table a transform's input is loaded into (a temporary table of the write connection). */
function scratchStorage(def: TableDefinition): TableStorage {
  const names = new StorageNamespace(Object.values(HIDDEN_COLUMNS));
  const variantOf = new Map<string, string>();
  for (const [a, b] of def.caseVariants ?? []) variantOf.set(b, a);
  return makeStorage(
    def.name,
    '__vigil_input',
    def.columns.map((c) =>
      storageColumn(c.name, c.type as ScalarTypeName, names.assign(c.name), variantOf.get(c.name)),
    ),
  );
}

function scratchDdl(t: TableStorage): string {
  const ddl = [
    ...t.columns.map((c) => columnDdl(c)),
    `${ident(HIDDEN_COLUMNS.ingestionTime)} TIMESTAMP`,
    `${ident(HIDDEN_COLUMNS.batchId)} BIGINT`,
  ];
  return `CREATE TEMP TABLE ${ident(t.storageName)} (${ddl.join(', ')})`;
}

function partReports(
  parts: readonly LoadPart[],
  rejects: ReadonlyMap<number, { count: number; rows: RejectedRow[] }> | undefined,
): PartReport[] {
  return parts.map((p, i) => {
    const r = rejects?.get(i);
    const rowsRejected = r?.count ?? 0;
    return { records: p.records, rowsLoaded: p.records - rowsRejected, rowsRejected, rejected: r?.rows ?? [] };
  });
}

function columnDdl(c: StorageColumn): string {
  // Strings are never null in KQL: a column added later must read '' in existing rows, not NULL.
  return `${ident(c.storageName)} ${c.storageType}${c.type === 'string' ? " DEFAULT ''" : ''}`;
}

async function insertColumnMeta(
  conn: DuckDBConnection,
  table: string,
  columns: readonly StorageColumn[],
  firstOrdinal: number,
): Promise<void> {
  if (columns.length === 0) return;
  const values = columns.map(
    (c, i) =>
      `(${str(table)}, ${firstOrdinal + i}, ${str(c.name)}, ${str(c.type)}, ${str(c.storageName)}, ${
        c.variantOf ? str(c.variantOf) : 'NULL'
      })`,
  );
  await conn.run(`INSERT INTO vigil_meta.columns VALUES ${values.join(', ')}`);
}

function validateDefinition(def: TableDefinition): void {
  if (!def.name) throw new EngineError('schema', 'a table needs a name');
  const seen = new Set<string>();
  for (const c of def.columns) {
    if (!c.name) throw new EngineError('schema', `${def.name}: a column needs a name`);
    if (seen.has(c.name)) throw new EngineError('schema', `${def.name}: column ${c.name} is declared twice`);
    if (!KQL_TYPES.has(c.type)) throw new EngineError('schema', `${def.name}.${c.name}: unknown type ${c.type}`);
    seen.add(c.name);
  }
  for (const [a, b] of def.caseVariants ?? []) {
    if (!seen.has(a) || !seen.has(b) || a.toLowerCase() !== b.toLowerCase() || a === b) {
      throw new EngineError('schema', `${def.name}: case variants ${a}/${b} must be two declared columns`);
    }
  }
}

/** Records per byte in the head of a line-per-record file (CSV, NDJSON), for progress estimates; else undefined. */
function lineDensity(head: string, format: 'json' | 'csv'): number | undefined {
  const text = head.replace(/^\uFEFF/, '').trimStart();
  if (format === 'json' && !/^\{[^\n]*\}\s*\n\s*\{/.test(text.slice(0, 1 << 16))) return undefined;
  const lines = text.split('\n').length - (format === 'csv' ? 2 : 1);
  return lines > 0 ? lines / Buffer.byteLength(text) : undefined;
}

function hasCaseCollision(keys: readonly string[]): boolean {
  const lower = new Set<string>();
  for (const k of keys) {
    const l = k.toLowerCase();
    if (lower.has(l)) return true;
    lower.add(l);
  }
  return false;
}
