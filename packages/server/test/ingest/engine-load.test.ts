/**
 * The engine's loading options that the ingestion service relies on (engine.ts, LoadOptions): record ranges per
 * request (parts), every rejected record in the dead-letter table with its raw text, receipts in the same
 * transaction, constant columns, caller-known fields and record counts, one-record-per-line files, transforms.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBEngine } from '../../src/engine/duckdb/duckdb-engine.js';
import { DEAD_LETTER_TABLE, type Engine, type TableDefinition, type TableStorage } from '../../src/engine/engine.js';

const T: TableDefinition = {
  name: 'Events',
  columns: [
    { name: 'TimeGenerated', type: 'datetime' },
    { name: 'Name', type: 'string' },
    { name: 'Count', type: 'long' },
    { name: 'When', type: 'datetime' },
    { name: 'Bag', type: 'dynamic' },
    { name: 'Type', type: 'string' },
    { name: 'TenantId', type: 'string' },
  ],
};

let dir: string;
let engine: DuckDBEngine;
let n = 0;

async function file(lines: readonly string[]): Promise<string> {
  const path = join(dir, `in-${n++}.ndjson`);
  await writeFile(path, lines.map((l) => `${l}\n`).join(''));
  return path;
}

async function open(): Promise<DuckDBEngine> {
  return DuckDBEngine.open({ path: join(dir, 'ws.duckdb'), spoolDir: join(dir, 'spool'), threads: 2, connections: 2 });
}

function select(t: TableStorage, columns: readonly string[], where = ''): string {
  const q = (c: string) => `"${t.columns.find((x) => x.name === c)?.storageName ?? c}"`;
  return `SELECT ${columns.map(q).join(', ')} FROM "${t.storageName}" ${where}`;
}

async function rows(e: Engine, table: string, columns: readonly string[], where = ''): Promise<unknown[][]> {
  const t = e.storage(table);
  if (!t) throw new Error(`no table ${table}`);
  const r = await e.execute(select(t, columns, where), {
    columns: columns.map((c) => ({ name: c, type: t.columns.find((x) => x.name === c)?.type ?? 'unknown' })),
  });
  return r.rows as unknown[][];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-engine-load-'));
  engine = await open();
  await engine.ensureTable(T);
});

afterAll(async () => {
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('loading on behalf of several requests', () => {
  it('splits the report by part and stores every rejected record with its raw text and reason', async () => {
    const lines = [
      '{"Name":"a","Count":1}',
      '{"Name":"b","Count":"two"}', // part 0, index 1: rejected
      '{"Name":"c","Count":3}',
      '{"Name":"d","When":"not a date","Count":"x"}', // part 1, index 0: rejected (2 columns)
      '{"Name":"e","Count":5}',
    ];
    const report = await engine.loadFile('Events', await file(lines), {
      oneRecordPerLine: true,
      records: 5,
      fields: ['Name', 'Count', 'When'],
      parts: [
        { records: 3, requestId: 'r1', clientBatchId: 'b1', source: 'POST /api/ingest/Events' },
        { records: 2, requestId: 'r2', source: 'POST /api/ingest/Events' },
      ],
      deadLetter: true,
      set: { Type: 'Events', TenantId: engine.workspaceId },
      checkpoint: false,
    });
    expect(report).toMatchObject({ rowsRead: 5, rowsLoaded: 3, rowsRejected: 2, format: 'ndjson' });
    expect(report.parts).toEqual([
      {
        records: 3,
        rowsLoaded: 2,
        rowsRejected: 1,
        rejected: [{ row: 2, columns: [{ column: 'Count', value: 'two', expected: 'long' }] }],
      },
      {
        records: 2,
        rowsLoaded: 1,
        rowsRejected: 1,
        rejected: [
          {
            row: 1,
            columns: [
              { column: 'Count', value: 'x', expected: 'long' },
              { column: 'When', value: 'not a date', expected: 'datetime' },
            ],
          },
        ],
      },
    ]);
    const dead = await rows(
      engine,
      DEAD_LETTER_TABLE.name,
      ['TargetTable', 'Source', 'RequestId', 'ClientBatchId', 'RecordIndex', 'Reason', 'RawRecord', 'Errors', 'Type'],
      `WHERE "LoadBatchId" = ${report.batchId} ORDER BY "RecordIndex" DESC`,
    );
    expect(dead).toEqual([
      [
        'Events',
        'POST /api/ingest/Events',
        'r1',
        'b1',
        1,
        'Count: "two" is not a long',
        '{"Name":"b","Count":"two"}',
        [{ column: 'Count', expected: 'long', value: 'two' }],
        'IngestionErrors',
      ],
      [
        'Events',
        'POST /api/ingest/Events',
        'r2',
        '',
        0,
        'Count: "x" is not a long; When: "not a date" is not a datetime',
        '{"Name":"d","When":"not a date","Count":"x"}',
        [
          { column: 'Count', expected: 'long', value: 'x' },
          { column: 'When', expected: 'datetime', value: 'not a date' },
        ],
        'IngestionErrors',
      ],
    ]);
    const loaded = await rows(engine, 'Events', ['Name', 'Type', 'TenantId'], `WHERE "Name" IN ('a','c','e')`);
    expect(loaded.map((r) => r[1])).toEqual(['Events', 'Events', 'Events']);
    expect(loaded.map((r) => r[2])).toEqual([engine.workspaceId, engine.workspaceId, engine.workspaceId]);
  });

  it('overrides Type and TenantId given by the source with `set`', async () => {
    await engine.loadFile('Events', await file(['{"Name":"set","Type":"Other","TenantId":"x"}']), {
      set: { Type: 'Events', TenantId: 'ws' },
    });
    expect(await rows(engine, 'Events', ['Type', 'TenantId'], `WHERE "Name" = 'set'`)).toEqual([['Events', 'ws']]);
  });

  it('trusts a record count that matches, and counts when a file holds more than announced', async () => {
    const r = await engine.loadFile('Events', await file(['{"Name":"k1"}', '{"Name":"k2"}']), { records: 2 });
    expect(r).toMatchObject({ rowsRead: 2, rowsLoaded: 2 });
    const more = await engine.loadFile('Events', await file(['{"Name":"k3"}', '{"Name":"k4"}']), { records: 1 });
    expect(more).toMatchObject({ rowsRead: 2, rowsLoaded: 2, rowsRejected: 0 });
  });

  it('refuses parts that do not add up to the records', async () => {
    await expect(
      engine.loadFile('Events', await file(['{"Name":"p"}']), { records: 1, parts: [{ records: 2 }] }),
    ).rejects.toThrow(/add up/);
  });

  it('reads keys beyond the announced fields when they are column names', async () => {
    await engine.loadFile('Events', await file(['{"Name":"f1","Count":7}']), { fields: ['Name'] });
    expect(await rows(engine, 'Events', ['Count'], `WHERE "Name" = 'f1'`)).toEqual([[7]]);
  });

  it('with every key announced, reads only those; the other columns get their defaults', async () => {
    const r = await engine.loadFile('Events', await file(['{"Name":"fc","Count":3}']), {
      fields: ['Name', 'Count'],
      fieldsComplete: true,
      oneRecordPerLine: true,
    });
    expect(r).toMatchObject({ rowsLoaded: 1, ignored: [] });
    expect(await rows(engine, 'Events', ['Count', 'Type', 'TenantId', 'Bag'], `WHERE "Name" = 'fc'`)).toEqual([
      [3, 'Events', '', null],
    ]);
  });

  it('a key the sample missed still loads, also when its value must be rejected', async () => {
    const lines = ['{"Name":"late"}', '{"Name":"late","Count":4}', '{"Name":"late","Count":"four"}'];
    const r = await engine.loadFile('Events', await file(lines), {
      fields: ['Name'],
      records: 3,
      oneRecordPerLine: true,
    });
    expect(r).toMatchObject({ rowsRead: 3, rowsLoaded: 2, rowsRejected: 1 });
    expect(await rows(engine, 'Events', ['Count'], `WHERE "Name" = 'late' ORDER BY "Count"`)).toEqual([[4], [null]]);
  });

  it("sizes the reader for the longest record: one larger than DuckDB's default 16 MB loads with the hint", async () => {
    const big = `{"Name":"big","Bag":{"x":"${'y'.repeat(17 * 1024 * 1024)}"}}`;
    const small = '{"Name":"big","Count":1}';
    const r = await engine.loadFile('Events', await file([small, big, small]), {
      fields: ['Name', 'Count', 'Bag'],
      oneRecordPerLine: true,
      records: 3,
      maxRecordBytes: big.length,
    });
    expect(r).toMatchObject({ rowsRead: 3, rowsLoaded: 3 });
    // Without the hint the file's size bounds the records.
    const again = await engine.loadFile('Events', await file([big]), {
      fields: ['Name', 'Bag'],
      oneRecordPerLine: true,
    });
    expect(again).toMatchObject({ rowsLoaded: 1 });
    expect(await rows(engine, 'Events', ['Count'], `WHERE "Name" = 'big' ORDER BY "Count"`)).toEqual([
      [1],
      [1],
      [null],
      [null],
    ]);
  });

  it('fails a one-record-per-line file whose record spans lines (the caller broke its promise)', async () => {
    await expect(
      engine.loadFile('Events', await file(['{"Name":', '"x"}']), { oneRecordPerLine: true }),
    ).rejects.toMatchObject({ code: 'load' });
  });
});

describe('receipts', () => {
  it('stores receipts with the load, finds them after a reopen, and purges old ones', async () => {
    const report = await engine.loadFile('Events', await file(['{"Name":"rc"}']), {
      receipts: (r) => [{ key: 'batch-1', value: JSON.stringify({ rows: r.rowsLoaded }) }],
    });
    expect(report.rowsLoaded).toBe(1);
    expect(await engine.receipts(['batch-1', 'nope'])).toEqual(new Map([['batch-1', '{"rows":1}']]));
    const id = engine.workspaceId;
    await engine.close();
    engine = await open();
    expect(engine.workspaceId).toBe(id);
    expect((await engine.receipts(['batch-1'])).get('batch-1')).toBe('{"rows":1}');
    expect(await engine.purgeReceipts(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(1);
    expect((await engine.receipts(['batch-1'])).size).toBe(0);
  });

  it('writes no receipt when the load fails', async () => {
    await expect(
      engine.loadFile('Events', await file(['{"Name":', '"x"}']), {
        oneRecordPerLine: true,
        receipts: () => [{ key: 'batch-failed', value: '{}' }],
      }),
    ).rejects.toMatchObject({ code: 'load' });
    expect((await engine.receipts(['batch-failed'])).size).toBe(0);
  });
});

describe('transforms', () => {
  it('coerces the input into a scratch table, then inserts what the SELECT returns', async () => {
    const input: TableDefinition = {
      name: 'source',
      columns: [
        { name: 'Msg', type: 'string' },
        { name: 'N', type: 'long' },
      ],
    };
    const report = await engine.loadFile(
      'Events',
      await file(['{"Msg":"keep","N":2}', '{"Msg":"drop","N":1}', '{"Msg":"bad","N":"z"}']),
      {
        transform: {
          input,
          select: (s) => {
            const c = (name: string) => `"${s.columns.find((x) => x.name === name)?.storageName}"`;
            return {
              sql: `SELECT upper(${c('Msg')}), ${c('N')} * 10 FROM "${s.storageName}" WHERE ${c('N')} > 1`,
              columns: ['Name', 'Count'],
            };
          },
        },
        deadLetter: true,
        set: { Type: 'Events' },
      },
    );
    expect(report).toMatchObject({
      rowsRead: 3,
      rowsRejected: 1,
      rowsLoaded: 1,
      transformed: { rowsIn: 2, rowsOut: 1 },
    });
    expect(await rows(engine, 'Events', ['Name', 'Count', 'Type'], `WHERE "Name" = 'KEEP'`)).toEqual([
      ['KEEP', 20, 'Events'],
    ]);
    const dead = await rows(
      engine,
      DEAD_LETTER_TABLE.name,
      ['TargetTable', 'Reason'],
      `WHERE "LoadBatchId" = ${report.batchId}`,
    );
    expect(dead).toEqual([['Events', 'N: "z" is not a long']]);
  });

  it('refuses a transform that is not one SELECT, and leaves nothing behind', async () => {
    const before = await rows(engine, 'Events', ['Name']);
    await expect(
      engine.loadFile('Events', await file(['{"Msg":"x"}']), {
        transform: {
          input: { name: 'source', columns: [{ name: 'Msg', type: 'string' }] },
          select: () => ({ sql: 'SELECT 1; DROP TABLE "Events"', columns: ['Name'] }),
        },
      }),
    ).rejects.toMatchObject({ code: 'refused' });
    expect(await rows(engine, 'Events', ['Name'])).toHaveLength(before.length);
  });
});
