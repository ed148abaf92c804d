/**
 * Rule files: parsing with diagnostics located in the file (line, column, offsets), validation against the
 * workspace (missing tables and unsupported constructs at their place in the YAML), import statuses, and export
 * giving back equivalent YAML.
 */
import { readFileSync } from 'node:fs';
import { workspaceFromTablesJson } from '@vigil/kql';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/detect/duration.js';
import { parseRuleFile } from '../../src/detect/rule-file.js';
import { ruleToYaml } from '../../src/detect/service.js';
import { validateRule } from '../../src/detect/validate.js';
import { REPO_ROOT } from '../conformance/runner.js';
import { type Harness, openHarness } from './harness.js';

const schema = workspaceFromTablesJson(
  JSON.parse(readFileSync(new URL('content/schema/tables.json', REPO_ROOT), 'utf8')),
);

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const BASE = `id: 5e11f00d-0000-4000-8000-000000000001
name: Admin sign-in from a new country
description: |
  An administrator signed in from a country not seen before.
severity: High
kind: Scheduled
queryFrequency: 1h
queryPeriod: 14d
triggerOperator: gt
triggerThreshold: 0
tactics:
  - InitialAccess
relevantTechniques:
  - T1078
query: |
  SigninLogs
  | where ResultType == "0"
  | project TimeGenerated, UserPrincipalName, Location, IPAddress
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: UserPrincipalName
version: 1.0.1
`;

function check(text: string, strict = false) {
  const [parsed] = parseRuleFile(text, 'rule.yaml');
  if (!parsed) throw new Error('no document');
  const analysis = validateRule(parsed, schema, { missingTimeGenerated: strict ? 'error' : 'warning' });
  return { parsed, analysis, at: (code: string) => parsed.diagnostics.find((d) => d.code === code) };
}

describe('rule files', () => {
  it('parses a Sentinel rule into its definition', () => {
    const { parsed, analysis } = check(BASE);
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.rule).toMatchObject({
      id: '5e11f00d-0000-4000-8000-000000000001',
      kind: 'Scheduled',
      severity: 'High',
      queryFrequencyMs: 3600_000,
      queryPeriodMs: 14 * 86_400_000,
      triggerOperator: 'gt',
      triggerThreshold: 0,
      tactics: ['InitialAccess'],
      techniques: ['T1078'],
      aggregationKind: 'SingleAlert',
      createIncident: true,
      enabled: true,
      version: '1.0.1',
    });
    expect(analysis).toMatchObject({ mode: 'scheduled', tables: ['SigninLogs'] });
  });

  it('accepts the ARM forms of durations and operators', () => {
    expect(parseDuration('PT1H')).toBe(3600_000);
    expect(parseDuration('P1D')).toBe(86_400_000);
    expect(parseDuration('PT1H30M')).toBe(5400_000);
    expect(parseDuration('14d')).toBe(14 * 86_400_000);
    expect(parseDuration('P')).toBeNull();
    const { parsed } = check(
      BASE.replace('queryFrequency: 1h', 'queryFrequency: PT2H').replace(
        'triggerOperator: gt',
        'triggerOperator: GreaterThan',
      ),
    );
    expect(parsed.rule).toMatchObject({ queryFrequencyMs: 7200_000, triggerOperator: 'gt' });
  });

  it('reports YAML and field errors at their line and column', () => {
    const bad = check(BASE.replace('severity: High', 'severity: Critical'));
    expect(bad.parsed.rule).toBeNull();
    expect(bad.at('invalid-value')).toMatchObject({ line: 5, column: 11, severity: 'error' });
    const freq = check(BASE.replace('queryFrequency: 1h', 'queryFrequency: 1m'));
    expect(freq.at('invalid-value')?.message).toBe('queryFrequency must be between 5 min and 14 d.');
    expect(freq.at('invalid-value')?.line).toBe(7);
    const noQuery = check(BASE.replace(/query: \|[\s\S]*?entityMappings/, 'entityMappings'));
    expect(noQuery.at('missing-field')?.message).toBe('The rule has no query.');
    const yaml = check('id: x\nname: [unclosed\n');
    expect(yaml.at('yaml-syntax')).toBeDefined();
    const entity = check(
      BASE.replace('entityType: Account', 'entityType: Acount').replace('identifier: FullName', 'identifier: FullName'),
    );
    expect(entity.at('unknown-entity-type')).toMatchObject({ line: 20, column: 17 });
    const identifier = check(BASE.replace('identifier: FullName', 'identifier: Upn'));
    expect(identifier.at('unknown-identifier')?.message).toMatch(
      /^'Upn' is not an identifier of Account \(Name, FullName/,
    );
    expect(identifier.at('unknown-identifier')?.line).toBe(22);
  });

  it('reports a missing table and an unsupported construct at their place in the file', () => {
    const missing = BASE.replace('  SigninLogs\n', '  SigninLogz\n');
    const m = check(missing);
    expect(m.analysis).toBeNull();
    const d = m.at('missing-table');
    expect(d?.message).toMatch(/^Missing table: /);
    expect(missing.slice(d?.start, d?.end)).toBe('SigninLogz');
    expect(d).toMatchObject({ line: 16, column: 3 });
    const unsupported = BASE.replace(
      '  | where ResultType == "0"\n',
      '  | where ResultType == "0"\n  | where IPAddress in ((externaldata(ip:string) [@"https://example.com/ips.csv"] with (format="csv")))\n',
    );
    const u = check(unsupported);
    expect(u.analysis).toBeNull();
    const ud = u.at('unsupported');
    expect(ud?.message).toMatch(/^Unsupported: externaldata/);
    expect(unsupported.slice(ud?.start, ud?.end)).toMatch(/^externaldata\(ip:string\)/);
    expect(ud?.line).toBe(18);
  });

  it('requires TimeGenerated in a Sentinel rule result: a warning by default, an error when strict', () => {
    const text = BASE.replace('project TimeGenerated, UserPrincipalName', 'project UserPrincipalName');
    const lax = check(text);
    expect(lax.analysis).not.toBeNull();
    expect(lax.at('no-timegenerated')).toMatchObject({ severity: 'warning', line: 15 });
    const strict = check(text, true);
    expect(strict.analysis).toBeNull();
    expect(strict.at('no-timegenerated')?.severity).toBe('error');
  });

  it('reports columns the rule refers to that the result does not have', () => {
    const { at } = check(BASE.replace('columnName: UserPrincipalName', 'columnName: AccountUPN'));
    expect(at('missing-column')).toMatchObject({
      severity: 'warning',
      message: "The Account column 'AccountUPN' is not a column of the query's result.",
      line: 23,
    });
  });

  it('checks the alert grouping settings where they are written', () => {
    const grouping = (body: string) => `${BASE}customDetails:
  Country: Location
incidentConfiguration:
  createIncident: true
  groupingConfiguration:
${body}`;
    const good = check(
      grouping(`    enabled: true
    reopenClosedIncident: false
    lookbackDuration: 5h
    matchingMethod: Selected
    groupByEntities: [Account]
    groupByAlertDetails: [DisplayName]
    groupByCustomDetails: [Country]
`),
    );
    expect(good.parsed.diagnostics).toEqual([]);
    expect(good.parsed.rule?.incidentConfiguration).toMatchObject({
      groupingConfiguration: { matchingMethod: 'Selected', groupByEntities: ['Account'], lookbackDuration: '5h' },
    });
    const text = grouping(`    enabled: maybe
    lookbackDuration: 8d
    matchingMethod: Nearby
    groupByEntities: [Host, Starship]
    groupByAlertDetails: [Colour]
    groupByCustomDetails: [City]
`);
    const bad = check(text);
    const at = (code: string, severity: string) =>
      bad.parsed.diagnostics
        .filter((d) => d.code === code && d.severity === severity)
        .map((d) => text.slice(d.start, d.end));
    expect(bad.parsed.rule).toBeNull();
    expect(at('invalid-value', 'error')).toEqual(['maybe', '8d', 'Nearby', 'Starship', 'Colour']);
    // Keys the rule cannot produce are allowed, as in Sentinel, but said.
    expect(at('grouping-unmapped', 'warning')).toEqual(['Host', 'City']);
    expect(bad.parsed.diagnostics.find((d) => text.slice(d.start, d.end) === '8d')?.message).toMatch(
      /between 5 min and 7 d/,
    );
  });

  it('reads every document of a multi-document file', () => {
    const second = BASE.replace('5e11f00d-0000-4000-8000-000000000001', '5e11f00d-0000-4000-8000-000000000002');
    const docs = parseRuleFile(`${BASE}---\n${second}`);
    expect(docs.map((d) => d.rule?.id)).toEqual([
      '5e11f00d-0000-4000-8000-000000000001',
      '5e11f00d-0000-4000-8000-000000000002',
    ]);
  });

  it('imports, re-imports and exports equivalent YAML', async () => {
    h = await openHarness();
    const [first] = await h.service.importText(BASE, 'rule.yaml');
    expect(first?.status).toBe('created');
    expect((await h.service.importText(BASE, 'rule.yaml'))[0]?.status).toBe('unchanged');
    const before = await h.service.getRule('5e11f00d-0000-4000-8000-000000000001');
    const edited = BASE.replace('triggerThreshold: 0', 'triggerThreshold: 3');
    expect((await h.service.importText(edited, 'rule.yaml'))[0]?.status).toBe('updated');
    const after = await h.service.getRule('5e11f00d-0000-4000-8000-000000000001');
    expect(after?.definition.triggerThreshold).toBe(3);
    expect(after?.coveredUntilMs).toBe(before?.coveredUntilMs);
    // Export gives back the imported file unchanged, or YAML rebuilt from the definition that imports identically.
    expect(await h.service.exportRule('5e11f00d-0000-4000-8000-000000000001')).toBe(edited);
    const rebuilt = await h.service.exportRule('5e11f00d-0000-4000-8000-000000000001', { regenerate: true });
    const [again] = parseRuleFile(rebuilt ?? '');
    expect(again?.rule).toEqual(after?.definition);
    expect((await h.service.importText(rebuilt ?? ''))[0]?.status).toBe('updated');
    expect((await h.service.getRule('5e11f00d-0000-4000-8000-000000000001'))?.definition).toEqual(after?.definition);
  });

  it('regenerates custom detections and NRT rules as YAML that parses to the same definition', () => {
    const nrt = BASE.replace('kind: Scheduled', 'kind: NRT').replace('queryFrequency: 1h\nqueryPeriod: 14d\n', '');
    const [p] = parseRuleFile(nrt);
    expect(p?.rule?.kind).toBe('NRT');
    const [q] = parseRuleFile(ruleToYaml(p?.rule as NonNullable<typeof p>['rule'] & object));
    expect(q?.rule).toEqual(p?.rule);
  });
});
