/**
 * docs/kql-function-coverage.md is generated from the DuckDB dialect (tools/gen-function-coverage.mjs); this test
 * regenerates it from source and fails when the committed file is stale, and pins the scalar coverage floor.
 */
import { readFileSync } from 'node:fs';
import { duckdb } from '@vigil/kql';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ES module shared with the generator script (no type declarations)
import { renderCoverage } from '../../../../tools/function-coverage.mjs';

const ROOT = new URL('../../../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, ROOT), 'utf8');

describe('KQL function coverage table', () => {
  const text: string = renderCoverage({
    dialect: duckdb,
    scalarList: read('fixtures/shared/kql/scalar-functions.txt'),
    aggregateList: read('fixtures/shared/kql/aggregate-functions.txt'),
  });

  it('is up to date (run: npx tsc -b packages/kql && node tools/gen-function-coverage.mjs)', () => {
    expect(read('docs/kql-function-coverage.md')).toBe(text);
  });

  it('lists every scalar function and aggregate once', () => {
    const scalars = read('fixtures/shared/kql/scalar-functions.txt').split('\n').filter(Boolean);
    const rows = text.split('\n').filter((l) => /^\| `[a-z0-9_]+` \|/.test(l));
    expect(rows.length).toBe(
      scalars.length + read('fixtures/shared/kql/aggregate-functions.txt').split('\n').filter(Boolean).length,
    );
    for (const name of scalars) expect(text).toContain(`| \`${name}\` |`);
  });

  it('every function the dialect compiles is a known KQL function (no typo keys)', () => {
    const known = new Set(
      [read('fixtures/shared/kql/scalar-functions.txt'), read('fixtures/shared/kql/functions-detail.tsv')]
        .join('\n')
        .split(/\s+/),
    );
    const unknown = Object.keys(duckdb.functions).filter((n) => !n.startsWith('__') && !known.has(n));
    expect(unknown).toEqual([]);
  });
});
