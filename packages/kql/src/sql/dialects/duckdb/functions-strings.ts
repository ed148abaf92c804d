/**
 * KQL string and regex functions in DuckDB (see functions.ts for the conventions). Kusto's regexes are RE2 with
 * Unicode-aware classes (`translateRegex`); positions are 0-based character offsets; a function that finds nothing
 * returns '' (or -1 for positions), never null, unless Kusto documents null.
 */
import type { ColumnType } from '../../../binder/types.js';
import type { SqlArg, Template } from '../../dialect.js';
import {
  arg,
  asString,
  captureGroups,
  jsonArrayStrings,
  jsonElements,
  literalNumber,
  literalString,
  regexArg,
  sqlString,
  translateRegex,
  withValue,
  withValues,
} from './base.js';
import { convertTo } from './functions.js';

function s(a: SqlArg): string {
  return asString(a);
}

/** A string result that must not be null. */
function nn(sql: string): string {
  return `COALESCE(${sql}, '')`;
}

/** A string SQL expression as a compiled argument (to feed the conversion helpers). */
function stringArg(sql: string, from: SqlArg): SqlArg {
  return { sql, type: 'string', expr: from.expr };
}

function int(a: SqlArg): string {
  return a.type === 'int' || a.type === 'long' ? `CAST(${a.sql} AS BIGINT)` : `TRY_CAST(${a.sql} AS BIGINT)`;
}

const substring: Template = (args, ctx) => {
  const str = s(arg(args, 0, ctx));
  const start = int(arg(args, 1, ctx));
  const len = args[2];
  // KQL is 0-based; a negative start counts from the end (before the first character: ''); a negative length
  // gives ''.
  return withValues([str, start], ([t, st]) => {
    const from = `(CASE WHEN ${st} < 0 THEN length(${t}) + ${st} ELSE ${st} END)`;
    const cut = len ? `substr(${t}, ${from} + 1, greatest(${int(len)}, 0))` : `substr(${t}, ${from} + 1)`;
    return nn(`CASE WHEN ${from} < 0 THEN '' ELSE ${cut} END`);
  });
};

/** `extract(regex, group, text [, typeof(T)])`: the group of the first match; '' (typed: null) when none. */
const extract: Template = (args, ctx) => {
  const re = regexArg(arg(args, 0, ctx));
  const group = literalNumber(arg(args, 1, ctx));
  if (group === null || !Number.isInteger(group) || group < 0)
    return ctx.unsupported('extract() with a computed capture group');
  const text = s(arg(args, 2, ctx));
  // DuckDB's regexp_extract takes group numbers 0-9 only; later groups are read by name from the struct form.
  const pick = (t: string) =>
    group <= 9
      ? `regexp_extract(${t}, ${re}, ${group})`
      : `struct_extract(regexp_extract(${t}, ${re}, [${Array.from({ length: group }, (_, i) => `'g${i + 1}'`).join(', ')}]), 'g${group}')`;
  const type = args[3] ? literalString(args[3]) : null;
  // No match and an empty group both give '' (and '' converts to null), so the match test is only needed for
  // dynamic results; skipping it halves the regex work.
  if (type === 'dynamic') {
    const found = withValue(text, (t) => `(CASE WHEN regexp_matches(${t}, ${re}) THEN ${pick(t)} END)`);
    return convertTo(stringArg(found, args[2] as SqlArg), 'dynamic', ctx);
  }
  const found = pick(text);
  if (type && type !== 'string') return convertTo(stringArg(found, args[2] as SqlArg), type as ColumnType, ctx);
  return nn(found);
};

/**
 * `extract_all(regex, [groups,] text)`: a list of the single group's values, or of lists of the groups' values; the
 * whole match when the pattern has no group; null when nothing matches.
 */
const extractAll: Template = (args, ctx) => {
  const reArg = arg(args, 0, ctx);
  const re = regexArg(reArg);
  const text = s(arg(args, args.length - 1, ctx));
  const pattern = literalString(reArg);
  const names = pattern !== null ? captureGroups(pattern) : null;
  let groups: number[];
  if (args.length === 3) {
    const sel = (args[1] as SqlArg).literal?.value;
    if (!Array.isArray(sel)) return ctx.unsupported('extract_all() with computed capture groups');
    groups = [];
    for (const g of sel) {
      if (typeof g === 'number' && Number.isInteger(g) && g >= 0) groups.push(g);
      else if (typeof g === 'string' && names?.includes(g)) groups.push(names.indexOf(g) + 1);
      else return ctx.unsupported(`extract_all() capture group ${JSON.stringify(g)}`);
    }
  } else {
    if (names === null) return ctx.unsupported('extract_all() with a computed pattern');
    groups = names.length === 0 ? [0] : names.map((_, i) => i + 1);
  }
  return withValue(text, (t) => {
    const lists = groups.map((g) => `regexp_extract_all(${t}, ${re}, ${g})`);
    const value =
      groups.length === 1 && args.length !== 3
        ? (lists[0] as string)
        : `list_transform(range(1, len(${lists[0]}) + 1), lambda __i: [${lists.map((l) => `${l}[__i]`).join(', ')}])`;
    return `(CASE WHEN regexp_matches(${t}, ${re}) THEN to_json(${value}) END)`;
  });
};

const split: Template = (args, ctx) => {
  const str = s(arg(args, 0, ctx));
  const sep = s(arg(args, 1, ctx));
  const idx = args[2];
  const parts = `string_split(${str}, ${sep})`;
  if (!idx) return `to_json(${parts})`;
  return withValues(
    [parts, int(idx)],
    ([p, i]) => `to_json(CASE WHEN ${i} >= 0 AND ${i} < len(${p}) THEN [${p}[${i} + 1]] ELSE []::VARCHAR[] END)`,
  );
};

/** `trim*(regex, text)`: one match of the regex anchored at the start and/or the end is removed. */
const trimTemplate =
  (side: 'both' | 'start' | 'end'): Template =>
  (args, ctx) => {
    const reArg = arg(args, 0, ctx);
    const lit = literalString(reArg);
    const re = lit !== null ? null : regexArg(reArg);
    const lead = lit !== null ? sqlString(`^(?:${translateRegex(lit)})`) : `'^(?:' || ${re} || ')'`;
    const trail = lit !== null ? sqlString(`(?:${translateRegex(lit)})$`) : `'(?:' || ${re} || ')$'`;
    const text = s(arg(args, 1, ctx));
    if (side === 'start') return nn(`regexp_replace(${text}, ${lead}, '')`);
    if (side === 'end') return nn(`regexp_replace(${text}, ${trail}, '')`);
    return nn(`regexp_replace(regexp_replace(${text}, ${lead}, ''), ${trail}, '')`);
  };

/**
 * `indexof(text, lookup [, start [, length [, occurrence]]])`: the 0-based index of the n-th (overlapping)
 * occurrence within `length` characters from `start` (negative start counts from the end); -1 when not found;
 * null when start, length or occurrence is out of range.
 */
const indexof: Template = (args, ctx) => {
  const str = s(arg(args, 0, ctx));
  const lookup = s(arg(args, 1, ctx));
  // An empty lookup gives null (recorded Kusto results).
  if (args.length === 2)
    return withValue(lookup, (l) => `(CASE WHEN ${l} = '' THEN NULL ELSE strpos(${str}, ${l}) - 1 END)`);
  const start = int(arg(args, 2, ctx));
  const length = args[3] ? int(args[3]) : '-1';
  const occurrence = args[4] ? int(args[4]) : '1';
  return withValues([str, lookup, start, length, occurrence], ([t, l, st0, len, occ]) => {
    const st = `(CASE WHEN ${st0} < 0 THEN greatest(length(${t}) + ${st0}, 0) ELSE ${st0} END)`;
    // Each further occurrence is searched from just after the previous one, with a fresh window of `length`.
    const win = (from: string) =>
      `(CASE WHEN ${len} = -1 THEN substr(${t}, ${from} + 1) ELSE substr(${t}, ${from} + 1, ${len}) END)`;
    const step = `lambda __acc, __k: CASE WHEN __acc = -2 THEN -2 WHEN strpos(${win('__acc + 1')}, ${l}) = 0 THEN -2 ELSE __acc + strpos(${win('__acc + 1')}, ${l}) END`;
    const found = `list_reduce(range(${occ}), ${step}, ${st} - 1)`;
    return `(CASE WHEN ${occ} < 0 OR ${len} < -1 OR ${st0} > length(${t}) OR ${l} = '' THEN NULL WHEN ${occ} = 0 THEN -1 ELSE greatest(${found}, -1) END)`;
  });
};

/** `indexof_regex(text, regex [, start [, length [, occurrence]]])` with a literal occurrence. */
const indexofRegex: Template = (args, ctx) => {
  const str = s(arg(args, 0, ctx));
  const lit = literalString(arg(args, 1, ctx));
  if (lit === null) return ctx.unsupported('indexof_regex() with a computed pattern');
  const occurrence = args[4] ? literalNumber(args[4]) : 1;
  if (occurrence === null || !Number.isInteger(occurrence))
    return ctx.unsupported('indexof_regex() with a computed occurrence');
  const start = args[2] ? int(args[2]) : '0';
  const length = args[3] ? int(args[3]) : '-1';
  if (occurrence < 0) return 'CAST(NULL AS BIGINT)';
  if (occurrence === 0) return 'CAST(-1 AS BIGINT)';
  const re = translateRegex(lit);
  const prefix = sqlString(`^(?s)((?:.*?(?:${re})){${occurrence - 1}}.*?)(?:${re})`);
  return withValues([str, start, length], ([t, st0, len]) => {
    const st = `(CASE WHEN ${st0} < 0 THEN greatest(length(${t}) + ${st0}, 0) ELSE ${st0} END)`;
    const win = `(CASE WHEN ${len} = -1 THEN substr(${t}, ${st} + 1) ELSE substr(${t}, ${st} + 1, ${len}) END)`;
    return withValue(
      win,
      (w) =>
        `(CASE WHEN ${len} < -1 OR ${st0} > length(${t}) THEN NULL WHEN regexp_matches(${w}, ${prefix}) THEN ${st} + length(regexp_extract(${w}, ${prefix}, 1)) ELSE -1 END)`,
    );
  });
};

/** Whether a needle overlaps itself (a proper prefix that is also a suffix: `aa`, `aba`). */
function selfOverlapping(n: string): boolean {
  for (let k = 1; k < n.length; k++) if (n.slice(0, k) === n.slice(n.length - k)) return true;
  return false;
}

/** `countof(text, search [, 'normal'|'regex'])`: plain occurrences may overlap (`countof('aaaa','aa') == 3`). */
const countof: Template = (args, ctx) => {
  const text = s(arg(args, 0, ctx));
  const searchArg = arg(args, 1, ctx);
  const kind = args[2] ? literalString(args[2]) : 'normal';
  if (kind === null) return ctx.unsupported('countof() with a computed kind');
  if (kind === 'regex') return `CAST(len(regexp_extract_all(${text}, ${regexArg(searchArg)})) AS BIGINT)`;
  const lit = literalString(searchArg);
  if (lit !== null && !selfOverlapping(lit)) {
    if (lit === '') return 'CAST(0 AS BIGINT)';
    return withValue(
      text,
      (t) => `CAST((length(${t}) - length(replace(${t}, ${sqlString(lit)}, ''))) // ${lit.length} AS BIGINT)`,
    );
  }
  return withValues(
    [text, s(searchArg)],
    ([t, n]) =>
      `CAST(CASE WHEN length(${n}) = 0 THEN 0 ELSE len(list_filter(range(length(${t}) - length(${n}) + 1), lambda __i: substr(${t}, __i + 1, length(${n})) = ${n})) END AS BIGINT)`,
  );
};

const strrep: Template = (args, ctx) => {
  const v = s(arg(args, 0, ctx));
  const n = int(arg(args, 1, ctx));
  const d = args[2] ? s(args[2]) : "''";
  return nn(`array_to_string(list_transform(range(least(greatest(${n}, 0), 1024)), lambda __i: ${v}), ${d})`);
};

/** `translate(searchList, replacementList, text)`: a shorter replacement list repeats its last character. */
const translateFn: Template = (args, ctx) => {
  const from = s(arg(args, 0, ctx));
  const to = s(arg(args, 1, ctx));
  const text = s(arg(args, 2, ctx));
  const fromLit = literalString(args[0]);
  const toLit = literalString(args[1]);
  if (fromLit !== null && toLit !== null) {
    const padded = toLit === '' ? '' : toLit.padEnd(fromLit.length, toLit[toLit.length - 1]);
    return nn(`translate(${text}, ${sqlString(fromLit)}, ${sqlString(padded)})`);
  }
  return withValues([from, to], ([f, t]) =>
    nn(
      `translate(${text}, ${f}, CASE WHEN ${t} = '' THEN '' ELSE rpad(${t}, greatest(length(${f}), length(${t})), right(${t}, 1)) END)`,
    ),
  );
};

/** `replace_strings(text, lookups, rewrites)`: earlier lookups win; replaced text is not searched again. */
const replaceStrings: Template = (args, ctx) => {
  const text = s(arg(args, 0, ctx));
  const lookups = arg(args, 1, ctx);
  const rewrites = arg(args, 2, ctx);
  // Each lookup is first replaced by a private-use marker so that later lookups cannot match inside it.
  const marker = (i: string) => `chr(CAST(983040 + ${i} AS INTEGER))`;
  return withValues([jsonArrayStrings(lookups.sql), jsonElements(rewrites.sql)], ([ls, rs]) => {
    // list_reduce needs the accumulator and the elements to share a type: the indexes travel as strings.
    const idx = `list_transform(range(len(${ls})), lambda __j: CAST(__j AS VARCHAR))`;
    const i = 'CAST(__i AS BIGINT)';
    const marked = `list_reduce(${idx}, lambda __acc, __i: CASE WHEN ${ls}[${i} + 1] = '' THEN __acc ELSE replace(__acc, ${ls}[${i} + 1], ${marker(i)}) END, ${text})`;
    const rewrite = `(CASE WHEN json_type(${rs}[${i} + 1]) = 'VARCHAR' THEN ${rs}[${i} + 1] ->> '$' WHEN ${i} < len(${rs}) THEN ${ls}[${i} + 1] ELSE '' END)`;
    return nn(
      `CASE WHEN len(${ls}) = 0 THEN ${text} ELSE list_reduce(${idx}, lambda __acc, __i: replace(__acc, ${marker(i)}, ${rewrite}), ${marked}) END`,
    );
  });
};

/** `has_any_index(text, values)`: the index of the first value that `text` has as a term; -1 when none. */
const hasAnyIndex: Template = (args, ctx) => {
  const text = s(arg(args, 0, ctx));
  const values = arg(args, 1, ctx);
  const boundary = (side: 'l' | 'r', t: string) =>
    side === 'l'
      ? `CASE WHEN regexp_matches(${t}, '^[0-9A-Za-z]') THEN '(?:^|[^0-9A-Za-z])' ELSE '' END`
      : `CASE WHEN regexp_matches(${t}, '[0-9A-Za-z]$') THEN '(?:$|[^0-9A-Za-z])' ELSE '' END`;
  return withValue(
    text,
    (h) =>
      `COALESCE(CAST(list_position(list_transform(${jsonArrayStrings(values.sql)}, lambda __t: __t <> '' AND regexp_matches(${h}, '(?i)' || ${boundary('l', '__t')} || regexp_escape(__t) || ${boundary('r', '__t')})), true) AS BIGINT) - 1, -1)`,
  );
};

/** .NET's Regex.Escape: metacharacters and white space are escaped (`]` and `}` are not). */
const regexQuote: Template = (args, ctx) => {
  const text = s(arg(args, 0, ctx));
  return nn(
    `replace(replace(replace(replace(replace(regexp_replace(${text}, '([\\\\*+?|{\\[()^$.# ])', '\\\\\\1', 'g'), chr(9), '\\t'), chr(10), '\\n'), chr(13), '\\r'), chr(12), '\\f'), chr(11), '\\v')`,
  );
};

/** `parse_command_line(text, 'windows')`: the arguments by CommandLineToArgvW's quoting and backslash rules. */
const parseCommandLine: Template = (args, ctx) => {
  const text = s(arg(args, 0, ctx));
  const parser = args[1] ? literalString(args[1]) : 'windows';
  if (parser?.toLowerCase() !== 'windows')
    return ctx.unsupported(`parse_command_line() parser ${JSON.stringify(parser)}`);
  // A character-by-character state machine: args so far, the current argument, in-quotes, pending backslashes,
  // started. list_reduce needs elements of the accumulator's type, so each character travels in field `c`.
  const state = (a: string, c: string, q: string, b: string, st: string) =>
    `{'a': ${a}, 'c': ${c}, 'q': ${q}, 'b': ${b}, 's': ${st}}`;
  const init = state('[]::VARCHAR[]', "''", 'false', '0', 'false');
  const chars = `list_transform(string_split(${text}, ''), lambda __ch: ${state('[]::VARCHAR[]', '__ch', 'false', '0', 'false')})`;
  const ch = '__x.c';
  const step = `lambda __st, __x: CASE
    WHEN ${ch} = '\\' THEN ${state('__st.a', '__st.c', '__st.q', '__st.b + 1', 'true')}
    WHEN ${ch} = '"' THEN ${state('__st.a', `__st.c || repeat('\\', __st.b // 2) || (CASE WHEN __st.b % 2 = 1 THEN '"' ELSE '' END)`, 'CASE WHEN __st.b % 2 = 1 THEN __st.q ELSE NOT __st.q END', '0', 'true')}
    WHEN (${ch} = ' ' OR ${ch} = chr(9)) AND NOT __st.q THEN ${state(`CASE WHEN __st.s THEN list_append(__st.a, __st.c || repeat('\\', __st.b)) ELSE __st.a END`, "''", 'false', '0', 'false')}
    ELSE ${state('__st.a', `__st.c || repeat('\\', __st.b) || ${ch}`, '__st.q', '0', 'true')} END`;
  return withValue(
    `list_reduce(${chars}, ${step}, ${init})`,
    (st) => `to_json(CASE WHEN ${st}.s THEN list_append(${st}.a, ${st}.c || repeat('\\', ${st}.b)) ELSE ${st}.a END)`,
  );
};

/** `parse_csv(text)`: the fields of the first CSV record (quoted fields with doubled quotes). */
const parseCsv: Template = (args, ctx) => {
  const text = s(arg(args, 0, ctx));
  const fields = `regexp_extract_all(',' || ${text}, ',("(?:[^"]|"")*"|[^,"]*)', 1)`;
  return `to_json(list_transform(${fields}, lambda __f: CASE WHEN starts_with(__f, '"') THEN replace(substr(__f, 2, length(__f) - 2), '""', '"') ELSE __f END))`;
};

/** The query part of a URL as a JSON object of decoded names to decoded values. */
function queryParameters(query: string): string {
  // Built as JSON text: a subquery (json_group_object) is not allowed inside the lambdas around it.
  const pair = `to_json(url_decode(split_part(__kv, '=', 1)))::VARCHAR || ':' || to_json(url_decode(CASE WHEN strpos(__kv, '=') > 0 THEN substr(__kv, strpos(__kv, '=') + 1) ELSE '' END))::VARCHAR`;
  return `CAST('{' || COALESCE(array_to_string(list_transform(list_filter(string_split(COALESCE(${query}, ''), '&'), lambda __kv: __kv <> ''), lambda __kv: ${pair}), ','), '') || '}' AS JSON)`;
}

const parseUrl: Template = (args, ctx) => {
  const u = s(arg(args, 0, ctx));
  return withValue(
    `regexp_extract(${u}, '^([A-Za-z][A-Za-z0-9+.-]*)://(?:([^:@/]*)(?::([^@/]*))?@)?([^:/?#]*)(?::(\\d+))?([^?#]*)(?:\\?([^#]*))?(?:#(.*))?$', ['scheme','user','pass','host','port','path','query','fragment'])`,
    (m) =>
      `json_object('Scheme', ${m}.scheme, 'Host', ${m}.host, 'Port', ${m}.port, 'Path', ${m}.path, 'Username', ${m}.user, 'Password', ${m}.pass, 'Query Parameters', ${queryParameters(`${m}.query`)}, 'Fragment', ${m}.fragment)`,
  );
};

const parseUrlQuery: Template = (args, ctx) => {
  const q = s(arg(args, 0, ctx));
  return `json_object('Query Parameters', ${queryParameters(`regexp_replace(${q}, '^[?]', '')`)})`;
};

/** `parse_path(path)`: scheme, root, directory, file name, extension and alternate data stream of a file path. */
const parsePath: Template = (args, ctx) => {
  const p = s(arg(args, 0, ctx));
  return withValue(
    `regexp_extract(${p}, '^(?:([A-Za-z][A-Za-z0-9+.-]*)://)?(?:(.*)[\\\\/])?([^\\\\/]*)$', ['scheme', 'dir', 'file'])`,
    (m) =>
      withValue(
        `regexp_extract(${m}.file, '^([^:]*)(?::(.*))?$', ['name', 'ads'])`,
        (f) =>
          `json_object('Scheme', ${m}.scheme, 'RootPath', regexp_extract(${m}.dir, '^([A-Za-z]:)', 1), 'DirectoryPath', ${m}.dir, 'DirectoryName', regexp_extract(${m}.dir, '([^\\\\/]*)$', 1), 'Filename', ${f}.name, 'Extension', regexp_extract(${f}.name, '\\.([^.]*)$', 1), 'AlternateDataStreamName', ${f}.ads)`,
      ),
  );
};

const UNITS = ['Bytes', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** `format_bytes(size [, precision [, units]])`: 1024-based units, rounded to `precision` decimals. */
const formatBytes: Template = (args, ctx) => {
  const size = arg(args, 0, ctx);
  const precision = args[1] ? `CAST(${args[1].sql} AS INTEGER)` : '0';
  const unitArg = args[2] ? literalString(args[2]) : '';
  if (unitArg === null) return ctx.unsupported('format_bytes() with computed units');
  const forced = UNITS.findIndex((u) => u.toLowerCase() === unitArg.toLowerCase());
  return withValue(`CAST(${size.sql} AS DOUBLE)`, (v) => {
    const exp =
      forced >= 0
        ? String(forced)
        : `(CASE WHEN abs(${v}) < 1024 THEN 0 ELSE least(CAST(floor(log2(abs(${v})) / 10) AS INTEGER), 6) END)`;
    return withValue(exp, (e) => {
      const value = `round(${v} / pow(1024, ${e}), ${precision})`;
      const unitName = `[${UNITS.map(sqlString).join(', ')}][${e} + 1]`;
      return nn(
        `(CASE WHEN ${v} IS NULL THEN NULL ELSE regexp_replace(CAST(${value} AS VARCHAR), '\\.0$', '') || ' ' || ${unitName} END)`,
      );
    });
  });
};

const unicodeFromString: Template = (args, ctx) =>
  `to_json(list_transform(string_split(${s(arg(args, 0, ctx))}, ''), lambda __c: CAST(unicode(__c) AS BIGINT)))`;

const unicodeToString: Template = (args) => {
  const parts = args.map((a) =>
    a.type === 'dynamic'
      ? `COALESCE(array_to_string(list_transform(${jsonElements(a.sql)}, lambda __e: chr(CAST(__e ->> '$' AS INTEGER))), ''), '')`
      : `COALESCE(chr(CAST(${a.sql} AS INTEGER)), '')`,
  );
  return `(${parts.join(' || ') || "''"})`;
};

/**
 * parse_version: 1–4 dot-separated parts of at most 8 digits, missing parts 0, as the decimal
 * p1·10²⁴ + p2·10¹⁶ + p3·10⁸ + p4. Up to 32 integer digits: typed DECIMAL(38,0), not the storage DECIMAL(38,18)
 * (20 integer digits), so comparisons between versions stay exact; invalid text gives null.
 */
const parseVersion: Template = (args, ctx) =>
  withValue(s(arg(args, 0, ctx)), (v) =>
    withValue(`string_split(${v} || '.0.0.0', '.')`, (p) => {
      const part = (i: number, scale: number) =>
        `CAST(${p}[${i}] AS HUGEINT) * CAST('1${'0'.repeat(scale)}' AS HUGEINT)`;
      return `(CASE WHEN regexp_matches(${v}, '^[0-9]{1,8}(\\.[0-9]{1,8}){0,3}$') THEN CAST(${part(1, 24)} + ${part(2, 16)} + ${part(3, 8)} + ${part(4, 0)} AS DECIMAL(38,0)) END)`;
    }),
  );

/** parse_xml: a host function (packages/server/src/engine/duckdb/host-functions/xml.ts) gives the JSON text. */
const parseXml: Template = (args, ctx) => `CAST(vigil_parse_xml(${s(arg(args, 0, ctx))}) AS JSON)`;

export const STRINGS_FUNCTIONS: Readonly<Record<string, Template>> = {
  strlen: (args, ctx) => `CAST(length(${s(arg(args, 0, ctx))}) AS BIGINT)`,
  string_size: (args, ctx) => `CAST(strlen(${s(arg(args, 0, ctx))}) AS BIGINT)`,
  tolower: (args, ctx) => `lower(${s(arg(args, 0, ctx))})`,
  toupper: (args, ctx) => `upper(${s(arg(args, 0, ctx))})`,
  strcat: (args) => `(${args.map((a) => s(a)).join(' || ') || "''"})`,
  strcat_delim: (args, ctx) => {
    const [d, ...rest] = args;
    if (!d) return ctx.unsupported('strcat_delim without a delimiter');
    return withValue(s(d), (delim) => `(${rest.map((a) => s(a)).join(` || ${delim} || `) || "''"})`);
  },
  substring,
  extract,
  extract_all: extractAll,
  split,
  replace_string: (args, ctx) =>
    withValue(s(arg(args, 1, ctx)), (l) =>
      nn(
        `CASE WHEN ${l} = '' THEN ${s(arg(args, 0, ctx))} ELSE replace(${s(arg(args, 0, ctx))}, ${l}, ${s(arg(args, 2, ctx))}) END`,
      ),
    ),
  replace_regex: (args, ctx) => {
    const rewrite = arg(args, 2, ctx);
    const lit = literalString(rewrite);
    // Kusto accepts \1 and $1 group references; DuckDB only \1.
    const r =
      lit !== null
        ? sqlString(lit.replace(/\$(\d)/g, '\\$1'))
        : `regexp_replace(${s(rewrite)}, '\\$(\\d)', '\\\\\\1', 'g')`;
    return nn(`regexp_replace(${s(arg(args, 0, ctx))}, ${regexArg(arg(args, 1, ctx))}, ${r}, 'g')`);
  },
  replace_strings: replaceStrings,
  trim: trimTemplate('both'),
  trim_start: trimTemplate('start'),
  trim_end: trimTemplate('end'),
  indexof,
  indexof_regex: indexofRegex,
  countof,
  reverse: (args, ctx) => `reverse(${s(arg(args, 0, ctx))})`,
  strrep,
  strcmp: (args, ctx) =>
    withValues(
      [s(arg(args, 0, ctx)), s(arg(args, 1, ctx))],
      ([a, b]) => `(CASE WHEN ${a} < ${b} THEN -1 WHEN ${a} > ${b} THEN 1 ELSE 0 END)`,
    ),
  translate: translateFn,
  has_any_index: hasAnyIndex,
  isascii: (args, ctx) => `regexp_matches(${s(arg(args, 0, ctx))}, '^[\\x00-\\x7F]*$')`,
  // DuckDB strings are always valid UTF-8.
  isutf8: (args, ctx) => `(${s(arg(args, 0, ctx))} IS NOT NULL)`,
  regex_quote: regexQuote,
  unicode_codepoints_from_string: unicodeFromString,
  unicode_codepoints_to_string: unicodeToString,
  parse_command_line: parseCommandLine,
  parse_version: parseVersion,
  parse_xml: parseXml,
  parse_csv: parseCsv,
  parse_url: parseUrl,
  parse_urlquery: parseUrlQuery,
  parse_path: parsePath,
  format_bytes: formatBytes,
};
