/**
 * KQL dynamic functions in DuckDB (see functions.ts for the conventions: arguments arrive compiled with their KQL
 * types; string results are never null; failed conversions give null).
 */
import type { Template } from '../../dialect.js';

export const DYNAMIC_FUNCTIONS: Readonly<Record<string, Template>> = {};
