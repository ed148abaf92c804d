/**
 * `vigil rules` in-process: import with a per-rule report (file:line:column reasons), list, export, enable and
 * disable, inline tests, replay over a past window, the ledger, one scheduler pass, and usage errors that create
 * nothing.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/brute-force.yaml', import.meta.url));
const RULE_ID = '7f3a4b2c-1d5e-4f60-8a71-92b3c4d5e6f7';

async function cli(argv: string[], cwd: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (b: Buffer) => out.push(b.toString()));
  stderr.on('data', (b: Buffer) => err.push(b.toString()));
  const code = await runCli(argv, { stdout, stderr, stderrIsTTY: false, cwd });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('vigil rules', () => {
  let dir: string;
  let data: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-cli-rules-'));
    data = join(dir, 'ws');
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'brute-force.yaml'), readFileSync(FIXTURE, 'utf8'));
    writeFileSync(
      join(dir, 'rules', 'broken.yml'),
      readFileSync(FIXTURE, 'utf8')
        .replace(RULE_ID, '7f3a4b2c-0000-4f60-8a71-000000000000')
        .replace('  SigninLogs\n', '  SignInLog\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses usage mistakes without creating anything', async () => {
    expect((await cli(['rules'], dir)).code).toBe(2);
    expect((await cli(['rules', 'frob'], dir)).stderr).toMatch(/unknown subcommand 'frob'/);
    const noPath = await cli(['rules', 'import', '--data', data], dir);
    expect(noPath.code).toBe(2);
    expect(noPath.stderr).toMatch(/import needs a PATH/);
    expect((await cli(['rules', 'replay', '--data', data, '--from', 'yesterday', RULE_ID], dir)).code).toBe(2);
    expect(existsSync(data)).toBe(false);
  });

  it('imports a folder and reports each rule, with the reasons of a rejected one', async () => {
    const r = await cli(['rules', 'import', '--data', data, 'rules'], dir);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /^created {3}Brute force against an account \(7f3a4b2c-1d5e-4f60-8a71-92b3c4d5e6f7\), scheduled$/m,
    );
    expect(r.stderr).toMatch(/^rejected {2}Brute force against an account \(7f3a4b2c-0000-4f60-8a71-000000000000\)$/m);
    expect(r.stderr).toMatch(/^ {2}rules\/broken\.yml:17:3: error missing-table: Missing table: .*SignInLog/m);
    expect(r.stderr).toMatch(/1 of 2 rules imported, 1 rejected/);
    const again = await cli(['rules', 'import', '--data', data, '--json', 'rules/brute-force.yaml'], dir);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ruleId: RULE_ID, status: 'unchanged', mode: 'scheduled' });
  });

  it('lists, exports, disables and enables rules', async () => {
    const list = await cli(['rules', 'list', '--data', data], dir);
    expect(list.stdout).toMatch(new RegExp(`^enabled {3}${RULE_ID} {2}Scheduled +every 15m, lookback 1h`, 'm'));
    const exported = await cli(['rules', 'export', '--data', data], dir);
    expect(exported.stdout).toBe(readFileSync(FIXTURE, 'utf8'));
    expect((await cli(['rules', 'disable', '--data', data, RULE_ID], dir)).stderr).toBe(`disabled ${RULE_ID}\n`);
    expect((await cli(['rules', 'list', '--data', data], dir)).stdout).toMatch(/^disabled/);
    expect((await cli(['rules', 'enable', '--data', data, RULE_ID], dir)).code).toBe(0);
    expect((await cli(['rules', 'enable', '--data', data, 'nope'], dir)).code).toBe(1);
  });

  it('runs inline rule tests', async () => {
    const r = await cli(['rules', 'test', 'rules/brute-force.yaml'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^pass {2}Brute force against an account › five failures then a success {2}\(1 alerts\)$/m,
    );
    expect(r.stderr).toMatch(/2 of 2 rule tests passed/);
    const bad = await cli(['rules', 'test', 'rules'], dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/rules invalid/);
  });

  it('replays a rule over a past window and runs one scheduler pass', async () => {
    const t = Date.now();
    const rows = [
      ...Array.from({ length: 5 }, () => ({
        TimeGenerated: new Date(t).toISOString(),
        UserPrincipalName: 'kim@contoso.com',
        ResultType: '50126',
        IPAddress: '192.0.2.7',
      })),
      {
        TimeGenerated: new Date(t).toISOString(),
        UserPrincipalName: 'kim@contoso.com',
        ResultType: '0',
        IPAddress: '192.0.2.7',
      },
    ];
    writeFileSync(join(dir, 'signins.ndjson'), rows.map((x) => JSON.stringify(x)).join('\n'));
    expect((await cli(['ingest', '--data', data, '--table', 'SigninLogs', 'signins.ndjson'], dir)).code).toBe(0);
    const from = new Date(t - 3600_000).toISOString();
    const to = new Date(Date.now() + 15 * 60_000).toISOString();
    const r = await cli(['rules', 'replay', '--data', data, '--from', from, '--to', to, RULE_ID], dir);
    expect(r.stderr).toMatch(/^5 windows, 1 alerts would have been raised$/m);
    expect(r.stdout).toMatch(/Medium +Brute force against kim@contoso.com \(5 failures\)/);
    // An edited rule file replays without being imported.
    writeFileSync(
      join(dir, 'edited.yaml'),
      readFileSync(FIXTURE, 'utf8').replace('let failures = 5;', 'let failures = 6;'),
    );
    expect(
      (await cli(['rules', 'replay', '--data', data, '--from', from, '--to', to, 'edited.yaml'], dir)).stderr,
    ).toMatch(/5 windows, 0 alerts/);
    const pass = await cli(['rules', 'run', '--data', data], dir);
    expect(pass.code).toBe(0);
    const runs = await cli(['rules', 'runs', '--data', data, '--json'], dir);
    const ledger = runs.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { status: string });
    expect(ledger.length).toBeGreaterThan(0);
    expect(ledger.every((l) => l.status === 'success')).toBe(true);
  });
});
