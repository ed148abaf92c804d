/**
 * Datetime functions on DuckDB with Kusto's results (documented examples and recorded Kusto results). Storage keeps
 * microseconds, so values that need the 7th fractional digit are not tested here (see engine/CONTEXT.md).
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

describe('parts and calendar arithmetic', () => {
  it('datetime_part for every part', async () => {
    expect(
      await k.row(
        "let dt = datetime(2017-10-30 01:02:03.7654321); print datetime_part('year', dt), datetime_part('quarter', dt), datetime_part('month', dt), datetime_part('week_of_year', dt), datetime_part('day', dt), datetime_part('dayOfYear', dt), datetime_part('hour', dt), datetime_part('minute', dt), datetime_part('second', dt), datetime_part('millisecond', dt), datetime_part('microsecond', dt)",
      ),
    ).toEqual([2017, 4, 10, 44, 30, 303, 1, 2, 3, 765, 765432]);
  });

  it('datetime_add clamps month ends; datetime_diff counts boundaries (weeks start on Sunday)', async () => {
    expect(
      await k.row(
        "print datetime_add('month', 1, datetime(2020-01-31)), datetime_add('year', -5, datetime(2017-01-01)), datetime_add('minute', 90, datetime(2017-01-01))",
      ),
    ).toEqual(['2020-02-29T00:00:00.0000000Z', '2012-01-01T00:00:00.0000000Z', '2017-01-01T01:30:00.0000000Z']);
    expect(
      await k.row(
        "print datetime_diff('year', datetime(2017-01-01), datetime(2000-12-31)), datetime_diff('quarter', datetime(2017-07-01), datetime(2017-03-30)), datetime_diff('month', datetime(2017-01-01), datetime(2015-12-30)), datetime_diff('week', datetime(2017-10-29 00:00), datetime(2017-09-30 23:59)), datetime_diff('day', datetime(2017-10-29 00:00), datetime(2017-09-30 23:59)), datetime_diff('hour', datetime(2017-10-31 01:00), datetime(2017-10-30 23:59)), datetime_diff('minute', datetime(2017-10-30 23:05:01), datetime(2017-10-30 23:00:59)), datetime_diff('second', datetime(2017-10-30 23:00:10.100), datetime(2017-10-30 23:00:00.900))",
      ),
    ).toEqual([17, 2, 13, 5, 29, 2, 5, 10]);
  });

  it('startof/endof with offsets', async () => {
    expect(
      await k.row(
        'let d = datetime(2017-01-11 10:10:17); print startofday(d), startofday(d, -1), startofweek(d), startofmonth(d, 1), startofyear(d), endofday(d), endofweek(d), endofmonth(d), endofyear(d, -1)',
      ),
    ).toEqual([
      '2017-01-11T00:00:00.0000000Z',
      '2017-01-10T00:00:00.0000000Z',
      '2017-01-08T00:00:00.0000000Z',
      '2017-02-01T00:00:00.0000000Z',
      '2017-01-01T00:00:00.0000000Z',
      '2017-01-11T23:59:59.9999990Z',
      '2017-01-14T23:59:59.9999990Z',
      '2017-01-31T23:59:59.9999990Z',
      '2016-12-31T23:59:59.9999990Z',
    ]);
  });

  it('dayofweek is a timespan from Sunday; week_of_year is the ISO week', async () => {
    expect(
      await k.row(
        'print dayofweek(datetime(1947-11-30 10:00:05)), dayofweek(datetime(1970-05-11)), week_of_year(datetime(2020-12-31)), week_of_year(datetime(2021-01-01)), dayofyear(datetime(2000-12-31)), dayofmonth(datetime(2015-12-14)), hourofday(datetime(2015-12-14 18:54)), monthofyear(datetime(2015-12-14)), getyear(datetime(2015-10-12))',
      ),
    ).toEqual(['00:00:00', '1.00:00:00', 53, 53, 366, 14, 18, 12, 2015]);
  });

  it('bin on datetimes counts from 0001-01-01 (7-day bins start on Mondays)', async () => {
    expect(
      await k.row(
        'print bin(datetime(1955-11-05), 7d), bin(datetime(2020-01-01 10:37), 1h), bin_at(datetime(2017-05-15 10:20:00), 1d, datetime(1970-01-01 12:00:00))',
      ),
    ).toEqual(['1955-10-31T00:00:00.0000000Z', '2020-01-01T10:00:00.0000000Z', '2017-05-14T12:00:00.0000000Z']);
  });
});

describe('construction and conversion', () => {
  it('make_datetime, make_timespan', async () => {
    expect(
      await k.row('print make_datetime(2017,10,01), make_datetime(2017,10,01,12,10), make_datetime(2017,13,01)'),
    ).toEqual(['2017-10-01T00:00:00.0000000Z', '2017-10-01T12:10:00.0000000Z', null]);
    expect(await k.row('print make_timespan(1,12,30,55), make_timespan(1, 30)')).toEqual(['1.12:30:55', '01:30:00']);
  });

  it('unixtime_*_todatetime', async () => {
    expect(
      await k.row(
        'print unixtime_seconds_todatetime(1546300800), unixtime_milliseconds_todatetime(1546300800123), unixtime_microseconds_todatetime(1546300800123456), unixtime_nanoseconds_todatetime(1546300800123456000), unixtime_seconds_todatetime(1546300800.5)',
      ),
    ).toEqual([
      '2019-01-01T00:00:00.0000000Z',
      '2019-01-01T00:00:00.1230000Z',
      '2019-01-01T00:00:00.1234560Z',
      '2019-01-01T00:00:00.1234560Z',
      '2019-01-01T00:00:00.5000000Z',
    ]);
  });

  it('todatetime parses ISO 8601, RFC 822, US dates, and longs as ticks since year 1', async () => {
    const rows = await k.rows(
      "datatable(s:string)['2015-12-31 23:59:59.9', '2015-12-31T23:59:59Z', 'Sat, 08 Nov 2014 15:05:02 GMT', '12/02/2022', '2020-06-15T13:45:09+02:00', 'nonsense'] | project todatetime(s)",
    );
    expect(rows.map((r) => r[0])).toEqual([
      '2015-12-31T23:59:59.9000000Z',
      '2015-12-31T23:59:59.0000000Z',
      '2014-11-08T15:05:02.0000000Z',
      '2022-12-02T00:00:00.0000000Z',
      '2020-06-15T11:45:09.0000000Z',
      null,
    ]);
    expect(
      await k.row(
        "print todatetime(0), todatetime('2020-01-01') == datetime(2020-01-01), tolong(datetime(2020-01-01))",
      ),
    ).toEqual(['0001-01-01T00:00:00.0000000Z', true, 637134336000000000]);
  });

  it('totimespan parses .NET and KQL forms', async () => {
    expect(
      await k.row(
        "print totimespan('1.02:03:04.5'), totimespan('00:30'), totimespan('-2d'), totimespan('1.5h'), totimespan('bad')",
      ),
    ).toEqual(['1.02:03:04.5000000', '00:30:00', '-2.00:00:00', '01:30:00', null]);
  });
});

describe('formatting and time zones', () => {
  it('format_datetime with .NET specifiers', async () => {
    expect(
      await k.row(
        "let dt = datetime(2017-01-29 09:00:05); print format_datetime(dt,'yy-MM-dd [HH:mm:ss]'), format_datetime(dt, 'yyyy-M-dd [H:mm:ss]'), format_datetime(dt, 'yy-MM-dd [hh:mm:ss tt]'), format_datetime(datetime(2020-01-02 03:04:05.1200000), 'HH:mm:ss.fff FF')",
      ),
    ).toEqual(['17-01-29 [09:00:05]', '2017-1-29 [9:00:05]', '17-01-29 [09:00:05 AM]', '03:04:05.120 12']);
  });

  it('format_datetime and format_timespan reject delimiters Kusto rejects', async () => {
    expect(await k.compileError("print format_datetime(now(), 'yyyy-MM-ddTHH')")).toMatch(/'T'/);
    expect(await k.compileError("print format_timespan(1d, '%d')")).toMatch(/'%'/);
  });

  it('format_timespan', async () => {
    expect(
      await k.row(
        "let t = time(29.09:00:05.12345); print format_timespan(t, 'dd.hh:mm:ss:FF'), format_timespan(t, 'ddd.h:mm:ss [fffffff]'), format_timespan(-2h, 'hh:mm')",
      ),
    ).toEqual(['29.09:00:05:12', '029.9:00:05 [1234500]', '-02:00']);
  });

  it('datetime_utc_to_local and datetime_local_to_utc through the time-zone database', async () => {
    expect(
      await k.row(
        "print datetime_utc_to_local(datetime(2020-07-01 12:00), 'Europe/Paris'), datetime_local_to_utc(datetime(2020-01-01 12:00), 'America/New_York'), datetime_utc_to_local(datetime(2020-07-01), 'No/Such_Zone')",
      ),
    ).toEqual(['2020-07-01T14:00:00.0000000Z', '2020-01-01T17:00:00.0000000Z', null]);
  });
});
