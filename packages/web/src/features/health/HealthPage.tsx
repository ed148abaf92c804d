/** The end-to-end checklist as a page: each step green or red with the reason, run on demand. */
import { useState } from 'react';
import { Link, useTitle } from '../../app/router.js';
import { Card, Spinner } from '../../ui/components.js';
import { Icon } from '../../ui/icons.js';
import { CHECKS, type CheckContext, type StepResult } from './checklist.js';

type State = { status: 'idle' } | { status: 'running' } | ({ status: 'done'; ms: number } & StepResult);

export default function HealthPage() {
  useTitle('Health');
  const [states, setStates] = useState<Record<string, State>>({});
  const [running, setRunning] = useState(false);
  const [incident, setIncident] = useState<number | null>(null);
  const run = async () => {
    setRunning(true);
    setStates({});
    const ctx: CheckContext = { marker: Math.random().toString(36).slice(2, 10), incident: null, detail: null };
    for (const step of CHECKS) {
      setStates((s) => ({ ...s, [step.id]: { status: 'running' } }));
      const t0 = performance.now();
      let result: StepResult;
      try {
        result = await step.run(ctx);
      } catch (e) {
        result = { ok: false, reason: (e as Error).message };
      }
      setStates((s) => ({ ...s, [step.id]: { status: 'done', ms: Math.round(performance.now() - t0), ...result } }));
      if (ctx.incident) setIncident(ctx.incident.number);
    }
    setRunning(false);
  };
  const done = Object.values(states).filter((s) => s.status === 'done');
  const passed = done.filter((s) => s.status === 'done' && s.ok).length;
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Health</h1>
          <div className="sub">
            The SOC workflow end to end: data in, alert to incident, queries, entities, automation, closure
          </div>
        </div>
        <div className="actions">
          <button type="button" className="btn primary" disabled={running} onClick={run} data-testid="run-checklist">
            <Icon name="play" /> {done.length ? 'Run again' : 'Run the checklist'}
          </button>
        </div>
      </div>
      {done.length === CHECKS.length && (
        <div
          className={passed === CHECKS.length ? 'warn-box' : 'error-box'}
          style={{ marginBottom: 16, borderColor: passed === CHECKS.length ? 'var(--ok)' : undefined }}
        >
          {passed === CHECKS.length
            ? '✓ Every step passed.'
            : `${CHECKS.length - passed} of ${CHECKS.length} steps failed.`}
          {incident !== null && (
            <>
              {' '}
              Test incident: <Link to={`/incidents/${incident}`}>#{incident}</Link>.
            </>
          )}
        </div>
      )}
      <Card title="Checklist" flush>
        {CHECKS.map((c, k) => {
          const s = states[c.id] ?? { status: 'idle' };
          return (
            <div
              key={c.id}
              className="check"
              data-testid={`check-${c.id}`}
              data-ok={s.status === 'done' ? String(s.ok) : undefined}
            >
              <span className={`icon ${s.status === 'done' ? (s.ok ? 'ok' : 'bad') : 'wait'}`}>
                {s.status === 'done' ? (s.ok ? '✓' : '✕') : k + 1}
              </span>
              <div className="grow">
                <div style={{ fontWeight: 500 }}>{c.title}</div>
                <div className="small muted">
                  {s.status === 'running' ? (
                    <Spinner label="Checking…" />
                  ) : s.status === 'done' ? (
                    `${s.reason} (${s.ms} ms)`
                  ) : (
                    'Not run yet.'
                  )}
                </div>
              </div>
            </div>
          );
        })}
      </Card>
    </div>
  );
}
