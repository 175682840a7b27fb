import { describe, expect, it } from 'vitest';
import { currentClock, nowMs, sleep, useClock } from '../../shared/clock/clock';
import { EventLoop, StalledSimulation } from '../../local/des/eventLoop';

/**
 * The discrete-event loop of the local runtime: one process at a time, events in (time, sequence)
 * order, the clock set to each event's time, sleeps that park instead of waiting, and a stall
 * reported instead of a hang.
 */

const START = Date.UTC(2026, 8, 13, 17, 0, 0);
/** Real I/O of a random wall duration (what a database query looks like to the loop). */
const randomIo = (loop: EventLoop) => loop.io(() => new Promise<void>((resolve) => setTimeout(resolve, Math.floor(Math.random() * 4))));

describe('EventLoop', () => {
  it('fires events in time order, ties in the order they were scheduled, with the clock at each event', async () => {
    const loop = new EventLoop(START);
    const seen: string[] = [];
    const record = (name: string) => async () => {
      seen.push(`${name}@${loop.nowMs() - START}`);
    };
    loop.spawnAt(START + 2000, 'c', record('c'));
    loop.spawnAt(START + 1000, 'a', record('a'));
    loop.spawnAt(START + 1000, 'b', record('b'));
    loop.spawnAt(START, 'first', record('first'));
    await loop.run();
    expect(seen).toEqual(['first@0', 'a@1000', 'b@1000', 'c@2000']);
    expect(loop.stats.events).toBe(4);
  });

  it('runs one process at a time: the interleaving of sleeping processes is the same whatever their I/O takes', async () => {
    const trace = async () => {
      const loop = new EventLoop(START);
      const log: string[] = [];
      const worker = (name: string, naps: number[]) => async () => {
        for (const nap of naps) {
          log.push(`${name} starts at ${loop.nowMs() - START}`);
          // Several round trips of random length: another process must not run meanwhile.
          for (let i = 0; i < 3; i++) await randomIo(loop);
          log.push(`${name} sleeps at ${loop.nowMs() - START}`);
          await loop.sleep(nap);
        }
        log.push(`${name} done at ${loop.nowMs() - START}`);
      };
      loop.spawnAt(START, 'a', worker('a', [500, 500, 0]));
      loop.spawnAt(START, 'b', worker('b', [300, 700, 100]));
      loop.spawnAt(START + 500, 'c', worker('c', [0, 1000]));
      await loop.run();
      return log;
    };
    const first = await trace();
    // Each process's lines come in whole blocks (start … sleeps), never interleaved with another's.
    for (let i = 0; i < first.length; i++) {
      const [name, what] = first[i]!.split(' ');
      if (what === 'starts') expect(first[i + 1]!.split(' ')[0]).toBe(name);
    }
    for (let run = 0; run < 5; run++) expect(await trace()).toEqual(first);
    expect(first.at(-1)).toBe('c done at 1500');
  });

  it('is the installed clock: handlers sleeping through the clock module park on it, and the wall never waits', async () => {
    const loop = new EventLoop(START);
    const restore = useClock(loop);
    try {
      const woke: number[] = [];
      loop.spawnAt(START, 'sleeper', async () => {
        expect(currentClock()).toBe(loop);
        // Ten hours of virtual time: a wall sleep would time the test out.
        await sleep(10 * 3_600_000);
        woke.push(nowMs());
      });
      await loop.run();
      expect(woke).toEqual([START + 10 * 3_600_000]);
    } finally {
      restore();
    }
  });

  it('does not count a process as parked while one of its branches still does I/O', async () => {
    const loop = new EventLoop(START);
    const log: string[] = [];
    loop.spawnAt(START, 'two-branches', async () => {
      await Promise.all([
        loop.sleep(0).then(() => log.push('branch 1 woke')),
        (async () => {
          for (let i = 0; i < 5; i++) await loop.io(() => new Promise<void>((resolve) => setTimeout(resolve, 5)));
          log.push('branch 2 done');
        })(),
      ]);
    });
    loop.spawnAt(START, 'other', async () => {
      log.push('other ran');
    });
    await loop.run();
    // `other` (next in the queue, before branch 1's wake-up) waits until two-branches is really
    // parked: not while its branch 2 still queries.
    expect(log).toEqual(['branch 2 done', 'other ran', 'branch 1 woke']);
  });

  it('fails with the names of the processes when one neither parks nor finishes (a lock a parked process holds)', async () => {
    const loop = new EventLoop(START, { stallMs: 200 });
    let release!: () => void;
    const lock = new Promise<void>((resolve) => (release = resolve));
    loop.spawnAt(START, 'holder', async () => {
      await loop.sleep(60_000); // parked while holding the lock
      release();
    });
    loop.spawnAt(START + 1000, 'waiter', async () => {
      await lock;
    });
    const error = await loop.run().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StalledSimulation);
    expect((error as StalledSimulation).processes).toEqual([expect.stringMatching(/^waiter#2 /)]);
    expect((error as Error).message).toMatch(/waiter#2 .* neither finished nor slept .* 0\.2 s of machine time/);
  });

  it('reports a process error and goes on', async () => {
    const errors: string[] = [];
    const loop = new EventLoop(START, { onProcessError: (name, e) => errors.push(`${name}: ${(e as Error).message}`) });
    const done: string[] = [];
    loop.spawnAt(START, 'bad', async () => {
      throw new Error('boom');
    });
    loop.spawnAt(START + 1, 'good', async () => {
      done.push('good');
    });
    await loop.run();
    expect(errors).toEqual(['bad: boom']);
    expect(done).toEqual(['good']);
  });

  it("stop('idle') ends at the first point where no process is alive; stop() at the next quiescent point", async () => {
    const loop = new EventLoop(START);
    const ends: number[] = [];
    loop.spawnAt(START, 'long', async () => {
      await loop.sleep(5000);
      ends.push(loop.nowMs() - START);
    });
    for (let t = 0; t <= 10_000; t += 1000) loop.at(START + t, () => (t === 1000 ? loop.stop('idle') : undefined));
    await loop.run();
    expect(ends).toEqual([5000]);
    expect(loop.nowMs()).toBe(START + 5000);
    expect(loop.processes()).toEqual([]);

    const second = new EventLoop(START);
    second.spawnAt(START, 'long', () => second.sleep(5000));
    second.at(START + 1000, () => second.stop());
    await second.run();
    expect(second.nowMs()).toBe(START + 1000);
    expect(second.processes().map((p) => p.name)).toEqual(['long']);
  });

  it('paced, keeps at most `pace` virtual seconds per wall second', async () => {
    const loop = new EventLoop(START);
    loop.spawnAt(START + 2000, 'late', async () => undefined);
    const t0 = performance.now();
    await loop.run({ pace: 10 });
    // 2 virtual seconds at 10× take at least 200 ms of wall time (a lower bound: no machine-speed dependence).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
    expect(() => new EventLoop(START).run({ pace: 0 })).rejects.toThrow(/pace must be a positive number/);
  });

  it('cancelled events do not fire', async () => {
    const loop = new EventLoop(START);
    const fired: string[] = [];
    const a = loop.at(START + 10, () => fired.push('a'));
    loop.at(START + 20, () => fired.push('b'));
    a.cancel();
    await loop.run();
    expect(fired).toEqual(['b']);
    expect(loop.nowMs()).toBe(START + 20);
  });
});
