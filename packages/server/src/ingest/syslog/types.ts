/**
 * The syslog side's contract: what a parsed message becomes (a row of `Syslog` or `CommonSecurityLog`, KQL column
 * names as in content/schema/tables.json) and the context a receiver supplies with each message.
 *
 * Cell values are JSON-ready wire values (the engine's `values.ts` forms): strings, numbers, null. A datetime is
 * `2024-01-02T03:04:05.1230000Z` (7 fractional digits, like Kusto). Rows are sparse: a column the message did not
 * give is absent (read it as `''` for strings, null otherwise), so a CEF row carries a dozen keys, not 150.
 */

/** A JSON-ready cell value. `long` values beyond 2^53 are kept exact as decimal strings. */
export type CellValue = string | number | null;

export type SyslogTableName = 'Syslog' | 'CommonSecurityLog';

/** A `Syslog` row. Every column the parser knows is always present. (A type, not an interface, so that it is a
 * `Record<string, CellValue>` too.) */
export type SyslogRow = {
  TimeGenerated: string;
  EventTime: string | null;
  Computer: string;
  HostName: string;
  HostIP: string;
  Facility: string;
  SeverityLevel: string;
  ProcessName: string;
  ProcessID: number | null;
  SyslogMessage: string;
  SourceSystem: string;
  CollectorHostName: string;
};

/** A `CommonSecurityLog` row: only the columns the message populated (plus the always-set ones). */
export type CommonSecurityLogRow = Record<string, CellValue>;

export type ParsedRecord =
  | ({ readonly table: 'Syslog'; readonly row: SyslogRow } & RecordFlags)
  | ({ readonly table: 'CommonSecurityLog'; readonly row: CommonSecurityLogRow } & RecordFlags);

export interface RecordFlags {
  /**
   * Set when the message could not be parsed as what it claims to be (bad PRI, broken RFC 5424 header or
   * structured data, incomplete CEF header, empty message). The row still exists: a `Syslog` row whose
   * `SyslogMessage` holds the raw text. Callers count these.
   */
  readonly parseError?: string;
  /** The message was longer than the limit and was cut (on a UTF-8 character boundary). */
  readonly truncated: boolean;
  /** Things that were repaired or guessed: non-UTF-8 bytes, a value that did not fit its column type, ... */
  readonly warnings?: readonly string[];
}

/** What the receiver knows about a message besides its bytes. */
export interface ReceiveContext {
  /** When the message arrived (ms since the epoch, or a Date). The fallback for `TimeGenerated`. */
  readonly receivedAt: number | Date;
  /** The sender's address (UDP source, TCP peer): `HostIP`, and `Computer` when the message names no host. */
  readonly peerAddress?: string;
  /** The machine running the listener: `CollectorHostName`. */
  readonly collectorHostName?: string;
}

export interface ParseOptions {
  /** Longer messages are cut to this many bytes (UTF-8) and flagged `truncated`. Default 64 KiB. */
  readonly maxMessageBytes?: number;
  /**
   * UTC offset, in minutes, of timestamps that carry no zone (RFC 3164 `Oct 11 22:14:15`, CEF `MMM dd yyyy
   * HH:mm:ss`). Default 0: such devices are assumed to log in UTC.
   */
  readonly assumeUtcOffsetMinutes?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * Facility codes 0-23 → the names Sentinel stores. 12-15 have no Sentinel name; they are named as rsyslog names
 * them (the agent forwards through rsyslog), so they stay distinguishable.
 */
export const FACILITY_NAMES: readonly string[] = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'audit',
  'alert',
  'clock',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
];

/** Severity codes 0-7 → Sentinel's `SeverityLevel` values. */
export const SEVERITY_NAMES: readonly string[] = [
  'emerg',
  'alert',
  'crit',
  'err',
  'warning',
  'notice',
  'info',
  'debug',
];

/** RFC 3164 §4.3.3: a message without PRI is taken as user.notice (13). */
export const DEFAULT_PRI = 13;

/** Sentinel's `SourceSystem` for each table (Syslog: "Linux"; CEF rows: "OpsManager", see the CEF mapping doc). */
export const SOURCE_SYSTEM = { Syslog: 'Linux', CommonSecurityLog: 'OpsManager' } as const;

/** What `HostIP` holds when the sender's address is unknown (as in Sentinel's own exports). */
export const UNKNOWN_HOST_IP = 'Unknown IP';
