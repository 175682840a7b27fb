import { describe, expect, it } from 'vitest';
import { DEFAULT_TRADING_RULES } from '../../shared/config/tradingRules';
import { dec } from '../../shared/domain/decimal';
import type { OutcomeMarket } from '../../shared/edges/outcomes';
import { evaluateEntryChecks, type EntryCheckSnapshot } from '../../shared/execution/entryChecks';

const NOW = new Date('2026-11-27T22:00:00Z');
/** A game's winner legs: PHI at home against DAL (PHI YES pays as DAL NO does). */
const GAME = 'KXNFLGAME-26NOV27DALPHI';
const legMarket = (team: string): OutcomeMarket => ({ marketId: `${GAME}-${team}`, ticker: `${GAME}-${team}`, eventId: GAME, seriesId: 'KXNFLGAME' });
const heldLeg = (team: string, side: 'yes' | 'no', source: 'position' | 'order' = 'position') =>
  ({ market: legMarket(team), side, cost: dec('120'), source });
const secondsAgo = (s: number) => new Date(NOW.getTime() - s * 1000);

/** A halftime entry that passes every check: p = 0.80, YES ask 0.60 (edge 0.20 ≥ 0.06). */
function snapshot(overrides: Partial<EntryCheckSnapshot> = {}): EntryCheckSnapshot {
  return {
    breakers: [],
    desynced: false,
    market: { status: 'open', yesAsk: dec('0.60'), noAsk: dec('0.42'), eventId: 'EVT' },
    edge: { current: true, trueWinProbability: dec('0.80'), confidenceLevel: 'high' },
    strategy: { name: 'halftime_entry', version: 'v1.0', status: 'active', config: { model: { name: 'm', version: 'v1.0' }, kind: 'halftime' } },
    openPositions: 0,
    totalExposure: dec('0'),
    eventPositions: 0,
    eventExposure: dec('0'),
    marketExposure: dec('0'),
    outcomeMarket: legMarket('PHI'),
    heldLegs: [],
    inFlightOrders: 0,
    inFlightExposure: dec('0'),
    inFlightEventOrders: 0,
    inFlightEventExposure: dec('0'),
    entriesToday: 0,
    pricesAt: secondsAgo(30),
    gameStatesAt: secondsAgo(20),
    gameLive: true,
    now: NOW,
    ...overrides,
  };
}
const order = { side: 'yes' as const, quantity: dec('100'), limitPrice: dec('0.60') }; // $60

describe('entry last-look checks', () => {
  it('passes a fresh, current, profitable entry within limits', () => {
    expect(evaluateEntryChecks(snapshot(), order, DEFAULT_TRADING_RULES)).toEqual({ ok: true });
  });

  it.each<[string, Partial<EntryCheckSnapshot>, RegExp]>([
    ['a tripped breaker', { breakers: ['api_failures'] }, /circuit breaker tripped: api_failures/],
    ['a manual breaker', { breakers: ['manual'] }, /circuit breaker tripped: manual/],
    ['a desynced market', { desynced: true }, /desynced/],
    ['a deprecated strategy', { strategy: { name: 's', version: 'v1.0', status: 'deprecated', config: {} } }, /is deprecated, not active/],
    ['a closed market', { market: { status: 'closed', yesAsk: dec('0.6'), noAsk: dec('0.4'), eventId: 'EVT' } }, /market is closed, not open/],
    ['stale prices', { pricesAt: secondsAgo(121) }, /market prices stale: last ingested 121 s ago \(limit 120 s\)/],
    ['prices never ingested', { pricesAt: null }, /last ingested never/],
    ['a stale game state', { gameStatesAt: secondsAgo(61) }, /game state stale/],
    ['a superseded edge', { edge: { current: false, trueWinProbability: dec('0.8'), confidenceLevel: 'high' } }, /edge superseded/],
    ['no ask', { market: { status: 'open', yesAsk: null, noAsk: dec('0.4'), eventId: 'EVT' } }, /no YES ask/],
    ['the price moved against the edge', { market: { status: 'open', yesAsk: dec('0.75'), noAsk: dec('0.27'), eventId: 'EVT' } },
      /edge at the current ask 0.7500 is 0.0500, below the threshold 0.0600/],
    ['too many open positions', { openPositions: 9, inFlightOrders: 1 }, /open positions limit: 9 open \+ 1 in flight \(limit 10\)/],
    ['total exposure', { totalExposure: dec('9950') }, /total exposure would be 10010.00 \(limit 10000.00\)/],
    ['in-flight exposure counts', { inFlightExposure: dec('9941') }, /total exposure would be 10001.00/],
    ['positions per game', { eventPositions: 2, inFlightEventOrders: 1 }, /positions per game limit/],
    ['exposure per game', { eventExposure: dec('1450') }, /exposure on this game would be 1510.00 \(limit 1500.00\)/],
    ['the per-position cap when increasing a position', { marketExposure: dec('441') }, /position on this market would cost 501.00 \(limit 500.00 per position\)/],
    ['the daily entry count', { entriesToday: 50 }, /daily entry limit reached: 50 entries today \(limit 50\)/],
  ])('refuses %s', (_, overrides, reason) => {
    const result = evaluateEntryChecks(snapshot(overrides), order, DEFAULT_TRADING_RULES);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });

  // Each limit is inclusive: an entry landing exactly on it passes, the smallest step past it is
  // refused. The order costs $60 (100 × 0.60); limits are the defaults (10 open, $10,000 total,
  // 3 per game, $1,500 per game, $500 per position, 50 entries a day).
  describe.each<[string, Partial<EntryCheckSnapshot>, Partial<EntryCheckSnapshot>, RegExp]>([
    ['open positions (count + in flight + this one)', { openPositions: 8, inFlightOrders: 1 }, { openPositions: 9, inFlightOrders: 1 },
      /open positions limit: 9 open \+ 1 in flight \(limit 10\)/],
    ['total exposure (open + in flight + this cost)', { totalExposure: dec('9900'), inFlightExposure: dec('40') },
      { totalExposure: dec('9900'), inFlightExposure: dec('40.0001') }, /total exposure would be 10000.00 \(limit 10000.00\)/],
    ['positions per game', { eventPositions: 1, inFlightEventOrders: 1 }, { eventPositions: 2, inFlightEventOrders: 1 },
      /positions per game limit: 2 open \+ 1 in flight \(limit 3\)/],
    ['exposure per game', { eventExposure: dec('1400'), inFlightEventExposure: dec('40') },
      { eventExposure: dec('1400'), inFlightEventExposure: dec('40.0001') }, /exposure on this game would be 1500.00 \(limit 1500.00\)/],
    ['per-position cost', { marketExposure: dec('440') }, { marketExposure: dec('440.0001') },
      /position on this market would cost 500.00 \(limit 500.00 per position\)/],
    ['daily entries', { entriesToday: 49 }, { entriesToday: 50 }, /daily entry limit reached: 50 entries today \(limit 50\)/],
  ])('the %s limit at its boundary', (_, atLimit, pastLimit, reason) => {
    it('passes an entry exactly at the limit', () => {
      expect(evaluateEntryChecks(snapshot(atLimit), order, DEFAULT_TRADING_RULES)).toEqual({ ok: true });
    });
    it('refuses an entry one step past the limit', () => {
      const result = evaluateEntryChecks(snapshot(pastLimit), order, DEFAULT_TRADING_RULES);
      expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
    });
  });

  it.each<[string, Partial<EntryCheckSnapshot>, RegExp]>([
    ['a missing strategy', { strategy: null }, /^strategy not found$/],
    ['an invalid strategy config', { strategy: { name: 's', version: 'v1.0', status: 'active', config: { kind: 'halftime' } } }, /^strategy config invalid: /],
    ['a missing market', { market: null }, /^market not found$/],
    ['a missing edge', { edge: null }, /^edge not found$/],
    ['a live strategy with a stale game state, even before the game shows live',
      { gameLive: false, gameStatesAt: secondsAgo(61), strategy: { name: 's', version: 'v1.0', status: 'active', config: { model: { name: 'm', version: 'v1.0' }, kind: 'live' } } },
      /game state stale/],
    ['a halftime strategy with a stale game state, even before the game shows live',
      { gameLive: false, gameStatesAt: secondsAgo(61) }, /game state stale/],
    ['a pre-game strategy whose game went live, on a stale game state',
      { gameLive: true, gameStatesAt: secondsAgo(61), strategy: { name: 's', version: 'v1.0', status: 'active', config: { model: { name: 'm', version: 'v1.0' }, kind: 'pre_game' } } },
      /game state stale/],
  ])('refuses %s', (_, overrides, reason) => {
    expect(evaluateEntryChecks(snapshot(overrides), order, DEFAULT_TRADING_RULES)).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
  });

  // One bet per game (edges/outcomes.ts): the order buys PHI YES.
  it.each<[string, EntryCheckSnapshot['heldLegs'], RegExp]>([
    ['the same outcome held on the other market (DAL NO: the quarter_live v1.0 pair)', [heldLeg('DAL', 'no')],
      new RegExp(`^this strategy already holds ${GAME}-DAL NO, the same outcome as ${GAME}-PHI YES: one position per outcome \\(open position, cost 120.00\\)$`)],
    ['the same outcome in flight at the venue', [heldLeg('DAL', 'no', 'order')], /already holds .*-DAL NO, .*\(entry order at the venue, cost 120.00\)/],
    ['the opposite outcome on the other market (DAL YES)', [heldLeg('DAL', 'yes')],
      new RegExp(`^this strategy holds ${GAME}-DAL YES, the opposite outcome of ${GAME}-PHI YES in the same game: it does not bet against its own position`)],
    ['the opposite side of the same market (PHI NO)', [heldLeg('PHI', 'no')], /holds .*-PHI NO, the opposite outcome of .*-PHI YES/],
  ])('refuses a second bet on one game: %s', (_, heldLegs, reason) => {
    expect(evaluateEntryChecks(snapshot({ heldLegs }), order, DEFAULT_TRADING_RULES)).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
  });

  it.each<[string, Partial<EntryCheckSnapshot>]>([
    ['more of the same contract (PHI YES), under the per-position cap', { heldLegs: [heldLeg('PHI', 'yes')], marketExposure: dec('120') }],
    ['a contract of another game', { heldLegs: [{ ...heldLeg('KC', 'no'), market: { ...legMarket('KC'), eventId: 'KXNFLGAME-26NOV27BUFKC', marketId: 'KXNFLGAME-26NOV27BUFKC-KC', ticker: 'KXNFLGAME-26NOV27BUFKC-KC' } }] }],
    ['both legs when the venue says the event is not mutually exclusive',
      { outcomeMarket: { ...legMarket('PHI'), mutuallyExclusive: false }, heldLegs: [{ ...heldLeg('DAL', 'no'), market: { ...legMarket('DAL'), mutuallyExclusive: false } }] }],
  ])('passes %s', (_, overrides) => {
    expect(evaluateEntryChecks(snapshot(overrides), order, DEFAULT_TRADING_RULES)).toEqual({ ok: true });
  });

  it.each<[string, Partial<EntryCheckSnapshot>]>([
    ['prices exactly at the age limit (120 s)', { pricesAt: secondsAgo(120) }],
    ['a game state exactly at the age limit (60 s)', { gameStatesAt: secondsAgo(60) }],
    ['a breaker configured not to block entries', { breakers: ['data_stale'] }],
  ])('passes %s', (_, overrides) => {
    const rules = { ...DEFAULT_TRADING_RULES, circuitBreakers: { ...DEFAULT_TRADING_RULES.circuitBreakers,
      dataStale: { ...DEFAULT_TRADING_RULES.circuitBreakers.dataStale, blockEntries: false } } };
    expect(evaluateEntryChecks(snapshot(overrides), order, rules)).toEqual({ ok: true });
  });

  it('a market order (no limit price) is costed at the ask', () => {
    // 100 × 0.60 ask = $60 on top of $440: exactly the $500 per position passes, $440.01 does not.
    const market = { side: 'yes' as const, quantity: dec('100'), limitPrice: null };
    expect(evaluateEntryChecks(snapshot({ marketExposure: dec('440') }), market, DEFAULT_TRADING_RULES)).toEqual({ ok: true });
    expect(evaluateEntryChecks(snapshot({ marketExposure: dec('440.01') }), market, DEFAULT_TRADING_RULES))
      .toMatchObject({ ok: false, reason: expect.stringMatching(/would cost 500.01/) });
  });

  it('uses the strategy min_edge over the kind default, and the NO side probability for NO', () => {
    const strict = snapshot({ strategy: { name: 's', version: 'v1.0', status: 'active', config: { model: { name: 'm', version: 'v1.0' }, kind: 'halftime', min_edge: '0.25' } } });
    expect(evaluateEntryChecks(strict, order, DEFAULT_TRADING_RULES)).toMatchObject({ ok: false, reason: expect.stringMatching(/threshold 0.2500/) });
    // NO: 1 − 0.80 = 0.20 against a NO ask of 0.42: a negative edge.
    expect(evaluateEntryChecks(snapshot(), { ...order, side: 'no', limitPrice: dec('0.42') }, DEFAULT_TRADING_RULES))
      .toMatchObject({ ok: false, reason: expect.stringMatching(/is -0.2200/) });
  });

  it('a pre-game entry does not need a fresh game state', () => {
    const preGame = snapshot({
      gameLive: false, gameStatesAt: null,
      strategy: { name: 's', version: 'v1.0', status: 'active', config: { model: { name: 'm', version: 'v1.0' }, kind: 'pre_game' } },
    });
    expect(evaluateEntryChecks(preGame, order, DEFAULT_TRADING_RULES)).toEqual({ ok: true });
  });
});
