import { DEFAULT_TRADING_RULES, type TradingRules } from '../../shared/config/tradingRules';
import { Decimal } from '../../shared/domain/decimal';

/**
 * The execute-entry benches' rules: limits opened wide so that every qualifying edge of the bench
 * world becomes an entry. The data is ingested once, before the timed loop: on a loaded machine the
 * loop may outlast the live freshness limits, which would measure the machine, not execution.
 */
export const ENTRY_BENCH_RULES: TradingRules = {
  ...DEFAULT_TRADING_RULES,
  freshness: { ...DEFAULT_TRADING_RULES.freshness, maxPriceAgeSeconds: 3_600, maxGameStateAgeSeconds: 3_600 },
  sizing: {
    ...DEFAULT_TRADING_RULES.sizing,
    maxOpenPositions: 1_000_000, maxTotalExposureUsd: new Decimal('1e9'), maxPositionsPerEvent: 1_000,
    maxExposurePerEventUsd: new Decimal('1e9'), maxEntriesPerDay: 1_000_000,
  },
};
