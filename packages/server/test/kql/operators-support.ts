/**
 * Shared runner for the operator end-to-end tests (operators-*.test.ts): real DuckDB through runKql on one scratch
 * workspace per file (with the workspace schema, so tables such as Heartbeat exist), a fixed now(), and helpers
 * returning decoded rows, column names, or the compile diagnostic of a refused query.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze, duckdb } from '@vigil/kql';
import { lower } from '../../../kql/src/plan/lower.js';
import type { PlanColumn } from '../../../kql/src/plan/nodes.js';
import { generateProbeSql, generateSql, probeColumns } from '../../../kql/src/sql/generate.js';
import type { Engine, TableDefinition } from '../../src/engine/engine.js';
import type { KqlValue } from '../../src/engine/values.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { compilerWorkspace, runKql } from '../../src/query/query-service.js';
import { workspaceDefinitions } from '../conformance/runner.js';

export const NOW_MS = Date.UTC(2026, 0, 1);

export interface Result {
  readonly columns: readonly string[];
  readonly types: readonly string[];
  readonly rows: readonly (readonly KqlValue[])[];
}

export class OperatorRunner {
  private constructor(
    private readonly engine: Engine,
    private readonly dir: string,
    private readonly definitions: readonly TableDefinition[],
  ) {}

  static async open(): Promise<OperatorRunner> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-operators-'));
    return new OperatorRunner(await openWorkspace(dir, { threads: 1 }), dir, workspaceDefinitions());
  }

  /** Loads NDJSON rows into a workspace table (creating it from the schema). */
  async load(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    const def = this.definitions.find((d) => d.name === table);
    if (!def) throw new Error(`no table ${table} in the schema`);
    await this.engine.ensureTable(def);
    const file = join(this.dir, `${table}-${Date.now()}.json`);
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    await this.engine.loadFile(table, file);
  }

  /** Runs a query; throws with the compile or engine error when it fails. */
  async run(query: string): Promise<Result> {
    const out = await runKql({ engine: this.engine, definitions: this.definitions }, query, {
      nowMs: NOW_MS,
      timeoutMs: 20_000,
    });
    if (out.error || !out.result) throw new Error(`${out.error?.code}: ${out.error?.message}\n${query}`);
    try {
      return {
        columns: out.result.columns.map((c) => c.name),
        types: out.result.columns.map((c) => c.type),
        rows: (await out.result.rows()) as KqlValue[][],
      };
    } finally {
      await out.result.close();
    }
  }

  async rows(query: string): Promise<readonly (readonly KqlValue[])[]> {
    return (await this.run(query)).rows;
  }

  /** The one column of a query's rows. */
  async column(query: string): Promise<KqlValue[]> {
    return (await this.rows(query)).map((r) => r[0] as KqlValue);
  }

  /**
   * Runs a query the way a schema-probing caller does (see plan/lower.ts SchemaProbe): lower, answer each probe
   * with its SQL, lower again with the found columns, run. (Over datatables only: storage names are the KQL names.)
   */
  async runProbing(query: string): Promise<Result> {
    const analysis = analyze(query, compilerWorkspace({ engine: this.engine, definitions: this.definitions }));
    const now = BigInt(NOW_MS) * 10000n;
    const storage = { table: (t: string) => t, column: (_t: string, c: string) => c };
    const first = lower(analysis, { now });
    const schemas = new Map<string, readonly PlanColumn[]>();
    for (const probe of first.probes ?? []) {
      const res = await this.engine.query(generateProbeSql(probe, duckdb, { storage }), {
        columns: [
          { name: 'name', type: 'string' },
          { name: 'type', type: 'string' },
        ],
      });
      try {
        schemas.set(probe.key, probeColumns(await res.rows()));
      } finally {
        await res.close();
      }
    }
    const lowered = lower(analysis, { now, dynamicSchemas: schemas });
    if (!lowered.plan) throw new Error(lowered.diagnostics.map((d) => d.message).join('; '));
    const gen = generateSql(lowered.plan.rel, duckdb, { storage });
    const res = await this.engine.query(gen.sql, { columns: gen.columns });
    try {
      return {
        columns: res.columns.map((c) => c.name),
        types: res.columns.map((c) => c.type),
        rows: (await res.rows()) as KqlValue[][],
      };
    } finally {
      await res.close();
    }
  }

  /** The diagnostic (message and span text) of a query the compiler refuses; null when it compiled. */
  async refusal(query: string): Promise<{ message: string; at: string } | null> {
    const out = await runKql({ engine: this.engine, definitions: this.definitions }, query, { nowMs: NOW_MS });
    await out.result?.close();
    if (out.error?.code !== 'compile') return null;
    const d = out.diagnostics.find((x) => x.severity === 'error');
    return { message: out.error.message, at: d ? query.slice(d.start, d.start + d.length) : '' };
  }

  async close(): Promise<void> {
    await this.engine.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
