/**
 * Operator-level ClickHouse SQL: window primitives (ClickHouse's `lagInFrame`/`leadInFrame` need an explicit
 * whole-partition frame), tuples for multi-valued results, `numbers()` for `range`, and `arrayJoin` over zipped
 * lists for `mv-expand`.
 */
import type { RelationalTemplates, SqlArg, TemplateContext, WindowSpec, WindowTemplate } from '../../dialect.js';
import { CLICKHOUSE_TYPES, nullOf } from './base.js';

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
  $run_start: (args, w, ctx) => `if(${changed(need(args, 0, ctx).sql, w)}, toInt64(row_number() ${over(w)}), NULL)`,
};

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
