import { describe, expect, it } from 'vitest';
import {
  betGroupOf, describeLeg, legRelation, outcomeKeyOf, winnerLeg, type Leg, type LegRelation, type OutcomeMarket,
} from '../../shared/edges/outcomes';

const EVENT = 'KXNFLGAME-26DEC06DALPHI';
const market = (team: string, overrides: Partial<OutcomeMarket> = {}): OutcomeMarket => ({
  marketId: `${EVENT}-${team}`, ticker: `${EVENT}-${team}`, eventId: EVENT, seriesId: 'KXNFLGAME', ...overrides,
});
const PHI = market('PHI');
const DAL = market('DAL');
const leg = (m: OutcomeMarket, side: 'yes' | 'no'): Leg => ({ market: m, side });

describe('outcome keys of a game\'s winner legs', () => {
  it.each<[string, Leg, string]>([
    ['home YES pays on the home team', leg(PHI, 'yes'), `event:${EVENT}:wins:PHI`],
    ['away NO pays on the home team', leg(DAL, 'no'), `event:${EVENT}:wins:PHI`],
    ['away YES pays on the away team', leg(DAL, 'yes'), `event:${EVENT}:wins:DAL`],
    ['home NO pays on the away team', leg(PHI, 'no'), `event:${EVENT}:wins:DAL`],
  ])('%s', (_name, l, key) => {
    expect(outcomeKeyOf(l)).toBe(key);
  });

  it.each<[string, Leg, Leg, LegRelation]>([
    ['the same contract', leg(PHI, 'yes'), leg(PHI, 'yes'), 'same'],
    ['HOME YES and AWAY NO (the quarter_live v1.0 pair: PHI YES, DAL NO)', leg(PHI, 'yes'), leg(DAL, 'no'), 'equivalent'],
    ['AWAY YES and HOME NO', leg(DAL, 'yes'), leg(PHI, 'no'), 'equivalent'],
    ['HOME YES and HOME NO', leg(PHI, 'yes'), leg(PHI, 'no'), 'opposite'],
    ['HOME YES and AWAY YES', leg(PHI, 'yes'), leg(DAL, 'yes'), 'opposite'],
    ['HOME NO and AWAY NO', leg(PHI, 'no'), leg(DAL, 'no'), 'opposite'],
    ['legs of two different games', leg(PHI, 'yes'), leg(market('KC', { eventId: 'KXNFLGAME-26DEC06BUFKC', marketId: 'KXNFLGAME-26DEC06BUFKC-KC', ticker: 'KXNFLGAME-26DEC06BUFKC-KC' }), 'no'), 'unrelated'],
  ])('%s: %s', (_name, a, b, relation) => {
    expect(legRelation(a, b)).toBe(relation);
    expect(legRelation(b, a)).toBe(relation);
  });

  it('a two-letter and a three-letter code split AWAY+HOME one way only', () => {
    const e = 'KXNFLGAME-26DEC06KCDAL';
    expect(winnerLeg({ marketId: `${e}-KC`, ticker: `${e}-KC`, eventId: e, seriesId: 'KXNFLGAME' })).toEqual({ eventId: e, team: 'KC', otherTeam: 'DAL' });
    expect(winnerLeg({ marketId: `${e}-DAL`, ticker: `${e}-DAL`, eventId: e, seriesId: 'KXNFLGAME' })).toEqual({ eventId: e, team: 'DAL', otherTeam: 'KC' });
  });

  it.each<[string, OutcomeMarket]>([
    ['the venue says the event is not mutually exclusive', market('PHI', { mutuallyExclusive: false })],
    ['a series that is not a two-team game series (a tie market could exist)', market('PHI', { seriesId: 'KXMLSGAME', eventId: 'KXMLSGAME-26DEC06DALPHI', ticker: 'KXMLSGAME-26DEC06DALPHI-PHI' })],
    ['a market that is not one of the two teams', market('WIDE')],
    ['a ticker that is not under its event', market('PHI', { ticker: 'KXNFLGAME-26DEC07DALPHI-PHI' })],
    ['an event ticker without a game date', market('PHI', { eventId: 'KXNFLGAME-DALPHI', ticker: 'KXNFLGAME-DALPHI-PHI' })],
    ['a split that reads two ways (LA in LACLA: LA+CLA or LAC+LA)', { marketId: 'm', ticker: 'KXNBAGAME-26DEC06LACLA-LA', eventId: 'KXNBAGAME-26DEC06LACLA', seriesId: 'KXNBAGAME' }],
    ['no event', market('PHI', { eventId: null })],
  ])('no winner leg when %s: the market is its own group', (_name, m) => {
    expect(winnerLeg(m)).toBeNull();
    expect(betGroupOf(m)).toBe(`market:${m.marketId}`);
    expect(outcomeKeyOf(leg(m, 'yes'))).toBe(`market:${m.marketId}:yes`);
  });

  it('an explicit mutually_exclusive true keeps the mapping; markets of one game share a group', () => {
    expect(winnerLeg(market('PHI', { mutuallyExclusive: true }))).toEqual({ eventId: EVENT, team: 'PHI', otherTeam: 'DAL' });
    expect(betGroupOf(PHI)).toBe(`event:${EVENT}`);
    expect(betGroupOf(DAL)).toBe(`event:${EVENT}`);
  });

  it('a market of the game that is not a winner leg is unrelated to the legs', () => {
    expect(legRelation(leg(PHI, 'yes'), leg(market('WIDE'), 'no'))).toBe('unrelated');
  });

  it('names a leg by ticker and side', () => {
    expect(describeLeg(leg(DAL, 'no'))).toBe(`${EVENT}-DAL NO`);
  });
});
