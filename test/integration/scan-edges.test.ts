import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/scan-edges/handler';
import { QUERY_PATTERNS } from '../../shared/db';
import { closeSharedPool } from '../../shared/db/pool';
import { MarketRepository } from '../../shared/db/repositories/markets';
import { entryClientOrderId } from '../../shared/edges/scanEdges';
import { EntryOrderMessage } from '../../shared/queues/messages';
import { useTestDatabase } from '../helpers/database';
import { GAME_EVENT, quotedMarket, seedHalftimeWorld } from '../helpers/scanWorld';

const db = useTestDatabase();
const sqs = mockClient(SQSClient);
const context = { functionName: 'scan-edges', awsRequestId: 'test' } as unknown as Context;
const savedEnv = { ...process.env };
let world: Awaited<ReturnType<typeof seedHalftimeWorld>>;

beforeAll(async () => {
  world = await seedHalftimeWorld(db().pool);
  Object.assign(process.env, { DATABASE_URL: db().url, ENTRY_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123/entry-orders' });
});
afterAll(async () => {
  process.env = savedEnv;
  await closeSharedPool();
});
beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

const sentMessages = () =>
  sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => EntryOrderMessage.parse(JSON.parse(e.MessageBody!))));

describe('scan-edges', () => {
  it('rejects a malformed console event naming the field, writing nothing', async () => {
    await expect(handler({ marketIds: 'KC' }, context)).rejects.toThrow(/invalid scan-edges event: marketIds: .*array/);
    await expect(handler({ dryrun: true }, context)).rejects.toThrow(/Unrecognized key.*dryrun/);
    const { rows } = await db().pool.query('SELECT (SELECT count(*) FROM edges)::int AS edges, (SELECT count(*) FROM orders)::int AS orders');
    expect(rows[0]).toEqual({ edges: 0, orders: 0 });
    expect(sqs.calls()).toHaveLength(0);
  });

  it('a dry run reports edges and entries but writes and sends nothing', async () => {
    const result = await handler({ dryRun: true }, context);
    expect(result.entries.map((e) => [e.marketId, e.strategy, e.side, e.quantity, e.limitPrice])).toEqual([
      [`${GAME_EVENT}-KC`, 'halftime_entry v1.0', 'yes', 833, '0.6000'],
      [`${GAME_EVENT}-KC`, 'halftime_entry v1.1', 'yes', 833, '0.6000'],
    ]);
    const { rows } = await db().pool.query('SELECT count(*)::int AS n FROM edges');
    expect(rows[0].n).toBe(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('produces exactly the expected edges, actions and queued orders', async () => {
    const result = await handler({}, context);
    expect(result).toMatchObject({ markets: 3, strategies: 2, evaluated: 6 });
    expect(result.edges).toMatchObject({ received: 8, inserted: 8 });
    expect(result.skipped).toEqual([
      { marketId: `${GAME_EVENT}-WIDE`, strategy: 'halftime_entry v1.0', reason: 'spread 0.1000 exceeds max_spread 0.0800' },
      { marketId: `${GAME_EVENT}-WIDE`, strategy: 'halftime_entry v1.1', reason: 'spread 0.1000 exceeds max_spread 0.0800' },
    ]);
    const { rows } = await db().pool.query(
      `SELECT e.market_id, s.strategy_version, e.side, e.edge, e.expected_value, e.true_win_probability, e.market_price,
              e.confidence_level, e.recommended_action, e.model_id, e.probability_matrix_id IS NOT NULL AS from_matrix
       FROM current_edges e JOIN strategies s USING (strategy_id) ORDER BY e.market_id, s.strategy_version, e.side`,
    );
    const v10 = rows.filter((r) => r.strategy_version === 'v1.0').map((r) => [
      r.market_id.split('-').at(-1), r.side, r.edge.toFixed(4), r.expected_value.toFixed(4), r.true_win_probability.toFixed(4),
      r.market_price.toFixed(4), r.confidence_level, r.recommended_action,
    ]);
    expect(v10).toEqual([
      ['DAL', 'no', '0.0800', '0.0600', '0.2000', '0.7200', 'high', 'ignore'],
      ['DAL', 'yes', '-0.1000', '-0.1200', '0.2000', '0.3000', 'high', 'ignore'],
      ['KC', 'no', '-0.2200', '-0.2400', '0.8000', '0.4200', 'high', 'ignore'],
      ['KC', 'yes', '0.2000', '0.1800', '0.8000', '0.6000', 'high', 'auto_execute'],
    ]);
    // Attribution: every edge names its strategy version and model version.
    expect(rows.every((r) => r.model_id === world.model.id && r.from_matrix)).toBe(true);

    const messages = sentMessages();
    expect(messages).toHaveLength(2);
    const orders = await db().pool.query(
      `SELECT o.client_order_id, o.edge_id, o.strategy_id, o.side, o.quantity, o.limit_price, o.status, o.enqueued_at IS NOT NULL AS sent
       FROM orders o ORDER BY o.strategy_id`,
    );
    expect(orders.rows.map((o) => [o.side, o.quantity, o.limit_price.toFixed(4), o.status, o.sent])).toEqual([
      ['yes', 833, '0.6000', 'pending', true], ['yes', 833, '0.6000', 'pending', true],
    ]);
    for (const o of orders.rows) {
      // Deterministic id: market, strategy version, edge version.
      expect(o.client_order_id).toBe(entryClientOrderId(`${GAME_EVENT}-KC`, o.strategy_id, o.edge_id));
      expect(messages.find((m) => m.clientOrderId === o.client_order_id)).toMatchObject({
        marketId: `${GAME_EVENT}-KC`, strategyId: o.strategy_id, modelId: world.model.id, edgeId: o.edge_id, side: 'yes', quantity: 833, limitPrice: '0.6000',
      });
    }
  });

  it('a second scan with nothing changed writes and enqueues nothing', async () => {
    // Time has passed since the last ingestion (the data's age moves): that is not a change.
    await db().pool.query(`UPDATE system_health SET last_check = last_check - interval '25 seconds' WHERE component = 'ingest-game-states'`);
    const before = await db().pool.query('SELECT (SELECT count(*) FROM edges)::int AS edges, (SELECT count(*) FROM orders)::int AS orders');
    const result = await handler({}, context);
    expect(result.edges).toMatchObject({ inserted: 0, unchanged: 8 });
    expect(result.orders).toMatchObject({ created: 0, enqueued: 0 });
    expect(result.skipped.filter((s) => s.reason.includes('already open or pending'))).toHaveLength(2);
    const after = await db().pool.query('SELECT (SELECT count(*) FROM edges)::int AS edges, (SELECT count(*) FROM orders)::int AS orders');
    expect(after.rows[0]).toEqual(before.rows[0]);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('a changed price writes one new edge version (per strategy version), nothing else', async () => {
    await new MarketRepository(db().pool).upsertSnapshots([quotedMarket(`${GAME_EVENT}-DAL`, 31, 29, 72, 70)]);
    const result = await handler({}, context);
    expect(result.edges).toMatchObject({ inserted: 2, closed: 2, unchanged: 6 });
    const { rows } = await db().pool.query(
      `SELECT strategy_id, side, count(*)::int AS versions FROM edges WHERE market_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
      [`${GAME_EVENT}-DAL`],
    );
    expect(rows.map((r) => [r.side, r.versions])).toEqual([['no', 1], ['yes', 2], ['no', 1], ['yes', 2]]);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('skips everything, with the reason, when market data is stale', async () => {
    await db().pool.query(`UPDATE system_health SET last_check = now() - interval '10 minutes' WHERE component = 'ingest-markets'`);
    try {
      const result = await handler({ seriesTickers: ['KXNFLGAME'] }, context);
      expect(result.edges.received).toBe(0);
      expect(result.skipped.every((s) => /^market price stale: last ingested \d+ s ago \(limit 120 s\)$/.test(s.reason))).toBe(true);
    } finally {
      await db().pool.query(`UPDATE system_health SET last_check = now() WHERE component = 'ingest-markets'`);
    }
  });

  it('explains markets asked for by id that are closed or unknown', async () => {
    await new MarketRepository(db().pool).upsertSnapshots([{ ...quotedMarket(`${GAME_EVENT}-WIDE`, 60, 50, 50, 40), status: 'closed' }]);
    const result = await handler({ marketIds: [`${GAME_EVENT}-WIDE`, 'NOPE'], dryRun: true }, context);
    expect(result.skipped).toEqual([
      { marketId: `${GAME_EVENT}-WIDE`, reason: 'market is closed, not open' },
      { marketId: 'NOPE', reason: 'no such market' },
    ]);
  });

  it('reports new alert-level edges (for a person to review) with their versions and figures', async () => {
    // DAL YES at 0.10 against the model's 0.20: edge 0.10, EV 0.09 (fee 0.01): alert, not auto-execute.
    await new MarketRepository(db().pool).upsertSnapshots([quotedMarket(`${GAME_EVENT}-DAL`, 10, 8, 92, 90)]);
    const result = await handler({ marketIds: [`${GAME_EVENT}-DAL`] }, context);
    expect(result.alerts).toContainEqual(expect.objectContaining({
      marketId: `${GAME_EVENT}-DAL`, side: 'yes', strategy: { name: 'halftime_entry', version: 'v1.0' },
      model: { name: 'nfl_matrix', version: 'v1.0' }, edge: '0.1000', marketPrice: '0.1000',
    }));
    expect(result.alerts.every((a) => a.expectedValue >= '0.0800' && a.expectedValue < '0.1500')).toBe(true);
    // Unchanged, the next scan has nothing new to announce.
    expect((await handler({ marketIds: [`${GAME_EVENT}-DAL`] }, context)).alerts).toEqual([]);
  });

  it('the A/B and model comparison queries return one row per version', async () => {
    const ab = await db().pool.query(QUERY_PATTERNS.abTestStrategyVersions, ['halftime_entry']);
    expect(ab.rows.map((r) => r.strategy_version)).toEqual(['v1.1', 'v1.0']);
    const models = await db().pool.query(QUERY_PATTERNS.compareModelPerformance, ['nfl_matrix']);
    expect(models.rows.map((r) => r.model_version)).toEqual(['v1.0']);
  });
});
