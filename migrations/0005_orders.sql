-- Up Migration
-- D15 Orders: the explicit order state machine. The edge scan creates an entry order in
-- 'pending' (the intent, with its deterministic client_order_id) in the same transaction as the
-- edge version it acts on, then enqueues it; execution moves it through the venue's states.
-- A pending order with enqueued_at NULL was not sent yet (transactional outbox: the next scan
-- sends it), so a crash between commit and enqueue loses nothing.
CREATE TABLE orders (
    order_id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_order_id   VARCHAR NOT NULL UNIQUE,
    purpose           VARCHAR NOT NULL CHECK (purpose IN ('entry', 'exit')),
    market_id         VARCHAR NOT NULL REFERENCES market_identities (market_id) ON DELETE RESTRICT,
    platform_id       VARCHAR NOT NULL REFERENCES platforms (platform_id) ON DELETE RESTRICT,
    strategy_id       BIGINT REFERENCES strategies (strategy_id) ON DELETE RESTRICT,
    model_id          BIGINT REFERENCES probability_models (model_id) ON DELETE RESTRICT,
    edge_id           BIGINT REFERENCES edges (edge_id) ON DELETE RESTRICT,
    position_id       BIGINT REFERENCES position_identities (position_id) ON DELETE RESTRICT,
    side              contract_side NOT NULL,
    action            VARCHAR NOT NULL CHECK (action IN ('buy', 'sell')),
    order_type        VARCHAR NOT NULL CHECK (order_type IN ('market', 'limit')),
    limit_price       DECIMAL(10,4) CHECK (limit_price BETWEEN 0 AND 1),
    quantity          INT NOT NULL CHECK (quantity > 0),
    filled_quantity   INT NOT NULL DEFAULT 0 CHECK (filled_quantity >= 0 AND filled_quantity <= quantity),
    status            VARCHAR NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'resting', 'partially_filled', 'filled', 'cancelled', 'rejected')),
    execution_mode    execution_mode NOT NULL DEFAULT 'paper',
    venue_order_id    VARCHAR,
    status_reason     TEXT,
    enqueued_at       TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (order_type = 'market' OR limit_price IS NOT NULL)
);
-- "An entry for this market and strategy is in flight": the scan's duplicate guard.
CREATE INDEX idx_orders_in_flight ON orders (market_id, strategy_id)
  WHERE status IN ('pending', 'resting', 'partially_filled');
CREATE INDEX idx_orders_unsent ON orders (created_at) WHERE status = 'pending' AND enqueued_at IS NULL;
CREATE TRIGGER orders_touch_updated_at BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- Down Migration
DROP TABLE IF EXISTS orders;
