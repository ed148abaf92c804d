/**
 * The generated catalog: complete (every name of the shared KQL lists), up to date with its generator, with the
 * signature details resolution relies on. (Comparisons with the analyzer itself are in analyzer.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CATALOG, lookupAggregate, lookupFunction, lookupPlugin } from '../../src/catalog/resolve.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

function names(file: string): string[] {
  return readFileSync(`${ROOT}fixtures/shared/kql/${file}`, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

describe('catalog contents', () => {
  it('has every scalar function, aggregate, plugin and special function of the shared lists', () => {
    const byKind = (kind: string) =>
      new Set(
        [...CATALOG.functions, ...CATALOG.aggregates, ...CATALOG.plugins]
          .filter((f) => f.kind === kind)
          .map((f) => f.name),
      );
    const lists: [string, string][] = [
      ['scalar-functions.txt', 'scalar'],
      ['aggregate-functions.txt', 'aggregate'],
      ['plugins.txt', 'plugin'],
      ['special-functions.txt', 'special'],
    ];
    for (const [file, kind] of lists) {
      const present = byKind(kind);
      const listed = names(file);
      expect(listed.length, file).toBeGreaterThan(5);
      expect(
        listed.filter((n) => !present.has(n)),
        `${file}: missing from the catalog as ${kind}`,
      ).toEqual([]);
    }
  });

  it('looks names up case-sensitively in the right namespace', () => {
    expect(lookupFunction('strlen')?.kind).toBe('scalar');
    expect(lookupFunction('STRLEN')).toBeUndefined();
    expect(lookupFunction('table')?.kind).toBe('special');
    expect(lookupFunction('toscalar')?.kind).toBe('special');
    expect(lookupAggregate('count')?.kind).toBe('aggregate');
    expect(lookupAggregate('strlen')).toBeUndefined();
    expect(lookupPlugin('bag_unpack')?.kind).toBe('plugin');
    // graph-only functions exist only inside graph-match clauses
    expect(lookupFunction('map')).toBeUndefined();
    expect(lookupFunction('map', { graph: true })?.availability).toBe('graph');
  });

  it('marks functions whose value is not a function of their arguments as non-deterministic', () => {
    for (const n of [
      'now',
      'ago',
      'rand',
      'new_guid',
      'current_principal',
      'cursor_after',
      'ingestion_time',
      'row_number',
    ]) {
      expect(lookupFunction(n)?.deterministic, n).toBe(false);
    }
    for (const n of ['strlen', 'bin', 'tolower', 'datetime_add', 'hash_sha256']) {
      expect(lookupFunction(n)?.deterministic, n).toBe(true);
    }
    expect(lookupAggregate('take_any')?.deterministic).toBe(false);
    expect(lookupAggregate('sum')?.deterministic).toBe(true);
  });

  it('keeps signature details: hidden overloads, layouts, literal values, result naming', () => {
    const count = lookupAggregate('count');
    expect(count?.signatures.map((s) => s.isHidden === true)).toEqual([false, true]);
    expect(lookupFunction('case')?.signatures[0]?.layout).toBe('BlockRepeating');
    expect(lookupFunction('array_sort_asc')?.signatures[0]?.layout).toBe('Custom');
    const part = lookupFunction('datetime_diff')?.signatures[0]?.params[0];
    expect(part?.values).toContain('week');
    expect(lookupAggregate('make_list')?.resultNamePrefix).toBe('list');
    expect(lookupFunction('extract')?.signatures[1]?.params[3]?.typeLiteral).toBe(true);
  });

  it('is what tools/gen-catalog.mjs generates (no stale generated file)', () => {
    // exits non-zero and names the stale file when the committed data differs from a fresh generation
    const out = execFileSync(process.execPath, [`${ROOT}tools/gen-catalog.mjs`, '--check'], { encoding: 'utf8' });
    expect(out).toBe('');
  }, 30_000);
});
