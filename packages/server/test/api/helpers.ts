/**
 * A real Vigil server for API tests: a temporary data folder, the workspace schema, every service, the API on
 * 127.0.0.1, and helpers to sign in, mint tokens and call endpoints.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningVigil, startVigil, type VigilServerOptions } from '../../src/api/server.js';
import type { Role } from '../../src/auth/model.js';

export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface TestVigil {
  readonly vigil: RunningVigil;
  readonly url: string;
  readonly dir: string;
  /** The first Owner's session token. */
  readonly adminToken: string;
  dispose(): Promise<void>;
}

export async function startTestVigil(options: Partial<VigilServerOptions> = {}): Promise<TestVigil> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-api-'));
  const vigil = await startVigil({
    dataDir: dir,
    port: 0,
    host: '127.0.0.1',
    initialAdminPassword: ADMIN_PASSWORD,
    workspace: { engine: { threads: 1, connections: 2 }, scheduler: false },
    ...options,
  });
  const url = (vigil.url ?? vigil.httpsUrl) as string;
  const login = await call(url, 'POST', '/api/auth/login', { body: { name: 'admin', password: ADMIN_PASSWORD } });
  if (login.status !== 200) throw new Error(`admin login failed: ${JSON.stringify(login.json)}`);
  return {
    vigil,
    url,
    dir,
    adminToken: (login.json as { token: string }).token,
    async dispose() {
      await vigil.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly json: T;
  readonly text: string;
}

export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  o: { token?: string; body?: unknown; raw?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let body: string | Uint8Array | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, json: json as T, text };
}

/** Creates a user with a role in a workspace and returns a session token for them. */
export async function userWithRole(
  t: TestVigil,
  workspace: string,
  name: string,
  role: Role,
  approver = false,
): Promise<string> {
  const password = 'Zebra-Quartz-Lantern-77';
  const r = await call(t.url, 'POST', `/api/workspaces/${workspace}/users`, {
    token: t.adminToken,
    body: { name, password, role, approver },
  });
  if (r.status !== 201) throw new Error(`creating ${name}: ${r.status} ${r.text}`);
  const login = await call<{ token: string }>(t.url, 'POST', '/api/auth/login', { body: { name, password } });
  if (login.status !== 200) throw new Error(`login ${name}: ${login.text}`);
  return login.json.token;
}

export const ndjson = (rows: readonly unknown[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
