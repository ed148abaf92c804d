/**
 * Real Sentinel rows (fixtures/shared/sample-data) back through the parsers: each Syslog / CommonSecurityLog row
 * is turned into the wire message its device would have sent (BSD syslog; CEF inside syslog), parsed, and the
 * row that comes out must hold the same values. This checks the whole mapping against data Sentinel itself
 * produced, including its quirks (tags without colons, pre-2023 escapes left in the data).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CEF_KEYS } from '../../src/ingest/syslog/cef-mapping.js';
import { parseSyslogRecord } from '../../src/ingest/syslog/records.js';
import { FACILITY_NAMES, SEVERITY_NAMES } from '../../src/ingest/syslog/types.js';

const SAMPLES = new URL('../../../../fixtures/shared/sample-data/', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, SAMPLES), 'utf8').replace(/^\uFEFF/, '');

/** RFC 4180 CSV → objects keyed by the header. */
function csv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field.length > 0 || row.length > 0) rows.push([...row, field]);
  const [header, ...body] = rows;
  return body.filter((r) => r.length > 1).map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');
/** The BSD timestamp of an instant: `Jul  8 16:08:00`. */
const bsd = (ms: number): string => {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
};
/** Portal export times: `7/8/2019 16:08` or `9/28/2020, 9:35:41.000 PM` (UTC). */
function portalTime(text: string): number {
  const m = /^(\d+)\/(\d+)\/(\d{4}),? (\d+):(\d+)(?::(\d+)(?:\.(\d+))?)?(?: (AM|PM))?$/.exec(text.trim());
  if (!m) throw new Error(`unreadable time ${text}`);
  let hour = Number(m[4]);
  if (m[8] === 'PM' && hour < 12) hour += 12;
  if (m[8] === 'AM' && hour === 12) hour = 0;
  return Date.UTC(
    Number(m[3]),
    Number(m[1]) - 1,
    Number(m[2]),
    hour,
    Number(m[5]),
    Number(m[6] ?? 0),
    Number(m[7] ?? 0),
  );
}
const iso7 = (ms: number): string => `${new Date(ms).toISOString().slice(0, 23)}0000Z`;
const pri = (facility: string, severity: string): number =>
  FACILITY_NAMES.indexOf(facility) * 8 + SEVERITY_NAMES.indexOf(severity);

describe('Syslog samples', () => {
  it('msticpy syslog_data.csv: 100 sudo rows', () => {
    const rows = csv(read('Syslog/msticpy-syslog_data.csv'));
    expect(rows).toHaveLength(100);
    for (const s of rows) {
      const time = portalTime(s.EventTime!);
      const tag = s.ProcessID ? `${s.ProcessName}[${s.ProcessID}]` : s.ProcessName;
      const wire = `<${pri(s.Facility!, s.SeverityLevel!)}>${bsd(time)} ${s.Computer} ${tag}: ${s.SyslogMessage}\n`;
      const r = parseSyslogRecord(Buffer.from(wire), { receivedAt: time + 1500, peerAddress: s.HostIP! });
      expect(r.parseError).toBeUndefined();
      expect(r.row).toEqual({
        TimeGenerated: iso7(time),
        EventTime: iso7(time),
        Computer: s.Computer,
        HostName: s.HostName,
        HostIP: s.HostIP,
        Facility: s.Facility,
        SeverityLevel: s.SeverityLevel,
        ProcessName: s.ProcessName,
        ProcessID: s.ProcessID ? Number(s.ProcessID) : null,
        SyslogMessage: s.SyslogMessage,
        SourceSystem: s.SourceSystem,
        CollectorHostName: '',
      });
    }
  });

  it('Cisco ISE rows: tag without a colon, the year taken from the receive time two months later', () => {
    const rows = JSON.parse(read('Syslog/azure-sentinel-sampledata-CiscoISEEvent.json')) as Record<string, string>[];
    expect(rows).toHaveLength(31);
    for (const s of rows) {
      const eventTime = portalTime(s['EventTime [UTC]']!);
      const received = portalTime(s['TimeGenerated [UTC]']!);
      const wire = `<${pri(s.Facility!, s.SeverityLevel!)}>${bsd(eventTime)} ${s.Computer} ${s.ProcessName} ${s.SyslogMessage}`;
      const r = parseSyslogRecord(wire, { receivedAt: received });
      expect(r.parseError).toBeUndefined();
      expect(r.row).toMatchObject({
        TimeGenerated: iso7(eventTime),
        EventTime: iso7(eventTime),
        Computer: s.Computer,
        HostName: s.HostName,
        HostIP: s.HostIP, // "Unknown IP": the sender's address was not known
        Facility: s.Facility,
        SeverityLevel: s.SeverityLevel,
        ProcessName: s.ProcessName,
        ProcessID: null,
        SyslogMessage: s.SyslogMessage,
        SourceSystem: 'Linux',
      });
    }
  });
});

/** Sentinel's values before February 2023 kept CEF's escapes; the value the device meant has them removed. */
const unescapeOld = (v: string): string => v.replace(/\\([=\\])/g, '$1');
const escapeExtension = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
const escapeHeader = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');

/** Column → [its CEF key, the column it lands in now]. Legacy int columns moved in February 2023. */
const KEY_OF_COLUMN = new Map<string, [string, string]>();
for (const [key, m] of CEF_KEYS) if (!KEY_OF_COLUMN.has(m.column)) KEY_OF_COLUMN.set(m.column, [key, m.column]);
for (const n of [1, 2, 3]) KEY_OF_COLUMN.set(`DeviceCustomNumber${n}`, [`cn${n}`, `FieldDeviceCustomNumber${n}`]);
KEY_OF_COLUMN.set('ExternalID', ['externalId', 'ExtID']);
/** Columns that are derived or were mangled by the export (ReceiptTime became `1.61248E+12`). */
const NOT_FROM_CEF = new Set(['ReceiptTime', 'SimplifiedDeviceAction', 'RemoteIP', 'RemotePort']);
const HEADER = ['DeviceVendor', 'DeviceProduct', 'DeviceVersion', 'DeviceEventClassID', 'Activity', 'LogSeverity'];

function roundTrip(sample: Record<string, unknown>, file: string): void {
  const value = (c: string): string => unescapeOld(String(sample[c] ?? ''));
  const ext: string[] = [];
  const expected: Record<string, unknown> = {};
  for (const [column, raw] of Object.entries(sample)) {
    if (raw === '' || raw === null || NOT_FROM_CEF.has(column)) continue;
    const target = KEY_OF_COLUMN.get(column);
    if (!target) continue;
    const [key, now] = target;
    const type = CEF_KEYS.get(key)!.type;
    ext.push(`${key}=${escapeExtension(value(column))}`);
    expected[now] = type === 'string' ? value(column) : Number(value(column));
  }
  const additional: string[] = [];
  for (const pair of String(sample.AdditionalExtensions ?? '')
    .split(';')
    .filter(Boolean)) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq);
    const v = pair.slice(eq + 1);
    ext.push(`${key}=${escapeExtension(v)}`);
    const m = CEF_KEYS.get(key);
    // cat/reason/outcome/start/end have had their own columns since February 2023.
    if (m?.type === 'datetime') expected[m.column] = iso7(Number(v));
    else if (m) expected[m.column] = v;
    else additional.push(`${key}=${v}`);
  }
  if (additional.length > 0) expected.AdditionalExtensions = additional.join(';');
  for (const h of HEADER) expected[h] = value(h);
  const header = ['0', ...HEADER.map((h) => escapeHeader(value(h)))].join('|');
  const host = String(sample.Computer ?? '') || 'cef-device';
  const wire = `<134>Feb  4 23:57:00 ${host} CEF:${header}|${ext.join(' ')}`;
  const r = parseSyslogRecord(wire, { receivedAt: Date.UTC(2021, 1, 5) });
  expect(r.table, file).toBe('CommonSecurityLog');
  expect(r.warnings, `${file}: ${wire}`).toBeUndefined();
  expect(r.row).toMatchObject({ ...expected, Computer: host, SourceSystem: 'OpsManager' });
  // Nothing else came out of the extension.
  const extra = Object.keys(r.row).filter(
    (c) => !(c in expected) && !['TimeGenerated', 'Computer', 'SourceSystem', 'CollectorHostName'].includes(c),
  );
  expect(extra.filter((c) => !NOT_FROM_CEF.has(c))).toEqual([]);
}

describe('CommonSecurityLog samples', () => {
  it('CrowdStrike Falcon (20 rows): custom strings with escaped URLs and paths, cn3, cat/reason/outcome', () => {
    const rows = JSON.parse(
      read('CommonSecurityLog/azure-sentinel-sampledata-CrowdStrikeFalconEndpointProtection.json'),
    );
    expect(rows).toHaveLength(20);
    for (const s of rows) roundTrip(s, 'CrowdStrike');
  });

  it('Fortigate (2 rows): vendor keys in AdditionalExtensions, ExternalID → ExtID', () => {
    const rows = JSON.parse(read('CommonSecurityLog/azure-sentinel-sampledata-Fortigate.json'));
    expect(rows).toHaveLength(2);
    for (const s of rows) roundTrip(s, 'Fortigate');
  });

  it('Vectra (solarigate training CSV): flex numbers, start/end from AdditionalExtensions', () => {
    const rows = csv(read('CommonSecurityLog/sentinel-training-solarigate_CEFevent.csv'));
    expect(rows).toHaveLength(1);
    roundTrip(rows[0]!, 'Vectra');
  });
});
