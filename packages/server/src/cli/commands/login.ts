/**
 * `vigil login`: signs in to a Vigil server with a name and password (or checks a given API token), mints an API
 * token for this machine and saves it with the server and workspace, so the API commands need no options. The
 * password is read from stdin (`--password-stdin`), `VIGIL_PASSWORD`, or typed at a prompt — never an argument,
 * which other users could read in the process list.
 */
import { hostname } from 'node:os';
import { type Command, EXIT, requiredOption, stringOption, UsageError } from '../command.js';
import { connect, intOption, Remote, readStdin, saveLogin } from '../remote.js';

export const command: Command = {
  name: 'login',
  summary: 'Sign in to a Vigil server and save an API token for the other API commands',
  usage: `Usage: vigil login --server URL --name NAME [--password-stdin] [--workspace NAME] [--days N]
       vigil login --server URL --token TOKEN [--workspace NAME]

Signs in, creates an API token named 'vigil CLI on <host>' (valid --days, default 30) and saves server, token and
workspace in $VIGIL_CONFIG (default ~/.config/vigil/cli.json, readable only by you). The session used to create
it is closed. With --token, checks the token and saves it as given.

Options:
  --server URL          the Vigil server, e.g. http://127.0.0.1:8080
  --name NAME           your sign-in name
  --password-stdin      read the password from stdin (else VIGIL_PASSWORD, else a prompt on a terminal)
  --token TOKEN         save this API token instead of signing in
  --workspace NAME, -w  the workspace the other commands use by default (default: your first)
  --days N              token lifetime in days (1-366, default 30)`,
  options: {
    server: { type: 'string' },
    name: { type: 'string' },
    'password-stdin': { type: 'boolean' },
    token: { type: 'string' },
    workspace: { type: 'string', short: 'w' },
    days: { type: 'string' },
  },

  async run(args, io) {
    const server = requiredOption(args, 'server');
    const days = intOption(args, 'days', 1, 366) ?? 30;
    const given = stringOption(args, 'token');
    let token: string;
    let tokenId: string | undefined;
    if (given) {
      token = given;
    } else {
      const name = requiredOption(args, 'name');
      const password =
        args.values['password-stdin'] === true
          ? (await readStdin()).replace(/\r?\n$/, '')
          : (process.env.VIGIL_PASSWORD ?? (await prompt(io, `Password for ${name}: `)));
      if (!password) throw new UsageError('no password given');
      const anon = await connect({ values: { server }, positionals: [] }, { anonymous: true });
      const session = (await anon.call<{ token: string }>('POST', '/api/auth/login', { body: { name, password } })).json
        .token;
      const signedIn = new Remote(anon.server, session, anon.workspace);
      try {
        const minted = await signedIn.call<{ value: string; token: { id: string } }>('POST', '/api/tokens', {
          body: { name: `vigil CLI on ${hostname()}`, expiresInDays: days },
        });
        token = minted.json.value;
        tokenId = minted.json.token.id;
      } finally {
        await signedIn.call('POST', '/api/auth/logout').catch(() => undefined);
      }
    }
    const remote = await connect({ values: { server, token }, positionals: [] });
    const me = (
      await remote.call<{ user: { name: string }; method: string; workspaces: { name: string }[] }>(
        'GET',
        '/api/auth/me',
      )
    ).json;
    const wanted = stringOption(args, 'workspace');
    if (wanted && !me.workspaces.some((w) => w.name === wanted))
      throw new UsageError(
        `you are not a member of workspace '${wanted}'; yours: ${me.workspaces.map((w) => w.name).join(', ') || 'none'}`,
      );
    const workspace = wanted ?? me.workspaces[0]?.name;
    const path = await saveLogin({
      server: remote.server,
      token,
      ...(tokenId ? { tokenId } : {}),
      user: me.user.name,
      ...(workspace ? { workspace } : {}),
    });
    io.stderr.write(
      `Signed in to ${remote.server} as ${me.user.name}${workspace ? `, workspace ${workspace}` : ''}; saved in ${path}\n`,
    );
    return EXIT.ok;
  },
};

/** Reads a line from the terminal without echoing it. */
async function prompt(io: { stderr: NodeJS.WritableStream }, question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new UsageError('no password: use --password-stdin or VIGIL_PASSWORD');
  io.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let text = '';
      const onData = (b: Buffer) => {
        for (const ch of b.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            io.stderr.write('\n');
            resolve(text);
            return;
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            reject(new UsageError('cancelled'));
            return;
          }
          if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
          else text += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}
