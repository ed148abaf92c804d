/**
 * Unit tests of the plan passes (plan/passes): what each pass rewrites and, as importantly, what it must leave
 * alone. Plans come from real KQL through analyze + lower; assertions read the printed plan (print.ts) or the plan
 * nodes. End-to-end equivalence on DuckDB (passes on vs off) is in packages/server/test/kql/passes.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { QueryPlan, Rel, ScalarExpr, ScanRel } from '../../src/plan/nodes.js';
import {
  collapseProjections,
  extractTimeFilters,
  foldConstants,
  foldScalar,
  inlineLets,
  optimize,
  pruneColumns,
  pushDownFilters,
} from '../../src/plan/passes/index.js';
import { printPlan, printScalar } from '../../src/plan/print.js';
import { NOW_TICKS, planOf, relations, relOf, tableColumns, ticks } from './support.js';

const print = (rel: Rel | QueryPlan) => printPlan(rel, { tableColumns });
const kinds = (rel: Rel) => relations(rel).map((r) => r.kind);
const scans = (rel: Rel) => relations(rel).filter((r): r is ScanRel => r.kind === 'scan');
const NOW = NOW_TICKS;
const H = 36_000_000_000n;
const D = 24n * H;

function lit(type: 'long' | 'datetime' | 'timespan' | 'string' | 'real' | 'int', value: string | number): ScalarExpr {
  return { kind: 'lit', type, value };
}
function op(name: string, type: ScalarExpr['type'], ...args: ScalarExpr[]): ScalarExpr {
  return { kind: 'op', op: name, args, type } as ScalarExpr;
}
function call(fn: string, type: ScalarExpr['type'], ...args: ScalarExpr[]): ScalarExpr {
  return { kind: 'call', fn, args, type } as ScalarExpr;
}

describe('constant folding', () => {
  it('folds ago() and now() arithmetic to datetime literals', () => {
    const rel = foldConstants(relOf('T | where d > ago(2h) and d <= now() - 1d'));
    expect(print(rel)).toContain(`(GreaterThan d datetime(2025-12-31T22:00:00.0000000Z))`);
    expect(print(rel)).toContain(`(LessThanOrEqual d datetime(2025-12-31T00:00:00.0000000Z))`);
    expect(print(rel)).not.toContain('Subtract');
  });

  it('folds datetime ± timespan, timespan arithmetic and long arithmetic', () => {
    const dt = lit('datetime', ticks('2025-01-01T00:00:00Z'));
    expect(foldScalar(op('Add', 'datetime', dt, lit('timespan', (7n * D).toString())))).toEqual(
      lit('datetime', ticks('2025-01-08T00:00:00Z')),
    );
    expect(foldScalar(op('Subtract', 'timespan', dt, lit('datetime', ticks('2024-12-31T00:00:00Z'))))).toEqual(
      lit('timespan', D.toString()),
    );
    expect(foldScalar(op('Multiply', 'timespan', lit('timespan', H.toString()), lit('long', '3')))).toEqual(
      lit('timespan', (3n * H).toString()),
    );
    expect(foldScalar(op('Add', 'long', lit('long', '40'), lit('long', '2')))).toEqual(lit('long', '42'));
    expect(foldScalar(op('UnaryMinus', 'long', lit('long', '5')))).toEqual(lit('long', '-5'));
    expect(foldScalar(op('Multiply', 'real', lit('real', 1.5), lit('real', 2)))).toEqual(lit('real', 3));
  });

  it('leaves overflow, out-of-range datetimes, int results and nulls to the engine', () => {
    const big = op('Add', 'long', lit('long', '9223372036854775807'), lit('long', '1'));
    expect(foldScalar(big)).toEqual(big);
    const late = op(
      'Add',
      'datetime',
      lit('datetime', ticks('9999-12-31T00:00:00Z')),
      lit('timespan', (2n * D).toString()),
    );
    expect(foldScalar(late)).toEqual(late);
    const ints = op('Add', 'int', lit('int', 1), lit('int', 2));
    expect(foldScalar(ints)).toEqual(ints);
    const withNull = op('Add', 'long', { kind: 'lit', type: 'long', value: null }, lit('long', '1'));
    expect(foldScalar(withNull)).toEqual(withNull);
    const div = op('Divide', 'long', lit('long', '7'), lit('long', '2'));
    expect(foldScalar(div)).toEqual(div);
  });

  it('folds bin() of constants, rounding down, only where every engine agrees', () => {
    const t = lit('datetime', ticks('2025-03-04T05:06:07Z'));
    expect(foldScalar(call('bin', 'datetime', t, lit('timespan', H.toString())))).toEqual(
      lit('datetime', ticks('2025-03-04T05:00:00Z')),
    );
    // Before 1970: still rounds down.
    const old = lit('datetime', ticks('1969-12-31T23:30:00Z'));
    expect(foldScalar(call('bin', 'datetime', old, lit('timespan', H.toString())))).toEqual(
      lit('datetime', ticks('1969-12-31T23:00:00Z')),
    );
    expect(foldScalar(call('bin', 'long', lit('long', '-7'), lit('long', '5')))).toEqual(lit('long', '-10'));
    expect(foldScalar(call('floor', 'long', lit('long', '17'), lit('long', '5')))).toEqual(lit('long', '15'));
    // A week bin depends on the engine's epoch (1970 vs 0001): not folded. Nor a zero or negative size.
    const week = call('bin', 'datetime', t, lit('timespan', (7n * D).toString()));
    expect(foldScalar(week)).toEqual(week);
    const zero = call('bin', 'long', lit('long', '7'), lit('long', '0'));
    expect(foldScalar(zero)).toEqual(zero);
    const realBin = call('bin', 'real', lit('real', 7.5), lit('real', 2));
    expect(foldScalar(realBin)).toEqual(realBin);
  });

  it('concatenates string literals, and nothing else', () => {
    expect(foldScalar(call('strcat', 'string', lit('string', 'a'), lit('string', 'b')))).toEqual(lit('string', 'ab'));
    const withCol = call('strcat', 'string', lit('string', 'a'), { kind: 'col', name: 'b', type: 'string' });
    expect(foldScalar(withCol)).toEqual(withCol);
    const withLong = call('strcat', 'string', lit('string', 'a'), lit('long', '1'));
    expect(foldScalar(withLong)).toEqual(withLong);
  });

  it('leaves non-deterministic and unknown functions alone', () => {
    const rand = call('rand', 'real');
    expect(foldScalar(rand)).toEqual(rand);
    const guid = call('new_guid', 'guid');
    expect(foldScalar(guid)).toEqual(guid);
    const upper = call('toupper', 'string', lit('string', 'a'));
    expect(foldScalar(upper)).toEqual(upper);
  });

  it('simplifies boolean identities and drops filters on true', () => {
    const rel = foldConstants(relOf('T | where true and a > 1 | where 1 == 1'));
    expect(kinds(rel)).toEqual(['filter', 'scan']);
    expect(print(rel)).toContain('(filter (GreaterThan a 1)');
    const f = foldConstants(relOf('T | where a > 1 or true'));
    expect(kinds(f)).toEqual(['scan']);
    const no = foldConstants(relOf('T | where a > 1 and false'));
    expect(print(no)).toContain('(filter false');
  });

  it('folds inside nested relations (toscalar)', () => {
    const rel = foldConstants(relOf('T | where a > toscalar(U | where d > ago(1d) | count)'));
    expect(print(rel)).toContain('datetime(2025-12-31T00:00:00.0000000Z)');
  });
});

describe('predicate pushdown', () => {
  const pushed = (q: string) => pushDownFilters(foldConstants(relOf(q)));

  it('moves a filter through a rename and rewrites the column', () => {
    const rel = pushed('T | project-rename z = a | where z > 1');
    expect(kinds(rel)).toEqual(['project', 'filter', 'scan']);
    expect(print(rel)).toContain('(filter (GreaterThan a 1)');
  });

  it('keeps a filter on a computed column above its extend, but moves the other conjuncts', () => {
    const rel = pushed('T | extend n = a * 2 | where n > 4 and b == "x"');
    expect(kinds(rel)).toEqual(['filter', 'project', 'filter', 'scan']);
    expect(print(rel)).toMatch(/^\(filter \(GreaterThan n 4\)/);
    expect(print(rel)).toContain('(filter (Equal b "x")');
  });

  it('never moves through take or top', () => {
    expect(kinds(pushed('T | take 5 | where a > 1'))).toEqual(['filter', 'limit', 'scan']);
    expect(kinds(pushed('T | top 3 by a | where b == "x"'))).toEqual(['filter', 'limit', 'sort', 'scan']);
  });

  it('moves through sort and distinct, and merges adjacent filters', () => {
    expect(kinds(pushed('T | sort by a | where b == "x"'))).toEqual(['sort', 'filter', 'scan']);
    expect(kinds(pushed('T | distinct a, b | where a == 1'))).toEqual(['distinct', 'project', 'filter', 'scan']);
    expect(kinds(pushed('T | where a > 1 | where b == "x" | where c > 0'))).toEqual(['filter', 'scan']);
  });

  it('moves through summarize only conjuncts on plain group keys', () => {
    const rel = pushed('T | summarize n = count() by b, bucket = bin(a, 10) | where b == "x" and n > 1 and bucket > 0');
    expect(kinds(rel)).toEqual(['filter', 'aggregate', 'filter', 'scan']);
    expect(print(rel)).toMatch(/^\(filter \(And \(GreaterThan n 1\) \(GreaterThan bucket 0\)\)/);
    expect(print(rel)).toContain('(filter (Equal b "x")');
    // Without keys the one row exists even when nothing matches: nothing moves.
    expect(kinds(pushed('T | summarize n = count() | where n > 1'))).toEqual(['filter', 'aggregate', 'scan']);
  });

  it('moves into join sides only where the join kind keeps that side as it is', () => {
    const sideOf = (q: string) => {
      const rel = pushed(q);
      const join = relations(rel).find((r) => r.kind === 'join') as Rel & { kind: 'join' };
      return {
        top: rel.kind === 'filter' ? printScalar(rel.predicate) : null,
        left: join.left.kind === 'filter',
        right: join.right.kind === 'filter',
      };
    };
    const pred = '| where x == "y" and b == "z"';
    expect(sideOf(`T | join kind=inner (U) on a ${pred}`)).toEqual({ top: null, left: true, right: true });
    expect(sideOf(`T | join kind=leftouter (U) on a ${pred}`)).toEqual({
      top: '(Equal x "y")',
      left: true,
      right: false,
    });
    expect(sideOf(`T | join kind=rightouter (U) on a ${pred}`)).toEqual({
      top: '(Equal b "z")',
      left: false,
      right: true,
    });
    expect(sideOf(`T | join kind=fullouter (U) on a ${pred}`)).toEqual({
      top: '(And (Equal x "y") (Equal b "z"))',
      left: false,
      right: false,
    });
    // innerunique deduplicates the left side first: only the right side takes filters.
    expect(sideOf(`T | join (U) on a ${pred}`)).toEqual({ top: '(Equal b "z")', left: false, right: true });
    expect(sideOf('T | join kind=leftsemi (U) on a | where b == "z"')).toEqual({ top: null, left: true, right: false });
    expect(sideOf('T | join kind=rightanti (U) on a | where x == "z"')).toEqual({
      top: null,
      left: false,
      right: true,
    });
  });

  it('follows renamed right-side columns of a join (a1 is the right a)', () => {
    const rel = pushed('T | join kind=inner (U) on $left.b == $right.x | where a1 > 5');
    const join = relations(rel).find((r) => r.kind === 'join') as Rel & { kind: 'join' };
    expect(join.right.kind).toBe('filter');
    expect(print(join.right)).toContain('(GreaterThan a 5)');
  });

  it('moves into every union leg, turning withsource into the leg name', () => {
    const rel = pushed('union withsource=Source T, U | where a > 1 and Source == "T"');
    const union = relations(rel).find((r) => r.kind === 'union') as Rel & { kind: 'union' };
    expect(rel.kind).toBe('union');
    expect(print(union.inputs[0] as Rel)).toContain('(filter (GreaterThan a 1)');
    expect(print(union.inputs[1] as Rel)).toContain('(filter false');
  });

  it('keeps a union filter on a column some leg lacks', () => {
    const rel = pushed('union T, U | where x == "y" and a > 1');
    expect(rel.kind).toBe('filter');
    expect(printScalar((rel as Rel & { kind: 'filter' }).predicate)).toBe('(Equal x "y")');
  });

  it('does not move across row functions (in a projection or in the filter itself)', () => {
    expect(kinds(pushed('T | sort by a asc | extend r = row_number() | where b == "x"'))[0]).toBe('filter');
    const rel = pushed('T | sort by a asc | where prev(a) > 1 | where b == "x"');
    const filters = relations(rel).filter((r) => r.kind === 'filter');
    // `b == "x"` stays above the filter on prev(): it must see all rows.
    expect(print(filters[0] as Rel)).toMatch(/^\(filter \(Equal b "x"\)/);
  });

  it('moves through mv-expand only conjuncts on columns that are not expanded', () => {
    const rel = pushed('T | mv-expand f | where a > 1 and isnotnull(f)');
    expect(kinds(rel)).toEqual(['filter', 'mv-expand', 'filter', 'scan']);
    expect(print(rel)).toContain('(filter (GreaterThan a 1)');
  });

  it('reaches the scan through an inlined single-use let', () => {
    const rel = pushDownFilters(foldConstants(inlineLets(relOf('let X = T | project a, b; X | where b == "x"'))));
    expect(kinds(rel)).toEqual(['project', 'filter', 'scan']);
  });
});

describe('let inlining', () => {
  it('inlines a let used once, keeps one used twice and materialized ones', () => {
    expect(kinds(inlineLets(relOf('let X = T | where a > 1; X | count')))).toEqual(['aggregate', 'filter', 'scan']);
    expect(inlineLets(relOf('let X = T | where a > 1; X | union X')).kind).toBe('with');
    expect(inlineLets(relOf('let X = materialize(T | where a > 1); X | count')).kind).toBe('with');
  });
});

describe('time-filter extraction', () => {
  const timed = (q: string) => scans(optimize(planOf(q)).rel).map((s) => s.timeRanges ?? []);

  it('records a literal bound on a datetime column of the scanned table', () => {
    expect(timed('T | where d > ago(1h)')).toEqual([
      [{ column: 'd', lower: { ticks: (NOW - H).toString(), inclusive: false }, upper: null }],
    ]);
  });

  it('intersects bounds from several conjuncts and filters, either operand order, between', () => {
    const [ranges] = timed(
      'T | where d > datetime(2025-01-01) | where d < datetime(2025-02-01) and d >= datetime(2025-01-05) | where datetime(2025-01-20) > d',
    );
    expect(ranges).toEqual([
      {
        column: 'd',
        lower: { ticks: ticks('2025-01-05T00:00:00Z'), inclusive: true },
        upper: { ticks: ticks('2025-01-20T00:00:00Z'), inclusive: false },
      },
    ]);
    expect(timed('T | where d between (datetime(2025-12-01) .. 1d)')).toEqual([
      [
        {
          column: 'd',
          lower: { ticks: ticks('2025-12-01T00:00:00Z'), inclusive: true },
          upper: { ticks: ticks('2025-12-02T00:00:00Z'), inclusive: true },
        },
      ],
    ]);
    expect(timed('T | where d == datetime(2025-12-01)')[0]?.[0]).toMatchObject({
      lower: { inclusive: true },
      upper: { inclusive: true },
    });
  });

  it('at equal bounds keeps the exclusive one', () => {
    const [ranges] = timed('T | where d >= datetime(2025-01-01) and d > datetime(2025-01-01)');
    expect(ranges?.[0]?.lower).toEqual({ ticks: ticks('2025-01-01T00:00:00Z'), inclusive: false });
  });

  it('reaches the scan through projections and lets (after pushdown), one range per scan', () => {
    const q = `let Recent = T | project d, a; Recent | where d > ago(1d) | join kind=inner (U | where d > ago(2d)) on a`;
    const ranges = timed(q);
    expect(ranges).toHaveLength(2);
    expect(ranges.every((r) => r.length === 1)).toBe(true);
  });

  it('ignores non-literal bounds, negations, disjunctions, non-datetime columns and computed columns', () => {
    expect(timed('T | where d > d + 1h')).toEqual([[]]);
    expect(timed('T | where not(d > ago(1h))')).toEqual([[]]);
    expect(timed('T | where d > ago(1h) or a > 1')).toEqual([[]]);
    expect(timed('T | where e > 1h')).toEqual([[]]);
    expect(timed('T | extend d2 = d + 1h | where d2 > ago(1h)')).toEqual([[]]);
    expect(timed('T | where d !between (ago(2h) .. ago(1h))')).toEqual([[]]);
  });

  it('keeps the filter: the ranges are only a hint for the engine', () => {
    const rel = optimize(planOf('T | where d > ago(1h)')).rel;
    expect(rel.kind).toBe('filter');
    expect(extractTimeFilters(extractTimeFilters(rel))).toEqual(rel);
  });
});

describe('projection pruning', () => {
  const pruned = (q: string) => pruneColumns(relOf(q));

  it('reads only the needed columns of a wide table', () => {
    const rel = pruned('DeviceProcessEvents | where Timestamp > ago(1d) | summarize n = count() by DeviceName');
    expect(scans(rel)[0]?.columns.map((c) => c.name)).toEqual(['Timestamp', 'DeviceName']);
    expect(scans(pruned('DeviceProcessEvents | count'))[0]?.columns).toEqual([]);
  });

  it('drops unread extends and aggregates, keeps group keys', () => {
    const rel = pruned(
      'T | extend x = strlen(b), y = a * 2 | summarize n = count(), s = sum(y), m = max(x) by b | project b, n',
    );
    expect(print(rel)).not.toContain('strlen');
    expect(print(rel)).not.toContain('sum');
    expect(print(rel)).toContain(':by [b:string]');
    expect(scans(rel)[0]?.columns.map((c) => c.name)).toEqual(['b']);
  });

  it('keeps one aggregate of a summarize without keys, and every column under distinct', () => {
    const rel = pruned('T | summarize n = count(), s = sum(a) | project k = 1');
    expect(print(rel)).toContain(':agg [n:long = (count)]');
    expect(scans(pruned('T | distinct a, b | project a'))[0]?.columns.map((c) => c.name)).toEqual(['a', 'b']);
  });

  it('prunes join outputs and sides, keeping the keys', () => {
    const rel = pruned('T | join kind=inner (U) on a | project b, x');
    const join = relations(rel).find((r) => r.kind === 'join') as Rel & { kind: 'join' };
    expect(join.output).toEqual([
      { side: 'left', name: 'b' },
      { side: 'right', name: 'x' },
    ]);
    expect(join.left.columns.map((c) => c.name)).toEqual(['a', 'b']);
    expect(join.right.columns.map((c) => c.name)).toEqual(['a', 'x']);
  });

  it('prunes union legs through the mapping, and drops an unread withsource column', () => {
    const rel = pruned('union withsource=S T, U | project a');
    const union = relations(rel).find((r) => r.kind === 'union') as Rel & { kind: 'union' };
    expect(union.columns.map((c) => c.name)).toEqual(['a']);
    expect(union.sourceValues).toBeNull();
    expect(union.inputs.map((i) => i.columns.map((c) => c.name))).toEqual([['a'], ['a']]);
  });

  it('gives a shared let the union of what its references read', () => {
    const rel = pruned('let X = T | where a > 1; X | project b | union (X | project c)');
    expect(rel.kind).toBe('with');
    const binding = (rel as Rel & { kind: 'with' }).bindings[0];
    expect(binding?.rel.columns.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    const refs = relations(rel).filter((r) => r.kind === 'ref');
    expect(refs.every((r) => r.columns.map((c) => c.name).join() === 'a,b,c')).toBe(true);
  });

  it('prunes a toscalar() relation to its first column', () => {
    const rel = pruned('T | where a > toscalar(U | project a, x, d)');
    const filter = rel as Rel & { kind: 'filter' };
    const sub = (filter.predicate as ScalarExpr & { kind: 'op' }).args[1] as ScalarExpr & { kind: 'subquery' };
    expect(sub.rel.columns.map((c) => c.name)).toEqual(['a']);
  });

  it('keeps mv-expand items and the columns they read', () => {
    const rel = pruned('T | mv-expand f | project f');
    expect(scans(rel)[0]?.columns.map((c) => c.name)).toEqual(['f']);
  });
});

describe('projection collapsing', () => {
  const collapsed = (q: string) => collapseProjections(pruneColumns(relOf(q)));

  it('removes an identity projection and folds plain columns into the scan, in the projection order', () => {
    const rel = collapsed('T | where a > 1 | project d, a, b');
    expect(kinds(rel)).toEqual(['filter', 'scan']);
    expect(rel.columns.map((c) => c.name)).toEqual(['d', 'a', 'b']);
    expect(kinds(collapsed('T | project a, b, c, d, e, f'))).toEqual(['scan']);
  });

  it('keeps renames, computed columns, and projections over other relations', () => {
    expect(kinds(collapsed('T | project z = a, b'))).toEqual(['project', 'scan']);
    expect(kinds(collapsed('T | project a, n = a + 1'))).toEqual(['project', 'scan']);
    expect(kinds(collapsed('T | summarize n = count() by b | project n'))).toEqual(['project', 'aggregate', 'scan']);
    // The filter reads a column the projection drops: the scan cannot take the projection's column list.
    expect(kinds(collapsed('T | where c > 1 | project a, b'))).toEqual(['project', 'filter', 'scan']);
  });

  it('drops projections that only drop or reorder columns below joins, summarize, unions and projections', () => {
    const join = collapsed('T | where c > 1 | project a, b | join kind=inner (U | project x, a) on a');
    expect(kinds(join)).toEqual(['join', 'filter', 'scan', 'scan']);
    const agg = collapsed('T | where c > 1 | project b, a | summarize sum(a) by b');
    expect(kinds(agg)).toEqual(['aggregate', 'filter', 'scan']);
    const union = collapsed('union (T | where c > 1 | project a), (U | project a)');
    expect(kinds(union)).toEqual(['union', 'filter', 'scan', 'scan']);
  });
});

describe('the pipeline', () => {
  const inputs = readdirSync(new URL('golden/', import.meta.url))
    .filter((f) => f.endsWith('.kql'))
    .map((f) => readFileSync(new URL(`golden/${f}`, import.meta.url), 'utf8'));

  it('never changes the result columns (names, types, order) of the golden queries', () => {
    for (const q of inputs) {
      const plan = planOf(q);
      expect(optimize(plan).rel.columns, q).toEqual(plan.rel.columns);
    }
  });

  it('is idempotent', () => {
    for (const q of inputs) {
      const once = optimize(planOf(q));
      expect(print(optimize(once)), q).toEqual(print(once));
    }
  });

  it('leaves the input plan untouched (passes are pure)', () => {
    for (const q of inputs) {
      const plan = planOf(q);
      const before = JSON.stringify(plan);
      optimize(plan);
      expect(JSON.stringify(plan)).toBe(before);
    }
  });
});
