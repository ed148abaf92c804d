/**
 * Serves the built web console (`packages/web/dist`) from the API server, same origin as `/api`: hashed assets
 * with a year of immutable caching, `index.html` for every other GET that is not an API path (the console routes
 * in the browser), and gzip/brotli chosen by `Accept-Encoding`, compressed once per file and kept in memory.
 * Registered by the server factory; without a built console it answers `/` with how to build it.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, gzip, constants as zlib } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** packages/web/dist, from src/server or dist/server alike. */
export const DEFAULT_CONSOLE_ROOT = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.ttf', '.map', '.txt']);
/** Paths the console never owns: the API and the Kusto / Log Analytics compatibility endpoints. */
const NOT_CONSOLE = /^\/(api|v1|v2|dataCollectionRules)(\/|$)/;

interface Entry {
  readonly body: Buffer;
  readonly type: string;
  readonly immutable: boolean;
  /** Compressed forms: written by the build (`name.br`, `name.gz`), else made on first request. */
  gzip?: Promise<Buffer>;
  br?: Promise<Buffer>;
}

async function readIfFile(path: string): Promise<Buffer | null> {
  try {
    return (await stat(path)).isFile() ? await readFile(path) : null;
  } catch {
    return null;
  }
}

export interface ConsoleStaticOptions {
  /** Folder of the built console (default: packages/web/dist). */
  readonly root?: string;
}

export const consoleStatic: FastifyPluginAsync<ConsoleStaticOptions> = async (app, options) => {
  const root = normalize(options.root ?? DEFAULT_CONSOLE_ROOT);
  const cache = new Map<string, Entry | null>();

  const load = async (rel: string): Promise<Entry | null> => {
    if (cache.has(rel)) return cache.get(rel) ?? null;
    const path = normalize(join(root, rel));
    // Never outside the root (`..` segments, encoded or not).
    if (path !== root && !path.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
    let entry: Entry | null = null;
    const body = await readIfFile(path);
    if (body) {
      const ext = extname(path).toLowerCase();
      const [br, gz] = await Promise.all([readIfFile(`${path}.br`), readIfFile(`${path}.gz`)]);
      entry = {
        body,
        type: TYPES[ext] ?? 'application/octet-stream',
        // Vite names built assets by content hash: they never change under the same name.
        immutable: rel.startsWith('assets/'),
        ...(br ? { br: Promise.resolve(br) } : {}),
        ...(gz ? { gzip: Promise.resolve(gz) } : {}),
      };
    }
    cache.set(rel, entry);
    return entry;
  };

  const send = async (request: FastifyRequest, reply: FastifyReply, entry: Entry, ext: string) => {
    void reply.header('content-type', entry.type);
    void reply.header('cache-control', entry.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    void reply.header('x-content-type-options', 'nosniff');
    const accept = String(request.headers['accept-encoding'] ?? '');
    if (COMPRESSIBLE.has(ext) && entry.body.length > 1024) {
      void reply.header('vary', 'accept-encoding');
      if (/\bbr\b/.test(accept)) {
        entry.br ??= brotliAsync(entry.body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } });
        return reply.header('content-encoding', 'br').send(await entry.br);
      }
      if (/\bgzip\b/.test(accept)) {
        entry.gzip ??= gzipAsync(entry.body, { level: 6 });
        return reply.header('content-encoding', 'gzip').send(await entry.gzip);
      }
    }
    return reply.send(entry.body);
  };

  app.get('/*', async (request, reply) => {
    const pathname = decodeURIComponent(request.url.split('?')[0] ?? '/');
    if (NOT_CONSOLE.test(pathname)) {
      return reply
        .status(404)
        .send({ error: { code: 'not_found', message: `no route ${request.method} ${pathname}` } });
    }
    const rel = pathname.replace(/^\/+/, '');
    // The precompressed siblings are not files of the console.
    const file = rel && !/\.(br|gz)$/.test(rel) ? await load(rel) : null;
    if (file) return send(request, reply, file, extname(rel).toLowerCase());
    // A missing asset is a 404 (a stale page asking for an old chunk must not get HTML back).
    if (rel.startsWith('assets/')) {
      return reply.status(404).send({ error: { code: 'not_found', message: `no file ${pathname}` } });
    }
    const index = await load('index.html');
    if (!index) {
      return reply
        .status(404)
        .type('text/plain; charset=utf-8')
        .send('The web console is not built: run `npm run build -w @vigil/web` (or `npm run build`).\n');
    }
    return send(request, reply, index, '.html');
  });
};
