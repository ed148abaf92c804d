/**
 * KQL values as they travel: Kusto's REST value encoding. Every engine encodes its storage values into exactly
 * these forms (DuckDB does it in SQL, see duckdb/encode-sql.ts); the functions here are the reference that the
 * contract suite compares engines against, and what the JS-side encoders (CSV, text table) print.
 *
 * | KQL type  | wire value                                                     |
 * |-----------|----------------------------------------------------------------|
 * | bool      | true / false / null                                            |
 * | int, long | number / null (longs beyond 2^53 lose precision once parsed)   |
 * | real      | number / null; NaN, +inf, -inf as "NaN", "Infinity", "-Infinity" |
 * | decimal   | string (exact, e.g. "1.5") / null                              |
 * | string    | string, never null ("" for missing)                            |
 * | datetime  | "2024-01-02T03:04:05.1234560Z" (always 7 fractional digits) / null |
 * | timespan  | "[-][d.]hh:mm:ss[.fffffff]" / null                             |
 * | guid      | "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" / null                  |
 * | dynamic   | any JSON value / null                                          |
 *
 * datetime precision: storage is microseconds (DuckDB TIMESTAMP), so the 7th digit (100 ns) is always 0.
 */
import type { ScalarTypeName } from '@vigil/kql';

export type KqlDynamic = null | boolean | number | string | KqlDynamic[] | { [key: string]: KqlDynamic };
/** A KQL value in wire form (see the table above). */
export type KqlValue = KqlDynamic;

export const TICKS_PER_MICROSECOND = 10n;
export const TICKS_PER_SECOND = 10_000_000n;
export const TICKS_PER_MINUTE = 60n * TICKS_PER_SECOND;
export const TICKS_PER_HOUR = 60n * TICKS_PER_MINUTE;
export const TICKS_PER_DAY = 24n * TICKS_PER_HOUR;

const pad = (n: bigint | number, width: number): string => n.toString().padStart(width, '0');

/** `[-][d.]hh:mm:ss[.fffffff]` (.NET's constant `c` format, what Kusto returns) from 100-ns ticks. */
export function formatTimespan(ticks: bigint): string {
  const negative = ticks < 0n;
  let rest = negative ? -ticks : ticks;
  const days = rest / TICKS_PER_DAY;
  rest %= TICKS_PER_DAY;
  const hours = rest / TICKS_PER_HOUR;
  rest %= TICKS_PER_HOUR;
  const minutes = rest / TICKS_PER_MINUTE;
  rest %= TICKS_PER_MINUTE;
  const seconds = rest / TICKS_PER_SECOND;
  const fraction = rest % TICKS_PER_SECOND;
  return (
    (negative ? '-' : '') +
    (days > 0n ? `${days}.` : '') +
    `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}` +
    (fraction > 0n ? `.${pad(fraction, 7)}` : '')
  );
}

const TIMESPAN_TEXT = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/;

/**
 * Parses the `[-][d.]hh:mm:ss[.fffffff]` text (or a bare integer, taken as ticks) into ticks; null if malformed.
 * The loader's SQL implements the same grammar (duckdb/load-sql.ts); the contract suite checks they agree.
 */
export function parseTimespan(text: string): bigint | null {
  const t = text.trim();
  if (/^-?\d+$/.test(t)) return BigInt(t);
  const m = TIMESPAN_TEXT.exec(t);
  if (!m) return null;
  const [, neg, d, h, mi, s, f] = m;
  if (Number(mi) > 59 || Number(s) > 59 || Number(h) > 23) return null;
  const ticks =
    BigInt(d ?? '0') * TICKS_PER_DAY +
    BigInt(h ?? '0') * TICKS_PER_HOUR +
    BigInt(mi ?? '0') * TICKS_PER_MINUTE +
    BigInt(s ?? '0') * TICKS_PER_SECOND +
    BigInt((f ?? '').padEnd(7, '0'));
  return neg ? -ticks : ticks;
}

/** ISO 8601 with 7 fractional digits and `Z` from microseconds since the Unix epoch. */
export function formatDatetimeMicros(micros: bigint): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const us = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // 0001..9999 print as YYYY-MM-DDTHH:mm:ss.sssZ
  return `${iso.slice(0, 19)}.${pad(us, 6)}0Z`;
}

/** A real in wire form: JSON numbers, except the three values JSON cannot write. */
export function realToWire(x: number): number | string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return 'Infinity';
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity';
  return x;
}

/** The text of a wire value in CSV and text tables: JSON for dynamic, the plain value otherwise, '' for null. */
export function valueText(type: ScalarTypeName, value: KqlValue): string {
  if (value === null) return '';
  if (type === 'dynamic' && typeof value === 'object') return JSON.stringify(value);
  if (type === 'dynamic' && typeof value === 'string') return value;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
