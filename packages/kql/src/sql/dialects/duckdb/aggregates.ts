/**
 * KQL aggregates in DuckDB, with Kusto's results (checked against real Kusto outputs in the conformance fixtures):
 * - nulls are skipped; `count(x)` counts rows; `sum` of nothing is 0 and wraps around on long overflow; `avg` of
 *   nothing is NaN; `stdev`/`variance` of one value or nothing are 0; `min`/`max`/`avg` of reals with a NaN are NaN;
 * - percentiles use the nearest-rank method (the exact value Kusto's estimate gives on small inputs);
 *   `dcount`/`hll` are exact;
 * - make_list/make_set follow the input order when it is known (`ctx.withinOrder`), skip nulls (except for dynamic
 *   values), and expand dynamic arrays into their elements; make_set keeps the first occurrence of each value;
 *   make_bag merges bags, the first value of a key winning;
 * - arg_max/arg_min/take_any receive, for `(x, *)` forms, a struct of all the row's values (see generate.ts) and read
 *   one row; ties go to the first row of a known order, and when every `by` value is null the first row is used.
 *
 * Sketches are exact sets in this engine: `hll()` is the JSON array of distinct values (so `dcount_hll` is its
 * length) and `tdigest()` the JSON array of `[value, weight]` pairs (so `percentile_tdigest` is a weighted nearest
 * rank); the scalar functions over them are in functions-sketches.ts.
 */
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import { arg, asJson, decimalText, literalNumber } from './base.js';

const ord = (ctx: TemplateContext): string => (ctx.withinOrder ? ` ORDER BY ${ctx.withinOrder}` : '');

/** A filter clause for the `*if` variants. */
const where = (cond: SqlArg | undefined): string => (cond ? ` FILTER (WHERE ${cond.sql})` : '');

/** A value as JSON, with NaN and ±Infinity as the strings Kusto writes for them. */
export function jsonValue(a: SqlArg): string {
  if (a.type === 'real') {
    return `(CASE WHEN isnan(${a.sql}) THEN '"NaN"'::JSON WHEN ${a.sql} = 'Infinity'::DOUBLE THEN '"Infinity"'::JSON WHEN ${a.sql} = '-Infinity'::DOUBLE THEN '"-Infinity"'::JSON ELSE to_json(${a.sql}) END)`;
  }
  // Kusto keeps decimals in dynamic values as their text.
  if (a.type === 'decimal') return `to_json(${decimalText(a.sql)})`;
  return asJson(a);
}

/** The values of a list aggregate: dynamic arrays contribute their elements (as Kusto's make_list/make_set). */
function listOf(a: SqlArg, ctx: TemplateContext, cond: SqlArg | undefined, keepNulls: boolean): string {
  if (a.type === 'dynamic') {
    const items = `CASE WHEN json_type(${a.sql}) = 'ARRAY' THEN json_extract(${a.sql}, '$[*]') ELSE [${a.sql}] END`;
    return `flatten(list(${items}${ord(ctx)})${where(cond)})`;
  }
  const f = [...(cond ? [cond.sql] : []), ...(keepNulls ? [] : [`${a.sql} IS NOT NULL`])];
  return `list(${jsonValue(a)}${ord(ctx)})${f.length ? ` FILTER (WHERE ${f.join(' AND ')})` : ''}`;
}

/** At most `max` elements (make_list's and make_set's optional size limit). */
function limited(list: string, max: SqlArg | undefined): string {
  return max ? `list_slice(${list}, 1, CAST(${max.sql} AS BIGINT))` : list;
}

/** Distinct elements in order of first occurrence (list_distinct does not keep order; beyond 5000 it is used). */
function distinctInOrder(list: string): string {
  return `(list_transform([${list}], __l -> CASE WHEN len(__l) > 5000 THEN list_distinct(__l) ELSE list_filter(__l, (__x, __i) -> list_position(__l, __x) = __i) END))[1]`;
}

const jsonArray = (list: string): string => `COALESCE(to_json(${list}), '[]'::JSON)`;

const makeList =
  (condArg: number | null, maxArg: number, keepNulls = false): Template =>
  (args, ctx) => {
    const x = arg(args, 0, ctx);
    const cond = condArg === null ? undefined : arg(args, condArg, ctx);
    return jsonArray(limited(listOf(x, ctx, cond, keepNulls), args[maxArg]));
  };

const makeSet =
  (condArg: number | null, maxArg: number): Template =>
  (args, ctx) => {
    const x = arg(args, 0, ctx);
    const cond = condArg === null ? undefined : arg(args, condArg, ctx);
    const list = listOf(x, ctx, cond, false);
    return jsonArray(limited(distinctInOrder(`list_filter(${list}, __e -> __e IS NOT NULL)`), args[maxArg]));
  };

/** make_bag: the entries of every bag, the first value of each key kept. */
const makeBag =
  (condArg: number | null, maxArg: number): Template =>
  (args, ctx) => {
    const b = arg(args, 0, ctx);
    const cond = condArg === null ? undefined : arg(args, condArg, ctx);
    const filter = [`json_type(${b.sql}) = 'OBJECT'`, ...(cond ? [cond.sql] : [])].join(' AND ');
    const entries = `flatten(list(map_entries(TRY_CAST(${b.sql} AS MAP(VARCHAR, JSON)))${ord(ctx)}) FILTER (WHERE ${filter}))`;
    const firsts = `(list_transform([${entries}], __l -> list_filter(__l, (__e, __i) -> list_position(list_transform(__l, __z -> __z.key), __e.key) = __i)))[1]`;
    return `COALESCE(to_json(map_from_entries(${limited(firsts, args[maxArg])})), '{}'::JSON)`;
  };

const I64 = '9223372036854775808';
const U64 = '18446744073709551616';

/** A sum of integers wrapped to 64 bits, as Kusto's long arithmetic overflows. */
function wrappedSum(v: string, filter: string): string {
  return `CAST(((COALESCE(sum(CAST(${v} AS HUGEINT))${filter}, 0) + ${I64}) % ${U64} + ${U64}) % ${U64} - ${I64} AS BIGINT)`;
}

function sumOf(x: SqlArg, filter: string): string {
  switch (x.type) {
    case 'int':
    case 'long':
    case 'timespan':
      return wrappedSum(x.sql, filter);
    case 'decimal':
      return `COALESCE(sum(${x.sql})${filter}, 0)`;
    default:
      return `COALESCE(sum(CAST(${x.sql} AS DOUBLE))${filter}, 0)`;
  }
}

function avgOf(x: SqlArg, filter: string): string {
  switch (x.type) {
    case 'int':
    case 'long':
      return `CASE WHEN count(${x.sql})${filter} = 0 THEN 'NaN'::DOUBLE ELSE CAST(${wrappedSum(x.sql, filter)} AS DOUBLE) / count(${x.sql})${filter} END`;
    case 'timespan':
      return `CAST(avg(${x.sql})${filter} AS BIGINT)`;
    case 'datetime':
      return `make_timestamp(CAST(avg(epoch_us(${x.sql}))${filter} AS BIGINT))`;
    default:
      return `COALESCE(avg(CAST(${x.sql} AS DOUBLE))${filter}, 'NaN'::DOUBLE)`;
  }
}

/** min/max; for reals a NaN wins, as in Kusto. */
function extreme(fn: 'min' | 'max', x: SqlArg, filter: string): string {
  if (x.type === 'real') {
    return `CASE WHEN bool_or(isnan(${x.sql}))${filter} THEN 'NaN'::DOUBLE ELSE ${fn}(${x.sql})${filter} END`;
  }
  return `${fn}(${x.sql})${filter}`;
}

const ifArg = (args: readonly SqlArg[], i: number, ctx: TemplateContext): string => where(arg(args, i, ctx));

/** Statistics of one value or nothing are 0 in Kusto. */
const stat =
  (fn: string, condArg: number | null): Template =>
  (args, ctx) => {
    const x = arg(args, 0, ctx);
    const filter = condArg === null ? '' : ifArg(args, condArg, ctx);
    return `COALESCE(${fn}(CAST(${x.sql} AS DOUBLE))${filter}, 0)`;
  };

const covariance =
  (fn: string, condArg: number | null): Template =>
  (args, ctx) => {
    const filter = condArg === null ? '' : ifArg(args, condArg, ctx);
    return `COALESCE(${fn}(CAST(${arg(args, 0, ctx).sql} AS DOUBLE), CAST(${arg(args, 1, ctx).sql} AS DOUBLE))${filter}, 0)`;
  };

/** arg_max/arg_min: the row with the extreme `by`; ties to the first row; all-null `by` gives the first row. */
function argExtreme(fn: 'arg_max' | 'arg_min'): Template {
  return (args, ctx) => {
    const by = arg(args, 0, ctx);
    const value = arg(args, 1, ctx);
    return `COALESCE(${fn}(${value.sql}, ${by.sql}${ord(ctx)}), first(${value.sql}${ord(ctx)}))`;
  };
}

/** A percentile as a constant fraction (DuckDB needs constant quantiles). */
function fraction(p: SqlArg, ctx: TemplateContext): string {
  const n = literalNumber(p);
  if (n === null) return ctx.unsupported('a percentile that is not a constant');
  return String(n / 100);
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
 * Weighted nearest rank: the smallest value whose cumulative weight reaches p% of the total. `pairs` is a list of
 * `{v, w}` structs.
 */
function weightedRank(pairs: string, p: string): string {
  return `(list_transform([list_sort(${pairs})], __s -> list_filter(__s, (__e, __i) -> list_sum(list_transform(__s[1:__i], __z -> __z.w)) >= ${p} / 100.0 * list_sum(list_transform(__s, __z -> __z.w)))[1].v))[1]`;
}

function weightedPairs(x: SqlArg, w: SqlArg, ctx: TemplateContext): string {
  return `list({'v': ${x.sql}, 'w': CAST(${w.sql} AS DOUBLE)}${ord(ctx)}) FILTER (WHERE ${x.sql} IS NOT NULL AND ${w.sql} > 0)`;
}

/** hll(): the distinct values (as JSON), an exact stand-in for Kusto's HyperLogLog sketch. */
const hll =
  (condArg: number | null): Template =>
  (args, ctx) => {
    const x = arg(args, 0, ctx);
    const filter = [`${x.sql} IS NOT NULL`, ...(condArg === null ? [] : [arg(args, condArg, ctx).sql])].join(' AND ');
    return jsonArray(`list(DISTINCT ${jsonValue(x)}) FILTER (WHERE ${filter})`);
  };

/** tdigest(): the `[value, weight]` pairs, an exact stand-in for Kusto's t-digest. */
const tdigest: Template = (args, ctx) => {
  const x = arg(args, 0, ctx);
  const w = args[1] ? `CAST(${args[1].sql} AS DOUBLE)` : '1.0';
  return jsonArray(`list(to_json([${jsonValue(x)}, to_json(${w})])) FILTER (WHERE ${x.sql} IS NOT NULL)`);
};

/** Merging sketches: the union of their elements (distinct for hll). */
const mergeSketch =
  (distinct: boolean): Template =>
  (args, ctx) => {
    const h = arg(args, 0, ctx);
    const all = `flatten(list(json_extract(${h.sql}, '$[*]')) FILTER (WHERE json_type(${h.sql}) = 'ARRAY'))`;
    return jsonArray(distinct ? `list_distinct(${all})` : all);
  };

/**
 * buildschema(): DuckDB's merged JSON structure of the values, in Kusto's vocabulary — `int`, `long`, `double`,
 * `string`, `bool`, bags as objects, arrays as `{"indexer": ...}`. Where values disagree on a type, DuckDB merges
 * to JSON and Kusto lists the types (`["int","string"]`): that case reads `dynamic` here.
 */
function buildSchema(x: SqlArg): string {
  let s = `CAST(json_group_structure(${x.type === 'dynamic' ? x.sql : asJson(x)}) AS VARCHAR)`;
  const names: [string, string][] = [
    ['UBIGINT', 'int'],
    ['BIGINT', 'int'],
    ['HUGEINT', 'long'],
    ['UHUGEINT', 'long'],
    ['DOUBLE', 'double'],
    ['VARCHAR', 'string'],
    ['BOOLEAN', 'bool'],
    ['JSON', 'dynamic'],
    ['NULL', 'dynamic'],
  ];
  for (const [from, to] of names) s = `replace(${s}, '"${from}"', '"${to}"')`;
  // Arrays, innermost first (a few levels): [X] → {"indexer":X}.
  for (let i = 0; i < 4; i++) s = `regexp_replace(${s}, '\\[([^\\[\\]]*)\\]', '{"indexer":\\1}', 'g')`;
  return `CAST(${s} AS JSON)`;
}

export const AGGREGATES: Readonly<Record<string, Template>> = {
  count: () => 'count(*)',
  countif: (args, ctx) => `count(*)${ifArg(args, 0, ctx)}`,
  dcount: (args, ctx) => `count(DISTINCT ${arg(args, 0, ctx).sql})`,
  dcountif: (args, ctx) => `count(DISTINCT ${arg(args, 0, ctx).sql})${ifArg(args, 1, ctx)}`,
  count_distinct: (args, ctx) => `count(DISTINCT ${arg(args, 0, ctx).sql})`,
  count_distinctif: (args, ctx) => `count(DISTINCT ${arg(args, 0, ctx).sql})${ifArg(args, 1, ctx)}`,
  sum: (args, ctx) => sumOf(arg(args, 0, ctx), ''),
  sumif: (args, ctx) => sumOf(arg(args, 0, ctx), ifArg(args, 1, ctx)),
  avg: (args, ctx) => avgOf(arg(args, 0, ctx), ''),
  avgif: (args, ctx) => avgOf(arg(args, 0, ctx), ifArg(args, 1, ctx)),
  min: (args, ctx) => extreme('min', arg(args, 0, ctx), ''),
  max: (args, ctx) => extreme('max', arg(args, 0, ctx), ''),
  minif: (args, ctx) => extreme('min', arg(args, 0, ctx), ifArg(args, 1, ctx)),
  maxif: (args, ctx) => extreme('max', arg(args, 0, ctx), ifArg(args, 1, ctx)),
  stdev: stat('stddev_samp', null),
  stdevif: stat('stddev_samp', 1),
  stdevp: stat('stddev_pop', null),
  variance: stat('var_samp', null),
  varianceif: stat('var_samp', 1),
  variancep: stat('var_pop', null),
  variancepif: stat('var_pop', 1),
  covariance: covariance('covar_samp', null),
  covarianceif: covariance('covar_samp', 2),
  covariancep: covariance('covar_pop', null),
  covariancepif: covariance('covar_pop', 2),
  take_any: (args, ctx) => `any_value(${arg(args, 0, ctx).sql}${ord(ctx)})`,
  any: (args, ctx) => `any_value(${arg(args, 0, ctx).sql}${ord(ctx)})`,
  take_anyif: (args, ctx) => `any_value(${arg(args, 0, ctx).sql}${ord(ctx)})${ifArg(args, 1, ctx)}`,
  anyif: (args, ctx) => `any_value(${arg(args, 0, ctx).sql}${ord(ctx)})${ifArg(args, 1, ctx)}`,
  arg_max: argExtreme('arg_max'),
  arg_min: argExtreme('arg_min'),
  make_list: makeList(null, 1),
  make_list_if: makeList(1, 2),
  make_list_with_nulls: makeList(null, 1, true),
  make_set: makeSet(null, 1),
  make_set_if: makeSet(1, 2),
  make_bag: makeBag(null, 1),
  make_bag_if: makeBag(1, 2),
  percentile: (args, ctx) => `quantile_disc(${arg(args, 0, ctx).sql}, ${fraction(arg(args, 1, ctx), ctx)})`,
  percentiles_array: (args, ctx) => {
    const x = arg(args, 0, ctx);
    const ps = percentList(args.slice(1), ctx);
    const values = ps.map((p) => jsonValue({ ...x, sql: `quantile_disc(${x.sql}, ${p / 100})` }));
    return `to_json([${values.join(', ')}])`;
  },
  percentilew: (args, ctx) => {
    const pairs = weightedPairs(arg(args, 0, ctx), arg(args, 1, ctx), ctx);
    const p = literalNumber(arg(args, 2, ctx));
    if (p === null) return ctx.unsupported('a percentile that is not a constant');
    return weightedRank(pairs, String(p));
  },
  percentilesw_array: (args, ctx) => {
    const x = arg(args, 0, ctx);
    const pairs = weightedPairs(x, arg(args, 1, ctx), ctx);
    const ps = percentList(args.slice(2), ctx);
    return `to_json([${ps.map((p) => jsonValue({ ...x, sql: weightedRank(pairs, String(p)) })).join(', ')}])`;
  },
  binary_all_and: (args, ctx) => `bit_and(${arg(args, 0, ctx).sql})`,
  binary_all_or: (args, ctx) => `bit_or(${arg(args, 0, ctx).sql})`,
  binary_all_xor: (args, ctx) => `bit_xor(${arg(args, 0, ctx).sql})`,
  hll: hll(null),
  hll_if: hll(1),
  hll_merge: mergeSketch(true),
  tdigest,
  tdigest_merge: mergeSketch(false),
  merge_tdigest: mergeSketch(false),
  buildschema: (args, ctx) => buildSchema(arg(args, 0, ctx)),
  __string_agg: (args, ctx) => `string_agg(${arg(args, 0, ctx).sql}, ',')`,
};
