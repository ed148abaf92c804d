/**
 * Helper templates the lowering of query operators calls (names start with `__`; they are not KQL functions).
 */
import type { Template } from '../../dialect.js';
import { arg } from './base.js';

export const OPERATOR_FUNCTIONS: Readonly<Record<string, Template>> = {
  /** dcount_intersect: the number of values in every one of the hll sketches (exact sets, see aggregates.ts). */
  __hll_intersect_count: (args) => {
    const sets = args.map((a) => `COALESCE(json_extract(${a.sql}, '$[*]'), [])`);
    const intersection = sets.slice(1).reduce((acc, x) => `list_intersect(${acc}, ${x})`, sets[0] ?? '[]');
    return `CAST(len(list_distinct(${intersection})) AS BIGINT)`;
  },
  /**
   * `parse-kv ... with (regex=...)`: the regex's group 1 matches keys and group 2 values; the value of the first
   * match whose key (trimmed) is the given key, '' when none.
   */
  __kv_regex_value: (args, ctx) => {
    const text = arg(args, 0, ctx).sql;
    const re = arg(args, 1, ctx).sql;
    const key = arg(args, 2, ctx).sql;
    return `COALESCE(regexp_extract_all(${text}, ${re}, 2)[list_position(list_transform(regexp_extract_all(${text}, ${re}, 1), __k -> trim(__k)), ${key})], '')`;
  },
};
