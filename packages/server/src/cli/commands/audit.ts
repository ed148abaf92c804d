/**
 * `vigil audit`: the audit log over the API — every change and query of a workspace (Owners), or the server's
 * own log (sign-ins, users, workspaces; server administrators), newest first, with filters.
 */
import { type Command, EXIT, stringOption, UsageError } from '../command.js';
import { connect, intOption, printJson, printTable, queryString, REMOTE_OPTIONS, REMOTE_USAGE } from '../remote.js';

interface Entry {
  at: string;
  userName: string;
  auth: string;
  kind: string;
  action: string;
  method: string;
  path: string;
  target: string | null;
  status: number;
  durationMs?: number;
}

export const command: Command = {
  name: 'audit',
  summary: 'The audit log over the API: who changed or queried what, when',
  usage: `Usage: vigil audit [--kind change|query|auth] [--user NAME] [--action ID] [--target ID]
                   [--from ISO] [--to ISO] [--limit N | --all] [--server-log]

The workspace's log (Owners), newest first; --server-log reads the server's log instead (server administrators).
--action takes an operation id, e.g. incidents.update, queries.run, kusto.queryV2.

${REMOTE_USAGE}`,
  options: {
    ...REMOTE_OPTIONS,
    kind: { type: 'string' },
    user: { type: 'string' },
    action: { type: 'string' },
    target: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    limit: { type: 'string' },
    all: { type: 'boolean' },
    'server-log': { type: 'boolean' },
  },

  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected '${args.positionals[0]}'`);
    const kind = stringOption(args, 'kind');
    if (kind && !['change', 'query', 'auth'].includes(kind))
      throw new UsageError('--kind must be change, query or auth');
    for (const o of ['from', 'to']) {
      const v = stringOption(args, o);
      if (v !== undefined && Number.isNaN(Date.parse(v))) throw new UsageError(`--${o} must be an ISO 8601 date-time`);
    }
    const limit = intOption(args, 'limit', 1, 1000) ?? 50;
    const remote = await connect(args);
    const path = `${args.values['server-log'] === true ? '/api/audit' : remote.ws('/audit')}${queryString({
      kind,
      user: stringOption(args, 'user'),
      action: stringOption(args, 'action'),
      target: stringOption(args, 'target'),
      from: stringOption(args, 'from') ? new Date(stringOption(args, 'from') as string).toISOString() : undefined,
      to: stringOption(args, 'to') ? new Date(stringOption(args, 'to') as string).toISOString() : undefined,
      limit: args.values.all === true ? 1000 : limit,
    })}`;
    const items =
      args.values.all === true
        ? await remote.all<Entry>(path)
        : (await remote.call<{ items: Entry[] }>('GET', path)).json.items;
    if (printJson(args, io, items)) return EXIT.ok;
    printTable(
      io,
      ['WHEN', 'USER', 'KIND', 'ACTION', 'TARGET', 'STATUS'],
      items.map((e) => [e.at.slice(0, 19).replace('T', ' '), e.userName, e.kind, e.action, e.target, e.status]),
    );
    return EXIT.ok;
  },
};
