/**
 * Operator-level DuckDB SQL: window primitives, structs (multi-valued results, `arg_max(x, *)` rows), and the
 * conventions the generator composes KQL's row-order functions from (see generate.ts, "Window functions").
 *
 * Window primitives get the row window (`PARTITION BY` expressions and the `ORDER BY` text of the serialized
 * order, which is always a total order: the generator numbers rows before the first window stage). Running
 * aggregates use an explicit `ROWS` frame: the default `RANGE` frame would merge rows that tie on the order keys.
 */
import type { ColumnType } from '../../../binder/types.js';
import type {
  MakeSeriesSpec,
  RelationalTemplates,
  SqlArg,
  TemplateContext,
  WindowSpec,
  WindowTemplate,
} from '../../dialect.js';
import { asJson, DUCKDB_TYPES, EPOCH_MICROS, nullOf } from './base.js';

function over(w: WindowSpec, frame = ''): string {
  const partition = w.partitionBy.length ? `PARTITION BY ${w.partitionBy.join(', ')} ` : '';
  return `OVER (${partition}ORDER BY ${w.orderBy}${frame})`;
}

const RUNNING = ' ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW';

function need(args: readonly SqlArg[], i: number, ctx: TemplateContext): SqlArg {
  const a = args[i];
  if (!a) return ctx.unsupported(`argument ${i + 1} is required`);
  return a;
}

/** `lag`/`lead` with Kusto's defaults: an out-of-range string is '' (strings are never null). */
function shift(fn: 'lag' | 'lead'): WindowTemplate {
  return (args, w, ctx) => {
    const x = need(args, 0, ctx);
    const offset = args[1] ? `CAST(${args[1].sql} AS BIGINT)` : '1';
    const type = ctx.resultType;
    const fallback = args[2] ? args[2].sql : type === 'string' ? "''" : nullOf(type);
    const cast = type === 'unknown' ? '' : DUCKDB_TYPES[type];
    const v = `${fn}(${x.sql}, ${offset}, ${cast ? `CAST(${fallback} AS ${cast})` : fallback}) ${over(w)}`;
    return type === 'string' ? `COALESCE(${v}, '')` : v;
  };
}

/** Is this row the first of a run of equal values (or the first row of its partition)? */
function changed(x: string, w: WindowSpec): string {
  return `(CASE WHEN row_number() ${over(w)} = 1 THEN TRUE ELSE (${x}) IS DISTINCT FROM lag(${x}) ${over(w)} END)`;
}

const WINDOWS: Readonly<Record<string, WindowTemplate>> = {
  $row_number: (_args, w) => `row_number() ${over(w)}`,
  $lag: shift('lag'),
  $lead: shift('lead'),
  $running_sum: (args, w, ctx) => {
    const x = need(args, 0, ctx);
    const v = x.type === 'int' ? `CAST(${x.sql} AS BIGINT)` : x.sql;
    const t = ctx.resultType === 'unknown' ? 'DOUBLE' : DUCKDB_TYPES[ctx.resultType];
    // Kusto's running sum treats null as 0.
    return `CAST(COALESCE(sum(${v}) ${over(w, RUNNING)}, 0) AS ${t})`;
  },
  $running_count_true: (args, w, ctx) =>
    `sum(CASE WHEN ${need(args, 0, ctx).sql} THEN 1 ELSE 0 END) ${over(w, RUNNING)}`,
  $running_max: (args, w, ctx) => `max(${need(args, 0, ctx).sql}) ${over(w, RUNNING)}`,
  $changed: (args, w, ctx) => changed(need(args, 0, ctx).sql, w),
  /** Is the condition true on any row from `preceding` rows before to `following` rows after (rows_near)? */
  $any_in_frame: (args, w, ctx) => {
    const preceding = Number(need(args, 1, ctx).literal?.value ?? Number.NaN);
    const following = Number(need(args, 2, ctx).literal?.value ?? Number.NaN);
    if (!Number.isInteger(preceding) || !Number.isInteger(following) || preceding < 0 || following < 0) {
      return ctx.unsupported('rows_near with a computed or negative number of rows');
    }
    const frame = ` ROWS BETWEEN ${preceding} PRECEDING AND ${following} FOLLOWING`;
    return `COALESCE(bool_or(COALESCE(${need(args, 0, ctx).sql}, FALSE)) ${over(w, frame)}, FALSE)`;
  },
  $run_start: (args, w, ctx) => `(CASE WHEN ${changed(need(args, 0, ctx).sql, w)} THEN row_number() ${over(w)} END)`,
};

// ───────────────────────────── make-series ─────────────────────────────

/** Kusto's limit on the length of a make-series array. */
const MAX_BINS = 1048576;

/** The axis as a number to bin: datetimes in µs since 1970, timespans in ticks, numbers as they are. */
function axisNumber(a: SqlArg): string {
  switch (a.type) {
    case 'datetime':
      return `epoch_us(${a.sql})`;
    case 'real':
    case 'decimal':
      return `CAST(${a.sql} AS DOUBLE)`;
    default:
      return `CAST(${a.sql} AS BIGINT)`;
  }
}

/** The step in the axis' unit (timespan ticks → µs for a datetime axis). */
function stepNumber(step: SqlArg, axis: ColumnType): string {
  if (axis === 'datetime') return `(CAST(${step.sql} AS DOUBLE) / 10)`;
  return `CAST(${step.sql} AS DOUBLE)`;
}

/** The axis value of bin `i` (a number in the axis' unit) back as a JSON value of the axis type. */
function axisJson(num: string, type: ColumnType): string {
  switch (type) {
    case 'datetime':
      return asJson({ sql: `make_timestamp(CAST(${num} AS BIGINT))`, type, expr: NULL_EXPR });
    case 'real':
    case 'decimal':
      return `to_json(CAST(${num} AS DOUBLE))`;
    case 'timespan':
      return asJson({ sql: `CAST(${num} AS BIGINT)`, type, expr: NULL_EXPR });
    default:
      return `to_json(CAST(${num} AS BIGINT))`;
  }
}

const NULL_EXPR = { kind: 'lit', type: 'dynamic', value: null } as const;

/**
 * make-series as nested CTEs: `b` the bounds (start, step, number of bins), `a` the aggregates per group and bin
 * index, `g` every group × bin index; the output lists each aggregate in bin order, the default where a bin of a
 * group has no rows (a bin whose rows aggregate to null stays null).
 */
function makeSeries(spec: MakeSeriesSpec, ctx: TemplateContext): string {
  const ax = axisNumber(spec.axis);
  const st = stepNumber(spec.step, spec.axis.type);
  const datetime = spec.axis.type === 'datetime';
  const num = (a: SqlArg) => axisNumber({ ...a, type: spec.axis.type === 'unknown' ? a.type : spec.axis.type });
  // Without `from`, the first bin with data: bin() of the minimum (datetimes count bins from 0001-01-01 as Kusto).
  const start = spec.from
    ? num(spec.from)
    : datetime
      ? `(floor((m.__mn + ${EPOCH_MICROS}) / __ms_st) * __ms_st - ${EPOCH_MICROS})`
      : `(floor(m.__mn / __ms_st) * __ms_st)`;
  const count = spec.to
    ? `greatest(ceil((${num(spec.to)} - __ms_s) / __ms_st), 0)`
    : `(floor((x.__mx - __ms_s) / __ms_st) + 1)`;
  const b = `SELECT __ms_s, __ms_st, CAST(least(${count}, ${MAX_BINS}) AS BIGINT) AS __ms_n FROM (SELECT ${start} AS __ms_s, __ms_st, m.__mx FROM (SELECT min(${ax}) AS __mn, max(${ax}) AS __mx FROM ${spec.input}) AS m, (SELECT ${st} AS __ms_st) AS p) AS x WHERE __ms_st > 0`;
  const keys = spec.keys.length ? spec.keys : [{ sql: '1', alias: '"__one"' }];
  const k = keys.map((_, i) => `"__k${i}"`);
  const a = `SELECT ${[
    ...keys.map((key, i) => `${key.sql} AS ${k[i]}`),
    `CAST(floor((${ax} - b.__ms_s) / b.__ms_st) AS BIGINT) AS "__i"`,
    ...spec.aggregates.map((g, i) => `${g.value.sql} AS "__a${i}"`),
  ].join(', ')} FROM ${spec.input}, b WHERE ${ax} >= b.__ms_s AND ${ax} < b.__ms_s + b.__ms_n * b.__ms_st GROUP BY ALL`;
  const groups =
    spec.nonEmpty && spec.keys.length === 0 ? 'SELECT 1 AS "__k0"' : `SELECT DISTINCT ${k.join(', ')} FROM a`;
  const g = `SELECT gk.*, unnest(range(b.__ms_n)) AS "__i" FROM (${groups}) AS gk, b`;
  const typed = (sql: string, t: ColumnType) => (t === 'unknown' ? sql : `CAST(${sql} AS ${DUCKDB_TYPES[t]})`);
  const series = spec.aggregates.map((agg, i) => {
    const t = agg.value.type;
    const value = asJson({ sql: `a."__a${i}"`, type: t, expr: NULL_EXPR });
    const fallback = asJson({
      sql: typed(agg.default.sql, t === 'unknown' ? agg.default.type : t),
      type: t === 'unknown' ? agg.default.type : t,
      expr: NULL_EXPR,
    });
    return `to_json(list(CASE WHEN a."__i" IS NULL THEN ${fallback} ELSE ${value} END ORDER BY g."__i")) AS ${agg.alias}`;
  });
  const axis = `to_json(list(${axisJson('(b.__ms_s + g."__i" * b.__ms_st)', spec.axis.type)} ORDER BY g."__i")) AS ${spec.axisAlias}`;
  const join = k.map((c) => `a.${c} IS NOT DISTINCT FROM g.${c}`).join(' AND ');
  void ctx;
  return `WITH b AS (${b}), a AS (${a}), g AS (${g}) SELECT ${[
    ...spec.keys.map((key, i) => `g.${k[i]} AS ${key.alias}`),
    ...series,
    axis,
  ].join(
    ', ',
  )} FROM g CROSS JOIN b LEFT JOIN a ON ${join} AND a."__i" = g."__i" GROUP BY ${k.map((c) => `g.${c}`).join(', ')}`;
}

/** The KQL type of a bag property from the JSON types of its non-null values (one type, or dynamic). */
const JSON_TO_KQL = `CASE WHEN len(types) = 1 THEN CASE types[1] WHEN 'BIGINT' THEN 'long' WHEN 'UBIGINT' THEN 'long' WHEN 'DOUBLE' THEN 'real' WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN 'bool' ELSE 'dynamic' END ELSE 'dynamic' END`;

function probe(kind: 'bag-keys' | 'pivot-values', value: string, input: string, valueType: string): string {
  if (kind === 'pivot-values') {
    return `SELECT DISTINCT v AS name, '${valueType.replace(/'/g, "''")}' AS type FROM (SELECT ${value} AS v FROM ${input}) WHERE v IS NOT NULL ORDER BY name`;
  }
  // Properties in order of first appearance (row, then position in the bag).
  const entries = `SELECT unnest(m) AS e, generate_subscripts(m, 1) AS i, r FROM (SELECT map_entries(TRY_CAST(v AS MAP(VARCHAR, JSON))) AS m, row_number() OVER () AS r FROM (SELECT ${value} AS v FROM ${input}) WHERE json_type(v) = 'OBJECT')`;
  const keys = `SELECT e.key AS k, list(DISTINCT json_type(e.value)) FILTER (WHERE json_type(e.value) <> 'NULL') AS types, min(r * 1000000 + i) AS first FROM (${entries}) GROUP BY e.key`;
  return `SELECT k AS name, ${JSON_TO_KQL} AS type FROM (${keys}) ORDER BY first`;
}

export const RELATIONAL: RelationalTemplates = {
  probe,
  makeSeries,
  windows: WINDOWS,
  struct(fields) {
    return `struct_pack(${fields.map(([n, v]) => `"${n.replace(/"/g, '""')}" := ${v}`).join(', ')})`;
  },
  structField(sql, name) {
    return `struct_extract(${sql}, '${name.replace(/'/g, "''")}')`;
  },
  tupleElement(sql, _name, index) {
    return `struct_extract_at(${sql}, ${index + 1})`;
  },
};
