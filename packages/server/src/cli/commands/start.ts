/**
 * `vigil start`: runs Vigil as a secured, multi-workspace server — every workspace with its ingestion, rules,
 * incidents and automation, the authenticated REST API (OpenAPI at /api/openapi.json), Kusto REST and the Log
 * Analytics query API — until SIGINT or SIGTERM. On first start it creates the Owner `admin` and prints how to set
 * its password (no default password). `vigil serve` remains the single-workspace ingestion server without accounts.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, EXIT, requiredOption, stringOption, UsageError } from '../command.js';

function port(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) > 65535)
    throw new UsageError(`--${name} must be a port number (0-65535)`);
  return Number(value);
}

export const command: Command = {
  name: 'start',
  summary: 'Run Vigil: workspaces, accounts and roles, the REST API, Kusto REST and Log Analytics endpoints',
  usage: `Usage: vigil start --data DIR [--port P] [--https-port P --tls-cert FILE --tls-key FILE] [options]

Opens (or creates) the server in DIR: DIR/server.sqlite (users, workspaces, audit) and DIR/workspaces/<name>/.
A first start creates the workspace 'default' and the Owner account 'admin', and prints a one-time code to set
its password (or set VIGIL_ADMIN_PASSWORD to give the password instead).

  /api/...                          REST API (OpenAPI 3.1 at /api/openapi.json); sign in at POST /api/auth/login
  /v1/rest/query, /v2/rest/query    Kusto REST (databases are workspaces; a Vigil API token is the bearer token)
  /v1/rest/mgmt                     Kusto management commands (.show tables, .create-or-alter function, ...)
  /v1/workspaces/{id}/query         Log Analytics query API (Azure SDKs need https: --https-port)

Options:
  --data DIR                 server folder
  --port P                   http port (0: any free port; default 8080 unless only https is asked for)
  --host ADDR                address to bind (default 127.0.0.1)
  --https-port P             also serve https with --tls-cert and --tls-key (PEM files)
  --tls-cert FILE, --tls-key FILE
  --public-url URL           the URL people use (OIDC redirects, sign-in instructions)
  --oidc-issuer URL          OpenID Connect sign-in by issuer URL (with --oidc-client-id;
                             the client secret comes from VIGIL_OIDC_CLIENT_SECRET)
  --oidc-client-id ID
  --content DIR              automation content loaded into new workspaces (default: none)
  --schema FILE              table schema (default: content/schema/tables.json)
  --threads N                engine threads per workspace
  --memory-limit SIZE        engine memory limit per workspace, e.g. 4GB
  --no-scheduler             do not run analytics rules`,
  options: {
    data: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'https-port': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'public-url': { type: 'string' },
    'oidc-issuer': { type: 'string' },
    'oidc-client-id': { type: 'string' },
    content: { type: 'string' },
    schema: { type: 'string' },
    threads: { type: 'string' },
    'memory-limit': { type: 'string' },
    'no-scheduler': { type: 'boolean' },
  },

  async run(args, io) {
    const data = resolve(io.cwd, requiredOption(args, 'data'));
    const httpsPort = port(stringOption(args, 'https-port'), 'https-port');
    const cert = stringOption(args, 'tls-cert');
    const key = stringOption(args, 'tls-key');
    if (httpsPort !== undefined && (!cert || !key)) throw new UsageError('--https-port needs --tls-cert and --tls-key');
    const httpPort = port(stringOption(args, 'port'), 'port') ?? (httpsPort === undefined ? 8080 : undefined);
    const issuer = stringOption(args, 'oidc-issuer');
    const clientId = stringOption(args, 'oidc-client-id');
    if (issuer && !clientId) throw new UsageError('--oidc-issuer needs --oidc-client-id');
    const threads = stringOption(args, 'threads');
    if (threads !== undefined && !/^[1-9][0-9]*$/.test(threads)) throw new UsageError('--threads must be a number');
    const memoryLimit = stringOption(args, 'memory-limit');
    const schema = stringOption(args, 'schema');
    const content = stringOption(args, 'content');
    const publicUrl = stringOption(args, 'public-url');
    const { startVigil } = await import('../../api/server.js');
    const server = await startVigil({
      dataDir: data,
      host: stringOption(args, 'host') ?? '127.0.0.1',
      ...(httpPort !== undefined ? { port: httpPort } : {}),
      ...(httpsPort !== undefined && cert && key
        ? {
            tls: {
              port: httpsPort,
              cert: await readFile(resolve(io.cwd, cert)),
              key: await readFile(resolve(io.cwd, key)),
            },
          }
        : {}),
      ...(schema ? { schemaPath: resolve(io.cwd, schema) } : {}),
      ...(publicUrl ? { publicUrl } : {}),
      ...(issuer && clientId
        ? {
            oidc: {
              issuer,
              clientId,
              ...(process.env.VIGIL_OIDC_CLIENT_SECRET ? { clientSecret: process.env.VIGIL_OIDC_CLIENT_SECRET } : {}),
            },
          }
        : {}),
      ...(process.env.VIGIL_ADMIN_PASSWORD ? { initialAdminPassword: process.env.VIGIL_ADMIN_PASSWORD } : {}),
      workspace: {
        engine: { ...(threads ? { threads: Number(threads) } : {}), ...(memoryLimit ? { memoryLimit } : {}) },
        ...(args.values['no-scheduler'] === true ? { scheduler: false } : {}),
        ...(content ? { automation: { content: resolve(io.cwd, content) } } : {}),
      },
      onFirstStart: (info) => io.stderr.write(`${info.message}\n`),
      log: (m) => io.stderr.write(`vigil start: ${m}\n`),
    });
    io.stderr.write(`vigil start: data in ${data}\n`);
    if (server.url) io.stderr.write(`vigil start: listening on ${server.url}\n`);
    if (server.httpsUrl) io.stderr.write(`vigil start: listening on ${server.httpsUrl}\n`);
    // One machine-readable line on stdout, for scripts and tests that start the server on port 0.
    io.stdout.write(`${JSON.stringify({ url: server.url, httpsUrl: server.httpsUrl })}\n`);
    const signal = await new Promise<NodeJS.Signals>((done) => {
      process.once('SIGINT', () => done('SIGINT'));
      process.once('SIGTERM', () => done('SIGTERM'));
    });
    io.stderr.write(`vigil start: ${signal}: finishing requests, committing pending batches, closing\n`);
    await server.close();
    io.stderr.write('vigil start: stopped\n');
    return EXIT.ok;
  },
};
