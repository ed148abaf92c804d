/**
 * The workspace's own bookkeeping, in schema `vigil_meta` of the same database: the KQL → storage name maps
 * (DuckDB's catalog cannot hold them: it has no case-sensitive names and no KQL types, e.g. a timespan is a
 * BIGINT), the history of loads (batch ids, rows, bytes), the receipts stored with loads (the ingestion service's
 * client batch ids), the workspace id, and each table's physical layout (see `TableLayout`).
 */

import type { DuckDBConnection } from '@duckdb/node-api';
import type { ScalarTypeName } from '@vigil/kql';
import type { StorageColumn, TableStorage } from '../engine.js';
import { HIDDEN_COLUMNS } from '../storage-names.js';
import { DUCKDB_STORAGE_TYPES, ident } from './sql.js';

export const META_VERSION = '1';

/** Where lazy tables keep their rows; the name the compiler queries is a view over it. */
export const DATA_SCHEMA = 'vigil_data';

/**
 * How a table's rows are stored. A **lazy** table (every table created since lazy layouts exist) is a physical
 * table `vigil_data.<storage name>` holding only the columns some load has written (plus the hidden ones), and a
 * view under the storage name, which the compiler queries, showing every KQL column: the stored ones as they are,
 * the others as their empty value ('' for strings, typed NULL otherwise). A load that writes a column not stored
 * yet adds it first (in the load's transaction). Why: a source sends a fraction of a schema's columns (26 of
 * DeviceProcessEvents' ~110), and every stored column of '' costs every load its full width in the WAL.
 * A **legacy** table (workspaces created before) is one physical table under the storage name with every column.
 */
export interface TableLayout {
  readonly lazy: boolean;
  /** The physical table, quoted and schema-qualified as SQL. */
  readonly physical: string;
  /** KQL names of the columns present in the physical table. */
  readonly stored: ReadonlySet<string>;
}

export function legacyLayout(t: TableStorage): TableLayout {
  return { lazy: false, physical: ident(t.storageName), stored: new Set(t.columns.map((c) => c.name)) };
}

export function lazyLayout(t: TableStorage, stored: Iterable<string>): TableLayout {
  return { lazy: true, physical: `${DATA_SCHEMA}.${ident(t.storageName)}`, stored: new Set(stored) };
}

/** The view a lazy table is queried through: every KQL column, then the hidden ones. */
export function lazyViewSql(t: TableStorage, layout: TableLayout): string {
  const cols = t.columns.map((c) =>
    layout.stored.has(c.name)
      ? ident(c.storageName)
      : `${c.type === 'string' ? "''" : `CAST(NULL AS ${c.storageType})`} AS ${ident(c.storageName)}`,
  );
  const hidden = [t.hidden.ingestionTime, t.hidden.batchId].map(ident);
  return `CREATE OR REPLACE VIEW ${ident(t.storageName)} AS SELECT ${[...cols, ...hidden].join(', ')} FROM ${layout.physical}`;
}

/** The layouts of every table (legacy unless listed as lazy). */
export async function readLayouts(
  conn: DuckDBConnection,
  tables: readonly TableStorage[],
): Promise<Map<string, TableLayout>> {
  const lazy = new Set(
    ((await conn.runAndReadAll('SELECT name FROM vigil_meta.lazy_tables')).getRowsJS() as [string][]).map(([n]) => n),
  );
  const stored = new Map<string, string[]>();
  for (const [t, c] of (
    await conn.runAndReadAll('SELECT table_name, name FROM vigil_meta.stored_columns')
  ).getRowsJS() as [string, string][]) {
    const list = stored.get(t) ?? [];
    list.push(c);
    stored.set(t, list);
  }
  return new Map(
    tables.map((t) => [t.name, lazy.has(t.name) ? lazyLayout(t, stored.get(t.name) ?? []) : legacyLayout(t)]),
  );
}

export const META_DDL = [
  'CREATE SCHEMA IF NOT EXISTS vigil_meta',
  'CREATE TABLE IF NOT EXISTS vigil_meta.info (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)',
  `CREATE TABLE IF NOT EXISTS vigil_meta.tables (
     name VARCHAR PRIMARY KEY, storage_name VARCHAR NOT NULL, created TIMESTAMP NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS vigil_meta.columns (
     table_name VARCHAR NOT NULL, ordinal INTEGER NOT NULL, name VARCHAR NOT NULL, type VARCHAR NOT NULL,
     storage_name VARCHAR NOT NULL, variant_of VARCHAR, PRIMARY KEY (table_name, name))`,
  `CREATE TABLE IF NOT EXISTS vigil_meta.loads (
     batch_id BIGINT PRIMARY KEY, table_name VARCHAR NOT NULL, source VARCHAR NOT NULL, format VARCHAR NOT NULL,
     bytes BIGINT NOT NULL, rows_read BIGINT NOT NULL, rows_loaded BIGINT NOT NULL, rows_rejected BIGINT NOT NULL,
     ingestion_time TIMESTAMP NOT NULL, ms DOUBLE NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS vigil_meta.receipts (
     key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL, created TIMESTAMP NOT NULL)`,
  // Lazy tables (see TableLayout): a table listed here is stored in DATA_SCHEMA with only its stored columns.
  `CREATE SCHEMA IF NOT EXISTS ${DATA_SCHEMA}`,
  'CREATE TABLE IF NOT EXISTS vigil_meta.lazy_tables (name VARCHAR PRIMARY KEY)',
  `CREATE TABLE IF NOT EXISTS vigil_meta.stored_columns (
     table_name VARCHAR NOT NULL, name VARCHAR NOT NULL, PRIMARY KEY (table_name, name))`,
  `INSERT INTO vigil_meta.info VALUES ('version', '${META_VERSION}') ON CONFLICT DO NOTHING`,
  `INSERT INTO vigil_meta.info VALUES ('workspace_id', CAST(uuid() AS VARCHAR)) ON CONFLICT DO NOTHING`,
];

/** Reads every table's storage map. */
export async function readStorageMaps(conn: DuckDBConnection): Promise<TableStorage[]> {
  const tables = (
    await conn.runAndReadAll('SELECT name, storage_name FROM vigil_meta.tables ORDER BY created, name')
  ).getRowObjectsJS() as { name: string; storage_name: string }[];
  const columns = (
    await conn.runAndReadAll(
      'SELECT table_name, name, type, storage_name, variant_of FROM vigil_meta.columns ORDER BY table_name, ordinal',
    )
  ).getRowObjectsJS() as {
    table_name: string;
    name: string;
    type: ScalarTypeName;
    storage_name: string;
    variant_of: string | null;
  }[];
  return tables.map((t) =>
    makeStorage(
      t.name,
      t.storage_name,
      columns
        .filter((c) => c.table_name === t.name)
        .map((c) => storageColumn(c.name, c.type, c.storage_name, c.variant_of ?? undefined)),
    ),
  );
}

export function storageColumn(
  name: string,
  type: ScalarTypeName,
  storageName: string,
  variantOf?: string,
): StorageColumn {
  const column = { name, type, storageName, storageType: DUCKDB_STORAGE_TYPES[type] };
  return variantOf ? { ...column, variantOf } : column;
}

export function makeStorage(name: string, storageName: string, columns: readonly StorageColumn[]): TableStorage {
  return {
    name,
    storageName,
    columns,
    hidden: { ingestionTime: HIDDEN_COLUMNS.ingestionTime, batchId: HIDDEN_COLUMNS.batchId },
  };
}
