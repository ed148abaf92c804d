/**
 * The engine contract: what every Engine must do, whatever runs underneath. `contract.test.ts` runs it for each
 * engine in engines.ts. Engine-specific SQL comes from the EngineUnderTest; everything else goes through the
 * Engine interface only.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, ResultSet, TableDefinition } from '../../src/engine/engine.js';
import { EngineError } from '../../src/engine/errors.js';
import { formatTable, writeCsv, writeJsonResult, writeJsonRows, writeTable } from '../../src/engine/output.js';
import { tableDefinitionsFromTablesJson } from '../../src/engine/storage-names.js';
import { formatDatetimeMicros, formatTimespan, realToWire } from '../../src/engine/values.js';
import { type EngineUnderTest, tempDir } from './engines.js';

const ROOT = new URL('../../../../', import.meta.url);
const SAMPLES = new URL('fixtures/shared/sample-data/', ROOT);

async function schema(): Promise<TableDefinition[]> {
  return tableDefinitionsFromTablesJson(
    JSON.parse(await readFile(new URL('content/schema/tables.json', ROOT), 'utf8')),
  );
}

async function collect(result: ResultSet, write: (r: ResultSet, out: PassThrough) => Promise<void>): Promise<string> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (b: Buffer) => parts.push(b));
  await write(result, out);
  out.end();
  return Buffer.concat(parts).toString('utf8');
}

async function expectEngineError(p: Promise<unknown>, codes: readonly string[]): Promise<EngineError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected the engine to fail').toBeInstanceOf(EngineError);
  expect(codes).toContain((e as EngineError).code);
  return e as EngineError;
}

/** A seeded generator, so failures reproduce. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const TYPES_TABLE: TableDefinition = {
  name: 'Types',
  columns: [
    { name: 'b', type: 'bool' },
    { name: 'i', type: 'int' },
    { name: 'l', type: 'long' },
    { name: 'r', type: 'real' },
    { name: 'd', type: 'decimal' },
    { name: 's', type: 'string' },
    { name: 't', type: 'datetime' },
    { name: 'ts', type: 'timespan' },
    { name: 'g', type: 'guid' },
    { name: 'dyn', type: 'dynamic' },
    { name: 'k', type: 'long' },
  ],
};
const TYPE_COLUMNS = TYPES_TABLE.columns.map((c) => ({
  name: c.name,
  type: c.type as Exclude<typeof c.type, 'unknown'>,
}));

export function engineContract(e: EngineUnderTest): void {
  /** A datetime as the engine stores it: DuckDB keeps microseconds (the 7th digit reads 0), ClickHouse 100 ns. */
  const stored = (iso: string) => (e.datetimeDigits === 7 ? iso : iso.replace(/(\.\d{6})\d/, '$10'));
  let dir: string;
  let cleanup: () => Promise<void>;
  let engine: Engine;
  let defs: TableDefinition[];

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    engine = await e.open(dir);
    defs = await schema();
  });
  afterAll(async () => {
    await engine?.close();
    await cleanup?.();
  });

  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };
  const def = (name: string) => {
    const d = defs.find((x) => x.name === name);
    if (!d) throw new Error(`no table ${name} in tables.json`);
    return d;
  };

  describe('tables and storage names', () => {
    it('creates a table once; ensureTable is idempotent', async () => {
      const a = await engine.ensureTable({ name: 'T1', columns: [{ name: 'x', type: 'long' }] });
      const b = await engine.ensureTable({ name: 'T1', columns: [{ name: 'x', type: 'long' }] });
      expect(b).toEqual(a);
      expect(engine.storage('T1')).toEqual(a);
      expect(engine.tables().map((t) => t.name)).toContain('T1');
      expect(a.columns).toEqual([expect.objectContaining({ name: 'x', type: 'long', storageName: 'x' })]);
    });

    it('maps case-colliding KQL names to distinct storage names, first one unchanged', async () => {
      const t = await engine.ensureTable({
        name: 'Case',
        columns: [
          { name: 'Name', type: 'string' },
          { name: 'name', type: 'long' },
          { name: 'NAME', type: 'bool' },
          { name: '__ingestion_time', type: 'string' },
        ],
      });
      expect(t.columns.map((c) => c.storageName)).toEqual(['Name', 'name__2', 'NAME__3', '__ingestion_time__2']);
      const other = await engine.ensureTable({ name: 'case', columns: [{ name: 'v', type: 'int' }] });
      expect(other.storageName).toBe('case__2');
      expect(engine.storage('Case')?.storageName).toBe('Case');
    });

    it('adds missing columns; existing rows read "" for a new string column and null for others', async () => {
      await engine.ensureTable({ name: 'Grow', columns: [{ name: 'a', type: 'long' }] });
      await engine.loadFile('Grow', await file('grow.ndjson', '{"a":1}\n{"a":2}\n'));
      const grown = await engine.ensureTable({
        name: 'Grow',
        columns: [
          { name: 'a', type: 'long' },
          { name: 'A', type: 'string' },
          { name: 'c', type: 'datetime' },
        ],
      });
      expect(grown.columns.map((c) => [c.name, c.storageName])).toEqual([
        ['a', 'a'],
        ['A', 'A__2'],
        ['c', 'c'],
      ]);
      const r = await engine.execute(e.sql.select(grown, ['a', 'A', 'c'], 'a'), { columns: grown.columns });
      expect(r.rows).toEqual([
        [1, '', null],
        [2, '', null],
      ]);
    });

    it('refuses to change a column type, and invalid definitions', async () => {
      await engine.ensureTable({ name: 'Fixed', columns: [{ name: 'a', type: 'long' }] });
      await expectEngineError(engine.ensureTable({ name: 'Fixed', columns: [{ name: 'a', type: 'string' }] }), [
        'schema',
      ]);
      await expectEngineError(
        engine.ensureTable({
          name: 'Dup',
          columns: [
            { name: 'a', type: 'long' },
            { name: 'a', type: 'long' },
          ],
        }),
        ['schema'],
      );
      await expectEngineError(engine.ensureTable({ name: 'Unk', columns: [{ name: 'a', type: 'unknown' }] }), [
        'schema',
      ]);
      expect(engine.storage('Dup')).toBeUndefined();
    });

    it('keeps the storage maps across a reopen', async () => {
      const before = engine.tables();
      await engine.close();
      engine = await e.open(dir);
      expect(engine.tables()).toEqual(before);
    });
  });

  describe('loading', () => {
    beforeAll(async () => {
      await engine.ensureTable(TYPES_TABLE);
    });

    it('loads NDJSON, coercing every type; values come back in Kusto encoding', async () => {
      const path = await file(
        'types.ndjson',
        [
          {
            b: true,
            i: 2147483647,
            l: 9007199254740991,
            r: 0.1,
            d: '1.50',
            s: 'héllo "q"\n\tline',
            t: '2024-01-02T03:04:05.1234567Z',
            ts: '1.02:03:04.5000000',
            g: '3F2504E0-4F89-11D3-9A0C-0305E82C3301',
            dyn: { a: [1, 'x', null], b: { c: true } },
            k: 1,
          },
          { k: 2 },
          {
            b: 'False',
            i: '-5',
            l: '-1',
            r: 'NaN',
            d: -0.000001,
            s: '',
            t: '4/19/2021, 12:13:19.483 PM',
            ts: 10000000,
            g: '00000000-0000-0000-0000-000000000000',
            dyn: '[1,2]',
            k: 3,
          },
          { r: 'Infinity', ts: '-00:00:00.0000001', dyn: 'plain text', t: '2019-01-15 05:24:24.010', k: 4 },
        ]
          .map((o) => JSON.stringify(o))
          .join('\n'),
      );
      const report = await engine.loadFile('Types', path);
      expect(report).toMatchObject({ format: 'ndjson', rowsRead: 4, rowsLoaded: 4, rowsRejected: 0, ignored: [] });
      const t = engine.storage('Types');
      if (!t) throw new Error('no table');
      const r = await engine.execute(
        e.sql.select(
          t,
          TYPE_COLUMNS.map((c) => c.name),
          'k',
        ),
        { columns: TYPE_COLUMNS },
      );
      expect(r.columns).toEqual(TYPE_COLUMNS);
      expect(r.rows).toEqual([
        [
          true,
          2147483647,
          9007199254740991,
          0.1,
          '1.5',
          'héllo "q"\n\tline',
          stored('2024-01-02T03:04:05.1234567Z'),
          '1.02:03:04.5000000',
          '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
          { a: [1, 'x', null], b: { c: true } },
          1,
        ],
        [null, null, null, null, null, '', null, null, null, null, 2],
        [
          false,
          -5,
          -1,
          'NaN',
          '-0.000001',
          '',
          '2021-04-19T12:13:19.4830000Z',
          '00:00:01',
          '00000000-0000-0000-0000-000000000000',
          [1, 2],
          3,
        ],
        [
          null,
          null,
          null,
          'Infinity',
          null,
          '',
          '2019-01-15T05:24:24.0100000Z',
          '-00:00:00.0000001',
          null,
          'plain text',
          4,
        ],
      ]);
    });

    it('loads a JSON array and CSV with export quirks (BOM, [UTC] headers, _dynamic/_string, quoted newlines)', async () => {
      const arr = await file(
        'types.json',
        JSON.stringify([
          { k: 10, s: 'a' },
          { k: 11, s: 'b', 'ts [UTC]': '00:01:00' },
        ]),
      );
      expect(await engine.loadFile('Types', arr)).toMatchObject({
        format: 'json-array',
        rowsLoaded: 2,
        renamed: [{ source: 'ts [UTC]', column: 'ts' }],
      });
      const csv = await file(
        'types.csv',
        '\uFEFF,k,s,t [UTC],dyn_dynamic,dyn_string,b\r\n' +
          '0,20,"multi\nline, ""quoted""",4/28/2021 14:08,"{""x"":1}",,TRUE\r\n' +
          '1,21,plain,"4/28/2021, 2:08:45.221 PM",,text,false\r\n',
      );
      const report = await engine.loadFile('Types', csv);
      expect(report).toMatchObject({ format: 'csv', rowsRead: 2, rowsLoaded: 2, ignored: [''] });
      const t = engine.storage('Types');
      if (!t) throw new Error('no table');
      const r = await engine.execute(`${e.sql.select(t, ['k', 's', 't', 'dyn', 'b', 'ts'], 'k')}`, {
        columns: ['k', 's', 't', 'dyn', 'b', 'ts'].map(
          (n) => TYPE_COLUMNS.find((c) => c.name === n) ?? TYPE_COLUMNS[0]!,
        ),
      });
      const byK = new Map(r.rows.map((row) => [row[0], row]));
      expect(byK.get(11)).toEqual([11, 'b', null, null, null, '00:01:00']);
      expect(byK.get(20)).toEqual([20, 'multi\nline, "quoted"', '2021-04-28T14:08:00.0000000Z', { x: 1 }, true, null]);
      expect(byK.get(21)).toEqual([21, 'plain', '2021-04-28T14:08:45.2210000Z', 'text', false, null]);
    });

    it('reports rows whose values cannot be coerced, with row, column and value, and loads the others', async () => {
      const path = await file(
        'bad.ndjson',
        [
          { k: 30, i: 1 },
          { k: 31, i: 'not a number' },
          { k: 32, t: 'yesterday', g: 'nope' },
          { k: 33, b: 'maybe' },
          { k: 34, ts: '25:00:00' },
          { k: 35, i: 99999999999 },
        ]
          .map((o) => JSON.stringify(o))
          .join('\n'),
      );
      const report = await engine.loadFile('Types', path);
      expect(report).toMatchObject({ rowsRead: 6, rowsLoaded: 1, rowsRejected: 5 });
      expect(report.rejected).toEqual([
        { row: 2, columns: [{ column: 'i', value: 'not a number', expected: 'int' }] },
        {
          row: 3,
          columns: [
            { column: 't', value: 'yesterday', expected: 'datetime' },
            { column: 'g', value: 'nope', expected: 'guid' },
          ],
        },
        { row: 4, columns: [{ column: 'b', value: 'maybe', expected: 'bool' }] },
        { row: 5, columns: [{ column: 'ts', value: '25:00:00', expected: 'timespan' }] },
        { row: 6, columns: [{ column: 'i', value: '99999999999', expected: 'int' }] },
      ]);
      const t = engine.storage('Types');
      if (!t) throw new Error('no table');
      const r = await engine.execute(`${e.sql.select(t, ['k'], 'k')}`, { columns: [{ name: 'k', type: 'long' }] });
      const ks = r.rows.map((row) => row[0]);
      expect(ks).toContain(30);
      expect(ks.filter((k) => typeof k === 'number' && k > 30 && k < 40)).toEqual([]);
    });

    it('sets the hidden ingestion time and a new batch id per load, and fills Type and TimeGenerated', async () => {
      const t = await engine.ensureTable(def('Syslog'));
      const before = Date.now();
      const r1 = await engine.loadFile('Syslog', await file('s1.ndjson', '{"Computer":"a"}\n'));
      const r2 = await engine.loadFile(
        'Syslog',
        await file('s2.ndjson', '{"Computer":"b","TimeGenerated":"2020-01-01T00:00:00Z"}\n'),
      );
      expect(r2.batchId).toBeGreaterThan(r1.batchId);
      const sql = `SELECT ${['Computer', 'Type', 'TimeGenerated'].map((c) => `"${t.columns.find((x) => x.name === c)?.storageName}"`).join(', ')}, "${t.hidden.ingestionTime}", "${t.hidden.batchId}" FROM "${t.storageName}" ORDER BY 1`;
      const r = await engine.execute(sql, {
        columns: [
          { name: 'Computer', type: 'string' },
          { name: 'Type', type: 'string' },
          { name: 'TimeGenerated', type: 'datetime' },
          { name: 'ingestion', type: 'datetime' },
          { name: 'batch', type: 'long' },
        ],
      });
      const [a, b] = r.rows;
      expect(a?.slice(0, 2)).toEqual(['a', 'Syslog']);
      expect(a?.[2]).toBe(a?.[3]); // no event time: TimeGenerated is the ingestion time
      expect(Date.parse(String(a?.[3]))).toBeGreaterThanOrEqual(before - 1000);
      expect(b?.slice(0, 3)).toEqual(['b', 'Syslog', '2020-01-01T00:00:00.0000000Z']);
      expect([a?.[4], b?.[4]]).toEqual([r1.batchId, r2.batchId]);
    });

    it('writes the same value to both columns of a case-variant pair', async () => {
      const t = await engine.ensureTable(def('IdentityLogonEvents'));
      expect(t.columns.filter((c) => c.name.toLowerCase() === 'isp').map((c) => c.storageName)).toEqual([
        'Isp',
        'ISP__2',
      ]);
      await engine.loadFile('IdentityLogonEvents', await file('isp1.ndjson', '{"ISP":"upper","ReportId":"1"}\n'));
      await engine.loadFile('IdentityLogonEvents', await file('isp2.ndjson', '{"Isp":"lower","ReportId":"2"}\n'));
      const r = await engine.execute(e.sql.select(t, ['ReportId', 'Isp', 'ISP'], 'ReportId'), {
        columns: [
          { name: 'ReportId', type: 'string' },
          { name: 'Isp', type: 'string' },
          { name: 'ISP', type: 'string' },
        ],
      });
      expect(r.rows).toEqual([
        ['1', 'upper', 'upper'],
        ['2', 'lower', 'lower'],
      ]);
    });

    it('loads empty files: no rows, no error', async () => {
      for (const [name, text] of [
        ['empty.ndjson', ''],
        ['empty-array.json', '[]'],
        ['header-only.csv', 'k,s\r\n'],
      ]) {
        const report = await engine.loadFile('Types', await file(name as string, text as string));
        expect(report, name).toMatchObject({ rowsRead: 0, rowsLoaded: 0, rowsRejected: 0 });
      }
    });

    it('fails clearly on an unknown table and an unreadable file, and leaves no staged file behind', async () => {
      await expectEngineError(engine.loadFile('NoSuchTable', join(dir, 'types.json')), ['unknown_table']);
      await expectEngineError(engine.loadFile('Types', join(dir, 'missing.json')), ['load']);
      await expectEngineError(engine.loadFile('Types', await file('broken.json', '{"k": 1,,,}\n')), ['load']);
      expect(await readdir(join(e.spoolDir(dir), 'load'))).toEqual([]);
    });
  });

  describe('every sample-data file loads into its table', () => {
    // fixtures/shared/sample-data/README.md describes each file. Not loaded here, with reason:
    // - WindowsRawEvents-Sysmon/*: raw Windows event logs (OTRF/HELK form), "not a Sentinel table";
    // - api-shapes/*: REST API response shapes (incidents, alerts), not table rows.
    const cases: [table: string, path: string, rows: number][] = [
      ['AuditLogs', 'AuditLogs/otrf-goldensaml-AADAuditEvents.json', 4],
      ['AuditLogs', 'AuditLogs/sentinel-training-AuditLogs_Hunting.csv', 5],
      ['AzureActivity', 'AzureActivity/sentinel-training-azureActivity_adele.csv', 23],
      ['CommonSecurityLog', 'CommonSecurityLog/azure-sentinel-sampledata-CrowdStrikeFalconEndpointProtection.json', 20],
      ['CommonSecurityLog', 'CommonSecurityLog/azure-sentinel-sampledata-Fortigate.json', 2],
      ['CommonSecurityLog', 'CommonSecurityLog/sentinel-training-solarigate_CEFevent.csv', 1],
      // A `union` across tables: CloudAppEvents has string ReportId and dynamic AdditionalFields, as the file does.
      ['CloudAppEvents', 'DefenderXDR-union/otrf-goldensaml-Microsoft365DefenderEvents.json', 9],
      ['OfficeActivity', 'OfficeActivity/otrf-goldensaml-OfficeActivityEvents.json', 1],
      ['OfficeActivity', 'OfficeActivity/sentinel-training-office_activity.csv', 266],
      ['OfficeActivity', 'OfficeActivity/sentinel-training-office_activity_inbox_rule.csv', 2],
      ['SecurityAlert', 'SecurityAlert/msticpy-alertlist.csv', 189],
      ['SecurityEvent', 'SecurityEvent/azure-sentinel-sampledata-RiskIQ_scenrio.json', 4],
      ['SecurityEvent', 'SecurityEvent/msticpy-host_logons-4624.csv', 14],
      ['SecurityEvent', 'SecurityEvent/msticpy-processes_on_host-4688.csv', 363],
      ['SecurityEvent', 'SecurityEvent/otrf-goldensaml-WindowsEvents.json', 38],
      ['SigninLogs', 'SigninLogs/sentinel-training-sign-in_adelete.csv', 56],
      ['Syslog', 'Syslog/azure-sentinel-sampledata-CiscoISEEvent.json', 31],
      ['Syslog', 'Syslog/msticpy-syslog_data.csv', 100],
      ['DeviceProcessEvents', 'streaming-api/eventhub-message-constructed.json', 1],
      ['DeviceProcessEvents', 'streaming-api/splunk-ta-readme-DeviceProcessEvents-record.json', 1],
      ['DeviceProcessEvents', 'streaming-api/storage-blob-constructed.jsonl', 1],
    ];

    it('covers every data file of the folder except the ones excluded above', async () => {
      const all = (await readdir(SAMPLES, { recursive: true }))
        .map(String)
        .filter(
          (f) => /\.(json|jsonl|csv)$/.test(f) && !f.startsWith('api-shapes') && !f.startsWith('WindowsRawEvents'),
        );
      expect(all.sort()).toEqual(cases.map((c) => c[1]).sort());
    });

    it.each(cases)('%s ← %s', async (table, path, rows) => {
      await engine.ensureTable(def(table));
      const report = await engine.loadFile(table, new URL(path, SAMPLES).pathname);
      expect({ read: report.rowsRead, loaded: report.rowsLoaded, rejected: report.rejected }).toEqual({
        read: rows,
        loaded: rows,
        rejected: [],
      });
    });

    it('maps the export quirks onto the right columns', async () => {
      const signin = engine.storage('SigninLogs');
      const alert = engine.storage('SecurityAlert');
      const dpe = engine.storage('DeviceProcessEvents');
      if (!signin || !alert || !dpe) throw new Error('tables missing');
      // The sign-in export has no TimeGenerated, only `CreatedDateTime [UTC]` in the portal's date format.
      const s = await engine.execute(
        e.sql.select(signin, ['CreatedDateTime', 'DeviceDetail', 'IsInteractive'], 'CreatedDateTime'),
        {
          columns: [
            { name: 'CreatedDateTime', type: 'datetime' },
            { name: 'DeviceDetail', type: 'dynamic' },
            { name: 'IsInteractive', type: 'bool' },
          ],
        },
      );
      expect(s.rows[0]?.[0]).toMatch(/^2021-04-\d\dT\d\d:\d\d:\d\d\.\d{3}0000Z$/);
      expect(s.rows.some((row) => typeof row[1] === 'object' && row[1] !== null && 'operatingSystem' in row[1])).toBe(
        true,
      );
      expect(s.rows.some((row) => row[2] === true)).toBe(true);
      const a = await engine.execute(e.sql.select(alert, ['StartTime', 'DisplayName', 'AlertSeverity'], 'StartTime'), {
        columns: [
          { name: 'StartTime', type: 'datetime' },
          { name: 'DisplayName', type: 'string' },
          { name: 'AlertSeverity', type: 'string' },
        ],
      });
      expect(a.rows.every((row) => row[0] !== null && row[1] !== '' && row[2] !== '')).toBe(true);
      const d = await engine.execute(e.sql.select(dpe, ['FileName', 'Timestamp', 'TimeGenerated']), {
        columns: [
          { name: 'FileName', type: 'string' },
          { name: 'Timestamp', type: 'datetime' },
          { name: 'TimeGenerated', type: 'datetime' },
        ],
      });
      // The records carry Timestamp only; TimeGenerated takes it (the envelope's `time` is when Defender sent it).
      const time = stored('2021-04-14T18:49:17.7849324Z');
      expect(d.rows).toContainEqual(['whoami.exe', time, time]);
    });
  });

  describe('value encoding (every KQL type, edge values, against the reference in values.ts)', () => {
    const run = async (type: Parameters<EngineUnderTest['sql']['value']>[0], texts: readonly string[]) => {
      const kql = type === 'long' ? 'long' : type;
      const r = await engine.query(e.sql.row(texts.map((t) => e.sql.value(type, t))), {
        columns: texts.map((_, i) => ({ name: `c${i}`, type: kql })),
      });
      try {
        const raw: string[] = [];
        for await (const text of r.rowTexts()) raw.push(text);
        return { values: (await r.rows())[0] ?? [], raw: raw[0] ?? '' };
      } finally {
        await r.close();
      }
    };
    const next = random(42);

    it('timespan: .NET constant format from ticks', async () => {
      const ticks = [
        0n,
        1n,
        -1n,
        9_999_999n,
        10_000_000n,
        -15_000_000n,
        36_000_000_000n * 25n,
        864_000_000_000n * 10_675_199n + 1n,
        9223372036854775807n,
        -9223372036854775807n - 1n,
        ...Array.from({ length: 60 }, () => BigInt(Math.floor((next() - 0.5) * 2 ** 53))),
      ];
      const { values } = await run('timespan', ticks.map(String));
      expect(values).toEqual(ticks.map(formatTimespan));
    });

    it('datetime: ISO 8601 with 7 fractional digits and Z', async () => {
      const micros = [
        0n,
        -1n,
        1n,
        -62135596800000000n, // 0001-01-01
        253402300799999999n, // 9999-12-31T23:59:59.999999
        ...Array.from({ length: 60 }, () => BigInt(Math.floor((next() - 0.3) * 2 ** 52))),
      ];
      const { values } = await run('datetime', micros.map(String));
      expect(values).toEqual(micros.map(formatDatetimeMicros));
    });

    it('real: numbers, with NaN and infinities as Kusto writes them', async () => {
      const texts = ['0.1', '-0.0', '3.0', '1e300', '-1e-300', '123456789.123', 'NaN', 'Infinity', '-Infinity'];
      const { values } = await run('real', texts);
      expect(values).toEqual(texts.map((t) => realToWire(Number(t))));
    });

    it('decimal: exact strings', async () => {
      const { values } = await run('decimal', ['1.5', '100', '-0.25', '0', '12345678901234567890.123456789012345678']);
      expect(values).toEqual(['1.5', '100', '-0.25', '0', '12345678901234567890.123456789012345678']);
    });

    it('long: exact beyond 2^53 in the encoded text', async () => {
      const { raw } = await run('long', ['9223372036854775807', '-9223372036854775808', '0']);
      expect(raw).toBe('[9223372036854775807,-9223372036854775808,0]');
    });

    it('string: any text, escaped for JSON', async () => {
      const texts = [
        '',
        'plain',
        'quote " backslash \\ slash /',
        'control \u0001\u001f tab\t newline\n cr\r',
        'unicode é ß 中文 😀 \u2028 \u2029',
        "sql '); DROP TABLE x; --",
        'nul \u0000 inside',
      ];
      const { values } = await run('string', texts);
      expect(values).toEqual(texts);
    });

    it('guid and dynamic', async () => {
      const g = await run('guid', ['3F2504E0-4F89-11D3-9A0C-0305E82C3301']);
      expect(g.values).toEqual(['3f2504e0-4f89-11d3-9a0c-0305e82c3301']);
      const docs = [
        '{"a": [1, 2.5, "x\\ny", null, true], "b": {"c": {}}}',
        '[]',
        '"text"',
        '42',
        'null',
        '{"é": "😀"}',
      ];
      const d = await run('dynamic', docs);
      expect(d.values).toEqual(docs.map((x) => JSON.parse(x)));
      expect(d.raw).not.toContain('\n');
    });

    it('infers KQL types when the compiler gives none', async () => {
      const r = await engine.execute(
        e.sql.row([
          e.sql.value('long', '7'),
          e.sql.value('real', '1.5'),
          e.sql.value('string', 'x'),
          e.sql.value('guid', '00000000-0000-0000-0000-000000000001'),
          e.sql.value('dynamic', '{"a":1}'),
          e.sql.value('datetime', '0'),
        ]),
      );
      expect(r.columns.map((c) => c.type)).toEqual(['long', 'real', 'string', 'guid', 'dynamic', 'datetime']);
      expect(r.rows).toEqual([
        [7, 1.5, 'x', '00000000-0000-0000-0000-000000000001', { a: 1 }, '1970-01-01T00:00:00.0000000Z'],
      ]);
    });
  });

  describe('results: truncation and delivery', () => {
    it('truncates at the row limit and says so', async () => {
      const r = await engine.execute(e.sql.range(100), { maxRows: 10 });
      expect(r.rows.map((row) => row[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(r.truncated).toEqual({ reason: 'rows', limit: 10 });
      const exact = await engine.execute(e.sql.range(10), { maxRows: 10 });
      expect(exact.rows).toHaveLength(10);
      expect(exact.truncated).toBeNull();
    });

    it('truncates at the byte limit, keeping a prefix of the rows in order', async () => {
      const full = await engine.execute(e.sql.range(5000));
      expect(full.truncated).toBeNull();
      const r = await engine.query(e.sql.range(5000), { maxBytes: 1000 });
      try {
        expect(r.truncated).toEqual({ reason: 'bytes', limit: 1000 });
        expect(r.encodedBytes).toBeLessThanOrEqual(1000);
        expect(r.encodedBytes).toBeGreaterThan(900);
        const rows = await r.rows();
        expect(rows).toEqual(full.rows.slice(0, rows.length));
        expect(r.rowCount).toBe(rows.length);
      } finally {
        await r.close();
      }
    });

    it('cuts a result of huge rows at the byte limit without keeping it all', async () => {
      const r = await engine.query(e.sql.bigRows(40, 1_000_000), { maxRows: 30, maxBytes: 3_500_000 });
      try {
        expect(r.truncated).toEqual({ reason: 'bytes', limit: 3_500_000 });
        const rows = await r.rows();
        expect(rows.map((row) => String(row[0]).slice(-3))).toEqual(['xx0', 'xx1', 'xx2']);
        expect(r.encodedBytes).toBe(3 * 1_000_006); // `,["x…xN"]` per row
      } finally {
        await r.close();
      }
      expect(await readdir(join(e.spoolDir(dir), 'results'))).toEqual([]);
    });

    it('keeps ORDER BY order through encoding and truncation', async () => {
      const sql = `SELECT n FROM (${e.sql.range(3000)}) AS x ORDER BY n DESC`;
      const r = await engine.execute(sql, { maxRows: 2500 });
      expect(r.rows[0]?.[0]).toBe(2999);
      expect(r.rows.every((row, i) => row[0] === 2999 - i)).toBe(true);
    });

    it('writes JSON, CSV and text tables from the encoded rows, and frees the spool on close', async () => {
      const sql = e.sql.row([
        e.sql.value('string', 'a,"b"'),
        e.sql.value('long', '1'),
        e.sql.value('dynamic', '{"x":[1]}'),
      ]);
      const columns = [
        { name: 's', type: 'string' as const },
        { name: 'n', type: 'long' as const },
        { name: 'd', type: 'dynamic' as const },
      ];
      const r = await engine.query(sql, { columns });
      const rows = await collect(r, writeJsonRows);
      expect(JSON.parse(rows)).toEqual([['a,"b"', 1, { x: [1] }]]);
      const full = JSON.parse(
        await collect(r, (res, out) => writeJsonResult(res, out, { before: { id: 'q1', ok: true }, after: { ms: 1 } })),
      );
      expect(full).toEqual({
        id: 'q1',
        ok: true,
        columns,
        rows: [['a,"b"', 1, { x: [1] }]],
        truncated: false,
        truncation: null,
        ms: 1,
      });
      expect(await collect(r, writeCsv)).toBe('s,n,d\r\n"a,""b""",1,"{""x"":[1]}"\r\n');
      expect(await collect(r, (res, out) => writeTable(res, out))).toBe(
        's      n  d\n-----  -  ---------\na,"b"  1  {"x":[1]}\n(1 row)\n',
      );
      expect(await readdir(join(e.spoolDir(dir), 'results'))).toHaveLength(1);
      await r.close();
      expect(await readdir(join(e.spoolDir(dir), 'results'))).toEqual([]);
      expect(formatTable([{ name: 'x', type: 'real' }], [['1.5'], ['10']])).toBe('  x\n---\n1.5\n 10\n');
    });

    it('delivers an empty result', async () => {
      const r = await engine.query(`SELECT n FROM (${e.sql.range(10)}) AS x WHERE n < 0`);
      expect(await collect(r, writeJsonRows)).toBe('[]');
      expect(r.rowCount).toBe(0);
      await r.close();
    });
  });

  describe('timeout, cancellation, concurrency', () => {
    it('fails a query past its timeout with a timeout error', async () => {
      const t0 = Date.now();
      const err = await expectEngineError(engine.query(e.sql.slow(), { timeoutMs: 300 }), ['timeout']);
      expect(err.message).toMatch(/timeout/);
      expect(Date.now() - t0).toBeLessThan(10_000);
    });

    it('cancels by query id and by AbortSignal; the connection stays usable', async () => {
      const running = engine.query(e.sql.slow(), { queryId: 'slow-1' });
      await new Promise((r) => setTimeout(r, 200));
      expect(engine.cancel('slow-1')).toBe(true);
      await expectEngineError(running, ['cancelled']);
      expect(engine.cancel('slow-1')).toBe(false);

      const ac = new AbortController();
      const aborted = engine.query(e.sql.slow(), { signal: ac.signal });
      setTimeout(() => ac.abort(), 200);
      await expectEngineError(aborted, ['cancelled']);

      const pre = new AbortController();
      pre.abort();
      await expectEngineError(engine.query(e.sql.range(1), { signal: pre.signal }), ['cancelled']);
      expect((await engine.execute(e.sql.range(3))).rows).toHaveLength(3);
    });

    it('close() stops queries in flight and waits for them; the workspace reopens', async () => {
      const running = engine.query(e.sql.slow());
      await new Promise((r) => setTimeout(r, 100));
      await engine.close();
      await expectEngineError(running, ['cancelled']);
      await expectEngineError(engine.query(e.sql.range(1)), ['closed']);
      engine = await e.open(dir);
      expect((await engine.execute(e.sql.range(2))).rows).toEqual([[0], [1]]);
    });

    const concurrent = 'runs short queries while a long one is running';
    it.skipIf(e.skip?.[concurrent] !== undefined)(
      `${concurrent}${e.skip?.[concurrent] ? ` (skipped: ${e.skip[concurrent]})` : ''}`,
      async () => {
        const long = engine.query(e.sql.slow(), { queryId: 'long-1' });
        let longDone = false;
        long.then(
          () => {
            longDone = true;
          },
          () => {
            longDone = true;
          },
        );
        await new Promise((r) => setTimeout(r, 100));
        const shorts = await Promise.all([1, 2, 3].map((n) => engine.execute(e.sql.range(n))));
        expect(shorts.map((s) => s.rows.length)).toEqual([1, 2, 3]);
        expect(longDone).toBe(false);
        engine.cancel('long-1');
        await expectEngineError(long, ['cancelled']);
      },
    );
  });

  describe('safety: hostile SQL is refused and changes nothing', () => {
    const outside = () => join(dir, 'outside', 'canary');

    it('refuses every hostile statement', async () => {
      const failures: string[] = [];
      for (const h of e.hostile({ spool: e.spoolDir(dir), outside: outside() })) {
        const result = await engine.execute(h.sql).then(
          (r) => `ran and returned ${JSON.stringify(r.rows).slice(0, 100)}`,
          (err: unknown) =>
            err instanceof EngineError && (err.code === 'refused' || err.code === 'sql')
              ? null
              : `failed with ${String(err)}`,
        );
        if (result) failures.push(`${h.name}: ${result}`);
      }
      expect(failures).toEqual([]);
      expect(existsSync(join(dir, 'outside'))).toBe(false);
      expect(existsSync(`${outside()}.csv`)).toBe(false);
      expect(existsSync(join(e.spoolDir(dir), 'x.csv'))).toBe(false);
    });

    it('never shows the content of a file outside the workspace, even in error messages', async () => {
      for (const h of e.hostile({ spool: e.spoolDir(dir), outside: outside() })) {
        const text = await engine.execute(h.sql).then(
          (r) => JSON.stringify(r.rows),
          (err: unknown) => String(err),
        );
        expect(text, h.name).not.toMatch(/root:.*:0:0:/);
      }
    });

    it('runs legal SQL with comment and quote tricks correctly, and is intact afterwards', async () => {
      expect((await engine.execute('SELECT 42 --')).rows).toEqual([[42]]);
      expect((await engine.execute("SELECT '''); DROP TABLE x; --' AS s")).rows).toEqual([["'); DROP TABLE x; --"]]);
      expect((await engine.execute('SELECT 42;')).rows).toEqual([[42]]);
      const t = engine.storage('Types');
      if (!t) throw new Error('no table');
      expect((await engine.execute(e.sql.select(t, ['k'], 'k'))).rows.length).toBeGreaterThan(0);
      expect(engine.storage('Case')?.storageName).toBe('Case');
    });
  });

  describe('stats', () => {
    it('reports rows, ingested bytes and storage per table', async () => {
      const stats = await engine.stats();
      const syslog = stats.find((s) => s.table === 'Syslog');
      expect(syslog?.rows).toBeGreaterThanOrEqual(133);
      expect(syslog?.ingestedBytes).toBeGreaterThan(79_000);
      expect(syslog?.storageBytes).toBeGreaterThan(0);
      expect(syslog?.lastIngestion).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(stats.find((s) => s.table === 'T1')).toMatchObject({ rows: 0, ingestedBytes: 0, lastIngestion: null });
    });
  });
}
