/**
 * Timestamp readers for syslog and CEF, and the datetime wire format.
 *
 * An instant is epoch milliseconds plus the microseconds below them: storage keeps microseconds (see the engine's
 * values.ts), and RFC 5424 allows six fractional digits (`2003-08-24T05:14:15.000003-07:00`).
 */

export interface Instant {
  /** Milliseconds since the Unix epoch (integer). */
  readonly ms: number;
  /** Microseconds within that millisecond, 0-999. */
  readonly micros: number;
}

const MIN_MS = -62135596800000; // 0001-01-01T00:00:00Z
const MAX_MS = 253402300799999; // 9999-12-31T23:59:59.999Z
const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). Pure arithmetic: no Date objects per row. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/** `2024-01-02T03:04:05.1234560Z`: Kusto's datetime text, 7 fractional digits (the 7th is 0: µs storage). */
export function formatInstant(t: Instant): string {
  const days = Math.floor(t.ms / DAY_MS);
  let rest = t.ms - days * DAY_MS;
  // Civil date from days (H. Hinnant's algorithm).
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const ms = rest - second * 1000;
  const y = year < 1000 ? `${year}`.padStart(4, '0') : `${year}`;
  return `${y}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}.${pad3(ms)}${pad3(t.micros)}0Z`;
}

export const instantFromMs = (ms: number): Instant => ({ ms: Math.floor(ms), micros: 0 });

const MONTHS: ReadonlyMap<string, number> = new Map(
  ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((m, i) => [m, i]),
);

/** Zone names seen after CEF and Cisco timestamps, in minutes east of UTC. Unknown names are reported. */
const ZONES: ReadonlyMap<string, number> = new Map([
  ['utc', 0],
  ['gmt', 0],
  ['z', 0],
  ['ut', 0],
  ['wet', 0],
  ['west', 60],
  ['bst', 60],
  ['cet', 60],
  ['cest', 120],
  ['eet', 120],
  ['eest', 180],
  ['msk', 180],
  ['yekt', 300],
  ['ist', 330],
  ['sgt', 480],
  ['jst', 540],
  ['kst', 540],
  ['aest', 600],
  ['aedt', 660],
  ['nzst', 720],
  ['nzdt', 780],
  ['hst', -600],
  ['akst', -540],
  ['akdt', -480],
  ['pst', -480],
  ['pdt', -420],
  ['mst', -420],
  ['mdt', -360],
  ['cst', -360],
  ['cdt', -300],
  ['est', -300],
  ['edt', -240],
  ['ast', -240],
  ['adt', -180],
]);

export function zoneOffsetMinutes(name: string): number | undefined {
  return ZONES.get(name.toLowerCase());
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

/** Epoch ms of a civil date-time at a UTC offset; undefined when the date does not exist (Feb 30, month 13...). */
export function civilToMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  offsetMinutes: number,
): number | undefined {
  if (month < 0 || month > 11 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  if (year < 1 || year > 9999) return undefined;
  if (day > (month === 1 && isLeap(year) ? 29 : (DAYS_IN_MONTH[month] ?? 0))) return undefined;
  // A leap second (:60) is stored as :59, as Kusto has no leap seconds.
  const sec = second === 60 ? 59 : second;
  const t =
    daysFromCivil(year, month + 1, day) * DAY_MS +
    hour * 3_600_000 +
    minute * 60_000 +
    sec * 1000 +
    ms -
    offsetMinutes * 60_000;
  return t < MIN_MS || t > MAX_MS ? undefined : t;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Reads `n` digits at `i`; -1 if any is not a digit. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k);
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** A fraction of a second from its digits (any count): [ms, µs] (digits beyond µs are dropped). */
function fraction(s: string, start: number, end: number): [number, number] {
  let ms = 0;
  let us = 0;
  for (let k = 0; k < 6; k++) {
    const c = start + k < end ? s.charCodeAt(start + k) - 48 : 0;
    if (k < 3) ms = ms * 10 + c;
    else us = us * 10 + c;
  }
  return [ms, us];
}

export interface TimestampMatch {
  readonly instant: Instant;
  /** Index just after the timestamp. */
  readonly end: number;
}

/**
 * RFC 3339 / ISO 8601 at `i`: `YYYY-MM-DD(T| )HH:MM:SS[.f+][Z|±HH:MM|±HHMM]`. `T`/`Z` in either case. Without a
 * zone the time is taken at `assumedOffset` minutes (RFC 5424 requires a zone; ISO stamps in BSD messages often
 * have none).
 */
export function readIsoTimestamp(s: string, i: number, assumedOffset: number): TimestampMatch | undefined {
  const year = digits(s, i, 4);
  if (year < 0 || s.charCodeAt(i + 4) !== 45 /* - */) return undefined;
  const month = digits(s, i + 5, 2);
  if (month < 0 || s.charCodeAt(i + 7) !== 45) return undefined;
  const day = digits(s, i + 8, 2);
  const sep = s.charCodeAt(i + 10);
  if (day < 0 || (sep !== 84 && sep !== 116 && sep !== 32)) return undefined; // T t space
  const hour = digits(s, i + 11, 2);
  if (hour < 0 || s.charCodeAt(i + 13) !== 58) return undefined;
  const minute = digits(s, i + 14, 2);
  if (minute < 0 || s.charCodeAt(i + 16) !== 58) return undefined;
  const second = digits(s, i + 17, 2);
  if (second < 0) return undefined;
  let p = i + 19;
  let ms = 0;
  let us = 0;
  const dot = s.charCodeAt(p);
  if ((dot === 46 || dot === 44) && isDigit(s.charCodeAt(p + 1))) {
    const f = p + 1;
    p = f;
    while (isDigit(s.charCodeAt(p))) p++;
    [ms, us] = fraction(s, f, p);
  }
  let offset = assumedOffset;
  const z = s.charCodeAt(p);
  if (z === 90 || z === 122) {
    offset = 0;
    p++;
  } else if (z === 43 || z === 45) {
    const oh = digits(s, p + 1, 2);
    if (oh >= 0) {
      let om: number;
      let len: number;
      if (s.charCodeAt(p + 3) === 58) {
        om = digits(s, p + 4, 2);
        len = 6;
      } else {
        om = digits(s, p + 3, 2);
        len = 5;
      }
      if (om >= 0 && oh <= 23 && om <= 59) {
        offset = (z === 45 ? -1 : 1) * (oh * 60 + om);
        p += len;
      }
    }
  }
  const t = civilToMs(year, month - 1, day, hour, minute, second, ms, offset);
  return t === undefined ? undefined : { instant: { ms: t, micros: us }, end: p };
}

/** The month at `i` as 0-11 (three letters, any case), or -1. */
export function readMonth(s: string, i: number): number {
  const m = MONTHS.get(s.slice(i, i + 3).toLowerCase());
  return m === undefined ? -1 : m;
}

/** `HH:MM:SS[.f+]` at `i` → [h, m, s, ms, µs, end] or undefined. */
function readClock(s: string, i: number): [number, number, number, number, number, number] | undefined {
  const h = digits(s, i, 2);
  if (h < 0 || s.charCodeAt(i + 2) !== 58) return undefined;
  const m = digits(s, i + 3, 2);
  if (m < 0 || s.charCodeAt(i + 5) !== 58) return undefined;
  const sec = digits(s, i + 6, 2);
  if (sec < 0) return undefined;
  let p = i + 8;
  let ms = 0;
  let us = 0;
  if (s.charCodeAt(p) === 46 && isDigit(s.charCodeAt(p + 1))) {
    const f = p + 1;
    p = f;
    while (isDigit(s.charCodeAt(p))) p++;
    [ms, us] = fraction(s, f, p);
  }
  return [h, m, sec, ms, us, p];
}

/** The UTC year of an epoch-ms instant, cached per day (every message of a stream asks for the same one). */
let yearCacheDay = Number.NaN;
let yearCacheValue = 1970;
function yearOf(ms: number): number {
  const day = Math.floor(ms / DAY_MS);
  if (day !== yearCacheDay) {
    yearCacheDay = day;
    yearCacheValue = new Date(day * DAY_MS).getUTCFullYear();
  }
  return yearCacheValue;
}

/** How far ahead of the receive time a year-less timestamp may be (clock skew, a misconfigured zone). */
const FUTURE_TOLERANCE_MS = 7 * DAY_MS;

/**
 * A year for a date that came without one: the latest of (received year + 1, received year, received year - 1)
 * that does not put the event more than a week after its arrival. Logs arrive late, rarely early: a
 * `Dec 31 23:59:59` message received on Jan 1 belongs to the old year, a `Feb 5` one received in October to this
 * year, and a `Jan 1 00:00:01` one from a fast clock received on Dec 31 to the new year. Feb 29 skips years that
 * lack it.
 */
export function yearlessToMs(
  month: number,
  day: number,
  clock: readonly [number, number, number, number],
  receivedMs: number,
  offset: number,
): number | undefined {
  const y = yearOf(receivedMs + offset * 60_000);
  for (const year of [y + 1, y, y - 1, y - 2, y - 3, y - 4]) {
    const t = civilToMs(year, month, day, clock[0], clock[1], clock[2], clock[3], offset);
    if (t !== undefined && t <= receivedMs + FUTURE_TOLERANCE_MS) return t;
  }
  return undefined;
}

export interface BsdTimestampMatch extends TimestampMatch {
  /** The timestamp carried no year; it was inferred from the receive time. */
  readonly inferredYear: boolean;
}

/**
 * The BSD timestamp at `i`: `Mmm dd HH:MM:SS`, plus what devices add in practice: a day without the padding
 * space, a year before the time (`Oct 11 2003 22:14:15`, Cisco/Check Point) or after it, a fraction (`.483`),
 * and a zone after it (`UTC`, `CET`, `+02:00`). Cisco's unsynchronised-clock marks (`*`, `.`) in front are skipped.
 */
export function readBsdTimestamp(
  s: string,
  i: number,
  receivedMs: number,
  assumedOffset: number,
): BsdTimestampMatch | undefined {
  const first = s.charCodeAt(i);
  if (first === 42 || first === 46) i++; // * .
  const month = readMonth(s, i);
  if (month < 0 || s.charCodeAt(i + 3) !== 32) return undefined;
  let p = i + 4;
  if (s.charCodeAt(p) === 32) p++;
  let day = digits(s, p, 2);
  if (day >= 0) p += 2;
  else {
    day = digits(s, p, 1);
    if (day < 0) return undefined;
    p += 1;
  }
  if (s.charCodeAt(p) !== 32) return undefined;
  p++;
  let year = -1;
  const maybeYear = digits(s, p, 4);
  if (maybeYear >= 0 && s.charCodeAt(p + 4) === 32) {
    year = maybeYear;
    p += 5;
  }
  const clock = readClock(s, p);
  if (!clock) return undefined;
  const [h, m, sec, ms, us] = clock;
  p = clock[5];
  // A year after the time (`Oct 11 22:14:15 2003 host`, some appliances and rsyslog templates).
  if (year < 0 && s.charCodeAt(p) === 32) {
    const y = digits(s, p + 1, 4);
    const after = s.charCodeAt(p + 5);
    if (y >= 1970 && y <= 2199 && (Number.isNaN(after) || after === 32 || after === 58)) {
      year = y;
      p += 5;
    }
  }
  let offset = assumedOffset;
  // An optional zone: a name or a numeric offset, only when followed by a space, a colon or the end.
  if (s.charCodeAt(p) === 32) {
    let q = p + 1;
    const c = s.charCodeAt(q);
    if (c === 43 || c === 45) {
      const oh = digits(s, q + 1, 2);
      const colon = s.charCodeAt(q + 3) === 58;
      const om = digits(s, q + (colon ? 4 : 3), 2);
      const after = s.charCodeAt(q + (colon ? 6 : 5));
      if (oh >= 0 && om >= 0 && (Number.isNaN(after) || after === 32 || after === 58)) {
        offset = (c === 45 ? -1 : 1) * (oh * 60 + om);
        p = q + (colon ? 6 : 5);
      }
    } else {
      while ((s.charCodeAt(q) | 32) >= 97 && (s.charCodeAt(q) | 32) <= 122) q++;
      const after = s.charCodeAt(q);
      // Only a known zone name is taken, and only when followed by ':' or the end (`18:48:50.483 UTC:`), or by
      // a space for UTC/GMT: anything else is the host name or the tag (`22:14:15 sshd: ...`).
      const zone = q > p + 1 ? zoneOffsetMinutes(s.slice(p + 1, q)) : undefined;
      if (zone !== undefined && (Number.isNaN(after) || after === 58 || (after === 32 && zone === 0))) {
        offset = zone;
        p = q;
      }
    }
  }
  let t: number | undefined;
  if (year >= 0) t = civilToMs(year, month, day, h, m, sec, ms, offset);
  else t = yearlessToMs(month, day, [h, m, sec, ms], receivedMs, offset);
  if (t === undefined) return undefined;
  return { instant: { ms: t, micros: us }, end: p, inferredYear: year < 0 };
}

/**
 * A CEF date value (`rt`, `start`, `end`): milliseconds since the epoch (the CEF spec's form; 10/16/19 digits are
 * read as seconds/µs/ns), `MMM dd [yyyy] HH:mm:ss[.SSS] [zone]`, or ISO 8601. Undefined when it is none of these.
 */
export function parseCefTime(value: string, receivedMs: number, assumedOffset: number): Instant | undefined {
  const v = value.trim();
  if (v.length === 0) return undefined;
  if (/^\d{9,20}$/.test(v)) {
    const n = v.length;
    if (n <= 11) return checked({ ms: Number(v) * 1000, micros: 0 });
    if (n <= 14) return checked({ ms: Number(v), micros: 0 });
    if (n <= 17) return checked({ ms: Number(v.slice(0, n - 3)), micros: Number(v.slice(n - 3)) });
    return checked({ ms: Number(v.slice(0, n - 6)), micros: Number(v.slice(n - 6, n - 3)) });
  }
  if (isDigit(v.charCodeAt(0))) {
    const iso = readIsoTimestamp(v, 0, assumedOffset);
    return iso && iso.end === v.length ? iso.instant : undefined;
  }
  const bsd = readBsdTimestamp(v, 0, receivedMs, assumedOffset);
  if (!bsd) return undefined;
  // A zone the BSD reader does not know makes the value unreadable rather than silently off by hours.
  return bsd.end === v.length ? bsd.instant : undefined;
}

function checked(t: Instant): Instant | undefined {
  return Number.isFinite(t.ms) && t.ms >= MIN_MS && t.ms <= MAX_MS ? t : undefined;
}
