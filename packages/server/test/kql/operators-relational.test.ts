/**
 * Aggregates, joins, parse family, search/find, plugins and the other tabular operators end to end on DuckDB,
 * with Kusto's results (the semantics are those of the real Kusto outputs in fixtures/shared/conformance), and the
 * operators Vigil refuses with a clear diagnostic on the right span.
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

describe('aggregates', () => {
  it('skip nulls; sum of nothing is 0, avg NaN, stdev 0', async () => {
    const rows = await r.rows(
      'datatable(g:string, x:long)["a",1, "a",long(null), "b",long(null)] | summarize s=sum(x), a=avg(x), sd=stdev(x), c=count(), mn=min(x) by g | sort by g asc',
    );
    expect(rows).toEqual([
      ['a', 1, 1, 0, 2, 1],
      ['b', 0, 'NaN', 0, 1, null],
    ]);
  });

  it('summarize without by over no rows gives one row of defaults', async () => {
    const rows = await r.rows(
      'datatable(x:long)[1] | where x < 0 | summarize s=sum(x), c=count(), l=make_list(x), b=make_bag(pack("k", x)), a=avg(x)',
    );
    expect(rows).toEqual([[0, 0, [], {}, 'NaN']]);
  });

  it('long sums wrap around as in Kusto', async () => {
    expect(
      await r.column('datatable(v:long)[9223372036854775807, 1, 2] | summarize s = sum(v) | project tostring(s)'),
    ).toEqual(['-9223372036854775806']);
  });

  it('NaN wins min and max of reals', async () => {
    expect(await r.rows('datatable(v:real)[1.5, real(nan), 2.5] | summarize max(v), min(v)')).toEqual([['NaN', 'NaN']]);
  });

  it('make_list and make_set keep input order, skip nulls, expand arrays; make_set keeps first occurrences', async () => {
    const rows = await r.rows(
      'datatable(s:string, d:dynamic)["b",dynamic([1,2]), "a",dynamic(3), "b",dynamic([3])] | summarize make_list(s), make_set(s), make_list(d), make_set(d)',
    );
    expect(rows).toEqual([
      [
        ['b', 'a', 'b'],
        ['b', 'a'],
        [1, 2, 3, 3],
        [1, 2, 3],
      ],
    ]);
    expect(await r.column('datatable(x:long)[3, 1, 3, 2] | summarize make_set(x, 2)')).toEqual([[3, 1]]);
  });

  it('make_bag merges bags, the first value of a key winning', async () => {
    expect(
      await r.column(
        'datatable(d:dynamic)[dynamic({"a":1,"b":2}), dynamic({"a":10,"c":3}), dynamic(null)] | summarize make_bag(d)',
      ),
    ).toEqual([{ a: 1, b: 2, c: 3 }]);
  });

  it('arg_max(x, *) reads one row; ties go to the first; all-null keys give the first row', async () => {
    const rows = await r.rows(
      'datatable(g:string, a:long, b:long)["x",1,100, "x",2,50, "x",2,200, "y",long(null),7] | summarize arg_max(a, *) by g | sort by g asc',
    );
    expect(rows).toEqual([
      ['x', 2, 50],
      ['y', null, 7],
    ]);
  });

  it('percentiles by nearest rank, weighted percentiles, arrays of percentiles', async () => {
    const rows = await r.rows(
      'datatable(v:long, w:long)[10,8, 20,6, 30,3, 40,1] | summarize p = percentile(v, 60), ps = percentiles_array(v, 25, 100), pw = percentilew(v, w, 75)',
    );
    expect(rows).toEqual([[30, [10, 40], 20]]);
  });

  it('dcount is exact; hll and tdigest sketches merge and answer like their aggregates', async () => {
    const rows = await r.rows(
      'datatable(v:long)[1, 2, 2, 3, 3, 3] | summarize d = dcount(v), h = hll(v), t = tdigest(v) | project d, dh = dcount_hll(h), p = percentile_tdigest(t, 50)',
    );
    expect(rows).toEqual([[3, 3, 2]]);
  });

  it('covariance, variance of one value', async () => {
    expect(
      await r.rows(
        'datatable(x:real, y:real)[1,14, 2,10, 3,17, 4,20, 5,50] | summarize covariance(x, y), covariancep(x, y)',
      ),
    ).toEqual([[20.5, 16.4]]);
    expect(await r.column('datatable(x:real)[5] | summarize variance(x)')).toEqual([0]);
  });
});

describe('joins and lookup', () => {
  const left = 'datatable(k:long, lv:string)[1,"a", 1,"a2", 2,"b", long(null),"n"]';
  const right = 'datatable(k:long, rv:string)[1,"x", 1,"x2", long(null),"m"]';

  it('innerunique keeps the first left row per key; null keys match each other', async () => {
    const rows = await r.rows(`${left} | join ${right} on k | project lv, rv | sort by lv asc, rv asc`);
    expect(rows).toEqual([
      ['a', 'x'],
      ['a', 'x2'],
      ['n', 'm'],
    ]);
  });

  it('leftouter fills missing strings with empty strings; leftanti keeps the unmatched', async () => {
    expect(await r.rows(`${left} | join kind=leftouter ${right} on k | where lv == "b" | project lv, rv, k1`)).toEqual([
      ['b', '', null],
    ]);
    expect(await r.column(`${left} | join kind=leftanti ${right} on k | project lv`)).toEqual(['b']);
  });

  it('lookup adds the dimension columns without repeating the key', async () => {
    const res = await r.run(`${left} | lookup (datatable(k:long, name:string)[1,"one"]) on k | sort by lv asc`);
    expect(res.columns).toEqual(['k', 'lv', 'name']);
    expect(res.rows.map((x) => x[2])).toEqual(['one', 'one', '', '']);
  });
});

describe('parse family', () => {
  it('simple mode: lazy text columns, typed columns, all-or-nothing rows', async () => {
    const rows = await r.rows(
      'datatable(s:string)["name=alice age=30", "garbage", "name=bob age=x"] | parse s with "name=" name " age=" age:int | project name, age',
    );
    expect(rows).toEqual([
      ['alice', 30],
      ['', null],
      ['', null],
    ]);
  });

  it('relaxed mode keeps the columns that convert; parse-where drops rows that do not match', async () => {
    expect(
      await r.rows('print s = "a=x b=2" | parse kind=relaxed s with "a=" a:long " b=" b:long | project a, b'),
    ).toEqual([[null, 2]]);
    expect(await r.column('datatable(s:string)["v=1", "w=2"] | parse-where s with "v=" v:long | project v')).toEqual([
      1,
    ]);
  });

  it('regex mode: greedy columns, capture groups in the pattern, flags', async () => {
    expect(
      await r.rows('print s = "abc123def" | parse kind=regex s with l:string @"\\d+" t:string | project l, t'),
    ).toEqual([['abc12', 'def']]);
    expect(await r.rows('print s = "KEY=v" | parse kind=regex flags=i s with "(k)ey=" v:string | project v')).toEqual([
      ['v'],
    ]);
  });

  it('parse-kv with delimiters, quotes and greedy values', async () => {
    expect(
      await r.rows(
        `print s = "k1=val one;k2='quoted; value'" | parse-kv s as (k1:string, k2:string) with (pair_delimiter=';', kv_delimiter='=', quote="'") | project k1, k2`,
      ),
    ).toEqual([['val one', 'quoted; value']]);
    expect(
      await r.rows(
        "print s = 'name=John Doe phone=555 5555' | parse-kv s as (name:string, phone:string) with (pair_delimiter=' ', kv_delimiter='=', greedy=true) | project name, phone",
      ),
    ).toEqual([['John Doe', '555 5555']]);
  });
});

describe('search and find', () => {
  it('search looks terms up in every column (prefix, substring, case) and names its source', async () => {
    const t = 'datatable(s:string, n:long)["alpha apple",1, "beta banana",2, "Gamma",30]';
    expect(await r.column(`${t} | search "a*" | project s`)).toEqual(['alpha apple']);
    expect(await r.column(`${t} | search "*anan*" | project s`)).toEqual(['beta banana']);
    expect(await r.column(`${t} | search "30" | project s`)).toEqual(['Gamma']);
    expect(await r.column(`${t} | search kind=case_sensitive "gamma" | project s`)).toEqual([]);
    expect(await r.rows(`${t} | search n == 2 | project $table, s`)).toEqual([['search_arg0', 'beta banana']]);
  });

  it('find over several tables with the source and projected columns', async () => {
    const rows = await r.rows(
      'let A = datatable(x:long, s:string)[1,"p"]; let B = datatable(x:long, t:string)[2,"q"]; find in (A, B) where x > 0 project x | sort by x asc',
    );
    expect(rows).toEqual([
      ['find_arg0', 1],
      ['find_arg1', 2],
    ]);
  });
});

describe('plugins', () => {
  it('narrow, bag_unpack with a schema or read by name, pivot read by name, ipv4_lookup', async () => {
    expect(await r.rows('print a = 1, b = "x" | evaluate narrow()')).toEqual([
      [0, 'a', '1'],
      [0, 'b', 'x'],
    ]);
    expect(
      await r.rows('print d = dynamic({"Name":"John","Age":20}), x = 1 | evaluate bag_unpack(d) : (*, Age:long)'),
    ).toEqual([[1, 20]]);
    expect(
      await r.rows(
        'datatable(d:dynamic)[dynamic({"t":"A","v":1}), dynamic({"t":"A","v":3})] | evaluate bag_unpack(d) | summarize n = count() by tostring(t)',
      ),
    ).toEqual([['A', 2]]);
    expect(
      await r.rows(
        'datatable(k:string, v:long, g:string)["a",1,"x", "b",2,"x", "a",5,"y"] | evaluate pivot(k, sum(v), g) | project g, a = tolong(a) | sort by g asc',
      ),
    ).toEqual([
      ['x', 1],
      ['y', 5],
    ]);
    expect(
      await r.rows(
        'datatable(ip:string)["10.1.1.1", "9.9.9.9"] | evaluate ipv4_lookup(datatable(net:string, c:string)["10.0.0.0/8","X"], ip, net, return_unmatched = true) | sort by ip asc',
      ),
    ).toEqual([
      ['10.1.1.1', '10.0.0.0/8', 'X'],
      ['9.9.9.9', '', ''],
    ]);
  });
});

describe('columns known at run time (schema probes)', () => {
  it("bag_unpack: the bags' properties typed by their values, with a prefix", async () => {
    const res = await r.runProbing(
      'datatable(d:dynamic, x:long)[dynamic({"a":1,"b":"two"}), 7, dynamic({"a":3,"c":[1]}), 8] | evaluate bag_unpack(d, "p_")',
    );
    expect(res.columns).toEqual(['x', 'p_a', 'p_b', 'p_c']);
    expect(res.types).toEqual(['long', 'long', 'string', 'dynamic']);
    expect(res.rows).toEqual([
      [7, 1, 'two', null],
      [8, 3, '', [1]],
    ]);
  });

  it("bag_unpack then summarize keeps Kusto's types", async () => {
    const res = await r.runProbing(
      'datatable(d:dynamic)[dynamic({"type":"A","v":1}), dynamic({"type":"B","v":2}), dynamic({"type":"A","v":3})] | evaluate bag_unpack(d) | summarize sum(v) by type | sort by type asc',
    );
    expect(res.types).toEqual(['string', 'long']);
    expect(res.rows).toEqual([
      ['A', 4],
      ['B', 2],
    ]);
  });

  it('pivot: one column per value', async () => {
    const res = await r.runProbing(
      'datatable(k:string, v:long, g:string)["a",1,"x", "b",2,"x", "a",5,"y"] | evaluate pivot(k, sum(v), g) | sort by g asc',
    );
    expect(res.columns).toEqual(['g', 'a', 'b']);
    expect(res.rows).toEqual([
      ['x', 1, 2],
      ['y', 5, null],
    ]);
  });
});

describe('row-window plugins', () => {
  it('rows_near keeps the rows around a match; dcount_intersect counts the values common to sketches', async () => {
    expect(
      await r.column('range x from 1 to 10 step 1 | sort by x asc | evaluate rows_near(x == 5, 2, 1) | project x'),
    ).toEqual([3, 4, 5, 6]);
    expect(
      await r.rows(
        'range x from 1 to 30 step 1 | summarize a = hll(iif(x % 2 == 0, x, 0)), b = hll(iif(x % 3 == 0, x, 0)) | evaluate dcount_intersect(a, b) | project s0, s1',
      ),
    ).toEqual([[16, 6]]);
  });
});

describe('other operators', () => {
  it('invoke, getschema, consume, assert-schema', async () => {
    expect(
      await r.rows('let f = (T:(x:long), k:long) { T | extend y = x * k }; datatable(x:long)[2] | invoke f(3)'),
    ).toEqual([[2, 6]]);
    expect(await r.rows('print a = 1, b = "x" | getschema')).toEqual([
      ['a', 0, 'System.Int64', 'long'],
      ['b', 1, 'System.String', 'string'],
    ]);
    expect(await r.column('print a = 1, b = "x" | getschema kind=csl')).toEqual(['a:long, b:string']);
    expect(await r.rows('print a = 1 | assert-schema (a:long)')).toEqual([[1]]);
  });

  it('ingestion_time() reads the time a row was loaded', async () => {
    const before = Date.now();
    await r.load('Syslog', [{ Computer: 'h1', TimeGenerated: '2025-12-31T00:00:00Z' }]);
    const rows = await r.rows('Syslog | where Computer == "h1" | extend it = ingestion_time() | project Computer, it');
    expect(rows.map((x) => x[0])).toEqual(['h1']);
    const loaded = Date.parse(String(rows[0]?.[1]));
    expect(loaded).toBeGreaterThanOrEqual(before - 1000);
    expect(loaded).toBeLessThanOrEqual(Date.now() + 1000);
    // After summarize no table row is at hand: null, as in Kusto.
    expect(
      await r.column('Syslog | summarize c = count() | extend it = ingestion_time() | project isnull(it)'),
    ).toEqual([true]);
  });
});

describe('refused constructs', () => {
  it('graph operators, sandbox plugins, fork and facet are refused on their span', async () => {
    expect(await r.refusal('print x = 1 | evaluate python(typeof(*), "result = df")')).toMatchObject({
      at: 'python(typeof(*), "result = df")',
    });
    expect((await r.refusal('print x = 1 | fork (take 1) (take 2)'))?.message).toMatch(/fork/);
    expect(
      (
        await r.refusal(
          'print a = 1, b = 2 | make-graph a --> b with_node_id=n | graph-to-table nodes as N, edges as E',
        )
      )?.message,
    ).toMatch(/graph-to-table with several outputs/);
    expect((await r.refusal('print x = 1 | evaluate sequence_detect(x, 1s, 1s, a = x == 1)'))?.message).toMatch(
      /sequence_detect over a timeline that is not a datetime/,
    );
  });
});
