/**
 * DuckDB building blocks shared by the template files: literals, identifiers, and conversions between the
 * storage model (see packages/server/src/engine/CONTEXT.md) and KQL values:
 * - datetime is TIMESTAMP (µs), timespan is BIGINT holding 100-ns ticks, dynamic is JSON, guid is UUID;
 * - KQL strings are never null: string-valued templates return '' where SQL would give NULL.
 */
import type { ColumnType, ScalarTypeName } from '../../../binder/types.js';
import { ticksToIso } from '../../../plan/lower.js';
import type { PlanValue } from '../../../plan/nodes.js';
import type { SqlArg, TemplateContext } from '../../dialect.js';

export const DUCKDB_TYPES: Readonly<Record<ScalarTypeName, string>> = {
  bool: 'BOOLEAN',
  int: 'INTEGER',
  long: 'BIGINT',
  real: 'DOUBLE',
  decimal: 'DECIMAL(38,18)',
  string: 'VARCHAR',
  datetime: 'TIMESTAMP',
  timespan: 'BIGINT',
  guid: 'UUID',
  dynamic: 'JSON',
};

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL string literal. NUL characters cannot appear in DuckDB literals, so they are spliced with chr(0). */
export function sqlString(s: string): string {
  if (s.includes('\u0000')) return s.split('\u0000').map(sqlString).join(' || chr(0) || ');
  return `'${s.replace(/'/g, "''")}'`;
}

export function nullOf(type: ColumnType): string {
  if (type === 'string') return "''";
  if (type === 'unknown') return 'NULL';
  return `CAST(NULL AS ${DUCKDB_TYPES[type]})`;
}

export function literal(value: PlanValue, type: ScalarTypeName): string {
  if (value === null) return nullOf(type);
  switch (type) {
    case 'bool':
      return value === true || value === 'true' ? 'TRUE' : 'FALSE';
    case 'int':
      return `CAST(${integerText(value)} AS INTEGER)`;
    case 'long':
      return `CAST(${integerText(value)} AS BIGINT)`;
    case 'real': {
      if (typeof value === 'number') return Number.isInteger(value) ? `${value}.0` : String(value);
      const t = String(value);
      if (t === 'NaN' || t === 'Infinity' || t === '-Infinity') return `CAST('${t}' AS DOUBLE)`;
      return `CAST(${sqlString(t)} AS DOUBLE)`;
    }
    case 'decimal':
      return `CAST(${sqlString(String(value))} AS DECIMAL(38,18))`;
    case 'string':
      return sqlString(String(value));
    case 'datetime': {
      const iso = ticksToIso(BigInt(String(value)));
      return `TIMESTAMP '${iso.slice(0, 10)} ${iso.slice(11, 26)}'`;
    }
    case 'timespan':
      return `CAST(${integerText(value)} AS BIGINT)`;
    case 'guid':
      return `CAST(${sqlString(String(value))} AS UUID)`;
    case 'dynamic':
      return `CAST(${sqlString(JSON.stringify(value))} AS JSON)`;
  }
}

function integerText(value: PlanValue): string {
  const t = String(value);
  if (!/^-?\d+$/.test(t)) throw new Error(`internal: not an integer literal: ${t}`);
  return t;
}

// ───────────────────────────── conversions used by templates ─────────────────────────────

/** A dynamic (JSON) value as KQL's tostring() sees it: strings unquoted, other values as JSON text, null → ''. */
export function dynamicToString(sql: string): string {
  return `COALESCE((${sql}) ->> '$', '')`;
}

/** Any argument as a VARCHAR the way KQL's tostring() renders it. */
export function asString(a: SqlArg): string {
  switch (a.type) {
    case 'string':
      return a.sql;
    case 'dynamic':
      return dynamicToString(a.sql);
    case 'datetime':
      return `COALESCE(strftime(${a.sql}, '%Y-%m-%dT%H:%M:%S.%f') || '0Z', '')`;
    case 'timespan':
      return `COALESCE(${timespanText(a.sql)}, '')`;
    case 'bool':
      return `COALESCE(CASE WHEN ${a.sql} THEN 'true' ELSE 'false' END, '')`;
    case 'real':
      return `COALESCE(${realText(a.sql)}, '')`;
    case 'guid':
      return `COALESCE(CAST(${a.sql} AS VARCHAR), '')`;
    default:
      return `COALESCE(CAST(${a.sql} AS VARCHAR), '')`;
  }
}

/** KQL's rendering of a real: integral values without a fraction, NaN/Infinity spelled as .NET does. */
export function realText(sql: string): string {
  return `CASE WHEN isnan(${sql}) THEN 'NaN' WHEN ${sql} = 'Infinity'::DOUBLE THEN 'Infinity' WHEN ${sql} = '-Infinity'::DOUBLE THEN '-Infinity' ELSE CAST(${sql} AS VARCHAR) END`;
}

/** `[-][d.]hh:mm:ss[.fffffff]` from 100-ns ticks. */
export function timespanText(ticks: string): string {
  const t = `abs(${ticks})`;
  return `(CASE WHEN ${ticks} IS NULL THEN NULL ELSE (CASE WHEN ${ticks} < 0 THEN '-' ELSE '' END) || (CASE WHEN ${t} >= 864000000000 THEN CAST(${t} // 864000000000 AS VARCHAR) || '.' ELSE '' END) || lpad(CAST((${t} // 36000000000) % 24 AS VARCHAR), 2, '0') || ':' || lpad(CAST((${t} // 600000000) % 60 AS VARCHAR), 2, '0') || ':' || lpad(CAST((${t} // 10000000) % 60 AS VARCHAR), 2, '0') || (CASE WHEN ${t} % 10000000 <> 0 THEN '.' || lpad(CAST(${t} % 10000000 AS VARCHAR), 7, '0') ELSE '' END) END)`;
}

/** A dynamic value as a DOUBLE (for arithmetic and comparisons with numbers); non-numbers become null. */
export function dynamicToNumber(sql: string): string {
  return `TRY_CAST((${sql}) ->> '$' AS DOUBLE)`;
}

/** Any argument as a JSON value (for pack/array builders). */
export function asJson(a: SqlArg): string {
  switch (a.type) {
    case 'dynamic':
      return a.sql;
    case 'datetime':
      return `to_json(${asString(a)})`;
    case 'timespan':
      return `to_json(${timespanText(a.sql)})`;
    case 'guid':
      return `to_json(CAST(${a.sql} AS VARCHAR))`;
    case 'decimal':
      return `to_json(CAST(${a.sql} AS DOUBLE))`;
    default:
      return `to_json(${a.sql})`;
  }
}

/** Timespan ticks → an INTERVAL DuckDB can add to a TIMESTAMP. */
export function ticksToInterval(ticks: string): string {
  return `to_microseconds((${ticks}) // 10)`;
}

/** A TIMESTAMP → ticks since 1970 (BIGINT). */
export function timestampTicks(ts: string): string {
  return `(epoch_us(${ts}) * 10)`;
}

/** The literal string value of an argument, or null when it is not a string literal. */
export function literalString(a: SqlArg | undefined): string | null {
  const v = a?.literal?.value;
  return typeof v === 'string' && a?.literal?.type === 'string' ? v : null;
}

/** Requires an argument; a missing one means the catalog let through a call the template cannot express. */
export function arg(args: readonly SqlArg[], i: number, ctx: TemplateContext): SqlArg {
  const a = args[i];
  if (!a) return ctx.unsupported(`argument ${i + 1} is required`);
  return a;
}

/** Escapes a string for use inside an RE2 pattern. */
export function regexEscape(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}
