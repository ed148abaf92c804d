/**
 * A workspace's data settings, in its state store (migration 850): which tables of each data connector are
 * selected (the "Connect events" table selection: a deselected table refuses data while its connector stays on),
 * each table's retention in days, and the price per billable GB used for cost estimates.
 *
 * Everything is held in memory as well: the ingestion policy and the retention job read it synchronously.
 */
import { DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, MIN_RETENTION_DAYS } from '../ingest/retention.js';
import type { Migration } from '../state/migrations.js';
import type { SqlDriver } from '../state/sql-driver.js';
import { ContentError } from './content.js';

export const DATA_SETTINGS_MIGRATIONS: readonly Migration[] = [
  {
    version: 850,
    name: 'ingest: table selection, retention, price',
    statements: [
      `CREATE TABLE data_table_settings (
        table_name TEXT PRIMARY KEY, selected INTEGER, retention_days INTEGER,
        updated_at TEXT NOT NULL, updated_by TEXT NOT NULL)`,
      `CREATE TABLE data_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL)`,
    ],
  },
];

export interface PriceSettings {
  /** Price per billable GB (GiB, as Log Analytics bills); null when not configured. */
  readonly pricePerGb: number | null;
  readonly currency: string;
}

export class DataSettings {
  private readonly deselected = new Set<string>();
  private readonly retention = new Map<string, number>();
  private price: PriceSettings = { pricePerGb: null, currency: 'USD' };

  private constructor(
    private readonly db: SqlDriver,
    /** Retention of tables without their own setting. */
    readonly defaultRetentionDays: number,
  ) {}

  static async open(db: SqlDriver, defaults: Partial<PriceSettings> & { retentionDays?: number } = {}) {
    const s = new DataSettings(db, defaults.retentionDays ?? DEFAULT_RETENTION_DAYS);
    for (const r of await db.all<{ table_name: string; selected: number | null; retention_days: number | null }>(
      'SELECT table_name, selected, retention_days FROM data_table_settings',
    )) {
      if (r.selected === 0) s.deselected.add(r.table_name);
      if (r.retention_days !== null) s.retention.set(r.table_name, r.retention_days);
    }
    const kv = new Map(
      (await db.all<{ key: string; value: string }>('SELECT key, value FROM data_settings')).map((r) => [
        r.key,
        r.value,
      ]),
    );
    const price = kv.get('pricePerGb');
    s.price = {
      pricePerGb: price !== undefined ? (JSON.parse(price) as number | null) : (defaults.pricePerGb ?? null),
      currency: kv.get('currency') ?? defaults.currency ?? 'USD',
    };
    return s;
  }

  selected(table: string): boolean {
    return !this.deselected.has(table);
  }

  retentionDays(table: string): number {
    return this.retention.get(table) ?? this.defaultRetentionDays;
  }

  /** The table's own retention setting, if it has one. */
  ownRetentionDays(table: string): number | null {
    return this.retention.get(table) ?? null;
  }

  get prices(): PriceSettings {
    return this.price;
  }

  async select(tables: Readonly<Record<string, boolean>>, by: string, at: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const [table, on] of Object.entries(tables)) {
        await tx.run(
          `INSERT INTO data_table_settings (table_name, selected, updated_at, updated_by) VALUES (?, ?, ?, ?)
           ON CONFLICT (table_name) DO UPDATE SET selected = excluded.selected, updated_at = excluded.updated_at,
           updated_by = excluded.updated_by`,
          [table, on ? 1 : 0, at, by],
        );
      }
    });
    for (const [table, on] of Object.entries(tables)) {
      if (on) this.deselected.delete(table);
      else this.deselected.add(table);
    }
  }

  /** Sets a table's retention; null goes back to the default. */
  async setRetention(table: string, days: number | null, by: string, at: string): Promise<void> {
    if (days !== null && (!Number.isInteger(days) || days < MIN_RETENTION_DAYS || days > MAX_RETENTION_DAYS)) {
      throw new ContentError(
        'invalid',
        `retention is a whole number of days from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS} (got ${days})`,
      );
    }
    await this.db.run(
      `INSERT INTO data_table_settings (table_name, retention_days, updated_at, updated_by) VALUES (?, ?, ?, ?)
       ON CONFLICT (table_name) DO UPDATE SET retention_days = excluded.retention_days,
       updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      [table, days, at, by],
    );
    if (days === null) this.retention.delete(table);
    else this.retention.set(table, days);
  }

  async setPrice(p: Partial<PriceSettings>, by: string, at: string): Promise<PriceSettings> {
    if (p.pricePerGb !== undefined && p.pricePerGb !== null && !(p.pricePerGb >= 0 && Number.isFinite(p.pricePerGb)))
      throw new ContentError('invalid', `pricePerGb must be a non-negative number (got ${p.pricePerGb})`);
    const next: PriceSettings = {
      pricePerGb: p.pricePerGb !== undefined ? p.pricePerGb : this.price.pricePerGb,
      currency: p.currency ?? this.price.currency,
    };
    await this.db.transaction(async (tx) => {
      for (const [key, value] of [
        ['pricePerGb', JSON.stringify(next.pricePerGb)],
        ['currency', next.currency],
      ] as const) {
        await tx.run(
          `INSERT INTO data_settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
           updated_by = excluded.updated_by`,
          [key, value, at, by],
        );
      }
    });
    this.price = next;
    return next;
  }
}
