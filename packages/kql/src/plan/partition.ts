/**
 * Running a sub-query once per group of rows (`mv-apply ... on (...)`, `partition by k (...)`) as one query over
 * all groups: the sub-query's plan is rewritten so every operator keeps a key column and works per key value —
 * aggregates group by it, `take`/`top` keep N rows per key, row functions restart per key, sorts sort within it.
 * The rewrite stops at the sub-query's input (which carries the key); a sub-query that reads other tables in a
 * way that cannot be split by key (a union, a nested source) is refused with `PartitionUnsupported`.
 */
import type { PlanColumn, Rel, ScalarExpr } from './nodes.js';

export class PartitionUnsupported extends Error {}

function colRef(c: PlanColumn): ScalarExpr {
  return { kind: 'col', name: c.name, type: c.type };
}

/** Puts every row function of an expression in the key's partition. */
function partitionWindows(e: ScalarExpr, key: PlanColumn): ScalarExpr {
  switch (e.kind) {
    case 'win':
      return {
        ...e,
        args: e.args.map((a) => partitionWindows(a, key)),
        partition: [colRef(key), ...(e.partition ?? [])],
      };
    case 'op':
    case 'call':
    case 'agg':
      return { ...e, args: e.args.map((a) => partitionWindows(a, key)) };
    case 'path':
      return {
        ...e,
        expr: partitionWindows(e.expr, key),
        path: e.path.map((p) => (typeof p === 'object' ? partitionWindows(p, key) : p)),
      };
    default:
      return e;
  }
}

const hasKey = (columns: readonly PlanColumn[], key: PlanColumn) => columns.some((c) => c.name === key.name);

/**
 * Rewrites `rel` (a plan over `input`, whose columns include `key`) to work per value of `key`; the result has the
 * key column (last, unless the plan already kept it).
 */
export function partitionBy(rel: Rel, input: Rel, key: PlanColumn, fresh: (base: string) => string): Rel {
  const go = (r: Rel): Rel => {
    if (r === input) return r;
    switch (r.kind) {
      case 'filter': {
        const src = go(r.input);
        return { ...r, input: src, predicate: partitionWindows(r.predicate, key), columns: src.columns };
      }
      case 'project':
      case 'window': {
        const src = go(r.input);
        const exprs = r.exprs.map((e) => partitionWindows(e, key));
        if (hasKey(r.columns, key)) return { ...r, input: src, exprs };
        return { ...r, input: src, exprs: [...exprs, colRef(key)], columns: [...r.columns, key] };
      }
      case 'aggregate': {
        const src = go(r.input);
        if (hasKey(r.columns, key)) throw new PartitionUnsupported('a sub-query that summarizes by the group key');
        return {
          ...r,
          input: src,
          keys: [{ name: key.name, expr: colRef(key) }, ...r.keys],
          columns: [key, ...r.columns],
        };
      }
      case 'make-series': {
        const src = go(r.input);
        return {
          ...r,
          input: src,
          keys: [{ name: key.name, expr: colRef(key) }, ...r.keys],
          columns: [key, ...r.columns],
        };
      }
      case 'sort': {
        const src = go(r.input);
        return {
          ...r,
          input: src,
          keys: [{ expr: colRef(key), descending: false, nullsFirst: false }, ...r.keys],
          columns: src.columns,
        };
      }
      case 'limit': {
        // N rows per key: number the rows within each key (in the current order) and keep the first N.
        const src = go(r.input);
        const n: PlanColumn = { name: fresh('rn'), type: 'long' };
        const numbered: Rel = {
          kind: 'window',
          input: src,
          exprs: [
            ...src.columns.map(colRef),
            { kind: 'win', fn: 'row_number', args: [], type: 'long', partition: [colRef(key)] },
          ],
          columns: [...src.columns, n],
        };
        const kept: Rel = {
          kind: 'filter',
          input: numbered,
          predicate: { kind: 'op', op: 'LessThanOrEqual', args: [colRef(n), r.count], type: 'bool' },
          columns: numbered.columns,
        };
        return { kind: 'project', input: kept, exprs: src.columns.map(colRef), columns: src.columns };
      }
      case 'distinct': {
        const src = go(r.input);
        return { ...r, input: src, columns: src.columns };
      }
      case 'mv-expand': {
        const src = go(r.input);
        return hasKey(r.columns, key) ? { ...r, input: src } : { ...r, input: src, columns: [...r.columns, key] };
      }
      case 'join': {
        // The left side is per key; the right side is an independent table every key sees whole.
        const left = go(r.left);
        if (hasKey(r.columns, key)) return { ...r, left };
        return {
          ...r,
          left,
          output: [...r.output, { side: 'left', name: key.name }],
          columns: [...r.columns, key],
        };
      }
      case 'with':
        return { ...r, body: go(r.body) };
      default:
        throw new PartitionUnsupported(`a '${r.kind}' inside a per-row sub-query`);
    }
  };
  return go(rel);
}
