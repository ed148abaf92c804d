/**
 * Automation rules end to end, on the real incident service: the seed's tagging rule (shipped content), rule order
 * (each rule sees the changes of the rules before it), expiry, update triggers with changed-to/from, no loops
 * between rules, alert-created rules starting playbooks that call a real receiver on 127.0.0.1, every change in
 * the audit trail as made by its rule, and safe re-processing after a restart.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncidentGateway } from '../../src/automation/gateway.js';
import { host, ip, productAlertRow, ruleAlert } from '../incidents/helpers.js';
import { ADMIN, analyst, openStack, Receiver, type Stack } from './helpers.js';

const CONTENT = fileURLToPath(new URL('../../../../content/automation/', import.meta.url));
let stack: Stack | null = null;
const receivers: Receiver[] = [];
afterEach(async () => {
  await stack?.close();
  stack = null;
  for (const r of receivers.splice(0)) await r.close();
});

async function defenderIncident(s: Stack, title = 'Suspicious PowerShell command line', entities = [host('ws01')]) {
  const r = await s.incidents.ingestProductAlerts([
    productAlertRow({ product: 'mde', title, entities, atMs: s.clock.now() }),
  ]);
  const id = r.alerts[0]?.incidentId;
  if (!id) throw new Error('no incident');
  await s.incidents.flush();
  await s.automation.idle();
  return id;
}

async function put(s: Stack, yaml: string) {
  const r = await s.automation.putRule(yaml, ADMIN);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.value;
}

describe('the seed rule', () => {
  it('tags Defender XDR incidents, assigns them to Tier 1 and adds the three tasks, as the rule', async () => {
    stack = await openStack();
    const loaded = await stack.automation.loadContent(CONTENT, ADMIN);
    expect(loaded.filter((f) => !f.ok)).toEqual([]);
    const id = await defenderIncident(stack);
    const incident = await stack.incidents.getIncident(id);
    expect(incident?.tags).toContain('defender-xdr');
    expect(incident?.owner?.assignedTo).toBe('Tier 1 queue');
    const tasks = await stack.incidents.tasks(id);
    expect(tasks.map((t) => t.title)).toEqual([
      'Review Defender incident graph',
      'Check endpoint timeline',
      'Confirm user risk',
    ]);
    expect(tasks.every((t) => t.createdBy.type === 'automation-rule' && t.createdBy.id === 'defender-xdr-triage')).toBe(
      true,
    );
    const audit = (await stack.incidents.auditTrail(id, null, 100)).items.filter(
      (a) => a.actor.type === 'automation-rule',
    );
    expect(
      audit.every(
        (a) => a.actor.id === 'defender-xdr-triage' && a.actor.name === 'Tag and route Defender XDR incidents',
      ),
    ).toBe(true);
    const fields = audit.flatMap((a) => a.changes.map((c) => c.field));
    expect(fields).toEqual(expect.arrayContaining(['tags', 'owner', 'task']));
    const executions = await stack.automation.ruleExecutions({ ruleId: 'defender-xdr-triage' });
    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatchObject({ incidentId: id, outcome: 'applied', trigger: 'incidentCreated' });
  });

  it('leaves Sentinel-only incidents alone', async () => {
    stack = await openStack();
    await stack.automation.loadContent(CONTENT, ADMIN);
    const out = await stack.incidents.ingestDetectionAlerts([
      ruleAlert({ entities: [host('srv9')], atMs: stack.clock.now() }),
    ]);
    await stack.incidents.flush();
    await stack.automation.idle();
    const incident = await stack.incidents.getIncident(out[0]?.incidentId as string);
    expect(incident?.providerName).toBe('Azure Sentinel');
    expect(incident?.tags).toEqual([]);
    expect(incident?.owner).toBeNull();
    expect(incident?.taskCount).toBe(0);
  });

  it('re-processing the same events after a restart changes nothing more', async () => {
    stack = await openStack();
    await stack.automation.loadContent(CONTENT, ADMIN);
    const id = await defenderIncident(stack);
    const before = await stack.incidents.getIncident(id);
    // Rewind the stored position in the event feed: the restart replays every event.
    await stack.automation.store.putValue(stack.state, 'rules.cursor', '0', new Date().toISOString());
    await stack.restart();
    await stack.automation.idle();
    const after = await stack.incidents.getIncident(id);
    expect(after?.taskCount).toBe(3);
    expect(after?.tags).toEqual(before?.tags);
    expect(after?.version).toBe(before?.version);
  });
});

describe('order, expiry and triggers', () => {
  it('runs rules in order; each sees the changes of the rules before it', async () => {
    stack = await openStack();
    await put(
      stack,
      `id: r-third
name: Third
order: 30
trigger: incidentCreated
conditions:
  all:
    - { property: owner, operator: equals, value: alice@contoso.com }
    - { property: tags, operator: equals, value: stage-2 }
actions:
  - changeSeverity: Low
  - addTags: [stage-3]`,
    );
    await put(
      stack,
      `id: r-first
name: First
order: 10
trigger: incidentCreated
conditions: [{ property: product, operator: contains, value: Defender }]
actions:
  - addTags: [stage-1]
  - assignOwner: { userPrincipalName: alice@contoso.com }`,
    );
    await put(
      stack,
      `id: r-second
name: Second
order: 20
trigger: incidentCreated
conditions: [{ property: tags, operator: equals, value: stage-1 }]
actions: [{ addTags: [stage-2] }]`,
    );
    // Order 5 asks for a tag that only a later rule adds: it does not match.
    await put(
      stack,
      `id: r-early
name: Early
order: 5
trigger: incidentCreated
conditions: [{ property: tags, operator: equals, value: stage-3 }]
actions: [{ addTags: [never] }]`,
    );
    const id = await defenderIncident(stack);
    const i = await stack.incidents.getIncident(id);
    expect(i?.tags).toEqual(['stage-1', 'stage-2', 'stage-3']);
    expect(i?.severity).toBe('Low');
    expect(i?.severityManual).toBe(true);
    const audit = (await stack.incidents.auditTrail(id, null, 100)).items
      .filter((a) => a.actor.type === 'automation-rule')
      .reverse();
    expect(audit.map((a) => [a.actor.id, a.changes.map((c) => c.field).sort()])).toEqual([
      ['r-first', ['owner', 'tags']],
      ['r-second', ['tags']],
      ['r-third', ['severity', 'tags']],
    ]);
  });

  it('stops running a rule once it expires', async () => {
    stack = await openStack();
    const expires = new Date(stack.clock.now() + 3600_000).toISOString();
    await put(
      stack,
      `id: temp
name: Temporary
trigger: incidentCreated
expiresAt: ${expires}
actions: [{ addTags: [temporary] }]`,
    );
    const first = await defenderIncident(stack, 'first', [host('ws-a')]);
    stack.clock.advance(2 * 3600_000);
    const second = await defenderIncident(stack, 'second', [host('ws-b')]);
    expect((await stack.incidents.getIncident(first))?.tags).toEqual(['temporary']);
    expect((await stack.incidents.getIncident(second))?.tags).toEqual([]);
    // Saving an already expired rule is allowed, with a warning.
    const late = await stack.automation.putRule(
      `id: late\nname: Late\ntrigger: incidentCreated\nexpiresAt: 2001-01-01T00:00:00Z\nactions: [{ addTags: [late] }]`,
      ADMIN,
    );
    expect(late.diagnostics.map((d) => d.code)).toEqual(['rule.expired']);
  });

  it('update rules: changedTo / changedFrom / updatedBy, and rules never trigger each other', async () => {
    stack = await openStack();
    await put(
      stack,
      `id: escalated
name: Escalated by an analyst
trigger: incidentUpdated
conditions:
  - { property: severity, operator: changedTo, value: High }
  - { property: severity, operator: changedFrom, values: [Low, Medium] }
  - { property: updatedBy, operator: equals, value: analyst }
actions:
  - addTags: [escalated]
  - assignOwner: Tier 2 queue`,
    );
    await put(
      stack,
      `id: any-update
name: Count updates
trigger: incidentUpdated
actions: [{ addTags: [touched] }]`,
    );
    const id = await defenderIncident(stack, 'x', [host('ws-c')]);
    const before = await stack.incidents.getIncident(id);
    expect(before?.severity).toBe('Medium');
    await stack.incidents.update(id, { severity: 'High' }, analyst('bob@contoso.com'));
    await stack.incidents.flush();
    await stack.automation.idle();
    await stack.incidents.flush();
    await stack.automation.idle();
    const after = await stack.incidents.getIncident(id);
    // Same order (100): ties run by id, so any-update ran first.
    expect(after?.tags).toEqual(['touched', 'escalated']);
    expect(after?.owner?.assignedTo).toBe('Tier 2 queue');
    // Each rule changed the incident once: their own updates did not trigger the update rules again.
    const byRule = (await stack.incidents.auditTrail(id, null, 100)).items.filter(
      (a) => a.actor.type === 'automation-rule',
    );
    expect(byRule.map((a) => a.actor.id).sort()).toEqual(['any-update', 'escalated']);
    // A change from High to Medium does not match changedTo High.
    await stack.incidents.update(id, { severity: 'Medium' }, analyst('bob@contoso.com'));
    await stack.incidents.flush();
    await stack.automation.idle();
    const executions = await stack.automation.ruleExecutions({ ruleId: 'escalated' });
    expect(executions).toHaveLength(1);
  });

  it('closes with a classification and runs playbooks on alert creation against a real receiver', async () => {
    stack = await openStack();
    const hook = await Receiver.start();
    receivers.push(hook);
    await stack.automation.secrets.set('hook', `${hook.url}/alerts`, ADMIN);
    const p = await stack.automation.putPlaybook(
      `id: forward-alert
name: Forward alerts
trigger: { kind: alert }
steps:
  - id: post
    type: http
    method: POST
    url: \${{ secrets.hook }}
    body: { alert: "\${{ trigger.alert.title }}", ips: "\${{ pluck(entities('ip'), 'Address') }}" }`,
      ADMIN,
    );
    expect(p.diagnostics).toEqual([]);
    await put(
      stack,
      `id: fwd
name: Forward Defender alerts
trigger: alertCreated
conditions: [{ property: alert.product, operator: contains, value: defender }]
actions: [{ runPlaybook: forward-alert }]`,
    );
    await put(
      stack,
      `id: close-scanner
name: Close the known scanner
trigger: incidentCreated
conditions: [{ property: entity.ip, operator: equals, value: 10.50.0.9 }]
actions:
  - changeStatus: { status: Closed, classification: BenignPositive, classificationReason: SuspiciousButExpected, comment: Nessus scanner }`,
    );
    const id = await defenderIncident(stack, 'Port scan', [host('ws-d'), ip('10.50.0.9')]);
    await stack.automation.idle();
    const i = await stack.incidents.getIncident(id);
    expect(i).toMatchObject({
      status: 'Closed',
      classification: 'BenignPositive',
      classificationReason: 'SuspiciousButExpected',
    });
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]?.json).toEqual({ alert: 'Port scan', ips: ['10.50.0.9'] });
    const runs = await stack.automation.runs({ playbookId: 'forward-alert' });
    expect(runs.items.map((r) => [r.status, r.trigger.kind, r.trigger.startedBy.id])).toEqual([
      ['succeeded', 'alert', 'fwd'],
    ]);
  });

  it('gives the same result rule by rule when the incident service has no batch method', async () => {
    stack = await openStack();
    const st = stack;
    // The gateway without applyChanges, over the incident service the restart opens: one transaction per change.
    const gateway: IncidentGateway = {
      getIncident: (i) => st.incidents.getIncident(i),
      update: (i, p, a) => st.incidents.update(i, p, a),
      addTask: (i, t, a) => st.incidents.addTask(i, t, a),
      tasks: (i) => st.incidents.tasks(i),
      addComment: (i, m, a) => st.incidents.addComment(i, m, a),
      comments: (i) => st.incidents.comments(i),
      entities: (i, c, l) => st.incidents.entities(i, c, l),
      alerts: (i, c, l) => st.incidents.alerts(i, c, l),
      alert: (i) => st.incidents.alert(i),
      auditTrail: (i, c, l) => st.incidents.auditTrail(i, c, l),
      onEvent: (l) => st.incidents.onEvent(l),
      events: (q, l) => st.incidents.events(q, l),
    };
    await stack.restart({ incidents: gateway });
    await stack.automation.loadContent(CONTENT, ADMIN);
    await put(
      stack,
      `id: second
name: Second
order: 2
trigger: incidentCreated
conditions: [{ property: tags, operator: equals, value: defender-xdr }]
actions: [{ changeSeverity: High }]`,
    );
    const id = await defenderIncident(stack);
    const i = await stack.incidents.getIncident(id);
    expect(i).toMatchObject({
      tags: ['defender-xdr'],
      severity: 'High',
      taskCount: 3,
      owner: { assignedTo: 'Tier 1 queue' },
    });
  });

  it('refuses rules that name playbooks or task lists that do not exist', async () => {
    stack = await openStack();
    const r = await stack.automation.putRule(
      'id: x\nname: X\ntrigger: incidentCreated\nactions:\n  - runPlaybook: nope\n  - addTasks: { list: nope }',
      ADMIN,
    );
    expect(r.value).toBeNull();
    expect(r.diagnostics.map((d) => [d.path, d.message])).toEqual([
      ['actions[0].runPlaybook', "no playbook 'nope'"],
      ['actions[1].addTasks.list', "no task list 'nope'"],
    ]);
  });
});
