// biome-ignore-all lint/suspicious/noTemplateCurlyInString: playbook expressions are written `${{ ... }}` inside plain strings.
/**
 * The automation HTTP API over real HTTP: rules and playbooks saved as YAML with diagnostics on errors, the schema,
 * task lists, watchlists, write-only secrets, references that block deletes, entity- and manually-triggered runs,
 * and a playbook's plain approval step (approved, and rejected with continueOnReject).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAutomationRoutes } from '../../src/automation/api.js';
import type { Approval, PlaybookRun } from '../../src/automation/model.js';
import { host, productAlertRow } from '../incidents/helpers.js';
import { openStack, type Stack, waitFor } from './helpers.js';

let stack: Stack;
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
    headers: {
      'content-type': typeof body === 'string' ? 'application/yaml' : 'application/json',
      ...(user ? { 'x-vigil-user': user } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}

beforeAll(async () => {
  stack = await openStack();
  app = Fastify();
  await registerAutomationRoutes(app, stack.automation);
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  await app.close();
  await stack.close();
});

type Diagnostics = {
  error: {
    code: string;
    message: string;
    details?: { diagnostics: { path: string; message: string; line: number }[] };
  };
};

describe('automation API', () => {
  it('saves YAML rules and playbooks, answers 400 with positioned diagnostics, serves the schema', async () => {
    const bad = await api<Diagnostics>(
      'PUT',
      '/rules/r1',
      'id: r1\nname: R\ntrigger: incidentCreated\nactions:\n  - addTags: 5\n',
    );
    expect(bad.status).toBe(400);
    expect(bad.json.error.details?.diagnostics).toEqual([
      expect.objectContaining({ path: 'actions[0].addTags', message: 'addTags is a tag or a list of tags', line: 5 }),
    ]);
    const validated = await api<{ ok: boolean; diagnostics: { code: string }[] }>(
      'POST',
      '/rules/validate',
      'id: r1\nname: R\ntrigger: incidentCreated\nconditions: [{ property: title, operator: contains, value: x }]\nactions: [{ addTags: [x] }]',
    );
    expect(validated.json).toMatchObject({ ok: true, diagnostics: [{ code: 'rule.title-condition' }] });
    const pb = await api(
      'PUT',
      '/playbooks/hello',
      'id: hello\nname: Hello\ntrigger: { kind: manual }\nsteps:\n  - { id: v, type: setVariable, variable: x, value: 1 }',
    );
    expect(pb.status).toBe(200);
    const wrongId = await api<Diagnostics>(
      'PUT',
      '/playbooks/other',
      'id: hello\nname: Hello\ntrigger: { kind: manual }\nsteps:\n  - { id: v, type: setVariable, variable: x, value: 1 }',
    );
    expect(wrongId.status).toBe(400);
    const broken = await api<Diagnostics>(
      'PUT',
      '/playbooks/hello',
      'id: hello\nname: Hello\ntrigger: { kind: manual }\nsteps:\n  - { id: v, type: comment }',
    );
    expect(broken.json.error.details?.diagnostics[0]).toMatchObject({
      path: 'steps[0].message',
      message: "'message' is required",
    });
    const rule = await api('PUT', '/rules/uses-hello', {
      id: 'uses-hello',
      name: 'Uses hello',
      trigger: 'incidentCreated',
      actions: [{ runPlaybook: 'hello' }],
    });
    expect(rule.status).toBe(200);
    expect((await api<Diagnostics>('DELETE', '/playbooks/hello')).json.error.message).toBe(
      "playbook 'hello' is run by uses-hello",
    );
    expect((await api('DELETE', '/rules/uses-hello')).status).toBe(204);
    expect((await api('DELETE', '/playbooks/hello')).status).toBe(204);
    expect((await api('GET', '/playbooks/hello')).status).toBe(404);
    const schema = await api<{ title: string; $defs: unknown }>('GET', '/schema/playbook');
    expect(schema.json.title).toBe('Vigil playbook');
    expect((await api('GET', '/nope')).status).toBe(404);
  });

  it('task lists, watchlists and write-only secrets', async () => {
    expect(
      (
        await api(
          'PUT',
          '/task-lists/triage',
          'id: triage\nname: Triage\ntasks: [One, { title: Two, description: more }]',
        )
      ).status,
    ).toBe(200);
    expect((await api<{ taskLists: unknown[] }>('GET', '/task-lists')).json.taskLists).toEqual([
      expect.objectContaining({ id: 'triage', tasks: [{ title: 'One' }, { title: 'Two', description: 'more' }] }),
    ]);
    expect(
      (await api('PUT', '/watchlists/vips', { searchKey: 'Upn', items: [{ Upn: 'ceo@contoso.com', Title: 'CEO' }] }))
        .status,
    ).toBe(204);
    expect((await api<{ items: unknown[] }>('GET', '/watchlists/vips/items?key=CEO@contoso.com')).json.items).toEqual([
      { Upn: 'ceo@contoso.com', Title: 'CEO' },
    ]);
    expect((await api('PUT', '/secrets/token', { value: 'super-secret-value-1' }, null)).status).toBe(403);
    expect((await api('PUT', '/secrets/token', { value: 'super-secret-value-1' })).status).toBe(204);
    const list = await api('GET', '/secrets');
    expect(JSON.stringify(list.json)).not.toContain('super-secret-value-1');
    expect(list.json).toMatchObject({ secrets: [{ name: 'token', updatedBy: { id: 'alice@contoso.com' } }] });
  });

  it('runs entity-triggered and manual playbooks, with inputs checked', async () => {
    await api(
      'PUT',
      '/playbooks/on-entity',
      `id: on-entity
name: On an entity
trigger: { kind: entity, entityTypes: [ip] }
steps:
  - { id: echo, type: setVariable, variable: e, value: "\${{ trigger.entity.Address }}/\${{ trigger.entity.type }}" }
`,
    );
    const ok = await api<PlaybookRun>('POST', '/playbooks/on-entity/runs', {
      entity: { Type: 'ip', Address: '203.0.113.7' },
    });
    expect(ok.status).toBe(202);
    const wrongType = await api<Diagnostics>('POST', '/playbooks/on-entity/runs', {
      entity: { Type: 'host', HostName: 'x' },
    });
    expect(wrongType.json.error.message).toBe("playbook 'on-entity' runs on ip entities, not host");
    expect((await api('POST', '/playbooks/on-entity/runs', {}, null)).status).toBe(403);
    await stack.automation.idle();
    const d = await api<{ steps: { output: { value: string } }[] }>('GET', `/runs/${ok.json.id}`);
    expect(d.json.steps[0]?.output.value).toBe('203.0.113.7/ip');
    await api(
      'PUT',
      '/playbooks/manual',
      `id: manual
name: Manual
trigger: { kind: manual }
inputs:
  reason: { type: string, required: true }
  limit: { type: number, default: 5 }
steps:
  - { id: echo, type: setVariable, variable: r, value: "\${{ inputs.reason }} x\${{ inputs.limit }}" }
`,
    );
    expect(
      (await api<Diagnostics>('POST', '/playbooks/manual/runs', { inputs: { reason: 3 } })).json.error.message,
    ).toBe("input 'reason' is a string");
    expect(
      (await api<Diagnostics>('POST', '/playbooks/manual/runs', { inputs: { other: 1 } })).json.error.message,
    ).toBe("playbook 'manual' has no input 'other'");
    const m = await api<PlaybookRun>('POST', '/playbooks/manual/runs', { inputs: { reason: 'drill' } });
    await stack.automation.idle();
    expect(
      (await api<{ steps: { output: { value: string } }[] }>('GET', `/runs/${m.json.id}`)).json.steps[0]?.output.value,
    ).toBe('drill x5');
  });

  it('a playbook approval step waits for a person; a rejection can let the run go on', async () => {
    await api(
      'PUT',
      '/playbooks/ask',
      `id: ask
name: Ask first
trigger: { kind: incident }
steps:
  - { id: ok, type: approval, title: "Notify the CISO about incident \${{ trigger.incident.number }}?", continueOnReject: true }
  - { id: say, type: comment, message: "decision: \${{ steps.ok.output.decision }} by \${{ steps.ok.output.approver.id }}" }
`,
    );
    const out = await stack.incidents.ingestProductAlerts([
      productAlertRow({ product: 'mde', title: 'Ask', entities: [host('ws-ask')], atMs: Date.now() }),
    ]);
    const incidentId = out.alerts[0]?.incidentId as string;
    for (const decision of ['approve', 'reject'] as const) {
      const run = await api<PlaybookRun>('POST', '/playbooks/ask/runs', { incidentId });
      const a = await waitFor(
        async () => (await api<{ approvals: Approval[] }>('GET', `/approvals?runId=${run.json.id}`)).json.approvals[0],
        'the approval',
      );
      expect(a).toMatchObject({
        kind: 'approval',
        status: 'pending',
        title: expect.stringMatching(/^Notify the CISO about incident \d+\?$/),
      });
      await api('POST', `/approvals/${a.id}/${decision}`, { comment: 'ok' }, 'ciso@contoso.com');
      await waitFor(
        async () =>
          (await api<{ run: PlaybookRun }>('GET', `/runs/${run.json.id}`)).json.run.status === 'succeeded'
            ? true
            : null,
        'the run',
      );
    }
    expect((await stack.incidents.comments(incidentId)).map((c) => c.message)).toEqual([
      'decision: approved by ciso@contoso.com',
      'decision: rejected by ciso@contoso.com',
    ]);
  });
});
