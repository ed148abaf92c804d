/**
 * `vigil serve` as a real process (the built CLI, `packages/server/dist`; `npm test` builds first): it prints where
 * it listens, stops cleanly on SIGTERM, and a 2xx answer survives `kill -9`. The durability test loads the server
 * from concurrent clients, kills it with SIGKILL several times at random moments (bounded count and time), restarts
 * it, retries every batch that got no answer with its batch id, and then counts: every acknowledged row present
 * exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kql, ndjson, post, tempDir } from './helpers.js';

const MAIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;

interface Child {
  readonly process: ChildProcess;
  readonly url: string;
  readonly stderr: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function serve(dir: string): Promise<Child> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--data', dir, '--port', '0', '--threads', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    void exited.then(({ code }) => reject(new Error(`vigil serve exited with ${code}: ${stderr.join('')}`)));
  });
  return { process: child, url, stderr, exited };
}

const dirs: string[] = [];
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`build first (npm run build): ${MAIN} is missing`);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('vigil serve', () => {
  it('prints where it listens, serves, and on SIGTERM commits and exits 0', async () => {
    const dir = await tempDir('vigil-serve-');
    dirs.push(dir);
    const s = await serve(dir);
    children.push(s.process);
    expect(s.stderr.join('')).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    const r = await post(s.url, '/api/ingest/Syslog', ndjson([{ Computer: 'cli', SyslogMessage: 'hello' }]));
    expect(r.status).toBe(200);
    s.process.kill('SIGTERM');
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(s.stderr.join('')).toMatch(/SIGTERM: committing pending batches and closing[\s\S]*stopped/);
    const again = await serve(dir);
    children.push(again.process);
    expect(await kql(again.url, 'Syslog | where Computer == "cli" | project SyslogMessage')).toEqual([['hello']]);
    again.process.kill('SIGINT');
    expect((await again.exited).code).toBe(0);
  });
});

describe('durability: a 2xx answer survives kill -9', () => {
  it('every acknowledged row is present exactly once after repeated SIGKILLs and retries', async ({ annotate }) => {
    const dir = await tempDir('vigil-kill9-');
    dirs.push(dir);
    const KILLS = 4;
    const WRITERS = 4;
    const ROWS = 200;
    const deadline = Date.now() + 40_000;
    const random = (() => {
      let s = 12345;
      return () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return s / 2 ** 32;
      };
    })();
    const batch = (id: string) =>
      ndjson(Array.from({ length: ROWS }, (_, i) => ({ Computer: id, SyslogMessage: `${id}-r${i}`, ProcessID: i })));

    const acknowledged = new Set<string>();
    /** Batches whose retry found them already committed (the answer was lost with the process). */
    let recovered = 0;
    /** Sent, no answer (the server died): must be retried with the same batch id. */
    const uncertain = new Set<string>();
    let next = 0;
    let server = await serve(dir);
    children.push(server.process);
    let alive = true;

    const send = async (url: string, id: string): Promise<boolean> => {
      try {
        const r = await post(url, '/api/ingest/Syslog', batch(id), { 'x-ms-client-request-id': id });
        if (r.status === 200) {
          if ((r.json as { duplicate?: boolean }).duplicate) recovered++;
          acknowledged.add(id);
          uncertain.delete(id);
          return true;
        }
        if (r.status !== 503 && r.status !== 429) throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.json)}`);
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('unexpected')) throw e;
      }
      uncertain.add(id);
      return false;
    };

    const writer = async () => {
      while (alive) {
        const url = server.url;
        const id = `b${next++}`;
        if (!(await send(url, id))) await new Promise((r) => setTimeout(r, 20));
      }
    };

    for (let kill = 0; kill < KILLS && Date.now() < deadline; kill++) {
      alive = true;
      const writers = Array.from({ length: WRITERS }, () => writer());
      await new Promise((r) => setTimeout(r, 300 + random() * 700));
      server.process.kill('SIGKILL');
      expect((await server.exited).signal).toBe('SIGKILL');
      alive = false;
      await Promise.all(writers);
      server = await serve(dir);
      children.push(server.process);
    }
    // Retry every batch that got no answer until it is acknowledged (the first attempt may or may not have been
    // committed before the kill: the batch id decides).
    const retried = uncertain.size;
    for (const id of [...uncertain]) {
      expect(await send(server.url, id)).toBe(true);
    }
    expect(acknowledged.size).toBeGreaterThan(KILLS);
    const perBatch = await kql(server.url, 'Syslog | summarize n = count(), d = dcount(SyslogMessage) by Computer');
    const counts = new Map(perBatch.map((r) => [String(r[0]), Number(r[1])]));
    expect([...counts.keys()].sort()).toEqual([...acknowledged].sort());
    expect([...counts.values()].every((n) => n === ROWS)).toBe(true);
    const duplicates = await kql(server.url, 'Syslog | summarize n = count() by SyslogMessage | where n > 1 | count');
    expect(duplicates).toEqual([[0]]);
    await annotate(
      `${acknowledged.size} batches of ${ROWS} rows acknowledged across ${KILLS} kills; ${retried} retried after a ` +
        `restart, of which ${recovered} had been committed before the kill`,
    );
    server.process.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });
});
