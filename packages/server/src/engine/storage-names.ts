/**
 * KQL names are case-sensitive; DuckDB identifiers are not, even quoted (`"ISP"` and `"Isp"` are one column).
 * Every table therefore keeps a deterministic KQL-name → storage-name map: the first name of a case-insensitive
 * collision keeps its spelling, later ones get `__2`, `__3`, ... The map is persisted with the table (see the
 * engine's metadata), so it never changes once assigned, even when columns are added later.
 */
import { workspaceFromTablesJson } from '@vigil/kql';
import type { TableDefinition } from './engine.js';

/** Storage columns every table has and the KQL schema does not show. */
export const HIDDEN_COLUMNS = {
  ingestionTime: '__ingestion_time',
  batchId: '__batch_id',
} as const;

/** Names taken, compared case-insensitively (the engine's rule). */
export class StorageNamespace {
  private readonly taken = new Set<string>();

  constructor(reserved: Iterable<string> = []) {
    for (const name of reserved) this.taken.add(name.toLowerCase());
  }

  /** Marks an existing storage name as taken (when loading the persisted map). */
  reserve(storageName: string): void {
    this.taken.add(storageName.toLowerCase());
  }

  /** The storage name for a new KQL name: the name itself, or the first free `name__k` (k ≥ 2). */
  assign(kqlName: string): string {
    let name = kqlName;
    for (let k = 2; this.taken.has(name.toLowerCase()); k++) name = `${kqlName}__${k}`;
    this.taken.add(name.toLowerCase());
    return name;
  }
}

/**
 * The workspace tables of `content/schema/tables.json` (Defender tables in their workspace form, see
 * `workspaceFromTablesJson`) with their case-variant pairs, ready for `Engine.ensureTable`.
 */
export function tableDefinitionsFromTablesJson(json: unknown): TableDefinition[] {
  const raw = (json as { tables: Record<string, { caseVariants?: [string, string][]; billing?: unknown }> }).tables;
  return workspaceFromTablesJson(json).tables.map((t) => {
    const pairs = raw[t.name]?.caseVariants ?? [];
    const billing = raw[t.name]?.billing;
    // `billing` is prose from Sentinel's billing page: "free ..." for the free data sources, else billable.
    const billable = typeof billing === 'string' ? !/^free\b/i.test(billing.trim()) : undefined;
    return {
      ...t,
      ...(pairs.length > 0 ? { caseVariants: pairs } : {}),
      ...(billable !== undefined ? { billable } : {}),
    };
  });
}
