/**
 * Binding of calls: built-in scalar functions and aggregates (resolved against the catalog's signatures), the
 * special functions (`toscalar`, `materialize`, `table`, `database`, ...), and user functions (`let f = (...)
 * {...}` and stored functions), whose bodies are bound again for each call with that call's argument types.
 */
import type { ArgInfo, CallContext } from '../catalog/resolve.js';
import { argumentScope, lookupAggregate, lookupFunction, resolveCall } from '../catalog/resolve.js';
import type { FunctionDef } from '../catalog/types.js';
import { Codes } from '../diagnostics/codes.js';
import type { Call, Expr, FunctionDecl, Name } from '../syntax/nodes.js';
import { parse } from '../syntax/parser.js';
import type { Binder } from './binder.js';
import { bindGraphCall } from './graph.js';
import { expressionResultName, resultColumnOf } from './names.js';
import type { Expansion, ExprInfo } from './semantic-model.js';
import { SemanticModel } from './semantic-model.js';
import type { FunctionSymbol, StoredFunctionSymbol, VariableSymbol } from './symbols.js';
import { LocalScope, RowScope } from './symbols.js';
import type { Type } from './types.js';
import { scalar, table, typeToString, UNKNOWN } from './types.js';

const MAX_EXPANSION_DEPTH = 16;

export function bindCall(b: Binder, call: Call): ExprInfo {
  const name = call.name.name;
  if (call.target) {
    b.bindExpr(call.target);
    for (const a of call.args) b.bindExpr(a);
    return { type: table([], true) };
  }
  const special = bindSpecialCall(b, call, name) ?? bindGraphCall(b, call);
  if (special) return special;

  const local = b.scope.lookup(name);
  if (local?.kind === 'function') return bindUserCall(b, call, local, local.declaration);
  // A variable does not hide a function of the same name: call syntax looks up functions only.
  if (local?.kind === 'variable' && !lookupFunction(name) && !lookupAggregate(name)) {
    for (const a of call.args) b.bindExpr(a);
    b.report(Codes.NotAFunction, `The name '${name}' does not refer to a function.`, call.name);
    return { type: UNKNOWN };
  }
  const stored = b.workspace.functions.find((f) => f.name === name);
  if (stored) {
    const sym: StoredFunctionSymbol = { kind: 'stored-function', name, definition: stored };
    const decl = storedDeclaration(sym);
    if (decl) return bindUserCall(b, call, sym, decl);
  }

  const fn = lookupFunction(name);
  if (fn) return bindBuiltinCall(b, call, fn, 'builtin');
  const agg = lookupAggregate(name);
  if (agg) {
    if (b.scopeKind !== 'aggregate') {
      b.report(
        Codes.AggregateNotAllowed,
        `The aggregate function '${name}' is not allowed in this context.`,
        call.name,
      );
      b.withContext({ scopeKind: 'normal' }, () => {
        for (const a of call.args) b.bindExpr(a);
      });
      return { type: UNKNOWN };
    }
    if (name === 'count' && call.args.length === 1) {
      const counted = countOfValue(b, call, agg);
      if (counted) return counted;
    }
    return bindBuiltinCall(b, call, agg, 'aggregate');
  }
  for (const a of call.args) b.bindExpr(a);
  b.report(Codes.UnknownFunction, `The name '${name}' does not refer to any known function.`, call.name);
  return { type: UNKNOWN };
}

/**
 * `count(x)` with a non-bool `x`: the Kusto service counts the rows (nulls of `x` included, like `count()`), while
 * Microsoft's analyzer expects a bool (the obsolete `count(predicate)`). Vigil follows the service (kusto-truth
 * cases record it); a bool argument still resolves through the catalog.
 */
function countOfValue(b: Binder, call: Call, agg: FunctionDef): ExprInfo | null {
  const arg = call.args[0];
  if (!arg || arg.kind === 'NamedArg' || arg.kind === 'Star') return null;
  // The type decides the reading; the argument is then bound for real once (by this function or the catalog path).
  const bind = () => b.withContext({ scopeKind: 'normal' }, () => b.bindExpr(arg));
  const probe = b.quietly(bind);
  if (probe.type.kind !== 'scalar' || probe.type.name === 'bool') return null;
  const signature = agg.signatures.find((s) => s.params.length === 0);
  if (!signature) return null;
  bind();
  b.model.setCall(call, { kind: 'aggregate', definition: agg, signature });
  return { type: scalar('long') };
}

/** The argument as the catalog's resolver sees it. */
export function argInfo(b: Binder, arg: Expr, info: ExprInfo): ArgInfo {
  const named = arg.kind === 'NamedArg' ? arg : null;
  const inner = named ? named.value : arg;
  const isColumn = info.symbol?.kind === 'column';
  const resultName = inner.kind === 'Star' ? undefined : expressionResultName(b.model, inner, null);
  const resultCol = resultColumnOf(b.model, inner);
  const innerCall = inner.kind === 'Call' ? inner.args[0] : undefined;
  const innerCol = innerCall
    ? resultColumnOf(b.model, innerCall.kind === 'NamedArg' ? innerCall.value : innerCall)
    : null;
  return {
    type: info.type,
    isLiteral: info.isLiteral === true,
    isConstant: info.constant !== undefined || info.isConstant === true,
    ...(info.constant ? { constantValue: info.constant.value } : {}),
    isColumn,
    ...(isColumn && info.symbol?.kind === 'column' ? { columnName: info.symbol.column.name } : {}),
    isStar: inner.kind === 'Star',
    isAggregate: inner.kind === 'Call' && b.model.call(inner)?.kind === 'aggregate',
    ...(named
      ? { name: named.name.name, nameStart: named.name.start, nameLength: named.name.end - named.name.start }
      : {}),
    start: inner.start,
    length: inner.end - inner.start,
    ...(resultName !== null && resultName !== undefined ? { resultName } : {}),
    ...(resultCol ? { resultColumnName: resultCol.name } : {}),
    ...(info.typeValue ? { typeOf: info.typeValue } : {}),
    ...(innerCol ? { innerColumnName: innerCol.name } : {}),
    ...(info.dynamicShape ? { dynamicShape: info.dynamicShape } : {}),
  };
}

/** The call context the resolver needs: the row scope, the summarize `by` columns, table look-up. */
export function callContext(b: Binder): CallContext {
  return {
    rowColumns: b.row?.columns ?? null,
    ...(b.byColumns ? { byColumns: b.byColumns } : {}),
    resolveTable: (name: string) => {
      const t = b.tables.get(name);
      if (t) return table(t.columns);
      const local = b.scope.lookup(name);
      return local?.kind === 'variable' && local.type.kind === 'table' ? local.type : undefined;
    },
  };
}

/**
 * Binds a built-in's arguments, each in the scope its parameter asks for: aggregate arguments of an aggregate
 * are ordinary expressions; pivot's aggregate argument is an aggregate; a lookup plugin's key columns belong to
 * the lookup table (its first argument).
 */
export function bindBuiltinArgs(b: Binder, call: Call, fn: FunctionDef, aggregate: boolean): ExprInfo[] {
  const out: ExprInfo[] = [];
  let first: Type | undefined;
  call.args.forEach((a, i) => {
    const scope = argumentScope(fn, i);
    const bindOne = (): ExprInfo => {
      if (a.kind === 'Star') return b.set(a, { type: { kind: 'tuple', columns: b.row?.columns ?? [] } });
      return b.bindExpr(a);
    };
    let info: ExprInfo;
    if (scope === 'aggregate') info = b.withContext({ scopeKind: 'aggregate' }, bindOne);
    else if ((scope === 'parameter0' || scope === 'parameter0-common') && first?.kind === 'table') {
      const lookupRows = new RowScope(first.columns, first.open ?? false);
      info =
        scope === 'parameter0'
          ? b.withContext({ row: lookupRows, scopeKind: 'normal' }, bindOne)
          : b.withContext({ rightRow: lookupRows, scopeKind: 'normal' }, bindOne);
    } else if (aggregate) info = b.withContext({ scopeKind: 'normal' }, bindOne);
    else if (i === 0 && fn.kind === 'plugin') info = b.withContext({ scopeKind: 'normal' }, bindOne);
    else info = bindOne();
    if (i === 0) first = info.type;
    out.push(info);
  });
  return out;
}

function bindBuiltinCall(b: Binder, call: Call, fn: FunctionDef, kind: 'builtin' | 'aggregate'): ExprInfo {
  const infos = bindBuiltinArgs(b, call, fn, kind === 'aggregate');
  const args = call.args.map((a, i) => argInfo(b, a, infos[i] as ExprInfo));
  const res = resolveCall(fn, args, callContext(b), {
    start: call.name.start,
    length: call.name.end - call.name.start,
  });
  for (const d of res.diagnostics) b.diagnostics.push(d);
  b.model.setCall(call, { kind, definition: fn, signature: res.signature });
  const existing = existingColumnOf(b, fn, args);
  if (existing) return { type: existing };
  return {
    type: res.returnType,
    ...(res.isConstant ? { isConstant: true } : {}),
    ...(res.dynamicShape ? { dynamicShape: res.dynamicShape } : {}),
  };
}

/**
 * `column_ifexists("X", default)` when the row has X: the Kusto service types the call by that column (so
 * `.displayName` on a dynamic column works), while Microsoft's analyzer types it by the default. Vigil follows
 * the service, since the call runs as that column (see test/binder/DISAGREEMENTS.md).
 */
function existingColumnOf(b: Binder, fn: FunctionDef, args: ArgInfo[]): Type | null {
  if (fn.name !== 'column_ifexists' && fn.name !== 'columnifexists') return null;
  const colName = args[0]?.constantValue;
  if (typeof colName !== 'string') return null;
  const col = b.row?.get(colName);
  if (!col || col.type === 'unknown') return null;
  return scalar(col.type);
}

// ───────────────────────────── special functions ─────────────────────────────

function bindSpecialCall(b: Binder, call: Call, name: string): ExprInfo | null {
  switch (name) {
    case 'toscalar': {
      const arg = call.args.find((a) => a.kind !== 'NamedArg') ?? call.args[0];
      const infos = b.withContext({ row: null, rightRow: null, scopeKind: 'normal', implicitInput: null }, () =>
        call.args.map((a) => b.bindExpr(a)),
      );
      const info = arg ? (infos[call.args.indexOf(arg)] as ExprInfo) : { type: UNKNOWN };
      if (info.type.kind === 'table') {
        const first = info.type.columns[0];
        return { type: first ? (first.type === 'unknown' ? UNKNOWN : scalar(first.type)) : UNKNOWN };
      }
      if (info.type.kind === 'scalar' || info.type.kind === 'unknown') return { type: info.type };
      if (arg) b.report(Codes.TabularExpected, 'A tabular or scalar expression is expected.', arg);
      return { type: UNKNOWN };
    }
    case 'materialize': {
      const infos = b.withContext({ row: null, rightRow: null, scopeKind: 'normal', implicitInput: null }, () =>
        call.args.map((a) => b.bindExpr(a)),
      );
      const arg = call.args[0];
      const info = infos[0];
      if (!arg || !info) {
        b.report(Codes.ArgumentCount, 'The function materialize expects one argument.', call);
        return { type: UNKNOWN };
      }
      b.checkTabular(arg, info);
      return { type: info.type };
    }
    case 'table':
    case 'view': {
      if (name === 'view') return null;
      const infos = b.withContext({ scopeKind: 'normal' }, () => call.args.map((a) => b.bindExpr(a)));
      const v = infos[0]?.constant?.value;
      if (typeof v === 'string') {
        const t = b.tables.get(v);
        if (t) return { type: table(t.columns), symbol: t };
        const local = b.scope.lookup(v);
        if (local?.kind === 'variable' && local.type.kind === 'table') return { type: local.type, symbol: local };
        b.report(Codes.UnknownTable, `The name '${v}' does not refer to any known table.`, call.args[0] ?? call);
        return { type: UNKNOWN };
      }
      return { type: table([], true) };
    }
    case 'database': {
      const infos = call.args.map((a) => b.bindExpr(a));
      const v = infos[0]?.constant?.value;
      return { type: { kind: 'database', name: typeof v === 'string' ? v : '' } };
    }
    case 'cluster': {
      const infos = call.args.map((a) => b.bindExpr(a));
      const v = infos[0]?.constant?.value;
      return { type: { kind: 'cluster', name: typeof v === 'string' ? v : '' } };
    }
    case 'external_table':
    case 'materialized_view':
    case 'stored_query_result':
    case 'entity_group':
    case 'graph':
      for (const a of call.args) b.bindExpr(a);
      return { type: table([], true) };
    default:
      return null;
  }
}

// ───────────────────────────── user functions ─────────────────────────────

const storedDeclarations = new WeakMap<object, FunctionDecl | null>();

/** Parses a stored function's text into a declaration (once per definition object). */
function storedDeclaration(sym: StoredFunctionSymbol): FunctionDecl | null {
  const def = sym.definition;
  if (storedDeclarations.has(def)) return storedDeclarations.get(def) ?? null;
  const body = def.body.trim().startsWith('{') ? def.body : `{ ${def.body} }`;
  const parsed = parse(`let __stored = ${def.parameters || '()'} ${body};`);
  const st = parsed.root.statements[0];
  const decl = st?.kind === 'Let' && st.value.kind === 'FunctionDecl' ? st.value : null;
  storedDeclarations.set(def, decl);
  return decl;
}

/** `T | invoke f(a, b)`: calls `f(T, a, b)`. */
export function bindUserCallWithInput(b: Binder, call: Call, input: RowScope): Type {
  const local = b.scope.lookup(call.name.name);
  const stored = b.workspace.functions.find((f) => f.name === call.name.name);
  const sym: FunctionSymbol | StoredFunctionSymbol | null =
    local?.kind === 'function'
      ? local
      : stored
        ? { kind: 'stored-function', name: stored.name, definition: stored }
        : null;
  const decl = sym ? (sym.kind === 'function' ? sym.declaration : storedDeclaration(sym)) : null;
  if (!sym || !decl) {
    for (const a of call.args) b.bindExpr(a);
    b.report(Codes.UnknownFunction, `The name '${call.name.name}' does not refer to any known function.`, call.name);
    return UNKNOWN;
  }
  const info = bindUserCall(b, call, sym, decl, table(input.columns, input.open));
  b.set(call, info);
  return info.type;
}

function bindUserCall(
  b: Binder,
  call: Call,
  sym: FunctionSymbol | StoredFunctionSymbol,
  decl: FunctionDecl,
  input?: Type,
): ExprInfo {
  const infos: ExprInfo[] = call.args.map((a) => b.bindExpr(a));
  if (input) infos.unshift({ type: input });
  const params = decl.params;
  const required = params.filter((p) => !p.defaultValue).length;
  if (infos.length < required || infos.length > params.length) {
    b.report(
      Codes.ArgumentCount,
      `The function '${sym.name}' expects ${required === params.length ? params.length : `${required} to ${params.length}`} argument(s).`,
      call,
    );
  }
  const argTypes = infos.map((i) => i.type);
  const expansion = expand(b, sym, decl, argTypes, input ? [null, ...call.args] : call.args);
  b.model.setCall(call, { kind: 'user', symbol: sym, declaration: decl, expansion });
  return { type: expansion?.resultType ?? UNKNOWN };
}

/** A function name used without an argument list: legal for functions whose parameters are all optional. */
export function bindUserFunctionReference(b: Binder, sym: FunctionSymbol | StoredFunctionSymbol, at: Name): ExprInfo {
  const decl = sym.kind === 'function' ? sym.declaration : storedDeclaration(sym);
  if (!decl) return { type: UNKNOWN };
  if (decl.params.some((p) => !p.defaultValue)) {
    b.report(Codes.ArgumentCount, `The function '${sym.name}' requires an argument list.`, at);
    return { type: UNKNOWN };
  }
  const expansion = expand(b, sym, decl, [], []);
  b.model.setCall(at, { kind: 'user', symbol: sym, declaration: decl, expansion });
  return { type: expansion?.resultType ?? UNKNOWN, symbol: sym };
}

const expansionCache = new WeakMap<FunctionDecl, Map<string, Expansion>>();

function expand(
  b: Binder,
  sym: FunctionSymbol | StoredFunctionSymbol,
  decl: FunctionDecl,
  argTypes: readonly Type[],
  args: readonly (Expr | null)[],
): Expansion | null {
  if (b.expansionDepth >= MAX_EXPANSION_DEPTH) return null;
  // The body's schema can depend on constant arguments (`table(name)`), so they are part of the cache key.
  const constants = args.map((a) => {
    const v = a ? b.model.info(a)?.constant?.value : undefined;
    return typeof v === 'bigint' ? `${v}n` : JSON.stringify(v ?? null);
  });
  const key = `${argTypes.map(typeToString).join('|')}#${constants.join('|')}`;
  let perDecl = expansionCache.get(decl);
  if (!perDecl) {
    perDecl = new Map();
    expansionCache.set(decl, perDecl);
  }
  // The cache is per binder workspace: functions are pure over their argument types.
  const cached = perDecl.get(key);
  if (cached && sym.kind === 'function') return cached;

  const argInfos = args.map((a) => (a ? b.model.info(a) : undefined));
  const closure = sym.kind === 'function' ? sym.scope : new LocalScope(null);
  const scope = new LocalScope(closure);
  const model = new SemanticModel();
  const parameters: VariableSymbol[] = [];
  b.expansionDepth++;
  try {
    const resultType = b.quietly(() =>
      b.withContext({ scope, model, row: null, rightRow: null, scopeKind: 'normal', implicitInput: null }, () => {
        decl.params.forEach((p, i) => {
          const declared = b.typeFromTypeRef(p.type);
          const actual = argTypes[i];
          // Tabular parameters take the argument's schema; scalar ones keep their declared type.
          const type = declared.kind === 'table' && actual?.kind === 'table' ? actual : declared;
          const argInfo = argInfos[i];
          const param: VariableSymbol = {
            kind: 'variable',
            name: p.name.name,
            type,
            declaration: p,
            value: null,
            ...(argInfo?.constant ? { constant: argInfo.constant } : {}),
          };
          parameters.push(param);
          scope.declare(p.name.name, param);
        });
        b.bindStatements(decl.body.statements);
        return b.bindExpr(decl.body.expr).type;
      }),
    );
    const result: Expansion = { model, resultType, declaration: decl, parameters };
    perDecl.set(key, result);
    return result;
  } finally {
    b.expansionDepth--;
  }
}
