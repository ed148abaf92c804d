#!/usr/bin/env node
// Front-end speed: parse + bind of every query of the agreement query set, Vigil vs Microsoft's analyzer
// (@kusto/language-service-next ParseAndAnalyze), in one process, same queries, same schema, after warm-up.
// Reports per-query median and p99 for both and their ratio. Run: npm run build && node bench/frontend/run.mjs
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { analyze, workspaceFromTablesJson } from '../../packages/kql/dist/index.js';

const root = new URL('../../', import.meta.url);
const require = createRequire(import.meta.url);
const schema = workspaceFromTablesJson(JSON.parse(readFileSync(new URL('content/schema/tables.json', root), 'utf8')));

function readJsonl(path) {
  return readFileSync(new URL(path, root), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}
const tableNames = new Set(schema.tables.map((t) => t.name));
const queries = [];
for (const f of ['azure-sentinel-2022-08', 'm365d-hunting-queries']) {
  for (const r of readJsonl(`fixtures/shared/corpus/${f}.jsonl`)) {
    if (!r.query || !(r.tables ?? []).every((t) => tableNames.has(t))) continue;
    if ((r.functions ?? []).length || (r.otherSources ?? []).length) continue;
    queries.push(r.query);
  }
}
for (const f of ['doc-examples', 'kusto-truth'])
  for (const r of readJsonl(`fixtures/shared/conformance/${f}.dev.jsonl`)) queries.push(r.query);

// Microsoft's analyzer with the same workspace schema.
require('@kusto/language-service-next/bridge.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.js');
const K = globalThis.Kusto.Language;
const S = K.Symbols;
const members = schema.tables.map(
  (t) =>
    new S.TableSymbol.$ctor4(
      t.name,
      t.columns.map((c) => new S.ColumnSymbol(c.name, S.ScalarTypes.GetSymbol(c.type), null, null, null, null)),
    ),
);
const db = new S.DatabaseSymbol.ctor(schema.database, members);
const globals = K.GlobalState.Default.WithCluster(new S.ClusterSymbol.ctor('local', [db])).WithDatabase(db);
const theirs = (q) => {
  const code = K.KustoCode.ParseAndAnalyze(q, globals);
  code.GetDiagnostics();
  return code.ResultType;
};
const ours = (q) => analyze(q, schema).columns;

function timeAll(fn, rounds) {
  const samples = queries.map(() => []);
  for (let r = 0; r < rounds; r++) {
    queries.forEach((q, i) => {
      const t0 = process.hrtime.bigint();
      fn(q);
      samples[i].push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  }
  // per query: the median of its rounds
  return samples.map((s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)]);
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

const rounds = Number(process.env.ROUNDS ?? 3);
timeAll(ours, 1); // warm-up
timeAll(theirs, 1);
const o = timeAll(ours, rounds);
const t = timeAll(theirs, rounds);
const ratio = o.map((x, i) => t[i] / Math.max(x, 1e-6));
const result = {
  queries: queries.length,
  rounds,
  vigil: { medianMs: pct(o, 0.5), p99Ms: pct(o, 0.99), totalMs: o.reduce((a, b) => a + b, 0) },
  kustoLanguage: { medianMs: pct(t, 0.5), p99Ms: pct(t, 0.99), totalMs: t.reduce((a, b) => a + b, 0) },
  speedup: {
    ofMedians: pct(t, 0.5) / pct(o, 0.5),
    ofP99s: pct(t, 0.99) / pct(o, 0.99),
    medianPerQuery: pct(ratio, 0.5),
    ofTotals: t.reduce((a, b) => a + b, 0) / o.reduce((a, b) => a + b, 0),
  },
};
console.log(JSON.stringify(result, null, 2));
