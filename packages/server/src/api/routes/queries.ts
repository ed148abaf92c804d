/**
 * Hunting over REST: run KQL (results paged by cursor, or streamed as NDJSON), page and release held results,
 * cancel running queries, saved queries, and stored functions (callable from every query of the workspace).
 */
import { Readable } from 'node:stream';
import type { Diagnostic } from '@vigil/kql';
import type { ResultSet } from '../../engine/engine.js';
import { compilerWorkspace, type QueryOutcome } from '../../query/query-service.js';
import { ContentError, type SavedQueryInput } from '../../workspaces/content.js';
import type { Workspace } from '../../workspaces/workspace.js';
import { ApiError, notFound } from '../errors.js';
import { parseTimespan } from '../query-runner.js';
import { type AnyRoute, type Ctx, pageList, route } from '../route.js';
import { ErrorSchema, PagingQuery, page, S, WorkspaceParam } from '../schema.js';

const W = (permission: 'read' | 'author') => ({ kind: 'workspace', permission }) as const;
const WS = S.object(WorkspaceParam, ['workspace']);
const E = {
  400: { description: 'Invalid request or query', schema: ErrorSchema },
  404: { description: 'Not found', schema: ErrorSchema },
};
const str = S.string();

const ColumnSchema = S.object({ name: str, type: str }, ['name', 'type']);
const DiagnosticSchema = S.open({ code: str, severity: str, message: str, start: S.integer(), length: S.integer() }, [
  'code',
  'message',
]);
const QueryResultSchema = S.open(
  {
    queryId: str,
    columns: S.array(ColumnSchema),
    rows: S.array(S.array(S.any())),
    rowCount: S.integer({ description: 'Rows in the whole result' }),
    truncated: S.nullable(S.open({ reason: S.enum(['rows', 'bytes']), limit: S.integer() })),
    resultId: S.nullable(S.string({ description: 'Page the rest with GET .../query-results/{resultId}' })),
    nextCursor: S.nullable(str),
    visualization: S.any(),
    warnings: S.array(DiagnosticSchema),
    statistics: S.open({ compileMs: S.number(), engineMs: S.number(), totalMs: S.number(), bytes: S.integer() }),
  },
  ['queryId', 'columns', 'rows', 'rowCount'],
);

export interface QueryBody {
  query: string;
  timespan?: string;
  queryId?: string;
  timeoutMs?: number;
  maxRows?: number;
  pageSize?: number;
  format?: 'json' | 'ndjson';
}

/** The error answer of a query that did not run. */
export function queryError(outcome: QueryOutcome): ApiError {
  const e = outcome.error ?? { code: 'failed', message: 'the query failed' };
  if (e.code === 'compile') {
    return new ApiError(400, 'invalid_query', e.message, {
      diagnostics: outcome.diagnostics.filter((d) => d.severity === 'error').map(diag),
    });
  }
  const status = e.code === 'timeout' ? 504 : e.code === 'cancelled' ? 499 : e.code === 'refused' ? 400 : 500;
  return new ApiError(status, `query_${e.code}`, e.message);
}

export function diag(d: Diagnostic) {
  return { code: d.code, severity: d.severity, message: d.message, start: d.start, length: d.length };
}

/** Streams a result as NDJSON: a header line, then one JSON row array per line. */
function ndjson(result: ResultSet, header: unknown): Readable {
  return Readable.from(
    (async function* () {
      try {
        yield `${JSON.stringify(header)}\n`;
        let buf = '';
        for await (const row of result.rowTexts()) {
          buf += `${row}\n`;
          if (buf.length >= 64 * 1024) {
            yield buf;
            buf = '';
          }
        }
        if (buf) yield buf;
      } finally {
        await result.close();
      }
    })(),
  );
}

async function runQuery(ctx: Ctx<{ workspace: string }, unknown, QueryBody>) {
  const b = ctx.body;
  const timeRange = parseTimespan(b.timespan, Date.now());
  const abort = new AbortController();
  ctx.request.raw.once('close', () => {
    if (!ctx.reply.sent) abort.abort();
  });
  const run = await ctx.deps.queries.run({
    ws: ctx.ws,
    text: b.query,
    principal: ctx.me(),
    ...(b.queryId ? { queryId: b.queryId } : {}),
    ...(b.timeoutMs ? { timeoutMs: b.timeoutMs } : {}),
    ...(b.maxRows ? { maxRows: b.maxRows } : {}),
    timeRange,
    signal: abort.signal,
    source: 'rest',
  });
  const { outcome } = run;
  const result = outcome.result;
  ctx.audit.kind = 'query';
  ctx.audit.target = run.queryId;
  ctx.audit.details = {
    query: b.query,
    timespan: b.timespan ?? null,
    ok: !!result,
    error: outcome.error,
    rows: result?.rowCount ?? 0,
    truncated: result?.truncated ?? null,
    compileMs: Math.round(outcome.compileMs * 100) / 100,
    engineMs: result ? Math.round(result.engineMs * 100) / 100 : null,
  };
  if (!result) throw queryError(outcome);
  const columns = result.columns.map((c) => ({ name: c.name, type: c.type }));
  const warnings = outcome.diagnostics.filter((d) => d.severity === 'warning').map(diag);
  const statistics = {
    compileMs: outcome.compileMs,
    engineMs: result.engineMs,
    totalMs: run.ms,
    bytes: result.encodedBytes,
  };
  const accept = String(ctx.request.headers.accept ?? '');
  if (b.format === 'ndjson' || accept.includes('application/x-ndjson')) {
    ctx.reply.header('content-type', 'application/x-ndjson');
    return ctx.reply.send(
      ndjson(result, {
        queryId: run.queryId,
        columns,
        rowCount: result.rowCount,
        truncated: result.truncated,
        statistics,
      }),
    );
  }
  const pageSize = Math.min(b.pageSize ?? 1000, 50_000);
  const base = {
    queryId: run.queryId,
    columns,
    rowCount: result.rowCount,
    truncated: result.truncated,
    visualization: outcome.compiled.visualization ?? null,
    warnings,
    statistics,
  };
  if (result.rowCount <= pageSize) {
    try {
      return { ...base, rows: await result.rows(), resultId: null, nextCursor: null };
    } finally {
      await result.close();
    }
  }
  const resultId = await ctx.deps.results.hold(ctx.ws, ctx.me(), result);
  const held = ctx.deps.results.get(ctx.ws, ctx.me(), resultId);
  const rows = await ctx.deps.results.rows(held, 0, pageSize);
  return { ...base, rows, resultId, nextCursor: String(pageSize) };
}

const FunctionSchema = S.open(
  { name: str, parameters: str, body: str, folder: str, docString: str, updatedAt: str, updatedBy: str },
  ['name', 'parameters', 'body'],
);
const SavedQuerySchema = S.open(
  {
    id: str,
    name: str,
    query: str,
    description: str,
    category: str,
    tags: S.array(str),
    visibility: S.enum(['shared', 'private']),
    ownerName: str,
    createdAt: str,
    updatedAt: str,
  },
  ['id', 'name', 'query'],
);

export const queryRoutes: AnyRoute[] = [
  route<{ workspace: string }, unknown, QueryBody>({
    method: 'POST',
    path: '/api/workspaces/:workspace/query',
    operationId: 'queries.run',
    summary: 'Run KQL: the first page of rows (and a result id to page the rest), or every row as NDJSON',
    description:
      'With `Accept: application/x-ndjson` (or `format: ndjson`) the rows stream one JSON array per line after a header line. ' +
      'A `queryId` chosen by the client lets it cancel the query while it runs (POST .../queries/{queryId}/cancel).',
    tags: ['Queries'],
    access: W('read'),
    audit: 'query',
    params: WS,
    body: S.object(
      {
        query: S.string({ minLength: 1, maxLength: 1_000_000 }),
        timespan: S.string({ description: 'ISO 8601 duration or interval: only rows with TimeGenerated in it' }),
        queryId: S.string({ pattern: '^[A-Za-z0-9._:-]{1,128}$' }),
        timeoutMs: S.integer({ minimum: 1, maximum: 3_600_000 }),
        maxRows: S.integer({ minimum: 1, maximum: 500_000 }),
        pageSize: S.integer({ minimum: 1, maximum: 50_000 }),
        format: S.enum(['json', 'ndjson']),
      },
      ['query'],
    ),
    responses: {
      200: { description: 'The result (first page)', schema: QueryResultSchema },
      ...E,
      499: { description: 'Cancelled', schema: ErrorSchema },
      504: { description: 'Timed out', schema: ErrorSchema },
    },
    handler: runQuery,
  }),
  route<{ workspace: string; resultId: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/query-results/:resultId',
    operationId: 'queries.page',
    summary: 'The next page of a held result',
    tags: ['Queries'],
    access: W('read'),
    params: S.object({ ...WorkspaceParam, resultId: str }, ['workspace', 'resultId']),
    query: S.object({ cursor: S.string({ pattern: '^[0-9]+$' }), limit: S.integer({ minimum: 1, maximum: 50_000 }) }),
    responses: {
      200: {
        description: 'Rows',
        schema: S.open(
          { columns: S.array(ColumnSchema), rows: S.array(S.array(S.any())), nextCursor: S.nullable(str) },
          ['rows', 'nextCursor'],
        ),
      },
      ...E,
    },
    handler: async (ctx) => {
      const held = ctx.deps.results.get(ctx.ws, ctx.me(), ctx.params.resultId);
      const offset = Number(ctx.query.cursor ?? 0);
      const n = ctx.query.limit ?? 1000;
      const rows = await ctx.deps.results.rows(held, offset, n);
      const next = offset + rows.length;
      return {
        columns: held.result.columns,
        rows,
        rowCount: held.result.rowCount,
        nextCursor: next < held.result.rowCount ? String(next) : null,
      };
    },
  }),
  route<{ workspace: string; resultId: string }>({
    method: 'DELETE',
    path: '/api/workspaces/:workspace/query-results/:resultId',
    operationId: 'queries.release',
    summary: 'Release a held result',
    tags: ['Queries'],
    access: W('read'),
    audit: 'none',
    params: S.object({ ...WorkspaceParam, resultId: str }, ['workspace', 'resultId']),
    responses: { 204: { description: 'Released' }, ...E },
    handler: async (ctx) => {
      ctx.deps.results.get(ctx.ws, ctx.me(), ctx.params.resultId);
      await ctx.deps.results.release(ctx.params.resultId);
      ctx.reply.status(204);
    },
  }),
  route<{ workspace: string }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/queries',
    operationId: 'queries.running',
    summary: 'Queries running now (yours; all of them for an Owner)',
    tags: ['Queries'],
    access: W('read'),
    params: WS,
    query: S.object(PagingQuery),
    responses: {
      200: {
        description: 'Running queries',
        schema: page(S.open({ queryId: str, userName: str, text: str, startedAt: str })),
      },
      ...E,
    },
    handler: async (ctx) => {
      const q = ctx.query as { cursor?: string; limit?: number };
      return pageList(ctx.deps.queries.list(ctx.ws, ctx.me(), ctx.can('admin')), (r) => r.queryId, q.cursor, q.limit);
    },
  }),
  route<{ workspace: string; queryId: string }>({
    method: 'POST',
    path: '/api/workspaces/:workspace/queries/:queryId/cancel',
    operationId: 'queries.cancel',
    summary: 'Cancel a running query (its author, or an Owner)',
    tags: ['Queries'],
    access: W('read'),
    params: S.object({ ...WorkspaceParam, queryId: str }, ['workspace', 'queryId']),
    responses: { 202: { description: 'Cancellation requested', schema: S.object({ cancelled: S.boolean() }) }, ...E },
    handler: async (ctx) => {
      ctx.audit.target = ctx.params.queryId;
      if (!ctx.deps.queries.cancel(ctx.ws, ctx.params.queryId, ctx.me(), ctx.can('admin')))
        throw notFound(`running query ${ctx.params.queryId}`);
      ctx.reply.status(202);
      return { cancelled: true };
    },
  }),

  // ── saved queries ──
  route<{ workspace: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/saved-queries',
    operationId: 'savedQueries.list',
    summary: 'Saved queries (shared ones and your private ones)',
    tags: ['Saved queries'],
    access: W('read'),
    params: WS,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'A page', schema: page(SavedQuerySchema) }, ...E },
    handler: async (ctx) =>
      ctx.ws.savedQueries.list(ctx.me().user.id, ctx.query.cursor ?? null, Math.min(ctx.query.limit ?? 100, 1000)),
  }),
  route<{ workspace: string }, unknown, SavedQueryInput>({
    method: 'POST',
    path: '/api/workspaces/:workspace/saved-queries',
    operationId: 'savedQueries.create',
    summary: 'Save a query',
    tags: ['Saved queries'],
    access: W('read'),
    params: WS,
    body: S.object(
      {
        name: S.string({ minLength: 1, maxLength: 256 }),
        query: S.string({ minLength: 1, maxLength: 1_000_000 }),
        description: S.string({ maxLength: 8192 }),
        category: S.string({ maxLength: 256 }),
        tags: S.array(S.string({ maxLength: 128 }), { maxItems: 50 }),
        visibility: S.enum(['shared', 'private']),
      },
      ['name', 'query'],
    ),
    responses: { 201: { description: 'Saved', schema: SavedQuerySchema }, ...E },
    handler: async (ctx) => {
      const me = ctx.me().user;
      const q = await ctx.ws.savedQueries.create(ctx.body, { id: me.id, name: me.name }, new Date().toISOString());
      ctx.audit.target = q.id;
      ctx.reply.status(201);
      return q;
    },
  }),
  route<{ workspace: string; id: string }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/saved-queries/:id',
    operationId: 'savedQueries.get',
    summary: 'A saved query',
    tags: ['Saved queries'],
    access: W('read'),
    params: S.object({ ...WorkspaceParam, id: str }, ['workspace', 'id']),
    responses: { 200: { description: 'The query', schema: SavedQuerySchema }, ...E },
    handler: async (ctx) => visibleSaved(ctx, ctx.params.id),
  }),
  route<{ workspace: string; id: string }, unknown, Partial<SavedQueryInput>>({
    method: 'PATCH',
    path: '/api/workspaces/:workspace/saved-queries/:id',
    operationId: 'savedQueries.update',
    summary: 'Change a saved query (its owner, or a Contributor for shared ones)',
    tags: ['Saved queries'],
    access: W('read'),
    params: S.object({ ...WorkspaceParam, id: str }, ['workspace', 'id']),
    body: S.object({
      name: S.string({ minLength: 1, maxLength: 256 }),
      query: S.string({ minLength: 1, maxLength: 1_000_000 }),
      description: S.string({ maxLength: 8192 }),
      category: S.string({ maxLength: 256 }),
      tags: S.array(S.string({ maxLength: 128 }), { maxItems: 50 }),
      visibility: S.enum(['shared', 'private']),
    }),
    responses: {
      200: { description: 'The query', schema: SavedQuerySchema },
      ...E,
      403: { description: 'Not yours', schema: ErrorSchema },
    },
    handler: async (ctx) => {
      await editableSaved(ctx, ctx.params.id);
      return ctx.ws.savedQueries.update(ctx.params.id, ctx.body, new Date().toISOString());
    },
  }),
  route<{ workspace: string; id: string }>({
    method: 'DELETE',
    path: '/api/workspaces/:workspace/saved-queries/:id',
    operationId: 'savedQueries.delete',
    summary: 'Delete a saved query',
    tags: ['Saved queries'],
    access: W('read'),
    params: S.object({ ...WorkspaceParam, id: str }, ['workspace', 'id']),
    responses: { 204: { description: 'Deleted' }, ...E, 403: { description: 'Not yours', schema: ErrorSchema } },
    handler: async (ctx) => {
      await editableSaved(ctx, ctx.params.id);
      await ctx.ws.savedQueries.delete(ctx.params.id);
      ctx.reply.status(204);
    },
  }),

  // ── stored functions ──
  route<{ workspace: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/functions',
    operationId: 'functions.list',
    summary: 'Stored functions (callable from every query of the workspace)',
    tags: ['Functions'],
    access: W('read'),
    params: WS,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'A page', schema: page(FunctionSchema) }, ...E },
    handler: async (ctx) => pageList(ctx.ws.functions.list(), (f) => f.name, ctx.query.cursor, ctx.query.limit),
  }),
  route<{ workspace: string; name: string }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/functions/:name',
    operationId: 'functions.get',
    summary: 'A stored function',
    tags: ['Functions'],
    access: W('read'),
    params: S.object({ ...WorkspaceParam, name: str }, ['workspace', 'name']),
    responses: { 200: { description: 'The function', schema: FunctionSchema }, ...E },
    handler: async (ctx) => {
      const f = ctx.ws.functions.get(ctx.params.name);
      if (!f) throw notFound(`function ${ctx.params.name}`);
      return f;
    },
  }),
  route<
    { workspace: string; name: string },
    unknown,
    { parameters?: string; body: string; folder?: string; docString?: string }
  >({
    method: 'PUT',
    path: '/api/workspaces/:workspace/functions/:name',
    operationId: 'functions.put',
    summary: 'Create or replace a stored function (`.create-or-alter function`)',
    tags: ['Functions'],
    access: W('author'),
    params: S.object({ ...WorkspaceParam, name: str }, ['workspace', 'name']),
    body: S.object(
      {
        parameters: S.string({
          maxLength: 8192,
          description: 'e.g. `(starttime:datetime=datetime(null))`; `()` when none',
        }),
        body: S.string({ minLength: 1, maxLength: 1_000_000 }),
        folder: S.string({ maxLength: 256 }),
        docString: S.string({ maxLength: 8192 }),
      },
      ['body'],
    ),
    responses: { 200: { description: 'The function', schema: FunctionSchema }, ...E },
    handler: async (ctx) =>
      putFunction(
        ctx.ws,
        { name: ctx.params.name, parameters: ctx.body.parameters ?? '()', ...ctx.body },
        ctx.actor.id,
      ),
  }),
  route<{ workspace: string; name: string }>({
    method: 'DELETE',
    path: '/api/workspaces/:workspace/functions/:name',
    operationId: 'functions.delete',
    summary: 'Delete a stored function',
    tags: ['Functions'],
    access: W('author'),
    params: S.object({ ...WorkspaceParam, name: str }, ['workspace', 'name']),
    responses: { 204: { description: 'Deleted' }, ...E },
    handler: async (ctx) => {
      if (!(await ctx.ws.functions.delete(ctx.params.name))) throw notFound(`function ${ctx.params.name}`);
      ctx.reply.status(204);
    },
  }),
];

/** Checks and stores a function definition (REST and `.create-or-alter function`). */
export async function putFunction(
  ws: Workspace,
  def: { name: string; parameters: string; body: string; folder?: string; docString?: string },
  by: string,
) {
  const problems = ws.functions.check(def, compilerWorkspace(ws.query));
  if (problems.length > 0) {
    throw new ContentError('invalid', `the function does not compile: ${problems[0]?.message}`, {
      diagnostics: problems,
    });
  }
  return ws.functions.put(def, by, new Date().toISOString());
}

async function visibleSaved(ctx: Ctx<{ workspace: string; id: string }, unknown, unknown>, id: string) {
  const q = await ctx.ws.savedQueries.get(id);
  if (!q || (q.visibility === 'private' && q.ownerId !== ctx.me().user.id)) throw notFound(`saved query ${id}`);
  return q;
}

async function editableSaved(ctx: Ctx<{ workspace: string; id: string }, unknown, unknown>, id: string) {
  const q = await visibleSaved(ctx, id);
  if (q.ownerId !== ctx.me().user.id && !ctx.can('author'))
    throw new ApiError(403, 'forbidden', 'only its owner or a Contributor can change a saved query');
  return q;
}
