import { describe, expect, it } from 'vitest';
import { EventLoop } from '../../local/des/eventLoop';
import { LocalScheduler } from '../../local/scheduler';

/** The local EventBridge on the discrete-event loop: ticks in virtual time, no overlap, errors kept, resumable. */

const START = Date.UTC(2026, 8, 13, 17, 0, 0);

describe('LocalScheduler', () => {
  it('fires each job at the first tick and every period of virtual time; jobs due together fire in registration order', async () => {
    const loop = new EventLoop(START);
    const runs: string[] = [];
    const scheduler = new LocalScheduler(loop)
      .every('minutely', 60, async (at) => void runs.push(`minutely@${(at - START) / 1000} clock ${(loop.nowMs() - START) / 1000}`))
      .every('five', 300, async (at) => void runs.push(`five@${(at - START) / 1000}`));
    scheduler.start(START);
    loop.at(START + 600_000, () => loop.stop());
    await loop.run();
    expect(runs.filter((r) => r.startsWith('five'))).toEqual(['five@0', 'five@300']);
    expect(runs.filter((r) => r.startsWith('minutely'))).toHaveLength(10);
    expect(runs.slice(0, 3)).toEqual(['minutely@0 clock 0', 'five@0', 'minutely@60 clock 60']);
  });

  it('never runs two instances of a job: ticks that come while it still runs are skipped and counted', async () => {
    const loop = new EventLoop(START);
    const starts: number[] = [];
    const scheduler = new LocalScheduler(loop).every('slow', 60, async (at) => {
      starts.push((at - START) / 1000);
      await loop.sleep(150_000); // runs through the next two ticks
    });
    scheduler.start(START);
    loop.at(START + 400_000, () => loop.stop());
    await loop.run();
    expect(starts).toEqual([0, 180, 360]);
    expect(scheduler.skipped).toEqual({ slow: 4 });
  });

  it('hands errors to onError and keeps firing', async () => {
    const loop = new EventLoop(START);
    const errors: string[] = [];
    let n = 0;
    new LocalScheduler(loop, { onError: (name, e) => errors.push(`${name}: ${(e as Error).message}`) })
      .every('flaky', 60, async () => {
        if (++n === 1) throw new Error('first run fails');
      })
      .start(START);
    loop.at(START + 150_000, () => loop.stop());
    await loop.run();
    expect(errors).toEqual(['flaky: first run fails']);
    expect(n).toBe(3);
  });

  it('a restored schedule fires at the same times and in the same order as the uninterrupted one', async () => {
    const build = (loop: EventLoop, log: string[]) =>
      // b registered first, but from the second minute on a's tick is due before b's at the same
      // time: only the saved sequence numbers give the restored run the original order.
      new LocalScheduler(loop)
        .every('b', 30, async (at) => {
          log.push(`b@${(at - START) / 1000}`);
          await loop.sleep(45_000); // skips every other tick
        })
        .every('a', 60, async (at) => void log.push(`a@${(at - START) / 1000}`));
    const whole: string[] = [];
    const loop = new EventLoop(START);
    const full = build(loop, whole);
    full.start(START);
    loop.at(START + 600_000, () => loop.stop());
    await loop.run();

    // The same, stopped when idle after 4 minutes, saved (through JSON), and continued in a new loop.
    const parts: string[] = [];
    const first = new EventLoop(START);
    const interrupted = build(first, parts);
    interrupted.start(START);
    first.at(START + 240_000, () => first.stop('idle'));
    await first.run();
    const saved = JSON.parse(JSON.stringify({ clock: first.nowMs(), sequence: first.sequence, schedule: interrupted.saveState() }));
    const second = new EventLoop(saved.clock, { sequence: saved.sequence });
    build(second, parts).restore(saved.schedule, saved.clock);
    second.at(START + 600_000, () => second.stop());
    await second.run();
    expect(parts).toEqual(whole);
    expect(whole.length).toBeGreaterThan(15);
  });

  it('refuses a duplicate name and a non-positive period', () => {
    const scheduler = new LocalScheduler(new EventLoop(START)).every('x', 60, async () => undefined);
    expect(() => scheduler.every('x', 60, async () => undefined)).toThrow(/already scheduled/);
    expect(() => scheduler.every('y', 0, async () => undefined)).toThrow(/y: the period must be positive seconds/);
  });
});
