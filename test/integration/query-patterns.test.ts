import { beforeAll, describe, expect, it } from 'vitest';
import { dec } from '../../shared/domain/decimal';
import {
  EDGES, MarketRepository, POSITIONS, ProbabilityModelRepository, QUERY_PATTERNS, StrategyRepository, versionedUpsert,
} from '../../shared/db';
import { useTestDatabase } from '../helpers/database';
import { marketSnapshot, seedHierarchy } from '../helpers/seed';

const db = useTestDatabase();
const MARKET = 'KXNFLGAME-25NOV27KCDAL-KC';
const ids: Record<string, number> = {};

/**
 * A small world: one market with three versions, two versions of a strategy and of a model,
 * two edges, a YES position of 100 @ 0.60 that sold 50 @ 0.69, a NO position, and a settlement.
 */
beforeAll(async () => {
  const { pool } = db();
  await seedHierarchy(pool);
  const markets = new MarketRepository(pool);
  await markets.upsertSnapshots([marketSnapshot(MARKET, '0.6000')]);
  await markets.upsertSnapshots([marketSnapshot(MARKET, '0.6500')]);
  await markets.upsertSnapshots([marketSnapshot(MARKET, '0.7000'), marketSnapshot('OTHER', '0.2000')]);

  const strategies = new StrategyRepository(pool);
  const models = new ProbabilityModelRepository(pool);
  const s10 = await strategies.create({ name: 'halftime_entry', version: 'v1.0', type: 'entry', sport: 'nfl', config: { min_lead: 7 }, status: 'active' });
  const s11 = await strategies.create({ name: 'halftime_entry', version: 'v1.1', type: 'entry', sport: 'nfl', config: { min_lead: 10 }, status: 'active' });
  const s19 = await strategies.create({ name: 'halftime_entry', version: 'v1.9', type: 'entry', sport: 'nfl', config: { min_lead: 9 }, status: 'testing' });
  const s110 = await strategies.create({ name: 'halftime_entry', version: 'v1.10', type: 'entry', sport: 'nfl', config: { min_lead: 11 }, status: 'testing' });
  const m10 = await models.create({ name: 'elo_nfl', version: 'v1.0', type: 'elo', sport: 'nfl', config: { k_factor: 28 }, status: 'active' });
  const m20 = await models.create({ name: 'elo_nfl', version: 'v2.0', type: 'elo', sport: 'nfl', config: { k_factor: 30 }, status: 'active' });
  await models.recordValidation(m20.id, { accuracy: dec('0.6400'), calibration: dec('0.2000'), sampleSize: 800 });
  Object.assign(ids, { s10: s10.id, s11: s11.id, s19: s19.id, s110: s110.id, m10: m10.id, m20: m20.id });

  const edge = (strategyId: number, modelId: number, ev: string, confidence: string) => ({
    market_id: MARKET, strategy_id: strategyId, model_id: modelId, side: 'yes', edge: dec(ev).plus('0.02'),
    expected_value: dec(ev), true_win_probability: dec('0.8000'), market_implied_probability: dec('0.7000'),
    market_price: dec('0.7000'), confidence_level: confidence, recommended_action: 'alert',
  });
  const edges = await versionedUpsert(pool, EDGES, [edge(s10.id, m10.id, '0.0900', 'high'), edge(s11.id, m20.id, '0.0700', 'medium')]);
  ids.edge10 = edges.versions[0]!.versionId;
  ids.edge11 = edges.versions[1]!.versionId;

  const open = async (side: 'yes' | 'no', strategyId: number, modelId: number) =>
    (await pool.query(
      `INSERT INTO position_identities (market_id, platform_id, side, strategy_id, model_id) VALUES ($1, 'kalshi', $2, $3, $4) RETURNING position_id`,
      [MARKET, side, strategyId, modelId],
    )).rows[0].position_id as number;
  ids.yes = await open('yes', s10.id, m10.id);
  ids.no = await open('no', s11.id, m20.id);

  const trade = (positionId: number, edgeId: number | null, strategyId: number, modelId: number, side: string, contractSide: string, price: string, quantity: number) =>
    pool.query(
      `INSERT INTO trades (market_id, platform_id, position_id, edge_id, strategy_id, model_id, side, contract_side, price, quantity, fees, edge_at_execution, confidence_at_execution)
       VALUES ($1, 'kalshi', $2, $3, $4, $5, $6, $7, $8, $9, 0.0200, 0.1000, 'high')`,
      [MARKET, positionId, edgeId, strategyId, modelId, side, contractSide, price, quantity],
    );
  await trade(ids.yes, ids.edge10!, s10.id, m10.id, 'buy', 'yes', '0.6000', 100);
  await trade(ids.yes, null, s10.id, m10.id, 'sell', 'yes', '0.6900', 50);
  await trade(ids.no, ids.edge11!, s11.id, m20.id, 'buy', 'no', '0.3500', 10);

  const position = (positionId: number, side: string, entry: string, quantity: number, original: number, stop: object | null) => ({
    position_id: positionId, market_id: MARKET, platform_id: 'kalshi', side, execution_mode: 'paper', entry_price: dec(entry),
    quantity: dec(String(quantity)), original_quantity: dec(String(original)), status: 'open', trailing_stop_state: stop,
  });
  await versionedUpsert(pool, POSITIONS, [position(ids.yes, 'yes', '0.6000', 100, 100, null), position(ids.no, 'no', '0.3500', 10, 10, null)]);
  await versionedUpsert(pool, POSITIONS, [
    position(ids.yes, 'yes', '0.6000', 50, 100, {
      active: true, activation_price: '0.6600', peak_price: '0.7000', current_stop_price: '0.6500', current_distance: '0.05',
    }),
  ]);
  await pool.query(`INSERT INTO settlements (market_id, platform_id, outcome, payout) VALUES ('OTHER', 'kalshi', 'no', 0)`);
});

describe('schema document query patterns', () => {
  it('Get Current Market Price', async () => {
    const { rows } = await db().pool.query(QUERY_PATTERNS.currentMarketPrice, [MARKET]);
    expect(rows).toHaveLength(1);
    expect(rows[0].yes_price.toFixed(4)).toBe('0.7000');
    expect(rows[0].no_price.toFixed(4)).toBe('0.3000');
  });

  it('Get All Active Edges Above Threshold', async () => {
    const { rows } = await db().pool.query(QUERY_PATTERNS.activeEdgesAboveThreshold, ['0.08']);
    expect(rows.map((r) => [r.edge_id, r.ticker])).toEqual([[ids.edge10, MARKET]]);
  });

  it('Get Position P&L with Trailing Stop State (corrected)', async () => {
    const { rows } = await db().pool.query(QUERY_PATTERNS.positionPnlWithTrailingStop);
    expect(rows).toHaveLength(2); // one row per open position, not per market version or trade
    const yes = rows.find((r) => r.position_id === ids.yes)!;
    // 100 bought at 0.60; 50 still held, marked at YES 0.70 against a cost basis of 0.60.
    expect(yes.total_cost.toFixed(4)).toBe('60.0000');
    expect(yes.unrealized_pnl_now.toFixed(4)).toBe('5.0000');
    expect(yes.trailing_stop_active).toBe(true);
    expect(yes.current_stop_price.toFixed(4)).toBe('0.6500');
    const no = rows.find((r) => r.position_id === ids.no)!;
    // NO position marked at the NO price (0.30), bought at 0.35.
    expect(no.unrealized_pnl_now.toFixed(4)).toBe('-0.5000');
    expect(no.trailing_stop_active).toBeNull();
  });

  it('the document\'s original P&L query is indeed invalid SQL', async () => {
    const original = `
      SELECT p.*, SUM(t.quantity * t.price) as total_cost, p.quantity * m.yes_price - total_cost as unrealized_pnl,
             p.trailing_stop_state->>'enabled' as trailing_stop_enabled, p.trailing_stop_state->>'current_stop' as current_stop_price
      FROM positions p
      JOIN trades t ON p.position_id = t.position_id
      JOIN markets m ON p.market_id = m.market_id AND m.row_current_ind = TRUE
      WHERE p.row_current_ind = TRUE AND p.status = 'open'
      GROUP BY p.position_id`;
    await expect(db().pool.query(original)).rejects.toThrow(/column "total_cost" does not exist/);
  });

  it('Trade Attribution - exact versions, one row per trade', async () => {
    const { rows } = await db().pool.query(QUERY_PATTERNS.tradeAttributionLast7Days);
    expect(rows).toHaveLength(3);
    const buyNo = rows.find((r) => r.contract_side === 'no')!;
    expect(buyNo).toMatchObject({
      market_ticker: MARKET, strategy_name: 'halftime_entry', strategy_version: 'v1.1', strategy_config: { min_lead: 10 },
      model_name: 'elo_nfl', model_version: 'v2.0', model_config: { k_factor: 30 }, confidence_at_execution: 'high',
    });
  });

  it('A/B Test Strategy Versions', async () => {
    const { rows } = await db().pool.query(QUERY_PATTERNS.abTestStrategyVersions, ['halftime_entry']);
    expect(rows.map((r) => [r.strategy_version, Number(r.trades)])).toEqual([
      ['v1.10', 0], ['v1.9', 0], ['v1.1', 1], ['v1.0', 2],
    ]);
    expect(rows.find((r) => r.strategy_version === 'v1.0')!.avg_price.toFixed(4)).toBe('0.6450');
  });

  it('Compare Model Performance', async () => {
    const { rows } = await db().pool.query(QUERY_PATTERNS.compareModelPerformance, ['elo_nfl']);
    expect(rows.map((r) => [r.model_version, Number(r.live_trades), r.validation_accuracy?.toFixed(4) ?? null])).toEqual([
      ['v2.0', 1, '0.6400'], ['v1.0', 2, null],
    ]);
  });

  it('Trade History for Analysis', async () => {
    const { rows } = await db().pool.query(QUERY_PATTERNS.tradeHistoryForAnalysis);
    expect(rows).toHaveLength(3);
    const withEdge = rows.filter((r) => r.expected_value !== null).map((r) => r.expected_value.toFixed(4)).sort();
    expect(withEdge).toEqual(['0.0700', '0.0900']);
  });

  it('helper views return current rows only, in semantic version order', async () => {
    const { pool } = db();
    const count = async (view: string) => (await pool.query(`SELECT count(*)::int AS n FROM ${view}`)).rows[0].n;
    expect(await count('current_markets')).toBe(2);
    expect(await count('current_edges')).toBe(2);
    expect(await count('open_positions')).toBe(2);
    const open = await pool.query('SELECT position_id, quantity, strategy_id, trailing_stop_state FROM open_positions ORDER BY position_id');
    expect(open.rows[0]).toMatchObject({ position_id: ids.yes, quantity: 50, strategy_id: ids.s10 });
    const active = await pool.query('SELECT strategy_version FROM active_strategies');
    expect(active.rows.map((r) => r.strategy_version)).toEqual(['v1.1', 'v1.0']);
    const activeModels = await pool.query('SELECT model_version FROM active_models');
    expect(activeModels.rows.map((r) => r.model_version)).toEqual(['v2.0', 'v1.0']);
    const all = await new StrategyRepository(pool).list({ name: 'halftime_entry' });
    expect(all.map((s) => s.version)).toEqual(['v1.10', 'v1.9', 'v1.1', 'v1.0']);
  });
});
