/**
 * KQL operators in DuckDB, by Kusto operator kind. The semantics that differ from SQL live here:
 * - `has`-family operators match whole terms (maximal alphanumeric runs), compiled to a boundary regex with a
 *   cheap substring prefilter; `contains` is a substring test; `=~`, `in~`, `has`, `contains` ignore case.
 * - Comparisons with null are false (never SQL's unknown): wrapped in COALESCE, except where the value is used
 *   as a filter (unknown and false filter alike), which keeps DuckDB's zone-map pushdown.
 * - int arithmetic widens to long; integer `/` truncates; `%` keeps the dividend's sign; datetime ± timespan works on
 *   100-ns ticks.
 */
import type { ColumnType } from '../../../binder/types.js';
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import {
  arg,
  asString,
  dynamicToNumber,
  dynamicToString,
  literalString,
  regexEscape,
  sqlString,
  ticksToInterval,
  timestampTicks,
} from './base.js';

const NUMERIC = new Set<ColumnType>(['int', 'long', 'real', 'decimal']);

function isNum(a: SqlArg): boolean {
  return NUMERIC.has(a.type);
}

/** Both operands brought to a comparable SQL form. */
function comparable(a: SqlArg, b: SqlArg): [string, string] {
  if (a.type === 'dynamic' && b.type === 'dynamic') return [dynamicToString(a.sql), dynamicToString(b.sql)];
  if (a.type === 'dynamic')
    return [
      b.type === 'string' ? dynamicToString(a.sql) : isNum(b) ? dynamicToNumber(a.sql) : dynamicToString(a.sql),
      other(b),
    ];
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

function other(b: SqlArg): string {
  return b.type === 'dynamic' ? dynamicToString(b.sql) : b.sql;
}

/** A boolean that must be false (not unknown) when an operand is null. */
function definite(sql: string): string {
  return `COALESCE(${sql}, false)`;
}

function compare(op: string): Template {
  return (args, ctx) => {
    const [a, b] = comparable(arg(args, 0, ctx), arg(args, 1, ctx));
    return definite(`${a} ${op} ${b}`);
  };
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
      const n = asString(needleArg);
      const esc = `regexp_replace(${n}, '([\\\\^$.|?*+()\\[\\]{}])', '\\\\\\1', 'g')`;
      const left = prefix
        ? `CASE WHEN regexp_matches(${n}, '^[0-9A-Za-z]') THEN '(?:^|${NON_TERM})' ELSE '' END`
        : "''";
      const right = suffix
        ? `CASE WHEN regexp_matches(${n}, '[0-9A-Za-z]$') THEN '(?:$|${NON_TERM})' ELSE '' END`
        : "''";
      test = `regexp_matches(${hay}, ${caseSensitive ? "''" : "'(?i)'"} || ${left} || ${esc} || ${right})`;
    }
    void ctx;
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

/** The values of an `in` list: literal dynamic arrays are spread into their elements. */
function inValues(args: readonly SqlArg[], ctx: TemplateContext): SqlArg[] {
  const out: SqlArg[] = [];
  for (const a of args) {
    const v = a.literal?.value;
    if (a.type === 'dynamic' && Array.isArray(v)) {
      for (const x of v) {
        if (typeof x === 'string')
          out.push({ sql: sqlString(x), type: 'string', literal: { value: x, type: 'string' }, expr: a.expr });
        else if (typeof x === 'number')
          out.push({ sql: String(x), type: Number.isInteger(x) ? 'long' : 'real', expr: a.expr });
        else if (typeof x === 'boolean') out.push({ sql: x ? 'TRUE' : 'FALSE', type: 'bool', expr: a.expr });
        else if (x !== null)
          out.push({ sql: `CAST(${sqlString(JSON.stringify(x))} AS JSON)`, type: 'dynamic', expr: a.expr });
      }
    } else if (a.type === 'dynamic' && !a.literal) {
      return ctx.unsupported('`in` over a computed dynamic array');
    } else out.push(a);
  }
  return out;
}

function inList(caseInsensitive: boolean, negate: boolean): Template {
  return (args, ctx) => {
    const value = arg(args, 0, ctx);
    const items = inValues(args.slice(1), ctx);
    if (items.length === 0) return negate ? 'true' : 'false';
    let v: string;
    let list: string[];
    if (caseInsensitive) {
      v = `lower(${asString(value)})`;
      list = items.map(lowered);
    } else if (value.type === 'string' || value.type === 'dynamic') {
      v = value.type === 'dynamic' ? dynamicToString(value.sql) : value.sql;
      list = items.map(asString);
    } else {
      v = value.sql;
      list = items.map((i) => (i.type === 'dynamic' ? dynamicToString(i.sql) : i.sql));
    }
    const test = `${v} IN (${list.join(', ')})`;
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
    const inner = caseInsensitive ? `SELECT lower(CAST(s.v AS VARCHAR)) FROM (${sub.sql}) AS s(v)` : sub.sql;
    const test = `${v} IN (${inner})`;
    return negate ? `NOT COALESCE(${test}, false)` : definite(test);
  };
}

function hasAny(all: boolean): Template {
  return (args, ctx) => {
    const hay = asString(arg(args, 0, ctx));
    const items = inValues(args.slice(1), ctx);
    const needles = items.map(literalString);
    if (needles.some((n) => n === null)) return ctx.unsupported('has_any/has_all with non-literal terms');
    const terms = (needles as string[]).filter((n) => n !== '');
    if (terms.length === 0) return all ? 'true' : 'false';
    if (all) {
      return `(${terms.map((t) => `regexp_matches(${hay}, ${sqlString(`(?i)${termPattern(t, true, true)}`)})`).join(' AND ')})`;
    }
    const alternation = terms.map((t) => termPattern(t, true, true)).join('|');
    return `regexp_matches(${hay}, ${sqlString(`(?i)(?:${alternation})`)})`;
  };
}

// ───────────────────────────── arithmetic ─────────────────────────────

function widen(a: SqlArg): string {
  if (a.type === 'int') return `CAST(${a.sql} AS BIGINT)`;
  if (a.type === 'dynamic') return dynamicToNumber(a.sql);
  return a.sql;
}

function castResult(sql: string, type: ColumnType): string {
  if (type === 'long') return `CAST(${sql} AS BIGINT)`;
  if (type === 'real') return `CAST(${sql} AS DOUBLE)`;
  return sql;
}

const add: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const b = arg(args, 1, ctx);
  if (a.type === 'datetime' && b.type === 'timespan') return `${a.sql} + ${ticksToInterval(b.sql)}`;
  if (a.type === 'timespan' && b.type === 'datetime') return `${b.sql} + ${ticksToInterval(a.sql)}`;
  if (a.type === 'datetime' && b.type === 'datetime') return ctx.unsupported('datetime + datetime');
  return castResult(`${widen(a)} + ${widen(b)}`, ctx.resultType);
};

const subtract: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const b = arg(args, 1, ctx);
  if (a.type === 'datetime' && b.type === 'datetime') return `${timestampTicks(a.sql)} - ${timestampTicks(b.sql)}`;
  if (a.type === 'datetime' && b.type === 'timespan') return `${a.sql} - ${ticksToInterval(b.sql)}`;
  return castResult(`${widen(a)} - ${widen(b)}`, ctx.resultType);
};

const multiply: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const b = arg(args, 1, ctx);
  if (ctx.resultType === 'timespan') {
    if (a.type === 'timespan' && b.type === 'timespan') return `${a.sql} * ${b.sql}`;
    return `CAST(round(CAST(${widen(a)} AS DOUBLE) * ${widen(b)}) AS BIGINT)`;
  }
  return castResult(`${widen(a)} * ${widen(b)}`, ctx.resultType);
};

const divide: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const b = arg(args, 1, ctx);
  if (a.type === 'timespan' && b.type === 'timespan') return `CAST(${a.sql} AS DOUBLE) / ${b.sql}`;
  if (a.type === 'timespan') return `CAST(trunc(CAST(${a.sql} AS DOUBLE) / ${widen(b)}) AS BIGINT)`;
  const intLike = (x: SqlArg) => x.type === 'int' || x.type === 'long';
  if (intLike(a) && intLike(b)) return `${widen(a)} // ${widen(b)}`;
  if (ctx.resultType === 'decimal') return `${a.sql} / ${b.sql}`;
  return `CAST(${widen(a)} AS DOUBLE) / ${widen(b)}`;
};

const modulo: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const b = arg(args, 1, ctx);
  return castResult(`${widen(a)} % ${widen(b)}`, ctx.resultType);
};

const between =
  (negate: boolean): Template =>
  (args, ctx) => {
    const v = arg(args, 0, ctx);
    const lo = arg(args, 1, ctx);
    const hi = arg(args, 2, ctx);
    let high = hi.sql;
    if (v.type === 'datetime' && hi.type === 'timespan') high = `${lo.sql} + ${ticksToInterval(hi.sql)}`;
    const [x, l] = comparable(v, lo);
    const test = `${x} BETWEEN ${l} AND ${high}`;
    return negate ? `NOT COALESCE(${test}, false)` : definite(test);
  };

const equal: Template = (args, ctx) => {
  const [a, b] = comparable(arg(args, 0, ctx), arg(args, 1, ctx));
  return definite(`${a} = ${b}`);
};

const notEqual: Template = (args, ctx) => {
  const x = arg(args, 0, ctx);
  const y = arg(args, 1, ctx);
  const [a, b] = comparable(x, y);
  // null != x is true for a non-null x (IS DISTINCT FROM), as in Kusto.
  return `${a} IS DISTINCT FROM ${b}`;
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
  return `regexp_matches(${asString(a)}, ${asString(b)})`;
};

const like =
  (caseSensitive: boolean, negate: boolean): Template =>
  (args, ctx) => {
    const a = asString(arg(args, 0, ctx));
    const b = asString(arg(args, 1, ctx));
    return `${a} ${negate ? 'NOT ' : ''}${caseSensitive ? 'LIKE' : 'ILIKE'} ${b}`;
  };

export const OPERATORS: Readonly<Record<string, Template>> = {
  And: (args, ctx) => `${arg(args, 0, ctx).sql} AND ${arg(args, 1, ctx).sql}`,
  Or: (args, ctx) => `${arg(args, 0, ctx).sql} OR ${arg(args, 1, ctx).sql}`,
  UnaryMinus: (args, ctx) => `-${widen(arg(args, 0, ctx))}`,
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
  Between: between(false),
  NotBetween: between(true),
};
