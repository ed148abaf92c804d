/**
 * Lowering of the graph operators into relational plans (no graph engine, no new plan node kinds, so every SQL
 * dialect runs them).
 *
 * A graph is a node relation (properties + a hidden key column) and an edge relation (the input rows + a hidden
 * edge number); a graph value travels between graph operators as a carrier relation whose column array is
 * registered here (like the binder's graph types, see binder/graph.ts).
 *
 * graph-match: each pattern is unrolled into one chain of joins per choice of length of its variable-length edges
 * (`*1..3` → 1, 2, 3 hops; the upper bound is required and capped), the legs are filtered by the `cycles=` rule
 * and the `where` clause, projected and unioned. Expressions see each pattern variable's properties as hidden
 * columns of the joined row (`n.name` → the column of n's slot), so `map(e, x)` / `all(e, p)` over a
 * variable-length edge become `pack_array(x1, ..., xk)` / `p1 and ... and pk` in a leg of k hops; a `where`
 * constraint on a variable-length edge's property holds for each of its edges. graph-shortest-paths keeps, per
 * pair of pattern nodes, the leg rows with the fewest hops (ties broken by the edges' input order, so `output=any`
 * is deterministic). graph-mark-components labels nodes by their weakly connected component in a bounded number of
 * rounds of min-label joins (see markComponents).
 */
import type { ExprInfo } from '../binder/semantic-model.js';
import type { ColumnType } from '../binder/types.js';
import type { DialectCapabilities } from '../sql/dialect.js';
import type { Call, Expr, GraphOperator, GraphPatternElement, Node, OperatorParam, Span } from '../syntax/nodes.js';
import type { PlanColumn, Rel, ScalarExpr } from './nodes.js';

/** What graph lowering needs from the lowerer. */
export interface GraphHost {
  rel(e: Expr): Rel;
  scalar(e: Expr, frame: { readonly input: readonly PlanColumn[] | null }): ScalarExpr;
  info(node: Node): ExprInfo | undefined;
  /** The binder's output columns of an operator. */
  tableColumns(node: Node): PlanColumn[];
  hiddenName(base: string): string;
  /**
   * Names a relation several parts of the plan read (a query-level binding): the passes rewrite a plan per
   * reference, so a shared sub-plan that is not named is copied (and computed) once per use.
   */
  bind(rel: Rel): Rel;
  /** The target dialect's capabilities (null: no target, e.g. printing plans). */
  readonly capabilities: DialectCapabilities | null;
  unsupported(at: Span, what: string): never;
  /** Installs a hook tried before the ordinary lowering of every scalar expression (null removes it). */
  setScalarHook(hook: ((e: Expr) => ScalarExpr | null) | null): void;
}

interface GraphValue {
  readonly nodes: Rel;
  readonly edges: Rel;
  /** Node properties (visible node columns, in order). */
  readonly nodeColumns: readonly PlanColumn[];
  readonly edgeColumns: readonly PlanColumn[];
  /** Hidden: the node key (in nodes), the edge number (in edges). */
  readonly key: PlanColumn;
  readonly eid: PlanColumn;
  /** Edge columns holding the source and target keys. */
  readonly src: PlanColumn;
  readonly dst: PlanColumn;
}

const graphs = new WeakMap<readonly PlanColumn[], GraphValue>();

/** Upper bound of a variable-length edge: a leg per length, each a chain of joins. */
const MAX_HOPS = 16;
/** Legs of one pattern (product of the variable-length edges' ranges). */
const MAX_LEGS = 64;
/** Rounds of graph-mark-components' label propagation (see markComponents; past them the query fails). */
const COMPONENT_ROUNDS = 16;

export function lowerGraphOperator(host: GraphHost, op: GraphOperator, input: Rel | null): Rel {
  if (op.keyword === 'make-graph') {
    if (!input) return host.unsupported(op, 'make-graph without input');
    return carrier(host, makeGraph(host, op, input));
  }
  const g = input ? graphs.get(input.columns) : undefined;
  if (!g)
    return host.unsupported(op, `The '${op.keyword}' operator on this input (a graph from make-graph is expected)`);
  switch (op.keyword) {
    case 'graph-to-table':
      return graphToTable(host, op, g);
    case 'graph-match':
    case 'graph-shortest-paths':
      return new Matcher(host, op, g).run();
    case 'graph-mark-components':
      return carrier(host, markComponents(host, op, g));
    case 'graph-where-nodes':
    case 'graph-where-edges':
      return carrier(host, whereGraph(host, op, g));
    default:
      return host.unsupported(op, `The '${op.keyword}' operator`);
  }
}

/** True for the relation a graph operator returns a graph as (see the file comment). */
export function isGraphValue(rel: Rel): boolean {
  return graphs.has(rel.columns);
}

function carrier(host: GraphHost, g: GraphValue): Rel {
  const columns: PlanColumn[] = [{ name: host.hiddenName('graph'), type: 'bool' }];
  graphs.set(columns, g);
  return { kind: 'values', rows: [], columns };
}

// ───────────────────────────── small builders ─────────────────────────────

function col(c: PlanColumn, side?: 'left' | 'right'): ScalarExpr {
  return side ? { kind: 'col', name: c.name, type: c.type, side } : { kind: 'col', name: c.name, type: c.type };
}
function lit(type: 'bool' | 'long', value: boolean | string): ScalarExpr {
  return { kind: 'lit', type, value };
}
function nullOf(type: ColumnType): ScalarExpr {
  if (type === 'string') return { kind: 'lit', type: 'string', value: '' };
  return { kind: 'lit', type: type === 'unknown' ? 'dynamic' : type, value: null };
}
function op(name: string, args: readonly ScalarExpr[], type: ColumnType = 'bool'): ScalarExpr {
  return { kind: 'op', op: name, args, type };
}
function all(preds: readonly ScalarExpr[]): ScalarExpr {
  if (preds.length === 0) return lit('bool', true);
  return preds.reduce((a, b) => op('And', [a, b]));
}
function anyOf(preds: readonly ScalarExpr[]): ScalarExpr {
  if (preds.length === 0) return lit('bool', false);
  return preds.reduce((a, b) => op('Or', [a, b]));
}
function project(input: Rel, items: readonly { c: PlanColumn; e: ScalarExpr }[]): Rel {
  return { kind: 'project', input, exprs: items.map((x) => x.e), columns: items.map((x) => x.c) };
}
function keep(input: Rel, columns: readonly PlanColumn[]): Rel {
  return project(
    input,
    columns.map((c) => ({ c, e: col(c) })),
  );
}
function filter(input: Rel, predicate: ScalarExpr): Rel {
  return { kind: 'filter', input, predicate, columns: input.columns };
}
function join(
  kind: 'inner' | 'leftouter' | 'leftanti' | 'leftsemi',
  left: Rel,
  right: Rel,
  on: readonly [PlanColumn, PlanColumn][],
): Rel {
  const rightOut = kind === 'inner' || kind === 'leftouter' ? right.columns : [];
  return {
    kind: 'join',
    joinKind: kind,
    left,
    right,
    on: on.map(([l, r]) => ({ left: col(l, 'left'), right: col(r, 'right') })),
    where: null,
    output: [
      ...left.columns.map((c) => ({ side: 'left' as const, name: c.name })),
      ...rightOut.map((c) => ({ side: 'right' as const, name: c.name })),
    ],
    columns: [...left.columns, ...rightOut],
  };
}
function union(inputs: readonly Rel[], columns: readonly PlanColumn[]): Rel {
  if (inputs.length === 1) return inputs[0] as Rel;
  return {
    kind: 'union',
    inputs,
    mapping: inputs.map(() => columns.map((c) => c.name)),
    sourceValues: null,
    columns,
  };
}
function hash(e: ScalarExpr): ScalarExpr {
  return { kind: 'call', fn: 'hash', args: [e], type: 'long' };
}
function paramName(params: readonly OperatorParam[], name: string): string | undefined {
  const v = params.find((p) => p.name === name)?.value;
  return v?.kind === 'Name' ? v.name : v?.kind === 'Literal' && typeof v.value === 'string' ? v.value : undefined;
}

// ───────────────────────────── make-graph ─────────────────────────────

function makeGraph(host: GraphHost, op: GraphOperator, input: Rel): GraphValue {
  const [srcName, dstName, ...tables] = op.clauses;
  const find = (e: Expr | undefined): PlanColumn => {
    const c = e?.kind === 'Name' ? input.columns.find((x) => x.name === e.name) : undefined;
    return c ?? host.unsupported(e ?? op, 'make-graph with a source or target that is not a column');
  };
  const src = find(srcName);
  const dst = find(dstName);
  if (op.clauses.some((c) => c.kind !== 'Name' && !(c.kind === 'Call' && c.name.name === 'on'))) {
    return host.unsupported(op, 'make-graph with partitioned-by');
  }
  // Edges keep the input's order as their number: shortest-path ties follow it.
  const eid: PlanColumn = { name: host.hiddenName('eid'), type: 'long' };
  const edges = host.bind({
    kind: 'window',
    input,
    exprs: [...input.columns.map((c) => col(c)), { kind: 'win', fn: 'row_number', args: [], type: 'long' }],
    columns: [...input.columns, eid],
  });
  const key: PlanColumn = { name: host.hiddenName('key'), type: src.type };
  const ends = (c: PlanColumn) => project(edges, [{ c: key, e: col(c) }]);
  const endpoints: Rel = { kind: 'distinct', input: union([ends(src), ends(dst)], [key]), columns: [key] };
  const idName = paramName(op.params, 'with_node_id');
  let nodes: Rel;
  let nodeColumns: PlanColumn[];
  if (tables.length > 0) {
    // Node tables: their columns merged by name (the first table's type), one row per key. Kusto merges the
    // properties of a key that several rows or tables give, choosing arbitrarily between conflicting values.
    nodeColumns = [];
    const keyNames = new Set<string>();
    const given: Rel[] = [];
    const sources = tables.map((spec) => {
      const [tableExpr, keyExpr] = spec.kind === 'Call' ? spec.args : [];
      if (!tableExpr || keyExpr?.kind !== 'Name') return host.unsupported(spec, 'This node table clause');
      const t = host.rel(tableExpr);
      const k = t.columns.find((c) => c.name === keyExpr.name);
      if (!k) return host.unsupported(keyExpr, `The node key '${keyExpr.name}'`);
      keyNames.add(k.name);
      for (const c of t.columns) {
        if (c.name.startsWith('\u0000')) continue;
        const prev = nodeColumns.find((x) => x.name === c.name);
        if (!prev) nodeColumns.push(c);
        else if (prev.type !== c.type)
          return host.unsupported(spec, `Node tables whose '${c.name}' columns differ in type`);
      }
      return { t, k };
    });
    for (const { t, k } of sources) {
      const has = new Set(t.columns.map((c) => c.name));
      given.push(
        project(t, [
          ...nodeColumns.map((c) => ({ c, e: has.has(c.name) ? col(c) : nullOf(c.type) })),
          { c: key, e: col(k) },
        ]),
      );
    }
    const allGiven = union(given, [...nodeColumns, key]);
    // Endpoints missing from the node tables are nodes too: their key fills the key columns, other properties null.
    const missing = join('leftanti', endpoints, allGiven, [[key, key]]);
    const filled = project(missing, [
      ...nodeColumns.map((c) => ({ c, e: keyNames.has(c.name) ? col(key) : nullOf(c.type) })),
      { c: key, e: col(key) },
    ]);
    const merged: Rel = {
      kind: 'aggregate',
      input: union([allGiven, filled], [...nodeColumns, key]),
      keys: [{ name: key.name, expr: col(key) }],
      aggregates: nodeColumns.map((c) => ({
        name: c.name,
        // A table without the column gives empty strings (KQL's null string): max prefers a real value.
        expr: { kind: 'agg', fn: c.type === 'string' ? 'max' : 'take_any', args: [col(c)], type: c.type },
      })),
      columns: [key, ...nodeColumns],
    };
    nodes = keep(merged, [...nodeColumns, key]);
  } else if (idName) {
    nodeColumns = [{ name: idName, type: key.type }];
    nodes = project(endpoints, [
      { c: nodeColumns[0] as PlanColumn, e: col(key) },
      { c: key, e: col(key) },
    ]);
  } else {
    nodeColumns = [];
    nodes = endpoints;
  }
  return {
    nodes: host.bind(nodes),
    edges,
    nodeColumns,
    edgeColumns: input.columns.filter((c) => !c.name.startsWith('\u0000')),
    key,
    eid,
    src,
    dst,
  };
}

// ───────────────────────────── graph-to-table, where, components ─────────────────────────────

function graphToTable(host: GraphHost, op: GraphOperator, g: GraphValue): Rel {
  if (op.clauses.length !== 1) return host.unsupported(op, 'graph-to-table with several outputs');
  const first = op.clauses[0] as Expr;
  if (first.kind === 'NamedExpr') return host.unsupported(first, "graph-to-table with 'as'");
  const out = host.tableColumns(op);
  if (first.kind === 'Name' && first.name === 'edges') {
    const ids: ScalarExpr[] = [];
    if (paramName(op.params, 'with_source_id')) ids.push(hash(col(g.src)));
    if (paramName(op.params, 'with_target_id')) ids.push(hash(col(g.dst)));
    return { kind: 'project', input: g.edges, exprs: [...ids, ...g.edgeColumns.map((c) => col(c))], columns: out };
  }
  const ids = paramName(op.params, 'with_node_id') ? [hash(col(g.key))] : [];
  return { kind: 'project', input: g.nodes, exprs: [...ids, ...g.nodeColumns.map((c) => col(c))], columns: out };
}

function whereGraph(host: GraphHost, op: GraphOperator, g: GraphValue): GraphValue {
  const pred = op.clauses[0];
  if (!pred) return host.unsupported(op, `${op.keyword} without a predicate`);
  if (op.keyword === 'graph-where-edges') {
    return { ...g, edges: host.bind(filter(g.edges, host.scalar(pred, { input: g.edges.columns }))) };
  }
  // Removing a node removes its edges.
  const nodes = host.bind(filter(g.nodes, host.scalar(pred, { input: g.nodes.columns })));
  const bySrc = join('leftsemi', g.edges, nodes, [[g.src, g.key]]);
  return { ...g, nodes, edges: host.bind(join('leftsemi', bySrc, nodes, [[g.dst, g.key]])) };
}

/**
 * Weak components. Each node starts with a label: its first position among the edges' endpoints (so components
 * are numbered in the order the edges first mention them, as Kusto's examples show), or past every position for a
 * node no edge mentions. Each round: every node takes the smallest label among itself and its neighbours (either
 * direction); every group of nodes sharing a label takes the smallest of its members' results (adjacent groups
 * merge whole); then a node takes the label of the node its label came from (shortcut). Groups merge
 * geometrically, so COMPONENT_ROUNDS rounds settle graphs far larger than a SOC investigates (a 100,000-node
 * chain settles; a 1,000,000-node chain does not); if an edge still joins two labels afterwards, `assert` fails
 * the query with a clear message instead of returning split components. Components are then numbered 0, 1, ...
 * in label order. Each round reads the previous labels several times: they are named bindings (`with`), so the
 * plan stays a chain instead of a tree that doubles per round.
 */
function markComponents(host: GraphHost, gop: GraphOperator, g: GraphValue): GraphValue {
  const kindParam = paramName(gop.params, 'kind');
  if (kindParam && kindParam !== 'weak') return host.unsupported(gop, `graph-mark-components kind=${kindParam}`);
  if (host.capabilities && host.capabilities.graphComponents !== true) {
    return host.unsupported(gop, 'graph-mark-components on this engine (its plan nests too deeply)');
  }
  const name = paramName(gop.params, 'with_component_id') ?? 'ComponentId';
  const long = (n: number) => lit('long', String(n));
  const bindings: { name: string; rel: Rel; materialized: boolean }[] = [];
  const bind = (rel: Rel): Rel => {
    const bindingName = host.hiddenName('cc');
    bindings.push({ name: bindingName, rel, materialized: false });
    return { kind: 'ref', name: bindingName, columns: rel.columns };
  };
  const K = (): PlanColumn => ({ name: host.hiddenName('k'), type: g.key.type });
  const Lc = (): PlanColumn => ({ name: host.hiddenName('l'), type: 'long' });
  // First positions of the endpoints.
  const pk = K();
  const pos = Lc();
  const ends = (c: PlanColumn, side: number) =>
    project(g.edges, [
      { c: pk, e: col(c) },
      { c: pos, e: op('Add', [op('Multiply', [col(g.eid), long(2)], 'long'), long(side)], 'long') },
    ]);
  const minPos = Lc();
  const firstPos: Rel = {
    kind: 'aggregate',
    input: union([ends(g.src, 0), ends(g.dst, 1)], [pk, pos]),
    keys: [{ name: pk.name, expr: col(pk) }],
    aggregates: [{ name: minPos.name, expr: { kind: 'agg', fn: 'min', args: [col(pos)], type: 'long' } }],
    columns: [pk, minPos],
  };
  const rn: PlanColumn = { name: host.hiddenName('rn'), type: 'long' };
  const numbered: Rel = {
    kind: 'window',
    input: g.nodes,
    exprs: [...g.nodes.columns.map((c) => col(c)), { kind: 'win', fn: 'row_number', args: [], type: 'long' }],
    columns: [...g.nodes.columns, rn],
  };
  const withPos = join('leftouter', numbered, firstPos, [[g.key, pk]]);
  const nk = K();
  const label0 = Lc();
  // Labels of nodes no edge mentions come after every endpoint position (2 per edge).
  const initial = bind(
    project(withPos, [
      { c: nk, e: col(g.key) },
      {
        c: label0,
        e: {
          kind: 'call',
          fn: 'coalesce',
          args: [col(minPos), op('Add', [col(rn), long(4_000_000_000_000)], 'long')],
          type: 'long',
        },
      },
    ]),
  );
  // Undirected edges a → b.
  const a = K();
  const b = K();
  const both = (x: PlanColumn, y: PlanColumn) =>
    project(g.edges, [
      { c: a, e: col(x) },
      { c: b, e: col(y) },
    ]);
  const undirected = bind(union([both(g.src, g.dst), both(g.dst, g.src)], [a, b]));
  let labels: Rel = initial;
  for (let round = 0; round < COMPONENT_ROUNDS; round++) {
    const [lk, ll] = labels.columns as [PlanColumn, PlanColumn];
    const k2 = K();
    const l2 = Lc();
    const viaEdge = project(join('inner', labels, undirected, [[lk, a]]), [
      { c: k2, e: col(b) },
      { c: l2, e: col(ll) },
    ]);
    const mine = project(labels, [
      { c: k2, e: col(lk) },
      { c: l2, e: col(ll) },
    ]);
    const m = Lc();
    const smallest = bind({
      kind: 'aggregate',
      input: union([mine, viaEdge], [k2, l2]),
      keys: [{ name: k2.name, expr: col(k2) }],
      aggregates: [{ name: m.name, expr: { kind: 'agg', fn: 'min', args: [col(l2)], type: 'long' } }],
      columns: [k2, m],
    });
    // Hook: every node of a label group takes the smallest neighbour label any member of the group sees, so
    // adjacent groups merge whole (the group count falls geometrically, not by one hop per round).
    const grouped = join('inner', labels, smallest, [[lk, k2]]);
    const gl = Lc();
    const gm = Lc();
    const groupMin: Rel = {
      kind: 'aggregate',
      input: grouped,
      keys: [{ name: gl.name, expr: col(ll) }],
      aggregates: [{ name: gm.name, expr: { kind: 'agg', fn: 'min', args: [col(m)], type: 'long' } }],
      columns: [gl, gm],
    };
    const hk = K();
    const hl = Lc();
    const hooked = bind(
      project(join('inner', labels, groupMin, [[ll, gl]]), [
        { c: hk, e: col(lk) },
        { c: hl, e: col(gm) },
      ]),
    );
    // Shortcut: a label is the initial label of some node (its owner); take the owner's hooked label too.
    const owner = project(initial, [
      { c: K(), e: col(nk) },
      { c: Lc(), e: col(label0) },
    ]);
    const [ok, ol] = owner.columns as [PlanColumn, PlanColumn];
    const toOwner = join('leftouter', hooked, owner, [[hl, ol]]);
    const again = project(hooked, [
      { c: K(), e: col(hk) },
      { c: Lc(), e: col(hl) },
    ]);
    const [ak, al] = again.columns as [PlanColumn, PlanColumn];
    const jumped = join('leftouter', toOwner, again, [[ok, ak]]);
    const nk2 = K();
    const nl2 = Lc();
    labels = bind(
      project(jumped, [
        { c: nk2, e: col(hk) },
        {
          c: nl2,
          e: {
            kind: 'call',
            fn: 'min_of',
            args: [col(hl), { kind: 'call', fn: 'coalesce', args: [col(al), col(hl)], type: 'long' }],
            type: 'long',
          },
        },
      ]),
    );
  }
  // Converged when no edge joins two labels; otherwise the query fails rather than returning split components.
  const [ck, cl] = labels.columns as [PlanColumn, PlanColumn];
  const other = project(labels, [
    { c: K(), e: col(ck) },
    { c: Lc(), e: col(cl) },
  ]);
  const [ok2, ol2] = other.columns as [PlanColumn, PlanColumn];
  const splitEdges = filter(
    join('inner', join('inner', undirected, labels, [[a, ck]]), other, [[b, ok2]]),
    op('NotEqual', [col(cl), col(ol2)]),
  );
  const bad: PlanColumn = { name: host.hiddenName('bad'), type: 'long' };
  const badCount: Rel = {
    kind: 'aggregate',
    input: splitEdges,
    keys: [],
    aggregates: [{ name: bad.name, expr: { kind: 'agg', fn: 'count', args: [], type: 'long' } }],
    columns: [bad],
  };
  const converged: ScalarExpr = {
    kind: 'call',
    fn: 'assert',
    args: [
      op('Equal', [{ kind: 'subquery', rel: badCount, type: 'long' }, long(0)]),
      {
        kind: 'lit',
        type: 'string',
        value: `graph-mark-components did not converge in ${COMPONENT_ROUNDS} rounds of label propagation`,
      },
    ],
    type: 'bool',
  };
  // Components numbered by label order.
  const [fk, fl] = labels.columns as [PlanColumn, PlanColumn];
  const distinctLabels: Rel = { kind: 'distinct', input: keep(labels, [fl]), columns: [fl] };
  const sorted: Rel = {
    kind: 'sort',
    input: distinctLabels,
    keys: [{ expr: col(fl), descending: false, nullsFirst: false }],
    columns: [fl],
  };
  const cn: PlanColumn = { name: host.hiddenName('cn'), type: 'long' };
  const numberedLabels: Rel = {
    kind: 'window',
    input: sorted,
    exprs: [col(fl), { kind: 'win', fn: 'row_number', args: [], type: 'long' }],
    columns: [fl, cn],
  };
  const perNode = join('inner', labels, numberedLabels, [[fl, fl]]);
  const comp: PlanColumn = { name, type: 'long' };
  const nodesOut = filter(join('leftouter', g.nodes, perNode, [[g.key, fk]]), converged);
  const body = project(nodesOut, [
    ...g.nodeColumns.map((c) => ({ c, e: col(c) })),
    { c: comp, e: op('Subtract', [col(cn), long(1)], 'long') },
    { c: g.key, e: col(g.key) },
  ]);
  const nodes = host.bind({ kind: 'with', bindings, body, columns: body.columns });
  return { ...g, nodes, nodeColumns: [...g.nodeColumns.filter((c) => c.name !== name), comp] };
}

// ───────────────────────────── graph-match, graph-shortest-paths ─────────────────────────────

interface Slot {
  readonly id: number;
  readonly element: 'node' | 'edge';
}

/** One pattern element after unrolling variable-length edges. */
type Step =
  | { readonly kind: 'node'; readonly slot: Slot }
  | { readonly kind: 'edge'; readonly slot: Slot; readonly direction: 'out' | 'in' | 'any' }
  /** A zero-length variable edge: the nodes on both sides are the same node. */
  | { readonly kind: 'same' };

interface VarEdge {
  readonly name: string | null;
  readonly lo: number;
  readonly hi: number;
}

/** One sequence of a pattern as written: nodes and edges alternate, starting and ending with a node. */
interface Sequence {
  readonly elements: readonly (
    | { readonly kind: 'node'; readonly name: string | null }
    | {
        readonly kind: 'edge';
        readonly name: string | null;
        readonly direction: 'out' | 'in' | 'any';
        readonly variable: VarEdge | null;
      }
  )[];
}

/** A leg: one length per variable-length edge, and what each pattern variable is in it. */
interface Leg {
  readonly sequences: readonly (readonly Step[])[];
  readonly nodeSlots: readonly Slot[];
  readonly edgeSlots: readonly Slot[];
  /** Named variables: one slot, or the edges of a variable-length edge. */
  readonly vars: ReadonlyMap<string, Slot | readonly Slot[]>;
  /** Inner nodes of each variable-length edge variable. */
  readonly inner: ReadonlyMap<string, readonly Slot[]>;
  /** Pattern node positions (named or anonymous, not inner nodes): the endpoints shortest paths are grouped by. */
  readonly patternNodes: readonly Slot[];
  readonly hops: number;
}

class Matcher {
  private readonly sequences: Sequence[] = [];
  private readonly varEdges: VarEdge[] = [];
  private readonly usesDegree: boolean;
  private readonly nodes: Rel;
  private readonly degIn: PlanColumn | null;
  private readonly degOut: PlanColumn | null;
  private readonly where: Expr | null;
  private readonly items: readonly Expr[];
  /** The expression context while lowering clauses of one leg. */
  private binding: Map<string, Slot | readonly Slot[]> = new Map();
  private leg: Leg | null = null;
  private element: Slot | null = null;

  constructor(
    private readonly host: GraphHost,
    private readonly op: GraphOperator,
    private readonly g: GraphValue,
  ) {
    const shapes = op.graphPatterns ?? [];
    this.where = op.graphWhere ? (op.clauses[shapes.length] ?? null) : null;
    this.items = op.clauses.slice(shapes.length + (op.graphWhere ? 1 : 0));
    shapes.forEach((shape, i) => {
      this.sequences.push(this.sequence(op.clauses[i] as Call, shape));
    });
    this.usesDegree = mentions(op.clauses, (n) => n === 'node_degree_in' || n === 'node_degree_out');
    if (this.usesDegree) {
      const degIn: PlanColumn = { name: host.hiddenName('in'), type: 'long' };
      const degOut: PlanColumn = { name: host.hiddenName('out'), type: 'long' };
      this.degIn = degIn;
      this.degOut = degOut;
      this.nodes = host.bind(this.withDegrees(degIn, degOut));
    } else {
      this.degIn = null;
      this.degOut = null;
      this.nodes = g.nodes;
    }
  }

  private sequence(call: Call, shape: readonly GraphPatternElement[]): Sequence {
    const elements: Sequence['elements'][number][] = [];
    for (const el of shape) {
      const n = el.nameArg >= 0 ? call.args[el.nameArg] : undefined;
      const name = n?.kind === 'Name' ? n.name : null;
      if (el.element === 'node') {
        elements.push({ kind: 'node', name });
        continue;
      }
      let variable: VarEdge | null = null;
      if (el.boundArgs) {
        const [lo, hi] = el.boundArgs.map((i) => this.bound(call.args[i], call));
        if (lo === undefined || hi === undefined || lo > hi) {
          return this.host.unsupported(call, 'A variable-length edge whose bounds are not constants min <= max');
        }
        if (hi > MAX_HOPS) {
          return this.host.unsupported(call, `A variable-length edge longer than ${MAX_HOPS} hops`);
        }
        variable = { name, lo, hi };
        this.varEdges.push(variable);
      }
      elements.push({ kind: 'edge', name, direction: el.direction ?? 'any', variable });
    }
    const alternates = elements.every((e, i) => (i % 2 === 0 ? e.kind === 'node' : e.kind === 'edge'));
    if (!alternates || elements.length % 2 === 0) {
      return this.host.unsupported(call, 'A graph pattern that does not alternate nodes and edges');
    }
    return { elements };
  }

  private bound(e: Expr | undefined, at: Span): number | undefined {
    const v = e ? this.host.info(e)?.constant?.value : undefined;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    return this.host.unsupported(e ?? at, 'A variable-length edge bound that is not an integer constant');
  }

  /** Nodes with their in- and out-degree (edges of the whole graph). */
  private withDegrees(degIn: PlanColumn, degOut: PlanColumn): Rel {
    const { g } = this;
    const count = (by: PlanColumn, out: PlanColumn): Rel => {
      const k: PlanColumn = { name: this.host.hiddenName('k'), type: g.key.type };
      return {
        kind: 'aggregate',
        input: g.edges,
        keys: [{ name: k.name, expr: col(by) }],
        aggregates: [{ name: out.name, expr: { kind: 'agg', fn: 'count', args: [], type: 'long' } }],
        columns: [k, out],
      };
    };
    const rin = count(g.dst, { name: this.host.hiddenName('c'), type: 'long' });
    const rout = count(g.src, { name: this.host.hiddenName('c'), type: 'long' });
    const j1 = join('leftouter', g.nodes, rin, [[g.key, rin.columns[0] as PlanColumn]]);
    const j2 = join('leftouter', j1, rout, [[g.key, rout.columns[0] as PlanColumn]]);
    const zero = (c: PlanColumn): ScalarExpr => ({
      kind: 'call',
      fn: 'coalesce',
      args: [col(c), lit('long', '0')],
      type: 'long',
    });
    return project(j2, [
      ...g.nodes.columns.map((c) => ({ c, e: col(c) })),
      { c: degIn, e: zero(rin.columns[1] as PlanColumn) },
      { c: degOut, e: zero(rout.columns[1] as PlanColumn) },
    ]);
  }

  run(): Rel {
    const legs = this.legs();
    const out = this.host.tableColumns(this.op);
    const shortest = this.op.keyword === 'graph-shortest-paths';
    const cycles = shortest ? 'unique_edges' : (paramName(this.op.params, 'cycles') ?? 'unique_edges');
    if (!['all', 'none', 'unique_edges'].includes(cycles)) return this.host.unsupported(this.op, `cycles=${cycles}`);
    if (this.items.length === 0) return this.host.unsupported(this.op, `${this.op.keyword} without project`);
    // Shortest paths: per leg the endpoints' keys, the hop count and the edge numbers travel along as hidden columns.
    const maxEdges = Math.max(...legs.map((l) => l.edgeSlots.length));
    const groupCols = shortest
      ? (legs[0]?.patternNodes ?? []).map((_, i) => ({ name: this.host.hiddenName(`p${i}`), type: this.g.key.type }))
      : [];
    const hopsCol: PlanColumn = { name: this.host.hiddenName('hops'), type: 'long' };
    const tieCols: PlanColumn[] = shortest
      ? Array.from({ length: maxEdges }, (_, i) => ({ name: this.host.hiddenName(`t${i}`), type: 'long' as const }))
      : [];
    const extra = shortest ? [...groupCols, hopsCol, ...tieCols] : [];
    const perLeg = legs.map((leg) => {
      const row = this.legRel(leg);
      const cols = row.columns;
      let rel: Rel = row;
      const constraints: ScalarExpr[] = [];
      if (cycles === 'unique_edges') constraints.push(...distinct(leg.edgeSlots.map((s) => this.slotCol(s, 'eid'))));
      if (cycles === 'none') constraints.push(...distinct(leg.nodeSlots.map((s) => this.slotCol(s, 'key'))));
      const pred = this.withLeg(leg, () => (this.where ? this.wherePredicate(this.where, cols) : null));
      if (pred) constraints.push(pred);
      if (constraints.length) rel = filter(rel, all(constraints));
      const exprs = this.withLeg(leg, () => this.items.map((it) => this.host.scalar(it, { input: cols })));
      const hidden: ScalarExpr[] = shortest
        ? [
            ...leg.patternNodes.map((s) => this.slotCol(s, 'key')),
            lit('long', String(leg.hops)),
            ...tieCols.map((_c, i) => {
              const s = leg.edgeSlots[i];
              return s ? this.slotCol(s, 'eid') : { kind: 'lit' as const, type: 'long' as const, value: null };
            }),
          ]
        : [];
      return { kind: 'project', input: rel, exprs: [...exprs, ...hidden], columns: [...out, ...extra] } as Rel;
    });
    const all2 = shortest ? this.host.bind(union(perLeg, [...out, ...extra])) : union(perLeg, [...out, ...extra]);
    if (!shortest) return all2;
    // Fewest hops per group of pattern nodes; `output=all` keeps every path of that length, `any` the first by edge order.
    const output = paramName(this.op.params, 'output') ?? 'any';
    const sorted: Rel = {
      kind: 'sort',
      input: all2,
      keys: [...groupCols, hopsCol, ...tieCols].map((c) => ({ expr: col(c), descending: false, nullsFirst: true })),
      columns: all2.columns,
    };
    if (output === 'all') {
      const fewest: PlanColumn = { name: this.host.hiddenName('fewest'), type: 'long' };
      const gk = groupCols.map((c) => ({ name: this.host.hiddenName('g'), type: c.type }));
      const perGroup: Rel = {
        kind: 'aggregate',
        input: all2,
        keys: gk.map((k, i) => ({ name: k.name, expr: col(groupCols[i] as PlanColumn) })),
        aggregates: [{ name: fewest.name, expr: { kind: 'agg', fn: 'min', args: [col(hopsCol)], type: 'long' } }],
        columns: [...gk, fewest],
      };
      const joined = join(
        'inner',
        all2,
        perGroup,
        groupCols.map((c, i) => [c, gk[i] as PlanColumn]),
      );
      return keep(filter(joined, op('Equal', [col(hopsCol), col(fewest)])), out);
    }
    const rank: PlanColumn = { name: this.host.hiddenName('rank'), type: 'long' };
    const windowed: Rel = {
      kind: 'window',
      input: sorted,
      exprs: [
        ...all2.columns.map((c) => col(c)),
        { kind: 'win', fn: 'row_number', args: [], type: 'long', partition: groupCols.map((c) => col(c)) },
      ],
      columns: [...all2.columns, rank],
    };
    return keep(filter(windowed, op('Equal', [col(rank), lit('long', '1')])), out);
  }

  // ── legs ──

  private legs(): Leg[] {
    const ranges = this.varEdges.map((v) => v.hi - v.lo + 1);
    const count = ranges.reduce((a, b) => a * b, 1);
    if (count > MAX_LEGS) {
      return this.host.unsupported(this.op, `A pattern with more than ${MAX_LEGS} combinations of edge lengths`);
    }
    const legs: Leg[] = [];
    for (let i = 0; i < count; i++) {
      let rest = i;
      const lengths = new Map<VarEdge, number>();
      this.varEdges.forEach((v, j) => {
        const r = ranges[j] as number;
        lengths.set(v, v.lo + (rest % r));
        rest = Math.floor(rest / r);
      });
      legs.push(this.unroll(lengths));
    }
    return legs;
  }

  private unroll(lengths: ReadonlyMap<VarEdge, number>): Leg {
    let next = 0;
    const nodeSlots: Slot[] = [];
    const edgeSlots: Slot[] = [];
    const vars = new Map<string, Slot | Slot[]>();
    const inner = new Map<string, Slot[]>();
    const patternNodes: Slot[] = [];
    const newSlot = (element: 'node' | 'edge'): Slot => {
      const s = { id: next++, element };
      (element === 'node' ? nodeSlots : edgeSlots).push(s);
      return s;
    };
    const sequences: Step[][] = [];
    let hops = 0;
    for (const seq of this.sequences) {
      const steps: Step[] = [];
      for (const el of seq.elements) {
        if (el.kind === 'node') {
          let s = el.name ? vars.get(el.name) : undefined;
          if (!s) {
            s = newSlot('node');
            if (el.name) vars.set(el.name, s);
            patternNodes.push(s);
          }
          steps.push({ kind: 'node', slot: s as Slot });
          continue;
        }
        if (!el.variable) {
          const s = newSlot('edge');
          if (el.name) vars.set(el.name, s);
          steps.push({ kind: 'edge', slot: s, direction: el.direction });
          hops++;
          continue;
        }
        const k = lengths.get(el.variable) ?? 0;
        const edges: Slot[] = [];
        const inners: Slot[] = [];
        if (k === 0) steps.push({ kind: 'same' });
        for (let i = 0; i < k; i++) {
          if (i > 0) {
            const n = newSlot('node');
            inners.push(n);
            steps.push({ kind: 'node', slot: n });
          }
          const e = newSlot('edge');
          edges.push(e);
          steps.push({ kind: 'edge', slot: e, direction: el.direction });
        }
        hops += k;
        if (el.name) {
          vars.set(el.name, edges);
          inner.set(el.name, inners);
        }
      }
      sequences.push(steps);
    }
    return { sequences, nodeSlots, edgeSlots, vars, inner, patternNodes, hops };
  }

  // ── relations ──

  private slotColumns = new Map<string, PlanColumn>();

  /** The hidden column of a slot's property (or of its `key`, `eid`, `from`, `to`, `in`, `out`). */
  private slotCol(s: Slot, prop: string, type?: ColumnType): ScalarExpr {
    return col(this.slotColumn(s, prop, type));
  }

  private slotColumn(s: Slot, prop: string, type?: ColumnType): PlanColumn {
    const k = `${s.id}\u0001${prop}`;
    let c = this.slotColumns.get(k);
    if (!c) {
      c = { name: `\u0000s${s.id}.${prop}`, type: type ?? 'unknown' };
      this.slotColumns.set(k, c);
    }
    return c;
  }

  private nodeRel(s: Slot): Rel {
    const { g } = this;
    const items = [
      ...g.nodeColumns.map((c) => ({ c: this.slotColumn(s, `.${c.name}`, c.type), e: col(c) })),
      { c: this.slotColumn(s, 'key', g.key.type), e: col(g.key) },
    ];
    if (this.degIn && this.degOut) {
      items.push({ c: this.slotColumn(s, 'in', 'long'), e: col(this.degIn) });
      items.push({ c: this.slotColumn(s, 'out', 'long'), e: col(this.degOut) });
    }
    return project(this.nodes, items);
  }

  /** An edge slot: its properties, number, and the keys it leads from and to in the pattern's writing order. */
  private edgeRel(s: Slot, direction: 'out' | 'in' | 'any'): Rel {
    const { g } = this;
    const oriented = (from: PlanColumn, to: PlanColumn) =>
      project(g.edges, [
        ...g.edgeColumns.map((c) => ({ c: this.slotColumn(s, `.${c.name}`, c.type), e: col(c) })),
        { c: this.slotColumn(s, 'eid', 'long'), e: col(g.eid) },
        { c: this.slotColumn(s, 'from', g.key.type), e: col(from) },
        { c: this.slotColumn(s, 'to', g.key.type), e: col(to) },
      ]);
    if (direction === 'out') return oriented(g.src, g.dst);
    if (direction === 'in') return oriented(g.dst, g.src);
    const forward = oriented(g.src, g.dst);
    return union([forward, oriented(g.dst, g.src)], forward.columns);
  }

  /** The joined rows of one leg: every sequence walked from a node already bound (the first from its start). */
  private legRel(leg: Leg): Rel {
    let row: Rel | null = null;
    const bound = new Set<number>();
    const key = (s: Slot) => this.slotColumn(s, 'key', this.g.key.type);
    const addNode = (r: Rel, s: Slot, keyCol: PlanColumn): Rel => {
      if (bound.has(s.id)) return filter(r, op('Equal', [col(keyCol), col(key(s))]));
      bound.add(s.id);
      return join('inner', r, this.nodeRel(s), [[keyCol, key(s)]]);
    };
    for (const steps of leg.sequences) {
      // Start at a node already in the row (sequences must share nodes), else at the first node.
      const start = row ? steps.findIndex((st) => st.kind === 'node' && bound.has(st.slot.id)) : 0;
      if (start < 0) return this.host.unsupported(this.op, 'A pattern whose sequences share no node variable');
      const first = steps[start];
      if (first?.kind !== 'node') return this.host.unsupported(this.op, 'This graph pattern');
      if (!row) {
        row = this.nodeRel(first.slot);
        bound.add(first.slot.id);
      }
      // Walk right then left from the start; `prev` is the key column of the node reached so far.
      for (const dirn of [1, -1] as const) {
        let prev = key(first.slot);
        for (let i = start + dirn; i >= 0 && i < steps.length; i += dirn) {
          const st = steps[i] as Step;
          // Zero hops: the next node joins on the key reached so far.
          if (st.kind === 'same') continue;
          if (st.kind === 'edge') {
            const e = this.edgeRel(st.slot, st.direction);
            // Walking left, the edge is entered at its `to` end.
            const [near, far] = dirn === 1 ? ['from', 'to'] : ['to', 'from'];
            row = join('inner', row, e, [[prev, this.slotColumn(st.slot, near, this.g.key.type)]]);
            prev = this.slotColumn(st.slot, far, this.g.key.type);
            continue;
          }
          row = addNode(row, st.slot, prev);
          prev = key(st.slot);
        }
      }
    }
    return row ?? this.host.unsupported(this.op, 'An empty graph pattern');
  }

  // ── expressions ──

  private withLeg<T>(leg: Leg, fn: () => T): T {
    const saved = { leg: this.leg, binding: this.binding };
    this.leg = leg;
    this.binding = new Map(leg.vars);
    this.host.setScalarHook((e) => this.hook(e));
    try {
      return fn();
    } finally {
      this.host.setScalarHook(null);
      this.leg = saved.leg;
      this.binding = saved.binding;
    }
  }

  /**
   * The where clause: each top-level conjunct that reads a variable-length edge's properties holds for every edge
   * of it (one copy of the conjunct per edge; none when the leg has zero hops there).
   */
  private wherePredicate(where: Expr, cols: readonly PlanColumn[]): ScalarExpr {
    const conjuncts: Expr[] = [];
    const split = (e: Expr) => {
      const inner = e.kind === 'Paren' ? e.expr : e;
      if (inner.kind === 'Binary' && inner.op === 'and') {
        split(inner.left);
        split(inner.right);
      } else conjuncts.push(e);
    };
    split(where);
    const preds: ScalarExpr[] = [];
    for (const c of conjuncts) {
      const vs = [...propertyVariables(c)].filter((v) => Array.isArray(this.binding.get(v)));
      let combos: Map<string, Slot>[] = [new Map()];
      for (const v of vs) {
        const slots = this.binding.get(v) as readonly Slot[];
        combos = combos.flatMap((m) => slots.map((s) => new Map([...m, [v, s]])));
      }
      for (const m of combos) {
        const saved = this.binding;
        this.binding = new Map([...saved, ...m]);
        try {
          preds.push(this.host.scalar(c, { input: cols }));
        } finally {
          this.binding = saved;
        }
      }
    }
    return all(preds);
  }

  private hook(e: Expr): ScalarExpr | null {
    if (e.kind === 'Member' && e.expr.kind === 'Name') {
      const b = this.binding.get(e.expr.name);
      if (!b) return null;
      const prop = e.member.name;
      const one = (s: Slot) => this.propertyOf(s, prop, e.member);
      if (Array.isArray(b)) {
        const slots = b as readonly Slot[];
        return { kind: 'call', fn: 'pack_array', args: slots.map(one), type: 'dynamic' };
      }
      return one(b as Slot);
    }
    if (e.kind === 'Name') {
      if (this.binding.has(e.name)) return this.host.unsupported(e, 'A pattern variable used as a value');
      if (this.element && this.host.info(e)?.symbol?.kind === 'column') return this.propertyOf(this.element, e.name, e);
      return null;
    }
    if (e.kind === 'Call' && !e.target) return this.graphCall(e);
    return null;
  }

  private propertyOf(s: Slot, prop: string, at: Span): ScalarExpr {
    const cols = s.element === 'node' ? this.g.nodeColumns : this.g.edgeColumns;
    const c = cols.find((x) => x.name === prop);
    if (!c) return this.host.unsupported(at, `The property '${prop}'`);
    return this.slotCol(s, `.${prop}`, c.type);
  }

  private graphCall(e: Call): ScalarExpr | null {
    const name = e.name.name;
    const [first, second] = e.args;
    switch (name) {
      case 'map':
      case 'all':
      case 'any': {
        if (!first || !second) return this.host.unsupported(e, `${name}() without two arguments`);
        const values = this.elementsOf(first).map((s) => {
          const saved = this.element;
          this.element = s;
          try {
            return this.host.scalar(second, { input: null });
          } finally {
            this.element = saved;
          }
        });
        if (name === 'all') return all(values);
        if (name === 'any') return anyOf(values);
        return values.length
          ? { kind: 'call', fn: 'pack_array', args: values, type: 'dynamic' }
          : { kind: 'lit', type: 'dynamic', value: [] };
      }
      case 'node_degree_in':
      case 'node_degree_out':
      case 'node_id': {
        const s = first?.kind === 'Name' ? this.binding.get(first.name) : undefined;
        if (!s || Array.isArray(s)) return this.host.unsupported(e, `${name}() without a node variable`);
        const slot = s as Slot;
        if (name === 'node_id') return hash(this.slotCol(slot, 'key', this.g.key.type));
        return this.slotCol(slot, name === 'node_degree_in' ? 'in' : 'out', 'long');
      }
      case 'inner_nodes':
      case 'labels':
        if (this.leg) return this.host.unsupported(e, `${name}() here`);
        return null;
      default:
        return null;
    }
  }

  private elementsOf(e: Expr): readonly Slot[] {
    if (e.kind === 'Call' && e.name.name === 'inner_nodes') {
      const v = e.args[0];
      const inner = v?.kind === 'Name' ? this.leg?.inner.get(v.name) : undefined;
      return inner ?? this.host.unsupported(e, 'inner_nodes() of this argument');
    }
    const b = e.kind === 'Name' ? this.binding.get(e.name) : undefined;
    if (!b) return this.host.unsupported(e, 'This argument of a graph function');
    return Array.isArray(b) ? (b as readonly Slot[]) : [b as Slot];
  }
}

/** Pairwise inequality of the values (cycle rules). */
function distinct(values: readonly ScalarExpr[]): ScalarExpr[] {
  const out: ScalarExpr[] = [];
  for (let i = 0; i < values.length; i++) {
    for (let j = i + 1; j < values.length; j++)
      out.push(op('NotEqual', [values[i] as ScalarExpr, values[j] as ScalarExpr]));
  }
  return out;
}

/** Variables whose properties (`v.p`) an expression reads outside graph functions (which iterate on their own). */
function propertyVariables(e: Expr): Set<string> {
  const out = new Set<string>();
  const visit = (x: unknown): void => {
    if (!x || typeof x !== 'object') return;
    if (Array.isArray(x)) {
      for (const y of x) visit(y);
      return;
    }
    const n = x as Expr;
    if (n.kind === 'Call' && ['map', 'all', 'any', 'inner_nodes'].includes(n.name.name)) return;
    if (n.kind === 'Member' && n.expr.kind === 'Name') out.add(n.expr.name);
    for (const v of Object.values(n)) if (v && typeof v === 'object') visit(v);
  };
  visit(e);
  return out;
}

/** True when some call in the expressions has a name the test accepts. */
function mentions(exprs: readonly Expr[], test: (name: string) => boolean): boolean {
  let found = false;
  const visit = (x: unknown): void => {
    if (found || !x || typeof x !== 'object') return;
    if (Array.isArray(x)) {
      for (const y of x) visit(y);
      return;
    }
    const n = x as Expr;
    if (n.kind === 'Call' && test(n.name.name)) found = true;
    for (const v of Object.values(n)) if (v && typeof v === 'object') visit(v);
  };
  visit(exprs);
  return found;
}
