/**
 * Engine failures with stable codes. The query API maps them to HTTP statuses and Kusto error shapes; the CLI to
 * exit codes. A user's KQL mistake never reaches here: the compiler reports it as a diagnostic first, so an `sql`
 * error from the engine means generated SQL that the engine rejected (a compiler bug) or a runtime failure.
 */
export type EngineErrorCode =
  /** The statement is not one read-only SELECT (DDL, COPY, SET, several statements...). */
  | 'refused'
  /** The engine rejected or failed the SQL (parse, bind or runtime error). */
  | 'sql'
  | 'timeout'
  | 'cancelled'
  | 'unknown_table'
  /** ensureTable was asked to change a column's type, or a definition is invalid. */
  | 'schema'
  /** A file could not be loaded (unreadable, unknown format, malformed beyond per-row rejection). */
  | 'load'
  /** The workspace is locked by another process or could not be opened. */
  | 'workspace'
  | 'closed';

export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isEngineError(e: unknown, code?: EngineErrorCode): e is EngineError {
  return e instanceof EngineError && (code === undefined || e.code === code);
}

/** The text of an error thrown by an engine driver (DuckDB's messages name the error class, e.g. `Binder Error:`). */
export function engineMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).trim();
}
