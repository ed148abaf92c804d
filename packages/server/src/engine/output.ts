/**
 * Result encoders, engine-neutral: they take a ResultSet (rows already in Kusto's value encoding, see values.ts)
 * and write JSON, CSV or a plain-text table to a writable stream, chunk by chunk.
 *
 * JSON moves the engine's encoded bytes as they are (no per-row work in JS). CSV and text tables are for people
 * and the CLI: they decode one row at a time.
 */
import type { ResultColumn, ResultSet } from './engine.js';
import type { KqlValue } from './values.js';
import { valueText } from './values.js';

/** `[[...],[...]]`: the rows as one JSON array. */
export async function writeJsonRows(result: ResultSet, out: NodeJS.WritableStream): Promise<void> {
  await write(out, '[');
  await result.writeRows(out);
  await write(out, ']');
}

/**
 * One JSON object: `before` fields, then `columns`, `rows`, `truncated` (boolean) and `truncation` (reason and
 * limit, or null), then `after` fields. With no whitespace it fits one JSONL line.
 */
export async function writeJsonResult(
  result: ResultSet,
  out: NodeJS.WritableStream,
  extra: { before?: Record<string, unknown>; after?: Record<string, unknown> } = {},
): Promise<void> {
  const head = {
    ...extra.before,
    columns: result.columns.map((c) => ({ name: c.name, type: c.type })),
  };
  await write(out, `${JSON.stringify(head).slice(0, -1)},"rows":[`);
  await result.writeRows(out);
  const tail = { truncated: result.truncated !== null, truncation: result.truncated, ...extra.after };
  await write(out, `],${JSON.stringify(tail).slice(1)}`);
}

/** RFC 4180 CSV with a header row of KQL column names; dynamic values as JSON text, nulls as empty fields. */
export async function writeCsv(result: ResultSet, out: NodeJS.WritableStream): Promise<void> {
  await write(out, `${result.columns.map((c) => csvField(c.name)).join(',')}\r\n`);
  let buffer = '';
  for await (const text of result.rowTexts()) {
    const row = JSON.parse(text) as KqlValue[];
    buffer += `${row.map((v, i) => csvField(valueText(typeOf(result.columns, i), v))).join(',')}\r\n`;
    if (buffer.length >= 1 << 16) {
      await write(out, buffer);
      buffer = '';
    }
  }
  if (buffer) await write(out, buffer);
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface TableFormatOptions {
  /** Rows to print (default 100); the rest are counted in a footer. */
  readonly maxRows?: number;
  /** Cell width cap in characters (default 60); longer values end with `…`. */
  readonly maxCellWidth?: number;
}

/** A plain-text table for terminals: header, rule, rows, and a footer with the row count and truncation. */
export async function writeTable(
  result: ResultSet,
  out: NodeJS.WritableStream,
  options: TableFormatOptions = {},
): Promise<void> {
  const maxRows = options.maxRows ?? 100;
  const rows: string[][] = [];
  let total = 0;
  for await (const text of result.rowTexts()) {
    total++;
    if (rows.length < maxRows) {
      const row = JSON.parse(text) as KqlValue[];
      rows.push(row.map((v, i) => valueText(typeOf(result.columns, i), v)));
    }
  }
  await write(out, formatTable(result.columns, rows, options));
  const notes = [`${total} row${total === 1 ? '' : 's'}`];
  if (total > rows.length) notes.push(`${rows.length} shown`);
  if (result.truncated) {
    notes.push(`truncated: result exceeded the ${result.truncated.reason} limit (${result.truncated.limit})`);
  }
  await write(out, `(${notes.join('; ')})\n`);
}

/** Formats rows of cell texts under their column names (pure; exported for tests and small outputs). */
export function formatTable(
  columns: readonly ResultColumn[],
  rows: readonly (readonly string[])[],
  options: TableFormatOptions = {},
): string {
  const cap = options.maxCellWidth ?? 60;
  const clip = (s: string) => {
    const flat = s.replace(/[\r\n\t]+/g, ' ');
    return flat.length > cap ? `${flat.slice(0, cap - 1)}…` : flat;
  };
  const header = columns.map((c) => c.name);
  const cells = rows.map((r) => r.map(clip));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const right = columns.map((c) => ['int', 'long', 'real', 'decimal'].includes(c.type));
  const line = (r: readonly string[]) =>
    r
      .map((s, i) => (right[i] ? s.padStart(widths[i] ?? 0) : s.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n')}\n`;
}

function typeOf(columns: readonly ResultColumn[], i: number): ResultColumn['type'] {
  return columns[i]?.type ?? 'string';
}

async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
}
