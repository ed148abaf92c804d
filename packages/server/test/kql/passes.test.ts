/**
 * The plan passes keep results: each query runs on real DuckDB compiled with the passes (as compile() does by
 * default) and without them, over the same small tables, and both results must be the same rows (in order where
 * the query orders). A few cases also check values Kusto's semantics fix, at the exact edges the passes touch
 * (time bounds, join kinds, union legs). Pass-level unit tests are in packages/kql/test/plan/passes.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StorageNaming } from '@vigil/kql';
import { compile, duckdb } from '@vigil/kql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, TableDefinition } from '../../src/engine/engine.js';
import type { KqlValue } from '../../src/engine/values.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { compilerWorkspace } from '../../src/query/query-service.js';

const NOW_MS = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

const definitions: TableDefinition[] = [
  {
    name: 'Events',
    columns: [
      { name: 'Timestamp', type: 'datetime' },
      { name: 'Host', type: 'string' },
      { name: 'User', type: 'string' },
      { name: 'Cmd', type: 'string' },
      { name: 'Bytes', type: 'long' },
      { name: 'Tags', type: 'dynamic' },
    ],
  },
  {
    name: 'Logons',
    columns: [
      { name: 'TimeGenerated', type: 'datetime' },
      { name: 'User', type: 'string' },
      { name: 'Ip', type: 'string' },
      { name: 'Result', type: 'string' },
    ],
  },
];

/** 240 events, one every 12 minutes over the 48 hours before now (one exactly at now - 1h). */
const EVENTS = Array.from({ length: 240 }, (_, i) => ({
  Timestamp: new Date(NOW_MS - (240 - i) * 12 * 60_000).toISOString(),
  Host: `host-${i % 7}`,
  User: i % 5 === 0 ? '' : `user${i % 11}`,
  Cmd: [
    'powershell.exe -enc SQBFAFgA',
    'cmd.exe /c whoami',
    'powershell -EncodedCommand SQBFAFgA',
    'curl https://example.com/a.ps1',
    'svchost.exe -k netsvcs',
  ][i % 5],
  Bytes: i % 13 === 0 ? null : i * 100,
  Tags: i % 3 === 0 ? ['a', 'b'] : i % 3 === 1 ? ['c'] : [],
}));
const LOGONS = Array.from({ length: 60 }, (_, i) => ({
  TimeGenerated: new Date(NOW_MS - (60 - i) * 40 * 60_000).toISOString(),
  User: `user${i % 13}`,
  Ip: `10.0.0.${i % 9}`,
  Result: i % 4 === 0 ? 'failure' : 'success',
}));

let dir: string;
let engine: Engine;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-passes-'));
  engine = await openWorkspace(join(dir, 'ws'), { threads: 1 });
  for (const [def, rows] of [
    [definitions[0], EVENTS],
    [definitions[1], LOGONS],
  ] as const) {
    if (!def) continue;
    await engine.ensureTable(def);
    const file = join(dir, `${def.name}.ndjson`);
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    const report = await engine.loadFile(def.name, file);
    expect(report.rowsLoaded).toBe(rows.length);
  }
});

afterAll(async () => {
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function storage(): StorageNaming {
  return {
    table: (t) => engine.storage(t)?.storageName ?? t,
    column: (t, c) => engine.storage(t)?.columns.find((x) => x.name === c)?.storageName ?? c,
  };
}

async function run(text: string, optimize: boolean): Promise<{ columns: string[]; rows: KqlValue[][] }> {
  const compiled = compile(text, compilerWorkspace({ engine, definitions }), {
    dialect: duckdb,
    storage: storage(),
    nowMs: NOW_MS,
    optimize,
  });
  if (!compiled.ok || !compiled.sql) {
    throw new Error(`${text}: ${compiled.diagnostics.map((d) => d.message).join('; ')}`);
  }
  const result = await engine.execute(compiled.sql, {
    columns: compiled.columns.map((c) => ({ name: c.name, type: c.type })),
  });
  return { columns: result.columns.map((c) => `${c.name}:${c.type}`), rows: result.rows.map((r) => [...r]) };
}

/** Same columns and rows with and without the passes; returns the optimized result. */
async function same(text: string, ordered = false): Promise<KqlValue[][]> {
  // Without the passes first: an error there is the generator's or the dialect's, not the passes'.
  const off = await run(text, false).catch((e: Error) => {
    throw new Error(`without passes: ${e.message}`);
  });
  const on = await run(text, true).catch((e: Error) => {
    throw new Error(`with passes: ${e.message}`);
  });
  expect(on.columns, text).toEqual(off.columns);
  const key = (rows: KqlValue[][]) => {
    const texts = rows.map((r) => JSON.stringify(r));
    return ordered ? texts : texts.sort();
  };
  expect(key(on.rows), text).toEqual(key(off.rows));
  return on.rows;
}

describe('plan passes keep results (DuckDB, passes on vs off)', () => {
  const unordered = [
    // folding
    'Events | where Timestamp > ago(6h) and Timestamp <= now() - 1h | project Timestamp, Host',
    'Events | extend w = datetime(2025-12-31) + 7d, s = strcat("a", "-", "b"), b = bin(datetime(2025-12-31 10:17), 1h) | project w, s, b, Host',
    'Events | where Timestamp between (ago(3h) .. 1h) | count',
    'Events | where true and Bytes > 1000 | where 1 == 1 | count',
    // pushdown: projections, sort, summarize keys, mv-expand
    'Events | project-rename H = Host | where H == "host-3" | project H, Bytes',
    'Events | extend KB = Bytes / 1024 | where KB > 1 and Host != "host-1" | project Host, KB',
    'Events | summarize n = count(), total = sum(Bytes) by Host, User | where Host == "host-2" and n > 1',
    'Events | summarize n = count() by bucket = bin(Timestamp, 6h), Host | where bucket > ago(12h)',
    'Events | mv-expand Tags | where Host == "host-4" and tostring(Tags) == "a" | project Host, Tags, Bytes',
    'Events | distinct Host, User | where User != ""',
    // joins of every kind with filters on each side
    'Events | join kind=inner (Logons) on User | where Result == "failure" and Host == "host-1" | project Host, User, Ip',
    'Events | join kind=leftouter (Logons) on User | where Host == "host-2" and Ip == "" | project Host, User, Ip',
    'Events | join kind=leftouter (Logons) on User | where Host == "host-2" and Result == "success" | project Host, User, Result',
    'Events | join kind=rightouter (Logons) on User | where Result == "failure" and Host == "" | project User1, Ip',
    'Events | join kind=fullouter (Logons) on User | where Host == "host-0" or Ip == "10.0.0.1" | count',
    'Events | join kind=leftsemi (Logons | where Result == "failure") on User | where Host == "host-5" | project Host, User',
    'Events | join kind=leftanti (Logons) on User | where Bytes > 100 | project Host, User',
    'Events | join kind=rightsemi (Logons) on User | where Result == "failure" | count',
    'Events | join kind=rightanti (Logons) on User | project User, Ip',
    'Events | summarize arg_max(Timestamp, Host) by User | join kind=inner (Logons) on User | where Ip == "10.0.0.3"',
    'Events | lookup (Logons | summarize Last = max(TimeGenerated) by User) on User | where Host == "host-6" | project Host, User, Last',
    // unions
    'union withsource=Source Events, Logons | where User == "user3" and Source == "Logons" | project Source, User, Ip',
    'union Events, Logons | where Host == "" and User == "user4" | project User, Ip, Host',
    'union (Events | project T = Timestamp, U = User), (Logons | project T = TimeGenerated, U = User) | where T > ago(2h) and U != ""',
    // lets, materialize, sub-queries
    'let Recent = Events | where Timestamp > ago(12h) | project Timestamp, Host, User; Recent | where Host == "host-0" | join kind=inner (Recent | where Host == "host-1") on User | project User, Host, Host1',
    'let X = materialize(Events | where Bytes > 5000); X | union X | where Host == "host-3" | count',
    'Events | where Bytes > toscalar(Events | where Timestamp > ago(1d) | summarize avg(Bytes)) | project Host, Bytes',
    'Events | where User in ((Logons | where Result == "failure" | project User, Ip)) | project Host, User',
    // pruning: wide reads, unused extends and aggregates, keys-only summarize, count
    'Events | extend x = strlen(Cmd), y = Bytes * 2 | summarize n = count(), s = sum(y), m = max(x) by Host | project Host, n',
    'Events | summarize n = count(), s = sum(Bytes) | project k = 1',
    'Events | count',
    'Events | where Cmd has_any ("-enc", "whoami") and Timestamp > ago(1d) | project Host, Cmd',
  ];
  for (const q of unordered) {
    it(q, async () => {
      await same(q);
    });
  }

  const ordered = [
    'Events | where Timestamp > ago(24h) | summarize n = count() by Host | sort by n desc, Host asc | take 3',
    'Events | sort by Timestamp asc | where Host == "host-2" | project Timestamp, Host | take 5',
    'Events | sort by Timestamp asc | extend r = row_number() | where Host == "host-2" | project r, Host',
    'Events | sort by Timestamp asc | where prev(Host) == "host-1" | where Bytes > 0 | project Timestamp, Host',
    'Events | top 10 by Bytes desc nulls last | where User != "" | project Bytes, User',
  ];
  for (const q of ordered) {
    it(q, async () => {
      await same(q, true);
    });
  }
});

describe('values at the edges the passes touch', () => {
  it('keeps Kusto’s strict and inclusive time bounds (an event sits exactly at now - 1h)', async () => {
    const count = async (q: string) => Number((await same(q))[0]?.[0]);
    const since = (ms: number) => EVENTS.filter((e) => Date.parse(e.Timestamp) > ms).length;
    const atOrSince = (ms: number) => EVENTS.filter((e) => Date.parse(e.Timestamp) >= ms).length;
    expect(await count('Events | where Timestamp > ago(1h) | count')).toBe(since(NOW_MS - HOUR));
    expect(await count('Events | where Timestamp >= ago(1h) | count')).toBe(atOrSince(NOW_MS - HOUR));
    expect(await count('Events | where Timestamp >= ago(1h) | count')).toBe(since(NOW_MS - HOUR) + 1);
    const inside = atOrSince(NOW_MS - 2 * HOUR) - since(NOW_MS - HOUR);
    expect(inside).toBe(6);
    expect(await count('Events | where Timestamp between (ago(2h) .. ago(1h)) | count')).toBe(inside);
    expect(await count('Events | where Timestamp !between (ago(2h) .. ago(1h)) | count')).toBe(240 - inside);
  });

  it('a leftouter filter on the right side keeps unmatched rows out, as Kusto does', async () => {
    const rows = await same('Events | join kind=leftouter (Logons) on User | where Ip == "" | summarize n = count()');
    // Unmatched left rows have Ip == "" (strings are never null); matched rows never do.
    const users = new Set(LOGONS.map((l) => l.User));
    expect(Number(rows[0]?.[0])).toBe(EVENTS.filter((e) => !users.has(e.User)).length);
  });

  it('a union leg whose name does not match contributes nothing', async () => {
    const rows = await same('union withsource=S Events, Logons | where S == "Events" | count');
    expect(Number(rows[0]?.[0])).toBe(EVENTS.length);
  });
});
