/**
 * One incident: summary and actions (assign, status, close with a classification, run a playbook, hunt), the attack
 * story graph with the correlation reasons, alerts, entities, a timeline merged from alerts, comments and the audit
 * trail, comments, tasks, audit, playbook runs and approvals waiting for this incident.
 */
import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client.js';
import type { Approval, IncidentDetail, IncidentPatch, PlaybookRun, PlaybookSummary } from '../../api/types.js';
import { Link, navigate, useTitle } from '../../app/router.js';
import { useApp, useLoad } from '../../app/state.js';
import { formatTime, relativeTime, words } from '../../data/format.js';
import { alertHuntQuery, entityHuntQuery, huntUrl, incidentHuntQuery } from '../../data/hunt-links.js';
import { ownerName } from '../../data/incident-filters.js';
import { shortcutFor } from '../../data/shortcuts.js';
import {
  Avatar,
  Card,
  Empty,
  ErrorBox,
  Modal,
  SeverityBadge,
  Spinner,
  StatusBadge,
  Tabs,
} from '../../ui/components.js';
import { Icon } from '../../ui/icons.js';
import { CloseDialog } from '../incidents/CloseDialog.js';
import { AttackGraph } from './AttackGraph.js';

type Tab = 'story' | 'alerts' | 'entities' | 'timeline' | 'comments' | 'tasks' | 'audit' | 'runs';

interface TimelineItem {
  readonly at: string;
  readonly text: string;
  readonly who: string;
  readonly kind: string;
}

function actorName(a: { id: string; name?: string; type: string }) {
  return a.name ?? (a.type === 'analyst' ? a.id : `${words(a.type)} ${a.id}`);
}

export default function IncidentPage({ id }: { id: string }) {
  const { userName, toast, me } = useApp();
  const detail = useLoad(() => api.incident(id), [id]);
  const d = detail.data;
  useTitle(d ? `#${d.incident.number} ${d.incident.title}` : 'Incident');
  const [tab, setTab] = useState<Tab>('story');
  const [closing, setClosing] = useState(false);
  const [comment, setComment] = useState('');
  const [runOpen, setRunOpen] = useState(false);
  const commentBox = useMemo(() => ({ el: null as HTMLTextAreaElement | null }), []);
  const runs = useLoad<readonly PlaybookRun[]>(
    () => (d ? api.runs({ incidentId: d.incident.id }).then((p) => p.items) : Promise.resolve([])),
    [d?.incident.id],
  );
  const approvals = useLoad<readonly Approval[]>(
    () => (d ? api.approvals({ incidentId: d.incident.id }).then((p) => p.approvals) : Promise.resolve([])),
    [d?.incident.id],
  );

  const update = async (patch: IncidentPatch, what: string) => {
    if (!d) return;
    try {
      await api.updateIncident(d.incident.id, patch, d.incident.version);
      toast(what);
      detail.reload();
    } catch (e) {
      toast(`${what} failed: ${(e as Error).message}`, true);
      detail.reload();
    }
  };
  const assignToMe = () =>
    update({ owner: { userPrincipalName: userName, assignedTo: me?.user.displayName || userName } }, 'Assigned to you');

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
        'incident',
      );
      if (!action || !d) return;
      if (action === 'assignToMe') void assignToMe();
      else if (action === 'activate') void update({ status: 'Active' }, 'Status set to Active');
      else if (action === 'close') setClosing(true);
      else if (action === 'comment') {
        e.preventDefault();
        setTab('comments');
        setTimeout(() => commentBox.el?.focus(), 50);
      } else if (action === 'hunt') navigate(huntUrl(incidentHuntQuery(d.incident.number)));
      else if (action === 'back') navigate('/incidents');
      else if (action === 'refresh') detail.reload();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  if (detail.error)
    return (
      <div className="page">
        <ErrorBox error={detail.error} />
      </div>
    );
  if (!d)
    return (
      <div className="page">
        <Spinner label="Loading incident…" />
      </div>
    );
  const i = d.incident;
  const owner = ownerName(i);
  const pending = (approvals.data ?? []).filter((a) => a.status === 'pending');

  const postComment = async () => {
    if (!comment.trim()) return;
    try {
      await api.addComment(i.id, comment.trim());
      setComment('');
      toast('Comment added');
      detail.reload();
    } catch (e) {
      toast(`Comment failed: ${(e as Error).message}`, true);
    }
  };

  const timeline: TimelineItem[] = [
    ...d.alerts.items.map((a) => ({ at: a.startTime, text: `Alert: ${a.title}`, who: a.productName, kind: 'alert' })),
    ...d.comments.map((c) => ({
      at: c.createdTime,
      text: `Comment: ${c.message}`,
      who: actorName(c.author),
      kind: 'comment',
    })),
    ...d.audit.items.map((a) => ({
      at: a.at,
      text: `${words(a.action)}${a.changes.length ? `: ${a.changes.map((c) => `${c.field} → ${display(c.to)}`).join(', ')}` : ''}`,
      who: actorName(a.actor),
      kind: 'audit',
    })),
  ].sort((a, b) => b.at.localeCompare(a.at));

  return (
    <div className="page">
      <div className="crumbs">
        <Link to="/incidents">Incidents</Link> / #{i.number}
      </div>
      <div className="page-head" style={{ alignItems: 'flex-start' }}>
        <div className="grow">
          <h1 data-testid="incident-title">{i.title}</h1>
          <div className="row wrap" style={{ marginTop: 10 }}>
            <SeverityBadge severity={i.severity} />
            <StatusBadge status={i.status} />
            {i.classification && <span className="badge">{words(i.classification)}</span>}
            <span className="muted small">
              #{i.number} · {i.providerName} · created {relativeTime(i.createdTime)} · updated{' '}
              {relativeTime(i.lastModifiedTime)} by {actorName(i.lastModifiedBy)}
            </span>
          </div>
        </div>
        <div className="actions">
          <button type="button" className="btn" onClick={assignToMe} disabled={owner === userName}>
            Assign to me <span className="kbd">a</span>
          </button>
          <select
            className="select"
            aria-label="Status"
            value={i.status}
            onChange={(e) => {
              if (e.target.value === 'Closed') setClosing(true);
              else void update({ status: e.target.value as 'New' | 'Active' }, `Status set to ${e.target.value}`);
            }}
          >
            <option>New</option>
            <option>Active</option>
            <option>Closed</option>
          </select>
          <button type="button" className="btn" onClick={() => setRunOpen(true)}>
            <Icon name="play" /> Run playbook
          </button>
          <Link className="btn primary" to={huntUrl(incidentHuntQuery(i.number))}>
            <Icon name="hunting" /> Hunt
          </Link>
        </div>
      </div>

      {pending.length > 0 && (
        <div className="warn-box" style={{ marginBottom: 16 }}>
          <strong>
            {pending.length} action{pending.length === 1 ? '' : 's'} waiting for approval:{' '}
          </strong>
          {pending.map((a) => a.title).join('; ')} — <Link to="/automation/approvals">open the approvals inbox</Link>
        </div>
      )}

      <div className="incident-grid">
        <div>
          <Tabs<Tab>
            value={tab}
            onChange={setTab}
            tabs={[
              { id: 'story', label: 'Attack story' },
              { id: 'alerts', label: 'Alerts', count: i.alertCount },
              { id: 'entities', label: 'Entities', count: i.entityCount },
              { id: 'timeline', label: 'Timeline' },
              { id: 'comments', label: 'Comments', count: d.comments.length },
              { id: 'tasks', label: 'Tasks', count: d.tasks.length },
              { id: 'audit', label: 'Audit' },
              { id: 'runs', label: 'Playbook runs', count: runs.data?.length ?? 0 },
            ]}
          />
          {tab === 'story' && (
            <Card
              title="Alerts and entities"
              actions={<span className="muted small">Select a node: why it was correlated, or hunt on it</span>}
            >
              <AttackGraph graph={d.graph} alerts={d.alerts.items} entities={d.entities.items} links={d.links.items} />
            </Card>
          )}
          {tab === 'alerts' && <AlertsTable d={d} />}
          {tab === 'entities' && (
            <Card title="Entities" flush>
              <table className="table">
                <thead>
                  <tr>
                    <th>Entity</th>
                    <th>Type</th>
                    <th>Alerts</th>
                    <th>Last seen</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {d.entities.items.map((e) => (
                    <tr key={e.id}>
                      <td>{e.displayName}</td>
                      <td className="muted">{words(e.type)}</td>
                      <td>{e.alertCount}</td>
                      <td className="muted small">{formatTime(e.lastSeen)}</td>
                      <td style={{ textAlign: 'right' }}>
                        <Link className="btn sm" to={huntUrl(entityHuntQuery(e))}>
                          Hunt
                        </Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
          )}
          {tab === 'timeline' && (
            <Card title="Timeline">
              <ul className="timeline">
                {timeline.map((t, k) => (
                  <li key={`${t.at}-${k}`}>
                    <span className="t">{formatTime(t.at)}</span>
                    <span className="rail" />
                    <span>
                      {t.text} <span className="muted small">— {t.who}</span>
                    </span>
                  </li>
                ))}
              </ul>
            </Card>
          )}
          {tab === 'comments' && (
            <Card title="Comments">
              <div className="stack">
                {d.comments.length === 0 && <span className="muted">No comments yet.</span>}
                {d.comments.map((c) => (
                  <div key={c.id} className="comment" data-testid="comment">
                    <div className="who">
                      <Avatar name={actorName(c.author)} />
                      <strong>{actorName(c.author)}</strong>
                      <span className="muted">{relativeTime(c.createdTime)}</span>
                    </div>
                    <div style={{ whiteSpace: 'pre-wrap' }}>{c.message}</div>
                  </div>
                ))}
                <textarea
                  ref={(el) => {
                    commentBox.el = el;
                  }}
                  className="input"
                  rows={3}
                  aria-label="New comment"
                  placeholder="Add a comment (Ctrl+Enter to post)"
                  value={comment}
                  onChange={(e) => setComment(e.target.value)}
                  onKeyDown={(e) => e.key === 'Enter' && (e.ctrlKey || e.metaKey) && void postComment()}
                />
                <div className="row">
                  <button type="button" className="btn primary" onClick={postComment} disabled={!comment.trim()}>
                    Post comment
                  </button>
                </div>
              </div>
            </Card>
          )}
          {tab === 'tasks' && <TasksCard d={d} onChange={detail.reload} />}
          {tab === 'audit' && (
            <Card title="Audit trail" flush>
              <table className="table">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Who</th>
                    <th>What</th>
                    <th>Changes</th>
                  </tr>
                </thead>
                <tbody>
                  {d.audit.items.map((a) => (
                    <tr key={a.id}>
                      <td className="small muted">{formatTime(a.at)}</td>
                      <td>{actorName(a.actor)}</td>
                      <td>{words(a.action)}</td>
                      <td className="small">
                        {a.changes.map((c) => `${c.field}: ${display(c.from)} → ${display(c.to)}`).join('; ')}
                        {a.note && <span className="muted"> ({a.note})</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
          )}
          {tab === 'runs' && (
            <Card title="Playbook runs" flush>
              {runs.error ? (
                <div className="card-body">
                  <ErrorBox error={runs.error} />
                </div>
              ) : (runs.data ?? []).length === 0 ? (
                <Empty title="No playbook ran on this incident" />
              ) : (
                <table className="table">
                  <tbody>
                    {(runs.data ?? []).map((r) => (
                      <tr key={r.id}>
                        <td>{r.playbookName}</td>
                        <td>
                          <StatusBadge status={r.status} />
                        </td>
                        <td className="muted small">{formatTime(r.queuedAt)}</td>
                        <td>
                          <Link to={`/automation/runs?run=${r.id}`}>Step log</Link>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Card>
          )}
        </div>

        <div className="stack">
          <Card title="Details">
            <dl className="kv">
              <dt>Owner</dt>
              <dd data-testid="incident-owner">{owner ?? <span className="muted">Unassigned</span>}</dd>
              <dt>First activity</dt>
              <dd>{formatTime(i.firstActivityTime)}</dd>
              <dt>Last activity</dt>
              <dd>{formatTime(i.lastActivityTime)}</dd>
              <dt>Products</dt>
              <dd>{i.productNames.join(', ') || '—'}</dd>
              <dt>Tactics</dt>
              <dd>{i.tactics.map(words).join(', ') || '—'}</dd>
              <dt>Techniques</dt>
              <dd className="mono small">{i.techniques.join(', ') || '—'}</dd>
              <dt>Tags</dt>
              <dd>
                {i.tags.length
                  ? i.tags.map((t) => (
                      <span key={t} className="tag">
                        {t}
                      </span>
                    ))
                  : '—'}
              </dd>
              {i.classification && (
                <>
                  <dt>Classification</dt>
                  <dd>
                    {words(i.classification)}
                    {i.classificationReason && ` · ${words(i.classificationReason)}`}
                  </dd>
                </>
              )}
            </dl>
            {i.description && (
              <p className="muted small" style={{ marginBottom: 0 }}>
                {i.description}
              </p>
            )}
          </Card>
          <Card
            title="Open tasks"
            actions={
              <button type="button" className="btn ghost sm" onClick={() => setTab('tasks')}>
                All
              </button>
            }
          >
            {d.tasks.filter((t) => t.status !== 'Completed').length === 0 ? (
              <span className="muted small">Nothing open.</span>
            ) : (
              <div className="stack tight">
                {d.tasks
                  .filter((t) => t.status !== 'Completed')
                  .map((t) => (
                    <label key={t.id} className="row small">
                      <input
                        type="checkbox"
                        onChange={() =>
                          api
                            .updateTask(i.id, t.id, { status: 'Completed' })
                            .then(detail.reload, (e: Error) => toast(e.message, true))
                        }
                      />
                      {t.title}
                    </label>
                  ))}
              </div>
            )}
          </Card>
          <Card title="Pivot">
            <div className="stack tight small">
              <Link to={huntUrl(incidentHuntQuery(i.number))}>SecurityIncident and its alerts</Link>
              {d.entities.items.slice(0, 5).map((e) => (
                <Link key={e.id} to={huntUrl(entityHuntQuery(e))}>
                  {words(e.type)}: {e.displayName}
                </Link>
              ))}
            </div>
          </Card>
        </div>
      </div>

      {closing && (
        <CloseDialog
          count={1}
          onClose={() => setClosing(false)}
          onConfirm={(patch) => {
            setClosing(false);
            void update(patch, 'Incident closed');
          }}
        />
      )}
      {runOpen && <RunPlaybookDialog incidentId={i.id} onClose={() => setRunOpen(false)} onDone={runs.reload} />}
    </div>
  );
}

function display(v: unknown): string {
  if (v === null || v === undefined || v === '') return '∅';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.userPrincipalName === 'string') return o.userPrincipalName;
    return JSON.stringify(v);
  }
  return String(v);
}

function AlertsTable({ d }: { d: IncidentDetail }) {
  const [page, setPage] = useState(d.alerts);
  const [items, setItems] = useState(d.alerts.items);
  const more = async () => {
    if (!page.nextCursor) return;
    const next = await api.request<typeof page>(
      'GET',
      `/api/workspaces/${encodeURIComponent(api.workspace)}/incidents/${d.incident.id}/alerts?cursor=${encodeURIComponent(page.nextCursor)}&limit=100`,
    );
    setPage(next);
    setItems((l) => [...l, ...next.items]);
  };
  return (
    <Card title="Alerts" flush>
      <table className="table">
        <thead>
          <tr>
            <th>Time</th>
            <th>Alert</th>
            <th>Severity</th>
            <th>Source</th>
            <th>Tactics</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {items.map((a) => (
            <tr key={a.alertId}>
              <td className="small muted">{formatTime(a.startTime)}</td>
              <td>{a.title}</td>
              <td>
                <SeverityBadge severity={a.severity} />
              </td>
              <td className="small">{a.productName}</td>
              <td className="small muted">{a.tactics.map(words).join(', ')}</td>
              <td style={{ textAlign: 'right' }}>
                <Link className="btn sm" to={huntUrl(alertHuntQuery(a))}>
                  Hunt
                </Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {page.nextCursor && (
        <div className="card-body">
          <button type="button" className="btn" onClick={more}>
            Load more alerts
          </button>
        </div>
      )}
    </Card>
  );
}

function TasksCard({ d, onChange }: { d: IncidentDetail; onChange: () => void }) {
  const { toast } = useApp();
  const [title, setTitle] = useState('');
  const add = async () => {
    try {
      await api.addTask(d.incident.id, title.trim());
      setTitle('');
      onChange();
    } catch (e) {
      toast((e as Error).message, true);
    }
  };
  return (
    <Card title="Tasks">
      <div className="stack tight">
        {d.tasks.map((t) => (
          <label key={t.id} className="row">
            <input
              type="checkbox"
              checked={t.status === 'Completed'}
              onChange={(e) =>
                api
                  .updateTask(d.incident.id, t.id, { status: e.target.checked ? 'Completed' : 'New' })
                  .then(onChange, (x: Error) => toast(x.message, true))
              }
            />
            <span style={{ textDecoration: t.status === 'Completed' ? 'line-through' : undefined }}>{t.title}</span>
            <span className="muted small">— {actorName(t.createdBy)}</span>
          </label>
        ))}
        <div className="row" style={{ marginTop: 8 }}>
          <input
            className="input grow"
            placeholder="New task"
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            onKeyDown={(e) => e.key === 'Enter' && title.trim() && void add()}
          />
          <button type="button" className="btn" disabled={!title.trim()} onClick={add}>
            Add task
          </button>
        </div>
      </div>
    </Card>
  );
}

function RunPlaybookDialog({
  incidentId,
  onClose,
  onDone,
}: {
  incidentId: string;
  onClose: () => void;
  onDone: () => void;
}) {
  const { toast } = useApp();
  const list = useLoad<readonly PlaybookSummary[]>(() => api.playbooks().then((p) => p.playbooks), []);
  const [chosen, setChosen] = useState('');
  const run = async () => {
    try {
      const r = await api.runPlaybook(chosen, incidentId);
      toast(`Playbook started (${r.status})`);
      onDone();
      onClose();
    } catch (e) {
      toast(`Could not start the playbook: ${(e as Error).message}`, true);
    }
  };
  return (
    <Modal
      title="Run a playbook on this incident"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn primary" disabled={!chosen} onClick={run}>
            Run
          </button>
        </>
      }
    >
      {list.error ? (
        <ErrorBox error={list.error} />
      ) : !list.data ? (
        <Spinner />
      ) : list.data.length === 0 ? (
        <span className="muted">No playbooks yet: add one on the Automation page.</span>
      ) : (
        <div className="stack tight">
          {list.data.map((p) => (
            <label key={p.id} className="row">
              <input
                type="radio"
                name="pb"
                checked={chosen === p.id}
                onChange={() => setChosen(p.id)}
                disabled={!p.enabled}
              />
              <strong>{p.name}</strong>{' '}
              <span className="muted small">
                v{p.version}
                {p.enabled ? '' : ' · disabled'}
              </span>
            </label>
          ))}
        </div>
      )}
    </Modal>
  );
}
