/**
 * Syslog header parsing: RFC 5424, RFC 3164 (BSD) as devices really send it, and messages with no header at all.
 * Pure, never throws: what cannot be read is reported in `error`/`warnings` and the text is kept.
 *
 * RFC 3164 is a description of practice, not a grammar; the choices follow rsyslog's parser (which the Azure
 * Monitor agent receives through), so rows look like Sentinel's:
 * - the token after the timestamp is the host name unless it looks like a tag (`sshd[12]:`, `app:`) or the
 *   timestamp was followed by a colon (Cisco ASA: `Jan 05 2023 12:34:56: %ASA-6-302013: ...`);
 * - the next word is the tag even without a colon (`CISE_Passed_Authentications 0418535156 ...` gives ProcessName
 *   `CISE_Passed_Authentications`, as in Sentinel's Cisco ISE sample), if it is made of tag characters;
 * - without a recognisable timestamp the whole text is the message (RFC 3164 §4.3.3), and only an explicit
 *   `tag:` or `tag[pid]` at its start is taken as the tag.
 */
import { type Instant, readBsdTimestamp, readIsoTimestamp } from './timestamps.js';
import { DEFAULT_PRI } from './types.js';

export type SyslogFormat = 'rfc5424' | 'rfc3164' | 'none';

/** One RFC 5424 SD-ELEMENT: `[id name="value" ...]`. */
export interface StructuredElement {
  readonly id: string;
  readonly params: readonly (readonly [string, string])[];
}

export interface SyslogMessage {
  readonly format: SyslogFormat;
  /** The PRI value, or undefined when the message had none (facility/severity are then user.notice). */
  readonly pri: number | undefined;
  readonly facility: number;
  readonly severity: number;
  readonly timestamp?: Instant;
  readonly hostname?: string;
  /** RFC 5424 APP-NAME or the RFC 3164 tag's name. */
  readonly appName?: string;
  readonly procId?: string;
  readonly msgId?: string;
  readonly structuredData?: readonly StructuredElement[];
  /** The structured data exactly as received (for the message text). */
  readonly structuredDataText?: string;
  /** MSG (5424) or the content after the tag (3164). */
  readonly message: string;
  readonly error?: string;
  readonly warnings: readonly string[];
}

const SP = 32;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Characters a host name may have: letters, digits, `.`, `-`, `_`, and `:` for IPv6. */
function isHostname(s: string, start: number, end: number): boolean {
  if (end <= start || end - start > 255) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 46 || c === 45 || c === 95 || c === 58;
    if (!ok) return false;
  }
  // `app:` is a tag; an IPv6 address does not end with a single colon.
  return s.charCodeAt(end - 1) !== 58 || s.charCodeAt(end - 2) === 58;
}

/** Tag name characters: letters, digits and `_ - . / % @ #` (so `key=value` or `(text)` is never a tag). */
function isTagChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    isDigit(c) ||
    c === 95 ||
    c === 45 ||
    c === 46 ||
    c === 47 ||
    c === 37 ||
    c === 64 ||
    c === 35
  );
}

const MAX_TAG = 64;

interface Tag {
  readonly name: string;
  readonly pid?: string;
  readonly end: number;
}

/**
 * The tag at `p`: `name[pid]:`, `name:`, `name[pid]` or (unless `explicitOnly`) a bare `name` followed by a
 * space or the end. One space after it belongs to it.
 */
function readTag(s: string, p: number, explicitOnly: boolean): Tag | undefined {
  let q = p;
  const limit = Math.min(s.length, p + MAX_TAG);
  while (q < limit && isTagChar(s.charCodeAt(q))) q++;
  if (q === p) return undefined;
  const name = s.slice(p, q);
  let pid: string | undefined;
  let c = s.charCodeAt(q);
  if (c === 91 /* [ */) {
    const close = s.indexOf(']', q + 1);
    if (close < 0 || close - q > 24) return undefined;
    pid = s.slice(q + 1, close);
    q = close + 1;
    c = s.charCodeAt(q);
  }
  let colon = false;
  if (c === 58 /* : */) {
    colon = true;
    q++;
    c = s.charCodeAt(q);
  }
  const atEnd = q >= s.length;
  if (!atEnd && c !== SP) return undefined;
  if (explicitOnly && !colon && pid === undefined) return undefined;
  if (!atEnd) q++;
  return pid === undefined ? { name, end: q } : { name, pid, end: q };
}

function nextSpace(s: string, p: number): number {
  const i = s.indexOf(' ', p);
  return i < 0 ? s.length : i;
}

/** `<PRI>` at the start: [pri, index after] ; [undefined, 0] when absent; [NaN, 0] when malformed. */
function readPri(s: string): [number | undefined, number] {
  if (s.charCodeAt(0) !== 60 /* < */) return [undefined, 0];
  let v = 0;
  let i = 1;
  while (i <= 4 && isDigit(s.charCodeAt(i))) {
    v = v * 10 + (s.charCodeAt(i) - 48);
    i++;
  }
  if (i === 1 || i > 4 || s.charCodeAt(i) !== 62 /* > */ || v > 191) return [Number.NaN, 0];
  return [v, i + 1];
}

/** Every result has the same shape (absent fields are undefined), which keeps the hot path monomorphic. */
function result(
  format: SyslogFormat,
  pri: number | undefined,
  facility: number,
  severity: number,
  timestamp: Instant | undefined,
  hostname: string | undefined,
  appName: string | undefined,
  procId: string | undefined,
  msgId: string | undefined,
  structuredData: readonly StructuredElement[] | undefined,
  structuredDataText: string | undefined,
  message: string,
  error: string | undefined,
  warnings: readonly string[],
): SyslogMessage {
  return {
    format,
    pri,
    facility,
    severity,
    timestamp,
    hostname,
    appName,
    procId,
    msgId,
    structuredData,
    structuredDataText,
    message,
    error,
    warnings,
  };
}

/**
 * Parses one decoded syslog message. `receivedMs` supplies the year of BSD timestamps; `assumedOffset` (minutes
 * east of UTC) applies to timestamps without a zone.
 */
export function parseSyslog(s: string, receivedMs: number, assumedOffset: number): SyslogMessage {
  const [pri, afterPri] = readPri(s);
  if (pri !== undefined && Number.isNaN(pri)) {
    return result(
      'none',
      undefined,
      DEFAULT_PRI >> 3,
      DEFAULT_PRI & 7,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      s,
      'invalid PRI',
      [],
    );
  }
  const facility = (pri ?? DEFAULT_PRI) >> 3;
  const severity = (pri ?? DEFAULT_PRI) & 7;
  // RFC 5424: `<PRI>VERSION SP`. VERSION is 1 today; other small numbers are read the same way.
  const v = s.charCodeAt(afterPri);
  if (pri !== undefined && v >= 49 && v <= 57) {
    let q = afterPri + 1;
    while (q < afterPri + 3 && isDigit(s.charCodeAt(q))) q++;
    if (s.charCodeAt(q) === SP) return parse5424(s, q + 1, pri, facility, severity, assumedOffset);
  }
  return parse3164(s, afterPri, pri, facility, severity, receivedMs, assumedOffset);
}

function parse3164(
  s: string,
  p: number,
  pri: number | undefined,
  facility: number,
  severity: number,
  receivedMs: number,
  assumedOffset: number,
): SyslogMessage {
  const warnings: string[] = [];
  while (s.charCodeAt(p) === SP) p++;
  const c = s.charCodeAt(p);
  let timestamp: Instant | undefined;
  if (isDigit(c)) {
    // An RFC 3339 stamp in a BSD message (rsyslog's RSYSLOG_ForwardFormat and many appliances).
    const iso = readIsoTimestamp(s, p, assumedOffset);
    const after = iso ? s.charCodeAt(iso.end) : 0;
    if (iso && (Number.isNaN(after) || after === SP || after === 58)) {
      timestamp = iso.instant;
      p = iso.end;
    }
  } else if (c === 42 || c === 46 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
    const bsd = readBsdTimestamp(s, p, receivedMs, assumedOffset);
    const after = bsd ? s.charCodeAt(bsd.end) : 0;
    if (bsd && (Number.isNaN(after) || after === SP || after === 58)) {
      timestamp = bsd.instant;
      p = bsd.end;
    }
  }
  let hostname: string | undefined;
  let tag: Tag | undefined;
  if (timestamp === undefined) {
    if (pri !== undefined) warnings.push('no timestamp');
    tag = readTag(s, p, true);
  } else {
    let hostAllowed = true;
    if (s.charCodeAt(p) === 58) {
      hostAllowed = false;
      p++;
    }
    while (s.charCodeAt(p) === SP) p++;
    if (hostAllowed) {
      const end = nextSpace(s, p);
      // `sshd[12]:` or `app:` is a tag, not a host: isHostname rejects `[` and a trailing colon.
      if (isHostname(s, p, end)) {
        hostname = s.slice(p, end);
        p = end;
        while (s.charCodeAt(p) === SP) p++;
      }
    }
    tag = readTag(s, p, false);
  }
  if (tag) p = tag.end;
  const message = p === 0 ? s : s.slice(p);
  return result(
    timestamp === undefined && pri === undefined ? 'none' : 'rfc3164',
    pri,
    facility,
    severity,
    timestamp,
    hostname,
    tag?.name,
    tag?.pid,
    undefined,
    undefined,
    undefined,
    message,
    undefined,
    warnings,
  );
}

function parse5424(
  s: string,
  p: number,
  pri: number,
  facility: number,
  severity: number,
  assumedOffset: number,
): SyslogMessage {
  const warnings: string[] = [];
  const fields: (string | undefined)[] = [];
  let timestamp: Instant | undefined;
  // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID, each a token or `-`.
  for (let k = 0; k < 5; k++) {
    if (p >= s.length) {
      return result(
        'rfc5424',
        pri,
        facility,
        severity,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        s,
        'incomplete RFC 5424 header',
        warnings,
      );
    }
    const end = nextSpace(s, p);
    const token = s.slice(p, end);
    if (k === 0) {
      if (token !== '-') {
        const iso = readIsoTimestamp(s, p, assumedOffset);
        if (iso && iso.end === end) timestamp = iso.instant;
        else warnings.push(`invalid RFC 5424 timestamp "${token}"`);
      }
    } else fields.push(token === '-' || token === '' ? undefined : token);
    p = end + 1;
  }
  const [hostname, appName, procId, msgId] = fields;
  let structuredData: StructuredElement[] | undefined;
  let structuredDataText: string | undefined;
  let message: string;
  let error: string | undefined;
  if (p > s.length) {
    // The header ended right after MSGID: no SD field at all.
    warnings.push('missing structured data');
    message = '';
  } else if (s.charCodeAt(p) === 45 /* - */ && (p + 1 >= s.length || s.charCodeAt(p + 1) === SP)) {
    message = s.slice(Math.min(p + 2, s.length));
  } else if (s.charCodeAt(p) === 91 /* [ */) {
    const sd = readStructuredData(s, p);
    if (sd) {
      structuredData = sd.elements;
      structuredDataText = s.slice(p, sd.end);
      message = s.slice(sd.end < s.length && s.charCodeAt(sd.end) === SP ? sd.end + 1 : sd.end);
    } else {
      // Keep everything from the broken SD on, so nothing is lost.
      error = 'malformed structured data';
      message = s.slice(p);
    }
  } else {
    warnings.push('missing structured data');
    message = s.slice(p);
  }
  if (message.charCodeAt(0) === 0xfeff) message = message.slice(1);
  return result(
    'rfc5424',
    pri,
    facility,
    severity,
    timestamp,
    hostname,
    appName,
    procId,
    msgId,
    structuredData,
    structuredDataText,
    message,
    error,
    warnings,
  );
}

/** SD-ELEMENTs from `p` (which is at `[`); undefined when malformed. PARAM-VALUE escapes: `\"`, `\\`, `\]`. */
export function readStructuredData(s: string, p: number): { elements: StructuredElement[]; end: number } | undefined {
  const elements: StructuredElement[] = [];
  while (s.charCodeAt(p) === 91) {
    p++;
    const idStart = p;
    while (p < s.length) {
      const c = s.charCodeAt(p);
      if (c === SP || c === 93 || c === 61 || c === 34) break;
      p++;
    }
    if (p === idStart) return undefined;
    const id = s.slice(idStart, p);
    const params: (readonly [string, string])[] = [];
    while (s.charCodeAt(p) === SP) {
      p++;
      const nameStart = p;
      while (p < s.length) {
        const c = s.charCodeAt(p);
        if (c === 61 || c === SP || c === 93 || c === 34) break;
        p++;
      }
      if (p === nameStart || s.charCodeAt(p) !== 61 || s.charCodeAt(p + 1) !== 34) return undefined;
      const name = s.slice(nameStart, p);
      p += 2;
      let value = '';
      let chunk = p;
      for (;;) {
        if (p >= s.length) return undefined;
        const c = s.charCodeAt(p);
        if (c === 92 /* \ */) {
          const n = s.charCodeAt(p + 1);
          if (n === 34 || n === 92 || n === 93) {
            value += s.slice(chunk, p) + s[p + 1];
            p += 2;
            chunk = p;
            continue;
          }
          p++;
          continue;
        }
        if (c === 34) break;
        p++;
      }
      value += s.slice(chunk, p);
      p++;
      params.push([name, value]);
    }
    if (s.charCodeAt(p) !== 93) return undefined;
    p++;
    elements.push({ id, params });
  }
  return { elements, end: p };
}
