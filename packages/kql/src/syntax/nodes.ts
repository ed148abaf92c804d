/**
 * The KQL syntax tree produced by the parser and consumed by the binder.
 *
 * Every node is a plain readonly object with a `kind` literal and a UTF-16 span (`start`, `end`), so trees can be
 * printed, compared in golden tests and sent to a worker. The parser is error tolerant: it always returns a
 * complete tree. Where a required piece is missing, it inserts a zero-width `Missing` node (with a diagnostic), so
 * the binder never sees `undefined` where the grammar requires something.
 *
 * Query operators are expressions too (as in Kusto.Language): `T | where x` is `Pipe{left: Name T, op: Where}`,
 * and an operator without input (`range`, `print`, `datatable`, `union`, or the first operator of a sub-query as in
 * `fork (where x | take 3)`) simply appears as an expression of its own. The binder decides where that is legal.
 */

export interface Span {
  readonly start: number;
  readonly end: number;
}

interface NodeBase extends Span {}

// ───────────────────────────── names, types, literals ─────────────────────────────

/** An identifier: `Foo`, `['a b']`, `["x"]`, `$left`, `$right`. `name` is the unquoted name. */
export interface Name extends NodeBase {
  readonly kind: 'Name';
  readonly name: string;
  /** Written as `['...']` or `["..."]`. */
  readonly bracketed: boolean;
}

/** A column-name pattern with `*` wildcards, as in `project-away Foo*` or `union T*`. */
export interface Wildcard extends NodeBase {
  readonly kind: 'Wildcard';
  readonly pattern: string;
}

/** Scalar type names as written in KQL (aliases such as `boolean`, `double`, `date` kept as written). */
export type TypeName = string;

/** `name: type` in `datatable(...)`, `parse ... with`, `typeof(...)`, `parse-kv ... as (...)`. */
export interface ColumnDecl extends NodeBase {
  readonly kind: 'ColumnDecl';
  readonly name: Name;
  /** Missing for untyped columns (e.g. `parse ... with x` means string). */
  readonly type: TypeRef | null;
}

/** A written type: a scalar type name, or a tabular schema `(a:long, b:string)` / `(*)` in function parameters. */
export interface TypeRef extends NodeBase {
  readonly kind: 'TypeRef';
  /** Scalar type name as written (e.g. `long`, `boolean`), or null for a tabular schema. */
  readonly scalar: TypeName | null;
  /** Columns for a tabular schema; `star` true when the schema contains `*` (open schema). */
  readonly columns: readonly ColumnDecl[] | null;
  readonly star: boolean;
}

export type LiteralType =
  | 'bool'
  | 'int'
  | 'long'
  | 'real'
  | 'decimal'
  | 'string'
  | 'datetime'
  | 'timespan'
  | 'guid'
  | 'dynamic';

/** A JSON-like value inside `dynamic(...)`. Longs are bigint, datetimes/timespans are tagged objects. */
export type DynamicValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | { readonly $datetime: bigint }
  | { readonly $timespan: bigint }
  | { readonly $guid: string }
  | readonly DynamicValue[]
  | { readonly [key: string]: DynamicValue };

/**
 * A literal. `value` is the parsed value:
 * - bool: boolean; int/long: bigint; real: number (NaN/±Infinity allowed); decimal: string (exact text);
 * - string: string (escapes resolved); datetime: bigint ticks (100 ns) since 1970-01-01Z; timespan: bigint ticks;
 * - guid: lower-case canonical string; dynamic: DynamicValue.
 * `value` is null for a typed null such as `long(null)`, `datetime(null)`, `dynamic(null)`.
 */
export interface Literal extends NodeBase {
  readonly kind: 'Literal';
  readonly type: LiteralType;
  readonly value: boolean | bigint | number | string | DynamicValue | null;
  /** The source text, for printing and diagnostics. */
  readonly text: string;
}

/** `typeof(long)` or `typeof(a:long, b:string)` / `typeof(*)` as used by plugins and `bag_unpack`. */
export interface TypeOf extends NodeBase {
  readonly kind: 'TypeOf';
  readonly type: TypeRef;
}

/** A zero-width placeholder for something required but missing; the parser reported a diagnostic for it. */
export interface Missing extends NodeBase {
  readonly kind: 'Missing';
}

// ───────────────────────────── scalar expressions ─────────────────────────────

/** `*` as an argument (`arg_max(x, *)`, `count(*)`?) or in `distinct *`. */
export interface Star extends NodeBase {
  readonly kind: 'Star';
}

/** `a.b` (dynamic property, `$left.x`, `database('d').T`). */
export interface Member extends NodeBase {
  readonly kind: 'Member';
  readonly expr: Expr;
  readonly member: Name;
}

/** `a[0]`, `a['key']`, `a[-1]`. */
export interface Index extends NodeBase {
  readonly kind: 'Index';
  readonly expr: Expr;
  readonly index: Expr;
}

/** `f(a, b, name = c)`. Also `T.f()` style calls have `target`. */
export interface Call extends NodeBase {
  readonly kind: 'Call';
  readonly target: Expr | null;
  readonly name: Name;
  readonly args: readonly Expr[];
}

/** `name = value` inside call arguments (named arguments of functions and plugins). */
export interface NamedArg extends NodeBase {
  readonly kind: 'NamedArg';
  readonly name: Name;
  readonly value: Expr;
}

export type UnaryOp = '-' | '+';

export interface Unary extends NodeBase {
  readonly kind: 'Unary';
  readonly op: UnaryOp;
  readonly operand: Expr;
}

/** Binary operators, spelled as in KQL (string operators keep their `!` and `_cs` forms). */
export type BinaryOp =
  | 'or'
  | 'and'
  | '=='
  | '!='
  | '<>'
  | '<'
  | '<='
  | '>'
  | '>='
  | '=~'
  | '!~'
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | 'has'
  | '!has'
  | 'has_cs'
  | '!has_cs'
  | 'hasprefix'
  | '!hasprefix'
  | 'hasprefix_cs'
  | '!hasprefix_cs'
  | 'hassuffix'
  | '!hassuffix'
  | 'hassuffix_cs'
  | '!hassuffix_cs'
  | 'contains'
  | '!contains'
  | 'contains_cs'
  | '!contains_cs'
  | 'startswith'
  | '!startswith'
  | 'startswith_cs'
  | '!startswith_cs'
  | 'endswith'
  | '!endswith'
  | 'endswith_cs'
  | '!endswith_cs'
  | 'matches regex'
  | 'like'
  | '!like'
  | 'like_cs'
  | '!like_cs';

export interface Binary extends NodeBase {
  readonly kind: 'Binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  /** Span of the operator token(s), for diagnostics. */
  readonly opStart: number;
}

export type InOp = 'in' | '!in' | 'in~' | '!in~' | 'has_any' | 'has_all';

/** `x in (a, b)`, `x !in~ (T | project c)`, `x has_any ("a", "b")`, `x in (dynamic([1,2]))`. */
export interface In extends NodeBase {
  readonly kind: 'In';
  readonly op: InOp;
  readonly left: Expr;
  readonly list: readonly Expr[];
}

/** `x between (a .. b)` / `x !between (a .. b)`. */
export interface Between extends NodeBase {
  readonly kind: 'Between';
  readonly negated: boolean;
  readonly left: Expr;
  readonly low: Expr;
  readonly high: Expr;
}

export interface Paren extends NodeBase {
  readonly kind: 'Paren';
  readonly expr: Expr;
}

/** `name = expr` or `(a, b) = expr` in project/extend/summarize/print/by lists. */
export interface NamedExpr extends NodeBase {
  readonly kind: 'NamedExpr';
  /** One name, or several for a tuple assignment `(a, b) = series_fit_line(...)`. */
  readonly names: readonly Name[];
  readonly expr: Expr;
}

/** `expr [asc|desc] [nulls first|last]` in sort/top/order/project-reorder. */
export interface Ordered extends NodeBase {
  readonly kind: 'Ordered';
  readonly expr: Expr;
  readonly direction: 'asc' | 'desc' | null;
  readonly nulls: 'first' | 'last' | null;
  /** For `project-reorder`: `asc`/`desc`/`granny-asc`/`granny-desc` apply to the name order, kept as written. */
  readonly directionText: string | null;
}

// ───────────────────────────── tabular structure ─────────────────────────────

/** `left | op`. */
export interface Pipe extends NodeBase {
  readonly kind: 'Pipe';
  readonly left: Expr;
  readonly op: QueryOperator;
}

/** `name = value` operator parameters: `kind=inner`, `hint.strategy=shuffle`, `withsource=T`, `isfuzzy=true`. */
export interface OperatorParam extends NodeBase {
  readonly kind: 'OperatorParam';
  /** As written, case preserved (e.g. `hint.strategy`, `with_itemindex`, `bagexpansion`). */
  readonly name: string;
  /** A Name for identifier values (`kind=inner`), otherwise a literal or expression. */
  readonly value: Expr;
}

interface OperatorBase extends NodeBase {
  readonly params: readonly OperatorParam[];
}

export interface Where extends OperatorBase {
  readonly kind: 'Where';
  /** `where` or its alias `filter`. */
  readonly keyword: 'where' | 'filter';
  readonly predicate: Expr;
}
export interface Project extends OperatorBase {
  readonly kind: 'Project';
  readonly items: readonly Expr[];
}
export interface ProjectAway extends OperatorBase {
  readonly kind: 'ProjectAway';
  readonly items: readonly Expr[];
}
export interface ProjectKeep extends OperatorBase {
  readonly kind: 'ProjectKeep';
  readonly items: readonly Expr[];
}
/** `project-rename New = Old, ...` — items are NamedExpr whose expr is the old Name. */
export interface ProjectRename extends OperatorBase {
  readonly kind: 'ProjectRename';
  readonly items: readonly Expr[];
}
/** `project-reorder a, b* asc` — items are Name/Wildcard or Ordered. */
export interface ProjectReorder extends OperatorBase {
  readonly kind: 'ProjectReorder';
  readonly items: readonly Expr[];
}
export interface ProjectByNames extends OperatorBase {
  readonly kind: 'ProjectByNames';
  readonly items: readonly Expr[];
}
export interface Extend extends OperatorBase {
  readonly kind: 'Extend';
  readonly items: readonly Expr[];
}
export interface Summarize extends OperatorBase {
  readonly kind: 'Summarize';
  readonly aggregates: readonly Expr[];
  readonly by: readonly Expr[];
}
export interface Count extends OperatorBase {
  readonly kind: 'Count';
  /** `count as Name`. */
  readonly asName: Name | null;
}
export interface Take extends OperatorBase {
  readonly kind: 'Take';
  readonly keyword: 'take' | 'limit';
  readonly count: Expr;
}
export interface Top extends OperatorBase {
  readonly kind: 'Top';
  readonly count: Expr;
  readonly by: Ordered;
}
export interface TopNestedClause extends NodeBase {
  readonly kind: 'TopNestedClause';
  /** Null when written `top-nested of X by ...` without a count. */
  readonly count: Expr | null;
  /** The `of` expression, possibly a NamedExpr. */
  readonly of: Expr;
  readonly withOthers: Expr | null;
  /** The `by` aggregation, possibly a NamedExpr. */
  readonly by: Expr;
  readonly direction: 'asc' | 'desc' | null;
}
export interface TopNested extends OperatorBase {
  readonly kind: 'TopNested';
  readonly clauses: readonly TopNestedClause[];
}
export interface TopHitters extends OperatorBase {
  readonly kind: 'TopHitters';
  readonly count: Expr;
  readonly of: Expr;
  readonly by: Expr | null;
}
export interface Sort extends OperatorBase {
  readonly kind: 'Sort';
  readonly keyword: 'sort' | 'order';
  readonly by: readonly Ordered[];
}
export interface Distinct extends OperatorBase {
  readonly kind: 'Distinct';
  /** Column expressions, or a single Star. */
  readonly items: readonly Expr[];
}
export interface Join extends OperatorBase {
  readonly kind: 'Join';
  readonly right: Expr;
  /** `on a, $left.b == $right.c`; null when `where` is used (`join ... where $left.x == $right.y`). */
  readonly on: readonly Expr[] | null;
  readonly where: Expr | null;
}
export interface Lookup extends OperatorBase {
  readonly kind: 'Lookup';
  readonly right: Expr;
  readonly on: readonly Expr[];
}
/** `union [params] T1, T2*, (expr)`. When used after a pipe, the pipe input is the first leg. */
export interface Union extends OperatorBase {
  readonly kind: 'Union';
  readonly tables: readonly Expr[];
}
/** One expanded column of mv-expand / mv-apply: `[name =] expr [to typeof(t)]`. */
export interface MvExpandItem extends NodeBase {
  readonly kind: 'MvExpandItem';
  readonly expr: Expr;
  readonly toType: TypeRef | null;
}
export interface MvExpand extends OperatorBase {
  readonly kind: 'MvExpand';
  readonly keyword: 'mv-expand' | 'mvexpand';
  readonly items: readonly MvExpandItem[];
  readonly limit: Expr | null;
}
export interface MvApply extends OperatorBase {
  readonly kind: 'MvApply';
  readonly keyword: 'mv-apply' | 'mvapply';
  readonly items: readonly MvExpandItem[];
  readonly limit: Expr | null;
  /** `id_column` of `mv-apply ... id=...`? rarely used; kept as a param. The sub-query after `on`. */
  readonly subquery: Expr;
}
/** A part of a parse pattern: a string literal, a column (`name[:type]`), or `*`. */
export type ParsePatternPart = Literal | ColumnDecl | Star;
export interface Parse extends OperatorBase {
  readonly kind: 'Parse';
  readonly expr: Expr;
  readonly pattern: readonly ParsePatternPart[];
}
export interface ParseWhere extends OperatorBase {
  readonly kind: 'ParseWhere';
  readonly expr: Expr;
  readonly pattern: readonly ParsePatternPart[];
}
export interface ParseKv extends OperatorBase {
  readonly kind: 'ParseKv';
  readonly expr: Expr;
  readonly columns: readonly ColumnDecl[];
  /** The `with (pair_delimiter=..., kv_delimiter=..., quote=..., escape=..., greedy=...)` options. */
  readonly options: readonly OperatorParam[];
}
export interface MakeSeriesAggregate extends NodeBase {
  readonly kind: 'MakeSeriesAggregate';
  /** Aggregate expression, possibly a NamedExpr. */
  readonly expr: Expr;
  readonly defaultValue: Expr | null;
}
export interface MakeSeries extends OperatorBase {
  readonly kind: 'MakeSeries';
  readonly aggregates: readonly MakeSeriesAggregate[];
  readonly on: Expr;
  /** `from a to b step s` or `in range(a, b, s)`; from/to are optional in the first form. */
  readonly from: Expr | null;
  readonly to: Expr | null;
  readonly step: Expr;
  readonly inRange: boolean;
  readonly by: readonly Expr[];
}
export interface Evaluate extends OperatorBase {
  readonly kind: 'Evaluate';
  readonly call: Call;
}
export interface Render extends OperatorBase {
  readonly kind: 'Render';
  readonly chart: Name;
  /** `with (title="x", kind=stacked, ...)` and the legacy `kind=stacked` after the chart type. */
  readonly properties: readonly OperatorParam[];
}
export interface Serialize extends OperatorBase {
  readonly kind: 'Serialize';
  readonly items: readonly Expr[];
}
export interface Sample extends OperatorBase {
  readonly kind: 'Sample';
  readonly count: Expr;
}
export interface SampleDistinct extends OperatorBase {
  readonly kind: 'SampleDistinct';
  readonly count: Expr;
  readonly of: Expr;
}
export interface As extends OperatorBase {
  readonly kind: 'As';
  readonly name: Name;
}
export interface GetSchema extends OperatorBase {
  readonly kind: 'GetSchema';
}
export interface Consume extends OperatorBase {
  readonly kind: 'Consume';
}
export interface Invoke extends OperatorBase {
  readonly kind: 'Invoke';
  readonly call: Call;
}
export interface Fork extends OperatorBase {
  readonly kind: 'Fork';
  /** Each branch is a sub-query (may start with an operator) optionally named `(...) as name`? No: by `| as name`. */
  readonly branches: readonly Expr[];
}
export interface Facet extends OperatorBase {
  readonly kind: 'Facet';
  readonly by: readonly Expr[];
  /** `with (subquery)` or `with operator` (a single operator); null when absent. */
  readonly with: Expr | null;
}
export interface Partition extends OperatorBase {
  readonly kind: 'Partition';
  readonly by: Expr;
  /** The sub-query in `( ... )` (starts with an operator) or the expression in `{ ... }`. */
  readonly subquery: Expr;
  readonly braces: boolean;
}
export interface ScanStep extends NodeBase {
  readonly kind: 'ScanStep';
  readonly name: Name;
  readonly optional: boolean;
  /** `output=all|last|none`, as written, or null. */
  readonly output: string | null;
  readonly predicate: Expr;
  /** `=> col = expr, ...` assignments (NamedExpr). */
  readonly assignments: readonly Expr[];
}
export interface Scan extends OperatorBase {
  readonly kind: 'Scan';
  readonly orderBy: readonly Ordered[];
  readonly partitionBy: readonly Expr[];
  readonly declare: readonly FunctionParam[];
  readonly steps: readonly ScanStep[];
}
export interface Reduce extends OperatorBase {
  readonly kind: 'Reduce';
  readonly by: Expr;
  /** `with threshold=0.1, characters="..."`. */
  readonly options: readonly OperatorParam[];
}
export interface MacroExpand extends OperatorBase {
  readonly kind: 'MacroExpand';
  readonly entityGroup: Expr;
  /** `as ScopeName`; optional in the syntax. */
  readonly asName: Name | null;
  readonly body: Expr;
}
export interface AssertSchema extends OperatorBase {
  readonly kind: 'AssertSchema';
  readonly schema: TypeRef;
}
export interface Search extends OperatorBase {
  readonly kind: 'Search';
  /** `search in (T1, T2) ...`; null when absent. */
  readonly tables: readonly Expr[] | null;
  readonly predicate: Expr;
}
export interface Find extends OperatorBase {
  readonly kind: 'Find';
  readonly tables: readonly Expr[] | null;
  readonly predicate: Expr;
  /** `project a, b` / `project-smart` / null. */
  readonly project: readonly Expr[] | null;
  readonly projectSmart: boolean;
}
export interface Datatable extends OperatorBase {
  readonly kind: 'Datatable';
  readonly schema: TypeRef;
  readonly values: readonly Expr[];
}
export interface ExternalData extends OperatorBase {
  readonly kind: 'ExternalData';
  readonly schema: TypeRef;
  readonly uris: readonly Expr[];
  readonly options: readonly OperatorParam[];
}
export interface Range extends OperatorBase {
  readonly kind: 'Range';
  readonly name: Name;
  readonly from: Expr;
  readonly to: Expr;
  readonly step: Expr;
}
export interface Print extends OperatorBase {
  readonly kind: 'Print';
  readonly items: readonly Expr[];
}
/** Graph operators (`make-graph`, `graph-match`, ...) are parsed generically: keyword + raw clause expressions. */
export interface GraphOperator extends OperatorBase {
  readonly kind: 'GraphOperator';
  readonly keyword: string;
  readonly clauses: readonly Expr[];
  /**
   * graph-match / graph-shortest-paths: the shape of each pattern clause (one per leading `pattern(...)` call of
   * `clauses`), since the call keeps only names and bounds; and whether a `where` clause follows the patterns.
   */
  readonly graphPatterns?: readonly (readonly GraphPatternElement[])[];
  readonly graphWhere?: boolean;
}
/** One element of a graph pattern as written: `(n)`, `()`, `-[e*1..3]->`, `<--`, `--`. */
export interface GraphPatternElement {
  readonly element: 'node' | 'edge';
  /** Index of the element's name among its pattern call's arguments; -1 when anonymous. */
  readonly nameArg: number;
  /** Edges: `out` (`-->`, `-[e]->`), `in` (`<--`, `<-[e]-`) or `any` (`--`, `-[e]-`). */
  readonly direction?: 'out' | 'in' | 'any';
  /** Variable-length edges (`*min..max`): indexes of the two bounds among the call's arguments. */
  readonly boundArgs?: readonly [number, number];
}
/** Internal or rarely used operators parsed leniently (`__executeAndCache`, `inline_external_table`, ...). */
export interface OtherOperator extends OperatorBase {
  readonly kind: 'OtherOperator';
  readonly keyword: string;
  readonly args: readonly Expr[];
}

export type QueryOperator =
  | Where
  | Project
  | ProjectAway
  | ProjectKeep
  | ProjectRename
  | ProjectReorder
  | ProjectByNames
  | Extend
  | Summarize
  | Count
  | Take
  | Top
  | TopNested
  | TopHitters
  | Sort
  | Distinct
  | Join
  | Lookup
  | Union
  | MvExpand
  | MvApply
  | Parse
  | ParseWhere
  | ParseKv
  | MakeSeries
  | Evaluate
  | Render
  | Serialize
  | Sample
  | SampleDistinct
  | As
  | GetSchema
  | Consume
  | Invoke
  | Fork
  | Facet
  | Partition
  | Scan
  | Reduce
  | MacroExpand
  | AssertSchema
  | Search
  | Find
  | Datatable
  | ExternalData
  | Range
  | Print
  | GraphOperator
  | OtherOperator;

export type ScalarishExpr =
  | Name
  | Wildcard
  | Literal
  | TypeOf
  | Missing
  | Star
  | Member
  | Index
  | Call
  | NamedArg
  | Unary
  | Binary
  | In
  | Between
  | Paren
  | NamedExpr
  | Ordered
  | Pipe;

/** Any expression: scalar, tabular (a name, a pipe, a source operator) or a list item form. */
export type Expr = ScalarishExpr | QueryOperator;

// ───────────────────────────── statements ─────────────────────────────

/** A function parameter or declared query parameter: `name: type [= default]`, type scalar or tabular. */
export interface FunctionParam extends NodeBase {
  readonly kind: 'FunctionParam';
  readonly name: Name;
  readonly type: TypeRef;
  readonly defaultValue: Expr | null;
}

/** `{ let a = 1; T | take a }`. */
export interface FunctionBody extends NodeBase {
  readonly kind: 'FunctionBody';
  readonly statements: readonly Statement[];
  /** The result expression; Missing if absent. */
  readonly expr: Expr;
}

/** `(params) { body }` or `view (params) { body }` on the right side of `let`. */
export interface FunctionDecl extends NodeBase {
  readonly kind: 'FunctionDecl';
  readonly isView: boolean;
  readonly params: readonly FunctionParam[];
  readonly body: FunctionBody;
}

export interface LetStatement extends NodeBase {
  readonly kind: 'Let';
  readonly name: Name;
  readonly value: Expr | FunctionDecl;
}

export interface DeclareQueryParametersStatement extends NodeBase {
  readonly kind: 'DeclareQueryParameters';
  readonly params: readonly FunctionParam[];
}

/** `declare pattern name = ...;` kept as raw text (rare; binder treats it as an opaque tabular pattern). */
export interface DeclarePatternStatement extends NodeBase {
  readonly kind: 'DeclarePattern';
  readonly name: Name;
  readonly text: string;
}

/** `set name [= value]`. */
export interface SetStatement extends NodeBase {
  readonly kind: 'Set';
  readonly name: string;
  readonly value: Expr | null;
}

/** `alias database name = cluster('...').database('...')`. */
export interface AliasStatement extends NodeBase {
  readonly kind: 'Alias';
  readonly name: Name;
  readonly value: Expr;
}

/** `restrict access to (T1, T2, f)`. */
export interface RestrictStatement extends NodeBase {
  readonly kind: 'Restrict';
  readonly items: readonly Expr[];
}

export interface ExprStatement extends NodeBase {
  readonly kind: 'ExprStatement';
  readonly expr: Expr;
}

export type Statement =
  | LetStatement
  | DeclareQueryParametersStatement
  | DeclarePatternStatement
  | SetStatement
  | AliasStatement
  | RestrictStatement
  | ExprStatement;

/** The root: statements separated by `;` (a batch may hold several query expressions). */
export interface QueryRoot extends NodeBase {
  readonly kind: 'Query';
  readonly statements: readonly Statement[];
}

export type Node =
  | Expr
  | Statement
  | QueryRoot
  | ColumnDecl
  | TypeRef
  | OperatorParam
  | TopNestedClause
  | MvExpandItem
  | MakeSeriesAggregate
  | ScanStep
  | FunctionParam
  | FunctionBody
  | FunctionDecl;

export type NodeKind = Node['kind'];
