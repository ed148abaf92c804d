/**
 * The DuckDB dialect: KQL's types and values in DuckDB's storage model, and the template tables.
 */
import type { Dialect, SqlArg } from '../../dialect.js';
import { AGGREGATES } from './aggregates.js';
import { DUCKDB_TYPES, literal, nullOf, quoteIdentifier, sqlString } from './base.js';
import { FUNCTIONS } from './functions.js';
import { DATETIME_FUNCTIONS } from './functions-datetime.js';
import { DYNAMIC_FUNCTIONS } from './functions-dynamic.js';
import { ENCODING_FUNCTIONS } from './functions-encoding.js';
import { GEO_FUNCTIONS } from './functions-geo.js';
import { IP_FUNCTIONS } from './functions-ip.js';
import { MATH_FUNCTIONS } from './functions-math.js';
import { OPERATOR_FUNCTIONS } from './functions-operators.js';
import { SERIES_FUNCTIONS } from './functions-series.js';
import { SKETCH_FUNCTIONS } from './functions-sketches.js';
import { STRINGS_FUNCTIONS } from './functions-strings.js';
import { OPERATORS } from './operators.js';
import { RELATIONAL } from './relational.js';

/** JSON path text for constant steps: `$.a[0]."b c"`. */
function jsonPath(steps: readonly (string | number)[]): string {
  let p = '$';
  for (const s of steps) {
    if (typeof s === 'number') p += s < 0 ? `[#${s}]` : `[${s}]`;
    else p += /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? `.${s}` : `."${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  }
  return p;
}

export const duckdb: Dialect = {
  name: 'duckdb',
  capabilities: { distinctOn: true, semiAntiJoin: true, unionByName: true, graphComponents: true },
  types: DUCKDB_TYPES,
  quoteIdentifier,
  literal,
  nullOf,
  operators: OPERATORS,
  // One table of scalar-function templates per family (each family's file is owned separately).
  functions: {
    ...FUNCTIONS,
    ...STRINGS_FUNCTIONS,
    ...DATETIME_FUNCTIONS,
    ...MATH_FUNCTIONS,
    ...IP_FUNCTIONS,
    ...ENCODING_FUNCTIONS,
    ...DYNAMIC_FUNCTIONS,
    ...SERIES_FUNCTIONS,
    ...GEO_FUNCTIONS,
    ...SKETCH_FUNCTIONS,
    ...OPERATOR_FUNCTIONS,
  },
  aggregates: AGGREGATES,
  relational: RELATIONAL,
  path(base: SqlArg, steps: readonly (string | number | SqlArg)[]): string {
    let sql = base.sql;
    let pending: (string | number)[] = [];
    const flush = () => {
      if (pending.length) sql = `json_extract(${sql}, ${sqlString(jsonPath(pending))})`;
      pending = [];
    };
    for (const s of steps) {
      if (typeof s === 'object') {
        flush();
        // A computed index: a number selects an element, a string a property.
        const key =
          s.type === 'string'
            ? `'$."' || replace(${s.sql}, '"', '\\"') || '"'`
            : `'$[' || CASE WHEN ${s.sql} < 0 THEN '#' || CAST(${s.sql} AS VARCHAR) ELSE CAST(${s.sql} AS VARCHAR) END || ']'`;
        sql = `json_extract(${sql}, ${key})`;
      } else pending.push(s);
    }
    flush();
    return sql;
  },
  scalarSubquery(select: string): string {
    return `(${select})`;
  },
};
