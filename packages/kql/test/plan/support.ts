/** Shared fixtures of the plan tests: the workspace schema plus two small tables, a fixed now(), plan helpers. */
import { readFileSync } from 'node:fs';
import { analyze } from '../../src/analyze.js';
import type { WorkspaceSchema } from '../../src/catalog/workspace.js';
import { workspaceFromTablesJson } from '../../src/catalog/workspace.js';
import { lower } from '../../src/plan/lower.js';
import type { PlanColumn, QueryPlan, Rel } from '../../src/plan/nodes.js';

const REPO_ROOT = new URL('../../../../', import.meta.url);

const base = workspaceFromTablesJson(
  JSON.parse(readFileSync(new URL('content/schema/tables.json', REPO_ROOT), 'utf8')),
);

export const workspace: WorkspaceSchema = {
  ...base,
  tables: [
    ...base.tables,
    {
      name: 'T',
      columns: [
        { name: 'a', type: 'long' },
        { name: 'b', type: 'string' },
        { name: 'c', type: 'real' },
        { name: 'd', type: 'datetime' },
        { name: 'e', type: 'timespan' },
        { name: 'f', type: 'dynamic' },
      ],
    },
    {
      name: 'U',
      columns: [
        { name: 'a', type: 'long' },
        { name: 'x', type: 'string' },
        { name: 'd', type: 'datetime' },
      ],
    },
  ],
};

/** now() of every plan test: 2026-01-01T00:00:00Z. */
export const NOW_TICKS = BigInt(Date.UTC(2026, 0, 1)) * 10000n;

export function tableColumns(table: string): readonly PlanColumn[] | undefined {
  return workspace.tables.find((t) => t.name === table)?.columns;
}

/** The lowered (not optimized) plan of a query; throws on a diagnostic so a broken test input is obvious. */
export function planOf(text: string): QueryPlan {
  const analysis = analyze(text, workspace);
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`${text}: ${errors.map((d) => d.message).join('; ')}`);
  const lowered = lower(analysis, { now: NOW_TICKS });
  if (!lowered.plan) throw new Error(`${text}: ${lowered.diagnostics.map((d) => d.message).join('; ')}`);
  return lowered.plan;
}

export function relOf(text: string): Rel {
  return planOf(text).rel;
}

/** Every relation of a plan, depth first (inputs of `with` included). */
export function relations(rel: Rel, out: Rel[] = []): Rel[] {
  out.push(rel);
  switch (rel.kind) {
    case 'with':
      for (const b of rel.bindings) relations(b.rel, out);
      relations(rel.body, out);
      break;
    case 'join':
      relations(rel.left, out);
      relations(rel.right, out);
      break;
    case 'union':
      for (const i of rel.inputs) relations(i, out);
      break;
    default:
      if ('input' in rel) relations(rel.input, out);
  }
  return out;
}

/** Datetime ticks of an ISO date (ms precision), as the plan writes them. */
export function ticks(iso: string): string {
  return (BigInt(Date.parse(iso)) * 10000n).toString();
}
