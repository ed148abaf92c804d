/**
 * The seed's end-to-end checklist, run from the console through the public API (what `vigil validate` checks):
 * connectors receiving data, a low-risk test alert through to an incident, the SecurityIncident query, a sample
 * DeviceProcessEvents query, entity mapping, the automation rule's effect, and closing the test incident.
 */
import { api } from '../../api/client.js';
import type { Incident, IncidentDetail } from '../../api/types.js';
import { kqlString } from '../../data/hunt-links.js';

export interface StepResult {
  readonly ok: boolean;
  readonly reason: string;
}

export interface CheckStep {
  readonly id: string;
  readonly title: string;
  run(ctx: CheckContext): Promise<StepResult>;
}

export interface CheckContext {
  readonly marker: string;
  incident: Incident | null;
  detail: IncidentDetail | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs: number): Promise<T | null> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) return null;
    await sleep(1000);
  }
}

export const CHECKS: readonly CheckStep[] = [
  {
    id: 'connectors',
    title: 'Connectors healthy and data arriving per selected table',
    async run() {
      const list = (await api.connectors()).items.filter((c) => c.enabled);
      if (!list.length) return { ok: false, reason: 'No connector is enabled.' };
      const day = Date.now() - 24 * 3600_000;
      const stale = list.filter((c) => !c.tables.some((t) => t.lastIngestion && Date.parse(t.lastIngestion) > day));
      return stale.length
        ? { ok: false, reason: `No data in 24h from: ${stale.map((c) => c.name).join(', ')}.` }
        : { ok: true, reason: `${list.length} connectors received data in the last 24 hours.` };
    },
  },
  {
    id: 'test-alert',
    title: 'A low-risk test alert becomes an incident in the queue',
    async run(ctx) {
      const now = new Date().toISOString();
      const row = {
        TimeGenerated: now,
        SystemAlertId: crypto.randomUUID(),
        AlertName: `Vigil health check ${ctx.marker}`,
        AlertSeverity: 'Low',
        Description: 'A test alert raised by the console health checklist.',
        ProductName: 'Microsoft Defender for Endpoint',
        ProviderName: 'MDATP',
        VendorName: 'Microsoft',
        Status: 'New',
        StartTime: now,
        EndTime: now,
        Tactics: 'Execution',
        Entities: JSON.stringify([
          { $id: '1', Type: 'account', Name: 'healthcheck', UPNSuffix: 'vigil.local' },
          { $id: '2', Type: 'host', HostName: `healthcheck-${ctx.marker}` },
          { $id: '3', Type: 'ip', Address: '192.0.2.10' },
        ]),
      };
      await api.request('POST', `/api/workspaces/${encodeURIComponent(api.workspace)}/ingest/SecurityAlert`, row);
      const inc = await waitFor(
        async () =>
          (await api.incidents({ text: ctx.marker, status: ['New', 'Active', 'Closed'], limit: 5 })).items[0] ?? null,
        30_000,
      );
      ctx.incident = inc;
      return inc
        ? { ok: true, reason: `Incident #${inc.number} "${inc.title}".` }
        : { ok: false, reason: 'No incident appeared within 30 s of ingesting the test alert.' };
    },
  },
  {
    id: 'security-incident',
    title: 'The SecurityIncident query returns it',
    async run(ctx) {
      if (!ctx.incident) return { ok: false, reason: 'No test incident (previous step failed).' };
      const n = ctx.incident.number;
      const r = await waitFor(async () => {
        const q = await api.query(`SecurityIncident | where IncidentNumber == ${n} | take 1`);
        return q.rows.length ? q : null;
      }, 20_000);
      return r
        ? { ok: true, reason: `SecurityIncident has incident ${n}.` }
        : { ok: false, reason: `SecurityIncident has no row for incident ${n} after 20 s.` };
    },
  },
  {
    id: 'device-process',
    title: 'A sample DeviceProcessEvents query',
    async run() {
      const r = await api.query(
        'DeviceProcessEvents | where Timestamp > ago(1d) | summarize Events = count(), Devices = dcount(DeviceId)',
      );
      const events = Number(r.rows[0]?.[0] ?? 0);
      return events > 0
        ? { ok: true, reason: `${events} process events from ${r.rows[0]?.[1]} devices in the last day.` }
        : { ok: false, reason: 'No DeviceProcessEvents in the last day.' };
    },
  },
  {
    id: 'entities',
    title: 'Entity mapping shows users, hosts and IPs',
    async run(ctx) {
      if (!ctx.incident) return { ok: false, reason: 'No test incident.' };
      ctx.detail = await api.incident(ctx.incident.id);
      const types = new Set(ctx.detail.entities.items.map((e) => e.type.toLowerCase()));
      const missing = ['account', 'host', 'ip'].filter((t) => !types.has(t));
      return missing.length
        ? { ok: false, reason: `Missing entity types: ${missing.join(', ')}.` }
        : { ok: true, reason: `Entities: ${ctx.detail.entities.items.map((e) => e.displayName).join(', ')}.` };
    },
  },
  {
    id: 'automation',
    title: 'A test automation rule applied its tag, owner and tasks',
    async run(ctx) {
      if (!ctx.incident) return { ok: false, reason: 'No test incident.' };
      const d = await waitFor(async () => {
        const x = await api.incident(ctx.incident!.id);
        return x.audit.items.some((a) => a.actor.type === 'automation-rule') ? x : null;
      }, 15_000);
      if (!d) return { ok: false, reason: 'No automation rule changed the test incident within 15 s.' };
      ctx.detail = d;
      return {
        ok: true,
        reason: `Tags: ${d.incident.tags.join(', ') || 'none'}; owner: ${d.incident.owner?.userPrincipalName ?? d.incident.owner?.assignedTo ?? 'none'}; tasks: ${d.tasks.length}.`,
      };
    },
  },
  {
    id: 'close',
    title: 'Close the test incident and confirm the closure in SecurityIncident',
    async run(ctx) {
      if (!ctx.incident) return { ok: false, reason: 'No test incident.' };
      const fresh = await api.incident(ctx.incident.id);
      await api.updateIncident(
        ctx.incident.id,
        {
          status: 'Closed',
          classification: 'BenignPositive',
          classificationReason: 'SuspiciousButExpected',
          classificationComment: 'Health checklist test incident',
        },
        fresh.incident.version,
      );
      const n = ctx.incident.number;
      const r = await waitFor(async () => {
        const q = await api.query(
          `SecurityIncident | where IncidentNumber == ${n} | summarize arg_max(TimeGenerated, Status, Classification) | where Status == ${kqlString('Closed')}`,
        );
        return q.rows.length ? q : null;
      }, 20_000);
      return r
        ? { ok: true, reason: `Incident ${n} is Closed (BenignPositive) in SecurityIncident.` }
        : { ok: false, reason: `The closure of incident ${n} did not reach SecurityIncident within 20 s.` };
    },
  },
];
