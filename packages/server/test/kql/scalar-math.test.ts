/**
 * Math functions on DuckDB with Kusto's IEEE results (no domain errors: NaN and ±∞ instead), bit functions with
 * .NET wrap-around, statistics (erf, beta, welch_test) and unit conversions (documented examples).
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

const close = (actual: unknown, expected: number, rel = 1e-12) => {
  expect(typeof actual).toBe('number');
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(Math.abs(expected) * rel + 1e-300);
};

describe('domains and IEEE values', () => {
  it('outside their domain: log is -∞ at 0 and null below (recorded Kusto results); sqrt, acos, asin give NaN', async () => {
    expect(await k.row('print log(0), log(-1), log10(0.0), log2(-1.0), sqrt(-1), acos(2), asin(-2), gamma(0)')).toEqual(
      ['-Infinity', null, '-Infinity', null, 'NaN', 'NaN', 'NaN', 'Infinity'],
    );
  });

  it('isnan / isinf / isfinite over division by zero', async () => {
    const rows = await k.rows(
      'range x from -1 to 1 step 1 | extend d = 1.0 * x / 0.0 | project isnan(d), isinf(d), isfinite(d)',
    );
    expect(rows).toEqual([
      [false, true, false],
      [true, false, false],
      [false, true, false],
    ]);
  });

  it('round, ceiling, floor, sign, pow, exp family, pi', async () => {
    expect(
      await k.row('print round(2.98765, 3), round(2.15, 1), round(2.15), round(-50.55, -2), round(21.5, -1)'),
    ).toEqual([2.988, 2.2, 2, -100, 20]);
    expect(
      await k.row(
        'print ceiling(-1.1), floor(-1.1, 1), sign(-42), sign(0), pow(2, 10), exp2(3), exp10(2), degrees(pi())',
      ),
    ).toEqual([-1, -2, -1, 0, 1024, 8, 100, 180]);
  });

  it('erf / erfc (documented values)', async () => {
    const [a, b, c, d] = await k.row('print erf(1), erf(-3), erfc(1), erfc(3)');
    close(a, 0.842700792949715, 1e-13);
    close(b, -0.999977909503001, 1e-13);
    close(c, 0.157299207050285, 1e-13);
    close(d, 2.20904969985854e-5, 1e-12);
  });

  it('beta distribution and Welch t-test', async () => {
    const [cdf, inv, bad, none] = await k.row(
      'print beta_cdf(0.9, 10.0, 20.0), beta_inv(0.1, 10.0, 20.0), beta_cdf(1.5, 10.0, 20.0), beta_inv(1.5, 10.0, 20.0)',
    );
    close(cdf, 0.999999999999959, 1e-12);
    close(inv, 0.226415022388749, 1e-10);
    expect([bad, none]).toEqual(['NaN', null]);
    close(await k.value('beta_pdf(0.5, 2.0, 3.0)'), 1.5);
    // Welch's t = 2 with 18 degrees of freedom: the two-sided p-value (numerical integration: 0.0608214656621634).
    close(await k.value('welch_test(12.0, 5.0, 10, 10.0, 5.0, 10)'), 0.0608214656621634, 1e-9);
  });
});

describe('bits and hex', () => {
  it('binary operations wrap like .NET longs', async () => {
    expect(
      await k.row(
        'print binary_and(6, 3), binary_or(6, 3), binary_xor(6, 3), binary_not(0), binary_shift_left(1, 2), binary_shift_right(-8, 1), bitset_count_ones(255)',
      ),
    ).toEqual([2, 7, 5, -1, 4, -4, 8]);
    expect(await k.row('print tostring(binary_shift_left(1, 63)), binary_shift_left(1, 64)')).toEqual([
      '-9223372036854775808',
      1,
    ]);
  });

  it("tohex: two's complement by width, optional minimum length", async () => {
    expect(await k.row('print tohex(256), tohex(-546), tohex(toint(-546)), tohex(48879, 8)')).toEqual([
      '100',
      'fffffffffffffdde',
      'fffffdde',
      '0000beef',
    ]);
  });
});

describe('unit conversions', () => {
  it('documented examples', async () => {
    const [angle, force, temp, vol] = await k.row(
      "print convert_angle(1.2, 'Degree', 'Arcminute'), convert_force(1.2, 'Newton', 'Decanewton'), convert_temperature(1.2, 'Kelvin', 'DegreeCelsius'), convert_volume(1.2, 'CubicMeter', 'AcreFoot')",
    );
    close(angle, 72);
    close(force, 0.12);
    close(temp, -271.95);
    close(vol, 0.0009728568, 1e-9);
    // Kusto's factors (UnitsNet): a foot is 0.3048 m, a pound 0.45359237 kg, a BTU 1055.05585262 J.
    const [len, mass, speed, energy] = await k.row(
      "print convert_length(1.2, 'Meter', 'Foot'), convert_mass(1.2, 'Kilogram', 'Pound'), convert_speed(1.2, 'MeterPerSecond', 'KilometerPerHour'), convert_energy(1.2, 'Joule', 'BritishThermalUnit')",
    );
    close(len, 1.2 / 0.3048);
    close(mass, 1.2 / 0.45359237);
    close(speed, 4.32);
    close(energy, 1.2 / 1055.05585262);
    expect(await k.value("convert_length(1, 'Meter', 'NoSuchUnit')")).toBe(null);
  });
});
