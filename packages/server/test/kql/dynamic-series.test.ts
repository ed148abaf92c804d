/**
 * Series functions on DuckDB: element-wise math, fills, filters, statistics, regression, seasonality and anomaly
 * detection. Expected values are the documented examples (learn.microsoft.com KQL reference), recorded Kusto results
 * (kusto-truth) and, for the functions whose scoring Kusto does not document (periods, outlier scores), properties
 * any faithful implementation has (the planted period is found, the planted spike is flagged).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamicRunner } from './dynamic-support.js';

let k: DynamicRunner;
beforeAll(async () => {
  k = await DynamicRunner.open();
});
afterAll(async () => {
  await k?.close();
});

const closeAll = (actual: unknown, expected: readonly number[], digits = 9) => {
  expect(Array.isArray(actual)).toBe(true);
  const a = actual as number[];
  expect(a.length).toBe(expected.length);
  for (const [i, v] of a.entries()) expect(v).toBeCloseTo(expected[i] as number, digits);
};

describe('element-wise', () => {
  it('long arithmetic stays long, division and mixed operands are real (documented examples)', async () => {
    expect(await k.text('series_divide(dynamic([1,2,4]), dynamic([4,2,1]))')).toBe('[0.25,1.0,4.0]');
    expect(await k.text('series_add(dynamic([1,2,4]), dynamic([4,2,1]))')).toBe('[5,4,5]');
    // Recorded Kusto result: nothing is missing, so the fill changes nothing.
    expect(await k.text('series_subtract(dynamic([10,20,30,40]), series_fill_const(dynamic([10,20,30,40]), 5))')).toBe(
      '[0,0,0,0]',
    );
    expect(await k.text('series_subtract(dynamic([10,20]), 5)')).toBe('[5,15]');
    expect(await k.text('series_multiply(dynamic([10,20]), dynamic([10,20]))')).toBe('[100,400]');
    expect(await k.text('series_multiply(dynamic([1,2]), 2.5)')).toBe('[2.5,5.0]');
    expect(await k.text('series_pow(dynamic([1, 2, 3, 4]), dynamic([1, 2, 3, 0.5]))')).toBe('[1.0,4.0,27.0,2.0]');
    // A missing or non-numeric element gives null; the longer series sets the length.
    expect(await k.value('series_add(dynamic([1,"a",3]), dynamic([1,2]))')).toEqual([2, null, null]);
  });

  it('comparisons give booleans (documented examples)', async () => {
    expect(
      await k.row(
        'print series_greater_equals(dynamic([1,2,4]), dynamic([4,2,1])), series_less(dynamic([1,2,4]), dynamic([4,2,1]))',
      ),
    ).toEqual([
      [false, true, true],
      [true, false, false],
    ]);
    expect(await k.value('series_equals(dynamic([1,2.0,3]), 2)')).toEqual([false, true, false]);
  });

  it('unary math: reals, with NaN and -Infinity where the domain ends', async () => {
    expect(await k.text('series_ceiling(dynamic([-1.5,1,2.5]))')).toBe('[-1.0,1.0,3.0]');
    closeAll(await k.value('series_exp(dynamic([1,2,3]))'), [Math.E, Math.exp(2), Math.exp(3)]);
    closeAll(await k.value('series_tan(dynamic([-1, 0, 1]))'), [-1.5574077246549023, 0, 1.5574077246549023]);
    expect(await k.text('series_log(dynamic([0, -1, 1]))')).toBe('["-Infinity","NaN",0.0]');
    expect(await k.text('series_asin(dynamic([2]))')).toBe('["NaN"]');
    expect(await k.value('series_abs(dynamic([-1, 2.5, "x"]))')).toEqual([1, 2.5, null]);
  });
});

describe('fills', () => {
  const arr = 'dynamic([111, null, 36, 41, 23, null, 16, 61, 33, null, null])';

  it('series_fill_const keeps the other elements as they are (documented example)', async () => {
    expect(await k.text(`series_fill_const(${arr}, 0.0)`)).toBe('[111,0.0,36,41,23,0.0,16,61,33,0.0,0.0]');
    expect(await k.text(`series_fill_const(${arr}, -1)`)).toBe('[111,-1,36,41,23,-1,16,61,33,-1,-1]');
    expect(await k.value('series_fill_const(dynamic([1, 0, 2]), 9, 0)')).toEqual([1, 9, 2]);
  });

  it('series_fill_forward / series_fill_backward leave the edges they cannot fill', async () => {
    expect(
      await k.value('series_fill_forward(dynamic([null, null, 36, 41, null, null, 16, 61, 33, null, null]))'),
    ).toEqual([null, null, 36, 41, 41, 41, 16, 61, 33, 33, 33]);
    expect(await k.value(`series_fill_backward(${arr})`)).toEqual([111, 36, 36, 41, 23, 16, 16, 61, 33, null, null]);
  });

  it('series_fill_linear: interpolation, integer series truncated, edges, constant (documented example)', async () => {
    // parse_json keeps 111.0 a real (a dynamic literal's reals currently reach SQL as longs, see the report).
    const reals = await k.value(
      "series_fill_linear(parse_json('[null, 111.0, null, 36.0, 41.0, null, null, 16.0, 61.0, 33.0, null, null]'))",
    );
    closeAll(reals, [111, 111, 73.5, 36, 41, 32.666666666666664, 24.333333333333336, 16, 61, 33, 33, 33]);
    const longs = 'dynamic([null, 111, null, 36, 41, null, null, 16, 61, 33, null, null])';
    expect(await k.text(`series_fill_linear(${longs})`)).toBe('[111,111,73,36,41,32,24,16,61,33,33,33]');
    expect(await k.value(`series_fill_linear(${longs}, double(null), false)`)).toEqual([
      null,
      111,
      73,
      36,
      41,
      32,
      24,
      16,
      61,
      33,
      null,
      null,
    ]);
    expect(await k.text('series_fill_linear(dynamic([null, null, null, null]))')).toBe('[0.0,0.0,0.0,0.0]');
    expect(await k.value('series_fill_linear(dynamic([null, null]), double(null), true, 2.5)')).toEqual([2.5, 2.5]);
  });
});

describe('filters', () => {
  it('series_fir: moving average (normalized), centered, and a difference filter', async () => {
    const s = 'dynamic([0,0,10,20,40,100,40,20,10,0])';
    expect(await k.value(`series_fir(${s}, dynamic([1,1,1,1,1]))`)).toEqual([0, 0, 2, 6, 14, 34, 42, 44, 42, 34]);
    expect(await k.value(`series_fir(${s}, dynamic([1,1,1,1,1]), true, true)`)).toEqual([
      2, 6, 14, 34, 42, 44, 42, 34, 14, 6,
    ]);
    expect(await k.value('series_fir(dynamic([0,2,2,3,3]), dynamic([1,-1]), false, false)')).toEqual([0, 2, 0, 1, 0]);
  });

  it('series_iir: cumulative sum (documented example, recorded Kusto result)', async () => {
    expect(await k.value('series_iir(range(1.0, 4, 1), dynamic([1]), dynamic([1,-1]))')).toEqual([1, 3, 6, 10]);
    expect(await k.text('series_iir(dynamic([10,30,0]), dynamic([1]), dynamic([1,-1]))')).toBe('[10.0,40.0,40.0]');
  });
});

describe('statistics and regression', () => {
  const x = 'dynamic([23, 46, 23, 87, 4, 8, 3, 75, 2, 56, 13, 75, 32, 16, 29])';

  it('series_stats / series_stats_dynamic (documented examples)', async () => {
    const row = await k.row(`print (mn, mni, mx, mxi, av, sd, vr) = series_stats(${x})`);
    expect(row.slice(0, 5)).toEqual([2, 8, 87, 3, 32.8]);
    expect(row[5]).toBeCloseTo(28.5036338535483, 10);
    expect(row[6]).toBeCloseTo(812.457142857143, 9);
    expect(await k.text(`series_stats_dynamic(${x})`)).toMatch(
      /^\{"min":2\.0,"min_idx":8,"max":87\.0,"max_idx":3,"avg":32\.8,"stdev":28\.50363385354\d*,"variance":812\.45714285714\d*,"sum":492\.0,"len":15\}$/,
    );
    // Non-finite values give nulls unless ignored.
    expect(await k.row('print (mn, mni) = series_stats(dynamic([1, null, 3]))')).toEqual([null, null]);
    expect(await k.row('print (mn, mni, mx) = series_stats(dynamic([5, null, 3]), true)')).toEqual([3, 2, 5]);
  });

  it('sum, product, magnitude, dot product, cosine similarity and Pearson correlation', async () => {
    const row = await k.row(
      `print series_sum(dynamic([1,2,3,4])), series_product(dynamic([1,2,3.5])), series_magnitude(dynamic([3,4])),
         series_dot_product(dynamic([1,2,4]), dynamic([4,2,1])), series_dot_product(dynamic([1,2,4]), 1),
         series_pearson_correlation(dynamic([1,2,3,4,5]), dynamic([2,4,6,8,10]))`,
    );
    expect(row).toEqual([10, 7, 5, 12, 7, 1]);
    expect(
      await k.value('series_cosine_similarity(dynamic([0.1,0.2,0.1,0.2]), dynamic([0.11,0.2,0.11,0.21]))'),
    ).toBeCloseTo(0.99935343825504, 12);
    expect(await k.value('series_cosine_similarity(dynamic([0.1,0.2,0.1,0.2]), dynamic([1,2,3,4]))')).toBeCloseTo(
      0.923760430703401,
      12,
    );
  });

  it('series_fit_line (documented example) and series_fit_line_dynamic', async () => {
    const row = await k.row(
      'print (RSquare, Slope, Variance, RVariance, Interception, LineFit) = series_fit_line(dynamic([2, 5, 6, 8, 11, 15, 17, 18, 25, 26, 30, 30]))',
    );
    // The page shows the values cut (not rounded) to 3 decimals.
    expect(row.slice(0, 5).map((v) => Math.trunc((v as number) * 1000) / 1000)).toEqual([
      0.982, 2.73, 98.628, 1.686, -1.666,
    ]);
    closeAll(row[5], [1.064, 3.7945, 6.526, 9.256, 11.987, 14.718, 17.449, 20.18, 22.91, 25.641, 28.371, 31.102], 2);
    const bag = (await k.value('series_fit_line_dynamic(dynamic([1, 2, 3]))')) as Record<string, unknown>;
    expect(Object.keys(bag)).toEqual(['rsquare', 'slope', 'variance', 'rvariance', 'interception', 'line_fit']);
    expect([bag.rsquare, bag.slope, bag.interception, bag.line_fit]).toEqual([1, 1, 0, [1, 2, 3]]);
  });

  it('series_fit_poly: degree 1 is series_fit_line; exact polynomials are recovered (coefficients highest first)', async () => {
    const y = 'dynamic([2, 5, 6, 8, 11, 15, 17, 18, 25, 26, 30, 30])';
    const [r, c, v, rv] = await k.row(`print (r, c, v, rv) = series_fit_poly(${y})`);
    const [lr, slope, lv, lrv, icpt] = await k.row(`print (r, s, v, rv, i) = series_fit_line(${y})`);
    expect(r).toBeCloseTo(lr as number, 12);
    closeAll(c, [slope as number, icpt as number]);
    expect([v, rv].map((x) => Math.round((x as number) * 1e9))).toEqual(
      [lv, lrv].map((x) => Math.round((x as number) * 1e9)),
    );
    const [r3, c3, , , fit] = await k.row(
      'print (r, c, v, rv, f) = series_fit_poly(dynamic([1.0, 1.625, 4.0, 9.875, 21.0]), dynamic([0.0, 0.5, 1.0, 1.5, 2.0]), int(3))',
    );
    expect(r3).toBeCloseTo(1, 12);
    closeAll(c3, [7 / 3, 0, 2 / 3, 1], 8);
    closeAll(fit, [1, 1.625, 4, 9.875, 21], 8);
  });

  it('series_fit_2lines finds the break of two exact lines', async () => {
    const row = await k.row(
      'print (rs, si, v, rv, lf, r_rs, r_slope, r_icpt) = series_fit_2lines(dynamic([1, 2, 3, 4, 5, 10, 9, 8, 7, 6]))',
    );
    expect(row.slice(0, 2)).toEqual([1, 5]);
    expect(row[3]).toBeCloseTo(0, 12);
    closeAll(row[4], [1, 2, 3, 4, 5, 10, 9, 8, 7, 6]);
    expect(row.slice(5, 8).map((v) => Math.round((v as number) * 1e9) / 1e9)).toEqual([1, -1, 16]);
  });
});

describe('seasonality, decomposition and anomalies', () => {
  it('series_seasonal: per-phase medians (documented example)', async () => {
    expect(await k.text('series_seasonal(dynamic([1, 3, 5, 1, 3, 5, 2, 4, 6]), 3)')).toBe(
      '[1.0,3.0,5.0,1.0,3.0,5.0,1.0,3.0,5.0]',
    );
    expect(await k.value('series_seasonal(dynamic([1, 3, 5, 2, 4, 6, 1, 3, 5, 2, 4, 6]), 3)')).toEqual([
      1.5, 3.5, 5.5, 1.5, 3.5, 5.5, 1.5, 3.5, 5.5, 1.5, 3.5, 5.5,
    ]);
  });

  it('series_periods_detect finds the two-week period of the documented traffic series; validate scores it', async () => {
    const y =
      'dynamic([80, 139, 87, 110, 68, 54, 50, 51, 53, 133, 86, 141, 97, 156, 94, 149, 95, 140, 77, 61, 50, 54, 47, 133, 72, 152, 94, 148, 105, 162, 101, 160, 87, 63, 53, 55, 54, 151, 103, 189, 108, 183, 113, 175, 113, 178, 90, 71, 62, 62, 65, 165, 109, 181, 115, 182, 121, 178, 114, 170])';
    const [periods, scores] = await k.row(`print (p, s) = series_periods_detect(${y}, 0.0, 50.0, 1)`);
    expect(periods).toEqual([14]);
    expect((scores as number[])[0]).toBeGreaterThan(0.6);
    const [vp, vs] = await k.row(`print (p, s) = series_periods_validate(${y}, 14.0, 10.0, 2.0)`);
    expect(vp).toEqual([14, 10, 2]);
    const [s14, s10, s2] = vs as number[];
    expect(s14).toBeGreaterThan(0.6);
    expect(s10).toBeLessThan(0.3);
    // Periods below 4 points score 0.
    expect(s2).toBe(0);
  });

  it('series_decompose: a purely periodic series is all seasonal, with zero residual', async () => {
    const row = await k.row('print (b, s, t, r) = series_decompose(dynamic([1,5,2,1,5,2,1,5,2,1,5,2]), 3)');
    closeAll(row[0], [1, 5, 2, 1, 5, 2, 1, 5, 2, 1, 5, 2]);
    closeAll(row[1], [1, 5, 2, 1, 5, 2, 1, 5, 2, 1, 5, 2]);
    closeAll(row[2], Array(12).fill(0));
    closeAll(row[3], Array(12).fill(0));
    // With a trend: the seasonal medians leave a staircase, whose least-squares line is the trend.
    const y = [1, 5, 2, 2, 6, 3, 3, 7, 4, 4, 8, 5];
    const medians = [2.5, 6.5, 3.5];
    const d = y.map((v, i) => v - (medians[i % 3] as number));
    const xm = 6.5;
    const dm = d.reduce((a, b) => a + b) / d.length;
    const slope =
      d.reduce((a, v, i) => a + (i + 1 - xm) * (v - dm), 0) / d.reduce((a, _v, i) => a + (i + 1 - xm) ** 2, 0);
    const [, seasonal, trend] = await k.row(
      `print (b, s, t) = series_decompose(dynamic([${y.join(',')}]), 3, "linefit")`,
    );
    closeAll(
      seasonal,
      y.map((_v, i) => medians[i % 3] as number),
    );
    closeAll(
      trend,
      y.map((_v, i) => dm + slope * (i + 1 - xm)),
    );
  });

  it('series_decompose_anomalies flags the planted spike and dip; series_outliers scores beyond the range', async () => {
    const base = Array.from({ length: 48 }, (_, i) => [10, 20, 15, 12][i % 4] as number);
    base[21] = (base[21] as number) + 40;
    base[33] = (base[33] as number) - 30;
    const [flags, scores, baseline] = await k.row(
      `print (f, s, b) = series_decompose_anomalies(dynamic([${base.join(',')}]), 1.5, 4)`,
    );
    const f = flags as number[];
    expect(f[21]).toBe(1);
    expect(f[33]).toBe(-1);
    expect(f.filter((x) => x !== 0).length).toBe(2);
    expect((scores as number[])[21]).toBeGreaterThan(1.5);
    // Baseline = seasonal medians + the average of the deseasonalized series (the planted +40 and -30 move it).
    expect((baseline as number[])[0]).toBeCloseTo(10 + 10 / 48, 9);
    const o = (await k.value(
      'series_outliers(dynamic([-3, 2, 15, 3, 5, 6, 4, 5, 12, 45, 12, 3, 3, 4, 5, 6]))',
    )) as number[];
    expect(o[9]).toBeGreaterThan(1.5);
    expect(o.filter((v) => v > 1.5).length).toBe(1);
  });
});

describe('spectral', () => {
  it('series_fft of [1,2,3,4] and series_ifft back', async () => {
    const [re, im, re2, im2] = await k.row(
      'print y = dynamic([1,2,3,4]) | extend (re, im) = series_fft(y) | extend (re2, im2) = series_ifft(re, im) | project re, im, re2, im2',
    );
    closeAll(re, [10, -2, -2, -2]);
    closeAll(im, [0, 2, 0, -2]);
    closeAll(re2, [1, 2, 3, 4]);
    closeAll(im2, [0, 0, 0, 0]);
  });
});
