/**
 * zlib_decompress_from_base64_string / gzip_decompress_from_base64_string: strict base64 (as .NET's
 * Convert.FromBase64String reads it) → inflate → UTF-8 text. Anything invalid gives '' (KQL strings are never
 * null; Kusto documents '' for invalid input). The output is capped so that a small input cannot expand into
 * gigabytes (a "zip bomb"): beyond the cap the result is '' too.
 */
import { gunzipSync, inflateSync } from 'node:zlib';

/** Kusto's string values are limited to about 1 MB in practice; 16 MB leaves room without risking memory. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** .NET base64: padded to a multiple of 4, whitespace ignored. */
export function strictBase64(text: string): Buffer | null {
  const compact = text.replace(/[ \t\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return null;
  return Buffer.from(compact, 'base64');
}

function decompress(text: string, inflate: typeof inflateSync): string {
  const bytes = strictBase64(text);
  if (bytes === null || bytes.length === 0) return '';
  try {
    return inflate(bytes, { maxOutputLength: MAX_OUTPUT_BYTES }).toString('utf8');
  } catch {
    return ''; // corrupt stream, wrong format or over the cap
  }
}

export function zlibDecompressFromBase64(text: string): string {
  return decompress(text, inflateSync);
}

export function gzipDecompressFromBase64(text: string): string {
  return decompress(text, gunzipSync);
}
