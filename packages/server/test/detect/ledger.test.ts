/**
 * The coverage ledger: windows by ingestion time that tile time without gaps or overlaps — catch-up after an
 * outage window by window, late-arriving rows evaluated exactly once, loads in flight holding windows open,
 * enable/disable leaving an explicit gap, and alerts neither lost nor duplicated across a crash.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DetectionAlert } from '../../src/detect/alerts.js';
import type { RuleRun } from '../../src/state/rules-repo.js';
import { type Harness, iso, openHarness } from './harness.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const F = 5 * 60_000;
const RULE_ID = '0b7e8f00-0000-4000-8000-00000000ca7c';
const RULE = `id: ${RULE_ID}
name: Failed logons
severity: Low
kind: Scheduled
queryFrequency: 5m
queryPeriod: 5m
triggerOperator: gt
triggerThreshold: 0
query: |
  SecurityEvent
  | where EventID == 4625
  | project TimeGenerated, Account, Computer
entityMappings:
  - entityType: Host
    fieldMappings:
      - identifier: FullName
        columnName: Computer
`;

const logonFailure = (computer: string, hoursAgo = 0) => ({
  TimeGenerated: iso(Date.now() - hoursAgo * 3600_000),
  EventID: 4625,
  Account: 'CONTOSO\\frank',
  Computer: computer,
});

function expectTiled(runs: readonly RuleRun[], from: number, to: number): void {
  const sorted = [...runs].sort((a, b) => a.windowStartMs - b.windowStartMs);
  expect(sorted[0]?.windowStartMs).toBe(from);
  expect(sorted[sorted.length - 1]?.windowEndMs).toBe(to);
  for (let i = 1; i < sorted.length; i++) {
    expect(sorted[i]?.windowStartMs, `window ${i} starts where ${i - 1} ends`).toBe(sorted[i - 1]?.windowEndMs);
  }
}

async function setHead(harness: Harness, ms: number): Promise<void> {
  await harness.state.run('UPDATE detect_rules SET covered_until = ? WHERE id = ?', [iso(ms), RULE_ID]);
}

describe('coverage ledger', () => {
  it('catches up a 2-hour outage window by window, each window once, and alerts on the rows once', async () => {
    h = await openHarness();
    await h.service.importText(RULE);
    // The outage: the service is down while rows arrive; its ledger is 2 hours (24 windows) behind.
    await h.service.stop();
    const load = await h.ingest('SecurityEvent', [logonFailure('WS1.contoso.com'), logonFailure('WS2.contoso.com')]);
    const end = Date.parse(load.ingestionTime) + 1;
    const head = end - 24 * F;
    await setHead(h, head);
    await new Promise((r) => setTimeout(r, 5));
    h.clock.live();
    const svc = await h.restart();
    await svc.tick();
    await svc.settle();
    const runs = await svc.runs({ ruleId: RULE_ID });
    expect(runs).toHaveLength(24);
    expectTiled(runs, head, end);
    expect(new Set(runs.map((r) => r.windowStartMs)).size).toBe(24);
    expect(runs.every((r) => r.status === 'success')).toBe(true);
    expect(runs.filter((r) => r.trigger === 'catch-up')).toHaveLength(23);
    expect(runs.map((r) => r.rows)).toEqual([...Array(23).fill(0), 2]);
    const alerts = await h.query('SecurityAlert');
    expect(alerts).toHaveLength(1);
    expect(JSON.parse(String(alerts[0]?.ExtendedProperties))['Query End Time UTC']).toBe(iso(end));
    // Nothing more is due until the next window closes.
    await svc.tick();
    await svc.settle();
    expect(await svc.runs({ ruleId: RULE_ID })).toHaveLength(24);

    // A late row (its event time 3 hours old) is evaluated in the window of its arrival, and only there.
    await h.ingest('SecurityEvent', [logonFailure('WS3.contoso.com', 3)]);
    h.clock.set(end + F);
    await svc.tick();
    await svc.settle();
    h.clock.set(end + 3 * F);
    await svc.tick();
    await svc.settle();
    const all = await svc.runs({ ruleId: RULE_ID });
    expect(all).toHaveLength(27);
    expectTiled(all, head, end + 3 * F);
    expect(all.slice(24).map((r) => r.rows)).toEqual([1, 0, 0]);
    const hosts = (await h.query('SecurityAlert | project CompromisedEntity | order by CompromisedEntity asc')).map(
      (r) => r.CompromisedEntity,
    );
    expect(hosts).toEqual(['WS1.contoso.com', 'WS3.contoso.com']);
    // The run ledger is queryable in KQL too.
    const health = await h.query(
      `SentinelHealth | where ExtendedProperties.RuleId == "${RULE_ID}" | summarize Runs = count(), CatchUp = countif(ExtendedProperties.Trigger == "catch-up")`,
    );
    // The 23 older windows of the outage, and one more when the clock later moved two windows at once.
    expect(health[0]).toMatchObject({ Runs: 27, CatchUp: 24 });
  });

  it('holds a window open while a load that started before its end is in flight', async () => {
    h = await openHarness();
    await h.service.importText(RULE);
    const head = (await h.service.getRule(RULE_ID))?.coveredUntilMs ?? 0;
    const now = Date.now();
    const firstEnd = head + Math.ceil((now - head) / F) * F;
    h.clock.set(firstEnd - 10);
    // A writer starts a load just before the window ends ...
    const ticket = h.tracker.begin('SecurityEvent');
    h.clock.set(firstEnd + 60_000);
    await h.service.tick();
    await h.service.settle();
    // ... so that window is not evaluated until the load is over.
    expect((await h.service.runs({ ruleId: RULE_ID })).every((r) => r.windowEndMs < firstEnd)).toBe(true);
    h.tracker.aborted(ticket);
    await h.service.tick();
    await h.service.settle();
    expect((await h.service.runs({ ruleId: RULE_ID })).some((r) => r.windowEndMs === firstEnd)).toBe(true);
  });

  it('leaves an explicit skipped window while a rule is disabled, and resumes without overlap', async () => {
    h = await openHarness();
    await h.service.importText(RULE);
    const head = (await h.service.getRule(RULE_ID))?.coveredUntilMs ?? 0;
    h.clock.set(head + 2 * F);
    await h.service.tick();
    await h.service.settle();
    expect(await h.service.setEnabled(RULE_ID, false)).toBe(true);
    h.clock.set(head + 10 * F + 1000);
    await h.service.tick();
    await h.service.settle();
    expect(await h.service.runs({ ruleId: RULE_ID })).toHaveLength(2);
    expect(await h.service.setEnabled(RULE_ID, true)).toBe(true);
    h.clock.set(head + 12 * F + 1000);
    await h.service.tick();
    await h.service.settle();
    const runs = await h.service.runs({ ruleId: RULE_ID });
    expectTiled(runs, head, head + 12 * F);
    const skipped = runs.filter((r) => r.status === 'skipped');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]?.error).toBe('rule disabled');
  });

  it('writes alerts left pending by a crash exactly once', async () => {
    h = await openHarness();
    await h.service.importText(RULE);
    const seen: DetectionAlert[] = [];
    h.service.onAlertCreated((a) => {
      seen.push(a);
    });
    const head = (await h.service.getRule(RULE_ID))?.coveredUntilMs ?? 0;
    const load = await h.ingest('SecurityEvent', [logonFailure('WS9.contoso.com')]);
    h.clock.set(head + Math.ceil((Date.parse(load.ingestionTime) - head + 1) / F) * F);
    await h.service.tick();
    await h.service.settle();
    expect(seen).toHaveLength(1);
    const written = seen[0] as DetectionAlert;
    // The crash: one alert committed to the state store but not yet in SecurityAlert, and one already written
    // whose pending entry was not yet forgotten.
    const lost: DetectionAlert = {
      ...written,
      systemAlertId: '11111111-2222-4333-8444-555555555555',
      alertName: 'lost',
    };
    for (const a of [written, lost]) {
      await h.state.run(
        'INSERT INTO detect_pending_alerts (alert_id, run_id, rule_id, payload, created_at) VALUES (?, ?, ?, ?, ?)',
        [a.systemAlertId, a.runId, a.ruleId, JSON.stringify(a), iso(Date.now())],
      );
    }
    await h.restart();
    await h.restart();
    const names = (await h.query('SecurityAlert | project AlertName, SystemAlertId | order by AlertName asc')).map(
      (r) => r.AlertName,
    );
    expect(names).toEqual(['Failed logons', 'lost']);
    // Both stay pending until a listener had them (the written one's listeners may not have run before the crash).
    expect(await h.service.repo.pendingAlerts()).toHaveLength(2);
    const redelivered: string[] = [];
    h.service.onAlertCreated((a) => {
      redelivered.push(a.alertName);
    });
    expect(await h.service.redeliverPending()).toBe(2);
    expect(redelivered.sort()).toEqual(['Failed logons', 'lost']);
    expect(await h.service.repo.pendingAlerts()).toHaveLength(0);
    // Handed over once: a second call has nothing left.
    expect(await h.service.redeliverPending()).toBe(0);
  });
});
