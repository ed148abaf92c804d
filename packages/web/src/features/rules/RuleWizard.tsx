/**
 * The analytics rule wizard (Sentinel's steps): general, rule logic with a live preview of the query's results over
 * the lookback and entity mapping from the preview's columns, incident settings (grouping, suppression), and review
 * with the server's validation and a simulation of the alerts the rule would have raised. Saves Sentinel YAML.
 */
import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client.js';
import type { QueryResult, SimulatedAlert } from '../../api/types.js';
import { SEVERITIES } from '../../api/types.js';
import { Link, navigate, useLocation, useTitle } from '../../app/router.js';
import { useApp } from '../../app/state.js';
import { formatNumber, formatTime, parseDuration, words } from '../../data/format.js';
import {
  ENTITY_TYPES,
  newWizard,
  suggestColumn,
  TACTICS,
  validateWizard,
  type WizardState,
  wizardToYaml,
} from '../../data/rule-yaml.js';
import { Card, ErrorBox, Field, SeverityBadge, Spinner, Toggle } from '../../ui/components.js';
import { ResultsGrid } from '../hunting/ResultsGrid.js';

type Step = 'general' | 'query' | 'incident' | 'review';
const STEPS: readonly { id: Step; label: string }[] = [
  { id: 'general', label: 'General' },
  { id: 'query', label: 'Rule logic' },
  { id: 'incident', label: 'Incident settings' },
  { id: 'review', label: 'Review and create' },
];

/** An ISO 8601 duration for the preview's time range (`PT1H`, `P14D`). */
function isoDuration(ms: number) {
  return ms % 86400_000 === 0 ? `P${ms / 86400_000}D` : `PT${Math.max(1, Math.round(ms / 60_000))}M`;
}

export default function RuleWizard() {
  useTitle('New analytics rule');
  const { search } = useLocation();
  const { toast } = useApp();
  const [s, setS] = useState<WizardState>(() => newWizard(new URLSearchParams(search).get('q') ?? ''));
  const [step, setStep] = useState<Step>('general');
  const [preview, setPreview] = useState<QueryResult | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [previewing, setPreviewing] = useState(false);
  const [sim, setSim] = useState<{ alerts: readonly SimulatedAlert[]; runs: number } | null>(null);
  const [simError, setSimError] = useState<unknown>(null);
  const [serverProblems, setServerProblems] = useState<string[]>([]);
  // The server's warnings (e.g. no TimeGenerated column) do not block creation: shown apart from errors.
  const [serverWarnings, setServerWarnings] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const set = (patch: Partial<WizardState>) => setS((x) => ({ ...x, ...patch }));
  const problems = validateWizard(s);
  const yaml = useMemo(() => wizardToYaml(s), [s]);
  const columns = (preview?.columns ?? []).map((c) => c.name);

  // Live preview: the query over the lookback, a moment after typing stops.
  useEffect(() => {
    if (!s.query.trim()) return;
    const period = parseDuration(s.queryPeriod) ?? 3600_000;
    const ctl = new AbortController();
    const t = setTimeout(() => {
      setPreviewing(true);
      api
        .query(s.query, ctl.signal, { maxRows: 1000, timespan: isoDuration(period) })
        .then((r) => {
          setPreview(r);
          setPreviewError(null);
        })
        .catch((e: unknown) => (e as Error).name !== 'AbortError' && setPreviewError(e))
        .finally(() => setPreviewing(false));
    }, 600);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
  }, [s.query, s.queryPeriod]);

  const simulate = async () => {
    setSim(null);
    setSimError(null);
    try {
      const r = await api.simulateRule(yaml, Math.max(parseDuration(s.queryPeriod) ?? 3600_000, 24 * 3600_000));
      setSim(r);
    } catch (e) {
      setSimError(e);
    }
  };
  const validate = async () => {
    try {
      const v = await api.validateRules(yaml);
      const of = (severity: string) =>
        v.rules.flatMap((r) => r.diagnostics.filter((d) => d.severity === severity).map((d) => d.message));
      setServerProblems(of('error'));
      setServerWarnings(of('warning'));
      return v.rules.every((r) => r.ok);
    } catch (e) {
      setServerProblems([(e as Error).message]);
      return false;
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the review step opens
  useEffect(() => {
    if (step === 'review') {
      void validate();
      void simulate();
    }
  }, [step]);

  const create = async () => {
    setSaving(true);
    try {
      const r = await api.importRules(yaml, { enabled: s.enabled });
      const bad = r.results.find((x) => x.status === 'rejected');
      if (bad) setServerProblems(bad.diagnostics.map((d) => d.message));
      else {
        toast(`Rule "${s.name}" created`);
        navigate('/rules');
      }
    } catch (e) {
      const details = (e as { details?: { results?: { diagnostics: { message: string }[] }[] } }).details;
      setServerProblems(
        details?.results?.flatMap((x) => x.diagnostics.map((d) => d.message)) ?? [(e as Error).message],
      );
    } finally {
      setSaving(false);
    }
  };

  const stepIndex = STEPS.findIndex((x) => x.id === step);
  return (
    <div className="page">
      <div className="crumbs">
        <Link to="/rules">Analytics rules</Link> / New rule
      </div>
      <div className="page-head">
        <div>
          <h1>New analytics rule</h1>
          <div className="sub">Scheduled or near-real-time KQL rule, saved as Sentinel YAML</div>
        </div>
      </div>
      <div className="wizard">
        <nav className="steps" aria-label="Wizard steps">
          {STEPS.map((x, k) => (
            <button key={x.id} type="button" className={x.id === step ? 'active' : ''} onClick={() => setStep(x.id)}>
              <span className="n">{k + 1}</span>
              {x.label}
              {problems.some((p) => p.step === x.id) && <span className="bad">•</span>}
            </button>
          ))}
        </nav>
        <div className="stack">
          {step === 'general' && (
            <Card title="General">
              <div className="stack">
                <Field label="Name">
                  <input
                    className="input"
                    value={s.name}
                    onChange={(e) => set({ name: e.target.value })}
                    aria-label="Rule name"
                  />
                </Field>
                <Field label="Description">
                  <textarea
                    className="input"
                    rows={3}
                    value={s.description}
                    onChange={(e) => set({ description: e.target.value })}
                  />
                </Field>
                <div className="grid3">
                  <Field label="Severity">
                    <select
                      className="select"
                      value={s.severity}
                      onChange={(e) => set({ severity: e.target.value as WizardState['severity'] })}
                    >
                      {SEVERITIES.map((x) => (
                        <option key={x}>{x}</option>
                      ))}
                    </select>
                  </Field>
                  <Field label="Kind">
                    <select
                      className="select"
                      value={s.kind}
                      onChange={(e) => set({ kind: e.target.value as WizardState['kind'] })}
                    >
                      <option value="Scheduled">Scheduled</option>
                      <option value="NRT">Near real time (NRT)</option>
                    </select>
                  </Field>
                  <Field label="MITRE techniques" hint="T1059.001, T1003">
                    <input
                      className="input"
                      value={s.techniques}
                      onChange={(e) => set({ techniques: e.target.value })}
                    />
                  </Field>
                </div>
                <Field label="Tactics">
                  <div className="row wrap">
                    {TACTICS.map((t) => (
                      <button
                        key={t}
                        type="button"
                        className={`chip ${s.tactics.includes(t) ? 'on' : ''}`}
                        onClick={() =>
                          set({ tactics: s.tactics.includes(t) ? s.tactics.filter((x) => x !== t) : [...s.tactics, t] })
                        }
                      >
                        {words(t)}
                      </button>
                    ))}
                  </div>
                </Field>
              </div>
            </Card>
          )}
          {step === 'query' && (
            <>
              <Card title="Rule query">
                <div className="stack">
                  <textarea
                    className="code-editor"
                    style={{ minHeight: 180 }}
                    value={s.query}
                    spellCheck={false}
                    aria-label="Rule query"
                    onChange={(e) => set({ query: e.target.value })}
                  />
                  {s.kind === 'Scheduled' && (
                    <div className="grid3">
                      <Field label="Run query every">
                        <input
                          className="input"
                          value={s.queryFrequency}
                          onChange={(e) => set({ queryFrequency: e.target.value })}
                        />
                      </Field>
                      <Field label="Lookup data from the last">
                        <input
                          className="input"
                          value={s.queryPeriod}
                          onChange={(e) => set({ queryPeriod: e.target.value })}
                        />
                      </Field>
                      <Field label="Alert when the number of results">
                        <div className="row">
                          <select
                            className="select"
                            value={s.triggerOperator}
                            onChange={(e) => set({ triggerOperator: e.target.value as WizardState['triggerOperator'] })}
                          >
                            <option value="gt">is greater than</option>
                            <option value="lt">is less than</option>
                            <option value="eq">equals</option>
                            <option value="ne">is not</option>
                          </select>
                          <input
                            className="input"
                            style={{ width: 70 }}
                            type="number"
                            value={s.triggerThreshold}
                            onChange={(e) => set({ triggerThreshold: Number(e.target.value) })}
                          />
                        </div>
                      </Field>
                    </div>
                  )}
                </div>
              </Card>
              <Card
                title="Results preview"
                actions={
                  <span className="muted small" data-testid="preview-summary">
                    {previewing ? (
                      <Spinner label="Running…" />
                    ) : preview ? (
                      `${formatNumber(preview.rowCount)} result${preview.rowCount === 1 ? '' : 's'} over the last ${s.queryPeriod}${preview.truncated ? ' (truncated)' : ''}`
                    ) : (
                      ''
                    )}
                  </span>
                }
                flush
              >
                {previewError ? (
                  <div className="card-body">
                    <ErrorBox error={previewError} />
                  </div>
                ) : preview && preview.rows.length > 0 ? (
                  <div style={{ height: 220, display: 'flex' }}>
                    <ResultsGrid key={columns.join()} columns={preview.columns} rows={preview.rows} />
                  </div>
                ) : (
                  <div className="empty">
                    {preview
                      ? 'No results over the lookback: the rule would raise no alert now.'
                      : 'Type a query to preview its results.'}
                  </div>
                )}
              </Card>
              <Card
                title="Entity mapping"
                actions={
                  <select
                    className="select"
                    value=""
                    aria-label="Add entity"
                    onChange={(e) => {
                      const t = e.target.value;
                      if (!t) return;
                      const id = ENTITY_TYPES[t]?.[0] ?? 'Name';
                      set({
                        mappings: [
                          ...s.mappings,
                          { entityType: t, identifier: id, columnName: suggestColumn(id, columns) },
                        ],
                      });
                    }}
                  >
                    <option value="">Add entity…</option>
                    {Object.keys(ENTITY_TYPES).map((t) => (
                      <option key={t}>{t}</option>
                    ))}
                  </select>
                }
              >
                {s.mappings.length === 0 ? (
                  <span className="muted">
                    Map result columns to entities (accounts, hosts, IPs, …) so that alerts correlate into incidents.
                  </span>
                ) : (
                  <div className="stack tight">
                    {s.mappings.map((m, k) => (
                      <div key={`${m.entityType}-${k}`} className="row">
                        <strong style={{ width: 140 }}>{m.entityType}</strong>
                        <select
                          className="select"
                          value={m.identifier}
                          onChange={(e) =>
                            set({
                              mappings: s.mappings.map((x, j) =>
                                j === k
                                  ? {
                                      ...x,
                                      identifier: e.target.value,
                                      columnName: x.columnName || suggestColumn(e.target.value, columns),
                                    }
                                  : x,
                              ),
                            })
                          }
                        >
                          {(ENTITY_TYPES[m.entityType] ?? []).map((i) => (
                            <option key={i}>{i}</option>
                          ))}
                        </select>
                        <span className="muted">←</span>
                        <select
                          className="select"
                          value={m.columnName}
                          aria-label={`${m.entityType} column`}
                          onChange={(e) =>
                            set({
                              mappings: s.mappings.map((x, j) => (j === k ? { ...x, columnName: e.target.value } : x)),
                            })
                          }
                        >
                          <option value="">column…</option>
                          {columns.map((c) => (
                            <option key={c}>{c}</option>
                          ))}
                        </select>
                        <button
                          type="button"
                          className="btn ghost sm"
                          onClick={() => set({ mappings: s.mappings.filter((_, j) => j !== k) })}
                        >
                          Remove
                        </button>
                      </div>
                    ))}
                  </div>
                )}
              </Card>
              <div className="grid2">
                <Card
                  title="Custom details"
                  actions={
                    <button
                      type="button"
                      className="btn sm"
                      onClick={() => set({ customDetails: [...s.customDetails, { key: '', column: '' }] })}
                    >
                      Add
                    </button>
                  }
                >
                  {s.customDetails.length === 0 && (
                    <span className="muted small">Surface result columns in the alert.</span>
                  )}
                  <div className="stack tight">
                    {s.customDetails.map((d, k) => (
                      <div key={`cd-${k}`} className="row">
                        <input
                          className="input grow"
                          placeholder="Key"
                          value={d.key}
                          onChange={(e) =>
                            set({
                              customDetails: s.customDetails.map((x, j) =>
                                j === k ? { ...x, key: e.target.value } : x,
                              ),
                            })
                          }
                        />
                        <select
                          className="select"
                          value={d.column}
                          onChange={(e) =>
                            set({
                              customDetails: s.customDetails.map((x, j) =>
                                j === k ? { ...x, column: e.target.value } : x,
                              ),
                            })
                          }
                        >
                          <option value="">column…</option>
                          {columns.map((c) => (
                            <option key={c}>{c}</option>
                          ))}
                        </select>
                      </div>
                    ))}
                  </div>
                </Card>
                <Card title="Alert details">
                  <div className="stack tight">
                    <Field label="Alert name format" hint="{{Column}} placeholders">
                      <input
                        className="input"
                        value={s.alertNameFormat}
                        onChange={(e) => set({ alertNameFormat: e.target.value })}
                      />
                    </Field>
                    <Field label="Alert description format">
                      <input
                        className="input"
                        value={s.alertDescriptionFormat}
                        onChange={(e) => set({ alertDescriptionFormat: e.target.value })}
                      />
                    </Field>
                    <Field label="Event grouping">
                      <select
                        className="select"
                        value={s.aggregation}
                        onChange={(e) => set({ aggregation: e.target.value as WizardState['aggregation'] })}
                      >
                        <option value="AlertPerResult">One alert per result</option>
                        <option value="SingleAlert">One alert for all results</option>
                      </select>
                    </Field>
                  </div>
                </Card>
              </div>
            </>
          )}
          {step === 'incident' && (
            <Card title="Incident settings">
              <div className="stack">
                <label className="row">
                  <Toggle on={s.createIncident} label="Create incidents" onChange={(v) => set({ createIncident: v })} />{' '}
                  Create incidents from alerts raised by this rule
                </label>
                <label className="row">
                  <Toggle on={s.grouping} label="Group alerts" onChange={(v) => set({ grouping: v })} /> Group related
                  alerts into one incident
                </label>
                {s.grouping && (
                  <div className="grid3">
                    <Field label="Group alerts raised within">
                      <input
                        className="input"
                        value={s.groupLookback}
                        onChange={(e) => set({ groupLookback: e.target.value })}
                      />
                    </Field>
                    <Field label="Matching">
                      <select
                        className="select"
                        value={s.matchingMethod}
                        onChange={(e) => set({ matchingMethod: e.target.value as WizardState['matchingMethod'] })}
                      >
                        <option value="AllEntities">All entities match</option>
                        <option value="AnyAlert">Any alert of this rule</option>
                        <option value="Selected">Selected entities and details</option>
                      </select>
                    </Field>
                    <label className="row" style={{ alignSelf: 'end' }}>
                      <input
                        type="checkbox"
                        checked={s.reopenClosed}
                        onChange={(e) => set({ reopenClosed: e.target.checked })}
                      />{' '}
                      Re-open closed incidents
                    </label>
                  </div>
                )}
                <label className="row">
                  <Toggle
                    on={s.suppressionEnabled}
                    label="Suppression"
                    onChange={(v) => set({ suppressionEnabled: v })}
                  />{' '}
                  Stop running the query after an alert
                </label>
                {s.suppressionEnabled && (
                  <Field label="Suppress for">
                    <input
                      className="input"
                      style={{ width: 120 }}
                      value={s.suppressionDuration}
                      onChange={(e) => set({ suppressionDuration: e.target.value })}
                    />
                  </Field>
                )}
                <label className="row">
                  <Toggle on={s.enabled} label="Enabled" onChange={(v) => set({ enabled: v })} /> Enable the rule when
                  it is created
                </label>
              </div>
            </Card>
          )}
          {step === 'review' && (
            <>
              {(problems.length > 0 || serverProblems.length > 0) && (
                <div className="error-box" data-testid="wizard-problems">
                  {[...problems.map((p) => p.message), ...serverProblems].map((m) => (
                    <div key={m}>{m}</div>
                  ))}
                </div>
              )}
              {serverWarnings.length > 0 && (
                <div className="warn-box" data-testid="wizard-warnings">
                  {serverWarnings.map((m) => (
                    <div key={m}>{m}</div>
                  ))}
                </div>
              )}
              <Card
                title="Simulation"
                actions={
                  <button type="button" className="btn sm" onClick={simulate}>
                    Run again
                  </button>
                }
              >
                {simError ? (
                  <ErrorBox error={simError} />
                ) : !sim ? (
                  <Spinner label="Replaying the rule over past data…" />
                ) : (
                  <div className="stack tight" data-testid="simulation">
                    <span>
                      Over the last{' '}
                      {Math.max(1, Math.round(Math.max(parseDuration(s.queryPeriod) ?? 0, 86400_000) / 3600_000))}{' '}
                      hours, {sim.runs} runs would have raised{' '}
                      <strong>
                        {sim.alerts.length} alert{sim.alerts.length === 1 ? '' : 's'}
                      </strong>
                      .
                    </span>
                    {sim.alerts.slice(0, 8).map((a, k) => (
                      <div key={`${a.at}-${k}`} className="row small">
                        <SeverityBadge severity={a.severity} /> {a.title}{' '}
                        <span className="muted">{formatTime(a.at)}</span>
                        {a.entities && a.entities.length > 0 && (
                          <span className="muted">
                            {' '}
                            · {a.entities.map((e) => `${words(e.type)} ${e.name}`).join(', ')}
                          </span>
                        )}
                      </div>
                    ))}
                  </div>
                )}
              </Card>
              <Card title="Rule file (Sentinel YAML)">
                <pre className="mono small" style={{ margin: 0, maxHeight: 360, overflow: 'auto' }}>
                  {yaml}
                </pre>
              </Card>
            </>
          )}
          <div className="row">
            <button
              type="button"
              className="btn"
              disabled={stepIndex === 0}
              onClick={() => setStep(STEPS[stepIndex - 1]!.id)}
            >
              Previous
            </button>
            <div className="grow" />
            {step !== 'review' ? (
              <button type="button" className="btn primary" onClick={() => setStep(STEPS[stepIndex + 1]!.id)}>
                Next: {STEPS[stepIndex + 1]?.label}
              </button>
            ) : (
              <button type="button" className="btn primary" disabled={problems.length > 0 || saving} onClick={create}>
                {saving ? 'Creating…' : 'Create rule'}
              </button>
            )}
          </div>
        </div>
      </div>
    </div>
  );
}
