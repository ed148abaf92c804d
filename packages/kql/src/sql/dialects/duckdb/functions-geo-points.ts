/**
 * Geo functions on points: distances, azimuth and angle, circles, and the geohash grid.
 * All measures are on S2's sphere (radius 6,371,010 m), as Kusto documents them.
 */
import type { SqlArg, Template } from '../../dialect.js';
import { arg } from './base.js';
import {
  DEG_TO_RAD,
  EARTH_RADIUS_M,
  fold,
  haversine,
  Ids,
  int,
  num,
  PI,
  type Pipe,
  piped,
  pointJson,
  polygonJson,
  validLngLat,
  when,
  xyz,
} from './functions-geo-sql.js';

/** `geo_distance_2points`: haversine distance on the sphere; the spheroid variant is not reproduced. */
const distance2Points: Template = (args, ctx) => {
  const spheroid = args[4];
  if (spheroid && !(spheroid.literal && spheroid.literal.value === false)) {
    return ctx.unsupported('geo_distance_2points with use_spheroid (the WGS-84 geodesic is not implemented)');
  }
  return piped(new Ids(), (p) => {
    const [lng1, lat1, lng2, lat2] = args.slice(0, 4).map((a) => p.input(num(a))) as [string, string, string, string];
    return when(
      `${validLngLat(lng1, lat1)} AND ${validLngLat(lng2, lat2)}`,
      `(${haversine(p, lng1, lat1, lng2, lat2)} * ${EARTH_RADIUS_M})`,
    );
  });
};

/** Whether two unit vectors are equal or antipodal (azimuth and angle are undefined then). */
function degenerate(a: string, c: string): string {
  return `((${a}.x = ${c}.x AND ${a}.y = ${c}.y AND ${a}.z = ${c}.z) OR (${a}.x = -${c}.x AND ${a}.y = -${c}.y AND ${a}.z = -${c}.z))`;
}

/** Initial bearing from point 1 to point 2, clockwise from north, in [-π, π]. */
function bearing(p: Pipe, lng1: string, lat1: string, lng2: string, lat2: string): string {
  const [p1, p2, dl] = p.lets([
    `(${lat1}) * ${DEG_TO_RAD}`,
    `(${lat2}) * ${DEG_TO_RAD}`,
    `((${lng2}) - (${lng1})) * ${DEG_TO_RAD}`,
  ]) as [string, string, string];
  return p.let(`atan2(sin(${dl}) * cos(${p2}), cos(${p1}) * sin(${p2}) - sin(${p1}) * cos(${p2}) * cos(${dl}))`);
}

/** An angle brought into [0, 2π). */
function positive(p: Pipe, a: string): string {
  const v = p.let(a);
  return `CASE WHEN ${v} < 0 THEN ${v} + 2 * ${PI} ELSE ${v} END`;
}

const azimuth: Template = (args, ctx) => {
  arg(args, 3, ctx);
  return piped(new Ids(), (p) => {
    const [lng1, lat1, lng2, lat2] = args.slice(0, 4).map((a) => p.input(num(a))) as [string, string, string, string];
    const v1 = xyz(p, lng1, lat1);
    const v2 = xyz(p, lng2, lat2);
    return when(
      `${validLngLat(lng1, lat1)} AND ${validLngLat(lng2, lat2)} AND NOT ${degenerate(v1, v2)}`,
      positive(p, bearing(p, lng1, lat1, lng2, lat2)),
    );
  });
};

/** `geo_angle(p1, p2, p3)`: the clockwise angle at p2 from the line to p1 to the line to p3. */
const geoAngle: Template = (args, ctx) => {
  arg(args, 5, ctx);
  return piped(new Ids(), (p) => {
    const [lng1, lat1, lng2, lat2, lng3, lat3] = args.slice(0, 6).map((a) => p.input(num(a))) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const v1 = xyz(p, lng1, lat1);
    const v2 = xyz(p, lng2, lat2);
    const v3 = xyz(p, lng3, lat3);
    const a = bearing(p, lng2, lat2, lng3, lat3);
    const c = bearing(p, lng2, lat2, lng1, lat1);
    return when(
      `${validLngLat(lng1, lat1)} AND ${validLngLat(lng2, lat2)} AND ${validLngLat(lng3, lat3)} AND NOT ${degenerate(v1, v2)} AND NOT ${degenerate(v2, v3)}`,
      positive(p, `${a} - ${c}`),
    );
  });
};

/** `geo_point_in_circle`: the point lies in the spherical cap (radius measured along the surface). */
const pointInCircle: Template = (args, ctx) => {
  arg(args, 4, ctx);
  return piped(new Ids(), (p) => {
    const [lng, lat, clng, clat, r] = args.slice(0, 5).map((a) => p.input(num(a))) as [
      string,
      string,
      string,
      string,
      string,
    ];
    return when(
      `${validLngLat(lng, lat)} AND ${validLngLat(clng, clat)} AND ${r} >= 0 AND isfinite(${r})`,
      `(${haversine(p, lng, lat, clng, clat)} * ${EARTH_RADIUS_M} <= ${r})`,
    );
  });
};

// ───────────────────────────── geohash ─────────────────────────────

const GEOHASH_ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';
const BOX = { lo_x: '-180.0e0', hi_x: '180.0e0', lo_y: '-90.0e0', hi_y: '90.0e0' };

/**
 * Encodes a point by bisection (longitude first; a value on a midpoint goes to the upper half), `precision`
 * characters of 5 bits. The midpoints are exact binary fractions, so the comparisons are exact.
 */
function geohashEncode(ids: Ids, lng: string, lat: string, precision: string): string {
  const out = fold(ids, `range(5 * ${precision})`, { ...BOX, ch: '0', s: "''" }, (p, a, i) => {
    const [isX] = p.lets([`${i} % 2 = 0`]) as [string];
    const mid = p.let(`CASE WHEN ${isX} THEN (${a}.lo_x + ${a}.hi_x) / 2 ELSE (${a}.lo_y + ${a}.hi_y) / 2 END`);
    const bit = p.let(`CASE WHEN ${isX} THEN ${lng} >= ${mid} ELSE ${lat} >= ${mid} END`);
    const ch = p.let(`${a}.ch * 2 + CASE WHEN ${bit} THEN 1 ELSE 0 END`);
    return {
      lo_x: `CASE WHEN ${isX} AND ${bit} THEN ${mid} ELSE ${a}.lo_x END`,
      hi_x: `CASE WHEN ${isX} AND NOT ${bit} THEN ${mid} ELSE ${a}.hi_x END`,
      lo_y: `CASE WHEN NOT ${isX} AND ${bit} THEN ${mid} ELSE ${a}.lo_y END`,
      hi_y: `CASE WHEN NOT ${isX} AND NOT ${bit} THEN ${mid} ELSE ${a}.hi_y END`,
      ch: `CASE WHEN ${i} % 5 = 4 THEN 0 ELSE ${ch} END`,
      s: `CASE WHEN ${i} % 5 = 4 THEN ${a}.s || substr('${GEOHASH_ALPHABET}', ${ch} + 1, 1) ELSE ${a}.s END`,
    };
  });
  return `${out}.s`;
}

const pointToGeohash: Template = (args, ctx) => {
  arg(args, 1, ctx);
  const ids = new Ids();
  return piped(ids, (p) => {
    const [lng, lat, pr] = [num(args[0] as SqlArg), num(args[1] as SqlArg), args[2] ? int(args[2]) : '5'].map((x) =>
      p.input(x),
    ) as [string, string, string];
    const ok = p.let(`${validLngLat(lng, lat)} AND ${pr} BETWEEN 1 AND 18`);
    return `CASE WHEN ${ok} THEN ${geohashEncode(ids, lng, lat, pr)} ELSE '' END`;
  });
};

/**
 * The box of a geohash as STRUCT(lo_x, hi_x, lo_y, hi_y), NULL when the text is not 1-18 characters of the
 * geohash alphabet.
 */
function geohashBox(p: Pipe, text: string): string {
  const g = p.let(text);
  const digits = p.let(`list_transform(string_split(${g}, ''), lambda c: strpos('${GEOHASH_ALPHABET}', c) - 1)`);
  const ok = p.let(
    `length(${g}) BETWEEN 1 AND 18 AND COALESCE(list_bool_and(list_transform(${digits}, lambda d: d >= 0)), false)`,
  );
  const box = fold(p.ids, `range(CASE WHEN ${ok} THEN 5 * length(${g}) ELSE 0 END)`, BOX, (q, a, i) => {
    const isX = q.let(`${i} % 2 = 0`);
    const bit = q.let(`(${digits}[${i} // 5 + 1] >> CAST(4 - ${i} % 5 AS INTEGER)) & 1 = 1`);
    const mid = q.let(`CASE WHEN ${isX} THEN (${a}.lo_x + ${a}.hi_x) / 2 ELSE (${a}.lo_y + ${a}.hi_y) / 2 END`);
    return {
      lo_x: `CASE WHEN ${isX} AND ${bit} THEN ${mid} ELSE ${a}.lo_x END`,
      hi_x: `CASE WHEN ${isX} AND NOT ${bit} THEN ${mid} ELSE ${a}.hi_x END`,
      lo_y: `CASE WHEN NOT ${isX} AND ${bit} THEN ${mid} ELSE ${a}.lo_y END`,
      hi_y: `CASE WHEN NOT ${isX} AND NOT ${bit} THEN ${mid} ELSE ${a}.hi_y END`,
    };
  });
  return p.let(when(ok, box));
}

function geohashText(a: SqlArg): string {
  return a.type === 'string' ? a.sql : `CAST(NULL AS VARCHAR)`;
}

const geohashToCentralPoint: Template = (args, ctx) =>
  piped(new Ids(), (p) => {
    const box = geohashBox(p, p.input(geohashText(arg(args, 0, ctx))));
    return when(`${box} IS NOT NULL`, pointJson(`(${box}.lo_x + ${box}.hi_x) / 2`, `(${box}.lo_y + ${box}.hi_y) / 2`));
  });

const geohashToPolygon: Template = (args, ctx) =>
  piped(new Ids(), (p) => {
    const box = geohashBox(p, p.input(geohashText(arg(args, 0, ctx))));
    return when(
      `${box} IS NOT NULL`,
      polygonJson(
        `[[${box}.lo_x, ${box}.lo_y], [${box}.hi_x, ${box}.lo_y], [${box}.hi_x, ${box}.hi_y], [${box}.lo_x, ${box}.hi_y], [${box}.lo_x, ${box}.lo_y]]`,
      ),
    );
  });

/**
 * `geo_geohash_neighbors`: the eight cells around a geohash, at the same precision. Longitude wraps around the
 * antimeridian; there is no neighbor beyond a pole. The order is the one Kusto's documentation shows (SW, NW,
 * SE, N, W, NE, E, S); Kusto does not document it otherwise.
 */
const geohashNeighbors: Template = (args, ctx) => {
  const ids = new Ids();
  return piped(ids, (p) => {
    const g = p.input(geohashText(arg(args, 0, ctx)));
    const box = geohashBox(p, g);
    const offsets = '[[-1, -1], [-1, 1], [1, -1], [0, 1], [-1, 0], [1, 1], [1, 0], [0, -1]]';
    const o = ids.next();
    const cells = `list_filter(list_transform(${offsets}, lambda ${o}: ${piped(ids, (q) => {
      const cx = q.let(`(${box}.lo_x + ${box}.hi_x) / 2 + ${o}[1] * (${box}.hi_x - ${box}.lo_x)`);
      const cy = q.let(`(${box}.lo_y + ${box}.hi_y) / 2 + ${o}[2] * (${box}.hi_y - ${box}.lo_y)`);
      const wx = q.let(`CASE WHEN ${cx} > 180 THEN ${cx} - 360 WHEN ${cx} < -180 THEN ${cx} + 360 ELSE ${cx} END`);
      return `CASE WHEN ${cy} BETWEEN -90 AND 90 THEN ${geohashEncode(ids, wx, cy, `length(${g})`)} END`;
    })}), lambda c: c IS NOT NULL)`;
    return when(`${box} IS NOT NULL`, `to_json(${cells})`);
  });
};
export const GEO_POINT_FUNCTIONS: Readonly<Record<string, Template>> = {
  geo_distance_2points: distance2Points,
  geo_azimuth: azimuth,
  geo_angle: geoAngle,
  geo_point_in_circle: pointInCircle,
  geo_point_to_geohash: pointToGeohash,
  geo_geohash_to_central_point: geohashToCentralPoint,
  geo_geohash_to_polygon: geohashToPolygon,
  geo_geohash_neighbors: geohashNeighbors,
};
