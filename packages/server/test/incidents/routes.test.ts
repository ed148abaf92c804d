/**
 * The incident routes mounted the way the server mounts plugins (bodies read as raw bytes), driven with Fastify's
 * inject: list with filters and cursors, details, update with If-Match, bulk, comments, tasks, merge, split,
 * alerts, the event feed, settings, and errors as `{error: {code, message}}`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident, IncidentDetail } from '../../src/incidents/model.js';
import { actorFromHeader, incidentRoutes, queryFromParams } from '../../src/incidents/routes.js';
import { account, host, MIN, openStack, productAlertRow, type Stack, T0 } from './helpers.js';

let s: Stack;
let app: FastifyInstance;
const ANALYST = { 'x-vigil-actor': 'analyst:mia@contoso.com', 'content-type': 'application/json' };

beforeAll(async () => {
  s = await openStack();
  await s.service.ingestProductAlerts([
    productAlertRow({
      product: 'mde',
      title: 'Suspicious PowerShell',
      severity: 'High',
      tactics: ['Execution'],
      atMs: T0,
      entities: [host('ws-1', 'd1'), account('amy@contoso.com')],
    }),
    productAlertRow({
      product: 'mde',
      title: 'C2 beacon',
      tactics: ['CommandAndControl'],
      atMs: T0 + MIN,
      entities: [host('ws-1', 'd1')],
    }),
    productAlertRow({
      product: 'mdi',
      title: 'LDAP recon',
      tactics: ['Discovery'],
      atMs: T0,
      entities: [host('dc9', 'dc9')],
    }),
    productAlertRow({
      product: 'mdo',
      title: 'Phish',
      tactics: ['InitialAccess'],
      atMs: T0,
      entities: [account('zed@contoso.com')],
    }),
  ]);
  app = Fastify();
  // As the server does: every body as raw bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, b, done) => done(null, b));
  await app.register(incidentRoutes, { service: s.service, prefix: '/api' });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await s?.close();
});

const json = <T>(r: { body: string }) => JSON.parse(r.body) as T;

describe('incident routes', () => {
  it('lists with filters, sorting and cursors', async () => {
    const r = await app.inject({ url: '/api/incidents?status=New,Active&sort=number&order=asc&limit=2' });
    expect(r.statusCode).toBe(200);
    const page = json<{ items: Incident[]; nextCursor: string }>(r);
    expect(page.items.map((i) => i.number)).toEqual([1, 2]);
    const next = await app.inject({
      url: `/api/incidents?status=New&status=Active&sort=number&order=asc&limit=2&cursor=${page.nextCursor}`,
    });
    expect(json<{ items: Incident[] }>(next).items.map((i) => i.number)).toEqual([3]);
    const byEntity = await app.inject({ url: '/api/incidents?entity=amy@contoso.com' });
    expect(json<{ items: Incident[] }>(byEntity).items.map((i) => i.alertCount)).toEqual([2]);
    const bad = await app.inject({ url: '/api/incidents?sort=owner' });
    expect(bad.statusCode).toBe(400);
    expect(json<{ error: { code: string; message: string } }>(bad).error).toEqual({
      code: 'invalid',
      message: expect.stringMatching(/cannot sort by owner/),
    });
  });

  it('gets an incident with its alerts, entities, graph, links and audit', async () => {
    const r = await app.inject({ url: '/api/incidents/1' });
    const d = json<IncidentDetail>(r);
    expect(d.incident.title).toBe('Multi-stage incident involving Execution & Command and control on one endpoint');
    expect(d.alerts.items).toHaveLength(2);
    expect(d.graph.edges).toHaveLength(3);
    expect(d.links.items.map((l) => l.reason.rule)).toEqual(['new-incident', 'shared-entity']);
    const byId = await app.inject({ url: `/api/incidents/${d.incident.id}/alerts?limit=1` });
    expect(json<{ items: unknown[]; nextCursor: string; total: number }>(byId)).toMatchObject({
      total: 2,
      nextCursor: expect.any(String),
    });
    expect((await app.inject({ url: '/api/incidents/999' })).statusCode).toBe(404);
    const alert = await app.inject({ url: `/api/alerts/${d.alerts.items[0]?.alertId}` });
    expect(json<{ links: unknown[] }>(alert).links).toHaveLength(1);
  });

  it('updates with If-Match, audits the actor from the header, and refuses stale versions', async () => {
    const r = await app.inject({
      method: 'PATCH',
      url: '/api/incidents/1',
      headers: { ...ANALYST, 'if-match': '"1"' },
      payload: JSON.stringify({ owner: { userPrincipalName: 'mia@contoso.com' }, status: 'Active' }),
    });
    expect(r.statusCode).toBe(200);
    expect(json<Incident>(r)).toMatchObject({
      status: 'Active',
      version: 2,
      lastModifiedBy: { type: 'analyst', id: 'mia@contoso.com' },
    });
    const stale = await app.inject({
      method: 'PATCH',
      url: '/api/incidents/1',
      headers: { ...ANALYST, 'if-match': '1' },
      payload: '{"severity":"Low"}',
    });
    expect(stale.statusCode).toBe(409);
    const notJson = await app.inject({ method: 'PATCH', url: '/api/incidents/1', headers: ANALYST, payload: '{nope' });
    expect(notJson.statusCode).toBe(400);
    expect(json<{ error: { message: string } }>(notJson).error.message).toMatch(/not JSON/);
  });

  it('bulk updates, comments and tasks', async () => {
    const bulk = await app.inject({
      method: 'POST',
      url: '/api/incidents/bulk',
      headers: { ...ANALYST, 'x-vigil-actor': 'automation-rule:ar-1' },
      payload: JSON.stringify({ ids: [2, 3], patch: { addTags: ['triaged'] } }),
    });
    expect(json<{ results: { ok: boolean }[] }>(bulk).results.map((x) => x.ok)).toEqual([true, true]);
    const c = await app.inject({
      method: 'POST',
      url: '/api/incidents/2/comments',
      headers: ANALYST,
      payload: '{"message":"checked"}',
    });
    expect(c.statusCode).toBe(201);
    const commentId = json<{ id: string }>(c).id;
    const edit = await app.inject({
      method: 'PATCH',
      url: `/api/incidents/2/comments/${commentId}`,
      headers: ANALYST,
      payload: '{"message":"checked twice"}',
    });
    expect(json<{ message: string }>(edit).message).toBe('checked twice');
    const t = await app.inject({
      method: 'POST',
      url: '/api/incidents/2/tasks',
      headers: ANALYST,
      payload: '{"title":"Isolate dc9?"}',
    });
    const taskId = json<{ id: string }>(t).id;
    const done = await app.inject({
      method: 'PATCH',
      url: `/api/incidents/2/tasks/${taskId}`,
      headers: ANALYST,
      payload: '{"status":"Completed"}',
    });
    expect(json<{ status: string; completedTime: string }>(done)).toMatchObject({
      status: 'Completed',
      completedTime: expect.any(String),
    });
    expect(json<{ items: unknown[] }>(await app.inject({ url: '/api/incidents/2/tasks' })).items).toHaveLength(1);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/incidents/2/tasks/${taskId}`, headers: ANALYST })).statusCode,
    ).toBe(204);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/incidents/2/comments/${commentId}`, headers: ANALYST }))
        .statusCode,
    ).toBe(204);
    const audit = json<{ items: { action: string; actor: { type: string } }[] }>(
      await app.inject({ url: '/api/incidents/2/audit?limit=50' }),
    );
    expect(audit.items.map((a) => a.action)).toEqual([
      'comment-deleted',
      'task-deleted',
      'task-updated',
      'task-added',
      'comment-edited',
      'comment-added',
      'updated',
      'alert-added',
      'created',
    ]);
    expect(audit.items[6]?.actor.type).toBe('automation-rule');
  });

  it('merges and splits by hand', async () => {
    const m = await app.inject({
      method: 'POST',
      url: '/api/incidents/2/merge',
      headers: ANALYST,
      payload: '{"incidents":[3],"note":"same user"}',
    });
    expect(m.statusCode).toBe(200);
    expect(json<Incident>(m).alertCount).toBe(2);
    const d = json<IncidentDetail>(await app.inject({ url: '/api/incidents/2' }));
    const phish = d.alerts.items.find((a) => a.title === 'Phish');
    const sp = await app.inject({
      method: 'POST',
      url: '/api/incidents/2/split',
      headers: ANALYST,
      payload: JSON.stringify({ alertIds: [phish?.alertId], title: 'Phish to Zed' }),
    });
    expect(json<{ to: Incident }>(sp).to).toMatchObject({ title: 'Phish to Zed', titleManual: true, alertCount: 1 });
    const badSplit = await app.inject({
      method: 'POST',
      url: '/api/incidents/2/split',
      headers: ANALYST,
      payload: '{"alertIds":"x"}',
    });
    expect(badSplit.statusCode).toBe(400);
  });

  it('serves the change feed and the settings', async () => {
    const feed = json<{ items: { seq: number; type: string }[] }>(
      await app.inject({ url: '/api/incident-events?after=0&limit=3' }),
    );
    expect(feed.items.map((e) => e.seq)).toEqual([1, 2, 3]);
    const settings = await app.inject({
      method: 'PATCH',
      url: '/api/incident-settings',
      headers: ANALYST,
      payload: JSON.stringify({
        commonEntities: { share: 0.1, windowMs: 86_400_000, minAlerts: 50, excluded: ['proxy01'] },
      }),
    });
    expect(json<{ commonEntities: { share: number } }>(settings).commonEntities.share).toBe(0.1);
    const bad = await app.inject({
      method: 'PATCH',
      url: '/api/incident-settings',
      headers: ANALYST,
      payload: '{"commonEntities":{"share":7}}',
    });
    expect(bad.statusCode).toBe(400);
  });
});

describe('request helpers', () => {
  it('reads actors and list parameters', () => {
    const req = (h: Record<string, string>) => ({ headers: h }) as never;
    expect(actorFromHeader(req({ 'x-vigil-actor': 'playbook:pb-1' }))).toEqual({ type: 'playbook', id: 'pb-1' });
    expect(actorFromHeader(req({ 'x-vigil-actor': 'mia@contoso.com' }))).toEqual({
      type: 'analyst',
      id: 'mia@contoso.com',
    });
    expect(actorFromHeader(req({}))).toEqual({ type: 'analyst', id: 'anonymous' });
    expect(
      queryFromParams({ status: ['New', 'Active,Closed'], tag: 'a', limit: '5', includeRedirected: 'true' }),
    ).toEqual({
      status: ['New', 'Active', 'Closed'],
      tags: ['a'],
      limit: 5,
      includeRedirected: true,
    });
  });
});
