/** Data connectors (status, tables, last data, volume) and usage and cost per table over time, free vs billable. */
import { useMemo, useState } from 'react';
import { api } from '../../api/client.js';
import type { Connector, TableInfo, UsagePoint } from '../../api/types.js';
import { useTitle } from '../../app/router.js';
import { useApp, useLoad } from '../../app/state.js';
import { formatBytes, formatNumber, relativeTime } from '../../data/format.js';
import { dailySeries, isBillable, summarize } from '../../data/usage.js';
import { Card, ErrorBox, Spinner, Tabs, Toggle } from '../../ui/components.js';

const STALE_MS = 24 * 3600_000;

function connectorStatus(c: Connector, now = Date.now()): { label: string; cls: string } {
  if (!c.enabled) return { label: 'Disconnected', cls: 'muted' };
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
  const { toast } = useApp();
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
      toast((e as Error).message, true);
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
                              <td className="small">
                                {isBillable(t.name) ? 'Billable' : <span className="ok">Free</span>}
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
          points={usage.data?.points}
          price={usage.data?.pricePerGb ?? 4.3}
          currency={usage.data?.currency ?? 'USD'}
          error={usage.error}
          tables={tables.data}
        />
      )}
    </div>
  );
}

function Usage({
  points,
  price,
  currency,
  error,
  tables,
}: {
  points?: readonly UsagePoint[];
  price: number;
  currency: string;
  error: unknown;
  tables?: readonly TableInfo[];
}) {
  // Without the usage series (older servers) the page still shows totals from the tables' ingested bytes.
  const effective =
    points ??
    (tables ?? [])
      .filter((t) => (t.ingestedBytes ?? 0) > 0)
      .map((t) => ({
        day: (t.lastIngestion ?? '').slice(0, 10),
        table: t.name,
        bytes: t.ingestedBytes ?? 0,
        rows: t.rows,
        billable: isBillable(t.name),
      }));
  const s = summarize(effective, price);
  const series = dailySeries(effective, 30);
  const max = Math.max(1, ...series.days.map((_, i) => (series.billable[i] ?? 0) + (series.free[i] ?? 0)));
  return (
    <div className="stack">
      {error && !points ? (
        <div className="warn-box small">
          Daily usage is not available from this server ({(error as Error).message}); totals below come from the tables'
          ingested volume.
        </div>
      ) : null}
      <div className="stats">
        <div className="stat">
          <div className="v">{formatBytes(s.billableBytes + s.freeBytes)}</div>
          <div className="l">Ingested (30 days)</div>
        </div>
        <div className="stat">
          <div className="v">{formatBytes(s.billableBytes)}</div>
          <div className="l">Billable</div>
        </div>
        <div className="stat">
          <div className="v ok">{formatBytes(s.freeBytes)}</div>
          <div className="l">Free (alerts, incidents)</div>
        </div>
        <div className="stat">
          <div className="v">
            {s.cost.toFixed(2)} {currency}
          </div>
          <div className="l">
            Estimated at {price} {currency}/GB
          </div>
        </div>
      </div>
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
              <th style={{ width: '30%' }}>Share</th>
              <th>Billing</th>
              <th>Cost</th>
            </tr>
          </thead>
          <tbody>
            {s.tables.map((t) => (
              <tr key={t.table}>
                <td className="mono small">{t.table}</td>
                <td>{formatNumber(t.rows)}</td>
                <td>{formatBytes(t.bytes)}</td>
                <td>
                  <div className="bar-track">
                    <div
                      className="bar-fill"
                      style={{
                        width: `${(t.bytes / Math.max(1, s.billableBytes + s.freeBytes)) * 100}%`,
                        background: t.billable ? 'var(--accent)' : 'var(--ok)',
                      }}
                    />
                  </div>
                </td>
                <td className="small">{t.billable ? 'Billable' : <span className="ok">Free</span>}</td>
                <td className="small">{t.billable ? `${t.cost.toFixed(2)} ${currency}` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}
