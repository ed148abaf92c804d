/**
 * Call resolution against the catalog: which overload a call binds to, whether its arguments are acceptable, its
 * return type and its default result column name. The rules reproduce Kusto.Language's binder
 * (`GetBestMatchingSignatures`, `CheckSignature`, `CheckArgument`, `GetFunctionCallResult`,
 * `GetFunctionResultName`) so that Vigil accepts and rejects the calls Kusto does and types them alike.
 *
 * The resolver is pure: the binder describes each argument with an `ArgInfo` (type, literal/constant/column facts,
 * spans) and gets back the chosen signature, the return type, diagnostics and the parameter of each argument.
 */
import type { Column, Type } from '../binder/types.js';
import { typeToString } from '../binder/types.js';
import type { CodeInfo } from '../diagnostics/codes.js';
import { Codes } from '../diagnostics/codes.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { CustomReturnContext } from './custom-returns.js';
import {
  argResultName,
  CUSTOM_DYNAMIC_SHAPES,
  CUSTOM_RETURNS,
  parseSchema,
  scalarType,
  typeOfScalar,
} from './custom-returns.js';
import { AGGREGATES } from './generated/aggregates.generated.js';
import { FUNCTIONS } from './generated/functions.generated.js';
import { PLUGINS } from './generated/plugins.generated.js';
import type { ArgumentParameters } from './layouts.js';
import {
  getArgumentParameters,
  hasRepeatableParameters,
  isValidArgumentCount,
  maxArgumentCount,
  minArgumentCount,
  UNKNOWN_PARAMETER,
} from './layouts.js';
import type { ScalarOrUnknown } from './type-facts.js';
import {
  assignable,
  Conversion,
  commonOf,
  isDynamic,
  isInteger,
  isIntegerOrArray,
  isNumeric,
  isOrderable,
  isRealOrDecimal,
  isStringOrArray,
  isStringOrDynamic,
  isSummable,
  promoteToLong,
  scalarOf,
  widestNumeric,
} from './type-facts.js';
import type { DynamicShape, FunctionDef, ParamDef, SignatureDef } from './types.js';

export interface ArgInfo {
  /** Bound type of the argument ({kind:'unknown'} after an earlier error: it then raises no further diagnostic). */
  readonly type: Type;
  /** A literal token (incl. a negated number literal, a `dynamic(...)` or `typeof(...)` literal). */
  readonly isLiteral: boolean;
  /** Literal or constant expression (folded let-bound scalar, etc.). */
  readonly isConstant: boolean;
  /** The value when known (string, bigint, number, boolean, ...). */
  readonly constantValue?: unknown;
  /** A plain column reference. */
  readonly isColumn: boolean;
  /** Its name when isColumn (also used for result naming). */
  readonly columnName?: string;
  /** `*` */
  readonly isStar: boolean;
  /** The argument itself is an aggregate call. */
  readonly isAggregate: boolean;
  /** Named argument `name = value`. */
  readonly name?: string;
  /** Span of the argument's value expression, where argument diagnostics are reported. */
  readonly start: number;
  readonly length: number;
  /** Span of the name of a named argument (for "unknown argument name"); defaults to the argument's span. */
  readonly nameStart?: number;
  readonly nameLength?: number;
  /**
   * The column name the value expression would get in a projection (Kusto's `GetExpressionResultName(expr, null)`):
   * the column name, `a_b` for `a.b` on a dynamic, a nested call's default name. Undefined when it has none;
   * `columnName` is used when this is absent.
   */
  readonly resultName?: string;
  /**
   * The row column the value denotes unchanged (Kusto's `GetResultColumn`: a column reference, parenthesized, or a
   * no-op conversion such as `tolong(aLongColumn)`); `columnName` is used when this is absent.
   */
  readonly resultColumnName?: string;
  /** For a `typeof(...)` literal: the type it denotes (a scalar, or a table for `typeof(a:long, b:string)`). */
  readonly typeOf?: Type;
  /** For an argument that is itself a call (pivot's aggregate), the column its first argument references. */
  readonly innerColumnName?: string;
  /**
   * For a dynamic value, its shape when known: `dynamic([..])` / `pack_array()` are arrays, `dynamic({..})` /
   * `bag_pack()` bags, `dynamic(1)` a value (a call's shape is `CallResolution.dynamicShape`).
   */
  readonly dynamicShape?: DynamicShape;
}

export interface CallContext {
  /** Columns of the row scope the call sees (input of summarize/extend; for plugins, the piped input). */
  readonly rowColumns: readonly Column[] | null;
  /**
   * Columns referenced by the enclosing summarize's `by` clause: `arg_max(x, *)` and `take_any(*)` do not repeat
   * them. Names of the by-clause expressions that denote a row column unchanged.
   */
  readonly byColumns?: readonly string[];
  /** Resolves `table('name')` (and `view`s); when absent the result is an open table. */
  readonly resolveTable?: (name: string) => Type | undefined;
}

export interface CallResolution {
  /** null when no single signature matched. */
  readonly signature: SignatureDef | null;
  /** {kind:'unknown'} when unresolvable. */
  readonly returnType: Type;
  readonly diagnostics: readonly Diagnostic[];
  /** The parameter each argument binds to (null for an argument beyond the signature or without a signature). */
  readonly paramForArg: readonly (ParamDef | null)[];
  /** For a dynamic result, its shape when Kusto knows it (feed it back as `ArgInfo.dynamicShape`). */
  readonly dynamicShape?: DynamicShape;
  /**
   * The call is a constant expression in Kusto's sense (a constant-foldable function with constant arguments): it
   * may be passed where a constant is required, e.g. `round(x, strlen("ab"))`, `ago(1d)`. Whether it may be folded at
   * compile time is a different question: not when `FunctionDef.deterministic` is false (`now()`, `ago()`).
   */
  readonly isConstant: boolean;
}

export interface Span {
  readonly start: number;
  readonly length: number;
}

// ─────────────────────────────── catalog lookup ───────────────────────────────

const byName = (list: readonly FunctionDef[]): ReadonlyMap<string, FunctionDef> =>
  new Map(list.map((f) => [f.name, f]));
const FUNCTION_MAP = byName(FUNCTIONS);
const AGGREGATE_MAP = byName(AGGREGATES);
const PLUGIN_MAP = byName(PLUGINS);

/**
 * A scalar or special function by name (case-sensitive, as KQL). Graph-only functions (`all`, `any`, `map`,
 * `node_id`, ...) are found only with `{ graph: true }`, inside graph-match / graph-shortest-paths clauses.
 */
export function lookupFunction(name: string, opts?: { readonly graph?: boolean }): FunctionDef | undefined {
  const f = FUNCTION_MAP.get(name);
  if (f?.availability === 'graph' && !opts?.graph) return undefined;
  return f;
}

export function lookupAggregate(name: string): FunctionDef | undefined {
  return AGGREGATE_MAP.get(name);
}

export function lookupPlugin(name: string): FunctionDef | undefined {
  return PLUGIN_MAP.get(name);
}

/** Every definition of the catalog, for tests and completion lists. */
export const CATALOG: {
  readonly functions: readonly FunctionDef[];
  readonly aggregates: readonly FunctionDef[];
  readonly plugins: readonly FunctionDef[];
} = { functions: FUNCTIONS, aggregates: AGGREGATES, plugins: PLUGINS };

// ─────────────────────────────── parameter matching ───────────────────────────────

/** Kusto.Language `ParameterMatchKind`: how well an argument matches a parameter, worst to best. */
const Match = {
  None: 0,
  Unknown: 1,
  Dynamic: 2,
  Compatible: 3,
  Promoted: 4,
  NotType: 5,
  OneOfMany: 6,
  Scalar: 7,
  Summable: 8,
  Orderable: 9,
  Number: 10,
  Integer: 11,
  Tabular: 12,
  Database: 14,
  Cluster: 15,
  Exact: 16,
} as const;

/** One call being resolved: the function, its arguments and whether it is user-defined. */
interface Call {
  readonly fn: FunctionDef;
  readonly args: readonly ArgInfo[];
  /** User functions allow named arguments and implicit coercion of scalar arguments. */
  readonly user: boolean;
}

function argScalar(a: ArgInfo): ScalarOrUnknown | null {
  return a.typeOf ? null : scalarOf(a.type);
}

/** An argument whose type is unknown after an earlier error (`*` and `typeof(...)` have no value type). */
function isUnknownArg(a: ArgInfo): boolean {
  return !a.isStar && !a.typeOf && a.type.kind === 'unknown';
}

/** `TypeFacts.IsDynamicArray`: an array, or a dynamic of unknown shape. */
function isDynamicArray(a: ArgInfo): boolean {
  const s = argScalar(a);
  return s !== null && isDynamic(s) && (a.dynamicShape === undefined || a.dynamicShape === 'array');
}

/** `TypeFacts.IsDynamicBag`: a property bag, or a dynamic of unknown shape. */
function isDynamicBag(a: ArgInfo): boolean {
  const s = argScalar(a);
  return s !== null && isDynamic(s) && (a.dynamicShape === undefined || a.dynamicShape === 'bag');
}

function isDefaultValueIndicator(p: ParamDef, a: ArgInfo): boolean {
  return (
    p.defaultValueIndicator !== undefined &&
    a.isLiteral &&
    argScalar(a) === 'string' &&
    a.constantValue === p.defaultValueIndicator
  );
}

function declaredScalarTypes(p: ParamDef): readonly ScalarOrUnknown[] {
  // declared parameter types are scalar names (tabular ones, `(a:long)`, only occur in user functions)
  return (p.types ?? []).filter((t) => !t.startsWith('('));
}

/** `TypeFacts.GetCommonArgumentType`: the common type of the arguments bound to Common* parameters. */
function commonArgumentType(
  argParams: ArgumentParameters,
  args: readonly ArgInfo[],
  ignoreDynamic = false,
): ScalarOrUnknown | null {
  let common: ScalarOrUnknown | null = null;
  const n = Math.min(argParams.length, args.length);
  for (let i = 0; i < n; i++) {
    const p = argParams[i];
    const a = args[i] as ArgInfo;
    if (!p) continue;
    const s = argScalar(a);
    if (s === null) continue;
    if (ignoreDynamic && s === 'dynamic') continue;
    let allowed: Conversion | null = null;
    if (
      p.typeKind === 'CommonScalar' ||
      (p.typeKind === 'CommonNumber' && isNumeric(s)) ||
      (p.typeKind === 'CommonSummable' && isSummable(s)) ||
      (p.typeKind === 'CommonOrderable' && isOrderable(s))
    ) {
      allowed = Conversion.Promotable;
    } else if (p.typeKind === 'CommonScalarOrDynamic') {
      allowed = Conversion.Dynamic;
    }
    if (allowed === null) continue;
    const r = commonOf(common, s, allowed);
    if (!r.ok) return null;
    common = r.type;
  }
  if (common === null && ignoreDynamic) return commonArgumentType(argParams, args, false);
  return common;
}

/** `Binder.GetParameterMatchKind`. */
function matchKind(
  call: Call,
  argParams: ArgumentParameters,
  p: ParamDef | null | undefined,
  a: ArgInfo,
  allowCoercion: boolean,
): number {
  if (!p) return Match.None;
  if (isUnknownArg(a)) return Match.Unknown;
  if (isDefaultValueIndicator(p, a)) return Match.Exact;
  if (a.isStar) return p.argumentKind === 'StarOnly' || p.argumentKind === 'StarAllowed' ? Match.Exact : Match.None;
  if (p.argumentKind === 'StarOnly') return Match.None;
  const s = argScalar(a);
  // Kusto's UnknownParameter is declared with the `unknown` type, which every scalar matches exactly
  if (p === UNKNOWN_PARAMETER) return s !== null || a.typeOf ? Match.Exact : Match.None;
  switch (p.typeKind) {
    case 'Any':
      return Match.Unknown;
    case 'Declared': {
      if (p.typeLiteral) return a.typeOf ? Match.Exact : Match.None;
      if ((p.types ?? []).some((t) => t.startsWith('('))) return a.type.kind === 'table' ? Match.Exact : Match.None;
      if (s === null) return Match.None;
      const types = declaredScalarTypes(p);
      if (types.some((t) => assignable(t, s, Conversion.None)))
        return types.length === 1 ? Match.Exact : Match.OneOfMany;
      if (types.some((t) => assignable(t, s, Conversion.Promotable))) return Match.Promoted;
      if (allowCoercion && types.some((t) => assignable(t, s, Conversion.Dynamic))) return Match.Dynamic;
      if (allowCoercion && types.some((t) => assignable(t, s, Conversion.Compatible))) return Match.Compatible;
      return Match.None;
    }
    case 'Scalar':
      return s !== null ? Match.Scalar : Match.None;
    case 'Integer':
      return s !== null && isInteger(s) ? Match.Integer : Match.None;
    case 'RealOrDecimal':
      return s !== null && isRealOrDecimal(s) ? Match.OneOfMany : Match.None;
    case 'StringOrDynamic':
      return s !== null && isStringOrDynamic(s) ? Match.OneOfMany : Match.None;
    case 'StringOrArray':
      return s !== null && isStringOrArray(s) && a.dynamicShape !== 'bag' ? Match.OneOfMany : Match.None;
    case 'IntegerOrArray':
      return s !== null && isIntegerOrArray(s) && a.dynamicShape !== 'bag' ? Match.OneOfMany : Match.None;
    case 'DynamicArray':
      return isDynamicArray(a) ? Match.OneOfMany : Match.None;
    case 'DynamicBag':
      return isDynamicBag(a) ? Match.OneOfMany : Match.None;
    case 'Number':
      return s !== null && isNumeric(s) ? Match.Number : Match.None;
    case 'NumberOrBool':
      return s !== null && (isNumeric(s) || s === 'bool') ? Match.Number : Match.None;
    case 'Summable':
      return s !== null && isSummable(s) ? Match.Summable : Match.None;
    case 'Orderable':
      return s !== null && isOrderable(s) ? Match.Orderable : Match.None;
    case 'Tabular':
      return a.type.kind === 'table' ? Match.Tabular : Match.None;
    case 'Database':
      return a.type.kind === 'database' ? Match.Database : Match.None;
    case 'Cluster':
      return a.type.kind === 'cluster' ? Match.Cluster : Match.None;
    case 'NotBool':
      return s === null || !assignable(s, 'bool', Conversion.None) ? Match.NotType : Match.None;
    case 'NotRealOrBool':
      return s === null || (!assignable(s, 'real', Conversion.None) && !assignable(s, 'bool', Conversion.None))
        ? Match.NotType
        : Match.None;
    case 'NotDynamic':
      return s !== null && s !== 'dynamic' ? Match.NotType : Match.None;
    case 'Parameter0':
      return matchKind(call, argParams, argParams[0], a, allowCoercion);
    case 'Parameter1':
      return matchKind(call, argParams, argParams[1], a, allowCoercion);
    case 'Parameter2':
      return matchKind(call, argParams, argParams[2], a, allowCoercion);
    case 'CommonScalar':
    case 'CommonNumber':
    case 'CommonSummable':
    case 'CommonOrderable':
    case 'CommonScalarOrDynamic': {
      const common = commonArgumentType(argParams, call.args);
      if (common === null || s === null) return Match.None;
      if (assignable(common, s, Conversion.None)) return Match.Exact;
      if (assignable(common, s, Conversion.Promotable)) return Match.Promoted;
      if (assignable(common, s, Conversion.Dynamic)) return Match.Dynamic;
      if (allowCoercion && assignable(common, s, Conversion.Compatible)) return Match.Compatible;
      if (p.typeKind === 'CommonScalarOrDynamic' && assignable(s, 'dynamic', Conversion.None)) return Match.Exact;
      return Match.None;
    }
  }
}

function argumentParameters(call: Call, sig: SignatureDef): ArgumentParameters {
  return getArgumentParameters(call.fn.name, sig, call.args, call.user, (_s, argParams, _args, p, a) =>
    // layouts compare parameters without implicit coercion
    matchKind(call, argParams, p, a, false),
  );
}

interface SigMatch {
  readonly sig: SignatureDef;
  readonly argParams: ArgumentParameters;
  readonly kinds: readonly number[];
  readonly count: number;
  readonly worst: number;
  readonly best: number;
}

function sigMatch(call: Call, sig: SignatureDef): SigMatch {
  const argParams = argumentParameters(call, sig);
  const kinds = call.args.map((a, i) => matchKind(call, argParams, argParams[i], a, call.user));
  let count = 0;
  let worst: number = Match.Exact;
  let best: number = Match.None;
  for (const k of kinds) {
    if (k !== Match.None) count++;
    if (k < worst) worst = k;
    if (k > best) best = k;
  }
  return { sig, argParams, kinds, count, worst, best };
}

/** `CompareSignatureMatch`: > 0 when m1 is the better match. */
function compareMatch(m1: SigMatch, m2: SigMatch, argCount: number): number {
  if (m1.count === argCount && m2.count < argCount) return m1.count - m2.count;
  if (m1.worst !== m2.worst) return m1.worst - m2.worst;
  if (m1.best !== m2.best) return m1.best - m2.best;
  return m1.count - m2.count;
}

/** `GetBestMatchingSignatures`: one signature when a best one exists, several when ambiguous. */
function bestMatchingSignatures(call: Call): SigMatch[] {
  const sigs = call.fn.signatures;
  const argCount = call.args.length;
  if (sigs.length === 0) return [];
  if (sigs.length === 1) return [sigMatch(call, sigs[0] as SignatureDef)];

  let candidates = sigs.filter((s) => argCount >= minArgumentCount(s) && argCount <= maxArgumentCount(s));
  if (candidates.length === 0) {
    // no signature takes this many arguments: consider those taking the closest count (Kusto's rule, kept as is)
    let closest = 0;
    let maxCount = 0;
    for (const s of sigs) {
      if (argCount < minArgumentCount(s) && closest > minArgumentCount(s)) closest = minArgumentCount(s);
      if (maxArgumentCount(s) > maxCount) maxCount = maxArgumentCount(s);
    }
    if (closest === 0) closest = maxCount;
    candidates = sigs.filter((s) => closest >= minArgumentCount(s) && closest <= maxArgumentCount(s));
  }
  let matches = candidates.map((s) => sigMatch(call, s));
  if (matches.length <= 1) return matches;

  const most = Math.max(...matches.map((m) => m.count));
  matches = matches.filter((m) => m.count === most);
  if (matches.length <= 1) return matches;

  let best = matches[0] as SigMatch;
  for (let i = 1; i < matches.length; i++) {
    const c = compareMatch(matches[i] as SigMatch, best, argCount);
    if (c > 0) best = matches[i] as SigMatch;
    else if (c === 0) return matches; // ambiguous
  }
  for (const m of matches) {
    if (m !== best && compareMatch(best, m, argCount) <= 0) return matches;
  }
  return [best];
}

// ─────────────────────────────── checks ───────────────────────────────

const orList = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;

class Reporter {
  readonly items: Diagnostic[] = [];
  add(code: CodeInfo, message: string, at: Span): void {
    this.items.push({ code: code.code, severity: code.severity, message, start: at.start, length: at.length });
  }
}

function argCountMessage(name: string, count: number): string {
  if (count === 0) return `The function '${name}' expects no arguments.`;
  if (count === 1) return `The function '${name}' expects 1 argument.`;
  return `The function '${name}' expects ${count} arguments.`;
}

function rangeMessage(name: string, min: number, max: number): string {
  return `The function '${name}' expects between ${min} and ${max} arguments.`;
}

/** `Binder.CheckSignature`. */
function checkSignature(call: Call, m: SigMatch, callSpan: Span, dx: Reporter): void {
  const { sig, argParams } = m;
  const args = call.args;
  const initial = dx.items.length;
  if (!isValidArgumentCount(sig, args.length)) {
    if (hasRepeatableParameters(sig)) {
      const min = minArgumentCount(sig);
      const max = maxArgumentCount(sig);
      if (args.length < min || args.length > max)
        dx.add(Codes.ArgumentCount, rangeMessage(call.fn.name, min, max), callSpan);
      else dx.add(Codes.ArgumentCount, 'The function call has an incorrect number of arguments.', callSpan);
    } else if (args.length !== sig.params.length) {
      dx.add(Codes.ArgumentCount, argCountMessage(call.fn.name, sig.params.length), callSpan);
    }
  }

  if (call.user && dx.items.length === initial) {
    let outOfOrder = false;
    let reportedUnnamed = false;
    args.forEach((a, i) => {
      const named = a.name !== undefined;
      const p = named ? (sig.params.find((q) => q.name === a.name) ?? null) : null;
      if (named && !p) {
        dx.add(
          Codes.UnknownNamedArgument,
          'The argument name does not refer to a declared parameter.',
          a.nameStart !== undefined ? { start: a.nameStart, length: a.nameLength ?? 0 } : a,
        );
      }
      if (named && !outOfOrder) outOfOrder = (sig.params[i] ?? null) !== p;
      else if (!named && outOfOrder && !reportedUnnamed) {
        dx.add(Codes.InvalidArgument, 'All arguments after an unordered named argument must be named.', a);
        reportedUnnamed = true;
      }
    });
  }

  if (dx.items.length === initial) {
    // a common parameter type is required: it must exist
    for (const p of argParams) {
      if (!p) continue;
      const k = p.typeKind;
      if (
        k === 'CommonNumber' ||
        k === 'CommonSummable' ||
        k === 'CommonOrderable' ||
        k === 'CommonScalar' ||
        k === 'CommonScalarOrDynamic'
      ) {
        if (commonArgumentType(argParams, args) === null) {
          dx.add(Codes.NoCommonType, 'No common type can be determined from the arguments.', callSpan);
        }
        break;
      }
    }
  }

  if (dx.items.length === initial) {
    args.forEach((_, i) => {
      checkArgument(call, m, i, dx);
    });
  }

  if (call.user && dx.items.length === initial) {
    for (const p of sig.params) {
      if (p.minOccurring > 0 && !argParams.includes(p)) {
        dx.add(Codes.ArgumentCount, `Missing argument for parameter '${p.name}'.`, callSpan);
      }
    }
  }
}

/** `Binder.CheckArgument`: type and form checks of one argument against its parameter. */
function checkArgument(call: Call, m: SigMatch, i: number, dx: Reporter): void {
  const a = call.args[i] as ArgInfo;
  const p = m.argParams[i];
  if (!p) return;
  if (a.isStar) {
    if (p.argumentKind !== 'StarOnly' && p.argumentKind !== 'StarAllowed') {
      dx.add(Codes.StarNotAllowed, 'The * syntax is not allowed here.', a);
    }
    return;
  }
  if (isDefaultValueIndicator(p, a)) return;
  // an argument whose type is unknown follows an earlier error: it raises nothing more
  if (isUnknownArg(a)) return;
  const s = argScalar(a);
  const typeExpected = (msg: string) => dx.add(Codes.TypeExpected, msg, a);
  const checkScalar = (): boolean => {
    if (s !== null || a.typeOf) return true;
    dx.add(Codes.ScalarExpected, 'Scalar value expected.', a);
    return false;
  };
  const checkNotType = (t: ScalarOrUnknown): void => {
    if (s === null) return;
    const matches = t === 'dynamic' ? s === 'dynamic' : assignable(t, s, Conversion.None);
    if (matches) dx.add(Codes.TypeNotAllowed, `The value of type '${t}' is not allowed in this context.`, a);
  };
  const checkType = (t: ScalarOrUnknown, conversion: Conversion): void => {
    if (t === 'unknown' || s === 'unknown') return;
    const ok = s !== null && (t === 'dynamic' ? s === 'dynamic' : assignable(t, s, conversion));
    if (!ok) typeExpected(`The expression must have the type ${t}.`);
  };

  switch (p.typeKind) {
    case 'Any':
      break;
    case 'Declared': {
      if (p === UNKNOWN_PARAMETER) break;
      if ((p.types ?? []).some((t) => t.startsWith('('))) {
        if (a.type.kind !== 'table') dx.add(Codes.TabularExpected, 'Tabular value expected.', a);
        break;
      }
      const k = matchKind(call, m.argParams, p, a, call.user);
      if ((k === Match.None || k === Match.Compatible) && !call.user) {
        const names = p.typeLiteral ? ['type'] : (p.types ?? []);
        typeExpected(`A value of type ${orList(names)} expected.`);
      }
      break;
    }
    case 'Scalar':
      checkScalar();
      break;
    case 'Integer':
      if (s === null || !isInteger(s)) typeExpected('The expression value must be an integer.');
      break;
    case 'RealOrDecimal':
      if (s === null || !isRealOrDecimal(s)) typeExpected('The expression value must be an real or decimal number.');
      break;
    case 'IntegerOrArray':
      if (s === null || !isIntegerOrArray(s) || a.dynamicShape === 'bag')
        typeExpected('The expression value must be an integer or a dynamic array of integers.');
      break;
    case 'StringOrDynamic':
      if (s === null || !isStringOrDynamic(s))
        typeExpected('The expression must have one of the types: string or dynamic.');
      break;
    case 'StringOrArray':
      if (s === null || !isStringOrArray(s) || a.dynamicShape === 'bag')
        typeExpected('The expression value must be a string or a dynamic array of strings.');
      break;
    case 'DynamicArray':
      if (!isDynamicArray(a)) typeExpected('The expression value must be a dynamic array.');
      break;
    case 'DynamicBag':
      if (!isDynamicBag(a)) typeExpected('The expression must be a dynamic bag.');
      break;
    case 'Number':
      if (s === null || !isNumeric(s)) typeExpected('The expression value must be a number.');
      break;
    case 'NumberOrBool':
      if (s === null || !(isNumeric(s) || s === 'bool'))
        typeExpected('The expression value must be a number or boolean true/false.');
      break;
    case 'Summable':
      if (s === null || !isSummable(s))
        typeExpected('The argument value must be summable: a number, timespan or datetime.');
      break;
    case 'Orderable':
      if (s === null || !isOrderable(s))
        typeExpected('The argument value must be orderable: a number, timespan, datetime, string or boolean.');
      break;
    case 'NotBool':
      if (checkScalar()) checkNotType('bool');
      break;
    case 'NotRealOrBool':
      if (checkScalar()) {
        checkNotType('real');
        checkNotType('bool');
      }
      break;
    case 'NotDynamic':
      if (checkScalar()) checkNotType('dynamic');
      break;
    case 'Tabular':
      if (a.type.kind !== 'table') dx.add(Codes.TabularExpected, 'Tabular value expected.', a);
      break;
    case 'Database':
      if (a.type.kind !== 'database') typeExpected('Database expected.');
      break;
    case 'Cluster':
      if (a.type.kind !== 'cluster') typeExpected('Cluster expected.');
      break;
    case 'Parameter0':
    case 'Parameter1':
    case 'Parameter2': {
      const ref = call.args[p.typeKind === 'Parameter0' ? 0 : p.typeKind === 'Parameter1' ? 1 : 2];
      const t = ref ? argScalar(ref) : null;
      if (t !== null) checkType(t, Conversion.None);
      break;
    }
    case 'CommonScalar':
    case 'CommonNumber':
    case 'CommonSummable':
    case 'CommonOrderable': {
      const ok =
        p.typeKind === 'CommonScalar'
          ? checkScalar()
          : p.typeKind === 'CommonNumber'
            ? s !== null && isNumeric(s)
            : p.typeKind === 'CommonSummable'
              ? s !== null && isSummable(s)
              : s !== null && isOrderable(s);
      if (!ok) {
        if (p.typeKind === 'CommonNumber') typeExpected('The expression value must be a number.');
        else if (p.typeKind === 'CommonSummable')
          typeExpected('The argument value must be summable: a number, timespan or datetime.');
        else if (p.typeKind === 'CommonOrderable')
          typeExpected('The argument value must be orderable: a number, timespan, datetime, string or boolean.');
        break;
      }
      const common = commonArgumentType(m.argParams, call.args);
      if (common !== null) checkType(common, Conversion.Promotable);
      break;
    }
    case 'CommonScalarOrDynamic': {
      if (!checkScalar()) break;
      const common = commonArgumentType(m.argParams, call.args);
      if (common === null || s === null) break;
      if (assignable(common, s, Conversion.Promotable) || assignable('dynamic', s, Conversion.Dynamic)) break;
      const expected = assignable('dynamic', common, Conversion.Dynamic) ? [common] : [common, 'dynamic'];
      typeExpected(
        expected.length === 1
          ? `The expression must have the type ${common}.`
          : `The expression must have one of the types: ${orList(expected)}.`,
      );
      break;
    }
  }

  switch (p.argumentKind) {
    case 'Column':
    case 'Column_Parameter0':
    case 'Column_Parameter0_Common':
      if (!a.isColumn) dx.add(Codes.ColumnExpected, 'Column name expected.', a);
      break;
    case 'Constant':
      if (!a.isConstant) dx.add(Codes.ConstantExpected, 'The expression must be a constant.', a);
      break;
    case 'Literal':
      if (!a.isLiteral) dx.add(Codes.LiteralExpected, 'The expression must be a literal.', a);
      else if (p.values && p.values.length > 0 && !literalIn(a, p.values, p.isCaseSensitive === true)) {
        const values = p.values;
        dx.add(
          Codes.InvalidArgument,
          values.length === 1
            ? `The expression must be the value: ${values[0]}`
            : `The expression must be one of the values: ${orList(values)}`,
          a,
        );
      }
      break;
    case 'LiteralNotEmpty':
      if (!a.isLiteral) dx.add(Codes.LiteralExpected, 'The expression must be a literal.', a);
      else if (a.constantValue === undefined || a.constantValue === null || String(a.constantValue) === '') {
        dx.add(Codes.InvalidArgument, 'The expression value must not be empty.', a);
      }
      break;
    default:
      break;
  }
}

function literalIn(a: ArgInfo, values: readonly string[], caseSensitive: boolean): boolean {
  if (a.constantValue === undefined || a.constantValue === null) return false;
  const v = String(a.constantValue);
  return caseSensitive ? values.includes(v) : values.some((x) => x.toLowerCase() === v.toLowerCase());
}

// ─────────────────────────────── return types ───────────────────────────────

function argFor(m: SigMatch, call: Call, p: ParamDef | undefined): ArgInfo | undefined {
  if (!p) return undefined;
  const i = m.argParams.indexOf(p);
  return i >= 0 ? call.args[i] : undefined;
}

function openTable(): Type {
  return { kind: 'table', columns: [], open: true };
}

/** `Binder.GetFunctionCallResult`. */
function callResult(call: Call, m: SigMatch, ctx: CallContext, callSpan: Span, dx: Reporter | null): Type {
  const { sig } = m;
  const params = sig.params;
  const typeOfParam = (p: ParamDef | undefined): Type => argFor(m, call, p)?.type ?? UNKNOWN_TYPE;
  const literalName = (p: ParamDef | undefined): string | undefined => {
    const a = argFor(m, call, p);
    return a?.isConstant && typeof a.constantValue === 'string' ? a.constantValue : undefined;
  };
  switch (sig.returnKind) {
    case 'Declared':
      if (sig.returnType === undefined) return UNKNOWN_TYPE;
      return sig.returnType.startsWith('(')
        ? { kind: 'table', columns: parseSchema(sig.returnType) }
        : typeOfScalar(sig.returnType);
    case 'Computed':
      // the body of a user function is bound by the binder at the call site
      return UNKNOWN_TYPE;
    case 'Parameter0':
      return typeOfParam(params[0]);
    case 'Parameter1':
      return typeOfParam(params[1]);
    case 'Parameter2':
      return typeOfParam(params[2]);
    case 'ParameterN':
      return typeOfParam(params[params.length - 1]);
    case 'Parameter0Array':
      return argFor(m, call, params[0]) ? typeOfScalar('dynamic') : UNKNOWN_TYPE;
    case 'Parameter0Literal':
      return argFor(m, call, params[0])?.typeOf ?? UNKNOWN_TYPE;
    case 'Parameter1Literal':
      return argFor(m, call, params[1])?.typeOf ?? UNKNOWN_TYPE;
    case 'ParameterNLiteral':
      return argFor(m, call, params[params.length - 1])?.typeOf ?? UNKNOWN_TYPE;
    case 'Parameter0Promoted': {
      const t = typeOfParam(params[0]);
      const s = scalarOf(t);
      return s === null ? t : scalarType(promoteToLong(s));
    }
    case 'Common':
      return scalarType(commonArgumentType(m.argParams, call.args));
    case 'CommonNonDynamic':
      return scalarType(commonArgumentType(m.argParams, call.args, true));
    case 'Widest': {
      const w = widestNumeric(call.args.map(argScalar));
      return scalarType(w === null ? null : promoteToLong(w));
    }
    case 'Parameter0Cluster':
      return { kind: 'cluster', name: literalName(params[0]) ?? '' };
    case 'Parameter0Database':
      return { kind: 'database', name: literalName(params[0]) ?? '' };
    case 'Parameter0Table': {
      const name = literalName(params[0]);
      if (name === undefined || !ctx.resolveTable) return openTable();
      const t = ctx.resolveTable(name);
      if (t) return t;
      const at = argFor(m, call, params[0]) ?? callSpan;
      dx?.add(Codes.UnknownTable, `The name '${name}' does not refer to any known table.`, at);
      return openTable();
    }
    case 'Parameter0ExternalTable':
    case 'Parameter0MaterializedView':
    case 'Parameter0StoredQueryResult':
    case 'Parameter0EntityGroup':
      return openTable();
    case 'Parameter0Graph':
      return UNKNOWN_TYPE;
    case 'Custom': {
      const custom = CUSTOM_RETURNS[sig.customReturn ?? call.fn.name];
      if (!custom) return UNKNOWN_TYPE;
      return custom(customContext(call, m, ctx));
    }
  }
}

const UNKNOWN_TYPE: Type = { kind: 'unknown' };

function customContext(call: Call, m: SigMatch, ctx: CallContext): CustomReturnContext {
  const forParam = (name: string): ArgInfo[] =>
    call.args.filter((_, i) => {
      const p = m.argParams[i];
      return p !== null && p !== undefined && p !== UNKNOWN_PARAMETER && p.name === name;
    });
  return {
    fn: call.fn,
    signature: m.sig,
    args: call.args,
    paramForArg: m.argParams,
    ctx,
    argument: (name) => forParam(name)[0],
    arguments: forParam,
  };
}

// ─────────────────────────────── entry points ───────────────────────────────

/**
 * Resolves a call of `fn` with `args`. `callSpan` is where call-level diagnostics go (argument counts, no matching
 * overload): Kusto reports them on the function name, so pass the name's span.
 */
export function resolveCall(
  fn: FunctionDef,
  args: readonly ArgInfo[],
  ctx: CallContext,
  callSpan: Span,
): CallResolution {
  const call: Call = { fn, args, user: fn.isUserDefined === true };
  const dx = new Reporter();
  const matches = bestMatchingSignatures(call);
  if (matches.length === 1) {
    const m = matches[0] as SigMatch;
    checkSignature(call, m, callSpan, dx);
    let returnType = callResult(call, m, ctx, callSpan, dx);
    // a multi-column result of a function with a result prefix is prefixed (`any(*)` → any_a, any_b, ...)
    const prefix = fn.resultNamePrefix;
    if (returnType.kind === 'tuple' && prefix !== undefined && m.sig.returnKind === 'Custom') {
      returnType = { kind: 'tuple', columns: returnType.columns.map((c) => ({ ...c, name: `${prefix}_${c.name}` })) };
    }
    const shape = resultShape(call, m);
    return {
      isConstant: isConstantCall(fn, args),
      signature: m.sig,
      returnType,
      diagnostics: dx.items,
      paramForArg: m.argParams.map((p) => (p === UNKNOWN_PARAMETER ? null : p)),
      ...(shape && returnType.kind === 'scalar' && returnType.name === 'dynamic' ? { dynamicShape: shape } : {}),
    };
  }
  if (args.length === 0 && fnMinArgs(fn) > 0) {
    dx.add(Codes.ArgumentCount, rangeMessage(fn.name, fnMinArgs(fn), fnMaxArgs(fn)), callSpan);
  } else if (!args.some(isUnknownArg)) {
    const types = args.map((a) => (a.isStar ? '*' : a.typeOf ? 'type' : typeToString(a.type))).join(', ');
    dx.add(
      Codes.NoMatchingSignature,
      `The function '${fn.name}' is not compatible with arguments (${types})`,
      callSpan,
    );
  }
  return {
    isConstant: isConstantCall(fn, args),
    signature: null,
    returnType: commonReturnType(call, matches, ctx, callSpan),
    diagnostics: dx.items,
    paramForArg: args.map(() => null),
  };
}

/** The shape of a dynamic result: declared, an array built from an argument, the shape of a passed-through one. */
function resultShape(call: Call, m: SigMatch): DynamicShape | undefined {
  const params = m.sig.params;
  switch (m.sig.returnKind) {
    case 'Declared':
      return m.sig.returnShape;
    case 'Parameter0Array':
      return 'array';
    case 'Parameter0':
      return argFor(m, call, params[0])?.dynamicShape;
    case 'Parameter1':
      return argFor(m, call, params[1])?.dynamicShape;
    case 'Parameter2':
      return argFor(m, call, params[2])?.dynamicShape;
    case 'ParameterN':
      return argFor(m, call, params[params.length - 1])?.dynamicShape;
    case 'Custom':
      return CUSTOM_DYNAMIC_SHAPES[m.sig.customReturn ?? call.fn.name];
    default:
      return undefined;
  }
}

/**
 * How the binder should bind the argument at `position` of a call of `fn` (Kusto binds some arguments in another
 * scope): `aggregate` — an aggregate expression, without row columns (pivot's aggregation); `parameter0` — names
 * are columns of the first argument's table (`ipv4_lookup(T, key, lookupKey)`); `parameter0-common` — columns
 * both the row and that table have; `normal` otherwise.
 */
export function argumentScope(
  fn: FunctionDef,
  position: number,
): 'normal' | 'aggregate' | 'parameter0' | 'parameter0-common' {
  let scope: 'normal' | 'aggregate' | 'parameter0' | 'parameter0-common' = 'normal';
  for (const sig of fn.signatures) {
    let at = 0;
    for (const p of sig.params) {
      const span = p.maxOccurring > 1 ? Number.POSITIVE_INFINITY : 1;
      if (position >= at && position < at + span) {
        if (p.argumentKind === 'Aggregate') scope = 'aggregate';
        else if (p.argumentKind === 'Column_Parameter0' && scope === 'normal') scope = 'parameter0';
        else if (p.argumentKind === 'Column_Parameter0_Common' && scope === 'normal') scope = 'parameter0-common';
        break;
      }
      at += span;
    }
  }
  return scope;
}

function isConstantCall(fn: FunctionDef, args: readonly ArgInfo[]): boolean {
  return fn.isConstantFoldable === true && args.every((a) => a.isConstant);
}

function fnMinArgs(fn: FunctionDef): number {
  return fn.signatures.length ? Math.min(...fn.signatures.map(minArgumentCount)) : 0;
}

function fnMaxArgs(fn: FunctionDef): number {
  return fn.signatures.length ? Math.max(...fn.signatures.map(maxArgumentCount)) : 0;
}

function sameType(a: Type, b: Type): boolean {
  return typeToString(a) === typeToString(b) && a.kind === b.kind;
}

/** `GetCommonReturnType`: the return type the candidate overloads agree on, else unknown. */
function commonReturnType(call: Call, matches: readonly SigMatch[], ctx: CallContext, callSpan: Span): Type {
  const first = matches[0];
  if (!first) return UNKNOWN_TYPE;
  const t = callResult(call, first, ctx, callSpan, null);
  for (let i = 1; i < matches.length; i++) {
    const u = callResult(call, matches[i] as SigMatch, ctx, callSpan, null);
    if (!(t.kind === 'unknown' || u.kind === 'unknown' || sameType(t, u))) return UNKNOWN_TYPE;
  }
  return t;
}

/**
 * The default column name of an expression column that is this call (Kusto's `GetFunctionResultName` with no
 * default): `count_`, `sum_x`, `avg_x`, `dcount_x`, `strlen_s`, `x` for `tolong(x)`, `percentile_x_50`; null when
 * Kusto would name the column `Column1`/`print_0`, or when the call yields several columns (their names are those
 * of the tuple type, see `aggregateResultColumns`).
 */
export function defaultResultName(fn: FunctionDef, args: readonly ArgInfo[], ctx?: CallContext): string | null {
  const named = nameByKind(fn, args, ctx);
  if (named !== null || !fn.signatures.some((s) => s.returnKind === 'Custom')) return named;
  // a custom result with a single column (`percentile(x, 50)`) is named by that column (`percentile_x_50`)
  const r = resolveCall(fn, args, ctx ?? { rowColumns: null }, { start: 0, length: 0 });
  return r.returnType.kind === 'tuple' && r.returnType.columns.length === 1
    ? (r.returnType.columns[0]?.name ?? null)
    : null;
}

function nameByKind(fn: FunctionDef, args: readonly ArgInfo[], ctx: CallContext | undefined): string | null {
  let kind = fn.resultNameKind;
  let prefix = fn.resultNamePrefix;
  if (kind === 'NameAndFirstArgument') {
    prefix = fn.name;
    kind = 'PrefixAndFirstArgument';
  } else if (kind === 'NameAndOnlyArgument') {
    prefix = fn.name;
    kind = 'PrefixAndOnlyArgument';
  }
  const first = args[0];
  switch (kind) {
    case 'PrefixAndFirstArgument':
      if (first)
        return prefix !== undefined ? `${prefix}_${argResultName(first) ?? ''}` : (argResultName(first) ?? null);
      return prefix !== undefined ? `${prefix}_` : null;
    case 'PrefixAndOnlyArgument':
      if (args.length !== 1 || !first) return null;
      return prefix !== undefined ? `${prefix}_${argResultName(first) ?? ''}` : (argResultName(first) ?? null);
    case 'FirstArgumentValueIfColumn': {
      const v = first?.constantValue;
      if (typeof v !== 'string') return null;
      return ctx?.rowColumns?.some((c) => c.name === v) ? v : null;
    }
    case 'FirstArgument':
      return first ? (argResultName(first) ?? null) : null;
    case 'PrefixOnly':
      return prefix ?? null;
    case 'OnlyArgument':
      return args.length === 1 && first ? (argResultName(first) ?? null) : null;
    default:
      return null;
  }
}

/**
 * The output columns of an aggregate that yields several (`arg_max(x, *)`, `arg_min(x, a, b)`,
 * `percentiles(x, 50, 95)`, `take_any(*)`, ...), or null when the aggregate yields one value. `givenNames` are the
 * names of `(a, b) = arg_max(...)` / `a = percentiles(...)`; they replace the leading default names.
 */
export function aggregateResultColumns(
  fn: FunctionDef,
  args: readonly ArgInfo[],
  ctx: CallContext,
  givenNames: readonly string[],
): readonly Column[] | null {
  const r = resolveCall(fn, args, ctx, { start: 0, length: 0 });
  if (r.returnType.kind !== 'tuple') return null;
  return r.returnType.columns.map((c, i) => (i < givenNames.length ? { ...c, name: givenNames[i] as string } : c));
}
