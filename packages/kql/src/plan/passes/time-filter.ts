/**
 * Time-filter extraction: the conjuncts of a filter sitting directly on a scan that bound one of the table's
 * datetime columns by a literal (`Timestamp > ago(1h)` after folding, `between (a .. b)`, `==`) are intersected
 * per column and recorded on the scan as `timeRanges`. Engines use them to skip storage (DuckDB's zone maps need the
 * comparison on the scan itself, in plain form); the filter keeps every conjunct, so an engine that ignores the
 * ranges still returns the same rows. Run after folding and pushdown, which bring the conditions there.
 */
import type { Rel, ScalarExpr, ScanRel, TimeBound, TimeRange } from '../nodes.js';
import { conjuncts, mapInputs, mapNestedRels, mapScalarsOf } from './walk.js';

export function extractTimeFilters(rel: Rel): Rel {
  const r = mapScalarsOf(mapInputs(rel, extractTimeFilters), (e) => mapNestedRels(e, extractTimeFilters));
  if (r.kind !== 'filter' || r.input.kind !== 'scan') return r;
  const scan = r.input;
  const ranges = timeRangesOf(r.predicate, scan);
  if (ranges.length === 0) return r;
  return { ...r, input: { ...scan, timeRanges: mergeRanges([...(scan.timeRanges ?? []), ...ranges], scan) } };
}

const FLIPPED: Readonly<Record<string, string>> = {
  GreaterThan: 'LessThan',
  GreaterThanOrEqual: 'LessThanOrEqual',
  LessThan: 'GreaterThan',
  LessThanOrEqual: 'GreaterThanOrEqual',
  Equal: 'Equal',
};

function ticksOf(e: ScalarExpr | undefined, type: 'datetime' | 'timespan'): bigint | null {
  if (e?.kind !== 'lit' || e.type !== type || typeof e.value !== 'string' || !/^-?\d+$/.test(e.value)) return null;
  return BigInt(e.value);
}

/** The datetime column of the scan a scalar is, if it is one. */
function timeColumn(e: ScalarExpr | undefined, scan: ScanRel): string | null {
  if (e?.kind !== 'col' || e.side !== undefined || e.type !== 'datetime') return null;
  return scan.columns.some((c) => c.name === e.name && c.type === 'datetime') ? e.name : null;
}

function bound(ticks: bigint, inclusive: boolean): TimeBound {
  return { ticks: ticks.toString(), inclusive };
}

/** The time range one conjunct states, if it is a literal bound on a datetime column of the scan. */
function rangeOf(p: ScalarExpr, scan: ScanRel): TimeRange | null {
  if (p.kind !== 'op') return null;
  if (p.op === 'Between') {
    const column = timeColumn(p.args[0], scan);
    const lo = ticksOf(p.args[1], 'datetime');
    if (column === null || lo === null) return null;
    // `between (start .. 1h)` is `start .. start + 1h`.
    const hiDate = ticksOf(p.args[2], 'datetime');
    const hiSpan = ticksOf(p.args[2], 'timespan');
    const hi = hiDate ?? (hiSpan !== null ? lo + hiSpan : null);
    if (hi === null) return null;
    return { column, lower: bound(lo, true), upper: bound(hi, true) };
  }
  let op = p.op;
  let column = timeColumn(p.args[0], scan);
  let ticks = ticksOf(p.args[1], 'datetime');
  if (column === null) {
    column = timeColumn(p.args[1], scan);
    ticks = ticksOf(p.args[0], 'datetime');
    const flipped = FLIPPED[op];
    if (!flipped) return null;
    op = flipped;
  }
  if (column === null || ticks === null || p.args.length !== 2) return null;
  switch (op) {
    case 'GreaterThan':
      return { column, lower: bound(ticks, false), upper: null };
    case 'GreaterThanOrEqual':
      return { column, lower: bound(ticks, true), upper: null };
    case 'LessThan':
      return { column, lower: null, upper: bound(ticks, false) };
    case 'LessThanOrEqual':
      return { column, lower: null, upper: bound(ticks, true) };
    case 'Equal':
      return { column, lower: bound(ticks, true), upper: bound(ticks, true) };
    default:
      return null;
  }
}

export function timeRangesOf(predicate: ScalarExpr, scan: ScanRel): TimeRange[] {
  const out: TimeRange[] = [];
  for (const p of conjuncts(predicate)) {
    const r = rangeOf(p, scan);
    if (r) out.push(r);
  }
  return mergeRanges(out, scan);
}

/** The tighter of two bounds (`lower`: the larger; at equal ticks the exclusive one). */
function tighter(a: TimeBound | null, b: TimeBound | null, lower: boolean): TimeBound | null {
  if (!a) return b;
  if (!b) return a;
  const x = BigInt(a.ticks);
  const y = BigInt(b.ticks);
  if (x === y) return a.inclusive ? b : a;
  return (lower ? x > y : x < y) ? a : b;
}

/** One range per column (the intersection), in the scan's column order when a scan is given. */
function mergeRanges(ranges: readonly TimeRange[], scan?: ScanRel): TimeRange[] {
  const byColumn = new Map<string, TimeRange>();
  for (const r of ranges) {
    const prev = byColumn.get(r.column);
    byColumn.set(
      r.column,
      prev
        ? { column: r.column, lower: tighter(prev.lower, r.lower, true), upper: tighter(prev.upper, r.upper, false) }
        : r,
    );
  }
  const out = [...byColumn.values()];
  if (scan) {
    const order = new Map(scan.columns.map((c, i) => [c.name, i] as const));
    out.sort((a, b) => (order.get(a.column) ?? 0) - (order.get(b.column) ?? 0));
  }
  return out;
}
