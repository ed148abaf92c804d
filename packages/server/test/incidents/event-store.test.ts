/**
 * The Sentinel view in the event store (DuckDB): a `SecurityIncident` row per change with Sentinel's columns,
 * `AlertIds` capped at 150 with the real count in `AdditionalData`, `SecurityAlert` rows for alerts that came as
 * `AlertInfo` / `AlertEvidence`, KQL over both (`SecurityIncident | where ProviderName == "Microsoft XDR"`, the
 * incident ↔ alert join), and the outbox delivering every row exactly once across failures and restarts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KqlValue } from '../../src/engine/values.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import type { EventStoreTarget } from '../../src/incidents/outbox.js';
import { IncidentService } from '../../src/incidents/service.js';
import { runKql } from '../../src/query/query-service.js';
import { workspaceDefinitions } from '../conformance/runner.js';
import {
  account,
  analyst,
  defenderAlertRows,
  host,
  ip,
  MIN,
  openStack,
  productAlertRow,
  ruleAlert,
  type Stack,
  T0,
} from './helpers.js';

let stack: Stack | null = null;
let target: EventStoreTarget | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
  target = null;
});

const definitions = workspaceDefinitions();

async function open(): Promise<Stack> {
  stack = await openStack({
    eventStore: async (dir) => {
      target = {
        engine: await openWorkspace(join(dir, 'ws'), { threads: 1 }),
        definitions,
        scratchDir: join(dir, 'scratch'),
      };
      return target;
    },
  });
  return stack;
}

async function kql(query: string): Promise<Record<string, KqlValue>[]> {
  if (!target) throw new Error('no event store');
  const out = await runKql({ engine: target.engine, definitions }, query);
  if (!out.result) throw new Error(out.error?.message ?? 'no result');
  try {
    const cols = out.result.columns;
    return (await out.result.rows()).map((r) => Object.fromEntries(cols.map((c, i) => [c.name, r[i] ?? null])));
  } finally {
    await out.result.close();
  }
}

/** What the ingestion service does for a connector marked as an alert source: the rows go into their table first. */
async function ingestRows(dir: string, table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  if (!target) throw new Error('no event store');
  const def = definitions.find((d) => d.name === table);
  if (!def) throw new Error(`no table ${table}`);
  await target.engine.ensureTable(def);
  const file = join(dir, `${table}-${Date.now()}.ndjson`);
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
  const report = await target.engine.loadFile(table, file, { format: 'ndjson' });
  expect(report.rowsRejected).toBe(0);
}

describe('SecurityIncident and SecurityAlert', () => {
  it('writes one SecurityIncident row per change, queryable as in Sentinel, joined to SecurityAlert', async () => {
    const s = await open();
    const mdo = defenderAlertRows({
      serviceSource: 'Microsoft Defender for Office 365',
      title: 'Email messages containing malicious URL removed after delivery',
      category: 'InitialAccess',
      techniques: ['T1566.002'],
      atMs: T0,
      evidence: [
        { EntityType: 'Mailbox', AccountUpn: 'ivy@contoso.com' },
        { EntityType: 'Url', RemoteUrl: 'https://evil.example/login' },
      ],
    });
    const mde = productAlertRow({
      product: 'mde',
      title: 'Suspicious URL clicked',
      tactics: ['InitialAccess'],
      atMs: T0 + 5 * MIN,
      entities: [
        host('ws-ivy', 'dev-ivy'),
        account('ivy@contoso.com'),
        { Type: 'url', Url: 'https://evil.example/login' },
      ],
    });
    await ingestRows(s.dir, 'AlertInfo', [mdo.info]);
    await ingestRows(s.dir, 'AlertEvidence', mdo.evidence);
    await ingestRows(s.dir, 'SecurityAlert', [mde]);
    await s.service.ingestProductAlerts([mdo.info, ...mdo.evidence]);
    s.clock.advance(MIN);
    await s.service.ingestProductAlerts([mde]);
    s.clock.advance(MIN);
    await s.service.update(
      1,
      { owner: { userPrincipalName: 'tier1@contoso.com' }, addTags: ['phish'] },
      analyst('lead@contoso.com'),
    );
    s.clock.advance(MIN);
    await s.service.addComment(1, 'User confirmed the click.', analyst('tier1@contoso.com'));
    s.clock.advance(MIN);
    await s.service.update(
      1,
      { status: 'Closed', classification: 'TruePositive', classificationReason: 'SuspiciousActivity' },
      { type: 'automation-rule', id: 'ar-close', name: 'Close confirmed phish' },
    );
    await s.service.flush();

    const changes = await kql(
      'SecurityIncident | where ProviderName == "Microsoft XDR" | project TimeGenerated, IncidentNumber, Status, ModifiedBy, Severity | order by TimeGenerated asc',
    );
    expect(changes.map((r) => [r.IncidentNumber, r.Status, r.ModifiedBy])).toEqual([
      [1, 'New', 'Vigil - Vigil correlation engine'],
      [1, 'New', 'Vigil - Vigil correlation engine'],
      [1, 'New', 'lead@contoso.com'],
      [1, 'New', 'tier1@contoso.com'],
      [1, 'Closed', 'Automation rule - Close confirmed phish'],
    ]);
    const [last] = await kql(
      `SecurityIncident | summarize arg_max(TimeGenerated, *) by IncidentName
       | project Title, Owner, Labels, Classification, ClassificationReason, AlertIds, Comments, AdditionalData,
         ClosedTime, CreatedTime, FirstActivityTime, ProviderIncidentId, IncidentUrl, Tasks`,
    );
    expect(last?.Title).toBe('Initial access incident on one endpoint reported by multiple sources');
    expect(last?.Owner).toMatchObject({ userPrincipalName: 'tier1@contoso.com', assignedTo: 'tier1@contoso.com' });
    expect(last?.Labels).toEqual([{ labelName: 'phish', labelType: 'User' }]);
    expect(last?.Classification).toBe('TruePositive');
    expect(last?.AlertIds).toEqual([mdo.alertId, mde.SystemAlertId]);
    expect(last?.Comments).toMatchObject([
      { message: 'User confirmed the click.', author: { userPrincipalName: 'tier1@contoso.com' } },
    ]);
    expect(last?.AdditionalData).toMatchObject({
      alertsCount: 2,
      commentsCount: 1,
      tactics: ['InitialAccess'],
      alertProductNames: ['Office 365 Advanced Threat Protection', 'Microsoft Defender Advanced Threat Protection'],
      modifiedBy: { type: 'automation-rule', id: 'ar-close' },
    });
    expect(last?.ClosedTime).not.toBeNull();
    expect(last?.ProviderIncidentId).toBe('1');
    expect(last?.IncidentUrl).toBe('/incidents/1');
    expect(last?.FirstActivityTime).toBe(`${new Date(T0).toISOString().slice(0, -1)}0000Z`);

    // The Defender XDR alert that came as AlertInfo/AlertEvidence has its SecurityAlert row, so the seed's
    // incident-to-alert join finds both alerts with their products.
    const joined = await kql(
      `SecurityIncident | summarize arg_max(TimeGenerated, *) by IncidentName
       | mv-expand AlertId = AlertIds to typeof(string)
       | join kind=inner (SecurityAlert | summarize arg_max(TimeGenerated, *) by SystemAlertId) on $left.AlertId == $right.SystemAlertId
       | project IncidentNumber, AlertName, ProductName, ProviderName1 | order by AlertName asc`,
    );
    expect(joined).toEqual([
      {
        IncidentNumber: 1,
        AlertName: 'Email messages containing malicious URL removed after delivery',
        ProductName: 'Office 365 Advanced Threat Protection',
        ProviderName1: 'OATP',
      },
      {
        IncidentNumber: 1,
        AlertName: 'Suspicious URL clicked',
        ProductName: 'Microsoft Defender Advanced Threat Protection',
        ProviderName1: 'MDATP',
      },
    ]);
    const alertRow = await kql(
      `SecurityAlert | where SystemAlertId == "${mdo.alertId}" | project Entities, Tactics, Techniques, SubTechniques`,
    );
    expect(JSON.parse(String(alertRow[0]?.Entities))).toEqual([
      { $id: '2', Type: 'mailbox', MailboxPrimaryAddress: 'ivy@contoso.com' },
      { $id: '3', Type: 'url', Url: 'https://evil.example/login' },
    ]);
    expect(alertRow[0]).toMatchObject({ Tactics: 'InitialAccess', Techniques: '', SubTechniques: 'T1566.002' });
  });

  it('caps AlertIds at 150 and gives the real count in AdditionalData', async () => {
    const s = await open();
    const cfg = {
      createIncident: true,
      groupingConfiguration: { enabled: true, lookbackDuration: '1d', matchingMethod: 'AnyAlert' },
    };
    const alerts = Array.from({ length: 160 }, (_, k) =>
      ruleAlert({ ruleId: 'spray', incidentConfiguration: cfg, atMs: T0 + k * 1000, entities: [ip(`203.0.113.${k}`)] }),
    );
    await s.service.ingestDetectionAlerts(alerts);
    await s.service.flush();
    const [row] = await kql(
      'SecurityIncident | summarize arg_max(TimeGenerated, *) by IncidentName | project n = array_length(AlertIds), AdditionalData, ProviderName, RelatedAnalyticRuleIds',
    );
    expect(row?.n).toBe(150);
    expect(row?.AdditionalData).toMatchObject({ alertsCount: 160, alertIdsBeyondCap: 10 });
    expect(row?.ProviderName).toBe('Azure Sentinel');
    expect(row?.RelatedAnalyticRuleIds).toEqual(['spray']);
  });

  it('delivers every row exactly once when a load succeeds but forgetting it fails, and after a restart', async () => {
    const s = await open();
    const store = s.service.store;
    const original = store.deleteOutbox.bind(store);
    let failures = 1;
    store.deleteOutbox = async (db, table, upTo) => {
      if (failures > 0) {
        failures--;
        throw new Error('simulated crash after the load');
      }
      return original(db, table, upTo);
    };
    await s.service.ingestProductAlerts([
      productAlertRow({ product: 'mde', title: 'A', atMs: T0, entities: [host('h1', 'd1')] }),
      productAlertRow({ product: 'mde', title: 'B', atMs: T0, entities: [host('h2', 'd2')] }),
    ]);
    await expect(s.service.flush()).rejects.toThrow(/simulated crash/);
    await s.service.flush();
    expect(await kql('SecurityIncident | summarize n = count()')).toEqual([{ n: 2 }]);
    // A load that fails leaves the rows in the outbox; the next process delivers them.
    store.deleteOutbox = original;
    const engine = target?.engine;
    if (!engine || !target) throw new Error('no event store');
    const loadFile = engine.loadFile.bind(engine);
    engine.loadFile = async () => {
      throw new Error('disk full');
    };
    await s.service.update(1, { addTags: ['x'] }, analyst('a@contoso.com'));
    await expect(s.service.flush()).rejects.toThrow(/disk full/);
    engine.loadFile = loadFile;
    expect(await s.state.all('SELECT table_name FROM inc_outbox')).toEqual([{ table_name: 'SecurityIncident' }]);
    const next = await IncidentService.open({ state: s.state, eventStore: target, clock: s.clock.now, tenantId: 'w' });
    await next.flush();
    await next.close();
    expect(
      await kql('SecurityIncident | summarize n = count() by IncidentNumber | order by IncidentNumber asc'),
    ).toEqual([
      { IncidentNumber: 1, n: 2 },
      { IncidentNumber: 2, n: 1 },
    ]);
    expect((await s.state.all('SELECT * FROM inc_outbox')).length).toBe(0);
  });
});
