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

function makeList(fn: 'groupArray' | 'groupUniqArray', ifAt: number | null, sizeAt: number): Template {
  return (args, ctx) => {
    const v = asJson(arg(args, 0, ctx));
    const size = limitOf(args, sizeAt, ctx);
    if (ifAt === null) return jsonArray(`${fn}${size}(${v})`);
    return jsonArray(`${fn}If${size}(${v}, ${cond(args, ifAt, ctx)})`);
  };
}

function fraction(p: SqlArg, ctx: TemplateContext): string {
  const n = literalNumber(p);
  if (n === null) return ctx.unsupported('a percentile that is not a constant');
  return String(n / 100);
}

const int64 = (sql: string) => `toInt64(${sql})`;

/** make_bag: the properties of all the group's bags (the first value of a key wins). */
function makeBag(args: readonly SqlArg[], ctx: TemplateContext, condition: string | null): string {
  const v = arg(args, 0, ctx).sql;
  const pairs = `if(JSONType(ifNull(${v}, 'null')) = 'Object', JSONExtractKeysAndValuesRaw(ifNull(${v}, '{}')), [])`;
  const all = condition ? `arrayFlatten(groupArrayIf(${pairs}, ${condition}))` : `arrayFlatten(groupArray(${pairs}))`;
  return bagOfPairs(all);
}

export const AGGREGATES: Readonly<Record<string, Template>> = {
  count: (args) => (args[0] ? int64(`count(${args[0].sql})`) : int64('count()')),
  countif: (args, ctx) => int64(`countIf(${cond(args, 0, ctx)})`),
  dcount: (args, ctx) => int64(`uniq(${arg(args, 0, ctx).sql})`),
  dcountif: (args, ctx) => int64(`uniqIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`),
  count_distinct: (args, ctx) => int64(`uniqExact(${arg(args, 0, ctx).sql})`),
  count_distinctif: (args, ctx) => int64(`uniqExactIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`),
  sum: (args, ctx) => `sum(${arg(args, 0, ctx).sql})`,
  sumif: (args, ctx) => `sumIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`,
  avg: (args, ctx) => `avg(${arg(args, 0, ctx).sql})`,
  avgif: (args, ctx) => `avgIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`,
  min: (args, ctx) => `min(${arg(args, 0, ctx).sql})`,
  max: (args, ctx) => `max(${arg(args, 0, ctx).sql})`,
  minif: (args, ctx) => `minIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`,
  maxif: (args, ctx) => `maxIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`,
  stdev: (args, ctx) => `stddevSamp(${arg(args, 0, ctx).sql})`,
  stdevif: (args, ctx) => `stddevSampIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`,
  stdevp: (args, ctx) => `stddevPop(${arg(args, 0, ctx).sql})`,
  variance: (args, ctx) => `varSamp(${arg(args, 0, ctx).sql})`,
  varianceif: (args, ctx) => `varSampIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`,
  variancep: (args, ctx) => `varPop(${arg(args, 0, ctx).sql})`,
  take_any: (args, ctx) => `any(${arg(args, 0, ctx).sql})`,
  any: (args, ctx) => `any(${arg(args, 0, ctx).sql})`,
  take_anyif: (args, ctx) => `anyIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`,
  anyif: (args, ctx) => `anyIf(${arg(args, 0, ctx).sql}, ${cond(args, 1, ctx)})`,
  // A group whose `by` values are all null still returns a row's values (Kusto), hence the fallback to any().
  arg_max: (args, ctx) => {
    const by = arg(args, 0, ctx).sql;
    const v = arg(args, 1, ctx).sql;
    return `if(count(${by}) > 0, argMax(${v}, ${by}), any(${v}))`;
  },
  arg_min: (args, ctx) => {
    const by = arg(args, 0, ctx).sql;
    const v = arg(args, 1, ctx).sql;
    return `if(count(${by}) > 0, argMin(${v}, ${by}), any(${v}))`;
  },
  make_list: makeList('groupArray', null, 1),
  makelist: makeList('groupArray', null, 1),
  make_list_if: makeList('groupArray', 1, 2),
  make_set: makeList('groupUniqArray', null, 1),
  makeset: makeList('groupUniqArray', null, 1),
  make_set_if: makeList('groupUniqArray', 1, 2),
  make_bag: (args, ctx) => makeBag(args, ctx, null),
  make_bag_if: (args, ctx) => makeBag(args, ctx, cond(args, 1, ctx)),
  percentile: (args, ctx) => `quantileExactLow(${fraction(arg(args, 1, ctx), ctx)})(${arg(args, 0, ctx).sql})`,
  binary_all_and: (args, ctx) => `groupBitAnd(${arg(args, 0, ctx).sql})`,
  binary_all_or: (args, ctx) => `groupBitOr(${arg(args, 0, ctx).sql})`,
  binary_all_xor: (args, ctx) => `groupBitXor(${arg(args, 0, ctx).sql})`,
};
