/**
 * The deterministic simulator: a company's background activity and, every few simulated minutes, an attack story
 * with the product alerts it raises. The same options give the same rows, however the simulation is advanced
 * (whole simulated seconds are generated in order; stories draw from their own seeded streams); only timestamps
 * depend on the start time.
 *
 *   const sim = new Simulator({ seed: 1, devices: 200, startMs: Date.now(), speed: 1 });
 *   const batch = sim.advanceTo(5_000); // rows of the first 5 simulated seconds, by table
 */
import { backgroundSecond, inventory } from './background.js';
import { buildCompany, type Company } from './company.js';
import { hash32, Prng } from './prng.js';
import { Ctx, type Row, type Sink } from './rows.js';
import { attackStory, type StoryInfo } from './stories.js';

export type { Company, Device, User } from './company.js';
export type { Row } from './rows.js';
export type { StoryInfo } from './stories.js';

export interface SimulatorOptions {
  readonly seed?: number;
  /** Workstations (one user each); five servers come on top. Default 200. */
  readonly devices?: number;
  /** Wall-clock ms of simulated time 0 (default: now). */
  readonly startMs?: number;
  /** Simulated seconds stamped per real second (default 1): intervals are divided by it. */
  readonly speed?: number;
  /** When the first story starts (simulated ms, default 5 s). */
  readonly firstStoryMs?: number;
  /** Simulated ms between stories (default 5 min; each start moves by up to ±30 s). 0: no stories. */
  readonly storyEveryMs?: number;
  /** Background activity (default true). */
  readonly background?: boolean;
  /**
   * Mixed into the event streams (not the company): a demo restarted on the same folder passes a new one, so its
   * alert and message ids are not the last run's (the queue would take them as updates). Default ''.
   */
  readonly salt?: string;
}

export interface SimBatch {
  /** The simulated instant the batch reaches (exclusive). */
  readonly untilSimMs: number;
  /** Rows by table, in the order they were generated. */
  readonly tables: ReadonlyMap<string, Row[]>;
  readonly rows: number;
  /** Stories that started in this batch. */
  readonly stories: readonly StoryInfo[];
}

const TICK = 1000;

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly table: string;
  readonly row: Row;
}

/** A binary min-heap by (at, seq): rows generated ahead of their time wait here, in a deterministic order. */
class PendingHeap {
  private items: Pending[] = [];

  get size(): number {
    return this.items.length;
  }

  push(p: Pending): void {
    const a = this.items;
    a.push(p);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  peek(): Pending | undefined {
    return this.items[0];
  }

  pop(): Pending | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Pending, b: Pending): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export class Simulator {
  readonly company: Company;
  readonly seed: number;
  readonly startMs: number;
  readonly speed: number;
  private readonly ctx: Ctx;
  private readonly rng: Prng;
  private readonly pending = new PendingHeap();
  private readonly firstStoryMs: number;
  private readonly storyEveryMs: number;
  private readonly background: boolean;
  private readonly salt: string;
  private seq = 0;
  private tick = 0;
  private storyIndex = 0;
  private nextStoryAt: number;

  constructor(options: SimulatorOptions = {}) {
    this.seed = (options.seed ?? 1) >>> 0;
    const devices = options.devices ?? 200;
    if (!Number.isInteger(devices) || devices < 2) throw new RangeError('devices must be an integer ≥ 2');
    this.speed = options.speed ?? 1;
    if (!(this.speed > 0)) throw new RangeError('speed must be positive');
    this.startMs = options.startMs ?? Date.now();
    this.company = buildCompany(this.seed, devices);
    this.ctx = new Ctx(this.company, this.startMs, this.speed);
    this.salt = options.salt ?? '';
    this.rng = new Prng(hash32(`background:${this.salt}`, this.seed));
    this.firstStoryMs = options.firstStoryMs ?? 5_000;
    this.storyEveryMs = options.storyEveryMs ?? 300_000;
    this.background = options.background ?? true;
    this.nextStoryAt = this.storyStart(0);
  }

  /** Simulated ms reached so far. */
  get simMs(): number {
    return this.tick * TICK;
  }

  /** The wall-clock ms at which a simulated instant is stamped. */
  wallMs(simMs: number): number {
    return this.startMs + Math.floor(simMs / this.speed);
  }

  private storyStart(i: number): number {
    if (this.storyEveryMs <= 0) return Number.POSITIVE_INFINITY;
    if (i === 0) return this.firstStoryMs;
    const jitter = (hash32(`jitter:${i}`, this.seed) % 61) - 30;
    return this.firstStoryMs + i * this.storyEveryMs + jitter * 1000;
  }

  /** Generates every whole simulated second before `simMs` and returns the rows due by then. */
  advanceTo(simMs: number): SimBatch {
    const tables = new Map<string, Row[]>();
    const stories: StoryInfo[] = [];
    let rows = 0;
    const out = (table: string, row: Row) => {
      const list = tables.get(table);
      if (list) list.push(row);
      else tables.set(table, [row]);
      rows++;
    };
    let tickEnd = 0;
    const sink: Sink = {
      push: (table, at, row) => {
        if (at < tickEnd) out(table, row);
        else this.pending.push({ at, seq: this.seq++, table, row });
      },
    };
    while ((this.tick + 1) * TICK <= simMs) {
      const at = this.tick * TICK;
      tickEnd = at + TICK;
      for (let p = this.pending.peek(); p && p.at < tickEnd; p = this.pending.peek()) {
        this.pending.pop();
        out(p.table, p.row);
      }
      while (this.nextStoryAt < tickEnd) {
        const i = this.storyIndex++;
        stories.push(
          attackStory(this.ctx, new Prng(hash32(`story:${i}:${this.salt}`, this.seed)), i, this.nextStoryAt, sink),
        );
        this.nextStoryAt = this.storyStart(this.storyIndex);
      }
      if (this.background) {
        if (at % 3_600_000 === 0) inventory(this.ctx, at, sink);
        backgroundSecond(this.ctx, this.rng, at, sink);
      }
      this.tick++;
    }
    return { untilSimMs: this.tick * TICK, tables, rows, stories };
  }
}

/** One call: `durationMs` of simulated activity (benchmarks, rule reports, tests). */
export function simulate(options: SimulatorOptions & { readonly durationMs: number }): SimBatch {
  return new Simulator(options).advanceTo(options.durationMs);
}
