/**
 * Routes are declared once, as data (`RouteSpec`): method, path, the permission they need, request schemas (which
 * Fastify validates), response schemas and a handler. `registerRoutes` mounts them with authentication, the access
 * check and the audit record; `openapi.ts` turns the same specs into `/api/openapi.json`.
 *
 * Access: `public` (no credential), `user` (any signed-in user), `server-admin`, or `workspace` with one permission:
 * the `:workspace` path segment is resolved, and a caller who is not a member gets 404 for it (the same answer as
 * for a workspace that does not exist: membership of other tenants is not disclosed). A member without the
 * permission gets 403.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isServerAdmin, type Permission, type Principal, permissionsIn } from '../auth/model.js';
import type { OidcClient } from '../auth/oidc.js';
import type { AuthService } from '../auth/service.js';
import type { Actor } from '../incidents/model.js';
import type { AuditKind, AuditLog } from '../workspaces/audit.js';
import type { WorkspaceManager } from '../workspaces/manager.js';
import type { Workspace } from '../workspaces/workspace.js';
import { ApiError, forbidden, notFound, toApiError, unauthenticated } from './errors.js';
import type { QueryRunner, ResultStore } from './query-runner.js';
import type { JsonSchema } from './schema.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type Access =
  | { readonly kind: 'public' }
  | { readonly kind: 'user' }
  | { readonly kind: 'server-admin' }
  | { readonly kind: 'workspace'; readonly permission: Permission };

export interface ResponseDoc {
  readonly description: string;
  readonly schema?: JsonSchema;
  /** Default application/json. */
  readonly contentType?: string;
}

export interface RouteSpec<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  readonly method: Method;
  /** Fastify path (`:name` parameters). */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly access: Access;
  /** Default: `change` for every method but GET, none for GET. */
  readonly audit?: AuditKind | 'none';
  readonly params?: JsonSchema;
  readonly query?: JsonSchema;
  readonly body?: JsonSchema;
  /** The body is read as raw bytes (ingestion): these media types are documented. */
  readonly rawBody?: readonly string[];
  /** Request headers the route reads (documented, validated). */
  readonly headers?: JsonSchema;
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  readonly handler: (ctx: Ctx<P, Q, B>) => Promise<unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of routes; each handler is typed at its definition
export type AnyRoute = RouteSpec<any, any, any>;

export function route<P = Record<string, string>, Q = Record<string, unknown>, B = unknown>(
  spec: RouteSpec<P, Q, B>,
): RouteSpec<P, Q, B> {
  return spec;
}

export interface ApiDeps {
  readonly manager: WorkspaceManager;
  readonly auth: AuthService;
  /** Server-wide audit (sign-ins, users, workspaces, refused calls outside a workspace). */
  readonly serverAudit: AuditLog;
  readonly queries: QueryRunner;
  readonly results: ResultStore;
  /** OpenID Connect sign-in, when configured. */
  readonly oidc: OidcClient | null;
  /** Every route of the server (for the OpenAPI document). */
  readonly routes: () => readonly AnyRoute[];
}

export interface Ctx<P, Q, B> {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly deps: ApiDeps;
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** The caller (null only on public routes called without a credential). */
  readonly principal: Principal | null;
  /** The workspace of a workspace route. */
  readonly ws: Workspace;
  /** The caller as the incident and automation services record it. */
  readonly actor: Actor;
  /** What the audit entry says beyond the route: the resource and details. */
  readonly audit: { target?: string | null; details?: unknown; kind?: AuditKind };
  /** The principal, or 401. */
  me(): Principal;
  /** The caller's permissions in a workspace. */
  can(permission: Permission, ws?: Workspace): boolean;
}

interface RequestState {
  principal: Principal | null;
  /** A credential was sent but is not valid. */
  badCredential: boolean;
  ws: Workspace | null;
  spec: AnyRoute | null;
  audit: { target?: string | null; details?: unknown; kind?: AuditKind };
  startedAt: number;
}

const states = new WeakMap<FastifyRequest, RequestState>();

export function requestState(request: FastifyRequest): RequestState {
  let s = states.get(request);
  if (!s) {
    s = { principal: null, badCredential: false, ws: null, spec: null, audit: {}, startedAt: performance.now() };
    states.set(request, s);
  }
  return s;
}

export const SESSION_COOKIE = 'vigil_session';

/** The bearer value of a request: `Authorization: Bearer`, else the session cookie. */
export function credentialOf(request: FastifyRequest): { value: string; via: 'header' | 'cookie' } | null {
  const h = request.headers.authorization;
  if (h) {
    const m = /^Bearer\s+(.+)$/i.exec(h.trim());
    if (m) return { value: (m[1] as string).trim(), via: 'header' };
  }
  const cookie = request.headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === SESSION_COOKIE) return { value: decodeURIComponent(v.join('=')), via: 'cookie' };
    }
  }
  return null;
}

export function actorOf(p: Principal | null): Actor {
  return p ? { type: 'analyst', id: p.user.name, name: p.user.displayName } : { type: 'analyst', id: 'anonymous' };
}

/** Authenticates every request (before routing decides whether it must). */
export function installAuthentication(app: FastifyInstance, deps: ApiDeps): void {
  app.addHook('onRequest', async (request) => {
    const s = requestState(request);
    const c = credentialOf(request);
    if (!c) return;
    const p = await deps.auth.authenticate(c.value);
    if (!p) {
      s.badCredential = true;
      return;
    }
    // A cookie is sent by the browser on its own: changes made with it need a header no cross-site form can set.
    if (
      c.via === 'cookie' &&
      request.method !== 'GET' &&
      request.method !== 'HEAD' &&
      !request.headers['x-requested-with']
    )
      throw new ApiError(403, 'csrf', 'requests authenticated by the session cookie need an X-Requested-With header');
    s.principal = p;
  });
}

const REDACT = /password|secret|token|code|authorization/i;

/** A body as the audit log keeps it: secrets masked, bounded. */
export function auditBody(body: unknown): unknown {
  if (body === undefined || body === null) return undefined;
  if (Buffer.isBuffer(body)) return { bytes: body.length };
  if (typeof body === 'string') return body.length > 4096 ? `${body.slice(0, 4096)}…` : body;
  const text = JSON.stringify(body, (k, v) => (k && REDACT.test(k) && typeof v === 'string' ? '***' : v));
  if (text === undefined) return undefined;
  return text.length > 8192 ? { truncated: text.slice(0, 8192) } : (JSON.parse(text) as unknown);
}

/** Mounts routes on `app` (one encapsulation context: its body parsers apply). */
export function registerRoutes(app: FastifyInstance, deps: ApiDeps, specs: readonly AnyRoute[]): void {
  for (const spec of specs) {
    const schema: Record<string, unknown> = {};
    if (spec.params) schema.params = spec.params;
    if (spec.query) schema.querystring = spec.query;
    if (spec.body) schema.body = spec.body;
    if (spec.headers) schema.headers = spec.headers;
    app.route({
      method: spec.method,
      url: spec.path,
      schema,
      // Access is checked before the body is validated: an outsider learns nothing from validation errors.
      preValidation: async (request) => {
        const s = requestState(request);
        s.spec = spec;
        const p = s.principal;
        const a = spec.access;
        if (a.kind === 'public') return;
        if (!p) throw unauthenticated(s.badCredential ? 'the credential is invalid or expired' : undefined);
        if (a.kind === 'user') return;
        if (a.kind === 'server-admin') {
          if (!isServerAdmin(p)) throw forbidden('this needs a server administrator (with an unscoped credential)');
          return;
        }
        const name = (request.params as Record<string, string>).workspace ?? '';
        const ws = deps.manager.get(name);
        const perms = ws ? permissionsIn(p, ws.id) : new Set<Permission>();
        if (!ws || perms.size === 0) throw notFound(`workspace '${name}'`);
        s.ws = ws;
        if (!perms.has(a.permission))
          throw forbidden(`this needs the '${a.permission}' permission in workspace '${ws.name}'`);
      },
      handler: async (request, reply) => {
        const s = requestState(request);
        const ctx: Ctx<unknown, unknown, unknown> = {
          request,
          reply,
          deps,
          params: request.params,
          query: request.query,
          body: request.body,
          principal: s.principal,
          get ws(): Workspace {
            if (!s.ws) throw new Error(`${spec.operationId} is not a workspace route`);
            return s.ws;
          },
          actor: actorOf(s.principal),
          audit: s.audit,
          me() {
            if (!s.principal) throw unauthenticated();
            return s.principal;
          },
          can(permission, ws) {
            const target = ws ?? s.ws;
            return !!s.principal && !!target && permissionsIn(s.principal, target.id).has(permission);
          },
        };
        const out = await spec.handler(ctx);
        if (reply.sent) return reply;
        if (out === undefined) return reply.status(reply.statusCode === 200 ? 204 : reply.statusCode).send();
        return reply.send(out);
      },
    });
  }
}

/** Records the audit entry of a finished call (changes and queries; refused calls too). */
export function installAudit(app: FastifyInstance, deps: ApiDeps): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const s = requestState(request);
    const spec = s.spec;
    const kind: AuditKind | 'none' =
      s.audit.kind ?? spec?.audit ?? (request.method === 'GET' || request.method === 'HEAD' ? 'none' : 'change');
    if (kind === 'none') return payload;
    const p = s.principal;
    const log = s.ws?.audit ?? deps.serverAudit;
    const params = (request.params ?? {}) as Record<string, string>;
    await log.record({
      at: new Date().toISOString(),
      userId: p?.user.id ?? null,
      userName: p?.user.name ?? 'anonymous',
      auth: p?.method ?? 'none',
      credentialId: p?.credentialId ?? null,
      clientIp: request.ip,
      kind,
      action: spec?.operationId ?? `${request.method} ${request.routeOptions.url ?? request.url}`,
      method: request.method,
      path: request.url.split('?')[0] ?? request.url,
      target: s.audit.target ?? params.id ?? params.name ?? null,
      status: reply.statusCode,
      durationMs: performance.now() - s.startedAt,
      requestId: request.id,
      details: s.audit.details ?? (kind === 'change' ? auditBody(request.body) : undefined),
    });
    return payload;
  });
}

/** Sends any thrown error as `{error: {code, message, details?}}`. */
export function installErrors(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const e = toApiError(error);
    if (e.status >= 500) request.log.error(error);
    if (e.headers) for (const [k, v] of Object.entries(e.headers)) void reply.header(k, v);
    return reply.status(e.status).send(e.toJSON());
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } }),
  );
}

/** Pages an in-memory list by a sort key: the cursor is the last key seen. */
export function pageList<T>(
  items: readonly T[],
  key: (t: T) => string,
  cursor: string | undefined,
  limit: number | undefined,
): { items: T[]; nextCursor: string | null } {
  const n = Math.min(Math.max(limit ?? 100, 1), 1000);
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const after = cursor ? Buffer.from(cursor, 'base64url').toString('utf8') : null;
  const rest = after === null ? sorted : sorted.filter((t) => key(t) > after);
  const pageItems = rest.slice(0, n);
  const last = pageItems[pageItems.length - 1];
  return {
    items: pageItems,
    nextCursor: rest.length > n && last ? Buffer.from(key(last), 'utf8').toString('base64url') : null,
  };
}
