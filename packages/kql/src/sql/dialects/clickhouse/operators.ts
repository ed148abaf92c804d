/**
 * KQL operators in ClickHouse, by Kusto operator kind (the same keys as the DuckDB table). Semantics that differ
 * from SQL live here:
 * - `has`-family operators match whole terms (maximal runs of ASCII letters and digits): a one-token literal term
 *   uses ClickHouse's `hasToken*` (whose tokens are the same runs), other terms a boundary regex;
 * - `contains` is a substring test; `=~`, `in~`, `has`, `contains` ignore case (`positionCaseInsensitive` is the fast
 *   form in ClickHouse);
 * - `null == x` is false, `null != x` true; `in` is false for null;
 * - integer `/` truncates and gives null for a zero divisor; `%` is never negative; datetime ± timespan works on
 *   100-ns ticks (DateTime64(7) reinterpreted as Int64). ClickHouse integer overflow wraps as .NET's does.
 */
import type { ColumnType } from '../../../binder/types.js';
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import {
  arg,
  asString,
  datetimeTicks,
  dynamicToNumber,
  dynamicToString,
  literalString,
  nullSafe,
  regexArg,
  regexEscape,
  sqlString,
  ticksToDatetime,
  withValue,
} from './base.js';

const NUMERIC = new Set<ColumnType>(['int', 'long', 'real', 'decimal']);
const isNum = (a: SqlArg) => NUMERIC.has(a.type);
const isInteger = (a: SqlArg) => a.type === 'int' || a.type === 'long';

/** Both operands brought to a comparable SQL form. */
function comparable(a: SqlArg, b: SqlArg): [string, string] {
  if (a.type === 'dynamic' && b.type === 'dynamic') return [dynamicToString(a.sql), dynamicToString(b.sql)];
  if (a.type === 'dynamic') {
    if (isNum(b)) return [dynamicToNumber(a.sql), b.sql];
    if (b.type === 'bool') return [`(lower(${dynamicToString(a.sql)}) = 'true')`, b.sql];
    if (b.type === 'datetime') return [`parseDateTime64BestEffortUSOrNull(${dynamicToString(a.sql)}, 7, 'UTC')`, b.sql];
    return [dynamicToString(a.sql), asString(b)];
  }
  if (b.type === 'dynamic') {
    const [y, x] = comparable(b, a);
    return [x, y];
  }
  if (a.type === 'bool' && isNum(b)) return [`toInt32(${a.sql})`, b.sql];
  if (b.type === 'bool' && isNum(a)) return [a.sql, `toInt32(${b.sql})`];
  if (a.type === 'guid' && b.type === 'string') return [`toString(${a.sql})`, `lower(${b.sql})`];
  if (b.type === 'guid' && a.type === 'string') return [`lower(${a.sql})`, `toString(${b.sql})`];
  if (a.type === 'string' && b.type !== 'string' && b.type !== 'unknown') return [a.sql, asString(b)];
  if (b.type === 'string' && a.type !== 'string' && a.type !== 'unknown') return [asString(a), b.sql];
  return [a.sql, b.sql];
}

function compare(op: string): Template {
  return (args, ctx) => {
    const [x, y] = comparable(arg(args, 0, ctx), arg(args, 1, ctx));
    return `(${x} ${op} ${y})`;
  };
}

/** A value that is never null: a non-null literal, or a string (KQL strings are never null). */
function neverNull(a: SqlArg): boolean {
  return (a.literal !== undefined && a.literal.value !== null) || a.type === 'string';
}

/**
 * `==`: null == null is null; null == value is false (Kusto; `toint("x") == 0` is false, so `not(x == 1)` keeps a
 * null x). `!=`: null != null is null; null != value is true. Plain forms where a side cannot be null.
 */
const equal: Template = (args, ctx) => {
  const [a0, b0] = [arg(args, 0, ctx), arg(args, 1, ctx)];
  const [x, y] = comparable(a0, b0);
  if (neverNull(a0) && neverNull(b0)) return `(${x} = ${y})`;
  if (neverNull(a0) || neverNull(b0)) return `ifNull(${x} = ${y}, false)`;
  return withValue(x, (p) =>
    withValue(y, (q) => `multiIf(${p} IS NULL AND ${q} IS NULL, NULL, ifNull(${p} = ${q}, false))`),
  );
};

const notEqual: Template = (args, ctx) => {
  const [a0, b0] = [arg(args, 0, ctx), arg(args, 1, ctx)];
  const [x, y] = comparable(a0, b0);
  if (neverNull(a0) && neverNull(b0)) return `(${x} != ${y})`;
  if (neverNull(a0) || neverNull(b0)) return `(${x} IS DISTINCT FROM ${y})`;
  return withValue(x, (p) =>
    withValue(y, (q) => `multiIf(${p} IS NULL AND ${q} IS NULL, NULL, ${p} IS DISTINCT FROM ${q})`),
  );
};

// ───────────────────────────── terms (has) ─────────────────────────────

const TERM_CHAR = '[0-9A-Za-z]';
const NOT_TERM = '[^0-9A-Za-z]';

/**
 * The regex of a term match: the term bounded by non-term characters (or the text's ends) where asked, and only at an
 * edge that is a term character (`"ab-enc" has "-enc"`: the term there is "enc", after a '-'), as DuckDB's dialect.
 */
function termPattern(term: string, start: boolean, end: boolean): string {
  const left = start && new RegExp(`^${TERM_CHAR}`).test(term) ? `(?:^|${NOT_TERM})` : '';
  const right = end && new RegExp(`${TERM_CHAR}$`).test(term) ? `(?:$|${NOT_TERM})` : '';
  return `${left}${regexEscape(term)}${right}`;
}

/** A term match of a literal term; `cs` is case-sensitive. */
function termMatch(hay: string, term: string, cs: boolean, start: boolean, end: boolean): string {
  if (term === '') return 'true';
  // hasToken's tokens are runs of ASCII alphanumerics, like Kusto's terms; it also uses the token index.
  if (start && end && new RegExp(`^${TERM_CHAR}+$`).test(term)) {
    return `${cs ? 'hasToken' : 'hasTokenCaseInsensitive'}(${hay}, ${sqlString(term)})`;
  }
  // A substring prefilter keeps the regex off rows that cannot match.
  // (positionCaseInsensitive folds ASCII only: a term with other letters needs the UTF-8 form.)
  const pre = cs
    ? `position(${hay}, ${sqlString(term)}) > 0`
    : `positionCaseInsensitive${isAscii(term) ? '' : 'UTF8'}(${hay}, ${sqlString(term)}) > 0`;
  return `(${pre} AND match(${hay}, ${sqlString(`${cs ? '' : '(?i)'}${termPattern(term, start, end)}`)}))`;
}

/** Only ASCII characters (positionCaseInsensitive folds ASCII letters only). */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** multiSearchAny* takes at most 255 needles. */
const MULTI_SEARCH_MAX = 255;

/**
 * Any of several literal terms, case-insensitive: one substring scan for all terms, then one alternation regex with
 * each term's boundaries (DuckDB's form) instead of a scan and a regex per term. Same rows as OR-ing `termMatch` per
 * term: a term of ASCII alphanumerics matches as a token exactly where `hasTokenCaseInsensitive` finds it.
 */
function anyTermMatch(hay: string, terms: readonly string[]): string {
  const needles = `[${terms.map(sqlString).join(', ')}]`;
  const pre = `multiSearchAnyCaseInsensitive${terms.every(isAscii) ? '' : 'UTF8'}(${hay}, ${needles})`;
  const pattern = `(?i)(?:${terms.map((t) => termPattern(t, true, true)).join('|')})`;
  return `(${pre} AND match(${hay}, ${sqlString(pattern)}))`;
}

/** A term match of a computed term (its regex is built at run time from the escaped term). */
function runtimeTermMatch(hay: string, term: string, cs: boolean, start: boolean, end: boolean): string {
  return withValue(term, (t) => {
    const escaped = `replaceRegexpAll(${t}, ${sqlString('[\\\\^$.*+?()\\[\\]{}|]')}, ${sqlString('\\\\\\0')})`;
    const flags = sqlString(cs ? '' : '(?i)');
    const edge = (atEdge: string, bound: string) => `if(match(${t}, ${sqlString(atEdge)}), ${sqlString(bound)}, '')`;
    const head = start ? `concat(${flags}, ${edge(`^${TERM_CHAR}`, `(?:^|${NOT_TERM})`)})` : flags;
    const tail = end ? edge(`${TERM_CHAR}$`, `(?:$|${NOT_TERM})`) : "''";
    return `(${t} = '' OR match(${hay}, concat(${head}, ${escaped}, ${tail})))`;
  });
}

function has(cs: boolean, start: boolean, end: boolean, negate: boolean): Template {
  return (args, ctx) => {
    const hay = asString(arg(args, 0, ctx));
    const needle = arg(args, 1, ctx);
    const lit = literalString(needle);
    const test =
      lit !== null ? termMatch(hay, lit, cs, start, end) : runtimeTermMatch(hay, asString(needle), cs, start, end);
    return negate ? `NOT ${test}` : test;
  };
}

// ───────────────────────────── substrings ─────────────────────────────

function stringTest(kind: 'contains' | 'startswith' | 'endswith', cs: boolean, negate: boolean): Template {
  return (args, ctx) => {
    const a = asString(arg(args, 0, ctx));
    const b = asString(arg(args, 1, ctx));
    let test: string;
    if (kind === 'contains') test = cs ? `(position(${a}, ${b}) > 0)` : `(positionCaseInsensitiveUTF8(${a}, ${b}) > 0)`;
    else {
      const fn = kind === 'startswith' ? 'startsWith' : 'endsWith';
      test = cs ? `${fn}(${a}, ${b})` : `${fn}(lowerUTF8(${a}), lowerUTF8(${b}))`;
    }
    return negate ? `NOT ${test}` : test;
  };
}

function like(cs: boolean, negate: boolean): Template {
  return (args, ctx) => {
    const test = `${cs ? 'like' : 'ilike'}(${asString(arg(args, 0, ctx))}, ${asString(arg(args, 1, ctx))})`;
    return negate ? `NOT ${test}` : test;
  };
}

// ───────────────────────────── membership ─────────────────────────────

interface InList {
  readonly values: SqlArg[];
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
          values.push({ sql: `toFloat64(${x})`, type: Number.isInteger(x) ? 'long' : 'real', expr: a.expr });
        else if (typeof x === 'boolean') values.push({ sql: x ? 'true' : 'false', type: 'bool', expr: a.expr });
      }
    } else if (a.type === 'dynamic' && !a.literal) arrays.push(a);
    else values.push(a);
  }
  return { values, arrays };
}

/** The elements of a dynamic (JSON text) array as strings. */
export function jsonArrayStrings(sql: string): string {
  return `arrayMap(__e -> if(JSONType(__e) = 'String', JSONExtractString(__e), __e), JSONExtractArrayRaw(ifNull(${sql}, '[]')))`;
}

function inList(caseInsensitive: boolean, negate: boolean): Template {
  return (args, ctx) => {
    const value = arg(args, 0, ctx);
    const { values: items, arrays } = inValues(args.slice(1));
    if (items.length === 0 && arrays.length === 0) return negate ? 'true' : 'false';
    let v: string;
    let list: string[];
    let arrayOf: (a: string) => string;
    if (caseInsensitive) {
      v = `lowerUTF8(${asString(value)})`;
      list = items.map((i) => `lowerUTF8(${asString(i)})`);
      arrayOf = (a) => `arrayMap(__x -> lowerUTF8(__x), ${jsonArrayStrings(a)})`;
    } else if (value.type === 'string' || value.type === 'dynamic' || value.type === 'guid') {
      v = value.type === 'dynamic' ? dynamicToString(value.sql) : asString(value);
      list = items.map((i) => asString(i));
      arrayOf = jsonArrayStrings;
    } else if (isNum(value)) {
      v = `toFloat64(${value.sql})`;
      list = items.map((i) =>
        i.type === 'dynamic'
          ? dynamicToNumber(i.sql)
          : i.type === 'bool'
            ? `toFloat64(toInt32(${i.sql}))`
            : `toFloat64(${i.sql})`,
      );
      arrayOf = (a) => `arrayMap(__x -> toFloat64OrNull(__x), ${jsonArrayStrings(a)})`;
    } else {
      v = value.sql;
      list = items.map((i) => (i.type === 'dynamic' ? dynamicToString(i.sql) : i.sql));
      arrayOf = jsonArrayStrings;
    }
    const tests = [
      ...(list.length ? [`${v} IN (${list.join(', ')})`] : []),
      ...arrays.map((a) => `has(${arrayOf(a.sql)}, ${v})`),
    ];
    const test = tests.length === 1 ? (tests[0] as string) : `(${tests.join(' OR ')})`;
    return negate ? `NOT coalesce(${test}, false)` : `coalesce(${test}, false)`;
  };
}

function inSubquery(caseInsensitive: boolean, negate: boolean): Template {
  return (args, ctx) => {
    const value = arg(args, 0, ctx);
    const sub = arg(args, 1, ctx);
    const v = caseInsensitive
      ? `lowerUTF8(${asString(value)})`
      : value.type === 'dynamic'
        ? dynamicToString(value.sql)
        : value.sql;
    // The sub-select's one column has an unknown name: COLUMNS('.*') applies the conversion to it.
    let inner = sub.sql;
    const col = "COLUMNS('.*')";
    if (caseInsensitive) inner = `SELECT lowerUTF8(${asString({ ...sub, sql: col })}) FROM (${sub.sql})`;
    else if (sub.type === 'dynamic') inner = `SELECT ${dynamicToString(col)} FROM (${sub.sql})`;
    const test = `${v} IN (${inner})`;
    return negate ? `NOT coalesce(${test}, false)` : `coalesce(${test}, false)`;
  };
}

/** `has_any` / `has_all`: literal one-token terms use the token index; other terms a boundary regex. */
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
    if (!all && literalTerms.length > terms.length) return 'true';
    return withValue(hay, (h) => {
      const tests: string[] =
        !all && terms.length > 1 && terms.length <= MULTI_SEARCH_MAX
          ? [anyTermMatch(h, terms)]
          : terms.map((t) => termMatch(h, t, false, true, true));
      for (const c of computed) tests.push(runtimeTermMatch(h, c, false, true, true));
      for (const a of arrays) {
        const matched = `arrayMap(__t -> ${runtimeTermMatch(h, '__t', false, true, true)}, ${jsonArrayStrings(a.sql)})`;
        tests.push(all ? `arrayAll(__m -> __m, ${matched})` : `arrayExists(__m -> __m, ${matched})`);
      }
      if (tests.length === 0) return all ? 'true' : 'false';
      return `(${tests.join(all ? ' AND ' : ' OR ')})`;
    });
  };
}

function hasAnySubquery(all: boolean): Template {
  return (args, ctx) => {
    const hay = asString(arg(args, 0, ctx));
    const sub = arg(args, 1, ctx);
    const terms = `(SELECT groupArray(${asString({ ...sub, sql: "COLUMNS('.*')" })}) FROM (${sub.sql}))`;
    return withValue(hay, (h) => {
      const matched = `arrayMap(__t -> ${runtimeTermMatch(h, '__t', false, true, true)}, ${terms})`;
      return all ? `arrayAll(__m -> __m, ${matched})` : `arrayExists(__m -> __m, ${matched})`;
    });
  };
}

function between(negate: boolean): Template {
  return (args, ctx) => {
    const [x, lo] = comparable(arg(args, 0, ctx), arg(args, 1, ctx));
    const [, hi] = comparable(arg(args, 0, ctx), arg(args, 2, ctx));
    return withValue(x, (v) => `(${negate ? 'NOT ' : ''}(${v} >= ${lo} AND ${v} <= ${hi}))`);
  };
}

// ───────────────────────────── arithmetic ─────────────────────────────

function num(a: SqlArg): string {
  if (a.type === 'dynamic') return dynamicToNumber(a.sql);
  if (a.type === 'bool') return `toInt64(${a.sql})`;
  return a.sql;
}

function castTo(sql: string, type: ColumnType): string {
  switch (type) {
    case 'long':
      return `toInt64(${sql})`;
    case 'int':
      return `toInt32(${sql})`;
    case 'real':
      return `toFloat64(${sql})`;
    default:
      return sql;
  }
}

function addSub(op: '+' | '-'): Template {
  return (args, ctx) => {
    const a = arg(args, 0, ctx);
    const b = arg(args, 1, ctx);
    if (a.type === 'datetime' && b.type === 'datetime' && op === '-') {
      return `(${datetimeTicks(a.sql)} - ${datetimeTicks(b.sql)})`;
    }
    if (a.type === 'datetime' && (b.type === 'timespan' || isNum(b))) {
      return nullSafe(`(${datetimeTicks(a.sql)} ${op} ${b.sql})`, (t) => ticksToDatetime(t));
    }
    if (b.type === 'datetime' && a.type === 'timespan' && op === '+') {
      return nullSafe(`(${datetimeTicks(b.sql)} + ${a.sql})`, (t) => ticksToDatetime(t));
    }
    return castTo(`(${num(a)} ${op} ${num(b)})`, ctx.resultType);
  };
}

const ARITH: Readonly<Record<string, Template>> = {
  Add: addSub('+'),
  Subtract: addSub('-'),
  Multiply: (args, ctx) => {
    const a = arg(args, 0, ctx);
    const b = arg(args, 1, ctx);
    if (ctx.resultType === 'timespan') {
      const real = a.type === 'real' || b.type === 'real';
      return real ? `toInt64(round(${num(a)} * ${num(b)}))` : `(${num(a)} * ${num(b)})`;
    }
    return castTo(`(${num(a)} * ${num(b)})`, ctx.resultType);
  },
  Divide: (args, ctx) => {
    const a = arg(args, 0, ctx);
    const b = arg(args, 1, ctx);
    if (a.type === 'timespan' && b.type === 'timespan') return `(toFloat64(${a.sql}) / ${b.sql})`;
    if (a.type === 'timespan') {
      return isInteger(b)
        ? `if(${b.sql} = 0, NULL, intDiv(${a.sql}, if(${b.sql} = 0, 1, ${b.sql})))`
        : `toInt64OrNull(toString(round(${a.sql} / ${num(b)})))`;
    }
    if ((isInteger(a) || a.type === 'bool') && (isInteger(b) || b.type === 'bool')) {
      return withValue(
        num(b),
        (d) => `if(${d} = 0, NULL, ${castTo(`intDiv(${num(a)}, if(${d} = 0, 1, ${d}))`, ctx.resultType)})`,
      );
    }
    if (a.type === 'decimal' || b.type === 'decimal') {
      return withValue(num(b), (d) => `if(${d} = 0, NULL, ${num(a)} / ${d})`);
    }
    return `(toFloat64(${num(a)}) / ${num(b)})`;
  },
  Modulo: (args, ctx) => {
    const a = arg(args, 0, ctx);
    const b = arg(args, 1, ctx);
    if (a.type === 'real' || b.type === 'real') {
      return withValue(num(b), (d) => `if(${d} = 0, nan, positiveModulo(toFloat64(${num(a)}), toFloat64(abs(${d}))))`);
    }
    return withValue(
      num(b),
      (d) =>
        `if(${d} = 0, NULL, ${castTo(`positiveModulo(${num(a)}, if(${d} = 0, 1, toInt64(abs(${d}))))`, ctx.resultType)})`,
    );
  },
  UnaryMinus: (args, ctx) => `(-${num(arg(args, 0, ctx))})`,
  UnaryPlus: (args, ctx) => arg(args, 0, ctx).sql,
};

export const OPERATORS: Readonly<Record<string, Template>> = {
  And: (args, ctx) => `(${arg(args, 0, ctx).sql} AND ${arg(args, 1, ctx).sql})`,
  Or: (args, ctx) => `(${arg(args, 0, ctx).sql} OR ${arg(args, 1, ctx).sql})`,
  ...ARITH,
  Equal: equal,
  NotEqual: notEqual,
  LessThan: compare('<'),
  LessThanOrEqual: compare('<='),
  GreaterThan: compare('>'),
  GreaterThanOrEqual: compare('>='),
  EqualTilde: (args, ctx) => `(lowerUTF8(${asString(arg(args, 0, ctx))}) = lowerUTF8(${asString(arg(args, 1, ctx))}))`,
  BangTilde: (args, ctx) => `(lowerUTF8(${asString(arg(args, 0, ctx))}) != lowerUTF8(${asString(arg(args, 1, ctx))}))`,
  Has: has(false, true, true, false),
  NotHas: has(false, true, true, true),
  HasCs: has(true, true, true, false),
  NotHasCs: has(true, true, true, true),
  HasPrefix: has(false, true, false, false),
  NotHasPrefix: has(false, true, false, true),
  HasPrefixCs: has(true, true, false, false),
  NotHasPrefixCs: has(true, true, false, true),
  HasSuffix: has(false, false, true, false),
  NotHasSuffix: has(false, false, true, true),
  HasSuffixCs: has(true, false, true, false),
  NotHasSuffixCs: has(true, false, true, true),
  Contains: stringTest('contains', false, false),
  NotContains: stringTest('contains', false, true),
  ContainsCs: stringTest('contains', true, false),
  NotContainsCs: stringTest('contains', true, true),
  StartsWith: stringTest('startswith', false, false),
  NotStartsWith: stringTest('startswith', false, true),
  StartsWithCs: stringTest('startswith', true, false),
  NotStartsWithCs: stringTest('startswith', true, true),
  EndsWith: stringTest('endswith', false, false),
  NotEndsWith: stringTest('endswith', false, true),
  EndsWithCs: stringTest('endswith', true, false),
  NotEndsWithCs: stringTest('endswith', true, true),
  MatchRegex: (args, ctx) => `match(${asString(arg(args, 0, ctx))}, ${regexArg(arg(args, 1, ctx))})`,
  Like: like(false, false),
  NotLike: like(false, true),
  LikeCs: like(true, false),
  NotLikeCs: like(true, true),
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
