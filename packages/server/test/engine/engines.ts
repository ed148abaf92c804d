/**
 * The engines under contract, each with the few SQL snippets the contract needs in its dialect. The ClickHouse
 * engine (issue 11) adds an entry here and must pass the same suite.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseEngine } from '../../src/engine/clickhouse/clickhouse-engine.js';
import { DuckDBEngine } from '../../src/engine/duckdb/duckdb-engine.js';
import type { Engine, TableStorage } from '../../src/engine/engine.js';

export interface EngineUnderTest {
  readonly name: string;
  /** Opens (or reopens) the workspace kept in `dir`. */
  open(dir: string): Promise<Engine>;
  /** The absolute spool folder of a workspace opened in `dir`. */
  spoolDir(dir: string): string;
  readonly sql: {
    /** Selects KQL columns of a table by their storage names, in the given order. */
    select(table: TableStorage, columns: readonly string[], orderBy?: string): string;
    /** `n` rows with one long column `n` = 0..n-1, in that order. */
    range(n: number): string;
    /** A query that runs for many seconds (for timeout and cancellation). */
    slow(): string;
    /** `n` rows of one string column, each `size` characters long. */
    bigRows(n: number, size: number): string;
    /** One row with the given SQL expressions as columns. */
    row(exprs: readonly string[]): string;
    /** The engine's SQL expression for a KQL value given as text: ticks for timespan, µs for datetime. */
    value(
      type: 'timespan' | 'datetime' | 'real' | 'decimal' | 'string' | 'guid' | 'dynamic' | 'long',
      text: string,
    ): string;
  };
  /** Fraction digits of a stored datetime: 6 (DuckDB, µs) or 7 (ClickHouse DateTime64(7), Kusto's 100 ns). */
  readonly datetimeDigits?: 6 | 7;
  /** Contract tests this engine cannot pass, by title, with the reason (reported as skipped, never silently). */
  readonly skip?: Readonly<Record<string, string>>;
  /** Statements that must never run: each tries to reach outside the workspace or change the engine. */
  hostile(ctx: {
    readonly spool: string;
    readonly outside: string;
  }): readonly { readonly name: string; readonly sql: string }[];
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

export const duckdb: EngineUnderTest = {
  name: 'duckdb',
  open: (dir) =>
    DuckDBEngine.open({
      path: join(dir, 'workspace.duckdb'),
      spoolDir: join(dir, 'spool'),
      threads: 2,
      connections: 4,
    }),
  spoolDir: (dir) => join(dir, 'spool'),
  sql: {
    select: (t, columns, orderBy) =>
      `SELECT ${columns.map((c) => q(t.columns.find((x) => x.name === c)?.storageName ?? c)).join(', ')} FROM ${q(t.storageName)}` +
      (orderBy ? ` ORDER BY ${q(t.columns.find((x) => x.name === orderBy)?.storageName ?? orderBy)}` : ''),
    range: (n) => `SELECT range AS n FROM range(${n}) ORDER BY range`,
    slow: () => 'SELECT count(*) FROM range(100000000000) t1, range(10) t2 WHERE t1.range * t2.range = -1',
    bigRows: (n, size) => `SELECT repeat('x', ${size}) || CAST(range AS VARCHAR) AS s FROM range(${n}) ORDER BY range`,
    row: (exprs) => `SELECT ${exprs.join(', ')}`,
    value: (type, text) => {
      switch (type) {
        case 'timespan':
          return `CAST(${text} AS BIGINT)`;
        case 'datetime':
          return `make_timestamp(CAST(${text} AS BIGINT))`;
        case 'real':
          return `CAST(${lit(text)} AS DOUBLE)`;
        case 'decimal':
          return `CAST(${lit(text)} AS DECIMAL(38,18))`;
        case 'guid':
          return `CAST(${lit(text)} AS UUID)`;
        case 'dynamic':
          return `CAST(${lit(text)} AS JSON)`;
        case 'long':
          return `CAST(${text} AS BIGINT)`;
        case 'string':
          return text.includes('\u0000') ? `(${text.split('\u0000').map(lit).join(' || chr(0) || ')})` : lit(text);
      }
    },
  },
  hostile: ({ spool, outside }) => [
    { name: 'read_csv outside', sql: "SELECT * FROM read_csv('/etc/passwd')" },
    { name: 'read_csv_auto outside', sql: "SELECT * FROM read_csv_auto('/etc/passwd')" },
    { name: 'read_text outside', sql: "SELECT * FROM read_text('/etc/passwd')" },
    { name: 'read_blob outside', sql: "SELECT * FROM read_blob('/etc/passwd')" },
    { name: 'read_json outside', sql: "SELECT * FROM read_json('/etc/passwd')" },
    { name: 'read_json_objects outside', sql: "SELECT * FROM read_json_objects('/etc/passwd')" },
    { name: 'read_parquet outside', sql: "SELECT * FROM read_parquet('/etc/passwd')" },
    { name: 'sniff_csv outside', sql: "SELECT * FROM sniff_csv('/etc/passwd')" },
    { name: 'replacement scan of a path', sql: "SELECT * FROM '/etc/passwd'" },
    { name: 'glob outside', sql: "SELECT * FROM glob('/etc/*')" },
    {
      name: 'path traversal out of the spool',
      sql: `SELECT * FROM read_text(${lit(`${spool}/../../../../etc/passwd`)})`,
    },
    { name: 'the workspace database itself', sql: `SELECT * FROM read_blob(${lit(`${spool}/../workspace.duckdb`)})` },
    { name: 'file written outside', sql: `SELECT * FROM read_text(${lit(outside)})` },
    { name: 'COPY TO outside', sql: `COPY (SELECT 42) TO ${lit(`${outside}.csv`)}` },
    { name: 'COPY TO the spool', sql: `COPY (SELECT 42) TO ${lit(`${spool}/x.csv`)}` },
    { name: 'EXPORT DATABASE', sql: `EXPORT DATABASE ${lit(`${outside}-export`)}` },
    { name: 'ATTACH a file', sql: `ATTACH ${lit(`${outside}.db`)} AS other` },
    { name: 'ATTACH in memory', sql: "ATTACH ':memory:' AS m" },
    { name: 'INSTALL an extension', sql: 'INSTALL httpfs' },
    { name: 'LOAD an extension', sql: 'LOAD httpfs' },
    { name: 'SET enable_external_access', sql: 'SET enable_external_access = true' },
    { name: 'SET allowed_directories', sql: "SET allowed_directories = ['/']" },
    { name: 'RESET lock_configuration', sql: 'RESET lock_configuration' },
    { name: 'SET lock_configuration', sql: 'SET lock_configuration = false' },
    { name: 'PRAGMA', sql: 'PRAGMA enable_profiling' },
    { name: 'CREATE SECRET', sql: 'CREATE SECRET s (TYPE s3)' },
    { name: 'DROP TABLE', sql: 'DROP TABLE vigil_meta.tables' },
    { name: 'DELETE', sql: 'DELETE FROM vigil_meta.columns' },
    { name: 'UPDATE', sql: "UPDATE vigil_meta.tables SET storage_name = 'x'" },
    { name: 'INSERT', sql: "INSERT INTO vigil_meta.info VALUES ('a', 'b')" },
    { name: 'CREATE TABLE AS', sql: 'CREATE TABLE evil AS SELECT 1' },
    { name: 'CREATE MACRO', sql: 'CREATE MACRO evil(x) AS x' },
    { name: 'CALL', sql: 'CALL pragma_version()' },
    { name: 'CHECKPOINT', sql: 'CHECKPOINT' },
    { name: 'two statements', sql: 'SELECT 1; DROP TABLE vigil_meta.tables' },
    { name: 'query() running DDL', sql: "SELECT * FROM query('DROP TABLE vigil_meta.tables')" },
    {
      name: 'break out of the result wrapper',
      sql: `SELECT 1 AS a) TO ${lit(`${outside}.csv`)} (FORMAT csv); COPY (SELECT 1`,
    },
    { name: 'unicode lookalike quotes', sql: 'SELECT ’x’' },
    { name: 'getenv', sql: "SELECT getenv('HOME')" },
    { name: 'load_extension by name', sql: "SELECT load_extension('httpfs')" },
  ],
};

const chString = (s: string) =>
  `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replaceAll(String.fromCharCode(0), '\\0')}'`;

/** ClickHouse in process (chdb); the same engine runs over HTTP against a server (`url` option). */
export const clickhouse: EngineUnderTest = {
  name: 'clickhouse',
  datetimeDigits: 7,
  open: (dir) => ClickHouseEngine.open({ path: join(dir, 'clickhouse'), spoolDir: join(dir, 'spool'), threads: 2 }),
  spoolDir: (dir) => join(dir, 'spool'),
  sql: {
    select: duckdb.sql.select,
    range: (n) => `SELECT toInt64(number) AS n FROM numbers(${n}) ORDER BY number`,
    // chdb cannot interrupt a statement (a cancelled caller stops waiting; the statement runs to its end or its
    // max_execution_time), so the slow query is bounded: four rows sleeping 0.7 s each, ~2.8 s.
    slow: () => 'SELECT sum(sleepEachRow(0.7)) FROM numbers(4)',
    bigRows: (n, size) =>
      `SELECT concat(repeat('x', ${size}), toString(number)) AS s FROM numbers(${n}) ORDER BY number`,
    row: (exprs) => `SELECT ${exprs.join(', ')}`,
    value: (type, text) => {
      switch (type) {
        case 'timespan':
        case 'long':
          return `toInt64('${text}')`;
        case 'datetime':
          return `toDateTime64(fromUnixTimestamp64Micro(toInt64('${text}'), 'UTC'), 7, 'UTC')`;
        case 'real':
          return `toFloat64(${chString(text)})`;
        case 'decimal':
          return `toDecimal128(${chString(text)}, 18)`;
        case 'guid':
          return `toUUID(${chString(text)})`;
        case 'dynamic':
          return `CAST(${chString(text)} AS Nullable(String))`;
        case 'string':
          return chString(text);
      }
    },
  },
  skip: {
    'runs short queries while a long one is running':
      'in process, chdb runs one statement at a time (concurrent calls on one session mix up their results); a ClickHouse server runs them concurrently',
  },
  hostile: ({ spool, outside }) => [
    { name: 'file() outside', sql: "SELECT * FROM file('/etc/passwd', 'LineAsString')" },
    {
      name: 'file() path traversal out of the spool',
      sql: `SELECT * FROM file(${chString(`${spool}/../../../../etc/passwd`)}, 'LineAsString')`,
    },
    { name: 'url()', sql: "SELECT * FROM url('http://127.0.0.1:1/x', 'LineAsString')" },
    { name: 's3()', sql: "SELECT * FROM s3('http://127.0.0.1:1/b/x', 'LineAsString')" },
    { name: 'remote()', sql: "SELECT * FROM remote('127.0.0.1:1', system.one)" },
    { name: 'mysql()', sql: "SELECT * FROM mysql('127.0.0.1:1', 'db', 't', 'u', 'p')" },
    { name: 'executable()', sql: "SELECT * FROM executable('cat /etc/passwd', 'LineAsString', 'x String')" },
    { name: 'input()', sql: "SELECT * FROM input('x String')" },
    {
      name: 'a table function in a subquery',
      sql: "SELECT 1 WHERE 1 IN (SELECT 1 FROM file('/etc/passwd', 'LineAsString'))",
    },
    {
      name: 'a table function in a CTE',
      sql: "WITH t AS (SELECT * FROM file('/etc/passwd', 'LineAsString')) SELECT * FROM t",
    },
    {
      name: 'a table function in a join',
      sql: "SELECT * FROM numbers(1) AS a JOIN file('/etc/passwd', 'LineAsString') AS b ON 1 = 1",
    },
    { name: 'system tables', sql: 'SELECT * FROM system.tables' },
    { name: 'another database', sql: 'SELECT * FROM information_schema.tables' },
    { name: 'metadata tables', sql: 'SELECT * FROM vigil_meta_tables' },
    { name: 'INTO OUTFILE', sql: `SELECT 42 INTO OUTFILE ${chString(`${outside}.csv`)}` },
    {
      name: 'INSERT INTO FUNCTION file',
      sql: `INSERT INTO FUNCTION file(${chString(`${spool}/x.csv`)}, 'CSV') SELECT 42`,
    },
    { name: 'CREATE TABLE AS', sql: 'CREATE TABLE evil ENGINE = Memory AS SELECT 1' },
    { name: 'DROP TABLE', sql: 'DROP TABLE vigil_meta_tables' },
    { name: 'ALTER DELETE', sql: 'ALTER TABLE vigil_meta_columns DELETE WHERE 1' },
    { name: 'lightweight DELETE', sql: 'DELETE FROM vigil_meta_columns WHERE 1' },
    { name: 'INSERT', sql: "INSERT INTO vigil_meta_info VALUES ('a', 'b')" },
    { name: 'SET', sql: 'SET readonly = 0' },
    { name: 'SETTINGS clause', sql: 'SELECT 1 SETTINGS readonly = 0' },
    { name: 'SYSTEM', sql: 'SYSTEM FLUSH LOGS' },
    { name: 'two statements', sql: 'SELECT 1; DROP TABLE vigil_meta_tables' },
    { name: 'two statements after a comment', sql: 'SELECT 1 -- x\n; DROP TABLE vigil_meta_tables' },
    {
      name: 'break out of the result wrapper',
      sql: `SELECT 1) INTO OUTFILE ${chString(`${outside}.csv`)} --`,
    },
    { name: 'dictGet', sql: "SELECT dictGet('d', 'a', 1)" },
    { name: 'getSetting', sql: "SELECT getSetting('readonly')" },
    { name: 'unicode lookalike quotes', sql: 'SELECT ’x’' },
  ],
};

export const ENGINES: readonly EngineUnderTest[] = [duckdb, clickhouse];

/** A fresh temporary folder, removed by the returned cleanup. */
export async function tempDir(prefix = 'vigil-engine-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
