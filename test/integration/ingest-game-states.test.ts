import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/ingest-game-states/handler';
import { closeSharedPool } from '../../shared/db/pool';
import { EventRepository, type MarketEvent } from '../../shared/db/repositories/events';
import { PlatformRepository } from '../../shared/db/repositories/platforms';
import { SeriesRepository } from '../../shared/db/repositories/series';
import { EspnScoreboardClient, type League } from '../../shared/feeds/espn/scoreboard';
import { FailureLog } from '../../shared/ingestion/failureLog';
import { MATCH_RULE } from '../../shared/ingestion/gameMatching';
import { ingestGameStates, type IngestGameStatesResult } from '../../shared/ingestion/ingestGameStates';
import { parseGameEventTicker } from '../../shared/ingestion/kalshiHierarchy';
import { KALSHI_PLATFORM } from '../../shared/venues/platforms';
import { useTestDatabase } from '../helpers/database';
import { startTestServer, type Route, type TestServer } from '../helpers/httpServer';

type Json = any; // fixtures are mutated freely below
type Answer = ReturnType<Route>;

const db = useTestDatabase();
const context = { functionName: 'ingest-game-states', awsRequestId: 'test', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../fixtures/espn/${name}.json`, import.meta.url), 'utf8'));
const sample = (name: string) => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));

const BASE_PATH = '/apis/site/v2/sports';
const NFL_PATH = `${BASE_PATH}/football/nfl/scoreboard`;
const NBA_PATH = `${BASE_PATH}/basketball/nba/scoreboard`;
const COMPONENT = 'ingest-game-states';

// The fixture's NFL games (ESPN ids), all on the 2024-09-08 scoreboard except BAL at KC:
//   401900001 PIT at ATL, live Q3      2024-09-08T17:00Z
//   401900002 ARI at BUF, halftime     2024-09-08T17:00Z
//   401900003 BAL at KC, final         2024-09-06T00:20Z = Thursday 2024-09-05 20:20 ET
//   401900004 WSH at TB, scheduled     2024-09-08T20:25Z (Kalshi says WAS)
const PIT_ATL = 'KXNFLGAME-24SEP08PITATL';
const BAL_KC = 'KXNFLGAME-24SEP05BALKC';
const WAS_TB = 'KXNFLGAME-24SEP08WASTB';

/** What the local ESPN answers, per path; unrouted paths get 404. */
const answers = new Map<string, () => Answer>();
let nfl: Json = fixture('nfl-scoreboard');
let server: TestServer;

const ENV_KEYS = ['DATABASE_URL', 'ESPN_BASE_URL', 'INGEST_LEAGUES', 'HTTP_TIMEOUT_MS'] as const;
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

/** A Kalshi game event as ingest-markets stores it (metadata parsed from the ticker). */
function gameEvent(ticker: string, overrides: Partial<MarketEvent> = {}): MarketEvent {
  const game = parseGameEventTicker(ticker);
  return {
    eventId: ticker, platformId: 'kalshi', seriesId: 'KXNFLGAME', externalId: ticker, category: 'sports', subcategory: 'nfl',
    title: ticker, status: 'scheduled', metadata: game ? { game_date: game.gameDate, teams: game.teams } : null, ...overrides,
  };
}

const seedEvents = (...events: MarketEvent[]) => new EventRepository(db().pool).upsertMany(events);

async function query<T = Json>(sql: string, params: unknown[] = []): Promise<T[]> {
  return (await db().pool.query(sql, params)).rows as T[];
}
const count = async (table: string) => (await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
const eventRow = async (eventId: string) => (await query('SELECT status, updated_at FROM events WHERE event_id = $1', [eventId]))[0];
const identity = async (id: string) =>
  (await query("SELECT * FROM game_identities WHERE sport = 'nfl' AND external_game_id = $1", [id]))[0];
const latestHealth = async () =>
  (await query('SELECT status, details FROM system_health WHERE component = $1 ORDER BY health_id DESC LIMIT 1', [COMPONENT]))[0];

const run = (event: unknown = sample('ingest-game-states-nfl')) => handler(event, context) as Promise<IngestGameStatesResult>;

/** ingestGameStates with a fast-retrying client, for the failure paths. */
async function runDirect(leagues: League[]) {
  const failures = new FailureLog();
  const espn = new EspnScoreboardClient({
    baseUrl: `${server.url}${BASE_PATH}`, timeoutMs: 2_000, retry: { baseDelayMs: 1, maxDelayMs: 5 }, onFailedAttempt: failures.hook('espn'),
  });
  return ingestGameStates({ pool: db().pool, espn, failures }, { leagues });
}

const competitor = (event: Json, side: 'home' | 'away') => event.competitions[0].competitors.find((c: Json) => c.homeAway === side);

beforeAll(async () => {
  answers.set(NFL_PATH, () => ({ json: nfl }));
  server = await startTestServer((req) => answers.get(req.path)?.());
  process.env.DATABASE_URL = db().url;
  process.env.ESPN_BASE_URL = `${server.url}${BASE_PATH}`;
  process.env.INGEST_LEAGUES = 'nfl';
  process.env.HTTP_TIMEOUT_MS = '5000';

  await new PlatformRepository(db().pool).upsert(KALSHI_PLATFORM);
  await new SeriesRepository(db().pool).upsertMany([
    { seriesId: 'KXNFLGAME', platformId: 'kalshi', externalId: 'KXNFLGAME', category: 'sports', subcategory: 'nfl', title: 'NFL Game' },
  ]);
  await seedEvents(gameEvent(PIT_ATL), gameEvent(BAL_KC));
});

afterAll(async () => {
  await closeSharedPool();
  await server?.close();
  for (const key of ENV_KEYS) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
});

// The tests below run in order and build on each other: one database, one ESPN server.
describe('ingest-game-states', () => {
  it('rejects a malformed console event naming the field, and reads and writes nothing', async () => {
    await expect(run({ leagues: ['cricket'] })).rejects.toThrow(/invalid ingest-game-states event: leagues\.0: /);
    await expect(run({ leagues: [] })).rejects.toThrow(/invalid ingest-game-states event: leagues: /);
    await expect(run({ date: '2024-09-08' })).rejects.toThrow(/invalid ingest-game-states event: date: must be YYYYMMDD/);
    await expect(run({ date: '20241332' })).rejects.toThrow(/invalid ingest-game-states event: date: is not a calendar date/);
    await expect(run({ league: ['nfl'] })).rejects.toThrow(/invalid ingest-game-states event: \(event\): Unrecognized key.*league/);

    expect(server.requests).toHaveLength(0);
    for (const table of ['game_identities', 'game_states', 'system_health', 'api_errors']) expect(await count(table)).toBe(0);
    expect((await eventRow(PIT_ATL)).status).toBe('scheduled');
  });

  it('first run: creates the games and their versions, links the games whose Kalshi event exists', async () => {
    const result = await run();

    expect(server.requests.map((r) => r.path)).toEqual([NFL_PATH]);
    expect(result).toMatchObject({
      status: 'healthy',
      games: 4,
      versions: { received: 4, inserted: 4, closed: 0, unchanged: 0 },
      matched: [
        { game: 'nfl:401900001', eventId: PIT_ATL },
        { game: 'nfl:401900003', eventId: BAL_KC }, // 00:20Z on the 6th is the 5th in New York
      ],
      linked: 2,
      unmatched: [
        { game: 'nfl:401900002', reason: 'unmatched', lookedFor: 'KXNFLGAME 2024-09-08 ARIBUF' },
        { game: 'nfl:401900004', reason: 'unmatched', lookedFor: 'KXNFLGAME 2024-09-08 WASTB' },
      ],
      eventsUpdated: 2,
      rejected: [],
      errors: [],
    });

    const identities = await query(
      'SELECT external_game_id, event_id, match_rule, matched_at, start_time, home_team, away_team FROM game_identities ORDER BY external_game_id',
    );
    expect(identities.map((i) => [i.external_game_id, i.event_id, i.match_rule, i.matched_at !== null, i.start_time.toISOString(), i.away_team, i.home_team])).toEqual([
      ['401900001', PIT_ATL, MATCH_RULE, true, '2024-09-08T17:00:00.000Z', 'PIT', 'ATL'],
      ['401900002', null, null, false, '2024-09-08T17:00:00.000Z', 'ARI', 'BUF'],
      ['401900003', BAL_KC, MATCH_RULE, true, '2024-09-06T00:20:00.000Z', 'BAL', 'KC'],
      ['401900004', null, null, false, '2024-09-08T20:25:00.000Z', 'WSH', 'TB'],
    ]);

    const states = await query(
      'SELECT external_game_id, event_id, away_team, home_team, away_score, home_score, period, time_remaining, status, sport_metadata FROM current_game_states ORDER BY external_game_id',
    );
    expect(states.map((s) => [s.external_game_id, s.event_id, s.away_score, s.home_score, s.period, s.status])).toEqual([
      ['401900001', PIT_ATL, 12, 10, 'Q3', 'live'],
      ['401900002', null, 17, 10, 'Halftime', 'halftime'],
      ['401900003', BAL_KC, 20, 27, 'Final', 'final'],
      ['401900004', null, null, null, null, 'scheduled'],
    ]);
    expect(states[0].time_remaining).toBe('8:12');
    expect(states[0].sport_metadata).toMatchObject({ statusName: 'STATUS_IN_PROGRESS', periodNumber: 3 });

    expect((await eventRow(PIT_ATL)).status).toBe('live');
    expect((await eventRow(BAL_KC)).status).toBe('final');

    const health = await latestHealth();
    expect(health.status).toBe('healthy');
    expect(health.details).toMatchObject({ games: 4, linked: 2, unmatchedCount: 2, rejectedCount: 0, apiFailures: 0 });
    expect(await count('api_errors')).toBe(0);
  });

  it('an identical second run writes no new versions and touches no event', async () => {
    const before = await eventRow(PIT_ATL);
    const result = await run({ leagues: ['nfl'], date: '20240908' });

    expect(server.requests.at(-1)!.query.get('dates')).toBe('20240908');
    expect(result).toMatchObject({
      status: 'healthy', versions: { received: 4, inserted: 0, closed: 0, unchanged: 4 }, matched: [], linked: 2, eventsUpdated: 0,
    });
    expect(await count('game_states')).toBe(4);
    expect((await eventRow(PIT_ATL)).updated_at).toEqual(before.updated_at);
  });

  it('a changed score writes exactly one new version', async () => {
    competitor(nfl.events[0], 'away').score = '15';
    const result = await run();

    expect(result.versions).toEqual({ received: 4, inserted: 1, closed: 1, unchanged: 3 });
    const history = await query(
      `SELECT away_score, event_id, row_current_ind, superseded_at FROM game_states
       WHERE sport = 'nfl' AND external_game_id = '401900001' ORDER BY game_state_id`,
    );
    expect(history.map((h) => [h.away_score, h.event_id, h.row_current_ind, h.superseded_at !== null])).toEqual([
      [12, PIT_ATL, false, true],
      [15, PIT_ATL, true, false],
    ]);
    expect(await count('game_states')).toBe(5);
  });

  it('matches a game once: a later change of the event data does not move the stored link', async () => {
    const before = await identity('401900001');
    // The matched event's metadata changes and another event now fits the rule for the same game.
    await seedEvents(
      gameEvent(PIT_ATL, { metadata: { game_date: '2024-09-09', teams: 'XXXYYY' } }),
      gameEvent(PIT_ATL, { eventId: `${PIT_ATL}G2`, externalId: `${PIT_ATL}G2` }),
    );

    const result = await run();
    expect(result.matched).toEqual([]);
    expect(result.versions.inserted).toBe(0);
    const after = await identity('401900001');
    expect([after.event_id, after.match_rule, after.matched_at]).toEqual([PIT_ATL, MATCH_RULE, before.matched_at]);
    expect((await query("SELECT event_id FROM current_game_states WHERE external_game_id = '401900001'"))[0].event_id).toBe(PIT_ATL);
  });

  it('links an unmatched game once its event appears (ESPN WSH is Kalshi WAS)', async () => {
    await seedEvents(gameEvent(WAS_TB, { status: null }));
    const result = await run();

    expect(result.matched).toEqual([{ game: 'nfl:401900004', eventId: WAS_TB }]);
    expect(result.unmatched.map((u) => u.game)).toEqual(['nfl:401900002']);
    // The link is part of the game state: one new version carrying it.
    expect(result.versions).toMatchObject({ inserted: 1, closed: 1 });
    expect((await identity('401900004')).event_id).toBe(WAS_TB);
    expect((await eventRow(WAS_TB)).status).toBe('scheduled');
  });

  it('reports an ambiguous game with its candidates, links nothing, and degrades', async () => {
    const candidates = ['KXNFLGAME-24SEP08ARIBUF', 'KXNFLGAME-24SEP08ARIBUFG2'];
    await seedEvents(
      gameEvent(candidates[0]!),
      gameEvent(candidates[0]!, { eventId: candidates[1]!, externalId: candidates[1]! }),
    );
    const result = await run();

    expect(result.status).toBe('degraded');
    expect(result.unmatched).toEqual([
      { game: 'nfl:401900002', name: 'Arizona Cardinals at Buffalo Bills', reason: 'ambiguous', candidates, lookedFor: 'KXNFLGAME 2024-09-08 ARIBUF' },
    ]);
    expect((await identity('401900002')).event_id).toBeNull();
    expect((await latestHealth()).status).toBe('degraded');

    // Resolved on the exchange side: the next run links the halftime game and its event goes live.
    await seedEvents(gameEvent(candidates[0]!, { eventId: candidates[1]!, externalId: candidates[1]!, metadata: null }));
    const next = await run();
    expect(next).toMatchObject({ status: 'healthy', matched: [{ game: 'nfl:401900002', eventId: candidates[0] }], unmatched: [], linked: 4 });
    expect((await eventRow(candidates[0]!)).status).toBe('live');
  });

  it('skips a bad record, writes nothing of it, and reports degraded health', async () => {
    const bad = structuredClone(nfl.events[0]);
    bad.id = '401900099';
    competitor(bad, 'home').score = 'abc';
    nfl.events.push(bad);
    const statesBefore = await count('game_states');
    try {
      const result = await run();
      expect(result.status).toBe('degraded');
      expect(result.games).toBe(4);
      expect(result.rejected).toEqual([
        expect.objectContaining({ id: '401900099', path: 'nfl.events[4].competitions[0].competitors[0].score' }),
      ]);
      expect(await query("SELECT 1 FROM game_identities WHERE external_game_id = '401900099'")).toEqual([]);
      expect(await query("SELECT 1 FROM game_states WHERE external_game_id = '401900099'")).toEqual([]);
      expect(await count('game_states')).toBe(statesBefore);
      const health = await latestHealth();
      expect(health.status).toBe('degraded');
      expect(health.details).toMatchObject({ rejectedCount: 1, rejected: [expect.objectContaining({ id: '401900099' })] });
    } finally {
      nfl.events.pop();
    }
  });

  it('records ESPN 500s in api_errors; a failed league degrades, all failed is down', async () => {
    // One 500, then the answer: retried, healthy, the failed attempt logged.
    let fail = 1;
    answers.set(NFL_PATH, () => (fail-- > 0 ? { status: 500, json: { error: 'upstream' } } : { json: nfl }));
    const retried = await runDirect(['nfl']);
    expect(retried).toMatchObject({ status: 'healthy', games: 4, errors: [] });
    const logged = await query('SELECT api, component, kind, http_status, url, attempt, final FROM api_errors ORDER BY api_error_id');
    expect(logged).toEqual([
      expect.objectContaining({ api: 'espn', component: COMPONENT, kind: 'http', http_status: 500, attempt: 1, final: false }),
    ]);
    expect(logged[0].url).toContain('/football/nfl/scoreboard');

    // NBA fails for good: the NFL still ingests, health degraded.
    answers.set(NBA_PATH, () => ({ status: 500, json: { error: 'down' } }));
    const partial = await runDirect(['nfl', 'nba']);
    expect(partial.status).toBe('degraded');
    expect(partial.games).toBe(4);
    expect(partial.errors).toEqual([expect.stringMatching(/^league nba: /)]);
    const nba = await query("SELECT attempt, final FROM api_errors WHERE url LIKE '%/basketball/nba/%' ORDER BY api_error_id");
    expect(nba).toEqual([
      { attempt: 1, final: false }, { attempt: 2, final: false }, { attempt: 3, final: false }, { attempt: 4, final: true },
    ]);

    const down = await runDirect(['nba']);
    expect(down).toMatchObject({ status: 'down', games: 0, versions: { received: 0, inserted: 0 } });
    expect((await latestHealth()).status).toBe('down');
    expect(await count('api_errors')).toBe(9);
    answers.delete(NBA_PATH);
  });

  it('runs with the configured leagues on the EventBridge schedule event', async () => {
    const requestsBefore = server.requests.length;
    const result = await run({
      version: '0', id: 'e1', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012',
      time: '2024-09-08T17:45:00Z', region: 'us-east-1', resources: ['arn:aws:events:us-east-1:123456789012:rule/x'], detail: {},
    });
    expect(result).toMatchObject({ status: 'healthy', games: 4, versions: { inserted: 0 } });
    const requests = server.requests.slice(requestsBefore);
    expect(requests.map((r) => r.path)).toEqual([NFL_PATH]);
    expect(requests[0]!.query.has('dates')).toBe(false);
  });
});
