import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/domain/decimal';
import {
  compileScript, DEFAULT_SCENARIO_START, gameDateOf, gameMinuteAt, loadScenario, momentTime, phaseAt, schedule, ScenarioFile, SCENARIO_DIR,
  SHIPPED_SCENARIOS, startOnGameDate, unitNoise, NOISE_STEP_SECONDS, type GameScript, type Timing,
} from '../../local/sim/scenario';

/**
 * The local simulator's scenarios (local/sim/scenario.ts): the game clock, script moments, the
 * compiled quotes, and loading the shipped files (and refusing bad ones with a useful message).
 */

/** The defaults: 2 min pregame, 1 min quarter breaks, 3 min halftime, settlement 1 min after the whistle. */
const TIMING: Timing = ScenarioFile.parse({ name: 'x', description: 'x', games: [] }).timing;

// Sim seconds of the default schedule, worked by hand.
const Q1 = 120;
const Q2 = Q1 + 900 + 60; // 1080
const Q3 = Q2 + 900 + 180; // 2160
const Q4 = Q3 + 900 + 60; // 3120
const FINAL = Q4 + 900; // 4020

const d = (x: string | number) => new Decimal(x);

/** A game script through the real schema (its defaults applied). */
function game(script: unknown[], extra: Record<string, unknown> = {}): GameScript {
  return ScenarioFile.parse({
    name: 't', description: 't',
    games: [{ home: { abbr: 'KC', name: 'Kansas City Chiefs' }, away: { abbr: 'BUF', name: 'Buffalo Bills' }, script, ...extra }],
  }).games[0]!;
}

describe('the game clock', () => {
  it('has the documented default timing', () => {
    expect(TIMING).toEqual({ pregameMinutes: 2, quarterBreakMinutes: 1, halftimeMinutes: 3, settleAfterMinutes: 1 });
    expect(schedule(TIMING)).toEqual({ quarters: [Q1, Q2, Q3, Q4], final: FINAL, settle: FINAL + 60 });
  });

  it('momentTime places each kind of moment on the schedule', () => {
    expect(momentTime('PRE', TIMING)).toBe(0);
    expect(momentTime('Q1 15:00', TIMING)).toBe(Q1);
    expect(momentTime('Q2 6:00', TIMING)).toBe(Q2 + 900 - 360);
    expect(momentTime('Q4 0:00', TIMING)).toBe(FINAL);
    expect(momentTime('END Q1 +0:30', TIMING)).toBe(Q1 + 900 + 30);
    expect(momentTime('HT +1:00', TIMING)).toBe(Q2 + 900 + 60);
    expect(momentTime('END Q3 +0:59', TIMING)).toBe(Q3 + 900 + 59);
    expect(momentTime('FINAL', TIMING)).toBe(FINAL);
    // Case and surrounding blanks do not matter.
    expect(momentTime('  q3 10:30 ', TIMING)).toBe(Q3 + 270);
    expect(momentTime('final', TIMING)).toBe(FINAL);
  });

  it('momentTime follows a scenario\'s own timing', () => {
    const slow: Timing = { pregameMinutes: 5, quarterBreakMinutes: 2, halftimeMinutes: 10, settleAfterMinutes: 3 };
    expect(momentTime('Q1 15:00', slow)).toBe(300);
    expect(momentTime('HT +9:59', slow)).toBe(300 + 900 + 120 + 900 + 599);
    expect(() => momentTime('HT +9:59', TIMING)).toThrow(/HT lasts 3 min/);
    expect(schedule(slow).settle - schedule(slow).final).toBe(180);
  });

  it.each([
    ['Q5 1:00', /bad moment "Q5 1:00"/],
    ['Q2 16:00', /"Q2 16:00".*a quarter has 15:00/],
    ['HT +3:00', /HT lasts 3 min: HT \+3:00 is past it/],
    ['END Q1 +1:00', /END Q1 lasts 1 min: END Q1 \+1:00/],
    ['Q2 6:60', /"Q2 6:60"/],
    ['soon', /bad moment "soon"/],
  ])('momentTime refuses %j with a message naming it', (moment, message) => {
    expect(() => momentTime(moment, TIMING)).toThrow(message);
  });

  it('phaseAt and gameMinuteAt at the boundaries', () => {
    const at = (t: number) => [phaseAt(t, TIMING), gameMinuteAt(t, TIMING)];
    expect(at(0)).toEqual([{ kind: 'pre' }, 0]);
    expect(at(Q1 - 0.001)).toEqual([{ kind: 'pre' }, 0]);
    expect(at(Q1)).toEqual([{ kind: 'live', period: 1, clockSeconds: 900 }, 0]);
    expect(at(Q1 + 90)).toEqual([{ kind: 'live', period: 1, clockSeconds: 810 }, 1.5]);
    expect(at(Q1 + 899.5)).toEqual([{ kind: 'live', period: 1, clockSeconds: 1 }, 899 / 60]);
    // The break after Q1 holds minute 15 until Q2 starts.
    expect(at(Q1 + 900)).toEqual([{ kind: 'break', period: 1 }, 15]);
    expect(at(Q2 - 0.001)).toEqual([{ kind: 'break', period: 1 }, 15]);
    expect(at(Q2)).toEqual([{ kind: 'live', period: 2, clockSeconds: 900 }, 15]);
    expect(at(Q2 + 900)).toEqual([{ kind: 'halftime' }, 30]);
    expect(at(Q3 - 0.001)).toEqual([{ kind: 'halftime' }, 30]);
    expect(at(Q3)).toEqual([{ kind: 'live', period: 3, clockSeconds: 900 }, 30]);
    expect(at(Q3 + 900)).toEqual([{ kind: 'break', period: 3 }, 45]);
    expect(at(Q4)).toEqual([{ kind: 'live', period: 4, clockSeconds: 900 }, 45]);
    expect(at(FINAL - 1)).toEqual([{ kind: 'live', period: 4, clockSeconds: 1 }, 45 + 899 / 60]);
    expect(at(FINAL)).toEqual([{ kind: 'final' }, 60]);
    expect(at(FINAL + 86_400)).toEqual([{ kind: 'final' }, 60]);
  });
});

describe('compileScript', () => {
  // No noise: prices are the script's exactly.
  const quiet = game([
    { at: 'PRE', score: [0, 0], homeWinProbability: '0.50', marketBias: '0', note: 'kickoff soon' },
    { at: 'Q1 15:00', homeWinProbability: '0.60', marketBias: '-0.10' },
    { at: 'Q2 15:00', score: [7, 3], homeWinProbability: '0.70', note: 'scores', liquidity: { spread: '0.06', depth: 40, volume: 500 } },
    { at: 'FINAL', score: [7, 10], homeWinProbability: '0.0' },
  ], { noise: { seed: 1, amplitude: '0' } });
  const compiled = compileScript(quiet, TIMING);

  it('holds scores between moments and interpolates probability and bias linearly', () => {
    // Midway between PRE (p 0.50, bias 0) and Q1 15:00 (p 0.60, bias −0.10), exactly.
    const mid = compiled.snapshot(Q1 / 2);
    expect(mid.homeWinProbability.toFixed()).toBe('0.55');
    expect([mid.homeScore, mid.awayScore]).toEqual([0, 0]);
    // p + bias = 0.55 − 0.05 = 0.50; default spread 0.02.
    expect([mid.home.yesBid.toFixed(), mid.home.yesAsk.toFixed()]).toEqual(['0.49', '0.51']);
    // A quarter of the way from Q1 15:00 (0.60) to Q2 15:00 (0.70): 0.625; the bias is held after its last moment.
    const quarter = compiled.snapshot(Q1 + (Q2 - Q1) / 4);
    expect(quarter.homeWinProbability.toFixed()).toBe('0.625');
    expect([quarter.home.yesBid.toFixed(), quarter.home.yesAsk.toFixed()]).toEqual(['0.52', '0.54']); // 0.525 − 0.01, half up
    // The score moves at its moment, not before.
    expect([compiled.snapshot(Q2 - 1).homeScore, compiled.snapshot(Q2 - 1).awayScore]).toEqual([0, 0]);
    expect([compiled.snapshot(Q2).homeScore, compiled.snapshot(Q2).awayScore]).toEqual([7, 3]);
    expect(compiled.snapshot(Q2 - 1).lastNote).toBe('kickoff soon');
    expect(compiled.snapshot(Q2).lastNote).toBe('scores');
  });

  it('takes spread, depth and volume from the latest liquidity, defaults before it', () => {
    const before = compiled.snapshot(Q2 - 1).home;
    expect([before.depth, before.volume]).toEqual([1000, 250_000]);
    expect(before.yesAsk.minus(before.yesBid).toFixed()).toBe('0.02');
    const after = compiled.snapshot(Q2).home;
    expect([after.depth, after.volume]).toEqual([40, 500]);
    // p 0.70 + bias −0.10 = 0.60, spread 0.06: 0.57 / 0.63.
    expect([after.yesBid.toFixed(), after.yesAsk.toFixed()]).toEqual(['0.57', '0.63']);
    // Held to the whistle.
    const later = compiled.snapshot(FINAL - 1).home;
    expect(later.yesAsk.minus(later.yesBid).toFixed()).toBe('0.06');
    expect(later.depth).toBe(40);
  });

  it('without noise the price is p + bias − spread/2, rounded half up to the cent', () => {
    const g = compileScript(game([
      { at: 'PRE', homeWinProbability: '0.555', marketBias: '0' },
      { at: 'FINAL', score: [1, 0], homeWinProbability: '0.555' },
    ], { noise: { seed: 9, amplitude: '0' } }), TIMING);
    for (const t of [0, 500, 2000, FINAL - 1]) {
      expect(g.snapshot(t).home.yesBid.toFixed()).toBe('0.55'); // 0.545 → 0.55
      expect(g.snapshot(t).home.yesAsk.toFixed()).toBe('0.57');
    }
  });

  it('the final whistle gives the book to the winner: 0.99 for a home win, 0.01 for a loss', () => {
    const lost = compiled.snapshot(FINAL).home;
    expect([lost.yesBid.toFixed(), lost.yesAsk.toFixed()]).toEqual(['0.01', '0.01']);
    expect(compiled.finalScore()).toEqual([7, 10]);
    const won = compileScript(game([
      { at: 'PRE', homeWinProbability: '0.5' },
      { at: 'Q4 1:00', score: [3, 0], homeWinProbability: '0.95' },
    ]), TIMING);
    expect(won.snapshot(FINAL).home.yesBid.toFixed()).toBe('0.99');
    expect(won.snapshot(FINAL + 3600).home.yesAsk.toFixed()).toBe('0.99');
    // Just before the whistle it is still a market (clamped below 0.99).
    expect(won.snapshot(FINAL - 1).home.yesAsk.lte(d('0.99'))).toBe(true);
    expect(won.snapshot(FINAL - 1).home.yesBid.lt(d('0.99'))).toBe(true);
  });

  it('noise is deterministic: the same t prices the same way in another compilation; another seed moves it', async () => {
    const scenario = await loadScenario('comeback');
    const a = compileScript(scenario.games[0]!, scenario.timing);
    const b = compileScript(scenario.games[0]!, scenario.timing);
    const reseeded = compileScript({ ...scenario.games[0]!, noise: { seed: 12, amplitude: '0.005' } }, scenario.timing);
    let moved = 0;
    for (let t = 0; t < FINAL; t += 37) {
      expect(a.snapshot(t)).toEqual(b.snapshot(t));
      if (!a.snapshot(t).home.yesBid.eq(reseeded.snapshot(t).home.yesBid)) moved++;
    }
    expect(moved).toBeGreaterThan(5);
    // The noise steps every 15 s: within one step only the script's own drift can move the price.
    expect(unitNoise(11, 'BUFKC', 3).eq(unitNoise(11, 'BUFKC', 3))).toBe(true);
    expect(unitNoise(11, 'BUFKC', 3).eq(unitNoise(11, 'BUFKC', 4))).toBe(false);
    expect(NOISE_STEP_SECONDS).toBe(15);
  });

  it('noise stays within its amplitude of p + bias', () => {
    const amplitude = d('0.03');
    const noisy = compileScript({ ...quiet, noise: { seed: 5, amplitude: amplitude.toFixed() } }, TIMING);
    let differs = 0;
    for (let t = 0; t < FINAL; t += 15) {
      const s = noisy.snapshot(t);
      const clean = compiled.snapshot(t);
      const spread = s.home.yesAsk.minus(s.home.yesBid);
      // bid + spread/2 is the noisy mid to the half cent.
      const cleanMid = clean.home.yesBid.plus(clean.home.yesAsk).div(2);
      expect(s.home.yesBid.plus(spread.div(2)).minus(cleanMid).abs().lte(amplitude.plus('0.01'))).toBe(true);
      if (!s.home.yesBid.eq(clean.home.yesBid)) differs++;
    }
    expect(differs).toBeGreaterThan(20);
  });

  it.each(['comeback', 'blowout', 'illiquid'])('every quote of %s is whole cents within 0.01..0.99, ask − bid = spread', async (name) => {
    const scenario = await loadScenario(name);
    const g = compileScript(scenario.games[0]!, scenario.timing);
    const spreads = new Set<string>();
    for (let t = 0; t < g.final + 120; t += 5) {
      const { yesBid, yesAsk } = g.snapshot(t).home;
      for (const p of [yesBid, yesAsk]) {
        expect(p.gte(d('0.01')) && p.lte(d('0.99'))).toBe(true);
        expect(p.decimalPlaces()).toBeLessThanOrEqual(2);
      }
      if (t < g.final) {
        const spread = yesAsk.minus(yesBid);
        spreads.add(spread.toFixed(2));
        expect(spread.gt(0)).toBe(true);
      }
    }
    // The script's spreads and nothing else (the illiquid market pulls to 10 cents, then comes back).
    expect([...spreads].sort()).toEqual(name === 'illiquid' ? ['0.02', '0.10'] : ['0.02']);
  });

  it('refuses a probability outside 0..1 and a script that never sets one', () => {
    expect(() => compileScript(game([{ at: 'PRE', homeWinProbability: '1.2' }, { at: 'FINAL' }]), TIMING))
      .toThrow(/BUF at KC: script\[0\]: homeWinProbability must be 0–1/);
    expect(() => compileScript(game([{ at: 'PRE', score: [0, 0] }, { at: 'FINAL' }]), TIMING))
      .toThrow(/no moment sets homeWinProbability/);
  });
});

describe('loadScenario: the shipped scenarios', () => {
  it('ships exactly the files SHIPPED_SCENARIOS names', async () => {
    const files = (await readdir(SCENARIO_DIR)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    expect(files.sort()).toEqual([...SHIPPED_SCENARIOS].sort());
  });

  it.each([
    ['comeback', [['KC', 'BUF']], ['trailing_stop', 'stop_loss'], [24, 27]],
    ['blowout', [['PHI', 'DAL']], ['partial_exit_target', 'profit_target'], [38, 10]],
    ['illiquid', [['SEA', 'SF']], ['liquidity_dried_up'], [20, 13]],
  ] as const)('%s: its game, designed exits and final score', async (name, teams, exits, finalScore) => {
    const s = await loadScenario(name);
    expect(s.name).toBe(name);
    expect(s.description.length).toBeGreaterThan(20);
    expect(s.games.map((g) => [g.home.abbr, g.away.abbr])).toEqual(teams);
    expect(s.designedExits).toEqual(exits);
    expect(s.timing).toEqual(TIMING);
    expect(compileScript(s.games[0]!, s.timing).finalScore()).toEqual(finalScore);
  });

  it('sunday-slate plays the three games at once, with the union of their designed exits', async () => {
    const s = await loadScenario('sunday-slate');
    expect(s.games.map((g) => `${g.away.abbr}@${g.home.abbr}`)).toEqual(['BUF@KC', 'DAL@PHI', 'SF@SEA']);
    expect([...s.designedExits].sort()).toEqual(
      ['liquidity_dried_up', 'partial_exit_target', 'profit_target', 'stop_loss', 'trailing_stop'],
    );
    // The same games as the single scenarios.
    const comeback = await loadScenario('comeback');
    expect(s.games[0]).toEqual(comeback.games[0]);
  });

  it('every shipped scenario starts at the fixed default instant: a Sunday, 13:00 US Eastern, whatever day it is run', async () => {
    expect(DEFAULT_SCENARIO_START).toBe('2026-09-13T17:00:00Z');
    for (const name of SHIPPED_SCENARIOS) expect((await loadScenario(name)).startMs, name).toBe(Date.parse('2026-09-13T17:00:00Z'));
    // Kickoff is 2 minutes later, on that US Eastern date.
    expect(gameDateOf(Date.parse(DEFAULT_SCENARIO_START), TIMING)).toBe('2026-09-13');
  });

  it('loads a scenario by .json path too', async () => {
    const s = await loadScenario(path.join(SCENARIO_DIR, 'blowout.json'));
    expect(s.name).toBe('blowout');
  });
});

describe('loadScenario: bad scenarios', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'precog-scenario-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const okGame = (home = 'NYG', away = 'NE') => ({
    home: { abbr: home, name: 'Home Team' }, away: { abbr: away, name: 'Away Team' },
    script: [{ at: 'PRE', homeWinProbability: '0.5' }, { at: 'FINAL', score: [3, 0], homeWinProbability: '1' }],
  });
  async function file(name: string, content: unknown): Promise<string> {
    const p = path.join(dir, `${name}.json`);
    await writeFile(p, typeof content === 'string' ? content : JSON.stringify(content));
    return p;
  }

  it('an unknown name lists the shipped scenarios', async () => {
    await expect(loadScenario('no-such-scenario')).rejects.toThrow(
      /unknown scenario "no-such-scenario".*\(shipped: sunday-slate, comeback, blowout, illiquid\)/,
    );
  });

  it('a file that is not JSON', async () => {
    const p = await file('broken', '{ "name": ');
    await expect(loadScenario(p)).rejects.toThrow(`scenario ${p} is not JSON`);
  });

  it.each([
    ['a moment that is not a string', (g: ReturnType<typeof okGame>) => { (g.script[1] as Record<string, unknown>).at = 5; }, 'games.0.script.1.at'],
    ['a probability written as a number', (g: ReturnType<typeof okGame>) => { (g.script[0] as Record<string, unknown>).homeWinProbability = 0.5; }, 'games.0.script.0.homeWinProbability: write decimals as strings'],
    ['an unknown field', (g: ReturnType<typeof okGame>) => { (g.script[0] as Record<string, unknown>).winProb = '0.5'; }, 'games.0.script.0'],
    ['a lower-case team', (g: ReturnType<typeof okGame>) => { g.home.abbr = 'nyg'; }, 'games.0.home.abbr: two to four capital letters'],
    ['a single moment', (g: ReturnType<typeof okGame>) => { g.script.pop(); }, 'games.0.script'],
  ])('%s: the message names the path', async (_label, spoil, message) => {
    const g = okGame();
    spoil(g);
    const p = await file(`bad-${message.replace(/[^a-z0-9]/gi, '')}`, { name: 'bad', description: 'bad', games: [g] });
    const error = await loadScenario(p).then(() => null, (e: Error) => e);
    expect(error?.message).toContain(`scenario ${p}: `);
    expect(error?.message).toContain(message);
  });

  it('a bad moment names the game, the script index and the moment', async () => {
    const g = okGame();
    g.script.splice(1, 0, { at: 'Q2 16:00', homeWinProbability: '0.5' });
    const p = await file('bad-moment', { name: 'bad-moment', description: 'x', games: [g] });
    await expect(loadScenario(p)).rejects.toThrow(/NE at NYG: script\[1\]: bad moment "Q2 16:00"/);
  });

  it('moments out of order', async () => {
    const g = okGame();
    g.script.splice(1, 0, { at: 'Q2 6:00', homeWinProbability: '0.6' }, { at: 'Q1 8:00', homeWinProbability: '0.6' });
    const p = await file('unordered', { name: 'unordered', description: 'x', games: [g] });
    await expect(loadScenario(p)).rejects.toThrow('NE at NYG: script[2] (Q1 8:00) comes before script[1] (Q2 6:00)');
  });

  it('a team playing twice in a slate (directly and through an include)', async () => {
    const twice = await file('twice', { name: 'twice', description: 'x', games: [okGame('NYG', 'NE'), okGame('MIA', 'NYG')] });
    await expect(loadScenario(twice)).rejects.toThrow(/team NYG plays twice at the same time/);
    const withComeback = await file('with-comeback', { name: 'with-comeback', description: 'x', include: ['comeback'], games: [okGame('KC', 'NE')] });
    await expect(loadScenario(withComeback)).rejects.toThrow(`scenario ${withComeback}: team KC plays twice at the same time`);
    // Two slates that share a game clash too.
    const slate = await file('double-slate', { name: 'double-slate', description: 'x', include: ['sunday-slate', 'illiquid'] });
    await expect(loadScenario(slate)).rejects.toThrow(/team (SEA|SF) plays twice/);
  });

  it('a scenario that includes itself, directly or through another', async () => {
    const self = path.join(dir, 'self.json');
    await file('self', { name: 'self', description: 'x', include: [self], games: [okGame()] });
    await expect(loadScenario(self)).rejects.toThrow(`scenario ${self} includes itself`);
    const a = path.join(dir, 'loop-a.json');
    const b = path.join(dir, 'loop-b.json');
    await file('loop-a', { name: 'loop-a', description: 'x', include: [b], games: [okGame()] });
    await file('loop-b', { name: 'loop-b', description: 'x', include: [a], games: [okGame('MIA', 'NYJ')] });
    await expect(loadScenario(a)).rejects.toThrow(/includes itself/);
  });

  it('a scenario without games', async () => {
    const p = await file('empty', { name: 'empty', description: 'x' });
    await expect(loadScenario(p)).rejects.toThrow(`scenario ${p} has no games`);
  });

  it.each([
    ['without a UTC offset', '2026-09-13T17:00:00'],
    ['a date only', '2026-09-13'],
    ['not a calendar day', '2026-02-30T17:00:00Z'],
    ['a number', 1789318800000],
  ])('a start %s is refused, naming the field', async (_label, start) => {
    const p = await file(`bad-start-${String(start).replace(/[^0-9]/g, '')}`, { name: 'bad-start', description: 'x', start, games: [okGame()] });
    await expect(loadScenario(p)).rejects.toThrow(`scenario ${p}: start: an ISO 8601 instant with its UTC offset, e.g. "2026-09-13T17:00:00Z"`);
  });

  it('a start of its own, with any offset; an included file\'s start does not count', async () => {
    const p = await file('own-start', { name: 'own-start', description: 'x', start: '2027-01-10T16:25:00-05:00', games: [okGame()] });
    expect((await loadScenario(p)).startMs).toBe(Date.parse('2027-01-10T21:25:00Z'));
    const including = await file('including', { name: 'including', description: 'x', include: [p], games: [okGame('MIA', 'NYJ')] });
    expect((await loadScenario(including)).startMs).toBe(Date.parse(DEFAULT_SCENARIO_START));
  });

  it('startOnGameDate moves the start by whole days so that the kickoff falls on the date asked', async () => {
    const comeback = await loadScenario('comeback');
    const moved = startOnGameDate(comeback, '2026-09-20');
    expect(new Date(moved).toISOString()).toBe('2026-09-20T17:00:00.000Z');
    expect(gameDateOf(moved, comeback.timing)).toBe('2026-09-20');
    // Across the end of daylight saving time: same UTC time, kickoff still on the date asked.
    expect(gameDateOf(startOnGameDate(comeback, '2026-12-06'), comeback.timing)).toBe('2026-12-06');
    expect(startOnGameDate(comeback, '2026-09-13')).toBe(comeback.startMs);
    expect(() => startOnGameDate(comeback, '2026-9-20')).toThrow('a game date is YYYY-MM-DD, not "2026-9-20"');
    // A kickoff at 23:30 Eastern in winter (04:30Z) moved into summer would land at 00:30 the next day.
    const late = { startMs: Date.parse('2026-12-07T04:28:00Z'), timing: TIMING };
    expect(gameDateOf(late.startMs, TIMING)).toBe('2026-12-06');
    expect(() => startOnGameDate(late, '2026-09-13')).toThrow('moving the scenario\'s start to 2026-09-13 puts its kickoff on 2026-09-14');
  });

  it('a valid custom file loads, with timing of its own', async () => {
    const p = await file('custom', { name: 'custom', description: 'x', games: [okGame()], timing: { halftimeMinutes: 5 } });
    const s = await loadScenario(p);
    expect(s.timing).toEqual({ ...TIMING, halftimeMinutes: 5 });
    expect(s.designedExits).toEqual([]);
    expect(s.games[0]!.noise).toEqual({ seed: 1, amplitude: '0.005' });
  });
});
