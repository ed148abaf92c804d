/**
 * End to end with the real detection service: a Sentinel analytics rule runs on ingested sign-in rows, its alerts
 * (one per result) are handed to the incident service as they are raised, grouped by the rule's
 * `incidentConfiguration` into one incident, and the Sentinel view joins `SecurityIncident` to the rule's
 * `SecurityAlert` rows in the same workspace.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IncidentService } from '../../src/incidents/service.js';
import { type Harness, iso, openHarness, windowEndAfter } from '../detect/harness.js';

let h: Harness | null = null;
let incidents: IncidentService | null = null;
afterEach(async () => {
  await incidents?.close();
  incidents = null;
  await h?.close();
  h = null;
});

const RULE = `id: 6a1c4b7e-0000-4000-8000-00000000aa01
name: Failed sign-ins from one address
description: Failed sign-ins, one alert per account and address.
severity: Medium
kind: Scheduled
queryFrequency: 5m
queryPeriod: 5m
triggerOperator: gt
triggerThreshold: 0
tactics:
  - CredentialAccess
relevantTechniques:
  - T1110.003
query: |
  SigninLogs
  | where ResultType != "0"
  | summarize Failures = count() by UserPrincipalName, IPAddress
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: UserPrincipalName
  - entityType: IP
    fieldMappings:
      - identifier: Address
        columnName: IPAddress
eventGroupingSettings:
  aggregationKind: AlertPerResult
incidentConfiguration:
  createIncident: true
  groupingConfiguration:
    enabled: true
    reopenClosedIncident: false
    lookbackDuration: 5h
    matchingMethod: Selected
    groupByEntities:
      - IP
    groupByAlertDetails: []
    groupByCustomDetails: []
`;

describe('detection service → incidents', () => {
  it("groups a rule's alerts by its incidentConfiguration and links SecurityIncident to SecurityAlert", async () => {
    h = await openHarness();
    const harness = h;
    incidents = await IncidentService.open({
      state: harness.state,
      clock: harness.clock.now,
      eventStore: {
        engine: harness.tracker.wrap(harness.engine),
        definitions: harness.definitions,
        scratchDir: join(harness.dir, 'incidents-scratch'),
      },
    });
    incidents.attach(harness.service);
    const [imported] = await harness.service.importText(RULE);
    expect(imported?.status, JSON.stringify(imported?.diagnostics)).toBe('created');
    const head = (await harness.service.getRule(imported?.ruleId ?? ''))?.coveredUntilMs ?? 0;
    const fail = (user: string, ip: string) => ({
      TimeGenerated: iso(Date.now()),
      UserPrincipalName: user,
      IPAddress: ip,
      AppDisplayName: 'Azure Portal',
      ResultType: '50126',
    });
    const report = await harness.ingest('SigninLogs', [
      fail('ann@contoso.com', '203.0.113.50'),
      fail('bea@contoso.com', '203.0.113.50'),
      fail('cal@contoso.com', '203.0.113.50'),
      fail('dee@contoso.com', '198.51.100.77'),
    ]);
    harness.clock.set(windowEndAfter(head, 5 * 60_000, Date.parse(report.ingestionTime)));
    await harness.service.tick();
    await harness.service.settle();
    await incidents.flush();

    const list = await incidents.list({ sort: 'number', order: 'asc' });
    // Grouped by IP: three accounts from 203.0.113.50 in one incident, dee's address in another.
    expect(list.items.map((i) => [i.alertCount, i.providerName, i.ruleIds])).toEqual([
      [3, 'Azure Sentinel', [imported?.ruleId]],
      [1, 'Azure Sentinel', [imported?.ruleId]],
    ]);
    expect(list.items[0]?.title).toBe('Failed sign-ins from one address involving multiple users');
    const links = (await incidents.links(1, null)).items.map((l) => l.reason.rule);
    expect(links).toEqual(['new-incident', 'rule-grouping', 'rule-grouping']);

    const joined = await harness.query(
      `SecurityIncident | summarize arg_max(TimeGenerated, *) by IncidentNumber
       | mv-expand AlertId = AlertIds to typeof(string)
       | join kind=inner (SecurityAlert) on $left.AlertId == $right.SystemAlertId
       | summarize alerts = count(), names = make_set(AlertName) by IncidentNumber, ProviderName
       | order by IncidentNumber asc`,
    );
    expect(joined).toEqual([
      { IncidentNumber: 1, ProviderName: 'Azure Sentinel', alerts: 3, names: ['Failed sign-ins from one address'] },
      { IncidentNumber: 2, ProviderName: 'Azure Sentinel', alerts: 1, names: ['Failed sign-ins from one address'] },
    ]);
  });
});
