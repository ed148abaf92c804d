/**
 * The whole front end (parse + bind) never throws or hangs: random mutations of real queries (token deletions,
 * duplications, swaps, truncations), deep nesting and garbage all come back as diagnostics, in bounded time.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze.js';
import { workspaceFromTablesJson } from '../../src/catalog/workspace.js';
import { tokenize } from '../../src/syntax/index.js';
import { loadQuerySet, REPO_ROOT } from '../support/query-set.js';

const workspace = workspaceFromTablesJson(JSON.parse(readFileSync(`${REPO_ROOT}content/schema/tables.json`, 'utf8')));

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(text: string, random: () => number): string {
  const tokens = tokenize(text).tokens.filter((t) => t.text !== '');
  if (tokens.length === 0) return text;
  const pick = () => Math.floor(random() * tokens.length);
  const parts = tokens.map((t) => t.text);
  for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
    const i = pick();
    const j = pick();
    switch (Math.floor(random() * 4)) {
      case 0:
        parts.splice(i, 1);
        break;
      case 1:
        parts.splice(i, 0, parts[j] ?? '');
        break;
      case 2:
        [parts[i], parts[j]] = [parts[j] ?? '', parts[i] ?? ''];
        break;
      default:
        parts.length = Math.max(1, i);
    }
  }
  return parts.join(' ');
}

describe('front-end robustness', () => {
  it('binds 3,000 mutated real queries without throwing', () => {
    const random = rng(20261127);
    const set = loadQuerySet();
    const t0 = performance.now();
    for (let k = 0; k < 3000; k++) {
      const q = (set[Math.floor(random() * set.length)] as { query: string }).query;
      const text = mutate(q, random);
      const a = analyze(text, workspace);
      for (const d of a.diagnostics) {
        expect(d.start).toBeGreaterThanOrEqual(0);
        expect(d.start + d.length).toBeLessThanOrEqual(text.length);
      }
    }
    expect(performance.now() - t0).toBeLessThan(60_000);
  });

  it.each([
    ['10,000 nested parentheses', `print ${'('.repeat(10_000)}1${')'.repeat(10_000)}`],
    ['10,000 pipes', `T${' | where true'.repeat(10_000)}`],
    ['10,000 lets', `${Array.from({ length: 10_000 }, (_, i) => `let x${i} = ${i};`).join('\n')} print x9999`],
    ['deep function nesting', `print ${'strcat('.repeat(3000)}"a"${')'.repeat(3000)}`],
    ['a 1 MB string literal', `print s = "${'x'.repeat(1_000_000)}"`],
    ['unterminated everything', 'T | where a == "abc | extend x = dynamic({ /* '],
    ['recursive function', 'let f = (n:long) { f(n - 1) }; print f(3)'],
    ['mutually recursive views', 'let a = view () { b }; let b = view () { a }; a'],
  ])('survives %s', (_name, text) => {
    const t0 = performance.now();
    const a = analyze(text, workspace);
    expect(Array.isArray(a.diagnostics)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });
});
