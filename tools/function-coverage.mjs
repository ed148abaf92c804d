// Renders docs/kql-function-coverage.md: every KQL scalar function and aggregate (the lists in
// fixtures/shared/kql/) and whether the DuckDB dialect compiles it. Pure: the caller passes the dialect object, so
// the generator (tools/gen-function-coverage.mjs, built `dist`) and the staleness test (source) share it.

/**
 * Functions the lowering or the generator compiles without a dialect template: now()/ago() fold to literals,
 * toscalar() is a sub-select, column_ifexists() is decided at compile time, ingestion_time() is a hidden column, and
 * the window functions are composed from the dialect's relational primitives. Keep in sync with plan/lower.ts.
 */
const COMPILED_ELSEWHERE = {
  now: 'folded to a literal per query',
  ago: 'folded to a literal per query',
  toscalar: 'a sub-select',
  column_ifexists: 'decided at compile time',
  column_names_of: 'decided at compile time',
  ingestion_time: 'the hidden ingestion-time column',
  row_number: 'window function over serialized rows',
  row_cumsum: 'window function over serialized rows',
  prev: 'window function over serialized rows',
  next: 'window function over serialized rows',
  row_rank_dense: 'window function over serialized rows',
  row_rank_min: 'window function over serialized rows',
  row_window_session: 'window function over serialized rows',
  all: 'graph-match / graph-shortest-paths clauses: expanded per path element (plan/graph.ts)',
  any: 'graph-match / graph-shortest-paths clauses: expanded per path element (plan/graph.ts)',
  map: 'graph-match / graph-shortest-paths clauses: expanded per path element (plan/graph.ts)',
  inner_nodes: 'graph-match / graph-shortest-paths clauses: the inner nodes of a variable-length edge',
  node_degree_in: "graph-match / graph-shortest-paths clauses: the node's in-degree in the whole graph",
  node_degree_out: "graph-match / graph-shortest-paths clauses: the node's out-degree in the whole graph",
  node_id: 'graph-match / graph-shortest-paths clauses: hash of the node key (as graph-to-table shows ids)',
};

/** Aggregates the lowering rewrites into others (one column per requested percentile). */
const AGGREGATES_ELSEWHERE = {
  percentiles: 'lowered to one percentile() per value',
  percentilesw: 'lowered to one percentilew() per value',
};

/** Why a function is deliberately not supported (reviewed; anything else unsupported is simply not done yet). */
const NOT_SUPPORTED = {
  hash_combine: "Kusto's combining algorithm is undocumented and not reproduced by any common scheme",
  hash_many: "built on hash_combine's undocumented algorithm",
  gzip_compress_to_base64_string: "needs gzip's header/CRC layout exactly as Kusto writes it (no documented sample)",
  parse_user_agent: 'needs a user-agent database',
  datetime_list_timezones: "needs the engine's time-zone list at compile time",
  current_cluster_endpoint: 'service metadata, not data',
  current_database: 'service metadata, not data',
  current_principal: 'service metadata, not data',
  current_principal_details: 'service metadata, not data',
  current_principal_is_member_of: 'service metadata, not data',
  cursor_after: 'database cursors are not modelled',
  cursor_before_or_at: 'database cursors are not modelled',
  cursor_current: 'database cursors are not modelled',
  extent_id: 'storage extents are not modelled',
  extent_tags: 'storage extents are not modelled',
  labels: 'graph labels are not modelled (make-graph builds unlabelled graphs in Vigil)',
};

/** Limits of supported functions worth knowing (reviewed). */
const NOTES = {
  datetime_part: 'nanosecond is truncated to the storage µs',
  make_datetime: 'the 7th fractional digit is truncated to µs',
  extract: 'the capture group must be a constant',
  extract_all: 'capture groups must be constants',
  format_datetime: 'the format must be a constant',
  format_timespan: 'the format must be a constant',
  indexof_regex: 'pattern and occurrence must be constants',
  hash: 'real and decimal values are not hashed',
  hash_xxhash64: 'real and decimal values are not hashed',
  parse_command_line: 'the "windows" parser (CommandLineToArgvW rules)',
  zlib_compress_to_base64_string: 'stored deflate blocks, as Kusto writes them',
  zlib_decompress_from_base64_string: 'host function (inflate in TypeScript, node:zlib)',
  gzip_decompress_from_base64_string: 'host function (inflate in TypeScript, node:zlib)',
  parse_xml: 'host function (XML → JSON in TypeScript, Json.NET conventions)',
  parse_version: 'typed DECIMAL(38,0): versions need up to 32 integer digits',
};

function family(name) {
  const rules = [
    [/^geo_/, 'geo'],
    [/^series_/, 'series'],
    [
      /^(array_|bag_|set_|pack|zip|repeat|range|treepath|jaccard_index|dynamic_to_json|bag|todynamic|parse_json)/,
      'dynamic',
    ],
    [/^(ipv4_|ipv6_|parse_ipv|format_ipv4|has_.*ipv4)/, 'ip'],
    [/^(hash|base64_|url_|zlib_|gzip_|punycode_)/, 'encoding'],
    [/^(row_|prev$|next$)/, 'window'],
    [
      /^(datetime_|make_datetime|make_timespan|startof|endof|dayof|hourof|monthof|weekof|week_of|getmonth|getyear|unixtime_|format_datetime|format_timespan|now$|ago$|todatetime|totimespan)/,
      'datetime',
    ],
    [
      /^(to|gettype|isnull|isnotnull|isempty|isnotempty|iff|iif|case|coalesce|max_of|min_of|not$|column_|toscalar)/,
      'conversion/conditional',
    ],
    [
      /^(abs|acos|asin|atan|cos|cot|sin|tan|degrees|radians|pi|exp|log|gamma|loggamma|pow|sqrt|round|ceiling|floor|sign|isnan|isinf|isfinite|rand|binary_|bitset_|erf|beta_|welch_|convert_|bin|tohex)/,
      'math',
    ],
    [
      /^(current_|cursor_|extent_|estimate_|ingestion_time|new_guid|assert|hll_|tdigest_|percentile|percentrank|rank_|dcount_hll|merge_tdigest|labels|node_|inner_nodes|all$|any$|map$)/,
      'other',
    ],
  ];
  for (const [re, f] of rules) if (re.test(name)) return f;
  return 'string';
}

const lines = (text) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

/**
 * @param {{ dialect: { functions: Record<string, unknown>, aggregates: Record<string, unknown> },
 *           scalarList: string, aggregateList: string }} input
 */
export function renderCoverage({ dialect, scalarList, aggregateList }) {
  const scalars = lines(scalarList);
  const aggregates = lines(aggregateList);
  const scalarRows = scalars.map((name) => {
    const elsewhere = COMPILED_ELSEWHERE[name];
    const supported = name in dialect.functions || elsewhere !== undefined;
    const note = supported ? (elsewhere ?? NOTES[name] ?? '') : (NOT_SUPPORTED[name] ?? 'not implemented yet');
    return { name, family: family(name), supported, note };
  });
  const aggregateRows = aggregates.map((name) => ({
    name,
    supported: name in dialect.aggregates || name in AGGREGATES_ELSEWHERE,
    note: AGGREGATES_ELSEWHERE[name] ?? '',
  }));
  const count = (rows) => rows.filter((r) => r.supported).length;
  const pct = (rows) => ((count(rows) / rows.length) * 100).toFixed(1);
  const families = [...new Set(scalarRows.map((r) => r.family))].sort();
  const out = [];
  out.push('# KQL function coverage (DuckDB dialect)');
  out.push('');
  out.push(
    '<!-- Generated by `node tools/gen-function-coverage.mjs` (after `npx tsc -b packages/kql`); do not edit. ' +
      'packages/server/test/kql/scalar-coverage.test.ts fails when this file is stale. -->',
  );
  out.push('');
  out.push(
    'Every scalar function and aggregate of KQL (`fixtures/shared/kql/`) and whether the DuckDB dialect compiles ' +
      "it. An unsupported function is a compile-time diagnostic with the call's span, never a runtime SQL error. " +
      'Correctness is measured separately by the conformance suites (doc examples, real Kusto results) and ' +
      '`packages/server/test/kql/`.',
  );
  out.push('');
  out.push(`- Scalar functions: **${count(scalarRows)} / ${scalarRows.length}** (${pct(scalarRows)}%)`);
  out.push(`- Aggregates: **${count(aggregateRows)} / ${aggregateRows.length}** (${pct(aggregateRows)}%)`);
  out.push('');
  out.push('| family | supported | total |');
  out.push('|---|---|---|');
  for (const f of families) {
    const rows = scalarRows.filter((r) => r.family === f);
    out.push(`| ${f} | ${count(rows)} | ${rows.length} |`);
  }
  out.push('');
  out.push('## Scalar functions');
  out.push('');
  out.push('| function | family | DuckDB | notes |');
  out.push('|---|---|---|---|');
  for (const r of scalarRows)
    out.push(`| \`${r.name}\` | ${r.family} | ${r.supported ? 'yes' : '**no**'} | ${r.note} |`);
  out.push('');
  out.push('## Aggregates');
  out.push('');
  out.push('| aggregate | DuckDB | notes |');
  out.push('|---|---|---|');
  for (const r of aggregateRows) out.push(`| \`${r.name}\` | ${r.supported ? 'yes' : '**no**'} | ${r.note} |`);
  out.push('');
  return out.join('\n');
}
