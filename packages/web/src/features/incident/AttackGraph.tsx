/**
 * The attack story: alerts (middle, in time order) and the entities they share, with the reason each alert was
 * correlated into the incident (the engine's link records) shown for the selected alert.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { IncidentAlertSummary, IncidentEntity, IncidentGraph, IncidentLink } from '../../api/types.js';
import { Link } from '../../app/router.js';
import { formatTime, words } from '../../data/format.js';
import { layoutGraph, type PlacedNode } from '../../data/graph-layout.js';
import { entityHuntQuery, huntUrl } from '../../data/hunt-links.js';
import { SeverityBadge } from '../../ui/components.js';

const SEV_COLOR: Record<string, string> = {
  High: 'var(--sev-high)',
  Medium: 'var(--sev-medium)',
  Low: 'var(--sev-low)',
  Informational: 'var(--sev-info)',
};

/** Entity glyphs as 24-px line paths (emoji are missing from many fonts and render as empty boxes). */
const ENTITY_GLYPH: Record<string, string> = {
  account: 'M12 12a4 4 0 1 0 0-8a4 4 0 0 0 0 8z M4 21v-1a6 6 0 0 1 6-6h4a6 6 0 0 1 6 6v1',
  host: 'M3 4h18v12H3z M8 20h8 M12 16v4',
  ip: 'M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18z M3 12h18 M12 3c3 3 3 15 0 18 M12 3c-3 3-3 15 0 18',
  dns: 'M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18z M3 12h18 M12 3c3 3 3 15 0 18 M12 3c-3 3-3 15 0 18',
  url: 'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1 M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1',
  file: 'M6 3h8l4 4v14H6z M14 3v4h4',
  filehash: 'M5 9h14 M5 15h14 M10 4l-2 16 M16 4l-2 16',
  process: 'M4 5h16v14H4z M7 10l3 2-3 2 M12 15h5',
  mailbox: 'M3 6h18v12H3z M3 7l9 6 9-6',
  'mail-message': 'M3 6h18v12H3z M3 7l9 6 9-6',
  mailmessage: 'M3 6h18v12H3z M3 7l9 6 9-6',
};
const OTHER_GLYPH = 'M12 4l8 8-8 8-8-8z';
/** Node widths: alerts are wider (title + product). */
const ALERT_W = 190;
const ENTITY_W = 160;

const MIN_WIDTH = 720;

function truncate(s: string, n: number) {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

export function AttackGraph({
  graph,
  alerts,
  entities,
  links,
}: {
  graph: IncidentGraph;
  alerts: readonly IncidentAlertSummary[];
  entities: readonly IncidentEntity[];
  links: readonly IncidentLink[];
}) {
  const order = useMemo(() => {
    const sorted = [...alerts].sort((a, b) => a.startTime.localeCompare(b.startTime));
    return new Map(sorted.map((a, i) => [`alert:${a.alertId}`, i]));
  }, [alerts]);
  // Laid out at the panel's width (at least MIN_WIDTH; narrower panels scale the drawing down to fit).
  const frame = useRef<HTMLDivElement>(null);
  const [panelWidth, setPanelWidth] = useState(900);
  useEffect(() => {
    const el = frame.current;
    if (!el) return;
    const measure = () => setPanelWidth(Math.round(el.clientWidth) || 900);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const width = Math.max(panelWidth, MIN_WIDTH);
  const layout = useMemo(() => layoutGraph(graph, order, { width, margin: ALERT_W / 2 + 8 }), [graph, order, width]);
  const firstAlert = layout.nodes.find((n) => n.node.kind === 'alert')?.node.id ?? null;
  const [selected, setSelected] = useState<string | null>(firstAlert);
  const hot = new Set<string>();
  if (selected) for (const e of graph.edges) if (e.from === selected || e.to === selected) hot.add(`${e.from}>${e.to}`);
  const sel = layout.nodes.find((n) => n.node.id === selected) ?? null;

  const box = (n: PlacedNode) => {
    const isAlert = n.node.kind === 'alert';
    const w = isAlert ? ALERT_W : ENTITY_W;
    const label = truncate(n.node.label, isAlert ? 27 : 21);
    const sub =
      n.node.kind === 'alert'
        ? (alerts.find((a) => `alert:${a.alertId}` === n.node.id)?.productName ?? '')
        : words(n.node.type);
    return (
      <g
        key={n.node.id}
        className={`node ${selected === n.node.id ? 'sel' : ''}`}
        transform={`translate(${n.x - w / 2}, ${n.y - 20})`}
        onClick={() => setSelected(n.node.id)}
        role="button"
        tabIndex={0}
        aria-label={`${n.node.kind} ${n.node.label}`}
        data-testid={`graph-${n.node.kind}`}
        onKeyDown={(e) => e.key === 'Enter' && setSelected(n.node.id)}
      >
        <rect width={w} height={40} rx={8} />
        {n.node.kind === 'alert' ? (
          <rect width={4} height={40} rx={2} fill={SEV_COLOR[n.node.severity] ?? 'var(--accent)'} stroke="none" />
        ) : (
          <path
            className="node-glyph"
            transform="translate(10, 12) scale(0.667)"
            d={ENTITY_GLYPH[n.node.type.toLowerCase()] ?? OTHER_GLYPH}
          />
        )}
        <text className="node-label" x={isAlert ? 14 : 34} y={17}>
          {label}
        </text>
        <text className="node-sub" x={isAlert ? 14 : 34} y={31}>
          {truncate(sub, isAlert ? 28 : 22)}
        </text>
      </g>
    );
  };

  const alertLinks = sel?.node.kind === 'alert' ? links.filter((l) => `alert:${l.alertId}` === sel.node.id) : [];
  const entity = sel?.node.kind === 'entity' ? entities.find((e) => `entity:${e.id}` === sel.node.id) : undefined;
  const alert = sel?.node.kind === 'alert' ? alerts.find((a) => `alert:${a.alertId}` === sel.node.id) : undefined;

  if (graph.nodes.length === 0) return <div className="empty">No alerts or entities to draw yet.</div>;
  return (
    <div className="graph" data-testid="attack-graph">
      <div ref={frame}>
        <svg width="100%" viewBox={`0 0 ${layout.width} ${layout.height}`} role="img" aria-label="Attack story graph">
          {layout.columns.map((c) => (
            <text key={c.title} className="col-title" x={c.x} y={22} textAnchor="middle">
              {c.title}
            </text>
          ))}
          {layout.edges.map((e) => {
            const key = `${e.from.node.id}>${e.to.node.id}`;
            const [a, b] = e.from.x <= e.to.x ? [e.from, e.to] : [e.to, e.from];
            const ax = a.x + (a.node.kind === 'alert' ? ALERT_W : ENTITY_W) / 2;
            const bx = b.x - (b.node.kind === 'alert' ? ALERT_W : ENTITY_W) / 2;
            const mid = (ax + bx) / 2;
            return (
              <path
                key={key}
                className={`edge ${hot.has(key) ? 'hot' : ''}`}
                d={`M${ax},${a.y} C${mid},${a.y} ${mid},${b.y} ${bx},${b.y}`}
              />
            );
          })}
          {layout.nodes.map(box)}
        </svg>
      </div>
      <div className="why" style={{ marginTop: 12 }} data-testid="graph-why">
        {alert ? (
          <div className="stack tight">
            <div className="row">
              <SeverityBadge severity={alert.severity} />
              <strong>{alert.title}</strong>
              <span className="muted small">
                {alert.productName} · {formatTime(alert.startTime)}
              </span>
            </div>
            {alertLinks.length === 0 ? (
              <span className="muted">No correlation record for this alert.</span>
            ) : (
              alertLinks.map((l) => (
                <div key={l.id}>
                  <strong>Why it is here: </strong>
                  {l.reason.summary}
                  {l.reason.entities && l.reason.entities.length > 0 && (
                    <span className="muted"> — shared: {l.reason.entities.map((e) => e.displayName).join(', ')}</span>
                  )}
                  {l.reason.stages && (
                    <span className="muted">
                      {' '}
                      — stages {l.reason.stages.incident.join(', ')} → {l.reason.stages.alert.join(', ')}
                    </span>
                  )}
                  {l.reason.commonEntities && l.reason.commonEntities.length > 0 && (
                    <div className="small muted">
                      Not linked on common entities:{' '}
                      {l.reason.commonEntities
                        .map((c) => `${c.displayName} (${Math.round(c.share * 100)}% of recent alerts)`)
                        .join(', ')}
                    </div>
                  )}
                  {l.reason.refused?.map((r) => (
                    <div key={r.incidentId} className="small muted">
                      Not merged with #{r.number}: {r.detail}
                    </div>
                  ))}
                </div>
              ))
            )}
          </div>
        ) : entity ? (
          <div className="row wrap">
            <strong>{entity.displayName}</strong>
            <span className="muted">
              {words(entity.type)} · in {entity.alertCount} alert{entity.alertCount === 1 ? '' : 's'}
            </span>
            <Link className="btn sm" to={huntUrl(entityHuntQuery(entity))}>
              Hunt on {words(entity.type).toLowerCase()}
            </Link>
          </div>
        ) : (
          <span className="muted">Select an alert to see why it was correlated, or an entity to hunt on it.</span>
        )}
      </div>
    </div>
  );
}
