/**
 * Records longer than DuckDB's default `maximum_object_size` (16 MB) through the whole path: the writer measures its
 * group's longest spool line (a record, or for a body written as one slice, a record with the whitespace up to the
 * next one) and the engine sizes DuckDB's JSON reader from it (LoadOptions.maxRecordBytes). DuckDB 1.5 reads longer
 * lines than the bound in newline-delimited mode anyway; this keeps the path honest if a reader enforces it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, type TestServer, testServer } from '../server/helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await testServer({ bodyLimit: 48 * 1024 * 1024 });
});

afterAll(async () => {
  await t?.dispose();
});

describe('records larger than 16 MB', () => {
  it('stores a 17 MB record between small ones, also with trailing whitespace on its line', async () => {
    const big = 'x'.repeat(17 * 1024 * 1024);
    const body = [
      '{"Computer":"small-1","SyslogMessage":"a"}',
      `{"Computer":"big","SyslogMessage":"${big}"}${' '.repeat(200_000)}`,
      '{"Computer":"small-2","SyslogMessage":"b"}',
      '',
    ].join('\n');
    const r = await post<{ rowsIngested: number; rowsRejected: number }>(t.server.url, '/api/ingest/Syslog', body, {
      'content-type': 'application/x-ndjson',
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ rowsIngested: 3, rowsRejected: 0 });
    const q = await post<{ rows: unknown[][] }>(
      t.server.url,
      '/api/query',
      JSON.stringify({ query: 'Syslog | project Computer, n = strlen(SyslogMessage) | order by Computer asc' }),
    );
    expect(q.status).toBe(200);
    expect(q.json.rows).toEqual([
      ['big', big.length],
      ['small-1', 1],
      ['small-2', 1],
    ]);
  });
});
