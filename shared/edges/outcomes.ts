import type { ContractSide } from '../domain/edge';
import { parseGameEventTicker, SERIES_SPORT } from '../ingestion/kalshiHierarchy';

/**
 * Which contracts are one bet. A game on Kalshi is one event (KXNFLGAME-26NOV27KCDAL) with two
 * winner markets (…-KC, …-DAL): exactly one team wins, and a tie settles both at $0.50, so in
 * every result YES on one team's market pays what NO on the other team's market pays. Buying
 * KC YES and DAL NO is one outcome held twice; KC YES and DAL YES (or KC YES and KC NO) are
 * opposite outcomes of the same game.
 *
 * How a market is known to be a winner leg of a two-team game (no guessing):
 *   - its event belongs to a game series of a two-team sport (`SERIES_SPORT`: KXNFLGAME,
 *     KXNCAAFGAME, KXNBAGAME: an event lists exactly the two team markets, no tie market);
 *   - the event ticker reads `<SERIES>-<YYMONDD><AWAY><HOME>` and the market ticker is
 *     `<EVENT>-<TEAM>` with TEAM one of the two codes (the other is the rest of AWAY+HOME; a
 *     split that reads two ways is not guessed: the market stays on its own);
 *   - the venue has not said otherwise: Kalshi's event field `mutually_exclusive` (stored in
 *     `events.metadata` by ingestion) set to false disables the mapping; absent (events ingested
 *     before it was stored, hand-made test events) the pattern decides.
 * Any other market is its own group: only its YES and NO are related (opposite outcomes).
 *
 * Pure: no I/O.
 */

/** What the mapping needs of a market (a row of current_markets with its event's series). */
export interface OutcomeMarket {
  marketId: string;
  ticker: string | null;
  eventId: string | null;
  seriesId: string | null;
  /** The Kalshi event's `mutually_exclusive`, when ingested. */
  mutuallyExclusive?: boolean | null;
}

/** One contract: a market and the side bought. */
export interface Leg {
  market: OutcomeMarket;
  side: ContractSide;
}

/** A winner market of a two-team game: the team its YES pays on, and the other team. */
export interface WinnerLeg {
  eventId: string;
  team: string;
  otherTeam: string;
}

/**
 * same: the same contract. equivalent: another contract paying exactly the same in every result
 * (one outcome, held twice). opposite: the other outcome of the same game or market (a hedge).
 */
export type LegRelation = 'same' | 'equivalent' | 'opposite' | 'unrelated';

export function winnerLeg(market: OutcomeMarket): WinnerLeg | null {
  const { eventId, seriesId, ticker } = market;
  if (!eventId || !seriesId || !ticker) return null;
  if (!Object.hasOwn(SERIES_SPORT, seriesId) || market.mutuallyExclusive === false) return null;
  if (!eventId.startsWith(`${seriesId}-`) || !ticker.startsWith(`${eventId}-`)) return null;
  const teams = parseGameEventTicker(eventId)?.teams;
  if (!teams) return null;
  const team = ticker.slice(eventId.length + 1);
  const splits = new Set<string>();
  if (team.length > 0 && team.length < teams.length) {
    if (teams.startsWith(team)) splits.add(teams.slice(team.length));
    if (teams.endsWith(team)) splits.add(teams.slice(0, teams.length - team.length));
  }
  if (splits.size !== 1) return null;
  return { eventId, team, otherTeam: [...splits][0]! };
}

/**
 * The group of contracts that are one bet on one thing: the game for a winner leg, else the
 * market itself. A strategy takes at most one position per group.
 */
export function betGroupOf(market: OutcomeMarket): string {
  const leg = winnerLeg(market);
  return leg ? `event:${leg.eventId}` : `market:${market.marketId}`;
}

/** Contracts with equal keys pay the same in every result: `event:E:wins:TEAM`, else `market:M:SIDE`. */
export function outcomeKeyOf(leg: Leg): string {
  const w = winnerLeg(leg.market);
  if (!w) return `market:${leg.market.marketId}:${leg.side}`;
  return `event:${w.eventId}:wins:${leg.side === 'yes' ? w.team : w.otherTeam}`;
}

export function legRelation(a: Leg, b: Leg): LegRelation {
  if (a.market.marketId === b.market.marketId) return a.side === b.side ? 'same' : 'opposite';
  if (betGroupOf(a.market) !== betGroupOf(b.market) || !winnerLeg(a.market) || !winnerLeg(b.market)) return 'unrelated';
  return outcomeKeyOf(a) === outcomeKeyOf(b) ? 'equivalent' : 'opposite';
}

/**
 * The first held contract (of one strategy) that makes an entry on `leg` a second bet on its game:
 * the same outcome on another market, or the opposite outcome. Null: no conflict (nothing held
 * there, or only `leg` itself, which an entry may increase).
 */
export function heldConflict<T extends Leg>(held: readonly T[], leg: Leg): { leg: T; relation: 'equivalent' | 'opposite' } | null {
  for (const h of held) {
    const relation = legRelation(leg, h);
    if (relation === 'equivalent' || relation === 'opposite') return { leg: h, relation };
  }
  return null;
}

/** Why an entry on `leg` is refused while `held` is held (the scan and the last look say the same). */
export function heldConflictReason(leg: Leg, held: { leg: Leg; relation: 'equivalent' | 'opposite' }): string {
  return held.relation === 'equivalent'
    ? `this strategy already holds ${describeLeg(held.leg)}, the same outcome as ${describeLeg(leg)}: one position per outcome`
    : `this strategy holds ${describeLeg(held.leg)}, the opposite outcome of ${describeLeg(leg)} in the same game: `
      + 'it does not bet against its own position (the exit rules take a position off)';
}

/** "KXNFLGAME-26NOV27KCDAL-KC YES" */
export function describeLeg(leg: Leg): string {
  return `${leg.market.ticker ?? leg.market.marketId} ${leg.side.toUpperCase()}`;
}

/** The event's `mutually_exclusive` as stored in events.metadata (JSON), or null when absent. */
export function mutuallyExclusiveOf(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}
