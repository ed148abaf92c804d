/**
 * A request body as one Buffer, for Fastify's content-type parser. With `preallocate`, when the client declares its
 * length (it always does for ingestion batches), the buffer is allocated once and each chunk is copied into it as
 * it arrives, while the chunk is still in the CPU cache; otherwise, like Fastify's own raw parser, the chunks are
 * kept and concatenated at the end (a second, cache-cold pass over a 12 MB body: ~1 of the server's ~20 CPU seconds
 * per million rows in bench/ingest). Preallocating allocates ahead of the bytes: the caller bounds how much may be
 * allocated so at once (`PreallocationBudget`), so that clients declaring large bodies and sending nothing cannot
 * make the server allocate per connection. Limits and errors are Fastify's: 413 over `limit`, 400 when the length
 * differs from the header.
 */
import type { IncomingMessage } from 'node:http';
import { errorCodes } from 'fastify';

export function readRawBody(
  payload: IncomingMessage,
  limit: number,
  done: (error: Error | null, body?: Buffer) => void,
  preallocate = false,
): void {
  const header = payload.headers['content-length'];
  const declared = header === undefined ? Number.NaN : Number(header);
  if (declared > limit) {
    done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    return;
  }
  // Known length: one buffer filled in place. Otherwise (chunked transfer, or no budget left): the chunks, joined at
  // the end.
  let body: Buffer | undefined =
    preallocate && Number.isSafeInteger(declared) && declared >= 0 ? Buffer.allocUnsafe(declared) : undefined;
  const chunks: Buffer[] = [];
  let received = 0;

  const finish = (error: Error | null, result?: Buffer) => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onError);
    payload.removeListener('close', onClose);
    done(error, result);
  };
  const onData = (chunk: Buffer) => {
    if (received + chunk.length > limit) {
      finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    if (body && received + chunk.length <= body.length) chunk.copy(body, received);
    else {
      // More than declared (answered with 400 at the end), no length or no budget: keep the chunks (copied once, by
      // the concatenation at the end, as Fastify does).
      if (body) {
        chunks.push(body.subarray(0, received));
        body = undefined;
      }
      chunks.push(chunk);
    }
    received += chunk.length;
  };
  const onEnd = () => {
    if (!Number.isNaN(declared) && received !== declared) {
      finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      return;
    }
    finish(null, body ?? Buffer.concat(chunks, received));
  };
  const onError = (error: Error & { statusCode?: number }) => {
    if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
    finish(error);
  };
  // The client went away before the end (without an 'error'): nothing to answer, but the callback must run.
  const onClose = () => onError(Object.assign(new Error('the request was aborted'), { statusCode: 400 }));
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onError);
  payload.on('close', onClose);
  payload.resume();
}

/** Bytes that may be allocated ahead of their arrival, across the requests being received. */
export class PreallocationBudget {
  private reserved = 0;

  constructor(private readonly limit: number) {}

  /** Reserves `bytes` if they fit; returns the function that gives them back (a no-op when nothing was reserved). */
  take(bytes: number): (() => void) | undefined {
    if (!(bytes > 0) || this.reserved + bytes > this.limit) return undefined;
    this.reserved += bytes;
    let back = false;
    return () => {
      if (back) return;
      back = true;
      this.reserved -= bytes;
    };
  }
}
