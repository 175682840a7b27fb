import { describe, expect, it } from 'vitest';
import { SERIES_SPORT, parseGameEventTicker } from '../../shared/ingestion/kalshiHierarchy';
import {
  GAME_SERIES,
  MATCH_RULE,
  TEAM_CODE_ALIASES,
  easternDate,
  gameEventKey,
  kalshiTeamCode,
  matchGame,
  type CandidateEvent,
  type MatchableGame,
  type MatchOutcome,
} from '../../shared/ingestion/gameMatching';
import { EVENT_STATUS_OF_GAME } from '../../shared/ingestion/ingestGameStates';

/** A stored Kalshi game event as ingest-markets writes it: metadata parsed from the ticker. */
function kalshiEvent(ticker: string, overrides: Partial<CandidateEvent> = {}): CandidateEvent {
  const parsed = parseGameEventTicker(ticker);
  return {
    eventId: ticker,
    seriesId: ticker.split('-')[0],
    metadata: parsed ? { game_date: parsed.gameDate, teams: parsed.teams } : null,
    ...overrides,
  };
}

const game = (sport: string, start: string, away: string, home: string): MatchableGame => ({
  sport, startTime: new Date(start), awayTeam: away, homeTeam: home,
});

// Thanksgiving 2026: KC at DAL, 21:30Z = 16:30 ET.
const KC_AT_DAL = game('nfl', '2026-11-27T21:30:00Z', 'KC', 'DAL');
const EVENTS = [
  kalshiEvent('KXNFLGAME-26NOV27KCDAL'),
  kalshiEvent('KXNFLGAME-26NOV26DETCHI'),
  kalshiEvent('KXNFLGAME-26NOV26CINBAL'),
  kalshiEvent('KXNFLGAME-26NOV29WASNYG'),
  kalshiEvent('KXNBAGAME-26NOV27BOSNYK'),
  kalshiEvent('KXNCAAFGAME-26NOV28OSUMICH'),
];

describe('game ↔ Kalshi event matching', () => {
  it('names its rule', () => {
    expect(MATCH_RULE).toBe('kalshi-event:date(ET)+away+home');
    expect(GAME_SERIES).toEqual({ nfl: 'KXNFLGAME', ncaaf: 'KXNCAAFGAME', nba: 'KXNBAGAME' });
    for (const [sport, series] of Object.entries(GAME_SERIES)) expect(SERIES_SPORT[series]).toBe(sport);
  });

  const cases: Array<[string, MatchableGame, CandidateEvent[], MatchOutcome]> = [
    ['match: same series, ET date, away+home', KC_AT_DAL, EVENTS, { status: 'matched', eventId: 'KXNFLGAME-26NOV27KCDAL' }],
    [
      'wrong date: the same teams a day later',
      game('nfl', '2026-11-28T21:30:00Z', 'KC', 'DAL'),
      EVENTS,
      { status: 'unmatched', key: { seriesId: 'KXNFLGAME', gameDate: '2026-11-28', teams: 'KCDAL' } },
    ],
    [
      'home and away swapped do not match',
      game('nfl', '2026-11-27T21:30:00Z', 'DAL', 'KC'),
      EVENTS,
      { status: 'unmatched', key: { seriesId: 'KXNFLGAME', gameDate: '2026-11-27', teams: 'DALKC' } },
    ],
    [
      'ET date boundary: a 00:30Z kickoff belongs to the previous ET day',
      game('nfl', '2026-11-27T00:30:00Z', 'CIN', 'BAL'), // 19:30 ET on Nov 26
      EVENTS,
      { status: 'matched', eventId: 'KXNFLGAME-26NOV26CINBAL' },
    ],
    [
      'ET date boundary: the UTC date would be wrong',
      game('nfl', '2026-11-27T00:30:00Z', 'CIN', 'BAL'),
      [kalshiEvent('KXNFLGAME-26NOV27CINBAL')],
      { status: 'unmatched', key: { seriesId: 'KXNFLGAME', gameDate: '2026-11-26', teams: 'CINBAL' } },
    ],
    [
      'ET date boundary in summer time (UTC-4): 03:59Z is still the previous day',
      game('nfl', '2026-09-11T03:59:00Z', 'CIN', 'BAL'),
      [kalshiEvent('KXNFLGAME-26SEP10CINBAL')],
      { status: 'matched', eventId: 'KXNFLGAME-26SEP10CINBAL' },
    ],
    [
      'alias: ESPN WSH is Kalshi WAS',
      game('nfl', '2026-11-29T18:00:00Z', 'WSH', 'NYG'),
      EVENTS,
      { status: 'matched', eventId: 'KXNFLGAME-26NOV29WASNYG' },
    ],
    [
      'alias per sport: NBA NY is Kalshi NYK',
      game('nba', '2026-11-28T00:30:00Z', 'BOS', 'NY'),
      EVENTS,
      { status: 'matched', eventId: 'KXNBAGAME-26NOV27BOSNYK' },
    ],
    [
      'another sport’s series never matches',
      game('nba', '2026-11-27T21:30:00Z', 'KC', 'DAL'),
      EVENTS,
      { status: 'unmatched', key: { seriesId: 'KXNBAGAME', gameDate: '2026-11-27', teams: 'KCDAL' } },
    ],
    [
      'an event of the wrong series with the right metadata does not match',
      KC_AT_DAL,
      [kalshiEvent('KXNFLGAME-26NOV27KCDAL', { eventId: 'KXNFLSPREAD-26NOV27KCDAL', seriesId: 'KXNFLSPREAD' })],
      { status: 'unmatched', key: { seriesId: 'KXNFLGAME', gameDate: '2026-11-27', teams: 'KCDAL' } },
    ],
    [
      'ambiguous: two events fit, reported and never guessed',
      KC_AT_DAL,
      [...EVENTS, kalshiEvent('KXNFLGAME-26NOV27KCDAL', { eventId: 'KXNFLGAME-26NOV27KCDALG2' })],
      {
        status: 'ambiguous',
        key: { seriesId: 'KXNFLGAME', gameDate: '2026-11-27', teams: 'KCDAL' },
        candidates: ['KXNFLGAME-26NOV27KCDAL', 'KXNFLGAME-26NOV27KCDALG2'],
      },
    ],
    [
      'unmatched: no event for the game',
      game('nfl', '2026-11-27T01:15:00Z', 'GB', 'DET'),
      EVENTS,
      { status: 'unmatched', key: { seriesId: 'KXNFLGAME', gameDate: '2026-11-26', teams: 'GBDET' } },
    ],
    [
      'events without game metadata are ignored',
      KC_AT_DAL,
      [kalshiEvent('KXNFLGAME-26NOV27KCDAL', { metadata: null }), kalshiEvent('KXNFLGAME-26NOV27KCDAL', { metadata: { teams: 'KCDAL' } })],
      { status: 'unmatched', key: { seriesId: 'KXNFLGAME', gameDate: '2026-11-27', teams: 'KCDAL' } },
    ],
    ['a sport without a game series is unmatched', game('mlb', '2026-07-04T17:00:00Z', 'NYY', 'BOS'), EVENTS, { status: 'unmatched' }],
  ];

  it.each(cases)('%s', (_label, g, events, expected) => {
    expect(matchGame(g, events)).toEqual(expected);
  });

  it('is pure: the same input always gives the same outcome, whatever the order of events', () => {
    const reversed = [...EVENTS].reverse();
    expect(matchGame(KC_AT_DAL, reversed)).toEqual(matchGame(KC_AT_DAL, EVENTS));
  });
});

describe('easternDate', () => {
  it.each([
    ['2026-11-27T04:59:59Z', '2026-11-26'], // EST (UTC-5)
    ['2026-11-27T05:00:00Z', '2026-11-27'],
    ['2026-07-04T03:59:59Z', '2026-07-03'], // EDT (UTC-4)
    ['2026-07-04T04:00:00Z', '2026-07-04'],
    ['2024-09-06T00:20:00Z', '2024-09-05'],
  ])('%s is %s in New York', (instant, date) => {
    expect(easternDate(new Date(instant))).toBe(date);
  });

  it('refuses an invalid date', () => {
    expect(() => easternDate(new Date('nope'))).toThrow(RangeError);
  });
});

describe('team codes', () => {
  it('maps aliased codes and passes the others through, upper-cased', () => {
    expect(kalshiTeamCode('nfl', 'WSH')).toBe('WAS');
    expect(kalshiTeamCode('nfl', 'kc')).toBe('KC');
    expect(kalshiTeamCode('nba', 'GS')).toBe('GSW');
    expect(kalshiTeamCode('ncaaf', 'WSH')).toBe('WSH'); // aliases are per sport
    expect(kalshiTeamCode('mlb', 'NYY')).toBe('NYY');
  });

  it('has aliases only for sports with a game series, and never maps a code to itself', () => {
    for (const [sport, aliases] of Object.entries(TEAM_CODE_ALIASES)) {
      expect(GAME_SERIES[sport]).toBeDefined();
      for (const [espn, kalshi] of Object.entries(aliases)) {
        expect(kalshi).not.toBe(espn);
        expect(kalshi).toMatch(/^[A-Z]+$/);
      }
    }
  });

  it('builds the event key a game is looked up by', () => {
    expect(gameEventKey(game('nfl', '2024-09-08T20:25Z', 'WSH', 'TB'))).toEqual({
      seriesId: 'KXNFLGAME', gameDate: '2024-09-08', teams: 'WASTB',
    });
  });
});

describe('event status from the game', () => {
  it.each([
    ['scheduled', 'scheduled'],
    ['pregame', 'scheduled'],
    ['live', 'live'],
    ['halftime', 'live'],
    ['final', 'final'],
    ['postponed', 'postponed'],
    ['cancelled', 'cancelled'],
  ] as const)('%s → %s', (gameStatus, eventStatus) => {
    expect(EVENT_STATUS_OF_GAME[gameStatus]).toBe(eventStatus);
  });
});
