/**
 * Outbound HTTP for playbooks and action adapters, with a guard against server-side request forgery: a URL whose
 * host is (or resolves to) a loopback, link-local, private, shared, multicast or reserved address is refused unless
 * an allow-list entry (an address or CIDR block) permits it. The name is resolved once, the connection is pinned
 * to a vetted address (no second lookup a DNS rebinding could answer differently), and the address the socket
 * actually connected to is checked again before a byte is sent. Redirects are not followed (a 3xx is returned as
 * is), responses are capped, and every request has a timeout.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction, type Socket } from 'node:net';

// ───────────────────────────── addresses ─────────────────────────────

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'link-local'
  | 'private'
  | 'shared'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

interface Block {
  readonly base: bigint;
  readonly bits: number;
  readonly v6: boolean;
}

function parseV4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function parseV6(s: string): bigint | null {
  let text = s.split('%')[0] ?? s;
  // A trailing dotted IPv4 (::ffff:1.2.3.4).
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = parseV4(v4[1]);
    if (n === null) return null;
    text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    n = (n << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return n;
}

/** An address as a number and its family, with IPv4-mapped IPv6 addresses turned into IPv4. */
export function parseAddress(s: string): { value: bigint; v6: boolean } | null {
  const t = s.trim().replace(/^\[|\]$/g, '');
  if (isIP(t) === 4) {
    const v = parseV4(t);
    return v === null ? null : { value: v, v6: false };
  }
  if (isIP(t) === 6 || isIP(t.split('%')[0] ?? '') === 6) {
    const v = parseV6(t);
    if (v === null) return null;
    if (v >> 32n === 0xffffn) return { value: v & 0xffffffffn, v6: false };
    return { value: v, v6: true };
  }
  return null;
}

function block(cidr: string): Block {
  const [addr, bitsText] = cidr.split('/');
  const a = parseAddress(addr ?? '');
  if (!a) throw new Error(`not an address block: ${cidr}`);
  const width = a.v6 ? 128 : 32;
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > width) throw new Error(`not an address block: ${cidr}`);
  const shift = BigInt(width - bits);
  return { base: (a.value >> shift) << shift, bits, v6: a.v6 };
}

function inBlock(a: { value: bigint; v6: boolean }, b: Block): boolean {
  if (a.v6 !== b.v6) return false;
  const shift = BigInt((b.v6 ? 128 : 32) - b.bits);
  return a.value >> shift === b.base >> shift;
}

const RANGES: readonly [string, AddressClass][] = [
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'reserved'],
  ['192.88.99.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'],
  ['198.51.100.0/24', 'reserved'],
  ['203.0.113.0/24', 'reserved'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b::/96', 'reserved'],
  ['64:ff9b:1::/48', 'reserved'],
  ['100::/64', 'reserved'],
  ['2001:db8::/32', 'reserved'],
  ['fc00::/7', 'private'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'private'],
  ['ff00::/8', 'multicast'],
];
const BLOCKS = RANGES.map(([c, k]) => [block(c), k] as const);
const SIX_TO_FOUR = block('2002::/16');

export function classifyAddress(address: string): AddressClass {
  const a = parseAddress(address);
  if (!a) return 'reserved';
  // 6to4 embeds an IPv4 address: judge that one.
  if (a.v6 && inBlock(a, SIX_TO_FOUR)) {
    const embedded = (a.value >> 80n) & 0xffffffffn;
    return classifyAddress([24n, 16n, 8n, 0n].map((s) => String((embedded >> s) & 0xffn)).join('.'));
  }
  for (const [b, k] of BLOCKS) if (inBlock(a, b)) return k;
  return 'public';
}

/** Addresses and CIDR blocks that outbound requests may reach even when they are not public. */
export class AllowList {
  private readonly blocks: Block[];
  constructor(readonly entries: readonly string[] = []) {
    this.blocks = entries.map((e) => block(e.trim()));
  }
  allows(address: string): boolean {
    const a = parseAddress(address);
    return !!a && this.blocks.some((b) => inBlock(a, b));
  }
}

/** Why an address may not be reached, or null when it may. */
export function addressProblem(address: string, allow: AllowList): string | null {
  const cls = classifyAddress(address);
  if (cls === 'public' || allow.allows(address)) return null;
  return `${address} is a ${cls} address, and the allow-list does not permit it`;
}

// ───────────────────────────── requests ─────────────────────────────

export class OutboundBlockedError extends Error {
  override readonly name = 'OutboundBlockedError';
  readonly code = 'blocked';
}

export class OutboundError extends Error {
  override readonly name = 'OutboundError';
  constructor(
    message: string,
    /** `timeout`, `network`, `too_large`, `aborted`, `invalid`. */
    readonly code: string,
  ) {
    super(message);
  }
}

export interface OutboundRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface OutboundResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The parsed body when it is JSON. */
  readonly json: unknown;
  /** The address the request was sent to. */
  readonly remoteAddress: string;
}

export type Resolver = (host: string) => Promise<readonly { address: string; family: number }[]>;

export interface OutboundHttpOptions {
  readonly allow?: readonly string[];
  /** Largest response body kept (default 1 MiB); larger bodies fail the request. */
  readonly maxResponseBytes?: number;
  readonly defaultTimeoutMs?: number;
  /** DNS resolution (default: the system resolver, every address). */
  readonly resolve?: Resolver;
  readonly userAgent?: string;
}

const systemResolve: Resolver = async (host) => dnsLookup(host, { all: true, verbatim: true });

export class OutboundHttp {
  readonly allow: AllowList;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly resolve: Resolver;
  private readonly userAgent: string;

  constructor(options: OutboundHttpOptions = {}) {
    this.allow = new AllowList(options.allow ?? []);
    this.maxBytes = options.maxResponseBytes ?? 1024 * 1024;
    this.timeoutMs = options.defaultTimeoutMs ?? 30_000;
    this.resolve = options.resolve ?? systemResolve;
    this.userAgent = options.userAgent ?? 'Vigil-Automation/0.1';
  }

  /** The vetted address to connect to for a URL (throws OutboundBlockedError). */
  async vet(url: URL): Promise<{ address: string; family: 4 | 6 }> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new OutboundBlockedError(`only http and https URLs are allowed, not ${url.protocol}`);
    if (url.username || url.password)
      throw new OutboundBlockedError('credentials in URLs are refused: use a header with a secret');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const literal = isIP(host);
    const candidates = literal ? [{ address: host, family: literal }] : await this.resolve(host);
    if (candidates.length === 0) throw new OutboundError(`${host} does not resolve`, 'network');
    const problems: string[] = [];
    for (const c of candidates) {
      const p = addressProblem(c.address, this.allow);
      if (!p) return { address: c.address, family: c.family === 6 ? 6 : 4 };
      problems.push(p);
    }
    throw new OutboundBlockedError(`refused ${host}: ${problems.join('; ')}`);
  }

  async request(req: OutboundRequest): Promise<OutboundResponse> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw new OutboundError('the URL is not valid', 'invalid');
    }
    const target = await this.vet(url);
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    // The connection goes to the vetted address whatever the name resolves to by then.
    const pinned: LookupFunction = (_host, options, cb) => {
      if ((options as { all?: boolean }).all) cb(null, [{ address: target.address, family: target.family }]);
      else cb(null, target.address, target.family);
    };
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    const headers: Record<string, string> = { 'user-agent': this.userAgent, ...(req.headers ?? {}) };
    if (body) headers['content-length'] = String(body.length);
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<OutboundResponse>((resolve, reject) => {
      let settled = false;
      const finish = (e: Error | null, r?: OutboundResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        if (e) reject(e);
        else resolve(r as OutboundResponse);
      };
      const request = lib.request(
        url,
        { method: req.method.toUpperCase(), headers, lookup: pinned, agent: false },
        (res: http.IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > this.maxBytes) {
              request.destroy();
              finish(new OutboundError(`the response is larger than ${this.maxBytes} bytes`, 'too_large'));
              return;
            }
            chunks.push(c);
          });
          res.on('error', (e: Error) => finish(new OutboundError(e.message, 'network')));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = null;
            if (/json/i.test(String(res.headers['content-type'] ?? '')) || /^\s*[[{]/.test(text)) {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = null;
              }
            }
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers))
              if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
            finish(null, {
              status: res.statusCode ?? 0,
              headers: h,
              body: text,
              json: parsed,
              remoteAddress: request.socket?.remoteAddress ?? target.address,
            });
          });
        },
      );
      const onAbort = () => {
        request.destroy();
        finish(new OutboundError('the request was aborted', 'aborted'));
      };
      const timer = setTimeout(() => {
        request.destroy();
        finish(new OutboundError(`no answer within ${timeoutMs} ms`, 'timeout'));
      }, timeoutMs);
      if (req.signal?.aborted) onAbort();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      // Nothing is sent (headers go out with the first write) until the connected address passed the check.
      request.on('socket', (socket: Socket) => {
        const send = () => {
          const remote = socket.remoteAddress;
          const p = remote ? addressProblem(remote, this.allow) : 'the connected address is unknown';
          if (p) {
            request.destroy();
            finish(new OutboundBlockedError(`refused after connecting: ${p}`));
            return;
          }
          if (body) request.write(body);
          request.end();
        };
        if ((socket as Socket & { connecting?: boolean }).connecting) socket.once('connect', send);
        else send();
      });
      request.on('error', (e: Error) =>
        finish(e instanceof OutboundBlockedError ? e : new OutboundError(e.message, 'network')),
      );
    });
  }
}
