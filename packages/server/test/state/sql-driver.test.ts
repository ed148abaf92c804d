/**
 * The state store's driver contract (run against every driver: SQLite now, PostgreSQL when it exists): queries,
 * transactions commit or roll back as a whole, concurrent transactions serialize, nobody sees uncommitted state,
 * migrations apply once, and committed data survives reopening.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/state/migrations.js';
import { SqliteDriver } from '../../src/state/sql-driver.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fresh(): { path: string; driver: SqliteDriver } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-state-'));
  dirs.push(dir);
  const path = join(dir, 'state.db');
  return { path, driver: new SqliteDriver(path) };
}

const M1 = { version: 1, name: 'items', statements: ['CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT NOT NULL)'] };

describe.each([['sqlite', fresh]])('SqlDriver contract (%s)', (_name, open) => {
  it('runs queries with portable placeholders and booleans', async () => {
    const { driver } = open();
    await migrate(driver, [M1]);
    expect(await driver.run('INSERT INTO items (id, v) VALUES (?, ?), (?, ?)', [1, 'a', 2, 'b'])).toBe(2);
    expect(await driver.all('SELECT id, v FROM items ORDER BY id')).toEqual([
      { id: 1, v: 'a' },
      { id: 2, v: 'b' },
    ]);
    expect(await driver.get('SELECT v FROM items WHERE id = ?', [2])).toEqual({ v: 'b' });
    expect(await driver.get('SELECT v FROM items WHERE id = ?', [9])).toBeUndefined();
    await driver.close();
  });

  it('commits or rolls back a transaction as a whole', async () => {
    const { driver } = open();
    await migrate(driver, [M1]);
    await driver.transaction(async (tx) => {
      await tx.run('INSERT INTO items (id, v) VALUES (1, ?)', ['kept']);
    });
    await expect(
      driver.transaction(async (tx) => {
        await tx.run('INSERT INTO items (id, v) VALUES (2, ?)', ['lost']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await driver.all('SELECT v FROM items')).toEqual([{ v: 'kept' }]);
    await driver.close();
  });

  it('serializes concurrent transactions and hides uncommitted state', async () => {
    const { driver } = open();
    await migrate(driver, [M1]);
    await driver.run("INSERT INTO items (id, v) VALUES (1, '0')");
    const increments = Array.from({ length: 20 }, () =>
      driver.transaction(async (tx) => {
        const row = await tx.get<{ v: string }>('SELECT v FROM items WHERE id = 1');
        await new Promise((r) => setTimeout(r, 1));
        await tx.run('UPDATE items SET v = ? WHERE id = 1', [String(Number(row?.v) + 1)]);
      }),
    );
    let sawPartial = false;
    const slow = driver.transaction(async (tx) => {
      await tx.run("INSERT INTO items (id, v) VALUES (2, 'pending')");
      await new Promise((r) => setTimeout(r, 20));
      await tx.run('DELETE FROM items WHERE id = 2');
    });
    const reader = driver.get('SELECT v FROM items WHERE id = 2').then((r) => {
      if (r) sawPartial = true;
    });
    await Promise.all([...increments, slow, reader]);
    expect(await driver.get('SELECT v FROM items WHERE id = 1')).toEqual({ v: '20' });
    expect(sawPartial).toBe(false);
    await driver.close();
  });

  it('applies migrations once, in order, and keeps data across reopening', async () => {
    const { path, driver } = open();
    const M2 = { version: 2, name: 'more', statements: ['ALTER TABLE items ADD COLUMN w INTEGER'] };
    expect(await migrate(driver, [M2, M1])).toEqual([1, 2]);
    expect(await migrate(driver, [M1, M2])).toEqual([]);
    await driver.run("INSERT INTO items (id, v, w) VALUES (1, 'x', 7)");
    await driver.close();
    const again = new SqliteDriver(path);
    expect(await again.get('SELECT v, w FROM items')).toEqual({ v: 'x', w: 7 });
    await expect(migrate(again, [M1, { ...M2, version: 1 }])).rejects.toThrow(/share version 1/);
    await again.close();
  });
});

describe('SqliteDriver background checkpoints', () => {
  it('keeps the WAL bounded under continuous writes without checkpoints in commits, and loses nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-state-'));
    dirs.push(dir);
    const path = join(dir, 'state.db');
    const driver = new SqliteDriver(path, { checkpointRestartFrames: 512, checkpointIntervalMs: 20 });
    await migrate(driver, [
      { version: 1, name: 'blobs', statements: ['CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)'] },
    ]);
    expect(await driver.get('PRAGMA wal_autocheckpoint')).toEqual({ wal_autocheckpoint: 0 });
    const blob = Buffer.alloc(4096, 7);
    let maxWal = 0;
    let n = 0;
    const until = performance.now() + 1500;
    // Writes never stop for long: without the queue-holding round the WAL would never start over.
    while (performance.now() < until || (driver.checkpointStats()?.restarts ?? 0) < 2) {
      await driver.transaction(async (tx) => {
        for (let i = 0; i < 4; i++) await tx.run('INSERT INTO blobs (id, b) VALUES (?, ?)', [++n, blob]);
      });
      if (n % 40 === 0) maxWal = Math.max(maxWal, statSync(`${path}-wal`).size);
      // A macrotask turn, as between requests in a server (timers run there).
      await new Promise((r) => setImmediate(r));
      if (n > 40_000) break;
    }
    const stats = driver.checkpointStats();
    expect(stats?.failures).toBe(0);
    expect(stats?.background).toBeGreaterThan(0);
    expect(stats?.restarts).toBeGreaterThanOrEqual(2);
    // 512 frames of ~4 KiB, plus what arrives before a round starts it over: far below the ~{n × 4 KiB} written.
    expect(maxWal).toBeLessThan(n * 4096);
    expect(maxWal).toBeLessThan(24 << 20);
    expect(await driver.get('SELECT COUNT(*) AS c FROM blobs')).toEqual({ c: n });
    await driver.close();
    const again = new SqliteDriver(path);
    expect(await again.get('SELECT COUNT(*) AS c, SUM(length(b)) AS s FROM blobs')).toEqual({ c: n, s: n * 4096 });
    await again.close();
  });

  it('starts the WAL over in the gaps between commits, holding no transaction up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-state-'));
    dirs.push(dir);
    const path = join(dir, 'state.db');
    const driver = new SqliteDriver(path, { checkpointRestartFrames: 256, checkpointIntervalMs: 20 });
    await migrate(driver, [
      { version: 1, name: 'blobs', statements: ['CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)'] },
    ]);
    const blob = Buffer.alloc(4096, 3);
    let n = 0;
    let maxWal = 0;
    // A steady rate with pauses between commits (as alerts arriving every few milliseconds), until ~40 MiB went
    // through the WAL: 40 times what it may hold. Whether a round or SQLite itself (after a round that caught up)
    // starts it over depends on the machine's speed; either way it must stay small without holding the queue.
    while (n < 10_000) {
      await driver.transaction(async (tx) => {
        for (let i = 0; i < 8; i++) await tx.run('INSERT INTO blobs (id, b) VALUES (?, ?)', [++n, blob]);
      });
      if (n % 80 === 0) maxWal = Math.max(maxWal, statSync(`${path}-wal`).size);
      await new Promise((r) => setTimeout(r, 1));
    }
    const stats = driver.checkpointStats();
    expect(stats?.failures).toBe(0);
    expect(stats?.background).toBeGreaterThan(0);
    // No round held the queue: the WAL never reached 4 × the limit (256 frames of ~4 KiB).
    expect(stats?.restartMs).toEqual([]);
    expect(maxWal).toBeLessThan(4 * 256 * 4200 + (1 << 20));
    expect(await driver.get('SELECT COUNT(*) AS c FROM blobs')).toEqual({ c: n });
    await driver.close();
  });

  it('checkpoints inline when asked (and for in-memory stores)', async () => {
    const memory = new SqliteDriver(':memory:');
    expect(memory.checkpointStats()).toBeNull();
    await memory.close();
    const dir = mkdtempSync(join(tmpdir(), 'vigil-state-'));
    dirs.push(dir);
    const inline = new SqliteDriver(join(dir, 'state.db'), { checkpoint: 'inline' });
    expect(inline.checkpointStats()).toBeNull();
    expect(await inline.get('PRAGMA wal_autocheckpoint')).toEqual({ wal_autocheckpoint: 1000 });
    await inline.close();
  });
});

describe('SqliteDriver sync worker', () => {
  it('group-commits: each transaction resolves after an fsync that followed its commit, several commits per fsync', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-state-'));
    dirs.push(dir);
    const path = join(dir, 'state.db');
    const driver = new SqliteDriver(path, { sync: 'worker' });
    expect(await driver.get('PRAGMA synchronous')).toEqual({ synchronous: 1 });
    await migrate(driver, [M1]);
    // Past the first 100 commits (synced on the event loop), 400 transactions handed in at once.
    for (let i = 0; i < 120; i++) await driver.run('INSERT INTO items (id, v) VALUES (?, ?)', [i, 'x']);
    const resolvedAt: { commits: number; synced: number }[] = [];
    await Promise.all(
      Array.from({ length: 400 }, (_, k) =>
        driver
          .transaction(async (tx) => {
            await tx.run('INSERT INTO items (id, v) VALUES (?, ?)', [1000 + k, 'y']);
          })
          .then(() => {
            const s = driver.syncStats();
            if (s) resolvedAt.push({ commits: s.commits, synced: s.synced });
          }),
      ),
    );
    const stats = driver.syncStats();
    expect(stats?.failures).toBe(0);
    expect(stats?.synced).toBe(stats?.commits);
    // Commits made while a sync ran shared the next one.
    expect(stats?.syncs).toBeLessThan(stats?.commits ?? 0);
    // They resolve in commit order; the k-th one's commit is at least the (121 + k)-th (120 inserts before), and
    // when it resolved, commits up to its own were synced.
    expect(resolvedAt).toHaveLength(400);
    for (const [k, r] of resolvedAt.entries()) expect(r.synced).toBeGreaterThanOrEqual(121 + k);
    await driver.close();
    const again = new SqliteDriver(path, { sync: 'inline' });
    expect(await again.get('SELECT COUNT(*) AS c FROM items')).toEqual({ c: 520 });
    await again.close();
  });
});
