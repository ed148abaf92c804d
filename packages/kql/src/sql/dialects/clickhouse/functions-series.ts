/**
 * KQL seasonality, decomposition and outlier functions in ClickHouse: the same steps as the DuckDB templates
 * (`../duckdb/functions-series.ts`: period detection by autocorrelation peaks, seasonal medians per phase, avg or
 * linefit trend, outlier scores beyond a percentile range), so both engines give the same values within float
 * rounding. ClickHouse has no scalar `let` and no correlated subquery, so each step is bound once by a one-element
 * `arrayMap` (`let`) and the next step is written in its body.
 *
 * Numbers are `Array(Nullable(Float64))` (null for elements that are not JSON numbers). ClickHouse has no nullable
 * arrays, so "the argument is not an array" is carried as a separate flag and every result is wrapped in
 * `if(ok, …, NULL)`. ClickHouse evaluates both branches of `if`: divisors and modulo operands are kept non-zero.
 */
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import { arg, dynamicToNumber } from './base.js';
import { elements } from './functions.js';

/** Lambda names `__sdN`, numbered above any the arguments already use (a nested call of these templates). */
class Names {
  private n: number;
  constructor(args: readonly SqlArg[]) {
    let max = 0;
    for (const a of args) for (const m of a.sql.matchAll(/__sd(\d+)/g)) max = Math.max(max, Number(m[1]));
    this.n = max + 1;
  }
  fresh(): string {
    return `__sd${this.n++}`;
  }
}

/** Steps bound in order: each value is computed once and its name is visible to later steps and the result. */
type Steps = [string, string][];

/**
 * Binds the steps with as few nested lambdas as their dependencies allow: a step goes one level below the deepest
 * step it reads, and the steps of one level share one multi-argument `arrayMap`. (ClickHouse's analyzer costs
 * grow with the square of the lambda nesting depth: a one-step-per-level chain of the decomposition took seconds.)
 */
function lets(steps: Steps, result: string): string {
  const levels: Steps[] = [];
  const levelOf = new Map<string, number>();
  for (const [n, e] of steps) {
    let level = 0;
    for (const [m, l] of levelOf) if (new RegExp(`\\b${m}\\b`).test(e)) level = Math.max(level, l + 1);
    levelOf.set(n, level);
    const group = levels[level] ?? [];
    group.push([n, e]);
    levels[level] = group;
  }
  let body = result;
  for (let i = levels.length - 1; i >= 0; i--) {
    const level = levels[i] ?? [];
    const params = level.map(([n]) => n).join(', ');
    body = `arrayElement(arrayMap((${params}) -> ${body}, ${level.map(([, e]) => `[${e}]`).join(', ')}), 1)`;
  }
  return body;
}

const JSON_NUMBER = `('Int64', 'UInt64', 'Double')`;
const isArray = (sql: string) => `(JSONType(ifNull(${sql}, 'null')) = 'Array')`;

/** A series' numbers (`x` a bound name): `Array(Nullable(Float64))`, null for elements that are not numbers, empty for a non-array. */
function nums(x: string, names: Names): string {
  const e = names.fresh();
  return `arrayMap(${e} -> if(JSONType(${e}) IN ${JSON_NUMBER}, toFloat64OrNull(${e}), CAST(NULL AS Nullable(Float64))), ${elements(x)})`;
}

/** The first steps of every template: the series argument once (`__sdx`), whether it is an array, its numbers. */
function seriesSteps(a: SqlArg, names: Names): Steps {
  return [
    ['__sdx', a.sql],
    ['__sdok', isArray('__sdx')],
    ['__sdv', nums('__sdx', names)],
  ];
}

/** A scalar numeric argument as Nullable(Float64). */
function num(a: SqlArg): string {
  switch (a.type) {
    case 'dynamic':
      return dynamicToNumber(a.sql);
    case 'int':
    case 'long':
    case 'real':
    case 'decimal':
      return `toFloat64(${a.sql})`;
    default:
      return 'CAST(NULL AS Nullable(Float64))';
  }
}

const int = (a: SqlArg) => `toInt64(${num(a)})`;

/** A real as a JSON value (NaN and infinities as Kusto writes them in dynamic values, null as null). */
const realJson = (x: string) =>
  `multiIf(${x} IS NULL, 'null', isNaN(${x}), '"NaN"', isInfinite(${x}), if(${x} > 0, '"Infinity"', '"-Infinity"'), toString(${x}))`;

function realsJson(arr: string, names: Names): string {
  const r = names.fresh();
  return `concat('[', arrayStringConcat(arrayMap(${r} -> ${realJson(r)}, ${arr}), ','), ']')`;
}

/** A multi-valued result: a tuple of the columns (the planner reads them by position), or the first as a scalar. */
function multi(fields: readonly (readonly [string, string])[], ctx: TemplateContext): string {
  if (ctx.resultType !== 'unknown') return fields[0]?.[1] ?? 'NULL';
  return `tuple(${fields.map(([, e]) => e).join(', ')})`;
}

/** The present (non-null) values of a numeric array. */
function present(list: string, names: Names): string {
  const e = names.fresh();
  return `arrayMap(${e} -> assumeNotNull(${e}), arrayFilter(${e} -> ${e} IS NOT NULL, ${list}))`;
}

/** The average of the present values; null when there are none (as SQL's avg, not ClickHouse's NaN). */
function avgOf(list: string, names: Names): string {
  const p = names.fresh();
  return lets([[p, present(list, names)]], `if(length(${p}) = 0, CAST(NULL AS Nullable(Float64)), arrayAvg(${p}))`);
}

/** The median of the present values (the mean of the two middle ones for an even count); null when none. */
function medianOf(list: string, names: Names): string {
  const s = names.fresh();
  const n = `length(${s})`;
  return lets(
    [[s, `arraySort(${present(list, names)})`]],
    `if(${n} = 0, CAST(NULL AS Nullable(Float64)), if(${n} % 2 = 1, ${s}[intDiv(${n} + 1, 2)], (${s}[intDiv(${n}, 2)] + ${s}[intDiv(${n}, 2) + 1]) / 2))`,
  );
}

// ───────────────────────────── period detection ─────────────────────────────

/**
 * Steps finding the best periods of `v` (a bound name) with lags from `lo` to `hi` (integers; at least 4, at most
 * half the length): the autocorrelation at each lag (nulls count as the mean, scaled for the overlap, capped at 1),
 * its local maxima, those that are not multiples of a better-or-equal shorter period, best first. Adds `${p}c`: an
 * array of (score, -period) sorted descending (ties: the shorter period first), as on DuckDB.
 */
function periodSteps(v: string, lo: string, hi: string, p: string, names: Names): Steps {
  const [mean, den, acf, peaks] = [`${p}m`, `${p}d`, `${p}a`, `${p}k`];
  const [e, lag, i, c, j, d] = [
    names.fresh(),
    names.fresh(),
    names.fresh(),
    names.fresh(),
    names.fresh(),
    names.fresh(),
  ];
  const len = `toInt64(length(${v}))`;
  const dev = (x: string) => `(ifNull(${x}, ${mean}) - ${mean})`;
  const ac = `(arraySum(${i} -> ifNull(${dev(`${v}[${i}]`)} * ${dev(`${v}[${i} + ${lag}]`)}, 0.0), range(1, toUInt64(greatest(${len} - ${lag} + 1, 1)))) / ${den} * ${len} / greatest(${len} - ${lag}, 1))`;
  const first = `greatest(4, toInt64(ifNull(ceil(${lo}), 4)))`;
  const last = `least(toInt64(ifNull(floor(${hi}), 0)), intDiv(${len}, 2))`;
  return [
    [mean, avgOf(v, names)],
    [den, `arraySum(${e} -> ifNull(${dev(e)} * ${dev(e)}, 0.0), ${v})`],
    [
      acf,
      `arrayMap(${lag} -> tuple(${lag}, if(${den} > 0, least(${ac}, 1.0), 0.0)), range(${first}, greatest(${last} + 1, ${first})))`,
    ],
    [
      peaks,
      `arrayFilter((${c}, ${j}) -> ${c}.2 > 0 AND (${j} = 1 OR ${c}.2 >= ${acf}[greatest(${j} - 1, 1)].2) AND (${j} = length(${acf}) OR ${c}.2 >= ${acf}[${j} + 1].2), ${acf}, arrayEnumerate(${acf}))`,
    ],
    [
      `${p}c`,
      `arrayReverseSort(arrayMap(${c} -> tuple(${c}.2, -${c}.1), arrayFilter(${c} -> NOT arrayExists(${d} -> ${d}.1 < ${c}.1 AND ${c}.1 % ${d}.1 = 0 AND ${d}.2 >= ${c}.2, ${peaks}), ${peaks})))`,
    ],
  ];
}

const periodsDetect: Template = (args, ctx) => {
  const names = new Names(args);
  const a = arg(args, 0, ctx);
  const i = names.fresh();
  const steps: Steps = [
    ...seriesSteps(a, names),
    ['__sdlo', num(arg(args, 1, ctx))],
    ['__sdhi', num(arg(args, 2, ctx))],
    ['__sdn', `toUInt64(greatest(ifNull(${int(arg(args, 3, ctx))}, 0), 0))`],
    ...periodSteps('__sdv', '__sdlo', '__sdhi', '__sdp', names),
  ];
  const pick = (f: string) => `arrayMap(${i} -> ${f}, range(1, __sdn + 1))`;
  return lets(
    steps,
    multi(
      [
        ['periods', `if(__sdok, ${realsJson(pick(`toFloat64(-__sdpc[${i}].2)`), names)}, NULL)`],
        ['scores', `if(__sdok, ${realsJson(pick(`__sdpc[${i}].1`), names)}, NULL)`],
      ],
      ctx,
    ),
  );
};

const periodsValidate: Template = (args, ctx) => {
  const names = new Names(args);
  const a = arg(args, 0, ctx);
  if (args.length < 2) return ctx.unsupported('series_periods_validate without periods');
  const p = names.fresh();
  const i = names.fresh();
  const e = names.fresh();
  const lag = `toInt64(round(${p}))`;
  const len = `toInt64(length(__sdv))`;
  const dev = (x: string) => `(ifNull(${x}, __sdm) - __sdm)`;
  const ac = `(arraySum(${i} -> ifNull(${dev(`__sdv[${i}]`)} * ${dev(`__sdv[${i} + ${lag}]`)}, 0.0), range(1, toUInt64(greatest(${len} - ${lag} + 1, 1)))) / __sdd * ${len} / greatest(${len} - ${lag}, 1))`;
  const score = `if(${p} IS NULL OR ${p} < 4 OR ${p} > ${len} / 2 OR NOT (__sdd > 0), 0.0, greatest(least(${ac}, 1.0), 0.0))`;
  const steps: Steps = [
    ...seriesSteps(a, names),
    ['__sdps', `[${args.slice(1).map(num).join(', ')}]`],
    ['__sdm', avgOf('__sdv', names)],
    ['__sdd', `arraySum(${e} -> ifNull(${dev(e)} * ${dev(e)}, 0.0), __sdv)`],
  ];
  return lets(
    steps,
    multi(
      [
        ['periods', `if(__sdok, ${realsJson('__sdps', names)}, NULL)`],
        ['scores', `if(__sdok, ${realsJson(`arrayMap(${p} -> ${score}, __sdps)`, names)}, NULL)`],
      ],
      ctx,
    ),
  );
};

// ───────────────────────────── decomposition ─────────────────────────────

interface DecomposeOptions {
  readonly season: SqlArg | undefined;
  readonly trend: SqlArg | undefined;
  /** The number of test points (an SQL integer expression). */
  readonly test: string;
  readonly threshold: SqlArg | undefined;
  readonly defaultTrend: 'avg' | 'linefit' | 'none';
}

/**
 * Steps decomposing `__sdv` as DuckDB does: the period (given, or the best autocorrelation peak of the learning
 * points when its score reaches the threshold), seasonal medians per phase over the learning points, the trend (avg
 * or a least-squares line of the deseasonalized learning points, or none), baseline = seasonal + trend, residual.
 * Adds `__sdseason`, `__sdtrend`, `__sdbase`, `__sdres` (arrays of the series' length).
 */
function decomposeSteps(o: DecomposeOptions, names: Names): Steps {
  const [i, k, e, j, x, y] = [names.fresh(), names.fresh(), names.fresh(), names.fresh(), names.fresh(), names.fresh()];
  const trendKind = o.trend ? `ifNull(${o.trend.sql}, '${o.defaultTrend}')` : `'${o.defaultTrend}'`;
  const season = o.season ? `ifNull(${int(o.season)}, -1)` : '-1';
  const threshold = o.threshold ? `ifNull(${num(o.threshold)}, 0.6)` : '0.6';
  // least squares through (1-based index, value) of the present deseasonalized learning points
  const xs = `arrayMap(${i} -> toFloat64(${i}), arrayFilter(${i} -> __sddl[${i}] IS NOT NULL, range(1, length(__sddl) + 1)))`;
  const [mx, my] = ['assumeNotNull(__sdmx)', 'assumeNotNull(__sdmy)'];
  const slope = `if(__sdmx IS NULL, CAST(NULL AS Nullable(Float64)), arraySum((${x}, ${y}) -> (${x} - ${mx}) * (${y} - ${my}), __sdxs, __sdys) / arraySum(${x} -> (${x} - ${mx}) * (${x} - ${mx}), __sdxs))`;
  return [
    ['__sdn', 'toInt64(length(__sdv))'],
    ['__sdlearn', `greatest(__sdn - ${o.test}, 0)`],
    ['__sdvl', 'arraySlice(__sdv, 1, __sdlearn)'],
    ...periodSteps('__sdvl', '4', '__sdn', '__sdp', names),
    [
      '__sdperiod',
      `toInt64(multiIf(${season} = -1, if(length(__sdpc) > 0 AND __sdpc[1].1 >= ${threshold}, -__sdpc[1].2, 0), ${season} > 0, ${season}, 0))`,
    ],
    [
      '__sdphases',
      `arrayMap(${k} -> ${medianOf(`arrayFilter((${e}, ${j}) -> (${j} - 1) % __sdperiod = ${k}, __sdvl, arrayEnumerate(__sdvl))`, names)}, range(toUInt64(__sdperiod)))`,
    ],
    [
      '__sdseason',
      `arrayMap(${i} -> if(__sdperiod > 0, ifNull(__sdphases[${i} % greatest(__sdperiod, 1) + 1], 0.0), 0.0), range(toUInt64(__sdn)))`,
    ],
    ['__sddl', `arraySlice(arrayMap((${x}, ${y}) -> ${x} - ${y}, __sdv, __sdseason), 1, __sdlearn)`],
    ['__sdxs', xs],
    ['__sdys', present('__sddl', names)],
    ['__sdmx', avgOf('__sdxs', names)],
    ['__sdmy', avgOf('__sdys', names)],
    ['__sdslope', slope],
    [
      '__sdtrend',
      `multiIf(${trendKind} = 'none', arrayMap(${i} -> CAST(0.0 AS Nullable(Float64)), range(toUInt64(__sdn))), ${trendKind} = 'linefit', arrayMap(${i} -> __sdslope * ${i} + (__sdmy - __sdslope * __sdmx), range(1, toUInt64(__sdn) + 1)), arrayMap(${i} -> CAST(ifNull(__sdmy, 0.0) AS Nullable(Float64)), range(toUInt64(__sdn))))`,
    ],
    ['__sdbase', `arrayMap((${x}, ${y}) -> ${x} + ${y}, __sdseason, __sdtrend)`],
    ['__sdres', `arrayMap((${x}, ${y}) -> ${x} - ${y}, __sdv, __sdbase)`],
  ];
}

const DECOMPOSE_FIELDS = [
  ['baseline', '__sdbase'],
  ['seasonal', '__sdseason'],
  ['trend', '__sdtrend'],
  ['residual', '__sdres'],
] as const;

function decomposition(
  args: readonly SqlArg[],
  ctx: TemplateContext,
  at: { season: number; trend: number; test: number | null; threshold: number },
  defaults: { trend: 'avg' | 'linefit' | 'none'; test: string },
): string {
  const names = new Names(args);
  const a = arg(args, 0, ctx);
  const test = at.test === null ? defaults.test : args[at.test];
  const o: DecomposeOptions = {
    season: args[at.season],
    trend: args[at.trend],
    test: typeof test === 'string' ? test : test ? `ifNull(${int(test)}, 0)` : '0',
    threshold: args[at.threshold],
    defaultTrend: defaults.trend,
  };
  return lets(
    [...seriesSteps(a, names), ...decomposeSteps(o, names)],
    multi(
      DECOMPOSE_FIELDS.map(([f, v]) => [f, `if(__sdok, ${realsJson(v, names)}, NULL)`] as const),
      ctx,
    ),
  );
}

/** `series_decompose(series [, seasonality, trend, test_points, seasonality_threshold])`. */
const decompose: Template = (args, ctx) =>
  decomposition(args, ctx, { season: 1, trend: 2, test: 3, threshold: 4 }, { trend: 'avg', test: '0' });

/** `series_decompose_forecast(series, points [, seasonality, trend, seasonality_threshold])`: learns without the last points. */
const decomposeForecast: Template = (args, ctx) => {
  const points = arg(args, 1, ctx);
  return decomposition(
    args,
    ctx,
    { season: 2, trend: 3, test: null, threshold: 4 },
    { trend: 'linefit', test: `ifNull(${int(points)}, 0)` },
  );
};

/** `series_seasonal(series [, period])`: per-phase medians (period -1 or omitted: autodetected; 0: none). */
const seasonal: Template = (args, ctx) => {
  const names = new Names(args);
  const a = arg(args, 0, ctx);
  const o: DecomposeOptions = {
    season: args[1],
    trend: undefined,
    test: '0',
    threshold: undefined,
    defaultTrend: 'none',
  };
  return lets(
    [...seriesSteps(a, names), ...decomposeSteps(o, names)],
    `if(__sdok, ${realsJson('__sdseason', names)}, NULL)`,
  );
};

// ───────────────────────────── outliers ─────────────────────────────

/** The p-th percentile (0–100) of a sorted Array(Float64) by linear interpolation between closest ranks. */
function percentile(sorted: string, pct: string): string {
  const n = `toInt64(length(${sorted}))`;
  const pos = `((${pct}) / 100.0 * (${n} - 1))`;
  const lo = `toInt64(floor(${pos}))`;
  return `if(${n} = 0, CAST(NULL AS Nullable(Float64)), if(${lo} + 1 >= ${n}, ${sorted}[${n}], ${sorted}[${lo} + 1] + (${sorted}[${lo} + 2] - ${sorted}[${lo} + 1]) * (${pos} - ${lo})))`;
}

/**
 * Steps scoring `list` (a bound name): 0 inside [Pmin, Pmax], else the distance beyond it divided by Pmax − Pmin
 * (the sample standard deviation when that range is 0); nulls, non-finite values and the ignored value score 0.
 * Adds `${p}s`, the scores.
 */
function outlierSteps(
  list: string,
  minPct: string,
  maxPct: string,
  ignore: string | null,
  p: string,
  names: Names,
): Steps {
  const [x, m] = [names.fresh(), names.fresh()];
  const ignored = (v: string) => (ignore === null ? 'false' : `ifNull(${v} = ${ignore}, false)`);
  const [ok, lo, hi, scale] = [`${p}ok`, `${p}lo`, `${p}hi`, `${p}sc`];
  const n = `length(${ok})`;
  const sd = `if(${n} > 1, sqrt(arraySum(${x} -> (${x} - ${m}) * (${x} - ${m}), ${ok}) / (${n} - 1)), 0.0)`;
  return [
    [
      ok,
      `arraySort(arrayMap(${x} -> assumeNotNull(${x}), arrayFilter(${x} -> ${x} IS NOT NULL AND isFinite(assumeNotNull(${x})) AND NOT ${ignored(x)}, ${list})))`,
    ],
    [lo, percentile(ok, minPct)],
    [hi, percentile(ok, maxPct)],
    [scale, `if(${hi} - ${lo} > 0, ${hi} - ${lo}, ${lets([[m, `arrayAvg(${ok})`]], sd)})`],
    [
      `${p}s`,
      `arrayMap(${x} -> CAST(multiIf(${x} IS NULL OR NOT isFinite(assumeNotNull(${x})) OR ${ignored(x)} OR ifNull(${scale} = 0, false), 0.0, ${x} > ${hi}, (${x} - ${hi}) / ${scale}, ${x} < ${lo}, (${x} - ${lo}) / ${scale}, 0.0) AS Nullable(Float64)), ${list})`,
    ],
  ];
}

/** Percentile range of an outlier method: tukey 25–75, ctukey (default) 10–90 or the given percentiles. */
function outlierRange(kind: SqlArg | undefined, min: SqlArg | undefined, max: SqlArg | undefined): [string, string] {
  const k = kind ? `lower(${kind.sql})` : `'ctukey'`;
  const lo = min ? `ifNull(${num(min)}, 10.0)` : '10.0';
  const hi = max ? `ifNull(${num(max)}, 90.0)` : '90.0';
  return [`if(${k} = 'tukey', 25.0, ${lo})`, `if(${k} = 'tukey', 75.0, ${hi})`];
}

/** `series_outliers(series [, kind, ignore_val, min_percentile, max_percentile])`. */
const outliers: Template = (args, ctx) => {
  const names = new Names(args);
  const a = arg(args, 0, ctx);
  const kind = args[1]?.type === 'string' ? args[1] : undefined;
  const [lo, hi] = outlierRange(kind, args[3], args[4]);
  const steps: Steps = [
    ...seriesSteps(a, names),
    ['__sdig', args[2] ? num(args[2]) : 'CAST(NULL AS Nullable(Float64))'],
    ['__sdlo', lo],
    ['__sdhi', hi],
    ...outlierSteps('__sdv', '__sdlo', '__sdhi', args[2] ? '__sdig' : null, '__sdo', names),
  ];
  return lets(steps, `if(__sdok, ${realsJson('__sdos', names)}, NULL)`);
};

/** `series_decompose_anomalies(series [, threshold, seasonality, trend, test_points, ad_method, seasonality_threshold])`. */
const decomposeAnomalies: Template = (args, ctx) => {
  const names = new Names(args);
  const a = arg(args, 0, ctx);
  const o: DecomposeOptions = {
    season: args[2],
    trend: args[3],
    test: args[4] ? `ifNull(${int(args[4])}, 0)` : '0',
    threshold: args[6],
    defaultTrend: 'avg',
  };
  const [lo, hi] = outlierRange(args[5], undefined, undefined);
  const k = args[1] ? `ifNull(${num(args[1])}, 1.5)` : '1.5';
  const s = names.fresh();
  const steps: Steps = [
    ...seriesSteps(a, names),
    ...decomposeSteps(o, names),
    ['__sdk', k],
    ...outlierSteps('__sdres', lo, hi, null, '__sdo', names),
  ];
  const flags = `concat('[', arrayStringConcat(arrayMap(${s} -> toString(multiIf(${s} > __sdk, 1, ${s} < -__sdk, -1, 0)), __sdos), ','), ']')`;
  return lets(
    steps,
    multi(
      [
        ['ad_flag', `if(__sdok, ${flags}, NULL)`],
        ['ad_score', `if(__sdok, ${realsJson('__sdos', names)}, NULL)`],
        ['baseline', `if(__sdok, ${realsJson('__sdbase', names)}, NULL)`],
      ],
      ctx,
    ),
  );
};

/** Multi-valued functions here (tuples when the call's type is the tuple); see functions.ts `TUPLE_FUNCTIONS`. */
export const SERIES_TUPLE_FUNCTIONS: readonly string[] = [
  'series_periods_detect',
  'series_periods_validate',
  'series_decompose',
  'series_decompose_forecast',
  'series_decompose_anomalies',
];

export const SERIES_FUNCTIONS: Readonly<Record<string, Template>> = {
  series_periods_detect: periodsDetect,
  series_periods_validate: periodsValidate,
  series_seasonal: seasonal,
  series_decompose: decompose,
  series_decompose_forecast: decomposeForecast,
  series_decompose_anomalies: decomposeAnomalies,
  series_outliers: outliers,
};
