/**
 * Runs conformance queries end to end (compile → DuckDB → decoded rows) on one scratch workspace, with a fixed
 * now() and a per-query timeout so that one bad query cannot stall the suite.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine, TableDefinition } from '../../src/engine/engine.js';
import { tableDefinitionsFromTablesJson } from '../../src/engine/storage-names.js';
import type { KqlValue } from '../../src/engine/values.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { runKql } from '../../src/query/query-service.js';

export const REPO_ROOT = new URL('../../../../', import.meta.url);

/**
 * The engine the KQL suites run on: DuckDB by default, ClickHouse (in process, chdb) with
 * `VIGIL_TEST_ENGINE=clickhouse`.
 */
export const TEST_ENGINE: 'duckdb' | 'clickhouse' =
  process.env.VIGIL_TEST_ENGINE === 'clickhouse' ? 'clickhouse' : 'duckdb';

export function readJsonl<T>(relativePath: string): T[] {
  return readFileSync(new URL(relativePath, REPO_ROOT), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

export function workspaceDefinitions(): TableDefinition[] {
  return tableDefinitionsFromTablesJson(
    JSON.parse(readFileSync(new URL('content/schema/tables.json', REPO_ROOT), 'utf8')),
  );
}

export interface RunResult {
  readonly ok: boolean;
  /** `compile` (diagnostics), an engine error code, or `exception`. */
  readonly errorKind?: string;
  readonly error?: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly (readonly KqlValue[])[];
}

export class ConformanceRunner {
  private constructor(
    readonly engine: Engine,
    private readonly dir: string,
    private readonly definitions: readonly TableDefinition[],
  ) {}

  static async open(): Promise<ConformanceRunner> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-conformance-'));
    const engine = await openWorkspace(dir, { threads: 2, engine: TEST_ENGINE });
    return new ConformanceRunner(engine, dir, workspaceDefinitions());
  }

  /** Runs one query; `nowMs` fixes now() (the documented outputs were produced at various times). */
  async run(query: string, nowMs = Date.UTC(2026, 0, 1)): Promise<RunResult> {
    try {
      const out = await runKql({ engine: this.engine, definitions: this.definitions }, query, {
        nowMs,
        timeoutMs: 20_000,
      });
      if (out.error || !out.result) {
        return {
          ok: false,
          errorKind: out.error?.code ?? 'engine',
          error: out.error?.message ?? 'no result',
          columns: [],
          rows: [],
        };
      }
      try {
        const rows = await out.result.rows();
        return { ok: true, columns: out.result.columns, rows };
      } finally {
        await out.result.close();
      }
    } catch (e) {
      return { ok: false, errorKind: 'exception', error: String((e as Error).stack ?? e), columns: [], rows: [] };
    }
  }

  async close(): Promise<void> {
    await this.engine.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
