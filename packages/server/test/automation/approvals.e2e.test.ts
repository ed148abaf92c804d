// biome-ignore-all lint/suspicious/noTemplateCurlyInString: playbook expressions are written `${{ ... }}` inside plain strings.
/**
 * Approvals end to end through the HTTP API (Fastify on 127.0.0.1) with a real action bridge receiver: a destructive
 * action waits for approval, is approved and executed exactly once, its result written on the incident; another is
 * rejected; one expires; an automatic policy; a custom detection's request; transient bridge failures retried with
 * the same idempotency key; approvals need an identified person.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAutomationRoutes } from '../../src/automation/api.js';
import type { Approval, PlaybookRun } from '../../src/automation/model.js';
import { actionRequestId } from '../../src/detect/actions.js';
import { account, host, productAlertRow } from '../incidents/helpers.js';
import { ADMIN, openStack, Receiver, type Stack, waitFor } from './helpers.js';

let stack: Stack;
let bridge: Receiver;
let app: FastifyInstance;
let base = '';

async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  user: string | null = 'alice@contoso.com',
) {
  const res = await fetch(`${base}/api/automation${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(user ? { 'x-vigil-user': user } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}

beforeAll(async () => {
  bridge = await Receiver.start((r) => ({
    status: 200,
    body: {
      status: 'succeeded',
      message: `${(r.json as { action: string }).action} done`,
      externalId: `op-${Math.floor(Math.random() * 1e6)}`,
    },
  }));
  stack = await openStack({
    adapters: [{ id: 'edr-bridge', url: `${bridge.url}/actions`, tokenSecret: 'bridgeToken' }],
  });
  await stack.automation.secrets.set('bridgeToken', 'bridge-bearer-SECRET-1', ADMIN);
  app = Fastify();
  await registerAutomationRoutes(app, stack.automation);
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const pb = await api(
    'PUT',
    '/playbooks/contain',
    `id: contain
name: Contain the incident's device
trigger: { kind: incident }
steps:
  - id: isolate
    type: responseAction
    action: isolateDevice
    target: \${{ first(entities('host')) }}
    parameters: { isolationType: Full }
    expiresIn: 1h
  - id: done
    type: comment
    message: "Isolation \${{ steps.isolate.output.status }}: \${{ steps.isolate.output.result.message }}"
`,
  );
  expect(pb.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await app.close();
  await stack.close();
  await bridge.close();
});

async function incidentWithHost(name: string) {
  const r = await stack.incidents.ingestProductAlerts([
    productAlertRow({
      product: 'mde',
      title: `Malware on ${name}`,
      entities: [host(name, `dev-${name}`), account(`${name}-user@contoso.com`)],
      atMs: Date.now(),
    }),
  ]);
  await stack.incidents.flush();
  return r.alerts[0]?.incidentId as string;
}

async function startContain(incidentId: string) {
  const r = await api<PlaybookRun>('POST', '/playbooks/contain/runs', { incidentId });
  expect(r.status).toBe(202);
  await stack.automation.idle();
  const pending = await waitFor(async () => {
    const list = await api<{ approvals: Approval[] }>('GET', `/approvals?status=pending&runId=${r.json.id}`);
    return list.json.approvals[0] ?? null;
  }, 'the approval request');
  return { run: r.json, approval: pending };
}

const runOf = async (id: string) =>
  (await api<{ run: PlaybookRun; steps: { key: string; status: string; output: unknown }[] }>('GET', `/runs/${id}`))
    .json;

describe('approvals', () => {
  it('waits for approval, executes once when approved, records the result on the incident', async () => {
    const incidentId = await incidentWithHost('ws-appr');
    const { run, approval } = await startContain(incidentId);
    expect(approval).toMatchObject({
      kind: 'action',
      action: 'isolateDevice',
      target: { type: 'device', id: 'dev-ws-appr' },
      parameters: { isolationType: 'Full' },
      incidentId,
      status: 'pending',
      requestedBy: { type: 'playbook', id: 'contain' },
    });
    expect(Date.parse(approval.expiresAt) - Date.parse(approval.requestedAt)).toBe(3600_000);
    expect((await runOf(run.id)).run.status).toBe('waiting');
    expect(bridge.to('/actions')).toHaveLength(0);

    // Not without a person; not twice.
    expect((await api('POST', `/approvals/${approval.id}/approve`, {}, null)).status).toBe(403);
    const ok = await api<Approval>('POST', `/approvals/${approval.id}/approve`, { comment: 'confirmed ransomware' });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({
      status: 'approved',
      decidedBy: { type: 'analyst', id: 'alice@contoso.com' },
      decisionComment: 'confirmed ransomware',
    });
    const again = await api('POST', `/approvals/${approval.id}/approve`, {});
    expect(again.status).toBe(409);

    const done = await waitFor(async () => {
      const r = await runOf(run.id);
      return r.run.status === 'succeeded' ? r : null;
    }, 'the run to finish');
    expect(done.steps.find((s) => s.key === 'isolate')?.output).toMatchObject({
      decision: 'succeeded',
      approved: true,
      approver: { id: 'alice@contoso.com' },
      status: 'succeeded',
      result: { status: 'succeeded', message: 'isolateDevice done' },
    });
    const calls = bridge.to('/actions').filter((c) => c.headers['idempotency-key'] === approval.id);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.headers.authorization).toBe('Bearer bridge-bearer-SECRET-1');
    expect(calls[0]?.headers['x-vigil-action']).toBe('isolateDevice');
    expect(calls[0]?.json).toMatchObject({
      contract: 'vigil.action/v1',
      id: approval.id,
      action: 'isolateDevice',
      target: { type: 'device', id: 'dev-ws-appr' },
      parameters: { isolationType: 'Full' },
      incident: { id: incidentId },
      approvedBy: { id: 'alice@contoso.com' },
      comment: 'confirmed ransomware',
    });
    const comments = (await stack.incidents.comments(incidentId)).map((c) => [c.author.id, c.message]);
    expect(comments).toEqual([
      [
        'response-actions',
        expect.stringMatching(
          /^Response action isolateDevice on device dev-ws-appr succeeded \(approved by alice@contoso\.com\): isolateDevice done \[op-\d+\]$/,
        ),
      ],
      ['contain', 'Isolation succeeded: isolateDevice done'],
    ]);
    const final = (await api<Approval>('GET', `/approvals/${approval.id}`)).json;
    expect(final).toMatchObject({ status: 'succeeded', attempts: 1, result: { status: 'succeeded' } });
  });

  it('a rejected request never reaches the bridge and stops the run as rejected', async () => {
    const incidentId = await incidentWithHost('ws-rej');
    const before = bridge.requests.length;
    const { run, approval } = await startContain(incidentId);
    const r = await api<Approval>(
      'POST',
      `/approvals/${approval.id}/reject`,
      { comment: 'false positive: pentest' },
      'bob@contoso.com',
    );
    expect(r.json).toMatchObject({ status: 'rejected', decidedBy: { id: 'bob@contoso.com' } });
    const done = await waitFor(async () => {
      const x = await runOf(run.id);
      return x.run.status === 'rejected' ? x : null;
    }, 'the run to stop');
    expect(done.run.error).toBe('rejected by bob@contoso.com: false positive: pentest');
    expect(done.steps.map((s) => [s.key, s.status])).toEqual([['isolate', 'rejected']]);
    expect(bridge.requests.length).toBe(before);
    expect((await stack.incidents.comments(incidentId)).map((c) => c.message)).toEqual([
      'Response action isolateDevice on device dev-ws-rej was rejected by bob@contoso.com: false positive: pentest',
    ]);
    expect((await api('POST', `/approvals/${approval.id}/approve`, {})).status).toBe(409);
  });

  it('an unanswered request expires: the run stops as expired and nothing executes', async () => {
    const incidentId = await incidentWithHost('ws-exp');
    const before = bridge.requests.length;
    const { run, approval } = await startContain(incidentId);
    stack.clock.advance(2 * 3600_000);
    expect(await stack.automation.approvals.expireDue()).toBe(1);
    const done = await waitFor(async () => {
      const x = await runOf(run.id);
      return x.run.status === 'expired' ? x : null;
    }, 'the run to expire');
    expect(done.steps.map((s) => [s.key, s.status])).toEqual([['isolate', 'expired']]);
    expect((await api<Approval>('GET', `/approvals/${approval.id}`)).json.status).toBe('expired');
    const late = await api<{ error: { message: string } }>('POST', `/approvals/${approval.id}/approve`, {});
    expect(late.status).toBe(409);
    expect(late.json.error.message).toBe('the request is expired');
    expect(bridge.requests.length).toBe(before);
    expect((await stack.incidents.comments(incidentId))[0]?.message).toMatch(
      /^Response action isolateDevice on device dev-ws-exp expired without a decision/,
    );
  });

  it('approving after the expiry time (before the sweep) is refused and expires the request', async () => {
    const incidentId = await incidentWithHost('ws-exp2');
    const { approval } = await startContain(incidentId);
    stack.clock.advance(2 * 3600_000);
    const late = await api<{ error: { message: string } }>('POST', `/approvals/${approval.id}/approve`, {});
    expect(late.status).toBe(409);
    expect(late.json.error.message).toMatch(/^the request expired at/);
    expect((await api<Approval>('GET', `/approvals/${approval.id}`)).json.status).toBe('expired');
  });

  it('a policy may allow automatic execution; the default is approval', async () => {
    const actions = (
      await api<{ actions: { name: string; policy: { mode: string; expiryMs: number } }[] }>('GET', '/actions')
    ).json.actions;
    expect(actions.every((a) => a.policy.mode === 'approval' && a.policy.expiryMs === 7 * 86_400_000)).toBe(true);
    expect((await api('PUT', '/actions/isolateDevice/policy', { mode: 'auto' }, null)).status).toBe(403);
    const set = await api('PUT', '/actions/isolateDevice/policy', { mode: 'auto' });
    expect(set.json).toMatchObject({ action: 'isolateDevice', mode: 'auto', updatedBy: { id: 'alice@contoso.com' } });
    const incidentId = await incidentWithHost('ws-auto');
    const r = await api<PlaybookRun>('POST', '/playbooks/contain/runs', { incidentId });
    const done = await waitFor(async () => {
      const x = await runOf(r.json.id);
      return x.run.status === 'succeeded' ? x : null;
    }, 'the automatic run');
    expect(done.steps[0]?.output).toMatchObject({ approver: { type: 'system', id: 'action-policy' } });
    expect((await api('PUT', '/actions/isolateDevice/policy', { mode: 'approval' })).status).toBe(200);
  });

  it("custom detections' requests wait for approval and land on the alert's incident", async () => {
    const row = productAlertRow({
      product: 'mde',
      title: 'Custom detection: LSASS access',
      entities: [host('ws-det', 'dev-ws-det')],
      atMs: Date.now(),
    });
    const out = await stack.incidents.ingestProductAlerts([row]);
    await stack.incidents.flush();
    const alertId = out.alerts[0]?.alertId as string;
    const requestId = actionRequestId(alertId, 'disableUser', 'S-1-5-21-9');
    const request = {
      requestId,
      action: 'disableUser',
      targetType: 'user',
      targetId: 'S-1-5-21-9',
      identifier: 'accountSid',
      parameters: {},
      deviceId: null,
      alertId,
      ruleId: 'cd-1',
      ruleName: 'LSASS access',
      requestedAt: new Date().toISOString(),
      requestedBy: 'rule:cd-1',
    } as const;
    expect(await stack.automation.actions.request(request)).toEqual({ requestId, status: 'pending_approval' });
    // Asking again is the same request.
    expect(await stack.automation.actions.request(request)).toEqual({ requestId, status: 'pending_approval' });
    expect(
      (await stack.automation.listApprovals({ status: 'pending' })).filter((a) => a.id === requestId),
    ).toHaveLength(1);
    await api('POST', `/approvals/${requestId}/approve`, {});
    await waitFor(
      async () => ((await stack.automation.getApproval(requestId))?.status === 'succeeded' ? true : null),
      'the execution',
    );
    const comments = await stack.incidents.comments(out.alerts[0]?.incidentId as string);
    expect(comments.map((c) => c.message)).toEqual([
      expect.stringMatching(
        /^Response action disableUser on user S-1-5-21-9 succeeded \(approved by alice@contoso\.com\)/,
      ),
    ]);
    expect(bridge.requests.filter((c) => c.headers['idempotency-key'] === requestId)).toHaveLength(1);
  });

  it('retries a failing bridge with the same key and performs the action once', async () => {
    let n = 0;
    const saved = bridge.respond;
    bridge.respond = (r) => (++n <= 2 ? { status: 503 } : saved(r, n));
    try {
      const incidentId = await incidentWithHost('ws-retry');
      const { run, approval } = await startContain(incidentId);
      await api('POST', `/approvals/${approval.id}/approve`, {});
      await waitFor(async () => ((await runOf(run.id)).run.status === 'succeeded' ? true : null), 'the run');
      const calls = bridge.requests.filter((c) => c.headers['idempotency-key'] === approval.id);
      expect(calls).toHaveLength(3);
      expect(bridge.performed.has(approval.id)).toBe(true);
      expect((await stack.automation.getApproval(approval.id))?.status).toBe('succeeded');
    } finally {
      bridge.respond = saved;
    }
  });

  it('a bridge refusal fails the action and the run; secrets stay out of run history and errors', async () => {
    const saved = bridge.respond;
    bridge.respond = () => ({ status: 400, body: { message: 'device not onboarded' } });
    try {
      const incidentId = await incidentWithHost('ws-refused');
      const { run, approval } = await startContain(incidentId);
      await api('POST', `/approvals/${approval.id}/approve`, {});
      const done = await waitFor(async () => {
        const x = await runOf(run.id);
        return x.run.status === 'failed' ? x : null;
      }, 'the run to fail');
      expect(done.run.error).toBe(
        'step isolate: the action failed: edr-bridge refused the action (400): device not onboarded',
      );
      expect(JSON.stringify(done)).not.toContain('bridge-bearer-SECRET-1');
      const secrets = await api<{ secrets: unknown[] }>('GET', '/secrets');
      expect(JSON.stringify(secrets.json)).not.toContain('bridge-bearer-SECRET-1');
    } finally {
      bridge.respond = saved;
    }
  });
});
