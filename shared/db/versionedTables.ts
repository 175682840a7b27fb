import type { VersionedTableSpec } from './versionedUpsert';

/** The SCD-2 tables of the schema, described once for the generic versioned upsert. */

export const MARKETS: VersionedTableSpec = {
  table: 'markets',
  versionKey: 'market_version_id',
  businessKey: ['market_id'],
  identity: { table: 'market_identities', insertColumns: ['market_id', 'platform_id'] },
  columns: {
    market_id: 'text',
    platform_id: 'text',
    event_id: 'text',
    external_id: 'text',
    ticker: 'text',
    title: 'text',
    market_type: 'text',
    yes_price: 'numeric',
    no_price: 'numeric',
    volume: 'bigint',
    open_interest: 'bigint',
    spread: 'numeric',
    status: 'text',
    settlement_value: 'numeric',
    metadata: 'jsonb',
    yes_bid: 'numeric',
    no_bid: 'numeric',
    last_price: 'numeric',
    close_time: 'timestamptz',
    price_level_structure: 'text',
    price_levels: 'jsonb',
    yes_bid_size: 'numeric',
    yes_ask_size: 'numeric',
  },
};

export const GAME_STATES: VersionedTableSpec = {
  table: 'game_states',
  versionKey: 'game_state_id',
  businessKey: ['sport', 'external_game_id'],
  identity: { table: 'game_identities', insertColumns: ['sport', 'external_game_id'] },
  columns: {
    sport: 'text',
    external_game_id: 'text',
    event_id: 'text',
    home_team: 'text',
    away_team: 'text',
    home_score: 'int',
    away_score: 'int',
    period: 'text',
    time_remaining: 'text',
    possession: 'text',
    status: 'text',
    sport_metadata: 'jsonb',
  },
};

export const EDGES: VersionedTableSpec = {
  table: 'edges',
  versionKey: 'edge_id',
  businessKey: ['market_id', 'strategy_id', 'model_id', 'side'],
  identity: { table: 'edge_identities', insertColumns: ['market_id', 'strategy_id', 'model_id', 'side'] },
  columns: {
    market_id: 'text',
    strategy_id: 'bigint',
    model_id: 'bigint',
    side: 'text',
    probability_matrix_id: 'bigint',
    game_state_id: 'bigint',
    edge: 'numeric',
    expected_value: 'numeric',
    true_win_probability: 'numeric',
    market_implied_probability: 'numeric',
    market_price: 'numeric',
    confidence_level: 'text',
    confidence_metrics: 'jsonb',
    recommended_action: 'text',
  },
  // Provenance is not a change of the edge itself: which game-state version fed it, and the
  // descriptive confidence metrics (they include the data's age, which moves every scan; the
  // confidence they lead to is compared through confidence_level).
  compare: [
    'probability_matrix_id', 'edge', 'expected_value', 'true_win_probability', 'market_implied_probability',
    'market_price', 'confidence_level', 'recommended_action',
  ],
};

export const POSITIONS: VersionedTableSpec = {
  table: 'positions',
  versionKey: 'position_version_id',
  businessKey: ['position_id'],
  // Position identities are created when the position opens (they carry its generated id).
  identity: { table: 'position_identities' },
  columns: {
    position_id: 'bigint',
    market_id: 'text',
    platform_id: 'text',
    side: 'text',
    execution_mode: 'text',
    entry_price: 'numeric',
    quantity: 'numeric',
    original_quantity: 'numeric',
    cost_basis: 'numeric',
    fees: 'numeric',
    status: 'text',
    unrealized_pnl: 'numeric',
    realized_pnl: 'numeric',
    current_price: 'numeric',
    unrealized_pnl_pct: 'numeric',
    last_update: 'timestamptz',
    trailing_stop_state: 'jsonb',
    exit_reason: 'text',
    exit_priority: 'text',
  },
  // last_update alone (a heartbeat) is not a new version: only state that matters is.
  compare: [
    'market_id', 'platform_id', 'side', 'execution_mode', 'entry_price', 'quantity', 'original_quantity', 'cost_basis', 'fees',
    'status', 'unrealized_pnl', 'realized_pnl', 'current_price', 'unrealized_pnl_pct', 'trailing_stop_state',
    'exit_reason', 'exit_priority',
  ],
};

export const ACCOUNT_BALANCE: VersionedTableSpec = {
  table: 'account_balance',
  versionKey: 'balance_id',
  businessKey: ['platform_id', 'execution_mode', 'currency'],
  identity: { table: 'balance_identities', insertColumns: ['platform_id', 'execution_mode', 'currency'] },
  columns: {
    platform_id: 'text',
    execution_mode: 'text',
    currency: 'text',
    balance: 'numeric',
  },
};
