/**
 * Lexer unit tests: token kinds and texts for every literal and string form, offsets and trivia, and the error
 * cases. The whole query set is also compared token by token with Kusto.Language's lexer in oracle-syntax.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { tokenize } from '../../src/syntax/index.js';

/** `kind:text` of each token except the final EndOfText. */
function kinds(text: string): string[] {
  return tokenize(text)
    .tokens.slice(0, -1)
    .map((t) => `${t.kind}:${t.text}`);
}

describe('lexer: literals', () => {
  it.each([
    ['1', 'LongLiteral:1'],
    ['0x1F', 'LongLiteral:0x1F'],
    ['1.5', 'RealLiteral:1.5'],
    ['1.', 'RealLiteral:1.'],
    ['1e3', 'RealLiteral:1e3'],
    ['2.5E-3', 'RealLiteral:2.5E-3'],
    ['2d', 'TimespanLiteral:2d'],
    ['1.5h', 'TimespanLiteral:1.5h'],
    ['30m', 'TimespanLiteral:30m'],
    ['10s', 'TimespanLiteral:10s'],
    ['100ms', 'TimespanLiteral:100ms'],
    ['5microseconds', 'TimespanLiteral:5microseconds'],
    ['1tick', 'TimespanLiteral:1tick'],
    ['3nanos', 'TimespanLiteral:3nanos'],
    ['int(5)', 'IntLiteral:int(5)'],
    ['long(null)', 'LongLiteral:long(null)'],
    ['real(nan)', 'RealLiteral:real(nan)'],
    ['real(+inf)', 'RealLiteral:real(+inf)'],
    ['double(1)', 'RealLiteral:double(1)'],
    ['decimal(1.5)', 'DecimalLiteral:decimal(1.5)'],
    ['bool(null)', 'BooleanLiteral:bool(null)'],
    ['datetime(2015-12-31 23:59:59.9)', 'DateTimeLiteral:datetime(2015-12-31 23:59:59.9)'],
    ['date(2020-01-01)', 'DateTimeLiteral:date(2020-01-01)'],
    ['timespan(1.02:03:04.5)', 'TimespanLiteral:timespan(1.02:03:04.5)'],
    ['time(1h)', 'TimespanLiteral:time(1h)'],
    ['guid(74be27de-1e4e-49d9-b579-fe0b331d3642)', 'GuidLiteral:guid(74be27de-1e4e-49d9-b579-fe0b331d3642)'],
    ['74be27de-1e4e-49d9-b579-fe0b331d3642', 'RawGuidLiteral:74be27de-1e4e-49d9-b579-fe0b331d3642'],
    ['true', 'BooleanLiteral:true'],
    ['FALSE', 'BooleanLiteral:FALSE'],
    ['True', 'BooleanLiteral:True'],
  ])('%s', (text, expected) => {
    expect(kinds(text)).toEqual([expected]);
  });

  it('does not take a number glued to letters as a literal', () => {
    expect(kinds('1abc 1e3d 1mins')).toEqual(['Identifier:1abc', 'Identifier:1e3d', 'Identifier:1mins']);
  });

  it('lexes `1..2` as a range and `1...` as a real followed by ..', () => {
    expect(kinds('1..2')).toEqual(['LongLiteral:1', '..:..', 'LongLiteral:2']);
    expect(kinds('1...')).toEqual(['RealLiteral:1.', '..:..']);
  });

  it('keeps `dynamic(` and `typeof(` as keywords (their content is parsed)', () => {
    expect(kinds('dynamic([1])')).toEqual(['dynamic:dynamic', '(:(', '[:[', 'LongLiteral:1', ']:]', '):)']);
    expect(kinds('typeof(long)')).toEqual(['typeof:typeof', '(:(', 'long:long', '):)']);
  });
});

describe('lexer: strings', () => {
  it.each([
    [`'abc'`],
    [`"a\\"b\\n"`],
    [`@'c:\\temp'`],
    [`@"say ""hi"""`],
    [`h'hidden'`],
    [`H"hidden"`],
    [`h@'hidden\\x'`],
    ['```multi\nline```'],
    ['~~~tilde~~~'],
    ['h```hidden multi```'],
    [`'\\u00e9\\x41\\101\\U0001F600'`],
  ])('%s is one string token', (text) => {
    const { tokens, diagnostics } = tokenize(text);
    expect(tokens.map((t) => t.kind)).toEqual(['StringLiteral', 'EndOfText']);
    expect(tokens[0]?.text).toBe(text);
    expect(diagnostics).toEqual([]);
  });

  it('reports an unterminated string at its end and keeps its text', () => {
    const { tokens, diagnostics } = tokenize(`print 'abc`);
    expect(tokens[1]).toMatchObject({ kind: 'StringLiteral', text: `'abc`, start: 6, end: 10 });
    expect(diagnostics).toEqual([{ code: 'KQL0001', severity: 'error', message: `Missing: '`, start: 10, length: 0 }]);
  });

  it('ends a quoted string at a line break', () => {
    expect(kinds(`'ab\ncd'`)).toEqual([`StringLiteral:'ab`, 'Identifier:cd', `StringLiteral:'`]);
  });

  it('stops a string at an invalid escape, as Kusto does', () => {
    const { tokens, diagnostics } = tokenize(`"a\\qb"`);
    expect(tokens.map((t) => `${t.kind}:${t.text}`)).toEqual([
      'StringLiteral:"a',
      'BadToken:\\',
      'Identifier:qb',
      'StringLiteral:"',
      'EndOfText:',
    ]);
    expect(diagnostics.map((d) => d.code)).toEqual(['KQL0001', 'KQL0003', 'KQL0001']);
  });

  it('reports an unterminated multi-line string', () => {
    const { diagnostics } = tokenize('print ```abc');
    expect(diagnostics).toEqual([
      { code: 'KQL0001', severity: 'error', message: 'Missing: ```', start: 12, length: 0 },
    ]);
  });

  it('reports a typed literal without closing parenthesis at the line break', () => {
    const { tokens, diagnostics } = tokenize('datetime(2020-01-01\n)');
    expect(tokens[0]).toMatchObject({ kind: 'DateTimeLiteral', text: 'datetime(2020-01-01' });
    expect(diagnostics[0]).toMatchObject({ code: 'KQL0101', message: 'Missing: )', start: 19 });
  });
});

describe('lexer: keywords, names and punctuation', () => {
  it('matches the longest keyword, case-sensitively', () => {
    expect(kinds('project-away project-awayx Where where')).toEqual([
      'project-away:project-away',
      'Identifier:project',
      '-:-',
      'Identifier:awayx',
      'Identifier:Where',
      'where:where',
    ]);
  });

  it('lexes operators with ! and ~ as single keywords', () => {
    expect(kinds('!has !in~ in~ !between !contains_cs =~ !~ !=')).toEqual([
      '!has:!has',
      '!in~:!in~',
      'in~:in~',
      '!between:!between',
      '!contains_cs:!contains_cs',
      '=~:=~',
      '!~:!~',
      '!=:!=',
    ]);
  });

  it('lexes `matches regex` as one keyword (one space only)', () => {
    expect(kinds('x matches regex "a"')).toEqual(['Identifier:x', 'matches regex:matches regex', 'StringLiteral:"a"']);
    expect(kinds('x matches  regex "a"')[1]).toBe('Identifier:matches');
  });

  it('lexes $left and punctuation', () => {
    expect(kinds('$left.a == $right.b => <| <> <= >= .. @ ?')).toEqual([
      'Identifier:$left',
      '.:.',
      'Identifier:a',
      '==:==',
      'Identifier:$right',
      '.:.',
      'Identifier:b',
      '=>:=>',
      '<|:<|',
      '<>:<>',
      '<=:<=',
      '>=:>=',
      '..:..',
      '@:@',
      '?:?',
    ]);
  });

  it('turns characters outside the language into bad tokens with a diagnostic', () => {
    const { tokens, diagnostics } = tokenize('a ~ é');
    expect(tokens.map((t) => t.kind)).toEqual(['Identifier', 'BadToken', 'BadToken', 'EndOfText']);
    expect(diagnostics.map((d) => [d.code, d.start, d.length])).toEqual([
      ['KQL0003', 2, 1],
      ['KQL0003', 4, 1],
    ]);
  });
});

describe('lexer: offsets and trivia', () => {
  it('attaches whitespace and comments to the following token', () => {
    const text = '  T // comment\n\t| take 1 // end';
    const { tokens } = tokenize(text);
    expect(tokens.map((t) => [t.kind, t.start, t.end, t.trivia])).toEqual([
      ['Identifier', 2, 3, '  '],
      ['|', 16, 17, ' // comment\n\t'],
      ['take', 18, 22, ' '],
      ['LongLiteral', 23, 24, ' '],
      ['EndOfText', 31, 31, ' // end'],
    ]);
    for (const t of tokens) expect(text.slice(t.start, t.end)).toBe(t.text);
  });

  it('measures offsets in UTF-16 code units', () => {
    const { tokens } = tokenize(`print '😀' , x`);
    expect(tokens.map((t) => [t.start, t.end])).toEqual([
      [0, 5],
      [6, 10],
      [11, 12],
      [13, 14],
      [14, 14],
    ]);
  });

  it('always ends with one EndOfText token', () => {
    expect(tokenize('').tokens).toEqual([{ kind: 'EndOfText', text: '', start: 0, end: 0, trivia: '' }]);
    expect(tokenize('// only a comment').tokens.map((t) => t.kind)).toEqual(['EndOfText']);
  });
});
