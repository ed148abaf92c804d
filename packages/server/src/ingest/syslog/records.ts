/**
 * One received message → one row, in `Syslog` or (when it carries CEF) `CommonSecurityLog`. Pure; never throws.
 *
 * - A message that holds `CEF:<n>|` is CEF: the text before it is read as the syslog header (PRI, time, host,
 *   tag), the rest as the CEF event. A CEF event whose header is incomplete is not CEF: it becomes a Syslog row
 *   flagged with the parse error.
 * - Anything else is a Syslog row. Whatever happens, a row comes out; when the message could not be parsed the
 *   row carries `parseError` and `SyslogMessage` holds the whole received text.
 * - RFC 5424 structured data is kept at the front of `SyslogMessage` (`[id k="v"] msg`), because the Syslog table
 *   has no column for it and dropping it would lose data; the parsed elements are available from `parseSyslog`.
 * - TimeGenerated is the event's time when the message has one (CEF `rt`, else the syslog timestamp), else the
 *   receive time. EventTime (Syslog) is the syslog timestamp, or null when the message had none.
 */
import { cefToRow } from './cef-mapping.js';
import { findCef, parseCef } from './cef-parser.js';
import { decodeMessage, prepareText } from './decode.js';
import { parseSyslog, type SyslogMessage } from './syslog-parser.js';
import { formatInstant } from './timestamps.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  FACILITY_NAMES,
  type ParsedRecord,
  type ParseOptions,
  type ReceiveContext,
  type RecordFlags,
  SEVERITY_NAMES,
  SOURCE_SYSTEM,
  type SyslogRow,
  UNKNOWN_HOST_IP,
} from './types.js';

const PROC_ID = /^\d{1,10}$/;

export function parseSyslogRecord(
  input: Uint8Array | string,
  ctx: ReceiveContext,
  options: ParseOptions = {},
): ParsedRecord {
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const offset = options.assumeUtcOffsetMinutes ?? 0;
  const decoded = typeof input === 'string' ? prepareText(input, maxBytes) : decodeMessage(input, maxBytes);
  const receivedMs = typeof ctx.receivedAt === 'number' ? ctx.receivedAt : ctx.receivedAt.getTime();
  const text = decoded.text;
  const warnings: string[] = decoded.latin1 ? ['not valid UTF-8: decoded as Latin-1'] : [];
  const truncated = decoded.truncated;
  if (text.trim().length === 0) {
    const msg = parseSyslog('', receivedMs, offset);
    return {
      table: 'Syslog',
      row: syslogRow(msg, text, ctx, receivedMs, true),
      ...flags(truncated, warnings, 'empty message'),
    };
  }

  let cefError: string | undefined;
  const cefAt = findCef(text);
  if (cefAt >= 0) {
    const cef = parseCef(text, cefAt);
    if (cef.event) {
      const header = parseSyslog(text.slice(0, cefAt), receivedMs, offset);
      if (header.error) warnings.push(`syslog header before CEF: ${header.error}`);
      const row = cefToRow(
        cef.event,
        {
          receivedMs,
          assumedOffset: offset,
          ...(header.hostname !== undefined && { hostname: header.hostname }),
          ...(header.timestamp && { syslogTime: header.timestamp }),
          ...(ctx.peerAddress !== undefined && { peerAddress: ctx.peerAddress }),
          ...(ctx.collectorHostName !== undefined && { collectorHostName: ctx.collectorHostName }),
        },
        warnings,
      );
      return { table: 'CommonSecurityLog', row, ...flags(truncated, warnings, undefined) };
    }
    cefError = `malformed CEF: ${cef.error}`;
  }

  const msg = parseSyslog(text, receivedMs, offset);
  warnings.push(...msg.warnings);
  const error = msg.error ?? cefError;
  return {
    table: 'Syslog',
    row: syslogRow(msg, text, ctx, receivedMs, error !== undefined),
    ...flags(truncated, warnings, error),
  };
}

function flags(truncated: boolean, warnings: string[], parseError: string | undefined): RecordFlags {
  return {
    truncated,
    ...(parseError !== undefined && { parseError }),
    ...(warnings.length > 0 && { warnings }),
  };
}

/** The Syslog row of a parsed message; with `raw`, SyslogMessage is the whole received text. */
export function syslogRow(
  msg: SyslogMessage,
  text: string,
  ctx: Pick<ReceiveContext, 'peerAddress' | 'collectorHostName'>,
  receivedMs: number,
  raw: boolean,
): SyslogRow {
  const eventTime = msg.timestamp ? formatInstant(msg.timestamp) : null;
  const host = msg.hostname ?? ctx.peerAddress ?? '';
  let message: string;
  if (raw) message = text;
  else if (msg.structuredDataText !== undefined)
    message = msg.message.length > 0 ? `${msg.structuredDataText} ${msg.message}` : msg.structuredDataText;
  else message = msg.message;
  const pid = msg.procId !== undefined && PROC_ID.test(msg.procId) ? Number(msg.procId) : null;
  return {
    TimeGenerated: eventTime ?? formatInstant({ ms: Math.floor(receivedMs), micros: 0 }),
    EventTime: eventTime,
    Computer: host,
    HostName: host,
    HostIP: ctx.peerAddress ?? UNKNOWN_HOST_IP,
    Facility: FACILITY_NAMES[msg.facility] ?? String(msg.facility),
    SeverityLevel: SEVERITY_NAMES[msg.severity] ?? String(msg.severity),
    ProcessName: msg.appName ?? '',
    ProcessID: pid !== null && pid <= 2147483647 ? pid : null,
    SyslogMessage: message,
    SourceSystem: SOURCE_SYSTEM.Syslog,
    CollectorHostName: ctx.collectorHostName ?? '',
  };
}
