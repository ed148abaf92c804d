/**
 * Outbound HTTP guard: address classes (IPv4, IPv6, mapped and embedded forms), allow-lists, refusal before any
 * connection, DNS answers pinned (one resolution: a rebinding answer is never used), no redirects, timeouts and
 * response caps — against real receivers on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AllowList,
  addressProblem,
  classifyAddress,
  OutboundBlockedError,
  OutboundError,
  OutboundHttp,
} from '../../src/automation/http-guard.js';
import { Receiver } from './helpers.js';

describe('address classes', () => {
  it('classifies IPv4 and IPv6 addresses', () => {
    const table: [string, string][] = [
      ['8.8.8.8', 'public'],
      ['1.1.1.1', 'public'],
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['10.20.30.40', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['172.32.0.1', 'public'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['100.64.0.1', 'shared'],
      ['0.0.0.0', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['198.51.100.7', 'reserved'],
      ['::1', 'loopback'],
      ['::', 'unspecified'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['fd12:3456::1', 'private'],
      ['ff02::1', 'multicast'],
      ['2001:4860:4860::8888', 'public'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:8.8.8.8', 'public'],
      ['2002:c0a8:0101::1', 'private'],
      ['2002:0808:0808::1', 'public'],
      ['not-an-ip', 'reserved'],
    ];
    for (const [a, cls] of table) expect(classifyAddress(a), a).toBe(cls);
  });

  it('allow-lists addresses and CIDR blocks, IPv4-mapped forms included', () => {
    const allow = new AllowList(['127.0.0.1', '10.1.0.0/16', 'fd00::/8']);
    expect(addressProblem('127.0.0.1', allow)).toBeNull();
    expect(addressProblem('::ffff:127.0.0.1', allow)).toBeNull();
    expect(addressProblem('127.0.0.2', allow)).toMatch(/loopback address/);
    expect(addressProblem('10.1.200.3', allow)).toBeNull();
    expect(addressProblem('10.2.0.1', allow)).toMatch(/private address/);
    expect(addressProblem('fd12::1', allow)).toBeNull();
    expect(addressProblem('8.8.8.8', new AllowList())).toBeNull();
    expect(() => new AllowList(['10.0.0.0/33'])).toThrow();
  });
});

describe('outbound requests', () => {
  let r: Receiver;
  beforeAll(async () => {
    r = await Receiver.start((req) => {
      if (req.url === '/redirect') return { status: 302, body: { to: 'elsewhere' } };
      if (req.url === '/slow') return 'hang';
      if (req.url === '/big') return { status: 200, body: { blob: 'x'.repeat(5000) } };
      return { status: 200, body: { ok: true, host: req.headers.host } };
    });
  });
  afterAll(() => r.close());

  it('refuses loopback unless allow-listed, before connecting', async () => {
    const before = r.requests.length;
    await expect(new OutboundHttp().request({ method: 'GET', url: `${r.url}/x` })).rejects.toThrow(
      OutboundBlockedError,
    );
    await expect(new OutboundHttp().request({ method: 'GET', url: `${r.url}/x` })).rejects.toThrow(
      /127\.0\.0\.1 is a loopback address/,
    );
    expect(r.requests.length).toBe(before);
    const ok = await new OutboundHttp({ allow: ['127.0.0.1'] }).request({ method: 'GET', url: `${r.url}/x` });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ ok: true });
    expect(ok.remoteAddress).toBe('127.0.0.1');
  });

  it('refuses names that resolve to private, loopback or link-local addresses', async () => {
    const port = new URL(r.url).port;
    const resolve = async (host: string) =>
      host === 'metadata.internal'
        ? [{ address: '169.254.169.254', family: 4 }]
        : host === 'intranet.example'
          ? [{ address: '10.0.0.5', family: 4 }]
          : [{ address: '::1', family: 6 }];
    const http = new OutboundHttp({ resolve });
    await expect(http.request({ method: 'GET', url: `http://metadata.internal:${port}/` })).rejects.toThrow(
      /link-local/,
    );
    await expect(http.request({ method: 'GET', url: `http://intranet.example:${port}/` })).rejects.toThrow(
      /10\.0\.0\.5 is a private/,
    );
    await expect(http.request({ method: 'GET', url: `http://anything.example:${port}/` })).rejects.toThrow(
      /::1 is a loopback/,
    );
    await expect(new OutboundHttp().request({ method: 'GET', url: `http://localhost:${port}/` })).rejects.toThrow(
      OutboundBlockedError,
    );
    await expect(
      new OutboundHttp().request({ method: 'GET', url: 'http://169.254.169.254/latest/meta-data' }),
    ).rejects.toThrow(/link-local/);
    await expect(new OutboundHttp().request({ method: 'GET', url: 'http://[::ffff:10.0.0.1]/' })).rejects.toThrow(
      /private/,
    );
  });

  it('resolves once and connects to the vetted address (a rebinding answer is never used)', async () => {
    const port = new URL(r.url).port;
    let calls = 0;
    const resolve = async () => {
      calls++;
      // First answer: the allowed address; any later answer would be a private one.
      return calls === 1 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.9.9.9', family: 4 }];
    };
    const http = new OutboundHttp({ allow: ['127.0.0.1'], resolve });
    const res = await http.request({ method: 'GET', url: `http://rebind.example:${port}/pinned` });
    expect(calls).toBe(1);
    expect(res.status).toBe(200);
    expect(res.remoteAddress).toBe('127.0.0.1');
    // The Host header keeps the name (virtual hosts and TLS names still work).
    expect(res.json).toMatchObject({ host: `rebind.example:${port}` });
  });

  it('takes the first allowed address of a multi-address answer', async () => {
    const port = new URL(r.url).port;
    const http = new OutboundHttp({
      allow: ['127.0.0.1'],
      resolve: async () => [
        { address: '10.0.0.7', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    });
    expect((await http.request({ method: 'GET', url: `http://multi.example:${port}/` })).remoteAddress).toBe(
      '127.0.0.1',
    );
  });

  it('does not follow redirects, times out, caps responses, refuses other schemes and credentials in URLs', async () => {
    const http = new OutboundHttp({ allow: ['127.0.0.1'], maxResponseBytes: 1000 });
    expect((await http.request({ method: 'GET', url: `${r.url}/redirect` })).status).toBe(302);
    const slow = http.request({ method: 'GET', url: `${r.url}/slow`, timeoutMs: 150 });
    await expect(slow).rejects.toMatchObject({ code: 'timeout' });
    await expect(http.request({ method: 'GET', url: `${r.url}/big` })).rejects.toMatchObject({ code: 'too_large' });
    await expect(http.request({ method: 'GET', url: 'file:///etc/passwd' })).rejects.toThrow(/only http and https/);
    await expect(
      http.request({ method: 'GET', url: `http://user:pw@127.0.0.1:${new URL(r.url).port}/` }),
    ).rejects.toThrow(/credentials in URLs/);
    await expect(http.request({ method: 'GET', url: 'not a url' })).rejects.toThrow(OutboundError);
  });

  it('aborts on the caller signal', async () => {
    const http = new OutboundHttp({ allow: ['127.0.0.1'] });
    const c = new AbortController();
    const p = http.request({ method: 'GET', url: `${r.url}/slow`, signal: c.signal });
    setTimeout(() => c.abort(), 50);
    await expect(p).rejects.toMatchObject({ code: 'aborted' });
  });
});
