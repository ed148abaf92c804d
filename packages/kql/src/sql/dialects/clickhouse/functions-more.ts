/**
 * More scalar functions in ClickHouse, each with the semantics of the DuckDB template of the same name (the same
 * doc examples test both): sketches (exact stand-ins, as on DuckDB), dynamic arrays and bags, unit conversions,
 * series statistics, and a few strings and IP helpers.
 */
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import { CONVERSIONS, type Conv, findUnit, fromKelvin, toKelvin } from '../duckdb/functions-math.js';
import { TIME_ZONES } from '../duckdb/functions-timezones.js';
import { weightedRank } from './aggregates.js';
import {
  arg,
  asJson,
  asString,
  datetimeTicks,
  literalString,
  nullSafe,
  sqlString,
  ticksToDatetime,
  translateRegex,
  withValue,
} from './base.js';
import { elements, jsonArrayOf } from './functions.js';
import { codePoint, ENCODING_FUNCTIONS } from './functions-encoding.js';
import { jsonArrayStrings } from './operators.js';

const isArray = (sql: string) => `JSONType(ifNull(${sql}, 'null')) = 'Array'`;
const real = (a: SqlArg) => (a.type === 'dynamic' ? `toFloat64OrNull(${a.sql})` : `toFloat64(${a.sql})`);

// ───────────────────────────── sketches (hll: distinct values; tdigest: [value, weight] pairs) ─────────────

/** The union of sketches given as arguments (hll: distinct values; t-digest: all pairs). */
function merge(distinct: boolean): Template {
  return (args) => {
    const all = `arrayConcat(${args.map((a) => `if(${isArray(a.sql)}, ${elements(a.sql)}, [])`).join(', ')})`;
    return jsonArrayOf(distinct ? `arrayDistinct(${all})` : all);
  };
}

/** The (value, weight) pairs of a t-digest value, sorted by value. */
const digestPairs = (t: string) =>
  `arraySort(arrayMap(__p -> tuple(toFloat64OrNull(JSONExtractRaw(__p, 1)), JSONExtractFloat(__p, 2)), ${elements(t)}))`;

const SKETCHES: Readonly<Record<string, Template>> = {
  dcount_hll: (args, ctx) => {
    const h = arg(args, 0, ctx).sql;
    return `toInt64(if(${isArray(h)}, JSONLength(ifNull(${h}, '[]')), 0))`;
  },
  hll_merge: merge(true),
  tdigest_merge: merge(false),
  merge_tdigest: merge(false),
  percentile_tdigest: (args, ctx) => {
    const v = weightedRank(digestPairs(arg(args, 0, ctx).sql), real(arg(args, 1, ctx)));
    return ctx.resultType === 'long' || ctx.resultType === 'int' ? `toInt64(${v})` : v;
  },
  percentiles_array_tdigest: (args, ctx) => {
    const t = arg(args, 0, ctx).sql;
    const ps: string[] = [];
    for (const p of args.slice(1)) {
      const v = p.literal?.value;
      if (Array.isArray(v)) for (const x of v) ps.push(`toFloat64(${Number(x)})`);
      else ps.push(real(p));
    }
    return jsonArrayOf(`[${ps.map((p) => `toString(${weightedRank(digestPairs(t), p)})`).join(', ')}]`);
  },
  rank_tdigest: (args, ctx) => {
    const x = real(arg(args, 1, ctx));
    return `toInt64(arraySum(arrayMap(__e -> if(__e.1 <= ${x}, __e.2, 0), ${digestPairs(arg(args, 0, ctx).sql)})))`;
  },
  percentrank_tdigest: (args, ctx) =>
    withValue(digestPairs(arg(args, 0, ctx).sql), (all) => {
      const x = real(arg(args, 1, ctx));
      return `(100.0 * arraySum(arrayMap(__e -> if(__e.1 <= ${x}, __e.2, 0), ${all})) / arraySum(arrayMap(__e -> __e.2, ${all})))`;
    }),
};

// ───────────────────────────── dynamic arrays and bags ─────────────────────────────

/** JSON text of a truthy element: true, or a non-zero number; null when neither a bool nor a number. */
const truth = (e: string) =>
  `multiIf(JSONType(${e}) = 'Bool', JSONExtractBool(${e}) = 1, JSONType(${e}) IN ('Int64', 'UInt64', 'Double'), JSONExtractFloat(${e}) != 0, NULL)`;

const arrayIff: Template = (args, ctx) => {
  const c = arg(args, 0, ctx).sql;
  const branch = (a: SqlArg) =>
    a.type === 'dynamic'
      ? `if(${isArray(a.sql)}, arrayElement(${elements(a.sql)}, __i), ifNull(${a.sql}, 'null'))`
      : `ifNull(${asJson(a)}, 'null')`;
  const t = branch(arg(args, 1, ctx));
  const f = branch(arg(args, 2, ctx));
  const pick = `multiIf(${truth('__c')} IS NULL, 'null', ${truth('__c')}, ${t}, ${f})`;
  return `if(${isArray(c)}, ${jsonArrayOf(`arrayMap((__c, __i) -> nullIf(${pick}, ''), ${elements(c)}, arrayEnumerate(${elements(c)}))`)}, NULL)`;
};

function rotate(sign: 1 | -1): Template {
  return (args, ctx) => {
    const a = arg(args, 0, ctx).sql;
    const k = `toInt64(${arg(args, 1, ctx).sql})`;
    return withValue(elements(a), (e) => {
      const n = `toInt64(length(${e}))`;
      const shift = sign === 1 ? k : `(-${k})`;
      const rotated = `arrayMap(__i -> ${e}[((__i + ${shift}) % ${n} + ${n}) % ${n} + 1], range(toUInt64(${n})))`;
      return `if(NOT ${isArray(a)}, NULL, if(${n} = 0, '[]', ${jsonArrayOf(rotated)}))`;
    });
  };
}

const arraySplit: Template = (args, ctx) => {
  const a = arg(args, 0, ctx).sql;
  const idx = arg(args, 1, ctx);
  const list =
    idx.type === 'dynamic' ? `arrayMap(__x -> toInt64OrNull(__x), ${elements(idx.sql)})` : `[toInt64(${idx.sql})]`;
  return withValue(elements(a), (e) => {
    const n = `toInt64(length(${e}))`;
    const bounds = `arrayConcat([toInt64(0)], arrayMap(__x -> least(greatest(if(__x < 0, ${n} + __x, __x), 0), ${n}), ${list}), [${n}])`;
    return withValue(bounds, (b) => {
      const parts = `arrayMap(__k -> ${jsonArrayOf(`arraySlice(${e}, ${b}[__k] + 1, greatest(${b}[__k + 1] - ${b}[__k], 0))`)}, range(1, length(${b})))`;
      return `if(${isArray(a)}, concat('[', arrayStringConcat(${parts}, ','), ']'), NULL)`;
    });
  });
};

/** The steps of a `$.a.b` / `['a']` path (property names only), null when it has indexes or cannot be read. */
function pathSteps(path: string): string[] | null {
  let p = path.trim();
  if (p.startsWith('$')) p = p.slice(1);
  else if (!/^[A-Za-z_]/.test(p) && !p.startsWith('[')) return null;
  else p = `.${p}`;
  const steps: string[] = [];
  const re = /^(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\])/;
  while (p.length) {
    const m = re.exec(p);
    if (!m) return null;
    steps.push((m[1] ?? m[2] ?? m[3]) as string);
    p = p.slice(m[0].length);
  }
  return steps.length ? steps : null;
}

const bagHasKey: Template = (args, ctx) => {
  const bag = arg(args, 0, ctx).sql;
  const key = arg(args, 1, ctx);
  const lit = literalString(key);
  if (lit !== null) {
    const steps = pathSteps(lit);
    if (!steps) return 'false';
    const parent = steps.slice(0, -1).map(sqlString);
    const obj = parent.length
      ? `JSONExtractRaw(ifNull(${bag}, 'null'), ${parent.join(', ')})`
      : `ifNull(${bag}, 'null')`;
    return withValue(obj, (o) => `(JSONType(${o}) = 'Object' AND JSONHas(${o}, ${sqlString(steps.at(-1) as string)}))`);
  }
  return `(JSONType(ifNull(${bag}, 'null')) = 'Object' AND JSONHas(ifNull(${bag}, '{}'), ${asString(key)}))`;
};

/** bag_set_key(bag, key, value) for a top-level key: the key replaced in place or appended. */
const bagSetKey: Template = (args, ctx) => {
  const bag = arg(args, 0, ctx).sql;
  const key = arg(args, 1, ctx);
  const lit = literalString(key);
  const steps = lit === null ? null : pathSteps(lit);
  if (lit !== null && steps?.length !== 1) return ctx.unsupported('bag_set_key() with a nested key path');
  const k = steps ? sqlString(steps[0] as string) : asString(key);
  const v = `ifNull(${asJson(arg(args, 2, ctx))}, 'null')`;
  return withValue(`JSONExtractKeysAndValuesRaw(ifNull(${bag}, '{}'))`, (kvs) => {
    const replaced = `arrayMap(__p -> if(__p.1 = ${k}, tuple(__p.1, ${v}), __p), ${kvs})`;
    const all = `if(has(arrayMap(__p -> __p.1, ${kvs}), ${k}), ${replaced}, arrayPushBack(${kvs}, tuple(${k}, ${v})))`;
    const text = `concat('{', arrayStringConcat(arrayMap(__p -> concat(toJSONString(__p.1), ':', __p.2), ${all}), ','), '}')`;
    return `if(JSONType(ifNull(${bag}, 'null')) = 'Object', ${text}, NULL)`;
  });
};

/** bag_remove_keys(bag, keys) for top-level keys (names or `$.name` paths). */
const bagRemoveKeys: Template = (args, ctx) => {
  const bag = arg(args, 0, ctx).sql;
  const keys = arg(args, 1, ctx);
  const listed = keys.literal?.value;
  let list: string;
  if (Array.isArray(listed)) {
    const steps = listed.map((k) => (typeof k === 'string' ? pathSteps(k) : null));
    if (steps.some((st) => st === null || st.length !== 1))
      return ctx.unsupported('bag_remove_keys() with nested paths');
    list = `[${steps.map((st) => sqlString((st as string[])[0] as string)).join(', ')}]`;
  } else list = jsonArrayStrings(keys.sql);
  const kept = `arrayFilter(__p -> NOT has(${list}, __p.1), JSONExtractKeysAndValuesRaw(ifNull(${bag}, '{}')))`;
  const text = `concat('{', arrayStringConcat(arrayMap(__p -> concat(toJSONString(__p.1), ':', __p.2), ${kept}), ','), '}')`;
  return `if(JSONType(ifNull(${bag}, 'null')) = 'Object', ${text}, NULL)`;
};

// ───────────────────────────── unit conversions (DuckDB's tables) ─────────────────────────────

const applyConv = (expr: string, x: string) => `(${expr.replace(/\bx\b/g, `(${x})`)})`;

function converter(fn: string): Template {
  const table = CONVERSIONS[fn] as Readonly<Record<string, Conv>>;
  return (args, ctx) => {
    const v = real(arg(args, 0, ctx));
    const from = literalString(arg(args, 1, ctx));
    const to = literalString(arg(args, 2, ctx));
    if (from === null || to === null) return ctx.unsupported(`${fn}() with computed units`);
    const f = findUnit(table, from);
    const t = findUnit(table, to);
    if (f === undefined || t === undefined) return 'CAST(NULL AS Nullable(Float64))';
    return withValue(applyConv(f[0], v), (b) => applyConv(t[1], b));
  };
}

const convertTemperature: Template = (args, ctx) => {
  const from = literalString(arg(args, 1, ctx));
  const to = literalString(arg(args, 2, ctx));
  if (from === null || to === null) return ctx.unsupported('convert_temperature() with computed units');
  const k = toKelvin(from.toLowerCase(), real(arg(args, 0, ctx)));
  if (k === null) return 'CAST(NULL AS Nullable(Float64))';
  return withValue(k, (kv) => fromKelvin(to.toLowerCase(), kv) ?? 'CAST(NULL AS Nullable(Float64))');
};

const CONVERTERS: Record<string, Template> = { convert_temperature: convertTemperature };
for (const fn of Object.keys(CONVERSIONS)) CONVERTERS[fn] = converter(fn);

// ───────────────────────────── series ─────────────────────────────

/** A series' numbers (NaN where an element is not a number, so the statistic is NaN as with Kusto's nulls). */
const numbers = (a: SqlArg) => `arrayMap(__e -> ifNull(toFloat64OrNull(__e), nan), ${elements(a.sql)})`;

const seriesFillConst: Template = (args, ctx) => {
  const a = arg(args, 0, ctx).sql;
  const c = args[1] ? `ifNull(${asJson(args[1])}, 'null')` : "'0'";
  return `if(${isArray(a)}, ${jsonArrayOf(`arrayMap(__e -> if(__e = 'null' OR toFloat64OrNull(__e) IS NULL, ${c}, __e), ${elements(a)})`)}, NULL)`;
};

/** Two series of the same length (null unless both are arrays of equal length). */
function twoSeries(args: readonly SqlArg[], body: (x: string, y: string) => string): string {
  const [a, b] = [args[0] as SqlArg, args[1] as SqlArg];
  return withValue(numbers(a), (x) =>
    withValue(
      numbers(b),
      (y) => `if(${isArray(a.sql)} AND ${isArray(b.sql)} AND length(${x}) = length(${y}), ${body(x, y)}, NULL)`,
    ),
  );
}

const cosineSimilarity: Template = (args, ctx) => {
  arg(args, 1, ctx);
  return twoSeries(
    args,
    (x, y) =>
      `arraySum(arrayMap((__a, __b) -> __a * __b, ${x}, ${y})) / (sqrt(arraySum(arrayMap(__a -> __a * __a, ${x}))) * sqrt(arraySum(arrayMap(__b -> __b * __b, ${y}))))`,
  );
};

const pearson: Template = (args, ctx) => {
  arg(args, 1, ctx);
  return twoSeries(args, (x, y) => {
    const n = `length(${x})`;
    const mx = `(arraySum(${x}) / ${n})`;
    const my = `(arraySum(${y}) / ${n})`;
    const cov = `arraySum(arrayMap((__a, __b) -> (__a - ${mx}) * (__b - ${my}), ${x}, ${y}))`;
    const sx = `sqrt(arraySum(arrayMap(__a -> (__a - ${mx}) * (__a - ${mx}), ${x})))`;
    const sy = `sqrt(arraySum(arrayMap(__b -> (__b - ${my}) * (__b - ${my}), ${y})))`;
    return `${cov} / (${sx} * ${sy})`;
  });
};

/** The missing-value test of a JSON element: null, or equal to the placeholder when one is given. */
function missingTest(placeholder: SqlArg | undefined): (e: string) => string {
  if (!placeholder || placeholder.literal?.value === null) return (e) => `(${e} = 'null')`;
  const ph = real(placeholder);
  return (e) => `(${e} = 'null' OR ifNull(toFloat64OrNull(${e}) = ${ph}, false))`;
}

/** Forward (or backward) fill: a missing element takes the previous (next) present one; leading ones stay. */
function fill(backward: boolean): Template {
  return (args, ctx) => {
    const a = arg(args, 0, ctx).sql;
    const missing = missingTest(args[1]);
    const fn = backward ? 'arrayReverseFill' : 'arrayFill';
    return `if(${isArray(a)}, ${jsonArrayOf(`${fn}(__e -> NOT ${missing('__e')}, ${elements(a)})`)}, NULL)`;
  };
}

/**
 * `series_fill_linear(series [, placeholder [, fill_edges [, constant]]])`: linear interpolation between the
 * nearest present neighbours (truncated to longs when every present element is an integer), edges take the
 * nearest value, an all-missing series becomes the constant (0.0 by default).
 */
const fillLinear: Template = (args, ctx) => {
  const a = arg(args, 0, ctx).sql;
  const missing = missingTest(args[1]);
  const edges = args[2] ? `ifNull(${args[2].sql}, true)` : 'true';
  const constant = args[3] ? `ifNull(${asJson(args[3])}, 'null')` : "'0.0'";
  return withValue(elements(a), (l) => {
    const idx = `arrayMap(__i -> if(${missing(`${l}[__i]`)}, 0, __i), arrayEnumerate(${l}))`;
    return withValue(idx, (ix) =>
      withValue(`arrayFill(__x -> __x != 0, ${ix})`, (prev) =>
        withValue(`arrayReverseFill(__x -> __x != 0, ${ix})`, (next) => {
          const ints = `arrayAll(__e -> ${missing('__e')} OR JSONType(__e) IN ('Int64', 'UInt64'), ${l})`;
          const [p, q] = [`${prev}[__i]`, `${next}[__i]`];
          const interp = `(toFloat64OrZero(${l}[${p}]) + (toFloat64OrZero(${l}[${q}]) - toFloat64OrZero(${l}[${p}])) * (__i - ${p}) / (${q} - ${p}))`;
          const filled = `multiIf(NOT ${missing(`${l}[__i]`)}, ${l}[__i], ${p} != 0 AND ${q} != 0, if(${ints}, toString(toInt64(trunc(${interp}))), ${realJson(interp)}), ${edges} AND (${p} != 0 OR ${q} != 0), ${l}[if(${p} != 0, ${p}, ${q})], ${l}[__i])`;
          const present = `arrayExists(__e -> NOT ${missing('__e')}, ${l})`;
          return `if(NOT ${isArray(a)}, NULL, if(${present}, ${jsonArrayOf(`arrayMap(__i -> ${filled}, arrayEnumerate(${l}))`)}, ${jsonArrayOf(`arrayMap(__e -> ${constant}, ${l})`)}))`;
        }),
      ),
    );
  });
};

// ───────────────────────────── series statistics and line fit ─────────────────────────────

/** A multi-valued result: a tuple of the columns (lowering reads them by position), or the first as a scalar. */
function multi(fields: readonly (readonly [string, string])[], ctx: TemplateContext): string {
  if (ctx.resultType !== 'unknown') return fields[0]?.[1] ?? 'NULL';
  return `tuple(${fields.map(([, e]) => e).join(', ')})`;
}

/** A real as a JSON value: NaN and infinities as Kusto writes them in dynamic values. */
const realJson = (x: string) =>
  `multiIf(${x} IS NULL, 'null', isNaN(${x}), '"NaN"', isInfinite(${x}), if(${x} > 0, '"Infinity"', '"-Infinity"'), toString(${x}))`;
const realsJson = (arr: string) =>
  `concat('[', arrayStringConcat(arrayMap(__r -> ${realJson('__r')}, ${arr}), ','), ']')`;
const bagJson = (fields: readonly (readonly [string, string])[]) =>
  `concat('{', ${fields.map(([k, v], i) => `'${i ? ',' : ''}"${k}":', ${v}`).join(', ')}, '}')`;

/** The series as Nullable(Float64) elements (null where not a number). */
const nullableNumbers = (a: SqlArg) => `arrayMap(__e -> toFloat64OrNull(__e), ${elements(a.sql)})`;

/** Least squares through (1-based index, value) of the non-null values; `body` gets the fit's named parts. */
function lineFit(v: string, body: (f: Record<string, string>) => string): string {
  const xs = `arrayMap(__i -> toFloat64(__i), arrayFilter(__i -> ${v}[__i] IS NOT NULL, arrayEnumerate(${v})))`;
  const ys = `arrayMap(__e -> assumeNotNull(__e), arrayFilter(__e -> __e IS NOT NULL, ${v}))`;
  return withValue(xs, (x) =>
    withValue(ys, (y) =>
      withValue(`arrayAvg(${x})`, (mx) =>
        withValue(`arrayAvg(${y})`, (my) => {
          const slope = `(arraySum((__a, __b) -> (__a - ${mx}) * (__b - ${my}), ${x}, ${y}) / arraySum(__a -> (__a - ${mx}) * (__a - ${mx}), ${x}))`;
          return withValue(slope, (sl) =>
            withValue(`(${my} - ${sl} * ${mx})`, (b) => {
              const n = `length(${y})`;
              const ssyy = `arraySum(__b -> (__b - ${my}) * (__b - ${my}), ${y})`;
              const rss = `arraySum((__a, __b) -> pow(__b - (${sl} * __a + ${b}), 2), ${x}, ${y})`;
              return body({
                rsquare: `(1 - ${rss} / ${ssyy})`,
                slope: sl,
                variance: `(${ssyy} / (${n} - 1))`,
                rvariance: `(${rss} / (${n} - 1))`,
                interception: b,
                line_fit: realsJson(`arrayMap(__i -> ${sl} * __i + ${b}, range(1, length(${v}) + 1))`),
              });
            }),
          );
        }),
      ),
    ),
  );
}

const FIT_FIELDS = ['rsquare', 'slope', 'variance', 'rvariance', 'interception', 'line_fit'] as const;

const fitLine: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  return withValue(nullableNumbers(a), (v) =>
    lineFit(v, (f) =>
      multi(
        FIT_FIELDS.map((k) => [k, `if(${isArray(a.sql)}, ${f[k]}, NULL)`] as const),
        ctx,
      ),
    ),
  );
};

const fitLineDynamic: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  return withValue(nullableNumbers(a), (v) =>
    lineFit(v, (f) => {
      const fields = FIT_FIELDS.map(
        (k) => [k, k === 'line_fit' ? (f[k] as string) : realJson(f[k] as string)] as const,
      );
      return `if(${isArray(a.sql)}, ${bagJson(fields)}, NULL)`;
    }),
  );
};

/** min/max/avg/stdev/variance of the finite values (a non-finite one makes them null unless ignored). */
function stats(a: SqlArg, ignore: string, body: (f: Record<string, string>) => string): string {
  return withValue(nullableNumbers(a), (v) => {
    const bad = `arrayExists(__e -> __e IS NULL OR NOT isFinite(assumeNotNull(__e)), ${v})`;
    const ok = `if(${bad} AND NOT ${ignore}, CAST([] AS Array(Float64)), arrayMap(__e -> assumeNotNull(__e), arrayFilter(__e -> __e IS NOT NULL AND isFinite(assumeNotNull(__e)), ${v})))`;
    return withValue(ok, (o) => {
      const empty = `length(${o}) = 0`;
      const n = `length(${o})`;
      const avg = `arrayAvg(${o})`;
      const variance = `if(${n} = 1, 0.0, arraySum(__e -> pow(__e - ${avg}, 2), ${o}) / (${n} - 1))`;
      const min = `if(${empty}, NULL, arrayMin(${o}))`;
      const max = `if(${empty}, NULL, arrayMax(${o}))`;
      return body({
        min,
        min_idx: `if(${empty}, NULL, toInt64(indexOf(${v}, arrayMin(${o}))) - 1)`,
        max,
        max_idx: `if(${empty}, NULL, toInt64(indexOf(${v}, arrayMax(${o}))) - 1)`,
        avg: `if(${empty}, NULL, ${avg})`,
        stdev: `if(${empty}, NULL, sqrt(${variance}))`,
        variance: `if(${empty}, NULL, ${variance})`,
        sum: `arraySum(${o})`,
        len: `toInt64(length(${v}))`,
      });
    });
  });
}

const STATS_FIELDS = ['min', 'min_idx', 'max', 'max_idx', 'avg', 'stdev', 'variance'] as const;

const seriesStats: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const ignore = args[1] ? `ifNull(${args[1].sql}, false)` : 'false';
  return stats(a, ignore, (f) =>
    multi(
      STATS_FIELDS.map((k) => [k, f[k] as string] as const),
      ctx,
    ),
  );
};

const seriesStatsDynamic: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const ignore = args[1] ? `ifNull(${args[1].sql}, false)` : 'false';
  return stats(a, ignore, (f) => {
    const json = (k: string) =>
      k.endsWith('_idx') || k === 'len' ? `ifNull(toString(${f[k]}), 'null')` : realJson(f[k] as string);
    const fields = [...STATS_FIELDS, 'sum', 'len'].map((k) => [k, json(k)] as const);
    return `if(${isArray(a.sql)}, ${bagJson(fields)}, NULL)`;
  });
};

// ───────────────────────────── row-wide functions (the planner passes the row's columns as a `star`) ─────────

/** Splits the `star` argument's column list (`"a", "b"`) at top-level commas (quotes and brackets respected). */
function splitColumns(sql: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      out.push(sql.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = sql.slice(start).trim();
  if (last !== '') out.push(last);
  return out;
}

/** The row's columns of a `star` argument as SqlArgs, or null when it cannot be read. */
function starColumns(star: SqlArg): { name: string; value: SqlArg }[] | null {
  if (star.expr.kind !== 'star') return null;
  const cols = star.expr.columns;
  const values = cols.length ? splitColumns(star.sql) : [];
  if (values.length !== cols.length) return null;
  return cols.map((c, i) => ({ name: c.name, value: { sql: values[i] as string, type: c.type, expr: star.expr } }));
}

/** `pack_all([ignore_null_empty])`: a bag of the row's columns. */
const packAll: Template = (args, ctx) => {
  const star = args.find((a) => a.expr.kind === 'star');
  const cols = star ? starColumns(star) : null;
  if (!cols) return ctx.unsupported('pack_all() without the row columns');
  const ignore = args.find((a) => a !== star && a.type === 'bool');
  const pairs = cols.map(({ name, value }) => {
    const json = `ifNull(${asJson(value)}, 'null')`;
    const pair = `concat(${sqlString(`${JSON.stringify(name)}:`)}, ${json})`;
    if (!ignore) return pair;
    return withValue(
      json,
      (j) =>
        `if(ifNull(${ignore.sql}, false) AND ${j} IN ('null', '""'), '', concat(${sqlString(`${JSON.stringify(name)}:`)}, ${j}))`,
    );
  });
  if (!pairs.length) return "'{}'";
  return `concat('{', arrayStringConcat(arrayFilter(__p -> __p != '', [${pairs.join(', ')}]), ','), '}')`;
};

/** `bag_pack_columns(c1, c2, ...)`: the column names are the keys (nulls kept as null values). */
const bagPackColumns: Template = (args, ctx) => {
  const pairs = args.map((a) => {
    if (a.expr.kind !== 'col') return ctx.unsupported('bag_pack_columns() of an expression that is not a column');
    return `concat(${sqlString(`${JSON.stringify(a.expr.name)}:`)}, ifNull(${asJson(a)}, 'null'))`;
  });
  return pairs.length ? `concat('{', ${pairs.join(", ',', ")}, '}')` : "'{}'";
};

/** Kusto's estimate of a value's size in bytes (strings: their length; fixed sizes per scalar type). */
function dataSize(a: SqlArg): string {
  switch (a.type) {
    case 'string':
      return `toInt64(length(${a.sql}))`;
    case 'dynamic':
      return `toInt64(ifNull(length(${a.sql}), 0))`;
    case 'bool':
      return `if(${a.sql} IS NULL, 0, 1)`;
    case 'int':
      return `if(${a.sql} IS NULL, 0, 4)`;
    case 'guid':
    case 'decimal':
      return `if(${a.sql} IS NULL, 0, 16)`;
    default:
      return `if(${a.sql} IS NULL, 0, 8)`;
  }
}

const estimateDataSize: Template = (args, ctx) => {
  const parts: string[] = [];
  for (const a of args) {
    if (a.expr.kind === 'star') {
      const cols = starColumns(a);
      if (!cols) return ctx.unsupported('estimate_data_size() over these columns');
      for (const c of cols) parts.push(dataSize(c.value));
    } else parts.push(dataSize(a));
  }
  return parts.length ? `toInt64(${parts.join(' + ')})` : 'toInt64(0)';
};

// ───────────────────────────── IPv6 (IPv4 mapped to ::ffff:a.b.c.d, its prefix + 96) ─────────────────────────────

/** An address with an optional prefix as (value as UInt128, prefix bits); null value when malformed. */
function ipv6Parts(text: string, body: (v: string, p: string) => string): string {
  return withValue(text, (t) => {
    const addr = `splitByChar('/', ${t})[1]`;
    // Dotted text (also after '::') is an IPv4 address, which Kusto maps to ::ffff:a.b.c.d.
    const text4 = `if(position(${addr}, '.') > 0, arrayElement(splitByChar(':', ${addr}), -1), ${addr})`;
    const v = `reinterpretAsUInt128(reverse(IPv6StringToNumOrNull(${text4})))`;
    const own = `if(position(${t}, '/') > 0, toInt64OrNull(splitByChar('/', ${t})[2]), NULL)`;
    // A prefix on dotted (IPv4) text counts in IPv4 bits.
    const p = `if(position(${addr}, '.') > 0, 96 + ifNull(${own}, 32), ifNull(${own}, 128))`;
    return withValue(v, (vv) => withValue(p, (pp) => body(vv, pp)));
  });
}

/** The first `p` bits of a UInt128 (the others zero). */
const mask128 = (v: string, p: string) =>
  `if(${p} <= 0, toUInt128(0), if(${p} >= 128, ${v}, bitShiftLeft(bitShiftRight(${v}, toUInt8(128 - ${p})), toUInt8(128 - ${p}))))`;

/** Canonical IPv6 text: eight groups of four lower-case hex digits. */
const ipv6Text = (v: string) =>
  withValue(
    `lower(hex(reverse(reinterpretAsFixedString(${v}))))`,
    (h) => `arrayStringConcat(arrayMap(__i -> substring(${h}, __i * 4 + 1, 4), range(8)), ':')`,
  );

function compare6(args: readonly SqlArg[], ctx: TemplateContext): string {
  const extra = args[2] ? `toInt64(${args[2].sql})` : null;
  return ipv6Parts(asString(arg(args, 0, ctx)), (a, pa) =>
    ipv6Parts(asString(arg(args, 1, ctx)), (b, pb) => {
      const p = extra ? `least(${pa}, ${pb}, ${extra})` : `least(${pa}, ${pb})`;
      return withValue(p, (pv) =>
        withValue(mask128(`assumeNotNull(${a})`, pv), (x) =>
          withValue(
            mask128(`assumeNotNull(${b})`, pv),
            (y) =>
              `if(${a} IS NULL OR ${b} IS NULL OR ${pv} IS NULL, NULL, toInt64(multiIf(${x} < ${y}, -1, ${x} > ${y}, 1, 0)))`,
          ),
        ),
      );
    }),
  );
}

const IPV6: Readonly<Record<string, Template>> = {
  parse_ipv6: (args, ctx) =>
    ipv6Parts(
      asString(arg(args, 0, ctx)),
      (v, p) => `if(${v} IS NULL, '', ${ipv6Text(mask128(`assumeNotNull(${v})`, p))})`,
    ),
  parse_ipv6_mask: (args, ctx) =>
    ipv6Parts(asString(arg(args, 0, ctx)), (v, p) =>
      withValue(
        `least(${p}, toInt64(${arg(args, 1, ctx).sql}))`,
        (q) => `if(${v} IS NULL OR ${q} IS NULL OR ${q} < 0, '', ${ipv6Text(mask128(`assumeNotNull(${v})`, q))})`,
      ),
    ),
  ipv6_compare: compare6,
  ipv6_is_match: (args, ctx) => `(${compare6(args, ctx)} = 0)`,
  ipv6_is_in_range: (args, ctx) =>
    ipv6Parts(asString(arg(args, 0, ctx)), (a) =>
      ipv6Parts(
        asString(arg(args, 1, ctx)),
        (r, p) =>
          `if(${a} IS NULL OR ${r} IS NULL, NULL, ${mask128(`assumeNotNull(${a})`, p)} = ${mask128(`assumeNotNull(${r})`, p)})`,
      ),
    ),
};

// ───────────────────────────── others ─────────────────────────────

const around: Template = (args, ctx) => {
  const v = arg(args, 0, ctx);
  const c = arg(args, 1, ctx);
  const d = arg(args, 2, ctx);
  const value = (a: SqlArg) => (a.type === 'datetime' ? datetimeTicks(a.sql) : a.sql);
  return withValue(value(v), (x) =>
    withValue(value(c), (y) => withValue(d.sql, (z) => `(${x} BETWEEN ${y} - ${z} AND ${y} + ${z})`)),
  );
};

/** assert(condition, message): a false (or null) condition fails the query with the message, as in Kusto. */
const assertFn: Template = (args, ctx) => {
  const message = literalString(arg(args, 1, ctx));
  if (message === null) return ctx.unsupported('assert() with a computed message');
  return `(throwIf(NOT ifNull(${arg(args, 0, ctx).sql}, false), ${sqlString(message)}) = 0)`;
};

/** has_any_index(text, lookups): the index of the first lookup found as a term (case-insensitive), else -1. */
const hasAnyIndex: Template = (args, ctx) => {
  const text = asString(arg(args, 0, ctx));
  const values = arg(args, 1, ctx).sql;
  const pattern = `concat('(?i)', if(match(__t, '^[0-9A-Za-z]'), '(?:^|[^0-9A-Za-z])', ''), replaceRegexpAll(__t, '([\\\\^$.*+?()\\\\[\\\\]{}|\\\\-])', '\\\\\\\\\\\\1'), if(match(__t, '[0-9A-Za-z]$'), '(?:$|[^0-9A-Za-z])', ''))`;
  return withValue(
    text,
    (h) => `toInt64(arrayFirstIndex(__t -> __t != '' AND match(${h}, ${pattern}), ${jsonArrayStrings(values)})) - 1`,
  );
};

/** The code points of a string (ngrams(s, 1) splits it into UTF-8 characters). */
const unicodeCodepoints: Template = (args, ctx) =>
  `concat('[', arrayStringConcat(arrayMap(__c -> toString(${codePoint('__c')}), ngrams(${asString(arg(args, 0, ctx))}, 1)), ','), ']')`;

/** ipv4_is_in_any_range(ip, ranges...): ranges as strings or one dynamic array of strings. */
const ipv4InAnyRange: Template = (args, ctx) => {
  const ip = asString(arg(args, 0, ctx));
  const ranges = args.slice(1).map((a) => (a.type === 'dynamic' ? jsonArrayStrings(a.sql) : `[${asString(a)}]`));
  if (!ranges.length) return ctx.unsupported('ipv4_is_in_any_range() without ranges');
  const addr = `toIPv4OrNull(splitByChar('/', ${ip})[1])`;
  const inRange = (r: string) => {
    const bits = `if(position(${r}, '/') > 0, toUInt8OrNull(splitByChar('/', ${r})[2]), 32)`;
    const base = `toIPv4OrNull(splitByChar('/', ${r})[1])`;
    const mask = `bitShiftLeft(toUInt32(4294967295), 32 - least(${bits}, 32))`;
    return `ifNull(bitAnd(toUInt32(${addr}), ${mask}) = bitAnd(toUInt32(${base}), ${mask}), false)`;
  };
  return `if(${addr} IS NULL, NULL, arrayExists(__r -> ${inRange('__r')}, arrayConcat(${ranges.join(', ')})))`;
};

/** make_timespan(h, m) | (h, m, s) | (d, h, m, s): seconds may have a fraction; null beyond the timespan range. */
const makeTimespan: Template = (args, ctx) => {
  const parts = args.map((a) => `toFloat64(${a.sql})`);
  const scales = {
    2: [36000000000, 600000000],
    3: [36000000000, 600000000, 10000000],
    4: [864000000000, 36000000000, 600000000, 10000000],
  }[parts.length];
  if (!scales) return ctx.unsupported('make_timespan() with this number of arguments');
  return withValue(
    `round(${parts.map((p, i) => `${p} * ${scales[i]}`).join(' + ')})`,
    (t) => `if(abs(${t}) < 9.2e18, toInt64(${t}), NULL)`,
  );
};

// ───────────────────────────── time zones ─────────────────────────────

/** Kusto's zone names ClickHouse's time-zone database lacks (the Java-style aliases): conversions give null. */
const NO_CLICKHOUSE_ZONE = new Set(
  'ACT AET AGT ART AST America/Coyhaique BET BST CAT CNT CST CTT Canada/East-Saskatchewan EAT ECT IET IST JST MIT NET NST PLT PNT PRT PST SST SystemV/AST4 SystemV/AST4ADT SystemV/CST6 SystemV/CST6CDT SystemV/EST5 SystemV/EST5EDT SystemV/HST10 SystemV/MST7 SystemV/MST7MDT SystemV/PST8 SystemV/PST8PDT SystemV/YST9 SystemV/YST9YDT US/Pacific-New VST'.split(
    ' ',
  ),
);
const ZONES = new Map(TIME_ZONES.filter((z) => !NO_CLICKHOUSE_ZONE.has(z)).map((z) => [z.toLowerCase(), z] as const));

/**
 * The zone's UTC offset (ticks) at instant `d`: the zone's wall time as text, read back as UTC. formatDateTime is
 * the one ClickHouse function that takes a zone from a column (the others want a constant).
 */
function zoneOffset(d: string, tz: string): string {
  const wall = `parseDateTime64BestEffortOrNull(formatDateTime(${d}, '%Y-%m-%d %H:%i:%S', ${tz}), 7, 'UTC')`;
  return `(${datetimeTicks(wall)} - ${datetimeTicks(`toStartOfSecond(${d})`)})`;
}

/**
 * datetime_utc_to_local / datetime_local_to_utc: a literal zone is checked at compile time (case-insensitive, as
 * Kusto), a computed one against the known list; unknown zones give null. Local → UTC tries the zone's offsets a day
 * before and after; an offset is right when the instant it gives has that offset; an ambiguous wall time (DST ends)
 * takes the standard (smaller) offset, as .NET does.
 */
function zoned(toLocal: boolean): Template {
  return (args, ctx) => {
    const ts = arg(args, 0, ctx).sql;
    const tzArg = arg(args, 1, ctx);
    const lit = literalString(tzArg);
    const day = '864000000000';
    const convert = (tz: string) =>
      nullSafe(ts, (d) => {
        if (toLocal) return ticksToDatetime(`${datetimeTicks(d)} + ${zoneOffset(d, tz)}`);
        const at = (shift: string) => zoneOffset(ticksToDatetime(`${datetimeTicks(d)} ${shift}`), tz);
        return withValue(`tuple(${at(`- ${day}`)}, ${at(`+ ${day}`)})`, (o) => {
          const [ob, oa] = [`${o}.1`, `${o}.2`];
          const valid = (off: string) => `${zoneOffset(ticksToDatetime(`${datetimeTicks(d)} - ${off}`), tz)} = ${off}`;
          const pick = `multiIf(${valid(ob)} AND ${valid(oa)}, least(${ob}, ${oa}), ${valid(ob)}, ${ob}, ${oa})`;
          return ticksToDatetime(`${datetimeTicks(d)} - ${pick}`);
        });
      });
    if (lit !== null) {
      const zone = ZONES.get(lit.toLowerCase());
      return zone ? convert(sqlString(zone)) : "CAST(NULL AS Nullable(DateTime64(7, 'UTC')))";
    }
    const known = `[${[...ZONES.values()].map(sqlString).join(', ')}]`;
    return withValue(asString(tzArg), (tz0) =>
      withValue(
        `${known}[indexOf(arrayMap(__z -> lower(__z), ${known}), lower(${tz0}))]`,
        (tz) => `if(${tz} = '', NULL, ${convert(`if(${tz} = '', 'UTC', ${tz})`)})`,
      ),
    );
  };
}

// ───────────────────────────── beta distribution ─────────────────────────────

/**
 * The regularized incomplete beta function I_x(a, b), as on DuckDB: Numerical Recipes' continued fraction, 100
 * steps folded from the tail, on the side of x where it converges fast.
 */
function incompleteBeta(x: string, a: string, b: string): string {
  const cf = (X: string, A: string, B: string) => {
    const even = `(__m * (${B} - __m) * ${X}) / ((${A} + 2 * __m - 1) * (${A} + 2 * __m))`;
    const odd = `(-(${A} + __m - 1) * (${A} + ${B} + __m - 1) * ${X}) / ((${A} + 2 * __m - 2) * (${A} + 2 * __m - 1))`;
    return `(1 / arrayFold((__t, __m) -> 1 + ${odd} / (1 + ${even} / __t), arrayMap(__k -> toFloat64(100 - __k), range(100)), toFloat64(1)))`;
  };
  const front = (X: string, A: string, B: string) =>
    `exp(lgamma(${A} + ${B}) - lgamma(${A}) - lgamma(${B}) + ${A} * log(${X}) + ${B} * log(1 - ${X})) / ${A}`;
  return `multiIf(${x} <= 0, 0.0, ${x} >= 1, 1.0, ${x} < (${a} + 1) / (${a} + ${b} + 2), ${front(x, a, b)} * ${cf(x, a, b)}, 1 - ${front(`(1 - ${x})`, b, a)} * ${cf(`(1 - ${x})`, b, a)})`;
}

/**
 * The three real arguments (x or p, a, b) bound once each, not nullable inside the body (a fold's accumulator keeps
 * its initial type); null when any is null.
 */
function beta3(body: (x: string, a: string, b: string) => string): Template {
  const bound = (vs: readonly string[], f: (names: string[]) => string, names: string[] = []): string => {
    const [v, ...rest] = vs;
    return v === undefined ? f(names) : withValue(v, (n) => bound(rest, f, [...names, n]));
  };
  return (args, ctx) =>
    bound(
      [0, 1, 2].map((i) => real(arg(args, i, ctx))),
      (raw) =>
        bound(
          raw.map((n) => `assumeNotNull(${n})`),
          ([x, a, b]) =>
            `if(${raw.map((n) => `${n} IS NULL`).join(' OR ')}, NULL, ${body(x as string, a as string, b as string)})`,
        ),
    );
}

const BETA: Readonly<Record<string, Template>> = {
  beta_pdf: beta3(
    (x, a, b) =>
      `multiIf(${a} <= 0 OR ${b} <= 0 OR ${x} < 0 OR ${x} > 1, nan, (${x} = 0 AND ${a} < 1) OR (${x} = 1 AND ${b} < 1), inf, ${x} = 0 AND ${a} = 1, ${b}, ${x} = 1 AND ${b} = 1, ${a}, ${x} = 0 OR ${x} = 1, 0.0, exp(lgamma(${a} + ${b}) - lgamma(${a}) - lgamma(${b}) + (${a} - 1) * log(${x}) + (${b} - 1) * log(1 - ${x})))`,
  ),
  beta_cdf: beta3((x, a, b) => `if(${a} <= 0 OR ${b} <= 0 OR ${x} < 0 OR ${x} > 1, nan, ${incompleteBeta(x, a, b)})`),
  // Bisection on beta_cdf: 56 halvings reach double precision on [0, 1].
  beta_inv: beta3((p, a, b) => {
    const mid = '((__r.1 + __r.2) / 2)';
    const step = `(__r, __i) -> if(${incompleteBeta(mid, a, b)} < ${p}, tuple(${mid}, __r.2), tuple(__r.1, ${mid}))`;
    return `multiIf(${p} < 0 OR ${p} > 1, NULL, ${a} <= 0 OR ${b} <= 0, nan, arrayFold(${step}, range(56), tuple(toFloat64(0), toFloat64(1))).1)`;
  }),
};

/** Helper templates the lowering of query operators calls (names start with `__`; not KQL functions). */
const OPERATOR_HELPERS: Readonly<Record<string, Template>> = {
  /** dcount_intersect: the number of values in every one of the hll sketches (exact sets). */
  __hll_intersect_count: (args) => {
    const sets = args.map((a) => `if(${isArray(a.sql)}, ${elements(a.sql)}, [])`);
    return `toInt64(length(arrayDistinct(${sets.length > 1 ? `arrayIntersect(${sets.join(', ')})` : (sets[0] ?? '[]')})))`;
  },
  /** parse-kv with a regex: group 1 matches keys, group 2 values; the value of the first (trimmed) key, else ''. */
  __kv_regex_value: (args, ctx) => {
    const text = arg(args, 0, ctx).sql;
    const re = arg(args, 1, ctx);
    const key = arg(args, 2, ctx).sql;
    const pattern = literalString(re) !== null ? sqlString(translateRegex(literalString(re) as string)) : re.sql;
    return withValue(
      `extractAllGroupsVertical(${text}, ${pattern})`,
      (g) => `ifNull(arrayElement(arrayFirst(__g -> trimBoth(__g[1]) = ${key}, ${g}), 2), '')`,
    );
  },
};

export const MORE_FUNCTIONS: Readonly<Record<string, Template>> = {
  ...ENCODING_FUNCTIONS,
  ...BETA,
  make_timespan: makeTimespan,
  datetime_utc_to_local: zoned(true),
  datetime_local_to_utc: zoned(false),
  ...OPERATOR_HELPERS,
  ...SKETCHES,
  ...CONVERTERS,
  ...IPV6,
  array_iff: arrayIff,
  array_rotate_left: rotate(1),
  array_rotate_right: rotate(-1),
  array_split: arraySplit,
  bag_has_key: bagHasKey,
  bag_set_key: bagSetKey,
  bag_remove_keys: bagRemoveKeys,
  series_fill_const: seriesFillConst,
  series_fill_forward: fill(false),
  series_fill_backward: fill(true),
  series_fill_linear: fillLinear,
  series_fit_line: fitLine,
  series_fit_line_dynamic: fitLineDynamic,
  series_stats: seriesStats,
  series_stats_dynamic: seriesStatsDynamic,
  series_cosine_similarity: cosineSimilarity,
  series_pearson_correlation: pearson,
  around,
  pack_all: packAll,
  bag_pack_columns: bagPackColumns,
  estimate_data_size: estimateDataSize,
  assert: assertFn,
  has_any_index: hasAnyIndex,
  unicode_codepoints_from_string: unicodeCodepoints,
  ipv4_is_in_any_range: ipv4InAnyRange,
};
