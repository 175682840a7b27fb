-- Up Migration
-- Order execution: fills recorded once, exact cost basis, the order state machine enforced by
-- the database, venue desyncs, and trade attribution down to the fill.

-- D17 A trade is one venue fill. The fill id is unique per execution mode, so recording the same
-- fill twice (a duplicate delivery, a reconciliation racing the consumer) writes nothing.
ALTER TABLE trades ADD COLUMN venue_fill_id VARCHAR;
ALTER TABLE trades ADD CONSTRAINT trades_venue_fill_unique UNIQUE (execution_mode, venue_fill_id);
CREATE INDEX idx_trades_order ON trades (order_id);

-- D18 positions.cost_basis: the dollars paid for the contracts held, exact. entry_price
-- (DECIMAL(10,4)) is its rounded average and cannot carry it: 1 @ 0.50 + 2 @ 0.51 averages
-- 0.50666…; P&L is computed from cost_basis so it reconciles to the cent.
ALTER TABLE positions ADD COLUMN cost_basis DECIMAL(14,4) CHECK (cost_basis >= 0);
-- A view's p.* was expanded when it was created: rebuild open_positions to carry cost_basis.
DROP VIEW open_positions;
CREATE VIEW open_positions AS
SELECT p.*, pi.strategy_id, pi.model_id
FROM positions p
JOIN position_identities pi ON pi.position_id = p.position_id
WHERE p.row_current_ind AND p.status = 'open';

-- D19 Orders carry what the venue needs and what a restarted function needs to resume.
ALTER TABLE orders
  ADD COLUMN time_in_force VARCHAR NOT NULL DEFAULT 'good_till_canceled'
    CHECK (time_in_force IN ('good_till_canceled', 'immediate_or_cancel', 'fill_or_kill')),
  ADD COLUMN expires_at TIMESTAMPTZ,
  -- When the venue acknowledged the order (venue_order_id known).
  ADD COLUMN submitted_at TIMESTAMPTZ,
  -- When execution or reconciliation last compared the order with the venue.
  ADD COLUMN last_synced_at TIMESTAMPTZ,
  -- Fees of the fills recorded so far (the sum of its trades' fees).
  ADD COLUMN fees DECIMAL(14,4) NOT NULL DEFAULT 0 CHECK (fees >= 0),
  ADD CONSTRAINT orders_filled_matches_status CHECK (
    CASE status
      WHEN 'pending' THEN filled_quantity = 0
      WHEN 'rejected' THEN filled_quantity = 0
      WHEN 'resting' THEN filled_quantity = 0
      WHEN 'partially_filled' THEN filled_quantity > 0 AND filled_quantity < quantity
      WHEN 'filled' THEN filled_quantity = quantity
      ELSE filled_quantity < quantity  -- cancelled: whatever filled before the cancel
    END);
CREATE INDEX idx_orders_open ON orders (execution_mode, status) WHERE status IN ('resting', 'partially_filled');

-- The order state machine, in the database so that no code path (a handler, a CLI, a hand-written
-- UPDATE) can move an order backwards:
--   pending → resting → partially_filled → filled
--      │         │             └────────→ cancelled
--      │         └──────────────────────→ filled | cancelled
--      └→ partially_filled | filled | cancelled | rejected
-- filled, cancelled and rejected are final. What an order is never changes.
CREATE FUNCTION enforce_order_state_machine() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.client_order_id <> OLD.client_order_id OR NEW.purpose <> OLD.purpose OR NEW.market_id <> OLD.market_id
     OR NEW.side <> OLD.side OR NEW.action <> OLD.action OR NEW.quantity <> OLD.quantity
     OR NEW.execution_mode <> OLD.execution_mode
     OR NEW.strategy_id IS DISTINCT FROM OLD.strategy_id OR NEW.edge_id IS DISTINCT FROM OLD.edge_id THEN
    RAISE EXCEPTION 'order %: what an order is (client id, purpose, market, side, action, quantity, mode, strategy, edge) cannot change', OLD.client_order_id
      USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.venue_order_id IS NOT NULL AND NEW.venue_order_id IS DISTINCT FROM OLD.venue_order_id THEN
    RAISE EXCEPTION 'order %: venue order id cannot change once known', OLD.client_order_id USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.filled_quantity < OLD.filled_quantity THEN
    RAISE EXCEPTION 'order %: filled quantity cannot decrease (% -> %)', OLD.client_order_id, OLD.filled_quantity, NEW.filled_quantity
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status <> OLD.status AND NOT (
       (OLD.status = 'pending' AND NEW.status IN ('resting', 'partially_filled', 'filled', 'cancelled', 'rejected'))
    OR (OLD.status = 'resting' AND NEW.status IN ('partially_filled', 'filled', 'cancelled'))
    OR (OLD.status = 'partially_filled' AND NEW.status IN ('filled', 'cancelled'))
  ) THEN
    RAISE EXCEPTION 'order %: illegal status change % -> %', OLD.client_order_id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.status IN ('filled', 'cancelled', 'rejected') AND NEW.filled_quantity <> OLD.filled_quantity THEN
    RAISE EXCEPTION 'order %: a % order takes no more fills', OLD.client_order_id, OLD.status USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER orders_state_machine BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION enforce_order_state_machine();
CREATE TRIGGER orders_no_delete BEFORE DELETE OR TRUNCATE ON orders FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change();

-- D20 Venue desyncs: reconciliation found local state and the venue's disagreeing about a market
-- (its net position, or an order one side has and the other does not). While unresolved, no new
-- entry is placed on that market. Resolved automatically when a later reconciliation finds them
-- agreeing again, or by an operator.
CREATE TABLE venue_desyncs (
    desync_id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform_id     VARCHAR NOT NULL REFERENCES platforms (platform_id) ON DELETE RESTRICT,
    execution_mode  execution_mode NOT NULL,
    ticker          VARCHAR NOT NULL,
    -- NULL when the venue reports a market Precog has never ingested.
    market_id       VARCHAR REFERENCES market_identities (market_id) ON DELETE RESTRICT,
    kind            VARCHAR NOT NULL CHECK (kind IN ('position', 'order')),
    local_value     JSONB NOT NULL,
    venue_value     JSONB NOT NULL,
    detected_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    resolved_at     TIMESTAMPTZ,
    resolution      VARCHAR,
    CHECK (resolved_at IS NULL OR resolved_at >= detected_at),
    CHECK ((resolved_at IS NULL) = (resolution IS NULL))
);
CREATE UNIQUE INDEX idx_venue_desyncs_open ON venue_desyncs (platform_id, execution_mode, ticker, kind) WHERE resolved_at IS NULL;

-- trade_attribution, extended (columns can only be appended to a view): the venue order and fill,
-- the market version the trade was decided on, and the edge version's numbers.
CREATE OR REPLACE VIEW trade_attribution AS
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
DROP VIEW trade_attribution;
CREATE VIEW trade_attribution AS
SELECT t.trade_id, t.created_at, t.side, t.contract_side, t.execution_mode, t.price, t.quantity, t.fees, t.market_id,
       m.ticker AS market_ticker, t.position_id, t.edge_id, t.strategy_id, s.strategy_name, s.strategy_version,
       s.config AS strategy_config, t.model_id, pm.model_name, pm.model_version, pm.config AS model_config,
       t.edge_at_execution, t.confidence_at_execution
FROM trades t
JOIN markets m ON m.market_id = t.market_id AND m.row_current_ind
LEFT JOIN strategies s ON s.strategy_id = t.strategy_id
LEFT JOIN probability_models pm ON pm.model_id = t.model_id
ORDER BY t.created_at DESC, t.trade_id DESC;
DROP TABLE IF EXISTS venue_desyncs;
DROP TRIGGER IF EXISTS orders_no_delete ON orders;
DROP TRIGGER IF EXISTS orders_state_machine ON orders;
DROP FUNCTION IF EXISTS enforce_order_state_machine();
DROP INDEX IF EXISTS idx_orders_open;
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_filled_matches_status,
  DROP COLUMN IF EXISTS fees, DROP COLUMN IF EXISTS last_synced_at, DROP COLUMN IF EXISTS submitted_at,
  DROP COLUMN IF EXISTS expires_at, DROP COLUMN IF EXISTS time_in_force;
DROP VIEW open_positions;
ALTER TABLE positions DROP COLUMN IF EXISTS cost_basis;
CREATE VIEW open_positions AS
SELECT p.*, pi.strategy_id, pi.model_id
FROM positions p
JOIN position_identities pi ON pi.position_id = p.position_id
WHERE p.row_current_ind AND p.status = 'open';
DROP INDEX IF EXISTS idx_trades_order;
ALTER TABLE trades DROP CONSTRAINT IF EXISTS trades_venue_fill_unique, DROP COLUMN IF EXISTS venue_fill_id;
