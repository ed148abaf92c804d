/**
 * The unified incident queue: filters in the URL, saved views, sort, multi-select bulk actions, live updates from
 * the incident event feed, and a virtualized list that pages with the API's cursor as it scrolls (100,000 rows
 * stay smooth: only the visible rows are in the DOM, pages of 500 are fetched on demand).
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../../api/client.js';
import { type Incident, type IncidentPatch, SEVERITIES, STATUSES } from '../../api/types.js';
import { navigate, useLocation, useTitle } from '../../app/router.js';
import { useApp } from '../../app/state.js';
import { formatNumber, relativeTime } from '../../data/format.js';
import {
  applyChanges,
  BUILT_IN_VIEWS,
  fromSearch,
  type IncidentFilter,
  ownerName,
  QUEUE_PAGE,
  type SavedView,
  type SortField,
  toApiParams,
  toSearch,
} from '../../data/incident-filters.js';
import { shortcutFor } from '../../data/shortcuts.js';
import { Avatar, ErrorBox, Modal, SeverityBadge, Spinner, StatusBadge } from '../../ui/components.js';
import { Icon } from '../../ui/icons.js';
import { CloseDialog } from './CloseDialog.js';
import { followIncidents } from './live.js';

const PAGE = QUEUE_PAGE;
const ROW = 52;
const VIEWS_KEY = 'vigil.incidentViews';

function loadViews(): SavedView[] {
  try {
    const v = JSON.parse(localStorage.getItem(VIEWS_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? (v as SavedView[]).filter((x) => typeof x?.name === 'string') : [];
  } catch {
    return [];
  }
}

function MultiChip<T extends string>({
  label,
  options,
  value,
  onChange,
}: {
  label: string;
  options: readonly T[];
  value: readonly T[];
  onChange: (v: T[]) => void;
}) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    window.addEventListener('mousedown', close);
    return () => window.removeEventListener('mousedown', close);
  }, [open]);
  return (
    <div ref={ref} style={{ position: 'relative' }}>
      <button type="button" className={`chip ${value.length ? 'on' : ''}`} onClick={() => setOpen(!open)}>
        {label}
        {value.length ? `: ${value.join(', ')}` : ''}
      </button>
      {open && (
        <div className="menu" style={{ top: 36, left: 0 }}>
          {options.map((o) => (
            <label key={o}>
              <input
                type="checkbox"
                checked={value.includes(o)}
                onChange={(e) => onChange(e.target.checked ? [...value, o] : value.filter((x) => x !== o))}
              />
              {o}
            </label>
          ))}
        </div>
      )}
    </div>
  );
}

const COLUMNS: readonly { label: string; sort?: SortField }[] = [
  { label: '' },
  { label: 'ID', sort: 'number' },
  { label: 'Incident' },
  { label: 'Severity', sort: 'severity' },
  { label: 'Status' },
  { label: 'Alerts', sort: 'alertCount' },
  { label: 'Owner' },
  { label: 'Source' },
  { label: 'Updated', sort: 'lastModifiedTime' },
];

export default function IncidentsPage() {
  useTitle('Incidents');
  const { search } = useLocation();
  const { userName, toast } = useApp();
  const filter = useMemo(() => fromSearch(search), [search]);
  const [items, setItems] = useState<Incident[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [focus, setFocus] = useState(0);
  const [arrived, setArrived] = useState(0);
  const [closing, setClosing] = useState<string[] | null>(null);
  const [tagging, setTagging] = useState(false);
  const [views, setViews] = useState<SavedView[]>(loadViews);
  const [text, setText] = useState(filter.text);
  const fetching = useRef(false);
  const generation = useRef(0);
  const scroller = useRef<HTMLDivElement>(null);
  const searchBox = useRef<HTMLInputElement>(null);
  const filterRef = useRef(filter);
  filterRef.current = filter;

  const setFilter = (f: IncidentFilter) => navigate(`/incidents${toSearch(f)}`, { replace: true });

  // First page on every filter change.
  useEffect(() => {
    const gen = ++generation.current;
    setLoading(true);
    setSelected(new Set());
    setFocus(0);
    setArrived(0);
    setText(filter.text);
    api
      .incidents(toApiParams(filter, PAGE))
      .then((p) => {
        if (gen !== generation.current) return;
        setItems([...p.items]);
        setCursor(p.nextCursor);
        setTotal(p.total ?? (p.nextCursor ? null : p.items.length));
        setError(null);
      })
      .catch((e: unknown) => gen === generation.current && setError(e))
      .finally(() => gen === generation.current && setLoading(false));
  }, [filter]);

  const loadMore = useCallback(async () => {
    if (!cursor || fetching.current) return;
    fetching.current = true;
    const gen = generation.current;
    try {
      const p = await api.incidents(toApiParams(filterRef.current, PAGE, cursor));
      if (gen !== generation.current) return;
      setItems((l) => {
        const seen = new Set(l.map((i) => i.id));
        return [...l, ...p.items.filter((i) => !seen.has(i.id))];
      });
      setCursor(p.nextCursor);
    } catch (e) {
      toast(`Loading more incidents failed: ${(e as Error).message}`, true);
    } finally {
      fetching.current = false;
    }
  }, [cursor, toast]);

  // Live updates.
  useEffect(
    () =>
      followIncidents((changed) => {
        setItems((list) => {
          const { list: next, added } = applyChanges(list, changed, filterRef.current);
          if (added) setArrived((n) => n + added);
          return next;
        });
      }),
    [],
  );

  const virtual = useVirtualizer({
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW,
    overscan: 12,
  });
  const visible = virtual.getVirtualItems();
  const lastVisible = visible[visible.length - 1]?.index ?? 0;
  useEffect(() => {
    if (lastVisible > items.length - 100) void loadMore();
  }, [lastVisible, items.length, loadMore]);

  const bulk = async (ids: readonly string[], patch: IncidentPatch, what: string) => {
    try {
      const r = await api.bulkUpdate(ids, patch);
      const failed = r.results.filter((x) => !x.ok);
      const ok = r.results.length - failed.length;
      toast(
        failed.length
          ? `${what}: ${ok} done, ${failed.length} failed (${failed[0]?.error ?? ''})`
          : `${what}: ${ok} incident${ok === 1 ? '' : 's'}`,
        failed.length > 0,
      );
      const fresh = await api.incidents({ ...toApiParams(filterRef.current, Math.max(PAGE, items.length)) });
      setItems([...fresh.items]);
      setCursor(fresh.nextCursor);
    } catch (e) {
      toast(`${what} failed: ${(e as Error).message}`, true);
    }
  };
  const targets = () => {
    const f = items[focus];
    return selected.size ? [...selected] : f ? [f.id] : [];
  };

  // Triage keys.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const action = shortcutFor(
        {
          key: e.key,
          ctrlKey: e.ctrlKey,
          metaKey: e.metaKey,
          altKey: e.altKey,
          targetTag: t?.tagName,
          editable: t?.isContentEditable,
        },
        'queue',
      );
      if (!action) return;
      const current = items[focus];
      if (action === 'next' || action === 'previous') {
        e.preventDefault();
        const n = Math.max(0, Math.min(items.length - 1, focus + (action === 'next' ? 1 : -1)));
        setFocus(n);
        virtual.scrollToIndex(n, { align: 'auto' });
      } else if (action === 'open' && current) navigate(`/incidents/${current.number}`);
      else if (action === 'select' && current)
        setSelected((s) => {
          const n = new Set(s);
          if (n.has(current.id)) n.delete(current.id);
          else n.add(current.id);
          return n;
        });
      else if (action === 'search') {
        e.preventDefault();
        searchBox.current?.focus();
      } else if (action === 'assignToMe')
        void bulk(targets(), { owner: { userPrincipalName: userName, assignedTo: userName } }, 'Assigned to you');
      else if (action === 'activate') void bulk(targets(), { status: 'Active' }, 'Set to Active');
      else if (action === 'refresh') setFilter({ ...filter });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const allSelected = items.length > 0 && selected.size === items.length;
  const toggle = (id: string, index: number, shift: boolean) => {
    setSelected((s) => {
      const n = new Set(s);
      if (shift && s.size) {
        const from = Math.min(focus, index);
        const to = Math.max(focus, index);
        for (const it of items.slice(from, to + 1)) n.add(it.id);
      } else if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
    setFocus(index);
  };
  const saveView = () => {
    const name = prompt('Name of this view');
    if (!name) return;
    const next = [...views.filter((v) => v.name !== name), { name, search: toSearch(filter) }];
    setViews(next);
    localStorage.setItem(VIEWS_KEY, JSON.stringify(next));
    toast(`View "${name}" saved`);
  };
  const currentSearch = toSearch(filter);

  return (
    <div className="page full">
      <div className="page-head">
        <div>
          <h1>Incidents</h1>
          <div className="sub">
            {total !== null ? `${formatNumber(total)} incidents` : `${formatNumber(items.length)}+ incidents`} ·{' '}
            <span className="live">
              <span className="pulse" /> Live
            </span>
            {arrived > 0 && (
              <button
                type="button"
                className="btn ghost sm"
                onClick={() => {
                  scroller.current?.scrollTo({ top: 0 });
                  setArrived(0);
                }}
              >
                {arrived} new or reopened
              </button>
            )}
          </div>
        </div>
        <div className="actions">
          <select
            className="select"
            aria-label="Saved views"
            value={[...BUILT_IN_VIEWS, ...views].find((v) => v.search === currentSearch)?.search ?? 'custom'}
            onChange={(e) => navigate(`/incidents${e.target.value === 'custom' ? currentSearch : e.target.value}`)}
          >
            <optgroup label="Views">
              {BUILT_IN_VIEWS.map((v) => (
                <option key={v.name} value={v.search}>
                  {v.name}
                </option>
              ))}
            </optgroup>
            {views.length > 0 && (
              <optgroup label="My views">
                {views.map((v) => (
                  <option key={v.name} value={v.search}>
                    {v.name}
                  </option>
                ))}
              </optgroup>
            )}
            <option value="custom">Custom filter</option>
          </select>
          <button type="button" className="btn" onClick={saveView}>
            <Icon name="save" /> Save view
          </button>
        </div>
      </div>

      <div className="queue-bar">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setFilter({ ...filter, text });
          }}
        >
          <input
            ref={searchBox}
            className="input"
            style={{ width: 260 }}
            placeholder="Search title or number  ( / )"
            aria-label="Search incidents"
            value={text}
            onChange={(e) => setText(e.target.value)}
            onBlur={() => text !== filter.text && setFilter({ ...filter, text })}
          />
        </form>
        <MultiChip
          label="Status"
          options={STATUSES}
          value={filter.status}
          onChange={(v) => setFilter({ ...filter, status: v })}
        />
        <MultiChip
          label="Severity"
          options={SEVERITIES}
          value={filter.severity}
          onChange={(v) => setFilter({ ...filter, severity: v })}
        />
        <MultiChip
          label="Owner"
          options={[userName, 'unassigned']}
          value={filter.owner}
          onChange={(v) => setFilter({ ...filter, owner: v })}
        />
        <MultiChip
          label="Source"
          options={['Microsoft XDR', 'Azure Sentinel']}
          value={filter.provider}
          onChange={(v) => setFilter({ ...filter, provider: v })}
        />
        {filter.tag.map((t) => (
          <button
            key={t}
            type="button"
            className="chip on"
            onClick={() => setFilter({ ...filter, tag: filter.tag.filter((x) => x !== t) })}
          >
            Tag: {t} ✕
          </button>
        ))}
        <div className="grow" />
        <select
          className="select"
          aria-label="Sort"
          value={`${filter.sort}:${filter.order}`}
          onChange={(e) => {
            const [sort, order] = e.target.value.split(':') as [SortField, 'asc' | 'desc'];
            setFilter({ ...filter, sort, order });
          }}
        >
          <option value="lastModifiedTime:desc">Last updated</option>
          <option value="createdTime:desc">Newest first</option>
          <option value="createdTime:asc">Oldest first</option>
          <option value="severity:desc">Severity</option>
          <option value="alertCount:desc">Most alerts</option>
          <option value="number:desc">Number</option>
        </select>
      </div>

      {selected.size > 0 && (
        <div className="bulkbar" style={{ marginBottom: 10 }} data-testid="bulk-bar">
          <strong>{selected.size} selected</strong>
          <button
            type="button"
            className="btn sm"
            onClick={() =>
              bulk([...selected], { owner: { userPrincipalName: userName, assignedTo: userName } }, 'Assigned to you')
            }
          >
            Assign to me
          </button>
          <button
            type="button"
            className="btn sm"
            onClick={() => bulk([...selected], { status: 'Active' }, 'Set to Active')}
          >
            Set Active
          </button>
          <button type="button" className="btn sm" onClick={() => setClosing([...selected])}>
            Close…
          </button>
          <button type="button" className="btn sm" onClick={() => setTagging(true)}>
            Add tag…
          </button>
          <div className="grow" />
          <button type="button" className="btn ghost sm" onClick={() => setSelected(new Set())}>
            Clear selection
          </button>
        </div>
      )}

      {error ? (
        <ErrorBox error={error} />
      ) : (
        <div className="vlist" ref={scroller} data-testid="incident-list">
          <div className="vhead" role="row">
            <div>
              <input
                type="checkbox"
                aria-label="Select all loaded"
                checked={allSelected}
                onChange={(e) => setSelected(e.target.checked ? new Set(items.map((i) => i.id)) : new Set())}
              />
            </div>
            {COLUMNS.slice(1).map((c) => (
              <div
                key={c.label}
                className={c.sort ? 'sortable' : ''}
                onClick={() =>
                  c.sort &&
                  setFilter({
                    ...filter,
                    sort: c.sort,
                    order: filter.sort === c.sort && filter.order === 'desc' ? 'asc' : 'desc',
                  })
                }
              >
                {c.label}
                {c.sort === filter.sort ? (filter.order === 'desc' ? ' ↓' : ' ↑') : ''}
              </div>
            ))}
          </div>
          {loading && items.length === 0 ? (
            <div className="empty">
              <Spinner label="Loading incidents…" />
            </div>
          ) : items.length === 0 ? (
            <div className="empty">
              <h3>No incidents match</h3>
              Change the filters, or check the <a href="/health">health page</a> if you expected some.
            </div>
          ) : (
            <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
              {visible.map((v) => {
                const i = items[v.index]!;
                const owner = ownerName(i);
                return (
                  <div
                    key={i.id}
                    role="row"
                    data-testid="incident-row"
                    data-number={i.number}
                    className={`vrow ${selected.has(i.id) ? 'selected' : ''} ${v.index === focus ? 'cursor' : ''}`}
                    style={{ top: v.start, height: ROW }}
                    onClick={(e) => {
                      if ((e.target as HTMLElement).tagName === 'INPUT') return;
                      navigate(`/incidents/${i.number}`);
                    }}
                  >
                    <div>
                      <input
                        type="checkbox"
                        aria-label={`Select incident ${i.number}`}
                        checked={selected.has(i.id)}
                        onChange={() => undefined}
                        onClick={(e) => toggle(i.id, v.index, e.shiftKey)}
                      />
                    </div>
                    <div className="muted mono">#{i.number}</div>
                    <div className="title">
                      {i.title}
                      <small>
                        {i.tactics.slice(0, 3).join(' · ') || i.productNames.join(', ')}
                        {i.tags.length > 0 && ' · '}
                        {i.tags.slice(0, 3).map((t) => (
                          <span key={t} className="tag">
                            {t}
                          </span>
                        ))}
                      </small>
                    </div>
                    <div>
                      <SeverityBadge severity={i.severity} />
                    </div>
                    <div>
                      <StatusBadge status={i.status} />
                    </div>
                    <div>
                      {i.alertCount} <span className="muted small">/ {i.entityCount} ent.</span>
                    </div>
                    <div className="row" style={{ gap: 6 }}>
                      {owner ? (
                        <>
                          <Avatar name={owner} />
                          <span className="small">{owner.split('@')[0]}</span>
                        </>
                      ) : (
                        <span className="muted small">Unassigned</span>
                      )}
                    </div>
                    <div className="small muted">{i.providerName === 'Microsoft XDR' ? 'XDR' : 'Sentinel'}</div>
                    <div className="small muted" title={i.lastModifiedTime}>
                      {relativeTime(i.lastModifiedTime)}
                    </div>
                  </div>
                );
              })}
            </div>
          )}
        </div>
      )}
      {closing && (
        <CloseDialog
          count={closing.length}
          onClose={() => setClosing(null)}
          onConfirm={(patch) => {
            void bulk(closing, patch, 'Closed');
            setClosing(null);
          }}
        />
      )}
      {tagging && (
        <TagDialog
          onClose={() => setTagging(false)}
          onTag={(t) => {
            void bulk([...selected], { addTags: [t] }, `Tagged ${t}`);
            setTagging(false);
          }}
        />
      )}
    </div>
  );
}

function TagDialog({ onClose, onTag }: { onClose: () => void; onTag: (t: string) => void }) {
  const [t, setT] = useState('');
  return (
    <Modal
      title="Add a tag"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn primary" disabled={!t.trim()} onClick={() => onTag(t.trim())}>
            Add tag
          </button>
        </>
      }
    >
      <input
        className="input"
        style={{ width: '100%' }}
        autoFocus
        value={t}
        onChange={(e) => setT(e.target.value)}
        placeholder="e.g. phishing-wave-nov"
      />
    </Modal>
  );
}
