/**
 * Virtual time for tests of concurrent code: `sleep` registers a timer, and the clock jumps to
 * the earliest timer only once every task is blocked (a setImmediate runs after the microtasks
 * drain), so concurrent sleepers see one consistent clock. Work "takes" time by sleeping.
 */
export class VirtualTime {
  private t: number;
  private timers: Array<{ at: number; seq: number; resolve: () => void }> = [];
  private seq = 0;
  private scheduled = false;

  constructor(start = 0) {
    this.t = start;
  }

  readonly now = (): number => this.t;

  readonly sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      this.timers.push({ at: this.t + Math.max(0, ms), seq: this.seq++, resolve });
      this.schedule();
    });

  /** Moves the clock by hand (for code that only reads it). */
  advance(ms: number): void {
    this.t += ms;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.timers.length === 0) return;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0]!.at;
      this.t = Math.max(this.t, next);
      const due = this.timers.filter((x) => x.at <= this.t);
      this.timers = this.timers.filter((x) => x.at > this.t);
      for (const x of due) x.resolve();
      if (this.timers.length > 0) this.schedule();
    });
  }
}
