import { describe, expect, it } from 'vitest';
import { makeStorage, storageColumn } from '../../src/engine/duckdb/meta.js';
import { mapSourceFields } from '../../src/engine/load/mapping.js';
import { decideFormat, parseCsvHeader } from '../../src/engine/load/sniff.js';
import { StorageNamespace } from '../../src/engine/storage-names.js';
import {
  formatDatetimeMicros,
  formatTimespan,
  parseTimespan,
  realToWire,
  TICKS_PER_DAY,
  TICKS_PER_SECOND,
  valueText,
} from '../../src/engine/values.js';

describe('Kusto value encoding (reference)', () => {
  it('formats timespans as .NET does, 7 fraction digits only when there is a fraction', () => {
    // Pairs seen in real Kusto responses (azure-kusto-python test data).
    expect(formatTimespan(0n)).toBe('00:00:00');
    expect(formatTimespan(TICKS_PER_DAY + 10_010_001n)).toBe('1.00:00:01.0010001');
    expect(formatTimespan(-(2n * TICKS_PER_DAY + 2n * TICKS_PER_SECOND + 20_002n))).toBe('-2.00:00:02.0020002');
    expect(formatTimespan(1n)).toBe('00:00:00.0000001');
    expect(formatTimespan(-1n)).toBe('-00:00:00.0000001');
    expect(formatTimespan(36_000_000_000n * 25n)).toBe('1.01:00:00');
    expect(formatTimespan(9223372036854775807n)).toBe('10675199.02:48:05.4775807');
    expect(formatTimespan(-9223372036854775808n)).toBe('-10675199.02:48:05.4775808');
  });

  it('parses the timespan text back, and rejects malformed text', () => {
    for (const ticks of [0n, 1n, -1n, 123456789012345n, -864000000000n, 9223372036854775807n]) {
      expect(parseTimespan(formatTimespan(ticks))).toBe(ticks);
    }
    expect(parseTimespan('1.5')).toBeNull();
    expect(parseTimespan('25:00:00')).toBeNull();
    expect(parseTimespan('00:60:00')).toBeNull();
    expect(parseTimespan('00:00:01.12345678')).toBeNull();
    expect(parseTimespan(' 42 ')).toBe(42n);
    expect(parseTimespan('0:1:2.5')).toBe(62n * TICKS_PER_SECOND + 5_000_000n);
  });

  it('formats datetimes with 7 fractional digits and Z, before and after the epoch', () => {
    expect(formatDatetimeMicros(0n)).toBe('1970-01-01T00:00:00.0000000Z');
    expect(formatDatetimeMicros(-1n)).toBe('1969-12-31T23:59:59.9999990Z');
    expect(formatDatetimeMicros(1_704_164_645_123_456n)).toBe('2024-01-02T03:04:05.1234560Z');
    expect(formatDatetimeMicros(-62135596800000000n)).toBe('0001-01-01T00:00:00.0000000Z');
    expect(formatDatetimeMicros(253402300799999999n)).toBe('9999-12-31T23:59:59.9999990Z');
  });

  it('writes the reals JSON cannot hold as Kusto does, and prints cells for CSV and tables', () => {
    expect([NaN, Infinity, -Infinity, 1.5].map(realToWire)).toEqual(['NaN', 'Infinity', '-Infinity', 1.5]);
    expect(valueText('dynamic', { a: [1] })).toBe('{"a":[1]}');
    expect(valueText('dynamic', 'text')).toBe('text');
    expect(valueText('long', null)).toBe('');
    expect(valueText('bool', false)).toBe('false');
  });
});

describe('storage names', () => {
  it('keeps the first spelling and suffixes later case-insensitive collisions', () => {
    const ns = new StorageNamespace(['__batch_id']);
    expect(['Isp', 'ISP', 'isp', 'isp__2', '__BATCH_ID', 'x'].map((n) => ns.assign(n))).toEqual([
      'Isp',
      'ISP__2',
      'isp__3',
      'isp__2__2',
      '__BATCH_ID__2',
      'x',
    ]);
  });
});

describe('source field mapping', () => {
  const table = makeStorage('SecurityAlert', 'SecurityAlert', [
    storageColumn('TimeGenerated', 'datetime', 'TimeGenerated'),
    storageColumn('StartTime', 'datetime', 'StartTime'),
    storageColumn('DisplayName', 'string', 'DisplayName'),
    storageColumn('Entities', 'dynamic', 'Entities'),
    storageColumn('Entities_d', 'dynamic', 'Entities_d'),
    storageColumn('Isp', 'string', 'Isp'),
    storageColumn('ISP', 'string', 'ISP__2', 'Isp'),
  ]);

  it('maps export quirks, legacy names, and case variants; exact names win', () => {
    const fields = [
      '',
      'TimeGenerated [UTC]',
      'StartTimeUtc',
      'AlertDisplayName',
      'Entities_string',
      'Entities_dynamic',
      'Entities_d',
      'ISP',
      'Unknown',
      'DisplayName',
    ];
    const m = mapSourceFields(fields, table);
    const names = (column: string) => (m.sources.get(column) ?? []).map((i) => fields[i]);
    expect(names('TimeGenerated')).toEqual(['TimeGenerated [UTC]']);
    expect(names('StartTime')).toEqual(['StartTimeUtc']);
    expect(names('DisplayName')).toEqual(['DisplayName', 'AlertDisplayName']);
    expect(names('Entities')).toEqual(['Entities_string', 'Entities_dynamic']);
    expect(names('Entities_d')).toEqual(['Entities_d']);
    expect(names('Isp')).toEqual(['ISP']);
    expect(names('ISP')).toEqual(['ISP']);
    expect(m.ignored).toEqual(['', 'Unknown']);
  });
});

describe('file sniffing', () => {
  it('reads a CSV header with a BOM, quotes, escaped quotes and a quoted line break', () => {
    const head = { text: '\uFEFFa,"b ""x""","c\nd",TimeGenerated [UTC]\r\n1,2,3,4\r\n', complete: true };
    expect(parseCsvHeader(head)).toEqual(['a', 'b "x"', 'c\nd', 'TimeGenerated [UTC]']);
    expect(parseCsvHeader({ text: 'only,header', complete: true })).toEqual(['only', 'header']);
    expect(() => parseCsvHeader({ text: 'no newline in a truncated head', complete: false })).toThrow(/header/);
  });

  it('decides the format by option, extension, then content', () => {
    expect(decideFormat('x.csv', '{', 'auto')).toBe('csv');
    expect(decideFormat('x.jsonl', 'a,b', undefined)).toBe('json');
    expect(decideFormat('x.txt', '  [{"a":1}]', 'auto')).toBe('json');
    expect(decideFormat('x.txt', 'a,b\n1,2', 'auto')).toBe('csv');
    expect(decideFormat('x.json', '', 'csv')).toBe('csv');
  });
});
