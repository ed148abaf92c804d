/**
 * Bytes → text for one syslog message: trailing line ends dropped, the size limit applied on a UTF-8 character
 * boundary, and a decoding that never loses a byte.
 *
 * Devices that are not UTF-8 send Latin-1 or Windows-1252. Decoding those bytes as UTF-8 would turn every
 * accented letter into U+FFFD for good; decoding the whole message as Latin-1 instead keeps one character per
 * byte, so the original bytes can still be recovered. The caller gets a warning either way.
 */
import { Buffer, isUtf8 } from 'node:buffer';

export interface DecodedMessage {
  readonly text: string;
  readonly truncated: boolean;
  /** The bytes were not valid UTF-8 and were read as Latin-1. */
  readonly latin1: boolean;
}

const isLineEnd = (b: number | undefined): boolean => b === 0x0a || b === 0x0d || b === 0x00;

export function decodeMessage(bytes: Uint8Array, maxBytes: number): DecodedMessage {
  let end = bytes.length;
  while (end > 0 && isLineEnd(bytes[end - 1])) end--;
  let start = 0;
  // A UTF-8 BOM before the whole message (some Windows senders) is not part of it; RFC 5424's BOM before MSG is
  // handled by the parser.
  if (end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  let truncated = false;
  if (end - start > maxBytes) {
    truncated = true;
    end = start + maxBytes;
    // Do not cut a multi-byte character in two: back up to the start of the character at the cut.
    while (end > start && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start);
  if (isUtf8(buf)) return { text: buf.toString('utf8'), truncated, latin1: false };
  return { text: buf.toString('latin1'), truncated, latin1: true };
}

/** The same for text that is already decoded (tests, HTTP bodies): line ends and BOM dropped, the limit applied. */
export function prepareText(text: string, maxBytes: number): DecodedMessage {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== 0x0a && c !== 0x0d && c !== 0) break;
    end--;
  }
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let t = start === 0 && end === text.length ? text : text.slice(start, end);
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only measure when the text could be over the limit.
  if (t.length * 3 > maxBytes && Buffer.byteLength(t, 'utf8') > maxBytes) {
    const d = decodeMessage(Buffer.from(t, 'utf8'), maxBytes);
    return { text: d.text, truncated: true, latin1: false };
  }
  if (t.length === 0) t = '';
  return { text: t, truncated: false, latin1: false };
}
