/**
 * The ClickHouse engine: the same Engine contract as DuckDB, over a Transport (chdb in process, or HTTP).
 *
 * - Tables: MergeTree ordered by the table's time column (`TimeGenerated`, else `Timestamp`, else the ingestion
 *   time), partitioned by day, with a TTL on the ingestion time when a retention is set. Storage types are the
 *   ClickHouse dialect's (Nullable everywhere but strings; datetime DateTime64(7), timespan Int64 ticks, dynamic
 *   JSON text). The KQL → storage name map is kept in `vigil_meta_*` tables, as DuckDB keeps it in `vigil_meta`.
 * - Loads: the file is read and each value coerced in JS (rows that do not fit are rejected with the reason, as on
 *   DuckDB), then inserted in batches as JSONEachRow.
 * - Queries: guarded (guard.ts), wrapped with Kusto's row limit, run with `readonly = 1` and per-query limits
 *   (`max_execution_time`, `max_memory_usage`), decoded to Kusto's wire values and spooled to a result file.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, realpath, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ScalarTypeName } from '@vigil/kql';
import { clickhouse } from '@vigil/kql';
import type {
  Engine,
  ExecuteOptions,
  LoadFormat,
  LoadOptions,
  LoadReport,
  PartReport,
  QueryResult,
  RejectedRow,
  ResultColumn,
  ResultSet,
  StorageColumn,
  TableDefinition,
  TableStats,
  TableStorage,
} from '../engine.js';
import { DEAD_LETTER_TABLE, DEFAULT_LIMITS } from '../engine.js';
import { EngineError } from '../errors.js';
import { mapSourceFields } from '../load/mapping.js';
import { openResultFile } from '../result-file.js';
import { HIDDEN_COLUMNS, StorageNamespace } from '../storage-names.js';
import { formatTimespan, parseTimespan } from '../values.js';
import { checkAst, singleStatement } from './guard.js';
import { ChdbTransport, HttpTransport, type Transport } from './transport.js';

export interface ClickHouseEngineOptions {
  /** In process: the folder of the embedded database (chdb). */
  readonly path?: string;
  /** Over HTTP: the server's URL, e.g. `http://user:pass@host:8123/vigil`. */
  readonly url?: string;
  /** Result spool folder. */
  readonly spoolDir: string;
  /** Rows older than this (by ingestion time) are dropped by ClickHouse's TTL. */
  readonly retentionDays?: number;
  /** Per-query memory limit in bytes (`max_memory_usage`); default 4 GiB. */
  readonly maxMemoryUsage?: number;
  /** Per-query thread count (`max_threads`). */
  readonly threads?: number;
  /** Rows per INSERT when loading. */
  readonly insertBatchRows?: number;
}

type MetaNames = Readonly<Record<'info' | 'tables' | 'columns' | 'loads' | 'receipts', string>>;

function metaNames(prefix: string): MetaNames {
  return {
    info: `${prefix}vigil_meta_info`,
    tables: `${prefix}vigil_meta_tables`,
    columns: `${prefix}vigil_meta_columns`,
    loads: `${prefix}vigil_meta_loads`,
    receipts: `${prefix}vigil_meta_receipts`,
  };
}

const metaDdl = (META: MetaNames) => [
  `CREATE TABLE IF NOT EXISTS ${META.info} (key String, value String) ENGINE = ReplacingMergeTree ORDER BY key`,
  `CREATE TABLE IF NOT EXISTS ${META.tables} (name String, storage_name String, created DateTime64(7, 'UTC')) ENGINE = MergeTree ORDER BY name`,
  `CREATE TABLE IF NOT EXISTS ${META.columns} (table_name String, ordinal Int32, name String, type String, storage_name String, variant_of String) ENGINE = MergeTree ORDER BY (table_name, ordinal)`,
  `CREATE TABLE IF NOT EXISTS ${META.loads} (batch_id Int64, table_name String, file String, bytes Int64, rows Int64, ingestion_time DateTime64(7, 'UTC')) ENGINE = MergeTree ORDER BY batch_id`,
  `CREATE TABLE IF NOT EXISTS ${META.receipts} (key String, value String, created DateTime64(7, 'UTC')) ENGINE = ReplacingMergeTree ORDER BY key`,
];

/** Settings every query runs with: standard-SQL outer joins, exact 64-bit numbers and decimals in JSON. */
const QUERY_SETTINGS = {
  join_use_nulls: 1,
  output_format_json_quote_64bit_integers: 1,
  output_format_json_quote_decimals: 1,
  output_format_json_quote_denormals: 1,
  output_format_json_named_tuples_as_objects: 0,
  allow_experimental_correlated_subqueries: 1,
  // KQL names a result column after an input column freely (`summarize v = count(v)`): a SELECT alias must not
  // shadow the input column of the same name, as it would by default in ClickHouse.
  prefer_column_name_to_alias: 1,
  // geoToH3(lat, lng, res): the order the geo templates write (the default since 25.x; older servers read lng first).
  geotoh3_argument_order: 'lat_lon',
  output_format_json_escape_forward_slashes: 0,
  // CAST(NULL AS BIGINT) in generated SQL means a nullable Int64, as in standard SQL.
  cast_keep_nullable: 1,
  // Wide unions and long `in` lists make big trees.
  max_ast_elements: 2000000,
  max_expanded_ast_elements: 2000000,
  // Graph operators compile to wide plans (one relation per hop and pattern), beyond the default 10,000 plan rewrites.
  query_plan_max_optimizations_to_apply: 100000,
  // toStartOfWeek/Month/Year/Day of a DateTime64 before 1970 (startofweek(datetime(1950-06-15))): Date32/DateTime64
  // results instead of Date/DateTime clamped to 1970.
  enable_extended_results_for_datetime_functions: 1,
} as const;

const ident = (name: string) => clickhouse.quoteIdentifier(name);
const str = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function storageType(type: ScalarTypeName): string {
  return clickhouse.types[type];
}

function kqlTypeOf(chType: string): ScalarTypeName {
  // The dialect stores dynamic values as Nullable(String) JSON text; KQL strings are never null (String).
  if (chType === 'Nullable(String)') return 'dynamic';
  const t = chType.replace(/^Nullable\((.*)\)$/, '$1').replace(/^LowCardinality\((.*)\)$/, '$1');
  if (t === 'Bool') return 'bool';
  if (/^U?Int(8|16|32)$/.test(t)) return 'int';
  if (/^U?Int(64|128|256)$/.test(t)) return 'long';
  if (/^Float/.test(t)) return 'real';
  if (/^Decimal/.test(t)) return 'decimal';
  if (/^DateTime/.test(t) || t === 'Date' || t === 'Date32') return 'datetime';
  if (t === 'UUID') return 'guid';
  if (t === 'String' || /^FixedString/.test(t)) return 'string';
  return 'dynamic';
}

/** One value of the ClickHouse JSON output as Kusto wire JSON text. */
function wireText(type: ScalarTypeName, v: unknown): string {
  if (v === null || v === undefined) return type === 'string' ? '""' : 'null';
  switch (type) {
    case 'bool':
      return v === true || v === 1 || v === '1' || v === 'true' ? 'true' : 'false';
    case 'int':
    case 'long':
      return typeof v === 'string' ? (/^-?\d+$/.test(v) ? v : 'null') : JSON.stringify(v);
    case 'real': {
      if (v === 'nan' || v === '-nan') return '"NaN"';
      if (v === 'inf' || v === '+inf') return '"Infinity"';
      if (v === '-inf') return '"-Infinity"';
      const n = typeof v === 'number' ? v : Number(v);
      return Object.is(n, -0) ? '-0' : JSON.stringify(n);
    }
    case 'decimal': {
      const s = String(v);
      return JSON.stringify(s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
    }
    case 'datetime': {
      const s = String(v);
      const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?/.exec(s);
      if (!m) return 'null';
      return JSON.stringify(`${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(7, '0').slice(0, 7)}Z`);
    }
    case 'timespan':
      return /^-?\d+$/.test(String(v)) ? JSON.stringify(formatTimespan(BigInt(String(v)))) : 'null';
    case 'guid':
      return JSON.stringify(String(v));
    case 'dynamic': {
      if (typeof v !== 'string') return JSON.stringify(v);
      try {
        return JSON.stringify(JSON.parse(v));
      } catch {
        return JSON.stringify(v);
      }
    }
    default:
      return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v);
  }
}

/** Coerces a source value to a column's storage value (JSONEachRow); `undefined` when it does not fit. */
function coerce(type: ScalarTypeName, v: unknown): unknown {
  if (v === null || v === undefined) return type === 'string' ? '' : null;
  switch (type) {
    case 'string':
      return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'dynamic': {
      // Text holding a JSON array or object (CSV cells, stringified fields) is that value, as DuckDB's loader reads it.
      if (typeof v === 'string' && /^\s*[[{]/.test(v)) {
        try {
          return JSON.stringify(JSON.parse(v));
        } catch {
          return JSON.stringify(v);
        }
      }
      return JSON.stringify(v);
    }
    case 'bool': {
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number') return v !== 0;
      const s = String(v).trim().toLowerCase();
      if (s === '') return null;
      if (s === 'true' || s === '1') return true;
      if (s === 'false' || s === '0') return false;
      return undefined;
    }
    case 'int':
    case 'long': {
      const bits = type === 'int' ? 31n : 63n;
      const fits = (x: bigint) => x >= -(1n << bits) && x < 1n << bits;
      let text: string;
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) return undefined;
        text = BigInt(Math.trunc(v)).toString();
      } else {
        const s = String(v).trim();
        if (s === '') return null;
        if (/^[-+]?\d+$/.test(s)) text = s.replace(/^\+/, '');
        else {
          const n = Number(s);
          if (!Number.isFinite(n)) return undefined;
          text = BigInt(Math.trunc(n)).toString();
        }
      }
      return fits(BigInt(text)) ? text : undefined;
    }
    case 'real': {
      // NaN, ±Infinity and -0 travel as text (JSON numbers cannot hold them); ClickHouse parses quoted floats.
      const n = typeof v === 'number' ? v : String(v).trim() === '' ? null : Number(String(v).trim());
      if (n === null) return null;
      if (Number.isNaN(n)) return /^nan$/i.test(String(v).trim()) ? 'nan' : undefined;
      if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
      return Object.is(n, -0) ? '-0' : n;
    }
    case 'decimal': {
      const s = String(v).trim();
      if (s === '') return null;
      return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s) ? s : undefined;
    }
    case 'datetime': {
      const s = String(v).trim();
      if (s === '') return null;
      const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
      if (m) {
        const base = `${m[1]}T${m[2] ?? '00:00:00'}${(m[2] ?? '').length === 5 ? ':00' : ''}`;
        const ms = Date.parse(`${base}${m[4] ?? 'Z'}`);
        if (Number.isNaN(ms)) return undefined;
        const frac = (m[3] ?? '.').slice(1).padEnd(7, '0').slice(0, 7);
        const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString();
        return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac}`;
      }
      // Log Analytics portal exports and spreadsheets: 4/19/2021, 12:13:19.483 PM (a "PM" after a 24-hour time too).
      const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(\.\d+)?\s*([AP]M)?$/i.exec(s);
      if (us) {
        let h = Number(us[4]);
        const pm = us[8]?.toUpperCase() === 'PM';
        if (us[8] && h <= 12) h = pm ? (h % 12) + 12 : h % 12;
        const p2 = (x: string | number) => String(x).padStart(2, '0');
        const frac = (us[7] ?? '.').slice(1).padEnd(7, '0').slice(0, 7);
        return `${us[3]}-${p2(us[1] as string)}-${p2(us[2] as string)} ${p2(h)}:${us[5]}:${p2(us[6] ?? '00')}.${frac}`;
      }
      const ms = Date.parse(s);
      if (Number.isNaN(ms)) return undefined;
      const iso = new Date(ms).toISOString();
      return `${iso.slice(0, 10)} ${iso.slice(11, 23)}0000`;
    }
    case 'timespan': {
      if (typeof v === 'number') return Math.trunc(v);
      const t = parseTimespan(String(v));
      return t === null ? (String(v).trim() === '' ? null : undefined) : t.toString();
    }
    case 'guid': {
      const s = String(v).trim();
      if (s === '') return null;
      return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s) ? s : undefined;
    }
    default:
      return undefined;
  }
}

/** A tiny CSV reader (RFC 4180 quotes) for loads. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(f: () => Promise<T>): Promise<T> {
    const next = this.tail.then(f, f);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export class ClickHouseEngine implements Engine {
  readonly dialect = 'clickhouse' as const;
  private readonly tableMap = new Map<string, TableStorage>();
  private readonly tableNames: StorageNamespace;
  private readonly running = new Map<string, AbortController & { reason2?: 'timeout' | 'cancelled' }>();
  private readonly openResults = new Set<ResultSet>();
  private readonly inflight = new Set<Promise<void>>();
  /** Statement texts the guard accepted (bounded). */
  private readonly accepted = new Set<string>();
  private readonly writer = new Mutex();
  private closed = false;
  private nextBatchId = 1;

  private constructor(
    readonly workspaceId: string,
    private readonly transport: Transport,
    private readonly spool: string,
    private readonly options: ClickHouseEngineOptions,
    /** Prefix of this workspace's table names (in process, workspaces share one database). */
    private readonly prefix: string,
    private readonly META: MetaNames,
  ) {
    this.tableNames = new StorageNamespace(Object.values(META));
  }

  static async open(options: ClickHouseEngineOptions): Promise<ClickHouseEngine> {
    await mkdir(join(options.spoolDir, 'results'), { recursive: true });
    // Loads are read from the caller's file: nothing is staged, but the folder exists as on every engine.
    await mkdir(join(options.spoolDir, 'load'), { recursive: true });
    let transport: Transport;
    let prefix = '';
    try {
      if (options.url) transport = new HttpTransport({ url: options.url });
      else if (options.path) {
        await mkdir(options.path, { recursive: true });
        const real = await realpath(options.path);
        const chdb = ChdbTransport.open(real);
        transport = chdb;
        // chdb has one data directory per process: a workspace opened while another one owns it keeps its tables
        // there under a prefix of its own (development and tests; a server holds any number of workspaces).
        if (!chdb.primary) prefix = `w${createHash('sha256').update(real).digest('hex').slice(0, 10)}_`;
      } else throw new Error('a ClickHouse engine needs a path (in process) or a url (server)');
      for (const ddl of metaDdl(metaNames(prefix))) await transport.command(ddl);
    } catch (e) {
      throw new EngineError('workspace', `cannot open ClickHouse: ${(e as Error).message}`, { cause: e });
    }
    const META = metaNames(prefix);
    const read = async (sql: string) => rowsOf(await transport.query(sql, 'JSONCompactEachRow'));
    let id = String((await read(`SELECT value FROM ${META.info} FINAL WHERE key = 'workspace_id'`))[0]?.[0] ?? '');
    if (!id) {
      id = randomUUID();
      await transport.command(`INSERT INTO ${META.info} VALUES ('workspace_id', ${str(id)})`);
    }
    const engine = new ClickHouseEngine(id, transport, options.spoolDir, options, prefix, META);
    const tables = await read(`SELECT name, storage_name FROM ${META.tables} ORDER BY created`);
    const columns = await read(
      `SELECT table_name, name, type, storage_name, variant_of FROM ${META.columns} ORDER BY table_name, ordinal`,
    );
    for (const [name, storageName] of tables as [string, string][]) {
      const cols = (columns as string[][])
        .filter((c) => c[0] === name)
        .map(([, n, t, s, v]) => makeColumn(n as string, t as ScalarTypeName, s as string, v || undefined));
      engine.tableMap.set(name, makeStorage(name, storageName, cols));
      engine.tableNames.reserve(storageName);
    }
    const maxBatch = (await read(`SELECT max(batch_id) FROM ${META.loads}`))[0]?.[0];
    engine.nextBatchId = Number(maxBatch ?? 0) + 1;
    return engine;
  }

  storage(tableName: string): TableStorage | undefined {
    return this.tableMap.get(tableName);
  }

  tables(): readonly TableStorage[] {
    return [...this.tableMap.values()];
  }

  async ensureTable(def: TableDefinition): Promise<TableStorage> {
    this.assertOpen();
    if (!def.name || def.columns.length === 0) throw new EngineError('schema', 'a table needs a name and columns');
    const seen = new Set<string>();
    for (const c of def.columns) {
      if (seen.has(c.name)) throw new EngineError('schema', `${def.name} declares the column ${c.name} twice`);
      seen.add(c.name);
      if (!(c.type in clickhouse.types))
        throw new EngineError('schema', `${def.name}.${c.name} has no storable type (${c.type})`);
    }
    return this.writer.run(async () => {
      const existing = this.tableMap.get(def.name);
      const variantOf = new Map<string, string>();
      for (const [a, b] of def.caseVariants ?? []) variantOf.set(b, a);
      if (!existing) {
        const names = new StorageNamespace(Object.values(HIDDEN_COLUMNS));
        const storageName = this.tableNames.assign(`${this.prefix}${def.name}`);
        const columns = def.columns.map((c) =>
          makeColumn(c.name, c.type as ScalarTypeName, names.assign(c.name), variantOf.get(c.name)),
        );
        const timeColumn =
          columns.find((c) => c.name === 'TimeGenerated' && c.type === 'datetime') ??
          columns.find((c) => c.name === 'Timestamp' && c.type === 'datetime');
        const key = timeColumn ? ident(timeColumn.storageName) : ident(HIDDEN_COLUMNS.ingestionTime);
        const ttl = this.options.retentionDays
          ? ` TTL toDateTime(${ident(HIDDEN_COLUMNS.ingestionTime)}) + INTERVAL ${Math.trunc(this.options.retentionDays)} DAY`
          : '';
        const ddl = [
          ...columns.map((c) => `${ident(c.storageName)} ${c.storageType}`),
          `${ident(HIDDEN_COLUMNS.ingestionTime)} DateTime64(7, 'UTC')`,
          `${ident(HIDDEN_COLUMNS.batchId)} Int64`,
        ];
        try {
          await this.transport.command(
            `CREATE TABLE IF NOT EXISTS ${ident(storageName)} (${ddl.join(', ')}) ENGINE = MergeTree ` +
              `PARTITION BY toDate(${key}) ORDER BY ${key}${ttl} SETTINGS allow_nullable_key = 1`,
          );
          await this.transport.command(
            `INSERT INTO ${this.META.tables} VALUES (${str(def.name)}, ${str(storageName)}, now64(7))`,
          );
          await this.insertColumnMeta(def.name, columns, 0);
        } catch (e) {
          throw new EngineError('schema', `cannot create ${def.name}: ${(e as Error).message}`, { cause: e });
        }
        const result = makeStorage(def.name, storageName, columns);
        this.tableMap.set(def.name, result);
        return result;
      }
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
      if (missing.length === 0) return existing;
      const names = new StorageNamespace([
        ...Object.values(HIDDEN_COLUMNS),
        ...existing.columns.map((c) => c.storageName),
      ]);
      const added = missing.map((c) =>
        makeColumn(c.name, c.type as ScalarTypeName, names.assign(c.name), variantOf.get(c.name)),
      );
      await this.transport.command(
        `ALTER TABLE ${ident(existing.storageName)} ${added.map((c) => `ADD COLUMN ${ident(c.storageName)} ${c.storageType}`).join(', ')}`,
      );
      await this.insertColumnMeta(def.name, added, existing.columns.length);
      const result = makeStorage(def.name, existing.storageName, [...existing.columns, ...added]);
      this.tableMap.set(def.name, result);
      return result;
    });
  }

  private async insertColumnMeta(table: string, columns: readonly StorageColumn[], first: number): Promise<void> {
    const values = columns.map(
      (c, i) =>
        `(${str(table)}, ${first + i}, ${str(c.name)}, ${str(c.type)}, ${str(c.storageName)}, ${str(c.variantOf ?? '')})`,
    );
    await this.transport.command(`INSERT INTO ${this.META.columns} VALUES ${values.join(', ')}`);
  }

  // ---------------------------------------------------------------------------------------------- loading

  async loadFile(table: string, file: string, options: LoadOptions = {}): Promise<LoadReport> {
    this.assertOpen();
    const target = this.tableMap.get(table);
    if (!target) throw new EngineError('unknown_table', `the table ${table} does not exist`);
    if (options.transform) throw new EngineError('load', 'load transformations are not available on ClickHouse yet');
    if (options.deadLetter && !this.tableMap.has(DEAD_LETTER_TABLE.name)) await this.ensureTable(DEAD_LETTER_TABLE);
    return this.writer.run(() => this.load(target, file, options));
  }

  private async load(target: TableStorage, file: string, options: LoadOptions): Promise<LoadReport> {
    const started = performance.now();
    let bytes: number;
    try {
      bytes = (await stat(file)).size;
    } catch (e) {
      throw new EngineError('load', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
    }
    const format = await detectFormat(file, options.format);
    let envelope: 'records' | 'properties' | undefined;
    const records: Record<string, unknown>[] = [];
    let fields: string[] = [];
    try {
      if (format === 'csv') {
        const rows = parseCsv(await readText(file));
        fields = rows[0] ?? [];
        for (const r of rows.slice(1)) {
          const o: Record<string, unknown> = {};
          fields.forEach((f, i) => {
            o[f] = r[i] ?? '';
          });
          records.push(o);
        }
      } else {
        const push = (v: unknown) => {
          if (v && typeof v === 'object' && !Array.isArray(v)) {
            const o = v as Record<string, unknown>;
            if (Array.isArray(o.records)) {
              envelope = 'records';
              for (const r of o.records) push(r);
              return;
            }
            if (envelope === 'records' && o.properties && typeof o.properties === 'object') {
              records.push(o.properties as Record<string, unknown>);
              return;
            }
            records.push(o);
          } else records.push({});
        };
        if (format === 'json-array') {
          const v = JSON.parse(await readText(file)) as unknown;
          if (Array.isArray(v)) for (const x of v) push(x);
          else push(v);
        } else {
          const rl = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
          for await (const line of rl) if (line.trim() !== '') push(JSON.parse(line) as unknown);
        }
        const seen = new Set<string>();
        for (const r of records) for (const k of Object.keys(r)) if (!seen.has(k)) seen.add(k);
        fields = [...seen];
      }
    } catch (e) {
      throw new EngineError('load', `cannot parse ${file} as ${format}: ${(e as Error).message}`, { cause: e });
    }
    const mapping = mapSourceFields(fields, target);
    const batchId = this.nextBatchId++;
    const now = new Date();
    const nowText = `${now.toISOString().slice(0, 10)} ${now.toISOString().slice(11, 23)}0000`;
    const maxDetails = options.maxRejectedDetails ?? 20;
    const rejected: RejectedRow[] = [];
    const rejects: { index: number; columns: RejectedRow['columns']; raw: string }[] = [];
    let rowsRejected = 0;
    let loaded = 0;
    const batchRows = this.options.insertBatchRows ?? 50_000;
    let batch: string[] = [];
    const flush = async () => {
      if (!batch.length) return;
      await this.transport.insertJsonEachRow(ident(target.storageName), `${batch.join('\n')}\n`, {
        input_format_skip_unknown_fields: 1,
      });
      batch = [];
    };
    for (let i = 0; i < records.length; i++) {
      const rec = records[i] as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      const bad: { column: string; value: string; expected: ScalarTypeName }[] = [];
      for (const c of target.columns) {
        const source = c.variantOf ?? c.name;
        let raw: unknown;
        if (options.set && source in options.set) raw = options.set[source];
        else {
          const idx = mapping.sources.get(source) ?? mapping.sources.get(c.name);
          for (const k of idx ?? []) {
            const v = rec[fields[k] as string];
            if (v !== undefined && v !== null && v !== '') {
              raw = v;
              break;
            }
            if (raw === undefined) raw = v;
          }
        }
        if (c.name === 'TimeGenerated' && c.type === 'datetime' && (raw === undefined || raw === null || raw === '')) {
          // A record without TimeGenerated takes its Timestamp (Defender records), else the ingestion time.
          const ts = mapping.sources
            .get('Timestamp')
            ?.map((k) => rec[fields[k] as string])
            .find((x) => x != null && x !== '');
          raw = ts ?? `${nowText.replace(' ', 'T')}Z`;
        }
        if (c.name === 'TenantId' && (raw === undefined || raw === '')) raw = this.workspaceId;
        if (c.name === 'Type' && (raw === undefined || raw === '')) raw = target.name;
        const v = coerce(c.type, raw);
        if (v === undefined) {
          bad.push({ column: c.name, value: typeof raw === 'string' ? raw : JSON.stringify(raw), expected: c.type });
          continue;
        }
        out[c.storageName] = v;
      }
      if (bad.length) {
        rowsRejected++;
        if (rejected.length < maxDetails) rejected.push({ row: i + 1, columns: bad });
        rejects.push({ index: i, columns: bad, raw: JSON.stringify(rec) });
        continue;
      }
      out[HIDDEN_COLUMNS.ingestionTime] = nowText;
      out[HIDDEN_COLUMNS.batchId] = batchId;
      batch.push(JSON.stringify(out));
      loaded++;
      if (batch.length >= batchRows) await flush();
    }
    await flush();
    // Parts: consecutive record ranges loaded on behalf of different requests (group commit).
    const parts: PartReport[] = [];
    const partRanges: { first: number; records: number; source: string; requestId: string; clientBatchId: string }[] =
      [];
    let first = 0;
    for (const p of options.parts ?? [{ records: records.length }]) {
      partRanges.push({
        first,
        records: p.records,
        source: 'source' in p && p.source ? p.source : file,
        requestId: 'requestId' in p && p.requestId ? p.requestId : '',
        clientBatchId: 'clientBatchId' in p && p.clientBatchId ? p.clientBatchId : '',
      });
      first += p.records;
    }
    const partOf = (index: number) => partRanges.findIndex((r) => index >= r.first && index < r.first + r.records);
    if (options.parts) {
      for (const r of partRanges) {
        const mine = rejects.filter((x) => x.index >= r.first && x.index < r.first + r.records);
        parts.push({
          records: r.records,
          rowsLoaded: r.records - mine.length,
          rowsRejected: mine.length,
          rejected: mine.slice(0, maxDetails).map((x) => ({ row: x.index - r.first + 1, columns: x.columns })),
        });
      }
    }
    if (options.deadLetter && rejects.length) {
      const dl = this.tableMap.get(DEAD_LETTER_TABLE.name);
      if (!dl) throw new EngineError('load', 'the dead-letter table is missing');
      const col = (name: string) => dl.columns.find((c) => c.name === name)?.storageName ?? name;
      const lines = rejects.map((x) => {
        const part = partRanges[partOf(x.index)];
        const row: Record<string, unknown> = {
          [col('TimeGenerated')]: nowText,
          [col('TargetTable')]: target.name,
          [col('Source')]: part?.source ?? file,
          [col('RequestId')]: part?.requestId ?? '',
          [col('ClientBatchId')]: part?.clientBatchId ?? '',
          [col('RecordIndex')]: x.index - (part?.first ?? 0),
          [col('Reason')]: 'a value does not fit its column type',
          [col('Errors')]: JSON.stringify(x.columns),
          [col('RawRecord')]: x.raw,
          [col('LoadBatchId')]: batchId,
          [col('TenantId')]: this.workspaceId,
          [col('Type')]: DEAD_LETTER_TABLE.name,
          [HIDDEN_COLUMNS.ingestionTime]: nowText,
          [HIDDEN_COLUMNS.batchId]: batchId,
        };
        return JSON.stringify(row);
      });
      await this.transport.insertJsonEachRow(ident(dl.storageName), `${lines.join('\n')}\n`);
    }
    await this.transport.command(
      `INSERT INTO ${this.META.loads} VALUES (${batchId}, ${str(target.name)}, ${str(file)}, ${bytes}, ${loaded}, toDateTime64(${str(nowText)}, 7, 'UTC'))`,
    );
    const report: LoadReport = {
      table: target.name,
      file,
      format,
      ...(envelope ? { envelope } : {}),
      batchId,
      bytes,
      rowsRead: records.length,
      rowsLoaded: loaded,
      rowsRejected,
      rejected,
      ...(options.parts ? { parts } : {}),
      renamed: mapping.renamed,
      ignored: mapping.ignored,
      ingestionTime: `${nowText.replace(' ', 'T')}Z`,
      ms: performance.now() - started,
    };
    const receipts = options.receipts?.(report) ?? [];
    if (receipts.length) {
      await this.transport.command(
        `INSERT INTO ${this.META.receipts} VALUES ${receipts.map((r) => `(${str(r.key)}, ${str(r.value)}, now64(7))`).join(', ')}`,
      );
    }
    return report;
  }

  async receipts(keys: readonly string[]): Promise<ReadonlyMap<string, string>> {
    this.assertOpen();
    if (!keys.length) return new Map();
    const rows = rowsOf(
      await this.transport.query(
        `SELECT key, argMax(value, created) FROM ${this.META.receipts} WHERE key IN (${keys.map(str).join(', ')}) GROUP BY key`,
        'JSONCompactEachRow',
      ),
    );
    return new Map(rows.map((r) => [String(r[0]), String(r[1])]));
  }

  async purgeReceipts(before: Date): Promise<number> {
    this.assertOpen();
    const cond = `created < toDateTime64(${str(before.toISOString().replace('T', ' ').replace('Z', ''))}, 7, 'UTC')`;
    const n = Number(
      rowsOf(
        await this.transport.query(`SELECT count() FROM ${this.META.receipts} WHERE ${cond}`, 'JSONCompactEachRow'),
      )[0]?.[0] ?? 0,
    );
    if (n > 0) await this.transport.command(`DELETE FROM ${this.META.receipts} WHERE ${cond}`);
    return n;
  }

  /** Deletes a table's rows ingested before `before` (lightweight DELETE; the TTL does the same continuously). */
  async deleteIngestedBefore(table: string, before: Date): Promise<number> {
    this.assertOpen();
    const t = this.tableMap.get(table);
    if (!t) return 0;
    const cond = `${ident(HIDDEN_COLUMNS.ingestionTime)} < toDateTime64(${str(before.toISOString().replace('T', ' ').replace('Z', ''))}, 7, 'UTC')`;
    const n = Number(
      rowsOf(
        await this.transport.query(`SELECT count() FROM ${ident(t.storageName)} WHERE ${cond}`, 'JSONCompactEachRow'),
      )[0]?.[0] ?? 0,
    );
    if (n > 0) await this.transport.command(`DELETE FROM ${ident(t.storageName)} WHERE ${cond}`);
    return n;
  }

  /** Rows and bytes loaded per table per hour, for hours starting in [from, to). */
  async loadHistory(
    from: Date,
    to: Date,
  ): Promise<{ table: string; hour: string; rows: number; bytes: number; loads: number }[]> {
    this.assertOpen();
    const t = (d: Date) => `toDateTime64(${str(d.toISOString().replace('T', ' ').replace('Z', ''))}, 7, 'UTC')`;
    const rows = rowsOf(
      await this.transport.query(
        `SELECT table_name, toString(toStartOfHour(ingestion_time)), sum(rows), sum(bytes), count() FROM ${this.META.loads} ` +
          `WHERE toStartOfHour(ingestion_time) >= ${t(from)} AND toStartOfHour(ingestion_time) < ${t(to)} GROUP BY 1, 2 ORDER BY 2, 1`,
        'JSONCompactEachRow',
      ),
    );
    return rows.map((r) => ({
      table: String(r[0]),
      hour: `${String(r[1]).replace(' ', 'T')}.000Z`,
      rows: Number(r[2]),
      bytes: Number(r[3]),
      loads: Number(r[4]),
    }));
  }

  async checkpoint(): Promise<boolean> {
    // ClickHouse writes parts on every insert: there is no write-ahead log to fold.
    return true;
  }

  // ---------------------------------------------------------------------------------------------- queries

  /** Tables a query may not name: Vigil's metadata, and (in process) other workspaces' tables. */
  private isMeta = (name: string): boolean => {
    const n = name.replace(/^"|"$/g, '');
    if (n.toLowerCase().includes('vigil_meta')) return true;
    if (/^w[0-9a-f]{10}_/.test(n)) return ![...this.tableMap.values()].some((t) => t.storageName === n);
    return false;
  };

  /** Refuses anything but one guarded SELECT; returns the statement without a trailing `;`. */
  async guard(sql: string): Promise<string> {
    const body = singleStatement(sql).trim();
    if (body === '') throw new EngineError('refused', 'an empty statement');
    // A statement accepted once is accepted again (tables are only ever added): rules and dashboards repeat their
    // SQL, and each EXPLAIN is a round trip.
    if (this.accepted.has(body)) return body;
    let ast: string;
    try {
      ast = await this.transport.query(`EXPLAIN AST ${body}`, 'TSVRaw');
    } catch (e) {
      throw new EngineError('sql', (e as Error).message, { cause: e });
    }
    checkAst(ast, this.isMeta);
    if (this.accepted.size >= 1000) this.accepted.clear();
    this.accepted.add(body);
    return body;
  }

  query(sql: string, options: ExecuteOptions = {}): Promise<ResultSet> {
    const run = this.runQuery(sql, options);
    // close() waits for queries in flight; the handled copy also keeps a rejection during close() from going
    // unhandled before the caller awaits it.
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
    const ac = new AbortController() as AbortController & { reason2?: 'timeout' | 'cancelled' };
    this.running.set(queryId, ac);
    const stop = (reason: 'timeout' | 'cancelled') => {
      if (ac.reason2) return;
      ac.reason2 = reason;
      ac.abort();
      void this.transport.cancel(queryId).catch(() => undefined);
    };
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onAbort = () => stop('cancelled');
    if (options.signal?.aborted) stop('cancelled');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const file = join(this.spool, 'results', `${randomUUID()}.jsonl`);
    const check = () => {
      if (ac.reason2 === 'timeout') throw new EngineError('timeout', `query exceeded its timeout of ${timeoutMs} ms`);
      if (ac.reason2 === 'cancelled') throw new EngineError('cancelled', 'query cancelled');
    };
    try {
      const body = await this.guard(sql);
      check();
      const started = performance.now();
      const settings: Record<string, number | string> = {
        ...QUERY_SETTINGS,
        readonly: 1,
        max_execution_time: Math.max(0.001, timeoutMs / 1000),
        max_memory_usage: this.options.maxMemoryUsage ?? 4 * 1024 ** 3,
        ...(this.options.threads ? { max_threads: this.options.threads } : {}),
      };
      let text: string;
      try {
        text = await this.transport.query(
          `SELECT * FROM (\n${body}\n) LIMIT ${maxRows + 1}`,
          'JSONCompactEachRowWithNamesAndTypes',
          { queryId, signal: ac.signal, settings },
        );
      } catch (e) {
        check();
        const message = (e as Error).message;
        if (/TIMEOUT_EXCEEDED|Timeout exceeded/i.test(message)) {
          throw new EngineError('timeout', `query exceeded its timeout of ${timeoutMs} ms`, { cause: e });
        }
        if (/QUERY_WAS_CANCELLED/i.test(message)) throw new EngineError('cancelled', 'query cancelled', { cause: e });
        if (/READONLY|ACCESS_DENIED/.test(message))
          throw new EngineError('refused', message.split('\n')[0] ?? message, { cause: e });
        throw new EngineError('sql', message, { cause: e });
      }
      check();
      const columns = await this.writeResult(text, file, options.columns);
      const engineMs = performance.now() - started;
      const result = await openResultFile({
        queryId,
        file,
        columns: columns.columns,
        engineMs,
        rowsWritten: columns.rows,
        maxRows,
        maxBytes,
        onClose: () => this.openResults.delete(result),
      });
      this.openResults.add(result);
      return result;
    } catch (e) {
      await rm(file, { force: true });
      check();
      throw e;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      this.running.delete(queryId);
    }
  }

  /** Decodes ClickHouse's JSON rows into Kusto wire rows and writes them as a result file. */
  private async writeResult(
    text: string,
    file: string,
    expected: ExecuteOptions['columns'],
  ): Promise<{ columns: ResultColumn[]; rows: number }> {
    const lines = text.split('\n');
    const names = JSON.parse(lines[0] ?? '[]') as string[];
    const types = JSON.parse(lines[1] ?? '[]') as string[];
    if (expected && expected.length !== names.length) {
      throw new EngineError('sql', `the SQL returns ${names.length} columns, the compiler expected ${expected.length}`);
    }
    const columns: ResultColumn[] = names.map((n, i) => {
      const want = expected?.[i];
      return {
        name: want?.name ?? n,
        type: want && want.type !== 'unknown' ? want.type : kqlTypeOf(types[i] ?? 'String'),
      };
    });
    const handle = await open(file, 'w');
    let rows = 0;
    try {
      let buf: string[] = [];
      for (let i = 2; i < lines.length; i++) {
        const line = lines[i] as string;
        if (line === '') continue;
        const values = JSON.parse(line) as unknown[];
        buf.push(`,[${values.map((v, j) => wireText((columns[j] as ResultColumn).type, v)).join(',')}]\n`);
        rows++;
        if (buf.length >= 4096) {
          await handle.write(buf.join(''));
          buf = [];
        }
      }
      if (buf.length) await handle.write(buf.join(''));
    } finally {
      await handle.close();
    }
    return { columns, rows };
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

  /** Benchmarks: runs a guarded SELECT to completion and discards its rows (engine time only). */
  async runWithoutDelivery(sql: string): Promise<{ rows: number; ms: number }> {
    const body = await this.guard(sql);
    const started = performance.now();
    const text = await this.transport.query(`SELECT count() FROM (\n${body}\n)`, 'JSONCompactEachRow', {
      settings: { ...QUERY_SETTINGS, readonly: 1 },
    });
    return { rows: Number(rowsOf(text)[0]?.[0] ?? 0), ms: performance.now() - started };
  }

  cancel(queryId: string): boolean {
    const ac = this.running.get(queryId);
    if (!ac) return false;
    if (!ac.reason2) {
      ac.reason2 = 'cancelled';
      ac.abort();
      void this.transport.cancel(queryId).catch(() => undefined);
    }
    return true;
  }

  async stats(): Promise<TableStats[]> {
    this.assertOpen();
    const loads = new Map(
      rowsOf(
        await this.transport.query(
          `SELECT table_name, sum(bytes), toString(max(ingestion_time)) FROM ${this.META.loads} GROUP BY table_name`,
          'JSONCompactEachRow',
        ),
      ).map((r) => [String(r[0]), { bytes: Number(r[1]), last: String(r[2]) }]),
    );
    const parts = new Map(
      rowsOf(
        await this.transport.query(
          'SELECT table, sum(bytes_on_disk) FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table',
          'JSONCompactEachRow',
        ),
      ).map((r) => [String(r[0]), Number(r[1])]),
    );
    const out: TableStats[] = [];
    for (const t of this.tables()) {
      const rows = Number(
        rowsOf(
          await this.transport.query(`SELECT count() FROM ${ident(t.storageName)}`, 'JSONCompactEachRow'),
        )[0]?.[0] ?? 0,
      );
      const load = loads.get(t.name);
      out.push({
        table: t.name,
        rows,
        ingestedBytes: load?.bytes ?? 0,
        storageBytes: parts.get(t.storageName) ?? 0,
        lastIngestion: load?.last ? `${load.last.replace(' ', 'T')}Z` : null,
      });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.running.keys()]) this.cancel(id);
    await Promise.all(this.inflight);
    await this.writer.run(async () => undefined);
    for (const r of [...this.openResults]) await r.close();
    await this.transport.close();
    await rm(join(this.spool, 'results'), { recursive: true, force: true });
  }

  private assertOpen(): void {
    if (this.closed) throw new EngineError('closed', 'the engine is closed');
  }
}

function rowsOf(text: string): unknown[][] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown[]);
}

function makeColumn(name: string, type: ScalarTypeName, storageName: string, variantOf?: string): StorageColumn {
  return { name, type, storageName, storageType: storageType(type), ...(variantOf ? { variantOf } : {}) };
}

function makeStorage(name: string, storageName: string, columns: StorageColumn[]): TableStorage {
  return {
    name,
    storageName,
    columns,
    hidden: { ingestionTime: HIDDEN_COLUMNS.ingestionTime, batchId: HIDDEN_COLUMNS.batchId },
  };
}

async function readText(file: string): Promise<string> {
  const h = await open(file, 'r');
  try {
    return (await h.readFile()).toString('utf8').replace(/^\uFEFF/, '');
  } finally {
    await h.close();
  }
}

async function detectFormat(file: string, format: LoadOptions['format']): Promise<LoadFormat> {
  if (format === 'ndjson' || format === 'json-array' || format === 'csv') return format;
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'ndjson';
  const h = await open(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await h.read(buf, 0, buf.length, 0);
    const head = buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    if (head.startsWith('[')) return 'json-array';
    if (head.startsWith('{')) {
      // One object spanning the file (an envelope) vs one object per line.
      const firstLine = head.split('\n')[0]?.trim() ?? '';
      try {
        JSON.parse(firstLine);
        return 'ndjson';
      } catch {
        return 'json-array';
      }
    }
    return 'csv';
  } finally {
    await h.close();
  }
}
