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
            Open the <Link to="/incidents">incident queue</Link> (New and Active). Take <strong>High</strong> first,
            then incidents whose alert count grows: the correlation engine adds alerts as an attack story grows from the
            phishing email to the account takeover.
          </p>
          <p>
            Defender incidents arrive tagged <span className="kbd">defender-xdr</span>, owned by the{' '}
            <strong>Tier 1 queue</strong>, with three tasks: <em>Review Defender incident graph</em>,{' '}
            <em>Check endpoint timeline</em>, <em>Confirm user risk</em>. Do them in order; close with a classification
            and a comment.
          </p>
          <p className="muted small">
            Keys: <span className="kbd">j</span>/<span className="kbd">k</span> move, <span className="kbd">Enter</span>{' '}
            opens, <span className="kbd">a</span> assigns to you, <span className="kbd">?</span> lists all.
          </p>
        </Card>
        <Card title="2. Which links to trust">
          <p>
            This queue is the record of work (status, owner, tasks, comments); a product alert's link to the Defender
            portal is for that product's evidence, not a second queue. Trust the incident's entities and alerts, not its
            title: titles are generated and change as incidents merge. The <strong>Attack story</strong> shows why each
            alert joined (a shared entity in the time window, the rule's grouping, kill-chain order); joins through very
            common entities such as the office egress IP are marked and never link incidents.
          </p>
          <p>
            An alert's custom details (sign-in IPs, the matched indicator, the target's role) come from the rule's
            results; severity already reflects the <em>HighValueAssets</em> and <em>VIPUsers</em> watchlists.
          </p>
        </Card>
        <Card title="3. Pivot to hunting">
          <p>
            Every entity and alert has a <strong>Hunt</strong> link that opens <Link to="/hunting">hunting</Link> with a
            query for it: the device's timeline, the account's sign-ins, the IP across tables. For a rule's alert, its{' '}
            <code>ExtendedProperties.Query</code> reproduces the evidence. <code>_GetWatchlist()</code> and{' '}
            <code>ThreatIntelligenceIndicator</code> work there too. Turn a useful query into a rule with{' '}
            <Link to="/rules/new">Create rule</Link>, replaying it before you enable it.
          </p>
        </Card>
        <Card title="4. When to run a playbook">
          <p>
            Automation has already tagged and routed the incident. Run{' '}
            <strong>Enrich incident IPs with threat intelligence</strong> by hand when IPs joined the incident later or
            enrichment is off (no Teams webhook yet); <strong>Open a Jira ticket</strong> when another team must act;{' '}
            <strong>Isolate the incident's devices after approval</strong> once you confirmed a compromise.
          </p>
          <p>
            Nothing destructive runs alone: isolation and account disablement requested by the custom detections or
            playbooks wait in the <Link to="/automation/approvals">approvals inbox</Link> for an Approver. The full page
            is <code>docs/analyst-guide.md</code>.
          </p>
        </Card>
      </div>
    </div>
  );
}
