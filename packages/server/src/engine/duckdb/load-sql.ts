/**
 * Bulk-load SQL: DuckDB reads the file itself (`read_json` with declared columns, `read_csv` with explicit
 * columns), coerces each value to its column's type with TRY_CAST-style conversions, and inserts the rows whose
 * non-empty values all converted. Rows with a value that cannot be coerced are not inserted; they are counted and
 * described by the load report (never silently dropped, never silently nulled).
 *
 * Every source field arrives as VARCHAR, except fields feeding a dynamic column from JSON, which arrive as JSON so
 * that nested objects keep their structure.
 */
import type { ScalarTypeName } from '@vigil/kql';
import type { StorageColumn, TableStorage } from '../engine.js';
import type { FieldMapping } from '../load/mapping.js';
import { ident, str } from './sql.js';

export type LoadSource =
  | { readonly kind: 'csv'; readonly path: string; readonly fields: readonly string[] }
  | {
      readonly kind: 'json';
      readonly path: string;
      readonly fields: readonly string[];
      /** `columns`: read_json with declared keys (fast). `objects`: each record as one JSON value (envelopes,
       * or keys that collide case-insensitively, which read_json cannot declare side by side). */
      readonly mode: 'columns' | 'objects';
      readonly envelope?: 'records' | 'properties';
      /** Exactly one record per line: DuckDB then splits the file by lines and reads it in parallel. */
      readonly lines?: boolean;
      /**
       * `fields[0, sampled)` were seen in the records; the others are column names declared only to catch keys
       * first seen later. The strict insert stores constants for columns fed by those alone (much cheaper to
       * store than a column of values) and fails, falling back to the checked insert, if one of them holds a value.
       */
      readonly sampled?: number;
      /** The largest record DuckDB must accept (`maximum_object_size`); default 256 MB. See `objectSizeBound`. */
      readonly maxObjectBytes?: number;
    }
  | {
      /** Rows of a SELECT whose column i feeds the table column named `columns[i]`, already typed. */
      readonly kind: 'relation';
      readonly sql: string;
      readonly columns: readonly string[];
    };

export interface LoadPlan {
  readonly table: TableStorage;
  readonly source: LoadSource;
  readonly mapping: FieldMapping;
  /** SQL TIMESTAMP literal. */
  readonly ingestionTime: string;
  readonly batchId: number;
  /** String columns set to a constant whatever the source says (KQL name → value). */
  readonly set?: Readonly<Record<string, string>>;
  /** The physical table the insert writes (SQL, quoted); default the table's storage name. */
  readonly into?: string;
}

const MAX_OBJECT = 256 * 1024 * 1024;
/** DuckDB's own default `maximum_object_size`. */
const DEFAULT_OBJECT = 16 * 1024 * 1024;

/**
 * `maximum_object_size` for a file whose records are at most `longest` bytes: DuckDB's JSON reader allocates its
 * read buffers from this bound (measured: a 40k-row group file cost ~30% more CPU to load with 256 MB than with
 * 16 MB), so it is kept as small as the records allow, never below DuckDB's default.
 */
export function objectSizeBound(longest: number): number {
  return Math.min(MAX_OBJECT, Math.max(DEFAULT_OBJECT, Math.ceil((longest + 1) / 65536) * 65536));
}
const MAX_LINE = 64 * 1024 * 1024;

/** Date-time texts seen in real exports besides ISO 8601 (which the TIMESTAMPTZ cast reads). */
const DATETIME_FORMATS = [
  '%m/%d/%Y, %I:%M:%S.%g %p', // Log Analytics portal export: 4/19/2021, 12:13:19.483 PM
  '%m/%d/%Y, %I:%M:%S %p',
  '%m/%d/%Y %I:%M:%S %p',
  '%m/%d/%Y %I:%M %p',
  '%m/%d/%Y %H:%M:%S.%g',
  '%m/%d/%Y %H:%M:%S',
  '%m/%d/%Y %H:%M', // spreadsheet-saved CSV: 7/8/2019 16:08
];

const TIMESPAN_RE = '(-)?(?:([0-9]+)\\.)?([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:\\.([0-9]{1,7}))?';

/** JSON-typed field? (feeds a dynamic column and comes from JSON) */
function isJsonField(plan: LoadPlan, index: number): boolean {
  if (plan.source.kind !== 'json') return false;
  for (const c of plan.table.columns) {
    if (c.type === 'dynamic' && plan.mapping.sources.get(c.name)?.includes(index)) return true;
  }
  return false;
}

function jsonFormat(source: { readonly lines?: boolean }): string {
  return source.lines ? 'newline_delimited' : 'auto';
}

/** The source relation: one row per record, fields as `f0`, `f1`, ... */
export function sourceSql(plan: LoadPlan): string {
  const { source } = plan;
  if (source.kind === 'relation') {
    return `SELECT ${source.columns.map((_, i) => `__t.c${i} AS f${i}`).join(', ') || 'NULL AS f_none'} FROM (\n${source.sql}\n) AS __t${
      source.columns.length ? `(${source.columns.map((_, i) => `c${i}`).join(', ')})` : ''
    }`;
  }
  if (source.kind === 'csv') {
    const cols = source.fields.map((_, i) => `'f${i}': 'VARCHAR'`).join(', ');
    return (
      `SELECT * FROM read_csv(${str(source.path)}, header = true, auto_detect = false, delim = ',', quote = '"', ` +
      `escape = '"', null_padding = true, parallel = false, max_line_size = ${MAX_LINE}, columns = {${cols}})`
    );
  }
  if (source.mode === 'columns') {
    const decl = source.fields.map((f, i) => `${str(f)}: '${isJsonField(plan, i) ? 'JSON' : 'VARCHAR'}'`).join(', ');
    const select = source.fields.map((f, i) => `${ident(f)} AS f${i}`).join(', ');
    return (
      `SELECT ${select || 'NULL AS f_none'} FROM read_json(${str(source.path)}, format = '${jsonFormat(source)}', ` +
      `maximum_object_size = ${source.maxObjectBytes ?? MAX_OBJECT}, columns = {${decl || "'__none__': 'VARCHAR'"}})`
    );
  }
  const select = source.fields
    .map(
      (f, i) => `${isJsonField(plan, i) ? 'json_extract' : 'json_extract_string'}(__j, ${str(jsonPath(f))}) AS f${i}`,
    )
    .join(', ');
  return `SELECT ${select || 'NULL AS f_none'} FROM (${recordsSql(source.path, source.envelope, source.lines)})`;
}

/** One JSON value per record, `__j`, unwrapping the Defender streaming envelopes. */
export function recordsSql(path: string, envelope: 'records' | 'properties' | undefined, lines = false): string {
  const objects = `read_json_objects(${str(path)}, format = '${jsonFormat({ lines })}', maximum_object_size = ${MAX_OBJECT})`;
  const records = `SELECT unnest(json_extract(json, '$.records[*]')) AS __r FROM ${objects}`;
  if (envelope === 'records') return `SELECT json_extract(__r, '$.properties') AS __j FROM (${records})`;
  if (envelope === 'properties') return `SELECT json_extract(json, '$.properties') AS __j FROM ${objects}`;
  return `SELECT json AS __j FROM ${objects}`;
}

function jsonPath(key: string): string {
  return `$."${key.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Conversion of one VARCHAR source value to a KQL type's storage (NULL when it cannot be converted). */
function convert(type: ScalarTypeName, s: string): string {
  // Numeric and TIMESTAMPTZ casts ignore surrounding whitespace themselves; BOOLEAN, UUID and strptime do not.
  const t = `trim(${s})`;
  switch (type) {
    case 'string':
      return s;
    case 'bool':
      return `TRY_CAST(${t} AS BOOLEAN)`;
    case 'int':
      return `TRY_CAST(${s} AS INTEGER)`;
    case 'long':
      return `TRY_CAST(${s} AS BIGINT)`;
    case 'real':
      return `TRY_CAST(${s} AS DOUBLE)`;
    case 'decimal':
      return `TRY_CAST(${s} AS DECIMAL(38,18))`;
    case 'guid':
      return `TRY_CAST(${t} AS UUID)`;
    case 'datetime': {
      // Some exports write a 24-hour time with an AM/PM suffix ("3/31/2022, 14:51:35.857 PM"): unambiguous, so
      // read it without the suffix.
      // (Each fallback mentions the raw text in its own way: DuckDB hoists a repeated subexpression such as
      // trim(x) out of the coalesce and computes it for every row, even where the first cast succeeded.)
      const pm24 =
        `CASE WHEN regexp_matches(${s}, '^\\s*[0-9/]+, (1[3-9]|2[0-3]):[0-9]{2}:[0-9]{2}(\\.[0-9]+)? PM\\s*$') ` +
        `THEN try_strptime(regexp_extract(${s}, '^\\s*(.*) PM\\s*$', 1), ['%m/%d/%Y, %H:%M:%S.%g', '%m/%d/%Y, %H:%M:%S']) END`;
      // Most event times are ISO 8601 in UTC (`...Z`): the plain TIMESTAMP cast reads those exactly and is much
      // cheaper than the time-zone-aware one, which handles explicit offsets (the plain cast would drop them).
      const utc = `CASE WHEN ends_with(${s}, 'Z') THEN TRY_CAST(${s} AS TIMESTAMP) END`;
      return `coalesce(${utc}, CAST(TRY_CAST(${s} AS TIMESTAMPTZ) AS TIMESTAMP), try_strptime(${t}, [${DATETIME_FORMATS.map(str).join(', ')}]), ${pm24})`;
    }
    case 'timespan': {
      const part = (k: number) => `regexp_extract(${t}, '^${TIMESPAN_RE}$', ${k})`;
      const num = (k: number) => `CAST(${part(k)} AS BIGINT)`;
      const ticks =
        `(coalesce(TRY_CAST(${part(2)} AS BIGINT), 0) * 864000000000 + ${num(3)} * 36000000000 + ` +
        `${num(4)} * 600000000 + ${num(5)} * 10000000 + CAST(rpad(${part(6)}, 7, '0') AS BIGINT))`;
      return (
        `CASE WHEN regexp_full_match(${t}, '-?[0-9]+') THEN TRY_CAST(${t} AS BIGINT) ` +
        `WHEN regexp_full_match(${t}, '${TIMESPAN_RE}') AND ${num(3)} < 24 AND ${num(4)} < 60 AND ${num(5)} < 60 ` +
        `THEN CASE WHEN ${part(1)} = '-' THEN -${ticks} ELSE ${ticks} END END`
      );
    }
    case 'dynamic':
      return `CASE WHEN ${t} = '' THEN NULL WHEN json_valid(${s}) THEN json(${s}) ELSE to_json(${s}) END`;
  }
}

/** A JSON source feeding a dynamic column: nested values as they are, JSON text inside a string parsed. */
function convertJsonToDynamic(j: string): string {
  const inner = `(${j} ->> '$')`;
  return (
    `CASE WHEN ${j} IS NULL OR json_type(${j}) = 'NULL' THEN NULL ` +
    `WHEN json_type(${j}) = 'VARCHAR' THEN CASE WHEN ${inner} = '' THEN NULL ` +
    `WHEN regexp_matches(${inner}, '^\\s*[\\[{]') AND json_valid(${inner}) THEN json(${inner}) ELSE ${j} END ` +
    `ELSE ${j} END`
  );
}

interface ColumnExprs {
  readonly value: string;
  /** The raw text that failed, when the column's conversion can fail. */
  readonly raw?: string;
}

function columnExprs(plan: LoadPlan, name: string, type: ScalarTypeName): ColumnExprs {
  const constant = plan.set?.[name];
  if (constant !== undefined && type === 'string') return { value: str(constant) };
  const sources = plan.mapping.sources.get(name) ?? [];
  if (sources.length === 0) return { value: type === 'string' ? "''" : 'NULL' };
  const f = (i: number) => `f${i}`;
  if (plan.source.kind === 'relation') {
    // Typed by the query that produced it: only the storage type is applied (strings never null; a number out of
    // the column's range becomes null, as a KQL conversion would).
    const storage = plan.table.columns.find((c) => c.name === name)?.storageType ?? 'VARCHAR';
    const cast = `TRY_CAST(${f(sources[0] as number)} AS ${storage})`;
    return { value: type === 'string' ? `coalesce(${cast}, '')` : cast };
  }
  if (type === 'string') {
    const parts = sources.length === 1 ? [f(sources[0] as number)] : sources.map((i) => `NULLIF(${f(i)}, '')`);
    return { value: `coalesce(${parts.join(', ')}, '')` };
  }
  const converted = sources.map((i) =>
    type === 'dynamic' && isJsonField(plan, i) ? convertJsonToDynamic(f(i)) : convert(type, f(i)),
  );
  const value = converted.length === 1 ? (converted[0] as string) : `coalesce(${converted.join(', ')})`;
  if (type === 'dynamic') return { value };
  // The raw text is only inspected for rows whose value did not convert (see __ok), so it stays untrimmed here.
  const raw = sources.map((i) => `NULLIF(${f(i)}, '')`);
  return { value, raw: raw.length === 1 ? (raw[0] as string) : `coalesce(${raw.join(', ')})` };
}

/**
 * The converted relation: `v<j>` per table column, `r<j>` raw text for columns that can fail, `__ok` (all values
 * converted), and when asked `__row` (record number) and `__err` listing the indexes of the failed columns.
 */
function convertedSql(plan: LoadPlan, withRowNumber: boolean, withErrors = false, strict = false): string {
  const cols = plan.table.columns;
  const exprs = cols.map((c) => columnExprs(plan, c.name, c.type));
  const unseen = strict ? unseenColumns(plan) : new Set<number>();
  const level1 = strict
    ? exprs.map((e, j) => {
        if (unseen.has(j)) return `${(cols[j] as StorageColumn).type === 'string' ? "''" : 'NULL'} AS v${j}`;
        return e.raw
          ? // The raw text appears once here, so that DuckDB does not hoist it out of the (lazy) coalesce.
            `coalesce(${e.value}, CASE WHEN regexp_matches(${e.raw}, '\\S') THEN error(${str(STRICT_REJECT)}) END) AS v${j}`
          : `${e.value} AS v${j}`;
      })
    : [
        ...(withRowNumber ? ['row_number() OVER () AS __row'] : []),
        ...exprs.map((e, j) => `${e.value} AS v${j}`),
        ...exprs.flatMap((e, j) => (e.raw ? [`${e.raw} AS r${j}`] : [])),
      ];
  const index = (name: string, type: ScalarTypeName) => cols.findIndex((c) => c.name === name && c.type === type);
  const typeCol = index('Type', 'string');
  const generated = index('TimeGenerated', 'datetime');
  const stamp = index('Timestamp', 'datetime');
  // What a Sentinel workspace fills in when the source leaves it out (see CONTEXT.md, "Loading").
  const final = cols.map((c, j) => {
    if (plan.set?.[c.name] !== undefined && c.type === 'string') return `v${j}`;
    if (j === typeCol) return `coalesce(NULLIF(v${j}, ''), ${str(plan.table.name)}) AS v${j}`;
    if (j === generated) {
      return `coalesce(v${j}, ${stamp >= 0 ? `v${stamp}, ` : ''}${plan.ingestionTime}) AS v${j}`;
    }
    if (j === stamp && generated >= 0) return `coalesce(v${j}, v${generated}) AS v${j}`;
    return `v${j}`;
  });
  // A value failed when it converted to NULL from a non-blank text. `__ok` (a boolean: cheap, and evaluated
  // lazily column by column) decides what is inserted; `__err` lists the failed columns, for rejected rows only.
  const failed = (j: number) => `(v${j} IS NULL AND r${j} IS NOT NULL AND trim(r${j}) <> '')`;
  const fallible = exprs.flatMap((e, j) => (e.raw ? [j] : []));
  const ok =
    fallible.length > 0
      ? fallible.map((j) => `(v${j} IS NOT NULL OR r${j} IS NULL OR trim(r${j}) = '')`).join(' AND ')
      : 'true';
  const err =
    fallible.length > 0
      ? `concat_ws(',', ${fallible.map((j) => `CASE WHEN ${failed(j)} THEN '${j}' END`).join(', ')})`
      : "''";
  const rawCols = fallible.map((j) => `r${j}`);
  // For the dead-letter table: the failed values as JSON `[{column, expected, value}]` and as one line of text.
  const errors = () => {
    const items = fallible.map((j) => {
      const c = cols[j] as (typeof cols)[number];
      return `CASE WHEN ${failed(j)} THEN {'column': ${str(c.name)}, 'expected': ${str(c.type)}, 'value': left(r${j}, 200)} END`;
    });
    const reasons = fallible.map((j) => {
      const c = cols[j] as (typeof cols)[number];
      return `CASE WHEN ${failed(j)} THEN ${str(`${c.name}: `)} || to_json(left(r${j}, 200)) || ${str(` is not a ${c.type}`)} END`;
    });
    return items.length
      ? [
          `CAST(to_json(list_filter([${items.join(', ')}], lambda x: x IS NOT NULL)) AS VARCHAR) AS __errors`,
          `concat_ws('; ', ${reasons.join(', ')}) AS __reason`,
        ]
      : [`'[]' AS __errors`, `'' AS __reason`];
  };
  const level2 = strict
    ? final
    : [
        ...(withRowNumber ? ['__row'] : []),
        ...final,
        ...rawCols,
        `${ok} AS __ok`,
        ...(withRowNumber ? [`${err} AS __err`] : []),
        ...(withErrors ? errors() : []),
      ];
  // The strict insert stores constants for unseen columns: a value in one of their fields must stop it.
  const unseenFields = [...unseen].flatMap((j) => plan.mapping.sources.get((cols[j] as StorageColumn).name) ?? []);
  const guard = unseenFields.length
    ? ` WHERE ${unseenFields.map((i) => `(CASE WHEN f${i} IS NOT NULL THEN error(${str(STRICT_REJECT)}) ELSE true END)`).join(' AND ')}`
    : '';
  return `SELECT ${level2.join(', ')} FROM (SELECT ${level1.join(', ')} FROM (${sourceSql(plan)}) AS __src${guard})`;
}

/** Columns fed only by fields that were not seen in the records' sample (see LoadSource `sampled`). */
function unseenColumns(plan: LoadPlan): Set<number> {
  const out = new Set<number>();
  const { source } = plan;
  if (source.kind !== 'json' || source.sampled === undefined) return out;
  const sampled = source.sampled;
  plan.table.columns.forEach((c, j) => {
    if (plan.set?.[c.name] !== undefined && c.type === 'string') return; // a constant already
    const sources = plan.mapping.sources.get(c.name) ?? [];
    if (sources.length > 0 && sources.every((i) => i >= sampled)) out.add(j);
  });
  return out;
}

/** The message of the error a strict insert raises when it cannot load the file (the checked insert can). */
export const STRICT_REJECT = 'vigil: a value cannot be coerced to its column type';

/**
 * The insert. `strict` is the fast path for the usual case, a file without bad values: each value is converted
 * once and a value that cannot be coerced raises STRICT_REJECT, failing the statement (the caller then rolls back
 * and loads with `strict = false`). The checked form filters rows on `__ok` instead, which DuckDB pushes down
 * into the scan, converting the fallible columns twice; it is only needed when some rows are rejected.
 */
export function insertSql(plan: LoadPlan, strict = false): string {
  const t = plan.table;
  // Only the columns this load gives a value; the others get their column default ('' or NULL), which is also what
  // a lazy table's view shows for a column it does not store.
  const written = writtenColumns(plan);
  const target = [
    ...written.map((j) => ident((t.columns[j] as StorageColumn).storageName)),
    ident(t.hidden.ingestionTime),
    ident(t.hidden.batchId),
  ];
  const values = [...written.map((j) => `v${j}`), plan.ingestionTime, String(plan.batchId)];
  return (
    `INSERT INTO ${plan.into ?? ident(t.storageName)} (${target.join(', ')}) ` +
    `SELECT ${values.join(', ')} FROM (${convertedSql(plan, false, false, strict)})${strict ? '' : ' WHERE __ok'}`
  );
}

/**
 * Indexes of the table columns a load writes: those fed by a field seen in the records (fields declared only in case
 * a late record has them are left out: a value in one of them stops the strict insert, see `unseenFieldsSql`), the
 * constants of `set`, and the columns a Sentinel workspace fills in (`Type`, `TimeGenerated`, `Timestamp`).
 */
export function writtenColumns(plan: LoadPlan): number[] {
  const cols = plan.table.columns;
  const unseen = unseenColumns(plan);
  const generated = cols.findIndex((c) => c.name === 'TimeGenerated' && c.type === 'datetime');
  const out: number[] = [];
  cols.forEach((c, j) => {
    const filled =
      (plan.set?.[c.name] !== undefined && c.type === 'string') ||
      (c.name === 'Type' && c.type === 'string') ||
      j === generated ||
      (c.name === 'Timestamp' && c.type === 'datetime' && generated >= 0);
    if (filled || ((plan.mapping.sources.get(c.name)?.length ?? 0) > 0 && !unseen.has(j))) out.push(j);
  });
  return out;
}

/**
 * After a strict insert failed: which fields declared only to catch late keys (`LoadSource.sampled`) hold a value
 * in some record. One row of booleans, one per index of `fields` (null when there are none to check).
 */
export function unseenFieldsSql(plan: LoadPlan): { sql: string; fields: readonly number[] } | null {
  const { source } = plan;
  if (source.kind !== 'json' || source.sampled === undefined) return null;
  const used = new Set([...plan.mapping.sources.values()].flat());
  const fields = source.fields.flatMap((_, i) => (i >= (source.sampled as number) && used.has(i) ? [i] : []));
  if (fields.length === 0) return null;
  return { sql: `SELECT ${fields.map((i) => `count(f${i}) > 0`).join(', ')} FROM (${sourceSql(plan)})`, fields };
}

/** Records in the file; reads as little as possible (one declared key for JSON). */
export function countSql(plan: LoadPlan): string {
  const { source } = plan;
  if (source.kind === 'json' && source.mode === 'columns') {
    const key = source.fields[0] ?? '__none__';
    return (
      `SELECT count(*) AS n FROM read_json(${str(source.path)}, format = '${jsonFormat(source)}', ` +
      `maximum_object_size = ${source.maxObjectBytes ?? MAX_OBJECT}, columns = {${str(key)}: 'VARCHAR'})`
    );
  }
  return `SELECT count(*) AS n FROM (${sourceSql(plan)})`;
}

/** The first `limit` rejected rows: record number, failed column indexes, and the raw texts of those columns. */
export function rejectsSql(plan: LoadPlan, limit: number): { sql: string; rawColumns: readonly number[] } {
  const rawColumns = plan.table.columns.flatMap((c, j) => (columnExprs(plan, c.name, c.type).raw ? [j] : []));
  const raws = rawColumns.map((j) => `r${j}`);
  return {
    sql: `SELECT __row, __err${raws.length ? `, ${raws.join(', ')}` : ''} FROM (${convertedSql(plan, true)}) WHERE NOT __ok ORDER BY __row LIMIT ${limit}`,
    rawColumns,
  };
}

/**
 * Every rejected record: `__row` (1-based record number), `errors`, a JSON array of `{column, expected, value}`
 * for the values that could not be coerced (value cut to 200 characters), and `reason`, the same as one line.
 */
export function allRejectsSql(plan: LoadPlan): string {
  return `SELECT __row, __errors AS errors, __reason AS reason FROM (${convertedSql(plan, true, true)}) WHERE NOT __ok`;
}

/** The raw text of each record, `__raw`, with its 1-based record number `__n` (for the dead-letter table). */
export function rawRecordsSql(source: LoadSource): string {
  if (source.kind === 'json') {
    return `SELECT row_number() OVER () AS __n, CAST(__j AS VARCHAR) AS __raw FROM (${recordsSql(source.path, source.envelope, source.lines)})`;
  }
  if (source.kind === 'csv') {
    // A CSV row's raw line cannot be recovered exactly (quoted line breaks): keep it as a JSON object of its fields.
    const cols = source.fields.map((_, i) => `'f${i}': 'VARCHAR'`).join(', ');
    const pairs = source.fields.map((f, i) => `${str(f)}, f${i}`).join(', ');
    return (
      `SELECT row_number() OVER () AS __n, CAST(json_object(${pairs}) AS VARCHAR) AS __raw FROM read_csv(${str(source.path)}, ` +
      `header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', null_padding = true, parallel = false, ` +
      `max_line_size = ${MAX_LINE}, columns = {${cols}})`
    );
  }
  return `SELECT NULL::BIGINT AS __n, NULL::VARCHAR AS __raw WHERE false`;
}

/** Keys of the first records, in order of first appearance (sampling is enough to map the fields). */
export function sampleKeysSql(path: string, envelope: 'records' | 'properties' | undefined, rows: number): string {
  return `SELECT json_keys(__j) AS k FROM (${recordsSql(path, envelope)}) WHERE json_type(__j) = 'OBJECT' LIMIT ${rows}`;
}
