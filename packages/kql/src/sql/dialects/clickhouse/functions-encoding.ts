/**
 * KQL hashing and text encodings in ClickHouse, with the semantics of the DuckDB templates of the same names
 * (`../duckdb/functions-encoding.ts`): Kusto's `hash()` (xxHash64 of UTF-8 text or of a value's little-endian
 * bytes: ClickHouse's own `xxHash64` hashes an integer's bytes the same way) and punycode (RFC 3492) as folds over
 * code points, plus the UTF-8 helpers they share.
 */
import type { SqlArg, Template, TemplateContext } from '../../dialect.js';
import { arg, asString, datetimeTicks, EPOCH_TICKS, withValue } from './base.js';

const s = (a: SqlArg) => asString(a);

// ───────────────────────────── UTF-8 ─────────────────────────────

/** A UTF-8 character's code point, from its 1-4 bytes. */
export const codePoint = (c: string) => {
  const b = (i: number) => `toUInt32(reinterpretAsUInt8(substring(${c}, ${i}, 1)))`;
  const t = (i: number) => `bitAnd(${b(i)}, 63)`;
  return `multiIf(length(${c}) = 1, ${b(1)}, length(${c}) = 2, bitAnd(${b(1)}, 31) * 64 + ${t(2)}, length(${c}) = 3, bitAnd(${b(1)}, 15) * 4096 + ${t(2)} * 64 + ${t(3)}, bitAnd(${b(1)}, 7) * 262144 + ${t(2)} * 4096 + ${t(3)} * 64 + ${t(4)})`;
};

/** The code points of a text as Array(Int64) (`ngrams(s, 1)` splits it into UTF-8 characters). */
export const codePoints = (text: string) => `arrayMap(__cp -> toInt64(${codePoint('__cp')}), ngrams(${text}, 1))`;

/** A code point as its UTF-8 text (`char` writes bytes, not code points). */
export function utf8Char(cp: string): string {
  return withValue(`toUInt32(${cp})`, (c) => {
    const cont = (shift: number) => `bitOr(128, bitAnd(bitShiftRight(${c}, ${shift}), 63))`;
    return `multiIf(${c} < 128, char(${c}), ${c} < 2048, char(bitOr(192, bitShiftRight(${c}, 6)), ${cont(0)}), ${c} < 65536, char(bitOr(224, bitShiftRight(${c}, 12)), ${cont(6)}, ${cont(0)}), char(bitOr(240, bitShiftRight(${c}, 18)), ${cont(12)}, ${cont(6)}, ${cont(0)}))`;
  });
}

// ───────────────────────────── hash() ─────────────────────────────

/** A guid's 16 bytes in .NET order (the first three fields little-endian). */
function guidNetBytes(guid: string): string {
  return withValue(`replaceAll(toString(${guid}), '-', '')`, (g) => {
    const b = (i: number) => `substring(${g}, ${2 * i + 1}, 2)`;
    return `unhex(concat(${[3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15].map(b).join(', ')}))`;
  });
}

/** xxHash64 (seed 0) of the bytes Kusto hashes for a value, as a signed long (null for null). */
function xxhash(a: SqlArg, ctx: TemplateContext): string {
  const h = (x: string) => `reinterpretAsInt64(xxHash64(${x}))`;
  switch (a.type) {
    case 'string':
      return h(a.sql);
    case 'dynamic':
      return `if(${a.sql} IS NULL, NULL, ${h(s(a))})`;
    case 'long':
    case 'timespan':
      return `if(${a.sql} IS NULL, NULL, ${h(`toInt64(assumeNotNull(${a.sql}))`)})`;
    case 'int':
      return `if(${a.sql} IS NULL, NULL, ${h(`toInt32(assumeNotNull(${a.sql}))`)})`;
    case 'bool':
      return `if(${a.sql} IS NULL, NULL, ${h(`toUInt8(assumeNotNull(${a.sql}))`)})`;
    case 'datetime':
      return `if(${a.sql} IS NULL, NULL, ${h(`toInt64(assumeNotNull(${datetimeTicks(a.sql)}) + ${EPOCH_TICKS})`)})`;
    case 'guid':
      return `if(${a.sql} IS NULL, NULL, ${h(guidNetBytes(`assumeNotNull(${a.sql})`))})`;
    default:
      return ctx.unsupported(`hash() of a ${a.type} value`);
  }
}

const hash: Template = (args, ctx) => {
  const h = xxhash(arg(args, 0, ctx), ctx);
  const mod = args[1];
  if (!mod) return h;
  return withValue(`toInt64(${mod.sql})`, (m) => `((${h} % ${m}) + abs(${m})) % abs(${m})`);
};

// ───────────────────────────── punycode (RFC 3492) ─────────────────────────────

const i64 = (x: string) => `toInt64(${x})`;

/** The bias adaptation of RFC 3492 (base 36, tmin 1, tmax 26, skew 38, damp 700), over Int64s. */
function adapt(delta: string, numPoints: string, first: string): string {
  return withValue(`if(${first}, intDiv(${delta}, 700), intDiv(${delta}, 2))`, (d1) =>
    withValue(i64(`${d1} + intDiv(${d1}, ${numPoints})`), (d2) =>
      withValue(
        `arrayFold((__as, __ai) -> if(__as.1 > 455, tuple(${i64('intDiv(__as.1, 35)')}, ${i64('__as.2 + 36')}), __as), range(8), tuple(${d2}, toInt64(0)))`,
        (st) => i64(`${st}.2 + intDiv(36 * ${st}.1, ${st}.1 + 38)`),
      ),
    ),
  );
}

/** The threshold t of RFC 3492 for position k and a bias. */
const threshold = (k: string, bias: string) =>
  i64(`multiIf(${k} <= ${bias}, 1, ${k} >= ${bias} + 26, 26, ${k} - ${bias})`);

const digitChar = (d: string) => `if(${d} < 26, char(97 + ${d}), char(22 + ${d}))`;

/** Punycode text → Unicode (the part after `xn--`); '' when the input is not valid punycode. */
function punycodeDecode(text: string): string {
  return withValue(text, (t) => {
    const cut = `position(reverse(${t}), '-')`;
    const basic = `if(${cut} > 0, left(${t}, length(${t}) - ${cut}), '')`;
    const rest = `if(${cut} > 0, right(${t}, ${cut} - 1), ${t})`;
    const digit = `multiIf(length(__pc) != 1, -1, reinterpretAsUInt8(__pc) BETWEEN 97 AND 122, reinterpretAsUInt8(__pc) - 97, reinterpretAsUInt8(__pc) BETWEEN 65 AND 90, reinterpretAsUInt8(__pc) - 65, reinterpretAsUInt8(__pc) BETWEEN 48 AND 57, reinterpretAsUInt8(__pc) - 22, -1)`;
    const digits = `arrayMap(__pc -> ${i64(digit)}, ngrams(${rest}, 1))`;
    // State: (out, n, i, bias, oldi, w, k). One digit per step: k = 0 starts a variable-length integer; a digit
    // below the threshold completes it and inserts code point n at position i. k = -1 marks invalid input.
    const st = (...f: string[]) => `tuple(${f.join(', ')})`;
    const step = `(__p, __d) -> if(__p.7 < 0 OR __d < 0, ${st('__p.1', '__p.2', '__p.3', '__p.4', '__p.5', '__p.6', 'toInt64(-1)')}, ${withValue(
      st('if(__p.7 = 0, __p.3, __p.5)', 'if(__p.7 = 0, toInt64(1), __p.6)', 'if(__p.7 = 0, toInt64(36), __p.7)'),
      (owk) => {
        const [oldi, w, k] = [`${owk}.1`, `${owk}.2`, `${owk}.3`];
        return withValue(st(i64(`__p.3 + __d * ${w}`), threshold(k, '__p.4'), i64('length(__p.1) + 1')), (x) => {
          const [i2, tt, len] = [`${x}.1`, `${x}.2`, `${x}.3`];
          return withValue(st(i64(`__p.2 + intDiv(${i2}, ${len})`), i64(`${i2} % ${len}`)), (np) => {
            const [n2, pos] = [`${np}.1`, `${np}.2`];
            const insert = `arrayConcat(arraySlice(__p.1, 1, ${pos}), [${n2}], arraySlice(__p.1, ${pos} + 1))`;
            return `if(__d < ${tt}, ${st(insert, n2, i64(`${pos} + 1`), adapt(`${i2} - ${oldi}`, len, `${oldi} = 0`), 'toInt64(0)', 'toInt64(0)', 'toInt64(0)')}, ${st('__p.1', '__p.2', i2, '__p.4', oldi, i64(`${w} * (36 - ${tt})`), i64(`${k} + 36`))})`;
          });
        });
      },
    )})`;
    const initial = st(
      codePoints(basic),
      'toInt64(128)',
      'toInt64(0)',
      'toInt64(72)',
      'toInt64(0)',
      'toInt64(0)',
      'toInt64(0)',
    );
    return withValue(
      `arrayFold(${step}, ${digits}, ${initial})`,
      (r) =>
        `if(${r}.7 != 0 OR match(${basic}, '[^\\\\x00-\\\\x7F]'), '', arrayStringConcat(arrayMap(__o -> ${utf8Char('__o')}, ${r}.1)))`,
    );
  });
}

/** Unicode → punycode (RFC 3492): basic code points, a '-' when there are any, then the encoded deltas. */
function punycodeEncode(text: string): string {
  return withValue(codePoints(text), (cps) =>
    withValue(`arrayStringConcat(arrayMap(__x -> char(__x), arrayFilter(__x -> __x < 128, ${cps})))`, (basic) => {
      const b = i64(`length(${basic})`);
      // The digits of one variable-length integer q: state (text, q, k, done).
      const emit = (q: string, bias: string) => {
        const tt = threshold('__es.3', bias);
        return `arrayFold((__es, __ei) -> if(__es.4, __es, if(__es.2 < ${tt}, tuple(concat(__es.1, ${digitChar('__es.2')}), __es.2, __es.3, true), tuple(concat(__es.1, ${digitChar(`(${tt} + (__es.2 - ${tt}) % (36 - ${tt}))`)}), ${i64(`intDiv(__es.2 - ${tt}, 36 - ${tt})`)}, ${i64('__es.3 + 36')}, false))), range(16), tuple('', ${q}, toInt64(36), false)).1`;
      };
      // One pass over the code points for code point n1: state (out, delta, bias, h).
      const inner = (n1: string, start: string) =>
        `arrayFold((__q, __x) -> multiIf(__x < ${n1}, tuple(__q.1, ${i64('__q.2 + 1')}, __q.3, __q.4), __x = ${n1}, tuple(concat(__q.1, ${emit('__q.2', '__q.3')}), toInt64(0), ${adapt('__q.2', i64('__q.4 + 1'), `__q.4 = ${b}`)}, ${i64('__q.4 + 1')}), __q), ${cps}, ${start})`;
      const ms = `arraySort(arrayDistinct(arrayFilter(__x -> __x >= 128, ${cps})))`;
      // Over the non-basic code points in increasing order: state (out, delta, bias, h, n).
      const outer = `arrayFold((__o, __m) -> ${withValue(
        inner('__m', `tuple(__o.1, ${i64('__o.2 + (__m - __o.5) * (__o.4 + 1)')}, __o.3, __o.4)`),
        (r) => `tuple(${r}.1, ${i64(`${r}.2 + 1`)}, ${r}.3, ${r}.4, ${i64('__m + 1')})`,
      )}, ${ms}, tuple(concat(${basic}, if(${b} > 0, '-', '')), toInt64(0), toInt64(72), ${b}, toInt64(128)))`;
      return `${outer}.1`;
    }),
  );
}

/** Domain labels split at any IDNA full stop (`.`, `。`, `．`, `｡`). */
const LABELS = (d: string) => `splitByRegexp('[.\\\\x{3002}\\\\x{FF0E}\\\\x{FF61}]', ${d})`;

export const ENCODING_FUNCTIONS: Readonly<Record<string, Template>> = {
  hash,
  hash_xxhash64: hash,
  punycode_to_string: (args, ctx) => punycodeDecode(s(arg(args, 0, ctx))),
  punycode_from_string: (args, ctx) => punycodeEncode(s(arg(args, 0, ctx))),
  punycode_domain_to_string: (args, ctx) =>
    `arrayStringConcat(arrayMap(__lb -> if(lower(left(__lb, 4)) = 'xn--', ${punycodeDecode('substring(__lb, 5)')}, __lb), ${LABELS(s(arg(args, 0, ctx)))}), '.')`,
  punycode_domain_from_string: (args, ctx) =>
    `arrayStringConcat(arrayMap(__lb -> if(match(__lb, '[^\\\\x00-\\\\x7F]'), concat('xn--', ${punycodeEncode('__lb')}), __lb), ${LABELS(s(arg(args, 0, ctx)))}), '.')`,
};
