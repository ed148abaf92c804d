/**
 * Call resolution, case by case: diagnostics (code, message, span), overload choice and return types, default
 * result names, multi-column aggregates, plugin schemas, user functions and argument scopes. The expected values
 * are Kusto's (checked against the analyzer when written; the generated agreement test covers the breadth).
 */
import { describe, expect, it } from 'vitest';
import type { Column, ScalarTypeName, Type } from '../../src/binder/types.js';
import type { ArgInfo, CallContext } from '../../src/catalog/resolve.js';
import {
  aggregateResultColumns,
  argumentScope,
  defaultResultName,
  lookupAggregate,
  lookupFunction,
  lookupPlugin,
  resolveCall,
} from '../../src/catalog/resolve.js';
import type { FunctionDef } from '../../src/catalog/types.js';
import { Codes } from '../../src/diagnostics/codes.js';

const ROW: Column[] = [
  { name: 'l', type: 'long' },
  { name: 'i', type: 'int' },
  { name: 'r', type: 'real' },
  { name: 's', type: 'string' },
  { name: 'b', type: 'bool' },
  { name: 'dt', type: 'datetime' },
  { name: 'dy', type: 'dynamic' },
];
const CTX: CallContext = { rowColumns: ROW };
const NAME_SPAN = { start: 100, length: 6 };

let pos = 0;
const base = () => ({
  isLiteral: false,
  isConstant: false,
  isColumn: false,
  isStar: false,
  isAggregate: false,
  start: pos,
  length: 1,
});
const sc = (t: ScalarTypeName): Type => ({ kind: 'scalar', name: t });

function col(name: string): ArgInfo {
  const c = ROW.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}`);
  pos += 10;
  return { ...base(), type: sc(c.type as ScalarTypeName), isColumn: true, columnName: name };
}
function lit(t: ScalarTypeName, value: unknown, extra: Partial<ArgInfo> = {}): ArgInfo {
  pos += 10;
  return { ...base(), type: sc(t), isLiteral: true, isConstant: true, constantValue: value, ...extra };
}
function expr(t: ScalarTypeName, resultName?: string): ArgInfo {
  pos += 10;
  return { ...base(), type: sc(t), ...(resultName ? { resultName } : {}) };
}
const unknownArg = (): ArgInfo => ({ ...base(), type: { kind: 'unknown' } });
const star = (): ArgInfo => ({ ...base(), type: { kind: 'tuple', columns: ROW }, isStar: true });
const table = (columns: Column[]): ArgInfo => ({ ...base(), type: { kind: 'table', columns } });

function fn(name: string): FunctionDef {
  const f = lookupFunction(name) ?? lookupAggregate(name) ?? lookupPlugin(name);
  if (!f) throw new Error(`no function ${name}`);
  return f;
}
function call(name: string, ...args: ArgInfo[]) {
  return resolveCall(fn(name), args, CTX, NAME_SPAN);
}
const typeOf = (r: { returnType: Type }) => (r.returnType.kind === 'scalar' ? r.returnType.name : r.returnType.kind);
const cols = (t: Type) => (t.kind === 'tuple' || t.kind === 'table' ? t.columns.map((c) => `${c.name}:${c.type}`) : []);

describe('argument checks', () => {
  it('reports a wrong argument type on the argument, with Kusto’s message', () => {
    const a = lit('long', 1n);
    const r = call('strlen', a);
    expect(r.diagnostics).toEqual([
      {
        code: Codes.TypeExpected.code,
        severity: 'error',
        message: 'The expression must have one of the types: string or dynamic.',
        start: a.start,
        length: a.length,
      },
    ]);
    expect(typeOf(r)).toBe('long');
  });

  it('reports argument counts on the function name', () => {
    expect(call('strlen').diagnostics).toMatchObject([
      { code: Codes.ArgumentCount.code, message: "The function 'strlen' expects 1 argument.", ...NAME_SPAN },
    ]);
    expect(call('strcat').diagnostics[0]?.message).toBe("The function 'strcat' expects between 1 and 64 arguments.");
    expect(call('substring', col('s')).diagnostics[0]?.message).toBe("The function 'substring' expects 3 arguments.");
    expect(call('case', col('b'), lit('long', 1n), col('b'), lit('long', 2n)).diagnostics[0]?.message).toBe(
      'The function call has an incorrect number of arguments.',
    );
  });

  it('reports a call no overload accepts, and types it unknown', () => {
    const r = call('bin', lit('string', 'a'), lit('string', 'b'));
    expect(r.signature).toBeNull();
    expect(r.diagnostics).toMatchObject([
      {
        code: Codes.NoMatchingSignature.code,
        message: "The function 'bin' is not compatible with arguments (string, string)",
      },
    ]);
    expect(r.returnType.kind).toBe('unknown');
  });

  it('stays silent about arguments whose type is unknown after an earlier error', () => {
    expect(call('strlen', unknownArg()).diagnostics).toEqual([]);
    expect(call('bin', unknownArg(), lit('string', 'b')).diagnostics).toEqual([]);
    expect(call('sum', unknownArg()).diagnostics).toEqual([]);
  });

  it('checks argument forms: column, constant, literal, literal values, star', () => {
    expect(call('prev', lit('long', 1n)).diagnostics[0]).toMatchObject({
      code: Codes.ColumnExpected.code,
      message: 'Column name expected.',
    });
    expect(call('round', lit('real', 1.5), col('l')).diagnostics[0]).toMatchObject({
      code: Codes.ConstantExpected.code,
      message: 'The expression must be a constant.',
    });
    const weekx = call('datetime_diff', lit('string', 'weekx'), col('dt'), col('dt'));
    expect(weekx.diagnostics[0]?.code).toBe(Codes.InvalidArgument.code);
    expect(weekx.diagnostics[0]?.message).toMatch(
      /^The expression must be one of the values: year, quarter, .* or nanosecond$/,
    );
    expect(call('datetime_diff', lit('string', 'WEEK'), col('dt'), col('dt')).diagnostics).toEqual([]);
    expect(call('strlen', star()).diagnostics[0]).toMatchObject({
      code: Codes.StarNotAllowed.code,
      message: 'The * syntax is not allowed here.',
    });
    expect(
      call('extract', lit('string', 'a'), lit('long', 1n), col('s'), lit('string', 'long')).diagnostics[0]?.message,
    ).toBe('A value of type type expected.');
  });

  it('reports summable / orderable / not-allowed types as Kusto does', () => {
    expect(call('sum', col('s')).diagnostics[0]?.message).toBe(
      'The argument value must be summable: a number, timespan or datetime.',
    );
    expect(call('min', col('dy')).diagnostics[0]?.message).toBe(
      'The argument value must be orderable: a number, timespan, datetime, string or boolean.',
    );
    expect(call('hll', col('r')).diagnostics[0]).toMatchObject({
      code: Codes.TypeNotAllowed.code,
      message: "The value of type 'real' is not allowed in this context.",
    });
  });

  it('requires a common type where the signature asks for one', () => {
    expect(call('coalesce', lit('long', 1n), lit('string', 'a')).diagnostics).toMatchObject([
      { code: Codes.NoCommonType.code, message: 'No common type can be determined from the arguments.', ...NAME_SPAN },
    ]);
    expect(typeOf(call('coalesce', lit('long', 1n), lit('real', 2)))).toBe('real');
  });

  it('distinguishes dynamic arrays from property bags when their shape is known', () => {
    const bag = lit('dynamic', {}, { dynamicShape: 'bag' });
    const array = lit('dynamic', [1], { dynamicShape: 'array' });
    expect(call('array_length', bag).diagnostics[0]?.message).toBe('The expression value must be a dynamic array.');
    expect(call('bag_keys', array).diagnostics[0]?.message).toBe('The expression must be a dynamic bag.');
    expect(call('array_length', col('dy')).diagnostics).toEqual([]);
    expect(call('pack_array', col('l')).dynamicShape).toBe('array');
    expect(call('bag_pack', lit('string', 'a'), col('l')).dynamicShape).toBe('bag');
    expect(call('make_list', col('l')).dynamicShape).toBe('array');
  });
});

describe('overloads and return types', () => {
  it('picks the widest numeric type for bin/floor and promotes int to long', () => {
    expect(typeOf(call('bin', col('l'), lit('real', 1)))).toBe('real');
    expect(typeOf(call('bin', col('i'), lit('long', 1n)))).toBe('long');
    expect(typeOf(call('bin', col('dt'), lit('timespan', 1n)))).toBe('datetime');
  });

  it('types iif/case by the common type of their branches, ignoring dynamic', () => {
    expect(typeOf(call('iif', col('b'), lit('long', 1n), lit('real', 2)))).toBe('real');
    expect(typeOf(call('iif', col('b'), col('dy'), lit('long', 1n)))).toBe('long');
  });

  it('returns the argument type for Parameter0 rules, promoted for sums', () => {
    expect(typeOf(call('sum', col('i')))).toBe('long');
    expect(typeOf(call('max', col('dt')))).toBe('datetime');
    expect(typeOf(call('avg', col('i')))).toBe('real');
    expect(typeOf(call('avg', col('dt')))).toBe('datetime');
  });

  it('accepts the hidden count(predicate) overload', () => {
    const r = call('count', col('b'));
    expect(r.diagnostics).toEqual([]);
    expect(r.signature?.isHidden).toBe(true);
  });

  it('types extract(..., typeof(T)) by the type literal', () => {
    const t = lit('long', undefined, { type: { kind: 'unknown' }, typeOf: sc('long') });
    expect(typeOf(call('extract', lit('string', 'a'), lit('long', 1n), col('s'), t))).toBe('long');
    expect(typeOf(call('extract', lit('string', 'a'), lit('long', 1n), col('s')))).toBe('string');
  });

  it('is a constant when a constant-foldable function has constant arguments', () => {
    expect(call('strlen', lit('string', 'a')).isConstant).toBe(true);
    expect(call('strlen', col('s')).isConstant).toBe(false);
    // now() is one value for the whole query, so Kusto accepts it where a constant is required; it is still
    // non-deterministic (never folded into a cached plan)
    expect(call('now').isConstant).toBe(true);
    expect(fn('now').deterministic).toBe(false);
  });

  it('maps every argument to its parameter', () => {
    const r = call('case', col('b'), lit('long', 1n), col('b'), lit('long', 2n), lit('long', 3n));
    expect(r.paramForArg.map((p) => p?.name)).toEqual(['predicate', 'then', 'predicate', 'then', 'else']);
    const extra = call('strlen', col('s'), col('s'));
    expect(extra.paramForArg.map((p) => p?.name ?? null)).toEqual(['string', null]);
  });
});

describe('default result names', () => {
  it('names aggregates and functions after their prefix and first argument', () => {
    expect(defaultResultName(fn('count'), [])).toBe('count_');
    expect(defaultResultName(fn('sum'), [col('l')])).toBe('sum_l');
    expect(defaultResultName(fn('avg'), [expr('long', 'r')])).toBe('avg_r');
    expect(defaultResultName(fn('sum'), [expr('long')])).toBe('sum_');
    expect(defaultResultName(fn('dcount'), [col('s')])).toBe('dcount_s');
    expect(defaultResultName(fn('make_list'), [col('s')])).toBe('list_s');
    expect(defaultResultName(fn('strlen'), [col('s')])).toBe('strlen_s');
    expect(defaultResultName(fn('percentile'), [col('l'), lit('long', 50n)])).toBe('percentile_l_50');
    expect(defaultResultName(fn('percentiles'), [col('l'), lit('long', 50n), lit('long', 95n)])).toBeNull();
  });

  it('keeps the argument name for conversions and bins, and none for other calls', () => {
    expect(defaultResultName(fn('tolong'), [col('r')])).toBe('r');
    expect(defaultResultName(fn('bin'), [col('dt'), lit('timespan', 1n)])).toBe('dt');
    expect(defaultResultName(fn('tolong'), [expr('long')])).toBeNull();
    expect(defaultResultName(fn('strcat'), [col('s'), col('s')])).toBeNull();
  });

  it('names column_ifexists after its column when the row has it', () => {
    expect(defaultResultName(fn('column_ifexists'), [lit('string', 's'), lit('string', '')], CTX)).toBe('s');
    expect(defaultResultName(fn('column_ifexists'), [lit('string', 'zz'), lit('string', '')], CTX)).toBeNull();
  });

  it('uses the name of a named argument', () => {
    expect(defaultResultName(fn('strlen'), [{ ...lit('string', 'a'), name: 'x' }])).toBe('strlen_x');
  });
});

describe('multi-column aggregates', () => {
  it('arg_max(x, *) returns x then the other row columns, skipping by-clause columns', () => {
    expect(
      cols({ kind: 'tuple', columns: aggregateResultColumns(fn('arg_max'), [col('l'), star()], CTX, []) ?? [] }),
    ).toEqual(ROW.map((c) => `${c.name}:${c.type}`));
    const byS = aggregateResultColumns(fn('arg_max'), [col('l'), star()], { ...CTX, byColumns: ['s'] }, []);
    expect(byS?.map((c) => c.name)).toEqual(['l', 'i', 'r', 'b', 'dt', 'dy']);
  });

  it('names computed arg_max arguments after the primary one', () => {
    const r = aggregateResultColumns(fn('arg_max'), [col('l'), expr('long')], CTX, []);
    expect(r?.map((c) => c.name)).toEqual(['l', 'max_l_arg1']);
    const computedFirst = aggregateResultColumns(fn('arg_min'), [expr('long'), col('s')], CTX, []);
    expect(computedFirst?.map((c) => c.name)).toEqual(['min_', 's']);
  });

  it('percentiles: one column per percentile, int promoted to long', () => {
    const r = aggregateResultColumns(fn('percentiles'), [col('i'), lit('long', 50n), lit('real', 95.5)], CTX, []);
    expect(r).toEqual([
      { name: 'percentile_i_50', type: 'long' },
      { name: 'percentile_i_95_5', type: 'long' },
    ]);
    expect(aggregateResultColumns(fn('percentiles_array'), [col('r'), lit('long', 50n)], CTX, [])).toEqual([
      { name: 'percentiles_r', type: 'dynamic' },
    ]);
  });

  it('take_any names unnamed expressions any_argN; the obsolete any() prefixes its columns', () => {
    expect(aggregateResultColumns(fn('take_any'), [expr('long')], CTX, [])?.map((c) => c.name)).toEqual(['any_arg0']);
    expect(aggregateResultColumns(fn('any'), [col('s'), col('l')], CTX, [])?.map((c) => c.name)).toEqual([
      'any_s',
      'any_l',
    ]);
  });

  it('given names replace the leading default names; single-value aggregates have none', () => {
    expect(aggregateResultColumns(fn('arg_max'), [col('l'), col('s')], CTX, ['a'])?.map((c) => c.name)).toEqual([
      'a',
      's',
    ]);
    expect(aggregateResultColumns(fn('sum'), [col('l')], CTX, [])).toBeNull();
  });
});

describe('tuple-valued scalar functions', () => {
  it('series_fit_line returns named columns prefixed by function and argument', () => {
    expect(cols(call('series_fit_line', col('dy')).returnType)).toEqual([
      'series_fit_line_dy_rsquare:real',
      'series_fit_line_dy_slope:real',
      'series_fit_line_dy_variance:real',
      'series_fit_line_dy_rvariance:real',
      'series_fit_line_dy_interception:real',
      'series_fit_line_dy_line_fit:dynamic',
    ]);
    expect(cols(call('series_fft', expr('dynamic')).returnType)).toEqual([
      'series_fft__real:dynamic',
      'series_fft__imag:dynamic',
    ]);
  });

  it('array_sort_asc returns one sorted column per array argument', () => {
    const r = call('array_sort_asc', col('dy'), expr('dynamic'), lit('bool', true));
    expect(r.diagnostics).toEqual([]);
    expect(cols(r.returnType)).toEqual(['dy_sorted:dynamic', 'array1_sorted:dynamic']);
  });
});

describe('plugins', () => {
  it('bag_unpack: the input without the bag column, open', () => {
    const r = call('bag_unpack', col('dy'));
    expect(r.returnType).toEqual({ kind: 'table', columns: ROW.filter((c) => c.name !== 'dy'), open: true });
  });

  it('pivot: the input without the pivot and aggregated columns, open', () => {
    const agg: ArgInfo = { ...expr('long'), isAggregate: true, innerColumnName: 'l' };
    const r = call('pivot', col('s'), agg);
    expect(r.returnType).toEqual({
      kind: 'table',
      columns: ROW.filter((c) => c.name !== 's' && c.name !== 'l'),
      open: true,
    });
  });

  it('ipv4_lookup: input columns then lookup columns, made unique', () => {
    const lookup = table([
      { name: 'net', type: 'string' },
      { name: 's', type: 'string' },
      { name: 'loc', type: 'string' },
    ]);
    const r = call('ipv4_lookup', lookup, col('s'), { ...col('s'), columnName: 'net' });
    expect(r.diagnostics).toEqual([]);
    expect(cols(r.returnType).slice(ROW.length)).toEqual(['net:string', 's1:string', 'loc:string']);
  });

  it('python/r take their output schema from typeof(...)', () => {
    const schema: ArgInfo = {
      ...lit('long', undefined),
      type: { kind: 'unknown' },
      typeOf: { kind: 'table', columns: [{ name: 'a', type: 'long' }] },
    };
    expect(call('python', schema, lit('string', 'x')).returnType).toEqual({
      kind: 'table',
      columns: [{ name: 'a', type: 'long' }],
    });
  });

  it('plugins with a declared schema and rolling_percentile', () => {
    expect(cols(call('narrow').returnType)).toEqual(['Row:long', 'Column:string', 'Value:string']);
    const r = call(
      'rolling_percentile',
      col('l'),
      lit('long', 50n),
      col('dt'),
      lit('timespan', 1n),
      lit('long', 7n),
      col('s'),
    );
    expect(cols(r.returnType)).toEqual(['dt:datetime', 's:string', 'rolling_7_percentile_l_50:long']);
  });

  it('tells the binder which arguments are bound in another scope', () => {
    expect(argumentScope(fn('pivot'), 1)).toBe('aggregate');
    expect(argumentScope(fn('pivot'), 2)).toBe('normal');
    expect(argumentScope(fn('ipv4_lookup'), 2)).toBe('parameter0');
    expect(argumentScope(fn('ipv4_lookup'), 3)).toBe('parameter0-common');
    expect(argumentScope(fn('strlen'), 0)).toBe('normal');
  });
});

describe('user-defined functions', () => {
  const userFn: FunctionDef = {
    name: 'f',
    kind: 'scalar',
    isUserDefined: true,
    resultNameKind: 'None',
    deterministic: true,
    signatures: [
      {
        returnKind: 'Computed',
        body: '{ x + strlen(y) }',
        tabularity: 'Scalar',
        params: [
          {
            name: 'x',
            typeKind: 'Declared',
            types: ['long'],
            argumentKind: 'Expression',
            minOccurring: 1,
            maxOccurring: 1,
          },
          {
            name: 'y',
            typeKind: 'Declared',
            types: ['string'],
            argumentKind: 'Expression',
            minOccurring: 0,
            maxOccurring: 1,
          },
        ],
      },
    ],
  };
  const named = (a: ArgInfo, name: string): ArgInfo => ({
    ...a,
    name,
    nameStart: a.start - 4,
    nameLength: name.length,
  });

  it('accepts named arguments in any order and coerces compatible scalars', () => {
    const r = resolveCall(userFn, [named(col('s'), 'y'), named(col('l'), 'x')], CTX, NAME_SPAN);
    expect(r.diagnostics).toEqual([]);
    expect(r.paramForArg.map((p) => p?.name)).toEqual(['y', 'x']);
    expect(resolveCall(userFn, [col('r')], CTX, NAME_SPAN).diagnostics).toEqual([]);
    // the body is bound by the binder: the resolver leaves the type unknown
    expect(resolveCall(userFn, [col('l')], CTX, NAME_SPAN).returnType.kind).toBe('unknown');
  });

  it('reports unknown argument names and missing arguments', () => {
    const bad = named(col('l'), 'z');
    expect(resolveCall(userFn, [bad], CTX, NAME_SPAN).diagnostics).toMatchObject([
      {
        code: Codes.UnknownNamedArgument.code,
        message: 'The argument name does not refer to a declared parameter.',
        start: bad.nameStart,
      },
    ]);
    expect(resolveCall(userFn, [named(col('s'), 'y')], CTX, NAME_SPAN).diagnostics).toMatchObject([
      { code: Codes.ArgumentCount.code, message: "Missing argument for parameter 'x'." },
    ]);
  });

  it('built-in functions take named arguments positionally', () => {
    expect(call('strlen', { ...lit('string', 'a'), name: 'x' }).diagnostics).toEqual([]);
  });
});
