/** Analytics rules: health at a glance, enable/disable, YAML import, and custom detections with their actions. */
import { useState } from 'react';
import { api } from '../../api/client.js';
import type { StoredRule } from '../../api/types.js';
import { Link, useTitle } from '../../app/router.js';
import { useApp, useLoad } from '../../app/state.js';
import { formatDuration, relativeTime, words } from '../../data/format.js';
import { Card, Empty, ErrorBox, Modal, SeverityBadge, Spinner, Tabs, Toggle } from '../../ui/components.js';
import { Icon } from '../../ui/icons.js';

/** Healthy while the rule's coverage keeps up with its schedule (two intervals of slack). */
export function ruleHealth(r: StoredRule, now = Date.now()): { label: string; ok: boolean | null } {
  if (!r.enabled) return { label: 'Disabled', ok: null };
  if (!r.coveredUntil) return { label: 'Not run yet', ok: null };
  const lag = now - Date.parse(r.coveredUntil);
  const slack = 2 * Math.max(r.frequencyMs ?? 300_000, 60_000) + 120_000;
  return lag <= slack
    ? { label: `Healthy · ran ${relativeTime(r.coveredUntil, now)}`, ok: true }
    : { label: `Behind · covered until ${relativeTime(r.coveredUntil, now)}`, ok: false };
}

type Tab = 'analytics' | 'custom';

export default function RulesPage() {
  useTitle('Analytics rules');
  const { toast } = useApp();
  const rules = useLoad(() => api.rules().then((p) => p.items), []);
  const [tab, setTab] = useState<Tab>('analytics');
  const [importing, setImporting] = useState(false);
  const [q, setQ] = useState('');
  const all = rules.data ?? [];
  const shown = all
    .filter((r) => (tab === 'custom' ? r.kind === 'CustomDetection' : r.kind !== 'CustomDetection'))
    .filter((r) => !q || r.name.toLowerCase().includes(q.toLowerCase()));
  const toggle = async (r: StoredRule, enabled: boolean) => {
    try {
      await api.setRuleEnabled(r.id, enabled);
      rules.reload();
    } catch (e) {
      toast((e as Error).message, true);
    }
  };
  const healthy = all.filter((r) => ruleHealth(r).ok === true).length;
  const behind = all.filter((r) => ruleHealth(r).ok === false).length;
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Analytics rules</h1>
          <div className="sub">
            {all.length} rules · {all.filter((r) => r.enabled).length} enabled ·{' '}
            <span className="ok">{healthy} healthy</span>
            {behind > 0 && <span className="bad"> · {behind} behind</span>}
          </div>
        </div>
        <div className="actions">
          <button type="button" className="btn" onClick={() => setImporting(true)}>
            <Icon name="upload" /> Import YAML
          </button>
          <Link className="btn primary" to="/rules/new">
            <Icon name="plus" /> New rule
          </Link>
        </div>
      </div>
      <Tabs<Tab>
        value={tab}
        onChange={setTab}
        tabs={[
          { id: 'analytics', label: 'Scheduled & NRT', count: all.filter((r) => r.kind !== 'CustomDetection').length },
          { id: 'custom', label: 'Custom detections', count: all.filter((r) => r.kind === 'CustomDetection').length },
        ]}
      />
      <div className="row" style={{ marginBottom: 12 }}>
        <input
          className="input"
          style={{ width: 320 }}
          placeholder="Search rules"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
      </div>
      <Card flush title={undefined}>
        {rules.error ? (
          <div className="card-body">
            <ErrorBox error={rules.error} />
          </div>
        ) : !rules.data ? (
          <div className="card-body">
            <Spinner label="Loading rules…" />
          </div>
        ) : shown.length === 0 ? (
          <Empty title={tab === 'custom' ? 'No custom detections' : 'No rules'}>
            Import a rule file or create one from a hunting query.
          </Empty>
        ) : (
          <table className="table" data-testid="rules-table">
            <thead>
              <tr>
                <th style={{ width: 60 }}>On</th>
                <th>Rule</th>
                <th>Severity</th>
                <th>{tab === 'custom' ? 'Response actions' : 'Schedule'}</th>
                <th>Tactics</th>
                <th>Health</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => {
                const h = ruleHealth(r);
                return (
                  <tr key={r.id}>
                    <td>
                      <Toggle on={r.enabled} label={`Enable ${r.name}`} onChange={(v) => toggle(r, v)} />
                    </td>
                    <td>
                      <div style={{ fontWeight: 500 }}>{r.name}</div>
                      <div className="muted small">
                        {r.kind}
                        {r.mode && r.mode !== 'scheduled' ? ` · ${r.mode}` : ''} · {(r.tables ?? []).join(', ')}
                      </div>
                    </td>
                    <td>
                      <SeverityBadge severity={r.severity} />
                    </td>
                    <td className="small">
                      {tab === 'custom'
                        ? (r.definition.customDetection?.responseActions ?? []).map((a) => words(a.type)).join(', ') ||
                          '—'
                        : r.kind === 'NRT'
                          ? 'Near real time'
                          : `Every ${formatDuration(r.frequencyMs ?? r.definition.queryFrequencyMs)}, last ${formatDuration(r.periodMs ?? r.definition.queryPeriodMs)}`}
                    </td>
                    <td className="small muted">{r.definition.tactics.map(words).join(', ')}</td>
                    <td className={`small ${h.ok === true ? 'ok' : h.ok === false ? 'bad' : 'muted'}`}>{h.label}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Card>
      {importing && <ImportDialog onClose={() => setImporting(false)} onDone={rules.reload} />}
    </div>
  );
}

function ImportDialog({ onClose, onDone }: { onClose: () => void; onDone: () => void }) {
  const { toast } = useApp();
  const [yaml, setYaml] = useState('');
  const [problems, setProblems] = useState<string[]>([]);
  const submit = async () => {
    try {
      const r = await api.importRules(yaml);
      const bad = r.results.filter((x) => x.status === 'rejected');
      setProblems(bad.flatMap((b) => b.diagnostics.map((d) => d.message)));
      if (!bad.length) {
        toast(`Imported: ${r.results.map((x) => `${x.name ?? x.ruleId} (${x.status})`).join(', ')}`);
        onDone();
        onClose();
      }
    } catch (e) {
      const details = (e as { details?: { results?: { diagnostics: { message: string }[] }[] } }).details;
      setProblems(details?.results?.flatMap((x) => x.diagnostics.map((d) => d.message)) ?? [(e as Error).message]);
    }
  };
  return (
    <Modal
      title="Import analytics rules (Sentinel YAML)"
      wide
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn primary" disabled={!yaml.trim()} onClick={submit}>
            Import
          </button>
        </>
      }
    >
      <div className="stack">
        <input
          type="file"
          accept=".yaml,.yml,.json"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            if (f) setYaml(await f.text());
          }}
        />
        <textarea
          className="code-editor"
          value={yaml}
          onChange={(e) => setYaml(e.target.value)}
          placeholder="id: …&#10;name: …&#10;query: |&#10;  …"
          spellCheck={false}
        />
        {problems.length > 0 && (
          <div className="error-box">
            {problems.map((p) => (
              <div key={p}>{p}</div>
            ))}
          </div>
        )}
      </div>
    </Modal>
  );
}
