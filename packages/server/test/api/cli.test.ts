/**
 * The `vigil` API commands against a real server: login (saved token, not the password), the incident queue
 * (list, show, update with If-Match, comment, close), hunting, users and roles, API tokens and their scopes,
 * automation (apply a playbook, run it, approve its step), the audit log, the generic `api` command, logout.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { ADMIN_PASSWORD, call, ndjson, startTestVigil, type TestVigil } from './helpers.js';

let t: TestVigil;
let dir: string;
const env = { ...process.env };

async function vigil(argv: string[], extraEnv: Record<string, string | undefined> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (b: Buffer) => out.push(b.toString()));
  stderr.on('data', (b: Buffer) => err.push(b.toString()));
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(extraEnv)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    const code = await runCli(argv, { stdout, stderr, stderrIsTTY: false, cwd: dir });
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const json = <T>(r: { stdout: string }) => JSON.parse(r.stdout) as T;

beforeAll(async () => {
  t = await startTestVigil();
  dir = await mkdtemp(join(tmpdir(), 'vigil-cli-api-'));
  process.env.VIGIL_CONFIG = join(dir, 'config', 'cli.json');
  for (const k of ['VIGIL_SERVER', 'VIGIL_TOKEN', 'VIGIL_WORKSPACE', 'VIGIL_PASSWORD']) delete process.env[k];
  const now = Date.now();
  const alert = (id: string, title: string, host: string, minutesAgo: number) => ({
    TimeGenerated: new Date(now - minutesAgo * 60_000).toISOString(),
    DisplayName: title,
    AlertName: title,
    AlertSeverity: 'High',
    ProviderName: 'MDATP',
    ProductName: 'Microsoft Defender Advanced Threat Protection',
    SystemAlertId: id,
    StartTime: new Date(now - minutesAgo * 60_000).toISOString(),
    EndTime: new Date(now - minutesAgo * 60_000).toISOString(),
    Status: 'New',
    Entities: JSON.stringify([{ $id: '2', Type: 'host', HostName: host }]),
    ExtendedProperties: '{}',
    Tactics: 'Execution',
  });
  const r = await call(t.url, 'POST', '/api/workspaces/default/ingest/SecurityAlert', {
    token: t.adminToken,
    raw: ndjson([alert('c-1', 'Suspicious PowerShell', 'ws-1', 20), alert('c-2', 'Phishing link clicked', 'ws-2', 10)]),
    headers: { 'content-type': 'application/x-ndjson' },
  });
  if (r.status !== 200) throw new Error(`seeding alerts: ${r.status} ${r.text}`);
}, 60_000);

afterAll(async () => {
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
  await t?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('vigil API commands', () => {
  it('refuse to run without a server or a credential (usage errors, nothing sent)', async () => {
    const none = await vigil(['incidents', 'list']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no server: pass --server URL/);
    const noToken = await vigil(['incidents', 'list', '--server', t.url]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/no credential: run vigil login/);
    expect((await vigil(['incidents', 'frob', '--server', t.url, '--token', 'x'])).code).toBe(2);
  });

  it('login saves a token (not the password) readable only by the user, and a wrong password fails', async () => {
    const wrong = await vigil(['login', '--server', t.url, '--name', 'admin'], { VIGIL_PASSWORD: 'not the password' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/401/);
    const ok = await vigil(['login', '--server', t.url, '--name', 'admin'], { VIGIL_PASSWORD: ADMIN_PASSWORD });
    expect(ok.stderr).toMatch(/Signed in to .* as admin, workspace default/);
    expect(ok.code).toBe(0);
    const path = process.env.VIGIL_CONFIG as string;
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(ADMIN_PASSWORD);
    const saved = JSON.parse(text) as { token: string; tokenId: string; server: string };
    expect(saved.server).toBe(t.url);
    expect(saved.token).toMatch(/\S{20,}/);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    // The token is an API token of admin's; the session used to mint it is gone.
    const tokens = await vigil(['tokens', 'list', '--json']);
    expect(json<{ id: string; name: string }[]>(tokens).map((x) => x.id)).toContain(saved.tokenId);
    const ws = await vigil(['workspaces', 'list']);
    expect(ws.stdout).toMatch(/^default \*\s+Default workspace\s+Owner/m);
  });

  it('works the incident queue: list, show, update with If-Match, comment, close', async () => {
    const list = await vigil(['incidents', 'list', '--status', 'New', '--sort', 'number', '--order', 'asc', '--json']);
    expect(list.code).toBe(0);
    const items = json<{ id: string; number: number; title: string; version: number }[]>(list);
    expect(items.map((i) => i.title)).toEqual([
      expect.stringMatching(/^Suspicious PowerShell/),
      expect.stringMatching(/^Phishing link clicked/),
    ]);
    const table = await vigil(['incidents', 'list', '--text', 'PowerShell']);
    expect(table.stdout).toMatch(/^NUMBER\s+SEVERITY\s+STATUS/);
    expect(table.stdout).toContain('Suspicious PowerShell');
    expect(table.stdout).not.toContain('Phishing');

    const first = items[0] as { id: string; number: number; version: number };
    const upd = await vigil([
      'incidents',
      'update',
      String(first.number),
      '--status',
      'Active',
      '--owner',
      'amy@contoso.com',
      '--tag',
      'ransomware,vip',
      '--if-match',
      String(first.version),
    ]);
    expect(upd.stderr).toMatch(/Active, High, owner amy@contoso.com/);
    expect(upd.code).toBe(0);
    // The version read before the change is stale now: the server refuses instead of overwriting.
    const stale = await vigil([
      'incidents',
      'update',
      first.id,
      '--severity',
      'Low',
      '--if-match',
      String(first.version),
    ]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/409/);
    expect((await vigil(['incidents', 'comment', first.id, 'Isolated', 'the', 'host'])).code).toBe(0);
    const close = await vigil([
      'incidents',
      'close',
      String(first.number),
      '--classification',
      'TruePositive',
      '--reason',
      'SuspiciousActivity',
      '--comment',
      'confirmed',
    ]);
    expect(close.stderr).toMatch(/Closed \(TruePositive\)/);
    const shown = await vigil(['incidents', 'show', String(first.number)]);
    expect(shown.stdout).toMatch(/Status:\s+Closed/);
    expect(shown.stdout).toMatch(/Tags:\s+ransomware, vip/);
    expect(shown.stdout).toMatch(/Administrator: Isolated the host/);
    expect((await vigil(['incidents', 'close', first.id, '--classification', 'Maybe'])).code).toBe(2);
    expect((await vigil(['incidents', 'update', first.id])).code).toBe(2);
    expect((await vigil(['incidents', 'show', '999999'])).stderr).toMatch(/404/);
  });

  it('hunts: rows as JSON, CSV and a table; compile errors with their position', async () => {
    const q = 'SecurityAlert | summarize n = count() by AlertName | order by AlertName asc';
    const j = await vigil(['hunt', '--format', 'json', q]);
    expect(j.code).toBe(0);
    expect(json<{ columns: { name: string }[]; rows: unknown[][] }>(j)).toMatchObject({
      columns: [{ name: 'AlertName' }, { name: 'n' }],
      rows: [
        ['Phishing link clicked', 1],
        ['Suspicious PowerShell', 1],
      ],
    });
    const csv = await vigil(['hunt', '--format', 'csv', q]);
    expect(csv.stdout).toBe('AlertName,n\nPhishing link clicked,1\nSuspicious PowerShell,1\n');
    const tbl = await vigil(['hunt', '--format', 'table', '--timespan', 'PT1H', q]);
    expect(tbl.stdout).toMatch(/^AlertName\s+n\nPhishing link clicked\s+1\n/);
    expect(tbl.stderr).toMatch(/^2 rows in \d+ ms/);
    const bad = await vigil(['hunt', 'SecurityAlert | where NoSuchColumn == 1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error \S+ at line 1, column 23: .*NoSuchColumn[\s\S]*\^{12}/);
  });

  it('manages users and roles, and scoped API tokens', async () => {
    const add = await vigil(['users', 'add', 'bob', '--role', 'Reader', '--email', 'bob@contoso.com']);
    expect(add.code).toBe(0);
    expect(add.stdout.trim()).toMatch(/^\S{8,}$/); // the one-time setup code
    const set = await vigil(['users', 'set', 'bob', '--role', 'Responder', '--approver']);
    expect(set.stderr).toMatch(/bob: Responder \(Approver\)/);
    const members = json<{ user: { name: string }; role: string; approver: boolean }[]>(
      await vigil(['users', 'list', '--json']),
    );
    expect(members.find((m) => m.user.name === 'bob')).toMatchObject({ role: 'Responder', approver: true });
    expect((await vigil(['users', 'set', 'nobody', '--role', 'Reader'])).code).toBe(2);
    expect((await vigil(['users', 'add', 'eve', '--role', 'Admin'])).code).toBe(2);
    expect((await vigil(['users', 'remove', 'bob'])).code).toBe(0);
    expect((await vigil(['users', 'list'])).stdout).not.toMatch(/^bob\b/m);

    // A token cannot mint tokens: a session (here: admin's) can, with scopes and a workspace binding.
    const fromToken = await vigil(['tokens', 'create', 'ci']);
    expect(fromToken.code).toBe(1);
    expect(fromToken.stderr).toMatch(/403/);
    const created = await vigil(['tokens', 'create', 'ci', '--scopes', 'read', '--bind', '--token', t.adminToken]);
    expect(created.code).toBe(0);
    const readOnly = created.stdout.trim();
    const hunt = await vigil(['hunt', '--format', 'json', '--token', readOnly, 'SecurityAlert | count']);
    expect(json<{ rows: unknown[][] }>(hunt).rows).toEqual([[2]]);
    const refused = await vigil(['incidents', 'update', '1', '--severity', 'Low', '--token', readOnly]);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(/403 forbidden/);
    const listed = json<{ id: string; name: string; scopes: string[] }[]>(
      await vigil(['tokens', 'list', '--json', '--token', t.adminToken]),
    );
    const ci = listed.find((x) => x.name === 'ci');
    expect(ci?.scopes).toEqual(['read']);
    expect((await vigil(['tokens', 'revoke', ci?.id ?? '', '--token', t.adminToken])).code).toBe(0);
    const revoked = await vigil(['hunt', '--token', readOnly, 'print 1']);
    expect(revoked.stderr).toMatch(/401/);
  });

  it('applies and runs a playbook, lists and approves its approval step', async () => {
    const file = join(dir, 'ask.yaml');
    await writeFile(
      file,
      [
        'id: ask-then-comment',
        'name: Ask, then comment',
        'trigger:',
        '  kind: incident',
        'steps:',
        '  - { id: ok, type: approval, title: "Comment on the incident?", expiresIn: 1d }',
        '  - { id: note, type: comment, message: "Approved from the CLI" }',
        '',
      ].join('\n'),
    );
    const applied = await vigil(['automation', 'playbooks', 'apply', 'ask.yaml']);
    expect(applied.stderr).toMatch(/Applied playbook ask-then-comment/);
    expect((await vigil(['automation', 'playbooks', 'list'])).stdout).toMatch(/ask-then-comment\s+yes/);
    await writeFile(join(dir, 'broken.yaml'), 'id: broken\nname: Broken\nsteps: 3\n');
    const broken = await vigil(['automation', 'playbooks', 'apply', 'broken.yaml']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken\.yaml.*error[\s\S]*400/);

    const run = await vigil(['automation', 'playbooks', 'run', 'ask-then-comment', '--incident', '2']);
    expect(run.code).toBe(0);
    const runId = run.stdout.trim();
    let approval: { id: string; runId: string } | undefined;
    for (let i = 0; i < 100 && !approval; i++) {
      const pending = json<{ id: string; runId: string }[]>(
        await vigil(['automation', 'approvals', 'list', '--status', 'pending', '--json']),
      );
      approval = pending.find((a) => a.runId === runId);
      if (!approval) await new Promise((r) => setTimeout(r, 50));
    }
    expect(approval).toBeDefined();
    // The Owner is not an Approver: separation of duties holds from the CLI too.
    const denied = await vigil(['automation', 'approvals', 'approve', approval?.id ?? '']);
    expect(denied.stderr).toMatch(/403/);
    await call(t.url, 'POST', '/api/workspaces/default/users', {
      token: t.adminToken,
      body: { name: 'ann', password: 'Sky-Ledger-Orbit-19', role: 'Responder', approver: true },
    });
    const ann = (
      await call<{ token: string }>(t.url, 'POST', '/api/auth/login', {
        body: { name: 'ann', password: 'Sky-Ledger-Orbit-19' },
      })
    ).json.token;
    const ok = await vigil([
      'automation',
      'approvals',
      'approve',
      approval?.id ?? '',
      '--comment',
      'go',
      '--token',
      ann,
    ]);
    expect(ok.stderr).toMatch(/Comment on the incident\?: approved/);
    let shown = '';
    for (let i = 0; i < 100 && !/Status:\s+succeeded/.test(shown); i++) {
      shown = (await vigil(['automation', 'runs', 'show', runId])).stdout;
      if (!/Status:\s+succeeded/.test(shown)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(shown).toMatch(/Status:\s+succeeded/);
    expect(shown).toMatch(/note\s+succeeded/);
    expect((await vigil(['automation', 'runs', 'list'])).stdout).toContain(runId);
  });

  it('reads the audit log, calls any endpoint, and logs out (the token is revoked)', async () => {
    const audit = json<{ action: string; userName: string }[]>(
      await vigil(['audit', '--action', 'incidents.update', '--json']),
    );
    expect(audit.length).toBeGreaterThanOrEqual(2);
    expect(audit.every((a) => a.action === 'incidents.update' && a.userName === 'admin')).toBe(true);
    expect((await vigil(['audit', '--kind', 'query'])).stdout).toMatch(/queries\.run/);
    const tables = await vigil(['api', '/api/workspaces/{workspace}/tables/SecurityAlert']);
    expect(tables.code).toBe(0);
    expect(JSON.parse(tables.stdout)).toMatchObject({ name: 'SecurityAlert' });
    const put = await vigil([
      'api',
      'PUT',
      '/api/workspaces/{workspace}/functions/HighAlerts',
      '--data',
      '{"body":"SecurityAlert | where AlertSeverity == \\"High\\""}',
    ]);
    expect(put.code).toBe(0);
    expect(json<{ rows: unknown[][] }>(await vigil(['hunt', '--format', 'json', 'HighAlerts | count'])).rows).toEqual([
      [2],
    ]);
    const missing = await vigil(['api', '/api/nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/404/);

    const token = (JSON.parse(await readFile(process.env.VIGIL_CONFIG as string, 'utf8')) as { token: string }).token;
    const out = await vigil(['logout']);
    expect(out.stderr).toMatch(/Signed out/);
    expect((await call(t.url, 'GET', '/api/auth/me', { token })).status).toBe(401);
    expect((await vigil(['incidents', 'list'])).code).toBe(2);
  });
});
