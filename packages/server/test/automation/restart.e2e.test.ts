// biome-ignore-all lint/suspicious/noTemplateCurlyInString: playbook expressions are written `${{ ... }}` inside plain strings.
/**
 * Durability across a crash: the server (a real process running the built code) is killed with SIGKILL in the
 * middle of a run — while an HTTP side effect is in flight, while a run waits for approval, and while an approved
 * action is being executed — then restarted on the same state. The run resumes where it stopped, and every side
 * effect is performed exactly once: steps that finished are not repeated, the interrupted call is repeated with
 * the same `Idempotency-Key` (the receivers perform each key once), comments are not duplicated.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval, PlaybookRun, RunLogEntry, StepRecord } from '../../src/automation/model.js';
import type { AuditEntry, Comment, Incident } from '../../src/incidents/model.js';
import { host, productAlertRow } from '../incidents/helpers.js';
import { Receiver, waitFor } from './helpers.js';

const SERVER = new URL('./fixtures/automation-server.mjs', import.meta.url).pathname;
const DIST = new URL('../../dist/automation/service.js', import.meta.url).pathname;

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<unknown>;
  readonly stderr: string[];
}

const dirs: string[] = [];
const children: ChildProcess[] = [];
const receivers: Receiver[] = [];

function start(dir: string, key: string, bridge?: string): Promise<Server> {
  const child = spawn(process.execPath, [SERVER, dir, key, ...(bridge ? [bridge] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const stderr: string[] = [];
  child.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
  const exited = new Promise((done) => child.once('exit', done));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) =>
      resolve({ child, url: (JSON.parse(line) as { url: string }).url, exited, stderr }),
    );
    void exited.then(() => reject(new Error(`the server exited: ${stderr.join('')}`)));
  });
}

async function call<T>(
  s: Server,
  method: string,
  path: string,
  body?: unknown,
  user = 'alice@contoso.com',
): Promise<T> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-vigil-user': user },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

type RunDetail = { run: PlaybookRun; steps: StepRecord[]; logs: RunLogEntry[] };
type IncidentView = { incident: Incident; comments: Comment[]; audit: AuditEntry[] };

beforeAll(() => {
  if (!existsSync(DIST)) throw new Error(`build first (npm run build): ${DIST} is missing`);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const r of receivers) await r.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-automation-kill-'));
  dirs.push(dir);
  return { dir, key: randomBytes(32).toString('hex') };
}

async function postAlert(s: Server, name: string): Promise<string> {
  const out = await call<{ incidentId: string }[]>(s, 'POST', '/test/alerts', {
    rows: [
      productAlertRow({
        product: 'mde',
        title: `Suspicious activity on ${name}`,
        entities: [host(name, `dev-${name}`)],
        atMs: Date.now(),
      }),
    ],
  });
  return out[0]?.incidentId as string;
}

describe('a server killed mid-run', () => {
  it('resumes the run after SIGKILL during an HTTP call; every side effect happens once', async () => {
    const { dir, key } = workspace();
    let server = await start(dir, key);
    const sink = await Receiver.start();
    receivers.push(sink);
    let killed = false;
    sink.respond = (r) => {
      if (r.url === '/b' && !killed) {
        // The receiver performs the request, then the server dies before it hears the answer.
        killed = true;
        sink.performed.set(String(r.headers['idempotency-key']), { status: 200, body: { ok: 'b' } });
        server.child.kill('SIGKILL');
        return 'hang';
      }
      return { status: 200, body: { ok: r.url } };
    };
    await call(server, 'PUT', '/api/automation/secrets/slackWebhook', { value: `${sink.url}/slack/T0/B0/XYZSECRET` });
    await call(
      server,
      'PUT',
      '/api/automation/playbooks/crash-course',
      `id: crash-course
name: Crash course
trigger: { kind: incident }
steps:
  - { id: a, type: http, method: POST, url: "${sink.url}/a", body: { n: "\${{ trigger.incident.number }}" } }
  - { id: note, type: comment, message: "step a answered \${{ steps.a.output.json.ok }}" }
  - { id: b, type: http, method: POST, url: "${sink.url}/b", body: { n: "\${{ trigger.incident.number }}" }, retry: { attempts: 1 } }
  - { id: c, type: notifySlack, webhook: "\${{ secrets.slackWebhook }}", text: "b answered \${{ steps.b.output.json.ok }}" }
  - { id: tag, type: updateIncident, addTags: [resumed-once] }
`,
    );
    await call(
      server,
      'PUT',
      '/api/automation/rules/run-crash-course',
      `id: run-crash-course
name: Run the crash course
trigger: incidentCreated
actions: [{ runPlaybook: crash-course }]`,
    );
    const incidentId = await postAlert(server, 'ws-k1');
    await server.exited;
    expect(killed).toBe(true);
    expect(server.child.signalCode).toBe('SIGKILL');

    server = await start(dir, key);
    const run = await waitFor(
      async () => {
        const list = await call<{ items: PlaybookRun[] }>(
          server,
          'GET',
          `/api/automation/runs?incidentId=${incidentId}`,
        );
        const r = list.items[0];
        return r && r.status === 'succeeded' ? r : null;
      },
      'the resumed run to finish',
      20_000,
    );
    expect(run.executions).toBe(2);
    const detail = await call<RunDetail>(server, 'GET', `/api/automation/runs/${run.id}`);
    expect(detail.steps.map((s) => [s.key, s.status, s.attempts])).toEqual([
      ['a', 'succeeded', 1],
      ['note', 'succeeded', 1],
      ['b', 'succeeded', 2],
      ['c', 'succeeded', 1],
      ['tag', 'succeeded', 1],
    ]);
    expect(detail.logs.map((l) => l.message)).toContain('resumed (execution 2)');

    // Raw deliveries: a and c once; b twice with one key (performed once).
    expect(sink.to('/a')).toHaveLength(1);
    expect(sink.to('/slack')).toHaveLength(1);
    const b = sink.to('/b');
    expect(b).toHaveLength(2);
    expect(new Set(b.map((x) => x.headers['idempotency-key'])).size).toBe(1);
    expect(sink.to('/slack')[0]?.json).toMatchObject({ text: 'b answered b' });
    const view = await call<IncidentView>(server, 'GET', `/test/incidents/${incidentId}`);
    expect(view.comments.map((c) => c.message)).toEqual(['step a answered /a']);
    expect(view.incident.tags).toEqual(['resumed-once']);
    expect(
      view.audit.filter((a) => a.actor.type === 'playbook' && a.changes.some((c) => c.field === 'tags')),
    ).toHaveLength(1);
    expect(JSON.stringify(detail)).not.toContain('XYZSECRET');
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it('resumes a run that waited for approval, and an action interrupted while executing runs once', async () => {
    const { dir, key } = workspace();
    const bridge = await Receiver.start();
    receivers.push(bridge);
    let server = await start(dir, key, `${bridge.url}/actions`);
    let killed = false;
    bridge.respond = (r) => {
      if (r.url === '/actions' && !killed) {
        killed = true;
        bridge.performed.set(String(r.headers['idempotency-key']), {
          status: 200,
          body: { status: 'succeeded', message: 'isolated', externalId: 'op-1' },
        });
        server.child.kill('SIGKILL');
        return 'hang';
      }
      return { status: 200, body: { ok: true } };
    };
    await call(
      server,
      'PUT',
      '/api/automation/playbooks/contain',
      `id: contain
name: Contain
trigger: { kind: incident }
steps:
  - { id: isolate, type: responseAction, action: isolateDevice, target: "\${{ first(entities('host')) }}" }
  - { id: after, type: http, method: POST, url: "${bridge.url}/after", body: { result: "\${{ steps.isolate.output.result.message }}" } }
`,
    );
    const incidentId = await postAlert(server, 'ws-k2');
    const started = await call<PlaybookRun>(server, 'POST', '/api/automation/playbooks/contain/runs', { incidentId });
    const approval = await waitFor(async () => {
      const list = await call<{ approvals: Approval[] }>(
        server,
        'GET',
        `/api/automation/approvals?runId=${started.id}&status=pending`,
      );
      return list.approvals[0] ?? null;
    }, 'the approval request');
    // Killed while the run waits.
    server.child.kill('SIGKILL');
    await server.exited;
    server = await start(dir, key, `${bridge.url}/actions`);
    expect((await call<RunDetail>(server, 'GET', `/api/automation/runs/${started.id}`)).run.status).toBe('waiting');
    // Approved after the restart; the server dies during the bridge call.
    await call(server, 'POST', `/api/automation/approvals/${approval.id}/approve`, { comment: 'go' });
    await server.exited;
    expect(killed).toBe(true);
    server = await start(dir, key, `${bridge.url}/actions`);
    const done = await waitFor(
      async () => {
        const d = await call<RunDetail>(server, 'GET', `/api/automation/runs/${started.id}`);
        return d.run.status === 'succeeded' ? d : null;
      },
      'the run to finish',
      20_000,
    );
    expect(done.steps.map((s) => [s.key, s.status])).toEqual([
      ['isolate', 'succeeded'],
      ['after', 'succeeded'],
    ]);
    const calls = bridge.to('/actions');
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.headers['idempotency-key'] === approval.id)).toBe(true);
    expect(bridge.to('/after')).toHaveLength(1);
    expect(bridge.to('/after')[0]?.json).toEqual({ result: 'isolated' });
    const final = await call<Approval>(server, 'GET', `/api/automation/approvals/${approval.id}`);
    expect(final).toMatchObject({ status: 'succeeded', attempts: 2, decidedBy: { id: 'alice@contoso.com' } });
    const view = await call<IncidentView>(server, 'GET', `/test/incidents/${incidentId}`);
    expect(view.comments.map((c) => c.message)).toEqual([
      `Response action isolateDevice on device dev-ws-k2 succeeded (approved by alice@contoso.com): isolated [op-1]`,
    ]);
    server.child.kill('SIGTERM');
    await server.exited;
  });
});
