/**
 * Scalar functions over the sketches of aggregates.ts: an `hll()` value is the JSON array of distinct values, a
 * `tdigest()` value the JSON array of `[value, weight]` pairs (exact stand-ins for Kusto's estimators, which give
 * the same answers on the data sizes where they are exact).
 */
import type { ColumnType } from '../../../binder/types.js';
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import { arg, DUCKDB_TYPES, literalNumber } from './base.js';

/** The `{v, w}` pairs of a t-digest value, sorted by value (numbers as DOUBLE, others as text). */
function pairs(t: string, numeric: boolean): string {
  const v = numeric ? `TRY_CAST(__p->>'$[0]' AS DOUBLE)` : `__p->>'$[0]'`;
  return `list_sort(list_transform(json_extract(${t}, '$[*]'), __p -> {'v': ${v}, 'w': CAST(__p->>'$[1]' AS DOUBLE)}))`;
}

/** The smallest value whose cumulative weight reaches `p` percent of the total (weighted nearest rank). */
function rank(sorted: string, p: string): string {
  return `(list_transform([${sorted}], __s -> list_filter(__s, (__e, __i) -> list_sum(list_transform(__s[1:__i], __z -> __z.w)) >= (${p}) / 100.0 * list_sum(list_transform(__s, __z -> __z.w)))[1].v))[1]`;
}

const isNumeric = (t: ColumnType): boolean => t === 'int' || t === 'long' || t === 'real' || t === 'decimal';

/** A value read from a t-digest, as the requested type. */
function typed(v: string, t: ColumnType): string {
  if (t === 'dynamic' || t === 'unknown') return `to_json(${v})`;
  if (t === 'datetime') return `TRY_CAST(${v} AS TIMESTAMP)`;
  return `TRY_CAST(${v} AS ${DUCKDB_TYPES[t]})`;
}

function percentile(t: SqlArg, p: string, ctx: TemplateContext): string {
  const numeric = isNumeric(ctx.resultType) || ctx.resultType === 'dynamic';
  return typed(rank(pairs(t.sql, numeric), p), ctx.resultType);
}

/** The union of sketches (hll: distinct values; t-digest: all pairs). */
const merge =
  (distinct: boolean): Template =>
  (args) => {
    const all = `flatten([${args.map((a) => `COALESCE(json_extract(${a.sql}, '$[*]'), [])`).join(', ')}])`;
    return `to_json(${distinct ? `list_distinct(${all})` : all})`;
  };

export const SKETCH_FUNCTIONS: Readonly<Record<string, Template>> = {
  dcount_hll: (args, ctx) => `CAST(COALESCE(json_array_length(${arg(args, 0, ctx).sql}), 0) AS BIGINT)`,
  hll_merge: merge(true),
  tdigest_merge: merge(false),
  merge_tdigest: merge(false),
  percentile_tdigest: (args, ctx) => percentile(arg(args, 0, ctx), arg(args, 1, ctx).sql, ctx),
  percentiles_array_tdigest: (args, ctx) => {
    const t = arg(args, 0, ctx);
    const ps: string[] = [];
    for (const p of args.slice(1)) {
      const v = p.literal?.value;
      if (Array.isArray(v)) for (const x of v) ps.push(String(Number(x)));
      else ps.push(literalNumber(p) !== null ? String(literalNumber(p)) : p.sql);
    }
    return `to_json([${ps.map((p) => `to_json(${rank(pairs(t.sql, true), p)})`).join(', ')}])`;
  },
  rank_tdigest: (args, ctx) => {
    const t = arg(args, 0, ctx);
    const x = arg(args, 1, ctx);
    return `CAST(list_sum(list_transform(list_filter(${pairs(t.sql, true)}, __e -> __e.v <= CAST(${x.sql} AS DOUBLE)), __e -> __e.w)) AS BIGINT)`;
  },
  percentrank_tdigest: (args, ctx) => {
    const t = arg(args, 0, ctx);
    const x = arg(args, 1, ctx);
    const all = pairs(t.sql, true);
    return `(100.0 * list_sum(list_transform(list_filter(${all}, __e -> __e.v <= CAST(${x.sql} AS DOUBLE)), __e -> __e.w)) / list_sum(list_transform(${all}, __e -> __e.w)))`;
  },
};
