/**
 * A real detection stack for tests: a DuckDB workspace with the repository's schema, a SQLite state store, the
 * ingestion tracker, and the detection service on a controllable clock. Rows are ingested through the engine's
 * load path (NDJSON files), so their ingestion time is the real time of the load: tests load rows first and only
 * then move the clock past the window that holds them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestionTracker } from '../../src/detect/ingestion-tracker.js';
import { DetectionService, type DetectionServiceOptions } from '../../src/detect/service.js';
import type { Engine, LoadReport, TableDefinition } from '../../src/engine/engine.js';
import type { KqlValue } from '../../src/engine/values.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { runKql } from '../../src/query/query-service.js';
import { SqliteDriver } from '../../src/state/sql-driver.js';
import { workspaceDefinitions } from '../conformance/runner.js';

/** The service's clock: fixed (moved by the test) or live (real time). */
export class Clock {
  private fixed: number | null;
  constructor(ms = Date.now()) {
    this.fixed = ms;
  }
  readonly now = () => this.fixed ?? Date.now();
  set(ms: number): void {
    this.fixed = ms;
  }
  /** Follows real time. */
  live(): void {
    this.fixed = null;
  }
}

export interface Harness {
  readonly dir: string;
  readonly engine: Engine;
  readonly state: SqliteDriver;
  readonly tracker: IngestionTracker;
  readonly clock: Clock;
  readonly definitions: readonly TableDefinition[];
  service: DetectionService;
  /** Loads rows into a table (created from the schema on first use); returns the load report. */
  ingest(table: string, rows: readonly Record<string, unknown>[]): Promise<LoadReport>;
  /** Rows of a KQL query as objects. */
  query(kql: string): Promise<Record<string, KqlValue>[]>;
  /** Stops the service and opens a new one on the same workspace and state (a restart). */
  restart(options?: Partial<DetectionServiceOptions>): Promise<DetectionService>;
  close(): Promise<void>;
}

let fileSeq = 0;

export async function openHarness(options: Partial<DetectionServiceOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-detect-test-'));
  const engine = await openWorkspace(join(dir, 'ws'), { threads: 2 });
  const state = new SqliteDriver(join(dir, 'state.db'));
  const clock = new Clock();
  const tracker = new IngestionTracker({ clock: clock.now });
  const definitions = workspaceDefinitions();
  const make = (extra: Partial<DetectionServiceOptions> = {}) =>
    DetectionService.open({
      engine,
      definitions,
      state,
      tracker,
      clock: clock.now,
      scratchDir: join(dir, 'scratch'),
      tenantId: 'test-workspace',
      ...options,
      ...extra,
    });
  const h: Harness = {
    dir,
    engine,
    state,
    tracker,
    clock,
    definitions,
    service: await make(),
    async ingest(table, rows) {
      const def = definitions.find((d) => d.name === table);
      if (!def) throw new Error(`no table ${table}`);
      await engine.ensureTable(def);
      const file = join(dir, `rows-${++fileSeq}.ndjson`);
      writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
      const report = await tracker.loadFile(engine, table, file, { format: 'ndjson', checkpoint: false });
      if (report.rowsRejected) throw new Error(`rejected rows: ${JSON.stringify(report.rejected)}`);
      return report;
    },
    async query(kql) {
      const out = await runKql({ engine, definitions: h.service.workspace.definitions }, kql);
      if (!out.result) throw new Error(out.error?.message ?? 'no result');
      try {
        const cols = out.result.columns;
        return (await out.result.rows()).map((r) => Object.fromEntries(cols.map((c, i) => [c.name, r[i] ?? null])));
      } finally {
        await out.result.close();
      }
    },
    async restart(extra) {
      await h.service.stop();
      h.service = await make(extra);
      return h.service;
    },
    async close() {
      await h.service.stop();
      await engine.close();
      await state.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Moves the clock to the end of the window holding `ms` for a rule whose windows end at `head + k * frequency`. */
export function windowEndAfter(headMs: number, frequencyMs: number, ms: number): number {
  return headMs + Math.floor((ms - headMs) / frequencyMs + 1) * frequencyMs;
}

export const iso = (ms: number) => new Date(ms).toISOString();
