/**
 * A real Vigil server for the console's browser tests: the API server (`startVigil`) on 127.0.0.1 with a
 * temporary data folder, the built console served by it, the automation service of the workspace with the shipped
 * content (`content/automation`), and the scenario's data sent through the ingestion API.
 *
 * Until the API mounts the automation routes itself, the harness mounts the automation plugin at
 * `/api/workspaces/default/automation` (the path the console uses), identifying the caller from the API's session.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApiApp } from '../../../server/src/api/app.js';
import { requestState } from '../../../server/src/api/route.js';
import { type RunningVigil, startVigil } from '../../../server/src/api/server.js';
import { registerAutomationRoutes } from '../../../server/src/automation/api.js';
import { AutomationService } from '../../../server/src/automation/service.js';
import type { Workspace } from '../../../server/src/workspaces/workspace.js';
import { buildScenario, ENCODED_POWERSHELL_RULE } from './scenario.js';

export const ADMIN = { name: 'admin', password: 'console-test-password-1' };
const CONTENT = fileURLToPath(new URL('../../../../content/automation/', import.meta.url));

export interface ConsoleServer {
  readonly url: string;
  readonly vigil: RunningVigil;
  readonly workspace: Workspace;
  readonly automation: AutomationService;
  /** The incident number of the attack story. */
  readonly storyIncident: number;
  /** Actions the EDR received (approved response actions). */
  readonly edrCalls: readonly unknown[];
  close(): Promise<void>;
}

async function api(url: string, token: string, method: string, path: string, body?: unknown, raw?: string) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(raw !== undefined
        ? { 'content-type': 'application/x-ndjson' }
        : body !== undefined
          ? { 'content-type': 'application/json' }
          : {}),
    },
    ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 400)}`);
  return text ? (JSON.parse(text) as unknown) : null;
}

async function until<T>(probe: () => Promise<T | null | undefined>, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The outside world of the playbooks: an HTTP receiver on 127.0.0.1 where the automation's action adapter posts
 * approved actions (what Defender's machine-actions API would do, answered as succeeded) and Slack messages go.
 */
async function startEdrBridge(): Promise<{ url: string; calls: unknown[]; close(): Promise<void> }> {
  const calls: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      // The same receiver stands in for Slack's incoming webhook (`/slack`), which answers "ok".
      if (req.url !== '/actions') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
        return;
      }
      const action = (JSON.parse(body || '{}') as { action?: string }).action ?? 'action';
      calls.push(JSON.parse(body || '{}'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'succeeded', message: `${action} done`, externalId: `edr-${calls.length}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return {
    url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`,
    calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function startConsoleServer(): Promise<ConsoleServer> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-web-'));
  const edr = await startEdrBridge();
  let automation: AutomationService | null = null;
  const vigil = await startVigil({
    dataDir: dir,
    host: '127.0.0.1',
    initialAdminPassword: ADMIN.password,
    workspace: { engine: { threads: 1, connections: 3 }, scheduler: true },
    workspaceHooks: [
      async (ws) => {
        const a = await AutomationService.open({
          state: ws.state,
          incidents: ws.incidents,
          query: ws.query,
          secretKey: randomBytes(32),
          http: { allow: ['127.0.0.1'] },
          adapters: [{ id: 'edr', url: `${edr.url}/actions`, actions: ['isolateDevice'] }],
        });
        ws.automation = a;
        ws.extend({ close: () => a.close() });
        await a.loadContent(CONTENT, { type: 'system', id: 'content', name: 'Content pack' });
        automation = a;
      },
    ],
  });
  const workspace = vigil.manager.get('default') ?? vigil.manager.list()[0];
  if (!workspace || !automation) throw new Error('the default workspace did not open');
  const app = await buildApiApp(vigil.deps);
  await registerAutomationRoutes(app, automation, {
    prefix: `/api/workspaces/${workspace.name}/automation`,
    identify: (request) => {
      const p = requestState(request).principal;
      return p ? { type: 'analyst', id: p.user.email ?? p.user.name, name: p.user.displayName || p.user.name } : null;
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const close = async () => {
    await app.close();
    await vigil.close();
    await edr.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const login = (await api(url, '', 'POST', '/api/auth/login', ADMIN)) as { token: string };
    const token = login.token;
    const base = `/api/workspaces/${workspace.name}`;
    // The analyst is an Approver too (the inbox step of the analyst path).
    const me = (await api(url, token, 'GET', '/api/auth/me')) as { user: { id: string } };
    await api(url, token, 'PATCH', `${base}/users/${me.user.id}`, { approver: true });
    await api(url, token, 'POST', `${base}/rules`, { yaml: ENCODED_POWERSHELL_RULE });
    const now = Date.now();
    const scenario = buildScenario(now);
    for (const [table, rows] of Object.entries(scenario.tables)) {
      await api(
        url,
        token,
        'POST',
        `${base}/ingest/${table}`,
        undefined,
        `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`,
      );
    }
    await workspace.incidents.ingestProductAlerts(scenario.productAlerts, { table: 'SecurityAlert' });
    await workspace.detection.settle();
    await workspace.incidents.flush();
    // The story's incident: the one holding the credential-dumping alert.
    const story = await until(async () => {
      const a = await workspace.incidents.alert('da-0002');
      const id = a?.summary.incidentId;
      return id ? ((await workspace.incidents.getIncident(id))?.number ?? null) : null;
    }, 'the story incident');
    // A containment request waiting for approval on it.
    const incident = await workspace.incidents.getIncident(story);
    // The playbook notifies Slack after the decision; a webhook on a closed local port (the machine has no network).
    await automation.secrets.set('slackWebhook', `${edr.url}/slack`, { type: 'system', id: 'test' });
    const run = await automation.startRun(
      'isolate-device-with-approval',
      { kind: 'incident', incidentId: incident!.id, inputs: {} },
      { type: 'analyst', id: 'admin', name: 'admin' },
    );
    const settled = await until(async () => {
      const d = await automation!.run(run.id);
      return d && d.run.status !== 'queued' && d.run.status !== 'running' ? d : null;
    }, 'the containment playbook to wait or finish');
    if ((await automation.listApprovals({ status: 'pending' })).length === 0)
      throw new Error(
        `no pending approval: run ${settled.run.status} ${settled.run.error ?? ''} ${JSON.stringify(settled.logs.slice(-5))}`,
      );
    return { url, vigil, workspace, automation, storyIncident: story, edrCalls: edr.calls, close };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}
