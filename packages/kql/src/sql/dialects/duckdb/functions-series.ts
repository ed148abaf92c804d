/**
 * KQL series functions in DuckDB (see functions.ts for the conventions: arguments arrive compiled with their KQL
 * types; string results are never null; failed conversions give null).
 *
 * A series is a dynamic (JSON) array. Numeric work happens on a `DOUBLE[]` view of it (`nums()`: null for anything
 * that is not a number) with DuckDB's list lambdas; results are JSON arrays of reals (NaN and ±∞ as strings, since
 * JSON has no such numbers). Kusto keeps element types where it documents it: `series_fill_*` return the original
 * elements, `series_add/subtract/multiply` of two longs give a long, `series_fill_linear` of an all-integer series
 * truncates to longs.
 *
 * Computations with several dependent steps (decomposition, period detection, two-line fits) are written as a chain
 * of CTEs inside one scalar subquery (`chain()`): each step is flat SQL over the previous step's columns. (DuckDB
 * binds deeply nested lambda bodies in exponential time, so nesting lambdas is avoided.)
 *
 * Multi-valued functions (series_stats, series_fit_line, series_decompose, ...) return a STRUCT of their tuple
 * columns in order when the call's type is the tuple (`unknown`); with a scalar result type (a tuple used as one
 * value) they return the first column, as Kusto does. See functions-dynamic.ts (`__tuple_element`).
 *
 * Exactness: element-wise arithmetic, fills, FIR/IIR filters, statistics, line fits, seasonal medians and the
 * decomposition steps follow the documented formulas. Kusto does not document how series_periods_detect scores a
 * period nor the exact scaling of series_outliers scores: here a period's score is the (unbiased) autocorrelation
 * at that lag, and an outlier's score is its distance beyond the percentile range divided by that range (so 1.5
 * is Tukey's fence); results of those two (and of autodetected seasonality) can differ from Kusto's.
 */
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import { arg } from './base.js';
import {
  bind,
  bindAll,
  doubleJson,
  dyn,
  elems,
  isNumberJson,
  Names,
  NUMERIC_JSON,
  objectFromEntries,
  toArray,
  tupleSafe,
} from './functions-dynamic.js';

const INTEGER_JSON = `('BIGINT', 'UBIGINT')`;

function texts(args: readonly SqlArg[]): string[] {
  return args.map((a) => a.sql);
}

/** The numeric view of a series: `DOUBLE[]` (null for non-numbers); null when the value is not an array. */
function nums(x: string, names: Names): string {
  const e = names.fresh();
  return `list_transform(${elems(x)}, ${e} -> CASE WHEN json_type(${e}) IN ${NUMERIC_JSON} THEN CAST(${e} AS DOUBLE) END)`;
}

/** A numeric argument: a series (its numeric view) or a scalar. */
function numsOf(a: SqlArg, names: Names): string {
  return nums(dyn(a), names);
}

/** A `DOUBLE[]` as a JSON array of reals. */
function reals(list: string, names: Names): string {
  const v = names.fresh();
  return toArray(`list_transform(${list}, ${v} -> ${doubleJson(v)})`);
}

/** A scalar numeric argument as DOUBLE (dynamic scalars are read as numbers). */
function scalarNum(a: SqlArg): string {
  if (a.type === 'dynamic')
    return `(CASE WHEN json_type(${a.sql}) IN ${NUMERIC_JSON} THEN CAST(${a.sql} AS DOUBLE) END)`;
  if (a.type === 'timespan' || a.type === 'datetime') return 'CAST(NULL AS DOUBLE)';
  return `CAST(${a.sql} AS DOUBLE)`;
}

/**
 * A chain of CTEs in one scalar subquery: `first` holds the arguments (the only place outer columns appear), each
 * step adds columns computed from earlier ones; `result` is selected from the last step. Column names are `__s_*`.
 */
function chain(first: readonly [string, string][], steps: readonly [string, string][], result: string): string {
  const ctes = [`__k0 AS (SELECT ${first.map(([n, e]) => `${e} AS ${n}`).join(', ')})`];
  steps.forEach(([n, e], i) => {
    ctes.push(`__k${i + 1} AS (SELECT *, ${e} AS ${n} FROM __k${i})`);
  });
  return `(WITH ${ctes.join(', ')} SELECT ${result} FROM __k${steps.length})`;
}

/**
 * The same as `chain()` but with one lambda level per step (cheaper than a correlated subquery for short chains;
 * DuckDB binds deeply nested lambda bodies slowly, so keep it to a few steps). Each step's name becomes a lambda
 * parameter. Arguments holding a subquery cannot sit inside a lambda body: then the CTE chain is used.
 */
function lets(first: readonly [string, string][], steps: readonly [string, string][], result: string): string {
  if (first.slice(1).some(([, e]) => /\bSELECT\b/i.test(e))) return chain(first, steps, result);
  let body = result;
  const all = [...first, ...steps];
  for (let i = all.length - 1; i >= 0; i--) {
    const [n, e] = all[i] as [string, string];
    body = `list_transform([${e}], ${n} -> ${body})[1]`;
  }
  return body;
}

/** A multi-valued result: a STRUCT of the tuple's columns, or the first column when used as a scalar. */
function tuple(fields: readonly [string, string][], ctx: TemplateContext): string {
  if (ctx.resultType !== 'unknown') return fields[0]?.[1] ?? 'NULL';
  return `{${fields.map(([n, e]) => `'${n}': ${e}`).join(', ')}}`;
}

function optionalBool(a: SqlArg | undefined, fallback: string): string {
  return a ? `COALESCE(${a.sql}, ${fallback})` : fallback;
}

// ───────────────────────────── element-wise ─────────────────────────────

/** One operand of an element-wise operation: element i (1-based SQL) as a number, and as an integer when it is one. */
interface Operand {
  readonly num: (i: string) => string;
  readonly int: (i: string) => string;
  /** The series length, or null for a scalar operand. */
  readonly len: string | null;
  readonly isNull: string;
}

function operand(a: SqlArg, bound: string): Operand {
  if (a.type === 'dynamic') {
    const at = (i: string) => `${bound}[${i}]`;
    return {
      num: (i) => `(CASE WHEN json_type(${at(i)}) IN ${NUMERIC_JSON} THEN CAST(${at(i)} AS DOUBLE) END)`,
      int: (i) => `(CASE WHEN json_type(${at(i)}) IN ${INTEGER_JSON} THEN CAST(${at(i)} AS HUGEINT) END)`,
      len: `len(${bound})`,
      isNull: `${bound} IS NULL`,
    };
  }
  const isInt = a.type === 'long' || a.type === 'int';
  return {
    num: () => `CAST(${bound} AS DOUBLE)`,
    int: () => (isInt ? `CAST(${bound} AS HUGEINT)` : 'CAST(NULL AS HUGEINT)'),
    len: null,
    isNull: 'false',
  };
}

type Combine = (a: Operand, b: Operand, i: string) => string;

/** `series_<op>(s1, s2)`: element-wise over the longer series (a scalar operand applies to every element). */
function elementWise(combine: Combine): Template {
  return (args, ctx) => {
    const names = new Names(...texts(args));
    const a = arg(args, 0, ctx);
    const b = arg(args, 1, ctx);
    if (a.type !== 'dynamic' && b.type !== 'dynamic') return ctx.unsupported('a series function without a series');
    const value = (x: SqlArg) => (x.type === 'dynamic' ? elems(x.sql) : x.sql);
    return bindAll(names, [value(a), value(b)], ([la, lb]) => {
      const oa = operand(a, la);
      const ob = operand(b, lb);
      const lens = [oa.len, ob.len].filter((l): l is string => l !== null);
      const n = lens.length === 1 ? lens[0] : `greatest(${lens.join(', ')})`;
      const i = names.fresh();
      return `(CASE WHEN ${oa.isNull} OR ${ob.isNull} THEN NULL ELSE ${toArray(`list_transform(range(1, ${n} + 1), ${i} -> ${combine(oa, ob, i)})`)} END)`;
    });
  };
}

/** + - *: longs stay longs (a result outside the long range gives null), anything else is a real. */
function arithmetic(op: '+' | '-' | '*'): Template {
  return elementWise(
    (a, b, i) =>
      `(CASE WHEN ${a.int(i)} IS NOT NULL AND ${b.int(i)} IS NOT NULL THEN to_json(TRY_CAST(${a.int(i)} ${op} ${b.int(i)} AS BIGINT)) ELSE ${doubleJson(`(${a.num(i)} ${op} ${b.num(i)})`)} END)`,
  );
}

function realBinary(f: (x: string, y: string) => string): Template {
  return elementWise((a, b, i) => doubleJson(f(a.num(i), b.num(i))));
}

function comparison(op: string): Template {
  return elementWise((a, b, i) => `to_json(${a.num(i)} ${op} ${b.num(i)})`);
}

/** Unary math on every element; results are reals, with .NET's NaN/∞ where DuckDB would raise an error. */
function unary(f: (v: string) => string): Template {
  return (args, ctx) => {
    const names = new Names(...texts(args));
    return bind(names, numsOf(arg(args, 0, ctx), names), (l) => {
      const v = names.fresh();
      return toArray(`list_transform(${l}, ${v} -> ${doubleJson(f(v))})`);
    });
  };
}

const NAN = `'NaN'::DOUBLE`;
const logOf = (fn: string) => (v: string) =>
  `(CASE WHEN ${v} > 0 THEN ${fn}(${v}) WHEN ${v} = 0 THEN '-Infinity'::DOUBLE WHEN ${v} < 0 THEN ${NAN} ELSE ${v} END)`;
const inUnit = (fn: string) => (v: string) =>
  `(CASE WHEN ${v} BETWEEN -1 AND 1 THEN ${fn}(${v}) WHEN isnan(${v}) OR ${v} IS NOT NULL THEN ${NAN} END)`;

// ───────────────────────────── fills ─────────────────────────────

/** SQL of the missing-value placeholder (a DOUBLE), or null when missing means null (the default). */
function placeholderOf(a: SqlArg | undefined): string | null {
  if (!a || a.literal?.value === null) return null;
  return scalarNum(a);
}

/** Is a JSON element missing: null, or equal to the placeholder when one is given. */
function missing(e: string, placeholder: string | null): string {
  const isNull = `(${e} IS NULL OR json_type(${e}) = 'NULL')`;
  if (placeholder === null) return isNull;
  return `(${isNull} OR (${isNumberJson(e)} AND CAST(${e} AS DOUBLE) = ${placeholder}))`;
}

/** Forward fill of a JSON[] list (the leading missing elements stay as they are). */
function forwardFill(list: string, isMissing: (e: string) => string, names: Names): string {
  const e = names.fresh();
  const acc = names.fresh();
  const xs = names.fresh();
  return `list_reduce(list_transform(${list}, ${e} -> [${e}]), (${acc}, ${xs}) -> list_append(${acc}, CASE WHEN ${isMissing(`${xs}[1]`)} AND len(${acc}) > 0 THEN ${acc}[-1] ELSE ${xs}[1] END), []::JSON[])`;
}

const fillConst: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const value = dyn(arg(args, 1, ctx));
  return bindAll(names, [elems(dyn(arg(args, 0, ctx))), value], ([l, v]) => {
    const e = names.fresh();
    return toArray(
      `list_transform(${l}, ${e} -> CASE WHEN ${missing(e, placeholderOf(args[2]))} THEN ${v} ELSE ${e} END)`,
    );
  });
};

const fillForward: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  return bind(names, elems(dyn(arg(args, 0, ctx))), (l) =>
    toArray(forwardFill(l, (e) => missing(e, placeholderOf(args[1])), names)),
  );
};

const fillBackward: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  return bind(names, elems(dyn(arg(args, 0, ctx))), (l) =>
    toArray(`list_reverse(${forwardFill(`list_reverse(${l})`, (e) => missing(e, placeholderOf(args[1])), names)})`),
  );
};

/**
 * `series_fill_linear(series [, placeholder [, fill_edges [, constant]]])`: linear interpolation between the nearest
 * present neighbours (truncated to longs when every present element is an integer), edges take the nearest value,
 * an all-missing series becomes the constant (0.0 by default).
 */
const fillLinear: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const edges = optionalBool(args[2], 'true');
  const constant = args[3] ? dyn(args[3]) : `'0.0'::JSON`;
  const e = names.fresh();
  const i = names.fresh();
  const acc = names.fresh();
  const xs = names.fresh();
  const ph = placeholderOf(args[1]);
  const isMissing = (x: string) => missing(x, ph === null ? null : '__ph');
  // Position of the nearest present element at or before / at or after each index (1-based, null if none).
  const nearest = (order: string) =>
    `list_reduce(list_transform(${order}, ${i} -> [CASE WHEN NOT ${isMissing(`__L[${i}]`)} THEN ${i} END]), (${acc}, ${xs}) -> list_append(${acc}, COALESCE(${xs}[1], ${acc}[-1])), []::BIGINT[])`;
  const first: [string, string][] = [
    ['__L', elems(dyn(arg(args, 0, ctx)))],
    ['__edges', edges],
    ['__const', constant],
    ['__ph', ph ?? 'CAST(NULL AS DOUBLE)'],
  ];
  const steps: [string, string][] = [
    ['__n', 'len(__L)'],
    ['__prev', nearest('range(1, len(__L) + 1)')],
    ['__next', `list_reverse(${nearest('range(len(__L), 0, -1)')})`],
    [
      '__ints',
      `COALESCE(list_bool_and(list_transform(list_filter(__L, ${e} -> NOT ${isMissing(e)}), ${e} -> json_type(${e}) IN ${INTEGER_JSON})), false)`,
    ],
    ['__present', `len(list_filter(__L, ${e} -> NOT ${isMissing(e)}))`],
  ];
  const p = `__prev[${i}]`;
  const q = `__next[${i}]`;
  const interp = `(CAST(__L[${p}] AS DOUBLE) + (CAST(__L[${q}] AS DOUBLE) - CAST(__L[${p}] AS DOUBLE)) * (${i} - ${p}) / (${q} - ${p}))`;
  const filled = `CASE WHEN NOT ${isMissing(`__L[${i}]`)} THEN __L[${i}] WHEN ${p} IS NOT NULL AND ${q} IS NOT NULL THEN (CASE WHEN __ints THEN to_json(CAST(trunc(${interp}) AS BIGINT)) ELSE ${doubleJson(interp)} END) WHEN __edges THEN __L[COALESCE(${p}, ${q})] ELSE __L[${i}] END`;
  const result = `CASE WHEN __L IS NULL THEN NULL WHEN __present = 0 THEN ${toArray(`list_transform(__L, ${e} -> COALESCE(__const, ${e}))`)} ELSE ${toArray(`list_transform(range(1, __n + 1), ${i} -> ${filled})`)} END`;
  return chain(first, steps, result);
};

// ───────────────────────────── filters ─────────────────────────────

/** `series_fir(series, filter [, normalize [, center]])`: y[i] = Σ f[j]·x[i-j] (out-of-range and null x count as 0). */
const fir: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const i = names.fresh();
  const j = names.fresh();
  const v = names.fresh();
  const neg = `COALESCE(list_bool_or(list_transform(__f, ${v} -> ${v} < 0)), false)`;
  const norm = args[2] ? `COALESCE(${args[2].sql}, NOT ${neg})` : `(NOT ${neg})`;
  const shift = `(CASE WHEN ${optionalBool(args[3], 'false')} THEN (len(__f) - 1) // 2 ELSE 0 END)`;
  const first: [string, string][] = [
    ['__x', numsOf(arg(args, 0, ctx), names)],
    ['__f', numsOf(arg(args, 1, ctx), names)],
  ];
  const steps: [string, string][] = [
    ['__opt', `{'norm': ${norm}, 'neg': ${neg}, 'shift': ${shift}, 'sum': list_sum(__f)}`],
  ];
  const at = `${i} - ${j} + __opt.shift`;
  const y = `COALESCE(list_sum(list_transform(range(len(__f)), ${j} -> CASE WHEN ${at} >= 0 AND ${at} < len(__x) THEN __f[${j} + 1] * __x[${at} + 1] END)), 0)`;
  const result = `CASE WHEN __x IS NULL OR __f IS NULL OR (__opt.norm AND __opt.neg) THEN NULL ELSE ${reals(`list_transform(range(len(__x)), ${i} -> CASE WHEN __opt.norm THEN ${y} / __opt.sum ELSE ${y} END)`, names)} END`;
  return lets(first, steps, result);
};

/** `series_iir(series, numerators b, denominators a)`: y[i] = (Σ b[j]·x[i-j] − Σ_{j≥1} a[j]·y[i-j]) / a[0]. */
const iir: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const acc = names.fresh();
  const xs = names.fresh();
  const j = names.fresh();
  const e = names.fresh();
  const k = `(len(${acc}) + 1)`;
  const feed = `COALESCE(list_sum(list_transform(range(len(__b)), ${j} -> CASE WHEN ${k} - ${j} >= 1 THEN __b[${j} + 1] * COALESCE(__x[${k} - ${j}], 0) END)), 0)`;
  const back = `COALESCE(list_sum(list_transform(range(1, len(__a)), ${j} -> CASE WHEN ${k} - ${j} >= 1 THEN __a[${j} + 1] * ${acc}[${k} - ${j}] END)), 0)`;
  const first: [string, string][] = [
    ['__x', numsOf(arg(args, 0, ctx), names)],
    ['__b', numsOf(arg(args, 1, ctx), names)],
    ['__a', numsOf(arg(args, 2, ctx), names)],
  ];
  const y = `list_reduce(list_transform(__x, ${e} -> [${e}]), (${acc}, ${xs}) -> list_append(${acc}, (${feed} - ${back}) / __a[1]), []::DOUBLE[])`;
  return lets(
    first,
    [],
    `CASE WHEN __x IS NULL OR __a IS NULL OR __b IS NULL OR len(__a) = 0 THEN NULL ELSE ${reals(y, names)} END`,
  );
};

// ───────────────────────────── statistics ─────────────────────────────

/** Steps computing min/max/avg/stdev/variance of __v (non-finite values give nulls unless ignored) in `__agg`. */
function statsSteps(ignoreNonFinite: string, names: Names): [string, string][] {
  const v = names.fresh();
  const bad = `COALESCE(list_bool_or(list_transform(__v, ${v} -> ${v} IS NULL OR NOT isfinite(${v}))), false)`;
  return [
    ['__ok', `CASE WHEN ${bad} AND NOT ${ignoreNonFinite} THEN NULL ELSE list_filter(__v, ${v} -> isfinite(${v})) END`],
    [
      '__agg',
      `{'min': list_min(__ok), 'max': list_max(__ok), 'avg': list_avg(__ok), 'var': CASE WHEN len(__ok) = 1 THEN 0.0 ELSE list_var_samp(__ok) END}`,
    ],
  ];
}

const STATS_RESULT: [string, string][] = [
  ['min', '__agg.min'],
  ['min_idx', 'CAST(CASE WHEN __agg.min IS NOT NULL THEN list_position(__v, __agg.min) - 1 END AS BIGINT)'],
  ['max', '__agg.max'],
  ['max_idx', 'CAST(CASE WHEN __agg.max IS NOT NULL THEN list_position(__v, __agg.max) - 1 END AS BIGINT)'],
  ['avg', '__agg.avg'],
  ['stdev', 'sqrt(__agg.var)'],
  ['variance', '__agg.var'],
];

const seriesStats: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const first: [string, string][] = [['__v', numsOf(arg(args, 0, ctx), names)]];
  return lets(first, statsSteps(optionalBool(args[1], 'false'), names), tuple(STATS_RESULT, ctx));
};

const seriesStatsDynamic: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const first: [string, string][] = [['__v', numsOf(arg(args, 0, ctx), names)]];
  const fields: [string, string][] = [
    ...STATS_RESULT.map(([k, e]): [string, string] => [k, k.endsWith('_idx') ? `to_json(${e})` : doubleJson(e)]),
    ['sum', doubleJson('COALESCE(list_sum(__ok), 0.0)')],
    ['len', 'to_json(CAST(len(__v) AS BIGINT))'],
  ];
  const entries = `[${fields.map(([k, e]) => `{'key': '${k}', 'value': ${e}}`).join(', ')}]`;
  return lets(
    first,
    statsSteps(optionalBool(args[1], 'false'), names),
    `CASE WHEN __v IS NULL THEN NULL ELSE ${objectFromEntries(entries, names)} END`,
  );
};

/** Σ over the numeric elements (nulls skipped). */
function reduceNums(f: (l: string, names: Names) => string): Template {
  return (args, ctx) => {
    const names = new Names(...texts(args));
    return bind(names, numsOf(arg(args, 0, ctx), names), (l) => f(l, names));
  };
}

/** Two series (or a series and a scalar) as aligned DOUBLE pairs over the longer length. */
function pairwise(
  args: readonly SqlArg[],
  ctx: TemplateContext,
  body: (a: (i: string) => string, b: (i: string) => string, n: string, names: Names) => string,
): string {
  const names = new Names(...texts(args));
  const a = arg(args, 0, ctx);
  const b = arg(args, 1, ctx);
  const value = (x: SqlArg) => (x.type === 'dynamic' ? numsOf(x, names) : scalarNum(x));
  return bindAll(names, [value(a), value(b)], ([la, lb]) => {
    const at = (x: SqlArg, l: string) => (i: string) => (x.type === 'dynamic' ? `${l}[${i}]` : l);
    const lens = [a.type === 'dynamic' ? `len(${la})` : null, b.type === 'dynamic' ? `len(${lb})` : null].filter(
      (s): s is string => s !== null,
    );
    const n = lens.length === 0 ? '1' : lens.length === 1 ? (lens[0] as string) : `greatest(${lens.join(', ')})`;
    return body(at(a, la), at(b, lb), n, names);
  });
}

const dotProduct: Template = (args, ctx) =>
  pairwise(args, ctx, (a, b, n, names) => {
    const i = names.fresh();
    return `COALESCE(list_sum(list_transform(range(1, ${n} + 1), ${i} -> ${a(i)} * ${b(i)})), 0.0)`;
  });

const cosineSimilarity: Template = (args, ctx) =>
  pairwise(args, ctx, (a, b, n, names) => {
    const i = names.fresh();
    const sum = (e: string) => `COALESCE(list_sum(list_transform(range(1, ${n} + 1), ${i} -> ${e})), 0.0)`;
    const ma = args[2] ? `CAST(${args[2].sql} AS DOUBLE)` : `sqrt(${sum(`${a(i)} * ${a(i)}`)})`;
    const mb = args[3] ? `CAST(${args[3].sql} AS DOUBLE)` : `sqrt(${sum(`${b(i)} * ${b(i)}`)})`;
    return `(${sum(`${a(i)} * ${b(i)}`)} / (${ma} * ${mb}))`;
  });

const pearson: Template = (args, ctx) =>
  pairwise(args, ctx, (a, b, n, names) => {
    const i = names.fresh();
    const pts = `list_filter(list_transform(range(1, ${n} + 1), ${i} -> {'x': ${a(i)}, 'y': ${b(i)}}), ${i} -> ${i}.x IS NOT NULL AND ${i}.y IS NOT NULL)`;
    return bind(names, pts, (p) => {
      const e = names.fresh();
      return bindAll(
        names,
        [`list_avg(list_transform(${p}, ${e} -> ${e}.x))`, `list_avg(list_transform(${p}, ${e} -> ${e}.y))`],
        ([mx, my]) => {
          const s = (f: string) => `list_sum(list_transform(${p}, ${e} -> ${f}))`;
          return `(${s(`(${e}.x - ${mx}) * (${e}.y - ${my})`)} / sqrt(${s(`(${e}.x - ${mx}) * (${e}.x - ${mx})`)} * ${s(`(${e}.y - ${my}) * (${e}.y - ${my})`)}))`;
        },
      );
    });
  });

// ───────────────────────────── regression ─────────────────────────────

/**
 * Least-squares line through the points (x = 1-based index + offset) of a DOUBLE[] segment, nulls skipped: a
 * STRUCT {n, slope, interception, ssyy, rss}.
 */
function lineFitStruct(list: string, offset: string, names: Names): string {
  const e = names.fresh();
  const i = names.fresh();
  const pts = `list_filter(list_transform(${list}, (${e}, ${i}) -> {'x': CAST(${i} + ${offset} AS DOUBLE), 'y': ${e}}), ${e} -> ${e}.y IS NOT NULL)`;
  return bind(names, pts, (p) => {
    const q = names.fresh();
    const mean = (f: string) => `list_avg(list_transform(${p}, ${q} -> ${q}.${f}))`;
    return bindAll(names, [mean('x'), mean('y')], ([mx, my]) => {
      const sum = (f: string) => `COALESCE(list_sum(list_transform(${p}, ${q} -> ${f})), 0.0)`;
      const sxy = sum(`(${q}.x - ${mx}) * (${q}.y - ${my})`);
      const sxx = sum(`(${q}.x - ${mx}) * (${q}.x - ${mx})`);
      return bindAll(names, [`(${sxy} / ${sxx})`], ([slope]) => {
        const b = `(${my} - ${slope} * ${mx})`;
        return `{'n': len(${p}), 'slope': ${slope}, 'interception': ${b}, 'ssyy': ${sum(`(${q}.y - ${my}) * (${q}.y - ${my})`)}, 'rss': ${sum(`(${q}.y - (${slope} * ${q}.x + ${b})) * (${q}.y - (${slope} * ${q}.x + ${b}))`)}}`;
      });
    });
  });
}

/** The fitted values slope·x + b for x = 1..n. */
function fittedLine(fit: string, n: string, names: Names, offset = '0'): string {
  const i = names.fresh();
  return `list_transform(range(1, ${n} + 1), ${i} -> ${fit}.slope * (${i} + ${offset}) + ${fit}.interception)`;
}

const FIT_LINE_FIELDS = ['rsquare', 'slope', 'variance', 'rvariance', 'interception', 'line_fit'] as const;

function fitLineSteps(names: Names): [string, string][] {
  return [
    ['__fit', lineFitStruct('__v', '0', names)],
    ['__line', fittedLine('__fit', 'len(__v)', names)],
  ];
}

function fitLineValues(names: Names): Record<(typeof FIT_LINE_FIELDS)[number], string> {
  return {
    rsquare: '(1 - __fit.rss / __fit.ssyy)',
    slope: '__fit.slope',
    variance: '(__fit.ssyy / (__fit.n - 1))',
    rvariance: '(__fit.rss / (__fit.n - 1))',
    interception: '__fit.interception',
    line_fit: reals('__line', names),
  };
}

const fitLine: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const first: [string, string][] = [['__v', numsOf(arg(args, 0, ctx), names)]];
  const values = fitLineValues(names);
  return lets(
    first,
    fitLineSteps(names),
    tuple(
      FIT_LINE_FIELDS.map((f) => [f, values[f]]),
      ctx,
    ),
  );
};

const fitLineDynamic: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const first: [string, string][] = [['__v', numsOf(arg(args, 0, ctx), names)]];
  const values = fitLineValues(names);
  const entries = `[${FIT_LINE_FIELDS.map((f) => `{'key': '${f}', 'value': ${f === 'line_fit' ? values[f] : doubleJson(values[f])}}`).join(', ')}]`;
  return chain(
    first,
    fitLineSteps(names),
    `CASE WHEN __v IS NULL THEN NULL ELSE ${objectFromEntries(entries, names)} END`,
  );
};

/**
 * `series_fit_poly(y [, x [, degree]])`: least squares through the normal equations (power sums), solved by
 * Gauss–Jordan elimination with partial pivoting in a `list_reduce` over the pivot columns. x defaults to 1..n;
 * coefficients are listed from the highest power down, as Kusto documents.
 */
const fitPoly: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const y = arg(args, 0, ctx);
  const x = args[1] && args[1].type === 'dynamic' ? args[1] : undefined;
  const degreeArg = args[1] && args[1].type !== 'dynamic' ? args[1] : args[2];
  const degree = degreeArg ? `CAST(${degreeArg.sql} AS BIGINT)` : '1';
  const i = names.fresh();
  const j = names.fresh();
  const q = names.fresh();
  const acc = names.fresh();
  const el = names.fresh();
  const m = '(__d + 1)';
  // One elimination step on matrix A (m rows of m+1 columns) for pivot column k.
  const step = (a: string, k: string) => {
    const piv = names.fresh();
    const s = names.fresh();
    const r = names.fresh();
    const col = names.fresh();
    const row = names.fresh();
    const absCol = `list_transform(range(${k}, ${m}), ${piv} -> abs(${a}[${piv} + 1][${k} + 1]))`;
    const p = `(${k} + list_position(${absCol}, list_max(${absCol})) - 1)`;
    const swapped = `list_transform(range(${m}), ${row} -> CASE WHEN ${row} = ${k} THEN ${a}[${p} + 1] WHEN ${row} = ${p} THEN ${a}[${k} + 1] ELSE ${a}[${row} + 1] END)`;
    const normalized = `list_transform(${s}[${k} + 1], ${col} -> ${col} / ${s}[${k} + 1][${k} + 1])`;
    const eliminate = `list_transform(range(${m}), ${row} -> CASE WHEN ${row} = ${k} THEN ${r} ELSE list_transform(range(${m} + 1), ${col} -> ${s}[${row} + 1][${col} + 1] - ${s}[${row} + 1][${k} + 1] * ${r}[${col} + 1]) END)`;
    return `list_transform([${swapped}], ${s} -> list_transform([${normalized}], ${r} -> ${eliminate})[1])[1]`;
  };
  const first: [string, string][] = [
    ['__y', numsOf(y, names)],
    ['__xs', x ? numsOf(x, names) : 'NULL::DOUBLE[]'],
    ['__d', `greatest(${degree}, 0)`],
  ];
  const power = (base: string, e: string) => `pow(${base}, ${e})`;
  const steps: [string, string][] = [
    ['__x', `COALESCE(__xs, list_transform(range(1, len(__y) + 1), ${i} -> CAST(${i} AS DOUBLE)))`],
    [
      '__pts',
      `list_filter(list_transform(range(1, len(__y) + 1), ${i} -> {'x': __x[${i}], 'y': __y[${i}]}), ${i} -> ${i}.x IS NOT NULL AND ${i}.y IS NOT NULL)`,
    ],
    [
      '__sx',
      `list_transform(range(2 * __d + 1), ${j} -> list_sum(list_transform(__pts, ${q} -> ${power(`${q}.x`, j)})))`,
    ],
    [
      '__sxy',
      `list_transform(range(__d + 1), ${j} -> list_sum(list_transform(__pts, ${q} -> ${power(`${q}.x`, j)} * ${q}.y)))`,
    ],
    [
      '__solved',
      `list_reduce(list_transform(range(${m}), ${i} -> [[CAST(${i} AS DOUBLE)]]), (${acc}, ${el}) -> ${step(acc, `CAST(${el}[1][1] AS BIGINT)`)}, list_transform(range(${m}), ${i} -> list_append(list_transform(range(${m}), ${j} -> __sx[${i} + ${j} + 1]), __sxy[${i} + 1])))`,
    ],
    ['__c', `list_transform(range(${m}), ${i} -> __solved[${i} + 1][${m} + 1])`],
    [
      '__fit',
      `list_transform(__x, ${q} -> list_sum(list_transform(range(${m}), ${j} -> __c[${j} + 1] * ${power(q, j)})))`,
    ],
    ['__my', `list_avg(list_transform(__pts, ${q} -> ${q}.y))`],
    ['__ssyy', `list_sum(list_transform(__pts, ${q} -> (${q}.y - __my) * (${q}.y - __my)))`],
    [
      '__rss',
      `list_sum(list_transform(range(1, len(__y) + 1), ${i} -> CASE WHEN __y[${i}] IS NOT NULL AND __x[${i}] IS NOT NULL THEN (__y[${i}] - __fit[${i}]) * (__y[${i}] - __fit[${i}]) END))`,
    ],
  ];
  const n = 'len(__pts)';
  return chain(
    first,
    steps,
    `CASE WHEN __y IS NULL THEN NULL ELSE ${tuple(
      [
        ['rsquare', '(1 - __rss / __ssyy)'],
        ['coefficients', reals('list_reverse(__c)', names)],
        ['variance', `(__ssyy / (${n} - 1))`],
        ['rvariance', `(__rss / (${n} - 1))`],
        ['poly_fit', reals('__fit', names)],
      ],
      ctx,
    )} END`,
  );
};

const FIT_2LINES_FIELDS = [
  'rsquare',
  'split_idx',
  'variance',
  'rvariance',
  'line_fit',
  'right_rsquare',
  'right_slope',
  'right_interception',
  'right_variance',
  'right_rvariance',
  'left_rsquare',
  'left_slope',
  'left_interception',
  'left_variance',
  'left_rvariance',
] as const;

/**
 * Two-segment regression: every split k (each side at least 2 points; the right segment starts at index k) is fitted
 * with one line per side (x = global 1-based index); the split with the highest total r-square wins.
 */
function fit2LinesSteps(names: Names): [string, string][] {
  const k = names.fresh();
  const c = names.fresh();
  const left = lineFitStruct(`list_slice(__v, 1, ${k})`, '0', names);
  const right = lineFitStruct(`list_slice(__v, ${k} + 1, len(__v))`, k, names);
  const candidates = `list_transform(range(2, len(__v) - 1), ${k} -> {'k': ${k}, 'l': ${left}, 'r': ${right}})`;
  return [
    ['__all', lineFitStruct('__v', '0', names)],
    ['__cands', candidates],
    [
      '__best',
      `list_sort(list_transform(__cands, ${c} -> {'r2': -(1 - (${c}.l.rss + ${c}.r.rss) / __all.ssyy), 'k': ${c}.k, 'c': ${c}}))[1].c`,
    ],
    [
      '__line',
      `${fittedLine('__best.l', '__best.k', names)} || ${fittedLine('__best.r', 'len(__v) - __best.k', names, '__best.k')}`,
    ],
  ];
}

function fit2LinesValues(names: Names): Record<(typeof FIT_2LINES_FIELDS)[number], string> {
  const side = (s: 'l' | 'r') => ({
    rsquare: `(1 - __best.${s}.rss / __best.${s}.ssyy)`,
    slope: `__best.${s}.slope`,
    interception: `__best.${s}.interception`,
    variance: `(__best.${s}.ssyy / (__best.${s}.n - 1))`,
    rvariance: `(__best.${s}.rss / (__best.${s}.n - 1))`,
  });
  const l = side('l');
  const r = side('r');
  return {
    rsquare: '(1 - (__best.l.rss + __best.r.rss) / __all.ssyy)',
    split_idx: 'CAST(__best.k AS BIGINT)',
    variance: '(__all.ssyy / (__all.n - 1))',
    rvariance: '((__best.l.rss + __best.r.rss) / (__all.n - 1))',
    line_fit: reals('__line', names),
    right_rsquare: r.rsquare,
    right_slope: r.slope,
    right_interception: r.interception,
    right_variance: r.variance,
    right_rvariance: r.rvariance,
    left_rsquare: l.rsquare,
    left_slope: l.slope,
    left_interception: l.interception,
    left_variance: l.variance,
    left_rvariance: l.rvariance,
  };
}

const fit2Lines: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const first: [string, string][] = [['__v', numsOf(arg(args, 0, ctx), names)]];
  const values = fit2LinesValues(names);
  return chain(
    first,
    fit2LinesSteps(names),
    tuple(
      FIT_2LINES_FIELDS.map((f) => [f, values[f]]),
      ctx,
    ),
  );
};

const fit2LinesDynamic: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const first: [string, string][] = [['__v', numsOf(arg(args, 0, ctx), names)]];
  const values = fit2LinesValues(names);
  const entries = `[${FIT_2LINES_FIELDS.map((f) => `{'key': '${f}', 'value': ${f === 'line_fit' ? values[f] : f === 'split_idx' ? `to_json(${values[f]})` : doubleJson(values[f])}}`).join(', ')}]`;
  return chain(
    first,
    fit2LinesSteps(names),
    `CASE WHEN __v IS NULL OR len(__v) < 4 THEN NULL ELSE ${objectFromEntries(entries, names)} END`,
  );
};

// ───────────────────────────── seasonality and periods ─────────────────────────────

/** Autocorrelation of a DOUBLE[] at an integer lag, scaled for the overlap (nulls count as the mean). */
function autocorrelation(v: string, lag: string, mean: string, den: string, names: Names): string {
  const i = names.fresh();
  const dev = (x: string) => `(COALESCE(${x}, ${mean}) - ${mean})`;
  return `(COALESCE(list_sum(list_transform(range(1, len(${v}) - ${lag} + 1), ${i} -> ${dev(`${v}[${i}]`)} * ${dev(`${v}[${i} + ${lag}]`)})), 0.0) / ${den} * len(${v}) / (len(${v}) - ${lag}))`;
}

/**
 * Steps finding the best periods of `v` between min and max (at least 4 points, at most half the length): local
 * maxima of the autocorrelation that are not multiples of a better period, best first. Adds `${p}_cands`, a list of
 * {s: score, p: period} sorted by descending score.
 */
function periodSteps(v: string, min: string, max: string, p: string, names: Names): [string, string][] {
  const e = names.fresh();
  const c = names.fresh();
  const d = names.fresh();
  const j = names.fresh();
  return [
    [`${p}_mean`, `list_avg(${v})`],
    [
      `${p}_den`,
      `list_sum(list_transform(${v}, ${e} -> (COALESCE(${e}, ${p}_mean) - ${p}_mean) * (COALESCE(${e}, ${p}_mean) - ${p}_mean)))`,
    ],
    [
      `${p}_acf`,
      `list_transform(range(CAST(greatest(4, ceil(${min})) AS BIGINT), CAST(least(floor(${max}), len(${v}) // 2) AS BIGINT) + 1), ${e} -> {'p': ${e}, 's': CASE WHEN ${p}_den > 0 THEN least(${autocorrelation(v, e, `${p}_mean`, `${p}_den`, names)}, 1.0) ELSE 0.0 END})`,
    ],
    [
      `${p}_peaks`,
      `list_filter(${p}_acf, (${c}, ${j}) -> ${c}.s > 0 AND (${j} = 1 OR ${c}.s >= ${p}_acf[${j} - 1].s) AND (${j} = len(${p}_acf) OR ${c}.s >= ${p}_acf[${j} + 1].s))`,
    ],
    [
      `${p}_cands`,
      `list_reverse(list_sort(list_transform(list_filter(${p}_peaks, ${c} -> NOT COALESCE(list_bool_or(list_transform(${p}_peaks, ${d} -> ${d}.p < ${c}.p AND ${c}.p % ${d}.p = 0 AND ${d}.s >= ${c}.s)), false)), ${c} -> {'s': ${c}.s, 'p': -${c}.p})))`,
    ],
  ];
}

const periodsDetect: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const first: [string, string][] = [
    ['__v', numsOf(arg(args, 0, ctx), names)],
    ['__min', scalarNum(arg(args, 1, ctx))],
    ['__max', scalarNum(arg(args, 2, ctx))],
    ['__k', `CAST(${arg(args, 3, ctx).sql} AS BIGINT)`],
  ];
  const i = names.fresh();
  const steps = periodSteps('__v', '__min', '__max', '__pd', names);
  const pick = (f: string) => `list_transform(range(1, __k + 1), ${i} -> COALESCE(${f}, 0.0))`;
  return chain(
    first,
    steps,
    tuple(
      [
        ['periods', reals(pick(`CAST(-__pd_cands[${i}].p AS DOUBLE)`), names)],
        ['scores', reals(pick(`__pd_cands[${i}].s`), names)],
      ],
      ctx,
    ),
  );
};

const periodsValidate: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const periods = args.slice(1).map(scalarNum);
  if (periods.length === 0) return ctx.unsupported('series_periods_validate without periods');
  const first: [string, string][] = [
    ['__v', numsOf(arg(args, 0, ctx), names)],
    ['__ps', `[${periods.join(', ')}]::DOUBLE[]`],
  ];
  const e = names.fresh();
  const p = names.fresh();
  const lag = `CAST(round(${p}) AS BIGINT)`;
  const steps: [string, string][] = [
    ['__mean', 'list_avg(__v)'],
    [
      '__den',
      `list_sum(list_transform(__v, ${e} -> (COALESCE(${e}, __mean) - __mean) * (COALESCE(${e}, __mean) - __mean)))`,
    ],
  ];
  const score = `CASE WHEN ${p} < 4 OR ${p} > len(__v) / 2 OR __den IS NULL OR __den = 0 THEN 0.0 ELSE greatest(least(${autocorrelation('__v', lag, '__mean', '__den', names)}, 1.0), 0.0) END`;
  return lets(
    first,
    steps,
    tuple(
      [
        ['periods', reals('__ps', names)],
        ['scores', reals(`list_transform(__ps, ${p} -> ${score})`, names)],
      ],
      ctx,
    ),
  );
};

/**
 * Steps decomposing `__v` (see series_decompose): seasonal medians per phase over the learning points, trend (avg,
 * linefit or none) of the deseasonalized learning points, baseline and residual.
 */
function decomposeSteps(names: Names): [string, string][] {
  const i = names.fresh();
  const k = names.fresh();
  const e = names.fresh();
  const j = names.fresh();
  // The learning points, as a column: lambdas must reference columns, not recompute expressions per element.
  const learn = '__vl';
  return [
    ['__n', 'len(__v)'],
    ['__learn', 'greatest(len(__v) - __test, 0)'],
    ['__vl', 'list_slice(__v, 1, __learn)'],
    ...periodSteps(learn, '4', 'len(__v)', '__pd', names),
    [
      '__period',
      `CAST(CASE WHEN __season = -1 THEN (CASE WHEN len(__pd_cands) > 0 AND __pd_cands[1].s >= __threshold THEN -__pd_cands[1].p ELSE 0 END) WHEN __season > 0 THEN __season ELSE 0 END AS BIGINT)`,
    ],
    [
      '__phases',
      `CASE WHEN __period > 0 THEN list_transform(range(__period), ${k} -> list_median(list_filter(${learn}, (${e}, ${j}) -> (${j} - 1) % __period = ${k}))) ELSE []::DOUBLE[] END`,
    ],
    [
      '__seasonal',
      `list_transform(range(__n), ${i} -> CASE WHEN __period > 0 THEN COALESCE(__phases[${i} % __period + 1], 0.0) ELSE 0.0 END)`,
    ],
    ['__deseason', `list_transform(range(1, __n + 1), ${i} -> __v[${i}] - __seasonal[${i}])`],
    ['__dl', 'list_slice(__deseason, 1, __learn)'],
    ['__tfit', lineFitStruct('__dl', '0', names)],
    ['__davg', 'COALESCE(list_avg(__dl), 0.0)'],
    [
      '__trend',
      `CASE __trendkind WHEN 'none' THEN list_transform(range(__n), ${i} -> 0.0) WHEN 'linefit' THEN ${fittedLine('__tfit', '__n', names)} ELSE list_transform(range(__n), ${i} -> __davg) END`,
    ],
    ['__baseline', `list_transform(range(1, __n + 1), ${i} -> __seasonal[${i}] + __trend[${i}])`],
    ['__residual', `list_transform(range(1, __n + 1), ${i} -> __v[${i}] - __baseline[${i}])`],
  ];
}

function decomposeFirst(
  args: readonly SqlArg[],
  ctx: TemplateContext,
  names: Names,
  o: { season: number; trend: number; test: number; threshold: number },
  defaults: { trend: string; test?: string },
): [string, string][] {
  const at = (i: number) => (i >= 0 ? args[i] : undefined);
  const season = at(o.season);
  const trend = at(o.trend);
  const test = at(o.test);
  const threshold = at(o.threshold);
  return [
    ['__v', numsOf(arg(args, 0, ctx), names)],
    ['__season', season ? `COALESCE(CAST(${season.sql} AS BIGINT), -1)` : '-1'],
    ['__trendkind', trend ? `COALESCE(${trend.sql}, '${defaults.trend}')` : `'${defaults.trend}'`],
    ['__test', test ? `COALESCE(CAST(${test.sql} AS BIGINT), 0)` : (defaults.test ?? '0')],
    ['__threshold', threshold ? `COALESCE(CAST(${threshold.sql} AS DOUBLE), 0.6)` : '0.6'],
  ];
}

const DECOMPOSE_FIELDS = ['baseline', 'seasonal', 'trend', 'residual'] as const;

/** `series_decompose(series [, seasonality, trend, test_points, seasonality_threshold])`. */
const decompose: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const first = decomposeFirst(args, ctx, names, { season: 1, trend: 2, test: 3, threshold: 4 }, { trend: 'avg' });
  return chain(
    first,
    decomposeSteps(names),
    `CASE WHEN __v IS NULL THEN NULL ELSE ${tuple(
      DECOMPOSE_FIELDS.map((f) => [f, reals(`__${f}`, names)]),
      ctx,
    )} END`,
  );
};

/** `series_decompose_forecast(series, points [, seasonality, trend, seasonality_threshold])`: learns without the last points. */
const decomposeForecast: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const points = arg(args, 1, ctx);
  const first = decomposeFirst(
    args,
    ctx,
    names,
    { season: 2, trend: 3, test: -1, threshold: 4 },
    { trend: 'linefit', test: `COALESCE(CAST(${points.sql} AS BIGINT), 0)` },
  );
  return chain(
    first,
    decomposeSteps(names),
    `CASE WHEN __v IS NULL THEN NULL ELSE ${tuple(
      DECOMPOSE_FIELDS.map((f) => [f, reals(`__${f}`, names)]),
      ctx,
    )} END`,
  );
};

/**
 * Outlier scores of `list` (DOUBLE[]): 0 inside [Pmin, Pmax], else the distance beyond it divided by Pmax − Pmin
 * (the standard deviation when that range is 0); nulls and the ignored value score 0.
 */
function outlierScores(list: string, minPct: string, maxPct: string, ignore: string, names: Names): string {
  const e = names.fresh();
  const valid = `list_sort(list_filter(${list}, ${e} -> ${e} IS NOT NULL AND isfinite(${e}) AND ${e} IS DISTINCT FROM ${ignore}))`;
  return bind(names, valid, (ok) =>
    bindAll(
      names,
      [percentile(ok, minPct), percentile(ok, maxPct), `COALESCE(list_stddev_samp(${ok}), 0.0)`],
      ([lo, hi, sd]) => {
        const x = names.fresh();
        const scale = `(CASE WHEN ${hi} - ${lo} > 0 THEN ${hi} - ${lo} ELSE ${sd} END)`;
        return `list_transform(${list}, ${x} -> CASE WHEN ${x} IS NULL OR NOT isfinite(${x}) OR ${x} IS NOT DISTINCT FROM ${ignore} OR ${scale} = 0 THEN 0.0 WHEN ${x} > ${hi} THEN (${x} - ${hi}) / ${scale} WHEN ${x} < ${lo} THEN (${x} - ${lo}) / ${scale} ELSE 0.0 END)`;
      },
    ),
  );
}

/** The p-th percentile (0–100) of a sorted DOUBLE[] by linear interpolation between closest ranks. */
function percentile(sorted: string, pct: string): string {
  const pos = `((${pct}) / 100.0 * (len(${sorted}) - 1))`;
  const lo = `CAST(floor(${pos}) AS BIGINT)`;
  return `(CASE WHEN len(${sorted}) = 0 THEN NULL WHEN ${lo} + 1 >= len(${sorted}) THEN ${sorted}[len(${sorted})] ELSE ${sorted}[${lo} + 1] + (${sorted}[${lo} + 2] - ${sorted}[${lo} + 1]) * (${pos} - ${lo}) END)`;
}

/** Percentile range of an outlier method: tukey 25–75, ctukey (default) 10–90 or the given percentiles. */
function outlierRange(kind: SqlArg | undefined, min: SqlArg | undefined, max: SqlArg | undefined): [string, string] {
  const k = kind ? `lower(${kind.sql})` : `'ctukey'`;
  const lo = min ? `COALESCE(CAST(${min.sql} AS DOUBLE), 10.0)` : '10.0';
  const hi = max ? `COALESCE(CAST(${max.sql} AS DOUBLE), 90.0)` : '90.0';
  return [`(CASE WHEN ${k} = 'tukey' THEN 25.0 ELSE ${lo} END)`, `(CASE WHEN ${k} = 'tukey' THEN 75.0 ELSE ${hi} END)`];
}

/** `series_outliers(series [, kind, ignore_val, min_percentile, max_percentile])`. */
const outliers: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const kind = args[1]?.type === 'string' ? args[1] : undefined;
  const [lo, hi] = outlierRange(kind, args[3], args[4]);
  const ignore = args[2] ? scalarNum(args[2]) : 'CAST(NULL AS DOUBLE)';
  const first: [string, string][] = [
    ['__v', numsOf(arg(args, 0, ctx), names)],
    ['__opt', `{'lo': ${lo}, 'hi': ${hi}, 'ignore': ${ignore}}`],
  ];
  return lets(
    first,
    [],
    `CASE WHEN __v IS NULL THEN NULL ELSE ${reals(outlierScores('__v', '__opt.lo', '__opt.hi', '__opt.ignore', names), names)} END`,
  );
};

/** `series_decompose_anomalies(series [, threshold, seasonality, trend, test_points, ad_method, seasonality_threshold])`. */
const decomposeAnomalies: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const first = decomposeFirst(args, ctx, names, { season: 2, trend: 3, test: 4, threshold: 6 }, { trend: 'avg' });
  const [lo, hi] = outlierRange(args[5], undefined, undefined);
  const k = args[1] ? `COALESCE(CAST(${args[1].sql} AS DOUBLE), 1.5)` : '1.5';
  const s = names.fresh();
  const steps: [string, string][] = [
    ...decomposeSteps(names),
    ['__k', k],
    ['__score', outlierScores('__residual', lo, hi, 'CAST(NULL AS DOUBLE)', names)],
  ];
  const flags = toArray(
    `list_transform(__score, ${s} -> to_json(CAST(CASE WHEN ${s} > __k THEN 1 WHEN ${s} < -__k THEN -1 ELSE 0 END AS BIGINT)))`,
  );
  return chain(
    first,
    steps,
    `CASE WHEN __v IS NULL THEN NULL ELSE ${tuple(
      [
        ['ad_flag', flags],
        ['ad_score', reals('__score', names)],
        ['baseline', reals('__baseline', names)],
      ],
      ctx,
    )} END`,
  );
};

/** `series_seasonal(series [, period])`: per-phase medians (period -1 or omitted: autodetected; 0: none). */
const seasonal: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const first: [string, string][] = [
    ['__v', numsOf(arg(args, 0, ctx), names)],
    ['__season', args[1] ? `COALESCE(CAST(${args[1].sql} AS BIGINT), -1)` : '-1'],
    ['__trendkind', `'none'`],
    ['__test', '0'],
    ['__threshold', '0.6'],
  ];
  return chain(first, decomposeSteps(names), `CASE WHEN __v IS NULL THEN NULL ELSE ${reals('__seasonal', names)} END`);
};

// ───────────────────────────── spectral ─────────────────────────────

/** Discrete Fourier transform (O(n²)); `inverse` scales by 1/n and flips the sign of the exponent. */
function dft(inverse: boolean): Template {
  return (args, ctx) => {
    const names = new Names(...texts(args));
    const k = names.fresh();
    const j = names.fresh();
    const first: [string, string][] = [
      ['__re', numsOf(arg(args, 0, ctx), names)],
      ['__im', args[1] ? numsOf(args[1], names) : 'NULL::DOUBLE[]'],
    ];
    const angle = `(2 * pi() * ${k} * ${j} / len(__re))`;
    const a = `COALESCE(__re[${j} + 1], 0.0)`;
    const b = `COALESCE(__im[${j} + 1], 0.0)`;
    // (a + ib)(cos θ ∓ i sin θ): forward uses e^{-iθ}, inverse e^{+iθ}.
    const term = (part: 're' | 'im') =>
      part === 're'
        ? `${a} * cos(${angle}) ${inverse ? '-' : '+'} ${b} * sin(${angle})`
        : `${b} * cos(${angle}) ${inverse ? '+' : '-'} ${a} * sin(${angle})`;
    const scale = inverse ? ' / len(__re)' : '';
    const sum = (part: 're' | 'im') =>
      `list_transform(range(len(__re)), ${k} -> COALESCE(list_sum(list_transform(range(len(__re)), ${j} -> ${term(part)})), 0.0)${scale})`;
    return lets(
      first,
      [],
      `CASE WHEN __re IS NULL THEN NULL ELSE ${tuple(
        [
          ['real', reals(sum('re'), names)],
          ['imag', reals(sum('im'), names)],
        ],
        ctx,
      )} END`,
    );
  };
}

export const SERIES_FUNCTIONS: Readonly<Record<string, Template>> = tupleSafe({
  // element-wise arithmetic and comparisons
  series_add: arithmetic('+'),
  series_subtract: arithmetic('-'),
  series_multiply: arithmetic('*'),
  series_divide: realBinary((x, y) => `(${x} / ${y})`),
  series_pow: realBinary((x, y) => `pow(${x}, ${y})`),
  series_greater: comparison('>'),
  series_greater_equals: comparison('>='),
  series_less: comparison('<'),
  series_less_equals: comparison('<='),
  series_equals: comparison('='),
  series_not_equals: comparison('<>'),
  // element-wise math
  series_abs: unary((v) => `abs(${v})`),
  series_acos: unary(inUnit('acos')),
  series_asin: unary(inUnit('asin')),
  series_atan: unary((v) => `atan(${v})`),
  series_ceiling: unary((v) => `ceil(${v})`),
  series_floor: unary((v) => `floor(${v})`),
  series_cos: unary((v) => `cos(${v})`),
  series_sin: unary((v) => `sin(${v})`),
  series_tan: unary((v) => `tan(${v})`),
  series_exp: unary((v) => `exp(${v})`),
  series_log: unary(logOf('ln')),
  series_sign: unary((v) => `CAST(sign(${v}) AS DOUBLE)`),
  // fills
  series_fill_const: fillConst,
  series_fill_forward: fillForward,
  series_fill_backward: fillBackward,
  series_fill_linear: fillLinear,
  // filters
  series_fir: fir,
  series_iir: iir,
  // aggregates of one or two series
  series_sum: reduceNums((l) => `COALESCE(list_sum(${l}), 0.0)`),
  series_product: reduceNums((l, names) => {
    const v = names.fresh();
    return `COALESCE(list_product(list_filter(${l}, ${v} -> ${v} IS NOT NULL)), 1.0)`;
  }),
  series_magnitude: reduceNums((l, names) => {
    const v = names.fresh();
    return `sqrt(COALESCE(list_sum(list_transform(${l}, ${v} -> ${v} * ${v})), 0.0))`;
  }),
  series_stats: seriesStats,
  series_stats_dynamic: seriesStatsDynamic,
  series_dot_product: dotProduct,
  series_cosine_similarity: cosineSimilarity,
  series_pearson_correlation: pearson,
  // regression
  series_fit_line: fitLine,
  series_fit_line_dynamic: fitLineDynamic,
  series_fit_2lines: fit2Lines,
  series_fit_2lines_dynamic: fit2LinesDynamic,
  series_fit_poly: fitPoly,
  // seasonality, decomposition, anomalies
  series_periods_detect: periodsDetect,
  series_periods_validate: periodsValidate,
  series_seasonal: seasonal,
  series_decompose: decompose,
  series_decompose_forecast: decomposeForecast,
  series_decompose_anomalies: decomposeAnomalies,
  series_outliers: outliers,
  // spectral
  series_fft: dft(false),
  series_ifft: dft(true),
});
