/**
 * Golden tests: each `test/golden/parse/<name>.kql` is parsed; the printed tree and the diagnostics are compared with
 * `<name>.tree` next to it. After an intended change, review the diff and update with `npx vitest run -u`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, printTree } from '../../src/syntax/index.js';

const dir = new URL('../golden/parse/', import.meta.url);
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.kql'))
  .map((f) => f.slice(0, -4))
  .sort();

function render(text: string): string {
  const { root, diagnostics } = parse(text);
  const lines = [printTree(root), '', '-- diagnostics --'];
  if (diagnostics.length === 0) lines.push('(none)');
  for (const d of diagnostics) {
    lines.push(`${d.code} ${d.severity} ${d.start}+${d.length} ${d.message}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('parser golden files', () => {
  it('has golden inputs', () => {
    expect(names.length).toBeGreaterThan(100);
  });

  for (const name of names) {
    it(name, async () => {
      const text = readFileSync(new URL(`${name}.kql`, dir), 'utf8');
      const out = render(text);
      // inputs not named diag-* are valid KQL and must parse without errors
      if (!name.startsWith('diag-')) expect(out).not.toMatch(/^KQL\d{4} error /m);
      await expect(out).toMatchFileSnapshot(`../golden/parse/${name}.tree`);
    });
  }
});
