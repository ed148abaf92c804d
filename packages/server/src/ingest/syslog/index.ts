/** Syslog and CEF ingestion: parsers (pure) and network listeners. See CONTEXT.md. */

export type { BatcherStats, BatchInfo, DeliveredRow, OnRecords } from './batcher.js';
export { RecordBatcher } from './batcher.js';
export {
  CEF_DERIVED_COLUMNS,
  CEF_HEADER_COLUMNS,
  CEF_KEYS,
  type CefColumnType,
  type CefKeyMapping,
  cefKeyMapping,
  cefToRow,
} from './cef-mapping.js';
export { type CefEvent, type CefParse, findCef, parseCef } from './cef-parser.js';
export { type Frame, SyslogFrameDecoder } from './framing.js';
export {
  type SyslogListenerOptions,
  type SyslogListenerStats,
  type SyslogListeners,
  startSyslogListeners,
} from './listeners.js';
export { parseSyslogRecord } from './records.js';
export { parseSyslog, type StructuredElement, type SyslogFormat, type SyslogMessage } from './syslog-parser.js';
export { formatInstant, type Instant, parseCefTime } from './timestamps.js';
export * from './types.js';
