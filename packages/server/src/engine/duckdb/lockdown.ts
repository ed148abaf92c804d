/**
 * The first line of defence: how a DuckDB instance is opened and locked. After `lockDown`, no SQL on any
 * connection of the instance can read or write a file outside the spool (DuckDB still allows its own database
 * and WAL files, which the query guard covers), install or load an extension, or change a setting.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { str } from './sql.js';

export interface LockdownSettings {
  readonly threads?: number;
  readonly memoryLimit?: string;
  /** WAL size that triggers an automatic checkpoint (DuckDB's `checkpoint_threshold`, default 16MB). */
  readonly checkpointThreshold?: string;
}

/** Options for DuckDBInstance.create: settings that must hold from the first statement on. */
export function instanceConfig(settings: LockdownSettings): Record<string, string> {
  const config: Record<string, string> = {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  };
  if (settings.threads) config.threads = String(settings.threads);
  if (settings.memoryLimit) config.memory_limit = settings.memoryLimit;
  if (settings.checkpointThreshold) config.checkpoint_threshold = settings.checkpointThreshold;
  return config;
}

/**
 * Order matters: allowed_directories cannot be set once external access is off, and nothing can be set once the
 * configuration is locked. `spool` must be an absolute, symlink-free path (DuckDB compares path prefixes).
 */
export async function lockDown(conn: DuckDBConnection, spool: string): Promise<void> {
  await conn.run("SET TimeZone = 'UTC'");
  // Load progress (connection.progress) needs the progress bar on; it must never print to the terminal.
  await conn.run('SET enable_progress_bar = true');
  await conn.run('SET enable_progress_bar_print = false');
  await conn.run('SET progress_bar_time = 100');
  await conn.run(`SET allowed_directories = [${str(`${spool}/`)}]`);
  await conn.run('SET enable_external_access = false');
  await conn.run('SET lock_configuration = true');
}
