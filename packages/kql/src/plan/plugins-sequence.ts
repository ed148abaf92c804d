/**
 * `evaluate sequence_detect(Timeline, MaxStepWindow, MaxSpan, Expr1, Expr2, ..., Dim1, Dim2, ...)` as joins.
 *
 * Kusto documents a result row as "a single sequence occurrence": dimension values, the time of each step and the
 * overall Duration. The matching rule itself is not documented; Vigil reads an occurrence as one input row per step,
 * all with the same dimension values, where row k satisfies Expr_k, each step happens no earlier than the previous
 * one (a different row) and at most MaxStepWindow after it, and the last step at most MaxSpan after the first.
 * Every such combination is an occurrence — the documented StormEvents example pairs one heat event with two later
 * wildfires and one wildfire with two earlier heat events — and identical rows are returned once (the docs show none
 * although StormEvents repeats event times across zones). Rows are sorted by the step times, as in the example.
 *
 * Plan: the rows matching any step, numbered (to tell rows apart) and named once; a chain of inner joins on the
 * dimensions (null dimensions match each other, as in every Kusto join) with the window conditions; distinct. With a
 * constant step window the joins are also keyed by time buckets of that width (same bucket or the next, two legs):
 * a dimension value with many rows then costs pairs of nearby rows only (30,000 rows of one IP: 2 s → 0.1-0.2 s on
 * DuckDB; over the 120 s limit → 0.5-0.8 s on chdb).
 */
import type { Expr, QueryOperator } from '../syntax/nodes.js';
import type { PlanColumn, Rel, ScalarExpr, SortKey } from './nodes.js';
import { all, call, colRef, op, type PluginHost } from './plugins-common.js';

export function lowerSequenceDetect(host: PluginHost, evaluate: QueryOperator & { kind: 'Evaluate' }, src: Rel): Rel {
  const args = evaluate.call.args;
  const [timeArg, stepArg, spanArg, ...rest] = args;
  if (!timeArg || !stepArg || !spanArg || rest.length === 0) {
    return host.unsupported(evaluate.call, 'sequence_detect without a timeline, two windows and a step');
  }
  const value = (a: Expr): Expr => (a.kind === 'NamedArg' ? a.value : a);
  const typeName = (a: Expr) => {
    const t = host.info(value(a))?.type;
    return t?.kind === 'scalar' ? t.name : 'unknown';
  };
  // The binder's layout: the boolean arguments after the windows are steps, the rest dimensions.
  let nSteps = 0;
  while (nSteps < rest.length && typeName(rest[nSteps] as Expr) === 'bool') nSteps++;
  const stepArgs = rest.slice(0, nSteps);
  const dimArgs = rest.slice(nSteps);
  const out = host.tableColumns(evaluate);
  if (nSteps === 0 || out.length !== dimArgs.length + nSteps + 1) {
    return host.unsupported(evaluate.call, 'This use of sequence_detect');
  }
  if (typeName(timeArg) !== 'datetime') {
    return host.unsupported(timeArg, 'sequence_detect over a timeline that is not a datetime');
  }
  for (const a of [stepArg, spanArg]) {
    if (typeName(a) !== 'timespan') return host.unsupported(a, 'A sequence_detect window that is not a timespan');
  }
  const frame = { input: src.columns };
  const none = { input: null };
  const step = host.scalar(stepArg, none);
  const span = host.scalar(spanArg, none);
  const time = host.scalar(timeArg, frame);
  const dims = dimArgs.map((a) => host.scalar(value(a), frame));
  const preds = stepArgs.map((a) => host.scalar(value(a), frame));
  const dimOut = out.slice(0, dimArgs.length);
  const stepOut = out.slice(dimArgs.length, dimArgs.length + nSteps);
  const durationOut = out[out.length - 1] as PlanColumn;

  // The rows that can be a step: timeline, dimensions, one flag per step, a row number.
  const tCol: PlanColumn = { name: host.hiddenName('t'), type: 'datetime' };
  const dimCols = dimOut.map((c): PlanColumn => ({ name: host.hiddenName('dim'), type: c.type }));
  const flagCols = preds.map((): PlanColumn => ({ name: host.hiddenName('step'), type: 'bool' }));
  // With a positive constant step window, pairs of consecutive steps are joined on time buckets of that width too
  // (the next step is in the previous step's bucket or the one after): an equi-join whose pairs stay few even when
  // one dimension value has many rows, instead of every pair of that value's rows checked against the window.
  const known = host.info(stepArg)?.constant?.value; // a literal or a constant `let`, in ticks
  const bucketed = typeof known === 'bigint' && known > 0n;
  const bucketCol: PlanColumn = { name: host.hiddenName('bucket'), type: 'datetime' };
  const bucketOf = (t: ScalarExpr) => call('bin', [t, step], 'datetime');
  const projected: Rel = {
    kind: 'project',
    input: src,
    exprs: [time, ...dims, ...preds, ...(bucketed ? [bucketOf(time)] : [])],
    columns: [tCol, ...dimCols, ...flagCols, ...(bucketed ? [bucketCol] : [])],
  };
  const candidates: Rel = {
    kind: 'filter',
    input: projected,
    predicate: all([
      call('isnotnull', [colRef(tCol)], 'bool'),
      flagCols.map((c) => colRef(c)).reduce((a, b) => op('Or', [a, b])),
    ]),
    columns: projected.columns,
  };
  const ridCol: PlanColumn = { name: host.hiddenName('row'), type: 'long' };
  const numbered = host.bind({
    kind: 'window',
    input: candidates,
    exprs: [...candidates.columns.map((c) => colRef(c)), { kind: 'win', fn: 'row_number', args: [], type: 'long' }],
    columns: [...candidates.columns, ridCol],
  });
  const stepRows = (k: number): Rel => ({
    kind: 'filter',
    input: numbered,
    predicate: colRef(flagCols[k] as PlanColumn),
    columns: numbered.columns,
  });

  // The chain: [dims, t1..tk, row of step k].
  const times: PlanColumn[] = [{ name: host.hiddenName('t'), type: 'datetime' }];
  let rowCol: PlanColumn = { name: host.hiddenName('row'), type: 'long' };
  let chain: Rel = {
    kind: 'project',
    input: stepRows(0),
    exprs: [...dimCols.map((c) => colRef(c)), colRef(tCol), colRef(ridCol)],
    columns: [...dimCols, times[0] as PlanColumn, rowCol],
  };
  for (let k = 1; k < nSteps; k++) {
    const prev = times[k - 1] as PlanColumn;
    const first = times[0] as PlanColumn;
    const t = colRef(tCol, 'right');
    const next: PlanColumn = { name: host.hiddenName('t'), type: 'datetime' };
    const nextRow: PlanColumn = { name: host.hiddenName('row'), type: 'long' };
    const columns = [...dimCols, ...times, next, nextRow];
    const leg = (left: Rel, shift: boolean): Rel => {
      const bucket = bucketOf(colRef(prev, 'left'));
      return {
        kind: 'join',
        joinKind: 'inner',
        left,
        right: stepRows(k),
        on: [
          ...dimCols.map((c) => ({ left: colRef(c, 'left'), right: colRef(c, 'right') })),
          ...(bucketed
            ? [{ left: shift ? op('Add', [bucket, step], 'datetime') : bucket, right: colRef(bucketCol, 'right') }]
            : []),
        ],
        where: all([
          op('GreaterThanOrEqual', [t, colRef(prev, 'left')]),
          op('LessThanOrEqual', [t, op('Add', [colRef(prev, 'left'), step], 'datetime')]),
          op('LessThanOrEqual', [t, op('Add', [colRef(first, 'left'), span], 'datetime')]),
          // row numbers are never null: `<` or `>` is plain inequality without Kusto's null rules for `!=`
          op('Or', [
            op('LessThan', [colRef(ridCol, 'right'), colRef(rowCol, 'left')]),
            op('GreaterThan', [colRef(ridCol, 'right'), colRef(rowCol, 'left')]),
          ]),
        ]),
        output: [
          ...dimCols.map((c) => ({ side: 'left' as const, name: c.name })),
          ...times.map((c) => ({ side: 'left' as const, name: c.name })),
          { side: 'right', name: tCol.name },
          { side: 'right', name: ridCol.name },
        ],
        columns,
      };
    };
    if (bucketed) {
      // same bucket, or the next one: disjoint, so the union has no duplicates
      const left = host.bind(chain);
      const legs = [leg(left, false), leg(left, true)];
      chain = {
        kind: 'union',
        inputs: legs,
        mapping: legs.map(() => columns.map((c) => c.name)),
        sourceValues: null,
        columns,
      };
    } else {
      chain = leg(chain, false);
    }
    times.push(next);
    rowCol = nextRow;
  }

  const last = times[times.length - 1] as PlanColumn;
  const result: Rel = {
    kind: 'distinct',
    input: {
      kind: 'project',
      input: chain,
      exprs: [
        ...dimCols.map((c) => colRef(c)),
        ...times.map((c) => colRef(c)),
        op('Subtract', [colRef(last), colRef(times[0] as PlanColumn)], 'timespan'),
      ],
      columns: out,
    },
    columns: out,
  };
  const keys: SortKey[] = [...stepOut, ...dimOut, durationOut].map((c) => ({
    expr: colRef(c) as ScalarExpr,
    descending: false,
    nullsFirst: true,
  }));
  return { kind: 'sort', input: result, keys, columns: out };
}
