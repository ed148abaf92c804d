/**
 * Conversions and conditionals on DuckDB with Kusto's results: how tostring() prints each type, how to*() parse
 * text (integers never from "1.5" or "1e3", reals saturate into longs), dynamic values, iff/case/coalesce typing.
 * Expected values are recorded Kusto results (kusto-truth) and the documentation.
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

describe('tostring', () => {
  it('prints every type as Kusto does', async () => {
    expect(
      await k.row(
        'print tostring(123), tostring(1.5), tostring(true), tostring(datetime(2020-01-01)), tostring(1d), tostring(guid(74be27de-1e4e-49d9-b579-fe0b331d3642)), tostring(dynamic({"a":1})), tostring(int(null))',
      ),
    ).toEqual([
      '123',
      '1.5',
      'True',
      '2020-01-01T00:00:00.0000000Z',
      '1.00:00:00',
      '74be27de-1e4e-49d9-b579-fe0b331d3642',
      '{"a":1}',
      '',
    ]);
  });

  it('reals keep a fractional part and switch to exponents at 1E+15', async () => {
    const rows = await k.rows(
      'datatable(r:real)[1500.0, 0.1, 1e15, 1.5e-7, 123456789012345678.0, real(nan), real(-inf)] | project tostring(r)',
    );
    expect(rows.map((r) => r[0])).toEqual([
      '1500.0',
      '0.1',
      '1E+15',
      '1.5E-07',
      '1.2345678901234568E+17',
      'NaN',
      '-Infinity',
    ]);
    expect(await k.value('strcat("x", 0.1 + 0.2)')).toBe('x0.30000000000000004');
  });
});

describe('parsing numbers', () => {
  it('toint / tolong accept only integer text; todouble accepts exponents', async () => {
    const rows = await k.rows(
      'datatable(s:string)["123", "  45  ", "-9", "3.14", "abc", "", "1e3", "+7", "2147483648", "9223372036854775808"] | project toint(s), tolong(s), todouble(s)',
    );
    expect(rows).toEqual([
      [123, 123, 123],
      [45, 45, 45],
      [-9, -9, -9],
      [null, null, 3.14],
      [null, null, null],
      [null, null, null],
      [null, null, 1000],
      [7, 7, 7],
      [null, 2147483648, 2147483648],
      [null, null, 2 ** 63],
    ]);
  });

  it('reals truncate into integers and saturate out of range', async () => {
    const rows = await k.rows(
      'datatable(r:real)[1.5, -1.5, 1e19, -1e19, real(nan)] | project toint(r), tostring(tolong(r))',
    );
    expect(rows).toEqual([
      [1, '1'],
      [-1, '-1'],
      [2147483647, '9223372036854775807'],
      [-2147483648, '-9223372036854775808'],
      [null, ''],
    ]);
  });

  it('dynamic values convert by their JSON type', async () => {
    const rows = await k.rows(
      'datatable(d:dynamic)[dynamic(1), dynamic(1.5), dynamic("5"), dynamic(true), dynamic(null), dynamic("1.5"), dynamic([1])] | project gettype(d), toint(d), todouble(d), tostring(d), tobool(d)',
    );
    expect(rows).toEqual([
      ['long', 1, 1, '1', true],
      ['double', 1, 1.5, '1.5', true],
      ['string', 5, 5, '5', true],
      ['bool', 1, 1, 'true', true],
      ['null', null, null, '', null],
      ['string', null, 1.5, '1.5', null],
      ['array', null, null, '[1]', null],
    ]);
  });

  it('tobool, toguid, todecimal', async () => {
    expect(
      await k.row(
        "print tobool('TRUE'), tobool('false'), tobool('1'), tobool('yes'), toguid('{74be27de-1e4e-49d9-b579-fe0b331d3642}'), toguid('x'), todecimal('1.5')",
      ),
    ).toEqual([true, false, true, null, '74be27de-1e4e-49d9-b579-fe0b331d3642', null, '1.5']);
  });

  it('tolong(datetime) and todatetime(long) count ticks from year 1', async () => {
    expect(await k.row('print tolong(datetime(2020-01-01)), todatetime(637134336000000000)')).toEqual([
      637134336000000000,
      '2020-01-01T00:00:00.0000000Z',
    ]);
  });
});

describe('conditionals', () => {
  it('iff / case / coalesce / max_of / min_of', async () => {
    expect(
      await k.row(
        "print iff(1 > 2, 'a', 'b'), case(false, 1, true, 2, 3), coalesce(int(null), 5), coalesce('', 'x'), max_of(1, 5, int(null)), min_of(datetime(2020-01-01), datetime(2019-01-01)), max_of('a', 'b')",
      ),
    ).toEqual(['b', 2, 5, 'x', 5, '2019-01-01T00:00:00.0000000Z', 'b']);
  });

  it('isempty / isnull by type; not(); assert passes or fails the query', async () => {
    expect(
      await k.row(
        "print isempty(''), isempty(int(null)), isnull(''), isnull(dynamic(null)), isnotempty(dynamic('')), not(1 > 2)",
      ),
    ).toEqual([true, true, false, true, false, true]);
    expect(await k.value("assert(1 < 2, 'ok')")).toBe(true);
    await expect(k.rows("print assert(1 > 2, 'must fail')")).rejects.toThrow(/must fail/);
  });
});
