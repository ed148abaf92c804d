/**
 * RFC 6587 framing of syslog over TCP, per frame: octet counting (`MSG-LEN SP SYSLOG-MSG`) when a frame starts
 * with a non-zero digit followed by digits and a space, else non-transparent framing (the message ends at LF;
 * a CR before it is dropped). Both occur on the same connection in practice (one sender per framing behind a
 * relay), so the choice is made for every frame. Pure: bytes in, frames out.
 *
 * Frames may arrive split across any number of packets. A frame longer than `maxFrameBytes` is cut: its first
 * `maxFrameBytes` bytes are delivered flagged `truncated` and the rest is skipped without being buffered, so a
 * sender cannot make the listener hold more than about `maxFrameBytes` per connection.
 */
import { Buffer } from 'node:buffer';

export interface Frame {
  readonly bytes: Buffer;
  readonly truncated: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
/** Up to 9 digits: a longer count is not a count (and 999,999,999 bytes is far above any frame limit). */
const MAX_COUNT_DIGITS = 9;

/** What an incomplete frame waits for before it is worth parsing again. */
type Wait = { readonly kind: 'bytes'; readonly total: number } | { readonly kind: 'lf' } | { readonly kind: 'any' };

export class SyslogFrameDecoder {
  /** An incomplete frame's bytes, kept as received: joined once, when the frame can complete (no quadratic copying). */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private wait: Wait = { kind: 'any' };
  /** Bytes of an over-long octet-counted frame still to skip. */
  private skipBytes = 0;
  /** An over-long LF frame is being skipped up to its LF. */
  private skipToLf = false;

  constructor(readonly maxFrameBytes: number) {}

  /** Frames completed by this chunk (in order). */
  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let data = chunk;
    if (this.chunks.length > 0) {
      this.chunks.push(chunk);
      this.chunkBytes += chunk.length;
      const w = this.wait;
      const ready =
        w.kind === 'any' ||
        (w.kind === 'bytes' && this.chunkBytes >= w.total) ||
        (w.kind === 'lf' && (chunk.indexOf(LF) >= 0 || this.chunkBytes > this.maxFrameBytes));
      if (!ready) return frames;
      data = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.chunkBytes);
      this.chunks = [];
      this.chunkBytes = 0;
    }
    const n = data.length;
    let p = 0;
    while (p < n) {
      if (this.skipBytes > 0) {
        const k = Math.min(this.skipBytes, n - p);
        this.skipBytes -= k;
        p += k;
        continue;
      }
      if (this.skipToLf) {
        const lf = data.indexOf(LF, p);
        if (lf < 0) return frames;
        this.skipToLf = false;
        p = lf + 1;
        continue;
      }
      const c = data[p]!;
      // Stray delimiters between frames (blank lines, CRLF from the previous frame).
      if (c === LF || c === CR || c === 0) {
        p++;
        continue;
      }
      if (c >= 0x31 && c <= 0x39) {
        // Maybe octet counting: digits then a space.
        let q = p + 1;
        let count = c - 0x30;
        while (q < n && q - p < MAX_COUNT_DIGITS) {
          const d = data[q]!;
          if (d < 0x30 || d > 0x39) break;
          count = count * 10 + (d - 0x30);
          q++;
        }
        if (q === n && q - p < MAX_COUNT_DIGITS) {
          this.hold(data.subarray(p), { kind: 'any' }); // the count itself is split
          return frames;
        }
        if (data[q] === SP) {
          const start = q + 1;
          const take = Math.min(count, this.maxFrameBytes);
          if (n - start < take) {
            this.hold(data.subarray(p), { kind: 'bytes', total: start - p + take });
            return frames;
          }
          frames.push({ bytes: data.subarray(start, start + take), truncated: take < count });
          p = start + take;
          this.skipBytes = count - take;
          continue;
        }
        // Digits not followed by a space: an LF-framed message that starts with a digit (no PRI).
      }
      const lf = data.indexOf(LF, p);
      if (lf >= 0) {
        let end = lf;
        if (end > p && data[end - 1] === CR) end--;
        if (end - p > this.maxFrameBytes)
          frames.push({ bytes: data.subarray(p, p + this.maxFrameBytes), truncated: true });
        else frames.push({ bytes: data.subarray(p, end), truncated: false });
        p = lf + 1;
        continue;
      }
      if (n - p > this.maxFrameBytes) {
        frames.push({ bytes: data.subarray(p, p + this.maxFrameBytes), truncated: true });
        this.skipToLf = true;
        return frames;
      }
      this.hold(data.subarray(p), { kind: 'lf' });
      return frames;
    }
    return frames;
  }

  private hold(rest: Buffer, wait: Wait): void {
    this.chunks = [rest];
    this.chunkBytes = rest.length;
    this.wait = wait;
  }

  /** At the end of the stream: what is left is the last frame (an LF-framed message without its LF, or a cut one). */
  end(): Frame[] {
    const rest = this.chunks.length > 0 ? Buffer.concat(this.chunks, this.chunkBytes) : undefined;
    this.chunks = [];
    this.chunkBytes = 0;
    const skipping = this.skipBytes > 0 || this.skipToLf;
    this.skipBytes = 0;
    this.skipToLf = false;
    if (rest === undefined || rest.length === 0 || skipping) return [];
    const m = /^([1-9]\d{0,8}) /.exec(rest.subarray(0, MAX_COUNT_DIGITS + 1).toString('latin1'));
    if (m) {
      const start = m[0].length;
      if (rest.length === start) return [];
      // An octet-counted frame whose sender went away mid-frame.
      return [{ bytes: rest.subarray(start, start + this.maxFrameBytes), truncated: true }];
    }
    return [{ bytes: rest.subarray(0, this.maxFrameBytes), truncated: rest.length > this.maxFrameBytes }];
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.chunkBytes;
  }
}
