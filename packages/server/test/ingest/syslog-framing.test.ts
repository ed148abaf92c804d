/**
 * RFC 6587 framing (octet counting and LF-delimited, mixed on one stream, split anywhere) and the batcher
 * (size and time cuts, serialized deliveries, congestion and drain, drops, failures). No sockets here.
 */
import { describe, expect, it, vi } from 'vitest';
import { type BatchInfo, type DeliveredRow, RecordBatcher } from '../../src/ingest/syslog/batcher.js';
import { type Frame, SyslogFrameDecoder } from '../../src/ingest/syslog/framing.js';
import { parseSyslogRecord } from '../../src/ingest/syslog/records.js';
import type { SyslogTableName } from '../../src/ingest/syslog/types.js';

const text = (frames: readonly Frame[]): string[] => frames.map((f) => f.bytes.toString('utf8'));
const octet = (m: string): string => `${Buffer.byteLength(m)} ${m}`;

/** Feeds `stream` to a decoder in pieces cut at `cuts`, then ends it. */
function decode(stream: Buffer, cuts: readonly number[], max = 1024): Frame[] {
  const d = new SyslogFrameDecoder(max);
  const out: Frame[] = [];
  let last = 0;
  for (const c of [...cuts, stream.length]) {
    out.push(...d.push(stream.subarray(last, c)));
    last = c;
  }
  out.push(...d.end());
  return out;
}

describe('SyslogFrameDecoder', () => {
  const messages = [
    '<34>1 2003-10-11T22:14:15.003Z host su - ID47 - multi\nline message',
    '<13>Oct 11 22:14:15 host app: plain LF message',
    '<13>Oct 11 22:14:15 host app: CRLF message',
    '<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - grüße aus Köln',
    '2023-01-01 no PRI, starts with digits',
    '<14>last line without LF',
  ];
  const stream = Buffer.from(
    `${octet(messages[0]!)}${messages[1]}\n${messages[2]}\r\n${octet(messages[3]!)}\n${messages[4]}\n${messages[5]}`,
  );

  it('decodes both framings mixed on one stream, whole', () => {
    expect(text(decode(stream, []))).toEqual(messages);
  });

  it('gives the same frames however the stream is split (every single cut point, and byte by byte)', () => {
    for (let cut = 1; cut < stream.length; cut++) expect(text(decode(stream, [cut]))).toEqual(messages);
    const everyByte = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    expect(text(decode(stream, everyByte))).toEqual(messages);
  });

  it('cuts over-long frames in both framings, flags them and resynchronises on the next frame', () => {
    const long = `<13>Oct 11 22:14:15 host app: ${'x'.repeat(200)}`;
    const s = Buffer.from(`${octet(long)}<13>next\n${long}\n<13>after\n`);
    for (const cuts of [[], [10, 50, 120, 260, 300]]) {
      const frames = decode(s, cuts, 64);
      expect(frames.map((f) => [f.bytes.length, f.truncated])).toEqual([
        [64, true],
        [8, false],
        [64, true],
        [9, false],
      ]);
      expect(frames[1]!.bytes.toString()).toBe('<13>next');
      expect(frames[3]!.bytes.toString()).toBe('<13>after');
    }
  });

  it('never buffers more than about the frame limit for one frame', () => {
    const d = new SyslogFrameDecoder(1000);
    expect(d.push(Buffer.from('999999999 '))).toEqual([]);
    const chunk = Buffer.alloc(4096, 0x61);
    let frames = 0;
    for (let i = 0; i < 100; i++) {
      frames += d.push(chunk).length;
      expect(d.bufferedBytes).toBeLessThanOrEqual(1010);
    }
    expect(frames).toBe(1);
    const lf = new SyslogFrameDecoder(1000);
    for (let i = 0; i < 100; i++) {
      lf.push(chunk);
      expect(lf.bufferedBytes).toBeLessThanOrEqual(1000 + 4096);
    }
  });

  it('flags an octet-counted frame cut short by the end of the stream', () => {
    const frames = decode(Buffer.from('100 <13>only part'), []);
    expect(frames.map((f) => [f.bytes.toString(), f.truncated])).toEqual([['<13>only part', true]]);
  });
});

describe('RecordBatcher', () => {
  const record = (i: number, table: SyslogTableName = 'Syslog') =>
    parseSyslogRecord(table === 'Syslog' ? `<13>Oct 11 22:14:15 h app: message ${i}` : `CEF:0|V|P|1|s|n|3|cnt=${i}`, {
      receivedAt: 0,
    });
  type Call = { table: SyslogTableName; rows: readonly DeliveredRow[]; info: BatchInfo };

  it('cuts batches by size per table, and by time for the rest', async () => {
    const calls: Call[] = [];
    const b = new RecordBatcher({
      onRecords: (table, rows, info) => {
        calls.push({ table, rows, info });
      },
      onError: (e) => {
        throw e;
      },
      batchSize: 3,
      flushIntervalMs: 10,
      maxPendingRows: 100,
      maxQueuedRows: 1000,
    });
    for (let i = 0; i < 7; i++) b.add(record(i));
    b.add(record(0, 'CommonSecurityLog'));
    expect(calls.map((c) => [c.table, c.rows.length])).toEqual([
      ['Syslog', 3],
      ['Syslog', 3],
    ]);
    await new Promise((r) => setTimeout(r, 40));
    expect(calls.map((c) => [c.table, c.rows.length])).toEqual([
      ['Syslog', 3],
      ['Syslog', 3],
      ['Syslog', 1],
      ['CommonSecurityLog', 1],
    ]);
    expect(calls[2]!.rows[0]!.SyslogMessage).toBe('message 6');
  });

  it('delivers one batch at a time, reports congestion while one is pending, and drains', async () => {
    let release: () => void = () => {};
    let inFlight = 0;
    let maxInFlight = 0;
    const delivered: number[] = [];
    const b = new RecordBatcher({
      onRecords: (_t, rows) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return new Promise<void>((resolve) => {
          release = () => {
            inFlight--;
            delivered.push(rows.length);
            resolve();
          };
        });
      },
      onError: (e) => {
        throw e;
      },
      batchSize: 2,
      flushIntervalMs: 1000,
      maxPendingRows: 4,
      maxQueuedRows: 6,
    });
    const drained = vi.fn();
    b.onDrain(drained);
    b.add(record(1));
    b.add(record(2)); // first batch handed over, pending
    expect(b.congested).toBe(false);
    for (let i = 3; i <= 6; i++) b.add(record(i));
    expect(b.backlog).toBe(4);
    expect(b.congested).toBe(true);
    expect(b.add(record(7))).toBe(true); // still under maxQueuedRows
    expect(b.add(record(8))).toBe(true);
    expect(b.add(record(9))).toBe(false); // UDP-style add is refused past maxQueuedRows
    expect(b.add(record(9), true)).toBe(true); // TCP-style add is never refused
    expect(b.stats.dropped).toBe(1);
    const flushed = b.flush();
    while (delivered.reduce((a, n) => a + n, 0) < 9) {
      release();
      await new Promise((r) => setImmediate(r));
    }
    await flushed;
    expect(maxInFlight).toBe(1);
    expect(delivered).toEqual([2, 2, 2, 2, 1]);
    expect(drained).toHaveBeenCalled();
    expect(b.congested).toBe(false);
  });

  it('reports failed deliveries and carries on', async () => {
    const errors: Error[] = [];
    let n = 0;
    const b = new RecordBatcher({
      onRecords: () => {
        n++;
        if (n === 1) throw new Error('sync failure');
        if (n === 2) return Promise.reject(new Error('async failure'));
      },
      onError: (e) => errors.push(e),
      batchSize: 1,
      flushIntervalMs: 5,
      maxPendingRows: 10,
      maxQueuedRows: 10,
    });
    for (let i = 0; i < 3; i++) b.add(record(i));
    await b.flush();
    expect(errors.map((e) => e.message)).toEqual([
      'delivery of 1 Syslog rows failed: sync failure',
      'delivery of 1 Syslog rows failed: async failure',
    ]);
    expect(b.stats).toMatchObject({ batches: 3, deliveryErrors: 2, rowsDelivered: 1 });
  });

  it('passes parse errors (with their row index) and truncation counts with the batch', async () => {
    const calls: Call[] = [];
    const b = new RecordBatcher({
      onRecords: (table, rows, info) => {
        calls.push({ table, rows, info });
      },
      onError: (e) => {
        throw e;
      },
      batchSize: 10,
      flushIntervalMs: 5,
      maxPendingRows: 10,
      maxQueuedRows: 10,
    });
    b.add(record(1));
    b.add(parseSyslogRecord('<999>bad', { receivedAt: 0 }));
    b.add(parseSyslogRecord(`<13>${'y'.repeat(100)}`, { receivedAt: 0 }, { maxMessageBytes: 20 }));
    await b.flush();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.info).toEqual({ parseErrors: [{ index: 1, reason: 'invalid PRI' }], truncated: 1 });
  });
});
