/**
 * The tables ingestion can write to: every table of the workspace schema (`content/schema/tables.json`, Defender
 * tables in their workspace form), custom tables (`*_CL`, declared through the API, persisted by the engine), and
 * the dead-letter table (written by the engine only). Tables are created in storage on first use.
 *
 * Every table also gets the columns every ingested row has: `TimeGenerated`, `Type` and `TenantId` (the few schema
 * tables without a Sentinel form lack them).
 */
import type { ScalarTypeName } from '@vigil/kql';
import { SENTINEL_HEALTH } from '../detect/health.js';
import { DEAD_LETTER_TABLE, type Engine, type TableDefinition } from '../engine/engine.js';
import { isEngineError } from '../engine/errors.js';
import { IngestError } from './errors.js';
import { USAGE_TABLE } from './usage.js';

/** Tables Vigil writes itself (dead letters, usage, health): queryable, never an ingestion target. */
const SERVICE_TABLES: readonly TableDefinition[] = [
  DEAD_LETTER_TABLE,
  USAGE_TABLE,
  { ...SENTINEL_HEALTH, billable: false },
];

/** Whether a table accepts data: the hook data connectors use to switch tables off. */
export type TablePolicy = (table: string) => { readonly enabled: true } | { readonly enabled: false; reason: string };

export const ALL_ENABLED: TablePolicy = () => ({ enabled: true });

export const STANDARD_COLUMNS: readonly { readonly name: string; readonly type: ScalarTypeName }[] = [
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'Type', type: 'string' },
  { name: 'TenantId', type: 'string' },
];

const CUSTOM_NAME = /^[A-Za-z][A-Za-z0-9_]{0,60}_CL$/;
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,126}$/;

/** Column types as KQL names them, and as Azure's table API spells them. */
const TYPE_ALIASES: Readonly<Record<string, ScalarTypeName>> = {
  bool: 'bool',
  boolean: 'bool',
  int: 'int',
  long: 'long',
  real: 'real',
  double: 'real',
  decimal: 'decimal',
  string: 'string',
  datetime: 'datetime',
  date: 'datetime',
  timespan: 'timespan',
  time: 'timespan',
  guid: 'guid',
  uniqueid: 'guid',
  dynamic: 'dynamic',
};

function withStandardColumns(def: TableDefinition): TableDefinition {
  const missing = STANDARD_COLUMNS.filter((s) => !def.columns.some((c) => c.name === s.name));
  return missing.length === 0 ? def : { ...def, columns: [...def.columns, ...missing] };
}

export class TableCatalog {
  private readonly schema = new Map<string, TableDefinition>();
  private readonly ensured = new Map<string, Promise<void>>();

  constructor(
    private readonly engine: Engine,
    schemaTables: readonly TableDefinition[],
    private readonly policy: TablePolicy = ALL_ENABLED,
  ) {
    for (const t of schemaTables) this.schema.set(t.name, withStandardColumns(t));
  }

  /** Every table a query can name: the schema's, custom and dead-letter tables (for the compiler). */
  definitions(): TableDefinition[] {
    const out = new Map(this.schema);
    for (const t of this.engine.tables()) {
      if (!out.has(t.name))
        out.set(t.name, { name: t.name, columns: t.columns.map((c) => ({ name: c.name, type: c.type })) });
    }
    for (const t of SERVICE_TABLES) if (!out.has(t.name)) out.set(t.name, t);
    return [...out.values()];
  }

  /** The declared definition of a table (schema or service table), if any. */
  definition(name: string): TableDefinition | undefined {
    return this.schema.get(name) ?? SERVICE_TABLES.find((t) => t.name === name);
  }

  /** The names of the schema's tables (whether or not they exist in storage yet). */
  schemaTables(): string[] {
    return [...this.schema.keys()];
  }

  /** The table rows may be ingested into, created in storage if needed; an IngestError when it may not. */
  async writable(name: string): Promise<void> {
    if (SERVICE_TABLES.some((t) => t.name === name)) {
      throw new IngestError('reserved_table', `${name} is written by Vigil only`, { table: name });
    }
    const def = this.schema.get(name);
    if (!def && !this.engine.storage(name)) {
      const near =
        [...this.schema.keys()].find((t) => t.toLowerCase() === name.toLowerCase()) ??
        this.engine.tables().find((t) => t.name.toLowerCase() === name.toLowerCase())?.name;
      throw new IngestError(
        'unknown_table',
        `unknown table '${name}'${near ? ` (table names are case-sensitive: did you mean ${near}?)` : ''}${
          name.endsWith('_CL') && !near ? '; create a custom table first with PUT /api/tables/{name}' : ''
        }`,
        { table: name },
      );
    }
    const policy = this.policy(name);
    if (!policy.enabled) {
      throw new IngestError('table_disabled', `table ${name} is disabled: ${policy.reason}`, { table: name });
    }
    if (def) await this.ensure(def);
  }

  private ensure(def: TableDefinition): Promise<void> {
    let p = this.ensured.get(def.name);
    if (!p) {
      p = this.engine.ensureTable(def).then(() => undefined);
      // A failure is not cached: the next request tries again.
      p.catch(() => this.ensured.delete(def.name));
      this.ensured.set(def.name, p);
    }
    return p;
  }

  /**
   * Creates a custom table, or adds the columns it lacks (`PUT /api/tables/{name}`). Columns are `{name, type}`
   * with KQL type names or Azure's (`boolean`, `dateTime`, ...); the standard columns are added when missing.
   */
  async putCustom(name: string, columns: unknown): Promise<TableDefinition> {
    if (!CUSTOM_NAME.test(name)) {
      throw new IngestError(
        'invalid_table',
        `a custom table name ends with _CL and has only letters, digits and underscores (got '${name}')`,
        { table: name },
      );
    }
    if (!Array.isArray(columns) || columns.length === 0) {
      throw new IngestError('invalid_table', 'a custom table needs columns: [{"name": "...", "type": "..."}, ...]');
    }
    const declared: { name: string; type: ScalarTypeName }[] = [];
    const seen = new Set<string>();
    for (const [i, c] of columns.entries()) {
      const col = c as { name?: unknown; type?: unknown };
      if (typeof col?.name !== 'string' || !COLUMN_NAME.test(col.name)) {
        throw new IngestError('invalid_table', `column ${i}: a name of letters, digits and underscores is required`);
      }
      const type = typeof col.type === 'string' ? TYPE_ALIASES[col.type.toLowerCase()] : undefined;
      if (!type) {
        throw new IngestError(
          'invalid_table',
          `column ${col.name}: unknown type ${JSON.stringify(col.type)} (one of ${[...new Set(Object.values(TYPE_ALIASES))].join(', ')})`,
        );
      }
      if (seen.has(col.name)) throw new IngestError('invalid_table', `column ${col.name} is declared twice`);
      seen.add(col.name);
      declared.push({ name: col.name, type });
    }
    const existing = this.engine.storage(name);
    // Columns the table has and the request does not list are kept: a PUT adds, it never drops.
    const kept = existing?.columns.filter((c) => !seen.has(c.name)).map((c) => ({ name: c.name, type: c.type })) ?? [];
    const def = withStandardColumns({ name, columns: [...kept, ...declared] });
    try {
      await this.engine.ensureTable(def);
    } catch (e) {
      if (isEngineError(e, 'schema')) throw new IngestError('schema_conflict', e.message, { table: name });
      throw e;
    }
    const storage = this.engine.storage(name);
    return { name, columns: storage?.columns.map((c) => ({ name: c.name, type: c.type })) ?? def.columns };
  }

  /** The table's columns (KQL names and types), if the table is known. */
  columns(name: string): readonly { readonly name: string; readonly type: ScalarTypeName }[] | undefined {
    const storage = this.engine.storage(name);
    if (storage) return storage.columns.map((c) => ({ name: c.name, type: c.type }));
    const def = this.schema.get(name) ?? SERVICE_TABLES.find((t) => t.name === name);
    return def?.columns.map((c) => ({ name: c.name, type: c.type as ScalarTypeName }));
  }
}
