/**
 * Graph operators end to end on DuckDB (plan/graph.ts): make-graph with node tables or node ids, graph-to-table,
 * graph-match with fixed, reversed, undirected, anonymous and variable-length edges under each `cycles=` rule,
 * graph-shortest-paths, graph-mark-components, graph-where-nodes/edges, and the constructs refused on their span.
 * Expected rows follow Kusto's documented semantics (learn.microsoft.com graph-* pages); the doc examples
 * themselves run in test/conformance.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkspace } from '../../src/engine/workspace.js';
import { runKql } from '../../src/query/query-service.js';
import { workspaceDefinitions } from '../conformance/runner.js';
import { NOW_MS, OperatorRunner } from '../kql/operators-support.js';

let r: OperatorRunner;
beforeAll(async () => {
  r = await OperatorRunner.open();
});
afterAll(async () => {
  await r?.close();
});

/** A small attack graph: who can reach what. */
const ATTACK = `let hosts = datatable(name:string, role:string, crit:long)[
  "laptop1", "workstation", 1,
  "laptop2", "workstation", 1,
  "jump", "server", 2,
  "db", "server", 5,
  "dc", "server", 9,
  "printer", "device", 0];
let access = datatable(src:string, dst:string, via:string)[
  "laptop1", "jump", "rdp",
  "laptop2", "jump", "ssh",
  "jump", "db", "ssh",
  "db", "dc", "smb",
  "jump", "dc", "rdp",
  "dc", "jump", "smb",
  "phish", "laptop1", "mail"];
`;
const G = `${ATTACK}access | make-graph src --> dst with hosts on name`;

const sorted = (rows: readonly (readonly unknown[])[]) =>
  [...rows].map((x) => [...x]).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

describe('make-graph and graph-to-table', () => {
  it('nodes: the node table plus endpoints it lacks (key filled, other properties empty); ids are hash(key)', async () => {
    const res = await r.run(
      `${G} | graph-to-table nodes with_node_id=Id | extend ok = Id == hash(name) | project-away Id`,
    );
    expect(res.columns).toEqual(['name', 'role', 'crit', 'ok']);
    expect(sorted(res.rows)).toEqual(
      sorted([
        ['laptop1', 'workstation', 1, true],
        ['laptop2', 'workstation', 1, true],
        ['jump', 'server', 2, true],
        ['db', 'server', 5, true],
        ['dc', 'server', 9, true],
        ['printer', 'device', 0, true],
        ['phish', '', null, true],
      ]),
    );
  });

  it('edges keep their columns; with_source_id / with_target_id are the endpoint ids', async () => {
    const res = await r.run(
      `${G} | graph-to-table edges with_source_id=S with_target_id=T | where S == hash(src) and T == hash(dst) | count`,
    );
    expect(res.rows).toEqual([[7]]);
  });

  it('several node tables merge by key: one node per key, properties from each table', async () => {
    const res = await r.run(
      `${ATTACK}let owners = datatable(host:string, owner:string)["db", "dba", "db", "dba", "kiosk", "it"];
      access | make-graph src --> dst with hosts on name, owners on host | graph-to-table nodes
      | where name in ("db", "phish") or host == "kiosk" | project name, role, owner, host | sort by name asc`,
    );
    expect(res.columns).toEqual(['name', 'role', 'owner', 'host']);
    // db: one node (its two owner rows and its host row merged); phish: only an endpoint (both keys filled);
    // kiosk: only in the second table.
    expect(res.rows).toEqual([
      ['', '', 'it', 'kiosk'],
      ['db', 'server', 'dba', 'db'],
      ['phish', '', '', 'phish'],
    ]);
  });

  it('with_node_id names the only node property; a graph can be a let value', async () => {
    const rows = await r.rows(
      `${ATTACK}let g = access | make-graph src --> dst with_node_id=host; g | graph-to-table nodes | sort by host asc`,
    );
    expect(rows.map((x) => x[0])).toEqual(['db', 'dc', 'jump', 'laptop1', 'laptop2', 'phish']);
  });
});

describe('graph-match', () => {
  it('fixed edges in both directions and anonymous elements', async () => {
    const out = await r.rows(
      `${G} | graph-match (a)-[e]->(j)<--(b) where j.name == "jump" and strcmp(a.name, b.name) < 0 and e.via == "rdp" project a.name, b.name`,
    );
    expect(sorted(out)).toEqual(sorted([['laptop1', 'laptop2']]));
    // An undirected edge matches either way round.
    const any = await r.rows(`${G} | graph-match (x)-[e]-(y) where x.name == "jump" project y.name, e.via`);
    expect(sorted(any)).toEqual(
      sorted([
        ['laptop1', 'rdp'],
        ['laptop2', 'ssh'],
        ['db', 'ssh'],
        ['dc', 'rdp'],
        ['dc', 'smb'],
      ]),
    );
  });

  it('variable-length edges: a where constraint on the edge holds for each hop; its properties project as arrays', async () => {
    const q = (constraint: string) =>
      `${G} | graph-match (s)-[p*1..3]->(t) where s.name == "laptop1" and t.name == "dc" and ${constraint}
        project hops = array_length(p.via), via = p.via, inner = map(inner_nodes(p), name)`;
    expect(sorted(await r.rows(q('p.via != "mail"')))).toEqual(
      sorted([
        [2, ['rdp', 'rdp'], ['jump']],
        [3, ['rdp', 'ssh', 'smb'], ['jump', 'db']],
      ]),
    );
    expect(await r.rows(q('p.via != "smb"'))).toEqual([[2, ['rdp', 'rdp'], ['jump']]]);
  });

  it('zero-length and reversed variable-length edges', async () => {
    const g = 'datatable(s:string, d:string)["a","b","b","c"] | make-graph s --> d with_node_id=n';
    expect(
      await r.rows(
        `${g} | graph-match (x)-[e*0..2]->(y) where x.n == "a" project y.n, k = array_length(e.s) | sort by k asc`,
      ),
    ).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ]);
    expect(
      await r.rows(
        `${g} | graph-match (x)<-[e*1..2]-(y) where x.n == "c" project y.n, inner = map(inner_nodes(e), n) | sort by y_n desc`,
      ),
    ).toEqual([
      ['b', []],
      ['a', ['b']],
    ]);
  });

  it('cycles: unique_edges (default) never reuses an edge, none never revisits a node, all allows both', async () => {
    const q = (cycles: string) =>
      `${G} | graph-match ${cycles} (s)-[p*1..4]->(t) where s.name == "jump" and t.name == "jump" project n = array_length(p.via) | summarize c = count() by n | sort by n asc`;
    // jump→dc→jump (2 hops), jump→db→dc→jump (3 hops); with all, jump→dc→jump→dc→jump (4) and the 4-hop mix too.
    expect(await r.rows(q(''))).toEqual([
      [2, 1],
      [3, 1],
    ]);
    expect(await r.rows(q('cycles=none'))).toEqual([]);
    expect(await r.rows(q('cycles=all'))).toEqual([
      [2, 1],
      [3, 1],
      [4, 1],
    ]);
  });

  it('all() / any() over the hops and the inner nodes; node degrees count the whole graph', async () => {
    const out = await r.rows(
      `${G} | graph-match (s)-[p*1..3]->(t) where s.name == "laptop2" and t.name == "dc"
        and all(inner_nodes(p), role == "server") and any(p, via == "smb")
        project route = strcat_array(map(inner_nodes(p), name), ">"), din = node_degree_in(t), dout = node_degree_out(t)`,
    );
    expect(out).toEqual([['jump>db', 2, 1]]);
  });

  it('several sequences sharing a node, and later operators on the result', async () => {
    const out = await r.rows(
      `${G} | graph-match (a)-->(j)-->(d), (j)-->(c) where d.name == "db" and c.name == "dc" project a = a.name
        | sort by a asc`,
    );
    expect(out).toEqual([['dc'], ['laptop1'], ['laptop2']]);
  });
});

describe('graph-shortest-paths', () => {
  const METRO = `let c = datatable(f:string, t:string, line:string)[
    "A","B","red", "B","C","red", "C","D","red",
    "A","X","blue", "X","D","blue", "A","Y","green", "Y","D","green", "D","E","red"];
  c | make-graph f --> t with_node_id=n`;

  it('keeps one path of fewest hops per pair (output=any: the first by edge order)', async () => {
    const out = await r.rows(
      `${METRO} | graph-shortest-paths (s)-[e*1..5]->(d) where s.n == "A" and d.n in ("D", "E")
        project d.n, lines = e.line | sort by d_n asc`,
    );
    expect(out).toEqual([
      ['D', ['blue', 'blue']],
      ['E', ['blue', 'blue', 'red']],
    ]);
  });

  it('output=all keeps every path of that length; where filters before choosing', async () => {
    const all = await r.rows(
      `${METRO} | graph-shortest-paths output=all (s)-[e*1..5]->(d) where s.n == "A" and d.n == "D" project l = tostring(e.line) | sort by l asc`,
    );
    expect(all).toEqual([['["blue","blue"]'], ['["green","green"]']]);
    const red = await r.rows(
      `${METRO} | graph-shortest-paths (s)-[e*1..5]->(d) where s.n == "A" and d.n == "D" and e.line == "red" project array_length(e.line)`,
    );
    expect(red).toEqual([[3]]);
  });
});

describe('graph-mark-components and graph-where', () => {
  it('weak components numbered in order of first mention; a long chain still converges', async () => {
    const out = await r.rows(
      `${ATTACK}access | make-graph src --> dst with hosts on name | graph-mark-components with_component_id = comp
        | graph-to-table nodes | summarize names = make_set(name) by comp | extend n = array_length(names) | project comp, n | sort by comp asc`,
    );
    // Everything but the printer is one component (the printer is only in the node table).
    expect(out).toEqual([
      [0, 6],
      [1, 1],
    ]);
    const chain = await r.rows(
      'range i from 1 to 300 step 1 | project a = i, b = i + 1 | make-graph a --> b with_node_id=v | graph-mark-components | graph-to-table nodes | summarize dcount(ComponentId), count()',
    );
    expect(chain).toEqual([[1, 301]]);
  });

  it('long cycles (a permutation graph) agree with a union-find', async () => {
    const N = 3000;
    const parent = Array.from({ length: N }, (_, i) => i);
    const find = (x: number): number => {
      let y = x;
      while (parent[y] !== y) y = parent[y] as number;
      return y;
    };
    for (let i = 1; i <= N; i++) parent[find((i * 48271) % N)] = find((i * 7919 + 13) % N);
    const expected = new Set(Array.from({ length: N }, (_, i) => find(i))).size;
    const out = await r.rows(
      `range i from 1 to ${N} step 1 | project s = (i * 48271) % ${N}, d = (i * 7919 + 13) % ${N} | make-graph s --> d with_node_id=v | graph-mark-components | graph-to-table nodes | summarize c = count_distinct(ComponentId), n = count()`,
    );
    expect(out).toEqual([[expected, N]]);
  });

  it('graph-where-edges drops edges; graph-where-nodes drops nodes and their edges', async () => {
    const e = await r.rows(
      `${G} | graph-where-edges via == "rdp" | graph-to-table edges | project src, dst | sort by src asc`,
    );
    expect(e).toEqual([
      ['jump', 'dc'],
      ['laptop1', 'jump'],
    ]);
    const n = await r.rows(`${G} | graph-where-nodes name != "jump" | graph-to-table edges | count`);
    // db → dc and phish → laptop1 remain.
    expect(n).toEqual([[2]]);
  });
});

describe('refused graph constructs', () => {
  it('are diagnostics on their span', async () => {
    expect(await r.refusal(`${G} | graph-to-table nodes as N, edges as E`)).toMatchObject({
      at: 'graph-to-table nodes as N, edges as E',
    });
    expect((await r.refusal(`${G} | graph-match (a)-[e*1..40]->(b) project a.name`))?.message).toMatch(/16 hops/);
    expect((await r.refusal(G))?.message).toMatch(/A graph as the query result/);
    expect((await r.refusal(`${G} | graph-match (a)-->(b), (c)-->(d) project a.name`))?.message).toMatch(
      /share no node/,
    );
  });
});

describe('on ClickHouse (chdb)', () => {
  it('runs graph-match and shortest paths (joins and unions only); refuses graph-mark-components with a diagnostic', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-graph-ch-'));
    const engine = await openWorkspace(dir, { threads: 1, engine: 'clickhouse' });
    try {
      const ctx = { engine, definitions: workspaceDefinitions() };
      const run = async (q: string) => {
        const out = await runKql(ctx, q, { nowMs: NOW_MS, timeoutMs: 20_000 });
        try {
          return { error: out.error?.message ?? null, rows: out.result ? await out.result.rows() : [] };
        } finally {
          await out.result?.close();
        }
      };
      const paths = await run(
        `${G} | graph-match (s)-[p*1..3]->(t) where s.name == "laptop2" and t.name == "dc" project v = strcat_array(p.via, ",") | sort by v asc`,
      );
      expect(paths).toEqual({ error: null, rows: [['ssh,rdp'], ['ssh,ssh,smb']] });
      const comp = await run(`${G} | graph-mark-components | graph-to-table nodes`);
      expect(comp.error).toMatch(/graph-mark-components on this engine/);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
