/**
 * Scheduled rules end to end on real rows: threshold triggers, the SecurityAlert row Sentinel writes, the health
 * table, event grouping (per run, per result with the 150 cap and the summary alert), suppression, alert details
 * override.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, iso, openHarness, windowEndAfter } from './harness.js';

const sleepUntil = async (ms: number) => {
  while (Date.now() < ms) await new Promise((r) => setTimeout(r, Math.min(50, ms - Date.now())));
};

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

  it('raises one alert per result, at most 150 per run, the 150th summarizing every result', async () => {
    h = await openHarness();
    const rows = Array.from({ length: 160 }, (_, i) => failure(`user${i}@contoso.com`, `192.0.2.${i % 250}`));
    await runOnRows(signinRule('eventGroupingSettings:\n  aggregationKind: AlertPerResult\n', 0), 'SigninLogs', rows);
    const alerts = await h.query(
      'SecurityAlert | extend Count = toint(parse_json(ExtendedProperties)["Search Query Results Overall Count"]), Status = tostring(parse_json(ExtendedProperties)["Alert generation status"]), Entities = parse_json(Entities)',
    );
    expect(alerts).toHaveLength(150);
    const single = alerts.filter((a) => a.Count === 1);
    const summary = alerts.filter((a) => a.Count === 160);
    expect(single).toHaveLength(149);
    expect(summary).toHaveLength(1);
    expect(String(summary[0]?.Status)).toMatch(/^Summary alert: 160 results/);
    // The summary has the entities of all 160 results; each per-result alert has its own account.
    const summaryEntities = summary[0]?.Entities as { Type: string }[];
    expect(summaryEntities.filter((e) => e.Type === 'account')).toHaveLength(160);
    const users = new Set(
      single.map((a) => (a.Entities as { Type: string; Name?: string }[]).find((e) => e.Type === 'account')?.Name),
    );
    expect(users.size).toBe(149);
  });

  it('raises one alert per result below the cap', async () => {
    h = await openHarness();
    const rows = Array.from({ length: 5 }, (_, i) => failure(`user${i}@contoso.com`, '192.0.2.1'));
    await runOnRows(signinRule('eventGroupingSettings:\n  aggregationKind: AlertPerResult\n', 0), 'SigninLogs', rows);
    expect(await h.query('SecurityAlert')).toHaveLength(5);
  });

  it('takes the alert name, description, severity, tactics and dynamic properties from result columns', async () => {
    h = await openHarness();
    const yaml = `id: 6a1c4b7e-0000-4000-8000-000000000002
name: Sign-in failures
severity: Low
kind: Scheduled
queryFrequency: 5m
queryPeriod: 5m
triggerOperator: gt
triggerThreshold: 0
tactics: [CredentialAccess]
relevantTechniques: [T1110]
query: |
  SigninLogs
  | where ResultType != "0"
  | summarize TimeGenerated = max(TimeGenerated), Attempts = count(), IPs = make_set(IPAddress) by UserPrincipalName
  | extend Sev = iff(Attempts > 3, "High", "Informational"), Tac = "InitialAccess, CredentialAccess"
  | extend Link = strcat("https://idp.example/users/", UserPrincipalName), Fix = "Reset the password"
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: UserPrincipalName
customDetails:
  Attempts: Attempts
  SourceIPs: IPs
alertDetailsOverride:
  alertDisplayNameFormat: "{{Attempts}} failed sign-ins for {{UserPrincipalName}}"
  alertDescriptionFormat: "Failures from {{IPs}}"
  alertSeverityColumnName: Sev
  alertTacticsColumnName: Tac
  alertDynamicProperties:
    - alertProperty: AlertLink
      value: Link
    - alertProperty: RemediationSteps
      value: Fix
    - alertProperty: ProductComponentName
      value: Tac
eventGroupingSettings:
  aggregationKind: AlertPerResult
`;
    await runOnRows(yaml, 'SigninLogs', [
      ...Array.from({ length: 4 }, () => failure('carol@contoso.com', '203.0.113.9')),
      failure('dave@contoso.com', '203.0.113.10'),
    ]);
    const alerts = await h.query('SecurityAlert | order by AlertName asc');
    expect(alerts.map((a) => a.AlertName)).toEqual([
      '1 failed sign-ins for dave@contoso.com',
      '4 failed sign-ins for carol@contoso.com',
    ]);
    const [dave, carol] = alerts as Record<string, unknown>[];
    expect(carol?.AlertSeverity).toBe('High');
    expect(dave?.AlertSeverity).toBe('Informational');
    expect(carol?.Description).toBe('Failures from ["203.0.113.9"]');
    expect(carol?.Tactics).toBe('InitialAccess, CredentialAccess');
    expect(carol?.AlertLink).toBe('https://idp.example/users/carol@contoso.com');
    expect(carol?.RemediationSteps).toBe('Reset the password');
    expect(carol?.ProductComponentName).toBe('InitialAccess, CredentialAccess');
    const details = JSON.parse(String(JSON.parse(String(carol?.ExtendedProperties))['Custom Details']));
    expect(details).toEqual({ Attempts: [4], SourceIPs: [['203.0.113.9']] });
  });

  it('suppresses the rule for the suppression duration after an alert, then alerts again', async () => {
    h = await openHarness({ minFrequencyMs: 1000 });
    h.clock.live();
    const yaml = signinRule('suppressionEnabled: true\nsuppressionDuration: 3s\n', 0)
      .replace('queryFrequency: 5m', 'queryFrequency: 1s')
      .replace('queryPeriod: 5m', 'queryPeriod: 1s');
    const [imported] = await h.service.importText(yaml);
    expect(imported?.status).toBe('created');
    const first = await h.ingest('SigninLogs', [failure('erin@contoso.com', '198.51.100.7')]);
    await sleepUntil(Date.parse(first.ingestionTime) + 1100);
    await h.service.tick();
    await h.service.settle();
    expect(await h.query('SecurityAlert')).toHaveLength(1);
    const alertWindowEnd = Math.max(...(await h.service.runs()).filter((r) => r.alerts > 0).map((r) => r.windowEndMs));
    // Inside the suppression: the rows are not evaluated, and the windows say so.
    const second = await h.ingest('SigninLogs', [failure('erin@contoso.com', '198.51.100.7')]);
    expect(Date.parse(second.ingestionTime)).toBeLessThan(alertWindowEnd + 3000);
    await sleepUntil(Date.parse(second.ingestionTime) + 1100);
    await h.service.tick();
    await h.service.settle();
    expect(await h.query('SecurityAlert')).toHaveLength(1);
    const suppressed = (await h.service.runs()).filter((r) => r.status === 'suppressed');
    expect(suppressed.length).toBeGreaterThan(0);
    expect(suppressed.every((r) => r.windowEndMs <= alertWindowEnd + 3000 && r.windowStartMs >= alertWindowEnd)).toBe(
      true,
    );
    // After it: evaluated again.
    await sleepUntil(alertWindowEnd + 3000);
    const third = await h.ingest('SigninLogs', [failure('erin@contoso.com', '198.51.100.7')]);
    await sleepUntil(Date.parse(third.ingestionTime) + 1100);
    await h.service.tick();
    await h.service.settle();
    expect(await h.query('SecurityAlert')).toHaveLength(2);
  });
});
