-- Up Migration
-- D27 Fractional quantities and 6-decimal amounts (Kalshi, March 2026 onwards).
-- Kalshi counts are fixed-point with 2 decimals ("2.97" contracts, granularity 0.01) and its
-- dollar amounts carry up to 6 decimals ("0.060000"). Precog still trades whole contracts, but a
-- fill or holding that arrives fractional must be stored exactly, so every contract count becomes
-- NUMERIC(12,2). Amounts (fees, cost basis, P&L, cash) become 6-decimal: the venue reports them
-- that way, and a price (4 decimals) times a fractional count (2 decimals) has 6; rounding them
-- to 4 would make the books differ from the venue by fractions of a cent. Per-contract prices
-- (0..1) keep DECIMAL(10,4).
--
-- ALTER COLUMN TYPE cannot change a column a view or a trigger's WHEN clause uses: those are
-- dropped first and recreated unchanged (open_positions' p.* must be re-expanded anyway).
DROP VIEW trade_attribution;
DROP VIEW open_positions;
DROP VIEW current_balances;
DROP TRIGGER positions_versions_immutable ON positions;

ALTER TABLE positions
  ALTER COLUMN quantity TYPE NUMERIC(12,2),
  ALTER COLUMN original_quantity TYPE NUMERIC(12,2),
  ALTER COLUMN fees TYPE NUMERIC(12,6),
  ALTER COLUMN unrealized_pnl TYPE NUMERIC(12,6),
  ALTER COLUMN realized_pnl TYPE NUMERIC(12,6),
  ALTER COLUMN cost_basis TYPE NUMERIC(16,6);
ALTER TABLE trades
  ALTER COLUMN quantity TYPE NUMERIC(12,2),
  ALTER COLUMN fees TYPE NUMERIC(12,6);
ALTER TABLE position_exits
  ALTER COLUMN quantity_exited TYPE NUMERIC(12,2),
  ALTER COLUMN unrealized_pnl_at_exit TYPE NUMERIC(12,6);
ALTER TABLE exit_attempts ALTER COLUMN quantity TYPE NUMERIC(12,2);
ALTER TABLE orders
  ALTER COLUMN quantity TYPE NUMERIC(12,2),
  ALTER COLUMN filled_quantity TYPE NUMERIC(12,2),
  ALTER COLUMN fees TYPE NUMERIC(16,6);
ALTER TABLE exit_requests
  ALTER COLUMN quantity TYPE NUMERIC(12,2),
  ALTER COLUMN filled_quantity TYPE NUMERIC(12,2);
ALTER TABLE account_balance ALTER COLUMN balance TYPE NUMERIC(16,6);

ALTER TABLE paper_accounts
  ALTER COLUMN starting_balance TYPE NUMERIC(16,6),
  ALTER COLUMN balance TYPE NUMERIC(16,6);
ALTER TABLE paper_orders
  ALTER COLUMN initial_count TYPE NUMERIC(12,2),
  ALTER COLUMN filled_count TYPE NUMERIC(12,2),
  ALTER COLUMN taker_fees TYPE NUMERIC(16,6),
  ALTER COLUMN maker_fees TYPE NUMERIC(16,6),
  ALTER COLUMN taker_fill_cost TYPE NUMERIC(16,6),
  ALTER COLUMN maker_fill_cost TYPE NUMERIC(16,6);
ALTER TABLE paper_fills
  ALTER COLUMN count TYPE NUMERIC(12,2),
  ALTER COLUMN fee TYPE NUMERIC(16,6);
ALTER TABLE paper_positions
  ALTER COLUMN position TYPE NUMERIC(12,2),
  ALTER COLUMN cost_basis TYPE NUMERIC(16,6),
  ALTER COLUMN realized_pnl TYPE NUMERIC(16,6),
  ALTER COLUMN fees_paid TYPE NUMERIC(16,6),
  ALTER COLUMN total_traded TYPE NUMERIC(16,6);
ALTER TABLE paper_settlements
  ALTER COLUMN position TYPE NUMERIC(12,2),
  ALTER COLUMN credited TYPE NUMERIC(16,6);

-- As in 0009 (D23): the heartbeat may touch last_update of the current row, nothing else.
CREATE TRIGGER positions_versions_immutable BEFORE UPDATE ON positions FOR EACH ROW
  WHEN ((NOT OLD.row_current_ind OR NEW.row_current_ind)
        AND NOT (OLD.row_current_ind AND NEW.row_current_ind
                 AND (OLD.position_version_id, OLD.position_id, OLD.market_id, OLD.platform_id, OLD.side, OLD.execution_mode,
                      OLD.entry_price, OLD.quantity, OLD.original_quantity, OLD.fees, OLD.status, OLD.unrealized_pnl,
                      OLD.realized_pnl, OLD.current_price, OLD.unrealized_pnl_pct, OLD.trailing_stop_state, OLD.exit_reason,
                      OLD.exit_priority, OLD.created_at, OLD.superseded_at, OLD.cost_basis)
                 IS NOT DISTINCT FROM
                     (NEW.position_version_id, NEW.position_id, NEW.market_id, NEW.platform_id, NEW.side, NEW.execution_mode,
                      NEW.entry_price, NEW.quantity, NEW.original_quantity, NEW.fees, NEW.status, NEW.unrealized_pnl,
                      NEW.realized_pnl, NEW.current_price, NEW.unrealized_pnl_pct, NEW.trailing_stop_state, NEW.exit_reason,
                      NEW.exit_priority, NEW.created_at, NEW.superseded_at, NEW.cost_basis)))
  EXECUTE FUNCTION reject_version_rewrite();

CREATE VIEW current_balances AS
SELECT * FROM account_balance WHERE row_current_ind;

CREATE VIEW open_positions AS
SELECT p.*, pi.strategy_id, pi.model_id
FROM positions p
JOIN position_identities pi ON pi.position_id = p.position_id
WHERE p.row_current_ind AND p.status = 'open';

CREATE VIEW trade_attribution AS
SELECT
    t.trade_id,
    t.created_at,
    t.side,
    t.contract_side,
    t.execution_mode,
    t.price,
    t.quantity,
    t.fees,
    t.market_id,
    m.ticker AS market_ticker,
    t.position_id,
    t.edge_id,
    t.strategy_id,
    s.strategy_name,
    s.strategy_version,
    s.config AS strategy_config,
    t.model_id,
    pm.model_name,
    pm.model_version,
    pm.config AS model_config,
    t.edge_at_execution,
    t.confidence_at_execution,
    t.order_id AS venue_order_id,
    t.client_order_id,
    t.venue_fill_id,
    t.market_version_id,
    e.edge AS edge_at_scan,
    e.expected_value AS expected_value_at_scan,
    e.true_win_probability,
    e.market_price AS market_price_at_scan
FROM trades t
JOIN markets m ON m.market_id = t.market_id AND m.row_current_ind
LEFT JOIN strategies s ON s.strategy_id = t.strategy_id
LEFT JOIN probability_models pm ON pm.model_id = t.model_id
LEFT JOIN edges e ON e.edge_id = t.edge_id
ORDER BY t.created_at DESC, t.trade_id DESC;

-- Down Migration
-- Only possible while every stored count is whole and every amount fits 4 decimals: the casts
-- below fail (integer) or round (amounts) otherwise, so check before migrating down.
DROP VIEW trade_attribution;
DROP VIEW open_positions;
DROP VIEW current_balances;
DROP TRIGGER positions_versions_immutable ON positions;
ALTER TABLE paper_settlements ALTER COLUMN position TYPE INT, ALTER COLUMN credited TYPE DECIMAL(14,4);
ALTER TABLE paper_positions
  ALTER COLUMN position TYPE INT, ALTER COLUMN cost_basis TYPE DECIMAL(14,4), ALTER COLUMN realized_pnl TYPE DECIMAL(14,4),
  ALTER COLUMN fees_paid TYPE DECIMAL(14,4), ALTER COLUMN total_traded TYPE DECIMAL(14,4);
ALTER TABLE paper_fills ALTER COLUMN count TYPE INT, ALTER COLUMN fee TYPE DECIMAL(14,4);
ALTER TABLE paper_orders
  ALTER COLUMN initial_count TYPE INT, ALTER COLUMN filled_count TYPE INT,
  ALTER COLUMN taker_fees TYPE DECIMAL(14,4), ALTER COLUMN maker_fees TYPE DECIMAL(14,4),
  ALTER COLUMN taker_fill_cost TYPE DECIMAL(14,4), ALTER COLUMN maker_fill_cost TYPE DECIMAL(14,4);
ALTER TABLE paper_accounts ALTER COLUMN starting_balance TYPE DECIMAL(14,4), ALTER COLUMN balance TYPE DECIMAL(14,4);
ALTER TABLE account_balance ALTER COLUMN balance TYPE DECIMAL(14,4);
ALTER TABLE exit_requests ALTER COLUMN quantity TYPE INT, ALTER COLUMN filled_quantity TYPE INT;
ALTER TABLE orders ALTER COLUMN quantity TYPE INT, ALTER COLUMN filled_quantity TYPE INT, ALTER COLUMN fees TYPE DECIMAL(14,4);
ALTER TABLE exit_attempts ALTER COLUMN quantity TYPE INT;
ALTER TABLE position_exits ALTER COLUMN quantity_exited TYPE INT, ALTER COLUMN unrealized_pnl_at_exit TYPE DECIMAL(10,4);
ALTER TABLE trades ALTER COLUMN quantity TYPE INT, ALTER COLUMN fees TYPE DECIMAL(10,4);
ALTER TABLE positions
  ALTER COLUMN quantity TYPE INT, ALTER COLUMN original_quantity TYPE INT, ALTER COLUMN fees TYPE DECIMAL(10,4),
  ALTER COLUMN unrealized_pnl TYPE DECIMAL(10,4), ALTER COLUMN realized_pnl TYPE DECIMAL(10,4),
  ALTER COLUMN cost_basis TYPE DECIMAL(14,4);
CREATE TRIGGER positions_versions_immutable BEFORE UPDATE ON positions FOR EACH ROW
  WHEN ((NOT OLD.row_current_ind OR NEW.row_current_ind)
        AND NOT (OLD.row_current_ind AND NEW.row_current_ind
                 AND (OLD.position_version_id, OLD.position_id, OLD.market_id, OLD.platform_id, OLD.side, OLD.execution_mode,
                      OLD.entry_price, OLD.quantity, OLD.original_quantity, OLD.fees, OLD.status, OLD.unrealized_pnl,
                      OLD.realized_pnl, OLD.current_price, OLD.unrealized_pnl_pct, OLD.trailing_stop_state, OLD.exit_reason,
                      OLD.exit_priority, OLD.created_at, OLD.superseded_at, OLD.cost_basis)
                 IS NOT DISTINCT FROM
                     (NEW.position_version_id, NEW.position_id, NEW.market_id, NEW.platform_id, NEW.side, NEW.execution_mode,
                      NEW.entry_price, NEW.quantity, NEW.original_quantity, NEW.fees, NEW.status, NEW.unrealized_pnl,
                      NEW.realized_pnl, NEW.current_price, NEW.unrealized_pnl_pct, NEW.trailing_stop_state, NEW.exit_reason,
                      NEW.exit_priority, NEW.created_at, NEW.superseded_at, NEW.cost_basis)))
  EXECUTE FUNCTION reject_version_rewrite();
CREATE VIEW current_balances AS
SELECT * FROM account_balance WHERE row_current_ind;

CREATE VIEW open_positions AS
SELECT p.*, pi.strategy_id, pi.model_id
FROM positions p
JOIN position_identities pi ON pi.position_id = p.position_id
WHERE p.row_current_ind AND p.status = 'open';
CREATE VIEW trade_attribution AS
SELECT t.trade_id, t.created_at, t.side, t.contract_side, t.execution_mode, t.price, t.quantity, t.fees, t.market_id,
       m.ticker AS market_ticker, t.position_id, t.edge_id, t.strategy_id, s.strategy_name, s.strategy_version,
       s.config AS strategy_config, t.model_id, pm.model_name, pm.model_version, pm.config AS model_config,
       t.edge_at_execution, t.confidence_at_execution, t.order_id AS venue_order_id, t.client_order_id,
       t.venue_fill_id, t.market_version_id, e.edge AS edge_at_scan, e.expected_value AS expected_value_at_scan,
       e.true_win_probability, e.market_price AS market_price_at_scan
FROM trades t
JOIN markets m ON m.market_id = t.market_id AND m.row_current_ind
LEFT JOIN strategies s ON s.strategy_id = t.strategy_id
LEFT JOIN probability_models pm ON pm.model_id = t.model_id
LEFT JOIN edges e ON e.edge_id = t.edge_id
ORDER BY t.created_at DESC, t.trade_id DESC;
