import { describe, expect, it } from 'vitest';
import { runCadence } from '../../shared/monitor/cadence';
import type { SweepResult } from '../../shared/monitor/sweep';

const result = (positions: number, urgent: number[], skipped?: string): SweepResult => ({
  positions, versions: 0, heartbeats: 0, triggers: [], exits: [], waiting: 0, urgent, enqueued: 0, resent: 0, unsent: 0, unpriced: [], ms: 0, skipped,
});

/** A fake clock: sleeping moves it, each sweep takes `sweepMs`. */
function harness(options: { deadline: number; sweepMs?: number; urgentAfterFull?: number[]; skipAt?: number[] }) {
  let t = 0;
  const calls: Array<{ at: number; ids?: number[] }> = [];
  return {
    calls,
    run: (once = false) =>
      runCadence({
        now: () => t,
        sleep: async (ms) => {
          t += ms;
        },
        deadline: options.deadline,
        sweep: async (ids) => {
          calls.push({ at: t, ids });
          const at = t;
          t += options.sweepMs ?? 200;
          if (options.skipAt?.includes(at)) return result(0, [], 'another monitor sweep is running');
          return ids ? result(ids.length, ids) : result(100, options.urgentAfterFull ?? []);
        },
      }, { once }),
  };
}

describe('monitor cadence inside one invocation', () => {
  it('sweeps everything every 30 s and the urgent positions every 5 s, until the deadline', async () => {
    const h = harness({ deadline: 52_000, urgentAfterFull: [7, 9] });
    const sweeps = await h.run();
    expect(h.calls.map((c) => [c.at, c.ids ?? 'all'])).toEqual([
      [0, 'all'], [5_000, [7, 9]], [10_000, [7, 9]], [15_000, [7, 9]], [20_000, [7, 9]], [25_000, [7, 9]],
      [30_000, 'all'], [35_000, [7, 9]], [40_000, [7, 9]], [45_000, [7, 9]], [50_000, [7, 9]],
    ]);
    expect(sweeps.filter((s) => s.kind === 'full')).toHaveLength(2);
  });

  it('never starts a sweep that would run past the deadline', async () => {
    const h = harness({ deadline: 10_100, sweepMs: 200, urgentAfterFull: [1] });
    await h.run();
    // 0 (full) and 5 s (urgent) fit; 10 s + 200 ms > 10.1 s does not.
    expect(h.calls.map((c) => c.at)).toEqual([0, 5_000]);
  });

  it('with nothing urgent, only the full sweeps run', async () => {
    const h = harness({ deadline: 61_000 });
    await h.run();
    expect(h.calls.map((c) => [c.at, c.ids ?? 'all'])).toEqual([[0, 'all'], [30_000, 'all'], [60_000, 'all']]);
  });

  it('a sweep skipped because another invocation holds the lock keeps the urgent list', async () => {
    const h = harness({ deadline: 16_000, urgentAfterFull: [3], skipAt: [5_000] });
    await h.run();
    expect(h.calls.map((c) => [c.at, c.ids ?? 'all'])).toEqual([[0, 'all'], [5_000, [3]], [10_000, [3]], [15_000, [3]]]);
  });

  it('once: a single sweep', async () => {
    const h = harness({ deadline: 60_000, urgentAfterFull: [1] });
    expect(await h.run(true)).toHaveLength(1);
  });
});
