/**
 * Values of KQL literal tokens (see `Literal.value` in nodes.ts). Kusto.Language itself never looks inside literal
 * text; the Kusto engine does, with .NET's lenient parsers. These functions accept the forms the engine documents and
 * the query corpus uses, and return `undefined` for text they cannot interpret (the parser then reports a warning).
 */

export const TICKS_PER_MS = 10_000n;
const TICKS_PER_SECOND = 10_000_000n;
const TICKS_PER_MINUTE = 60n * TICKS_PER_SECOND;
const TICKS_PER_HOUR = 60n * TICKS_PER_MINUTE;
const TICKS_PER_DAY = 24n * TICKS_PER_HOUR;
/** Ticks from 0001-01-01 to 1970-01-01. */
const EPOCH_TICKS = 621_355_968_000_000_000n;
const MIN_DATETIME_TICKS = -EPOCH_TICKS;
const MAX_DATETIME_TICKS = 3_155_378_975_999_999_999n - EPOCH_TICKS;

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;

/** A value, `null` for a typed null such as `long(null)`, or `undefined` when the text cannot be interpreted. */
export type Decoded<T> = T | null | undefined;

// ───────────────────────────── strings ─────────────────────────────

/**
 * The value of one string literal token: `'a'`, `"a\n"`, `@"c:\x"` (verbatim, `""` escapes a quote), `h'...'`
 * (obfuscated: same value), ```` ```multi-line``` ```` and `~~~...~~~`. An unterminated token yields its content.
 */
export function decodeStringToken(token: string): string {
  let i = 0;
  if (token[i] === 'h' || token[i] === 'H') i++;
  let verbatim = false;
  if (token[i] === '@') {
    verbatim = true;
    i++;
  }
  const q = token[i];
  if (token.startsWith('```', i) || token.startsWith('~~~', i)) {
    const fence = token.slice(i, i + 3);
    const body = token.slice(i + 3);
    return body.endsWith(fence) && body.length >= 3 ? body.slice(0, -3) : body;
  }
  let body = token.slice(i + 1);
  if (body.length > 0 && body[body.length - 1] === q) body = body.slice(0, -1);
  if (verbatim) return q === undefined ? body : body.split(q + q).join(q);
  return decodeEscapes(body);
}

function decodeEscapes(body: string): string {
  if (body.indexOf('\\') < 0) return body;
  let out = '';
  let i = 0;
  while (i < body.length) {
    const ch = body[i] as string;
    if (ch !== '\\' || i + 1 >= body.length) {
      out += ch;
      i++;
      continue;
    }
    const e = body[i + 1] as string;
    i += 2;
    switch (e) {
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'u':
        out += String.fromCharCode(Number.parseInt(body.slice(i, i + 4), 16));
        i += 4;
        break;
      case 'U':
        out += String.fromCodePoint(Math.min(Number.parseInt(body.slice(i, i + 8), 16), 0x10ffff));
        i += 8;
        break;
      case 'x':
        out += String.fromCharCode(Number.parseInt(body.slice(i, i + 2), 16));
        i += 2;
        break;
      default:
        if (e >= '0' && e <= '7') {
          let digits = e;
          while (digits.length < 3 && i < body.length && (body[i] as string) >= '0' && (body[i] as string) <= '7') {
            if (digits.length === 2 && digits[0] !== undefined && digits[0] > '3') break;
            digits += body[i];
            i++;
          }
          out += String.fromCharCode(Number.parseInt(digits, 8));
        } else {
          out += e;
        }
    }
  }
  return out;
}

// ───────────────────────────── typed literal tokens ─────────────────────────────

/** Splits `long(5)` into keyword and trimmed content; plain tokens (`5`, `1.5h`) return null content. */
export function gooContent(token: string): string | null {
  const open = token.indexOf('(');
  if (open < 0) return null;
  const close = token.endsWith(')') ? token.length - 1 : token.length;
  return token.slice(open + 1, close).trim();
}

function isNull(content: string): boolean {
  return content === 'null';
}

function parseInteger(text: string): bigint | undefined {
  const m = /^([+-]?)(?:(0[xX][0-9a-fA-F]+)|([0-9]+))$/.exec(text);
  if (!m) return undefined;
  const magnitude = BigInt(m[2] ?? (m[3] as string));
  return m[1] === '-' ? -magnitude : magnitude;
}

export function decodeLong(text: string): Decoded<bigint> {
  const content = gooContent(text) ?? text;
  if (isNull(content)) return null;
  const v = parseInteger(content);
  return v !== undefined && v >= LONG_MIN && v <= LONG_MAX ? v : undefined;
}

export function decodeInt(text: string): Decoded<bigint> {
  const content = gooContent(text) ?? text;
  if (isNull(content)) return null;
  const v = parseInteger(content);
  return v !== undefined && v >= INT_MIN && v <= INT_MAX ? v : undefined;
}

export function decodeReal(text: string): Decoded<number> {
  const content = gooContent(text) ?? text;
  if (isNull(content)) return null;
  switch (content.toLowerCase()) {
    case 'nan':
      return Number.NaN;
    case 'inf':
    case '+inf':
      return Number.POSITIVE_INFINITY;
    case '-inf':
      return Number.NEGATIVE_INFINITY;
  }
  if (!/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/.test(content)) {
    const asInt = parseInteger(content);
    return asInt === undefined ? undefined : Number(asInt);
  }
  return Number(content);
}

/** Decimal values are kept as their exact text. */
export function decodeDecimal(text: string): Decoded<string> {
  const content = gooContent(text) ?? text;
  if (isNull(content)) return null;
  if (/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/.test(content)) return content;
  if (/^[+-]?(nan|inf)$/i.test(content)) return content.toLowerCase();
  return undefined;
}

export function decodeBool(text: string): Decoded<boolean> {
  const content = (gooContent(text) ?? text).toLowerCase();
  if (content === 'null') return null;
  if (content === 'true' || content === '1') return true;
  if (content === 'false' || content === '0') return false;
  return undefined;
}

export function decodeGuid(text: string): Decoded<string> {
  let content = gooContent(text) ?? text;
  if (isNull(content)) return null;
  if ((content.startsWith('{') && content.endsWith('}')) || (content.startsWith('(') && content.endsWith(')'))) {
    content = content.slice(1, -1);
  }
  const hex = /^[0-9a-fA-F]{32}$/.test(content)
    ? content
    : /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(content)
      ? content.replace(/-/g, '')
      : null;
  if (!hex) return undefined;
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ───────────────────────────── timespans ─────────────────────────────

/** Unit sizes in nanoseconds, so that `1nanosecond` and `1.5h` are exact before truncation to ticks. */
const UNIT_NANOS: Readonly<Record<string, bigint>> = (() => {
  const day = 86_400_000_000_000n;
  const table: Record<string, bigint> = {};
  const set = (names: string[], ns: bigint) => {
    for (const n of names) table[n] = ns;
  };
  set(['d', 'day', 'days'], day);
  set(['h', 'hr', 'hrs', 'hour', 'hours'], day / 24n);
  set(['m', 'min', 'minute', 'minutes'], 60_000_000_000n);
  set(['s', 'sec', 'second', 'seconds'], 1_000_000_000n);
  set(['ms', 'milli', 'millis', 'millisec', 'millisecond', 'milliseconds'], 1_000_000n);
  set(['micro', 'micros', 'microsec', 'microsecond', 'microseconds'], 1_000n);
  set(['nano', 'nanos', 'nanosec', 'nanosecond', 'nanoseconds'], 1n);
  set(['tick', 'ticks'], 100n);
  return table;
})();

/** `1.5h`, `2d`, `100ms`: number with optional fraction and a unit. */
function decodeTimespanWithUnit(text: string): bigint | undefined {
  const m = /^([+-]?)(\d+)(?:\.(\d*))?([a-z]+)$/.exec(text);
  if (!m) return undefined;
  const unit = UNIT_NANOS[m[4] as string];
  if (unit === undefined) return undefined;
  const frac = m[3] ?? '';
  const scale = 10n ** BigInt(frac.length);
  const nanos = (BigInt(m[2] as string) * scale + BigInt(frac === '' ? '0' : frac)) * unit;
  const ticks = nanos / scale / 100n;
  return m[1] === '-' ? -ticks : ticks;
}

/** `[-][d.]hh:mm[:ss[.fffffff]]` as in `timespan(1.02:03:04.5)`. */
function decodeClockTimespan(text: string): bigint | undefined {
  const m = /^([+-]?)(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(text);
  if (!m) return undefined;
  const [hh, mm, ss] = [Number(m[3]), Number(m[4]), Number(m[5] ?? '0')];
  if (hh > 23 || mm > 59 || ss > 59) return undefined;
  const frac = (m[6] ?? '').padEnd(7, '0');
  const ticks =
    BigInt(m[2] ?? '0') * TICKS_PER_DAY +
    BigInt(hh) * TICKS_PER_HOUR +
    BigInt(mm) * TICKS_PER_MINUTE +
    BigInt(ss) * TICKS_PER_SECOND +
    BigInt(frac);
  return m[1] === '-' ? -ticks : ticks;
}

/** Timespan literal token: `2d`, `-1.5h` (signed by the parser), `timespan(1.02:03:04)`, `time(null)`. */
export function decodeTimespan(text: string): Decoded<bigint> {
  const content = gooContent(text);
  if (content === null) return decodeTimespanWithUnit(text);
  if (isNull(content)) return null;
  const compact = content.replace(/\s+/g, '');
  const unquoted = /^(['"]).*\1$/.test(compact) ? compact.slice(1, -1) : compact;
  if (/^[+-]?\d+$/.test(unquoted)) return BigInt(unquoted) * TICKS_PER_DAY; // `timespan(2)` is two days
  return decodeTimespanWithUnit(unquoted) ?? decodeClockTimespan(unquoted);
}

// ───────────────────────────── datetimes ─────────────────────────────

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

function daysFromCivil(y: number, m: number, d: number): number {
  // days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm)
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

interface Clock {
  h: number;
  mi: number;
  s: number;
  frac: string;
  offsetMinutes: number;
}

function toTicks(y: number, mo: number, d: number, c: Clock): bigint | undefined {
  if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  if (c.h > 23 || c.mi > 59 || c.s > 59) return undefined;
  const fracTicks = BigInt(c.frac.slice(0, 7).padEnd(7, '0'));
  const ticks =
    BigInt(daysFromCivil(y, mo, d)) * TICKS_PER_DAY +
    BigInt(c.h) * TICKS_PER_HOUR +
    BigInt(c.mi) * TICKS_PER_MINUTE +
    BigInt(c.s) * TICKS_PER_SECOND +
    fracTicks -
    BigInt(c.offsetMinutes) * TICKS_PER_MINUTE;
  return ticks >= MIN_DATETIME_TICKS && ticks <= MAX_DATETIME_TICKS ? ticks : undefined;
}

/** Parses `hh:mm[:ss[.f]] [AM|PM] [Z|GMT|UTC|±hh[:]mm]`; empty text is midnight UTC. */
function parseClock(text: string): Clock | undefined {
  const t = text.trim();
  if (t === '' || /^(z|gmt|utc)$/i.test(t)) return { h: 0, mi: 0, s: 0, frac: '', offsetMinutes: 0 };
  const m =
    /^(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d+))?)?\s*(am|pm)?\s*(z|gmt|utc|[+-]\d{2}:?\d{2}|[+-]\d{1,2})?$/i.exec(
      t,
    );
  if (!m) return undefined;
  let h = Number(m[1]);
  const ampm = m[5]?.toLowerCase();
  if (ampm) {
    if (h < 1 || h > 12) return undefined;
    if (ampm === 'pm' && h !== 12) h += 12;
    if (ampm === 'am' && h === 12) h = 0;
  }
  let offsetMinutes = 0;
  const zone = m[6];
  if (zone && /^[+-]/.test(zone)) {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.length <= 2 ? digits : digits.slice(0, -2));
    const om = digits.length <= 2 ? 0 : Number(digits.slice(-2));
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return { h, mi: Number(m[2]), s: Number(m[3] ?? '0'), frac: m[4] ?? '', offsetMinutes };
}

/**
 * Datetime literal token to ticks since 1970-01-01 UTC. Accepted content (after optional quotes):
 * ISO 8601 with `T` or a space (`2015-12-31 23:59:59.9`, `2015-12-31T23:59Z`, spaces around `-` allowed),
 * `yyyy/MM/dd`, US `MM/dd/yyyy` and `MM-dd-yyyy`, `yyyy, M, d`, RFC 822/1123 (`Sat, 01 Jan 2022 00:00:00 GMT`) and
 * RFC 850 (`Saturday, 01-Jan-22 00:00:00 GMT`), `dd MMM yyyy`, `MMM dd yyyy`, and `yyyyMMdd`.
 */
export function decodeDateTime(text: string): Decoded<bigint> {
  const content = gooContent(text);
  if (content === null) return undefined;
  if (isNull(content)) return null;
  let s = content;
  if (/^(['"]).*\1$/s.test(s)) s = s.slice(1, -1).trim();
  return parseDateTimeText(s);
}

export function parseDateTimeText(input: string): bigint | undefined {
  const s = input.trim();
  let m: RegExpExecArray | null;
  // ISO-like: yyyy-MM-dd / yyyy/MM/dd / yyyy.MM.dd, then optional time
  m = /^(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})(?:(?:T|\s+)(.*))?$/i.exec(s);
  if (m) {
    const clock = parseClock(m[5] ?? '');
    return clock && toTicks(Number(m[1]), Number(m[3]), Number(m[4]), clock);
  }
  // yyyy-MM-ddZ or yyyy-MM-dd+hh:mm without a time part
  m = /^(\d{4})-(\d{1,2})-(\d{1,2})(z|[+-]\d{2}:?\d{2})$/i.exec(s);
  if (m) {
    const clock = parseClock(`00:00 ${m[4]}`);
    return clock && toTicks(Number(m[1]), Number(m[2]), Number(m[3]), clock);
  }
  // compact yyyyMMdd[Thhmmss]
  m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?)?$/.exec(s);
  if (m) {
    const clock = {
      h: Number(m[4] ?? '0'),
      mi: Number(m[5] ?? '0'),
      s: Number(m[6] ?? '0'),
      frac: '',
      offsetMinutes: 0,
    };
    return toTicks(Number(m[1]), Number(m[2]), Number(m[3]), clock);
  }
  // yyyy, M, d
  m = /^(\d{4})\s*,\s*(\d{1,2})\s*,\s*(\d{1,2})$/.exec(s);
  if (m) return toTicks(Number(m[1]), Number(m[2]), Number(m[3]), { h: 0, mi: 0, s: 0, frac: '', offsetMinutes: 0 });
  // US: MM/dd/yyyy or MM-dd-yyyy, optional time
  m = /^(\d{1,2})([-/])(\d{1,2})\2(\d{4})(?:\s+(.*))?$/.exec(s);
  if (m) {
    const clock = parseClock(m[5] ?? '');
    return clock && toTicks(Number(m[4]), Number(m[1]), Number(m[3]), clock);
  }
  // RFC 822/1123/850 and other month-name forms, with an optional leading weekday
  const noWeekday = s.replace(/^[a-z]+,\s*/i, '');
  m = /^(\d{1,2})[\s-]([a-z]{3})[a-z]*[\s-](\d{2}|\d{4})(?:\s+(.*))?$/i.exec(noWeekday);
  if (m) {
    const mo = MONTHS[(m[2] as string).toLowerCase()];
    const clock = parseClock(m[4] ?? '');
    const y = (m[3] as string).length === 2 ? 2000 + Number(m[3]) - (Number(m[3]) >= 50 ? 100 : 0) : Number(m[3]);
    return mo && clock ? toTicks(y, mo, Number(m[1]), clock) : undefined;
  }
  m = /^([a-z]{3})[a-z]*\s+(\d{1,2}),?\s+(\d{4})(?:\s+(.*))?$/i.exec(noWeekday);
  if (m) {
    const mo = MONTHS[(m[1] as string).toLowerCase()];
    const clock = parseClock(m[4] ?? '');
    return mo && clock ? toTicks(Number(m[3]), mo, Number(m[2]), clock) : undefined;
  }
  return undefined;
}
