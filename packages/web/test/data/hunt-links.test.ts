/**
 * Every "hunt" query the console pre-fills compiles with Vigil's own compiler against the workspace schema (no
 * error diagnostics), so a pivot never lands on a query that cannot run.
 */
import { readFileSync } from 'node:fs';
import { compile, duckdb, workspaceFromTablesJson } from '@vigil/kql';
import { describe, expect, test } from 'vitest';
import type { IncidentAlertSummary, IncidentEntity } from '../../src/api/types.js';
import { alertHuntQuery, entityHuntQuery, incidentHuntQuery, kqlString } from '../../src/data/hunt-links.js';

const schema = workspaceFromTablesJson(
  JSON.parse(readFileSync(new URL('../../../../content/schema/tables.json', import.meta.url), 'utf8')),
);

function errors(text: string) {
  const c = compile(text, schema, { dialect: duckdb });
  return c.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`);
}

const entity = (type: string, fields: Record<string, unknown>, displayName: string): IncidentEntity => ({
  id: 1,
  type,
  displayName,
  fields,
  keys: [],
  alertCount: 1,
  firstSeen: '2026-01-01T00:00:00Z',
  lastSeen: '2026-01-01T00:00:00Z',
});

describe('hunt queries compile', () => {
  const cases: [string, IncidentEntity][] = [
    ['host', entity('host', { HostName: 'ws-007', DnsDomain: 'contoso.com' }, 'ws-007')],
    ['account', entity('account', { Name: 'megan.bowen', UPNSuffix: 'contoso.com' }, 'megan.bowen')],
    ['ip', entity('ip', { Address: '203.0.113.77' }, '203.0.113.77')],
    ['url', entity('url', { Url: 'https://contoso-payroll.net/login' }, 'contoso-payroll.net')],
    ['file with hash', entity('file', { Name: 'x.exe', Value: 'ab'.repeat(32) }, 'x.exe')],
    ['file by name', entity('file', { Name: 'a"b\\c.exe' }, 'a"b\\c.exe')],
    ['mailbox', entity('mailbox', { MailboxPrimaryAddress: 'megan.bowen@contoso.com' }, 'megan')],
    ['other', entity('azureresource', {}, 'vm-1')],
  ];
  for (const [name, e] of cases) {
    test(name, () => {
      expect(errors(entityHuntQuery(e))).toEqual([]);
    });
  }
  test('alert', () => {
    const a = { alertId: 'da-0002' } as IncidentAlertSummary;
    expect(errors(alertHuntQuery(a))).toEqual([]);
  });
  test('incident', () => {
    expect(errors(incidentHuntQuery(42))).toEqual([]);
  });
  test('string literals escape quotes, backslashes and line breaks', () => {
    expect(kqlString('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
    expect(errors(`print x = ${kqlString('a"b\\c\nd')}`)).toEqual([]);
  });
});
