/**
 * The incident lifecycle by hand and by automation: field updates with validation and the audit trail ("who"),
 * optimistic concurrency, reopening, comments, tasks, bulk updates, manual merge and split, thousands of alerts
 * without a cap (paged), change events (durable feed and listeners), and restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor, IncidentEvent } from '../../src/incidents/model.js';
import { IncidentError } from '../../src/incidents/service.js';
import {
  account,
  analyst,
  HOUR,
  host,
  ip,
  MIN,
  openStack,
  productAlertRow,
  ruleAlert,
  type Stack,
  T0,
} from './helpers.js';

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const automation: Actor = { type: 'automation-rule', id: 'ar-7', name: 'Assign Defender incidents to Tier 1' };
const playbook: Actor = { type: 'playbook', id: 'pb-enrich', name: 'Enrich IP reputation' };
const sync: Actor = { type: 'sync', id: 'defender-xdr', name: 'Microsoft Defender XDR' };

async function withIncidents(n: number): Promise<Stack> {
  stack = await openStack();
  const rows = Array.from({ length: n }, (_, k) =>
    productAlertRow({
      product: 'mde',
      title: `Alert ${k}`,
      atMs: T0 + k * MIN,
      entities: [host(`ws-${k}`, `dev-${k}`)],
    }),
  );
  await stack.service.ingestProductAlerts(rows);
  return stack;
}

const rejects = async (p: Promise<unknown>, code: string, message: RegExp) => {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(IncidentError);
  expect((e as IncidentError).code).toBe(code);
  expect((e as IncidentError).message).toMatch(message);
};

describe('updates and the audit trail', () => {
  it('records every changed field with who changed it: analyst, automation rule, playbook, sync', async () => {
    const s = await withIncidents(1);
    await s.service.update(1, { owner: { userPrincipalName: 'tier1@contoso.com' }, addTags: ['Defender'] }, automation);
    await s.service.update(1, { addTags: ['ip-reputation:bad'] }, playbook);
    await s.service.update(
      1,
      { status: 'Active', severity: 'High', title: 'Beaconing from ws-0' },
      analyst('mia@contoso.com'),
    );
    await s.service.update(
      1,
      {
        status: 'Closed',
        classification: 'TruePositive',
        classificationReason: 'SuspiciousActivity',
        classificationComment: 'confirmed',
      },
      sync,
    );
    const d = await s.service.get(1);
    expect(d?.incident).toMatchObject({
      status: 'Closed',
      severity: 'High',
      severityManual: true,
      title: 'Beaconing from ws-0',
      titleManual: true,
      classification: 'TruePositive',
      owner: { userPrincipalName: 'tier1@contoso.com', assignedTo: 'tier1@contoso.com' },
      tags: ['Defender', 'ip-reputation:bad'],
      lastModifiedBy: sync,
      version: 5,
    });
    expect(d?.incident.closedTime).not.toBeNull();
    expect(d?.incident.firstModifiedTime).not.toBeNull();
    const trail = [...(d?.audit.items ?? [])].reverse().filter((a) => a.action === 'updated');
    expect(trail.map((a) => [a.actor.type, a.changes.map((c) => c.field)])).toEqual([
      ['automation-rule', ['owner', 'tags']],
      ['playbook', ['tags']],
      ['analyst', ['title', 'severity', 'status']],
      ['sync', ['status', 'classification', 'classificationReason', 'classificationComment']],
    ]);
    expect(trail[2]?.changes[1]).toEqual({ field: 'severity', from: 'Medium', to: 'High' });
  });

  it('validates patches: closing needs a classification, reasons fit the classification, fields are known', async () => {
    const s = await withIncidents(1);
    const who = analyst('mia@contoso.com');
    await rejects(s.service.update(1, { status: 'Closed' }, who), 'invalid', /needs a classification/);
    await rejects(
      s.service.update(
        1,
        { status: 'Closed', classification: 'FalsePositive', classificationReason: 'SuspiciousActivity' },
        who,
      ),
      'invalid',
      /reason is one of: IncorrectAlertLogic, InaccurateData/,
    );
    await rejects(s.service.update(1, { status: 'Done' as 'Closed' }, who), 'invalid', /status must be one of/);
    await rejects(s.service.update(1, { title: '  ' }, who), 'invalid', /title/);
    await rejects(s.service.update(99, { title: 'x' }, who), 'not_found', /no incident 99/);
    await rejects(s.service.update(1, { title: 'x' }, { type: 'robot' as 'analyst', id: 'r' }), 'invalid', /actor/);
    // Nothing was changed by the refused patches.
    expect((await s.service.getIncident(1))?.version).toBe(1);
  });

  it('refuses a stale version (optimistic concurrency)', async () => {
    const s = await withIncidents(1);
    const i = await s.service.update(1, { addTags: ['a'] }, analyst('a@contoso.com'), { expectedVersion: 1 });
    expect(i.version).toBe(2);
    await rejects(
      s.service.update(1, { addTags: ['b'] }, analyst('b@contoso.com'), { expectedVersion: 1 }),
      'conflict',
      /version 2/,
    );
  });

  it('reopening by hand makes the incident undecided again; severity can go back to the alerts', async () => {
    const s = await withIncidents(1);
    const who = analyst('mia@contoso.com');
    await s.service.update(1, { severity: 'High' }, who);
    await s.service.update(1, { status: 'Closed', classification: 'BenignPositive' }, who);
    const reopened = await s.service.update(1, { status: 'Active', severity: null }, who);
    expect(reopened).toMatchObject({
      status: 'Active',
      classification: null,
      closedTime: null,
      severity: 'Medium',
      severityManual: false,
    });
    const last = (await s.service.auditTrail(1, null, 1)).items[0];
    expect(last?.changes).toEqual([
      { field: 'severity', from: 'High', to: 'Medium' },
      { field: 'status', from: 'Closed', to: 'Active' },
      { field: 'classification', from: 'BenignPositive', to: null },
    ]);
  });
});

describe('comments and tasks', () => {
  it('adds, edits and deletes comments (author only edits), counted and audited', async () => {
    const s = await withIncidents(1);
    const mia = analyst('mia@contoso.com');
    const c = await s.service.addComment(1, 'Looks like the Qakbot campaign from last week.', mia);
    await s.service.addComment(1, 'IP reputation: malicious (12 vendors)', playbook);
    await rejects(s.service.editComment(1, c.id, 'hijacked', playbook), 'conflict', /author/);
    await s.service.editComment(1, c.id, 'Looks like Qakbot.', mia);
    await rejects(s.service.addComment(1, '   ', mia), 'invalid', /message/);
    expect((await s.service.comments(1)).map((x) => [x.message, x.author.type])).toEqual([
      ['Looks like Qakbot.', 'analyst'],
      ['IP reputation: malicious (12 vendors)', 'playbook'],
    ]);
    await s.service.deleteComment(1, c.id, mia);
    expect((await s.service.getIncident(1))?.commentCount).toBe(1);
    const actions = (await s.service.auditTrail(1, null)).items.map((a) => a.action);
    expect(actions.slice(0, 4)).toEqual(['comment-deleted', 'comment-edited', 'comment-added', 'comment-added']);
  });

  it('tasks: add, assign, complete, reopen, delete', async () => {
    const s = await withIncidents(1);
    const t1 = await s.service.addTask(1, { title: 'Review the Defender incident graph' }, automation);
    const t2 = await s.service.addTask(
      1,
      { title: 'Check the endpoint timeline', description: '±1 h around the alert' },
      automation,
    );
    await s.service.updateTask(
      1,
      t1.id,
      { assignee: 'mia@contoso.com', status: 'Completed' },
      analyst('mia@contoso.com'),
    );
    expect(await s.service.getIncident(1)).toMatchObject({ taskCount: 2, openTaskCount: 1 });
    const reopened = await s.service.updateTask(1, t1.id, { status: 'New' }, analyst('mia@contoso.com'));
    expect(reopened.completedTime).toBeNull();
    await s.service.deleteTask(1, t2.id, analyst('mia@contoso.com'));
    const tasks = await s.service.tasks(1);
    expect(tasks.map((t) => [t.title, t.status, t.assignee, t.createdBy.type, t.lastModifiedBy.type])).toEqual([
      ['Review the Defender incident graph', 'New', 'mia@contoso.com', 'automation-rule', 'analyst'],
    ]);
    await rejects(
      s.service.updateTask(1, t1.id, { status: 'Done' as 'New' }, analyst('x@contoso.com')),
      'invalid',
      /New or Completed/,
    );
    await rejects(s.service.updateTask(1, 'nope', { status: 'New' }, analyst('x@contoso.com')), 'not_found', /no task/);
  });
});

describe('bulk updates', () => {
  it('applies one patch to many incidents; each succeeds or fails on its own', async () => {
    const s = await withIncidents(4);
    await s.service.update(2, { status: 'Closed', classification: 'FalsePositive' }, analyst('a@contoso.com'));
    const out = await s.service.bulkUpdate(
      [1, 2, 3, 77],
      { owner: { userPrincipalName: 'soc-tier2@contoso.com' }, addTags: ['wave-1'], status: 'Active' },
      automation,
    );
    expect(out.map((o) => [o.id, o.ok])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [77, false],
    ]);
    expect(out[3]?.error).toMatch(/no incident 77/);
    // Reopened by the bulk change (status Active): the classification was cleared.
    expect(await s.service.getIncident(2)).toMatchObject({ status: 'Active', classification: null });
    const listed = await s.service.list({ tags: ['WAVE-1'], sort: 'number', order: 'asc' });
    expect(listed.items.map((i) => i.number)).toEqual([1, 2, 3]);
    const closing = await s.service.bulkUpdate([1, 3], { status: 'Closed' }, automation);
    expect(closing.every((o) => !o.ok && /classification/.test(o.error ?? ''))).toBe(true);
  });
});

describe('manual merge and split', () => {
  it('merges by hand across owners (the audit says so); refuses closed or merged incidents', async () => {
    const s = await withIncidents(4);
    const lee = analyst('lee@contoso.com');
    await s.service.update(1, { owner: { userPrincipalName: 'ana@contoso.com' } }, lee);
    await s.service.update(2, { owner: { userPrincipalName: 'ben@contoso.com' }, addTags: ['vip'] }, lee);
    await s.service.update(4, { status: 'Closed', classification: 'Undetermined' }, lee);
    const merged = await s.service.merge(1, [2, 3], lee, 'same phishing wave');
    expect(merged).toMatchObject({ alertCount: 3, entityCount: 3, tags: ['vip'] });
    expect(merged.owner?.userPrincipalName).toBe('ana@contoso.com');
    const d = await s.service.get(1);
    expect(d?.mergedFrom.map((m) => m.number)).toEqual([2, 3]);
    const mergeLinks = d?.links.items.filter((l) => l.reason.rule === 'manual-merge') ?? [];
    expect(mergeLinks.map((l) => l.reason.summary)).toEqual([
      'Merged #2 into #1 by lee@contoso.com (different owners): same phishing wave',
      'Merged #3 into #1 by lee@contoso.com: same phishing wave',
    ]);
    expect(d?.audit.items.filter((a) => a.action === 'merged').every((a) => a.actor.id === 'lee@contoso.com')).toBe(
      true,
    );
    expect(await s.service.getIncident(2)).toMatchObject({
      status: 'Closed',
      redirectedTo: d?.incident.id,
      tags: ['vip', 'Redirected'],
    });
    // The trail of each side: the survivor says what it received and from whom, the others where they went.
    const mergeTrail = (await s.service.auditTrail(1, null, 2)).items.map((a) => [a.action, a.actor.id, a.note]);
    expect(mergeTrail).toEqual([
      ['merged', 'lee@contoso.com', 'Merged #3 into #1 by lee@contoso.com: same phishing wave'],
      ['merged', 'lee@contoso.com', 'Merged #2 into #1 by lee@contoso.com (different owners): same phishing wave'],
    ]);
    expect((await s.service.auditTrail(2, null, 1)).items[0]).toMatchObject({
      action: 'merged-into',
      actor: { id: 'lee@contoso.com' },
      changes: expect.arrayContaining([{ field: 'redirectedTo', from: null, to: 1 }]),
    });
    await rejects(s.service.merge(1, [2], lee), 'conflict', /#2 was merged already/);
    await rejects(s.service.merge(1, [4], lee), 'conflict', /#4 is closed/);
    await rejects(s.service.merge(1, [1], lee), 'invalid', /itself/);
    await rejects(s.service.update(2, { addTags: ['x'] }, lee), 'conflict', /merged into another incident/);
  });

  it('splits alerts into a new incident; entities, counts, titles and link reasons follow the alerts', async () => {
    stack = await openStack();
    const s = stack;
    const out = (
      await s.service.ingestProductAlerts([
        productAlertRow({
          product: 'mde',
          title: 'Suspicious PowerShell',
          tactics: ['Execution'],
          atMs: T0,
          entities: [host('ws-1', 'd1'), account('amy@contoso.com')],
        }),
        productAlertRow({
          product: 'mdi',
          title: 'Suspicious LDAP query',
          tactics: ['Discovery'],
          atMs: T0 + MIN,
          entities: [account('amy@contoso.com'), host('dc1', 'dc1')],
        }),
        productAlertRow({
          product: 'mdi',
          title: 'Suspicious LDAP query',
          tactics: ['Discovery'],
          atMs: T0 + 2 * MIN,
          entities: [host('dc1', 'dc1'), ip('192.0.2.77')],
        }),
      ])
    ).alerts;
    expect(new Set(out.map((o) => o.incidentNumber)).size).toBe(1);
    const { from, to } = await s.service.split(1, [out[2]?.alertId ?? ''], analyst('lee@contoso.com'), {
      note: 'DC noise',
    });
    expect(from).toMatchObject({ number: 1, alertCount: 2, entityCount: 3 });
    expect(to).toMatchObject({
      number: 2,
      alertCount: 1,
      entityCount: 2,
      title: 'Suspicious LDAP query on one endpoint',
      tactics: ['Discovery'],
    });
    const moved = await s.service.alert(out[2]?.alertId ?? '');
    expect(moved?.summary.incidentId).toBe(to.id);
    expect(moved?.links[0]?.incidentId).toBe(to.id);
    const d2 = await s.service.get(2);
    expect(d2?.links.items.at(-1)?.reason).toMatchObject({ rule: 'manual-split', mergedFrom: [{ number: 1 }] });
    expect(d2?.audit.items[0]).toMatchObject({ action: 'split-from', actor: { id: 'lee@contoso.com' } });
    expect((await s.service.auditTrail(1, null, 1)).items[0]).toMatchObject({
      action: 'split',
      actor: { id: 'lee@contoso.com' },
      changes: [{ field: 'alerts', from: 3, to: 2 }],
      note: '1 alert(s) split from #1 into #2 by lee@contoso.com: DC noise',
    });
    await rejects(
      s.service.split(1, [out[0]?.alertId ?? '', out[1]?.alertId ?? ''], analyst('lee@contoso.com')),
      'invalid',
      /at least one alert/,
    );
    await rejects(s.service.split(1, ['not-an-alert'], analyst('lee@contoso.com')), 'invalid', /not alerts of #1/);
    // A later alert on dc1 finds the incident that now holds dc1's other alert... both hold dc1: the oldest wins.
    const [later] = (
      await s.service.ingestProductAlerts([
        productAlertRow({
          product: 'mdi',
          title: 'Another LDAP query',
          atMs: T0 + 3 * MIN,
          entities: [ip('192.0.2.77')],
        }),
      ])
    ).alerts;
    expect(later?.incidentNumber).toBe(2);
  });
});

describe('no 150-alert cap', () => {
  it('an incident holds thousands of alerts, paged in arrival order', async () => {
    stack = await openStack();
    const s = stack;
    // A password-spray rule that groups all its alerts (Sentinel's AnyAlert) over a day.
    const incidentConfiguration = {
      createIncident: true,
      groupingConfiguration: { enabled: true, lookbackDuration: '1d', matchingMethod: 'AnyAlert' },
    };
    const rows = Array.from({ length: 1200 }, (_, k) =>
      ruleAlert({
        ruleId: 'password-spray',
        incidentConfiguration,
        atMs: T0 + k * 1000,
        entities: [account('svc-sql@contoso.com'), ip(`198.51.${k >> 8}.${k & 255}`)],
      }),
    );
    const out = await s.service.ingestDetectionAlerts(rows);
    expect(new Set(out.map((o) => o.incidentNumber))).toEqual(new Set([1]));
    const i = await s.service.getIncident(1);
    expect(i).toMatchObject({ alertCount: 1200, entityCount: 1201 });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await s.service.alerts(1, cursor, 500);
      expect(page.total).toBe(1200);
      seen.push(...page.items.map((a) => a.alertId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(rows.map((r) => r.systemAlertId));
    const entities = await s.service.entities(1, null, 10);
    expect(entities.items[0]).toMatchObject({ displayName: 'svc-sql@contoso.com', alertCount: 1200 });
  });
});

describe('change events', () => {
  it('stores events in the change transaction and tells listeners in order, with what changed and who', async () => {
    stack = await openStack();
    const s = stack;
    const heard: IncidentEvent[] = [];
    s.service.onEvent((e) => {
      heard.push(e);
    });
    await s.service.ingestProductAlerts([
      productAlertRow({ product: 'mde', title: 'A', atMs: T0, entities: [host('ws-1', 'd1')] }),
    ]);
    await s.service.ingestProductAlerts([
      productAlertRow({
        product: 'mde',
        title: 'B',
        severity: 'High',
        tactics: ['Impact'],
        atMs: T0 + MIN,
        entities: [host('ws-1', 'd1')],
      }),
    ]);
    await s.service.update(1, { owner: { userPrincipalName: 'tier1@contoso.com' } }, automation);
    await s.service.addComment(1, 'note', analyst('mia@contoso.com'));
    await s.service.flush();
    const stored = await s.service.events();
    expect(stored).toEqual(heard);
    expect(stored.map((e) => [e.seq, e.type, e.actor.type, e.changes])).toEqual([
      [1, 'AlertCreated', 'system', []],
      [2, 'IncidentCreated', 'system', ['alerts', 'created', 'entities']],
      [3, 'AlertCreated', 'system', []],
      [4, 'IncidentUpdated', 'system', ['alerts', 'severity', 'tactics', 'title']],
      [5, 'IncidentUpdated', 'automation-rule', ['owner']],
      [6, 'IncidentUpdated', 'analyst', ['comments']],
    ]);
    expect(stored[3]?.incident).toMatchObject({ severity: 'High', alertCount: 2 });
    expect(stored[2]?.alert).toMatchObject({
      title: 'B',
      productName: 'Microsoft Defender Advanced Threat Protection',
    });
    expect((await s.service.events(4)).map((e) => e.seq)).toEqual([5, 6]);
  });

  it('keeps everything across a restart, and a re-delivered alert changes nothing', async () => {
    stack = await openStack();
    const s = stack;
    const alert = ruleAlert({ atMs: T0, entities: [host('ws-5')] });
    await s.service.ingestDetectionAlerts([alert]);
    await s.service.addTask(1, { title: 'triage' }, automation);
    const svc = await s.reopen();
    const again = await svc.ingestDetectionAlerts([alert]);
    expect(again[0]).toMatchObject({ outcome: 'updated', incidentNumber: 1 });
    expect(await svc.getIncident(1)).toMatchObject({ alertCount: 1, taskCount: 1, version: 2 });
    const [next] = await svc.ingestDetectionAlerts([ruleAlert({ atMs: T0 + HOUR, entities: [host('ws-5')] })]);
    expect(next?.incidentNumber).toBe(1);
    expect((await svc.events()).map((e) => e.type)).toEqual([
      'AlertCreated',
      'IncidentCreated',
      'IncidentUpdated',
      'AlertCreated',
      'IncidentUpdated',
    ]);
  });
});
