/**
 * Scalar type facts used by call resolution: classification (integer, numeric, summable, orderable), the
 * assignability of one scalar type to another under a conversion level, common and widest types. They reproduce
 * Kusto.Language's `ScalarTypes` flags, `Symbol.AreAssignable` and `TypeFacts` for the ten KQL scalar types plus
 * `unknown` (which, as in Kusto, has every flag and is assignable both ways).
 */
import type { ScalarTypeName, Type } from '../binder/types.js';

/** A scalar type, or `unknown` (the type of an expression after an error). */
export type ScalarOrUnknown = ScalarTypeName | 'unknown';

/**
 * Kusto.Language `Conversion`, in increasing order of permissiveness: `Promotable` int → long → real → decimal and
 * dynamic → string; `Dynamic` any scalar → dynamic; `Compatible` promotion in either direction.
 */
export const Conversion = { None: 0, Promotable: 1, Dynamic: 2, Compatible: 3, Any: 4 } as const;
export type Conversion = (typeof Conversion)[keyof typeof Conversion];

/** The types each type is wider than (Kusto's `ScalarSymbol.WiderThan`). */
const WIDER_THAN: Readonly<Partial<Record<ScalarTypeName, readonly ScalarTypeName[]>>> = {
  long: ['int'],
  real: ['int', 'long'],
  decimal: ['int', 'long', 'real'],
  string: ['dynamic'],
};

export function isWiderThan(a: ScalarOrUnknown, b: ScalarOrUnknown): boolean {
  if (a === 'unknown' || b === 'unknown') return false;
  return WIDER_THAN[a]?.includes(b) ?? false;
}

/** The scalar type of a Type, `unknown` for unknown, null when the value is not a scalar (table, database, ...). */
export function scalarOf(t: Type): ScalarOrUnknown | null {
  switch (t.kind) {
    case 'scalar':
      return t.name;
    case 'unknown':
      return 'unknown';
    case 'tuple': {
      // a one-column tuple is usable as a scalar (Kusto: a single-column tuple is assignable to a scalar)
      const only = t.columns.length === 1 ? t.columns[0] : undefined;
      return only ? only.type : null;
    }
    default:
      return null;
  }
}

export function isInteger(t: ScalarOrUnknown): boolean {
  return t === 'int' || t === 'long' || t === 'unknown';
}
export function isNumeric(t: ScalarOrUnknown): boolean {
  return t === 'int' || t === 'long' || t === 'real' || t === 'decimal' || t === 'unknown';
}
export function isSummable(t: ScalarOrUnknown): boolean {
  return isNumeric(t) || t === 'datetime' || t === 'timespan';
}
export function isOrderable(t: ScalarOrUnknown): boolean {
  return t !== 'guid' && t !== 'dynamic';
}
export function isRealOrDecimal(t: ScalarOrUnknown): boolean {
  return t === 'real' || t === 'decimal';
}
export function isStringOrDynamic(t: ScalarOrUnknown): boolean {
  return t === 'string' || t === 'dynamic';
}
/** Kusto also accepts its typed dynamic arrays; Vigil's type model has a single `dynamic`. */
export function isStringOrArray(t: ScalarOrUnknown): boolean {
  return t === 'string' || t === 'dynamic';
}
export function isIntegerOrArray(t: ScalarOrUnknown): boolean {
  return t === 'int' || t === 'long' || t === 'dynamic';
}
export function isDynamic(t: ScalarOrUnknown): boolean {
  return t === 'dynamic';
}

/** `Symbol.AreAssignable(target, source, conversion)` for scalar types. */
export function assignable(target: ScalarOrUnknown, source: ScalarOrUnknown, conversion: Conversion): boolean {
  if (target === source) return true;
  if (source === 'unknown' || target === 'unknown') return true;
  if (target === 'dynamic') return conversion >= Conversion.Dynamic;
  switch (conversion) {
    case Conversion.Promotable:
      return isWiderThan(target, source);
    case Conversion.Compatible:
      return isWiderThan(target, source) || isWiderThan(source, target);
    case Conversion.Any:
      return true;
    default:
      return false;
  }
}

/** `TypeFacts.TryGetCommonType`: the type both can be converted to; undefined when there is none. */
export function commonOf(
  a: ScalarOrUnknown | null,
  b: ScalarOrUnknown,
  allowed: Conversion,
): { ok: true; type: ScalarOrUnknown } | { ok: false } {
  if (a === null || a === b) return { ok: true, type: b };
  if (a === 'unknown' || b === 'unknown') return { ok: true, type: 'unknown' };
  if (a === 'dynamic' || b === 'dynamic') return { ok: true, type: 'dynamic' };
  if (allowed >= Conversion.Promotable && isWiderThan(b, a)) return { ok: true, type: b };
  if (allowed >= Conversion.Promotable && isWiderThan(a, b)) return { ok: true, type: a };
  if (allowed >= Conversion.Dynamic) return { ok: true, type: 'dynamic' };
  return { ok: false };
}

/** `TypeFacts.GetCommonResultType`: the common type of a list (null when empty or incompatible). */
export function commonTypeOf(
  types: readonly ScalarOrUnknown[],
  allowed = Conversion.Promotable,
): ScalarOrUnknown | null {
  let common: ScalarOrUnknown | null = null;
  for (const t of types) {
    const r = commonOf(common, t, allowed);
    if (!r.ok) return null;
    common = r.type;
  }
  return common;
}

/** `TypeFacts.GetWidestScalarType`: the widest numeric type of the list (null when none is numeric). */
export function widestNumeric(types: readonly (ScalarOrUnknown | null)[]): ScalarOrUnknown | null {
  let widest: ScalarOrUnknown | null = null;
  for (const t of types) {
    if (t === null || !isNumeric(t) || t === widest) continue;
    if (widest === null || isWiderThan(t, widest)) widest = t;
  }
  return widest;
}

/** int → long, the promotion Kusto applies to sums, bins and the like. */
export function promoteToLong(t: ScalarOrUnknown): ScalarOrUnknown {
  return t === 'int' ? 'long' : t;
}
