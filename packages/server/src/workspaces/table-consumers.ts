/**
 * Who uses a table — shown next to its cost so that data nobody uses is visible and can be deselected:
 * - the analytics rules that read it (the detections service's analysis of each rule's query);
 * - how many hunting queries named it in the last `days` days (the audit log records every query run through
 *   the REST, Kusto and Log Analytics APIs). A query counts for a table when one of its identifiers is the table's
 *   name (lexical: cheap over tens of thousands of queries; a table reached only through a stored function is not
 *   counted).
 */
import { tokenize } from '@vigil/kql';
import type { Workspace } from './workspace.js';

export interface TableConsumers {
  readonly rules: readonly { readonly id: string; readonly name: string; readonly enabled: boolean }[];
  readonly huntQueries: number;
  readonly lastQueried: string | null;
}

/** At most this many recent queries are read (newest first). */
const MAX_QUERIES = 50_000;

export async function tableConsumers(
  ws: Pick<Workspace, 'detection' | 'state'>,
  tables: readonly string[],
  options: { days?: number; now?: number } = {},
): Promise<Map<string, TableConsumers>> {
  const wanted = new Set(tables);
  const rules = new Map<string, { id: string; name: string; enabled: boolean }[]>();
  for (const r of await ws.detection.listRules()) {
    for (const t of new Set(r.tables)) {
      if (!wanted.has(t)) continue;
      const list = rules.get(t) ?? [];
      list.push({ id: r.id, name: r.definition.name, enabled: r.enabled });
      rules.set(t, list);
    }
  }
  const since = new Date((options.now ?? Date.now()) - (options.days ?? 30) * 86_400_000).toISOString();
  const rows = await ws.state.all<{ at: string; details: string | null }>(
    `SELECT at, details FROM api_audit WHERE kind = 'query' AND at >= ? ORDER BY id DESC LIMIT ${MAX_QUERIES}`,
    [since],
  );
  const hunts = new Map<string, { n: number; last: string | null }>();
  for (const row of rows) {
    const query = queryText(row.details);
    if (!query) continue;
    const named = new Set<string>();
    for (const tok of tokenize(query).tokens) if (wanted.has(tok.text)) named.add(tok.text);
    for (const t of named) {
      const h = hunts.get(t) ?? { n: 0, last: null };
      h.n++;
      if (!h.last || row.at > h.last) h.last = row.at;
      hunts.set(t, h);
    }
  }
  const out = new Map<string, TableConsumers>();
  for (const t of tables) {
    out.set(t, {
      rules: rules.get(t) ?? [],
      huntQueries: hunts.get(t)?.n ?? 0,
      lastQueried: hunts.get(t)?.last ?? null,
    });
  }
  return out;
}

function queryText(details: string | null): string | null {
  if (!details) return null;
  try {
    const d = JSON.parse(details) as { query?: unknown };
    return typeof d.query === 'string' ? d.query : null;
  } catch {
    return null;
  }
}
