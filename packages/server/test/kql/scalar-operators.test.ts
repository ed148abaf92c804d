/**
 * Operators with Kusto's semantics on DuckDB: arithmetic (non-negative modulo, truncating integer division, long
 * wrap-around), null comparisons, `in` / `has_any` over computed lists and tables, `between`, term matching.
 * Expected values come from the KQL documentation and recorded Kusto results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScalarRunner } from './scalar-support.js';

let k: ScalarRunner;
beforeAll(async () => {
  k = await ScalarRunner.open();
});
afterAll(async () => {
  await k?.close();
});

describe('arithmetic', () => {
  it('modulo is never negative (documented: numerical operators)', async () => {
    expect(await k.row('print 14 % 12, -14 % 12, 14 % -12, -14 % -12')).toEqual([2, 10, 2, 10]);
    expect(await k.row('print (-5.5) % 3.0, 5.5 % (-3.0), 7.5 % 2')).toEqual([0.5, 2.5, 1.5]);
  });

  it('integer division truncates toward zero and a zero divisor gives null', async () => {
    expect(await k.row('print 7 / 2, -7 / 2, 7 / -2, 1 / 0')).toEqual([3, -3, -3, null]);
    expect(await k.row('print 5.0 / 2, 1.0 / 0.0, -1.0 / 0.0')).toEqual([2.5, 'Infinity', '-Infinity']);
  });

  it('long arithmetic on columns wraps around as .NET does', async () => {
    const rows = await k.rows(
      'datatable(x:long)[9223372036854775807, -9223372036854775807] | extend p = tostring(x + 1), m = tostring(x - 2)',
    );
    expect(rows.map((r) => r.slice(1))).toEqual([
      ['-9223372036854775808', '9223372036854775805'],
      ['-9223372036854775806', '9223372036854775807'],
    ]);
  });

  it('a constant that overflows is rejected, as Kusto rejects it', async () => {
    expect(await k.compileError('print 9223372036854775807 + 1')).toMatch(/overflows/);
  });

  it('timespan arithmetic stays in ticks', async () => {
    expect(await k.row('print 1d / 1h, 2h * 3, 1d - 1tick, datetime(2020-01-01) + 1.5h')).toEqual([
      24,
      '06:00:00',
      '23:59:59.9999999',
      '2020-01-01T01:30:00.0000000Z',
    ]);
  });
});

describe('comparisons and null', () => {
  it('null == x is false and null != x true; null == null is null; ordering comparisons propagate null (documented)', async () => {
    expect(
      await k.row('print int(null) == 1, int(null) != 1, int(null) == int(null), int(null) < 1, 1 == 1.0'),
    ).toEqual([false, true, null, null, true]);
    // not(null > 0) is null, so the row is filtered out (recorded Kusto result: 0 rows).
    expect(await k.rows('datatable(i:int)[1, 2, 3] | extend x = int(null) | where not(x > 0) | count')).toEqual([[0]]);
  });

  it('between works for numbers, datetimes (with a timespan upper bound) and dynamic values', async () => {
    expect(
      await k.row(
        'print 5 between (1 .. 5), 5.5 !between (1 .. 5), datetime(2020-01-02) between (datetime(2020-01-01) .. 1d), dynamic(3) between (1 .. 4)',
      ),
    ).toEqual([true, true, true, true]);
  });
});

describe('in and has_any', () => {
  it('in over literals, computed arrays, let-bound arrays and a table', async () => {
    expect(await k.value("'b' in (split('a,b,c', ','))")).toBe(true);
    expect(await k.value("'B' in~ (split('a,b,c', ','))")).toBe(true);
    expect(await k.value("'d' !in (split('a,b,c', ','), 'e')")).toBe(true);
    expect(await k.row("let L = pack_array('x', 'y'); print 'y' in (L), 'z' in (L)")).toEqual([true, false]);
    expect(await k.value('2 in (pack_array(1, 2, 3))')).toBe(true);
    const rows = await k.rows(
      "let T = datatable(n:string)['a','c']; datatable(s:string)['a','b','c'] | where s in (T) | order by s asc",
    );
    expect(rows).toEqual([['a'], ['c']]);
    expect(await k.value("'x' in (toscalar(datatable(v:string)['x','y'] | summarize make_set(v)))")).toBe(true);
  });

  it('has_any / has_all match terms, with literal, computed and tabular lists', async () => {
    expect(
      await k.row("print 'powershell -enc abc' has_any ('-enc', 'x'), 'a -EncodedCommand' has_any ('-enc')"),
    ).toEqual([true, false]);
    expect(await k.value("'alpha beta gamma' has_all (split('beta,alpha', ','))")).toBe(true);
    expect(await k.value("'alpha beta gamma' has_any (dynamic(['delta']), 'gam')")).toBe(false);
    const rows = await k.rows(
      "let Terms = datatable(t:string)['beta']; datatable(s:string)['alpha beta','alphabeta'] | where s has_any (Terms)",
    );
    expect(rows).toEqual([['alpha beta']]);
  });
});

describe('string operators', () => {
  it('has matches whole terms; contains substrings; both ignore case', async () => {
    expect(
      await k.row(
        "print 'North America' has 'america', 'NorthAmerica' has 'america', 'NorthAmerica' contains 'AMER', 'abc' has_cs 'ABC'",
      ),
    ).toEqual([true, false, true, false]);
    expect(
      await k.row(
        "print 'The quick brown' hasprefix 'qui', 'quickbrown' hassuffix 'own', 'brownish' hassuffix 'own', 'a.b' has '.b'",
      ),
    ).toEqual([true, true, false, true]);
  });

  it('a computed needle matches terms too', async () => {
    const rows = await k.rows(
      "datatable(s:string, t:string)['a b','b', 'ab','b'] | extend h = s has t, c = s contains t | project h, c",
    );
    expect(rows).toEqual([
      [true, true],
      [false, true],
    ]);
  });

  it('matches regex uses Unicode classes like Kusto (a full-width digit is a \\d)', async () => {
    expect(
      await k.row("print 'ＡＢ１２' matches regex @'\\d', 'x\u00a0y' matches regex @'\\s', 'abc' matches regex @'\\d'"),
    ).toEqual([true, true, false]);
  });

  it('=~ and !~ ignore case; == does not', async () => {
    expect(await k.row("print 'ABC' =~ 'abc', 'ABC' !~ 'abd', 'ABC' == 'abc'")).toEqual([true, true, false]);
  });
});
