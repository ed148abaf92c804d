#!/usr/bin/env node
// Writes docs/kql-function-coverage.md from the built DuckDB dialect.
// Run: npx tsc -b packages/kql && node tools/gen-function-coverage.mjs
import fs from 'node:fs';
import { duckdb } from '../packages/kql/dist/index.js';
import { renderCoverage } from './function-coverage.mjs';

const root = new URL('../', import.meta.url);
const read = (p) => fs.readFileSync(new URL(p, root), 'utf8');
const text = renderCoverage({
  dialect: duckdb,
  scalarList: read('fixtures/shared/kql/scalar-functions.txt'),
  aggregateList: read('fixtures/shared/kql/aggregate-functions.txt'),
});
fs.mkdirSync(new URL('docs/', root), { recursive: true });
fs.writeFileSync(new URL('docs/kql-function-coverage.md', root), text);
const summary = text.split('\n').filter((l) => l.startsWith('- '));
console.log(summary.join('\n'));
