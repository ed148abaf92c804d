/**
 * Agreement of call resolution with Microsoft's analyzer over generated calls of every function, aggregate and
 * plugin signature (see cases.ts): same accept/reject verdict, and among calls both accept, the same result column
 * types and names.
 *
 * Running the analyzer on all calls takes about a minute, so its answers are recorded in
 * `analyzer-calls.snapshot.json.gz` (one `"query": [ok, schema]` per line; regenerate: `UPDATE_CATALOG_SNAPSHOT=1 npx vitest run packages/kql/test/catalog`).
 * A second test re-runs the analyzer live on a fixed sample and requires the recording to match it exactly.
 */
import * as fs from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Verdict } from './agreement.js';
import { compare } from './agreement.js';
import { generateCases } from './cases.js';
import { oracle } from './oracle.js';

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
    const sample = cases.filter((_, i) => i % 40 === 0);
    const drift = sample.flatMap((c) => {
      const live = oracle(c.query);
      const r = rec[c.query];
      return r && r[0] === (live.ok ? 1 : 0) && r[1] === live.schema ? [] : [`${c.query} → ${JSON.stringify(live)}`];
    });
    expect(sample.length).toBeGreaterThan(50);
    expect(drift).toEqual([]);
  }, 60_000);
});
