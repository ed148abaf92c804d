/**
 * A SQL dialect = capability flags + tables of templates (operators, scalar functions, aggregates, window
 * functions) + a few structural overrides. The generator (generate.ts) is engine-neutral: everything specific to
 * DuckDB or ClickHouse lives in `dialects/<name>/`. A template that cannot express a call calls `ctx.unsupported`,
 * which becomes a compile-time diagnostic with the KQL span — never wrong SQL.
 */
import type { ColumnType, ScalarTypeName } from '../binder/types.js';
import type { PlanValue, ScalarExpr } from '../plan/nodes.js';

/** A compiled argument: its SQL text, KQL type, and the literal it came from (when it is one). */
export interface SqlArg {
  readonly sql: string;
  readonly type: ColumnType;
  /** The literal value when the argument is a literal (after folding), else undefined. */
  readonly literal?: { readonly value: PlanValue; readonly type: ScalarTypeName };
  /** The plan expression, for templates that need more than SQL text (e.g. `*` columns). */
  readonly expr: ScalarExpr;
}

export interface TemplateContext {
  /** The KQL result type of the call being compiled. */
  readonly resultType: ColumnType;
  readonly dialect: Dialect;
  /** Abandons compilation of the call with a clear reason (reported with the call's span). */
  unsupported(reason: string): never;
  /** Compiles a literal of the given type in this dialect. */
  literal(value: PlanValue, type: ScalarTypeName): string;
  /**
   * For aggregates over an input with a known row order: its `ORDER BY` text, so order-sensitive aggregates
   * (make_list, take_any, arg_max ties) follow it as Kusto does.
   */
  readonly withinOrder?: string;
}

export type Template = (args: readonly SqlArg[], ctx: TemplateContext) => string;

export interface DialectCapabilities {
  /** `SELECT DISTINCT ON (...)` (DuckDB) vs `LIMIT 1 BY` (ClickHouse) for innerunique joins. */
  readonly distinctOn: boolean;
  /** `SEMI JOIN` / `ANTI JOIN` keywords. */
  readonly semiAntiJoin: boolean;
  /** `UNION ALL BY NAME` (columns matched by name, missing ones null): keeps wide sparse unions small. */
  readonly unionByName?: boolean;
  /**
   * graph-mark-components: its label propagation is a chain of ~100 nested relations (plan/graph.ts), which an
   * engine that inlines CTEs as subqueries with a depth limit cannot run (ClickHouse: 100). Refused unless true.
   */
  readonly graphComponents?: boolean;
  /**
   * `t.*` over a join names a column both sides have `t.c` (ClickHouse), so the generator selects such columns by
   * name (scan's recursive step).
   */
  readonly qualifiedJoinStar?: boolean;
}

/** The row window a window function sees: partition expressions and the `ORDER BY` text of the serialized order. */
export interface WindowSpec {
  readonly partitionBy: readonly string[];
  readonly orderBy: string;
}

export type WindowTemplate = (args: readonly SqlArg[], w: WindowSpec, ctx: TemplateContext) => string;

/**
 * Operator-level SQL that differs between engines (see generate.ts): window primitives, structs for multi-valued
 * results, list building and expansion for make-series / mv-expand / mv-apply.
 */
export interface RelationalTemplates {
  /** Window primitives (`$row_number`, `$lag`, `$lead`, `$running_sum`, ...) the generator composes KQL's from. */
  readonly windows: Readonly<Record<string, WindowTemplate>>;
  /** A struct (record) of named values; `structField` reads one back. */
  struct(fields: readonly (readonly [string, string])[]): string;
  structField(sql: string, name: string): string;
  /**
   * Element `name` (position `index`) of a tuple-valued function result: a function that returns a KQL tuple
   * (`series_fit_line`, `series_decompose`, ...) has a template returning a struct whose fields are named like the
   * tuple's columns (Kusto's default names), and lowering reads each element through this.
   */
  tupleElement(sql: string, name: string, index: number): string;
  /**
   * A schema probe's SELECT over `input` (see plan/lower.ts SchemaProbe): rows `(name, type)` in column order —
   * `bag-keys`: the properties of the JSON bags `value` takes, typed by their values (KQL type names);
   * `pivot-values`: the distinct texts of `value`, each typed `valueType`.
   */
  probe?(kind: 'bag-keys' | 'pivot-values', value: string, input: string, valueType: string): string;
  /**
   * A FROM item numbering rows 0..`last` in column `column` (`range`); absent: DuckDB's
   * `generate_series(0, last) AS t(column)`.
   */
  series?(last: string, column: string): string;
  /**
   * The select items that expand lists (`mv-expand`): one row per position of the longest list, list i's element
   * (null past its end) in column `"__v<i>"`, the position in `index` when given; absent: DuckDB's `unnest`.
   */
  expandLists?(lists: readonly string[], index: string | null): string[];
  /** The SELECT of a `make-series` over `spec.input` (see MakeSeriesSpec); absent when unsupported. */
  makeSeries?(spec: MakeSeriesSpec, ctx: TemplateContext): string;
}

/**
 * A compiled `make-series`: keys and aggregates are SQL over the input's columns; each output column of the SELECT
 * is named by its (quoted) alias; the series are dynamic arrays of the bins `from + i * step` below `to`.
 */
export interface MakeSeriesSpec {
  /** The quoted name of the input relation. */
  readonly input: string;
  readonly keys: readonly { readonly sql: string; readonly alias: string }[];
  readonly aggregates: readonly { readonly value: SqlArg; readonly default: SqlArg; readonly alias: string }[];
  readonly axis: SqlArg;
  readonly axisAlias: string;
  /** Null: the first bin with data. */
  readonly from: SqlArg | null;
  /** Null: after the last bin with data; otherwise exclusive. */
  readonly to: SqlArg | null;
  readonly step: SqlArg;
  /** One row of defaults even when the input is empty (`kind=nonempty`, no keys). */
  readonly nonEmpty: boolean;
}

export interface Dialect {
  readonly name: 'duckdb' | 'clickhouse';
  readonly capabilities: DialectCapabilities;
  /** The storage / cast type of a KQL scalar type. */
  readonly types: Readonly<Record<ScalarTypeName, string>>;
  quoteIdentifier(name: string): string;
  /**
   * A literal of a KQL type; `value` is a PlanValue (ticks and longs as strings). `json`: a dynamic literal's exact
   * JSON text (reals written `1.0`), when the dialect can keep it.
   */
  literal(value: PlanValue, type: ScalarTypeName, json?: string): string;
  /** A typed null of a KQL type (a string null is the empty string: KQL strings are never null). */
  nullOf(type: ColumnType): string;
  /** Operators by Kusto operator kind (`Add`, `Equal`, `Has`, `In`, ...). */
  readonly operators: Readonly<Record<string, Template>>;
  /** Scalar functions by KQL name. */
  readonly functions: Readonly<Record<string, Template>>;
  /** Aggregates by KQL name (args are the compiled aggregate arguments). */
  readonly aggregates: Readonly<Record<string, Template>>;
  /** Dynamic property/element access: `base` is a dynamic value, steps are names, indexes or computed SQL. */
  path(base: SqlArg, steps: readonly (string | number | SqlArg)[]): string;
  /**
   * A join key condition (Kusto's keys match when equal or both null); absent: `l IS NOT DISTINCT FROM r`. A dialect
   * may use plain equality where a null cannot occur (strings), which some engines hash-join faster.
   */
  joinKeyEquals?(l: SqlArg, r: SqlArg): string;
  /**
   * For a join whose condition has no equality between the sides (`geo_*_lookup`, `ipv6_lookup`): an always-true
   * equality of a column of each side, for engines whose joins need one (ClickHouse: "Cannot determine join keys").
   */
  joinWithoutKeys?(left: string, right: string): string;
  /** `toscalar()`'s typed result of a one-column sub-select. */
  scalarSubquery(select: string): string;
  /** Operator-level templates (windows, structs, series). */
  readonly relational: RelationalTemplates;
}
