import type pg from 'pg';
import type { EventStatus } from '../db/repositories/events';
import { OperationsRepository, type HealthStatus } from '../db/repositories/operations';
import { withTransaction, type Queryable } from '../db/transaction';
import { GAME_STATES } from '../db/versionedTables';
import { versionedUpsert, type SnapshotRow, type VersionedUpsertResult } from '../db/versionedUpsert';
import type { EspnScoreboardClient, GameSnapshot, GameStatus, League } from '../feeds/espn/scoreboard';
import type { RejectedRecord } from '../http/parse';
import type { FailureLog } from './failureLog';
import { MATCH_RULE, gameEventKey, matchGame, type CandidateEvent, type GameEventKey } from './gameMatching';

export const INGEST_GAME_STATES_COMPONENT = 'ingest-game-states';

/** The api_errors name of the scoreboard feed. */
const ESPN_API = 'espn';

/**
 * The status a linked exchange event takes from its game. Halftime is a live game; pregame is
 * still scheduled.
 */
export const EVENT_STATUS_OF_GAME: Readonly<Record<GameStatus, EventStatus>> = Object.freeze({
  scheduled: 'scheduled',
  pregame: 'scheduled',
  live: 'live',
  halftime: 'live',
  final: 'final',
  postponed: 'postponed',
  cancelled: 'cancelled',
});

export interface IngestGameStatesDeps {
  pool: pg.Pool;
  espn: EspnScoreboardClient;
  /** Where the ESPN client reports failed attempts (its onFailedAttempt hook, `failures.hook('espn')`). */
  failures: FailureLog;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export interface IngestGameStatesOptions {
  leagues: readonly League[];
  /** Scoreboard day as YYYYMMDD; ESPN's current day when absent. */
  date?: string;
}

export interface UnmatchedGame {
  /** `sport:external_game_id`. */
  game: string;
  /** ESPN's name of the game ("Washington Commanders at Tampa Bay Buccaneers"). */
  name: string;
  reason: 'unmatched' | 'ambiguous';
  /** The events that all fit the rule (ambiguous only). */
  candidates?: string[];
  /** The event key looked for, `SERIES date AWAYHOME` (absent when the sport has no game series). */
  lookedFor?: string;
}

export interface IngestGameStatesResult {
  status: HealthStatus;
  /** Valid games fetched (after de-duplication). */
  games: number;
  versions: Omit<VersionedUpsertResult, 'versions'>;
  /** Games linked to their event by this run (a link is made once, see gameMatching.ts). */
  matched: Array<{ game: string; eventId: string }>;
  /** Games of this run linked to an event, whether by this run or an earlier one. */
  linked: number;
  /** Games still without an event after this run. */
  unmatched: UnmatchedGame[];
  /** Linked events whose status changed. */
  eventsUpdated: number;
  rejected: RejectedRecord[];
  errors: string[];
}

const gameKey = (sport: string, externalGameId: string) => `${sport}:${externalGameId}`;
const describeKey = (key: GameEventKey) => `${key.seriesId} ${key.gameDate} ${key.teams}`;

function snapshotRow(game: GameSnapshot, eventId: string | null): SnapshotRow {
  return {
    sport: game.sport,
    external_game_id: game.externalGameId,
    event_id: eventId,
    home_team: game.homeTeam,
    away_team: game.awayTeam,
    home_score: game.homeScore,
    away_score: game.awayScore,
    period: game.period,
    time_remaining: game.timeRemaining,
    possession: game.possession,
    status: game.status,
    sport_metadata: game.sportMetadata,
  };
}

interface Written {
  versions: VersionedUpsertResult;
  links: Map<string, string>;
  matched: Array<{ game: string; eventId: string }>;
  unmatched: UnmatchedGame[];
  eventsUpdated: number;
}

/**
 * Creates or refreshes the games' identities (start time and teams, written only when they
 * change) and returns each game's stored event link. The identity rows stay locked until the
 * transaction ends: two overlapping runs cannot both match the same game.
 */
async function lockIdentities(client: Queryable, games: readonly GameSnapshot[]): Promise<Map<string, string | null>> {
  const sports = games.map((g) => g.sport);
  const ids = games.map((g) => g.externalGameId);
  await client.query(
    `INSERT INTO game_identities (sport, external_game_id, start_time, home_team, away_team)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[])
     ON CONFLICT (sport, external_game_id) DO UPDATE SET
       start_time = EXCLUDED.start_time, home_team = EXCLUDED.home_team, away_team = EXCLUDED.away_team
     WHERE (game_identities.start_time, game_identities.home_team, game_identities.away_team)
       IS DISTINCT FROM (EXCLUDED.start_time, EXCLUDED.home_team, EXCLUDED.away_team)`,
    [sports, ids, games.map((g) => g.startTime.toISOString()), games.map((g) => g.homeTeam), games.map((g) => g.awayTeam)],
  );
  const { rows } = await client.query(
    `SELECT g.sport, g.external_game_id, g.event_id
     FROM game_identities g
     JOIN unnest($1::text[], $2::text[]) AS k(sport, external_game_id)
       ON g.sport = k.sport AND g.external_game_id = k.external_game_id
     ORDER BY g.sport, g.external_game_id
     FOR UPDATE OF g`,
    [sports, ids],
  );
  return new Map(rows.map((r) => [gameKey(r.sport, r.external_game_id), (r.event_id as string | null) ?? null]));
}

/** The Kalshi events that could match any of the keys, in one query. */
async function loadCandidates(client: Queryable, keys: readonly GameEventKey[]): Promise<CandidateEvent[]> {
  if (keys.length === 0) return [];
  const { rows } = await client.query(
    `SELECT event_id, series_id, metadata FROM events
     WHERE platform_id = 'kalshi' AND series_id = ANY($1::text[])
       AND metadata->>'game_date' = ANY($2::text[]) AND upper(metadata->>'teams') = ANY($3::text[])`,
    [[...new Set(keys.map((k) => k.seriesId))], [...new Set(keys.map((k) => k.gameDate))], [...new Set(keys.map((k) => k.teams))]],
  );
  return rows.map((r) => ({ eventId: r.event_id, seriesId: r.series_id, metadata: r.metadata }));
}

async function writeBatch(client: pg.PoolClient, games: readonly GameSnapshot[]): Promise<Written> {
  const stored = await lockIdentities(client, games);

  // Match the games without a link (new ones, and those unmatched so far); linked games keep theirs.
  const toMatch = games.filter((g) => stored.get(gameKey(g.sport, g.externalGameId)) == null);
  const keys = toMatch.map(gameEventKey).filter((k): k is GameEventKey => k !== undefined);
  const candidates = await loadCandidates(client, keys);
  const matched: Written['matched'] = [];
  const unmatched: UnmatchedGame[] = [];
  for (const game of toMatch) {
    const key = gameKey(game.sport, game.externalGameId);
    const outcome = matchGame(game, candidates);
    if (outcome.status === 'matched') matched.push({ game: key, eventId: outcome.eventId });
    else {
      unmatched.push({
        game: key,
        name: game.name,
        reason: outcome.status,
        ...(outcome.status === 'ambiguous' ? { candidates: outcome.candidates } : {}),
        ...(outcome.key ? { lookedFor: describeKey(outcome.key) } : {}),
      });
    }
  }
  if (matched.length > 0) {
    const byKey = new Map(games.map((g) => [gameKey(g.sport, g.externalGameId), g]));
    const linkedGames = matched.map((m) => byKey.get(m.game)!);
    await client.query(
      `UPDATE game_identities g SET event_id = u.event_id, match_rule = $4, matched_at = precog_now()
       FROM unnest($1::text[], $2::text[], $3::text[]) AS u(sport, external_game_id, event_id)
       WHERE g.sport = u.sport AND g.external_game_id = u.external_game_id AND g.event_id IS NULL`,
      [linkedGames.map((g) => g.sport), linkedGames.map((g) => g.externalGameId), matched.map((m) => m.eventId), MATCH_RULE],
    );
  }

  const links = new Map<string, string>();
  for (const [key, eventId] of stored) if (eventId != null) links.set(key, eventId);
  for (const m of matched) links.set(m.game, m.eventId);

  const versions = await versionedUpsert(
    client,
    GAME_STATES,
    games.map((g) => snapshotRow(g, links.get(gameKey(g.sport, g.externalGameId)) ?? null)),
  );

  // Linked events follow their game's status; a row is touched only when its status changes.
  const eventStatus = new Map<string, EventStatus>();
  for (const g of games) {
    const eventId = links.get(gameKey(g.sport, g.externalGameId));
    if (eventId !== undefined) eventStatus.set(eventId, EVENT_STATUS_OF_GAME[g.status]);
  }
  let eventsUpdated = 0;
  if (eventStatus.size > 0) {
    const result = await client.query(
      `UPDATE events e SET status = u.status
       FROM unnest($1::text[], $2::text[]) AS u(event_id, status)
       WHERE e.event_id = u.event_id AND e.status IS DISTINCT FROM u.status`,
      [[...eventStatus.keys()], [...eventStatus.values()]],
    );
    eventsUpdated = result.rowCount ?? 0;
  }

  return { versions, links, matched, unmatched, eventsUpdated };
}

/**
 * Fetch every league's scoreboard, validate, and write the games as versioned `game_states`.
 *
 * - A bad record is skipped and reported (the scoreboard client validates each game on its own);
 *   a league that cannot be fetched is reported and the others still ingest.
 * - Everything is written in ONE transaction, in a constant number of statements: game
 *   identities (start time, teams), the event links of games not linked yet (computed once, by
 *   the rule of gameMatching.ts, from one query of candidate events), the SCD-2 versions
 *   (unchanged games write nothing), and the status of linked events (only when it changes).
 * - Then a `system_health` row and the failed ESPN attempts (`api_errors`).
 *
 * Health: 'down' when every league failed; 'degraded' when a league failed, a record was
 * rejected, or a game is ambiguous (two events fit the rule: a data problem that keeps the game
 * from ever being linked until someone resolves it); 'healthy' otherwise. An unmatched game does
 * NOT degrade: most games have no Kalshi markets (or not yet), so unmatched games are normal and
 * only listed in the health details.
 */
export async function ingestGameStates(
  deps: IngestGameStatesDeps,
  options: IngestGameStatesOptions,
): Promise<IngestGameStatesResult> {
  const leagues = [...new Set(options.leagues)];
  const fetched = new Map<string, GameSnapshot>();
  const rejected: RejectedRecord[] = [];
  const errors: string[] = [];
  let failedLeagues = 0;

  for (const league of leagues) {
    try {
      const board = await deps.espn.getScoreboard(league, options.date);
      for (const game of board.games) {
        const key = gameKey(game.sport, game.externalGameId);
        fetched.delete(key); // the last occurrence wins
        fetched.set(key, game);
      }
      rejected.push(...board.rejected.map((r) => ({ ...r, at: `${league}.${r.at}`, path: `${league}.${r.path}` })));
    } catch (error) {
      failedLeagues++;
      errors.push(`league ${league}: ${(error as Error).message}`);
      deps.log?.('league failed', { league, error: (error as Error).message });
    }
  }
  // A fixed order: identity rows are locked in key order, so overlapping runs cannot deadlock.
  const games = [...fetched.values()].sort((a, b) =>
    a.sport === b.sport ? (a.externalGameId < b.externalGameId ? -1 : a.externalGameId > b.externalGameId ? 1 : 0) : a.sport < b.sport ? -1 : 1,
  );

  const operations = new OperationsRepository(deps.pool);

  let written: Written;
  try {
    written =
      games.length === 0
        ? {
            versions: { received: 0, inserted: 0, closed: 0, unchanged: 0, versions: [] },
            links: new Map(), matched: [], unmatched: [], eventsUpdated: 0,
          }
        : await withTransaction(deps.pool, (client) => writeBatch(client, games));
  } catch (error) {
    errors.push(`write failed, nothing written: ${(error as Error).message}`);
    await deps.failures.save(operations, INGEST_GAME_STATES_COMPONENT);
    await operations.recordHealth(INGEST_GAME_STATES_COMPONENT, 'down', { errors, rejected: rejected.slice(0, 50) });
    throw error;
  }

  const ambiguous = written.unmatched.filter((u) => u.reason === 'ambiguous');
  const status: HealthStatus =
    leagues.length > 0 && failedLeagues === leagues.length
      ? 'down'
      : failedLeagues > 0 || rejected.length > 0 || ambiguous.length > 0
        ? 'degraded'
        : 'healthy';
  const { versions: _versions, ...counts } = written.versions;
  const result: IngestGameStatesResult = {
    status,
    games: games.length,
    versions: counts,
    matched: written.matched,
    linked: games.filter((g) => written.links.has(gameKey(g.sport, g.externalGameId))).length,
    unmatched: written.unmatched,
    eventsUpdated: written.eventsUpdated,
    rejected,
    errors,
  };

  for (const r of rejected) deps.log?.('record rejected', { ...r });
  for (const a of ambiguous) deps.log?.('game matches several events', { ...a });
  await deps.failures.save(operations, INGEST_GAME_STATES_COMPONENT);
  await operations.recordHealth(INGEST_GAME_STATES_COMPONENT, status, {
    leagues,
    date: options.date ?? null,
    games: result.games,
    versions: counts,
    matched: result.matched,
    linked: result.linked,
    unmatchedCount: result.unmatched.length,
    unmatched: result.unmatched.slice(0, 50),
    eventsUpdated: result.eventsUpdated,
    apiFailures: deps.failures.byApi.get(ESPN_API)?.length ?? 0,
    rejected: rejected.slice(0, 50),
    rejectedCount: rejected.length,
    errors,
  });
  return result;
}
