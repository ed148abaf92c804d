#!/usr/bin/env node
// Generates packages/kql/src/catalog/generated/{functions,aggregates,plugins}.generated.ts: every built-in scalar
// function, special function, aggregate and plugin of KQL as plain data (names, signatures, parameter rules, return
// rules, result naming, determinism), seeded from Microsoft Kusto.Language's symbol tables (MIT).
// Run: node tools/gen-catalog.mjs        (deterministic: running it twice gives no diff)
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('@kusto/language-service-next/bridge.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.js');
const K = globalThis.Kusto.Language;
const S = K.Symbols;
const pkg = JSON.parse(
  fs.readFileSync(new URL('../node_modules/@kusto/language-service-next/package.json', import.meta.url)),
);

const arr = (l) => {
  if (!l) return [];
  if (Array.isArray(l)) return l;
  const o = [];
  for (let i = 0; i < l.Count; i++) o.push(l.getItem(i));
  return o;
};
const enumNames = (e) =>
  Object.fromEntries(
    Object.entries(e)
      .filter(([k, v]) => typeof v === 'number' && /^[A-Z]/.test(k))
      .map(([k, v]) => [v, k]),
  );
const paramKind = enumNames(S.ParameterTypeKind);
const argKind = enumNames(S.ArgumentKind);
const retKind = enumNames(S.ReturnTypeKind);
const tabularity = enumNames(S.Tabularity);
// ResultNameKind.Default is an alias of None (value 0).
const resultNameKind = { ...enumNames(S.ResultNameKind), 0: 'None' };

const SPECIAL = new Set(
  fs
    .readFileSync(new URL('../fixtures/shared/kql/special-functions.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#')),
);

// Functions whose value is not a pure function of their arguments: never constant-folded, cached or hoisted.
// Decided from their semantics (clock, randomness, session/cluster state, ingestion metadata, row order, I/O).
const NON_DETERMINISTIC = new Set([
  // clock and randomness
  'now',
  'ago',
  'rand',
  'new_guid',
  // session, cluster and principal state
  'current_cluster_endpoint',
  'current_database',
  'current_principal',
  'current_principal_details',
  'current_principal_is_member_of',
  'current_node_id',
  // ingestion and storage metadata of the row
  'ingestion_time',
  'cursor_after',
  'cursor_before_or_at',
  'cursor_current',
  'extent_id',
  'extent_tags',
  'rowstore_ordinal_range',
  // depend on the order of a serialized row set
  'row_number',
  'row_cumsum',
  'row_rank',
  'row_rank_min',
  'row_rank_dense',
  'row_window_session',
  'prev',
  'next',
  // aggregates returning an arbitrary row's value
  'any',
  'anyif',
  'take_any',
  'take_anyif',
  // plugins that sample or reach outside the query's data
  'preview',
  'http_request',
  'http_request_post',
  'sql_request',
  'mysql_request',
  'postgresql_request',
  'cosmosdb_sql_request',
  'dax_request',
  'azure_digital_twins_query_request',
  'execute_query',
  'execute_show_command',
  'external_datatable',
  'python',
  'r',
  'csharp',
  'ai_embed_text',
  'ai_embeddings',
  'ai_chat_completion',
  'ai_chat_completion_prompt',
]);

function typeName(t) {
  if (!t) return undefined;
  if (t.Kind === S.SymbolKind.Table || t.$$name === 'Kusto.Language.Symbols.TableSymbol') {
    return `(${arr(t.Columns)
      .map((c) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.Name) ? c.Name : `['${c.Name}']`}:${c.Type.Name}`)
      .join(', ')})`;
  }
  return t.Name;
}

// Kusto types dynamic values more finely than Vigil (typed arrays and bags); the shape is kept because parameters
// that take an array reject a bag and vice versa.
const DYNAMIC_SHAPES = {
  'Kusto.Language.Symbols.DynamicArraySymbol': 'array',
  'Kusto.Language.Symbols.DynamicBagSymbol': 'bag',
};

function layoutName(sig) {
  const n = sig.Layout?.$$name?.replace('Kusto.Language.Symbols.', '') ?? '';
  if (n === 'NonRepeatingParameterLayout') return 'Fixed';
  if (n === 'RepeatingParameterLayout')
    return sig.Layout._allowSkippingOptionalParameters ? 'RepeatingSkipping' : 'Repeating';
  if (n === 'BlockRepeatingParameterLayout') return 'BlockRepeating';
  if (n === 'CustomParameterLayout') return 'Custom';
  throw new Error(`unknown parameter layout ${n}`);
}

function param(p) {
  const d = {
    name: p.Name,
    typeKind: paramKind[p.TypeKind],
    // the ai_* plugins use an argument kind (13) missing from this build's enum; its binder checks nothing for it,
    // exactly as for a plain expression
    argumentKind: argKind[p.ArgumentKind] ?? 'Expression',
    minOccurring: p.MinOccurring,
    maxOccurring: p.MaxOccurring,
  };
  if (!d.typeKind || !d.argumentKind) throw new Error(`unmapped parameter kind on ${p.Name}`);
  if (p.TypeKind === S.ParameterTypeKind.Declared) {
    const names = arr(p.DeclaredTypes).map(typeName);
    if (names.length === 1 && names[0] === 'type') d.typeLiteral = true;
    else d.types = names;
  }
  const values = arr(p.Values).map(String);
  if (values.length) d.values = values;
  if (p.IsCaseSensitive) d.isCaseSensitive = true;
  if (p.DefaultValueIndicator) d.defaultValueIndicator = p.DefaultValueIndicator;
  if (p.DefaultValue) d.defaultValue = p.DefaultValue.ToString();
  return d;
}

function signature(fn, s) {
  const d = { returnKind: retKind[s.ReturnKind] };
  if (s.ReturnKind === S.ReturnTypeKind.Declared) {
    d.returnType = typeName(s.DeclaredReturnType);
    const shape = DYNAMIC_SHAPES[s.DeclaredReturnType.$$name];
    if (shape) d.returnShape = shape;
  }
  if (s.ReturnKind === S.ReturnTypeKind.Custom) d.customReturn = fn.Name;
  if (s.ReturnKind === S.ReturnTypeKind.Computed) d.body = s.Body;
  d.params = arr(s.Parameters).map(param);
  d.tabularity = tabularity[s.Tabularity] === 'Unspecified' ? 'Unknown' : tabularity[s.Tabularity];
  d.layout = layoutName(s);
  if (s.IsHidden) d.isHidden = true;
  if (s.IsObsolete) d.isObsolete = true;
  if (s.Alternative) d.alternative = s.Alternative;
  return d;
}

function fnDef(f, kind) {
  const d = { name: f.Name, kind, signatures: arr(f.Signatures).map((s) => signature(f, s)) };
  d.resultNameKind = resultNameKind[f.ResultNameKind];
  if (f.ResultNamePrefix) d.resultNamePrefix = f.ResultNamePrefix;
  if (f.IsHidden) d.isHidden = true;
  if (f.IsObsolete) d.isObsolete = true;
  if (f.Alternative) d.alternative = f.Alternative;
  d.deterministic = !NON_DETERMINISTIC.has(f.Name);
  if (f.IsConstantFoldable) d.isConstantFoldable = true;
  // all/any/map/node_id/... exist only inside graph-match/graph-shortest-paths clauses
  if (f.CustomAvailability) d.availability = 'graph';
  if (f.Description) d.description = f.Description;
  return d;
}

// materialize(), toscalar() and totable() are expressions of their own in Kusto's grammar, not symbols; they are
// declared here so that the catalog is complete. Their binding is special-cased by the binder.
const SYNTAX_FUNCTIONS = [
  {
    name: 'materialize',
    kind: 'special',
    signatures: [
      {
        returnKind: 'Parameter0',
        params: [
          { name: 'expression', typeKind: 'Tabular', argumentKind: 'Expression', minOccurring: 1, maxOccurring: 1 },
        ],
        tabularity: 'Tabular',
        layout: 'Fixed',
      },
    ],
    resultNameKind: 'None',
    deterministic: true,
    description: 'Caches the result of a tabular expression for the duration of the query.',
  },
  {
    name: 'toscalar',
    kind: 'special',
    signatures: [
      {
        returnKind: 'Custom',
        customReturn: 'toscalar',
        params: [{ name: 'expression', typeKind: 'Any', argumentKind: 'Expression', minOccurring: 1, maxOccurring: 1 }],
        tabularity: 'Scalar',
        layout: 'Fixed',
      },
    ],
    resultNameKind: 'None',
    deterministic: true,
    description: 'The value of the first column of the first row of a tabular expression.',
  },
  {
    name: 'totable',
    kind: 'special',
    signatures: [
      {
        returnKind: 'Custom',
        customReturn: 'totable',
        params: [
          { name: 'expression', typeKind: 'Scalar', argumentKind: 'Expression', minOccurring: 1, maxOccurring: 1 },
        ],
        tabularity: 'Tabular',
        layout: 'Fixed',
      },
    ],
    resultNameKind: 'None',
    deterministic: true,
    description: 'A one-column table holding the value of a scalar expression.',
  },
];

const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const functions = [
  ...arr(K.Functions.All).map((f) => fnDef(f, SPECIAL.has(f.Name) ? 'special' : 'scalar')),
  ...SYNTAX_FUNCTIONS,
].sort(byName);
const aggregates = arr(K.Aggregates.All)
  .map((f) => fnDef(f, 'aggregate'))
  .sort(byName);
const plugins = arr(K.PlugIns.All)
  .map((f) => fnDef(f, 'plugin'))
  .sort(byName);

for (const list of [functions, aggregates, plugins]) {
  for (let i = 1; i < list.length; i++)
    if (list[i].name === list[i - 1].name) throw new Error(`duplicate ${list[i].name}`);
}

const lit = (v) => JSON.stringify(v);
function emitParam(p) {
  return `{ ${Object.entries(p)
    .map(([k, v]) => `${k}: ${lit(v)}`)
    .join(', ')} }`;
}
function emitSig(s) {
  const head = Object.entries(s)
    .filter(([k]) => k !== 'params')
    .map(([k, v]) => `${k}: ${lit(v)}`)
    .join(', ');
  const params = s.params.length
    ? `[\n${s.params.map((p) => `          ${emitParam(p)},`).join('\n')}\n        ]`
    : '[]';
  return `      {\n        ${head},\n        params: ${params},\n      }`;
}
function emitFn(f) {
  const fields = Object.entries(f)
    .filter(([k]) => k !== 'signatures')
    .map(([k, v]) => `    ${k}: ${lit(v)},`)
    .join('\n');
  return `  {\n${fields}\n    signatures: [\n${f.signatures.map(emitSig).join(',\n')},\n    ],\n  }`;
}
function emitFile(constName, what, list) {
  return `// Generated by tools/gen-catalog.mjs from @kusto/language-service-next ${pkg.version} — do not edit.
// ${what}: seeded from Microsoft Kusto.Language symbol tables, MIT (Copyright (c) Microsoft Corporation).
import type { FunctionDef } from '../types.js';

export const ${constName}: readonly FunctionDef[] = [
${list.map(emitFn).join(',\n')},
];
`;
}

const dir = new URL('../packages/kql/src/catalog/generated/', import.meta.url);
const files = {
  'functions.generated.ts': emitFile('FUNCTIONS', 'Scalar and special functions', functions),
  'aggregates.generated.ts': emitFile('AGGREGATES', 'Aggregate functions', aggregates),
  'plugins.generated.ts': emitFile('PLUGINS', 'Plugins (evaluate operator)', plugins),
};
if (process.argv.includes('--check')) {
  // used by the tests: the committed files must be exactly what this generator produces
  const stale = Object.entries(files).filter(([f, text]) => {
    const p = new URL(f, dir);
    return !fs.existsSync(p) || fs.readFileSync(p, 'utf8') !== text;
  });
  for (const [f] of stale) console.error(`stale: ${f} (run node tools/gen-catalog.mjs)`);
  process.exit(stale.length ? 1 : 0);
}
fs.mkdirSync(dir, { recursive: true });
for (const [f, text] of Object.entries(files)) fs.writeFileSync(new URL(f, dir), text);
console.log(`wrote ${functions.length} functions, ${aggregates.length} aggregates, ${plugins.length} plugins`);
