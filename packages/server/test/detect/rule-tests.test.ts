/**
 * Inline rule tests (`tests:` in the rule file): rows per table in, expected alerts out, each test reading only
 * its own rows; failures say what did not match.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matches, runRuleTests } from '../../src/detect/rule-tests.js';
import { workspaceDefinitions } from '../conformance/runner.js';

const FIXTURE = new URL('./fixtures/brute-force.yaml', import.meta.url);

describe('rule tests', () => {
  it('passes the inline tests of a rule file, each on its own rows', async () => {
    const text = readFileSync(FIXTURE, 'utf8');
    const report = await runRuleTests([{ text, path: FIXTURE.pathname }], workspaceDefinitions());
    expect(report.invalid).toEqual([]);
    expect(report.results.map((r) => [r.test, r.passed, r.failures])).toEqual([
      ['five failures then a success', true, []],
      ['failures without a success do not alert', true, []],
    ]);
  });

  it('reports what did not match', async () => {
    const text = readFileSync(FIXTURE, 'utf8')
      .replace('alerts: 0', 'alerts: 1')
      .replace('FailedSignIns: [5]', 'FailedSignIns: [6]')
      .replace(
        '"2026-01-10T11:00:00Z", UserPrincipalName',
        '"2026-01-10T11:00:00Z", NoSuchColumn: 1, UserPrincipalName',
      );
    const report = await runRuleTests([{ text, path: null }], workspaceDefinitions());
    const [first, second] = report.results;
    expect(first?.passed).toBe(false);
    expect(first?.failures[0]).toMatch(/^expect\.contains\[0\] matches none of the 1 alerts/);
    expect(second?.passed).toBe(false);
    expect(second?.failures).toEqual(['expected 1 alerts, got 0 (0 results)']);
  });

  it('matches expectations as subsets, ignoring key case', () => {
    expect(
      matches(
        { severity: 'High', Entities: [{ Type: 'ip' }] },
        { Severity: 'High', Entities: [{ Type: 'ip', Address: '1.1.1.1' }] },
      ),
    ).toBe(true);
    expect(matches({ Tactics: 'Execution' }, { Tactics: ['Execution', 'Persistence'] })).toBe(true);
    expect(matches({ ResultCount: 2 }, { ResultCount: 3 })).toBe(false);
    expect(matches([{ a: 1 }, { a: 2 }], [{ a: 2 }])).toBe(false);
  });
});
