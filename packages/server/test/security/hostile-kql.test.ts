/**
 * No KQL text can reach the file system, the network or foreign SQL. Hostile queries either run with their text
 * treated as data (quotes, comments, SQL fragments, unicode tricks come back unchanged) or are refused with a KQL
 * diagnostic; afterwards the workspace is intact. The engine's own lock-down (no external access, locked
 * configuration) is tested in test/engine; this suite attacks through the compiler.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { runKql } from '../../src/query/query-service.js';
import { workspaceDefinitions } from '../conformance/runner.js';

const definitions = workspaceDefinitions();
let engine: Engine;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-hostile-'));
  engine = await openWorkspace(dir, { threads: 1 });
  await engine.ensureTable(definitions.find((d) => d.name === 'SigninLogs') as (typeof definitions)[number]);
});
afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(query: string) {
  const out = await runKql({ engine, definitions }, query, { timeoutMs: 20_000 });
  if (!out.result) return { ok: false as const, error: out.error, diagnostics: out.diagnostics };
  try {
    return { ok: true as const, columns: out.result.columns, rows: await out.result.rows() };
  } finally {
    await out.result.close();
  }
}

const PAYLOADS = [
  `'); DROP TABLE "SigninLogs"; --`,
  `"; DROP TABLE SigninLogs; --`,
  `' OR 1=1 --`,
  `/* comment */ SELECT * FROM read_csv('/etc/passwd') -- `,
  `\\'; COPY (SELECT 1) TO '/tmp/pwned.csv'; --`,
  `$$ ATTACH '/tmp/x.db' $$`,
  `\u0000NUL inside`,
  `right-to-left \u202e override`,
  `emoji 🔥 and combining é and \uFEFF BOM`,
  `'''' double '' quotes`,
];

describe('hostile KQL through the compiler', () => {
  it.each(PAYLOADS)('treats %j as data in string literals', async (payload) => {
    const literal = JSON.stringify(payload); // a valid KQL "..." literal with \-escapes
    const r = await run(`print s = ${literal} | extend n = strlen(s), u = toupper(s)`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.rows[0]?.[0]).toBe(payload);
    expect(r.rows[0]?.[1]).toBe([...payload].length);
  });

  it.each(PAYLOADS.filter((p) => !p.includes('\u0000')))('treats %j as data in identifiers', async (payload) => {
    const name = `['${payload.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
    const r = await run(`datatable(${name}: string)["v"] | extend ${name.replace(/']$/, "2']")} = 1`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.columns.map((c) => c.name)).toEqual([payload, `${payload}2`]);
  });

  it('keeps case-distinct column names apart', async () => {
    const r = await run('print a = 1, A = 2, ["a b"] = 3 | project A, a');
    expect(r.ok && r.rows).toEqual([[2, 1]]);
  });

  it.each([
    [`print read_csv('/etc/passwd')`, 'KQL0203'],
    [`print x = read_text('/etc/passwd')`, 'KQL0203'],
    [`SigninLogs | evaluate read_json('/etc/passwd')`, 'KQL0207'],
    [`print x = glob('/etc/*')`, 'KQL0203'],
    [`print x = getenv('HOME')`, 'KQL0203'],
    [`table('/etc/passwd')`, 'KQL0202'],
    [`externaldata (line:string) [@'/etc/passwd'] with (format='txt')`, 'KQL0901'],
    [`externaldata (line:string) [h@'https://example.com/x.csv']`, 'KQL0901'],
    [`SigninLogs | evaluate sql_request('Server=x', 'select 1')`, 'KQL0901'],
    [`SigninLogs | evaluate http_request('http://169.254.169.254/')`, 'KQL0901'],
  ])('refuses %s with a diagnostic', async (query, code) => {
    const r = await run(query);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const codes = r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
    expect(codes).toContain(code);
  });

  it('does not interpret regex or JSON text as SQL', async () => {
    const r = await run(
      `print a = extract("([^']+)'\\\\);", 1, "x');"), b = parse_json('{"k":"\\'); DROP TABLE t; --"}').k, c = "a" matches regex "'.*"`,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.rows[0]).toEqual(['x', "'); DROP TABLE t; --", false]);
  });

  it('leaves the workspace intact', async () => {
    const r = await run('SigninLogs | count');
    expect(r.ok && r.rows).toEqual([[0]]);
    expect(engine.storage('SigninLogs')).toBeDefined();
  });
});
