/**
 * @azure/monitor-query-logs (the Azure SDK's Log Analytics client) as a real client of Vigil over https with a
 * self-signed certificate (trusted through NODE_EXTRA_CA_CERTS in the client's process): timespans as durations and
 * intervals, Prefer options (statistics, visualization, wait), dynamic values, errors, and the workspace id.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ndjson, startTestVigil, type TestVigil } from './helpers.js';

let t: TestVigil;
let certDir: string;

interface Out {
  status?: string;
  tables?: { name: string; columns: { name: string; type: string }[]; rows: unknown[][] }[];
  statistics?: { query?: { datasetStatistics?: { tableRowCount: number }[] } } | null;
  visualization?: Record<string, unknown> | null;
  error?: { statusCode: number | null; code: string | null; message: string };
}

function runClient(endpoint: string, workspaceId: string, token: string): Promise<Record<string, Out>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'fixtures/la-client.mjs'), endpoint, workspaceId, token],
      {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: join(certDir, 'cert.pem') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`client exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout) as Record<string, Out>);
    });
  });
}

beforeAll(async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  certDir = mkdtempSync(join(tmpdir(), 'vigil-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      join(certDir, 'key.pem'),
      '-out',
      join(certDir, 'cert.pem'),
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  t = await startTestVigil({
    tls: { port: 0, key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) },
  });
  const now = Date.now();
  const rows = Array.from({ length: 12 }, (_, i) => ({
    // Every 20 minutes back from now: 3 rows in the last hour, 4 between 3 h and 1.5 h ago.
    TimeGenerated: new Date(now - (i * 20 + 5) * 60_000).toISOString(),
    Computer: `host-${i % 2}`,
    SyslogMessage: `m${i}`,
    ProcessID: i,
  }));
  // Set-up goes through the plain-http listener of the same server; the client under test uses https.
  const ing = await call(t.url, 'POST', '/api/workspaces/default/ingest/Syslog', {
    token: t.adminToken,
    raw: ndjson(rows),
    headers: { 'content-type': 'application/x-ndjson' },
  });
  expect(ing.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await t?.dispose();
  const { rmSync } = await import('node:fs');
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

describe('@azure/monitor-query-logs against Vigil over https', () => {
  it('queries with timespans, Prefer options and a Vigil API token', async () => {
    const ws = t.vigil.manager.get('default');
    expect(ws).toBeDefined();
    const tok = await fetchToken();
    const out = await runClient(`${t.vigil.httpsUrl}/v1`, ws?.id as string, tok);

    const lastHour = out.lastHour as Out;
    expect(lastHour.status).toBe('Success');
    const table = lastHour.tables?.[0];
    expect(table?.name).toBe('PrimaryResult');
    expect(table?.columns).toEqual([
      { name: 'TimeGenerated', type: 'datetime' },
      { name: 'Computer', type: 'string' },
      { name: 'ProcessID', type: 'int' },
    ]);
    expect(table?.rows.map((r) => r[2])).toEqual([0, 1, 2]);
    expect(table?.rows[0]?.[0]).toMatchObject({ date: expect.any(String) });

    expect(out.interval?.tables?.[0]?.rows).toEqual([[4]]);

    const all = out.all as Out;
    expect(all.tables?.[0]?.rows[0]?.[0]).toBe(12);
    expect(all.tables?.[0]?.columns[1]).toEqual({ name: 'd', type: 'dynamic' });
    expect([...((all.tables?.[0]?.rows[0]?.[1] ?? []) as string[])].sort()).toEqual(['host-0', 'host-1']);
    expect(all.statistics?.query?.datasetStatistics?.[0]?.tableRowCount).toBe(1);

    expect(out.render?.visualization).toMatchObject({ visualization: 'barchart' });

    expect(out.invalid?.error?.statusCode).toBe(400);
    expect(out.invalid?.error?.code).toBe('BadArgumentError');
  }, 90_000);

  it('answers unknown workspaces and missing tokens in Log Analytics shape', async () => {
    const { Agent, request } = await import('node:https');
    const agent = new Agent({ ca: readFileSync(join(certDir, 'cert.pem')) });
    const post = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; json: { error: { code: string } } }>((resolve, reject) => {
        const req = request(
          `${t.vigil.httpsUrl}${path}`,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ query: 'print 1' }));
      });
    const noToken = await post('/v1/workspaces/default/query', {});
    expect(noToken.status).toBe(401);
    expect(noToken.json.error.code).toBe('AuthorizationRequiredError');
    const unknown = await post('/v1/workspaces/00000000-0000-0000-0000-000000000000/query', {
      authorization: `Bearer ${t.adminToken}`,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('WorkspaceNotFoundError');
  });
});

async function fetchToken(): Promise<string> {
  const r = await call<{ value: string }>(t.url, 'POST', '/api/tokens', {
    token: t.adminToken,
    body: { name: 'la', scopes: ['read'], workspace: 'default', expiresInDays: 1 },
  });
  expect(r.status).toBe(201);
  return r.json.value;
}
