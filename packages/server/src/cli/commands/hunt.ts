/**
 * `vigil hunt`: runs KQL on a workspace of a Vigil server (the API's query endpoint, as the console's hunting
 * page does): every row streamed as NDJSON and printed as a table, CSV, JSON or NDJSON. Diagnostics come back with
 * their position and are printed under the query line. `vigil query` is the same on a local workspace folder.
 */
import { type Command, EXIT, stringOption, UsageError } from '../command.js';
import { connect, intOption, printTable, REMOTE_OPTIONS, REMOTE_USAGE, readStdin } from '../remote.js';

const FORMATS = ['table', 'csv', 'json', 'ndjson'] as const;

interface Header {
  queryId: string;
  columns: { name: string; type: string }[];
  rowCount: number;
  truncated: { reason: string; limit: number } | null;
  statistics?: { totalMs?: number };
}

export const command: Command = {
  name: 'hunt',
  summary: 'Run KQL on a workspace of a Vigil server (table, CSV, JSON or NDJSON output)',
  usage: `Usage: vigil hunt [--timespan P1D] [--format table|csv|json|ndjson] [--max-rows N] "<kql>"
       vigil hunt [options] - < query.kql

Runs the query on the server's workspace and prints every row. --timespan limits every table to TimeGenerated in
an ISO 8601 duration before now (PT1H, P7D) or an interval (start/end), as Log Analytics does.

Options:
  --format F          table (default on a terminal), csv, json (columns and rows) or ndjson (a header line, then rows)
  --timespan T        ISO 8601 duration or interval
  --max-rows N        truncate after N rows (default 500000)
  --timeout SECONDS   server-side timeout (default 240)

${REMOTE_USAGE}`,
  options: {
    ...REMOTE_OPTIONS,
    format: { type: 'string' },
    timespan: { type: 'string' },
    'max-rows': { type: 'string' },
    timeout: { type: 'string' },
  },

  async run(args, io) {
    let text = args.positionals.join(' ').trim();
    if (text === '-') text = (await readStdin()).trim();
    if (text === '') throw new UsageError('missing the KQL query');
    const format =
      stringOption(args, 'format') ??
      (args.values.json === true ? 'json' : io.stdout === process.stdout && process.stdout.isTTY ? 'table' : 'json');
    if (!(FORMATS as readonly string[]).includes(format))
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
    const maxRows = intOption(args, 'max-rows', 1, 500_000);
    const timeout = intOption(args, 'timeout', 1, 3600);
    const timespan = stringOption(args, 'timespan');
    const remote = await connect(args);
    const res = await remote.raw('POST', remote.ws('/query'), {
      headers: { accept: 'application/x-ndjson' },
      body: {
        query: text,
        format: 'ndjson',
        ...(timespan ? { timespan } : {}),
        ...(maxRows ? { maxRows } : {}),
        ...(timeout ? { timeoutMs: timeout * 1000 } : {}),
      },
    });
    if (!res.ok) {
      const body = await res.text();
      let err: { code?: string; message?: string; details?: { diagnostics?: Diag[] } } | undefined;
      try {
        err = (JSON.parse(body) as { error?: typeof err }).error;
      } catch {
        err = undefined;
      }
      for (const d of err?.details?.diagnostics ?? []) printDiagnostic(io.stderr, text, d);
      io.stderr.write(`vigil hunt: ${res.status} ${err?.code ?? ''}: ${err?.message ?? body.slice(0, 500)}\n`);
      return EXIT.failure;
    }
    if (!res.body) throw new Error('the server answered without a body');

    // Lines arrive as the server encodes them: NDJSON passes through, the other formats collect or convert.
    let header: Header | null = null;
    const rows: unknown[][] = [];
    let pending = '';
    const decoder = new TextDecoder();
    const onLine = (line: string) => {
      if (line === '') return;
      if (!header) {
        header = JSON.parse(line) as Header;
        if (format === 'ndjson') io.stdout.write(`${line}\n`);
        else if (format === 'csv') io.stdout.write(`${header.columns.map((c) => csvCell(c.name)).join(',')}\n`);
        return;
      }
      if (format === 'ndjson') io.stdout.write(`${line}\n`);
      else if (format === 'csv') io.stdout.write(`${(JSON.parse(line) as unknown[]).map(csvCell).join(',')}\n`);
      else rows.push(JSON.parse(line) as unknown[]);
    };
    for await (const chunk of res.body) {
      pending += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        onLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
    }
    onLine(pending + decoder.decode());
    const h = header as Header | null;
    if (!h) throw new Error('the server sent no result header');
    if (format === 'json') {
      io.stdout.write(`${JSON.stringify({ columns: h.columns, rows, truncated: h.truncated })}\n`);
    } else if (format === 'table') {
      printTable(
        io,
        h.columns.map((c) => c.name),
        rows,
      );
    }
    if (h.truncated)
      io.stderr.write(`vigil hunt: truncated at ${h.truncated.limit} ${h.truncated.reason} (of ${h.rowCount} rows)\n`);
    if (format === 'table') {
      const ms = h.statistics?.totalMs;
      io.stderr.write(
        `${h.rowCount} row${h.rowCount === 1 ? '' : 's'}${ms !== undefined ? ` in ${Math.round(ms)} ms` : ''}\n`,
      );
    }
    return EXIT.ok;
  },
};

interface Diag {
  code: string;
  severity?: string;
  message: string;
  start: number;
  length: number;
}

function printDiagnostic(out: NodeJS.WritableStream, text: string, d: Diag): void {
  const before = text.slice(0, d.start);
  const line = before.split('\n').length;
  const col = d.start - before.lastIndexOf('\n');
  const lineText = text.split('\n')[line - 1] ?? '';
  const carets = '^'.repeat(Math.max(1, Math.min(d.length, lineText.length - col + 1)));
  out.write(
    `${d.severity ?? 'error'} ${d.code} at line ${line}, column ${col}: ${d.message}\n  ${lineText}\n  ${' '.repeat(col - 1)}${carets}\n`,
  );
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
