/**
 * Result delivery, DuckDB side: each result row becomes the text of a Kusto JSON row array, computed by DuckDB's
 * vectorized engine (on all its threads) instead of value by value in JavaScript. The JS side then only moves
 * bytes (see ../result-file.ts). The encodings must equal the reference in ../values.ts; the contract suite
 * compares them value by value, edge cases included.
 */

import { DuckDBTypeId } from '@duckdb/node-api';
import type { ScalarTypeName } from '@vigil/kql';

/** What the encoder needs to know about a DuckDB result column's type. */
export type DuckKind =
  | 'bool'
  | 'integer'
  | 'float'
  | 'decimal'
  | 'varchar'
  | 'json'
  | 'timestamp'
  | 'timestamptz'
  | 'date'
  | 'interval'
  | 'uuid'
  | 'nested'
  | 'other';

export function duckKind(typeId: DuckDBTypeId, alias: string | undefined): DuckKind {
  switch (typeId) {
    case DuckDBTypeId.BOOLEAN:
      return 'bool';
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
      return 'integer';
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return 'float';
    case DuckDBTypeId.DECIMAL:
      return 'decimal';
    case DuckDBTypeId.VARCHAR:
      return alias?.toUpperCase() === 'JSON' ? 'json' : 'varchar';
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return 'timestamp';
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'timestamptz';
    case DuckDBTypeId.DATE:
      return 'date';
    case DuckDBTypeId.INTERVAL:
      return 'interval';
    case DuckDBTypeId.UUID:
      return 'uuid';
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.UNION:
      return 'nested';
    default:
      return 'other';
  }
}

/** The KQL type of a result column the compiler did not type (raw SQL, or `unknown`). */
export function kqlTypeOfKind(kind: DuckKind): ScalarTypeName {
  switch (kind) {
    case 'bool':
      return 'bool';
    case 'integer':
      return 'long';
    case 'float':
      return 'real';
    case 'decimal':
      return 'decimal';
    case 'timestamp':
    case 'timestamptz':
    case 'date':
      return 'datetime';
    case 'interval':
      return 'timespan';
    case 'uuid':
      return 'guid';
    case 'json':
    case 'nested':
      return 'dynamic';
    default:
      return 'string';
  }
}

const TICKS = { day: 864000000000n, hour: 36000000000n, minute: 600000000n, second: 10000000n };

/** SQL text of the JSON encoding of column expression `x` (never NULL: a null value encodes as `null`). */
export function encodeValueSql(type: ScalarTypeName, kind: DuckKind, x: string): string {
  switch (type) {
    case 'bool': {
      const b = kind === 'bool' ? x : `TRY_CAST(${x} AS BOOLEAN)`;
      return `CASE WHEN ${b} IS NULL THEN 'null' WHEN ${b} THEN 'true' ELSE 'false' END`;
    }
    case 'int':
    case 'long': {
      const n =
        kind === 'integer' ? x : kind === 'varchar' ? `TRY_CAST(${x} AS HUGEINT)` : `TRY_CAST(trunc(${x}) AS HUGEINT)`;
      return `coalesce(CAST(${n} AS VARCHAR), 'null')`;
    }
    case 'real': {
      const d = kind === 'float' ? `CAST(${x} AS DOUBLE)` : `TRY_CAST(${x} AS DOUBLE)`;
      return (
        `CASE WHEN ${d} IS NULL THEN 'null' WHEN isnan(${d}) THEN '"NaN"' ` +
        `WHEN isinf(${d}) THEN CASE WHEN ${d} > 0 THEN '"Infinity"' ELSE '"-Infinity"' END ` +
        `ELSE CAST(${d} AS VARCHAR) END`
      );
    }
    case 'decimal': {
      // Kusto writes decimals as strings; DuckDB prints all 18 scale digits, so trailing zeros are trimmed.
      const t = `CAST(${kind === 'decimal' ? x : `TRY_CAST(${x} AS DECIMAL(38,18))`} AS VARCHAR)`;
      return `CASE WHEN ${t} IS NULL THEN 'null' ELSE concat('"', regexp_replace(regexp_replace(${t}, '(\\.[0-9]*?)0+$', '\\1'), '\\.$', ''), '"') END`;
    }
    case 'string':
      return kind === 'varchar' ? `to_json(coalesce(${x}, ''))` : `to_json(coalesce(CAST(${x} AS VARCHAR), ''))`;
    case 'datetime': {
      const ts = kind === 'timestamp' ? `CAST(${x} AS TIMESTAMP)` : `TRY_CAST(${x} AS TIMESTAMP)`;
      return `CASE WHEN ${ts} IS NULL OR NOT isfinite(${ts}) THEN 'null' ELSE strftime(${ts}, '"%Y-%m-%dT%H:%M:%S.%f0Z"') END`;
    }
    case 'timespan': {
      const t =
        kind === 'interval'
          ? `(CAST(epoch_us(${x}) AS HUGEINT) * 10)`
          : kind === 'integer'
            ? `CAST(${x} AS HUGEINT)`
            : `TRY_CAST(${x} AS HUGEINT)`;
      const a = `abs(${t})`;
      const two = (e: string) => `lpad(CAST(${e} AS VARCHAR), 2, '0')`;
      return (
        `CASE WHEN ${t} IS NULL THEN 'null' ELSE concat('"', CASE WHEN ${t} < 0 THEN '-' ELSE '' END, ` +
        `CASE WHEN ${a} >= ${TICKS.day} THEN CAST(${a} // ${TICKS.day} AS VARCHAR) || '.' ELSE '' END, ` +
        `${two(`(${a} // ${TICKS.hour}) % 24`)}, ':', ${two(`(${a} // ${TICKS.minute}) % 60`)}, ':', ` +
        `${two(`(${a} // ${TICKS.second}) % 60`)}, ` +
        `CASE WHEN ${a} % ${TICKS.second} <> 0 THEN '.' || lpad(CAST(${a} % ${TICKS.second} AS VARCHAR), 7, '0') ELSE '' END, ` +
        `'"') END`
      );
    }
    case 'guid':
      return `CASE WHEN ${x} IS NULL THEN 'null' ELSE concat('"', CAST(${x} AS VARCHAR), '"') END`;
    case 'dynamic':
      switch (kind) {
        case 'json':
          // json() minifies, so a stored value never brings a raw line break into the one-line row text.
          return `coalesce(CAST(json(${x}) AS VARCHAR), 'null')`;
        case 'varchar':
          return `CASE WHEN ${x} IS NULL THEN 'null' WHEN json_valid(${x}) THEN CAST(json(${x}) AS VARCHAR) ELSE CAST(to_json(${x}) AS VARCHAR) END`;
        default:
          return `coalesce(CAST(to_json(${x}) AS VARCHAR), 'null')`;
      }
  }
}

/** One row's JSON array text, prefixed with a comma so that rows concatenate into a JSON list body. */
export function encodeRowSql(columns: readonly { type: ScalarTypeName; kind: DuckKind; sql: string }[]): string {
  if (columns.length === 0) return `',[]'`;
  const parts = columns.map((c, i) => (i === 0 ? '' : `',', `) + encodeValueSql(c.type, c.kind, c.sql));
  return `concat(',[', ${parts.join(', ')}, ']')`;
}
