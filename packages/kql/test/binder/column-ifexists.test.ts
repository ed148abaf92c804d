/**
 * `column_ifexists` is typed by the existing column when the row has it (the Kusto service's behaviour, which
 * DISAGREEMENTS.md records as an intentional difference from Microsoft's analyzer), by its default otherwise.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze.js';
import { workspaceFromTablesJson } from '../../src/catalog/workspace.js';
import { REPO_ROOT } from '../support/query-set.js';

const workspace = workspaceFromTablesJson(JSON.parse(readFileSync(`${REPO_ROOT}content/schema/tables.json`, 'utf8')));

function columns(q: string) {
  const r = analyze(q, workspace);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.columns;
}

describe('column_ifexists typing', () => {
  it('takes the type of the existing column, so a dynamic column keeps its property access', () => {
    expect(
      columns(`SigninLogs | extend L = column_ifexists("LocationDetails", '') | project L, City = tostring(L.city)`),
    ).toEqual([
      { name: 'L', type: 'dynamic' },
      { name: 'City', type: 'string' },
    ]);
    expect(columns(`SigninLogs | project T = columnifexists("TimeGenerated", 0)`)).toEqual([
      { name: 'T', type: 'datetime' },
    ]);
  });

  it('takes the type of the default when the column does not exist', () => {
    expect(columns(`SigninLogs | project X = column_ifexists("NoSuchColumn", 1.5)`)).toEqual([
      { name: 'X', type: 'real' },
    ]);
    const r = analyze(`SigninLogs | project X = column_ifexists("NoSuchColumn", '').city`, workspace);
    expect(r.ok).toBe(false);
  });
});
