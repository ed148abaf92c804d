/**
 * Operator-level ClickHouse SQL: window primitives (ClickHouse's `lagInFrame`/`leadInFrame` need an explicit
 * whole-partition frame), tuples for multi-valued results, `numbers()` for `range`, and `arrayJoin` over zipped
 * lists for `mv-expand`.
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
import { asJson, CLICKHOUSE_TYPES, datetimeTicks, EPOCH_TICKS, nullOf, ticksToDatetime } from './base.js';

function over(w: WindowSpec, frame = ''): string {
  const partition = w.partitionBy.length ? `PARTITION BY ${w.partitionBy.join(', ')} ` : '';
  return `OVER (${partition}ORDER BY ${w.orderBy}${frame})`;
}

const RUNNING = ' ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW';
const WHOLE = ' ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING';

function need(args: readonly SqlArg[], i: number, ctx: TemplateContext): SqlArg {
  const a = args[i];
  if (!a) return ctx.unsupported(`argument ${i + 1} is required`);
  return a;
}

function shift(fn: 'lagInFrame' | 'leadInFrame'): WindowTemplate {
  return (args, w, ctx) => {
    const x = need(args, 0, ctx);
    const offset = args[1] ? `toUInt64(${args[1].sql})` : '1';
    const type = ctx.resultType;
    const cast = type === 'unknown' ? null : CLICKHOUSE_TYPES[type];
    const fallback = args[2] ? args[2].sql : type === 'string' ? "''" : nullOf(type);
    const value = cast ? `CAST(${x.sql} AS ${cast})` : x.sql;
    return `${fn}(${value}, ${offset}, ${cast ? `CAST(${fallback} AS ${cast})` : fallback}) ${over(w, WHOLE)}`;
  };
}

function changed(x: string, w: WindowSpec): string {
  return `if(row_number() ${over(w)} = 1, true, (${x}) IS DISTINCT FROM lagInFrame(${x}, 1) ${over(w, WHOLE)})`;
}

const WINDOWS: Readonly<Record<string, WindowTemplate>> = {
  $row_number: (_args, w) => `toInt64(row_number() ${over(w)})`,
  $lag: shift('lagInFrame'),
  $lead: shift('leadInFrame'),
  $running_sum: (args, w, ctx) => {
    const x = need(args, 0, ctx);
    const t = ctx.resultType === 'unknown' ? 'Float64' : CLICKHOUSE_TYPES[ctx.resultType];
    return `CAST(coalesce(sum(${x.sql}) ${over(w, RUNNING)}, 0) AS ${t})`;
  },
  $running_count_true: (args, w, ctx) =>
    `toInt64(sum(if(coalesce(${need(args, 0, ctx).sql}, false), 1, 0)) ${over(w, RUNNING)})`,
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
    return `(max(toUInt8(ifNull(${need(args, 0, ctx).sql}, false))) ${over(w, frame)} = 1)`;
  },
  $run_start: (args, w, ctx) => `if(${changed(need(args, 0, ctx).sql, w)}, toInt64(row_number() ${over(w)}), NULL)`,
};

// ───────────────────────────── make-series ─────────────────────────────

/** Kusto's limit on the length of a make-series array. */
const MAX_BINS = 1048576;
const NULL_EXPR = { kind: 'lit', type: 'dynamic', value: null } as const;

/** The axis as a number to bin: datetimes in ticks since 1970, timespans in ticks, numbers as they are. */
function axisNumber(a: SqlArg): string {
  switch (a.type) {
    case 'datetime':
      return `toFloat64(${datetimeTicks(a.sql)})`;
    case 'real':
    case 'decimal':
      return `toFloat64(${a.sql})`;
    default:
      return `toFloat64(toInt64(${a.sql}))`;
  }
}

/** The axis value of bin `i` (a number in the axis' unit) as a JSON value of the axis type. */
function axisJson(num: string, type: ColumnType): string {
  switch (type) {
    case 'datetime':
      return asJson({ sql: ticksToDatetime(`toInt64(${num})`), type, expr: NULL_EXPR });
    case 'real':
    case 'decimal':
      return `toJSONString(toFloat64(${num}))`;
    case 'timespan':
      return asJson({ sql: `toInt64(${num})`, type, expr: NULL_EXPR });
    default:
      return `toString(toInt64(${num}))`;
  }
}

/**
 * make-series as nested CTEs (as the DuckDB dialect builds it): `b` the bounds (start, step, number of bins), `a`
 * the aggregates per group and bin index, `g` every group × bin index; each aggregate's series lists its values in
 * bin order, the default where a bin of a group has no rows.
 */
function makeSeries(spec: MakeSeriesSpec, _ctx: TemplateContext): string {
  const ax = axisNumber(spec.axis);
  const st = `toFloat64(${spec.step.sql})`;
  const datetime = spec.axis.type === 'datetime';
  const num = (a: SqlArg) => axisNumber({ ...a, type: spec.axis.type === 'unknown' ? a.type : spec.axis.type });
  // Without `from`, the first bin with data: bin() of the minimum (datetimes count bins from 0001-01-01 as Kusto).
  const start = spec.from
    ? num(spec.from)
    : datetime
      ? `(floor((m.__mn + ${EPOCH_TICKS}) / __ms_st) * __ms_st - ${EPOCH_TICKS})`
      : '(floor(m.__mn / __ms_st) * __ms_st)';
  const count = spec.to
    ? `greatest(ceil((${num(spec.to)} - __ms_s) / __ms_st), 0)`
    : '(floor((x.__mx - __ms_s) / __ms_st) + 1)';
  const b = `SELECT __ms_s, __ms_st, toInt64(least(${count}, ${MAX_BINS})) AS __ms_n FROM (SELECT ${start} AS __ms_s, __ms_st, m.__mx AS __mx FROM (SELECT min(${ax}) AS __mn, max(${ax}) AS __mx FROM ${spec.input}) AS m CROSS JOIN (SELECT ${st} AS __ms_st) AS p) AS x WHERE __ms_st > 0`;
  const keys = spec.keys.length ? spec.keys : [{ sql: '1', alias: '"__one"' }];
  const k = keys.map((_, i) => `"__k${i}"`);
  const a = `SELECT ${[
    ...keys.map((key, i) => `${key.sql} AS ${k[i]}`),
    `toInt64(floor((${ax} - b.__ms_s) / b.__ms_st)) AS "__i"`,
    ...spec.aggregates.map((g, i) => `${g.value.sql} AS "__a${i}"`),
  ].join(
    ', ',
  )} FROM ${spec.input} CROSS JOIN b WHERE ${ax} >= b.__ms_s AND ${ax} < b.__ms_s + b.__ms_n * b.__ms_st GROUP BY ALL`;
  const groups =
    spec.nonEmpty && spec.keys.length === 0 ? 'SELECT 1 AS "__k0"' : `SELECT DISTINCT ${k.join(', ')} FROM a`;
  const g = `SELECT gk.*, toInt64(arrayJoin(range(toUInt64(b.__ms_n)))) AS "__i" FROM (${groups}) AS gk CROSS JOIN b`;
  const typed = (sql: string, t: ColumnType) => (t === 'unknown' ? sql : `CAST(${sql} AS ${CLICKHOUSE_TYPES[t]})`);
  const ordered = (x: string) =>
    `concat('[', arrayStringConcat(arrayMap(__t -> ifNull(__t.2, 'null'), arraySort(__t -> __t.1, groupArray((g."__i", ${x})))), ','), ']')`;
  const series = spec.aggregates.map((agg, i) => {
    const t = agg.value.type;
    const value = asJson({ sql: `a."__a${i}"`, type: t, expr: NULL_EXPR });
    const dt = t === 'unknown' ? agg.default.type : t;
    const fallback = asJson({ sql: typed(agg.default.sql, dt), type: dt, expr: NULL_EXPR });
    return `${ordered(`if(a."__i" IS NULL, ${fallback}, ${value})`)} AS ${agg.alias}`;
  });
  const axis = `${ordered(axisJson('(b.__ms_s + g."__i" * b.__ms_st)', spec.axis.type))} AS ${spec.axisAlias}`;
  const join = k.map((c) => `a.${c} IS NOT DISTINCT FROM g.${c}`).join(' AND ');
  return `WITH b AS (${b}), a AS (${a}), g AS (${g}) SELECT ${[
    ...spec.keys.map((key, i) => `g.${k[i]} AS ${key.alias}`),
    ...series,
    axis,
  ].join(
    ', ',
  )} FROM g CROSS JOIN b LEFT JOIN a ON ${join} AND a."__i" = g."__i" GROUP BY ${k.map((c) => `g.${c}`).join(', ')}`;
}

/** JSON kinds of a property's values → its KQL type (several kinds: dynamic). */
const KIND_TO_KQL = `multiIf(length(t) != 1, 'dynamic', t[1] IN ('Int64', 'UInt64'), 'long', t[1] = 'Double', 'real', t[1] = 'String', 'string', t[1] = 'Bool', 'bool', 'dynamic')`;

function probe(kind: 'bag-keys' | 'pivot-values', value: string, input: string, valueType: string): string {
  if (kind === 'pivot-values') {
    return `SELECT DISTINCT toString(v) AS name, '${valueType.replace(/'/g, "\\'")}' AS type FROM (SELECT ${value} AS v FROM ${input}) WHERE v IS NOT NULL ORDER BY name`;
  }
  // Properties in order of first appearance (row, then position in the bag).
  const entries = `SELECT arrayJoin(arrayMap((__kv, __i) -> (__kv.1, __kv.2, __i), kvs, arrayEnumerate(kvs))) AS e, r FROM (SELECT JSONExtractKeysAndValuesRaw(ifNull(v, '{}')) AS kvs, rowNumberInAllBlocks() AS r FROM (SELECT ${value} AS v FROM ${input}) WHERE JSONType(ifNull(v, 'null')) = 'Object')`;
  const keys = `SELECT e.1 AS k, groupUniqArrayIf(toString(JSONType(e.2)), toString(JSONType(e.2)) != 'Null') AS t, min(r * 1000000 + e.3) AS first FROM (${entries}) GROUP BY k`;
  return `SELECT k AS name, ${KIND_TO_KQL} AS type FROM (${keys}) ORDER BY first`;
}

export const RELATIONAL: RelationalTemplates = {
  probe,
  makeSeries,
  windows: WINDOWS,
  struct(fields) {
    return `tuple(${fields.map(([, v]) => v).join(', ')})`;
  },
  structField(sql, name) {
    const m = /^f(\d+)$/.exec(name);
    // Structs are positional tuples; the generator names fields f0, f1, ...
    return m ? `tupleElement(${sql}, ${Number(m[1]) + 1})` : `tupleElement(${sql}, '${name.replace(/'/g, "\\'")}')`;
  },
  tupleElement(sql, _name, index) {
    return `tupleElement(${sql}, ${index + 1})`;
  },
  series(last, column) {
    return `(SELECT toInt64(number) AS ${column} FROM numbers(toUInt64(greatest(assumeNotNull(${last}) + 1, 0))))`;
  },
  expandLists(lists, index) {
    if (lists.length === 1 && index === null) return [`arrayJoin(${lists[0]}) AS "__v0"`];
    const n = `greatest(${lists.map((l) => `length(${l})`).join(', ')})`;
    const zipped = `arrayZip(${[...lists.map((l) => `arrayResize(${l}, ${n}, NULL)`), `range(${n})`].join(', ')})`;
    return [
      `arrayJoin(${zipped}) AS "__z"`,
      ...lists.map((_, i) => `tupleElement("__z", ${i + 1}) AS "__v${i}"`),
      ...(index ? [`toInt64(tupleElement("__z", ${lists.length + 1})) AS ${index}`] : []),
    ];
  },
};
