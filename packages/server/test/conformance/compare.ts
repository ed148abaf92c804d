/**
 * Comparing Vigil's results with documented and recorded Kusto results, under the rules of
 * `fixtures/shared/conformance/README.md`: documented cells are display text, coerced by the column's KQL type
 * (numbers with tolerance, datetimes as instants, timespans as durations, dynamic values as normalised JSON); rows
 * are a multiset unless the query sorts.
 */
import type { KqlValue } from '../../src/engine/values.js';

// ───────────────────────────── parsing display text ─────────────────────────────

const TICKS_PER_SECOND = 10_000_000n;

/** Ticks since 1970 of a datetime written in one of the forms the docs and the recorder use; null if unparsable. */
export function parseDatetimeTicks(text: string): bigint | null {
  const t = text.trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*Z?$/.exec(t);
  if (m) return ticksOf(m[1], m[2], m[3], m[4], m[5], m[6], m[7]);
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(AM|PM)?)?$/.exec(t);
  if (m) {
    let hour = Number(m[4] ?? 0);
    if (m[8] === 'PM' && hour < 12) hour += 12;
    if (m[8] === 'AM' && hour === 12) hour = 0;
    return ticksOf(m[3], m[1], m[2], String(hour), m[5], m[6], m[7]);
  }
  return null;
}

function ticksOf(
  y?: string,
  mo?: string,
  d?: string,
  h?: string,
  mi?: string,
  s?: string,
  frac?: string,
): bigint | null {
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0));
  if (Number.isNaN(ms)) return null;
  const f = BigInt((frac ?? '').padEnd(7, '0').slice(0, 7) || '0');
  return BigInt(ms) * 10000n + f;
}

/** Ticks of a timespan: `[-][d.]hh:mm:ss[.fffffff]`, `d:hh:mm:ss`, or `hh:mm`. */
export function parseTimespanTicks(text: string): bigint | null {
  const t = text.trim();
  let m = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/.exec(t);
  if (!m) {
    const alt = /^(-)?(\d+):(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(t);
    if (alt) m = alt;
    else return null;
  }
  const days = BigInt(m[2] ?? '0');
  const secs = days * 86400n + BigInt(m[3] ?? '0') * 3600n + BigInt(m[4] ?? '0') * 60n + BigInt(m[5] ?? '0');
  const frac = BigInt((m[6] ?? '').padEnd(7, '0').slice(0, 7) || '0');
  const ticks = secs * TICKS_PER_SECOND + frac;
  return m[1] ? -ticks : ticks;
}

/** Parses JSON leniently: the docs sometimes use single quotes. */
export function parseLenientJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    try {
      return { ok: true, value: JSON.parse(text.replace(/'/g, '"')) };
    } catch {
      return { ok: false };
    }
  }
}

// ───────────────────────────── equality ─────────────────────────────

/** Numbers equal within 1e-9 relative, or to the decimal places shown in the expected text. */
export function numbersEqual(expected: number, actual: number, expectedText?: string): boolean {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return Number.isNaN(expected) && Number.isNaN(actual);
  if (expected === actual) return true;
  const scale = Math.max(Math.abs(expected), Math.abs(actual));
  if (Math.abs(expected - actual) <= 1e-9 * scale) return true;
  if (expectedText !== undefined) {
    const dot = expectedText.indexOf('.');
    const places = dot >= 0 ? expectedText.length - dot - 1 : 0;
    if (!/e/i.test(expectedText) && places <= 15) {
      if (Math.abs(actual - expected) <= 0.5 * 10 ** -places * 1.000001) return true;
    }
  }
  return false;
}

/** Deep equality of JSON-like values with numeric tolerance. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return numbersEqual(a, b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    if (typeof a === 'number' && typeof b === 'string') return numbersEqual(a, Number(b));
    if (typeof b === 'number' && typeof a === 'string') return numbersEqual(Number(a), b);
    return a === b;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Does a displayed cell (documentation text) show Vigil's wire value for a column of this KQL type? */
export function cellMatches(expectedText: string, actual: KqlValue, type: string): boolean {
  const e = expectedText.trim();
  if (e === '') {
    return actual === null || actual === '' || (Array.isArray(actual) && actual.length === 0);
  }
  if (actual === null) return e.toLowerCase() === 'null';
  switch (type) {
    case 'int':
    case 'long':
    case 'real':
    case 'decimal': {
      // The docs print infinities as ∞ / -∞.
      const n = Number(e.replace(/,/g, '').replace(/^(-?)∞$/, '$1Infinity'));
      const a = typeof actual === 'number' ? actual : Number(actual);
      if (Number.isNaN(n)) {
        const norm = e.toLowerCase();
        if (norm === 'nan') return Number.isNaN(a) || actual === 'NaN';
        if (norm.includes('inf'))
          return (
            String(actual).toLowerCase().includes('inf') && norm.startsWith('-') === String(actual).startsWith('-')
          );
        return false;
      }
      return numbersEqual(n, a, e);
    }
    case 'bool': {
      // The docs print booleans as true/false, True/False or 1/0.
      const shown = e.toLowerCase() === '1' ? 'true' : e.toLowerCase() === '0' ? 'false' : e.toLowerCase();
      return shown === String(actual).toLowerCase();
    }
    case 'datetime': {
      const x = parseDatetimeTicks(e);
      const y = typeof actual === 'string' ? parseDatetimeTicks(actual) : null;
      // Vigil stores microseconds: compare at that precision.
      return x !== null && y !== null && x / 10n === y / 10n;
    }
    case 'timespan': {
      const x = parseTimespanTicks(e);
      const y = typeof actual === 'string' ? parseTimespanTicks(actual) : null;
      return x !== null && y !== null && x / 10n === y / 10n;
    }
    case 'guid':
      return e.toLowerCase() === String(actual).toLowerCase();
    case 'dynamic': {
      const parsed = parseLenientJson(e);
      if (parsed.ok && jsonEqual(parsed.value, actual)) return true;
      if (typeof actual === 'string') return actual === e;
      if (typeof actual === 'number') return numbersEqual(Number(e), actual, e);
      if (typeof actual === 'boolean') return e.toLowerCase() === String(actual);
      return JSON.stringify(actual) === e;
    }
    default:
      // Markdown table cells cannot show leading or trailing spaces: compare the text without them.
      return String(actual) === expectedText || String(actual).trim() === e;
  }
}

/**
 * Matches expected rows to actual rows: in order when `ordered`, else as a multiset (each expected row consumes one
 * equal actual row). Returns a reason when they differ.
 */
export function rowsMatch(
  expected: readonly (readonly string[])[],
  actual: readonly (readonly KqlValue[])[],
  types: readonly string[],
  ordered: boolean,
): string | null {
  if (expected.length !== actual.length) return `expected ${expected.length} rows, got ${actual.length}`;
  const rowEq = (e: readonly string[], a: readonly KqlValue[]) =>
    e.length === a.length && e.every((cell, i) => cellMatches(cell, a[i] ?? null, types[i] ?? 'string'));
  if (ordered) {
    for (let i = 0; i < expected.length; i++) {
      if (!rowEq(expected[i] as string[], actual[i] as KqlValue[])) {
        return `row ${i}: expected ${JSON.stringify(expected[i])}, got ${JSON.stringify(actual[i])}`;
      }
    }
    return null;
  }
  const used = new Set<number>();
  for (const e of expected) {
    const j = actual.findIndex((a, k) => !used.has(k) && rowEq(e, a));
    if (j < 0) {
      const sample = actual.filter((_, k) => !used.has(k)).slice(0, 2);
      return `no row matches ${JSON.stringify(e)}; unmatched: ${JSON.stringify(sample)}`;
    }
    used.add(j);
  }
  return null;
}

// ───────────────────────────── the recorder's format (kusto-truth) ─────────────────────────────

/** Renders a wire value as the recorder printed it: strings in single quotes, JSON pretty-printed, ... */
export function recorderText(value: KqlValue, type: string): string {
  if (value === null) return 'null';
  switch (type) {
    case 'String':
      return `'${String(value)}'`;
    case 'Bool':
      return value ? 'True' : 'False';
    case 'Dynamic':
      return JSON.stringify(value, null, 2);
    case 'Guid':
      return String(value);
    default:
      return String(value);
  }
}

/** Recorder rows are `(a, b, c)`: compare by rendering ours, then by number-tolerant tokens. */
export function recorderRowEqual(expected: string, actualCells: readonly string[]): boolean {
  const actual = `(${actualCells.join(', ')})`;
  if (expected === actual) return true;
  const numberRe = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
  const skeleton = (s: string) => s.replace(numberRe, '#').replace(/\s+/g, '');
  if (skeleton(expected) !== skeleton(actual)) return false;
  const en = expected.match(numberRe) ?? [];
  const an = actual.match(numberRe) ?? [];
  if (en.length !== an.length) return false;
  return en.every((x, i) => {
    const a = Number(an[i]);
    const e = Number(x);
    if (numbersEqual(e, a, x)) return true;
    // The recorder rounds reals to 10 significant digits.
    return Math.abs(e - a) <= 1e-9 * Math.max(1, Math.abs(e));
  });
}

/** The recorder's type classes. */
export function recorderType(kqlType: string): string {
  switch (kqlType) {
    case 'int':
    case 'long':
      return 'Int';
    case 'real':
      return 'Real';
    // The recorder's client read decimals as reals.
    case 'decimal':
      return 'Real';
    case 'string':
      return 'String';
    case 'datetime':
      return 'DateTime';
    case 'timespan':
      return 'TimeSpan';
    case 'dynamic':
      return 'Dynamic';
    case 'bool':
      return 'Bool';
    case 'guid':
      return 'Guid';
    default:
      return kqlType;
  }
}
