/**
 * A small seeded PRNG (sfc32) and the draws the simulator needs. Never Math.random: the same seed must give the
 * same rows on every machine and Node version, so only 32-bit integer arithmetic is used.
 */

/** A 32-bit string hash (FNV-1a): derives stable sub-seeds and identifiers from names. */
export function hash32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const HEX = '0123456789abcdef';

/** `length` hex digits derived from a text (stable file hashes, device ids). */
export function hexOf(text: string, length: number): string {
  let out = '';
  let h = hash32(text);
  let i = 0;
  while (out.length < length) {
    h = hash32(`${i++}`, h ^ 0x9e3779b9);
    let x = h;
    for (let k = 0; k < 8 && out.length < length; k++) {
      out += HEX[x & 15];
      x >>>= 4;
    }
  }
  return out;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string) {
    const s = typeof seed === 'number' ? seed >>> 0 : hash32(seed);
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = s;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** Picks by weight: `[[item, weight], ...]`. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.float() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /** How many events of a Poisson-ish process with `rate` per step happen in one step (cheap, unbiased mean). */
  count(rate: number): number {
    const whole = Math.floor(rate);
    return whole + (this.float() < rate - whole ? 1 : 0);
  }

  hex(length: number): string {
    let out = '';
    while (out.length < length) {
      let x = this.next();
      for (let k = 0; k < 8 && out.length < length; k++) {
        out += HEX[x & 15];
        x >>>= 4;
      }
    }
    return out;
  }

  guid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  }

  /** A child generator with its own stream (stories draw from their own, so background volume cannot shift them). */
  fork(label: string): Prng {
    return new Prng(hash32(label, this.next()));
  }
}
