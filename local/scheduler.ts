import type { EventLoop, Scheduled } from './des/eventLoop';

/**
 * The local runtime's EventBridge, on the discrete-event loop: each job fires at its first tick
 * and then every period of virtual time, as a process of the loop. Never two instances of one job:
 * a tick that comes while the job still runs (e.g. the monitor asleep between its sweeps) is
 * skipped and counted, and the job runs again at the next tick. A job's error goes to `onError`,
 * never stops the others.
 *
 * The pending ticks are part of a saved run (`saveState`): a restored scheduler fires them at the
 * same (time, sequence) as the original would have, so a resumed run keeps the same order of events.
 */

export interface SavedSchedule {
  /** Job name → its next tick (virtual epoch ms) and that event's sequence number. */
  next: Record<string, { at: number; seq: number }>;
  /** Ticks skipped because the job was still running, by job. */
  skipped: Record<string, number>;
}

interface Job {
  name: string;
  periodMs: number;
  run: (at: number) => Promise<unknown>;
  busy: boolean;
  next?: Scheduled & { seq: number };
}

export class LocalScheduler {
  private readonly jobs: Job[] = [];
  readonly skipped: Record<string, number> = {};

  constructor(
    private readonly loop: EventLoop,
    private readonly options: { onError?: (name: string, error: unknown) => void; onRun?: (name: string, at: number) => void } = {},
  ) {}

  /** Registers `run(at)` every `periodSeconds` of virtual time (call `start` or `restore` to begin). */
  every(name: string, periodSeconds: number, run: (at: number) => Promise<unknown>): this {
    if (this.jobs.some((j) => j.name === name)) throw new Error(`a job named ${name} is already scheduled`);
    if (!(periodSeconds > 0) || !Number.isFinite(periodSeconds)) throw new RangeError(`${name}: the period must be positive seconds, not ${periodSeconds}`);
    this.jobs.push({ name, periodMs: periodSeconds * 1000, run, busy: false });
    this.skipped[name] = 0;
    return this;
  }

  /** Every job's first tick at `firstAtMs`, in registration order. */
  start(firstAtMs: number): void {
    for (const job of this.jobs) this.tick(job, firstAtMs);
  }

  /** The pending ticks and skip counts (see SavedSchedule). */
  saveState(): SavedSchedule {
    return {
      next: Object.fromEntries(this.jobs.flatMap((j) => (j.next ? [[j.name, { at: j.next.at, seq: j.next.seq }]] : []))),
      skipped: { ...this.skipped },
    };
  }

  /** Continues a saved schedule; a job missing from it starts at `fallbackAtMs`. */
  restore(saved: SavedSchedule, fallbackAtMs: number): void {
    const ordered = [...this.jobs].sort((a, b) => (saved.next[a.name]?.seq ?? Infinity) - (saved.next[b.name]?.seq ?? Infinity));
    for (const job of ordered) {
      const next = saved.next[job.name];
      this.tick(job, next?.at ?? fallbackAtMs, next?.seq);
      this.skipped[job.name] = saved.skipped[job.name] ?? 0;
    }
  }

  private tick(job: Job, at: number, seq?: number): void {
    const handle = this.loop.at(at, () => this.fire(job, handle.at), seq, job.name);
    job.next = handle;
  }

  private fire(job: Job, at: number): void {
    this.tick(job, at + job.periodMs);
    if (job.busy) {
      this.skipped[job.name]!++;
      return;
    }
    job.busy = true;
    this.options.onRun?.(job.name, at);
    void this.loop.spawn(job.name, async () => {
      try {
        await job.run(at);
      } catch (error) {
        this.options.onError?.(job.name, error);
      } finally {
        job.busy = false;
      }
    });
  }
}
