/**
 * `vigil validate`: the seed's Step 7 checklist against a running workspace over the REST API (see
 * `demo/validate.ts`). Prints each step as PASS/FAIL with its reason; exit 0 only when every step passes.
 */
import { type Command, EXIT, stringOption, UsageError } from '../command.js';

export const command: Command = {
  name: 'validate',
  summary: "Check the SOC workflow end to end on a running server (the seed's Step 7)",
  usage: `Usage: vigil validate [--url URL] (--token T | --user NAME --password P) [options]

Runs the end-to-end checklist against a running workspace, through the REST API:
  1. connectors healthy and data arriving, per selected table
  2. a low-risk test alert (Informational, Defender for Endpoint, its own host/account/IP) becomes an incident
  3. SecurityIncident | where ProviderName == "Microsoft XDR" returns it
  4. a sample DeviceProcessEvents query returns rows
  5. the incident's entity mapping shows an account, a host and an IP
  6. the automation rules that ran on it applied their tags, owner and tasks
  7. the test incident is closed (BenignPositive, tagged vigil-validate) and SecurityIncident shows the closure
Exit code 0 only when every step passes (1 otherwise).

Options:
  --url URL          server URL (default: VIGIL_SERVER, else the server 'vigil login' saved,
                     else http://127.0.0.1:8080)
  --token T          API token with read, ingest and triage on the workspace (default: VIGIL_TOKEN,
                     else the token 'vigil login' saved for that server)
  --user NAME        sign in with a password instead (password from --password or VIGIL_PASSWORD)
  --password P
  --workspace NAME   workspace (default: VIGIL_WORKSPACE, else the saved one, else default)
  --table NAME       a table that must be receiving data (repeatable; default: every selected table with data)
  --max-age MIN      data older than MIN minutes is not "arriving" (default 60)
  --timeout SEC      how long to wait for each asynchronous effect (default 60)
  --json             print the report as JSON on stdout`,
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    workspace: { type: 'string' },
    table: { type: 'string', multiple: true },
    'max-age': { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
  },

  async run(args, io) {
    // Like the other API commands, fall back to the environment and to what `vigil login` saved.
    const { readLogin } = await import('../remote.js');
    const saved = await readLogin();
    const url = (
      stringOption(args, 'url') ??
      process.env.VIGIL_SERVER ??
      saved?.server ??
      'http://127.0.0.1:8080'
    ).replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError('--url must be an http(s) URL');
    const user = stringOption(args, 'user');
    const token =
      stringOption(args, 'token') ??
      process.env.VIGIL_TOKEN ??
      (!user && saved && saved.server.replace(/\/+$/, '') === url ? saved.token : undefined);
    const password = stringOption(args, 'password') ?? process.env.VIGIL_PASSWORD;
    if (!token && !(user && password))
      throw new UsageError("give --token, or --user and --password (or sign in with 'vigil login' first)");
    const num = (name: string): number | undefined => {
      const v = stringOption(args, name);
      if (v === undefined) return undefined;
      if (!/^[0-9]+(\.[0-9]+)?$/.test(v) || Number(v) <= 0) throw new UsageError(`--${name} must be a positive number`);
      return Number(v);
    };
    const maxAge = num('max-age');
    const timeout = num('timeout');
    const tables = args.values.table;
    const { validateWorkspace } = await import('../../demo/validate.js');
    io.stderr.write(`vigil validate: ${url}\n`);
    const report = await validateWorkspace({
      url,
      ...(token ? { token } : { user: user as string, password: password as string }),
      workspace: stringOption(args, 'workspace') ?? process.env.VIGIL_WORKSPACE ?? saved?.workspace ?? 'default',
      ...(Array.isArray(tables) ? { tables } : {}),
      ...(maxAge !== undefined ? { maxDataAgeMs: maxAge * 60_000 } : {}),
      ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
      onStep: (s) =>
        io.stderr.write(
          `  ${s.ok ? 'PASS' : 'FAIL'}  ${s.name} (${(s.ms / 1000).toFixed(1)} s)\n        ${s.detail}\n`,
        ),
    });
    const passed = report.steps.filter((s) => s.ok).length;
    io.stderr.write(
      `vigil validate: ${report.ok ? 'all' : `${passed} of`} ${report.steps.length} steps passed` +
        `${report.incidentNumber !== null ? ` (test incident #${report.incidentNumber})` : ''}\n`,
    );
    if (args.values.json === true) io.stdout.write(`${JSON.stringify(report)}\n`);
    return report.ok ? EXIT.ok : EXIT.failure;
  },
};
