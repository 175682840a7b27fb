import { describe, expect, it } from 'vitest';
import { LocalScheduler, scaledClock } from '../../local/scheduler';
import { VirtualTime } from '../helpers/virtualTime';

const START = 1_800_000_000_000;
const min = (m: number) => START + m * 60_000;

describe('LocalScheduler', () => {
  it('fires each job at the start and every period, on a clock sped up `speed` times', async () => {
    const time = new VirtualTime(START);
    const scheduler = new LocalScheduler();
    const seen: Array<[string, number]> = [];
    scheduler
      .every('fast', 60, (at) => void seen.push(['fast', at]))
      .every('slow', 300, async (at) => void seen.push(['slow', at]));
    const report = await scheduler.run({ untilMs: min(10), speed: 60, now: time.now, sleep: time.sleep });
    expect(report.runs.filter((r) => r.name === 'fast').map((r) => r.at)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(min));
    expect(report.runs.filter((r) => r.name === 'slow').map((r) => r.at)).toEqual([min(0), min(5)]);
    expect(seen).toHaveLength(12);
    expect(report.skipped).toEqual({ fast: 0, slow: 0 });
    // Ten scheduler minutes at speed 60: the last run, at minute 9, came 9 real seconds in.
    expect(time.now() - START).toBe(9_000);
  });

  it('never runs two instances of a job: ticks missed while it runs are skipped and counted', async () => {
    const time = new VirtualTime(START);
    const scheduler = new LocalScheduler();
    let running = 0;
    let most = 0;
    scheduler.every('slow', 60, async () => {
      running++;
      most = Math.max(most, running);
      await time.sleep(150_000 / 10); // 150 s of scheduler time at speed 10
      running--;
    });
    scheduler.every('beside', 60, () => undefined);
    const report = await scheduler.run({ untilMs: min(10), speed: 10, now: time.now, sleep: time.sleep });
    const slow = report.runs.filter((r) => r.name === 'slow');
    expect(slow.map((r) => (r.at - START) / 1000)).toEqual([0, 180, 360, 540]);
    expect(slow.every((r) => r.ms === 150_000)).toBe(true);
    expect(most).toBe(1);
    // 60,120 / 240,300 / 420,480 skipped; ticks from 600 s on are past untilMs.
    expect(report.skipped).toEqual({ slow: 6, beside: 0 });
    // The other job keeps its own period meanwhile.
    expect(report.runs.filter((r) => r.name === 'beside')).toHaveLength(10);
  });

  it('records errors (thrown or rejected, Error or not) and keeps going', async () => {
    const time = new VirtualTime(START);
    let n = 0;
    const scheduler = new LocalScheduler()
      .every('sync', 60, () => {
        throw new Error(`boom ${++n}`);
      })
      .every('async', 60, async (at) => {
        if (at === min(1)) throw 'not an Error';
      });
    const report = await scheduler.run({ untilMs: min(3), now: time.now, sleep: time.sleep });
    expect(report.runs.filter((r) => r.name === 'sync').map((r) => r.error)).toEqual(['boom 1', 'boom 2', 'boom 3']);
    expect(report.runs.filter((r) => r.name === 'async').map((r) => r.error)).toEqual([undefined, 'not an Error', undefined]);
    expect(report.runs.find((r) => r.name === 'async' && r.at === min(0))).not.toHaveProperty('error');
  });

  it('starts nothing at or after untilMs, and awaits a run still going then', async () => {
    const time = new VirtualTime(START);
    const done: number[] = [];
    const scheduler = new LocalScheduler().every('job', 60, async (at) => {
      await time.sleep(90_000);
      done.push(at);
    });
    const report = await scheduler.run({ untilMs: min(2), now: time.now, sleep: time.sleep });
    // The run at 0 ends at 90 s: the tick at 60 s was missed; the one at 120 s is untilMs itself.
    expect(report.runs.map((r) => r.at)).toEqual([min(0)]);
    expect(done).toEqual([min(0)]);
    expect(report.skipped).toEqual({ job: 1 });

    const longer = await new LocalScheduler().every('job', 60, async () => {
      await time.sleep(90_000);
    }).run({ untilMs: time.now() + 150_000, now: time.now, sleep: time.sleep });
    // Runs at 0 and 120 (ending at 210, past untilMs at 150): awaited, ticks past untilMs not counted.
    expect(longer.runs.map((r) => r.ms)).toEqual([90_000, 90_000]);
    expect(longer.skipped).toEqual({ job: 1 });

    const none = await new LocalScheduler().every('job', 60, () => undefined).run({ untilMs: time.now(), now: time.now, sleep: time.sleep });
    expect(none.runs).toEqual([]);
  });

  it('passes each run its start time, which is also scheduler.now() then, and calls onRun', async () => {
    const time = new VirtualTime(START);
    const scheduler = new LocalScheduler();
    const pairs: Array<[number, number]> = [];
    scheduler.every('job', 30, (at) => void pairs.push([at, scheduler.now()]));
    const logged: string[] = [];
    await scheduler.run({ untilMs: min(1.5), speed: 30, now: time.now, sleep: time.sleep, onRun: (r) => logged.push(`${r.name}@${r.at}`) });
    expect(pairs).toEqual([[min(0), min(0)], [min(0.5), min(0.5)], [min(1), min(1)]]);
    expect(logged).toEqual([`job@${min(0)}`, `job@${min(0.5)}`, `job@${min(1)}`]);
  });

  it('runs on real time by default', async () => {
    const start = Date.now();
    const untilMs = start + 2_000;
    const report = await new LocalScheduler().every('job', 1, () => undefined).run({ untilMs, speed: 1_000 });
    expect(report.runs.length).toBeGreaterThanOrEqual(1);
    // Bounds the scheduler promises (from the real clock's start to untilMs), no slack for speed.
    expect(report.runs[0]!.at).toBeGreaterThanOrEqual(start);
    expect(report.runs.every((r) => r.at <= untilMs)).toBe(true);
    expect(report.runs.map((r) => r.at)).toEqual([...report.runs.map((r) => r.at)].sort((a, b) => a - b));
  });

  it('validates names, periods and speed', async () => {
    const scheduler = new LocalScheduler().every('a', 1, () => undefined);
    expect(() => scheduler.every('a', 1, () => undefined)).toThrow(/already scheduled/);
    expect(() => scheduler.every('b', 0, () => undefined)).toThrow(RangeError);
    await expect(scheduler.run({ untilMs: 0, speed: 0 })).rejects.toThrow(RangeError);
    expect(() => scaledClock(-1)).toThrow(RangeError);
  });
});

describe('scaledClock', () => {
  it('runs `speed` times faster than the clock it scales, from the start given', () => {
    let t = 1_000;
    const clock = scaledClock(60, () => t, 1_000);
    t += 1_000;
    expect(clock()).toBe(61_000);
  });
});
