/**
 * Generated calls of every catalog signature, for comparing the resolver with Microsoft's analyzer. For each
 * signature: a minimal and a full well-typed call, calls with one argument replaced by a value of each KQL type
 * (or by a column where a literal/constant is required and vice versa), and calls with one argument too few / too
 * many. Scalars are called in `T | project f(...)`, aggregates in `T | summarize f(...)`, plugins in
 * `T | evaluate p(...)`. Each argument is described twice: as KQL text (for the analyzer) and as the `ArgInfo` the
 * binder would give the resolver.
 */
import type { ScalarTypeName, Type } from '../../src/binder/types.js';
import type { ArgInfo } from '../../src/catalog/resolve.js';
import { CATALOG } from '../../src/catalog/resolve.js';
import type { FunctionDef, ParamDef, SignatureDef } from '../../src/catalog/types.js';
import { TABLE_U } from './oracle.js';

export type ArgSpec = Omit<ArgInfo, 'start' | 'length'> & { readonly text: string };

export interface CallCase {
  readonly query: string;
  readonly fn: FunctionDef;
  readonly context: 'project' | 'summarize' | 'evaluate';
  readonly args: readonly ArgInfo[];
}

const sc = (name: ScalarTypeName): Type => ({ kind: 'scalar', name });

const COLUMN_OF: Readonly<Record<ScalarTypeName, string>> = {
  long: 'l',
  int: 'i',
  real: 'r',
  decimal: 'dc',
  string: 's',
  bool: 'b',
  datetime: 'dt',
  timespan: 'ts',
  guid: 'g',
  dynamic: 'dy',
};

function column(t: ScalarTypeName): ArgSpec {
  const name = COLUMN_OF[t];
  return {
    text: name,
    type: sc(t),
    isLiteral: false,
    isConstant: false,
    isColumn: true,
    columnName: name,
    isStar: false,
    isAggregate: false,
  };
}

const LITERALS: Readonly<Record<ScalarTypeName, readonly [string, unknown]>> = {
  long: ['1', 1n],
  int: ['int(1)', 1],
  real: ['1.5', 1.5],
  decimal: ['decimal(1.5)', 1.5],
  string: ['"a"', 'a'],
  bool: ['true', true],
  datetime: ['datetime(2020-01-01)', '2020-01-01T00:00:00Z'],
  timespan: ['1d', 864000000000n],
  guid: ['guid(00000000-0000-0000-0000-000000000001)', '00000000-0000-0000-0000-000000000001'],
  dynamic: ['dynamic([1, 2])', [1, 2]],
};

function literal(t: ScalarTypeName): ArgSpec {
  const [text, value] = LITERALS[t];
  return {
    text,
    type: sc(t),
    isLiteral: true,
    isConstant: true,
    constantValue: value,
    isColumn: false,
    isStar: false,
    isAggregate: false,
    ...(t === 'dynamic' ? { dynamicShape: 'array' as const } : {}),
  };
}

/** A column of the lookup table `U` (for parameters bound in the scope of the first argument's table). */
function lookupColumn(t: ScalarTypeName, common: boolean): ArgSpec {
  const name = common ? 's' : t === 'dynamic' ? 'dy2' : t === 'long' ? 'v' : 'k';
  const type: ScalarTypeName = name === 'dy2' ? 'dynamic' : name === 'v' ? 'long' : 'string';
  return {
    text: name,
    type: sc(type),
    isLiteral: false,
    isConstant: false,
    isColumn: true,
    columnName: name,
    isStar: false,
    isAggregate: false,
  };
}

function stringLiteral(value: string): ArgSpec {
  return {
    text: JSON.stringify(value),
    type: sc('string'),
    isLiteral: true,
    isConstant: true,
    constantValue: value,
    isColumn: false,
    isStar: false,
    isAggregate: false,
  };
}

const STAR: ArgSpec = {
  text: '*',
  type: { kind: 'unknown' },
  isLiteral: false,
  isConstant: false,
  isColumn: false,
  isStar: true,
  isAggregate: false,
};

const TABLE_ARG: ArgSpec = {
  text: 'U',
  type: { kind: 'table', columns: TABLE_U.map((c) => ({ name: c.name, type: c.type })) },
  isLiteral: false,
  isConstant: false,
  isColumn: false,
  isStar: false,
  isAggregate: false,
};

const TYPEOF_LONG: ArgSpec = {
  text: 'typeof(long)',
  type: { kind: 'unknown' },
  typeOf: sc('long'),
  isLiteral: true,
  isConstant: true,
  isColumn: false,
  isStar: false,
  isAggregate: false,
};

const TYPEOF_TABLE: ArgSpec = {
  text: 'typeof(a:long, b:string)',
  type: { kind: 'unknown' },
  typeOf: {
    kind: 'table',
    columns: [
      { name: 'a', type: 'long' },
      { name: 'b', type: 'string' },
    ],
  },
  isLiteral: true,
  isConstant: true,
  isColumn: false,
  isStar: false,
  isAggregate: false,
};

/** The KQL types a parameter of each kind prefers. */
function preferredType(p: ParamDef, previous: readonly ArgSpec[]): ScalarTypeName {
  switch (p.typeKind) {
    case 'Declared':
      return (p.types?.[0] as ScalarTypeName | undefined) ?? 'long';
    case 'Scalar':
      return 'string';
    case 'Integer':
    case 'IntegerOrArray':
    case 'Summable':
    case 'Orderable':
    case 'NotRealOrBool':
    case 'NotDynamic':
    case 'NotBool':
    case 'Any':
    case 'CommonScalar':
    case 'CommonNumber':
    case 'CommonSummable':
    case 'CommonOrderable':
    case 'CommonScalarOrDynamic':
      return 'long';
    case 'RealOrDecimal':
    case 'Number':
    case 'NumberOrBool':
      return 'real';
    case 'StringOrDynamic':
    case 'StringOrArray':
      return 'string';
    case 'DynamicArray':
    case 'DynamicBag':
      return 'dynamic';
    case 'Parameter0':
    case 'Parameter1':
    case 'Parameter2': {
      const ref = previous[p.typeKind === 'Parameter0' ? 0 : p.typeKind === 'Parameter1' ? 1 : 2];
      return ref?.type.kind === 'scalar' ? ref.type.name : 'long';
    }
    default:
      return 'long';
  }
}

/** A well-formed argument for the parameter: the right type and form (column, literal, constant, star, ...). */
function goodArg(fn: FunctionDef, p: ParamDef, previous: readonly ArgSpec[]): ArgSpec | null {
  if (p.argumentKind === 'StarOnly') return STAR;
  if (p.typeLiteral) return fn.kind === 'plugin' ? TYPEOF_TABLE : TYPEOF_LONG;
  if (p.typeKind === 'Tabular') return TABLE_ARG;
  if (p.typeKind === 'Database' || p.typeKind === 'Cluster') return null;
  if (p.values && p.values.length > 0) return stringLiteral(p.values[0] as string);
  const t = preferredType(p, previous);
  if (p.argumentKind === 'Literal' || p.argumentKind === 'LiteralNotEmpty' || p.argumentKind === 'Constant')
    return literal(t);
  if (p.argumentKind === 'Column_Parameter0' || p.argumentKind === 'Column_Parameter0_Common') {
    return lookupColumn(t, p.argumentKind === 'Column_Parameter0_Common');
  }
  return column(t);
}

function argList(fn: FunctionDef, sig: SignatureDef, full: boolean): ArgSpec[] | null {
  const out: ArgSpec[] = [];
  for (const p of sig.params) {
    let n = p.minOccurring;
    if (full) n = p.maxOccurring > 1 ? p.minOccurring + 1 : Math.max(n, 1);
    for (let k = 0; k < n; k++) {
      const a = goodArg(fn, p, out);
      if (!a) return null;
      out.push(a);
    }
  }
  return out;
}

const ALL_TYPES: readonly ScalarTypeName[] = [
  'long',
  'int',
  'real',
  'decimal',
  'string',
  'bool',
  'datetime',
  'timespan',
  'guid',
  'dynamic',
];
const SOME_TYPES: readonly ScalarTypeName[] = ['long', 'real', 'string', 'bool', 'datetime', 'dynamic'];

function variants(args: readonly ArgSpec[]): ArgSpec[][] {
  const out: ArgSpec[][] = [];
  args.forEach((a, j) => {
    if (j > 3) return;
    const types = j === 0 ? ALL_TYPES : SOME_TYPES;
    for (const t of types) out.push(args.map((x, k) => (k === j ? column(t) : x)));
    // the same type in the other form: a literal for a column, a column for a literal
    if (a.isLiteral && a.type.kind === 'scalar')
      out.push(args.map((x, k) => (k === j ? column((a.type as { name: ScalarTypeName }).name) : x)));
    if (a.isColumn && a.type.kind === 'scalar')
      out.push(args.map((x, k) => (k === j ? literal((a.type as { name: ScalarTypeName }).name) : x)));
    if (a.isStar) out.push(args.map((x, k) => (k === j ? column('long') : x)));
    else if (!a.isLiteral) out.push(args.map((x, k) => (k === j ? STAR : x)));
  });
  return out;
}

function makeCase(fn: FunctionDef, args: readonly ArgSpec[]): CallCase {
  const context = fn.kind === 'aggregate' ? 'summarize' : fn.kind === 'plugin' ? 'evaluate' : 'project';
  const prefix = `T | ${context} ${fn.name}(`;
  const infos: ArgInfo[] = [];
  let text = prefix;
  args.forEach((a, i) => {
    if (i > 0) text += ', ';
    const { text: argText, ...info } = a;
    infos.push({ ...info, start: text.length, length: argText.length });
    text += argText;
  });
  return { query: `${text})`, fn, context, args: infos };
}

/** Functions the generated calls leave out, with the reason (they are covered by hand-written tests). */
export const NOT_GENERATED: Readonly<Record<string, string>> = {
  special: 'table/database/cluster/materialize/toscalar/... are bound by the binder (names, scopes), not by signature',
  graph: 'graph-only functions need a graph-match context',
  __invoke: 'internal (used by the parser for `invoke`)',
  __cast: 'internal',
};

export function generateCases(): CallCase[] {
  const seen = new Set<string>();
  const out: CallCase[] = [];
  const add = (fn: FunctionDef, args: readonly ArgSpec[]) => {
    const c = makeCase(fn, args);
    if (seen.has(c.query)) return;
    seen.add(c.query);
    out.push(c);
  };
  const fns = [...CATALOG.functions, ...CATALOG.aggregates, ...CATALOG.plugins].filter(
    (f) => f.kind !== 'special' && f.availability !== 'graph' && !f.name.startsWith('__'),
  );
  for (const fn of fns) {
    for (const sig of fn.signatures) {
      const min = argList(fn, sig, false);
      const full = argList(fn, sig, true);
      if (!min || !full) continue;
      add(fn, min);
      add(fn, full);
      for (const v of variants(full)) add(fn, v);
      if (min.length > 0) add(fn, min.slice(0, -1));
      add(fn, [...full, column('long')]);
    }
  }
  return out;
}
