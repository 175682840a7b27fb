-- Up Migration
-- D17 The paper exchange: a simulated Kalshi over ingested prices. It is a venue of its own, with
-- its own books here, apart from execution's (orders, trades, positions): execution reconciles
-- against these tables exactly as it reconciles against Kalshi's portfolio endpoints, so paper and
-- live run one code path. Conventions are Kalshi's: prices of the order's own side in dollars,
-- whole contracts, statuses resting/canceled/executed, position signed (+YES / −NO).
-- Timestamps come from the exchange's clock (a backtest replays time), not from now().

-- One cash account per simulated member. balance never goes negative: the exchange refuses what
-- it cannot pay, and the CHECK is the last line of defence.
CREATE TABLE paper_accounts (
    account_id        TEXT PRIMARY KEY DEFAULT 'default',
    starting_balance  DECIMAL(14,4) NOT NULL CHECK (starting_balance >= 0),
    balance           DECIMAL(14,4) NOT NULL CHECK (balance >= 0),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Venue order ids are 'paper-<n>' and fill ids 'paper-fill-<n>', numbered by these sequences
-- (the number is kept too, to list in placement order).
CREATE SEQUENCE paper_order_number_seq;
CREATE SEQUENCE paper_fill_number_seq;

CREATE TABLE paper_orders (
    venue_order_id    TEXT PRIMARY KEY,
    order_number      BIGINT NOT NULL UNIQUE,
    -- Kalshi scopes client order ids per member, so uniqueness is per account: placing the same
    -- client order id twice finds this row instead of creating a second order.
    client_order_id   TEXT NOT NULL,
    account_id        TEXT NOT NULL REFERENCES paper_accounts (account_id) ON DELETE RESTRICT,
    ticker            TEXT NOT NULL,
    side              TEXT NOT NULL CHECK (side IN ('yes', 'no')),
    action            TEXT NOT NULL CHECK (action IN ('buy', 'sell')),
    order_type        TEXT NOT NULL CHECK (order_type IN ('limit', 'market')),
    time_in_force     TEXT NOT NULL CHECK (time_in_force IN ('good_till_canceled', 'immediate_or_cancel', 'fill_or_kill')),
    -- Market orders too carry their worst acceptable price (Kalshi has no true market order).
    limit_price       DECIMAL(10,4) NOT NULL CHECK (limit_price > 0 AND limit_price < 1),
    initial_count     INT NOT NULL CHECK (initial_count > 0),
    filled_count      INT NOT NULL DEFAULT 0 CHECK (filled_count >= 0 AND filled_count <= initial_count),
    status            TEXT NOT NULL CHECK (status IN ('resting', 'canceled', 'executed')),
    taker_fees        DECIMAL(14,4) NOT NULL DEFAULT 0 CHECK (taker_fees >= 0),
    maker_fees        DECIMAL(14,4) NOT NULL DEFAULT 0 CHECK (maker_fees >= 0),
    -- Dollars paid (buy) or received (sell) for the contracts filled as taker / as maker.
    taker_fill_cost   DECIMAL(14,4) NOT NULL DEFAULT 0 CHECK (taker_fill_cost >= 0),
    maker_fill_cost   DECIMAL(14,4) NOT NULL DEFAULT 0 CHECK (maker_fill_cost >= 0),
    expires_at        TIMESTAMPTZ,
    -- The `at` of the newest book this order was matched against. A resting order only matches a
    -- newer book: the same snapshot's depth was already offered to it (or taken by it).
    book_seen_at      TIMESTAMPTZ NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (account_id, client_order_id),
    -- executed means every contract filled; a resting order still has contracts to fill.
    CHECK (status <> 'executed' OR filled_count = initial_count),
    CHECK (status <> 'resting' OR filled_count < initial_count),
    -- Only good_till_canceled orders rest, and only they can expire.
    CHECK (status <> 'resting' OR time_in_force = 'good_till_canceled'),
    CHECK (expires_at IS NULL OR time_in_force = 'good_till_canceled'),
    CHECK (order_type = 'limit' OR time_in_force <> 'good_till_canceled')
);
-- Every read brings the account's resting orders up to date first: find them without a scan.
CREATE INDEX idx_paper_orders_resting ON paper_orders (account_id, order_number) WHERE status = 'resting';
CREATE INDEX idx_paper_orders_ticker ON paper_orders (account_id, ticker, order_number);

-- Fills are what the venue reports as traded: history, never rewritten.
CREATE TABLE paper_fills (
    fill_id           TEXT PRIMARY KEY,
    fill_number       BIGINT NOT NULL UNIQUE,
    venue_order_id    TEXT NOT NULL REFERENCES paper_orders (venue_order_id) ON DELETE RESTRICT,
    account_id        TEXT NOT NULL REFERENCES paper_accounts (account_id) ON DELETE RESTRICT,
    ticker            TEXT NOT NULL,
    side              TEXT NOT NULL CHECK (side IN ('yes', 'no')),
    action            TEXT NOT NULL CHECK (action IN ('buy', 'sell')),
    count             INT NOT NULL CHECK (count > 0),
    price             DECIMAL(10,4) NOT NULL CHECK (price > 0 AND price < 1),
    is_taker          BOOLEAN NOT NULL,
    fee               DECIMAL(14,4) NOT NULL CHECK (fee >= 0),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_paper_fills_order ON paper_fills (venue_order_id);
CREATE INDEX idx_paper_fills_account_ticker ON paper_fills (account_id, ticker, created_at);
CREATE INDEX idx_paper_fills_account_time ON paper_fills (account_id, created_at);
CREATE TRIGGER paper_fills_append_only BEFORE UPDATE OR DELETE ON paper_fills
  FOR EACH ROW EXECUTE FUNCTION reject_append_only_change();
CREATE TRIGGER paper_fills_no_truncate BEFORE TRUNCATE ON paper_fills
  FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change();

-- The account's holding per market, as Kalshi reports it. A row stays after the position goes
-- back to zero: its realized P&L, fees and volume are history of that market.
CREATE TABLE paper_positions (
    account_id        TEXT NOT NULL REFERENCES paper_accounts (account_id) ON DELETE RESTRICT,
    ticker            TEXT NOT NULL,
    -- Signed: + YES contracts held, − NO contracts held (never both: a YES+NO pair pays $1 at once).
    position          INT NOT NULL DEFAULT 0,
    -- What the contracts held cost (fees excluded): the exact sum of what remains after pro-rata
    -- removals, so it is zero exactly when nothing is held.
    cost_basis        DECIMAL(14,4) NOT NULL DEFAULT 0 CHECK (cost_basis >= 0),
    -- Proceeds (or $1 per netted pair) minus the cost removed, fees excluded (they are in fees_paid).
    realized_pnl      DECIMAL(14,4) NOT NULL DEFAULT 0,
    fees_paid         DECIMAL(14,4) NOT NULL DEFAULT 0 CHECK (fees_paid >= 0),
    -- Dollars traded in this market, buys and sells (Kalshi's total_traded).
    total_traded      DECIMAL(14,4) NOT NULL DEFAULT 0 CHECK (total_traded >= 0),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, ticker),
    CHECK (position <> 0 OR cost_basis = 0)
);
CREATE INDEX idx_paper_positions_open ON paper_positions (account_id) WHERE position <> 0;

-- Down Migration
DROP TABLE IF EXISTS paper_positions;
DROP TABLE IF EXISTS paper_fills;
DROP TABLE IF EXISTS paper_orders;
DROP SEQUENCE IF EXISTS paper_fill_number_seq;
DROP SEQUENCE IF EXISTS paper_order_number_seq;
DROP TABLE IF EXISTS paper_accounts;
