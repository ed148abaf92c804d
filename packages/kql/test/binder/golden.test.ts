/**
 * Bound-schema golden tests: every parser golden input (`test/golden/parse/*.kql`, one or more per operator and per
 * syntax diagnostic) is also bound, against the workspace schema plus two small tables `T` and `U`; the result
 * schema of each statement and the semantic diagnostics are compared with `test/golden/bind/<name>.bound`.
 * Review the diff after an intended change and update with `npx vitest run -u`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze.js';
import { typeToString } from '../../src/binder/types.js';
import { workspaceFromTablesJson } from '../../src/catalog/workspace.js';
import { REPO_ROOT } from '../support/query-set.js';

const parseDir = new URL('../golden/parse/', import.meta.url);
const names = readdirSync(parseDir)
  .filter((f) => f.endsWith('.kql'))
  .map((f) => f.slice(0, -4))
  .sort();

const base = workspaceFromTablesJson(JSON.parse(readFileSync(`${REPO_ROOT}content/schema/tables.json`, 'utf8')));
const workspace = {
  ...base,
  tables: [
    ...base.tables,
    {
      name: 'T',
      columns: [
        { name: 'a', type: 'long' as const },
        { name: 'b', type: 'string' as const },
        { name: 'c', type: 'real' as const },
        { name: 'd', type: 'datetime' as const },
        { name: 'e', type: 'timespan' as const },
        { name: 'f', type: 'dynamic' as const },
      ],
    },
    {
      name: 'U',
      columns: [
        { name: 'a', type: 'long' as const },
        { name: 'x', type: 'string' as const },
      ],
    },
  ],
};

function render(text: string): string {
  const a = analyze(text, workspace);
  const lines = [`result: ${a.resultType ? typeToString(a.resultType) : '(none)'}`, '', '-- diagnostics --'];
  if (a.diagnostics.length === 0) lines.push('(none)');
  for (const d of a.diagnostics) lines.push(`${d.code} ${d.severity} ${d.start}+${d.length} ${d.message}`);
  return `${lines.join('\n')}\n`;
}

describe('binder golden files', () => {
  for (const name of names) {
    it(name, async () => {
      const text = readFileSync(new URL(`${name}.kql`, parseDir), 'utf8');
      await expect(render(text)).toMatchFileSnapshot(`../golden/bind/${name}.bound`);
    });
  }
});
