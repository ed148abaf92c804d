/**
 * Typing of scalar operators (`+`, `==`, `has`, `in`, `between`, ...) from their signature table
 * (`operators.generated.ts`, seeded from Kusto.Language): the first signature whose parameters accept the operand
 * types wins, and its return rule gives the result type. Operands of unknown type match anything so that one
 * error does not cascade.
 */
import type { ParamTypeKind, SignatureDef } from '../catalog/types.js';
import type { BinaryOp, InOp } from '../syntax/nodes.js';
import { OPERATOR_SIGNATURES } from './operators.generated.js';
import type { ScalarTypeName, Type } from './types.js';
import { isNumeric, scalar, UNKNOWN } from './types.js';

/** Kusto.Language's operator kinds for each spelled operator. */
export const BINARY_OPERATOR_KIND: Readonly<Record<BinaryOp, string>> = {
  or: 'Or',
  and: 'And',
  '==': 'Equal',
  '!=': 'NotEqual',
  '<>': 'NotEqual',
  '<': 'LessThan',
  '<=': 'LessThanOrEqual',
  '>': 'GreaterThan',
  '>=': 'GreaterThanOrEqual',
  '=~': 'EqualTilde',
  '!~': 'BangTilde',
  '+': 'Add',
  '-': 'Subtract',
  '*': 'Multiply',
  '/': 'Divide',
  '%': 'Modulo',
  has: 'Has',
  '!has': 'NotHas',
  has_cs: 'HasCs',
  '!has_cs': 'NotHasCs',
  hasprefix: 'HasPrefix',
  '!hasprefix': 'NotHasPrefix',
  hasprefix_cs: 'HasPrefixCs',
  '!hasprefix_cs': 'NotHasPrefixCs',
  hassuffix: 'HasSuffix',
  '!hassuffix': 'NotHasSuffix',
  hassuffix_cs: 'HasSuffixCs',
  '!hassuffix_cs': 'NotHasSuffixCs',
  contains: 'Contains',
  '!contains': 'NotContains',
  contains_cs: 'ContainsCs',
  '!contains_cs': 'NotContainsCs',
  startswith: 'StartsWith',
  '!startswith': 'NotStartsWith',
  startswith_cs: 'StartsWithCs',
  '!startswith_cs': 'NotStartsWithCs',
  endswith: 'EndsWith',
  '!endswith': 'NotEndsWith',
  endswith_cs: 'EndsWithCs',
  '!endswith_cs': 'NotEndsWithCs',
  'matches regex': 'MatchRegex',
  like: 'Like',
  '!like': 'NotLike',
  like_cs: 'LikeCs',
  '!like_cs': 'NotLikeCs',
};

/** Kusto.Language's kinds: `In` is the case-sensitive `in` (any scalar); `InCs` is `in~` (strings only). */
export const IN_OPERATOR_KIND: Readonly<Record<InOp, string>> = {
  in: 'In',
  '!in': 'NotIn',
  'in~': 'InCs',
  '!in~': 'NotInCs',
  has_any: 'HasAny',
  has_all: 'HasAll',
};

function scalarName(t: Type): ScalarTypeName | null {
  return t.kind === 'scalar' ? t.name : null;
}

function accepts(
  kind: ParamTypeKind,
  declared: readonly string[] | undefined,
  t: Type,
  first: Type | undefined,
): boolean {
  if (t.kind === 'unknown') return true;
  if (kind === 'Tabular') return t.kind === 'table';
  const s = scalarName(t);
  if (!s) return false;
  switch (kind) {
    case 'Any':
    case 'Scalar':
      return true;
    case 'Declared':
      return declared?.includes(s) ?? false;
    case 'Number':
      return isNumeric(s);
    case 'NumberOrBool':
      return isNumeric(s) || s === 'bool';
    case 'Summable':
      return isNumeric(s) || s === 'datetime' || s === 'timespan';
    case 'Integer':
      return s === 'int' || s === 'long';
    case 'RealOrDecimal':
      return s === 'real' || s === 'decimal';
    case 'StringOrDynamic':
      return s === 'string' || s === 'dynamic';
    case 'NotBool':
      return s !== 'bool';
    case 'NotDynamic':
      return s !== 'dynamic';
    case 'NotRealOrBool':
      return s !== 'real' && s !== 'bool';
    case 'Orderable':
      return s !== 'dynamic' && s !== 'bool';
    case 'Parameter0': {
      const f = first && scalarName(first);
      if (!f) return true;
      return f === s || (isNumeric(f) && isNumeric(s));
    }
    default:
      return true;
  }
}

const WIDTH: Readonly<Record<string, number>> = { int: 0, long: 1, real: 2, decimal: 3 };

/** The widest numeric type of the operands (int widens to long, as Kusto does for arithmetic). */
function widest(types: readonly Type[]): Type {
  let best: ScalarTypeName = 'long';
  for (const t of types) {
    const s = scalarName(t);
    if (s && (WIDTH[s] ?? -1) > (WIDTH[best] ?? -1)) best = s;
  }
  return scalar(best);
}

function matches(sig: SignatureDef, operands: readonly Type[]): boolean {
  const params = sig.params;
  const last = params[params.length - 1];
  const repeated = last !== undefined && last.maxOccurring > 1;
  if (!repeated && operands.length !== params.length) return false;
  if (repeated && operands.length < params.length) return false;
  return operands.every((t, i) => {
    const p = params[Math.min(i, params.length - 1)];
    return p !== undefined && accepts(p.typeKind, p.types, t, operands[0]);
  });
}

export interface OperatorTyping {
  readonly type: Type;
  /** False when no signature accepts the operand types (the caller reports it). */
  readonly ok: boolean;
}

/** Types an operator application; `kind` is a Kusto operator kind such as `Add` or `HasAny`. */
export function typeOperator(kind: string, operands: readonly Type[]): OperatorTyping {
  const sigs = OPERATOR_SIGNATURES[kind] ?? [];
  // Kusto still knows the type when every signature returns the same declared type (comparisons → bool).
  const declared = new Set(sigs.map((s) => (s.returnKind === 'Declared' ? s.returnType : '?')));
  const only = declared.size === 1 ? [...declared][0] : undefined;
  const fallback = only && only !== '?' ? scalar(only as ScalarTypeName) : UNKNOWN;
  // An operand of unknown type (after an error, or from an open table) makes the result unknown too.
  if (operands.some((t) => t.kind === 'unknown')) return { type: fallback, ok: true };
  const sig = sigs.find((s) => matches(s, operands));
  if (!sig) return { type: fallback, ok: false };
  switch (sig.returnKind) {
    case 'Declared':
      return { type: scalar(sig.returnType as ScalarTypeName), ok: true };
    case 'Widest':
      return { type: widest(operands), ok: true };
    case 'Parameter0':
    case 'Custom':
      return { type: operands[0] ?? UNKNOWN, ok: true };
    case 'Parameter1':
      return { type: operands[1] ?? UNKNOWN, ok: true };
    default:
      return { type: UNKNOWN, ok: true };
  }
}
