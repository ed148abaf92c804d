/**
 * Advanced hunting: the KQL editor with Microsoft's language service over the workspace schema, a schema browser,
 * results as a virtualized grid or the query's `render` chart, history and saved queries, cancel, and truncation
 * and errors shown where they happen ("create a rule from this query" opens the rule wizard pre-filled).
 */
import { lazy, Suspense, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, api } from '../../api/client.js';
import type { QueryDiagnostic, QueryResult, SavedQuery, TableInfo } from '../../api/types.js';
import { navigate, useLocation, useTitle } from '../../app/router.js';
import { useApp, useLoad } from '../../app/state.js';
import { type RenderSpec, renderFromQuery, renderFromVisualization } from '../../data/chart.js';
import { formatNumber, relativeTime } from '../../data/format.js';
import { addToHistory, type HistoryEntry, loadHistory, saveHistory } from '../../data/history.js';
import { DEFENDER_TABLES, engineSchema, groupTables } from '../../data/kusto-schema.js';
import { ErrorBox, Field, Modal, Spinner, Tabs } from '../../ui/components.js';
import { Icon } from '../../ui/icons.js';
import type { KqlEditorHandle } from './KqlEditor.js';
import type { GridHandleActions } from './ResultsGrid.js';
import { ResultsGrid } from './ResultsGrid.js';

const KqlEditor = lazy(() => import('./KqlEditor.js').then((m) => ({ default: m.KqlEditor })));
const Chart = lazy(() => import('./Chart.js').then((m) => ({ default: m.Chart })));

const DEFAULT_QUERY = `SecurityIncident
| where TimeGenerated > ago(7d)
| summarize arg_max(TimeGenerated, *) by IncidentNumber
| summarize Incidents = count() by Severity
| render piechart`;

type Side = 'schema' | 'saved' | 'history';
type View = 'table' | 'chart';

export default function HuntingPage() {
  useTitle('Hunting');
  const { search } = useLocation();
  const { theme, toast, workspace } = useApp();
  const initial = useMemo(
    () => new URLSearchParams(search).get('q') ?? localStorage.getItem(`vigil.draft.${workspace}`) ?? DEFAULT_QUERY,
    [search, workspace],
  );
  const editor = useRef<KqlEditorHandle>(null);
  const grid = useRef<GridHandleActions | null>(null);
  const tables = useLoad(() => api.tables(), [workspace]);
  const saved = useLoad<readonly SavedQuery[]>(() => api.savedQueries().then((p) => p.items), [workspace]);
  const [history, setHistory] = useState<HistoryEntry[]>(() => loadHistory(localStorage, workspace));
  const [side, setSide] = useState<Side>('schema');
  const [view, setView] = useState<View>('table');
  const [running, setRunning] = useState<AbortController | null>(null);
  const [result, setResult] = useState<QueryResult | null>(null);
  const [render, setRender] = useState<RenderSpec | null>(null);
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [diagnostics, setDiagnostics] = useState<readonly QueryDiagnostic[]>([]);
  const [elapsed, setElapsed] = useState<number | null>(null);
  const [saving, setSaving] = useState(false);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [filter, setFilter] = useState('');

  const schema = useMemo(() => (tables.data ? engineSchema(workspace, tables.data) : null), [tables.data, workspace]);

  const run = async () => {
    const text = editor.current?.getValue() ?? '';
    if (!text.trim() || running) return;
    localStorage.setItem(`vigil.draft.${workspace}`, text);
    const ctl = new AbortController();
    setRunning(ctl);
    setError(null);
    setDiagnostics([]);
    const started = performance.now();
    try {
      const r = await api.query(text, ctl.signal);
      const ms = Math.round(performance.now() - started);
      setResult(r);
      setElapsed(ms);
      setDiagnostics(r.warnings ?? []);
      const spec = renderFromVisualization(r.visualization) ?? renderFromQuery(text);
      setRender(spec);
      setView(spec ? 'chart' : 'table');
      record({ query: text, at: new Date().toISOString(), rows: r.rowCount, ms, error: null });
    } catch (e) {
      if ((e as Error).name === 'AbortError') {
        setError(new Error('The query was cancelled.'));
      } else {
        const err = e as ApiError | Error;
        setError(err);
        if (err instanceof ApiError) setDiagnostics(err.diagnostics);
        record({ query: text, at: new Date().toISOString(), rows: null, ms: null, error: err.message });
      }
      setResult(null);
    } finally {
      setRunning(null);
    }
  };
  const record = (e: HistoryEntry) =>
    setHistory((h) => {
      const next = addToHistory(h, e);
      saveHistory(localStorage, workspace, next);
      return next;
    });
  const load = (q: string) => {
    editor.current?.setValue(q);
    editor.current?.focus();
  };
  const download = () => {
    if (!grid.current) return;
    const blob = new Blob([grid.current.csv()], { type: 'text/csv' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `vigil-results-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.csv`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  const copy = async () => {
    if (!grid.current) return;
    await navigator.clipboard?.writeText(grid.current.tsv());
    toast('Results copied (tab-separated)');
  };

  useEffect(() => {
    // A hunt link replaces the editor's text when the page is already open.
    if (editor.current && new URLSearchParams(search).get('q')) editor.current.setValue(initial);
  }, [search, initial]);

  const groups = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const list = (tables.data ?? []).filter(
      (t) => !f || t.name.toLowerCase().includes(f) || t.columns.some((c) => c.name.toLowerCase().includes(f)),
    );
    return groupTables<TableInfo>(list, DEFENDER_TABLES);
  }, [tables.data, filter]);

  return (
    <div className="page full" style={{ paddingBottom: 16 }}>
      <div className="page-head" style={{ marginBottom: 12 }}>
        <div>
          <h1>Advanced hunting</h1>
          <div className="sub">KQL over every table of the workspace · Ctrl+Enter runs</div>
        </div>
      </div>
      <div className="hunt grow" style={{ minHeight: 0 }}>
        <aside className="schema" aria-label="Schema, saved queries and history">
          <div style={{ padding: '10px 10px 0' }}>
            <Tabs<Side>
              value={side}
              onChange={setSide}
              tabs={[
                { id: 'schema', label: 'Schema' },
                { id: 'saved', label: 'Saved', count: saved.data?.length ?? 0 },
                { id: 'history', label: 'History' },
              ]}
            />
          </div>
          {side === 'schema' && (
            <>
              <div style={{ padding: '0 10px 6px' }}>
                <input
                  className="input"
                  style={{ width: '100%' }}
                  placeholder="Filter tables and columns"
                  value={filter}
                  onChange={(e) => setFilter(e.target.value)}
                />
              </div>
              {tables.error ? (
                <div style={{ padding: 10 }}>
                  <ErrorBox error={tables.error} />
                </div>
              ) : !tables.data ? (
                <div style={{ padding: 12 }}>
                  <Spinner />
                </div>
              ) : (
                groups.map((g) => (
                  <div key={g.title}>
                    <div className="grp">{g.title}</div>
                    {g.tables.map((t) => (
                      <div key={t.name}>
                        <div
                          className="tbl"
                          onClick={() =>
                            setOpen((s) => {
                              const n = new Set(s);
                              if (n.has(t.name)) n.delete(t.name);
                              else n.add(t.name);
                              return n;
                            })
                          }
                          onDoubleClick={() => editor.current?.insert(t.name)}
                          title={`${formatNumber(t.rows)} rows · last data ${relativeTime(t.lastIngestion)} · double-click to insert`}
                        >
                          <Icon name="table" width={14} height={14} />
                          <span className="grow">{t.name}</span>
                          <span className="muted small">{t.rows ? formatNumber(t.rows) : ''}</span>
                        </div>
                        {(open.has(t.name) ||
                          (filter && t.columns.some((c) => c.name.toLowerCase().includes(filter.toLowerCase())))) &&
                          t.columns
                            .filter(
                              (c) => !filter || open.has(t.name) || c.name.toLowerCase().includes(filter.toLowerCase()),
                            )
                            .map((c) => (
                              <div key={c.name} className="col" onClick={() => editor.current?.insert(c.name)}>
                                <span>{c.name}</span>
                                <span className="ty">{c.type}</span>
                              </div>
                            ))}
                      </div>
                    ))}
                  </div>
                ))
              )}
            </>
          )}
          {side === 'saved' && (
            <div>
              {saved.error ? (
                <div style={{ padding: 10 }}>
                  <ErrorBox error={saved.error} />
                </div>
              ) : (saved.data ?? []).length === 0 ? (
                <div className="empty small">No saved queries yet.</div>
              ) : (
                (saved.data ?? []).map((q) => (
                  <div
                    key={q.id}
                    className="tbl"
                    onClick={() => load(q.query)}
                    title={q.query}
                    data-testid="saved-query"
                  >
                    <Icon name="save" width={14} height={14} />
                    <span className="grow">{q.name}</span>
                    <span className="muted small">{q.visibility === 'private' ? 'private' : ''}</span>
                  </div>
                ))
              )}
            </div>
          )}
          {side === 'history' && (
            <div>
              {history.length === 0 && <div className="empty small">Queries you run appear here.</div>}
              {history.map((h) => (
                <div
                  key={h.at + h.query}
                  className="tbl"
                  style={{ alignItems: 'flex-start', flexDirection: 'column', gap: 2 }}
                  onClick={() => load(h.query)}
                >
                  <span className="mono small" style={{ whiteSpace: 'pre-wrap', maxHeight: 54, overflow: 'hidden' }}>
                    {h.query.slice(0, 160)}
                  </span>
                  <span className={`small ${h.error ? 'bad' : 'muted'}`}>
                    {relativeTime(h.at)} · {h.error ? 'failed' : `${formatNumber(h.rows ?? 0)} rows, ${h.ms} ms`}
                  </span>
                </div>
              ))}
            </div>
          )}
        </aside>

        <div className="hunt-main">
          <div className="editor-box">
            <div className="results-bar">
              {running ? (
                <button type="button" className="btn danger" onClick={() => running.abort()}>
                  <Icon name="stop" /> Cancel
                </button>
              ) : (
                <button type="button" className="btn primary" onClick={run} data-testid="run-query">
                  <Icon name="play" /> Run query
                </button>
              )}
              {running && <Spinner label="Running…" />}
              <div className="grow" />
              <button type="button" className="btn ghost" onClick={() => setSaving(true)}>
                <Icon name="save" /> Save
              </button>
              <button
                type="button"
                className="btn ghost"
                onClick={() => navigate(`/rules/new?q=${encodeURIComponent(editor.current?.getValue() ?? '')}`)}
              >
                <Icon name="rules" /> Create rule
              </button>
            </div>
            <Suspense
              fallback={
                <div className="editor-host" style={{ padding: 16 }}>
                  <Spinner label="Loading the KQL editor…" />
                </div>
              }
            >
              <KqlEditor
                ref={editor}
                initial={initial}
                schema={schema}
                theme={theme}
                diagnostics={diagnostics}
                onRun={run}
              />
            </Suspense>
          </div>

          <div className="results">
            <div className="results-bar">
              <Tabs<View>
                value={view}
                onChange={setView}
                tabs={[
                  { id: 'table', label: 'Results' },
                  { id: 'chart', label: 'Chart' },
                ]}
              />
              {result && (
                <span className="muted small" data-testid="result-summary">
                  {formatNumber(result.rowCount)} rows
                  {result.rowCount > result.rows.length ? ` (first ${formatNumber(result.rows.length)} shown)` : ''} ·{' '}
                  {elapsed} ms
                  {result.statistics?.engineMs !== undefined
                    ? ` (engine ${Math.round(result.statistics.engineMs)} ms)`
                    : ''}
                </span>
              )}
              {result?.truncated && (
                <span
                  className="badge sev-Medium"
                  title="The result was cut at the row or size limit; narrow the query"
                >
                  Truncated at {formatNumber(result.rowCount)} rows
                </span>
              )}
              {(result?.warnings?.length ?? 0) > 0 && (
                <span className="badge sev-Low" title={result?.warnings?.map((w) => w.message).join('\n')}>
                  {result?.warnings?.length} warning{result?.warnings?.length === 1 ? '' : 's'}
                </span>
              )}
              <div className="grow" />
              <button type="button" className="btn ghost sm" disabled={!result} onClick={copy}>
                <Icon name="copy" /> Copy
              </button>
              <button type="button" className="btn ghost sm" disabled={!result} onClick={download}>
                <Icon name="download" /> Export CSV
              </button>
            </div>
            {error ? (
              <div style={{ padding: 16 }} data-testid="query-error">
                <ErrorBox error={error} />
                {diagnostics.length > 0 && (
                  <ul className="small" style={{ marginTop: 10 }}>
                    {diagnostics.map((d) => (
                      <li key={`${d.start}-${d.code}`}>
                        <span className="mono">{d.code}</span> at {d.start}: {d.message}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            ) : !result ? (
              <div className="empty">
                <h3>Run a query</h3>
                Results appear here; a query ending in <span className="mono">| render timechart</span> draws a chart.
              </div>
            ) : view === 'chart' ? (
              render ? (
                <Suspense fallback={<Spinner />}>
                  <Chart spec={render} columns={result.columns} rows={result.rows} theme={theme} />
                </Suspense>
              ) : (
                <div className="empty">
                  This query has no <span className="mono">render</span> operator.
                </div>
              )
            ) : result.rows.length === 0 ? (
              <div className="empty">No rows.</div>
            ) : (
              <ResultsGrid
                key={result.columns.map((c) => c.name).join()}
                columns={result.columns}
                rows={result.rows}
                actionsRef={grid}
              />
            )}
          </div>
        </div>
      </div>
      {saving && (
        <SaveDialog
          query={editor.current?.getValue() ?? ''}
          onClose={() => setSaving(false)}
          onSaved={() => {
            setSaving(false);
            saved.reload();
            setSide('saved');
          }}
        />
      )}
    </div>
  );
}

function SaveDialog({ query, onClose, onSaved }: { query: string; onClose: () => void; onSaved: () => void }) {
  const { toast } = useApp();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [shared, setShared] = useState(true);
  const save = async () => {
    try {
      await api.saveQuery({ name: name.trim(), query, description, visibility: shared ? 'shared' : 'private' });
      toast(`Saved "${name.trim()}"`);
      onSaved();
    } catch (e) {
      toast(`Saving failed: ${(e as Error).message}`, true);
    }
  };
  return (
    <Modal
      title="Save query"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn primary" disabled={!name.trim()} onClick={save}>
            Save
          </button>
        </>
      }
    >
      <div className="stack">
        <Field label="Name">
          <input
            className="input"
            autoFocus
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-label="Query name"
          />
        </Field>
        <Field label="Description" hint="optional">
          <input className="input" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <label className="row">
          <input type="checkbox" checked={shared} onChange={(e) => setShared(e.target.checked)} /> Shared with the
          workspace
        </label>
        <pre
          className="mono small"
          style={{ maxHeight: 160, overflow: 'auto', background: 'var(--bg-sunken)', padding: 10, borderRadius: 6 }}
        >
          {query}
        </pre>
      </div>
    </Modal>
  );
}
