import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { separateMarkers } from '../../local/report/html';
import { drawdownSeries, exitFillPnl, exitOutcomes, maxDrawdown, minuteAt, positionExitDetails, strategyEquitySeries } from '../../local/report/series';
import type { ReportSample, ReportTrade } from '../../local/report/types';
import { runReportFixture } from '../helpers/runReportFixture';

const sample = (minute: number, at: string, equity: string, markets: ReportSample['markets'] = {}): ReportSample =>
  ({ minute, at, equity, realizedPnl: '0', markets });

const fill = (over: Partial<ReportTrade> & Pick<ReportTrade, 'tradeId' | 'action' | 'price' | 'quantity' | 'fees'>): ReportTrade => ({
  at: '2026-12-06T18:00:00.000Z', ticker: 'T', side: 'yes', purpose: over.action === 'buy' ? 'entry' : 'exit', strategy: 's v1',
  model: 'm v1', positionId: 1, exitCondition: over.action === 'sell' ? 'trailing_stop' : null, modelProbability: null, edge: null,
  trigger: '', realizedPnl: null, ...over,
});

describe('report series', () => {
  it('interpolates the game minute of a time between the samples around it, clamped at both ends', () => {
    const samples = [sample(10, '2026-12-06T18:00:00.000Z', '0'), sample(12, '2026-12-06T18:00:04.000Z', '0')];
    expect(minuteAt('2026-12-06T18:00:01.000Z', samples)).toBe(10.5);
    expect(minuteAt('2026-12-06T17:59:00.000Z', samples)).toBe(10);
    expect(minuteAt('2026-12-06T18:05:00.000Z', samples)).toBe(12);
    expect(minuteAt('2026-12-06T18:00:01.000Z', [])).toBeNull();
  });

  it('measures drawdown from the running peak, not from the start', () => {
    const samples = ['100', '110', '105', '120', '90', '95'].map((equity, i) => sample(i, `2026-12-06T18:00:0${i}.000Z`, equity));
    expect(drawdownSeries(samples).map((p) => p.drawdown.toFixed(2))).toEqual(['0.00', '0.00', '5.00', '0.00', '30.00', '25.00']);
    expect(maxDrawdown(samples).toFixed(2)).toBe('30.00');
    expect(maxDrawdown([]).toFixed(2)).toBe('0.00');
  });

  it('per-strategy P&L sums to the run\'s equity − starting balance at every sample (fixture equity computed apart)', () => {
    const report = runReportFixture();
    const curves = strategyEquitySeries(report.trades, report.settlements, report.samples);
    expect(curves.map((c) => c.strategy)).toEqual(['halftime_entry v1.0', 'momentum_fade v0.3']);
    for (const [i, s] of report.samples.entries()) {
      const sum = curves.reduce((total, c) => total.plus(c.points[i]!.pnl), new Decimal(0));
      expect(sum.toFixed(4), `minute ${s.minute}`).toBe(new Decimal(s.equity).minus(report.startingBalance).toFixed(4));
    }
  });

  it('pays a settled market\'s holdings at their side\'s payout once it settled, and marks NO at 1 − the YES ask before', () => {
    const trades = [fill({ tradeId: 1, side: 'no', action: 'buy', price: '0.40', quantity: '10', fees: '0.17' })];
    const markets = { T: { yesBid: '0.55', yesAsk: '0.58', held: -10 } };
    const samples = [sample(1, '2026-12-06T18:01:00.000Z', '0', markets), sample(2, '2026-12-06T18:03:00.000Z', '0', markets)];
    const [curve] = strategyEquitySeries(trades, [{ ticker: 'T', outcome: 'no', yesPayout: '0.0000', at: '2026-12-06T18:02:00.000Z' }], samples);
    // Before: −4.00 − 0.17 + 10 × (1 − 0.58); after: −4.17 + 10 × 1.
    expect(curve!.points.map((p) => p.pnl)).toEqual(['0.0300', '5.8300']);
  });

  it('gives each exit fill its P&L after its fee and its share of the entry fee, and counts a trailing stop that lost after fees as a loss', () => {
    const trades = [
      fill({ tradeId: 1, action: 'buy', price: '0.50', quantity: '10', fees: '0.20' }),
      // One cent up on 5 contracts: +0.05 before fees, −0.05 after its fee and half the entry fee.
      fill({ tradeId: 2, action: 'sell', price: '0.51', quantity: '5', fees: '0.00' }),
      fill({ tradeId: 3, action: 'sell', price: '0.60', quantity: '5', fees: '0.05', exitCondition: 'take_profit' }),
    ];
    expect(Object.fromEntries([...exitFillPnl(trades)].map(([id, pnl]) => [id, pnl.toFixed(4)]))).toEqual({ 2: '-0.0500', 3: '0.3500' });
    expect(exitOutcomes(trades, [])).toEqual([
      { condition: 'take_profit', fills: 1, gains: 1, losses: 0, realizedPnl: '0.3500' },
      { condition: 'trailing_stop', fills: 1, gains: 0, losses: 1, realizedPnl: '-0.0500' },
    ]);
    // What settlement paid for contracts still held counts as its own outcome.
    expect(exitOutcomes(trades.slice(0, 1), [{ positionId: 1, contracts: new Decimal(10), payout: new Decimal(1) }])).toEqual([
      { condition: 'settlement', fills: 1, gains: 1, losses: 0, realizedPnl: '4.8000' },
    ]);
  });

  it('gives a position its exit price weighted by contracts, its side\'s settlement payout, ROI and hold time until settlement closed it', () => {
    const trades = [
      fill({ tradeId: 1, side: 'no', action: 'buy', price: '0.50', quantity: '10', fees: '0.18', at: '2026-12-06T18:00:00.000Z' }),
      fill({ tradeId: 2, side: 'no', action: 'sell', price: '0.60', quantity: '3', fees: '0.06', at: '2026-12-06T18:10:00.000Z' }),
      fill({ tradeId: 3, side: 'no', action: 'sell', price: '0.70', quantity: '2', fees: '0.03', at: '2026-12-06T18:20:00.000Z' }),
    ];
    const position = { positionId: 1, side: 'no' as const, status: 'settled', entered: '10', entryPrice: '0.5000', realizedPnl: '2.7300' };
    const settlement = { ticker: 'T', outcome: 'no', yesPayout: '0.0000', at: '2026-12-06T18:45:30.000Z' };
    expect(positionExitDetails(position, trades, settlement)).toEqual({
      enteredAt: '2026-12-06T18:00:00.000Z', closedAt: settlement.at,
      exitPrice: '0.6400', // (3 × 0.60 + 2 × 0.70) / 5
      settlementPayout: '1.0000', // a NO contract of a market that settled NO
      roi: '0.5460', // 2.73 / (10 × 0.50)
      holdSeconds: 2730,
    });
    // Closed by its exits: closed at the last one; open: no ROI, no hold time.
    expect(positionExitDetails({ ...position, status: 'closed' }, trades, settlement)).toMatchObject({ closedAt: '2026-12-06T18:20:00.000Z', settlementPayout: null, holdSeconds: 1200 });
    expect(positionExitDetails({ ...position, status: 'open' }, trades, undefined)).toMatchObject({ closedAt: null, roi: null, holdSeconds: null });
  });

  it('moves markers that would cover one another apart, and leaves the others where they are', () => {
    const placed = separateMarkers([{ cx: 100, cy: 50 }, { cx: 100, cy: 50 }, { cx: 104, cy: 52 }, { cx: 300, cy: 50 }]);
    expect(placed.map((m) => m.dy)).toEqual([0, 15, -15, 0]);
  });
});
