import * as z from 'zod';
import { Decimal, ONE } from '../domain/decimal';
import { kalshiTeamCode } from '../ingestion/gameMatching';
import { resolveYesSide } from './gameState';
import type { ModelInput, ModelOutput, ModelType } from './types';
import { trainedThroughField } from './training';

/**
 * The Elo model: a pre-game win probability from team ratings.
 *
 *   P(home wins) = 1 / (1 + 10^(−(R_home + HA − R_away) / 400))
 *
 * with HA the home advantage in Elo points, computed in Decimal (decimal.js, 20 significant
 * digits) and rounded half-even to 4 decimals (the precision of every stored probability); then
 * P(YES) = P(home) or 1 − P(home) by the YES team's side. Half-even rounding is symmetric, so
 * round(1 − p) = 1 − round(p).
 *
 * Ratings are looked up by the game's team abbreviation, then by its Kalshi code; a team without a
 * rating has `initial_rating` (a fresh Elo system: everyone starts equal).
 *
 * It applies before the game (status scheduled/pregame) and also while it is live or at halftime.
 * Known limitation: live, it still answers the PRE-GAME probability — it ignores the score and the
 * clock (the basis says so: `ignoresScore: true`). Final, postponed and cancelled games are skipped.
 */

const rating = z.number().min(-10_000).max(10_000);

export const eloConfigSchema = z.strictObject({
  /** Team code → Elo rating. Teams not listed start at initial_rating. */
  ratings: z.record(z.string().min(1), rating).default({}),
  initial_rating: rating.default(1500),
  /** Rating change per unit of surprise (used when ratings are updated; see eloUpdate). */
  k_factor: z.number().positive().max(1000),
  /** Home-field advantage in Elo points (0 on a neutral site). */
  home_advantage: z.number().min(-1000).max(1000),
  /** The last data the version was fitted on (shared/models/training.ts): a backtest refuses windows before it. */
  trained_through: trainedThroughField,
});
export type EloModelConfig = z.infer<typeof eloConfigSchema>;

type RatingValue = number | string | Decimal;

const TEN = new Decimal(10);
const FOUR_HUNDRED = new Decimal(400);

/** Expected score of A against B: 1 / (1 + 10^(−(R_A + advantage − R_B)/400)), unrounded. */
export function eloExpected(ratingA: RatingValue, ratingB: RatingValue, advantageA: RatingValue = 0): Decimal {
  const diff = new Decimal(ratingA).plus(advantageA).minus(ratingB);
  return ONE.div(ONE.plus(Decimal.pow(TEN, diff.neg().div(FOUR_HUNDRED))));
}

export interface EloUpdateResult {
  /** A's expected score before the game. */
  expectedA: Decimal;
  /** New ratings: A gains k·(scoreA − expectedA), B loses the same (zero-sum). */
  ratingA: Decimal;
  ratingB: Decimal;
}

/**
 * One Elo update after a game. scoreA is 1 (A won), 0.5 (tie) or 0 (A lost); `advantageA`
 * (e.g. home advantage when A is at home) enters the expectation only, never the stored ratings.
 */
export function eloUpdate(
  ratingA: RatingValue,
  ratingB: RatingValue,
  scoreA: RatingValue,
  k: RatingValue,
  advantageA: RatingValue = 0,
): EloUpdateResult {
  const score = new Decimal(scoreA);
  if (score.lt(0) || score.gt(1)) throw new RangeError(`eloUpdate: scoreA must be within 0..1, got ${score.toFixed()}`);
  const kd = new Decimal(k);
  if (kd.lte(0)) throw new RangeError(`eloUpdate: k must be positive, got ${kd.toFixed()}`);
  const expectedA = eloExpected(ratingA, ratingB, advantageA);
  const delta = kd.times(score.minus(expectedA));
  return { expectedA, ratingA: new Decimal(ratingA).plus(delta), ratingB: new Decimal(ratingB).minus(delta) };
}

function ratingOf(config: EloModelConfig, sport: string, team: string): { rating: number; rated: boolean } {
  const own = config.ratings[team] ?? config.ratings[team.toUpperCase()] ?? config.ratings[kalshiTeamCode(sport.toLowerCase(), team)];
  return own === undefined ? { rating: config.initial_rating, rated: false } : { rating: own, rated: true };
}

const APPLIES = new Set(['scheduled', 'pregame', 'live', 'halftime']);

function eloProbability(config: EloModelConfig, input: ModelInput): ModelOutput {
  const { game } = input;
  if (!game) return { skip: 'no game is linked to the market' };
  if (!APPLIES.has(game.status)) return { skip: `game is ${game.status}: the Elo model applies before and during a game only` };
  const resolved = resolveYesSide(input.market.yesTeam, game);
  if ('skip' in resolved) return resolved;
  const { side } = resolved;
  const home = ratingOf(config, game.sport, game.homeTeam);
  const away = ratingOf(config, game.sport, game.awayTeam);
  const pHome = eloExpected(home.rating, away.rating, config.home_advantage).toDecimalPlaces(4, Decimal.ROUND_HALF_EVEN);
  return {
    p: side === 'home' ? pHome : ONE.minus(pHome),
    basis: {
      homeRating: home.rating,
      awayRating: away.rating,
      homeRated: home.rated,
      awayRated: away.rated,
      homeAdvantage: config.home_advantage,
      pHome: pHome.toFixed(4),
      yesSide: side,
      ...(game.status === 'live' || game.status === 'halftime' ? { ignoresScore: true } : {}),
    },
  };
}

export const eloModel: ModelType<EloModelConfig> = {
  type: 'elo',
  configSchema: eloConfigSchema,
  probability: eloProbability,
};
