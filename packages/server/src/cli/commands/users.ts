/**
 * `vigil users`: members of a workspace and their roles over the API (Owner only): list, add (a one-time setup
 * code is printed when no password is given — the user sets their own), change role or Approver grant, disable,
 * remove, and issue a new setup code. Users are named by sign-in name; the API's ids are looked up.
 */
import { type Command, EXIT, stringOption, UsageError } from '../command.js';
import {
  connect,
  positional,
  printJson,
  printTable,
  REMOTE_OPTIONS,
  REMOTE_USAGE,
  type Remote,
  readStdin,
  subcommand,
} from '../remote.js';

const ROLES = ['Reader', 'Responder', 'Contributor', 'Owner'];

interface Member {
  user: { id: string; name: string; displayName?: string; email?: string | null; disabled?: boolean };
  role: string;
  approver: boolean;
}

export const command: Command = {
  name: 'users',
  summary: 'Workspace members and roles over the API: list, add, set, remove, reset',
  usage: `Usage: vigil users list
       vigil users add NAME --role ROLE [--approver] [--display-name TEXT] [--email ADDR] [--password-stdin]
       vigil users set NAME [--role ROLE] [--approver | --no-approver] [--disable | --enable]
       vigil users remove NAME
       vigil users reset NAME          (a new one-time setup code for the user to set a password)

Roles: ${ROLES.join(', ')}; --approver grants the Approver permission (destructive actions).
Without --password-stdin, 'add' prints a one-time setup code: the user sets their password with it.

${REMOTE_USAGE}`,
  options: {
    ...REMOTE_OPTIONS,
    role: { type: 'string' },
    approver: { type: 'boolean' },
    'no-approver': { type: 'boolean' },
    'display-name': { type: 'string' },
    email: { type: 'string' },
    'password-stdin': { type: 'boolean' },
    disable: { type: 'boolean' },
    enable: { type: 'boolean' },
  },

  async run(args, io) {
    const { sub, rest } = subcommand(args, ['list', 'add', 'set', 'remove', 'reset'], 'list');
    const role = stringOption(args, 'role');
    if (role !== undefined && !ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    const remote = await connect(args);

    if (sub === 'list') {
      const members = await remote.all<Member>(remote.ws('/users?limit=1000'));
      if (printJson(args, io, members)) return EXIT.ok;
      printTable(
        io,
        ['NAME', 'ROLE', 'APPROVER', 'DISPLAY NAME', 'E-MAIL', 'STATE'],
        members.map((m) => [
          m.user.name,
          m.role,
          m.approver ? 'yes' : '',
          m.user.displayName,
          m.user.email,
          m.user.disabled ? 'disabled' : '',
        ]),
      );
      return EXIT.ok;
    }

    const name = positional(rest, 0, 'the user name');
    if (sub === 'add') {
      if (!role) throw new UsageError(`missing --role (${ROLES.join(', ')})`);
      const password = args.values['password-stdin'] === true ? (await readStdin()).replace(/\r?\n$/, '') : undefined;
      const displayName = stringOption(args, 'display-name');
      const email = stringOption(args, 'email');
      const a = await remote.call<Member & { setupCode: string | null }>('POST', remote.ws('/users'), {
        body: {
          name,
          role,
          approver: args.values.approver === true,
          ...(displayName ? { displayName } : {}),
          ...(email ? { email } : {}),
          ...(password !== undefined ? { password } : {}),
        },
      });
      if (printJson(args, io, a.json)) return EXIT.ok;
      io.stderr.write(`Added ${a.json.user.name} as ${a.json.role}${a.json.approver ? ' (Approver)' : ''}.\n`);
      if (a.json.setupCode) printSetup(io, remote, a.json.setupCode);
      return EXIT.ok;
    }

    const member = await findMember(remote, name);
    const path = remote.ws(`/users/${encodeURIComponent(member.user.id)}`);
    if (sub === 'remove') {
      await remote.call('DELETE', path);
      io.stderr.write(`Removed ${member.user.name} from workspace ${remote.workspace}.\n`);
      return EXIT.ok;
    }
    if (sub === 'reset') {
      const a = await remote.call<{ setupCode: string }>('POST', `${path}/setup-code`);
      if (printJson(args, io, a.json)) return EXIT.ok;
      printSetup(io, remote, a.json.setupCode);
      return EXIT.ok;
    }
    if (args.values.approver === true && args.values['no-approver'] === true)
      throw new UsageError('--approver and --no-approver together');
    if (args.values.disable === true && args.values.enable === true)
      throw new UsageError('--disable and --enable together');
    const patch: Record<string, unknown> = {
      ...(role ? { role } : {}),
      ...(args.values.approver === true ? { approver: true } : {}),
      ...(args.values['no-approver'] === true ? { approver: false } : {}),
      ...(args.values.disable === true ? { disabled: true } : {}),
      ...(args.values.enable === true ? { disabled: false } : {}),
      ...(stringOption(args, 'display-name') ? { displayName: stringOption(args, 'display-name') } : {}),
      ...(stringOption(args, 'email') ? { email: stringOption(args, 'email') } : {}),
    };
    if (Object.keys(patch).length === 0) throw new UsageError('nothing to change');
    const m = (await remote.call<Member>('PATCH', path, { body: patch })).json;
    if (printJson(args, io, m)) return EXIT.ok;
    io.stderr.write(
      `${m.user.name}: ${m.role}${m.approver ? ' (Approver)' : ''}${m.user.disabled ? ', disabled' : ''}.\n`,
    );
    return EXIT.ok;
  },
};

async function findMember(remote: Remote, name: string): Promise<Member> {
  const members = await remote.all<Member>(remote.ws('/users?limit=1000'));
  const m = members.find((x) => x.user.name.toLowerCase() === name.toLowerCase());
  if (!m) throw new UsageError(`no member named '${name}' in workspace ${remote.workspace}`);
  return m;
}

function printSetup(
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
  remote: Remote,
  code: string,
) {
  io.stdout.write(`${code}\n`);
  io.stderr.write(
    `Give the user this one-time code; they set their password with:\n  curl -X POST ${remote.server}/api/auth/setup -H 'content-type: application/json' -d '{"code":"<code>","password":"<12+ characters>"}'\n`,
  );
}
