/**
 * What the ingestion service answers when it refuses input: a stable code, an HTTP status and a message that says
 * what to fix. The HTTP layer turns it into `{error: {code, message, details?}}`; nothing is half-ingested when
 * one is thrown before the writer accepted the rows.
 */
export type IngestErrorCode =
  /** The body is not valid JSON (details: offset, record). */
  | 'malformed_json'
  /** The body is valid JSON but not records (e.g. not objects, no `records` array). */
  | 'invalid_body'
  /** The engine could not read the records (details: record, when known). */
  | 'invalid_records'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'unsupported_encoding'
  | 'unknown_table'
  | 'unknown_stream'
  | 'unknown_rule'
  | 'table_disabled'
  | 'reserved_table'
  | 'invalid_table'
  | 'schema_conflict'
  | 'invalid_rule'
  /** The same client batch id was sent with a different body. */
  | 'batch_conflict'
  /** The writer is behind: retry after `Retry-After` seconds. */
  | 'writer_busy'
  | 'shutting_down'
  | 'ingest_failed';

const STATUS: Readonly<Record<IngestErrorCode, number>> = {
  malformed_json: 400,
  invalid_body: 400,
  invalid_records: 400,
  body_too_large: 413,
  unsupported_media_type: 415,
  unsupported_encoding: 415,
  unknown_table: 404,
  unknown_stream: 404,
  unknown_rule: 404,
  table_disabled: 403,
  reserved_table: 403,
  invalid_table: 400,
  schema_conflict: 409,
  invalid_rule: 400,
  batch_conflict: 409,
  writer_busy: 429,
  shutting_down: 503,
  ingest_failed: 500,
};

export class IngestError extends Error {
  override readonly name = 'IngestError';
  readonly status: number;
  /** Already counted in the connector's health (an error rethrown through nested checks is counted once). */
  recorded = false;
  constructor(
    readonly code: IngestErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
    /** For `writer_busy`: seconds to wait. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.status = STATUS[code];
  }

  toJSON(): { error: { code: string; message: string; details?: Readonly<Record<string, unknown>> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}
