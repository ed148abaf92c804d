/**
 * KQL IPv4/IPv6 functions in DuckDB (see functions.ts for the conventions). An address may carry a prefix
 * (`10.1.2.3/8`); comparisons use the smallest prefix of both sides and the optional argument. IPv4 values are
 * longs; IPv6 values are eight 16-bit groups, IPv4 addresses being mapped to `::ffff:a.b.c.d` with their prefix
 * counted from bit 96. Invalid input gives null (strings: ''), never an error.
 */
import type { SqlArg, Template } from '../../dialect.js';
import {
  arg,
  asString,
  jsonArrayStrings,
  literalString,
  regexEscape,
  sqlString,
  withValue,
  withValues,
} from './base.js';

function s(a: SqlArg): string {
  return asString(a);
}

function int(a: SqlArg): string {
  return a.type === 'int' || a.type === 'long' ? `CAST(${a.sql} AS BIGINT)` : `TRY_CAST(${a.sql} AS BIGINT)`;
}

// ───────────────────────────── IPv4 ─────────────────────────────

/** Parses `a.b.c.d[/p]`: a struct {v: BIGINT, p: BIGINT} (both null when the text is not an IPv4 address). */
function ipv4(text: string): string {
  return withValue(
    `regexp_extract(trim(${text}), '^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})(?:/(\\d{1,3}))?$', ['a','b','c','d','p'])`,
    (m) => {
      const octets = ['a', 'b', 'c', 'd'].map((k) => `CAST(NULLIF(${m}.${k}, '') AS BIGINT)`);
      const valid = `(${m}.a <> '' AND ${octets.map((o) => `${o} <= 255`).join(' AND ')} AND (${m}.p = '' OR CAST(${m}.p AS BIGINT) <= 32))`;
      return `(CASE WHEN ${valid} THEN {'v': ${octets[0]} * 16777216 + ${octets[1]} * 65536 + ${octets[2]} * 256 + ${octets[3]}, 'p': CASE WHEN ${m}.p = '' THEN 32 ELSE CAST(${m}.p AS BIGINT) END} ELSE {'v': NULL::BIGINT, 'p': NULL::BIGINT} END)`;
    },
  );
}

/** The 32-bit network mask of a prefix length (null outside 0..32). */
function mask4(p: string): string {
  return withValue(
    p,
    (v) =>
      `(CASE WHEN ${v} < 0 OR ${v} > 32 THEN NULL WHEN ${v} = 0 THEN 0 ELSE (4294967295 >> (32 - ${v})) << (32 - ${v}) END)`,
  );
}

function dotted(v: string): string {
  return withValue(
    v,
    (x) =>
      `(CAST((${x} >> 24) & 255 AS VARCHAR) || '.' || CAST((${x} >> 16) & 255 AS VARCHAR) || '.' || CAST((${x} >> 8) & 255 AS VARCHAR) || '.' || CAST(${x} & 255 AS VARCHAR))`,
  );
}

/** An IPv4 argument: a string address, or a long value (prefix 32). */
function ipv4Arg(a: SqlArg): string {
  if (a.type === 'long' || a.type === 'int')
    return withValue(
      `CAST(${a.sql} AS BIGINT)`,
      (v) =>
        `(CASE WHEN ${v} BETWEEN 0 AND 4294967295 THEN {'v': ${v}, 'p': 32::BIGINT} ELSE {'v': NULL::BIGINT, 'p': NULL::BIGINT} END)`,
    );
  return ipv4(s(a));
}

/** Two parsed addresses masked with the smallest prefix (and the optional one): a struct {a, b}. */
function masked4(x: string, y: string, prefix?: string): string {
  const p = prefix ? `least(${x}.p, ${y}.p, ${prefix})` : `least(${x}.p, ${y}.p)`;
  return withValue(mask4(p), (m) => `{'a': ${x}.v & ${m}, 'b': ${y}.v & ${m}}`);
}

function compare4(args: readonly SqlArg[], ctx: Parameters<Template>[1]): string {
  const a = ipv4Arg(arg(args, 0, ctx));
  const b = ipv4Arg(arg(args, 1, ctx));
  const p = args[2] ? int(args[2]) : undefined;
  return withValues([a, b], ([x, y]) => withValue(masked4(x, y, p), (m) => `sign(${m}.a - ${m}.b)`));
}

function inRange4(ip: string, range: string): string {
  return withValues([ipv4(ip), ipv4(range)], ([x, r]) =>
    withValue(mask4(`${r}.p`), (m) => `((${x}.v & ${m}) = (${r}.v & ${m}))`),
  );
}

/** The ranges of an `*_in_any_range` call: string arguments and the elements of dynamic arrays. */
function rangeList(args: readonly SqlArg[]): string {
  const lists = args.map((a) => (a.type === 'dynamic' ? jsonArrayStrings(a.sql) : `[${s(a)}]`));
  return lists.length === 1 ? (lists[0] as string) : `flatten([${lists.join(', ')}])`;
}

/** Term boundaries for an IP in text: no letter, digit or dot may touch it (a sentence's final dot may follow). */
const IP_LEFT = '(?:^|[^0-9A-Za-z.])';
const IP_RIGHT = '(?:$|[^0-9A-Za-z.]|\\.(?:$|[^0-9]))';

/** A pattern for an IPv4 address, or for a prefix ending in '.' (followed by the rest of an address). */
function ipPatternLiteral(ip: string, prefix: boolean): string | null {
  const t = ip.trim();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) return `${IP_LEFT}${regexEscape(t)}${IP_RIGHT}`;
  if (prefix && /^\d{1,3}(\.\d{1,3}){0,2}\.$/.test(t)) return `${IP_LEFT}${regexEscape(t)}\\d`;
  return null;
}

function hasIpv4(prefix: boolean, any: boolean): Template {
  return (args, ctx) => {
    const text = s(arg(args, 0, ctx));
    const items = args.slice(1);
    const patterns: string[] = [];
    for (const a of items) {
      const lit = literalString(a);
      if (lit !== null) {
        const p = ipPatternLiteral(lit, prefix);
        if (p) patterns.push(sqlString(p));
        continue;
      }
      const values = a.type === 'dynamic' ? jsonArrayStrings(a.sql) : `[${s(a)}]`;
      const full = `'^\\d{1,3}(\\.\\d{1,3}){3}$'`;
      const pre = `'^\\d{1,3}(\\.\\d{1,3}){0,2}\\.$'`;
      const one = `CASE WHEN regexp_matches(__ip, ${full}) THEN '${IP_LEFT}' || regexp_escape(__ip) || '${IP_RIGHT.replace(/'/g, "''")}' ${prefix ? `WHEN regexp_matches(__ip, ${pre}) THEN '${IP_LEFT}' || regexp_escape(__ip) || '\\d'` : ''} END`;
      patterns.push(`list_transform(${values}, lambda __ip: ${one})`);
    }
    if (!any && items.length !== 1) return ctx.unsupported('has_ipv4() with several addresses');
    if (patterns.length === 0) return 'false';
    return withValue(text, (t) => {
      const tests = patterns.map((p) =>
        p.startsWith('list_transform(')
          ? `COALESCE(list_bool_or(list_transform(list_filter(${p}, lambda __p: __p IS NOT NULL), lambda __p: regexp_matches(${t}, __p))), false)`
          : `regexp_matches(${t}, ${p})`,
      );
      return `(${tests.join(' OR ')})`;
    });
  };
}

// ───────────────────────────── IPv6 ─────────────────────────────

/** The 16-bit mask of group i (0-based) for a prefix length. */
function groupMask(p: string, i: string): string {
  return `(CASE WHEN ${p} - 16 * ${i} >= 16 THEN 65535 WHEN ${p} - 16 * ${i} <= 0 THEN 0 ELSE (65535 << (16 - (${p} - 16 * ${i}))) & 65535 END)`;
}

/**
 * Parses an IPv6 address (or an IPv4 one, mapped to ::ffff:a.b.c.d) with an optional prefix: a struct
 * {g: the eight groups, p: the prefix length}, both null when the text is not an address.
 */
function ipv6(text: string): string {
  return withValue(`trim(${text})`, (t) =>
    withValues(
      [
        `split_part(${t}, '/', 1)`,
        `(CASE WHEN contains(${t}, '/') THEN TRY_CAST(split_part(${t}, '/', 2) AS BIGINT) END)`,
      ],
      ([addr, pre]) => {
        const v4 = ipv4(addr);
        const v4groups = (x: string) => `[0, 0, 0, 0, 0, 65535, (${x}.v >> 16) & 65535, ${x}.v & 65535]`;
        // An embedded dotted IPv4 tail becomes two hex groups.
        const hexTail = `regexp_replace(${addr}, '(\\d+)\\.(\\d+)\\.(\\d+)\\.(\\d+)$', '')`;
        const tail = withValue(
          `regexp_extract(${addr}, '(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})$', ['a','b','c','d'])`,
          (m) =>
            `printf('%x:%x', CAST(${m}.a AS INTEGER) * 256 + CAST(${m}.b AS INTEGER), CAST(${m}.c AS INTEGER) * 256 + CAST(${m}.d AS INTEGER))`,
        );
        const text6 = `(CASE WHEN contains(${addr}, '.') THEN ${hexTail} || ${tail} ELSE ${addr} END)`;
        const groups = withValue(text6, (a6) => {
          const left = `(CASE WHEN split_part(${a6}, '::', 1) = '' THEN []::VARCHAR[] ELSE string_split(split_part(${a6}, '::', 1), ':') END)`;
          const right = `(CASE WHEN split_part(${a6}, '::', 2) = '' THEN []::VARCHAR[] ELSE string_split(split_part(${a6}, '::', 2), ':') END)`;
          return withValues([left, right], ([l, r]) => {
            const all = `(CASE WHEN contains(${a6}, '::') THEN list_concat(${l}, list_transform(range(greatest(8 - len(${l}) - len(${r}), 0)), lambda __z: '0'), ${r}) ELSE ${l} END)`;
            return withValue(
              all,
              (g) =>
                `(CASE WHEN len(${g}) = 8 AND len(list_filter(${g}, lambda __h: NOT regexp_matches(__h, '^[0-9A-Fa-f]{1,4}$'))) = 0 AND length(${a6}) - length(replace(${a6}, '::', '')) <= 2 THEN list_transform(${g}, lambda __h: CAST('0x' || __h AS INTEGER)) END)`,
            );
          });
        });
        // A dotted address whose first 96 bits are zero is taken as IPv4 (mapped), with an IPv4 prefix.
        return withValues([v4, groups], ([x, g]) => {
          const mappedV4 = `(contains(${addr}, '.') AND ${g} IS NOT NULL AND ${g}[1:5] = [0, 0, 0, 0, 0] AND (${g}[6] = 0 OR ${g}[6] = 65535))`;
          return `(CASE WHEN ${x}.v IS NOT NULL AND ${pre} IS NULL AND contains(${t}, '/') THEN {'g': NULL::INTEGER[], 'p': NULL::BIGINT}
          WHEN regexp_matches(${addr}, '^\\d{1,3}(\\.\\d{1,3}){3}$') THEN (CASE WHEN ${x}.v IS NULL OR ${pre} > 32 THEN {'g': NULL::INTEGER[], 'p': NULL::BIGINT} ELSE {'g': ${v4groups(x)}, 'p': 96 + COALESCE(${pre}, 32)} END)
          WHEN ${mappedV4} THEN (CASE WHEN ${pre} > 32 THEN {'g': NULL::INTEGER[], 'p': NULL::BIGINT} ELSE {'g': list_concat(${g}[1:5], [65535], ${g}[7:8]), 'p': 96 + COALESCE(${pre}, 32)} END)
          WHEN ${g} IS NULL OR ${pre} > 128 THEN {'g': NULL::INTEGER[], 'p': NULL::BIGINT}
          ELSE {'g': ${g}, 'p': COALESCE(${pre}, 128)} END)`;
        });
      },
    ),
  );
}

function maskGroups(g: string, p: string): string {
  return `list_transform(range(8), lambda __i: ${g}[__i + 1] & ${groupMask(p, '__i')})`;
}

function canonical6(groups: string): string {
  return `array_to_string(list_transform(${groups}, lambda __x: lpad(lower(hex(__x)), 4, '0')), ':')`;
}

function compare6(args: readonly SqlArg[], ctx: Parameters<Template>[1]): string {
  const a = ipv6(s(arg(args, 0, ctx)));
  const b = ipv6(s(arg(args, 1, ctx)));
  const p = args[2] ? int(args[2]) : undefined;
  return withValues([a, b], ([x, y]) =>
    withValue(p ? `least(${x}.p, ${y}.p, ${p})` : `least(${x}.p, ${y}.p)`, (pp) =>
      withValues(
        [maskGroups(`${x}.g`, pp), maskGroups(`${y}.g`, pp)],
        ([ga, gb]) =>
          `(CASE WHEN ${x}.g IS NULL OR ${y}.g IS NULL OR ${pp} < 0 OR ${pp} > 128 THEN NULL WHEN ${ga} < ${gb} THEN -1 WHEN ${ga} > ${gb} THEN 1 ELSE 0 END)`,
      ),
    ),
  );
}

function inRange6(ip: string, range: string): string {
  return withValues(
    [ipv6(ip), ipv6(range)],
    ([x, r]) =>
      `(CASE WHEN ${x}.g IS NULL OR ${r}.g IS NULL THEN NULL ELSE ${maskGroups(`${x}.g`, `${r}.p`)} = ${maskGroups(`${r}.g`, `${r}.p`)} END)`,
  );
}

const PRIVATE_V4 = [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const;

export const IP_FUNCTIONS: Readonly<Record<string, Template>> = {
  parse_ipv4: (args, ctx) =>
    withValue(ipv4(s(arg(args, 0, ctx))), (x) => withValue(mask4(`${x}.p`), (m) => `(${x}.v & ${m})`)),
  parse_ipv4_mask: (args, ctx) =>
    withValue(ipv4(s(arg(args, 0, ctx))), (x) =>
      withValue(
        mask4(`least(${x}.p, ${int(arg(args, 1, ctx))})`),
        (m) => `(CASE WHEN ${int(arg(args, 1, ctx))} BETWEEN 0 AND 32 THEN ${x}.v & ${m} END)`,
      ),
    ),
  ipv4_compare: (args, ctx) => `CAST(${compare4(args, ctx)} AS BIGINT)`,
  ipv4_is_match: (args, ctx) => `(${compare4(args, ctx)} = 0)`,
  ipv4_is_in_range: (args, ctx) => inRange4(s(arg(args, 0, ctx)), s(arg(args, 1, ctx))),
  ipv4_is_in_any_range: (args, ctx) => {
    const ip = s(arg(args, 0, ctx));
    return withValue(
      ip,
      (v) =>
        `(CASE WHEN ${ipv4(v)}.v IS NULL THEN NULL ELSE COALESCE(list_bool_or(list_transform(${rangeList(args.slice(1))}, lambda __r: ${inRange4(v, '__r')})), false) END)`,
    );
  },
  ipv4_is_private: (args, ctx) =>
    withValue(ipv4(s(arg(args, 0, ctx))), (x) => {
      const tests = PRIVATE_V4.map(([net, p]) => {
        const [a, b, c, d] = net.split('.').map(Number) as [number, number, number, number];
        const value = a * 16777216 + b * 65536 + c * 256 + d;
        const mask = (0xffffffff >>> (32 - p)) * 2 ** (32 - p);
        return `(${x}.v & ${mask}) = ${value}`;
      });
      return `(CASE WHEN ${x}.v IS NULL THEN NULL ELSE (${tests.join(' OR ')}) END)`;
    }),
  ipv4_netmask_suffix: (args, ctx) => `${ipv4(s(arg(args, 0, ctx)))}.p`,
  format_ipv4: (args, ctx) => {
    const p = args[1] ? int(args[1]) : '32';
    return withValues([ipv4Arg(arg(args, 0, ctx)), p], ([x, q]) =>
      withValue(
        mask4(`least(${x}.p, ${q})`),
        (m) => `COALESCE(CASE WHEN ${q} BETWEEN 0 AND 32 THEN ${dotted(`${x}.v & ${m}`)} END, '')`,
      ),
    );
  },
  format_ipv4_mask: (args, ctx) => {
    const p = args[1] ? int(args[1]) : '32';
    return withValues([ipv4Arg(arg(args, 0, ctx)), p], ([x, q]) =>
      withValue(`least(${x}.p, ${q})`, (pp) =>
        withValue(
          mask4(pp),
          (m) =>
            `COALESCE(CASE WHEN ${q} BETWEEN 0 AND 32 THEN ${dotted(`${x}.v & ${m}`)} || '/' || CAST(${pp} AS VARCHAR) END, '')`,
        ),
      ),
    );
  },
  ipv4_range_to_cidr_list: (args, ctx) =>
    withValues([ipv4(s(arg(args, 0, ctx))), ipv4(s(arg(args, 1, ctx)))], ([a, b]) => {
      // Greedy cover: at each step the largest aligned block that fits (at most 64 steps for 32 bits).
      const st = (x: string, e: string, out: string) => `{'s': ${x}, 'e': ${e}, 'out': ${out}}`;
      const block = `least(CASE WHEN __st.s = 0 THEN 4294967296 ELSE __st.s & (-__st.s) END, CAST(pow(2, floor(log2(__st.e - __st.s + 1))) AS BIGINT))`;
      const step = `lambda __st, __x: CASE WHEN __st.s > __st.e THEN __st ELSE ${st(`__st.s + ${block}`, '__st.e', `list_append(__st.out, ${dotted('__st.s')} || '/' || CAST(32 - CAST(log2(${block}) AS INTEGER) AS VARCHAR))`)} END`;
      const elems = `list_transform(range(64), lambda __k: ${st('__k', '0::BIGINT', '[]::VARCHAR[]')})`;
      return `(CASE WHEN ${a}.v IS NULL OR ${b}.v IS NULL OR ${a}.v > ${b}.v THEN NULL ELSE to_json(struct_extract(list_reduce(${elems}, ${step}, ${st(`${a}.v`, `${b}.v`, '[]::VARCHAR[]')}), 'out')) END)`;
    }),
  has_ipv4: hasIpv4(false, false),
  has_ipv4_prefix: hasIpv4(true, false),
  has_any_ipv4: hasIpv4(false, true),
  has_any_ipv4_prefix: hasIpv4(true, true),
  parse_ipv6: (args, ctx) =>
    withValue(ipv6(s(arg(args, 0, ctx))), (x) => `COALESCE(${canonical6(maskGroups(`${x}.g`, `${x}.p`))}, '')`),
  parse_ipv6_mask: (args, ctx) =>
    withValues(
      [ipv6(s(arg(args, 0, ctx))), int(arg(args, 1, ctx))],
      ([x, q]) =>
        `COALESCE(CASE WHEN ${q} BETWEEN 0 AND 128 THEN ${canonical6(maskGroups(`${x}.g`, `least(${x}.p, ${q})`))} END, '')`,
    ),
  ipv6_compare: (args, ctx) => `CAST(${compare6(args, ctx)} AS BIGINT)`,
  ipv6_is_match: (args, ctx) => `(${compare6(args, ctx)} = 0)`,
  ipv6_is_in_range: (args, ctx) => inRange6(s(arg(args, 0, ctx)), s(arg(args, 1, ctx))),
  ipv6_is_in_any_range: (args, ctx) => {
    const ip = s(arg(args, 0, ctx));
    return withValue(
      ip,
      (v) =>
        `COALESCE(list_bool_or(list_transform(${rangeList(args.slice(1))}, lambda __r: ${inRange6(v, '__r')})), false)`,
    );
  },
};
