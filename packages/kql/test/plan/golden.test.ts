/**
 * Plan golden tests: each `golden/<name>.kql` is analyzed against the workspace schema (plus small tables `T`, `U`),
 * lowered with a fixed now(), optimized by the plan passes and compiled to DuckDB SQL; `<name>.plan` next to it
 * holds the printed lowered plan, the optimized plan and the SQL. Review the diff after an intended change (in
 * lowering, a pass, the generator or the dialect) and update with `npx vitest run packages/kql/test/plan -u`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze.js';
import { IDENTITY_STORAGE } from '../../src/compile.js';
import { lower } from '../../src/plan/lower.js';
import { optimize } from '../../src/plan/passes/index.js';
import { printPlan } from '../../src/plan/print.js';
import { duckdb } from '../../src/sql/dialects/duckdb/index.js';
import { generateSql, SqlUnsupported } from '../../src/sql/generate.js';
import { NOW_TICKS, tableColumns, workspace } from './support.js';

const dir = new URL('golden/', import.meta.url);
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.kql'))
  .map((f) => f.slice(0, -4))
  .sort();

function render(text: string): string {
  const analysis = analyze(text, workspace);
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) return `-- diagnostics --\n${errors.map((d) => `${d.code} ${d.message}`).join('\n')}\n`;
  const lowered = lower(analysis, { now: NOW_TICKS });
  if (!lowered.plan) return `-- lowering --\n${lowered.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n')}\n`;
  const optimized = optimize(lowered.plan);
  let sql: string;
  try {
    sql = generateSql(optimized.rel, duckdb, { storage: IDENTITY_STORAGE }).sql;
  } catch (e) {
    if (!(e instanceof SqlUnsupported)) throw e;
    sql = `unsupported: ${e.message}`;
  }
  const options = { tableColumns };
  return [
    '-- lowered --',
    printPlan(lowered.plan, options),
    '',
    '-- optimized --',
    printPlan(optimized, options),
    '',
    '-- duckdb --',
    sql,
    '',
  ].join('\n');
}

describe('plan golden files', () => {
  it('has golden inputs', () => {
    expect(names.length).toBeGreaterThan(20);
  });

  for (const name of names) {
    it(name, async () => {
      const text = readFileSync(new URL(`${name}.kql`, dir), 'utf8');
      const out = render(text);
      expect(out).toMatch(/^-- lowered --/);
      await expect(out).toMatchFileSnapshot(`golden/${name}.plan`);
    });
  }
});
