/**
 * `vigil ingest`: bulk-loads files into a workspace table through the engine's own reader (the minimal loader;
 * the ingestion service with HTTP endpoints is `vigil serve`).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { LoadProgress, LoadReport, TableDefinition } from '../../engine/engine.js';
import { type CliIO, type Command, EXIT, requiredOption, stringOption, UsageError } from '../command.js';

const DEFAULT_SCHEMA = new URL('../../../../../content/schema/tables.json', import.meta.url);
const FORMATS = ['auto', 'ndjson', 'json-array', 'csv'] as const;

export const command: Command = {
  name: 'ingest',
  summary: 'Load NDJSON, JSON-array or CSV files into a workspace table',
  usage: `Usage: vigil ingest --data DIR --table TABLE [options] FILE...

Loads each FILE into TABLE of the workspace in DIR (created if missing). The table is created on first use from
the workspace schema. Values are coerced to the column types; a row with a value that cannot be coerced is not
loaded and is reported. Export quirks are understood: \`Name [UTC]\` headers, \`X_dynamic\`/\`X_string\` splits,
portal date formats, and the Defender streaming-API envelope.

Options:
  --data DIR            workspace folder
  --table TABLE         target table (KQL name, case-sensitive), e.g. SigninLogs
  --format FORMAT       auto (default: by extension, then content), ndjson, json-array or csv
  --schema FILE         table schema (default: content/schema/tables.json)
  --json                print each file's load report as one JSON line on stdout
  --threads N           engine threads (default: all cores)
  --memory-limit SIZE   engine memory limit, e.g. 4GB

Exit status: 0 all rows loaded, 3 some rows rejected, 1 a file could not be loaded, 2 usage error.`,
  options: {
    data: { type: 'string' },
    table: { type: 'string' },
    format: { type: 'string' },
    schema: { type: 'string' },
    json: { type: 'boolean' },
    threads: { type: 'string' },
    'memory-limit': { type: 'string' },
  },

  async run(args, io) {
    const data = resolve(io.cwd, requiredOption(args, 'data'));
    const tableName = requiredOption(args, 'table');
    const format = stringOption(args, 'format') ?? 'auto';
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
    }
    const threads = stringOption(args, 'threads');
    if (threads !== undefined && !/^[1-9][0-9]*$/.test(threads)) throw new UsageError('--threads must be a number');
    const files = args.positionals.map((f) => resolve(io.cwd, f));
    if (files.length === 0) throw new UsageError('no FILE to load');

    const schemaPath = stringOption(args, 'schema');
    const definitions = await readDefinitions(schemaPath ? resolve(io.cwd, schemaPath) : DEFAULT_SCHEMA);
    const def = definitions.find((d) => d.name === tableName);
    const { WORKSPACE_LAYOUT, openWorkspace } = await import('../../engine/workspace.js');
    if (!def && !existsSync(join(data, WORKSPACE_LAYOUT.database))) throw unknownTable(tableName, definitions);
    const memoryLimit = stringOption(args, 'memory-limit');
    const engine = await openWorkspace(data, {
      ...(threads ? { threads: Number(threads) } : {}),
      ...(memoryLimit ? { memoryLimit } : {}),
      connections: 1,
    });
    try {
      // A table already in the workspace (e.g. a custom table) is used as it is; else it comes from the schema.
      if (!engine.storage(tableName)) {
        if (!def) throw unknownTable(tableName, definitions);
        await engine.ensureTable(def);
      }
      let exit: number = EXIT.ok;
      for (const file of files) {
        const progress = io.stderrIsTTY ? progressLine(io, tableName, file) : undefined;
        try {
          const report = await engine.loadFile(tableName, file, {
            format: format as (typeof FORMATS)[number],
            ...(progress ? { onProgress: progress } : {}),
          });
          if (io.stderrIsTTY) io.stderr.write('\r\x1b[K');
          io.stderr.write(describe(report));
          if (args.values.json) io.stdout.write(`${JSON.stringify(report)}\n`);
          if (report.rowsRejected > 0 && exit === EXIT.ok) exit = EXIT.partial;
        } catch (e) {
          if (io.stderrIsTTY) io.stderr.write('\r\x1b[K');
          io.stderr.write(`${tableName} ← ${basename(file)}: ${e instanceof Error ? e.message : String(e)}\n`);
          exit = EXIT.failure;
        }
      }
      return exit;
    } finally {
      await engine.close();
    }
  },
};

function unknownTable(name: string, definitions: readonly TableDefinition[]): UsageError {
  const near = definitions.find((d) => d.name.toLowerCase() === name.toLowerCase());
  return new UsageError(`unknown table '${name}'${near ? `; did you mean ${near.name}?` : ' (not in the schema)'}`);
}

async function readDefinitions(path: string | URL): Promise<TableDefinition[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read the schema ${String(path)}: ${(e as Error).message}`);
  }
  const { tableDefinitionsFromTablesJson } = await import('../../engine/storage-names.js');
  return tableDefinitionsFromTablesJson(json);
}

function progressLine(io: CliIO, table: string, file: string) {
  return (p: LoadProgress) => {
    const done = p.bytes * p.fraction;
    const rate = p.elapsedMs > 0 ? done / (p.elapsedMs / 1000) : 0;
    const rows = p.estimatedRows !== undefined ? `~${count(p.estimatedRows)} rows, ` : '';
    io.stderr.write(
      `\r\x1b[K${table} ← ${basename(file)}: ${rows}${Math.round(p.fraction * 100)}% of ${mb(p.bytes)}, ${mb(rate)}/s`,
    );
  };
}

function describe(r: LoadReport): string {
  const secs = r.ms / 1000;
  const lines = [
    `${r.table} ← ${basename(r.file)}: ${count(r.rowsLoaded)} of ${count(r.rowsRead)} rows loaded` +
      `${r.rowsRejected ? `, ${count(r.rowsRejected)} rejected` : ''} in ${secs.toFixed(2)} s ` +
      `(${count(Math.round(r.rowsRead / Math.max(secs, 1e-3)))} rows/s, ${mb(r.bytes / Math.max(secs, 1e-3))}/s)`,
  ];
  if (r.envelope) lines.push(`  unwrapped the Defender streaming envelope (${r.envelope})`);
  for (const row of r.rejected) {
    const why = row.columns.map((c) => `${c.column} = ${JSON.stringify(c.value)} is not a ${c.expected}`);
    lines.push(`  rejected row ${row.row}: ${why.join('; ')}`);
  }
  if (r.rowsRejected > r.rejected.length) lines.push(`  ... ${count(r.rowsRejected - r.rejected.length)} more`);
  if (r.renamed.length) {
    const shown = r.renamed.slice(0, 8).map((x) => `${x.source} → ${x.column}`);
    lines.push(`  renamed: ${shown.join(', ')}${r.renamed.length > 8 ? `, +${r.renamed.length - 8} more` : ''}`);
  }
  if (r.ignored.length) {
    const shown = r.ignored.slice(0, 12).map((f) => (f === '' ? '(unnamed)' : f));
    lines.push(
      `  not in ${r.table} (ignored): ${shown.join(', ')}${r.ignored.length > 12 ? `, +${r.ignored.length - 12} more` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const count = (n: number) => n.toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
