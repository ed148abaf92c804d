import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { tempDir } from '../engine/engines.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SAMPLES = join(ROOT, 'fixtures/shared/sample-data');
const BUILT = join(ROOT, 'packages/server/dist/cli/main.js');

async function cli(argv: string[], options: { tty?: boolean } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (b: Buffer) => out.push(b.toString()));
  stderr.on('data', (b: Buffer) => err.push(b.toString()));
  const code = await runCli(argv, { stdout, stderr, stderrIsTTY: options.tty ?? false, cwd: ROOT });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('vigil CLI', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('vigil-cli-'));
  });
  afterAll(async () => cleanup?.());

  it('lists the commands, prints usage, and refuses unknown commands and options', async () => {
    const help = await cli(['help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Commands:\n[\s\S]*\n {2}ingest {2,}Load NDJSON/);
    expect((await cli(['help', 'ingest'])).stdout).toMatch(/^Usage: vigil ingest --data DIR --table TABLE/);
    expect((await cli(['ingest', '--help'])).code).toBe(0);
    expect((await cli(['--version'])).stdout).toMatch(/^vigil \d+\.\d+\.\d+\n$/);
    const unknown = await cli(['frobnicate']);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'.*ingest/);
    const bad = await cli(['ingest', '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--bogus'[\s\S]*Run 'vigil help ingest'/);
  });

  it('usage errors: missing options, unknown table (nothing created), bad format', async () => {
    expect((await cli(['ingest', '--table', 'Syslog', 'x.csv'])).stderr).toMatch(/missing --data/);
    const ws = join(dir, 'never-created');
    const unknown = await cli(['ingest', '--data', ws, '--table', 'signinlogs', 'x.csv']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown table 'signinlogs'; did you mean SigninLogs\?/);
    expect(existsSync(ws)).toBe(false);
    expect((await cli(['ingest', '--data', ws, '--table', 'Syslog', '--format', 'xml', 'x'])).code).toBe(2);
    expect((await cli(['ingest', '--data', ws, '--table', 'Syslog'])).stderr).toMatch(/no FILE/);
  });

  it('ingests sample files, reports on stderr and as JSON on stdout', async () => {
    const ws = join(dir, 'ws1');
    const r = await cli([
      'ingest',
      '--data',
      ws,
      '--table',
      'SigninLogs',
      '--json',
      join(SAMPLES, 'SigninLogs/sentinel-training-sign-in_adelete.csv'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^SigninLogs ← sentinel-training-sign-in_adelete\.csv: 56 of 56 rows loaded in /);
    expect(r.stderr).toMatch(/renamed: .*CreatedDateTime \[UTC\] → CreatedDateTime/);
    expect(r.stderr).toMatch(/not in SigninLogs \(ignored\): AdditionalDetails, InitiatedBy/);
    expect(r.stderr).not.toContain('\r');
    expect(JSON.parse(r.stdout)).toMatchObject({ table: 'SigninLogs', format: 'csv', rowsLoaded: 56, batchId: 1 });
  });

  it('exits 3 when rows are rejected and 1 when a file fails, loading the other files', async () => {
    const ws = join(dir, 'ws2');
    const bad = join(dir, 'bad.ndjson');
    await writeFile(bad, '{"Computer":"a","TimeGenerated":"not a date"}\n{"Computer":"b"}\n');
    const partial = await cli(['ingest', '--data', ws, '--table', 'Syslog', bad], { tty: true });
    expect(partial.code).toBe(3);
    expect(partial.stderr).toContain('\r\x1b[K');
    expect(partial.stderr).toMatch(/1 of 2 rows loaded, 1 rejected/);
    expect(partial.stderr).toMatch(/rejected row 1: TimeGenerated = "not a date" is not a datetime/);
    const failed = await cli([
      'ingest',
      '--data',
      ws,
      '--table',
      'Syslog',
      join(dir, 'missing.json'),
      join(SAMPLES, 'Syslog/msticpy-syslog_data.csv'),
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/missing\.json: cannot read/);
    expect(failed.stderr).toMatch(/100 of 100 rows loaded/);
  });

  it.skipIf(!existsSync(BUILT))('runs as ./vigil from the built dist (skipped until `npm run build`)', async () => {
    const run = promisify(execFile);
    const ws = join(dir, 'ws3');
    const { stdout, stderr } = await run(
      join(ROOT, 'vigil'),
      [
        'ingest',
        '--data',
        ws,
        '--table',
        'Syslog',
        '--json',
        join(SAMPLES, 'Syslog/azure-sentinel-sampledata-CiscoISEEvent.json'),
      ],
      { cwd: ROOT },
    );
    expect(JSON.parse(stdout)).toMatchObject({ rowsLoaded: 31, format: 'json-array' });
    expect(stderr).toMatch(/31 of 31 rows loaded/);
  });

  it.skipIf(!existsSync(BUILT))(
    'says so when another process holds the workspace (skipped until `npm run build`)',
    async () => {
      const ws = join(dir, 'ws4');
      const engine = await openWorkspace(ws);
      try {
        const run = promisify(execFile);
        const failed = await run(
          join(ROOT, 'vigil'),
          ['ingest', '--data', ws, '--table', 'Syslog', join(SAMPLES, 'Syslog/msticpy-syslog_data.csv')],
          { cwd: ROOT },
        ).then(
          () => null,
          (e: { code: number; stderr: string }) => e,
        );
        expect(failed?.code).toBe(1);
        expect(failed?.stderr).toMatch(/is in use by another process/);
      } finally {
        await engine.close();
      }
    },
  );
});
