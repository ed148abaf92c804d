/**
 * The attack-story layout: alerts in the middle column in time order; entities in columns by kind (identities on
 * the left, devices and what runs on them next, network and content on the right), each column ordered by the
 * mean position of the alerts it touches (barycentre heuristic: few crossing edges). Pure: positions in px.
 */
import type { GraphNode, IncidentGraph } from '../api/types.js';

export interface PlacedNode {
  readonly node: GraphNode;
  readonly x: number;
  readonly y: number;
  readonly column: number;
}

export interface GraphLayout {
  readonly nodes: readonly PlacedNode[];
  readonly edges: readonly { readonly from: PlacedNode; readonly to: PlacedNode }[];
  readonly width: number;
  readonly height: number;
  readonly columns: readonly { readonly title: string; readonly x: number }[];
}

/** Entity type → column (alerts are column 2). */
const ENTITY_COLUMN: Readonly<Record<string, number>> = {
  account: 0,
  mailbox: 0,
  'cloud-application': 0,
  cloudapplication: 0,
  host: 1,
  process: 1,
  file: 1,
  filehash: 1,
  registrykey: 1,
  registryvalue: 1,
  ip: 3,
  url: 3,
  dns: 3,
  'mail-message': 3,
  mailmessage: 3,
  azureresource: 3,
};

const TITLES = ['Identities', 'Devices & files', 'Alerts', 'Network & mail'];

export function entityColumn(type: string): number {
  return ENTITY_COLUMN[type.toLowerCase()] ?? 3;
}

export function layoutGraph(
  graph: IncidentGraph,
  alertOrder: ReadonlyMap<string, number>,
  options: { width?: number; rowHeight?: number; top?: number; margin?: number } = {},
): GraphLayout {
  const width = options.width ?? 1100;
  const rowHeight = options.rowHeight ?? 64;
  const top = options.top ?? 48;
  const margin = options.margin ?? 100;
  const cols: GraphNode[][] = [[], [], [], []];
  for (const n of graph.nodes) cols[n.kind === 'alert' ? 2 : entityColumn(n.type)]!.push(n);
  // Only columns with nodes take space, spread between the margins (half a node wide: nothing is cut at the edges).
  const present = cols.map((c, i) => (c.length > 0 ? i : -1)).filter((i) => i >= 0);
  const columnX: number[] = [0, 0, 0, 0];
  present.forEach((c, k) => {
    columnX[c] =
      present.length === 1
        ? Math.round(width / 2)
        : Math.round(margin + (k * (width - 2 * margin)) / (present.length - 1));
  });

  cols[2]!.sort(
    (a, b) =>
      (alertOrder.get(a.id) ?? Number.MAX_SAFE_INTEGER) - (alertOrder.get(b.id) ?? Number.MAX_SAFE_INTEGER) ||
      a.label.localeCompare(b.label),
  );
  const alertIndex = new Map(cols[2]!.map((n, i) => [n.id, i]));
  const neighbours = new Map<string, string[]>();
  for (const e of graph.edges) {
    neighbours.set(e.from, [...(neighbours.get(e.from) ?? []), e.to]);
    neighbours.set(e.to, [...(neighbours.get(e.to) ?? []), e.from]);
  }
  const centre = (id: string) => {
    const idx = (neighbours.get(id) ?? []).map((n) => alertIndex.get(n)).filter((i): i is number => i !== undefined);
    return idx.length ? idx.reduce((s, i) => s + i, 0) / idx.length : Number.MAX_SAFE_INTEGER;
  };
  for (const c of [0, 1, 3]) cols[c]!.sort((a, b) => centre(a.id) - centre(b.id) || a.label.localeCompare(b.label));

  const tallest = Math.max(1, ...cols.map((c) => c.length));
  const height = top + tallest * rowHeight + 16;
  const placed = new Map<string, PlacedNode>();
  cols.forEach((list, c) => {
    // Centre shorter columns vertically against the tallest one.
    const offset = top + ((tallest - list.length) * rowHeight) / 2 + rowHeight / 2;
    list.forEach((node, i) => {
      placed.set(node.id, { node, x: columnX[c]!, y: offset + i * rowHeight, column: c });
    });
  });
  const edges = graph.edges
    .map((e) => ({ from: placed.get(e.from), to: placed.get(e.to) }))
    .filter((e): e is { from: PlacedNode; to: PlacedNode } => !!e.from && !!e.to);
  return {
    nodes: [...placed.values()],
    edges,
    width,
    height,
    columns: TITLES.map((title, i) => ({ title, x: columnX[i]! })).filter((_, i) => cols[i]!.length > 0),
  };
}
