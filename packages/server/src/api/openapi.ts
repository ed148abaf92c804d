/**
 * The OpenAPI 3.1 document, generated from the same `RouteSpec`s that Fastify validates requests with: one
 * declaration per route, so the document cannot drift from what the server accepts.
 */
import type { AnyRoute } from './route.js';
import { ErrorSchema, type JsonSchema } from './schema.js';

const METHOD = { GET: 'get', POST: 'post', PUT: 'put', PATCH: 'patch', DELETE: 'delete' } as const;

function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(where: 'path' | 'query' | 'header', schema: JsonSchema | undefined): unknown[] {
  if (!schema) return [];
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s as { description?: string };
    return {
      name,
      in: where,
      required: where === 'path' ? true : required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

export function buildOpenApi(routes: readonly AnyRoute[], info: { version?: string } = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  for (const r of routes) {
    for (const t of r.tags) tags.add(t);
    const p = openApiPath(r.path);
    paths[p] = paths[p] ?? {};
    const item = paths[p];
    const responses: Record<string, unknown> = {};
    for (const [status, doc] of Object.entries(r.responses)) {
      responses[status] = {
        description: doc.description,
        ...(doc.schema ? { content: { [doc.contentType ?? 'application/json']: { schema: doc.schema } } } : {}),
      };
    }
    // Answers every route can give, documented once here.
    const err = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });
    if (r.params || r.query || r.body || r.rawBody || r.headers) responses['400'] ??= err('Invalid request');
    if (r.access.kind !== 'public') {
      responses['401'] ??= err('Not signed in, or the credential is invalid or expired');
      responses['403'] ??= err('The credential lacks the permission');
    }
    if (r.access.kind === 'workspace') responses['404'] ??= err('No such workspace, or not a member of it');
    if (r.rawBody) {
      responses['403'] ??= err('The table refuses data (its connector is off)');
      responses['413'] ??= err('The body is too large');
      responses['415'] ??= err('Unsupported content type or encoding');
      responses['429'] ??= err('The writer is behind: retry after Retry-After seconds');
    }
    responses['500'] ??= err('Internal error');
    const access = r.access;
    const op: Record<string, unknown> = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [...r.tags],
      parameters: [
        ...parameters('path', r.params),
        ...parameters('query', r.query),
        ...parameters('header', r.headers),
      ],
      responses,
      security: access.kind === 'public' ? [] : [{ bearer: [] }, { session: [] }],
      'x-vigil-access': access.kind === 'workspace' ? `workspace:${access.permission}` : access.kind,
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: r.body } } };
    else if (r.rawBody)
      op.requestBody = {
        required: true,
        content: Object.fromEntries(r.rawBody.map((t) => [t, { schema: { type: 'string', format: 'binary' } }])),
      };
    item[METHOD[r.method]] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Vigil API',
      version: info.version ?? '0.1.0',
      description:
        'The Vigil SOC server: workspaces, data, KQL, rules, alerts, incidents, automation, users and audit. ' +
        'Errors are `{error: {code, message, details?}}`; lists page with `cursor` and `limit`. Kusto REST ' +
        '(`/v1/rest/*`, `/v2/rest/query`) and the Log Analytics query API (`/v1/workspaces/{id}/query`) are served too.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token or a session token (`vgl_...`)' },
        session: { type: 'apiKey', in: 'cookie', name: 'vigil_session' },
      },
    },
  };
}
