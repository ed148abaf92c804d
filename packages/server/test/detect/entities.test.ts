/**
 * Entity mapping: every Sentinel entity type with every identifier, end to end from real rows to
 * `SecurityAlert.Entities`; and the conversions Sentinel applies (full names split into their parts, built-in
 * account names dropped, empty values skipped, entities given as JSON by a column).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ENTITY_TYPES, entitiesFromJson, entityFromRow, entityType } from '../../src/detect/entities.js';
import { type Harness, iso, openHarness, windowEndAfter } from './harness.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

/** A value per identifier; FullName is mapped in a mapping of its own (it is split into other identifiers). */
function sampleValue(type: string, identifier: string): string {
  if (identifier === 'IsDomainJoined' || identifier === 'IsVolumeAnomaly') return 'true';
  return `${type}-${identifier}-value`;
}

describe('entity mapping', () => {
  it('maps every entity type and every identifier from result columns into SecurityAlert.Entities', async () => {
    h = await openHarness();
    const extends_: string[] = [];
    const mappings: string[] = [];
    for (const t of ENTITY_TYPES) {
      const ids = t.identifiers.filter((i) => i !== 'FullName');
      const fields = ids.map((i) => {
        const column = `${t.name}_${i}`;
        extends_.push(`${column} = "${sampleValue(t.name, i)}"`);
        return `      - identifier: ${i}\n        columnName: ${column}`;
      });
      mappings.push(`  - entityType: ${t.name}\n    fieldMappings:\n${fields.join('\n')}`);
    }
    extends_.push('AccountFull = @"CONTOSO\\henry"', 'HostFull = "srv1.corp.contoso.com"');
    mappings.push(
      '  - entityType: Account\n    fieldMappings:\n      - identifier: FullName\n        columnName: AccountFull',
    );
    mappings.push(
      '  - entityType: Host\n    fieldMappings:\n      - identifier: FullName\n        columnName: HostFull',
    );
    const yaml = `id: e0e0e0e0-0000-4000-8000-000000000001
name: Every entity
severity: Low
kind: Scheduled
queryFrequency: 5m
queryPeriod: 5m
triggerOperator: gt
triggerThreshold: 0
query: |
  SecurityEvent
  | extend ${extends_.join(',\n    ')}
entityMappings:
${mappings.join('\n')}
`;
    const [imported] = await h.service.importText(yaml);
    expect(imported?.status, JSON.stringify(imported?.diagnostics.filter((d) => d.severity === 'error'))).toBe(
      'created',
    );
    // More than three identifiers per mapping and more than ten mappings: Sentinel's limits, reported as warnings.
    expect(imported?.diagnostics.every((d) => d.severity === 'warning' && d.code === 'limit')).toBe(true);
    const head = (await h.service.getRule('e0e0e0e0-0000-4000-8000-000000000001'))?.coveredUntilMs ?? 0;
    const load = await h.ingest('SecurityEvent', [{ TimeGenerated: iso(Date.now()), EventID: 1, Computer: 'x' }]);
    h.clock.set(windowEndAfter(head, 5 * 60_000, Date.parse(load.ingestionTime)));
    await h.service.tick();
    await h.service.settle();
    const [alert] = await h.query('SecurityAlert | project Entities');
    const entities = JSON.parse(String(alert?.Entities)) as Record<string, unknown>[];
    for (const t of ENTITY_TYPES) {
      const expected: Record<string, unknown> = { Type: t.type };
      for (const i of t.identifiers.filter((x) => x !== 'FullName')) {
        expected[i] = i === 'IsDomainJoined' || i === 'IsVolumeAnomaly' ? true : sampleValue(t.name, i);
      }
      expect(entities, t.name).toContainEqual(expect.objectContaining(expected));
    }
    expect(entities).toContainEqual(expect.objectContaining({ Type: 'account', NTDomain: 'CONTOSO', Name: 'henry' }));
    expect(entities).toContainEqual(
      expect.objectContaining({ Type: 'host', HostName: 'srv1', DnsDomain: 'corp.contoso.com' }),
    );
    expect(entities).toHaveLength(ENTITY_TYPES.length + 2);
    expect(entities.map((e) => e.$id)).toEqual(entities.map((_, i) => String(i + 2)));
  });

  it('splits full names, drops built-in accounts named alone, skips empty values', () => {
    const account = { entityType: 'Account', fieldMappings: [{ identifier: 'FullName', columnName: 'u' }] };
    const row = (v: unknown) => (c: string) => (c === 'u' ? v : undefined);
    expect(entityFromRow(account, row('alice@contoso.com'))).toEqual({
      Type: 'account',
      Name: 'alice',
      UPNSuffix: 'contoso.com',
    });
    expect(entityFromRow(account, row('CONTOSO\\alice'))).toEqual({
      Type: 'account',
      NTDomain: 'CONTOSO',
      Name: 'alice',
    });
    expect(entityFromRow(account, row('SYSTEM'))).toBeNull();
    expect(entityFromRow(account, row('NT AUTHORITY\\SYSTEM'))).toEqual({
      Type: 'account',
      NTDomain: 'NT AUTHORITY',
      Name: 'SYSTEM',
    });
    expect(entityFromRow(account, row(''))).toBeNull();
    expect(entityFromRow(account, row(null))).toBeNull();
    const host = { entityType: 'host', fieldMappings: [{ identifier: 'fullname', columnName: 'u' }] };
    expect(entityFromRow(host, row('10.1.2.3'))).toEqual({ Type: 'host', HostName: '10.1.2.3' });
    expect(entityFromRow(host, row('web01'))).toEqual({ Type: 'host', HostName: 'web01' });
    const hash = { entityType: 'File hash', fieldMappings: [{ identifier: 'Value', columnName: 'u' }] };
    expect(entityFromRow(hash, row('abc'))).toEqual({ Type: 'filehash', Value: 'abc' });
    expect(entityType('DNS Resolution')?.type).toBe('dns');
  });

  it('reads Sentinel entities given as JSON by a column', () => {
    const list = entitiesFromJson(
      '[{"$id":"1","Type":"ip","Address":"1.2.3.4"},{"Type":"url","Url":"https://x"},{"x":1}]',
    );
    expect(list).toEqual([
      { Type: 'ip', Address: '1.2.3.4' },
      { Type: 'url', Url: 'https://x' },
    ]);
    expect(entitiesFromJson('not json')).toEqual([]);
    expect(entitiesFromJson({ Type: 'host', HostName: 'a' })).toEqual([{ Type: 'host', HostName: 'a' }]);
  });
});
