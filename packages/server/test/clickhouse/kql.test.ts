/**
 * KQL end to end on ClickHouse (chdb): the operators and functions the corpus uses most, each with the rows Kusto
 * returns (the same expectations hold on DuckDB: the cases also run there, so both engines answer alike).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import { runKql } from '../../src/query/query-service.js';
import { workspaceDefinitions } from '../conformance/runner.js';

const CASES: readonly { readonly kql: string; readonly rows: unknown[][] }[] = [
  { kql: 'print x = 1, s = "a", t = 1h', rows: [[1, 'a', '01:00:00']] },
  { kql: 'print d = datetime(2024-01-02 03:04:05.123456)', rows: [['2024-01-02T03:04:05.1234560Z']] },
  { kql: 'print a = 14 % 12, b = -14 % 12, c = 7 / 2, d = 7 / 0', rows: [[2, 10, 3, null]] },
  {
    kql: 'datatable(s:string)["Run powershell.exe -enc abc", "notepowershell", "PowerShell -x"] | where s has "powershell" | order by s asc',
    rows: [['PowerShell -x'], ['Run powershell.exe -enc abc']],
  },
  {
    kql: 'datatable(s:string)["cmd.exe /c", "xcmd.exe", "CMD.EXE"] | where s has "cmd.exe" | count',
    rows: [[2]],
  },
  {
    kql: 'datatable(f:string)["PowerShell.exe", "bash", "pwsh.exe"] | where f in~ ("powershell.exe", "pwsh.exe") | order by f asc',
    rows: [['PowerShell.exe'], ['pwsh.exe']],
  },
  {
    kql: 'datatable(c:string)["a -enc b", "a -EncodedCommand b", "DownloadString(x)"] | where c has_any ("-enc", "DownloadString") | order by c asc',
    rows: [['DownloadString(x)'], ['a -enc b']],
  },
  {
    kql: 'range i from 1 to 10 step 1 | summarize c = count(), s = sum(i), l = make_list(i) by k = i % 3 | order by k asc',
    rows: [
      [0, 3, 18, [3, 6, 9]],
      [1, 4, 22, [1, 4, 7, 10]],
      [2, 3, 15, [2, 5, 8]],
    ],
  },
  {
    kql: 'datatable(k:string, v:long, n:string)["a", 1, "x", "a", 3, "y", "b", 2, "z"] | summarize arg_max(v, n) by k | order by k asc',
    rows: [
      ['a', 3, 'y'],
      ['b', 2, 'z'],
    ],
  },
  {
    kql: 'print j = parse_json(\'{"a":[1,2,{"b":"c"}]}\') | project e = tostring(j.a[2].b), f = j.a[-1], n = array_length(j.a)',
    rows: [['c', { b: 'c' }, 3]],
  },
  { kql: 'datatable(a:dynamic)[dynamic([1,2,3])] | mv-expand a | summarize sum(tolong(a))', rows: [[6]] },
  {
    kql: 'print b = bin(datetime(2024-01-01 13:14:15), 1h), s = startofday(datetime(2024-01-01 13:14:15)), e = extract("id=([0-9]+)", 1, "x id=42 y")',
    rows: [['2024-01-01T13:00:00.0000000Z', '2024-01-01T00:00:00.0000000Z', '42']],
  },
  {
    kql: 'datatable(a:int, b:string)[1, "x", 2, "y"] | join kind=leftouter (datatable(a:int, c:string)[1, "q"]) on a | project a, b, c | order by a asc',
    rows: [
      [1, 'x', 'q'],
      [2, 'y', ''],
    ],
  },
  {
    kql: 'range x from 1 to 4 step 1 | extend p = prev(x), r = row_cumsum(x)',
    rows: [
      [1, null, 1],
      [2, 1, 3],
      [3, 2, 6],
      [4, 3, 10],
    ],
  },
  {
    kql: 'range x from 1 to 10 step 1 | make-series c = count() on x from 0 to 10 step 3',
    rows: [
      [
        [2, 3, 3, 2],
        [0, 3, 6, 9],
      ],
    ],
  },
  // Geo cells (H3 through ClickHouse's h3*, S2 and geohash computed in SQL), documented outputs.
  {
    kql: 'print h3 = geo_point_to_h3cell(-74.04450446039874, 40.689250859314974, 6), s2 = geo_point_to_s2cell(10.1234, 53, 8), gh = geo_point_to_geohash(-80.195829, 25.802215, 8), p = geo_h3cell_parent("862a1072fffffff", 1), c = geo_point_in_circle(-122.143564, 47.535677, -122.100896, 47.527351, 3500)',
    rows: [['862a1072fffffff', '47b1d', 'dhwfz15h', '812a3ffffffffff', true]],
  },
  {
    kql: 'print w = geo_from_wkt("LINESTRING (1 2, 3 4)"), l = round(geo_line_length(dynamic({"type":"LineString","coordinates":[[0,0],[0,1]]})))',
    rows: [
      [
        {
          type: 'LineString',
          coordinates: [
            [1, 2],
            [3, 4],
          ],
        },
        111195,
      ],
    ],
  },
  {
    kql: 'print c = ipv6_compare("fe80::85d:e82c:9446:7994/120", "fe80::85d:e82c:9446:7998"), p = parse_ipv6("192.168.255.255/24"), s = array_sort_asc(dynamic([3, 1, null, 2]))',
    rows: [[0, '0000:0000:0000:0000:0000:ffff:c0a8:ff00', [1, 2, 3, null]]],
  },
  {
    kql: 'range x from 1 to 100 step 1 | summarize p5 = percentile(x, 5), p50 = percentile(x, 50), w = percentilew(x, 101 - x, 50)',
    rows: [[5, 50, 30]],
  },
];

describe.each(['duckdb', 'clickhouse'] as const)('KQL on %s', (kind) => {
  let engine: Engine;
  let dir: string;
  const definitions = workspaceDefinitions();
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `vigil-kql-${kind}-`));
    engine = await openWorkspace(dir, { threads: 2, engine: kind });
  });
  afterAll(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  it.each(CASES)('$kql', async ({ kql, rows }) => {
    const out = await runKql({ engine, definitions }, kql, { nowMs: Date.UTC(2026, 0, 1), timeoutMs: 20_000 });
    expect(out.error).toBeNull();
    const got = await out.result?.rows();
    await out.result?.close();
    expect(got).toEqual(rows);
  });
});
