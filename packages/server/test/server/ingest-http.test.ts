/**
 * The ingestion endpoints over real HTTP on 127.0.0.1: formats, standard columns, rejected rows and the
 * dead-letter table, bad input, idempotency, group commit, back-pressure, custom tables, Defender and the Logs
 * Ingestion API with transforms.
 */
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommitInfo } from '../../src/ingest/writer.js';
import { type Answer, call, kql, ndjson, post, type TestServer, testServer } from './helpers.js';

let t: TestServer;
let base: string;
const commits: CommitInfo[] = [];

beforeAll(async () => {
  t = await testServer({
    bodyLimit: 1024 * 1024,
    disabledTables: ['AzureActivity'],
    onCommit: (c) => commits.push(c),
  });
  base = t.server.url;
});

afterAll(async () => {
  await t?.dispose();
});

interface TableAnswerJson {
  table: string;
  requestId: string;
  batchId: string | null;
  rowsReceived: number;
  rowsIngested: number;
  rowsRejected: number;
  rejected: { index: number; column: string; reason: string; value: string }[];
  ignoredFields: string[];
  duplicate: boolean;
  ingestionTime: string;
}

interface ErrorJson {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const ingest = (table: string, body: string | Uint8Array, headers?: Record<string, string>) =>
  post<TableAnswerJson>(base, `/api/ingest/${table}`, body, headers);

function expectError(r: Answer<unknown>, status: number, code: string, message?: RegExp): ErrorJson['error'] {
  const e = (r.json as ErrorJson).error;
  expect({ status: r.status, code: e?.code }).toEqual({ status, code });
  if (message) expect(e.message).toMatch(message);
  return e;
}

describe('POST /api/ingest/{table}', () => {
  it('stores a key first seen after the records whose keys are sampled, and a body whose records share their keys', async () => {
    // 150 records: the first 100 (the field sample) lack ProcessName; the last one has it.
    const records = Array.from({ length: 150 }, (_, i) => ({ Computer: 'late-keys', SyslogMessage: `m${i}` }));
    const late = { ...records[149], ProcessName: 'seen-late' };
    const r = await ingest('Syslog', ndjson([...records.slice(0, 149), late]));
    expect(r.json).toMatchObject({ rowsIngested: 150, rowsRejected: 0 });
    // Every record with the same keys in the same order: the first record's keys are all of them.
    const uniform = await ingest(
      'Syslog',
      ndjson(
        Array.from({ length: 3 }, (_, i) => ({ Computer: 'late-keys', SyslogMessage: `u${i}`, Facility: 'kern' })),
      ),
    );
    expect(uniform.json).toMatchObject({ rowsIngested: 3, rowsRejected: 0 });
    const rows = await kql(
      base,
      `Syslog | where Computer == "late-keys" and (isnotempty(ProcessName) or isnotempty(Facility)) | project SyslogMessage, ProcessName, Facility | order by SyslogMessage asc`,
    );
    expect(rows).toEqual([
      ['m149', 'seen-late', ''],
      ['u0', '', 'kern'],
      ['u1', '', 'kern'],
      ['u2', '', 'kern'],
    ]);
  });

  it('ingests NDJSON and stamps every row with TimeGenerated, Type, TenantId and an ingestion time', async () => {
    const before = Date.now();
    const r = await ingest(
      'Syslog',
      ndjson([
        { Computer: 'h1', SyslogMessage: 'one', TimeGenerated: '2024-05-01T10:00:00Z', Type: 'Wrong', TenantId: 'x' },
        { Computer: 'h1', SyslogMessage: 'two' },
      ]),
    );
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ table: 'Syslog', rowsReceived: 2, rowsIngested: 2, rowsRejected: 0, rejected: [] });
    const health = await call<{ workspaceId: string }>(base, 'GET', '/api/health');
    const rows = await kql(
      base,
      `Syslog | where Computer == "h1" | project SyslogMessage, TimeGenerated, Type, TenantId, it = ingestion_time() | order by SyslogMessage asc`,
    );
    expect(rows.map((x) => [x[0], x[2], x[3]])).toEqual([
      ['one', 'Syslog', health.json.workspaceId],
      ['two', 'Syslog', health.json.workspaceId],
    ]);
    // The source's event time is kept; a row without one gets its arrival.
    expect(rows[0]?.[1]).toBe('2024-05-01T10:00:00.0000000Z');
    const arrival = Date.parse(String(rows[1]?.[1]));
    expect(arrival).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(String(rows[1]?.[4]))).toBe(arrival);
    expect(Date.parse(r.json.ingestionTime)).toBe(arrival);
  });

  it('ingests a JSON array, a gzip body and CSV', async () => {
    const array = await ingest('Syslog', JSON.stringify([{ Computer: 'h2', SyslogMessage: 'a' }, { Computer: 'h2' }]));
    expect(array.json).toMatchObject({ rowsIngested: 2 });
    const gz = await ingest('Syslog', gzipSync(ndjson([{ Computer: 'h2', SyslogMessage: 'gz' }])), {
      'content-encoding': 'gzip',
    });
    expect(gz.json).toMatchObject({ rowsIngested: 1 });
    const csv = await ingest('Syslog', 'Computer,SyslogMessage\r\nh2,"csv, quoted"\r\n', {
      'content-type': 'text/csv',
    });
    expect(csv.json).toMatchObject({ rowsIngested: 1, rowsReceived: 1 });
    const rows = await kql(base, 'Syslog | where Computer == "h2" | summarize n = count()');
    expect(rows).toEqual([[4]]);
  });

  it('accepts pretty-printed records and a Defender envelope sent to the table itself', async () => {
    const pretty = await ingest('Syslog', '{\n  "Computer": "h3",\n  "SyslogMessage": "pretty"\n}\n{"Computer":"h3"}');
    expect(pretty.json).toMatchObject({ rowsIngested: 2 });
    const env = await ingest(
      'DeviceEvents',
      JSON.stringify({
        records: [
          {
            category: 'AdvancedHunting-DeviceEvents',
            properties: { DeviceName: 'd1', Timestamp: '2024-01-01T00:00:00Z' },
          },
        ],
      }),
    );
    expect(env.json).toMatchObject({ table: 'DeviceEvents', rowsIngested: 1 });
    const rows = await kql(base, 'DeviceEvents | where DeviceName == "d1" | project TimeGenerated, Timestamp');
    // A Defender row's event time is its Timestamp.
    expect(rows).toEqual([['2024-01-01T00:00:00.0000000Z', '2024-01-01T00:00:00.0000000Z']]);
    const other = await ingest(
      'DeviceEvents',
      JSON.stringify({ records: [{ category: 'AdvancedHunting-DeviceLogonEvents', properties: {} }] }),
    );
    expectError(other, 400, 'invalid_body', /api\/ingest\/defender/);
  });

  it('reports rows whose values cannot be coerced and stores them in the dead-letter table', async () => {
    const r = await ingest(
      'SecurityEvent',
      ndjson([
        { Computer: 'dl', EventID: 4624 },
        { Computer: 'dl', EventID: 'not a number' },
        { Computer: 'dl', EventID: 4625, TimeGenerated: 'yesterday' },
        { Computer: 'dl', EventID: 4688, NotAColumn: 1 },
      ]),
      { 'x-ms-client-request-id': 'dead-letter-batch' },
    );
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ rowsReceived: 4, rowsIngested: 2, rowsRejected: 2 });
    expect(r.json.rejected).toEqual([
      { index: 1, column: 'EventID', reason: '"not a number" is not a valid int', value: 'not a number' },
      { index: 2, column: 'TimeGenerated', reason: '"yesterday" is not a valid datetime', value: 'yesterday' },
    ]);
    expect(r.json.ignoredFields).toEqual(['NotAColumn']);
    const dead = await kql(
      base,
      `IngestionErrors | where TargetTable == "SecurityEvent" and ClientBatchId == "dead-letter-batch" | order by RecordIndex asc | project RecordIndex, Reason, RawRecord, RequestId, Source`,
    );
    expect(dead).toEqual([
      [
        1,
        'EventID: "not a number" is not a int',
        '{"Computer":"dl","EventID":"not a number"}',
        r.json.requestId,
        'POST /api/ingest/SecurityEvent',
      ],
      [
        2,
        'TimeGenerated: "yesterday" is not a datetime',
        '{"Computer":"dl","EventID":4625,"TimeGenerated":"yesterday"}',
        r.json.requestId,
        'POST /api/ingest/SecurityEvent',
      ],
    ]);
    expect(await kql(base, 'SecurityEvent | where Computer == "dl" | summarize n = count()')).toEqual([[2]]);
  });
});

describe('bad input: a clear answer, nothing half-done', () => {
  it('malformed JSON → 400 with the byte offset (of the decompressed body for gzip)', async () => {
    const body = '{"Computer":"ok"}\n{"Computer": "broken",}\n';
    const e = expectError(await ingest('Syslog', body), 400, 'malformed_json', /byte offset 40 \(record 1\)/);
    expect(e.details).toEqual({ offset: 40, record: 1 });
    const gz = await ingest('Syslog', gzipSync(body), { 'content-encoding': 'gzip' });
    expectError(gz, 400, 'malformed_json', /decompressed body 40/);
    expect(await kql(base, 'Syslog | where Computer == "ok" | summarize n = count()')).toEqual([[0]]);
    expectError(await ingest('Syslog', '{"a":1}\n42\n'), 400, 'malformed_json', /record 1 is not a JSON object/);
  });

  it('a body over the limit → 413, also when only the decompressed size is over', async () => {
    const big = ndjson(Array.from({ length: 40_000 }, (_, i) => ({ Computer: 'big', SyslogMessage: `m${i}` })));
    expect(big.length).toBeGreaterThan(1024 * 1024);
    expectError(await ingest('Syslog', big), 413, 'body_too_large');
    const bomb = gzipSync(`[${'{"Computer":"bomb"},'.repeat(200_000)}{}]`);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expectError(await ingest('Syslog', bomb, { 'content-encoding': 'gzip' }), 413, 'body_too_large', /decompressed/);
  });

  it('a body sent in chunks without Content-Length is read whole; over the limit → 413', async () => {
    // Chunked transfer encoding: the server cannot size the body up front (raw-body.ts keeps the chunks).
    const chunked = (chunks: string[]) =>
      new Promise<{ status: number; json: ErrorJson | TableAnswerJson }>((resolve, reject) => {
        const req = request(
          `${base}/api/ingest/Syslog`,
          { method: 'POST', headers: { 'content-type': 'application/x-ndjson' } },
          (res) => {
            let text = '';
            res.on('data', (c) => {
              text += c;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
          },
        );
        req.on('error', reject);
        for (const c of chunks) req.write(c);
        req.end();
      });
    const rows = Array.from({ length: 300 }, (_, i) => ndjson([{ Computer: 'chunked', SyslogMessage: `m${i}` }]));
    const ok = await chunked(rows);
    expect({ status: ok.status, rows: (ok.json as TableAnswerJson).rowsIngested }).toEqual({ status: 200, rows: 300 });
    expect(await kql(base, 'Syslog | where Computer == "chunked" | summarize n = count()')).toEqual([[300]]);
    const tooBig = await chunked(Array.from({ length: 20 }, () => `${'x'.repeat(64 * 1024)}\n`));
    expect({ status: tooBig.status, code: (tooBig.json as ErrorJson).error.code }).toEqual({
      status: 413,
      code: 'body_too_large',
    });
  });

  it('an unknown table → 404 naming it (with the right spelling when only the case differs)', async () => {
    expectError(await ingest('NoSuchTable', '{}'), 404, 'unknown_table', /'NoSuchTable'/);
    expectError(await ingest('syslog', '{}'), 404, 'unknown_table', /did you mean Syslog/);
    expectError(await ingest('Mine_CL', '{}'), 404, 'unknown_table', /PUT \/api\/tables/);
  });

  it('a disabled table and the dead-letter table refuse data clearly', async () => {
    expectError(await ingest('AzureActivity', '{}'), 403, 'table_disabled', /AzureActivity is disabled/);
    expectError(await ingest('IngestionErrors', '{}'), 403, 'reserved_table');
  });

  it('unsupported media types and encodings → 415; unknown routes → 404 in the same error shape', async () => {
    expectError(await ingest('Syslog', '<xml/>', { 'content-type': 'application/xml' }), 415, 'unsupported_media_type');
    expectError(await ingest('Syslog', '{}', { 'content-encoding': 'br' }), 415, 'unsupported_encoding');
    expectError(await call(base, 'GET', '/nope'), 404, 'not_found');
  });

  it('records DuckDB cannot map (a duplicate key) fail only their own request, with the record named', async () => {
    const results = await Promise.all([
      ingest('Syslog', ndjson([{ Computer: 'iso', SyslogMessage: 'fine' }])),
      ingest('Syslog', '{"Computer":"iso"}\n{"Computer":"iso","Computer":"twice"}\n'),
      ingest('Syslog', ndjson([{ Computer: 'iso', SyslogMessage: 'fine too' }])),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 400, 200]);
    const e = expectError(results[1] as Answer, 400, 'invalid_records', /duplicate key/);
    expect(e.details).toEqual({ record: 1 });
    expect(e.message).not.toMatch(/spool/);
    expect(await kql(base, 'Syslog | where Computer == "iso" | summarize n = count()')).toEqual([[2]]);
  });
});

describe('client batch ids: accepted once', () => {
  it('a retry returns the first answer and writes nothing again (header or ?batchId=)', async () => {
    const body = ndjson([
      { Computer: 'idem', SyslogMessage: '1' },
      { Computer: 'idem', SyslogMessage: '2' },
    ]);
    const first = await ingest('Syslog', body, { 'x-ms-client-request-id': 'b-1' });
    const again = await ingest('Syslog', body, { 'x-ms-client-request-id': 'b-1' });
    const viaQuery = await post<TableAnswerJson>(base, '/api/ingest/Syslog?batchId=b-1', body);
    expect(first.json).toMatchObject({ duplicate: false, batchId: 'b-1', rowsIngested: 2 });
    for (const r of [again, viaQuery]) {
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ duplicate: true, rowsIngested: 2, ingestionTime: first.json.ingestionTime });
    }
    expect(await kql(base, 'Syslog | where Computer == "idem" | summarize n = count()')).toEqual([[2]]);
  });

  it('concurrent retries of one batch write it once', async () => {
    const body = ndjson([{ Computer: 'idem2' }]);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => ingest('Syslog', body, { 'x-ms-client-request-id': 'b-2' })),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers.filter((a) => !a.json.duplicate)).toHaveLength(1);
    expect(await kql(base, 'Syslog | where Computer == "idem2" | summarize n = count()')).toEqual([[1]]);
  });

  it('the same batch id with a different body → 409', async () => {
    await ingest('Syslog', ndjson([{ Computer: 'idem3' }]), { 'x-ms-client-request-id': 'b-3' });
    const other = await ingest('Syslog', ndjson([{ Computer: 'idem3', SyslogMessage: 'changed' }]), {
      'x-ms-client-request-id': 'b-3',
    });
    expectError(other, 409, 'batch_conflict', /b-3/);
  });

  it('a batch id applies per table: the same id for another table is another batch', async () => {
    const a = await ingest('Syslog', ndjson([{ Computer: 'idem4' }]), { 'x-ms-client-request-id': 'b-4' });
    const b = await ingest('SecurityEvent', ndjson([{ Computer: 'idem4' }]), { 'x-ms-client-request-id': 'b-4' });
    expect([a.json.duplicate, b.json.duplicate]).toEqual([false, false]);
  });
});

describe('group commit and back-pressure', () => {
  it('concurrent requests for one table share commits, and each gets its own answer', async () => {
    const before = commits.length;
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, k) =>
        ingest(
          'CommonSecurityLog',
          ndjson([
            { DeviceVendor: 'gc', DeviceProduct: `p${k}`, EventCount: k },
            { DeviceVendor: 'gc', DeviceProduct: `p${k}`, EventCount: k % 3 === 0 ? 'bad' : k },
          ]),
        ),
      ),
    );
    const mine = commits.slice(before).filter((c) => c.table === 'CommonSecurityLog');
    expect(mine.reduce((n, c) => n + c.requests, 0)).toBe(30);
    expect(mine.length).toBeLessThan(30);
    answers.forEach((a, k) => {
      expect(a.status).toBe(200);
      const bad = k % 3 === 0;
      expect(a.json).toMatchObject({ rowsReceived: 2, rowsIngested: bad ? 1 : 2, rowsRejected: bad ? 1 : 0 });
      if (bad)
        expect(a.json.rejected).toEqual([
          { index: 1, column: 'EventCount', reason: '"bad" is not a valid int', value: 'bad' },
        ]);
    });
    expect(await kql(base, 'CommonSecurityLog | where DeviceVendor == "gc" | summarize n = count()')).toEqual([[50]]);
  });
});

describe('custom tables', () => {
  it('are created with a declared schema, take data, and gain columns later', async () => {
    const created = await call<{ columns: { name: string; type: string }[] }>(
      base,
      'PUT',
      '/api/tables/App_CL',
      JSON.stringify({
        columns: [
          { name: 'Message', type: 'string' },
          { name: 'Level', type: 'int' },
        ],
      }),
    );
    expect(created.status).toBe(200);
    expect(created.json.columns.map((c) => c.name)).toEqual(['Message', 'Level', 'TimeGenerated', 'Type', 'TenantId']);
    expect((await ingest('App_CL', ndjson([{ Message: 'm1', Level: 2 }]))).json).toMatchObject({ rowsIngested: 1 });
    // Azure's table API shape and type names work too; existing columns are kept.
    const grown = await call<{ columns: { name: string; type: string }[] }>(
      base,
      'PUT',
      '/api/tables/App_CL',
      JSON.stringify({ properties: { schema: { columns: [{ name: 'Ok', type: 'boolean' }] } } }),
    );
    expect(grown.json.columns.map((c) => `${c.name}:${c.type}`)).toContain('Ok:bool');
    expect(grown.json.columns.map((c) => c.name)).toContain('Message');
    await ingest('App_CL', ndjson([{ Message: 'm2', Level: 3, Ok: true }]));
    expect(await kql(base, 'App_CL | order by Level asc | project Message, Ok, Type')).toEqual([
      ['m1', null, 'App_CL'],
      ['m2', true, 'App_CL'],
    ]);
  });

  it('refuse bad names, bad types and type changes', async () => {
    const put = (name: string, columns: unknown) =>
      call(base, 'PUT', `/api/tables/${name}`, JSON.stringify({ columns }));
    expectError(await put('NoSuffix', [{ name: 'a', type: 'string' }]), 400, 'invalid_table', /_CL/);
    expectError(await put('T_CL', [{ name: 'a', type: 'varchar' }]), 400, 'invalid_table', /unknown type/);
    expectError(await put('App_CL', [{ name: 'Level', type: 'string' }]), 409, 'schema_conflict', /Level/);
  });
});

describe('POST /api/ingest/defender', () => {
  it('routes Event Hubs messages and blob lines by category', async () => {
    const msg = {
      records: [
        {
          time: 'x',
          category: 'AdvancedHunting-DeviceLogonEvents',
          properties: { DeviceName: 'def1', ActionType: 'LogonSuccess' },
        },
        {
          time: 'x',
          category: 'AdvancedHunting-DeviceNetworkEvents',
          properties: { DeviceName: 'def1', RemotePort: 443 },
        },
        {
          time: 'x',
          category: 'AdvancedHunting-DeviceLogonEvents',
          properties: { DeviceName: 'def1', ActionType: 'LogonFailed' },
        },
      ],
    };
    const blob = ndjson([{ category: 'AdvancedHunting-DeviceLogonEvents', properties: { DeviceName: 'def1' } }]);
    const r = await post<{ rowsIngested: number; tables: TableAnswerJson[] }>(
      base,
      '/api/ingest/defender',
      `${JSON.stringify(msg)}\n${blob}`,
    );
    expect(r.status).toBe(200);
    expect(r.json.rowsIngested).toBe(4);
    expect(r.json.tables.map((x) => [x.table, x.rowsIngested])).toEqual([
      ['DeviceLogonEvents', 3],
      ['DeviceNetworkEvents', 1],
    ]);
    expect(await kql(base, 'DeviceNetworkEvents | where DeviceName == "def1" | project RemotePort, Type')).toEqual([
      [443, 'DeviceNetworkEvents'],
    ]);
  });

  it('refuses the whole message when a category names no table', async () => {
    const msg = {
      records: [
        { category: 'AdvancedHunting-DeviceLogonEvents', properties: { DeviceName: 'def2' } },
        { category: 'AdvancedHunting-NoSuchTable', properties: {} },
      ],
    };
    expectError(await post(base, '/api/ingest/defender', JSON.stringify(msg)), 404, 'unknown_table', /NoSuchTable/);
    expectError(await post(base, '/api/ingest/defender', '{"category":"Other","properties":{}}'), 400, 'invalid_body');
    expect(await kql(base, 'DeviceLogonEvents | where DeviceName == "def2" | summarize n = count()')).toEqual([[0]]);
  });
});

describe('the Logs Ingestion API: data collection rules with transforms', () => {
  const rule = {
    properties: {
      streamDeclarations: {
        'Custom-AppStream': {
          columns: [
            { name: 'TimeGenerated', type: 'datetime' },
            { name: 'RawText', type: 'string' },
            { name: 'Sev', type: 'int' },
          ],
        },
      },
      dataFlows: [
        {
          streams: ['Custom-AppStream'],
          outputStream: 'Custom-Dcr_CL',
          transformKql:
            'source | where Sev > 1 | extend Message = toupper(RawText), Level = Sev * 10 | project TimeGenerated, Message, Level',
        },
        { streams: ['Microsoft-Syslog'], outputStream: 'Microsoft-Syslog' },
      ],
    },
  };

  beforeAll(async () => {
    await call(
      base,
      'PUT',
      '/api/tables/Dcr_CL',
      JSON.stringify({
        columns: [
          { name: 'Message', type: 'string' },
          { name: 'Level', type: 'int' },
        ],
      }),
    );
  });

  it('stores a rule, transforms incoming rows with KQL, and answers 204 like Azure', async () => {
    const put = await call(base, 'PUT', '/dataCollectionRules/dcr-1', JSON.stringify(rule));
    expect(put.status).toBe(200);
    const r = await post(
      base,
      '/dataCollectionRules/dcr-1/streams/Custom-AppStream?api-version=2023-01-01',
      JSON.stringify([
        { TimeGenerated: '2024-03-01T00:00:00Z', RawText: 'keep me', Sev: 3 },
        { TimeGenerated: '2024-03-01T00:00:01Z', RawText: 'filtered', Sev: 1 },
      ]),
    );
    expect(r.status).toBe(204);
    expect(await kql(base, 'Dcr_CL | project TimeGenerated, Message, Level, Type')).toEqual([
      ['2024-03-01T00:00:00.0000000Z', 'KEEP ME', 30, 'Dcr_CL'],
    ]);
    const sys = await post(
      base,
      '/dataCollectionRules/dcr-1/streams/Microsoft-Syslog',
      JSON.stringify([{ Computer: 'dcr-sys' }]),
    );
    expect(sys.status).toBe(204);
    expect(await kql(base, 'Syslog | where Computer == "dcr-sys" | summarize n = count()')).toEqual([[1]]);
  });

  it('reports rows that do not fit the stream declaration (200 with details)', async () => {
    const r = await post<TableAnswerJson>(
      base,
      '/dataCollectionRules/dcr-1/streams/Custom-AppStream',
      JSON.stringify([{ RawText: 'x', Sev: 'high' }]),
    );
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ rowsRejected: 1, rejected: [{ index: 0, column: 'Sev' }] });
  });

  it('refuses rules whose transform does not compile or does not fit the table, and unknown streams', async () => {
    const broken = structuredClone(rule);
    (broken.properties.dataFlows[0] as { transformKql: string }).transformKql = 'source | where NoSuchColumn > 1';
    const e = expectError(
      await call(base, 'PUT', '/dataCollectionRules/dcr-2', JSON.stringify(broken)),
      400,
      'invalid_rule',
      /does not compile/,
    );
    expect(e.details?.diagnostics).toBeDefined();
    const misfit = structuredClone(rule);
    (misfit.properties.dataFlows[0] as { transformKql: string }).transformKql = 'source | extend Extra = 1';
    expectError(
      await call(base, 'PUT', '/dataCollectionRules/dcr-3', JSON.stringify(misfit)),
      400,
      'invalid_rule',
      /RawText|Extra/,
    );
    const other = structuredClone(rule);
    (other.properties.dataFlows[0] as { transformKql: string }).transformKql = 'SigninLogs | take 1';
    expectError(await call(base, 'PUT', '/dataCollectionRules/dcr-4', JSON.stringify(other)), 400, 'invalid_rule');
    expectError(await post(base, '/dataCollectionRules/dcr-1/streams/Custom-Nope', '[]'), 404, 'unknown_stream');
    expectError(await post(base, '/dataCollectionRules/nope/streams/Custom-AppStream', '[]'), 404, 'unknown_rule');
  });
});
