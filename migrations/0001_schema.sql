-- Up Migration
-- Precog schema v1.5 (../spec/database-schema-v1.5.md), made consistent.
--
-- Decisions that depart from the document (each also listed in README "Schema decisions"):
--  D1  Versioned (SCD-2) tables get a surrogate version key and keep the document's business key:
--        markets.market_version_id / market_id, positions.position_version_id / position_id,
--        game_states.game_state_id / (sport, external_game_id), edges.edge_id /
--        (market_id, strategy_id, model_id, side), account_balance.balance_id /
--        (platform_id, execution_mode, currency).
--      A partial unique index allows exactly one row_current_ind = TRUE row per business key; it
--      carries the document's idx_<table>_current name and replaces its (row_current_ind) index.
--  D2  Each versioned entity also has a stable identity row (*_identities). Foreign keys point at
--      the identity (a unique target, unlike a business key repeated across versions), and the
--      versioned upsert locks identity rows to serialise concurrent writers of the same key.
--      References from append-only history that must pin an exact version point at the version
--      too: trades.edge_id -> edges.edge_id, trades (market_id, market_version_id) -> markets,
--      position_exits/exit_attempts (position_id, position_version_id) -> positions.
--  D3  No ON DELETE CASCADE anywhere: every foreign key is RESTRICT, so deleting a platform,
--      market or position can never erase trades, settlements, position_exits or exit_attempts.
--  D4  TIMESTAMPTZ instead of TIMESTAMP: every instant is unambiguous, the clock is the database's.
--  D5  Versioned rows carry superseded_at (when the version stopped being current), with a CHECK
--      tying it to row_current_ind, so "what was true at time T" is answerable.
--  D6  Added columns the later phases need and the document implies: edges.side and edges.edge
--      (gross edge, p - price; expected_value stays the fee-net EV), edges.game_state_id,
--      trades.contract_side (yes/no; trades.side stays buy/sell as documented),
--      trades.client_order_id (idempotency), execution_mode (paper/live) on trades, positions and
--      balances, positions.original_quantity (partial exits are fractions of it),
--      position_exits.trade_id and exit_attempts.order_id (what actually traded).
--  D7  edges.strategy_id and edges.model_id are NOT NULL: an edge without attribution cannot be
--      traded or A/B-tested.
--  D8  Widened types: volume and open_interest BIGINT (counts can pass 2^31), account_balance.balance
--      DECIMAL(14,4) (DECIMAL(10,4) caps an account at $999,999.9999). Same 4-decimal precision.
--  D9  Enumerations are CHECK constraints on VARCHAR (as the document's types), listed below.
--  D10 Secondary indexes on versioned tables that serve current-row lookups (by event, platform,
--      status, ...) are partial (WHERE row_current_ind): closed versions never enter them.
--  D11 markets and positions have (business key, version key) primary keys: one index answers
--      both "this exact version" and "the history of this market/position".

-- ---------------------------------------------------------------------------------------------
-- Shared helper: order semantic version strings ('v1.10' after 'v1.9').
CREATE FUNCTION version_sort_key(v text) RETURNS int[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT array_agg(part::int ORDER BY ord)
  FROM unnest(string_to_array(ltrim(v, 'v'), '.')) WITH ORDINALITY AS t(part, ord)
$$;

-- Enumerations used by several tables, defined once (D9).
CREATE DOMAIN exit_condition AS VARCHAR(50) CHECK (VALUE IN (
    'stop_loss', 'circuit_breaker', 'trailing_stop', 'time_based_urgent', 'liquidity_dried_up',
    'profit_target', 'partial_exit_target', 'early_exit', 'edge_disappeared', 'rebalance'));
CREATE DOMAIN exit_priority AS VARCHAR(20) CHECK (VALUE IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW'));
CREATE DOMAIN contract_side AS VARCHAR CHECK (VALUE IN ('yes', 'no'));
CREATE DOMAIN execution_mode AS VARCHAR CHECK (VALUE IN ('paper', 'live'));
CREATE DOMAIN semantic_version AS VARCHAR CHECK (VALUE ~ '^v[0-9]+\.[0-9]+(\.[0-9]+)?$');

-- ---------------------------------------------------------------------------------------------
-- 1. Platform and market hierarchy

CREATE TABLE platforms (
    platform_id    VARCHAR PRIMARY KEY,
    platform_type  VARCHAR NOT NULL CHECK (platform_type IN ('trading', 'data_source')),
    display_name   VARCHAR NOT NULL,
    base_url       VARCHAR,
    websocket_url  VARCHAR,
    api_version    VARCHAR,
    auth_method    VARCHAR CHECK (auth_method IN ('rsa_pss', 'api_key', 'metamask', 'none')),
    fees_structure JSONB,
    status         VARCHAR NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'maintenance')),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE series (
    series_id    VARCHAR PRIMARY KEY,
    platform_id  VARCHAR NOT NULL REFERENCES platforms (platform_id) ON DELETE RESTRICT,
    external_id  VARCHAR NOT NULL,
    category     VARCHAR NOT NULL,
    subcategory  VARCHAR,
    title        VARCHAR NOT NULL,
    frequency    VARCHAR,
    metadata     JSONB,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (platform_id, external_id)
);
CREATE INDEX idx_series_platform ON series (platform_id);

CREATE TABLE events (
    event_id     VARCHAR PRIMARY KEY,
    platform_id  VARCHAR NOT NULL REFERENCES platforms (platform_id) ON DELETE RESTRICT,
    series_id    VARCHAR REFERENCES series (series_id) ON DELETE RESTRICT,
    external_id  VARCHAR NOT NULL,
    category     VARCHAR NOT NULL,
    subcategory  VARCHAR,
    title        VARCHAR NOT NULL,
    description  TEXT,
    start_time   TIMESTAMPTZ,
    end_time     TIMESTAMPTZ,
    status       VARCHAR CHECK (status IN ('scheduled', 'live', 'final', 'cancelled', 'postponed')),
    result       JSONB,
    metadata     JSONB,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (platform_id, external_id)
);
CREATE INDEX idx_events_series ON events (series_id);
CREATE INDEX idx_events_platform ON events (platform_id);
CREATE INDEX idx_events_start ON events (start_time);

-- Stable identity of a market (D2): the unique target for every reference to a market.
CREATE TABLE market_identities (
    market_id    VARCHAR PRIMARY KEY,
    platform_id  VARCHAR NOT NULL REFERENCES platforms (platform_id) ON DELETE RESTRICT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (market_id, platform_id)
);

-- Versioned market snapshots (SCD-2, D1).
-- status: Kalshi's lifecycle folded into unopened (initialized), open (active), paused (inactive),
-- closed, determined (result known, not final), disputed, settled (finalized).
CREATE TABLE markets (
    market_version_id BIGINT GENERATED ALWAYS AS IDENTITY,
    market_id         VARCHAR NOT NULL,
    platform_id       VARCHAR NOT NULL,
    event_id          VARCHAR REFERENCES events (event_id) ON DELETE RESTRICT,
    external_id       VARCHAR NOT NULL,
    ticker            VARCHAR,
    title             VARCHAR NOT NULL,
    market_type       VARCHAR CHECK (market_type IN ('binary', 'categorical', 'scalar')),
    yes_price         DECIMAL(10,4) CHECK (yes_price BETWEEN 0 AND 1),
    no_price          DECIMAL(10,4) CHECK (no_price BETWEEN 0 AND 1),
    volume            BIGINT CHECK (volume >= 0),
    open_interest     BIGINT CHECK (open_interest >= 0),
    spread            DECIMAL(10,4) CHECK (spread BETWEEN 0 AND 1),
    status            VARCHAR CHECK (status IN ('unopened', 'open', 'paused', 'closed', 'determined', 'disputed', 'settled')),
    settlement_value  DECIMAL(10,4) CHECK (settlement_value BETWEEN 0 AND 1),
    metadata          JSONB,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    superseded_at     TIMESTAMPTZ,
    row_current_ind   BOOLEAN NOT NULL DEFAULT TRUE,
    -- D11: the primary key leads with the business key, so one index serves both "version N" and
    -- "the history of market X", and closing a version adds an entry to this index only.
    CONSTRAINT markets_pkey PRIMARY KEY (market_id, market_version_id),
    CONSTRAINT markets_current_has_no_end CHECK (row_current_ind = (superseded_at IS NULL)),
    -- One foreign key checks both the identity and that a version never moves platform.
    CONSTRAINT markets_identity_fkey FOREIGN KEY (market_id, platform_id)
        REFERENCES market_identities (market_id, platform_id) ON DELETE RESTRICT
);
-- D1/D10: the document's idx_markets_current (current rows) is this partial UNIQUE index on the
-- business key: it finds current rows and allows exactly one per market. Lookups by event and
-- platform are of current rows too, so those indexes are partial and closed versions stay out.
CREATE UNIQUE INDEX idx_markets_current ON markets (market_id) WHERE row_current_ind;
CREATE INDEX idx_markets_event ON markets (event_id) WHERE row_current_ind;
CREATE INDEX idx_markets_platform ON markets (platform_id) WHERE row_current_ind;

-- ---------------------------------------------------------------------------------------------
-- 2. Live game data

CREATE TABLE game_identities (
    sport             VARCHAR NOT NULL,
    external_game_id  VARCHAR NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (sport, external_game_id)
);

CREATE TABLE game_states (
    game_state_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id          VARCHAR REFERENCES events (event_id) ON DELETE RESTRICT,
    external_game_id  VARCHAR NOT NULL,
    sport             VARCHAR NOT NULL,
    home_team         VARCHAR,
    away_team         VARCHAR,
    home_score        INT CHECK (home_score >= 0),
    away_score        INT CHECK (away_score >= 0),
    period            VARCHAR,
    time_remaining    VARCHAR,
    possession        VARCHAR CHECK (possession IN ('home', 'away')),
    status            VARCHAR CHECK (status IN ('scheduled', 'pregame', 'live', 'halftime', 'final', 'postponed', 'cancelled')),
    sport_metadata    JSONB,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    superseded_at     TIMESTAMPTZ,
    row_current_ind   BOOLEAN NOT NULL DEFAULT TRUE,
    CONSTRAINT game_states_current_has_no_end CHECK (row_current_ind = (superseded_at IS NULL)),
    FOREIGN KEY (sport, external_game_id) REFERENCES game_identities (sport, external_game_id) ON DELETE RESTRICT
);
CREATE UNIQUE INDEX idx_game_states_current ON game_states (sport, external_game_id) WHERE row_current_ind;
CREATE INDEX idx_game_states_history ON game_states (sport, external_game_id, game_state_id);
CREATE INDEX idx_game_states_event ON game_states (event_id) WHERE row_current_ind;
CREATE INDEX idx_game_states_sport ON game_states (sport) WHERE row_current_ind;

-- ---------------------------------------------------------------------------------------------
-- 3. Probability and edge detection

CREATE TABLE probability_matrices (
    probability_id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category                   VARCHAR NOT NULL,
    subcategory                VARCHAR NOT NULL,
    version                    semantic_version NOT NULL,
    state_descriptor           VARCHAR NOT NULL,
    value_bucket               VARCHAR NOT NULL,
    situational_factors        JSONB,
    win_probability            DECIMAL(10,4) NOT NULL CHECK (win_probability BETWEEN 0 AND 1),
    confidence_interval_lower  DECIMAL(10,4) CHECK (confidence_interval_lower BETWEEN 0 AND 1),
    confidence_interval_upper  DECIMAL(10,4) CHECK (confidence_interval_upper BETWEEN 0 AND 1),
    sample_size                INT CHECK (sample_size >= 0),
    source                     VARCHAR,
    methodology                TEXT,
    created_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (confidence_interval_lower <= confidence_interval_upper)
);
CREATE INDEX idx_probability_lookup ON probability_matrices (category, subcategory, version, state_descriptor, value_bucket);
-- One probability per cell of a matrix version (situational factors distinguish cells).
CREATE UNIQUE INDEX uq_probability_cell ON probability_matrices
    (category, subcategory, version, state_descriptor, value_bucket, COALESCE(situational_factors, '{}'::jsonb));

CREATE TABLE probability_models (
    model_id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_name              VARCHAR NOT NULL,
    model_version           semantic_version NOT NULL,
    model_type              VARCHAR NOT NULL CHECK (model_type IN ('elo', 'regression', 'ensemble', 'ml', 'matrix')),
    sport                   VARCHAR,
    config                  JSONB NOT NULL,
    description             TEXT,
    status                  VARCHAR NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'training', 'validating', 'active', 'deprecated')),
    validation_accuracy     DECIMAL(10,4) CHECK (validation_accuracy BETWEEN 0 AND 1),
    validation_calibration  DECIMAL(10,4) CHECK (validation_calibration BETWEEN 0 AND 1),
    validation_sample_size  INT CHECK (validation_sample_size >= 0),
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by              VARCHAR,
    notes                   TEXT,
    UNIQUE (model_name, model_version)
);
CREATE INDEX idx_probability_models_name ON probability_models (model_name);
CREATE INDEX idx_probability_models_status ON probability_models (status);
CREATE INDEX idx_probability_models_active ON probability_models (status) WHERE status = 'active';

CREATE TABLE strategies (
    strategy_id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    strategy_name       VARCHAR NOT NULL,
    strategy_version    semantic_version NOT NULL,
    strategy_type       VARCHAR NOT NULL CHECK (strategy_type IN ('entry', 'exit', 'sizing', 'hedging')),
    sport               VARCHAR,
    config              JSONB NOT NULL,
    description         TEXT,
    status              VARCHAR NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'testing', 'active', 'inactive', 'deprecated')),
    paper_roi           DECIMAL(10,4),
    live_roi            DECIMAL(10,4),
    paper_trades_count  INT NOT NULL DEFAULT 0 CHECK (paper_trades_count >= 0),
    live_trades_count   INT NOT NULL DEFAULT 0 CHECK (live_trades_count >= 0),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by          VARCHAR,
    notes               TEXT,
    UNIQUE (strategy_name, strategy_version)
);
CREATE INDEX idx_strategies_name ON strategies (strategy_name);
CREATE INDEX idx_strategies_status ON strategies (status);
CREATE INDEX idx_strategies_active ON strategies (status) WHERE status = 'active';

CREATE TABLE edge_identities (
    market_id    VARCHAR NOT NULL REFERENCES market_identities (market_id) ON DELETE RESTRICT,
    strategy_id  BIGINT NOT NULL REFERENCES strategies (strategy_id) ON DELETE RESTRICT,
    model_id     BIGINT NOT NULL REFERENCES probability_models (model_id) ON DELETE RESTRICT,
    side         contract_side NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (market_id, strategy_id, model_id, side)
);

CREATE TABLE edges (
    edge_id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- market, strategy and model are checked once, through the edge identity they belong to
    -- (whose own foreign keys reach them): one check per new version instead of four.
    market_id                   VARCHAR NOT NULL,
    probability_matrix_id       BIGINT REFERENCES probability_matrices (probability_id) ON DELETE RESTRICT,
    strategy_id                 BIGINT NOT NULL,
    model_id                    BIGINT NOT NULL,
    game_state_id               BIGINT REFERENCES game_states (game_state_id) ON DELETE RESTRICT,
    side                        contract_side NOT NULL,
    edge                        DECIMAL(10,4) CHECK (edge BETWEEN -1 AND 1),
    expected_value              DECIMAL(10,4) NOT NULL CHECK (expected_value BETWEEN -1 AND 1),
    true_win_probability        DECIMAL(10,4) NOT NULL CHECK (true_win_probability BETWEEN 0 AND 1),
    market_implied_probability  DECIMAL(10,4) NOT NULL CHECK (market_implied_probability BETWEEN 0 AND 1),
    market_price                DECIMAL(10,4) NOT NULL CHECK (market_price BETWEEN 0 AND 1),
    confidence_level            VARCHAR CHECK (confidence_level IN ('high', 'medium', 'low')),
    confidence_metrics          JSONB,
    recommended_action          VARCHAR CHECK (recommended_action IN ('auto_execute', 'alert', 'ignore')),
    created_at                  TIMESTAMPTZ NOT NULL DEFAULT now(),
    superseded_at               TIMESTAMPTZ,
    row_current_ind             BOOLEAN NOT NULL DEFAULT TRUE,
    CONSTRAINT edges_current_has_no_end CHECK (row_current_ind = (superseded_at IS NULL)),
    FOREIGN KEY (market_id, strategy_id, model_id, side)
        REFERENCES edge_identities (market_id, strategy_id, model_id, side) ON DELETE RESTRICT
);
CREATE UNIQUE INDEX idx_edges_current ON edges (market_id, strategy_id, model_id, side) WHERE row_current_ind;
-- D10: lookups by market, matrix, strategy and model are of current edges (history is read
-- through trades.edge_id and the primary key), so these indexes are partial.
CREATE INDEX idx_edges_market ON edges (market_id) WHERE row_current_ind;
CREATE INDEX idx_edges_probability ON edges (probability_matrix_id) WHERE row_current_ind;
CREATE INDEX idx_edges_strategy ON edges (strategy_id) WHERE row_current_ind;
CREATE INDEX idx_edges_model ON edges (model_id) WHERE row_current_ind;
CREATE INDEX idx_edges_ev ON edges (expected_value) WHERE row_current_ind = TRUE;

-- ---------------------------------------------------------------------------------------------
-- 4. Trading and positions

-- Stable identity of a position (D2): what a position is for its whole life.
CREATE TABLE position_identities (
    position_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    market_id       VARCHAR NOT NULL REFERENCES market_identities (market_id) ON DELETE RESTRICT,
    platform_id     VARCHAR NOT NULL REFERENCES platforms (platform_id) ON DELETE RESTRICT,
    side            contract_side NOT NULL,
    strategy_id     BIGINT REFERENCES strategies (strategy_id) ON DELETE RESTRICT,
    model_id        BIGINT REFERENCES probability_models (model_id) ON DELETE RESTRICT,
    execution_mode  execution_mode NOT NULL DEFAULT 'paper',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_position_identities_market ON position_identities (market_id);

CREATE TABLE positions (
    position_version_id  BIGINT GENERATED ALWAYS AS IDENTITY,
    position_id          BIGINT NOT NULL REFERENCES position_identities (position_id) ON DELETE RESTRICT,
    market_id            VARCHAR NOT NULL REFERENCES market_identities (market_id) ON DELETE RESTRICT,
    platform_id          VARCHAR NOT NULL REFERENCES platforms (platform_id) ON DELETE RESTRICT,
    side                 contract_side NOT NULL,
    execution_mode       execution_mode NOT NULL DEFAULT 'paper',
    entry_price          DECIMAL(10,4) NOT NULL CHECK (entry_price BETWEEN 0 AND 1),
    quantity             INT NOT NULL CHECK (quantity >= 0),
    original_quantity    INT CHECK (original_quantity >= 0),
    fees                 DECIMAL(10,4) CHECK (fees >= 0),
    status               VARCHAR NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'settled')),
    unrealized_pnl       DECIMAL(10,4),
    realized_pnl         DECIMAL(10,4),
    current_price        DECIMAL(10,4) CHECK (current_price BETWEEN 0 AND 1),
    unrealized_pnl_pct   DECIMAL(6,4),
    last_update          TIMESTAMPTZ,
    trailing_stop_state  JSONB,
    exit_reason          exit_condition,
    exit_priority        exit_priority,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    superseded_at        TIMESTAMPTZ,
    row_current_ind      BOOLEAN NOT NULL DEFAULT TRUE,
    CONSTRAINT positions_pkey PRIMARY KEY (position_id, position_version_id),  -- D11, as markets
    CONSTRAINT positions_current_has_no_end CHECK (row_current_ind = (superseded_at IS NULL)),
    CONSTRAINT positions_closed_at_zero CHECK (status = 'open' OR quantity = 0)
);
CREATE UNIQUE INDEX idx_positions_current ON positions (position_id) WHERE row_current_ind;
CREATE INDEX idx_positions_market ON positions (market_id) WHERE row_current_ind;
CREATE INDEX idx_positions_platform ON positions (platform_id) WHERE row_current_ind;
CREATE INDEX idx_positions_status ON positions (status) WHERE row_current_ind;
CREATE INDEX idx_positions_last_update ON positions (last_update) WHERE row_current_ind;

CREATE TABLE trades (
    trade_id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    market_id                VARCHAR NOT NULL REFERENCES market_identities (market_id) ON DELETE RESTRICT,
    market_version_id        BIGINT,
    platform_id              VARCHAR NOT NULL REFERENCES platforms (platform_id) ON DELETE RESTRICT,
    position_id              BIGINT REFERENCES position_identities (position_id) ON DELETE RESTRICT,
    edge_id                  BIGINT REFERENCES edges (edge_id) ON DELETE RESTRICT,
    strategy_id              BIGINT REFERENCES strategies (strategy_id) ON DELETE RESTRICT,
    model_id                 BIGINT REFERENCES probability_models (model_id) ON DELETE RESTRICT,
    order_id                 VARCHAR,
    client_order_id          VARCHAR,
    side                     VARCHAR NOT NULL CHECK (side IN ('buy', 'sell')),
    contract_side            contract_side,
    execution_mode           execution_mode NOT NULL DEFAULT 'paper',
    price                    DECIMAL(10,4) NOT NULL CHECK (price BETWEEN 0 AND 1),
    quantity                 INT NOT NULL CHECK (quantity > 0),
    fees                     DECIMAL(10,4) CHECK (fees >= 0),
    edge_at_execution        DECIMAL(10,4) CHECK (edge_at_execution BETWEEN -1 AND 1),
    confidence_at_execution  VARCHAR CHECK (confidence_at_execution IN ('high', 'medium', 'low')),
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The market version (prices) the trade was decided on.
    FOREIGN KEY (market_id, market_version_id) REFERENCES markets (market_id, market_version_id) ON DELETE RESTRICT
);
CREATE INDEX idx_trades_market ON trades (market_id);
CREATE INDEX idx_trades_platform ON trades (platform_id);
CREATE INDEX idx_trades_position ON trades (position_id);
CREATE INDEX idx_trades_edge ON trades (edge_id);
CREATE INDEX idx_trades_strategy ON trades (strategy_id);
CREATE INDEX idx_trades_model ON trades (model_id);
CREATE INDEX idx_trades_created ON trades (created_at);
-- Execution finds its own earlier work by client order id (idempotent retries); one order can
-- fill in several trades, so the column is indexed, not unique.
CREATE INDEX idx_trades_client_order ON trades (client_order_id);

CREATE TABLE position_exits (
    exit_id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    position_id             BIGINT NOT NULL REFERENCES position_identities (position_id) ON DELETE RESTRICT,
    position_version_id     BIGINT,
    trade_id                BIGINT REFERENCES trades (trade_id) ON DELETE RESTRICT,
    exit_condition          exit_condition NOT NULL,
    exit_priority           exit_priority NOT NULL,
    quantity_exited         INT NOT NULL CHECK (quantity_exited > 0),
    exit_price              DECIMAL(10,4) NOT NULL CHECK (exit_price BETWEEN 0 AND 1),
    unrealized_pnl_at_exit  DECIMAL(10,4),
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (position_id, position_version_id) REFERENCES positions (position_id, position_version_id) ON DELETE RESTRICT
);
CREATE INDEX idx_position_exits_position ON position_exits (position_id);
CREATE INDEX idx_position_exits_condition ON position_exits (exit_condition);
CREATE INDEX idx_position_exits_priority ON position_exits (exit_priority);
CREATE INDEX idx_position_exits_created ON position_exits (created_at);

CREATE TABLE exit_attempts (
    attempt_id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    position_id          BIGINT NOT NULL REFERENCES position_identities (position_id) ON DELETE RESTRICT,
    position_version_id  BIGINT,
    exit_condition       exit_condition NOT NULL,
    priority_level       exit_priority NOT NULL,
    order_type           VARCHAR(20) NOT NULL CHECK (order_type IN ('market', 'limit')),
    order_id             VARCHAR,
    limit_price          DECIMAL(10,4) CHECK (limit_price BETWEEN 0 AND 1),
    fill_price           DECIMAL(10,4) CHECK (fill_price BETWEEN 0 AND 1),
    quantity             INT NOT NULL CHECK (quantity > 0),
    attempt_number       INT NOT NULL CHECK (attempt_number >= 1),
    timeout_seconds      INT CHECK (timeout_seconds >= 0),
    success              BOOLEAN,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT exit_attempts_limit_has_price CHECK (order_type = 'market' OR limit_price IS NOT NULL),
    FOREIGN KEY (position_id, position_version_id) REFERENCES positions (position_id, position_version_id) ON DELETE RESTRICT
);
CREATE INDEX idx_exit_attempts_position ON exit_attempts (position_id);
CREATE INDEX idx_exit_attempts_condition ON exit_attempts (exit_condition);
CREATE INDEX idx_exit_attempts_success ON exit_attempts (success);
CREATE INDEX idx_exit_attempts_created ON exit_attempts (created_at);

-- One settlement per market. payout is the value of one YES contract at settlement (0..1).
CREATE TABLE settlements (
    settlement_id  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    market_id      VARCHAR NOT NULL UNIQUE REFERENCES market_identities (market_id) ON DELETE RESTRICT,
    platform_id    VARCHAR NOT NULL REFERENCES platforms (platform_id) ON DELETE RESTRICT,
    outcome        VARCHAR NOT NULL CHECK (outcome IN ('yes', 'no', 'scalar', 'void')),
    payout         DECIMAL(10,4) CHECK (payout BETWEEN 0 AND 1),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_settlements_platform ON settlements (platform_id);

CREATE TABLE balance_identities (
    platform_id     VARCHAR NOT NULL REFERENCES platforms (platform_id) ON DELETE RESTRICT,
    execution_mode  execution_mode NOT NULL,
    currency        VARCHAR NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (platform_id, execution_mode, currency)
);

CREATE TABLE account_balance (
    balance_id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform_id      VARCHAR NOT NULL REFERENCES platforms (platform_id) ON DELETE RESTRICT,
    execution_mode   execution_mode NOT NULL DEFAULT 'paper',
    balance          DECIMAL(14,4) NOT NULL CHECK (balance >= 0),
    currency         VARCHAR NOT NULL DEFAULT 'USD',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    superseded_at    TIMESTAMPTZ,
    row_current_ind  BOOLEAN NOT NULL DEFAULT TRUE,
    CONSTRAINT account_balance_current_has_no_end CHECK (row_current_ind = (superseded_at IS NULL)),
    FOREIGN KEY (platform_id, execution_mode, currency)
        REFERENCES balance_identities (platform_id, execution_mode, currency) ON DELETE RESTRICT
);
CREATE UNIQUE INDEX idx_balance_current ON account_balance (platform_id, execution_mode, currency) WHERE row_current_ind;
CREATE INDEX idx_balance_platform ON account_balance (platform_id);

-- ---------------------------------------------------------------------------------------------
-- 5. Configuration and state

CREATE TABLE config_overrides (
    override_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    config_key      VARCHAR NOT NULL CHECK (config_key ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$'),
    override_value  JSONB NOT NULL,
    data_type       VARCHAR CHECK (data_type IN ('float', 'int', 'bool', 'string', 'decimal', 'json')),
    reason          TEXT,
    applied_by      VARCHAR,
    applied_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    CHECK (expires_at IS NULL OR expires_at > applied_at)
);
CREATE INDEX idx_config_overrides_key ON config_overrides (config_key);
CREATE INDEX idx_config_overrides_active ON config_overrides (active) WHERE active = TRUE;

CREATE TABLE circuit_breaker_events (
    event_id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    breaker_type       VARCHAR NOT NULL CHECK (breaker_type IN ('daily_loss_limit', 'api_failures', 'data_stale',
                           'rapid_loss', 'trade_rate', 'manual')),
    triggered_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    resolved_at        TIMESTAMPTZ,
    trigger_value      JSONB,
    resolution_action  VARCHAR,
    notes              TEXT,
    CHECK (resolved_at IS NULL OR resolved_at >= triggered_at)
);
CREATE INDEX idx_circuit_breaker_triggered ON circuit_breaker_events (triggered_at);
CREATE INDEX idx_circuit_breaker_open ON circuit_breaker_events (breaker_type) WHERE resolved_at IS NULL;

CREATE TABLE system_health (
    health_id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    component   VARCHAR NOT NULL,
    status      VARCHAR NOT NULL CHECK (status IN ('healthy', 'degraded', 'down')),
    last_check  TIMESTAMPTZ NOT NULL DEFAULT now(),
    details     JSONB,
    alert_sent  BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX idx_health_component ON system_health (component, last_check DESC);
CREATE INDEX idx_health_status ON system_health (status);

-- Down Migration
DROP TABLE IF EXISTS system_health, circuit_breaker_events, config_overrides, account_balance,
    balance_identities, settlements, exit_attempts, position_exits, trades, positions,
    position_identities, edges, edge_identities, strategies, probability_models,
    probability_matrices, game_states, game_identities, markets, market_identities, events,
    series, platforms;
DROP FUNCTION IF EXISTS version_sort_key(text);
DROP DOMAIN IF EXISTS exit_condition, exit_priority, contract_side, execution_mode, semantic_version;
