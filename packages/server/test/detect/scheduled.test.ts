/**
 * Scheduled rules end to end on real rows: threshold triggers, the SecurityAlert row Sentinel writes, the health
 * table, event grouping (per run, per result with the 150 cap and the summary alert), suppression, alert details
 * override.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, iso, openHarness, windowEndAfter } from './harness.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const FIVE_MIN = 5 * 60_000;

function signinRule(extra: string, threshold = 2): string {
  return `id: 6a1c4b7e-0000-4000-8000-000000000001
name: Password spray against one account
description: Several failed sign-ins for one account.
severity: Medium
kind: Scheduled
queryFrequency: 5m
queryPeriod: 5m
triggerOperator: gt
triggerThreshold: ${threshold}
tactics:
  - CredentialAccess
relevantTechniques:
  - T1110.003
query: |
  SigninLogs
  | where ResultType != "0"
  | project TimeGenerated, UserPrincipalName, IPAddress, AppDisplayName, ResultType
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: UserPrincipalName
  - entityType: IP
    fieldMappings:
      - identifier: Address
        columnName: IPAddress
${extra}`;
}

const failure = (user: string, ip: string, minutesAgo = 0) => ({
  TimeGenerated: iso(Date.now() - minutesAgo * 60_000),
  UserPrincipalName: user,
  IPAddress: ip,
  AppDisplayName: 'Azure Portal',
  ResultType: '50126',
});

/** Imports a rule, loads rows, and runs the scheduler up to the end of the window that holds the rows. */
async function runOnRows(yaml: string, table: string, rows: Record<string, unknown>[]) {
  if (!h) throw new Error('no harness');
  const [imported] = await h.service.importText(yaml);
  expect(imported?.status, JSON.stringify(imported?.diagnostics)).toBe('created');
  const rule = await h.service.getRule(imported?.ruleId ?? '');
  const head = rule?.coveredUntilMs ?? 0;
  const report = await h.ingest(table, rows);
  h.clock.set(windowEndAfter(head, FIVE_MIN, Date.parse(report.ingestionTime)));
  await h.service.tick();
  await h.service.settle();
  return { rule, report };
}

describe('scheduled rules', () => {
  it('alerts when the result count passes the threshold, with Sentinel SecurityAlert fields', async () => {
    h = await openHarness();
    const { report } = await runOnRows(signinRule(''), 'SigninLogs', [
      failure('alice@contoso.com', '203.0.113.5'),
      failure('alice@contoso.com', '203.0.113.5'),
      failure('alice@contoso.com', '203.0.113.6'),
    ]);
    const alerts = await h.query('SecurityAlert');
    expect(alerts).toHaveLength(1);
    const a = alerts[0] as Record<string, unknown>;
    expect(a.AlertName).toBe('Password spray against one account');
    expect(a.AlertSeverity).toBe('Medium');
    expect(a.ProductName).toBe('Azure Sentinel');
    expect(a.ProviderName).toBe('ASI Scheduled Alerts');
    expect(a.VendorName).toBe('Microsoft');
    expect(a.Tactics).toBe('CredentialAccess');
    expect(a.Techniques).toBe('T1110');
    expect(a.SubTechniques).toBe('T1110.003');
    expect(a.AlertType).toBe('6a1c4b7e-0000-4000-8000-000000000001');
    expect(a.Status).toBe('New');
    expect(a.TenantId).toBe('test-workspace');
    const entities = JSON.parse(String(a.Entities)) as Record<string, unknown>[];
    expect(entities).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Type: 'account', Name: 'alice', UPNSuffix: 'contoso.com' }),
        expect.objectContaining({ Type: 'ip', Address: '203.0.113.5' }),
        expect.objectContaining({ Type: 'ip', Address: '203.0.113.6' }),
      ]),
    );
    expect(entities).toHaveLength(3);
    expect(a.CompromisedEntity).toBe('alice@contoso.com');
    const ext = JSON.parse(String(a.ExtendedProperties)) as Record<string, string>;
    expect(ext['Analytic Rule Ids']).toBe('["6a1c4b7e-0000-4000-8000-000000000001"]');
    expect(ext['Search Query Results Overall Count']).toBe('3');
    expect(ext.Query).toContain('SigninLogs');
    expect(Date.parse(ext['Query Start Time UTC'] ?? '')).toBeLessThanOrEqual(Date.parse(report.ingestionTime));
    expect(Date.parse(ext['Query End Time UTC'] ?? '')).toBeGreaterThan(Date.parse(report.ingestionTime));
    expect(String(a.AlertLink)).toMatch(/^\/rules\/6a1c4b7e-0000-4000-8000-000000000001\/runs\//);
    const links = JSON.parse(String(a.ExtendedLinks)) as { Href: string; Category: string }[];
    expect(links.find((l) => l.Category === 'Query')?.Href).toContain('ingestionStart=');
    // The run is in the health table, queryable in KQL.
    const health = await h.query(
      'SentinelHealth | where SentinelResourceType == "Analytics Rule" | extend Rows = toint(ExtendedProperties.ResultsCount), Alerts = toint(ExtendedProperties.AlertsGeneratedAmount) | where Alerts > 0',
    );
    expect(health).toHaveLength(1);
    expect(health[0]).toMatchObject({ Status: 'Success', Rows: 3, Alerts: 1, SentinelResourceKind: 'Scheduled' });
  });

  it('does not alert at or below the threshold', async () => {
    h = await openHarness();
    await runOnRows(signinRule(''), 'SigninLogs', [
      failure('bob@contoso.com', '198.51.100.1'),
      failure('bob@contoso.com', '198.51.100.1'),
    ]);
    expect(await h.query('SecurityAlert')).toHaveLength(0);
    const runs = await h.service.runs();
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((r) => r.status === 'success' && r.alerts === 0)).toBe(true);
    expect(runs.some((r) => r.rows === 2)).toBe(true);
  });
});
