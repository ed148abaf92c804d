/**
 * The workspace's own bookkeeping, in schema `vigil_meta` of the same database: the KQL → storage name maps
 * (DuckDB's catalog cannot hold them: it has no case-sensitive names and no KQL types, e.g. a timespan is a
 * BIGINT), the history of loads (batch ids, rows, bytes), the receipts stored with loads (the ingestion service's
 * client batch ids) and the workspace id.
 */

import type { DuckDBConnection } from '@duckdb/node-api';
import type { ScalarTypeName } from '@vigil/kql';
import type { StorageColumn, TableStorage } from '../engine.js';
import { HIDDEN_COLUMNS } from '../storage-names.js';
import { DUCKDB_STORAGE_TYPES } from './sql.js';

export const META_VERSION = '1';

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
