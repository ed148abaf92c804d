/**
 * Binding of the graph operators (binder/graph.ts): graph schemas through make-graph, pattern variables as tuples
 * of their element's properties, the graph-only functions, Kusto's result names (`n.p` → `n_p`) and the
 * diagnostics of misuse.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze.js';
import { workspaceFromTablesJson } from '../../src/catalog/workspace.js';
import { REPO_ROOT } from '../support/query-set.js';

const workspace = workspaceFromTablesJson(JSON.parse(readFileSync(`${REPO_ROOT}content/schema/tables.json`, 'utf8')));

const DATA = `let nodes = datatable(name:string, age:long)["a", 1];
let edges = datatable(src:string, dst:string, w:real)["a", "b", 1.5];
`;
const G = `${DATA}edges | make-graph src --> dst with nodes on name`;

function schema(q: string): { columns: string; errors: string[] } {
  const a = analyze(q, workspace);
  return {
    columns: (a.columns ?? []).map((c) => `${c.name}:${c.type}`).join(', '),
    errors: a.diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => `${q.slice(d.start, d.start + d.length)}: ${d.message}`),
  };
}

describe('graph binding', () => {
  it('graph-to-table: node and edge schemas, ids first', () => {
    expect(schema(`${G} | graph-to-table nodes with_node_id=Id`)).toEqual({
      columns: 'Id:long, name:string, age:long',
      errors: [],
    });
    expect(schema(`${G} | graph-to-table edges with_source_id=S with_target_id=T`)).toEqual({
      columns: 'S:long, T:long, src:string, dst:string, w:real',
      errors: [],
    });
    expect(
      schema(`${DATA}edges | make-graph src --> dst with_node_id=k | graph-mark-components | graph-to-table nodes`),
    ).toEqual({ columns: 'k:string, ComponentId:long', errors: [] });
  });

  it('graph-match: property types, n_p names, arrays for variable-length edges, graph functions', () => {
    expect(
      schema(
        `${G} | graph-match (x)-[e*1..3]->(y) where x.age > 0 and e.w > 1.0 and all(e, w < 9.0)
          project x.name, ws = e.w, names = map(inner_nodes(e), name), d = node_degree_in(y), n = strcat(y.name, "!")`,
      ),
    ).toEqual({ columns: 'x_name:string, ws:dynamic, names:dynamic, d:long, n:string', errors: [] });
  });

  it('reports unknown properties, graph functions outside patterns, and non-graph inputs', () => {
    expect(schema(`${G} | graph-match (x)-->(y) project x.nope`).errors).toEqual([
      "nope: The name 'nope' does not refer to any known column, table, variable or function.",
    ]);
    expect(schema('print m = map(1, 2)').errors[0]).toMatch(/map: The name 'map' does not refer to any known function/);
    expect(schema(`${DATA}edges | graph-to-table nodes`).errors[0]).toMatch(/expects a graph/);
    expect(schema(`${G} | take 1`).errors[0]).toMatch(/take 1: A graph must be followed by a graph operator/);
    expect(schema(`${G} | graph-match (x)-[e]->(y)-[e]->(z) project x.name`).errors[0]).toMatch(
      /declared more than once/,
    );
  });
});
