import { describe, expect, it } from 'vitest';
import {
  GameStateError,
  mapGameState,
  parseClock,
  valueBucket,
  yesSide,
  type GameStateInput,
  type GameStateMapping,
} from '../../shared/models/gameState';

const live = (sport: string, period: string | null, timeRemaining: string | null, home: number | null, away: number | null, extra: Partial<GameStateInput> = {}): GameStateInput => ({
  sport, period, timeRemaining, homeScore: home, awayScore: away, possession: null, status: 'live', ...extra,
});

describe('parseClock', () => {
  const valid: Array<[string, number]> = [
    ['15:00', 900], ['12:45', 765], ['2:00', 120], ['02:00', 120], ['2:01', 121], ['1:59', 119], ['0:00', 0], ['0:01', 1],
    ['45.2', 45.2], ['0.0', 0], ['9.9', 9.9],
  ];
  it.each(valid)('%s → %s s', (text, seconds) => expect(parseClock(text)).toBe(seconds));

  const invalid = ['', '7', '7:5', '7:60', '7:5a', ' 7:05', '7:05 ', '-1:00', '1:02:03', '123:00', ':30', '7:', 'ab:cd', '60.0', '45.25', '1e2', '７:05'];
  it.each(invalid)('refuses %j', (text) => expect(() => parseClock(text)).toThrow(GameStateError));

  it('refuses a clock longer than the period', () => {
    expect(parseClock('15:00', 900)).toBe(900);
    expect(() => parseClock('15:01', 900)).toThrow(/exceeds the period length \(15:00\)/);
  });
});

describe('value buckets', () => {
  const football: Array<[number, string]> = [
    [0, 'tied'], [1, 'lead_1_3'], [3, 'lead_1_3'], [4, 'lead_4_7'], [7, 'lead_4_7'], [8, 'lead_8_10'], [10, 'lead_8_10'],
    [11, 'lead_11_14'], [14, 'lead_11_14'], [15, 'lead_15_21'], [21, 'lead_15_21'], [22, 'lead_22_plus'], [60, 'lead_22_plus'],
  ];
  it.each(football)('nfl and ncaaf: margin %i → %s', (margin, bucket) => {
    expect(valueBucket('nfl', margin)).toBe(bucket);
    expect(valueBucket('ncaaf', margin)).toBe(bucket);
  });

  const basketball: Array<[number, string]> = [
    [0, 'tied'], [1, 'lead_1_5'], [5, 'lead_1_5'], [6, 'lead_6_10'], [10, 'lead_6_10'], [11, 'lead_11_15'], [15, 'lead_11_15'],
    [16, 'lead_16_20'], [20, 'lead_16_20'], [21, 'lead_21_plus'], [45, 'lead_21_plus'],
  ];
  it.each(basketball)('nba: margin %i → %s', (margin, bucket) => expect(valueBucket('nba', margin)).toBe(bucket));

  it('refuses negative or fractional margins and unknown sports', () => {
    expect(() => valueBucket('nfl', -1)).toThrow(GameStateError);
    expect(() => valueBucket('nfl', 1.5)).toThrow(GameStateError);
    expect(() => valueBucket('mlb', 1)).toThrow(/unsupported sport "mlb"/);
  });
});

describe('mapGameState: football (NFL, NCAAF)', () => {
  type Case = [string, GameStateInput, Partial<GameStateMapping>];
  const cases: Case[] = [
    ['scheduled game is pregame, 0-0 tied', live('nfl', null, null, null, null, { status: 'scheduled' }), { stateDescriptor: 'pregame', valueBucket: 'tied', leader: 'tied', margin: 0 }],
    ['pregame status', live('nfl', null, null, 0, 0, { status: 'pregame' }), { stateDescriptor: 'pregame', valueBucket: 'tied' }],
    ['Q1 kickoff is q1', live('nfl', 'Q1', '15:00', 0, 0), { stateDescriptor: 'q1' }],
    ['Q1 2:01 is still q1', live('nfl', 'Q1', '2:01', 7, 0), { stateDescriptor: 'q1', valueBucket: 'lead_4_7', leader: 'home', margin: 7 }],
    ['Q1 2:00 is end_q1 (window bound included)', live('nfl', 'Q1', '2:00', 7, 0), { stateDescriptor: 'end_q1' }],
    ['Q1 0:00 is end_q1', live('nfl', 'Q1', '0:00', 0, 3), { stateDescriptor: 'end_q1', leader: 'away', valueBucket: 'lead_1_3' }],
    ['Q2 15:00 is q2, not end_q1', live('nfl', 'Q2', '15:00', 0, 0), { stateDescriptor: 'q2' }],
    ['Q2 2:01 is q2', live('nfl', 'Q2', '02:01', 10, 0), { stateDescriptor: 'q2', valueBucket: 'lead_8_10' }],
    ['Q2 2:00 is halftime', live('nfl', 'Q2', '2:00', 10, 0), { stateDescriptor: 'halftime' }],
    ['Halftime period', live('nfl', 'Halftime', null, 14, 3), { stateDescriptor: 'halftime', valueBucket: 'lead_11_14', leader: 'home', margin: 11 }],
    ['halftime status', live('nfl', 'Halftime', null, 3, 24, { status: 'halftime' }), { stateDescriptor: 'halftime', valueBucket: 'lead_15_21', leader: 'away' }],
    ['Q3 mid-period', live('nfl', 'Q3', '8:30', 21, 21), { stateDescriptor: 'q3', valueBucket: 'tied', leader: 'tied' }],
    ['Q3 2:00 is end_q3', live('nfl', 'Q3', '2:00', 30, 7), { stateDescriptor: 'end_q3', valueBucket: 'lead_22_plus' }],
    ['Q4 keeps q4 to the end', live('nfl', 'Q4', '0:30', 20, 17), { stateDescriptor: 'q4', valueBucket: 'lead_1_3' }],
    ['Q4 early', live('nfl', 'Q4', '14:59', 20, 17), { stateDescriptor: 'q4' }],
    ['OT without clock', live('nfl', 'OT', null, 20, 20), { stateDescriptor: 'overtime', valueBucket: 'tied' }],
    ['2OT', live('ncaaf', '2OT', null, 27, 27), { stateDescriptor: 'overtime' }],
    ['lower-case period', live('ncaaf', 'q2', '1:00', 0, 0), { stateDescriptor: 'halftime' }],
    ['possession is passed through', live('nfl', 'Q3', '9:00', 3, 0, { possession: 'away' }), { possession: 'away' }],
  ];
  it.each(cases)('%s', (_name, input, expected) => expect(mapGameState(input)).toMatchObject(expected));

  const refused: Array<[string, GameStateInput, RegExp]> = [
    ['final game', live('nfl', 'Final', null, 20, 17, { status: 'final' }), /game is final/],
    ['postponed game', live('nfl', null, null, null, null, { status: 'postponed' }), /game is postponed/],
    ['malformed clock', live('nfl', 'Q2', '2:0', 7, 0), /not a MM:SS clock/],
    ['clock beyond 15:00', live('nfl', 'Q2', '15:01', 7, 0), /exceeds the period length/],
    ['quarter without clock', live('nfl', 'Q2', null, 7, 0), /time remaining is missing/],
    ['unknown period', live('nfl', 'Q5', '1:00', 7, 0), /unknown period "Q5"/],
    ['missing score while live', live('nfl', 'Q2', '5:00', null, 0), /home score is missing/],
    ['unsupported sport', live('mlb', 'Q2', '5:00', 1, 0), /unsupported sport/],
  ];
  it.each(refused)('refuses: %s', (_name, input, message) => expect(() => mapGameState(input)).toThrow(message));
});

describe('mapGameState: basketball (NBA)', () => {
  const cases: Array<[string, GameStateInput, Partial<GameStateMapping>]> = [
    ['Q1 12:00', live('nba', 'Q1', '12:00', 0, 0), { stateDescriptor: 'q1', valueBucket: 'tied' }],
    ['Q1 1:01 is q1 (one-minute window)', live('nba', 'Q1', '1:01', 30, 25), { stateDescriptor: 'q1', valueBucket: 'lead_1_5' }],
    ['Q1 1:00 is end_q1', live('nba', 'Q1', '1:00', 30, 24), { stateDescriptor: 'end_q1', valueBucket: 'lead_6_10' }],
    ['sub-minute clock', live('nba', 'Q2', '24.7', 50, 65), { stateDescriptor: 'halftime', leader: 'away', valueBucket: 'lead_11_15' }],
    ['Q3 end', live('nba', 'Q3', '0:40', 90, 70), { stateDescriptor: 'end_q3', valueBucket: 'lead_16_20' }],
    ['Q4 blowout', live('nba', 'Q4', '6:00', 120, 95), { stateDescriptor: 'q4', valueBucket: 'lead_21_plus' }],
  ];
  it.each(cases)('%s', (_name, input, expected) => expect(mapGameState(input)).toMatchObject(expected));

  it('refuses a clock beyond 12:00', () => {
    expect(() => mapGameState(live('nba', 'Q1', '13:00', 0, 0))).toThrow(/exceeds the period length \(12:00\)/);
  });
});

describe('yesSide', () => {
  const game = { sport: 'nfl', homeTeam: 'WSH', awayTeam: 'KC' };
  it.each([
    ['KC', 'away'], ['kc', 'away'], ['WSH', 'home'], ['WAS', 'home'], ['DAL', undefined], [null, undefined], ['', undefined],
  ] as const)('%j → %s', (yes, side) => expect(yesSide(yes, game)).toBe(side));

  it('a code naming both sides is ambiguous', () => expect(yesSide('KC', { sport: 'nfl', homeTeam: 'KC', awayTeam: 'KC' })).toBeUndefined());
});
