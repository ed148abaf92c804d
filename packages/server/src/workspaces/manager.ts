/**
 * The server's workspaces: a registry in the server's state store (migration 810) and the open `Workspace` of each.
 * Workspaces are found by name (REST paths, Kusto database names) or id (Log Analytics workspace ids, token
 * bindings); both are unique.
 */
import { join } from 'node:path';
import type { Migration } from '../state/migrations.js';
import { migrate } from '../state/migrations.js';
import type { SqlDriver } from '../state/sql-driver.js';
import { Workspace, type WorkspaceRecord, type WorkspaceServicesOptions } from './workspace.js';

export const WORKSPACE_MIGRATIONS: readonly Migration[] = [
  {
    version: 810,
    name: 'workspaces: registry',
    statements: [
      `CREATE TABLE workspaces (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, name_lower TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
        created_at TEXT NOT NULL, created_by TEXT NOT NULL)`,
    ],
  },
];

export const WORKSPACE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class WorkspaceError extends Error {
  override readonly name = 'WorkspaceError';
  constructor(
    readonly code: 'invalid' | 'conflict' | 'not_found',
    message: string,
  ) {
    super(message);
  }
}

/** Called for each workspace once its core services are open (the server plugs automation in here). */
export type WorkspaceHook = (ws: Workspace) => Promise<void>;

export class WorkspaceManager {
  private readonly byId = new Map<string, Workspace>();
  private readonly byName = new Map<string, Workspace>();
  private readonly hooks: WorkspaceHook[] = [];

  private constructor(
    private readonly db: SqlDriver,
    readonly dataDir: string,
    private readonly options: WorkspaceServicesOptions,
  ) {}

  /** Opens every registered workspace. */
  static async open(
    db: SqlDriver,
    dataDir: string,
    options: WorkspaceServicesOptions,
    hooks: readonly WorkspaceHook[] = [],
  ): Promise<WorkspaceManager> {
    await migrate(db, WORKSPACE_MIGRATIONS);
    const m = new WorkspaceManager(db, dataDir, options);
    m.hooks.push(...hooks);
    const rows = await db.all<{
      id: string;
      name: string;
      display_name: string;
      created_at: string;
      created_by: string;
    }>('SELECT * FROM workspaces ORDER BY created_at, name');
    try {
      for (const r of rows) {
        const ws = await m.openOne({
          name: r.name,
          displayName: r.display_name,
          createdAt: r.created_at,
          createdBy: r.created_by,
        });
        if (ws.id !== r.id)
          throw new Error(`workspace ${r.name}: its engine's id ${ws.id} is not the registered ${r.id}`);
      }
    } catch (e) {
      await m.close();
      throw e;
    }
    return m;
  }

  private async openOne(record: Omit<WorkspaceRecord, 'id'>): Promise<Workspace> {
    const ws = await Workspace.open(join(this.dataDir, 'workspaces', record.name), record, this.options);
    try {
      for (const h of this.hooks) await h(ws);
    } catch (e) {
      await ws.close().catch(() => undefined);
      throw e;
    }
    this.byId.set(ws.id, ws);
    this.byName.set(ws.name, ws);
    return ws;
  }

  list(): Workspace[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** By name (case-insensitive) or id. */
  get(nameOrId: string): Workspace | undefined {
    return this.byName.get(nameOrId.toLowerCase()) ?? this.byId.get(nameOrId.toLowerCase());
  }

  async create(name: string, displayName: string, createdBy: string): Promise<Workspace> {
    if (!WORKSPACE_NAME.test(name))
      throw new WorkspaceError('invalid', 'a workspace name is 1-63 lower-case letters, digits or "-"');
    if (this.byName.has(name)) throw new WorkspaceError('conflict', `a workspace named '${name}' exists`);
    const record = { name, displayName: displayName || name, createdAt: new Date().toISOString(), createdBy };
    const ws = await this.openOne(record);
    await this.db.run(
      'INSERT INTO workspaces (id, name, name_lower, display_name, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)',
      [ws.id, name, name, record.displayName, record.createdAt, createdBy],
    );
    return ws;
  }

  async close(): Promise<void> {
    const all = [...this.byId.values()];
    this.byId.clear();
    this.byName.clear();
    // Workspaces are independent: close them together.
    await Promise.all(all.map((w) => w.close()));
  }
}
