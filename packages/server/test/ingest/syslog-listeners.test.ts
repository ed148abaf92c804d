/**
 * The syslog listeners on real sockets (127.0.0.1, ports chosen by the OS): UDP datagrams, TCP with both
 * framings over many concurrent connections and arbitrary packet splits, frame limits, back-pressure with a
 * slow writer, connection limits and a clean shutdown. Every wait is bounded.
 */
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { BatchInfo, DeliveredRow } from '../../src/ingest/syslog/batcher.js';
import { type SyslogListeners, startSyslogListeners } from '../../src/ingest/syslog/listeners.js';
import type { SyslogTableName } from '../../src/ingest/syslog/types.js';

interface Received {
  table: SyslogTableName;
  row: DeliveredRow;
}

/** Collects delivered rows; `waitFor(n)` resolves when n rows arrived (or fails after `ms`). */
function collector() {
  const rows: Received[] = [];
  const infos: BatchInfo[] = [];
  const errors: Error[] = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  return {
    rows,
    infos,
    errors,
    onRecords: (table: SyslogTableName, batch: readonly DeliveredRow[], info: BatchInfo) => {
      for (const row of batch) rows.push({ table, row });
      infos.push(info);
      if (waiter && rows.length >= waiter.n) waiter.resolve();
    },
    onError: (e: Error) => errors.push(e),
    waitFor(n: number, ms = 8000): Promise<void> {
      if (rows.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out: ${rows.length} of ${n} rows`)), ms);
        waiter = {
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        };
      });
    },
  };
}

function tcpClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

const write = (s: Socket, data: Buffer | string): Promise<void> =>
  new Promise((resolve, reject) => s.write(data, (e) => (e ? reject(e) : resolve())));
const endSocket = (s: Socket): Promise<void> => new Promise((resolve) => s.end(resolve));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let listeners: SyslogListeners | undefined;
afterEach(async () => {
  await listeners?.close();
  listeners = undefined;
});

describe('syslog listeners', () => {
  it('UDP: one message per datagram, CEF to CommonSecurityLog, sender address as HostIP', async () => {
    const c = collector();
    listeners = await startSyslogListeners({
      udpPort: 0,
      onRecords: c.onRecords,
      onError: c.onError,
      collectorHostName: 'col1',
    });
    expect(listeners.host).toBe('127.0.0.1');
    const client = createSocket('udp4');
    const n = 200;
    for (let i = 0; i < n; i++) {
      const msg =
        i % 4 === 0
          ? `<134>Oct 11 22:14:15 fw01 CEF:0|V|P|1|sig|name|5|src=10.0.0.${i % 250} spt=${1000 + i}\n`
          : `<13>Oct 11 22:14:15 host${i} app[${i}]: message ${i}\n`;
      await new Promise<void>((resolve, reject) =>
        client.send(msg, listeners!.udpPort!, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
      );
    }
    client.close();
    await c.waitFor(n);
    const csl = c.rows.filter((r) => r.table === 'CommonSecurityLog');
    const sys = c.rows.filter((r) => r.table === 'Syslog');
    expect(csl).toHaveLength(50);
    expect(sys).toHaveLength(150);
    expect(new Set(sys.map((r) => r.row.SyslogMessage)).size).toBe(150);
    expect(sys[0]!.row).toMatchObject({ HostIP: '127.0.0.1', CollectorHostName: 'col1', ProcessName: 'app' });
    expect(csl[0]!.row).toMatchObject({ Computer: 'fw01', DeviceVendor: 'V', CollectorHostName: 'col1' });
    const stats = listeners.stats();
    expect(stats).toMatchObject({ udpDatagrams: n, udpDropped: 0, rows: { Syslog: 150, CommonSecurityLog: 50 } });
    expect(c.errors).toEqual([]);
  });

  it('TCP: 20 concurrent connections, both framings, frames split across writes, order kept per connection', async () => {
    const c = collector();
    listeners = await startSyslogListeners({ tcpPort: 0, onRecords: c.onRecords, onError: c.onError });
    const connections = 20;
    const perConnection = 150;
    const clients = await Promise.all(Array.from({ length: connections }, () => tcpClient(listeners!.tcpPort!)));
    await Promise.all(
      clients.map(async (s, k) => {
        let stream = '';
        for (let i = 0; i < perConnection; i++) {
          const m = `<14>1 2024-05-01T10:00:00Z conn${k} app ${i} - - seq ${i} ünïcode`;
          stream += (i + k) % 2 === 0 ? `${Buffer.byteLength(m)} ${m}` : `${m}\n`;
        }
        const bytes = Buffer.from(stream);
        // Write in pieces of pseudo-random sizes (3..300 bytes): frames and even characters split across packets.
        let at = 0;
        let seed = k + 1;
        while (at < bytes.length) {
          seed = (seed * 1103515245 + 12345) % 2147483648;
          const size = 3 + (seed % 298);
          await write(s, bytes.subarray(at, at + size));
          at += size;
          if (seed % 7 === 0) await sleep(1);
        }
        await endSocket(s);
      }),
    );
    await c.waitFor(connections * perConnection);
    expect(c.rows).toHaveLength(connections * perConnection);
    for (let k = 0; k < connections; k++) {
      const mine = c.rows.filter((r) => r.row.Computer === `conn${k}`).map((r) => r.row.SyslogMessage);
      expect(mine).toEqual(Array.from({ length: perConnection }, (_, i) => `seq ${i} ünïcode`));
    }
    expect(c.infos.every((i) => i.parseErrors.length === 0 && i.truncated === 0)).toBe(true);
    const stats = listeners.stats();
    expect(stats.tcpConnectionsTotal).toBe(connections);
    expect(stats.tcpFrames).toBe(connections * perConnection);
    expect(c.errors).toEqual([]);
  });

  it('cuts frames over the limit (TCP both framings, UDP) and flags them', async () => {
    const c = collector();
    listeners = await startSyslogListeners({
      tcpPort: 0,
      udpPort: 0,
      maxFrameBytes: 100,
      onRecords: c.onRecords,
      onError: c.onError,
    });
    const long = `<13>Oct 11 22:14:15 host app: ${'z'.repeat(500)}`;
    const s = await tcpClient(listeners.tcpPort!);
    await write(
      s,
      `${long.length} ${long}<13>Oct 11 22:14:15 host app: after octet\n${long}\n<13>Oct 11 22:14:15 host app: after lf\n`,
    );
    await endSocket(s);
    const u = createSocket('udp4');
    await new Promise<void>((resolve) => u.send(long, listeners!.udpPort!, '127.0.0.1', () => resolve()));
    u.close();
    await c.waitFor(5);
    const messages = c.rows.map((r) => r.row.SyslogMessage as string);
    expect(messages.filter((m) => m === 'after octet' || m === 'after lf').sort()).toEqual(['after lf', 'after octet']);
    const cut = messages.filter((m) => m.startsWith('zzz'));
    expect(cut).toHaveLength(3);
    for (const m of cut) expect(m.length).toBe(100 - '<13>Oct 11 22:14:15 host app: '.length);
    expect(c.infos.reduce((a, i) => a + i.truncated, 0)).toBe(3);
    expect(listeners.stats().truncated).toBe(3);
  });

  it('applies back-pressure: a slow writer pauses the TCP sender, nothing is lost, the backlog stays bounded', async () => {
    const rows: string[] = [];
    let maxBacklog = 0;
    let deliveries = 0;
    const errors: Error[] = [];
    const total = 8_000;
    let done: () => void = () => {};
    const finished = new Promise<void>((r) => {
      done = r;
    });
    listeners = await startSyslogListeners({
      tcpPort: 0,
      batchSize: 200,
      maxPendingRows: 400,
      onRecords: async (_t, batch) => {
        deliveries++;
        maxBacklog = Math.max(maxBacklog, listeners!.stats().backlog);
        for (const r of batch) rows.push(r.SyslogMessage as string);
        await sleep(10); // a writer much slower than the sender
        if (rows.length >= total) done();
      },
      onError: (e) => errors.push(e),
    });
    const s = await tcpClient(listeners.tcpPort!);
    const lines: string[] = [];
    for (let i = 0; i < total; i++) lines.push(`<13>Oct 11 22:14:15 host app: m${i}\n`);
    const payload = Buffer.from(lines.join(''));
    // Write it all at once: the socket's buffer holds it and TCP flow control meters it out.
    s.write(payload);
    s.end();
    const timeout = sleep(15_000).then(() => {
      throw new Error(`timed out with ${rows.length} rows`);
    });
    await Promise.race([finished, timeout]);
    expect(rows).toHaveLength(total);
    expect(rows[0]).toBe('m0');
    expect(rows[total - 1]).toBe(`m${total - 1}`);
    const stats = listeners.stats();
    expect(stats.tcpPauses).toBeGreaterThan(0);
    // Paused at 400 waiting rows; one TCP read (≤ 64 KiB ≈ 1,900 of these lines) can land on top of it.
    // Without pausing the backlog would reach most of the 8,000 rows.
    expect(maxBacklog).toBeLessThan(400 + 2500);
    expect(deliveries).toBeGreaterThanOrEqual(total / 200);
    expect(errors).toEqual([]);
  }, 20_000);

  it('refuses connections beyond maxConnections and counts them', async () => {
    const c = collector();
    listeners = await startSyslogListeners({
      tcpPort: 0,
      maxConnections: 2,
      onRecords: c.onRecords,
      onError: c.onError,
    });
    const a = await tcpClient(listeners.tcpPort!);
    const b = await tcpClient(listeners.tcpPort!);
    await sleep(50);
    const third = await tcpClient(listeners.tcpPort!);
    const closed = await Promise.race([
      new Promise<boolean>((r) => third.once('close', () => r(true))),
      sleep(3000).then(() => false),
    ]);
    expect(closed).toBe(true);
    expect(listeners.stats().tcpRefused).toBe(1);
    await write(a, '<13>Oct 11 22:14:15 host app: still served\n');
    await c.waitFor(1);
    a.destroy();
    b.destroy();
  });

  it('close() delivers buffered data (a last line without LF too), then stops listening', async () => {
    const c = collector();
    const l = await startSyslogListeners({
      tcpPort: 0,
      udpPort: 0,
      flushIntervalMs: 10_000,
      onRecords: c.onRecords,
      onError: c.onError,
    });
    const port = l.tcpPort!;
    const s = await tcpClient(port);
    await write(
      s,
      '<13>Oct 11 22:14:15 host app: one\n<13>Oct 11 22:14:15 host app: two\n<13>Oct 11 22:14:15 host app: unterminated',
    );
    await sleep(100);
    expect(c.rows).toHaveLength(0); // the batch waits for its (long) flush interval
    await l.close();
    expect(c.rows.map((r) => r.row.SyslogMessage)).toEqual(['one', 'two', 'unterminated']);
    await expect(tcpClient(port)).rejects.toThrow(/ECONNREFUSED/);
    await l.close(); // idempotent
  });

  it('rejects a port in use and a call without ports', async () => {
    const c = collector();
    listeners = await startSyslogListeners({ tcpPort: 0, onRecords: c.onRecords, onError: c.onError });
    await expect(
      startSyslogListeners({ tcpPort: listeners.tcpPort!, onRecords: c.onRecords, onError: c.onError }),
    ).rejects.toThrow(/EADDRINUSE/);
    await expect(startSyslogListeners({ onRecords: c.onRecords, onError: c.onError })).rejects.toThrow(
      /udpPort, tcpPort/,
    );
    expect(c.errors).toEqual([]);
  });
});
