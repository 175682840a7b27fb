import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, PayloadError } from '../../shared/http/errors';
import type { FailedAttempt } from '../../shared/http/httpClient';
import { EspnScoreboardClient } from '../../shared/feeds/espn/scoreboard';
import { startTestServer, type Route, type TestServer } from '../helpers/httpServer';

const fixture = (name: string): any =>
  JSON.parse(readFileSync(new URL(`../fixtures/espn/${name}.json`, import.meta.url), 'utf8'));

const BASE_PATH = '/apis/site/v2/sports';
let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function clientFor(route: Route, failures: FailedAttempt[] = []): Promise<EspnScoreboardClient> {
  server = await startTestServer(route);
  return new EspnScoreboardClient({
    baseUrl: `${server.url}${BASE_PATH}`,
    timeoutMs: 2_000,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    onFailedAttempt: (failure) => failures.push(failure),
  });
}

describe('EspnScoreboardClient', () => {
  it('requests the league path with the dates parameter and maps every game', async () => {
    const client = await clientFor((req) =>
      req.path === `${BASE_PATH}/football/nfl/scoreboard` ? { json: fixture('nfl-scoreboard') } : undefined,
    );
    const { games, rejected } = await client.getScoreboard('nfl', '20240908');

    expect(server!.requests).toHaveLength(1);
    const [request] = server!.requests;
    expect(request!.method).toBe('GET');
    expect(request!.path).toBe(`${BASE_PATH}/football/nfl/scoreboard`);
    expect(request!.query.get('dates')).toBe('20240908');
    expect(rejected).toEqual([]);
    expect(games.map((g) => [g.sport, g.externalGameId, g.status, g.period])).toEqual([
      ['nfl', '401900001', 'live', 'Q3'],
      ['nfl', '401900002', 'halftime', 'Halftime'],
      ['nfl', '401900003', 'final', 'Final'],
      ['nfl', '401900004', 'scheduled', null],
    ]);
  });

  it.each([
    ['ncaaf', '/football/college-football/scoreboard', 'ncaaf'],
    ['nba', '/basketball/nba/scoreboard', 'nba'],
  ] as const)('asks for %s at %s, without dates when none is given', async (league, path, sport) => {
    const client = await clientFor((req) =>
      req.path === `${BASE_PATH}${path}` ? { json: fixture('nba-scoreboard') } : undefined,
    );
    const { games } = await client.getScoreboard(league);
    expect(server!.requests[0]!.query.has('dates')).toBe(false);
    expect(games).toHaveLength(1);
    expect(games[0]!.sport).toBe(sport);
  });

  it('retries a 500 and returns the games of the next answer', async () => {
    const failures: FailedAttempt[] = [];
    const client = await clientFor(
      (_req, count) => (count === 0 ? { status: 500, json: { error: 'upstream' } } : { json: fixture('nba-scoreboard') }),
      failures,
    );
    const { games, rejected } = await client.getScoreboard('nba', '20250115');

    expect(server!.requests).toHaveLength(2);
    expect(failures).toEqual([expect.objectContaining({ kind: 'http', status: 500, attempt: 1, final: false })]);
    expect(rejected).toEqual([]);
    expect(games.map((g) => [g.homeTeam, g.awayTeam, g.homeScore, g.awayScore])).toEqual([['NY', 'BOS', 88, 91]]);
  });

  it('gives up with an ApiError after the last attempt', async () => {
    const client = await clientFor(() => ({ status: 503, json: { error: 'down' } }));
    const error = await client.getScoreboard('nfl').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ kind: 'http', status: 503, attempts: 4 });
  });

  it('rejects a bad event with its field path and still returns the good ones', async () => {
    const body = fixture('nfl-scoreboard');
    body.events[2].competitions[0].competitors[0].score = 'abc';
    delete body.events[3].competitions[0].competitors[1].team.abbreviation;
    const client = await clientFor(() => ({ json: body }));

    const { games, rejected } = await client.getScoreboard('nfl', '20240908');
    expect(games.map((g) => g.externalGameId)).toEqual(['401900001', '401900002']);
    expect(rejected).toEqual([
      expect.objectContaining({ at: 'events[2]', id: '401900003', path: 'events[2].competitions[0].competitors[0].score' }),
      expect.objectContaining({ at: 'events[3]', id: '401900004', path: 'events[3].competitions[0].competitors[1].team.abbreviation' }),
    ]);
  });

  it.each([
    ['an envelope without events', { leagues: [] }, 'events'],
    ['events that is not a list', { events: { id: '1' } }, 'events'],
    ['an empty body', undefined, '(root)'],
  ])('throws a PayloadError for %s', async (_label, json, path) => {
    const client = await clientFor(() => (json === undefined ? { body: '' } : { json }));
    const error = await client.getScoreboard('nfl').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadError);
    expect(error).toMatchObject({ source: 'espn', path });
  });

  it('refuses a malformed date before any request', async () => {
    const client = await clientFor(() => ({ json: { events: [] } }));
    for (const date of ['2024-09-08', '20241332', '2024098', '20240908&x=1']) {
      await expect(client.getScoreboard('nfl', date)).rejects.toThrow(RangeError);
    }
    expect(server!.requests).toHaveLength(0);
  });
});
