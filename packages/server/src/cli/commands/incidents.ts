/**
 * `vigil incidents`: the incident queue over the API — list with the console's filters, show one, triage
 * (status, severity, owner, tags), comment, close with a classification. Changes can be pinned to the version the
 * caller read (`--if-match`), as the console does, so two analysts do not overwrite each other silently.
 */
import { type Command, EXIT, type ParsedArgs, stringOption, UsageError } from '../command.js';
import {
  connect,
  intOption,
  listOption,
  positional,
  printFields,
  printJson,
  printTable,
  queryString,
  REMOTE_OPTIONS,
  REMOTE_USAGE,
  type Remote,
  subcommand,
} from '../remote.js';

interface Incident {
  id: string;
  number: number;
  title: string;
  severity: string;
  status: string;
  classification: string | null;
  classificationReason?: string | null;
  owner: { userPrincipalName?: string | null; assignedTo?: string | null; email?: string | null } | null;
  tags: string[];
  tactics?: string[];
  alertCount?: number;
  entityCount?: number;
  commentCount?: number;
  firstActivityTime?: string | null;
  lastActivityTime?: string | null;
  createdTime: string;
  lastModifiedTime?: string;
  providerName?: string;
  version: number;
  description?: string;
}

const SUBCOMMANDS = ['list', 'show', 'update', 'comment', 'close'] as const;
const CLASSIFICATIONS = ['TruePositive', 'BenignPositive', 'FalsePositive', 'Undetermined'];

export const command: Command = {
  name: 'incidents',
  summary: 'The incident queue over the API: list, show, update, comment, close',
  usage: `Usage: vigil incidents list [filters] [--sort FIELD] [--order asc|desc] [--limit N | --all]
       vigil incidents show ID|NUMBER
       vigil incidents update ID|NUMBER [--status S] [--severity S] [--owner UPN|none] [--tag T]...
                                        [--untag T]... [--title TEXT] [--if-match VERSION]
       vigil incidents comment ID|NUMBER "TEXT"
       vigil incidents close ID|NUMBER --classification C [--reason R] [--comment TEXT] [--if-match VERSION]

Filters of list (repeat or comma-separate values): --status New,Active,Closed  --severity  --owner (UPN, or
'unassigned')  --tag  --provider  --tactic  --entity (host, UPN, IP, hash ...)  --text (title words or number).
Sort fields: number, createdTime, lastModifiedTime, lastActivityTime, firstActivityTime, severity, alertCount, title.
Classifications: ${CLASSIFICATIONS.join(', ')}.

${REMOTE_USAGE}`,
  options: {
    ...REMOTE_OPTIONS,
    status: { type: 'string', multiple: true },
    severity: { type: 'string', multiple: true },
    owner: { type: 'string' },
    tag: { type: 'string', multiple: true },
    untag: { type: 'string', multiple: true },
    provider: { type: 'string' },
    tactic: { type: 'string' },
    entity: { type: 'string' },
    text: { type: 'string' },
    sort: { type: 'string' },
    order: { type: 'string' },
    limit: { type: 'string' },
    all: { type: 'boolean' },
    title: { type: 'string' },
    classification: { type: 'string' },
    reason: { type: 'string' },
    comment: { type: 'string' },
    'if-match': { type: 'string' },
  },

  async run(args, io) {
    const { sub, rest } = subcommand(args, SUBCOMMANDS, 'list');
    const remote = await connect(args);
    const one = (id: string) => remote.ws(`/incidents/${encodeURIComponent(id)}`);

    if (sub === 'list') {
      const order = stringOption(args, 'order');
      if (order && order !== 'asc' && order !== 'desc') throw new UsageError('--order must be asc or desc');
      const limit = intOption(args, 'limit', 1, 1000) ?? 50;
      const path = remote.ws(
        `/incidents${queryString({
          status: listOption(args, 'status'),
          severity: listOption(args, 'severity'),
          owner: stringOption(args, 'owner'),
          tag: listOption(args, 'tag'),
          provider: stringOption(args, 'provider'),
          tactic: stringOption(args, 'tactic'),
          entity: stringOption(args, 'entity'),
          text: stringOption(args, 'text'),
          sort: stringOption(args, 'sort'),
          order,
          limit: args.values.all === true ? 1000 : limit,
        })}`,
      );
      const items =
        args.values.all === true
          ? await remote.all<Incident>(path)
          : (await remote.call<{ items: Incident[] }>('GET', path)).json.items;
      if (printJson(args, io, items)) return EXIT.ok;
      printTable(
        io,
        ['NUMBER', 'SEVERITY', 'STATUS', 'OWNER', 'ALERTS', 'LAST ACTIVITY', 'TITLE'],
        items.map((i) => [
          i.number,
          i.severity,
          i.status === 'Closed' && i.classification ? `Closed (${i.classification})` : i.status,
          ownerName(i),
          i.alertCount,
          i.lastActivityTime?.slice(0, 19).replace('T', ' '),
          i.title,
        ]),
      );
      return EXIT.ok;
    }

    const id = positional(rest, 0, 'the incident id or number');
    if (sub === 'show') {
      const d = (
        await remote.call<{
          incident: Incident;
          alerts: { items: { alertId: string; title: string; severity: string; startTime?: string }[] };
          comments: { message: string; author: { name?: string; id: string }; createdTime: string }[];
        }>('GET', one(id))
      ).json;
      if (printJson(args, io, d)) return EXIT.ok;
      const i = d.incident;
      printFields(io, [
        ['Incident', `#${i.number} ${i.title}`],
        ['Id', i.id],
        ['Severity', i.severity],
        ['Status', i.status],
        ['Classification', i.classification ? `${i.classification} ${i.classificationReason ?? ''}`.trim() : null],
        ['Owner', ownerName(i)],
        ['Tags', i.tags.join(', ')],
        ['Tactics', i.tactics?.join(', ')],
        ['Activity', `${i.firstActivityTime ?? '?'} → ${i.lastActivityTime ?? '?'}`],
        ['Created', i.createdTime],
        ['Version', i.version],
      ]);
      io.stdout.write(`\nAlerts (${i.alertCount ?? d.alerts.items.length}):\n`);
      for (const a of d.alerts.items) io.stdout.write(`  ${a.startTime ?? ''}  ${a.severity.padEnd(13)} ${a.title}\n`);
      if (d.comments.length > 0) {
        io.stdout.write(`\nComments (${d.comments.length}):\n`);
        for (const c of d.comments)
          io.stdout.write(`  ${c.createdTime} ${c.author.name ?? c.author.id}: ${c.message}\n`);
      }
      return EXIT.ok;
    }

    if (sub === 'comment') {
      const message = rest.slice(1).join(' ').trim();
      if (!message) throw new UsageError('missing the comment text');
      const c = await remote.call('POST', `${one(id)}/comments`, { body: { message } });
      if (!printJson(args, io, c.json)) io.stderr.write(`Commented on incident ${id}.\n`);
      return EXIT.ok;
    }

    const patch: Record<string, unknown> = sub === 'close' ? closePatch(args) : updatePatch(args);
    if (Object.keys(patch).length === 0) throw new UsageError('nothing to change: give at least one field option');
    const i = await patchIncident(remote, one(id), patch, stringOption(args, 'if-match'));
    if (printJson(args, io, i)) return EXIT.ok;
    io.stderr.write(
      `Incident #${i.number}: ${i.status}${i.classification ? ` (${i.classification})` : ''}, ${i.severity}, owner ${ownerName(i) || 'none'}, version ${i.version}.\n`,
    );
    return EXIT.ok;
  },
};

function ownerName(i: Incident): string {
  return i.owner?.userPrincipalName ?? i.owner?.email ?? i.owner?.assignedTo ?? '';
}

function updatePatch(args: ParsedArgs): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const status = single(args, 'status');
  const severity = single(args, 'severity');
  const owner = stringOption(args, 'owner');
  const title = stringOption(args, 'title');
  if (status !== undefined) patch.status = status;
  if (severity !== undefined) patch.severity = severity;
  if (owner !== undefined)
    patch.owner = owner === 'none' || owner === '' ? null : { userPrincipalName: owner, assignedTo: owner };
  if (title !== undefined) patch.title = title;
  const add = listOption(args, 'tag');
  const remove = listOption(args, 'untag');
  if (add.length) patch.addTags = add;
  if (remove.length) patch.removeTags = remove;
  for (const o of ['classification', 'reason', 'comment'])
    if (args.values[o] !== undefined) throw new UsageError(`--${o} is for 'vigil incidents close'`);
  return patch;
}

/** A list option given once (filters of \`list\` may repeat; a change takes one value). */
function single(args: ParsedArgs, name: string): string | undefined {
  const v = listOption(args, name);
  if (v.length > 1) throw new UsageError(`--${name} takes one value when changing an incident`);
  return v[0];
}

function closePatch(args: ParsedArgs): Record<string, unknown> {
  const classification = stringOption(args, 'classification');
  if (!classification) throw new UsageError(`closing needs --classification (${CLASSIFICATIONS.join(', ')})`);
  if (!CLASSIFICATIONS.includes(classification))
    throw new UsageError(`--classification must be one of ${CLASSIFICATIONS.join(', ')}`);
  const reason = stringOption(args, 'reason');
  const comment = stringOption(args, 'comment');
  return {
    status: 'Closed',
    classification,
    ...(reason !== undefined ? { classificationReason: reason } : {}),
    ...(comment !== undefined ? { classificationComment: comment } : {}),
  };
}

async function patchIncident(
  remote: Remote,
  path: string,
  patch: Record<string, unknown>,
  ifMatch: string | undefined,
): Promise<Incident> {
  if (ifMatch !== undefined && !/^[0-9]+$/.test(ifMatch)) throw new UsageError('--if-match must be a version number');
  return (
    await remote.call<Incident>('PATCH', path, {
      body: patch,
      ...(ifMatch !== undefined ? { headers: { 'if-match': ifMatch } } : {}),
    })
  ).json;
}
