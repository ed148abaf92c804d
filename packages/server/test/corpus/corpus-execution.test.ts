/**
 * Issue 3's corpus figure: every real Sentinel / Defender query whose tables are in the workspace schema and that
 * the front end accepts must execute without an engine error, on an empty workspace and on one loaded with
 * `fixtures/shared/sample-data/` — at least 97% of them. Failures are printed with their reasons.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '@vigil/kql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, TableDefinition } from '../../src/engine/engine.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { compilerWorkspace, runKql } from '../../src/query/query-service.js';
import { REPO_ROOT, readJsonl, TEST_ENGINE, workspaceDefinitions } from '../conformance/runner.js';

/**
 * Issue 3 asks ≥ 97% (reached: 97.1% on 2026-11-28; externaldata stays refused by design). A ratchet: raise it.
 * On ClickHouse (issue 11: within 2 points of DuckDB) the floor is ClickHouse's own: 96.6% reached on 2026-11-28
 * (parse_xml refused: no XML parser in ClickHouse SQL).
 */
const MIN_RATE = Number(process.env.CORPUS_MIN ?? (TEST_ENGINE === 'clickhouse' ? 0.96 : 0.97));
const FILTER = process.env.CORPUS_FILTER ?? '';
const CORPUS_TIMEOUT_MS = TEST_ENGINE === 'clickhouse' ? 2_400_000 : 1_200_000;

interface CorpusRecord {
  path: string;
  name?: string;
  query?: string;
  tables?: string[];
  functions?: string[];
  otherSources?: string[];
}

/** Sample-data folders named after a workspace table are loaded into that table. */
async function loadSampleData(engine: Engine, definitions: readonly TableDefinition[]): Promise<string[]> {
  const root = new URL('fixtures/shared/sample-data/', REPO_ROOT);
  const loaded: string[] = [];
  for (const dir of readdirSync(root, { withFileTypes: true })) {
    const def = definitions.find((d) => d.name === dir.name);
    if (!dir.isDirectory() || !def) continue;
    await engine.ensureTable(def);
    for (const f of readdirSync(new URL(`${dir.name}/`, root))) {
      if (!/\.(json|csv|jsonl|ndjson)$/.test(f)) continue;
      const report = await engine.loadFile(def.name, new URL(`${dir.name}/${f}`, root).pathname);
      loaded.push(`${def.name} ← ${f}: ${report.rowsLoaded} rows`);
    }
  }
  return loaded;
}

function corpusQueries(definitions: readonly TableDefinition[]): { id: string; query: string }[] {
  const tables = new Set(definitions.map((d) => d.name));
  const out: { id: string; query: string }[] = [];
  for (const file of ['azure-sentinel-2022-08', 'm365d-hunting-queries']) {
    for (const r of readJsonl<CorpusRecord>(`fixtures/shared/corpus/${file}.jsonl`)) {
      if (!r.query || !(r.tables ?? []).every((t) => tables.has(t))) continue;
      if ((r.functions ?? []).length || (r.otherSources ?? []).length) continue;
      const id = `${file}:${r.path}`;
      if (FILTER && !id.includes(FILTER)) continue;
      out.push({ id, query: r.query });
    }
  }
  return out;
}

let dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('corpus execution', () => {
  const definitions = workspaceDefinitions();
  let empty: Engine;
  let loaded: Engine;
  beforeAll(async () => {
    const a = mkdtempSync(join(tmpdir(), 'vigil-corpus-empty-'));
    const b = mkdtempSync(join(tmpdir(), 'vigil-corpus-loaded-'));
    dirs = [a, b];
    empty = await openWorkspace(a, { threads: 2, engine: TEST_ENGINE });
    loaded = await openWorkspace(b, { threads: 2, engine: TEST_ENGINE });
    const report = await loadSampleData(loaded, definitions);
    console.log(`sample data:\n  ${report.join('\n  ')}`);
  }, 300_000);
  afterAll(async () => {
    await empty?.close();
    await loaded?.close();
  });

  it(
    `runs at least ${MIN_RATE * 100}% of the accepted corpus queries on empty and loaded workspaces`,
    async () => {
      const queries = corpusQueries(definitions);
      const schema = compilerWorkspace({ engine: empty, definitions });
      const failures: string[] = [];
      let accepted = 0;
      let ran = 0;
      const now = Date.UTC(2026, 0, 1);
      for (const q of queries) {
        if (!analyze(q.query, schema).ok) continue;
        accepted++;
        let failed: string | null = null;
        for (const [label, engine] of [
          ['empty', empty],
          ['loaded', loaded],
        ] as const) {
          const out = await runKql({ engine, definitions }, q.query, { nowMs: now, timeoutMs: 60_000 });
          if (out.result) await out.result.close();
          if (out.error) {
            failed = `${label}: ${out.error.code}: ${out.error.message.split('\n')[0]}`;
            break;
          }
        }
        if (failed) failures.push(`${q.id}: ${failed}`);
        else ran++;
      }
      const rate = ran / accepted;
      console.log(`corpus: ${ran}/${accepted} accepted queries run on both workspaces (${(rate * 100).toFixed(1)}%)`);
      for (const f of failures) console.log(`  FAIL ${f.slice(0, 300)}`);
      if (FILTER === '') expect(rate).toBeGreaterThanOrEqual(MIN_RATE);
      // ClickHouse (opt-in) takes ~11 min at a load of 10 (chdb serializes; each text's first run is guarded by an
      // EXPLAIN round trip); DuckDB ~2.5 min.
    },
    CORPUS_TIMEOUT_MS,
  );
});
