/**
 * Per-table retention: a purge job deletes the rows of each table that arrived more than its retention (days) ago.
 * Age is counted from the ingestion time (`ingestion_time()`), not `TimeGenerated`: events replayed from an
 * archive or a sample file are kept for the retention period after they arrived instead of vanishing at once.
 */
import type { Engine } from '../engine/engine.js';

export const DEFAULT_RETENTION_DAYS = 90;
/** Log Analytics' range: 4 days to 12 years; Vigil allows down to one day. */
export const MIN_RETENTION_DAYS = 1;
export const MAX_RETENTION_DAYS = 4383;

const DAY = 86_400_000;

export interface PurgeResult {
  readonly table: string;
  readonly retentionDays: number;
  /** Rows ingested before this instant were deleted. */
  readonly before: string;
  readonly rows: number;
}

export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PurgeResult[]> | null = null;

  constructor(
    private readonly options: {
      readonly engine: Engine;
      readonly retentionDays: (table: string) => number;
      readonly clock?: () => number;
      readonly onPurged?: (result: PurgeResult) => void;
      readonly onWarning?: (message: string) => void;
    },
  ) {}

  /** Runs the purge now and then every `intervalMs` (default one hour). */
  start(intervalMs = 3_600_000): void {
    const tick = () =>
      void this.run().catch((e: unknown) => this.options.onWarning?.(`retention purge failed: ${String(e)}`));
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  /** Purges every table once (one at a time: each delete holds the engine's writer). */
  run(): Promise<PurgeResult[]> {
    this.running ??= this.runNow().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async runNow(): Promise<PurgeResult[]> {
    const now = (this.options.clock ?? Date.now)();
    const out: PurgeResult[] = [];
    for (const t of this.options.engine.tables()) {
      const days = this.options.retentionDays(t.name);
      const before = new Date(now - days * DAY);
      const rows = await this.options.engine.deleteIngestedBefore(t.name, before);
      const result = { table: t.name, retentionDays: days, before: before.toISOString(), rows };
      if (rows > 0) this.options.onPurged?.(result);
      out.push(result);
    }
    return out;
  }
}
