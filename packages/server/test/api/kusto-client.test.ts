/**
 * azure-kusto-data, Microsoft's Kusto client, as a real client of Vigil: v2 queries (plain and fragmented), v1
 * queries, management commands (.show tables, .show table schema as json, .show functions, .create-or-alter
 * function, then calling the function from a query), and authentication with a Vigil API token as the bearer
 * token (refused without one, and with a token of another workspace).
 */
import { Client, ClientRequestProperties, KustoConnectionStringBuilder } from 'azure-kusto-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ndjson, startTestVigil, type TestVigil } from './helpers.js';

let t: TestVigil;
let token: string;

beforeAll(async () => {
  t = await startTestVigil();
  const tok = await call<{ value: string }>(t.url, 'POST', '/api/tokens', {
    token: t.adminToken,
    body: { name: 'kusto-client', scopes: ['read', 'author'], expiresInDays: 1 },
  });
  expect(tok.status).toBe(201);
  token = tok.json.value;
  const now = Date.now();
  const rows = Array.from({ length: 25 }, (_, i) => ({
    TimeGenerated: new Date(now - i * 60_000).toISOString(),
    Computer: `host-${i % 3}`,
    SyslogMessage: `message ${i}`,
    Facility: 'auth',
    SeverityLevel: i % 2 ? 'info' : 'err',
    ProcessID: i,
  }));
  const ing = await call(t.url, 'POST', '/api/workspaces/default/ingest/Syslog', {
    token: t.adminToken,
    raw: ndjson(rows),
    headers: { 'content-type': 'application/x-ndjson' },
  });
  expect(ing.status).toBe(200);
});

afterAll(async () => {
  await t?.dispose();
});

const client = (bearer: string) =>
  new Client(KustoConnectionStringBuilder.withTokenProvider(t.url, async () => bearer));

describe('azure-kusto-data against Vigil', () => {
  it('runs a v2 query and reads typed rows', async () => {
    const c = client(token);
    const r = await c.execute(
      'default',
      'Syslog | summarize n = count(), latest = max(TimeGenerated) by Computer | order by Computer asc',
    );
    const table = r.primaryResults[0];
    expect(table?.columns.map((col) => [col.name, col.type])).toEqual([
      ['Computer', 'string'],
      ['n', 'long'],
      ['latest', 'datetime'],
    ]);
    const rows = [...(table?.rows() ?? [])].map((row) => row.toJSON() as Record<string, unknown>);
    expect(rows.map((x) => [x.Computer, x.n])).toEqual([
      ['host-0', 9],
      ['host-1', 8],
      ['host-2', 8],
    ]);
    expect(rows[0]?.latest).toBeInstanceOf(Date);
    c.close();
  });

  it('reads the fragmented and progressive forms', async () => {
    const c = client(token);
    for (const option of ['results_v2_fragment_primary_tables', 'results_progressive_enabled']) {
      const props = new ClientRequestProperties();
      props.setOption(option, true);
      const r = await c.execute('default', 'Syslog | project ProcessID | order by ProcessID asc', props);
      // The client keeps DataTable frames only; the fragmented form comes back through the raw frames.
      const raw = (await c.execute(
        'default',
        'Syslog | project ProcessID | order by ProcessID asc',
        Object.assign(props, { raw: true }),
      )) as unknown as { FrameType: string }[];
      const kinds = raw.map((f) => f.FrameType);
      expect(kinds[0]).toBe('DataSetHeader');
      expect(kinds).toContain('TableHeader');
      expect(kinds).toContain('TableFragment');
      expect(kinds).toContain('TableCompletion');
      expect(kinds.at(-1)).toBe('DataSetCompletion');
      if (option === 'results_progressive_enabled') expect(kinds).toContain('TableProgress');
      const fragments = raw.filter((f) => f.FrameType === 'TableFragment') as unknown as { Rows: number[][] }[];
      expect(fragments.flatMap((f) => f.Rows).map((x) => x[0])).toEqual(Array.from({ length: 25 }, (_, i) => i));
      expect(r.getErrorsCount().errors).toBe(0);
    }
    c.close();
  });

  it('runs v1 queries', async () => {
    const c = client(token);
    const r = await c.executeQueryV1('default', 'print a = 1, b = "x", d = dynamic({"k": [1, 2]})');
    const row = [...(r.primaryResults[0]?.rows() ?? [])][0]?.toJSON() as Record<string, unknown>;
    expect(row).toEqual({ a: 1, b: 'x', d: '{"k":[1,2]}' });
    c.close();
  });

  it('answers management commands and stores functions callable from queries', async () => {
    const c = client(token);
    const tables = await c.execute('default', '.show tables');
    const names = [...(tables.primaryResults[0]?.rows() ?? [])].map(
      (r) => (r.toJSON() as { TableName: string }).TableName,
    );
    expect(names).toContain('Syslog');
    expect(names).toContain('DeviceProcessEvents');

    const schema = await c.execute('default', '.show table Syslog schema as json');
    const s = [...(schema.primaryResults[0]?.rows() ?? [])][0]?.toJSON() as { TableName: string; Schema: string };
    expect(s.TableName).toBe('Syslog');
    const parsed = JSON.parse(s.Schema) as {
      Name: string;
      OrderedColumns: { Name: string; Type: string; CslType: string }[];
    };
    expect(parsed.Name).toBe('Syslog');
    expect(parsed.OrderedColumns).toContainEqual({
      Name: 'TimeGenerated',
      Type: 'System.DateTime',
      CslType: 'datetime',
    });
    expect(parsed.OrderedColumns).toContainEqual({ Name: 'ProcessID', Type: 'System.Int32', CslType: 'int' });

    // An ASIM-style parser: a tabular function with a parameter default, used from a query.
    const created = await c.execute(
      'default',
      `.create-or-alter function with (docstring = 'Syslog, normalized', folder = 'ASIM') vimSyslog(severity:string = 'err') {
  Syslog | where SeverityLevel == severity | project TimeGenerated, DvcHostname = Computer, EventMessage = SyslogMessage
}`,
    );
    const fn = [...(created.primaryResults[0]?.rows() ?? [])][0]?.toJSON() as Record<string, string>;
    expect(fn.Name).toBe('vimSyslog');
    expect(fn.Folder).toBe('ASIM');
    const fns = await c.execute('default', '.show functions');
    expect([...(fns.primaryResults[0]?.rows() ?? [])].map((r) => (r.toJSON() as { Name: string }).Name)).toEqual([
      'vimSyslog',
    ]);

    const used = await c.execute(
      'default',
      'vimSyslog() | summarize n = count() by DvcHostname | order by DvcHostname asc',
    );
    expect([...(used.primaryResults[0]?.rows() ?? [])].map((r) => r.toJSON())).toEqual([
      { DvcHostname: 'host-0', n: 5 },
      { DvcHostname: 'host-1', n: 4 },
      { DvcHostname: 'host-2', n: 4 },
    ]);
    const info = await c.execute('default', "vimSyslog('info') | count");
    expect([...(info.primaryResults[0]?.rows() ?? [])][0]?.toJSON()).toEqual({ Count: 12 });

    // The function is callable from every query path: the REST API too.
    const rest = await call<{ rows: unknown[][] }>(t.url, 'POST', '/api/workspaces/default/query', {
      token: t.adminToken,
      body: { query: 'vimSyslog() | count' },
    });
    expect(rest.json.rows).toEqual([[13]]);

    await expect(c.execute('default', '.create-or-alter function broken() { NoSuchTable | take 1 }')).rejects.toThrow();
    c.close();
  });

  it('reports query errors the way Kusto does', async () => {
    const c = client(token);
    const e = await c
      .execute('default', 'Syslog | where NoSuchColumn == 1')
      .catch((x: unknown) => x as { response?: { status: number; data: { error: Record<string, unknown> } } });
    expect(e?.response?.status).toBe(400);
    expect(e?.response?.data.error.code).toBe('General_BadRequest');
    expect(String(e?.response?.data.error['@type'])).toContain('SemanticException');
    expect(String(e?.response?.data.error['@message'])).toContain('NoSuchColumn');
    c.close();
  });

  it('refuses calls without a valid token, and databases the token cannot read', async () => {
    const anon = new Client(t.url);
    await expect(anon.execute('default', 'print 1')).rejects.toMatchObject({ response: { status: 401 } });
    const bad = client('vgl_tAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await expect(bad.execute('default', 'print 1')).rejects.toMatchObject({ response: { status: 401 } });
    const c = client(token);
    await expect(c.execute('no-such-workspace', 'print 1')).rejects.toMatchObject({ response: { status: 400 } });
    anon.close();
    bad.close();
    c.close();
  });
});
