/**
 * Hand-written calls the generated ones do not reach (summarize `by` clauses, named plugin arguments, plugins
 * whose output depends on their arguments), resolved and compared live with Microsoft's analyzer.
 */
import { describe, expect, it } from 'vitest';
import type { Column, ScalarTypeName, Type } from '../../src/binder/types.js';
import type { ArgInfo, CallContext } from '../../src/catalog/resolve.js';
import { aggregateResultColumns, lookupAggregate, lookupPlugin, resolveCall } from '../../src/catalog/resolve.js';
import { oracle, TABLE_T, TABLE_U } from './oracle.js';

const ROW: Column[] = TABLE_T.map((c) => ({ name: c.name, type: c.type }));
const U: Column[] = TABLE_U.map((c) => ({ name: c.name, type: c.type }));
const plain = {
  isLiteral: false,
  isConstant: false,
  isColumn: false,
  isStar: false,
  isAggregate: false,
  start: 0,
  length: 0,
};
const sc = (t: ScalarTypeName): Type => ({ kind: 'scalar', name: t });

function col(name: string, from: readonly Column[] = ROW): ArgInfo {
  const c = from.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}`);
  return { ...plain, type: sc(c.type as ScalarTypeName), isColumn: true, columnName: name };
}
const lit = (t: ScalarTypeName, value: unknown, name?: string): ArgInfo => ({
  ...plain,
  type: sc(t),
  isLiteral: true,
  isConstant: true,
  constantValue: value,
  ...(name ? { name } : {}),
});
const star: ArgInfo = { ...plain, type: { kind: 'tuple', columns: ROW }, isStar: true };
const lookup: ArgInfo = { ...plain, type: { kind: 'table', columns: U } };

const schema = (cols: readonly Column[]) => `(${cols.map((c) => `${c.name}:${c.type}`).join(', ')})`;

/** `T | summarize <agg> by <by>`: the by columns, then the aggregate's columns, names made unique. */
function summarize(agg: string, args: ArgInfo[], by: string[]): string {
  const fn = lookupAggregate(agg);
  if (!fn) throw new Error(agg);
  const ctx: CallContext = { rowColumns: ROW, byColumns: by };
  const out: Column[] = by.map((b) => ROW.find((c) => c.name === b) as Column);
  const seen = new Set(out.map((c) => c.name));
  for (const c of aggregateResultColumns(fn, args, ctx, []) ?? []) {
    let name = c.name;
    for (let i = 1; seen.has(name); i++) name = `${c.name}${i}`;
    seen.add(name);
    out.push({ ...c, name });
  }
  return schema(out);
}

function evaluate(plugin: string, args: ArgInfo[]): { ok: boolean; schema: string } {
  const fn = lookupPlugin(plugin);
  if (!fn) throw new Error(plugin);
  const r = resolveCall(fn, args, { rowColumns: ROW }, { start: 0, length: 0 });
  return {
    ok: r.diagnostics.length === 0,
    schema: r.returnType.kind === 'table' ? schema(r.returnType.columns) : 'none',
  };
}

describe('live comparison with the analyzer', () => {
  it.each([
    ['T | summarize arg_max(l, *) by s', 'arg_max', [col('l'), star], ['s']],
    ['T | summarize arg_max(l, s) by s', 'arg_max', [col('l'), col('s')], ['s']],
    ['T | summarize arg_min(l, *) by s, b', 'arg_min', [col('l'), star], ['s', 'b']],
    ['T | summarize take_any(*) by s', 'take_any', [star], ['s']],
    ['T | summarize any(*) by s', 'any', [star], ['s']],
    ['T | summarize argmax(l, *) by s', 'argmax', [col('l'), star], ['s']],
    ['T | summarize percentiles(l, 50, 50)', 'percentiles', [col('l'), lit('long', 50n), lit('long', 50n)], []],
  ] as const)('%s', (query, agg, args, by) => {
    const live = oracle(query);
    expect(live.ok).toBe(true);
    expect(summarize(agg, [...args], [...by])).toBe(live.schema);
  });

  it.each([
    [
      'T | evaluate geo_polygon_lookup(U, dy2, r, r)',
      'geo_polygon_lookup',
      [lookup, col('dy2', U), col('r'), col('r')],
    ],
    [
      'T | evaluate geo_polygon_lookup(U, dy2, r, r, return_lookup_key=true)',
      'geo_polygon_lookup',
      [lookup, col('dy2', U), col('r'), col('r'), lit('bool', true, 'return_lookup_key')],
    ],
    ['T | evaluate ipv4_lookup(U, s, k, s)', 'ipv4_lookup', [lookup, col('s'), col('k', U), col('s')]],
    [
      'T | evaluate ipv4_lookup(U, s, k, return_unmatched=true)',
      'ipv4_lookup',
      [lookup, col('s'), col('k', U), lit('bool', true, 'return_unmatched')],
    ],
    [
      'T | evaluate sequence_detect(dt, 1d, 1d, b, b, s)',
      'sequence_detect',
      [col('dt'), lit('timespan', 864000000000n), lit('timespan', 864000000000n), col('b'), col('b'), col('s')],
    ],
    [
      'T | evaluate new_activity_metrics(s, dt, datetime(2020-01-01), datetime(2020-02-01), 1d, 1, s)',
      'new_activity_metrics',
      [
        col('s'),
        col('dt'),
        lit('datetime', '2020-01-01'),
        lit('datetime', '2020-02-01'),
        lit('timespan', 864000000000n),
        lit('long', 1n),
        col('s'),
      ],
    ],
    [
      'T | evaluate ai_chat_completion(dy, "x", dynamic({}), true)',
      'ai_chat_completion',
      [col('dy'), lit('string', 'x'), { ...lit('dynamic', {}), dynamicShape: 'bag' as const }, lit('bool', true)],
    ],
  ] as const)('%s', (query, plugin, args) => {
    const live = oracle(query);
    expect(evaluate(plugin, [...args])).toEqual({ ok: live.ok, schema: live.schema });
  });
});
