/**
 * Dynamic values on DuckDB with Kusto's results: arrays, sets, property bags, builders, JSON paths and types.
 * Expected values are the documented examples (learn.microsoft.com KQL reference) and recorded Kusto results.
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

describe('arrays', () => {
  it('array_concat skips arguments that are not arrays', async () => {
    expect(await k.value('array_concat(dynamic([1,2]), dynamic([3.5, "x"]))')).toEqual([1, 2, 3.5, 'x']);
    const rows = await k.rows(
      'datatable(d:dynamic)[dynamic({"a":1}), dynamic([10,20]), dynamic(null)] | project v = array_concat(d, dynamic([99]))',
    );
    expect(rows).toEqual([[[99]], [[10, 20, 99]], [[99]]]);
  });

  it('array_iff: booleans, numbers (non-zero is true), other conditions null, short branches null', async () => {
    expect(await k.value('array_iff(dynamic([true,false,true]), dynamic([1,2,3]), dynamic([4,5,6]))')).toEqual([
      1, 5, 3,
    ]);
    expect(await k.value('array_iff(dynamic([1,0,50]), "yes", "no")')).toEqual(['yes', 'no', 'yes']);
    expect(await k.value('array_iff(dynamic(["some string value", null]), 1, 0)')).toEqual([null, null]);
    expect(await k.value('array_iff(dynamic([true,true,true]), dynamic([1,2]), dynamic([3,4]))')).toEqual([1, 2, null]);
  });

  it('array_index_of with start, length and occurrence (documented example)', async () => {
    const row = await k.row(
      `let arr=dynamic(["this", "is", "an", "example", "an", "example"]);
       print array_index_of(arr,"an"), array_index_of(arr,"example",1,3), array_index_of(arr,"example",1,2),
         array_index_of(arr,"is",2,4), array_index_of(arr,"example",2,-1), array_index_of(arr, "an", 1, -1, 2),
         array_index_of(arr, "an", 1, -1, 3), array_index_of(arr, "an", -3), array_index_of(arr, "is", -4)`,
    );
    expect(row).toEqual([2, 3, -1, -1, 3, 4, -1, 4, -1]);
    // Numbers compare by value across long and real; irrelevant arguments give null.
    expect(await k.row('print array_index_of(dynamic([5,15]), 15.0), array_index_of(dynamic([1]), 1, 0, -2)')).toEqual([
      1,
      null,
    ]);
  });

  it('reverse, rotate and shift (documented examples)', async () => {
    const row = await k.row(
      `let a = dynamic([1,2,3,4,5]);
       print array_reverse(a), array_rotate_left(a, -2), array_rotate_right(a, 2), array_shift_left(a, 2),
         array_shift_left(a, 2, -1), array_shift_left(a, -2, -1), array_shift_right(a, 2), array_shift_right(a, 2, -1)`,
    );
    expect(row).toEqual([
      [5, 4, 3, 2, 1],
      [4, 5, 1, 2, 3],
      [4, 5, 1, 2, 3],
      [3, 4, 5, null, null],
      [3, 4, 5, -1, -1],
      [-1, -1, 1, 2, 3],
      [null, null, 1, 2, 3],
      [-1, -1, 1, 2, 3],
    ]);
  });

  it('array_slice and array_split with negative and out-of-range indexes', async () => {
    const row = await k.row(
      `print array_slice(dynamic([1,2,3]), 1, 2), array_slice(dynamic([1,2,3,4,5]), 2, -1),
         array_slice(dynamic([1,2,3,4,5]), -3, -2), array_slice(dynamic([1,2,3]), 5, 9),
         array_split(dynamic([1,2,3,4,5]), 2), array_split(dynamic([1,2,3,4,5]), dynamic([1,3]))`,
    );
    expect(row).toEqual([
      [2, 3],
      [3, 4, 5],
      [3, 4],
      [],
      [
        [1, 2],
        [3, 4, 5],
      ],
      [[1], [2, 3], [4, 5]],
    ]);
  });

  it('array_sort_asc/desc: nulls last by default, mixed types, several arrays ordered like the first', async () => {
    expect(await k.value('strcat_array(array_sort_asc(split("John,Paul,Jane,Kao", ",")), ",")')).toBe(
      'Jane,John,Kao,Paul',
    );
    expect(await k.value('strcat_array(array_sort_desc(split("John,Paul,Jane,Kayo", ",")), ",")')).toBe(
      'Paul,Kayo,John,Jane',
    );
    expect(await k.value('array_sort_asc(dynamic([null,"blue","yellow","green",null]))')).toEqual([
      'blue',
      'green',
      'yellow',
      null,
      null,
    ]);
    expect(await k.value('array_sort_asc(dynamic([null,"blue","yellow","green",null]), false)')).toEqual([
      null,
      null,
      'blue',
      'green',
      'yellow',
    ]);
    expect(await k.value('array_sort_desc(dynamic([null,"blue","yellow","green",null]), false)')).toEqual([
      null,
      null,
      'yellow',
      'green',
      'blue',
    ]);
    expect(await k.value('array_sort_asc(dynamic(["b", 2, "a", 1.5]))')).toEqual([1.5, 2, 'a', 'b']);
    expect(
      await k.row('print (s1, s2) = array_sort_asc(dynamic([1,3,4,5,2]), dynamic(["a","b","c","d","e"]))'),
    ).toEqual([
      [1, 2, 3, 4, 5],
      ['a', 'e', 'b', 'c', 'd'],
    ]);
    // An array of another length than the first gives null.
    expect(await k.row('print (s1, s2) = array_sort_desc(dynamic([1,3]), dynamic(["a"]))')).toEqual([[3, 1], null]);
  });

  it('array_sum is a real; array_length is null for anything but an array', async () => {
    expect(await k.row('print array_sum(dynamic([1,2,3,4])), array_sum(dynamic([1.5, 2.5]))')).toEqual([10, 4]);
    expect(await k.columns('print s = array_sum(dynamic([1,2]))')).toEqual(['s:real']);
    const rows = await k.rows(
      'datatable(d:dynamic)[dynamic([10,20,30]), dynamic({"a":1}), dynamic(null), dynamic([])] | project array_length(d)',
    );
    expect(rows).toEqual([[3], [null], [null], [0]]);
  });

  it('strcat_array renders elements like tostring(), null as empty', async () => {
    expect(
      await k.row('print strcat_array(dynamic([1, 2, 3]), "\\""), strcat_array(dynamic([1,null,3]), "-")'),
    ).toEqual(['1"2"3', '1--3']);
    expect(await k.value('strcat_array(dynamic([]), ",")')).toBe('');
  });
});

describe('sets', () => {
  it('set_union / set_intersect / set_difference keep first-occurrence order and drop duplicates', async () => {
    const row = await k.row(
      `print set_union(dynamic([1,2,1,4]), dynamic([1,2]), dynamic([8])), set_intersect(dynamic([1,2,3]), dynamic([3,4,5])),
         set_difference(dynamic([1,2,1,4]), dynamic([1,2]), dynamic([1,2,8])), set_difference(dynamic([1,2,3]), dynamic([1,2,3])),
         set_union(dynamic(["A4","A2","A7","A2"]), dynamic(["A4","A2","A7","A2"]))`,
    );
    expect(row).toEqual([[1, 2, 4, 8], [3], [4], [], ['A4', 'A2', 'A7']]);
  });

  it('set_has_element, set_equals and jaccard_index', async () => {
    const row = await k.row(
      `print set_has_element(dynamic(["this", "is", "an", "example"]), "example"), set_has_element(dynamic([1,2]), 3),
         set_equals(dynamic([1,2,2]), dynamic([2,1])), jaccard_index(dynamic([1,2,3]), dynamic([1,2,3,4])),
         jaccard_index(dynamic([1,2,3,4]), dynamic([3,4,5,6]))`,
    );
    expect(row.slice(0, 4)).toEqual([true, false, true, 0.75]);
    expect(row[4]).toBeCloseTo(1 / 3, 15);
  });
});

describe('builders', () => {
  it('pack_array keeps longs and reals apart; typed values take their Kusto text', async () => {
    expect(await k.text('pack_array(1, 2.5, 2.0, "x", true, datetime(2020-01-01), 1h, dynamic({"a":1}))')).toBe(
      '[1,2.5,2.0,"x",true,"2020-01-01T00:00:00.0000000Z","01:00:00",{"a":1}]',
    );
  });

  it('bag_pack / pack keep nulls; bag_pack_columns names keys after the columns', async () => {
    expect(await k.value('bag_pack("a", 1, "b", "x", "c", long(null))')).toEqual({ a: 1, b: 'x', c: null });
    const rows = await k.rows(
      'datatable(Id: string, Value: string, Other: long)["A", "val_a", 1, "B", "val_b", 2] | project Packed = bag_pack_columns(Id, Value)',
    );
    expect(rows).toEqual([[{ Id: 'A', Value: 'val_a' }], [{ Id: 'B', Value: 'val_b' }]]);
  });

  it('pack_all, with and without null/empty values', async () => {
    const row = await k.row(
      'datatable(Source:string, Target:string, CharsCount:long)["555-1313", "", 42] | project pack_all(), pack_all(true)',
    );
    expect(row).toEqual([
      { Source: '555-1313', Target: '', CharsCount: 42 },
      { Source: '555-1313', CharsCount: 42 },
    ]);
  });

  it('zip pads with null; repeat; range over numbers, reals, timespans and datetimes', async () => {
    const row = await k.row(
      `print zip(dynamic(["A", 1, 1.5]), dynamic([{}, "B"])), repeat(1, 3), repeat("a", 0), repeat(2.5, -1),
         range(1, 8, 3), range(5, 1), range(1h, 5h), range(datetime(2015-01-01), datetime(2015-01-02), 12h)`,
    );
    expect(row).toEqual([
      [
        ['A', {}],
        [1, 'B'],
        [1.5, null],
      ],
      [1, 1, 1],
      [],
      null,
      [1, 4, 7],
      [],
      ['01:00:00', '02:00:00', '03:00:00', '04:00:00', '05:00:00'],
      ['2015-01-01T00:00:00.0000000Z', '2015-01-01T12:00:00.0000000Z', '2015-01-02T00:00:00.0000000Z'],
    ]);
    expect(await k.text('range(1.0, 2.0, 0.25)')).toBe('[1.0,1.25,1.5,1.75,2.0]');
  });

  it('range() stops at 2^20 elements (documented example) and counts longs exactly near 2^63', async () => {
    expect(await k.value('array_length(range(1, 1000000000))')).toBe(1048576);
    expect(await k.value('tostring(range(9223372036854775800, 9223372036854775807, 3))')).toBe(
      '[9223372036854775800,9223372036854775803,9223372036854775806]',
    );
    expect(await k.row('print range(5, 1, -2), range(1, 5, 0)')).toEqual([[5, 3, 1], null]);
  });
});

describe('property bags', () => {
  it('bag_keys: the keys of a bag, null for anything else (documented example)', async () => {
    const rows = await k.rows(
      `datatable(index:long, d:dynamic) [1, dynamic({'a':'b', 'c':123}), 2, dynamic({'a':'b', 'c':{'d':123}}),
         4, dynamic(null), 5, dynamic({}), 6, dynamic('a'), 7, dynamic([])] | project bag_keys(d)`,
    );
    expect(rows).toEqual([[['a', 'c']], [['a', 'c']], [null], [[]], [null], [null]]);
  });

  it('bag_has_key with plain keys and JSONPath keys', async () => {
    const row = await k.row(
      `print d = dynamic({'key1': 123, 'key2': {'prop1' : 'abc', 'prop2': 'xyz'}, 'key3': [100, 200]})
       | project bag_has_key(d, '$.key2.prop1'), bag_has_key(d, 'key3'), bag_has_key(d, "$['key2']"),
           bag_has_key(d, '$.key2.nope'), bag_has_key(d, 'prop1')`,
    );
    expect(row).toEqual([true, true, true, false, false]);
  });

  it('bag_merge: the first bag holding a key wins, nested bags are not merged', async () => {
    const row = await k.row(
      `print d = dynamic({"a":1,"b":2}) | project bag_merge(d, dynamic({"b":{"nested":true},"c":3})),
         bag_merge(dynamic({"a":{"x":1}}), dynamic({"a":{"y":2}, "b":null}))`,
    );
    expect(row).toEqual([
      { a: 1, b: 2, c: 3 },
      { a: { x: 1 }, b: null },
    ]);
  });

  it('bag_remove_keys and bag_set_key with JSONPath (documented examples)', async () => {
    const row = await k.row(
      `print d = dynamic({'key1': 123, 'key2': {'prop1': 'abc', 'prop2': 'xyz'}, 'key3': [100, 200]})
       | project bag_remove_keys(d, dynamic(['$.key2.prop1', 'key3'])), bag_remove_keys(d, dynamic(['key2', 'key4'])),
           bag_set_key(d, 'key3', 3), bag_set_key(dynamic({'key1': 123}), '$.key2.prop1', 'abc')`,
    );
    expect(row).toEqual([
      { key1: 123, key2: { prop2: 'xyz' } },
      { key1: 123, key3: [100, 200] },
      { key1: 123, key2: { prop1: 'abc', prop2: 'xyz' }, key3: 3 },
      { key1: 123, key2: { prop1: 'abc' } },
    ]);
    // Not a bag: null.
    expect(await k.rows("datatable(d:dynamic)[dynamic('x')] | project bag_set_key(d, 'a', 1)")).toEqual([[null]]);
  });

  it('bag_zip (documented examples)', async () => {
    const rows = await k.rows(
      `datatable(KeysArray: dynamic, ValuesArray: dynamic) [
         dynamic(['a', 'b', 'c']), dynamic([1, '2', 3.4]),
         dynamic(['a', 'b', 'c']), dynamic([1, '2']),
         dynamic(['a', 'b']), dynamic([1, '2', 2.5]),
         dynamic(['a', 8, 'b']), dynamic([1, '2', 2.5]),
         dynamic(['a', 8, 'b']), dynamic(1),
         dynamic('a'), dynamic([1, '2', 2.5])]
       | project bag_zip(KeysArray, ValuesArray)`,
    );
    expect(rows).toEqual([
      [{ a: 1, b: '2', c: 3.4 }],
      [{ a: 1, b: '2', c: null }],
      [{ a: 1, b: '2' }],
      [{ a: 1, b: 2.5 }],
      [{ a: null, b: null }],
      [null],
    ]);
  });
});

describe('JSON text, paths and types', () => {
  it('dynamic_to_json sorts the keys of every bag (documented example)', async () => {
    expect(
      await k.value(`dynamic_to_json(dynamic({'Y10':dynamic({}), 'X8': dynamic({'c3':1, 'd8':5, 'a4':6}),
        'D1':114, 'A1':12, 'B1':2, 'C1':3, 'A14':[15, 13, 18]}))`),
    ).toBe('{"A1":12,"A14":[15,13,18],"B1":2,"C1":3,"D1":114,"X8":{"a4":6,"c3":1,"d8":5},"Y10":{}}');
    expect(await k.value('dynamic_to_json(dynamic([1,2,3]))')).toBe('[1,2,3]');
  });

  it('treepath lists the paths of all nodes, array elements under [0] (documented examples)', async () => {
    const row = await k.row(
      `print treepath(parse_json('{"a":"b", "c":123}')), treepath(parse_json('{"prop1":[1,2,3,4], "prop2":"value2"}')),
         treepath(parse_json('{"listProperty":[100,200,300,"abcde",{"x":"y"}]}')), treepath(dynamic({"a b":{"c.d":1}}))`,
    );
    expect(row).toEqual([
      ["['a']", "['c']"],
      ["['prop1']", "['prop1'][0]", "['prop2']"],
      ["['listProperty']", "['listProperty'][0]", "['listProperty'][0]['x']"],
      ["['a b']", "['a b']['c.d']"],
    ]);
  });

  it('gettype of typed values and of dynamic values (a dynamic real is a double)', async () => {
    const row = await k.row(
      `print gettype(1), gettype(1.0), gettype(toint("bad")), gettype(1d), gettype(dynamic(1.5)), gettype(parse_json("123")),
         gettype(parse_json("null")), gettype(dynamic([1])), gettype(dynamic({})), gettype(dynamic(true)), gettype(dynamic("s"))`,
    );
    expect(row).toEqual([
      'long',
      'real',
      'int',
      'timespan',
      'double',
      'long',
      'null',
      'array',
      'dictionary',
      'bool',
      'string',
    ]);
  });

  it('extract_json / extractjson with Kusto JSONPath and an optional result type', async () => {
    const row = await k.row(
      `let json = '{"name": "John", "age": 30, "a": {"b": [1, {"c": 2}]}}';
       print extract_json("$.name", json, typeof(string)), extract_json("$.age", json, typeof(long)),
         extractjson("$.a.b[1].c", json), extractjson("$['a']['b']", json), extractjson("$.zz", json),
         extractjson("$.name", "not json")`,
    );
    expect(row).toEqual(['John', 30, '2', '[1,{"c":2}]', '', '']);
  });

  it('parse_json / todynamic: JSON parses, other text stays a string, empty text is null', async () => {
    const rows = await k.rows(
      `datatable(d:dynamic)[dynamic({"a":1}), dynamic(null)]
       | project todynamic(tostring(d)), parse_json("[1, 2]"), parse_json("abc"), parse_json("  ")`,
    );
    expect(rows).toEqual([
      [{ a: 1 }, [1, 2], 'abc', null],
      [null, [1, 2], 'abc', null],
    ]);
    expect(await k.value('parse_json(tostring(parse_json(\'{"a":123, "b":"{\\\\"c\\\\":456}"}\').b)).c')).toBe(456);
  });
});
