/**
 * `geo_from_wkt`: Well-known text → GeoJSON. Each geometry's body is turned into JSON text by regular
 * expressions (coordinate pairs become `[x,y]`, parentheses brackets), then cast to the list depth of its type,
 * which rejects malformed nesting. Only 2D coordinates in the valid longitude/latitude ranges are accepted;
 * `EMPTY` geometries, Z/M coordinates and nested collections give null (Kusto: "invalid or unsupported").
 */
import type { Template } from '../../dialect.js';
import { arg } from './base.js';
import { all, Ids, piped, when } from './functions-geo-sql.js';

const NUM = '-?[0-9]+(?:\\.[0-9]*)?(?:[eE][-+]?[0-9]+)?';

/** [WKT keyword, GeoJSON type, list type of the coordinates]. */
const TYPES: readonly (readonly [string, string, string])[] = [
  ['POINT', 'Point', 'DOUBLE[]'],
  ['LINESTRING', 'LineString', 'DOUBLE[][]'],
  ['POLYGON', 'Polygon', 'DOUBLE[][][]'],
  ['MULTIPOINT', 'MultiPoint', 'DOUBLE[][]'],
  ['MULTILINESTRING', 'MultiLineString', 'DOUBLE[][][]'],
  ['MULTIPOLYGON', 'MultiPolygon', 'DOUBLE[][][][]'],
];

/** The GeoJSON of one (non-collection) WKT geometry `g` (uppercase, trimmed), or NULL. */
function geometry(g: string): string {
  const kw = `regexp_extract(${g}, '^([A-Z]+)\\s*\\(', 1)`;
  const body = `trim(substr(${g}, length(${kw}) + 1))`;
  // Pairs first, then brackets; anything else left over (letters, a third coordinate) fails the cast.
  const json = `replace(replace(regexp_replace(regexp_replace(${body}, '(${NUM})\\s+(${NUM})', '[\\1,\\2]', 'g'), '\\s+', '', 'g'), '(', '['), ')', ']')`;
  const cases = TYPES.map(([k, type, sqlType]) => {
    // POINT (x y) has one bracket level more than its coordinates; MULTIPOINT may wrap each point: ((x y), ...).
    const text =
      k === 'POINT'
        ? `regexp_extract(${json}, '^\\[(\\[[^\\[\\]]*\\])\\]$', 1)`
        : k === 'MULTIPOINT'
          ? `regexp_replace(${json}, '\\[(\\[[^\\[\\]]*\\])\\]', '\\1', 'g')`
          : json;
    const coords = `TRY_CAST(NULLIF(${text}, '') AS ${sqlType})`;
    return `WHEN '${k}' THEN list_transform([${coords}], lambda c: CASE WHEN ${valid(k, 'c')} THEN json_object('type', '${type}', 'coordinates', to_json(c)) END)[1]`;
  });
  return `CASE ${kw} ${cases.join(' ')} END`;
}

/** Coordinates of a given kind: every position is [lng, lat] in range; lines and rings are not empty. */
function valid(kind: string, c: string): string {
  const pos = (p: string) => `len(${p}) = 2 AND ${p}[1] BETWEEN -180 AND 180 AND ${p}[2] BETWEEN -90 AND 90`;
  switch (kind) {
    case 'POINT':
      return pos(c);
    case 'LINESTRING':
    case 'MULTIPOINT':
      return `len(${c}) > 0 AND ${all(c, 'p', pos('p'))}`;
    case 'POLYGON':
    case 'MULTILINESTRING':
      return `len(${c}) > 0 AND ${all(c, 'l', `len(l) > 0 AND ${all('l', 'p', pos('p'))}`)}`;
    default:
      return `len(${c}) > 0 AND ${all(c, 'pg', `len(pg) > 0 AND ${all('pg', 'l', `len(l) > 0 AND ${all('l', 'p', pos('p'))}`)}`)}`;
  }
}

const fromWkt: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  if (a.type !== 'string') return ctx.unsupported('geo_from_wkt of a non-string value');
  return piped(new Ids(), (p) => {
    const t = p.let(`upper(trim(${p.input(a.sql)}))`);
    const isCollection = p.let(`regexp_matches(${t}, '^GEOMETRYCOLLECTION\\s*\\(')`);
    // A collection's members start with a keyword: split before each one.
    const members = p.let(
      `CASE WHEN ${isCollection} THEN list_transform(string_split(regexp_replace(regexp_replace(${t}, '^GEOMETRYCOLLECTION\\s*\\((.*)\\)$', '\\1'), ',\\s*([A-Z])', '|\\1', 'g'), '|'), lambda m: trim(m)) END`,
    );
    const parts = p.let(`list_transform(${members}, lambda m: ${geometry('m')})`);
    return `CASE WHEN ${isCollection} THEN ${when(`len(${parts}) > 0 AND list_bool_and(list_transform(${parts}, lambda x: x IS NOT NULL))`, `json_object('type', 'GeometryCollection', 'geometries', to_json(${parts}))`)} ELSE ${geometry(t)} END`;
  });
};

export const GEO_WKT_FUNCTIONS: Readonly<Record<string, Template>> = {
  geo_from_wkt: fromWkt,
};
