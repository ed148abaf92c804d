// Regenerates packages/kql/src/syntax/tables.ts from the installed Kusto.Language (data only), after an upgrade of
// @kusto/language-service-next. Usage (from the repository root):
//   node packages/kql/test/support/gen-syntax-tables.cjs packages/kql/src/syntax/tables.ts && npx biome format --write packages/kql/src/syntax/tables.ts
// test/syntax/tables.test.ts fails when the committed tables and the installed analyzer differ.
require('@kusto/language-service-next/bridge.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.js');
const K = globalThis.Kusto.Language;
const arr = (l) => {
  if (!l) return [];
  if (Array.isArray(l)) return l;
  if (l.Count !== undefined) {
    const o = [];
    for (let i = 0; i < l.Count; i++) o.push(l.getItem(i));
    return o;
  }
  const o = [];
  const e = l.GetEnumerator();
  while (e.moveNext()) o.push(e.Current);
  return o;
};
const SF = K.Syntax.SyntaxFacts,
  SC = K.Syntax.SyntaxCategory;
const catName = {};
for (const k of Object.keys(SC)) if (typeof SC[k] === 'number') catName[SC[k]] = k;
const fixed = arr(SF.GetKindsWithFixedText()).map((k) => ({
  text: SF.GetText(k),
  cat: catName[SF.GetCategory(k)],
  id: SF.CanBeIdentifier(k),
  type: SF.IsType(k),
}));
const kws = fixed.filter((r) => r.cat === 'Keyword');
const punct = fixed.filter((r) => r.cat !== 'Keyword');
const txt = (k) => SF.GetText(k);
const ext = [...new Set(arr(K.KustoFacts.ExtendedKeywordsAsIdentifiers).map(txt))];
const special = arr(K.KustoFacts.SpecialKeywordsAsIdentifiers).map(txt);
const QOP = K.QueryOperatorParameters,
  VK = K.QueryOperatorParameterValueKind;
const vkName = {};
for (const k of Object.keys(VK)) if (typeof VK[k] === 'number') vkName[VK[k]] = k;
const fmt = (p) => {
  const o = { name: p.Name, kind: vkName[p.ValueKind] };
  const a = arr(p.Aliases);
  if (a.length) o.aliases = a;
  const v = arr(p.Values);
  if (v.length) o.values = v;
  if (p.HasNoEquals) o.noEquals = true;
  return o;
};
const lists = [
  'AllParameters',
  'AsParameters',
  'ConsumeParameters',
  'DataTableParameters',
  'DistinctParameters',
  'EvaluateParameters',
  'FilterParameters',
  'FindParameters',
  'GraphMatchParameters',
  'GraphShortestPathsParameters',
  'JoinParameters',
  'GraphMarkComponentsParameters',
  'LookupParameters',
  'MakeSeriesParameters',
  'MvApplyParameters',
  'MvExpandParameters',
  'ParseParameters',
  'PartitionByParameters',
  'PartitionParameters',
  'ReduceWithParameters',
  'GraphToTableEdgesParameters',
  'GraphToTableNodesParameters',
  'GraphMakeParameters',
  'SampleParameters',
  'SampleDistinctParameters',
  'ScanParameters',
  'SearchParameters',
  'SerializedParameters',
  'SortParameters',
  'SummarizeParameters',
  'TakeParameters',
  'TopParameters',
  'UnionParameters',
  'MacroExpandParameters',
  'RenderWithProperties',
  'ParseKvWithProperties',
];
const singles = [
  'RenderKind',
  'RenderTitle',
  'RenderAccumulate',
  'RenderWithDeprecated',
  'RenderByDeprecated',
  'ToScalarKindParameter',
  'ToTableKindParameter',
  'GetSchemaKind',
];
const params = {};
for (const n of lists) params[n] = arr(QOP[n]).map(fmt);
for (const n of singles) params[n] = fmt(QOP[n]);
const j = (x) => JSON.stringify(x);
const lines = [];
lines.push('/**');
lines.push(
  ' * Lexical and parameter tables of KQL, as Kusto.Language 12.4 (MIT, (c) Microsoft) defines them. Data only, copied',
);
lines.push(
  ' * from the installed analyzer by a script; `test/syntax/tables.test.ts` checks them against it, so an upgrade of the',
);
lines.push(' * oracle shows every difference. Do not edit by hand.');
lines.push(' */');
lines.push('');
lines.push('/** Keywords that can also be used as plain identifiers (`count`, `range`, `bin`, ...). */');
lines.push(`export const IDENTIFIER_KEYWORDS = ${j(kws.filter((r) => r.id).map((r) => r.text))} as const;`);
lines.push('');
lines.push('/** Keywords that must be bracketed to be used as identifiers (`where`, `first`, `string`, ...). */');
lines.push(`export const RESERVED_KEYWORDS = ${j(kws.filter((r) => !r.id).map((r) => r.text))} as const;`);
lines.push('');
lines.push(
  '/** Punctuation and operator tokens with fixed text (some, like `-->`, are only ever matched as token sequences). */',
);
lines.push(
  `export const PUNCTUATION = ${j(punct.map((r) => r.text))} as const;\n\n/** The text of every token with fixed text; a token's kind is its text for these. */\nexport type FixedText = (typeof IDENTIFIER_KEYWORDS)[number] | (typeof RESERVED_KEYWORDS)[number] | (typeof PUNCTUATION)[number];`,
);
lines.push('');
lines.push(
  '/** Keywords accepted as names in declarations and `name = expr` positions (Kusto\'s "extended" keywords-as-identifiers). */',
);
lines.push(`export const EXTENDED_IDENTIFIER_KEYWORDS: readonly FixedText[] = ${j(ext)};`);
lines.push('');
lines.push('/** Keywords accepted as bare path elements (`kind`, `withsource`, ...). */');
lines.push(`export const SPECIAL_IDENTIFIER_KEYWORDS: readonly FixedText[] = ${j(special)};`);
lines.push('');
lines.push(
  `/** Type keywords (long, boolean, uniqueid, ...). */\nexport const TYPE_KEYWORDS: readonly FixedText[] = ${j(kws.filter((r) => r.type).map((r) => r.text))};`,
);
lines.push(`export const TIMESPAN_SUFFIXES: readonly string[] = ${j(arr(K.Parsing.TokenParser.TimespanSuffixes))};`);
lines.push(`export const CHART_TYPES: readonly string[] = ${j(arr(K.KustoFacts.ChartTypes))};`);
lines.push(
  `export const KNOWN_PARAMETER_NAMES: readonly string[] = ${j(arr(K.KustoFacts.KnownQueryOperatorParameterNames))};`,
);
lines.push(`export const DATA_SCOPE_VALUES: readonly string[] = ${j(arr(K.KustoFacts.DataScopeValues))};`);
lines.push(`export const SCAN_STEP_OUTPUT_VALUES: readonly string[] = ${j(arr(K.KustoFacts.ScanStepOutputValues))};`);
lines.push('');
lines.push(
  "export type ParamValueKind =\n  | 'Any'\n  | 'StringLiteral'\n  | 'BoolLiteral'\n  | 'IntegerLiteral'\n  | 'NumericLiteral'\n  | 'SummableLiteral'\n  | 'ForcedRealLiteral'\n  | 'ScalarLiteral'\n  | 'String'\n  | 'Word'\n  | 'WordOrNumber'\n  | 'NameDeclaration'\n  | 'Column'\n  | 'ColumnList';",
);
lines.push('');
lines.push(
  'export interface ParamInfo {\n  readonly name: string;\n  readonly kind: ParamValueKind;\n  readonly aliases?: readonly string[];\n  readonly values?: readonly string[];\n  readonly noEquals?: boolean;\n}',
);
lines.push('');
lines.push('/** Query operator parameters (`kind=`, `hint.*=`, `withsource=`, ...) per operator. */');
lines.push('export const PARAMS = {');
for (const [k, v] of Object.entries(params)) lines.push(`  ${k}: ${j(v)},`);
lines.push('} as const satisfies Record<string, readonly ParamInfo[] | ParamInfo>;');
lines.push('');
require('node:fs').writeFileSync(process.argv[2], lines.join('\n'));
