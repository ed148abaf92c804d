/**
 * KQL encoding and hashing functions in DuckDB (see functions.ts for the conventions): base64 (strings, byte
 * arrays, guids in .NET byte order), URL encoding as .NET's HttpUtility does it (lower-case escapes), the
 * cryptographic hashes of a value's string form, Kusto's `hash()` (xxHash64 of UTF-8 text or of a value's
 * little-endian bytes, computed in SQL with 128-bit intermediate products), and zlib compression (Kusto writes
 * stored deflate blocks: zlib header 78 01, the bytes, Adler-32).
 */
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import { arg, asString, EPOCH_TICKS, jsonElements, timestampTicks, withValue, withValues } from './base.js';

function s(a: SqlArg): string {
  return asString(a);
}

// ───────────────────────────── base64 and URLs ─────────────────────────────

/** Bytes (as upper-case hex) → a JSON array of byte values. */
function hexToByteArray(hex: string): string {
  return withValue(
    hex,
    (h) =>
      `to_json(list_transform(range(length(${h}) // 2), lambda __i: CAST(CAST('0x' || substr(${h}, 2 * __i + 1, 2) AS INTEGER) AS BIGINT)))`,
  );
}

/** A guid's 16 bytes in .NET order (the first three fields little-endian) as hex, and back. */
function guidToNetHex(guid: string): string {
  return withValue(`replace(CAST(${guid} AS VARCHAR), '-', '')`, (g) => {
    const b = (i: number) => `substr(${g}, ${2 * i + 1}, 2)`;
    return `(${[3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15].map(b).join(' || ')})`;
  });
}

function netHexToGuid(hex: string): string {
  return withValue(hex, (h) => {
    const b = (i: number) => `substr(${h}, ${2 * i + 1}, 2)`;
    const parts = [
      [3, 2, 1, 0],
      [5, 4],
      [7, 6],
      [8, 9],
      [10, 11, 12, 13, 14, 15],
    ].map((idx) => idx.map(b).join(' || '));
    return `(CASE WHEN length(${h}) = 32 THEN TRY_CAST(${parts.join(" || '-' || ")} AS UUID) END)`;
  });
}

/** .NET HttpUtility.UrlEncode: unreserved `A-Za-z0-9-_.!*()` kept, space as `+` (or %20), lower-case %xx. */
function urlEncode(text: string, spaceAsPlus: boolean): string {
  return `COALESCE(array_to_string(list_transform(string_split(${text}, ''), lambda __c: CASE WHEN regexp_matches(__c, '^[A-Za-z0-9_.!*()-]$') THEN __c WHEN __c = ' ' THEN '${spaceAsPlus ? '+' : '%20'}' ELSE regexp_replace(lower(hex(encode(__c))), '(..)', '%\\1', 'g') END), ''), '')`;
}

// ───────────────────────────── xxHash64 ─────────────────────────────

const MASK = '18446744073709551615::UHUGEINT';
const P1 = '11400714785074694791::UBIGINT';
const P2 = '14029467366897019727::UBIGINT';
const P3 = '1609587929392839161::UBIGINT';
const P4 = '9650029242287828579::UBIGINT';
const P5 = '2870177450012600261::UBIGINT';

const mul = (a: string, b: string) => `CAST((CAST(${a} AS UHUGEINT) * ${b}) & ${MASK} AS UBIGINT)`;
const add = (a: string, b: string) => `CAST((CAST(${a} AS UHUGEINT) + ${b}) & ${MASK} AS UBIGINT)`;
const rotl = (x: string, r: number) =>
  withValue(x, (v) => `CAST(((CAST(${v} AS UHUGEINT) << ${r}) & ${MASK}) | (${v} >> ${64 - r}) AS UBIGINT)`);
const round = (acc: string, input: string) => mul(rotl(add(acc, mul(input, P2)), 31), P1);

/** The little-endian unsigned integer of `n` bytes at byte offset `off` of a hex string. */
function lane(hex: string, off: string, n: number): string {
  const bytes = Array.from(
    { length: n },
    (_, k) => `substr(${hex}, CAST(2 * (${off} + ${n - 1 - k}) + 1 AS BIGINT), 2)`,
  );
  return `CAST('0x' || ${bytes.join(' || ')} AS UBIGINT)`;
}

/** xxHash64 (seed 0) of the bytes in an upper-case hex string, as a signed long. */
export function xxhash64(hexSql: string): string {
  return withValue(hexSql, (h) =>
    withValue(`length(${h}) // 2`, (len) => {
      const stripes = `(${len} // 32)`;
      const initial = `{'a': ${add(P1, P2)}, 'b': ${P2}, 'c': 0::UBIGINT, 'd': CAST(${MASK} + 1 - ${P1} AS UBIGINT)}`;
      const stripeStep = `lambda __s, __x: {'a': ${round('__s.a', lane(h, '32 * __x.a', 8))}, 'b': ${round('__s.b', lane(h, '32 * __x.a + 8', 8))}, 'c': ${round('__s.c', lane(h, '32 * __x.a + 16', 8))}, 'd': ${round('__s.d', lane(h, '32 * __x.a + 24', 8))}}`;
      const merge = (acc: string, v: string) => add(mul(`xor(${acc}, ${round('0::UBIGINT', v)})`, P1), P4);
      const big = withValue(
        `list_reduce(list_transform(range(${stripes}), lambda __k: {'a': CAST(__k AS UBIGINT), 'b': 0::UBIGINT, 'c': 0::UBIGINT, 'd': 0::UBIGINT}), ${stripeStep}, ${initial})`,
        (v) => {
          const sum = add(add(add(rotl(`${v}.a`, 1), rotl(`${v}.b`, 7)), rotl(`${v}.c`, 12)), rotl(`${v}.d`, 18));
          return merge(merge(merge(merge(sum, `${v}.a`), `${v}.b`), `${v}.c`), `${v}.d`);
        },
      );
      const start = add(`(CASE WHEN ${len} >= 32 THEN ${big} ELSE ${P5} END)`, `CAST(${len} AS UBIGINT)`);
      const base = `(${stripes} * 32)`;
      const words = `((${len} - ${base}) // 8)`;
      const afterWords = `list_reduce(CAST(range(${words}) AS UBIGINT[]), lambda __h, __k: ${add(mul(rotl(`xor(__h, ${round('0::UBIGINT', lane(h, `${base} + 8 * __k`, 8))})`, 27), P1), P4)}, ${start})`;
      const off4 = `(${base} + 8 * ${words})`;
      const afterHalf = withValue(
        afterWords,
        (x) =>
          `(CASE WHEN ${len} - ${off4} >= 4 THEN ${add(mul(rotl(`xor(${x}, ${mul(lane(h, off4, 4), P1)})`, 23), P2), P3)} ELSE ${x} END)`,
      );
      const off1 = `(${off4} + (CASE WHEN ${len} - ${off4} >= 4 THEN 4 ELSE 0 END))`;
      const afterBytes = `list_reduce(CAST(range(${off1}, ${len}) AS UBIGINT[]), lambda __h, __i: ${mul(rotl(`xor(__h, ${mul(`CAST('0x' || substr(${h}, CAST(2 * __i + 1 AS BIGINT), 2) AS UBIGINT)`, P5)})`, 11), P1)}, ${afterHalf})`;
      const avalanche = withValue(afterBytes, (a) =>
        withValue(mul(`xor(${a}, ${a} >> 33)`, P2), (b) =>
          withValue(mul(`xor(${b}, ${b} >> 29)`, P3), (c) => `xor(${c}, ${c} >> 32)`),
        ),
      );
      return withValue(
        avalanche,
        (r) =>
          `CAST(CAST(${r} AS HUGEINT) - (CASE WHEN ${r} >= 9223372036854775808 THEN 18446744073709551616 ELSE 0 END) AS BIGINT)`,
      );
    }),
  );
}

/** Little-endian hex of a signed integer of `bytes` bytes. */
function intLeHex(sql: string, bytes: 4 | 8): string {
  return withValue(`lpad(right(hex(CAST(${sql} AS BIGINT)), ${bytes * 2}), ${bytes * 2}, '0')`, (h) =>
    Array.from({ length: bytes }, (_, k) => `substr(${h}, ${2 * (bytes - 1 - k) + 1}, 2)`).join(' || '),
  );
}

/** The bytes Kusto hashes for a value, as upper-case hex (strings as UTF-8, numbers and ticks little-endian). */
function hashBytes(a: SqlArg, ctx: TemplateContext): string {
  switch (a.type) {
    case 'string':
    case 'dynamic':
      return `hex(encode(${s(a)}))`;
    case 'long':
    case 'timespan':
      return intLeHex(a.sql, 8);
    case 'int':
      return intLeHex(a.sql, 4);
    case 'datetime':
      return intLeHex(`${timestampTicks(a.sql)} + ${EPOCH_TICKS}`, 8);
    case 'bool':
      return `(CASE WHEN ${a.sql} THEN '01' ELSE '00' END)`;
    case 'guid':
      return `upper(${guidToNetHex(a.sql)})`;
    default:
      return ctx.unsupported(`hash() of a ${a.type} value`);
  }
}

function hashTemplate(args: readonly SqlArg[], ctx: TemplateContext): string {
  const v = arg(args, 0, ctx);
  const h = `(CASE WHEN ${v.sql} IS NOT NULL THEN ${xxhash64(hashBytes(v, ctx))} END)`;
  const mod = args[1];
  if (!mod) return h;
  return withValues([h, `CAST(${mod.sql} AS BIGINT)`], ([x, m]) => `((${x} % ${m}) + abs(${m})) % abs(${m})`);
}

// ───────────────────────────── zlib ─────────────────────────────

/** Adler-32 of the bytes of a hex string, as 8 hex digits. */
function adler32(hex: string): string {
  return withValue(
    `list_reduce(list_transform(range(length(${hex}) // 2), lambda __i: {'a': CAST('0x' || substr(${hex}, 2 * __i + 1, 2) AS BIGINT), 'b': 0::BIGINT}), lambda __st, __x: {'a': (__st.a + __x.a) % 65521, 'b': (__st.b + (__st.a + __x.a) % 65521) % 65521}, {'a': 1::BIGINT, 'b': 0::BIGINT})`,
    (st) => `lpad(hex(${st}.b * 65536 + ${st}.a), 8, '0')`,
  );
}

/** A 16-bit value as two little-endian hex bytes. */
function le16(n: string): string {
  return withValue(`lpad(hex(${n}), 4, '0')`, (h) => `substr(${h}, 3, 2) || substr(${h}, 1, 2)`);
}

/** zlib stream of stored deflate blocks (at most 65535 bytes each), base64-encoded. */
function zlibCompress(text: string): string {
  return withValue(`hex(encode(${text}))`, (h) =>
    withValue(`length(${h}) // 2`, (len) => {
      const blocks = `greatest((${len} + 65534) // 65535, 1)`;
      const block = `(CASE WHEN __k = ${blocks} - 1 THEN '01' ELSE '00' END) || ${le16(`least(65535, ${len} - 65535 * __k)`)} || ${le16(`65535 - least(65535, ${len} - 65535 * __k)`)} || substr(${h}, 2 * 65535 * __k + 1, 2 * 65535)`;
      return `to_base64(unhex('7801' || array_to_string(list_transform(range(${blocks}), lambda __k: ${block}), '') || ${adler32(h)}))`;
    }),
  );
}

// ───────────────────────────── punycode (RFC 3492) ─────────────────────────────

/** The bias adaptation of RFC 3492 (base 36, tmin 1, tmax 26, skew 38, damp 700) as SQL over BIGINTs. */
function adapt(delta: string, numPoints: string, first: string): string {
  return withValue(`(CASE WHEN ${first} THEN (${delta}) // 700 ELSE (${delta}) // 2 END)`, (d1) =>
    withValue(`(${d1} + ${d1} // (${numPoints}))`, (d2) =>
      withValue(
        `list_reduce(list_transform(range(8), lambda __ai: {'d': CAST(__ai AS BIGINT), 'k': 0::BIGINT}), lambda __as, __ae: CASE WHEN __as.d > 455 THEN {'d': __as.d // 35, 'k': __as.k + 36} ELSE __as END, {'d': ${d2}, 'k': 0::BIGINT})`,
        (st) => `(${st}.k + (36 * ${st}.d) // (${st}.d + 38))`,
      ),
    ),
  );
}

/** The threshold t of RFC 3492 for position k and a bias. */
function threshold(k: string, bias: string): string {
  return `(CASE WHEN ${k} <= ${bias} THEN 1 WHEN ${k} >= ${bias} + 26 THEN 26 ELSE ${k} - ${bias} END)`;
}

const digitChar = (d: string) =>
  `(CASE WHEN ${d} < 26 THEN chr(CAST(97 + ${d} AS INTEGER)) ELSE chr(CAST(22 + ${d} AS INTEGER)) END)`;

/** Punycode text → Unicode (the part after `xn--`); '' when the input is not valid punycode. */
function punycodeDecode(text: string): string {
  return withValue(text, (t) => {
    const cut = `strpos(${t}, '-') > 0`;
    const basic = `(CASE WHEN ${cut} THEN left(${t}, length(${t}) - strpos(reverse(${t}), '-')) ELSE '' END)`;
    const rest = `(CASE WHEN ${cut} THEN right(${t}, strpos(reverse(${t}), '-') - 1) ELSE ${t} END)`;
    const state = (out: string, n: string, i: string, bias: string, oldi: string, w: string, k: string) =>
      `{'out': ${out}, 'n': ${n}, 'i': ${i}, 'bias': ${bias}, 'oldi': ${oldi}, 'w': ${w}, 'k': ${k}}`;
    const digit = `(CASE WHEN __pc BETWEEN 'a' AND 'z' THEN unicode(__pc) - 97 WHEN __pc BETWEEN 'A' AND 'Z' THEN unicode(__pc) - 65 WHEN __pc BETWEEN '0' AND '9' THEN unicode(__pc) - 22 ELSE -1 END)`;
    const elements = `list_transform(string_split(${rest}, ''), lambda __pc: ${state('[]::BIGINT[]', `CAST(${digit} AS BIGINT)`, '0::BIGINT', '0::BIGINT', '0::BIGINT', '0::BIGINT', '0::BIGINT')})`;
    // One digit per step: k = 0 starts a variable-length integer; a digit below the threshold completes it and
    // inserts code point n at position i. k = -1 marks invalid input.
    const step = `lambda __p, __d: CASE WHEN __p.k < 0 OR __d.n < 0 THEN ${state('__p.out', '__p.n', '__p.i', '__p.bias', '__p.oldi', '__p.w', '-1::BIGINT')} ELSE ${withValues(
      [
        `(CASE WHEN __p.k = 0 THEN __p.i ELSE __p.oldi END)`,
        `(CASE WHEN __p.k = 0 THEN 1 ELSE __p.w END)`,
        `(CASE WHEN __p.k = 0 THEN 36 ELSE __p.k END)`,
      ],
      ([oldi, w, k]) =>
        withValues([`(__p.i + __d.n * ${w})`, threshold(k, '__p.bias')], ([i2, tt]) =>
          withValues([`CAST(len(__p.out) + 1 AS BIGINT)`], ([len]) =>
            withValues(
              [`(__p.n + ${i2} // ${len})`, `(${i2} % ${len})`],
              ([n2, pos]) =>
                `CASE WHEN __d.n < ${tt} THEN ${state(`list_concat(__p.out[1:${pos}], [${n2}], __p.out[${pos} + 1:])`, n2, `${pos} + 1`, adapt(`${i2} - ${oldi}`, len, `${oldi} = 0`), '0::BIGINT', '0::BIGINT', '0::BIGINT')} ELSE ${state('__p.out', '__p.n', i2, '__p.bias', oldi, `${w} * (36 - ${tt})`, `${k} + 36`)} END`,
            ),
          ),
        ),
    )} END`;
    const initial = state(
      `list_transform(string_split(${basic}, ''), lambda __bc: CAST(unicode(__bc) AS BIGINT))`,
      '128::BIGINT',
      '0::BIGINT',
      '72::BIGINT',
      '0::BIGINT',
      '0::BIGINT',
      '0::BIGINT',
    );
    return withValue(
      `list_reduce(${elements}, ${step}, ${initial})`,
      (r) =>
        `(CASE WHEN ${r}.k <> 0 OR regexp_matches(${basic}, '[^\\x00-\\x7F]') THEN '' ELSE COALESCE(array_to_string(list_transform(${r}.out, lambda __o: chr(CAST(__o AS INTEGER))), ''), '') END)`,
    );
  });
}

/** Unicode → punycode (RFC 3492): basic code points, a '-' when there are any, then the encoded deltas. */
function punycodeEncode(text: string): string {
  return withValue(`list_transform(string_split(${text}, ''), lambda __ec: CAST(unicode(__ec) AS BIGINT))`, (cps) =>
    withValue(
      `array_to_string(list_transform(list_filter(${cps}, lambda __x: __x < 128), lambda __x: chr(CAST(__x AS INTEGER))), '')`,
      (basic) => {
        const b = `length(${basic})`;
        const o = (out: string, delta: string, bias: string, h: string, n: string) =>
          `{'out': ${out}, 'delta': ${delta}, 'bias': ${bias}, 'h': ${h}, 'n': ${n}}`;
        // The digits of one variable-length integer q.
        const emit = (q: string, bias: string) => {
          const e = (s0: string, q0: string, k0: string, done: string) =>
            `{'s': ${s0}, 'q': ${q0}, 'k': ${k0}, 'done': ${done}}`;
          return `struct_extract(list_reduce(list_transform(range(16), lambda __ei: ${e("''", 'CAST(__ei AS BIGINT)', '0::BIGINT', 'false')}), lambda __es, __ee: CASE WHEN __es.done THEN __es ELSE ${withValue(
            threshold('__es.k', bias),
            (tt) =>
              `CASE WHEN __es.q < ${tt} THEN ${e(`__es.s || ${digitChar('__es.q')}`, '__es.q', '__es.k', 'true')} ELSE ${e(`__es.s || ${digitChar(`(${tt} + (__es.q - ${tt}) % (36 - ${tt}))`)}`, `(__es.q - ${tt}) // (36 - ${tt})`, '__es.k + 36', 'false')} END`,
          )} END, ${e("''", q, '36::BIGINT', 'false')}), 's')`;
        };
        const inner = (n1: string) =>
          `list_reduce(list_transform(${cps}, lambda __ic: ${o("''", '__ic', '0::BIGINT', '0::BIGINT', '0::BIGINT')}), lambda __q, __x: CASE WHEN __x.delta < ${n1} THEN ${o('__q.out', '__q.delta + 1', '__q.bias', '__q.h', '0::BIGINT')} WHEN __x.delta = ${n1} THEN ${o(`__q.out || ${emit('__q.delta', '__q.bias')}`, '0::BIGINT', adapt('__q.delta', '__q.h + 1', `__q.h = ${b}`), '__q.h + 1', '0::BIGINT')} ELSE __q END`;
        const ms = `list_sort(list_distinct(list_filter(${cps}, lambda __x: __x >= 128)))`;
        const outer = `list_reduce(list_transform(${ms}, lambda __mm: ${o("''", '0::BIGINT', '0::BIGINT', '0::BIGINT', '__mm')}), lambda __o, __m: ${withValue(
          `${inner('__m.n')}, ${o('__o.out', `__o.delta + (__m.n - __o.n) * (__o.h + 1)`, '__o.bias', '__o.h', '0::BIGINT')})`,
          (r) => o(`${r}.out`, `${r}.delta + 1`, `${r}.bias`, `${r}.h`, '__m.n + 1'),
        )}, ${o(`${basic} || (CASE WHEN ${b} > 0 THEN '-' ELSE '' END)`, '0::BIGINT', '72::BIGINT', `CAST(${b} AS BIGINT)`, '128::BIGINT')})`;
        return `struct_extract(${outer}, 'out')`;
      },
    ),
  );
}

/** Domain labels split at any IDNA full stop (`.`, `。`, `．`, `｡`). */
const LABELS = (d: string) => `regexp_split_to_array(${d}, '[.\\x{3002}\\x{FF0E}\\x{FF61}]')`;

export const ENCODING_FUNCTIONS: Readonly<Record<string, Template>> = {
  base64_encode_tostring: (args, ctx) => `to_base64(encode(${s(arg(args, 0, ctx))}))`,
  base64_decode_tostring: (args, ctx) => `COALESCE(TRY(decode(from_base64(${s(arg(args, 0, ctx))}))), '')`,
  base64_decode_toarray: (args, ctx) => {
    const b = `TRY(from_base64(${s(arg(args, 0, ctx))}))`;
    return withValue(b, (x) => `(CASE WHEN ${x} IS NOT NULL THEN ${hexToByteArray(`hex(${x})`)} END)`);
  },
  base64_encode_fromarray: (args, ctx) => {
    const a = arg(args, 0, ctx);
    const hex = `array_to_string(list_transform(${jsonElements(a.sql)}, lambda __e: lpad(hex(CAST(__e ->> '$' AS BIGINT) & 255), 2, '0')), '')`;
    return `COALESCE(to_base64(unhex(${hex})), '')`;
  },
  base64_decode_toguid: (args, ctx) =>
    withValue(
      `TRY(from_base64(${s(arg(args, 0, ctx))}))`,
      (b) => `(CASE WHEN octet_length(${b}) = 16 THEN ${netHexToGuid(`hex(${b})`)} END)`,
    ),
  base64_encode_fromguid: (args, ctx) => {
    const g = arg(args, 0, ctx);
    if (g.type !== 'guid' && g.type !== 'string' && g.type !== 'dynamic') return "''";
    const guid = g.type === 'guid' ? g.sql : `TRY_CAST(${s(g)} AS UUID)`;
    return `COALESCE(to_base64(unhex(${guidToNetHex(guid)})), '')`;
  },
  url_encode: (args, ctx) => urlEncode(s(arg(args, 0, ctx)), true),
  url_encode_component: (args, ctx) => urlEncode(s(arg(args, 0, ctx)), false),
  url_decode: (args, ctx) => `COALESCE(TRY(url_decode(replace(${s(arg(args, 0, ctx))}, '+', ' '))), '')`,
  hash_md5: (args, ctx) => `md5(${s(arg(args, 0, ctx))})`,
  hash_sha1: (args, ctx) => `sha1(${s(arg(args, 0, ctx))})`,
  hash_sha256: (args, ctx) => `sha256(${s(arg(args, 0, ctx))})`,
  hash: hashTemplate,
  hash_xxhash64: hashTemplate,
  zlib_compress_to_base64_string: (args, ctx) => zlibCompress(s(arg(args, 0, ctx))),
  // Inflate has no SQL form: host functions (packages/server/src/engine/duckdb/host-functions/compression.ts).
  zlib_decompress_from_base64_string: (args, ctx) =>
    `COALESCE(vigil_zlib_decompress_base64(${s(arg(args, 0, ctx))}), '')`,
  gzip_decompress_from_base64_string: (args, ctx) =>
    `COALESCE(vigil_gzip_decompress_base64(${s(arg(args, 0, ctx))}), '')`,
  punycode_to_string: (args, ctx) => punycodeDecode(s(arg(args, 0, ctx))),
  punycode_from_string: (args, ctx) => `COALESCE(${punycodeEncode(s(arg(args, 0, ctx)))}, '')`,
  punycode_domain_to_string: (args, ctx) =>
    `COALESCE(array_to_string(list_transform(${LABELS(s(arg(args, 0, ctx)))}, lambda __lb: CASE WHEN lower(left(__lb, 4)) = 'xn--' THEN ${punycodeDecode('substr(__lb, 5)')} ELSE __lb END), '.'), '')`,
  punycode_domain_from_string: (args, ctx) =>
    `COALESCE(array_to_string(list_transform(${LABELS(s(arg(args, 0, ctx)))}, lambda __lb: CASE WHEN regexp_matches(__lb, '[^\\x00-\\x7F]') THEN 'xn--' || ${punycodeEncode('__lb')} ELSE __lb END), '.'), '')`,
};
