/**
 * Association of call arguments with signature parameters (Kusto.Language `ParameterLayouts`). The result has one
 * entry per argument: the parameter it binds to, `UNKNOWN_PARAMETER` for an argument beyond the signature, or null
 * for a named argument whose name matches no parameter.
 */
import type { ArgInfo } from './resolve.js';
import type { ParamDef, SignatureDef } from './types.js';

/**
 * Kusto's `Signature.UnknownParameter`: a parameter declared with the `unknown` type, which every scalar argument
 * matches exactly. Extra arguments are associated with it (the argument count is reported instead).
 */
export const UNKNOWN_PARAMETER: ParamDef = {
  name: '',
  typeKind: 'Declared',
  types: [],
  argumentKind: 'Expression',
  minOccurring: 1,
  maxOccurring: 1,
};

export type ArgumentParameters = (ParamDef | null)[];

/** Matches an argument against a parameter during repeating layouts; returns a ParameterMatchKind rank. */
export type MatchFn = (
  sig: SignatureDef,
  argParams: ArgumentParameters,
  args: readonly ArgInfo[],
  param: ParamDef | null,
  arg: ArgInfo,
) => number;

export function minArgumentCount(sig: SignatureDef): number {
  let n = 0;
  for (const p of sig.params) n += p.minOccurring;
  return n;
}

export function maxArgumentCount(sig: SignatureDef): number {
  let n = 0;
  for (const p of sig.params) n += p.maxOccurring;
  return n;
}

export function isRepeatable(p: ParamDef): boolean {
  return p.maxOccurring > 1;
}

export function hasRepeatableParameters(sig: SignatureDef): boolean {
  return sig.params.some(isRepeatable);
}

export function layoutOf(sig: SignatureDef): NonNullable<SignatureDef['layout']> {
  return sig.layout ?? (hasRepeatableParameters(sig) ? 'Repeating' : 'Fixed');
}

export function isValidArgumentCount(sig: SignatureDef, count: number): boolean {
  if (count < minArgumentCount(sig) || count > maxArgumentCount(sig)) return false;
  if (layoutOf(sig) === 'BlockRepeating' && hasRepeatableParameters(sig)) {
    const first = sig.params.findIndex(isRepeatable);
    const last = lastIndex(sig.params, isRepeatable);
    const variable = last - first + 1;
    const fixed = sig.params.length - variable;
    // the repeating block must occur a whole number of times
    return (count - fixed) % variable === 0;
  }
  return true;
}

function lastIndex<T>(list: readonly T[], pred: (t: T) => boolean): number {
  for (let i = list.length - 1; i >= 0; i--) if (pred(list[i] as T)) return i;
  return -1;
}

function parameterByName(sig: SignatureDef, name: string): ParamDef | null {
  return sig.params.find((p) => p.name === name) ?? null;
}

export function getArgumentParameters(
  fnName: string,
  sig: SignatureDef,
  args: readonly ArgInfo[],
  allowsNamedArguments: boolean,
  match: MatchFn,
): ArgumentParameters {
  switch (layoutOf(sig)) {
    case 'Fixed':
      return fixedLayout(sig, args, allowsNamedArguments);
    case 'Repeating':
      return repeatingLayout(sig, args, false, match);
    case 'RepeatingSkipping':
      return repeatingLayout(sig, args, true, match);
    case 'BlockRepeating':
      return hasRepeatableParameters(sig)
        ? blockRepeatingLayout(sig, args.length)
        : fixedLayout(sig, args, allowsNamedArguments);
    case 'Custom': {
      const out = customLayout(fnName, sig, args);
      while (out.length < args.length) out.push(UNKNOWN_PARAMETER);
      return out;
    }
  }
}

function fixedLayout(sig: SignatureDef, args: readonly ArgInfo[], allowsNamedArguments: boolean): ArgumentParameters {
  return args.map((a, i) => {
    if (allowsNamedArguments && a.name !== undefined) return parameterByName(sig, a.name);
    return sig.params[i] ?? UNKNOWN_PARAMETER;
  });
}

/** A parameter may repeat; the next argument moves on to the next parameter when that one matches it better. */
function repeatingLayout(
  sig: SignatureDef,
  args: readonly ArgInfo[],
  allowSkipping: boolean,
  match: MatchFn,
): ArgumentParameters {
  const out: ArgumentParameters = [];
  const max = maxArgumentCount(sig);
  const params = sig.params;
  let iParam = 0;
  let count = 0;
  for (let iArg = 0; iArg < args.length; iArg++) {
    const arg = args[iArg] as ArgInfo;
    if (iArg >= max) {
      out.push(UNKNOWN_PARAMETER);
      continue;
    }
    let current = params[iParam] as ParamDef;
    if (iParam < params.length - 1 && count >= current.maxOccurring) {
      iParam++;
      count = 0;
      current = params[iParam] as ParamDef;
    }
    if (count < current.minOccurring || (count === 0 && current.minOccurring === 0 && !allowSkipping)) {
      out.push(current);
      count++;
    } else if (iParam === params.length - 1) {
      if (count < current.maxOccurring) {
        out.push(current);
        count++;
      } else {
        out.push(UNKNOWN_PARAMETER);
      }
    } else {
      const currentMatch = match(sig, out, args, current, arg);
      let iNext = iParam + 1;
      while (iNext < params.length) {
        const next = params[iNext] as ParamDef;
        const nextMatch = match(sig, out, args, next, arg);
        if (currentMatch >= nextMatch && currentMatch !== 0) {
          out.push(current);
          count++;
          break;
        } else if (nextMatch !== 0) {
          out.push(next);
          iParam = iNext;
          count = 1;
          break;
        } else if (next.minOccurring === 0 && allowSkipping && iNext < params.length - 1) {
          iNext++;
        } else {
          out.push(current);
          count++;
          break;
        }
      }
    }
  }
  return out;
}

/** A block of parameters repeats together (`case(p1, v1, p2, v2, else)`, `bag_pack(k1, v1, k2, v2)`). */
function blockRepeatingLayout(sig: SignatureDef, nArgs: number): ArgumentParameters {
  const params = sig.params;
  const first = params.findIndex(isRepeatable);
  const last = lastIndex(params, isRepeatable);
  const block = last - first + 1;
  const firstParam = params[first] as ParamDef;
  const minArgs = block * firstParam.minOccurring;
  const maxArgs = block * firstParam.maxOccurring;
  const after = params.length - last - 1;
  const possible = nArgs - first - after;
  const expected = Math.min(maxArgs, Math.max(minArgs, possible));
  const groups = Math.floor((expected + block - 1) / block);
  const lastRepeatingArg = first + groups * block - 1;
  const out: ArgumentParameters = [];
  for (let i = 0; i < nArgs; i++) {
    if (i < first) out.push(params[i] as ParamDef);
    else if (i <= lastRepeatingArg) out.push(params[first + ((i - first) % block)] as ParamDef);
    else out.push(params[last + (i - lastRepeatingArg)] ?? UNKNOWN_PARAMETER);
  }
  return out;
}

const isBoolean = (a: ArgInfo): boolean =>
  (a.type.kind === 'scalar' && a.type.name === 'bool') || (a.isLiteral && typeof a.constantValue === 'boolean');

function param(sig: SignatureDef, name: string): ParamDef {
  return parameterByName(sig, name) ?? UNKNOWN_PARAMETER;
}

/** The per-function layouts Kusto.Language builds with `WithLayout(...)`. */
function customLayout(fnName: string, sig: SignatureDef, args: readonly ArgInfo[]): ArgumentParameters {
  const out: ArgumentParameters = [];
  const n = args.length;
  switch (fnName) {
    case 'array_sort_asc':
    case 'array_sort_desc':
      // every argument is an array except a trailing boolean (nulls_last)
      for (let i = 0; i < n; i++) {
        out.push(i < n - 1 || !isBoolean(args[i] as ArgInfo) ? param(sig, 'arrays') : param(sig, 'nulls_last'));
      }
      return out;
    case 'geo_polygon_lookup':
    case 'geo_line_lookup': {
      const line = fnName === 'geo_line_lookup';
      const fixed = line
        ? ['LookupTable', 'LookupLineKey', 'SourceLongitude', 'SourceLatitude', 'radius']
        : ['LookupTable', 'LookupPolygonKey', 'SourceLongitude', 'SourceLatitude'];
      for (const p of fixed) out.push(param(sig, p));
      const positional = line
        ? ['return_unmatched', 'lookup_area_radius', 'return_lookup_key']
        : ['radius', 'return_unmatched', 'lookup_area_radius', 'return_lookup_key'];
      // as in Kusto, an argument matching no optional parameter adds nothing (later ones shift left)
      for (let i = fixed.length; i < n; i++) {
        const a = args[i] as ArgInfo;
        const p =
          a.name !== undefined ? positional.find((q) => q === a.name?.toLowerCase()) : positional[i - fixed.length];
        if (p) out.push(param(sig, p));
      }
      return out;
    }
    case 'ipv4_lookup':
      out.push(param(sig, 'LookupTable'), param(sig, 'SourceIPv4Key'), param(sig, 'IPv4LookupKey'));
      for (let i = 3; i < n; i++) {
        const a = args[i] as ArgInfo;
        const returnUnmatched =
          i === n - 1 && (a.name === 'return_unmatched' || (a.isLiteral && typeof a.constantValue === 'boolean'));
        out.push(param(sig, returnUnmatched ? 'return_unmatched' : 'ExtraKey'));
      }
      return out;
    case 'ipv6_lookup':
      out.push(
        param(sig, 'LookupTable'),
        param(sig, 'SourceIPv6Key'),
        param(sig, 'IPv6LookupKey'),
        param(sig, 'return_unmatched'),
      );
      return out;
    case 'new_activity_metrics': {
      for (const p of ['IdColumn', 'TimelineColumn', 'Start', 'End', 'Window']) out.push(param(sig, p));
      const sixth = args[5];
      // a constant (or anything but a column) in sixth position is the optional cohort
      if (sixth && (sixth.isConstant || !sixth.isColumn)) out.push(param(sig, 'Cohort'));
      let i = out.length;
      for (; i < n && (args[i] as ArgInfo).type.kind !== 'table'; i++) out.push(param(sig, 'Dimension'));
      if (i < n) out.push(param(sig, 'lookback'));
      return out;
    }
    case 'sequence_detect': {
      for (const p of ['TimelineColumn', 'MaxSeqeunceStepWindow', 'MaxSequenceSpan', 'Expr']) out.push(param(sig, p));
      let i = out.length;
      for (; i < n && isBoolean(args[i] as ArgInfo); i++) out.push(param(sig, 'Expr'));
      for (; i < n; i++) out.push(param(sig, 'Dimension'));
      return out;
    }
    default:
      // a custom layout this catalog does not know: associate positionally
      return args.map((_, i) => sig.params[i] ?? UNKNOWN_PARAMETER);
  }
}
