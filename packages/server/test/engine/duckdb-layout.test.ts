/**
 * DuckDB's lazy table layout (engine/duckdb/meta.ts, TableLayout): the physical table stores only the columns some
 * load wrote, a view under the storage name shows the full KQL schema, columns are added in the load's transaction
 * (rolled back with it), the layout survives a reopen, and workspaces created with the legacy layout (one physical
 * table with every column) keep working. The physical tables are inspected by opening the database file directly,
 * after the engine closed it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDBEngine } from '../../src/engine/duckdb/duckdb-engine.js';
import { META_DDL } from '../../src/engine/duckdb/meta.js';
import type { Engine, TableDefinition } from '../../src/engine/engine.js';

const T: TableDefinition = {
  name: 'Wide',
  columns: [
    { name: 'TimeGenerated', type: 'datetime' },
    { name: 'Name', type: 'string' },
    { name: 'Count', type: 'long' },
    { name: 'Bag', type: 'dynamic' },
    { name: 'Late', type: 'string' },
    { name: 'LateNumber', type: 'long' },
    { name: 'Never', type: 'string' },
    { name: 'NeverNumber', type: 'long' },
    { name: 'NeverTime', type: 'datetime' },
    { name: 'NeverBag', type: 'dynamic' },
    { name: 'NeverGuid', type: 'guid' },
    { name: 'Type', type: 'string' },
    { name: 'TenantId', type: 'string' },
  ],
};
const ALL = T.columns.map((c) => c.name);

let dir: string;
let n = 0;

async function file(lines: readonly string[]): Promise<string> {
  const path = join(dir, `in-${n++}.ndjson`);
  await writeFile(path, lines.map((l) => `${l}\n`).join(''));
  return path;
}

function open(): Promise<DuckDBEngine> {
  return DuckDBEngine.open({ path: join(dir, 'ws.duckdb'), spoolDir: join(dir, 'spool'), threads: 2, connections: 2 });
}

async function rows(e: Engine, table: string, columns: readonly string[], order = 'Name'): Promise<unknown[][]> {
  const t = e.storage(table);
  if (!t) throw new Error(`no table ${table}`);
  const q = (c: string) => `"${t.columns.find((x) => x.name === c)?.storageName ?? c}"`;
  const r = await e.execute(`SELECT ${columns.map(q).join(', ')} FROM "${t.storageName}" ORDER BY ${q(order)}`, {
    columns: columns.map((c) => ({ name: c, type: t.columns.find((x) => x.name === c)?.type ?? 'unknown' })),
  });
  return r.rows as unknown[][];
}

/** The columns of the physical tables, read from the closed workspace's file: `schema.table` → column names. */
async function physicalColumns(): Promise<Map<string, string[]>> {
  const instance = await DuckDBInstance.create(join(dir, 'ws.duckdb'));
  const conn = await instance.connect();
  try {
    const out = new Map<string, string[]>();
    const r = await conn.runAndReadAll(
      "SELECT schema_name || '.' || table_name, column_name FROM duckdb_columns() WHERE database_name = 'ws' AND schema_name <> 'vigil_meta' ORDER BY column_index",
    );
    for (const [t, c] of r.getRowsJS() as [string, string][]) out.set(t, [...(out.get(t) ?? []), c]);
    return out;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-layout-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lazy tables', () => {
  it('store only the columns loads write; the view shows every column with its empty value', async () => {
    const e = await open();
    try {
      await e.ensureTable(T);
      const report = await e.loadFile(
        'Wide',
        await file(['{"Name":"a","Count":1,"Bag":{"k":1}}', '{"Name":"b","Count":2}']),
        { set: { TenantId: 'ws' } },
      );
      expect(report.rowsLoaded).toBe(2);
      expect(await rows(e, 'Wide', ['Name', 'Count', 'Bag', 'Never', 'NeverNumber', 'NeverBag', 'Type'])).toEqual([
        ['a', 1, { k: 1 }, '', null, null, 'Wide'],
        ['b', 2, null, '', null, null, 'Wide'],
      ]);
      // Every KQL column is queryable through the view, in Kusto's encoding.
      const all = await rows(e, 'Wide', ALL);
      expect(all[0]?.slice(6)).toEqual(['', null, null, null, null, 'Wide', 'ws']);
      // A filter on a column that is not stored is a filter on its empty value.
      const t = e.storage('Wide');
      const never = t?.columns.find((c) => c.name === 'Never')?.storageName;
      const r = await e.execute(`SELECT count(*) FROM "${t?.storageName}" WHERE "${never}" = ''`);
      expect(r.rows).toEqual([[2]]);
    } finally {
      await e.close();
    }
    const physical = await physicalColumns();
    expect(physical.get('vigil_data.Wide')?.sort()).toEqual(
      ['Bag', 'Count', 'Name', 'TenantId', 'TimeGenerated', 'Type', '__batch_id', '__ingestion_time'].sort(),
    );
    expect(physical.has('main.Wide')).toBe(true); // the view
    expect(physical.get('main.Wide')).toHaveLength(ALL.length + 2);
  });

  it('add a column when a load first writes it; older rows read it as empty; kept across a reopen', async () => {
    let e = await open();
    try {
      await e.ensureTable(T);
      await e.loadFile('Wide', await file(['{"Name":"a","Count":1}']));
      await e.close();
      e = await open();
      await e.loadFile('Wide', await file(['{"Name":"b","Late":"x","LateNumber":7}']));
      await e.close();
      e = await open();
      expect(await rows(e, 'Wide', ['Name', 'Count', 'Late', 'LateNumber'])).toEqual([
        ['a', 1, '', null],
        ['b', null, 'x', 7],
      ]);
    } finally {
      await e.close();
    }
    expect((await physicalColumns()).get('vigil_data.Wide')).toEqual(expect.arrayContaining(['Late', 'LateNumber']));
  });

  it('keep a key first seen after the fields the caller sampled (strict insert, then the late keys are found)', async () => {
    const e = await open();
    try {
      await e.ensureTable(T);
      const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ Name: `n${String(i).padStart(2, '0')}` }));
      lines.push('{"Name":"z1","Late":"late value","LateNumber":"12"}');
      const report = await e.loadFile('Wide', await file(lines), { fields: ['Name'], records: 51 });
      expect(report.rowsLoaded).toBe(51);
      expect((await rows(e, 'Wide', ['Name', 'Late', 'LateNumber'])).at(-1)).toEqual(['z1', 'late value', 12]);
    } finally {
      await e.close();
    }
  });

  it('keep a late key in a load that also rejects a row (checked insert)', async () => {
    const e = await open();
    try {
      await e.ensureTable(T);
      const report = await e.loadFile(
        'Wide',
        await file(['{"Name":"a","Count":1}', '{"Name":"b","Count":"not a number"}', '{"Name":"c","Late":"kept"}']),
        { fields: ['Name', 'Count'], records: 3, deadLetter: true },
      );
      expect([report.rowsLoaded, report.rowsRejected]).toEqual([2, 1]);
      expect(await rows(e, 'Wide', ['Name', 'Count', 'Late'])).toEqual([
        ['a', 1, ''],
        ['c', null, 'kept'],
      ]);
      expect(await rows(e, 'IngestionErrors', ['RecordIndex', 'TargetTable'], 'RecordIndex')).toEqual([[1, 'Wide']]);
    } finally {
      await e.close();
    }
  });

  it('roll the added columns back with a load that fails', async () => {
    let e = await open();
    try {
      await e.ensureTable(T);
      await e.loadFile('Wide', await file(['{"Name":"a"}']));
      // The new key is in the sample, so its column is added; the malformed second record then fails the load.
      await expect(
        e.loadFile('Wide', await file(['{"Name":"b","Late":"x"}', '{"Name": oops}']), { format: 'ndjson' }),
      ).rejects.toThrow();
      expect(await rows(e, 'Wide', ['Name', 'Late'])).toEqual([['a', '']]);
      await e.loadFile('Wide', await file(['{"Name":"c","Count":3}']));
      await e.close();
      e = await open();
      expect(await rows(e, 'Wide', ['Name', 'Late', 'Count'])).toEqual([
        ['a', '', null],
        ['c', '', 3],
      ]);
    } finally {
      await e.close();
    }
    expect((await physicalColumns()).get('vigil_data.Wide')).not.toContain('Late');
  });

  it('show columns added to the definition later, deletes and stats work on the physical table', async () => {
    const e = await open();
    try {
      await e.ensureTable(T);
      await e.loadFile('Wide', await file(['{"Name":"a","Count":1}']));
      await e.ensureTable({ ...T, columns: [...T.columns, { name: 'Added', type: 'string' }] });
      expect(await rows(e, 'Wide', ['Name', 'Added'])).toEqual([['a', '']]);
      await e.loadFile('Wide', await file(['{"Name":"b","Added":"yes"}']));
      expect(await rows(e, 'Wide', ['Name', 'Added'])).toEqual([
        ['a', ''],
        ['b', 'yes'],
      ]);
      const stats = (await e.stats()).find((s) => s.table === 'Wide');
      expect(stats?.rows).toBe(2);
      expect(await e.deleteIngestedBefore('Wide', new Date(Date.now() + 60_000))).toBe(2);
      expect(await rows(e, 'Wide', ['Name'])).toEqual([]);
    } finally {
      await e.close();
    }
  });
});

describe('legacy tables (workspaces created before lazy layouts)', () => {
  it('keep working: loads, added columns, queries, deletes', async () => {
    // The legacy layout as the engine wrote it: one table under the storage name with every column.
    const instance = await DuckDBInstance.create(join(dir, 'ws.duckdb'));
    const conn = await instance.connect();
    for (const ddl of META_DDL) await conn.run(ddl);
    await conn.run(
      `CREATE TABLE "Old" ("Name" VARCHAR DEFAULT '', "Count" BIGINT, "Type" VARCHAR DEFAULT '', __ingestion_time TIMESTAMP, __batch_id BIGINT)`,
    );
    await conn.run("INSERT INTO \"Old\" VALUES ('before', 5, 'Old', TIMESTAMP '2020-01-01', 0)");
    await conn.run("INSERT INTO vigil_meta.tables VALUES ('Old', 'Old', now()::TIMESTAMP)");
    await conn.run(
      "INSERT INTO vigil_meta.columns VALUES ('Old', 0, 'Name', 'string', 'Name', NULL), ('Old', 1, 'Count', 'long', 'Count', NULL), ('Old', 2, 'Type', 'string', 'Type', NULL)",
    );
    conn.closeSync();
    instance.closeSync();

    const e = await open();
    try {
      await e.loadFile('Old', await file(['{"Name":"after"}']));
      const grown = await e.ensureTable({
        name: 'Old',
        columns: [
          { name: 'Name', type: 'string' },
          { name: 'Count', type: 'long' },
          { name: 'Type', type: 'string' },
          { name: 'Extra', type: 'string' },
        ],
      });
      expect(grown.columns.map((c) => c.name)).toEqual(['Name', 'Count', 'Type', 'Extra']);
      await e.loadFile('Old', await file(['{"Name":"later","Extra":"x"}']));
      expect(await rows(e, 'Old', ['Name', 'Count', 'Type', 'Extra'])).toEqual([
        ['after', null, 'Old', ''],
        ['before', 5, 'Old', ''],
        ['later', null, 'Old', 'x'],
      ]);
      expect(await e.deleteIngestedBefore('Old', new Date('2021-01-01'))).toBe(1);
      expect((await e.stats()).find((s) => s.table === 'Old')?.rows).toBe(2);
      // A table created now in the same workspace is lazy.
      await e.ensureTable(T);
      await e.loadFile('Wide', await file(['{"Name":"n"}']));
    } finally {
      await e.close();
    }
    const physical = await physicalColumns();
    expect(physical.get('main.Old')).toEqual(['Name', 'Count', 'Type', '__ingestion_time', '__batch_id', 'Extra']);
    expect(physical.has('vigil_data.Old')).toBe(false);
    expect(physical.has('vigil_data.Wide')).toBe(true);
  });
});

describe('priority loads (a second writer lane)', () => {
  it('commit beside a bulk load of another table, and after a load of the same table', async () => {
    const e = await open();
    try {
      await e.ensureTable(T);
      await e.ensureTable({ name: 'Alerts', columns: [{ name: 'Name', type: 'string' }] });
      // A bulk load long enough to still run while the small ones are asked for (tens of ms per 10k rows here).
      const bulk = await file(
        Array.from({ length: 200_000 }, (_, i) => JSON.stringify({ Name: `row ${i}`, Count: i, Late: 'x'.repeat(40) })),
      );
      const done: string[] = [];
      const big = e.loadFile('Wide', bulk, { records: 200_000 }).then((r) => {
        done.push('bulk');
        return r;
      });
      await new Promise((r) => setTimeout(r, 20));
      const small = e.loadFile('Alerts', await file(['{"Name":"alert"}']), { priority: true }).then((r) => {
        done.push('priority, other table');
        return r;
      });
      const same = e.loadFile('Wide', await file(['{"Name":"zz"}']), { priority: true }).then((r) => {
        done.push('priority, same table');
        return r;
      });
      const reports = await Promise.all([big, small, same]);
      expect(done).toEqual(['priority, other table', 'bulk', 'priority, same table']);
      expect(new Set(reports.map((r) => r.batchId)).size).toBe(3);
      expect(await rows(e, 'Alerts', ['Name'])).toEqual([['alert']]);
      const count = await e.execute(`SELECT count(*) FROM "${e.storage('Wide')?.storageName}"`);
      expect(count.rows).toEqual([[200_001]]);
    } finally {
      await e.close();
    }
  });
});
