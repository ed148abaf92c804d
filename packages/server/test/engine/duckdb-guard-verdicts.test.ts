/**
 * The query guard's verdict memory (GuardVerdicts): accepted SQL texts are remembered, bounded, and a verdict that
 * depended on the workspace's tables (a path-like table name) is not remembered, so a later table change cannot
 * turn a remembered acceptance into a file read.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { checkParseTree, GuardVerdicts } from '../../src/engine/duckdb/guard.js';

async function tree(sql: string): Promise<string> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const r = await conn.runAndReadAll(`SELECT CAST(json_serialize_sql('${sql.replace(/'/g, "''")}') AS VARCHAR)`);
    return String(r.getRowsJS()[0]?.[0]);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe('query guard verdicts', () => {
  it('counts statements and says whether the verdict consulted the workspace tables', async () => {
    expect(checkParseTree(await tree('SELECT a FROM t WHERE a > 1'), () => false)).toEqual({
      statements: 1,
      consultedTables: false,
    });
    expect(checkParseTree(await tree('SELECT 1; SELECT 2'), () => false).statements).toBe(2);
    expect(checkParseTree(await tree('SELECT * FROM "My.Table"'), (n) => n === 'My.Table')).toEqual({
      statements: 1,
      consultedTables: true,
    });
  });

  it('remembers accepted texts, most recently used last, up to its capacity', () => {
    const v = new GuardVerdicts(2);
    expect(v.has('SELECT 1')).toBe(false);
    v.remember('SELECT 1');
    v.remember('SELECT 2');
    expect(v.has('SELECT 1')).toBe(true); // now the most recent
    v.remember('SELECT 3'); // evicts SELECT 2, the least recently used
    expect([v.has('SELECT 1'), v.has('SELECT 2'), v.has('SELECT 3')]).toEqual([true, false, true]);
    v.remember(`SELECT '${'x'.repeat(70_000)}'`);
    expect(v.has(`SELECT '${'x'.repeat(70_000)}'`)).toBe(false);
  });
});
