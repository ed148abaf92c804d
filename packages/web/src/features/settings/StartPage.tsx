/** "Start here": the analyst's page — where to start, which links to trust, how to pivot, when to run a playbook. */

import { api } from '../../api/client.js';
import { Link, useTitle } from '../../app/router.js';
import { useApp, useLoad } from '../../app/state.js';
import { Card } from '../../ui/components.js';

export default function StartPage() {
  useTitle('Start here');
  const { workspace } = useApp();
  const open = useLoad(() => api.incidents({ status: ['New', 'Active'], limit: 1 }), [workspace]);
  const high = useLoad(() => api.incidents({ status: ['New', 'Active'], severity: ['High'], limit: 1 }), [workspace]);
  const waiting = useLoad(() => api.approvals({ status: 'pending' }).then((p) => p.approvals.length), [workspace]);
  const count = (p?: { items: readonly unknown[]; total?: number; nextCursor: string | null }) =>
    p ? (p.total ?? (p.nextCursor ? `${p.items.length}+` : p.items.length)) : '…';
  return (
    <div className="page" style={{ maxWidth: 1100 }}>
      <div className="page-head">
        <div>
          <h1>Start here</h1>
          <div className="sub">
            One queue for every alert source. Work it top down; pivot to hunting when an incident needs context.
          </div>
        </div>
      </div>
      <div className="stats">
        <Link to="/incidents" className="stat" style={{ color: 'inherit' }}>
          <div className="v">{count(open.data)}</div>
          <div className="l">Open incidents</div>
        </Link>
        <Link to="/incidents?severity=High" className="stat" style={{ color: 'inherit' }}>
          <div className="v" style={{ color: 'var(--sev-high)' }}>
            {count(high.data)}
          </div>
          <div className="l">High severity, open</div>
        </Link>
        <Link to="/automation/approvals" className="stat" style={{ color: 'inherit' }}>
          <div className="v">{waiting.data ?? '…'}</div>
          <div className="l">Actions waiting for approval</div>
        </Link>
        <Link to="/health" className="stat" style={{ color: 'inherit' }}>
          <div className="v">✓</div>
          <div className="l">Run the health checklist</div>
        </Link>
      </div>
      <div className="grid2">
        <Card title="1. Where to start">
          <p>
            Open the <Link to="/incidents">incident queue</Link>, sorted by last update. Take <strong>High</strong>{' '}
            severity first, then incidents whose alert count grows: the correlation engine adds alerts as an attack
            story grows.
          </p>
          <p className="muted small">
            Keys: <span className="kbd">j</span>/<span className="kbd">k</span> move, <span className="kbd">Enter</span>{' '}
            opens, <span className="kbd">a</span> assigns to you, <span className="kbd">?</span> lists all.
          </p>
        </Card>
        <Card title="2. Which links to trust">
          <p>
            In an incident, the <strong>Attack story</strong> shows why each alert was correlated: shared entities
            within the time window, attack stages in kill-chain order, or the rule's grouping. Entities seen in a large
            share of recent alerts (scanners, proxies) never link incidents and are listed as such.
          </p>
        </Card>
        <Card title="3. Pivot to hunting">
          <p>
            Every entity and alert has a <strong>Hunt</strong> link that opens the hunting page with a query pre-filled
            for it. Save useful queries; turn one into an analytics rule with <em>Create rule</em>, previewing its
            results and simulating its alerts first.
          </p>
        </Card>
        <Card title="4. When to run a playbook">
          <p>
            Enrichment runs on its own through automation rules. Run a playbook by hand from the incident when you need
            a response the rules did not take. Destructive actions (isolate a device, disable a user) wait in the{' '}
            <Link to="/automation/approvals">approvals inbox</Link> for an Approver.
          </p>
        </Card>
      </div>
    </div>
  );
}
