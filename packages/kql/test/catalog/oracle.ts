/**
 * Microsoft's analyzer (the shared test oracle, `test/support/oracle.ts`) over the schema the catalog tests use:
 * table `T` with one column per KQL type and a lookup table `U` (sharing column `s` with `T`).
 */
import type { WorkspaceSchema } from '../../src/catalog/workspace.js';
import { oracleAnalyze } from '../support/oracle.js';

/** The columns of `T` (one per KQL type) and `U` (a lookup table for the *_lookup plugins). */
export const TABLE_T = [
  { name: 'l', type: 'long' },
  { name: 'i', type: 'int' },
  { name: 'r', type: 'real' },
  { name: 'dc', type: 'decimal' },
  { name: 's', type: 'string' },
  { name: 'b', type: 'bool' },
  { name: 'dt', type: 'datetime' },
  { name: 'ts', type: 'timespan' },
  { name: 'g', type: 'guid' },
  { name: 'dy', type: 'dynamic' },
] as const;

export const TABLE_U = [
  { name: 'k', type: 'string' },
  { name: 'v', type: 'long' },
  { name: 'dy2', type: 'dynamic' },
  { name: 's', type: 'string' },
] as const;

export interface CatalogOracleResult {
  /** No error diagnostic. */
  readonly ok: boolean;
  /** The result schema `(a:long, b:string)`; `none` when the result is not one table (e.g. preview's two). */
  readonly schema: string;
}

const SCHEMA: WorkspaceSchema = {
  database: 'db',
  tables: [
    { name: 'T', columns: TABLE_T.map((c) => ({ name: c.name, type: c.type })) },
    { name: 'U', columns: TABLE_U.map((c) => ({ name: c.name, type: c.type })) },
  ],
  functions: [],
};

/** Analyzes a query against `T` and `U` with Microsoft's analyzer (the shared test oracle). */
export function oracle(query: string): CatalogOracleResult {
  let r: ReturnType<typeof oracleAnalyze>;
  try {
    r = oracleAnalyze(query, SCHEMA);
  } catch {
    // the analyzer itself throws on a few malformed plugin calls; such calls are left out of comparisons
    return { ok: false, schema: 'exception' };
  }
  const schema = r.columns
    ? `(${r.columns.map((c) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.name) ? c.name : `['${c.name}']`}:${c.type}`).join(', ')})`
    : 'none';
  return { ok: r.ok, schema };
}
