/**
 * The API's Fastify app: every route of `allRoutes`, authentication on every request, access checks, audit,
 * errors as `{error: {code, message, details?}}`. JSON routes and ingestion routes live in two encapsulation
 * contexts because they read bodies differently (parsed JSON vs raw bytes).
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { type ConsoleStaticOptions, consoleStatic } from '../server/static.js';
import { kustoRoutes } from './kusto.js';
import { logAnalyticsRoutes } from './loganalytics.js';
import {
  type AnyRoute,
  type ApiDeps,
  installAudit,
  installAuthentication,
  installErrors,
  registerRoutes,
} from './route.js';
import { accessRoutes } from './routes/access.js';
import { automationRoutes } from './routes/automation.js';
import { ingestRoutes, tableRoutes } from './routes/data.js';
import { incidentRoutes } from './routes/incidents.js';
import { queryRoutes } from './routes/queries.js';
import { ruleRoutes } from './routes/rules.js';

export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;

export interface ApiAppOptions {
  readonly bodyLimit?: number;
  /** TLS key and certificate (PEM): the app serves https. */
  readonly https?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Routes added by other modules (automation), mounted in the JSON context. */
  readonly extraRoutes?: readonly AnyRoute[];
  /** The web console's static files (default: packages/web/dist; false: not served). */
  readonly console?: false | ConsoleStaticOptions;
}

/** Every route of the API, split by how bodies are read. */
export function allRoutes(options: { bodyLimit: number; extra?: readonly AnyRoute[] }): {
  json: AnyRoute[];
  raw: AnyRoute[];
} {
  return {
    json: [
      ...accessRoutes,
      ...tableRoutes,
      ...queryRoutes,
      ...ruleRoutes,
      ...incidentRoutes,
      ...automationRoutes,
      ...(options.extra ?? []),
      ...kustoRoutes(),
      ...logAnalyticsRoutes(),
    ],
    raw: ingestRoutes(options.bodyLimit),
  };
}

export async function buildApiApp(
  deps: Omit<ApiDeps, 'routes'>,
  options: ApiAppOptions = {},
): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const routes = allRoutes({ bodyLimit, ...(options.extraRoutes ? { extra: options.extraRoutes } : {}) });
  const everything = [...routes.json, ...routes.raw];
  // Not a copy: `deps` may hold getters (the OIDC client is configured once the listener's URL is known).
  const full = Object.assign(deps, { routes: () => everything }) as ApiDeps;
  const base: FastifyServerOptions = {
    logger: false,
    bodyLimit,
    genReqId: () => randomUUID(),
    routerOptions: { ignoreTrailingSlash: true },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    // Clients cancel long queries by closing the connection; the handler hears it through `close`.
    return503OnClosing: true,
  };
  // The https variant differs only in its server type; handlers see the same request and reply objects.
  const app = (
    options.https ? Fastify({ ...base, https: options.https } as unknown as FastifyServerOptions) : Fastify(base)
  ) as FastifyInstance;
  installErrors(app);
  installAuthentication(app, full);
  installAudit(app, full);

  await app.register(async (json) => {
    json.removeContentTypeParser('application/json');
    // JSON bodies; an empty body reads as absent (schema `required` decides).
    json.addContentTypeParser(['application/json', 'text/json'], { parseAs: 'string' }, (_req, text, done) => {
      const s = String(text);
      if (s.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(s));
      } catch (e) {
        done(
          Object.assign(new Error(`the body is not valid JSON: ${(e as Error).message}`), { statusCode: 400 }),
          undefined,
        );
      }
    });
    registerRoutes(json, full, routes.json);
  });
  await app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
    registerRoutes(raw, full, routes.raw);
  });
  if (options.console !== false) await app.register(consoleStatic, options.console ?? {});
  return app;
}
