/**
 * What a file to load looks like, read from its first bytes only: the format, and for CSV the header record.
 * The engines read the data themselves; JS only looks at the head of the file.
 */
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import type { LoadFormat, LoadOptions } from '../engine.js';
import { EngineError } from '../errors.js';

/** `json` means "let the engine tell NDJSON from an array or a pretty-printed object". */
export type SniffedFormat = 'json' | 'csv';

export interface FileHead {
  readonly text: string;
  /** The head is the whole file. */
  readonly complete: boolean;
}

export async function readHead(file: string, bytes = 1 << 20): Promise<FileHead> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw new EngineError('load', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return { text: buf.subarray(0, bytesRead).toString('utf8'), complete: bytesRead < bytes };
  } finally {
    await handle.close();
  }
}

export function decideFormat(file: string, head: string, requested: LoadOptions['format']): SniffedFormat {
  if (requested === 'csv') return 'csv';
  if (requested === 'ndjson' || requested === 'json-array' || requested === 'json') return 'json';
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json' || ext === '.jsonl' || ext === '.ndjson') return 'json';
  const first = head.replace(/^\uFEFF/, '').trimStart()[0];
  return first === '{' || first === '[' ? 'json' : 'csv';
}

/** The report's name for what the engine found. */
export function jsonFormatName(head: string): LoadFormat {
  return head
    .replace(/^\uFEFF/, '')
    .trimStart()
    .startsWith('[')
    ? 'json-array'
    : 'ndjson';
}

/**
 * The header record of a CSV text (RFC 4180: quoted fields, `""` escapes, quoted line breaks), BOM removed.
 * Throws if the head holds no complete header line.
 */
export function parseCsvHeader(head: FileHead): string[] {
  const text = head.text.replace(/^\uFEFF/, '');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      fields.push(field);
      return fields;
    } else field += ch;
  }
  if (head.complete && text.length > 0) {
    fields.push(field); // a header-only file without a final newline
    return fields;
  }
  throw new EngineError('load', head.complete ? 'empty CSV file' : 'CSV header not found in the first megabyte');
}
