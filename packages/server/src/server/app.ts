/**
 * The HTTP app (Fastify): ingestion endpoints, custom tables, data collection rules, a health probe and a minimal
 * KQL query endpoint. Bodies are read as raw bytes (never parsed into objects by the framework): the ingestion
 * service scans them itself. Every error is `{error: {code, message, details?}}` with a fitting status.
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Engine } from '../engine/engine.js';
import { engineMessage } from '../engine/errors.js';
import { IngestError } from '../ingest/errors.js';
import type { IngestService, RequestContext } from '../ingest/service.js';
import { runKql } from '../query/query-service.js';
import { BodyGate } from './body-gate.js';
import { PreallocationBudget, readRawBody } from './raw-body.js';

const gunzipAsync = promisify(gunzip);

export interface AppOptions {
  readonly engine: Engine;
  readonly ingest: IngestService;
  /** Largest request body, compressed or not (default 32 MB): larger bodies get 413. */
  readonly bodyLimit?: number;
  /** The workspace id shown by the health probe (default: the engine's). */
  readonly workspaceName?: string;
}

export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;
/** Request bytes that may be allocated before they arrived, across all requests (see raw-body.ts). */
const PREALLOCATION_BYTES = 256 * 1024 * 1024;

/** What every error answer looks like. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

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

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const { ingest, engine } = options;
  const app = Fastify({
    logger: false,
    bodyLimit,
    genReqId: () => randomUUID(),
    // Batch ids and table names come from the path and query; keep them as sent.
    routerOptions: { ignoreTrailingSlash: true },
  });

  // Raw bytes for every content type; the handlers decide what they accept.
  app.removeAllContentTypeParsers();
  // Bodies are allocated ahead of their bytes within a budget (raw-body.ts): what a 64-client burst of 12 MB
  // batches needs, not what clients declaring large bodies and sending nothing would like.
  const budget = new PreallocationBudget(Math.max(PREALLOCATION_BYTES, bodyLimit));
  app.addContentTypeParser('*', (request, payload, done) => {
    const giveBack = budget.take(Number(request.headers['content-length']));
    readRawBody(
      payload,
      bodyLimit,
      (error, body) => {
        giveBack?.();
        done(error, body);
      },
      giveBack !== undefined,
    );
  });

  app.setErrorHandler((error: FastifyError | IngestError | Error, request, reply) => {
    if (error instanceof IngestError) {
      if (error.retryAfterSeconds !== undefined) void reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.status(error.status).send(error.toJSON());
    }
    const code = (error as FastifyError).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply
        .status(413)
        .send(errorBody('body_too_large', `the body is larger than the limit of ${bodyLimit} bytes`));
    }
    const status = (error as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.status(status).send(errorBody('bad_request', error.message));
    }
    request.log.error(error);
    return reply.status(500).send(errorBody('internal', `internal error: ${engineMessage(error)}`));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  // Refuse before reading the body when the writer is behind: the client retries after Retry-After. An admitted
  // request waits for one of a few body slots (see BodyGate), then is announced to the writer, which may wait a
  // moment for it to join the next commit.
  const gate = new BodyGate(4, 2000);
  const arrivals = new WeakMap<FastifyRequest, () => void>();
  const received = new WeakMap<FastifyRequest, () => void>();
  const admitEarly = async (request: FastifyRequest) => {
    const length = Number(request.headers['content-length'] ?? 0);
    ingest.admit(Number.isFinite(length) ? length : 0);
    const leave = await gate.enter();
    received.set(request, leave);
    // Gone while it waited: nothing to announce. Otherwise the slot is left at the latest when the request closes
    // (its body read, or the client gone; an aborted request may never reach the other hooks).
    if (request.raw.destroyed) {
      leave();
      return;
    }
    request.raw.once('close', leave);
    arrivals.set(request, ingest.arriving());
  };
  const released = async (request: FastifyRequest) => {
    received.get(request)?.();
    arrivals.get(request)?.();
  };
  // The body has been read once the handler is due: its slot goes to the next request.
  const bodyRead = async (request: FastifyRequest) => {
    received.get(request)?.();
  };
  const ingestRoute = {
    bodyLimit,
    onRequest: admitEarly,
    preHandler: bodyRead,
    onResponse: released,
    onRequestAbort: released,
  };
  const arrival = (request: FastifyRequest) => arrivals.get(request);

  // Defender's streaming API: Event Hubs messages `{"records": [...]}` or blob lines, routed by category.
  app.post('/api/ingest/defender', ingestRoute, async (request, reply) => {
    const type = mediaType(request);
    if (!JSON_TYPES.has(type)) throw unsupportedType(type);
    const body = await readBody(request, bodyLimit);
    return reply.send(
      await ingest.ingestDefender(body, context(request, 'POST /api/ingest/defender', arrival(request))),
    );
  });

  app.post<{ Params: { table: string }; Querystring: { batchId?: string } }>(
    '/api/ingest/:table',
    ingestRoute,
    async (request, reply) => {
      const { table } = request.params;
      const type = mediaType(request);
      const format = type === 'text/csv' || type === 'application/csv' ? 'csv' : 'json';
      if (format === 'json' && !JSON_TYPES.has(type)) throw unsupportedType(type);
      const body = await readBody(request, bodyLimit);
      return reply.send(
        await ingest.ingestTable(table, body, format, context(request, `POST /api/ingest/${table}`, arrival(request))),
      );
    },
  );

  // The Azure Monitor Logs Ingestion API: 204 when every row was ingested, as Azure answers.
  app.post<{ Params: { id: string; stream: string }; Querystring: { batchId?: string } }>(
    '/dataCollectionRules/:id/streams/:stream',
    ingestRoute,
    async (request, reply) => {
      const type = mediaType(request);
      if (!JSON_TYPES.has(type)) throw unsupportedType(type);
      const body = await readBody(request, bodyLimit);
      const { id, stream } = request.params;
      const answer = await ingest.ingestStream(
        id,
        stream,
        body,
        context(request, `POST /dataCollectionRules/${id}/streams/${stream}`, arrival(request)),
      );
      if (answer.rowsRejected === 0) return reply.status(204).send();
      return reply.send(answer);
    },
  );

  app.put<{ Params: { id: string } }>('/dataCollectionRules/:id', async (request, reply) => {
    const rule = await ingest.putRule(request.params.id, jsonBody(request));
    return reply.send({
      id: rule.id,
      streams: [...rule.flows.values()].map((f) => ({
        stream: f.stream,
        table: f.table,
        transformKql: f.transformKql,
      })),
    });
  });

  app.get<{ Params: { id: string } }>('/dataCollectionRules/:id', async (request, reply) => {
    const rule = ingest.rules.get(request.params.id);
    if (!rule) throw new IngestError('unknown_rule', `unknown data collection rule '${request.params.id}'`);
    return reply.send(rule.definition);
  });

  app.put<{ Params: { name: string } }>('/api/tables/:name', async (request, reply) => {
    const json = jsonBody(request) as { columns?: unknown; properties?: { schema?: { columns?: unknown } } } | null;
    const columns = json?.columns ?? json?.properties?.schema?.columns;
    const def = await ingest.catalog.putCustom(request.params.name, columns);
    return reply.send(def);
  });

  app.get('/api/tables', async (_request, reply) => {
    const stats = new Map((await engine.stats()).map((s) => [s.table, s]));
    return reply.send({
      tables: ingest.definitions().map((d) => ({
        name: d.name,
        columns: d.columns,
        rows: stats.get(d.name)?.rows ?? 0,
        lastIngestion: stats.get(d.name)?.lastIngestion ?? null,
      })),
    });
  });

  app.get<{ Params: { name: string } }>('/api/tables/:name', async (request, reply) => {
    const columns = ingest.catalog.columns(request.params.name);
    if (!columns) throw new IngestError('unknown_table', `unknown table '${request.params.name}'`);
    return reply.send({ name: request.params.name, columns });
  });

  app.get('/api/health', async (_request, reply) =>
    reply.send({
      status: 'ok',
      workspaceId: engine.workspaceId,
      pendingBytes: ingest.writer.pendingBytes,
    }),
  );

  // A minimal query endpoint (KQL in, Kusto-typed rows out) so that ingested data can be read back over HTTP;
  // the full query API (Kusto REST, Log Analytics) lives in src/api.
  app.post('/api/query', async (request, reply) => {
    const json = jsonBody(request) as { query?: unknown } | null;
    if (typeof json?.query !== 'string') throw badRequest('the body must be {"query": "<KQL>"}');
    const outcome = await runKql({ engine, definitions: ingest.definitions() }, json.query, { maxRows: 100_000 });
    if (outcome.error || !outcome.result) {
      return reply.status(outcome.error?.code === 'compile' ? 400 : 500).send(
        errorBody(
          outcome.error?.code === 'compile' ? 'invalid_query' : (outcome.error?.code ?? 'query_failed'),
          outcome.error?.message ?? 'the query failed',
          {
            diagnostics: outcome.diagnostics
              .filter((d) => d.severity === 'error')
              .map((d) => ({ code: d.code, message: d.message, start: d.start, length: d.length })),
          },
        ),
      );
    }
    const result = outcome.result;
    try {
      return reply.send({ columns: result.columns, rows: await result.rows(), truncated: result.truncated });
    } finally {
      await result.close();
    }
  });

  return app;
}

function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details !== undefined ? { details } : {}) } };
}

function badRequest(message: string): Error & { statusCode: number } {
  return Object.assign(new Error(message), { statusCode: 400 });
}

function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function unsupportedType(type: string): IngestError {
  return new IngestError(
    'unsupported_media_type',
    `unsupported content type '${type}': send NDJSON or a JSON array (application/json, application/x-ndjson), or text/csv`,
  );
}

/** The request's bytes, decompressed when `Content-Encoding: gzip`, within the limit. */
async function readBody(request: FastifyRequest, limit: number): Promise<Buffer> {
  const raw = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return raw;
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new IngestError('unsupported_encoding', `unsupported Content-Encoding '${encoding}' (gzip is accepted)`);
  }
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new IngestError('body_too_large', `the decompressed body is larger than the limit of ${limit} bytes`);
    }
    throw new IngestError('invalid_body', `the gzip body could not be decompressed: ${(e as Error).message}`);
  }
}

function jsonBody(request: FastifyRequest): unknown {
  const raw = request.body as Buffer | undefined;
  if (!raw || raw.length === 0) throw badRequest('a JSON body is required');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw badRequest(`the body is not valid JSON: ${(e as Error).message}`);
  }
}

function context(
  request: FastifyRequest,
  source: string,
  arrival?: () => void,
): RequestContext & { compressed: boolean } {
  const header = request.headers['x-ms-client-request-id'];
  const query = (request.query as { batchId?: string } | undefined)?.batchId;
  const batch = (Array.isArray(header) ? header[0] : header) ?? query;
  const encoding = (request.headers['content-encoding'] ?? '').toLowerCase();
  return {
    requestId: request.id,
    ...(batch ? { clientBatchId: batch.slice(0, 256) } : {}),
    source,
    compressed: encoding.includes('gzip'),
    ...(arrival ? { arrival } : {}),
  };
}

export type { FastifyInstance, FastifyReply };
