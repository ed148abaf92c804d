/**
 * Row-order operators and functions end to end on DuckDB: window functions over serialized rows, make-series,
 * scan, mv-expand / mv-apply, top-nested / top-hitters, sample, partition. Expected values follow Kusto's
 * documented semantics (and the real Kusto outputs recorded in fixtures/shared/conformance).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorRunner } from './operators-support.js';

let r: OperatorRunner;
beforeAll(async () => {
  r = await OperatorRunner.open();
});
afterAll(async () => {
  await r?.close();
});

const events = 'datatable(g:string, v:long)["a",1, "a",2, "b",3, "b",4, "b",5]';

describe('window functions', () => {
  it('row_number with a start and a restart condition', async () => {
    const rows = await r.rows(`${events} | serialize n = row_number(), m = row_number(10, g != prev(g))`);
    expect(rows.map((x) => [x[2], x[3]])).toEqual([
      [1, 10],
      [2, 11],
      [3, 10],
      [4, 11],
      [5, 12],
    ]);
  });

  it('prev and next with offsets and defaults; strings are never null', async () => {
    const rows = await r.rows(
      `${events} | serialize p = prev(v), p2 = prev(v, 2, -1), n = next(g), nd = next(v, 1, 0)`,
    );
    expect(rows.map((x) => x.slice(2))).toEqual([
      [null, -1, 'a', 2],
      [1, -1, 'b', 3],
      [2, 1, 'b', 4],
      [3, 2, 'b', 5],
      [4, 3, '', 0],
    ]);
  });

  it('row_cumsum restarts where the condition holds', async () => {
    const rows = await r.rows(`${events} | serialize c = row_cumsum(v), cg = row_cumsum(v, g != prev(g))`);
    expect(rows.map((x) => [x[2], x[3]])).toEqual([
      [1, 1],
      [3, 3],
      [6, 3],
      [10, 7],
      [15, 12],
    ]);
  });

  it('row_rank_dense and row_rank_min over a sorted input (stable sort keeps ties in input order)', async () => {
    const rows = await r.rows(
      'datatable(a:string, d:long)["LH",3, "LY",100, "UA",3, "BA",2, "EL",3] | sort by d asc | extend dense = row_rank_dense(d), low = row_rank_min(d)',
    );
    expect(rows).toEqual([
      ['BA', 2, 1, 1],
      ['LH', 3, 2, 2],
      ['UA', 3, 2, 2],
      ['EL', 3, 2, 2],
      ['LY', 100, 3, 5],
    ]);
  });

  it('row functions in a where clause', async () => {
    expect(await r.column(`${events} | serialize | where g != prev(g) | project v`)).toEqual([1, 3]);
  });

  it('row_window_session starts sessions on gaps, on the first value being too far, and on restart', async () => {
    const rows = await r.rows(`datatable(id:string, t:datetime)[
      "1", datetime(2021-04-12 10:00), "1", datetime(2021-04-12 10:01), "1", datetime(2021-04-12 11:00),
      "2", datetime(2021-04-12 10:00), "2", datetime(2021-04-12 10:20), "2", datetime(2021-04-12 10:28)]
      | sort by id asc, t asc | extend s = row_window_session(t, 1h, 10m, id != prev(id)) | project s`);
    expect(rows.map((x) => x[0])).toEqual([
      '2021-04-12T10:00:00.0000000Z',
      '2021-04-12T10:00:00.0000000Z',
      '2021-04-12T11:00:00.0000000Z',
      '2021-04-12T10:00:00.0000000Z',
      '2021-04-12T10:20:00.0000000Z',
      '2021-04-12T10:20:00.0000000Z',
    ]);
  });
});

describe('make-series', () => {
  const data =
    'datatable(t:datetime, v:long, g:string)[datetime(2021-01-01),10,"a", datetime(2021-01-01),5,"b", datetime(2021-01-03),30,"a"]';

  it('bins from/to/step with the default 0 and per-group series', async () => {
    const res = await r.run(
      `${data} | make-series s = sum(v) on t from datetime(2021-01-01) to datetime(2021-01-04) step 1d by g | sort by g asc`,
    );
    expect(res.columns).toEqual(['g', 's', 't']);
    expect(res.rows).toEqual([
      [
        'a',
        [10, 0, 30],
        ['2021-01-01T00:00:00.0000000Z', '2021-01-02T00:00:00.0000000Z', '2021-01-03T00:00:00.0000000Z'],
      ],
      [
        'b',
        [5, 0, 0],
        ['2021-01-01T00:00:00.0000000Z', '2021-01-02T00:00:00.0000000Z', '2021-01-03T00:00:00.0000000Z'],
      ],
    ]);
  });

  it('without from/to spans the first to the last bin with data; default= fills empty bins', async () => {
    const rows = await r.rows(`${data} | make-series avg(v) default=-1 on t step 1d`);
    expect(rows[0]?.[0]).toEqual([7.5, -1, 30]);
  });

  it('numeric axes, exclusive end, in range() with an inclusive stop', async () => {
    expect(
      (await r.rows('datatable(t:long, v:long)[0,1, 2,3, 4,5] | make-series s = sum(v) on t from 0 to 6 step 2'))[0],
    ).toEqual([
      [1, 3, 5],
      [0, 2, 4],
    ]);
    expect(
      (await r.rows('datatable(t:long, v:long)[0,1, 2,3, 4,5] | make-series s = sum(v) on t in range(0, 4, 2)'))[0],
    ).toEqual([
      [1, 3, 5],
      [0, 2, 4],
    ]);
  });

  it('kind=nonempty gives one row of defaults for an empty input', async () => {
    const rows = await r.rows(
      `${data} | take 0 | make-series kind=nonempty s = count() on t from datetime(2021-01-01) to datetime(2021-01-03) step 1d`,
    );
    expect(rows).toEqual([
      [
        [0, 0],
        ['2021-01-01T00:00:00.0000000Z', '2021-01-02T00:00:00.0000000Z'],
      ],
    ]);
    expect(
      await r.rows(
        `${data} | take 0 | make-series s = count() on t from datetime(2021-01-01) to datetime(2021-01-03) step 1d`,
      ),
    ).toEqual([]);
  });
});

describe('scan', () => {
  it('fills forward with a declared column and a step reading its own state', async () => {
    const rows = await r.rows(`datatable(ts:long, e:string)[0,"A", 1,"", 2,"B", 3,""] | sort by ts asc
      | scan declare (filled: string="") with (step s1: true => filled = iff(isempty(e), s1.filled, e);)`);
    expect(rows.map((x) => x[2])).toEqual(['A', 'A', 'B', 'B']);
  });

  it('builds sequences across steps with match ids; unmatched rows are dropped', async () => {
    const rows =
      await r.rows(`datatable(ts:timespan, e:string)[0m,"A", 1m,"Start", 2m,"B", 4m,"Stop", 6m,"C", 8m,"Start", 11m,"E", 12m,"Stop"]
      | sort by ts asc
      | scan with_match_id=m with (
          step s1: e == "Start";
          step s2: e != "Start" and e != "Stop" and ts - s1.ts <= 5m;
          step s3: e == "Stop" and ts - s1.ts <= 5m;)`);
    expect(rows.map((x) => [x[1], x[2]])).toEqual([
      ['Start', 0],
      ['B', 0],
      ['Stop', 0],
      ['Start', 1],
      ['E', 1],
      ['Stop', 1],
    ]);
  });

  it('session ids with output=none and the match id only when asked for', async () => {
    const res = await r.run(`datatable(ts:timespan)[0m, 1m, 32m, 36m, 75m] | sort by ts asc
      | scan with_match_id=sid declare (start: timespan) with (
          step inSession: true => start = iff(isnull(inSession.start), ts, inSession.start);
          step endSession output=none: ts - inSession.start > 30m;)`);
    expect(res.rows.map((x) => [x[1], x[2]])).toEqual([
      ['00:00:00', 0],
      ['00:00:00', 0],
      ['00:32:00', 1],
      ['00:32:00', 1],
      ['01:15:00', 2],
    ]);
    const plain = await r.run('datatable(v:long)[1, 2] | scan declare (c:long=0) with (step s: true => c = s.c + v;)');
    expect(plain.columns).toEqual(['v', 'c']);
    expect(plain.rows).toEqual([
      [1, 1],
      [2, 3],
    ]);
  });
});

describe('mv-expand and mv-apply', () => {
  it('expands several columns in parallel (padding with null), with an item index and a limit', async () => {
    const rows = await r.rows(
      'print a = dynamic([1, 2, 3]), b = dynamic(["x"]) | mv-expand with_itemindex=i a to typeof(long), b limit 2',
    );
    expect(rows).toEqual([
      [1, 'x', 0],
      [2, null, 1],
    ]);
  });

  it('empty arrays produce no rows; bags expand to one-key bags or [key, value] arrays', async () => {
    expect(await r.rows('print a = dynamic([]) | mv-expand a')).toEqual([]);
    expect(await r.column('print b = dynamic({"p":1, "q":2}) | mv-expand b')).toEqual([{ p: 1 }, { q: 2 }]);
    expect(await r.column('print b = dynamic({"p":1, "q":2}) | mv-expand kind=array b')).toEqual([
      ['p', 1],
      ['q', 2],
    ]);
  });

  it('mv-apply runs its sub-query once per row', async () => {
    const rows = await r.rows(
      'datatable(i:long, arr:dynamic)[0, dynamic([1, 5, 3]), 1, dynamic([10, 2, 7])] | mv-apply e = arr to typeof(long) on (top 2 by e) | project i, e | sort by i asc, e desc',
    );
    expect(rows).toEqual([
      [0, 5],
      [0, 3],
      [1, 10],
      [1, 7],
    ]);
    const sums = await r.rows(
      'datatable(i:long, arr:dynamic)[0, dynamic([1, 5]), 1, dynamic([10])] | mv-apply e = arr to typeof(long) on (summarize s = sum(e)) | project i, s | sort by i asc',
    );
    expect(sums).toEqual([
      [0, 6],
      [1, 10],
    ]);
  });
});

describe('top-nested, top-hitters, sample, partition', () => {
  const t = 'datatable(cat:string, sub:string, v:long)["a","x",10, "a","y",20, "b","x",30, "b","z",5]';

  it('top-nested keeps the top groups level by level', async () => {
    const rows = await r.rows(`${t} | top-nested 1 of cat by sum(v), top-nested 2 of sub by max(v)`);
    expect(rows).toEqual([
      ['b', 35, 'x', 30],
      ['b', 35, 'z', 5],
    ]);
  });

  it('top-hitters counts exactly', async () => {
    expect(await r.rows(`${t} | top-hitters 1 of cat`)).toEqual([['a', 2]]);
  });

  it('sample and sample-distinct return the asked number of rows', async () => {
    expect((await r.rows(`${t} | sample 3`)).length).toBe(3);
    const distinct = await r.column(`${t} | sample-distinct 5 of cat`);
    expect([...distinct].sort()).toEqual(['a', 'b']);
  });

  it('partition by runs the sub-query per value', async () => {
    const rows = await r.rows(`${t} | partition by cat (top 1 by v) | project cat, v | sort by cat asc`);
    expect(rows).toEqual([
      ['a', 20],
      ['b', 30],
    ]);
  });
});
