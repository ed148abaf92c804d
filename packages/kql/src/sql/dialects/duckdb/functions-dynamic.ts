/**
 * KQL dynamic functions in DuckDB: arrays, property bags, sets, JSON paths and the dynamic builders (see
 * functions.ts for the conventions: arguments arrive compiled with their KQL types; string results are never null;
 * failed conversions give null).
 *
 * Representation (see packages/server/src/engine/CONTEXT.md): a dynamic value is DuckDB JSON. Its elements are
 * handled as `JSON[]` lists (`json_extract(x, '$[*]')`), its properties as `MAP(VARCHAR, JSON)`
 * (`TRY_CAST(x AS MAP(VARCHAR, JSON))`, null for anything that is not a bag), so no key ever has to be spliced into
 * a JSON path text. JSON keeps longs and reals apart (`[1, 2.5]`), and results are built from JSON elements so that
 * the distinction survives. Property bags are rebuilt as JSON text (`{"k":v,...}`), which keeps key order and never
 * fails on duplicate keys.
 *
 * Arguments used several times, or inside a lambda, are bound once with `bind()` (a one-element
 * `list_transform`), so nesting templates does not multiply the SQL text and correlated subqueries never end up
 * inside a lambda body (DuckDB refuses them there).
 *
 * Multi-valued results (`extend (a, b) = array_sort_asc(x, y)`): when the call's result type is not a scalar (the
 * planner gives tuples the type `unknown`), the template returns a DuckDB STRUCT whose fields are the tuple's
 * columns in order; the planner reads element i with `__tuple_element` (the dialect's `relational.tupleElement`).
 */
import type { ColumnType } from '../../../binder/types.js';
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import { arg, asJson, asString, literalString, sqlString, timespanText } from './base.js';
import { convertDynamic } from './functions.js';

// ───────────────────────────── building blocks ─────────────────────────────

export const NUMERIC_JSON = `('BIGINT', 'UBIGINT', 'DOUBLE')`;
/** Kusto's limit on arrays built by range() and repeat(). */
const MAX_ARRAY = 1048576;

/**
 * Lambda parameter names for one template: `__xN` with N above every name the arguments already use, so a
 * template's lambdas never capture (or shadow) the variables of the templates nested inside it.
 */
export class Names {
  private next: number;
  constructor(...texts: readonly string[]) {
    let max = 0;
    for (const t of texts) for (const m of t.matchAll(/__x(\d+)/g)) max = Math.max(max, Number(m[1]));
    this.next = max + 1;
  }
  fresh(): string {
    return `__x${this.next++}`;
  }
}

function texts(args: readonly SqlArg[]): string[] {
  return args.map((a) => a.sql);
}

/**
 * Only references and literals are repeated; anything else is bound once. (An inlined expression inside a lambda
 * body is evaluated per element: `list_avg(l)` there turns a linear computation quadratic.)
 */
export function isSimple(sql: string): boolean {
  return (
    /^(?:"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_]*)(?:\.(?:"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_]*))*$/.test(sql) ||
    /^-?\d+(?:\.\d+)?$/.test(sql) ||
    /^'(?:[^']|'')*'$/.test(sql) ||
    /^(?:CAST\()?(?:-?\d+(?:\.\d+)?|'(?:[^']|'')*'|NULL|TRUE|FALSE|true|false)(?: AS [A-Z]+(?:\(\d+,\d+\))?\))?$/.test(
      sql,
    )
  );
}

/** Evaluates `value` once and gives its name to `body` (a one-element list_transform when it is not simple). */
export function bind(names: Names, value: string, body: (v: string) => string): string {
  if (isSimple(value)) return body(value);
  const v = names.fresh();
  return `list_transform([${value}], ${v} -> ${body(v)})[1]`;
}

/** Several values bound at once, in one lambda over a STRUCT (deeply nested lambda bodies bind slowly in DuckDB). */
export function bindAll<const T extends readonly string[]>(
  names: Names,
  values: T,
  body: (vs: { readonly [K in keyof T]: string }) => string,
): string {
  const complex = values.map((v) => !isSimple(v));
  if (!complex.some(Boolean)) return body(values as unknown as { readonly [K in keyof T]: string });
  const s = names.fresh();
  const fields = values.flatMap((v, i) => (complex[i] ? [`'f${i}': ${v}`] : []));
  const refs = values.map((v, i) => (complex[i] ? `${s}.f${i}` : v));
  return `list_transform([{${fields.join(', ')}}], ${s} -> ${body(refs as unknown as { readonly [K in keyof T]: string })})[1]`;
}

/** Functions whose templates return a STRUCT of tuple columns when the call's type is the tuple (`unknown`). */
export const TUPLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'array_sort_asc',
  'array_sort_desc',
  'series_stats',
  'series_fit_line',
  'series_fit_2lines',
  'series_fit_poly',
  'series_periods_detect',
  'series_periods_validate',
  'series_decompose',
  'series_decompose_forecast',
  'series_decompose_anomalies',
  'series_fft',
  'series_ifft',
]);

/**
 * An argument as a JSON value (typed scalars are converted the way pack_array() does). A tuple-valued call used as
 * an argument (`strcat_array(array_sort_asc(a), ',')`) stands for its first column, as in Kusto.
 */
export function dyn(a: SqlArg): string {
  if (a.type === 'unknown' && a.expr.kind === 'call' && returnsStruct(a.expr.fn)) {
    return `struct_extract_at(${a.sql}, 1)`;
  }
  return a.type === 'dynamic' ? a.sql : asJson(a);
}

/** Does a call typed as a tuple compile (in this file or functions-series.ts) to a STRUCT? See `tupleSafe`. */
function returnsStruct(fn: string): boolean {
  return TUPLE_FUNCTIONS.has(fn) || fn.startsWith('series_') || fn in DYNAMIC_FUNCTIONS;
}

/**
 * Every template of a table, made safe for tuple-typed calls: Kusto types `array_slice(array_sort_asc(a), 0, 1)`
 * like its argument, a one-column tuple, and the planner then reads element 0 of it. A call typed as a tuple
 * (`unknown`) that is not multi-valued itself returns its value in a one-field STRUCT.
 */
export function tupleSafe(table: Readonly<Record<string, Template>>): Record<string, Template> {
  const out: Record<string, Template> = {};
  for (const [name, t] of Object.entries(table)) {
    out[name] = TUPLE_FUNCTIONS.has(name)
      ? t
      : (args, ctx) =>
          ctx.resultType === 'unknown' ? `{'v': ${t(args, { ...ctx, resultType: 'dynamic' })}}` : t(args, ctx);
  }
  return out;
}

/** The elements of a JSON array as a `JSON[]` list; null when the value is not an array. */
export function elems(x: string): string {
  return `(CASE WHEN json_type(${x}) = 'ARRAY' THEN CAST(json_extract(${x}, '$[*]') AS JSON[]) END)`;
}

/** The elements of a JSON array, or an empty list for anything else. */
function elemsOrEmpty(x: string): string {
  return `COALESCE(${elems(x)}, []::JSON[])`;
}

/** A `JSON[]` list as a JSON array. */
export function toArray(list: string): string {
  return `CAST(to_json(${list}) AS JSON)`;
}

/** The properties of a property bag as a MAP; null for anything that is not a bag. */
export function bagMap(x: string): string {
  return `TRY_CAST(${x} AS MAP(VARCHAR, JSON))`;
}

/** `STRUCT(key, value)[]` entries as a JSON object (text-built: keeps order, tolerates duplicate keys). */
export function objectFromEntries(entries: string, names: Names): string {
  const e = names.fresh();
  return `CAST('{' || array_to_string(list_transform(${entries}, ${e} -> CAST(to_json(${e}.key) AS VARCHAR) || ':' || COALESCE(CAST(${e}.value AS VARCHAR), 'null')), ',') || '}' AS JSON)`;
}

/** A DOUBLE as a JSON number; NaN and ±Infinity become strings as Kusto writes them (JSON has no such numbers). */
export function doubleJson(d: string): string {
  return `(CASE WHEN ${d} IS NULL THEN NULL WHEN isnan(${d}) THEN '"NaN"'::JSON WHEN isinf(${d}) THEN (CASE WHEN ${d} > 0 THEN '"Infinity"' ELSE '"-Infinity"' END)::JSON ELSE to_json(CAST(${d} AS DOUBLE)) END)`;
}

/** Is a JSON value a number (long or real)? */
export function isNumberJson(e: string): string {
  return `(json_type(${e}) IN ${NUMERIC_JSON})`;
}

/** Does a JSON element equal a typed scalar value (Kusto compares numbers by value, strings exactly)? */
export function elementEquals(e: string, value: SqlArg): string {
  switch (value.type) {
    case 'long':
    case 'int':
    case 'real':
    case 'decimal':
      return `(${isNumberJson(e)} AND CAST(${e} AS DOUBLE) = CAST(${value.sql} AS DOUBLE))`;
    case 'bool':
      return `(json_type(${e}) = 'BOOLEAN' AND CAST(${e} AS BOOLEAN) = ${value.sql})`;
    case 'string':
      return `(json_type(${e}) = 'VARCHAR' AND (${e} ->> '$') = ${value.sql})`;
    case 'guid':
      return `(json_type(${e}) = 'VARCHAR' AND lower(${e} ->> '$') = lower(CAST(${value.sql} AS VARCHAR)))`;
    case 'datetime':
      return `(json_type(${e}) = 'VARCHAR' AND TRY_CAST(replace(replace(${e} ->> '$', 'T', ' '), 'Z', '') AS TIMESTAMP) = ${value.sql})`;
    case 'timespan':
      return `(json_type(${e}) = 'VARCHAR' AND (${e} ->> '$') = ${timespanText(value.sql)})`;
    default:
      return `(json(${e}) = json(${value.sql}))`;
  }
}

// ───────────────────────────── JSONPath (Kusto's subset) ─────────────────────────────

export type PathStep = string | number;

/**
 * Parses Kusto's JSONPath subset: `$`, `.name`, `['name']`, `["name"]`, `[n]` (no wildcards, recursion or
 * slices). A text without a leading `$` is a plain top-level key. Returns null for an invalid path.
 */
export function parseJsonPath(path: string, plainKeys = false): PathStep[] | null {
  if (plainKeys && !path.startsWith('$')) return [path];
  if (!path.startsWith('$')) return null;
  const steps: PathStep[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      const m = /^[^.[\]]+/.exec(path.slice(i + 1));
      if (!m) return null;
      steps.push(m[0]);
      i += 1 + m[0].length;
    } else if (c === '[') {
      const rest = path.slice(i);
      const num = /^\[\s*(\d+)\s*\]/.exec(rest);
      const quoted = /^\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\]/.exec(rest);
      if (num) {
        steps.push(Number(num[1]));
        i += num[0].length;
      } else if (quoted) {
        steps.push((quoted[1] ?? quoted[2] ?? '').replace(/\\(.)/g, '$1'));
        i += quoted[0].length;
      } else return null;
    } else return null;
  }
  return steps;
}

/** The value at a path inside a JSON value (null when absent). Keys DuckDB's path syntax cannot quote use a MAP. */
export function jsonAt(x: string, steps: readonly PathStep[]): string {
  let sql = x;
  let pending = '$';
  const flush = () => {
    if (pending !== '$') sql = `json_extract(${sql}, ${sqlString(pending)})`;
    pending = '$';
  };
  for (const s of steps) {
    if (typeof s === 'number') pending += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) pending += `.${s}`;
    else if (!/["\\]/.test(s)) pending += `."${s}"`;
    else {
      flush();
      sql = `${bagMap(sql)}[${sqlString(s)}]`;
    }
  }
  flush();
  return sql;
}

/** A runtime key for the bag functions: a plain key, `$.key` or `$['key']` (nested paths need a literal). */
function runtimeTopKey(k: string): string {
  return `(CASE WHEN regexp_full_match(${k}, '\\$\\.[^.\\[\\]]+') THEN substr(${k}, 3) WHEN regexp_full_match(${k}, '\\$\\[''[^'']*''\\]') THEN substr(${k}, 4, length(${k}) - 5) ELSE ${k} END)`;
}

// ───────────────────────────── arrays ─────────────────────────────

const arrayLength: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  if (a.type !== 'dynamic' && a.type !== 'unknown') return 'CAST(NULL AS BIGINT)';
  const x = dyn(a);
  return `(CASE WHEN json_type(${x}) = 'ARRAY' THEN CAST(json_array_length(${x}) AS BIGINT) END)`;
};

/** Non-array arguments contribute nothing (Kusto: `array_concat(dynamic({...}), dynamic([99]))` is `[99]`). */
const arrayConcat: Template = (args) => toArray(`flatten([${args.map((a) => elemsOrEmpty(dyn(a))).join(', ')}])`);

/** `array_iff(cond, whenTrue, whenFalse)`: numbers are true unless 0; other conditions give null. */
const arrayIff: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const cond = dyn(arg(args, 0, ctx));
  const branch = (a: SqlArg, i: string, list: string) =>
    a.type === 'dynamic' ? `(CASE WHEN ${list} IS NULL THEN ${a.sql} ELSE ${list}[${i}] END)` : asJson(a);
  const t = arg(args, 1, ctx);
  const f = arg(args, 2, ctx);
  return bindAll(names, [elems(cond), t.sql, f.sql], ([c, ts, fs]) => {
    const tb = { ...t, sql: ts as string };
    const fb = { ...f, sql: fs as string };
    return bindAll(
      names,
      [t.type === 'dynamic' ? elems(ts as string) : 'NULL', f.type === 'dynamic' ? elems(fs as string) : 'NULL'],
      ([tl, fl]) => {
        const e = names.fresh();
        const i = names.fresh();
        const pick = (yes: string) =>
          `(CASE WHEN ${yes} THEN ${branch(tb, i, tl as string)} ELSE ${branch(fb, i, fl as string)} END)`;
        return toArray(
          `list_transform(${c}, (${e}, ${i}) -> CASE WHEN json_type(${e}) = 'BOOLEAN' THEN ${pick(`CAST(${e} AS BOOLEAN)`)} WHEN ${isNumberJson(e)} THEN ${pick(`CAST(${e} AS DOUBLE) <> 0`)} ELSE NULL END)`,
        );
      },
    );
  });
};

/** `array_index_of(array, value [, start [, length [, occurrence]]])`. */
const arrayIndexOf: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const list = elems(dyn(arg(args, 0, ctx)));
  const value = arg(args, 1, ctx);
  const start = args[2]?.sql ?? '0';
  const length = args[3]?.sql ?? '-1';
  const occurrence = args[4]?.sql ?? '1';
  return bindAll(names, [list, value.sql, start, length, occurrence], ([l, v, s0, len, occ]) => {
    const e = names.fresh();
    const i = names.fresh();
    const s = `(CASE WHEN ${s0} < 0 THEN greatest(len(${l}) + ${s0}, 0) ELSE ${s0} END)`;
    const hit = `(${i} - 1 >= ${s} AND (${len} = -1 OR ${i} - 1 < ${s} + ${len}) AND ${elementEquals(e, { ...value, sql: v as string })})`;
    const hits = `list_filter(list_transform(${l}, (${e}, ${i}) -> CASE WHEN ${hit} THEN ${i} - 1 END), ${e} -> ${e} IS NOT NULL)`;
    return `(CASE WHEN ${l} IS NULL OR ${occ} < 0 OR ${len} < -1 OR ${v} IS NULL THEN NULL ELSE CAST(COALESCE(${hits}[${occ}], -1) AS BIGINT) END)`;
  });
};

const arrayReverse: Template = (args, ctx) => toArray(`list_reverse(${elems(dyn(arg(args, 0, ctx)))})`);

/** Rotation by n to the left (negative n rotates right). */
function rotate(args: readonly SqlArg[], ctx: TemplateContext, sign: 1 | -1): string {
  const names = new Names(...texts(args));
  const n = arg(args, 1, ctx).sql;
  return bindAll(names, [elems(dyn(arg(args, 0, ctx))), n], ([l, k]) => {
    const i = names.fresh();
    const shift = sign === 1 ? k : `(-(${k}))`;
    return toArray(
      `CASE WHEN len(${l}) = 0 THEN ${l} ELSE list_transform(range(len(${l})), ${i} -> ${l}[((${i} + ${shift}) % len(${l}) + len(${l})) % len(${l}) + 1]) END`,
    );
  });
}

/** Shift by n to the left (negative n shifts right), filling with the default (null unless given). */
function shift(args: readonly SqlArg[], ctx: TemplateContext, sign: 1 | -1): string {
  const names = new Names(...texts(args));
  const n = arg(args, 1, ctx).sql;
  const fill = args[2] ? dyn(args[2]) : 'NULL::JSON';
  return bindAll(names, [elems(dyn(arg(args, 0, ctx))), n, fill], ([l, k, d]) => {
    const i = names.fresh();
    const shiftBy = sign === 1 ? k : `(-(${k}))`;
    return toArray(
      `list_transform(range(len(${l})), ${i} -> CASE WHEN ${i} + ${shiftBy} >= 0 AND ${i} + ${shiftBy} < len(${l}) THEN ${l}[${i} + ${shiftBy} + 1] ELSE ${d} END)`,
    );
  });
}

/** `array_slice(array, start, end)`: inclusive bounds, negative ones count from the end, out of bounds ignored. */
const arraySlice: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  return bindAll(names, [elems(dyn(arg(args, 0, ctx))), arg(args, 1, ctx).sql, arg(args, 2, ctx).sql], ([l, s, e]) => {
    const from = `greatest(CASE WHEN ${s} < 0 THEN len(${l}) + ${s} ELSE ${s} END, 0)`;
    const to = `least(CASE WHEN ${e} < 0 THEN len(${l}) + ${e} ELSE ${e} END, len(${l}) - 1)`;
    return toArray(
      `CASE WHEN ${s} IS NULL OR ${e} IS NULL THEN NULL ELSE list_slice(${l}, ${from} + 1, ${to} + 1) END`,
    );
  });
};

/** `array_split(array, index | indexes)`: N indexes give N+1 arrays `[0..i1), [i1..i2), ..., [iN..len)`. */
const arraySplit: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const idx = arg(args, 1, ctx);
  const x = names.fresh();
  const k = names.fresh();
  const idxList =
    idx.type === 'dynamic'
      ? `list_transform(${elemsOrEmpty(idx.sql)}, ${x} -> TRY_CAST(${x} AS BIGINT))`
      : `[CAST(${idx.sql} AS BIGINT)]`;
  return bindAll(names, [elems(dyn(arg(args, 0, ctx))), idxList], ([l, ix]) => {
    const bounds = `[0] || list_transform(${ix}, ${x} -> least(greatest(CASE WHEN ${x} < 0 THEN len(${l}) + ${x} ELSE ${x} END, 0), len(${l}))) || [len(${l})]`;
    return bind(names, bounds, (b) =>
      toArray(
        `CASE WHEN ${l} IS NULL THEN NULL ELSE list_transform(range(1, len(${b})), ${k} -> to_json(list_slice(${l}, ${b}[${k}] + 1, ${b}[${k} + 1]))) END`,
      ),
    );
  });
};

/** `array_sum(array)`: a real; null when an element is not a number. */
const arraySum: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  return bind(names, elems(dyn(arg(args, 0, ctx))), (l) => {
    const e = names.fresh();
    return `(CASE WHEN ${l} IS NULL OR NOT list_bool_and(list_transform(${l}, ${e} -> ${isNumberJson(e)})) THEN NULL ELSE COALESCE(list_sum(list_transform(${l}, ${e} -> CAST(${e} AS DOUBLE))), 0.0) END)`;
  });
};

/** Sort keys of JSON elements: numbers, then strings, then everything else; nulls placed by the caller. */
function sortKey(e: string, i: string, descending: boolean): string {
  const cls = `(CASE WHEN ${isNumberJson(e)} THEN 0 WHEN json_type(${e}) = 'VARCHAR' THEN 1 ELSE 2 END)`;
  const num = `(CASE WHEN ${isNumberJson(e)} THEN CAST(${e} AS DOUBLE) END)`;
  const str = `(CASE WHEN json_type(${e}) = 'VARCHAR' THEN ${e} ->> '$' ELSE CAST(${e} AS VARCHAR) END)`;
  // The position keeps the sort stable in both directions.
  return `(CASE WHEN ${e} IS NULL OR json_type(${e}) = 'NULL' THEN NULL ELSE {'c': ${cls}, 'n': ${num}, 's': ${str}, 'i': ${descending ? `-${i}` : i}} END)`;
}

/**
 * `array_sort_asc/desc(a1, ..., aN [, nulls_last])`: sorts a1 and orders the others like it (null for an array of
 * another length). A scalar call returns the first array; a tuple call a STRUCT of all of them.
 */
function arraySort(descending: boolean): Template {
  return (args, ctx) => {
    const names = new Names(...texts(args));
    const last = args[args.length - 1];
    const hasNullsArg = last !== undefined && last.type === 'bool';
    const arrays = hasNullsArg ? args.slice(0, -1) : args;
    if (arrays.length === 0) return ctx.unsupported('array_sort without an array');
    const nullsLast = hasNullsArg ? `COALESCE(${last.sql}, true)` : 'true';
    const lists = arrays.map((a) => elems(dyn(a)));
    return bindAll(names, [...lists, nullsLast], (vs) => {
      const ls = vs.slice(0, arrays.length);
      const nl = vs[arrays.length] as string;
      const first = ls[0] as string;
      const e = names.fresh();
      const i = names.fresh();
      const j = names.fresh();
      const keys = `list_transform(${first}, (${e}, ${i}) -> ${sortKey(e, i, descending)})`;
      const dir = descending ? 'DESC' : 'ASC';
      const perm = `(CASE WHEN ${nl} THEN list_grade_up(${keys}, '${dir}', 'NULLS LAST') ELSE list_grade_up(${keys}, '${dir}', 'NULLS FIRST') END)`;
      return bind(names, perm, (p) => {
        const sorted = ls.map((l) =>
          toArray(
            `CASE WHEN ${l} IS NULL OR len(${l}) <> len(${first}) THEN NULL ELSE list_transform(${p}, ${j} -> ${l}[${j}]) END`,
          ),
        );
        if (ctx.resultType === 'dynamic') return sorted[0] as string;
        return `{${sorted.map((s, k) => `'sorted${k}': ${s}`).join(', ')}}`;
      });
    });
  };
}

/** `strcat_array(array, delimiter)`: elements as tostring() renders them (null → ''). */
const strcatArray: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const a = dyn(arg(args, 0, ctx));
  const delim = asString(arg(args, 1, ctx));
  const e = names.fresh();
  return `COALESCE(array_to_string(list_transform(${elems(a)}, ${e} -> COALESCE(${e} ->> '$', '')), ${delim}), '')`;
};

// ───────────────────────────── sets ─────────────────────────────

/** Distinct elements in first-occurrence order. */
function distinctList(l: string, names: Names): string {
  const e = names.fresh();
  const i = names.fresh();
  return `list_filter(${l}, (${e}, ${i}) -> list_position(${l}, ${e}) = ${i})`;
}

const setUnion: Template = (args) => {
  const names = new Names(...texts(args));
  return bind(names, `flatten([${args.map((a) => elemsOrEmpty(dyn(a))).join(', ')}])`, (l) =>
    toArray(distinctList(l, names)),
  );
};

const setIntersect: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const lists = args.map((a) => elemsOrEmpty(dyn(a)));
  if (lists.length === 0) return ctx.unsupported('set_intersect without arguments');
  return bindAll(names, lists, (ls) =>
    bind(names, distinctList(ls[0] as string, names), (d) => {
      const e = names.fresh();
      const keep = ls
        .slice(1)
        .map((o) => `list_contains(${o}, ${e})`)
        .join(' AND ');
      return toArray(keep ? `list_filter(${d}, ${e} -> ${keep})` : d);
    }),
  );
};

const setDifference: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const lists = args.map((a) => elemsOrEmpty(dyn(a)));
  if (lists.length === 0) return ctx.unsupported('set_difference without arguments');
  return bindAll(names, lists, (ls) =>
    bind(names, distinctList(ls[0] as string, names), (d) => {
      const e = names.fresh();
      const drop = ls
        .slice(1)
        .map((o) => `list_contains(${o}, ${e})`)
        .join(' OR ');
      return toArray(drop ? `list_filter(${d}, ${e} -> NOT (${drop}))` : d);
    }),
  );
};

const setHasElement: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const value = arg(args, 1, ctx);
  return bindAll(names, [elems(dyn(arg(args, 0, ctx))), value.sql], ([l, v]) => {
    const e = names.fresh();
    return `(CASE WHEN ${l} IS NULL THEN NULL ELSE list_bool_or(list_transform(${l}, ${e} -> COALESCE(${elementEquals(e, { ...value, sql: v as string })}, false))) IS TRUE END)`;
  });
};

const setEquals: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  return bindAll(
    names,
    [elemsOrEmpty(dyn(arg(args, 0, ctx))), elemsOrEmpty(dyn(arg(args, 1, ctx)))],
    ([a, b]) => `(list_has_all(${a}, ${b}) AND list_has_all(${b}, ${a}))`,
  );
};

/** |A ∩ B| / |A ∪ B| over distinct elements (NaN for two empty sets). */
const jaccardIndex: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  return bindAll(names, [elemsOrEmpty(dyn(arg(args, 0, ctx))), elemsOrEmpty(dyn(arg(args, 1, ctx)))], ([a, b]) =>
    bindAll(names, [`list_distinct(${a})`, `list_distinct(${b})`], ([da, db]) => {
      const e = names.fresh();
      const inter = `len(list_filter(${da}, ${e} -> list_contains(${db}, ${e})))`;
      const union = `len(list_distinct(${da} || ${db}))`;
      return `(CASE WHEN ${union} = 0 THEN 'NaN'::DOUBLE ELSE CAST(${inter} AS DOUBLE) / ${union} END)`;
    }),
  );
};

// ───────────────────────────── builders ─────────────────────────────

const packArray: Template = (args) => toArray(`[${args.map((a) => dyn(a)).join(', ')}]::JSON[]`);

const bagPack: Template = (args, ctx) => {
  if (args.length % 2 !== 0) return ctx.unsupported('bag_pack with an odd number of arguments');
  if (args.length === 0) return `CAST('{}' AS JSON)`;
  const names = new Names(...texts(args));
  const entries: string[] = [];
  for (let i = 0; i < args.length; i += 2) {
    entries.push(`{'key': ${asString(args[i] as SqlArg)}, 'value': ${dyn(args[i + 1] as SqlArg)}}`);
  }
  return objectFromEntries(`[${entries.join(', ')}]`, names);
};

/** `bag_pack_columns(c1, c2, ...)`: the column names are the keys. */
const bagPackColumns: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const entries = args.map((a) => {
    if (a.expr.kind !== 'col') return ctx.unsupported('bag_pack_columns() of an expression that is not a column');
    return `{'key': ${sqlString(a.expr.name)}, 'value': ${dyn(a)}}`;
  });
  if (entries.length === 0) return `CAST('{}' AS JSON)`;
  return objectFromEntries(`[${entries.join(', ')}]`, names);
};

/** Splits the `star` argument's column list (`"a", "b"`) at top-level commas. */
function splitColumns(sql: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (quote) {
      if (c === quote) {
        if (sql[i + 1] === quote) i++;
        else quote = null;
      }
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(sql.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = sql.slice(start).trim();
  if (last !== '') out.push(last);
  return out;
}

/** `pack_all([ignore_null_empty])`: needs the row's columns as a `star` argument (added by the planner). */
const packAll: Template = (args, ctx) => {
  const star = args.find((a) => a.expr.kind === 'star');
  if (star?.expr.kind !== 'star') return ctx.unsupported('pack_all() without the row columns');
  const ignore = args.find((a) => a !== star && a.type === 'bool');
  const cols = star.expr.columns;
  const values = cols.length ? splitColumns(star.sql) : [];
  if (values.length !== cols.length) return ctx.unsupported('pack_all() over these columns');
  const names = new Names(star.sql);
  const entries = cols.map(
    (c, i) =>
      `{'key': ${sqlString(c.name)}, 'value': ${dyn({ sql: values[i] as string, type: c.type, expr: star.expr })}}`,
  );
  if (entries.length === 0) return `CAST('{}' AS JSON)`;
  const list = `[${entries.join(', ')}]`;
  if (!ignore) return objectFromEntries(list, names);
  const e = names.fresh();
  const keep = `list_filter(${list}, ${e} -> NOT ${ignore.sql} OR (${e}.value IS NOT NULL AND json_type(${e}.value) <> 'NULL' AND CAST(${e}.value AS VARCHAR) <> '""'))`;
  return objectFromEntries(keep, names);
};

/** `zip(a1, a2, ...)`: arrays of the i-th elements, padded with null to the longest array. */
const zip: Template = (args) => {
  const names = new Names(...texts(args));
  return bindAll(
    names,
    args.map((a) => elems(dyn(a))),
    (ls) => {
      const i = names.fresh();
      const anyNull = ls.map((l) => `${l} IS NULL`).join(' OR ');
      const longest = `greatest(${ls.map((l) => `len(${l})`).join(', ')})`;
      return toArray(
        `CASE WHEN ${anyNull} THEN NULL ELSE list_transform(range(1, ${longest} + 1), ${i} -> to_json([${ls.map((l) => `${l}[${i}]`).join(', ')}]::JSON[])) END`,
      );
    },
  );
};

/** `repeat(value, count)`: null for a negative count. */
const repeat: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const value = dyn(arg(args, 0, ctx));
  const count = arg(args, 1, ctx).sql;
  return bindAll(names, [value, count], ([v, n]) => {
    const i = names.fresh();
    return toArray(
      `CASE WHEN ${n} < 0 THEN NULL ELSE list_transform(range(least(${n}, ${MAX_ARRAY})), ${i} -> ${v}) END`,
    );
  });
};

/** `range(start, stop [, step])`: numbers, datetimes or timespans; at most 2^20 elements. */
const rangeFn: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const start = arg(args, 0, ctx);
  const stop = arg(args, 1, ctx);
  const step = args[2];
  const i = names.fresh();
  // The number of elements (capped), from DOUBLE bounds; null for a zero, null or non-finite step or bound.
  const count = (s: string, e: string, st: string) =>
    `(CASE WHEN ${st} IS NULL OR ${st} = 0 OR ${s} IS NULL OR ${e} IS NULL OR NOT isfinite(${s}) OR NOT isfinite(${e}) OR NOT isfinite(${st}) THEN NULL WHEN (${e} - ${s}) / ${st} < 0 THEN 0 ELSE CAST(least(floor((${e} - ${s}) / ${st}) + 1, ${MAX_ARRAY}) AS BIGINT) END)`;
  const asDouble = (x: string) => `CAST(${x} AS DOUBLE)`;
  if (start.type === 'datetime' || start.type === 'timespan') {
    const tick = (a: SqlArg) =>
      a.type === 'datetime' ? `(epoch_us(${a.sql}) * 10)` : a.type === 'timespan' ? a.sql : `CAST(${a.sql} AS BIGINT)`;
    const st = step ? tick(step) : '36000000000';
    return bindAll(names, [tick(start), tick(stop), st], ([s, e, k]) =>
      bind(names, count(asDouble(s), asDouble(e), asDouble(k)), (n) => {
        const value = `${s} + ${i} * ${k}`;
        const text =
          start.type === 'datetime'
            ? `strftime(make_timestamp((${value}) // 10), '%Y-%m-%dT%H:%M:%S.%f') || '0Z'`
            : timespanText(value);
        return `(CASE WHEN ${n} IS NULL THEN NULL ELSE CAST(to_json(list_transform(range(${n}), ${i} -> ${text})) AS JSON) END)`;
      }),
    );
  }
  // Numbers: one list built and converted at once (no per-element JSON), reals keep their fraction (`1.0`).
  const isReal = [start, stop, step].some((a) => a && (a.type === 'real' || a.type === 'decimal'));
  const num = (a: SqlArg) => (isReal ? `CAST(${a.sql} AS DOUBLE)` : `CAST(${a.sql} AS BIGINT)`);
  // Longs count exactly (HUGEINT): DOUBLE bounds near 2^63 would collapse.
  const longCount = (s: string, e: string, k: string) =>
    `(CASE WHEN ${k} IS NULL OR ${k} = 0 OR ${s} IS NULL OR ${e} IS NULL THEN NULL WHEN (CAST(${e} AS HUGEINT) - ${s}) * sign(${k}) < 0 THEN 0 ELSE CAST(least((CAST(${e} AS HUGEINT) - ${s}) // ${k} + 1, ${MAX_ARRAY}) AS BIGINT) END)`;
  return bindAll(names, [num(start), num(stop), step ? num(step) : isReal ? '1.0' : '1'], ([s, e, k]) =>
    bind(names, isReal ? count(s, e, k) : longCount(s, e, k), (n) => {
      const list = isReal
        ? `list_transform(range(${n}), ${i} -> ${s} + ${i} * ${k})`
        : `generate_series(${s}, CAST(CAST(${s} AS HUGEINT) + (${n} - 1) * ${k} AS BIGINT), ${k})`;
      return `(CASE WHEN ${n} IS NULL THEN NULL WHEN ${n} = 0 THEN '[]'::JSON ELSE CAST(to_json(${list}) AS JSON) END)`;
    }),
  );
};

// ───────────────────────────── property bags ─────────────────────────────

const bagKeys: Template = (args, ctx) => {
  const a = dyn(arg(args, 0, ctx));
  const k = new Names(a).fresh();
  return `(CASE WHEN json_type(${a}) = 'OBJECT' THEN ${toArray(`list_transform(json_keys(${a}), ${k} -> to_json(${k}))`)} END)`;
};

/** `bag_has_key(bag, key)`: the key may be a JSONPath (`$.a.b`, `$['a']`). */
const bagHasKey: Template = (args, ctx) => {
  const bag = dyn(arg(args, 0, ctx));
  const key = arg(args, 1, ctx);
  const lit = literalString(key);
  if (lit !== null) {
    const steps = parseJsonPath(lit, true);
    if (!steps || steps.length === 0) return 'false';
    const parent = jsonAt(bag, steps.slice(0, -1));
    const lastKey = steps[steps.length - 1];
    if (typeof lastKey !== 'string') return 'false';
    return `COALESCE(list_contains(map_keys(${bagMap(parent)}), ${sqlString(lastKey)}), false)`;
  }
  return `COALESCE(list_contains(map_keys(${bagMap(bag)}), ${runtimeTopKey(asString(key))}), false)`;
};

/** `bag_merge(b1, ..., bN)`: the first bag holding a key gives its value; non-bags are ignored. */
const bagMerge: Template = (args) => {
  const names = new Names(...texts(args));
  const all = `flatten([${args.map((a) => `COALESCE(map_entries(${bagMap(dyn(a))}), [])`).join(', ')}])`;
  return bind(names, all, (es) => {
    const e = names.fresh();
    const i = names.fresh();
    const k = names.fresh();
    const keys = `list_transform(${es}, ${k} -> ${k}.key)`;
    return bind(names, keys, (ks) =>
      objectFromEntries(`list_filter(${es}, (${e}, ${i}) -> list_position(${ks}, ${e}.key) = ${i})`, names),
    );
  });
};

/** The bag with the key at `steps` removed (literal path), recursing into nested bags. */
function removePath(bag: string, steps: readonly string[], names: Names): string {
  const [head, ...rest] = steps;
  if (head === undefined) return bag;
  const e = names.fresh();
  if (rest.length === 0) {
    return `(CASE WHEN json_type(${bag}) = 'OBJECT' THEN ${objectFromEntries(`list_filter(map_entries(${bagMap(bag)}), ${e} -> ${e}.key <> ${sqlString(head)})`, names)} ELSE ${bag} END)`;
  }
  const inner = removePath(`${e}.value`, rest, names);
  return `(CASE WHEN json_type(${bag}) = 'OBJECT' THEN ${objectFromEntries(`list_transform(map_entries(${bagMap(bag)}), ${e} -> CASE WHEN ${e}.key = ${sqlString(head)} THEN {'key': ${e}.key, 'value': ${inner}} ELSE ${e} END)`, names)} ELSE ${bag} END)`;
}

/** `bag_remove_keys(bag, keys)`: keys are top-level names or JSONPaths (nested paths need a literal array). */
const bagRemoveKeys: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const bag = dyn(arg(args, 0, ctx));
  const keys = arg(args, 1, ctx);
  const lit = keys.literal?.value;
  if (Array.isArray(lit) && lit.every((k) => typeof k === 'string')) {
    const paths = (lit as string[]).map((k) => parseJsonPath(k, true));
    if (paths.some((p) => p === null || p.some((s) => typeof s === 'number'))) {
      return ctx.unsupported('bag_remove_keys() with an array index in a key path');
    }
    return bind(names, bag, (b) => {
      let sql = `(CASE WHEN json_type(${b}) = 'OBJECT' THEN ${b} END)`;
      for (const p of paths as string[][]) sql = removePath(sql, p, names);
      return sql;
    });
  }
  return bindAll(names, [bag, elemsOrEmpty(dyn(keys))], ([b, ks]) => {
    const e = names.fresh();
    const k = names.fresh();
    const drop = `list_transform(${ks}, ${k} -> ${runtimeTopKey(`(${k} ->> '$')`)})`;
    return bind(names, drop, (d) =>
      objectFromEntries(`list_filter(map_entries(${bagMap(b)}), ${e} -> NOT list_contains(${d}, ${e}.key))`, names),
    );
  });
};

/** The bag with `value` set at `steps` (creating intermediate bags; a non-bag on the way is replaced). */
function setPath(bag: string, steps: readonly string[], value: string, names: Names): string {
  const [head, ...rest] = steps;
  if (head === undefined) return value;
  const m = bagMap(bag);
  const e = names.fresh();
  const k = sqlString(head);
  const child = rest.length === 0 ? value : setPath(`COALESCE(${m}[${k}], '{}'::JSON)`, rest, value, names);
  const entries = `COALESCE(map_entries(${m}), [])`;
  return objectFromEntries(
    `(CASE WHEN list_contains(map_keys(${m}), ${k}) THEN list_transform(${entries}, ${e} -> CASE WHEN ${e}.key = ${k} THEN {'key': ${e}.key, 'value': ${child}} ELSE ${e} END) ELSE list_append(${entries}, {'key': ${k}, 'value': ${child}}) END)`,
    names,
  );
}

/** `bag_set_key(bag, key, value)`: key is a top-level name or a JSONPath; null when bag is not a bag. */
const bagSetKey: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  const bag = dyn(arg(args, 0, ctx));
  const key = arg(args, 1, ctx);
  const value = dyn(arg(args, 2, ctx));
  const lit = literalString(key);
  let steps: string[];
  if (lit !== null) {
    const p = parseJsonPath(lit, true);
    if (!p || p.length === 0 || p.some((s) => typeof s === 'number')) {
      return ctx.unsupported('bag_set_key() with this key path');
    }
    steps = p as string[];
    return bindAll(
      names,
      [bag, value],
      ([b, v]) => `(CASE WHEN json_type(${b}) = 'OBJECT' THEN ${setPath(b as string, steps, v as string, names)} END)`,
    );
  }
  return bindAll(names, [bag, value, runtimeTopKey(asString(key))], ([b, v, k]) => {
    const e = names.fresh();
    const m = bagMap(b as string);
    return `(CASE WHEN json_type(${b}) = 'OBJECT' THEN ${objectFromEntries(
      `(CASE WHEN list_contains(map_keys(${m}), ${k}) THEN list_transform(map_entries(${m}), ${e} -> CASE WHEN ${e}.key = ${k} THEN {'key': ${e}.key, 'value': ${v}} ELSE ${e} END) ELSE list_append(map_entries(${m}), {'key': ${k}, 'value': ${v}}) END)`,
      names,
    )} END)`;
  });
};

/** `bag_zip(keys, values)`: string keys only; missing values are null; null when keys is not an array. */
const bagZip: Template = (args, ctx) => {
  const names = new Names(...texts(args));
  return bindAll(names, [elems(dyn(arg(args, 0, ctx))), elemsOrEmpty(dyn(arg(args, 1, ctx)))], ([ks, vs]) => {
    const e = names.fresh();
    const i = names.fresh();
    const entries = `list_filter(list_transform(${ks}, (${e}, ${i}) -> CASE WHEN json_type(${e}) = 'VARCHAR' THEN {'key': ${e} ->> '$', 'value': ${vs}[${i}]} END), ${e} -> ${e} IS NOT NULL)`;
    return `(CASE WHEN ${ks} IS NULL THEN NULL ELSE ${objectFromEntries(entries, names)} END)`;
  });
};

// ───────────────────────────── JSON text, paths and types ─────────────────────────────

/**
 * `todynamic()`/`parse_json()`: JSON text parses, an empty (or blank) string is null, any other text stays a
 * dynamic string; typed values become their JSON form.
 */
const toDynamic: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  if (a.type === 'dynamic' || a.type === 'unknown') return dyn(a);
  if (a.type !== 'string') return asJson(a);
  const names = new Names(a.sql);
  return bind(
    names,
    a.sql,
    (v) => `(CASE WHEN trim(${v}) = '' THEN NULL WHEN json_valid(${v}) THEN CAST(${v} AS JSON) ELSE to_json(${v}) END)`,
  );
};

/**
 * The nodes of a JSON value (DuckDB's json_tree) with their Kusto paths, built top-down by a recursive CTE: `kp` is
 * the treepath() text (`['a'][0]`), `o` a sort key that orders bag keys by name and array elements by position.
 * (json_tree's own `fullkey` does not quote keys, so it cannot be parsed back.)
 */
function treeNodes(x: string): string {
  const isElement = `t.fullkey = t.path || '[' || t.key || ']'`;
  const kp = `p.kp || (CASE WHEN ${isElement} THEN '[0]' ELSE '[''' || t.key || ''']' END)`;
  const o = `list_append(p.o, {'k': 0, 's': CASE WHEN ${isElement} THEN lpad(t.key, 20, '0') ELSE t.key END})`;
  return `WITH RECURSIVE t AS (SELECT id, parent, key, value, type, fullkey, path FROM json_tree(${x})), p(id, kp, o) AS (SELECT id, '', []::STRUCT(k INTEGER, s VARCHAR)[] FROM t WHERE parent IS NULL UNION ALL SELECT t.id, ${kp}, ${o} FROM t JOIN p ON t.parent = p.id)`;
}

/** `dynamic_to_json(x)`: JSON text with the keys of every bag sorted (typed scalars: tostring()). */
const dynamicToJson: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  if (a.type !== 'dynamic') return asString(a);
  // Tokens in preorder with bag keys sorted; a container also emits its closing token, sorted after its children.
  const nodes = `SELECT t.type, t.key, t.value, t.parent, p.o, par.type AS ptype, row_number() OVER (PARTITION BY t.parent ORDER BY p.o) AS rn FROM t JOIN p ON t.id = p.id LEFT JOIN t AS par ON par.id = t.parent`;
  const open = `(CASE WHEN rn > 1 AND parent IS NOT NULL THEN ',' ELSE '' END) || (CASE WHEN ptype = 'OBJECT' THEN CAST(to_json(key) AS VARCHAR) || ':' ELSE '' END) || (CASE type WHEN 'OBJECT' THEN '{' WHEN 'ARRAY' THEN '[' ELSE CAST(json(value) AS VARCHAR) END)`;
  const close = `CASE type WHEN 'OBJECT' THEN '}' ELSE ']' END`;
  return `COALESCE((${treeNodes(a.sql)}, n AS (${nodes}), tok(o, s) AS (SELECT o, ${open} FROM n UNION ALL SELECT list_append(o, {'k': 1, 's': ''}), ${close} FROM n WHERE type IN ('OBJECT', 'ARRAY')) SELECT string_agg(s, '' ORDER BY o) FROM tok), '')`;
};

/** `treepath(x)`: the distinct paths of all nodes (array elements merge under `[0]`), in preorder. */
const treepath: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  if (a.type !== 'dynamic') return 'CAST(NULL AS JSON)';
  return `(CASE WHEN ${a.sql} IS NULL THEN NULL ELSE COALESCE((${treeNodes(a.sql)}, d AS (SELECT kp, min(id) AS first FROM p WHERE kp <> '' GROUP BY kp) SELECT CAST(to_json(list(kp ORDER BY first)) AS JSON) FROM d), '[]'::JSON) END)`;
};

/** gettype(): typed arguments by their KQL type; dynamic values by their JSON kind (Kusto calls a dynamic real 'double'). */
const gettype: Template = (args, ctx) => {
  const a = arg(args, 0, ctx);
  if (a.type !== 'dynamic') return sqlString(a.type === 'unknown' ? 'null' : a.type);
  return `(CASE json_type(${a.sql}) WHEN 'ARRAY' THEN 'array' WHEN 'OBJECT' THEN 'dictionary' WHEN 'VARCHAR' THEN 'string' WHEN 'BIGINT' THEN 'long' WHEN 'UBIGINT' THEN 'long' WHEN 'DOUBLE' THEN 'double' WHEN 'BOOLEAN' THEN 'bool' ELSE 'null' END)`;
};

/** The JSON value at a literal Kusto JSONPath inside a string or dynamic value; null for an invalid path. */
function extractAt(path: SqlArg, source: SqlArg): string {
  const json =
    source.type === 'dynamic'
      ? source.sql
      : `(CASE WHEN json_valid(${asString(source)}) THEN CAST(${asString(source)} AS JSON) END)`;
  const lit = literalString(path);
  if (lit !== null) {
    const steps = parseJsonPath(lit.trim());
    return steps === null ? 'CAST(NULL AS JSON)' : jsonAt(json, steps);
  }
  // A computed path: only the forms DuckDB reads the same way as Kusto are used; others give null.
  const p = asString(path);
  return `json_extract(${json}, CASE WHEN regexp_full_match(${p}, '\\$((\\.[A-Za-z_][A-Za-z0-9_]*)|(\\[[0-9]+\\]))*') THEN ${p} END)`;
}

/** `extract_json(path, text [, typeof(T)])`: a string unless a type is given. */
const extractJson: Template = (args, ctx) => {
  const v = extractAt(arg(args, 0, ctx), arg(args, 1, ctx));
  const t = args[2] ? literalString(args[2]) : null;
  if (t && t !== 'string') return convertDynamic(v, t as ColumnType);
  return `COALESCE(${v} ->> '$', '')`;
};

export const DYNAMIC_FUNCTIONS: Readonly<Record<string, Template>> = tupleSafe({
  // conversions
  todynamic: toDynamic,
  toobject: toDynamic,
  parse_json: toDynamic,
  // arrays
  array_length: arrayLength,
  array_concat: arrayConcat,
  array_iff: arrayIff,
  array_iif: arrayIff,
  array_index_of: arrayIndexOf,
  array_reverse: arrayReverse,
  array_rotate_left: (args, ctx) => rotate(args, ctx, 1),
  array_rotate_right: (args, ctx) => rotate(args, ctx, -1),
  array_shift_left: (args, ctx) => shift(args, ctx, 1),
  array_shift_right: (args, ctx) => shift(args, ctx, -1),
  array_slice: arraySlice,
  array_sort_asc: arraySort(false),
  array_sort_desc: arraySort(true),
  array_split: arraySplit,
  array_sum: arraySum,
  array_strcat: strcatArray,
  strcat_array: strcatArray,
  // sets
  set_union: setUnion,
  set_intersect: setIntersect,
  set_difference: setDifference,
  set_has_element: setHasElement,
  set_equals: setEquals,
  jaccard_index: jaccardIndex,
  // builders
  pack_array: packArray,
  bag_pack: bagPack,
  pack: bagPack,
  pack_dictionary: bagPack,
  bag_pack_columns: bagPackColumns,
  pack_all: packAll,
  zip,
  repeat,
  range: rangeFn,
  // property bags
  bag_keys: bagKeys,
  bag_has_key: bagHasKey,
  bag_merge: bagMerge,
  bag_remove_keys: bagRemoveKeys,
  bag_set_key: bagSetKey,
  bag_zip: bagZip,
  // JSON text, paths, types
  dynamic_to_json: dynamicToJson,
  treepath,
  gettype,
  extract_json: extractJson,
  extractjson: extractJson,
});
