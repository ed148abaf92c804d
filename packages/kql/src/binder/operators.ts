/**
 * Binding of query operators: each computes the row schema it outputs from its input rows, binding its
 * expressions in the right scope, with Kusto's naming rules (see projection.ts). One binder per operator kind in
 * a `Record`, so a new operator kind does not compile until it is handled here.
 */
import type { ArgInfo } from '../catalog/resolve.js';
import { lookupPlugin, resolveCall } from '../catalog/resolve.js';
import { Codes } from '../diagnostics/codes.js';
import type {
  Call,
  Expr,
  Join,
  Lookup,
  MvExpandItem,
  OperatorParam,
  ParsePatternPart,
  QueryOperator,
  Span,
  Union,
} from '../syntax/nodes.js';
import type { Binder } from './binder.js';
import { wildcardRegex } from './binder.js';
import { argInfo, bindBuiltinArgs, bindUserCallWithInput, bindUserFunctionReference, callContext } from './calls.js';
import { bindGraphOperator, graphSchemaOf } from './graph.js';
import { expressionResultName, functionResultName, resultColumnOf } from './names.js';
import type { ColumnSource } from './projection.js';
import { makeNamesUnique, ProjectionBuilder, UniqueNames } from './projection.js';
import type { ExprInfo } from './semantic-model.js';
import { RowScope } from './symbols.js';
import type { Column, ColumnType, ScalarTypeName, Type } from './types.js';
import { table, toColumnType, UNKNOWN, VOID } from './types.js';

type OpKind = QueryOperator['kind'];
type OpOf<K extends OpKind> = Extract<QueryOperator, { kind: K }>;
/** Operators that may appear with or without an input get `null` when they have none. */
type EitherKind = 'Union' | 'Search' | 'Find' | 'Evaluate' | 'GraphOperator' | 'OtherOperator' | 'MacroExpand';
type OperatorBinder<K extends OpKind> = (
  b: Binder,
  op: OpOf<K>,
  input: K extends EitherKind ? RowScope | null : RowScope,
) => Type;

const OPERATOR_KINDS: ReadonlySet<string> = new Set<OpKind>([
  'Where',
  'Project',
  'ProjectAway',
  'ProjectKeep',
  'ProjectRename',
  'ProjectReorder',
  'ProjectByNames',
  'Extend',
  'Summarize',
  'Count',
  'Take',
  'Top',
  'TopNested',
  'TopHitters',
  'Sort',
  'Distinct',
  'Join',
  'Lookup',
  'Union',
  'MvExpand',
  'MvApply',
  'Parse',
  'ParseWhere',
  'ParseKv',
  'MakeSeries',
  'Evaluate',
  'Render',
  'Serialize',
  'Sample',
  'SampleDistinct',
  'As',
  'GetSchema',
  'Consume',
  'Invoke',
  'Fork',
  'Facet',
  'Partition',
  'Scan',
  'Reduce',
  'MacroExpand',
  'AssertSchema',
  'Search',
  'Find',
  'Datatable',
  'ExternalData',
  'Range',
  'Print',
  'GraphOperator',
  'OtherOperator',
]);

export function isQueryOperator(e: Expr): e is QueryOperator {
  return OPERATOR_KINDS.has(e.kind);
}

/** Operators that start a query and take no input. */
const SOURCE_ONLY: ReadonlySet<OpKind> = new Set<OpKind>(['Range', 'Print', 'Datatable', 'ExternalData']);
/** Operators that may appear with or without an input. */
const EITHER: ReadonlySet<OpKind> = new Set<EitherKind>([
  'Union',
  'Search',
  'Find',
  'Evaluate',
  'GraphOperator',
  'OtherOperator',
  'MacroExpand',
]);

/**
 * Binds one operator. `input` is the piped input, or null for an operator in source position (then a sub-query's
 * implicit input applies, if any). Returns the operator's output type.
 */
export function bindQueryOperator(b: Binder, op: QueryOperator, input: RowScope | null, piped: boolean): Type {
  let rows = input;
  if (piped && SOURCE_ONLY.has(op.kind)) {
    b.report(Codes.Unexpected, `The query operator '${keywordOf(op)}' must be the first operator in a pipe.`, op);
  }
  if (!piped && !SOURCE_ONLY.has(op.kind) && !EITHER.has(op.kind)) {
    if (b.implicitInput) rows = b.implicitInput;
    else {
      b.report(
        Codes.OperatorNeedsInput,
        `The query operator '${keywordOf(op)}' cannot be the first operator in a pipe expression.`,
        op,
      );
      rows = new RowScope([], true);
    }
  }
  if (!rows && !EITHER.has(op.kind)) rows = new RowScope([], true);
  if (rows && op.kind !== 'GraphOperator' && graphSchemaOf(rows.columns)) {
    b.report(
      Codes.TabularExpected,
      `A graph must be followed by a graph operator (graph-match, graph-to-table, ...), not '${keywordOf(op)}'.`,
      op,
    );
    rows = new RowScope([], true);
  }
  const binder = BINDERS[op.kind] as (b: Binder, op: QueryOperator, input: RowScope | null) => Type;
  // Sub-expressions of this operator see its input rows; nested sub-queries set their own implicit input.
  return b.withContext({ implicitInput: null }, () => binder(b, op, rows));
}

function keywordOf(op: QueryOperator): string {
  switch (op.kind) {
    case 'Where':
    case 'Take':
    case 'Sort':
    case 'MvExpand':
    case 'MvApply':
    case 'GraphOperator':
    case 'OtherOperator':
      return op.keyword;
    default:
      return op.kind.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
  }
}

function sameRows(input: RowScope): Type {
  return table(input.columns, input.open);
}

function bindIn(b: Binder, input: RowScope | null, e: Expr): ExprInfo {
  return b.withContext({ row: input }, () => b.bindExpr(e));
}

function paramValue(params: readonly OperatorParam[], name: string): string | undefined {
  const p = params.find((x) => x.name === name);
  if (!p) return undefined;
  const v = p.value;
  if (v.kind === 'Name') return v.name;
  if (v.kind === 'Literal') return String(v.value);
  return undefined;
}

// ───────────────────────────── projections ─────────────────────────────

type Style = 'default' | 'extend' | 'print' | 'rename' | 'replace' | 'reorder' | 'summarize';

interface ProjectOptions {
  readonly doNotRepeat?: boolean;
  readonly columnType?: ColumnType;
  readonly columnName?: string;
}

/** The column an expression simply refers to (also through a no-op conversion such as `tostring(s)`). */
function resultColumn(b: Binder, e: Expr): Column | null {
  return resultColumnOf(b.model, e);
}

/** A dynamic column keeps the known shape (array/bag) of the expression that computes it. */
function shaped(c: Column, info: ExprInfo | undefined): Column {
  return c.type === 'dynamic' && info?.dynamicShape ? { ...c, dynamicShape: info.dynamicShape } : c;
}

/** Kusto cannot group or order by dynamic values. */
function checkNotDynamic(b: Binder, e: Expr): void {
  const t = b.model.typeOf(e.kind === 'Ordered' ? e.expr : e);
  if (t?.kind === 'scalar' && t.name === 'dynamic') {
    b.report(Codes.TypeNotAllowed, "The value of type 'dynamic' is not allowed in this context.", e);
  }
}

function duplicate(b: Binder, name: string, at: Span): void {
  b.report(Codes.DuplicateColumn, `A column with the name '${name}' is already declared.`, at);
}

function tupleColumns(t: Type | undefined): readonly Column[] | null {
  return t && t.kind === 'tuple' ? t.columns : null;
}

/** Adds the column(s) an already-bound expression produces to a projection, as Kusto's CreateProjectionColumns. */
function projectColumns(
  b: Binder,
  expression: Expr,
  builder: ProjectionBuilder,
  style: Style,
  opts: ProjectOptions = {},
): void {
  const expr = expression.kind === 'Ordered' ? expression.expr : expression;
  const replaceAll = style === 'replace' || style === 'extend';
  if (style === 'rename') {
    if (expr.kind === 'NamedExpr') {
      const old = resultColumn(b, expr.expr);
      const newName = expr.names[0];
      if (old && newName) {
        const r = builder.rename(old.name, newName.name);
        if (r === false) duplicate(b, newName.name, newName);
      } else if (!old && b.model.typeOf(expr.expr)?.kind !== 'unknown') {
        b.report(Codes.ColumnExpected, 'A column name is expected.', expr.expr);
      }
    } else {
      b.report(Codes.Expected, 'A rename assignment (new = old) is expected.', expr);
    }
    return;
  }
  const from = (e: Expr, tupleIndex?: number): ColumnSource =>
    tupleIndex === undefined ? { kind: 'expr', expr: e } : { kind: 'expr', expr: e, tupleIndex };
  switch (expr.kind) {
    case 'NamedExpr': {
      const inner = expr.expr;
      const innerType = b.model.typeOf(inner);
      const tuple = tupleColumns(innerType);
      if (expr.names.length === 1) {
        const nm = expr.names[0] as (typeof expr.names)[number];
        if (tuple && tuple.length > 0) {
          const first = tuple[0] as Column;
          const c = { name: nm.name, type: opts.columnType ?? first.type };
          if (!builder.declare(c, true, from(inner, 0))) duplicate(b, nm.name, nm);
          if (opts.doNotRepeat) builder.doNotAddColumn(first);
          if (style === 'print') break;
          tuple.slice(1).forEach((c2, i) => {
            builder.add(c2, { doNotRepeat: opts.doNotRepeat }, from(inner, i + 1));
          });
        } else {
          const col = resultColumn(b, inner);
          if (col) {
            const c = { name: nm.name, type: opts.columnType ?? col.type };
            if (!builder.declare(c, true, from(inner))) duplicate(b, nm.name, nm);
            if (opts.doNotRepeat) builder.doNotAddColumn(col);
          } else {
            const type = opts.columnType ?? toColumnType(innerType ?? UNKNOWN);
            const c = shaped({ name: nm.name, type }, b.model.info(inner));
            if (!builder.declare(c, replaceAll, from(inner))) duplicate(b, nm.name, nm);
          }
        }
      } else if (tuple) {
        tuple.forEach((c, i) => {
          const nm = expr.names[i];
          const type = opts.columnType ?? c.type;
          if (nm) {
            if (!builder.declare({ name: nm.name, type }, replaceAll, from(inner, i))) duplicate(b, nm.name, nm);
            if (opts.doNotRepeat) builder.doNotAddColumn(c);
          } else if (style !== 'print') {
            builder.add(c, { replace: replaceAll, doNotRepeat: opts.doNotRepeat }, from(inner, i));
          }
        });
        for (let i = tuple.length; i < expr.names.length; i++) {
          b.report(Codes.InvalidArgument, 'The name does not have a corresponding expression.', expr.names[i] as Span);
        }
      } else if (innerType?.kind !== 'unknown') {
        b.report(Codes.InvalidArgument, 'The expression does not have multiple values.', expr);
      }
      return;
    }
    case 'Call': {
      const col = resultColumn(b, expr);
      if (col) {
        const c = opts.columnType ? { name: col.name, type: opts.columnType } : col;
        if (!builder.declare(c, style === 'replace', from(expr))) duplicate(b, col.name, expr);
        if (opts.doNotRepeat) builder.doNotAddColumn(col);
        return;
      }
      const t = b.model.typeOf(expr) ?? UNKNOWN;
      const tuple = tupleColumns(t);
      if (style === 'print' && opts.columnName && (!tuple || tuple.length === 1)) {
        const type = tuple ? (tuple[0] as Column).type : toColumnType(t);
        builder.add(
          { name: opts.columnName, type: opts.columnType ?? type },
          { baseName: opts.columnName },
          from(expr, tuple ? 0 : undefined),
        );
      } else if (tuple && b.model.call(expr)) {
        tuple.forEach((c, i) => {
          builder.add(opts.columnType ? { name: c.name, type: opts.columnType } : c, {}, from(expr, i));
        });
      } else {
        const name = functionResultName(b.model, expr, null, b.row);
        const type = opts.columnType ?? toColumnType(t);
        builder.add(
          shaped({ name: name ?? opts.columnName ?? 'Column1', type }, b.model.info(expr)),
          { baseName: name ?? 'Column', replace: replaceAll },
          from(expr),
        );
      }
      return;
    }
    case 'Star':
      for (const c of b.row?.columns ?? []) builder.add(c, { replace: true, doNotRepeat: opts.doNotRepeat });
      return;
    default: {
      const col = resultColumn(b, expr);
      if (col) {
        const c = opts.columnType ? { name: col.name, type: opts.columnType } : col;
        if (!builder.declare(c, style === 'replace', from(expr))) duplicate(b, col.name, expr);
        if (opts.doNotRepeat) builder.doNotAddColumn(col);
        return;
      }
      let t = b.model.typeOf(expr) ?? UNKNOWN;
      const tuple = tupleColumns(t);
      if (tuple && (expr.kind === 'Wildcard' || style === 'reorder')) {
        for (const c of tuple) builder.add(c, { doNotRepeat: true });
        return;
      }
      if (t.kind !== 'scalar' && t.kind !== 'unknown') {
        b.report(Codes.ScalarExpected, 'Scalar value expected.', expr);
        t = UNKNOWN;
      }
      if (style === 'print' && opts.columnName) {
        builder.add(
          { name: opts.columnName, type: opts.columnType ?? toColumnType(t) },
          { baseName: opts.columnName },
          from(expr),
        );
      } else {
        const name = expressionResultName(b.model, expr, null);
        builder.add(
          { name: name ?? opts.columnName ?? 'Column1', type: opts.columnType ?? toColumnType(t) },
          { baseName: name ?? 'Column', replace: replaceAll },
          from(expr),
        );
      }
    }
  }
}

function bindAndProject(
  b: Binder,
  rows: RowScope | null,
  items: readonly Expr[],
  builder: ProjectionBuilder,
  style: Style,
  opts: ProjectOptions = {},
  scopeKind: 'normal' | 'aggregate' = 'normal',
): void {
  for (const item of items) {
    b.withContext({ row: rows, scopeKind }, () => {
      b.bindExpr(item);
      projectColumns(b, item, builder, style, opts);
    });
  }
}

/** Columns named by a list of names / wildcards (project-away, project-keep). */
function columnsInList(b: Binder, input: RowScope, items: readonly Expr[]): Set<string> {
  const names = new Set<string>();
  for (const item of items) {
    if (item.kind === 'Wildcard') {
      const matched = b.matchColumns(item.pattern, input.columns);
      b.set(item, { type: { kind: 'tuple', columns: matched } });
      if (matched.length === 0 && !input.open) {
        b.report(
          Codes.UnknownName,
          `The name '${item.pattern}' does not refer to any known column, table, variable or function.`,
          item,
        );
      }
      for (const c of matched) names.add(c.name);
      continue;
    }
    const info = bindIn(b, input, item);
    if (info.symbol?.kind === 'column') names.add(info.symbol.column.name);
    else if (info.type.kind !== 'unknown') b.report(Codes.ColumnExpected, 'A column name is expected.', item);
  }
  return names;
}

// ───────────────────────────── joins and unions ─────────────────────────────

const JOIN_KINDS = new Set([
  'inner',
  'innerunique',
  'leftouter',
  'rightouter',
  'fullouter',
  'leftanti',
  'anti',
  'leftantisemi',
  'rightanti',
  'rightantisemi',
  'leftsemi',
  'rightsemi',
]);

function bindRight(b: Binder, e: Expr): RowScope {
  const info = b.withContext({ row: null, rightRow: null, implicitInput: null, scopeKind: 'normal' }, () =>
    b.bindExpr(e),
  );
  b.checkTabular(e, info);
  return info.type.kind === 'table' ? new RowScope(info.type.columns, info.type.open ?? false) : new RowScope([], true);
}

/** Checks a join/lookup `on` clause; returns the right-side columns equated to left columns. */
function bindJoinOn(b: Binder, left: RowScope, right: RowScope, on: readonly Expr[]): Set<Column> {
  const rightKeys = new Set<Column>();
  const sideColumn = (e: Expr, side: '$left' | '$right'): Column | null => {
    let x = e;
    while (x.kind === 'Paren') x = x.expr;
    if (x.kind === 'Member' && x.expr.kind === 'Name' && x.expr.name === side) {
      const info = b.model.info(x);
      if (info?.symbol?.kind === 'column') return info.symbol.column;
      return null;
    }
    b.report(Codes.InvalidJoinCondition, `The join condition operand must be of the form ${side}.column.`, x);
    return null;
  };
  const check = (e: Expr): void => {
    let x = e;
    while (x.kind === 'Paren') x = x.expr;
    if (x.kind === 'Binary' && x.op === '==') {
      sideColumn(x.left, '$left');
      const r = sideColumn(x.right, '$right');
      if (r) rightKeys.add(r);
    } else if (x.kind === 'Binary' && x.op === 'and') {
      check(x.left);
      check(x.right);
    } else if (x.kind === 'Name') {
      const l = left.get(x.name);
      const r = right.get(x.name);
      if ((l || left.open) && (r || right.open)) {
        if (l && r && l.type !== r.type && l.type !== 'unknown' && r.type !== 'unknown') {
          b.report(Codes.JoinColumnMissing, `The join columns '${x.name}' must have the same type on both sides.`, x);
        }
        if (r) rightKeys.add(r);
      } else {
        b.report(Codes.JoinColumnMissing, `The column '${x.name}' must exist on both sides of the join.`, x);
      }
    } else {
      b.report(Codes.InvalidJoinCondition, 'Invalid join condition.', x);
    }
  };
  // Bind the pieces, not the whole condition: `on a and b` lists two keys, it is not a boolean `and`.
  const bindPieces = (e: Expr): void => {
    let x = e;
    while (x.kind === 'Paren') x = x.expr;
    if (x.kind === 'Binary' && (x.op === 'and' || x.op === '==')) {
      bindPieces(x.left);
      bindPieces(x.right);
    } else b.bindExpr(x);
  };
  b.withContext({ row: left, rightRow: right }, () => {
    for (const e of on) {
      bindPieces(e);
      check(e);
    }
  });
  return rightKeys;
}

function checkKind(b: Binder, op: Join | Lookup | Union, allowed: ReadonlySet<string>): string | undefined {
  const kind = paramValue(op.params, 'kind');
  if (kind !== undefined && !allowed.has(kind)) {
    const p = op.params.find((x) => x.name === 'kind') as OperatorParam;
    b.report(Codes.InvalidOperatorParameter, `The value '${kind}' is not a valid kind for this operator.`, p.value);
  }
  return kind;
}

/**
 * Union's outer schema (Kusto's UnifyColumnsWithSameNameAndType): columns unified by name and type in order of
 * first appearance; a name with several types becomes one `name_type` column per type, at the first position.
 */
function unifyByNameAndType(tables: readonly (readonly Column[])[]): Column[] {
  const all = tables.flat();
  const typesByName = new Map<string, ColumnType[]>();
  for (const c of all) {
    const types = typesByName.get(c.name) ?? [];
    if (!types.includes(c.type)) types.push(c.type);
    typesByName.set(c.name, types);
  }
  const names = new UniqueNames();
  const out: Column[] = [];
  for (const c of all) {
    const types = typesByName.get(c.name);
    if (!types) continue;
    typesByName.delete(c.name);
    if (types.length === 1) out.push({ name: names.getOrAdd(c.name), type: c.type });
    else for (const t of types) out.push({ name: names.getOrAdd(`${c.name}_${t}`), type: t });
  }
  return out;
}

/** Union kind=inner: the columns present (by name) in every leg; differing types become dynamic. */
function commonColumns(tables: readonly (readonly Column[])[]): Column[] {
  const [first, ...rest] = tables;
  if (!first) return [];
  return first
    .filter((c) => rest.every((t) => t.some((x) => x.name === c.name)))
    .map((c) => {
      const types = new Set([c.type, ...rest.map((t) => t.find((x) => x.name === c.name)?.type ?? c.type)]);
      return types.size === 1 ? c : { name: c.name, type: 'dynamic' as const };
    });
}

/** The tables of a union leg: a name, a wildcard over table names, or any tabular expression. */
function unionLegTables(b: Binder, e: Expr, fuzzy: boolean): { columns: readonly Column[]; open: boolean }[] {
  if (e.kind === 'Wildcard') {
    const re = wildcardRegex(e.pattern);
    const out = [...b.tables.values()].filter((t) => re.test(t.name)).map((t) => ({ columns: t.columns, open: false }));
    b.set(e, { type: UNKNOWN });
    if (out.length === 0 && !fuzzy) {
      b.report(Codes.UnknownTable, `The name '${e.pattern}' does not refer to any known table.`, e);
    }
    return out;
  }
  if (fuzzy && e.kind === 'Name' && !b.lookupName(e.name)) {
    b.set(e, { type: UNKNOWN });
    b.diagnostics.push({
      code: Codes.UnknownTable.code,
      severity: 'warning',
      message: `The fuzzy name '${e.name}' does not refer to any known or currently accessible table.`,
      start: e.start,
      length: e.end - e.start,
    });
    return [];
  }
  const info = b.withContext({ row: null, rightRow: null, implicitInput: null, scopeKind: 'normal' }, () =>
    b.bindExpr(e),
  );
  if (info.type.kind === 'table') return [{ columns: info.type.columns, open: info.type.open ?? false }];
  b.checkTabular(e, info);
  return [];
}

// ───────────────────────────── parse ─────────────────────────────

function parsePatternColumns(b: Binder, pattern: readonly ParsePatternPart[]): Column[] {
  const out: Column[] = [];
  const declared = new Set<string>();
  const isString = (p: ParsePatternPart | undefined): boolean => p?.kind === 'Literal';
  pattern.forEach((part, i) => {
    const prev = pattern[i - 1];
    const next = pattern[i + 1];
    if (part.kind === 'Star') {
      if (next && !isString(next)) {
        b.report(Codes.InvalidParsePattern, 'A string literal must follow a star in a parse pattern.', part);
      }
      if (prev && prev.kind === 'ColumnDecl' && (!prev.type || b.columnTypeOf(prev.type) === 'string')) {
        b.report(Codes.InvalidParsePattern, 'Using a star after a string column is ambiguous.', part);
      }
    } else if (part.kind === 'ColumnDecl') {
      if (prev && !isString(prev)) {
        b.report(Codes.InvalidParsePattern, 'A column name in a parse pattern must follow a string literal.', part);
      }
      const name = part.name.name;
      if (declared.has(name)) duplicate(b, name, part.name);
      else {
        declared.add(name);
        out.push({ name, type: b.columnTypeOf(part.type) });
      }
    }
  });
  return out;
}

/** The tables `search`/`find` look in without `in (...)`: the workspace tables and the query's views. */
function impliedTables(b: Binder): (readonly Column[])[] {
  const out: (readonly Column[])[] = [...b.tables.values()].map((t) => t.columns);
  for (const sym of b.scope.visible()) {
    if (sym.kind === 'function' && sym.declaration.isView) {
      const t = b.quietly(() =>
        bindUserFunctionReference(b, sym, { kind: 'Name', name: sym.name, bracketed: false, start: 0, end: 0 }),
      ).type;
      if (t.kind === 'table') out.push(t.columns);
    }
  }
  return out;
}

/**
 * A search predicate: bare string literals (and `and`/`or`/parentheses over them) are terms looked up in every
 * column; anything else is an ordinary boolean predicate over the searched columns.
 */
function bindSearchPredicate(b: Binder, e: Expr): void {
  if (e.kind === 'Literal' && e.type === 'string') {
    b.set(e, { type: { kind: 'scalar', name: 'string' }, isLiteral: true, constant: { value: e.value } });
    return;
  }
  if (e.kind === 'Paren') {
    bindSearchPredicate(b, e.expr);
    b.set(e, { type: { kind: 'scalar', name: 'bool' } });
    return;
  }
  if (e.kind === 'Binary' && (e.op === 'and' || e.op === 'or')) {
    bindSearchPredicate(b, e.left);
    bindSearchPredicate(b, e.right);
    b.set(e, { type: { kind: 'scalar', name: 'bool' } });
    return;
  }
  b.bindPredicate(e);
}

// ───────────────────────────── plugins ─────────────────────────────

function bindPluginCall(b: Binder, call: Call, input: RowScope | null): Type {
  const plugin = lookupPlugin(call.name.name);
  if (!plugin) {
    b.withContext({ row: input, scopeKind: 'normal' }, () => {
      for (const a of call.args) b.bindExpr(a);
    });
    b.report(Codes.UnknownPlugin, `The name '${call.name.name}' does not refer to any known plugin.`, call.name);
    return UNKNOWN;
  }
  return b.withContext({ row: input, scopeKind: 'normal' }, () => {
    const infos = bindBuiltinArgs(b, call, plugin, false);
    const args: ArgInfo[] = call.args.map((a, i) => argInfo(b, a, infos[i] as ExprInfo));
    const res = resolveCall(plugin, args, callContext(b), {
      start: call.name.start,
      length: call.name.end - call.name.start,
    });
    for (const d of res.diagnostics) b.diagnostics.push(d);
    b.model.setCall(call, { kind: 'plugin', definition: plugin, signature: res.signature });
    b.set(call, { type: res.returnType });
    return res.returnType;
  });
}

// ───────────────────────────── the binders ─────────────────────────────

const CHART_TYPES = new Set([
  'table',
  'list',
  'barchart',
  'columnchart',
  'piechart',
  'timechart',
  'timepivot',
  'areachart',
  'linechart',
  'scatterchart',
  'anomalychart',
  'ladderchart',
  'pivotchart',
  'stackedareachart',
  'card',
  'treemap',
  'sankey',
  '3Dchart',
  'plotly',
  'graph',
]);

function subqueryType(b: Binder, rows: RowScope, e: Expr): Type {
  const info = b.withContext({ implicitInput: rows, row: null, rightRow: null, scopeKind: 'normal' }, () =>
    b.bindExpr(e),
  );
  return info.type;
}

function mvItems(b: Binder, input: RowScope, items: readonly MvExpandItem[], builder: ProjectionBuilder): void {
  for (const item of items) {
    b.withContext({ row: input }, () => {
      const info = b.bindExpr(item.expr);
      const inner = item.expr.kind === 'NamedExpr' ? item.expr.expr : item.expr;
      const innerType = b.model.typeOf(inner) ?? info.type;
      if (innerType.kind === 'scalar' && innerType.name !== 'dynamic') {
        b.report(Codes.TypeExpected, 'The expression must have the type dynamic.', inner);
      }
      const to = item.toType ? b.typeFromTypeRef(item.toType) : null;
      const columnType = to ? toColumnType(to) : toColumnType(innerType);
      projectColumns(b, item.expr, builder, 'replace', { columnType });
    });
  }
}

const BINDERS: { [K in OpKind]: OperatorBinder<K> } = {
  Where: (b, op, input) => {
    b.withContext({ row: input }, () => b.bindPredicate(op.predicate));
    return sameRows(input);
  },
  Project: (b, op, input) => {
    const builder = new ProjectionBuilder();
    bindAndProject(b, input, op.items, builder, 'default');
    b.model.setProjection(op, builder.entries);
    return table(builder.columns, input.open);
  },
  ProjectAway: (b, op, input) => {
    const names = columnsInList(b, input, op.items);
    return table(
      input.columns.filter((c) => !names.has(c.name)),
      input.open,
    );
  },
  ProjectKeep: (b, op, input) => {
    const names = columnsInList(b, input, op.items);
    return table(
      input.columns.filter((c) => names.has(c.name)),
      input.open,
    );
  },
  ProjectRename: (b, op, input) => {
    const builder = new ProjectionBuilder();
    builder.addRange(input.columns, { declare: true, doNotRepeat: true });
    bindAndProject(b, input, op.items, builder, 'rename');
    b.model.setProjection(op, builder.entries);
    return table(builder.columns, input.open);
  },
  ProjectReorder: (b, op, input) => {
    const builder = new ProjectionBuilder();
    for (const item of op.items) {
      const inner = item.kind === 'Ordered' ? item.expr : item;
      if (inner.kind === 'Wildcard') {
        let matched = b.matchColumns(inner.pattern, input.columns);
        if (item.kind === 'Ordered' && item.direction) {
          matched = [...matched].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
          if (item.direction === 'desc') matched.reverse();
        }
        b.set(inner, { type: { kind: 'tuple', columns: matched } });
        for (const c of matched) builder.add(c, { doNotRepeat: true });
        continue;
      }
      b.withContext({ row: input }, () => {
        b.bindExpr(item);
        projectColumns(b, item, builder, 'reorder', { doNotRepeat: true });
      });
    }
    for (const c of input.columns) builder.add(c);
    b.model.setProjection(op, builder.entries);
    return table(builder.columns, true);
  },
  ProjectByNames: (b, op, input) => {
    const builder = new ProjectionBuilder();
    // Names are given as strings (or name expressions): `project-by-names "Name", "City"`.
    // A dynamic array of names (a literal, a constant argument, `column_names_of(T)`) is known at compile time.
    for (const item of op.items) {
      const info = bindIn(b, input, item);
      const names = constantNames(info.constant?.value) ?? columnNamesOf(b, item);
      if (!names) {
        b.withContext({ row: input }, () => projectColumns(b, item, builder, 'default'));
        continue;
      }
      for (const v of names) {
        const cols = v.includes('*') ? b.matchColumns(v, input.columns) : [input.get(v)];
        const found = cols.filter((c): c is Column => c !== undefined);
        for (const c of found) builder.add(c, { doNotRepeat: true });
        if (!found.length && !input.open)
          b.report(Codes.UnknownColumn, `The name '${v}' does not refer to any known column.`, item);
      }
    }
    b.model.setProjection(op, builder.entries);
    return table(builder.columns, true);
  },
  Extend: (b, op, input) => {
    const builder = new ProjectionBuilder();
    builder.addRange(input.columns, { doNotRepeat: true });
    bindAndProject(b, input, op.items, builder, 'extend');
    b.model.setProjection(op, builder.entries);
    return table(builder.columns, input.open);
  },
  Summarize: (b, op, input) => {
    const builder = new ProjectionBuilder();
    bindAndProject(b, input, op.by, builder, 'default');
    for (const e of op.by) checkNotDynamic(b, e.kind === 'NamedExpr' ? e.expr : e);
    const keyCount = builder.columns.length;
    builder.doNotAddAll(builder.columns);
    const byColumns = op.by.flatMap((e) => {
      const c = resultColumnOf(b.model, e.kind === 'NamedExpr' ? e.expr : e);
      return c ? [c.name] : [];
    });
    b.withContext({ byColumns }, () => bindAndProject(b, input, op.aggregates, builder, 'summarize', {}, 'aggregate'));
    b.model.setProjection(op, builder.entries, keyCount);
    return table(builder.columns, input.open);
  },
  Count: (_b, op) => table([{ name: op.asName?.name ?? 'Count', type: 'long' }]),
  Take: (b, op, input) => {
    const info = bindIn(b, input, op.count);
    b.checkInteger(op.count, info);
    return sameRows(input);
  },
  Sample: (b, op, input) => {
    const info = bindIn(b, input, op.count);
    b.checkInteger(op.count, info);
    return sameRows(input);
  },
  SampleDistinct: (b, op, input) => {
    const count = bindIn(b, input, op.count);
    b.checkInteger(op.count, count);
    const of = bindIn(b, input, op.of);
    b.checkColumn(op.of, of);
    const name = expressionResultName(b.model, op.of, 'Column1') ?? 'Column1';
    return table([{ name, type: toColumnType(of.type) }], input.open);
  },
  Top: (b, op, input) => {
    const count = bindIn(b, input, op.count);
    b.checkInteger(op.count, count);
    const by = bindIn(b, input, op.by);
    b.checkScalar(op.by, by);
    return sameRows(input);
  },
  TopHitters: (b, op, input) => {
    const count = bindIn(b, input, op.count);
    b.checkInteger(op.count, count);
    const builder = new ProjectionBuilder();
    b.withContext({ row: input }, () => {
      const of = b.bindExpr(op.of);
      b.checkColumn(op.of, of);
      projectColumns(b, op.of, builder, 'default');
    });
    const ofName = expressionResultName(b.model, op.of, '') ?? '';
    if (op.by) {
      const by = bindIn(b, input, op.by);
      const byName = expressionResultName(b.model, op.by, '') ?? '';
      builder.add({ name: `approximate_sum_${byName}`, type: toColumnType(by.type) });
    } else {
      builder.add({ name: `approximate_count_${ofName}`, type: 'long' });
    }
    return table(builder.columns, input.open);
  },
  TopNested: (b, op, input) => {
    const names = new UniqueNames();
    const out: Column[] = [];
    for (const clause of op.clauses) {
      if (clause.count) b.checkInteger(clause.count, bindIn(b, input, clause.count));
      const of = bindIn(b, input, clause.of);
      b.checkScalar(clause.of, of);
      if (clause.withOthers) bindIn(b, input, clause.withOthers);
      const by = b.withContext({ row: input, scopeKind: 'aggregate' }, () => b.bindExpr(clause.by));
      const ofName = expressionResultName(b.model, clause.of, '') ?? '';
      out.push({ name: names.getOrAdd(ofName), type: toColumnType(of.type) });
      const declared = clause.by.kind === 'NamedExpr' ? (clause.by.names[0]?.name ?? null) : null;
      out.push({ name: names.getOrAdd(declared ?? `aggregated_${ofName}`), type: toColumnType(by.type) });
    }
    return table(out, input.open);
  },
  Sort: (b, op, input) => {
    for (const o of op.by) {
      if (b.checkScalar(o, bindIn(b, input, o))) checkNotDynamic(b, o);
    }
    return sameRows(input);
  },
  Distinct: (b, op, input) => {
    const builder = new ProjectionBuilder();
    bindAndProject(b, input, op.items, builder, 'default');
    for (const e of op.items) {
      if (e.kind === 'Star') {
        if (input.columns.some((c) => c.type === 'dynamic')) {
          b.report(Codes.TypeNotAllowed, "The value of type 'dynamic' is not allowed in this context.", e);
        }
      } else checkNotDynamic(b, e.kind === 'NamedExpr' ? e.expr : e);
    }
    b.model.setProjection(op, builder.entries);
    return table(builder.columns, input.open);
  },
  Serialize: (b, op, input) => {
    const builder = new ProjectionBuilder();
    builder.addRange(input.columns, { doNotRepeat: true });
    bindAndProject(b, input, op.items, builder, 'default');
    b.model.setProjection(op, builder.entries);
    return table(builder.columns, input.open);
  },
  Join: (b, op, input) => {
    const kind = checkKind(b, op, JOIN_KINDS);
    const right = bindRight(b, op.right);
    if (op.on) bindJoinOn(b, input, right, op.on);
    if (op.where) b.withContext({ row: input, rightRow: right }, () => b.bindPredicate(op.where as Expr));
    const leftOnly = kind === 'leftsemi' || kind === 'leftanti' || kind === 'anti' || kind === 'leftantisemi';
    const rightOnly = kind === 'rightsemi' || kind === 'rightanti' || kind === 'rightantisemi';
    const cols: Column[] = [];
    if (!rightOnly) cols.push(...input.columns);
    if (!leftOnly) cols.push(...right.columns);
    return table(makeNamesUnique(cols), (!rightOnly && input.open) || (!leftOnly && right.open));
  },
  Lookup: (b, op, input) => {
    checkKind(b, op, new Set(['leftouter', 'inner']));
    const right = bindRight(b, op.right);
    const keys = bindJoinOn(b, input, right, op.on);
    const cols = [...input.columns, ...right.columns.filter((c) => !keys.has(c))];
    return table(makeNamesUnique(cols), input.open || right.open);
  },
  Union: (b, op, input) => {
    const kind = checkKind(b, op, new Set(['inner', 'outer']));
    const fuzzy = paramValue(op.params, 'isfuzzy') === 'true';
    const legs: { columns: readonly Column[]; open: boolean }[] = [];
    if (input) legs.push({ columns: input.columns, open: input.open });
    for (const e of op.tables) legs.push(...unionLegTables(b, e, fuzzy));
    const tables = legs.map((l) => l.columns);
    const cols = kind === 'inner' ? commonColumns(tables) : unifyByNameAndType(tables);
    const source = paramValue(op.params, 'withsource');
    const out = source !== undefined ? [{ name: source, type: 'string' as const }, ...cols] : cols;
    return table(
      out,
      legs.some((l) => l.open),
    );
  },
  MvExpand: (b, op, input) => {
    const builder = new ProjectionBuilder();
    builder.addRange(input.columns, { doNotRepeat: true });
    mvItems(b, input, op.items, builder);
    const idx = paramValue(op.params, 'with_itemindex');
    if (idx !== undefined) builder.add({ name: idx, type: 'long' });
    if (op.limit) b.checkInteger(op.limit, bindIn(b, input, op.limit));
    b.model.setProjection(op, builder.entries);
    return table(builder.columns, input.open);
  },
  MvApply: (b, op, input) => {
    const builder = new ProjectionBuilder();
    builder.addRange(input.columns, { doNotRepeat: true });
    mvItems(b, input, op.items, builder);
    const idx = paramValue(op.params, 'with_itemindex');
    if (idx !== undefined) builder.add({ name: idx, type: 'long' });
    if (op.limit) b.checkInteger(op.limit, bindIn(b, input, op.limit));
    b.model.setProjection(op, builder.entries);
    const sub = subqueryType(b, new RowScope(builder.columns, input.open), op.subquery);
    if (sub.kind !== 'table') return sub;
    // Each input row is extended with the sub-query's rows: input columns (replaced by same-named sub-query
    // columns), then the sub-query's other columns.
    const out = new ProjectionBuilder();
    out.addRange(input.columns);
    for (const c of sub.columns) out.add(c, { replace: true });
    return table(out.columns, input.open || (sub.open ?? false));
  },
  Parse: (b, op, input) => {
    const info = bindIn(b, input, op.expr);
    b.checkScalar(op.expr, info);
    return table([...input.columns, ...parsePatternColumns(b, op.pattern)], input.open);
  },
  ParseWhere: (b, op, input) => {
    const info = bindIn(b, input, op.expr);
    b.checkScalar(op.expr, info);
    return table([...input.columns, ...parsePatternColumns(b, op.pattern)], input.open);
  },
  ParseKv: (b, op, input) => {
    const info = bindIn(b, input, op.expr);
    b.checkScalar(op.expr, info);
    const cols = op.columns.map((c) => ({ name: c.name.name, type: b.columnTypeOf(c.type) }));
    return table([...input.columns, ...cols], input.open);
  },
  MakeSeries: (b, op, input) => {
    const builder = new ProjectionBuilder();
    bindAndProject(b, input, op.by, builder, 'default');
    const keyCount = builder.columns.length;
    for (const agg of op.aggregates) {
      b.withContext({ row: input, scopeKind: 'aggregate' }, () => {
        b.bindExpr(agg.expr);
        projectColumns(b, agg.expr, builder, 'summarize', { columnType: 'dynamic' });
      });
      if (agg.defaultValue) {
        const d = bindIn(b, input, agg.defaultValue);
        if (!d.isLiteral && d.type.kind !== 'unknown') {
          b.report(Codes.LiteralExpected, 'The expression must be a literal.', agg.defaultValue);
        }
      }
    }
    b.withContext({ row: input }, () => {
      const on = b.bindExpr(op.on);
      b.checkScalar(op.on, on);
      projectColumns(b, op.on, builder, 'default', { columnType: 'dynamic' });
    });
    for (const e of [op.from, op.to, op.step]) if (e) bindIn(b, input, e);
    b.model.setProjection(op, builder.entries, keyCount);
    return table(builder.columns, input.open);
  },
  Evaluate: (b, op, input) => bindPluginCall(b, op.call, input),
  Render: (b, op, input) => {
    if (!CHART_TYPES.has(op.chart.name)) {
      b.report(Codes.InvalidOperatorParameter, `'${op.chart.name}' is not a known chart type.`, op.chart);
    }
    // Property values are chart settings (names such as `stacked` or literals), not column expressions.
    void op.properties;
    return sameRows(input);
  },
  As: (b, op, input) => {
    const type = sameRows(input);
    b.scope.declare(op.name.name, { kind: 'variable', name: op.name.name, type, declaration: op, value: null });
    return type;
  },
  GetSchema: (_b, op) =>
    paramValue(op.params, 'kind') === 'csl'
      ? table([{ name: 'Schema', type: 'string' }])
      : table([
          { name: 'ColumnName', type: 'string' },
          { name: 'ColumnOrdinal', type: 'long' },
          { name: 'DataType', type: 'string' },
          { name: 'ColumnType', type: 'string' },
        ]),
  Consume: () => VOID,
  Invoke: (b, op, input) => bindUserCallWithInput(b, op.call, input),
  Fork: (b, op, input) => {
    for (const branch of op.branches) subqueryType(b, input, branch);
    return UNKNOWN;
  },
  Facet: (b, op, input) => {
    for (const e of op.by) b.checkColumn(e, bindIn(b, input, e));
    if (op.with) subqueryType(b, input, op.with);
    return UNKNOWN;
  },
  Partition: (b, op, input) => {
    const by = bindIn(b, input, op.by);
    b.checkColumn(op.by, by);
    const t = op.braces
      ? b.withContext({ row: null, implicitInput: null }, () => b.bindExpr(op.subquery)).type
      : subqueryType(b, input, op.subquery);
    return t.kind === 'table' ? table(t.columns, t.open) : t;
  },
  Scan: (b, op, input) => {
    const declared = op.declare.map((p) => ({ name: p.name.name, type: toColumnType(b.typeFromTypeRef(p.type)) }));
    const rows = new RowScope([...input.columns, ...declared], input.open);
    b.quietly(() => {
      for (const o of op.orderBy) bindIn(b, input, o);
      for (const e of op.partitionBy) bindIn(b, input, e);
      for (const step of op.steps) {
        bindIn(b, new RowScope(rows.columns, true), step.predicate);
        for (const a of step.assignments) bindIn(b, new RowScope(rows.columns, true), a);
      }
    });
    const matchId = paramValue(op.params, 'with_match_id') ?? 'match_id';
    return table([...rows.columns, { name: matchId, type: 'long' }], input.open);
  },
  Reduce: (b, op, input) => {
    const by = bindIn(b, input, op.by);
    b.checkType(op.by, by.type, ['string']);
    if (paramValue(op.params, 'kind') === 'source') {
      return table([...input.columns, { name: 'Pattern', type: 'string' }]);
    }
    return table([
      { name: 'Pattern', type: 'string' },
      { name: 'Count', type: 'long' },
      { name: 'Representative', type: 'string' },
    ]);
  },
  MacroExpand: (b, op) => {
    b.quietly(() => b.bindExpr(op.entityGroup));
    return b.quietly(() => b.bindExpr(op.body)).type;
  },
  AssertSchema: (_b, _op, input) => sameRows(input),
  Search: (b, op, input) => {
    let legs: (readonly Column[])[] = [];
    let open = false;
    if (input) legs = [input.columns];
    else if (op.tables) {
      for (const e of op.tables) for (const t of unionLegTables(b, e, false)) legs.push(t.columns);
    } else legs = impliedTables(b);
    const cols = unifyByNameAndType(legs);
    open = input?.open ?? false;
    b.withContext({ row: new RowScope(cols, open) }, () => bindSearchPredicate(b, op.predicate));
    return table([{ name: '$table', type: 'string' }, ...cols], open);
  },
  Find: (b, op, input) => {
    const source = paramValue(op.params, 'withsource') ?? 'source_';
    let legs: (readonly Column[])[] = [];
    if (input) legs = [input.columns];
    else if (op.tables) {
      for (const e of op.tables) for (const t of unionLegTables(b, e, false)) legs.push(t.columns);
    } else legs = impliedTables(b);
    const all = unifyByNameAndType(legs);
    b.quietly(() => b.withContext({ row: new RowScope(all, true) }, () => b.bindExpr(op.predicate)));
    if (op.project) {
      const cols: Column[] = [];
      for (const e of op.project) {
        const info = b.withContext({ row: new RowScope(all, true) }, () => b.bindExpr(e));
        if (e.kind === 'Name' && e.name === 'pack_') cols.push({ name: 'pack_', type: 'dynamic' });
        else if (info.symbol?.kind === 'column') cols.push(info.symbol.column);
      }
      return table([{ name: source, type: 'string' }, ...cols]);
    }
    const common = commonColumns(legs);
    const packs = legs.some((l) => l.length > common.length);
    return table([
      { name: source, type: 'string' },
      ...common,
      ...(packs ? [{ name: 'pack_', type: 'dynamic' as const }] : []),
    ]);
  },
  Datatable: (b, op) => {
    const t = b.typeFromTypeRef(op.schema);
    const cols = t.kind === 'table' ? t.columns : [];
    for (const v of op.values) {
      const info = b.withContext({ row: null }, () => b.bindExpr(v));
      if (!info.isLiteral && info.type.kind !== 'unknown') {
        b.report(Codes.LiteralExpected, 'The expression must be a literal.', v);
      }
    }
    return table(cols);
  },
  ExternalData: (b, op) => {
    const t = b.typeFromTypeRef(op.schema);
    for (const u of op.uris) b.withContext({ row: null }, () => b.bindExpr(u));
    return table(t.kind === 'table' ? t.columns : []);
  },
  Range: (b, op) => {
    const types = [op.from, op.to, op.step].map((e) => b.withContext({ row: null }, () => b.bindExpr(e)).type);
    for (const [i, e] of [op.from, op.to, op.step].entries()) {
      const t = types[i] as Type;
      b.checkType(e, t, ['int', 'long', 'real', 'decimal', 'datetime', 'timespan']);
    }
    return table([{ name: op.name.name, type: rangeType(types) }]);
  },
  Print: (b, op) => {
    const builder = new ProjectionBuilder();
    op.items.forEach((item, i) => {
      b.withContext({ row: null }, () => {
        const info = b.bindExpr(item);
        if (info.type.kind !== 'tuple') b.checkScalar(item, info);
        projectColumns(b, item, builder, 'print', { columnName: `print_${i}` });
      });
    });
    b.model.setProjection(op, builder.entries);
    return table(builder.columns);
  },
  GraphOperator: (b, op, input) => bindGraphOperator(b, op, input),
  OtherOperator: (b, op, input) => {
    b.quietly(() => {
      for (const c of op.args) bindIn(b, input, c);
    });
    return input ? sameRows(input) : UNKNOWN;
  },
};

/** `range` column type: the common type of from/to/step (a datetime range steps by timespan). */
function rangeType(types: readonly Type[]): ColumnType {
  const names = types.map((t) => (t.kind === 'scalar' ? t.name : null));
  const from = names[0];
  if (!from) return 'unknown';
  if (from === 'datetime' || from === 'timespan') return from;
  const numeric: ScalarTypeName[] = ['int', 'long', 'real', 'decimal'];
  let best = 1;
  for (const n of names.slice(0, 3)) {
    const i = n ? numeric.indexOf(n) : -1;
    if (i > best) best = i;
  }
  return numeric[best] as ScalarTypeName;
}

/** The column names a project-by-names item gives as a constant: a string, or a dynamic array of strings. */
function constantNames(v: unknown): string[] | null {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return null;
}

/** `column_names_of(T)` when T's columns are known. */
function columnNamesOf(b: Binder, item: Expr): string[] | null {
  if (item.kind !== 'Call' || item.name.name !== 'column_names_of' || item.target) return null;
  const arg = item.args[0];
  const t = arg ? b.model.info(arg)?.type : undefined;
  return t?.kind === 'table' && !t.open ? t.columns.map((c) => c.name) : null;
}
