/**
 * KQL geo functions in DuckDB (see functions.ts for the conventions: arguments arrive compiled with their KQL
 * types; string results are never null; failed conversions give null). The families live in functions-geo-*.ts;
 * the shared SQL building blocks (sphere, vectors, GeoJSON parsing) in functions-geo-sql.ts. See CONTEXT-geo.md.
 */
import type { Template } from '../../dialect.js';
import { GEO_H3_FUNCTIONS } from './functions-geo-h3.js';
import { GEO_POINT_FUNCTIONS } from './functions-geo-points.js';
import { GEO_S2_FUNCTIONS } from './functions-geo-s2.js';
import { GEO_SHAPE_FUNCTIONS } from './functions-geo-shapes.js';

export const GEO_FUNCTIONS: Readonly<Record<string, Template>> = {
  ...GEO_POINT_FUNCTIONS,
  ...GEO_S2_FUNCTIONS,
  ...GEO_H3_FUNCTIONS,
  ...GEO_SHAPE_FUNCTIONS,
};
