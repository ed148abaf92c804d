/**
 * Projection collapsing, after pruning: projections that only pass columns through disappear, so the SQL has fewer
 * layers for the engine to parse, bind and plan (each is a CTE with one expression per column; on DuckDB the
 * seed's join query spent ~15% more CPU than hand-written SQL on such layers alone).
 * - An identity projection (every input column, in order, same names and types) is its input.
 * - A projection of plain columns (no renames, no computation) over filters, sorts and takes of a scan becomes the
 *   scan's column list, in the projection's order, when everything in between reads only those columns.
 * - Below a join, a summarize, a union leg or another projection, which read columns by name and ignore the
 *   others, a projection that only drops or reorders columns is dropped.
 * Renames and computed columns stay: a scan cannot rename.
 */
import type { PlanColumn, Rel } from '../nodes.js';
import { columnsRead, mapInputs, mapNestedRels, mapScalarsOf, scalarsOf } from './walk.js';

export function collapseProjections(rel: Rel): Rel {
  const r = mapScalarsOf(mapInputs(rel, collapseProjections), (e) => mapNestedRels(e, collapseProjections));
  switch (r.kind) {
    case 'project': {
      if (isIdentity(r)) return r.input;
      const fused = intoScan(r);
      if (fused) return fused;
      const input = dropOnly(r.input);
      return input === r.input ? r : { ...r, input };
    }
    // These read their input's columns by name and ignore the others: a projection that only drops or reorders
    // columns below them does nothing.
    case 'aggregate': {
      const input = dropOnly(r.input);
      return input === r.input ? r : { ...r, input };
    }
    case 'join': {
      const left = dropOnly(r.left);
      const right = dropOnly(r.right);
      return left === r.left && right === r.right ? r : { ...r, left, right };
    }
    case 'union': {
      const inputs = r.inputs.map(dropOnly);
      return inputs.every((x, i) => x === r.inputs[i]) ? r : { ...r, inputs };
    }
    default:
      return r;
  }
}

/** A projection that keeps some input columns as they are (no renames, no computation) is its input. */
function dropOnly(rel: Rel): Rel {
  return rel.kind === 'project' && passThrough(rel) !== null ? rel.input : rel;
}

/** The columns of a projection that are plain pass-throughs of same-named input columns, or null. */
function passThrough(p: Rel & { kind: 'project' }): readonly PlanColumn[] | null {
  const input = new Map(p.input.columns.map((c) => [c.name, c] as const));
  for (const [i, c] of p.columns.entries()) {
    const e = p.exprs[i];
    const from = input.get(c.name);
    if (e?.kind !== 'col' || e.side !== undefined || e.name !== c.name || !from) return null;
    if (c.type === 'unknown' || from.type !== c.type || e.type !== c.type) return null;
  }
  return p.columns;
}

function isIdentity(p: Rel & { kind: 'project' }): boolean {
  return (
    passThrough(p) !== null &&
    p.columns.length === p.input.columns.length &&
    p.columns.every((c, i) => c.name === p.input.columns[i]?.name)
  );
}

/** Filters, sorts and takes between a projection and a scan: they keep the scan's columns as they are. */
type Chain = Rel & { kind: 'filter' | 'sort' | 'limit' };

function intoScan(p: Rel & { kind: 'project' }): Rel | null {
  const columns = passThrough(p);
  if (!columns || columns.length === 0) return null;
  const keep = new Set(columns.map((c) => c.name));
  const chain: Chain[] = [];
  let at: Rel = p.input;
  while (at.kind === 'filter' || at.kind === 'sort' || at.kind === 'limit') {
    const read = new Set<string>();
    for (const e of scalarsOf(at)) columnsRead(e, read);
    if ([...read].some((n) => !keep.has(n))) return null;
    chain.push(at);
    at = at.input;
  }
  if (at.kind !== 'scan') return null;
  let rebuilt: Rel = { ...at, columns };
  for (let i = chain.length - 1; i >= 0; i--) {
    rebuilt = { ...(chain[i] as Chain), input: rebuilt, columns } as Rel;
  }
  return rebuilt;
}
