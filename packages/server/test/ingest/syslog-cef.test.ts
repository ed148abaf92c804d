/**
 * CEF → CommonSecurityLog: header and extension escaping, the key → column mapping (checked against the
 * workspace schema), type coercion, timestamps, unknown keys, and malformed CEF. Messages are the CEF spec's
 * examples, Microsoft's own Sentinel test message, and real device lines.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CEF_DERIVED_COLUMNS, CEF_HEADER_COLUMNS, CEF_KEYS } from '../../src/ingest/syslog/cef-mapping.js';
import { parseCef } from '../../src/ingest/syslog/cef-parser.js';
import { parseSyslogRecord } from '../../src/ingest/syslog/records.js';
import type { CommonSecurityLogRow } from '../../src/ingest/syslog/types.js';

const RECEIVED = Date.UTC(2021, 8, 20, 12, 0, 0); // 2021-09-20T12:00:00Z
const ctx = { receivedAt: RECEIVED, peerAddress: '198.51.100.9', collectorHostName: 'collector01' };

function cef(text: string): { row: CommonSecurityLogRow; warnings: readonly string[] } {
  const r = parseSyslogRecord(text, ctx);
  expect(r.table).toBe('CommonSecurityLog');
  expect(r.parseError).toBeUndefined();
  return { row: r.row as CommonSecurityLogRow, warnings: r.warnings ?? [] };
}

const schema = JSON.parse(readFileSync(new URL('../../../../content/schema/tables.json', import.meta.url), 'utf8')) as {
  tables: Record<string, { columns: { name: string; type: string }[] }>;
};
const cslColumns = new Map(schema.tables.CommonSecurityLog?.columns.map((c) => [c.name, c.type]));

describe('CEF mapping table', () => {
  it('maps every key to a CommonSecurityLog column of the declared type', () => {
    expect(CEF_KEYS.size).toBeGreaterThan(150);
    for (const [key, m] of CEF_KEYS) {
      expect(cslColumns.get(m.column), `${key} → ${m.column}`).toBe(m.type);
    }
    for (const c of CEF_HEADER_COLUMNS) expect(cslColumns.has(c), c).toBe(true);
    for (const [c, t] of Object.entries(CEF_DERIVED_COLUMNS)) expect(cslColumns.get(c), c).toBe(t);
  });

  it('covers the documented key names (Sentinel cef-name-mapping)', () => {
    const documented: Record<string, string> = {
      act: 'DeviceAction',
      app: 'ApplicationProtocol',
      cat: 'DeviceEventCategory',
      cnt: 'EventCount',
      deviceDirection: 'CommunicationDirection',
      deviceProcessName: 'ProcessName',
      dhost: 'DestinationHostName',
      dmac: 'DestinationMACAddress',
      dpt: 'DestinationPort',
      dst: 'DestinationIP',
      dvc: 'DeviceAddress',
      dvchost: 'DeviceName',
      dvcpid: 'ProcessID',
      externalId: 'ExtID',
      fname: 'FileName',
      in: 'ReceivedBytes',
      msg: 'Message',
      out: 'SentBytes',
      outcome: 'EventOutcome',
      proto: 'Protocol',
      reason: 'Reason',
      request: 'RequestURL',
      rt: 'ReceiptTime',
      shost: 'SourceHostName',
      spt: 'SourcePort',
      src: 'SourceIP',
      suser: 'SourceUserName',
      type: 'EventType',
      cs1: 'DeviceCustomString1',
      cs1Label: 'DeviceCustomString1Label',
      cn1: 'FieldDeviceCustomNumber1',
      cn1Label: 'DeviceCustomNumber1Label',
      cfp4: 'DeviceCustomFloatingPoint4',
      c6a2: 'DeviceCustomIPv6Address2',
      deviceCustomDate1: 'DeviceCustomDate1',
      flexString2Label: 'FlexString2Label',
      flexNumber1: 'FlexNumber1',
    };
    for (const [key, column] of Object.entries(documented)) expect(CEF_KEYS.get(key)?.column, key).toBe(column);
  });
});

describe('CEF parsing', () => {
  it('reads the CEF spec example inside a BSD syslog message', () => {
    const { row } = cef(
      'Sep 19 08:26:10 host CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232',
    );
    expect(row).toEqual({
      TimeGenerated: '2021-09-19T08:26:10.0000000Z',
      DeviceVendor: 'Security',
      DeviceProduct: 'threatmanager',
      DeviceVersion: '1.0',
      DeviceEventClassID: '100',
      Activity: 'worm successfully stopped',
      LogSeverity: '10',
      Computer: 'host',
      SourceSystem: 'OpsManager',
      CollectorHostName: 'collector01',
      SourceIP: '10.0.0.1',
      DestinationIP: '2.1.2.2',
      SourcePort: 1232,
    });
  });

  it('unescapes \\| and \\\\ in the header, \\= \\\\ \\n \\r in extension values', () => {
    const a = cef(
      'CEF:0|security|threatmanager|1.0|100|detected a \\| in message|10|src=10.0.0.1 act=blocked a | dst=1.1.1.1',
    );
    expect(a.row).toMatchObject({
      Activity: 'detected a | in message',
      DeviceAction: 'blocked a |',
      DestinationIP: '1.1.1.1',
    });
    const b = cef(
      'CEF:0|security|threatmanager|1.0|100|detected a \\\\ in packet|10|src=10.0.0.1 act=blocked a \\\\ dst=1.1.1.1',
    );
    expect(b.row).toMatchObject({ Activity: 'detected a \\ in packet', DeviceAction: 'blocked a \\' });
    const c = cef(
      'CEF:0|security|threatmanager|1.0|100|detected a = in message|10|src=10.0.0.1 act=blocked a \\= dst=1.1.1.1',
    );
    expect(c.row).toMatchObject({ Activity: 'detected a = in message', DeviceAction: 'blocked a =' });
    const d = cef('CEF:0|security|threatmanager|1.0|100|x|10|msg=Detected a threat.\\n No action needed.\\r spt=1');
    expect(d.row.Message).toBe('Detected a threat.\n No action needed.\r');
  });

  it('keeps = inside values that is not a key boundary, and spaces inside values', () => {
    const { row } = cef(
      'CEF:0|V|P|1|sig|name|5|request=http://x.example/a?b=c&d=e requestClientApplication=Mozilla/5.0 (X11; Linux) suser=CORP\\\\alice',
    );
    expect(row).toMatchObject({
      RequestURL: 'http://x.example/a?b=c&d=e',
      RequestClientApplication: 'Mozilla/5.0 (X11; Linux)',
      SourceUserName: 'CORP\\alice',
    });
  });

  it('reads a real Check Point line: rt as TimeGenerated, unknown keys in AdditionalExtensions, direction', () => {
    // From vectordotdev/vector's parse_cef tests ("real_case"), a Check Point log line.
    const line =
      'CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|Log|https|Unknown|act=Accept destinationTranslatedAddress=0.0.0.0 destinationTranslatedPort=0 deviceDirection=0 rt=1543270652000 sourceTranslatedAddress=192.168.103.254 sourceTranslatedPort=35398 spt=49363 dpt=443 cs2Label=Rule Name layer_name=Network layer_uuid=b406b732-2437-4848-9741-6eae1f5bf112 match_id=4 parent_rule=0 rule_action=Accept rule_uid=9e5e6e74-aa9a-4693-b9fe-53712dd27bea ifname=eth0 logid=0 loguid={0x5bfc70fc,0x1,0xfe65a8c0,0xc0000001} origin=192.168.101.254 originsicname=CN\\=R80,O\\=R80_M..6u6bdo sequencenum=1 version=5 dst=52.173.84.157 inzone=Internal nat_addtnl_rulenum=1 nat_rulenum=4 outzone=External product=VPN-1 & FireWall-1 proto=6 service_id=https src=192.168.101.100';
    const { row, warnings } = cef(`<134>Nov 26 22:17:33 gw01 ${line}`);
    expect(warnings).toEqual([]);
    expect(row).toMatchObject({
      TimeGenerated: '2018-11-26T22:17:32.0000000Z',
      ReceiptTime: '1543270652000',
      Computer: 'gw01',
      DeviceVendor: 'Check Point',
      DeviceProduct: 'VPN-1 & FireWall-1',
      DeviceEventClassID: 'Log',
      Activity: 'https',
      LogSeverity: 'Unknown',
      DeviceAction: 'Accept',
      SimplifiedDeviceAction: 'Accept',
      DestinationTranslatedAddress: '0.0.0.0',
      DestinationTranslatedPort: 0,
      CommunicationDirection: '0',
      SourceTranslatedPort: 35398,
      SourcePort: 49363,
      DestinationPort: 443,
      DeviceCustomString2Label: 'Rule Name',
      DestinationIP: '52.173.84.157',
      SourceIP: '192.168.101.100',
      Protocol: '6',
      RemoteIP: '192.168.101.100',
      RemotePort: '49363',
    });
    expect(row.AdditionalExtensions).toBe(
      'layer_name=Network;layer_uuid=b406b732-2437-4848-9741-6eae1f5bf112;match_id=4;parent_rule=0;rule_action=Accept;' +
        'rule_uid=9e5e6e74-aa9a-4693-b9fe-53712dd27bea;ifname=eth0;logid=0;loguid={0x5bfc70fc,0x1,0xfe65a8c0,0xc0000001};' +
        'origin=192.168.101.254;originsicname=CN=R80,O=R80_M..6u6bdo;sequencenum=1;version=5;inzone=Internal;' +
        'nat_addtnl_rulenum=1;nat_rulenum=4;outzone=External;product=VPN-1 & FireWall-1;service_id=https',
    );
  });

  it("reads Microsoft's Sentinel test message (netcat and logger forms)", () => {
    // learn.microsoft.com, "Ingest syslog and CEF messages with the Azure Monitor Agent", test the connector.
    const nc = cef(
      '<164>CEF:0|Mock-test|MOCK|common=event-format-test|end|TRAFFIC|1|rt=$common=event-formatted-receive_time',
    );
    expect(nc.row).toMatchObject({
      DeviceVendor: 'Mock-test',
      DeviceProduct: 'MOCK',
      DeviceVersion: 'common=event-format-test',
      DeviceEventClassID: 'end',
      Activity: 'TRAFFIC',
      LogSeverity: '1',
      ReceiptTime: '$common=event-formatted-receive_time',
      TimeGenerated: '2021-09-20T12:00:00.0000000Z',
      Computer: '198.51.100.9',
    });
    expect(nc.warnings[0]).toMatch(/not a CEF timestamp/);
    // `logger -t CEF --rfc3164` writes `CEF: 0|...` (a space after the tag's colon).
    const logger = cef('<164>Sep 20 11:59:59 fwd01 CEF: 0|Mock-Test|MOCK|common=event-format-test|end|TRAFFIC|1|spt=1');
    expect(logger.row).toMatchObject({ DeviceVendor: 'Mock-Test', Computer: 'fwd01', SourcePort: 1 });
    expect(logger.row.TimeGenerated).toBe('2021-09-20T11:59:59.0000000Z');
  });

  it('reads CEF inside RFC 5424, with the 5424 timestamp as the fallback time', () => {
    const { row } = cef(
      '<14>1 2026-09-17T12:53:13-04:00 QC_BASTION_01 - - - - CEF:0|Palo Alto Networks|PAN-OS|11.1.13-h5|end|TRAFFIC|1|src=10.3.163.24',
    );
    expect(row).toMatchObject({
      TimeGenerated: '2026-09-17T16:53:13.0000000Z',
      Computer: 'QC_BASTION_01',
      DeviceProduct: 'PAN-OS',
      SourceIP: '10.3.163.24',
    });
  });

  it('coerces types: ints, longs beyond 2^53 exactly, reals, datetimes in every CEF form', () => {
    const { row, warnings } = cef(
      'CEF:0|V|P|1|s|n|3|cnt=7 in=9007199254740993 out=12 cfp1=35.46 cn2=-5 ' +
        'start=1632139200000 end=Sep 20 2021 12:30:00 deviceCustomDate1=Sep 20 2021 12:00:00 type=1 fsize=2048',
    );
    expect(warnings).toEqual([]);
    expect(row).toMatchObject({
      EventCount: 7,
      ReceivedBytes: '9007199254740993',
      SentBytes: 12,
      DeviceCustomFloatingPoint1: 35.46,
      FieldDeviceCustomNumber2: -5,
      StartTime: '2021-09-20T12:00:00.0000000Z',
      EndTime: '2021-09-20T12:30:00.0000000Z',
      DeviceCustomDate1: 'Sep 20 2021 12:00:00',
      EventType: 1,
      FileSize: 2048,
    });
    const zoned = cef(
      'CEF:0|V|P|1|s|n|3|rt=Sep 20 2021 14:00:00.250 CEST start=Sep 20 12:00:00 end=2021-09-20T12:00:00+01:00',
    );
    expect(zoned.row).toMatchObject({
      TimeGenerated: '2021-09-20T12:00:00.2500000Z',
      StartTime: '2021-09-20T12:00:00.0000000Z',
      EndTime: '2021-09-20T11:00:00.0000000Z',
    });
  });

  it('puts values that do not fit their column in AdditionalExtensions, with a warning', () => {
    const { row, warnings } = cef('CEF:0|V|P|1|s|n|3|spt=http dpt=99999999999 cfp1=abc src=1.2.3.4 start=yesterday');
    expect(row.SourcePort).toBeUndefined();
    expect(row.DestinationPort).toBeUndefined();
    expect(row.StartTime).toBeUndefined();
    expect(row.SourceIP).toBe('1.2.3.4');
    expect(row.AdditionalExtensions).toBe('spt=http;dpt=99999999999;cfp1=abc;start=yesterday');
    expect(warnings).toHaveLength(4);
  });

  it('accepts ArcSight full key names and case-insensitive matches', () => {
    const { row } = cef('CEF:0|V|P|1|s|n|3|sourceAddress=10.0.0.1 destinationPort=53 DST=10.0.0.2 deviceAction=Denied');
    expect(row).toMatchObject({
      SourceIP: '10.0.0.1',
      DestinationPort: 53,
      DestinationIP: '10.0.0.2',
      DeviceAction: 'Denied',
      SimplifiedDeviceAction: 'Deny',
    });
  });

  it('accepts a header whose Severity ends the message, and empty values', () => {
    const a = cef('CEF:0|V|P|1|s|n|7');
    expect(a.row).toMatchObject({ LogSeverity: '7', Activity: 'n' });
    const b = cef('CEF:1|Security|threatmanager||100|worm successfully stopped||src= dst=2.1.2.2');
    expect(b.row).toMatchObject({ DeviceVersion: '', LogSeverity: '', DestinationIP: '2.1.2.2' });
    expect(b.row.SourceIP).toBeUndefined();
  });

  it('an incomplete CEF header is not CEF: a Syslog row with the raw text and a parse error', () => {
    const text = '<134>Sep 19 08:26:10 host CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|Log|https|';
    const r = parseSyslogRecord(text, ctx);
    expect(r.table).toBe('Syslog');
    expect(r.parseError).toBe('malformed CEF: incomplete CEF header (6 of 7 fields)');
    expect(r.row.SyslogMessage).toBe(text);
    expect(r.row.Computer).toBe('host');
  });

  it('parseCef exposes the event with its extension pairs in order', () => {
    const p = parseCef(
      'CEF:0|CyberArk|PTA|12.6|1|Suspected credentials theft|8|suser=mike2@prod1.domain.com cn1=1254323565 shost=prod1.domain.com',
    );
    expect(p.event).toEqual({
      version: '0',
      deviceVendor: 'CyberArk',
      deviceProduct: 'PTA',
      deviceVersion: '12.6',
      signatureId: '1',
      name: 'Suspected credentials theft',
      severity: '8',
      extensions: [
        ['suser', 'mike2@prod1.domain.com'],
        ['cn1', '1254323565'],
        ['shost', 'prod1.domain.com'],
      ],
    });
    expect(parseCef('CEF:0|a|b').error).toMatch(/incomplete/);
    expect(parseCef('CEF:0|a|b|c|d|e|f|stray words src=1').event?.strayText).toBe('stray words');
  });
});
