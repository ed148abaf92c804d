/**
 * Rule grouping with Sentinel's `incidentConfiguration` semantics: matching methods (any alert, all entities,
 * selected entities / alert details / custom details), the lookback measured from the group's first alert,
 * reopening closed incidents (or not), rules that create no incidents, and the engine merging further with a reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { groupingConfig } from '../../src/incidents/grouping.js';
import { account, analyst, DAY, HOUR, host, ip, MIN, openStack, ruleAlert, type Stack, T0 } from './helpers.js';

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

/** Correlation off isolates rule grouping (Sentinel alone). */
async function sentinelOnly(): Promise<Stack> {
  stack = await openStack({
    settings: {
      correlation: { enabled: false, sharedEntityWindowMs: DAY, stageWindowMs: 7 * DAY, maxEntitiesPerIncident: 500 },
    },
  });
  return stack;
}

const grouping = (g: Record<string, unknown>) => ({
  createIncident: true,
  groupingConfiguration: {
    enabled: true,
    reopenClosedIncident: false,
    lookbackDuration: '5h',
    matchingMethod: 'AllEntities',
    groupByEntities: [],
    groupByAlertDetails: [],
    groupByCustomDetails: [],
    ...g,
  },
});

describe('groupingConfig', () => {
  it('reads Sentinel YAML and ARM forms', () => {
    expect(
      groupingConfig(
        grouping({ lookbackDuration: 'PT2H', matchingMethod: 'Selected', groupByEntities: ['Host', 'IP'] }),
      ),
    ).toEqual({
      enabled: true,
      reopenClosedIncident: false,
      lookbackMs: 2 * HOUR,
      matchingMethod: 'Selected',
      groupByEntities: ['host', 'ip'],
      groupByAlertDetails: [],
      groupByCustomDetails: [],
    });
    expect(groupingConfig({ createIncident: true, groupingConfiguration: { enabled: false } })).toBeNull();
    expect(groupingConfig(null)).toBeNull();
    expect(groupingConfig(grouping({ lookbackDuration: 'soon' }))?.lookbackMs).toBe(5 * HOUR);
  });
});

describe('rule grouping', () => {
  it('AnyAlert: every alert of the rule within the lookback goes to one incident, then a new one', async () => {
    const s = await sentinelOnly();
    const cfg = grouping({ matchingMethod: 'AnyAlert', lookbackDuration: '1h' });
    const out = await s.service.ingestDetectionAlerts([
      ruleAlert({ incidentConfiguration: cfg, atMs: T0, entities: [host('a')] }),
      ruleAlert({ incidentConfiguration: cfg, atMs: T0 + 20 * MIN, entities: [host('b')] }),
      ruleAlert({ incidentConfiguration: cfg, atMs: T0 + 59 * MIN, entities: [] }),
      // Past the lookback from the group's first alert: a new group.
      ruleAlert({ incidentConfiguration: cfg, atMs: T0 + 61 * MIN, entities: [host('a')] }),
      // Another rule never groups with this one.
      ruleAlert({ ruleId: 'rule-2', incidentConfiguration: cfg, atMs: T0 + 10 * MIN, entities: [host('a')] }),
    ]);
    expect(out.map((o) => o.incidentNumber)).toEqual([1, 1, 1, 2, 3]);
    expect(out.map((o) => o.outcome)).toEqual(['created', 'joined', 'joined', 'created', 'created']);
    const link = (await s.service.alert(out[1]?.alertId ?? ''))?.links[0]?.reason;
    expect(link).toMatchObject({ rule: 'rule-grouping', grouping: { ruleId: 'rule-1', matchingMethod: 'AnyAlert' } });
  });

  it('AllEntities: alerts with the same entities group; different entities do not', async () => {
    const s = await sentinelOnly();
    const cfg = grouping({ matchingMethod: 'AllEntities' });
    const out = await s.service.ingestDetectionAlerts([
      ruleAlert({ incidentConfiguration: cfg, atMs: T0, entities: [host('web1'), account('bob@contoso.com')] }),
      // The same entities in another order.
      ruleAlert({ incidentConfiguration: cfg, atMs: T0 + MIN, entities: [account('bob@contoso.com'), host('web1')] }),
      ruleAlert({ incidentConfiguration: cfg, atMs: T0 + 2 * MIN, entities: [host('web1')] }),
    ]);
    expect(out.map((o) => o.incidentNumber)).toEqual([1, 1, 2]);
  });

  it('Selected: entities of the chosen types, alert details and custom details', async () => {
    const s = await sentinelOnly();
    const cfg = grouping({
      matchingMethod: 'Selected',
      groupByEntities: ['Host'],
      groupByAlertDetails: ['Severity'],
      groupByCustomDetails: ['Process'],
    });
    const a = (o: { h: string; sev?: 'High' | 'Low'; proc: string; ip: string; t: number }) =>
      ruleAlert({
        incidentConfiguration: cfg,
        atMs: T0 + o.t * MIN,
        severity: o.sev ?? 'High',
        customDetails: { Process: [o.proc] },
        entities: [host(o.h), ip(o.ip)],
      });
    const out = await s.service.ingestDetectionAlerts([
      a({ h: 'db1', proc: 'sqlservr.exe', ip: '192.0.2.1', t: 0 }),
      a({ h: 'db1', proc: 'sqlservr.exe', ip: '192.0.2.2', t: 1 }), // other IP: not selected, same group
      a({ h: 'db1', proc: 'sqlservr.exe', ip: '192.0.2.1', t: 2, sev: 'Low' }), // other severity
      a({ h: 'db1', proc: 'cmd.exe', ip: '192.0.2.1', t: 3 }), // other custom detail
      a({ h: 'db2', proc: 'sqlservr.exe', ip: '192.0.2.1', t: 4 }), // other host
    ]);
    expect(out.map((o) => o.incidentNumber)).toEqual([1, 1, 2, 3, 4]);
  });

  it('reopens the closed incident of a group when the rule says so, and says who did it', async () => {
    const s = await sentinelOnly();
    const cfg = grouping({ matchingMethod: 'AnyAlert', reopenClosedIncident: true, lookbackDuration: '1d' });
    const [first] = await s.service.ingestDetectionAlerts([
      ruleAlert({ incidentConfiguration: cfg, atMs: T0, entities: [host('h')] }),
    ]);
    await s.service.update(
      first?.incidentNumber ?? 0,
      { status: 'Closed', classification: 'FalsePositive', classificationReason: 'InaccurateData' },
      analyst('eve@contoso.com'),
    );
    s.clock.advance(2 * HOUR);
    const [second] = await s.service.ingestDetectionAlerts([
      ruleAlert({ incidentConfiguration: cfg, atMs: T0 + 2 * HOUR, entities: [host('h')] }),
    ]);
    expect(second?.incidentNumber).toBe(first?.incidentNumber);
    const detail = await s.service.get(first?.incidentNumber ?? 0);
    expect(detail?.incident).toMatchObject({ status: 'Active', classification: null, closedTime: null, alertCount: 2 });
    const trail = [...(detail?.audit.items ?? [])].reverse().map((a) => [a.action, a.actor.type, a.actor.id]);
    expect(trail).toEqual([
      ['created', 'system', 'correlation'],
      ['alert-added', 'system', 'correlation'],
      ['updated', 'analyst', 'eve@contoso.com'],
      ['reopened', 'system', 'rule-grouping'],
      ['alert-added', 'system', 'correlation'],
    ]);
    const reopened = detail?.audit.items.find((a) => a.action === 'reopened');
    expect(reopened?.changes).toEqual([
      { field: 'status', from: 'Closed', to: 'Active' },
      { field: 'classification', from: 'FalsePositive', to: null },
    ]);
    expect(detail?.links.items[1]?.reason.grouping?.reopened).toBe(true);
  });

  it('without reopening, an alert for a closed group starts a new incident (and a new group)', async () => {
    const s = await sentinelOnly();
    const cfg = grouping({ matchingMethod: 'AnyAlert', reopenClosedIncident: false, lookbackDuration: '1d' });
    const [first] = await s.service.ingestDetectionAlerts([
      ruleAlert({ incidentConfiguration: cfg, atMs: T0, entities: [] }),
    ]);
    await s.service.update(
      first?.incidentNumber ?? 0,
      { status: 'Closed', classification: 'Undetermined' },
      analyst('eve@contoso.com'),
    );
    const out = await s.service.ingestDetectionAlerts([
      ruleAlert({ incidentConfiguration: cfg, atMs: T0 + HOUR, entities: [] }),
      ruleAlert({ incidentConfiguration: cfg, atMs: T0 + 2 * HOUR, entities: [] }),
    ]);
    expect(out.map((o) => o.incidentNumber)).toEqual([2, 2]);
    expect((await s.service.getIncident(1))?.status).toBe('Closed');
  });

  it('createIncident false: the alert is recorded and announced, but opens no incident', async () => {
    const s = await sentinelOnly();
    const [o] = await s.service.ingestDetectionAlerts([
      ruleAlert({ createIncident: false, atMs: T0, entities: [host('x')] }),
    ]);
    expect(o).toMatchObject({ outcome: 'unattached', incidentId: null });
    expect((await s.service.list()).items).toEqual([]);
    const events = await s.service.events();
    expect(events.map((e) => [e.type, e.incidentId])).toEqual([['AlertCreated', null]]);
  });

  it('the correlation engine may merge further than the grouping, and says why', async () => {
    stack = await openStack();
    const s = stack;
    const cfg = grouping({ matchingMethod: 'Selected', groupByEntities: ['Host'] });
    const out = await s.service.ingestDetectionAlerts([
      ruleAlert({ incidentConfiguration: cfg, atMs: T0, entities: [host('app1'), account('dan@contoso.com')] }),
      // Another host: another group, but the same user: the engine joins it to the first incident.
      ruleAlert({ incidentConfiguration: cfg, atMs: T0 + MIN, entities: [host('app2'), account('dan@contoso.com')] }),
      // Back to app2: the group now points to incident 1.
      ruleAlert({ incidentConfiguration: cfg, atMs: T0 + 2 * MIN, entities: [host('app2')] }),
    ]);
    expect(out.map((o) => o.incidentNumber)).toEqual([1, 1, 1]);
    const second = (await s.service.alert(out[1]?.alertId ?? ''))?.links[0]?.reason;
    expect(second?.rule).toBe('shared-entity');
    const third = (await s.service.alert(out[2]?.alertId ?? ''))?.links[0]?.reason;
    expect(third?.rule).toBe('rule-grouping');
  });
});
