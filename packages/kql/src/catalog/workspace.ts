/**
 * The workspace catalog the binder resolves table and function names against: tables with their columns, plus
 * stored functions (user-defined, e.g. ASIM parsers). Built from `content/schema/tables.json` by
 * `workspaceFromTablesJson` (pure: the caller reads the file).
 */
import type { Column, ScalarTypeName } from '../binder/types.js';
import { TYPE_ALIASES } from '../binder/types.js';

export interface TableSchema {
  readonly name: string;
  readonly columns: readonly Column[];
}

export interface StoredFunction {
  readonly name: string;
  /** Parameter list as KQL text, e.g. `(starttime:datetime, T:(*))`; `()` when none. */
  readonly parameters: string;
  /** The body as KQL text, with or without surrounding braces. */
  readonly body: string;
  readonly description?: string;
}

export interface WorkspaceSchema {
  readonly database: string;
  readonly tables: readonly TableSchema[];
  readonly functions: readonly StoredFunction[];
}

interface TablesJsonColumn {
  readonly name: string;
  readonly type: string;
}
interface TablesJsonTable {
  readonly columns: readonly TablesJsonColumn[];
  readonly sentinelColumns?: readonly TablesJsonColumn[];
  readonly caseVariants?: readonly (readonly [string, string])[];
}

/**
 * The workspace form of every table: for Defender tables the union of the advanced-hunting `columns` and the
 * Sentinel `sentinelColumns` (so both `Timestamp` and `TimeGenerated` exist, as in a Sentinel workspace). Column
 * order: advanced-hunting columns first, then Sentinel-only columns in their order. Where both forms have a column
 * with different types (e.g. `LoggedOnUsers` string vs dynamic), the workspace has the Sentinel type.
 */
export function workspaceFromTablesJson(json: unknown, database = 'Vigil'): WorkspaceSchema {
  const tables = (json as { tables: Record<string, TablesJsonTable> }).tables;
  const out: TableSchema[] = [];
  for (const [name, t] of Object.entries(tables)) {
    // Order: advanced-hunting columns, then Sentinel-only ones; type: the Sentinel form's where both exist.
    const types = new Map<string, ScalarTypeName>();
    for (const c of [...t.columns, ...(t.sentinelColumns ?? [])]) {
      const type: ScalarTypeName | undefined = TYPE_ALIASES[c.type.toLowerCase()];
      if (!type) throw new Error(`tables.json: ${name}.${c.name} has unknown type ${c.type}`);
      types.set(c.name, type);
    }
    out.push({ name, columns: [...types].map(([n, type]) => ({ name: n, type })) });
  }
  return { database, tables: out, functions: [] };
}
