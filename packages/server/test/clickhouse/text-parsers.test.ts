/**
 * parse_command_line on ClickHouse gives DuckDB's arguments (Windows quoting and backslash rules), and parse_xml is
 * refused on ClickHouse with a diagnostic on the call (ClickHouse SQL has no XML parser; see functions-xml.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { runKql } from '../../src/query/query-service.js';
import { workspaceDefinitions } from '../conformance/runner.js';

const LINES = [
  'a b',
  '"a b" c',
  'a\\"b c',
  'a\\\\"b c" d',
  '  x   y  ',
  'é "ü x" \\\\\\"z',
  'cmd.exe /c "C:\\Program Files\\x.exe" -a\tb',
  'a\\\\\\\\"b"',
  'powershell -enc "SQBFAFgA"',
];
/** What CommandLineToArgvW gives for each line (2n backslashes + quote: n backslashes and a quote toggle). */
const ARGS = [
  ['a', 'b'],
  ['a b', 'c'],
  ['a"b', 'c'],
  ['a\\b c', 'd'],
  ['x', 'y'],
  ['é', 'ü x', '\\"z'],
  ['cmd.exe', '/c', 'C:\\Program Files\\x.exe', '-a', 'b'],
  ['a\\\\b'],
  ['powershell', '-enc', 'SQBFAFgA'],
];
const literal = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\t/g, '\\t')}'`;

describe('text parsers on ClickHouse', () => {
  const definitions = workspaceDefinitions();
  const engines: Partial<Record<'duckdb' | 'clickhouse', Engine>> = {};
  const dirs: string[] = [];
  beforeAll(async () => {
    for (const kind of ['duckdb', 'clickhouse'] as const) {
      const dir = mkdtempSync(join(tmpdir(), `vigil-text-${kind}-`));
      dirs.push(dir);
      engines[kind] = await openWorkspace(dir, { threads: 2, engine: kind });
    }
  });
  afterAll(async () => {
    for (const e of Object.values(engines)) await e?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.each(['duckdb', 'clickhouse'] as const)('parse_command_line on %s', async (kind) => {
    const kql = `datatable(i:long, s:string)[${LINES.map((l, i) => `${i}, ${literal(l)}`).join(', ')}] | extend p = parse_command_line(s, "windows") | order by i asc | project s, p`;
    const out = await runKql({ engine: engines[kind] as Engine, definitions }, kql, {
      nowMs: Date.UTC(2026, 0, 1),
      timeoutMs: 30_000,
    });
    expect(out.error).toBeNull();
    const rows = (await out.result?.rows()) ?? [];
    await out.result?.close();
    expect(rows).toEqual(LINES.map((l, i) => [l, ARGS[i]]));
  });

  it('parse_xml is refused on ClickHouse with a diagnostic on the call', async () => {
    const kql = 'print x = parse_xml("<a>1</a>")';
    const out = await runKql({ engine: engines.clickhouse as Engine, definitions }, kql, {
      nowMs: Date.UTC(2026, 0, 1),
      timeoutMs: 30_000,
    });
    expect(out.error?.code).toBe('compile');
    expect(out.error?.message).toContain('ClickHouse SQL has no XML parser');
    const d = out.compiled.diagnostics.find((x) => x.severity === 'error');
    expect(d && kql.slice(d.start, d.start + d.length)).toBe('parse_xml("<a>1</a>")');
  });
});
