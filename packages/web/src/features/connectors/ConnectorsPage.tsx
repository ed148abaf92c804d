/** Data connectors (status, tables, last data, volume) and usage and cost per table over time, free vs billable. */
import { useMemo, useState } from 'react';
import { ApiError, api } from '../../api/client.js';
import type { Connector, TableInfo, UsageReport } from '../../api/types.js';
import { useTitle } from '../../app/router.js';
import { useApp, useLoad } from '../../app/state.js';
import { formatBytes, formatNumber, relativeTime } from '../../data/format.js';
import { dailySeries, formatCost, pointsFromTables, summarize, summarizeTables, usedBy } from '../../data/usage.js';
import { Card, ErrorBox, Spinner, Tabs, Toggle } from '../../ui/components.js';

const STALE_MS = 24 * 3600_000;

function connectorStatus(c: Connector, now = Date.now()): { label: string; cls: string } {
  if (!c.enabled || c.status === 'Disabled') return { label: 'Disconnected', cls: 'muted' };
  if (c.status === 'Failing') return { label: 'Failing', cls: 'bad' };
  const last = c.tables
    .map((t) => (t.lastIngestion ? Date.parse(t.lastIngestion) : 0))
    .reduce((a, b) => Math.max(a, b), 0);
  if (!last) return { label: 'Connected · no data yet', cls: 'muted' };
  return now - last < STALE_MS
    ? { label: 'Connected · receiving data', cls: 'ok' }
    : { label: `No data for ${relativeTime(new Date(last).toISOString(), now).replace(' ago', '')}`, cls: 'bad' };
}

type Tab = 'connectors' | 'usage';

export default function ConnectorsPage() {
  useTitle('Data connectors');
  const { toast, me, workspace } = useApp();
  // Changing connectors and prices needs `author` (the API answers 403 otherwise); readers see the state only.
  const canAuthor = me?.workspaces.find((w) => w.name === workspace)?.permissions.includes('author') ?? false;
  const [tab, setTab] = useState<Tab>('connectors');
  const connectors = useLoad(() => api.connectors().then((p) => p.items), []);
  const tables = useLoad(() => api.tables(), []);
  const usage = useLoad(() => api.usage(30), []);
  const byName = useMemo(() => new Map((tables.data ?? []).map((t) => [t.name, t])), [tables.data]);
  const toggle = async (c: Connector, enabled: boolean) => {
    try {
      await api.setConnector(c.id, enabled);
      toast(`${c.name} ${enabled ? 'connected' : 'disconnected'}`);
      connectors.reload();
    } catch (e) {
      toast(refusal(e, 'connect or disconnect data connectors'), true);
    }
  };
  const select = async (c: Connector, table: string, selected: boolean) => {
    try {
      await api.setConnectorTable(c.id, table, selected);
      toast(`${table} ${selected ? 'collected' : 'no longer collected'}`);
      connectors.reload();
    } catch (e) {
      toast(refusal(e, 'change table selection'), true);
    }
  };
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Data connectors</h1>
          <div className="sub">What flows into the workspace, whether it still flows, and what it costs</div>
        </div>
      </div>
      <Tabs<Tab>
        value={tab}
        onChange={setTab}
        tabs={[
          { id: 'connectors', label: 'Connectors' },
          { id: 'usage', label: 'Usage and cost' },
        ]}
      />
      {tab === 'connectors' &&
        (connectors.error ? (
          <ErrorBox error={connectors.error} />
        ) : !connectors.data ? (
          <Spinner />
        ) : (
          <div className="stack">
            {connectors.data.map((c) => {
              const st = connectorStatus(c);
              const volume = c.tables.reduce((s, t) => s + (byName.get(t.name)?.ingestedBytes ?? 0), 0);
              return (
                <Card
                  key={c.id}
                  title={
                    <span className="row">
                      {c.name}{' '}
                      <span className={`small ${st.cls}`} style={{ fontWeight: 500 }}>
                        ● {st.label}
                      </span>
                    </span>
                  }
                  actions={
                    <>
                      <span className="muted small">{formatBytes(volume)} ingested</span>
                      <Toggle on={c.enabled} label={`Connect ${c.name}`} onChange={(v) => toggle(c, v)} />
                    </>
                  }
                  flush
                >
                  {c.description && (
                    <div className="card-body muted small" style={{ paddingBottom: 0 }}>
                      {c.description}
                    </div>
                  )}
                  {c.errors && c.errors.length > 0 && (
                    <div className="card-body">
                      <div className="error-box small">
                        {c.errors.map((e) => `${relativeTime(e.at)}: ${e.message}`).join(' · ')}
                      </div>
                    </div>
                  )}
                  {c.tables.length === 0 ? (
                    <div className="card-body muted small">No tables yet.</div>
                  ) : (
                    <table className="table">
                      <thead>
                        <tr>
                          <th>Table</th>
                          <th>Rows</th>
                          <th>Volume</th>
                          <th>Last data</th>
                          <th>Billing</th>
                          <th>Collected</th>
                        </tr>
                      </thead>
                      <tbody>
                        {c.tables.map((t) => {
                          const info: TableInfo | undefined = byName.get(t.name);
                          return (
                            <tr key={t.name}>
                              <td className="mono small">{t.name}</td>
                              <td>{formatNumber(t.rows)}</td>
                              <td className="small">{formatBytes(info?.ingestedBytes ?? 0)}</td>
                              <td className="small muted">{relativeTime(t.lastIngestion)}</td>
                              <td className="small">{t.billable ? 'Billable' : <span className="ok">Free</span>}</td>
                              <td className="small">
                                {canAuthor ? (
                                  <Toggle
                                    on={t.enabled}
                                    label={`Collect ${t.name}`}
                                    onChange={(v) => select(c, t.name, v)}
                                  />
                                ) : t.enabled ? (
                                  'Yes'
                                ) : (
                                  <span className="muted">No</span>
                                )}
                              </td>
                            </tr>
                          );
                        })}
                      </tbody>
                    </table>
                  )}
                </Card>
              );
            })}
          </div>
        ))}
      {tab === 'usage' && (
        <Usage
          report={usage.data}
          error={usage.error}
          tables={tables.data}
          canAuthor={canAuthor}
          onPriceSaved={() => usage.reload()}
        />
      )}
    </div>
  );
}

/** A refused change said plainly: a 403 names the permission, anything else keeps the server's message. */
function refusal(e: unknown, what: string): string {
  if (e instanceof ApiError && e.status === 403) return `Your role cannot ${what} (needs the author permission).`;
  return e instanceof Error ? e.message : String(e);
}

function Usage({
  report,
  error,
  tables,
  canAuthor,
  onPriceSaved,
}: {
  report?: UsageReport;
  error: unknown;
  tables?: readonly TableInfo[];
  canAuthor: boolean;
  onPriceSaved: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const price = report?.pricePerGb ?? null;
  const currency = report?.currency ?? '';
  // Without the usage report (older servers) the page still shows totals from the tables' ingested bytes.
  const s = report ? summarize(report) : summarizeTables(tables ?? [], null);
  const series = dailySeries(report?.points ?? pointsFromTables(tables ?? []), 30);
  const max = Math.max(1, ...series.days.map((_, i) => (series.billable[i] ?? 0) + (series.free[i] ?? 0)));
  return (
    <div className="stack">
      {error && !report ? (
        <div className="warn-box small">
          Daily usage is not available from this server ({(error as Error).message}); totals below come from the tables'
          ingested volume.
        </div>
      ) : null}
      <div className="stats">
        <div className="stat">
          <div className="v">{formatBytes(s.bytes)}</div>
          <div className="l">Ingested ({report?.days ?? 30} days)</div>
        </div>
        <div className="stat">
          <div className="v">{formatBytes(s.billableBytes)}</div>
          <div className="l">Billable</div>
        </div>
        <div className="stat">
          <div className="v ok">{formatBytes(s.freeBytes)}</div>
          <div className="l">Free (alerts, incidents)</div>
        </div>
        <div className="stat" data-testid="usage-cost">
          {price === null || s.cost === null ? (
            <>
              <div className="v muted">No price set</div>
              <div className="l">
                {!report ? (
                  'Costs need the usage report'
                ) : canAuthor ? (
                  <button type="button" className="btn sm" onClick={() => setEditing(true)}>
                    Set price per GB
                  </button>
                ) : (
                  'Someone with the author permission can set the price per GB'
                )}
              </div>
            </>
          ) : (
            <>
              <div className="v">{formatCost(s.cost, currency)}</div>
              <div className="l">
                Estimated at {price} {currency}/GB{' '}
                {canAuthor && (
                  <button type="button" className="btn sm" onClick={() => setEditing(true)}>
                    Change
                  </button>
                )}
              </div>
            </>
          )}
        </div>
      </div>
      {editing && report && (
        <PriceForm
          price={price}
          currency={currency}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            onPriceSaved();
          }}
        />
      )}
      <Card title="Daily ingestion (billable / free)">
        <div style={{ display: 'flex', alignItems: 'flex-end', gap: 4, height: 160 }} data-testid="usage-chart">
          {series.days.map((d, i) => (
            <div
              key={d}
              title={`${d}: ${formatBytes(series.billable[i] ?? 0)} billable, ${formatBytes(series.free[i] ?? 0)} free`}
              style={{ flex: 1, display: 'flex', flexDirection: 'column', justifyContent: 'flex-end', height: '100%' }}
            >
              <div
                style={{
                  height: `${((series.free[i] ?? 0) / max) * 100}%`,
                  background: 'var(--ok)',
                  opacity: 0.7,
                  borderRadius: '3px 3px 0 0',
                }}
              />
              <div style={{ height: `${((series.billable[i] ?? 0) / max) * 100}%`, background: 'var(--accent)' }} />
            </div>
          ))}
        </div>
        <div className="row small muted" style={{ justifyContent: 'space-between', marginTop: 6 }}>
          <span>{series.days[0] ?? ''}</span>
          <span>{series.days.at(-1) ?? ''}</span>
        </div>
      </Card>
      <Card title="Per table" flush>
        <table className="table">
          <thead>
            <tr>
              <th>Table</th>
              <th>Rows</th>
              <th>Volume</th>
              <th style={{ width: '24%' }}>Share</th>
              <th>Billing</th>
              <th>Cost</th>
              <th>Used by</th>
            </tr>
          </thead>
          <tbody>
            {s.tables.map((t) => {
              const use = report ? usedBy(t) : null;
              return (
                <tr key={t.table} data-testid="usage-row">
                  <td className="mono small">
                    {t.table}
                    {t.selected === false && <span className="muted"> · not collected</span>}
                  </td>
                  <td>{formatNumber(t.rows)}</td>
                  <td>{formatBytes(t.bytes)}</td>
                  <td>
                    <div className="bar-track">
                      <div
                        className="bar-fill"
                        style={{
                          width: `${(t.bytes / Math.max(1, s.bytes)) * 100}%`,
                          background: t.billable ? 'var(--accent)' : 'var(--ok)',
                        }}
                      />
                    </div>
                  </td>
                  <td className="small">{t.billable ? 'Billable' : <span className="ok">Free</span>}</td>
                  <td className="small">
                    {!t.billable ? (
                      '—'
                    ) : t.cost === null ? (
                      <span className="muted">—</span>
                    ) : (
                      formatCost(t.cost, currency)
                    )}
                  </td>
                  <td className={`small ${use?.unused ? 'bad' : ''}`} title={use?.title || undefined}>
                    {use ? use.text : <span className="muted">unknown</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Card>
    </div>
  );
}

/** Price per billable GB and currency (PATCH /usage/settings); a refusal stays on screen, not in a passing toast. */
function PriceForm({
  price,
  currency,
  onCancel,
  onSaved,
}: {
  price: number | null;
  currency: string;
  onCancel: () => void;
  onSaved: () => void;
}) {
  const { toast } = useApp();
  const [value, setValue] = useState(price === null ? '' : String(price));
  const [cur, setCur] = useState(currency || 'USD');
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const n = Number(value);
  const valid = value.trim() !== '' && Number.isFinite(n) && n >= 0 && cur.trim().length > 0 && cur.length <= 8;
  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      const saved = await api.setUsageSettings({ pricePerGb: n, currency: cur.trim() });
      toast(`Price set: ${saved.pricePerGb} ${saved.currency}/GB`);
      onSaved();
    } catch (e) {
      setError(refusal(e, 'set the price per GB'));
    } finally {
      setSaving(false);
    }
  };
  return (
    <Card title="Price per billable GB">
      <form
        className="row"
        style={{ gap: 8, alignItems: 'flex-end' }}
        onSubmit={(e) => {
          e.preventDefault();
          if (valid) void save();
        }}
      >
        <label className="field">
          <span>Price per GB</span>
          <input
            className="input"
            type="number"
            min={0}
            step="any"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            aria-label="Price per GB"
          />
        </label>
        <label className="field">
          <span>Currency</span>
          <input
            className="input"
            value={cur}
            maxLength={8}
            onChange={(e) => setCur(e.target.value)}
            aria-label="Currency"
            style={{ width: 90 }}
          />
        </label>
        <button type="submit" className="btn primary" disabled={!valid || saving}>
          Save price
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </form>
      {error && (
        <div style={{ marginTop: 8 }}>
          <ErrorBox error={error} />
        </div>
      )}
    </Card>
  );
}
