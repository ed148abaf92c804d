/**
 * Runner for the dynamic and series end-to-end tests (dynamic*.test.ts): real DuckDB through runKql on one scratch
 * workspace per file. Besides decoded rows it returns the wire text of a row, so tests can check what JSON.parse
 * hides: reals keep their fraction inside dynamic values (`[0.25,1.0,4.0]`), longs do not (`[1,2]`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../src/engine/engine.js';
import type { KqlValue } from '../../src/engine/values.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { runKql } from '../../src/query/query-service.js';

export class DynamicRunner {
  private constructor(
    private readonly engine: Engine,
    private readonly dir: string,
  ) {}

  static async open(): Promise<DynamicRunner> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-dynamic-'));
    return new DynamicRunner(await openWorkspace(dir, { threads: 1 }), dir);
  }

  private async run<T>(
    query: string,
    read: (r: NonNullable<Awaited<ReturnType<typeof runKql>>['result']>) => Promise<T>,
  ) {
    const out = await runKql({ engine: this.engine, definitions: [] }, query, {
      nowMs: Date.UTC(2026, 0, 1),
      timeoutMs: 20_000,
    });
    if (out.error || !out.result) throw new Error(`${out.error?.code}: ${out.error?.message}\n${query}`);
    try {
      return { columns: out.result.columns, value: await read(out.result) };
    } finally {
      await out.result.close();
    }
  }

  /** Decoded rows. */
  async rows(query: string): Promise<KqlValue[][]> {
    return (await this.run(query, async (r) => (await r.rows()) as KqlValue[][])).value;
  }

  /** The single row of a query. */
  async row(query: string): Promise<KqlValue[]> {
    const rows = await this.rows(query);
    if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}`);
    return rows[0] as KqlValue[];
  }

  /** `print v = <expr>`'s value. */
  async value(expr: string): Promise<KqlValue> {
    return (await this.row(`print v = ${expr}`))[0] as KqlValue;
  }

  /** The wire text of each value of `print v = <expr>` rows (JSON as Kusto's REST API writes it). */
  async text(expr: string): Promise<string> {
    const { value } = await this.run(`print v = ${expr}`, async (r) => {
      const out: string[] = [];
      for await (const t of r.rowTexts()) out.push(t);
      return out;
    });
    if (value.length !== 1) throw new Error(`expected one row, got ${value.length}`);
    const row = (value[0] as string).trim().replace(/^,/, '');
    // A one-column row is `[<value>]`.
    return row.slice(1, -1);
  }

  /** Result column names and types. */
  async columns(query: string): Promise<string[]> {
    return (await this.run(query, async () => null)).columns.map((c) => `${c.name}:${c.type}`);
  }

  async close(): Promise<void> {
    await this.engine.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
