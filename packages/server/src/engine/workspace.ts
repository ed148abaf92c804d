/**
 * A workspace on disk: one folder holding the engine's database and its spool. The CLI and the server open
 * workspaces only through here, so the layout is defined in one place (see CONTEXT.md, "Workspace folder").
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ClickHouseEngine } from './clickhouse/clickhouse-engine.js';
import { DuckDBEngine } from './duckdb/duckdb-engine.js';
import type { Engine } from './engine.js';

export interface WorkspaceOptions {
  readonly threads?: number;
  readonly memoryLimit?: string;
  readonly connections?: number;
  /** WAL size that triggers an automatic checkpoint, e.g. `256MB` (see DuckDBEngineOptions). */
  readonly checkpointThreshold?: string;
  /** `duckdb` (default) or `clickhouse`: in process (chdb, in the folder) or, with `clickhouseUrl`, a server. */
  readonly engine?: 'duckdb' | 'clickhouse';
  readonly clickhouseUrl?: string;
}

export const WORKSPACE_LAYOUT = {
  database: 'workspace.duckdb',
  clickhouse: 'clickhouse',
  spool: 'spool',
} as const;

export async function openWorkspace(dir: string, options: WorkspaceOptions = {}): Promise<Engine> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  if (options.engine === 'clickhouse') {
    return ClickHouseEngine.open({
      ...(options.clickhouseUrl ? { url: options.clickhouseUrl } : { path: join(root, WORKSPACE_LAYOUT.clickhouse) }),
      spoolDir: join(root, WORKSPACE_LAYOUT.spool),
      ...(options.threads ? { threads: options.threads } : {}),
    });
  }
  return DuckDBEngine.open({
    path: join(root, WORKSPACE_LAYOUT.database),
    spoolDir: join(root, WORKSPACE_LAYOUT.spool),
    ...options,
  });
}
