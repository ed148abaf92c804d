/**
 * Writes detection output (alerts to `SecurityAlert`, rule runs to `SentinelHealth`) into the workspace through
 * the engine's load path, with group commit: rows handed in while a load runs go together into the next load, so
 * fifty NRT rules alerting on one batch cost one or two loads, not fifty. Loads go through the ingestion tracker
 * when there is one, so the rows notify NRT rules and respect the watermark like any other batch.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine, TableDefinition } from '../engine/engine.js';
import type { IngestionTracker } from './ingestion-tracker.js';

interface Waiter {
  readonly rows: readonly Record<string, unknown>[];
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class TableWriter {
  private pending: Waiter[] = [];
  private running: Promise<void> | null = null;
  private ensured = false;

  constructor(
    private readonly engine: Engine,
    private readonly table: TableDefinition,
    private readonly scratchDir: string,
    private readonly tracker: IngestionTracker | null,
  ) {}

  /** Resolves when the rows are committed (visible to queries). */
  write(rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ rows, resolve, reject });
      if (!this.running) this.running = this.drain();
    });
  }

  /** Waits for every write handed in so far. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.load(batch.flatMap((w) => w.rows));
          for (const w of batch) w.resolve();
        } catch (e) {
          for (const w of batch) w.reject(e);
        }
      }
    } finally {
      this.running = null;
    }
  }

  private async load(rows: readonly Record<string, unknown>[]): Promise<void> {
    if (!this.ensured) {
      await this.engine.ensureTable(this.table);
      await mkdir(this.scratchDir, { recursive: true });
      this.ensured = true;
    }
    const file = join(this.scratchDir, `${this.table.name}-${randomUUID()}.ndjson`);
    await writeFile(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const fields = new Set<string>();
    for (const r of rows) for (const k of Object.keys(r)) fields.add(k);
    // We wrote the file: the engine need not sniff it. No checkpoint per write: alerts are small and frequent, and
    // DuckDB folds its log into the file on its own threshold. Priority: an alert must not wait for the bulk load
    // of event rows that happens to hold the engine's writer (seconds under load).
    const options = {
      format: 'ndjson',
      oneRecordPerLine: true,
      fields: [...fields],
      fieldsComplete: true,
      records: rows.length,
      checkpoint: false,
      priority: true,
    } as const;
    try {
      const report = this.tracker
        ? await this.tracker.loadFile(this.engine, this.table.name, file, options)
        : await this.engine.loadFile(this.table.name, file, options);
      if (report.rowsRejected > 0) {
        const first = report.rejected[0]?.columns[0];
        throw new Error(
          `${report.rowsRejected} ${this.table.name} rows were rejected` +
            (first ? ` (${first.column} = ${JSON.stringify(first.value)} is not a ${first.expected})` : ''),
        );
      }
    } finally {
      await rm(file, { force: true });
    }
  }
}
