/**
 * IPv4 / IPv6 functions on DuckDB with Kusto's results (the documented examples: prefixes inside the address and
 * as an argument, mixed IPv4/IPv6 comparisons, term-delimited IP search in text).
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

describe('IPv4', () => {
  it('parse_ipv4 applies the prefix; parse_ipv4_mask the smaller one; invalid text is null', async () => {
    expect(
      await k.row(
        "print parse_ipv4('192.168.1.1'), parse_ipv4('192.168.1.1/24'), parse_ipv4('255.255.255.255/31'), parse_ipv4_mask('10.20.30.40', 24), parse_ipv4('1.2.3.256'), parse_ipv4('abc')",
      ),
    ).toEqual([3232235777, 3232235776, 4294967294, 169090560, null, null]);
  });

  it('compare, match, ranges, private, netmask suffix', async () => {
    expect(
      await k.row(
        "print ipv4_compare('192.168.1.1', '192.168.1.255'), ipv4_compare('192.168.1.1/24', '192.168.1.255'), ipv4_compare('192.168.1.1', '192.168.1.0', 31), ipv4_is_match('192.168.1.1/24', '192.168.1.255'), ipv4_is_in_range('192.168.1.1', '192.168.1.255/24'), ipv4_is_in_range('10.1.1.1', '192.168.1.255/24')",
      ),
    ).toEqual([-1, 0, 0, true, true, false]);
    expect(
      await k.row(
        "print ipv4_is_in_any_range('10.1.2.3', dynamic(['192.168.1.1/16', '10.0.0.1/8'])), ipv4_is_in_any_range('1.1.1.1', '192.168.1.1/16', '10.0.0.1/8'), ipv4_is_private('172.16.5.4'), ipv4_is_private('172.32.0.1'), ipv4_netmask_suffix('192.168.1.1/24'), ipv4_netmask_suffix('192.168.1.1')",
      ),
    ).toEqual([true, false, true, false, 24, 32]);
  });

  it('format_ipv4 and format_ipv4_mask (documented table)', async () => {
    const rows = await k.rows(
      "datatable(address:string, mask:long)['192.168.1.1', 24, '192.168.1.1', 32, '192.168.1.1/24', 32, '192.168.1.1/24', long(-1)] | project format_ipv4(address, mask), format_ipv4_mask(address, mask)",
    );
    expect(rows).toEqual([
      ['192.168.1.0', '192.168.1.0/24'],
      ['192.168.1.1', '192.168.1.1/32'],
      ['192.168.1.0', '192.168.1.0/24'],
      ['', ''],
    ]);
    expect(await k.value('format_ipv4(3232235777)')).toBe('192.168.1.1');
  });

  it('ipv4_range_to_cidr_list', async () => {
    expect(await k.value("ipv4_range_to_cidr_list('10.0.0.0', '10.0.0.50')")).toEqual([
      '10.0.0.0/27',
      '10.0.0.32/28',
      '10.0.0.48/31',
      '10.0.0.50/32',
    ]);
  });

  it('has_ipv4 / has_ipv4_prefix / has_any_* need delimited addresses', async () => {
    expect(
      await k.row(
        "print has_ipv4('05:04:54 127.0.0.1 GET /favicon.ico 404', '127.0.0.1'), has_ipv4('05:04:54127.0.0.1 GET /favicon.ico 404', '127.0.0.1'), has_ipv4_prefix('05:04:54 127.0.0.1 GET', '127.0.'), has_any_ipv4_prefix('05:04:54 127.0.0.1 GET', '127.0'), has_any_ipv4('a 10.0.0.1, b', '1.1.1.1', '10.0.0.1')",
      ),
    ).toEqual([true, false, true, false, true]);
  });
});

describe('IPv6', () => {
  it('parse_ipv6 gives the canonical form; IPv4 maps to ::ffff:0:0/96', async () => {
    expect(
      await k.row(
        "print parse_ipv6('192.168.255.255'), parse_ipv6('192.168.255.255/24'), parse_ipv6('fe80::85d:e82c:9446:7994'), parse_ipv6_mask('fe80::85d:e82c:9446:7994/120', 124), parse_ipv6_mask('::192.168.255.255/24', 128), parse_ipv6('not an ip')",
      ),
    ).toEqual([
      '0000:0000:0000:0000:0000:ffff:c0a8:ffff',
      '0000:0000:0000:0000:0000:ffff:c0a8:ff00',
      'fe80:0000:0000:0000:085d:e82c:9446:7994',
      'fe80:0000:0000:0000:085d:e82c:9446:7900',
      '0000:0000:0000:0000:0000:ffff:c0a8:ff00',
      '',
    ]);
  });

  it('compare and match across IPv4 and IPv6 with prefixes', async () => {
    const rows = await k.rows(
      "datatable(a:string, b:string)['192.168.1.1/24', '192.168.1.255', 'fe80::85d:e82c:9446:7994/120', 'fe80::85d:e82c:9446:7998', '192.168.1.1', '::ffff:c0a8:0101', '::192.168.1.1/30', '192.168.1.255/24', 'fe80::1', 'fe80::2'] | project ipv6_compare(a, b), ipv6_is_match(a, b)",
    );
    expect(rows).toEqual([
      [0, true],
      [0, true],
      [0, true],
      [0, true],
      [-1, false],
    ]);
    expect(await k.value("ipv6_is_match('fe80::85d:e82c:9446:7994', 'fe80::85d:e82c:9446:7995', 127)")).toBe(true);
  });

  it('ranges', async () => {
    expect(
      await k.row(
        "print ipv6_is_in_range('a5e:f127:8a9d:146d:e102:b5d3:c755:abcd', 'a5e:f127:8a9d:146d:e102:b5d3:c755:0000/112'), ipv6_is_in_range('a5e:f127:8a9d:146d:e102:b5d3:c755:abcd', '0:0:0:0:0:ffff:c0a8:ac/60'), ipv6_is_in_any_range('2001:db8::1', dynamic(['fe80::/10', '2001:db8::/32']))",
      ),
    ).toEqual([true, false, true]);
  });
});
