/**
 * Geo functions on lines and polygons (GeoJSON LineString/MultiLineString, Polygon/MultiPolygon): lengths,
 * areas, perimeters, containment, distances, closest points, interpolation along a line, intersection tests.
 * Edges are great-circle arcs on S2's sphere, as in Kusto (which uses S2Polyline/S2Polygon).
 *
 * A shape argument is "prepared" in a pipe of its own (parsed, validated, turned into unit vectors): when the
 * shape is a constant — the usual case, `geo_point_in_polygon(lon, lat, dynamic({...}))` — DuckDB folds that
 * expression once per query, and each row only runs the per-point part.
 *
 * Polygon rules (Kusto's documentation, S2Loop's validity): rings have at least 4 positions, the first equal to
 * the last, distinct vertices, no crossing edges; each ring bounds the smaller of the two regions it divides
 * the sphere into; holes are subtracted from the shell; a multipolygon is the union of its polygons.
 */
import type { SqlArg, Template } from '../../dialect.js';
import { arg } from './base.js';
import {
  all,
  EARTH_RADIUS_M,
  Ids,
  lazy,
  num,
  type Pipe,
  piped,
  pointJson,
  validLngLat,
  when,
} from './functions-geo-sql.js';

const FOUR_PI = '(4.0e0 * pi())';

// Vectors are DOUBLE[3] arrays here: DuckDB's array_cross_product/array_inner_product keep the SQL short, and
// the optimizer's cost grows with the text of an expression.
const dotA = (a: string, b: string) => `array_inner_product(${a}, ${b})`;
const crossA = (a: string, b: string) => `array_cross_product(${a}, ${b})`;
const normA = (a: string) => `sqrt(array_inner_product(${a}, ${a}))`;
/** A vector; null components become 0 (DuckDB's array functions reject arrays holding nulls; such values only
 * arise on invalid inputs, whose result is null anyway). */
const arr = (x: string, y: string, z: string) =>
  `[COALESCE(${x}, 0.0e0), COALESCE(${y}, 0.0e0), COALESCE(${z}, 0.0e0)]::DOUBLE[3]`;
/** |a - b|² of two vectors. */
const dist2 = (a: string, b: string) =>
  `(power(${a}[1] - ${b}[1], 2) + power(${a}[2] - ${b}[2], 2) + power(${a}[3] - ${b}[3], 2))`;

/** Unit vector of an [lng, lat] list (S2LatLng::ToPoint). */
function llToVec(c: string): string {
  const t = `(${c}[1] * 0.017453292519943295e0)`;
  const f = `(${c}[2] * 0.017453292519943295e0)`;
  return arr(`cos(${t}) * cos(${f})`, `sin(${t}) * cos(${f})`, `sin(${f})`);
}

/** [lng, lat] degrees of a vector (S2LatLng of a point). */
function vecToLngLat(v: string): { lng: string; lat: string } {
  return {
    lng: `(atan2(${v}[2], ${v}[1]) * 57.29577951308232e0)`,
    lat: `(atan2(${v}[3], sqrt(${v}[1] * ${v}[1] + ${v}[2] * ${v}[2])) * 57.29577951308232e0)`,
  };
}

/**
 * An edge with its derived vectors: n = a × b (the great circle's normal), na = n × a and bn = b × n (the
 * half-spaces of points that project inside the arc).
 */
function edge(a: string, b: string): string {
  // S2::RobustCrossProd: (a + b) × (b - a) = 2 (a × b), without the cancellation of a × b for nearby points.
  const sum = arr(`${a}[1] + ${b}[1]`, `${a}[2] + ${b}[2]`, `${a}[3] + ${b}[3]`);
  const diff = arr(`${b}[1] - ${a}[1]`, `${b}[2] - ${a}[2]`, `${b}[3] - ${a}[3]`);
  return `list_transform([${crossA(sum, diff)}], lambda n: {'a': ${a}, 'b': ${b}, 'n': n, 'na': ${crossA('n', a)}, 'bn': ${crossA(b, 'n')}})[1]`;
}

/**
 * Whether the arc p→q (normal npq = p × q) and an edge cross at a point interior to both (S2's CrossingSign > 0):
 * the orientations ACB, BDA, CBD, DAC all agree.
 */
function crossesEdge(p: string, q: string, npq: string, e: string): string {
  const acb = `-sign(${dotA(npq, `${e}.a`)})`;
  const bda = `sign(${dotA(npq, `${e}.b`)})`;
  const cbd = `-sign(${dotA(`${e}.n`, q)})`;
  const dac = `sign(${dotA(`${e}.n`, p)})`;
  // Edges sharing a vertex do not cross (S2 tests this first: the orientations are not exactly 0 there).
  const shared = `(${p} = ${e}.a OR ${p} = ${e}.b OR ${q} = ${e}.a OR ${q} = ${e}.b)`;
  return `(${acb} <> 0 AND ${acb} = ${bda} AND ${bda} = ${cbd} AND ${cbd} = ${dac} AND NOT ${shared})`;
}

/** The angle between two unit vectors (S1Angle(S2Point, S2Point)). */
function angleBetween(a: string, b: string): string {
  return `atan2(${normA(crossA(a, b))}, ${dotA(a, b)})`;
}

/**
 * Signed area of the spherical triangle (a, b, c) as S2 computes it (S2::SignedArea): l'Huilier's formula from the
 * side lengths, or Girard's for skinny triangles where it is more accurate; the sign is the orientation.
 */
function triangleArea(a: string, b: string, c: string, useGirard = true): string {
  // One lambda binds the side lengths (DuckDB's binding time grows exponentially with lambda nesting depth).
  const sides = `[${angleBetween(b, c)}, ${angleBetween(c, a)}, ${angleBetween(a, b)}]`;
  const sum = 't[1] + t[2] + t[3]';
  const half = `(0.5e0 * (${sum}))`;
  const lhuilier = `4 * atan(sqrt(greatest(0.0e0, tan(0.5e0 * ${half}) * tan(0.5e0 * (${half} - t[1])) * tan(0.5e0 * (${half} - t[2])) * tan(0.5e0 * (${half} - t[3])))))`;
  const girard = `greatest(0.0e0, ${angleBetween(crossA(a, b), crossA(a, c))} - ${angleBetween(crossA(a, b), crossA(b, c))} + ${angleBetween(crossA(b, c), crossA(a, c))})`;
  const dmin = `(${half} - greatest(t[1], t[2], t[3]))`;
  const area = !useGirard
    ? lhuilier
    : `CASE WHEN ${half} >= 3e-4 AND ${dmin} < 1e-2 * power(${half}, 5) AND ${dmin} < ${half} * (0.1e0 * (${girard} + 5e-15)) THEN ${girard} ELSE ${lhuilier} END`;
  return `list_transform([${sides}], lambda t: (${area}) * sign(${dotA(a, crossA(b, c))}))[1]`;
}

/**
 * The true centroid of the spherical triangle (a, b, c) times its signed area (S2::TrueCentroid), a DOUBLE[3]:
 * Cramer's rule on rows A, B - A, C - A.
 */
function trueCentroid(a: string, b: string, c: string): string {
  const r = (u: string, v: string) =>
    `CASE WHEN ${angleBetween(u, v)} = 0 THEN 1.0e0 ELSE ${angleBetween(u, v)} / sin(${angleBetween(u, v)}) END`;
  const row = (k: number) => `[${a}[${k}], ${b}[${k}] - ${a}[${k}], ${c}[${k}] - ${a}[${k}]]::DOUBLE[3]`;
  const rr = '[m.ra, m.rb - m.ra, m.rc - m.ra]::DOUBLE[3]';
  return `list_transform([{'x': ${row(1)}, 'y': ${row(2)}, 'z': ${row(3)}, 'ra': ${r(b, c)}, 'rb': ${r(c, a)}, 'rc': ${r(a, b)}}], lambda m: ${arr(`0.5e0 * ${dotA(crossA('m.y', 'm.z'), rr)}`, `0.5e0 * ${dotA(crossA('m.z', 'm.x'), rr)}`, `0.5e0 * ${dotA(crossA('m.x', 'm.y'), rr)}`)})[1]`;
}

/** The true centroid of an edge times its length (S2::TrueCentroid(a, b)); antipodal edges count 0. */
function edgeCentroid(a: string, b: string): string {
  const c2 = `(power(${a}[1] + ${b}[1], 2) + power(${a}[2] + ${b}[2], 2) + power(${a}[3] + ${b}[3], 2))`;
  return `list_transform([CASE WHEN ${c2} = 0 THEN 0.0e0 ELSE sqrt(${dist2(a, b)} / ${c2}) END], lambda k: ${arr(`k * (${a}[1] + ${b}[1])`, `k * (${a}[2] + ${b}[2])`, `k * (${a}[3] + ${b}[3])`)})[1]`;
}

/** The component-wise sum of a list of DOUBLE[3]. */
function vecSum(list: string): string {
  return arr(
    `list_sum(list_transform(${list}, lambda w: w[1]))`,
    `list_sum(list_transform(${list}, lambda w: w[2]))`,
    `list_sum(list_transform(${list}, lambda w: w[3]))`,
  );
}

/** Distance (radians) from x to an edge: to its great circle when x projects inside the arc, else to an end. */
function edgeDistance(x: string, e: string): string {
  return `(CASE WHEN ${dotA(`${e}.na`, x)} > 0 AND ${dotA(`${e}.bn`, x)} > 0 THEN asin(least(1.0e0, abs(${dotA(x, `${e}.n`)}) / ${normA(`${e}.n`)})) ELSE least(${angleBetween(x, `${e}.a`)}, ${angleBetween(x, `${e}.b`)}) END)`;
}

/** The closest point to x on an edge (S2::Project). */
function projectOnEdge(p: Pipe, x: string, e: string): string {
  const k = p.let(`${dotA(x, `${e}.n`)} / ${dotA(`${e}.n`, `${e}.n`)}`);
  const q = p.let(arr(`${x}[1] - ${e}.n[1] * ${k}`, `${x}[2] - ${e}.n[2] * ${k}`, `${x}[3] - ${e}.n[3] * ${k}`));
  const inside = `${dotA(`${e}.na`, q)} > 0 AND ${dotA(`${e}.bn`, q)} > 0`;
  const nq = normA(q);
  // (DuckDB's CASE cannot return arrays: pick from a list instead.)
  return p.let(
    `[${arr(`${q}[1] / ${nq}`, `${q}[2] / ${nq}`, `${q}[3] / ${nq}`)}, ${e}.a, ${e}.b][CASE WHEN ${inside} THEN 1 WHEN ${dist2(x, `${e}.a`)} <= ${dist2(x, `${e}.b`)} THEN 2 ELSE 3 END]`,
  );
}

/** The point at angle `t` (radians) from a toward b along their great circle (S2::GetPointOnLine). */
function pointOnLine(p: Pipe, a: string, b: string, t: string): string {
  const d0 = p.let(crossA(crossA(a, b), a));
  const nd = p.let(normA(d0));
  const q = p.let(
    arr(
      `${a}[1] * cos(${t}) + ${d0}[1] / ${nd} * sin(${t})`,
      `${a}[2] * cos(${t}) + ${d0}[2] / ${nd} * sin(${t})`,
      `${a}[3] * cos(${t}) + ${d0}[3] / ${nd} * sin(${t})`,
    ),
  );
  const nq = p.let(normA(q));
  return p.let(arr(`${q}[1] / ${nq}`, `${q}[2] / ${nq}`, `${q}[3] / ${nq}`));
}

// ───────────────────────────── parsing ─────────────────────────────

/** The JSON text holds only numbers and brackets (DuckDB's casts would accept "1" and true). */
function numericOnly(json: string): string {
  return `regexp_full_match(CAST(${json} AS VARCHAR), '[\\[\\]0-9eE+\\-., ]*')`;
}

function coordinates(d: string, type: string, sqlType: string): string {
  const c = `json_extract(${d}, '$.coordinates')`;
  return `CASE WHEN json_extract_string(${d}, '$.type') = '${type}' AND ${numericOnly(c)} THEN TRY_CAST(${c} AS ${sqlType}) END`;
}

const VALID_LL = (c: string) => `len(${c}) = 2 AND ${c}[1] BETWEEN -180 AND 180 AND ${c}[2] BETWEEN -90 AND 90`;

/**
 * A prepared line set: {ok, lines: [[vertex]], edges: [edge]} from a LineString or MultiLineString (`single`:
 * LineString only). Lines need at least two positions; consecutive positions may not be antipodal.
 */
function prepareLines(p: Pipe, d: string, single: boolean): string {
  const ls = p.let(
    single
      ? `[${coordinates(d, 'LineString', 'DOUBLE[][]')}]`
      : `CASE json_extract_string(${d}, '$.type') WHEN 'LineString' THEN [${coordinates(d, 'LineString', 'DOUBLE[][]')}] WHEN 'MultiLineString' THEN ${coordinates(d, 'MultiLineString', 'DOUBLE[][][]')} END`,
  );
  const structural = p.let(all(ls, 'l', `len(l) >= 2 AND ${all('l', 'c', VALID_LL('c'))}`));
  const vs = p.let(
    `CASE WHEN ${structural} THEN list_transform(${ls}, lambda l: list_transform(l, lambda c: ${llToVec('c')})) END`,
  );
  const ok = p.let(
    `${structural} AND ${all(vs, 'l', `NOT list_bool_or(list_transform(range(1, len(l)), lambda i: ${dotA('l[i]', 'l[i + 1]')} <= -1.0e0))`)}`,
  );
  const edges = p.let(
    `CASE WHEN ${ok} THEN flatten(list_transform(${vs}, lambda l: list_transform(range(1, len(l)), lambda i: ${edge('l[i]', 'l[i + 1]')}))) END`,
  );
  return p.let(`{'ok': COALESCE(${ok}, false), 'lines': ${vs}, 'edges': ${edges}}`);
}

/**
 * The signed area of a ring's left side (S2Loop's fan of signed triangles from the first vertex), brought into
 * (-2π, 2π]: positive when the smaller region is on the left. Keeping the small signed value (rather than
 * 4π minus it) keeps its precision.
 */
/** The fan sum `sm` brought into (-2π, 2π]. */
const SG = `(CASE WHEN sm > 2 * pi() THEN sm - ${FOUR_PI} WHEN sm <= -2 * pi() THEN sm + ${FOUR_PI} ELSE sm END)`;

function signedRing(v: string): string {
  return `list_sum(list_transform(range(2, len(${v})), lambda i: ${triangleArea(`${v}[1]`, `${v}[i]`, `${v}[i + 1]`)}))`;
}

/**
 * A prepared polygon set: {ok, polys: [[ring]], edges: [edge]} where a ring is {v: vertices (not closed),
 * edges, inside_left: the interior lies left of the ring's direction, area: the area (steradians) of the ring's
 * region}.
 */
function preparePolygons(p: Pipe, d: string): string {
  const raw = p.let(
    `CASE json_extract_string(${d}, '$.type') WHEN 'Polygon' THEN [${coordinates(d, 'Polygon', 'DOUBLE[][][]')}] WHEN 'MultiPolygon' THEN ${coordinates(d, 'MultiPolygon', 'DOUBLE[][][][]')} END`,
  );
  // Every ring: at least 4 valid positions, closed.
  const structural = p.let(
    `len(${raw}) > 0 AND ${all(raw, 'pg', `len(pg) > 0 AND ${all('pg', 'r', `len(r) >= 4 AND r[1] = r[-1] AND ${all('r', 'c', VALID_LL('c'))}`)}`)}`,
  );
  // Vertex vectors, then edges, each in a stage of its own (shallow lambdas bind fast).
  const vs = p.let(
    `CASE WHEN ${structural} THEN list_transform(${raw}, lambda pg: list_transform(pg, lambda r: list_transform(r[1:-2], lambda c: ${llToVec('c')}))) END`,
  );
  const rings = p.let(
    `list_transform(${vs}, lambda pg: list_transform(pg, lambda v: {'v': v, 'edges': list_transform(range(1, len(v) + 1), lambda i: ${edge('v[i]', 'v[i % len(v) + 1]')})}))`,
  );
  // Distinct vertices, and no two edges of the same polygon crossing.
  const polyOk = (pg: string) =>
    `${all(pg, 'r', 'len(r.v) >= 3 AND len(list_distinct(r.v)) = len(r.v)')} AND list_transform([flatten(list_transform(${pg}, lambda r: r.edges))], lambda es: NOT list_bool_or(list_transform(range(1, len(es) + 1), lambda i: list_bool_or(list_transform(range(i + 1, len(es) + 1), lambda j: ${crossesEdge('es[i].a', 'es[i].b', 'es[i].n', 'es[j]')})))))[1]`;
  const ok = p.let(`${structural} AND ${all(rings, 'pg', polyOk('pg'))}`);
  // Left-side area of each ring (fan from its first vertex, mod 4π); the ring's region is the smaller side.
  const polys = p.let(
    `CASE WHEN ${ok} THEN list_transform(${rings}, lambda pg: list_transform(pg, lambda r: list_transform([${signedRing('r.v')}], lambda sm: {'v': r.v, 'edges': r.edges, 'inside_left': ${SG} > 0, 'area': abs(${SG})})[1])) END`,
  );
  const edges = p.let(`flatten(flatten(list_transform(${polys}, lambda pg: list_transform(pg, lambda r: r.edges))))`);
  return p.let(`{'ok': COALESCE(${ok}, false), 'polys': ${polys}, 'edges': ${edges}}`);
}

// ───────────────────────────── containment ─────────────────────────────

/**
 * Whether x lies in a ring's region: the parity of the ring edges crossed on the way from x to a reference
 * point just left of the first edge (inside iff the interior is on the left). Points exactly on the boundary
 * get either answer (Kusto's semi-open rule is not reproduced).
 */
function inRing(x: string, r: string): string {
  const e = `${r}.edges[1]`;
  // Left of the first edge's midpoint by a millionth of the edge length.
  const eps = `(2.0e-6 * sqrt(${dist2(`${e}.a`, `${e}.b`)}) / ${normA(`${e}.n`)})`;
  const ref = arr(
    `${e}.a[1] + ${e}.b[1] + ${e}.n[1] * ${eps}`,
    `${e}.a[2] + ${e}.b[2] + ${e}.n[2] * ${eps}`,
    `${e}.a[3] + ${e}.b[3] + ${e}.n[3] * ${eps}`,
  );
  const count = (from: string, to: string) =>
    `list_transform([${crossA(from, to)}], lambda nft: len(list_filter(${r}.edges, lambda ed: ${crossesEdge(from, to, 'nft', 'ed')})))[1]`;
  // A path made of arcs shorter than a half circle: direct, or through the point a quarter circle from x
  // toward the reference point.
  const crossings = `CASE WHEN ${dotA(x, 'rf')} >= 0 THEN ${count(x, 'rf')} ELSE list_transform([${crossA(crossA(x, 'rf'), x)}], lambda via: ${count(x, 'via')} + ${count('via', 'rf')})[1] END`;
  return `list_transform([${ref}], lambda rf: (((${crossings}) % 2 = 1) <> ${r}.inside_left))[1]`;
}

/** Whether x lies in a polygon set (in a shell and in none of its holes, for some polygon). */
function inPolygons(x: string, polys: string): string {
  return `list_bool_or(list_transform(${polys}, lambda pg: ${inRing(x, 'pg[1]')} AND NOT COALESCE(list_bool_or(list_transform(pg[2:], lambda h: ${inRing(x, 'h')})), false)))`;
}

// ───────────────────────────── templates ─────────────────────────────

/**
 * Which code a polygon argument needs: a constant Polygon (or one-polygon MultiPolygon) never needs the union of
 * several polygons, whose SQL is large (DuckDB's planning time grows with it even where it is not evaluated).
 */
function polygonCount(a: SqlArg): 'one' | 'any' {
  const v = a.literal?.value as unknown;
  const parsed = typeof v === 'string' ? safeParse(v) : v;
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const o = parsed as { type?: unknown; coordinates?: unknown };
    if (o.type === 'Polygon') return 'one';
    if (o.type === 'MultiPolygon' && Array.isArray(o.coordinates) && o.coordinates.length <= 1) return 'one';
  }
  return 'any';
}

function safeParse(t: string): unknown {
  try {
    return JSON.parse(t);
  } catch {
    return null;
  }
}

function dyn(a: SqlArg): string {
  return a.type === 'dynamic' ? a.sql : 'CAST(NULL AS JSON)';
}

/** The prepared shape of an argument, computed in a pipe of its own (foldable when the shape is constant). */
function prepared(ids: Ids, a: SqlArg, kind: 'polygons' | 'lines' | 'line'): string {
  return piped(ids, (q) => {
    const d = q.input(dyn(a));
    return kind === 'polygons' ? preparePolygons(q, d) : prepareLines(q, d, kind === 'line');
  });
}

function pointArgs(p: Pipe, lng: SqlArg, lat: SqlArg): { lng: string; lat: string; ok: string; x: string } {
  const [ln, la] = [p.input(num(lng)), p.input(num(lat))] as [string, string];
  const ok = p.let(validLngLat(ln, la));
  const x = p.let(llToVec(`[CASE WHEN ${ok} THEN ${ln} ELSE 0 END, CASE WHEN ${ok} THEN ${la} ELSE 0 END]`));
  return { lng: ln, lat: la, ok, x };
}

function pointResult(v: string): string {
  const { lng, lat } = vecToLngLat(v);
  return pointJson(lng, lat);
}

const lineLength: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const s = p.input(prepared(ids, arg(args, 0, ctx), 'lines'));
    return when(
      `${s}.ok`,
      `list_sum(list_transform(${s}.edges, lambda e: ${angleBetween('e.a', 'e.b')})) * ${EARTH_RADIUS_M}`,
    );
  });
};

/**
 * The boundary of a multipolygon's union: every ring edge split where edges of the other polygons cross it, the
 * pieces kept whose midpoint lies in no other polygon, each oriented with the union's interior on its left.
 * Returns [{p, q}] (edges where polygons only touch along a shared edge are not detected; see CONTEXT-geo.md).
 */
function unionBoundary(s: string): string {
  const ps = `${s}.polys`;
  const others = `flatten(list_transform(list_filter(range(1, len(${ps}) + 1), lambda j: j <> i), lambda j: flatten(list_transform(${ps}[j], lambda r2: r2.edges))))`;
  const otherPolys = `list_transform(list_filter(range(1, len(${ps}) + 1), lambda j: j <> i), lambda j: ${ps}[j])`;
  // Crossing points along an edge e, ordered from e.a.
  const cuts = `list_transform(list_sort(list_transform(list_filter(${others}, lambda f: ${crossesEdge('e.a', 'e.b', 'e.n', 'f')}), lambda f: list_transform([${crossA('e.n', 'f.n')}], lambda x0: list_transform([[x0, ${arr('-x0[1]', '-x0[2]', '-x0[3]')}][CASE WHEN ${dotA('x0', 'e.a')} + ${dotA('x0', 'e.b')} < 0 THEN 2 ELSE 1 END]], lambda x1: {'t': ${angleBetween('e.a', 'x1')}, 'x': ${arr(`x1[1] / ${normA('x1')}`, `x1[2] / ${normA('x1')}`, `x1[3] / ${normA('x1')}`)}})[1])[1])), lambda c: c.x)`;
  // Pieces of e, reversed when the union's interior is on the right (a shell whose region is on the right, or
  // a hole whose region is on the left).
  const pieces = `list_transform([list_concat([e.a], ${cuts}, [e.b])], lambda pts: list_transform(range(1, len(pts)), lambda k: {'p': pts[CASE WHEN fwd THEN k ELSE k + 1 END], 'q': pts[CASE WHEN fwd THEN k + 1 ELSE k END]}))[1]`;
  const kept = `list_filter(${pieces}, lambda pc: NOT COALESCE(${inPolygons(arr('pc.p[1] + pc.q[1]', 'pc.p[2] + pc.q[2]', 'pc.p[3] + pc.q[3]'), otherPolys)}, false))`;
  return `flatten(flatten(flatten(list_transform(range(1, len(${ps}) + 1), lambda i: list_transform(range(1, len(${ps}[i]) + 1), lambda ri: list_transform([(ri = 1) = ${ps}[i][ri].inside_left], lambda fwd: list_transform(${ps}[i][ri].edges, lambda e: ${kept}))[1])))))`;
}

/**
 * The area (steradians) enclosed by a union boundary: its fan of signed triangles from one apex, mod 4π
 * (l'Huilier's formula only: Girard's loses precision on the skinny triangles of a fan to pieces of edges).
 */
function unionArea(s: string, boundary: string): string {
  // The fan's apex: the normalized mean of the vertices, near the shapes (small triangles keep precision).
  const mean = (k: number) =>
    `list_sum(list_transform(flatten(flatten(list_transform(${s}.polys, lambda pg: list_transform(pg, lambda r: r.v)))), lambda v: v[${k}]))`;
  const rf = arr(mean(1), mean(2), mean(3));
  return `list_transform([list_sum(list_transform(${boundary}, lambda pc: ${triangleArea(rf, 'pc.p', 'pc.q', false)}))], lambda sm: CASE WHEN sm < 0 THEN sm + ${FOUR_PI} ELSE sm END)[1]`;
}

const polygonArea: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const s = p.input(prepared(ids, arg(args, 0, ctx), 'polygons'));
    const single = `list_sum(list_transform(${s}.polys, lambda pg: pg[1].area - COALESCE(list_sum(list_transform(pg[2:], lambda h: h.area)), 0)))`;
    const union =
      polygonCount(arg(args, 0, ctx)) === 'one' ? 'NULL' : lazy(`len(${s}.polys) > 1`, unionArea(s, unionBoundary(s)));
    return when(
      `${s}.ok`,
      `COALESCE(${lazy(`len(${s}.polys) = 1`, single)}, ${union}) * ${EARTH_RADIUS_M} * ${EARTH_RADIUS_M}`,
    );
  });
};

const polygonPerimeter: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const s = p.input(prepared(ids, arg(args, 0, ctx), 'polygons'));
    return when(
      `${s}.ok`,
      `COALESCE(${lazy(`len(${s}.polys) = 1`, `list_sum(list_transform(${s}.edges, lambda e: ${angleBetween('e.a', 'e.b')}))`)}, ${polygonCount(arg(args, 0, ctx)) === 'one' ? 'NULL' : lazy(`len(${s}.polys) > 1`, `list_sum(list_transform(${unionBoundary(s)}, lambda pc: ${angleBetween('pc.p', 'pc.q')}))`)}) * ${EARTH_RADIUS_M}`,
    );
  });
};

const pointInPolygon: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const pt = pointArgs(p, arg(args, 0, ctx), arg(args, 1, ctx));
    const s = p.input(prepared(ids, arg(args, 2, ctx), 'polygons'));
    return when(`${pt.ok} AND ${s}.ok`, inPolygons(pt.x, `${s}.polys`));
  });
};

const distancePointToPolygon: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const pt = pointArgs(p, arg(args, 0, ctx), arg(args, 1, ctx));
    const s = p.input(prepared(ids, arg(args, 2, ctx), 'polygons'));
    return when(
      `${pt.ok} AND ${s}.ok`,
      `CASE WHEN ${inPolygons(pt.x, `${s}.polys`)} THEN 0.0e0 ELSE list_min(list_transform(${s}.edges, lambda e: ${edgeDistance(pt.x, 'e')})) * ${EARTH_RADIUS_M} END`,
    );
  });
};

const distancePointToLine: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const pt = pointArgs(p, arg(args, 0, ctx), arg(args, 1, ctx));
    const s = p.input(prepared(ids, arg(args, 2, ctx), 'lines'));
    return when(
      `${pt.ok} AND ${s}.ok`,
      `list_min(list_transform(${s}.edges, lambda e: ${edgeDistance(pt.x, 'e')})) * ${EARTH_RADIUS_M}`,
    );
  });
};

/** The closest point to x on a list of edges: the first edge at the minimum distance, projected. */
function closestOnEdges(p: Pipe, x: string, edges: string): string {
  const ds = p.let(`list_transform(${edges}, lambda e: ${edgeDistance(x, 'e')})`);
  const e = p.let(`${edges}[list_position(${ds}, list_min(${ds}))]`);
  return projectOnEdge(p, x, e);
}

const closestPointOnLine: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const pt = pointArgs(p, arg(args, 0, ctx), arg(args, 1, ctx));
    const s = p.input(prepared(ids, arg(args, 2, ctx), 'lines'));
    const c = closestOnEdges(p, pt.x, `${s}.edges`);
    return when(`${pt.ok} AND ${s}.ok`, pointResult(c));
  });
};

const closestPointOnPolygon: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const pt = pointArgs(p, arg(args, 0, ctx), arg(args, 1, ctx));
    const s = p.input(prepared(ids, arg(args, 2, ctx), 'polygons'));
    const inside = p.let(`${s}.ok AND ${inPolygons(pt.x, `${s}.polys`)}`);
    const c = closestOnEdges(p, pt.x, `${s}.edges`);
    return when(
      `${pt.ok} AND ${s}.ok`,
      `CASE WHEN ${inside} THEN ${pointJson(pt.lng, pt.lat)} ELSE ${pointResult(c)} END`,
    );
  });
};

/** `geo_line_interpolate_point(line, fraction)`: the point at a fraction of the line's length. */
const lineInterpolatePoint: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const s = p.input(prepared(ids, arg(args, 0, ctx), 'line'));
    const f = p.input(num(arg(args, 1, ctx)));
    const es = p.let(`${s}.edges`);
    const lens = p.let(`list_transform(${es}, lambda e: ${angleBetween('e.a', 'e.b')})`);
    const target = p.let(`${f} * list_sum(${lens})`);
    // The edge where the cumulative length reaches the target (the last edge for fraction 1).
    const cum = p.let(`list_transform(range(1, len(${lens}) + 1), lambda i: list_sum(${lens}[1:i]))`);
    const k = p.let(`COALESCE(list_position(list_transform(${cum}, lambda c: c >= ${target}), true), len(${lens}))`);
    const t = p.let(`${target} - (${cum}[${k}] - ${lens}[${k}])`);
    const q = pointOnLine(p, `${es}[${k}].a`, `${es}[${k}].b`, t);
    return when(`${s}.ok AND ${f} BETWEEN 0 AND 1`, pointResult(q));
  });
};

/** `geo_line_locate_point(line, lng, lat)`: the fraction of the line's length at the point closest to (lng, lat). */
const lineLocatePoint: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const s = p.input(prepared(ids, arg(args, 0, ctx), 'line'));
    const pt = pointArgs(p, arg(args, 1, ctx), arg(args, 2, ctx));
    const es = p.let(`${s}.edges`);
    const lens = p.let(`list_transform(${es}, lambda e: ${angleBetween('e.a', 'e.b')})`);
    const ds = p.let(`list_transform(${es}, lambda e: ${edgeDistance(pt.x, 'e')})`);
    const k = p.let(`list_position(${ds}, list_min(${ds}))`);
    const q = projectOnEdge(p, pt.x, `${es}[${k}]`);
    const along = p.let(`COALESCE(list_sum(${lens}[1:${k} - 1]), 0) + ${angleBetween(`${es}[${k}].a`, q)}`);
    return when(`${s}.ok AND ${pt.ok}`, `${along} / list_sum(${lens})`);
  });
};

/** Whether two sets of edges cross or touch at a vertex. */
function edgesMeet(e1: string, e2: string): string {
  return `list_bool_or(list_transform(${e1}, lambda e: list_bool_or(list_transform(${e2}, lambda f: ${crossesEdge('e.a', 'e.b', 'e.n', 'f')} OR e.a = f.a OR e.a = f.b OR e.b = f.a OR e.b = f.b))))`;
}

const intersects2Lines: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const a = p.input(prepared(ids, arg(args, 0, ctx), 'lines'));
    const b = p.input(prepared(ids, arg(args, 1, ctx), 'lines'));
    return when(`${a}.ok AND ${b}.ok`, edgesMeet(`${a}.edges`, `${b}.edges`));
  });
};

const intersectsLineWithPolygon: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const a = p.input(prepared(ids, arg(args, 0, ctx), 'lines'));
    const b = p.input(prepared(ids, arg(args, 1, ctx), 'polygons'));
    return when(
      `${a}.ok AND ${b}.ok`,
      `(${edgesMeet(`${a}.edges`, `${b}.edges`)} OR list_bool_or(list_transform(flatten(${a}.lines), lambda v: ${inPolygons('v', `${b}.polys`)})))`,
    );
  });
};

const intersects2Polygons: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const a = p.input(prepared(ids, arg(args, 0, ctx), 'polygons'));
    const b = p.input(prepared(ids, arg(args, 1, ctx), 'polygons'));
    return when(
      `${a}.ok AND ${b}.ok`,
      `(${edgesMeet(`${a}.edges`, `${b}.edges`)} OR ${inPolygons(`${a}.polys[1][1].v[1]`, `${b}.polys`)} OR ${inPolygons(`${b}.polys[1][1].v[1]`, `${a}.polys`)})`,
    );
  });
};

/**
 * `geo_polygon_centroid`: S2Polygon::GetCentroid — the surface integral of the position over the region
 * (ring fans of true centroids, holes subtracted; the union's boundary for several polygons), normalized.
 */
const polygonCentroid: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const s = p.input(prepared(ids, arg(args, 0, ctx), 'polygons'));
    // A ring's region integral: its fan, negated when the region is on the right.
    // A ring's region integral: its fan, negated when the region is on the right.
    const ring = (r: string) =>
      `list_transform(range(2, len(${r}.v)), lambda i: ${trueCentroid(`${r}.v[1]`, `${r}.v[i]`, `${r}.v[i + 1]`)})`;
    // Shell triangles count positively, hole triangles negatively (each ring's sign folded in).
    const sign = `CASE WHEN r.inside_left = (r.v = ${s}.polys[1][1].v) THEN 1 ELSE -1 END`;
    const terms = `flatten(list_transform(${s}.polys[1], lambda r: list_transform(${ring('r')}, lambda w: ${arr(`w[1] * ${sign}`, `w[2] * ${sign}`, `w[3] * ${sign}`)})))`;
    const single = vecSum(terms);
    const rf = `${s}.polys[1][1].v[1]`;
    const union = vecSum(`list_transform(${unionBoundary(s)}, lambda pc: ${trueCentroid(rf, 'pc.p', 'pc.q')})`);
    const c =
      polygonCount(arg(args, 0, ctx)) === 'one'
        ? p.let(single)
        : p.let(
            `list_filter([${lazy(`len(${s}.polys) = 1`, single)}, ${lazy(`len(${s}.polys) > 1`, union)}], lambda z: z IS NOT NULL)[1]`,
          );
    return when(`${s}.ok AND ${normA(c)} > 0`, pointResult(c));
  });
};

/** `geo_line_centroid`: S2Polyline::GetCentroid — the sum of the edges' true centroids, normalized. */
const lineCentroid: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const s = p.input(prepared(ids, arg(args, 0, ctx), 'lines'));
    const c = p.let(vecSum(`list_transform(${s}.edges, lambda e: ${edgeCentroid('e.a', 'e.b')})`));
    return when(`${s}.ok AND ${normA(c)} > 0`, pointResult(c));
  });
};

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
