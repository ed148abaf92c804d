/**
 * The incident queue over HTTP, as a Fastify plugin the server mounts (`app.register(incidentRoutes, {service,
 * prefix: '/api'})`). Thin: every route calls one `IncidentService` method. Bodies may arrive parsed or as raw
 * bytes (the server reads bodies as buffers), and are JSON either way. Errors are `{error: {code, message}}` with
 * 400 / 404 / 409. Who makes a change comes from `actor(request)`; until the API issue brings authentication, the
 * default reads the `x-vigil-actor` header (`analyst:mia@contoso.com`, `automation-rule:ar-7`, ...).
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ACTOR_TYPES, type Actor, type ActorType, type IncidentSettings } from './model.js';
import type { IncidentQuery, SortField } from './queue.js';
import { IncidentError, type IncidentPatch, type IncidentService, type TaskInput, type TaskPatch } from './service.js';

export interface IncidentRoutesOptions {
  readonly service: IncidentService;
  /** Who makes the change a request asks for. */
  readonly actor?: (request: FastifyRequest) => Actor;
}

/** `x-vigil-actor: <type>:<id>` (an analyst when no type is given); `anonymous` without the header. */
export function actorFromHeader(request: FastifyRequest): Actor {
  const raw = request.headers['x-vigil-actor'];
  const text = (Array.isArray(raw) ? raw[0] : raw)?.trim() ?? '';
  if (!text) return { type: 'analyst', id: 'anonymous' };
  const colon = text.indexOf(':');
  const type = colon > 0 ? text.slice(0, colon) : '';
  if ((ACTOR_TYPES as readonly string[]).includes(type)) {
    return { type: type as ActorType, id: text.slice(colon + 1) };
  }
  return { type: 'analyst', id: text };
}

type Query = Record<string, string | string[] | undefined>;

/** Repeated (`?status=New&status=Active`) or comma-separated (`?status=New,Active`) values. */
function many(q: Query, name: string): string[] | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  const list = (Array.isArray(v) ? v : [v])
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean);
  return list.length ? list : undefined;
}

function one(q: Query, name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The list query from query-string parameters. */
export function queryFromParams(q: Query): IncidentQuery {
  const limit = one(q, 'limit');
  const order = one(q, 'order');
  if (order !== undefined && order !== 'asc' && order !== 'desc')
    throw new IncidentError('invalid', 'order is asc or desc');
  const out: Record<string, unknown> = {
    status: many(q, 'status'),
    severity: many(q, 'severity'),
    owner: many(q, 'owner'),
    tags: many(q, 'tag') ?? many(q, 'tags'),
    provider: many(q, 'provider'),
    product: many(q, 'product'),
    tactic: many(q, 'tactic'),
    technique: many(q, 'technique'),
    entity: many(q, 'entity'),
    ruleId: many(q, 'rule'),
    classification: many(q, 'classification'),
    createdFrom: one(q, 'createdFrom'),
    createdTo: one(q, 'createdTo'),
    updatedFrom: one(q, 'updatedFrom'),
    updatedTo: one(q, 'updatedTo'),
    activityFrom: one(q, 'activityFrom'),
    activityTo: one(q, 'activityTo'),
    text: one(q, 'text') ?? one(q, 'q'),
    includeRedirected: one(q, 'includeRedirected') === 'true' ? true : undefined,
    sort: one(q, 'sort') as SortField | undefined,
    order,
    limit: limit !== undefined ? Number(limit) : undefined,
    cursor: one(q, 'cursor'),
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  if (out.limit !== undefined && !Number.isFinite(out.limit)) throw new IncidentError('invalid', 'limit is a number');
  return out as IncidentQuery;
}

/** A JSON body, whether Fastify parsed it or handed over the raw bytes. */
function body<T>(request: FastifyRequest): T {
  const b = request.body as unknown;
  if (b === undefined || b === null) return {} as T;
  if (Buffer.isBuffer(b) || typeof b === 'string') {
    const text = b.toString();
    if (text.trim() === '') return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new IncidentError('invalid', `the body is not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return b as T;
}

function object<T extends object>(v: unknown, what: string): T {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new IncidentError('invalid', `${what} must be an object`);
  return v as T;
}

function pageArgs(request: FastifyRequest): { cursor: string | null; limit: number } {
  const q = request.query as Query;
  const limit = Number(one(q, 'limit') ?? 100);
  return { cursor: one(q, 'cursor') ?? null, limit: Number.isFinite(limit) ? limit : 100 };
}

const notFound = (what: string) => new IncidentError('not_found', `no ${what}`);

export const incidentRoutes: FastifyPluginAsync<IncidentRoutesOptions> = async (app: FastifyInstance, options) => {
  const { service } = options;
  const who = options.actor ?? actorFromHeader;

  app.setErrorHandler((error: unknown, _request, reply: FastifyReply) => {
    if (error instanceof IncidentError) {
      return reply.status(error.status).send({ error: { code: error.code, message: error.message } });
    }
    const message = error instanceof Error ? error.message : String(error);
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.status(status).send({ error: { code: 'bad_request', message } });
    }
    return reply.status(500).send({ error: { code: 'internal', message: `internal error: ${message}` } });
  });

  type IdParams = { Params: { id: string } };

  app.get('/incidents', async (request) => service.list(queryFromParams(request.query as Query)));

  app.get<IdParams>('/incidents/:id', async (request) => {
    const q = request.query as Query;
    const size = Number(one(q, 'pageSize') ?? 100);
    const d = await service.get(request.params.id, { pageSize: Number.isFinite(size) ? size : 100 });
    if (!d) throw notFound(`incident ${request.params.id}`);
    return d;
  });

  app.patch<IdParams>('/incidents/:id', async (request) => {
    const patch = object<IncidentPatch>(body(request), 'the patch');
    const match = request.headers['if-match'];
    const version = typeof match === 'string' ? Number(match.replace(/"/g, '')) : undefined;
    return service.update(
      request.params.id,
      patch,
      who(request),
      version !== undefined && Number.isFinite(version) ? { expectedVersion: version } : {},
    );
  });

  app.post('/incidents/bulk', async (request) => {
    const b = object<{ ids?: unknown; patch?: unknown }>(body(request), 'the body');
    if (!Array.isArray(b.ids)) throw new IncidentError('invalid', 'ids must be a list of incident ids or numbers');
    return {
      results: await service.bulkUpdate(
        b.ids as (string | number)[],
        object<IncidentPatch>(b.patch, 'patch'),
        who(request),
      ),
    };
  });

  for (const part of ['alerts', 'entities', 'links', 'audit'] as const) {
    app.get<IdParams>(`/incidents/:id/${part}`, async (request) => {
      const { cursor, limit } = pageArgs(request);
      const id = request.params.id;
      if (part === 'alerts') return service.alerts(id, cursor, limit);
      if (part === 'entities') return service.entities(id, cursor, limit);
      if (part === 'links') return service.links(id, cursor, limit);
      return service.auditTrail(id, cursor, limit);
    });
  }

  app.get<IdParams>('/incidents/:id/graph', async (request) =>
    service.graph(request.params.id, pageArgs(request).limit),
  );

  app.get<IdParams>('/incidents/:id/comments', async (request) => ({
    items: await service.comments(request.params.id),
  }));
  app.post<IdParams>('/incidents/:id/comments', async (request, reply) => {
    const b = object<{ message?: unknown }>(body(request), 'the body');
    if (typeof b.message !== 'string') throw new IncidentError('invalid', 'message must be text');
    return reply.status(201).send(await service.addComment(request.params.id, b.message, who(request)));
  });
  app.patch<{ Params: { id: string; commentId: string } }>('/incidents/:id/comments/:commentId', async (request) => {
    const b = object<{ message?: unknown }>(body(request), 'the body');
    if (typeof b.message !== 'string') throw new IncidentError('invalid', 'message must be text');
    return service.editComment(request.params.id, request.params.commentId, b.message, who(request));
  });
  app.delete<{ Params: { id: string; commentId: string } }>(
    '/incidents/:id/comments/:commentId',
    async (request, reply) => {
      await service.deleteComment(request.params.id, request.params.commentId, who(request));
      return reply.status(204).send();
    },
  );

  app.get<IdParams>('/incidents/:id/tasks', async (request) => ({ items: await service.tasks(request.params.id) }));
  app.post<IdParams>('/incidents/:id/tasks', async (request, reply) => {
    const t = object<TaskInput>(body(request), 'the task');
    return reply.status(201).send(await service.addTask(request.params.id, t, who(request)));
  });
  app.patch<{ Params: { id: string; taskId: string } }>('/incidents/:id/tasks/:taskId', async (request) =>
    service.updateTask(
      request.params.id,
      request.params.taskId,
      object<TaskPatch>(body(request), 'the patch'),
      who(request),
    ),
  );
  app.delete<{ Params: { id: string; taskId: string } }>('/incidents/:id/tasks/:taskId', async (request, reply) => {
    await service.deleteTask(request.params.id, request.params.taskId, who(request));
    return reply.status(204).send();
  });

  app.post<IdParams>('/incidents/:id/merge', async (request) => {
    const b = object<{ incidents?: unknown; note?: unknown }>(body(request), 'the body');
    if (!Array.isArray(b.incidents))
      throw new IncidentError('invalid', 'incidents must be a list of incidents to merge');
    return service.merge(
      request.params.id,
      b.incidents as (string | number)[],
      who(request),
      typeof b.note === 'string' ? b.note : undefined,
    );
  });

  app.post<IdParams>('/incidents/:id/split', async (request) => {
    const b = object<{ alertIds?: unknown; title?: unknown; note?: unknown }>(body(request), 'the body');
    if (!Array.isArray(b.alertIds) || b.alertIds.some((a) => typeof a !== 'string'))
      throw new IncidentError('invalid', 'alertIds must be a list of alert ids');
    return service.split(request.params.id, b.alertIds as string[], who(request), {
      ...(typeof b.title === 'string' ? { title: b.title } : {}),
      ...(typeof b.note === 'string' ? { note: b.note } : {}),
    });
  });

  app.get<{ Params: { alertId: string } }>('/alerts/:alertId', async (request) => {
    const a = await service.alert(request.params.alertId);
    if (!a) throw notFound(`alert ${request.params.alertId}`);
    return a;
  });

  app.get('/incident-events', async (request) => {
    const q = request.query as Query;
    const after = Number(one(q, 'after') ?? 0);
    const limit = Number(one(q, 'limit') ?? 500);
    return { items: await service.events(Number.isFinite(after) ? after : 0, Number.isFinite(limit) ? limit : 500) };
  });

  app.get('/incident-settings', async () => service.settings());
  app.patch('/incident-settings', async (request) =>
    service.updateSettings(object<Partial<IncidentSettings>>(body(request), 'the settings'), who(request)),
  );
};
