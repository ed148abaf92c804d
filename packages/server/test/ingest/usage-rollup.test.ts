/**
 * The `Usage` roll-up against a real engine: closed hours only, each hour written once — also by a recorder of a
 * reopened engine (the receipts are committed with the rows) — and the service's own `Usage` loads left out.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { USAGE_TABLE, UsageRecorder } from '../../src/ingest/usage.js';

const HOUR = 3_600_000;
let dir: string;

const recorder = (engine: Engine, clock: () => number) =>
  new UsageRecorder({
    engine,
    spoolDir: join(dir, 'usage-spool'),
    billable: (t) => t !== 'FreeTable',
    connectorOf: (t) => (t === 'Paid' ? 'paid-connector' : undefined),
    clock,
  });

async function count(engine: Engine, table: string): Promise<number> {
  const s = engine.storage(table);
  if (!s) return 0;
  const r = await engine.execute(`SELECT count(*) FROM "${s.storageName}"`);
  return Number(r.rows[0]?.[0]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-usage-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Usage roll-up', () => {
  it('writes closed hours once per table, also after the engine is reopened', async () => {
    let engine = await openWorkspace(join(dir, 'ws'), { threads: 1 });
    for (const [table, n] of [
      ['Paid', 3],
      ['FreeTable', 2],
    ] as const) {
      await engine.ensureTable({
        name: table,
        columns: [
          { name: 'TimeGenerated', type: 'datetime' },
          { name: 'Msg', type: 'string' },
        ],
      });
      const file = join(dir, `${table}.ndjson`);
      await writeFile(file, Array.from({ length: n }, (_, i) => JSON.stringify({ Msg: `m${i}` })).join('\n'));
      await engine.loadFile(table, file);
    }
    // The hour of these loads is still open: nothing to write yet.
    expect(await recorder(engine, () => Date.now()).rollup()).toBe(0);
    expect(await count(engine, USAGE_TABLE.name)).toBe(0);

    const later = () => Date.now() + 2 * HOUR;
    expect(await recorder(engine, later).rollup()).toBe(2);
    const rows = await engine.execute(
      `SELECT "DataType", "Rows", "Bytes", "BillableBytes", "IsBillable", "Solution", "QuantityUnit"
       FROM "${engine.storage(USAGE_TABLE.name)?.storageName}" ORDER BY "DataType"`,
    );
    expect(rows.rows.map((r) => [r[0], r[1], r[4], r[5], r[6]])).toEqual([
      ['FreeTable', 2, false, '', 'MBytes'],
      ['Paid', 3, true, 'paid-connector', 'MBytes'],
    ]);
    const [free, paid] = rows.rows as [unknown[], unknown[]];
    expect(free[3]).toBe(0);
    expect(paid[3]).toBe(paid[2]);

    // A second roll-up, and one by a fresh recorder on the reopened engine, write nothing again; the Usage
    // table's own load is not reported as usage.
    expect(await recorder(engine, later).rollup()).toBe(0);
    await engine.close();
    engine = await openWorkspace(join(dir, 'ws'), { threads: 1 });
    try {
      const again = recorder(engine, () => Date.now() + 3 * HOUR);
      expect(await again.rollup()).toBe(0);
      expect(await count(engine, USAGE_TABLE.name)).toBe(2);
      const points = await again.points(new Date(Date.now() - HOUR), new Date(Date.now() + HOUR));
      expect(points.map((p) => p.table).sort()).toEqual(['FreeTable', 'Paid']);
    } finally {
      await engine.close();
    }
  });
});
