/**
 * S2 cells (Google's S2 geometry, the cell grid Kusto's geo_*s2cell* functions use): a point is projected onto a
 * cube face, (u,v) face coordinates are mapped to (s,t) by S2's quadratic projection, (s,t) to 30-bit leaf
 * coordinates (i,j), and (i,j) to the position along the face's Hilbert curve. A cell id is a 64-bit number
 * (3 face bits, 2 bits per level, a trailing 1); its token is the hex text without trailing zeros.
 * The steps follow S2's reference implementation (S2CellId::FromFaceIJ, ToFaceIJOrientation, GetAllNeighbors,
 * S2Cell::GetVertex), one Hilbert step per level instead of its 4-bit lookup tables (same result).
 */
import type { SqlArg, Template } from '../../dialect.js';
import { arg } from './base.js';
import {
  fold,
  Ids,
  int,
  latOf,
  lazy,
  lngOf,
  num,
  type Pipe,
  piped,
  pointJson,
  validLngLat,
  when,
  xyz,
} from './functions-geo-sql.js';

const MAX_SIZE = 1073741824; // 2^30 leaf cells per face side
const THIRD = '(1.0e0 / 3.0e0)';
/** S2's ijToPos[orientation][ij] and posToIJ[orientation][pos], flattened (index orientation * 4 + x + 1). */
const IJ_TO_POS = '[0, 1, 3, 2, 0, 3, 1, 2, 2, 3, 1, 0, 2, 1, 3, 0]';
const POS_TO_IJ = '[0, 1, 3, 2, 0, 2, 3, 1, 3, 2, 0, 1, 3, 1, 0, 2]';
const POS_TO_ORIENTATION = '[1, 0, 0, 3]';

export function stToUV(s: string): string {
  return `(CASE WHEN ${s} >= 0.5e0 THEN ${THIRD} * (4 * ${s} * ${s} - 1) ELSE ${THIRD} * (1 - 4 * (1 - ${s}) * (1 - ${s})) END)`;
}

function uvToST(u: string): string {
  return `(CASE WHEN ${u} >= 0 THEN 0.5e0 * sqrt(1 + 3 * ${u}) ELSE 1 - 0.5e0 * sqrt(greatest(0.0e0, 1 - 3 * ${u})) END)`;
}

function stToIJ(s: string): string {
  return `greatest(0, least(${MAX_SIZE - 1}, CAST(floor(${MAX_SIZE} * (${s})) AS BIGINT)))`;
}

/** The cube face of a vector: its largest absolute component (+3 when negative), ties as S2 breaks them. */
function faceOf(v: string): string {
  const ax = `abs(${v}.x)`;
  const ay = `abs(${v}.y)`;
  const az = `abs(${v}.z)`;
  return `(CASE WHEN ${ax} > ${ay} THEN (CASE WHEN ${ax} > ${az} THEN (CASE WHEN ${v}.x < 0 THEN 3 ELSE 0 END) ELSE (CASE WHEN ${v}.z < 0 THEN 5 ELSE 2 END) END) ELSE (CASE WHEN ${ay} > ${az} THEN (CASE WHEN ${v}.y < 0 THEN 4 ELSE 1 END) ELSE (CASE WHEN ${v}.z < 0 THEN 5 ELSE 2 END) END) END)`;
}

/** (u,v) of a vector on a given face (S2's ValidFaceXYZtoUV). */
function faceXYZtoUV(f: string, v: string): string {
  return `(CASE ${f} WHEN 0 THEN {'u': ${v}.y / ${v}.x, 'v': ${v}.z / ${v}.x} WHEN 1 THEN {'u': -${v}.x / ${v}.y, 'v': ${v}.z / ${v}.y} WHEN 2 THEN {'u': -${v}.x / ${v}.z, 'v': -${v}.y / ${v}.z} WHEN 3 THEN {'u': ${v}.z / ${v}.x, 'v': ${v}.y / ${v}.x} WHEN 4 THEN {'u': ${v}.z / ${v}.y, 'v': -${v}.x / ${v}.y} ELSE {'u': -${v}.y / ${v}.z, 'v': -${v}.x / ${v}.z} END)`;
}

/** The (unnormalized) vector of face coordinates (S2's FaceUVtoXYZ). */
export function faceUVtoXYZ(f: string, u: string, v: string): string {
  return `(CASE ${f} WHEN 0 THEN {'x': 1.0e0, 'y': ${u}, 'z': ${v}} WHEN 1 THEN {'x': -${u}, 'y': 1.0e0, 'z': ${v}} WHEN 2 THEN {'x': -${u}, 'y': -${v}, 'z': 1.0e0} WHEN 3 THEN {'x': -1.0e0, 'y': -${v}, 'z': -${u}} WHEN 4 THEN {'x': ${v}, 'y': -1.0e0, 'z': -${u}} ELSE {'x': ${v}, 'y': ${u}, 'z': -1.0e0} END)`;
}

/**
 * The id (UBIGINT) of the level-`level` cell containing leaf (i,j) of face f: one Hilbert-curve step per level
 * from the top bit of i and j down.
 */
function encode(ids: Ids, f: string, i: string, j: string, level: string): string {
  const walk = fold(ids, `range(${level})`, { o: `(${f}) & 1`, n: '0::UBIGINT' }, (p, a, t) => {
    const k = `CAST(29 - ${t} AS INTEGER)`;
    const pos = p.let(`${IJ_TO_POS}[${a}.o * 4 + ((${i} >> ${k}) & 1) * 2 + ((${j} >> ${k}) & 1) + 1]`);
    return { o: `xor(${a}.o, ${POS_TO_ORIENTATION}[${pos} + 1])`, n: `(${a}.n << 2) | CAST(${pos} AS UBIGINT)` };
  });
  return `((CAST(${f} AS UBIGINT) << 61) | (${walk}.n << CAST(61 - 2 * (${level}) AS INTEGER)) | (1::UBIGINT << CAST(60 - 2 * (${level}) AS INTEGER)))`;
}

/** The leaf cell of a point's vector, as STRUCT(f, i, j). */
function leafOf(p: Pipe, v: string): string {
  const f = p.let(faceOf(v));
  const uv = p.let(faceXYZtoUV(f, v));
  return p.let(`{'f': ${f}, 'i': ${stToIJ(uvToST(`${uv}.u`))}, 'j': ${stToIJ(uvToST(`${uv}.v`))}}`);
}

/** A cell token: 16 hex digits without the trailing zeros ('X' for the zero id). */
function token(id: string): string {
  return `COALESCE(NULLIF(rtrim(printf('%016x', ${id}), '0'), ''), 'X')`;
}

/**
 * A token (VARCHAR) → STRUCT(id, f, i, j, level) with (i,j) the cell's coordinates at its own level; NULL when
 * the token is not a valid cell (1-16 hex digits, face < 6, level bit at an even position).
 */
export function s2Decode(p: Pipe, text: string): string {
  const id = p.let(
    `CASE WHEN regexp_full_match(${text}, '[0-9a-fA-F]{1,16}') THEN ('0x' || rpad(${text}, 16, '0'))::UBIGINT END`,
  );
  const level = p.let(
    `list_position(list_transform(range(31), lambda l: 1::UBIGINT << CAST(60 - 2 * l AS INTEGER)), ${id} & ((~${id}) + 1)) - 1`,
  );
  const ok = p.let(`${id} >> 61 < 6 AND ${level} IS NOT NULL`);
  const walk = fold(
    p.ids,
    `range(1, CASE WHEN ${ok} THEN ${level} + 1 ELSE 1 END)`,
    {
      o: `CAST(${id} >> 61 AS INTEGER) & 1`,
      i: '0::BIGINT',
      j: '0::BIGINT',
    },
    (q, a, t) => {
      const pos = q.let(`CAST((${id} >> CAST(61 - 2 * ${t} AS INTEGER)) & 3 AS INTEGER)`);
      const ij = q.let(`${POS_TO_IJ}[${a}.o * 4 + ${pos} + 1]`);
      return {
        o: `xor(${a}.o, ${POS_TO_ORIENTATION}[${pos} + 1])`,
        i: `${a}.i * 2 + (${ij} >> 1)`,
        j: `${a}.j * 2 + (${ij} & 1)`,
      };
    },
  );
  const w = p.let(walk);
  return p.let(
    when(
      ok,
      `{'id': ${id}, 'f': CAST(${id} >> 61 AS INTEGER), 'i': ${w}.i, 'j': ${w}.j, 'level': CAST(${level} AS INTEGER)}`,
    ),
  );
}

function tokenText(a: SqlArg): string {
  return a.type === 'string' ? a.sql : 'CAST(NULL AS VARCHAR)';
}

const pointToS2cell: Template = (args, ctx) => {
  arg(args, 1, ctx);
  const ids = new Ids();
  return piped(ids, (p) => {
    const [lng, lat, l] = [num(args[0] as SqlArg), num(args[1] as SqlArg), args[2] ? int(args[2]) : '11'].map((x) =>
      p.input(x),
    ) as [string, string, string];
    const ok = p.let(`${validLngLat(lng, lat)} AND ${l} BETWEEN 0 AND 30`);
    const leaf = leafOf(p, xyz(p, `CASE WHEN ${ok} THEN ${lng} ELSE 0 END`, `CASE WHEN ${ok} THEN ${lat} ELSE 0 END`));
    return `CASE WHEN ${ok} THEN ${token(encode(ids, `${leaf}.f`, `${leaf}.i`, `${leaf}.j`, l))} ELSE '' END`;
  });
};

const s2cellToCentralPoint: Template = (args, ctx) =>
  piped(new Ids(), (p) => {
    const c = s2Decode(p, p.input(tokenText(arg(args, 0, ctx))));
    // The center in (s,t): (2i+1) half-cells of the cell's level, over 2^31.
    const s = `CAST((2 * ${c}.i + 1) << (30 - ${c}.level) AS DOUBLE) / ${2 * MAX_SIZE}`;
    const t = `CAST((2 * ${c}.j + 1) << (30 - ${c}.level) AS DOUBLE) / ${2 * MAX_SIZE}`;
    const v = p.let(faceUVtoXYZ(`${c}.f`, stToUV(s), stToUV(t)));
    return when(`${c} IS NOT NULL`, pointJson(lngOf(v), latOf(v)));
  });

/** S2Cell vertices 0-3 (counterclockwise from (u_lo, v_lo)), closed by repeating the first. */
const s2cellToPolygon: Template = (args, ctx) =>
  piped(new Ids(), (p) => {
    const c = s2Decode(p, p.input(tokenText(arg(args, 0, ctx))));
    const [ulo, uhi, vlo, vhi] = p.lets([
      stToUV(`CAST(${c}.i << (30 - ${c}.level) AS DOUBLE) / ${MAX_SIZE}`),
      stToUV(`CAST((${c}.i + 1) << (30 - ${c}.level) AS DOUBLE) / ${MAX_SIZE}`),
      stToUV(`CAST(${c}.j << (30 - ${c}.level) AS DOUBLE) / ${MAX_SIZE}`),
      stToUV(`CAST((${c}.j + 1) << (30 - ${c}.level) AS DOUBLE) / ${MAX_SIZE}`),
    ]) as [string, string, string, string];
    const vs = p.lets([
      faceUVtoXYZ(`${c}.f`, ulo, vlo),
      faceUVtoXYZ(`${c}.f`, uhi, vlo),
      faceUVtoXYZ(`${c}.f`, uhi, vhi),
      faceUVtoXYZ(`${c}.f`, ulo, vhi),
    ]);
    const ring = [...vs, vs[0] as string].map((v) => `[${lngOf(v)}, ${latOf(v)}]`).join(', ');
    return when(`${c} IS NOT NULL`, `json_object('type', 'Polygon', 'coordinates', to_json([[${ring}]]))`);
  });

/**
 * S2CellId::GetAllNeighbors at the cell's own level (edge and vertex neighbors), duplicates removed. Coordinates
 * beyond the face are wrapped onto the adjacent face through (x,y,z) as S2's FromFaceIJWrap does. (Kusto lists
 * the same cells in another order, which it does not document.)
 */
const s2cellNeighbors: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const c = s2Decode(p, p.input(tokenText(arg(args, 0, ctx))));
    const [size, i, j] = p.lets([
      `1::BIGINT << (30 - ${c}.level)`,
      `${c}.i << (30 - ${c}.level)`,
      `${c}.j << (30 - ${c}.level)`,
    ]) as [string, string, string];
    const m = MAX_SIZE;
    const cands = [
      `{'i': ${i} - ${size}, 'j': ${j} - ${size}, 'same': ${j} - ${size} >= 0 AND ${i} - ${size} >= 0}`,
      `{'i': ${i} + ${size}, 'j': ${j} - ${size}, 'same': ${j} - ${size} >= 0 AND ${i} + ${size} < ${m}}`,
      `{'i': ${i}, 'j': ${j} - ${size}, 'same': ${j} - ${size} >= 0}`,
      `{'i': ${i}, 'j': ${j} + ${size}, 'same': ${j} + ${size} < ${m}}`,
      `{'i': ${i} - ${size}, 'j': ${j}, 'same': ${i} - ${size} >= 0}`,
      `{'i': ${i} + ${size}, 'j': ${j}, 'same': ${i} + ${size} < ${m}}`,
      `{'i': ${i} - ${size}, 'j': ${j} + ${size}, 'same': ${j} + ${size} < ${m} AND ${i} - ${size} >= 0}`,
      `{'i': ${i} + ${size}, 'j': ${j} + ${size}, 'same': ${j} + ${size} < ${m} AND ${i} + ${size} < ${m}}`,
    ];
    const n = ids.next();
    const limit = '1.0000000000000002e0';
    const wrapUV = (x: string) =>
      `greatest(-${limit}, least(${limit}, (1.0e0 / ${m}) * CAST(greatest(-1, least(${m}, ${x})) * 2 + 1 - ${m} AS DOUBLE)))`;
    const neighbor = piped(ids, (q) => {
      const pt = q.let(faceUVtoXYZ(`${c}.f`, wrapUV(`${n}.i`), wrapUV(`${n}.j`)));
      const f2 = q.let(faceOf(pt));
      const uv = q.let(faceXYZtoUV(f2, pt));
      const same = encode(ids, `${c}.f`, `${n}.i`, `${n}.j`, `${c}.level`);
      const wrapped = encode(ids, f2, stToIJ(`0.5e0 * (${uv}.u + 1)`), stToIJ(`0.5e0 * (${uv}.v + 1)`), `${c}.level`);
      return `COALESCE(${lazy(`${n}.same`, same)}, ${lazy(`NOT ${n}.same`, wrapped)})`;
    });
    const l = p.let(`list_transform([${cands.join(', ')}], lambda ${n}: ${neighbor})`);
    return when(
      `${c} IS NOT NULL`,
      `to_json(list_transform(list_filter(${l}, lambda x, k: list_position(${l}, x) = k), lambda x: ${token('x')}))`,
    );
  });
};

export const GEO_S2_FUNCTIONS: Readonly<Record<string, Template>> = {
  geo_point_to_s2cell: pointToS2cell,
  geo_s2cell_to_central_point: s2cellToCentralPoint,
  geo_s2cell_to_polygon: s2cellToPolygon,
  geo_s2cell_neighbors: s2cellNeighbors,
};
