/**
 * KQL operators in DuckDB, by Kusto operator kind. The semantics that differ from SQL live here:
 * - `has`-family operators match whole terms (maximal runs of ASCII letters and digits), compiled to a boundary
 *   regex with a cheap substring prefilter; `contains` is a substring test; `=~`, `in~`, `has`, `contains` ignore case.
 * - Comparisons with null are false (never SQL's unknown): wrapped in COALESCE, except where the value is used
 *   as a filter (unknown and false filter alike), which keeps DuckDB's zone-map pushdown.
 * - int arithmetic widens to long and wraps around on overflow as .NET does (DuckDB would raise an error);
 *   integer `/` truncates and gives null for a zero divisor; `%` is never negative (`-14 % 12 == 10`, also for
 *   reals); datetime ± timespan works on 100-ns ticks.
 * - `in` / `has_any` lists may mix literals with computed dynamic arrays (`x in (split(...))`, `let L = pack_array(...)`).
 */
import type { ColumnType } from '../../../binder/types.js';
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import {
  arg,
  asString,
  dynamicToNumber,
  dynamicToString,
  jsonArrayStrings,
  jsonElements,
  literalString,
  regexArg,
  regexEscape,
  sqlString,
  ticksToInterval,
  timestampTicks,
  withValue,
  withValues,
} from './base.js';

const NUMERIC = new Set<ColumnType>(['int', 'long', 'real', 'decimal']);

function isNum(a: SqlArg): boolean {
  return NUMERIC.has(a.type);
}

/** Both operands brought to a comparable SQL form. */
function comparable(a: SqlArg, b: SqlArg): [string, string] {
  if (a.type === 'dynamic' && b.type === 'dynamic') return [dynamicToString(a.sql), dynamicToString(b.sql)];
  if (a.type === 'dynamic') {
    if (isNum(b)) return [dynamicToNumber(a.sql), b.sql];
    if (b.type === 'bool') return [`TRY_CAST(${dynamicToString(a.sql)} AS BOOLEAN)`, b.sql];
    if (b.type === 'datetime') return [`TRY_CAST(${dynamicToString(a.sql)} AS TIMESTAMP)`, b.sql];
    return [dynamicToString(a.sql), asString(b)];
  }
  if (b.type === 'dynamic') {
    const [y, x] = comparable(b, a);
    return [x, y];
  }
  if (a.type === 'bool' && isNum(b)) return [`CAST(${a.sql} AS INTEGER)`, b.sql];
  if (b.type === 'bool' && isNum(a)) return [a.sql, `CAST(${b.sql} AS INTEGER)`];
  if (a.type === 'guid' && b.type === 'string') return [`CAST(${a.sql} AS VARCHAR)`, `lower(${b.sql})`];
  if (b.type === 'guid' && a.type === 'string') return [`lower(${a.sql})`, `CAST(${b.sql} AS VARCHAR)`];
  if (a.type === 'string' && b.type !== 'string' && b.type !== 'unknown') return [a.sql, asString(b)];
  if (b.type === 'string' && a.type !== 'string' && a.type !== 'unknown') return [asString(a), b.sql];
  return [a.sql, b.sql];
}

/** A boolean that must be false (not unknown) when an operand is null. */
function definite(sql: string): string {
  return `COALESCE(${sql}, false)`;
}

/** Ordering comparisons propagate null, as documented (`int(null) > 3` is null, so `not(x > 3)` filters it out). */
function compare(op: string): Template {
  return (args, ctx) => {
    const [a, b] = comparable(arg(args, 0, ctx), arg(args, 1, ctx));
    return `${a} ${op} ${b}`;
  };
}

/** Whether an operand can never be null (a non-null literal or a string, which KQL never makes null). */
function neverNull(a: SqlArg): boolean {
  return (a.literal !== undefined && a.literal.value !== null) || a.type === 'string';
}

// ───────────────────────────── string operators ─────────────────────────────

/** Characters that separate terms: anything but ASCII letters and digits. */
const NON_TERM = '[^0-9A-Za-z]';

/** An RE2 pattern matching `needle` as a term sequence (boundaries only where the needle's edge is a term char). */
export function termPattern(needle: string, prefix: boolean, suffix: boolean): string {
  const startsAlnum = /^[0-9A-Za-z]/.test(needle);
  const endsAlnum = /[0-9A-Za-z]$/.test(needle);
  const left = prefix && startsAlnum ? `(?:^|${NON_TERM})` : '';
  const right = suffix && endsAlnum ? `(?:$|${NON_TERM})` : '';
  return `${left}${regexEscape(needle)}${right}`;
}

/** The same pattern built at run time from a needle computed by SQL. */
function runtimeTermPattern(n: string, prefix: boolean, suffix: boolean): string {
  const esc = `regexp_escape(${n})`;
  const left = prefix ? `CASE WHEN regexp_matches(${n}, '^[0-9A-Za-z]') THEN '(?:^|${NON_TERM})' ELSE '' END` : "''";
  const right = suffix ? `CASE WHEN regexp_matches(${n}, '[0-9A-Za-z]$') THEN '(?:$|${NON_TERM})' ELSE '' END` : "''";
  return `(${left} || ${esc} || ${right})`;
}

function lowered(a: SqlArg): string {
  const lit = literalString(a);
  return lit !== null ? sqlString(lit.toLowerCase()) : `lower(${asString(a)})`;
}

/**
 * `has`, `hasprefix`, `hassuffix` (and `_cs`): a term-boundary regex. With a literal needle, a substring test runs
 * first so the regex only sees candidate rows. A non-literal needle builds the regex at run time.
 */
function termMatch(prefix: boolean, suffix: boolean, caseSensitive: boolean, negate: boolean): Template {
  return (args, ctx) => {
    const hay = asString(arg(args, 0, ctx));
    const needleArg = arg(args, 1, ctx);
    const needle = literalString(needleArg);
    let test: string;
    if (needle !== null) {
      if (needle === '') test = 'true';
      else {
        const pattern = `${caseSensitive ? '' : '(?i)'}${termPattern(needle, prefix, suffix)}`;
        const pre = caseSensitive
          ? `contains(${hay}, ${sqlString(needle)})`
          : `contains(lower(${hay}), ${sqlString(needle.toLowerCase())})`;
        test = `(${pre} AND regexp_matches(${hay}, ${sqlString(pattern)}))`;
      }
    } else {
      test = withValue(
        asString(needleArg),
        (n) =>
          `(${n} = '' OR regexp_matches(${hay}, ${caseSensitive ? "''" : "'(?i)'"} || ${runtimeTermPattern(n, prefix, suffix)}))`,
      );
    }
    return negate ? `NOT ${test}` : test;
  };
}

function substringOp(fn: 'contains' | 'starts_with' | 'suffix', caseSensitive: boolean, negate: boolean): Template {
  return (args, ctx) => {
    const a = arg(args, 0, ctx);
    const b = arg(args, 1, ctx);
    const test = caseSensitive
      ? `${fn}(${asString(a)}, ${asString(b)})`
      : `${fn}(lower(${asString(a)}), ${lowered(b)})`;
    return negate ? `NOT ${test}` : test;
  };
}

/** An `in` / `has_any` list: literal values (literal dynamic arrays spread) and computed dynamic arrays. */
interface InList {
  readonly values: SqlArg[];
  /** Computed dynamic values whose elements (or the value itself, when not an array) join the list. */
  readonly arrays: SqlArg[];
}

function inValues(args: readonly SqlArg[]): InList {
  const values: SqlArg[] = [];
  const arrays: SqlArg[] = [];
  for (const a of args) {
    const v = a.literal?.value;
    if (a.type === 'dynamic' && a.literal && Array.isArray(v)) {
      for (const x of v) {
        if (typeof x === 'string')
          values.push({ sql: sqlString(x), type: 'string', literal: { value: x, type: 'string' }, expr: a.expr });
        else if (typeof x === 'number')
          values.push({
            sql: Number.isInteger(x) ? `CAST(${x} AS BIGINT)` : `CAST('${x}' AS DOUBLE)`,
            type: Number.isInteger(x) ? 'long' : 'real',
            expr: a.expr,
          });
        else if (typeof x === 'boolean') values.push({ sql: x ? 'TRUE' : 'FALSE', type: 'bool', expr: a.expr });
        else if (x !== null)
          values.push({ sql: `CAST(${sqlString(JSON.stringify(x))} AS JSON)`, type: 'dynamic', expr: a.expr });
      }
    } else if (a.type === 'dynamic' && !a.literal) arrays.push(a);
    else values.push(a);
  }
  return { values, arrays };
}

/** Membership of `v` (already in comparable form) in the elements of computed dynamic arrays. */
function inArrays(v: string, value: SqlArg, arrays: readonly SqlArg[], caseInsensitive: boolean): string[] {
  return arrays.map((a) => {
    if (caseInsensitive)
      return `list_contains(list_transform(${jsonElements(a.sql)}, lambda __e: lower(COALESCE(__e ->> '$', ''))), ${v})`;
    if (isNum(value))
      return `list_contains(list_transform(${jsonElements(a.sql)}, lambda __e: TRY_CAST(__e ->> '$' AS DOUBLE)), CAST(${v} AS DOUBLE))`;
    if (value.type === 'bool')
      return `list_contains(list_transform(${jsonElements(a.sql)}, lambda __e: TRY_CAST(__e ->> '$' AS BOOLEAN)), ${v})`;
    return `list_contains(list_transform(${jsonElements(a.sql)}, lambda __e: COALESCE(__e ->> '$', '')), ${v})`;
  });
}

function inList(caseInsensitive: boolean, negate: boolean): Template {
  return (args, ctx) => {
    const value = arg(args, 0, ctx);
    const { values: items, arrays } = inValues(args.slice(1));
    if (items.length === 0 && arrays.length === 0) return negate ? 'true' : 'false';
    let v: string;
    let list: string[];
    if (caseInsensitive) {
      v = `lower(${asString(value)})`;
      list = items.map(lowered);
    } else if (value.type === 'string' || value.type === 'dynamic' || value.type === 'guid') {
      v = value.type === 'dynamic' ? dynamicToString(value.sql) : asString(value);
      list = items.map((i) => (i.type === 'guid' ? `CAST(${i.sql} AS VARCHAR)` : asString(i)));
    } else if (isNum(value)) {
      v = value.sql;
      list = items.map((i) =>
        i.type === 'dynamic' ? dynamicToNumber(i.sql) : i.type === 'bool' ? `CAST(${i.sql} AS INTEGER)` : i.sql,
      );
    } else {
      v = value.sql;
      list = items.map((i) => (i.type === 'dynamic' ? dynamicToString(i.sql) : i.sql));
    }
    const build = (x: string) => {
      const tests = [
        ...(list.length ? [`${x} IN (${list.join(', ')})`] : []),
        ...inArrays(x, value, arrays, caseInsensitive),
      ];
      return tests.length === 1 ? (tests[0] as string) : `(${tests.join(' OR ')})`;
    };
    const test = arrays.length ? withValue(v, build) : build(v);
    return negate ? `NOT COALESCE(${test}, false)` : definite(test);
  };
}

function inSubquery(caseInsensitive: boolean, negate: boolean): Template {
  return (args, ctx) => {
    const value = arg(args, 0, ctx);
    const sub = arg(args, 1, ctx);
    const v = caseInsensitive
      ? `lower(${asString(value)})`
      : value.type === 'dynamic'
        ? dynamicToString(value.sql)
        : value.sql;
    let inner = sub.sql;
    if (caseInsensitive)
      inner = `SELECT lower(${asString({ ...sub, sql: '__in.__v' })}) FROM (${sub.sql}) AS __in(__v)`;
    else if (sub.type === 'dynamic') inner = `SELECT ${dynamicToString('__in.__v')} FROM (${sub.sql}) AS __in(__v)`;
    const test = `${v} IN (${inner})`;
    return negate ? `NOT COALESCE(${test}, false)` : definite(test);
  };
}

/** `has_any` / `has_all`: literal terms make one alternation regex; computed lists test each element at run time. */
function hasAny(all: boolean): Template {
  return (args, ctx) => {
    const hay = asString(arg(args, 0, ctx));
    const { values: items, arrays } = inValues(args.slice(1));
    const literalTerms: string[] = [];
    const computed: string[] = [];
    for (const i of items) {
      const n = literalString(i);
      if (n !== null) literalTerms.push(n);
      else computed.push(asString(i));
    }
    const terms = literalTerms.filter((n) => n !== '');
    return withValue(hay, (h) => {
      const tests: string[] = [];
      if (all) {
        for (const t of terms) tests.push(`regexp_matches(${h}, ${sqlString(`(?i)${termPattern(t, true, true)}`)})`);
      } else if (terms.length) {
        const alternation = terms.map((t) => termPattern(t, true, true)).join('|');
        tests.push(`regexp_matches(${h}, ${sqlString(`(?i)(?:${alternation})`)})`);
      }
      const one = (n: string) => `(${n} = '' OR regexp_matches(${h}, '(?i)' || ${runtimeTermPattern(n, true, true)}))`;
      for (const c of computed) tests.push(withValue(c, one));
      for (const a of arrays) {
        const matched = `list_transform(${jsonArrayStrings(a.sql)}, lambda __t: ${one('__t')})`;
        tests.push(all ? `COALESCE(list_bool_and(${matched}), true)` : `COALESCE(list_bool_or(${matched}), false)`);
      }
      if (tests.length === 0) return all ? 'true' : 'false';
      // An empty literal term matches everything (Kusto), so has_any with one is true.
      if (!all && literalTerms.length > terms.length) return 'true';
      return `(${tests.join(all ? ' AND ' : ' OR ')})`;
    });
  };
}

/** `has_any` / `has_all` over a one-column table: the column's values are the terms. */
function hasAnySubquery(all: boolean): Template {
  return (args, ctx) => {
    const hay = asString(arg(args, 0, ctx));
    const sub = arg(args, 1, ctx);
    const term = asString({ ...sub, sql: '__ht.__v' });
    const match = (t: string) =>
      `(${t} = '' OR regexp_matches(${hay}, '(?i)' || ${runtimeTermPattern(t, true, true)}))`;
    if (all) return `NOT EXISTS (SELECT 1 FROM (${sub.sql}) AS __ht(__v) WHERE NOT ${match(term)})`;
    return `EXISTS (SELECT 1 FROM (${sub.sql}) AS __ht(__v) WHERE ${match(term)})`;
  };
}

// ───────────────────────────── arithmetic ─────────────────────────────

function widen(a: SqlArg): string {
  if (a.type === 'int') return `CAST(${a.sql} AS BIGINT)`;
  if (a.type === 'dynamic') return dynamicToNumber(a.sql);
  if (a.type === 'bool') return `CAST(${a.sql} AS BIGINT)`;
  return a.sql;
}

function castResult(sql: string, type: ColumnType): string {
  if (type === 'long') return `CAST(${sql} AS BIGINT)`;
  if (type === 'int') return `TRY_CAST(${sql} AS INTEGER)`;
  if (type === 'real') return `CAST(${sql} AS DOUBLE)`;
  return sql;
}

const isInteger = (x: SqlArg) => x.type === 'int' || x.type === 'long';
const LONG_MAX = '9223372036854775807';
const LONG_MIN = '(-9223372036854775807 - 1)';
const TWO64 = '18446744073709551616';

/**
 * long + long (or −) with .NET's wrap-around on overflow. The overflow test is cheap for DuckDB but repeats the
 * operands, so they are bound once when they are not simple.
 */
function wrappingAdd(a: string, b: string, op: '+' | '-'): string {
  return withValues([a, b], ([x, y]) => {
    const overflow =
      op === '+'
        ? `(${x} > 0 AND ${y} > ${LONG_MAX} - ${x}) OR (${x} < 0 AND ${y} < ${LONG_MIN} - ${x})`
        : `(${y} < 0 AND ${x} > ${LONG_MAX} + ${y}) OR (${y} > 0 AND ${x} < ${LONG_MIN} + ${y})`;
    const wide = `CAST(${x} AS HUGEINT) ${op} ${y}`;
    return `(CASE WHEN ${overflow} THEN CAST(${wide} - (CASE WHEN ${wide} > 0 THEN ${TWO64} ELSE -${TWO64} END) AS BIGINT) ELSE ${x} ${op} ${y} END)`;
  });
}

/** Kusto folds constant long arithmetic at compile time and rejects a query whose constant overflows. */
function constantOverflow(a: SqlArg, b: SqlArg, op: '+' | '-' | '*', ctx: TemplateContext): void {
  const x = a.literal?.value;
  const y = b.literal?.value;
  if (!isInteger(a) || !isInteger(b) || x === null || y === null || x === undefined || y === undefined) return;
  const bx = BigInt(String(x));
  const by = BigInt(String(y));
  const r = op === '+' ? bx + by : op === '-' ? bx - by : bx * by;
  if (r > 9223372036854775807n || r < -9223372036854775808n)
    ctx.unsupported(`the constant ${String(x)} ${op} ${String(y)} overflows a long (Kusto rejects it)`);
}

const add: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const b = arg(args, 1, ctx);
  constantOverflow(a, b, '+', ctx);
  if (a.type === 'datetime' && b.type === 'timespan') return `${a.sql} + ${ticksToInterval(b.sql)}`;
  if (a.type === 'timespan' && b.type === 'datetime') return `${b.sql} + ${ticksToInterval(a.sql)}`;
  if (a.type === 'datetime' && b.type === 'datetime') return ctx.unsupported('datetime + datetime');
  if ((isInteger(a) || a.type === 'timespan') && (isInteger(b) || b.type === 'timespan'))
    return castResult(wrappingAdd(widen(a), widen(b), '+'), ctx.resultType);
  return castResult(`${widen(a)} + ${widen(b)}`, ctx.resultType);
};

const subtract: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const b = arg(args, 1, ctx);
  constantOverflow(a, b, '-', ctx);
  if (a.type === 'datetime' && b.type === 'datetime') return `${timestampTicks(a.sql)} - ${timestampTicks(b.sql)}`;
  if (a.type === 'datetime' && b.type === 'timespan') return `${a.sql} - ${ticksToInterval(b.sql)}`;
  if ((isInteger(a) || a.type === 'timespan') && (isInteger(b) || b.type === 'timespan'))
    return castResult(wrappingAdd(widen(a), widen(b), '-'), ctx.resultType);
  return castResult(`${widen(a)} - ${widen(b)}`, ctx.resultType);
};

const multiply: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const b = arg(args, 1, ctx);
  constantOverflow(a, b, '*', ctx);
  if (ctx.resultType === 'timespan') {
    if (isInteger(a) && b.type === 'timespan') return `TRY_CAST(CAST(${widen(a)} AS HUGEINT) * ${b.sql} AS BIGINT)`;
    if (a.type === 'timespan' && isInteger(b)) return `TRY_CAST(CAST(${a.sql} AS HUGEINT) * ${widen(b)} AS BIGINT)`;
    return `CAST(round(CAST(${widen(a)} AS DOUBLE) * ${widen(b)}) AS BIGINT)`;
  }
  // DECIMAL(38,18) * DECIMAL(38,18) needs scale 36: multiply at scale 9 (exact for up to 9 fractional digits).
  if (ctx.resultType === 'decimal')
    return `TRY_CAST(CAST(${a.sql} AS DECIMAL(38,9)) * CAST(${b.sql} AS DECIMAL(38,9)) AS DECIMAL(38,18))`;
  // long overflow gives null rather than DuckDB's error (Kusto wraps; an exact wrap costs a 128-bit modulo).
  if (isInteger(a) && isInteger(b))
    return castResult(`TRY_CAST(CAST(${widen(a)} AS HUGEINT) * ${widen(b)} AS BIGINT)`, ctx.resultType);
  return castResult(`${widen(a)} * ${widen(b)}`, ctx.resultType);
};

const divide: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const b = arg(args, 1, ctx);
  if (a.type === 'timespan' && b.type === 'timespan') return `CAST(${a.sql} AS DOUBLE) / ${b.sql}`;
  if (a.type === 'timespan') return `CAST(trunc(CAST(${a.sql} AS DOUBLE) / ${widen(b)}) AS BIGINT)`;
  if (isInteger(a) && isInteger(b)) return castResult(`${widen(a)} // ${widen(b)}`, ctx.resultType);
  if (ctx.resultType === 'decimal') return `${a.sql} / ${b.sql}`;
  return `CAST(${widen(a)} AS DOUBLE) / ${widen(b)}`;
};

/** Kusto's `%` is never negative: the remainder modulo |b| (`-14 % 12 == 10`, `14 % -12 == 2`, `-5.5 % 3 == 0.5`). */
const modulo: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const b = arg(args, 1, ctx);
  if (isInteger(a) && isInteger(b)) {
    return castResult(
      withValues([widen(a), widen(b)], ([x, y]) => `((${x} % ${y}) + abs(${y})) % abs(${y})`),
      ctx.resultType,
    );
  }
  if (a.type === 'timespan' || b.type === 'timespan') {
    return withValues([widen(a), widen(b)], ([x, y]) => `((${x} % ${y}) + abs(${y})) % abs(${y})`);
  }
  const target = ctx.resultType === 'decimal' ? 'DECIMAL(38,18)' : 'DOUBLE';
  return withValues(
    [`CAST(${widen(a)} AS ${target})`, `CAST(${widen(b)} AS ${target})`],
    ([x, y]) => `(${x} - abs(${y}) * floor(${x} / abs(${y})))`,
  );
};

const between =
  (negate: boolean): Template =>
  (args, ctx) => {
    const v = arg(args, 0, ctx);
    const lo = arg(args, 1, ctx);
    const hi = arg(args, 2, ctx);
    const hiArg: SqlArg =
      (v.type === 'datetime' || lo.type === 'datetime') && hi.type === 'timespan'
        ? { ...hi, sql: `${lo.sql} + ${ticksToInterval(hi.sql)}`, type: 'datetime' }
        : hi;
    const test = withValue(v.sql, (x) => {
      const val = { ...v, sql: x };
      const [a, l] = comparable(val, lo);
      const [b, h] = comparable(val, hiArg);
      return `(${a} >= ${l} AND ${b} <= ${h})`;
    });
    // Like the ordering comparisons, between propagates null.
    return negate ? `NOT ${test}` : test;
  };

/**
 * `==`: null == null is null; null == value is false. `!=`: null != null is null; null != value is true. When one
 * side can never be null the simple forms keep DuckDB's filter pushdown.
 */
const equal: Template = (args, ctx) => {
  const x = arg(args, 0, ctx);
  const y = arg(args, 1, ctx);
  const [a, b] = comparable(x, y);
  if (neverNull(x) || neverNull(y)) return definite(`${a} = ${b}`);
  return withValues(
    [a, b],
    ([p, q]) => `(CASE WHEN ${p} IS NULL AND ${q} IS NULL THEN NULL ELSE COALESCE(${p} = ${q}, false) END)`,
  );
};

const notEqual: Template = (args, ctx) => {
  const x = arg(args, 0, ctx);
  const y = arg(args, 1, ctx);
  const [a, b] = comparable(x, y);
  if (neverNull(x) || neverNull(y)) return `${a} IS DISTINCT FROM ${b}`;
  return withValues(
    [a, b],
    ([p, q]) => `(CASE WHEN ${p} IS NULL AND ${q} IS NULL THEN NULL ELSE ${p} IS DISTINCT FROM ${q} END)`,
  );
};

const equalTilde =
  (negate: boolean): Template =>
  (args, ctx) => {
    const a = arg(args, 0, ctx);
    const b = arg(args, 1, ctx);
    const test = `lower(${asString(a)}) = ${lowered(b)}`;
    return negate ? `NOT (${test})` : test;
  };

const matchRegex: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const b = arg(args, 1, ctx);
  return `regexp_matches(${asString(a)}, ${regexArg(b)})`;
};

const like =
  (caseSensitive: boolean, negate: boolean): Template =>
  (args, ctx) => {
    const a = asString(arg(args, 0, ctx));
    const b = asString(arg(args, 1, ctx));
    return `${a} ${negate ? 'NOT ' : ''}${caseSensitive ? 'LIKE' : 'ILIKE'} ${b}`;
  };

/** `not`-able boolean operands: a dynamic or other non-bool operand is converted, null stays null. */
function bool(a: SqlArg): string {
  if (a.type === 'bool') return a.sql;
  if (a.type === 'dynamic') return `TRY_CAST(${dynamicToString(a.sql)} AS BOOLEAN)`;
  return `TRY_CAST(${a.sql} AS BOOLEAN)`;
}

export function unaryMinus(a: SqlArg): string {
  if (a.type === 'int' || a.type === 'long' || a.type === 'timespan')
    return withValue(widen(a), (x) => `(CASE WHEN ${x} = ${LONG_MIN} THEN ${x} ELSE -${x} END)`);
  return `-${widen(a)}`;
}

export const OPERATORS: Readonly<Record<string, Template>> = {
  And: (args, ctx) => `${bool(arg(args, 0, ctx))} AND ${bool(arg(args, 1, ctx))}`,
  Or: (args, ctx) => `${bool(arg(args, 0, ctx))} OR ${bool(arg(args, 1, ctx))}`,
  UnaryMinus: (args, ctx) => castResult(unaryMinus(arg(args, 0, ctx)), ctx.resultType),
  UnaryPlus: (args, ctx) => arg(args, 0, ctx).sql,
  Add: add,
  Subtract: subtract,
  Multiply: multiply,
  Divide: divide,
  Modulo: modulo,
  Equal: equal,
  NotEqual: notEqual,
  LessThan: compare('<'),
  LessThanOrEqual: compare('<='),
  GreaterThan: compare('>'),
  GreaterThanOrEqual: compare('>='),
  EqualTilde: equalTilde(false),
  BangTilde: equalTilde(true),
  Has: termMatch(true, true, false, false),
  NotHas: termMatch(true, true, false, true),
  HasCs: termMatch(true, true, true, false),
  NotHasCs: termMatch(true, true, true, true),
  HasPrefix: termMatch(true, false, false, false),
  NotHasPrefix: termMatch(true, false, false, true),
  HasPrefixCs: termMatch(true, false, true, false),
  NotHasPrefixCs: termMatch(true, false, true, true),
  HasSuffix: termMatch(false, true, false, false),
  NotHasSuffix: termMatch(false, true, false, true),
  HasSuffixCs: termMatch(false, true, true, false),
  NotHasSuffixCs: termMatch(false, true, true, true),
  Contains: substringOp('contains', false, false),
  NotContains: substringOp('contains', false, true),
  ContainsCs: substringOp('contains', true, false),
  NotContainsCs: substringOp('contains', true, true),
  StartsWith: substringOp('starts_with', false, false),
  NotStartsWith: substringOp('starts_with', false, true),
  StartsWithCs: substringOp('starts_with', true, false),
  NotStartsWithCs: substringOp('starts_with', true, true),
  EndsWith: substringOp('suffix', false, false),
  NotEndsWith: substringOp('suffix', false, true),
  EndsWithCs: substringOp('suffix', true, false),
  NotEndsWithCs: substringOp('suffix', true, true),
  MatchRegex: matchRegex,
  Like: like(false, false),
  NotLike: like(false, true),
  LikeCs: like(true, false),
  NotLikeCs: like(true, true),
  // Kusto.Language's `In` is the case-sensitive `in`; `InCs` is the case-insensitive `in~`.
  In: inList(false, false),
  NotIn: inList(false, true),
  InCs: inList(true, false),
  NotInCs: inList(true, true),
  InSubquery: inSubquery(false, false),
  NotInSubquery: inSubquery(false, true),
  InCsSubquery: inSubquery(true, false),
  NotInCsSubquery: inSubquery(true, true),
  HasAny: hasAny(false),
  HasAll: hasAny(true),
  HasAnySubquery: hasAnySubquery(false),
  HasAllSubquery: hasAnySubquery(true),
  Between: between(false),
  NotBetween: between(true),
};

export type { TemplateContext };
