/**
 * DuckDB building blocks shared by the template files: literals, identifiers, and conversions between the
 * storage model (see packages/server/src/engine/CONTEXT.md) and KQL values:
 * - datetime is TIMESTAMP (µs), timespan is BIGINT holding 100-ns ticks, dynamic is JSON, guid is UUID;
 * - KQL strings are never null: string-valued templates return '' where SQL would give NULL.
 */
import type { ColumnType, ScalarTypeName } from '../../../binder/types.js';
import { ticksToIso } from '../../../plan/lower.js';
import type { PlanValue } from '../../../plan/nodes.js';
import type { SqlArg, TemplateContext } from '../../dialect.js';

export const DUCKDB_TYPES: Readonly<Record<ScalarTypeName, string>> = {
  bool: 'BOOLEAN',
  int: 'INTEGER',
  long: 'BIGINT',
  real: 'DOUBLE',
  decimal: 'DECIMAL(38,18)',
  string: 'VARCHAR',
  datetime: 'TIMESTAMP',
  timespan: 'BIGINT',
  guid: 'UUID',
  dynamic: 'JSON',
};

/** Ticks (100 ns) from 0001-01-01 to 1970-01-01: KQL counts datetime ticks from year 1, DuckDB from 1970. */
export const EPOCH_TICKS = '621355968000000000';
export const TICKS_PER_DAY = 864000000000n;

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL string literal. NUL characters cannot appear in DuckDB literals, so they are spliced with chr(0). */
export function sqlString(s: string): string {
  if (s.includes('\u0000')) return s.split('\u0000').map(sqlString).join(' || chr(0) || ');
  return `'${s.replace(/'/g, "''")}'`;
}

export function nullOf(type: ColumnType): string {
  if (type === 'string') return "''";
  if (type === 'unknown') return 'NULL';
  return `CAST(NULL AS ${DUCKDB_TYPES[type]})`;
}

export function literal(value: PlanValue, type: ScalarTypeName, json?: string): string {
  if (value === null) return nullOf(type);
  switch (type) {
    case 'bool':
      return value === true || value === 'true' ? 'TRUE' : 'FALSE';
    case 'int':
      return `CAST(${integerText(value)} AS INTEGER)`;
    case 'long':
      return `CAST(${integerText(value)} AS BIGINT)`;
    case 'real': {
      if (typeof value === 'number') {
        if (Number.isNaN(value)) return "CAST('NaN' AS DOUBLE)";
        if (!Number.isFinite(value)) return `CAST('${value > 0 ? 'Infinity' : '-Infinity'}' AS DOUBLE)`;
        // Exponent forms (1e+300) are not valid DuckDB numeric literals without a cast.
        // A bare 1.5 is a DECIMAL in DuckDB (0.1 + 0.2 would be exactly 0.3): reals are typed as DOUBLE.
        const t = String(value);
        return /e/i.test(t) ? `CAST('${t}' AS DOUBLE)` : `CAST(${Number.isInteger(value) ? `${t}.0` : t} AS DOUBLE)`;
      }
      const t = String(value);
      if (t === 'NaN' || t === 'Infinity' || t === '-Infinity') return `CAST('${t}' AS DOUBLE)`;
      return `CAST(${sqlString(t)} AS DOUBLE)`;
    }
    case 'decimal':
      return `CAST(${sqlString(String(value))} AS DECIMAL(38,18))`;
    case 'string':
      return sqlString(String(value));
    case 'datetime': {
      const iso = ticksToIso(BigInt(String(value)));
      return `TIMESTAMP '${iso.slice(0, 10)} ${iso.slice(11, 26)}'`;
    }
    case 'timespan':
      return `CAST(${integerText(value)} AS BIGINT)`;
    case 'guid':
      return `CAST(${sqlString(String(value))} AS UUID)`;
    case 'dynamic':
      return `CAST(${sqlString(json ?? JSON.stringify(value))} AS JSON)`;
  }
}

function integerText(value: PlanValue): string {
  const t = String(value);
  if (!/^-?\d+$/.test(t)) throw new Error(`internal: not an integer literal: ${t}`);
  return t;
}

// ───────────────────────────── evaluating a value once ─────────────────────────────

/** SQL that is cheap and side-effect free to repeat: a column, a literal, a cast literal. */
function isSimple(sql: string): boolean {
  return (
    sql.length <= 80 &&
    /^(?:"(?:[^"]|"")*"(?:\."(?:[^"]|"")*")?|-?\d+(?:\.\d+)?|'(?:[^']|''){0,60}'|TRUE|FALSE|NULL|CAST\((?:-?\d+(?:\.\d+)?|'(?:[^']|''){0,40}'|NULL) AS [A-Z]+(?:\(\d+,\d+\))?\)|TIMESTAMP '[^']*')$/.test(
      sql,
    )
  );
}

const HAS_SELECT = /\bSELECT\b/i;

function hashName(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}

/**
 * Uses a value several times without repeating (and re-evaluating) its SQL: simple values are repeated, others are
 * bound once with a one-element lambda. Repeating a non-trivial argument would grow nested calls exponentially.
 */
export function withValue(sql: string, body: (v: string) => string): string {
  // DuckDB rejects subqueries inside lambdas: a value holding one (toscalar), or a body that would hold one, is
  // repeated instead.
  if (isSimple(sql) || HAS_SELECT.test(sql)) return body(sql);
  const name = `__v${hashName(sql)}`;
  const inLambda = body(name);
  if (HAS_SELECT.test(inLambda)) return body(sql);
  return `(list_transform([${sql}], lambda ${name}: ${inLambda}))[1]`;
}

/** `withValue` for several values at once. */
export function withValues<const T extends readonly string[]>(
  sqls: T,
  body: (vs: { -readonly [K in keyof T]: string }) => string,
): string {
  const go = (i: number, acc: string[]): string =>
    i === sqls.length
      ? body(acc as { -readonly [K in keyof T]: string })
      : withValue(sqls[i] as string, (v) => go(i + 1, [...acc, v]));
  return go(0, []);
}

// ───────────────────────────── conversions used by templates ─────────────────────────────

/** A dynamic (JSON) value as KQL's tostring() sees it: strings unquoted, other values as JSON text, null → ''. */
export function dynamicToString(sql: string): string {
  return `COALESCE((${sql}) ->> '$', '')`;
}

/** A datetime as KQL prints it: ISO 8601 with 7 fractional digits and `Z` (storage keeps µs). */
export function datetimeText(sql: string): string {
  return `(strftime(${sql}, '%Y-%m-%dT%H:%M:%S.%f') || '0Z')`;
}

/** Any argument as a VARCHAR the way KQL's tostring() renders it. */
export function asString(a: SqlArg): string {
  switch (a.type) {
    case 'string':
      return a.sql;
    case 'dynamic':
      return dynamicToString(a.sql);
    case 'datetime':
      return `COALESCE(${datetimeText(a.sql)}, '')`;
    case 'timespan':
      return `COALESCE(${timespanText(a.sql)}, '')`;
    case 'bool':
      // Kusto prints booleans as .NET does: True / False.
      return `COALESCE(CASE WHEN ${a.sql} THEN 'True' ELSE 'False' END, '')`;
    case 'real':
      return `COALESCE(${realText(a.sql)}, '')`;
    case 'decimal':
      return `COALESCE(${decimalText(a.sql)}, '')`;
    case 'guid':
      return `COALESCE(CAST(${a.sql} AS VARCHAR), '')`;
    default:
      return `COALESCE(CAST(${a.sql} AS VARCHAR), '')`;
  }
}

/**
 * KQL's rendering of a real (the round-trip digits, as Kusto prints them): `1.5`, `1500.0`, `1E+15`, `1.5E-07`,
 * `NaN`, `Infinity`. DuckDB prints the same shortest digits, but in fixed notation up to 1e16 and with a lower-case e.
 */
export function realText(sql: string): string {
  return withValue(
    sql,
    (v) =>
      `(CASE WHEN ${v} IS NULL THEN NULL WHEN isnan(${v}) THEN 'NaN' WHEN isinf(${v}) THEN (CASE WHEN ${v} > 0 THEN 'Infinity' ELSE '-Infinity' END) ` +
      `WHEN abs(${v}) >= 1e15 AND abs(${v}) < 1e16 THEN (CASE WHEN ${v} < 0 THEN '-' ELSE '' END) || ` +
      `regexp_replace(rtrim(regexp_replace(CAST(abs(${v}) AS VARCHAR), '[.]', ''), '0'), '^(.)(.+)$', '\\1.\\2') || 'E+15' ` +
      `ELSE upper(CAST(${v} AS VARCHAR)) END)`,
  );
}

/** A decimal without the storage scale's trailing zeros (`1.5`, not `1.500000000000000000`). */
export function decimalText(sql: string): string {
  return withValue(
    sql,
    (v) => `(CASE WHEN ${v} IS NULL THEN NULL ELSE rtrim(rtrim(CAST(${v} AS VARCHAR), '0'), '.') END)`,
  );
}

/** `[-][d.]hh:mm:ss[.fffffff]` from 100-ns ticks. */
export function timespanText(ticks: string): string {
  return withValue(ticks, (v) => {
    const t = `abs(${v})`;
    return `(CASE WHEN ${v} IS NULL THEN NULL ELSE (CASE WHEN ${v} < 0 THEN '-' ELSE '' END) || (CASE WHEN ${t} >= 864000000000 THEN CAST(${t} // 864000000000 AS VARCHAR) || '.' ELSE '' END) || lpad(CAST((${t} // 36000000000) % 24 AS VARCHAR), 2, '0') || ':' || lpad(CAST((${t} // 600000000) % 60 AS VARCHAR), 2, '0') || ':' || lpad(CAST((${t} // 10000000) % 60 AS VARCHAR), 2, '0') || (CASE WHEN ${t} % 10000000 <> 0 THEN '.' || lpad(CAST(${t} % 10000000 AS VARCHAR), 7, '0') ELSE '' END) END)`;
  });
}

/** A dynamic value as a DOUBLE (for arithmetic and comparisons with numbers); non-numbers become null. */
export function dynamicToNumber(sql: string): string {
  return `TRY_CAST((${sql}) ->> '$' AS DOUBLE)`;
}

/** Any argument as a JSON value (for pack/array builders). */
export function asJson(a: SqlArg): string {
  switch (a.type) {
    case 'dynamic':
      return a.sql;
    case 'datetime':
      return `to_json(${datetimeText(a.sql)})`;
    case 'timespan':
      return `to_json(${timespanText(a.sql)})`;
    case 'guid':
      return `to_json(CAST(${a.sql} AS VARCHAR))`;
    case 'decimal':
      return `to_json(CAST(${a.sql} AS DOUBLE))`;
    default:
      return `to_json(${a.sql})`;
  }
}

/** Timespan ticks → an INTERVAL DuckDB can add to a TIMESTAMP. */
export function ticksToInterval(ticks: string): string {
  return `to_microseconds((${ticks}) // 10)`;
}

/** A TIMESTAMP → ticks since 1970 (BIGINT). */
export function timestampTicks(ts: string): string {
  return `(epoch_us(${ts}) * 10)`;
}

/** Ticks since 1970 → TIMESTAMP (truncated to the storage's µs, rounding toward negative infinity). */
export function ticksToTimestamp(ticks: string): string {
  return withValue(ticks, (v) => `make_timestamp((${v}) // 10 - (CASE WHEN (${v}) % 10 < 0 THEN 1 ELSE 0 END))`);
}

/** Microseconds from 0001-01-01 to 1970-01-01 (bins and calendar arithmetic count from year 1, as Kusto does). */
export const EPOCH_MICROS = '62135596800000000';

/** The literal string value of an argument, or null when it is not a string literal. */
export function literalString(a: SqlArg | undefined): string | null {
  const v = a?.literal?.value;
  return typeof v === 'string' && a?.literal?.type === 'string' ? v : null;
}

/** The literal integer value of an argument (int, long or real literal), or null. */
export function literalNumber(a: SqlArg | undefined): number | null {
  const l = a?.literal;
  if (!l || l.value === null) return null;
  if (l.type !== 'int' && l.type !== 'long' && l.type !== 'real' && l.type !== 'decimal') return null;
  const n = Number(l.value);
  return Number.isFinite(n) ? n : null;
}

/** Requires an argument; a missing one means the catalog let through a call the template cannot express. */
export function arg(args: readonly SqlArg[], i: number, ctx: TemplateContext): SqlArg {
  const a = args[i];
  if (!a) return ctx.unsupported(`argument ${i + 1} is required`);
  return a;
}

/** Escapes a string for use inside an RE2 pattern. */
export function regexEscape(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** The elements of a dynamic value as a list of JSON values: an array's elements, any other value as itself. */
export function jsonElements(sql: string): string {
  return withValue(
    sql,
    (v) =>
      `(CASE WHEN ${v} IS NULL THEN []::JSON[] WHEN json_type(${v}) = 'ARRAY' THEN CAST(json_extract(${v}, '$[*]') AS JSON[]) WHEN json_type(${v}) = 'NULL' THEN []::JSON[] ELSE [${v}] END)`,
  );
}

/** The elements of a dynamic array as strings (as tostring() renders each), or an empty list when not an array. */
export function jsonArrayStrings(sql: string): string {
  return withValue(
    sql,
    (v) =>
      `(CASE WHEN json_type(${v}) = 'ARRAY' THEN list_transform(CAST(json_extract(${v}, '$[*]') AS JSON[]), lambda __e: COALESCE(__e ->> '$', '')) ELSE []::VARCHAR[] END)`,
  );
}

// ───────────────────────────── regular expressions ─────────────────────────────

const WORD_CLASS = '\\p{L}\\p{Mn}\\p{Nd}\\p{Pc}';
const SPACE_CLASS = '\\s\\p{Z}\\x85\\v';

/**
 * A Kusto regex in RE2 syntax. Both are RE2 dialects, but Kusto's `\d`, `\w`, `\s` are Unicode-aware (a full-width
 * digit is a `\d`, a no-break space a `\s`), and `(?<name>...)` names a group: RE2 spells it `(?P<name>...)`.
 */
export function translateRegex(pattern: string): string {
  let out = '';
  let inClass = false;
  let classStart = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) {
      const n = pattern[++i] as string;
      if (n === 'd') out += '\\p{Nd}';
      else if (n === 'w') out += inClass ? WORD_CLASS : `[${WORD_CLASS}]`;
      else if (n === 's') out += inClass ? SPACE_CLASS : `[${SPACE_CLASS}]`;
      else if (n === 'D' && !inClass) out += '\\P{Nd}';
      else if (n === 'W' && !inClass) out += `[^${WORD_CLASS}]`;
      else if (n === 'S' && !inClass) out += `[^${SPACE_CLASS}]`;
      else out += `\\${n}`;
      continue;
    }
    if (inClass) {
      // A ']' right after '[' or '[^' is a literal.
      if (c === ']' && i > classStart) inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      classStart = pattern[i + 1] === '^' ? i + 2 : i + 1;
      out += c;
      continue;
    }
    if (c === '(' && pattern.startsWith('(?<', i) && pattern[i + 3] !== '=' && pattern[i + 3] !== '!') {
      out += '(?P<';
      i += 2;
      continue;
    }
    out += c;
  }
  return out;
}

/** A regex argument as SQL: literal patterns translated at compile time, computed ones at run time (group names). */
export function regexArg(a: SqlArg): string {
  const lit = literalString(a);
  if (lit !== null) return sqlString(translateRegex(lit));
  return `replace(${asString(a)}, '(?<', '(?P<')`;
}

/** The names of a pattern's capture groups by number (1-based; unnamed groups have no name). */
export function captureGroups(pattern: string): (string | null)[] {
  const groups: (string | null)[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
      continue;
    }
    if (c !== '(') continue;
    if (pattern[i + 1] !== '?') groups.push(null);
    else {
      const m = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(pattern.slice(i));
      if (m) groups.push(m[1] as string);
    }
  }
  return groups;
}
