/**
 * Defender custom detections: Graph `detectionRule` YAML, Defender's required columns, one alert per impacted
 * asset, response actions requested (pending approval, never executed), and no second alert for the same results
 * when the next run's lookback overlaps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StateActionRequester } from '../../src/detect/actions.js';
import { type Harness, iso, openHarness, windowEndAfter } from './harness.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const ID = 'cd000000-0000-4000-8000-000000000001';
const RULE = `kind: CustomDetection
id: ${ID}
displayName: Suspicious encoded PowerShell
isEnabled: true
queryCondition:
  queryText: |
    DeviceProcessEvents
    | where FileName =~ "powershell.exe" and ProcessCommandLine has "-enc"
    | project Timestamp, ReportId, DeviceId, DeviceName, AccountSid, AccountUpn, SHA1, ProcessCommandLine
schedule:
  period: 1H
detectionAction:
  alertTemplate:
    title: "Encoded PowerShell on {{DeviceName}}"
    description: An encoded PowerShell command ran.
    severity: high
    category: Execution
    recommendedActions: Isolate the device and reset the user's password.
    mitreTechniques: [T1059.001]
    impactedAssets:
      - "@odata.type": "#microsoft.graph.security.impactedDeviceAsset"
        identifier: deviceId
      - "@odata.type": "#microsoft.graph.security.impactedUserAsset"
        identifier: accountSid
  responseActions:
    - "@odata.type": "#microsoft.graph.security.isolateDeviceResponseAction"
      identifier: deviceId
      isolationType: full
    - "@odata.type": "#microsoft.graph.security.disableUserResponseAction"
      identifier: accountSid
    - "@odata.type": "#microsoft.graph.security.stopAndQuarantineFileResponseAction"
      identifier: sha1
`;

const event = (device: string, report: number, sid: string) => ({
  Timestamp: iso(Date.now() - 60_000),
  ReportId: report,
  DeviceId: `dev-${device}`,
  DeviceName: `${device}.contoso.com`,
  AccountSid: sid,
  AccountUpn: `${sid}@contoso.com`,
  FileName: 'powershell.exe',
  ProcessCommandLine: 'powershell.exe -nop -enc SQBFAFgA',
  SHA1: `sha1-${device}`,
});

describe('custom detections', () => {
  it('alerts per impacted device and requests response actions, pending approval', async () => {
    h = await openHarness();
    const [imported] = await h.service.importText(RULE);
    expect(imported, JSON.stringify(imported?.diagnostics)).toMatchObject({ status: 'created', mode: 'scheduled' });
    const rule = await h.service.getRule(ID);
    expect(rule).toMatchObject({ frequencyMs: 3600_000, periodMs: 4 * 3600_000 });
    const load = await h.ingest('DeviceProcessEvents', [
      event('pc1', 11, 'S-1-5-21-1'),
      event('pc1', 12, 'S-1-5-21-1'),
      event('pc2', 13, 'S-1-5-21-2'),
    ]);
    const end = windowEndAfter(rule?.coveredUntilMs ?? 0, 3600_000, Date.parse(load.ingestionTime));
    h.clock.set(end);
    await h.service.tick();
    await h.service.settle();
    const alerts = await h.query('SecurityAlert | order by AlertName asc');
    expect(alerts.map((a) => a.AlertName)).toEqual([
      'Encoded PowerShell on pc1.contoso.com',
      'Encoded PowerShell on pc2.contoso.com',
    ]);
    expect(alerts[0]).toMatchObject({
      AlertSeverity: 'High',
      ProductName: 'Microsoft 365 Defender',
      ProductComponentName: 'CustomDetection',
      Tactics: 'Execution',
      Techniques: 'T1059',
      SubTechniques: 'T1059.001',
      RemediationSteps: "Isolate the device and reset the user's password.",
    });
    const entities = JSON.parse(String(alerts[0]?.Entities)) as Record<string, unknown>[];
    expect(entities).toContainEqual(
      expect.objectContaining({ Type: 'host', HostName: 'pc1', DnsDomain: 'contoso.com', MdatpDeviceId: 'dev-pc1' }),
    );
    expect(entities).toContainEqual(
      expect.objectContaining({ Type: 'account', Sid: 'S-1-5-21-1', Name: 'S-1-5-21-1' }),
    );

    const requests = await new StateActionRequester(h.state).list();
    expect(requests.every((r) => r.status === 'pending_approval' && r.ruleId === ID)).toBe(true);
    const summary = requests.map((r) => `${r.action}:${r.targetId}`).sort();
    expect(summary).toEqual([
      'disableUser:S-1-5-21-1',
      'disableUser:S-1-5-21-2',
      'isolateDevice:dev-pc1',
      'isolateDevice:dev-pc2',
      'stopAndQuarantineFile:sha1-pc1',
      'stopAndQuarantineFile:sha1-pc2',
    ]);
    expect(requests.find((r) => r.action === 'isolateDevice')?.parameters).toEqual({ isolationType: 'full' });
    expect(requests.find((r) => r.action === 'stopAndQuarantineFile')).toMatchObject({
      targetType: 'file',
      identifier: 'SHA1',
    });

    // The next run's 4-hour lookback still holds these results: they are not alerted (or acted on) again.
    h.clock.set(end + 3600_000);
    await h.service.tick();
    await h.service.settle();
    const runs = await h.service.runs({ ruleId: ID });
    expect(runs[runs.length - 1]).toMatchObject({ status: 'success', rows: 0, alerts: 0 });
    expect(await h.query('SecurityAlert')).toHaveLength(2);
    expect(await new StateActionRequester(h.state).list()).toHaveLength(6);
  });

  it("rejects a custom detection whose query lacks Defender's required columns", async () => {
    h = await openHarness();
    const [r] = await h.service.importText(
      RULE.replace('project Timestamp, ReportId, DeviceId,', 'project Timestamp, DeviceId,'),
    );
    expect(r?.status).toBe('rejected');
    expect(r?.diagnostics.map((d) => d.message)).toContain("A custom detection's query must return ReportId.");
  });
});
