import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock } from '../../shared/clock/clock';

/**
 * The local runtime's discrete-event simulation: a virtual clock (it implements `Clock`, so
 * installing it with `useClock` puts every handler, rate limiter and cadence on it) and the loop
 * that moves it.
 *
 * Work runs as cooperative processes (`spawn`: a handler invocation). A process `sleep`ing on this
 * clock parks on a timer (time, sequence). The loop advances only when no process is running
 * (every live one is parked: asleep on this clock with no I/O of its own in flight): it pops the
 * earliest (time, sequence) event, sets the clock to it, fires it (wakes a sleeper, starts a
 * process) and waits again. So exactly one process runs at a time and the order of everything is
 * a function of the events, never of the machine's speed: the run is deterministic. The loop
 * never sleeps on the wall unless paced.
 *
 * I/O (database queries, HTTP requests) takes no virtual time; `io` marks it so that a process
 * whose one branch sleeps while another awaits the database still counts as running. A process
 * that neither parks nor finishes for `stallMs` of machine time (e.g. it waits on a database lock
 * a parked process holds) fails the run with a message naming the processes, instead of hanging.
 */

export interface ProcessInfo {
  readonly id: number;
  readonly name: string;
  /** Virtual epoch ms at which it started. */
  readonly startedAt: number;
}

interface Process extends ProcessInfo {
  /** Sleeps of this process pending on the clock. */
  sleeps: number;
  /** I/O of this process in flight. */
  io: number;
}

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
  /** Who the wall time until the next quiescent point is charged to (stats). */
  label: string;
}

/** A handle on a scheduled event: `cancel()` drops it if it has not fired. */
export interface Scheduled {
  readonly at: number;
  /** Its sequence number (ties at one time fire in sequence order). */
  readonly seq: number;
  cancel(): void;
}

export class StalledSimulation extends Error {
  constructor(readonly processes: string[], stallMs: number) {
    super(
      stallMs === 0
        ? `the simulation stalled: ${processes.join(', ')} asleep with no event left to wake them`
        : `the simulation stalled: ${processes.join(', ')} neither finished nor slept on the virtual clock for ${stallMs / 1000} s of machine time ` +
          '(waiting on something a parked process holds, e.g. a database lock, or on the wall clock)',
    );
  }
}

export interface LoopRunOptions {
  /**
   * Virtual seconds per wall second: the loop waits on the wall between events so that the
   * virtual time keeps that pace (people watching). Unset: as fast as the machine allows.
   */
  pace?: number;
  /** At every quiescent point, before the next event is chosen (e.g. to schedule queue deliveries). */
  beforeAdvance?: () => void;
}

export interface LoopStats {
  /** Events fired (timers woken, processes started). */
  events: number;
  /** Processes spawned. */
  processes: number;
  /** Machine ms from an event to the next quiescent point, by the process it started or woke (where the wall time goes). */
  wallMsBy: Record<string, number>;
}

export interface EventLoopOptions {
  /** Machine ms a process may run without parking or finishing (default 60 000). */
  stallMs?: number;
  /** Sequence to continue from (a resumed run). */
  sequence?: number;
  /** A process threw: the loop goes on (a Lambda invocation failing does not stop the others). */
  onProcessError?: (name: string, error: unknown) => void;
}

export class EventLoop implements Clock {
  readonly virtual = true;
  private t: number;
  private seq: number;
  private readonly timers = new TimerHeap();
  private readonly live = new Set<Process>();
  private readonly context = new AsyncLocalStorage<Process>();
  private readonly stallMs: number;
  private readonly onProcessError?: (name: string, error: unknown) => void;
  private nextProcessId = 1;
  private wake: (() => void) | undefined;
  private stopMode: 'none' | 'now' | 'idle' = 'none';
  private running = false;
  readonly stats: LoopStats = { events: 0, processes: 0, wallMsBy: {} };

  constructor(startMs: number, options: EventLoopOptions = {}) {
    if (!Number.isFinite(startMs)) throw new RangeError(`the virtual clock starts at finite epoch ms, not ${startMs}`);
    this.t = startMs;
    this.seq = options.sequence ?? 0;
    this.stallMs = options.stallMs ?? 60_000;
    this.onProcessError = options.onProcessError;
  }

  nowMs(): number {
    return this.t;
  }

  now(): Date {
    return new Date(this.t);
  }

  /** The next event sequence number (saved with a run, so that a resumed one continues it). */
  get sequence(): number {
    return this.seq;
  }

  /** Parks the calling process until the clock reaches now + ms (other events run meanwhile). */
  sleep(ms: number): Promise<void> {
    if (Number.isNaN(ms)) throw new RangeError('sleep takes milliseconds, not NaN');
    const process = this.context.getStore();
    return new Promise<void>((resolve) => {
      if (process) process.sleeps++;
      this.push(this.t + Math.max(0, ms), () => {
        if (process) process.sleeps--;
        resolve();
      }, undefined, process?.name ?? 'timer');
      this.notify();
    });
  }

  /**
   * Fires `fire` when the clock reaches `atMs` (at once if it is already past: the next event).
   * `seq`: the sequence number a saved event had (a resumed run re-creates its pending events
   * with their original order); by default the next one.
   */
  at(atMs: number, fire: () => void, seq?: number, label = 'event'): Scheduled {
    if (seq !== undefined && !(Number.isInteger(seq) && seq >= 0 && seq < this.seq)) {
      throw new RangeError(`a restored event's sequence must be a number already handed out (below ${this.seq}), not ${seq}`);
    }
    const timer = this.push(Math.max(this.t, atMs), fire, seq, label);
    return {
      at: timer.at,
      seq: timer.seq,
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Starts `fn` as a process named `name` when the clock reaches `atMs`. */
  spawnAt(atMs: number, name: string, fn: () => Promise<unknown>): Scheduled {
    return this.at(atMs, () => void this.spawn(name, fn), undefined, name);
  }

  /** Runs `fn` as a process now; resolves when it finishes (errors go to onProcessError). */
  spawn(name: string, fn: () => Promise<unknown>): Promise<void> {
    const process: Process = { id: this.nextProcessId++, name, startedAt: this.t, sleeps: 0, io: 0 };
    this.live.add(process);
    this.stats.processes++;
    return this.context
      .run(process, () => Promise.resolve().then(fn))
      .then(
        () => undefined,
        (error: unknown) => this.onProcessError?.(name, error),
      )
      .finally(() => {
        this.live.delete(process);
        this.notify();
      });
  }

  /** Marks `work` as I/O of the calling process (no virtual time passes; the process is not parked meanwhile). */
  async io<T>(work: () => Promise<T>): Promise<T> {
    const process = this.context.getStore();
    if (!process) return work();
    process.io++;
    try {
      return await work();
    } finally {
      process.io--;
      this.notify();
    }
  }

  /** The process the caller runs in (undefined outside any). */
  currentProcess(): ProcessInfo | undefined {
    return this.context.getStore();
  }

  /** Live processes (running or parked), oldest first. */
  processes(): ProcessInfo[] {
    return [...this.live];
  }

  /** Events scheduled and not yet fired. */
  pending(): number {
    return this.timers.size();
  }

  /**
   * Ends `run`: at once (`now`: at the next quiescent point; parked processes stay parked), or
   * `idle`: at the first quiescent point where no process is alive (every invocation finished),
   * so that a saved run resumes exactly where it stopped.
   */
  stop(mode: 'now' | 'idle' = 'now'): void {
    if (this.stopMode === 'now') return;
    this.stopMode = mode;
    this.notify();
  }

  /** Runs events until none is left or `stop` is called; throws StalledSimulation on a stall. */
  async run(options: LoopRunOptions = {}): Promise<LoopStats> {
    if (this.running) throw new Error('the event loop is already running');
    if (options.pace !== undefined && !(options.pace > 0 && Number.isFinite(options.pace))) {
      throw new RangeError(`pace must be a positive number of virtual seconds per wall second, not ${options.pace}`);
    }
    this.running = true;
    this.stopMode = this.stopMode === 'idle' ? 'idle' : 'none';
    const paceFrom = { virtual: this.t, wall: performance.now() };
    let charged: { label: string; since: number } | undefined;
    try {
      for (;;) {
        await this.quiescent();
        if (charged) this.stats.wallMsBy[charged.label] = (this.stats.wallMsBy[charged.label] ?? 0) + performance.now() - charged.since;
        if (this.stoppingNow() || (this.stopMode === 'idle' && this.live.size === 0)) break;
        options.beforeAdvance?.();
        const next = this.timers.pop();
        if (!next) {
          if (this.live.size === 0) break;
          // Parked processes and nothing to wake them: they would wait forever.
          throw new StalledSimulation([...this.live].map(describe), 0);
        }
        if (options.pace !== undefined) {
          const wallTarget = paceFrom.wall + (next.at - paceFrom.virtual) / options.pace;
          const wait = wallTarget - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        if (next.at > this.t) this.t = next.at;
        this.stats.events++;
        charged = { label: next.label, since: performance.now() };
        next.fire();
      }
    } finally {
      this.running = false;
    }
    return this.stats;
  }

  private push(at: number, fire: () => void, seq: number | undefined, label: string): Timer {
    const timer: Timer = { at, seq: seq ?? this.seq++, fire, cancelled: false, label };
    this.timers.push(timer);
    return timer;
  }

  private stoppingNow(): boolean {
    return this.stopMode === 'now';
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private runningProcesses(): Process[] {
    return [...this.live].filter((p) => !(p.sleeps > 0 && p.io === 0));
  }

  /** Resolves once no process runs (all parked or finished), after the microtasks and ticks settle. */
  private async quiescent(): Promise<void> {
    let since = performance.now();
    for (;;) {
      // A branch woken by a timer, or started in the same turn as a sleep, shows its I/O only
      // after the current microtasks and nextTicks: look after two macrotask turns.
      await turn();
      await turn();
      if (this.stoppingNow()) return;
      const running = this.runningProcesses();
      if (running.length === 0) return;
      const left = this.stallMs - (performance.now() - since);
      if (left <= 0) throw new StalledSimulation(running.map(describe), this.stallMs);
      const changed = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), left);
        this.wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      if (await changed) since = performance.now();
    }
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function describe(p: Process): string {
  return `${p.name}#${p.id} (started at ${new Date(p.startedAt).toISOString()}${p.io > 0 ? `, ${p.io} I/O in flight` : ''}${p.sleeps > 0 ? `, ${p.sleeps} asleep` : ''})`;
}

/** A binary min-heap of timers by (at, seq); cancelled ones are dropped when they surface. */
class TimerHeap {
  private readonly items: Timer[] = [];

  size(): number {
    return this.items.filter((t) => !t.cancelled).length;
  }

  push(timer: Timer): void {
    const a = this.items;
    a.push(timer);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): Timer | undefined {
    for (;;) {
      const top = this.popAny();
      if (!top || !top.cancelled) return top;
    }
  }

  private popAny(): Timer | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

const before = (x: Timer, y: Timer) => x.at < y.at || (x.at === y.at && x.seq < y.seq);
