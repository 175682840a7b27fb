import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { Decimal } from '../../shared/domain/decimal';
import { easternDate } from '../../shared/ingestion/gameMatching';

/**
 * Scripted games for the local simulator. A scenario is a data file (local/scenarios/*.json): one
 * or more NFL games, each a script of moments ("Q2 6:00", "HT +1:00", "FINAL") with the score, the
 * home team's true win probability, how far the market's price sits from it (`marketBias`) and the
 * book's liquidity. Between moments the probability and bias move linearly, scores and liquidity
 * hold; a seeded noise moves the price around all of it every 15 seconds of game time.
 *
 * Time: the game runs on the simulator's clock (sim seconds from the scenario's `start`, a fixed
 * instant, so that a run is the same whatever day it is played): pregame, four 15-minute quarters
 * on a running clock, a break after Q1 and Q3, halftime, the final whistle, then the markets settle
 * `settleAfterMinutes` later.
 */

const decimal = z
  .string({ error: 'write decimals as strings, e.g. "0.55"' })
  .regex(/^-?\d+(\.\d+)?$/, 'not a decimal number');

const team = z.strictObject({
  /** ESPN abbreviation (also the Kalshi code here: pick teams whose codes agree). */
  abbr: z.string().regex(/^[A-Z]{2,4}$/, 'two to four capital letters'),
  name: z.string().min(1),
});

const liquidity = z.strictObject({
  /** YES ask − YES bid, dollars. */
  spread: decimal.optional(),
  /** Contracts offered at the best bid and at the best ask; refilled every 15 s of game time. */
  depth: z.number().int().positive().optional(),
  /** The market's traded volume (contracts) the venue reports. */
  volume: z.number().int().nonnegative().optional(),
});

const moment = z.strictObject({
  /** "PRE", "Q1 15:00" … "Q4 0:00" (clock remaining), "END Q1 +0:30", "HT +1:00", "END Q3 +0:30", "FINAL". */
  at: z.string().min(1),
  /** [home, away] points from this moment on. */
  score: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]).optional(),
  /** P(home wins), 0–1. */
  homeWinProbability: decimal.optional(),
  /** Market price of "home wins" minus the true probability (negative: the market is too pessimistic on home). */
  marketBias: decimal.optional(),
  /** What happened (shown in the progress line). */
  note: z.string().optional(),
  liquidity: liquidity.optional(),
});

const game = z.strictObject({
  home: team,
  away: team,
  noise: z.strictObject({ seed: z.number().int(), amplitude: decimal }).prefault({ seed: 1, amplitude: '0.005' }),
  script: z.array(moment).min(2),
});

/** When a scenario starts unless it says otherwise: a Sunday, 13:00 US Eastern (pregame begins). */
export const DEFAULT_SCENARIO_START = '2026-09-13T17:00:00Z';

export const ScenarioFile = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
  description: z.string().min(1),
  /**
   * The instant of sim second 0 (pregame begins), with its UTC offset: the run's virtual clock
   * starts there. Of an included file, only the including file's start counts.
   */
  start: z
    .iso.datetime({ offset: true, error: `an ISO 8601 instant with its UTC offset, e.g. "${DEFAULT_SCENARIO_START}"` })
    .default(DEFAULT_SCENARIO_START),
  /** The exit conditions this scenario is built to produce (its end-to-end test asserts them). */
  designedExits: z.array(z.string()).default([]),
  /** Other scenario files whose games this one plays at the same time (a slate). */
  include: z.array(z.string()).default([]),
  games: z.array(game).default([]),
  timing: z
    .strictObject({
      pregameMinutes: z.number().positive().default(2),
      quarterBreakMinutes: z.number().positive().default(1),
      halftimeMinutes: z.number().positive().default(3),
      settleAfterMinutes: z.number().positive().default(1),
    })
    .prefault({}),
});
export type ScenarioFile = z.infer<typeof ScenarioFile>;
export type GameScript = z.infer<typeof game>;
export type Timing = ScenarioFile['timing'];

export interface Scenario {
  name: string;
  description: string;
  /** Epoch ms of sim second 0 (the file's `start`): where a run's clock starts. */
  startMs: number;
  designedExits: string[];
  games: GameScript[];
  timing: Timing;
}

export const SCENARIO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');

/** The shipped scenarios (file names without .json). */
export const SHIPPED_SCENARIOS = ['sunday-slate', 'comeback', 'blowout', 'illiquid'] as const;
export const DEFAULT_SCENARIO = 'sunday-slate';

/** A scenario by name (local/scenarios/NAME.json) or path; `include`s are played at the same time. */
export async function loadScenario(nameOrPath: string, seen: string[] = []): Promise<Scenario> {
  const file = nameOrPath.endsWith('.json') ? path.resolve(nameOrPath) : path.join(SCENARIO_DIR, `${nameOrPath}.json`);
  if (seen.includes(file)) throw new Error(`scenario ${nameOrPath} includes itself`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`unknown scenario ${JSON.stringify(nameOrPath)}: no file ${file} (shipped: ${SHIPPED_SCENARIOS.join(', ')})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`scenario ${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = ScenarioFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`scenario ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const games = [...parsed.data.games];
  const designed = new Set(parsed.data.designedExits);
  for (const included of parsed.data.include) {
    const other = await loadScenario(included, [...seen, file]);
    games.push(...other.games);
    for (const e of other.designedExits) designed.add(e);
  }
  if (games.length === 0) throw new Error(`scenario ${file} has no games`);
  const teams = games.flatMap((g) => [g.home.abbr, g.away.abbr]);
  const repeated = teams.find((t, i) => teams.indexOf(t) !== i);
  if (repeated) throw new Error(`scenario ${file}: team ${repeated} plays twice at the same time`);
  const scenario = {
    name: parsed.data.name, description: parsed.data.description, startMs: Date.parse(parsed.data.start), designedExits: [...designed], games,
    timing: parsed.data.timing,
  };
  for (const g of games) {
    try {
      compileScript(g, scenario.timing); // fails early on a bad moment
    } catch (error) {
      throw new Error(`scenario ${file}: ${(error as Error).message}`);
    }
  }
  return scenario;
}

const DAY_MS = 86_400_000;

/** The game date a run starting at `startMs` plays on: the US Eastern date of its kickoff (event tickers carry it). */
export function gameDateOf(startMs: number, timing: Timing): string {
  return easternDate(new Date(startMs + schedule(timing).quarters[0] * 1000));
}

/**
 * The scenario's start moved to another game date (whole days: the same time of day in UTC), for
 * a run that must play on a later date than the file's (its database already holds that date's games).
 */
export function startOnGameDate(scenario: Pick<Scenario, 'startMs' | 'timing'>, gameDate: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(gameDate) || Number.isNaN(Date.parse(`${gameDate}T00:00:00Z`))) {
    throw new RangeError(`a game date is YYYY-MM-DD, not ${JSON.stringify(gameDate)}`);
  }
  const days = Math.round((Date.parse(`${gameDate}T00:00:00Z`) - Date.parse(`${gameDateOf(scenario.startMs, scenario.timing)}T00:00:00Z`)) / DAY_MS);
  const startMs = scenario.startMs + days * DAY_MS;
  const actual = gameDateOf(startMs, scenario.timing);
  // Only a kickoff within an hour of midnight Eastern across a DST change could land elsewhere.
  if (actual !== gameDate) throw new RangeError(`moving the scenario's start to ${gameDate} puts its kickoff on ${actual}`);
  return startMs;
}

// ---------------------------------------------------------------------------------------------
// The game clock.

const QUARTER_S = 15 * 60;

export type GamePhase =
  | { kind: 'pre' }
  | { kind: 'live'; period: number; clockSeconds: number }
  | { kind: 'break'; period: number }
  | { kind: 'halftime' }
  | { kind: 'final' };

/** Sim second at which each part of the game starts. */
export function schedule(timing: Timing) {
  const m = 60;
  const q1 = timing.pregameMinutes * m;
  const q2 = q1 + QUARTER_S + timing.quarterBreakMinutes * m;
  const q3 = q2 + QUARTER_S + timing.halftimeMinutes * m;
  const q4 = q3 + QUARTER_S + timing.quarterBreakMinutes * m;
  const final = q4 + QUARTER_S;
  return { quarters: [q1, q2, q3, q4] as const, final, settle: final + timing.settleAfterMinutes * m };
}

export function phaseAt(t: number, timing: Timing): GamePhase {
  const s = schedule(timing);
  if (t < s.quarters[0]) return { kind: 'pre' };
  if (t >= s.final) return { kind: 'final' };
  for (let i = 3; i >= 0; i--) {
    const start = s.quarters[i]!;
    if (t >= start) {
      const into = t - start;
      if (into < QUARTER_S) return { kind: 'live', period: i + 1, clockSeconds: Math.max(0, QUARTER_S - Math.floor(into)) };
      return i === 1 ? { kind: 'halftime' } : { kind: 'break', period: i + 1 };
    }
  }
  return { kind: 'pre' };
}

/** Elapsed game minutes (0–60) at sim second t: breaks hold the minute they follow. */
export function gameMinuteAt(t: number, timing: Timing): number {
  const p = phaseAt(t, timing);
  if (p.kind === 'pre') return 0;
  if (p.kind === 'final') return 60;
  if (p.kind === 'halftime') return 30;
  if (p.kind === 'break') return p.period * 15;
  return (p.period - 1) * 15 + (QUARTER_S - p.clockSeconds) / 60;
}

/** The sim second of a script moment. */
export function momentTime(at: string, timing: Timing): number {
  const s = schedule(timing);
  const text = at.trim().toUpperCase();
  if (text === 'PRE') return 0;
  if (text === 'FINAL') return s.final;
  const clock = (mmss: string) => {
    const m = /^(\d{1,2}):(\d{2})$/.exec(mmss);
    if (!m || Number(m[2]) >= 60) throw new Error(`bad moment ${JSON.stringify(at)}: clock ${JSON.stringify(mmss)} is not M:SS`);
    return Number(m[1]) * 60 + Number(m[2]);
  };
  let m = /^Q([1-4])\s+(\d{1,2}:\d{2})$/.exec(text);
  if (m) {
    const remaining = clock(m[2]!);
    if (remaining > QUARTER_S) throw new Error(`bad moment ${JSON.stringify(at)}: a quarter has 15:00, not ${m[2]}`);
    return s.quarters[Number(m[1]) - 1]! + QUARTER_S - remaining;
  }
  m = /^(END Q1|HT|END Q3)\s+\+(\d{1,2}:\d{2})$/.exec(text);
  if (m) {
    const into = clock(m[2]!);
    const startOf = { 'END Q1': s.quarters[0] + QUARTER_S, HT: s.quarters[1] + QUARTER_S, 'END Q3': s.quarters[2] + QUARTER_S }[m[1] as 'HT'];
    const length = m[1] === 'HT' ? timing.halftimeMinutes * 60 : timing.quarterBreakMinutes * 60;
    if (into >= length) throw new Error(`${m[1]} lasts ${length / 60} min: ${at} is past it`);
    return startOf + into;
  }
  throw new Error(`bad moment ${JSON.stringify(at)}: use PRE, "Q1 15:00"…"Q4 0:00", "END Q1 +0:30", "HT +1:00", "END Q3 +0:30" or FINAL`);
}

// ---------------------------------------------------------------------------------------------
// The script, compiled: what the game and the market look like at any sim second.

interface CompiledMoment {
  t: number;
  at: string;
  score?: [number, number];
  p?: Decimal;
  bias?: Decimal;
  note?: string;
  liquidity?: z.infer<typeof liquidity>;
}

export interface MarketQuote {
  yesBid: Decimal;
  yesAsk: Decimal;
  depth: number;
  volume: number;
}

export interface GameSnapshot {
  phase: GamePhase;
  minute: number;
  homeScore: number;
  awayScore: number;
  /** P(home wins) the script says is true. */
  homeWinProbability: Decimal;
  /** The home market's YES quote (the away market's YES is the mirror: 1 − ask / 1 − bid). */
  home: MarketQuote;
  /** Notes of the moments passed so far, latest last. */
  lastNote: string | null;
}

const CENT = new Decimal('0.01');
const DEFAULT_SPREAD = new Decimal('0.02');
const DEFAULT_DEPTH = 1000;
const DEFAULT_VOLUME = 250_000;
/** The noise and the depth refresh step, sim seconds. */
export const NOISE_STEP_SECONDS = 15;

export interface CompiledGame {
  script: GameScript;
  moments: CompiledMoment[];
  final: number;
  snapshot(t: number): GameSnapshot;
  /** The score at the final whistle. */
  finalScore(): [number, number];
}

export function compileScript(script: GameScript, timing: Timing): CompiledGame {
  const moments: CompiledMoment[] = script.script.map((m, i) => {
    let t: number;
    try {
      t = momentTime(m.at, timing);
    } catch (error) {
      throw new Error(`${script.away.abbr} at ${script.home.abbr}: script[${i}]: ${(error as Error).message}`);
    }
    const p = m.homeWinProbability === undefined ? undefined : new Decimal(m.homeWinProbability);
    if (p && (p.lt(0) || p.gt(1))) throw new Error(`${script.away.abbr} at ${script.home.abbr}: script[${i}]: homeWinProbability must be 0–1`);
    return {
      t, at: m.at, score: m.score, p, bias: m.marketBias === undefined ? undefined : new Decimal(m.marketBias), note: m.note, liquidity: m.liquidity,
    };
  });
  for (let i = 1; i < moments.length; i++) {
    if (moments[i]!.t < moments[i - 1]!.t) {
      throw new Error(`${script.away.abbr} at ${script.home.abbr}: script[${i}] (${moments[i]!.at}) comes before script[${i - 1}] (${moments[i - 1]!.at})`);
    }
  }
  if (!moments.some((m) => m.p)) throw new Error(`${script.away.abbr} at ${script.home.abbr}: no moment sets homeWinProbability`);
  const final = schedule(timing).final;
  const amplitude = new Decimal(script.noise.amplitude);

  /** Linear between the moments that set `pick`, held before the first and after the last. */
  const interpolate = (t: number, pick: (m: CompiledMoment) => Decimal | undefined, fallback: Decimal): Decimal => {
    let before: CompiledMoment | undefined;
    let after: CompiledMoment | undefined;
    for (const m of moments) {
      if (pick(m) === undefined) continue;
      if (m.t <= t) before = m;
      else if (!after) after = m;
    }
    if (!before && !after) return fallback;
    if (!before) return pick(after!)!;
    if (!after || after.t === before.t) return pick(before)!;
    const f = new Decimal(t - before.t).div(after.t - before.t);
    return pick(before)!.plus(pick(after)!.minus(pick(before)!).times(f));
  };
  const held = <T>(t: number, pick: (m: CompiledMoment) => T | undefined, fallback: T): T => {
    let value = fallback;
    for (const m of moments) if (m.t <= t && pick(m) !== undefined) value = pick(m)!;
    return value;
  };

  return {
    script,
    moments,
    final,
    snapshot(t: number): GameSnapshot {
      const [homeScore, awayScore] = held(t, (m) => m.score, [0, 0] as [number, number]);
      const p = interpolate(t, (m) => m.p, new Decimal('0.5'));
      const bias = interpolate(t, (m) => m.bias, new Decimal(0));
      const spread = new Decimal(held(t, (m) => m.liquidity?.spread, DEFAULT_SPREAD.toFixed()));
      const depth = held(t, (m) => m.liquidity?.depth, DEFAULT_DEPTH);
      const volume = held(t, (m) => m.liquidity?.volume, DEFAULT_VOLUME);
      const noise = amplitude.times(unitNoise(script.noise.seed, `${script.away.abbr}${script.home.abbr}`, Math.floor(t / NOISE_STEP_SECONDS)));
      let mid = p.plus(bias).plus(noise);
      let yesBid: Decimal;
      let yesAsk: Decimal;
      if (t >= final) {
        // The whistle: the book goes to the winner (the market closes; settlement follows).
        const homeWon = homeScore > awayScore;
        yesBid = homeWon ? new Decimal('0.99') : CENT;
        yesAsk = homeWon ? new Decimal('0.99') : CENT;
      } else {
        mid = Decimal.max(new Decimal('0.03'), Decimal.min(new Decimal('0.97'), mid));
        yesBid = mid.minus(spread.div(2)).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
        yesBid = Decimal.max(CENT, yesBid);
        yesAsk = Decimal.min(new Decimal('0.99'), yesBid.plus(spread));
      }
      const last = [...moments].reverse().find((m) => m.t <= t && m.note);
      return {
        phase: phaseAt(t, timing), minute: gameMinuteAt(t, timing), homeScore, awayScore, homeWinProbability: p,
        home: { yesBid, yesAsk, depth, volume }, lastNote: last?.note ?? null,
      };
    },
    finalScore() {
      return held(final, (m) => m.score, [0, 0] as [number, number]);
    },
  };
}

/** A deterministic number in [−1, 1] from (seed, key, step): the same run prices the same way. */
export function unitNoise(seed: number, key: string, step: number): Decimal {
  const h = createHash('sha256').update(`${seed}:${key}:${step}`).digest();
  return new Decimal(h.readUInt32BE(0)).div(0xffffffff).times(2).minus(1);
}
