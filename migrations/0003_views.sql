-- Up Migration
-- The helper views the document names (v1.3 and v1.4) but never defines.

CREATE VIEW current_markets AS
SELECT * FROM markets WHERE row_current_ind;

CREATE VIEW current_game_states AS
SELECT * FROM game_states WHERE row_current_ind;

CREATE VIEW current_edges AS
SELECT * FROM edges WHERE row_current_ind;

CREATE VIEW current_balances AS
SELECT * FROM account_balance WHERE row_current_ind;

-- Current version of every open position, with the v1.5 monitoring and exit-tracking fields and
-- the strategy/model versions that opened it.
CREATE VIEW open_positions AS
SELECT p.*, pi.strategy_id, pi.model_id
FROM positions p
JOIN position_identities pi ON pi.position_id = p.position_id
WHERE p.row_current_ind AND p.status = 'open';

-- Versions compare numerically ('v1.10' after 'v1.9'), unlike the document's text ordering.
CREATE VIEW active_strategies AS
SELECT * FROM strategies
WHERE status = 'active'
ORDER BY strategy_name, version_sort_key(strategy_version) DESC;

CREATE VIEW active_models AS
SELECT * FROM probability_models
WHERE status = 'active'
ORDER BY model_name, version_sort_key(model_version) DESC;

-- The document joins trades to every version of a market (one row per market version);
-- corrected: the market's current row gives its ticker, so each trade appears exactly once.
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
    t.confidence_at_execution
FROM trades t
JOIN markets m ON m.market_id = t.market_id AND m.row_current_ind
LEFT JOIN strategies s ON s.strategy_id = t.strategy_id
LEFT JOIN probability_models pm ON pm.model_id = t.model_id
ORDER BY t.created_at DESC, t.trade_id DESC;

-- Down Migration
DROP VIEW IF EXISTS trade_attribution, active_models, active_strategies, open_positions,
  current_balances, current_edges, current_game_states, current_markets;
