/**
 * Aggregates in ClickHouse. Conditional forms use the `-If` combinator; `make_list`/`make_set` build JSON arrays from
 * each value's JSON text (nulls skipped, as Kusto does); `arg_max`/`arg_min` return the whole struct (tuple) of the
 * row with the extreme value, so every element of `arg_max(x, *)` comes from the same row.
 */
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import { arg, asJson, literalNumber } from './base.js';
import { bagOfPairs } from './functions.js';

function cond(args: readonly SqlArg[], i: number, ctx: TemplateContext): string {
  return `coalesce(${arg(args, i, ctx).sql}, false)`;
}

/** A JSON array text from an array of JSON texts. */
const jsonArray = (arr: string) => `concat('[', arrayStringConcat(${arr}, ','), ']')`;

function limitOf(args: readonly SqlArg[], i: number, ctx: TemplateContext): string {
  const a = args[i];
  if (!a) return '';
  const n = literalNumber(a);
  if (n === null) return ctx.unsupported('a list size that is not a constant');
  return `(${Math.max(0, Math.trunc(n))})`;
}

/**
 * make_list / make_set: JSON texts of the values (nulls skipped); a dynamic array contributes its elements (as on
 * DuckDB); a set keeps the first occurrence of each value, in order.
 */
function makeList(distinct: boolean, ifAt: number | null, sizeAt: number): Template {
  return (args, ctx) => {
    const a = arg(args, 0, ctx);
    const size = limitOf(args, sizeAt, ctx);
    const c = ifAt === null ? null : cond(args, ifAt, ctx);
    let all: string;
    if (a.type === 'dynamic') {
      const v = a.sql;
      const items = `if(JSONType(ifNull(${v}, 'null')) = 'Array', JSONExtractArrayRaw(ifNull(${v}, '[]')), if(${v} IS NULL, [], [assumeNotNull(${v})]))`;
      all = c ? `groupArrayArrayIf(${items}, ${c})` : `groupArrayArray(${items})`;
    } else {
      const v = asJson(a);
      all = c ? `groupArrayIf(${v}, ${c})` : `groupArray(${v})`;
    }
    const list = distinct ? `arrayDistinct(${all})` : all;
    return jsonArray(size ? `arraySlice(${list}, 1, ${size.slice(1, -1)})` : list);
  };
}

function fraction(p: SqlArg, ctx: TemplateContext): string {
  const n = literalNumber(p);
  if (n === null) return ctx.unsupported('a percentile that is not a constant');
  return String(n / 100);
}

/**
 * Kusto's percentile is the nearest rank: the ceil(q·n)-th smallest value. quantileExact(q) takes the
 * (floor(q·n) + 1)-th, the same except where q·n is a whole number: a level a hair lower gives the rank exactly.
 */
function nearestRank(q: string, x: string): string {
  const level = Math.max(0, Number(q) - 1e-9);
  return `quantileExact(${level})(${x})`;
}

/** An aggregate call, with the `-If` combinator when there is a condition. */
const agg = (fn: string, args: readonly string[], condition: string | null) =>
  condition === null ? `${fn}(${args.join(', ')})` : `${fn}If(${[...args, condition].join(', ')})`;

/** sum: 0 when there is no (non-null) value, as Kusto (ClickHouse's sum of a nullable column gives null). */
function sumOf(x: SqlArg, condition: string | null): string {
  if (x.type === 'real') return `ifNull(${agg('sum', [`toFloat64(${x.sql})`], condition)}, 0)`;
  if (x.type === 'int' || x.type === 'long' || x.type === 'timespan' || x.type === 'decimal') {
    return `ifNull(${agg('sum', [x.sql], condition)}, 0)`;
  }
  return agg('sum', [x.sql], condition);
}

/**
 * avg of numbers: NaN when there is no (non-null) value; for integers the (wrapping) integer sum over the count, as
 * Kusto.
 */
function avgOf(x: SqlArg, condition: string | null): string {
  if (x.type === 'int' || x.type === 'long') {
    const n = agg('count', [x.sql], condition);
    return `if(${n} = 0, nan, toFloat64(${agg('sum', [`toInt64(${x.sql})`], condition)}) / ${n})`;
  }
  if (x.type === 'real') return `ifNull(${agg('avg', [`toFloat64(${x.sql})`], condition)}, nan)`;
  return agg('avg', [x.sql], condition);
}

/** min/max; for reals a NaN wins, as in Kusto. */
function extreme(fn: 'min' | 'max', x: SqlArg, condition: string | null): string {
  const v = agg(fn, [x.sql], condition);
  if (x.type !== 'real') return v;
  const nan = agg('count', [`isNaN(${x.sql}) OR NULL`], condition);
  return `if(${nan} > 0, nan, ${v})`;
}

/**
 * stdev/variance (samples or population): 0 for a group with too few values (Kusto; ClickHouse gives NaN for a
 * sample of one), a NaN among the values still gives NaN.
 */
function stat(fn: 'stddevSamp' | 'stddevPop' | 'varSamp' | 'varPop', condAt: number | null): Template {
  return (args, ctx) => {
    const x = arg(args, 0, ctx);
    const c = condAt === null ? null : cond(args, condAt, ctx);
    const n = agg('count', [x.sql], c);
    const min = fn === 'stddevSamp' || fn === 'varSamp' ? 2 : 1;
    return `if(${n} < ${min}, 0, ifNull(${agg(fn, [`toFloat64(${x.sql})`], c)}, 0))`;
  };
}

const int64 = (sql: string) => `toInt64(${sql})`;

/** make_bag: the properties of all the group's bags (the first value of a key wins). */
function makeBag(args: readonly SqlArg[], ctx: TemplateContext, condition: string | null): string {
  const v = arg(args, 0, ctx).sql;
  const pairs = `if(JSONType(ifNull(${v}, 'null')) = 'Object', JSONExtractKeysAndValuesRaw(ifNull(${v}, '{}')), [])`;
  const all = condition ? `arrayFlatten(groupArrayIf(${pairs}, ${condition}))` : `arrayFlatten(groupArray(${pairs}))`;
  return bagOfPairs(all);
}

/** Kusto's covariances (samples or population) as Float64; a group of one value or none gives 0. */
function covariance(fn: 'covarSamp' | 'covarPop', condAt: number | null): Template {
  return (args, ctx) => {
    const [x, y] = [arg(args, 0, ctx).sql, arg(args, 1, ctx).sql];
    const call =
      condAt === null
        ? `${fn}(toFloat64(${x}), toFloat64(${y}))`
        : `${fn}If(toFloat64(${x}), toFloat64(${y}), ${cond(args, condAt, ctx)})`;
    return `if(isFinite(${call}), ${call}, 0)`;
  };
}

/** The percentiles of a `percentiles_array` call: numbers, or one dynamic array literal of numbers. */
function percentList(ps: readonly SqlArg[], ctx: TemplateContext): number[] {
  const out: number[] = [];
  for (const p of ps) {
    const v = p.literal?.value;
    if (Array.isArray(v)) {
      for (const x of v) {
        if (typeof x !== 'number') return ctx.unsupported('a percentile that is not a number');
        out.push(x);
      }
    } else {
      const n = literalNumber(p);
      if (n === null) return ctx.unsupported('a percentile that is not a constant');
      out.push(n);
    }
  }
  return out;
}

/**
 * Weighted nearest rank: the smallest value whose cumulative weight reaches p% of the total. `sorted` is an array
 * of (value, weight) tuples sorted by value.
 */
export function weightedRank(sorted: string, p: string): string {
  return `arrayElement(arrayMap(__s -> tupleElement(__s[arrayFirstIndex(__c -> __c >= (${p}) / 100.0 * arraySum(arrayMap(__z -> ifNull(__z.2, 0), __s)), arrayCumSum(arrayMap(__z -> ifNull(__z.2, 0), __s)))], 1), [${sorted}]), 1)`;
}

function weightedPairs(x: SqlArg, w: SqlArg): string {
  return `arraySort(groupArrayIf(tuple(${x.sql}, toFloat64(${w.sql})), ${x.sql} IS NOT NULL AND ${w.sql} > 0))`;
}

/** hll(): the distinct values (as JSON), an exact stand-in for Kusto's HyperLogLog sketch (as on DuckDB). */
function hll(condAt: number | null): Template {
  return (args, ctx) => {
    const v = asJson(arg(args, 0, ctx));
    return condAt === null
      ? jsonArray(`groupUniqArray(${v})`)
      : jsonArray(`groupUniqArrayIf(${v}, ${cond(args, condAt, ctx)})`);
  };
}

/** Merging sketches over rows: the union of their elements (distinct for hll). */
function mergeSketch(distinct: boolean): Template {
  return (args, ctx) => {
    const h = arg(args, 0, ctx).sql;
    const elems = `if(JSONType(ifNull(${h}, 'null')) = 'Array', JSONExtractArrayRaw(ifNull(${h}, '[]')), [])`;
    return jsonArray(distinct ? `groupUniqArrayArray(${elems})` : `groupArrayArray(${elems})`);
  };
}

export const AGGREGATES: Readonly<Record<string, Template>> = {
  count: (args) => (args[0] ? int64(`count(${args[0].sql})`) : int64('count()')),
  countif: (args, ctx) => int64(`countIf(${cond(args, 0, ctx)})`),
  dcount: (args, ctx) => int64(`uniq(${arg(args, 0, ctx).sql})`),
  dcountif: (args, ctx) => int64(`uniqIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`),
  count_distinct: (args, ctx) => int64(`uniqExact(${arg(args, 0, ctx).sql})`),
  count_distinctif: (args, ctx) => int64(`uniqExactIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`),
  sum: (args, ctx) => sumOf(arg(args, 0, ctx), null),
  sumif: (args, ctx) => sumOf(arg(args, 0, ctx), cond(args, 1, ctx)),
  avg: (args, ctx) => avgOf(arg(args, 0, ctx), null),
  avgif: (args, ctx) => avgOf(arg(args, 0, ctx), cond(args, 1, ctx)),
  min: (args, ctx) => extreme('min', arg(args, 0, ctx), null),
  max: (args, ctx) => extreme('max', arg(args, 0, ctx), null),
  minif: (args, ctx) => extreme('min', arg(args, 0, ctx), cond(args, 1, ctx)),
  maxif: (args, ctx) => extreme('max', arg(args, 0, ctx), cond(args, 1, ctx)),
  stdev: stat('stddevSamp', null),
  stdevif: stat('stddevSamp', 1),
  stdevp: stat('stddevPop', null),
  variance: stat('varSamp', null),
  varianceif: stat('varSamp', 1),
  variancep: stat('varPop', null),
  take_any: (args, ctx) => `any(${arg(args, 0, ctx).sql})`,
  any: (args, ctx) => `any(${arg(args, 0, ctx).sql})`,
  take_anyif: (args, ctx) => `anyIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`,
  anyif: (args, ctx) => `anyIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`,
  // A group whose `by` values are all null still returns a row's values (Kusto), hence the fallback to any().
  arg_max: (args, ctx) => {
    const by = arg(args, 0, ctx);
    const v = arg(args, 1, ctx).sql;
    // A NaN is the largest real (as DuckDB orders it, and Kusto's max).
    const key = by.type === 'real' ? `tuple(isNaN(${by.sql}), ${by.sql})` : by.sql;
    return `if(count(${by.sql}) > 0, argMax(${v}, ${key}), any(${v}))`;
  },
  arg_min: (args, ctx) => {
    const by = arg(args, 0, ctx).sql;
    const v = arg(args, 1, ctx).sql;
    return `if(count(${by}) > 0, argMin(${v}, ${by}), any(${v}))`;
  },
  make_list: makeList(false, null, 1),
  makelist: makeList(false, null, 1),
  make_list_if: makeList(false, 1, 2),
  make_set: makeList(true, null, 1),
  makeset: makeList(true, null, 1),
  make_set_if: makeList(true, 1, 2),
  make_bag: (args, ctx) => makeBag(args, ctx, null),
  make_bag_if: (args, ctx) => makeBag(args, ctx, cond(args, 1, ctx)),
  percentile: (args, ctx) => nearestRank(fraction(arg(args, 1, ctx), ctx), arg(args, 0, ctx).sql),
  variancepif: stat('varPop', 1),
  covariance: covariance('covarSamp', null),
  covarianceif: covariance('covarSamp', 2),
  covariancep: covariance('covarPop', null),
  covariancepif: covariance('covarPop', 2),
  make_list_with_nulls: (args, ctx) => jsonArray(`groupArray(ifNull(${asJson(arg(args, 0, ctx))}, 'null'))`),
  percentiles_array: (args, ctx) => {
    const x = arg(args, 0, ctx);
    const ps = percentList(args.slice(1), ctx);
    const values = ps.map((p) => `ifNull(${asJson({ ...x, sql: nearestRank(String(p / 100), x.sql) })}, 'null')`);
    return jsonArray(`[${values.join(', ')}]`);
  },
  percentilew: (args, ctx) => {
    const p = literalNumber(arg(args, 2, ctx));
    if (p === null) return ctx.unsupported('a percentile that is not a constant');
    return weightedRank(weightedPairs(arg(args, 0, ctx), arg(args, 1, ctx)), String(p));
  },
  percentilesw_array: (args, ctx) => {
    const x = arg(args, 0, ctx);
    const pairs = weightedPairs(x, arg(args, 1, ctx));
    const ps = percentList(args.slice(2), ctx);
    const values = ps.map((p) => `ifNull(${asJson({ ...x, sql: weightedRank(pairs, String(p)) })}, 'null')`);
    return jsonArray(`[${values.join(', ')}]`);
  },
  hll: hll(null),
  hll_if: hll(1),
  hll_merge: mergeSketch(true),
  // tdigest(): the [value, weight] pairs, an exact stand-in for Kusto's t-digest (as on DuckDB).
  tdigest: (args, ctx) => {
    const x = arg(args, 0, ctx);
    const w = args[1] ? `toFloat64(${args[1].sql})` : '1.0';
    return jsonArray(`groupArrayIf(concat('[', ${asJson(x)}, ',', toString(${w}), ']'), ${x.sql} IS NOT NULL)`);
  },
  tdigest_merge: mergeSketch(false),
  merge_tdigest: mergeSketch(false),
  binary_all_and: (args, ctx) => `groupBitAnd(${arg(args, 0, ctx).sql})`,
  binary_all_or: (args, ctx) => `groupBitOr(${arg(args, 0, ctx).sql})`,
  binary_all_xor: (args, ctx) => `groupBitXor(${arg(args, 0, ctx).sql})`,
};
