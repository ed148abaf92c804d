/**
 * Constant folding: scalar sub-expressions whose arguments are all literals are replaced by their value, so that
 * `ago(1h)`, `now() - 2d`, `datetime(...) + 1h`, `bin(datetime(...), 1h)` and `strcat("a", "b")` reach the SQL
 * generator (and the time-filter pass) as literals. Only deterministic built-ins with exactly known semantics
 * fold; anything doubtful (overflow, out-of-range datetimes, nulls, real-valued bins) is left to the engine.
 * Boolean `and`/`or` with a literal side simplify too (`x and true` → `x`), and a filter on `true` disappears.
 */
import type { ColumnType } from '../../binder/types.js';
import type { Rel, ScalarExpr } from '../nodes.js';
import { mapInputs, mapNestedRels, mapScalarsOf, rewriteScalar } from './walk.js';

type Lit = ScalarExpr & { kind: 'lit' };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Kusto's datetime range, 0001-01-01 .. 9999-12-31 23:59:59.9999999, in ticks since 1970. */
const DATETIME_MIN = -621355968000000000n;
const DATETIME_MAX = 253402300799999999n;
const TICKS_PER_DAY = 864000000000n;

export function foldConstants(rel: Rel): Rel {
  const folded = mapScalarsOf(mapInputs(rel, foldConstants), (e) => foldScalar(mapNestedRels(e, foldConstants)));
  if (folded.kind === 'filter') {
    const p = folded.predicate;
    if (p.kind === 'lit' && p.type === 'bool' && p.value === true) return folded.input;
  }
  return folded;
}

export function foldScalar(e: ScalarExpr): ScalarExpr {
  return rewriteScalar(e, (x) => {
    if (x.kind === 'op') return foldOp(x) ?? x;
    if (x.kind === 'call') return foldCall(x) ?? x;
    return x;
  });
}

function isLit(e: ScalarExpr | undefined): e is Lit {
  return e?.kind === 'lit';
}

/** The integer value of a long/int/datetime/timespan literal (ticks for the time types). */
function integer(e: Lit): bigint | null {
  if (e.type !== 'long' && e.type !== 'int' && e.type !== 'datetime' && e.type !== 'timespan') return null;
  const v = e.value;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return null;
}

function real(e: Lit): number | null {
  if (e.type !== 'real' && e.type !== 'long' && e.type !== 'int') return null;
  const v = e.value;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) return null;
  // A long beyond 2^53 is not exactly a double: leave such arithmetic to the engine.
  if (e.type !== 'real' && !Number.isSafeInteger(n)) return null;
  return n;
}

/** An integer-valued literal of `type`, or null when out of the type's range. */
function intLit(type: ColumnType, v: bigint): Lit | null {
  if (type === 'long' || type === 'timespan') {
    if (v < INT64_MIN || v > INT64_MAX) return null;
    return { kind: 'lit', type, value: v.toString() };
  }
  if (type === 'datetime') {
    if (v < DATETIME_MIN || v > DATETIME_MAX) return null;
    return { kind: 'lit', type, value: v.toString() };
  }
  return null;
}

function realLit(v: number): Lit | null {
  return Number.isFinite(v) ? { kind: 'lit', type: 'real', value: v } : null;
}

function boolLit(v: boolean): Lit {
  return { kind: 'lit', type: 'bool', value: v };
}

const TIME_OR_LONG = new Set<ColumnType>(['long', 'int', 'datetime', 'timespan']);

function arithmetic(op: string, a: Lit, b: Lit, type: ColumnType): Lit | null {
  if (type === 'real') {
    const x = real(a);
    const y = real(b);
    if (x === null || y === null) return null;
    if (op === 'Add') return realLit(x + y);
    if (op === 'Subtract') return realLit(x - y);
    if (op === 'Multiply') return realLit(x * y);
    return null;
  }
  // int results wrap at 32 bits in Kusto; only long, timespan and datetime results fold.
  if (type !== 'long' && type !== 'timespan' && type !== 'datetime') return null;
  if (!TIME_OR_LONG.has(a.type) || !TIME_OR_LONG.has(b.type)) return null;
  const x = integer(a);
  const y = integer(b);
  if (x === null || y === null) return null;
  if (op === 'Add') return intLit(type, x + y);
  if (op === 'Subtract') return intLit(type, x - y);
  // timespan × number rounds through a double in the engine; fold only the exact integer products.
  if (op === 'Multiply' && type === 'long') return intLit(type, x * y);
  if (op === 'Multiply' && type === 'timespan' && (a.type !== 'timespan' || b.type !== 'timespan')) {
    return intLit(type, x * y);
  }
  return null;
}

function compare(op: string, a: Lit, b: Lit): Lit | null {
  let c: number;
  if (a.type === 'string' && b.type === 'string' && typeof a.value === 'string' && typeof b.value === 'string') {
    // Only (in)equality: ordering of strings is the engine's collation.
    if (op !== 'Equal' && op !== 'NotEqual') return null;
    c = a.value === b.value ? 0 : 1;
  } else if (a.type === b.type && TIME_OR_LONG.has(a.type)) {
    const x = integer(a);
    const y = integer(b);
    if (x === null || y === null) return null;
    c = x < y ? -1 : x > y ? 1 : 0;
  } else if (a.type === 'bool' && b.type === 'bool' && typeof a.value === 'boolean' && typeof b.value === 'boolean') {
    if (op !== 'Equal' && op !== 'NotEqual') return null;
    c = a.value === b.value ? 0 : 1;
  } else return null;
  switch (op) {
    case 'Equal':
      return boolLit(c === 0);
    case 'NotEqual':
      return boolLit(c !== 0);
    case 'LessThan':
      return boolLit(c < 0);
    case 'LessThanOrEqual':
      return boolLit(c <= 0);
    case 'GreaterThan':
      return boolLit(c > 0);
    case 'GreaterThanOrEqual':
      return boolLit(c >= 0);
    default:
      return null;
  }
}

function boolValue(e: ScalarExpr | undefined): boolean | null {
  return e?.kind === 'lit' && e.type === 'bool' && typeof e.value === 'boolean' ? e.value : null;
}

function foldOp(e: ScalarExpr & { kind: 'op' }): ScalarExpr | null {
  const [a, b] = e.args;
  if (e.op === 'And' || e.op === 'Or') {
    // The identity side disappears; the absorbing side wins (null and false = false, null or true = true).
    const identity = e.op === 'And';
    const x = boolValue(a);
    const y = boolValue(b);
    if (x === !identity || y === !identity) return boolLit(!identity);
    if (x === identity && b?.type === 'bool') return b;
    if (y === identity && a?.type === 'bool') return a;
    return null;
  }
  if (e.args.some((x) => !isLit(x) || x.value === null)) return null;
  if (e.op === 'UnaryMinus' && isLit(a)) {
    if (a.type === 'real') {
      const x = real(a);
      return x === null ? null : realLit(-x);
    }
    const x = integer(a);
    return x === null ? null : intLit(e.type, -x);
  }
  if (!isLit(a) || !isLit(b) || e.args.length !== 2) return null;
  switch (e.op) {
    case 'Add':
    case 'Subtract':
    case 'Multiply':
      return arithmetic(e.op, a, b, e.type);
    case 'Equal':
    case 'NotEqual':
    case 'LessThan':
    case 'LessThanOrEqual':
    case 'GreaterThan':
    case 'GreaterThanOrEqual':
      return compare(e.op, a, b);
    default:
      return null;
  }
}

/** Floor division (rounds towards −∞, as `bin` does). */
function floorDiv(x: bigint, y: bigint): bigint {
  const q = x / y;
  return x % y !== 0n && x < 0n !== y < 0n ? q - 1n : q;
}

function foldCall(e: ScalarExpr & { kind: 'call' }): ScalarExpr | null {
  const args = e.args;
  if (!args.every(isLit)) return null;
  const lits = args as readonly Lit[];
  switch (e.fn) {
    case 'strcat': {
      if (e.type !== 'string' || lits.length === 0) return null;
      if (!lits.every((l) => l.type === 'string' && typeof l.value === 'string')) return null;
      return { kind: 'lit', type: 'string', value: lits.map((l) => l.value as string).join('') };
    }
    case 'bin':
    case 'floor': {
      const [v, size] = lits;
      if (!v || !size || lits.length !== 2 || v.value === null || size.value === null) return null;
      if (v.type !== e.type) return null;
      const x = integer(v);
      const s = integer(size);
      if (x === null || s === null || s <= 0n) return null;
      if (v.type === 'datetime') {
        // Bins that divide a day are the same from any midnight epoch (1970 or 0001); others are left to the
        // engine, which owns the choice of epoch.
        if (size.type !== 'timespan' || TICKS_PER_DAY % s !== 0n) return null;
        return intLit('datetime', floorDiv(x, s) * s);
      }
      if (v.type === 'timespan' && size.type === 'timespan') return intLit('timespan', floorDiv(x, s) * s);
      if (v.type === 'long' && size.type === 'long') return intLit('long', floorDiv(x, s) * s);
      return null;
    }
    // Conversions of a value that already has the target type are the value itself.
    case 'totimespan':
    case 'todatetime':
    case 'tostring':
    case 'tolong': {
      const [v] = lits;
      const target = { totimespan: 'timespan', todatetime: 'datetime', tostring: 'string', tolong: 'long' }[e.fn];
      if (!v || lits.length !== 1 || v.type !== target || e.type !== target) return null;
      if (v.value === null && v.type === 'string') return null;
      return v;
    }
    case 'not': {
      const x = boolValue(lits[0]);
      return x === null || lits.length !== 1 ? null : boolLit(!x);
    }
    default:
      return null;
  }
}
