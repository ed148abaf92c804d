/**
 * The lexical and parameter tables in src/syntax/tables.ts are data copied from Kusto.Language; this test recomputes
 * them from the installed analyzer, so an upgrade that changes keywords or operator parameters fails here (then run
 * test/support/gen-syntax-tables.cjs and review the diff).
 */
import { describe, expect, it } from 'vitest';
import * as T from '../../src/syntax/tables.js';
import { kustoLanguage } from '../support/oracle.js';

interface BridgeList<X> {
  readonly Count: number;
  getItem(i: number): X;
}
type Listish<X> = BridgeList<X> | X[] | { GetEnumerator(): { moveNext(): boolean; Current: X } };

function toArray<X>(l: Listish<X>): X[] {
  if (Array.isArray(l)) return [...l]; // Bridge arrays carry an extra `$type` property
  if ('Count' in l) return Array.from({ length: l.Count }, (_, i) => l.getItem(i));
  const out: X[] = [];
  const e = l.GetEnumerator();
  while (e.moveNext()) out.push(e.Current);
  return out;
}

interface BridgeParam {
  Name: string;
  ValueKind: number;
  Aliases: Listish<string>;
  Values: Listish<string>;
  HasNoEquals: boolean;
}

describe('syntax tables match the installed Kusto.Language', () => {
  const K = kustoLanguage() as unknown as {
    Syntax: {
      SyntaxFacts: {
        GetKindsWithFixedText(): Listish<number>;
        GetText(k: number): string;
        GetCategory(k: number): number;
        CanBeIdentifier(k: number): boolean;
        IsType(k: number): boolean;
      };
      SyntaxCategory: Record<string, number>;
    };
    KustoFacts: Record<string, Listish<number | string>>;
    Parsing: { TokenParser: { TimespanSuffixes: Listish<string> } };
    QueryOperatorParameters: Record<string, Listish<BridgeParam> | BridgeParam>;
    QueryOperatorParameterValueKind: Record<string, number>;
  };
  const SF = K.Syntax.SyntaxFacts;
  const keywordCategory = K.Syntax.SyntaxCategory.Keyword;
  const fixed = toArray(SF.GetKindsWithFixedText());
  const text = (k: number) => SF.GetText(k);

  it('has the same keywords and punctuation', () => {
    const keywords = fixed.filter((k) => SF.GetCategory(k) === keywordCategory);
    expect([...T.IDENTIFIER_KEYWORDS]).toEqual(keywords.filter((k) => SF.CanBeIdentifier(k)).map(text));
    expect([...T.RESERVED_KEYWORDS]).toEqual(keywords.filter((k) => !SF.CanBeIdentifier(k)).map(text));
    expect([...T.PUNCTUATION]).toEqual(fixed.filter((k) => SF.GetCategory(k) !== keywordCategory).map(text));
    expect([...T.TYPE_KEYWORDS]).toEqual(keywords.filter((k) => SF.IsType(k)).map(text));
  });

  it('has the same keyword-as-name sets and value lists', () => {
    const kinds = (name: string) => toArray(K.KustoFacts[name] as Listish<number>).map(text);
    expect(T.EXTENDED_IDENTIFIER_KEYWORDS).toEqual([...new Set(kinds('ExtendedKeywordsAsIdentifiers'))]);
    expect(T.SPECIAL_IDENTIFIER_KEYWORDS).toEqual(kinds('SpecialKeywordsAsIdentifiers'));
    const strings = (name: string) => toArray(K.KustoFacts[name] as Listish<string>);
    expect(T.CHART_TYPES).toEqual(strings('ChartTypes'));
    expect(T.KNOWN_PARAMETER_NAMES).toEqual(strings('KnownQueryOperatorParameterNames'));
    expect(T.DATA_SCOPE_VALUES).toEqual(strings('DataScopeValues'));
    expect(T.SCAN_STEP_OUTPUT_VALUES).toEqual(strings('ScanStepOutputValues'));
    expect(T.TIMESPAN_SUFFIXES).toEqual(toArray(K.Parsing.TokenParser.TimespanSuffixes));
  });

  it('has the same query operator parameters', () => {
    const kindNames = new Map(
      Object.entries(K.QueryOperatorParameterValueKind)
        .filter(([, v]) => typeof v === 'number')
        .map(([k, v]) => [v, k]),
    );
    const info = (p: BridgeParam): T.ParamInfo => {
      const out: { -readonly [K in keyof T.ParamInfo]: T.ParamInfo[K] } = {
        name: p.Name,
        kind: kindNames.get(p.ValueKind) as T.ParamValueKind,
      };
      const aliases = toArray(p.Aliases);
      if (aliases.length) out.aliases = aliases;
      const values = toArray(p.Values);
      if (values.length) out.values = values;
      if (p.HasNoEquals) out.noEquals = true;
      return out;
    };
    for (const [name, expected] of Object.entries(T.PARAMS)) {
      const actual = K.QueryOperatorParameters[name] as Listish<BridgeParam> | BridgeParam;
      const computed = Array.isArray(expected)
        ? toArray(actual as Listish<BridgeParam>).map(info)
        : info(actual as BridgeParam);
      expect(computed, name).toEqual(expected);
    }
  });
});
