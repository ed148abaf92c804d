/**
 * The logical plan: what a bound KQL query computes, with no engine in sight. Plain serializable objects (no
 * classes, no bigint: longs and ticks travel as decimal strings) so a plan can be printed for golden tests, cached
 * and sent between processes. Lowering (lower.ts) builds it from the syntax tree and the semantic model; passes
 * rewrite it; a SQL dialect turns it into SQL.
 *
 * Column references are by KQL name: names are unique within a relation (Kusto guarantees it), and a join's
 * condition names a side explicitly.
 */
import type { ColumnType, ScalarTypeName } from '../binder/types.js';

/** The hidden column a scan exposes for `ingestion_time()` (see ScanRel.ingestionTime). */
export const INGESTION_TIME = '$IngestionTime';

/**
 * A column whose name starts with this is an open bag: the columns of `bag_unpack`/`pivot` results known only at
 * run time. It is not a result column; a reference to a column the relation does not have reads the property of
 * that name (after the prefix that follows this marker in the column's name) from the bag.
 */
export const OPEN_BAG = '\u0000open:';

/** `[start, end]` UTF-16 offsets of the KQL text a plan node came from. */
export type SourceSpan = readonly [number, number];

export interface PlanColumn {
  readonly name: string;
  readonly type: ColumnType;
}

/** A literal value: JSON-safe. long/int/decimal and datetime/timespan ticks as strings. */
export type PlanValue = null | boolean | number | string | PlanValue[] | { [key: string]: PlanValue };

// ───────────────────────────── scalar expressions ─────────────────────────────

export type ScalarExpr =
  /** A column of the input (for join conditions: of the given side). */
  | { readonly kind: 'col'; readonly name: string; readonly type: ColumnType; readonly side?: 'left' | 'right' }
  /** A typed literal. datetime/timespan are tick strings (100 ns since 1970 / duration); long, decimal strings. */
  | {
      readonly kind: 'lit';
      readonly type: ScalarTypeName;
      readonly value: PlanValue;
      /** A dynamic literal's JSON text when it says more than `value` (reals written `1.0` stay reals). */
      readonly json?: string;
    }
  /** A built-in scalar function (by KQL name). `span` locates the call in the query text for diagnostics. */
  | {
      readonly kind: 'call';
      readonly fn: string;
      readonly args: readonly ScalarExpr[];
      readonly type: ColumnType;
      readonly span?: SourceSpan;
    }
  /** An operator (by Kusto operator kind: `Add`, `Equal`, `Has`, `In`, `Between`, `And`, `UnaryMinus`, ...). */
  | {
      readonly kind: 'op';
      readonly op: string;
      readonly args: readonly ScalarExpr[];
      readonly type: ColumnType;
      readonly span?: SourceSpan;
    }
  /** `x in (T | project c)`: membership in the first column of a relation. */
  | {
      readonly kind: 'in-rel';
      readonly op: string;
      readonly value: ScalarExpr;
      readonly rel: Rel;
      readonly type: ColumnType;
    }
  /** Property / element access on a dynamic value: `d.a[0]["b"]`; a path element may be computed. */
  | {
      readonly kind: 'path';
      readonly expr: ScalarExpr;
      readonly path: readonly (string | number | ScalarExpr)[];
      readonly type: ColumnType;
    }
  /** `toscalar(T | ...)`: the first column of the first row. */
  | { readonly kind: 'subquery'; readonly rel: Rel; readonly type: ColumnType }
  /**
   * An aggregate call; only inside `aggregate` / `make-series` nodes. Elements of one multi-column aggregate
   * (`arg_max(x, *)`, `take_any(a, b)`) share a `group`, so they come from the same row.
   */
  | {
      readonly kind: 'agg';
      readonly fn: string;
      readonly args: readonly ScalarExpr[];
      readonly type: ColumnType;
      readonly group?: string;
      readonly span?: SourceSpan;
    }
  /**
   * A function over serialized rows (`row_number`, `prev`, `next`, `row_cumsum`, ...); only in `window` nodes. The
   * rows are the input in its current order, split by `partition` when present (mv-apply and partition sub-queries
   * run once per input row or group: their row functions restart per partition).
   */
  | {
      readonly kind: 'win';
      readonly fn: string;
      readonly args: readonly ScalarExpr[];
      readonly type: ColumnType;
      readonly partition?: readonly ScalarExpr[];
    }
  /** A `*` argument (e.g. `pack_all()` rows, `hash(*)`): all input columns in order. */
  | { readonly kind: 'star'; readonly columns: readonly PlanColumn[]; readonly type: ColumnType };

export interface NamedScalar {
  readonly name: string;
  readonly expr: ScalarExpr;
}

export interface SortKey {
  readonly expr: ScalarExpr;
  readonly descending: boolean;
  readonly nullsFirst: boolean;
}

export type JoinKind =
  | 'innerunique'
  | 'inner'
  | 'leftouter'
  | 'rightouter'
  | 'fullouter'
  | 'leftsemi'
  | 'leftanti'
  | 'rightsemi'
  | 'rightanti';

// ───────────────────────────── relations ─────────────────────────────

interface RelBase {
  /** The output columns, in order. */
  readonly columns: readonly PlanColumn[];
}

export interface ScanRel extends RelBase {
  readonly kind: 'scan';
  readonly table: string;
  /**
   * The scan also reads the table's ingestion time as the hidden column INGESTION_TIME (what `ingestion_time()`
   * returns): carried through row-preserving operators, never part of `columns`.
   */
  readonly ingestionTime?: boolean;
  /**
   * Time ranges every row the query keeps satisfies (set by the time-filter pass, plan/passes/time-filter.ts):
   * the filter above the scan still applies them, so an engine may use them only to skip storage (DuckDB zone
   * maps, ClickHouse primary-key ranges) or ignore them. A row whose column is null is outside every range.
   */
  readonly timeRanges?: readonly TimeRange[];
}
/** A bound of a time range: datetime ticks (100 ns since 1970, as a decimal string). */
export interface TimeBound {
  readonly ticks: string;
  readonly inclusive: boolean;
}
/** `lower <(=) column <(=) upper` on one datetime column of a scanned table; a missing bound is open. */
export interface TimeRange {
  readonly column: string;
  readonly lower: TimeBound | null;
  readonly upper: TimeBound | null;
}
/** Literal rows (`datatable`, `print`). */
export interface ValuesRel extends RelBase {
  readonly kind: 'values';
  readonly rows: readonly (readonly ScalarExpr[])[];
}
export interface RangeRel extends RelBase {
  readonly kind: 'range';
  readonly from: ScalarExpr;
  readonly to: ScalarExpr;
  readonly step: ScalarExpr;
}
export interface FilterRel extends RelBase {
  readonly kind: 'filter';
  readonly input: Rel;
  readonly predicate: ScalarExpr;
}
/** Computes each output column from the input row (project, extend, rename, reorder, project-away). */
export interface ProjectRel extends RelBase {
  readonly kind: 'project';
  readonly input: Rel;
  readonly exprs: readonly ScalarExpr[];
}
export interface AggregateRel extends RelBase {
  readonly kind: 'aggregate';
  readonly input: Rel;
  /** Output columns: keys first, then aggregates (scalar expressions over `agg` nodes). */
  readonly keys: readonly NamedScalar[];
  readonly aggregates: readonly NamedScalar[];
}
export interface SortRel extends RelBase {
  readonly kind: 'sort';
  readonly input: Rel;
  readonly keys: readonly SortKey[];
}
export interface LimitRel extends RelBase {
  readonly kind: 'limit';
  readonly input: Rel;
  readonly count: ScalarExpr;
}
export interface DistinctRel extends RelBase {
  readonly kind: 'distinct';
  readonly input: Rel;
}
export interface JoinRel extends RelBase {
  readonly kind: 'join';
  readonly joinKind: JoinKind;
  readonly left: Rel;
  readonly right: Rel;
  /** Equality keys. */
  readonly on: readonly { readonly left: ScalarExpr; readonly right: ScalarExpr }[];
  /** Extra condition over both sides (`join ... where`). */
  readonly where: ScalarExpr | null;
  /** For each output column: which side and which input column it comes from. */
  readonly output: readonly { readonly side: 'left' | 'right'; readonly name: string }[];
}
export interface UnionRel extends RelBase {
  readonly kind: 'union';
  readonly inputs: readonly Rel[];
  /** Per input, for each output column: the input column name, or null to fill with null/empty. */
  readonly mapping: readonly (readonly (string | null)[])[];
  /** `withsource=`: the source column's value per input (null when absent). */
  readonly sourceValues: readonly string[] | null;
}
export interface MvExpandRel extends RelBase {
  readonly kind: 'mv-expand';
  readonly input: Rel;
  /** Expanded columns (replacing or added) with their element type. */
  readonly items: readonly { readonly name: string; readonly expr: ScalarExpr; readonly type: ColumnType }[];
  readonly bagExpansion: 'bag' | 'array';
  readonly indexColumn: string | null;
  readonly limit: ScalarExpr | null;
}
/** Window functions over the input in its current order (serialize, extend with row functions). */
export interface WindowRel extends RelBase {
  readonly kind: 'window';
  readonly input: Rel;
  readonly exprs: readonly ScalarExpr[];
}
/** A named shared relation (a tabular `let`, `materialize`, `as`). */
export interface RefRel extends RelBase {
  readonly kind: 'ref';
  readonly name: string;
}
export interface WithRel extends RelBase {
  readonly kind: 'with';
  readonly bindings: readonly { readonly name: string; readonly rel: Rel; readonly materialized: boolean }[];
  readonly body: Rel;
}
/**
 * `make-series`: per group, each aggregate over the bins `from + i * step` (i = 0..) below `to` (exclusive), as a
 * dynamic array, plus the axis array. Without `from`/`to`, the range is the first to the last bin with data.
 */
export interface MakeSeriesRel extends RelBase {
  readonly kind: 'make-series';
  readonly input: Rel;
  readonly keys: readonly NamedScalar[];
  readonly aggregates: readonly (NamedScalar & { readonly defaultValue: ScalarExpr })[];
  readonly axis: NamedScalar;
  readonly from: ScalarExpr | null;
  readonly to: ScalarExpr | null;
  readonly step: ScalarExpr;
  /** `kind=nonempty`: an empty input still yields one row of default-filled series (only without `by`). */
  readonly nonEmpty?: boolean;
}

export type Rel =
  | ScanRel
  | ValuesRel
  | RangeRel
  | FilterRel
  | ProjectRel
  | AggregateRel
  | SortRel
  | LimitRel
  | DistinctRel
  | JoinRel
  | UnionRel
  | MvExpandRel
  | WindowRel
  | RefRel
  | WithRel
  | MakeSeriesRel;

export type RelKind = Rel['kind'];

/** What the query asks the client to draw (`render`), carried with the result. */
export interface Visualization {
  readonly type: string;
  readonly properties: Readonly<Record<string, PlanValue>>;
}

export interface QueryPlan {
  readonly rel: Rel;
  readonly visualization: Visualization | null;
}
