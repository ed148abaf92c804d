/**
 * String and regex functions on DuckDB with Kusto's results (expected values from the KQL documentation's examples
 * and recorded Kusto results).
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

describe('search and positions', () => {
  it('indexof with start, length and occurrence (documented examples)', async () => {
    expect(
      await k.row(
        "print indexof('abcdefg','cde'), indexof('abcdefg','cde',1,4), indexof('abcdefg','cde',1,2), indexof('abcdefg','cde',3,4), indexof('abcdefg','cde',-5), indexof(1234567,5,1,4), indexof('abcdefg','cde',2,-1), indexof('abcdefgabcdefg', 'cde', 1, 10, 2), indexof('abcdefgabcdefg', 'cde', 1, -1, 3)",
      ),
    ).toEqual([2, 2, -1, -1, 2, 4, 2, 9, -1]);
  });

  it('indexof_regex', async () => {
    expect(
      await k.row("print indexof_regex('abcabc', 'a.c'), indexof_regex('abcabc', 'a.c', 1), indexof_regex('abc', 'x')"),
    ).toEqual([0, 3, -1]);
  });

  it('countof counts overlapping plain occurrences and non-overlapping regex matches', async () => {
    expect(
      await k.row(
        "print countof('The cat sat on the mat', 'at'), countof('aaa', 'a'), countof('aaaa', 'aa'), countof('ababa', 'ab', 'normal'), countof('ababa', 'aba'), countof('ababa', 'aba', 'regex'), countof('abcabc', 'a.c', 'regex')",
      ),
    ).toEqual([3, 3, 3, 2, 2, 1, 2]);
  });

  it('has_any_index', async () => {
    expect(
      await k.row(
        "print has_any_index('this is an example', dynamic(['this', 'example'])), has_any_index('this is an example', dynamic(['not', 'example'])), has_any_index('this is an example', dynamic(['not', 'found'])), has_any_index('this is an example', dynamic([]))",
      ),
    ).toEqual([0, 1, -1, -1]);
  });

  it('strcmp is ordinal', async () => {
    expect(
      await k.row("print strcmp('ABC','ABC'), strcmp('abc','ABC'), strcmp('ABC','abc'), strcmp('abcde','abc')"),
    ).toEqual([0, 1, -1, 1]);
  });
});

describe('extraction', () => {
  it('extract: a group of the first match, typed conversion, empty when nothing matches', async () => {
    expect(
      await k.row(
        "print extract('x=([0-9.]+)', 1, 'hello x=45.6|wo'), extract('x=([0-9.]+)', 1, 'hello x=45.6|wo', typeof(real)), extract('(\\\\d+)', 0, 'none'), extract('(\\\\d+)', 1, 'none', typeof(long))",
      ),
    ).toEqual(['45.6', 45.6, '', null]);
  });

  it('extract_all: one group, several groups, selected groups, null when nothing matches', async () => {
    expect(await k.value("extract_all(@'(\\d+)', 'a1 b22 c333')")).toEqual(['1', '22', '333']);
    expect(await k.value("extract_all(@'([a-z])(\\d)', 'a1 b2 c3')")).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
    expect(
      await k.value("extract_all(@'(\\w)(\\w+)(\\w)', dynamic([1,3]), 'The price of PINEAPPLE ice cream is 20')"),
    ).toEqual([
      ['T', 'e'],
      ['p', 'e'],
      ['P', 'E'],
      ['i', 'e'],
      ['c', 'm'],
    ]);
    expect(await k.value("extract_all(@'(\\d)', 'no digits')")).toBe(null);
  });

  it('parse_command_line splits by the Windows rules', async () => {
    expect(await k.value("parse_command_line('echo \"hello world\" a\\\\\\\\\"b c', 'windows')")).toEqual([
      'echo',
      'hello world',
      'a\\b c',
    ]);
  });

  it('parse_csv', async () => {
    expect(await k.value('parse_csv(\'aaa,"b""bb",ccc,\')')).toEqual(['aaa', 'b"bb', 'ccc', '']);
  });

  it('parse_url, parse_urlquery, parse_path', async () => {
    expect(
      await k.value("parse_url('scheme://username:password@host:1234/this/is/a/path?k1=v1&k2=v2#fragment')"),
    ).toEqual({
      Scheme: 'scheme',
      Host: 'host',
      Port: '1234',
      Path: '/this/is/a/path',
      Username: 'username',
      Password: 'password',
      'Query Parameters': { k1: 'v1', k2: 'v2' },
      Fragment: 'fragment',
    });
    expect(await k.value("parse_urlquery('k1=v1&k2=v2&k3=v3')")).toEqual({
      'Query Parameters': { k1: 'v1', k2: 'v2', k3: 'v3' },
    });
    expect(await k.value("parse_path(@'C:\\temp\\file.txt')")).toEqual({
      Scheme: '',
      RootPath: 'C:',
      DirectoryPath: 'C:\\temp',
      DirectoryName: 'temp',
      Filename: 'file.txt',
      Extension: 'txt',
      AlternateDataStreamName: '',
    });
    expect(await k.value("parse_path('file://C:/temp/file.txt:some.exe')")).toEqual({
      Scheme: 'file',
      RootPath: 'C:',
      DirectoryPath: 'C:/temp',
      DirectoryName: 'temp',
      Filename: 'file.txt',
      Extension: 'txt',
      AlternateDataStreamName: 'some.exe',
    });
  });
});

describe('rewriting', () => {
  it('trim family removes one anchored match of the regex', async () => {
    expect(
      await k.row(
        "print trim_start('x','xxhelloxx'), trim_end('_','__world__'), trim(@'[x_]','xxhelloxx'), trim(@'[^\\w]+', '-  Te st1// $'), trim(@'\\s', '  spaced  ')",
      ),
    ).toEqual(['xhelloxx', '__world_', 'xhellox', 'Te st1', ' spaced ']);
  });

  it('replace_string, replace_regex (\\1 and $1 references), replace_strings priorities', async () => {
    expect(
      await k.row(
        "print replace_string('A magic trick', 'magic', 'cool'), replace_regex('aaa bbb', @'(\\w+) (\\w+)', @'\\2 \\1'), replace_regex('ab', '(a)', '$1$1')",
      ),
    ).toEqual(['A cool trick', 'bbb aaa', 'aab']);
    expect(
      await k.row(
        "print replace_strings('This is an example', dynamic(['This', 'is']), dynamic(['This', 'was'])), replace_strings('This is an example', dynamic(['is', 'This']), dynamic(['was', 'This']))",
      ),
    ).toEqual(['This was an example', 'Thwas was an example']);
  });

  it('translate repeats the last replacement character and deletes with an empty list', async () => {
    expect(
      await k.row(
        "print translate('abc', 'x', 'abc'), translate('abc', '', 'ab'), translate('krasp', 'otsku', 'spark')",
      ),
    ).toEqual(['xxx', '', 'kusto']);
  });

  it('substring, split with index, strrep, reverse, strcat_delim', async () => {
    expect(
      await k.row(
        "print substring('123456', 1), substring('123456', 2, 2), substring('ABCD', -2, 2), split('aa_bb', '_', 1), split('aa_bb', '_', 5), strrep('ABC', 2, '-'), reverse('abc'), strcat_delim('-', 'a', 1, true)",
      ),
    ).toEqual(['23456', '34', 'CD', ['bb'], [], 'ABC-ABC', 'cba', 'a-1-True']);
  });

  it('regex_quote escapes like .NET Regex.Escape', async () => {
    expect(await k.value("regex_quote('(so$me.Te^xt)')")).toBe('\\(so\\$me\\.Te\\^xt\\)');
  });

  it('unicode code points both ways', async () => {
    expect(await k.value("unicode_codepoints_from_string('קוסטו - Kusto')")).toEqual([
      1511, 1493, 1505, 1496, 1493, 32, 45, 32, 75, 117, 115, 116, 111,
    ]);
    expect(await k.value('unicode_codepoints_to_string(dynamic([75, 117, 115]), 116, 111)')).toBe('Kusto');
  });

  it('format_bytes', async () => {
    expect(
      await k.row(
        "print format_bytes(564), format_bytes(10332, 1), format_bytes(20010332), format_bytes(20010332, 2), format_bytes(20010332, 0, 'KB')",
      ),
    ).toEqual(['564 Bytes', '10.1 KB', '19 MB', '19.08 MB', '19541 KB']);
  });

  it('strlen counts characters, string_size bytes; isascii', async () => {
    expect(await k.row("print strlen('héllo'), string_size('héllo'), isascii('abc'), isascii('héllo')")).toEqual([
      5,
      6,
      true,
      false,
    ]);
  });
});
