/**
 * The one clock of Precog (nautilus_trader's LiveClock / TestClock idea): every handler, the
 * ledger, the monitor cadence, the rate limiters, the queues and the venues read the time and
 * wait through this module, never through `Date.now()`, `new Date()`, `setTimeout` or SQL
 * `now()` directly (a test fails on any other wall-clock read in shared/, functions/ and the
 * migrations).
 *
 * Deployed functions run on the system clock and nothing changes for them. The local runtime,
 * the backtest and tests install a virtual clock (`useClock`): then the time only moves when
 * that clock's owner moves it, and PostgreSQL reads the same time through `precog_now()`,
 * which the database layer sets per transaction (`SQL_CLOCK_SETTING`).
 */

export interface Clock {
  /** Epoch milliseconds. */
  nowMs(): number;
  /** The current instant. */
  now(): Date;
  /**
   * Resolves after `ms` of this clock's time. On a virtual clock nothing sleeps: the waiter is
   * woken when the clock's owner moves the time past it (other work runs meanwhile).
   */
  sleep(ms: number): Promise<void>;
  /** A virtual clock: SQL must read it through precog_now() (the database layer sets it). */
  readonly virtual: boolean;
}

/** The transaction-local PostgreSQL setting `precog_now()` reads (ISO-8601 text), when set. */
export const SQL_CLOCK_SETTING = 'precog.now';

/** The wall clock: what the deployed functions always use. */
export const systemClock: Clock = Object.freeze({
  nowMs: () => Date.now(),
  now: () => new Date(),
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms))),
  virtual: false,
});

let installed: Clock = systemClock;

/** The clock in use in this process (the system clock unless one was installed). */
export function currentClock(): Clock {
  return installed;
}

/**
 * Installs `clock` for the whole process (the local runtime, a backtest, a test); returns a
 * function that puts the previous one back. Deployed functions never call this.
 */
export function useClock(clock: Clock): () => void {
  const previous = installed;
  installed = clock;
  return () => {
    installed = previous;
  };
}

/** Epoch ms on the current clock. */
export const nowMs = (): number => installed.nowMs();

/** The current instant on the current clock. */
export const now = (): Date => installed.now();

/** Waits `ms` on the current clock. */
export const sleep = (ms: number): Promise<void> => installed.sleep(ms);

/**
 * Machine time, never virtual: an abort signal for a technical timeout (an HTTP request, a lock
 * wait). Those guard this machine's I/O, which takes real time whatever clock the trading is on.
 */
export function machineTimeoutSignal(ms: number): AbortSignal {
  return AbortSignal.timeout(ms);
}

/** Machine time, never virtual: a monotonic reading for measuring how long work took (metrics, benches). */
export function machineElapsedMs(): number {
  return performance.now();
}

/**
 * A clock moved by hand: tests and simple tools. `sleep` waiters wake when `advance`/`set`
 * moves the time past them, in (time, registration) order; `advance` also wakes them in order,
 * awaiting each one's continuation turn so that a waiter's next sleep lands on the same timeline.
 */
export class ManualClock implements Clock {
  readonly virtual = true;
  private t: number;
  private seq = 0;
  private timers: { at: number; seq: number; resolve: () => void }[] = [];

  constructor(startMs: number) {
    if (!Number.isFinite(startMs)) throw new RangeError(`a clock starts at finite epoch ms, not ${startMs}`);
    this.t = startMs;
  }

  nowMs(): number {
    return this.t;
  }

  now(): Date {
    return new Date(this.t);
  }

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.timers.push({ at: this.t + Math.max(0, ms), seq: this.seq++, resolve });
    });
  }

  /** Moves the time to `ms` (never backwards), waking the sleepers due by then. */
  async set(ms: number): Promise<void> {
    if (ms < this.t) throw new RangeError(`the clock never goes back: ${new Date(ms).toISOString()} is before ${new Date(this.t).toISOString()}`);
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > ms) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.resolve();
      // Let the woken task run up to its next await before the next timer fires.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.t = ms;
  }

  /** Moves the time forward by `ms`. */
  advance(ms: number): Promise<void> {
    return this.set(this.t + ms);
  }

  /** Sleepers not yet woken. */
  pendingTimers(): number {
    return this.timers.length;
  }
}
