/**
 * Parser unit tests: tree shapes that later stages rely on (precedence, operator fields, statements), literal values,
 * and the error-tolerance contract (complete trees, Missing nodes with diagnostics). The golden files show whole
 * printed trees; these tests pin down specific facts.
 */
import { describe, expect, it } from 'vitest';
import type * as N from '../../src/syntax/index.js';
import { parse } from '../../src/syntax/index.js';

function expr(text: string): N.Expr {
  const { root, diagnostics } = parse(text);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const s = root.statements[root.statements.length - 1];
  if (s?.kind !== 'ExprStatement') throw new Error(`expected an expression statement in ${text}`);
  return s.expr;
}

/** The single printed item of `print <x>`. */
function printed(text: string): N.Expr {
  const e = expr(`print ${text}`);
  if (e.kind !== 'Print') throw new Error('expected print');
  return e.items[0] as N.Expr;
}

function literal(text: string): N.Literal {
  const e = printed(text);
  if (e.kind !== 'Literal') throw new Error(`expected a literal, got ${e.kind}`);
  return e;
}

function errorCodes(text: string): string[] {
  return parse(text)
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => d.code);
}

describe('expressions', () => {
  it('binds string operators tighter than arithmetic, as Kusto does', () => {
    const e = printed('a + b has c');
    expect(e).toMatchObject({ kind: 'Binary', op: '+', right: { kind: 'Binary', op: 'has' } });
  });

  it('orders or < and < equality < relational < additive < multiplicative', () => {
    const e = printed('a or b and c == d + e * f');
    expect(e).toMatchObject({
      op: 'or',
      right: { op: 'and', right: { op: '==', right: { op: '+', right: { op: '*' } } } },
    });
  });

  it('allows one equality, relational or string operator per level', () => {
    expect(errorCodes('print a == b == c')).toEqual(['KQL0107']);
    expect(errorCodes('print a < b < c')).toEqual(['KQL0107']);
    expect(errorCodes('print a has b has c')).toEqual(['KQL0107']);
  });

  it('normalizes operator aliases', () => {
    expect(printed('a notcontains b')).toMatchObject({ op: '!contains' });
    expect(printed('a containscs b')).toMatchObject({ op: 'contains_cs' });
    expect(printed('a notlikecs b')).toMatchObject({ op: '!like_cs' });
    expect(printed('a <> b')).toMatchObject({ op: '<>' });
  });

  it('parses in-lists, including a tabular sub-expression as the only element', () => {
    expect(printed('x in (1, 2)')).toMatchObject({ kind: 'In', op: 'in', list: [{ value: 1n }, { value: 2n }] });
    const sub = printed('x !in~ (T | project y)');
    expect(sub).toMatchObject({ kind: 'In', op: '!in~', list: [{ kind: 'Pipe', op: { kind: 'Project' } }] });
    expect(printed('x has_any ("a")')).toMatchObject({ kind: 'In', op: 'has_any' });
  });

  it('parses between and !between', () => {
    expect(printed('x !between (1 .. 2)')).toMatchObject({ kind: 'Between', negated: true, low: { value: 1n } });
  });

  it('parses member access, indexing and calls with targets', () => {
    expect(printed('d.a[0]')).toMatchObject({
      kind: 'Index',
      expr: { kind: 'Member', expr: { name: 'd' }, member: { name: 'a' } },
      index: { value: 0n },
    });
    expect(printed("database('db').T")).toMatchObject({
      kind: 'Member',
      expr: { kind: 'Call' },
      member: { name: 'T' },
    });
    expect(printed('T.f(1)')).toMatchObject({ kind: 'Call', target: { name: 'T' }, name: { name: 'f' } });
  });

  it('keeps named arguments and star arguments', () => {
    expect(printed('f(1, x = 2, *)')).toMatchObject({
      kind: 'Call',
      args: [{ kind: 'Literal' }, { kind: 'NamedArg', name: { name: 'x' }, value: { value: 2n } }, { kind: 'Star' }],
    });
  });

  it('reads toscalar and materialize as calls of the keyword', () => {
    expect(printed('toscalar(T | count)')).toMatchObject({ kind: 'Call', name: { name: 'toscalar' } });
    const root = parse('let m = materialize(T); m').root;
    expect(root.statements[0]).toMatchObject({ kind: 'Let', value: { kind: 'Call', name: { name: 'materialize' } } });
  });

  it('reads `Column:term` in search predicates as has', () => {
    const e = expr('search Col:"abc"');
    expect(e).toMatchObject({ kind: 'Search', predicate: { kind: 'Binary', op: 'has' } });
  });

  it('accepts keywords that can be identifiers as names, and reports reserved ones', () => {
    expect(printed('count')).toMatchObject({ kind: 'Name', name: 'count' });
    expect(expr('T | extend range = 1, bin = 2').kind).toBe('Pipe');
    const first = parse('print first, x');
    expect(first.diagnostics).toEqual([
      {
        code: 'KQL0104',
        severity: 'error',
        message: "The name 'first' needs to be bracketed as ['first'] to be used in this context",
        start: 6,
        length: 5,
      },
    ]);
    expect(errorCodes('T | extend a-b = 1')).toEqual(['KQL0104']);
    expect(printed("['first']")).toMatchObject({ kind: 'Name', name: 'first', bracketed: true });
  });
});

describe('literal values', () => {
  it.each<[string, N.LiteralType, unknown]>([
    ['1', 'long', 1n],
    ['0x1F', 'long', 31n],
    ['int(5)', 'int', 5n],
    ['long(null)', 'long', null],
    ['1.5', 'real', 1.5],
    ['1e3', 'real', 1000],
    ['real(nan)', 'real', Number.NaN],
    ['real(+inf)', 'real', Number.POSITIVE_INFINITY],
    ['real(-inf)', 'real', Number.NEGATIVE_INFINITY],
    ['decimal(1.50)', 'decimal', '1.50'],
    ['true', 'bool', true],
    ['bool(null)', 'bool', null],
    ['guid(74BE27DE-1e4e-49d9-b579-fe0b331d3642)', 'guid', '74be27de-1e4e-49d9-b579-fe0b331d3642'],
    ['datetime(1970-01-01)', 'datetime', 0n],
    ['datetime(2015-12-31 23:59:59.9)', 'datetime', 14516063999_000_000n],
    ['datetime(2015-12-31T23:59:59.9Z)', 'datetime', 14516063999_000_000n],
    ['datetime("2015-12-31 23:59:59.9")', 'datetime', 14516063999_000_000n],
    ['datetime(2017 - 08 - 01)', 'datetime', 15015456000_000_000n],
    ['datetime(Sat, 01 Jan 2022 00:00:00 GMT)', 'datetime', 16409952000_000_000n],
    ['datetime(Saturday, 01-Jan-22 00:00:00 GMT)', 'datetime', 16409952000_000_000n],
    ['datetime(01/16/2022 00:00:00)', 'datetime', 16422912000_000_000n],
    ['datetime(0001-01-01)', 'datetime', -621_355_968_000_000_000n],
    ['datetime(null)', 'datetime', null],
    ['2d', 'timespan', 2n * 864_000_000_000n],
    ['1.5h', 'timespan', 54_000_000_000n],
    ['100ms', 'timespan', 1_000_000n],
    ['5microseconds', 'timespan', 50n],
    ['1tick', 'timespan', 1n],
    [
      'timespan(1.02:03:04.5)',
      'timespan',
      864_000_000_000n + 72_000_000_000n + 1_800_000_000n + 40_000_000n + 5_000_000n,
    ],
    ['time(null)', 'timespan', null],
    ["'a\\tb'", 'string', 'a\tb'],
    ['@"c:\\x ""q"""', 'string', 'c:\\x "q"'],
    ["h'secret'", 'string', 'secret'],
    ["'a' \"b\" @'c'", 'string', 'abc'],
    ['```line1\nline2```', 'string', 'line1\nline2'],
  ])('%s', (text, type, value) => {
    const lit = literal(text);
    expect(lit.type).toBe(type);
    expect(lit.value).toEqual(value);
    expect(lit.text).toBe(text);
  });

  it('reads signed numbers as literals where only literals may appear, and as unary minus elsewhere', () => {
    expect(expr('datatable(a:long, b:timespan, c:real)[-5, -1d, +2.5]')).toMatchObject({
      values: [
        { kind: 'Literal', value: -5n, text: '-5' },
        { kind: 'Literal', value: -864_000_000_000n, text: '-1d' },
        { kind: 'Literal', value: 2.5, text: '+2.5' },
      ],
    });
    expect(printed('-5')).toMatchObject({ kind: 'Unary', op: '-', operand: { value: 5n } });
  });

  it('decodes dynamic values with bigint longs and tagged datetimes', () => {
    const lit = literal('dynamic({"a": [1, -2.5, null, true], "b": datetime(1970-01-01), "c": 1d, "d": {}})');
    expect(lit.value).toEqual({
      a: [1n, -2.5, null, true],
      b: { $datetime: 0n },
      c: { $timespan: 864_000_000_000n },
      d: {},
    });
    expect(literal('dynamic(null)').value).toBeNull();
    expect(literal("dynamic(['x'])").value).toEqual(['x']);
  });

  it('warns about literal text it cannot interpret, leaving syntax verdicts to Kusto', () => {
    const { diagnostics } = parse('print datetime(garbage), long(99999999999999999999)');
    expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ['KQL0004', 'warning'],
      ['KQL0004', 'warning'],
    ]);
  });

  it('rejects raw guids', () => {
    expect(errorCodes('print 74be27de-1e4e-49d9-b579-fe0b331d3642')).toEqual(['KQL0006']);
  });
});

describe('query operators', () => {
  it('builds pipes left-deep, with the source first', () => {
    const e = expr('T | where a | take 1');
    expect(e).toMatchObject({ kind: 'Pipe', left: { kind: 'Pipe', left: { name: 'T' } }, op: { kind: 'Take' } });
  });

  it('parses join parameters and conditions', () => {
    const e = expr('T | join kind=leftouter hint.strategy=broadcast (U) on k, $left.a == $right.b');
    expect(e).toMatchObject({
      op: {
        kind: 'Join',
        params: [
          { name: 'kind', value: { kind: 'Name', name: 'leftouter' } },
          { name: 'hint.strategy', value: { name: 'broadcast' } },
        ],
        right: { kind: 'Paren' },
        on: [
          { kind: 'Name', name: 'k' },
          { kind: 'Binary', op: '==' },
        ],
        where: null,
      },
    });
  });

  it('parses union legs with wildcards and parentheses', () => {
    const e = expr('union withsource=S isfuzzy=true T, U*, (V | take 1)');
    expect(e).toMatchObject({
      kind: 'Union',
      params: [{ name: 'withsource' }, { name: 'isfuzzy', value: { value: true } }],
      tables: [{ kind: 'Name' }, { kind: 'Wildcard', pattern: 'U*' }, { kind: 'Paren' }],
    });
  });

  it('parses summarize aggregates and by-clauses', () => {
    const e = expr('T | summarize n = count(), max(x) by bin(ts, 1h), k');
    expect(e).toMatchObject({
      op: {
        kind: 'Summarize',
        aggregates: [{ kind: 'NamedExpr', names: [{ name: 'n' }] }, { kind: 'Call' }],
        by: [{}, {}],
      },
    });
  });

  it('parses top, sort and project-reorder orderings', () => {
    expect(expr('T | top 3 by x asc nulls first')).toMatchObject({
      op: { kind: 'Top', count: { value: 3n }, by: { direction: 'asc', nulls: 'first' } },
    });
    expect(expr('T | sort by a, b desc')).toMatchObject({
      op: { kind: 'Sort', keyword: 'sort', by: [{ direction: null }, { direction: 'desc' }] },
    });
    expect(expr('T | project-reorder a* granny-desc')).toMatchObject({
      op: { items: [{ kind: 'Ordered', direction: 'desc', directionText: 'granny-desc' }] },
    });
  });

  it('parses mv-expand items with types and a limit', () => {
    expect(expr('T | mv-expand a, b = c to typeof(long) limit 5')).toMatchObject({
      op: {
        kind: 'MvExpand',
        keyword: 'mv-expand',
        items: [
          { expr: { name: 'a' }, toType: null },
          { expr: { kind: 'NamedExpr' }, toType: { scalar: 'long' } },
        ],
        limit: { value: 5n },
      },
    });
  });

  it('parses parse patterns', () => {
    expect(expr('T | parse kind=regex s with * "id=" id:long "," rest')).toMatchObject({
      op: {
        kind: 'Parse',
        params: [{ name: 'kind', value: { name: 'regex' } }],
        pattern: [
          { kind: 'Star' },
          { kind: 'Literal', value: 'id=' },
          { kind: 'ColumnDecl', name: { name: 'id' }, type: { scalar: 'long' } },
          { kind: 'Literal', value: ',' },
          { kind: 'ColumnDecl', name: { name: 'rest' }, type: null },
        ],
      },
    });
  });

  it('parses make-series in both range forms', () => {
    expect(expr('T | make-series count() default = 0 on ts from a to b step 1h by k')).toMatchObject({
      op: { kind: 'MakeSeries', inRange: false, aggregates: [{ defaultValue: { value: 0n } }], by: [{ name: 'k' }] },
    });
    expect(expr('T | make-series count() on ts in range(a, b, 1h)')).toMatchObject({
      op: { kind: 'MakeSeries', inRange: true, from: { name: 'a' }, to: { name: 'b' }, step: { type: 'timespan' } },
    });
  });

  it('parses render properties from both syntaxes', () => {
    expect(expr('T | render timechart with (title="t", ycolumns=a, b)')).toMatchObject({
      op: {
        kind: 'Render',
        chart: { name: 'timechart' },
        properties: [
          { name: 'title' },
          { name: 'ycolumns', value: { name: 'a' } },
          { name: 'ycolumns', value: { name: 'b' } },
        ],
      },
    });
    expect(expr('T | render barchart kind=stacked')).toMatchObject({
      op: { properties: [{ name: 'kind', value: { name: 'stacked' } }] },
    });
  });

  it('parses operators without input as expressions of their own', () => {
    expect(expr('range x from 1 to 3 step 1')).toMatchObject({ kind: 'Range', name: { name: 'x' } });
    expect(expr('datatable(a:long)[1, -2]')).toMatchObject({
      kind: 'Datatable',
      schema: { columns: [{ name: { name: 'a' }, type: { scalar: 'long' } }] },
      values: [{ value: 1n }, { value: -2n }],
    });
  });

  it('parses fork branches and partition sub-queries', () => {
    expect(expr('T | fork (take 1) b = (count)')).toMatchObject({
      op: { kind: 'Fork', branches: [{ kind: 'Take' }, { kind: 'NamedExpr', names: [{ name: 'b' }] }] },
    });
    expect(expr('T | partition by k (take 1)')).toMatchObject({ op: { kind: 'Partition', braces: false } });
  });

  it('reports an identifier after a pipe as an unknown operator', () => {
    const { root, diagnostics } = parse('T | foo');
    expect(diagnostics).toMatchObject([{ code: 'KQL0106', start: 4, length: 3 }]);
    expect(root.statements[0]).toMatchObject({ expr: { op: { kind: 'OtherOperator', keyword: 'foo' } } });
  });
});

describe('statements', () => {
  it('parses function declarations with tabular and defaulted parameters', () => {
    const { root } = parse('let f = view (T:(*), n:long = 5) { T | take n }; f(X)');
    expect(root.statements[0]).toMatchObject({
      kind: 'Let',
      value: {
        kind: 'FunctionDecl',
        isView: true,
        params: [
          { name: { name: 'T' }, type: { scalar: null, star: true } },
          { name: { name: 'n' }, type: { scalar: 'long' }, defaultValue: { value: 5n } },
        ],
        body: { statements: [], expr: { kind: 'Pipe' } },
      },
    });
  });

  it('parses batches of statements separated by semicolons', () => {
    const { root } = parse(
      'set x; declare query_parameters(a:long); alias database d = cluster("c").database("d"); T; U',
    );
    expect(root.statements.map((s) => s.kind)).toEqual([
      'Set',
      'DeclareQueryParameters',
      'Alias',
      'ExprStatement',
      'ExprStatement',
    ]);
  });

  it('reports a missing semicolon between statements', () => {
    const { diagnostics } = parse('let x = 1\nprint x');
    // on the next token, as Kusto reports a missing token separated by at most one whitespace character
    expect(diagnostics).toEqual([{ code: 'KQL0101', severity: 'error', message: 'Expected: ;', start: 10, length: 5 }]);
  });

  it('refuses management commands', () => {
    expect(errorCodes('.show tables')).toEqual(['KQL0901']);
  });
});

describe('error tolerance', () => {
  it('puts a zero-width Missing node where a required piece is absent', () => {
    const { root, diagnostics } = parse('T | where');
    expect(root.statements[0]).toMatchObject({
      expr: { op: { kind: 'Where', predicate: { kind: 'Missing', start: 9, end: 9 } } },
    });
    expect(diagnostics).toEqual([
      { code: 'KQL0103', severity: 'error', message: 'Missing expression', start: 9, length: 0 },
    ]);
  });

  it('reports tokens left over as one incomplete fragment', () => {
    expect(parse('T | take 1 ) ) )').diagnostics).toEqual([
      { code: 'KQL0107', severity: 'error', message: 'The incomplete fragment is unexpected', start: 11, length: 1 },
    ]);
  });

  it('gives spans that lie within the text and within their parents', () => {
    const text =
      'let f = (a:long) { a + 1 };\nT | where x in (1, 2) | extend y = f(x) | summarize count() by bin(ts, 1h)';
    const { root } = parse(text);
    const walk = (node: N.Node, parent: N.Span) => {
      expect(node.start).toBeLessThanOrEqual(node.end);
      expect(node.start).toBeGreaterThanOrEqual(parent.start);
      expect(node.end).toBeLessThanOrEqual(parent.end);
      for (const v of Object.values(node)) {
        const children = Array.isArray(v) ? v : [v];
        for (const c of children) if (c && typeof c === 'object' && 'kind' in c) walk(c as N.Node, node);
      }
    };
    walk(root, { start: 0, end: text.length });
  });
});
