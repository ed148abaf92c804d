/**
 * The role matrix: every workspace endpoint of the OpenAPI document × every kind of caller (the four roles, the
 * Approver grant, scoped API tokens, a member of another workspace, no credential). A caller without the
 * endpoint's permission gets 403 (404 when not a member at all, 401 without a credential); a caller with it gets
 * past the check (any answer but 401/403 — placeholder ids then give 404, empty bodies 400). Server-level
 * endpoints need a server administrator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Permission } from '../../src/auth/model.js';
import { call, startTestVigil, type TestVigil, userWithRole } from './helpers.js';

let t: TestVigil;
interface Op {
  operationId: string;
  'x-vigil-access': string;
  requestBody?: { content: Record<string, unknown> };
}
let ops: { method: string; path: string; op: Op }[] = [];
const callers: { name: string; token: string; perms: Permission[] | 'outsider' | 'anonymous' }[] = [];

beforeAll(async () => {
  t = await startTestVigil();
  const doc = (await call<{ paths: Record<string, Record<string, Op>> }>(t.url, 'GET', '/api/openapi.json')).json;
  ops = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
  await call(t.url, 'POST', '/api/workspaces', { token: t.adminToken, body: { name: 'other' } });
  const reader = await userWithRole(t, 'default', 'reader', 'Reader');
  const responder = await userWithRole(t, 'default', 'responder', 'Responder');
  const contributor = await userWithRole(t, 'default', 'contributor', 'Contributor');
  const owner = await userWithRole(t, 'default', 'owner2', 'Owner');
  const approver = await userWithRole(t, 'default', 'approver', 'Reader', true);
  const outsider = await userWithRole(t, 'other', 'outsider', 'Owner');
  const scoped = async (session: string, scopes: Permission[]) =>
    (await call<{ value: string }>(t.url, 'POST', '/api/tokens', { token: session, body: { name: 'scoped', scopes } }))
      .json.value;
  callers.push(
    { name: 'Reader', token: reader, perms: ['read'] },
    { name: 'Responder', token: responder, perms: ['read', 'triage'] },
    { name: 'Contributor', token: contributor, perms: ['read', 'triage', 'author', 'ingest'] },
    { name: 'Owner', token: owner, perms: ['read', 'triage', 'author', 'ingest', 'admin'] },
    { name: 'Reader + Approver', token: approver, perms: ['read', 'approve'] },
    { name: 'Owner token scoped to read', token: await scoped(owner, ['read']), perms: ['read'] },
    {
      name: 'Contributor token scoped to triage+ingest',
      token: await scoped(contributor, ['triage', 'ingest']),
      perms: ['triage', 'ingest'],
    },
    { name: 'Reader token asking for admin', token: await scoped(reader, ['read', 'admin']), perms: ['read'] },
    { name: 'Owner of another workspace', token: outsider, perms: 'outsider' },
    { name: 'no credential', token: '', perms: 'anonymous' },
  );
}, 120_000);

afterAll(async () => {
  await t?.dispose();
});

function concrete(path: string): string {
  return path.replace('{workspace}', 'default').replace(/\{[^}]+\}/g, 'none-0000');
}

describe('role matrix', () => {
  it('every workspace endpoint enforces its permission for every caller', async () => {
    const workspaceOps = ops.filter((o) => o.op['x-vigil-access'].startsWith('workspace:'));
    expect(workspaceOps.length).toBeGreaterThan(60);
    const failures: string[] = [];
    let checked = 0;
    for (const { method, path, op } of workspaceOps) {
      const need = op['x-vigil-access'].slice('workspace:'.length) as Permission;
      const raw = !!op.requestBody && !op.requestBody.content['application/json'];
      for (const c of callers) {
        const a = await call(t.url, method, concrete(path), {
          token: c.token,
          ...(op.requestBody
            ? raw
              ? { raw: '', headers: { 'content-type': 'application/x-ndjson' } }
              : { body: {} }
            : {}),
        });
        checked++;
        const expected =
          c.perms === 'anonymous' ? 401 : c.perms === 'outsider' ? 404 : c.perms.includes(need) ? 'allowed' : 403;
        const ok = expected === 'allowed' ? a.status !== 401 && a.status !== 403 : a.status === expected;
        if (!ok) failures.push(`${c.name} ${method} ${path} (${need}): ${a.status} ${a.text.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBe(workspaceOps.length * callers.length);
  }, 300_000);

  it('server endpoints need a server administrator with an unscoped credential', async () => {
    const serverOps = ops.filter((o) => o.op['x-vigil-access'] === 'server-admin');
    expect(serverOps.map((o) => o.op.operationId).sort()).toEqual(['audit.server', 'users.all', 'workspaces.create']);
    const scopedAdmin = (
      await call<{ value: string }>(t.url, 'POST', '/api/tokens', {
        token: t.adminToken,
        body: { name: 'x', scopes: ['read'] },
      })
    ).json.value;
    for (const { method, path } of serverOps) {
      for (const c of callers) {
        const a = await call(t.url, method, path, { token: c.token, ...(method === 'POST' ? { body: {} } : {}) });
        expect(a.status, `${c.name} ${method} ${path}`).toBe(c.perms === 'anonymous' ? 401 : 403);
      }
      expect(
        (await call(t.url, method, path, { token: scopedAdmin, ...(method === 'POST' ? { body: {} } : {}) })).status,
      ).toBe(403);
      const admin = await call(t.url, method, path, {
        token: t.adminToken,
        ...(method === 'POST' ? { body: {} } : {}),
      });
      expect([200, 400]).toContain(admin.status);
    }
  });

  it('a token cannot mint tokens, and role changes apply at once', async () => {
    const owner = callers.find((c) => c.name === 'Owner') as (typeof callers)[number];
    const tok = (
      await call<{ value: string }>(t.url, 'POST', '/api/tokens', { token: owner.token, body: { name: 'a' } })
    ).json.value;
    expect((await call(t.url, 'POST', '/api/tokens', { token: tok, body: { name: 'b' } })).status).toBe(403);

    const reader = callers.find((c) => c.name === 'Reader') as (typeof callers)[number];
    const patch = { body: { addTags: ['x'] } };
    expect(
      (await call(t.url, 'PATCH', '/api/workspaces/default/incidents/none-0000', { token: reader.token, ...patch }))
        .status,
    ).toBe(403);
    const me = (await call<{ user: { id: string } }>(t.url, 'GET', '/api/auth/me', { token: reader.token })).json.user
      .id;
    expect(
      (
        await call(t.url, 'PATCH', `/api/workspaces/default/users/${me}`, {
          token: t.adminToken,
          body: { role: 'Responder' },
        })
      ).status,
    ).toBe(200);
    expect(
      (await call(t.url, 'PATCH', '/api/workspaces/default/incidents/none-0000', { token: reader.token, ...patch }))
        .status,
    ).toBe(404);
    expect(
      (
        await call(t.url, 'PATCH', `/api/workspaces/default/users/${me}`, {
          token: t.adminToken,
          body: { disabled: true },
        })
      ).status,
    ).toBe(200);
    expect((await call(t.url, 'GET', '/api/auth/me', { token: reader.token })).status).toBe(401);
  });
});
