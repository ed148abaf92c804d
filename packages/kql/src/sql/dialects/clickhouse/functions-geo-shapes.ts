/**
 * Geo functions on lines and polygons (GeoJSON LineString/MultiLineString, Polygon/MultiPolygon) in ClickHouse,
 * with the steps of the DuckDB templates (`../duckdb/functions-geo-shapes.ts`: great-circle edges on S2's sphere,
 * S2's crossing tests, l'Huilier/Girard triangle areas). Vectors are (x, y, z) tuples; an edge is the tuple
 * (a, b, n = a × b, n × a, b × n). ClickHouse folds a constant shape once per block, so the usual
 * `geo_point_in_polygon(lng, lat, dynamic({...}))` prepares its polygon once.
 * A MultiPolygon's area, perimeter and centroid follow the boundary of its polygons' union (as on DuckDB).
 */
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import { arg, dynamicToNumber } from './base.js';

/** The Earth's radius (m) S2 uses, and degrees ↔ radians. */
export const R = '6371010.0';
export const DEG = '0.017453292519943295';
export const TO_DEG = '57.29577951308232';

/** Lambda-parameter names unique within one template call (the prefix keeps two families of templates apart). */
export class Ids {
  private n = 0;
  constructor(private readonly prefix: string) {}
  next(): string {
    this.n++;
    return `${this.prefix}${this.n}`;
  }
  reset(): void {
    this.n = 0;
  }
}

/**
 * The names of one template call (reset at each call, so the SQL text is deterministic): the vector helpers bind
 * their non-trivial operands through it, or the text of nested cross products would grow exponentially.
 */
const SHARED = new Ids('__s');

function bind(ids: Ids, values: readonly string[], body: (names: string[]) => string): string {
  const names = values.map(() => ids.next());
  return `arrayElement(arrayMap((${names.join(', ')}) -> ${body(names)}, ${values.map((v) => `[${v}]`).join(', ')}), 1)`;
}

const el = (v: string, i: number) => `tupleElement(${v}, ${i})`;
const vec = (x: string, y: string, z: string) => `tuple(toFloat64(${x}), toFloat64(${y}), toFloat64(${z}))`;
/** A column name, lambda parameter, array element or tuple element: cheap to repeat. */
const NAME = /^[\w.]+(?:\[[\w.]+(?: [+-] \d+)?\])*(?:\.\d)?$/;
const trivial = (x: string): boolean => {
  const m = /^tupleElement\((.*), \d\)$/.exec(x);
  return NAME.test(x) || (m !== null && trivial(m[1] as string));
};

const INLINE = 300;
/** Binds the operands that are not trivial, then builds the expression from names. */
function op(xs: readonly string[], f: (names: string[]) => string): string {
  const todo = xs.map((x, i) => (trivial(x) || x.length < INLINE ? -1 : i)).filter((i) => i >= 0);
  if (!todo.length) return f([...xs]);
  return bind(
    SHARED,
    todo.map((i) => xs[i] as string),
    (names) => {
      const all = [...xs];
      todo.forEach((i, k) => {
        all[i] = names[k] as string;
      });
      return f(all);
    },
  );
}
const dot = (a0: string, b0: string) =>
  op(
    [a0, b0],
    ([a, b]) =>
      `(${el(a as string, 1)} * ${el(b as string, 1)} + ${el(a as string, 2)} * ${el(b as string, 2)} + ${el(a as string, 3)} * ${el(b as string, 3)})`,
  );
const cross = (a0: string, b0: string) =>
  op([a0, b0], ([a, b]) =>
    vec(
      `${el(a as string, 2)} * ${el(b as string, 3)} - ${el(a as string, 3)} * ${el(b as string, 2)}`,
      `${el(a as string, 3)} * ${el(b as string, 1)} - ${el(a as string, 1)} * ${el(b as string, 3)}`,
      `${el(a as string, 1)} * ${el(b as string, 2)} - ${el(a as string, 2)} * ${el(b as string, 1)}`,
    ),
  );
const norm = (a0: string) => op([a0], ([a]) => `sqrt(${dot(a as string, a as string)})`);
const plus = (a0: string, b0: string) =>
  op([a0, b0], ([a, b]) =>
    vec(
      `${el(a as string, 1)} + ${el(b as string, 1)}`,
      `${el(a as string, 2)} + ${el(b as string, 2)}`,
      `${el(a as string, 3)} + ${el(b as string, 3)}`,
    ),
  );
const minus = (a0: string, b0: string) =>
  op([a0, b0], ([a, b]) =>
    vec(
      `${el(a as string, 1)} - ${el(b as string, 1)}`,
      `${el(a as string, 2)} - ${el(b as string, 2)}`,
      `${el(a as string, 3)} - ${el(b as string, 3)}`,
    ),
  );
const scale = (a0: string, k0: string) =>
  op([a0, k0], ([a, k]) =>
    vec(`${el(a as string, 1)} * ${k}`, `${el(a as string, 2)} * ${k}`, `${el(a as string, 3)} * ${k}`),
  );
const dist2 = (a0: string, b0: string) =>
  op(
    [a0, b0],
    ([a, b]) =>
      `(pow(${el(a as string, 1)} - ${el(b as string, 1)}, 2) + pow(${el(a as string, 2)} - ${el(b as string, 2)}, 2) + pow(${el(a as string, 3)} - ${el(b as string, 3)}, 2))`,
  );

/** Unit vector of an [lng, lat] array (S2LatLng::ToPoint). */
function llToVec(c: string): string {
  const t = `(${c}[1] * ${DEG})`;
  const f = `(${c}[2] * ${DEG})`;
  return vec(`cos(${t}) * cos(${f})`, `sin(${t}) * cos(${f})`, `sin(${f})`);
}

function pointJson(v: string, ids: Ids): string {
  return bind(ids, [v], ([x]) => {
    const lng = `(atan2(${el(x as string, 2)}, ${el(x as string, 1)}) * ${TO_DEG})`;
    const lat = `(atan2(${el(x as string, 3)}, sqrt(pow(${el(x as string, 1)}, 2) + pow(${el(x as string, 2)}, 2))) * ${TO_DEG})`;
    return `concat('{"type":"Point","coordinates":[', toString(${lng}), ',', toString(${lat}), ']}')`;
  });
}

/** An edge (a, b, n, n × a, b × n); n by S2's RobustCrossProd: (a + b) × (b − a) = 2 (a × b). */
function edge(a: string, b: string, ids: Ids): string {
  return bind(
    ids,
    [cross(plus(a, b), minus(b, a))],
    ([n]) => `tuple(${a}, ${b}, ${n}, ${cross(n as string, a)}, ${cross(b, n as string)})`,
  );
}

/** The arc p→q (normal npq) and an edge cross at a point interior to both (S2's CrossingSign > 0). */
function crossesEdge(p: string, q: string, npq: string, e: string): string {
  const acb = `-sign(${dot(npq, el(e, 1))})`;
  const bda = `sign(${dot(npq, el(e, 2))})`;
  const cbd = `-sign(${dot(el(e, 3), q)})`;
  const dac = `sign(${dot(el(e, 3), p)})`;
  const shared = `(${p} = ${el(e, 1)} OR ${p} = ${el(e, 2)} OR ${q} = ${el(e, 1)} OR ${q} = ${el(e, 2)})`;
  return `(${acb} != 0 AND ${acb} = ${bda} AND ${bda} = ${cbd} AND ${cbd} = ${dac} AND NOT ${shared})`;
}

const angleBetween = (a0: string, b0: string) =>
  op([a0, b0], ([a, b]) => `atan2(${norm(cross(a as string, b as string))}, ${dot(a as string, b as string)})`);

/** Signed area of the spherical triangle (a, b, c) as S2::SignedArea computes it (l'Huilier, or Girard's when skinny). */
function triangleArea(a: string, b: string, c: string, ids: Ids, useGirard = true): string {
  return bind(ids, [angleBetween(b, c), angleBetween(c, a), angleBetween(a, b)], ([t1, t2, t3]) => {
    const half = `(0.5 * (${t1} + ${t2} + ${t3}))`;
    const lhuilier = `4 * atan(sqrt(greatest(0.0, tan(0.5 * ${half}) * tan(0.5 * (${half} - ${t1})) * tan(0.5 * (${half} - ${t2})) * tan(0.5 * (${half} - ${t3})))))`;
    const girard = bind(ids, [cross(a, b), cross(a, c), cross(b, c)], ([ab, ac, bc]) => {
      const [x, y, z] = [ab as string, ac as string, bc as string];
      return `greatest(0.0, ${angleBetween(x, y)} - ${angleBetween(x, z)} + ${angleBetween(z, y)})`;
    });
    const dmin = `(${half} - greatest(${t1}, ${t2}, ${t3}))`;
    const area = useGirard
      ? `if(${half} >= 3e-4 AND ${dmin} < 1e-2 * pow(${half}, 5) AND ${dmin} < ${half} * (0.1 * (${girard} + 5e-15)), ${girard}, ${lhuilier})`
      : lhuilier;
    return `(${area}) * sign(${dot(a, cross(b, c))})`;
  });
}

/** Distance (radians) from x to an edge: to its great circle when x projects inside the arc, else to an end. */
function edgeDistance(x: string, e: string): string {
  return `if(${dot(el(e, 4), x)} > 0 AND ${dot(el(e, 5), x)} > 0, asin(least(1.0, abs(${dot(x, el(e, 3))}) / ${norm(el(e, 3))})), least(${angleBetween(x, el(e, 1))}, ${angleBetween(x, el(e, 2))}))`;
}

/** The closest point to x on an edge (S2::Project). */
function projectOnEdge(x: string, e: string, ids: Ids): string {
  return bind(ids, [`${dot(x, el(e, 3))} / ${dot(el(e, 3), el(e, 3))}`], ([k]) =>
    bind(ids, [minus(x, scale(el(e, 3), k as string))], ([q]) => {
      const inside = `${dot(el(e, 4), q as string)} > 0 AND ${dot(el(e, 5), q as string)} > 0`;
      const unit = scale(q as string, `(1 / ${norm(q as string)})`);
      return `if(${inside}, ${unit}, if(${dist2(x, el(e, 1))} <= ${dist2(x, el(e, 2))}, ${el(e, 1)}, ${el(e, 2)}))`;
    }),
  );
}

/** The point at angle t (radians) from a toward b along their great circle (S2::GetPointOnLine). */
function pointOnLine(a: string, b: string, t: string, ids: Ids): string {
  return bind(ids, [cross(cross(a, b), a)], ([d0]) =>
    bind(ids, [plus(scale(a, `cos(${t})`), scale(d0 as string, `(sin(${t}) / ${norm(d0 as string)})`))], ([q]) =>
      scale(q as string, `(1 / ${norm(q as string)})`),
    ),
  );
}

// ───────────────────────────── parsing ─────────────────────────────

const VALID_LL = (c: string) => `(length(${c}) = 2 AND ${c}[1] BETWEEN -180 AND 180 AND ${c}[2] BETWEEN -90 AND 90)`;
const typeOf = (d: string) => `JSONExtractString(${d}, 'type')`;
/** The coordinates hold only numbers and brackets (JSONExtract would read "1" or true as numbers). */
const numericOnly = (d: string) => `match(JSONExtractRaw(${d}, 'coordinates'), '^[\\\\[\\\\]0-9eE+\\\\-., ]+$')`;
const coords = (d: string, depth: number) =>
  `JSONExtract(${d}, 'coordinates', '${'Array('.repeat(depth)}Float64${')'.repeat(depth)}')`;

function dyn(a: SqlArg): string {
  return a.type === 'dynamic' ? `ifNull(${a.sql}, '')` : "''";
}

/** A prepared line set: (ok, lines of vertices, edges), from a LineString or (unless `single`) a MultiLineString. */
function prepareLines(d0: string, single: boolean, ids: Ids, body: (s: string) => string): string {
  return bind(ids, [d0], ([d]) => {
    const ls = single
      ? `if(${typeOf(d as string)} = 'LineString', [${coords(d as string, 2)}], [])`
      : `multiIf(${typeOf(d as string)} = 'LineString', [${coords(d as string, 2)}], ${typeOf(d as string)} = 'MultiLineString', ${coords(d as string, 3)}, [])`;
    return bind(ids, [ls], ([l0]) => {
      const [l, c] = [ids.next(), ids.next()];
      const structural = `(${numericOnly(d as string)} AND length(${l0}) > 0 AND arrayAll(${l} -> length(${l}) >= 2 AND arrayAll(${c} -> ${VALID_LL(c)}, ${l}), ${l0}))`;
      return bind(ids, [structural, `arrayMap(${l} -> arrayMap(${c} -> ${llToVec(c)}, ${l}), ${l0})`], ([st, vs]) => {
        const [m, i] = [ids.next(), ids.next()];
        const ok = `(${st} AND arrayAll(${m} -> NOT arrayExists(${i} -> ${dot(`${m}[${i}]`, `${m}[${i} + 1]`)} <= -1.0, range(1, length(${m}))), ${vs}))`;
        const edges = `arrayFlatten(arrayMap(${m} -> arrayMap(${i} -> ${edge(`${m}[${i}]`, `${m}[${i} + 1]`, ids)}, range(1, length(${m}))), ${vs}))`;
        return bind(ids, [`tuple(${ok}, ${vs}, ${edges})`], ([s]) => body(s as string));
      });
    });
  });
}

/** The fan sum brought into (-2π, 2π]. */
const SG = (sm: string) => `multiIf(${sm} > 2 * pi(), ${sm} - 4 * pi(), ${sm} <= -2 * pi(), ${sm} + 4 * pi(), ${sm})`;

/**
 * A prepared polygon set: (ok, polys, edges); a poly is an array of rings (shell first), a ring the tuple
 * (vertices (not closed), edges, interior on the left, area in steradians of the ring's smaller side).
 */
function preparePolygons(d0: string, ids: Ids, body: (s: string) => string): string {
  return bind(ids, [d0], ([d]) => {
    const raw = `multiIf(${typeOf(d as string)} = 'Polygon', [${coords(d as string, 3)}], ${typeOf(d as string)} = 'MultiPolygon', ${coords(d as string, 4)}, [])`;
    return bind(ids, [raw], ([rw]) => {
      const [pg, r, c, v, i, j] = [ids.next(), ids.next(), ids.next(), ids.next(), ids.next(), ids.next()];
      const structural = `(${numericOnly(d as string)} AND length(${rw}) > 0 AND arrayAll(${pg} -> length(${pg}) > 0 AND arrayAll(${r} -> length(${r}) >= 4 AND ${r}[1] = ${r}[-1] AND arrayAll(${c} -> ${VALID_LL(c)}, ${r}), ${pg}), ${rw}))`;
      const vs = `arrayMap(${pg} -> arrayMap(${r} -> arrayMap(${c} -> ${llToVec(c)}, arraySlice(${r}, 1, length(${r}) - 1)), ${pg}), ${rw})`;
      const rings = `arrayMap(${pg} -> arrayMap(${v} -> tuple(${v}, arrayMap(${i} -> ${edge(`${v}[${i}]`, `${v}[${i} % length(${v}) + 1]`, ids)}, range(1, length(${v}) + 1))), ${pg}), ${vs})`;
      return bind(ids, [structural, rings], ([st, rg]) => {
        const es = ids.next();
        const polyOk = (p: string) =>
          `(arrayAll(${r} -> length(${r}.1) >= 3 AND length(arrayDistinct(${r}.1)) = length(${r}.1), ${p}) AND ${bind(ids, [`arrayFlatten(arrayMap(${r} -> ${r}.2, ${p}))`], ([e]) => `NOT arrayExists(${i} -> arrayExists(${j} -> ${crossesEdge(`${e}[${i}].1`, `${e}[${i}].2`, `${e}[${i}].3`, `${e}[${j}]`)}, range(${i} + 1, length(${e}) + 1)), range(1, length(${e}) + 1))`)})`;
        const ok = `(${st} AND arrayAll(${pg} -> ${polyOk(pg)}, ${rg}))`;
        const fan = (vv: string) =>
          `arraySum(arrayMap(${es} -> ${triangleArea(`${vv}[1]`, `${vv}[${es}]`, `${vv}[${es} + 1]`, ids)}, range(2, length(${vv}))))`;
        const polys = `arrayMap(${pg} -> arrayMap(${r} -> ${bind(ids, [fan(`${r}.1`)], ([sm]) => `tuple(${r}.1, ${r}.2, ${SG(sm as string)} > 0, abs(${SG(sm as string)}))`)}, ${pg}), ${rg})`;
        return bind(ids, [ok], ([okv]) =>
          bind(ids, [`if(${okv}, ${polys}, [])`], ([ps]) => {
            const edges = `arrayFlatten(arrayMap(${pg} -> arrayFlatten(arrayMap(${r} -> ${r}.2, ${pg})), ${ps}))`;
            return bind(ids, [`tuple(${okv}, ${ps}, ${edges})`], ([s]) => body(s as string));
          }),
        );
      });
    });
  });
}

// ───────────────────────────── containment ─────────────────────────────

/**
 * x lies in a ring's region: the parity of ring edges crossed from x to a reference point just left of the first
 * edge (inside iff the interior is on the left). Points exactly on the boundary get either answer.
 */
function inRing(x: string, r: string, ids: Ids): string {
  const e = `${r}.2[1]`;
  const eps = `(2.0e-6 * sqrt(${dist2(`${e}.1`, `${e}.2`)}) / ${norm(`${e}.3`)})`;
  const ref = plus(plus(`${e}.1`, `${e}.2`), scale(`${e}.3`, eps));
  const count = (from: string, to: string) =>
    bind(ids, [cross(from, to)], ([nft]) => {
      const ed = ids.next();
      return `length(arrayFilter(${ed} -> ${crossesEdge(from, to, nft as string, ed)}, ${r}.2))`;
    });
  return bind(ids, [ref], ([rf]) => {
    const direct = count(x, rf as string);
    const via = bind(
      ids,
      [cross(cross(x, rf as string), x)],
      ([w]) => `${count(x, w as string)} + ${count(w as string, rf as string)}`,
    );
    return `((if(${dot(x, rf as string)} >= 0, ${direct}, ${via}) % 2 = 1) != ${r}.3)`;
  });
}

function inPolygons(x: string, polys: string, ids: Ids): string {
  const [pg, h] = [ids.next(), ids.next()];
  return `arrayExists(${pg} -> ${inRing(x, `${pg}[1]`, ids)} AND NOT arrayExists(${h} -> ${inRing(x, h, ids)}, arraySlice(${pg}, 2)), ${polys})`;
}

// ───────────────────────────── unions and centroids ─────────────────────────────

/**
 * The boundary of a multipolygon's union, as on DuckDB: every ring edge split where edges of the other polygons
 * cross it, the pieces kept whose midpoint lies in no other polygon, each oriented with the union's interior on its
 * left. An array of (p, q) tuples (polygons that only touch along a shared edge are not detected).
 */
function unionBoundary(s: string, ids: Ids): string {
  const ps = `${s}.2`;
  const [i, j, r2, ri, e, f, c, k, pc] = [
    ids.next(),
    ids.next(),
    ids.next(),
    ids.next(),
    ids.next(),
    ids.next(),
    ids.next(),
    ids.next(),
    ids.next(),
  ];
  const otherIdx = `arrayFilter(${j} -> ${j} != ${i}, range(1, length(${ps}) + 1))`;
  const others = `arrayFlatten(arrayMap(${j} -> arrayMap(${r2} -> ${r2}.2, ${ps}[${j}]), ${otherIdx}))`;
  const otherPolys = `arrayMap(${j} -> ${ps}[${j}], ${otherIdx})`;
  // A crossing point on e: the intersection of the two great circles on e's side, with its angle from e's start.
  const crossing = bind(ids, [cross(`${e}.3`, `${f}.3`)], ([x0]) =>
    bind(
      ids,
      [`if(${dot(x0 as string, `${e}.1`)} + ${dot(x0 as string, `${e}.2`)} < 0, ${scale(x0 as string, '-1')}, ${x0})`],
      ([x1]) => `tuple(${angleBetween(`${e}.1`, x1 as string)}, ${scale(x1 as string, `(1 / ${norm(x1 as string)})`)})`,
    ),
  );
  const cuts = `arrayMap(${c} -> ${c}.2, arraySort(${c} -> ${c}.1, arrayMap(${f} -> ${crossing}, arrayFilter(${f} -> ${crossesEdge(`${e}.1`, `${e}.2`, `${e}.3`, f)}, ${others}))))`;
  return `arrayFlatten(arrayMap(${i} -> arrayMap(${ri} -> ${bind(
    ids,
    [`(${ri} = 1) = ${ps}[${i}][${ri}].3`],
    ([fwd]) => {
      // The pieces of edge e, reversed when the union's interior is on the right.
      const pieces = bind(
        ids,
        [`arrayConcat([${e}.1], ${cuts}, [${e}.2])`],
        ([pts]) =>
          `arrayMap(${k} -> if(${fwd}, tuple(${pts}[${k}], ${pts}[${k} + 1]), tuple(${pts}[${k} + 1], ${pts}[${k}])), range(1, length(${pts})))`,
      );
      const outside = bind(ids, [plus(`${pc}.1`, `${pc}.2`)], ([m]) => inPolygons(m as string, otherPolys, ids));
      return `arrayMap(${e} -> arrayFilter(${pc} -> NOT ${outside}, ${pieces}), ${ps}[${i}][${ri}].2)`;
    },
  )}, range(1, length(${ps}[${i}]) + 1)), range(1, length(${ps}) + 1)))`;
}

/** The component-wise sum of an array of vectors. */
function vecSum(list: string, ids: Ids): string {
  const w = ids.next();
  return vec(
    `arraySum(arrayMap(${w} -> ${w}.1, ${list}))`,
    `arraySum(arrayMap(${w} -> ${w}.2, ${list}))`,
    `arraySum(arrayMap(${w} -> ${w}.3, ${list}))`,
  );
}

/**
 * The area (steradians) enclosed by a union boundary: its fan of signed triangles from the sum of the vertices (near
 * the shapes), mod 4π; l'Huilier's formula only (Girard's loses precision on a fan's skinny triangles).
 */
function unionArea(s: string, boundary: string, ids: Ids): string {
  const [pg, r, pc] = [ids.next(), ids.next(), ids.next()];
  const apex = vecSum(`arrayFlatten(arrayMap(${pg} -> arrayMap(${r} -> ${r}.1, ${pg}), ${s}.2))`, ids);
  return bind(ids, [apex], ([rf]) =>
    bind(
      ids,
      [`arraySum(arrayMap(${pc} -> ${triangleArea(rf as string, `${pc}.1`, `${pc}.2`, ids, false)}, ${boundary}))`],
      ([sm]) => `if(${sm} < 0, ${sm} + 4 * pi(), ${sm})`,
    ),
  );
}

/** The true centroid of the spherical triangle (a, b, c) times its signed area (S2::TrueCentroid): Cramer's rule. */
function trueCentroid(a: string, b: string, c: string, ids: Ids): string {
  const r = (u: string, v: string) => bind(ids, [angleBetween(u, v)], ([t]) => `if(${t} = 0, 1.0, ${t} / sin(${t}))`);
  return bind(
    ids,
    [
      vec(el(a, 1), `${el(b, 1)} - ${el(a, 1)}`, `${el(c, 1)} - ${el(a, 1)}`),
      vec(el(a, 2), `${el(b, 2)} - ${el(a, 2)}`, `${el(c, 2)} - ${el(a, 2)}`),
      vec(el(a, 3), `${el(b, 3)} - ${el(a, 3)}`, `${el(c, 3)} - ${el(a, 3)}`),
      r(b, c),
      r(c, a),
      r(a, b),
    ],
    ([x, y, z, ra, rb, rc]) =>
      bind(ids, [vec(ra as string, `${rb} - ${ra}`, `${rc} - ${ra}`)], ([rr]) =>
        vec(
          `0.5 * ${dot(cross(y as string, z as string), rr as string)}`,
          `0.5 * ${dot(cross(z as string, x as string), rr as string)}`,
          `0.5 * ${dot(cross(x as string, y as string), rr as string)}`,
        ),
      ),
  );
}

/** The true centroid of an edge times its length (S2::TrueCentroid(a, b)); antipodal edges count 0. */
function edgeCentroid(a: string, b: string, ids: Ids): string {
  return bind(ids, [plus(a, b)], ([sum]) =>
    bind(ids, [dot(sum as string, sum as string)], ([c2]) =>
      scale(sum as string, `if(${c2} = 0, 0.0, sqrt(${dist2(a, b)} / ${c2}))`),
    ),
  );
}

// ───────────────────────────── templates ─────────────────────────────

/**
 * A constant Polygon (or one-polygon MultiPolygon) never needs the union of several polygons, whose SQL is large
 * (ClickHouse analyses it even where it is not evaluated).
 */
function polygonCount(a: SqlArg): 'one' | 'any' {
  const v = a.literal?.value as unknown;
  let parsed: unknown = v;
  if (typeof v === 'string') {
    try {
      parsed = JSON.parse(v);
    } catch {
      parsed = null;
    }
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const o = parsed as { type?: unknown; coordinates?: unknown };
    if (o.type === 'Polygon') return 'one';
    if (o.type === 'MultiPolygon' && Array.isArray(o.coordinates) && o.coordinates.length <= 1) return 'one';
  }
  return 'any';
}

function num(a: SqlArg): string {
  if (a.type === 'real') return a.sql;
  if (a.type === 'int' || a.type === 'long' || a.type === 'decimal') return `toFloat64(${a.sql})`;
  if (a.type === 'dynamic') return dynamicToNumber(a.sql);
  return 'CAST(NULL AS Nullable(Float64))';
}

/** A point argument: (valid, unit vector) bound for the body. */
function withPoint(
  args: readonly SqlArg[],
  at: number,
  ctx: TemplateContext,
  ids: Ids,
  body: (ok: string, x: string, lng: string, lat: string) => string,
): string {
  return bind(ids, [num(arg(args, at, ctx)), num(arg(args, at + 1, ctx))], ([lng, lat]) => {
    const ok = `ifNull(${lng} BETWEEN -180 AND 180 AND ${lat} BETWEEN -90 AND 90, false)`;
    const x = llToVec(`[if(${ok}, assumeNotNull(${lng}), 0), if(${ok}, assumeNotNull(${lat}), 0)]`);
    return bind(ids, [ok, x], ([o, xv]) => body(o as string, xv as string, lng as string, lat as string));
  });
}

const sumLengths = (edges: string, ids: Ids) => {
  const e = ids.next();
  return `arraySum(arrayMap(${e} -> ${angleBetween(`${e}.1`, `${e}.2`)}, ${edges}))`;
};

const minDistance = (x: string, edges: string, ids: Ids) => {
  const e = ids.next();
  return `arrayMin(arrayMap(${e} -> ${edgeDistance(x, e)}, ${edges}))`;
};

const lineLength = fresh((args, ctx, ids) => {
  return prepareLines(
    dyn(arg(args, 0, ctx)),
    false,
    ids,
    (s) => `if(${s}.1, ${sumLengths(`${s}.3`, ids)} * ${R}, NULL)`,
  );
});

const polygonArea = fresh((args, ctx, ids) => {
  return preparePolygons(dyn(arg(args, 0, ctx)), ids, (s) => {
    const [pg, h] = [ids.next(), ids.next()];
    const single = `arraySum(arrayMap(${pg} -> ${pg}[1].4 - arraySum(arrayMap(${h} -> ${h}.4, arraySlice(${pg}, 2))), ${s}.2))`;
    if (polygonCount(arg(args, 0, ctx)) === 'one') return `if(${s}.1, ${single} * ${R} * ${R}, NULL)`;
    const union = unionArea(s, unionBoundary(s, ids), ids);
    return `if(${s}.1, if(length(${s}.2) = 1, ${single}, ${union}) * ${R} * ${R}, NULL)`;
  });
});

const polygonPerimeter = fresh((args, ctx, ids) => {
  return preparePolygons(dyn(arg(args, 0, ctx)), ids, (s) => {
    const single = sumLengths(`${s}.3`, ids);
    if (polygonCount(arg(args, 0, ctx)) === 'one') return `if(${s}.1, ${single} * ${R}, NULL)`;
    const pc = ids.next();
    const union = `arraySum(arrayMap(${pc} -> ${angleBetween(`${pc}.1`, `${pc}.2`)}, ${unionBoundary(s, ids)}))`;
    return `if(${s}.1, if(length(${s}.2) = 1, ${single}, ${union}) * ${R}, NULL)`;
  });
});

/**
 * `geo_polygon_centroid`: S2Polygon::GetCentroid — the surface integral of the position over the region (ring fans
 * of true centroids, holes subtracted; the union's boundary for several polygons), normalized; null when it is 0.
 */
const polygonCentroid = fresh((args, ctx, ids) => {
  return preparePolygons(dyn(arg(args, 0, ctx)), ids, (s) => {
    const [r, t, w, pc] = [ids.next(), ids.next(), ids.next(), ids.next()];
    const shell = `${s}.2[1]`;
    // Shell triangles count positively, hole triangles negatively (each ring's orientation folded in).
    const sign = `if(${r}.3 = (${r}.1 = ${shell}[1].1), 1, -1)`;
    const fan = `arrayMap(${t} -> ${trueCentroid(`${r}.1[1]`, `${r}.1[${t}]`, `${r}.1[${t} + 1]`, ids)}, range(2, length(${r}.1)))`;
    const terms = `arrayFlatten(arrayMap(${r} -> arrayMap(${w} -> ${scale(w, sign)}, ${fan}), ${shell}))`;
    const single = vecSum(terms, ids);
    const rf = `${shell}[1].1[1]`;
    const c =
      polygonCount(arg(args, 0, ctx)) === 'one'
        ? single
        : `if(length(${s}.2) = 1, ${single}, ${vecSum(`arrayMap(${pc} -> ${trueCentroid(rf, `${pc}.1`, `${pc}.2`, ids)}, ${unionBoundary(s, ids)})`, ids)})`;
    return bind(
      ids,
      [`if(${s}.1, ${c}, ${vec('0', '0', '0')})`],
      ([cv]) => `if(${s}.1 AND ${norm(cv as string)} > 0, ${pointJson(cv as string, ids)}, NULL)`,
    );
  });
});

/** `geo_line_centroid`: S2Polyline::GetCentroid — the sum of the edges' true centroids, normalized. */
const lineCentroid = fresh((args, ctx, ids) => {
  return prepareLines(dyn(arg(args, 0, ctx)), false, ids, (s) => {
    const e = ids.next();
    return bind(
      ids,
      [vecSum(`arrayMap(${e} -> ${edgeCentroid(`${e}.1`, `${e}.2`, ids)}, ${s}.3)`, ids)],
      ([cv]) => `if(${s}.1 AND ${norm(cv as string)} > 0, ${pointJson(cv as string, ids)}, NULL)`,
    );
  });
});

const pointInPolygon = fresh((args, ctx, ids) => {
  return preparePolygons(dyn(arg(args, 2, ctx)), ids, (s) =>
    withPoint(args, 0, ctx, ids, (ok, x) => `if(${ok} AND ${s}.1, ${inPolygons(x, `${s}.2`, ids)}, NULL)`),
  );
});

const distancePointToPolygon = fresh((args, ctx, ids) => {
  return withPoint(args, 0, ctx, ids, (ok, x) =>
    preparePolygons(
      dyn(arg(args, 2, ctx)),
      ids,
      (s) =>
        `if(${ok} AND ${s}.1, if(${inPolygons(x, `${s}.2`, ids)}, 0.0, ${minDistance(x, `${s}.3`, ids)} * ${R}), NULL)`,
    ),
  );
});

const distancePointToLine = fresh((args, ctx, ids) => {
  return withPoint(args, 0, ctx, ids, (ok, x) =>
    prepareLines(
      dyn(arg(args, 2, ctx)),
      false,
      ids,
      (s) => `if(${ok} AND ${s}.1, ${minDistance(x, `${s}.3`, ids)} * ${R}, NULL)`,
    ),
  );
});

/** The closest point to x on edges: the first edge at the minimum distance, projected. */
function closestOnEdges(x: string, edges: string, ids: Ids): string {
  const e = ids.next();
  return bind(ids, [`arrayMap(${e} -> ${edgeDistance(x, e)}, ${edges})`], ([ds]) =>
    bind(ids, [`${edges}[indexOf(${ds}, arrayMin(${ds}))]`], ([best]) => projectOnEdge(x, best as string, ids)),
  );
}

const closestPointOnLine = fresh((args, ctx, ids) => {
  return withPoint(args, 0, ctx, ids, (ok, x) =>
    prepareLines(
      dyn(arg(args, 2, ctx)),
      false,
      ids,
      (s) => `if(${ok} AND ${s}.1, ${pointJson(closestOnEdges(x, `${s}.3`, ids), ids)}, NULL)`,
    ),
  );
});

const closestPointOnPolygon = fresh((args, ctx, ids) => {
  return withPoint(args, 0, ctx, ids, (ok, x, lng, lat) =>
    preparePolygons(dyn(arg(args, 2, ctx)), ids, (s) => {
      const same = `concat('{"type":"Point","coordinates":[', toString(${lng}), ',', toString(${lat}), ']}')`;
      return `if(${ok} AND ${s}.1, if(${inPolygons(x, `${s}.2`, ids)}, ${same}, ${pointJson(closestOnEdges(x, `${s}.3`, ids), ids)}), NULL)`;
    }),
  );
});

/** `geo_line_interpolate_point(line, fraction)`: the point at a fraction of the line's length. */
const lineInterpolatePoint = fresh((args, ctx, ids) => {
  return prepareLines(dyn(arg(args, 0, ctx)), true, ids, (s) =>
    bind(ids, [num(arg(args, 1, ctx))], ([f]) => {
      const e = ids.next();
      return bind(ids, [`arrayMap(${e} -> ${angleBetween(`${e}.1`, `${e}.2`)}, ${s}.3)`], ([lens]) =>
        bind(ids, [`ifNull(${f}, 0) * arraySum(${lens})`, `arrayCumSum(${lens})`], ([target, cum]) => {
          const c = ids.next();
          // The edge where the cumulative length reaches the target (the last edge for fraction 1).
          const k = `if(arrayFirstIndex(${c} -> ${c} >= ${target}, ${cum}) = 0, length(${lens}), arrayFirstIndex(${c} -> ${c} >= ${target}, ${cum}))`;
          return bind(ids, [k], ([kv]) => {
            const t = `${target} - (${cum}[${kv}] - ${lens}[${kv}])`;
            const q = pointOnLine(`${s}.3[${kv}].1`, `${s}.3[${kv}].2`, t, ids);
            return `if(${s}.1 AND ifNull(${f} BETWEEN 0 AND 1, false), ${pointJson(q, ids)}, NULL)`;
          });
        }),
      );
    }),
  );
});

/** `geo_line_locate_point(line, lng, lat)`: the fraction of the line's length at the point closest to (lng, lat). */
const lineLocatePoint = fresh((args, ctx, ids) => {
  return withPoint(args, 1, ctx, ids, (ok, x) =>
    prepareLines(dyn(arg(args, 0, ctx)), true, ids, (s) => {
      const e = ids.next();
      return bind(
        ids,
        [
          `arrayMap(${e} -> ${angleBetween(`${e}.1`, `${e}.2`)}, ${s}.3)`,
          `arrayMap(${e} -> ${edgeDistance(x, e)}, ${s}.3)`,
        ],
        ([lens, ds]) =>
          bind(ids, [`indexOf(${ds}, arrayMin(${ds}))`], ([k]) =>
            bind(ids, [projectOnEdge(x, `${s}.3[${k}]`, ids)], ([q]) => {
              const along = `arraySum(arraySlice(${lens}, 1, ${k} - 1)) + ${angleBetween(`${s}.3[${k}].1`, q as string)}`;
              return `if(${s}.1 AND ${ok}, (${along}) / arraySum(${lens}), NULL)`;
            }),
          ),
      );
    }),
  );
});

/** Two sets of edges cross, or touch at a vertex. */
function edgesMeet(e1: string, e2: string, ids: Ids): string {
  const [e, f] = [ids.next(), ids.next()];
  return `arrayExists(${e} -> arrayExists(${f} -> ${crossesEdge(`${e}.1`, `${e}.2`, `${e}.3`, f)} OR ${e}.1 = ${f}.1 OR ${e}.1 = ${f}.2 OR ${e}.2 = ${f}.1 OR ${e}.2 = ${f}.2, ${e2}), ${e1})`;
}

const intersects2Lines = fresh((args, ctx, ids) => {
  return prepareLines(dyn(arg(args, 0, ctx)), false, ids, (a) =>
    prepareLines(
      dyn(arg(args, 1, ctx)),
      false,
      ids,
      (b) => `if(${a}.1 AND ${b}.1, ${edgesMeet(`${a}.3`, `${b}.3`, ids)}, NULL)`,
    ),
  );
});

const intersectsLineWithPolygon = fresh((args, ctx, ids) => {
  return prepareLines(dyn(arg(args, 0, ctx)), false, ids, (a) =>
    preparePolygons(dyn(arg(args, 1, ctx)), ids, (b) => {
      const v = ids.next();
      return `if(${a}.1 AND ${b}.1, ${edgesMeet(`${a}.3`, `${b}.3`, ids)} OR arrayExists(${v} -> ${inPolygons(v, `${b}.2`, ids)}, arrayFlatten(${a}.2)), NULL)`;
    }),
  );
});

const intersects2Polygons = fresh((args, ctx, ids) => {
  return preparePolygons(dyn(arg(args, 0, ctx)), ids, (a) =>
    preparePolygons(dyn(arg(args, 1, ctx)), ids, (b) => {
      const meet = edgesMeet(`${a}.3`, `${b}.3`, ids);
      return `if(${a}.1 AND ${b}.1, ${meet} OR ${inPolygons(`${a}.2[1][1].1[1]`, `${b}.2`, ids)} OR ${inPolygons(`${b}.2[1][1].1[1]`, `${a}.2`, ids)}, NULL)`;
    }),
  );
});

/** Each call starts its names afresh (deterministic SQL); the helpers and the template share one name source. */
function fresh(t: (args: readonly SqlArg[], ctx: TemplateContext, ids: Ids) => string): Template {
  return (args, ctx) => {
    SHARED.reset();
    return t(args, ctx, SHARED);
  };
}

export const GEO_SHAPE_FUNCTIONS: Readonly<Record<string, Template>> = {
  geo_polygon_centroid: polygonCentroid,
  geo_line_centroid: lineCentroid,
  geo_line_length: lineLength,
  geo_polygon_area: polygonArea,
  geo_polygon_perimeter: polygonPerimeter,
  geo_point_in_polygon: pointInPolygon,
  geo_distance_point_to_polygon: distancePointToPolygon,
  geo_distance_point_to_line: distancePointToLine,
  geo_closest_point_on_line: closestPointOnLine,
  geo_closest_point_on_polygon: closestPointOnPolygon,
  geo_line_interpolate_point: lineInterpolatePoint,
  geo_line_locate_point: lineLocatePoint,
  geo_intersects_2lines: intersects2Lines,
  geo_intersects_line_with_polygon: intersectsLineWithPolygon,
  geo_intersects_2polygons: intersects2Polygons,
};
