import { describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/domain/decimal';
import {
  bootstrapDifference,
  closingPrice,
  dailyReturns,
  forecastComparison,
  sharpe,
  sortino,
  strategyMetrics,
} from '../../shared/backtest/metrics';

import { A, B, at, d, smallTape } from '../helpers/backtestSmallTape';

const s = (x: Decimal | null | undefined) => (x === null || x === undefined ? null : x.toFixed());

describe('backtest metrics on the small tape, against hand-computed values', () => {
  it('version A: P&L, ROI, win rate, expectancy, profit factor, fees', () => {
    const m = strategyMetrics(smallTape(), A);
    expect(m.positions).toBe(2);
    expect(m.closedPositions).toBe(2);
    expect(s(m.pnl)).toBe('-0.4'); // 1.30 − 1.70
    expect(s(m.fees)).toBe('0.4'); // four fills × .10
    expect(s(m.roi)).toBe('-0.004'); // −0.40 / 100
    expect(s(m.roiOnCost)).toBe('-0.05'); // −0.40 / (4.50 + 3.50)
    expect(m.winRate.display).toBe('0.500000'); // 1 of 2
    expect(m.expectancy.display).toBe('-0.2000'); // (1.30 − 1.70) / 2
    expect(m.profitFactor.display).toBe('0.764706'); // 1.30 / 1.70 = 0.76470588…
    expect(m.closedPnls.map((p) => p.toFixed(2))).toEqual(['1.30', '-1.70']);
  });

  it('version A: equity, drawdown, time under water, daily returns, Sharpe, Sortino', () => {
    const m = strategyMetrics(smallTape(), A);
    // Equity = 100 + cash flows + held at the bid:
    //   d1 00:00 100; d1 10:00 100 − 4.60 − 3.60 + 10×.40 + 10×.30 = 98.80; d1 12:00 (M1 bid .50) 99.80;
    //   d2 00:00 99.80; d2 09:00 sell M2: cash 93.70 + 10×.50 = 98.70; d2 10:00 sell M1: 99.60; then flat.
    expect(m.equity.map((p) => `${p.at.toISOString().slice(8, 16)} ${p.equity.toFixed(2)}`)).toEqual([
      '13T00:00 100.00', '13T10:00 98.80', '13T12:00 99.80', '14T00:00 99.80', '14T09:00 98.70',
      '14T10:00 99.60', '14T12:00 99.60', '14T13:00 99.60', '15T00:00 99.60', '16T00:00 99.60',
    ]);
    // Peak 100 never regained: deepest 100 − 98.70 = 1.30 (1.3 %); under water d1 10:00 → the end, 62 h.
    expect(s(m.drawdown.max)).toBe('1.3');
    expect(s(m.drawdown.maxPct)).toBe('0.013');
    expect(m.drawdown.timeUnderWaterSeconds).toBe(62 * 3600);
    // r1 = 99.80/100 − 1 = −0.002; r2 = 99.60/99.80 − 1 = −0.00200400801…; r3 = 0.
    expect(m.dailyReturns.map((r) => r.toFixed())).toEqual(['-0.002', '-0.002004', '0']);
    // mean = −0.00133466934; sample variance = Σ(r − mean)² / 2 = 1.33601070e-6, sd = 0.00115585929;
    // Sharpe = −0.00133466934 / 0.00115585929 × √365 (19.1049731745) = −22.0604897
    expect(m.sharpe.display).toBe('-22.060490');
    // downside deviation = √((0.002² + 0.00200400801²) / 3) = 0.00163463025; Sortino = mean / it × √365 = −15.5991375
    expect(m.sortino.display).toBe('-15.599137');
  });

  it('version B: partial exit then settlement, an open position marked at the bid, drawdown regained twice', () => {
    const m = strategyMetrics(smallTape(), B);
    expect(m.positions).toBe(3);
    expect(m.closedPositions).toBe(2);
    expect(s(m.pnl)).toBe('3.15'); // 8.25 − 5.10 (pos 5 open: nothing realised)
    expect(s(m.fees)).toBe('0.45'); // .20 + .05 + .10 + .10
    expect(s(m.roi)).toBe('0.0315');
    expect(s(m.roiOnCost)).toBe('0.225'); // 3.15 / (9.00 + 5.00)
    expect(m.profitFactor.display).toBe('1.617647'); // 8.25 / 5.10
    expect(m.expectancy.display).toBe('1.5750'); // (8.25 − 5.10) / 2
    // d1 10:00 100 − 9.20 − 3.60 + 20×.40 + 10×.30 = 98.20; d1 12:00 sold 5: cash 89.65 + 15×.50 + 10×.30 = 100.15;
    // d2 09:00 M2 bid .20: 99.15; d2 10:00 bought M3 NO: cash 84.55 + 15×.60 + 10×.20 + 10×.45 = 100.05;
    // d2 12:00 M1 pays 15: 99.55 + 2 + 4.50 = 106.05; d3 10:00 NO bid .25: 104.05; d3 12:00 NO pays 0: 101.55.
    expect(m.equity.map((p) => p.equity.toFixed(2))).toEqual(
      ['100.00', '98.20', '100.15', '100.15', '99.15', '100.05', '106.05', '106.05', '106.05', '104.05', '104.05', '101.55', '101.55'],
    );
    // Under water 2 h (d1 10→12), 3 h (d2 09→12), then 14 h from d3 10:00 to the end: the longest 14 h.
    expect(m.drawdown.timeUnderWaterSeconds).toBe(14 * 3600);
    expect(s(m.drawdown.max)).toBe('4.5'); // 106.05 − 101.55
    expect(s(m.drawdown.maxPct)).toBe('0.042433'); // 4.50 / 106.05 = 0.0424328…
    // r = .0015, 106.05/100.15 − 1 = .05891163, 101.55/106.05 − 1 = −.04243281; mean .00599294, sd .05082139
    expect(m.sharpe.display).toBe('2.252889'); // .00599294 / .05082139 × 19.10497317
    expect(m.sortino.display).toBe('4.673531'); // downside √(.04243281² / 3) = .02449860
  });

  it('the whole run: P&L, fill rate, P&L by exit condition, drawdown of the combined equity', () => {
    const m = strategyMetrics(smallTape());
    expect(s(m.pnl)).toBe('2.75'); // −0.40 + 3.15
    expect(s(m.fees)).toBe('0.85');
    // Contracts: ordered 10×5 + 20 + 5 + 10 + 20 = 105, filled 40 + 45 = 85 → 0.8095238…; orders 8 of 9 filled something.
    expect(s(m.fillRate.contractsOrdered)).toBe('105');
    expect(s(m.fillRate.contractsFilled)).toBe('85');
    expect(m.fillRate.contracts.display).toBe('0.809524');
    expect([m.fillRate.orders, m.fillRate.ordersWithFill]).toEqual([9, 8]);
    expect(m.fillRate.ordersRate.display).toBe('0.888889');
    // profit_target: pos 1 1.30 + pos 3's sale .15; stop_loss: −1.70; settlement: pos 3 8.10 + pos 4 −5.10. Sum 2.75.
    expect(m.byCondition.map((c) => `${c.condition} ${c.exits} ${c.pnl.toFixed(2)}`)).toEqual([
      'profit_target 2 1.45', 'settlement 2 3.00', 'stop_loss 1 -1.70',
    ]);
    // Combined equity = A + B − 100: 100, 97.00, 99.95, 99.95, 97.85, 99.65, 105.65 (regained after 26 h), …, 103.65, 101.15.
    expect(s(m.drawdown.max)).toBe('4.5'); // 105.65 − 101.15 (deeper than the first dip, 3.00)
    expect(s(m.drawdown.maxPct)).toBe('0.042593'); // 4.50 / 105.65
    expect(m.drawdown.timeUnderWaterSeconds).toBe(26 * 3600); // d1 10:00 → d2 12:00
    expect(m.sharpe.display).toBe('1.774507');
    expect(m.sortino.display).toBe('3.608455');
  });

  it('closing-line value: the last ask of the side bought before the market closed, minus the entry price', () => {
    const tape = smallTape();
    // A: M1 YES @.45, last YES ask before M1 closed (d2 12:00) is .65 (d2 10:00; .99 at d2 13:00 is after): +.20;
    //    M2 YES @.35, M2 never closed: its last YES ask .25: −.10. Mean .05, 1 of 2 positive.
    const a = strategyMetrics(tape, A).closingLine;
    expect([a.entries, a.mean.display, a.sharePositive.display]).toEqual([2, '0.050000', '0.500000']);
    // B: M1 +.20; M2 −.10; M3 NO @.50, last real NO ask before d3 12:00 is .30 (d3 10:00; the 1 at d3 11:00 is
    //    no offer): −.20. Mean −.1/3.
    const b = strategyMetrics(tape, B).closingLine;
    expect([b.entries, b.mean.display, b.sharePositive.display]).toEqual([3, '-0.033333', '0.333333']);
    expect(s(closingPrice(tape.quotes, 'M1', 'yes', at(2, '12:00')))).toBe('0.65');
    expect(s(closingPrice(tape.quotes, 'M3', 'no', at(3, '12:00')))).toBe('0.3');
  });

  it("the model's Brier score and log loss next to the market's on the same moments", () => {
    // Three moments, both settled YES: model .60/.70/.40, market .50/.60/.55.
    // Brier: model (.16 + .09 + .36)/3 = .203333; market (.25 + .16 + .2025)/3 = .204167.
    // Log loss: model −(ln .6 + ln .7 + ln .4)/3 = .594597; market −(ln .5 + ln .6 + ln .55)/3 = .600603.
    const moments = [['.60', '.50'], ['.70', '.60'], ['.40', '.55']].map(([m, k]) => ({ model: 'elo v1.0', model_p: d(m!), market_p: d(k!), outcome: 1 as const }));
    const [row] = forecastComparison(moments);
    expect(row!.model).toBe('elo v1.0');
    expect([row!.modelScore.n, s(row!.modelScore.brier), s(row!.modelScore.logLoss)]).toEqual([3, '0.203333', '0.594597']);
    expect([row!.marketScore.n, s(row!.marketScore.brier), s(row!.marketScore.logLoss)]).toEqual([3, '0.204167', '0.600603']);
  });

  it('n/a and ∞ instead of NaN: one day, no variation, no loss', () => {
    expect(sharpe([d('0.01')]).display).toBe('n/a (fewer than 2 days)');
    expect(sharpe([d('0.01'), d('0.01')]).display).toBe('n/a (no variation)');
    expect(sortino([d('0.01'), d('0.02')]).display).toBe('∞');
    const tape = smallTape();
    tape.window = { from: at(1, '00:00'), to: at(1, '18:00') };
    expect(dailyReturns(strategyMetrics(tape, A).equity, tape.window)).toHaveLength(1);
    expect(strategyMetrics(tape, A).sharpe.value).toBeNull();
    const onlyWin = smallTape();
    onlyWin.fills = onlyWin.fills.filter((f) => f.positionId === 1);
    expect(strategyMetrics(onlyWin, A).profitFactor.display).toBe('∞');
    expect(strategyMetrics(onlyWin, B).expectancy.display).toBe('n/a (no closed position)');
  });
});

describe('A/B bootstrap of the difference of P&L per position', () => {
  it('the difference of means, and an interval that on two positions a side is the extreme resamples', () => {
    // A closed [1.30, −1.70], B closed [8.25, −5.10]: mean B − mean A = 1.575 − (−0.20) = 1.775.
    // A resample mean of two draws is one of {8.25, 1.575, −5.10} for B and {1.30, −0.20, −1.70} for A;
    // the lowest difference (−5.10 − 1.30 = −6.40) has probability ¼ × ¼ = 6.25 % > 2.5 %, so with 2000
    // resamples the 2.5th percentile is it, and the 97.5th is the highest (8.25 + 1.70 = 9.95).
    const result = bootstrapDifference([d('1.30'), d('-1.70')], [d('8.25'), d('-5.10')], 7);
    expect(s(result.difference)).toBe('1.775');
    expect(result.interval && [s(result.interval.low), s(result.interval.high)]).toEqual(['-6.4', '9.95']);
    expect(result.resamples).toBe(2000);
    expect(bootstrapDifference([d('1')], [d('2'), d('3')], 7).interval).toBeNull();
  });

  it('is deterministic for a seed: the same seed draws the same interval, another seed another', () => {
    // 25 positions a side with spread-out P&L, so the interval depends on every draw.
    const a = Array.from({ length: 25 }, (_, i) => d(String(((i * 37) % 23) - 11)).div(10));
    const b = Array.from({ length: 25 }, (_, i) => d(String(((i * 53) % 29) - 12)).div(10));
    const first = bootstrapDifference(a, b, 42);
    const again = bootstrapDifference(a, b, 42);
    const other = bootstrapDifference(a, b, 43);
    expect(again.interval).toEqual(first.interval);
    expect(other.interval).not.toEqual(first.interval);
    expect(first.interval!.low.lt(first.difference) && first.interval!.high.gt(first.difference)).toBe(true);
    // Pinned: the interval this seed draws on any machine (mulberry32 is integer arithmetic).
    expect([s(first.interval!.low), s(first.interval!.high)]).toEqual(['-0.18', '0.664']);
  });
});
