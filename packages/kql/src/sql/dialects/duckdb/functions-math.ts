/**
 * KQL math functions in DuckDB (see functions.ts for the conventions). Kusto computes in IEEE doubles without
 * domain errors: log(0) is -∞, log(-1), sqrt(-1) and acos(2) are NaN. DuckDB raises errors for those inputs, so the
 * templates test the domain first. Bit functions work on 64-bit two's complement and wrap like .NET.
 */
import type { ColumnType } from '../../../binder/types.js';
import type { SqlArg, Template } from '../../dialect.js';
import { arg, literalString, withValue, withValues } from './base.js';
import { bin } from './functions.js';

const NAN = "CAST('NaN' AS DOUBLE)";
const INF = "CAST('Infinity' AS DOUBLE)";

function real(a: SqlArg): string {
  if (a.type === 'real') return a.sql;
  if (a.type === 'dynamic') return `TRY_CAST(${a.sql} ->> '$' AS DOUBLE)`;
  return `CAST(${a.sql} AS DOUBLE)`;
}

function long(a: SqlArg): string {
  if (a.type === 'long') return a.sql;
  if (a.type === 'dynamic') return `TRY_CAST(${a.sql} ->> '$' AS BIGINT)`;
  if (a.type === 'real' || a.type === 'decimal') return `TRY_CAST(trunc(${a.sql}) AS BIGINT)`;
  return `CAST(${a.sql} AS BIGINT)`;
}

function typed(sql: string, type: ColumnType): string {
  switch (type) {
    case 'int':
      return `TRY_CAST(${sql} AS INTEGER)`;
    case 'long':
      return `TRY_CAST(${sql} AS BIGINT)`;
    case 'decimal':
      return `TRY_CAST(${sql} AS DECIMAL(38,18))`;
    case 'real':
      return `CAST(${sql} AS DOUBLE)`;
    default:
      return sql;
  }
}

/** A one-argument real function with its domain: outside it the result is NaN (or the given value). */
function unary(fn: (x: string) => string, guard?: (x: string) => string): Template {
  return (args, ctx) =>
    withValue(real(arg(args, 0, ctx)), (x) =>
      guard ? `(CASE WHEN isnan(${x}) THEN ${x} ${guard(x)} ELSE ${fn(x)} END)` : fn(x),
    );
}

/** Logarithms: log(0) is -∞, a negative argument gives null (recorded Kusto results). */
function logOf(fn: string): Template {
  return unary(
    (x) => `${fn}(${x})`,
    (x) => `WHEN ${x} = 0 THEN -${INF} WHEN ${x} < 0 THEN NULL WHEN isinf(${x}) THEN ${x}`,
  );
}

const LONG_BITS = '18446744073709551616';

/** x << n with .NET semantics: the count is taken modulo 64 and the result wraps around. */
function shiftLeft(x: string, n: string): string {
  return withValues([x, `(${n}) & 63`], ([v, s]) => {
    const unsigned = `(CASE WHEN ${v} < 0 THEN CAST(${v} AS HUGEINT) + ${LONG_BITS} ELSE CAST(${v} AS HUGEINT) END)`;
    const shifted = `((${unsigned} << ${s}) & (${LONG_BITS} - 1))`;
    return withValue(
      shifted,
      (r) => `CAST(CASE WHEN ${r} >= 9223372036854775808 THEN ${r} - ${LONG_BITS} ELSE ${r} END AS BIGINT)`,
    );
  });
}

/** erf(x): Taylor series near 0, continued fraction of erfc in the tails (both to double precision). */
function erfSql(x: string): string {
  return withValue(x, (v) => {
    const series = `(2 / sqrt(pi()) * list_sum(list_transform(range(60), lambda __n: (CASE WHEN __n % 2 = 0 THEN 1 ELSE -1 END) * pow(${v}, 2 * __n + 1) / (gamma(__n + 1) * (2 * __n + 1)))))`;
    return `(CASE WHEN isnan(${v}) THEN ${v} WHEN abs(${v}) < 2.5 THEN ${series} ELSE sign(${v}) * (1 - ${erfcTail(`abs(${v})`)}) END)`;
  });
}

/** erfc(x) for x >= 2.5 by the Laplace continued fraction, evaluated from its tail. */
function erfcTail(x: string): string {
  return withValue(
    x,
    (v) =>
      `(CASE WHEN isinf(${v}) THEN 0.0 ELSE exp(-${v} * ${v}) / (sqrt(pi()) * list_reduce(list_transform(range(80, 0, -1), lambda __k: CAST(__k AS DOUBLE)), lambda __t, __k: ${v} + (__k / 2.0) / __t, CAST(${v} AS DOUBLE))) END)`,
  );
}

function erfcSql(x: string): string {
  return withValue(
    x,
    (v) => `(CASE WHEN isnan(${v}) THEN ${v} WHEN ${v} >= 2.5 THEN ${erfcTail(v)} ELSE 1 - ${erfSql(v)} END)`,
  );
}

/**
 * The regularized incomplete beta function I_x(a, b) (Numerical Recipes' continued fraction, 200 terms evaluated
 * from the tail), for beta_cdf and welch_test.
 */
export function incompleteBeta(x: string, a: string, b: string): string {
  return withValues([x, a, b], ([xv, av, bv]) => {
    const cf = (X: string, A: string, B: string) => {
      // 1 + d1/(1 + d2/(1 + ...)): step m pairs d(2m-1) (odd) with d(2m) (even), evaluated from the tail.
      const even = `(__m * (${B} - __m) * ${X}) / ((${A} + 2 * __m - 1) * (${A} + 2 * __m))`;
      const odd = `(-(${A} + __m - 1) * (${A} + ${B} + __m - 1) * ${X}) / ((${A} + 2 * __m - 2) * (${A} + 2 * __m - 1))`;
      return `(1 / list_reduce(list_transform(range(100, 0, -1), lambda __k: CAST(__k AS DOUBLE)), lambda __t, __m: 1 + ${odd} / (1 + ${even} / __t), 1.0::DOUBLE))`;
    };
    const front = (X: string, A: string, B: string) =>
      `exp(lgamma(${A} + ${B}) - lgamma(${A}) - lgamma(${B}) + ${A} * ln(${X}) + ${B} * ln(1 - ${X})) / ${A}`;
    return `(CASE WHEN ${xv} <= 0 THEN 0.0 WHEN ${xv} >= 1 THEN 1.0 WHEN ${xv} < (${av} + 1) / (${av} + ${bv} + 2) THEN ${front(xv, av, bv)} * ${cf(xv, av, bv)} ELSE 1 - ${front(`(1 - ${xv})`, bv, av)} * ${cf(`(1 - ${xv})`, bv, av)} END)`;
  });
}

const betaPdf: Template = (args, ctx) =>
  withValues(
    [real(arg(args, 0, ctx)), real(arg(args, 1, ctx)), real(arg(args, 2, ctx))],
    ([x, a, b]) =>
      `(CASE WHEN ${a} <= 0 OR ${b} <= 0 OR ${x} < 0 OR ${x} > 1 THEN ${NAN} WHEN ${x} = 0 OR ${x} = 1 THEN (CASE WHEN (${x} = 0 AND ${a} < 1) OR (${x} = 1 AND ${b} < 1) THEN ${INF} WHEN (${x} = 0 AND ${a} = 1) THEN ${b} WHEN (${x} = 1 AND ${b} = 1) THEN ${a} ELSE 0.0 END) ELSE exp(lgamma(${a} + ${b}) - lgamma(${a}) - lgamma(${b}) + (${a} - 1) * ln(${x}) + (${b} - 1) * ln(1 - ${x})) END)`,
  );

const betaCdf: Template = (args, ctx) =>
  withValues(
    [real(arg(args, 0, ctx)), real(arg(args, 1, ctx)), real(arg(args, 2, ctx))],
    ([x, a, b]) =>
      `(CASE WHEN ${a} <= 0 OR ${b} <= 0 OR ${x} < 0 OR ${x} > 1 THEN ${NAN} ELSE ${incompleteBeta(x, a, b)} END)`,
  );

/** beta_inv(p, a, b): bisection on beta_cdf (60 halvings reach double precision on [0, 1]). */
const betaInv: Template = (args, ctx) =>
  withValues([real(arg(args, 0, ctx)), real(arg(args, 1, ctx)), real(arg(args, 2, ctx))], ([p, a, b]) => {
    const mid = '((__r.lo + __r.hi) / 2)';
    const step = `lambda __r, __i: CASE WHEN ${incompleteBeta(mid, a, b)} < ${p} THEN {'lo': ${mid}, 'hi': __r.hi} ELSE {'lo': __r.lo, 'hi': ${mid}} END`;
    return `(CASE WHEN ${p} < 0 OR ${p} > 1 THEN NULL WHEN ${a} <= 0 OR ${b} <= 0 THEN ${NAN} ELSE struct_extract(list_reduce(list_transform(range(56), lambda __k: {'lo': CAST(__k AS DOUBLE), 'hi': 0.0::DOUBLE}), ${step}, {'lo': 0.0::DOUBLE, 'hi': 1.0::DOUBLE}), 'lo') END)`;
  });

/**
 * Unit conversions as Kusto does them (its factors come from the UnitsNet library): each unit has an expression to
 * the quantity's base unit and back, in `x`. Prefixed units (Kilo..., Milli...) scale the unit's value first.
 */
export type Conv = readonly [toBase: string, fromBase: string];
const PREFIX: Readonly<Record<string, string>> = {
  Pico: '1e-12',
  Nano: '1e-9',
  Micro: '1e-6',
  Milli: '1e-3',
  Centi: '1e-2',
  Deci: '1e-1',
  Deca: '1e1',
  Hecto: '1e2',
  Kilo: '1e3',
  Mega: '1e6',
  Giga: '1e9',
  Tera: '1e12',
};
const mulBy = (f: string): Conv => [`x*${f}`, `x/${f}`];
const divBy = (f: string): Conv => [`x/${f}`, `x*${f}`];
const IDENTITY: Conv = ['x', 'x'];

/** Units of one quantity: name → conversion, with the prefixed variants UnitsNet defines. */
function units(defs: readonly (readonly [string, Conv, string?])[]): Readonly<Record<string, Conv>> {
  const out: Record<string, Conv> = {};
  for (const [name, conv, prefixes] of defs) {
    out[name] = conv;
    for (const p of prefixes?.split(' ') ?? []) {
      const f = PREFIX[p] as string;
      // `KiloX` x → X(x * 1e3) → base; base → X(base) / 1e3.
      out[`${p}${name[0]?.toLowerCase()}${name.slice(1)}`] = [conv[0].replace(/x/g, `(x*${f})`), `(${conv[1]})/${f}`];
    }
  }
  return out;
}

export const CONVERSIONS: Readonly<Record<string, Readonly<Record<string, Conv>>>> = {
  convert_angle: units([
    ['Radian', ['x*180/pi()', 'x/180*pi()'], 'Nano Micro Milli Centi Deci'],
    ['Degree', IDENTITY, 'Nano Micro Milli'],
    ['Arcminute', divBy('60')],
    ['Arcsecond', divBy('3600')],
    ['Gradian', mulBy('0.9')],
    ['NatoMil', ['x*9/160', 'x*160/9']],
    ['Revolution', mulBy('360')],
    ['Tilt', ['asin(x)*180/pi()', 'sin(x/180*pi())']],
  ]),
  convert_energy: units([
    ['Joule', IDENTITY, 'Milli Kilo Mega Giga'],
    ['Calorie', mulBy('4.184'), 'Kilo Mega'],
    ['BritishThermalUnit', mulBy('1055.05585262'), 'Kilo Mega Giga'],
    ['ElectronVolt', mulBy('1.602176565e-19'), 'Kilo Mega Giga Tera'],
    ['FootPound', mulBy('1.355817948')],
    ['Erg', mulBy('1e-7')],
    ['WattHour', mulBy('3600.0'), 'Kilo Mega Giga Tera'],
    ['WattDay', mulBy('86400.0'), 'Kilo Mega Giga Tera'],
    ['ThermEc', mulBy('1.05505585262e8'), 'Deca'],
    ['ThermUs', mulBy('1.054804e8'), 'Deca'],
    ['ThermImperial', mulBy('1.05505585257348e8'), 'Deca'],
    ['HorsePowerHour', mulBy('2.6845195377e6')],
  ]),
  convert_force: units([
    ['Dyn', divBy('1e5')],
    ['KilogramForce', mulBy('9.80665002864')],
    ['TonneForce', mulBy('9.80665002864e3')],
    ['Newton', IDENTITY, 'Micro Milli Deca Kilo Mega'],
    ['KiloPond', mulBy('9.80665002864')],
    ['Poundal', mulBy('0.13825502798973041652092282466083')],
    ['PoundForce', mulBy('4.4482216152605095551842641431421'), 'Kilo'],
    ['OunceForce', mulBy('2.780138509537812e-1')],
    ['ShortTonForce', mulBy('8.896443230521e3')],
  ]),
  convert_length: units([
    ['Meter', IDENTITY, 'Nano Micro Milli Centi Deci Deca Hecto Kilo Mega'],
    ['Mile', mulBy('1609.34')],
    ['Yard', mulBy('0.9144')],
    ['Foot', mulBy('0.3048')],
    ['UsSurveyFoot', ['x*1200/3937', 'x*3937/1200']],
    ['Inch', mulBy('2.54e-2')],
    ['Mil', mulBy('2.54e-5')],
    ['NauticalMile', mulBy('1852')],
    ['Fathom', mulBy('1.8288')],
    ['Shackle', mulBy('27.432')],
    ['Microinch', mulBy('2.54e-8')],
    ['PrinterPoint', ['(x/72.27)*2.54e-2', '(x/2.54e-2)*72.27']],
    ['DtpPoint', ['(x/72)*2.54e-2', '(x/2.54e-2)*72']],
    ['PrinterPica', divBy('237.106301584')],
    ['DtpPica', divBy('236.220472441')],
    ['Twip', divBy('56692.913385826')],
    ['Hand', mulBy('1.016e-1')],
    ['AstronomicalUnit', mulBy('1.4959787070e11')],
    ['LightYear', mulBy('9.46073047258e15'), 'Kilo Mega'],
    ['Parsec', mulBy('3.08567758128e16'), 'Kilo Mega'],
    ['SolarRadius', mulBy('6.95510000e8')],
    ['Chain', mulBy('20.1168')],
    ['DataMile', mulBy('1828.8')],
  ]),
  convert_mass: units([
    ['Gram', divBy('1e3'), 'Pico Nano Micro Milli Centi Deci Deca Hecto Kilo'],
    ['Tonne', mulBy('1e3'), 'Kilo Mega'],
    ['ShortTon', mulBy('9.0718474e2')],
    ['LongTon', mulBy('1.0160469088e3')],
    ['Pound', mulBy('0.45359237'), 'Kilo Mega'],
    ['Ounce', mulBy('0.028349523125')],
    ['Slug', divBy('6.852176556196105e-2')],
    ['Stone', divBy('0.1574731728702698')],
    ['ShortHundredweight', divBy('0.022046226218487758')],
    ['LongHundredweight', divBy('0.01968413055222121')],
    ['Grain', divBy('15432.358352941431')],
    ['SolarMass', mulBy('1.98947e30')],
    ['EarthMass', mulBy('5.9722E+24')],
  ]),
  convert_speed: units([
    ['MeterPerSecond', IDENTITY, 'Nano Micro Milli Centi Deci Kilo'],
    ['MeterPerMinute', divBy('60'), 'Nano Micro Milli Centi Deci Kilo'],
    ['MeterPerHour', divBy('3600'), 'Milli Centi Kilo'],
    ['FootPerSecond', mulBy('0.3048')],
    ['FootPerMinute', ['x*0.3048/60', 'x/0.3048*60']],
    ['FootPerHour', ['x*0.3048/3600', 'x/0.3048*3600']],
    ['UsSurveyFootPerSecond', ['x*1200/3937', 'x*3937/1200']],
    ['UsSurveyFootPerMinute', ['(x*1200/3937)/60', '(x*3937/1200)*60']],
    ['UsSurveyFootPerHour', ['(x*1200/3937)/3600', '(x*3937/1200)*3600']],
    ['InchPerSecond', mulBy('2.54e-2')],
    ['InchPerMinute', ['(x/60)*2.54e-2', '(x/2.54e-2)*60']],
    ['InchPerHour', ['(x/3600)*2.54e-2', '(x/2.54e-2)*3600']],
    ['YardPerSecond', mulBy('0.9144')],
    ['YardPerMinute', ['x*0.9144/60', 'x/0.9144*60']],
    ['YardPerHour', ['x*0.9144/3600', 'x/0.9144*3600']],
    ['Knot', mulBy('0.514444')],
    ['MilePerHour', mulBy('0.44704')],
  ]),
  convert_volume: units([
    ['Liter', divBy('1e3'), 'Micro Milli Centi Deci Hecto Kilo Mega'],
    ['CubicMeter', IDENTITY, 'Hecto Kilo'],
    ['CubicKilometer', mulBy('1e9')],
    ['CubicHectometer', mulBy('1e6')],
    ['CubicDecimeter', divBy('1e3')],
    ['CubicCentimeter', divBy('1e6')],
    ['CubicMillimeter', divBy('1e9')],
    ['CubicMicrometer', divBy('1e18')],
    ['CubicMile', mulBy('4.16818182544058e9')],
    ['CubicYard', mulBy('0.764554858')],
    ['CubicFoot', mulBy('0.0283168'), 'Hecto Kilo Mega'],
    ['CubicInch', ['x*1.6387*1e-5', 'x/(1.6387*1e-5)']],
    ['ImperialGallon', mulBy('0.00454609000000181429905810072407'), 'Kilo Mega'],
    ['ImperialOunce', mulBy('2.8413062499962901241875439064617e-5')],
    ['UsGallon', mulBy('0.00378541'), 'Kilo Mega'],
    ['UsOunce', mulBy('2.957352956253760505068307980135e-5')],
    ['UsTablespoon', mulBy('1.478676478125e-5')],
    ['AuTablespoon', mulBy('2e-5')],
    ['UkTablespoon', mulBy('1.5e-5')],
    ['MetricTeaspoon', mulBy('0.5e-5')],
    ['UsTeaspoon', mulBy('4.92892159375e-6')],
    ['MetricCup', mulBy('0.00025')],
    ['UsCustomaryCup', mulBy('0.0002365882365')],
    ['UsLegalCup', mulBy('0.00024')],
    ['OilBarrel', mulBy('0.158987294928')],
    ['UsBeerBarrel', mulBy('0.1173477658')],
    ['ImperialBeerBarrel', mulBy('0.16365924')],
    ['UsQuart', mulBy('9.46352946e-4')],
    ['UsPint', mulBy('4.73176473e-4')],
    ['AcreFoot', divBy('0.000810714')],
    ['ImperialPint', mulBy('5.6826125e-4')],
  ]),
};

export function findUnit(table: Readonly<Record<string, Conv>>, name: string): Conv | undefined {
  const key = Object.keys(table).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : table[key];
}

/** Substitutes a SQL value for `x` in a conversion expression (numbers are read as DOUBLE). */
function applyConv(expr: string, x: string): string {
  const typed = expr.replace(/(?<![\w.])(\d+(?:\.\d+)?(?:e[+-]?\d+)?)/gi, (m) => `${m}::DOUBLE`);
  return `(${typed.replace(/\bx\b/g, `(${x})`)})`;
}

function converter(fn: string): Template {
  const table = CONVERSIONS[fn] as Readonly<Record<string, Conv>>;
  return (args, ctx) => {
    const v = real(arg(args, 0, ctx));
    const from = literalString(arg(args, 1, ctx));
    const to = literalString(arg(args, 2, ctx));
    if (from === null || to === null) return ctx.unsupported(`${fn}() with computed units`);
    const f = findUnit(table, from);
    const t = findUnit(table, to);
    if (f === undefined || t === undefined) return 'CAST(NULL AS DOUBLE)';
    return withValue(applyConv(f[0], v), (b) => applyConv(t[1], b));
  };
}

/** Temperature scales: to Kelvin as (x + add) * mul, back as x / mul - add. */
const TEMPERATURE: Readonly<Record<string, [number, number]>> = {
  DegreeCelsius: [273.15, 1],
  DegreeDelisle: [0, 0],
  DegreeFahrenheit: [459.67, 5 / 9],
  DegreeNewton: [0, 0],
  DegreeRankine: [0, 5 / 9],
  DegreeReaumur: [218.52, 5 / 4],
  DegreeRoemer: [0, 0],
  Kelvin: [0, 1],
  SolarTemperature: [0, 5778],
};

export function toKelvin(unit: string, x: string): string | null {
  switch (unit) {
    case 'degreedelisle':
      return `(373.15 - ${x} * 2 / 3)`;
    case 'degreenewton':
      return `(${x} * 100 / 33 + 273.15)`;
    case 'degreeroemer':
      return `((${x} - 7.5) * 40 / 21 + 273.15)`;
    default: {
      const key = Object.keys(TEMPERATURE).find((k) => k.toLowerCase() === unit);
      if (!key) return null;
      const [add, mul] = TEMPERATURE[key] as [number, number];
      return `((${x} + ${add}) * ${mul})`;
    }
  }
}

export function fromKelvin(unit: string, k: string): string | null {
  switch (unit) {
    case 'degreedelisle':
      return `((373.15 - ${k}) * 3 / 2)`;
    case 'degreenewton':
      return `((${k} - 273.15) * 33 / 100)`;
    case 'degreeroemer':
      return `((${k} - 273.15) * 21 / 40 + 7.5)`;
    default: {
      const key = Object.keys(TEMPERATURE).find((x) => x.toLowerCase() === unit);
      if (!key) return null;
      const [add, mul] = TEMPERATURE[key] as [number, number];
      return `(${k} / ${mul} - ${add})`;
    }
  }
}

const convertTemperature: Template = (args, ctx) => {
  const from = literalString(arg(args, 1, ctx));
  const to = literalString(arg(args, 2, ctx));
  if (from === null || to === null) return ctx.unsupported('convert_temperature() with computed units');
  const k = toKelvin(from.toLowerCase(), real(arg(args, 0, ctx)));
  if (k === null) return 'CAST(NULL AS DOUBLE)';
  return withValue(k, (kv) => fromKelvin(to.toLowerCase(), kv) ?? 'CAST(NULL AS DOUBLE)');
};

/** tohex(value [, minLength]): lower-case two's complement hex (32 bits for an int, 64 for a long). */
const tohex: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  const hex =
    a.type === 'int'
      ? withValue(
          a.sql,
          (v) => `(CASE WHEN ${v} < 0 THEN right(lower(hex(CAST(${v} AS BIGINT))), 8) ELSE lower(hex(${v})) END)`,
        )
      : `lower(hex(${long(a)}))`;
  const min = args[1] ? `CAST(${args[1].sql} AS INTEGER)` : null;
  const out = min ? withValue(hex, (h) => `lpad(${h}, CAST(greatest(${min}, length(${h})) AS INTEGER), '0')`) : hex;
  return `COALESCE(${out}, '')`;
};

const round: Template = (args, ctx) => {
  const x = arg(args, 0, ctx);
  const p = args[1] ? `CAST(${args[1].sql} AS INTEGER)` : '0';
  if (x.type === 'int' || x.type === 'long') return typed(`round(${x.sql}, ${p})`, ctx.resultType);
  return typed(`round(${x.type === 'decimal' ? x.sql : real(x)}, ${p})`, ctx.resultType);
};

/** welch_test(mean1, var1, n1, mean2, var2, n2): the two-sided p-value of Welch's t-test. */
const welchTest: Template = (args, ctx) => {
  const v = [0, 1, 2, 3, 4, 5].map((i) => real(arg(args, i, ctx)));
  return withValues(v, ([m1, s1, n1, m2, s2, n2]) =>
    withValues(
      [
        `(${s1} / ${n1} + ${s2} / ${n2})`,
        `((${s1} / ${n1}) * (${s1} / ${n1}) / (${n1} - 1) + (${s2} / ${n2}) * (${s2} / ${n2}) / (${n2} - 1))`,
      ],
      ([se2, den]) =>
        withValues(
          [`(${m1} - ${m2}) / sqrt(${se2})`, `(${se2} * ${se2} / ${den})`],
          ([t, df]) => `${incompleteBeta(`(${df} / (${df} + ${t} * ${t}))`, `(${df} / 2)`, '0.5')}`,
        ),
    ),
  );
};

const binary =
  (op: string): Template =>
  (args, ctx) =>
    `(${long(arg(args, 0, ctx))} ${op} ${long(arg(args, 1, ctx))})`;

export const MATH_FUNCTIONS: Readonly<Record<string, Template>> = {
  abs: (args, ctx) => {
    const a = arg(args, 0, ctx);
    if (a.type === 'long' || a.type === 'int' || a.type === 'timespan')
      return withValue(a.sql, (v) => `(CASE WHEN ${v} = (-9223372036854775807 - 1) THEN ${v} ELSE abs(${v}) END)`);
    return `abs(${a.type === 'dynamic' ? real(a) : a.sql})`;
  },
  acos: unary(
    (x) => `acos(${x})`,
    (x) => `WHEN ${x} < -1 OR ${x} > 1 THEN ${NAN}`,
  ),
  asin: unary(
    (x) => `asin(${x})`,
    (x) => `WHEN ${x} < -1 OR ${x} > 1 THEN ${NAN}`,
  ),
  atan: unary((x) => `atan(${x})`),
  atan2: (args, ctx) => `atan2(${real(arg(args, 0, ctx))}, ${real(arg(args, 1, ctx))})`,
  cos: unary(
    (x) => `cos(${x})`,
    (x) => `WHEN isinf(${x}) THEN ${NAN}`,
  ),
  sin: unary(
    (x) => `sin(${x})`,
    (x) => `WHEN isinf(${x}) THEN ${NAN}`,
  ),
  tan: unary(
    (x) => `tan(${x})`,
    (x) => `WHEN isinf(${x}) THEN ${NAN}`,
  ),
  cot: unary(
    (x) => `(1 / tan(${x}))`,
    (x) => `WHEN isinf(${x}) THEN ${NAN}`,
  ),
  degrees: unary((x) => `degrees(${x})`),
  radians: unary((x) => `radians(${x})`),
  pi: () => 'pi()',
  exp: unary((x) => `exp(${x})`),
  exp2: unary((x) => `pow(2.0, ${x})`),
  exp10: unary((x) => `pow(10.0, ${x})`),
  log: logOf('ln'),
  log2: logOf('log2'),
  log10: logOf('log10'),
  gamma: unary(
    (x) => `gamma(${x})`,
    (x) => `WHEN ${x} = 0 THEN ${INF} WHEN ${x} < 0 AND ${x} = floor(${x}) THEN ${NAN} WHEN ${x} > 171.7 THEN ${INF}`,
  ),
  loggamma: unary(
    (x) => `lgamma(${x})`,
    (x) => `WHEN ${x} <= 0 AND ${x} = floor(${x}) THEN ${INF}`,
  ),
  pow: (args, ctx) => `pow(${real(arg(args, 0, ctx))}, ${real(arg(args, 1, ctx))})`,
  sqrt: unary(
    (x) => `sqrt(${x})`,
    (x) => `WHEN ${x} < 0 THEN ${NAN}`,
  ),
  erf: unary(erfSql),
  erfc: unary(erfcSql),
  round,
  ceiling: (args, ctx) => typed(`ceiling(${arg(args, 0, ctx).sql})`, ctx.resultType),
  floor: (args, ctx) => {
    const a = arg(args, 0, ctx);
    // floor(x, size) is bin().
    if (args.length > 1) return bin(args, ctx);
    return typed(`floor(${a.sql})`, ctx.resultType);
  },
  sign: (args, ctx) => typed(`sign(${real(arg(args, 0, ctx))})`, ctx.resultType),
  isnan: (args, ctx) => {
    const a = arg(args, 0, ctx);
    return a.type === 'real' ? `isnan(${a.sql})` : `COALESCE(isnan(${real(a)}), false)`;
  },
  isinf: (args, ctx) => `isinf(${real(arg(args, 0, ctx))})`,
  isfinite: (args, ctx) => `isfinite(${real(arg(args, 0, ctx))})`,
  rand: (args) => (args[0] ? `CAST(floor(random() * ${args[0].sql}) AS BIGINT)` : 'random()'),
  binary_and: binary('&'),
  binary_or: binary('|'),
  binary_xor: (args, ctx) => `xor(${long(arg(args, 0, ctx))}, ${long(arg(args, 1, ctx))})`,
  binary_not: (args, ctx) => `(~${long(arg(args, 0, ctx))})`,
  binary_shift_left: (args, ctx) => shiftLeft(long(arg(args, 0, ctx)), long(arg(args, 1, ctx))),
  binary_shift_right: (args, ctx) => `(${long(arg(args, 0, ctx))} >> ((${long(arg(args, 1, ctx))}) & 63))`,
  bitset_count_ones: (args, ctx) => `CAST(bit_count(${long(arg(args, 0, ctx))}) AS BIGINT)`,
  tohex,
  beta_pdf: betaPdf,
  beta_cdf: betaCdf,
  beta_inv: betaInv,
  welch_test: welchTest,
  convert_angle: converter('convert_angle'),
  convert_energy: converter('convert_energy'),
  convert_force: converter('convert_force'),
  convert_length: converter('convert_length'),
  convert_mass: converter('convert_mass'),
  convert_speed: converter('convert_speed'),
  convert_volume: converter('convert_volume'),
  convert_temperature: convertTemperature,
};
