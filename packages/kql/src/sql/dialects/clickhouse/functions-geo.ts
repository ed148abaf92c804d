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

const R = '6371010.0';
const DEG = '0.017453292519943295';
const TO_DEG = '57.29577951308232';

/** Lambda-parameter names unique within one template call. */
class Ids {
  private n = 0;
  next(): string {
    this.n++;
    return `__g${this.n}`;
  }
}

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
  const ids = new Ids();
  return bind(ids, nums(args, 4, ctx), ([a, b, c, d]) => {
    const [lng1, lat1, lng2, lat2] = [a, b, c, d] as [string, string, string, string];
    return `if(${validLngLat(lng1, lat1)} AND ${validLngLat(lng2, lat2)}, ${haversine(lng1, lat1, lng2, lat2)} * ${R}, NULL)`;
  });
};

const azimuth: Template = (args, ctx) => {
  const ids = new Ids();
  return bind(ids, nums(args, 4, ctx), (v) => {
    const [lng1, lat1, lng2, lat2] = v as [string, string, string, string];
    return bind(ids, [xyz(lng1, lat1), xyz(lng2, lat2), bearing(lng1, lat1, lng2, lat2)], ([v1, v2, b]) => {
      return `if(${validLngLat(lng1, lat1)} AND ${validLngLat(lng2, lat2)} AND NOT ${degenerate(v1 as string, v2 as string)}, ${positive(b as string)}, NULL)`;
    });
  });
};

/** `geo_angle(p1, p2, p3)`: the clockwise angle at p2 from the line to p1 to the line to p3. */
const geoAngle: Template = (args, ctx) => {
  const ids = new Ids();
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
  const ids = new Ids();
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
  const ids = new Ids();
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
  const ids = new Ids();
  return bind(ids, [text(arg(args, 0, ctx))], ([g]) =>
    geohashBox(ids, g as string, (b) => pointJson(`(${b}.1 + ${b}.2) / 2`, `(${b}.3 + ${b}.4) / 2`)),
  );
};

const geohashToPolygon: Template = (args, ctx) => {
  const ids = new Ids();
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
  const ids = new Ids();
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
  const ids = new Ids();
  const res = args[2] ? int(args[2]) : 'toInt64(6)';
  return bind(ids, [num(args[0] as SqlArg), num(args[1] as SqlArg), res], ([lng, lat, r]) => {
    const ok = `ifNull(${validLngLat(lng as string, lat as string)} AND ${r} BETWEEN 0 AND 15, false)`;
    return `if(${ok}, h3ToString(geoToH3(if(${ok}, assumeNotNull(${lat}), 0), if(${ok}, assumeNotNull(${lng}), 0), toUInt8(if(${ok}, assumeNotNull(${r}), 0)))), '')`;
  });
};

const h3Level: Template = (args, ctx) =>
  withCell(args, ctx, new Ids(), (c, h) => `if(${c} = 0, NULL, toInt32(h3GetResolution(${h})))`);

const h3CentralPoint: Template = (args, ctx) => {
  const ids = new Ids();
  return withCell(args, ctx, ids, (c, h) =>
    bind(
      ids,
      [`h3ToGeo(${h})`],
      ([g]) => `if(${c} = 0, NULL, ${pointJson(`tupleElement(${g}, 2)`, `tupleElement(${g}, 1)`)})`,
    ),
  );
};

const h3Polygon: Template = (args, ctx) => {
  const ids = new Ids();
  return withCell(args, ctx, ids, (c, h) => {
    const q = ids.next();
    const ring = `arrayMap(${q} -> (${q}.2, ${q}.1), h3ToGeoBoundary(${h}))`;
    return bind(ids, [ring], ([r]) => `if(${c} = 0, NULL, ${polygonJson(`arrayPushBack(${r}, ${r}[1])`, ids)})`);
  });
};

const h3Parent: Template = (args, ctx) => {
  const ids = new Ids();
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
  const ids = new Ids();
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
  const ids = new Ids();
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
  const ids = new Ids();
  return withCell(args, ctx, ids, (c, h) => {
    const q = ids.next();
    const disk = `arrayFilter(${q} -> ${q} != ${h}, h3kRing(${h}, toUInt16(1)))`;
    return `if(${c} = 0, NULL, ${jsonStrings(`arrayMap(${q} -> h3ToString(${q}), ${disk})`, ids)})`;
  });
};

export const GEO_FUNCTIONS: Readonly<Record<string, Template>> = {
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
};
