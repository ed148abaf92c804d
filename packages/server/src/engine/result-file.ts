/**
 * A result held as a file of encoded rows in the workspace spool: one line per row, each line `,[v0,v1,...]`
 * (the leading comma lets rows concatenate into a JSON list body). Delivery moves bytes from the file to the
 * writable in 1 MB chunks: no per-row JS objects, memory bounded whatever the result size.
 */
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { ResultColumn, ResultSet, Truncation } from './engine.js';
import type { KqlValue } from './values.js';

const CHUNK = 1 << 20;
const NEWLINE = 0x0a;
const COMMA = 0x2c;

export interface ResultFileInfo {
  readonly queryId: string;
  readonly file: string;
  readonly columns: readonly ResultColumn[];
  readonly engineMs: number;
  /** Rows the engine wrote; at most one more than the limits allow (that row only signals truncation). */
  readonly rowsWritten: number;
  readonly maxRows: number;
  readonly maxBytes: number;
  readonly onClose?: () => void;
}

/**
 * Applies Kusto's limits to the written file: the engine wrote at most `maxRows + 1` rows, and possibly more
 * than `maxBytes` of them. Rows past a limit are cut off by length (the file is not rewritten) and reported.
 */
export async function openResultFile(info: ResultFileInfo): Promise<ResultSet> {
  const size = (await stat(info.file)).size;
  let end = size;
  let rows = info.rowsWritten;
  let truncated: Truncation | null = null;
  if (size - rows > info.maxBytes) {
    ({ end, rows } = await cutAtBytes(info.file, info.maxBytes));
    truncated = { reason: 'bytes', limit: info.maxBytes };
  }
  if (rows > info.maxRows) {
    end = await lastLineStart(info.file, end);
    rows -= 1;
    truncated = { reason: 'rows', limit: info.maxRows };
  }
  return new FileResultSet(info, end, rows, end - rows, truncated);
}

/** The longest prefix of whole lines whose text (without the newlines) fits in `maxBytes`. */
async function cutAtBytes(file: string, maxBytes: number): Promise<{ end: number; rows: number }> {
  let offset = 0; // of the current chunk in the file
  let lineStart = 0;
  let rows = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    let i = chunk.indexOf(NEWLINE);
    while (i !== -1) {
      const lineEnd = offset + i; // position of the newline
      if (lineEnd - rows > maxBytes) return { end: lineStart, rows };
      rows += 1;
      lineStart = lineEnd + 1;
      i = chunk.indexOf(NEWLINE, i + 1);
    }
    offset += chunk.length;
  }
  return { end: lineStart, rows };
}

/** Offset where the last line of the file's first `size` bytes starts (they end with a newline). */
async function lastLineStart(file: string, size: number): Promise<number> {
  const handle = await open(file, 'r');
  try {
    let pos = size - 1; // the final newline
    const buf = Buffer.alloc(64 * 1024);
    while (pos > 0) {
      const from = Math.max(0, pos - buf.length);
      const len = pos - from;
      await handle.read(buf, 0, len, from);
      const i = buf.subarray(0, len).lastIndexOf(NEWLINE);
      if (i >= 0) return from + i + 1;
      pos = from;
    }
    return 0;
  } finally {
    await handle.close();
  }
}

class FileResultSet implements ResultSet {
  readonly queryId: string;
  readonly columns: readonly ResultColumn[];
  readonly engineMs: number;
  private closed = false;

  constructor(
    private readonly info: ResultFileInfo,
    /** Bytes of the file that belong to the result. */
    private readonly end: number,
    readonly rowCount: number,
    readonly encodedBytes: number,
    readonly truncated: Truncation | null,
  ) {
    this.queryId = info.queryId;
    this.columns = info.columns;
    this.engineMs = info.engineMs;
  }

  private chunks(): AsyncIterable<Buffer> {
    if (this.closed) throw new Error('result set is closed');
    if (this.end === 0) return (async function* () {})();
    return createReadStream(this.info.file, { start: 0, end: this.end - 1, highWaterMark: CHUNK });
  }

  async writeRows(out: NodeJS.WritableStream): Promise<void> {
    let first = true;
    for await (const chunk of this.chunks()) {
      // Drop the line breaks in place (memmove per row, native) and the very first comma.
      let w = 0;
      let r = 0;
      if (first && chunk[0] === COMMA) r = 1;
      first = false;
      for (;;) {
        const nl = chunk.indexOf(NEWLINE, r);
        const stop = nl === -1 ? chunk.length : nl;
        if (w !== r) chunk.copyWithin(w, r, stop);
        w += stop - r;
        if (nl === -1) break;
        r = nl + 1;
      }
      if (w > 0 && !out.write(chunk.subarray(0, w))) await drained(out);
    }
  }

  async *rowTexts(): AsyncIterable<string> {
    let carry = '';
    const decoder = new StringDecoder('utf8'); // a chunk may end inside a multi-byte character
    for await (const chunk of this.chunks()) {
      const text = carry + decoder.write(chunk);
      const lines = text.split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) yield line.slice(1);
    }
    if (carry !== '') yield carry.slice(1);
  }

  async rows(): Promise<KqlValue[][]> {
    const parts: Buffer[] = [];
    for await (const chunk of this.chunks()) parts.push(chunk);
    // One JSON.parse for the whole result: V8's parser is far cheaper than per-row work.
    const body = Buffer.concat(parts).toString('utf8').replaceAll('\n', '').slice(1);
    return JSON.parse(`[${body}]`) as KqlValue[][];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await rm(this.info.file, { force: true });
    this.info.onClose?.();
  }
}

function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      out.off('error', onError);
      resolve();
    };
    const onError = (e: unknown) => {
      out.off('drain', onDrain);
      reject(e);
    };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}
