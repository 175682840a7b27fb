import * as z from 'zod';
import { HttpClient, type FailedAttempt, type RetryPolicy } from '../../http/httpClient';
import { deferredList, parseEach, parseStrict, type RejectedRecord } from '../../http/parse';
import type { TokenBucket } from '../../http/rateLimiter';

/**
 * ESPN scoreboard (unofficial public JSON, see the "ESPN scoreboard" section of external-apis.md):
 * GET {base}/{sport}/{league}/scoreboard?dates=YYYYMMDD. The feed is untrusted input: every event
 * is validated on its own, a bad one is rejected with the offending field's path and never costs
 * the others, and no number that reaches a snapshot can be NaN.
 */

export type League = 'nfl' | 'ncaaf' | 'nba';

export interface LeagueInfo {
  /** ESPN path segment: `{sport}/{league}`. */
  path: string;
  /** `sport` as stored in the database (game_states, game_identities). */
  sport: string;
  /** Football leagues carry down/distance/yard line in `competitions[0].situation`. */
  football: boolean;
}

export const ESPN_LEAGUES: Readonly<Record<League, LeagueInfo>> = Object.freeze({
  nfl: { path: 'football/nfl', sport: 'nfl', football: true },
  ncaaf: { path: 'football/college-football', sport: 'ncaaf', football: true },
  nba: { path: 'basketball/nba', sport: 'nba', football: false },
});

export type GameStatus = 'scheduled' | 'pregame' | 'live' | 'halftime' | 'final' | 'postponed' | 'cancelled';

/** One game as the feed saw it, shaped for `game_states`. */
export interface GameSnapshot {
  sport: string;
  externalGameId: string;
  startTime: Date;
  name: string;
  /** Team abbreviations. */
  homeTeam: string;
  awayTeam: string;
  homeTeamName: string;
  awayTeamName: string;
  homeScore: number | null;
  awayScore: number | null;
  /** 'Q1'..'Q4', 'OT' (any period after the 4th), 'Halftime', 'Final'; null before the game. */
  period: string | null;
  /** ESPN displayClock ('12:45') while the game is live; null otherwise. */
  timeRemaining: string | null;
  /** Who has the ball, while live and when the feed says so. */
  possession: 'home' | 'away' | null;
  status: GameStatus;
  /**
   * periodNumber, clockSeconds, statusName (e.g. STATUS_IN_PROGRESS); for football also down,
   * distance, yardLine, isRedZone, possessionTeamId, downDistanceText when present.
   */
  sportMetadata: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Schema of one event. Unknown fields are tolerated (and stripped); the fields used are checked.

const nonEmpty = z.string().trim().min(1, { message: 'must not be empty' });

/** ESPN's dates are ISO 8601, sometimes without seconds ("2024-09-08T17:00Z"). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const isoInstant = z
  .string()
  .refine((v) => ISO_INSTANT.test(v) && !Number.isNaN(Date.parse(v)), { message: 'not an ISO 8601 date-time' });

/** Scores come as strings; a non-negative integer, small enough to stay exact. */
const scoreString = z.string().regex(/^\d{1,6}$/, { message: 'score is not a non-negative integer' });

const teamSchema = z.object({
  id: nonEmpty.optional(),
  abbreviation: nonEmpty,
  displayName: nonEmpty,
});

const competitorSchema = z.object({
  homeAway: z.enum(['home', 'away']),
  team: teamSchema,
  score: scoreString.optional(),
});

const statusSchema = z.object({
  period: z.number().int().nonnegative().optional(),
  clock: z.number().nonnegative().optional(), // zod 4 numbers are finite
  displayClock: z.string().optional(),
  type: z.object({
    state: z.enum(['pre', 'in', 'post']),
    name: nonEmpty,
    completed: z.boolean(),
  }),
});

const situationSchema = z.object({
  down: z.number().int().optional(),
  distance: z.number().int().nonnegative().optional(),
  yardLine: z.number().int().min(0).max(100).optional(),
  isRedZone: z.boolean().optional(),
  possession: nonEmpty.optional(),
  downDistanceText: z.string().optional(),
});

const competitionSchema = z.object({
  competitors: z.array(competitorSchema).refine(
    (list) => list.filter((c) => c.homeAway === 'home').length === 1 && list.filter((c) => c.homeAway === 'away').length === 1,
    { message: 'needs exactly one home and one away competitor' },
  ),
  situation: situationSchema.optional(),
  status: statusSchema.optional(),
});

/** One element of the scoreboard's `events` array. */
export const espnEventSchema = z
  .object({
    id: nonEmpty,
    date: isoInstant,
    name: z.string().optional(),
    competitions: z.array(competitionSchema).min(1, { message: 'needs at least one competition' }),
    /** The event's status; competitions[0].status is used when it is absent. */
    status: statusSchema.optional(),
  })
  .superRefine((event, ctx) => {
    if (!event.status && !event.competitions[0]?.status) {
      ctx.addIssue({ code: 'custom', path: ['status'], message: 'missing (and no competitions[0].status)' });
    }
  });

export type EspnEvent = z.infer<typeof espnEventSchema>;

/** The scoreboard response: only `events` must be there; the rest (leagues, season, week) is ignored. */
const envelopeSchema = z.object({ events: deferredList() });

// ---------------------------------------------------------------------------------------------
// Mapping

const POSTPONED = new Set(['STATUS_POSTPONED']);
const CANCELLED = new Set(['STATUS_CANCELED', 'STATUS_CANCELLED']);

function statusOf(state: 'pre' | 'in' | 'post', name: string): GameStatus {
  // ESPN reports postponed/cancelled games as 'pre' (and sometimes 'post'): the name decides.
  if (POSTPONED.has(name)) return 'postponed';
  if (CANCELLED.has(name)) return 'cancelled';
  if (state === 'pre') return 'scheduled';
  if (state === 'in') return name === 'STATUS_HALFTIME' ? 'halftime' : 'live';
  return 'final';
}

function periodOf(status: GameStatus, periodNumber: number | undefined): string | null {
  if (status === 'halftime') return 'Halftime';
  if (status === 'final') return 'Final';
  if (status !== 'live' || periodNumber === undefined || periodNumber < 1) return null;
  return periodNumber > 4 ? 'OT' : `Q${periodNumber}`;
}

/** A validated score string as a number (validation guarantees digits only: never NaN). */
function scoreOf(score: string | undefined): number | null {
  return score === undefined ? null : Number(score);
}

/** Maps one validated event to a snapshot. Pure; never throws on a validated event. */
export function toGameSnapshot(league: League, event: EspnEvent): GameSnapshot {
  const info = ESPN_LEAGUES[league];
  const competition = event.competitions[0]!;
  const home = competition.competitors.find((c) => c.homeAway === 'home')!;
  const away = competition.competitors.find((c) => c.homeAway === 'away')!;
  const eventStatus = (event.status ?? competition.status)!;

  const status = statusOf(eventStatus.type.state, eventStatus.type.name);
  const situation = competition.situation;

  let possession: GameSnapshot['possession'] = null;
  if (status === 'live' && situation?.possession !== undefined) {
    if (home.team.id !== undefined && situation.possession === home.team.id) possession = 'home';
    else if (away.team.id !== undefined && situation.possession === away.team.id) possession = 'away';
  }

  const sportMetadata: Record<string, unknown> = { statusName: eventStatus.type.name };
  if (eventStatus.period !== undefined) sportMetadata.periodNumber = eventStatus.period;
  if (eventStatus.clock !== undefined) sportMetadata.clockSeconds = eventStatus.clock;
  if (info.football && situation) {
    // ESPN sends down -1 between plays (kickoffs, extra points): no down then.
    if (situation.down !== undefined && situation.down >= 1) sportMetadata.down = situation.down;
    if (situation.distance !== undefined) sportMetadata.distance = situation.distance;
    if (situation.yardLine !== undefined) sportMetadata.yardLine = situation.yardLine;
    if (situation.isRedZone !== undefined) sportMetadata.isRedZone = situation.isRedZone;
    if (situation.possession !== undefined) sportMetadata.possessionTeamId = situation.possession;
    if (situation.downDistanceText) sportMetadata.downDistanceText = situation.downDistanceText;
  }

  const name = event.name?.trim() || `${away.team.displayName} at ${home.team.displayName}`;

  return {
    sport: info.sport,
    externalGameId: event.id,
    startTime: new Date(event.date),
    name,
    homeTeam: home.team.abbreviation,
    awayTeam: away.team.abbreviation,
    homeTeamName: home.team.displayName,
    awayTeamName: away.team.displayName,
    homeScore: scoreOf(home.score),
    awayScore: scoreOf(away.score),
    period: periodOf(status, eventStatus.period),
    timeRemaining: status === 'live' && eventStatus.displayClock ? eventStatus.displayClock : null,
    possession,
    status,
    sportMetadata,
  };
}

// ---------------------------------------------------------------------------------------------
// Client

export const ESPN_BASE_URL = 'https://site.api.espn.com/apis/site/v2/sports';

export interface EspnScoreboardClientOptions {
  /** Default https://site.api.espn.com/apis/site/v2/sports. */
  baseUrl?: string;
  /** Per attempt; default 10 000 ms. */
  timeoutMs?: number;
  rateLimit?: TokenBucket;
  retry?: Partial<RetryPolicy>;
  onFailedAttempt?: (failure: FailedAttempt) => void;
}

export interface ScoreboardResult {
  games: GameSnapshot[];
  rejected: RejectedRecord[];
}

const SOURCE = 'espn';

function checkDate(date: string): void {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
  const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (!match || probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) {
    throw new RangeError(`ESPN scoreboard date must be YYYYMMDD, got ${JSON.stringify(date)}`);
  }
}

export class EspnScoreboardClient {
  private readonly http: HttpClient;

  constructor(options: EspnScoreboardClientOptions = {}) {
    this.http = new HttpClient({
      baseUrl: options.baseUrl ?? ESPN_BASE_URL,
      name: SOURCE,
      timeoutMs: options.timeoutMs ?? 10_000,
      retry: options.retry,
      rateLimit: options.rateLimit,
      onFailedAttempt: options.onFailedAttempt,
    });
  }

  /**
   * The league's scoreboard (today's per ESPN, or `date` as YYYYMMDD). Throws ApiError when the
   * request fails for good and PayloadError when the response has no `events` array; a bad event
   * comes back in `rejected` with the offending field's path.
   */
  async getScoreboard(league: League, date?: string): Promise<ScoreboardResult> {
    if (!Object.hasOwn(ESPN_LEAGUES, league)) throw new RangeError(`unknown league ${JSON.stringify(league)}`);
    if (date !== undefined) checkDate(date);
    const json = await this.http.get(`/${ESPN_LEAGUES[league].path}/scoreboard`, { dates: date });
    const envelope = parseStrict(SOURCE, envelopeSchema, json);
    const { items, rejected } = parseEach(SOURCE, espnEventSchema, envelope.events.items, 'events', 'id');
    return { games: items.map((event) => toGameSnapshot(league, event)), rejected };
  }
}
