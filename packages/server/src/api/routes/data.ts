/**
 * Tables, data connectors, data collection rules and ingestion. Ingestion routes read their bodies as raw bytes
 * (the ingestion service scans them itself; gzip is accepted) and are mounted in a context without JSON parsing.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { FastifyRequest } from 'fastify';
import { IngestError } from '../../ingest/errors.js';
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS } from '../../ingest/retention.js';
import type { RequestContext } from '../../ingest/service.js';
import { runKql } from '../../query/query-service.js';
import { CONNECTORS, type ConnectorDefinition, connectorOf } from '../../workspaces/content.js';
import { tableConsumers } from '../../workspaces/table-consumers.js';
import type { Workspace } from '../../workspaces/workspace.js';
import { ApiError, notFound } from '../errors.js';
import { type AnyRoute, pageList, route } from '../route.js';
import { ErrorSchema, PagingQuery, page, S, WorkspaceParam } from '../schema.js';

const gunzipAsync = promisify(gunzip);
const str = S.string();
const W = (permission: 'read' | 'author' | 'ingest') => ({ kind: 'workspace', permission }) as const;
const WS = S.object(WorkspaceParam, ['workspace']);
const E = {
  400: { description: 'Invalid request', schema: ErrorSchema },
  404: { description: 'Not found', schema: ErrorSchema },
};
const ColumnSchema = S.object({ name: str, type: str }, ['name', 'type']);
const TableSchema = S.open(
  {
    name: str,
    columns: S.array(ColumnSchema),
    rows: S.integer(),
    ingestedBytes: S.integer(),
    storageBytes: S.integer(),
    lastIngestion: S.nullable(str),
    connector: S.nullable(str),
    billable: S.boolean(),
    retentionDays: S.integer(),
    selected: S.boolean(),
  },
  ['name', 'columns'],
);
const HourSchema = S.object({ hour: str, rows: S.integer(), bytes: S.integer() }, ['hour', 'rows', 'bytes']);
const ErrorEntry = S.object({ at: str, table: S.nullable(str), code: str, message: str }, ['at', 'code', 'message']);
const ConnectorSchema = S.open(
  {
    id: str,
    name: str,
    description: str,
    enabled: S.boolean(),
    status: S.enum(['Connected', 'Failing', 'NoData', 'Disabled']),
    lastData: S.nullable(str),
    lastError: S.nullable(str),
    errors: S.array(ErrorEntry),
    hourly: S.array(HourSchema, { description: 'Rows and bytes per hour over the last 24 hours' }),
    tables: S.array(
      S.open({
        name: str,
        enabled: S.boolean(),
        billable: S.boolean(),
        rows: S.integer(),
        lastIngestion: S.nullable(str),
      }),
    ),
  },
  ['id', 'name', 'enabled', 'status', 'tables'],
);
const ConsumerSchema = {
  rules: S.array(S.object({ id: str, name: str, enabled: S.boolean() }, ['id', 'name', 'enabled'])),
  huntQueries: S.integer({ description: 'Queries that named the table in the period' }),
  lastQueried: S.nullable(str),
  unused: S.boolean({ description: 'No enabled rule reads it and no query named it in the period' }),
};
const UsageSchema = S.object(
  {
    from: str,
    to: str,
    days: S.integer(),
    pricePerGb: S.nullable(S.number()),
    currency: str,
    points: S.array(
      S.object({ day: str, table: str, rows: S.integer(), bytes: S.integer(), billable: S.boolean() }, [
        'day',
        'table',
        'rows',
        'bytes',
        'billable',
      ]),
    ),
    tables: S.array(
      S.object(
        {
          table: str,
          connector: S.nullable(str),
          selected: S.boolean(),
          rows: S.integer(),
          bytes: S.integer(),
          billableBytes: S.integer(),
          billable: S.boolean(),
          cost: S.nullable(S.number()),
          ...ConsumerSchema,
        },
        ['table', 'rows', 'bytes', 'billableBytes', 'billable', 'cost', 'rules', 'huntQueries', 'unused'],
      ),
    ),
    totals: S.object(
      { rows: S.integer(), bytes: S.integer(), billableBytes: S.integer(), cost: S.nullable(S.number()) },
      ['rows', 'bytes', 'billableBytes', 'cost'],
    ),
  },
  ['from', 'to', 'days', 'pricePerGb', 'currency', 'points', 'tables', 'totals'],
);
const HealthEvent = S.object(
  {
    time: str,
    connector: str,
    operation: str,
    status: str,
    description: str,
    reason: str,
    details: S.any(),
  },
  ['time', 'connector', 'operation', 'status', 'description'],
);
const GB = 1024 ** 3;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Tables a connector feeds: the schema's and the storage's tables that belong to it. */
function connectorTables(ws: Workspace, c: ConnectorDefinition): string[] {
  return ws.ingest
    .definitions()
    .map((d) => d.name)
    .filter((t) => connectorOf(t)?.id === c.id);
}

/** A connector's state for the API: on/off, status, last data, errors, per-table selection and counts. */
async function connectorView(
  ws: Workspace,
  c: ConnectorDefinition,
  stats: Awaited<ReturnType<Workspace['engine']['stats']>>,
  hourly: Map<string, { hour: string; rows: number; bytes: number }[]>,
) {
  const enabled = ws.connectors.enabled(c.id);
  const tables = connectorTables(ws, c).map((t) => {
    const st = stats.find((x) => x.table === t);
    return {
      name: t,
      enabled: ws.dataSettings.selected(t),
      billable: ws.ingest.billable(t),
      rows: st?.rows ?? 0,
      lastIngestion: st?.lastIngestion ?? null,
    };
  });
  const lastData = tables.reduce<string | null>(
    (m, t) => (t.lastIngestion && (!m || t.lastIngestion > m) ? t.lastIngestion : m),
    null,
  );
  const h = ws.ingest.health.state(c.id);
  const status = !enabled ? 'Disabled' : h.fetch === 'Failure' ? 'Failing' : lastData ? 'Connected' : 'NoData';
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    enabled,
    status,
    lastData,
    lastError: h.lastErrorAt,
    errors: h.errors,
    hourly: hourly.get(c.id) ?? [],
    tables,
  };
}

/** Rows and bytes per connector per hour over the last 24 hours (from the load history). */
async function hourlyByConnector(ws: Workspace): Promise<Map<string, { hour: string; rows: number; bytes: number }[]>> {
  const now = Date.now();
  const from = new Date(Math.floor((now - 23 * HOUR) / HOUR) * HOUR);
  const points = await ws.ingest.usage.points(from, new Date(now + HOUR));
  const by = new Map<string, Map<string, { hour: string; rows: number; bytes: number }>>();
  for (const p of points) {
    const c = connectorOf(p.table)?.id;
    if (!c) continue;
    const hours = by.get(c) ?? new Map();
    const h = hours.get(p.hour) ?? { hour: p.hour, rows: 0, bytes: 0 };
    h.rows += p.rows;
    h.bytes += p.bytes;
    hours.set(p.hour, h);
    by.set(c, hours);
  }
  return new Map([...by].map(([c, hours]) => [c, [...hours.values()]]));
}
const IngestAnswer = S.open({
  requestId: str,
  batchId: S.nullable(str),
  rowsReceived: S.integer(),
  rowsIngested: S.integer(),
  rowsRejected: S.integer(),
  duplicate: S.boolean(),
});
const JSON_TYPES = new Set([
  '',
  'application/json',
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/json-seq',
  'text/json',
  'text/plain',
]);
const RAW_TYPES = ['application/json', 'application/x-ndjson', 'text/csv'];

export const tableRoutes: AnyRoute[] = [
  route<{ workspace: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/tables',
    operationId: 'tables.list',
    summary: 'Tables with their columns, row counts, sizes and last ingestion',
    tags: ['Tables and connectors'],
    access: W('read'),
    params: WS,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'A page of tables', schema: page(TableSchema) }, ...E },
    handler: async (ctx) => {
      const stats = new Map((await ctx.ws.engine.stats()).map((s) => [s.table, s]));
      const all = ctx.ws.ingest.definitions().map((d) => ({
        name: d.name,
        columns: d.columns.map((c) => ({ name: c.name, type: c.type })),
        rows: stats.get(d.name)?.rows ?? 0,
        ingestedBytes: stats.get(d.name)?.ingestedBytes ?? 0,
        storageBytes: stats.get(d.name)?.storageBytes ?? 0,
        lastIngestion: stats.get(d.name)?.lastIngestion ?? null,
        connector: connectorOf(d.name)?.id ?? null,
        billable: ctx.ws.ingest.billable(d.name),
        retentionDays: ctx.ws.dataSettings.retentionDays(d.name),
        selected: ctx.ws.dataSettings.selected(d.name),
      }));
      return pageList(all, (t) => t.name, ctx.query.cursor, ctx.query.limit);
    },
  }),
  route<{ workspace: string; name: string }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/tables/:name',
    operationId: 'tables.get',
    summary: "A table's columns, row count, billing and retention",
    tags: ['Tables and connectors'],
    access: W('read'),
    params: S.object({ ...WorkspaceParam, name: str }, ['workspace', 'name']),
    responses: { 200: { description: 'The table', schema: TableSchema }, ...E },
    handler: async (ctx) => {
      const name = ctx.params.name;
      const columns = ctx.ws.ingest.catalog.columns(name);
      if (!columns) throw notFound(`table ${name}`);
      const st = ctx.ws.engine.storage(name) ? (await ctx.ws.engine.stats()).find((s) => s.table === name) : undefined;
      return {
        name,
        columns,
        rows: st?.rows ?? 0,
        ingestedBytes: st?.ingestedBytes ?? 0,
        storageBytes: st?.storageBytes ?? 0,
        lastIngestion: st?.lastIngestion ?? null,
        connector: connectorOf(name)?.id ?? null,
        billable: ctx.ws.ingest.billable(name),
        retentionDays: ctx.ws.dataSettings.retentionDays(name),
        selected: ctx.ws.dataSettings.selected(name),
      };
    },
  }),
  route<{ workspace: string; name: string }, unknown, { retentionDays: number | null }>({
    method: 'PATCH',
    path: '/api/workspaces/:workspace/tables/:name',
    operationId: 'tables.update',
    summary: "Set a table's retention in days (null: the workspace default); older rows are purged hourly",
    tags: ['Tables and connectors'],
    access: W('author'),
    params: S.object({ ...WorkspaceParam, name: str }, ['workspace', 'name']),
    body: S.object(
      {
        retentionDays: S.nullable(S.integer({ minimum: MIN_RETENTION_DAYS, maximum: MAX_RETENTION_DAYS })),
      },
      ['retentionDays'],
    ),
    responses: {
      200: {
        description: 'The retention',
        schema: S.object({ name: str, retentionDays: S.integer() }, ['name', 'retentionDays']),
      },
      ...E,
    },
    handler: async (ctx) => {
      const name = ctx.params.name;
      if (!ctx.ws.ingest.catalog.columns(name)) throw notFound(`table ${name}`);
      await ctx.ws.dataSettings.setRetention(name, ctx.body.retentionDays, ctx.actor.id, new Date().toISOString());
      ctx.audit.target = name;
      return { name, retentionDays: ctx.ws.dataSettings.retentionDays(name) };
    },
  }),
  route<{ workspace: string; name: string }, unknown, { columns: { name: string; type: string }[] }>({
    method: 'PUT',
    path: '/api/workspaces/:workspace/tables/:name',
    operationId: 'tables.putCustom',
    summary: 'Create a custom table (`*_CL`) or add columns to one',
    tags: ['Tables and connectors'],
    access: W('author'),
    params: S.object({ ...WorkspaceParam, name: str }, ['workspace', 'name']),
    body: S.object(
      {
        columns: S.array(S.object({ name: str, type: str, description: str }, ['name', 'type']), {
          minItems: 1,
          maxItems: 1000,
        }),
      },
      ['columns'],
    ),
    responses: {
      200: { description: 'The table', schema: TableSchema },
      ...E,
      409: { description: 'Type conflict', schema: ErrorSchema },
    },
    handler: async (ctx) => ctx.ws.ingest.catalog.putCustom(ctx.params.name, ctx.body.columns),
  }),
  route<{ workspace: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/connectors',
    operationId: 'connectors.list',
    summary: 'Data connectors: on/off, status, table selection, rows and bytes per hour, recent errors',
    tags: ['Tables and connectors'],
    access: W('read'),
    params: WS,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'Connectors', schema: page(ConnectorSchema) }, ...E },
    handler: async (ctx) => {
      const stats = await ctx.ws.engine.stats();
      const hourly = await hourlyByConnector(ctx.ws);
      const all = await Promise.all(CONNECTORS.map((c) => connectorView(ctx.ws, c, stats, hourly)));
      return pageList(all, (c) => c.id, ctx.query.cursor, ctx.query.limit);
    },
  }),
  route<{ workspace: string; id: string }, unknown, { enabled?: boolean; tables?: Record<string, boolean> }>({
    method: 'PATCH',
    path: '/api/workspaces/:workspace/connectors/:id',
    operationId: 'connectors.update',
    summary:
      'Turn a data connector on or off, and select its tables ("Connect events"): an off connector or a deselected table refuses data',
    tags: ['Tables and connectors'],
    access: W('author'),
    params: S.object({ ...WorkspaceParam, id: str }, ['workspace', 'id']),
    body: S.object(
      {
        enabled: S.boolean(),
        tables: S.map({ additionalProperties: S.boolean(), description: 'Table name → selected' }),
      },
      [],
      { minProperties: 1 },
    ),
    responses: { 200: { description: 'The connector', schema: ConnectorSchema }, ...E },
    handler: async (ctx) => {
      const c = CONNECTORS.find((x) => x.id === ctx.params.id);
      if (!c) throw notFound(`connector ${ctx.params.id}`);
      const tables = ctx.body.tables ?? {};
      const foreign = Object.keys(tables).filter((t) => connectorOf(t)?.id !== c.id);
      if (foreign.length > 0)
        throw new ApiError(400, 'invalid_table', `not tables of ${c.name}: ${foreign.join(', ')}`, {
          tables: foreign,
        });
      const at = new Date().toISOString();
      if (ctx.body.enabled !== undefined) await ctx.ws.connectors.setEnabled(c.id, ctx.body.enabled, ctx.actor.id, at);
      if (Object.keys(tables).length > 0) await ctx.ws.dataSettings.select(tables, ctx.actor.id, at);
      ctx.ws.ingest.health.changed(
        c,
        {
          ...(ctx.body.enabled !== undefined ? { enabled: ctx.body.enabled } : {}),
          ...(Object.keys(tables).length > 0 ? { tables } : {}),
        },
        ctx.me().user.name,
      );
      ctx.audit.target = c.id;
      return connectorView(ctx.ws, c, await ctx.ws.engine.stats(), await hourlyByConnector(ctx.ws));
    },
  }),
  route<{ workspace: string }, { days?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/usage',
    operationId: 'usage.get',
    summary:
      'Ingestion per table (rows, bytes, billable bytes, cost at the configured price per GB) and who uses each table (rules, hunting queries)',
    tags: ['Tables and connectors'],
    access: W('read'),
    params: WS,
    query: S.object({ days: S.integer({ minimum: 1, maximum: 365, description: 'Period in days (default 30)' }) }),
    responses: { 200: { description: 'Usage and cost', schema: UsageSchema }, ...E },
    handler: async (ctx) => {
      const days = ctx.query.days ?? 30;
      const now = Date.now();
      const from = new Date(Math.floor((now - days * DAY) / HOUR) * HOUR);
      const to = new Date(now + HOUR);
      const points = await ctx.ws.ingest.usage.points(from, to);
      const { pricePerGb, currency } = ctx.ws.dataSettings.prices;
      const byDay = new Map<string, { day: string; table: string; rows: number; bytes: number; billable: boolean }>();
      const byTable = new Map<string, { rows: number; bytes: number; billableBytes: number; billable: boolean }>();
      for (const p of points) {
        const day = p.hour.slice(0, 10);
        const d = byDay.get(`${day}\u0000${p.table}`) ?? {
          day,
          table: p.table,
          rows: 0,
          bytes: 0,
          billable: p.billable,
        };
        d.rows += p.rows;
        d.bytes += p.bytes;
        byDay.set(`${day}\u0000${p.table}`, d);
        const t = byTable.get(p.table) ?? { rows: 0, bytes: 0, billableBytes: 0, billable: p.billable };
        t.rows += p.rows;
        t.bytes += p.bytes;
        t.billableBytes += p.billableBytes;
        byTable.set(p.table, t);
      }
      // Tables in storage without ingestion in the period are listed too: their cost is nil, their use is not.
      for (const t of ctx.ws.engine.tables())
        if (!byTable.has(t.name))
          byTable.set(t.name, { rows: 0, bytes: 0, billableBytes: 0, billable: ctx.ws.ingest.billable(t.name) });
      const consumers = await tableConsumers(ctx.ws, [...byTable.keys()], { days, now });
      const cost = (bytes: number) => (pricePerGb === null ? null : Math.round((bytes / GB) * pricePerGb * 1e4) / 1e4);
      const tables = [...byTable]
        .map(([table, t]) => {
          const u = consumers.get(table) ?? { rules: [], huntQueries: 0, lastQueried: null };
          return {
            table,
            connector: connectorOf(table)?.id ?? null,
            selected: ctx.ws.dataSettings.selected(table),
            ...t,
            cost: cost(t.billableBytes),
            ...u,
            unused: !u.rules.some((r) => r.enabled) && u.huntQueries === 0,
          };
        })
        .sort((a, b) => b.billableBytes - a.billableBytes || b.bytes - a.bytes || (a.table < b.table ? -1 : 1));
      const sum = (f: (t: (typeof tables)[number]) => number) => tables.reduce((n, t) => n + f(t), 0);
      return {
        from: from.toISOString(),
        to: new Date(now).toISOString(),
        days,
        pricePerGb,
        currency,
        points: [...byDay.values()].sort((a, b) =>
          a.day < b.day ? -1 : a.day > b.day ? 1 : a.table < b.table ? -1 : 1,
        ),
        tables,
        totals: {
          rows: sum((t) => t.rows),
          bytes: sum((t) => t.bytes),
          billableBytes: sum((t) => t.billableBytes),
          cost: cost(sum((t) => t.billableBytes)),
        },
      };
    },
  }),
  route<{ workspace: string }, unknown, { pricePerGb?: number | null; currency?: string }>({
    method: 'PATCH',
    path: '/api/workspaces/:workspace/usage/settings',
    operationId: 'usage.settings',
    summary: 'Set the price per billable GB (and its currency) used for cost estimates',
    tags: ['Tables and connectors'],
    access: W('author'),
    params: WS,
    body: S.object(
      { pricePerGb: S.nullable(S.number({ minimum: 0 })), currency: S.string({ minLength: 1, maxLength: 8 }) },
      [],
      { minProperties: 1 },
    ),
    responses: {
      200: {
        description: 'The price settings',
        schema: S.object({ pricePerGb: S.nullable(S.number()), currency: str }, ['pricePerGb', 'currency']),
      },
      ...E,
    },
    handler: async (ctx) => ctx.ws.dataSettings.setPrice(ctx.body, ctx.actor.id, new Date().toISOString()),
  }),
  route<{ workspace: string }, { days?: number; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/health',
    operationId: 'health.get',
    summary:
      "Data connectors' health: current status and errors, and their SentinelHealth events (status changes, failures)",
    tags: ['Tables and connectors'],
    access: W('read'),
    params: WS,
    query: S.object({
      days: S.integer({ minimum: 1, maximum: 90, description: 'Events of the last N days (default 7)' }),
      limit: S.integer({ minimum: 1, maximum: 1000, description: 'Most recent events first (default 200)' }),
    }),
    responses: {
      200: {
        description: 'Health',
        schema: S.object(
          {
            connectors: S.array(
              S.object(
                {
                  id: str,
                  name: str,
                  enabled: S.boolean(),
                  status: str,
                  lastData: S.nullable(str),
                  lastError: S.nullable(str),
                  errors: S.array(ErrorEntry),
                },
                ['id', 'name', 'enabled', 'status', 'lastData', 'lastError', 'errors'],
              ),
            ),
            events: S.array(HealthEvent),
          },
          ['connectors', 'events'],
        ),
      },
      ...E,
    },
    handler: async (ctx) => {
      const stats = await ctx.ws.engine.stats();
      const connectors = await Promise.all(
        CONNECTORS.map(async (c) => {
          const v = await connectorView(ctx.ws, c, stats, new Map());
          return {
            id: v.id,
            name: v.name,
            enabled: v.enabled,
            status: v.status,
            lastData: v.lastData,
            lastError: v.lastError,
            errors: v.errors,
          };
        }),
      );
      await ctx.ws.ingest.health.flush(false);
      const days = ctx.query.days ?? 7;
      const limit = ctx.query.limit ?? 200;
      const outcome = await runKql(
        ctx.ws.query,
        `SentinelHealth | where TimeGenerated > ago(${days}d) and SentinelResourceType == "Data connector"
         | top ${limit} by TimeGenerated desc
         | project TimeGenerated, SentinelResourceKind, OperationName, Status, Description, Reason, ExtendedProperties`,
      );
      const rows = outcome.result ? await outcome.result.rows() : [];
      await outcome.result?.close();
      if (outcome.error)
        throw new ApiError(500, 'internal', `health events could not be read: ${outcome.error.message}`);
      const events = rows.map((r) => ({
        time: String(r[0]),
        connector: String(r[1] ?? ''),
        operation: String(r[2] ?? ''),
        status: String(r[3] ?? ''),
        description: String(r[4] ?? ''),
        reason: String(r[5] ?? ''),
        details: r[6] ?? null,
      }));
      return { connectors, events };
    },
  }),
  route<{ workspace: string; id: string }, unknown, Record<string, unknown>>({
    method: 'PUT',
    path: '/api/workspaces/:workspace/dataCollectionRules/:id',
    operationId: 'dcr.put',
    summary: 'Create or replace a data collection rule (streams, transformKql, output tables)',
    tags: ['Tables and connectors'],
    access: W('author'),
    params: S.object({ ...WorkspaceParam, id: str }, ['workspace', 'id']),
    body: S.map({ description: 'An Azure data collection rule resource (properties.streamDeclarations, dataFlows)' }),
    responses: {
      200: {
        description: 'The rule',
        schema: S.open({ id: str, streams: S.array(S.open({ stream: str, table: str })) }),
      },
      ...E,
    },
    handler: async (ctx) => {
      const rule = await ctx.ws.ingest.putRule(ctx.params.id, ctx.body);
      return {
        id: rule.id,
        streams: [...rule.flows.values()].map((f) => ({
          stream: f.stream,
          table: f.table,
          transformKql: f.transformKql,
        })),
      };
    },
  }),
  route<{ workspace: string; id: string }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/dataCollectionRules/:id',
    operationId: 'dcr.get',
    summary: 'A data collection rule as stored',
    tags: ['Tables and connectors'],
    access: W('read'),
    params: S.object({ ...WorkspaceParam, id: str }, ['workspace', 'id']),
    responses: { 200: { description: 'The rule', schema: S.map() }, ...E },
    handler: async (ctx) => {
      const rule = ctx.ws.ingest.rules.get(ctx.params.id);
      if (!rule) throw notFound(`data collection rule ${ctx.params.id}`);
      return rule.definition;
    },
  }),
];

const ALERT_TABLES = new Set(['SecurityAlert', 'AlertInfo', 'AlertEvidence']);

/** The records of an NDJSON or JSON-array body (alert tables only: small bodies). */
function jsonRecords(body: Buffer): Record<string, unknown>[] {
  const text = body.toString('utf8').trim();
  if (text === '') return [];
  const parsed = text.startsWith('[')
    ? (JSON.parse(text) as unknown[])
    : text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as unknown);
  return parsed.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null && !Array.isArray(r));
}

/**
 * Alerts of security products (SecurityAlert, Defender's AlertInfo / AlertEvidence) become incidents once their rows
 * are committed: the connector is an alert source.
 */
async function alertsToIncidents(
  ws: Workspace,
  byTable: ReadonlyMap<string, Record<string, unknown>[]>,
): Promise<{ alerts: number; incidents: number; problems: number } | null> {
  let alerts = 0;
  let problems = 0;
  const incidents = new Set<string>();
  for (const [table, rows] of byTable) {
    if (!ALERT_TABLES.has(table) || rows.length === 0) continue;
    const r = await ws.incidents.ingestProductAlerts(rows, {
      table: table as 'SecurityAlert' | 'AlertInfo' | 'AlertEvidence',
    });
    alerts += r.alerts.length;
    problems += r.problems.length;
    for (const a of r.alerts) if (a.incidentId) incidents.add(a.incidentId);
  }
  return alerts + problems > 0 ? { alerts, incidents: incidents.size, problems } : null;
}

function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function unsupported(type: string): IngestError {
  return new IngestError(
    'unsupported_media_type',
    `unsupported content type '${type}': send NDJSON, a JSON array or text/csv`,
  );
}

async function readBody(request: FastifyRequest, limit: number): Promise<Buffer> {
  const raw = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return raw;
  if (encoding !== 'gzip' && encoding !== 'x-gzip')
    throw new IngestError('unsupported_encoding', `unsupported Content-Encoding '${encoding}' (gzip is accepted)`);
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError)
      throw new IngestError('body_too_large', `the decompressed body is larger than the limit of ${limit} bytes`);
    throw new IngestError('invalid_body', `the gzip body could not be decompressed: ${(e as Error).message}`);
  }
}

function context(request: FastifyRequest, source: string): RequestContext & { compressed: boolean } {
  const header = request.headers['x-ms-client-request-id'];
  const query = (request.query as { batchId?: string } | undefined)?.batchId;
  const batch = (Array.isArray(header) ? header[0] : header) ?? query;
  return {
    requestId: request.id,
    ...(batch ? { clientBatchId: batch.slice(0, 256) } : {}),
    source,
    compressed: (request.headers['content-encoding'] ?? '').toLowerCase().includes('gzip'),
  };
}

/** Ingestion routes; `bodyLimit` is the largest decompressed body. */
export function ingestRoutes(bodyLimit: number): AnyRoute[] {
  const batchQuery = S.object({
    batchId: S.string({ maxLength: 256, description: 'Client batch id (accepted once)' }),
    'api-version': str,
  });
  return [
    route<{ workspace: string }>({
      method: 'POST',
      path: '/api/workspaces/:workspace/ingest/defender',
      operationId: 'ingest.defender',
      summary: "Defender's streaming API records (`{records: [...]}`), routed to tables by category",
      tags: ['Ingestion'],
      access: W('ingest'),
      params: WS,
      query: batchQuery,
      rawBody: ['application/json', 'application/x-ndjson'],
      responses: {
        200: { description: 'Rows ingested per table', schema: IngestAnswer },
        ...E,
        413: { description: 'Too large', schema: ErrorSchema },
        429: { description: 'Writer busy: retry after Retry-After', schema: ErrorSchema },
      },
      handler: async (ctx) => {
        const type = mediaType(ctx.request);
        if (!JSON_TYPES.has(type)) throw unsupported(type);
        ctx.ws.ingest.admit(Number(ctx.request.headers['content-length'] ?? 0) || 0);
        const body = await readBody(ctx.request, bodyLimit);
        const a = await ctx.ws.ingest.ingestDefender(body, context(ctx.request, 'POST /ingest/defender'));
        ctx.audit.details = {
          rowsIngested: a.rowsIngested,
          rowsRejected: a.rowsRejected,
          tables: a.tables.map((t) => t.table),
        };
        return a;
      },
    }),
    route<{ workspace: string; table: string }>({
      method: 'POST',
      path: '/api/workspaces/:workspace/ingest/:table',
      operationId: 'ingest.table',
      summary: 'Rows for one table: NDJSON, a JSON array, or CSV with a header (gzip accepted)',
      tags: ['Ingestion'],
      access: W('ingest'),
      params: S.object({ ...WorkspaceParam, table: str }, ['workspace', 'table']),
      query: batchQuery,
      rawBody: RAW_TYPES,
      responses: {
        200: { description: 'Rows ingested', schema: IngestAnswer },
        ...E,
        413: { description: 'Too large', schema: ErrorSchema },
        429: { description: 'Writer busy', schema: ErrorSchema },
      },
      handler: async (ctx) => {
        const type = mediaType(ctx.request);
        const format = type === 'text/csv' || type === 'application/csv' ? 'csv' : 'json';
        if (format === 'json' && !JSON_TYPES.has(type)) throw unsupported(type);
        ctx.ws.ingest.admit(Number(ctx.request.headers['content-length'] ?? 0) || 0);
        const body = await readBody(ctx.request, bodyLimit);
        const a = await ctx.ws.ingest.ingestTable(
          ctx.params.table,
          body,
          format,
          context(ctx.request, `POST /ingest/${ctx.params.table}`),
        );
        ctx.audit.target = ctx.params.table;
        ctx.audit.details = { rowsIngested: a.rowsIngested, rowsRejected: a.rowsRejected, bytes: body.length };
        if (format === 'json' && !a.duplicate && ALERT_TABLES.has(ctx.params.table) && a.rowsIngested > 0) {
          const incidents = await alertsToIncidents(ctx.ws, new Map([[ctx.params.table, jsonRecords(body)]]));
          if (incidents) return { ...a, incidents };
        }
        return a;
      },
    }),
    route<{ workspace: string; id: string; stream: string }>({
      method: 'POST',
      path: '/api/workspaces/:workspace/dataCollectionRules/:id/streams/:stream',
      operationId: 'ingest.logsIngestion',
      summary:
        'The Azure Monitor Logs Ingestion API: a JSON array through the rule’s transformation (204 when all rows are in)',
      tags: ['Ingestion'],
      access: W('ingest'),
      params: S.object({ ...WorkspaceParam, id: str, stream: str }, ['workspace', 'id', 'stream']),
      query: batchQuery,
      rawBody: ['application/json'],
      responses: {
        204: { description: 'Every row ingested' },
        200: { description: 'Some rows rejected', schema: IngestAnswer },
        ...E,
      },
      handler: async (ctx) => {
        const type = mediaType(ctx.request);
        if (!JSON_TYPES.has(type)) throw unsupported(type);
        const body = await readBody(ctx.request, bodyLimit);
        const a = await ctx.ws.ingest.ingestStream(
          ctx.params.id,
          ctx.params.stream,
          body,
          context(ctx.request, `POST /dataCollectionRules/${ctx.params.id}/streams/${ctx.params.stream}`),
        );
        ctx.audit.details = { rowsIngested: a.rowsIngested, rowsRejected: a.rowsRejected };
        if (a.rowsRejected === 0) {
          ctx.reply.status(204);
          return undefined;
        }
        return a;
      },
    }),
  ];
}
