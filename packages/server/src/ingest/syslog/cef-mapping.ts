/**
 * CEF → CommonSecurityLog, as Microsoft Sentinel's CEF connector maps it (learn.microsoft.com/azure/sentinel/
 * cef-name-mapping, and the CommonSecurityLog changes of 28 February 2023), declared as data.
 *
 * - Header: Device Vendor/Product/Version → DeviceVendor/DeviceProduct/DeviceVersion, Signature ID →
 *   DeviceEventClassID, Name → Activity, Severity → LogSeverity (kept as sent, e.g. `7` or `High`).
 * - Extension keys by their short CEF name and by their ArcSight full name (`src` and `sourceAddress`). Keys
 *   are case-sensitive as in CEF; a key that only matches case-insensitively is accepted too.
 * - Since February 2023: `externalId` → ExtID (string), `cn1..3` → FieldDeviceCustomNumber1..3 (long), `cat`,
 *   `outcome`, `reason` → DeviceEventCategory, EventOutcome, Reason. The legacy ExternalID/DeviceCustomNumberN
 *   int columns are left empty, as Sentinel does for new data.
 * - `start`/`end` → StartTime/EndTime (datetimes). `rt` → ReceiptTime (a string column: kept as sent) and the
 *   row's TimeGenerated.
 * - Unknown keys, and values that do not fit their column's type, go to AdditionalExtensions as
 *   `key=value;key=value` (Sentinel's form), so nothing is dropped.
 * - Enrichment: RemoteIP/RemotePort from the direction (0 inbound: the source is remote; 1 outbound: the
 *   destination), SimplifiedDeviceAction from DeviceAction. Threat-intelligence columns are not filled here.
 */
import type { CefEvent } from './cef-parser.js';
import { formatInstant, type Instant, parseCefTime } from './timestamps.js';
import type { CommonSecurityLogRow } from './types.js';

export type CefColumnType = 'string' | 'int' | 'long' | 'real' | 'datetime';

export interface CefKeyMapping {
  readonly column: string;
  readonly type: CefColumnType;
}

/** [column, type, CEF key names...] */
const TABLE: readonly (readonly [string, CefColumnType, ...string[]])[] = [
  ['DeviceAction', 'string', 'act', 'deviceAction'],
  ['ApplicationProtocol', 'string', 'app', 'applicationProtocol'],
  ['DeviceEventCategory', 'string', 'cat', 'deviceEventCategory'],
  ['EventCount', 'int', 'cnt', 'baseEventCount'],
  ['DestinationDnsDomain', 'string', 'destinationDnsDomain'],
  ['DestinationServiceName', 'string', 'destinationServiceName'],
  ['DestinationTranslatedAddress', 'string', 'destinationTranslatedAddress'],
  ['DestinationTranslatedPort', 'int', 'destinationTranslatedPort'],
  ['CommunicationDirection', 'string', 'deviceDirection'],
  ['DeviceDnsDomain', 'string', 'deviceDnsDomain'],
  ['DeviceExternalID', 'string', 'deviceExternalId'],
  ['DeviceFacility', 'string', 'deviceFacility'],
  ['DeviceInboundInterface', 'string', 'deviceInboundInterface'],
  ['DeviceNtDomain', 'string', 'deviceNtDomain'],
  ['DeviceOutboundInterface', 'string', 'deviceOutboundInterface'],
  ['DevicePayloadId', 'string', 'devicePayloadId'],
  ['ProcessName', 'string', 'deviceProcessName'],
  ['DeviceTranslatedAddress', 'string', 'deviceTranslatedAddress'],
  ['DestinationHostName', 'string', 'dhost', 'destinationHostName'],
  ['DestinationMACAddress', 'string', 'dmac', 'destinationMacAddress'],
  ['DestinationNTDomain', 'string', 'dntdom', 'destinationNtDomain'],
  ['DestinationProcessId', 'int', 'dpid', 'destinationProcessId'],
  ['DestinationUserPrivileges', 'string', 'dpriv', 'destinationUserPrivileges'],
  ['DestinationProcessName', 'string', 'dproc', 'destinationProcessName'],
  ['DestinationPort', 'int', 'dpt', 'destinationPort'],
  ['DestinationIP', 'string', 'dst', 'destinationAddress'],
  ['DeviceTimeZone', 'string', 'dtz', 'deviceTimeZone'],
  ['DestinationUserID', 'string', 'duid', 'destinationUserId'],
  ['DestinationUserName', 'string', 'duser', 'destinationUserName'],
  ['DeviceAddress', 'string', 'dvc', 'deviceAddress'],
  ['DeviceName', 'string', 'dvchost', 'deviceHostName'],
  ['DeviceMacAddress', 'string', 'dvcmac', 'deviceMacAddress'],
  ['ProcessID', 'int', 'dvcpid', 'deviceProcessId'],
  ['ExtID', 'string', 'externalId'],
  ['FileCreateTime', 'string', 'fileCreateTime'],
  ['FileHash', 'string', 'fileHash'],
  ['FileID', 'string', 'fileId'],
  ['FileModificationTime', 'string', 'fileModificationTime'],
  ['FilePath', 'string', 'filePath'],
  ['FilePermission', 'string', 'filePermission'],
  ['FileType', 'string', 'fileType'],
  ['FileName', 'string', 'fname', 'fileName'],
  ['FileSize', 'int', 'fsize', 'fileSize'],
  ['ReceivedBytes', 'long', 'in', 'bytesIn'],
  ['Message', 'string', 'msg', 'message'],
  ['OldFileCreateTime', 'string', 'oldFileCreateTime'],
  ['OldFileHash', 'string', 'oldFileHash'],
  ['OldFileID', 'string', 'oldFileId'],
  ['OldFileModificationTime', 'string', 'oldFileModificationTime'],
  ['OldFileName', 'string', 'oldFileName'],
  ['OldFilePath', 'string', 'oldFilePath'],
  ['OldFilePermission', 'string', 'oldFilePermission'],
  ['OldFileSize', 'int', 'oldFileSize'],
  ['OldFileType', 'string', 'oldFileType'],
  ['SentBytes', 'long', 'out', 'bytesOut'],
  ['EventOutcome', 'string', 'outcome', 'eventOutcome'],
  ['Protocol', 'string', 'proto', 'transportProtocol'],
  ['Reason', 'string', 'reason'],
  ['RequestURL', 'string', 'request', 'requestUrl'],
  ['RequestClientApplication', 'string', 'requestClientApplication'],
  ['RequestContext', 'string', 'requestContext'],
  ['RequestCookies', 'string', 'requestCookies'],
  ['RequestMethod', 'string', 'requestMethod'],
  ['ReceiptTime', 'string', 'rt', 'deviceReceiptTime'],
  ['SourceHostName', 'string', 'shost', 'sourceHostName'],
  ['SourceMACAddress', 'string', 'smac', 'sourceMacAddress'],
  ['SourceNTDomain', 'string', 'sntdom', 'sourceNtDomain'],
  ['SourceDnsDomain', 'string', 'sourceDnsDomain'],
  ['SourceServiceName', 'string', 'sourceServiceName'],
  ['SourceTranslatedAddress', 'string', 'sourceTranslatedAddress'],
  ['SourceTranslatedPort', 'int', 'sourceTranslatedPort'],
  ['SourceProcessId', 'int', 'spid', 'sourceProcessId'],
  ['SourceUserPrivileges', 'string', 'spriv', 'sourceUserPrivileges'],
  ['SourceProcessName', 'string', 'sproc', 'sourceProcessName'],
  ['SourcePort', 'int', 'spt', 'sourcePort'],
  ['SourceIP', 'string', 'src', 'sourceAddress'],
  ['SourceUserID', 'string', 'suid', 'sourceUserId'],
  ['SourceUserName', 'string', 'suser', 'sourceUserName'],
  ['EventType', 'int', 'type'],
  ['StartTime', 'datetime', 'start', 'startTime'],
  ['EndTime', 'datetime', 'end', 'endTime'],
  ['FlexString1', 'string', 'flexString1'],
  ['FlexString1Label', 'string', 'flexString1Label'],
  ['FlexString2', 'string', 'flexString2'],
  ['FlexString2Label', 'string', 'flexString2Label'],
  ['FlexDate1', 'string', 'flexDate1'],
  ['FlexDate1Label', 'string', 'flexDate1Label'],
  ['FlexNumber1', 'int', 'flexNumber1'],
  ['FlexNumber1Label', 'string', 'flexNumber1Label'],
  ['FlexNumber2', 'int', 'flexNumber2'],
  ['FlexNumber2Label', 'string', 'flexNumber2Label'],
  ...[1, 2, 3, 4, 5, 6].flatMap((n) => [
    [`DeviceCustomString${n}`, 'string', `cs${n}`, `deviceCustomString${n}`] as const,
    [`DeviceCustomString${n}Label`, 'string', `cs${n}Label`, `deviceCustomString${n}Label`] as const,
  ]),
  ...[1, 2, 3].flatMap((n) => [
    [`FieldDeviceCustomNumber${n}`, 'long', `cn${n}`, `deviceCustomNumber${n}`] as const,
    [`DeviceCustomNumber${n}Label`, 'string', `cn${n}Label`, `deviceCustomNumber${n}Label`] as const,
  ]),
  ...[1, 2, 3, 4].flatMap((n) => [
    [`DeviceCustomFloatingPoint${n}`, 'real', `cfp${n}`, `deviceCustomFloatingPoint${n}`] as const,
    [`DeviceCustomFloatingPoint${n}Label`, 'string', `cfp${n}Label`, `deviceCustomFloatingPoint${n}Label`] as const,
    [`DeviceCustomIPv6Address${n}`, 'string', `c6a${n}`, `deviceCustomIPv6Address${n}`] as const,
    [`DeviceCustomIPv6Address${n}Label`, 'string', `c6a${n}Label`, `deviceCustomIPv6Address${n}Label`] as const,
  ]),
  ...[1, 2].flatMap((n) => [
    [`DeviceCustomDate${n}`, 'string', `deviceCustomDate${n}`] as const,
    [`DeviceCustomDate${n}Label`, 'string', `deviceCustomDate${n}Label`] as const,
  ]),
];

/** CEF key → column. */
export const CEF_KEYS: ReadonlyMap<string, CefKeyMapping> = new Map(
  TABLE.flatMap(([column, type, ...keys]) => keys.map((k) => [k, { column, type }] as const)),
);

const CEF_KEYS_LOWER: ReadonlyMap<string, CefKeyMapping> = new Map(
  [...CEF_KEYS].map(([k, m]) => [k.toLowerCase(), m] as const),
);

/**
 * Every key seen so far → its mapping or null: the exact keys, plus keys resolved case-insensitively or found
 * unknown (vendor keys repeat in every message of a device). One lookup per key; the learned part is bounded.
 */
const lookup = new Map<string, CefKeyMapping | null>(CEF_KEYS);
const LEARNED_MAX = 10_000;
let learned = 0;

export function cefKeyMapping(key: string): CefKeyMapping | undefined {
  const m = lookup.get(key);
  if (m !== undefined) return m ?? undefined;
  const resolved = CEF_KEYS_LOWER.get(key.toLowerCase()) ?? null;
  if (learned >= LEARNED_MAX) {
    for (const k of lookup.keys()) if (!CEF_KEYS.has(k)) lookup.delete(k);
    learned = 0;
  }
  lookup.set(key, resolved);
  learned++;
  return resolved ?? undefined;
}

/** Columns every CEF row has (set from the header and the receiver), besides those the extension fills. */
export const CEF_HEADER_COLUMNS = [
  'TimeGenerated',
  'DeviceVendor',
  'DeviceProduct',
  'DeviceVersion',
  'DeviceEventClassID',
  'Activity',
  'LogSeverity',
  'Computer',
  'SourceSystem',
  'CollectorHostName',
] as const;

/** Columns derived from others (enrichment), with their types. */
export const CEF_DERIVED_COLUMNS: Readonly<Record<string, CefColumnType>> = {
  AdditionalExtensions: 'string',
  RemoteIP: 'string',
  RemotePort: 'string',
  SimplifiedDeviceAction: 'string',
};

const INT_TEXT = /^[+-]?\d+$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;
const REAL_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A value in its column's type, or undefined when it does not fit. Timestamps need the receive context. */
export function coerceCefValue(
  value: string,
  type: CefColumnType,
  receivedMs: number,
  assumedOffset: number,
): string | number | undefined {
  switch (type) {
    case 'string':
      return value;
    case 'int': {
      if (!INT_TEXT.test(value)) return undefined;
      const n = Number(value);
      return n >= INT32_MIN && n <= INT32_MAX ? n : undefined;
    }
    case 'long': {
      if (!INT_TEXT.test(value)) return undefined;
      const n = Number(value);
      if (Number.isSafeInteger(n)) return n;
      const b = BigInt(value);
      // Beyond 2^53 a JS number would round: keep the exact digits as text.
      return b >= INT64_MIN && b <= INT64_MAX ? b.toString() : undefined;
    }
    case 'real': {
      if (!REAL_TEXT.test(value)) return undefined;
      const n = Number(value);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'datetime': {
      const t = parseCefTime(value, receivedMs, assumedOffset);
      return t === undefined ? undefined : formatInstant(t);
    }
  }
}

/** `Denied` → `Deny`: the documented example, applied to the usual past-tense firewall verbs. */
const SIMPLIFIED_ACTIONS: ReadonlyMap<string, string> = new Map([
  ['denied', 'Deny'],
  ['allowed', 'Allow'],
  ['accepted', 'Accept'],
  ['blocked', 'Block'],
  ['dropped', 'Drop'],
  ['rejected', 'Reject'],
  ['permitted', 'Permit'],
]);

export function simplifyDeviceAction(action: string): string {
  return SIMPLIFIED_ACTIONS.get(action.toLowerCase()) ?? action;
}

export interface CefRowContext {
  readonly receivedMs: number;
  readonly assumedOffset: number;
  /** The syslog header's host name, if any: `Computer`. */
  readonly hostname?: string;
  /** The syslog header's timestamp, if any: TimeGenerated when the event has no `rt`. */
  readonly syslogTime?: Instant;
  readonly peerAddress?: string;
  readonly collectorHostName?: string;
}

/** The CommonSecurityLog row of a parsed CEF event; `warnings` collects values that did not fit their column. */
export function cefToRow(event: CefEvent, ctx: CefRowContext, warnings: string[]): CommonSecurityLogRow {
  const row: CommonSecurityLogRow = {
    TimeGenerated: '',
    DeviceVendor: event.deviceVendor,
    DeviceProduct: event.deviceProduct,
    DeviceVersion: event.deviceVersion,
    DeviceEventClassID: event.signatureId,
    Activity: event.name,
    LogSeverity: event.severity,
    Computer: ctx.hostname ?? ctx.peerAddress ?? '',
    SourceSystem: 'OpsManager',
    CollectorHostName: ctx.collectorHostName ?? '',
  };
  let additional = '';
  let eventTime: string | undefined;
  for (const [key, value] of event.extensions) {
    const m = cefKeyMapping(key);
    if (m === undefined) {
      additional += `${additional.length > 0 ? ';' : ''}${key}=${value}`;
      continue;
    }
    if (value.length === 0) continue;
    const v = coerceCefValue(value, m.type, ctx.receivedMs, ctx.assumedOffset);
    if (v === undefined) {
      warnings.push(`${key}: "${value}" is not a valid ${m.type} for ${m.column}`);
      additional += `${additional.length > 0 ? ';' : ''}${key}=${value}`;
      continue;
    }
    row[m.column] = v;
    if (m.column === 'ReceiptTime') {
      const t = parseCefTime(value, ctx.receivedMs, ctx.assumedOffset);
      if (t) eventTime = formatInstant(t);
      else warnings.push(`${key}: "${value}" is not a CEF timestamp; TimeGenerated is not taken from it`);
    }
  }
  if (event.strayText !== undefined) warnings.push(`extension text without a key: "${event.strayText}"`);
  if (additional.length > 0) row.AdditionalExtensions = additional;
  row.TimeGenerated = eventTime ?? formatInstant(ctx.syslogTime ?? { ms: Math.floor(ctx.receivedMs), micros: 0 });
  const direction = row.CommunicationDirection;
  if (direction === '0' || direction === '1') {
    const ip = direction === '0' ? row.SourceIP : row.DestinationIP;
    const port = direction === '0' ? row.SourcePort : row.DestinationPort;
    if (typeof ip === 'string') row.RemoteIP = ip;
    if (typeof port === 'number') row.RemotePort = String(port);
  }
  if (typeof row.DeviceAction === 'string') row.SimplifiedDeviceAction = simplifyDeviceAction(row.DeviceAction);
  return row;
}
