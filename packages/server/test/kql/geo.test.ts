/**
 * Geo functions on DuckDB, end to end (real DuckDB through runKql). Expected values are Kusto's documented outputs
 * (learn.microsoft.com KQL reference, geo-*-function pages); H3 and S2 tokens and shapes were also checked against
 * the reference libraries during development (see packages/kql/src/sql/dialects/duckdb/CONTEXT-geo.md).
 * Each query bundles several calls: every geo call costs DuckDB hundreds of milliseconds to plan and fold.
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

const T = 60_000;
/** Documented numbers are shown with 15 significant digits: compare with a relative tolerance. */
const near = (actual: unknown, expected: number, rel = 1e-9) => {
  expect(typeof actual).toBe('number');
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));
};
const nearAll = (actual: unknown, expected: readonly (readonly number[])[]) => {
  const a = actual as number[][];
  expect(a.length).toBe(expected.length);
  a.forEach((p, i) => {
    near(p[0], (expected[i] as number[])[0] as number);
    near(p[1], (expected[i] as number[])[1] as number);
  });
};
type Shape = { type: string; coordinates: number[] & number[][][] };

describe('points', () => {
  it(
    'distance, azimuth, angle and circles on S2’s sphere (radius 6,371,010 m)',
    async () => {
      const [d, dn, az, azNull, ang, angNull, in1, in2, inBad, inNeg] = await k.row(
        `print geo_distance_2points(-122.407628, 47.578557, -118.275287, 34.019056), geo_distance_2points(300,1,1,1),
          geo_azimuth(5, 10, 10, -40), geo_azimuth(5, 10, 5, 10),
          geo_angle(0, 10, 0, 5, 3, -10), geo_angle(0, 10, 0, 10, 3, -10),
          geo_point_in_circle(-122.143564, 47.535677, -122.100896, 47.527351, 3500),
          geo_point_in_circle(-122.137575, 47.630683, -122.100896, 47.527351, 3500),
          geo_point_in_circle(200, 1, 1, 1, 1), geo_point_in_circle(1, 1, 1, 1, -1)`,
      );
      near(d, 1546754.35197381);
      expect(dn).toBeNull();
      near(az, 3.05459939796449);
      expect(azNull).toBeNull();
      near(ang, 2.94493843406882);
      expect(angNull).toBeNull();
      expect([in1, in2, inBad, inNeg]).toEqual([true, false, null, null]);
    },
    T,
  );

  it(
    'the spheroid distance is refused at compile time',
    async () => {
      await expect(k.value('geo_distance_2points(1, 2, 3, 4, true)')).rejects.toThrow(/use_spheroid/);
    },
    T,
  );

  it(
    'geohash: encode, decode, neighbors, invalid input',
    async () => {
      const [h, bad, center, poly, nb, badNb] = await k.row(
        `print geo_point_to_geohash(-80.195829, 25.802215, 8), geo_point_to_geohash(1, 1, 19),
          geo_geohash_to_central_point('sunny'), geo_geohash_to_polygon('dr5ru'),
          geo_geohash_neighbors('sunny'), geo_geohash_neighbors('a')`,
      );
      expect(h).toBe('dhwfz15h');
      expect(bad).toBe('');
      expect(center).toEqual({ type: 'Point', coordinates: [42.47314453125, 23.70849609375] });
      expect((poly as Shape).coordinates[0]).toEqual([
        [-74.00390625, 40.7373046875],
        [-73.9599609375, 40.7373046875],
        [-73.9599609375, 40.78125],
        [-74.00390625, 40.78125],
        [-74.00390625, 40.7373046875],
      ]);
      expect(nb).toEqual(['sunnt', 'sunpj', 'sunnx', 'sunpn', 'sunnv', 'sunpp', 'sunnz', 'sunnw']);
      expect(badNb).toBeNull();
    },
    T,
  );
});

describe('S2 cells', () => {
  it(
    'points to tokens (grouping example), cell polygon and center, invalid tokens',
    async () => {
      const rows = await k.rows(
        `datatable(location_id:string, longitude:real, latitude:real)["A", 10.1234, 53, "B", 10.3579, 53, "C", 10.6842, 53]
         | summarize count = count(), locations = make_list(location_id) by s2cell = geo_point_to_s2cell(longitude, latitude, 8)
         | order by s2cell asc`,
      );
      expect(rows).toEqual([
        ['47ae3', 1, ['C']],
        ['47b1d', 2, ['A', 'B']],
      ]);
      const [poly, center, bad, badPoint, neighbors] = await k.row(
        `print geo_s2cell_to_polygon('89c259'), geo_s2cell_to_central_point('89c259'), geo_s2cell_to_central_point('a'),
          geo_point_to_s2cell(300, 1, 8), geo_s2cell_neighbors('89c259')`,
      );
      nearAll((poly as Shape).coordinates[0], [
        [-74.030012249838478, 40.8012684339439],
        [-74.030012249838478, 40.7222262918358],
        [-73.935982114337421, 40.708880489804564],
        [-73.935982114337421, 40.787917134506841],
        [-74.030012249838478, 40.8012684339439],
      ]);
      expect((center as Shape).type).toBe('Point');
      expect(bad).toBeNull();
      expect(badPoint).toBe('');
      // The documented cells; Kusto lists them in another (undocumented) order.
      expect([...(neighbors as string[])].sort()).toEqual(
        ['89c25d', '89c2f9', '89c251', '89c257', '89c25f', '89c25b', '89c2f7', '89c2f5'].sort(),
      );
    },
    T,
  );
});

describe('H3 cells', () => {
  it(
    'encode, level, parent, children',
    async () => {
      const [cell, bad, badRes, level, parent, parentRes, children, childCount, badParent] = await k.row(
        `print geo_point_to_h3cell(-74.04450446039874, 40.689250859314974, 6), geo_point_to_h3cell(300, 1, 8),
          geo_point_to_h3cell(1, 1, 16), geo_h3cell_level('862a1072fffffff'), geo_h3cell_parent('862a1072fffffff', 1),
          geo_h3cell_level(geo_h3cell_parent(geo_point_to_h3cell(1, 1, 10))),
          geo_h3cell_children('862a1072fffffff'), array_length(geo_h3cell_children('862a1072fffffff', 9)),
          geo_h3cell_parent('862a1072fffffff', 15)`,
      );
      expect([cell, bad, badRes, level, parent, parentRes]).toEqual([
        '862a1072fffffff',
        '',
        '',
        6,
        '812a3ffffffffff',
        9,
      ]);
      expect(children).toEqual([
        '872a10728ffffff',
        '872a10729ffffff',
        '872a1072affffff',
        '872a1072bffffff',
        '872a1072cffffff',
        '872a1072dffffff',
        '872a1072effffff',
      ]);
      expect(childCount).toBe(343);
      expect(badParent).toBe('');
    },
    T,
  );

  it(
    'center, boundary, invalid tokens',
    async () => {
      const [center, poly, bad] = await k.row(
        `print geo_h3cell_to_central_point('862a1072fffffff'), geo_h3cell_to_polygon('862a1072fffffff'), geo_h3cell_to_polygon('@')`,
      );
      nearAll([(center as Shape).coordinates], [[-74.016008479792447, 40.7041679083504]]);
      nearAll((poly as Shape).coordinates[0], [
        [-74.0022744646159, 40.735376026215022],
        [-74.046908029686236, 40.727986222489115],
        [-74.060610712223664, 40.696775140349033],
        [-74.029724408156682, 40.672970047595463],
        [-73.985140983708192, 40.680349049267583],
        [-73.971393761028622, 40.71154393543933],
        [-74.0022744646159, 40.735376026215022],
      ]);
      expect(bad).toBeNull();
    },
    T,
  );

  it(
    'neighbors and rings in H3’s gridDisk order',
    async () => {
      const [neighbors, rings, tooFar, bad] = await k.row(
        `print geo_h3cell_neighbors('862a1072fffffff'), geo_h3cell_rings('861f8894fffffff', 2),
          geo_h3cell_rings('861f8894fffffff', 150), geo_h3cell_neighbors('abc')`,
      );
      expect(neighbors).toEqual([
        '862a10727ffffff',
        '862a10707ffffff',
        '862a1070fffffff',
        '862a10777ffffff',
        '862a100dfffffff',
        '862a100d7ffffff',
      ]);
      expect(rings).toEqual([
        ['861f8894fffffff'],
        [
          '861f88947ffffff',
          '861f8895fffffff',
          '861f88867ffffff',
          '861f8d497ffffff',
          '861f8d4b7ffffff',
          '861f8896fffffff',
        ],
        [
          '861f88967ffffff',
          '861f88977ffffff',
          '861f88957ffffff',
          '861f8882fffffff',
          '861f88877ffffff',
          '861f88847ffffff',
          '861f8886fffffff',
          '861f8d49fffffff',
          '861f8d487ffffff',
          '861f8d4a7ffffff',
          '861f8d59fffffff',
          '861f8d597ffffff',
        ],
      ]);
      expect(tooFar).toBeNull();
      expect(bad).toBeNull();
    },
    T,
  );

  it(
    'a pentagon has five neighbors (the fallback search; order as H3 4.x returns it)',
    async () => {
      expect(await k.value("geo_h3cell_neighbors('8009fffffffffff')")).toEqual([
        '8007fffffffffff',
        '8019fffffffffff',
        '8001fffffffffff',
        '801ffffffffffff',
        '8011fffffffffff',
      ]);
    },
    T,
  );

  it(
    'columns, not only constants: the same cells from a table of points',
    async () => {
      const rows = await k.rows(
        `datatable(lng:real, lat:real)[-73.956683, 40.807907, -73.916869, 40.818314, -73.989148, 40.743273]
         | project c = geo_point_to_h3cell(lng, lat, 6)`,
      );
      // The cells of the documented H3 polygon-collection example (tokens as H3's latLngToCell gives them).
      expect(rows.map((r) => r[0])).toEqual(['862a1008fffffff', '862a100afffffff', '862a100d7ffffff']);
      const lvl = await k.rows(
        `range i from 1 to 3 step 1 | extend c = geo_point_to_h3cell(-74.04450446039874, 40.689250859314974, i * 2)
         | project c, l = geo_h3cell_level(c), p = geo_h3cell_parent(c, 1)`,
      );
      expect(lvl.map((r) => [r[1], r[2]])).toEqual([
        [2, '812a3ffffffffff'],
        [4, '812a3ffffffffff'],
        [6, '812a3ffffffffff'],
      ]);
      expect(lvl[2]?.[0]).toBe('862a1072fffffff');
    },
    T,
  );
});

const CENTRAL_PARK =
  '{"type":"Polygon","coordinates":[[[-73.9495,40.7969],[-73.95807266235352,40.80068603561921],[-73.98201942443848,40.76825672305777],[-73.97317886352539,40.76455136505513],[-73.9495,40.7969]]]}';
const TWO_PARKS =
  '{"type":"MultiPolygon","coordinates":[[[[-73.9495,40.7969],[-73.95807266235352,40.80068603561921],[-73.98201942443848,40.76825672305777],[-73.97317886352539,40.76455136505513],[-73.9495,40.7969]]],[[[-73.94262313842773,40.775991804565585],[-73.98107528686523,40.791849155467695],[-73.99600982666016,40.77092185281977],[-73.96150588989258,40.75609977566361],[-73.94262313842773,40.775991804565585]]]]}';
const LAS_VEGAS =
  '{"type":"LineString","coordinates":[[-115.115385,36.229195],[-115.136995,36.200366],[-115.140252,36.192470],[-115.143558,36.188523],[-115.144076,36.181954],[-115.154662,36.174483],[-115.166431,36.176388],[-115.183289,36.175007],[-115.192612,36.176736],[-115.202485,36.173439],[-115.225355,36.174365]]}';

describe('polygons', () => {
  it(
    'area, centroid, invalid rings',
    async () => {
      const [area, centroid, invalid] = await k.row(
        `print geo_polygon_area(dynamic(${CENTRAL_PARK})), geo_polygon_centroid(dynamic(${CENTRAL_PARK})),
          geo_polygon_area(dynamic({"type": "Polygon","coordinates": [[[0,0],[10,10],[10,10],[0,0]]]}))`,
      );
      near(area, 3475207.28346606);
      nearAll([(centroid as Shape).coordinates], [[-73.965735689907618, 40.782550538057812]]);
      expect(invalid).toBeNull();
    },
    T,
  );

  it(
    'overlapping polygons of a multipolygon count once (area and perimeter of the union)',
    async () => {
      const [areaUnion, perimeterUnion] = await k.row(
        `print geo_polygon_area(dynamic(${TWO_PARKS})), geo_polygon_perimeter(dynamic(${TWO_PARKS}))`,
      );
      near(areaUnion, 10889971.5343487);
      near(perimeterUnion, 15943.5384578745);
    },
    T,
  );

  it(
    'containment (shell with a hole, the smaller region of a ring), distance and closest point',
    async () => {
      const rows = await k.rows(
        `datatable(lng:real, lat:real, name:string)[-73.985654, 40.748487, 'Empire State Building', -73.963249, 40.779525, 'Metropolitan Museum (in the hole)', -73.874367, 40.777356, 'LaGuardia Airport']
         | extend inside = geo_point_in_polygon(lng, lat, dynamic({"type":"Polygon","coordinates":[[[-73.92597198486328,40.87821814104651],[-73.94691467285156,40.85069618625578],[-73.94691467285156,40.841865966890786],[-74.01008605957031,40.7519385984599],[-74.01866912841797,40.704586878965245],[-74.01214599609375,40.699901911003046],[-73.99772644042969,40.70875101828792],[-73.97747039794922,40.71083299030839],[-73.97026062011719,40.7290474687069],[-73.97506713867186,40.734510840309376],[-73.970947265625,40.74543623770158],[-73.94210815429688,40.77586181063573],[-73.9434814453125,40.78080140115127],[-73.92974853515625,40.79691751000055],[-73.93077850341797,40.804454347291006],[-73.93489837646484,40.80965166748853],[-73.93524169921875,40.837190668541105],[-73.92288208007812,40.85770758108904],[-73.9101791381836,40.871728144624974],[-73.92597198486328,40.87821814104651]],[[-73.95824432373047,40.80071852197889],[-73.98206233978271,40.76815921628347],[-73.97309303283691,40.76422632379533],[-73.94914627075195,40.796949998204596],[-73.95824432373047,40.80071852197889]]]}))
         | project name, inside`,
      );
      expect(rows).toEqual([
        ['Empire State Building', true],
        ['Metropolitan Museum (in the hole)', false],
        ['LaGuardia Airport', false],
      ]);
      const [dist, closest, farNull] = await k.row(
        `print geo_distance_point_to_line(-115.199625, 36.210419, dynamic(${LAS_VEGAS})),
          geo_closest_point_on_line(-115.199625, 36.210419, dynamic(${LAS_VEGAS})),
          geo_distance_point_to_polygon(500, 1, dynamic({"type": "Polygon","coordinates": [[[0,0],[10,10],[10,1],[0,0]]]}))`,
      );
      near(dist, 3797.88887253334);
      nearAll([(closest as Shape).coordinates], [[-115.192612, 36.176736]]);
      expect(farNull).toBeNull();
    },
    T,
  );

  it(
    'intersection tests',
    async () => {
      const [polys, lines, invalid] = await k.row(
        `print geo_intersects_2polygons(dynamic({"type":"Polygon","coordinates":[[[-73.9630937576294,40.77498840732385],[-73.963565826416,40.774383111780914],[-73.96205306053162,40.773745311181585],[-73.96160781383514,40.7743912365898],[-73.9630937576294,40.77498840732385]]]}), dynamic({"type":"Polygon","coordinates":[[[-73.96213352680206,40.775045280447145],[-73.9631313085556,40.774578106920345],[-73.96207988262177,40.77416780398293],[-73.96213352680206,40.775045280447145]]]})),
          geo_intersects_line_with_polygon(dynamic({"type":"LineString","coordinates":[[-73.985195,40.788275],[-73.974552,40.779761]]}), dynamic({"type":"Polygon","coordinates":[[[-73.9712905883789,40.78580561168767],[-73.98004531860352,40.775276834803655],[-73.97000312805176,40.77852663535664],[-73.9712905883789,40.78580561168767]]]})),
          geo_intersects_2polygons(dynamic({"type":"Polygon"}), dynamic(${CENTRAL_PARK}))`,
      );
      expect([polys, lines, invalid]).toEqual([true, true, null]);
    },
    T,
  );
});

describe('lines', () => {
  it(
    'length, interpolation and location along a line',
    async () => {
      const [len, multi, point, fraction, bad] = await k.row(
        `print geo_line_length(dynamic({"type":"LineString","coordinates":[[-73.95807266235352,40.800426144169315],[-73.94966125488281,40.79691751000055],[-73.97317886352539,40.764486356930334]]})),
          geo_line_length(dynamic({"type":"MultiLineString","coordinates":[[[-73.95798683166502,40.800556090021466],[-73.98193359375,40.76819171855746]],[[-73.94940376281738,40.79691751000055],[-73.97317886352539,40.76435634049001]]]})),
          geo_line_interpolate_point(dynamic({"type":"LineString","coordinates":[[-73.95796, 40.80042], [-73.97317, 40.764486]]}), 0.25),
          geo_line_locate_point(dynamic({"type":"LineString","coordinates":[[-73.95796, 40.80042], [-73.97317, 40.764486]]}), -73.965, 40.792),
          geo_line_length(dynamic({"type":"LineString","coordinates":[[1, 1]]}))`,
      );
      near(len, 4922.48016992081);
      near(multi, 8262.24339753741);
      nearAll([(point as Shape).coordinates], [[-73.961764043218281, 40.791436687257232]]);
      near(fraction, 0.25560135100307552, 1e-11);
      expect(bad).toBeNull();
    },
    T,
  );
});

describe('WKT', () => {
  it(
    'every documented geometry type; invalid text is null',
    async () => {
      const row = await k.row(
        `print geo_from_wkt("POINT (1 2)"), geo_from_wkt("LINESTRING (1 2, 3 4)"), geo_from_wkt("POLYGON ((0 0, 2 0, 2 2, 0 0))"),
          geo_from_wkt("MULTIPOINT (1 1, 2 2, 3 3)"), geo_from_wkt("MULTILINESTRING ((1 1, 2 2, 3 3), (4 4, 5 5))"),
          geo_from_wkt("MULTIPOLYGON (((0 0, 2 0, 2 2, 0 0)),((10 10, 12 10, 12 12, 10 10)))"),
          geo_from_wkt("GEOMETRYCOLLECTION (POINT (1 1),LINESTRING (2 2, 3 3, 4 4),POLYGON ((10 10, 12 10, 12 12, 10 10)))"),
          geo_from_wkt("LINESTRING")`,
      );
      expect(row).toEqual([
        { type: 'Point', coordinates: [1, 2] },
        {
          type: 'LineString',
          coordinates: [
            [1, 2],
            [3, 4],
          ],
        },
        {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [2, 0],
              [2, 2],
              [0, 0],
            ],
          ],
        },
        {
          type: 'MultiPoint',
          coordinates: [
            [1, 1],
            [2, 2],
            [3, 3],
          ],
        },
        {
          type: 'MultiLineString',
          coordinates: [
            [
              [1, 1],
              [2, 2],
              [3, 3],
            ],
            [
              [4, 4],
              [5, 5],
            ],
          ],
        },
        {
          type: 'MultiPolygon',
          coordinates: [
            [
              [
                [0, 0],
                [2, 0],
                [2, 2],
                [0, 0],
              ],
            ],
            [
              [
                [10, 10],
                [12, 10],
                [12, 12],
                [10, 10],
              ],
            ],
          ],
        },
        {
          type: 'GeometryCollection',
          geometries: [
            { type: 'Point', coordinates: [1, 1] },
            {
              type: 'LineString',
              coordinates: [
                [2, 2],
                [3, 3],
                [4, 4],
              ],
            },
            {
              type: 'Polygon',
              coordinates: [
                [
                  [10, 10],
                  [12, 10],
                  [12, 12],
                  [10, 10],
                ],
              ],
            },
          ],
        },
        null,
      ]);
    },
    T,
  );
});

describe('refused functions', () => {
  it(
    'are compile-time diagnostics that say why',
    async () => {
      await expect(k.value('geo_point_buffer(1, 2, 3)')).rejects.toThrow(/S2BufferOperation/);
      await expect(k.value('geo_union_polygons_array(dynamic([]))')).rejects.toThrow(/boolean operation/);
      await expect(k.value("geo_info_from_ip_address('20.53.203.50')")).rejects.toThrow(/geolocation database/);
    },
    T,
  );
});
