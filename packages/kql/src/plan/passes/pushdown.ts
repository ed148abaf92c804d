/**
 * Predicate pushdown: each conjunct of a filter moves as close to the scan as the semantics allow, so that engines
 * filter before they compute, sort, join or aggregate (and the time-filter pass finds time conditions right above
 * the scan). A conjunct moves
 * - through `project`/`extend` when every column it reads is passed through unchanged (renames are followed; a
 *   computed column is never recomputed below: pushing it would evaluate the expression twice), unless the
 *   projection numbers rows (window functions see every row);
 * - through `sort`, `distinct`, `with` bodies and other filters (adjacent filters merge);
 * - through `summarize` when it reads only group keys that are plain input columns;
 * - through `mv-expand` when it reads only columns that are not expanded;
 * - into the sides of a `join` when it reads only one side's columns and the join kind keeps that side's rows as
 *   they are: inner (both sides), leftouter/leftsemi/leftanti (left), rightouter/rightsemi/rightanti (right),
 *   innerunique (right only: the left side is deduplicated first, and filtering before the deduplication could keep
 *   a different row per key);
 * - into every leg of a `union` when every leg has the columns it reads (`withsource` becomes the leg's name).
 * It never moves through `take`/`top`, a relation computing row functions (`prev`, `row_number`: they see every
 * row, also in a filter's own predicate), `make-series`, or into a shared (`let`) relation.
 */
import type { Rel, ScalarExpr } from '../nodes.js';
import { foldScalar } from './fold.js';
import {
  columnsRead,
  conjunction,
  conjuncts,
  mapInputs,
  mapNestedRels,
  mapScalarsOf,
  scalarsOf,
  someScalar,
  substituteColumns,
} from './walk.js';

export function pushDownFilters(rel: Rel): Rel {
  const r = mapScalarsOf(mapInputs(rel, pushDownFilters), (e) => mapNestedRels(e, pushDownFilters));
  if (r.kind !== 'filter') return r;
  return pushInto(conjuncts(r.predicate), r.input);
}

function filterOver(preds: readonly ScalarExpr[], input: Rel): Rel {
  // Literal conjuncts (a union leg's name compared, after folding) decide the conjunction alone.
  const isLit = (p: ScalarExpr, v: boolean) => p.kind === 'lit' && p.type === 'bool' && p.value === v;
  const rest = preds.some((p) => isLit(p, false)) ? preds.filter((p) => isLit(p, false)).slice(0, 1) : preds;
  const predicate = conjunction(rest.filter((p) => !isLit(p, true)));
  return predicate ? { kind: 'filter', input, predicate, columns: input.columns } : input;
}

/** Whether a conjunct may move at all: it must be a plain row predicate. */
function movable(e: ScalarExpr): boolean {
  return !someScalar(e, (x) => x.kind === 'star' || x.kind === 'agg' || x.kind === 'win');
}

function reads(e: ScalarExpr): Set<string> {
  return columnsRead(e, new Set());
}

/**
 * Splits conjuncts into those that read only columns of `map` (rewritten through it) and the rest.
 * With `needColumns`, a conjunct that reads no column stays (it says nothing about a side).
 */
function split(
  preds: readonly ScalarExpr[],
  map: ReadonlyMap<string, ScalarExpr>,
  needColumns = false,
): { moved: ScalarExpr[]; kept: ScalarExpr[] } {
  const moved: ScalarExpr[] = [];
  const kept: ScalarExpr[] = [];
  for (const p of preds) {
    const cols = reads(p);
    const ok = movable(p) && (!needColumns || cols.size > 0) && [...cols].every((c) => map.has(c));
    if (ok) moved.push(substituteColumns(p, map));
    else kept.push(p);
  }
  return { moved, kept };
}

/** Whether a relation computes row functions (`prev`, `row_number`, ...): they see every row, so no filter may pass. */
function numbersRows(rel: Rel): boolean {
  return scalarsOf(rel).some((e) => someScalar(e, (x) => x.kind === 'win'));
}

/** A filter of `preds` over `input`, with the conjuncts moved down as far as they may go. */
function pushInto(preds: readonly ScalarExpr[], input: Rel): Rel {
  if (numbersRows(input)) return filterOver(preds, input);
  switch (input.kind) {
    case 'filter':
      return pushInto([...conjuncts(input.predicate), ...preds], input.input);
    case 'sort':
    case 'distinct':
      if (!preds.every(movable)) return filterOver(preds, input);
      return { ...input, input: pushInto(preds, input.input) };
    case 'with':
      return { ...input, body: pushInto(preds, input.body) };
    case 'project': {
      const map = new Map<string, ScalarExpr>();
      input.columns.forEach((c, i) => {
        const e = input.exprs[i];
        if (e?.kind === 'col' && e.side === undefined && e.type === c.type) map.set(c.name, e);
      });
      const { moved, kept } = split(preds, map);
      if (moved.length === 0) return filterOver(preds, input);
      return filterOver(kept, { ...input, input: pushInto(moved, input.input) });
    }
    case 'aggregate': {
      if (input.keys.length === 0) return filterOver(preds, input);
      const map = new Map<string, ScalarExpr>();
      input.keys.forEach((k, i) => {
        const c = input.columns[i];
        if (c && k.expr.kind === 'col' && k.expr.side === undefined && k.expr.type === c.type) map.set(c.name, k.expr);
      });
      const { moved, kept } = split(preds, map, true);
      if (moved.length === 0) return filterOver(preds, input);
      return filterOver(kept, { ...input, input: pushInto(moved, input.input) });
    }
    case 'mv-expand': {
      const expanded = new Set(input.items.map((i) => i.name));
      if (input.indexColumn !== null) expanded.add(input.indexColumn);
      const map = new Map<string, ScalarExpr>();
      for (const c of input.input.columns) {
        if (!expanded.has(c.name)) map.set(c.name, { kind: 'col', name: c.name, type: c.type });
      }
      const { moved, kept } = split(preds, map);
      if (moved.length === 0) return filterOver(preds, input);
      return filterOver(kept, { ...input, input: pushInto(moved, input.input) });
    }
    case 'join':
      return pushIntoJoin(preds, input);
    case 'union':
      return pushIntoUnion(preds, input);
    case 'scan':
    case 'values':
    case 'range':
    case 'limit':
    case 'window':
    case 'ref':
    case 'make-series':
      return filterOver(preds, input);
  }
}

const KEEPS_LEFT_ROWS = new Set(['inner', 'leftouter', 'leftsemi', 'leftanti']);
const KEEPS_RIGHT_ROWS = new Set(['inner', 'innerunique', 'rightouter', 'rightsemi', 'rightanti']);

function pushIntoJoin(preds: readonly ScalarExpr[], join: Rel & { kind: 'join' }): Rel {
  const sideMap = (side: 'left' | 'right'): Map<string, ScalarExpr> => {
    const input = side === 'left' ? join.left : join.right;
    const map = new Map<string, ScalarExpr>();
    join.output.forEach((o, i) => {
      const c = join.columns[i];
      const src = input.columns.find((x) => x.name === o.name);
      if (o.side === side && c && src && src.type === c.type)
        map.set(c.name, { kind: 'col', name: src.name, type: src.type });
    });
    return map;
  };
  let rest: readonly ScalarExpr[] = preds;
  let left = join.left;
  let right = join.right;
  if (KEEPS_LEFT_ROWS.has(join.joinKind)) {
    const { moved, kept } = split(rest, sideMap('left'), true);
    if (moved.length) left = pushInto(moved, left);
    rest = kept;
  }
  if (KEEPS_RIGHT_ROWS.has(join.joinKind)) {
    const { moved, kept } = split(rest, sideMap('right'), true);
    if (moved.length) right = pushInto(moved, right);
    rest = kept;
  }
  if (left === join.left && right === join.right) return filterOver(preds, join);
  return filterOver(rest, { ...join, left, right });
}

function pushIntoUnion(preds: readonly ScalarExpr[], union: Rel & { kind: 'union' }): Rel {
  const source = union.sourceValues !== null ? union.columns[0] : undefined;
  const dataColumns = source ? union.columns.slice(1) : union.columns;
  const legMaps = union.inputs.map((input, i) => {
    const map = new Map<string, ScalarExpr>();
    const mapping = union.mapping[i] ?? [];
    dataColumns.forEach((c, j) => {
      const from = mapping[j];
      const col = from !== null && from !== undefined ? input.columns.find((x) => x.name === from) : undefined;
      if (col && col.type === c.type) map.set(c.name, { kind: 'col', name: col.name, type: col.type });
    });
    if (source) map.set(source.name, { kind: 'lit', type: 'string', value: union.sourceValues?.[i] ?? '' });
    return map;
  });
  const moved: ScalarExpr[] = [];
  const kept: ScalarExpr[] = [];
  for (const p of preds) {
    const cols = [...reads(p)];
    if (movable(p) && legMaps.every((m) => cols.every((c) => m.has(c)))) moved.push(p);
    else kept.push(p);
  }
  if (moved.length === 0) return filterOver(preds, union);
  const inputs = union.inputs.map((input, i) => {
    const map = legMaps[i] as Map<string, ScalarExpr>;
    const legPreds = moved.map((p) => foldScalar(substituteColumns(p, map)));
    return pushInto(legPreds, input);
  });
  return filterOver(kept, { ...union, inputs });
}
