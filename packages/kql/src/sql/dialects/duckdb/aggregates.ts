/**
 * KQL aggregates in DuckDB. Nulls are skipped (as in SQL); `count()` counts rows; `dcount` is exact
 * (`count(DISTINCT)`), which Kusto's estimate equals on small inputs; dynamic results (make_set, make_list,
 * make_bag) are JSON; elements of one multi-column aggregate (`arg_max(x, *)`) are read from one struct so that
 * they come from the same row.
 */
import type { SqlArg, Template } from '../../dialect.js';
import { arg, asJson, asString } from './base.js';

/** An optional `maxSize` argument of make_set/make_list. */
function limitList(list: string, max: SqlArg | undefined): string {
  return max ? `list_slice(${list}, 1, CAST(${max.sql} AS BIGINT))` : list;
}

const sumLike =
  (fn: string): Template =>
  (args, ctx) => {
    const a = arg(args, 0, ctx);
    const v = a.type === 'int' ? `CAST(${a.sql} AS BIGINT)` : a.sql;
    if (a.type === 'timespan') return `CAST(${fn}(${v}) AS BIGINT)`;
    return `${fn}(${v})`;
  };

function argExtreme(fn: 'arg_max' | 'arg_min'): Template {
  return (args, ctx) => {
    const by = arg(args, 0, ctx);
    const value = arg(args, 1, ctx);
    return `${fn}(${value.sql}, ${by.sql})`;
  };
}

export const AGGREGATES: Readonly<Record<string, Template>> = {
  count: (args) => (args[0] ? `count(${args[0].sql})` : 'count(*)'),
  countif: (args, ctx) => `count(*) FILTER (WHERE ${arg(args, 0, ctx).sql})`,
  dcount: (args, ctx) => `count(DISTINCT ${arg(args, 0, ctx).sql})`,
  dcountif: (args, ctx) => `count(DISTINCT ${arg(args, 0, ctx).sql}) FILTER (WHERE ${arg(args, 1, ctx).sql})`,
  count_distinct: (args, ctx) => `count(DISTINCT ${arg(args, 0, ctx).sql})`,
  count_distinctif: (args, ctx) => `count(DISTINCT ${arg(args, 0, ctx).sql}) FILTER (WHERE ${arg(args, 1, ctx).sql})`,
  sum: sumLike('sum'),
  sumif: (args, ctx) => `${sumLike('sum')(args, ctx)} FILTER (WHERE ${arg(args, 1, ctx).sql})`,
  avg: (args, ctx) => `avg(${arg(args, 0, ctx).sql})`,
  avgif: (args, ctx) => `avg(${arg(args, 0, ctx).sql}) FILTER (WHERE ${arg(args, 1, ctx).sql})`,
  min: (args, ctx) => `min(${arg(args, 0, ctx).sql})`,
  max: (args, ctx) => `max(${arg(args, 0, ctx).sql})`,
  minif: (args, ctx) => `min(${arg(args, 0, ctx).sql}) FILTER (WHERE ${arg(args, 1, ctx).sql})`,
  maxif: (args, ctx) => `max(${arg(args, 0, ctx).sql}) FILTER (WHERE ${arg(args, 1, ctx).sql})`,
  stdev: (args, ctx) => `stddev_samp(${arg(args, 0, ctx).sql})`,
  stdevif: (args, ctx) => `stddev_samp(${arg(args, 0, ctx).sql}) FILTER (WHERE ${arg(args, 1, ctx).sql})`,
  stdevp: (args, ctx) => `stddev_pop(${arg(args, 0, ctx).sql})`,
  variance: (args, ctx) => `var_samp(${arg(args, 0, ctx).sql})`,
  varianceif: (args, ctx) => `var_samp(${arg(args, 0, ctx).sql}) FILTER (WHERE ${arg(args, 1, ctx).sql})`,
  variancep: (args, ctx) => `var_pop(${arg(args, 0, ctx).sql})`,
  take_any: (args, ctx) => `any_value(${arg(args, 0, ctx).sql})`,
  any: (args, ctx) => `any_value(${arg(args, 0, ctx).sql})`,
  take_anyif: (args, ctx) => `any_value(${arg(args, 0, ctx).sql}) FILTER (WHERE ${arg(args, 1, ctx).sql})`,
  arg_max: argExtreme('arg_max'),
  arg_min: argExtreme('arg_min'),
  make_set: (args, ctx) =>
    `COALESCE(to_json(${limitList(`list_distinct(list(${asJson(arg(args, 0, ctx))}))`, args[1])}), CAST('[]' AS JSON))`,
  make_set_if: (args, ctx) =>
    `COALESCE(to_json(${limitList(`list_distinct(list(${asJson(arg(args, 0, ctx))}) FILTER (WHERE ${arg(args, 1, ctx).sql}))`, args[2])}), CAST('[]' AS JSON))`,
  make_list: (args, ctx) =>
    `COALESCE(to_json(${limitList(`list(${asJson(arg(args, 0, ctx))})`, args[1])}), CAST('[]' AS JSON))`,
  make_list_if: (args, ctx) =>
    `COALESCE(to_json(${limitList(`list(${asJson(arg(args, 0, ctx))}) FILTER (WHERE ${arg(args, 1, ctx).sql})`, args[2])}), CAST('[]' AS JSON))`,
  make_list_with_nulls: (args, ctx) => `COALESCE(to_json(list(${asJson(arg(args, 0, ctx))})), CAST('[]' AS JSON))`,
  make_bag: (args, ctx) => {
    const a = arg(args, 0, ctx);
    return `COALESCE((SELECT json_group_object(k, v) FROM (SELECT unnest(json_keys(b)) AS k, b FROM unnest(list(${a.sql})) AS t(b)) AS u(k, b) CROSS JOIN LATERAL (SELECT json_extract(b, '$."' || k || '"') AS v)), CAST('{}' AS JSON))`;
  },
  percentile: (args, ctx) => `quantile_disc(${arg(args, 0, ctx).sql}, ${arg(args, 1, ctx).sql} / 100.0)`,
  percentiles_array: (args, ctx) =>
    `to_json(quantile_disc(${arg(args, 0, ctx).sql}, [${args
      .slice(1)
      .map((p) => `${p.sql} / 100.0`)
      .join(', ')}]))`,
  binary_all_and: (args, ctx) => `bit_and(${arg(args, 0, ctx).sql})`,
  binary_all_or: (args, ctx) => `bit_or(${arg(args, 0, ctx).sql})`,
  binary_all_xor: (args, ctx) => `bit_xor(${arg(args, 0, ctx).sql})`,
  buildschema: (_args, ctx) => ctx.unsupported('buildschema()'),
  __string_agg: (args, ctx) => `string_agg(${asString(arg(args, 0, ctx))}, ',')`,
};
