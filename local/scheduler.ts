/**
 * The local runtime's EventBridge: jobs fired at their period on a clock that may run `speed`
 * times faster than real time (speed 60: a minute per second). Each job runs at the start, then
 * every period; different jobs run concurrently, but never two instances of one job: a tick that
 * passes while the job still runs is skipped (counted), and the job runs again at the next tick.
 * A job's error is recorded in the log, never thrown. Injectable `now`/`sleep` (real time) make
 * tests instant.
 */

export interface ScheduledRun {
  name: string;
  /** Scheduler-clock epoch ms at which the run started. */
  at: number;
  /** Its duration on the scheduler clock (real ms × speed). */
  ms: number;
  error?: string;
}

export interface SchedulerReport {
  runs: ScheduledRun[];
  /** Ticks skipped because the job was still running, by job. */
  skipped: Record<string, number>;
}

export interface SchedulerRunOptions {
  /** Scheduler-clock epoch ms: no run starts at or after it (runs in progress are awaited). */
  untilMs: number;
  /** How much faster than real time the scheduler clock runs (default 1). */
  speed?: number;
  /** Real epoch ms (default Date.now). */
  now?: () => number;
  /** Waits real ms (default setTimeout). */
  sleep?: (ms: number) => Promise<void>;
  /** Called after each run (logging). */
  onRun?: (run: ScheduledRun) => void;
}

interface Job {
  name: string;
  periodMs: number;
  run: (at: number) => unknown;
}

/**
 * A clock `speed` times faster than `now`, equal to it at `start`: the time every local
 * component (queues, jobs) should share when the runtime is sped up.
 */
export function scaledClock(speed: number, now: () => number = Date.now, start: number = now()): () => number {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a positive number, not ${speed}`);
  return () => start + (now() - start) * speed;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class LocalScheduler {
  private readonly jobs: Job[] = [];
  private clock: (() => number) | undefined;
  private stopping = false;

  /** Ends `run` early: no new run starts; runs in progress finish. */
  stop(): void {
    this.stopping = true;
  }

  /** Runs `run(at)` at the start and every `periodSeconds` of scheduler time. */
  every(name: string, periodSeconds: number, run: (at: number) => unknown): this {
    if (this.jobs.some((j) => j.name === name)) throw new Error(`a job named ${name} is already scheduled`);
    if (!(periodSeconds > 0) || !Number.isFinite(periodSeconds)) throw new RangeError(`${name}: the period must be positive seconds, not ${periodSeconds}`);
    this.jobs.push({ name, periodMs: periodSeconds * 1000, run });
    return this;
  }

  /** The scheduler clock while running (else real time). */
  now(): number {
    return (this.clock ?? Date.now)();
  }

  async run(options: SchedulerRunOptions): Promise<SchedulerReport> {
    const speed = options.speed ?? 1;
    const realNow = options.now ?? Date.now;
    const sleep = options.sleep ?? realSleep;
    const clock = scaledClock(speed, realNow);
    this.clock = clock;
    this.stopping = false;
    const start = clock();
    const runs: ScheduledRun[] = [];
    const skipped: Record<string, number> = Object.fromEntries(this.jobs.map((j) => [j.name, 0]));

    // Sleeps in slices of at most 100 ms so that stop() takes effect promptly.
    const sleepUntil = async (target: number) => {
      for (let left = target - clock(); left > 0 && !this.stopping; left = target - clock()) await sleep(Math.min(100, Math.ceil(left / speed)));
    };

    const loop = async (job: Job) => {
      for (let tick = start; tick < options.untilMs; ) {
        await sleepUntil(tick);
        const at = clock();
        if (at >= options.untilMs || this.stopping) return;
        let error: string | undefined;
        try {
          await job.run(at);
        } catch (thrown) {
          error = thrown instanceof Error ? thrown.message : String(thrown);
        }
        const end = clock();
        const run: ScheduledRun = { name: job.name, at, ms: end - at, ...(error === undefined ? {} : { error }) };
        runs.push(run);
        options.onRun?.(run);
        // Ticks that passed while the job ran (or while this loop was late) are skipped.
        tick += job.periodMs;
        while (tick < Math.min(end, options.untilMs)) {
          skipped[job.name]!++;
          tick += job.periodMs;
        }
      }
    };

    try {
      await Promise.all(this.jobs.map(loop));
    } finally {
      this.clock = undefined;
    }
    return { runs, skipped };
  }
}
