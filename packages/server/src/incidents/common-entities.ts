/**
 * Which entities are "common": seen in a large share of recently received alerts (a domain controller, a DNS
 * server, a proxy). At 10,000 alerts a minute, exact per-entity counts over a day would be tens of millions of
 * counters, while only the frequent ones matter. So each time bucket (window / 24) keeps a Misra–Gries summary:
 * at most `capacity` counters, and any entity whose count in the bucket exceeds bucketTotal / capacity is kept,
 * with its count under-estimated by at most bucketTotal / capacity. Over the window the share of an entity is
 * therefore known to within 1 / capacity (0.1 percentage points at the default 1,000), far finer than any useful
 * threshold.
 *
 * The summaries live in memory and are saved to `inc_entity_stats` (one row per kept counter) by `save()`, which
 * the service calls every minute and at close: a crash loses at most a minute of statistics, never a record.
 */
import type { SqlDriver } from '../state/sql-driver.js';

export const STATS_BUCKETS = 24;
const TOTAL_KEY = '*';

class Summary {
  readonly counts = new Map<string, number>();
  total = 0;
  dirty = false;
  constructor(private readonly capacity: number) {}

  add(key: string): void {
    this.dirty = true;
    const c = this.counts.get(key);
    if (c !== undefined) {
      this.counts.set(key, c + 1);
      return;
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(key, 1);
      return;
    }
    // Full: every counter gives one back (the new key's occurrence cancels against them); zeros leave.
    for (const [k, n] of this.counts) {
      if (n <= 1) this.counts.delete(k);
      else this.counts.set(k, n - 1);
    }
  }
}

export class CommonEntityStats {
  private readonly buckets = new Map<number, Summary>();

  constructor(
    private readonly bucketMs: number,
    private readonly capacity = 1000,
  ) {}

  static bucketMsFor(windowMs: number): number {
    return Math.max(1000, Math.floor(windowMs / STATS_BUCKETS));
  }

  private bucketOf(nowMs: number): number {
    return Math.floor(nowMs / this.bucketMs);
  }

  /** Alerts counted in the window ending now, and the estimated count of each key. */
  counts(keys: readonly string[], nowMs: number): { total: number; counts: Map<string, number> } {
    const current = this.bucketOf(nowMs);
    const counts = new Map<string, number>();
    let total = 0;
    for (const [b, s] of this.buckets) {
      if (b <= current - STATS_BUCKETS || b > current) continue;
      total += s.total;
      for (const k of keys) {
        const n = s.counts.get(k);
        if (n !== undefined) counts.set(k, (counts.get(k) ?? 0) + n);
      }
    }
    return { total, counts };
  }

  /** Counts one alert with its (distinct) linking keys. */
  add(keys: readonly string[], nowMs: number): void {
    const b = this.bucketOf(nowMs);
    let s = this.buckets.get(b);
    if (!s) {
      s = new Summary(this.capacity);
      this.buckets.set(b, s);
      for (const old of this.buckets.keys()) if (old <= b - STATS_BUCKETS * 2) this.buckets.delete(old);
    }
    s.total++;
    for (const k of keys) s.add(k);
  }

  /** Loads the saved summaries of the window. */
  async load(db: SqlDriver, nowMs: number): Promise<void> {
    const from = this.bucketOf(nowMs) - STATS_BUCKETS + 1;
    const rows = await db.all<{ entity_key: string; bucket: number; n: number }>(
      'SELECT entity_key, bucket, n FROM inc_entity_stats WHERE bucket >= ?',
      [from],
    );
    for (const r of rows) {
      const b = Number(r.bucket);
      let s = this.buckets.get(b);
      if (!s) {
        s = new Summary(this.capacity);
        this.buckets.set(b, s);
      }
      if (r.entity_key === TOTAL_KEY) s.total = Number(r.n);
      else s.counts.set(r.entity_key, Number(r.n));
    }
  }

  /** Saves the summaries that changed (replacing their rows) and forgets buckets older than two windows. */
  async save(db: SqlDriver, nowMs: number): Promise<void> {
    const current = this.bucketOf(nowMs);
    for (const [b, s] of this.buckets) {
      if (!s.dirty) continue;
      await db.run('DELETE FROM inc_entity_stats WHERE bucket = ?', [b]);
      const rows: [string, number][] = [[TOTAL_KEY, s.total], ...s.counts];
      for (let i = 0; i < rows.length; i += 200) {
        const part = rows.slice(i, i + 200);
        await db.run(
          `INSERT INTO inc_entity_stats (entity_key, bucket, n) VALUES ${part.map(() => '(?, ?, ?)').join(', ')}`,
          part.flatMap(([k, n]) => [k, b, n]),
        );
      }
      s.dirty = false;
    }
    await db.run('DELETE FROM inc_entity_stats WHERE bucket <= ?', [current - STATS_BUCKETS * 2]);
  }
}
