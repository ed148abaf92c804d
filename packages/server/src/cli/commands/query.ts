/**
 * `vigil query`: runs KQL against a workspace folder. One query from the command line (printed as a table, JSON
 * or CSV), or many as JSON lines on stdin with `--jsonl` (one result line per query).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Diagnostic } from '@vigil/kql';
import type { TableDefinition } from '../../engine/engine.js';
import { type CliIO, type Command, EXIT, requiredOption, stringOption, UsageError } from '../command.js';

const DEFAULT_SCHEMA = new URL('../../../../../content/schema/tables.json', import.meta.url);
const FORMATS = ['table', 'json', 'csv'] as const;

export const command: Command = {
  name: 'query',
  summary: 'Run KQL against a workspace (table, JSON or CSV output; --jsonl for batches)',
  usage: `Usage: vigil query --data DIR [--format table|json|csv] "<kql>"
       vigil query --data DIR --jsonl < queries.jsonl

Runs KQL on the workspace in DIR. With --jsonl, reads {"id","query"} lines on stdin and writes one line per query:
  {"id","ok","columns":[{"name","type"}],"rows":[[...]],"truncated","error":{"code","message"}?,"ms"}
Values use Kusto's REST encoding (datetime ISO 8601 with 7 digits, timespan [-][d.]hh:mm:ss[.fffffff], dynamic as
JSON, guid as string). Results are cut at Kusto's limits (500,000 rows or 64 MB) and flagged as truncated.

Options:
  --data DIR          workspace folder (created if missing; tables exist empty until data is loaded)
  --format FORMAT     table (default on a terminal), json (default otherwise) or csv
  --jsonl             batch mode, see above
  --schema FILE       table schema (default: content/schema/tables.json)
  --timeout SECONDS   per-query timeout (default 240)
  --max-rows N        truncation limit on rows (default 500000)
  --threads N         engine threads (default: all cores)
  --memory-limit SIZE engine memory limit, e.g. 4GB

Exit status: 0 success, 1 a query failed, 2 usage error.`,
  options: {
    data: { type: 'string' },
    format: { type: 'string' },
    jsonl: { type: 'boolean' },
    schema: { type: 'string' },
    timeout: { type: 'string' },
    'max-rows': { type: 'string' },
    threads: { type: 'string' },
    'memory-limit': { type: 'string' },
  },

  async run(args, io) {
    const data = resolve(io.cwd, requiredOption(args, 'data'));
    const jsonl = args.values.jsonl === true;
    const text = args.positionals.join(' ').trim();
    if (!jsonl && text === '') throw new UsageError('missing the KQL query');
    if (jsonl && text !== '') throw new UsageError('--jsonl reads queries from stdin; do not pass one as an argument');
    const format =
      stringOption(args, 'format') ?? (io.stdout === process.stdout && process.stdout.isTTY ? 'table' : 'json');
    if (!(FORMATS as readonly string[]).includes(format))
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
    const timeoutMs = positiveNumber(args, 'timeout', 240) * 1000;
    const maxRows = positiveNumber(args, 'max-rows', 500_000);
    const threads = stringOption(args, 'threads');
    const memoryLimit = stringOption(args, 'memory-limit');

    const schemaPath = stringOption(args, 'schema');
    const definitions = await readDefinitions(schemaPath ? resolve(io.cwd, schemaPath) : DEFAULT_SCHEMA);
    const { openWorkspace } = await import('../../engine/workspace.js');
    const { runKql } = await import('../../query/query-service.js');
    const { writeCsv, writeJsonResult, writeTable } = await import('../../engine/output.js');
    const engine = await openWorkspace(data, {
      ...(threads ? { threads: Number(threads) } : {}),
      ...(memoryLimit ? { memoryLimit } : {}),
    });
    const workspace = { engine, definitions };
    try {
      if (!jsonl) {
        const out = await runKql(workspace, text, { timeoutMs, maxRows });
        printDiagnostics(io, text, out.diagnostics);
        if (!out.result) {
          io.stderr.write(`vigil query: ${out.error?.code}: ${out.error?.message}\n`);
          return EXIT.failure;
        }
        try {
          if (format === 'table') await writeTable(out.result, io.stdout);
          else if (format === 'csv') await writeCsv(out.result, io.stdout);
          else {
            await writeJsonResult(out.result, io.stdout);
            io.stdout.write('\n');
          }
        } finally {
          await out.result.close();
        }
        return EXIT.ok;
      }

      let exit: number = EXIT.ok;
      const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
      for await (const line of lines) {
        if (line.trim() === '') continue;
        let request: { id?: unknown; query?: unknown };
        try {
          request = JSON.parse(line) as { id?: unknown; query?: unknown };
        } catch (e) {
          io.stdout.write(
            `${JSON.stringify({ id: null, ok: false, error: { code: 'bad_request', message: `invalid JSON: ${(e as Error).message}` } })}\n`,
          );
          exit = EXIT.failure;
          continue;
        }
        const id = request.id ?? null;
        if (typeof request.query !== 'string') {
          io.stdout.write(
            `${JSON.stringify({ id, ok: false, error: { code: 'bad_request', message: 'missing "query" string' } })}\n`,
          );
          exit = EXIT.failure;
          continue;
        }
        const t0 = performance.now();
        const out = await runKql(workspace, request.query, { timeoutMs, maxRows });
        if (!out.result) {
          const diagnostics = out.diagnostics.filter((d) => d.severity === 'error');
          io.stdout.write(
            `${JSON.stringify({ id, ok: false, columns: [], rows: [], truncated: false, error: { code: out.error?.code ?? 'error', message: out.error?.message ?? '', ...(diagnostics.length ? { diagnostics } : {}) }, ms: round(performance.now() - t0) })}\n`,
          );
          exit = EXIT.failure;
          continue;
        }
        try {
          // The rows are written as the engine encoded them; `ms` covers compile + execute + encode.
          await writeJsonResult(out.result, io.stdout, {
            before: { id, ok: true },
            after: { ms: round(performance.now() - t0) },
          });
          io.stdout.write('\n');
        } finally {
          await out.result.close();
        }
      }
      return exit;
    } finally {
      await engine.close();
    }
  },
};

function positiveNumber(args: { values: Readonly<Record<string, unknown>> }, name: string, fallback: number): number {
  const v = args.values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number`);
  return n;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Diagnostics with the query line and a caret, on stderr. */
function printDiagnostics(io: CliIO, text: string, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    const before = text.slice(0, d.start);
    const line = before.split('\n').length;
    const col = d.start - before.lastIndexOf('\n');
    const lineText = text.split('\n')[line - 1] ?? '';
    io.stderr.write(
      `${d.severity} ${d.code} at line ${line}, column ${col}: ${d.message}\n  ${lineText}\n  ${' '.repeat(col - 1)}${'^'.repeat(Math.max(1, Math.min(d.length, lineText.length - col + 1)))}\n`,
    );
  }
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
