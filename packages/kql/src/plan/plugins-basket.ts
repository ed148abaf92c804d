/**
 * `evaluate basket([Threshold, WeightColumn, MaxDimensions, CustomWildcard, ...])` as grouped aggregates.
 *
 * Kusto documents basket as Apriori: patterns (a value for some columns, a wildcard for the others) whose share of
 * the rows (or of the weight) is at least Threshold. Which patterns it returns and in what order is only shown by
 * the documented StormEvents example; Vigil follows it exactly:
 * - the patterns are the *closed* frequent itemsets: a pattern is dropped when a column outside it has one value on
 *   all of its rows (the pattern with that value too is returned instead, with the same count). In the example
 *   `Damage == "NO"` implies `DamageCrops == 0`, so only {NO, 0} is returned, not {NO}; {Hail, 0} and {Hail} are
 *   both returned (different counts). The empty pattern is never returned.
 * - MaxDimensions bounds the columns of the pattern a closed set is generated from; the closure may add columns
 *   that always go with it (the docs' "uncorrelated dimensions").
 * - SegmentId follows Count × (number of non-wildcard columns), descending: the example's eight rows are in exactly
 *   that order (9148, 6834, 5675, 4742, 2558, 2468, 1310, 1291). Ties (not documented) go by Count, then by the
 *   column values, so the order is deterministic.
 * - Null values (and empty strings) are not items: they are what the default wildcards look like.
 * - Kusto samples to find the initial frequent values ("results could slightly differ ... close to the threshold");
 *   Vigil counts exactly.
 *
 * Plan: the input is named once; values below the threshold are blanked first (Apriori's first pass) and equal rows
 * counted together; each such tuple is repeated once per set of at most MaxDimensions columns (a join with literal
 * rows of flags) with the columns outside the set blanked, and kept where the set's columns all have values; one
 * aggregate by the blanked columns counts every pattern and reads, for every column, whether it is constant on the
 * pattern's rows (min = max and no missing value): those columns close the pattern. Groups at or above the threshold
 * are made distinct (a closed set reached from several generators is one row), sorted and numbered.
 * One aggregate rather than one per set keeps the SQL small (a union of 62 aggregates for 6 columns took seconds to
 * plan, on ClickHouse more, as it inlines the shared input into every leg).
 */
import type { ColumnType } from '../binder/types.js';
import type { Expr, QueryOperator } from '../syntax/nodes.js';
import type { NamedScalar, PlanColumn, Rel, ScalarExpr } from './nodes.js';
import { all, call, colRef, emptyOf, isTilde, longLit, op, type PluginHost, realLit } from './plugins-common.js';

/** Column sets enumerated (the sum of C(columns, i) for i ≤ MaxDimensions): each input row is repeated per set. */
const MAX_SETS = 256;
const DEFAULT_THRESHOLD = 0.05;
const DEFAULT_MAX_DIMENSIONS = 5;

export function lowerBasket(host: PluginHost, evaluate: QueryOperator & { kind: 'Evaluate' }, src: Rel): Rel {
  const args = evaluate.call.args;
  const named = args.find((a) => a.kind === 'NamedArg');
  if (named) return host.unsupported(named, 'A named argument of basket');
  const [thresholdArg, weightArg, maxArg, ...wildcardArgs] = args;
  const none = { input: null };
  const visible = src.columns.filter((c) => !c.name.startsWith('\u0000'));
  const out = host.tableColumns(evaluate);
  if (out.length !== visible.length + 3 || visible.some((c, i) => out[i + 3]?.name !== c.name)) {
    return host.unsupported(evaluate.call, 'This use of basket');
  }
  const [segmentOut, countOut, percentOut] = out as [PlanColumn, PlanColumn, PlanColumn];

  const threshold = isTilde(thresholdArg) ? realLit(DEFAULT_THRESHOLD) : host.scalar(thresholdArg as Expr, none);
  let weight: PlanColumn | null = null;
  if (!isTilde(weightArg)) {
    const w = weightArg as Expr;
    weight = w.kind === 'Name' ? (visible.find((c) => c.name === w.name) ?? null) : null;
    if (!weight || !['int', 'long', 'real', 'decimal'].includes(weight.type)) {
      return host.unsupported(w, "basket's weight other than a numeric column");
    }
  }
  let maxDims = DEFAULT_MAX_DIMENSIONS;
  if (!isTilde(maxArg)) {
    const m = maxArg as Expr;
    const v =
      m.kind === 'Literal' && (typeof m.value === 'bigint' || typeof m.value === 'number') ? Number(m.value) : NaN;
    if (!Number.isInteger(v) || v < 1)
      return host.unsupported(m, "basket's MaxDimensions other than a positive integer literal");
    maxDims = v;
  }
  const wildcards = new Map<ColumnType, ScalarExpr>();
  for (const a of wildcardArgs) {
    if (isTilde(a)) continue;
    const t = host.info(a)?.type;
    if (t?.kind !== 'scalar') return host.unsupported(a, 'This basket wildcard');
    wildcards.set(t.name, host.scalar(a, none));
  }
  const wildcardOf = (type: ColumnType): ScalarExpr => wildcards.get(type) ?? emptyOf(type);

  const items = visible.filter((c) => c !== weight);
  const odd = items.find((c) => c.type === 'dynamic' || c.type === 'unknown');
  if (odd) return host.unsupported(evaluate.call, `basket over the dynamic column '${odd.name}'`);
  if (items.length === 0) return host.unsupported(evaluate.call, 'basket without columns besides the weight');
  const subsets = columnSets(items.length, Math.min(maxDims, items.length));
  if (subsets === null) {
    return host.unsupported(
      evaluate.call,
      `basket over ${items.length} columns with MaxDimensions ${maxDims} (more than ${MAX_SETS} column sets; project fewer columns)`,
    );
  }

  const input = host.bind(src);
  const isItem = (c: PlanColumn): ScalarExpr =>
    c.type === 'string' ? call('isnotempty', [colRef(c)], 'bool') : call('isnotnull', [colRef(c)], 'bool');
  const weightType: ColumnType = weight ? weight.type : 'long';
  const sumOf = (name: string): NamedScalar => ({
    name,
    expr: weight
      ? { kind: 'agg', fn: 'sum', args: [colRef(weight)], type: weight.type }
      : { kind: 'agg', fn: 'count', args: [], type: 'long' },
  });
  const totalCol: PlanColumn = { name: host.hiddenName('total'), type: weightType };
  const totalRel = host.bind({
    kind: 'aggregate',
    input,
    keys: [],
    aggregates: [sumOf(totalCol.name)],
    columns: [totalCol],
  });
  const total: ScalarExpr = { kind: 'subquery', rel: totalRel, type: weightType };
  const atThreshold = (count: PlanColumn): ScalarExpr =>
    op('GreaterThanOrEqual', [colRef(count), op('Multiply', [threshold, total], 'real')]);

  // Apriori's first pass: a value rarer than the threshold is in no frequent pattern, so it is blanked before the
  // rows are repeated per column set (fewer rows to count; the closures are unchanged: a column constant on a
  // frequent pattern's rows has a frequent value, and a blank is never constant).
  const pruned = items.map((c): PlanColumn => ({ name: host.hiddenName('item'), type: c.type }));
  const frequentValues = (c: PlanColumn): Rel => {
    const key: PlanColumn = { name: host.hiddenName('value'), type: c.type };
    const n: PlanColumn = { name: host.hiddenName('count'), type: weightType };
    const counted: Rel = {
      kind: 'aggregate',
      input: { kind: 'filter', input, predicate: isItem(c), columns: input.columns },
      keys: [{ name: key.name, expr: colRef(c) }],
      aggregates: [sumOf(n.name)],
      columns: [key, n],
    };
    const kept: Rel = { kind: 'filter', input: counted, predicate: atThreshold(n), columns: counted.columns };
    return { kind: 'project', input: kept, exprs: [colRef(key)], columns: [key] };
  };
  const prepared: Rel = {
    kind: 'project',
    input,
    exprs: [
      ...items.map(
        (c): ScalarExpr =>
          call(
            'iff',
            [
              { kind: 'in-rel', op: 'In', value: colRef(c), rel: frequentValues(c), type: 'bool' },
              colRef(c),
              emptyOf(c.type),
            ],
            c.type,
          ),
      ),
      ...(weight ? [colRef(weight)] : []),
    ],
    columns: [...pruned, ...(weight ? [weight] : [])],
  };

  // Rows with the same (blanked) values count together: the patterns are counted over these tuples, far fewer
  // than the rows once the rare values are blanked.
  const wCol: PlanColumn = { name: host.hiddenName('w'), type: weightType };
  const rCol: PlanColumn = weight ? { name: host.hiddenName('r'), type: 'long' } : wCol;
  const tuples: Rel = {
    kind: 'aggregate',
    input: prepared,
    keys: pruned.map((c) => ({ name: c.name, expr: colRef(c) })),
    aggregates: [
      sumOf(wCol.name),
      ...(weight
        ? [{ name: rCol.name, expr: { kind: 'agg', fn: 'count', args: [], type: 'long' } as ScalarExpr }]
        : []),
    ],
    columns: [...pruned, wCol, ...(weight ? [rCol] : [])],
  };

  // Each row once per column set (a literal row of flags, one per item column): the columns outside the set are
  // blanked, and a row counts for a set only where every column of the set has a value. One aggregate by the blanked
  // columns then counts every pattern of every set in one pass (a blank is never an item, so the blanked values
  // tell the sets apart).
  const inSet = items.map((): PlanColumn => ({ name: host.hiddenName('in'), type: 'bool' }));
  const sets: Rel = {
    kind: 'values',
    rows: subsets.map((set) =>
      items.map((_, i): ScalarExpr => ({ kind: 'lit', type: 'bool', value: set.includes(i) })),
    ),
    columns: inSet,
  };
  const carried = tuples.columns;
  const perSet: Rel = {
    kind: 'join',
    joinKind: 'inner',
    left: tuples,
    right: sets,
    on: [],
    where: null,
    output: [
      ...carried.map((c) => ({ side: 'left' as const, name: c.name })),
      ...inSet.map((c) => ({ side: 'right' as const, name: c.name })),
    ],
    columns: [...carried, ...inSet],
  };
  const inSetOf = (i: number) => colRef(inSet[i] as PlanColumn);
  const itemRows: Rel = {
    kind: 'filter',
    input: perSet,
    predicate: all(pruned.map((c, i) => op('Or', [call('not', [inSetOf(i)], 'bool'), isItem(c)]))),
    columns: perSet.columns,
  };
  const cntCol: PlanColumn = { name: host.hiddenName('count'), type: weightType };
  // rows of the group (the count itself unless rows are weighted): a constant column has a value on each
  const rowsCol: PlanColumn = weight ? { name: host.hiddenName('rows'), type: 'long' } : cntCol;
  const keys: NamedScalar[] = pruned.map((c, i) => ({
    name: host.hiddenName('k'),
    expr: call('iff', [inSetOf(i), colRef(c), emptyOf(c.type)], c.type),
  }));
  const sum = (c: PlanColumn): ScalarExpr => ({ kind: 'agg', fn: 'sum', args: [colRef(c)], type: c.type });
  const aggs: NamedScalar[] = [{ name: cntCol.name, expr: sum(wCol) }];
  if (weight) aggs.push({ name: rowsCol.name, expr: sum(rCol) });
  const stats = pruned.map((c) => {
    const o = {
      min: { name: host.hiddenName('min'), type: c.type },
      max: { name: host.hiddenName('max'), type: c.type },
      present: { name: host.hiddenName('n'), type: 'long' as const },
      constant: { name: host.hiddenName('const'), type: 'bool' as const },
    };
    aggs.push(
      { name: o.min.name, expr: { kind: 'agg', fn: 'min', args: [colRef(c)], type: c.type } },
      { name: o.max.name, expr: { kind: 'agg', fn: 'max', args: [colRef(c)], type: c.type } },
      {
        name: o.present.name,
        expr: {
          kind: 'agg',
          fn: 'sum',
          args: [call('iff', [isItem(c), colRef(rCol), longLit(0)], 'long')],
          type: 'long',
        },
      },
    );
    return o;
  });
  const grouped: Rel = {
    kind: 'aggregate',
    input: itemRows,
    keys,
    aggregates: aggs,
    columns: [...keys, ...aggs].map((n) => ({ name: n.name, type: n.expr.type })),
  };
  const frequent: Rel = {
    kind: 'filter',
    input: grouped,
    predicate: atThreshold(cntCol),
    columns: grouped.columns,
  };
  // The closure: every column constant on the pattern's rows (min = max, a value on each row; the set's own columns
  // are) takes that value, the others the wildcard. Flags computed once, read by the values and the size.
  const flagged: Rel = {
    kind: 'project',
    input: frequent,
    exprs: [
      colRef(cntCol),
      ...stats.flatMap((o) => [
        colRef(o.min),
        op('And', [op('Equal', [colRef(o.present), colRef(rowsCol)]), op('Equal', [colRef(o.min), colRef(o.max)])]),
      ]),
    ],
    columns: [cntCol, ...stats.flatMap((o) => [o.min, o.constant])],
  };
  // the size only orders the patterns: real arithmetic (no long overflow rules in the SQL)
  const size = stats
    .map((o) => call('iff', [colRef(o.constant), realLit(1), realLit(0)], 'real'))
    .reduce((a, b) => op('Add', [a, b], 'real'));
  const valueCols = visible.map((c): PlanColumn => ({ name: host.hiddenName('v'), type: c.type }));
  const sizeCol: PlanColumn = { name: host.hiddenName('size'), type: 'real' };
  const patternCols = [cntCol, ...valueCols, sizeCol];
  const values = visible.map((c): ScalarExpr => {
    const o = stats[items.indexOf(c)];
    if (!o) return wildcardOf(c.type); // the weight column
    return call('iff', [colRef(o.constant), colRef(o.min), wildcardOf(c.type)], c.type);
  });
  const closed: Rel = {
    kind: 'project',
    input: flagged,
    exprs: [colRef(cntCol), ...values, size],
    columns: patternCols,
  };
  const patterns: Rel = { kind: 'distinct', input: closed, columns: patternCols };
  const sorted: Rel = {
    kind: 'sort',
    input: patterns,
    keys: [
      { expr: op('Multiply', [colRef(cntCol), colRef(sizeCol)], 'real'), descending: true, nullsFirst: false },
      { expr: colRef(cntCol), descending: true, nullsFirst: false },
      ...valueCols.map((c) => ({ expr: colRef(c), descending: false, nullsFirst: true })),
    ],
    columns: patternCols,
  };
  const rn: PlanColumn = { name: host.hiddenName('segment'), type: 'long' };
  const numbered: Rel = {
    kind: 'window',
    input: sorted,
    exprs: [...patternCols.map((c) => colRef(c)), { kind: 'win', fn: 'row_number', args: [], type: 'long' }],
    columns: [...patternCols, rn],
  };
  const count = colRef(cntCol);
  return {
    kind: 'project',
    input: numbered,
    exprs: [
      op('Subtract', [colRef(rn), longLit(1)], 'long'),
      weightType === 'long' ? count : call('tolong', [count], 'long'),
      op('Divide', [op('Multiply', [realLit(100), count], 'real'), total], 'real'),
      ...valueCols.map((c) => colRef(c)),
    ],
    columns: [
      { name: segmentOut.name, type: 'long' },
      { name: countOut.name, type: 'long' },
      { name: percentOut.name, type: 'real' },
      ...out.slice(3),
    ],
  };
}

/** The index sets of 1..max of n columns, by size then lexicographically; null past MAX_SETS. */
function columnSets(n: number, max: number): number[][] | null {
  const sets: number[][] = [];
  const extend = (prefix: number[], from: number, size: number): boolean => {
    if (prefix.length === size) {
      sets.push(prefix);
      return sets.length <= MAX_SETS;
    }
    for (let i = from; i < n; i++) if (!extend([...prefix, i], i + 1, size)) return false;
    return true;
  };
  for (let size = 1; size <= max; size++) if (!extend([], 0, size)) return null;
  return sets;
}
