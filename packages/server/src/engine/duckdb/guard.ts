/**
 * The query guard, the engine's second line of defence after the locked configuration. DuckDB always lets SQL
 * read its own database and WAL files by name (`read_blob('…/workspace.duckdb')` works even with external access
 * off), and the spool is readable by design; generated SQL never needs either. So before a query runs, its parse
 * tree (DuckDB's own parser, via `json_serialize_sql`) is checked: every table function must be on an allowlist,
 * and no table may be a file path (a replacement scan such as `FROM 'x.csv'`).
 *
 * To let generated SQL use another table function, add it to SAFE_TABLE_FUNCTIONS after checking that it cannot
 * reach a file, the network or the catalog of another database.
 */
import { EngineError } from '../errors.js';

export const SAFE_TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'range',
  'generate_series',
  'unnest',
  'json_each',
  'json_tree',
]);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Throws EngineError('refused') if the serialized parse tree uses a table function or a table that reads files.
 * `isTable` tells workspace tables (whose KQL names may look like file names) from replacement scans.
 * Returns the number of statements, and whether the verdict consulted `isTable` (then it depends on the workspace's
 * tables and must not be remembered across table changes).
 */
export function checkParseTree(
  serialized: string,
  isTable: (storageName: string) => boolean,
): { statements: number; consultedTables: boolean } {
  const tree = JSON.parse(serialized) as { error?: boolean; error_message?: string; statements?: Json[] };
  if (tree.error) {
    throw new EngineError('refused', `query refused: ${tree.error_message ?? 'not a plain SELECT'}`);
  }
  const problems: string[] = [];
  let consultedTables = false;
  const visit = (node: Json): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if (node.type === 'TABLE_FUNCTION') {
      const fn = node.function as { function_name?: string; schema?: string; catalog?: string } | null;
      const name = (fn?.function_name ?? '').toLowerCase();
      if (!SAFE_TABLE_FUNCTIONS.has(name) || fn?.schema || fn?.catalog) problems.push(`table function ${name}()`);
    }
    if (node.type === 'BASE_TABLE') {
      const name = String(node.table_name ?? '');
      const pathLike = /[/\\]|\.[A-Za-z0-9]+$|^[a-z][a-z0-9+.-]*:/i.test(name);
      if (pathLike) consultedTables = true;
      if (pathLike && !isTable(name)) problems.push(`file reference '${name}'`);
    }
    for (const value of Object.values(node)) if (value !== null && typeof value === 'object') visit(value);
  };
  visit(tree.statements ?? []);
  if (problems.length > 0) {
    throw new EngineError('refused', `query refused: it uses ${[...new Set(problems)].join(', ')}`);
  }
  return { statements: Array.isArray(tree.statements) ? tree.statements.length : 0, consultedTables };
}

/**
 * The SQL texts the guard accepted, most recently used last, bounded. A verdict that did not depend on the
 * workspace's tables depends on the text alone, so a repeated hunt or a rule's query skips the parse-tree round
 * trip (json_serialize_sql: ~1–2 ms per query). Refusals are not remembered: they are rare and cheap to redo.
 */
export class GuardVerdicts {
  private readonly accepted = new Map<string, true>();

  constructor(private readonly capacity = 512) {}

  has(sql: string): boolean {
    if (!this.accepted.has(sql)) return false;
    this.accepted.delete(sql);
    this.accepted.set(sql, true);
    return true;
  }

  remember(sql: string): void {
    // Very long texts (wide unions) are not kept: the cache holds at most capacity × 64 kB.
    if (sql.length > 65_536) return;
    this.accepted.set(sql, true);
    if (this.accepted.size > this.capacity) {
      const oldest = this.accepted.keys().next().value;
      if (oldest !== undefined) this.accepted.delete(oldest);
    }
  }
}
