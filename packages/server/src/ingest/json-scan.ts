/**
 * A validating JSON byte scanner for request bodies: it checks RFC 8259 syntax (as strictly as DuckDB's reader, so
 * that a body it accepts never fails the engine's parse), finds where each record starts and ends, and reports the
 * byte offset of the first syntax error. It builds no JS values: the engine parses the records itself.
 *
 * A body is NDJSON (records separated by whitespace, usually one per line) or one JSON array of records; every
 * record must be an object. Records that span several lines (pretty-printed) are flagged, so the writer can
 * compact them into the one-record-per-line spool files the engine reads fastest.
 */
import { isUtf8 } from 'node:buffer';

export interface RecordSpans {
  readonly form: 'ndjson' | 'array';
  /** Record i is the bytes `[starts[i], ends[i])` of the body. */
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  /** Indexes of records that contain a raw line break (between tokens) and must be compacted to one line. */
  readonly multiline: readonly number[];
  /**
   * Every record is on a line of its own (NDJSON, none multiline, a line break between consecutive records): the
   * bytes from the first record's start to the last one's end are already a one-record-per-line file.
   */
  readonly lineSeparated: boolean;
  /**
   * Every record has the same top-level keys as the first, in the same order, byte for byte: the first record's
   * keys are all the keys of the body (the engine then declares only those; see LoadOptions.fieldsComplete).
   */
  readonly uniformKeys: boolean;
}

export interface ScanError {
  /** Byte offset of the first byte that makes the body invalid. */
  readonly offset: number;
  /** 0-based index of the record the error is in (or after, for trailing content). */
  readonly record: number;
  readonly message: string;
}

export type ScanResult = ({ readonly ok: true } & RecordSpans) | ({ readonly ok: false } & ScanError);

const MAX_DEPTH = 10_000;
const OBJ = 1;
const ARR = 2;

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Whitespace bytes, and which of them break lines. */
const WS = new Uint8Array(256);
WS[SPACE] = 1;
WS[TAB] = 1;
WS[LF] = 2;
WS[CR] = 2;

/**
 * Scans a whole body. A UTF-8 BOM at the start is skipped.
 *
 * One flat function with local state and hand-inlined loops: V8 keeps locals in registers, and the scan runs over
 * every byte of every request, so this is the ingestion hot path on the JS side (see bench/ingest).
 */
export function scanRecords(body: Uint8Array): ScanResult {
  const b = body;
  const end = b.length;
  if (!isUtf8(b)) {
    return { ok: false, offset: firstInvalidUtf8(b), record: -1, message: 'invalid UTF-8' };
  }
  // The bytes as 32-bit words, to test string bytes four at a time (SWAR: a byte of v is zero iff
  // (v - 0x01) & ~v has its high bit set); `base` is the body's offset in that buffer.
  const words = new Int32Array(b.buffer, 0, b.buffer.byteLength >> 2);
  const base = b.byteOffset;
  const stack = new Uint8Array(MAX_DEPTH + 1);
  const starts: number[] = [];
  const ends: number[] = [];
  const multiline: number[] = [];
  let errorAt = -1;
  let error = '';
  let newline = 0;
  // The first record's top-level keys as byte ranges [start, end) of their tokens, and whether every record so far
  // has exactly those (`keyAt`: the member index within the current record).
  const firstKeys: number[] = [];
  let uniform = true;
  let keyAt = 0;
  /** Compares a top-level key token `[ks, ke)` with the first record's key at the same place. */
  const topKey = (ks: number, ke: number): void => {
    if (!uniform) return;
    if (starts.length === 0) {
      firstKeys.push(ks, ke);
      return;
    }
    const k = 2 * keyAt++;
    const fs = firstKeys[k];
    if (fs === undefined || (firstKeys[k + 1] as number) - fs !== ke - ks) {
      uniform = false;
      return;
    }
    for (let x = 1; x < ke - ks - 1; x++) {
      if (b[fs + x] !== b[ks + x]) {
        uniform = false;
        return;
      }
    }
  };

  const fail = (at: number, message: string): number => {
    errorAt = at;
    error = message;
    return -1;
  };

  /** `i` is at the opening quote; returns the index after the closing quote, or -1. */
  const str = (i: number): number => {
    i++;
    for (;;) {
      if (((base + i) & 3) === 0) {
        // Two words per turn while they are clean (strings of paths and command lines are long).
        while (i + 8 <= end) {
          const x = words[(base + i) >> 2] as number;
          const y = words[((base + i) >> 2) + 1] as number;
          const q = x ^ 0x22222222;
          const s = x ^ 0x5c5c5c5c;
          const r = y ^ 0x22222222;
          const t = y ^ 0x5c5c5c5c;
          if (
            (((x - 0x20202020) & ~x) |
              ((q - 0x01010101) & ~q) |
              ((s - 0x01010101) & ~s) |
              ((y - 0x20202020) & ~y) |
              ((r - 0x01010101) & ~r) |
              ((t - 0x01010101) & ~t)) &
            0x80808080
          )
            break;
          i += 8;
        }
        while (i + 4 <= end) {
          const x = words[(base + i) >> 2] as number;
          const q = x ^ 0x22222222;
          const s = x ^ 0x5c5c5c5c;
          if ((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) & 0x80808080) break;
          i += 4;
        }
      }
      if (i >= end) return fail(i, 'unterminated string');
      const c = b[i] as number;
      if (c === QUOTE) return i + 1;
      if (c === BACKSLASH) {
        i = escapeEnd(i);
        if (i < 0) return -1;
      } else if (c < 0x20) {
        return fail(i, 'control character in string (it must be escaped)');
      } else i++;
    }
  };

  /** `i` is at a backslash inside a string; returns the index after the escape sequence, or -1. */
  const escapeEnd = (i: number): number => {
    const c = b[i + 1];
    switch (c) {
      case QUOTE:
      case BACKSLASH:
      case 0x2f: // /
      case 0x62: // b
      case 0x66: // f
      case 0x6e: // n
      case 0x72: // r
      case 0x74: // t
        return i + 2;
      case 0x75: {
        // u
        const code = hex4(b, i + 2, end);
        if (code < 0) return fail(i, 'invalid \\u escape (four hex digits expected)');
        if (code >= 0xdc00 && code <= 0xdfff) return fail(i, 'invalid \\u escape: a low surrogate alone');
        if (code >= 0xd800 && code <= 0xdbff) {
          // A high surrogate must be followed by an escaped low surrogate (DuckDB rejects it otherwise).
          const low = b[i + 6] === BACKSLASH && b[i + 7] === 0x75 ? hex4(b, i + 8, end) : -1;
          if (low < 0xdc00 || low > 0xdfff) return fail(i, 'invalid \\u escape: a high surrogate without its low');
          return i + 12;
        }
        return i + 6;
      }
      default:
        return fail(i, c === undefined ? 'unterminated string' : 'invalid escape in string');
    }
  };

  const num = (i: number): number => {
    const start = i;
    if (b[i] === MINUS) i++;
    let c = b[i] ?? 0;
    if (c === ZERO) i++;
    else if (c > ZERO && c <= NINE) {
      i++;
      while (i < end && (b[i] as number) >= ZERO && (b[i] as number) <= NINE) i++;
    } else return fail(start, 'invalid number');
    if (b[i] === DOT) {
      i++;
      c = b[i] ?? 0;
      if (c < ZERO || c > NINE) return fail(i, 'invalid number (digits expected after the decimal point)');
      while (i < end && (b[i] as number) >= ZERO && (b[i] as number) <= NINE) i++;
    }
    c = b[i] ?? 0;
    if (c === 0x65 || c === 0x45) {
      i++;
      if (b[i] === PLUS || b[i] === MINUS) i++;
      c = b[i] ?? 0;
      if (c < ZERO || c > NINE) return fail(i, 'invalid number (digits expected in the exponent)');
      while (i < end && (b[i] as number) >= ZERO && (b[i] as number) <= NINE) i++;
    }
    return i;
  };

  const literal = (i: number, word: string): number => {
    for (let k = 0; k < word.length; k++) {
      if (b[i + k] !== word.charCodeAt(k)) return fail(i, 'unexpected character');
    }
    return i + word.length;
  };

  /** `i` is at a value; returns the index after it, or -1. Iterative: deep nesting cannot overflow the stack. */
  const value = (i: number): number => {
    let depth = 0;
    for (;;) {
      // A value starts at i (whitespace skipped).
      if (i >= end) return fail(i, 'unexpected end of data');
      const c = b[i] as number;
      if (c === LBRACE || c === LBRACKET) {
        if (depth === MAX_DEPTH) return fail(i, `nesting deeper than ${MAX_DEPTH} levels`);
        i++;
        for (let w = WS[b[i] as number] as number; w !== 0 && i < end; w = WS[b[++i] as number] as number) newline |= w;
        const close = c === LBRACE ? RBRACE : RBRACKET;
        if (b[i] === close) {
          i++;
        } else {
          stack[depth++] = c === LBRACE ? OBJ : ARR;
          if (c === LBRACE) {
            // a member: key, colon, value
            if (b[i] !== QUOTE) return fail(i, i >= end ? 'unexpected end of data' : 'expected a string key');
            i = str(i);
            if (i < 0) return -1;
            for (let w = WS[b[i] as number] as number; w !== 0 && i < end; w = WS[b[++i] as number] as number)
              newline |= w;
            if (b[i] !== COLON) return fail(i, "expected ':'");
            i++;
            for (let w = WS[b[i] as number] as number; w !== 0 && i < end; w = WS[b[++i] as number] as number)
              newline |= w;
          }
          continue;
        }
      } else if (c === QUOTE) {
        i = str(i);
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        i = num(i);
      } else if (c === 0x74) {
        i = literal(i, 'true');
      } else if (c === 0x66) {
        i = literal(i, 'false');
      } else if (c === 0x6e) {
        i = literal(i, 'null');
      } else {
        return fail(i, 'unexpected character');
      }
      if (i < 0) return -1;
      // After a value: close the containers it ends, or move on to the next element.
      for (;;) {
        if (depth === 0) return i;
        for (let w = WS[b[i] as number] as number; w !== 0 && i < end; w = WS[b[++i] as number] as number) newline |= w;
        if (i >= end) return fail(i, 'unexpected end of data');
        const d = b[i] as number;
        const top = stack[depth - 1];
        if (d === COMMA) {
          i++;
          for (let w = WS[b[i] as number] as number; w !== 0 && i < end; w = WS[b[++i] as number] as number)
            newline |= w;
          if (top === OBJ) {
            if (b[i] !== QUOTE) return fail(i, i >= end ? 'unexpected end of data' : 'expected a string key');
            i = str(i);
            if (i < 0) return -1;
            for (let w = WS[b[i] as number] as number; w !== 0 && i < end; w = WS[b[++i] as number] as number)
              newline |= w;
            if (b[i] !== COLON) return fail(i, "expected ':'");
            i++;
            for (let w = WS[b[i] as number] as number; w !== 0 && i < end; w = WS[b[++i] as number] as number)
              newline |= w;
          }
          break;
        }
        if ((top === OBJ && d === RBRACE) || (top === ARR && d === RBRACKET)) {
          depth--;
          i++;
          continue;
        }
        return fail(i, top === OBJ ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
  };

  /** Whether the last `skip` passed a line break. */
  let skippedLine = false;
  const skip = (i: number): number => {
    let w = 0;
    while (i < end && WS[b[i] as number] !== 0) w |= WS[b[i++] as number] as number;
    skippedLine = (w & 2) !== 0;
    return i;
  };
  const failed = (): ScanResult => ({ ok: false, offset: errorAt, record: starts.length, message: error });
  /**
   * A record: most are flat objects of scalars, scanned here in one tight loop (member after member, no container
   * stack); a nested value is handed to `value`. Same grammar, same errors as `value`.
   */
  const object = (at: number): number => {
    let i = at + 1;
    for (let w = WS[b[i] as number] as number; w !== 0 && i < end; w = WS[b[++i] as number] as number) newline |= w;
    if (b[i] === RBRACE) return i + 1;
    for (;;) {
      if (b[i] !== QUOTE) return fail(i, i >= end ? 'unexpected end of data' : 'expected a string key');
      const ks = i;
      // While the records repeat the first record's keys, a key whose bytes equal the first record's key token
      // (quotes included) is that token: valid, and no need to scan it as a string (keys are ~30% of the bytes).
      const fs = uniform && starts.length > 0 ? firstKeys[2 * keyAt] : undefined;
      let same = false;
      if (fs !== undefined) {
        const len = (firstKeys[2 * keyAt + 1] as number) - fs;
        if (ks + len <= end) {
          let x = 1;
          while (x < len && b[fs + x] === b[ks + x]) x++;
          same = x === len;
        }
      }
      if (same) {
        i = ks + ((firstKeys[2 * keyAt + 1] as number) - (fs as number));
        keyAt++;
      } else {
        i = str(i);
        if (i < 0) return -1;
        topKey(ks, i);
      }
      if (b[i] !== COLON) {
        for (let w = WS[b[i] as number] as number; w !== 0 && i < end; w = WS[b[++i] as number] as number) newline |= w;
        if (b[i] !== COLON) return fail(i, "expected ':'");
      }
      i++;
      for (let w = WS[b[i] as number] as number; w !== 0 && i < end; w = WS[b[++i] as number] as number) newline |= w;
      const c = b[i] as number;
      if (c === QUOTE) i = str(i);
      else if (c === MINUS || (c >= ZERO && c <= NINE)) i = num(i);
      else if (c === LBRACE || c === LBRACKET) i = value(i);
      else if (c === 0x74) i = literal(i, 'true');
      else if (c === 0x66) i = literal(i, 'false');
      else if (c === 0x6e) i = literal(i, 'null');
      else return fail(i, i >= end ? 'unexpected end of data' : 'unexpected character');
      if (i < 0) return -1;
      for (let w = WS[b[i] as number] as number; w !== 0 && i < end; w = WS[b[++i] as number] as number) newline |= w;
      const d = b[i];
      if (d === COMMA) {
        i++;
        for (let w = WS[b[i] as number] as number; w !== 0 && i < end; w = WS[b[++i] as number] as number) newline |= w;
        continue;
      }
      if (d === RBRACE) return i + 1;
      return fail(i, i >= end ? 'unexpected end of data' : "expected ',' or '}'");
    }
  };

  const record = (at: number): number => {
    if (b[at] !== LBRACE) return fail(at, `record ${starts.length} is not a JSON object`);
    newline = 0;
    keyAt = 0;
    const next = object(at);
    if (next < 0) return -1;
    if (starts.length > 0 && 2 * keyAt !== firstKeys.length) uniform = false;
    if (newline & 2) multiline.push(starts.length);
    starts.push(at);
    ends.push(next);
    return next;
  };

  let i = skip(b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0);
  if (b[i] === LBRACKET) {
    i = skip(i + 1);
    if (b[i] === RBRACKET) i++;
    else {
      for (;;) {
        i = record(i);
        if (i < 0) return failed();
        i = skip(i);
        if (b[i] === COMMA) {
          i = skip(i + 1);
          continue;
        }
        if (b[i] === RBRACKET) {
          i++;
          break;
        }
        fail(i, i >= end ? 'unexpected end of data (the array is not closed)' : "expected ',' or ']'");
        return failed();
      }
    }
    i = skip(i);
    if (i < end) {
      fail(i, 'unexpected content after the array');
      return failed();
    }
    return { ok: true, form: 'array', starts, ends, multiline, lineSeparated: false, uniformKeys: uniform };
  }
  let lineSeparated = true;
  while (i < end) {
    i = record(i);
    if (i < 0) return failed();
    i = skip(i);
    if (!skippedLine && i < end) lineSeparated = false;
  }
  return {
    ok: true,
    form: 'ndjson',
    starts,
    ends,
    multiline,
    lineSeparated: lineSeparated && multiline.length === 0,
    uniformKeys: uniform,
  };
}

function hex4(b: Uint8Array, i: number, end: number): number {
  if (i + 4 > end) return -1;
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = b[i + k] as number;
    let d: number;
    if (c >= ZERO && c <= NINE) d = c - ZERO;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Offset of the first byte that breaks UTF-8 (only called when the body is known to be invalid). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      min = 0x10000;
    } else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return b.length;
}

/**
 * Copies record `[start, end)` without the whitespace between its tokens (strings are copied unchanged), so that it
 * fits on one line. The record must have been validated by `scanRecords`.
 */
export function compactRecord(body: Uint8Array, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  let n = 0;
  let i = start;
  while (i < end) {
    const c = body[i] as number;
    if (c === QUOTE) {
      const close = stringEnd(body, i);
      out.set(body.subarray(i, close), n);
      n += close - i;
      i = close;
    } else {
      if (c !== SPACE && c !== TAB && c !== LF && c !== CR) out[n++] = c;
      i++;
    }
  }
  return out.subarray(0, n);
}

/** Index after the closing quote of the (valid) string starting at `i`. */
function stringEnd(b: Uint8Array, i: number): number {
  i++;
  for (;;) {
    const c = b[i];
    if (c === QUOTE) return i + 1;
    i += c === BACKSLASH ? 2 : 1;
  }
}

/** Index after the (valid) value starting at `i`. */
function valueEnd(b: Uint8Array, i: number, end: number): number {
  const c = b[i];
  if (c === QUOTE) return stringEnd(b, i);
  if (c === LBRACE || c === LBRACKET) {
    let depth = 0;
    while (i < end) {
      const d = b[i] as number;
      if (d === QUOTE) {
        i = stringEnd(b, i);
        continue;
      }
      if (d === LBRACE || d === LBRACKET) depth++;
      else if (d === RBRACE || d === RBRACKET) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return end;
  }
  while (i < end) {
    const d = b[i] as number;
    if (d === COMMA || d === RBRACE || d === RBRACKET || d === SPACE || d === TAB || d === LF || d === CR) break;
    i++;
  }
  return i;
}

function skipWs(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i];
    if (c === SPACE || c === TAB || c === LF || c === CR) i++;
    else return i;
  }
}

export interface MemberSpan {
  readonly key: string;
  /** The value's bytes `[start, end)`. */
  readonly start: number;
  readonly end: number;
}

/** The members of the (valid) object at `[start, end)`, without looking inside their values. */
export function objectMembers(body: Uint8Array, start: number, end: number): MemberSpan[] {
  const out: MemberSpan[] = [];
  let i = skipWs(body, start + 1);
  if (body[i] === RBRACE) return out;
  for (;;) {
    const keyEnd = stringEnd(body, i);
    const raw = Buffer.from(body.buffer, body.byteOffset + i, keyEnd - i);
    const key = raw.includes(BACKSLASH)
      ? (JSON.parse(raw.toString('utf8')) as string)
      : raw.toString('utf8', 1, raw.length - 1);
    i = skipWs(body, skipWs(body, keyEnd) + 1);
    const valueStop = valueEnd(body, i, end);
    out.push({ key, start: i, end: valueStop });
    i = skipWs(body, valueStop);
    if (body[i] !== COMMA) return out;
    i = skipWs(body, i + 1);
  }
}

/** The elements of the (valid) array at `[start, end)`. */
export function arrayElements(body: Uint8Array, start: number, end: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let i = skipWs(body, start + 1);
  if (body[i] === RBRACKET) return out;
  for (;;) {
    const stop = valueEnd(body, i, end);
    out.push({ start: i, end: stop });
    i = skipWs(body, stop);
    if (body[i] !== COMMA) return out;
    i = skipWs(body, i + 1);
  }
}

/** The text of a (valid) JSON string value at `[start, end)`, or undefined when the value is not a string. */
export function stringValue(body: Uint8Array, start: number, end: number): string | undefined {
  if (body[start] !== QUOTE) return undefined;
  const raw = Buffer.from(body.buffer, body.byteOffset + start, end - start);
  return raw.includes(BACKSLASH)
    ? (JSON.parse(raw.toString('utf8')) as string)
    : raw.toString('utf8', 1, raw.length - 1);
}
