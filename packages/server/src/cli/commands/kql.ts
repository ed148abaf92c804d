/**
 * `vigil kql analyze`: the KQL front end as a line protocol, for tools and checks. Reads JSON lines
 * `{"id", "query"}` on stdin and writes one JSON line per query:
 * `{"id", "ok", "diagnostics": [{code, severity, message, start, length}], "columns": [{name, type}] | null}`.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { WorkspaceSchema } from '@vigil/kql';
import { type Command, EXIT, stringOption, UsageError } from '../command.js';

const DEFAULT_SCHEMA = new URL('../../../../../content/schema/tables.json', import.meta.url);

const EXAMPLE = `DeviceProcessEvents
| where Timestamp > ago(1d)
| where FileName in~ ("powershell.exe", "pwsh.exe") and ProcessCommandLine has_any ("-enc", "downloadstring")
| summarize Executions = count(), Devices = dcount(DeviceName) by AccountName
| top 20 by Executions`;

export const command: Command = {
  name: 'kql',
  summary: 'Analyze KQL: diagnostics and result schema (vigil kql analyze)',
  usage: `Usage: vigil kql analyze [--schema FILE] [--example]

Reads JSON lines {"id", "query"} on stdin and writes one JSON line per query:
  {"id", "ok", "diagnostics": [{"code","severity","message","start","length"}], "columns": [{"name","type"}] | null}
Offsets are UTF-16 code units. A line that is not valid JSON gets {"id": null, "ok": false, "error": ...}.

Options:
  --schema FILE   the tables (and functions) queries are checked against: a tables.json file like
                  content/schema/tables.json, or {"tables": [{"name", "columns": [{"name","type"}]}],
                  "functions": [{"name","parameters","body"}]} (default: the workspace schema)
  --example       analyze a sample hunting query and print the result readably`,
  options: {
    schema: { type: 'string' },
    example: { type: 'boolean' },
  },

  async run(args, io) {
    const [sub] = args.positionals;
    if (sub !== 'analyze') throw new UsageError(sub ? `unknown subcommand '${sub}'` : 'missing subcommand: analyze');
    const kql = await import('@vigil/kql');
    const schemaPath = stringOption(args, 'schema');
    const workspace = await loadSchema(schemaPath ?? DEFAULT_SCHEMA, kql.workspaceFromTablesJson);

    if (args.values.example) {
      const a = kql.analyze(EXAMPLE, workspace);
      io.stdout.write(`${EXAMPLE}\n\n`);
      if (a.columns) io.stdout.write(`result: ${kql.typeToString({ kind: 'table', columns: a.columns })}\n`);
      for (const d of a.diagnostics) io.stdout.write(`${d.severity} ${d.code} at ${d.start}: ${d.message}\n`);
      io.stdout.write(a.ok ? 'ok: no errors\n' : 'errors found\n');
      return a.ok ? EXIT.ok : EXIT.failure;
    }

    const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      let request: { id?: unknown; query?: unknown };
      try {
        request = JSON.parse(line) as { id?: unknown; query?: unknown };
      } catch (e) {
        io.stdout.write(`${JSON.stringify({ id: null, ok: false, error: `invalid JSON: ${(e as Error).message}` })}\n`);
        continue;
      }
      if (typeof request.query !== 'string') {
        io.stdout.write(`${JSON.stringify({ id: request.id ?? null, ok: false, error: 'missing "query" string' })}\n`);
        continue;
      }
      const a = kql.analyze(request.query, workspace);
      const out = {
        id: request.id ?? null,
        ok: a.ok,
        diagnostics: a.diagnostics.map((d) => ({
          code: d.code,
          severity: d.severity,
          message: d.message,
          start: d.start,
          length: d.length,
        })),
        columns: a.columns ? a.columns.map((c) => ({ name: c.name, type: c.type })) : null,
      };
      io.stdout.write(`${JSON.stringify(out)}\n`);
    }
    return EXIT.ok;
  },
};

interface GenericSchema {
  readonly tables?: unknown;
  readonly functions?: readonly { name: string; parameters?: string; body: string }[];
  readonly database?: string;
}

async function loadSchema(
  path: string | URL,
  fromTablesJson: (json: unknown) => WorkspaceSchema,
): Promise<WorkspaceSchema> {
  let json: GenericSchema;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as GenericSchema;
  } catch (e) {
    throw new UsageError(`cannot read the schema ${String(path)}: ${(e as Error).message}`);
  }
  const functions = (json.functions ?? []).map((f) => ({
    name: f.name,
    parameters: f.parameters ?? '()',
    body: f.body,
  }));
  if (Array.isArray(json.tables)) {
    const tables = (json.tables as { name: string; columns: { name: string; type: string }[] }[]).map((t) => ({
      name: t.name,
      columns: t.columns.map((c) => ({ name: c.name, type: c.type as 'string' })),
    }));
    return { database: json.database ?? 'Vigil', tables, functions };
  }
  const ws = fromTablesJson(json);
  return { ...ws, functions };
}
