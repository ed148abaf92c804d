/**
 * Workspaces are isolated (tenants of an MSSP): with data, incidents, rules, functions, saved queries and users in
 * two workspaces, no endpoint and no KQL query of one reaches the other — not through paths (every workspace
 * endpoint of B called by A's Owner with B's real ids), not through KQL (tables, union/search, cross-database
 * functions, stored functions), not through Kusto REST or Log Analytics, not with a token bound to the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ndjson, startTestVigil, type TestVigil, userWithRole } from './helpers.js';

let t: TestVigil;
let alice: string; // Owner of A (default)
let bob: string; // Owner of B
let carolTokenA: string; // member of both, token bound to A
const ids: Record<string, string> = {};

const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
const alert = (id: string, host: string) => ({
  TimeGenerated: iso(now),
  DisplayName: `Alert on ${host}`,
  AlertName: `Alert on ${host}`,
  AlertSeverity: 'High',
  ProviderName: 'MDATP',
  ProductName: 'Microsoft Defender Advanced Threat Protection',
  SystemAlertId: id,
  StartTime: iso(now),
  EndTime: iso(now),
  Status: 'New',
  Entities: JSON.stringify([{ $id: '2', Type: 'host', HostName: host }]),
});

async function seed(ws: string, token: string, tag: string): Promise<void> {
  const put = (path: string, o: Parameters<typeof call>[3]) =>
    call(t.url, 'POST', `/api/workspaces/${ws}${path}`, { token, ...o });
  const rows = Array.from({ length: 5 }, (_, i) => ({
    TimeGenerated: iso(now - i * 1000),
    Computer: `${tag}-host-${i}`,
    SyslogMessage: `${tag} secret ${i}`,
  }));
  expect(
    (await put('/ingest/Syslog', { raw: ndjson(rows), headers: { 'content-type': 'application/x-ndjson' } })).status,
  ).toBe(200);
  expect(
    (
      await put('/ingest/SecurityAlert', {
        raw: ndjson([alert(`${tag}-alert-1`, `${tag}-host-0`)]),
        headers: { 'content-type': 'application/x-ndjson' },
      })
    ).status,
  ).toBe(200);
  const saved = await put('/saved-queries', { body: { name: `${tag} query`, query: 'Syslog' } });
  ids[`${tag}.saved`] = (saved.json as { id: string }).id;
  expect(
    (await call(t.url, 'PUT', `/api/workspaces/${ws}/functions/${tag}Fn`, { token, body: { body: 'Syslog | take 1' } }))
      .status,
  ).toBe(200);
  const inc = await call<{ items: { id: string }[] }>(t.url, 'GET', `/api/workspaces/${ws}/incidents`, { token });
  ids[`${tag}.incident`] = inc.json.items[0]?.id as string;
  const me = await call<{ user: { id: string } }>(t.url, 'GET', '/api/auth/me', { token });
  ids[`${tag}.user`] = me.json.user.id;
}

beforeAll(async () => {
  t = await startTestVigil();
  expect(
    (await call(t.url, 'POST', '/api/workspaces', { token: t.adminToken, body: { name: 'tenant-b' } })).status,
  ).toBe(201);
  alice = await userWithRole(t, 'default', 'alice', 'Owner');
  bob = await userWithRole(t, 'tenant-b', 'bob', 'Owner');
  const carol = await userWithRole(t, 'default', 'carol', 'Contributor');
  const carolId = (await call<{ user: { id: string } }>(t.url, 'GET', '/api/auth/me', { token: carol })).json.user.id;
  // Carol is in both tenants (added to B by the server administrator).
  expect(
    (await call(t.url, 'PATCH', `/api/workspaces/default/users/${carolId}`, { token: t.adminToken, body: {} })).status,
  ).toBe(200);
  expect(
    (
      await call(t.url, 'POST', '/api/workspaces/tenant-b/users', {
        token: t.adminToken,
        body: { name: 'carol', role: 'Reader' },
      })
    ).status,
  ).toBe(201);
  carolTokenA = (
    await call<{ value: string }>(t.url, 'POST', '/api/tokens', {
      token: carol,
      body: { name: 'a-only', workspace: 'default' },
    })
  ).json.value;
  await seed('default', alice, 'A');
  await seed('tenant-b', bob, 'B');
}, 120_000);

afterAll(async () => {
  await t?.dispose();
});

describe('workspace isolation', () => {
  it("no endpoint of B answers A's Owner, even with B's real ids", async () => {
    const doc = (
      await call<{
        paths: Record<
          string,
          Record<string, { 'x-vigil-access': string; requestBody?: { content: Record<string, unknown> } }>
        >;
      }>(t.url, 'GET', '/api/openapi.json')
    ).json;
    const real: Record<string, string> = {
      workspace: 'tenant-b',
      id: ids['B.incident'] as string,
      alertId: 'B-alert-1',
      name: 'BFn',
      table: 'Syslog',
      resultId: 'x',
      queryId: 'x',
      commentId: 'x',
      taskId: 'x',
      stream: 'x',
    };
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!op['x-vigil-access'].startsWith('workspace:')) continue;
        const concrete = path.replace(/\{([^}]+)\}/g, (_, k: string) => {
          if (k === 'id' && path.includes('/saved-queries/')) return ids['B.saved'] as string;
          if (k === 'id' && path.includes('/users/')) return ids['B.user'] as string;
          return real[k] ?? 'x';
        });
        const raw = !!op.requestBody && !op.requestBody.content['application/json'];
        const a = await call(t.url, method.toUpperCase(), concrete, {
          token: alice,
          ...(op.requestBody
            ? raw
              ? { raw: ndjson([{ Computer: 'intruder' }]), headers: { 'content-type': 'application/x-ndjson' } }
              : { body: {} }
            : {}),
        });
        expect(a.status, `${method} ${concrete}: ${a.text.slice(0, 200)}`).toBe(404);
        expect(a.text).not.toContain('B secret');
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60);
    // B's data is untouched by those calls.
    const b = await call<{ rows: unknown[][] }>(t.url, 'POST', '/api/workspaces/tenant-b/query', {
      token: bob,
      body: { query: 'Syslog | where Computer == "intruder" | count' },
    });
    expect(b.json.rows).toEqual([[0]]);
  }, 120_000);

  it("A's resource ids mean nothing in A's paths when they are B's", async () => {
    for (const path of [
      `/incidents/${ids['B.incident']}`,
      '/alerts/B-alert-1',
      `/saved-queries/${ids['B.saved']}`,
      '/functions/BFn',
      `/users/${ids['B.user']}`,
    ]) {
      const a = await call(t.url, 'GET', `/api/workspaces/default${path}`, { token: alice });
      expect(a.status, path).toBe(404);
    }
    const users = await call<{ items: { user: { name: string } }[] }>(t.url, 'GET', '/api/workspaces/default/users', {
      token: alice,
    });
    expect(users.json.items.map((u) => u.user.name)).not.toContain('bob');
    const ws = await call<{ items: { name: string }[] }>(t.url, 'GET', '/api/workspaces', { token: alice });
    expect(ws.json.items.map((w) => w.name)).toEqual(['default']);
  });

  it('no KQL query of A reads B', async () => {
    const q = async (query: string) =>
      call<{ rows: unknown[][]; error?: { code: string } }>(t.url, 'POST', '/api/workspaces/default/query', {
        token: alice,
        body: { query },
      });
    expect((await q('Syslog | summarize make_set(Computer)')).json.rows[0]?.[0]).toEqual(
      expect.not.arrayContaining(['B-host-0']),
    );
    const union = await q(
      'union Syslog, SecurityAlert, SecurityIncident | where tostring(pack_all()) has "B secret" | count',
    );
    expect(union.status, union.text).toBe(200);
    expect(union.json.rows).toEqual([[0]]);
    const search = await q('search in (Syslog, SecurityAlert) "B secret" | count');
    expect(search.status, search.text).toBe(200);
    expect(search.json.rows).toEqual([[0]]);
    // The same queries find A's own rows.
    expect((await q('search in (Syslog) "A secret" | count')).json.rows).toEqual([[5]]);
    for (const cross of [
      'workspace("tenant-b").Syslog',
      'database("tenant-b").Syslog',
      'cluster("x").database("tenant-b").Syslog',
      'app("tenant-b").Syslog',
      'BFn',
    ]) {
      const r = await q(`${cross} | count`);
      expect(r.status, cross).toBe(400);
    }
    const incidents = await q('SecurityIncident | summarize make_set(Title)');
    expect(JSON.stringify(incidents.json.rows)).not.toContain('B-host');
  });

  it('Kusto REST and Log Analytics do not cross either', async () => {
    const kusto = await call<{ error: { code: string } }>(t.url, 'POST', '/v2/rest/query', {
      token: alice,
      body: { db: 'tenant-b', csl: 'Syslog | count' },
    });
    expect(kusto.status).toBe(400);
    expect(kusto.text).not.toContain('B secret');
    const mgmt = await call(t.url, 'POST', '/v1/rest/mgmt', {
      token: alice,
      body: { db: 'tenant-b', csl: '.show functions' },
    });
    expect(mgmt.status).toBe(400);
    const dbs = await call<{ Tables: { Rows: unknown[][] }[] }>(t.url, 'POST', '/v1/rest/mgmt', {
      token: alice,
      body: { db: 'default', csl: '.show databases' },
    });
    expect(dbs.json.Tables[0]?.Rows.map((r) => r[0])).toEqual(['default']);
    const bId = t.vigil.manager.get('tenant-b')?.id as string;
    for (const w of ['tenant-b', bId]) {
      const la = await call(t.url, 'POST', `/v1/workspaces/${w}/query`, {
        token: alice,
        body: { query: 'Syslog | count' },
      });
      expect(la.status).toBe(404);
    }
    const laCross = await call(t.url, 'POST', '/v1/workspaces/default/query', {
      token: alice,
      body: { query: 'Syslog | count', workspaces: [bId] },
    });
    expect(laCross.status).toBe(400);
  });

  it('a token bound to A does not reach B even for a member of both', async () => {
    expect((await call(t.url, 'GET', '/api/workspaces/default/tables', { token: carolTokenA })).status).toBe(200);
    expect((await call(t.url, 'GET', '/api/workspaces/tenant-b/tables', { token: carolTokenA })).status).toBe(404);
    expect(
      (await call(t.url, 'POST', '/v2/rest/query', { token: carolTokenA, body: { db: 'tenant-b', csl: 'print 1' } }))
        .status,
    ).toBe(400);
    expect(
      (await call(t.url, 'POST', '/v1/workspaces/tenant-b/query', { token: carolTokenA, body: { query: 'print 1' } }))
        .status,
    ).toBe(404);
  });

  it("A's Owner cannot take over an account that also belongs to B", async () => {
    const carol = (
      await call<{ items: { user: { id: string; name: string } }[] }>(t.url, 'GET', '/api/workspaces/default/users', {
        token: alice,
      })
    ).json.items.find((u) => u.user.name === 'carol');
    expect(carol).toBeDefined();
    const id = carol?.user.id as string;
    expect((await call(t.url, 'POST', `/api/workspaces/default/users/${id}/setup-code`, { token: alice })).status).toBe(
      403,
    );
    expect(
      (
        await call(t.url, 'PATCH', `/api/workspaces/default/users/${id}`, {
          token: alice,
          body: { email: 'attacker@evil.test' },
        })
      ).status,
    ).toBe(403);
    // Her role here is A's to decide.
    expect(
      (await call(t.url, 'PATCH', `/api/workspaces/default/users/${id}`, { token: alice, body: { role: 'Reader' } }))
        .status,
    ).toBe(200);
    // Creating an account named like B's user is refused without saying more.
    expect(
      (
        await call(t.url, 'POST', '/api/workspaces/default/users', {
          token: alice,
          body: { name: 'bob', role: 'Owner' },
        })
      ).status,
    ).toBe(409);
  });

  it('each workspace has its own audit log', async () => {
    const a = await call<{ items: { path: string; userName: string }[] }>(
      t.url,
      'GET',
      '/api/workspaces/default/audit?limit=1000',
      { token: alice },
    );
    expect(a.json.items.some((e) => e.path.includes('tenant-b'))).toBe(false);
    const b = await call<{ items: { userName: string }[] }>(t.url, 'GET', '/api/workspaces/tenant-b/audit?limit=1000', {
      token: bob,
    });
    expect(b.json.items.some((e) => e.userName === 'alice')).toBe(false);
  });
});
