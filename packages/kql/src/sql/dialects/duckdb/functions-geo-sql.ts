/**
 * SQL building blocks for the geo templates (functions-geo-*.ts). Kusto's geo functions are built on Google's S2
 * library: the Earth is a sphere of radius 6,371,010 m, points are unit vectors, edges are great-circle arcs. The
 * templates compute the same formulas in plain DuckDB SQL (no spatial extension).
 *
 * Long computations are written as a {@link Pipe}: a chain of `list_transform` stages over a one-element list,
 * each stage adding one field to a struct (`struct_insert`). Values are computed once and referred to by name,
 * and the lambda nesting stays shallow — DuckDB binds nested lambdas in time exponential in their depth, so the
 * obvious `list_transform([v], lambda x: ...)` let-binding cannot be nested more than a few levels.
 * Loops are {@link fold}s (`list_reduce` over `range()`), whose step is a pipe one level deeper.
 *
 * Conventions: a point on the sphere is a STRUCT(x, y, z) of DOUBLEs; an invalid input gives SQL NULL (Kusto's
 * null result). DuckDB raises errors for acos/asin outside [-1, 1], sqrt of negatives, trig of infinities and
 * oversized shifts, so every such call is clamped or guarded.
 */
import type { SqlArg } from '../../dialect.js';
import { dynamicToNumber } from './base.js';

/** S2's Earth radius (S2Earth::RadiusMeters), which Kusto uses for every distance and area. */
export const EARTH_RADIUS_M = 6371010;
/** π/180 and 180/π as S2 and H3 multiply by them (not `radians()`, whose rounding may differ). */
export const DEG_TO_RAD = '0.017453292519943295e0';
export const RAD_TO_DEG = '57.29577951308232e0';
export const PI = 'pi()';

/** Unique lambda-parameter names for one template call. */
export class Ids {
  private n = 0;
  next(): string {
    return `__g${this.n++}`;
  }
}

/** Expressions up to this length are repeated where used rather than computed in a stage of their own. */
let INLINE_LIMIT = 120;
/** Tuning knob for experiments (scratch benchmarks). */
export function setInlineLimit(n: number): void {
  INLINE_LIMIT = n;
}
const TRIVIAL = /^(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|-?\d+(?:\.\d+)?(?:e-?\d+)?)$/;

/**
 * A sequence of computed values: `let(expr)` adds a stage computing `expr` (which may refer to earlier values and
 * to any name in scope) and returns a reference to the value; `done(result)` is the SQL of the whole computation.
 */
export class Pipe {
  private readonly stages: string[] = [];
  private readonly inputs: string[] = [];
  private n = 0;
  readonly p: string;
  constructor(readonly ids: Ids) {
    this.p = ids.next();
  }
  /**
   * A value computed outside the pipe's lambdas (a template argument: it may hold a subquery, and DuckDB does not
   * allow subqueries inside lambdas).
   */
  input(expr: string): string {
    if (TRIVIAL.test(expr)) return expr;
    const f = `a${this.inputs.length}`;
    this.inputs.push(`'${f}': ${expr}`);
    return `${this.p}.${f}`;
  }
  let(expr: string): string {
    if (TRIVIAL.test(expr)) return expr;
    // A short expression is cheaper to repeat than a stage (DuckDB's binding cost grows with the stage count).
    if (expr.length <= INLINE_LIMIT && !expr.includes('lambda')) return `(${expr})`;
    const f = `v${this.n++}`;
    this.stages.push(`struct_insert(${this.p}, ${f} := ${expr})`);
    return `${this.p}.${f}`;
  }
  /** Several independent values in one stage. */
  lets(exprs: readonly string[]): string[] {
    const out: string[] = [];
    const fields: string[] = [];
    for (const e of exprs) {
      if (TRIVIAL.test(e)) {
        out.push(e);
        continue;
      }
      if (e.length <= INLINE_LIMIT && !e.includes('lambda')) {
        out.push(`(${e})`);
        continue;
      }
      const f = `v${this.n++}`;
      fields.push(`${f} := ${e}`);
      out.push(`${this.p}.${f}`);
    }
    if (fields.length) this.stages.push(`struct_insert(${this.p}, ${fields.join(', ')})`);
    return out;
  }
  done(result: string): string {
    if (this.stages.length === 0 && this.inputs.length === 0) return result;
    let sql = `[{'_': 0${this.inputs.map((i) => `, ${i}`).join('')}}]`;
    for (const st of this.stages) sql = `list_transform(${sql}, lambda ${this.p}: ${st})`;
    return `list_transform(${sql}, lambda ${this.p}: ${result})[1]`;
  }
}

/** Runs `body` in a fresh pipe and returns the pipe's SQL (for code inside a lambda). */
export function piped(ids: Ids, body: (p: Pipe) => string): string {
  const p = new Pipe(ids);
  return p.done(body(p));
}

/**
 * A loop as `list_reduce`: the state starts as `init` and becomes `step(state, i)` for each i of `indices` (a list
 * of integers). DuckDB wants the list elements and the state to have the same type, so each element is the
 * initial state with the loop index in field `__i`; `step` returns every field of `init`, with the same types,
 * computed in its own pipe. The result is the final state struct (fields as in `init`, plus `__i`).
 */
export function fold(
  ids: Ids,
  indices: string,
  init: Readonly<Record<string, string>>,
  step: (p: Pipe, state: string, i: string) => Readonly<Record<string, string>>,
): string {
  const fields = (o: Readonly<Record<string, string>>, i: string) =>
    `{'__i': CAST(${i} AS BIGINT), ${Object.entries(o)
      .map(([k, v]) => `'${k}': ${v}`)
      .join(', ')}}`;
  const x = ids.next();
  const s = ids.next();
  const e = ids.next();
  const body = piped(ids, (p) => fields(step(p, s, `${e}.__i`), `${e}.__i`));
  return `list_reduce(list_transform(${indices}, lambda ${x}: ${fields(init, x)}), lambda ${s}, ${e}: ${body}, ${fields(init, '-1')})`;
}

/** Any numeric argument as a DOUBLE (Kusto converts int/long/decimal/dynamic numbers to real for geo functions). */
export function num(a: SqlArg): string {
  switch (a.type) {
    case 'real':
      return a.sql;
    case 'int':
    case 'long':
    case 'decimal':
      return `CAST(${a.sql} AS DOUBLE)`;
    case 'dynamic':
      return dynamicToNumber(a.sql);
    case 'string':
      return `TRY_CAST(${a.sql} AS DOUBLE)`;
    default:
      return 'CAST(NULL AS DOUBLE)';
  }
}

/** Any integer argument as a BIGINT (null when it is not an integer). */
export function int(a: SqlArg): string {
  switch (a.type) {
    case 'int':
    case 'long':
      return `CAST(${a.sql} AS BIGINT)`;
    case 'real':
    case 'decimal':
      return `TRY_CAST(trunc(${a.sql}) AS BIGINT)`;
    case 'dynamic':
      return `TRY_CAST(trunc(${dynamicToNumber(a.sql)}) AS BIGINT)`;
    default:
      return 'CAST(NULL AS BIGINT)';
  }
}

/** A valid longitude/latitude pair (NaN and nulls fail the range checks). */
export function validLngLat(lng: string, lat: string): string {
  return `(${lng} BETWEEN -180 AND 180 AND ${lat} BETWEEN -90 AND 90)`;
}

/** NULL unless `cond` holds. */
export function when(cond: string, value: string): string {
  return `CASE WHEN ${cond} THEN ${value} END`;
}

/** Domain-safe functions (DuckDB raises errors where C returns NaN). */
export const safeAcos = (x: string) => `acos(greatest(-1.0e0, least(1.0e0, ${x})))`;
export const safeAsin = (x: string) => `asin(greatest(-1.0e0, least(1.0e0, ${x})))`;
export const safeSqrt = (x: string) => `sqrt(greatest(0.0e0, ${x}))`;

// ───────────────────────────── unit vectors ─────────────────────────────

/** A vector struct from three expressions. */
export function vec(x: string, y: string, z: string): string {
  return `{'x': ${x}, 'y': ${y}, 'z': ${z}}`;
}

/** S2LatLng::ToPoint: a unit vector from degrees. */
export function xyz(p: Pipe, lng: string, lat: string): string {
  const [t, f] = p.lets([`(${lng}) * ${DEG_TO_RAD}`, `(${lat}) * ${DEG_TO_RAD}`]) as [string, string];
  const c = p.let(`cos(${f})`);
  return p.let(vec(`cos(${t}) * ${c}`, `sin(${t}) * ${c}`, `sin(${f})`));
}

export function dot(a: string, c: string): string {
  return `(${a}.x * ${c}.x + ${a}.y * ${c}.y + ${a}.z * ${c}.z)`;
}

export function cross(a: string, c: string): string {
  return vec(
    `${a}.y * ${c}.z - ${a}.z * ${c}.y`,
    `${a}.z * ${c}.x - ${a}.x * ${c}.z`,
    `${a}.x * ${c}.y - ${a}.y * ${c}.x`,
  );
}

export function add(a: string, c: string): string {
  return vec(`${a}.x + ${c}.x`, `${a}.y + ${c}.y`, `${a}.z + ${c}.z`);
}

export function sub(a: string, c: string): string {
  return vec(`${a}.x - ${c}.x`, `${a}.y - ${c}.y`, `${a}.z - ${c}.z`);
}

export function scale(a: string, k: string): string {
  return vec(`${a}.x * (${k})`, `${a}.y * (${k})`, `${a}.z * (${k})`);
}

export function norm(a: string): string {
  return `sqrt(${dot(a, a)})`;
}

/** Degrees of longitude of a vector (S2LatLng::Longitude). */
export function lngOf(v: string): string {
  return `(atan2(${v}.y, ${v}.x) * ${RAD_TO_DEG})`;
}

/** Degrees of latitude of a vector (S2LatLng::Latitude). */
export function latOf(v: string): string {
  return `(atan2(${v}.z, sqrt(${v}.x * ${v}.x + ${v}.y * ${v}.y)) * ${RAD_TO_DEG})`;
}

/** The haversine central angle of two points in degrees (S2LatLng::GetDistance). */
export function haversine(p: Pipe, lng1: string, lat1: string, lng2: string, lat2: string): string {
  const [p1, p2, dlat, dlng] = p.lets([
    `(${lat1}) * ${DEG_TO_RAD}`,
    `(${lat2}) * ${DEG_TO_RAD}`,
    `sin(0.5e0 * ((${lat2}) * ${DEG_TO_RAD} - (${lat1}) * ${DEG_TO_RAD}))`,
    `sin(0.5e0 * ((${lng2}) * ${DEG_TO_RAD} - (${lng1}) * ${DEG_TO_RAD}))`,
  ]) as [string, string, string, string];
  return p.let(`(2 * asin(sqrt(least(1.0e0, ${dlat} * ${dlat} + ${dlng} * ${dlng} * cos(${p1}) * cos(${p2})))))`);
}

// ───────────────────────────── GeoJSON output ─────────────────────────────

/** A GeoJSON point from degree expressions. */
export function pointJson(lng: string, lat: string): string {
  return `json_object('type', 'Point', 'coordinates', json_array(${lng}, ${lat}))`;
}

/** A GeoJSON polygon from a DOUBLE[][] ring expression (one ring). */
export function polygonJson(ring: string): string {
  return `json_object('type', 'Polygon', 'coordinates', to_json([${ring}]))`;
}

// ───────────────────────────── GeoJSON input ─────────────────────────────

/** The JSON text of a value holds only numbers and brackets (DuckDB's casts would accept "1" and true). */
function numericOnly(json: string): string {
  return `regexp_full_match(CAST(${json} AS VARCHAR), '[\\[\\]0-9eE+\\-., ]*')`;
}

/** Every element of a list satisfies a condition (false for an empty list; a NULL condition counts as false). */
export function all(list: string, param: string, cond: string): string {
  return `COALESCE(list_bool_and(list_transform(${list}, lambda ${param}: COALESCE(${cond}, false))), false)`;
}

/** All [lng, lat] pairs of a DOUBLE[][] are two valid coordinates. */
export function validCoords(coords: string): string {
  return all(coords, 'c', 'len(c) = 2 AND c[1] BETWEEN -180 AND 180 AND c[2] BETWEEN -90 AND 90');
}

/** `d.coordinates` of a GeoJSON value of one of `types`, cast to `sqlType` when numbers-only, else NULL. */
export function coordinatesOf(d: string, types: readonly string[], sqlType: string): string {
  const t = `json_extract_string(${d}, '$.type')`;
  const c = `json_extract(${d}, '$.coordinates')`;
  return `CASE WHEN ${t} IN (${types.map((x) => `'${x}'`).join(', ')}) AND ${numericOnly(c)} THEN TRY_CAST(${c} AS ${sqlType}) END`;
}

/**
 * The lines of a LineString or MultiLineString as DOUBLE[][][] (one list of [lng, lat] per line), NULL when the
 * value is not a valid line (fewer than two points, invalid coordinates).
 */
export function linesOf(p: Pipe, d: string): string {
  const v = p.let(d);
  const ls = p.let(
    `CASE json_extract_string(${v}, '$.type') WHEN 'LineString' THEN [${coordinatesOf(v, ['LineString'], 'DOUBLE[][]')}] WHEN 'MultiLineString' THEN ${coordinatesOf(v, ['MultiLineString'], 'DOUBLE[][][]')} END`,
  );
  return p.let(when(all(ls, 'l', `len(l) >= 2 AND ${validCoords('l')}`), ls));
}

/** The single LineString of a value as DOUBLE[][] (NULL if it is not a valid LineString). */
export function lineOf(p: Pipe, d: string): string {
  const l = p.let(coordinatesOf(d, ['LineString'], 'DOUBLE[][]'));
  return p.let(when(`len(${l}) >= 2 AND ${validCoords(l)}`, l));
}

// ───────────────────────────── constants as SQL ─────────────────────────────

/** A DOUBLE literal that DuckDB parses as a double (a plain decimal literal would be a DECIMAL first). */
export function dbl(v: number): string {
  if (Number.isNaN(v) || !Number.isFinite(v)) throw new Error(`internal: not a finite double: ${v}`);
  const t = String(v);
  return /[eE]/.test(t) ? t : `${t}e0`;
}

/** A DOUBLE[] literal. */
export function doubles(values: readonly number[]): string {
  return `[${values.map(dbl).join(', ')}]`;
}

/** An INTEGER[] literal. */
export function ints(values: readonly number[]): string {
  return `([${values.map((v) => String(Math.trunc(v))).join(', ')}]::INTEGER[])`;
}

/**
 * A lookup table as one string constant: entry `index` (0-based SQL expression) is the fixed-width slice of the
 * text, cast back to its type. DuckDB binds a long list literal element by element, which costs far more than
 * one string; the decimal text of a double round-trips exactly (shortest representation, correctly rounded cast).
 */
export function lookup(values: readonly number[], index: string): string {
  const isInt = values.every((v) => Number.isInteger(v));
  const texts = values.map((v) => (isInt ? String(v) : String(v)));
  const w = Math.max(...texts.map((t) => t.length));
  const text = texts.map((t) => t.padStart(w, ' ')).join('');
  return `CAST(trim(substr('${text}', CAST(${w} * (${index}) + 1 AS BIGINT), ${w})) AS ${isInt ? 'INTEGER' : 'DOUBLE'})`;
}

/**
 * `expr` when `cond` holds, else NULL — evaluated only when needed. A CASE branch is lazy when DuckDB runs it,
 * but its optimizer folds every constant subexpression, unused branches included; a lambda over an empty list
 * is never called, folded or not.
 */
export function lazy(cond: string, expr: string): string {
  return `list_transform(CASE WHEN ${cond} THEN [0] ELSE []::INTEGER[] END, lambda __lz: ${expr})[1]`;
}
