/** SQL text helpers for the DuckDB engine: every identifier quoted, every literal escaped. */
import type { ScalarTypeName } from '@vigil/kql';

/** KQL type → DuckDB storage type (the storage model in ../CONTEXT.md). */
export const DUCKDB_STORAGE_TYPES: Readonly<Record<ScalarTypeName, string>> = {
  bool: 'BOOLEAN',
  int: 'INTEGER',
  long: 'BIGINT',
  real: 'DOUBLE',
  decimal: 'DECIMAL(38,18)',
  string: 'VARCHAR',
  datetime: 'TIMESTAMP',
  timespan: 'BIGINT',
  guid: 'UUID',
  dynamic: 'JSON',
};

export function ident(name: string): string {
  if (name.includes('\u0000')) throw new Error('identifier contains NUL');
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal; NUL cannot appear inside DuckDB literals, so it is spliced in with chr(0). */
export function str(s: string): string {
  if (s.includes('\u0000')) return `(${s.split('\u0000').map(str).join(' || chr(0) || ')})`;
  return `'${s.replace(/'/g, "''")}'`;
}

/** A TIMESTAMP literal from a JS Date (millisecond precision). */
export function timestampLiteral(d: Date): string {
  return `TIMESTAMP '${d.toISOString().replace('T', ' ').replace('Z', '')}'`;
}
