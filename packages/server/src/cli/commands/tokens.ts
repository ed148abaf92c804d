/**
 * `vigil tokens`: my API tokens over the API — list, create (scoped, bound to a workspace, expiring; the secret is
 * printed once), revoke. Tokens are created from a signed-in session: `vigil login` saves a token, so creating one
 * here signs in with --name and a password first when the saved credential is itself a token.
 */
import { type Command, EXIT, stringOption, UsageError } from '../command.js';
import {
  connect,
  intOption,
  listOption,
  positional,
  printJson,
  printTable,
  REMOTE_OPTIONS,
  REMOTE_USAGE,
  Remote,
  readStdin,
  subcommand,
} from '../remote.js';

const PERMISSIONS = ['read', 'triage', 'author', 'ingest', 'admin', 'approve'];

interface Token {
  id: string;
  name: string;
  scopes: string[] | null;
  workspaceId: string | null;
  createdAt: string;
  expiresAt: string;
  lastUsedAt?: string | null;
  revokedAt?: string | null;
}

export const command: Command = {
  name: 'tokens',
  summary: 'My API tokens over the API: list, create (shown once), revoke',
  usage: `Usage: vigil tokens list
       vigil tokens create NAME [--scopes read,triage,...] [--bind] [--days N] [--name USER --password-stdin]
       vigil tokens revoke ID

create prints the token's secret once on stdout. --scopes limits it to some permissions (${PERMISSIONS.join(', ')});
--bind limits it to the workspace (--workspace); --days sets its lifetime (1-366, default 90).
A token cannot create tokens: when the saved credential is a token, give --name and the password on stdin.

${REMOTE_USAGE}`,
  options: {
    ...REMOTE_OPTIONS,
    scopes: { type: 'string', multiple: true },
    bind: { type: 'boolean' },
    days: { type: 'string' },
    name: { type: 'string' },
    'password-stdin': { type: 'boolean' },
  },

  async run(args, io) {
    const { sub, rest } = subcommand(args, ['list', 'create', 'revoke'], 'list');
    let remote = await connect(args);
    if (sub === 'list') {
      const tokens = await remote.all<Token>('/api/tokens?limit=1000');
      if (printJson(args, io, tokens)) return EXIT.ok;
      printTable(
        io,
        ['ID', 'NAME', 'SCOPES', 'EXPIRES', 'LAST USED', 'STATE'],
        tokens.map((t) => [
          t.id,
          t.name,
          t.scopes?.join(',') ?? 'all',
          t.expiresAt.slice(0, 10),
          t.lastUsedAt?.slice(0, 19).replace('T', ' '),
          t.revokedAt ? 'revoked' : Date.parse(t.expiresAt) < Date.now() ? 'expired' : 'active',
        ]),
      );
      return EXIT.ok;
    }
    if (sub === 'revoke') {
      await remote.call('DELETE', `/api/tokens/${encodeURIComponent(positional(rest, 0, 'the token id'))}`);
      io.stderr.write('Revoked.\n');
      return EXIT.ok;
    }
    const name = positional(rest, 0, 'the token name');
    const scopes = listOption(args, 'scopes');
    for (const s of scopes)
      if (!PERMISSIONS.includes(s)) throw new UsageError(`unknown scope '${s}'; one of ${PERMISSIONS.join(', ')}`);
    const days = intOption(args, 'days', 1, 366) ?? 90;
    let session: string | null = null;
    const user = stringOption(args, 'name');
    if (user) {
      if (args.values['password-stdin'] !== true) throw new UsageError('--name needs --password-stdin');
      const password = (await readStdin()).replace(/\r?\n$/, '');
      session = (await remote.call<{ token: string }>('POST', '/api/auth/login', { body: { name: user, password } }))
        .json.token;
      remote = new Remote(remote.server, session, remote.workspace);
    }
    try {
      const a = await remote.call<{ value: string; token: Token }>('POST', '/api/tokens', {
        body: {
          name,
          expiresInDays: days,
          ...(scopes.length ? { scopes } : {}),
          ...(args.values.bind === true ? { workspace: remote.workspace } : {}),
        },
      });
      if (printJson(args, io, a.json)) return EXIT.ok;
      io.stdout.write(`${a.json.value}\n`);
      io.stderr.write(
        `Created token ${a.json.token.id} '${name}' (${scopes.length ? scopes.join(',') : 'all permissions'}${args.values.bind === true ? `, workspace ${remote.workspace}` : ''}, expires ${a.json.token.expiresAt.slice(0, 10)}). The secret above is shown only now.\n`,
      );
      return EXIT.ok;
    } finally {
      if (session) await remote.call('POST', '/api/auth/logout').catch(() => undefined);
    }
  },
};
