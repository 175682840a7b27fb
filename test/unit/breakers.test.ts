import { describe, expect, it } from 'vitest';
import { DEFAULT_TRADING_RULES } from '../../shared/config/tradingRules';
import { dec } from '../../shared/domain/decimal';
import { breakerConditions, evaluateBreakers, type BreakerFacts } from '../../shared/risk/breakers';

const NOW = new Date('2026-11-27T18:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);

function facts(overrides: Partial<BreakerFacts> = {}): BreakerFacts {
  return {
    now: NOW, dayStart: new Date('2026-11-27T00:00:00Z'), dailyPnl: dec('0'), capital: dec('10000'), rapidPnl: dec('0'),
    apiErrors: 0, lastVenueAnswers: [], pricesAt: ago(30), gameStatesAt: ago(20), liveGames: 0, recentTrades: 0, open: [],
    ...overrides,
  };
}
const tripped = (f: Partial<BreakerFacts>) => [...breakerConditions(facts(f), DEFAULT_TRADING_RULES).keys()];

describe('circuit breaker conditions, at, just below and just above their thresholds', () => {
  it('nothing trips on a quiet day', () => {
    expect(tripped({})).toEqual([]);
  });

  it.each<[string, Partial<BreakerFacts>, boolean]>([
    // daily_loss_limit: loss > min($500, 10% of capital)
    ['daily loss exactly $500', { dailyPnl: dec('-500') }, false],
    ['daily loss $500.0001', { dailyPnl: dec('-500.0001') }, true],
    ['daily loss $300 on $3,000 capital (10%: limit $300)', { dailyPnl: dec('-300'), capital: dec('3000') }, false],
    ['daily loss $300.01 on $3,000 capital', { dailyPnl: dec('-300.01'), capital: dec('3000') }, true],
    ['a daily gain', { dailyPnl: dec('900') }, false],
  ])('daily_loss_limit: %s', (_, f, expected) => {
    expect(tripped(f).includes('daily_loss_limit')).toBe(expected);
  });

  it.each<[string, Partial<BreakerFacts>, boolean]>([
    ['4 API errors in 5 minutes', { apiErrors: 4 }, false],
    ['5 API errors in 5 minutes', { apiErrors: 5 }, true],
    ['2 consecutive rejections', { lastVenueAnswers: [true, true, false, true] }, false],
    ['3 consecutive rejections', { lastVenueAnswers: [true, true, true, false] }, true],
    ['3 rejections, not consecutive', { lastVenueAnswers: [true, false, true, true] }, false],
  ])('api_failures: %s', (_, f, expected) => {
    expect(tripped(f).includes('api_failures')).toBe(expected);
  });

  it.each<[string, Partial<BreakerFacts>, boolean]>([
    ['prices 120 s old', { pricesAt: ago(120) }, false],
    ['prices 121 s old', { pricesAt: ago(121) }, true],
    ['prices never ingested', { pricesAt: null }, true],
    ['game states 61 s old, no live game', { gameStatesAt: ago(61) }, false],
    ['game states 60 s old, a live game', { gameStatesAt: ago(60), liveGames: 1 }, false],
    ['game states 61 s old, a live game', { gameStatesAt: ago(61), liveGames: 1 }, true],
  ])('data_stale: %s', (_, f, expected) => {
    expect(tripped(f).includes('data_stale')).toBe(expected);
  });

  it.each<[string, Partial<BreakerFacts>, boolean]>([
    ['$200 lost in 15 minutes', { rapidPnl: dec('-200') }, false],
    ['$200.0001 lost in 15 minutes', { rapidPnl: dec('-200.0001') }, true],
  ])('rapid_loss: %s', (_, f, expected) => {
    expect(tripped(f).includes('rapid_loss')).toBe(expected);
  });

  it.each<[string, Partial<BreakerFacts>, boolean]>([
    ['20 trades in 5 minutes', { recentTrades: 20 }, false],
    ['21 trades in 5 minutes', { recentTrades: 21 }, true],
  ])('trade_rate: %s', (_, f, expected) => {
    expect(tripped(f).includes('trade_rate')).toBe(expected);
  });

  it('records the figures of every breaker that trips', () => {
    const conditions = breakerConditions(facts({
      apiErrors: 5, lastVenueAnswers: [true, true, false], rapidPnl: dec('-250'), recentTrades: 25,
      pricesAt: ago(130.4), gameStatesAt: ago(70.6), liveGames: 2,
    }));
    expect(conditions.get('api_failures')).toEqual({ api_errors: 5, window_s: 300, max_errors: 5, consecutive_rejections: 2 });
    expect(conditions.get('data_stale')).toEqual({ price_age_s: 130, max_price_age_s: 120, game_state_age_s: 71, max_game_state_age_s: 60, live_games: 2 });
    expect(conditions.get('rapid_loss')).toEqual({ pnl: '-250.0000', limit: '200.0000', window_s: 900 });
    expect(conditions.get('trade_rate')).toEqual({ trades: 25, max_trades: 20, window_s: 300 });
    // Consecutive rejections counted from the latest answer; all of a short history; none.
    expect(breakerConditions(facts({ apiErrors: 5, lastVenueAnswers: [true, true] })).get('api_failures')).toMatchObject({ consecutive_rejections: 2 });
    expect(breakerConditions(facts({ apiErrors: 5, lastVenueAnswers: [false, true] })).get('api_failures')).toMatchObject({ consecutive_rejections: 0 });
    expect(breakerConditions(facts({ apiErrors: 5, lastVenueAnswers: [] })).get('api_failures')).toMatchObject({ consecutive_rejections: 0 });
  });

  it('a live game whose state was never ingested is stale; the ages are null when never ingested', () => {
    const conditions = breakerConditions(facts({ gameStatesAt: null, liveGames: 1 }));
    expect(conditions.get('data_stale')).toMatchObject({ game_state_age_s: null, price_age_s: 30 });
    expect(breakerConditions(facts({ pricesAt: null })).get('data_stale')).toMatchObject({ price_age_s: null, game_state_age_s: 20 });
  });

  it('records the figures that tripped it', () => {
    const conditions = breakerConditions(facts({ dailyPnl: dec('-612.5'), capital: dec('8000') }));
    expect(conditions.get('daily_loss_limit')).toEqual({ daily_pnl: '-612.5000', limit: '500.0000', capital: '8000.0000', since: '2026-11-27T00:00:00.000Z' });
  });
});

describe('trips and automatic resolutions', () => {
  it('an open breaker of a type is not tripped again', () => {
    const f = facts({ recentTrades: 30, open: [{ eventId: 4, type: 'trade_rate', triggeredAt: ago(60) }] });
    expect(evaluateBreakers(f).trips).toEqual([]);
  });

  it.each<[string, BreakerFacts['open'][number], Partial<BreakerFacts>, string | null]>([
    ['daily loss tripped yesterday: resolved at the new trading day', { eventId: 1, type: 'daily_loss_limit', triggeredAt: new Date('2026-11-26T20:00:00Z') }, {}, 'auto: next trading day'],
    ['daily loss tripped today: stays, even with the loss recovered', { eventId: 1, type: 'daily_loss_limit', triggeredAt: ago(600) }, {}, null],
    ['data stale, fresh again: cleared', { eventId: 2, type: 'data_stale', triggeredAt: ago(600) }, {}, 'auto: condition cleared'],
    ['data stale, still stale: stays', { eventId: 2, type: 'data_stale', triggeredAt: ago(600) }, { pricesAt: ago(500) }, null],
    ['trade rate back under: cleared', { eventId: 3, type: 'trade_rate', triggeredAt: ago(600) }, { recentTrades: 3 }, 'auto: condition cleared'],
    ['api failures: an operator resolves them', { eventId: 5, type: 'api_failures', triggeredAt: ago(6000) }, {}, null],
    ['rapid loss: an operator resolves it', { eventId: 6, type: 'rapid_loss', triggeredAt: new Date('2026-11-20T00:00:00Z') }, {}, null],
    ['manual: an operator resolves it', { eventId: 7, type: 'manual', triggeredAt: new Date('2026-11-20T00:00:00Z') }, {}, null],
  ])('%s', (_, open, f, action) => {
    const { resolutions } = evaluateBreakers(facts({ ...f, open: [open] }));
    expect(resolutions).toEqual(action ? [{ eventId: open.eventId, type: open.type, action }] : []);
  });

  it('a daily loss tripped exactly at the start of the day stays for that day', () => {
    const open = { eventId: 1, type: 'daily_loss_limit' as const, triggeredAt: new Date('2026-11-27T00:00:00Z') };
    expect(evaluateBreakers(facts({ open: [open] })).resolutions).toEqual([]);
  });

  it('`only` also limits the automatic resolutions', () => {
    const f = facts({ open: [{ eventId: 3, type: 'trade_rate', triggeredAt: ago(600) }, { eventId: 2, type: 'data_stale', triggeredAt: ago(600) }] });
    expect(evaluateBreakers(f, DEFAULT_TRADING_RULES, ['data_stale']).resolutions).toEqual([{ eventId: 2, type: 'data_stale', action: 'auto: condition cleared' }]);
  });

  it('`only` limits the check to the breakers asked for', () => {
    const f = facts({ recentTrades: 30, apiErrors: 9 });
    expect(evaluateBreakers(f, DEFAULT_TRADING_RULES, ['api_failures']).trips.map((t) => t.type)).toEqual(['api_failures']);
  });
});
