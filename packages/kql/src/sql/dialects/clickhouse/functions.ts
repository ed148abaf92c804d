/**
 * Scalar functions in ClickHouse: the common set the corpus and the doc examples use most (conversions,
 * conditionals, strings, regexes, datetimes, math, dynamic values, IPv4). Functions not listed here are not in the
 * table, so the compiler reports them as unsupported on ClickHouse (KQL0901 with the call's span) — never wrong SQL.
 */
import type { ColumnType } from '../../../binder/types.js';
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import { captureGroups } from '../duckdb/base.js';
import {
  arg,
  asJson,
  asString,
  CLICKHOUSE_TYPES,
  datetimeText,
  datetimeTicks,
  dynamicToString,
  EPOCH_TICKS,
  literalNumber,
  literalString,
  nullSafe,
  regexArg,
  sqlString,
  ticksToDatetime,
  timespanText,
  translateRegex,
  withValue,
} from './base.js';
import { utf8Char } from './functions-encoding.js';
import { GEO_FUNCTIONS } from './functions-geo.js';
import { MORE_FUNCTIONS } from './functions-more.js';
import { SERIES_FUNCTIONS, SERIES_TUPLE_FUNCTIONS } from './functions-series.js';
import { XML_FUNCTIONS } from './functions-xml.js';
import { jsonArrayStrings } from './operators.js';

const s = (a: SqlArg) => asString(a);

// ───────────────────────────── conversions ─────────────────────────────

/** Trims the white space .NET's number and date parsing tolerates around a value. */
const trimWs = (sql: string) => `trimBoth(${sql}, ' \\t\\n\\x0B\\f\\r')`;

/** The range of the integer types, as typed literals (a bare 9223372036854775807 is a UInt64 in ClickHouse). */
const INT_RANGE: Readonly<Record<'long' | 'int', readonly [string, string]>> = {
  long: ['toInt64(9223372036854775807)', 'toInt64(-9223372036854775808)'],
  int: ['toInt32(2147483647)', 'toInt32(-2147483648)'],
};

/**
 * Integer text (optional sign and digits, or 0x and hex digits, within the white space .NET tolerates) → integer,
 * null when out of range; anything else (`1.5`, `1e3`) → null, as Kusto.
 */
function parseInteger(text: string, type: 'long' | 'int'): string {
  const fn = type === 'long' ? 'toInt64' : 'toInt32';
  return withValue(trimWs(text), (t) =>
    withValue(`reinterpretAsUInt64(reverse(unhex(leftPad(substring(${t}, 3), 16, '0'))))`, (hex) => {
      const max = INT_RANGE[type][0];
      return `multiIf(match(${t}, '^[+-]?[0-9]+$'), ${fn}OrNull(${t}), match(${t}, '^0[xX][0-9a-fA-F]{1,16}$'), if(${hex} > ${max}, NULL, ${fn}(${hex})), NULL)`;
    }),
  );
}

/** A real truncated toward zero into an integer type, saturating out of range; NaN and ±∞ → null. */
function truncateReal(sql: string, type: 'long' | 'int'): string {
  const fn = type === 'long' ? 'toInt64' : 'toInt32';
  const [max, min] = INT_RANGE[type];
  return withValue(
    sql,
    (v) => `multiIf(NOT isFinite(${v}), NULL, ${v} >= ${max}, ${max}, ${v} <= ${min}, ${min}, ${fn}(trunc(${v})))`,
  );
}

/** A dynamic (JSON text) value converted to a KQL scalar type. */
export function convertDynamic(sql: string, type: ColumnType): string {
  switch (type) {
    case 'string':
      return dynamicToString(sql);
    case 'long':
    case 'int':
    case 'real':
      // By the JSON value's kind: integers exactly, reals truncated (saturating) into integers, bools as 0/1,
      // strings parsed as text is (an integer type reads integer text only).
      return withValue(sql, (v) => {
        const kind = `JSONType(ifNull(${v}, 'null'))`;
        const text = `JSONExtractString(${v})`;
        const real = `toFloat64OrNull(${v})`;
        const bool = `toUInt8(JSONExtractBool(${v}))`;
        if (type === 'real') {
          return `multiIf(${kind} IN ('Int64', 'UInt64', 'Double'), ${real}, ${kind} = 'Bool', toFloat64(${bool}), ${kind} = 'String', toFloat64OrNull(${trimWs(text)}), NULL)`;
        }
        const fn = type === 'long' ? 'toInt64' : 'toInt32';
        return `multiIf(${kind} IN ('Int64', 'UInt64'), ${fn}OrNull(${v}), ${kind} = 'Double', ${truncateReal(real, type)}, ${kind} = 'Bool', ${fn}(${bool}), ${kind} = 'String', ${parseInteger(text, type)}, NULL)`;
      });
    case 'decimal':
      return `toDecimal128OrNull(${dynamicToString(sql)}, 18)`;
    case 'bool':
      return withValue(
        sql,
        (v) =>
          `multiIf(JSONType(ifNull(${v}, 'null')) = 'Bool', JSONExtractBool(${v}) = 1, JSONType(ifNull(${v}, 'null')) IN ('Int64', 'UInt64', 'Double'), toFloat64OrNull(${v}) != 0, ${boolText(dynamicToString(v))})`,
      );
    case 'datetime':
      return `parseDateTime64BestEffortUSOrNull(${dynamicToString(sql)}, 7, 'UTC')`;
    case 'timespan':
      return timespanOf(dynamicToString(sql));
    case 'guid':
      return `toUUIDOrNull(${dynamicToString(sql)})`;
    default:
      return sql;
  }
}

/** A bool from text: true/false (any case) or an integer; null otherwise. */
function boolText(text: string): string {
  return withValue(
    `lower(trimBoth(${text}))`,
    (t) =>
      `multiIf(${t} = 'true', true, ${t} = 'false', false, toInt64OrNull(${t}) IS NOT NULL, toInt64OrNull(${t}) != 0, NULL)`,
  );
}

/** Timespan ticks from `[-][d.]hh:mm:ss[.fffffff]` text (null when malformed). */
function timespanOf(text: string): string {
  return withValue(text, (t) => {
    const m = `extractGroups(${t}, '^\\\\s*(-?)(?:(\\\\d+)\\\\.)?(\\\\d{1,2}):(\\\\d{1,2})(?::(\\\\d{1,2})(?:\\\\.(\\\\d{1,7}))?)?\\\\s*$')`;
    return withValue(m, (g) => {
      const part = (i: number, scale: string) => `toInt64OrZero(${g}[${i}]) * ${scale}`;
      const ticks = `(${part(2, '864000000000')} + ${part(3, '36000000000')} + ${part(4, '600000000')} + ${part(5, '10000000')} + toInt64OrZero(rightPad(${g}[6], 7, '0')))`;
      const clock = `if(length(${g}) = 0, NULL, if(${g}[1] = '-', -1, 1) * ${ticks})`;
      // Or a number and a unit (`1d`, `-1.5h`, `30 seconds`), as in timespan literals.
      const units: [string, string][] = [
        ['d|day|days', '864000000000'],
        ['h|hour|hours', '36000000000'],
        ['m|minute|minutes', '600000000'],
        ['s|second|seconds', '10000000'],
        ['ms|millisecond|milliseconds', '10000'],
        ['microsecond|microseconds', '10'],
        ['tick|ticks', '1'],
      ];
      const names = units.flatMap(([n]) => n.split('|'));
      const scales = units.flatMap(([n, v]) => n.split('|').map(() => v));
      const u = `extractGroups(${t}, '^\\s*([+-]?\\d+(?:\\.\\d+)?)\\s*(${names.join('|')})\\s*$')`;
      const unit = withValue(
        u,
        (x) =>
          `if(length(${x}) = 0, NULL, toInt64(round(toFloat64OrZero(${x}[1]) * transform(${x}[2], [${names.map((n) => `'${n}'`).join(', ')}], [${scales.join(', ')}], 0))))`,
      );
      return `coalesce(${clock}, ${unit})`;
    });
  });
}

function toType(type: ColumnType): Template {
  return (args, ctx) => {
    const a = arg(args, 0, ctx);
    if (a.type === type) return a.sql;
    if (a.type === 'dynamic') return convertDynamic(a.sql, type);
    switch (type) {
      case 'long':
      case 'int': {
        const fn = type === 'long' ? 'toInt64' : 'toInt32';
        if (a.type === 'string') return parseInteger(a.sql, type);
        if (a.type === 'datetime') return `(${datetimeTicks(a.sql)} + ${EPOCH_TICKS})`;
        if (a.type === 'real') return truncateReal(a.sql, type);
        if (a.type === 'bool' || a.type === 'int' || a.type === 'long' || a.type === 'timespan' || a.type === 'decimal')
          return `${fn}(${a.sql})`;
        return ctx.unsupported(`converting ${a.type} to ${type}`);
      }
      case 'real':
        if (a.type === 'string') return `toFloat64OrNull(${trimWs(a.sql)})`;
        if (a.type === 'datetime') return `toFloat64(${datetimeTicks(a.sql)} + ${EPOCH_TICKS})`;
        return `toFloat64(${a.sql})`;
      case 'decimal':
        if (a.type === 'string') return `toDecimal128OrNull(${trimWs(a.sql)}, 18)`;
        return `toDecimal128(${a.sql}, 18)`;
      case 'bool':
        if (a.type === 'string') return boolText(a.sql);
        return `(${a.sql} != 0)`;
      case 'datetime':
        // Ambiguous day/month text reads month first, as .NET's invariant culture (and Vigil's datetime literals) do.
        // Surrounding white space is ignored, as .NET's DateTime parsing does (parse captures keep line breaks).
        if (a.type === 'string') {
          return `parseDateTime64BestEffortUSOrNull(nullIf(${trimWs(a.sql)}, ''), 7, 'UTC')`;
        }
        if (a.type === 'long' || a.type === 'int') return nullSafe(`(${a.sql} - ${EPOCH_TICKS})`, ticksToDatetime);
        return ctx.unsupported(`converting ${a.type} to datetime`);
      case 'timespan':
        if (a.type === 'string') return timespanOf(a.sql);
        if (a.type === 'long' || a.type === 'int') return `toInt64(${a.sql})`;
        return ctx.unsupported(`converting ${a.type} to timespan`);
      case 'guid':
        if (a.type === 'string') return `toUUIDOrNull(${a.sql})`;
        return ctx.unsupported(`converting ${a.type} to guid`);
      case 'string':
        return s(a);
      case 'dynamic':
        if (a.type === 'string') return `if(isValidJSON(${a.sql}), ${a.sql}, toJSONString(${a.sql}))`;
        return asJson(a);
      default:
        return ctx.unsupported(`converting to ${type}`);
    }
  };
}

/** parse_json / todynamic: a JSON text stays JSON; other text becomes a JSON string. */
const parseJson: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  if (a.type === 'dynamic') return a.sql;
  if (a.type !== 'string') return asJson(a);
  return withValue(
    a.sql,
    // Valid JSON text is the value (JSON null is null; the text keeps its own spacing); other text a JSON string;
    // empty text is null (as Kusto and DuckDB).
    (v) => `multiIf(${v} = '', NULL, isValidJSON(${v}), nullIf(trimBoth(${v}), 'null'), toJSONString(${v}))`,
  );
};

// ───────────────────────────── conditionals ─────────────────────────────

function iff(args: readonly SqlArg[], ctx: TemplateContext): string {
  const c = arg(args, 0, ctx);
  const cond = c.type === 'bool' ? c.sql : `(${c.sql}) != 0`;
  return `if(coalesce(${cond}, false), ${typed(arg(args, 1, ctx), ctx)}, ${typed(arg(args, 2, ctx), ctx)})`;
}

/** A branch value brought to the call's result type (ClickHouse needs the branches to share a supertype). */
function typed(a: SqlArg, ctx: TemplateContext): string {
  const t = ctx.resultType;
  if (t === 'unknown' || a.type === t) return a.sql;
  if (t === 'dynamic') return asJson(a);
  if (t === 'string') return s(a);
  return `CAST(${a.sql} AS ${CLICKHOUSE_TYPES[t]})`;
}

function isEmpty(a: SqlArg): string {
  if (a.type === 'string') return `(${a.sql} = '')`;
  if (a.type === 'dynamic') return `(ifNull(${a.sql}, '') IN ('', 'null', '""'))`;
  return `(${a.sql} IS NULL)`;
}

function extremeOf(fn: 'greatest' | 'least'): Template {
  return (args, ctx) => {
    const vals = args.map((a) => typed(a, ctx));
    // Kusto ignores nulls; ClickHouse's greatest/least return null if any argument is null.
    const agg = fn === 'greatest' ? 'arrayMax' : 'arrayMin';
    return `${agg}(arrayFilter(__x -> __x IS NOT NULL, [${vals.join(', ')}]))`;
  };
}

// ───────────────────────────── bins ─────────────────────────────

function binValue(x: SqlArg, size: SqlArg, ctx: TemplateContext, at?: SqlArg): string {
  if (x.type === 'datetime') {
    const origin = at ? `(${datetimeTicks(at.sql)})` : `(-${EPOCH_TICKS})`;
    return nullSafe(datetimeTicks(x.sql), (t) =>
      withValue(
        size.sql,
        (z) => `if(${z} <= 0, NULL, ${ticksToDatetime(`${t} - positiveModulo(${t} - ${origin}, ${z})`)})`,
      ),
    );
  }
  if (x.type === 'timespan' || x.type === 'long' || x.type === 'int') {
    const origin = at ? at.sql : '0';
    return withValue(
      x.sql,
      (v) => `if(${size.sql} <= 0, NULL, ${v} - positiveModulo(${v} - ${origin}, toInt64(${size.sql})))`,
    );
  }
  if (x.type === 'real' || x.type === 'decimal') {
    const origin = at ? `toFloat64(${at.sql})` : '0';
    return withValue(
      `toFloat64(${x.sql})`,
      (v) => `if(${size.sql} <= 0, NULL, floor((${v} - ${origin}) / ${size.sql}) * ${size.sql} + ${origin})`,
    );
  }
  return ctx.unsupported(`bin() of ${x.type}`);
}

// ───────────────────────────── datetimes ─────────────────────────────

function startOf(unit: 'day' | 'week' | 'month' | 'year', end = false): Template {
  return (args, ctx) => {
    const d = arg(args, 0, ctx).sql;
    const off = args[1] ? args[1].sql : '0';
    const base: Record<typeof unit, string> = {
      day: `addDays(toStartOfDay(${d}), ${off})`,
      week: `addWeeks(toStartOfWeek(${d}, 0), ${off})`,
      month: `addMonths(toStartOfMonth(${d}), ${off})`,
      year: `addYears(toStartOfYear(${d}), ${off})`,
    };
    const start = `toDateTime64(${base[unit]}, 7, 'UTC')`;
    if (!end) return start;
    const next: Record<typeof unit, string> = {
      day: `addDays(${start}, 1)`,
      week: `addWeeks(${start}, 1)`,
      month: `addMonths(${start}, 1)`,
      year: `addYears(${start}, 1)`,
    };
    return nullSafe(datetimeTicks(`toDateTime64(${next[unit]}, 7, 'UTC')`), (t) => ticksToDatetime(`${t} - 1`));
  };
}

const PARTS: Readonly<Record<string, string>> = {
  year: 'toYear',
  quarter: 'toQuarter',
  month: 'toMonth',
  week_of_year: 'toISOWeek',
  day: 'toDayOfMonth',
  dayofyear: 'toDayOfYear',
  hour: 'toHour',
  minute: 'toMinute',
  second: 'toSecond',
};

const UNIT_TICKS: Readonly<Record<string, string>> = {
  week: '6048000000000',
  day: '864000000000',
  hour: '36000000000',
  minute: '600000000',
  second: '10000000',
  millisecond: '10000',
  microsecond: '10',
  nanosecond: '1',
};

function unitOf(a: SqlArg | undefined, ctx: TemplateContext): string {
  const u = literalString(a);
  if (u === null) return ctx.unsupported('a datetime part that is not a constant');
  return u.toLowerCase().replace(/s$/, '');
}

const datetimeAdd: Template = (args, ctx) => {
  const unit = unitOf(args[0], ctx);
  const n = arg(args, 1, ctx).sql;
  const d = arg(args, 2, ctx).sql;
  const cal: Record<string, string> = { year: 'addYears', quarter: 'addQuarters', month: 'addMonths' };
  if (cal[unit]) return `${cal[unit]}(${d}, ${n})`;
  const ticks = UNIT_TICKS[unit];
  if (!ticks) return ctx.unsupported(`datetime_add with the part ${unit}`);
  return nullSafe(`(${datetimeTicks(d)} + toInt64(${n}) * ${ticks})`, ticksToDatetime);
};

const datetimeDiff: Template = (args, ctx) => {
  const unit = unitOf(args[0], ctx);
  const a = arg(args, 1, ctx).sql;
  const b = arg(args, 2, ctx).sql;
  const cal: Record<string, string> = { year: 'year', quarter: 'quarter', month: 'month', week: 'week', day: 'day' };
  if (unit === 'week') return `intDiv(dateDiff('day', toStartOfWeek(${b}, 0), toStartOfWeek(${a}, 0)), 7)`;
  if (cal[unit]) return `dateDiff('${cal[unit]}', ${b}, ${a})`;
  const ticks = UNIT_TICKS[unit];
  if (!ticks) return ctx.unsupported(`datetime_diff with the part ${unit}`);
  return `(intDiv(${datetimeTicks(a)}, ${ticks}) - intDiv(${datetimeTicks(b)}, ${ticks}))`;
};

const datetimePart: Template = (args, ctx) => {
  const unit = unitOf(args[0], ctx);
  const d = arg(args, 1, ctx).sql;
  const fn = PARTS[unit === 'week_of_year' ? unit : unit];
  if (fn) return `toInt32(${fn}(${d}))`;
  if (unit === 'millisecond') return `toInt32(intDiv(${datetimeTicks(d)} % 10000000, 10000))`;
  if (unit === 'microsecond') return `toInt32(intDiv(${datetimeTicks(d)} % 10000000, 10))`;
  if (unit === 'nanosecond') return `toInt32((${datetimeTicks(d)} % 10000000) * 100)`;
  return ctx.unsupported(`datetime_part with the part ${unit}`);
};

const FORMAT_TOKENS: readonly (readonly [string, string])[] = [
  ['yyyy', '%Y'],
  ['yy', '%y'],
  ['MM', '%m'],
  ['dd', '%d'],
  ['HH', '%H'],
  ['hh', '%I'],
  ['mm', '%i'],
  ['ss', '%S'],
  ['tt', '%p'],
];

const formatDatetime: Template = (args, ctx) => {
  const d = arg(args, 0, ctx).sql;
  const f = literalString(args[1]);
  if (f === null) return ctx.unsupported('format_datetime with a computed format');
  const parts: string[] = [];
  let literalText = '';
  const flush = () => {
    if (literalText) parts.push(sqlString(literalText));
    literalText = '';
  };
  let i = 0;
  outer: while (i < f.length) {
    const fr = /^f{1,7}/.exec(f.slice(i))?.[0];
    if (fr) {
      flush();
      parts.push(`substring(leftPad(toString(${datetimeTicks(d)} % 10000000), 7, '0'), 1, ${fr.length})`);
      i += fr.length;
      continue;
    }
    // F…: the same digits without the trailing zeros.
    const fz = /^F{1,7}/.exec(f.slice(i))?.[0];
    if (fz) {
      flush();
      parts.push(
        `replaceRegexpOne(substring(leftPad(toString(${datetimeTicks(d)} % 10000000), 7, '0'), 1, ${fz.length}), '0+$', '')`,
      );
      i += fz.length;
      continue;
    }
    for (const [k, v] of FORMAT_TOKENS) {
      if (f.startsWith(k, i)) {
        flush();
        parts.push(`formatDateTime(${d}, '${v}')`);
        i += k.length;
        continue outer;
      }
    }
    // 'y': the year of the century without padding.
    const single: Record<string, string> = { M: '%c', d: '%e', H: '%k', h: '%l', m: '%i', s: '%S', y: '%y' };
    const ch = f[i] as string;
    if (single[ch]) {
      flush();
      const p = `formatDateTime(${d}, '${single[ch]}')`;
      // One-letter tokens print without padding (ClickHouse pads some with zeros, some with spaces).
      parts.push(`toString(toUInt8(trimLeft(${p})))`);
    } else literalText += ch;
    i += 1;
  }
  flush();
  return withValue(d, () => `if(${d} IS NULL, '', concat(${parts.join(', ') || "''"}, ''))`);
};

// ───────────────────────────── strings ─────────────────────────────

/** KQL is 0-based; a negative start counts from the end (before the first character: ''); a negative length ''. */
const substringFn: Template = (args, ctx) => {
  const str = s(arg(args, 0, ctx));
  const len = args[2] ? `, greatest(toInt64(${args[2].sql}), 0)` : '';
  return withValue(str, (t) =>
    withValue(`toInt64(${arg(args, 1, ctx).sql})`, (st) => {
      const from = `if(${st} < 0, toInt64(lengthUTF8(${t})) + ${st}, ${st})`;
      return withValue(from, (f) => `ifNull(if(${f} < 0, '', substringUTF8(${t}, ${f} + 1${len})), '')`);
    }),
  );
};

const extract: Template = (args, ctx) => {
  const re = regexArg(arg(args, 0, ctx));
  const group = literalNumber(args[1]);
  const str = s(arg(args, 2, ctx));
  if (group === null) return ctx.unsupported('extract with a computed capture group');
  const text = group === 0 ? `regexpExtract(${str}, ${re}, 0)` : `arrayElement(extractGroups(${str}, ${re}), ${group})`;
  const type = ctx.resultType;
  if (type === 'string' || type === 'unknown') return `ifNull(${text}, '')`;
  return toType(type)([{ sql: `nullIf(${text}, '')`, type: 'string', expr: arg(args, 0, ctx).expr }], ctx);
};

const extractAll: Template = (args, ctx) => {
  const re = regexArg(arg(args, 0, ctx));
  if (args.length > 2) {
    // extract_all(regex, captureGroups, text): the listed groups of each match (a single group: its values).
    const listed = args[1]?.literal?.value;
    const pattern = literalString(args[0]);
    // Named groups become their positions in the (literal) pattern.
    const names = pattern === null ? [] : captureGroups(pattern);
    const groups = Array.isArray(listed)
      ? listed.map((g) => (typeof g === 'string' && names.includes(g) ? names.indexOf(g) + 1 : g))
      : null;
    if (!groups?.every((g) => typeof g === 'number')) {
      return ctx.unsupported('extract_all with computed capture groups');
    }
    const text = s(arg(args, 2, ctx));
    const all = `extractAllGroupsVertical(${text}, ${re})`;
    const pick = (g: number) => (g === 0 ? 'NULL' : `toJSONString(__g[${g}])`);
    const item =
      groups.length === 1
        ? pick(groups[0] as number)
        : `concat('[', ${(groups as number[]).map(pick).join(", ',', ")}, ']')`;
    return `if(length(${all}) = 0, NULL, concat('[', arrayStringConcat(arrayMap(__g -> ${item}, ${all}), ','), ']'))`;
  }
  const str = s(arg(args, 1, ctx));
  // One group: its values; several: arrays of the groups of each match.
  return withValue(str, (v) => {
    const groups = `extractAllGroupsVertical(${v}, ${re})`;
    return `if(length(${groups}) = 0, NULL, concat('[', arrayStringConcat(arrayMap(__g -> if(length(__g) = 1, toJSONString(__g[1]), toJSONString(__g)), ${groups}), ','), ']'))`;
  });
};

const split: Template = (args, ctx) => {
  const str = s(arg(args, 0, ctx));
  const sep = s(arg(args, 1, ctx));
  const parts = `splitByString(${sep}, ${str})`;
  if (args[2]) {
    return withValue(parts, (p) => `toJSONString(arraySlice(${p}, toInt64(${args[2]?.sql}) + 1, 1))`);
  }
  return `toJSONString(if(${sep} = '', [${str}], ${parts}))`;
};

const replaceString: Template = (args, ctx) =>
  `replaceAll(${s(arg(args, 0, ctx))}, ${s(arg(args, 1, ctx))}, ${s(arg(args, 2, ctx))})`;

/** Kusto's rewrite text names groups `\\1` (or `$1`); ClickHouse's uses `\\1`. */
function replacement(a: SqlArg): string {
  const lit = literalString(a);
  if (lit !== null) return sqlString(lit.replace(/\$(\d)/g, '\\$1'));
  return `replaceRegexpAll(${s(a)}, '\\$(\\d)', '\\\\\\1')`;
}

const replaceRegex: Template = (args, ctx) =>
  `replaceRegexpAll(${s(arg(args, 0, ctx))}, ${regexArg(arg(args, 1, ctx))}, ${replacement(arg(args, 2, ctx))})`;

/** `trim*(regex, text)`: one match of the regex anchored at the start and/or the end is removed (as Kusto). */
function trimFn(kind: 'both' | 'start' | 'end'): Template {
  return (args, ctx) => {
    const reArg = arg(args, 0, ctx);
    const lit = literalString(reArg);
    const lead = lit !== null ? sqlString(`^(?:${translateRegex(lit)})`) : `concat('^(?:', ${reArg.sql}, ')')`;
    const trail = lit !== null ? sqlString(`(?:${translateRegex(lit)})$`) : `concat('(?:', ${reArg.sql}, ')$')`;
    const str = s(arg(args, 1, ctx));
    if (kind === 'start') return `replaceRegexpOne(${str}, ${lead}, '')`;
    if (kind === 'end') return `replaceRegexpOne(${str}, ${trail}, '')`;
    return `replaceRegexpOne(replaceRegexpOne(${str}, ${lead}, ''), ${trail}, '')`;
  };
}

/**
 * `indexof(text, lookup [, start [, length [, occurrence]]])`: the 0-based index of the n-th occurrence within
 * `length` characters from `start` (negative start counts from the end); -1 when not found; null when start, length
 * or occurrence is out of range or the lookup is empty (as DuckDB's template and Kusto's recorded results).
 */
const indexOf: Template = (args, ctx) => {
  const str = s(arg(args, 0, ctx));
  const lookup = s(arg(args, 1, ctx));
  if (!args[2]) {
    return withValue(lookup, (l) => `if(${l} = '', NULL, toInt64(positionUTF8(${str}, ${l})) - 1)`);
  }
  const int = (a: SqlArg | undefined, dflt: string) => (a ? `toInt64(${a.sql})` : dflt);
  return withValue(str, (t) =>
    withValue(lookup, (l) =>
      withValue(`tuple(${int(args[2], '0')}, ${int(args[3], 'toInt64(-1)')}, ${int(args[4], 'toInt64(1)')})`, (p) => {
        const [st0, len, occ] = [`${p}.1`, `${p}.2`, `${p}.3`];
        const st = `if(${st0} < 0, greatest(toInt64(lengthUTF8(${t})) + ${st0}, 0), ${st0})`;
        // Each further occurrence is searched from just after the previous one, with a fresh window of `length`.
        const win = (from: string) =>
          `if(${len} = -1, substringUTF8(${t}, ${from} + 1), substringUTF8(${t}, ${from} + 1, greatest(${len}, 0)))`;
        const pos = `toInt64(positionUTF8(${win('__acc + 1')}, ${l}))`;
        const found = `arrayFold((__acc, __k) -> if(__acc = -2 OR ${pos} = 0, toInt64(-2), __acc + ${pos}), range(toUInt64(greatest(${occ}, 0))), toInt64(${st} - 1))`;
        return `multiIf(${occ} < 0 OR ${len} < -1 OR ${st0} > toInt64(lengthUTF8(${t})) OR ${l} = '', NULL, ${occ} = 0, toInt64(-1), greatest(${found}, -1))`;
      }),
    ),
  );
};

const strcat: Template = (args) => (args.length ? `concat(${args.map(s).join(', ')}, '')` : "''");

// ───────────────────────────── dynamic ─────────────────────────────

const arrayLength: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  return withValue(a.sql, (v) => `if(JSONType(ifNull(${v}, 'null')) = 'Array', toInt64(JSONLength(${v})), NULL)`);
};

const packArray: Template = (args) =>
  `concat('[', arrayStringConcat([${args.map((a) => `ifNull(${asJson(a)}, 'null')`).join(', ')}], ','), ']')`;

const bagPack: Template = (args, ctx) => {
  if (args.length % 2 !== 0) return ctx.unsupported('bag_pack with an odd number of arguments');
  const pairs: string[] = [];
  for (let i = 0; i < args.length; i += 2) {
    pairs.push(`concat(toJSONString(${s(args[i] as SqlArg)}), ':', ifNull(${asJson(args[i + 1] as SqlArg)}, 'null'))`);
  }
  return pairs.length ? `concat('{', arrayStringConcat([${pairs.join(', ')}], ','), '}')` : "'{}'";
};

const arrayConcat: Template = (args) =>
  `concat('[', arrayStringConcat(arrayConcat(${args.map((a) => `JSONExtractArrayRaw(ifNull(${a.sql}, '[]'))`).join(', ')}), ','), ']')`;

/** strcat_array: null elements join as empty text. */
const strcatArray: Template = (args, ctx) =>
  `arrayStringConcat(arrayMap(__e -> multiIf(__e = 'null', '', JSONType(__e) = 'String', JSONExtractString(__e), __e), ${elements(arg(args, 0, ctx).sql)}), ${s(arg(args, 1, ctx))})`;

const bagKeys: Template = (args, ctx) => `toJSONString(JSONExtractKeys(ifNull(${arg(args, 0, ctx).sql}, '{}')))`;

/** extract_json(path, text[, type]) with a `$.a.b[0]` path. */
const extractJson: Template = (args, ctx) => {
  const path = literalString(args[0]);
  if (path === null) return ctx.unsupported('extractjson with a computed path');
  const steps = jsonPathSteps(path);
  if (steps === null) return ctx.unsupported(`the JSON path ${path}`);
  const raw = `nullIf(nullIf(JSONExtractRaw(${s(arg(args, 1, ctx))}${steps.map((x) => `, ${x}`).join('')}), ''), 'null')`;
  const t = ctx.resultType;
  if (t === 'dynamic' || t === 'unknown') return raw;
  return convertDynamic(raw, t);
};

/** `$.a["b"][0]` → ClickHouse JSONExtract steps ('a', 'b', 1); null for unsupported paths. */
function jsonPathSteps(path: string): string[] | null {
  const out: string[] = [];
  let rest = path.trim();
  if (!rest.startsWith('$')) return null;
  rest = rest.slice(1);
  while (rest) {
    let m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
    if (m) {
      out.push(sqlString(m[1] as string));
      rest = rest.slice(m[0].length);
      continue;
    }
    m = /^\[(-?\d+)\]/.exec(rest);
    if (m) {
      const i = Number(m[1]);
      out.push(String(i >= 0 ? i + 1 : i));
      rest = rest.slice(m[0].length);
      continue;
    }
    m = /^\[['"]([^'"]*)['"]\]/.exec(rest);
    if (m) {
      out.push(sqlString(m[1] as string));
      rest = rest.slice(m[0].length);
      continue;
    }
    return null;
  }
  return out;
}

/** gettype(): typed arguments by their KQL type; dynamic values by their JSON kind (a dynamic real is 'double'). */
const gettype: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  if (a.type !== 'dynamic') return sqlString(a.type === 'unknown' ? 'null' : a.type);
  return `multiIf(${a.sql} IS NULL, 'null', JSONType(ifNull(${a.sql}, 'null')) = 'Array', 'array', JSONType(ifNull(${a.sql}, 'null')) = 'Object', 'dictionary', JSONType(ifNull(${a.sql}, 'null')) = 'String', 'string', JSONType(ifNull(${a.sql}, 'null')) IN ('Int64', 'UInt64'), 'long', JSONType(ifNull(${a.sql}, 'null')) = 'Double', 'double', JSONType(ifNull(${a.sql}, 'null')) = 'Bool', 'bool', 'null')`;
};

/** The elements of a dynamic array as JSON texts. */
export const elements = (sql: string) => `JSONExtractArrayRaw(ifNull(${sql}, '[]'))`;

/** array_slice(a, start, end): inclusive bounds, negative ones count from the end. */
const arraySlice: Template = (args, ctx) => {
  const a = arg(args, 0, ctx).sql;
  return withValue(elements(a), (e) => {
    const norm = (x: string) => `if(toInt64(${x}) < 0, toInt64(${x}) + length(${e}), toInt64(${x}))`;
    const from = `greatest(${norm(arg(args, 1, ctx).sql)}, 0)`;
    const to = `least(${norm(arg(args, 2, ctx).sql)}, toInt64(length(${e})) - 1)`;
    return `if(JSONType(ifNull(${a}, 'null')) != 'Array', NULL, concat('[', arrayStringConcat(arraySlice(${e}, ${from} + 1, greatest(${to} - ${from} + 1, 0)), ','), ']'))`;
  });
};

/**
 * array_sort_asc/desc(a1 [, a2, ...] [, nulls_last]): a1 sorted (numbers before strings, nulls last by default in
 * both directions); further arrays reordered by the same permutation (a tuple of the sorted arrays).
 */
function arraySort(desc: boolean): Template {
  return (args, ctx) => {
    const last = args.at(-1);
    const bool = args.length > 1 && last?.type === 'bool' ? last : undefined;
    const arrays = bool ? args.slice(0, -1) : args;
    const first = arg(arrays, 0, ctx).sql;
    // nulls_last (default true) for both directions: the null flag sorts last, the reverse sort flips it.
    const nullsLast = bool ? `ifNull(${bool.sql}, true)` : 'true';
    const isNull = `(JSONType(__e) = 'Null')`;
    const flag = desc ? `(${isNull} != ${nullsLast})` : `(${isNull} = ${nullsLast})`;
    const key = `tuple(${flag}, JSONType(__e) IN ('Int64', 'UInt64', 'Double'), toFloat64OrNull(__e), if(JSONType(__e) = 'String', JSONExtractString(__e), __e))`;
    const fn = desc ? 'arrayReverseSort' : 'arraySort';
    if (arrays.length === 1) {
      const out = `if(JSONType(ifNull(${first}, 'null')) != 'Array', NULL, concat('[', arrayStringConcat(${fn}(__e -> ${key}, ${elements(first)}), ','), ']'))`;
      // Typed as a one-column tuple (`unknown`) when Kusto's multi-valued form is in use: lowering reads element 0.
      return ctx.resultType === 'unknown' ? `tuple(${out})` : out;
    }
    return withValue(elements(first), (e1) => {
      const order = `${fn}(__i -> arrayElement(arrayMap(__e -> ${key}, [${e1}[__i]]), 1), arrayEnumerate(${e1}))`;
      return withValue(order, (o) => {
        const outs = arrays.map(
          (a) =>
            `if(JSONType(ifNull(${a.sql}, 'null')) != 'Array', NULL, concat('[', arrayStringConcat(arrayMap(__i -> ifNull(nullIf(${elements(a.sql)}[__i], ''), 'null'), ${o}), ','), ']'))`,
        );
        return ctx.resultType === 'unknown' ? `tuple(${outs.join(', ')})` : (outs[0] as string);
      });
    });
  };
}

function setOp(kind: 'difference' | 'intersect' | 'union'): Template {
  return (args, ctx) => {
    if (args.length === 0) return ctx.unsupported(`set_${kind} without arguments`);
    const lists = args.map((a) => `arrayDistinct(${elements(a.sql)})`);
    const first = lists[0] as string;
    let out: string;
    if (kind === 'union') out = `arrayDistinct(arrayConcat(${lists.join(', ')}))`;
    else if (kind === 'intersect')
      out =
        lists.length === 1
          ? first
          : `arrayFilter(__e -> ${lists
              .slice(1)
              .map((l) => `has(${l}, __e)`)
              .join(' AND ')}, ${first})`;
    else
      out =
        lists.length === 1
          ? first
          : `arrayFilter(__e -> NOT (${lists
              .slice(1)
              .map((l) => `has(${l}, __e)`)
              .join(' OR ')}), ${first})`;
    return `concat('[', arrayStringConcat(${out}, ','), ']')`;
  };
}

/** array_index_of(a, v [, start [, length [, occurrence]]]): the 0-based index of the occurrence in the range, else -1. */
const arrayIndexOf: Template = (args, ctx) => {
  const a = arg(args, 0, ctx).sql;
  const v = asJson(arg(args, 1, ctx));
  if (args.length <= 2) {
    return `if(JSONType(ifNull(${a}, 'null')) != 'Array', NULL, toInt64(indexOf(${elements(a)}, ${v})) - 1)`;
  }
  const start = `toInt64(${args[2]?.sql ?? '0'})`;
  const len = args[3] ? `toInt64(${args[3].sql})` : 'toInt64(-1)';
  const occ = args[4] ? `toInt64(${args[4].sql})` : 'toInt64(1)';
  return withValue(elements(a), (l) =>
    withValue(`if(${start} < 0, greatest(toInt64(length(${l})) + ${start}, 0), ${start})`, (st) => {
      const hit = `(__i - 1 >= ${st} AND (${len} = -1 OR __i - 1 < ${st} + ${len}) AND ${l}[__i] = ${v})`;
      const hits = `arrayFilter(__i -> ${hit}, arrayEnumerate(${l}))`;
      return `if(JSONType(ifNull(${a}, 'null')) != 'Array' OR ${occ} < 0 OR ${len} < -1 OR ${v} IS NULL, NULL, if(${occ} >= 1 AND ${occ} <= length(${hits}), toInt64(${hits}[${occ}]) - 1, -1))`;
    }),
  );
};

const makeDatetime: Template = (args, ctx) => {
  const parts = [0, 1, 2, 3, 4].map((i) => (args[i] ? `toInt64(${args[i]?.sql})` : i < 3 ? '1' : '0'));
  const sec = args[5] ? `toFloat64(${args[5].sql})` : '0';
  if (!args[0]) return ctx.unsupported('make_datetime without a year');
  // Out-of-range parts (month 13, February 30, hour 24, ...) give null, as Kusto; ClickHouse would clamp them.
  return withValue(`tuple(${parts.join(', ')}, ${sec})`, (p) => {
    const [y, mo, d, h, mi, sc] = [1, 2, 3, 4, 5, 6].map((i) => `${p}.${i}`) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const days = `dateDiff('day', makeDate32(${y}, ${mo}, 1), addMonths(makeDate32(${y}, ${mo}, 1), 1))`;
    const valid = `${y} BETWEEN 1900 AND 2299 AND ${mo} BETWEEN 1 AND 12 AND ${h} BETWEEN 0 AND 23 AND ${mi} BETWEEN 0 AND 59 AND ${sc} >= 0 AND ${sc} < 60 AND ${d} >= 1 AND ${d} <= ${days}`;
    const date = `makeDateTime64(${y}, ${mo}, ${d}, ${h}, ${mi}, 0, 0, 7, 'UTC')`;
    return `if(${valid}, ${nullSafe(`(${datetimeTicks(date)} + toInt64(round(${sc} * 10000000)))`, ticksToDatetime)}, NULL)`;
  });
};

const formatTimespan: Template = (args, ctx) => {
  const t = arg(args, 0, ctx).sql;
  const f = literalString(args[1]);
  if (f === null) return ctx.unsupported('format_timespan with a computed format');
  const parts: string[] = [];
  let text = '';
  const flush = () => {
    if (text) parts.push(sqlString(text));
    text = '';
  };
  const a = `abs(${t})`;
  let i = 0;
  while (i < f.length) {
    const m = /^(d+|h+|H+|m+|s+|f+|F+)/.exec(f.slice(i));
    const tok = m?.[0];
    if (!tok) {
      const ch = f[i] as string;
      if (ch === "'" || ch === '"') {
        const close = f.indexOf(ch, i + 1);
        text += f.slice(i + 1, close < 0 ? f.length : close);
        i = close < 0 ? f.length : close + 1;
        continue;
      }
      if (ch === '\\' && i + 1 < f.length) {
        text += f[i + 1];
        i += 2;
        continue;
      }
      text += ch;
      i++;
      continue;
    }
    flush();
    const c = tok[0] as string;
    const pad = (v: string, w: number) => `leftPad(toString(${v}), ${w}, '0')`;
    if (c === 'd') parts.push(pad(`intDiv(${a}, 864000000000)`, tok.length));
    else if (c === 'h' || c === 'H') parts.push(pad(`intDiv(${a}, 36000000000) % 24`, Math.min(tok.length, 2)));
    else if (c === 'm') parts.push(pad(`intDiv(${a}, 600000000) % 60`, Math.min(tok.length, 2)));
    else if (c === 's') parts.push(pad(`intDiv(${a}, 10000000) % 60`, Math.min(tok.length, 2)));
    else {
      const digits = `substring(leftPad(toString(${a} % 10000000), 7, '0'), 1, ${tok.length})`;
      parts.push(c === 'F' ? `replaceRegexpOne(${digits}, '0+$', '')` : digits);
    }
    i += tok.length;
  }
  flush();
  return `if(${t} IS NULL, '', concat(if(${t} < 0, '-', ''), ${parts.join(', ') || "''"}))`;
};

/** `replace_strings(text, lookups, rewrites)`: earlier lookups win; replaced text is not searched again. */
const replaceStrings: Template = (args, ctx) => {
  const text = s(arg(args, 0, ctx));
  const lookups = arg(args, 1, ctx);
  const rewrites = arg(args, 2, ctx);
  // Each lookup is first replaced by a private-use character (U+F0000 + i) so that later lookups cannot match
  // inside a replacement, then each marker by its rewrite; a non-string rewrite keeps the lookup, a missing one is ''.
  const marker = (i: string) => utf8Char(`983040 + ${i}`);
  return withValue(jsonArrayStrings(lookups.sql), (ls) =>
    withValue(elements(rewrites.sql), (rs) => {
      const idx = `range(1, length(${ls}) + 1)`;
      const marked = `arrayFold((__acc, __i) -> if(${ls}[__i] = '', __acc, replaceAll(__acc, ${ls}[__i], ${marker('__i')})), ${idx}, ${text})`;
      const rewrite = `multiIf(__i <= length(${rs}) AND JSONType(${rs}[__i]) = 'String', JSONExtractString(${rs}[__i]), __i <= length(${rs}), ${ls}[__i], '')`;
      return `arrayFold((__acc, __i) -> replaceAll(__acc, ${marker('__i')}, ${rewrite}), ${idx}, ${marked})`;
    }),
  );
};

/** The query part of a URL as a JSON object of decoded names to decoded values. */
function queryParameters(q: string): string {
  const pair = `concat(toJSONString(decodeURLComponent(splitByChar('=', __kv)[1])), ':', toJSONString(decodeURLComponent(if(position(__kv, '=') > 0, substring(__kv, position(__kv, '=') + 1), ''))))`;
  return `concat('{', arrayStringConcat(arrayMap(__kv -> ${pair}, arrayFilter(__kv -> __kv != '', splitByChar('&', ${q}))), ','), '}')`;
}

const parseUrl: Template = (args, ctx) => {
  const u = s(arg(args, 0, ctx));
  const re = sqlString(
    '^([A-Za-z][A-Za-z0-9+.-]*)://(?:([^:@/]*)(?::([^@/]*))?@)?([^:/?#]*)(?::(\\d+))?([^?#]*)(?:\\?([^#]*))?(?:#(.*))?$',
  );
  return withValue(`extractGroups(${u}, ${re})`, (m) => {
    const f = (name: string, i: number) => `'"${name}":', toJSONString(${m}[${i}])`;
    return `concat('{', ${f('Scheme', 1)}, ',', ${f('Host', 4)}, ',', ${f('Port', 5)}, ',', ${f('Path', 6)}, ',', ${f('Username', 2)}, ',', ${f('Password', 3)}, ',"Query Parameters":', ${queryParameters(`${m}[7]`)}, ',', ${f('Fragment', 8)}, '}')`;
  });
};

/** bag_merge(b1, ..., bN): the first bag holding a key gives its value; non-bags are ignored. */
const bagMerge: Template = (args) => {
  const kvs = `arrayConcat(${args.map((a) => `if(JSONType(ifNull(${a.sql}, 'null')) = 'Object', JSONExtractKeysAndValuesRaw(ifNull(${a.sql}, '{}')), [])`).join(', ')})`;
  return bagOfPairs(kvs);
};

/** A JSON object from an array of (key, raw JSON value) pairs; the first pair of each key wins. */
export function bagOfPairs(kvs: string): string {
  return withValue(
    kvs,
    (p) =>
      `concat('{', arrayStringConcat(arrayMap(__kv -> concat(toJSONString(__kv.1), ':', __kv.2), arrayFilter((__kv, __i) -> indexOf(arrayMap(__x -> __x.1, ${p}), __kv.1) = __i, ${p}, arrayEnumerate(${p}))), ','), '}')`,
  );
}

const zip: Template = (args) => {
  const lists = args.map((a) => elements(a.sql));
  const n = `greatest(${lists.map((l) => `length(${l})`).join(', ')})`;
  const items = lists.map((l) => `if(__i <= length(${l}), ${l}[__i], 'null')`);
  return `concat('[', arrayStringConcat(arrayMap(__i -> concat('[', ${items.join(", ',', ")}, ']'), range(1, toUInt64(${n}) + 1)), ','), ']')`;
};

/** IPv4 text (with an optional /prefix) as (address, prefix bits); null when malformed. */
function ipv4Match(args: readonly SqlArg[], ctx: TemplateContext): string {
  const a = s(arg(args, 0, ctx));
  const b = s(arg(args, 1, ctx));
  const prefix = args[2] ? `toUInt8(least(greatest(toInt64(${args[2].sql}), 0), 32))` : null;
  const bits = (x: string) => `if(position(${x}, '/') > 0, toUInt8OrNull(splitByChar('/', ${x})[2]), 32)`;
  const addr = (x: string) => `toIPv4OrNull(splitByChar('/', ${x})[1])`;
  const p = prefix ? `least(${bits(a)}, ${bits(b)}, ${prefix})` : `least(${bits(a)}, ${bits(b)})`;
  const mask = `bitShiftLeft(toUInt32(4294967295), 32 - ${p})`;
  return `if(${addr(a)} IS NULL OR ${addr(b)} IS NULL, NULL, bitAnd(toUInt32(${addr(a)}), ${mask}) = bitAnd(toUInt32(${addr(b)}), ${mask}))`;
}

/** A real-valued math function: domain errors give NaN as in Kusto (ClickHouse already returns NaN/inf). */
const real1 =
  (fn: string): Template =>
  (args, ctx) =>
    `${fn}(toFloat64(${arg(args, 0, ctx).sql}))`;

/** A JSON array text from an array of JSON texts. */
export const jsonArrayOf = (arr: string) =>
  `concat('[', arrayStringConcat(arrayMap(__e -> ifNull(__e, 'null'), ${arr}), ','), ']')`;

function arrayShift(dir: 'left' | 'right'): Template {
  return (args, ctx) => {
    const a = arg(args, 0, ctx).sql;
    const n = `toInt64(${arg(args, 1, ctx).sql})`;
    const fill = args[2] ? `ifNull(${asJson(args[2])}, 'null')` : `'null'`;
    return withValue(elements(a), (e) => {
      const len = `toInt64(length(${e}))`;
      const shifted =
        dir === 'left'
          ? `arrayMap(__i -> if(__i + ${n} >= 1 AND __i + ${n} <= ${len}, ${e}[__i + ${n}], ${fill}), range(1, toUInt64(${len}) + 1))`
          : `arrayMap(__i -> if(__i - ${n} >= 1 AND __i - ${n} <= ${len}, ${e}[__i - ${n}], ${fill}), range(1, toUInt64(${len}) + 1))`;
      return `if(JSONType(ifNull(${a}, 'null')) != 'Array', NULL, ${jsonArrayOf(shifted)})`;
    });
  };
}

function unixTo(scale: number): Template {
  return (args, ctx) => nullSafe(`toInt64(round(toFloat64(${arg(args, 0, ctx).sql}) * ${scale}))`, ticksToDatetime);
}

/** A series (dynamic array) or a scalar as an array of Float64 (null where not a number) of length `n`. */
function seriesValues(a: SqlArg, n: string): string {
  if (a.type === 'dynamic') return `arrayMap(__e -> toFloat64OrNull(__e), ${elements(a.sql)})`;
  return `arrayResize([toFloat64(${a.sql})], toUInt64(${n}), toFloat64(${a.sql}))`;
}

/** A JSON array of numbers (null for null, NaN and infinities, as Kusto's dynamic arrays hold them). */
const numberArray = (arr: string) =>
  `concat('[', arrayStringConcat(arrayMap(__x -> if(__x IS NULL OR NOT isFinite(__x), 'null', toString(__x)), ${arr}), ','), ']')`;

function seriesBinary(op: (x: string, y: string) => string, bool = false): Template {
  return (args, ctx) => {
    const a = arg(args, 0, ctx);
    const b = arg(args, 1, ctx);
    const lens = [a, b].filter((x) => x.type === 'dynamic').map((x) => `length(${elements(x.sql)})`);
    if (lens.length === 0) return ctx.unsupported('a series function without a series');
    const n = lens.length === 1 ? (lens[0] as string) : `greatest(${lens.join(', ')})`;
    const zipped = `arrayMap((__x, __y) -> ${op('__x', '__y')}, arrayResize(${seriesValues(a, n)}, toUInt64(${n}), NULL), arrayResize(${seriesValues(b, n)}, toUInt64(${n}), NULL))`;
    if (bool) {
      return `concat('[', arrayStringConcat(arrayMap(__x -> multiIf(__x IS NULL, 'null', __x, 'true', 'false'), ${zipped}), ','), ']')`;
    }
    return numberArray(zipped);
  };
}

function seriesUnary(op: (x: string) => string): Template {
  return (args, ctx) => numberArray(`arrayMap(__x -> ${op('__x')}, ${seriesValues(arg(args, 0, ctx), '0')})`);
}

/** The literal strings of arguments (or of one dynamic array literal), null when any is computed. */
function literalStrings(args: readonly SqlArg[]): string[] | null {
  const out: string[] = [];
  for (const a of args) {
    const v = a.literal?.value;
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out.push(...(v as string[]));
    else return null;
  }
  return out;
}

/** An IPv4 address (or prefix) inside text, bounded by characters that cannot continue an address. */
function ipv4InText(prefix: boolean): Template {
  return (args, ctx) => {
    const text = s(arg(args, 0, ctx));
    const ips = literalStrings(args.slice(1));
    if (ips === null) return ctx.unsupported('IPv4 search with computed addresses');
    if (ips.length === 0) return 'false';
    // A prefix search matches an open prefix only when it ends with a dot ('127.0.'); otherwise a whole address.
    const alt = ips
      .map((ip) => {
        const esc = ip.replace(/[.\\]/g, (c) => `\\${c}`);
        return prefix && ip.endsWith('.') ? esc : `${esc}(?:$|[^0-9.])`;
      })
      .join('|');
    return `match(${text}, ${sqlString(`(?:^|[^0-9.])(?:${alt})`)})`;
  };
}

const TABLE: Readonly<Record<string, Template>> = {
  ...GEO_FUNCTIONS,
  ...MORE_FUNCTIONS,
  ...SERIES_FUNCTIONS,
  ...XML_FUNCTIONS,
  gettype,
  has_any_ipv4: ipv4InText(false),
  has_ipv4_prefix: ipv4InText(true),
  has_any_ipv4_prefix: ipv4InText(true),
  format_ipv4_mask: (args, ctx) => {
    const t = s(arg(args, 0, ctx));
    const own = `if(position(${t}, '/') > 0, toUInt8OrNull(splitByChar('/', ${t})[2]), 32)`;
    // A negative prefix gives '' (as Kusto does).
    const bits = args[1]
      ? `if(toInt64(${args[1].sql}) < 0, NULL, least(${own}, toUInt8(least(toInt64(${args[1].sql}), 32))))`
      : own;
    return withValue(
      `toIPv4OrNull(splitByChar('/', ${t})[1])`,
      (ip) =>
        `if(${ip} IS NULL OR ${bits} IS NULL, '', concat(IPv4NumToString(toUInt32(bitAnd(toUInt32(${ip}), bitShiftLeft(toUInt32(4294967295), 32 - ${bits})))), '/', toString(${bits})))`,
    );
  },
  series_add: seriesBinary((x, y) => `${x} + ${y}`),
  series_subtract: seriesBinary((x, y) => `${x} - ${y}`),
  series_multiply: seriesBinary((x, y) => `${x} * ${y}`),
  series_divide: seriesBinary((x, y) => `${x} / ${y}`),
  series_pow: seriesBinary((x, y) => `pow(${x}, ${y})`),
  series_greater: seriesBinary((x, y) => `${x} > ${y}`, true),
  series_greater_equals: seriesBinary((x, y) => `${x} >= ${y}`, true),
  series_less: seriesBinary((x, y) => `${x} < ${y}`, true),
  series_less_equals: seriesBinary((x, y) => `${x} <= ${y}`, true),
  series_equals: seriesBinary((x, y) => `${x} = ${y}`, true),
  series_not_equals: seriesBinary((x, y) => `${x} != ${y}`, true),
  series_abs: seriesUnary((x) => `abs(${x})`),
  series_acos: seriesUnary((x) => `acos(${x})`),
  series_asin: seriesUnary((x) => `asin(${x})`),
  series_atan: seriesUnary((x) => `atan(${x})`),
  series_cos: seriesUnary((x) => `cos(${x})`),
  series_sin: seriesUnary((x) => `sin(${x})`),
  series_tan: seriesUnary((x) => `tan(${x})`),
  series_exp: seriesUnary((x) => `exp(${x})`),
  series_log: seriesUnary((x) => `log(${x})`),
  series_ceiling: seriesUnary((x) => `ceil(${x})`),
  series_floor: seriesUnary((x) => `floor(${x})`),
  series_sign: seriesUnary((x) => `sign(${x})`),
  series_sum: (args, ctx) => `arraySum(arrayMap(__x -> ifNull(__x, 0), ${seriesValues(arg(args, 0, ctx), '0')}))`,
  series_dot_product: (args, ctx) => {
    const a = arg(args, 0, ctx);
    const b = arg(args, 1, ctx);
    const n = `least(${
      [a, b]
        .filter((x) => x.type === 'dynamic')
        .map((x) => `length(${elements(x.sql)})`)
        .join(', ') || '0'
    })`;
    return `arraySum(arrayMap((__x, __y) -> ifNull(__x * __y, 0), arrayResize(${seriesValues(a, n)}, toUInt64(${n})), arrayResize(${seriesValues(b, n)}, toUInt64(${n}))))`;
  },
  // Keys that are not strings are skipped; values that are not an array give null values; keys not an array: null.
  bag_zip: (args, ctx) => {
    const k = arg(args, 0, ctx).sql;
    const v = arg(args, 1, ctx).sql;
    const keys = elements(k);
    const values = `if(JSONType(ifNull(${v}, 'null')) = 'Array', ${elements(v)}, [])`;
    const pairs = `arrayFilter(__p -> JSONType(__p.1) = 'String', arrayMap((__k, __i) -> (__k, if(__i <= length(${values}), ${values}[__i], 'null')), ${keys}, arrayEnumerate(${keys})))`;
    return `if(JSONType(ifNull(${k}, 'null')) != 'Array', NULL, ${bagOfPairs(`arrayMap(__p -> (JSONExtractString(__p.1), __p.2), ${pairs})`)})`;
  },
  parse_urlquery: (args, ctx) =>
    `concat('{"Query Parameters":', ${queryParameters(`replaceRegexpOne(${s(arg(args, 0, ctx))}, '^[?]', '')`)}, '}')`,
  parse_path: (args, ctx) => {
    const p = s(arg(args, 0, ctx));
    const re = sqlString('^(?:([A-Za-z][A-Za-z0-9+.-]*)://)?(?:(.*)[\\\\/])?([^\\\\/]*)$');
    return withValue(`extractGroups(${p}, ${re})`, (m) =>
      withValue(`extractGroups(${m}[3], '^([^:]*)(?::(.*))?$')`, (f) => {
        const ext = `if(position(${f}[1], '.') > 0, reverse(splitByChar('.', reverse(${f}[1]))[1]), '')`;
        const root = `extract(${m}[2], '^([A-Za-z]:|\\\\\\\\[^\\\\/]+|)')`;
        return `concat('{"Scheme":', toJSONString(${m}[1]), ',"RootPath":', toJSONString(${root}), ',"DirectoryPath":', toJSONString(${m}[2]), ',"DirectoryName":', toJSONString(reverse(splitByRegexp('[\\\\\\\\/]', reverse(${m}[2]))[1])), ',"Filename":', toJSONString(${f}[1]), ',"Extension":', toJSONString(${ext}), ',"AlternateDataStreamName":', toJSONString(${f}[2]), '}')`;
      }),
    );
  },
  rand: (args) => (args[0] ? `toInt64(rand64() % toUInt64(greatest(toInt64(${args[0].sql}), 1)))` : 'randCanonical()'),
  dynamic_to_json: (args, ctx) => `ifNull(${arg(args, 0, ctx).sql}, 'null')`,
  base64_decode_toarray: (args, ctx) =>
    `if(tryBase64Decode(${s(arg(args, 0, ctx))}) IS NULL, NULL, concat('[', arrayStringConcat(arrayMap(__c -> toString(reinterpretAsUInt8(__c)), splitByString('', ifNull(tryBase64Decode(${s(arg(args, 0, ctx))}), ''))), ','), ']'))`,
  unicode_codepoints_to_string: (args, ctx) => {
    arg(args, 0, ctx);
    const parts = args.map((a) =>
      a.type === 'dynamic'
        ? `arrayStringConcat(arrayMap(__c -> char(toUInt32OrZero(__c)), ${elements(a.sql)}))`
        : `ifNull(char(toUInt32(${a.sql})), '')`,
    );
    return `concat(${parts.join(', ')}, '')`;
  },
  acos: real1('acos'),
  asin: real1('asin'),
  atan: real1('atan'),
  atan2: (args, ctx) => `atan2(toFloat64(${arg(args, 0, ctx).sql}), toFloat64(${arg(args, 1, ctx).sql}))`,
  cos: real1('cos'),
  sin: real1('sin'),
  tan: real1('tan'),
  cot: (args, ctx) => `(1 / tan(toFloat64(${arg(args, 0, ctx).sql})))`,
  degrees: real1('degrees'),
  radians: real1('radians'),
  pi: () => 'pi()',
  exp2: real1('exp2'),
  exp10: real1('exp10'),
  gamma: real1('tgamma'),
  loggamma: real1('lgamma'),
  erf: real1('erf'),
  erfc: real1('erfc'),
  binary_and: (args, ctx) => `bitAnd(toInt64(${arg(args, 0, ctx).sql}), toInt64(${arg(args, 1, ctx).sql}))`,
  binary_or: (args, ctx) => `bitOr(toInt64(${arg(args, 0, ctx).sql}), toInt64(${arg(args, 1, ctx).sql}))`,
  binary_xor: (args, ctx) => `bitXor(toInt64(${arg(args, 0, ctx).sql}), toInt64(${arg(args, 1, ctx).sql}))`,
  binary_not: (args, ctx) => `bitNot(toInt64(${arg(args, 0, ctx).sql}))`,
  binary_shift_left: (args, ctx) =>
    `bitShiftLeft(toInt64(${arg(args, 0, ctx).sql}), toInt64(${arg(args, 1, ctx).sql}) % 64)`,
  binary_shift_right: (args, ctx) =>
    `bitShiftRight(toInt64(${arg(args, 0, ctx).sql}), toInt64(${arg(args, 1, ctx).sql}) % 64)`,
  bitset_count_ones: (args, ctx) => `toInt64(bitCount(toInt64(${arg(args, 0, ctx).sql})))`,
  tohex: (args, ctx) => {
    const v = `toInt64(${arg(args, 0, ctx).sql})`;
    const hex = `lower(replaceRegexpOne(hex(if(${v} < 0, reinterpretAsUInt64(${v}), toUInt64(${v}))), '^0+(.)', '\\1'))`;
    return args[1] ? `leftPad(${hex}, toUInt64(${args[1].sql}), '0')` : hex;
  },
  array_reverse: (args, ctx) => {
    const a = arg(args, 0, ctx).sql;
    return `if(JSONType(ifNull(${a}, 'null')) != 'Array', NULL, ${jsonArrayOf(`arrayReverse(${elements(a)})`)})`;
  },
  array_shift_left: arrayShift('left'),
  array_shift_right: arrayShift('right'),
  array_sum: (args, ctx) => `arraySum(arrayMap(__e -> toFloat64OrNull(__e), ${elements(arg(args, 0, ctx).sql)}))`,
  set_has_element: (args, ctx) => `has(${elements(arg(args, 0, ctx).sql)}, ${asJson(arg(args, 1, ctx))})`,
  unixtime_microseconds_todatetime: unixTo(10),
  unixtime_nanoseconds_todatetime: unixTo(0.01),
  isascii: (args, ctx) => `NOT match(${s(arg(args, 0, ctx))}, '[^\\x00-\\x7F]')`,
  isutf8: (args, ctx) => `isValidUTF8(${s(arg(args, 0, ctx))})`,
  regex_quote: (args, ctx) =>
    `replaceRegexpAll(${s(arg(args, 0, ctx))}, ${sqlString('([\\\\^$.*+?()\\[\\]{}|-])')}, ${sqlString('\\\\\\1')})`,
  url_encode: (args, ctx) => `encodeURLComponent(${s(arg(args, 0, ctx))})`,
  format_ipv4: (args, ctx) => {
    const v = arg(args, 0, ctx);
    const ip = v.type === 'string' ? `toIPv4OrNull(splitByChar('/', ${v.sql})[1])` : `toIPv4(toUInt32(${v.sql}))`;
    if (!args[1]) return `ifNull(toString(${ip}), '')`;
    // With a prefix: the address masked to the shorter of its own prefix and the given one (negative: '').
    const own =
      v.type === 'string' ? `if(position(${v.sql}, '/') > 0, toInt64OrNull(splitByChar('/', ${v.sql})[2]), 32)` : '32';
    const bits = `least(${own}, toInt64(${args[1].sql}))`;
    return withValue(
      bits,
      (b) =>
        `if(${b} IS NULL OR ${b} < 0 OR ${b} > 32, '', ifNull(IPv4NumToString(bitAnd(toUInt32(${ip}), bitShiftLeft(toUInt32(4294967295), toUInt8(32 - if(${b} BETWEEN 0 AND 32, ${b}, 32))))), ''))`,
    );
  },
  parse_ipv4: (args, ctx) => `toInt64(toUInt32(toIPv4OrNull(splitByChar('/', ${s(arg(args, 0, ctx))})[1])))`,
  ipv4_netmask_suffix: (args, ctx) => {
    const t = s(arg(args, 0, ctx));
    return `if(toIPv4OrNull(splitByChar('/', ${t})[1]) IS NULL, NULL, toInt32(if(position(${t}, '/') > 0, toInt32OrNull(splitByChar('/', ${t})[2]), 32)))`;
  },
  parse_url: parseUrl,
  bag_merge: bagMerge,
  zip,
  ipv4_is_match: ipv4Match,
  ipv4_compare: (args, ctx) => {
    const a = s(arg(args, 0, ctx));
    const b = s(arg(args, 1, ctx));
    const bits = (x: string) => `if(position(${x}, '/') > 0, toUInt8OrNull(splitByChar('/', ${x})[2]), 32)`;
    const p = args[2]
      ? `least(${bits(a)}, ${bits(b)}, toUInt8(least(greatest(toInt64(${args[2].sql}), 0), 32)))`
      : `least(${bits(a)}, ${bits(b)})`;
    const masked = (x: string) =>
      `toInt64(bitAnd(toUInt32(toIPv4OrNull(splitByChar('/', ${x})[1])), bitShiftLeft(toUInt32(4294967295), 32 - ${p})))`;
    return `toInt64(sign(${masked(a)} - ${masked(b)}))`;
  },
  has_ipv4: (args, ctx) =>
    `match(${s(arg(args, 0, ctx))}, concat('(?:^|[^0-9.])', replaceAll(${s(arg(args, 1, ctx))}, '.', '\\.'), '(?:$|[^0-9.])'))`,
  parsejson: (args, ctx) => parseJson(args, ctx),
  array_slice: arraySlice,
  array_sort_asc: arraySort(false),
  array_sort_desc: arraySort(true),
  set_difference: setOp('difference'),
  set_intersect: setOp('intersect'),
  set_union: setOp('union'),
  array_index_of: arrayIndexOf,
  make_datetime: makeDatetime,
  format_timespan: formatTimespan,
  replace_strings: replaceStrings,
  string_size: (args, ctx) => `toInt64(length(${s(arg(args, 0, ctx))}))`,
  strcmp: (args, ctx) =>
    withValue(s(arg(args, 0, ctx)), (a) =>
      withValue(s(arg(args, 1, ctx)), (b) => `toInt32(multiIf(${a} < ${b}, -1, ${a} > ${b}, 1, 0))`),
    ),
  // range(start, stop [, step]): at most 1,048,576 elements (Kusto's cap on arrays); longs, reals, datetimes, timespans.
  range: (args, ctx) => {
    const a = arg(args, 0, ctx);
    const b = arg(args, 1, ctx);
    const cap = 1048576;
    const list = (count: string, item: (i: string) => string) =>
      `concat('[', arrayStringConcat(arrayMap(__i -> ${item('__i')}, range(toUInt64(least(greatest(${count}, 0), ${cap})))), ','), ']')`;
    if (a.type === 'datetime' || a.type === 'timespan') {
      const ticks = (x: SqlArg) => (x.type === 'datetime' ? datetimeTicks(x.sql) : `toInt64(${x.sql})`);
      const step = args[2] ? `toInt64(${args[2].sql})` : 'toInt64(864000000000)';
      const item = (i: string) =>
        a.type === 'datetime'
          ? `concat('"', ${datetimeText(ticksToDatetime(`${ticks(a)} + ${i} * ${step}`))}, '"')`
          : `concat('"', ${timespanText(`(${ticks(a)} + ${i} * ${step})`)}, '"')`;
      return `if(${step} = 0, NULL, ${list(`intDiv(${ticks(b)} - ${ticks(a)}, ${step}) + 1`, item)})`;
    }
    if (a.type === 'real' || b.type === 'real' || args[2]?.type === 'real') {
      const step = args[2] ? `toFloat64(${args[2].sql})` : '1.0';
      const count = `toInt64(floor((toFloat64(${b.sql}) - toFloat64(${a.sql})) / ${step})) + 1`;
      return `if(${step} = 0, NULL, ${list(count, (i) => `toString(toFloat64(${a.sql}) + ${i} * ${step})`)})`;
    }
    if (a.type !== 'long' && a.type !== 'int') return ctx.unsupported(`range() over ${a.type}`);
    const step = args[2] ? `toInt64(${args[2].sql})` : 'toInt64(1)';
    return `if(${step} = 0, NULL, ${list(`intDiv(toInt64(${b.sql}) - toInt64(${a.sql}), ${step}) + 1`, (i) => `toString(toInt64(${a.sql}) + ${i} * ${step})`)})`;
  },
  tostring: (args, ctx) => s(arg(args, 0, ctx)),
  toint: toType('int'),
  tolong: toType('long'),
  toreal: toType('real'),
  todouble: toType('real'),
  todecimal: toType('decimal'),
  tobool: toType('bool'),
  toboolean: toType('bool'),
  todatetime: toType('datetime'),
  totimespan: toType('timespan'),
  totime: toType('timespan'),
  toguid: toType('guid'),
  todynamic: parseJson,
  toobject: parseJson,
  parse_json: parseJson,
  isempty: (args, ctx) => isEmpty(arg(args, 0, ctx)),
  isnotempty: (args, ctx) => `NOT ${isEmpty(arg(args, 0, ctx))}`,
  isnull: (args, ctx) => `(${arg(args, 0, ctx).sql} IS NULL)`,
  isnotnull: (args, ctx) => `(${arg(args, 0, ctx).sql} IS NOT NULL)`,
  iff,
  iif: iff,
  case: (args, ctx) => {
    if (args.length % 2 !== 1) return ctx.unsupported('case with an even number of arguments');
    const parts: string[] = [];
    for (let i = 0; i + 1 < args.length; i += 2) {
      parts.push(`coalesce(${(args[i] as SqlArg).sql}, false)`, typed(args[i + 1] as SqlArg, ctx));
    }
    parts.push(typed(args[args.length - 1] as SqlArg, ctx));
    return `multiIf(${parts.join(', ')})`;
  },
  coalesce: (args, ctx) => {
    if (ctx.resultType === 'string') return `coalesce(${args.map((a) => `nullIf(${s(a)}, '')`).join(', ')}, '')`;
    return `coalesce(${args.map((a) => typed(a, ctx)).join(', ')})`;
  },
  max_of: extremeOf('greatest'),
  min_of: extremeOf('least'),
  not: (args, ctx) => `NOT (${arg(args, 0, ctx).sql})`,
  bin: (args, ctx) => binValue(arg(args, 0, ctx), arg(args, 1, ctx), ctx),
  floor: (args, ctx) => binValue(arg(args, 0, ctx), arg(args, 1, ctx), ctx),
  bin_at: (args, ctx) => binValue(arg(args, 0, ctx), arg(args, 1, ctx), ctx, arg(args, 2, ctx)),
  // strings
  strlen: (args, ctx) => `toInt64(lengthUTF8(${s(arg(args, 0, ctx))}))`,
  tolower: (args, ctx) => `lowerUTF8(${s(arg(args, 0, ctx))})`,
  toupper: (args, ctx) => `upperUTF8(${s(arg(args, 0, ctx))})`,
  strcat,
  strcat_delim: (args, ctx) => `arrayStringConcat([${args.slice(1).map(s).join(', ')}], ${s(arg(args, 0, ctx))})`,
  substring: substringFn,
  extract,
  extract_all: extractAll,
  split,
  replace_string: replaceString,
  replace: replaceRegex,
  replace_regex: replaceRegex,
  trim: trimFn('both'),
  trim_start: trimFn('start'),
  trim_end: trimFn('end'),
  indexof: indexOf,
  countof: (args, ctx) => {
    if (args[2] && literalString(args[2]) === 'regex')
      return `toInt64(countMatches(${s(arg(args, 0, ctx))}, ${regexArg(arg(args, 1, ctx))}))`;
    return `toInt64(countSubstrings(${s(arg(args, 0, ctx))}, ${s(arg(args, 1, ctx))}))`;
  },
  reverse: (args, ctx) => `reverseUTF8(${s(arg(args, 0, ctx))})`,
  strrep: (args, ctx) => {
    const sep = args[2] ? s(args[2]) : "''";
    return `arrayStringConcat(arrayResize([${s(arg(args, 0, ctx))}], toUInt64(greatest(${arg(args, 1, ctx).sql}, 0)), ${s(arg(args, 0, ctx))}), ${sep})`;
  },
  base64_encode_tostring: (args, ctx) => `base64Encode(${s(arg(args, 0, ctx))})`,
  base64_decode_tostring: (args, ctx) => `ifNull(tryBase64Decode(${s(arg(args, 0, ctx))}), '')`,
  url_decode: (args, ctx) => `decodeURLComponent(${s(arg(args, 0, ctx))})`,
  url_encode_component: (args, ctx) => `encodeURLComponent(${s(arg(args, 0, ctx))})`,
  hash_md5: (args, ctx) => `lower(hex(MD5(${s(arg(args, 0, ctx))})))`,
  hash_sha256: (args, ctx) => `lower(hex(SHA256(${s(arg(args, 0, ctx))})))`,
  hash_sha1: (args, ctx) => `lower(hex(SHA1(${s(arg(args, 0, ctx))})))`,
  // datetimes
  startofday: startOf('day'),
  startofweek: startOf('week'),
  startofmonth: startOf('month'),
  startofyear: startOf('year'),
  endofday: startOf('day', true),
  endofweek: startOf('week', true),
  endofmonth: startOf('month', true),
  endofyear: startOf('year', true),
  datetime_add: datetimeAdd,
  datetime_diff: datetimeDiff,
  datetime_part: datetimePart,
  datepart: datetimePart,
  getyear: (args, ctx) => `toInt32(toYear(${arg(args, 0, ctx).sql}))`,
  getmonth: (args, ctx) => `toInt32(toMonth(${arg(args, 0, ctx).sql}))`,
  hourofday: (args, ctx) => `toInt32(toHour(${arg(args, 0, ctx).sql}))`,
  dayofmonth: (args, ctx) => `toInt32(toDayOfMonth(${arg(args, 0, ctx).sql}))`,
  dayofyear: (args, ctx) => `toInt32(toDayOfYear(${arg(args, 0, ctx).sql}))`,
  monthofyear: (args, ctx) => `toInt32(toMonth(${arg(args, 0, ctx).sql}))`,
  week_of_year: (args, ctx) => `toInt32(toISOWeek(${arg(args, 0, ctx).sql}))`,
  dayofweek: (args, ctx) => `(toInt64(toDayOfWeek(${arg(args, 0, ctx).sql}, 2)) * 864000000000)`,
  format_datetime: formatDatetime,
  unixtime_seconds_todatetime: (args, ctx) =>
    nullSafe(`toInt64(round(toFloat64(${arg(args, 0, ctx).sql}) * 10000000))`, ticksToDatetime),
  unixtime_milliseconds_todatetime: (args, ctx) =>
    nullSafe(`toInt64(round(toFloat64(${arg(args, 0, ctx).sql}) * 10000))`, ticksToDatetime),
  // math
  abs: (args, ctx) => `abs(${arg(args, 0, ctx).sql})`,
  round: (args, ctx) => {
    const x = arg(args, 0, ctx);
    if (x.type !== 'real') return `round(${x.sql}${args[1] ? `, ${args[1].sql}` : ''})`;
    // Halves round away from zero as in Kusto (ClickHouse's round of a float takes the even neighbour).
    return withValue(x.sql, (v) =>
      withValue(`pow(10, toFloat64(${args[1]?.sql ?? '0'}))`, (sc) => {
        const away = `if(${v} >= 0, floor(${v} * ${sc} + 0.5), -floor(-${v} * ${sc} + 0.5)) / ${sc}`;
        // Only exact halves differ: elsewhere round() keeps its own (correctly rounded) result.
        return `if(abs(${v} * ${sc} - trunc(${v} * ${sc})) = 0.5, ${away}, round(${v}, toInt32(${args[1]?.sql ?? '0'})))`;
      }),
    );
  },
  ceiling: (args, ctx) => `ceil(${arg(args, 0, ctx).sql})`,
  sqrt: (args, ctx) => `if(${arg(args, 0, ctx).sql} < 0, nan, sqrt(${arg(args, 0, ctx).sql}))`,
  exp: (args, ctx) => `exp(${arg(args, 0, ctx).sql})`,
  // Kusto: the log of 0 is -∞, of a negative number null.
  log: (args, ctx) => withValue(`toFloat64(${arg(args, 0, ctx).sql})`, (x) => `if(${x} < 0, NULL, log(${x}))`),
  log10: (args, ctx) => withValue(`toFloat64(${arg(args, 0, ctx).sql})`, (x) => `if(${x} < 0, NULL, log10(${x}))`),
  log2: (args, ctx) => withValue(`toFloat64(${arg(args, 0, ctx).sql})`, (x) => `if(${x} < 0, NULL, log2(${x}))`),
  pow: (args, ctx) => `pow(${arg(args, 0, ctx).sql}, ${arg(args, 1, ctx).sql})`,
  sign: (args, ctx) => `sign(${arg(args, 0, ctx).sql})`,
  isnan: (args, ctx) => `isNaN(${arg(args, 0, ctx).sql})`,
  isinf: (args, ctx) => `isInfinite(${arg(args, 0, ctx).sql})`,
  isfinite: (args, ctx) => `isFinite(${arg(args, 0, ctx).sql})`,
  // IPv4
  ipv4_is_private: (args, ctx) =>
    withValue(
      `toIPv4OrNull(${s(arg(args, 0, ctx))})`,
      (ip) =>
        `if(${ip} IS NULL, NULL, isIPAddressInRange(toString(${ip}), '10.0.0.0/8') OR isIPAddressInRange(toString(${ip}), '172.16.0.0/12') OR isIPAddressInRange(toString(${ip}), '192.168.0.0/16'))`,
    ),
  ipv4_is_in_range: (args, ctx) =>
    `isIPAddressInRange(${s(arg(args, 0, ctx))}, if(position(${s(arg(args, 1, ctx))}, '/') > 0, ${s(arg(args, 1, ctx))}, concat(${s(arg(args, 1, ctx))}, '/32')))`,
  // dynamic
  array_length: arrayLength,
  pack_array: packArray,
  bag_pack: bagPack,
  pack: bagPack,
  bag_keys: bagKeys,
  array_concat: arrayConcat,
  strcat_array: strcatArray,
  array_strcat: strcatArray,
  extractjson: extractJson,
  extract_json: extractJson,
  __mv_expand_list: (args, ctx) => {
    const v = arg(args, 0, ctx).sql;
    const mode = literalString(args[1]) ?? 'bag';
    const bagItems =
      mode === 'array'
        ? `arrayMap(__k -> concat('[', toJSONString(__k.1), ',', __k.2, ']'), JSONExtractKeysAndValuesRaw(ifNull(${v}, '{}')))`
        : `arrayMap(__k -> concat('{', toJSONString(__k.1), ':', __k.2, '}'), JSONExtractKeysAndValuesRaw(ifNull(${v}, '{}')))`;
    // A null value expands to one null row (as on DuckDB and in Kusto's recorded results); JSON null to none.
    return `CAST(multiIf(${v} IS NULL, [NULL], JSONType(ifNull(${v}, 'null')) = 'Array', JSONExtractArrayRaw(ifNull(${v}, '[]')), JSONType(ifNull(${v}, 'null')) = 'Object', ${bagItems}, [ifNull(${v}, 'null')]) AS Array(Nullable(String)))`;
  },
  __mv_expand_cast: (args, ctx) => {
    const v = arg(args, 0, ctx);
    const t = literalString(args[1]) as ColumnType;
    return convertDynamic(v.sql, t);
  },
};

/** Functions whose templates return a tuple of the KQL tuple's columns when the call's type is the tuple (`unknown`). */
const TUPLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'array_sort_asc',
  'array_sort_desc',
  'series_stats',
  'series_fit_line',
  ...SERIES_TUPLE_FUNCTIONS,
]);

/**
 * Every template made safe for tuple-typed calls, as on DuckDB: a tuple-valued call used as an argument
 * (`strcat_array(array_sort_asc(a), ',')`) stands for its first column, and a call typed as a tuple (`unknown`)
 * that is not multi-valued itself returns its value in a one-element tuple (the planner reads element 0).
 */
function tupleSafe(table: Readonly<Record<string, Template>>): Record<string, Template> {
  const out: Record<string, Template> = {};
  for (const [name, t] of Object.entries(table)) {
    out[name] = (args0, ctx) => {
      const args = args0.map((a) =>
        a.type === 'unknown' && a.expr.kind === 'call' && TUPLE_FUNCTIONS.has(a.expr.fn)
          ? { ...a, sql: `tupleElement(${a.sql}, 1)`, type: 'dynamic' as const }
          : a,
      );
      if (TUPLE_FUNCTIONS.has(name) || ctx.resultType !== 'unknown') return t(args, ctx);
      return `tuple(${t(args, { ...ctx, resultType: 'dynamic' })})`;
    };
  }
  return out;
}

export const FUNCTIONS: Readonly<Record<string, Template>> = tupleSafe(TABLE);
