/**
 * Shared runner for the scalar-function end-to-end tests (scalar-*.test.ts): real DuckDB through runKql on one
 * scratch workspace per file, a fixed now(), and helpers that return decoded rows or the compile error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../src/engine/engine.js';
import type { KqlValue } from '../../src/engine/values.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { runKql } from '../../src/query/query-service.js';

export const NOW_MS = Date.UTC(2026, 0, 1);

export class ScalarRunner {
  private constructor(
    private readonly engine: Engine,
    private readonly dir: string,
  ) {}

  static async open(): Promise<ScalarRunner> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-scalar-'));
    return new ScalarRunner(await openWorkspace(dir, { threads: 1 }), dir);
  }

  /** Runs a query; throws with the compile or engine error when it fails. */
  async rows(query: string): Promise<KqlValue[][]> {
    const out = await runKql({ engine: this.engine, definitions: [] }, query, { nowMs: NOW_MS, timeoutMs: 20_000 });
    if (out.error || !out.result) throw new Error(`${out.error?.code}: ${out.error?.message}\n${query}`);
    try {
      return (await out.result.rows()) as KqlValue[][];
    } finally {
      await out.result.close();
    }
  }

  /** The single row of a `print`. */
  async row(query: string): Promise<KqlValue[]> {
    const rows = await this.rows(query);
    if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}`);
    return rows[0] as KqlValue[];
  }

  /** The one value of a one-column `print`. */
  async value(expr: string): Promise<KqlValue> {
    return (await this.row(`print v = ${expr}`))[0] as KqlValue;
  }

  /** The compile error (code `compile`) of a query that must be rejected; null when it ran. */
  async compileError(query: string): Promise<string | null> {
    const out = await runKql({ engine: this.engine, definitions: [] }, query, { nowMs: NOW_MS, timeoutMs: 20_000 });
    await out.result?.close();
    return out.error?.code === 'compile' ? out.error.message : null;
  }

  async close(): Promise<void> {
    await this.engine.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
