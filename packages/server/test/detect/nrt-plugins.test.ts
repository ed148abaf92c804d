/**
 * Near-real-time rules with the detection plugins: sequence_detect and basket look across rows (joins, aggregates
 * inside named sub-plans), so a rule using them cannot be evaluated batch by batch and must fall back to the
 * per-minute schedule (detect/validate.ts `nonIncrementalReason`, which follows the plan's named bindings).
 */
import { readFileSync } from 'node:fs';
import { compile, duckdb, workspaceFromTablesJson } from '@vigil/kql';
import { describe, expect, it } from 'vitest';
import { nonIncrementalReason } from '../../src/detect/validate.js';
import { REPO_ROOT } from '../conformance/runner.js';

const workspace = workspaceFromTablesJson(
  JSON.parse(readFileSync(new URL('content/schema/tables.json', REPO_ROOT), 'utf8')),
);

function reason(query: string): string | null {
  const compiled = compile(query, workspace, { dialect: duckdb });
  if (!compiled.ok) throw new Error(compiled.diagnostics.map((d) => d.message).join('; '));
  return nonIncrementalReason(compiled.plan.rel);
}

describe('NRT rules with plugins', () => {
  it('a row-wise rule stays incremental', () => {
    expect(reason('SigninLogs | where ResultType == "50126" | project TimeGenerated, UserPrincipalName')).toBeNull();
  });

  it('sequence_detect and basket are not incremental, even when their table is read through a named sub-plan', () => {
    expect(
      reason(
        'CommonSecurityLog | evaluate sequence_detect(TimeGenerated, 5s, 8s, a=(RequestURL has "login"), b=(RequestURL has "graph"), SourceIP)',
      ),
    ).not.toBeNull();
    expect(reason('SigninLogs | project UserPrincipalName, AppDisplayName | evaluate basket(0.01)')).not.toBeNull();
  });
});
