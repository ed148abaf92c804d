/**
 * Generic traversal of plans for the passes: the inputs of a relation, the scalars it owns, and scalar rewriting.
 * Every dispatch is an exhaustive switch, so a new relation or scalar kind does not compile until it is handled
 * here. Nodes are rebuilt with spreads so fields a pass does not know about survive.
 */
import type { Rel, ScalarExpr } from '../nodes.js';

/** The relations a relation reads (not counting those nested in its scalars). */
export function inputsOf(rel: Rel): readonly Rel[] {
  switch (rel.kind) {
    case 'scan':
    case 'values':
    case 'range':
    case 'ref':
      return [];
    case 'filter':
    case 'project':
    case 'aggregate':
    case 'sort':
    case 'limit':
    case 'distinct':
    case 'mv-expand':
    case 'window':
    case 'make-series':
      return [rel.input];
    case 'join':
      return [rel.left, rel.right];
    case 'union':
      return rel.inputs;
    case 'with':
      return [...rel.bindings.map((b) => b.rel), rel.body];
  }
}

/** Rebuilds a relation with each input replaced by `f(input)`; returns the same object when nothing changed. */
export function mapInputs(rel: Rel, f: (r: Rel) => Rel): Rel {
  switch (rel.kind) {
    case 'scan':
    case 'values':
    case 'range':
    case 'ref':
      return rel;
    case 'filter':
    case 'project':
    case 'aggregate':
    case 'sort':
    case 'limit':
    case 'distinct':
    case 'mv-expand':
    case 'window':
    case 'make-series': {
      const input = f(rel.input);
      return input === rel.input ? rel : { ...rel, input };
    }
    case 'join': {
      const left = f(rel.left);
      const right = f(rel.right);
      return left === rel.left && right === rel.right ? rel : { ...rel, left, right };
    }
    case 'union': {
      const inputs = rel.inputs.map(f);
      return inputs.every((x, i) => x === rel.inputs[i]) ? rel : { ...rel, inputs };
    }
    case 'with': {
      const bindings = rel.bindings.map((b) => {
        const r = f(b.rel);
        return r === b.rel ? b : { ...b, rel: r };
      });
      const body = f(rel.body);
      return body === rel.body && bindings.every((b, i) => b === rel.bindings[i])
        ? rel
        : { ...rel, bindings, body, columns: body.columns };
    }
  }
}

/** The scalar expressions a relation owns (its predicate, projections, keys, ...), not its inputs'. */
export function scalarsOf(rel: Rel): ScalarExpr[] {
  switch (rel.kind) {
    case 'scan':
    case 'ref':
    case 'with':
    case 'distinct':
    case 'union':
      return [];
    case 'values':
      return rel.rows.flat();
    case 'range':
      return [rel.from, rel.to, rel.step];
    case 'filter':
      return [rel.predicate];
    case 'project':
    case 'window':
      return [...rel.exprs];
    case 'aggregate':
      return [...rel.keys.map((k) => k.expr), ...rel.aggregates.map((a) => a.expr)];
    case 'sort':
      return rel.keys.map((k) => k.expr);
    case 'limit':
      return [rel.count];
    case 'join':
      return [...rel.on.flatMap((k) => [k.left, k.right]), ...(rel.where ? [rel.where] : [])];
    case 'mv-expand':
      return [...rel.items.map((i) => i.expr), ...(rel.limit ? [rel.limit] : [])];
    case 'make-series':
      return [
        ...rel.keys.map((k) => k.expr),
        ...rel.aggregates.flatMap((a) => [a.expr, a.defaultValue]),
        rel.axis.expr,
        ...(rel.from ? [rel.from] : []),
        ...(rel.to ? [rel.to] : []),
        rel.step,
      ];
  }
}

/** Rebuilds a relation with each scalar it owns replaced by `f(scalar)` (shallow: inputs are left alone). */
export function mapScalarsOf(rel: Rel, f: (e: ScalarExpr) => ScalarExpr): Rel {
  switch (rel.kind) {
    case 'scan':
    case 'ref':
    case 'with':
    case 'distinct':
    case 'union':
      return rel;
    case 'values':
      return { ...rel, rows: rel.rows.map((r) => r.map(f)) };
    case 'range':
      return { ...rel, from: f(rel.from), to: f(rel.to), step: f(rel.step) };
    case 'filter':
      return { ...rel, predicate: f(rel.predicate) };
    case 'project':
    case 'window':
      return { ...rel, exprs: rel.exprs.map(f) };
    case 'aggregate':
      return {
        ...rel,
        keys: rel.keys.map((k) => ({ ...k, expr: f(k.expr) })),
        aggregates: rel.aggregates.map((a) => ({ ...a, expr: f(a.expr) })),
      };
    case 'sort':
      return { ...rel, keys: rel.keys.map((k) => ({ ...k, expr: f(k.expr) })) };
    case 'limit':
      return { ...rel, count: f(rel.count) };
    case 'join':
      return {
        ...rel,
        on: rel.on.map((k) => ({ left: f(k.left), right: f(k.right) })),
        where: rel.where ? f(rel.where) : null,
      };
    case 'mv-expand':
      return {
        ...rel,
        items: rel.items.map((i) => ({ ...i, expr: f(i.expr) })),
        limit: rel.limit ? f(rel.limit) : null,
      };
    case 'make-series':
      return {
        ...rel,
        keys: rel.keys.map((k) => ({ ...k, expr: f(k.expr) })),
        aggregates: rel.aggregates.map((a) => ({ ...a, expr: f(a.expr), defaultValue: f(a.defaultValue) })),
        axis: { ...rel.axis, expr: f(rel.axis.expr) },
        from: rel.from ? f(rel.from) : null,
        to: rel.to ? f(rel.to) : null,
        step: f(rel.step),
      };
  }
}

/** The direct sub-expressions of a scalar (nested relations are not scalars and are not included). */
export function scalarChildren(e: ScalarExpr): readonly ScalarExpr[] {
  switch (e.kind) {
    case 'col':
    case 'lit':
    case 'star':
    case 'subquery':
      return [];
    case 'call':
    case 'op':
    case 'agg':
      return e.args;
    case 'win':
      return e.partition ? [...e.args, ...e.partition] : e.args;
    case 'in-rel':
      return [e.value];
    case 'path':
      return [e.expr, ...e.path.filter((s): s is ScalarExpr => typeof s === 'object')];
  }
}

/** Bottom-up rewrite of a scalar: children first, then `f` on the rebuilt node. */
export function rewriteScalar(e: ScalarExpr, f: (e: ScalarExpr) => ScalarExpr): ScalarExpr {
  switch (e.kind) {
    case 'col':
    case 'lit':
    case 'star':
    case 'subquery':
      return f(e);
    case 'call':
    case 'op':
    case 'agg': {
      const args = e.args.map((a) => rewriteScalar(a, f));
      return f(args.every((a, i) => a === e.args[i]) ? e : { ...e, args });
    }
    case 'win': {
      const args = e.args.map((a) => rewriteScalar(a, f));
      const partition = e.partition?.map((a) => rewriteScalar(a, f));
      const same = args.every((a, i) => a === e.args[i]) && (partition ?? []).every((a, i) => a === e.partition?.[i]);
      return f(same ? e : { ...e, args, ...(partition ? { partition } : {}) });
    }
    case 'in-rel': {
      const value = rewriteScalar(e.value, f);
      return f(value === e.value ? e : { ...e, value });
    }
    case 'path': {
      const expr = rewriteScalar(e.expr, f);
      const path = e.path.map((s) => (typeof s === 'object' ? rewriteScalar(s, f) : s));
      const same = expr === e.expr && path.every((s, i) => s === e.path[i]);
      return f(same ? e : { ...e, expr, path });
    }
  }
}

/** Whether any node of the scalar satisfies `test`. */
export function someScalar(e: ScalarExpr, test: (e: ScalarExpr) => boolean): boolean {
  if (test(e)) return true;
  return scalarChildren(e).some((c) => someScalar(c, test));
}

/** The relations nested in a scalar (`toscalar(...)`, `x in (T | ...)`), outermost first. */
export function nestedRels(e: ScalarExpr, out: Rel[] = []): Rel[] {
  if (e.kind === 'subquery' || e.kind === 'in-rel') out.push(e.rel);
  for (const c of scalarChildren(e)) nestedRels(c, out);
  return out;
}

/** Rewrites the relations nested in a scalar with `f`. */
export function mapNestedRels(e: ScalarExpr, f: (r: Rel) => Rel): ScalarExpr {
  return rewriteScalar(e, (x) => {
    if (x.kind === 'subquery' || x.kind === 'in-rel') {
      const rel = f(x.rel);
      return rel === x.rel ? x : { ...x, rel };
    }
    return x;
  });
}

/**
 * The input columns a scalar reads, by name. Join conditions read both sides: their columns carry `side` and are
 * collected into `left`/`right` when given. `*` reads every column it lists.
 */
export function columnsRead(
  e: ScalarExpr,
  out: Set<string>,
  sides?: { left: Set<string>; right: Set<string> },
): Set<string> {
  switch (e.kind) {
    case 'col':
      if (e.side && sides) sides[e.side].add(e.name);
      else out.add(e.name);
      break;
    case 'star':
      for (const c of e.columns) out.add(c.name);
      break;
    default:
      for (const c of scalarChildren(e)) columnsRead(c, out, sides);
  }
  return out;
}

/** Replaces column references (without a side) by name. */
export function substituteColumns(e: ScalarExpr, map: ReadonlyMap<string, ScalarExpr>): ScalarExpr {
  return rewriteScalar(e, (x) => (x.kind === 'col' && x.side === undefined ? (map.get(x.name) ?? x) : x));
}

/** `a and b and c` → `[a, b, c]`. */
export function conjuncts(e: ScalarExpr): ScalarExpr[] {
  if (e.kind === 'op' && e.op === 'And' && e.args.length === 2) {
    return [...conjuncts(e.args[0] as ScalarExpr), ...conjuncts(e.args[1] as ScalarExpr)];
  }
  return [e];
}

/** The conjunction of predicates (left-deep, in order); `null` for none. */
export function conjunction(parts: readonly ScalarExpr[]): ScalarExpr | null {
  let out: ScalarExpr | null = null;
  for (const p of parts) out = out === null ? p : { kind: 'op', op: 'And', args: [out, p], type: 'bool' };
  return out;
}
