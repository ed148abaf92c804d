/**
 * Syslog parsing: RFC 3164 and RFC 5424 messages (the RFCs' own examples, real device formats) → Syslog rows,
 * and the real-world mess: missing PRI, years, zones, BOMs, non-UTF-8 bytes, line ends, size limits, errors.
 */
import { describe, expect, it } from 'vitest';
import { parseSyslogRecord } from '../../src/ingest/syslog/records.js';
import { parseSyslog } from '../../src/ingest/syslog/syslog-parser.js';
import { civilToMs, formatInstant, parseCefTime } from '../../src/ingest/syslog/timestamps.js';
import type { ParsedRecord, SyslogRow } from '../../src/ingest/syslog/types.js';

const RECEIVED = Date.UTC(2003, 9, 12, 8, 0, 0); // 2003-10-12T08:00:00Z
const ctx = { receivedAt: RECEIVED, peerAddress: '192.0.2.7', collectorHostName: 'collector01' };

function syslog(input: string | Uint8Array, receivedAt = RECEIVED, options = {}): ParsedRecord & { row: SyslogRow } {
  const r = parseSyslogRecord(input, { ...ctx, receivedAt }, options);
  expect(r.table).toBe('Syslog');
  return r as ParsedRecord & { row: SyslogRow };
}

describe('RFC 3164', () => {
  it('reads the RFC example: PRI, BSD timestamp (year from the receive time), host, tag, message', () => {
    const r = syslog("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
    expect(r.parseError).toBeUndefined();
    expect(r.row).toEqual({
      TimeGenerated: '2003-10-11T22:14:15.0000000Z',
      EventTime: '2003-10-11T22:14:15.0000000Z',
      Computer: 'mymachine',
      HostName: 'mymachine',
      HostIP: '192.0.2.7',
      Facility: 'auth',
      SeverityLevel: 'crit',
      ProcessName: 'su',
      ProcessID: null,
      SyslogMessage: "'su root' failed for lonvick on /dev/pts/8",
      SourceSystem: 'Linux',
      CollectorHostName: 'collector01',
    });
  });

  it('takes the word after the host as the tag even without a colon, as rsyslog (and so Sentinel) does', () => {
    const r = syslog('<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!');
    expect(r.row).toMatchObject({
      Computer: '10.0.0.99',
      ProcessName: 'Use',
      SyslogMessage: 'the BFG!',
      Facility: 'user',
      SeverityLevel: 'notice',
      EventTime: '2003-02-05T17:32:18.0000000Z',
    });
  });

  it('without PRI: user.notice, no timestamp → receive time, the whole text is the message', () => {
    const r = syslog('Use the BFG!');
    expect(r.parseError).toBeUndefined();
    expect(r.row).toMatchObject({
      Facility: 'user',
      SeverityLevel: 'notice',
      EventTime: null,
      TimeGenerated: '2003-10-12T08:00:00.0000000Z',
      Computer: '192.0.2.7',
      ProcessName: '',
      SyslogMessage: 'Use the BFG!',
    });
  });

  it('reads tag[pid], and a tag with a path', () => {
    const a = syslog('<86>Jul  8 16:08:00 squid-uk-02 sudo[4242]: pam_unix(sudo:session): session opened');
    expect(a.row).toMatchObject({ Facility: 'authpriv', SeverityLevel: 'info', ProcessName: 'sudo', ProcessID: 4242 });
    expect(a.row.SyslogMessage).toBe('pam_unix(sudo:session): session opened');
    const b = syslog('<78>Oct 11 22:14:15 host1 /usr/sbin/cron[123]: (root) CMD (run-parts /etc/cron.hourly)');
    expect(b.row).toMatchObject({ Facility: 'cron', ProcessName: '/usr/sbin/cron', ProcessID: 123 });
    expect(b.row.SyslogMessage).toBe('(root) CMD (run-parts /etc/cron.hourly)');
  });

  it('sees a missing host name when the token after the time is a tag', () => {
    const r = syslog('<38>Oct 11 22:14:15 sshd[123]: Accepted publickey for admin from 10.1.1.1 port 51234 ssh2');
    expect(r.row).toMatchObject({ Computer: '192.0.2.7', ProcessName: 'sshd', ProcessID: 123 });
    expect(r.row.SyslogMessage).toBe('Accepted publickey for admin from 10.1.1.1 port 51234 ssh2');
  });

  it('infers the year across the new-year boundary, both ways, and keeps Feb 29 valid', () => {
    const late = syslog('<13>Dec 31 23:59:59 h app: x', Date.UTC(2024, 0, 1, 0, 0, 5));
    expect(late.row.EventTime).toBe('2023-12-31T23:59:59.0000000Z');
    const early = syslog('<13>Jan  1 00:00:01 h app: x', Date.UTC(2023, 11, 31, 23, 59, 58));
    expect(early.row.EventTime).toBe('2024-01-01T00:00:01.0000000Z');
    const leap = syslog('<13>Feb 29 12:00:00 h app: x', Date.UTC(2025, 2, 1));
    expect(leap.row.EventTime).toBe('2024-02-29T12:00:00.0000000Z');
  });

  it('reads ISO timestamps with fractions and offsets in BSD messages', () => {
    const r = syslog('<30>2024-03-01T10:00:00.123456+02:00 web01 nginx[77]: GET / 200');
    expect(r.row).toMatchObject({
      EventTime: '2024-03-01T08:00:00.1234560Z',
      Computer: 'web01',
      ProcessName: 'nginx',
      ProcessID: 77,
      SyslogMessage: 'GET / 200',
    });
  });

  it('reads Cisco ASA (year, colon after the time, no host) and IOS (clock mark, fraction, UTC:) headers', () => {
    const asa = syslog('<166>Jan 05 2023 12:34:56: %ASA-6-302013: Built outbound TCP connection 1 for outside');
    expect(asa.row).toMatchObject({
      EventTime: '2023-01-05T12:34:56.0000000Z',
      Computer: '192.0.2.7',
      Facility: 'local4',
      SeverityLevel: 'info',
      ProcessName: '%ASA-6-302013',
      SyslogMessage: 'Built outbound TCP connection 1 for outside',
    });
    const ios = syslog(
      '<187>*Mar  1 18:48:50.483 UTC: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down',
    );
    expect(ios.row).toMatchObject({
      EventTime: '2003-03-01T18:48:50.4830000Z',
      ProcessName: '%LINK-3-UPDOWN',
      SeverityLevel: 'err',
      Facility: 'local7',
    });
  });

  it('applies the assumed UTC offset to zone-less timestamps only', () => {
    const r = syslog('<13>Oct 11 22:14:15 h app: x', RECEIVED, { assumeUtcOffsetMinutes: 120 });
    expect(r.row.EventTime).toBe('2003-10-11T20:14:15.0000000Z');
    const iso = syslog('<13>2003-10-11T22:14:15Z h app: x', RECEIVED, { assumeUtcOffsetMinutes: 120 });
    expect(iso.row.EventTime).toBe('2003-10-11T22:14:15.0000000Z');
  });

  it('only takes an explicit tag from a message without a timestamp', () => {
    // Microsoft's own ASA test message (Sentinel troubleshooting docs).
    const asa = syslog('<164>%ASA-7-106010: Deny inbound TCP src inet:1.1.1.1 dst inet:2.2.2.2');
    expect(asa.row).toMatchObject({
      Facility: 'local4',
      SeverityLevel: 'warning',
      ProcessName: '%ASA-7-106010',
      SyslogMessage: 'Deny inbound TCP src inet:1.1.1.1 dst inet:2.2.2.2',
      EventTime: null,
    });
    const plain = syslog('<14>date=2023-01-01 time=10:00:00 devname=fw1 action=deny');
    expect(plain.row.ProcessName).toBe('');
    expect(plain.row.SyslogMessage).toBe('date=2023-01-01 time=10:00:00 devname=fw1 action=deny');
  });

  it('reads a year after the time, IPv6 and FQDN hosts, kernel lines, non-numeric pids', () => {
    const year = syslog('<13>Oct 11 22:14:15 2001 host app: old');
    expect(year.row).toMatchObject({ EventTime: '2001-10-11T22:14:15.0000000Z', Computer: 'host', ProcessName: 'app' });
    const v6 = syslog('<13>Oct 11 22:14:15 fe80::1 app: x');
    expect(v6.row.Computer).toBe('fe80::1');
    const kernel = syslog(
      '<4>Oct 11 22:14:15 db1.corp.example.com kernel: [12345.678] usb 1-1: new high-speed USB device',
    );
    expect(kernel.row).toMatchObject({
      Facility: 'kern',
      SeverityLevel: 'warning',
      Computer: 'db1.corp.example.com',
      ProcessName: 'kernel',
      SyslogMessage: '[12345.678] usb 1-1: new high-speed USB device',
    });
    const pid = syslog('<13>Oct 11 22:14:15 host app[main]: x');
    expect(pid.row).toMatchObject({ ProcessName: 'app', ProcessID: null, SyslogMessage: 'x' });
  });

  it('reads a Juniper RFC 5424 line with structured data', () => {
    const r = syslog(
      '<165>1 2007-02-15T09:17:15.719Z router1 mgd 3046 UI_DBASE_LOGOUT_EVENT [junos@2636.1.1.1.2.18 username="regress"] User \'regress\' exiting configuration mode',
    );
    expect(r.row).toMatchObject({
      EventTime: '2007-02-15T09:17:15.7190000Z',
      Computer: 'router1',
      ProcessName: 'mgd',
      ProcessID: 3046,
      SyslogMessage: '[junos@2636.1.1.1.2.18 username="regress"] User \'regress\' exiting configuration mode',
    });
  });

  it('drops trailing line ends and NULs, keeps inner newlines', () => {
    const r = syslog('<34>Oct 11 22:14:15 mymachine su: line one\nline two\r\n\0');
    expect(r.row.SyslogMessage).toBe('line one\nline two');
  });
});

describe('RFC 5424', () => {
  it('reads the RFC example 1 with a BOM before MSG and NILVALUE fields', () => {
    const bytes = Buffer.concat([
      Buffer.from('<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - '),
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from("'su root' failed for lonvick on /dev/pts/8"),
    ]);
    const r = syslog(bytes);
    expect(r.parseError).toBeUndefined();
    expect(r.row).toMatchObject({
      EventTime: '2003-10-11T22:14:15.0030000Z',
      TimeGenerated: '2003-10-11T22:14:15.0030000Z',
      Computer: 'mymachine.example.com',
      ProcessName: 'su',
      ProcessID: null,
      Facility: 'auth',
      SeverityLevel: 'crit',
      SyslogMessage: "'su root' failed for lonvick on /dev/pts/8",
    });
  });

  it('reads microseconds and a negative offset (RFC example 2)', () => {
    const r = syslog(
      "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
    );
    expect(r.row).toMatchObject({
      EventTime: '2003-08-24T12:14:15.0000030Z',
      Computer: '192.0.2.1',
      ProcessName: 'myproc',
      ProcessID: 8710,
      Facility: 'local4',
      SeverityLevel: 'notice',
      SyslogMessage: "%% It's time to make the do-nuts.",
    });
  });

  it('keeps structured data at the front of the message and exposes it parsed (RFC examples 3 and 4)', () => {
    const text =
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" ' +
      'eventSource="Application" eventID="1011"] An application event log entry...';
    const r = syslog(text);
    expect(r.row.SyslogMessage).toBe(
      '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry...',
    );
    const parsed = parseSyslog(text, RECEIVED, 0);
    expect(parsed.msgId).toBe('ID47');
    expect(parsed.structuredData).toEqual([
      {
        id: 'exampleSDID@32473',
        params: [
          ['iut', '3'],
          ['eventSource', 'Application'],
          ['eventID', '1011'],
        ],
      },
    ]);
    const only = syslog(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
    );
    expect(only.row.SyslogMessage).toBe(
      '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
    );
  });

  it('unescapes \\" \\\\ \\] in parameter values', () => {
    const parsed = parseSyslog('<14>1 - h a - - [x@1 v="q\\"b\\\\s\\]e" w=""] m', RECEIVED, 0);
    expect(parsed.structuredData?.[0]?.params).toEqual([
      ['v', 'q"b\\s]e'],
      ['w', ''],
    ]);
    expect(parsed.message).toBe('m');
  });

  it('a NILVALUE timestamp leaves EventTime null and TimeGenerated at the receive time', () => {
    const r = syslog('<14>1 - host app 12 - - hello');
    expect(r.row).toMatchObject({ EventTime: null, TimeGenerated: '2003-10-12T08:00:00.0000000Z', ProcessID: 12 });
  });

  it('flags broken structured data and a truncated header, keeping the raw text', () => {
    const bad = '<165>1 2003-10-11T22:14:15.003Z host app - ID47 [bad@1 a="unterminated] msg';
    const r = syslog(bad);
    expect(r.parseError).toBe('malformed structured data');
    expect(r.row.SyslogMessage).toBe(bad);
    expect(r.row.Computer).toBe('host');
    const cut = syslog('<165>1 2003-10-11T22:14:15.003Z host');
    expect(cut.parseError).toBe('incomplete RFC 5424 header');
    expect(cut.row.SyslogMessage).toBe('<165>1 2003-10-11T22:14:15.003Z host');
  });

  it('reports an unreadable timestamp as a warning, not an error', () => {
    const r = syslog('<14>1 2003-13-45T99:00:00Z host app - - - msg');
    expect(r.parseError).toBeUndefined();
    expect(r.warnings?.[0]).toMatch(/invalid RFC 5424 timestamp/);
    expect(r.row.EventTime).toBeNull();
    expect(r.row.SyslogMessage).toBe('msg');
  });
});

describe('bad input still becomes a row', () => {
  it('an invalid PRI: raw text, parse error', () => {
    for (const text of ['<999>Oct 11 22:14:15 host app: x', '<abc>hello', '<12']) {
      const r = syslog(text);
      expect(r.parseError).toBe('invalid PRI');
      expect(r.row.SyslogMessage).toBe(text);
      expect(r.row.Facility).toBe('user');
    }
  });

  it('an empty message', () => {
    for (const input of ['', '\r\n', Buffer.alloc(0)]) {
      const r = syslog(input);
      expect(r.parseError).toBe('empty message');
      expect(r.row.SyslogMessage).toBe('');
    }
  });

  it('non-UTF-8 bytes are read as Latin-1, so no byte is lost', () => {
    const bytes = Buffer.concat([Buffer.from('<14>Oct 11 22:14:15 h app: caf'), Buffer.from([0xe9, 0x20, 0xff])]);
    const r = syslog(bytes);
    expect(r.row.SyslogMessage).toBe('café ÿ');
    expect(r.warnings).toContain('not valid UTF-8: decoded as Latin-1');
    expect(Buffer.from(r.row.SyslogMessage, 'latin1').equals(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff]))).toBe(
      true,
    );
  });

  it('a BOM before the whole message is dropped; valid UTF-8 stays UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<14>Oct 11 22:14:15 h app: grüße')]);
    const r = syslog(bytes);
    expect(r.row.SyslogMessage).toBe('grüße');
    expect(r.row.Facility).toBe('user');
    expect(r.warnings).toBeUndefined();
  });

  it('over-long messages are cut on a character boundary and flagged', () => {
    const long = `<14>Oct 11 22:14:15 h app: ${'é'.repeat(1000)}`;
    const r = syslog(Buffer.from(long), RECEIVED, { maxMessageBytes: 101 });
    expect(r.truncated).toBe(true);
    expect(Buffer.byteLength(r.row.SyslogMessage) + 27).toBeLessThanOrEqual(101);
    expect(r.row.SyslogMessage).toMatch(/^é+$/);
    const fromText = syslog(long, RECEIVED, { maxMessageBytes: 101 });
    expect(fromText.truncated).toBe(true);
    expect(fromText.row.SyslogMessage).toBe(r.row.SyslogMessage);
    expect(syslog('<14>Oct 11 22:14:15 h app: short', RECEIVED, { maxMessageBytes: 101 }).truncated).toBe(false);
  });
});

describe('timestamps', () => {
  it('formats and computes dates like Date does, over the whole 0001-9999 range', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const min = new Date('0001-01-01T00:00:00Z').getTime();
    const max = new Date('9999-12-31T23:59:59.999Z').getTime();
    for (let i = 0; i < 1500; i++) {
      const ms = Math.floor(min + random() * (max - min));
      const micros = Math.floor(random() * 1000);
      const iso = new Date(ms).toISOString();
      expect(formatInstant({ ms, micros })).toBe(`${iso.slice(0, 23)}${String(micros).padStart(3, '0')}0Z`);
      const d = new Date(ms);
      const back = civilToMs(
        d.getUTCFullYear(),
        d.getUTCMonth(),
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
        d.getUTCMilliseconds(),
        0,
      );
      expect(back).toBe(ms);
    }
    expect(civilToMs(2023, 1, 29, 0, 0, 0, 0, 0)).toBeUndefined();
    expect(civilToMs(2024, 1, 29, 0, 0, 0, 0, 0)).toBe(Date.UTC(2024, 1, 29));
    expect(civilToMs(2100, 1, 29, 0, 0, 0, 0, 0)).toBeUndefined();
    expect(civilToMs(2000, 1, 29, 0, 0, 0, 0, 60)).toBe(Date.UTC(2000, 1, 28, 23));
  });

  it('reads CEF dates: epoch s/ms/µs/ns, MMM dd [yyyy] HH:mm:ss[.SSS] [zone], ISO; rejects the rest', () => {
    const recv = Date.UTC(2021, 8, 20);
    const at = (v: string) => {
      const t = parseCefTime(v, recv, 0);
      return t && formatInstant(t);
    };
    expect(at('1632139200')).toBe('2021-09-20T12:00:00.0000000Z');
    expect(at('1632139200123')).toBe('2021-09-20T12:00:00.1230000Z');
    expect(at('1632139200123456')).toBe('2021-09-20T12:00:00.1234560Z');
    expect(at('1647873918304240923')).toBe('2022-03-21T14:45:18.3042400Z'); // Fortinet eventtime (ns)
    expect(at('Sep 20 2021 12:00:00')).toBe('2021-09-20T12:00:00.0000000Z');
    expect(at('Sep 19 12:00:00.5')).toBe('2021-09-19T12:00:00.5000000Z');
    expect(at('Sep 20 2021 14:00:00 CEST')).toBe('2021-09-20T12:00:00.0000000Z');
    expect(at('2021-09-20T12:00:00-05:00')).toBe('2021-09-20T17:00:00.0000000Z');
    for (const bad of ['', 'yesterday', 'Sep 20 2021 12:00:00 Mars/Olympus', '2021-02-30T00:00:00Z', '1.61248E+12']) {
      expect(at(bad), bad).toBeUndefined();
    }
  });
});
