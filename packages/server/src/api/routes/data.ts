/**
 * Tables, data connectors, data collection rules and ingestion. Ingestion routes read their bodies as raw bytes
 * (the ingestion service scans them itself; gzip is accepted) and are mounted in a context without JSON parsing.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { FastifyRequest } from 'fastify';
import { IngestError } from '../../ingest/errors.js';
import type { RequestContext } from '../../ingest/service.js';
import { CONNECTORS, connectorOf } from '../../workspaces/content.js';
import type { Workspace } from '../../workspaces/workspace.js';
import { notFound } from '../errors.js';
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
  },
  ['name', 'columns'],
);
const ConnectorSchema = S.open(
  {
    id: str,
    name: str,
    description: str,
    enabled: S.boolean(),
    tables: S.array(S.open({ name: str, rows: S.integer(), lastIngestion: S.nullable(str) })),
  },
  ['id', 'name', 'enabled'],
);
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
      }));
      return pageList(all, (t) => t.name, ctx.query.cursor, ctx.query.limit);
    },
  }),
  route<{ workspace: string; name: string }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/tables/:name',
    operationId: 'tables.get',
    summary: "A table's columns",
    tags: ['Tables and connectors'],
    access: W('read'),
    params: S.object({ ...WorkspaceParam, name: str }, ['workspace', 'name']),
    responses: { 200: { description: 'The table', schema: TableSchema }, ...E },
    handler: async (ctx) => {
      const columns = ctx.ws.ingest.catalog.columns(ctx.params.name);
      if (!columns) throw notFound(`table ${ctx.params.name}`);
      return { name: ctx.params.name, columns, connector: connectorOf(ctx.params.name)?.id ?? null };
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
    summary: 'Data connectors: on/off, their tables and their health (rows, last ingestion)',
    tags: ['Tables and connectors'],
    access: W('read'),
    params: WS,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'Connectors', schema: page(ConnectorSchema) }, ...E },
    handler: async (ctx) => {
      const stats = await ctx.ws.engine.stats();
      const defs = ctx.ws.ingest.definitions().map((d) => d.name);
      const all = CONNECTORS.map((c) => ({
        id: c.id,
        name: c.name,
        description: c.description,
        enabled: ctx.ws.connectors.enabled(c.id),
        tables: defs
          .filter((t) => connectorOf(t)?.id === c.id)
          .map((t) => {
            const s = stats.find((x) => x.table === t);
            return { name: t, rows: s?.rows ?? 0, lastIngestion: s?.lastIngestion ?? null };
          }),
      }));
      return pageList(all, (c) => c.id, ctx.query.cursor, ctx.query.limit);
    },
  }),
  route<{ workspace: string; id: string }, unknown, { enabled: boolean }>({
    method: 'PATCH',
    path: '/api/workspaces/:workspace/connectors/:id',
    operationId: 'connectors.update',
    summary: 'Turn a data connector on or off (off: its tables refuse data)',
    tags: ['Tables and connectors'],
    access: W('author'),
    params: S.object({ ...WorkspaceParam, id: str }, ['workspace', 'id']),
    body: S.object({ enabled: S.boolean() }, ['enabled']),
    responses: { 200: { description: 'The connector', schema: S.open({ id: str, enabled: S.boolean() }) }, ...E },
    handler: async (ctx) => {
      await ctx.ws.connectors.setEnabled(ctx.params.id, ctx.body.enabled, ctx.actor.id, new Date().toISOString());
      return { id: ctx.params.id, enabled: ctx.body.enabled };
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
