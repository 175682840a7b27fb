import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEach } from '../../shared/http/parse';
import {
  ESPN_LEAGUES,
  espnEventSchema,
  toGameSnapshot,
  type GameSnapshot,
  type League,
} from '../../shared/feeds/espn/scoreboard';

type Json = any; // fixtures are mutated freely below

const fixture = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../fixtures/espn/${name}.json`, import.meta.url), 'utf8'));
/** A fresh copy of the fixture's events, safe to mutate. */
const nflEvents = (): Json[] => fixture('nfl-scoreboard').events;
const nbaEvents = (): Json[] => fixture('nba-scoreboard').events;

function snapshot(league: League, raw: unknown): GameSnapshot {
  return toGameSnapshot(league, espnEventSchema.parse(raw));
}

/** Sets event and competition status alike, as ESPN sends them. */
function withStatus(event: Json, status: { state: string; name: string; period?: number; displayClock?: string }): Json {
  const value = {
    clock: 0,
    displayClock: status.displayClock ?? '0:00',
    period: status.period ?? 0,
    type: { id: '0', name: status.name, state: status.state, completed: status.state === 'post' },
  };
  event.status = structuredClone(value);
  event.competitions[0].status = structuredClone(value);
  return event;
}

/** No NaN, no invalid date, scores whole and non-negative: what the database may receive. */
function expectSane(game: GameSnapshot): void {
  expect(Number.isNaN(game.startTime.getTime())).toBe(false);
  for (const score of [game.homeScore, game.awayScore]) {
    if (score !== null) expect(Number.isSafeInteger(score) && score >= 0).toBe(true);
  }
  for (const value of Object.values(game.sportMetadata)) {
    if (typeof value === 'number') expect(Number.isFinite(value)).toBe(true);
  }
  expect(game.homeTeam.length).toBeGreaterThan(0);
  expect(game.awayTeam.length).toBeGreaterThan(0);
}

describe('ESPN leagues', () => {
  it('maps each league to its ESPN path and database sport', () => {
    expect(ESPN_LEAGUES).toEqual({
      nfl: { path: 'football/nfl', sport: 'nfl', football: true },
      ncaaf: { path: 'football/college-football', sport: 'ncaaf', football: true },
      nba: { path: 'basketball/nba', sport: 'nba', football: false },
    });
  });
});

describe('toGameSnapshot on the fixture games', () => {
  const cases: Array<[string, League, () => Json, GameSnapshot]> = [
    [
      'NFL in progress, with situation',
      'nfl',
      () => nflEvents()[0],
      {
        sport: 'nfl',
        externalGameId: '401900001',
        startTime: new Date('2024-09-08T17:00:00Z'),
        name: 'Pittsburgh Steelers at Atlanta Falcons',
        homeTeam: 'ATL',
        awayTeam: 'PIT',
        homeTeamName: 'Atlanta Falcons',
        awayTeamName: 'Pittsburgh Steelers',
        homeScore: 10,
        awayScore: 12,
        period: 'Q3',
        timeRemaining: '8:12',
        possession: 'away',
        status: 'live',
        sportMetadata: {
          statusName: 'STATUS_IN_PROGRESS',
          periodNumber: 3,
          clockSeconds: 492,
          down: 3,
          distance: 4,
          yardLine: 18,
          isRedZone: true,
          possessionTeamId: '23',
          downDistanceText: '3rd & 4 at ATL 18',
        },
      },
    ],
    [
      'NFL at halftime',
      'nfl',
      () => nflEvents()[1],
      {
        sport: 'nfl',
        externalGameId: '401900002',
        startTime: new Date('2024-09-08T17:00:00Z'),
        name: 'Arizona Cardinals at Buffalo Bills',
        homeTeam: 'BUF',
        awayTeam: 'ARI',
        homeTeamName: 'Buffalo Bills',
        awayTeamName: 'Arizona Cardinals',
        homeScore: 10,
        awayScore: 17,
        period: 'Halftime',
        timeRemaining: null,
        possession: null,
        status: 'halftime',
        sportMetadata: { statusName: 'STATUS_HALFTIME', periodNumber: 2, clockSeconds: 0 },
      },
    ],
    [
      'NFL final',
      'nfl',
      () => nflEvents()[2],
      {
        sport: 'nfl',
        externalGameId: '401900003',
        startTime: new Date('2024-09-06T00:20:00Z'),
        name: 'Baltimore Ravens at Kansas City Chiefs',
        homeTeam: 'KC',
        awayTeam: 'BAL',
        homeTeamName: 'Kansas City Chiefs',
        awayTeamName: 'Baltimore Ravens',
        homeScore: 27,
        awayScore: 20,
        period: 'Final',
        timeRemaining: null,
        possession: null,
        status: 'final',
        sportMetadata: { statusName: 'STATUS_FINAL', periodNumber: 4, clockSeconds: 0 },
      },
    ],
    [
      'NFL scheduled, no scores yet',
      'nfl',
      () => nflEvents()[3],
      {
        sport: 'nfl',
        externalGameId: '401900004',
        startTime: new Date('2024-09-08T20:25:00Z'),
        name: 'Washington Commanders at Tampa Bay Buccaneers',
        homeTeam: 'TB',
        awayTeam: 'WSH',
        homeTeamName: 'Tampa Bay Buccaneers',
        awayTeamName: 'Washington Commanders',
        homeScore: null,
        awayScore: null,
        period: null,
        timeRemaining: null,
        possession: null,
        status: 'scheduled',
        sportMetadata: { statusName: 'STATUS_SCHEDULED', periodNumber: 0, clockSeconds: 0 },
      },
    ],
    [
      'NBA in progress (no football fields)',
      'nba',
      () => nbaEvents()[0],
      {
        sport: 'nba',
        externalGameId: '401800101',
        startTime: new Date('2025-01-16T00:30:00Z'),
        name: 'Boston Celtics at New York Knicks',
        homeTeam: 'NY',
        awayTeam: 'BOS',
        homeTeamName: 'New York Knicks',
        awayTeamName: 'Boston Celtics',
        homeScore: 88,
        awayScore: 91,
        period: 'Q4',
        timeRemaining: '6:45',
        possession: null,
        status: 'live',
        sportMetadata: { statusName: 'STATUS_IN_PROGRESS', periodNumber: 4, clockSeconds: 405 },
      },
    ],
  ];

  it.each(cases)('%s', (_label, league, event, expected) => {
    const game = snapshot(league, event());
    expect(game).toEqual(expected);
    expectSane(game);
  });

  it('stores the database sport of the league asked for (ncaaf)', () => {
    expect(snapshot('ncaaf', nflEvents()[0]).sport).toBe('ncaaf');
  });
});

describe('status and period mapping', () => {
  it.each<[League, string, string, number, GameSnapshot['status'], string | null]>([
    ['nfl', 'pre', 'STATUS_SCHEDULED', 0, 'scheduled', null],
    ['nfl', 'pre', 'STATUS_POSTPONED', 0, 'postponed', null],
    ['nfl', 'pre', 'STATUS_CANCELED', 0, 'cancelled', null],
    ['nfl', 'post', 'STATUS_POSTPONED', 0, 'postponed', null],
    ['nfl', 'in', 'STATUS_IN_PROGRESS', 1, 'live', 'Q1'],
    ['nfl', 'in', 'STATUS_END_PERIOD', 2, 'live', 'Q2'],
    ['nfl', 'in', 'STATUS_HALFTIME', 2, 'halftime', 'Halftime'],
    ['nfl', 'in', 'STATUS_IN_PROGRESS', 4, 'live', 'Q4'],
    ['nfl', 'in', 'STATUS_IN_PROGRESS', 5, 'live', 'OT'],
    ['ncaaf', 'in', 'STATUS_IN_PROGRESS', 7, 'live', 'OT'],
    ['nfl', 'in', 'STATUS_IN_PROGRESS', 0, 'live', null],
    ['nfl', 'post', 'STATUS_FINAL', 5, 'final', 'Final'],
    ['nba', 'in', 'STATUS_IN_PROGRESS', 3, 'live', 'Q3'],
    ['nba', 'in', 'STATUS_IN_PROGRESS', 6, 'live', 'OT'],
    ['nba', 'in', 'STATUS_HALFTIME', 2, 'halftime', 'Halftime'],
    ['nba', 'post', 'STATUS_FINAL', 4, 'final', 'Final'],
  ])('%s %s %s period %i → %s %s', (league, state, name, period, status, expectedPeriod) => {
    const game = snapshot(league, withStatus(nflEvents()[0], { state, name, period, displayClock: '1:23' }));
    expect(game.status).toBe(status);
    expect(game.period).toBe(expectedPeriod);
    expect(game.timeRemaining).toBe(status === 'live' ? '1:23' : null);
    expect(game.sportMetadata).toMatchObject({ statusName: name, periodNumber: period });
  });

  it('uses competitions[0].status when the event has none', () => {
    const event = nflEvents()[1];
    delete event.status;
    expect(snapshot('nfl', event)).toMatchObject({ status: 'halftime', period: 'Halftime' });
  });

  it('builds a name from the teams when the event has none', () => {
    const event = nflEvents()[2];
    delete event.name;
    expect(snapshot('nfl', event).name).toBe('Baltimore Ravens at Kansas City Chiefs');
  });
});

describe('possession and football situation', () => {
  it.each<[string, string | undefined, GameSnapshot['possession']]>([
    ['the home team id', '1', 'home'],
    ['the away team id', '23', 'away'],
    ['an id of neither team', '999', null],
    ['no possession', undefined, null],
  ])('possession set to %s', (_label, teamId, expected) => {
    const event = nflEvents()[0];
    if (teamId === undefined) delete event.competitions[0].situation.possession;
    else event.competitions[0].situation.possession = teamId;
    expect(snapshot('nfl', event).possession).toBe(expected);
  });

  it('has no possession without team ids, nor outside live play', () => {
    const noIds = nflEvents()[0];
    for (const c of noIds.competitions[0].competitors) delete c.team.id;
    expect(snapshot('nfl', noIds).possession).toBeNull();

    const halftime = withStatus(nflEvents()[0], { state: 'in', name: 'STATUS_HALFTIME', period: 2 });
    expect(snapshot('nfl', halftime).possession).toBeNull();
  });

  it('leaves out the down between plays (ESPN sends -1) and absent fields', () => {
    const event = nflEvents()[0];
    event.competitions[0].situation = { down: -1, distance: 0, yardLine: 35, possession: '1' };
    expect(snapshot('nfl', event).sportMetadata).toEqual({
      statusName: 'STATUS_IN_PROGRESS',
      periodNumber: 3,
      clockSeconds: 492,
      distance: 0,
      yardLine: 35,
      possessionTeamId: '1',
    });
  });

  it('ignores football fields in a basketball situation', () => {
    const event = nbaEvents()[0];
    event.competitions[0].situation = { down: 2, distance: 5, possession: '18' };
    const game = snapshot('nba', event);
    expect(game.sportMetadata).toEqual({ statusName: 'STATUS_IN_PROGRESS', periodNumber: 4, clockSeconds: 405 });
    expect(game.possession).toBe('home');
  });
});

describe('bad events are rejected with the field path, the others kept', () => {
  const base = 'events[1]';
  const competitor = `${base}.competitions[0].competitors`;
  it.each<[string, (event: Json) => unknown, string]>([
    ['a score "abc"', (e) => { e.competitions[0].competitors[0].score = 'abc'; }, `${competitor}[0].score`],
    ['a negative score', (e) => { e.competitions[0].competitors[1].score = '-3'; }, `${competitor}[1].score`],
    ['a fractional score', (e) => { e.competitions[0].competitors[0].score = '7.5'; }, `${competitor}[0].score`],
    ['a score "NaN"', (e) => { e.competitions[0].competitors[0].score = 'NaN'; }, `${competitor}[0].score`],
    ['a numeric score', (e) => { e.competitions[0].competitors[0].score = 7; }, `${competitor}[0].score`],
    ['a missing team abbreviation', (e) => { delete e.competitions[0].competitors[1].team.abbreviation; }, `${competitor}[1].team.abbreviation`],
    ['a blank team abbreviation', (e) => { e.competitions[0].competitors[0].team.abbreviation = '  '; }, `${competitor}[0].team.abbreviation`],
    ['a missing team display name', (e) => { delete e.competitions[0].competitors[0].team.displayName; }, `${competitor}[0].team.displayName`],
    ['a bad homeAway', (e) => { e.competitions[0].competitors[0].homeAway = 'neutral'; }, `${competitor}[0].homeAway`],
    ['two home teams', (e) => { e.competitions[0].competitors[1].homeAway = 'home'; }, competitor],
    ['no competitions', (e) => { e.competitions = []; }, `${base}.competitions`],
    ['an unparseable date', (e) => { e.date = 'yesterday'; }, `${base}.date`],
    ['an impossible date', (e) => { e.date = '2024-13-45T17:00Z'; }, `${base}.date`],
    ['an unknown state', (e) => { e.status.type.state = 'delayed'; }, `${base}.status.type.state`],
    ['a missing completed flag', (e) => { delete e.status.type.completed; }, `${base}.status.type.completed`],
    ['a period given as text', (e) => { e.status.period = '2'; }, `${base}.status.period`],
    ['no status anywhere', (e) => { delete e.status; delete e.competitions[0].status; }, `${base}.status`],
    ['a situation yard line off the field', (e) => { e.competitions[0].situation = { yardLine: 120 }; }, `${base}.competitions[0].situation.yardLine`],
  ])('%s', (_label, mutate, path) => {
    const events = nflEvents();
    mutate(events[1]);
    const { items, rejected } = parseEach('espn', espnEventSchema, events, 'events', 'id');
    expect(rejected).toEqual([{ at: base, id: '401900002', path, reason: expect.stringMatching(/^espn: /) }]);
    expect(items.map((e) => e.id)).toEqual(['401900001', '401900003', '401900004']);
  });

  it('rejects an event without id, and a non-object, naming where they sat', () => {
    const events: Json[] = nflEvents();
    delete events[0].id;
    events[2] = null;
    const { items, rejected } = parseEach('espn', espnEventSchema, events, 'events', 'id');
    expect(rejected.map((r) => [r.at, r.id, r.path])).toEqual([
      ['events[0]', undefined, 'events[0].id'],
      ['events[2]', undefined, 'events[2]'],
    ]);
    expect(items.map((e) => e.id)).toEqual(['401900002', '401900004']);
  });
});

describe('untrusted input (property)', () => {
  const paths: string[][] = [
    ['id'],
    ['date'],
    ['name'],
    ['status'],
    ['status', 'period'],
    ['status', 'clock'],
    ['status', 'displayClock'],
    ['status', 'type', 'state'],
    ['status', 'type', 'name'],
    ['competitions'],
    ['competitions', '0', 'competitors'],
    ['competitions', '0', 'competitors', '0', 'score'],
    ['competitions', '0', 'competitors', '1', 'team'],
    ['competitions', '0', 'competitors', '0', 'team', 'id'],
    ['competitions', '0', 'situation'],
    ['competitions', '0', 'situation', 'down'],
    ['competitions', '0', 'situation', 'possession'],
  ];

  it('never throws and never yields NaN, whatever one field holds', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...paths),
        fc.jsonValue(),
        fc.constantFrom<League>('nfl', 'ncaaf', 'nba'),
        (path, value, league) => {
          const events = nflEvents();
          let target: Json = events[0];
          for (const key of path.slice(0, -1)) target = target[key];
          target[path.at(-1)!] = value;
          const { items, rejected } = parseEach('espn', espnEventSchema, events, 'events', 'id');
          expect(items.length + rejected.length).toBe(events.length);
          for (const item of items) expectSane(toGameSnapshot(league, item));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary JSON events', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 5 }), (events) => {
        const { items, rejected } = parseEach('espn', espnEventSchema, events, 'events', 'id');
        expect(items.length + rejected.length).toBe(events.length);
      }),
      { numRuns: 200 },
    );
  });
});
