import { kalshiTeamCode } from '../ingestion/gameMatching';
import type { ModelInput } from './types';

/**
 * Live game state → the (state descriptor, value bucket) coordinates of a probability matrix cell.
 * Pure: no I/O, no clock.
 *
 * State descriptors (football: NFL, NCAAF; basketball: NBA)
 *   'pregame'                      status scheduled/pregame (the score is taken as 0–0)
 *   'q1' | 'q2' | 'q3' | 'q4'      the middle of a regulation period
 *   'end_q1' | 'halftime' | 'end_q3'
 *                                  the END WINDOW of Q1, Q2, Q3: the last `endWindowSeconds` of the
 *                                  period, bounds included (clock ≤ 2:00 in football, ≤ 1:00 in
 *                                  basketball), and the break after it ('Halftime' period or
 *                                  status 'halftime')
 *   'overtime'                     any overtime period ('OT', 'OT2', '2OT'…); no clock needed
 *
 * The clock rule: football's window is the two-minute warning (2:00 is already "end of period":
 * teams manage the clock from there and few possessions remain); basketball's window is one
 * minute (2:00 of NBA play is still ~4 possessions each). Q4 has no end state: the whole fourth
 * quarter is 'q4' (a matrix that needs late-game detail would add descriptors in a new version).
 * A period's first second (e.g. Q2 15:00) is 'q2', not 'end_q1'.
 *
 * Value buckets by the leader's margin (absolute score difference)
 *   football   'tied', 'lead_1_3', 'lead_4_7', 'lead_8_10', 'lead_11_14', 'lead_15_21', 'lead_22_plus'
 *              (field goal, touchdown, TD+FG, two TDs, three TDs, more: the scoring units of football)
 *   basketball 'tied', 'lead_1_5', 'lead_6_10', 'lead_11_15', 'lead_16_20', 'lead_21_plus'
 *
 * Possession is accepted (it is part of the live state) but does not enter the v1 coordinates;
 * it is returned so a model can record it, and a later matrix version can use it as a situational
 * factor.
 *
 * Clocks are parsed strictly: 'M:SS' or 'MM:SS' (seconds 00–59, at most the period's length),
 * plus ESPN's sub-minute form 'SS.t' (e.g. '45.2', used in basketball's last minute of a period).
 * Anything else ('7:5', '7:60', ' 7:05', '-1:00', '1:02:03', '16:00' in football) is refused.
 */

export type Leader = 'home' | 'away' | 'tied';

export type StateDescriptor =
  | 'pregame'
  | 'q1'
  | 'end_q1'
  | 'q2'
  | 'halftime'
  | 'q3'
  | 'end_q3'
  | 'q4'
  | 'overtime';

export interface GameStateMapping {
  stateDescriptor: StateDescriptor;
  valueBucket: string;
  leader: Leader;
  /** Absolute score difference. */
  margin: number;
  possession: 'home' | 'away' | null;
}

/** What the mapping needs of a game (the ModelInput game shape fits). */
export type GameStateInput = Pick<
  NonNullable<ModelInput['game']>,
  'sport' | 'period' | 'timeRemaining' | 'homeScore' | 'awayScore' | 'possession' | 'status'
>;

export class GameStateError extends Error {
  override name = 'GameStateError';
}

interface Bucket {
  /** Inclusive margin bounds; `max` undefined = no upper bound. */
  min: number;
  max?: number;
  name: string;
}

export interface SportRules {
  /** Length of a regulation period in seconds. */
  periodSeconds: number;
  /** Clock at or below which a period counts as ended (the end window). */
  endWindowSeconds: number;
  /** Buckets of the leader's margin (margin ≥ 1), ascending; 'tied' is margin 0. */
  buckets: readonly Bucket[];
}

const FOOTBALL: SportRules = {
  periodSeconds: 15 * 60,
  endWindowSeconds: 2 * 60,
  buckets: [
    { min: 1, max: 3, name: 'lead_1_3' },
    { min: 4, max: 7, name: 'lead_4_7' },
    { min: 8, max: 10, name: 'lead_8_10' },
    { min: 11, max: 14, name: 'lead_11_14' },
    { min: 15, max: 21, name: 'lead_15_21' },
    { min: 22, name: 'lead_22_plus' },
  ],
};

const BASKETBALL: SportRules = {
  periodSeconds: 12 * 60,
  endWindowSeconds: 60,
  buckets: [
    { min: 1, max: 5, name: 'lead_1_5' },
    { min: 6, max: 10, name: 'lead_6_10' },
    { min: 11, max: 15, name: 'lead_11_15' },
    { min: 16, max: 20, name: 'lead_16_20' },
    { min: 21, name: 'lead_21_plus' },
  ],
};

/** Sports the mapping supports (the `sport` of game_states). */
export const SPORT_RULES: Readonly<Record<string, SportRules>> = Object.freeze({
  nfl: FOOTBALL,
  ncaaf: FOOTBALL,
  nba: BASKETBALL,
});

function rulesOf(sport: string): SportRules {
  const rules = SPORT_RULES[sport.toLowerCase()];
  if (!rules) throw new GameStateError(`unsupported sport ${JSON.stringify(sport)} (supported: ${Object.keys(SPORT_RULES).join(', ')})`);
  return rules;
}

const MM_SS = /^(\d{1,2}):([0-5]\d)$/;
const SUB_MINUTE = /^([0-5]?\d)\.(\d)$/;

/**
 * Seconds left on a period clock. Accepts 'M:SS' / 'MM:SS' and ESPN's sub-minute 'SS.t'; throws
 * GameStateError on anything else, or on more than `maxSeconds` when given.
 */
export function parseClock(text: string, maxSeconds?: number): number {
  let seconds: number;
  const mmss = MM_SS.exec(text);
  const sub = mmss ? null : SUB_MINUTE.exec(text);
  if (mmss) {
    seconds = Number(mmss[1]) * 60 + Number(mmss[2]);
  } else if (sub) {
    seconds = Number(sub[1]) + Number(sub[2]) / 10;
  } else {
    throw new GameStateError(`time remaining ${JSON.stringify(text)} is not a MM:SS clock`);
  }
  if (maxSeconds !== undefined && seconds > maxSeconds) {
    throw new GameStateError(`time remaining ${JSON.stringify(text)} exceeds the period length (${formatClock(maxSeconds)})`);
  }
  return seconds;
}

function formatClock(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** The value bucket of a margin (absolute score difference) in a sport. */
export function valueBucket(sport: string, margin: number): string {
  if (!Number.isSafeInteger(margin) || margin < 0) throw new GameStateError(`margin must be a non-negative integer, got ${margin}`);
  if (margin === 0) return 'tied';
  const bucket = rulesOf(sport).buckets.find((b) => margin >= b.min && (b.max === undefined || margin <= b.max));
  // The last bucket has no upper bound, so every margin ≥ 1 finds one.
  return bucket!.name;
}

const QUARTER = /^Q([1-4])$/i;
const OVERTIME = /^(OT\d*|\d+OT)$/i;
const MID: Record<number, StateDescriptor> = { 1: 'q1', 2: 'q2', 3: 'q3', 4: 'q4' };
const END: Record<number, StateDescriptor | undefined> = { 1: 'end_q1', 2: 'halftime', 3: 'end_q3' };

function score(value: number | null, side: string): number {
  if (value === null) throw new GameStateError(`${side} score is missing`);
  if (!Number.isSafeInteger(value) || value < 0) throw new GameStateError(`${side} score must be a non-negative integer, got ${value}`);
  return value;
}

function descriptorOf(game: GameStateInput, rules: SportRules): StateDescriptor {
  if (game.status === 'scheduled' || game.status === 'pregame') return 'pregame';
  if (game.status === 'halftime') return 'halftime';
  if (game.status !== 'live') throw new GameStateError(`game is ${game.status}: it has no live state`);
  const period = game.period?.trim() ?? '';
  if (/^halftime$/i.test(period)) return 'halftime';
  if (OVERTIME.test(period)) return 'overtime';
  const quarter = QUARTER.exec(period);
  if (!quarter) throw new GameStateError(`unknown period ${JSON.stringify(game.period)}`);
  const n = Number(quarter[1]);
  if (game.timeRemaining === null) throw new GameStateError(`time remaining is missing in ${period}`);
  const seconds = parseClock(game.timeRemaining, rules.periodSeconds);
  const end = END[n];
  return end !== undefined && seconds <= rules.endWindowSeconds ? end : MID[n]!;
}

/**
 * Maps a game's state to matrix coordinates. Throws GameStateError when it cannot (unsupported
 * sport, game over or not played, unknown period, malformed clock, missing score of a live game).
 */
export function mapGameState(game: GameStateInput): GameStateMapping {
  const rules = rulesOf(game.sport);
  const stateDescriptor = descriptorOf(game, rules);
  const pregame = stateDescriptor === 'pregame';
  const home = pregame ? (game.homeScore ?? 0) : score(game.homeScore, 'home');
  const away = pregame ? (game.awayScore ?? 0) : score(game.awayScore, 'away');
  const margin = Math.abs(home - away);
  const leader: Leader = home > away ? 'home' : away > home ? 'away' : 'tied';
  return { stateDescriptor, valueBucket: valueBucket(game.sport, margin), leader, margin, possession: game.possession };
}

/**
 * Which side of the game a market's YES team is: the team code is compared case-insensitively
 * with the game's team abbreviations (ESPN's) and their Kalshi codes (`kalshiTeamCode`, e.g.
 * ESPN WSH = Kalshi WAS). Undefined when it is neither side or both.
 */
export function yesSide(
  yesTeam: string | null,
  game: Pick<NonNullable<ModelInput['game']>, 'sport' | 'homeTeam' | 'awayTeam'>,
): 'home' | 'away' | undefined {
  if (yesTeam === null) return undefined;
  const yes = yesTeam.trim().toUpperCase();
  if (yes === '') return undefined;
  const codes = (team: string) => new Set([team.trim().toUpperCase(), kalshiTeamCode(game.sport.toLowerCase(), team)]);
  const isHome = codes(game.homeTeam).has(yes);
  const isAway = codes(game.awayTeam).has(yes);
  if (isHome === isAway) return undefined;
  return isHome ? 'home' : 'away';
}

/** yesSide, or the reason a model cannot price the market (shared by every model type). */
export function resolveYesSide(
  yesTeam: string | null,
  game: Pick<NonNullable<ModelInput['game']>, 'sport' | 'homeTeam' | 'awayTeam'>,
): { side: 'home' | 'away' } | { skip: string } {
  const side = yesSide(yesTeam, game);
  if (side !== undefined) return { side };
  return {
    skip: yesTeam === null
      ? 'market has no YES team'
      : `YES team ${yesTeam} is neither the home team ${game.homeTeam} nor the away team ${game.awayTeam}`,
  };
}
