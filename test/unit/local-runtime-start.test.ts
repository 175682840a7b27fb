import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../local/runtime';

/** What makes a local run draw the same "random" numbers every time (its fixed start: test/unit/scenario.test.ts). */

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
