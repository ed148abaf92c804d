/**
 * Data connectors, usage, cost, health and retention through the full API (`startVigil`), with the ingestion
 * jobs driven by the test (roll-up, purge and health writes called directly, clocks moved forward) instead of
 * timers: per-table selection refuses data; billable flags come from the schema's `billing`; `Usage` rows are
 * written once per hour and table; `SentinelHealth` holds connector status changes and failures; the usage answer
 * carries the cost at the configured price and who uses each table; retention deletes what arrived too long ago.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KqlValue } from '../../src/engine/values.js';
import { RetentionJob } from '../../src/ingest/retention.js';
import { UsageRecorder } from '../../src/ingest/usage.js';
import { runKql } from '../../src/query/query-service.js';
import type { Workspace } from '../../src/workspaces/workspace.js';
import { call, ndjson, startTestVigil, type TestVigil } from '../api/helpers.js';

const W = '/api/workspaces/default';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let t: TestVigil;
let ws: Workspace;

const api = <T = Record<string, unknown>>(method: string, path: string, o: Parameters<typeof call>[3] = {}) =>
  call<T>(t.url, method, path, { token: t.adminToken, ...o });
const ingest = (table: string, rows: readonly unknown[]) =>
  api('POST', `${W}/ingest/${table}`, { raw: ndjson(rows), headers: { 'content-type': 'application/x-ndjson' } });

async function kql(query: string): Promise<KqlValue[][]> {
  const o = await runKql(ws.query, query);
  if (!o.result) throw new Error(`query failed: ${JSON.stringify(o.error ?? o.diagnostics)}`);
  try {
    return await o.result.rows();
  } finally {
    await o.result.close();
  }
}

const syslog = (n: number, tag = 'x') =>
  Array.from({ length: n }, (_, i) => ({
    Computer: `host-${i % 3}`,
    SyslogMessage: `${tag} message ${i}`,
    Facility: 'auth',
    SeverityLevel: 'info',
    ProcessID: i,
  }));

beforeAll(async () => {
  t = await startTestVigil({
    workspace: { engine: { threads: 1, connections: 2 }, scheduler: false, ingestJobs: false, automation: false },
  });
  ws = t.vigil.manager.get('default') as Workspace;
});

afterAll(async () => {
  await t?.dispose();
});

describe('data connectors', () => {
  it('deselecting a table of a connector refuses its data; selecting it again accepts it', async () => {
    const off = await api('PATCH', `${W}/connectors/syslog`, { body: { tables: { Syslog: false } } });
    expect(off.status, off.text).toBe(200);
    expect(off.json).toMatchObject({ id: 'syslog', enabled: true, tables: [{ name: 'Syslog', enabled: false }] });
    const refused = await ingest('Syslog', syslog(2));
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ error: { code: 'table_disabled' } });
    expect(String((refused.json as { error: { message: string } }).error.message)).toContain('not selected');

    const on = await api('PATCH', `${W}/connectors/syslog`, { body: { tables: { Syslog: true } } });
    expect(on.json).toMatchObject({ tables: [{ name: 'Syslog', enabled: true }] });
    const ok = await ingest('Syslog', syslog(5));
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toMatchObject({ rowsIngested: 5 });
  });

  it('refuses tables of another connector and unknown connectors', async () => {
    const foreign = await api('PATCH', `${W}/connectors/syslog`, { body: { tables: { SecurityEvent: false } } });
    expect(foreign.status).toBe(400);
    expect(foreign.json).toMatchObject({ error: { code: 'invalid_table' } });
    expect((await api('PATCH', `${W}/connectors/nope`, { body: { enabled: true } })).status).toBe(404);
    expect((await api('PATCH', `${W}/connectors/syslog`, { body: {} })).status).toBe(400);
  });

  it('lists status, last data, rows per hour and selection per connector', async () => {
    const list = await api<{ items: Record<string, unknown>[] }>('GET', `${W}/connectors?limit=100`);
    expect(list.status).toBe(200);
    const s = list.json.items.find((c) => c.id === 'syslog') as Record<string, unknown>;
    expect(s).toMatchObject({
      enabled: true,
      status: 'Connected',
      tables: [{ name: 'Syslog', enabled: true, rows: 5 }],
    });
    expect(s.lastData).toEqual(expect.any(String));
    const hourly = s.hourly as { rows: number; bytes: number }[];
    expect(hourly.reduce((n, h) => n + h.rows, 0)).toBe(5);
    expect(hourly.reduce((n, h) => n + h.bytes, 0)).toBeGreaterThan(0);
    const office = list.json.items.find((c) => c.id === 'office-365');
    expect(office).toMatchObject({ status: 'NoData', lastData: null });
  });
});

describe('billable flags from the schema', () => {
  it('alerts, incidents and the free Sentinel sources are free; raw tables and custom tables are billable', async () => {
    const all = await api<{ items: { name: string; billable: boolean; retentionDays: number }[] }>(
      'GET',
      `${W}/tables?limit=1000`,
    );
    const billable = new Map(all.json.items.map((x) => [x.name, x.billable]));
    for (const free of ['SecurityAlert', 'SecurityIncident', 'OfficeActivity', 'AzureActivity', 'Usage'])
      expect(billable.get(free), free).toBe(false);
    for (const paid of ['DeviceProcessEvents', 'AlertInfo', 'SigninLogs', 'Syslog', 'CommonSecurityLog'])
      expect(billable.get(paid), paid).toBe(true);
    await api('PUT', `${W}/tables/Billing_CL`, { body: { columns: [{ name: 'Msg', type: 'string' }] } });
    expect((await api('GET', `${W}/tables/Billing_CL`)).json).toMatchObject({ billable: true, retentionDays: 90 });
  });
});

describe('usage and cost', () => {
  it('reports rows, billable bytes and cost per table, with the rules and hunts that use each table', async () => {
    expect((await ingest('AzureActivity', [{ OperationNameValue: 'a' }, { OperationNameValue: 'b' }])).status).toBe(
      200,
    );
    expect((await ingest('CommonSecurityLog', [{ DeviceVendor: 'v', Activity: 'x' }])).status).toBe(200);
    // A rule reading Syslog, and a hunt naming AzureActivity.
    const rule = await api('POST', `${W}/rules`, {
      body: {
        enabled: true,
        yaml: `id: 6d3f4a1e-0000-4000-8000-0000000000aa
name: Syslog volume
severity: Low
kind: Scheduled
query: Syslog | summarize count() by Computer
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
`,
      },
    });
    expect(rule.status, rule.text).toBe(200);
    const hunt = await api('POST', `${W}/query`, { body: { query: 'AzureActivity | take 5' } });
    expect(hunt.status, hunt.text).toBe(200);
    await ws.audit.flush();

    let u = await api<UsageAnswer>('GET', `${W}/usage?days=30`);
    expect(u.status, u.text).toBe(200);
    expect(u.json.pricePerGb).toBeNull();
    const table = (name: string) => u.json.tables.find((x) => x.table === name) as UsageAnswer['tables'][number];
    expect(table('Syslog')).toMatchObject({ rows: 5, billable: true, cost: null, huntQueries: 0, unused: false });
    expect(table('Syslog').billableBytes).toBe(table('Syslog').bytes);
    expect(table('Syslog').rules).toEqual([
      { id: '6d3f4a1e-0000-4000-8000-0000000000aa', name: 'Syslog volume', enabled: true },
    ]);
    expect(table('AzureActivity')).toMatchObject({
      rows: 2,
      billable: false,
      billableBytes: 0,
      huntQueries: 1,
      unused: false,
    });
    expect(table('AzureActivity').lastQueried).toEqual(expect.any(String));
    expect(table('CommonSecurityLog')).toMatchObject({
      rows: 1,
      billable: true,
      rules: [],
      huntQueries: 0,
      unused: true,
    });
    const day = new Date().toISOString().slice(0, 10);
    expect(u.json.points).toContainEqual(expect.objectContaining({ day, table: 'Syslog', rows: 5, billable: true }));

    const price = await api('PATCH', `${W}/usage/settings`, { body: { pricePerGb: 4.3, currency: 'EUR' } });
    expect(price.json).toEqual({ pricePerGb: 4.3, currency: 'EUR' });
    expect((await api('PATCH', `${W}/usage/settings`, { body: { pricePerGb: -1 } })).status).toBe(400);
    u = await api<UsageAnswer>('GET', `${W}/usage`);
    expect(u.json).toMatchObject({ pricePerGb: 4.3, currency: 'EUR', days: 30 });
    const s = table('Syslog');
    expect(s.cost).toBeCloseTo((s.billableBytes / 1024 ** 3) * 4.3, 4);
    expect(table('AzureActivity').cost).toBe(0);
    expect(u.json.totals.billableBytes).toBe(u.json.tables.reduce((n, x) => n + x.billableBytes, 0));
  });

  it('rolls closed hours up into the Usage table once, also when asked again', async () => {
    const later = new UsageRecorder({
      engine: ws.engine,
      spoolDir: join(ws.dir, 'spool', 'usage-test'),
      billable: (x) => ws.ingest.billable(x),
      connectorOf: (x) => (x === 'Syslog' ? 'syslog' : undefined),
      clock: () => Date.now() + 2 * HOUR,
    });
    const written = await later.rollup();
    expect(written).toBeGreaterThanOrEqual(3);
    expect(await later.rollup()).toBe(0);
    const rows = await kql(
      `Usage | where DataType in ("Syslog", "AzureActivity")
       | summarize Rows = sum(Rows), Billable = sum(BillableBytes), Bytes = sum(Bytes), MB = sum(Quantity),
                   IsBillable = take_any(IsBillable), Solution = take_any(Solution), Hours = count() by DataType
       | order by DataType asc`,
    );
    expect(rows.length).toBe(2);
    const [azure, sys] = rows as [KqlValue[], KqlValue[]];
    expect(azure.slice(0, 3)).toEqual(['AzureActivity', 2, 0]);
    expect(azure[5]).toBe(false);
    expect(sys.slice(0, 2)).toEqual(['Syslog', 5]);
    expect(sys[2]).toBe(sys[3]);
    expect(Number(sys[4])).toBeCloseTo(Number(sys[3]) / 1024 / 1024, 9);
    expect(sys.slice(5)).toEqual([true, 'syslog', 1]);
  });
});

describe('connector health', () => {
  it('records status changes, fetch failures and successes, and failure summaries in SentinelHealth', async () => {
    await api('PATCH', `${W}/connectors/common-event-format`, { body: { enabled: false } });
    await api('PATCH', `${W}/connectors/common-event-format`, { body: { enabled: true } });
    const bad = await api('POST', `${W}/ingest/CommonSecurityLog`, {
      raw: '{"DeviceVendor": "v",',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    const mixed = await ingest('CommonSecurityLog', [
      { DeviceVendor: 'ok' },
      { DeviceVendor: 'bad', EventCount: 'many' },
    ]);
    expect(mixed.json).toMatchObject({ rowsIngested: 1, rowsRejected: 1 });
    await ws.ingest.health.flush(true);

    const rows = await kql(
      `SentinelHealth | where SentinelResourceType == "Data connector" and SentinelResourceKind == "common-event-format"
       | order by TimeGenerated asc | project OperationName, Status, Description, ExtendedProperties`,
    );
    const ops = rows.map((r) => `${r[0]}:${r[1]}`);
    expect(ops).toContain('Data connector status change:Disabled');
    expect(ops).toContain('Data connector status change:Enabled');
    expect(ops).toContain('Data fetch status change:Failure');
    // The earlier successful write, then the failure, then success again (the mixed request stored a row).
    expect(ops.filter((o) => o === 'Data fetch status change:Success').length).toBeGreaterThanOrEqual(2);
    // Per minute: summed, in case the requests fell on both sides of a minute boundary.
    const summaries = rows.filter((r) => r[0] === 'Data fetch failure summary');
    const total = (k: string) => summaries.reduce((n, r) => n + Number((r[3] as Record<string, number>)[k]), 0);
    expect([total('FailedRequests'), total('RowsRejected')]).toEqual([1, 1]);
    expect(total('RowsIngested')).toBeGreaterThanOrEqual(1);
    expect(summaries.map((r) => r[1])).toContain('Warning');
    expect(String(rows.find((r) => r[1] === 'Disabled')?.[2])).toContain('turned off by admin');

    const h = await api<{ connectors: Record<string, unknown>[]; events: Record<string, unknown>[] }>(
      'GET',
      `${W}/health?days=1`,
    );
    expect(h.status, h.text).toBe(200);
    const cef = h.json.connectors.find((c) => c.id === 'common-event-format') as Record<string, unknown>;
    expect(cef.status).toBe('Connected');
    const errors = cef.errors as { code: string }[];
    expect(errors.map((e) => e.code)).toEqual(['rows_rejected', 'malformed_json']);
    expect(h.json.events.filter((e) => e.connector === 'common-event-format').length).toBe(rows.length);
  });
});

describe('retention', () => {
  it('validates the setting and purges rows that arrived more than the retention ago', async () => {
    expect((await api('PATCH', `${W}/tables/Syslog`, { body: { retentionDays: 0 } })).status).toBe(400);
    expect((await api('PATCH', `${W}/tables/Nope`, { body: { retentionDays: 5 } })).status).toBe(404);
    const set = await api('PATCH', `${W}/tables/Syslog`, { body: { retentionDays: 1 } });
    expect(set.json).toEqual({ name: 'Syslog', retentionDays: 1 });
    const before = Number((await kql('AzureActivity | count'))[0]?.[0]);
    const purged: string[] = [];
    const job = new RetentionJob({
      engine: ws.engine,
      retentionDays: (x) => ws.dataSettings.retentionDays(x),
      clock: () => Date.now() + 2 * DAY,
      onPurged: (r) => purged.push(`${r.table}:${r.rows}`),
    });
    const results = await job.run();
    expect(purged).toEqual(['Syslog:5']);
    expect(results.find((r) => r.table === 'AzureActivity')).toMatchObject({ retentionDays: 90, rows: 0 });
    expect(await kql('Syslog | count')).toEqual([[0]]);
    expect(Number((await kql('AzureActivity | count'))[0]?.[0])).toBe(before);
    // Back to the default.
    expect((await api('PATCH', `${W}/tables/Syslog`, { body: { retentionDays: null } })).json).toEqual({
      name: 'Syslog',
      retentionDays: 90,
    });
  });
});

interface UsageAnswer {
  pricePerGb: number | null;
  currency: string;
  days: number;
  points: { day: string; table: string; rows: number; bytes: number; billable: boolean }[];
  tables: {
    table: string;
    rows: number;
    bytes: number;
    billableBytes: number;
    billable: boolean;
    cost: number | null;
    rules: { id: string; name: string; enabled: boolean }[];
    huntQueries: number;
    lastQueried: string | null;
    unused: boolean;
  }[];
  totals: { rows: number; bytes: number; billableBytes: number; cost: number | null };
}
