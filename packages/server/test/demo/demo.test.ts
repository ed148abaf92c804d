/**
 * `vigil demo` and `vigil validate` as a user runs them: the built CLI (`packages/server/dist`; `npm test` builds
 * first) as child processes, a fast simulation on 127.0.0.1 in a temporary folder. Incidents must appear through
 * the API, the Step-7 checklist must pass against the running demo, and Ctrl-C must stop it cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;

interface Proc {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

/** The CLI with no saved login or token from the environment (validate would fall back to them). */
function run(args: readonly string[], extra: Record<string, string> = {}): Proc {
  const env = { ...process.env, VIGIL_CONFIG: join(tmpdir(), `vigil-demo-test-none-${process.pid}.json`), ...extra };
  delete env.VIGIL_TOKEN;
  delete env.VIGIL_SERVER;
  delete env.VIGIL_WORKSPACE;
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const p: Proc = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((done) => child.on('exit', (code) => done(code))),
  };
  child.stdout?.on('data', (b: Buffer) => {
    p.stdout += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    p.stderr += b.toString();
  });
  return p;
}

async function until<T>(ms: number, probe: () => Promise<T | null | undefined> | T | null | undefined): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('vigil demo + vigil validate (built CLI)', () => {
  let dir = '';
  let demo: Proc | null = null;

  afterAll(async () => {
    if (demo && demo.child.exitCode === null) {
      demo.child.kill('SIGKILL');
      await demo.exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows incidents within seconds, passes validate, and stops on Ctrl-C', { timeout: 120_000 }, async () => {
    expect(existsSync(MAIN), `${MAIN} (run npm run build)`).toBe(true);
    dir = await mkdtemp(join(tmpdir(), 'vigil-demo-test-'));
    const started = Date.now();
    demo = run([
      'demo',
      '--data',
      join(dir, 'data'),
      '--port',
      '0',
      '--speed',
      '20',
      '--devices',
      '30',
      '--seed',
      '3',
      '--json',
    ]);
    const d = demo;
    const info = await until(60_000, () => {
      if (d.child.exitCode !== null) throw new Error(`vigil demo exited ${d.child.exitCode}: ${d.stderr}`);
      const line = d.stdout.split('\n').find((l) => l.startsWith('{'));
      return line ? (JSON.parse(line) as { url: string; workspace: string; user: string; password: string }) : null;
    });
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(d.stderr).toContain(`Sign in:   admin / ${info.password}`);

    // The first incident, as the console sees it: signed in, through the incidents API.
    const login = await fetch(`${info.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: info.user, password: info.password }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const first = await until(60_000, async () => {
      const r = await fetch(`${info.url}/api/workspaces/${info.workspace}/incidents`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const page = (await r.json()) as { items: { number: number; title: string; tags: string[] }[] };
      return page.items.length ? page.items : null;
    });
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeLessThan(60);
    expect(first[0]?.title).toBeTruthy();

    // The seed's Step 7 against the running demo, as a second process.
    // As the demo's banner says: the password from the environment, not the command line.
    const check = run(['validate', '--url', info.url, '--user', info.user, '--timeout', '30', '--json'], {
      VIGIL_PASSWORD: info.password,
    });
    const code = await check.exited;
    const report = JSON.parse(check.stdout.trim().split('\n').pop() ?? '{}') as {
      ok: boolean;
      steps: { name: string; ok: boolean; detail: string }[];
    };
    expect(
      report.steps.filter((s) => !s.ok),
      check.stderr,
    ).toEqual([]);
    expect(report.steps.map((s) => s.name)).toEqual([
      'Sign in',
      'Connectors healthy and data arriving',
      'Test alert seen as an incident',
      'SecurityIncident query returns it',
      'Sample DeviceProcessEvents query',
      'Entity mapping shows users, hosts and IPs',
      'Automation rule applied tag, owner and tasks',
      'Test incident closed, closure in SecurityIncident',
    ]);
    expect(code).toBe(0);

    // Ctrl-C: the demo stops streaming, commits, closes, exits 0 (every request accepted).
    d.child.kill('SIGINT');
    expect(await d.exited, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/stopped: [\d,]+ rows in \d+ requests, \d+ attack stories/);
    expect(d.stderr).not.toMatch(/rows rejected|answered [45]\d\d/);
  });

  it('refuses a bad option without starting anything', async () => {
    const p = run(['demo', '--speed', 'fast']);
    expect(await p.exited).toBe(2);
    expect(p.stderr).toContain('--speed');
    const v = run(['validate', '--url', 'http://127.0.0.1:1']);
    expect(await v.exited).toBe(2);
    expect(v.stderr).toContain('--token');
  });
});
