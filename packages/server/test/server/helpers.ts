/** Shared helpers for the server tests: a server on 127.0.0.1 in a temporary workspace, and small HTTP calls. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KqlValue } from '../../src/engine/values.js';
import { type RunningServer, type ServeOptions, startServer } from '../../src/server/serve.js';

export interface TestServer {
  readonly server: RunningServer;
  readonly dir: string;
  /** Stops the server and deletes the workspace. */
  dispose(): Promise<void>;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function testServer(options: Partial<ServeOptions> = {}, dir?: string): Promise<TestServer> {
  const data = dir ?? (await tempDir('vigil-server-'));
  const server = await startServer({ dataDir: data, port: 0, engine: { threads: 2, connections: 2 }, ...options });
  return {
    server,
    dir: data,
    async dispose() {
      await server.close();
      if (!dir) await rm(data, { recursive: true, force: true });
    },
  };
}

export interface Answer<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly json: T;
}

export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: (text ? JSON.parse(text) : null) as T };
}

export const post = <T = Record<string, unknown>>(
  base: string,
  path: string,
  body: string | Uint8Array,
  headers?: Record<string, string>,
) => call<T>(base, 'POST', path, body, headers);

/** Runs KQL through the server and returns the rows. */
export async function kql(base: string, query: string): Promise<KqlValue[][]> {
  const r = await post<{ rows: KqlValue[][]; error?: unknown }>(base, '/api/query', JSON.stringify({ query }));
  if (r.status !== 200) throw new Error(`query failed (${r.status}): ${JSON.stringify(r.json)}`);
  return r.json.rows;
}

export const ndjson = (rows: readonly unknown[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
