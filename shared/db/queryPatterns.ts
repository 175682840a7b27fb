/**
 * The "Query Patterns" of the schema document, as they run against this schema. Each keeps the
 * document's intent; where the document's SQL is invalid or wrong against versioned tables, the
 * comment says what changed (also in README "Schema decisions").
 */
export const QUERY_PATTERNS = {
  /** As documented. $1 = market_id. */
  currentMarketPrice: `
SELECT yes_price, no_price, volume
FROM markets
WHERE market_id = $1 AND row_current_ind = TRUE`,

  /** As documented, with the thresholds as parameters: $1 = minimum EV (document: 0.08). */
  activeEdgesAboveThreshold: `
SELECT e.*, m.ticker, m.title
FROM edges e
JOIN markets m ON e.market_id = m.market_id AND m.row_current_ind = TRUE
WHERE e.row_current_ind = TRUE
  AND e.expected_value >= $1
  AND e.confidence_level IN ('high', 'medium')
ORDER BY e.expected_value DESC`,

  /**
   * Corrected. The document's version is invalid SQL: it uses the output alias total_cost inside
   * the same SELECT list, groups by position_id while selecting p.* (position_id is no longer the
   * primary key once positions are versioned) and m.yes_price ungrouped. It also priced NO
   * positions at the YES price and charged the cost of contracts already sold by partial exits
   * against the ones still held. Here: total_cost is the cost of all buys (from trades); the
   * unrealized P&L is the remaining quantity marked at what it could be sold for now (its side's
   * bid, else its ask when no bid is quoted) minus the exact cost basis of what is held;
   * trailing-stop keys follow the trading rules (active, peak_price, current_stop_price). The
   * monitor's own figures (current_price, unrealized_pnl, unrealized_pnl_pct, last_update) are
   * in p.*.
   */
  positionPnlWithTrailingStop: `
SELECT p.*,
       c.total_cost,
       p.quantity * coalesce(CASE p.side WHEN 'yes' THEN m.yes_bid ELSE m.no_bid END,
                             CASE p.side WHEN 'yes' THEN m.yes_price ELSE m.no_price END)
         - coalesce(p.cost_basis, p.quantity * p.entry_price) AS unrealized_pnl_now,
       (p.trailing_stop_state->>'active')::boolean AS trailing_stop_active,
       (p.trailing_stop_state->>'peak_price')::numeric AS trailing_peak_price,
       (p.trailing_stop_state->>'current_stop_price')::numeric AS current_stop_price
FROM positions p
JOIN markets m ON m.market_id = p.market_id AND m.row_current_ind = TRUE
LEFT JOIN LATERAL (
  SELECT COALESCE(SUM(t.quantity * t.price) FILTER (WHERE t.side = 'buy'), 0) AS total_cost
  FROM trades t
  WHERE t.position_id = p.position_id
) c ON TRUE
WHERE p.row_current_ind = TRUE AND p.status = 'open'
ORDER BY p.position_id`,

  /** As documented. */
  tradeAttributionLast7Days: `
SELECT * FROM trade_attribution
WHERE created_at >= precog_now() - INTERVAL '7 days'
ORDER BY created_at DESC`,

  /**
   * As documented (valid: strategy_id is the primary key, so s.* is functionally dependent), with
   * the strategy name as $1 and versions in semantic order.
   */
  abTestStrategyVersions: `
SELECT
    s.strategy_name,
    s.strategy_version,
    s.config,
    COUNT(t.trade_id) AS trades,
    AVG(t.price) AS avg_price,
    s.paper_roi
FROM strategies s
LEFT JOIN trades t ON s.strategy_id = t.strategy_id
WHERE s.strategy_name = $1
GROUP BY s.strategy_id
ORDER BY version_sort_key(s.strategy_version) DESC`,

  /**
   * Added (not in the document): the A/B comparison of a strategy's versions with outcomes, for
   * `precog ab`. $1 = strategy name. Per version: trades and their fees; positions (current
   * versions) opened by it and its realized P&L (fees included, as positions carry it); cost =
   * buys' notional plus their fees; roi = realized P&L / cost (NULL without buys). Each aggregate
   * is its own lateral subquery, so trades and positions never multiply each other.
   */
  abTestStrategyVersionPerformance: `
SELECT
    s.strategy_id,
    s.strategy_name,
    s.strategy_version,
    s.status,
    s.paper_roi,
    coalesce(t.trades, 0) AS trades,
    coalesce(t.cost, 0) AS cost,
    coalesce(t.fees, 0) AS fees,
    coalesce(p.positions, 0) AS positions,
    coalesce(p.open_positions, 0) AS open_positions,
    coalesce(p.realized_pnl, 0) AS realized_pnl,
    round(coalesce(p.realized_pnl, 0) / nullif(t.cost, 0), 4) AS roi
FROM strategies s
LEFT JOIN LATERAL (
  SELECT count(*)::int AS trades,
         sum(tr.quantity * tr.price + coalesce(tr.fees, 0)) FILTER (WHERE tr.side = 'buy') AS cost,
         sum(coalesce(tr.fees, 0)) AS fees
  FROM trades tr
  WHERE tr.strategy_id = s.strategy_id
) t ON TRUE
LEFT JOIN LATERAL (
  SELECT count(*)::int AS positions,
         (count(*) FILTER (WHERE po.status = 'open'))::int AS open_positions,
         sum(coalesce(po.realized_pnl, 0)) AS realized_pnl
  FROM positions po
  JOIN position_identities pi ON pi.position_id = po.position_id
  WHERE pi.strategy_id = s.strategy_id AND po.row_current_ind
) p ON TRUE
WHERE s.strategy_name = $1
ORDER BY version_sort_key(s.strategy_version) DESC`,

  /**
   * Added (issue 19): a strategy's versions with backtest beside paper and live. $1 = strategy
   * name. backtest_roi is the latest stored backtest's ROI defined as paper_roi and live_roi are
   * (closed positions' P&L over the cost of their buys), with the tape it ran on; the latest
   * run's P&L, Sharpe and max drawdown come from backtest_results.
   */
  abTestStrategyVersionsWithBacktest: `
SELECT
    s.strategy_name,
    s.strategy_version,
    s.status,
    s.paper_roi,
    s.paper_trades_count,
    s.live_roi,
    s.live_trades_count,
    s.backtest_roi,
    s.backtest_trades_count,
    br.tape_id AS backtest_tape_id,
    br.tape_label AS backtest_tape_label,
    br.window_from AS backtest_window_from,
    br.window_to AS backtest_window_to,
    res.pnl AS backtest_pnl,
    res.sharpe AS backtest_sharpe,
    res.max_drawdown AS backtest_max_drawdown
FROM strategies s
LEFT JOIN backtest_runs br ON br.backtest_run_id = s.backtest_run_id
LEFT JOIN backtest_results res ON res.backtest_run_id = s.backtest_run_id AND res.strategy_id = s.strategy_id
WHERE s.strategy_name = $1
ORDER BY version_sort_key(s.strategy_version) DESC`,

  /** As documented, with the model name as $1 and versions in semantic order. */
  compareModelPerformance: `
SELECT
    pm.model_name,
    pm.model_version,
    pm.validation_accuracy,
    pm.validation_calibration,
    COUNT(t.trade_id) AS live_trades
FROM probability_models pm
LEFT JOIN trades t ON pm.model_id = t.model_id
WHERE pm.model_name = $1
GROUP BY pm.model_id
ORDER BY version_sort_key(pm.model_version) DESC`,

  /**
   * As documented: edge_id names the exact edge version a trade acted on, and settlements are
   * unique per market, so neither join multiplies rows.
   */
  tradeHistoryForAnalysis: `
SELECT t.*, e.expected_value, e.confidence_level, s.outcome
FROM trades t
LEFT JOIN edges e ON t.edge_id = e.edge_id
LEFT JOIN settlements s ON t.market_id = s.market_id
WHERE t.created_at >= precog_now() - INTERVAL '30 days'
ORDER BY t.created_at DESC`,
} as const;

export type QueryPatternName = keyof typeof QUERY_PATTERNS;
