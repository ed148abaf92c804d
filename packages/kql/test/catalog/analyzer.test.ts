/**
 * Call resolution compared with Microsoft's analyzer (kept in one file so the analyzer loads once):
 * - generated calls of every function, aggregate and plugin signature (see cases.ts): same accept/reject verdict,
 *   and among calls both accept, the same result column types and names;
 * - hand-written calls the generated ones do not reach (summarize `by` clauses, named plugin arguments, plugins whose
 *   output depends on their arguments);
 * - the scalar type facts the resolver relies on, against Kusto.Language's own ScalarSymbol flags and assignability.
 *
 * Running the analyzer on all calls takes about a minute, so its answers are recorded in
 * `analyzer-calls.snapshot.json.gz` (one `"query": [ok, schema]` per line; regenerate: `UPDATE_CATALOG_SNAPSHOT=1 npx vitest run packages/kql/test/catalog`).
 * A second test re-runs the analyzer live on a fixed sample and requires the recording to match it exactly.
 */
import * as fs from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Column, ScalarTypeName, Type } from '../../src/binder/types.js';
import { SCALAR_TYPES } from '../../src/binder/types.js';
import type { ArgInfo, CallContext } from '../../src/catalog/resolve.js';
import { aggregateResultColumns, lookupAggregate, lookupPlugin, resolveCall } from '../../src/catalog/resolve.js';
import type { ScalarOrUnknown } from '../../src/catalog/type-facts.js';
import {
  assignable,
  Conversion,
  isInteger,
  isNumeric,
  isOrderable,
  isSummable,
  isWiderThan,
} from '../../src/catalog/type-facts.js';
import { kustoLanguage } from '../support/oracle.js';
import type { Verdict } from './agreement.js';
import { compare } from './agreement.js';
import { generateCases } from './cases.js';
import { oracle, TABLE_T, TABLE_U } from './oracle.js';

const SNAPSHOT = new URL('./analyzer-calls.snapshot.json.gz', import.meta.url);
const UPDATE = process.env.UPDATE_CATALOG_SNAPSHOT === '1';

type Recorded = Record<string, [0 | 1, string]>;

const cases = generateCases();

function loadSnapshot(): Recorded {
  return fs.existsSync(SNAPSHOT)
    ? (JSON.parse(gunzipSync(fs.readFileSync(SNAPSHOT)).toString('utf8')) as Recorded)
    : {};
}

describe('call resolution agrees with the analyzer', () => {
  it.skipIf(!UPDATE)(
    'regenerates the analyzer snapshot (only with UPDATE_CATALOG_SNAPSHOT=1)',
    () => {
      const rec: Recorded = {};
      for (const c of [...cases].sort((a, b) => (a.query < b.query ? -1 : 1))) {
        const r = oracle(c.query);
        rec[c.query] = [r.ok ? 1 : 0, r.schema];
      }
      fs.writeFileSync(SNAPSHOT, gzipSync(`${JSON.stringify(rec).replace(/\],"/g, '],\n"')}\n`, { level: 9 }));
    },
    600_000,
  );

  it('≥ 99% on verdict, result types and result names', () => {
    const rec = loadSnapshot();
    const missing = cases.filter((c) => !(c.query in rec));
    expect(missing.map((c) => c.query).slice(0, 5), 'generated calls without a recorded answer: regenerate').toEqual(
      [],
    );
    const figures = compare(cases, (q): Verdict => {
      const r = rec[q] as [0 | 1, string];
      return { ok: r[0] === 1, schema: r[1] };
    });
    const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(2)}%`;
    console.log(
      `catalog agreement over ${figures.cases} calls (${figures.excluded} on which the analyzer throws left out): verdict ${pct(figures.verdict, figures.cases)}; ` +
        `among ${figures.bothAccept} accepted by both: types ${pct(figures.types, figures.bothAccept)}, ` +
        `names ${pct(figures.names, figures.bothAccept)}`,
    );
    if (figures.disagreements.length) {
      console.log(
        figures.disagreements
          .slice(0, Number(process.env.CATALOG_SHOW_DISAGREEMENTS ?? 60))
          .map(
            (d) =>
              `  ${d.query}\n     ours   ${d.ours.ok ? 'ok ' : 'ERR'} ${d.ours.schema}\n     theirs ${d.oracle.ok ? 'ok ' : 'ERR'} ${d.oracle.schema}`,
          )
          .join('\n'),
      );
    }
    expect(figures.cases).toBeGreaterThan(3000);
    expect(figures.verdict / figures.cases).toBeGreaterThanOrEqual(0.99);
    expect(figures.types / figures.bothAccept).toBeGreaterThanOrEqual(0.99);
    expect(figures.names / figures.bothAccept).toBeGreaterThanOrEqual(0.99);
  });

  it('the recording matches the live analyzer on a fixed sample', () => {
    const rec = loadSnapshot();
    const sample = cases.filter((_, i) => i % 100 === 0);
    const drift = sample.flatMap((c) => {
      const live = oracle(c.query);
      const r = rec[c.query];
      return r && r[0] === (live.ok ? 1 : 0) && r[1] === live.schema ? [] : [`${c.query} → ${JSON.stringify(live)}`];
    });
    expect(sample.length).toBeGreaterThan(100);
    expect(drift).toEqual([]);
  }, 60_000);
});

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

describe('hand-written calls compared live with the analyzer', () => {
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

interface KustoScalar {
  readonly IsInteger: boolean;
  readonly IsNumeric: boolean;
  readonly IsSummable: boolean;
  readonly IsOrderable: boolean;
  IsWiderThan(other: KustoScalar): boolean;
}
interface KustoSymbols {
  readonly ScalarTypes: { GetSymbol(name: string): KustoScalar };
  readonly Symbol: { AreAssignable(target: KustoScalar, source: KustoScalar, conversion: number): boolean };
}

describe('scalar type facts match Kusto.Language', () => {
  const S = (kustoLanguage() as unknown as { Symbols: KustoSymbols }).Symbols;
  const kt = (t: ScalarTypeName) => S.ScalarTypes.GetSymbol(t);

  it('classifies each type as Kusto does', () => {
    for (const t of SCALAR_TYPES) {
      const k = kt(t);
      expect([isInteger(t), isNumeric(t), isSummable(t), isOrderable(t)], t).toEqual([
        k.IsInteger,
        k.IsNumeric,
        k.IsSummable,
        k.IsOrderable,
      ]);
      for (const u of SCALAR_TYPES) expect(isWiderThan(t, u), `${t} wider than ${u}`).toBe(k.IsWiderThan(kt(u)));
    }
  });

  it('assigns one type to another under each conversion as Kusto does', () => {
    const conversions = [
      Conversion.None,
      Conversion.Promotable,
      Conversion.Dynamic,
      Conversion.Compatible,
      Conversion.Any,
    ];
    const diff: string[] = [];
    for (const c of conversions) {
      for (const target of SCALAR_TYPES) {
        for (const source of SCALAR_TYPES) {
          const ours = assignable(target as ScalarOrUnknown, source, c);
          if (ours !== S.Symbol.AreAssignable(kt(target), kt(source), c)) diff.push(`${source}→${target} @${c}`);
        }
      }
    }
    expect(diff).toEqual([]);
  });
});
