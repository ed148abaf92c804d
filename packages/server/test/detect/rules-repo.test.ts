/**
 * The rules repository contract (run against every state driver: SQLite now, PostgreSQL when it exists): rule
 * upserts, the ledger head moving only from where it is, quiet NRT evaluations merged per minute, pending alerts,
 * alert keys with expiry, the skipped window of a disabled rule, pruning.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuleDefinition } from '../../src/detect/model.js';
import { parseRuleFile } from '../../src/detect/rule-file.js';
import { migrate } from '../../src/state/migrations.js';
import { LedgerConflict, RULES_MIGRATIONS, type RuleRun, SqlRulesRepository } from '../../src/state/rules-repo.js';
import { SqliteDriver } from '../../src/state/sql-driver.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function sqlite(): Promise<{ repo: SqlRulesRepository; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-repo-'));
  dirs.push(dir);
  const driver = new SqliteDriver(join(dir, 'state.db'));
  await migrate(driver, RULES_MIGRATIONS);
  return { repo: new SqlRulesRepository(driver), close: () => driver.close() };
}

const [parsed] = parseRuleFile(`id: aaaa0000-0000-4000-8000-000000000001
name: R
severity: Low
kind: Scheduled
queryFrequency: 5m
queryPeriod: 5m
query: SecurityEvent | project TimeGenerated
`);
const RULE = parsed?.rule as RuleDefinition;
const T0 = Date.UTC(2026, 0, 1);
const M = 60_000;

function run(start: number, end: number, extra: Partial<RuleRun> = {}): RuleRun {
  return {
    runId: `run-${start}-${end}-${extra.trigger ?? 'schedule'}`,
    ruleId: RULE.id,
    trigger: 'schedule',
    status: 'success',
    windowStartMs: start,
    windowEndMs: end,
    queryStartMs: start,
    startedAt: new Date(end).toISOString(),
    finishedAt: new Date(end + 1000).toISOString(),
    evaluations: 1,
    rows: 0,
    alerts: 0,
    truncated: false,
    error: null,
    durationMs: 5,
    lagMs: 1000,
    ...extra,
  };
}

const upsert = (initialHeadMs = T0) => ({
  definition: RULE,
  sourceYaml: 'yaml',
  sourcePath: null,
  mode: 'scheduled' as const,
  tables: ['SecurityEvent'],
  frequencyMs: 5 * M,
  periodMs: 5 * M,
  initialHeadMs,
});

describe.each([['sqlite', sqlite]])('rules repository contract (%s)', (_name, open) => {
  it('creates, leaves unchanged, and updates rules, keeping the ledger head', async () => {
    const { repo, close } = await open();
    expect(await repo.upsertRule(upsert(), T0)).toBe('created');
    expect(await repo.upsertRule(upsert(T0 + 99), T0)).toBe('unchanged');
    expect(await repo.upsertRule({ ...upsert(T0 + 99), definition: { ...RULE, triggerThreshold: 4 } }, T0)).toBe(
      'updated',
    );
    const r = await repo.getRule(RULE.id);
    expect(r).toMatchObject({ coveredUntilMs: T0, enabled: true, tables: ['SecurityEvent'] });
    expect(r?.definition.triggerThreshold).toBe(4);
    expect(await repo.listRules()).toHaveLength(1);
    expect(await repo.deleteRule(RULE.id)).toBe(true);
    expect(await repo.getRule(RULE.id)).toBeUndefined();
    await close();
  });

  it('moves the ledger head only from where it is, atomically with the run', async () => {
    const { repo, close } = await open();
    await repo.upsertRule(upsert(), T0);
    await repo.recordRuns([{ run: run(T0, T0 + 5 * M), alerts: [] }]);
    await expect(repo.recordRuns([{ run: run(T0 + 10 * M, T0 + 15 * M), alerts: [] }])).rejects.toBeInstanceOf(
      LedgerConflict,
    );
    // A rejected batch changes nothing, even its valid part.
    await expect(
      repo.recordRuns([
        { run: run(T0 + 5 * M, T0 + 10 * M), alerts: [] },
        { run: run(T0, T0 + 5 * M), alerts: [] },
      ]),
    ).rejects.toBeInstanceOf(LedgerConflict);
    expect((await repo.getRule(RULE.id))?.coveredUntilMs).toBe(T0 + 5 * M);
    expect(await repo.listRuns({ ruleId: RULE.id })).toHaveLength(1);
    await close();
  });

  it('merges quiet NRT evaluations of one minute into one row', async () => {
    const { repo, close } = await open();
    await repo.upsertRule(upsert(), T0);
    const batch = (s: number, e: number, alerts = 0) => ({
      run: run(s, e, { trigger: 'batch', runId: `b-${s}`, rows: 2, alerts }),
      alerts: [],
      mergeQuiet: true,
    });
    await repo.recordRuns([batch(T0, T0 + 1000)]);
    await repo.recordRuns([batch(T0 + 1000, T0 + 20_000)]);
    await repo.recordRuns([batch(T0 + 20_000, T0 + 30_000, 1)]);
    await repo.recordRuns([batch(T0 + 30_000, T0 + 61_000)]);
    const runs = await repo.listRuns({ ruleId: RULE.id });
    expect(runs.map((r) => [r.windowStartMs - T0, r.windowEndMs - T0, r.evaluations, r.rows])).toEqual([
      [0, 20_000, 2, 4],
      [20_000, 30_000, 1, 2],
      [30_000, 61_000, 1, 2],
    ]);
    await close();
  });

  it('keeps pending alerts until written, and alert keys until they expire', async () => {
    const { repo, close } = await open();
    await repo.upsertRule(upsert(), T0);
    await repo.recordRuns([
      {
        run: run(T0, T0 + 5 * M, { alerts: 2 }),
        alerts: [
          { alertId: 'a1', runId: 'r', ruleId: RULE.id, payload: '{}' },
          { alertId: 'a2', runId: 'r', ruleId: RULE.id, payload: '{}' },
        ],
        suppressUntilMs: T0 + 60 * M,
      },
    ]);
    expect((await repo.getRule(RULE.id))?.suppressedUntilMs).toBe(T0 + 60 * M);
    expect((await repo.pendingAlerts()).map((p) => p.alertId)).toEqual(['a1', 'a2']);
    await repo.recordRuns([], ['a1']);
    expect((await repo.pendingAlerts()).map((p) => p.alertId)).toEqual(['a2']);
    await repo.deletePendingAlerts(['a2']);
    expect(await repo.pendingAlerts()).toEqual([]);
    await repo.addAlertKeys(RULE.id, ['k1', 'k2'], T0 + M);
    expect([...(await repo.seenAlertKeys(RULE.id, ['k1', 'k3'], T0))]).toEqual(['k1']);
    expect((await repo.seenAlertKeys(RULE.id, ['k1'], T0 + 2 * M)).size).toBe(0);
    expect(await repo.prune(T0 + 10 * M, T0 + 2 * M)).toBe(1);
    await close();
  });

  it('records the interval a rule was disabled as one skipped window', async () => {
    const { repo, close } = await open();
    await repo.upsertRule(upsert(), T0);
    expect(await repo.setEnabled(RULE.id, false, 0, T0)).toBe(true);
    expect((await repo.getRule(RULE.id))?.enabled).toBe(false);
    expect(await repo.setEnabled(RULE.id, true, T0 + 30 * M, T0 + 31 * M)).toBe(true);
    const runs = await repo.listRuns({ ruleId: RULE.id });
    expect(runs.map((r) => [r.status, r.windowStartMs - T0, r.windowEndMs - T0])).toEqual([['skipped', 0, 30 * M]]);
    expect((await repo.getRule(RULE.id))?.coveredUntilMs).toBe(T0 + 30 * M);
    expect(await repo.setEnabled('nope', true, 0, 0)).toBe(false);
    await close();
  });
});
