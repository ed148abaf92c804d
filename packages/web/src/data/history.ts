/** Query history: the last queries run, newest first, de-duplicated, bounded; kept per workspace in the browser. */

export interface HistoryEntry {
  readonly query: string;
  readonly at: string;
  readonly rows: number | null;
  readonly ms: number | null;
  readonly error: string | null;
}

export const HISTORY_LIMIT = 100;

export function addToHistory(
  list: readonly HistoryEntry[],
  entry: HistoryEntry,
  limit = HISTORY_LIMIT,
): HistoryEntry[] {
  const q = entry.query.trim();
  return [{ ...entry, query: q }, ...list.filter((e) => e.query.trim() !== q)].slice(0, limit);
}

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function loadHistory(store: KeyValueStore, workspace: string): HistoryEntry[] {
  try {
    const v = JSON.parse(store.getItem(`vigil.history.${workspace}`) ?? '[]') as unknown;
    return Array.isArray(v) ? (v as HistoryEntry[]).filter((e) => typeof e?.query === 'string') : [];
  } catch {
    return [];
  }
}

export function saveHistory(store: KeyValueStore, workspace: string, list: readonly HistoryEntry[]) {
  store.setItem(`vigil.history.${workspace}`, JSON.stringify(list));
}
