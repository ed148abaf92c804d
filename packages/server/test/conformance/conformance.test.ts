/**
 * Issue 3's result-correctness figures, measured end to end on DuckDB:
 * - the official doc examples produce their documented output (reproducible examples; flagged ones counted apart);
 * - real Kusto results (kusto-truth) are matched (names, types, rows), and queries Kusto rejected are rejected.
 * Every failure is printed with its reason; KNOWN_WRONG lists documented outputs reviewed as wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recorderRowEqual, recorderText, recorderType, rowsMatch } from './compare.js';
import { ConformanceRunner, readJsonl } from './runner.js';

/**
 * The figures this suite enforces. Issue 3 asks ≥ 90% (doc examples) and ≥ 92% (kusto-truth); both floors are
 * ratchets just under the figures reached so far (90.5% and 95.3% on 2026-11-28; one or two examples time out on a
 * loaded machine), raised as they improve; the closing notes report the gap honestly.
 */
const DOC_EXAMPLES_MIN = Number(process.env.DOC_EXAMPLES_MIN ?? 0.9);
const KUSTO_TRUTH_MIN = Number(process.env.KUSTO_TRUTH_MIN ?? 0.95);
/** While iterating: `CONFORMANCE_FILTER=parse-kv` runs only cases whose id, family or source path contains it. */
const FILTER = process.env.CONFORMANCE_FILTER ?? '';
const selected = (...keys: (string | undefined)[]) => FILTER === '' || keys.some((k) => k?.includes(FILTER));

/** Flags marking documented outputs that cannot be reproduced exactly (see the fixture README). */
const NON_REPRODUCIBLE = new Set([
  'rand',
  'now',
  'new_guid',
  'hash',
  'sample',
  'take',
  'arbitrary_row_choice',
  'elided_values',
  'sandbox_plugin',
  'cursor',
  'current_x',
  'externaldata',
  'no_tabular_result',
  'multi_table',
]);

/** Documented outputs reviewed as wrong (id → reason). */
const KNOWN_WRONG: Readonly<Record<string, string>> = {
  'ok-0051': 'asin(0.5) is 0.5235987755982989; the page shows acos-like 1.2532...',
  'ok-0639': 'tostring() of a long prints "1", not "1.000000" (recorded Kusto results agree)',
  'ok-0810': 'the documented output wraps the base64 text in extra quotes',
  'ok-0617': 'the page calls punycode_domain_to_string but shows the encoded (to_punycode) form',
  'ok-0665': 'the page renders U+00A0 as a plain space; the value is Hello\u00A0World',
  'ok-0667': 'the page flattens the multi-line string literal onto one line',
  'ok-0628': 'the page lists 7 rows from 2024-01-04; the two ranges hold the 10 days 2024-01-01..10',
  'ok-0684': 'the page shows the input as [-6.5,0,8.2]; the query builds [-1,0,1] (the atan values shown are theirs)',
  'ok-0723': 'the page shows the input as [-6.5,0,8.2]; the query builds [-1,0,1] (the tan values shown are theirs)',
  'ok-0476':
    'the page shows one of the two outputs innerunique may give (either left row per key); Vigil keeps the first',
  'ok-0351':
    "the page names a location 'NY National Museum of Mathematics'; the query's datatable has 'National Museum of Mathematics'",
};

/**
 * Examples that are not self-contained after all: they read tables of Microsoft's help cluster or external storage,
 * which the workspace does not have (id → reason). Counted with the flagged ones.
 */
const EXTERNAL_DATA: Readonly<Record<string, string>> = {
  'ok-0008': "reads StormEvents from the help cluster's Samples database",
  'ok-0761': "reads StormEvents (table('StormEvents')) from the help cluster's Samples database",
  'ok-0677': "searches the help cluster's ContosoSales tables (Customers, ...)",
  'ok-0678': "searches the help cluster's ContosoSales tables (Products, ...)",
  'ok-0438': 'reads CSV files from Azure blob storage (inline_external_table, refused like externaldata)',
  'ok-0440': 'reads a Delta table from Azure storage (inline_external_table, refused like externaldata)',
};

interface DocExample {
  id: string;
  source_path: string;
  heading?: string;
  query: string;
  expected: { columns: string[]; rows: string[][] };
  oracle: { columns: { name: string; type: string }[] };
  header_matches_oracle: boolean;
  flags: string[];
}

interface KustoTruth {
  id: string;
  family: string;
  query: string;
  kusto: { columns: string[]; rowCount: number; sampleRows: string[] } | null;
  kustoError: string | null;
  peerOutcome: string;
}

let runner: ConformanceRunner;
beforeAll(async () => {
  runner = await ConformanceRunner.open();
});
afterAll(async () => {
  await runner?.close();
});

describe('conformance', () => {
  it(`reproduces at least ${DOC_EXAMPLES_MIN * 100}% of the documented outputs`, async () => {
    const examples = readJsonl<DocExample>('fixtures/shared/conformance/doc-examples.dev.jsonl').filter((e) =>
      selected(e.id, e.source_path, e.query),
    );
    const failures: string[] = [];
    let reproducible = 0;
    let passed = 0;
    let flaggedPassed = 0;
    let flagged = 0;
    for (const ex of examples) {
      const isFlagged = ex.flags.some((f) => NON_REPRODUCIBLE.has(f)) || ex.id in KNOWN_WRONG || ex.id in EXTERNAL_DATA;
      if (isFlagged) flagged++;
      else reproducible++;
      const r = await runner.run(ex.query);
      let reason: string | null = null;
      if (!r.ok) reason = `${r.errorKind}: ${r.error?.split('\n')[0]}`;
      else {
        const types = ex.oracle.columns.map((c) => c.type);
        const names = r.columns.map((c) => c.name);
        if (ex.header_matches_oracle && JSON.stringify(names) !== JSON.stringify(ex.expected.columns)) {
          reason = `columns ${JSON.stringify(names)} ≠ ${JSON.stringify(ex.expected.columns)}`;
        } else if (r.columns.length !== ex.expected.columns.length) {
          reason = `${r.columns.length} columns ≠ ${ex.expected.columns.length}`;
        } else {
          const t = types.length === r.columns.length ? types : r.columns.map((c) => c.type);
          reason = rowsMatch(ex.expected.rows, r.rows, t, ex.flags.includes('ordered'));
        }
      }
      if (reason === null) {
        if (isFlagged) flaggedPassed++;
        else passed++;
      } else if (!isFlagged) failures.push(`${ex.id} (${ex.heading ?? ''}): ${reason}`);
    }
    const rate = passed / reproducible;
    console.log(
      `doc examples: ${passed}/${reproducible} reproducible examples match (${(rate * 100).toFixed(1)}%); ` +
        `flagged non-reproducible: ${flaggedPassed}/${flagged} match anyway`,
    );
    for (const f of failures) console.log(`  FAIL ${f.slice(0, 400)}`);
    if (FILTER === '') expect(rate).toBeGreaterThanOrEqual(DOC_EXAMPLES_MIN);
  }, 600_000);

  it(`matches at least ${KUSTO_TRUTH_MIN * 100}% of real Kusto results and rejects what Kusto rejected`, async () => {
    const cases = readJsonl<KustoTruth>('fixtures/shared/conformance/kusto-truth.dev.jsonl').filter((c) =>
      selected(c.id, c.family, c.query),
    );
    const failures: string[] = [];
    let withResult = 0;
    let matched = 0;
    let peerMatched = 0;
    let rejectedCases = 0;
    let rejected = 0;
    for (const c of cases) {
      const r = await runner.run(c.query);
      if (c.kustoError || !c.kusto) {
        rejectedCases++;
        if (!r.ok) rejected++;
        else failures.push(`${c.id}: Kusto rejected it (${c.kustoError?.split('\n')[0]}), Vigil ran it`);
        continue;
      }
      withResult++;
      if (c.peerOutcome === 'Match') peerMatched++;
      const reason = compareTruth(c, r);
      if (reason === null) matched++;
      else failures.push(`${c.id} [${c.family}]: ${reason}`);
    }
    const rate = matched / withResult;
    console.log(
      `kusto-truth: ${matched}/${withResult} results match (${(rate * 100).toFixed(1)}%; kql-to-sql: ` +
        `${((peerMatched / withResult) * 100).toFixed(1)}%); rejected ${rejected}/${rejectedCases} that Kusto rejected`,
    );
    for (const f of failures) console.log(`  FAIL ${f.slice(0, 400)}`);
    if (FILTER === '') expect(rate).toBeGreaterThanOrEqual(KUSTO_TRUTH_MIN);
  }, 600_000);
});

function compareTruth(c: KustoTruth, r: Awaited<ReturnType<ConformanceRunner['run']>>): string | null {
  const kusto = c.kusto;
  if (!kusto) return 'no Kusto result';
  if (!r.ok) return `${r.errorKind}: ${r.error?.split('\n')[0]}`;
  const expectedCols = kusto.columns.map((x) => {
    const i = x.lastIndexOf(':');
    return { name: x.slice(0, i), type: x.slice(i + 1) };
  });
  const ours = r.columns.map((x) => ({ name: x.name, type: recorderType(x.type) }));
  if (JSON.stringify(ours) !== JSON.stringify(expectedCols)) {
    return `columns ${ours.map((x) => `${x.name}:${x.type}`).join(', ')} ≠ ${kusto.columns.join(', ')}`;
  }
  if (r.rows.length !== kusto.rowCount) return `${r.rows.length} rows ≠ ${kusto.rowCount}`;
  const rendered = r.rows.map((row) => row.map((v, i) => recorderText(v, expectedCols[i]?.type ?? 'String')));
  const sorted = /\|\s*(sort|order|top)\b[^|]*$/.test(c.query.trim());
  if (sorted) {
    for (let i = 0; i < kusto.sampleRows.length; i++) {
      if (!recorderRowEqual(kusto.sampleRows[i] as string, rendered[i] ?? [])) {
        return `row ${i}: ${kusto.sampleRows[i]} ≠ (${rendered[i]?.join(', ')})`;
      }
    }
    return null;
  }
  const used = new Set<number>();
  for (const sample of kusto.sampleRows) {
    const j = rendered.findIndex((row, k) => !used.has(k) && recorderRowEqual(sample, row));
    if (j < 0)
      return `no row matches ${sample}; got ${rendered
        .slice(0, 3)
        .map((x) => `(${x.join(', ')})`)
        .join(' ')}`;
    used.add(j);
  }
  return null;
}
