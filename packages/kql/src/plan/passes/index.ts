/**
 * Plan passes: pure plan → plan rewrites that keep every query's result and make it cheaper to run. compile()
 * runs `optimize` between lowering and SQL generation. See CONTEXT.md for each pass's rules.
 */
import type { QueryPlan, Rel } from '../nodes.js';
import { collapseProjections } from './collapse.js';
import { foldConstants } from './fold.js';
import { inlineLets } from './inline.js';
import { pruneColumns } from './prune.js';
import { pushDownFilters } from './pushdown.js';
import { extractTimeFilters } from './time-filter.js';

export { collapseProjections } from './collapse.js';
export { foldConstants, foldScalar } from './fold.js';
export { inlineLets } from './inline.js';
export { pruneColumns } from './prune.js';
export { pushDownFilters } from './pushdown.js';
export { extractTimeFilters, timeRangesOf } from './time-filter.js';

export const PASSES = {
  /** Single-use, non-materialized `let`s inlined; unused ones dropped. */
  inline: inlineLets,
  /** Literal arithmetic, `ago()`/`now()` offsets, `bin` of constants, `strcat` of literals, boolean identities. */
  fold: foldConstants,
  /** Filters moved towards the scans (through projections, sorts, keys, join sides, union legs). */
  pushdown: pushDownFilters,
  /** Literal bounds on a scanned table's datetime columns recorded on the scan (`timeRanges`). */
  'time-filter': extractTimeFilters,
  /** Columns nobody reads dropped, down to the scans. */
  prune: pruneColumns,
  /** Pass-through projections removed (identity, or plain columns folded into the scan's column list). */
  collapse: collapseProjections,
} as const satisfies Record<string, (rel: Rel) => Rel>;

export type PassName = keyof typeof PASSES;

/**
 * The order compile() uses: folding first (so time bounds are literals), then pushdown (so time conditions sit on
 * the scans), pruning on the final shape, and collapsing the projections pruning left as pass-throughs.
 */
export const DEFAULT_PASSES: readonly PassName[] = ['inline', 'fold', 'pushdown', 'time-filter', 'prune', 'collapse'];

export function optimize(plan: QueryPlan, passes: readonly PassName[] = DEFAULT_PASSES): QueryPlan {
  let rel = plan.rel;
  for (const name of passes) rel = PASSES[name](rel);
  return rel === plan.rel ? plan : { ...plan, rel };
}
