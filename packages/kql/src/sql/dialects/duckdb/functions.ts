/**
 * KQL scalar functions in DuckDB: the core set (conversions, emptiness, conditionals, bin) and the dynamic helpers
 * the plan relies on; the families live in sibling files (functions-strings.ts, functions-datetime.ts, ...).
 *
 * Conventions for every template file: arguments arrive compiled with their KQL types; string results are never
 * null (''); a conversion that fails gives null, never a SQL error; regexes are RE2 in both systems; a template
 * that repeats an argument binds it once (`withValue`) so nested calls do not grow exponentially; a result that is
 * not a single SQL term is parenthesized.
 */
import type { ColumnType } from '../../../binder/types.js';
import { parseDateTimeText } from '../../../syntax/literals.js';
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import {
  arg,
  asJson,
  asString,
  dynamicToNumber,
  dynamicToString,
  EPOCH_MICROS,
  EPOCH_TICKS,
  literal,
  literalString,
  sqlString,
  TICKS_PER_DAY,
  ticksToTimestamp,
  timestampTicks,
  withValue,
  withValues,
} from './base.js';

function s(a: SqlArg): string {
  return asString(a);
}

/** Whitespace .NET's number parsing tolerates around a number. */
const WS = `' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)`;

type IntTarget = 'BIGINT' | 'INTEGER';
const INT_RANGE: Readonly<Record<IntTarget, [string, string]>> = {
  BIGINT: ['9223372036854775807', '(-9223372036854775807 - 1)'],
  INTEGER: ['2147483647', '(-2147483648)'],
};

/** Integer text (optional sign, digits, surrounding whitespace) → integer; anything else (`1.5`, `1e3`) → null. */
function parseInteger(text: string, target: IntTarget): string {
  // Kusto also reads hexadecimal (`0x1F` is 31).
  return withValue(
    `trim(${text}, ${WS})`,
    (t) => `(CASE WHEN regexp_matches(${t}, '^[+-]?[0-9]+$|^0[xX][0-9a-fA-F]+$') THEN TRY_CAST(${t} AS ${target}) END)`,
  );
}

/** long → int as .NET's unchecked cast: the low 32 bits, two's complement (2147483648 → -2147483648). */
function wrapToInt(sql: string): string {
  return withValue(
    `(CAST(${sql} AS BIGINT) & 4294967295)`,
    (v) => `CAST(CASE WHEN ${v} >= 2147483648 THEN ${v} - 4294967296 ELSE ${v} END AS INTEGER)`,
  );
}

/** A real truncated toward zero into an integer type, saturating out of range; NaN and ±∞ → null. */
function truncateReal(sql: string, target: IntTarget): string {
  const [max, min] = INT_RANGE[target];
  return withValue(
    sql,
    (v) =>
      `(CASE WHEN isnan(${v}) OR isinf(${v}) THEN NULL WHEN ${v} >= ${max} THEN ${max} WHEN ${v} <= ${min} THEN ${min} ELSE CAST(trunc(${v}) AS ${target}) END)`,
  );
}

export function toInteger(a: SqlArg, target: IntTarget): string {
  switch (a.type) {
    case 'int':
    case 'long':
      return a.type === 'long' && target === 'INTEGER' ? wrapToInt(a.sql) : `CAST(${a.sql} AS ${target})`;
    case 'string':
      return parseInteger(a.sql, target);
    case 'real':
      return truncateReal(a.sql, target);
    case 'decimal':
      return `TRY_CAST(trunc(${a.sql}) AS ${target})`;
    case 'bool':
      return `CAST(CAST(${a.sql} AS INTEGER) AS ${target})`;
    case 'datetime':
      return `TRY_CAST(${timestampTicks(a.sql)} + ${EPOCH_TICKS} AS ${target})`;
    case 'timespan':
      return `TRY_CAST(${a.sql} AS ${target})`;
    case 'dynamic':
      return withValue(
        a.sql,
        (v) =>
          `(CASE json_type(${v}) WHEN 'BIGINT' THEN TRY_CAST(${v} ->> '$' AS ${target}) WHEN 'UBIGINT' THEN TRY_CAST(${v} ->> '$' AS ${target}) WHEN 'DOUBLE' THEN ${truncateReal(`CAST(${v} ->> '$' AS DOUBLE)`, target)} WHEN 'BOOLEAN' THEN CAST(CAST(${v} ->> '$' AS BOOLEAN) AS ${target}) WHEN 'VARCHAR' THEN ${parseInteger(`(${v} ->> '$')`, target)} END)`,
      );
    default:
      return `CAST(NULL AS ${target})`;
  }
}

/** Real text as .NET parses it (exponents, NaN, Infinity, surrounding whitespace). */
function parseReal(text: string): string {
  return `TRY_CAST(trim(${text}, ${WS}) AS DOUBLE)`;
}

export function toReal(a: SqlArg): string {
  switch (a.type) {
    case 'real':
      return a.sql;
    case 'int':
    case 'long':
    case 'decimal':
    case 'timespan':
      return `CAST(${a.sql} AS DOUBLE)`;
    case 'bool':
      return `CAST(CAST(${a.sql} AS INTEGER) AS DOUBLE)`;
    case 'string':
      return parseReal(a.sql);
    case 'datetime':
      return `CAST(${timestampTicks(a.sql)} + ${EPOCH_TICKS} AS DOUBLE)`;
    case 'dynamic':
      return withValue(
        a.sql,
        (v) =>
          `(CASE json_type(${v}) WHEN 'VARCHAR' THEN ${parseReal(`(${v} ->> '$')`)} WHEN 'BOOLEAN' THEN CAST(CAST(${v} ->> '$' AS BOOLEAN) AS DOUBLE) ELSE TRY_CAST(${v} ->> '$' AS DOUBLE) END)`,
      );
    default:
      return 'CAST(NULL AS DOUBLE)';
  }
}

function toDecimal(a: SqlArg): string {
  switch (a.type) {
    case 'decimal':
      return a.sql;
    case 'string':
      return `TRY_CAST(TRY_CAST(trim(${a.sql}, ${WS}) AS DOUBLE) AS DECIMAL(38,18))`;
    default:
      return `TRY_CAST(${toReal(a)} AS DECIMAL(38,18))`;
  }
}

function parseBool(text: string): string {
  return withValue(
    `lower(trim(${text}, ${WS}))`,
    (t) => `(CASE ${t} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE ELSE ${parseInteger(t, 'BIGINT')} <> 0 END)`,
  );
}

function toBool(a: SqlArg): string {
  switch (a.type) {
    case 'bool':
      return a.sql;
    case 'string':
      return parseBool(a.sql);
    case 'dynamic':
      return withValue(
        a.sql,
        (v) =>
          `(CASE json_type(${v}) WHEN 'BOOLEAN' THEN CAST(${v} ->> '$' AS BOOLEAN) WHEN 'VARCHAR' THEN ${parseBool(`(${v} ->> '$')`)} WHEN 'BIGINT' THEN CAST(${v} ->> '$' AS DOUBLE) <> 0 WHEN 'UBIGINT' THEN true WHEN 'DOUBLE' THEN CAST(${v} ->> '$' AS DOUBLE) <> 0 END)`,
      );
    case 'int':
    case 'long':
    case 'real':
    case 'decimal':
    case 'timespan':
      return `(${a.sql} <> 0)`;
    default:
      return 'CAST(NULL AS BOOLEAN)';
  }
}

/**
 * Datetime text in the forms Kusto accepts. ISO 8601 (with `T` or a space, 7 fractional digits, `Z`/`UTC`, or an
 * offset) goes through DuckDB's timestamp cast; US (`MM/dd/yyyy`) and RFC 822/850 forms through strptime.
 */
function parseDatetime(text: string): string {
  return withValue(
    `trim(${text})`,
    (t) =>
      `COALESCE(CASE WHEN regexp_matches(${t}, '^[0-9]{4}-') THEN (CASE WHEN regexp_matches(${t}, '[0-9][+-][0-9]{2}:?[0-9]{2}$') THEN CAST(TRY_CAST(${t} AS TIMESTAMPTZ) AS TIMESTAMP) ELSE TRY_CAST(${t} AS TIMESTAMP) END) END, ` +
      `try_strptime(${t}, ['%m/%d/%Y', '%m/%d/%Y %H:%M', '%m/%d/%Y %H:%M:%S', '%m/%d/%Y %I:%M:%S %p', '%m-%d-%Y', '%Y/%m/%d', '%Y/%m/%d %H:%M:%S', '%a, %d %b %Y %H:%M:%S GMT', '%d %b %Y %H:%M:%S GMT', '%a, %d %b %Y %H:%M:%S', '%A, %d-%b-%y %H:%M:%S GMT', '%d %b %Y', '%b %d %Y', '%Y%m%d']))`,
  );
}

export function toDatetime(a: SqlArg, ctx?: TemplateContext): string {
  switch (a.type) {
    case 'datetime':
      return a.sql;
    case 'string': {
      // A literal is parsed at compile time exactly as a datetime literal is.
      const lit = literalString(a);
      if (lit !== null) {
        const ticks = parseDateTimeText(lit);
        return ticks === undefined
          ? 'CAST(NULL AS TIMESTAMP)'
          : (ctx?.literal(ticks.toString(), 'datetime') ?? literal(ticks.toString(), 'datetime'));
      }
      return parseDatetime(a.sql);
    }
    case 'dynamic':
      return withValue(
        a.sql,
        (v) =>
          `(CASE json_type(${v}) WHEN 'VARCHAR' THEN ${parseDatetime(`(${v} ->> '$')`)} WHEN 'BIGINT' THEN ${ticksToTimestamp(`CAST(${v} ->> '$' AS BIGINT) - ${EPOCH_TICKS}`)} END)`,
      );
    case 'long':
    case 'int':
      // Ticks since 0001-01-01.
      return `TRY(${ticksToTimestamp(`CAST(${a.sql} AS BIGINT) - ${EPOCH_TICKS}`)})`;
    case 'real':
    case 'decimal':
      return `TRY(${ticksToTimestamp(`CAST(trunc(${a.sql}) AS BIGINT) - ${EPOCH_TICKS}`)})`;
    default:
      return 'CAST(NULL AS TIMESTAMP)';
  }
}

/** Parses KQL timespan text (`1.02:03:04.5`, `02:03:04`, `-1d`, `30m`, `1.5h`, ...) into ticks. */
export function timespanFromText(sql: string): string {
  return withValue(`trim(${sql})`, (t) => {
    const clock = `regexp_extract(${t}, '^([+-]?)(?:(\\d+)\\.)?(\\d{1,2}):(\\d{1,2})(?::(\\d{1,2})(?:\\.(\\d{1,7}))?)?$', ['sign','d','h','m','s','f'])`;
    const unit = `regexp_extract(${t}, '^([+-]?\\d+(?:\\.\\d+)?)\\s*(d|h|m|s|ms|microsecond|microseconds|tick|ticks|day|days|hour|hours|minute|minutes|second|seconds|millisecond|milliseconds)$', ['n','u'])`;
    const clockTicks = withValue(
      clock,
      (c) =>
        `(CASE WHEN ${c}.h = '' THEN NULL ELSE (CASE WHEN ${c}.sign = '-' THEN -1 ELSE 1 END) * (COALESCE(TRY_CAST(NULLIF(${c}.d, '') AS BIGINT), 0) * 864000000000 + CAST(${c}.h AS BIGINT) * 36000000000 + CAST(${c}.m AS BIGINT) * 600000000 + COALESCE(TRY_CAST(NULLIF(${c}.s, '') AS BIGINT), 0) * 10000000 + COALESCE(TRY_CAST(rpad(NULLIF(${c}.f, ''), 7, '0') AS BIGINT), 0)) END)`,
    );
    const unitTicks = withValue(
      unit,
      (u) =>
        `CAST(round(TRY_CAST(NULLIF(${u}.n, '') AS DOUBLE) * (CASE ${u}.u WHEN 'd' THEN 864000000000 WHEN 'day' THEN 864000000000 WHEN 'days' THEN 864000000000 WHEN 'h' THEN 36000000000 WHEN 'hour' THEN 36000000000 WHEN 'hours' THEN 36000000000 WHEN 'm' THEN 600000000 WHEN 'minute' THEN 600000000 WHEN 'minutes' THEN 600000000 WHEN 's' THEN 10000000 WHEN 'second' THEN 10000000 WHEN 'seconds' THEN 10000000 WHEN 'ms' THEN 10000 WHEN 'millisecond' THEN 10000 WHEN 'milliseconds' THEN 10000 WHEN 'microsecond' THEN 10 WHEN 'microseconds' THEN 10 WHEN 'tick' THEN 1 WHEN 'ticks' THEN 1 END)) AS BIGINT)`,
    );
    return `COALESCE(${clockTicks}, ${unitTicks})`;
  });
}

export function toTimespan(a: SqlArg): string {
  switch (a.type) {
    case 'timespan':
      return a.sql;
    case 'string':
      return timespanFromText(a.sql);
    case 'dynamic':
      return withValue(
        a.sql,
        (v) =>
          `(CASE json_type(${v}) WHEN 'VARCHAR' THEN ${timespanFromText(`(${v} ->> '$')`)} WHEN 'BIGINT' THEN CAST(${v} ->> '$' AS BIGINT) WHEN 'DOUBLE' THEN CAST(round(CAST(${v} ->> '$' AS DOUBLE)) AS BIGINT) END)`,
      );
    case 'int':
    case 'long':
      return `CAST(${a.sql} AS BIGINT)`;
    case 'real':
    case 'decimal':
      return `TRY_CAST(round(${a.sql}) AS BIGINT)`;
    default:
      return 'CAST(NULL AS BIGINT)';
  }
}

function toGuid(a: SqlArg): string {
  if (a.type === 'guid') return a.sql;
  if (a.type === 'string' || a.type === 'dynamic') return `TRY_CAST(trim(${s(a)}) AS UUID)`;
  return 'CAST(NULL AS UUID)';
}

/** KQL `todynamic()`/`parse_json()`: JSON text parses; anything else stays a dynamic string. */
function toDynamic(a: SqlArg): string {
  if (a.type === 'dynamic') return a.sql;
  if (a.type === 'string') {
    return withValue(a.sql, (v) => `(CASE WHEN json_valid(${v}) THEN CAST(${v} AS JSON) ELSE to_json(${v}) END)`);
  }
  return asJson(a);
}

/** Converts a value to a KQL type (the `typeof(...)` argument of extract, mv-expand `to typeof`, ...). */
export function convertTo(a: SqlArg, type: ColumnType, ctx?: TemplateContext): string {
  switch (type) {
    case 'string':
      return s(a);
    case 'long':
      return toInteger(a, 'BIGINT');
    case 'int':
      return toInteger(a, 'INTEGER');
    case 'real':
      return toReal(a);
    case 'decimal':
      return toDecimal(a);
    case 'bool':
      return toBool(a);
    case 'datetime':
      return toDatetime(a, ctx);
    case 'timespan':
      return toTimespan(a);
    case 'guid':
      return toGuid(a);
    case 'dynamic':
      return toDynamic(a);
    default:
      return a.sql;
  }
}

function isEmpty(a: SqlArg): string {
  // One reference to the value: `x IS NULL OR x = ''` evaluates x twice when DuckDB inlines it (a regex extract).
  if (a.type === 'string') return `(COALESCE(${a.sql}, '') = '')`;
  if (a.type === 'dynamic')
    return withValue(a.sql, (v) => `(${v} IS NULL OR json_type(${v}) = 'NULL' OR (${v} ->> '$') = '')`);
  return `(${a.sql} IS NULL)`;
}

function isNull(a: SqlArg): string {
  if (a.type === 'string') return 'false';
  if (a.type === 'dynamic') return withValue(a.sql, (v) => `(${v} IS NULL OR json_type(${v}) = 'NULL')`);
  return `(${a.sql} IS NULL)`;
}

/** An argument brought to the call's result type (iff, case, coalesce branches, max_of). */
export function branch(a: SqlArg, type: ColumnType, ctx?: TemplateContext): string {
  if (type === a.type || type === 'unknown' || a.type === 'unknown') return a.sql;
  if (type === 'dynamic') return asJson(a);
  return convertTo(a, type, ctx);
}

function truthy(a: SqlArg): string {
  return `COALESCE(${toBool(a)}, false)`;
}

const iff: Template = (args, ctx) => {
  const c = arg(args, 0, ctx);
  const t = arg(args, 1, ctx);
  const e = arg(args, 2, ctx);
  return `(CASE WHEN ${truthy(c)} THEN ${branch(t, ctx.resultType, ctx)} ELSE ${branch(e, ctx.resultType, ctx)} END)`;
};

const kqlCase: Template = (args, ctx) => {
  const parts: string[] = [];
  for (let i = 0; i + 1 < args.length; i += 2) {
    parts.push(`WHEN ${truthy(args[i] as SqlArg)} THEN ${branch(args[i + 1] as SqlArg, ctx.resultType, ctx)}`);
  }
  const last = args.length % 2 === 1 ? (args[args.length - 1] as SqlArg) : null;
  return `(CASE ${parts.join(' ')} ELSE ${last ? branch(last, ctx.resultType, ctx) : 'NULL'} END)`;
};

const coalesce: Template = (args, ctx) => {
  if (ctx.resultType === 'string') return `COALESCE(${args.map((a) => `NULLIF(${s(a)}, '')`).join(', ')}, '')`;
  if (ctx.resultType === 'dynamic')
    return `COALESCE(${args.map((a) => (a.type === 'dynamic' ? `CASE WHEN json_type(${a.sql}) = 'NULL' THEN NULL ELSE ${a.sql} END` : asJson(a))).join(', ')})`;
  return `COALESCE(${args.map((a) => branch(a, ctx.resultType, ctx)).join(', ')})`;
};

/** max_of / min_of: nulls are ignored; a string comparison when the result is a string. */
function extremum(fn: 'greatest' | 'least'): Template {
  return (args, ctx) => {
    if (ctx.resultType === 'dynamic')
      return `to_json(${fn}(${args.map((a) => dynamicToNumber(asJson(a))).join(', ')}))`;
    return `${fn}(${args.map((a) => branch(a, ctx.resultType, ctx)).join(', ')})`;
  };
}

/** `bin(value, size)` rounds down to a multiple of size; datetime bins are measured from 1970-01-01. */
export const bin: Template = (args, ctx) => {
  const v = arg(args, 0, ctx);
  const size = arg(args, 1, ctx);
  if (v.type === 'datetime') {
    // Kusto's datetime bins are multiples of the size since 0001-01-01 (a Monday: 7d bins start on Mondays).
    const n = size.type === 'timespan' ? size.sql : toTimespan(size);
    const lit = size.literal?.value;
    if (size.type === 'timespan' && typeof lit === 'string' && /^\d+0$/.test(lit) && BigInt(lit) > 0n) {
      const us = (BigInt(lit) / 10n).toString();
      return `make_timestamp((epoch_us(${v.sql}) + ${EPOCH_MICROS}) // ${us} * ${us} - ${EPOCH_MICROS})`;
    }
    return withValues2(timestampTicks(v.sql), n, (t, k) =>
      ticksToTimestamp(
        `(CASE WHEN ${k} <= 0 THEN NULL ELSE (${t} + ${EPOCH_TICKS}) // ${k} * ${k} - ${EPOCH_TICKS} END)`,
      ),
    );
  }
  if (v.type === 'timespan')
    return withValue(
      size.sql,
      (n) => `(CASE WHEN ${n} <= 0 THEN NULL ELSE CAST(floor(CAST(${v.sql} AS DOUBLE) / ${n}) * ${n} AS BIGINT) END)`,
    );
  if (ctx.resultType === 'real' || v.type === 'real' || size.type === 'real' || v.type === 'decimal') {
    return withValue(
      size.sql,
      (n) => `(CASE WHEN ${n} <= 0 THEN NULL ELSE floor(CAST(${v.sql} AS DOUBLE) / ${n}) * ${n} END)`,
    );
  }
  return withValue(
    widenInt(size),
    (n) =>
      `(CASE WHEN ${n} <= 0 THEN NULL ELSE CAST(floor(CAST(${v.sql} AS DOUBLE) / ${n}) * ${n} AS ${ctx.resultType === 'int' ? 'INTEGER' : 'BIGINT'}) END)`,
  );
};

function widenInt(a: SqlArg): string {
  return a.type === 'int' ? `CAST(${a.sql} AS BIGINT)` : a.sql;
}

function withValues2(a: string, b: string, body: (x: string, y: string) => string): string {
  return withValue(a, (x) => withValue(b, (y) => body(x, y)));
}

const binAt: Template = (args, ctx) => {
  const v = arg(args, 0, ctx);
  const size = arg(args, 1, ctx);
  const at = arg(args, 2, ctx);
  if (v.type === 'datetime') {
    const n = size.type === 'timespan' ? size.sql : toTimespan(size);
    return withValues2(timestampTicks(at.sql), n, (a, k) =>
      ticksToTimestamp(`${a} + CAST(floor(CAST(${timestampTicks(v.sql)} - ${a} AS DOUBLE) / ${k}) AS BIGINT) * ${k}`),
    );
  }
  const body = withValues2(at.sql, size.sql, (a, k) => `(${a} + floor(CAST(${v.sql} - ${a} AS DOUBLE) / ${k}) * ${k})`);
  if (ctx.resultType === 'long' || ctx.resultType === 'timespan') return `CAST(${body} AS BIGINT)`;
  if (ctx.resultType === 'int') return `CAST(${body} AS INTEGER)`;
  return body;
};

/** `around(value, center, delta)`: value within [center - delta, center + delta]. */
const around: Template = (args, ctx) => {
  const v = arg(args, 0, ctx);
  const c = arg(args, 1, ctx);
  const d = arg(args, 2, ctx);
  if (v.type === 'datetime') {
    const delta = d.type === 'timespan' ? d.sql : toTimespan(d);
    return withValues(
      [timestampTicks(v.sql), timestampTicks(c.sql), delta],
      ([x, y, z]) => `(${x} BETWEEN ${y} - ${z} AND ${y} + ${z})`,
    );
  }
  return withValues([v.sql, c.sql, d.sql], ([x, y, z]) => `(${x} BETWEEN ${y} - ${z} AND ${y} + ${z})`);
};

/** Bytes a value occupies in Kusto's estimate: fixed sizes by type, UTF-8 length for strings and dynamic text. */
function dataSize(a: SqlArg): string {
  switch (a.type) {
    case 'string':
      return `CAST(strlen(${a.sql}) AS BIGINT)`;
    case 'dynamic':
      return `COALESCE(CAST(strlen(CAST(${a.sql} AS VARCHAR)) AS BIGINT), 0)`;
    case 'bool':
      return `(CASE WHEN ${a.sql} IS NULL THEN 0 ELSE 1 END)`;
    case 'int':
      return `(CASE WHEN ${a.sql} IS NULL THEN 0 ELSE 4 END)`;
    case 'guid':
    case 'decimal':
      return `(CASE WHEN ${a.sql} IS NULL THEN 0 ELSE 16 END)`;
    default:
      return `(CASE WHEN ${a.sql} IS NULL THEN 0 ELSE 8 END)`;
  }
}

const estimateDataSize: Template = (args) => {
  const parts: string[] = [];
  for (const a of args) {
    if (a.expr.kind === 'star') {
      const values = a.sql.split(', ');
      a.expr.columns.forEach((c, i) => {
        parts.push(dataSize({ sql: values[i] as string, type: c.type, expr: a.expr }));
      });
    } else parts.push(dataSize(a));
  }
  return parts.length ? `CAST(${parts.join(' + ')} AS BIGINT)` : 'CAST(0 AS BIGINT)';
};

const gettype: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  if (a.type !== 'dynamic') return sqlString(a.type === 'unknown' ? 'null' : a.type);
  // Values inside dynamic report their CLR-style type: a JSON double is 'double', an integer 'long'.
  return `(CASE json_type(${a.sql}) WHEN 'ARRAY' THEN 'array' WHEN 'OBJECT' THEN 'dictionary' WHEN 'VARCHAR' THEN 'string' WHEN 'BIGINT' THEN 'long' WHEN 'UBIGINT' THEN 'long' WHEN 'DOUBLE' THEN 'double' WHEN 'BOOLEAN' THEN 'bool' ELSE 'null' END)`;
};

const conversion =
  (type: ColumnType): Template =>
  (args, ctx) =>
    convertTo(arg(args, 0, ctx), type, ctx);

export const FUNCTIONS: Readonly<Record<string, Template>> = {
  // conversions
  tostring: (args, ctx) => s(arg(args, 0, ctx)),
  toint: conversion('int'),
  tolong: conversion('long'),
  toreal: conversion('real'),
  todouble: conversion('real'),
  todecimal: conversion('decimal'),
  tobool: conversion('bool'),
  toboolean: conversion('bool'),
  todatetime: conversion('datetime'),
  totimespan: conversion('timespan'),
  totime: conversion('timespan'),
  toguid: conversion('guid'),
  todynamic: conversion('dynamic'),
  toobject: conversion('dynamic'),
  parse_json: conversion('dynamic'),
  gettype,
  // emptiness and conditionals
  isempty: (args, ctx) => isEmpty(arg(args, 0, ctx)),
  isnotempty: (args, ctx) => {
    const a = arg(args, 0, ctx);
    return a.type === 'string' ? `(COALESCE(${a.sql}, '') <> '')` : `(NOT ${isEmpty(a)})`;
  },
  isnull: (args, ctx) => isNull(arg(args, 0, ctx)),
  isnotnull: (args, ctx) => `(NOT ${isNull(arg(args, 0, ctx))})`,
  iff,
  iif: iff,
  case: kqlCase,
  coalesce,
  max_of: extremum('greatest'),
  min_of: extremum('least'),
  not: (args, ctx) => `(NOT ${toBool(arg(args, 0, ctx))})`,
  bin,
  bin_at: binAt,
  around,
  new_guid: () => 'uuid()',
  assert: (args, ctx) => {
    const c = toBool(arg(args, 0, ctx));
    // A false assertion fails the query with its message, as in Kusto.
    return `(CASE WHEN ${c} THEN true ELSE error(${s(arg(args, 1, ctx))}) END)`;
  },
  estimate_data_size: estimateDataSize,
  // dynamic helpers the plan and other families rely on (the dynamic family file may override them)
  array_length: (args, ctx) => {
    const a = arg(args, 0, ctx);
    if (a.type !== 'dynamic') return 'CAST(NULL AS BIGINT)';
    return withValue(
      a.sql,
      (v) => `(CASE WHEN json_type(${v}) = 'ARRAY' THEN CAST(json_array_length(${v}) AS BIGINT) ELSE NULL END)`,
    );
  },
  pack_array: (args) => `to_json([${args.map(asJson).join(', ')}])`,
  bag_pack: bagPack,
  pack: bagPack,
  pack_all: (args, ctx) => {
    const star = args[0];
    if (star?.expr.kind !== 'star') return ctx.unsupported('pack_all() outside a row context');
    const cols = star.expr.columns;
    const values = star.sql.split(', ');
    const pairs = cols.map(
      (c, i) => `${sqlString(c.name)}, ${asJson({ sql: values[i] as string, type: c.type, expr: star.expr })}`,
    );
    return pairs.length ? `json_object(${pairs.join(', ')})` : `CAST('{}' AS JSON)`;
  },
  bag_keys: (args, ctx) => {
    const a = arg(args, 0, ctx);
    return withValue(
      a.sql,
      (v) => `(CASE WHEN json_type(${v}) = 'OBJECT' THEN to_json(json_keys(${v})) ELSE NULL END)`,
    );
  },
  array_concat: (args) =>
    `to_json(flatten([${args.map((a) => `CAST(json_extract(${a.sql}, '$[*]') AS JSON[])`).join(', ')}]))`,
  strcat_array: strcatArray,
  array_strcat: strcatArray,
  extractjson: extractJson,
  extract_json: extractJson,
  // mv-expand support: the list of elements an expanded value yields (arrays: elements; bags: one-key bags).
  __mv_expand_list: (args, ctx) => {
    const v = arg(args, 0, ctx).sql;
    const mode = literalString(args[1]) ?? 'bag';
    const bagItems =
      mode === 'array'
        ? `list_transform(json_keys(${v}), k -> to_json([to_json(k), json_extract(${v}, '$."' || replace(k, '"', '\\"') || '"')]))`
        : `list_transform(json_keys(${v}), k -> json_object(k, json_extract(${v}, '$."' || replace(k, '"', '\\"') || '"')))`;
    return `(CASE json_type(${v}) WHEN 'ARRAY' THEN CAST(json_extract(${v}, '$[*]') AS JSON[]) WHEN 'OBJECT' THEN ${bagItems} WHEN 'NULL' THEN []::JSON[] ELSE [${v}] END)`;
  },
  __mv_expand_cast: (args, ctx) => {
    const v = arg(args, 0, ctx);
    const t = literalString(args[1]) as ColumnType;
    return convertDynamic(v.sql, t);
  },
};

function bagPack(args: readonly SqlArg[], ctx: TemplateContext): string {
  if (args.length % 2 !== 0) return ctx.unsupported('bag_pack with an odd number of arguments');
  const pairs: string[] = [];
  for (let i = 0; i < args.length; i += 2) pairs.push(`${s(args[i] as SqlArg)}, ${asJson(args[i + 1] as SqlArg)}`);
  return pairs.length ? `json_object(${pairs.join(', ')})` : `CAST('{}' AS JSON)`;
}

function strcatArray(args: readonly SqlArg[], ctx: TemplateContext): string {
  const a = arg(args, 0, ctx);
  const delim = s(arg(args, 1, ctx));
  return `COALESCE(array_to_string(list_transform(CAST(json_extract(${a.sql}, '$[*]') AS JSON[]), x -> COALESCE(x ->> '$', '')), ${delim}), '')`;
}

function extractJson(args: readonly SqlArg[], ctx: TemplateContext): string {
  const path = s(arg(args, 0, ctx));
  const text = s(arg(args, 1, ctx));
  const value = withValue(
    text,
    (t) => `json_extract_string(CASE WHEN json_valid(${t}) THEN ${t} ELSE NULL END, ${path})`,
  );
  const type = args[2] ? literalString(args[2]) : null;
  if (type && type !== 'string')
    return convertTo(
      { sql: value, type: 'string', expr: { kind: 'lit', type: 'string', value: null } },
      type as ColumnType,
      ctx,
    );
  return `COALESCE(${value}, '')`;
}

/** A dynamic value converted to a typed column (mv-expand `to typeof(...)`). */
export function convertDynamic(sql: string, type: ColumnType): string {
  if (type === 'string') return dynamicToString(sql);
  return convertTo({ sql, type: 'dynamic', expr: { kind: 'lit', type: 'dynamic', value: null } }, type);
}

export type { TemplateContext };
export { TICKS_PER_DAY };
