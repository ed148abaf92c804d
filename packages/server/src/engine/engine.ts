/**
 * The engine contract: everything above this file (compiler, query API, rules, ingestion) talks to a workspace's
 * storage only through `Engine`, and is unaware of which engine runs (DuckDB embedded now, ClickHouse later).
 * The contract suite in `packages/server/test/engine/contract.ts` runs against every implementation.
 */
import type { ScalarTypeName, TableSchema } from '@vigil/kql';
import type { KqlValue } from './values.js';

export type EngineDialect = 'duckdb' | 'clickhouse';

/** A table as the workspace declares it (KQL names and types), plus the case-variant column pairs. */
export interface TableDefinition extends TableSchema {
  /**
   * Column pairs whose names differ only by case and mean the same thing (`Isp`/`ISP`, see `caseVariants` in
   * `content/schema/tables.json`): both columns exist and ingestion writes the same value to both.
   */
  readonly caseVariants?: readonly (readonly [string, string])[];
  /** Ingestion into the table is billed (the schema's `billing`: alerts and incidents are free). Default true. */
  readonly billable?: boolean;
}

export interface StorageColumn {
  /** KQL name (case-sensitive). */
  readonly name: string;
  readonly type: ScalarTypeName;
  /** The engine's column name, unique case-insensitively within the table; quote it with the dialect. */
  readonly storageName: string;
  /** The engine's column type, e.g. `BIGINT` for a timespan (100-ns ticks). */
  readonly storageType: string;
  /** For the second column of a case-variant pair, the KQL name of the first; ingestion writes both. */
  readonly variantOf?: string;
}

/** How a KQL table is stored: the map the SQL generator needs. Plain data (serializable). */
export interface TableStorage {
  readonly name: string;
  /** The engine's table name, unique case-insensitively in the workspace. */
  readonly storageName: string;
  /** The KQL columns in declaration order. */
  readonly columns: readonly StorageColumn[];
  /** Hidden storage columns that are not part of the KQL schema. */
  readonly hidden: {
    /** TIMESTAMP set at load: what KQL's `ingestion_time()` returns. */
    readonly ingestionTime: string;
    /** BIGINT, the load batch that wrote the row (`vigil_meta.loads.batch_id`). */
    readonly batchId: string;
  };
}

/** The storage column of a KQL column name (exact, case-sensitive match), if the table has it. */
export function storageColumn(table: TableStorage, kqlName: string): StorageColumn | undefined {
  return table.columns.find((c) => c.name === kqlName);
}

export type LoadFormat = 'ndjson' | 'json-array' | 'csv';

export interface LoadOptions {
  /** `auto` (default) decides by extension, then by the first non-blank character. */
  readonly format?: LoadFormat | 'json' | 'auto';
  /** Called a few times per second while the engine reads the file. */
  readonly onProgress?: (progress: LoadProgress) => void;
  /** How many rejected rows to describe in the report (all are counted), and in each part's report. Default 20. */
  readonly maxRejectedDetails?: number;

  // What a caller that produced the file itself (the ingestion service) already knows, so the engine need not
  // find it out with extra passes over the file:
  /** The file holds exactly one JSON record per line (and no envelope): it is split by lines and read in parallel. */
  readonly oneRecordPerLine?: boolean;
  /** The records' field names (all of them, or a sample): the engine does not sample the file for them. */
  readonly fields?: readonly string[];
  /**
   * `fields` lists every top-level key of every record, not a sample: the reader then declares only those (a
   * declared key that no record has still costs the reader and the storage a column of nulls).
   */
  readonly fieldsComplete?: boolean;
  /** How many records the file holds: when all of them load, the engine skips counting them. */
  readonly records?: number;
  /**
   * No record of the file is longer than this many bytes. DuckDB's JSON reader sizes its buffers from the largest
   * object it must accept; without the hint the engine bounds it by the file's size (up to 256 MB).
   */
  readonly maxRecordBytes?: number;

  /** String columns set to a constant on every row, whatever the source says (`Type`, `TenantId`). */
  readonly set?: Readonly<Record<string, string>>;
  /**
   * Consecutive record ranges of the file loaded on behalf of different requests (group commit), in file order;
   * their `records` must add up to the file's records. The report then has one `parts` entry per range.
   */
  readonly parts?: readonly LoadPart[];
  /**
   * Store every rejected record, with its raw text and why it was rejected, in the dead-letter table
   * (`DEAD_LETTER_TABLE`), in the same transaction as the rows.
   */
  readonly deadLetter?: boolean;
  /**
   * Receipts to store in the same transaction as the rows, computed from the report (e.g. the answer given to a
   * client batch id, so that a retry after a crash finds it); read them with `Engine.receipts`.
   */
  readonly receipts?: (report: LoadReport) => readonly Receipt[];
  /** Fold the write-ahead log into the database file after the commit (default true). */
  readonly checkpoint?: boolean;
  /** Load the rows into a scratch table of the input's shape, then insert what `select` returns into the table. */
  readonly transform?: LoadTransform;
  /**
   * A small write that must not wait behind bulk loads (alerts, rule runs). Priority loads run one at a time, in
   * the order they were asked for, and their rows are stamped in that order; the engine may run them beside
   * ordinary loads (DuckDB: a second writer connection, never on the same table at the same time).
   */
  readonly priority?: boolean;
}

export interface LoadPart {
  readonly records: number;
  /** Recorded with the part's rejected rows in the dead-letter table. */
  readonly requestId?: string;
  readonly clientBatchId?: string;
  /** Where the rows came from (endpoint, file), for the dead-letter table. Default: the file's path. */
  readonly source?: string;
}

export interface PartReport {
  readonly records: number;
  readonly rowsLoaded: number;
  readonly rowsRejected: number;
  /** The first `maxRejectedDetails` rejected rows of the part; `row` is 1-based within the part. */
  readonly rejected: readonly RejectedRow[];
}

export interface Receipt {
  readonly key: string;
  readonly value: string;
}

/**
 * A transformation applied while loading, as a data collection rule has: the records are coerced into a scratch
 * table of the `input` columns (rows that do not fit are rejected as usual), then `select` is run over it.
 */
export interface LoadTransform {
  readonly input: TableDefinition;
  /**
   * Given the scratch table's storage map, one read-only SELECT over it; its column i feeds the table column
   * named `columns[i]` (KQL names; columns of the table not listed get their defaults).
   */
  readonly select: (input: TableStorage) => { readonly sql: string; readonly columns: readonly string[] };
}

/**
 * Where loads put the records they reject (with `LoadOptions.deadLetter`): one row per rejected record, queryable
 * in KQL like any table. `RecordIndex` is 0-based within the request (the load part), `Errors` lists
 * `{column, expected, value}` for each value that could not be coerced, `RawRecord` is the record as received.
 */
export const DEAD_LETTER_TABLE: TableDefinition = {
  name: 'IngestionErrors',
  columns: [
    { name: 'TimeGenerated', type: 'datetime' },
    { name: 'TargetTable', type: 'string' },
    { name: 'Source', type: 'string' },
    { name: 'RequestId', type: 'string' },
    { name: 'ClientBatchId', type: 'string' },
    { name: 'RecordIndex', type: 'long' },
    { name: 'Reason', type: 'string' },
    { name: 'Errors', type: 'dynamic' },
    { name: 'RawRecord', type: 'string' },
    { name: 'LoadBatchId', type: 'long' },
    { name: 'TenantId', type: 'string' },
    { name: 'Type', type: 'string' },
  ],
};

export interface LoadProgress {
  readonly table: string;
  readonly file: string;
  readonly bytes: number;
  /** 0..1, the share of the file the engine has read. */
  readonly fraction: number;
  /** Rows read so far, estimated from the line density of the file's head (line-per-record formats only). */
  readonly estimatedRows?: number;
  readonly elapsedMs: number;
}

export interface RejectedRow {
  /** 1-based record number in the file (data rows for CSV, records for JSON). */
  readonly row: number;
  readonly columns: readonly { readonly column: string; readonly value: string; readonly expected: ScalarTypeName }[];
}

export interface LoadReport {
  readonly table: string;
  readonly file: string;
  readonly format: LoadFormat;
  /** Envelope that was unwrapped, if any (Defender streaming API). */
  readonly envelope?: 'records' | 'properties';
  readonly batchId: number;
  readonly bytes: number;
  readonly rowsRead: number;
  readonly rowsLoaded: number;
  readonly rowsRejected: number;
  /** The first `maxRejectedDetails` rejected rows: which values could not be coerced to the column type. */
  readonly rejected: readonly RejectedRow[];
  /** One entry per `LoadOptions.parts` range, when parts were given. */
  readonly parts?: readonly PartReport[];
  /** With a transform: rows that went into it (loaded into the scratch table) and rows it produced. */
  readonly transformed?: { readonly rowsIn: number; readonly rowsOut: number };
  /** Source fields that fed a column under another name (`TimeGenerated [UTC]` → `TimeGenerated`). */
  readonly renamed: readonly { readonly source: string; readonly column: string }[];
  /** Source fields that match no column of the table (seen in the file's header or first records). */
  readonly ignored: readonly string[];
  readonly ingestionTime: string;
  readonly ms: number;
}

export interface ResultColumn {
  readonly name: string;
  readonly type: ScalarTypeName;
}

export interface ExecuteOptions {
  /** Identifies the query for `cancel()`; generated when absent. */
  readonly queryId?: string;
  /** Default 4 minutes; exceeding it fails the query with code `timeout`. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Kusto's truncation limit on rows (default 500,000). */
  readonly maxRows?: number;
  /** Kusto's truncation limit on the encoded result size (default 64 MB). */
  readonly maxBytes?: number;
  /**
   * The result columns in KQL terms, as the compiler knows them (the SQL's column i is column i here). They decide
   * how storage values are decoded: a BIGINT is a long or a timespan (ticks). `unknown` types, or no list at all,
   * are inferred from the engine's result types.
   */
  readonly columns?: readonly { readonly name: string; readonly type: ScalarTypeName | 'unknown' }[];
}

export const DEFAULT_LIMITS = {
  timeoutMs: 4 * 60 * 1000,
  maxRows: 500_000,
  maxBytes: 64 * 1024 * 1024,
} as const;

export interface Truncation {
  readonly reason: 'rows' | 'bytes';
  readonly limit: number;
}

/**
 * A finished query whose rows are held by the engine already encoded as Kusto JSON row arrays (never as JS
 * objects); deliver them with `writeRows` (streamed), or decode them with `rows()` for small in-process results.
 * `close()` releases the storage behind it.
 */
export interface ResultSet {
  readonly queryId: string;
  readonly columns: readonly ResultColumn[];
  readonly rowCount: number;
  /** Set when Kusto's row or size limit cut the result (a partial result, not silent). */
  readonly truncated: Truncation | null;
  /** Size of the encoded rows (the JSON text of `rows`, without separators). */
  readonly encodedBytes: number;
  /** Time the engine spent running the query and encoding its rows. */
  readonly engineMs: number;
  /**
   * Writes the rows as JSON row arrays separated by commas, without the enclosing brackets, so that any envelope
   * (Kusto v1/v2, JSONL, our own) can frame them. Streams in bounded chunks and honours back-pressure.
   */
  writeRows(out: NodeJS.WritableStream): Promise<void>;
  /** Each row's JSON array text, in order (for encoders that work row by row: CSV, text tables). */
  rowTexts(): AsyncIterable<string>;
  /** All rows decoded into Kusto wire values (see values.ts). Bounded by the limits; use for small results. */
  rows(): Promise<KqlValue[][]>;
  close(): Promise<void>;
}

/** A decoded result for in-process consumers. */
export interface QueryResult {
  readonly queryId: string;
  readonly columns: readonly ResultColumn[];
  readonly rows: readonly (readonly KqlValue[])[];
  readonly truncated: Truncation | null;
  readonly engineMs: number;
}

export interface TableStats {
  readonly table: string;
  readonly rows: number;
  /** Bytes of the source files loaded into the table (what ingestion is billed on). */
  readonly ingestedBytes: number;
  /** The engine's estimate of the table's size on disk. */
  readonly storageBytes: number;
  readonly lastIngestion: string | null;
}

/** One table's loads within one hour (UTC), from the load history. */
export interface HourlyLoads {
  readonly table: string;
  /** The hour's start, ISO. */
  readonly hour: string;
  readonly rows: number;
  /** Bytes of the loaded source files (what ingestion is billed on). */
  readonly bytes: number;
  readonly loads: number;
}

export interface Engine {
  readonly dialect: EngineDialect;
  /** The workspace's id (a GUID created with the workspace): what every ingested row's `TenantId` holds. */
  readonly workspaceId: string;
  /** Creates the table, or adds the columns it lacks; idempotent. A column whose type changed is an error. */
  ensureTable(table: TableDefinition): Promise<TableStorage>;
  /** The storage map of a table by KQL name (case-sensitive), if it exists. */
  storage(tableName: string): TableStorage | undefined;
  tables(): readonly TableStorage[];
  /** Bulk-loads a file through the engine's own reader with the table's declared columns. */
  loadFile(table: string, file: string, options?: LoadOptions): Promise<LoadReport>;
  /** The stored values of the receipts with these keys (see `LoadOptions.receipts`); absent keys are missing. */
  receipts(keys: readonly string[]): Promise<ReadonlyMap<string, string>>;
  /** Deletes receipts stored before `before`; returns how many. */
  purgeReceipts(before: Date): Promise<number>;
  /**
   * Deletes the rows of a table ingested before `before` (by their ingestion time, not `TimeGenerated`: replayed
   * old events are kept for the retention period after they arrived); returns how many. Retention jobs use it.
   */
  deleteIngestedBefore(table: string, before: Date): Promise<number>;
  /** Rows and bytes loaded per table per hour (the load history), for hours starting in [from, to). */
  loadHistory(from: Date, to: Date): Promise<HourlyLoads[]>;
  /**
   * Folds the write-ahead log into the database file now (writers that commit small batches with
   * `checkpoint: false` call it when idle). False when the engine could not (e.g. a transaction was open).
   */
  checkpoint(): Promise<boolean>;
  /** Runs one read-only SELECT and keeps its rows encoded; see ResultSet. */
  query(sql: string, options?: ExecuteOptions): Promise<ResultSet>;
  /** `query` + `rows()` + `close()`: for small in-process results (rules, tests). */
  execute(sql: string, options?: ExecuteOptions): Promise<QueryResult>;
  /** Interrupts a running query; returns false if no query has that id. */
  cancel(queryId: string): boolean;
  stats(): Promise<TableStats[]>;
  close(): Promise<void>;
}
