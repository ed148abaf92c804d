/**
 * H3 cells (Uber's hexagonal grid, which Kusto's geo_*h3cell* functions use), computed in SQL by the reference
 * algorithms of the H3 C library (latLngToCell, cellToLatLng, cellToBoundary, gridDiskDistances, cellToParent,
 * cellToChildren), step for step so that the doubles come out the same.
 *
 * Representations:
 * - hex coordinates are kept as IJ pairs STRUCT(a, b) = (i - k, j - k) of H3's IJK coordinates, which makes
 *   `_ijkNormalize` implicit (normalized IJK = (a - m, b - m, -m) with m = min(a, b, 0)) and every aperture step a
 *   small linear map;
 * - a cell is STRUCT(bc, res, d) with its base cell, resolution and digit list d[1..res];
 * - tokens are the lowercase hex text of the 64-bit index.
 */
import type { SqlArg, Template } from '../../dialect.js';
import { arg } from './base.js';
import * as T from './functions-geo-h3-data.js';
import {
  dbl,
  fold,
  Ids,
  int,
  ints,
  lazy,
  lookup,
  num,
  type Pipe,
  piped,
  RAD_TO_DEG,
  safeAcos,
  safeAsin,
  when,
} from './functions-geo-sql.js';

// ───────────────────────────── constants ─────────────────────────────

const EPSILON = dbl(0.0000000000000001);
const M_SQRT7 = dbl(2.6457513110645907);
const M_SQRT3_2 = dbl(0.8660254037844386);
const M_RSIN60 = dbl(1.1547005383792515);
const M_ONESEVENTH = dbl(0.14285714285714285);
const M_AP7_ROT_RADS = dbl(0.3334731722518321);
const RES0_U_GNOMONIC = dbl(0.381966011250105);
const M_2PI = dbl(6.283185307179586);
const M_PI = dbl(Math.PI);
const M_PI_2 = dbl(Math.PI / 2);
const M_PI_180 = dbl(0.017453292519943295);
/** FLT_EPSILON, the tolerance of H3's _v2dAlmostEquals. */
const FLT_EPSILON = dbl(1.1920928955078125e-7);

/** Digit rotations: ROT_CCW_N[n * 8 + digit + 1] is the digit rotated 60° counterclockwise n times. */
const ROT_CCW1 = [0, 5, 3, 1, 6, 4, 2, 7];
const ROT_CCW_N_TABLE = (() => {
  const out: number[] = [];
  for (let n = 0; n < 6; n++) {
    for (let d = 0; d < 8; d++) {
      let x = d;
      for (let k = 0; k < n; k++) x = ROT_CCW1[x] as number;
      out.push(x);
    }
  }
  return out;
})();
/** IJ unit vectors of the digits 0-6 (K = (-1,-1), J = (0,1), JK = (-1,0), I = (1,0), IK = (0,-1), IJ = (1,1)). */
const UNIT_A = ints([0, -1, 0, -1, 1, 0, 1]);
const UNIT_B = ints([0, -1, 1, 0, 0, -1, 1]);
/** Substrate vertex offsets (IJ) of a cell, counterclockwise from the i-axis, for Class II and Class III. */
const VERTS_CII = { a: [2, 1, -1, -2, -1, 1], b: [1, 2, 1, -1, -2, -1] };
const VERTS_CIII = { a: [5, 1, -4, -5, -1, 4], b: [4, 5, 1, -4, -5, -1] };
const PENTAGONS = `[${T.PENTAGON_BASE_CELLS.join(', ')}]`;
/** gridDisk's ring directions (J, JK, K, IK, I, IJ) and the step to the next ring (I). */
const DIRECTIONS = [2, 3, 1, 5, 4, 6];
const NEXT_RING_DIRECTION = 4;

// ───────────────────────────── IJ coordinates ─────────────────────────────

function ij(a: string, b: string): string {
  return `{'a': CAST(${a} AS BIGINT), 'b': CAST(${b} AS BIGINT)}`;
}
const downAp7 = (p: string) => ij(`2 * ${p}.a + ${p}.b`, `3 * ${p}.b - ${p}.a`);
const downAp7r = (p: string) => ij(`3 * ${p}.a - ${p}.b`, `${p}.a + 2 * ${p}.b`);
const downAp3 = (p: string) => ij(`${p}.a + ${p}.b`, `2 * ${p}.b - ${p}.a`);
const downAp3r = (p: string) => ij(`2 * ${p}.a - ${p}.b`, `${p}.a + ${p}.b`);
const upAp7 = (p: string) =>
  ij(`round((3 * ${p}.a - ${p}.b) * ${M_ONESEVENTH})`, `round((${p}.a + 2 * ${p}.b) * ${M_ONESEVENTH})`);
const upAp7r = (p: string) =>
  ij(`round((2 * ${p}.a + ${p}.b) * ${M_ONESEVENTH})`, `round((3 * ${p}.b - ${p}.a) * ${M_ONESEVENTH})`);

/** IJ rotated 60° counterclockwise n times (n an SQL expression in 0..5). */
function rotIJ(p: string, n: string): string {
  return `(CASE (${n}) % 6 WHEN 0 THEN ${p} WHEN 1 THEN ${ij(`${p}.a - ${p}.b`, `${p}.a`)} WHEN 2 THEN ${ij(`-${p}.b`, `${p}.a - ${p}.b`)} WHEN 3 THEN ${ij(`-${p}.a`, `-${p}.b`)} WHEN 4 THEN ${ij(`${p}.b - ${p}.a`, `-${p}.a`)} ELSE ${ij(`${p}.b`, `${p}.b - ${p}.a`)} END)`;
}
const rotIJcw = (p: string) => ij(`${p}.b`, `${p}.b - ${p}.a`);

/** Normalized IJK components of an IJ pair. */
const nI = (p: string) => `(${p}.a - least(${p}.a, ${p}.b, 0))`;
const nJ = (p: string) => `(${p}.b - least(${p}.a, ${p}.b, 0))`;
const nK = (p: string) => `(-least(${p}.a, ${p}.b, 0))`;

/** The digit of a unit IJ difference (7 when it is not a unit vector). */
function unitDigit(p: string): string {
  return `(CASE WHEN ${p}.a = 0 AND ${p}.b = 0 THEN 0 WHEN ${p}.a = -1 AND ${p}.b = -1 THEN 1 WHEN ${p}.a = 0 AND ${p}.b = 1 THEN 2 WHEN ${p}.a = -1 AND ${p}.b = 0 THEN 3 WHEN ${p}.a = 1 AND ${p}.b = 0 THEN 4 WHEN ${p}.a = 0 AND ${p}.b = -1 THEN 5 WHEN ${p}.a = 1 AND ${p}.b = 1 THEN 6 ELSE 7 END)`;
}

/** H3's _hex2dToCoordIJK (from DGGRID): the hex containing a 2D point, as IJ. */
function hex2dToIJ(p: Pipe, x: string, y: string): string {
  const [a1, x2] = p.lets([`abs(${x})`, `abs(${y}) * ${M_RSIN60}`]) as [string, string];
  const x1 = p.let(`${a1} + ${x2} / 2.0e0`);
  const [m1, m2] = p.lets([`trunc(${x1})`, `trunc(${x2})`]) as [string, string];
  const [r1, r2] = p.lets([`${x1} - ${m1}`, `${x2} - ${m2}`]) as [string, string];
  const i = `(CASE WHEN ${r1} < 0.5e0 THEN (CASE WHEN ${r1} < 1.0e0 / 3.0e0 THEN ${m1} ELSE (CASE WHEN (1.0e0 - ${r1}) <= ${r2} AND ${r2} < (2.0e0 * ${r1}) THEN ${m1} + 1 ELSE ${m1} END) END) ELSE (CASE WHEN ${r1} < 2.0e0 / 3.0e0 THEN (CASE WHEN (2.0e0 * ${r1} - 1.0e0) < ${r2} AND ${r2} < (1.0e0 - ${r1}) THEN ${m1} ELSE ${m1} + 1 END) ELSE ${m1} + 1 END) END)`;
  const j = `(CASE WHEN ${r1} < 0.5e0 THEN (CASE WHEN ${r1} < 1.0e0 / 3.0e0 THEN (CASE WHEN ${r2} < (1.0e0 + ${r1}) / 2.0e0 THEN ${m2} ELSE ${m2} + 1 END) ELSE (CASE WHEN ${r2} < (1.0e0 - ${r1}) THEN ${m2} ELSE ${m2} + 1 END) END) ELSE (CASE WHEN ${r1} < 2.0e0 / 3.0e0 THEN (CASE WHEN ${r2} < (1.0e0 - ${r1}) THEN ${m2} ELSE ${m2} + 1 END) ELSE (CASE WHEN ${r2} < (${r1} / 2.0e0) THEN ${m2} ELSE ${m2} + 1 END) END) END)`;
  const [i0, j0] = p.lets([`CAST(${i} AS BIGINT)`, `CAST(${j} AS BIGINT)`]) as [string, string];
  // Fold across the axes: x < 0 mirrors i about the j axis, y < 0 mirrors across the i axis.
  const i1 = p.let(
    `CASE WHEN ${x} < 0 THEN (CASE WHEN ${j0} % 2 = 0 THEN ${i0} - 2 * (${i0} - ${j0} // 2) ELSE ${i0} - (2 * (${i0} - (${j0} + 1) // 2) + 1) END) ELSE ${i0} END`,
  );
  return p.let(`(CASE WHEN ${y} < 0 THEN ${ij(`${i1} - (2 * ${j0} + 1) // 2`, `-${j0}`)} ELSE ${ij(i1, j0)} END)`);
}

/** _ijkToHex2d: the 2D point of an IJ pair. */
function hex2d(p: string): string {
  return `{'x': CAST(${p}.a AS DOUBLE) - 0.5e0 * CAST(${p}.b AS DOUBLE), 'y': CAST(${p}.b AS DOUBLE) * ${M_SQRT3_2}}`;
}

/** _posAngleRads. */
function posAngle(p: Pipe, x: string): string {
  const v = p.let(x);
  return p.let(
    `(CASE WHEN ${v} < 0 THEN ${v} + ${M_2PI} ELSE ${v} END - CASE WHEN ${v} >= ${M_2PI} THEN ${M_2PI} ELSE 0.0e0 END)`,
  );
}

/** r multiplied (or divided) by √7 `n` times, one operation at a time as H3's loops do. */
function sqrt7Steps(r: string, n: string, op: '*' | '/'): string {
  return `list_reduce(list_concat([${r}], list_transform(range(${n}), lambda _: ${M_SQRT7})), lambda x, y: x ${op} y)`;
}

/** Table lookup (0-based index expression). */
function at(table: readonly number[], index: string): string {
  return lookup(table, index);
}

// ───────────────────────────── sphere ↔ face hex2d ─────────────────────────────

/** _geoAzDistanceRads: the point at azimuth `az` and angular distance `d` from (lat1, lng1), as {lat, lng}. */
function azDistance(p: Pipe, lat1: string, lng1: string, azIn: string, d: string): string {
  const az = posAngle(p, azIn);
  const constrain = (x: string) => {
    const v = p.let(x);
    return p.let(
      `(CASE WHEN ${v} > ${M_PI} THEN ${v} - ${M_2PI} WHEN ${v} < -${M_PI} THEN ${v} + ${M_2PI} ELSE ${v} END)`,
    );
  };
  const pole = (lat: string, lng: string) =>
    `(CASE WHEN abs(${lat} - ${M_PI_2}) < ${EPSILON} THEN {'lat': ${M_PI_2}, 'lng': 0.0e0} WHEN abs(${lat} + ${M_PI_2}) < ${EPSILON} THEN {'lat': -${M_PI_2}, 'lng': 0.0e0} ELSE {'lat': ${lat}, 'lng': ${lng}} END)`;
  // Due north or south.
  const latNS = p.let(`CASE WHEN ${az} < ${EPSILON} THEN ${lat1} + ${d} ELSE ${lat1} - ${d} END`);
  const dueNS = pole(latNS, constrain(lng1));
  // General case.
  const lat2 = p.let(safeAsin(`sin(${lat1}) * cos(${d}) + cos(${lat1}) * sin(${d}) * cos(${az})`));
  const [sinlng, coslng] = p.lets([
    `greatest(-1.0e0, least(1.0e0, sin(${az}) * sin(${d}) / cos(${lat2})))`,
    `greatest(-1.0e0, least(1.0e0, (cos(${d}) - sin(${lat1}) * sin(${lat2})) / cos(${lat1}) / cos(${lat2})))`,
  ]) as [string, string];
  const general = pole(lat2, constrain(`${lng1} + atan2(${sinlng}, ${coslng})`));
  return p.let(
    `(CASE WHEN ${d} < ${EPSILON} THEN {'lat': ${lat1}, 'lng': ${lng1}} WHEN ${az} < ${EPSILON} OR abs(${az} - ${M_PI}) < ${EPSILON} THEN ${dueNS} ELSE ${general} END)`,
  );
}

/** _hex2dToGeo: a face's 2D hex point back to {lat, lng} radians. */
function hex2dToGeo(p: Pipe, v: string, face: string, res: string, substrate: boolean): string {
  const [r0, theta0] = p.lets([`sqrt(${v}.x * ${v}.x + ${v}.y * ${v}.y)`, `atan2(${v}.y, ${v}.x)`]) as [string, string];
  let r = p.let(sqrt7Steps(r0, res, '/'));
  if (substrate) r = p.let(`(CASE WHEN (${res}) % 2 = 1 THEN (${r} / 3.0e0) / ${M_SQRT7} ELSE ${r} / 3.0e0 END)`);
  const rr = p.let(`atan(${r} * ${RES0_U_GNOMONIC})`);
  const theta1 = substrate
    ? theta0
    : p.let(`(CASE WHEN (${res}) % 2 = 1 THEN ${posAngle(p, `${theta0} + ${M_AP7_ROT_RADS}`)} ELSE ${theta0} END)`);
  const [flat, flng, az0] = p.lets([
    at(T.FACE_CENTER_LAT, face),
    at(T.FACE_CENTER_LNG, face),
    at(T.FACE_AXIS_AZ0, face),
  ]) as [string, string, string];
  const g = azDistance(p, flat, flng, `${az0} - ${theta1}`, rr);
  return p.let(`(CASE WHEN ${r0} < ${EPSILON} THEN {'lat': ${flat}, 'lng': ${flng}} ELSE ${g} END)`);
}

/** _geoToFaceIjk: the face and the IJ hex coordinates of a point (radians) at a resolution, as {face, p}. */
function geoToFaceIJ(p: Pipe, lat: string, lng: string, res: string): string {
  const [x, y, z] = p.lets([`cos(${lat}) * cos(${lng})`, `cos(${lat}) * sin(${lng})`, `sin(${lat})`]) as [
    string,
    string,
    string,
  ];
  const sqds = p.let(
    `list_transform(range(20), lambda f: power(${at(T.FACE_CENTER_X, 'f')} - ${x}, 2) + power(${at(T.FACE_CENTER_Y, 'f')} - ${y}, 2) + power(${at(T.FACE_CENTER_Z, 'f')} - ${z}, 2))`,
  );
  const sqd = p.let(`list_min(${sqds})`);
  const face = p.let(`CAST(list_position(${sqds}, ${sqd}) - 1 AS INTEGER)`);
  const r = p.let(safeAcos(`1 - ${sqd} / 2`));
  const [flat, flng, az0] = p.lets([
    at(T.FACE_CENTER_LAT, face),
    at(T.FACE_CENTER_LNG, face),
    at(T.FACE_AXIS_AZ0, face),
  ]) as [string, string, string];
  const az = p.let(
    `atan2(cos(${lat}) * sin(${lng} - ${flng}), cos(${flat}) * sin(${lat}) - sin(${flat}) * cos(${lat}) * cos(${lng} - ${flng}))`,
  );
  const theta0 = posAngle(p, `${az0} - ${posAngle(p, az)}`);
  const theta = p.let(
    `(CASE WHEN (${res}) % 2 = 1 THEN ${posAngle(p, `${theta0} - ${M_AP7_ROT_RADS}`)} ELSE ${theta0} END)`,
  );
  const rs = p.let(sqrt7Steps(`tan(${r}) / ${RES0_U_GNOMONIC}`, res, '*'));
  const [hx, hy] = p.lets([
    `CASE WHEN ${r} < ${EPSILON} THEN 0.0e0 ELSE ${rs} * cos(${theta}) END`,
    `CASE WHEN ${r} < ${EPSILON} THEN 0.0e0 ELSE ${rs} * sin(${theta}) END`,
  ]) as [string, string];
  return p.let(`{'face': ${face}, 'p': ${hex2dToIJ(p, hx, hy)}}`);
}

// ───────────────────────────── cells ─────────────────────────────

const isPentagonBase = (bc: string) => `list_contains(${PENTAGONS}, ${bc})`;
const leading = (d: string) => `COALESCE(list_filter(${d}, lambda x: x <> 0)[1], 0)`;
const rotDigits = (d: string, n: string) =>
  `list_transform(${d}, lambda x: ${lookup(ROT_CCW_N_TABLE, `((${n}) % 6) * 8 + x`)})`;
const cwOffset = (bc: string, face: string) =>
  `(${at(T.BASE_CELL_CW_OFFSET0, bc)} = ${face} OR ${at(T.BASE_CELL_CW_OFFSET1, bc)} = ${face})`;

/** _h3RotatePent60ccw applied n times (a rotation that lands the leading digit on K rotates once more). */
function rotPentDigits(ids: Ids, d: string, n: string): string {
  const out = fold(ids, `range(${n})`, { d }, (q, acc) => {
    const x = q.let(`${acc}.d`);
    const lead = q.let(leading(x));
    return {
      d: `CASE WHEN ${lead} <> 0 AND ${lookup(ROT_CCW_N_TABLE, `8 + ${lead}`)} = 1 THEN ${rotDigits(x, '2')} ELSE ${rotDigits(x, '1')} END`,
    };
  });
  return `${out}.d`;
}

/**
 * _faceIjkToH3: digits from the finest resolution up (each the unit step from the parent's center), then the
 * base cell from the face's lookup table and the rotations into the base cell's orientation. NULL when the
 * coordinates fall outside the face's base cells.
 */
function faceIJToCell(p: Pipe, face: string, p0: string, res: string): string {
  const walk = fold(p.ids, `range(${res} - 1, -1, -1)`, { p: p0, d: '[]::INTEGER[]' }, (q, acc, r) => {
    const classIII = q.let(`(${r} + 1) % 2 = 1`);
    const up = q.let(`CASE WHEN ${classIII} THEN ${upAp7(`${acc}.p`)} ELSE ${upAp7r(`${acc}.p`)} END`);
    const center = q.let(`CASE WHEN ${classIII} THEN ${downAp7(up)} ELSE ${downAp7r(up)} END`);
    return {
      p: up,
      d: `list_prepend(${unitDigit(ij(`${acc}.p.a - ${center}.a`, `${acc}.p.b - ${center}.b`))}, ${acc}.d)`,
    };
  });
  const w = p.let(walk);
  const [i, j, k] = p.lets([nI(`${w}.p`), nJ(`${w}.p`), nK(`${w}.p`)]) as [string, string, string];
  const inRange = p.let(`${i} <= 2 AND ${j} <= 2 AND ${k} <= 2`);
  const idx = p.let(`CASE WHEN ${inRange} THEN ${face} * 27 + ${i} * 9 + ${j} * 3 + ${k} END`);
  const [bc, rots] = p.lets([at(T.FACE_IJK_BASE_CELL, idx), at(T.FACE_IJK_BASE_CELL_ROT, idx)]) as [string, string];
  const pent = p.let(isPentagonBase(bc));
  const d1 = p.let(
    `CASE WHEN ${pent} AND ${leading(`${w}.d`)} = 1 THEN (CASE WHEN ${cwOffset(bc, face)} THEN ${rotDigits(`${w}.d`, '5')} ELSE ${rotDigits(`${w}.d`, '1')} END) ELSE ${w}.d END`,
  );
  const d2 = p.let(`CASE WHEN ${pent} THEN ${rotPentDigits(p.ids, d1, rots)} ELSE ${rotDigits(d1, rots)} END`);
  return p.let(when(inRange, `{'bc': CAST(${bc} AS INTEGER), 'res': CAST(${res} AS INTEGER), 'd': ${d2}}`));
}

/** The 64-bit index of a cell. */
function cellId(c: string): string {
  const digits = `list_reduce(list_transform(${c}.d, lambda x, i: CAST(x AS UBIGINT) << CAST(3 * (15 - i) AS INTEGER)), lambda x, y: x | y, 0::UBIGINT)`;
  return `((1::UBIGINT << 59) | (CAST(${c}.res AS UBIGINT) << 52) | (CAST(${c}.bc AS UBIGINT) << 45) | ${digits} | ((1::UBIGINT << CAST(3 * (15 - ${c}.res) AS INTEGER)) - 1))`;
}

function cellToken(c: string): string {
  return `printf('%x', ${cellId(c)})`;
}

/** A token → cell, NULL unless it is a valid H3 cell (H3's isValidCell). */
function parseCell(p: Pipe, text: string): string {
  const id = p.let(`CASE WHEN regexp_full_match(${text}, '[0-9a-fA-F]{1,16}') THEN ('0x' || ${text})::UBIGINT END`);
  const [res, bc, all] = p.lets([
    `CAST((${id} >> 52) & 15 AS INTEGER)`,
    `CAST((${id} >> 45) & 127 AS INTEGER)`,
    `list_transform(range(1, 16), lambda r: CAST((${id} >> CAST(3 * (15 - r) AS INTEGER)) & 7 AS INTEGER))`,
  ]) as [string, string, string];
  const d = p.let(`${all}[1:${res}]`);
  return p.let(
    when(
      `(${id} >> 56) = 8 AND ${bc} < 122 AND NOT list_contains(${d}, 7) AND list_bool_and(list_transform(${all}[${res} + 1:], lambda x: x = 7)) IS NOT false AND NOT (${isPentagonBase(bc)} AND ${leading(d)} = 1)`,
      `{'bc': ${bc}, 'res': ${res}, 'd': ${d}}`,
    ),
  );
}

const isPentagon = (c: string) => `(${isPentagonBase(`${c}.bc`)} AND ${leading(`${c}.d`)} = 0)`;

/**
 * _adjustOverageClassII: moves IJ coordinates that fall beyond a face's edge onto the neighboring face.
 * `f` is {face, p, ov}; returns the same shape with ov 0 (none), 1 (on the edge, substrate only) or 2 (moved).
 */
function adjustOverage(p: Pipe, f: string, pentLeading4: string, res: string, substrate: boolean): string {
  const scale = substrate ? 3 : 1;
  const [maxDim, unit, i, j, k] = p.lets([
    `${at(T.MAX_DIM_BY_CII_RES, res)} * ${scale}`,
    `${at(T.UNIT_SCALE_BY_CII_RES, res)} * ${scale}`,
    nI(`${f}.p`),
    nJ(`${f}.p`),
    nK(`${f}.p`),
  ]) as [string, string, string, string, string];
  const sum = p.let(`${i} + ${j} + ${k}`);
  const quadrant = p.let(`CASE WHEN ${k} > 0 THEN (CASE WHEN ${j} > 0 THEN 3 ELSE 2 END) ELSE 1 END`);
  const t = p.let(rotIJcw(ij(`${f}.p.a - ${maxDim}`, `${f}.p.b`)));
  const p1 = p.let(
    `CASE WHEN ${quadrant} = 2 AND ${pentLeading4} THEN ${ij(`${t}.a + ${maxDim}`, `${t}.b`)} ELSE ${f}.p END`,
  );
  const nb = p.let(`${f}.face * 4 + ${quadrant}`);
  const p2 = p.let(rotIJ(p1, at(T.FACE_NEIGHBOR_ROT, nb)));
  const p3 = p.let(
    ij(`${p2}.a + ${unit} * ${at(T.FACE_NEIGHBOR_TA, nb)}`, `${p2}.b + ${unit} * ${at(T.FACE_NEIGHBOR_TB, nb)}`),
  );
  const moved = `{'face': CAST(${at(T.FACE_NEIGHBOR_FACE, nb)} AS INTEGER), 'p': ${p3}, 'ov': ${substrate ? `CASE WHEN ${nI(p3)} + ${nJ(p3)} + ${nK(p3)} = ${maxDim} THEN 1 ELSE 2 END` : '2'}}`;
  const edge = substrate ? `WHEN ${sum} = ${maxDim} THEN {'face': ${f}.face, 'p': ${f}.p, 'ov': 1} ` : '';
  return p.let(
    `(CASE ${edge}WHEN ${sum} > ${maxDim} THEN ${moved} ELSE {'face': ${f}.face, 'p': ${f}.p, 'ov': 0} END)`,
  );
}

/** Repeats an overage adjustment while it keeps moving to a new face (a pentagon may cross several edges). */
function adjustOverageRepeat(p: Pipe, f: string, res: string, substrate: boolean, times: number): string {
  let cur = f;
  for (let n = 0; n < times; n++) {
    const next = adjustOverage(p, cur, 'false', res, substrate);
    cur = p.let(`CASE WHEN ${cur}.ov = 2 THEN ${next} ELSE ${cur} END`);
  }
  return cur;
}

/** _h3ToFaceIjk: the face and IJ coordinates of a cell's center, as {face, p}. */
function cellToFaceIJ(p: Pipe, c: string): string {
  const pentBase = p.let(isPentagonBase(`${c}.bc`));
  const d = p.let(
    `CASE WHEN ${pentBase} AND ${leading(`${c}.d`)} = 5 THEN ${rotDigits(`${c}.d`, '5')} ELSE ${c}.d END`,
  );
  const [face, home] = p.lets([
    `CAST(${at(T.BASE_CELL_FACE, `${c}.bc`)} AS INTEGER)`,
    ij(at(T.BASE_CELL_A, `${c}.bc`), at(T.BASE_CELL_B, `${c}.bc`)),
  ]) as [string, string];
  const walk = fold(p.ids, `range(1, ${c}.res + 1)`, { p: home }, (q, acc, r) => {
    const down = q.let(`CASE WHEN ${r} % 2 = 1 THEN ${downAp7(`${acc}.p`)} ELSE ${downAp7r(`${acc}.p`)} END`);
    const digit = q.let(`${d}[${r}] + 1`);
    return { p: ij(`${down}.a + ${UNIT_A}[${digit}]`, `${down}.b + ${UNIT_B}[${digit}]`) };
  });
  const pc = p.let(`${walk}.p`);
  const noOverage = p.let(`(NOT ${pentBase} AND (${c}.res = 0 OR (${home}.a = 0 AND ${home}.b = 0)))`);
  const overage = piped(p.ids, (q) => {
    // Class III cells are checked in the next finer Class II grid.
    const res2 = q.let(`${c}.res + ${c}.res % 2`);
    const start = q.let(
      `{'face': ${face}, 'p': CASE WHEN ${c}.res % 2 = 1 THEN ${downAp7r(pc)} ELSE ${pc} END, 'ov': 0}`,
    );
    const a1 = adjustOverage(q, start, `(${pentBase} AND ${leading(d)} = 4)`, res2, false);
    const a2 = q.let(
      `COALESCE(${lazy(
        pentBase,
        piped(q.ids, (r) => adjustOverageRepeat(r, a1, res2, false, 3)),
      )}, ${a1})`,
    );
    return `(CASE WHEN ${a1}.ov = 0 THEN {'face': ${face}, 'p': ${pc}} ELSE {'face': ${a2}.face, 'p': CASE WHEN ${c}.res % 2 = 1 THEN ${upAp7r(`${a2}.p`)} ELSE ${a2}.p END} END)`;
  });
  return p.let(`COALESCE(${lazy(noOverage, `{'face': ${face}, 'p': ${pc}}`)}, ${lazy(`NOT ${noOverage}`, overage)})`);
}

/** [lng, lat] in degrees of a {lat, lng} in radians. */
function lngLatDegrees(g: string): string {
  return `[${g}.lng * ${RAD_TO_DEG}, ${g}.lat * ${RAD_TO_DEG}]`;
}

function cellCenter(p: Pipe, c: string): string {
  const f = cellToFaceIJ(p, c);
  return hex2dToGeo(p, hex2d(`${f}.p`), `${f}.face`, `${c}.res`, false);
}

/** The cell boundary as a list of [lng, lat] degrees (H3's cellToBoundary), not closed. */
function cellBoundary(p: Pipe, c: string): string {
  const ids = p.ids;
  const f = cellToFaceIJ(p, c);
  const [classIII, adjRes, pent] = p.lets([`${c}.res % 2 = 1`, `${c}.res + ${c}.res % 2`, isPentagon(c)]) as [
    string,
    string,
    string,
  ];
  // _faceIjkToVerts: the center in the aperture 3-3r(-7r) substrate grid plus the vertex offsets.
  const q3 = p.let(downAp3r(p.let(downAp3(`${f}.p`))));
  const ctr = p.let(`CASE WHEN ${classIII} THEN ${downAp7r(q3)} ELSE ${q3} END`);
  const n = ids.next();
  const vs = p.let(
    `list_transform(range(CASE WHEN ${pent} THEN 5 ELSE 6 END), lambda ${n}: ${ij(
      `${ctr}.a + CASE WHEN ${classIII} THEN ${ints(VERTS_CIII.a)}[${n} + 1] ELSE ${ints(VERTS_CII.a)}[${n} + 1] END`,
      `${ctr}.b + CASE WHEN ${classIII} THEN ${ints(VERTS_CIII.b)}[${n} + 1] ELSE ${ints(VERTS_CII.b)}[${n} + 1] END`,
    )})`,
  );
  // Each vertex moved onto the face it lies on (a pentagon's vertex may need several moves).
  const m = ids.next();
  const adj = p.let(
    `list_transform(${vs}, lambda ${m}: ${piped(ids, (q) => {
      const a1 = adjustOverage(q, `{'face': ${f}.face, 'p': ${m}, 'ov': 0}`, 'false', adjRes, true);
      return `COALESCE(${lazy(
        pent,
        piped(ids, (r) => adjustOverageRepeat(r, a1, adjRes, true, 3)),
      )}, ${a1})`;
    })})`,
  );
  const nv = p.let(`len(${vs})`);
  const vtx = ids.next();
  const perVertex = piped(ids, (q) => {
    const [cur, last, curOrig, lastOrig] = q.lets([
      `${adj}[${vtx} % ${nv} + 1]`,
      `${adj}[greatest(${vtx}, 1)]`,
      `${vs}[${vtx} % ${nv} + 1]`,
      `${vs}[greatest(${vtx}, 1)]`,
    ]) as [string, string, string, string];
    // Only Class III edges can cross an icosahedron edge: computed only there.
    const hexCross = piped(ids, (r) => hexCrossing(r, lastOrig, curOrig, cur, last, `${f}.face`, adjRes));
    const pentCross = piped(ids, (r) => pentCrossing(r, cur, last, adjRes));
    const needed = `${classIII} AND ${vtx} > 0`;
    const crossing = `COALESCE(${lazy(`${needed} AND ${pent}`, pentCross)}, ${lazy(`${needed} AND NOT ${pent} AND ${cur}.face <> ${last}.face AND ${last}.ov <> 1`, hexCross)}, [])`;
    const g = hex2dToGeo(q, hex2d(`${cur}.p`), `${cur}.face`, adjRes, true);
    return `list_concat(${crossing}, CASE WHEN ${vtx} < ${nv} THEN [${lngLatDegrees(g)}] ELSE [] END)`;
  });
  return p.let(`flatten(list_transform(range(${nv} + 1), lambda ${vtx}: ${perVertex}))`);
}

/**
 * A hexagon's Class III edge that crosses an icosahedron edge: the crossing point, from the unadjusted vertices
 * on the center face, unless it falls on a vertex.
 */
function hexCrossing(
  p: Pipe,
  lastOrig: string,
  curOrig: string,
  cur: string,
  last: string,
  face: string,
  adjRes: string,
): string {
  const [o0, o1, maxDim, dir] = p.lets([
    hex2d(lastOrig),
    hex2d(curOrig),
    at(T.MAX_DIM_BY_CII_RES, adjRes),
    at(T.ADJACENT_FACE_DIR, `${face} * 20 + (CASE WHEN ${last}.face = ${face} THEN ${cur}.face ELSE ${last}.face END)`),
  ]) as [string, string, string, string];
  const inter = edgeIntersect(p, o0, o1, maxDim, dir);
  const g = hex2dToGeo(p, inter, face, adjRes, true);
  return `CASE WHEN ${almostEqual(o0, inter)} OR ${almostEqual(o1, inter)} THEN [] ELSE [${lngLatDegrees(g)}] END`;
}

/**
 * A pentagon's Class III edge always crosses an icosahedron edge: the current vertex is carried onto the face of
 * the previous one, and the crossing point is taken there.
 */
function pentCrossing(p: Pipe, cur: string, last: string, adjRes: string): string {
  const nb = p.let(`${cur}.face * 4 + greatest(0, ${at(T.ADJACENT_FACE_DIR, `${cur}.face * 20 + ${last}.face`)})`);
  const [tface, unit] = p.lets([`${at(T.FACE_NEIGHBOR_FACE, nb)}`, `${at(T.UNIT_SCALE_BY_CII_RES, adjRes)} * 3`]) as [
    string,
    string,
  ];
  const p2 = p.let(rotIJ(`${cur}.p`, at(T.FACE_NEIGHBOR_ROT, nb)));
  const [o0, o1, maxDim, dir] = p.lets([
    hex2d(`${last}.p`),
    hex2d(ij(`${p2}.a + ${unit} * ${at(T.FACE_NEIGHBOR_TA, nb)}`, `${p2}.b + ${unit} * ${at(T.FACE_NEIGHBOR_TB, nb)}`)),
    at(T.MAX_DIM_BY_CII_RES, adjRes),
    at(T.ADJACENT_FACE_DIR, `${tface} * 20 + ${cur}.face`),
  ]) as [string, string, string, string];
  const inter = edgeIntersect(p, o0, o1, maxDim, dir);
  return `[${lngLatDegrees(hex2dToGeo(p, inter, tface, adjRes, true))}]`;
}

function almostEqual(a: string, c: string): string {
  return `(abs(${a}.x - ${c}.x) < ${FLT_EPSILON} AND abs(${a}.y - ${c}.y) < ${FLT_EPSILON})`;
}

/** _v2dIntersect of the segment o0-o1 with the icosahedron face edge in direction `dir` (H3 4.x: t is a double). */
function edgeIntersect(p: Pipe, o0: string, o1: string, maxDim: string, dir: string): string {
  const v0 = `{'x': 3.0e0 * ${maxDim}, 'y': 0.0e0}`;
  const v1 = `{'x': -1.5e0 * ${maxDim}, 'y': 3.0e0 * ${M_SQRT3_2} * ${maxDim}}`;
  const v2 = `{'x': -1.5e0 * ${maxDim}, 'y': -3.0e0 * ${M_SQRT3_2} * ${maxDim}}`;
  const [p2, p3] = p.lets([
    `CASE ${dir} WHEN 1 THEN ${v0} WHEN 3 THEN ${v1} ELSE ${v2} END`,
    `CASE ${dir} WHEN 1 THEN ${v1} WHEN 3 THEN ${v2} ELSE ${v0} END`,
  ]) as [string, string];
  const [s1, s2] = p.lets([
    `{'x': ${o1}.x - ${o0}.x, 'y': ${o1}.y - ${o0}.y}`,
    `{'x': ${p3}.x - ${p2}.x, 'y': ${p3}.y - ${p2}.y}`,
  ]) as [string, string];
  const t = p.let(
    `((${s2}.x * (${o0}.y - ${p2}.y) - ${s2}.y * (${o0}.x - ${p2}.x)) / (-${s2}.x * ${s1}.y + ${s1}.x * ${s2}.y))`,
  );
  return p.let(`{'x': ${o0}.x + (${t} * ${s1}.x), 'y': ${o0}.y + (${t} * ${s1}.y)}`);
}

// ───────────────────────────── grid traversal ─────────────────────────────

/**
 * h3NeighborRotations: the neighbor of a cell in a direction, given the rotations accumulated so far.
 * Returns {bc, d, rot, fail}; `fail` where H3 returns an error (moving into a pentagon's deleted k direction).
 */
function neighbor(p: Pipe, c: string, dirIn: string, rotIn: string): string {
  const [rot0, oldBc, oldLead] = p.lets([`(${rotIn}) % 6`, `${c}.bc`, leading(`${c}.d`)]) as [string, string, string];
  const dir0 = p.let(`${lookup(ROT_CCW_N_TABLE, `${rot0} * 8 + ${dirIn}`)}`);
  // Adjust the digits from the finest up while the move carries to the coarser resolution.
  const walk = fold(
    p.ids,
    `range(${c}.res)`,
    { d: `${c}.d`, dir: `CAST(${dir0} AS INTEGER)`, done: 'false' },
    (q, s, t) => {
      const [r1, old] = q.lets([`CAST(${c}.res - ${t} AS INTEGER)`, `${s}.d[${c}.res - ${t}]`]) as [string, string];
      const cell = q.let(`${old} * 7 + ${s}.dir + 1`);
      const [nd, nextDir] = q.lets([
        `CASE WHEN ${r1} % 2 = 1 THEN ${lookup(T.NEW_DIGIT_II, `${cell} - 1`)} ELSE ${lookup(T.NEW_DIGIT_III, `${cell} - 1`)} END`,
        `CASE WHEN ${r1} % 2 = 1 THEN ${lookup(T.NEW_ADJUSTMENT_II, `${cell} - 1`)} ELSE ${lookup(T.NEW_ADJUSTMENT_III, `${cell} - 1`)} END`,
      ]) as [string, string];
      return {
        d: `CASE WHEN ${s}.done THEN ${s}.d ELSE list_transform(${s}.d, lambda x, i: CASE WHEN i = ${r1} THEN ${nd} ELSE x END) END`,
        dir: `CASE WHEN ${s}.done OR ${nextDir} = 0 THEN ${s}.dir ELSE ${nextDir} END`,
        done: `${s}.done OR ${nextDir} = 0`,
      };
    },
  );
  const w = p.let(walk);
  // Carried past resolution 0: move to the neighboring base cell.
  const base = p.let(`NOT ${w}.done`);
  const [nb0, nbRot0] = p.lets([
    at(T.BASE_CELL_NEIGHBORS, `${oldBc} * 7 + ${w}.dir`),
    at(T.BASE_CELL_NEIGHBOR_ROTS, `${oldBc} * 7 + ${w}.dir`),
  ]) as [string, string];
  const deleted = p.let(`${base} AND ${nb0} = 127`);
  const [newBc, newRot] = p.lets([
    `CASE WHEN NOT ${base} THEN ${oldBc} WHEN ${deleted} THEN ${at(T.BASE_CELL_NEIGHBORS, `${oldBc} * 7 + 5`)} ELSE ${nb0} END`,
    `CASE WHEN NOT ${base} THEN 0 WHEN ${deleted} THEN ${at(T.BASE_CELL_NEIGHBOR_ROTS, `${oldBc} * 7 + 5`)} ELSE ${nbRot0} END`,
  ]) as [string, string];
  const [d1, rot1] = p.lets([
    `CASE WHEN ${deleted} THEN ${rotDigits(`${w}.d`, '1')} ELSE ${w}.d END`,
    `${rot0} + CASE WHEN ${deleted} THEN 1 ELSE 0 END`,
  ]) as [string, string];
  const pent = p.let(isPentagonBase(newBc));
  const intoK = p.let(`${pent} AND ${leading(d1)} = 1`);
  const crossed = p.let(`${oldBc} <> ${newBc}`);
  // Rotate out of a pentagon's deleted k subsequence.
  const d2 = p.let(
    `CASE WHEN NOT ${intoK} THEN ${d1} WHEN ${crossed} THEN (CASE WHEN ${cwOffset(newBc, at(T.BASE_CELL_FACE, oldBc))} THEN ${rotDigits(d1, '5')} ELSE ${rotDigits(d1, '1')} END) WHEN ${oldLead} = 3 THEN ${rotDigits(d1, '1')} WHEN ${oldLead} = 5 THEN ${rotDigits(d1, '5')} ELSE ${d1} END`,
  );
  const rot2 = p.let(
    `${rot1} + CASE WHEN ${intoK} AND NOT ${crossed} AND ${oldLead} = 3 THEN 1 WHEN ${intoK} AND NOT ${crossed} AND ${oldLead} = 5 THEN 5 ELSE 0 END`,
  );
  const fail = p.let(`${intoK} AND NOT ${crossed} AND ${oldLead} NOT IN (3, 5)`);
  const d3 = p.let(`CASE WHEN ${pent} THEN ${rotPentDigits(p.ids, d2, newRot)} ELSE ${rotDigits(d2, newRot)} END`);
  const lead3 = p.let(leading(d3));
  const rot3 = p.let(
    `${rot2} + CASE WHEN NOT ${pent} OR NOT ${crossed} THEN 0 WHEN ${newBc} IN (4, 117) THEN (CASE WHEN ${oldBc} <> 118 AND ${oldBc} <> 8 AND ${lead3} <> 3 THEN 1 ELSE 0 END) WHEN ${lead3} = 5 AND NOT ${intoK} THEN 1 ELSE 0 END`,
  );
  return p.let(
    `{'bc': CAST(${newBc} AS INTEGER), 'd': ${d3}, 'rot': CAST((${rot3} + ${newRot}) % 6 AS INTEGER), 'fail': ${fail}}`,
  );
}

/**
 * gridDiskDistances as ring lists [[origin], [distance 1...], ...]: the fast ring walk of gridDiskDistancesUnsafe
 * (a recursive CTE, one step per row) and, when it meets a pentagon, the breadth-first search H3 falls back to.
 * The result is a scalar subquery; `cell` and `k` must not refer to lambda parameters.
 */
function gridDisk(ids: Ids, cellSql: string, kSql: string): string {
  const dirs = ints(DIRECTIONS);
  const step = piped(ids, (p) => {
    // The CTE's columns go in as the pipe's inputs (see bfsStep).
    const [bc, res, d, rot, ring, dir, i] = ['w.bc', 'w.res', 'w.d', 'w.rot', 'w.ring', 'w.dir', 'w.i'].map((c) =>
      p.input(c),
    ) as [string, string, string, string, string, string, string];
    const first = p.let(`${dir} = 0 AND ${i} = 0`);
    const pre = neighbor(p, `{'bc': ${bc}, 'res': ${res}, 'd': ${d}}`, `${NEXT_RING_DIRECTION}`, rot);
    const start = p.let(
      `CASE WHEN ${first} THEN {'bc': ${pre}.bc, 'res': ${res}, 'd': ${pre}.d} ELSE {'bc': ${bc}, 'res': ${res}, 'd': ${d}} END`,
    );
    const [rotA, failA] = p.lets([
      `CASE WHEN ${first} THEN ${pre}.rot ELSE ${rot} END`,
      `${first} AND (${pre}.fail OR ${isPentagon(`{'bc': ${pre}.bc, 'res': ${res}, 'd': ${pre}.d}`)})`,
    ]) as [string, string];
    const moved = neighbor(p, start, `${dirs}[${dir} + 1]`, rotA);
    const [i2, dir2] = p.lets([
      `CASE WHEN ${i} + 1 = ${ring} THEN 0 ELSE ${i} + 1 END`,
      `CASE WHEN ${i} + 1 = ${ring} THEN ${dir} + 1 ELSE ${dir} END`,
    ]) as [string, string];
    return `{'bc': ${moved}.bc, 'd': ${moved}.d, 'rot': ${moved}.rot, 'dist': ${ring}, 'ring': CASE WHEN ${dir2} = 6 THEN ${ring} + 1 ELSE ${ring} END, 'dir': CASE WHEN ${dir2} = 6 THEN 0 ELSE ${dir2} END, 'i': ${i2}, 'fail': ${failA} OR ${moved}.fail OR ${isPentagon(`{'bc': ${moved}.bc, 'res': ${res}, 'd': ${moved}.d}`)}}`;
  });
  // Breadth-first search (H3's _gridDiskDistancesInternal): each level is the new neighbors of the previous one,
  // in queue order; only the two previous levels can hold cells already seen.
  const bfsStep = piped(ids, (p) => {
    // Columns go through the pipe's inputs: lambdas that capture the recursive CTE's columns misbehave in DuckDB.
    const [cur, prev, res] = [p.input('b.cur'), p.input('b.prev'), p.input('b.res')] as [string, string, string];
    const c = ids.next();
    const dr = ids.next();
    const cand = p.let(
      `flatten(list_transform(${cur}, lambda ${c}: list_filter(list_transform(${dirs}, lambda ${dr}: ${piped(
        ids,
        (q) => {
          const nb = neighbor(q, `{'bc': ${c}.bc, 'res': ${res}, 'd': ${c}.d}`, dr, '0');
          return `CASE WHEN ${nb}.fail THEN NULL ELSE {'bc': ${nb}.bc, 'd': ${nb}.d} END`;
        },
      )}), lambda x: x IS NOT NULL)))`,
    );
    return `list_filter(${cand}, lambda x, n: list_position(${cand}, x) = n AND NOT list_contains(${cur}, x) AND NOT list_contains(${prev}, x))`;
  });
  const token = (x: string) => cellToken(`{'bc': ${x}.bc, 'res': w0.res, 'd': ${x}.d}`);
  return `(WITH RECURSIVE
  __h3o AS (SELECT ${cellSql} AS __h3c, CAST(${kSql} AS INTEGER) AS __h3k),
  __h3w(n, bc, res, d, rot, dist, ring, dir, i, fail) AS (
    SELECT 0, __h3c.bc, __h3c.res, __h3c.d, 0, 0, 1, 0, 0, ${isPentagon('__h3c')} FROM __h3o WHERE __h3c IS NOT NULL AND __h3k BETWEEN 0 AND 142
    UNION ALL
    SELECT t.n + 1, t.s.bc, t.res, t.s.d, t.s.rot, t.s.dist, t.s.ring, t.s.dir, t.s.i, t.s.fail
    FROM (SELECT w.n, w.res, ${step} AS s FROM __h3w w, __h3o WHERE NOT w.fail AND w.ring <= __h3o.__h3k) t
  ),
  __h3f AS (SELECT bool_or(fail) AS f FROM __h3w),
  __h3b(level, res, cur, prev) AS (
    SELECT 0, __h3c.res, [{'bc': __h3c.bc, 'd': __h3c.d}], []::STRUCT(bc INTEGER, d INTEGER[])[] FROM __h3o, __h3f WHERE __h3f.f AND __h3c IS NOT NULL AND __h3k BETWEEN 0 AND 142
    UNION ALL
    SELECT t.level + 1, t.res, t.nxt, t.cur FROM (SELECT b.level, b.res, b.cur, ${bfsStep} AS nxt FROM __h3b b, __h3o WHERE b.level < __h3o.__h3k AND len(b.cur) > 0) t
  ),
  __h3n(id, dist, n) AS (
    SELECT ${cellId(`{'bc': x.bc, 'res': b.res, 'd': x.d}`)}, b.level, b.level * 1000000 + pos
    FROM __h3b b, unnest(b.cur) WITH ORDINALITY AS u(x, pos)
  ),
  __h3p AS (SELECT ${hashSlots(ids)} AS tab FROM (SELECT list(id ORDER BY n) AS ids, list(dist ORDER BY n) AS dists, 3 * max(__h3k) * (max(__h3k) + 1) + 1 AS size FROM __h3n, __h3o))
SELECT CASE WHEN (SELECT f FROM __h3f)
  THEN (SELECT list(cells ORDER BY dist) FROM (SELECT t.dist, list(printf('%x', t.id) ORDER BY t.slot) AS cells FROM (SELECT unnest(tab) AS t FROM __h3p) GROUP BY t.dist))
  ELSE (SELECT list(cells ORDER BY dist) FROM (SELECT w0.dist, list(${token('w0')} ORDER BY w0.n) AS cells FROM __h3w w0 GROUP BY w0.dist))
END)`;
}

/**
 * H3's safe gridDisk keeps its output in an array used as a hash set (slot = index mod 3k(k+1)+1, linear
 * probing), and returns the array in slot order. `ids`/`dists` are the cells in insertion order; the result
 * is the list of {id, dist, slot}.
 */
function hashSlots(ids: Ids): string {
  const size = 'size';
  const tab = fold(
    ids,
    `range(len(ids))`,
    { tab: `list_transform(range(${size}), lambda _: 0::UBIGINT)` },
    (q, st, i) => {
      const id = q.let(`ids[${i} + 1]`);
      const off = q.let(`CAST(${id} % CAST(${size} AS UBIGINT) AS BIGINT)`);
      const slot = q.let(
        `list_filter(list_transform(range(${size}), lambda t: (${off} + t) % ${size}), lambda j: ${st}.tab[j + 1] = 0)[1]`,
      );
      return { tab: `list_transform(${st}.tab, lambda x, j: CASE WHEN j - 1 = ${slot} THEN ${id} ELSE x END)` };
    },
  );
  return `list_filter(list_transform(${tab}.tab, lambda x, j: {'id': x, 'dist': dists[list_position(ids, x)], 'slot': j}), lambda e: e.id <> 0)`;
}

// ───────────────────────────── templates ─────────────────────────────

function tokenText(a: SqlArg): string {
  return a.type === 'string' ? a.sql : 'CAST(NULL AS VARCHAR)';
}

const pointToH3cell: Template = (args, ctx) => {
  arg(args, 1, ctx);
  return piped(new Ids(), (p) => {
    const [lng, lat, r] = [num(args[0] as SqlArg), num(args[1] as SqlArg), args[2] ? int(args[2]) : '6'].map((x) =>
      p.input(x),
    ) as [string, string, string];
    const ok = p.let(`${lng} BETWEEN -180 AND 180 AND ${lat} BETWEEN -90 AND 90 AND ${r} BETWEEN 0 AND 15`);
    const f = geoToFaceIJ(
      p,
      `CASE WHEN ${ok} THEN ${lat} ELSE 0 END * ${M_PI_180}`,
      `CASE WHEN ${ok} THEN ${lng} ELSE 0 END * ${M_PI_180}`,
      `CASE WHEN ${ok} THEN ${r} ELSE 0 END`,
    );
    const c = faceIJToCell(p, `${f}.face`, `${f}.p`, `CASE WHEN ${ok} THEN ${r} ELSE 0 END`);
    return `CASE WHEN ${ok} AND ${c} IS NOT NULL THEN ${cellToken(c)} ELSE '' END`;
  });
};

const h3cellLevel: Template = (args, ctx) =>
  piped(new Ids(), (p) => `${parseCell(p, p.input(tokenText(arg(args, 0, ctx))))}.res`);

const h3cellToCentralPoint: Template = (args, ctx) =>
  piped(new Ids(), (p) => {
    const c = parseCell(p, p.input(tokenText(arg(args, 0, ctx))));
    const safe = p.let(`COALESCE(${c}, {'bc': 0, 'res': 0, 'd': []::INTEGER[]})`);
    const g = cellCenter(p, safe);
    return when(`${c} IS NOT NULL`, `json_object('type', 'Point', 'coordinates', to_json(${lngLatDegrees(g)}))`);
  });

const h3cellToPolygon: Template = (args, ctx) =>
  piped(new Ids(), (p) => {
    const c = parseCell(p, p.input(tokenText(arg(args, 0, ctx))));
    const safe = p.let(`COALESCE(${c}, {'bc': 0, 'res': 0, 'd': []::INTEGER[]})`);
    const ring = cellBoundary(p, safe);
    return when(
      `${c} IS NOT NULL`,
      `json_object('type', 'Polygon', 'coordinates', to_json([list_append(${ring}, ${ring}[1])]))`,
    );
  });

const h3cellParent: Template = (args, ctx) =>
  piped(new Ids(), (p) => {
    const c = parseCell(p, p.input(tokenText(arg(args, 0, ctx))));
    const r = p.let(args[1] ? p.input(int(args[1])) : `${c}.res - 1`);
    return `COALESCE(${when(`${c} IS NOT NULL AND ${r} BETWEEN 0 AND 14 AND ${r} <= ${c}.res`, cellToken(`{'bc': ${c}.bc, 'res': CAST(${r} AS INTEGER), 'd': ${c}.d[1:${r}]}`))}, '')`;
  });

/**
 * `geo_h3cell_children`: the children at a finer resolution (at most 5 levels down), in H3's order (digits in
 * increasing order; a pentagon has no K-digit child while it is still a pentagon).
 */
const h3cellChildren: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const c = parseCell(p, p.input(tokenText(arg(args, 0, ctx))));
    const r = p.let(args[1] ? p.input(int(args[1])) : `${c}.res + 1`);
    const ok = p.let(`${c} IS NOT NULL AND ${r} BETWEEN 1 AND 15 AND ${r} >= ${c}.res AND ${r} - ${c}.res <= 5`);
    const n = p.let(`CASE WHEN ${ok} THEN ${r} - ${c}.res ELSE 0 END`);
    const k = ids.next();
    // Child k (0 <= k < 7^n) in base 7 gives the new digits, most significant first.
    const digits = `list_transform(range(${n}), lambda q: CAST((${k} // CAST(power(7, ${n} - 1 - q) AS BIGINT)) % 7 AS INTEGER))`;
    const pent = p.let(isPentagon(c));
    const children = `list_transform(list_filter(range(CAST(power(7, ${n}) AS BIGINT)), lambda ${k}: NOT (${pent} AND ${leading(digits)} = 1)), lambda ${k}: ${cellToken(`{'bc': ${c}.bc, 'res': CAST(${r} AS INTEGER), 'd': list_concat(${c}.d, ${digits})}`)})`;
    return when(ok, `to_json(${children})`);
  });
};

/** `geo_h3cell_rings(cell, distance)`: gridDiskDistances grouped by distance (distance 0-142). */
const h3cellRings: Template = (args, ctx) => {
  const ids = new Ids();
  const cell = piped(ids, (p) => parseCell(p, p.input(tokenText(arg(args, 0, ctx)))));
  const k = int(arg(args, 1, ctx));
  return `CASE WHEN ${k} BETWEEN 0 AND 142 THEN to_json(${gridDisk(ids, cell, k)}) END`;
};

/** `geo_h3cell_neighbors(cell)`: the cells at grid distance 1, in H3's gridDisk order. */
const h3cellNeighbors: Template = (args, ctx) => {
  const ids = new Ids();
  const cell = piped(ids, (p) => parseCell(p, p.input(tokenText(arg(args, 0, ctx)))));
  return `to_json((${gridDisk(ids, cell, '1')})[2])`;
};

export const GEO_H3_FUNCTIONS: Readonly<Record<string, Template>> = {
  geo_point_to_h3cell: pointToH3cell,
  geo_h3cell_level: h3cellLevel,
  geo_h3cell_to_central_point: h3cellToCentralPoint,
  geo_h3cell_to_polygon: h3cellToPolygon,
  geo_h3cell_parent: h3cellParent,
  geo_h3cell_children: h3cellChildren,
  geo_h3cell_rings: h3cellRings,
  geo_h3cell_neighbors: h3cellNeighbors,
};
