import { describe, expect, it } from 'vitest';
import { abComparison } from '../../local/report/build';
import type { ReportStrategyPnl } from '../../local/report/types';

const version = (strategy: string, exposure: string, realizedPnl: string, roi: string | null): ReportStrategyPnl =>
  ({ strategy, trades: 2, positions: 1, realizedPnl, fees: '0.0400', exposure, roi });

describe('the A/B text of the run report', () => {
  it('versions with unequal exposure are compared on ROI, and the text says the exposures differ', () => {
    // quarter_live v1.0 bought two contracts of one outcome (issue 18): twice the capital, twice the P&L.
    expect(abComparison([
      version('quarter_live v1.0', '400.0000', '40.0000', '0.1000'),
      version('quarter_live v1.1', '200.0000', '30.0000', '0.1500'),
    ])).toEqual([
      '', 'A/B comparison of versions',
      '  A/B quarter_live: exposures differ (v1.0 $400.00, v1.1 $200.00): compare ROI, not P&L (v1.0 +10.0%, v1.1 +15.0%)',
    ]);
  });

  it('versions with equal exposure (to the cent) compare on P&L', () => {
    expect(abComparison([
      version('quarter_live v1.0', '200.0010', '-12.3400', '-0.0617'),
      version('quarter_live v1.1', '200.0000', '30.0000', '0.1500'),
    ])).toEqual([
      '', 'A/B comparison of versions',
      '  A/B quarter_live: equal exposure ($200.00 each): P&L compares directly (v1.0 -$12.34, v1.1 +$30.00)',
    ]);
  });

  it('a version that entered nothing has no ROI; a strategy with one version is no A/B', () => {
    expect(abComparison([
      version('halftime_entry v1.0', '120.0000', '5.0000', '0.0417'),
      version('quarter_live v1.0', '0.0000', '0.0000', null),
      version('quarter_live v1.1', '200.0000', '30.0000', '0.1500'),
    ])).toEqual([
      '', 'A/B comparison of versions',
      '  A/B quarter_live: exposures differ (v1.0 $0.00, v1.1 $200.00): compare ROI, not P&L (v1.0 n/a (nothing entered), v1.1 +15.0%)',
    ]);
    expect(abComparison([version('halftime_entry v1.0', '120.0000', '5.0000', '0.0417')])).toEqual([]);
  });
});
