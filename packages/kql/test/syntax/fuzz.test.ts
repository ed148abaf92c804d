/**
 * Robustness: no input may crash, throw or hang the lexer and parser. Every case checks the same invariants: a
 * complete tree comes back, every span lies inside the text, every diagnostic has a stable code and a valid range.
 * Inputs are generated from a fixed seed, so failures reproduce; the whole file runs in a few seconds.
 */
import { describe, expect, it } from 'vitest';
import { Codes } from '../../src/diagnostics/codes.js';
import type * as N from '../../src/syntax/index.js';
import { MAX_TREE_HEIGHT, parse, printTree, tokenize } from '../../src/syntax/index.js';
import { loadQuerySet } from '../support/query-set.js';

const KNOWN_CODES = new Set(Object.values(Codes).map((c) => c.code));

/** Deterministic pseudo-random numbers (LCG), so generated inputs are the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Parses and checks the invariants; returns the result for further checks. */
function check(text: string): ReturnType<typeof parse> {
  const result = parse(text);
  expect(result.root.kind).toBe('Query');
  expect(result.root.start).toBe(0);
  expect(result.root.end).toBe(text.length);
  expect(result.tokens[result.tokens.length - 1]?.kind).toBe('EndOfText');
  // plain loops: a megabyte of garbage gives many diagnostics and nodes, too many for one `expect` each
  const badDiagnostics = result.diagnostics.filter(
    (d) => !KNOWN_CODES.has(d.code) || d.start < 0 || d.length < 0 || d.start + d.length > text.length,
  );
  expect(badDiagnostics).toEqual([]);
  // every node span lies inside the text (iterative walk: trees may be deep)
  const stack: N.Node[] = [result.root];
  let bad: N.Node | null = null;
  while (stack.length > 0 && !bad) {
    const node = stack.pop() as N.Node;
    if (node.start < 0 || node.end > text.length || node.start > node.end) bad = node;
    for (const v of Object.values(node)) {
      for (const c of Array.isArray(v) ? v : [v]) {
        if (c && typeof c === 'object' && typeof (c as { kind?: unknown }).kind === 'string') stack.push(c as N.Node);
      }
    }
  }
  expect(bad).toBeNull();
  return result;
}

function hasError(result: ReturnType<typeof parse>, code?: string): boolean {
  return result.diagnostics.some((d) => d.severity === 'error' && (code === undefined || d.code === code));
}

describe('robustness', () => {
  it('survives 1 MB of random characters quickly', () => {
    const next = rng(1);
    let text = '';
    const chunk: string[] = [];
    for (let i = 0; i < 1 << 20; i++) {
      // mostly printable ASCII, with control characters, surrogates and other Unicode mixed in
      const r = next();
      const c =
        r < 0.85 ? 32 + Math.floor(next() * 95) : r < 0.9 ? Math.floor(next() * 32) : Math.floor(next() * 0xffff);
      chunk.push(String.fromCharCode(c));
      if (chunk.length === 4096) {
        text += chunk.join('');
        chunk.length = 0;
      }
    }
    text += chunk.join('');
    const t0 = performance.now();
    const result = check(text);
    const ms = performance.now() - t0;
    expect(hasError(result)).toBe(true);
    expect(ms).toBeLessThan(10_000);
  });

  it('survives 1 MB of random bytes read as Latin-1', () => {
    const next = rng(2);
    const bytes = new Uint8Array(1 << 20);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
    const text = new TextDecoder('latin1').decode(bytes);
    expect(hasError(check(text))).toBe(true);
  });

  it.each([
    ['parentheses', (n: number) => `print ${'('.repeat(n)}1${')'.repeat(n)}`],
    ['calls', (n: number) => `print ${'f('.repeat(n)}1${')'.repeat(n)}`],
    ['dynamic arrays', (n: number) => `print dynamic(${'['.repeat(n)}${']'.repeat(n)})`],
    ['sub-queries', (n: number) => `T | ${'fork ('.repeat(n)}take 1${')'.repeat(n)}`],
    ['schemas', (n: number) => `print typeof(${'a:('.repeat(n)}b:long${')'.repeat(n)})`],
    ['unclosed parentheses', (n: number) => `print ${'('.repeat(n)}`],
    ['mixed brackets', (n: number) => `print ${'(['.repeat(n)}`],
  ])('reports 10,000 nested %s as too deep without overflowing the stack', (_name, make) => {
    const result = check(make(10_000));
    expect(hasError(result, Codes.TooDeep.code)).toBe(true);
  });

  it('bounds the tree height of long operator chains', () => {
    const result = check(`print ${'1 + '.repeat(5000)}1`);
    expect(hasError(result, Codes.TooDeep.code)).toBe(true);
    // a chain that stays below the bound is fine
    expect(hasError(check(`print ${'1 + '.repeat(MAX_TREE_HEIGHT / 2)}1`))).toBe(false);
  });

  it('prints arbitrarily deep trees without recursion', () => {
    const { root } = parse(`print ${'-'.repeat(20_000)}1`);
    expect(printTree(root).split('\n').length).toBeGreaterThan(20_000);
  });

  it.each([
    ['an unterminated string', "T | where s == 'abc"],
    ['an unterminated double-quoted string', 'print "abc\\"'],
    ['an unterminated multi-line string', 'print ```abc\n| take 1'],
    ['an unterminated typed literal', 'print datetime(2020-01-01'],
    ['an unterminated dynamic', 'print dynamic({"a": [1, 2'],
    ['an unterminated bracketed name', "T | project ['a"],
    ['a trailing comment', 'T | take 1 // and no newline'],
    ['only a pipe', '|'],
    ['only punctuation', ')]}|;,.:=>'],
    ['a lone keyword', 'where'],
  ])('reports %s as diagnostics', (_name, text) => {
    check(text);
  });

  it('survives random token sequences and mutations of real queries', () => {
    const next = rng(3);
    const queries = loadQuerySet().map((q) => q.query);
    const vocabulary = [...new Set(queries.slice(0, 400).flatMap((q) => tokenize(q).tokens.map((t) => t.text)))].filter(
      (t) => t.length > 0,
    );
    const pick = <T>(a: readonly T[]): T => a[Math.floor(next() * a.length)] as T;
    const t0 = performance.now();
    for (let i = 0; i < 3000; i++) {
      let text: string;
      if (i % 2 === 0) {
        const n = 1 + Math.floor(next() * 12);
        text = Array.from({ length: n }, () => pick(vocabulary)).join(next() < 0.5 ? ' ' : '');
      } else {
        const toks = tokenize(pick(queries)).tokens.map((t) => t.text);
        for (let m = 0; m < 3; m++) {
          const at = Math.floor(next() * toks.length);
          if (next() < 0.5) toks.splice(at, 1);
          else toks.splice(at, 0, pick(vocabulary));
        }
        text = toks.join(' ');
      }
      check(text);
    }
    expect(performance.now() - t0).toBeLessThan(20_000);
  });
});
