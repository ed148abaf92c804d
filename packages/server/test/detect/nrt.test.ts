/**
 * Near-real-time rules: evaluated on each committed ingestion batch of the tables they read (not once a minute),
 * each row once; a rule that aggregates is told so at import and runs on a one-minute schedule instead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DetectionAlert } from '../../src/detect/alerts.js';
import { type Harness, iso, openHarness } from './harness.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const NRT = `id: 9d1f0000-0000-4000-8000-0000000000a1
name: Credential dumping tool
severity: High
kind: NRT
tactics: [CredentialAccess]
relevantTechniques: [T1003]
query: |
  SecurityEvent
  | where EventID == 4688 and CommandLine has "mimikatz"
  | project TimeGenerated, Computer, Account, CommandLine
entityMappings:
  - entityType: Host
    fieldMappings:
      - identifier: FullName
        columnName: Computer
  - entityType: Process
    fieldMappings:
      - identifier: CommandLine
        columnName: CommandLine
`;

const proc = (computer: string, commandLine: string) => ({
  TimeGenerated: iso(Date.now()),
  EventID: 4688,
  Computer: computer,
  Account: 'CONTOSO\\\\grace',
  CommandLine: commandLine,
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('NRT rules', () => {
  it('evaluates each committed batch of its tables, each row once', async () => {
    h = await openHarness();
    h.clock.live();
    const [imported] = await h.service.importText(NRT);
    expect(imported).toMatchObject({ status: 'created', mode: 'nrt' });
    const alerts: DetectionAlert[] = [];
    h.service.onAlertCreated((a) => {
      alerts.push(a);
    });
    h.service.start();
    const t0 = Date.now();
    await h.ingest('SecurityEvent', [
      proc('WS1', 'mimikatz.exe "sekurlsa::logonpasswords"'),
      proc('WS1', 'notepad.exe'),
    ]);
    await waitFor(() => alerts.length === 1);
    // Well within a second of the commit, not a minute later.
    expect(Date.now() - t0).toBeLessThan(3000);
    await h.ingest('SecurityEvent', [proc('WS2', 'cmd.exe /c whoami')]);
    // Another table's batch does not make the rule run.
    const before = (await h.service.runs()).reduce((n, r) => n + r.evaluations, 0);
    await h.ingest('Syslog', [{ TimeGenerated: iso(Date.now()), Computer: 'lnx1', SyslogMessage: 'mimikatz' }]);
    await h.ingest('SecurityEvent', [proc('WS3', 'mimikatz privilege::debug'), proc('WS4', 'x.exe mimikatz')]);
    await waitFor(() => alerts.length === 2);
    await h.service.stop();
    expect(alerts[0]?.resultCount).toBe(1);
    expect(alerts[1]?.resultCount).toBe(2);
    expect(alerts[1]?.entities.filter((e) => e.Type === 'host').map((e) => e.HostName)).toEqual(['WS3', 'WS4']);
    expect(alerts[0]?.providerName).toBe('ASI NRT Alerts');
    const runs = await h.service.runs();
    expect(runs.every((r) => r.trigger === 'batch' && r.status === 'success')).toBe(true);
    // Each matching row was counted once across all evaluations, and the windows tile time.
    expect(runs.reduce((n, r) => n + r.rows, 0)).toBe(3);
    const sorted = [...runs].sort((a, b) => a.windowStartMs - b.windowStartMs);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]?.windowStartMs).toBe(sorted[i - 1]?.windowEndMs);
    const evaluations = runs.reduce((n, r) => n + r.evaluations, 0);
    expect(evaluations).toBeGreaterThanOrEqual(2);
    expect(evaluations - before).toBeLessThanOrEqual(2);
    expect(await h.query('SecurityAlert | where ProductComponentName == "NRT Alerts"')).toHaveLength(2);
  });

  it('records quiet windows with the next transaction, within a second, and windows with alerts at once', async () => {
    h = await openHarness();
    h.clock.live();
    await h.service.importText(NRT);
    const alerts: DetectionAlert[] = [];
    h.service.onAlertCreated((a) => {
      alerts.push(a);
    });
    h.service.start();
    const quiet = await h.ingest('SecurityEvent', [proc('WS1', 'notepad.exe')]);
    const stamp = Date.parse(quiet.ingestionTime);
    // Without stopping the service: the quiet window reaches the ledger on its own, within the deferral bound.
    const t0 = Date.now();
    while (!(await h.service.runs()).some((r) => r.windowEndMs > stamp)) {
      expect(Date.now() - t0).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 20));
    }
    await h.ingest('SecurityEvent', [proc('WS2', 'notepad.exe')]);
    await h.ingest('SecurityEvent', [proc('WS3', 'mimikatz.exe')]);
    await waitFor(() => alerts.length === 1);
    // The alert's run is in the ledger when the alert is out, after the quiet windows before it (FIFO).
    const runs = [...(await h.service.runs())].sort((a, b) => a.windowStartMs - b.windowStartMs);
    expect(runs.at(-1)?.alerts).toBe(1);
    for (let i = 1; i < runs.length; i++) expect(runs[i]?.windowStartMs).toBe(runs[i - 1]?.windowEndMs);
    expect(runs.reduce((n, r) => n + r.rows, 0)).toBe(1);
    await h.service.stop();
  });

  it('runs an NRT rule that aggregates on a one-minute schedule, and says so at import', async () => {
    h = await openHarness();
    const text = NRT.replace(
      '  | project TimeGenerated, Computer, Account, CommandLine\n',
      '  | summarize TimeGenerated = max(TimeGenerated), Count = count() by Computer, Account, CommandLine\n',
    );
    const [imported] = await h.service.importText(text);
    expect(imported).toMatchObject({ status: 'created', mode: 'nrt-fallback' });
    const warning = imported?.diagnostics.find((d) => d.code === 'nrt-not-incremental');
    expect(warning?.severity).toBe('warning');
    expect(text.slice(warning?.start, warning?.end)).toBe('summarize');
    expect(warning?.message).toMatch(/aggregates.*every minute/);
    const rule = await h.service.getRule(imported?.ruleId ?? '');
    expect(rule).toMatchObject({ frequencyMs: 60_000, periodMs: 60_000 });
    const load = await h.ingest('SecurityEvent', [proc('WS1', 'mimikatz'), proc('WS1', 'mimikatz')]);
    const head = rule?.coveredUntilMs ?? 0;
    h.clock.set(head + Math.ceil((Date.parse(load.ingestionTime) + 1 - head) / 60_000) * 60_000);
    await h.service.tick();
    await h.service.settle();
    const alerts = await h.query('SecurityAlert');
    expect(alerts).toHaveLength(1);
    const runs = await h.service.runs();
    expect(runs.every((r) => r.windowEndMs - r.windowStartMs === 60_000)).toBe(true);
  });

  it('evaluates the NRT rules of a batch in one combined query, with the alerts of one-by-one evaluation', async () => {
    h = await openHarness();
    h.clock.live();
    const filters = [
      'CommandLine has "mimikatz"',
      'CommandLine contains "procdump" and Computer startswith "WS"',
      'EventID == 4688 and CommandLine matches regex @"lsass\\.dmp"',
    ];
    for (const [i, f] of filters.entries()) {
      const text = NRT.replace('0000000000a1', `0000000000b${i}`)
        .replace('name: Credential dumping tool', `name: NRT ${i}`)
        .replace('  | where EventID == 4688 and CommandLine has "mimikatz"\n', `  | where ${f}\n`)
        .replace('query: |\n', i === 2 ? 'query: |\n  let marker = "lsass";\n' : 'query: |\n');
      expect((await h.service.importText(text))[0]?.mode).toBe('nrt');
    }
    let queries = 0;
    const counting = new Proxy(h.engine, {
      get(target, prop) {
        const v = Reflect.get(target, prop) as unknown;
        if (prop === 'query') {
          return (...a: unknown[]) => {
            queries++;
            return (v as (...x: unknown[]) => unknown).apply(target, a);
          };
        }
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
      },
    });
    const svc = await h.restart({ engine: counting, combineNrt: true });
    const alerts: DetectionAlert[] = [];
    svc.onAlertCreated((a) => {
      alerts.push(a);
    });
    svc.start();
    // Rules imported at different times start at different ledger heads; once a round has evaluated all three to
    // the same watermark they share one (on a busy machine the first rounds may split them: feed quiet batches).
    const heads = async () => {
      const m = new Map<string, number>();
      for (const r of await svc.runs()) m.set(r.ruleId, Math.max(m.get(r.ruleId) ?? 0, r.windowEndMs));
      return m;
    };
    const end = Date.now() + 20_000;
    for (;;) {
      const stamp = Date.parse((await h.ingest('SecurityEvent', [proc('WS0', 'notepad.exe')])).ingestionTime);
      let m = await heads();
      // Wait for the round of this batch (every head past its stamp), so no round is still running below.
      while ([...m.values()].some((v) => v <= stamp) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
        m = await heads();
      }
      if ((m.size === 3 && new Set(m.values()).size === 1) || Date.now() > end) break;
    }
    queries = 0;
    await h.ingest('SecurityEvent', [
      proc('WS1', 'mimikatz sekurlsa'),
      proc('WS2', 'procdump -ma lsass.exe C:\\temp\\lsass.dmp'),
      proc('SRV1', 'procdump -ma lsass.exe out.dmp'),
    ]);
    await waitFor(() => alerts.length === 3);
    await svc.stop();
    expect(alerts.map((a) => [a.ruleName, a.resultCount]).sort()).toEqual([
      ['NRT 0', 1],
      ['NRT 1', 1],
      ['NRT 2', 1],
    ]);
    // One query for the three rules: the batch was read once.
    expect(queries).toBe(1);
    const runs = await svc.runs();
    expect(runs.filter((r) => r.alerts === 1)).toHaveLength(3);
  });
});
