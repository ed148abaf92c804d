/**
 * The ClickHouse dialect: KQL's types and values in ClickHouse's storage model (see base.ts), and the template
 * tables. The generator is shared with DuckDB; the capability flags and the relational hooks say where ClickHouse
 * differs structurally (no `UNION ALL BY NAME`, `numbers()` for range, `arrayJoin` for mv-expand).
 */
import type { Dialect, SqlArg } from '../../dialect.js';
import { AGGREGATES } from './aggregates.js';
import { CLICKHOUSE_TYPES, literal, nullOf, quoteIdentifier, sqlString, withValue } from './base.js';
import { FUNCTIONS } from './functions.js';
import { OPERATORS } from './operators.js';
import { RELATIONAL } from './relational.js';

/** A JSON text's element or property (null when absent or JSON null). */
function extract(json: string, step: string): string {
  return `nullIf(nullIf(JSONExtractRaw(ifNull(${json}, 'null'), ${step}), ''), 'null')`;
}

export const clickhouse: Dialect = {
  name: 'clickhouse',
  capabilities: { distinctOn: true, semiAntiJoin: true, unionByName: false, qualifiedJoinStar: true },
  types: CLICKHOUSE_TYPES,
  quoteIdentifier,
  literal,
  nullOf,
  operators: OPERATORS,
  functions: FUNCTIONS,
  aggregates: AGGREGATES,
  relational: RELATIONAL,
  path(base: SqlArg, steps: readonly (string | number | SqlArg)[]): string {
    // JSONExtract indexes arrays from 1 (negative from the end) and reads properties by name. It would also read
    // an object's n-th property by index, so an index step applies to arrays only (d[0] of a bag is null).
    let sql = base.sql;
    let names: string[] = [];
    const flush = () => {
      if (names.length) sql = extract(sql, names.join(', '));
      names = [];
    };
    for (const s of steps) {
      if (typeof s === 'string') names.push(sqlString(s));
      else if (typeof s !== 'number' && s.type === 'string') names.push(s.sql);
      else {
        flush();
        const index =
          typeof s === 'number'
            ? String(s >= 0 ? s + 1 : s)
            : `if(toInt64(${s.sql}) >= 0, toInt64(${s.sql}) + 1, toInt64(${s.sql}))`;
        sql = withValue(sql, (v) => `if(JSONType(ifNull(${v}, 'null')) = 'Array', ${extract(v, index)}, NULL)`);
      }
    }
    flush();
    return sql;
  },
  // KQL strings are never null: plain equality, which ClickHouse hash-joins directly.
  joinKeyEquals(l: SqlArg, r: SqlArg): string {
    return l.type === 'string' && r.type === 'string'
      ? `${l.sql} = ${r.sql}`
      : `${l.sql} IS NOT DISTINCT FROM ${r.sql}`;
  },
  // ignore() is 0 and is not folded to a constant, so the equality is a join key: the join is a filtered product.
  joinWithoutKeys(left: string, right: string): string {
    return `ignore(${left}) = ignore(${right})`;
  },
  scalarSubquery(select: string): string {
    return `(${select})`;
  },
};
