/**
 * KQL datetime functions in DuckDB (see functions.ts for the conventions). Datetimes are TIMESTAMPs (µs; Kusto's
 * 7th fractional digit is lost), timespans BIGINT ticks. Weeks start on Sunday (startofweek, datetime_diff('week'));
 * week_of_year is the ISO 8601 week; endof* is the next start minus one storage unit (1 µs).
 */
import type { ColumnType } from '../../../binder/types.js';
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import {
  arg,
  asString,
  literalString,
  sqlString,
  TICKS_PER_DAY,
  ticksToInterval,
  ticksToTimestamp,
  timestampTicks,
  withValue,
} from './base.js';
import { TIME_ZONES } from './functions-timezones.js';

function int(a: SqlArg): string {
  return a.type === 'int' || a.type === 'long' ? `CAST(${a.sql} AS BIGINT)` : `TRY_CAST(${a.sql} AS BIGINT)`;
}

function typed(sql: string, type: ColumnType): string {
  if (type === 'int') return `TRY_CAST(${sql} AS INTEGER)`;
  if (type === 'real') return `CAST(${sql} AS DOUBLE)`;
  return `CAST(${sql} AS BIGINT)`;
}

type Unit = 'day' | 'week' | 'month' | 'year';

/** The start of the unit containing `ts` (weeks start on Sunday), moved by `offset` units. */
function startOfSql(unit: Unit, ts: string, offset?: string): string {
  let base: string;
  if (unit === 'week')
    base = withValue(
      ts,
      (v) => `(CAST(date_trunc('day', ${v}) AS TIMESTAMP) - to_days(CAST(dayofweek(${v}) AS INTEGER)))`,
    );
  else base = `CAST(date_trunc('${unit}', ${ts}) AS TIMESTAMP)`;
  if (!offset) return base;
  const step = unit === 'day' ? 'to_days' : unit === 'week' ? 'to_weeks' : unit === 'month' ? 'to_months' : 'to_years';
  return `TRY(CAST(${base} + ${step}(CAST(${offset} AS INTEGER)) AS TIMESTAMP))`;
}

function startOf(unit: Unit): Template {
  return (args, ctx) => startOfSql(unit, arg(args, 0, ctx).sql, args[1] ? int(args[1]) : undefined);
}

function endOf(unit: Unit): Template {
  const next =
    unit === 'day' ? 'to_days(1)' : unit === 'week' ? 'to_days(7)' : unit === 'month' ? 'to_months(1)' : 'to_years(1)';
  return (args, ctx) => {
    const start = startOfSql(unit, arg(args, 0, ctx).sql, args[1] ? int(args[1]) : undefined);
    // The last instant of 9999 has no next unit: TRY keeps the overflow a null instead of an error.
    return `COALESCE(TRY(CAST(${start} + ${next} - to_microseconds(1) AS TIMESTAMP)), CASE WHEN ${start} IS NOT NULL THEN TIMESTAMP '9999-12-31 23:59:59.999999' END)`;
  };
}

const PART_ALIASES: Readonly<Record<string, string>> = {
  year: 'year',
  quarter: 'quarter',
  month: 'month',
  week_of_year: 'week',
  weekofyear: 'week',
  week: 'week',
  day: 'day',
  dayofyear: 'dayofyear',
  hour: 'hour',
  minute: 'minute',
  second: 'second',
  millisecond: 'millisecond',
  microsecond: 'microsecond',
  nanosecond: 'nanosecond',
};

function partName(a: SqlArg, ctx: TemplateContext, fn: string): string {
  const part = literalString(a);
  if (part === null) return ctx.unsupported(`${fn}() with a computed part`);
  const p = PART_ALIASES[part.toLowerCase()];
  if (!p) return ctx.unsupported(`${fn}() part '${part}'`);
  return p;
}

const datetimePart: Template = (args, ctx) => {
  const p = partName(arg(args, 0, ctx), ctx, 'datetime_part');
  const v = arg(args, 1, ctx).sql;
  const sql: Record<string, string> = {
    year: `year(${v})`,
    quarter: `quarter(${v})`,
    month: `month(${v})`,
    week: `weekofyear(${v})`,
    day: `day(${v})`,
    dayofyear: `dayofyear(${v})`,
    hour: `hour(${v})`,
    minute: `minute(${v})`,
    second: `second(${v})`,
    millisecond: `(microsecond(${v}) // 1000) % 1000`,
    microsecond: `microsecond(${v}) % 1000000`,
    nanosecond: `(microsecond(${v}) % 1000000) * 1000`,
  };
  return typed(sql[p] as string, ctx.resultType);
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
  const part = partName(arg(args, 0, ctx), ctx, 'datetime_add');
  const n = int(arg(args, 1, ctx));
  const v = arg(args, 2, ctx).sql;
  if (part === 'month' || part === 'quarter' || part === 'year') {
    const months = part === 'month' ? n : part === 'quarter' ? `(${n}) * 3` : `(${n}) * 12`;
    return `TRY(CAST(${v} + to_months(CAST(${months} AS INTEGER)) AS TIMESTAMP))`;
  }
  const ticks = UNIT_TICKS[part];
  if (ticks === undefined) return ctx.unsupported(`datetime_add() part '${part}'`);
  if (ticks < 10n) return ticksToTimestamp(`${timestampTicks(v)} + (${n}) * ${ticks}`);
  return `TRY(${v} + ${ticksToInterval(`(${n}) * ${ticks}`)})`;
};

/** Floor division of ticks by a unit (boundaries crossed count from floor values). */
function floorDiv(ticks: string, unit: bigint): string {
  return withValue(ticks, (t) => `(${t} // ${unit} - (CASE WHEN ${t} % ${unit} < 0 THEN 1 ELSE 0 END))`);
}

/** `datetime_diff(part, a, b)`: the number of unit boundaries between b and a (calendar units by calendar fields). */
const datetimeDiff: Template = (args, ctx) => {
  const part = partName(arg(args, 0, ctx), ctx, 'datetime_diff');
  const a = arg(args, 1, ctx).sql;
  const b = arg(args, 2, ctx).sql;
  let sql: string;
  if (part === 'year') sql = `(year(${a}) - year(${b}))`;
  else if (part === 'quarter') sql = `((year(${a}) * 4 + quarter(${a})) - (year(${b}) * 4 + quarter(${b})))`;
  else if (part === 'month') sql = `((year(${a}) * 12 + month(${a})) - (year(${b}) * 12 + month(${b})))`;
  else if (part === 'week') {
    // Weeks start on Sunday: count the Sundays crossed (0001-01-01 was a Monday, so shift by one day).
    const weekIndex = (x: string) => floorDiv(`(${timestampTicks(x)} + ${TICKS_PER_DAY * 4n})`, TICKS_PER_DAY * 7n);
    sql = `(${weekIndex(a)} - ${weekIndex(b)})`;
  } else {
    const ticks = UNIT_TICKS[part];
    if (ticks === undefined) return ctx.unsupported(`datetime_diff() part '${part}'`);
    sql = `(${floorDiv(timestampTicks(a), ticks)} - ${floorDiv(timestampTicks(b), ticks)})`;
  }
  return typed(sql, ctx.resultType);
};

const makeDatetime: Template = (args, ctx) => {
  const p = [0, 1, 2, 3, 4].map((i) => (args[i] ? int(args[i] as SqlArg) : i < 3 ? '1' : '0'));
  const sec = args[5] ? `CAST(${(args[5] as SqlArg).sql} AS DOUBLE)` : '0';
  void ctx;
  // make_timestamp rejects out-of-range fields with an error; Kusto returns null.
  // Seconds become ticks (Kusto's unit), then the stored microseconds keep the whole ones, as every other
  // datetime conversion does (make_timestamp alone rounds .1234567 up to .123457).
  const micros = `CAST(round(${sec} * 10000000) AS BIGINT) // 10`;
  return `TRY(CASE WHEN ${sec} >= 0 AND ${sec} < 60 THEN make_timestamp(${p.join(', ')}, 0) + to_microseconds(${micros}) END)`;
};

/** make_timespan(h, m) | (h, m, s) | (d, h, m, s): seconds may have a fraction. */
const makeTimespan: Template = (args, ctx) => {
  const parts = args.map((a) => `CAST(${a.sql} AS DOUBLE)`);
  let d = '0';
  let h: string;
  let m: string;
  let sec = '0';
  if (parts.length === 2) [h, m] = parts as [string, string];
  else if (parts.length === 3) [h, m, sec] = parts as [string, string, string];
  else if (parts.length === 4) [d, h, m, sec] = parts as [string, string, string, string];
  else return ctx.unsupported('make_timespan() with this number of arguments');
  return `TRY_CAST(round(${d} * 864000000000 + ${h} * 36000000000 + ${m} * 600000000 + ${sec} * 10000000) AS BIGINT)`;
};

function unixTime(ticksPerUnit: number): Template {
  return (args, ctx) => {
    const a = arg(args, 0, ctx);
    const ticks =
      a.type === 'real' || a.type === 'decimal' || a.type === 'dynamic'
        ? `TRY_CAST(round(CAST(${a.type === 'dynamic' ? `(${a.sql} ->> '$')` : a.sql} AS DOUBLE) * ${ticksPerUnit}) AS BIGINT)`
        : ticksPerUnit >= 1
          ? `TRY_CAST(CAST(${a.sql} AS HUGEINT) * ${ticksPerUnit} AS BIGINT)`
          : `(CAST(${a.sql} AS BIGINT) // ${Math.round(1 / ticksPerUnit)})`;
    return `TRY(${ticksToTimestamp(ticks)})`;
  };
}

// ───────────────────────────── format_datetime / format_timespan ─────────────────────────────

type Token = { kind: 'lit'; text: string } | { kind: 'spec'; ch: string; n: number };

/** The only literal characters Kusto accepts between format specifiers (anything else rejects the query). */
const DELIMITERS = ' /-:,._[]';

/** The longest specifier of a letter that fits in `n` repeats: y has 1, 2 and 4; f/F up to 7; others 1 and 2. */
function longestSpec(c: string, n: number, timespan: boolean): number {
  if (c === 'f' || c === 'F') return Math.min(n, 7);
  if (c === 'y') return n >= 4 ? 4 : n >= 2 ? 2 : 1;
  // Timespan days pad to up to 8 digits (`ddd` is 029).
  if (c === 'd' && timespan) return Math.min(n, 8);
  return Math.min(n, 2);
}

/** Splits a .NET-style custom format into runs of one specifier letter and delimiters; null at a bad character. */
function tokenize(format: string, letters: string, timespan = false): Token[] | { bad: string } {
  const out: Token[] = [];
  let i = 0;
  while (i < format.length) {
    const c = format[i] as string;
    if (letters.includes(c)) {
      let n = 1;
      while (format[i + n] === c) n++;
      // A run longer than the longest specifier of its letter repeats it (Kusto prints 'dddd' as 'dd' twice).
      for (let left = n; left > 0; ) {
        const take = longestSpec(c, left, timespan);
        out.push({ kind: 'spec', ch: c, n: take });
        left -= take;
      }
      i += n;
    } else if (DELIMITERS.includes(c)) {
      out.push({ kind: 'lit', text: c });
      i++;
    } else return { bad: c };
  }
  return out;
}

function pad(sql: string, n: number): string {
  return n <= 1 ? `CAST(${sql} AS VARCHAR)` : `lpad(CAST(${sql} AS VARCHAR), ${n}, '0')`;
}

/** Fraction digits: `f` keeps n digits, `F` the same without trailing zeros (a preceding '.' goes with them). */
function fraction(seven: string, t: Token & { kind: 'spec' }): string {
  const digits = `substr(${seven}, 1, ${Math.min(t.n, 7)})`;
  return t.ch === 'f' ? digits : `rtrim(${digits}, '0')`;
}

function renderFormat(
  tokens: Token[],
  piece: (t: Token & { kind: 'spec' }) => string | null,
  ctx: TemplateContext,
  fn: string,
): string {
  const parts: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind === 'lit') {
      // A '.' right before an F specifier disappears when the F digits are all zero (as in .NET).
      const nextTok = tokens[i + 1];
      if (t.text === '.' && nextTok?.kind === 'spec' && nextTok.ch === 'F') {
        const f = piece(nextTok);
        if (f === null) return ctx.unsupported(`${fn}() format specifier '${nextTok.ch.repeat(nextTok.n)}'`);
        parts.push(`(CASE WHEN ${f} = '' THEN '' ELSE '.' || ${f} END)`);
        i++;
        continue;
      }
      parts.push(sqlString(t.text));
      continue;
    }
    const p = piece(t);
    if (p === null) return ctx.unsupported(`${fn}() format specifier '${t.ch.repeat(t.n)}'`);
    parts.push(p);
  }
  return parts.length ? parts.join(' || ') : "''";
}

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** `format_datetime(dt, format)` with .NET custom specifiers (d, dd, ddd, dddd, f/F, h, H, m, M, s, t, y, ...). */
const formatDatetime: Template = (args, ctx) => {
  const dt = arg(args, 0, ctx);
  const format = literalString(arg(args, 1, ctx));
  if (format === null) return ctx.unsupported('format_datetime() with a computed format');
  const tokens = tokenize(format, 'dfFhHmMsty');
  if (!Array.isArray(tokens))
    return ctx.unsupported(`format_datetime() format character '${tokens.bad}' (Kusto rejects it)`);
  return withValue(dt.sql, (v) => {
    const seven = `(strftime(${v}, '%f') || '0')`;
    const body = renderFormat(
      tokens,
      (t) => {
        switch (t.ch) {
          case 'd':
            if (t.n === 3) return `[${DAY_NAMES.map((d) => sqlString(d.slice(0, 3))).join(', ')}][dayofweek(${v}) + 1]`;
            if (t.n >= 4) return `[${DAY_NAMES.map(sqlString).join(', ')}][dayofweek(${v}) + 1]`;
            return pad(`day(${v})`, t.n);
          case 'f':
          case 'F':
            return t.n > 7 ? null : fraction(seven, t);
          case 'h':
            return pad(`(CASE WHEN hour(${v}) % 12 = 0 THEN 12 ELSE hour(${v}) % 12 END)`, Math.min(t.n, 2));
          case 'H':
            return pad(`hour(${v})`, Math.min(t.n, 2));
          case 'm':
            return pad(`minute(${v})`, Math.min(t.n, 2));
          case 'M':
            if (t.n === 3) return `[${MONTH_NAMES.map((m) => sqlString(m.slice(0, 3))).join(', ')}][month(${v})]`;
            if (t.n >= 4) return `[${MONTH_NAMES.map(sqlString).join(', ')}][month(${v})]`;
            return pad(`month(${v})`, t.n);
          case 's':
            return pad(`second(${v})`, Math.min(t.n, 2));
          case 't':
            return t.n === 1
              ? `(CASE WHEN hour(${v}) < 12 THEN 'A' ELSE 'P' END)`
              : `(CASE WHEN hour(${v}) < 12 THEN 'AM' ELSE 'PM' END)`;
          case 'y':
            if (t.n <= 2) return pad(`year(${v}) % 100`, t.n);
            return pad(`year(${v})`, t.n);
          default:
            return null;
        }
      },
      ctx,
      'format_datetime',
    );
    return `COALESCE(CASE WHEN ${v} IS NOT NULL THEN ${body} END, '')`;
  });
};

/** `format_timespan(ts, format)`: d..dddddddd days, h/hh hours, m/mm, s/ss, f/F fractions. */
const formatTimespan: Template = (args, ctx) => {
  const ts = arg(args, 0, ctx);
  const format = literalString(arg(args, 1, ctx));
  if (format === null) return ctx.unsupported('format_timespan() with a computed format');
  const tokens = tokenize(format, 'dfFhHms', true);
  if (!Array.isArray(tokens))
    return ctx.unsupported(`format_timespan() format character '${tokens.bad}' (Kusto rejects it)`);
  return withValue(ts.sql, (v) => {
    const a = `abs(${v})`;
    const seven = `lpad(CAST(${a} % 10000000 AS VARCHAR), 7, '0')`;
    const body = renderFormat(
      tokens,
      (t) => {
        switch (t.ch) {
          case 'd':
            return t.n > 8 ? null : pad(`${a} // 864000000000`, t.n);
          case 'h':
          case 'H':
            return pad(`(${a} // 36000000000) % 24`, Math.min(t.n, 2));
          case 'm':
            return pad(`(${a} // 600000000) % 60`, Math.min(t.n, 2));
          case 's':
            return pad(`(${a} // 10000000) % 60`, Math.min(t.n, 2));
          case 'f':
          case 'F':
            return t.n > 7 ? null : fraction(seven, t);
          default:
            return null;
        }
      },
      ctx,
      'format_timespan',
    );
    return `COALESCE(CASE WHEN ${v} IS NOT NULL THEN (CASE WHEN ${v} < 0 THEN '-' ELSE '' END) || ${body} END, '')`;
  });
};

const ZONES = new Map(TIME_ZONES.map((z) => [z.toLowerCase(), z] as const));

/**
 * Time-zone conversions through DuckDB's ICU zones. DuckDB fails the query on an unknown zone (even inside TRY), so
 * a literal zone is checked at compile time and a computed one against the known list; unknown zones give null.
 */
function zoned(args: readonly SqlArg[], ctx: TemplateContext, convert: (ts: string, tz: string) => string): string {
  const ts = arg(args, 0, ctx).sql;
  const tzArg = arg(args, 1, ctx);
  const lit = literalString(tzArg);
  if (lit !== null) {
    const zone = ZONES.get(lit.toLowerCase());
    return zone ? convert(ts, sqlString(zone)) : 'CAST(NULL AS TIMESTAMP)';
  }
  return withValue(
    asString(tzArg),
    (tz) => `(CASE WHEN ${tz} IN (${TIME_ZONES.map(sqlString).join(', ')}) THEN ${convert(ts, tz)} END)`,
  );
}

const utcToLocal: Template = (args, ctx) => zoned(args, ctx, (ts, tz) => `timezone(${tz}, timezone('UTC', ${ts}))`);
const localToUtc: Template = (args, ctx) => zoned(args, ctx, (ts, tz) => `timezone('UTC', timezone(${tz}, ${ts}))`);

function field(fn: string): Template {
  return (args, ctx) => typed(`${fn}(${arg(args, 0, ctx).sql})`, ctx.resultType);
}

export const DATETIME_FUNCTIONS: Readonly<Record<string, Template>> = {
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
  dayofmonth: field('day'),
  dayofyear: field('dayofyear'),
  hourofday: field('hour'),
  monthofyear: field('month'),
  getmonth: field('month'),
  getyear: field('year'),
  week_of_year: field('weekofyear'),
  weekofyear: field('weekofyear'),
  make_datetime: makeDatetime,
  make_timespan: makeTimespan,
  unixtime_seconds_todatetime: unixTime(10000000),
  unixtime_milliseconds_todatetime: unixTime(10000),
  unixtime_microseconds_todatetime: unixTime(10),
  unixtime_nanoseconds_todatetime: unixTime(0.01),
  format_datetime: formatDatetime,
  format_timespan: formatTimespan,
  datetime_utc_to_local: utcToLocal,
  datetime_local_to_utc: localToUtc,
  datetime_list_timezones: () => `CAST(${sqlString(JSON.stringify(TIME_ZONES))} AS JSON)`,
};
