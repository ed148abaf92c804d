/**
 * Encoding and hashing on DuckDB with Kusto's results: base64 (text, bytes, .NET-ordered guids), URL encoding with
 * .NET's lower-case escapes, cryptographic hashes of a value's text, hash()/hash_xxhash64 (xxHash64 of UTF-8 text
 * or of little-endian ticks; the documented values), zlib stored blocks (the documented sample).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScalarRunner } from './scalar-support.js';

let k: ScalarRunner;
beforeAll(async () => {
  k = await ScalarRunner.open();
});
afterAll(async () => {
  await k?.close();
});

describe('base64', () => {
  it('strings both ways; invalid input decodes to an empty string', async () => {
    expect(
      await k.row(
        "print base64_encode_tostring('Kusto1'), base64_decode_tostring('S3VzdG8x'), base64_decode_tostring('x0x0x0')",
      ),
    ).toEqual(['S3VzdG8x', 'Kusto1', '']);
  });

  it('byte arrays and guids (.NET byte order)', async () => {
    expect(
      await k.row(
        "print base64_decode_toarray('S3VzdG8='), base64_encode_fromarray(dynamic([75, 117, 115, 116, 111]))",
      ),
    ).toEqual([[75, 117, 115, 116, 111], 'S3VzdG8=']);
    expect(
      await k.row(
        "print base64_encode_fromguid(guid(ae3133f2-6e22-49ae-b06a-16e6a9b212eb)), base64_decode_toguid('8jMxriJurkmwahbmqbIS6w==')",
      ),
    ).toEqual(['8jMxriJurkmwahbmqbIS6w==', 'ae3133f2-6e22-49ae-b06a-16e6a9b212eb']);
  });
});

describe('URLs', () => {
  it('url_encode / url_encode_component use lower-case escapes; url_decode reverses them', async () => {
    expect(
      await k.row(
        "print url_encode('https://www.bing.com/hello world'), url_encode_component('https://www.bing.com/hello world'), url_decode('https%3a%2f%2fwww.bing.com%2f'), url_decode('a+b')",
      ),
    ).toEqual([
      'https%3a%2f%2fwww.bing.com%2fhello+world',
      'https%3a%2f%2fwww.bing.com%2fhello%20world',
      'https://www.bing.com/',
      'a b',
    ]);
  });
});

describe('hashes', () => {
  it('md5 / sha1 / sha256 of the value as text (datetimes in ISO form)', async () => {
    expect(
      await k.row("print hash_md5('World'), hash_md5(datetime(2020-01-01)), hash_sha256('World'), hash_sha1('World')"),
    ).toEqual([
      'f5a7924e621e84c9280a9a27e1bcb7f6',
      '786c530672d1f8db31fee25ea8a9390b',
      '78ae647dc5544d227130a0682a51e30bc7777fbb6d8a8f17007463a3ecd1d524',
      '70c07ec18ef89c5309bbb0937f3a6342411e1fdd',
    ]);
  });

  it('hash / hash_xxhash64: the documented values, modulo, and inputs longer than one 32-byte stripe', async () => {
    expect(
      await k.row(
        "print tostring(hash_xxhash64('World')), tostring(hash('Hello')), tostring(hash(datetime('2015-01-01'))), hash_xxhash64('World', 100), tostring(hash(strrep('abcdefgh', 10)))",
      ),
    ).toEqual(['1846988464401551951', '753694413698530628', '1380966698541616202', 51, '-3976628763398479147']);
  });
});

describe('compression', () => {
  it('zlib_compress_to_base64_string writes stored blocks, as Kusto does (documented sample)', async () => {
    expect(await k.value("zlib_compress_to_base64_string('1234567890qwertyuiop')")).toBe(
      'eAEBFADr/zEyMzQ1Njc4OTBxd2VydHl1aW9wOAkGdw==',
    );
  });
});

describe('punycode', () => {
  it('encodes and decodes labels and domains (documented examples)', async () => {
    expect(
      await k.row(
        "print punycode_from_string('académie-française'), punycode_to_string('acadmie-franaise-npb1a'), punycode_to_string('not-valid-!'), punycode_domain_from_string('Lê Lợi。Thuận Thiên。com'), punycode_domain_to_string('xn--Riill-jta.xn--Skldskaparml-dbbj.org')",
      ),
    ).toEqual([
      'acadmie-franaise-npb1a',
      'académie-française',
      '',
      'xn--L Li-gpa4517b.xn--Thun Thin-s4a7194f.com',
      'Riðill.Skáldskaparmál.org',
    ]);
  });
});
