/**
 * Parsing speed: after one warm-up pass, the whole agreement query set (~2,600 queries, 1.6 MB) must parse in well
 * under a second. Figures are printed (median and p99 per query) for the record; the bound is generous because the
 * test machine is shared.
 */
import { expect, it } from 'vitest';
import { parse } from '../../src/syntax/index.js';
import { loadQuerySet } from '../support/query-set.js';

it('parses the query set in well under a second after warm-up', () => {
  const queries = loadQuerySet().map((c) => c.query);
  for (const q of queries) parse(q); // warm-up: JIT compilation
  const times: number[] = [];
  const t0 = performance.now();
  for (const q of queries) {
    const t = performance.now();
    parse(q);
    times.push(performance.now() - t);
  }
  const total = performance.now() - t0;
  times.sort((a, b) => a - b);
  const at = (p: number) => (times[Math.min(times.length - 1, Math.floor(times.length * p))] as number) * 1000;
  console.log(
    `parsed ${queries.length} queries in ${total.toFixed(0)} ms: median ${at(0.5).toFixed(0)} µs, p99 ${at(0.99).toFixed(0)} µs per query`,
  );
  expect(total).toBeLessThan(1000);
});
