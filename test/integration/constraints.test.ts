import { beforeAll, describe, expect, it } from 'vitest';
import { dec } from '../../shared/domain/decimal';
import { MarketRepository, ProbabilityModelRepository, StrategyRepository } from '../../shared/db';
import { useTestDatabase } from '../helpers/database';
import { marketSnapshot, seedHierarchy, seedStrategyAndModel } from '../helpers/seed';

const db = useTestDatabase();

let ids: { strategyId: number; modelId: number; positionId: number; tradeId: number; edgeId: number };

beforeAll(async () => {
  const { pool } = db();
  await seedHierarchy(pool);
  await new MarketRepository(pool).upsertSnapshots([marketSnapshot('KXNFLGAME-25NOV27KCDAL-KC', '0.6000')]);
  const { strategy, model } = await seedStrategyAndModel(pool);
  const q = async (sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows[0];
  await q(
    `INSERT INTO edge_identities (market_id, strategy_id, model_id, side) VALUES ('KXNFLGAME-25NOV27KCDAL-KC', $1, $2, 'yes')`,
    [strategy.id, model.id],
  );
  const e = await q(
    `INSERT INTO edges (market_id, strategy_id, model_id, side, expected_value, true_win_probability,
                        market_implied_probability, market_price, confidence_level, recommended_action)
     VALUES ('KXNFLGAME-25NOV27KCDAL-KC', $1, $2, 'yes', 0.0830, 0.7000, 0.6000, 0.6000, 'high', 'alert') RETURNING edge_id`,
    [strategy.id, model.id],
  );
  const p = await q(
    `INSERT INTO position_identities (market_id, platform_id, side, strategy_id, model_id)
     VALUES ('KXNFLGAME-25NOV27KCDAL-KC', 'kalshi', 'yes', $1, $2) RETURNING position_id`,
    [strategy.id, model.id],
  );
  await q(
    `INSERT INTO positions (position_id, market_id, platform_id, side, entry_price, quantity, original_quantity, fees)
     VALUES ($1, 'KXNFLGAME-25NOV27KCDAL-KC', 'kalshi', 'yes', 0.6000, 100, 100, 1.6800)`,
    [p.position_id],
  );
  const t = await q(
    `INSERT INTO trades (market_id, platform_id, position_id, edge_id, strategy_id, model_id, side, contract_side, price, quantity, fees)
     VALUES ('KXNFLGAME-25NOV27KCDAL-KC', 'kalshi', $1, $2, $3, $4, 'buy', 'yes', 0.6000, 100, 1.6800) RETURNING trade_id`,
    [p.position_id, e.edge_id, strategy.id, model.id],
  );
  await q(
    `INSERT INTO position_exits (position_id, trade_id, exit_condition, exit_priority, quantity_exited, exit_price)
     VALUES ($1, $2, 'partial_exit_target', 'MEDIUM', 50, 0.6900)`,
    [p.position_id, t.trade_id],
  );
  await q(
    `INSERT INTO exit_attempts (position_id, exit_condition, priority_level, order_type, limit_price, quantity, attempt_number, success)
     VALUES ($1, 'partial_exit_target', 'MEDIUM', 'limit', 0.6900, 50, 1, TRUE)`,
    [p.position_id],
  );
  await q(
    `INSERT INTO settlements (market_id, platform_id, outcome, payout) VALUES ('KXNFLGAME-25NOV27KCDAL-KC', 'kalshi', 'yes', 1.0000)`,
  );
  ids = { strategyId: strategy.id, modelId: model.id, positionId: p.position_id, tradeId: t.trade_id, edgeId: e.edge_id };
});

describe('append-only tables', () => {
  it.each(['trades', 'settlements', 'position_exits', 'exit_attempts'])('%s rejects UPDATE, DELETE and TRUNCATE', async (table) => {
    const { pool } = db();
    await expect(pool.query(`UPDATE ${table} SET created_at = now()`)).rejects.toThrow(`${table} is append-only: UPDATE is not allowed`);
    await expect(pool.query(`DELETE FROM ${table}`)).rejects.toThrow(`${table} is append-only: DELETE is not allowed`);
    await expect(pool.query(`TRUNCATE ${table} CASCADE`)).rejects.toThrow(/is append-only: TRUNCATE is not allowed/);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${table}`);
    expect(rows[0].n).toBe(1);
  });

  it('deleting what history points at is refused, not cascaded', async () => {
    const { pool } = db();
    await expect(pool.query(`DELETE FROM platforms WHERE platform_id = 'kalshi'`)).rejects.toThrow(/foreign key constraint/);
    await expect(pool.query(`DELETE FROM position_identities`)).rejects.toThrow(/foreign key constraint/);
    await expect(pool.query(`DELETE FROM edges`)).rejects.toThrow(/foreign key constraint/);
    await expect(pool.query(`DELETE FROM strategies`)).rejects.toThrow(/foreign key constraint/);
  });

  it('a market version needs its identity on the same platform; identities are permanent', async () => {
    const { pool } = db();
    await expect(
      pool.query(`INSERT INTO markets (market_id, platform_id, external_id, title) VALUES ('NO-IDENTITY', 'kalshi', 'x', 't')`),
    ).rejects.toThrow('markets: market NO-IDENTITY has no identity on platform kalshi');
    await pool.query(`INSERT INTO platforms (platform_id, platform_type, display_name) VALUES ('other', 'trading', 'Other') ON CONFLICT DO NOTHING`);
    await expect(
      pool.query(`INSERT INTO markets (market_id, platform_id, external_id, title, row_current_ind, superseded_at)
                  VALUES ('KXNFLGAME-25NOV27KCDAL-KC', 'other', 'x', 't', FALSE, now())`),
    ).rejects.toThrow(/has no identity on platform other/);
    await expect(pool.query(`DELETE FROM market_identities WHERE market_id = 'KXNFLGAME-25NOV27KCDAL-KC'`)).rejects.toThrow(
      /market_identities is append-only: DELETE is not allowed/,
    );
  });

  it('allows one settlement per market', async () => {
    const { pool } = db();
    await expect(
      pool.query(`INSERT INTO settlements (market_id, platform_id, outcome, payout) VALUES ('KXNFLGAME-25NOV27KCDAL-KC', 'kalshi', 'no', 0)`),
    ).rejects.toThrow(/settlements_market_id_key/);
  });
});

describe('immutable strategy and model versions', () => {
  it('refuses a change of config, name or version, allows status and metrics', async () => {
    const { pool } = db();
    const strategies = new StrategyRepository(pool);
    await expect(pool.query(`UPDATE strategies SET config = '{"min_lead": 10}' WHERE strategy_id = $1`, [ids.strategyId]))
      .rejects.toThrow(/strategies halftime_entry v1.0 is an immutable version: config cannot change/);
    await expect(pool.query(`UPDATE strategies SET strategy_version = 'v1.1' WHERE strategy_id = $1`, [ids.strategyId]))
      .rejects.toThrow(/immutable version/);
    await expect(pool.query(`UPDATE strategies SET strategy_name = 'other' WHERE strategy_id = $1`, [ids.strategyId]))
      .rejects.toThrow(/immutable version/);

    const deprecated = await strategies.setStatus(ids.strategyId, 'deprecated');
    expect(deprecated.status).toBe('deprecated');
    const measured = await strategies.recordPerformance(ids.strategyId, { paperRoi: dec('0.1500'), paperTradesCount: 42 });
    expect(measured.paperRoi!.toFixed(4)).toBe('0.1500');
    expect(measured.paperTradesCount).toBe(42);
    expect(measured.config).toEqual({ min_lead: 7, max_spread: '0.08' });
  });

  it('does the same for probability models', async () => {
    const { pool } = db();
    await expect(pool.query(`UPDATE probability_models SET config = '{"k_factor": 30}' WHERE model_id = $1`, [ids.modelId]))
      .rejects.toThrow(/probability_models elo_nfl v1.0 is an immutable version: config cannot change/);
    const validated = await new ProbabilityModelRepository(pool).recordValidation(ids.modelId, {
      accuracy: dec('0.6120'), calibration: dec('0.2150'), sampleSize: 512,
    });
    expect(validated.validationSampleSize).toBe(512);
    const model = await new ProbabilityModelRepository(pool).setStatus(ids.modelId, 'deprecated');
    expect(model.status).toBe('deprecated');
  });
});

describe('versioned history', () => {
  it('refuses editing a current version in place or rewriting an old one', async () => {
    const { pool } = db();
    await expect(pool.query(`UPDATE markets SET yes_price = 0.5 WHERE row_current_ind`)).rejects.toThrow(
      /markets is versioned: only closing the current version/,
    );
    await expect(pool.query(`UPDATE positions SET quantity = 1`)).rejects.toThrow(/positions is versioned/);
  });

  it('lets the monitor move only last_update on a current position (its heartbeat), nothing else, never on history', async () => {
    const { pool } = db();
    const { rowCount } = await pool.query(`UPDATE positions SET last_update = now() WHERE row_current_ind`);
    expect(rowCount).toBeGreaterThan(0);
    await expect(pool.query(`UPDATE positions SET last_update = now(), current_price = 0.5 WHERE row_current_ind`)).rejects.toThrow(/positions is versioned/);
    // A history row: close the current version and insert the next, the only legal way.
    await pool.query(`UPDATE positions SET row_current_ind = FALSE, superseded_at = now() WHERE position_id = $1 AND row_current_ind`, [ids.positionId]);
    await pool.query(
      `INSERT INTO positions (position_id, market_id, platform_id, side, entry_price, quantity, original_quantity, fees)
       SELECT position_id, market_id, platform_id, side, entry_price, quantity, original_quantity, fees FROM positions WHERE position_id = $1 LIMIT 1`,
      [ids.positionId],
    );
    await expect(pool.query(`UPDATE positions SET last_update = now() WHERE NOT row_current_ind`)).rejects.toThrow(/positions is versioned/);
  });

  it('refuses a second current row for a key', async () => {
    const { pool } = db();
    await expect(
      pool.query(
        `INSERT INTO markets (market_id, platform_id, external_id, title) VALUES ('KXNFLGAME-25NOV27KCDAL-KC', 'kalshi', 'x', 'dup')`,
      ),
    ).rejects.toThrow(/idx_markets_current/);
  });
});

describe('CHECK constraints', () => {
  const market = (price: string) =>
    db().pool.query(
      `INSERT INTO markets (market_id, platform_id, external_id, title, yes_price) VALUES ('KXNFLGAME-25NOV27KCDAL-KC', 'kalshi', 'x', 't', $1)`,
      [price],
    );

  it.each(['1.0001', '-0.0001'])('rejects a price of %s', async (price) => {
    await expect(market(price)).rejects.toThrow(/markets_yes_price_check/);
  });

  it('rejects a trade price above 1, a negative or zero quantity, negative fees', async () => {
    const trade = (price: string, quantity: number, fees: string) =>
      db().pool.query(
        `INSERT INTO trades (market_id, platform_id, side, price, quantity, fees) VALUES ('KXNFLGAME-25NOV27KCDAL-KC', 'kalshi', 'buy', $1, $2, $3)`,
        [price, quantity, fees],
      );
    await expect(trade('1.0001', 1, '0')).rejects.toThrow(/trades_price_check/);
    await expect(trade('0.5', -1, '0')).rejects.toThrow(/trades_quantity_check/);
    await expect(trade('0.5', 0, '0')).rejects.toThrow(/trades_quantity_check/);
    await expect(trade('0.5', 1, '-0.01')).rejects.toThrow(/trades_fees_check/);
  });

  it('rejects a negative position quantity, volume and balance', async () => {
    const { pool } = db();
    await expect(
      pool.query(
        `INSERT INTO position_identities (market_id, platform_id, side) VALUES ('KXNFLGAME-25NOV27KCDAL-KC', 'kalshi', 'yes') RETURNING position_id`,
      ).then(({ rows }) =>
        pool.query(
          `INSERT INTO positions (position_id, market_id, platform_id, side, entry_price, quantity) VALUES ($1, 'KXNFLGAME-25NOV27KCDAL-KC', 'kalshi', 'yes', 0.5, -5)`,
          [rows[0].position_id],
        )),
    ).rejects.toThrow(/positions_quantity_check/);
    await expect(
      pool.query(`INSERT INTO markets (market_id, platform_id, external_id, title, volume, row_current_ind, superseded_at)
                  VALUES ('KXNFLGAME-25NOV27KCDAL-KC', 'kalshi', 'x', 't', -1, FALSE, now())`),
    ).rejects.toThrow(/markets_volume_check/);
    await expect(
      pool.query(`INSERT INTO balance_identities VALUES ('kalshi', 'paper', 'USD')
                  ON CONFLICT DO NOTHING`).then(() =>
        pool.query(`INSERT INTO account_balance (platform_id, execution_mode, currency, balance) VALUES ('kalshi', 'paper', 'USD', -0.0001)`)),
    ).rejects.toThrow(/account_balance_balance_check/);
  });

  it.each([
    [`INSERT INTO strategies (strategy_name, strategy_version, strategy_type, config, status) VALUES ('s', 'v1.0', 'entry', '{}', 'live')`, /strategies_status_check/],
    [`INSERT INTO strategies (strategy_name, strategy_version, strategy_type, config) VALUES ('s', '1.0', 'entry', '{}')`, /semantic_version_check/],
    [`INSERT INTO strategies (strategy_name, strategy_version, strategy_type, config) VALUES ('s', 'v1.0', 'arbitrage', '{}')`, /strategies_strategy_type_check/],
    [`INSERT INTO probability_models (model_name, model_version, model_type, config, status) VALUES ('m', 'v1.0', 'elo', '{}', 'retired')`, /probability_models_status_check/],
    [`INSERT INTO platforms (platform_id, platform_type, display_name) VALUES ('x', 'exchange', 'X')`, /platforms_platform_type_check/],
    [`INSERT INTO system_health (component, status) VALUES ('db', 'ok')`, /system_health_status_check/],
    [`INSERT INTO circuit_breaker_events (breaker_type) VALUES ('vibes')`, /circuit_breaker_events_breaker_type_check/],
    [`INSERT INTO exit_attempts (position_id, exit_condition, priority_level, order_type, quantity, attempt_number) VALUES ($1, 'stop_loss', 'URGENT', 'market', 1, 1)`, /exit_priority_check/],
    [`INSERT INTO exit_attempts (position_id, exit_condition, priority_level, order_type, quantity, attempt_number) VALUES ($1, 'panic', 'HIGH', 'market', 1, 1)`, /exit_condition_check/],
    [`INSERT INTO exit_attempts (position_id, exit_condition, priority_level, order_type, limit_price, quantity, attempt_number) VALUES ($1, 'stop_loss', 'HIGH', 'stop', 0.5, 1, 1)`, /exit_attempts_order_type_check/],
    [`INSERT INTO exit_attempts (position_id, exit_condition, priority_level, order_type, quantity, attempt_number) VALUES ($1, 'stop_loss', 'HIGH', 'limit', 1, 1)`, /exit_attempts_limit_has_price/],
    [`INSERT INTO trades (market_id, platform_id, side, price, quantity) VALUES ('KXNFLGAME-25NOV27KCDAL-KC', 'kalshi', 'short', 0.5, 1)`, /trades_side_check/],
    [`INSERT INTO config_overrides (config_key, override_value, data_type) VALUES ('trading.max_spread', '{"value": 1}', 'float64')`, /config_overrides_data_type_check/],
    [`INSERT INTO config_overrides (config_key, override_value) VALUES ('Not A Key', '{"value": 1}')`, /config_overrides_config_key_check/],
  ])('rejects an unknown enum value or format: %s', async (sql, error) => {
    const params = sql.includes('$1') ? [ids.positionId] : [];
    await expect(db().pool.query(sql, params)).rejects.toThrow(error);
  });

  it('keeps a circuit breaker trip as it was; only its resolution can be written, once', async () => {
    const { pool } = db();
    const { rows } = await pool.query(
      `INSERT INTO circuit_breaker_events (breaker_type, trigger_value) VALUES ('manual', '{"reason": "test"}') RETURNING event_id`,
    );
    const id = rows[0].event_id;
    await expect(pool.query(`UPDATE circuit_breaker_events SET trigger_value = '{}' WHERE event_id = $1`, [id]))
      .rejects.toThrow(/what tripped it cannot change/);
    await pool.query(`UPDATE circuit_breaker_events SET resolved_at = now(), resolution_action = 'checked' WHERE event_id = $1`, [id]);
    await expect(pool.query(`UPDATE circuit_breaker_events SET resolution_action = 'other' WHERE event_id = $1`, [id]))
      .rejects.toThrow(/already resolved/);
    await expect(pool.query(`DELETE FROM circuit_breaker_events WHERE event_id = $1`, [id])).rejects.toThrow(/audit trail/);
  });
});
