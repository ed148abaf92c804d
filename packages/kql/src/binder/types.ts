/**
 * The type model of bound KQL. Scalars are KQL's ten types; tables are ordered column lists (names are
 * case-sensitive, as in KQL). `unknown` marks an expression whose type could not be determined because of an
 * earlier error: it is compatible with everything so one mistake does not cascade into many diagnostics.
 */
export type ScalarTypeName =
  | 'bool'
  | 'int'
  | 'long'
  | 'real'
  | 'decimal'
  | 'string'
  | 'datetime'
  | 'timespan'
  | 'guid'
  | 'dynamic';

export const SCALAR_TYPES: readonly ScalarTypeName[] = [
  'bool',
  'int',
  'long',
  'real',
  'decimal',
  'string',
  'datetime',
  'timespan',
  'guid',
  'dynamic',
];

/** Type-name aliases accepted in declarations (`boolean`, `double`, `date`, `time`, `uniqueid`, ...). */
export const TYPE_ALIASES: Readonly<Record<string, ScalarTypeName>> = {
  bool: 'bool',
  boolean: 'bool',
  int: 'int',
  int32: 'int',
  long: 'long',
  int64: 'long',
  real: 'real',
  double: 'real',
  float: 'real',
  decimal: 'decimal',
  string: 'string',
  datetime: 'datetime',
  date: 'datetime',
  timespan: 'timespan',
  time: 'timespan',
  guid: 'guid',
  uniqueid: 'guid',
  dynamic: 'dynamic',
};

/** A column's type; `unknown` only after an error (or for values Kusto cannot type statically). */
export type ColumnType = ScalarTypeName | 'unknown';

/** What a dynamic value is known to hold (Kusto tracks it through columns: `array_length` rejects a bag). */
export type DynamicShape = 'array' | 'bag' | 'value';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /** For a dynamic column, the shape of its values when known. */
  readonly dynamicShape?: DynamicShape;
}

export type Type =
  | { readonly kind: 'scalar'; readonly name: ScalarTypeName }
  | { readonly kind: 'table'; readonly columns: readonly Column[]; readonly open?: boolean }
  /** A tuple result of functions such as `series_fit_line()` (only usable in `extend (a, b) = ...`). */
  | { readonly kind: 'tuple'; readonly columns: readonly Column[] }
  | { readonly kind: 'database'; readonly name: string }
  | { readonly kind: 'cluster'; readonly name: string }
  /** A statement or operator with no value (e.g. `set`). */
  | { readonly kind: 'void' }
  /** Unknown because of an earlier error; suppresses further diagnostics. */
  | { readonly kind: 'unknown' };

const scalarCache = new Map<ScalarTypeName, Type>();
export function scalar(name: ScalarTypeName): Type & { kind: 'scalar' } {
  let t = scalarCache.get(name);
  if (!t) {
    t = { kind: 'scalar', name };
    scalarCache.set(name, t);
  }
  return t as Type & { kind: 'scalar' };
}

export const UNKNOWN: Type = { kind: 'unknown' };
export const VOID: Type = { kind: 'void' };

export function table(columns: readonly Column[], open = false): Type & { kind: 'table' } {
  return open ? { kind: 'table', columns, open } : { kind: 'table', columns };
}

export function isNumeric(t: ScalarTypeName): boolean {
  return t === 'int' || t === 'long' || t === 'real' || t === 'decimal';
}

export function isInteger(t: ScalarTypeName): boolean {
  return t === 'int' || t === 'long';
}

/** Prints a type as KQL does in schemas: `long`, `(a:long, b:string)`. */
/** The Type of a column: its scalar type, or `unknown`. */
export function columnType(c: ColumnType): Type {
  return c === 'unknown' ? UNKNOWN : scalar(c);
}

/** The column type of a Type: the scalar name, or `unknown` for anything that is not a scalar. */
export function toColumnType(t: Type): ColumnType {
  return t.kind === 'scalar' ? t.name : 'unknown';
}

export function typeToString(t: Type): string {
  switch (t.kind) {
    case 'scalar':
      return t.name;
    case 'table':
    case 'tuple':
      return `(${t.columns.map((c) => `${formatName(c.name)}:${c.type}`).join(', ')})`;
    case 'database':
      return `database(${t.name})`;
    case 'cluster':
      return `cluster(${t.name})`;
    case 'void':
      return 'void';
    case 'unknown':
      return 'unknown';
  }
}

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export function formatName(name: string): string {
  return PLAIN_NAME.test(name) ? name : `['${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
}
