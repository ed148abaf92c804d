/**
 * KQL geo functions in DuckDB (see functions.ts for the conventions: arguments arrive compiled with their KQL
 * types; string results are never null; failed conversions give null). The families live in functions-geo-*.ts;
 * the shared SQL building blocks (pipes, folds, sphere, GeoJSON parsing) in functions-geo-sql.ts. See
 * CONTEXT-geo.md for what is reproduced exactly, what differs, and why the rest is refused.
 */
import type { Template } from '../../dialect.js';
import { GEO_H3_FUNCTIONS } from './functions-geo-h3.js';
import { GEO_POINT_FUNCTIONS } from './functions-geo-points.js';
import { GEO_S2_FUNCTIONS } from './functions-geo-s2.js';
import { GEO_SHAPE_FUNCTIONS } from './functions-geo-shapes.js';
import { GEO_WKT_FUNCTIONS } from './functions-geo-wkt.js';

/** A geo function refused at compile time, with the reason it cannot be reproduced exactly. */
function refuse(reason: string): Template {
  return (_args, ctx) => ctx.unsupported(reason);
}

const BOOLEAN_OPERATION =
  'it builds the shape of an S2 boolean operation, whose output assembly and snapping Vigil does not reproduce';
const BUFFER = 'it builds an S2BufferOperation polygon, which Vigil does not reproduce';
const SIMPLIFY =
  "it simplifies with S2Builder's snapping and edge-chain simplification, which Vigil does not reproduce";
const DENSIFY = "it tessellates planar edges with S2EdgeTessellator's error estimates, which Vigil does not reproduce";
const COVERING = 'it computes an S2RegionCoverer or H3 polyfill covering, which Vigil does not reproduce';

const GEO_REFUSED: Readonly<Record<string, Template>> = {
  geo_intersection_2lines: refuse(`geo_intersection_2lines() (${BOOLEAN_OPERATION})`),
  geo_intersection_2polygons: refuse(`geo_intersection_2polygons() (${BOOLEAN_OPERATION})`),
  geo_intersection_line_with_polygon: refuse(`geo_intersection_line_with_polygon() (${BOOLEAN_OPERATION})`),
  geo_union_polygons_array: refuse(`geo_union_polygons_array() (${BOOLEAN_OPERATION})`),
  geo_union_lines_array: refuse(`geo_union_lines_array() (${BOOLEAN_OPERATION})`),
  geo_simplify_polygons_array: refuse(`geo_simplify_polygons_array() (${SIMPLIFY})`),
  geo_polygon_simplify: refuse(`geo_polygon_simplify() (${SIMPLIFY})`),
  geo_line_simplify: refuse(`geo_line_simplify() (${SIMPLIFY})`),
  geo_point_buffer: refuse(`geo_point_buffer() (${BUFFER})`),
  geo_line_buffer: refuse(`geo_line_buffer() (${BUFFER})`),
  geo_polygon_buffer: refuse(`geo_polygon_buffer() (${BUFFER})`),
  geo_polygon_densify: refuse(`geo_polygon_densify() (${DENSIFY})`),
  geo_line_densify: refuse(`geo_line_densify() (${DENSIFY})`),
  geo_polygon_to_s2cells: refuse(`geo_polygon_to_s2cells() (${COVERING})`),
  geo_line_to_s2cells: refuse(`geo_line_to_s2cells() (${COVERING})`),
  geo_polygon_to_h3cells: refuse(`geo_polygon_to_h3cells() (${COVERING})`),
  geo_info_from_ip_address: refuse(
    'geo_info_from_ip_address() (it needs an IP geolocation database, which Vigil does not ship)',
  ),
};

export const GEO_FUNCTIONS: Readonly<Record<string, Template>> = {
  ...GEO_REFUSED,
  ...GEO_POINT_FUNCTIONS,
  ...GEO_S2_FUNCTIONS,
  ...GEO_H3_FUNCTIONS,
  ...GEO_SHAPE_FUNCTIONS,
  ...GEO_WKT_FUNCTIONS,
};
