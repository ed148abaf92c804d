/**
 * KQL geo functions in ClickHouse. Kusto measures on S2's sphere (radius 6,371,010 m) and uses Uber's H3 and the
 * geohash grid; ClickHouse links the same H3 library (cells, centers, boundaries, parents, children and disks are
 * H3's own), encodes geohashes natively only up to 12 characters, and has no S2. So: H3 calls ClickHouse's h3*
 * functions; points, geohash and S2 are computed here with the same steps as the DuckDB templates
 * (`../duckdb/functions-geo-*.ts`); shapes (lines, polygons, WKT) are not ported yet and are refused with KQL0901.
 * Invalid input gives null (string results: ''), as Kusto documents for every geo function.
 */
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import { arg, dynamicToNumber } from './base.js';
import { DEG, GEO_SHAPE_FUNCTIONS, Ids, R, TO_DEG } from './functions-geo-shapes.js';

/** Binds values once and uses them by name (a one-element multi-array arrayMap: ClickHouse has no scalar let). */
function bind(ids: Ids, values: readonly string[], body: (names: string[]) => string): string {
  const names = values.map(() => ids.next());
  return `arrayElement(arrayMap((${names.join(', ')}) -> ${body(names)}, ${values.map((v) => `[${v}]`).join(', ')}), 1)`;
}

function num(a: SqlArg): string {
  switch (a.type) {
    case 'real':
      return a.sql;
    case 'int':
    case 'long':
    case 'decimal':
      return `toFloat64(${a.sql})`;
    case 'dynamic':
      return dynamicToNumber(a.sql);
    default:
      return 'CAST(NULL AS Nullable(Float64))';
  }
}

function int(a: SqlArg): string {
  switch (a.type) {
    case 'int':
    case 'long':
      return `toInt64(${a.sql})`;
    case 'real':
    case 'decimal':
      return `toInt64OrNull(toString(trunc(${a.sql})))`;
    case 'dynamic':
      return `toInt64OrNull(toString(trunc(${dynamicToNumber(a.sql)})))`;
    default:
      return 'CAST(NULL AS Nullable(Int64))';
  }
}

function text(a: SqlArg): string {
  return a.type === 'string' ? a.sql : "''";
}

function validLngLat(lng: string, lat: string): string {
  return `(${lng} BETWEEN -180 AND 180 AND ${lat} BETWEEN -90 AND 90)`;
}

/** A JSON number (ClickHouse prints the shortest text that reads back the same double). */
const jnum = (x: string) => `toString(${x})`;
const pointJson = (lng: string, lat: string) =>
  `concat('{"type":"Point","coordinates":[', ${jnum(lng)}, ',', ${jnum(lat)}, ']}')`;
/** A GeoJSON polygon from an array of (lng, lat) tuples (closed by the caller). */
const polygonJson = (ring: string, ids: Ids) => {
  const q = ids.next();
  return `concat('{"type":"Polygon","coordinates":[[', arrayStringConcat(arrayMap(${q} -> concat('[', ${jnum(`${q}.1`)}, ',', ${jnum(`${q}.2`)}, ']'), ${ring}), ','), ']]}')`;
};
const jsonStrings = (arr: string, ids: Ids) => {
  const q = ids.next();
  return `concat('[', arrayStringConcat(arrayMap(${q} -> concat('"', ${q}, '"'), ${arr}), ','), ']')`;
};

/** Haversine central angle (radians), as S2 computes the distance between two points. */
function haversine(lng1: string, lat1: string, lng2: string, lat2: string): string {
  const dlat = `sin(0.5 * ((${lat2}) * ${DEG} - (${lat1}) * ${DEG}))`;
  const dlng = `sin(0.5 * ((${lng2}) * ${DEG} - (${lng1}) * ${DEG}))`;
  return `(2 * asin(sqrt(least(1.0, ${dlat} * ${dlat} + ${dlng} * ${dlng} * cos((${lat1}) * ${DEG}) * cos((${lat2}) * ${DEG})))))`;
}

/** Initial bearing from point 1 to point 2, clockwise from north, in [-π, π]. */
function bearing(lng1: string, lat1: string, lng2: string, lat2: string): string {
  const p1 = `((${lat1}) * ${DEG})`;
  const p2 = `((${lat2}) * ${DEG})`;
  const dl = `(((${lng2}) - (${lng1})) * ${DEG})`;
  return `atan2(sin(${dl}) * cos(${p2}), cos(${p1}) * sin(${p2}) - sin(${p1}) * cos(${p2}) * cos(${dl}))`;
}

/** The unit vector of a point as a (x, y, z) tuple. */
function xyz(lng: string, lat: string): string {
  const t = `((${lng}) * ${DEG})`;
  const f = `((${lat}) * ${DEG})`;
  return `tuple(cos(${t}) * cos(${f}), sin(${t}) * cos(${f}), sin(${f}))`;
}

/** Two points are equal or antipodal (azimuth and angle are undefined then). */
function degenerate(a: string, c: string): string {
  return `(${a} = ${c} OR (${a}.1 = -${c}.1 AND ${a}.2 = -${c}.2 AND ${a}.3 = -${c}.3))`;
}

const positive = (x: string) => `if(${x} < 0, ${x} + 2 * pi(), ${x})`;

function nums(args: readonly SqlArg[], n: number, ctx: TemplateContext): string[] {
  arg(args, n - 1, ctx);
  return args.slice(0, n).map((a) => num(a));
}

const distance2Points: Template = (args, ctx) => {
  const spheroid = args[4];
  if (spheroid && !(spheroid.literal && spheroid.literal.value === false)) {
    return ctx.unsupported('geo_distance_2points with use_spheroid (the WGS-84 geodesic is not implemented)');
  }
  const ids = new Ids('__g');
  return bind(ids, nums(args, 4, ctx), ([a, b, c, d]) => {
    const [lng1, lat1, lng2, lat2] = [a, b, c, d] as [string, string, string, string];
    return `if(${validLngLat(lng1, lat1)} AND ${validLngLat(lng2, lat2)}, ${haversine(lng1, lat1, lng2, lat2)} * ${R}, NULL)`;
  });
};

const azimuth: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return bind(ids, nums(args, 4, ctx), (v) => {
    const [lng1, lat1, lng2, lat2] = v as [string, string, string, string];
    return bind(ids, [xyz(lng1, lat1), xyz(lng2, lat2), bearing(lng1, lat1, lng2, lat2)], ([v1, v2, b]) => {
      return `if(${validLngLat(lng1, lat1)} AND ${validLngLat(lng2, lat2)} AND NOT ${degenerate(v1 as string, v2 as string)}, ${positive(b as string)}, NULL)`;
    });
  });
};

/** `geo_angle(p1, p2, p3)`: the clockwise angle at p2 from the line to p1 to the line to p3. */
const geoAngle: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return bind(ids, nums(args, 6, ctx), (v) => {
    const [lng1, lat1, lng2, lat2, lng3, lat3] = v as [string, string, string, string, string, string];
    const parts = [
      xyz(lng1, lat1),
      xyz(lng2, lat2),
      xyz(lng3, lat3),
      `${bearing(lng2, lat2, lng3, lat3)} - ${bearing(lng2, lat2, lng1, lat1)}`,
    ];
    return bind(ids, parts, ([v1, v2, v3, d]) => {
      const ok = `${validLngLat(lng1, lat1)} AND ${validLngLat(lng2, lat2)} AND ${validLngLat(lng3, lat3)} AND NOT ${degenerate(v1 as string, v2 as string)} AND NOT ${degenerate(v2 as string, v3 as string)}`;
      return `if(${ok}, ${positive(d as string)}, NULL)`;
    });
  });
};

const pointInCircle: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return bind(ids, nums(args, 5, ctx), (v) => {
    const [lng, lat, clng, clat, r] = v as [string, string, string, string, string];
    return `if(${validLngLat(lng, lat)} AND ${validLngLat(clng, clat)} AND ${r} >= 0 AND isFinite(${r}), ${haversine(lng, lat, clng, clat)} * ${R} <= ${r}, NULL)`;
  });
};

// ───────────────────────────── geohash ─────────────────────────────

const GEOHASH_ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';

/**
 * Encodes a point by bisection (longitude first; a value on a midpoint goes to the upper half), 5 bits a
 * character; the midpoints are exact binary fractions, so the comparisons are exact (ClickHouse's geohashEncode
 * stops at 12 characters; Kusto allows 18).
 */
function geohashEncode(ids: Ids, lng: string, lat: string, precision: string): string {
  const [a, i] = [ids.next(), ids.next()];
  const isX = `${i} % 2 = 0`;
  const mid = `if(${isX}, (${a}.1 + ${a}.2) / 2, (${a}.3 + ${a}.4) / 2)`;
  const step = bind(ids, [mid], ([m]) => {
    const bit = `if(${isX}, ${lng} >= ${m}, ${lat} >= ${m})`;
    return bind(ids, [bit], ([b]) => {
      const ch = `toUInt8(${a}.5 * 2 + ${b})`;
      return `tuple(if(${isX} AND ${b}, ${m}, ${a}.1), if(${isX} AND NOT ${b}, ${m}, ${a}.2), if(NOT ${isX} AND ${b}, ${m}, ${a}.3), if(NOT ${isX} AND NOT ${b}, ${m}, ${a}.4), if(${i} % 5 = 4, toUInt8(0), ${ch}), if(${i} % 5 = 4, concat(${a}.6, substring('${GEOHASH_ALPHABET}', ${ch} + 1, 1)), ${a}.6))`;
    });
  });
  return `arrayFold((${a}, ${i}) -> ${step}, range(toUInt64(5 * ${precision})), tuple(-180.0, 180.0, -90.0, 90.0, toUInt8(0), '')).6`;
}

const pointToGeohash: Template = (args, ctx) => {
  arg(args, 1, ctx);
  const ids = new Ids('__g');
  const pr = args[2] ? int(args[2]) : 'toInt64(5)';
  return bind(ids, [num(args[0] as SqlArg), num(args[1] as SqlArg), pr], ([lng, lat, p]) => {
    const ok = `ifNull(${validLngLat(lng as string, lat as string)} AND ${p} BETWEEN 1 AND 18, false)`;
    return `if(${ok}, ${geohashEncode(ids, `assumeNotNull(${lng})`, `assumeNotNull(${lat})`, `if(${ok}, assumeNotNull(${p}), 0)`)}, '')`;
  });
};

/**
 * The box of a geohash as (lo_x, hi_x, lo_y, hi_y), NULL unless the text is 1-18 characters of the alphabet:
 * the even bits are the longitude's cell number, the odd ones the latitude's (exact binary fractions).
 */
function geohashBox(ids: Ids, g: string, body: (box: string) => string): string {
  const ok = `match(${g}, '^[0-9b-hjkmnp-z]{1,18}$')`;
  const [a, i] = [ids.next(), ids.next()];
  const digit = `toUInt64(position('${GEOHASH_ALPHABET}', substring(${g}, intDiv(${i}, 5) + 1, 1)) - 1)`;
  const bit = `bitAnd(bitShiftRight(${digit}, 4 - ${i} % 5), 1)`;
  const fold = `arrayFold((${a}, ${i}) -> if(${i} % 2 = 0, tuple(toUInt64(${a}.1 * 2 + ${bit}), ${a}.2), tuple(${a}.1, toUInt64(${a}.2 * 2 + ${bit}))), range(toUInt64(if(${ok}, 5 * length(${g}), 0))), tuple(toUInt64(0), toUInt64(0)))`;
  return bind(ids, [fold, `if(${ok}, 5 * length(${g}), 0)`], ([n, bits]) => {
    const wx = `(360.0 / pow(2, intDiv(${bits} + 1, 2)))`;
    const wy = `(180.0 / pow(2, intDiv(${bits}, 2)))`;
    const box = `tuple(-180.0 + ${n}.1 * ${wx}, -180.0 + (${n}.1 + 1) * ${wx}, -90.0 + ${n}.2 * ${wy}, -90.0 + (${n}.2 + 1) * ${wy})`;
    return bind(ids, [box], ([b]) => `if(${ok}, ${body(b as string)}, NULL)`);
  });
}

const geohashToCentralPoint: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return bind(ids, [text(arg(args, 0, ctx))], ([g]) =>
    geohashBox(ids, g as string, (b) => pointJson(`(${b}.1 + ${b}.2) / 2`, `(${b}.3 + ${b}.4) / 2`)),
  );
};

const geohashToPolygon: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return bind(ids, [text(arg(args, 0, ctx))], ([g]) =>
    geohashBox(ids, g as string, (b) =>
      polygonJson(`[(${b}.1, ${b}.3), (${b}.2, ${b}.3), (${b}.2, ${b}.4), (${b}.1, ${b}.4), (${b}.1, ${b}.3)]`, ids),
    ),
  );
};

/**
 * `geo_geohash_neighbors`: the eight cells around a geohash at the same precision; longitude wraps, nothing
 * beyond a pole. The order is the one Kusto's documentation shows (SW, NW, SE, N, W, NE, E, S).
 */
const geohashNeighbors: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return bind(ids, [text(arg(args, 0, ctx))], ([g]) =>
    geohashBox(ids, g as string, (b) => {
      const o = ids.next();
      const cx = `(${b}.1 + ${b}.2) / 2 + ${o}.1 * (${b}.2 - ${b}.1)`;
      const cy = `(${b}.3 + ${b}.4) / 2 + ${o}.2 * (${b}.4 - ${b}.3)`;
      const cell = bind(ids, [cx, cy], ([x, y]) => {
        const wx = `multiIf(${x} > 180, ${x} - 360, ${x} < -180, ${x} + 360, ${x})`;
        return `if(${y} BETWEEN -90 AND 90, ${geohashEncode(ids, wx, y as string, `length(${g})`)}, '')`;
      });
      const offsets = '[(-1, -1), (-1, 1), (1, -1), (0, 1), (-1, 0), (1, 1), (1, 0), (0, -1)]';
      const q = ids.next();
      return jsonStrings(`arrayFilter(${q} -> ${q} != '', arrayMap(${o} -> ${cell}, ${offsets}))`, ids);
    }),
  );
};

// ───────────────────────────── H3 (ClickHouse's own H3 library) ─────────────────────────────

/** A token → H3 index (0 unless a valid cell): parsed as hex here, since stringToH3 throws on bad text. */
function h3Of(t: string): string {
  const id = `if(match(${t}, '^[0-9a-fA-F]{1,16}$'), reinterpretAsUInt64(reverse(unhex(leftPad(${t}, 16, '0')))), toUInt64(0))`;
  return `arrayElement(arrayMap(__h -> if(h3IsValid(__h), __h, toUInt64(0)), [${id}]), 1)`;
}

/** H3's first resolution-0 cell: what the h3* calls see in place of an invalid cell (they throw on those). */
const SAFE_CELL = 'toUInt64(576495936675512319)';

/** Binds the cell (0 when invalid) and the same cell made safe to pass to h3* functions. */
function withCell(
  args: readonly SqlArg[],
  ctx: TemplateContext,
  ids: Ids,
  body: (c: string, safe: string) => string,
): string {
  return bind(ids, [h3Of(text(arg(args, 0, ctx)))], ([c]) =>
    bind(ids, [`if(${c} = 0, ${SAFE_CELL}, ${c})`], ([safe]) => body(c as string, safe as string)),
  );
}

/** ClickHouse's geoToH3 reads (lat, lng) under the engine's `geotoh3_argument_order = 'lat_lon'`. */
const pointToH3cell: Template = (args, ctx) => {
  arg(args, 1, ctx);
  const ids = new Ids('__g');
  const res = args[2] ? int(args[2]) : 'toInt64(6)';
  return bind(ids, [num(args[0] as SqlArg), num(args[1] as SqlArg), res], ([lng, lat, r]) => {
    const ok = `ifNull(${validLngLat(lng as string, lat as string)} AND ${r} BETWEEN 0 AND 15, false)`;
    return `if(${ok}, h3ToString(geoToH3(if(${ok}, assumeNotNull(${lat}), 0), if(${ok}, assumeNotNull(${lng}), 0), toUInt8(if(${ok}, assumeNotNull(${r}), 0)))), '')`;
  });
};

const h3Level: Template = (args, ctx) =>
  withCell(args, ctx, new Ids('__g'), (c, h) => `if(${c} = 0, NULL, toInt32(h3GetResolution(${h})))`);

const h3CentralPoint: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return withCell(args, ctx, ids, (c, h) =>
    bind(
      ids,
      [`h3ToGeo(${h})`],
      ([g]) => `if(${c} = 0, NULL, ${pointJson(`tupleElement(${g}, 2)`, `tupleElement(${g}, 1)`)})`,
    ),
  );
};

const h3Polygon: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return withCell(args, ctx, ids, (c, h) => {
    const q = ids.next();
    const ring = `arrayMap(${q} -> (${q}.2, ${q}.1), h3ToGeoBoundary(${h}))`;
    return bind(ids, [ring], ([r]) => `if(${c} = 0, NULL, ${polygonJson(`arrayPushBack(${r}, ${r}[1])`, ids)})`);
  });
};

const h3Parent: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return withCell(args, ctx, ids, (c, h) => {
    const res = args[1] ? int(args[1]) : `toInt64(h3GetResolution(${h})) - 1`;
    return bind(ids, [res], ([r]) => {
      const ok = `ifNull(${c} != 0 AND ${r} BETWEEN 0 AND 14 AND ${r} <= h3GetResolution(${h}), false)`;
      return `if(${ok}, h3ToString(h3ToParent(${h}, toUInt8(if(${ok}, assumeNotNull(${r}), 0)))), '')`;
    });
  });
};

/** Children at most 5 levels down (Kusto's limit), in H3's order. */
const h3Children: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return withCell(args, ctx, ids, (c, h) => {
    const res = args[1] ? int(args[1]) : `toInt64(h3GetResolution(${h})) + 1`;
    return bind(ids, [res], ([r]) => {
      const ok = `ifNull(${c} != 0 AND ${r} BETWEEN 1 AND 15 AND ${r} >= h3GetResolution(${h}) AND ${r} - h3GetResolution(${h}) <= 5, false)`;
      const q = ids.next();
      const children = `h3ToChildren(${h}, toUInt8(if(${ok}, assumeNotNull(${r}), h3GetResolution(${h}))))`;
      return `if(${ok}, ${jsonStrings(`arrayMap(${q} -> h3ToString(${q}), ${children})`, ids)}, NULL)`;
    });
  });
};

/** The grid disk of radius k grouped by distance (h3kRing's order within each ring). */
function rings(ids: Ids, c: string, k: string): string {
  const [d, q] = [ids.next(), ids.next()];
  return bind(ids, [`h3kRing(${c}, toUInt16(${k}))`], ([disk]) => {
    const ring = `arrayMap(${q} -> h3ToString(${q}), arrayFilter(${q} -> h3Distance(${c}, ${q}) = ${d}, ${disk}))`;
    return `arrayMap(${d} -> ${ring}, range(toUInt64(${k}) + 1))`;
  });
}

const h3Rings: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return withCell(args, ctx, ids, (c, h) =>
    bind(ids, [int(arg(args, 1, ctx))], ([k]) => {
      const ok = `ifNull(${c} != 0 AND ${k} BETWEEN 0 AND 142, false)`;
      const r = ids.next();
      const list = `arrayMap(${r} -> ${jsonStrings(r, ids)}, ${rings(ids, h, `if(${ok}, assumeNotNull(${k}), 0)`)})`;
      return `if(${ok}, concat('[', arrayStringConcat(${list}, ','), ']'), NULL)`;
    }),
  );
};

const h3Neighbors: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return withCell(args, ctx, ids, (c, h) => {
    const q = ids.next();
    const disk = `arrayFilter(${q} -> ${q} != ${h}, h3kRing(${h}, toUInt16(1)))`;
    return `if(${c} = 0, NULL, ${jsonStrings(`arrayMap(${q} -> h3ToString(${q}), ${disk})`, ids)})`;
  });
};

// ───────────────────────────── S2 cells (no S2 in ClickHouse: S2's steps, as the DuckDB templates) ─────────────

const MAX_SIZE = 1073741824; // 2^30 leaf cells per face side
/** S2's ijToPos / posToIJ [orientation][x] flattened (index orientation * 4 + x + 1) and posToOrientation. */
const IJ_TO_POS = '[0, 1, 3, 2, 0, 3, 1, 2, 2, 3, 1, 0, 2, 1, 3, 0]';
const POS_TO_IJ = '[0, 1, 3, 2, 0, 2, 3, 1, 3, 2, 0, 1, 3, 1, 0, 2]';
const POS_TO_ORIENTATION = '[1, 0, 0, 3]';

const stToUV = (x: string) =>
  `if(${x} >= 0.5, (1.0 / 3.0) * (4 * ${x} * ${x} - 1), (1.0 / 3.0) * (1 - 4 * (1 - ${x}) * (1 - ${x})))`;
const uvToST = (u: string) => `if(${u} >= 0, 0.5 * sqrt(1 + 3 * ${u}), 1 - 0.5 * sqrt(greatest(0.0, 1 - 3 * ${u})))`;
const stToIJ = (x: string) =>
  `greatest(toInt64(0), least(toInt64(${MAX_SIZE - 1}), toInt64(floor(${MAX_SIZE} * (${x})))))`;

/** The cube face of a vector: its largest absolute component (+3 when negative), ties as S2 breaks them. */
function faceOf(v: string): string {
  const [ax, ay, az] = [`abs(${v}.1)`, `abs(${v}.2)`, `abs(${v}.3)`];
  return `if(${ax} > ${ay}, if(${ax} > ${az}, if(${v}.1 < 0, 3, 0), if(${v}.3 < 0, 5, 2)), if(${ay} > ${az}, if(${v}.2 < 0, 4, 1), if(${v}.3 < 0, 5, 2)))`;
}

/** (u, v) of a vector on a face (S2's ValidFaceXYZtoUV). */
function faceXYZtoUV(f: string, v: string): string {
  const [x, y, z] = [`${v}.1`, `${v}.2`, `${v}.3`];
  return `multiIf(${f} = 0, (${y} / ${x}, ${z} / ${x}), ${f} = 1, (-${x} / ${y}, ${z} / ${y}), ${f} = 2, (-${x} / ${z}, -${y} / ${z}), ${f} = 3, (${z} / ${x}, ${y} / ${x}), ${f} = 4, (${z} / ${y}, -${x} / ${y}), (-${y} / ${z}, -${x} / ${z}))`;
}

/** The (unnormalized) vector of face coordinates (S2's FaceUVtoXYZ). */
function faceUVtoXYZ(f: string, u: string, v: string): string {
  return `multiIf(${f} = 0, (1.0, ${u}, ${v}), ${f} = 1, (-${u}, 1.0, ${v}), ${f} = 2, (-${u}, -${v}, 1.0), ${f} = 3, (-1.0, -${v}, -${u}), ${f} = 4, (${v}, -1.0, -${u}), (${v}, ${u}, -1.0))`;
}

const lngOf = (v: string) => `(atan2(${v}.2, ${v}.1) * ${TO_DEG})`;
const latOf = (v: string) => `(atan2(${v}.3, sqrt(${v}.1 * ${v}.1 + ${v}.2 * ${v}.2)) * ${TO_DEG})`;

/** The id of the level-`level` cell holding leaf (i, j) of face f: one Hilbert-curve step a level, top bits first. */
function s2Encode(ids: Ids, f: string, i: string, j: string, level: string): string {
  const [a, t] = [ids.next(), ids.next()];
  const k = `(29 - ${t})`;
  const pos = `${IJ_TO_POS}[${a}.1 * 4 + bitAnd(bitShiftRight(${i}, ${k}), 1) * 2 + bitAnd(bitShiftRight(${j}, ${k}), 1) + 1]`;
  const step = bind(
    ids,
    [pos],
    ([p]) =>
      `tuple(toUInt8(bitXor(${a}.1, ${POS_TO_ORIENTATION}[${p} + 1])), bitOr(bitShiftLeft(${a}.2, 2), toUInt64(${p})))`,
  );
  const walk = `arrayFold((${a}, ${t}) -> ${step}, range(toUInt64(${level})), tuple(toUInt8(bitAnd(${f}, 1)), toUInt64(0))).2`;
  return `bitOr(bitOr(bitShiftLeft(toUInt64(${f}), 61), bitShiftLeft(${walk}, 61 - 2 * (${level}))), bitShiftLeft(toUInt64(1), 60 - 2 * (${level})))`;
}

/** A cell token: 16 hex digits without the trailing zeros ('X' for the zero id). */
const s2Token = (id: string) => `if(${id} = 0, 'X', replaceRegexpOne(lower(hex(${id})), '0+$', ''))`;

/**
 * A token → (ok, face, i, j, level) with (i, j) the cell's coordinates at its own level; ok is false unless the
 * token is a valid cell (1-16 hex digits, face < 6, the level bit at an even position).
 */
function s2Decode(ids: Ids, t: string, body: (c: string) => string): string {
  const id = `if(match(${t}, '^[0-9a-fA-F]{1,16}$'), reinterpretAsUInt64(reverse(unhex(rightPad(${t}, 16, '0')))), toUInt64(0))`;
  return bind(ids, [id], ([idv]) => {
    const tz = `bitCount(bitAnd(${idv}, -${idv}) - 1)`;
    return bind(ids, [tz], ([z]) => {
      const ok = `(${idv} != 0 AND bitShiftRight(${idv}, 61) < 6 AND ${z} % 2 = 0 AND ${z} <= 60)`;
      const level = `toInt64(if(${ok}, intDiv(60 - ${z}, 2), 0))`;
      return bind(ids, [ok, level], ([okv, l]) => {
        const [a, t2] = [ids.next(), ids.next()];
        const pos = `toUInt8(bitAnd(bitShiftRight(${idv}, 61 - 2 * ${t2}), 3))`;
        const step = bind(ids, [pos], ([p]) =>
          bind(
            ids,
            [`${POS_TO_IJ}[${a}.1 * 4 + ${p} + 1]`],
            ([ij]) =>
              `tuple(toUInt8(bitXor(${a}.1, ${POS_TO_ORIENTATION}[${p} + 1])), toInt64(${a}.2 * 2 + bitShiftRight(${ij}, 1)), toInt64(${a}.3 * 2 + bitAnd(${ij}, 1)))`,
          ),
        );
        const walk = `arrayFold((${a}, ${t2}) -> ${step}, range(1, toUInt64(${l}) + 1), tuple(toUInt8(bitAnd(bitShiftRight(${idv}, 61), 1)), toInt64(0), toInt64(0)))`;
        return bind(ids, [walk], ([w]) =>
          body(`tuple(${okv}, toUInt8(bitShiftRight(${idv}, 61)), ${w}.2, ${w}.3, ${l})`),
        );
      });
    });
  });
}

const pointToS2cell: Template = (args, ctx) => {
  arg(args, 1, ctx);
  const ids = new Ids('__g');
  const level = args[2] ? int(args[2]) : 'toInt64(11)';
  return bind(ids, [num(args[0] as SqlArg), num(args[1] as SqlArg), level], ([lng, lat, l]) => {
    const ok = `ifNull(${validLngLat(lng as string, lat as string)} AND ${l} BETWEEN 0 AND 30, false)`;
    const v = xyz(`if(${ok}, assumeNotNull(${lng}), 0)`, `if(${ok}, assumeNotNull(${lat}), 0)`);
    return bind(ids, [v], ([vv]) =>
      bind(ids, [faceOf(vv as string)], ([f]) =>
        bind(ids, [faceXYZtoUV(f as string, vv as string)], ([uv]) =>
          bind(ids, [stToIJ(uvToST(`${uv}.1`)), stToIJ(uvToST(`${uv}.2`))], ([i, j]) => {
            const id = s2Encode(ids, f as string, i as string, j as string, `if(${ok}, assumeNotNull(${l}), 0)`);
            return `if(${ok}, ${s2Token(id)}, '')`;
          }),
        ),
      ),
    );
  });
};

const s2CentralPoint: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return s2Decode(ids, text(arg(args, 0, ctx)), (c) => {
    // The center in (s, t): (2i + 1) half-cells of the cell's level, over 2^31.
    const st = (x: string) => `toFloat64(bitShiftLeft(2 * ${x} + 1, 30 - ${c}.5)) / ${2 * MAX_SIZE}`;
    return bind(ids, [faceUVtoXYZ(`${c}.2`, stToUV(st(`${c}.3`)), stToUV(st(`${c}.4`)))], ([v]) =>
      bind(ids, [c], ([cc]) => `if(${cc}.1, ${pointJson(lngOf(v as string), latOf(v as string))}, NULL)`),
    );
  });
};

/** S2Cell vertices 0-3 (counterclockwise from (u_lo, v_lo)), closed by repeating the first. */
const s2Polygon: Template = (args, ctx) => {
  const ids = new Ids('__g');
  return s2Decode(ids, text(arg(args, 0, ctx)), (c) => {
    const edge = (x: string, plus: string) => stToUV(`toFloat64(bitShiftLeft(${x}${plus}, 30 - ${c}.5)) / ${MAX_SIZE}`);
    return bind(ids, [edge(`${c}.3`, ''), edge(`${c}.3`, ' + 1'), edge(`${c}.4`, ''), edge(`${c}.4`, ' + 1')], (e) => {
      const [ulo, uhi, vlo, vhi] = e as [string, string, string, string];
      const f = `${c}.2`;
      const vs = [
        faceUVtoXYZ(f, ulo, vlo),
        faceUVtoXYZ(f, uhi, vlo),
        faceUVtoXYZ(f, uhi, vhi),
        faceUVtoXYZ(f, ulo, vhi),
      ];
      return bind(ids, vs, (v) => {
        const ring = [...v, v[0] as string].map((x) => `(${lngOf(x)}, ${latOf(x)})`).join(', ');
        return `if(${c}.1, ${polygonJson(`[${ring}]`, ids)}, NULL)`;
      });
    });
  });
};

// ───────────────────────────── WKT ─────────────────────────────

const WKT_NUM = '-?[0-9]+(?:\\.[0-9]*)?(?:[eE][-+]?[0-9]+)?';

/** [WKT keyword, GeoJSON type, ClickHouse type of the coordinates]. */
const WKT_TYPES: readonly (readonly [string, string, number])[] = [
  ['POINT', 'Point', 1],
  ['LINESTRING', 'LineString', 2],
  ['POLYGON', 'Polygon', 3],
  ['MULTIPOINT', 'MultiPoint', 2],
  ['MULTILINESTRING', 'MultiLineString', 3],
  ['MULTIPOLYGON', 'MultiPolygon', 4],
];

/** Every position [lng, lat] in range and no empty list, at a nesting depth (1: a position). */
function wktValid(c: string, depth: number, ids: Ids): string {
  if (depth === 1) return `(length(${c}) = 2 AND ${c}[1] BETWEEN -180 AND 180 AND ${c}[2] BETWEEN -90 AND 90)`;
  const q = ids.next();
  return `(length(${c}) > 0 AND arrayAll(${q} -> ${wktValid(q, depth - 1, ids)}, ${c}))`;
}

/**
 * The GeoJSON of one (non-collection) WKT geometry (uppercase, trimmed), or NULL: coordinate pairs become
 * `[x,y]` and parentheses brackets (as on DuckDB), then the text is read at its type's nesting depth, which
 * rejects malformed nesting, Z/M coordinates and EMPTY.
 */
function wktGeometry(g: string, ids: Ids): string {
  const kw = `extract(${g}, '^([A-Z]+)\\\\s*\\\\(')`;
  const body = `trimBoth(substring(${g}, length(${kw}) + 1))`;
  const json = `replaceAll(replaceAll(replaceRegexpAll(replaceRegexpAll(${body}, '(${WKT_NUM.replace(/\\/g, '\\\\')})\\\\s+(${WKT_NUM.replace(/\\/g, '\\\\')})', '[\\\\1,\\\\2]'), '\\\\s+', ''), '(', '['), ')', ']')`;
  return bind(ids, [kw, json], ([k, j]) => {
    const cases = WKT_TYPES.map(([key, type, depth]) => {
      const text =
        key === 'POINT'
          ? `extract(${j}, '^\\\\[(\\\\[[^\\\\[\\\\]]*\\\\])\\\\]$')`
          : key === 'MULTIPOINT'
            ? `replaceRegexpAll(${j}, '\\\\[(\\\\[[^\\\\[\\\\]]*\\\\])\\\\]', '\\\\1')`
            : (j as string);
      const chType = `${'Array('.repeat(depth)}Float64${')'.repeat(depth)}`;
      const value = bind(ids, [text], ([t]) => {
        const c = `JSONExtract(${t}, '${chType}')`;
        return bind(ids, [c], ([cv]) => {
          const ok = `(isValidJSON(${t}) AND ${wktValid(cv as string, depth, ids)})`;
          return `if(${ok}, concat('{"type":"${type}","coordinates":', toJSONString(${cv}), '}'), NULL)`;
        });
      });
      return `${k} = '${key}', ${value}`;
    });
    return `multiIf(${cases.join(', ')}, NULL)`;
  });
}

const fromWkt: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  if (a.type !== 'string') return ctx.unsupported('geo_from_wkt of a non-string value');
  const ids = new Ids('__g');
  return bind(ids, [`upper(trimBoth(${a.sql}))`], ([t]) => {
    const isCollection = `match(${t}, '^GEOMETRYCOLLECTION\\\\s*\\\\(')`;
    // A collection's members start with a keyword: split before each one.
    const members = `arrayMap(__m -> trimBoth(__m), splitByChar('|', replaceRegexpAll(replaceRegexpOne(${t}, '^GEOMETRYCOLLECTION\\\\s*\\\\((.*)\\\\)$', '\\\\1'), ',\\\\s*([A-Z])', '|\\\\1')))`;
    const m = ids.next();
    const parts = `arrayMap(${m} -> ${wktGeometry(m, ids)}, if(${isCollection}, ${members}, []))`;
    const collection = bind(
      ids,
      [parts],
      ([p]) =>
        `if(length(${p}) > 0 AND arrayAll(__x -> __x IS NOT NULL, ${p}), concat('{"type":"GeometryCollection","geometries":[', arrayStringConcat(arrayMap(__x -> assumeNotNull(__x), ${p}), ','), ']}'), NULL)`,
    );
    return `if(${isCollection}, ${collection}, ${wktGeometry(t as string, ids)})`;
  });
};

export const GEO_FUNCTIONS: Readonly<Record<string, Template>> = {
  ...GEO_SHAPE_FUNCTIONS,
  geo_distance_2points: distance2Points,
  geo_azimuth: azimuth,
  geo_angle: geoAngle,
  geo_point_in_circle: pointInCircle,
  geo_point_to_geohash: pointToGeohash,
  geo_geohash_to_central_point: geohashToCentralPoint,
  geo_geohash_to_polygon: geohashToPolygon,
  geo_geohash_neighbors: geohashNeighbors,
  geo_point_to_h3cell: pointToH3cell,
  geo_h3cell_level: h3Level,
  geo_h3cell_to_central_point: h3CentralPoint,
  geo_h3cell_to_polygon: h3Polygon,
  geo_h3cell_parent: h3Parent,
  geo_h3cell_children: h3Children,
  geo_h3cell_rings: h3Rings,
  geo_h3cell_neighbors: h3Neighbors,
  geo_point_to_s2cell: pointToS2cell,
  geo_s2cell_to_central_point: s2CentralPoint,
  geo_s2cell_to_polygon: s2Polygon,
  geo_from_wkt: fromWkt,
};
