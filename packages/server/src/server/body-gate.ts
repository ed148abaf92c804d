/**
 * Lets a few ingestion bodies be received at a time; the others wait before their bodies are read (Node's
 * back-pressure pauses their sockets meanwhile). Under a burst of large uploads — a fleet of senders reconnecting,
 * or every client of a group that was just answered sending its next batch — each body then completes in turn and
 * joins the writer's next group at once, instead of all of them completing together after seconds of interleaved
 * reads while the engine has nothing to load (measured: with 64 clients of 12 MB the first load started ~3 s into
 * the run).
 *
 * A gate, not a lock: a request waits at most `maxWaitMs`, then is read anyway, so a slow sender holding a slot
 * cannot hold the others back for longer than that.
 */
export class BodyGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly slots: number,
    private readonly maxWaitMs: number,
  ) {}

  /** Bodies being received now. */
  get receiving(): number {
    return this.active;
  }

  /** Resolves when the caller may read its body, with the function to call once it has (extra calls are no-ops). */
  async enter(): Promise<() => void> {
    if (this.active >= this.slots) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          const i = this.waiting.indexOf(wake);
          if (i >= 0) this.waiting.splice(i, 1);
          resolve();
        }, this.maxWaitMs);
        this.waiting.push(wake);
      });
    }
    this.active++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.active--;
      if (this.active < this.slots) this.waiting.shift()?.();
    };
  }
}
