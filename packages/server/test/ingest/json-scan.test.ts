import { describe, expect, it } from 'vitest';
import {
  arrayElements,
  compactRecord,
  objectMembers,
  type ScanResult,
  scanRecords,
  stringValue,
} from '../../src/ingest/json-scan.js';

const scan = (text: string | Buffer): ScanResult => scanRecords(typeof text === 'string' ? Buffer.from(text) : text);

/** The records' texts, when the scan succeeded. */
function records(text: string): string[] {
  const r = scan(text);
  if (!r.ok) throw new Error(`scan failed at ${r.offset}: ${r.message}`);
  const b = Buffer.from(text);
  return r.starts.map((s, i) => b.toString('utf8', s, r.ends[i]));
}

/** Offset (in bytes) and message of the first error. */
function error(text: string | Buffer): { offset: number; record: number; message: string } {
  const r = scan(text);
  if (r.ok) throw new Error('expected a syntax error');
  return { offset: r.offset, record: r.record, message: r.message };
}

/** A seeded generator, so failures reproduce. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('scanRecords: record boundaries', () => {
  it('finds NDJSON records, with LF or CRLF, blank lines and a missing final newline', () => {
    expect(records('{"a":1}\n{"b":"x"}\n')).toEqual(['{"a":1}', '{"b":"x"}']);
    expect(records('{"a":1}\r\n\r\n  {"b":[1,2,{"c":null}]}')).toEqual(['{"a":1}', '{"b":[1,2,{"c":null}]}']);
    expect(records('')).toEqual([]);
    expect(records(' \n\t\r\n')).toEqual([]);
  });

  it('tells whether the body is already one record per line', () => {
    const lineSeparated = (text: string) => {
      const r = scan(text);
      return r.ok && r.lineSeparated;
    };
    expect(lineSeparated('{"a":1}\n{"a":2}')).toBe(true);
    expect(lineSeparated('\uFEFF {"a":1}\r\n\n  {"a":2}  \n')).toBe(true);
    expect(lineSeparated('{"a":1} {"a":2}\n')).toBe(false);
    expect(lineSeparated('{"a":\n1}\n')).toBe(false);
    expect(lineSeparated('[{"a":1}]')).toBe(false);
  });

  it("tells whether every record has the first record's top-level keys, in order (nested keys do not count)", () => {
    const uniform = (text: string) => {
      const r = scan(text);
      if (!r.ok) throw new Error(r.message);
      return r.uniformKeys;
    };
    expect(uniform('{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n{ "a" : 3 , "b" : {"c":1,"d":[{"e":2}]} }')).toBe(true);
    expect(uniform('[{"a":1,"b":2},{"a":3,"b":4}]')).toBe(true);
    expect(uniform('{"a":1}')).toBe(true);
    expect(uniform('{}\n{}')).toBe(true);
    expect(uniform('{"a":1,"b":2}\n{"a":1,"b":2,"c":3}')).toBe(false); // a key more
    expect(uniform('{"a":1,"b":2}\n{"a":1}')).toBe(false); // a key fewer
    expect(uniform('{"a":1,"b":2}\n{"b":1,"a":2}')).toBe(false); // another order
    expect(uniform('{"ab":1}\n{"ac":1}')).toBe(false); // same length, another key
    expect(uniform('{"a":1}\n{}')).toBe(false);
    expect(uniform('{}\n{"a":1}')).toBe(false);
    expect(uniform('{"a":1}\n{"\\u0061":1}')).toBe(false); // the same key escaped: not proven equal, so not uniform
    expect(uniform('{"a":{"x":1}}\n{"a":{"y":1}}')).toBe(true);
  });

  it('finds the elements of a JSON array body', () => {
    const r = scan('[ {"a":1} , {"b":2}]\n');
    expect(r.ok && r.form).toBe('array');
    expect(records('[{"a":1},{"b":2}]')).toEqual(['{"a":1}', '{"b":2}']);
    expect(records('[]')).toEqual([]);
    expect(records(' [ ] ')).toEqual([]);
  });

  it('skips a UTF-8 byte order mark', () => {
    expect(records('\uFEFF{"a":1}\n')).toEqual(['{"a":1}']);
    expect(records('\uFEFF[{"a":1}]')).toEqual(['{"a":1}']);
  });

  it('flags records that span several lines, and compacts them to one line without touching strings', () => {
    const text = '{\n  "a": 1,\n  "b": "x y\\n z",\n  "c": [ 1, 2 ]\n}\n{"d":2}\n';
    const r = scan(text);
    if (!r.ok) throw new Error(r.message);
    expect(r.multiline).toEqual([0]);
    const b = Buffer.from(text);
    const one = compactRecord(b, r.starts[0] as number, r.ends[0] as number).toString();
    expect(one).toBe('{"a":1,"b":"x y\\n z","c":[1,2]}');
    expect(JSON.parse(one)).toEqual(JSON.parse(`${text.split('\n}\n')[0]}\n}`));
  });

  it('keeps multi-byte UTF-8 and escapes inside strings', () => {
    expect(records('{"é":"日本語 \\u00e9 \\ud83d\\ude00 😀"}')).toEqual(['{"é":"日本語 \\u00e9 \\ud83d\\ude00 😀"}']);
  });

  it('handles deep nesting without recursion', () => {
    const deep = `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(records(deep)).toHaveLength(1);
    expect(error(`{"a":${'['.repeat(20000)}${']'.repeat(20000)}}`).message).toMatch(/nesting deeper/);
  });

  it('agrees with JSON.parse on the records of long generated bodies (strings hit every word alignment)', () => {
    const next = random(7);
    const pieces = ['plain', 'with "quote"', 'back\\slash', 'tab\there', 'uni é 日', 'x'.repeat(37), ''];
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const o: Record<string, unknown> = {};
      const n = 1 + Math.floor(next() * 6);
      for (let k = 0; k < n; k++) {
        const p = pieces[Math.floor(next() * pieces.length)] as string;
        o[`k${k}${p.slice(0, Math.floor(next() * 5))}`] =
          next() < 0.5 ? p.repeat(1 + Math.floor(next() * 3)) : next() < 0.5 ? next() * 1e6 - 5e5 : [p, null, true];
      }
      lines.push(JSON.stringify(o));
    }
    // Offsets of 0..3 in the underlying buffer exercise the four-byte string scan at each alignment.
    for (let shift = 0; shift < 4; shift++) {
      const text = `${lines.join('\n')}\n`;
      const backing = Buffer.alloc(Buffer.byteLength(text) + shift);
      backing.write(text, shift);
      const r = scan(backing.subarray(shift));
      if (!r.ok) throw new Error(`${r.message} at ${r.offset}`);
      expect(r.starts.length).toBe(lines.length);
      const b = backing.subarray(shift);
      expect(r.starts.map((s, i) => b.toString('utf8', s, r.ends[i]))).toEqual(lines);
    }
  });
});

describe('scanRecords: syntax errors with their byte offset', () => {
  const cases: [name: string, text: string, offset: number, record: number, message: RegExp][] = [
    ['unterminated string', '{"a":"x', 7, 0, /unterminated string/],
    ['missing colon', '{"a" 1}', 5, 0, /expected ':'/],
    ['missing comma', '{"a":1 "b":2}', 7, 0, /expected ',' or '}'/],
    ['trailing comma (DuckDB accepts it; JSON does not)', '{"a":1,}', 7, 0, /expected a string key/],
    ['single quotes', "{'a':1}", 1, 0, /expected a string key/],
    ['bare word', '{"a":yes}', 5, 0, /unexpected character/],
    ['NaN', '{"a":NaN}', 5, 0, /unexpected character/],
    ['leading zero', '{"a":012}', 6, 0, /expected ',' or '}'/],
    ['dangling decimal point', '{"a":1.}', 7, 0, /decimal point/],
    ['dangling exponent', '{"a":1e}', 7, 0, /exponent/],
    ['raw control character in a string', '{"a":"x\ty"}', 7, 0, /control character/],
    ['bad escape', '{"a":"\\x"}', 6, 0, /invalid escape/],
    ['short \\u escape', '{"a":"\\u12"}', 6, 0, /four hex digits/],
    ['lone high surrogate', '{"a":"\\ud800x"}', 6, 0, /high surrogate/],
    ['lone low surrogate', '{"a":"\\udc00"}', 6, 0, /low surrogate/],
    ['second record broken', '{"a":1}\n{"a":}\n', 13, 1, /unexpected character/],
    ['a record that is not an object', '{"a":1}\n[1]\n', 8, 1, /record 1 is not a JSON object/],
    ['a scalar record', '42\n', 0, 0, /record 0 is not a JSON object/],
    ['unclosed object at the end', '{"a":{"b":1}', 12, 0, /unexpected end of data/],
    ['garbage after a record', '{"a":1} x', 8, 1, /not a JSON object/],
    ['unclosed array body', '[{"a":1}', 8, 1, /not closed/],
    ['content after an array body', '[{"a":1}] {"b":2}', 10, 1, /after the array/],
    ['array body element not an object', '[{"a":1}, 2]', 10, 1, /record 1 is not a JSON object/],
    ['mismatched bracket', '{"a":[1,2}', 9, 0, /expected ',' or '\]'/],
    // Keys of later records are matched against the first record's bytes; a near match must still be checked.
    ['later key: the first key plus a control character', '{"ab":1}\n{"ab\t":1}', 13, 1, /control character/],
    ['later key unterminated', '{"ab":1}\n{"ab', 13, 1, /unterminated string/],
    ['later key: the first key, then no colon', '{"ab":1}\n{"ab"1}', 14, 1, /expected ':'/],
  ];
  it.each(cases)('%s', (_name, text, offset, record, message) => {
    const e = error(text);
    expect(e.message).toMatch(message);
    expect({ offset: e.offset, record: e.record }).toEqual({ offset, record });
  });

  it('reports invalid UTF-8 at the first bad byte', () => {
    const b = Buffer.concat([Buffer.from('{"a":"ok é"}\n{"b":"x'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(error(b)).toMatchObject({ offset: 21, message: 'invalid UTF-8' });
    // An encoded surrogate (CESU-8) is not UTF-8 either.
    expect(error(Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]))).toMatchObject({ offset: 2 });
  });

  it('never accepts a record that JSON.parse rejects (mutated valid records)', () => {
    const next = random(11);
    const base = '{"a":[1,2.5e-3,{"b":"x\\"y","c":null}],"d":true,"e":"日本","f":-0.0}';
    const alphabet = '{}[]":,\\ -+.eE0123456789tfnulxa\n\t';
    for (let i = 0; i < 3000; i++) {
      const chars = [...base];
      const at = Math.floor(next() * chars.length);
      const op = next();
      const ch = alphabet[Math.floor(next() * alphabet.length)] as string;
      if (op < 0.33) chars.splice(at, 1);
      else if (op < 0.66) chars.splice(at, 0, ch);
      else chars[at] = ch;
      const text = chars.join('');
      const r = scan(text);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
      if (r.ok && r.starts.length === 1 && r.form === 'ndjson') {
        expect(isObject, text).toBe(true);
      }
      if (isObject && !/\\u/.test(text)) expect(r.ok, text).toBe(true);
    }
  });
});

describe("scanRecords: later records repeating the first record's keys", () => {
  it('never accepts a later record that JSON.parse rejects, and accepts every one it takes', () => {
    const next = random(13);
    const first = '{"a\\"b":1,"key":"v","k\\u0041":[1],"x":{"key":2}}';
    const base = '{"a\\"b":2,"key":"w","k\\u0041":[3],"x":{"key":4}}';
    const alphabet = '{}[]":,\\ -+.eE0123456789tfnulxabk\n\t';
    for (let i = 0; i < 3000; i++) {
      const chars = [...base];
      const at = Math.floor(next() * chars.length);
      const op = next();
      const ch = alphabet[Math.floor(next() * alphabet.length)] as string;
      if (op < 0.33) chars.splice(at, 1);
      else if (op < 0.66) chars.splice(at, 0, ch);
      else chars[at] = ch;
      const second = chars.join('');
      const r = scan(`${first}\n${second}\n`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(second);
      } catch {
        parsed = undefined;
      }
      const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
      if (r.ok && r.starts.length === 2) expect(isObject, second).toBe(true);
      if (isObject && !/\\u(?!0041)/.test(second)) expect(r.ok, second).toBe(true);
      if (r.ok && r.uniformKeys && isObject) {
        expect(Object.keys(parsed as object), second).toEqual(Object.keys(JSON.parse(first)));
      }
    }
  });
});

describe('member and element helpers over validated bytes', () => {
  it('lists an object’s members with their value spans, decoding escaped keys', () => {
    const text =
      '{ "records" : [ {"category":"AdvancedHunting-DeviceEvents","properties":{"a":[1,"]"]}} ], "\\u0078":"y" }';
    const b = Buffer.from(text);
    const members = objectMembers(b, 0, b.length);
    expect(members.map((m) => m.key)).toEqual(['records', 'x']);
    const records = members[0] as { start: number; end: number };
    const elements = arrayElements(b, records.start, records.end);
    expect(elements).toHaveLength(1);
    const el = elements[0] as { start: number; end: number };
    const inner = objectMembers(b, el.start, el.end);
    const category = inner.find((m) => m.key === 'category');
    const properties = inner.find((m) => m.key === 'properties');
    expect(category && stringValue(b, category.start, category.end)).toBe('AdvancedHunting-DeviceEvents');
    expect(properties && b.toString('utf8', properties.start, properties.end)).toBe('{"a":[1,"]"]}');
    expect(stringValue(b, el.start, el.end)).toBeUndefined();
  });
});
