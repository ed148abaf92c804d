/**
 * Agreement with Microsoft's parser. For every query of the agreement query set (see test/support/query-set.ts),
 * the syntax verdict (an error diagnostic or none) must match `KustoCode.Parse` of `@kusto/language-service-next` on
 * at least 99.8% of queries, the tree shapes must match Kusto's syntax trees, and the tokens Kusto's lexer. The oracle runs live (it takes ~20 s cold for
 * the ~2,600 queries); disagreements are printed and the reviewed ones are explained in DISAGREEMENTS.md.
 */
import { describe, expect, it } from 'vitest';
import type * as N from '../../src/syntax/index.js';
import { parse, tokenize } from '../../src/syntax/index.js';
import type { OracleSyntaxNode } from '../support/oracle.js';
import { kustoLanguage, oracleSyntaxTree } from '../support/oracle.js';
import { loadQuerySet } from '../support/query-set.js';

const REQUIRED_AGREEMENT = 0.998;

/**
 * Tree shapes compared with Kusto's syntax tree, as sorted lists of node spans per category: how expressions group
 * (binary, in, between, pipe), query operators, parentheses and member/element access. Other node kinds differ by
 * design (one dynamic Literal for Kusto's JSON nodes, scan assignments as NamedExpr, ...).
 */
const KUSTO_CATEGORY: readonly [RegExp, string][] = [
  [/^(Pipe|In|InCs|NotIn|NotInCs|HasAny|HasAll|Between|NotBetween)Expression$/, 'expression'],
  [
    /^(Add|Subtract|Multiply|Divide|Modulo|(LessThan|GreaterThan)(OrEqual)?|(Not)?Equal|And|Or)Expression$/,
    'expression',
  ],
  [/^(EqualTilde|BangTilde|Search|MatchesRegex)Expression$/, 'expression'],
  [/^(Not)?(Has|HasPrefix|HasSuffix|Like|Contains|StartsWith|EndsWith)(Cs)?Expression$/, 'expression'],
  [/^(DataTable|ExternalData)Expression$/, 'operator'],
  [/^(?!Bad|ExecuteAndCache|PartitionBy|InlineExternalTable)\w+Operator$/, 'operator'],
  [/^ParenthesizedExpression$/, 'paren'],
  [/^(Path|Element)Expression$/, 'path'],
];

const OPERATOR_KINDS: ReadonlySet<string> = new Set([
  'Where',
  'Project',
  'ProjectAway',
  'ProjectKeep',
  'ProjectRename',
  'ProjectReorder',
  'ProjectByNames',
  'Extend',
  'Summarize',
  'Count',
  'Take',
  'Top',
  'TopNested',
  'TopHitters',
  'Sort',
  'Distinct',
  'Join',
  'Lookup',
  'Union',
  'MvExpand',
  'MvApply',
  'Parse',
  'ParseWhere',
  'ParseKv',
  'MakeSeries',
  'Evaluate',
  'Render',
  'Serialize',
  'Sample',
  'SampleDistinct',
  'As',
  'GetSchema',
  'Consume',
  'Invoke',
  'Fork',
  'Facet',
  'Partition',
  'Scan',
  'Reduce',
  'MacroExpand',
  'AssertSchema',
  'Search',
  'Find',
  'Datatable',
  'ExternalData',
  'Range',
  'Print',
  'GraphOperator',
]);

function kustoShape(nodes: readonly OracleSyntaxNode[]): string {
  const out: string[] = [];
  for (const n of nodes) {
    const category = KUSTO_CATEGORY.find(([re]) => re.test(n.kind))?.[1];
    if (category) out.push(`${category}@${n.start}..${n.end}`);
  }
  return out.sort().join(' ');
}

function vigilShape(root: N.QueryRoot): string {
  const out: string[] = [];
  const stack: N.Node[] = [root];
  while (stack.length > 0) {
    const n = stack.pop() as N.Node;
    const k = n.kind;
    if (k === 'Binary' || k === 'In' || k === 'Between' || k === 'Pipe') out.push(`expression@${n.start}..${n.end}`);
    else if (OPERATOR_KINDS.has(k)) out.push(`operator@${n.start}..${n.end}`);
    else if (k === 'Paren') out.push(`paren@${n.start}..${n.end}`);
    else if (k === 'Member' || k === 'Index' || (k === 'Call' && n.target)) out.push(`path@${n.start}..${n.end}`);
    for (const v of Object.values(n)) {
      for (const c of Array.isArray(v) ? v : [v]) {
        if (c && typeof c === 'object' && typeof (c as { kind?: unknown }).kind === 'string') stack.push(c as N.Node);
      }
    }
  }
  return out.sort().join(' ');
}

describe('agreement with Kusto.Language', () => {
  const cases = loadQuerySet();

  it('loads the whole query set', () => {
    expect(cases.length).toBeGreaterThan(2500);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  it(`agrees on syntax verdicts for at least ${REQUIRED_AGREEMENT * 100}% of the query set, with the same tree shapes`, () => {
    const disagreements: string[] = [];
    const shapeDifferences: string[] = [];
    for (const c of cases) {
      const parsed = parse(c.query);
      const mine = parsed.diagnostics.filter((d) => d.severity === 'error');
      const oracle = oracleSyntaxTree(c.query);
      if ((mine.length === 0) !== oracle.ok) {
        const first = mine[0] ?? oracle.diagnostics.find((d) => d.severity === 'error');
        const at = first ? ` at ${first.start}: ${first.message}` : '';
        disagreements.push(`${c.id}: Vigil ${mine.length === 0 ? 'accepts' : 'rejects'}, Kusto disagrees${at}`);
      }
      if (oracle.ok && kustoShape(oracle.nodes) !== vigilShape(parsed.root)) shapeDifferences.push(c.id);
    }
    const rate = 1 - disagreements.length / cases.length;
    console.log(
      `syntax verdicts agree on ${cases.length - disagreements.length}/${cases.length} queries (${(rate * 100).toFixed(2)}%); ` +
        `tree shapes differ on ${shapeDifferences.length}`,
    );
    for (const d of disagreements) console.log(`  ${d}`);
    for (const id of shapeDifferences) console.log(`  shape differs: ${id}`);
    expect(rate).toBeGreaterThanOrEqual(REQUIRED_AGREEMENT);
    expect(shapeDifferences).toEqual([]);
  });

  it("produces Kusto's tokens for every query of the set", () => {
    const K = kustoLanguage() as unknown as {
      Parsing: {
        TokenParser: { ParseTokens(text: string, options: null): ArrayLike<{ Kind: number; Text: string }> };
      };
      Syntax: { SyntaxKind: Record<string, number>; SyntaxFacts: { GetText(kind: number): string } };
    };
    const names = new Map<number, string>();
    for (const [name, value] of Object.entries(K.Syntax.SyntaxKind))
      if (typeof value === 'number') names.set(value, name);
    // Kusto's names of variable-text tokens, mapped to ours; fixed-text tokens compare by text
    const variable: Record<string, string> = {
      IdentifierToken: 'Identifier',
      StringLiteralToken: 'StringLiteral',
      LongLiteralToken: 'LongLiteral',
      IntLiteralToken: 'IntLiteral',
      RealLiteralToken: 'RealLiteral',
      DecimalLiteralToken: 'DecimalLiteral',
      BooleanLiteralToken: 'BooleanLiteral',
      DateTimeLiteralToken: 'DateTimeLiteral',
      TimespanLiteralToken: 'TimespanLiteral',
      GuidLiteralToken: 'GuidLiteral',
      RawGuidLiteralToken: 'RawGuidLiteral',
      DirectiveToken: 'Directive',
      BadToken: 'BadToken',
      EndOfTextToken: 'EndOfText',
    };
    const mismatches: string[] = [];
    for (const c of cases) {
      const theirs = Array.from(K.Parsing.TokenParser.ParseTokens(c.query, null), (t) => {
        const name = names.get(t.Kind) ?? '?';
        return `${variable[name] ?? K.Syntax.SyntaxFacts.GetText(t.Kind)}:${t.Text}`;
      }).filter((t) => t !== 'EndOfText:');
      const ours = tokenize(c.query)
        .tokens.map((t) => `${t.kind}:${t.text}`)
        .filter((t) => t !== 'EndOfText:');
      if (theirs.join('\u0000') !== ours.join('\u0000')) mismatches.push(c.id);
    }
    expect(mismatches).toEqual([]);
  });
});
