/**
 * Automation rules and merges (issues 6 and 7), on the real incident and automation services: an incident merged
 * into another before its rules run (what `vigil demo --speed 60` hits) gets its rules' changes on the incident it
 * was merged into — the redirect chain followed, audited as the rule, no task added twice, no error in the run
 * history — with and without the incident service's batch method. And incident-updated rules with `alerts added`
 * fire when alerts join an incident (Sentinel's "alerts added" update trigger).
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncidentGateway } from '../../src/automation/gateway.js';
import type { IncidentEvent } from '../../src/incidents/model.js';
import { host, productAlertRow, ruleAlert } from '../incidents/helpers.js';
import { ADMIN, analyst, openStack, type Stack } from './helpers.js';

const CONTENT = fileURLToPath(new URL('../../../../content/automation/', import.meta.url));
const SEED_RULE = 'defender-xdr-triage';
const SEED_TASKS = ['Review Defender incident graph', 'Check endpoint timeline', 'Confirm user risk'];
let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

/**
 * The incident service as the automation service sees it, with a valve on the live event feed: while held, events
 * wait, as they do when the rule engine lags behind a fast intake. `batch: false` drops `applyChanges`.
 */
function heldGateway(s: Stack, batch: boolean) {
  let held = false;
  const waiting: (() => void)[] = [];
  const gateway: IncidentGateway = {
    getIncident: (i) => s.incidents.getIncident(i),
    update: (i, p, a) => s.incidents.update(i, p, a),
    addTask: (i, t, a) => s.incidents.addTask(i, t, a),
    tasks: (i) => s.incidents.tasks(i),
    addComment: (i, m, a) => s.incidents.addComment(i, m, a),
    comments: (i) => s.incidents.comments(i),
    entities: (i, c, l) => s.incidents.entities(i, c, l),
    alerts: (i, c, l) => s.incidents.alerts(i, c, l),
    alert: (i) => s.incidents.alert(i),
    auditTrail: (i, c, l) => s.incidents.auditTrail(i, c, l),
    onEvent: (listener) =>
      s.incidents.onEvent((e: IncidentEvent) => {
        if (held) waiting.push(() => void listener(e));
        else return listener(e);
      }),
    events: (q, l) => s.incidents.events(q, l),
    ...(batch ? { applyChanges: (i, c, o) => s.incidents.applyChanges(i, c, o) } : {}),
  };
  return {
    gateway,
    hold() {
      held = true;
    },
    async release() {
      held = false;
      for (const deliver of waiting.splice(0)) deliver();
      await s.automation.idle();
    },
  };
}

async function settle(s: Stack) {
  await s.incidents.flush();
  await s.automation.idle();
}

async function defenderIncident(s: Stack, name: string): Promise<string> {
  const r = await s.incidents.ingestProductAlerts([
    productAlertRow({
      product: 'mde',
      title: `Suspicious activity on ${name}`,
      entities: [host(name)],
      atMs: s.clock.now(),
    }),
  ]);
  const id = r.alerts[0]?.incidentId;
  if (!id) throw new Error('no incident');
  return id;
}

async function sentinelIncident(s: Stack, name: string): Promise<string> {
  const out = await s.incidents.ingestDetectionAlerts([ruleAlert({ entities: [host(name)], atMs: s.clock.now() })]);
  const id = out[0]?.incidentId;
  if (!id) throw new Error('no incident');
  return id;
}

async function open(batch: boolean) {
  const s = await openStack();
  stack = s;
  const valve = heldGateway(s, batch);
  await s.restart({ incidents: valve.gateway });
  const loaded = await s.automation.loadContent(CONTENT, ADMIN);
  expect(loaded.filter((f) => !f.ok)).toEqual([]);
  return { s, valve };
}

describe.each([
  ['in one transaction', true],
  ['rule by rule (no applyChanges)', false],
])('an incident merged before its rules ran (%s)', (_name, batch) => {
  it('the seed rule tags, assigns and adds its tasks on the incident it was merged into, as the rule', async () => {
    const { s, valve } = await open(batch);
    // A Sentinel incident: the seed rule leaves it alone.
    const survivor = await sentinelIncident(s, 'srv-merge');
    await settle(s);
    valve.hold();
    // A Defender incident, merged by an analyst before the rule engine gets to its IncidentCreated event.
    const merged = await defenderIncident(s, 'ws-merge');
    await s.incidents.merge(survivor, [merged], analyst('bob@contoso.com'));
    await s.incidents.flush();
    await valve.release();

    const i = await s.incidents.getIncident(survivor);
    expect(i?.tags).toContain('defender-xdr');
    expect(i?.owner?.assignedTo).toBe('Tier 1 queue');
    const tasks = await s.incidents.tasks(survivor);
    expect(tasks.map((t) => t.title)).toEqual(SEED_TASKS);
    expect(tasks.every((t) => t.createdBy.type === 'automation-rule' && t.createdBy.id === SEED_RULE)).toBe(true);
    // Nothing was written on the merged-away incident (read-only).
    expect(await s.incidents.tasks(merged)).toEqual([]);
    expect((await s.incidents.getIncident(merged))?.owner).toBeNull();
    // The survivor's audit trail says the rule did it.
    const byRule = (await s.incidents.auditTrail(survivor, null, 100)).items.filter(
      (a) => a.actor.type === 'automation-rule',
    );
    expect(byRule.every((a) => a.actor.id === SEED_RULE)).toBe(true);
    expect(byRule.flatMap((a) => a.changes.map((c) => c.field))).toEqual(
      expect.arrayContaining(['tags', 'owner', 'task']),
    );
    // The run history: applied, on the survivor, saying so; no error.
    const executions = await s.automation.ruleExecutions({ ruleId: SEED_RULE });
    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatchObject({ incidentId: survivor, outcome: 'applied', trigger: 'incidentCreated' });
    expect(executions[0]?.actions.every((a) => a.ok)).toBe(true);
    expect(executions[0]?.actions.find((a) => a.type === 'addTags')?.detail).toBe(
      `applied to #${i?.number}, which the incident was merged into`,
    );
  });

  it('follows a chain of merges and does not add tasks the survivor already has from the rule', async () => {
    const { s, valve } = await open(batch);
    // A Defender incident the rule has already run on: it has the three tasks.
    const last = await defenderIncident(s, 'ws-last');
    const middle = await sentinelIncident(s, 'srv-middle');
    await settle(s);
    expect((await s.incidents.tasks(last)).map((t) => t.title)).toEqual(SEED_TASKS);
    valve.hold();
    const first = await defenderIncident(s, 'ws-first');
    // first → middle → last, before the rule runs on first.
    await s.incidents.merge(middle, [first], analyst('bob@contoso.com'));
    await s.incidents.merge(last, [middle], analyst('bob@contoso.com'));
    await s.incidents.flush();
    await valve.release();

    expect((await s.incidents.tasks(last)).map((t) => t.title)).toEqual(SEED_TASKS);
    const i = await s.incidents.getIncident(last);
    expect(i).toMatchObject({ taskCount: 3, owner: { assignedTo: 'Tier 1 queue' } });
    expect(i?.tags.filter((t) => t === 'defender-xdr')).toHaveLength(1);
    expect(await s.incidents.tasks(first)).toEqual([]);
    expect(await s.incidents.tasks(middle)).toEqual([]);
    const executions = await s.automation.ruleExecutions({ ruleId: SEED_RULE });
    expect(executions.map((x) => [x.incidentId, x.outcome])).toEqual(
      expect.arrayContaining([
        [last, 'applied'],
        [last, 'applied'],
      ]),
    );
    expect(executions).toHaveLength(2);
    // The rule's second run found the tasks there and added none.
    expect(executions.map((x) => x.actions.find((a) => a.type === 'addTasks')?.detail).sort()).toEqual([
      '0 tasks',
      '3 tasks',
    ]);
  });
});

describe('incident-updated rules when alerts join an incident', () => {
  it("fire on 'alerts added' (Sentinel's update trigger), not on the creation, and not on their own changes", async () => {
    const s = await openStack();
    stack = s;
    const put = await s.automation.putRule(
      `id: alerts-joined
name: Alerts joined the incident
trigger: incidentUpdated
conditions: [{ property: alerts, operator: added }]
actions:
  - addTags: [alerts-joined]
  - addTasks: [{ title: Review the new alerts }]`,
      ADMIN,
    );
    expect(put.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const id = await defenderIncident(s, 'ws-grow');
    await settle(s);
    expect((await s.incidents.getIncident(id))?.tags).toEqual([]);

    // A second alert on the same device joins the incident.
    s.clock.advance(60_000);
    const r = await s.incidents.ingestProductAlerts([
      productAlertRow({
        product: 'mde',
        title: 'Credential dumping',
        entities: [host('ws-grow')],
        atMs: s.clock.now(),
      }),
    ]);
    expect(r.alerts[0]?.incidentId).toBe(id);
    await settle(s);
    await settle(s);
    const i = await s.incidents.getIncident(id);
    expect(i?.alertCount).toBe(2);
    expect(i?.tags).toEqual(['alerts-joined']);
    expect((await s.incidents.tasks(id)).map((t) => [t.title, t.createdBy.id])).toEqual([
      ['Review the new alerts', 'alerts-joined'],
    ]);
    const executions = await s.automation.ruleExecutions({ ruleId: 'alerts-joined' });
    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatchObject({ incidentId: id, outcome: 'applied', trigger: 'incidentUpdated' });
  });
});
