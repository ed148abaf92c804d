/**
 * `vigil api`: calls any endpoint of the REST API with the saved credential and prints the JSON answer — for
 * every resource without a command of its own (tables, connectors, saved queries, functions, alerts, settings ...);
 * `GET /api/openapi.json` lists them all.
 */
import { type Command, EXIT, stringOption, UsageError } from '../command.js';
import { connect, REMOTE_OPTIONS, REMOTE_USAGE, readStdin } from '../remote.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export const command: Command = {
  name: 'api',
  summary: 'Call any REST endpoint with the saved credential (GET /api/openapi.json lists them)',
  usage: `Usage: vigil api [METHOD] PATH [--data JSON | --data -] [--header 'Name: value']...

PATH is the endpoint's path; '{workspace}' in it is replaced by the workspace (e.g. GET
/api/workspaces/{workspace}/tables). METHOD defaults to GET, or POST with --data. --data - reads the body from
stdin. The answer's body is printed on stdout; a status of 400 or more exits 1 with the error on stderr.

Examples:
  vigil api /api/workspaces/{workspace}/tables
  vigil api PUT /api/workspaces/{workspace}/functions/FailedSsh --data '{"body":"Syslog | where SyslogMessage has \\"Failed\\""}'
  vigil api /api/openapi.json --server http://127.0.0.1:8080

${REMOTE_USAGE}`,
  options: { ...REMOTE_OPTIONS, data: { type: 'string' }, header: { type: 'string', multiple: true } },

  async run(args, io) {
    const [a, b, ...more] = args.positionals;
    if (more.length > 0) throw new UsageError(`unexpected '${more[0]}'`);
    const hasMethod = a !== undefined && METHODS.includes(a.toUpperCase()) && b !== undefined;
    const data = stringOption(args, 'data');
    const method = hasMethod ? (a as string).toUpperCase() : data !== undefined ? 'POST' : 'GET';
    const rawPath = hasMethod ? b : a;
    if (!rawPath?.startsWith('/')) throw new UsageError('missing the PATH (starting with /)');
    const headers: Record<string, string> = {};
    const hs = args.values.header;
    for (const h of Array.isArray(hs) ? hs : []) {
      const i = h.indexOf(':');
      if (i <= 0) throw new UsageError(`--header must be 'Name: value', not '${h}'`);
      headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
    }
    const remote = await connect(args, { anonymous: true });
    const path = rawPath.replace(/\{workspace\}/g, encodeURIComponent(remote.workspace));
    const body = data === '-' ? await readStdin() : data;
    if (body !== undefined) {
      try {
        JSON.parse(body);
      } catch (e) {
        throw new UsageError(`--data is not JSON: ${(e as Error).message}`);
      }
    }
    const res = await remote.raw(method, path, { headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let pretty = text;
    try {
      pretty = text ? JSON.stringify(JSON.parse(text), null, 2) : '';
    } catch {
      pretty = text;
    }
    if (res.status >= 400) {
      io.stderr.write(`vigil api: ${method} ${path}: ${res.status}\n${pretty}\n`);
      return EXIT.failure;
    }
    if (pretty) io.stdout.write(`${pretty}\n`);
    return EXIT.ok;
  },
};
