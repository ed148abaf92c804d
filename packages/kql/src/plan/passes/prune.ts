/**
 * Projection pruning: every relation keeps only the columns something above it reads, so a scan of a wide table
 * (DeviceProcessEvents has 75 columns) reads just the needed ones, unread `extend`s and aggregates are not
 * computed, and the SQL stays small. Walks top-down with the set of columns the parent needs; each relation
 * returns its original columns restricted to (a superset of) that set, in the original order, so the query's
 * result columns never change.
 *
 * Relations that read all their input columns by meaning keep them: `distinct`, `make-series`, the legs' values of
 * `datatable`/`range`. Group keys, `mv-expand` items (the longest array decides the row count) and join keys stay.
 * A scan or projection may end up with no columns (`T | count`): the generator selects a constant then. A join,
 * union or summarize without keys keeps one column, so that its rows still exist in SQL.
 *
 * Shared relations (`let` bindings, `ref`) need the union of what every reference reads: a first walk collects it
 * per binding, a second walk prunes. Both walks make the same decisions because a decision depends only on the
 * needed set and the relation itself.
 */
import type { PlanColumn, Rel, ScalarExpr } from '../nodes.js';
import { OPEN_BAG } from '../nodes.js';
import { columnsRead, mapNestedRels, mapScalarsOf, nestedRels, scalarsOf } from './walk.js';

type Need = ReadonlySet<string>;

export function pruneColumns(rel: Rel): Rel {
  const needs = new Map<string, Set<string>>();
  const all = new Set(rel.columns.map((c) => c.name));
  new Pruner(needs, true).prune(rel, all);
  return new Pruner(needs, false).prune(rel, all);
}

function reads(exprs: readonly ScalarExpr[], into = new Set<string>()): Set<string> {
  for (const e of exprs) columnsRead(e, into);
  return into;
}

class Pruner {
  /** Final columns of each binding (apply walk). */
  private readonly bindingColumns = new Map<string, readonly PlanColumn[]>();

  constructor(
    private readonly needs: Map<string, Set<string>>,
    private readonly collecting: boolean,
  ) {}

  /** Prunes the relations nested in a scalar: `toscalar()` and `in (T)` read their first column only. */
  private nested(e: ScalarExpr): ScalarExpr {
    if (this.collecting) {
      for (const r of nestedRels(e)) this.prune(r, firstColumn(r));
      return e;
    }
    return mapNestedRels(e, (r) => this.prune(r, firstColumn(r)));
  }

  prune(rel: Rel, needed: Need): Rel {
    // A needed name the relation does not list is a property of its open bag (bag_unpack, pivot with columns
    // known only at run time): the bag must stay.
    let need = needed;
    const open = rel.columns.filter((c) => c.name.startsWith(OPEN_BAG));
    if (open.length > 0 && [...need].some((n) => !rel.columns.some((c) => c.name === n))) {
      need = new Set([...need, ...open.map((c) => c.name)]);
    }
    switch (rel.kind) {
      case 'scan': {
        // The generator selects a constant for a scan without columns: a count reads no column at all.
        const columns = rel.columns.filter((c) => need.has(c.name));
        return columns.length === rel.columns.length ? rel : { ...rel, columns };
      }
      case 'values':
        return { ...rel, rows: rel.rows.map((r) => r.map((e) => this.nested(e))) };
      case 'range':
        return { ...rel, from: this.nested(rel.from), to: this.nested(rel.to), step: this.nested(rel.step) };
      case 'filter': {
        const predicate = this.nested(rel.predicate);
        const input = this.prune(rel.input, reads([rel.predicate], new Set(need)));
        return { ...rel, predicate, input, columns: input.columns };
      }
      case 'project':
      case 'window': {
        const keep = rel.columns.map((c) => need.has(c.name));
        const exprs = rel.exprs.filter((_, i) => keep[i]).map((e) => this.nested(e));
        const columns = rel.columns.filter((_, i) => keep[i]);
        const input = this.prune(rel.input, reads(exprs));
        return { ...rel, input, exprs, columns };
      }
      case 'aggregate': {
        const nk = rel.keys.length;
        let keepAgg = rel.aggregates.map((a) => need.has(a.name));
        // With no group keys the relation is one row: keep one aggregate so that it still has a column.
        if (nk === 0 && !keepAgg.some(Boolean) && rel.aggregates.length > 0) keepAgg = keepAgg.map((_, i) => i === 0);
        const keys = rel.keys.map((k) => ({ ...k, expr: this.nested(k.expr) }));
        const aggregates = rel.aggregates
          .filter((_, i) => keepAgg[i])
          .map((a) => ({ ...a, expr: this.nested(a.expr) }));
        const columns = rel.columns.filter((_, i) => i < nk || keepAgg[i - nk]);
        const input = this.prune(rel.input, reads([...keys.map((k) => k.expr), ...aggregates.map((a) => a.expr)]));
        return { ...rel, input, keys, aggregates, columns };
      }
      case 'sort': {
        const keys = rel.keys.map((k) => ({ ...k, expr: this.nested(k.expr) }));
        const input = this.prune(
          rel.input,
          reads(
            keys.map((k) => k.expr),
            new Set(need),
          ),
        );
        return { ...rel, input, keys, columns: input.columns };
      }
      case 'limit': {
        const input = this.prune(rel.input, need);
        return { ...rel, input, count: this.nested(rel.count), columns: input.columns };
      }
      case 'distinct': {
        const input = this.prune(rel.input, names(rel.input.columns));
        return { ...rel, input, columns: input.columns };
      }
      case 'join':
        return this.join(rel, need);
      case 'union':
        return this.union(rel, need);
      case 'mv-expand': {
        const expanded = new Set(rel.items.map((i) => i.name));
        if (rel.indexColumn !== null) expanded.add(rel.indexColumn);
        const items = rel.items.map((it) => ({ ...it, expr: this.nested(it.expr) }));
        const limit = rel.limit ? this.nested(rel.limit) : null;
        const inputNeed = new Set([...need].filter((n) => !expanded.has(n)));
        reads([...items.map((i) => i.expr), ...(limit ? [limit] : [])], inputNeed);
        const input = this.prune(rel.input, inputNeed);
        const available = names(input.columns);
        const columns = rel.columns.filter((c) => expanded.has(c.name) || (need.has(c.name) && available.has(c.name)));
        return { ...rel, input, items, limit, columns };
      }
      case 'make-series': {
        const withNested = mapScalarsOf(rel, (e) => this.nested(e)) as typeof rel;
        return { ...withNested, input: this.prune(rel.input, reads(scalarsOf(rel))) };
      }
      case 'ref': {
        if (this.collecting) {
          const set = this.needs.get(rel.name) ?? new Set<string>();
          for (const n of need) set.add(n);
          this.needs.set(rel.name, set);
          return rel;
        }
        const columns = this.bindingColumns.get(rel.name);
        return columns ? { ...rel, columns } : rel;
      }
      case 'with': {
        if (this.collecting) {
          // References come after their binding: the body and later bindings first, so each need is complete.
          this.prune(rel.body, need);
          for (let i = rel.bindings.length - 1; i >= 0; i--) {
            const b = rel.bindings[i];
            if (b) this.prune(b.rel, this.needs.get(b.name) ?? new Set());
          }
          return rel;
        }
        const bindings = rel.bindings.map((b) => {
          const pruned = this.prune(b.rel, this.needs.get(b.name) ?? new Set());
          this.bindingColumns.set(b.name, pruned.columns);
          return { ...b, rel: pruned };
        });
        const body = this.prune(rel.body, need);
        return { ...rel, bindings, body, columns: body.columns };
      }
    }
  }

  private join(rel: Rel & { kind: 'join' }, need: Need): Rel {
    let keep = rel.output.map((_, i) => need.has((rel.columns[i] as PlanColumn).name));
    if (!keep.some(Boolean) && keep.length > 0) keep = keep.map((_, i) => i === 0);
    const output = rel.output.filter((_, i) => keep[i]);
    const columns = rel.columns.filter((_, i) => keep[i]);
    const sides = { left: new Set<string>(), right: new Set<string>() };
    for (const o of output) sides[o.side].add(o.name);
    const ignored = new Set<string>();
    for (const k of rel.on) {
      columnsRead(k.left, sides.left, sides);
      columnsRead(k.right, sides.right, sides);
    }
    if (rel.where) columnsRead(rel.where, ignored, sides);
    const on = rel.on.map((k) => ({ left: this.nested(k.left), right: this.nested(k.right) }));
    const where = rel.where ? this.nested(rel.where) : null;
    const left = this.prune(rel.left, sides.left);
    const right = this.prune(rel.right, sides.right);
    return { ...rel, left, right, on, where, output, columns };
  }

  private union(rel: Rel & { kind: 'union' }, need: Need): Rel {
    const hasSource = rel.sourceValues !== null;
    const dataColumns = hasSource ? rel.columns.slice(1) : rel.columns;
    const sourceColumn = hasSource ? rel.columns[0] : undefined;
    // The source column stays when asked for, or when it is the only column.
    const keepSource = sourceColumn !== undefined && (need.has(sourceColumn.name) || dataColumns.length === 0);
    let keep = dataColumns.map((c) => need.has(c.name));
    if (!keepSource && !keep.some(Boolean) && keep.length > 0) keep = keep.map((_, i) => i === 0);
    const mapping = rel.mapping.map((m) => m.filter((_, j) => keep[j]));
    const inputs = rel.inputs.map((input, i) => {
      const legNeed = new Set<string>();
      for (const from of mapping[i] ?? []) if (from !== null) legNeed.add(from);
      return this.prune(input, legNeed);
    });
    const kept = dataColumns.filter((_, j) => keep[j]);
    const columns = keepSource && sourceColumn ? [sourceColumn, ...kept] : kept;
    // Without its column, the source name is not needed (the generator reads sourceValues only for it).
    const sourceValues = keepSource ? rel.sourceValues : null;
    return { ...rel, inputs, mapping, columns, sourceValues };
  }
}

function names(columns: readonly PlanColumn[]): Set<string> {
  return new Set(columns.map((c) => c.name));
}

function firstColumn(rel: Rel): Set<string> {
  const first = rel.columns[0];
  return new Set(first ? [first.name] : []);
}
