/**
 * The server over time: batch ids remembered across a restart, a graceful close that commits what was accepted,
 * back-pressure (429 + Retry-After) instead of unbounded buffering, and syslog listeners feeding the same writer.
 */
import { createSocket } from 'node:dgram';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { kql, ndjson, post, tempDir, testServer } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function workspace(): Promise<string> {
  const d = await tempDir('vigil-lifecycle-');
  dirs.push(d);
  return d;
}

describe('restarts', () => {
  it('a batch retried after a restart is answered from its receipt and not written twice', async () => {
    const dir = await workspace();
    const body = ndjson([{ Computer: 'r1' }, { Computer: 'r1' }, { Computer: 'r1', EventID: 'x' }]);
    const first = await testServer({}, dir);
    const a = await post(first.server.url, '/api/ingest/SecurityEvent', body, {
      'x-ms-client-request-id': 'restart-1',
    });
    await first.dispose();
    const second = await testServer({}, dir);
    try {
      const b = await post(second.server.url, '/api/ingest/SecurityEvent', body, {
        'x-ms-client-request-id': 'restart-1',
      });
      expect(b.status).toBe(200);
      expect(b.json).toEqual({ ...a.json, requestId: b.json.requestId, duplicate: true });
      expect(await kql(second.server.url, 'SecurityEvent | where Computer == "r1" | summarize n = count()')).toEqual([
        [2],
      ]);
      expect(await kql(second.server.url, 'IngestionErrors | summarize n = count()')).toEqual([[1]]);
    } finally {
      await second.dispose();
    }
  });

  it('close() answers the requests in flight and commits them before the engine closes', async () => {
    const dir = await workspace();
    const t = await testServer({}, dir);
    const writer = t.server.ingest.writer;
    // A large batch first keeps the writer busy, so that the small ones are still queued when close() starts.
    const big = ndjson(Array.from({ length: 20_000 }, (_, i) => ({ Computer: 'close', SyslogMessage: `big ${i}` })));
    const requests = [
      post(t.server.url, '/api/ingest/Syslog', big),
      ...Array.from({ length: 12 }, (_, k) =>
        post(t.server.url, '/api/ingest/Syslog', ndjson([{ Computer: 'close', SyslogMessage: `m${k}` }])),
      ),
    ];
    for (let i = 0; i < 400 && writer.pendingRequests < 13; i++) await new Promise((r) => setTimeout(r, 5));
    expect(writer.pendingRequests).toBe(13);
    await t.server.close();
    const answers = await Promise.all(requests);
    expect(answers.map((a) => a.status)).toEqual(Array(13).fill(200));
    const again = await testServer({}, dir);
    try {
      expect(await kql(again.server.url, 'Syslog | where Computer == "close" | summarize n = count()')).toEqual([
        [20_012],
      ]);
    } finally {
      await again.dispose();
    }
  });
});

describe('back-pressure', () => {
  it('answers 429 with Retry-After when the writer is behind, and loses nothing it accepted', async () => {
    const t = await testServer({ maxPendingBytes: 256 * 1024 }, await workspace());
    try {
      const rows = (k: number) =>
        ndjson(Array.from({ length: 1500 }, (_, i) => ({ Computer: 'bp', SyslogMessage: `request ${k} row ${i}` })));
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, k) => post(t.server.url, '/api/ingest/Syslog', rows(k))),
      );
      const busy = answers.filter((a) => a.status === 429);
      const ok = answers.filter((a) => a.status === 200);
      expect(busy.length).toBeGreaterThan(0);
      expect(ok.length).toBeGreaterThan(0);
      expect(ok.length + busy.length).toBe(16);
      for (const b of busy) {
        expect(Number(b.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect((b.json as { error: { code: string } }).error.code).toBe('writer_busy');
      }
      expect(await kql(t.server.url, 'Syslog | where Computer == "bp" | summarize n = count()')).toEqual([
        [ok.length * 1500],
      ]);
    } finally {
      await t.dispose();
    }
  });
});

describe('syslog listeners', () => {
  it('store RFC 3164, RFC 5424 and CEF messages from UDP and TCP through the same writer', async () => {
    const t = await testServer({ syslogUdpPort: 0, syslogTcpPort: 0 }, await workspace());
    try {
      const syslog = t.server.syslog;
      if (syslog?.udpPort === undefined || syslog.tcpPort === undefined) throw new Error('listeners missing');
      const udp = createSocket('udp4');
      await new Promise<void>((done, fail) =>
        udp.send('<34>Oct 11 22:14:15 mymachine su: udp message one', syslog.udpPort as number, '127.0.0.1', (e) =>
          e ? fail(e) : done(),
        ),
      );
      udp.close();
      await new Promise<void>((done, fail) => {
        const socket = connect(syslog.tcpPort as number, '127.0.0.1', () => {
          socket.end(
            '<165>1 2003-10-11T22:14:15.003Z host5424 evntslog - ID47 - tcp message two\n' +
              '<134>Jan 18 11:07:53 fw1 CEF:0|Fortinet|Fortigate|v5.6|0001|traffic|3|src=10.0.0.1 dst=10.0.0.2 spt=1234\n',
          );
        });
        socket.on('close', () => done());
        socket.on('error', fail);
      });
      let rows: unknown[][] = [];
      for (let i = 0; i < 100 && rows.length < 2; i++) {
        rows = await kql(t.server.url, 'Syslog | order by SyslogMessage asc | project HostName, SyslogMessage, Type');
        if (rows.length < 2) await new Promise((r) => setTimeout(r, 50));
      }
      expect(rows).toEqual([
        ['host5424', 'tcp message two', 'Syslog'],
        ['mymachine', 'udp message one', 'Syslog'],
      ]);
      let cef: unknown[][] = [];
      for (let i = 0; i < 100 && cef.length < 1; i++) {
        cef = await kql(t.server.url, 'CommonSecurityLog | project DeviceVendor, SourceIP, DestinationPort, Type');
        if (cef.length < 1) await new Promise((r) => setTimeout(r, 50));
      }
      expect(cef).toEqual([['Fortinet', '10.0.0.1', null, 'CommonSecurityLog']]);
    } finally {
      await t.dispose();
    }
  });
});
