/**
 * ClickHouse building blocks shared by the template files: literals, identifiers, and conversions between the
 * storage model and KQL values:
 * - datetime is DateTime64(7, 'UTC') (100-ns ticks since 1970, exactly Kusto's precision; range 1900..2299),
 *   timespan is Int64 ticks, dynamic is JSON text in a Nullable(String), guid is UUID, decimal Decimal(38, 18);
 * - every KQL type but string is Nullable (KQL values may be null; ClickHouse columns are not by default);
 * - KQL strings are never null: string-valued templates return '' where SQL would give NULL.
 */
import type { ColumnType, ScalarTypeName } from '../../../binder/types.js';
import { ticksToIso } from '../../../plan/lower.js';
import type { PlanValue } from '../../../plan/nodes.js';
import type { SqlArg, TemplateContext } from '../../dialect.js';

export const CLICKHOUSE_TYPES: Readonly<Record<ScalarTypeName, string>> = {
  bool: 'Nullable(Bool)',
  int: 'Nullable(Int32)',
  long: 'Nullable(Int64)',
  real: 'Nullable(Float64)',
  decimal: 'Nullable(Decimal(38, 18))',
  string: 'String',
  datetime: "Nullable(DateTime64(7, 'UTC'))",
  timespan: 'Nullable(Int64)',
  guid: 'Nullable(UUID)',
  dynamic: 'Nullable(String)',
};

/** Ticks (100 ns) from 0001-01-01 to 1970-01-01: KQL counts datetime ticks from year 1, ClickHouse from 1970. */
export const EPOCH_TICKS = '621355968000000000';

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A ClickHouse string literal: backslashes are escapes there, so both `\` and `'` are escaped. */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replaceAll(String.fromCharCode(0), '\\0')}'`;
}

export function nullOf(type: ColumnType): string {
  if (type === 'string') return "''";
  if (type === 'unknown') return 'NULL';
  return `CAST(NULL AS ${CLICKHOUSE_TYPES[type]})`;
}

function integerText(value: PlanValue): string {
  const t = String(value);
  if (!/^-?\d+$/.test(t)) throw new Error(`internal: not an integer literal: ${t}`);
  return t;
}

/** A datetime literal from ticks since 1970. */
export function datetimeLiteral(ticks: bigint): string {
  const iso = ticksToIso(ticks);
  return `toDateTime64('${iso.slice(0, 10)} ${iso.slice(11, 27)}', 7, 'UTC')`;
}

/** `json`: a dynamic literal's exact JSON text (long integers exact, reals written `1.0`), kept as DuckDB keeps it. */
export function literal(value: PlanValue, type: ScalarTypeName, json?: string): string {
  if (value === null) return nullOf(type);
  switch (type) {
    case 'bool':
      return value === true || value === 'true' ? 'true' : 'false';
    case 'int':
      return `toInt32(${integerText(value)})`;
    case 'long':
    case 'timespan':
      // A quoted text keeps -9223372036854775808 exact (a bare literal would be parsed as a wider type first).
      return `toInt64('${integerText(value)}')`;
    case 'real': {
      const n = typeof value === 'number' ? value : Number(String(value));
      if (Number.isNaN(n)) return 'toFloat64(nan)';
      if (!Number.isFinite(n)) return n > 0 ? 'toFloat64(inf)' : 'toFloat64(-inf)';
      return `toFloat64(${typeof value === 'number' ? String(value) : sqlString(String(value))})`;
    }
    case 'decimal':
      return `toDecimal128(${sqlString(String(value))}, 18)`;
    case 'string':
      return sqlString(String(value));
    case 'datetime':
      return datetimeLiteral(BigInt(String(value)));
    case 'guid':
      return `toUUID(${sqlString(String(value))})`;
    case 'dynamic':
      return `CAST(${sqlString(json ?? JSON.stringify(value))} AS Nullable(String))`;
  }
}

export function arg(args: readonly SqlArg[], i: number, ctx: TemplateContext): SqlArg {
  const a = args[i];
  if (!a) return ctx.unsupported(`argument ${i + 1} is required`);
  return a;
}

/** SQL that is cheap and side-effect free to repeat: a column, a literal, a typed literal. */
function isSimple(sql: string): boolean {
  return (
    sql.length <= 90 &&
    /^(?:"(?:[^"\\]|\\.)*"(?:\."(?:[^"\\]|\\.)*")?|-?\d+(?:\.\d+)?|'(?:[^'\\]|\\.){0,60}'|true|false|NULL|to[A-Za-z0-9]+\((?:-?\d+(?:\.\d+)?|'(?:[^'\\]|\\.){0,40}'|nan|inf|-inf)(?:, \d+)?(?:, 'UTC')?\)|CAST\(NULL AS [^()]+(?:\([^()]*\))?\))$/.test(
      sql,
    )
  );
}

function hashName(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}

/**
 * Uses a value several times without repeating (and re-evaluating) its SQL: simple values are repeated, others are
 * bound once through a one-element arrayMap lambda (ClickHouse has no scalar let).
 */
export function withValue(sql: string, body: (v: string) => string): string {
  if (isSimple(sql) || /\bSELECT\b/i.test(sql)) return body(sql);
  const name = `__v${hashName(sql)}`;
  const inLambda = body(name);
  if (/\bSELECT\b/i.test(inLambda)) return body(sql);
  return `arrayElement(arrayMap(${name} -> ${inLambda}, [${sql}]), 1)`;
}

/** A literal string argument's value, if it is one. */
export function literalString(a: SqlArg | undefined): string | null {
  const v = a?.literal?.value;
  return typeof v === 'string' ? v : null;
}

/** A literal number argument's value, if it is one. */
export function literalNumber(a: SqlArg | undefined): number | null {
  const v = a?.literal?.value;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return null;
}

// ───────────────────────────── value conversions ─────────────────────────────

/** A dynamic (JSON text) value as KQL's tostring() prints it: a JSON string unquoted, other values as JSON, null ''. */
export function dynamicToString(sql: string): string {
  return withValue(
    sql,
    (v) => `if(JSONType(ifNull(${v}, 'null')) = 'String', JSONExtractString(${v}), ifNull(${v}, ''))`,
  );
}

/** A dynamic value as a number (null when it is not one). */
export function dynamicToNumber(sql: string): string {
  return withValue(
    sql,
    (v) =>
      `if(JSONType(ifNull(${v}, 'null')) IN ('Int64', 'UInt64', 'Double'), toFloat64OrNull(${v}), if(JSONType(ifNull(${v}, 'null')) = 'String', toFloat64OrNull(JSONExtractString(${v})), NULL))`,
  );
}

/** A datetime as KQL prints it: `2024-01-02T03:04:05.1234567Z`. */
export function datetimeText(sql: string): string {
  return `ifNull(concat(replaceOne(toString(${sql}), ' ', 'T'), 'Z'), '')`;
}

/** Timespan ticks as `[-][d.]hh:mm:ss[.fffffff]`. */
export function timespanText(sql: string): string {
  return withValue(sql, (t) => {
    const a = `abs(${t})`;
    const days = `intDiv(${a}, 864000000000)`;
    const hms = `formatDateTime(toDateTime(intDiv(${a} % 864000000000, 10000000), 'UTC'), '%H:%i:%S')`;
    const frac = `${a} % 10000000`;
    return `if(${t} IS NULL, '', concat(if(${t} < 0, '-', ''), if(${days} > 0, concat(toString(${days}), '.'), ''), ${hms}, if(${frac} > 0, concat('.', leftPad(toString(${frac}), 7, '0')), '')))`;
  });
}

/** A real as Kusto prints it (integral values keep no fraction: `1`, `1.5`, `1E+15`). */
export function realText(sql: string): string {
  return withValue(
    sql,
    (x) =>
      `multiIf(${x} IS NULL, '', isNaN(${x}), 'NaN', isInfinite(${x}), if(${x} > 0, 'Infinity', '-Infinity'), abs(${x}) >= 1e15 OR (abs(${x}) < 1e-4 AND ${x} != 0), replaceRegexpOne(upper(toString(${x})), 'E([0-9])', 'E+\\\\1'), toString(${x}))`,
  );
}

/** Any KQL value as its string form (tostring). */
export function asString(a: SqlArg): string {
  switch (a.type) {
    case 'string':
      return a.sql;
    case 'bool':
      return `multiIf(${a.sql} IS NULL, '', ${a.sql}, 'True', 'False')`;
    case 'int':
    case 'long':
      return `ifNull(toString(${a.sql}), '')`;
    case 'decimal':
      return `ifNull(toString(${a.sql}), '')`;
    case 'real':
      return realText(a.sql);
    case 'datetime':
      return datetimeText(a.sql);
    case 'timespan':
      return timespanText(a.sql);
    case 'guid':
      return `ifNull(toString(${a.sql}), '')`;
    case 'dynamic':
      return dynamicToString(a.sql);
    default:
      return `ifNull(toString(${a.sql}), '')`;
  }
}

/** Any KQL value as JSON text (a dynamic value). */
export function asJson(a: SqlArg): string {
  switch (a.type) {
    case 'dynamic':
      return a.sql;
    case 'string':
      return `toJSONString(${a.sql})`;
    case 'bool':
      return `if(${a.sql} IS NULL, NULL, toJSONString(assumeNotNull(${a.sql})))`;
    case 'int':
    case 'long':
      // Not toJSONString: the engine's output_format_json_quote_64bit_integers would quote an Int64.
      return `if(${a.sql} IS NULL, NULL, toString(assumeNotNull(${a.sql})))`;
    case 'real':
      // Kusto writes NaN and the infinities into dynamic values as the strings "NaN", "Infinity", "-Infinity".
      return withValue(
        a.sql,
        (x) =>
          `multiIf(${x} IS NULL, NULL, isNaN(${x}), '"NaN"', isInfinite(${x}), if(${x} > 0, '"Infinity"', '"-Infinity"'), toJSONString(assumeNotNull(${x})))`,
      );
    case 'decimal':
      return `if(${a.sql} IS NULL, NULL, toString(${a.sql}))`;
    case 'datetime':
    case 'timespan':
    case 'guid':
      return `if(${a.sql} IS NULL, NULL, toJSONString(${asString(a)}))`;
    default:
      return `if(${a.sql} IS NULL, NULL, toJSONString(${a.sql}))`;
  }
}

/** Ticks since 1970 of a datetime (Int64). */
export function datetimeTicks(sql: string): string {
  return `reinterpret(${sql}, 'Int64')`;
}

/** A datetime from ticks since 1970. */
export function ticksToDatetime(sql: string): string {
  return `reinterpret(toInt64(${sql}), 'DateTime64(7, \\'UTC\\')')`;
}

/** Keeps null as null through reinterpret (which needs a non-null value). */
export function nullSafe(sql: string, f: (v: string) => string): string {
  return withValue(sql, (v) => `if(${v} IS NULL, NULL, ${f(`assumeNotNull(${v})`)})`);
}

/** KQL RE2 patterns run as they are (ClickHouse uses RE2); `(?<n>` becomes `(?P<n>`. */
export function translateRegex(pattern: string): string {
  return pattern.replace(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?P<$1>');
}

/** A regex argument: literal patterns translated, computed ones passed through. */
export function regexArg(a: SqlArg): string {
  const s = literalString(a);
  return s !== null ? sqlString(translateRegex(s)) : a.sql;
}

export function regexEscape(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, (c) => `\\${c}`);
}
