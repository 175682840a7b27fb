import { SERIES_SPORT } from './kalshiHierarchy';

/**
 * Linking a scoreboard game to its exchange event (schema decision D13): done once per game, by
 * this documented rule, and stored on the game's identity with the rule's name.
 *
 * Rule `kalshi-event:date(ET)+away+home`: a game matches a Kalshi event when
 *   1. the event belongs to the sport's game series (KXNFLGAME for nfl, see `GAME_SERIES`),
 *   2. the event's `metadata.game_date` equals the game's start date in US Eastern time
 *      (Kalshi dates its game tickers in America/New_York: a 20:20 ET kickoff is 00:20Z the next
 *      day, and belongs to the ET day), and
 *   3. the event's `metadata.teams` equals the away code followed by the home code, each ESPN
 *      abbreviation mapped to Kalshi's code through `TEAM_CODE_ALIASES`.
 *
 * Exactly one candidate: matched. None: 'unmatched' (normal: not every game has markets, or its
 * markets are not listed yet; it is tried again on the next run). Several: 'ambiguous', reported
 * with the candidates and never guessed.
 *
 * Pure: no I/O, no clock.
 */
export const MATCH_RULE = 'kalshi-event:date(ET)+away+home';

/** The Kalshi game series of each sport (the inverse of SERIES_SPORT). */
export const GAME_SERIES: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(SERIES_SPORT).map(([series, sport]) => [sport, series])),
);

/**
 * ESPN abbreviation → Kalshi team code, per sport, for the teams whose codes differ; a team not
 * listed uses its ESPN abbreviation unchanged. Extend this table when a game stays unmatched
 * because a code differs (the unmatched report shows the event key that was looked for).
 */
export const TEAM_CODE_ALIASES: Readonly<Record<string, Readonly<Record<string, string>>>> = Object.freeze({
  nfl: Object.freeze({
    WSH: 'WAS', // Washington Commanders
  }),
  ncaaf: Object.freeze({}),
  nba: Object.freeze({
    GS: 'GSW', // Golden State Warriors
    NY: 'NYK', // New York Knicks
    NO: 'NOP', // New Orleans Pelicans
    SA: 'SAS', // San Antonio Spurs
    UTAH: 'UTA', // Utah Jazz
    WSH: 'WAS', // Washington Wizards
  }),
});

/** What the rule needs of a game. */
export interface MatchableGame {
  sport: string;
  startTime: Date;
  /** ESPN abbreviations. */
  homeTeam: string;
  awayTeam: string;
}

/** What the rule needs of a stored event (a row of `events`). */
export interface CandidateEvent {
  eventId: string;
  seriesId: string | null | undefined;
  metadata: Record<string, unknown> | null | undefined;
}

/** The event key a game is looked up by. */
export interface GameEventKey {
  seriesId: string;
  /** YYYY-MM-DD, America/New_York. */
  gameDate: string;
  /** Kalshi away code + Kalshi home code, e.g. KCDAL. */
  teams: string;
}

export type MatchOutcome =
  | { status: 'matched'; eventId: string }
  | { status: 'unmatched'; key?: GameEventKey }
  | { status: 'ambiguous'; key: GameEventKey; candidates: string[] };

const EASTERN = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar date of an instant in America/New_York, as YYYY-MM-DD. */
export function easternDate(instant: Date): string {
  if (Number.isNaN(instant.getTime())) throw new RangeError('easternDate: invalid date');
  const parts = EASTERN.formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** The Kalshi code of an ESPN team abbreviation in a sport. */
export function kalshiTeamCode(sport: string, espnCode: string): string {
  const code = espnCode.trim().toUpperCase();
  return TEAM_CODE_ALIASES[sport]?.[code] ?? code;
}

/** The event key of a game; undefined when the sport has no Kalshi game series. */
export function gameEventKey(game: MatchableGame): GameEventKey | undefined {
  const seriesId = GAME_SERIES[game.sport];
  if (seriesId === undefined) return undefined;
  return {
    seriesId,
    gameDate: easternDate(game.startTime),
    teams: kalshiTeamCode(game.sport, game.awayTeam) + kalshiTeamCode(game.sport, game.homeTeam),
  };
}

/** Whether an event carries the key (series, ET date, away+home codes). */
export function eventHasKey(event: CandidateEvent, key: GameEventKey): boolean {
  const metadata = event.metadata;
  if (event.seriesId !== key.seriesId || metadata == null) return false;
  const teams = metadata.teams;
  return (
    metadata.game_date === key.gameDate && typeof teams === 'string' && teams.trim().toUpperCase() === key.teams
  );
}

/** Applies the rule to one game over the candidate events (any superset of the relevant ones). */
export function matchGame(game: MatchableGame, events: readonly CandidateEvent[]): MatchOutcome {
  const key = gameEventKey(game);
  if (key === undefined) return { status: 'unmatched' };
  const hits = [...new Set(events.filter((e) => eventHasKey(e, key)).map((e) => e.eventId))].sort();
  if (hits.length === 1) return { status: 'matched', eventId: hits[0]! };
  if (hits.length === 0) return { status: 'unmatched', key };
  return { status: 'ambiguous', key, candidates: hits };
}
