/**
 * Every error the API answers is `{error: {code, message, details?}}` with a fitting status. Services throw their
 * own error classes (incidents, ingestion, auth, content, workspaces, engine); `toApiError` maps each to one shape
 * here, so routes simply let errors propagate.
 */
import { AuthError } from '../auth/service.js';
import { AutomationError } from '../automation/source.js';
import { engineMessage, isEngineError } from '../engine/errors.js';
import { IncidentError } from '../incidents/service.js';
import { IngestError } from '../ingest/errors.js';
import { ContentError } from '../workspaces/content.js';
import { WorkspaceError } from '../workspaces/manager.js';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Extra response headers (Retry-After, WWW-Authenticate). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }

  toJSON(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details !== undefined ? { details: this.details } : {}),
      },
    };
  }
}

export const badRequest = (message: string, details?: unknown) => new ApiError(400, 'bad_request', message, details);
export const notFound = (what: string) => new ApiError(404, 'not_found', `no ${what}`);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
export const unauthenticated = (message = 'sign in, or send an API token as a bearer token') =>
  new ApiError(401, 'unauthenticated', message, undefined, { 'www-authenticate': 'Bearer realm="vigil"' });

const CONTENT_STATUS = { invalid: 400, not_found: 404, conflict: 409 } as const;

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof IncidentError) return new ApiError(e.status, e.code, e.message);
  if (e instanceof IngestError) {
    return new ApiError(
      e.status,
      e.code,
      e.message,
      e.details,
      e.retryAfterSeconds !== undefined ? { 'retry-after': String(e.retryAfterSeconds) } : undefined,
    );
  }
  if (e instanceof AuthError) return new ApiError(e.status, e.code, e.message);
  if (e instanceof AutomationError)
    return new ApiError(e.status, e.code, e.message, e.diagnostics.length ? { diagnostics: e.diagnostics } : undefined);
  if (e instanceof ContentError) return new ApiError(CONTENT_STATUS[e.code], e.code, e.message, e.details);
  if (e instanceof WorkspaceError) return new ApiError(CONTENT_STATUS[e.code], e.code, e.message);
  if (isEngineError(e)) {
    const status = e.code === 'timeout' ? 504 : e.code === 'cancelled' ? 499 : e.code === 'closed' ? 503 : 500;
    return new ApiError(status, `engine_${e.code}`, engineMessage(e));
  }
  const fe = e as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError(413, 'body_too_large', fe.message ?? 'too large');
  if (fe.validation) return new ApiError(400, 'invalid_request', fe.message ?? 'invalid request', fe.validation);
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500)
    return new ApiError(fe.statusCode, 'bad_request', fe.message ?? 'bad request');
  return new ApiError(500, 'internal', `internal error: ${e instanceof Error ? e.message : String(e)}`);
}
