/**
 * Binding of the graph operators (`make-graph`, `graph-mark-components`, `graph-where-nodes/edges`,
 * `graph-to-table`, `graph-match`, `graph-shortest-paths`).
 *
 * A graph is not a table, but it flows through a pipeline like one: `make-graph` returns a table type whose
 * (empty) column array is registered here with the graph's node and edge schemas, and the next graph operator finds
 * its graph by that array (the pipe binder hands the same array to the next operator's row scope, and a `let`
 * keeps the type). Pattern variables are tuples of their element's properties (`n.name` binds like `$left.x`);
 * the graph-only functions (`map`, `all`, `any`, `inner_nodes`, `node_degree_in/out`, `node_id`) are bound here
 * through `bindGraphCall`, called by calls.ts while a pattern's clauses are bound.
 */
import { Codes } from '../diagnostics/codes.js';
import type { Call, Expr, GraphOperator, GraphPatternElement, Name, OperatorParam } from '../syntax/nodes.js';
import type { Binder } from './binder.js';
import { expressionResultName } from './names.js';
import type { ExprInfo } from './semantic-model.js';
import { LocalScope, RowScope } from './symbols.js';
import type { Column, Type } from './types.js';
import { scalar, table, UNKNOWN } from './types.js';

/** The schema of a graph value: node and edge properties. */
export interface GraphSchema {
  readonly nodes: readonly Column[];
  readonly edges: readonly Column[];
}

const graphs = new WeakMap<readonly Column[], GraphSchema>();

/** The graph a row scope's column array stands for (see the file comment), if any. */
export function graphSchemaOf(columns: readonly Column[] | undefined): GraphSchema | undefined {
  return columns ? graphs.get(columns) : undefined;
}

function graphType(schema: GraphSchema): Type {
  const marker: Column[] = [];
  graphs.set(marker, schema);
  return table(marker);
}

/** A pattern variable while its operator's clauses are bound. */
interface PatternVariable {
  readonly element: 'node' | 'edge';
  /** A variable-length edge (`-[e*1..3]-`): its properties are arrays in `project`. */
  readonly variable: boolean;
}

interface GraphContext {
  readonly schema: GraphSchema;
  readonly variables: ReadonlyMap<string, PatternVariable>;
}

const contexts = new WeakMap<Binder, GraphContext[]>();

export const GRAPH_FUNCTIONS = new Set([
  'map',
  'all',
  'any',
  'inner_nodes',
  'node_degree_in',
  'node_degree_out',
  'node_id',
  'labels',
]);

export function bindGraphOperator(b: Binder, op: GraphOperator, input: RowScope | null): Type {
  const graph = graphSchemaOf(input?.columns);
  switch (op.keyword) {
    case 'make-graph':
      return bindMakeGraph(b, op, input);
    case 'graph-mark-components': {
      if (!graph) return notAGraph(b, op, input);
      const name = paramName(op.params, 'with_component_id') ?? 'ComponentId';
      return graphType({ nodes: [...graph.nodes, { name, type: 'long' }], edges: graph.edges });
    }
    case 'graph-where-nodes':
    case 'graph-where-edges': {
      if (!graph) return notAGraph(b, op, input);
      const cols = op.keyword === 'graph-where-nodes' ? graph.nodes : graph.edges;
      for (const c of op.clauses) b.withContext({ row: new RowScope(cols) }, () => b.bindPredicate(c));
      return graphType(graph);
    }
    case 'graph-to-table': {
      if (!graph) return notAGraph(b, op, input);
      const first = op.clauses[0];
      const which = first?.kind === 'NamedExpr' ? first.expr : first;
      if (which?.kind === 'Name' && which.name === 'edges') {
        const src = paramName(op.params, 'with_source_id');
        const dst = paramName(op.params, 'with_target_id');
        const ids: Column[] = [];
        if (src) ids.push({ name: src, type: 'long' });
        if (dst) ids.push({ name: dst, type: 'long' });
        return table([...ids, ...graph.edges]);
      }
      const id = paramName(op.params, 'with_node_id');
      return table([...(id ? [{ name: id, type: 'long' as const }] : []), ...graph.nodes]);
    }
    case 'graph-match':
    case 'graph-shortest-paths':
      if (!graph) return notAGraph(b, op, input);
      return bindMatch(b, op, graph);
    default:
      b.quietly(() => {
        for (const c of op.clauses) b.withContext({ row: input }, () => b.bindExpr(c));
      });
      return UNKNOWN;
  }
}

function notAGraph(b: Binder, op: GraphOperator, input: RowScope | null): Type {
  // An input of unknown schema (an earlier error) was reported already.
  if (input?.open) return UNKNOWN;
  b.report(Codes.Expected, `The '${op.keyword}' operator expects a graph (the output of make-graph).`, {
    start: op.start,
    end: op.start + op.keyword.length,
  });
  return UNKNOWN;
}

function paramName(params: readonly OperatorParam[], name: string): string | undefined {
  const v = params.find((p) => p.name === name)?.value;
  return v?.kind === 'Name' ? v.name : v?.kind === 'Literal' && typeof v.value === 'string' ? v.value : undefined;
}

function bindMakeGraph(b: Binder, op: GraphOperator, input: RowScope | null): Type {
  const [src, dst, ...rest] = op.clauses;
  const edges = input?.columns ?? [];
  let keyType: Column['type'] = 'unknown';
  for (const end of [src, dst]) {
    if (!end) continue;
    const info = b.withContext({ row: input }, () => b.bindExpr(end));
    if (info.type.kind === 'scalar') keyType = info.type.name;
  }
  const nodes: Column[] = [];
  const idName = paramName(op.params, 'with_node_id');
  if (idName) nodes.push({ name: idName, type: keyType });
  for (const clause of rest) {
    if (clause.kind !== 'Call' || clause.name.name !== 'on') {
      b.quietly(() => b.bindExpr(clause));
      continue;
    }
    const [tableExpr, key] = clause.args;
    if (!tableExpr || !key) continue;
    const t = b.withContext({ row: null, rightRow: null }, () => b.bindExpr(tableExpr));
    if (t.type.kind !== 'table') {
      b.checkTabular(tableExpr, t);
      continue;
    }
    b.withContext({ row: new RowScope(t.type.columns, t.type.open ?? false) }, () => b.bindExpr(key));
    for (const c of t.type.columns) if (!nodes.some((n) => n.name === c.name)) nodes.push(c);
  }
  return graphType({ nodes, edges });
}

/** The pattern calls, where clause and project items of graph-match / graph-shortest-paths. */
export function matchParts(op: GraphOperator): {
  readonly patterns: readonly { readonly call: Call; readonly shape: readonly GraphPatternElement[] }[];
  readonly where: Expr | null;
  readonly project: readonly Expr[];
} {
  const shapes = op.graphPatterns ?? [];
  const patterns = shapes.map((shape, i) => ({ call: op.clauses[i] as Call, shape }));
  const where = op.graphWhere ? (op.clauses[shapes.length] ?? null) : null;
  const project = op.clauses.slice(shapes.length + (op.graphWhere ? 1 : 0));
  return { patterns, where, project };
}

/** Each pattern variable's kind; a name used twice must keep its kind. */
export function patternVariables(
  op: GraphOperator,
): Map<string, PatternVariable & { readonly at: Name }> | { readonly error: string; readonly at: Name } {
  const vars = new Map<string, PatternVariable & { readonly at: Name }>();
  for (const { call, shape } of matchParts(op).patterns) {
    for (const el of shape) {
      if (el.nameArg < 0) continue;
      const n = call.args[el.nameArg];
      if (n?.kind !== 'Name') continue;
      const v = { element: el.element, variable: el.boundArgs !== undefined, at: n };
      const prev = vars.get(n.name);
      if (prev && (prev.element !== v.element || v.element === 'edge')) {
        return { error: `The pattern variable '${n.name}' is declared more than once.`, at: n };
      }
      vars.set(n.name, v);
    }
  }
  return vars;
}

function bindMatch(b: Binder, op: GraphOperator, graph: GraphSchema): Type {
  const { patterns, where, project } = matchParts(op);
  const vars = patternVariables(op);
  if ('error' in vars) {
    b.report(Codes.DuplicateName, vars.error, vars.at);
    return UNKNOWN;
  }
  for (const { call, shape } of patterns) {
    for (const el of shape) {
      for (const i of el.boundArgs ?? []) {
        const bound = call.args[i];
        if (!bound) continue;
        const info = b.withContext({ row: null }, () => b.bindExpr(bound));
        b.checkInteger(bound, info);
      }
    }
  }
  // Properties of a variable-length edge are arrays in `project`; in `where` each edge of the path must satisfy
  // the constraint, so there they have the edge's own types.
  const scopeFor = (clause: 'where' | 'project'): LocalScope => {
    const scope = new LocalScope(b.scope);
    for (const [name, v] of vars) {
      const cols = v.element === 'node' ? graph.nodes : graph.edges;
      const columns =
        v.variable && clause === 'project' ? cols.map((c) => ({ name: c.name, type: 'dynamic' as const })) : cols;
      scope.declare(name, { kind: 'variable', name, type: { kind: 'tuple', columns }, declaration: v.at, value: null });
    }
    return scope;
  };
  const stack = contexts.get(b) ?? [];
  contexts.set(b, stack);
  stack.push({ schema: graph, variables: vars });
  try {
    if (where) {
      b.withContext({ scope: scopeFor('where'), row: null, rightRow: null }, () => b.bindPredicate(where));
    }
    const columns: Column[] = [];
    const used = new Set<string>();
    b.withContext({ scope: scopeFor('project'), row: null, rightRow: null }, () => {
      project.forEach((item, i) => {
        const info = b.bindExpr(item);
        b.checkScalar(item, info);
        let name = projectName(b, item, vars) ?? `Column${i + 1}`;
        for (let k = 1; used.has(name); k++) name = `${name}${k}`;
        used.add(name);
        columns.push({ name, type: info.type.kind === 'scalar' ? info.type.name : 'unknown' });
      });
    });
    if (project.length === 0) {
      b.report(Codes.Expected, `The '${op.keyword}' operator needs a project clause.`, {
        start: op.start,
        end: op.start + op.keyword.length,
      });
    }
    return table(columns);
  } finally {
    stack.pop();
  }
}

/** `n.name` is named `n_name`; an alias names itself; other expressions as in `project`. */
export function projectName(b: Binder, item: Expr, vars: ReadonlyMap<string, unknown>): string | null {
  if (item.kind === 'NamedExpr') return item.names[0]?.name ?? null;
  if (item.kind === 'Member' && item.expr.kind === 'Name' && vars.has(item.expr.name)) {
    return `${item.expr.name}_${item.member.name}`;
  }
  return expressionResultName(b.model, item, null);
}

/**
 * A graph-only function inside graph-match / graph-shortest-paths clauses; null outside them (the caller then
 * reports the function as unknown in that context).
 */
export function bindGraphCall(b: Binder, call: Call): ExprInfo | null {
  const ctx = contexts.get(b)?.at(-1);
  const name = call.name.name;
  if (!ctx || !GRAPH_FUNCTIONS.has(name)) return null;
  const [first, second] = call.args;
  switch (name) {
    case 'map':
    case 'all':
    case 'any': {
      if (!first || !second || call.args.length !== 2) {
        b.report(Codes.ArgumentCount, `The function '${name}' expects 2 arguments.`, call.name);
        for (const a of call.args) b.bindExpr(a);
        return { type: UNKNOWN };
      }
      const element = elementColumns(b, ctx, first);
      const info = b.withContext({ row: new RowScope(element ?? [], element === null) }, () => b.bindExpr(second));
      if (name === 'map') {
        b.checkScalar(second, info);
        return { type: scalar('dynamic'), dynamicShape: 'array' };
      }
      b.checkType(second, info.type, ['bool']);
      return { type: scalar('bool') };
    }
    case 'inner_nodes': {
      if (first) b.bindExpr(first);
      if (!isVariableEdge(ctx, first)) {
        b.report(Codes.InvalidArgument, 'inner_nodes() expects a variable-length edge.', first ?? call.name);
      }
      return { type: { kind: 'tuple', columns: ctx.schema.nodes } };
    }
    case 'node_degree_in':
    case 'node_degree_out':
    case 'node_id': {
      for (const a of call.args) b.bindExpr(a);
      if (first && !(first.kind === 'Name' && ctx.variables.get(first.name)?.element === 'node')) {
        b.report(Codes.InvalidArgument, `${name}() expects a node variable of the pattern.`, first);
      }
      return { type: scalar('long') };
    }
    default:
      for (const a of call.args) b.bindExpr(a);
      return { type: scalar('dynamic') };
  }
}

function isVariableEdge(ctx: GraphContext, e: Expr | undefined): boolean {
  return e?.kind === 'Name' && ctx.variables.get(e.name)?.variable === true;
}

/** The properties of the elements `map`/`all`/`any` iterate: a variable-length edge's edges or its inner nodes. */
function elementColumns(b: Binder, ctx: GraphContext, e: Expr): readonly Column[] | null {
  const info = b.bindExpr(e);
  if (e.kind === 'Call' && e.name.name === 'inner_nodes') return ctx.schema.nodes;
  if (isVariableEdge(ctx, e)) return ctx.schema.edges;
  if (info.type.kind !== 'unknown') {
    b.report(Codes.InvalidArgument, 'A variable-length edge or inner_nodes() is expected.', e);
  }
  return null;
}
