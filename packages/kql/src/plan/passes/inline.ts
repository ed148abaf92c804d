/**
 * Inlines tabular `let`s (and `as` names) that are referenced once and not materialized, and drops bindings that
 * nothing references. A `let` binds a calculation, not a value: one reference evaluates it once either way, so the
 * result is the same, and the other passes can then push filters and prune columns across the former boundary.
 */
import type { Rel } from '../nodes.js';
import { inputsOf, mapInputs, mapNestedRels, mapScalarsOf, nestedRels, scalarsOf } from './walk.js';

export function inlineLets(rel: Rel): Rel {
  const counts = new Map<string, number>();
  countRefs(rel, counts);
  return inline(rel, counts, new Map());
}

function countRefs(rel: Rel, counts: Map<string, number>): void {
  if (rel.kind === 'ref') counts.set(rel.name, (counts.get(rel.name) ?? 0) + 1);
  for (const e of scalarsOf(rel)) for (const r of nestedRels(e)) countRefs(r, counts);
  for (const input of inputsOf(rel)) countRefs(input, counts);
}

function inline(rel: Rel, counts: ReadonlyMap<string, number>, inlined: Map<string, Rel>): Rel {
  if (rel.kind === 'ref') return inlined.get(rel.name) ?? rel;
  if (rel.kind === 'with') {
    const bindings: { name: string; rel: Rel; materialized: boolean }[] = [];
    for (const b of rel.bindings) {
      const value = inline(b.rel, counts, inlined);
      const n = counts.get(b.name) ?? 0;
      if (n === 0 && !b.materialized) continue;
      if (n === 1 && !b.materialized) inlined.set(b.name, value);
      else bindings.push({ ...b, rel: value });
    }
    const body = inline(rel.body, counts, inlined);
    return bindings.length === 0 ? body : { ...rel, bindings, body, columns: body.columns };
  }
  const recurse = (r: Rel) => inline(r, counts, inlined);
  return mapScalarsOf(mapInputs(rel, recurse), (e) => mapNestedRels(e, recurse));
}
