/**
 * Return types that Kusto computes with code rather than a declared rule (`ReturnTypeKind.Custom`), keyed by the
 * `customReturn` key of a signature (the function's name): tuples of `series_*` functions and multi-column
 * aggregates (`arg_max`, `percentiles`, `take_any`), bags and arrays (`bag_pack`, `pack_array`), and the row schema
 * produced by plugins from their input (`bag_unpack`, `pivot`, `ipv4_lookup`, ...). Each mirrors the corresponding
 * lambda of Kusto.Language's `Functions`, `Aggregates` and `PlugIns` tables, over Vigil's type model (a single
 * `dynamic` type: Kusto's typed bags and arrays are all `dynamic` here).
 */
import type { Column, ScalarTypeName, Type } from '../binder/types.js';
import { TYPE_ALIASES } from '../binder/types.js';
import type { ArgInfo, CallContext } from './resolve.js';
import type { ScalarOrUnknown } from './type-facts.js';
import { promoteToLong, scalarOf } from './type-facts.js';
import type { DynamicShape, FunctionDef, ParamDef, SignatureDef } from './types.js';

export interface CustomReturnContext {
  readonly fn: FunctionDef;
  readonly signature: SignatureDef;
  readonly args: readonly ArgInfo[];
  /** The parameter of each argument (Kusto's argument parameters). */
  readonly paramForArg: readonly (ParamDef | null)[];
  readonly ctx: CallContext;
  /** The first argument bound to the named parameter. */
  argument(paramName: string): ArgInfo | undefined;
  /** Every argument bound to the named (repeatable) parameter. */
  arguments(paramName: string): ArgInfo[];
}

export type CustomReturn = (c: CustomReturnContext) => Type;

// ─────────────────────────────── helpers ───────────────────────────────

type ColumnType = Column['type'];
const UNKNOWN: Type = { kind: 'unknown' };
const DYNAMIC: Type = { kind: 'scalar', name: 'dynamic' };

export function typeOfScalar(name: string): Type {
  const t: ScalarTypeName | undefined = TYPE_ALIASES[name];
  return t ? { kind: 'scalar', name: t } : UNKNOWN;
}

/** A scalar (or unknown) as a Type; null means "no type" and becomes unknown. */
export function scalarType(s: ScalarOrUnknown | null): Type {
  return s === null || s === 'unknown' ? UNKNOWN : { kind: 'scalar', name: s };
}

/** The column type of a value: its scalar type, or unknown. */
function colType(t: Type | undefined): ColumnType {
  const s = t ? scalarOf(t) : null;
  return (s ?? 'unknown') as ColumnType;
}

function col(name: string, type: ColumnType | ScalarTypeName): Column {
  return { name, type: type as ColumnType };
}

/** The projection name of an argument's value (Kusto's `GetExpressionResultName(expr, null)`), if it has one. */
export function argResultName(a: ArgInfo): string | undefined {
  return a.name ?? a.resultName ?? (a.isColumn ? a.columnName : undefined);
}

/** The row column an argument denotes unchanged (Kusto's `GetResultColumn`), if any. */
function resultColumn(a: ArgInfo): string | undefined {
  return a.resultColumnName ?? (a.isColumn ? a.columnName : undefined);
}

/** Kusto's `context.GetResultName(expr)`: the projection name, or "" (also for a missing argument). */
function resultNameOrEmpty(a: ArgInfo | undefined): string {
  return a ? (argResultName(a) ?? '') : '';
}

/** `FunctionHelpers.MakeColumnName`: the non-null parts joined with `_`. */
function columnName(...parts: (string | null | undefined)[]): string {
  return parts.filter((p): p is string => p !== null && p !== undefined).join('_');
}

/** `FunctionHelpers.MakeValidNameFragment`: every character that is not a letter or digit becomes `_`. */
function validNameFragment(text: string): string {
  return text.replace(/[^\p{L}\p{Nd}]/gu, '_');
}

/** `ConstantValue?.ToString() ?? ""`, formatting values as .NET does for the common cases. */
function constantText(a: ArgInfo | undefined): string {
  const v = a?.constantValue;
  if (v === undefined || v === null) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

/** Kusto's `LiteralValue?.ToString()`: only for literals. */
function literalText(a: ArgInfo | undefined): string | undefined {
  return a?.isLiteral && a.constantValue !== undefined && a.constantValue !== null ? constantText(a) : undefined;
}

function rowColumns(c: CustomReturnContext): readonly Column[] {
  return c.ctx.rowColumns ?? [];
}

function referencedColumn(a: ArgInfo | undefined): Column | undefined {
  if (!a?.isColumn || a.columnName === undefined) return undefined;
  return col(a.columnName, colType(a.type));
}

/** `FunctionHelpers.AddReferencedColumn(s)`: the columns referenced by the arguments of a parameter. */
function referencedColumns(c: CustomReturnContext, paramName: string): Column[] {
  return c.arguments(paramName).flatMap((a) => referencedColumn(a) ?? []);
}

function table(columns: readonly Column[], open = false): Type {
  return open ? { kind: 'table', columns, open: true } : { kind: 'table', columns };
}

function tuple(columns: readonly Column[]): Type {
  return { kind: 'tuple', columns };
}

/** `Binder.MakeColumnNamesUnique`: later duplicates get the first free numeric suffix (`c`, `c` → `c`, `c1`). */
export function makeColumnNamesUnique(columns: readonly Column[]): Column[] {
  const taken = new Set(columns.map((c) => c.name));
  const seen = new Set<string>();
  return columns.map((c) => {
    if (!seen.has(c.name)) {
      seen.add(c.name);
      return c;
    }
    let i = 1;
    while (taken.has(`${c.name}${i}`)) i++;
    const name = `${c.name}${i}`;
    taken.add(name);
    return { ...c, name };
  });
}

/**
 * Parses a schema text such as `(a:long, ['b c']:string)` (the declared result of some plugins). Unknown type
 * names give `unknown` columns.
 */
export function parseSchema(text: string): Column[] {
  const body = text.trim().replace(/^\(/, '').replace(/\)$/, '');
  const out: Column[] = [];
  const re =
    /\s*(?:\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]|([A-Za-z_][A-Za-z0-9_]*))\s*:\s*([A-Za-z0-9_]+)\s*(?:,|$)/y;
  let m: RegExpExecArray | null = re.exec(body);
  while (m) {
    const name = (m[1] ?? m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
    const t = TYPE_ALIASES[(m[4] ?? '').toLowerCase()];
    out.push(col(name, (t ?? 'unknown') as ColumnType));
    if (re.lastIndex >= body.length) break;
    m = re.exec(body);
  }
  return out;
}

// ─────────────────────────────── scalar functions ───────────────────────────────

/** `FunctionHelpers.MakePrefixedTuple`: `<function>_<argument>_<column>` for each column of the result. */
function prefixedTuple(paramName: string, columns: readonly [string, ScalarTypeName][]): CustomReturn {
  return (c) => {
    const fnPrefix = c.fn.resultNamePrefix ?? c.fn.name;
    const argPrefix = resultNameOrEmpty(c.argument(paramName));
    return tuple(columns.map(([n, t]) => col(columnName(fnPrefix, argPrefix, n), t)));
  };
}

const dynamicResult: CustomReturn = () => DYNAMIC;

const SERIES_DECOMPOSE: [string, ScalarTypeName][] = [
  ['baseline', 'dynamic'],
  ['seasonal', 'dynamic'],
  ['trend', 'dynamic'],
  ['residual', 'dynamic'],
];

const FIT_2LINES: [string, ScalarTypeName][] = [
  ['rsquare', 'real'],
  ['split_idx', 'long'],
  ['variance', 'real'],
  ['rvariance', 'real'],
  ['line_fit', 'dynamic'],
  ['right_rsquare', 'real'],
  ['right_slope', 'real'],
  ['right_interception', 'real'],
  ['right_variance', 'real'],
  ['right_rvariance', 'real'],
  ['left_rsquare', 'real'],
  ['left_slope', 'real'],
  ['left_interception', 'real'],
  ['left_variance', 'real'],
  ['left_rvariance', 'real'],
];

/** `array_sort_asc(a1, a2, ...)`: one `<arg>_sorted` (or `array<i>_sorted`) column per leading array argument. */
const arraySortResult: CustomReturn = (c) => {
  const out: Column[] = [];
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i] as ArgInfo;
    const s = a.typeOf ? null : scalarOf(a.type);
    if (s !== 'dynamic') break;
    const name = resultNameOrEmpty(a);
    out.push(col(name === '' ? `array${i}_sorted` : `${name}_sorted`, colType(a.type)));
  }
  return tuple(out);
};

const SCALAR_RETURNS: Record<string, CustomReturn> = {
  bin_auto: (c) => {
    const v = c.argument('value');
    const s = v ? scalarOf(v.type) : null;
    return s === null ? UNKNOWN : scalarType(promoteToLong(s));
  },
  array_concat: dynamicResult,
  array_iff: dynamicResult,
  array_iif: dynamicResult,
  array_sort_asc: arraySortResult,
  array_sort_desc: arraySortResult,
  pack: dynamicResult,
  pack_dictionary: dynamicResult,
  bag_pack: dynamicResult,
  bag_pack_columns: dynamicResult,
  pack_all: dynamicResult,
  pack_array: dynamicResult,
  set_union: dynamicResult,
  set_intersect: dynamicResult,
  set_difference: dynamicResult,
  bag_merge: dynamicResult,
  bag_remove_keys: dynamicResult,
  bag_set_key: dynamicResult,
  series_stats: prefixedTuple('series', [
    ['min', 'real'],
    ['min_idx', 'long'],
    ['max', 'real'],
    ['max_idx', 'long'],
    ['avg', 'real'],
    ['stdev', 'real'],
    ['variance', 'real'],
  ]),
  series_stats_dynamic: dynamicResult,
  series_fft: prefixedTuple('series', [
    ['real', 'dynamic'],
    ['imag', 'dynamic'],
  ]),
  series_ifft: prefixedTuple('series', [
    ['real', 'dynamic'],
    ['imag', 'dynamic'],
  ]),
  series_fit_poly: prefixedTuple('y_series', [
    ['rsquare', 'real'],
    ['coefficients', 'dynamic'],
    ['variance', 'real'],
    ['rvariance', 'real'],
    ['poly_fit', 'dynamic'],
  ]),
  series_fit_line: prefixedTuple('series', [
    ['rsquare', 'real'],
    ['slope', 'real'],
    ['variance', 'real'],
    ['rvariance', 'real'],
    ['interception', 'real'],
    ['line_fit', 'dynamic'],
  ]),
  series_fit_line_dynamic: dynamicResult,
  series_fit_2lines: prefixedTuple('array', FIT_2LINES),
  series_fit_2lines_dynamic: dynamicResult,
  series_periods_detect: prefixedTuple('series', [
    ['periods', 'dynamic'],
    ['scores', 'dynamic'],
  ]),
  series_periods_validate: prefixedTuple('series', [
    ['periods', 'dynamic'],
    ['scores', 'dynamic'],
  ]),
  series_decompose: prefixedTuple('series', SERIES_DECOMPOSE),
  series_decompose_forecast: prefixedTuple('series', SERIES_DECOMPOSE),
  series_decompose_anomalies: prefixedTuple('series', [
    ['ad_flag', 'dynamic'],
    ['ad_score', 'dynamic'],
    ['baseline', 'dynamic'],
  ]),
  // graph-only functions: the node schema comes from the graph operator, unknown here
  map: dynamicResult,
  inner_nodes: dynamicResult,
  // toscalar(T): the type of the first column of T (or of a scalar argument)
  toscalar: (c) => {
    const a = c.args[0];
    if (!a) return UNKNOWN;
    if (a.type.kind === 'table') {
      const first = a.type.columns[0];
      return first ? scalarType(first.type) : UNKNOWN;
    }
    return scalarType(scalarOf(a.type));
  },
  // totable(x): a one-column table
  totable: (c) => {
    const a = c.args[0];
    return table([col(a ? (argResultName(a) ?? 'print_0') : 'print_0', colType(a?.type))]);
  },
};

// ─────────────────────────────── aggregates ───────────────────────────────

/** `percentile(x, 50)`, `percentiles(x, 50, 95)`: one `percentile_<x>_<p>` column per percentile. */
const percentileReturn: CustomReturn = (c) => {
  const value = c.argument('expr');
  if (!value) return tuple([]);
  const name = resultNameOrEmpty(value);
  const s = scalarOf(value.type);
  const type: ColumnType = (s === 'int' ? 'long' : s === 'decimal' ? 'real' : (s ?? 'unknown')) as ColumnType;
  return tuple(
    c.arguments('percentile').map((p) => col(`percentile_${name}_${validNameFragment(constantText(p))}`, type)),
  );
};

/** `percentiles_array(x, 50, 95)`: one dynamic `percentiles_<x>` column. */
const percentileArrayReturn: CustomReturn = (c) => {
  const value = c.argument('expr');
  return tuple(value ? [col(`percentiles_${resultNameOrEmpty(value)}`, 'dynamic')] : []);
};

function byColumns(c: CustomReturnContext): Set<string> {
  return new Set(c.ctx.byColumns ?? []);
}

/**
 * Where an element of a multi-column aggregate comes from (for the planner): argument `sourceArg`, and for a `*`
 * argument, the row column `sourceColumn`.
 */
export interface TupleElementSource {
  readonly sourceArg: number;
  readonly sourceColumn?: string;
}

function fromArg(c: Column, sourceArg: number, sourceColumn?: string): Column {
  const source: TupleElementSource = sourceColumn === undefined ? { sourceArg } : { sourceArg, sourceColumn };
  return Object.assign({ name: c.name, type: c.type }, source);
}

/** `Aggregates.GetAnyResult`: the columns of `take_any(a, b, *)`. */
function anyResult(prefix: string): CustomReturn {
  return (c) => {
    const out: Column[] = [];
    const doNotRepeat = byColumns(c);
    const anyStar = c.args.some((a) => a.isStar);
    const canAdd = (name: string) => !anyStar || !doNotRepeat.has(name);
    c.args.forEach((a, i) => {
      const rc = resultColumn(a);
      if (a.isStar) {
        for (const rowCol of rowColumns(c)) {
          if (canAdd(rowCol.name)) {
            doNotRepeat.add(rowCol.name);
            out.push(fromArg(rowCol, i, rowCol.name));
          }
        }
      } else if (a.name !== undefined && rc !== undefined) {
        if (canAdd(rc)) {
          doNotRepeat.add(rc);
          out.push(fromArg(col(a.name, colType(a.type)), i));
        }
      } else if (rc !== undefined) {
        if (canAdd(rc)) {
          doNotRepeat.add(rc);
          out.push(fromArg(col(rc, colType(a.type)), i));
        }
      } else {
        const name = argResultName(a);
        out.push(fromArg(col(name === undefined || name === '' ? `${prefix}arg${i}` : name, colType(a.type)), i));
      }
    });
    return tuple(out);
  };
}

/** `Aggregates.GetArgMinMaxResult`: the columns of `arg_max(x, a, b)` / `arg_max(x, *)`. */
function argMinMaxResult(prefix: 'min' | 'max'): CustomReturn {
  return (c) => {
    const out: Column[] = [];
    if (c.args.length === 0) return tuple(out);
    const byClause = byColumns(c);
    const doNotRepeat = new Set<string>();
    const primaryName = resultNameOrEmpty(c.args[0]);
    const anyStar = c.args.some((a) => a.isStar);
    const canAdd = (i: number, name: string) => i === 0 || !anyStar || (!doNotRepeat.has(name) && !byClause.has(name));
    c.args.forEach((a, i) => {
      const rc = resultColumn(a);
      if (a.isStar) {
        for (const rowCol of rowColumns(c)) {
          if (canAdd(i, rowCol.name)) {
            doNotRepeat.add(rowCol.name);
            out.push(fromArg(rowCol, i, rowCol.name));
          }
        }
      } else if (a.name !== undefined && rc !== undefined) {
        if (canAdd(i, rc)) {
          doNotRepeat.add(rc);
          out.push(fromArg(col(a.name, colType(a.type)), i));
        }
      } else if (rc !== undefined) {
        if (canAdd(i, rc)) {
          doNotRepeat.add(rc);
          out.push(fromArg(col(rc, colType(a.type)), i));
        }
      } else {
        const name = argResultName(a) ?? (i === 0 ? `${prefix}_` : `${prefix}_${primaryName}_arg${i}`);
        out.push(fromArg(col(name, colType(a.type)), i));
      }
    });
    return tuple(out);
  };
}

/** The deprecated `argmax(x, a)`: the primary column then `<x>_<a>` columns. */
const argMinMaxDeprecatedResult: CustomReturn = (c) => {
  const out: Column[] = [];
  const primary = c.args[0];
  if (!primary) return tuple(out);
  const byClause = byColumns(c);
  const doNotRepeat = new Set<string>();
  const anyStar = c.args.some((a) => a.isStar);
  const canAdd = (name: string) => !anyStar || (!doNotRepeat.has(name) && !byClause.has(name));
  const primaryCol = resultColumn(primary);
  let primaryName: string;
  if (primaryCol !== undefined) {
    doNotRepeat.add(primaryCol);
    out.push(col(primaryCol, colType(primary.type)));
    primaryName = primaryCol;
  } else {
    primaryName = resultNameOrEmpty(primary);
    out.push(col(primaryName, colType(primary.type)));
  }
  c.args.slice(1).forEach((a, k) => {
    const i = k + 1;
    const rc = resultColumn(a);
    if (a.isStar) {
      for (const rowCol of rowColumns(c)) {
        if (rowCol.name !== primaryCol && canAdd(rowCol.name)) {
          doNotRepeat.add(rowCol.name);
          out.push({ ...rowCol, name: `${primaryName}_${rowCol.name}` });
        }
      }
    } else if (a.name !== undefined && rc !== undefined) {
      if (canAdd(rc)) {
        doNotRepeat.add(rc);
        out.push(col(`${primaryName}_${a.name}`, colType(a.type)));
      }
    } else if (rc !== undefined) {
      if (canAdd(rc)) {
        doNotRepeat.add(rc);
        out.push(col(`${primaryName}_${rc}`, colType(a.type)));
      }
    } else {
      out.push(col(`${primaryName}_${argResultName(a) ?? `arg${i}`}`, colType(a.type)));
    }
  });
  return tuple(out);
};

const AGGREGATE_RETURNS: Record<string, CustomReturn> = {
  percentile: percentileReturn,
  percentiles: percentileReturn,
  percentilew: percentileReturn,
  percentilesw: percentileReturn,
  percentiles_array: percentileArrayReturn,
  percentilesw_array: percentileArrayReturn,
  any: anyResult(''),
  take_any: anyResult('any_'),
  arg_min: argMinMaxResult('min'),
  arg_max: argMinMaxResult('max'),
  argmin: argMinMaxDeprecatedResult,
  argmax: argMinMaxDeprecatedResult,
};

// ─────────────────────────────── plugins ───────────────────────────────

const openTable: CustomReturn = () => table([], true);
const rowScope: CustomReturn = (c) => table(rowColumns(c));

/** Timeline column, dimension columns, then fixed metric columns (activity_*, session_count, ...). */
function timelineMetrics(metrics: readonly [string, ScalarTypeName][], dimensions = true): CustomReturn {
  return (c) =>
    table([
      ...referencedColumns(c, 'TimelineColumn'),
      ...(dimensions ? referencedColumns(c, 'Dimension') : []),
      ...metrics.map(([n, t]) => col(n, t)),
    ]);
}

/** Fixed columns followed by the input columns (autocluster, basket, diffpatterns). */
function prependColumns(columns: readonly [string, ScalarTypeName][]): CustomReturn {
  return (c) => table([...columns.map(([n, t]) => col(n, t)), ...rowColumns(c)]);
}

/** ai_* plugins: the input columns plus `<text>_<suffix>` (and `<text>_<suffix>_error` when asked for errors). */
function aiResult(textParam: string, suffix: string, type: ScalarTypeName): CustomReturn {
  return (c) => {
    const prefix = resultNameOrEmpty(c.argument(textParam));
    const added = [col(columnName(prefix, suffix), type)];
    if (constantText(c.argument('IncludeErrorMessages')).toLowerCase() === 'true') {
      added.push(col(columnName(prefix, suffix, 'error'), 'string'));
    }
    return table([...rowColumns(c), ...added]);
  };
}

/** geo_polygon_lookup / geo_line_lookup: input columns plus the lookup table's (minus its key unless asked). */
function geoLookup(keyParam: string): CustomReturn {
  return (c) => {
    const lookup = c.argument('LookupTable')?.type;
    if (lookup?.kind !== 'table') return rowScope(c);
    const key = c.argument(keyParam);
    const returnKey =
      key?.isColumn !== true ||
      (c.args.length === 8 && c.args[7]?.isLiteral === true && c.args[7].constantValue === true) ||
      c.args.some((a) => a.name?.toLowerCase() === 'return_lookup_key' && a.isLiteral && a.constantValue === true);
    const keyName = key?.columnName?.toLowerCase();
    const lookupCols = returnKey ? lookup.columns : lookup.columns.filter((x) => x.name.toLowerCase() !== keyName);
    return table(makeColumnNamesUnique([...rowColumns(c), ...lookupCols]));
  };
}

const PLUGIN_RETURNS: Record<string, CustomReturn> = {
  active_users_count: timelineMetrics([['dcount', 'long']]),
  activity_counts_metrics: timelineMetrics([
    ['count', 'long'],
    ['dcount', 'long'],
    ['new_dcount', 'long'],
    ['aggregated_dcount', 'long'],
  ]),
  activity_engagement: timelineMetrics([
    ['dcount_activities_inner', 'long'],
    ['dcount_activities_outer', 'long'],
    ['activity_ratio', 'real'],
  ]),
  activity_metrics: timelineMetrics([
    ['dcount_values', 'long'],
    ['dcount_newvalues', 'long'],
    ['retention_rate', 'real'],
    ['churn_rate', 'real'],
  ]),
  new_activity_metrics: (c) => {
    const timeline = c.argument('TimelineColumn');
    const cols: Column[] = [];
    if (timeline) {
      const name = resultNameOrEmpty(timeline);
      cols.push(
        col(columnName('from', name), colType(timeline.type)),
        col(columnName('to', name), colType(timeline.type)),
      );
    }
    cols.push(...referencedColumns(c, 'Dimension'));
    cols.push(
      col('dcount_new_values', 'long'),
      col('dcount_retained_values', 'long'),
      col('dcount_churn_values', 'long'),
      col('retention_rate', 'real'),
      col('churn_rate', 'real'),
    );
    return table(cols);
  },
  autocluster: prependColumns([
    ['SegmentId', 'long'],
    ['Count', 'long'],
    ['Percent', 'real'],
  ]),
  basket: prependColumns([
    ['SegmentId', 'long'],
    ['Count', 'long'],
    ['Percent', 'real'],
  ]),
  diffpatterns: prependColumns([
    ['SegmentId', 'long'],
    ['CountA', 'long'],
    ['CountB', 'long'],
    ['PercentA', 'real'],
    ['PercentB', 'real'],
    ['PercentDiffAB', 'real'],
  ]),
  // the unpacked bag's properties are only known at run time: the input minus the bag column, open
  bag_unpack: (c) => {
    const bag = c.args[0]?.isColumn ? c.args[0].columnName : undefined;
    return table(
      rowColumns(c).filter((x) => x.name !== bag),
      true,
    );
  },
  dcount_intersect: (c) => table([...rowColumns(c), ...c.args.map((_, i) => col(`s${i}`, 'long'))]),
  estimate_rows_count: () => table([col('EstimatedRowsCount', 'long')]),
  execute_show_command: openTable,
  execute_query: openTable,
  external_datatable: openTable,
  sql_request: openTable,
  mysql_request: openTable,
  postgresql_request: openTable,
  cosmosdb_sql_request: openTable,
  dax_request: openTable,
  azure_digital_twins_query_request: openTable,
  funnel_sequence: (c) => {
    const state = c.argument('StateColumn');
    const cols = referencedColumns(c, 'TimelineColumn');
    if (state) cols.push(col('prev', colType(state.type)), col('next', colType(state.type)));
    cols.push(col('dcount', 'long'), col('samples', 'dynamic'));
    return table(cols);
  },
  funnel_sequence_completion: (c) => {
    const state = c.argument('StateColumn');
    const cols = referencedColumns(c, 'TimelineColumn');
    if (state) cols.push(col(resultNameOrEmpty(state), 'string'));
    cols.push(col('Period', 'timespan'), col('dcount', 'long'));
    return table(cols);
  },
  ai_embed_text: aiResult('Text', 'embedding', 'dynamic'),
  ai_embeddings: aiResult('Text', 'embeddings', 'dynamic'),
  ai_chat_completion: aiResult('Prompt', 'completion', 'string'),
  ai_chat_completion_prompt: aiResult('Prompt', 'completion', 'string'),
  identity: rowScope,
  identity_v3: rowScope,
  rows_near: rowScope,
  // preview yields two tables (the rows and their count); the first one is the operator's result
  preview: rowScope,
  geo_polygon_lookup: geoLookup('LookupPolygonKey'),
  geo_line_lookup: geoLookup('LookupLineKey'),
  ipv4_lookup: (c) => {
    const lookup = c.argument('LookupTable')?.type;
    if (lookup?.kind !== 'table') return rowScope(c);
    const keys = new Set(referencedColumns(c, 'ExtraKey').map((k) => k.name));
    return table(makeColumnNamesUnique([...rowColumns(c), ...lookup.columns.filter((x) => !keys.has(x.name))]));
  },
  ipv6_lookup: (c) => {
    const lookup = c.argument('LookupTable')?.type;
    if (lookup?.kind !== 'table') return rowScope(c);
    return table(makeColumnNamesUnique([...rowColumns(c), ...lookup.columns]));
  },
  // pivot adds one column per distinct value at run time: the kept columns, open
  pivot: (c) => {
    const pivotColumn = c.args[0]?.isColumn ? c.args[0].columnName : undefined;
    const aggregateColumn = c.args[1]?.innerColumnName;
    const listed = c.args.slice(2).flatMap((a) => referencedColumn(a) ?? []);
    const columns = listed.length
      ? listed
      : rowColumns(c).filter((x) => x.name !== pivotColumn && x.name !== aggregateColumn);
    return table(columns, true);
  },
  // python/r/csharp: the output schema given as `typeof(...)`, else unknown
  python: outputSchema,
  r: outputSchema,
  csharp: outputSchema,
  rolling_percentile: (c) => {
    const value = referencedColumn(c.argument('ValueColumn'));
    const bins = literalText(c.argument('BinsPerWindow')) ?? '0';
    const pct = literalText(c.argument('Percentile')) ?? '0';
    return table([
      ...referencedColumns(c, 'IndexColumn'),
      ...referencedColumns(c, 'Dimension'),
      col(`rolling_${bins}_percentile_${value?.name ?? 'value'}_${pct}`, value?.type ?? 'long'),
    ]);
  },
  session_count: timelineMetrics([['count_sessions', 'long']]),
  sequence_detect: (c) => {
    const cols = referencedColumns(c, 'Dimension');
    const timeline = c.argument('TimelineColumn');
    if (timeline) {
      const tName = resultNameOrEmpty(timeline);
      for (const e of c.arguments('Expr'))
        cols.push(col(columnName(resultNameOrEmpty(e), tName), colType(timeline.type)));
    }
    cols.push(col('Duration', 'timespan'));
    return table(cols);
  },
  sliding_window_counts: timelineMetrics([
    ['Count', 'long'],
    ['Dcount', 'long'],
  ]),
};

function outputSchema(c: CustomReturnContext): Type {
  const schema = c.args[0]?.typeOf;
  return schema?.kind === 'table' ? schema : table([], true);
}

/** The shape of the dynamic value some custom returns produce (Kusto types them as arrays or bags). */
export const CUSTOM_DYNAMIC_SHAPES: Readonly<Record<string, DynamicShape>> = {
  array_concat: 'array',
  array_iff: 'array',
  array_iif: 'array',
  pack_array: 'array',
  set_union: 'array',
  set_intersect: 'array',
  set_difference: 'array',
  map: 'array',
  inner_nodes: 'array',
  pack: 'bag',
  pack_dictionary: 'bag',
  bag_pack: 'bag',
  bag_pack_columns: 'bag',
  pack_all: 'bag',
  bag_merge: 'bag',
  bag_remove_keys: 'bag',
  bag_set_key: 'bag',
  series_stats_dynamic: 'bag',
  series_fit_line_dynamic: 'bag',
  series_fit_2lines_dynamic: 'bag',
};

/** Every custom return type, keyed by `SignatureDef.customReturn`. */
export const CUSTOM_RETURNS: Readonly<Record<string, CustomReturn>> = {
  ...SCALAR_RETURNS,
  ...AGGREGATE_RETURNS,
  ...PLUGIN_RETURNS,
};
