/**
 * `vigil workspaces`: the workspaces (tenants) I can use, with my role in each, and creating one (server
 * administrators; the creator becomes its Owner).
 */
import { type Command, EXIT, stringOption } from '../command.js';
import { connect, positional, printJson, printTable, REMOTE_OPTIONS, REMOTE_USAGE, subcommand } from '../remote.js';

interface WorkspaceView {
  id: string;
  name: string;
  displayName?: string;
  role?: string | null;
  approver?: boolean;
  createdAt?: string;
}

export const command: Command = {
  name: 'workspaces',
  summary: 'Workspaces over the API: list (with my role), create',
  usage: `Usage: vigil workspaces list
       vigil workspaces create NAME [--display-name TEXT]

NAME: lower-case letters, digits and '-'. Creating needs a server administrator; the creator becomes its Owner.

${REMOTE_USAGE}`,
  options: { ...REMOTE_OPTIONS, 'display-name': { type: 'string' } },

  async run(args, io) {
    const { sub, rest } = subcommand(args, ['list', 'create'], 'list');
    const remote = await connect(args);
    if (sub === 'list') {
      const items = await remote.all<WorkspaceView>('/api/workspaces?limit=1000');
      if (printJson(args, io, items)) return EXIT.ok;
      printTable(
        io,
        ['NAME', 'DISPLAY NAME', 'MY ROLE', 'CREATED'],
        items.map((w) => [
          w.name === remote.workspace ? `${w.name} *` : w.name,
          w.displayName,
          w.role ? `${w.role}${w.approver ? ' + Approver' : ''}` : '',
          w.createdAt?.slice(0, 10),
        ]),
      );
      return EXIT.ok;
    }
    const name = positional(rest, 0, 'the workspace name');
    const displayName = stringOption(args, 'display-name');
    const a = await remote.call<WorkspaceView>('POST', '/api/workspaces', {
      body: { name, ...(displayName ? { displayName } : {}) },
    });
    if (!printJson(args, io, a.json)) io.stderr.write(`Created workspace ${a.json.name}; you are its Owner.\n`);
    return EXIT.ok;
  },
};
