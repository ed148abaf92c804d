/**
 * Defence in depth, DuckDB only: the contract suite shows that hostile SQL is refused by the engine; here the same
 * statements run on a raw connection of a locked-down instance, without the query guard, to show what the locked
 * configuration stops on its own and what only the guard stops (and why the guard exists).
 */
import { existsSync } from 'node:fs';
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkParseTree } from '../../src/engine/duckdb/guard.js';
import { instanceConfig, lockDown } from '../../src/engine/duckdb/lockdown.js';
import { duckdb, tempDir } from './engines.js';

/** Statements the locked configuration allows, each for a stated reason; the query guard refuses them. */
const ALLOWED_BY_CONFIG: Readonly<Record<string, string>> = {
  'the workspace database itself': 'DuckDB always lets SQL read its own database and WAL files',
  'COPY TO the spool': 'the spool is where the engine stages loads and results',
  'ATTACH in memory': 'no file involved',
  'DROP TABLE': 'SQL on the workspace catalog, not file access',
  DELETE: 'SQL on the workspace catalog',
  UPDATE: 'SQL on the workspace catalog',
  INSERT: 'SQL on the workspace catalog',
  'CREATE TABLE AS': 'SQL on the workspace catalog',
  'CREATE MACRO': 'SQL on the workspace catalog',
  CALL: 'a table function without file access',
  CHECKPOINT: 'writes only the database file',
  'two statements': 'the first statement is harmless and the second is catalog SQL',
  PRAGMA: 'connection-local pragmas (enable_profiling, disable_optimizer) escape the lock; no file access',
};

describe('DuckDB lockdown without the query guard', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let instance: DuckDBInstance;
  let conn: DuckDBConnection;
  let spool: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('vigil-lockdown-'));
    await mkdir(join(dir, 'spool'));
    spool = await realpath(join(dir, 'spool'));
    instance = await DuckDBInstance.create(join(dir, 'workspace.duckdb'), instanceConfig({ threads: 1 }));
    conn = await instance.connect();
    await lockDown(conn, spool);
    await conn.run('CREATE SCHEMA vigil_meta');
    await writeFile(join(spool, 'staged.csv'), 'a\n1\n');
  });
  afterAll(async () => {
    conn?.closeSync();
    instance?.closeSync();
    await cleanup?.();
  });

  it('the configuration alone refuses every file, extension and setting statement', async () => {
    const outside = join(dir, 'outside', 'canary');
    const unexpected: string[] = [];
    for (const h of duckdb.hostile({ spool, outside })) {
      // Fresh catalog objects for each statement, so that catalog SQL fails only if it is refused.
      await conn.run('CREATE OR REPLACE TABLE vigil_meta.tables (name VARCHAR, storage_name VARCHAR)');
      await conn.run('CREATE OR REPLACE TABLE vigil_meta.columns (name VARCHAR)');
      await conn.run('CREATE OR REPLACE TABLE vigil_meta.info (key VARCHAR, value VARCHAR)');
      await conn.run('DROP TABLE IF EXISTS evil');
      await conn.run('DROP MACRO IF EXISTS evil');
      await conn.run('DETACH DATABASE IF EXISTS m');
      const outcome = await conn.run(h.sql).then(
        () => 'ran',
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      );
      const allowed = h.name in ALLOWED_BY_CONFIG;
      if (allowed !== (outcome === 'ran')) unexpected.push(`${h.name}: ${outcome.split('\n')[0]}`);
      await conn.run('PRAGMA disable_profiling');
    }
    expect(unexpected).toEqual([]);
    expect(existsSync(join(dir, 'outside'))).toBe(false);
  });

  it('the settings cannot be read back as changed', async () => {
    const r = await conn.runAndReadAll(
      "SELECT current_setting('enable_external_access'), current_setting('lock_configuration'), current_setting('autoload_known_extensions')",
    );
    expect(r.getRowsJS()).toEqual([[false, true, false]]);
  });

  it('the spool stays readable for the engine, and the guard refuses reading it from a query', async () => {
    const r = await conn.runAndReadAll(`SELECT * FROM read_csv(${`'${spool}/staged.csv'`})`);
    expect(r.getRowsJS()).toEqual([[1n]]);
    const tree = await conn.runAndReadAll(
      `SELECT CAST(json_serialize_sql('SELECT * FROM read_csv(''x'')') AS VARCHAR)`,
    );
    expect(() => checkParseTree(String(tree.getRowsJS()[0]?.[0]), () => false)).toThrow(/read_csv/);
  });

  it('the guard lets generated SQL through: CTEs, joins, unnest, range, workspace tables with odd names', async () => {
    const sql =
      'WITH a AS (SELECT range AS n FROM range(3)), b AS (SELECT unnest([1, 2]) AS m) ' +
      'SELECT * FROM a JOIN b ON a.n = b.m JOIN "My.Table" t ON true, json_each(\'{"k":1}\')';
    const tree = await conn.runAndReadAll(`SELECT CAST(json_serialize_sql('${sql.replace(/'/g, "''")}') AS VARCHAR)`);
    expect(() => checkParseTree(String(tree.getRowsJS()[0]?.[0]), (name) => name === 'My.Table')).not.toThrow();
  });
});
