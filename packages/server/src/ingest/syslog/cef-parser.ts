/**
 * CEF: `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`.
 * Pure, never throws.
 *
 * Escapes (ArcSight CEF spec): in the header `\|` and `\\`; in extension values `\=`, `\\`, `\n`, `\r` (and `\|`,
 * which some senders add needlessly). Since February 2023 Sentinel removes the escape characters before storing
 * (before that `\=` stayed in the data, as `sentinel-training-solarigate_CEFevent.csv` shows); so do we.
 *
 * Extension values may contain unescaped spaces, so a key starts only at a word directly followed by an
 * unescaped `=` that comes after a space (or at the very start). An `=` inside a value that is not preceded by
 * such a word (`request=http://x/?a=b`) stays in the value.
 */

export interface CefEvent {
  readonly version: string;
  readonly deviceVendor: string;
  readonly deviceProduct: string;
  readonly deviceVersion: string;
  readonly signatureId: string;
  readonly name: string;
  readonly severity: string;
  /** Extension pairs in message order, values unescaped (the one separator space removed, other spaces kept). */
  readonly extensions: readonly (readonly [string, string])[];
  /** Text at the start of the extension that belongs to no key (reported as a warning). */
  readonly strayText?: string;
}

export type CefParse =
  | { readonly event: CefEvent; readonly error?: undefined }
  | { readonly event?: undefined; readonly error: string };

const CEF_MARK = /CEF:[ \t]?\d{1,3}(?:\.\d{1,3})?\|/y;

/** Where `CEF:<version>|` starts in a syslog message, or -1. */
export function findCef(s: string): number {
  let i = s.indexOf('CEF:');
  while (i >= 0) {
    CEF_MARK.lastIndex = i;
    if (CEF_MARK.test(s)) return i;
    i = s.indexOf('CEF:', i + 4);
  }
  return -1;
}

const isKeyChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;

/** Parses the CEF event starting at `start` (which is at `CEF:`). */
export function parseCef(s: string, start = 0): CefParse {
  let p = start + 4;
  while (s.charCodeAt(p) === 32 || s.charCodeAt(p) === 9) p++;
  // Seven header fields, each ended by an unescaped `|`; the last (Severity) may end the message.
  const header: string[] = [];
  let field = '';
  let chunk = p;
  while (header.length < 7 && p < s.length) {
    const c = s.charCodeAt(p);
    if (c === 92 /* \ */) {
      const n = s.charCodeAt(p + 1);
      if (n === 124 || n === 92) {
        field += s.slice(chunk, p) + s[p + 1];
        p += 2;
        chunk = p;
        continue;
      }
      p++;
      continue;
    }
    if (c === 124 /* | */) {
      header.push(field + s.slice(chunk, p));
      field = '';
      p++;
      chunk = p;
      continue;
    }
    p++;
  }
  if (header.length === 6 && p >= s.length && chunk < s.length) header.push(field + s.slice(chunk));
  if (header.length < 7) return { error: `incomplete CEF header (${header.length} of 7 fields)` };
  const [version, deviceVendor, deviceProduct, deviceVersion, signatureId, name, severity] = header as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const { extensions, strayText } = parseExtension(s, p);
  return {
    event: {
      version: version.trim(),
      deviceVendor,
      deviceProduct,
      deviceVersion,
      signatureId,
      name,
      severity: severity.trim(),
      extensions,
      ...(strayText !== undefined && { strayText }),
    },
  };
}

/** `key=value key2=value with spaces ...` from `start` to the end of `s`. */
export function parseExtension(
  s: string,
  start: number,
): { extensions: [string, string][]; strayText: string | undefined } {
  const extensions: [string, string][] = [];
  let prevKey: string | undefined;
  let prevValueStart = 0;
  let firstKeyStart = -1;
  const n = s.length;
  // Jump from `=` to `=` (native search) rather than walking every character in JS.
  for (let i = s.indexOf('=', start); i >= 0; i = s.indexOf('=', i + 1)) {
    // Escaped when preceded by an odd number of backslashes.
    let b = i - 1;
    while (b >= start && s.charCodeAt(b) === 92) b--;
    if ((i - 1 - b) % 2 === 1) continue;
    let k = i;
    while (k > start && isKeyChar(s.charCodeAt(k - 1))) k--;
    if (k === i) continue;
    if (k > start && s.charCodeAt(k - 1) !== 32 && s.charCodeAt(k - 1) !== 9) continue;
    // Exactly one space separates pairs: other spaces belong to the value (Sentinel keeps a command line's
    // trailing space, see the CrowdStrike sample).
    if (prevKey !== undefined) extensions.push([prevKey, unescapeValue(s.slice(prevValueStart, k - 1))]);
    else firstKeyStart = k;
    prevKey = s.slice(k, i);
    prevValueStart = i + 1;
  }
  if (prevKey !== undefined) extensions.push([prevKey, unescapeValue(s.slice(prevValueStart).trimEnd())]);
  const strayEnd = firstKeyStart < 0 ? n : firstKeyStart;
  const stray = s.slice(start, strayEnd).trim();
  return { extensions, strayText: stray.length > 0 ? stray : undefined };
}

function unescapeValue(v: string): string {
  if (v.indexOf('\\') < 0) return v;
  let out = '';
  let chunk = 0;
  for (let i = 0; i < v.length; i++) {
    if (v.charCodeAt(i) !== 92) continue;
    const next = v[i + 1];
    let repl: string | undefined;
    if (next === '=' || next === '\\' || next === '|') repl = next;
    else if (next === 'n') repl = '\n';
    else if (next === 'r') repl = '\r';
    if (repl === undefined) continue;
    out += v.slice(chunk, i) + repl;
    i++;
    chunk = i + 1;
  }
  return out + v.slice(chunk);
}
