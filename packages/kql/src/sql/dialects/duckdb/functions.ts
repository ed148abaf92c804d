/**
 * KQL scalar functions in DuckDB (the core set; families with many members live in sibling files). Each template
 * receives compiled arguments with their KQL types and returns SQL with KQL's semantics (string results never null,
 * conversions that fail give null, regexes are RE2 in both systems).
 */
import type { ColumnType } from '../../../binder/types.js';
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import {
  arg,
  asJson,
  asString,
  dynamicToNumber,
  dynamicToString,
  literalString,
  sqlString,
  ticksToInterval,
  timestampTicks,
} from './base.js';

const TICKS_PER_DAY = 864000000000n;

function s(a: SqlArg): string {
  return asString(a);
}

/** A string result that must not be null. */
function nn(sql: string): string {
  return `COALESCE(${sql}, '')`;
}

function toNumber(a: SqlArg, target: 'BIGINT' | 'INTEGER' | 'DOUBLE' | 'DECIMAL(38,18)'): string {
  switch (a.type) {
    case 'dynamic':
      return `TRY_CAST(${dynamicToNumber(a.sql)} AS ${target})`;
    case 'string':
      return target === 'DOUBLE'
        ? `TRY_CAST(trim(${a.sql}) AS DOUBLE)`
        : `COALESCE(TRY_CAST(trim(${a.sql}) AS ${target}), TRY_CAST(TRY_CAST(trim(${a.sql}) AS DOUBLE) AS ${target}))`;
    case 'bool':
      return `CAST(CAST(${a.sql} AS INTEGER) AS ${target})`;
    case 'datetime':
      return `CAST(${timestampTicks(a.sql)} AS ${target})`;
    case 'real':
      return target === 'DOUBLE' ? a.sql : `TRY_CAST(trunc(${a.sql}) AS ${target})`;
    default:
      return `TRY_CAST(${a.sql} AS ${target})`;
  }
}

function toDatetime(a: SqlArg): string {
  switch (a.type) {
    case 'datetime':
      return a.sql;
    case 'string':
      return `TRY_CAST(replace(replace(trim(${a.sql}), 'T', ' '), 'Z', '') AS TIMESTAMP)`;
    case 'dynamic':
      return `TRY_CAST(replace(replace(${dynamicToString(a.sql)}, 'T', ' '), 'Z', '') AS TIMESTAMP)`;
    case 'long':
    case 'int':
      return `make_timestamp(CAST(${a.sql} AS BIGINT) // 10)`;
    default:
      return 'CAST(NULL AS TIMESTAMP)';
  }
}

/** Parses KQL timespan text (`1.02:03:04.5`, `02:03:04`, `1d`, `30m`, ...) into ticks. */
function timespanFromText(sql: string): string {
  const t = `trim(${sql})`;
  const clock = `regexp_extract(${t}, '^(-?)(?:(\\d+)\\.)?(\\d{1,2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,7}))?)?$', ['sign','d','h','m','s','f'])`;
  const unit = `regexp_extract(${t}, '^(-?\\d+(?:\\.\\d+)?)\\s*(d|h|m|s|ms|microsecond|microseconds|tick|ticks|day|days|hour|hours|minute|minutes|second|seconds|millisecond|milliseconds)$', ['n','u'])`;
  const clockTicks = `(CASE WHEN ${clock}.h = '' THEN NULL ELSE (CASE WHEN ${clock}.sign = '-' THEN -1 ELSE 1 END) * (COALESCE(TRY_CAST(NULLIF(${clock}.d, '') AS BIGINT), 0) * 864000000000 + CAST(${clock}.h AS BIGINT) * 36000000000 + CAST(${clock}.m AS BIGINT) * 600000000 + COALESCE(TRY_CAST(NULLIF(${clock}.s, '') AS BIGINT), 0) * 10000000 + COALESCE(TRY_CAST(rpad(NULLIF(${clock}.f, ''), 7, '0') AS BIGINT), 0)) END)`;
  const unitTicks = `(CASE ${unit}.u WHEN 'd' THEN 864000000000 WHEN 'day' THEN 864000000000 WHEN 'days' THEN 864000000000 WHEN 'h' THEN 36000000000 WHEN 'hour' THEN 36000000000 WHEN 'hours' THEN 36000000000 WHEN 'm' THEN 600000000 WHEN 'minute' THEN 600000000 WHEN 'minutes' THEN 600000000 WHEN 's' THEN 10000000 WHEN 'second' THEN 10000000 WHEN 'seconds' THEN 10000000 WHEN 'ms' THEN 10000 WHEN 'millisecond' THEN 10000 WHEN 'milliseconds' THEN 10000 WHEN 'microsecond' THEN 10 WHEN 'microseconds' THEN 10 WHEN 'tick' THEN 1 WHEN 'ticks' THEN 1 END)`;
  return `COALESCE(${clockTicks}, CAST(round(TRY_CAST(NULLIF(${unit}.n, '') AS DOUBLE) * ${unitTicks}) AS BIGINT))`;
}

function toTimespan(a: SqlArg): string {
  switch (a.type) {
    case 'timespan':
      return a.sql;
    case 'string':
      return timespanFromText(a.sql);
    case 'dynamic':
      return timespanFromText(dynamicToString(a.sql));
    case 'int':
    case 'long':
      return `CAST(${a.sql} AS BIGINT)`;
    case 'real':
      return `CAST(round(${a.sql}) AS BIGINT)`;
    default:
      return 'CAST(NULL AS BIGINT)';
  }
}

/** KQL `todynamic()`/`parse_json()`: JSON text parses; anything else stays a dynamic string. */
function toDynamic(a: SqlArg): string {
  if (a.type === 'dynamic') return a.sql;
  if (a.type === 'string') {
    return `CASE WHEN json_valid(${a.sql}) THEN CAST(${a.sql} AS JSON) ELSE to_json(${a.sql}) END`;
  }
  return asJson(a);
}

function isEmpty(a: SqlArg): string {
  if (a.type === 'string') return `(${a.sql} IS NULL OR ${a.sql} = '')`;
  if (a.type === 'dynamic') return `(${a.sql} IS NULL OR json_type(${a.sql}) = 'NULL' OR (${a.sql} ->> '$') = '')`;
  return `(${a.sql} IS NULL)`;
}

function isNull(a: SqlArg): string {
  if (a.type === 'string') return 'false';
  if (a.type === 'dynamic') return `(${a.sql} IS NULL OR json_type(${a.sql}) = 'NULL')`;
  return `(${a.sql} IS NULL)`;
}

/** Two arguments brought to the call's result type (iff, case, coalesce branches). */
function branch(a: SqlArg, type: ColumnType): string {
  if (type === a.type || type === 'unknown') return a.sql;
  if (type === 'string') return s(a);
  if (type === 'dynamic') return asJson(a);
  if (type === 'long' || type === 'int' || type === 'real' || type === 'decimal') {
    const t = { long: 'BIGINT', int: 'INTEGER', real: 'DOUBLE', decimal: 'DECIMAL(38,18)' }[type];
    return a.type === 'dynamic' ? `TRY_CAST(${dynamicToNumber(a.sql)} AS ${t})` : `CAST(${a.sql} AS ${t})`;
  }
  return a.sql;
}

function truthy(a: SqlArg): string {
  return a.type === 'bool' ? `COALESCE(${a.sql}, false)` : `COALESCE(TRY_CAST(${a.sql} AS BOOLEAN), false)`;
}

const iff: Template = (args, ctx) => {
  const c = arg(args, 0, ctx);
  const t = arg(args, 1, ctx);
  const e = arg(args, 2, ctx);
  return `CASE WHEN ${truthy(c)} THEN ${branch(t, ctx.resultType)} ELSE ${branch(e, ctx.resultType)} END`;
};

const kqlCase: Template = (args, ctx) => {
  const parts: string[] = [];
  for (let i = 0; i + 1 < args.length; i += 2) {
    parts.push(`WHEN ${truthy(args[i] as SqlArg)} THEN ${branch(args[i + 1] as SqlArg, ctx.resultType)}`);
  }
  const last = args.length % 2 === 1 ? (args[args.length - 1] as SqlArg) : null;
  return `CASE ${parts.join(' ')} ELSE ${last ? branch(last, ctx.resultType) : 'NULL'} END`;
};

/** `bin(value, size)` rounds down to a multiple of size; datetime bins are measured from 1970-01-01. */
const bin: Template = (args, ctx) => {
  const v = arg(args, 0, ctx);
  const size = arg(args, 1, ctx);
  if (v.type === 'datetime') {
    const ticks = size.type === 'timespan' ? size.sql : toTimespan(size);
    return `make_timestamp(((${timestampTicks(v.sql)} // ${ticks}) * ${ticks} - CASE WHEN ${timestampTicks(v.sql)} % ${ticks} < 0 THEN ${ticks} ELSE 0 END) // 10)`;
  }
  if (v.type === 'timespan') return `(floor(CAST(${v.sql} AS DOUBLE) / ${size.sql}) * ${size.sql})::BIGINT`;
  if (ctx.resultType === 'real' || v.type === 'real' || size.type === 'real') {
    return `floor(CAST(${v.sql} AS DOUBLE) / ${size.sql}) * ${size.sql}`;
  }
  return `CAST(floor(CAST(${v.sql} AS DOUBLE) / ${size.sql}) * ${size.sql} AS ${ctx.resultType === 'int' ? 'INTEGER' : 'BIGINT'})`;
};

function startOf(unit: 'day' | 'week' | 'month' | 'year'): Template {
  return (args, ctx) => {
    const v = arg(args, 0, ctx);
    const offset = args[1];
    let base = `date_trunc('${unit}', ${v.sql})`;
    if (unit === 'week')
      base = `(CAST(date_trunc('day', ${v.sql}) AS TIMESTAMP) - to_days(CAST(dayofweek(${v.sql}) AS INTEGER)))`;
    base = `CAST(${base} AS TIMESTAMP)`;
    if (offset)
      base = `CAST(${base} + to_${unit === 'day' ? 'days' : unit === 'week' ? 'weeks' : unit === 'month' ? 'months' : 'years'}(CAST(${offset.sql} AS INTEGER)) AS TIMESTAMP)`;
    return base;
  };
}

function endOf(unit: 'day' | 'week' | 'month' | 'year'): Template {
  const start = startOf(unit);
  const plus =
    unit === 'day' ? 'to_days(1)' : unit === 'week' ? 'to_days(7)' : unit === 'month' ? 'to_months(1)' : 'to_years(1)';
  return (args, ctx) => `CAST(${start(args, ctx)} + ${plus} - to_microseconds(1) AS TIMESTAMP)`;
}

const DATETIME_PARTS: Readonly<Record<string, string>> = {
  year: 'year',
  quarter: 'quarter',
  month: 'month',
  week_of_year: 'weekofyear',
  weekofyear: 'weekofyear',
  week: 'weekofyear',
  day: 'day',
  dayofyear: 'dayofyear',
  hour: 'hour',
  minute: 'minute',
  second: 'second',
  millisecond: 'millisecond',
  microsecond: 'microsecond',
  nanosecond: 'nanosecond',
};

const datetimePart: Template = (args, ctx) => {
  const part = literalString(arg(args, 0, ctx));
  const v = arg(args, 1, ctx);
  if (part === null) return ctx.unsupported('datetime_part with a non-literal part');
  const p = part.toLowerCase();
  if (p === 'millisecond') return `CAST(millisecond(${v.sql}) % 1000 AS BIGINT)`;
  if (p === 'microsecond') return `CAST(microsecond(${v.sql}) % 1000000 AS BIGINT)`;
  if (p === 'nanosecond') return `CAST((microsecond(${v.sql}) % 1000000) * 1000 AS BIGINT)`;
  const duck = DATETIME_PARTS[p];
  if (!duck) return ctx.unsupported(`datetime part '${part}'`);
  return `CAST(date_part('${duck}', ${v.sql}) AS BIGINT)`;
};

const UNIT_TICKS: Readonly<Record<string, bigint>> = {
  day: TICKS_PER_DAY,
  hour: 36000000000n,
  minute: 600000000n,
  second: 10000000n,
  millisecond: 10000n,
  microsecond: 10n,
  nanosecond: 1n,
  week: TICKS_PER_DAY * 7n,
};

const datetimeAdd: Template = (args, ctx) => {
  const part = literalString(arg(args, 0, ctx))?.toLowerCase();
  const n = arg(args, 1, ctx);
  const v = arg(args, 2, ctx);
  if (!part) return ctx.unsupported('datetime_add with a non-literal part');
  if (part === 'month' || part === 'quarter' || part === 'year') {
    const months = part === 'month' ? n.sql : part === 'quarter' ? `(${n.sql}) * 3` : `(${n.sql}) * 12`;
    return `CAST(${v.sql} + to_months(CAST(${months} AS INTEGER)) AS TIMESTAMP)`;
  }
  const ticks = UNIT_TICKS[part];
  if (ticks === undefined) return ctx.unsupported(`datetime_add part '${part}'`);
  return `${v.sql} + ${ticksToInterval(`CAST(${n.sql} AS BIGINT) * ${ticks}`)}`;
};

const datetimeDiff: Template = (args, ctx) => {
  const part = literalString(arg(args, 0, ctx))?.toLowerCase();
  const a = arg(args, 1, ctx);
  const b = arg(args, 2, ctx);
  if (!part) return ctx.unsupported('datetime_diff with a non-literal part');
  const calendar: Record<string, string> = { year: 'year', quarter: 'quarter', month: 'month' };
  if (calendar[part]) return `CAST(date_diff('${calendar[part]}', ${b.sql}, ${a.sql}) AS BIGINT)`;
  if (part === 'week') return `CAST(date_diff('week', ${b.sql}, ${a.sql}) AS BIGINT)`;
  const ticks = UNIT_TICKS[part];
  if (ticks === undefined) return ctx.unsupported(`datetime_diff part '${part}'`);
  // Kusto counts boundaries crossed: the difference of the values truncated to the unit.
  const ta = `(${timestampTicks(a.sql)} // ${ticks} - CASE WHEN ${timestampTicks(a.sql)} % ${ticks} < 0 THEN 1 ELSE 0 END)`;
  const tb = `(${timestampTicks(b.sql)} // ${ticks} - CASE WHEN ${timestampTicks(b.sql)} % ${ticks} < 0 THEN 1 ELSE 0 END)`;
  return `(${ta} - ${tb})`;
};

const strcat: Template = (args) => `(${args.map((a) => s(a)).join(' || ') || "''"})`;

const substring: Template = (args, ctx) => {
  const str = s(arg(args, 0, ctx));
  const start = arg(args, 1, ctx).sql;
  const len = args[2];
  // KQL is 0-based; a negative start counts from the end (clamped at 0).
  const from = `(CASE WHEN ${start} < 0 THEN greatest(length(${str}) + ${start}, 0) ELSE ${start} END)`;
  return nn(len ? `substr(${str}, ${from} + 1, greatest(${len.sql}, 0))` : `substr(${str}, ${from} + 1)`);
};

/** `extract(regex, group, text [, typeof(T)])`: the group of the first match, '' when none. */
const extract: Template = (args, ctx) => {
  const re = s(arg(args, 0, ctx));
  const group = arg(args, 1, ctx);
  const text = s(arg(args, 2, ctx));
  const g = group.literal ? String(group.literal.value) : group.sql;
  const sql = `CASE WHEN regexp_matches(${text}, ${re}) THEN regexp_extract(${text}, ${re}, ${g}) ELSE NULL END`;
  const type = args[3] ? literalString(args[3]) : null;
  if (type && type !== 'string') return convertStringTo(sql, type as ColumnType);
  return nn(sql);
};

function convertStringTo(sql: string, type: ColumnType): string {
  const a: SqlArg = { sql, type: 'string', expr: { kind: 'lit', type: 'string', value: null } };
  switch (type) {
    case 'long':
      return toNumber(a, 'BIGINT');
    case 'int':
      return toNumber(a, 'INTEGER');
    case 'real':
      return toNumber(a, 'DOUBLE');
    case 'datetime':
      return toDatetime(a);
    case 'timespan':
      return toTimespan(a);
    case 'bool':
      return `TRY_CAST(${sql} AS BOOLEAN)`;
    case 'dynamic':
      return toDynamic(a);
    default:
      return sql;
  }
}

const extractAll: Template = (args, ctx) => {
  const re = s(arg(args, 0, ctx));
  const text = s(arg(args, args.length - 1, ctx));
  if (args.length === 2) {
    // One group: a list of its values; several groups: a list of lists; no group: the whole matches.
    const pattern = literalString(args[0]);
    const groups = pattern ? countGroups(pattern) : 1;
    if (groups <= 1) return `to_json(regexp_extract_all(${text}, ${re}, ${groups === 1 ? 1 : 0}))`;
    const lists = Array.from({ length: groups }, (_, i) => `regexp_extract_all(${text}, ${re}, ${i + 1})`);
    return `to_json(list_transform(range(1, len(${lists[0]}) + 1), i -> [${lists.map((l) => `${l}[i]`).join(', ')}]))`;
  }
  return ctx.unsupported('extract_all with explicit capture groups');
};

function countGroups(pattern: string): number {
  let n = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '(' && pattern[i + 1] !== '?') n++;
    else if (c === '(' && pattern[i + 1] === '?' && (pattern[i + 2] === 'P' || pattern[i + 2] === '<')) n++;
  }
  return n;
}

const split: Template = (args, ctx) => {
  const str = s(arg(args, 0, ctx));
  const sep = s(arg(args, 1, ctx));
  const parts = `string_split(${str}, ${sep})`;
  const idx = args[2];
  if (idx)
    return `to_json(CASE WHEN ${idx.sql} >= 0 AND ${idx.sql} < len(${parts}) THEN [${parts}[${idx.sql} + 1]] ELSE [] END)`;
  return `to_json(${parts})`;
};

const trimTemplate =
  (side: 'both' | 'start' | 'end'): Template =>
  (args, ctx) => {
    const re = s(arg(args, 0, ctx));
    const text = s(arg(args, 1, ctx));
    const lead = `'^(?:' || ${re} || ')+'`;
    const trail = `'(?:' || ${re} || ')+$'`;
    if (side === 'start') return nn(`regexp_replace(${text}, ${lead}, '')`);
    if (side === 'end') return nn(`regexp_replace(${text}, ${trail}, '')`);
    return nn(`regexp_replace(regexp_replace(${text}, ${lead}, ''), ${trail}, '')`);
  };

const indexof: Template = (args, ctx) => {
  const str = s(arg(args, 0, ctx));
  const lookup = s(arg(args, 1, ctx));
  if (args.length > 2) {
    const start = arg(args, 2, ctx).sql;
    return `(CASE WHEN ${start} > length(${str}) THEN -1 ELSE (CASE WHEN strpos(substr(${str}, ${start} + 1), ${lookup}) = 0 THEN -1 ELSE strpos(substr(${str}, ${start} + 1), ${lookup}) - 1 + ${start} END) END)`;
  }
  return `(strpos(${str}, ${lookup}) - 1)`;
};

const countof: Template = (args, ctx) => {
  const text = s(arg(args, 0, ctx));
  const search = s(arg(args, 1, ctx));
  const kind = args[2] ? literalString(args[2]) : 'normal';
  if (kind === 'regex') return `CAST(len(regexp_extract_all(${text}, ${search})) AS BIGINT)`;
  return `CAST(CASE WHEN length(${search}) = 0 THEN 0 ELSE (length(${text}) - length(replace(${text}, ${search}, ''))) // length(${search}) END AS BIGINT)`;
};

const arrayLength: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  if (a.type !== 'dynamic') return 'CAST(NULL AS BIGINT)';
  return `CASE WHEN json_type(${a.sql}) = 'ARRAY' THEN CAST(json_array_length(${a.sql}) AS BIGINT) ELSE NULL END`;
};

const packArray: Template = (args) => `to_json([${args.map(asJson).join(', ')}])`;

const bagPack: Template = (args, ctx) => {
  if (args.length % 2 !== 0) return ctx.unsupported('bag_pack with an odd number of arguments');
  const pairs: string[] = [];
  for (let i = 0; i < args.length; i += 2) pairs.push(`${s(args[i] as SqlArg)}, ${asJson(args[i + 1] as SqlArg)}`);
  return pairs.length ? `json_object(${pairs.join(', ')})` : `CAST('{}' AS JSON)`;
};

const packAll: Template = (args, ctx) => {
  const star = args[0];
  if (star?.expr.kind !== 'star') return ctx.unsupported('pack_all() outside a row context');
  const cols = star.expr.columns;
  const values = star.sql.split(', ');
  const pairs = cols.map(
    (c, i) => `${sqlString(c.name)}, ${asJson({ sql: values[i] as string, type: c.type, expr: star.expr })}`,
  );
  return pairs.length ? `json_object(${pairs.join(', ')})` : `CAST('{}' AS JSON)`;
};

const bagKeys: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  return `CASE WHEN json_type(${a.sql}) = 'OBJECT' THEN to_json(json_keys(${a.sql})) ELSE NULL END`;
};

const arrayConcat: Template = (args) =>
  `to_json(flatten([${args.map((a) => `CAST(json_extract(${a.sql}, '$[*]') AS JSON[])`).join(', ')}]))`;

const strcatArray: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const delim = s(arg(args, 1, ctx));
  return nn(
    `array_to_string(list_transform(CAST(json_extract(${a.sql}, '$[*]') AS JSON[]), x -> COALESCE(x ->> '$', '')), ${delim})`,
  );
};

const gettype: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  if (a.type !== 'dynamic') {
    const names: Record<string, string> = {
      bool: 'bool',
      int: 'int',
      long: 'long',
      real: 'real',
      decimal: 'decimal',
      string: 'string',
      datetime: 'datetime',
      timespan: 'timespan',
      guid: 'guid',
    };
    return sqlString(names[a.type] ?? 'null');
  }
  return `CASE json_type(${a.sql}) WHEN 'ARRAY' THEN 'array' WHEN 'OBJECT' THEN 'dictionary' WHEN 'VARCHAR' THEN 'string' WHEN 'BIGINT' THEN 'long' WHEN 'UBIGINT' THEN 'long' WHEN 'DOUBLE' THEN 'real' WHEN 'BOOLEAN' THEN 'bool' WHEN 'NULL' THEN 'null' ELSE 'null' END`;
};

/** `ago(span)`: now minus span; now() is fixed per query by the compiler (a literal), so ago() folds too. */
const ago: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const now = ctx.dialect.functions.now?.([], ctx) ?? 'CAST(now() AS TIMESTAMP)';
  return `(${now} - ${ticksToInterval(a.type === 'timespan' ? a.sql : toTimespan(a))})`;
};

const base64DecodeToString: Template = (args, ctx) => {
  const a = s(arg(args, 0, ctx));
  return nn(`TRY(decode(from_base64(${a})))`);
};

const parseUrl: Template = (args, ctx) => {
  const u = s(arg(args, 0, ctx));
  const m = `regexp_extract(${u}, '^([A-Za-z][A-Za-z0-9+.-]*)://(?:([^:@/]*)(?::([^@/]*))?@)?([^:/?#]*)(?::(\\d+))?([^?#]*)(?:\\?([^#]*))?(?:#(.*))?$', ['scheme','user','pass','host','port','path','query','fragment'])`;
  return `json_object('Scheme', ${m}.scheme, 'Host', ${m}.host, 'Port', ${m}.port, 'Path', ${m}.path, 'Username', ${m}.user, 'Password', ${m}.pass, 'Query Parameters', COALESCE((SELECT json_group_object(split_part(kv, '=', 1), url_decode(substr(kv, strpos(kv, '=') + 1))) FROM unnest(string_split(NULLIF(${m}.query, ''), '&')) AS t(kv)), CAST('{}' AS JSON)), 'Fragment', ${m}.fragment)`;
};

const ipv4ToLong = (ip: string) =>
  `(CASE WHEN regexp_matches(${ip}, '^\\d{1,3}(\\.\\d{1,3}){3}$') THEN CAST(split_part(${ip}, '.', 1) AS BIGINT) * 16777216 + CAST(split_part(${ip}, '.', 2) AS BIGINT) * 65536 + CAST(split_part(${ip}, '.', 3) AS BIGINT) * 256 + CAST(split_part(${ip}, '.', 4) AS BIGINT) ELSE NULL END)`;

const ipv4IsPrivate: Template = (args, ctx) => {
  const ip = s(arg(args, 0, ctx));
  const n = ipv4ToLong(`split_part(${ip}, '/', 1)`);
  return `CASE WHEN ${n} IS NULL THEN NULL ELSE (${n} BETWEEN 167772160 AND 184549375 OR ${n} BETWEEN 2886729728 AND 2887778303 OR ${n} BETWEEN 3232235520 AND 3232301055) END`;
};

const ipv4IsInRange: Template = (args, ctx) => {
  const ip = s(arg(args, 0, ctx));
  const range = s(arg(args, 1, ctx));
  const bits = `COALESCE(TRY_CAST(NULLIF(split_part(${range}, '/', 2), '') AS INTEGER), 32)`;
  const mask = `(CASE WHEN ${bits} = 0 THEN 0 ELSE (4294967295 >> (32 - ${bits})) << (32 - ${bits}) END)`;
  return `((${ipv4ToLong(ip)} & ${mask}) = (${ipv4ToLong(`split_part(${range}, '/', 1)`)} & ${mask}))`;
};

const conversion =
  (target: 'BIGINT' | 'INTEGER' | 'DOUBLE' | 'DECIMAL(38,18)'): Template =>
  (args, ctx) =>
    toNumber(arg(args, 0, ctx), target);

export const FUNCTIONS: Readonly<Record<string, Template>> = {
  // conversions
  tostring: (args, ctx) => s(arg(args, 0, ctx)),
  toint: conversion('INTEGER'),
  tolong: conversion('BIGINT'),
  toreal: conversion('DOUBLE'),
  todouble: conversion('DOUBLE'),
  todecimal: conversion('DECIMAL(38,18)'),
  tobool: (args, ctx) => {
    const a = arg(args, 0, ctx);
    if (a.type === 'bool') return a.sql;
    if (a.type === 'string')
      return `CASE lower(trim(${a.sql})) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE WHEN '1' THEN TRUE WHEN '0' THEN FALSE ELSE NULL END`;
    if (a.type === 'dynamic') return `TRY_CAST(${dynamicToString(a.sql)} AS BOOLEAN)`;
    return `CAST(${a.sql} <> 0 AS BOOLEAN)`;
  },
  toboolean: (args, ctx) => (FUNCTIONS.tobool as Template)(args, ctx),
  todatetime: (args, ctx) => toDatetime(arg(args, 0, ctx)),
  totimespan: (args, ctx) => toTimespan(arg(args, 0, ctx)),
  totime: (args, ctx) => toTimespan(arg(args, 0, ctx)),
  toguid: (args, ctx) => `TRY_CAST(${s(arg(args, 0, ctx))} AS UUID)`,
  todynamic: (args, ctx) => toDynamic(arg(args, 0, ctx)),
  toobject: (args, ctx) => toDynamic(arg(args, 0, ctx)),
  parse_json: (args, ctx) => toDynamic(arg(args, 0, ctx)),
  // emptiness and conditionals
  isempty: (args, ctx) => isEmpty(arg(args, 0, ctx)),
  isnotempty: (args, ctx) => `NOT ${isEmpty(arg(args, 0, ctx))}`,
  isnull: (args, ctx) => isNull(arg(args, 0, ctx)),
  isnotnull: (args, ctx) => `NOT ${isNull(arg(args, 0, ctx))}`,
  iff,
  iif: iff,
  case: kqlCase,
  coalesce: (args, ctx) =>
    ctx.resultType === 'string'
      ? `COALESCE(${args.map((a) => `NULLIF(${s(a)}, '')`).join(', ')}, '')`
      : `COALESCE(${args.map((a) => branch(a, ctx.resultType)).join(', ')})`,
  not: (args, ctx) => `NOT ${truthy(arg(args, 0, ctx))}`,
  // strings
  strlen: (args, ctx) => `CAST(length(${s(arg(args, 0, ctx))}) AS BIGINT)`,
  string_size: (args, ctx) => `CAST(octet_length(encode(${s(arg(args, 0, ctx))})) AS BIGINT)`,
  tolower: (args, ctx) => `lower(${s(arg(args, 0, ctx))})`,
  toupper: (args, ctx) => `upper(${s(arg(args, 0, ctx))})`,
  strcat,
  strcat_delim: (args, ctx) => {
    const [d, ...rest] = args;
    if (!d) return ctx.unsupported('strcat_delim without a delimiter');
    return `concat_ws(${s(d)}, ${rest.map((a) => s(a)).join(', ')})`;
  },
  substring,
  extract,
  extract_all: extractAll,
  split,
  replace_string: (args, ctx) =>
    nn(`replace(${s(arg(args, 0, ctx))}, ${s(arg(args, 1, ctx))}, ${s(arg(args, 2, ctx))})`),
  replace_regex: (args, ctx) =>
    nn(
      `regexp_replace(${s(arg(args, 0, ctx))}, ${s(arg(args, 1, ctx))}, regexp_replace(${s(arg(args, 2, ctx))}, '\\$(\\d)', '\\\\\\1', 'g'), 'g')`,
    ),
  trim: trimTemplate('both'),
  trim_start: trimTemplate('start'),
  trim_end: trimTemplate('end'),
  indexof,
  countof,
  reverse: (args, ctx) => `reverse(${s(arg(args, 0, ctx))})`,
  strrep: (args, ctx) => {
    const v = s(arg(args, 0, ctx));
    const n = arg(args, 1, ctx).sql;
    const d = args[2] ? s(args[2]) : "''";
    return nn(`array_to_string(list_transform(range(${n}), i -> ${v}), ${d})`);
  },
  base64_decode_tostring: base64DecodeToString,
  base64_encode_tostring: (args, ctx) => `to_base64(encode(${s(arg(args, 0, ctx))}))`,
  url_decode: (args, ctx) => nn(`url_decode(${s(arg(args, 0, ctx))})`),
  url_encode: (args, ctx) => nn(`url_encode(${s(arg(args, 0, ctx))})`),
  parse_url: parseUrl,
  // dynamic
  array_length: arrayLength,
  pack_array: packArray,
  bag_pack: bagPack,
  pack: bagPack,
  pack_all: packAll,
  bag_keys: bagKeys,
  array_concat: arrayConcat,
  strcat_array: strcatArray,
  array_strcat: strcatArray,
  gettype,
  extractjson: (args, ctx) => {
    const path = s(arg(args, 0, ctx));
    const text = s(arg(args, 1, ctx));
    return nn(`json_extract_string(CASE WHEN json_valid(${text}) THEN ${text} ELSE NULL END, ${path})`);
  },
  extract_json: (args, ctx) => (FUNCTIONS.extractjson as Template)(args, ctx),
  // datetime
  now: (_args, ctx) => ctx.unsupported('now() must be fixed by the compiler'),
  ago,
  bin,
  floor: (args, ctx) => {
    const v = arg(args, 0, ctx);
    if (args.length === 1) return `floor(${v.sql})`;
    return bin(args, ctx);
  },
  bin_at: (args, ctx) => {
    const v = arg(args, 0, ctx);
    const size = arg(args, 1, ctx);
    const at = arg(args, 2, ctx);
    if (v.type === 'datetime') {
      const d = `(${timestampTicks(v.sql)} - ${timestampTicks(at.sql)})`;
      return `make_timestamp((${timestampTicks(at.sql)} + CAST(floor(CAST(${d} AS DOUBLE) / ${size.sql}) AS BIGINT) * ${size.sql}) // 10)`;
    }
    return `(${at.sql} + floor(CAST(${v.sql} - ${at.sql} AS DOUBLE) / ${size.sql}) * ${size.sql})`;
  },
  startofday: startOf('day'),
  startofweek: startOf('week'),
  startofmonth: startOf('month'),
  startofyear: startOf('year'),
  endofday: endOf('day'),
  endofweek: endOf('week'),
  endofmonth: endOf('month'),
  endofyear: endOf('year'),
  datetime_part: datetimePart,
  datepart: datetimePart,
  datetime_add: datetimeAdd,
  datetime_diff: datetimeDiff,
  dayofweek: (args, ctx) => `(CAST(dayofweek(${arg(args, 0, ctx).sql}) AS BIGINT) * ${TICKS_PER_DAY})`,
  dayofmonth: (args, ctx) => `CAST(day(${arg(args, 0, ctx).sql}) AS INTEGER)`,
  dayofyear: (args, ctx) => `CAST(dayofyear(${arg(args, 0, ctx).sql}) AS INTEGER)`,
  hourofday: (args, ctx) => `CAST(hour(${arg(args, 0, ctx).sql}) AS INTEGER)`,
  monthofyear: (args, ctx) => `CAST(month(${arg(args, 0, ctx).sql}) AS INTEGER)`,
  getmonth: (args, ctx) => `CAST(month(${arg(args, 0, ctx).sql}) AS INTEGER)`,
  getyear: (args, ctx) => `CAST(year(${arg(args, 0, ctx).sql}) AS INTEGER)`,
  week_of_year: (args, ctx) => `CAST(weekofyear(${arg(args, 0, ctx).sql}) AS INTEGER)`,
  make_datetime: (args, ctx) => {
    const parts = [0, 1, 2, 3, 4].map((i) => (args[i] ? `CAST(${args[i]?.sql} AS BIGINT)` : i < 3 ? '1' : '0'));
    const sec = args[5] ? `CAST(${args[5].sql} AS DOUBLE)` : '0';
    void ctx;
    return `make_timestamp(${parts.join(', ')}, ${sec})`;
  },
  // math
  abs: (args, ctx) => `abs(${arg(args, 0, ctx).sql})`,
  round: (args, ctx) => `round(${arg(args, 0, ctx).sql}, ${args[1] ? `CAST(${args[1].sql} AS INTEGER)` : '0'})`,
  ceiling: (args, ctx) => `ceiling(${arg(args, 0, ctx).sql})`,
  sqrt: (args, ctx) =>
    `CASE WHEN ${arg(args, 0, ctx).sql} < 0 THEN 'NaN'::DOUBLE ELSE sqrt(${arg(args, 0, ctx).sql}) END`,
  pow: (args, ctx) => `pow(${arg(args, 0, ctx).sql}, ${arg(args, 1, ctx).sql})`,
  log: (args, ctx) => `ln(${arg(args, 0, ctx).sql})`,
  log2: (args, ctx) => `log2(${arg(args, 0, ctx).sql})`,
  log10: (args, ctx) => `log10(${arg(args, 0, ctx).sql})`,
  exp: (args, ctx) => `exp(${arg(args, 0, ctx).sql})`,
  sign: (args, ctx) => `sign(${arg(args, 0, ctx).sql})`,
  max_of: (args) => `greatest(${args.map((a) => a.sql).join(', ')})`,
  min_of: (args) => `least(${args.map((a) => a.sql).join(', ')})`,
  isnan: (args, ctx) => `isnan(${arg(args, 0, ctx).sql})`,
  isinf: (args, ctx) => `isinf(${arg(args, 0, ctx).sql})`,
  isfinite: (args, ctx) => `isfinite(${arg(args, 0, ctx).sql})`,
  rand: (args) => (args[0] ? `CAST(floor(random() * ${args[0].sql}) AS BIGINT)` : 'random()'),
  // network
  ipv4_is_private: ipv4IsPrivate,
  ipv4_is_in_range: ipv4IsInRange,
  // hashing
  hash_sha256: (args, ctx) => `sha256(${s(arg(args, 0, ctx))})`,
  hash_md5: (args, ctx) => `md5(${s(arg(args, 0, ctx))})`,
  new_guid: () => 'uuid()',
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

/** A dynamic value converted to a typed column (mv-expand `to typeof(...)`). */
export function convertDynamic(sql: string, type: ColumnType): string {
  const a: SqlArg = { sql, type: 'dynamic', expr: { kind: 'lit', type: 'dynamic', value: null } };
  switch (type) {
    case 'string':
      return dynamicToString(sql);
    case 'long':
      return toNumber(a, 'BIGINT');
    case 'int':
      return toNumber(a, 'INTEGER');
    case 'real':
      return toNumber(a, 'DOUBLE');
    case 'decimal':
      return toNumber(a, 'DECIMAL(38,18)');
    case 'bool':
      return `TRY_CAST(${dynamicToString(sql)} AS BOOLEAN)`;
    case 'datetime':
      return toDatetime(a);
    case 'timespan':
      return toTimespan(a);
    case 'guid':
      return `TRY_CAST(${dynamicToString(sql)} AS UUID)`;
    default:
      return sql;
  }
}

export type { TemplateContext };
