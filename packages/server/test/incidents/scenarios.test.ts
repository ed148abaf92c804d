/**
 * Scenario tests of the correlation engine with realistic alert sequences: a multi-stage attack across email,
 * identity and endpoint sources becomes one incident; stage sequences over days; a bridging alert merges two
 * incidents; common entities do not link; each guardrail holds; the audit trail and the link reasons say why.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incidents/model.js';
import {
  account,
  analyst,
  DAY,
  defenderAlertRows,
  fileHash,
  HOUR,
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
afterEach(async () => {
  await stack?.close();
  stack = null;
});

async function open(settings?: Parameters<typeof openStack>[0]['settings']): Promise<Stack> {
  stack = await openStack(settings ? { settings } : {});
  return stack;
}

/** An incident's audit trail, oldest first: [action, who, note]. */
const trail = async (s: Stack, n: number | null | undefined): Promise<[string, string, string][]> =>
  [...((await s.service.get(n ?? 0))?.audit.items ?? [])]
    .reverse()
    .map((a) => [a.action, a.actor.type === 'system' ? 'system' : a.actor.id, a.note ?? '']);

const openIncidents = async (s: Stack): Promise<Incident[]> =>
  (await s.service.list({ status: ['New', 'Active'], sort: 'number', order: 'asc', limit: 500 })).items as Incident[];

describe('multi-stage attack across email, identity and endpoint', () => {
  it('becomes one incident, named from its tactics, entities and sources', async () => {
    const s = await open();
    const alice = 'alice@contoso.com';
    // 1. Email (Defender for Office 365, AlertInfo + AlertEvidence): a phish with a link delivered to Alice.
    const phish = defenderAlertRows({
      serviceSource: 'Microsoft Defender for Office 365',
      title: 'Email messages containing malicious URL removed after delivery',
      category: 'InitialAccess',
      techniques: ['Phishing (T1566)', 'Spearphishing Link (T1566.002)'],
      atMs: T0,
      evidence: [
        { EntityType: 'MailMessage', NetworkMessageId: 'nm-7781', AccountUpn: alice, EmailSubject: 'Invoice overdue' },
        { EntityType: 'Url', RemoteUrl: 'https://login-contoso.example/reset' },
        { EntityType: 'Mailbox', AccountUpn: alice },
      ],
    });
    const r1 = await s.service.ingestProductAlerts([phish.info, ...phish.evidence]);
    expect(r1.problems).toEqual([]);
    expect(r1.alerts[0]?.outcome).toBe('created');
    // 2. Identity (Entra ID Protection, SecurityAlert row): Alice signs in from an unfamiliar address.
    s.clock.advance(20 * MIN);
    const signIn = productAlertRow({
      product: 'aadip',
      title: 'Unfamiliar sign-in properties',
      tactics: ['InitialAccess'],
      atMs: T0 + 18 * MIN,
      entities: [account(alice, { AadUserId: '5e3f-aad-alice' }), ip('203.0.113.7')],
    });
    // 3. Endpoint (Defender for Endpoint): encoded PowerShell run by Alice on WS01.
    const powershell = productAlertRow({
      product: 'mde',
      title: 'Suspicious PowerShell command line',
      severity: 'High',
      tactics: ['Execution'],
      techniques: ['T1059'],
      atMs: T0 + 35 * MIN,
      entities: [
        host('ws01', 'd3f1c0de01'),
        account(alice, { Sid: 'S-1-5-21-1004336348-1177238915-682003330-1105', NTDomain: 'CONTOSO' }),
      ],
    });
    // 4. Endpoint: WS01 beacons to a command-and-control server.
    const beacon = productAlertRow({
      product: 'mde',
      title: 'Communication with a known command and control server',
      severity: 'High',
      tactics: ['CommandAndControl'],
      techniques: ['T1071'],
      atMs: T0 + 50 * MIN,
      entities: [host('ws01', 'd3f1c0de01'), ip('198.51.100.23')],
    });
    s.clock.advance(40 * MIN);
    const r2 = await s.service.ingestProductAlerts([signIn, powershell, beacon]);
    expect(r2.alerts.map((a) => a.outcome)).toEqual(['joined', 'joined', 'joined']);
    const incidents = await openIncidents(s);
    expect(incidents).toHaveLength(1);
    const i = incidents[0] as Incident;
    expect(i.alertCount).toBe(4);
    expect(i.title).toBe(
      'Multi-stage incident involving Initial access & Command and control on one endpoint reported by multiple sources',
    );
    expect(i.severity).toBe('High');
    expect(i.providerName).toBe('Microsoft XDR');
    expect(i.tactics).toEqual(['InitialAccess', 'Execution', 'CommandAndControl']);
    expect(i.techniques).toEqual(expect.arrayContaining(['T1566', 'T1566.002', 'T1059', 'T1071']));
    expect([...i.productNames].sort()).toEqual([
      'Azure Active Directory Identity Protection',
      'Microsoft Defender Advanced Threat Protection',
      'Office 365 Advanced Threat Protection',
    ]);
    expect(i.firstActivityTime).toBe(new Date(T0).toISOString());

    // Entities are de-duplicated: Alice appears as one account (UPN, AAD id and SID merged), one mailbox, WS01 once.
    const detail = await s.service.get(i.number);
    const entities = detail?.entities.items ?? [];
    const accounts = entities.filter((e) => e.type === 'account');
    expect(accounts).toHaveLength(1);
    expect(accounts[0]?.fields).toMatchObject({ AadUserId: '5e3f-aad-alice', NTDomain: 'CONTOSO' });
    expect(accounts[0]?.alertCount).toBe(2);
    expect(entities.filter((e) => e.type === 'host')).toHaveLength(1);
    // The graph links each alert to its entities.
    const edges = detail?.graph.edges ?? [];
    const aliceNode = `entity:${accounts[0]?.id}`;
    expect(edges.filter((e) => e.to === aliceNode)).toHaveLength(2);

    // Every alert says why it is there.
    const links = detail?.links.items ?? [];
    expect(links.map((l) => l.reason.rule)).toEqual([
      'new-incident',
      'shared-entity',
      'shared-entity',
      'shared-entity',
    ]);
    const signInLink = links.find((l) => l.alertId === signIn.SystemAlertId);
    expect(signInLink?.reason.entities?.flatMap((e) => e.keys)).toContain('account|upn|alice@contoso.com');
    expect(signInLink?.reason.relatedAlerts).toEqual([phish.alertId]);
    const beaconLink = links.find((l) => l.alertId === beacon.SystemAlertId);
    expect(beaconLink?.reason.entities?.map((e) => e.displayName)).toEqual(['ws01.contoso.com']);
    expect(beaconLink?.reason.summary).toMatch(/Shares host ws01\.contoso\.com with alerts of #1/);

    // The audit trail: created by the engine, then one alert-added entry per alert.
    const audit = [...(detail?.audit.items ?? [])].reverse();
    expect(audit.map((a) => a.action)).toEqual(['created', 'alert-added', 'alert-added', 'alert-added', 'alert-added']);
    expect(audit.every((a) => a.actor.type === 'system')).toBe(true);
  });

  it('a Vigil rule alert on the same device joins, and the incident keeps its Defender provider', async () => {
    const s = await open();
    await s.service.ingestProductAlerts([
      productAlertRow({
        product: 'mde',
        title: 'Suspicious service creation',
        tactics: ['Persistence'],
        atMs: T0,
        entities: [host('srv-web-02', 'dev-77')],
      }),
    ]);
    const [o] = await s.service.ingestDetectionAlerts([
      ruleAlert({
        ruleName: 'Rare process with network connection',
        tactics: ['CommandAndControl'],
        atMs: T0 + HOUR,
        entities: [host('srv-web-02'), ip('192.0.2.44')],
      }),
    ]);
    expect(o?.outcome).toBe('joined');
    const [i] = await openIncidents(s);
    expect(i?.providerName).toBe('Microsoft XDR');
    expect(i?.ruleIds).toEqual(['rule-1']);
    expect(i?.title).toBe(
      'Multi-stage incident involving Persistence & Command and control on one endpoint reported by multiple sources',
    );
  });
});

describe('stage sequences', () => {
  it('joins a later attack stage on the same device days later, but not an unrelated repeat', async () => {
    const s = await open();
    await s.service.ingestProductAlerts([
      productAlertRow({
        product: 'mde',
        title: 'Suspicious scheduled task',
        tactics: ['Execution', 'Persistence'],
        atMs: T0,
        entities: [host('fin-laptop-7', 'dev-fin7')],
      }),
    ]);
    // Three days later: data leaves the same device (later in the kill chain): same incident.
    s.clock.advance(3 * DAY);
    const [exfil] = (
      await s.service.ingestProductAlerts([
        productAlertRow({
          product: 'mde',
          title: 'Large upload to a personal cloud storage',
          tactics: ['Exfiltration'],
          atMs: T0 + 3 * DAY,
          entities: [host('fin-laptop-7', 'dev-fin7'), ip('203.0.113.99')],
        }),
      ])
    ).alerts;
    expect(exfil?.outcome).toBe('joined');
    const link = (await s.service.alert(exfil?.alertId ?? ''))?.links[0];
    expect(link?.reason.rule).toBe('stage-sequence');
    expect(link?.reason.stages).toEqual({ incident: ['Execution', 'Persistence'], alert: ['Exfiltration'] });
    // Another Execution alert three days after that is not a continuation: a new incident.
    s.clock.advance(3 * DAY);
    const [again] = (
      await s.service.ingestProductAlerts([
        productAlertRow({
          product: 'mde',
          title: 'Suspicious scheduled task',
          tactics: ['Execution'],
          atMs: T0 + 6 * DAY + HOUR,
          entities: [host('fin-laptop-7', 'dev-fin7')],
        }),
      ])
    ).alerts;
    expect(again?.outcome).toBe('created');
    // Past the stage window nothing links, whatever the stage.
    s.clock.advance(10 * DAY);
    const [late] = (
      await s.service.ingestProductAlerts([
        productAlertRow({
          product: 'mde',
          title: 'Ransomware behavior',
          tactics: ['Impact'],
          atMs: T0 + 16 * DAY + 2 * HOUR,
          entities: [host('fin-laptop-7', 'dev-fin7')],
        }),
      ])
    ).alerts;
    expect(late?.outcome).toBe('created');
  });
});

describe('bridging alerts merge incidents', () => {
  it('merges two open incidents linked by a new alert; the other closes as Redirected with a pointer', async () => {
    const s = await open();
    const [a] = (
      await s.service.ingestProductAlerts([
        productAlertRow({
          product: 'mde',
          title: 'Credential dumping tool detected',
          tactics: ['CredentialAccess'],
          atMs: T0,
          entities: [host('ws-ops-3', 'dev-ops3'), fileHash('a3f4'.repeat(16))],
        }),
      ])
    ).alerts;
    await s.service.update(a?.incidentNumber ?? 0, { addTags: ['endpoint-team'] }, analyst('kai@contoso.com'));
    const [b] = (
      await s.service.ingestProductAlerts([
        productAlertRow({
          product: 'mdi',
          title: 'Suspected DCSync attack',
          tactics: ['CredentialAccess'],
          atMs: T0 + 10 * MIN,
          entities: [account('svc-backup@contoso.com'), host('dc01', 'dev-dc01')],
        }),
      ])
    ).alerts;
    await s.service.update(b?.incidentNumber ?? 0, { addTags: ['identity-team'] }, analyst('kai@contoso.com'));
    expect(a?.incidentNumber).not.toBe(b?.incidentNumber);
    // svc-backup signs in on ws-ops-3: the two stories are one.
    const [bridge] = (
      await s.service.ingestProductAlerts([
        productAlertRow({
          product: 'mde',
          title: 'Suspicious remote logon',
          tactics: ['LateralMovement'],
          atMs: T0 + 30 * MIN,
          entities: [host('ws-ops-3', 'dev-ops3'), account('svc-backup@contoso.com')],
        }),
      ])
    ).alerts;
    expect(bridge?.incidentNumber).toBe(a?.incidentNumber);
    expect(bridge?.merged).toEqual([b?.incidentNumber]);
    const survivor = await s.service.get(a?.incidentNumber ?? 0);
    expect(survivor?.incident.alertCount).toBe(3);
    expect(survivor?.incident.tags).toEqual(['endpoint-team', 'identity-team']);
    expect(survivor?.mergedFrom.map((m) => m.number)).toEqual([b?.incidentNumber]);
    expect(survivor?.entities.items.map((e) => e.displayName).sort()).toEqual([
      'a3f4a3f4a3f4a3f4a3f4a3f4a3f4a3f4a3f4a3f4a3f4a3f4a3f4a3f4a3f4a3f4',
      'dc01.contoso.com',
      'svc-backup@contoso.com',
      'ws-ops-3.contoso.com',
    ]);
    const mergeLink = survivor?.links.items.find((l) => l.reason.rule === 'bridging-merge');
    expect(mergeLink?.reason.summary).toMatch(/links #1 and #2 through account svc-backup@contoso\.com/);
    expect(mergeLink?.reason.relatedAlerts?.[0]).toBe(bridge?.alertId);
    const gone = await s.service.get(b?.incidentNumber ?? 0);
    expect(gone?.incident).toMatchObject({ status: 'Closed', redirectedTo: survivor?.incident.id, alertCount: 0 });
    expect(gone?.incident.tags).toEqual(['identity-team', 'Redirected']);
    expect(gone?.audit.items[0]).toMatchObject({
      action: 'merged-into',
      actor: { type: 'system' },
      changes: expect.arrayContaining([{ field: 'redirectedTo', from: null, to: a?.incidentNumber }]),
    });
    // The survivor's trail: its own alert, the tag, the bridging alert, then the merge — all said by whom.
    expect((await trail(s, a?.incidentNumber)).map(([action, who]) => [action, who])).toEqual([
      ['created', 'system'],
      ['alert-added', 'system'],
      ['updated', 'kai@contoso.com'],
      ['alert-added', 'system'],
      ['merged', 'system'],
    ]);
    expect((await trail(s, a?.incidentNumber))[4]?.[2]).toMatch(/links #1 and #2 through account svc-backup/);
    expect((await trail(s, b?.incidentNumber)).map(([action]) => action)).toEqual([
      'created',
      'alert-added',
      'updated',
      'merged-into',
    ]);
    // The merged-away incident is hidden from the queue by default.
    expect((await openIncidents(s)).map((i) => i.number)).toEqual([a?.incidentNumber]);
    // Alerts of the merged incident keep their link reasons, now under the survivor.
    expect(survivor?.links.items.filter((l) => l.alertId !== null)).toHaveLength(3);
    // A later alert on the merged-away incident's entity goes to the survivor.
    const [later] = (
      await s.service.ingestProductAlerts([
        productAlertRow({
          product: 'mdi',
          title: 'Suspected Golden Ticket usage',
          tactics: ['CredentialAccess'],
          atMs: T0 + HOUR,
          entities: [host('dc01', 'dev-dc01')],
        }),
      ])
    ).alerts;
    expect(later?.incidentNumber).toBe(a?.incidentNumber);
  });
});

describe('common entities', () => {
  it('an entity in a large share of recent alerts does not link unrelated alerts; the threshold is a setting', async () => {
    const s = await open({ commonEntities: { share: 0.2, windowMs: DAY, minAlerts: 20, excluded: [] } });
    // Background: 40 alerts of a rule that opens no incidents; 16 of them mention the DNS server 10.0.0.53.
    const background = Array.from({ length: 40 }, (_, k) =>
      ruleAlert({
        ruleId: 'dns-anomalies',
        createIncident: false,
        atMs: T0 + k * MIN,
        entities: [host(`client-${k}`), ...(k % 5 < 2 ? [ip('10.0.0.53')] : [])],
      }),
    );
    const bg = await s.service.ingestDetectionAlerts(background);
    expect(bg.every((o) => o.outcome === 'unattached')).toBe(true);
    const first = productAlertRow({
      product: 'mde',
      title: 'Suspicious DNS query',
      tactics: ['CommandAndControl'],
      atMs: T0 + HOUR,
      entities: [host('ws-a', 'dev-a'), ip('10.0.0.53')],
    });
    const second = productAlertRow({
      product: 'mde',
      title: 'Unusual DNS tunnelling',
      tactics: ['Exfiltration'],
      atMs: T0 + HOUR + 5 * MIN,
      entities: [host('ws-b', 'dev-b'), ip('10.0.0.53')],
    });
    const r = await s.service.ingestProductAlerts([first, second]);
    expect(r.alerts.map((a) => a.outcome)).toEqual(['created', 'created']);
    const why = (await s.service.alert(second.SystemAlertId as string))?.links[0]?.reason;
    expect(why?.rule).toBe('new-incident');
    expect(why?.commonEntities?.[0]).toMatchObject({ keys: ['ip|10.0.0.53'], type: 'ip' });
    expect(why?.commonEntities?.[0]?.share).toBeGreaterThanOrEqual(0.2);
    // The trail of each incident says the address was too common to link them.
    for (const o of r.alerts) {
      const t = await trail(s, o.incidentNumber);
      expect(t.map(([action, who]) => [action, who])).toEqual([
        ['created', 'system'],
        ['alert-added', 'system'],
      ]);
      expect(t[1]?.[2]).toMatch(/too common to link: ip 10\.0\.0\.53 \(\d+(\.\d)?% of recent alerts\)/);
    }
    // With a higher threshold the address is not common: the next pair of alerts on it link.
    await s.service.updateSettings(
      { commonEntities: { share: 0.9, windowMs: DAY, minAlerts: 20, excluded: [] } },
      analyst('admin@contoso.com'),
    );
    const third = productAlertRow({
      product: 'mde',
      title: 'Suspicious DNS query',
      tactics: ['CommandAndControl'],
      atMs: T0 + 2 * HOUR,
      entities: [host('ws-c', 'dev-c'), ip('10.0.0.53')],
    });
    const [o3] = (await s.service.ingestProductAlerts([third])).alerts;
    expect(o3?.outcome).toBe('joined');
    expect(o3?.merged).toHaveLength(1);
    const t3 = await trail(s, o3?.incidentNumber);
    expect(t3.slice(-2).map(([action, who]) => [action, who])).toEqual([
      ['alert-added', 'system'],
      ['merged', 'system'],
    ]);
    expect(t3.at(-2)?.[2]).toMatch(/Shares ip 10\.0\.0\.53/);
  });

  it('excluded entities never link', async () => {
    const s = await open({ commonEntities: { share: 0.5, windowMs: DAY, minAlerts: 100, excluded: ['proxy01'] } });
    const r = await s.service.ingestProductAlerts([
      productAlertRow({ product: 'mde', title: 'A', atMs: T0, entities: [host('proxy01'), host('ws-1')] }),
      productAlertRow({ product: 'mde', title: 'B', atMs: T0 + MIN, entities: [host('proxy01'), host('ws-2')] }),
    ]);
    expect(r.alerts.map((a) => a.outcome)).toEqual(['created', 'created']);
  });
});

describe('guardrails', () => {
  const endpointAlert = (title: string, atMs: number, entities: ReturnType<typeof host>[]) =>
    productAlertRow({ product: 'mde', title, tactics: ['Execution'], atMs, entities });

  it('never joins or merges into a closed incident', async () => {
    const s = await open();
    const [a] = (await s.service.ingestProductAlerts([endpointAlert('Malware detected', T0, [host('ws-9', 'd9')])]))
      .alerts;
    await s.service.update(
      a?.incidentNumber ?? 0,
      { status: 'Closed', classification: 'TruePositive', classificationReason: 'SuspiciousActivity' },
      analyst('lee@contoso.com'),
    );
    const [b] = (
      await s.service.ingestProductAlerts([endpointAlert('Malware detected', T0 + HOUR, [host('ws-9', 'd9')])])
    ).alerts;
    expect(b?.outcome).toBe('created');
    const why = (await s.service.alert(b?.alertId ?? ''))?.links[0]?.reason;
    expect(why?.refused).toEqual([
      {
        incidentId: a?.incidentId,
        number: a?.incidentNumber,
        guardrail: 'closed',
        detail: `#${a?.incidentNumber} is closed`,
      },
    ]);
    expect((await s.service.getIncident(a?.incidentNumber ?? 0))?.alertCount).toBe(1);
    // The trails: the closed incident ends with the analyst closing it; the new one says what was refused.
    expect((await trail(s, a?.incidentNumber)).map(([action, who]) => [action, who])).toEqual([
      ['created', 'system'],
      ['alert-added', 'system'],
      ['updated', 'lee@contoso.com'],
    ]);
    expect((await trail(s, b?.incidentNumber))[1]?.[2]).toMatch(/not merged: #1 \(closed: #1 is closed\)/);
  });

  it('never merges incidents with different owners', async () => {
    const s = await open();
    const [a] = (await s.service.ingestProductAlerts([endpointAlert('A', T0, [host('ws-1', 'd1')])])).alerts;
    const [b] = (await s.service.ingestProductAlerts([endpointAlert('B', T0, [host('ws-2', 'd2')])])).alerts;
    await s.service.update(
      a?.incidentNumber ?? 0,
      { owner: { userPrincipalName: 'ana@contoso.com' } },
      analyst('lead@contoso.com'),
    );
    await s.service.update(
      b?.incidentNumber ?? 0,
      { owner: { userPrincipalName: 'ben@contoso.com' } },
      analyst('lead@contoso.com'),
    );
    const [c] = (
      await s.service.ingestProductAlerts([endpointAlert('C', T0 + MIN, [host('ws-1', 'd1'), host('ws-2', 'd2')])])
    ).alerts;
    expect(c?.incidentNumber).toBe(a?.incidentNumber);
    expect(c?.merged).toEqual([]);
    const why = (await s.service.alert(c?.alertId ?? ''))?.links[0]?.reason;
    expect(why?.refused?.[0]).toMatchObject({ number: b?.incidentNumber, guardrail: 'owner' });
    expect(why?.refused?.[0]?.detail).toMatch(/ana@contoso\.com.*ben@contoso\.com/);
    expect((await s.service.getIncident(b?.incidentNumber ?? 0))?.status).toBe('New');
    expect((await trail(s, a?.incidentNumber)).at(-1)).toEqual([
      'alert-added',
      'system',
      expect.stringMatching(/not merged: #2 \(owner: .*ana@contoso\.com.*ben@contoso\.com/),
    ]);
    expect((await trail(s, b?.incidentNumber)).map(([action, who]) => [action, who])).toEqual([
      ['created', 'system'],
      ['alert-added', 'system'],
      ['updated', 'lead@contoso.com'],
    ]);
  });

  it('adopts the owner of a merged incident when the survivor has none', async () => {
    const s = await open();
    const [a] = (await s.service.ingestProductAlerts([endpointAlert('A', T0, [host('ws-1', 'd1')])])).alerts;
    const [b] = (await s.service.ingestProductAlerts([endpointAlert('B', T0, [host('ws-2', 'd2')])])).alerts;
    await s.service.update(
      b?.incidentNumber ?? 0,
      { owner: { userPrincipalName: 'ben@contoso.com' } },
      analyst('lead@contoso.com'),
    );
    const [c] = (
      await s.service.ingestProductAlerts([endpointAlert('C', T0 + MIN, [host('ws-1', 'd1'), host('ws-2', 'd2')])])
    ).alerts;
    expect(c?.merged).toEqual([b?.incidentNumber]);
    expect((await s.service.getIncident(a?.incidentNumber ?? 0))?.owner?.userPrincipalName).toBe('ben@contoso.com');
  });

  it('never merges incidents with different classifications', async () => {
    const s = await open();
    const [a] = (await s.service.ingestProductAlerts([endpointAlert('A', T0, [host('ws-1', 'd1')])])).alerts;
    const [b] = (await s.service.ingestProductAlerts([endpointAlert('B', T0, [host('ws-2', 'd2')])])).alerts;
    await s.service.update(
      a?.incidentNumber ?? 0,
      { status: 'Active', classification: 'BenignPositive' },
      analyst('lee@contoso.com'),
    );
    await s.service.update(
      b?.incidentNumber ?? 0,
      { status: 'Active', classification: 'TruePositive' },
      analyst('lee@contoso.com'),
    );
    const [c] = (
      await s.service.ingestProductAlerts([endpointAlert('C', T0 + MIN, [host('ws-1', 'd1'), host('ws-2', 'd2')])])
    ).alerts;
    expect(c?.incidentNumber).toBe(a?.incidentNumber);
    const why = (await s.service.alert(c?.alertId ?? ''))?.links[0]?.reason;
    expect(why?.refused?.[0]).toMatchObject({ number: b?.incidentNumber, guardrail: 'classification' });
    expect((await trail(s, a?.incidentNumber)).at(-1)?.[2]).toMatch(/not merged: #2 \(classification: /);
    expect((await trail(s, b?.incidentNumber)).map(([action]) => action)).toEqual([
      'created',
      'alert-added',
      'updated',
    ]);
  });

  it('never joins or merges past the entity cap', async () => {
    const s = await open({
      correlation: { enabled: true, sharedEntityWindowMs: DAY, stageWindowMs: 7 * DAY, maxEntitiesPerIncident: 5 },
    });
    const [a] = (
      await s.service.ingestProductAlerts([
        endpointAlert('A', T0, [host('ws-1', 'd1'), ip('192.0.2.1'), ip('192.0.2.2'), ip('192.0.2.3')]),
      ])
    ).alerts;
    // Two more entities would make 6 > 5: the alert does not join.
    const [b] = (
      await s.service.ingestProductAlerts([endpointAlert('B', T0 + MIN, [host('ws-1', 'd1'), ip('192.0.2.9')])])
    ).alerts;
    expect(b?.outcome).toBe('created');
    const whyB = (await s.service.alert(b?.alertId ?? ''))?.links[0]?.reason;
    expect(whyB?.refused?.[0]).toMatchObject({ number: a?.incidentNumber, guardrail: 'entity-cap' });
    // A bridge between two small incidents merges them while the total stays under the cap...
    const [c] = (await s.service.ingestProductAlerts([endpointAlert('C', T0, [host('ws-7', 'd7')])])).alerts;
    const [d] = (await s.service.ingestProductAlerts([endpointAlert('D', T0, [host('ws-8', 'd8')])])).alerts;
    const [e] = (
      await s.service.ingestProductAlerts([endpointAlert('E', T0 + MIN, [host('ws-7', 'd7'), host('ws-8', 'd8')])])
    ).alerts;
    expect(e?.incidentNumber).toBe(c?.incidentNumber);
    expect(e?.merged).toEqual([d?.incidentNumber]);
    // ...but not past it.
    const [f] = (
      await s.service.ingestProductAlerts([
        endpointAlert('F', T0, [host('ws-20', 'd20'), ip('192.0.2.20'), ip('192.0.2.21')]),
      ])
    ).alerts;
    const [g] = (
      await s.service.ingestProductAlerts([endpointAlert('G', T0 + MIN, [host('ws-7', 'd7'), host('ws-20', 'd20')])])
    ).alerts;
    expect(g?.incidentNumber).toBe(c?.incidentNumber);
    expect(g?.merged).toEqual([]);
    const whyG = (await s.service.alert(g?.alertId ?? ''))?.links[0]?.reason;
    expect(whyG?.refused?.[0]).toMatchObject({ number: f?.incidentNumber, guardrail: 'entity-cap' });
    expect((await trail(s, b?.incidentNumber))[1]?.[2]).toMatch(/not merged: #1 \(entity-cap: /);
    expect((await trail(s, c?.incidentNumber)).map(([action]) => action)).toEqual([
      'created',
      'alert-added',
      'alert-added',
      'merged',
      'alert-added',
    ]);
    expect((await trail(s, c?.incidentNumber)).at(-1)?.[2]).toMatch(/not merged: #\d+ \(entity-cap: /);
  });
});

describe('correlation off', () => {
  it('gives each alert its own incident (Sentinel without the correlation engine)', async () => {
    const s = await open({
      correlation: { enabled: false, sharedEntityWindowMs: DAY, stageWindowMs: 7 * DAY, maxEntitiesPerIncident: 500 },
    });
    const r = await s.service.ingestProductAlerts([
      productAlertRow({ product: 'mde', title: 'A', atMs: T0, entities: [host('ws-1', 'd1')] }),
      productAlertRow({ product: 'mde', title: 'B', atMs: T0 + MIN, entities: [host('ws-1', 'd1')] }),
    ]);
    expect(r.alerts.map((a) => a.outcome)).toEqual(['created', 'created']);
    const why = (await s.service.alert(r.alerts[1]?.alertId ?? ''))?.links[0]?.reason;
    expect(why?.summary).toMatch(/correlation is off/);
  });
});
