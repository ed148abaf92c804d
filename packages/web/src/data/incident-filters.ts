/**
 * The incident queue's filter: one value that the URL, the saved views and the API call share. Pure functions
 * convert between them; live updates decide with `matches` whether an incident that changed belongs in the view.
 */
import type { Incident, IncidentStatus, Severity } from '../api/types.js';

export type SortField = 'lastModifiedTime' | 'createdTime' | 'severity' | 'number' | 'lastActivityTime' | 'alertCount';

export interface IncidentFilter {
  readonly status: readonly IncidentStatus[];
  readonly severity: readonly Severity[];
  /** Owner UPNs; `unassigned` for incidents without an owner. */
  readonly owner: readonly string[];
  readonly tag: readonly string[];
  readonly provider: readonly string[];
  readonly text: string;
  readonly sort: SortField;
  readonly order: 'asc' | 'desc';
}

/** Incidents per page of the queue (virtualized rows; more load on scrolling). */
export const QUEUE_PAGE = 500;

export const DEFAULT_FILTER: IncidentFilter = {
  status: ['New', 'Active'],
  severity: [],
  owner: [],
  tag: [],
  provider: [],
  text: '',
  sort: 'lastModifiedTime',
  order: 'desc',
};

const LISTS = ['status', 'severity', 'owner', 'tag', 'provider'] as const;
const SORTS: readonly SortField[] = [
  'lastModifiedTime',
  'createdTime',
  'severity',
  'number',
  'lastActivityTime',
  'alertCount',
];

/** API query parameters (`GET /incidents`). */
export function toApiParams(f: IncidentFilter, limit: number, cursor?: string) {
  return {
    status: f.status,
    severity: f.severity,
    owner: f.owner,
    tag: f.tag,
    provider: f.provider,
    text: f.text.trim() || undefined,
    sort: f.sort,
    order: f.order,
    limit,
    cursor,
  };
}

/** The filter as a URL search string (only what differs from the default, so links stay short). */
export function toSearch(f: IncidentFilter): string {
  const q = new URLSearchParams();
  for (const k of LISTS) {
    const v = f[k];
    const d = DEFAULT_FILTER[k];
    if (v.join(',') !== d.join(',')) q.set(k, v.join(',') || '-');
  }
  if (f.text.trim()) q.set('q', f.text.trim());
  if (f.sort !== DEFAULT_FILTER.sort) q.set('sort', f.sort);
  if (f.order !== DEFAULT_FILTER.order) q.set('order', f.order);
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function fromSearch(search: string): IncidentFilter {
  const q = new URLSearchParams(search);
  const list = (k: (typeof LISTS)[number]) => {
    const v = q.get(k);
    if (v === null) return DEFAULT_FILTER[k];
    return v === '-' ? [] : v.split(',').filter(Boolean);
  };
  const sort = q.get('sort');
  return {
    status: list('status') as IncidentStatus[],
    severity: list('severity') as Severity[],
    owner: list('owner'),
    tag: list('tag'),
    provider: list('provider'),
    text: q.get('q') ?? '',
    sort: sort && (SORTS as readonly string[]).includes(sort) ? (sort as SortField) : DEFAULT_FILTER.sort,
    order: q.get('order') === 'asc' ? 'asc' : 'desc',
  };
}

export function ownerName(i: Pick<Incident, 'owner'>): string | null {
  const o = i.owner;
  return o ? (o.userPrincipalName ?? o.email ?? o.assignedTo ?? null) : null;
}

/** Whether an incident passes the filter (for live updates; the server decides for pages it returns). */
export function matches(i: Incident, f: IncidentFilter): boolean {
  if (i.redirectedTo) return false;
  if (f.status.length && !f.status.includes(i.status)) return false;
  if (f.severity.length && !f.severity.includes(i.severity)) return false;
  if (f.owner.length) {
    const o = ownerName(i);
    if (!(o ? f.owner.some((x) => x.toLowerCase() === o.toLowerCase()) : f.owner.includes('unassigned'))) return false;
  }
  if (f.tag.length && !f.tag.some((t) => i.tags.includes(t))) return false;
  if (f.provider.length && !f.provider.includes(i.providerName)) return false;
  const text = f.text.trim().toLowerCase();
  if (text && !i.title.toLowerCase().includes(text) && String(i.number) !== text.replace(/^#/, '')) return false;
  return true;
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { Informational: 0, Low: 1, Medium: 2, High: 3 };

export function compareIncidents(a: Incident, b: Incident, f: Pick<IncidentFilter, 'sort' | 'order'>): number {
  let d = 0;
  switch (f.sort) {
    case 'severity':
      d = SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
      break;
    case 'number':
      d = a.number - b.number;
      break;
    case 'alertCount':
      d = a.alertCount - b.alertCount;
      break;
    default: {
      const ka = a[f.sort] ?? '';
      const kb = b[f.sort] ?? '';
      d = ka < kb ? -1 : ka > kb ? 1 : 0;
    }
  }
  if (d === 0) d = a.number - b.number;
  return f.order === 'asc' ? d : -d;
}

/**
 * Applies changed incidents to a loaded list: updates in place, inserts new matches at their sorted position,
 * drops those that no longer match. Returns the new list and how many incidents arrived that were not there.
 */
export function applyChanges(
  list: readonly Incident[],
  changed: readonly Incident[],
  f: IncidentFilter,
): { list: Incident[]; added: number } {
  const byId = new Map(list.map((i) => [i.id, i]));
  let added = 0;
  for (const c of changed) {
    const had = byId.get(c.id);
    if (had && had.version > c.version) continue;
    if (matches(c, f)) {
      if (!had) added++;
      byId.set(c.id, c);
    } else byId.delete(c.id);
  }
  const out = [...byId.values()];
  out.sort((a, b) => compareIncidents(a, b, f));
  return { list: out, added };
}

export interface SavedView {
  readonly name: string;
  readonly search: string;
}

export const BUILT_IN_VIEWS: readonly SavedView[] = [
  { name: 'Open incidents', search: '' },
  { name: 'High severity', search: '?severity=High' },
  { name: 'Unassigned', search: '?owner=unassigned' },
  { name: 'Closed', search: '?status=Closed' },
];
