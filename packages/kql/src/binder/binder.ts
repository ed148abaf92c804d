/**
 * The binder: resolves every name, computes the type of every expression and the row schema after every query
 * operator, and reports semantic diagnostics, following Kusto.Language's rules (the test oracle). It never throws
 * for user errors: an unresolvable expression gets the `unknown` type, which silences follow-on diagnostics.
 *
 * Scalar expressions are bound here; query operators in `operators.ts`; calls in `calls.ts`.
 */

import type { WorkspaceSchema } from '../catalog/workspace.js';
import type { CodeInfo } from '../diagnostics/codes.js';
import { Codes } from '../diagnostics/codes.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type {
  Between,
  Binary,
  Expr,
  FunctionDecl,
  FunctionParam,
  In,
  Index,
  Literal,
  Member,
  Name,
  Node,
  QueryRoot,
  Span,
  Statement,
  TypeRef,
  Unary,
} from '../syntax/nodes.js';
import { bindCall, bindUserFunctionReference } from './calls.js';
import { BINARY_OPERATOR_KIND, IN_OPERATOR_KIND, typeOperator } from './operator-types.js';
import { bindQueryOperator, isQueryOperator } from './operators.js';
import type { BoundQuery, ExprInfo } from './semantic-model.js';
import { SemanticModel } from './semantic-model.js';
import type { BoundSymbol, TableSymbol } from './symbols.js';
import { LocalScope, RowScope } from './symbols.js';
import type { Column, ScalarTypeName, Type } from './types.js';
import { columnType, scalar, TYPE_ALIASES, table, typeToString, UNKNOWN, VOID } from './types.js';

/** Where aggregate functions may appear: the aggregate list of summarize / make-series / top-nested. */
export type ScopeKind = 'normal' | 'aggregate';

export class Binder {
  model = new SemanticModel();
  diagnostics: Diagnostic[] = [];
  scope: LocalScope;
  row: RowScope | null = null;
  rightRow: RowScope | null = null;
  scopeKind: ScopeKind = 'normal';
  /** The rows a sub-query's first operator reads (fork, facet, partition, mv-apply `on (...)`). */
  implicitInput: RowScope | null = null;
  /** Nesting of user-function expansions (guards recursion). */
  expansionDepth = 0;
  /** While binding summarize aggregates: the names of the `by` columns (`arg_max(x, *)` does not repeat them). */
  byColumns: readonly string[] | null = null;
  readonly tables = new Map<string, TableSymbol>();

  constructor(readonly workspace: WorkspaceSchema) {
    this.scope = new LocalScope(null);
    for (const t of workspace.tables) this.tables.set(t.name, { kind: 'table', name: t.name, columns: t.columns });
  }

  // ───────────────────────────── diagnostics ─────────────────────────────

  report(code: CodeInfo, message: string, at: Span): void {
    this.diagnostics.push({
      code: code.code,
      severity: code.severity,
      message,
      start: at.start,
      length: Math.max(0, at.end - at.start),
    });
  }

  /** Runs `fn` with diagnostics discarded (user-function expansions report only at their declaration). */
  quietly<T>(fn: () => T): T {
    const saved = this.diagnostics;
    this.diagnostics = [];
    try {
      return fn();
    } finally {
      this.diagnostics = saved;
    }
  }

  /** Runs `fn` with the given context fields temporarily replaced. */
  withContext<T>(
    ctx: Partial<Pick<Binder, 'row' | 'rightRow' | 'scopeKind' | 'implicitInput' | 'scope' | 'model' | 'byColumns'>>,
    fn: () => T,
  ): T {
    const saved = {
      row: this.row,
      rightRow: this.rightRow,
      scopeKind: this.scopeKind,
      implicitInput: this.implicitInput,
      scope: this.scope,
      model: this.model,
      byColumns: this.byColumns,
    };
    Object.assign(this, ctx);
    try {
      return fn();
    } finally {
      Object.assign(this, saved);
    }
  }

  // ───────────────────────────── statements ─────────────────────────────

  bindRoot(root: QueryRoot): BoundQuery {
    let result: Type | null = null;
    for (const st of root.statements) {
      const t = this.bindStatement(st);
      if (st.kind === 'ExprStatement') result = t;
    }
    return { model: this.model, diagnostics: this.diagnostics, resultType: result };
  }

  bindStatements(statements: readonly Statement[]): void {
    for (const st of statements) this.bindStatement(st);
  }

  bindStatement(st: Statement): Type | null {
    switch (st.kind) {
      case 'Let':
        this.bindLet(st.name, st.value, st);
        return null;
      case 'DeclareQueryParameters':
        for (const p of st.params) this.declareParameter(p, true);
        return null;
      case 'DeclarePattern':
        this.scope.declare(st.name.name, {
          kind: 'variable',
          name: st.name.name,
          type: table([], true),
          declaration: st,
          value: null,
        });
        return null;
      case 'Set':
        if (st.value) this.bindExpr(st.value);
        return null;
      case 'Alias':
        this.withContext({ row: null }, () => this.bindExpr(st.value));
        return null;
      case 'Restrict':
        for (const e of st.items) this.quietly(() => this.bindExpr(e));
        return null;
      case 'ExprStatement':
        return this.bindExpr(st.expr).type;
    }
  }

  private bindLet(name: Name, value: Expr | FunctionDecl, decl: Node): void {
    if (this.scope.declaresOwn(name.name)) {
      this.report(Codes.DuplicateName, `A variable with the name '${name.name}' has already been declared.`, name);
    }
    if (value.kind === 'FunctionDecl') {
      this.bindFunctionDeclaration(value);
      this.scope.declare(name.name, { kind: 'function', name: name.name, declaration: value, scope: this.scope });
      return;
    }
    const info = this.withContext({ row: null, rightRow: null }, () => this.bindExpr(value));
    if (info.type.kind === 'tuple') {
      this.report(Codes.ScalarExpected, 'A multi-valued expression cannot be assigned to a variable.', value);
    }
    const materialized = value.kind === 'Call' && value.name.name === 'materialize';
    this.scope.declare(name.name, {
      kind: 'variable',
      name: name.name,
      type: info.type.kind === 'tuple' ? UNKNOWN : info.type,
      declaration: decl,
      value,
      ...(info.constant ? { constant: info.constant } : {}),
      ...(materialized ? { materialized } : {}),
    });
  }

  /**
   * Binds a function body once with its declared parameter types (tabular `(*)` parameters are open tables), so
   * that errors inside the body are reported at the declaration, as Kusto does. Call sites bind it again with
   * their argument types (see calls.ts) without reporting.
   */
  private bindFunctionDeclaration(decl: FunctionDecl): void {
    const inner = new LocalScope(this.scope);
    this.withContext({ scope: inner, row: null, rightRow: null, scopeKind: 'normal', implicitInput: null }, () => {
      for (const p of decl.params) this.declareParameter(p, false);
      this.bindStatements(decl.body.statements);
      this.bindExpr(decl.body.expr);
    });
  }

  /** Declares a function or query parameter in the current scope and checks its default value. */
  declareParameter(p: FunctionParam, isQueryParameter: boolean): void {
    const type = this.typeFromTypeRef(p.type);
    if (p.defaultValue) {
      const d = this.bindExpr(p.defaultValue);
      if (!d.isLiteral && !d.constant && d.type.kind !== 'unknown') {
        this.report(Codes.ConstantExpected, 'The expression must be a constant.', p.defaultValue);
      }
    }
    if (this.scope.declaresOwn(p.name.name) && !isQueryParameter) {
      this.report(Codes.DuplicateName, `A variable with the name '${p.name.name}' has already been declared.`, p.name);
    }
    this.scope.declare(p.name.name, { kind: 'variable', name: p.name.name, type, declaration: p, value: null });
  }

  /** The type a written type denotes: a scalar, or a tabular schema (open when it contains `*`). */
  typeFromTypeRef(t: TypeRef): Type {
    if (t.scalar !== null) {
      const s = TYPE_ALIASES[t.scalar];
      if (!s) {
        this.report(Codes.UnknownType, `Unknown type '${t.scalar}'.`, t);
        return UNKNOWN;
      }
      return scalar(s);
    }
    const columns: Column[] = [];
    for (const c of t.columns ?? []) columns.push({ name: c.name.name, type: this.columnTypeOf(c.type) });
    return table(columns, t.star);
  }

  columnTypeOf(t: TypeRef | null): ScalarTypeName | 'unknown' {
    if (!t) return 'string';
    const ty = this.typeFromTypeRef(t);
    return ty.kind === 'scalar' ? ty.name : 'unknown';
  }

  // ───────────────────────────── expressions ─────────────────────────────

  set(node: Node, info: ExprInfo): ExprInfo {
    this.model.setInfo(node, info);
    return info;
  }

  bindExpr(e: Expr): ExprInfo {
    if (isQueryOperator(e)) {
      const input = this.implicitInput;
      return this.set(e, { type: bindQueryOperator(this, e, input, false) });
    }
    switch (e.kind) {
      case 'Name':
        return this.set(e, this.bindName(e));
      case 'Wildcard':
        return this.set(e, this.bindWildcardInExpression(e.pattern, e));
      case 'Literal':
        return this.set(e, this.bindLiteral(e));
      case 'TypeOf': {
        const tv = this.withContext({}, () => this.typeFromTypeRefInScope(e.type));
        return this.set(e, { type: UNKNOWN, typeValue: tv, isLiteral: true, constant: { value: tv } });
      }
      case 'Missing':
        return this.set(e, { type: UNKNOWN });
      case 'Star':
        // `*` as an operand (`where * has "x"`) stands for every column; as a call argument, see calls.ts.
        return this.set(e, { type: scalar('dynamic') });
      case 'Member':
        return this.set(e, this.bindMember(e));
      case 'Index':
        return this.set(e, this.bindIndex(e));
      case 'Call':
        return this.set(e, bindCall(this, e));
      case 'NamedArg':
        return this.set(e, this.bindExpr(e.value));
      case 'Unary':
        return this.set(e, this.bindUnary(e));
      case 'Binary':
        return this.set(e, this.bindBinary(e));
      case 'In':
        return this.set(e, this.bindIn(e));
      case 'Between':
        return this.set(e, this.bindBetween(e));
      case 'Paren': {
        const inner = this.bindExpr(e.expr);
        return this.set(e, inner);
      }
      case 'NamedExpr': {
        const inner = this.bindExpr(e.expr);
        return this.set(e, { type: inner.type });
      }
      case 'Ordered': {
        const inner = this.bindExpr(e.expr);
        return this.set(e, { type: inner.type, ...(inner.symbol ? { symbol: inner.symbol } : {}) });
      }
      case 'Pipe':
        return this.bindPipeChain(e);
    }
  }

  /**
   * A pipeline `src | op1 | op2 ...` is a left-nested chain of Pipe nodes: bound iteratively (source first, then
   * each operator on the previous output) so that very long pipelines cannot exhaust the stack.
   */
  private bindPipeChain(last: Expr & { kind: 'Pipe' }): ExprInfo {
    const chain: (Expr & { kind: 'Pipe' })[] = [];
    let source: Expr = last;
    while (source.kind === 'Pipe') {
      chain.push(source);
      source = source.left;
    }
    let current = this.bindExpr(source);
    for (let i = chain.length - 1; i >= 0; i--) {
      const pipe = chain[i] as Expr & { kind: 'Pipe' };
      let input: RowScope | null = null;
      if (current.type.kind === 'table') input = new RowScope(current.type.columns, current.type.open ?? false);
      else if (current.type.kind !== 'unknown') {
        this.report(Codes.TabularExpected, 'A tabular expression is expected.', pipe.left);
      }
      const out = bindQueryOperator(this, pipe.op, input ?? new RowScope([], true), true);
      this.set(pipe.op, { type: out });
      current = this.set(pipe, { type: out });
    }
    return current;
  }

  /** `typeof(*)` takes the row scope's columns. */
  private typeFromTypeRefInScope(t: TypeRef): Type {
    const ty = this.typeFromTypeRef(t);
    if (ty.kind === 'table' && t.star && this.row) return table([...ty.columns, ...this.row.columns]);
    return ty;
  }

  private bindLiteral(e: Literal): ExprInfo {
    const info: ExprInfo = { type: scalar(e.type), isLiteral: true, constant: { value: e.value } };
    if (e.type !== 'dynamic') return info;
    if (e.value === null) return info;
    const v = e.value;
    const shape = Array.isArray(v)
      ? 'array'
      : typeof v === 'object' && !('$datetime' in v || '$timespan' in v || '$guid' in v)
        ? 'bag'
        : 'value';
    return { ...info, dynamicShape: shape };
  }

  /** Binds a scalar expression and checks it is of type bool (where, join where, ...). */
  bindPredicate(e: Expr): ExprInfo {
    const info = this.bindExpr(e);
    this.checkType(e, info.type, ['bool']);
    return info;
  }

  checkType(at: Span, t: Type, allowed: readonly ScalarTypeName[], message?: string): boolean {
    if (t.kind === 'unknown') return true;
    if (t.kind === 'scalar' && allowed.includes(t.name)) return true;
    this.report(
      Codes.TypeExpected,
      message ??
        (allowed.length === 1
          ? `The expression must have the type ${allowed[0]}.`
          : `The expression must have one of the types: ${allowed.join(', ')}.`),
      at,
    );
    return false;
  }

  checkInteger(e: Expr, info: ExprInfo): void {
    if (info.type.kind === 'unknown') return;
    if (info.type.kind === 'scalar' && (info.type.name === 'int' || info.type.name === 'long')) return;
    this.report(Codes.TypeExpected, 'The expression value must be an integer.', e);
  }

  checkScalar(e: Expr, info: ExprInfo): boolean {
    if (info.type.kind === 'scalar' || info.type.kind === 'unknown') return true;
    this.report(Codes.ScalarExpected, 'Scalar value expected.', e);
    return false;
  }

  checkTabular(e: Expr, info: ExprInfo): boolean {
    if (info.type.kind === 'table' || info.type.kind === 'unknown') return true;
    this.report(Codes.TabularExpected, 'A tabular expression is expected.', e);
    return false;
  }

  /** True when the expression is a (possibly parenthesized) column reference. */
  checkColumn(e: Expr, info: ExprInfo): boolean {
    if (info.symbol?.kind === 'column' || info.type.kind === 'unknown') return true;
    this.report(Codes.ColumnExpected, 'A column name is expected.', e);
    return false;
  }

  // ───────────────────────────── names ─────────────────────────────

  /** Looks a name up as Kusto does: row scope, right row scope, locals, tables, then built-ins. */
  lookupName(name: string): BoundSymbol | undefined {
    const col = this.row?.get(name) ?? this.rightRow?.get(name);
    if (col) return { kind: 'column', column: col };
    const local = this.scope.lookup(name);
    if (local) return local;
    const table = this.tables.get(name);
    if (table) return table;
    const fn = this.workspace.functions.find((f) => f.name === name);
    if (fn) return { kind: 'stored-function', name, definition: fn };
    return undefined;
  }

  bindName(n: Name): ExprInfo {
    if ((n.name === '$left' || n.name === '$right') && this.rightRow) {
      const side = n.name === '$left' ? this.row : this.rightRow;
      return { type: { kind: 'tuple', columns: side?.columns ?? [] } };
    }
    const sym = this.lookupName(n.name);
    if (!sym) {
      if (this.row?.open || this.rightRow?.open) return { type: UNKNOWN };
      this.report(
        Codes.UnknownName,
        `The name '${n.name}' does not refer to any known column, table, variable or function.`,
        n,
      );
      return { type: UNKNOWN };
    }
    return this.infoForSymbol(sym, n);
  }

  infoForSymbol(sym: BoundSymbol, at: Name): ExprInfo {
    switch (sym.kind) {
      case 'column':
        if (this.scopeKind === 'aggregate') {
          this.report(
            Codes.AggregateExpected,
            `The name '${sym.column.name}' is not an aggregate or scalar function.`,
            at,
          );
        }
        return {
          type: columnType(sym.column.type),
          symbol: sym,
          ...(sym.column.dynamicShape ? { dynamicShape: sym.column.dynamicShape } : {}),
        };
      case 'table':
        return { type: table(sym.columns), symbol: sym };
      case 'variable':
        return {
          type: sym.type,
          symbol: sym,
          ...(sym.constant ? { constant: sym.constant, isLiteral: false } : {}),
          // Scalar parameters are constants in Kusto: a call supplies their values.
          ...(sym.declaration.kind === 'FunctionParam' && sym.type.kind === 'scalar' ? { isConstant: true } : {}),
        };
      case 'function':
      case 'stored-function':
        return bindUserFunctionReference(this, sym, at);
      case 'builtin':
        return { type: UNKNOWN, symbol: sym };
    }
  }

  /** A wildcard in an expression list position that is not handled by its operator (rare): its columns. */
  private bindWildcardInExpression(pattern: string, at: Span): ExprInfo {
    const cols = this.row ? this.matchColumns(pattern) : [];
    if (cols.length === 0 && !this.row?.open) {
      this.report(
        Codes.UnknownName,
        `The name '${pattern}' does not refer to any known column, table, variable or function.`,
        at,
      );
    }
    return { type: { kind: 'tuple', columns: cols } };
  }

  /** Columns of the row scope whose names match a `*` wildcard pattern. */
  matchColumns(pattern: string, columns: readonly Column[] = this.row?.columns ?? []): Column[] {
    const re = wildcardRegex(pattern);
    return columns.filter((c) => re.test(c.name));
  }

  // ───────────────────────────── paths and elements ─────────────────────────────

  private bindMember(e: Member): ExprInfo {
    const target = this.bindExpr(e.expr);
    const t = target.type;
    const name = e.member.name;
    if (t.kind === 'tuple') {
      const col = t.columns.find((c) => c.name === name);
      if (col) return { type: columnType(col.type), symbol: { kind: 'column', column: col } };
      if ((e.expr.kind === 'Name' && (e.expr.name === '$left' ? this.row : this.rightRow)?.open) ?? false) {
        return { type: UNKNOWN };
      }
      this.report(
        Codes.UnknownName,
        `The name '${name}' does not refer to any known column, table, variable or function.`,
        e.member,
      );
      return { type: UNKNOWN };
    }
    if (t.kind === 'unknown') return { type: UNKNOWN };
    if (t.kind === 'scalar' && t.name === 'dynamic') return { type: scalar('dynamic') };
    if (t.kind === 'database') {
      const table = this.tables.get(name);
      if (table) return { type: { kind: 'table', columns: table.columns }, symbol: table };
      // Another database (or an alias): its schema is not known here, so its tables are open.
      if (t.name !== '' && t.name !== this.workspace.database) return { type: table_open() };
      this.report(Codes.UnknownTable, `The name '${name}' does not refer to any known table.`, e.member);
      return { type: UNKNOWN };
    }
    if (t.kind === 'cluster') return { type: { kind: 'database', name } };
    this.report(
      Codes.UnknownName,
      `The name '${name}' does not refer to any known column, table, variable or function.`,
      e.member,
    );
    return { type: UNKNOWN };
  }

  private bindIndex(e: Index): ExprInfo {
    const target = this.bindExpr(e.expr);
    const index = this.withContext({ scopeKind: 'normal' }, () => this.bindExpr(e.index));
    const t = target.type;
    if (index.type.kind === 'unknown' || t.kind === 'unknown') return { type: UNKNOWN };
    if (t.kind === 'scalar' && t.name === 'dynamic') {
      const it = index.type.kind === 'scalar' ? index.type.name : null;
      if (it !== 'int' && it !== 'long' && it !== 'string' && it !== 'dynamic') {
        this.report(Codes.TypeExpected, 'The expression must have one of the types: int, long, string.', e.index);
      }
      return { type: scalar('dynamic') };
    }
    if (t.kind === 'tuple') {
      const v = index.constant?.value;
      const i = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : -1;
      const col = t.columns[i];
      return col ? { type: columnType(col.type), symbol: { kind: 'column', column: col } } : { type: UNKNOWN };
    }
    this.report(Codes.InvalidArgument, 'The element access operator is not allowed in this context.', e.index);
    return { type: UNKNOWN };
  }

  // ───────────────────────────── operators ─────────────────────────────

  private bindUnary(e: Unary): ExprInfo {
    const operand = this.bindExpr(e.operand);
    const r = typeOperator(e.op === '-' ? 'UnaryMinus' : 'UnaryPlus', [operand.type]);
    if (!r.ok) {
      this.report(
        Codes.OperatorTypeMismatch,
        `The operator '${e.op}' is not defined for the operand type ${typeToString(operand.type)}.`,
        { start: e.start, end: e.start + 1 },
      );
    }
    // A negated literal is still a literal (datatable rows, default values); fold its value.
    if (operand.isLiteral && operand.constant) {
      const v = operand.constant.value;
      const folded =
        e.op === '+' ? v : typeof v === 'bigint' ? -v : typeof v === 'number' ? -v : typeof v === 'string' ? v : v;
      return { type: r.type, isLiteral: true, constant: { value: folded } };
    }
    return { type: r.type };
  }

  private bindBinary(e: Binary): ExprInfo {
    const left = this.bindExpr(e.left);
    const right = this.bindExpr(e.right);
    const kind = BINARY_OPERATOR_KIND[e.op];
    const r = typeOperator(kind, [left.type, right.type]);
    if (!r.ok) {
      const opEnd = e.opStart + e.op.length;
      this.report(
        Codes.OperatorTypeMismatch,
        `The operator '${e.op}' is not defined for the operand types ${typeToString(left.type)} and ${typeToString(right.type)}.`,
        { start: e.opStart, end: opEnd },
      );
    }
    return { type: r.type };
  }

  private bindIn(e: In): ExprInfo {
    const left = this.bindExpr(e.left);
    const items = e.list.map((x) => this.bindExpr(x));
    for (let i = 0; i < items.length; i++) {
      const it = items[i] as ExprInfo;
      if (it.type.kind === 'table' && items.length > 1) {
        this.report(Codes.ScalarExpected, 'Scalar value expected.', e.list[i] as Expr);
      }
    }
    const r = typeOperator(IN_OPERATOR_KIND[e.op], [left.type, ...items.map((x) => x.type)]);
    if (!r.ok) {
      this.report(
        Codes.OperatorTypeMismatch,
        `The operator '${e.op}' is not defined for the operand types ${[left, ...items].map((x) => typeToString(x.type)).join(', ')}.`,
        e,
      );
    }
    return { type: scalar('bool') };
  }

  private bindBetween(e: Between): ExprInfo {
    const left = this.bindExpr(e.left);
    const low = this.bindExpr(e.low);
    const high = this.bindExpr(e.high);
    const r = typeOperator(e.negated ? 'NotBetween' : 'Between', [left.type, low.type, high.type]);
    if (!r.ok) {
      this.report(
        Codes.OperatorTypeMismatch,
        `The operator '${e.negated ? '!between' : 'between'}' is not defined for the operand types ${typeToString(left.type)}, ${typeToString(low.type)} and ${typeToString(high.type)}.`,
        e,
      );
    }
    return { type: scalar('bool') };
  }
}

function table_open(): Type {
  return table([], true);
}

/** Converts a KQL wildcard (`Device*`) to an anchored regular expression. */
export function wildcardRegex(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export const VOID_TYPE = VOID;
