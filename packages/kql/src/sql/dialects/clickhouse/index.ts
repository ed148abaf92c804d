/**
 * The ClickHouse dialect: KQL's types and values in ClickHouse's storage model (see base.ts), and the template
 * tables. The generator is shared with DuckDB; the capability flags and the relational hooks say where ClickHouse
 * differs structurally (no `UNION ALL BY NAME`, `numbers()` for range, `arrayJoin` for mv-expand).
 */
import type { Dialect, SqlArg } from '../../dialect.js';
import { AGGREGATES } from './aggregates.js';
import { CLICKHOUSE_TYPES, literal, nullOf, quoteIdentifier, sqlString } from './base.js';
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
    // JSONExtract indexes arrays from 1 (negative from the end) and reads properties by name.
    const keys: string[] = [];
    for (const s of steps) {
      if (typeof s === 'number') keys.push(String(s >= 0 ? s + 1 : s));
      else if (typeof s === 'string') keys.push(sqlString(s));
      else if (s.type === 'string') keys.push(s.sql);
      else keys.push(`if(toInt64(${s.sql}) >= 0, toInt64(${s.sql}) + 1, toInt64(${s.sql}))`);
    }
    return keys.length ? extract(base.sql, keys.join(', ')) : base.sql;
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
