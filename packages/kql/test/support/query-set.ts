/**
 * The agreement query set: every query of `fixtures/shared/conformance/*.jsonl`, and every corpus record with a
 * non-empty query whose tables are all in `content/schema/tables.json` and that needs no parser function
 * (`functions` and `otherSources` empty). Deterministic order: corpus files, then conformance files, each in file
 * order. Ids are `<file>:<path>:<blockIndex>` for corpus records and `<file>:<id>` for conformance records.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface QueryCase {
  readonly id: string;
  /** The fixture file the query comes from, without extension (`azure-sentinel-2022-08`, `kusto-truth`, ...). */
  readonly source: string;
  readonly query: string;
}

/** The repository root (this file is `packages/kql/test/support/query-set.ts`). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

const CORPUS_FILES = ['azure-sentinel-2022-08', 'm365d-hunting-queries'] as const;
const CONFORMANCE_FILES = ['doc-examples', 'kusto-truth'] as const;

interface CorpusRecord {
  readonly path: string;
  readonly blockIndex?: number | string | null;
  readonly query?: string | null;
  readonly tables?: readonly string[];
  readonly functions?: readonly string[];
  readonly otherSources?: readonly string[];
}

interface ConformanceRecord {
  readonly id: string;
  readonly query: string;
}

function readJsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** The names of the workspace tables in `content/schema/tables.json`. */
export function workspaceTableNames(root = REPO_ROOT): ReadonlySet<string> {
  const json = JSON.parse(readFileSync(`${root}content/schema/tables.json`, 'utf8')) as { tables: object };
  return new Set(Object.keys(json.tables));
}

let cached: readonly QueryCase[] | null = null;

/** Loads the query set (cached after the first call). */
export function loadQuerySet(root = REPO_ROOT): readonly QueryCase[] {
  if (cached && root === REPO_ROOT) return cached;
  const tables = workspaceTableNames(root);
  const cases: QueryCase[] = [];
  for (const file of CORPUS_FILES) {
    for (const r of readJsonl<CorpusRecord>(`${root}fixtures/shared/corpus/${file}.jsonl`)) {
      if (!r.query) continue;
      if (!(r.tables ?? []).every((t) => tables.has(t))) continue;
      if ((r.functions ?? []).length > 0 || (r.otherSources ?? []).length > 0) continue;
      cases.push({ id: `${file}:${r.path}:${r.blockIndex ?? ''}`, source: file, query: r.query });
    }
  }
  for (const file of CONFORMANCE_FILES) {
    for (const r of readJsonl<ConformanceRecord>(`${root}fixtures/shared/conformance/${file}.dev.jsonl`)) {
      cases.push({ id: `${file}:${r.id}`, source: file, query: r.query });
    }
  }
  if (root === REPO_ROOT) cached = cases;
  return cases;
}
