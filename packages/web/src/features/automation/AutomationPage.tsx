/**
 * Automation: ordered automation rules with a condition builder and expiry; playbooks with a YAML editor validated
 * by the server; run history with step logs; and the approvals inbox for actions that wait for a person.
 */
import { useEffect, useState } from 'react';
import { api } from '../../api/client.js';
import type { Approval, AutomationRule, PlaybookRun, RuleAction } from '../../api/types.js';
import { navigate, useLocation, useTitle } from '../../app/router.js';
import { useApp, useLoad } from '../../app/state.js';
import { formatTime, relativeTime, words } from '../../data/format.js';
import { formatValueList, parseValueList } from '../../data/value-list.js';
import { Card, Empty, ErrorBox, Field, Modal, Spinner, StatusBadge, Tabs, Toggle } from '../../ui/components.js';
import { Icon } from '../../ui/icons.js';
import { describe, fromGroups, type Group, OPERATORS, PROPERTIES, toGroups } from './conditions.js';

type Tab = 'rules' | 'playbooks' | 'runs' | 'approvals';

/** The diagnostics of a 400 answer (`details` holds them), if any. */
function diagnosticsOf(e: unknown): { message: string; path?: string }[] | null {
  const d = (e as { details?: unknown }).details;
  const list = Array.isArray(d)
    ? d
    : Array.isArray((d as { diagnostics?: unknown })?.diagnostics)
      ? (d as { diagnostics: unknown[] }).diagnostics
      : null;
  return list ? (list as { message: string; path?: string }[]) : null;
}

function problemText(e: unknown): string {
  const d = diagnosticsOf(e);
  return d?.length ? d.map((x) => (x.path ? `${x.path}: ${x.message}` : x.message)).join('; ') : (e as Error).message;
}

export default function AutomationPage({ tab: initial }: { tab?: string }) {
  const tab: Tab = (['rules', 'playbooks', 'runs', 'approvals'] as const).find((t) => t === initial) ?? 'rules';
  useTitle(`Automation · ${words(tab)}`);
  const pending = useLoad(() => api.approvals({ status: 'pending' }).then((p) => p.approvals.length), []);
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Automation</h1>
          <div className="sub">
            Rules run in order on every incident and alert; playbooks respond; people approve what is destructive
          </div>
        </div>
      </div>
      <Tabs<Tab>
        value={tab}
        onChange={(t) => navigate(`/automation/${t}`)}
        tabs={[
          { id: 'rules', label: 'Automation rules' },
          { id: 'playbooks', label: 'Playbooks' },
          { id: 'runs', label: 'Run history' },
          { id: 'approvals', label: 'Approvals', ...(pending.data ? { count: pending.data } : {}) },
        ]}
      />
      {tab === 'rules' && <RulesTab />}
      {tab === 'playbooks' && <PlaybooksTab />}
      {tab === 'runs' && <RunsTab />}
      {tab === 'approvals' && <ApprovalsTab onChange={pending.reload} />}
    </div>
  );
}

function actionText(a: RuleAction): string {
  switch (a.type) {
    case 'changeStatus':
      return `Status → ${a.status}`;
    case 'changeSeverity':
      return `Severity → ${a.severity}`;
    case 'assignOwner':
      return `Owner → ${a.owner.userPrincipalName ?? a.owner.assignedTo ?? a.owner.email ?? '?'}`;
    case 'addTags':
      return `Tags + ${a.tags.join(', ')}`;
    case 'addTasks':
      return `${a.tasks.length} task${a.tasks.length === 1 ? '' : 's'}`;
    case 'runPlaybook':
      return `Run ${a.playbookId}`;
  }
}

function RulesTab() {
  const { toast } = useApp();
  const rules = useLoad(() => api.automationRules().then((p) => [...p.rules].sort((a, b) => a.order - b.order)), []);
  const [editing, setEditing] = useState<AutomationRule | null>(null);
  const save = async (r: AutomationRule) => {
    try {
      const res = await api.putAutomationRule(r);
      const warnings = res.diagnostics.filter((d) => d.severity === 'warning');
      toast(`Saved "${r.name}"${warnings.length ? ` (${warnings.map((w) => w.message).join('; ')})` : ''}`);
      rules.reload();
      return true;
    } catch (e) {
      toast(problemText(e), true);
      return false;
    }
  };
  const blank: AutomationRule = {
    id: `ar-${Math.random().toString(36).slice(2, 8)}`,
    name: '',
    description: '',
    order: ((rules.data ?? []).at(-1)?.order ?? 0) + 1,
    enabled: true,
    trigger: 'incidentCreated',
    expiresAt: null,
    conditions: null,
    actions: [],
  };
  return (
    <Card
      title="Automation rules"
      actions={
        <button type="button" className="btn primary sm" onClick={() => setEditing(blank)}>
          <Icon name="plus" /> New rule
        </button>
      }
      flush
    >
      {rules.error ? (
        <div className="card-body">
          <ErrorBox error={rules.error} />
        </div>
      ) : !rules.data ? (
        <div className="card-body">
          <Spinner />
        </div>
      ) : rules.data.length === 0 ? (
        <Empty title="No automation rules" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th style={{ width: 50 }}>Order</th>
              <th>Rule</th>
              <th>Trigger</th>
              <th>Conditions</th>
              <th>Actions</th>
              <th>Expires</th>
              <th>On</th>
            </tr>
          </thead>
          <tbody>
            {rules.data.map((r) => (
              <tr key={r.id} onClick={() => setEditing(r)} style={{ cursor: 'pointer' }}>
                <td className="mono">{r.order}</td>
                <td style={{ fontWeight: 500 }}>{r.name}</td>
                <td className="small">{words(r.trigger)}</td>
                <td className="small muted">{describe(r.conditions)}</td>
                <td className="small">{r.actions.map(actionText).join(' · ')}</td>
                <td className="small muted">{r.expiresAt ? formatTime(r.expiresAt) : 'Never'}</td>
                <td onClick={(e) => e.stopPropagation()}>
                  <Toggle on={r.enabled} label={`Enable ${r.name}`} onChange={(v) => void save({ ...r, enabled: v })} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing && (
        <RuleEditor
          rule={editing}
          onClose={() => setEditing(null)}
          onSave={async (r) => (await save(r)) && setEditing(null)}
        />
      )}
    </Card>
  );
}

function RuleEditor({
  rule,
  onClose,
  onSave,
}: {
  rule: AutomationRule;
  onClose: () => void;
  onSave: (r: AutomationRule) => void;
}) {
  const [r, setR] = useState(rule);
  const [groups, setGroups] = useState<Group[]>(() => toGroups(rule.conditions) ?? []);
  const editable = toGroups(rule.conditions) !== null;
  const [tags, setTags] = useState(() =>
    formatValueList(rule.actions.flatMap((a) => (a.type === 'addTags' ? a.tags : []))),
  );
  const [owner, setOwner] = useState(
    () => rule.actions.find((a) => a.type === 'assignOwner')?.owner.userPrincipalName ?? '',
  );
  const others = rule.actions.filter((a) => a.type !== 'addTags' && a.type !== 'assignOwner');
  const titleWarning = groups.some((g) => g.items.some((c) => c.property === 'title'));
  const build = (): AutomationRule => ({
    ...r,
    conditions: editable ? fromGroups(groups) : rule.conditions,
    actions: [
      ...(owner.trim() ? [{ type: 'assignOwner' as const, owner: { userPrincipalName: owner.trim() } }] : []),
      ...(tags.trim()
        ? [
            {
              type: 'addTags' as const,
              tags: parseValueList(tags),
            },
          ]
        : []),
      ...others,
    ],
  });
  return (
    <Modal
      title={rule.name ? `Edit "${rule.name}"` : 'New automation rule'}
      wide
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn primary" disabled={!r.name.trim()} onClick={() => onSave(build())}>
            Save
          </button>
        </>
      }
    >
      <div className="stack">
        <div className="grid3">
          <Field label="Name">
            <input className="input" value={r.name} onChange={(e) => setR({ ...r, name: e.target.value })} />
          </Field>
          <Field label="Trigger">
            <select
              className="select"
              value={r.trigger}
              onChange={(e) => setR({ ...r, trigger: e.target.value as AutomationRule['trigger'] })}
            >
              <option value="incidentCreated">When an incident is created</option>
              <option value="incidentUpdated">When an incident is updated</option>
              <option value="alertCreated">When an alert is created</option>
            </select>
          </Field>
          <div className="row">
            <Field label="Order">
              <input
                className="input"
                style={{ width: 80 }}
                type="number"
                value={r.order}
                onChange={(e) => setR({ ...r, order: Number(e.target.value) })}
              />
            </Field>
            <Field label="Expires" hint="optional">
              <input
                className="input"
                type="datetime-local"
                value={r.expiresAt ? r.expiresAt.slice(0, 16) : ''}
                onChange={(e) =>
                  setR({ ...r, expiresAt: e.target.value ? new Date(`${e.target.value}Z`).toISOString() : null })
                }
              />
            </Field>
          </div>
        </div>
        <div>
          <div className="row" style={{ marginBottom: 8 }}>
            <h3>Conditions</h3>
            <div className="grow" />
            {editable && (
              <>
                <button
                  type="button"
                  className="btn sm"
                  onClick={() =>
                    setGroups([
                      ...groups,
                      { mode: 'all', items: [{ property: 'severity', operator: 'equals', values: ['High'] }] },
                    ])
                  }
                >
                  + AND condition
                </button>
                <button
                  type="button"
                  className="btn sm"
                  onClick={() =>
                    setGroups([
                      ...groups,
                      {
                        mode: 'any',
                        items: [
                          { property: 'Tactics', operator: 'contains', values: [''] },
                          { property: 'Tags', operator: 'contains', values: [''] },
                        ],
                      },
                    ])
                  }
                >
                  + OR group
                </button>
              </>
            )}
          </div>
          {!editable ? (
            <div className="warn-box small">
              This rule's conditions are nested deeper than the builder edits: {describe(rule.conditions)}. Edit its
              YAML to change them.
            </div>
          ) : groups.length === 0 ? (
            <span className="muted small">
              No conditions: the rule applies to every {r.trigger === 'alertCreated' ? 'alert' : 'incident'}.
            </span>
          ) : (
            <div className="stack tight">
              {groups.map((g, gi) => (
                <div key={`g-${gi}`} className="card" style={{ padding: 10 }}>
                  <div className="small muted" style={{ marginBottom: 6 }}>
                    {g.mode === 'all' ? 'All of' : 'Any of'}
                  </div>
                  {g.items.map((c, ci) => (
                    <div key={`c-${gi}-${ci}`} className="row" style={{ marginBottom: 6 }}>
                      <select
                        className="select"
                        value={c.property}
                        onChange={(e) =>
                          setGroups(
                            groups.map((x, i) =>
                              i !== gi
                                ? x
                                : {
                                    ...x,
                                    items: x.items.map((y, j) => (j === ci ? { ...y, property: e.target.value } : y)),
                                  },
                            ),
                          )
                        }
                      >
                        {PROPERTIES.map((p) => (
                          <option key={p}>{p}</option>
                        ))}
                      </select>
                      <select
                        className="select"
                        value={c.operator}
                        onChange={(e) =>
                          setGroups(
                            groups.map((x, i) =>
                              i !== gi
                                ? x
                                : {
                                    ...x,
                                    items: x.items.map((y, j) => (j === ci ? { ...y, operator: e.target.value } : y)),
                                  },
                            ),
                          )
                        }
                      >
                        {OPERATORS.map((p) => (
                          <option key={p} value={p}>
                            {words(p)}
                          </option>
                        ))}
                      </select>
                      <ValuesInput
                        values={c.values}
                        onChange={(values) =>
                          setGroups(
                            groups.map((x, i) =>
                              i !== gi ? x : { ...x, items: x.items.map((y, j) => (j === ci ? { ...y, values } : y)) },
                            ),
                          )
                        }
                      />
                      <button
                        type="button"
                        className="btn ghost sm"
                        onClick={() =>
                          setGroups(
                            groups
                              .map((x, i) => (i !== gi ? x : { ...x, items: x.items.filter((_, j) => j !== ci) }))
                              .filter((x) => x.items.length),
                          )
                        }
                      >
                        Remove
                      </button>
                    </div>
                  ))}
                </div>
              ))}
            </div>
          )}
          {titleWarning && (
            <div className="warn-box small" style={{ marginTop: 8 }}>
              Incident titles change as alerts join (automatic naming): a condition on Title may stop matching later.
            </div>
          )}
        </div>
        <div>
          <h3 style={{ marginBottom: 8 }}>Actions</h3>
          <div className="grid2">
            <Field label="Assign owner" hint="UPN">
              <input className="input" value={owner} onChange={(e) => setOwner(e.target.value)} />
            </Field>
            <Field label="Add tags" hint="comma-separated">
              <input className="input" value={tags} onChange={(e) => setTags(e.target.value)} />
            </Field>
          </div>
          {others.length > 0 && (
            <div className="small muted" style={{ marginTop: 8 }}>
              Also: {others.map(actionText).join(' · ')}
            </div>
          )}
        </div>
      </div>
    </Modal>
  );
}

/**
 * A condition's values as one text box. The typed text is kept as typed (a value may end with a space while it is
 * being typed) and parsed on every change; a value holding a comma is written in double quotes.
 */
function ValuesInput({ values, onChange }: { values: readonly string[]; onChange: (values: string[]) => void }) {
  const [text, setText] = useState(() => formatValueList(values));
  // The rows are keyed by position: after a row above is removed, this box receives another condition's values.
  const typed = parseValueList(text);
  const shown =
    typed.length === values.length && typed.every((v, i) => v === values[i]) ? text : formatValueList(values);
  return (
    <input
      className="input grow"
      placeholder='values, comma-separated ("quoted, if a value has a comma")'
      value={shown}
      onChange={(e) => {
        setText(e.target.value);
        onChange(parseValueList(e.target.value));
      }}
    />
  );
}

function PlaybooksTab() {
  const { toast } = useApp();
  const list = useLoad(() => api.playbooks().then((p) => p.playbooks), []);
  const [selected, setSelected] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [problems, setProblems] = useState<{ message: string; path?: string }[] | null>(null);
  useEffect(() => {
    const first = list.data?.[0]?.id;
    if (!selected && first) setSelected(first);
  }, [list.data, selected]);
  useEffect(() => {
    if (!selected) return;
    api.playbook(selected).then(
      (p) => {
        setText(p.source);
        setProblems(null);
      },
      (e: Error) => toast(e.message, true),
    );
  }, [selected, toast]);
  const validate = async () => {
    try {
      const r = await api.validatePlaybook(text);
      setProblems([...r.diagnostics]);
    } catch (e) {
      setProblems([{ message: (e as Error).message }]);
    }
  };
  const save = async () => {
    try {
      const id = /^id:\s*(\S+)/m.exec(text)?.[1]?.replace(/^['"]|['"]$/g, '');
      if (!id) return setProblems([{ message: 'The playbook needs an id.', path: 'id' }]);
      const r = await api.putPlaybook(id, text);
      toast(`Playbook saved (version ${r.playbook.version})`);
      setProblems([...r.diagnostics]);
      setSelected(id);
      list.reload();
    } catch (e) {
      setProblems(diagnosticsOf(e) ?? [{ message: (e as Error).message }]);
    }
  };
  return (
    <div className="grid2" style={{ gridTemplateColumns: '280px 1fr' }}>
      <Card
        title="Playbooks"
        flush
        actions={
          <button
            type="button"
            className="btn sm"
            onClick={() => {
              setSelected(null);
              setText(
                'id: my-playbook\nname: My playbook\ntrigger: incident\nsteps:\n  - id: comment\n    type: comment\n    message: "Triage started"\n',
              );
              setProblems(null);
            }}
          >
            New
          </button>
        }
      >
        {list.error ? (
          <div className="card-body">
            <ErrorBox error={list.error} />
          </div>
        ) : (
          (list.data ?? []).map((p) => (
            <div
              key={p.id}
              className="check"
              style={{ cursor: 'pointer', background: selected === p.id ? 'var(--accent-bg)' : undefined }}
              onClick={() => setSelected(p.id)}
            >
              <div className="grow">
                <div style={{ fontWeight: 500 }}>{p.name}</div>
                <div className="muted small">
                  v{p.version} · {p.enabled ? 'enabled' : 'disabled'} · {relativeTime(p.createdAt)}
                </div>
              </div>
            </div>
          ))
        )}
      </Card>
      <Card
        title="Playbook (YAML)"
        actions={
          <>
            <button type="button" className="btn sm" onClick={validate}>
              Validate
            </button>
            <button type="button" className="btn primary sm" onClick={save}>
              Save
            </button>
          </>
        }
      >
        <div className="stack">
          <textarea
            className="code-editor"
            value={text}
            spellCheck={false}
            aria-label="Playbook YAML"
            onChange={(e) => {
              setText(e.target.value);
              setProblems(null);
            }}
          />
          {problems &&
            (problems.length === 0 ? (
              <div className="ok">✓ Valid playbook</div>
            ) : (
              <div className="error-box">
                {problems.map((p) => (
                  <div key={p.message}>
                    {p.path ? `${p.path}: ` : ''}
                    {p.message}
                  </div>
                ))}
              </div>
            ))}
        </div>
      </Card>
    </div>
  );
}

function RunsTab() {
  const { search } = useLocation();
  const runs = useLoad(() => api.runs().then((p) => p.items), []);
  const [open, setOpen] = useState<string | null>(new URLSearchParams(search).get('run'));
  // The newest run opens by itself: its steps and log are what one comes here for.
  const shown = open ?? runs.data?.[0]?.id ?? null;
  const detail = useLoad(() => (shown ? api.run(shown) : Promise.resolve(null)), [shown]);
  return (
    <div className="grid2" style={{ gridTemplateColumns: 'minmax(0,1fr) minmax(0,1fr)' }}>
      <Card title="Runs" flush>
        {runs.error ? (
          <div className="card-body">
            <ErrorBox error={runs.error} />
          </div>
        ) : !runs.data ? (
          <div className="card-body">
            <Spinner />
          </div>
        ) : runs.data.length === 0 ? (
          <Empty title="No playbook runs yet" />
        ) : (
          <table className="table">
            <tbody>
              {runs.data.map((r: PlaybookRun) => (
                <tr
                  key={r.id}
                  onClick={() => setOpen(r.id)}
                  style={{ cursor: 'pointer', background: shown === r.id ? 'var(--accent-bg)' : undefined }}
                >
                  <td>
                    <div style={{ fontWeight: 500 }}>{r.playbookName}</div>
                    <div className="muted small">
                      {r.trigger?.kind ?? ''} · {relativeTime(r.queuedAt)}
                    </div>
                  </td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title="Steps and log">
        {!shown ? (
          <span className="muted">Select a run.</span>
        ) : detail.error ? (
          <ErrorBox error={detail.error} />
        ) : !detail.data ? (
          <Spinner />
        ) : (
          <div className="stack">
            {detail.data.run.error && <div className="error-box">{detail.data.run.error}</div>}
            <table className="table">
              <tbody>
                {detail.data.steps.map((s) => (
                  <tr key={s.key}>
                    <td className="mono small">{s.stepId}</td>
                    <td className="small">{s.type}</td>
                    <td>
                      <StatusBadge status={s.status} />
                    </td>
                    <td className="small muted">{s.error ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <pre
              className="mono small"
              style={{
                margin: 0,
                maxHeight: 300,
                overflow: 'auto',
                background: 'var(--bg-sunken)',
                padding: 10,
                borderRadius: 6,
              }}
            >
              {detail.data.logs
                .map((l) => `${formatTime(l.at)} ${l.level.toUpperCase().padEnd(5)} ${l.stepKey ?? ''} ${l.message}`)
                .join('\n')}
            </pre>
          </div>
        )}
      </Card>
    </div>
  );
}

function ApprovalsTab({ onChange }: { onChange: () => void }) {
  const { toast } = useApp();
  const [status, setStatus] = useState('pending');
  const list = useLoad(() => api.approvals(status ? { status } : {}).then((p) => p.approvals), [status]);
  const decide = async (a: Approval, d: 'approve' | 'reject') => {
    try {
      await api.decide(a.id, d);
      toast(`${d === 'approve' ? 'Approved' : 'Rejected'}: ${a.title}`);
      list.reload();
      onChange();
    } catch (e) {
      toast((e as Error).message, true);
    }
  };
  return (
    <Card
      title="Approvals"
      flush
      actions={
        <select className="select" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="pending">Waiting</option>
          <option value="">All</option>
        </select>
      }
    >
      {list.error ? (
        <div className="card-body">
          <ErrorBox error={list.error} />
        </div>
      ) : !list.data ? (
        <div className="card-body">
          <Spinner />
        </div>
      ) : list.data.length === 0 ? (
        <Empty title="Nothing waits for approval" />
      ) : (
        <table className="table" data-testid="approvals">
          <thead>
            <tr>
              <th>Action</th>
              <th>Target</th>
              <th>Requested</th>
              <th>Expires</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.map((a) => (
              <tr key={a.id}>
                <td>
                  <div style={{ fontWeight: 500 }}>{a.title}</div>
                  <div className="muted small">{a.description}</div>
                </td>
                <td className="small">{a.target ? `${a.target.type}: ${a.target.id}` : '—'}</td>
                <td className="small muted">
                  {a.requestedBy.name ?? a.requestedBy.id} · {relativeTime(a.requestedAt)}
                </td>
                <td className="small muted">{relativeTime(a.expiresAt)}</td>
                <td>
                  <StatusBadge status={a.status} />
                </td>
                <td style={{ textAlign: 'right', whiteSpace: 'nowrap' }}>
                  {a.status === 'pending' && (
                    <>
                      <button type="button" className="btn sm primary" onClick={() => decide(a, 'approve')}>
                        Approve
                      </button>{' '}
                      <button type="button" className="btn sm danger" onClick={() => decide(a, 'reject')}>
                        Reject
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}
