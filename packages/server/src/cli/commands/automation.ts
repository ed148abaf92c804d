/**
 * `vigil automation`: automation rules, playbooks, runs and approvals over the API. Definitions are applied from
 * YAML files (the same files the console's editors and `content/` hold: the id inside names the resource);
 * the server validates them and answers diagnostics, which are printed with their position.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type CliIO, type Command, EXIT, type ParsedArgs, stringOption, UsageError } from '../command.js';
import {
  connect,
  positional,
  printFields,
  printJson,
  printTable,
  queryString,
  REMOTE_OPTIONS,
  REMOTE_USAGE,
  type Remote,
  RemoteError,
  subcommand,
} from '../remote.js';

const GROUPS = ['rules', 'playbooks', 'runs', 'approvals'] as const;
const VERBS: Record<(typeof GROUPS)[number], readonly string[]> = {
  rules: ['list', 'show', 'apply', 'enable', 'disable', 'delete'],
  playbooks: ['list', 'show', 'apply', 'enable', 'disable', 'delete', 'run'],
  runs: ['list', 'show', 'abort', 'rerun'],
  approvals: ['list', 'show', 'approve', 'reject'],
};

interface Run {
  id: string;
  playbookId: string;
  status: string;
  queuedAt: string;
  finishedAt?: string | null;
  incidentId?: string | null;
  trigger?: { kind?: string };
  error?: string | null;
}

interface Approval {
  id: string;
  kind: string;
  status: string;
  title: string;
  requestedAt: string;
  expiresAt: string;
  incidentId?: string | null;
  runId?: string | null;
  action?: string | null;
}

export const command: Command = {
  name: 'automation',
  summary: 'Automation over the API: rules, playbooks (apply YAML, run), runs, approvals',
  usage: `Usage: vigil automation rules list|show ID|apply FILE|enable ID|disable ID|delete ID
       vigil automation playbooks list|show ID|apply FILE|enable ID|disable ID|delete ID
       vigil automation playbooks run ID [--incident ID|NUMBER] [--alert ID]
       vigil automation runs list [--playbook ID] [--incident ID] [--status S] | show ID | abort ID | rerun ID
       vigil automation approvals list [--status pending|approved|rejected|expired|...] | show ID
       vigil automation approvals approve|reject ID [--comment TEXT]

apply reads a YAML (or JSON) definition; its 'id' names the rule or playbook, created or replaced. Approving
needs the Approver permission.

${REMOTE_USAGE}`,
  options: {
    ...REMOTE_OPTIONS,
    incident: { type: 'string' },
    alert: { type: 'string' },
    playbook: { type: 'string' },
    status: { type: 'string' },
    comment: { type: 'string' },
  },

  async run(args, io) {
    const { sub: group, rest } = subcommand(args, GROUPS);
    const verb = rest[0] ?? 'list';
    const known = VERBS[group as (typeof GROUPS)[number]];
    if (!known.includes(verb)) throw new UsageError(`unknown '${group} ${verb}'; one of ${known.join(', ')}`);
    const remote = await connect(args);
    const A = (p: string) => remote.ws(`/automation${p}`);
    const id = () => encodeURIComponent(positional(rest, 1, verb === 'apply' ? 'the YAML file' : 'the id'));

    if (group === 'rules' || group === 'playbooks') {
      const base = `/${group}`;
      if (verb === 'list') {
        const items = await remote.all<{
          id: string;
          name: string;
          enabled?: boolean;
          order?: number;
          trigger?: string | { kind?: string };
          version?: number;
        }>(A(`${base}?limit=1000`));
        if (printJson(args, io, items)) return EXIT.ok;
        printTable(
          io,
          group === 'rules'
            ? ['ORDER', 'ID', 'ENABLED', 'TRIGGER', 'NAME']
            : ['ID', 'ENABLED', 'VERSION', 'TRIGGER', 'NAME'],
          items.map((r) => {
            const trigger = typeof r.trigger === 'object' ? r.trigger?.kind : r.trigger;
            return group === 'rules'
              ? [r.order, r.id, r.enabled ? 'yes' : 'no', trigger, r.name]
              : [r.id, r.enabled ? 'yes' : 'no', r.version, trigger, r.name];
          }),
        );
        return EXIT.ok;
      }
      if (verb === 'show') {
        const a = await remote.call('GET', A(`${base}/${id()}`));
        io.stdout.write(`${JSON.stringify(a.json, null, 2)}\n`);
        return EXIT.ok;
      }
      if (verb === 'apply') return apply(args, io, remote, group, positional(rest, 1, 'the YAML file'));
      if (verb === 'enable' || verb === 'disable') {
        await remote.call('PATCH', A(`${base}/${id()}`), { body: { enabled: verb === 'enable' } });
        io.stderr.write(`${verb === 'enable' ? 'Enabled' : 'Disabled'} ${rest[1]}.\n`);
        return EXIT.ok;
      }
      if (verb === 'delete') {
        await remote.call('DELETE', A(`${base}/${id()}`));
        io.stderr.write(`Deleted ${rest[1]}.\n`);
        return EXIT.ok;
      }
      // playbooks run
      const incident = stringOption(args, 'incident');
      const alert = stringOption(args, 'alert');
      const run = (
        await remote.call<Run>('POST', A(`/playbooks/${id()}/runs`), {
          body: {
            ...(incident !== undefined ? { incidentId: /^[0-9]+$/.test(incident) ? Number(incident) : incident } : {}),
            ...(alert !== undefined ? { alertId: alert } : {}),
          },
        })
      ).json;
      if (!printJson(args, io, run)) {
        io.stdout.write(`${run.id}\n`);
        io.stderr.write(
          `Run ${run.id} of ${rest[1]} ${run.status}; follow it with: vigil automation runs show ${run.id}\n`,
        );
      }
      return EXIT.ok;
    }

    if (group === 'runs') {
      if (verb === 'list') {
        const status = stringOption(args, 'status');
        const runs = (
          await remote.call<{ items: Run[] }>(
            'GET',
            A(
              `/runs${queryString({ playbookId: stringOption(args, 'playbook'), incidentId: stringOption(args, 'incident'), status, limit: 100 })}`,
            ),
          )
        ).json.items;
        if (printJson(args, io, runs)) return EXIT.ok;
        printTable(
          io,
          ['ID', 'PLAYBOOK', 'STATUS', 'QUEUED', 'INCIDENT', 'ERROR'],
          runs.map((r) => [
            r.id,
            r.playbookId,
            r.status,
            r.queuedAt.slice(0, 19).replace('T', ' '),
            r.incidentId,
            r.error,
          ]),
        );
        return EXIT.ok;
      }
      if (verb === 'show') {
        const d = (
          await remote.call<{
            run: Run;
            steps: { stepId?: string; id?: string; status: string; attempts?: number; error?: string | null }[];
            logs: { at?: string; level?: string; message?: string; stepId?: string }[];
          }>('GET', A(`/runs/${id()}`))
        ).json;
        if (printJson(args, io, d)) return EXIT.ok;
        printFields(io, [
          ['Run', d.run.id],
          ['Playbook', d.run.playbookId],
          ['Status', d.run.status],
          ['Queued', d.run.queuedAt],
          ['Finished', d.run.finishedAt ?? null],
          ['Incident', d.run.incidentId ?? null],
          ['Error', d.run.error ?? undefined],
        ]);
        io.stdout.write('\nSteps:\n');
        for (const s of d.steps)
          io.stdout.write(`  ${(s.stepId ?? s.id ?? '?').padEnd(24)} ${s.status}${s.error ? `  ${s.error}` : ''}\n`);
        if (d.logs.length > 0) {
          io.stdout.write('\nLog:\n');
          for (const l of d.logs)
            io.stdout.write(`  ${l.at ?? ''} ${l.level ?? ''} ${l.stepId ?? ''} ${l.message ?? ''}\n`);
        }
        return EXIT.ok;
      }
      const a = await remote.call<Run>('POST', A(`/runs/${id()}/${verb}`), verb === 'rerun' ? { body: {} } : {});
      if (!printJson(args, io, a.json))
        io.stderr.write(`${verb === 'abort' ? 'Aborted' : 'Re-ran as'} ${a.json.id}: ${a.json.status}\n`);
      return EXIT.ok;
    }

    // approvals
    if (verb === 'list') {
      const status = stringOption(args, 'status');
      const items = (
        await remote.call<{ items: Approval[] }>('GET', A(`/approvals${queryString({ status, limit: 100 })}`))
      ).json.items;
      if (printJson(args, io, items)) return EXIT.ok;
      printTable(
        io,
        ['ID', 'STATUS', 'KIND', 'REQUESTED', 'EXPIRES', 'INCIDENT', 'TITLE'],
        items.map((a) => [
          a.id,
          a.status,
          a.kind,
          a.requestedAt.slice(0, 19).replace('T', ' '),
          a.expiresAt.slice(0, 19).replace('T', ' '),
          a.incidentId,
          a.title,
        ]),
      );
      return EXIT.ok;
    }
    if (verb === 'show') {
      const a = await remote.call('GET', A(`/approvals/${id()}`));
      io.stdout.write(`${JSON.stringify(a.json, null, 2)}\n`);
      return EXIT.ok;
    }
    const comment = stringOption(args, 'comment');
    const a = await remote.call<Approval>('POST', A(`/approvals/${id()}/${verb}`), {
      body: comment !== undefined ? { comment } : {},
    });
    if (!printJson(args, io, a.json)) io.stderr.write(`${a.json.title}: ${a.json.status}.\n`);
    return EXIT.ok;
  },
};

/** PUT a definition file under the id it declares; diagnostics are printed with their line. */
async function apply(
  args: ParsedArgs,
  io: CliIO,
  remote: Remote,
  group: 'rules' | 'playbooks',
  file: string,
): Promise<number> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const { parse } = await import('yaml');
  let id: unknown;
  try {
    id = (parse(text) as { id?: unknown } | null)?.id;
  } catch (e) {
    throw new UsageError(`${file} is not YAML: ${(e as Error).message}`);
  }
  if (typeof id !== 'string' || id === '') throw new UsageError(`${file} has no 'id'`);
  try {
    const a = await remote.call<{ diagnostics?: Diagnostic[] }>(
      'PUT',
      remote.ws(`/automation/${group}/${encodeURIComponent(id)}`),
      { body: { yaml: text } },
    );
    if (printJson(args, io, a.json)) return EXIT.ok;
    for (const d of a.json.diagnostics ?? []) printDiagnostic(io.stderr, file, text, d);
    io.stderr.write(`Applied ${group === 'rules' ? 'automation rule' : 'playbook'} ${id}.\n`);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof RemoteError && e.status === 400) {
      const ds = (e.details as { diagnostics?: Diagnostic[] } | undefined)?.diagnostics ?? [];
      for (const d of ds) printDiagnostic(io.stderr, file, text, d);
    }
    throw e;
  }
}

interface Diagnostic {
  severity?: string;
  message: string;
  path?: string;
  line?: number;
  start?: number;
}

function printDiagnostic(out: NodeJS.WritableStream, file: string, text: string, d: Diagnostic): void {
  const line = d.line ?? (d.start !== undefined ? text.slice(0, d.start).split('\n').length : undefined);
  out.write(
    `${file}${line !== undefined ? `:${line}` : ''}: ${d.severity ?? 'error'}${d.path ? ` at ${d.path}` : ''}: ${d.message}\n`,
  );
}
