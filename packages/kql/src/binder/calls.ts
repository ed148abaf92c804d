/**
 * Binding of calls: built-in scalar functions and aggregates (resolved against the catalog's signatures), the
 * special functions (`toscalar`, `materialize`, `table`, `database`, ...), and user functions (`let f = (...)
 * {...}` and stored functions), whose bodies are bound again for each call with that call's argument types.
 */
import type { ArgInfo } from '../catalog/resolve.js';
import { lookupAggregate, lookupFunction, resolveCall } from '../catalog/resolve.js';
import type { FunctionDef } from '../catalog/types.js';
import { Codes } from '../diagnostics/codes.js';
import type { Call, Expr, FunctionDecl, Name } from '../syntax/nodes.js';
import { parse } from '../syntax/parser.js';
import type { Binder } from './binder.js';
import { expressionResultName } from './names.js';
import type { Expansion, ExprInfo } from './semantic-model.js';
import { SemanticModel } from './semantic-model.js';
import type { FunctionSymbol, StoredFunctionSymbol, VariableSymbol } from './symbols.js';
import { LocalScope } from './symbols.js';
import type { Column, Type } from './types.js';
import { scalar, table, toColumnType, typeToString, UNKNOWN } from './types.js';

const MAX_EXPANSION_DEPTH = 16;

export function bindCall(b: Binder, call: Call): ExprInfo {
  const name = call.name.name;
  if (call.target) {
    b.bindExpr(call.target);
    for (const a of call.args) b.bindExpr(a);
    return { type: table([], true) };
  }
  const special = bindSpecialCall(b, call, name);
  if (special) return special;

  const local = b.scope.lookup(name);
  if (local?.kind === 'function') return bindUserCall(b, call, local, local.declaration);
  if (local?.kind === 'variable') {
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
      b.report(Codes.AggregateNotAllowed, `The aggregate function '${name}' is not allowed in this context.`, call.name);
      b.withContext({ scopeKind: 'normal' }, () => {
        for (const a of call.args) b.bindExpr(a);
      });
      return { type: UNKNOWN };
    }
    return bindBuiltinCall(b, call, agg, 'aggregate');
  }
  for (const a of call.args) b.bindExpr(a);
  b.report(Codes.UnknownFunction, `The name '${name}' does not refer to any known function.`, call.name);
  return { type: UNKNOWN };
}

/** The argument as the catalog's resolver sees it. */
export function argInfo(b: Binder, arg: Expr, info: ExprInfo): ArgInfo {
  const named = arg.kind === 'NamedArg' ? arg.name.name : undefined;
  const inner = arg.kind === 'NamedArg' ? arg.value : arg;
  const isColumn = info.symbol?.kind === 'column';
  return {
    type: info.type,
    isLiteral: info.isLiteral === true,
    isConstant: info.constant !== undefined,
    ...(info.constant ? { constantValue: info.constant.value } : {}),
    isColumn,
    ...(isColumn && info.symbol?.kind === 'column' ? { columnName: info.symbol.column.name } : {}),
    isStar: inner.kind === 'Star',
    isAggregate: inner.kind === 'Call' && b.model.call(inner)?.kind === 'aggregate',
    ...(named !== undefined ? { name: named } : {}),
    start: arg.start,
    length: arg.end - arg.start,
  };
}

function bindArgs(b: Binder, call: Call, aggregate: boolean): ExprInfo[] {
  const bindOne = (a: Expr): ExprInfo => {
    if (a.kind === 'Star') {
      return b.set(a, { type: { kind: 'tuple', columns: b.row?.columns ?? [] } });
    }
    return b.bindExpr(a);
  };
  if (aggregate) return b.withContext({ scopeKind: 'normal' }, () => call.args.map(bindOne));
  return call.args.map(bindOne);
}

function bindBuiltinCall(b: Binder, call: Call, fn: FunctionDef, kind: 'builtin' | 'aggregate'): ExprInfo {
  const infos = bindArgs(b, call, kind === 'aggregate');
  const args = call.args.map((a, i) => argInfo(b, a, infos[i] as ExprInfo));
  const res = resolveCall(
    fn,
    args,
    { rowColumns: b.row?.columns ?? null },
    { start: call.start, length: call.end - call.start },
  );
  for (const d of res.diagnostics) b.diagnostics.push(d);
  b.model.setCall(call, { kind, definition: fn, signature: res.signature });
  const tuple = kind === 'aggregate' ? aggregateTuple(b, call, fn, infos) : null;
  return { type: tuple ?? res.returnType };
}

/**
 * Aggregates that yield several columns, typed as tuples the projection expands: `arg_max(x, *)`, `arg_min(x,
 * a, b)`, `take_any(a, b)`, `percentiles(x, 50, 95)`. Star columns keep their identity so a `by` column is not
 * repeated; explicitly named arguments are new columns (and may get a suffix).
 */
function aggregateTuple(b: Binder, call: Call, fn: FunctionDef, infos: readonly ExprInfo[]): Type | null {
  const name = fn.name;
  const args = call.args;
  const colFor = (a: Expr, info: ExprInfo): Column => ({
    name: expressionResultName(b.model, a, 'Column1') ?? 'Column1',
    type: toColumnType(info.type),
  });
  if (name === 'arg_max' || name === 'arg_min' || name === 'take_any' || name === 'take_anyif') {
    const limit = name === 'take_anyif' ? 1 : args.length;
    const valueArgs = args.slice(0, limit);
    if (name.startsWith('take_any') && valueArgs.length === 1 && valueArgs[0]?.kind !== 'Star') return null;
    const out: Column[] = [];
    const first = args[0];
    const firstName = name.startsWith('arg_') && first ? expressionResultName(b.model, first, null) : null;
    valueArgs.forEach((a, i) => {
      const info = infos[i] as ExprInfo;
      if (a.kind === 'Star') {
        for (const c of b.row?.columns ?? []) if (c.name !== firstName) out.push(c);
      } else {
        out.push(colFor(a, info));
      }
    });
    return { kind: 'tuple', columns: out };
  }
  if (name === 'percentiles' || name === 'percentilesw') {
    const first = args[0];
    if (!first) return null;
    const base = expressionResultName(b.model, first, '') ?? '';
    const valueType = toColumnType(infos[0]?.type ?? UNKNOWN);
    const start = name === 'percentilesw' ? 2 : 1;
    const out: Column[] = [];
    for (let i = start; i < args.length; i++) {
      const v = infos[i]?.constant?.value;
      const text = String(v ?? i).replace(/\./g, '_');
      out.push({ name: `percentile_${base}_${text}`, type: valueType });
    }
    return out.length === 1 ? null : { kind: 'tuple', columns: out };
  }
  return null;
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

function bindUserCall(
  b: Binder,
  call: Call,
  sym: FunctionSymbol | StoredFunctionSymbol,
  decl: FunctionDecl,
): ExprInfo {
  const infos = call.args.map((a) => b.bindExpr(a));
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
  const expansion = expand(b, sym, decl, argTypes, call.args);
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
  args: readonly Expr[],
): Expansion | null {
  if (b.expansionDepth >= MAX_EXPANSION_DEPTH) return null;
  const key = argTypes.map(typeToString).join('|');
  let perDecl = expansionCache.get(decl);
  if (!perDecl) {
    perDecl = new Map();
    expansionCache.set(decl, perDecl);
  }
  // The cache is per binder workspace: functions are pure over their argument types.
  const cached = perDecl.get(key);
  if (cached && sym.kind === 'function') return cached;

  const argInfos = args.map((a) => b.model.info(a));
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
