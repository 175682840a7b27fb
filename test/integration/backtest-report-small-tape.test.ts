import { describe, expect, it } from 'vitest';
import { buildBacktestReport } from '../../backtest/report/build';
import { toSqlDecimal } from '../../shared/domain/decimal';
import { useTestDatabase } from '../helpers/database';
import { A, B, at, d, smallTape } from '../helpers/backtestSmallTape';
import { marketSnapshot, seedHierarchy, seedMarkets } from '../helpers/seed';

/**
 * The hand-computed small tape (test/helpers/backtestSmallTape.ts, worked out there) written into
 * a database as a replay leaves it: market versions with their times, orders, exit requests,
 * trades, settlements. buildBacktestReport must read back exactly the hand-computed figures.
 */
const db = useTestDatabase();

async function writeSmallTape(): Promise<void> {
  const { pool } = db();
  const tape = smallTape();
  await seedHierarchy(pool);
  // The identities (and a current version stamped now, after the window: not part of the replay).
  await seedMarkets(pool, ['M1', 'M2', 'M3'].map((m) => marketSnapshot(m, '0.50')));
  const closeTime: Record<string, Date | null> = { M1: at(2, '12:00'), M2: null, M3: at(3, '12:00') };
  for (const q of tape.quotes) {
    await pool.query(
      `INSERT INTO markets (market_id, platform_id, event_id, external_id, ticker, title, yes_bid, no_bid, yes_price, no_price, close_time,
                            created_at, updated_at, superseded_at, row_current_ind)
       VALUES ($1, 'kalshi', 'KXNFLGAME-25NOV27KCDAL', $1, $1, $1, $2, $3, $4, $5, $6, $7, $7, $7::timestamptz + interval '1 second', false)`,
      [q.ticker, toSqlDecimal(q.yesBid!), toSqlDecimal(q.noBid!), toSqlDecimal(q.yesAsk!), toSqlDecimal(q.noAsk!), closeTime[q.ticker], q.at],
    );
  }
  const strategyIds: Record<string, number> = {};
  for (const [label, version] of [[A, 'v1.0'], [B, 'v1.1']] as const) {
    const { rows: [row] } = await pool.query(
      `INSERT INTO strategies (strategy_name, strategy_version, strategy_type, config, status) VALUES ('s', $1, 'entry', '{}', 'active') RETURNING strategy_id`,
      [version],
    );
    strategyIds[label] = Number(row.strategy_id);
  }
  // Positions 1..5 in order, so the database's ids are the tape's.
  const versions: Record<number, number> = {};
  for (const id of [1, 2, 3, 4, 5]) {
    const first = tape.fills.find((f) => f.positionId === id)!;
    const { rows: [identity] } = await pool.query(
      `INSERT INTO position_identities (market_id, platform_id, side, strategy_id) VALUES ($1, 'kalshi', $2, $3) RETURNING position_id`,
      [first.ticker, first.side, strategyIds[first.strategy]],
    );
    expect(Number(identity.position_id)).toBe(id);
    const { rows: [version] } = await pool.query(
      `INSERT INTO positions (position_id, market_id, platform_id, side, entry_price, quantity, status, created_at)
       VALUES ($1, $2, 'kalshi', $3, $4, 1, 'open', $5) RETURNING position_version_id`,
      [id, first.ticker, first.side, toSqlDecimal(first.price), first.at],
    );
    versions[id] = Number(version.position_version_id);
  }
  // The entry of position 5 (trade 4) asked for 20 and got 10 (the tape's orders).
  const PARTIAL_ENTRY = 4;
  for (const f of tape.fills) {
    let exitRequestId: number | null = null;
    if (f.action === 'sell') {
      const { rows: [request] } = await pool.query(
        `INSERT INTO exit_requests (position_id, position_version_id, exit_condition, exit_priority, quantity, filled_quantity, status, triggers, created_at)
         VALUES ($1, $2, $3, 'MEDIUM', $4, $4, 'filled', '{}', $5) RETURNING exit_request_id`,
        [f.positionId, versions[f.positionId], f.exitCondition, toSqlDecimal(f.quantity), f.at],
      );
      exitRequestId = Number(request.exit_request_id);
    }
    const clientOrderId = `small-${f.tradeId}`;
    await pool.query(
      `INSERT INTO orders (client_order_id, purpose, market_id, platform_id, strategy_id, position_id, side, action, order_type, limit_price,
                           quantity, filled_quantity, status, exit_request_id, created_at)
       VALUES ($1, $2, $3, 'kalshi', $4, $5, $6, $7, 'limit', $8, $9, $10, $11, $12, $13)`,
      [clientOrderId, f.action === 'buy' ? 'entry' : 'exit', f.ticker, strategyIds[f.strategy], f.positionId, f.side, f.action,
        toSqlDecimal(f.price), f.tradeId === PARTIAL_ENTRY ? '20' : toSqlDecimal(f.quantity), toSqlDecimal(f.quantity),
        f.tradeId === PARTIAL_ENTRY ? 'cancelled' : 'filled', exitRequestId, f.at],
    );
    await pool.query(
      `INSERT INTO trades (market_id, platform_id, position_id, strategy_id, client_order_id, side, contract_side, price, quantity, fees, created_at)
       VALUES ($1, 'kalshi', $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [f.ticker, f.positionId, strategyIds[f.strategy], clientOrderId, f.action, f.side, toSqlDecimal(f.price), toSqlDecimal(f.quantity), toSqlDecimal(f.fee), f.at],
    );
  }
  // A's entry order on M2 that filled nothing.
  await pool.query(
    `INSERT INTO orders (client_order_id, purpose, market_id, platform_id, strategy_id, side, action, order_type, limit_price, quantity, status, created_at)
     VALUES ('small-unfilled', 'entry', 'M2', 'kalshi', $1, 'yes', 'buy', 'limit', 0.30, 10, 'cancelled', $2)`,
    [strategyIds[A], at(1, '11:00')],
  );
  for (const s of tape.settlements) {
    await pool.query(
      `INSERT INTO settlements (market_id, platform_id, outcome, payout, created_at) VALUES ($1, 'kalshi', 'yes', $2, $3)`,
      [s.ticker, toSqlDecimal(s.yesPayout), s.at],
    );
  }
}

describe('buildBacktestReport on the hand-computed small tape in a database', () => {
  it('reads back every hand-computed figure (see the helper for the arithmetic)', async () => {
    await writeSmallTape();
    const report = await buildBacktestReport(db().pool, {
      tapeId: 'cd'.repeat(32), tapeLabel: 'small', window: { from: at(1, '00:00'), to: at(4, '00:00') },
      strategies: [{ name: 's', version: 'v1.0' }, { name: 's', version: 'v1.1' }], model: null, fillModel: {}, seed: 7,
      balance: d('100'), startedAt: at(1, '00:00'), finishedAt: at(4, '00:00'),
    });
    const [a, b] = report.byVersion;
    expect([a!.strategy, a!.pnl, a!.fees, a!.roi, a!.roiOnCost]).toEqual([A, '-0.4000', '0.4000', '-0.004000', '-0.0500']);
    expect([a!.winRate.display, a!.expectancy.display, a!.profitFactor.display]).toEqual(['0.500000', '-0.2000', '0.764706']);
    expect([a!.maxDrawdown, a!.maxDrawdownPct, a!.timeUnderWaterSeconds]).toEqual(['1.3000', '0.013000', 62 * 3600]);
    expect(a!.dailyReturns).toEqual(['-0.002000', '-0.002004', '0.000000']);
    expect([a!.sharpe.display, a!.sortino.display]).toEqual(['-22.060490', '-15.599137']);
    expect(a!.equity.map((p) => p.equity)).toEqual(
      ['100.0000', '98.8000', '99.8000', '99.8000', '98.7000', '99.6000', '99.6000', '99.6000', '99.6000', '99.6000'],
    );
    expect([b!.strategy, b!.pnl, b!.fees, b!.positions, b!.closedPositions, b!.profitFactor.display]).toEqual([B, '3.1500', '0.4500', 3, 2, '1.617647']);
    expect([b!.maxDrawdown, b!.maxDrawdownPct, b!.timeUnderWaterSeconds, b!.sharpe.display, b!.sortino.display])
      .toEqual(['4.5000', '0.042433', 14 * 3600, '2.252889', '4.673531']);
    expect([a!.closingLine.mean.display, a!.closingLine.sharePositive.display, b!.closingLine.mean.display]).toEqual(['0.050000', '0.500000', '-0.033333']);
    const t = report.totals;
    expect([t.pnl, t.fees, t.maxDrawdown, t.timeUnderWaterSeconds, t.sharpe.display, t.sortino.display]).toEqual(['2.7500', '0.8500', '4.5000', 26 * 3600, '1.774507', '3.608455']);
    expect([t.fillRate.contractsOrdered, t.fillRate.contractsFilled, t.fillRate.contracts.display, t.fillRate.ordersRate.display]).toEqual(['105', '85', '0.809524', '0.888889']);
    expect(t.byCondition.map((c) => `${c.condition} ${c.exits} ${c.pnl}`)).toEqual(['profit_target 2 1.4500', 'settlement 2 3.0000', 'stop_loss 1 -1.7000']);
    // Cash: 100 − 0.40 (A) − 0.45 (B's flows: −9.20 − 3.60 + 2.45 − 5.10 + 15 paid by M1) = 99.15; position 5
    // still held, 10 marked at M2's last bid .20: equity 101.15.
    expect([report.endingCash, report.endingEquity]).toEqual(['99.1500', '101.1500']);
    expect(report.ab).toEqual([{ strategy: 's', a: 'v1.0', b: 'v1.1', meanDifference: '1.7750', interval: { low: '-6.4000', high: '9.9500' }, resamples: 2000, seed: 7 }]);
  });
});
