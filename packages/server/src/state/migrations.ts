/**
 * Versioned schema migrations of the state store, applied in order at open. Each migration is portable SQL (see
 * sql-driver.ts); a domain module contributes its migrations with a unique, increasing version and a name.
 * Applied versions are recorded in `schema_migrations`; a migration runs in one transaction.
 */
import type { SqlDriver } from './sql-driver.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Statements, executed one by one. */
  readonly statements: readonly string[];
}

export async function migrate(driver: SqlDriver, migrations: readonly Migration[]): Promise<number[]> {
  await driver.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const done = new Set(
    (await driver.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)),
  );
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const seen = new Set<number>();
  for (const m of sorted) {
    if (seen.has(m.version)) throw new Error(`two migrations share version ${m.version}`);
    seen.add(m.version);
  }
  const applied: number[] = [];
  for (const m of sorted) {
    if (done.has(m.version)) continue;
    await driver.transaction(async (tx) => {
      for (const s of m.statements) await tx.run(s);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        m.version,
        m.name,
        new Date().toISOString(),
      ]);
    });
    applied.push(m.version);
  }
  return applied;
}
