/**
 * Lowering and generation fixes found through the doc examples, the corpus and the engine benchmark, end to end on
 * DuckDB: tuple-valued calls indexed by position, named arguments of user functions, bin_auto with query options,
 * column_names_of, make_datetime's sub-microsecond seconds, open bags that a schema probe found empty (an empty
 * table), joins over open bags, and table scans read directly (with their filters) by the next SELECT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorRunner } from './operators-support.js';

let r: OperatorRunner;
beforeAll(async () => {
  r = await OperatorRunner.open();
  await r.load('DeviceProcessEvents', [
    { Timestamp: '2025-12-31T23:30:00Z', DeviceName: 'a', FileName: 'x.exe', ProcessCommandLine: 'get http://e.com/1' },
    { Timestamp: '2025-12-31T22:00:00Z', DeviceName: 'b', FileName: 'y.exe', ProcessCommandLine: 'no url here' },
    { Timestamp: '2025-12-30T10:00:00Z', DeviceName: 'a', FileName: 'z.exe', ProcessCommandLine: 'http://f.org' },
  ]);
});
afterAll(async () => {
  await r?.close();
});

describe('calls', () => {
  it('indexing a tuple-valued call picks the tuple element (documented array_sort_asc example)', async () => {
    const q =
      'datatable(t:datetime, c:string)[datetime(2019-07-15), "chmod", datetime(2019-07-02), "ls"] ' +
      '| summarize ts = make_list(t), cs = make_list(c) | project sorted = array_sort_asc(ts, cs)[1]';
    expect(await r.column(q)).toEqual([['ls', 'chmod']]);
    expect(await r.column('print array_sort_desc(dynamic([1, 3, 2]), dynamic(["a", "c", "b"]))[0]')).toEqual([
      [3, 2, 1],
    ]);
  });

  it('user functions take named arguments and fill the others with defaults', async () => {
    const q =
      'let f = (a:long, b:string = "b.default", c:long = 0) { strcat(a, "-", b, "-", c) };' +
      ' print x = f(c=7, a=12), y = f(12, c=7), z = f(1, "b")';
    expect(await r.rows(q)).toEqual([['12-b.default-7', '12-b.default-7', '1-b-0']]);
  });

  it('bin_auto() uses set query_bin_auto_size and query_bin_auto_at', async () => {
    const q =
      'set query_bin_auto_size=1h; set query_bin_auto_at=datetime(2017-01-01 00:05);' +
      ' range Timestamp from datetime(2017-01-01 00:05) to datetime(2017-01-01 02:00) step 1m' +
      ' | summarize count() by bin_auto(Timestamp) | sort by Timestamp asc';
    expect(await r.rows(q)).toEqual([
      ['2017-01-01T00:05:00.0000000Z', 60],
      ['2017-01-01T01:05:00.0000000Z', 56],
    ]);
    expect(await r.refusal('print bin_auto(5)')).toMatchObject({ at: 'bin_auto(5)' });
  });

  it('column_names_of() of a tabular expression is its column list', async () => {
    const q = 'let F = (p:int) { print A = "", B = 1 }; print Columns = column_names_of(F(1))';
    expect(await r.column(q)).toEqual([['A', 'B']]);
  });

  it('make_datetime keeps whole microseconds of its seconds, as every datetime conversion does', async () => {
    expect(
      await r.rows('print make_datetime(2017, 10, 1, 12, 11, 0.1234567), make_datetime(2017, 10, 1, 12, 11, 60)'),
    ).toEqual([['2017-10-01T12:11:00.1234560Z', null]]);
  });
});

describe('plugins', () => {
  it('sliding_window_counts: records and distinct ids of the lookback window of each bin (documented example)', async () => {
    const q =
      'let T = datatable(UserId:string, Timestamp:datetime)["Bob", datetime(2017-08-01), "David", datetime(2017-08-01),' +
      ' "David", datetime(2017-08-01), "John", datetime(2017-08-01), "Bob", datetime(2017-08-01),' +
      ' "Ananda", datetime(2017-08-02), "Atul", datetime(2017-08-02), "John", datetime(2017-08-02),' +
      ' "Ananda", datetime(2017-08-03), "Atul", datetime(2017-08-03), "Atul", datetime(2017-08-03),' +
      ' "John", datetime(2017-08-03), "Bob", datetime(2017-08-03), "Betsy", datetime(2017-08-04),' +
      ' "Bob", datetime(2017-08-05)];' +
      ' T | evaluate sliding_window_counts(UserId, Timestamp, datetime(2017-08-01), datetime(2017-08-07), 3d, 1d)' +
      ' | sort by Timestamp asc';
    const rows = await r.rows(q);
    expect(rows.map((x) => [String(x[0]).slice(0, 10), x[1], x[2]])).toEqual([
      ['2017-08-01', 5, 3],
      ['2017-08-02', 8, 5],
      ['2017-08-03', 13, 5],
      ['2017-08-04', 9, 5],
      ['2017-08-05', 7, 5],
      ['2017-08-06', 2, 2],
      ['2017-08-07', 1, 1],
    ]);
  });
});

describe('geo lookups', () => {
  it('geo_polygon_lookup joins points to the polygons holding them; geo_line_lookup to lines within a radius', async () => {
    const polygons =
      'let polygons = datatable(name:string, polygon:dynamic)["square", dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]})];' +
      ' let points = datatable(p:string, lon:real, lat:real)["in", 0.5, 0.5, "out", 2.0, 2.0];';
    expect(await r.rows(`${polygons} points | evaluate geo_polygon_lookup(polygons, polygon, lon, lat)`)).toEqual([
      ['in', 0.5, 0.5, 'square'],
    ]);
    expect(
      await r.rows(
        `${polygons} points | evaluate geo_polygon_lookup(polygons, polygon, lon, lat, return_unmatched = true) | sort by p asc`,
      ),
    ).toEqual([
      ['in', 0.5, 0.5, 'square'],
      ['out', 2, 2, ''],
    ]);
    const lines =
      'let roads = datatable(road:string, line:dynamic)["r", dynamic({"type":"LineString","coordinates":[[0,0],[0,1]]})];' +
      ' datatable(p:string, lon:real, lat:real)["near", 0.0005, 0.5, "far", 0.5, 0.5]' +
      ' | evaluate geo_line_lookup(roads, line, lon, lat, 100)';
    expect(await r.rows(lines)).toEqual([['near', 0.0005, 0.5, 'r']]);
  });
});

describe('active users', () => {
  it('active_users_count: ids seen on 3 distinct days of the 8 days up to one of their days, per 7-day bin (documented example)', async () => {
    const q =
      'let T = datatable(User:string, Timestamp:datetime)["B", datetime(2018-06-29), "B", datetime(2018-06-30),' +
      ' "A", datetime(2018-07-02), "B", datetime(2018-07-04), "B", datetime(2018-07-08), "A", datetime(2018-07-10),' +
      ' "A", datetime(2018-07-14), "A", datetime(2018-07-17), "A", datetime(2018-07-20), "B", datetime(2018-07-24)];' +
      ' T | evaluate active_users_count(User, Timestamp, datetime(2018-07-01), datetime(2018-07-31), 8d, 1d, 3, 7d)' +
      ' | sort by Timestamp asc';
    expect(await r.rows(q)).toEqual([
      ['2018-07-01T00:00:00.0000000Z', 1],
      ['2018-07-15T00:00:00.0000000Z', 1],
    ]);
  });
});

describe('open bags a probe found empty', () => {
  it('bag_unpack and pivot over no rows: later references read null instead of failing', async () => {
    const unpack =
      'datatable(d:dynamic, g:string)[dynamic({"name":"x"}), "t"] | where g == "none" | evaluate bag_unpack(d)' +
      ' | summarize count() by name, g';
    expect(await r.rows(unpack)).toEqual([]);
    const pivot =
      'datatable(k:string, v:string, g:string)["a", "1", "x"] | where g == "none"' +
      ' | evaluate pivot(k, take_any(v), g) | where a == "1"';
    expect(await r.rows(pivot)).toEqual([]);
  });

  it('joins read keys and columns of open bags', async () => {
    const q =
      'let a = datatable(d:dynamic)[dynamic({"k":"1","x":"a"})] | where isnull(d) | evaluate bag_unpack(d);' +
      ' let b = datatable(d:dynamic)[dynamic({"k":"1","y":"b"})] | evaluate bag_unpack(d);' +
      ' a | join kind=inner b on $left.k == $right.k | project x, y';
    expect(await r.rows(q)).toEqual([]);
    const both =
      'let a = datatable(d:dynamic)[dynamic({"k":"1","x":"a"})] | evaluate bag_unpack(d);' +
      ' let b = datatable(d:dynamic)[dynamic({"k":"1","y":"b"})] | evaluate bag_unpack(d);' +
      ' a | join kind=inner b on k';
    expect(await r.run(both)).toMatchObject({ columns: ['k', 'x', 'k1', 'y'], rows: [['1', 'a', '1', 'b']] });
  });
});

describe('table scans read directly', () => {
  it('filters, projections, limits and aggregates over a table give the same rows as before', async () => {
    expect(await r.column('DeviceProcessEvents | where Timestamp > ago(1h) | project DeviceName')).toEqual(['a']);
    expect(
      await r.rows(
        'DeviceProcessEvents | where FileName endswith ".exe" | summarize n = count() by DeviceName | sort by DeviceName asc',
      ),
    ).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(await r.column('DeviceProcessEvents | where DeviceName == "a" | take 5 | count')).toEqual([2]);
    expect(await r.column('DeviceProcessEvents | where DeviceName == "zzz" | count')).toEqual([0]);
  });

  it('isnotempty over a regex extract (the extract benchmark query)', async () => {
    const q =
      'DeviceProcessEvents | extend Domain = extract(@"https?://([A-Za-z0-9.-]+)", 1, ProcessCommandLine)' +
      ' | where isnotempty(Domain) | summarize Count = count() by Domain | sort by Domain asc';
    expect(await r.rows(q)).toEqual([
      ['e.com', 1],
      ['f.org', 1],
    ]);
    expect(await r.rows('print isempty(""), isnotempty(""), isempty("a"), isnotempty("a")')).toEqual([
      [true, false, false, true],
    ]);
  });
});
