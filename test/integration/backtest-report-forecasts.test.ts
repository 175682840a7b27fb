import { describe, expect, it } from 'vitest';
import { readForecastMoments } from '../../backtest/report/build';
import type { BacktestRunInfo } from '../../backtest/report/types';
import { forecastComparison } from '../../shared/backtest/metrics';
import { Decimal } from '../../shared/domain/decimal';
import { useTestDatabase } from '../helpers/database';
import { marketSnapshot, seedHierarchy, seedMarkets, seedStrategyAndModel } from '../helpers/seed';

/*
 * The decision moments the report scores, read from hand-written edge rows. Model elo_nfl v1.0;
 * KC settles YES at 13:00, DAL settles NO, OPEN never settles.
 *   KC 12:00   YES row p .70, implied .60; NO row p .70, implied .42  → one moment: model .70, market .60, YES
 *   KC 12:00   a NO row from a second strategy (same model)          → the same moment, not another
 *   KC 12:30   NO row only: p .80, NO implied .25                    → model .80, market 1 − .25 = .75, YES
 *   KC 13:30   after the settlement                                  → not a decision before the outcome
 *   DAL 12:00  YES row p .40, implied .45                            → model .40, market .45, NO
 *   OPEN 12:00 YES row                                                → no outcome
 * Brier: model (.3² + .2² + .4²)/3 = .29/3 = 0.096667; market (.4² + .25² + .45²)/3 = .425/3 = 0.141667.
 * Log loss: model −(ln .7 + ln .8 + ln .6)/3 = 0.363548; market −(ln .6 + ln .75 + ln .55)/3 = 0.465448.
 */
const db = useTestDatabase();
const at = (hhmm: string) => new Date(`2026-09-13T${hhmm}:00.000Z`);

describe('forecast moments from the replay database', () => {
  it('one per model, market and time, on the YES scale, only before a YES/NO settlement; scored by hand', async () => {
    const { pool } = db();
    await seedHierarchy(pool);
    await seedMarkets(pool, ['KC', 'DAL', 'OPEN'].map((m) => marketSnapshot(m, '0.50')));
    const { strategy, model } = await seedStrategyAndModel(pool);
    const { rows: [second] } = await pool.query(
      `INSERT INTO strategies (strategy_name, strategy_version, strategy_type, sport, config, status)
       VALUES ('halftime_entry', 'v1.1', 'entry', 'nfl', '{}', 'active') RETURNING strategy_id`,
    );
    const edge = async (strategyId: number, market: string, side: 'yes' | 'no', p: string, implied: string, when: Date) => {
      await pool.query(
        `INSERT INTO edge_identities (market_id, strategy_id, model_id, side) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [market, strategyId, model.id, side],
      );
      // History rows (closed), so several per key can coexist beside the one-current-row index.
      await pool.query(
        `INSERT INTO edges (market_id, strategy_id, model_id, side, expected_value, true_win_probability, market_implied_probability,
                            market_price, created_at, superseded_at, row_current_ind)
         VALUES ($1, $2, $3, $4, 0, $5, $6, $6, $7, $7::timestamptz + interval '1 second', false)`,
        [market, strategyId, model.id, side, p, implied, when],
      );
    };
    // The YES row between two NO rows: neither the first nor the last row of the moment is the one to read.
    await edge(strategy.id, 'KC', 'no', '0.70', '0.42', at('12:00'));
    await edge(strategy.id, 'KC', 'yes', '0.70', '0.60', at('12:00'));
    await edge(Number(second.strategy_id), 'KC', 'no', '0.70', '0.42', at('12:00'));
    await edge(strategy.id, 'KC', 'no', '0.80', '0.25', at('12:30'));
    await edge(strategy.id, 'KC', 'yes', '0.99', '0.99', at('13:30'));
    await edge(strategy.id, 'DAL', 'yes', '0.40', '0.45', at('12:00'));
    await edge(strategy.id, 'OPEN', 'yes', '0.55', '0.50', at('12:00'));
    await pool.query(
      `INSERT INTO settlements (market_id, platform_id, outcome, payout, created_at) VALUES
         ('KC', 'kalshi', 'yes', 1, $1), ('DAL', 'kalshi', 'no', 0, $1)`,
      [at('13:00')],
    );

    const run = { window: { from: at('11:00'), to: at('14:00') } } as BacktestRunInfo;
    const moments = await readForecastMoments(pool, run);
    expect(moments.map((m) => `${m.market} ${m.model} ${m.model_p.toFixed(2)} ${m.market_p.toFixed(2)} ${m.outcome}`)).toEqual([
      'DAL elo_nfl v1.0 0.40 0.45 0',
      'KC elo_nfl v1.0 0.70 0.60 1',
      'KC elo_nfl v1.0 0.80 0.75 1',
    ]);
    const [scores] = forecastComparison(moments);
    const s = (d: Decimal) => d.toFixed();
    expect([s(scores!.modelScore.brier), s(scores!.modelScore.logLoss)]).toEqual(['0.096667', '0.363548']);
    expect([s(scores!.marketScore.brier), s(scores!.marketScore.logLoss)]).toEqual(['0.141667', '0.465448']);
  });
});
