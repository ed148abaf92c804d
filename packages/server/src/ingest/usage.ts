/**
 * The `Usage` table: per table per hour, the rows and bytes ingested and whether they are billable — in the shape
 * of Log Analytics' `Usage` (`DataType`, `Quantity` in MB, `IsBillable`, `StartTime`/`EndTime`) plus exact `Rows`,
 * `Bytes` and `BillableBytes`, e.g.
 *
 *   Usage | where TimeGenerated > ago(30d) and IsBillable | summarize GB = sum(Quantity) / 1024 by DataType
 *
 * The source of truth is the engine's load history (committed in the same transaction as the rows, so it survives
 * a crash exactly as the rows do). A roll-up writes each closed hour once: the hour's rows carry an engine receipt
 * `usage:<hour>` in the same transaction, and an hour whose receipt exists is not written again (also after a
 * restart). An hour is closed `graceMs` after its end: a load is stamped with its ingestion time when it starts and
 * commits a little later. Hours older than `lookbackMs` are not rolled up (receipts are purged after 7 days).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine, HourlyLoads, TableDefinition } from '../engine/engine.js';

export const USAGE_TABLE: TableDefinition = {
  name: 'Usage',
  billable: false,
  columns: [
    { name: 'TimeGenerated', type: 'datetime' },
    { name: 'StartTime', type: 'datetime' },
    { name: 'EndTime', type: 'datetime' },
    { name: 'DataType', type: 'string' },
    { name: 'Solution', type: 'string' },
    { name: 'Quantity', type: 'real' },
    { name: 'QuantityUnit', type: 'string' },
    { name: 'IsBillable', type: 'bool' },
    { name: 'Rows', type: 'long' },
    { name: 'Bytes', type: 'long' },
    { name: 'BillableBytes', type: 'long' },
    { name: 'TenantId', type: 'string' },
    { name: 'Type', type: 'string' },
  ],
};

const HOUR = 3_600_000;
const MB = 1024 * 1024;

export interface UsageOptions {
  readonly engine: Engine;
  /** Where the roll-up writes its load file. */
  readonly spoolDir: string;
  readonly billable: (table: string) => boolean;
  /** The data connector a table belongs to (`Solution`). */
  readonly connectorOf?: (table: string) => string | undefined;
  readonly clock?: () => number;
  /** How long after its end an hour is rolled up. Default 5 minutes. */
  readonly graceMs?: number;
  /** How far back a roll-up looks for hours not written yet. Default 3 days. */
  readonly lookbackMs?: number;
}

export interface UsagePoint extends HourlyLoads {
  readonly billable: boolean;
  readonly billableBytes: number;
}

export class UsageRecorder {
  private readonly clock: () => number;
  private running: Promise<number> | null = null;

  constructor(private readonly options: UsageOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** Usage per table per hour straight from the load history (includes the current hour). */
  async points(from: Date, to: Date): Promise<UsagePoint[]> {
    const loads = await this.options.engine.loadHistory(from, to);
    return loads
      .filter((l) => l.table !== USAGE_TABLE.name)
      .map((l) => {
        const billable = this.options.billable(l.table);
        return { ...l, billable, billableBytes: billable ? l.bytes : 0 };
      });
  }

  /** Writes every closed hour not written yet into `Usage`; returns how many rows it wrote. */
  rollup(): Promise<number> {
    this.running ??= this.rollupNow().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Waits for a roll-up in progress (the service closes the engine after this). */
  async close(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async rollupNow(): Promise<number> {
    const now = this.clock();
    const end = Math.floor((now - (this.options.graceMs ?? 5 * 60_000)) / HOUR) * HOUR;
    const start = Math.floor((now - (this.options.lookbackMs ?? 3 * 24 * HOUR)) / HOUR) * HOUR;
    if (end <= start) return 0;
    const points = await this.points(new Date(start), new Date(end));
    if (points.length === 0) return 0;
    const hours = [...new Set(points.map((p) => p.hour))];
    const done = await this.options.engine.receipts(hours.map((h) => `usage:${h}`));
    const todo = points.filter((p) => !done.has(`usage:${p.hour}`));
    if (todo.length === 0) return 0;
    const tenantId = this.options.engine.workspaceId;
    const rows = todo.map((p) => {
      const startMs = Date.parse(p.hour);
      return {
        TimeGenerated: p.hour,
        StartTime: p.hour,
        EndTime: new Date(startMs + HOUR).toISOString(),
        DataType: p.table,
        Solution: this.options.connectorOf?.(p.table) ?? '',
        Quantity: p.bytes / MB,
        QuantityUnit: 'MBytes',
        IsBillable: p.billable,
        Rows: p.rows,
        Bytes: p.bytes,
        BillableBytes: p.billableBytes,
      };
    });
    await this.options.engine.ensureTable(USAGE_TABLE);
    await mkdir(this.options.spoolDir, { recursive: true });
    const file = join(this.options.spoolDir, `usage-${randomUUID()}.ndjson`);
    await writeFile(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const written = [...new Set(todo.map((p) => p.hour))];
    try {
      const report = await this.options.engine.loadFile(USAGE_TABLE.name, file, {
        format: 'ndjson',
        oneRecordPerLine: true,
        fields: Object.keys(rows[0] as object),
        records: rows.length,
        set: { Type: USAGE_TABLE.name, TenantId: tenantId },
        receipts: () => written.map((h) => ({ key: `usage:${h}`, value: String(Date.now()) })),
        checkpoint: false,
      });
      return report.rowsLoaded;
    } finally {
      await rm(file, { force: true });
    }
  }
}
