import { describe, expect, it } from 'vitest';
import { DEFAULT_SCENARIO_START, scenarioStartMs, seededRandom } from '../../local/runtime';
import { loadScenario } from '../../local/sim/scenario';

/** What makes a local run start at the same instant and draw the same "random" numbers every time. */

describe('scenarioStartMs', () => {
  it('is a fixed Sunday afternoon (US Eastern) for a scenario without a start, never today', async () => {
    const scenario = await loadScenario('comeback');
    expect(new Date(scenarioStartMs(scenario)).toISOString()).toBe('2026-09-13T17:00:00.000Z');
    expect(DEFAULT_SCENARIO_START).toBe('2026-09-13T17:00:00Z');
  });

  it("takes the scenario's own start, and refuses one that is not an instant, naming it", async () => {
    const scenario = await loadScenario('comeback');
    expect(scenarioStartMs({ ...scenario, start: '2026-10-04T20:25:00Z' } as typeof scenario)).toBe(Date.UTC(2026, 9, 4, 20, 25));
    expect(() => scenarioStartMs({ ...scenario, start: 'next sunday' } as typeof scenario)).toThrow(/scenario comeback: start "next sunday" is not an ISO-8601 instant/);
  });
});

describe('seededRandom', () => {
  it('draws the same numbers for the same seed, in [0, 1), and a saved state continues the sequence', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const first = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(first).size).toBe(5);
    const resumed = seededRandom(a.state());
    expect(Array.from({ length: 3 }, () => resumed())).toEqual(Array.from({ length: 3 }, () => a()));
    expect(seededRandom(43)()).not.toBe(seededRandom(42)());
  });
});
