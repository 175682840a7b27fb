/**
 * The backtest's fill model, stated (docs/backtest.md, "Assumptions made by backtesting") and
 * configurable. The matching itself is the paper exchange's (shared/exchange/paper/matching.ts)
 * over the replayed top of book (IngestedBookSource); this names the knobs and their defaults.
 *
 * - latencyMs: an order arrives this long after the handler placed it (virtual time) and is
 *   matched against the book as recorded at ARRIVAL (the latest market version seen by then).
 * - displayedSize: 'recorded' caps each fill by the size Kalshi displayed at that price in the
 *   recorded snapshot (yes_bid_size / yes_ask_size, migration 0020) and consumes it: what one
 *   order took from a snapshot is not available again, to any order, until a newer snapshot;
 *   'unlimited' ignores sizes (optimistic; the deployed paper default).
 * - Fills only when the recorded quotes cross the limit: a buy at or above the ask, a sell at or
 *   below the bid, at the quote's price (taker). A resting order fills, at its own limit (maker),
 *   when a later recorded snapshot crosses it, up to that snapshot's size.
 * - Fees: Kalshi's formula (shared/domain/fees: ceil to the cent of rate × count × P × (1 − P);
 *   taker 0.07, maker 0.0175). Prices on the market's price levels (the recorded price_levels;
 *   execution quantises to them before it sends an order).
 */
export interface FillModel {
  latencyMs: number;
  displayedSize: 'recorded' | 'unlimited';
}

/**
 * Default latency 0: the decision and the order's arrival share an instant, as in `npm start`'s
 * simulated venue (requests take no virtual time), so a replay of its tape reproduces its fills.
 * Set `--latency-ms` for a venue a network away (Kalshi from us-east-1: tens of ms; a replay's
 * book only changes at recorded instants, so a latency matters when it crosses one).
 */
export const DEFAULT_FILL_MODEL: FillModel = { latencyMs: 0, displayedSize: 'recorded' };

export function validateFillModel(model: FillModel): FillModel {
  if (!Number.isSafeInteger(model.latencyMs) || model.latencyMs < 0) {
    throw new RangeError(`fill model latencyMs must be a non-negative integer of milliseconds, got ${String(model.latencyMs)}`);
  }
  if (model.displayedSize !== 'recorded' && model.displayedSize !== 'unlimited') {
    throw new RangeError(`fill model displayedSize must be 'recorded' or 'unlimited', got ${String(model.displayedSize)}`);
  }
  return model;
}

/** The fill model as the run info states it (strings: decision 4's `fillModel: Record<string, string>`). */
export function describeFillModel(model: FillModel): Record<string, string> {
  return {
    latency_ms: String(model.latencyMs),
    displayed_size: model.displayedSize,
    book: 'recorded top of book (market versions as seen)',
    fees: 'kalshi quadratic: taker 0.07, maker 0.0175, ceil to the cent',
  };
}
