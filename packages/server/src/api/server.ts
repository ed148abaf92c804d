/**
 * The Vigil server: the server state store (users, workspaces, server audit), every workspace with its services,
 * the API over http and/or https, and the first-start bootstrap (a `default` workspace and an Owner `admin` who
 * sets a password with a one-time code that is printed — there is no default password).
 *
 * Layout: `<dataDir>/server.sqlite` and `<dataDir>/workspaces/<name>/`.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { OidcClient, type OidcConfig } from '../auth/oidc.js';
import { AuthService } from '../auth/service.js';
import type { TableDefinition } from '../engine/engine.js';
import { readSchema } from '../server/serve.js';
import { migrate } from '../state/migrations.js';
import { SqliteDriver } from '../state/sql-driver.js';
import { AUDIT_MIGRATIONS, AuditLog } from '../workspaces/audit.js';
import { type WorkspaceHook, WorkspaceManager } from '../workspaces/manager.js';
import type { WorkspaceServicesOptions } from '../workspaces/workspace.js';
import { buildApiApp } from './app.js';
import { QueryRunner, ResultStore } from './query-runner.js';
import type { AnyRoute, ApiDeps } from './route.js';

export interface VigilServerOptions {
  readonly dataDir: string;
  /** Address to bind (default 127.0.0.1). */
  readonly host?: string;
  /** Plain http port (0: any free port; omit for https only). */
  readonly port?: number;
  /** https with the operator's certificate. */
  readonly tls?: { readonly port: number; readonly key: string | Buffer; readonly cert: string | Buffer };
  readonly schema?: readonly TableDefinition[];
  readonly schemaPath?: string | URL;
  readonly bodyLimit?: number;
  readonly workspace?: Omit<WorkspaceServicesOptions, 'schema'>;
  /** OpenID Connect by issuer URL (the redirect URI is `<publicUrl>/api/auth/oidc/callback`). */
  readonly oidc?: Omit<OidcConfig, 'redirectUri'> & { readonly redirectUri?: string };
  /** The URL people reach the server at (default: the first listener's). */
  readonly publicUrl?: string;
  /** Sets the first Owner's password instead of printing a setup code (automated deployments). */
  readonly initialAdminPassword?: string;
  /** Called on first start with the Owner account and how to sign in. */
  readonly onFirstStart?: (info: FirstStart) => void;
  /** Per-workspace hooks (automation plugs in here). */
  readonly workspaceHooks?: readonly WorkspaceHook[];
  readonly extraRoutes?: readonly AnyRoute[];
  readonly log?: (message: string) => void;
  /** Session lifetime (default 12 h). */
  readonly sessionTtlMs?: number;
}

export interface FirstStart {
  readonly user: string;
  readonly workspace: string;
  /** The one-time code to set the password (null when `initialAdminPassword` was given). */
  readonly setupCode: string | null;
  /** Human-readable instructions. */
  readonly message: string;
}

export interface RunningVigil {
  readonly url: string | null;
  readonly httpsUrl: string | null;
  readonly manager: WorkspaceManager;
  readonly auth: AuthService;
  readonly deps: ApiDeps;
  readonly apps: readonly FastifyInstance[];
  close(): Promise<void>;
}

export async function startVigil(options: VigilServerOptions): Promise<RunningVigil> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const schema = options.schema ?? (await readSchema(options.schemaPath));
  const state = new SqliteDriver(join(dataDir, 'server.sqlite'));
  const closers: (() => Promise<void>)[] = [() => state.close()];
  const closeAll = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    await migrate(state, AUDIT_MIGRATIONS);
    const auth = await AuthService.open(state, options.sessionTtlMs ? { sessionTtlMs: options.sessionTtlMs } : {});
    closers.push(() => auth.flushTokenUse());
    const serverAudit = new AuditLog(state);
    closers.push(() => serverAudit.flush());
    const manager = await WorkspaceManager.open(
      state,
      dataDir,
      { schema, ...options.workspace, ...(options.log ? { log: options.log } : {}) },
      options.workspaceHooks ?? [],
    );
    closers.push(() => manager.close());
    if (manager.list().length === 0) await manager.create('default', 'Default workspace', 'system');
    const results = new ResultStore();
    closers.push(() => results.close());
    const host = options.host ?? '127.0.0.1';
    const fmt = (proto: string, port: number) => `${proto}://${host.includes(':') ? `[${host}]` : host}:${port}`;

    let oidc: OidcClient | null = null;
    const depsBase = {
      manager,
      auth,
      serverAudit,
      queries: new QueryRunner(),
      results,
      get oidc() {
        return oidc;
      },
    };
    const apps: FastifyInstance[] = [];
    let url: string | null = null;
    let httpsUrl: string | null = null;
    const common = {
      ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
      ...(options.extraRoutes ? { extraRoutes: options.extraRoutes } : {}),
    };
    if (options.port !== undefined) {
      const app = await buildApiApp(depsBase, common);
      apps.push(app);
      closers.push(() => closeApp(app));
      await app.listen({ port: options.port, host });
      url = fmt('http', portOf(app));
    }
    if (options.tls) {
      const app = await buildApiApp(depsBase, { ...common, https: { key: options.tls.key, cert: options.tls.cert } });
      apps.push(app);
      closers.push(() => closeApp(app));
      await app.listen({ port: options.tls.port, host });
      httpsUrl = fmt('https', portOf(app));
    }
    const publicUrl = options.publicUrl ?? httpsUrl ?? url ?? '';
    if (options.oidc) {
      oidc = new OidcClient({ redirectUri: `${publicUrl}/api/auth/oidc/callback`, ...options.oidc });
    }

    // First start: an Owner with no password, and a one-time code to set one.
    const def = manager.get('default') ?? manager.list()[0];
    if (def) {
      const boot = await auth.bootstrap(def.id);
      if (boot) {
        let code: string | null = boot.setupCode;
        if (options.initialAdminPassword !== undefined) {
          await auth.completeSetup(boot.setupCode, options.initialAdminPassword);
          code = null;
        }
        const message = code
          ? [
              `Vigil first start: created the Owner account '${boot.user.name}' of workspace '${def.name}' (no password yet).`,
              'Set its password with this one-time code (valid 7 days), then sign in:',
              `  curl -X POST ${publicUrl}/api/auth/setup -H 'content-type: application/json' \\`,
              `    -d '{"code":"${code}","password":"<a password of 12+ characters>"}'`,
              `  curl -X POST ${publicUrl}/api/auth/login -H 'content-type: application/json' \\`,
              `    -d '{"name":"${boot.user.name}","password":"<the password>"}'`,
              `or open ${publicUrl}/ in a browser, or from a shell: vigil login --server ${publicUrl} --name ${boot.user.name}`,
            ].join('\n')
          : `Vigil first start: created the Owner account '${boot.user.name}' of workspace '${def.name}' with the given password.`;
        options.onFirstStart?.({ user: boot.user.name, workspace: def.name, setupCode: code, message });
      }
    }

    let closing: Promise<void> | null = null;
    return {
      url,
      httpsUrl,
      manager,
      auth,
      deps: depsBase as ApiDeps,
      apps,
      close() {
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

function portOf(app: FastifyInstance): number {
  const a = app.server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

async function closeApp(app: FastifyInstance): Promise<void> {
  // Keep-alive connections that turn idle after their last answer would hold the close until their timeout.
  const idle = setInterval(() => app.server.closeIdleConnections(), 25);
  try {
    await app.close();
  } finally {
    clearInterval(idle);
  }
}
