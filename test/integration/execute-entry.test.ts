import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processEntryRecord, runExecuteEntry } from '../../functions/execute-entry/handler';
import { ManualClock, useClock } from '../../shared/clock/clock';
import { dec } from '../../shared/domain/decimal';
import { MarketRepository, StrategyRepository } from '../../shared/db';
import { scanEdges } from '../../shared/edges/scanEdges';
import { reconcileVenue } from '../../shared/execution/reconcile';
import { executeEntry } from '../../shared/execution/executeEntry';
import { ApiError } from '../../shared/http/errors';
import { useDatabasePerTest } from '../helpers/database';
import {
  executionFootprint, flaky, lambdaContext, paperExchange, scannedEntries, sqsEvent, sqsRecord,
} from '../helpers/execution';
import { quotedMarket, seedHalftimeWorld } from '../helpers/scanWorld';
import { ACCOUNT_BALANCE, versionedUpsert } from '../../shared/db';
import { MemoryEntryQueue } from '../../shared/queues/sqsEntryQueue';
import { kalshiTestCredentials, startKalshiPortfolioSim } from '../helpers/kalshiPortfolioSim';
import { KalshiExchange } from '../../shared/venues/kalshi/kalshiExchange';

const db = useDatabasePerTest({ poolMax: 20 });

const orderRows = async () =>
  (await db().pool.query('SELECT client_order_id, status, filled_quantity, quantity, status_reason, venue_order_id FROM orders ORDER BY order_id')).rows;

describe('execute-entry', () => {
  it('on an installed virtual clock the order and its time to live count from that clock', async () => {
    const start = Date.parse('2031-06-01T12:00:00.000Z'); // a fixed instant: no dependence on today's date
    const restore = useClock(new ManualClock(start));
    try {
      const [message] = await scannedEntries(db().pool, { strategies: 1 });
      const outcome = await executeEntry({ pool: db().pool, exchange: paperExchange(db().pool) }, message!);
      expect(outcome.outcome).not.toBe('cancelled');
      const { rows: [order] } = await db().pool.query('SELECT created_at, expires_at FROM orders');
      // The default rules: good till cancelled, 300 s.
      expect([order.created_at.getTime(), order.expires_at.getTime()]).toEqual([start, start + 300_000]);
    } finally {
      restore();
    }
  });

  it('every message delivered 3 times, two of them concurrently, places one order and records one trade', async () => {
    const messages = await scannedEntries(db().pool, { strategies: 3 });
    expect(messages).toHaveLength(3);
    const exchange = paperExchange(db().pool);
    const runtime = { pool: db().pool, exchange };

    // Round 1: two copies of every message at once (SQS standard queues do this), across
    // separate "consumers" (invocations), all concurrent.
    const concurrent = await Promise.all(
      messages.flatMap((m) => [
        runExecuteEntry(sqsEvent(sqsRecord(m)), lambdaContext, runtime),
        runExecuteEntry(sqsEvent(sqsRecord(m)), lambdaContext, runtime),
      ]),
    );
    // Round 2: a third copy later, as a redelivery (receive count 2: it looks the order up first).
    const late = await runExecuteEntry(sqsEvent(...messages.map((m) => sqsRecord(m, 2))), lambdaContext, runtime);
    for (const response of [...concurrent, late]) expect(response.batchItemFailures).toEqual([]);

    const { rows: venueOrders } = await db().pool.query('SELECT client_order_id, count(*)::int AS n FROM paper_orders GROUP BY 1');
    expect(venueOrders).toHaveLength(3);
    expect(venueOrders.every((r) => r.n === 1)).toBe(true);
    const { rows: trades } = await db().pool.query('SELECT client_order_id, count(*)::int AS n, sum(quantity) AS q FROM trades GROUP BY 1');
    expect(trades).toHaveLength(3);
    expect(trades.every((r) => r.n === 1)).toBe(true);
    for (const order of await orderRows()) {
      expect(order).toMatchObject({ status: 'filled' });
      expect(order.filled_quantity.eq(order.quantity)).toBe(true);
      expect(trades.find((t) => t.client_order_id === order.client_order_id)!.q.eq(order.quantity)).toBe(true);
    }
    // One position per strategy version, each holding its order's contracts.
    const { rows: positions } = await db().pool.query(
      'SELECT p.quantity, p.cost_basis, p.fees, pi.strategy_id FROM open_positions p JOIN position_identities pi USING (position_id) ORDER BY pi.strategy_id',
    );
    expect(positions).toHaveLength(3);
    // The books and the venue hold the same cash, to the cent.
    const { rows: [books] } = await db().pool.query(`SELECT balance FROM current_balances WHERE execution_mode = 'paper'`);
    expect(books.balance.toFixed(4)).toBe((await exchange.getBalance()).toFixed(4));
    const spent = positions.reduce((sum, p) => sum.plus(p.cost_basis).plus(p.fees), dec('0'));
    expect(books.balance.toFixed(4)).toBe(dec('10000').minus(spent).toFixed(4));
  });

  it('records the trade with its strategy, model, edge and the edge at execution; trade_attribution shows the exact versions', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    const outcome = await executeEntry({ pool: db().pool, exchange: paperExchange(db().pool) }, message!);
    expect(outcome).toMatchObject({ outcome: 'executed', status: 'filled', trades: 1, adopted: false });

    // A newer version of the strategy does not change what the trade is attributed to.
    await new StrategyRepository(db().pool).create({
      name: 'halftime_entry', version: 'v2.0', type: 'entry', sport: 'nfl', status: 'active',
      config: { model: { name: 'nfl_matrix', version: 'v1.0' }, kind: 'halftime', max_spread: '0.05' },
    });
    const { rows } = await db().pool.query('SELECT * FROM trade_attribution');
    expect(rows).toHaveLength(1);
    const t = rows[0];
    expect(t).toMatchObject({
      strategy_name: 'halftime_entry', strategy_version: 'v1.0', model_name: 'nfl_matrix', model_version: 'v1.0',
      side: 'buy', contract_side: 'yes', execution_mode: 'paper', market_ticker: 'KXNFLGAME-25NOV27KCDAL-KC',
      client_order_id: message!.clientOrderId, confidence_at_execution: 'high', edge_id: message!.edgeId,
    });
    expect(t.strategy_config).toMatchObject({ kind: 'halftime', max_spread: '0.08' });
    expect(t.model_config).toEqual({ category: 'sports', subcategory: 'nfl', version: 'v1.0' });
    // Filled at the ask, 0.60, with the model at 0.80: 0.20 of edge at execution.
    expect(t.price.toFixed(4)).toBe('0.6000');
    expect(t.edge_at_execution.toFixed(4)).toBe(t.true_win_probability.minus(t.price).toFixed(4));
    expect(t.venue_fill_id).toMatch(/\S/);
    expect(t.market_version_id).not.toBeNull();
    // Fee: ceil_to_cent(0.07 × n × 0.6 × 0.4).
    const fee = dec('0.07').times(t.quantity).times('0.24').toDecimalPlaces(2, 2 /* ROUND_CEIL */);
    expect(t.fees.toFixed(4)).toBe(fee.toFixed(4));
  });

  it.each([
    ['not JSON', '{"version":1,', /entry order message is not JSON/],
    ['a missing field', { version: 1, marketId: 'M' }, /entry order message: clientOrderId: /],
    ['a zero quantity', 'quantity', /entry order message: quantity: /],
    ['a price with 5 decimals', 'limitPrice', /entry order message: limitPrice: a price with at most 4 decimals/],
    ['an unknown field', 'extra', /entry order message: \(message\): Unrecognized key/],
  ])('a malformed message (%s) goes to the failure path with a clear reason; nothing is written', async (_, body, reason) => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    const mutated = body === 'quantity' ? { ...message, quantity: 0 }
      : body === 'limitPrice' ? { ...message, limitPrice: '0.60001' }
      : body === 'extra' ? { ...message, extra: true }
      : body;
    const runtime = { pool: db().pool, exchange: paperExchange(db().pool) };
    const before = await executionFootprint(db().pool);
    const record = sqsRecord(mutated as object);
    await expect(processEntryRecord(record, runtime)).rejects.toThrow(reason);
    const response = await runExecuteEntry(sqsEvent(record), lambdaContext, runtime);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(await executionFootprint(db().pool)).toEqual(before);
  });

  it('a batch with one bad message fails only that message', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    const bad = sqsRecord('not json');
    const good = sqsRecord(message!);
    const response = await runExecuteEntry(sqsEvent(bad, good), lambdaContext, { pool: db().pool, exchange: paperExchange(db().pool) });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
    expect((await orderRows())[0]).toMatchObject({ status: 'filled' });
  });

  it('rejects a non-SQS event with a clear error', async () => {
    await expect(runExecuteEntry({} as never, lambdaContext, { pool: db().pool, exchange: paperExchange(db().pool) }))
      .rejects.toThrow(/expects an SQS event/);
  });

  describe('the last look cancels (acknowledged, recorded on the order, never sent)', () => {
    it.each<[string, (marketId: string) => Promise<unknown>, RegExp]>([
      // Markets are versioned: closing one writes a new version, as ingestion does.
      ['the market closed', (marketId) => new MarketRepository(db().pool).upsertSnapshots([{ ...quotedMarket(marketId, 60, 58, 42, 40), status: 'closed' }]), /market is closed, not open/],
      ['a breaker tripped', () => db().pool.query(`INSERT INTO circuit_breaker_events (breaker_type, trigger_value) VALUES ('trade_rate', '{}')`), /circuit breaker tripped: trade_rate/],
      ['prices went stale', () => db().pool.query(`UPDATE system_health SET last_check = now() - interval '10 minutes' WHERE component = 'ingest-markets'`), /market prices stale/],
      ['the strategy was deprecated', () => db().pool.query(`UPDATE strategies SET status = 'deprecated'`), /is deprecated, not active/],
      ['the market is desynced from the venue', (marketId) => db().pool.query(
        `INSERT INTO venue_desyncs (platform_id, execution_mode, ticker, market_id, kind, local_value, venue_value)
         VALUES ('kalshi', 'paper', $1, $1, 'position', '{"net":0}', '{"net":5}')`, [marketId]), /desynced/],
    ])('when %s', async (_, change, reason) => {
      const [message] = await scannedEntries(db().pool, { strategies: 1 });
      await change(message!.marketId);
      const response = await runExecuteEntry(sqsEvent(sqsRecord(message!)), lambdaContext, { pool: db().pool, exchange: paperExchange(db().pool) });
      expect(response.batchItemFailures).toEqual([]);
      const [order] = await orderRows();
      expect(order.status).toBe('cancelled');
      expect(order.status_reason).toMatch(reason);
      expect(order.status_reason).toMatch(/^not sent: /);
      expect((await executionFootprint(db().pool)).paper_orders).toBe(0);
    });

    it('when the price moved so far that the edge fell below the threshold', async () => {
      const [message] = await scannedEntries(db().pool, { strategies: 1 });
      await new MarketRepository(db().pool).upsertSnapshots([quotedMarket(message!.marketId, 78, 76, 24, 22)]);
      const outcome = await executeEntry({ pool: db().pool, exchange: paperExchange(db().pool) }, message!);
      expect(outcome).toMatchObject({ outcome: 'cancelled', reason: expect.stringMatching(/edge at the current ask 0.7800 is 0.0200, below the threshold 0.0600/) });
    });

    it('when a newer edge version superseded the one the order acts on', async () => {
      const [message] = await scannedEntries(db().pool, { strategies: 1 });
      await new MarketRepository(db().pool).upsertSnapshots([quotedMarket(message!.marketId, 59, 57, 43, 41)]);
      await scanEdges({ pool: db().pool }); // writes the new edge version (the order is still in flight: no new order)
      const outcome = await executeEntry({ pool: db().pool, exchange: paperExchange(db().pool) }, message!);
      expect(outcome).toMatchObject({ outcome: 'cancelled', reason: expect.stringMatching(/edge superseded/) });
    });
  });

  it('a venue rejection is final: the order is rejected with the venue reason and the message acknowledged', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    const exchange = paperExchange(db().pool, { startingBalance: '5' });
    const response = await runExecuteEntry(sqsEvent(sqsRecord(message!)), lambdaContext, { pool: db().pool, exchange });
    expect(response.batchItemFailures).toEqual([]);
    const [order] = await orderRows();
    expect(order.status).toBe('rejected');
    expect(order.status_reason).toMatch(/venue rejected the order \(insufficient_balance\)/);
  });

  it('a transient venue failure rolls everything back and the redelivery executes exactly once', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    const exchange = paperExchange(db().pool);
    const before = await executionFootprint(db().pool);
    const failing = flaky(exchange, { placeOrder: [new ApiError('kalshi POST /portfolio/orders: HTTP 503', 'http', 'x', 503)] });
    const first = await runExecuteEntry(sqsEvent(sqsRecord(message!)), lambdaContext, { pool: db().pool, exchange: failing });
    expect(first.batchItemFailures).toHaveLength(1);
    expect(await executionFootprint(db().pool)).toEqual(before);

    const second = await runExecuteEntry(sqsEvent(sqsRecord(message!, 2)), lambdaContext, { pool: db().pool, exchange: failing });
    expect(second.batchItemFailures).toEqual([]);
    expect((await orderRows())[0]).toMatchObject({ status: 'filled' });
    expect((await executionFootprint(db().pool)).trades).toBe(1);
  });

  it('an order the venue accepted before the function died is found again, not placed twice', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    const exchange = paperExchange(db().pool);
    // The venue took the order, then the database write failed (the function "died").
    const failAfter = Object.assign(new Error('connection terminated'), { afterCall: true });
    const crashing = flaky(exchange, { getFills: [failAfter] });
    const first = await runExecuteEntry(sqsEvent(sqsRecord(message!)), lambdaContext, { pool: db().pool, exchange: crashing });
    expect(first.batchItemFailures).toHaveLength(1);
    expect((await orderRows())[0].status).toBe('pending');
    expect((await executionFootprint(db().pool)).paper_orders).toBe(1);

    const outcome = await executeEntry({ pool: db().pool, exchange }, message!, { receiveCount: 2 });
    expect(outcome).toMatchObject({ outcome: 'executed', adopted: true, status: 'filled', trades: 1 });
    const footprint = await executionFootprint(db().pool);
    expect(footprint.paper_orders).toBe(1);
    expect(footprint.trades).toBe(1);
  });

  it('a message for an order that does not exist, or that does not match its order, is discarded without writing', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    const exchange = paperExchange(db().pool);
    const before = await executionFootprint(db().pool);
    const unknown = await executeEntry({ pool: db().pool, exchange }, { ...message!, clientOrderId: `pc-${'f'.repeat(32)}` });
    expect(unknown).toMatchObject({ outcome: 'discarded', reason: expect.stringMatching(/no such order/) });
    const tampered = await executeEntry({ pool: db().pool, exchange }, { ...message!, quantity: message!.quantity + 1 });
    expect(tampered).toMatchObject({ outcome: 'discarded', reason: expect.stringMatching(/quantity/) });
    expect(await executionFootprint(db().pool)).toEqual(before);
  });

  it('a partial fill leaves the order open and the position at what filled; reconciliation records the rest', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    expect(message!.quantity).toBeGreaterThan(500);
    const exchange = paperExchange(db().pool, { depth: 500 });
    const outcome = await executeEntry({ pool: db().pool, exchange }, message!);
    expect(outcome).toMatchObject({ outcome: 'executed', status: 'partially_filled', filledQuantity: 500, trades: 1 });
    const { rows: [position] } = await db().pool.query('SELECT quantity, original_quantity FROM open_positions');
    expect(position).toMatchObject({ quantity: 500, original_quantity: 500 });

    // Nothing new at the venue: reconciliation changes nothing and finds the books in step.
    const quiet = await reconcileVenue({ pool: db().pool, exchange });
    expect(quiet).toMatchObject({ ordersChecked: 1, fillsRecorded: 0, desyncs: [] });

    // The market trades through the resting remainder (YES ask 0.59 < limit 0.60): it fills at
    // its own limit as maker.
    await new MarketRepository(db().pool).upsertSnapshots([quotedMarket(message!.marketId, 59, 57, 43, 41)]);
    const result = await reconcileVenue({ pool: db().pool, exchange });
    expect(result).toMatchObject({ fillsRecorded: 1, desyncs: [], errors: [] });
    expect(result.ordersClosed).toEqual([{ clientOrderId: message!.clientOrderId, status: 'filled' }]);
    expect((await orderRows())[0]).toMatchObject({ status: 'filled', filled_quantity: message!.quantity });
    const { rows: trades } = await db().pool.query('SELECT quantity, price::text, fees::text FROM trades ORDER BY trade_id');
    const rest = message!.quantity - 500;
    const makerFee = dec('0.0175').times(rest).times('0.24').toDecimalPlaces(2, 2 /* ROUND_CEIL */);
    expect(trades[1]).toEqual({ quantity: rest, price: '0.6000', fees: makerFee.toFixed(6) });
    const { rows: [after] } = await db().pool.query('SELECT quantity, original_quantity FROM open_positions');
    expect(after).toMatchObject({ quantity: message!.quantity, original_quantity: message!.quantity });
    expect(result.balance.difference).toBe('0.0000');
  });
});

describe('execute-entry on Kalshi (the same code path, against the local Kalshi simulator)', () => {
  const { credentials, publicKey } = kalshiTestCredentials('precog-key');

  it('every message delivered 3 times, with a 500 after the venue took the first create: one order and one trade each', async () => {
    const messages = await scannedEntries(db().pool, { strategies: 3, executionMode: 'live' });
    expect(messages).toHaveLength(3);
    const sim = await startKalshiPortfolioSim({
      keyId: 'precog-key', publicKey, balanceDollars: '10000.0000',
      markets: { 'KXNFLGAME-25NOV27KCDAL-KC': { yes: { ask: '0.6000', bid: '0.5800', depth: 10_000 }, no: { ask: '0.4200', bid: '0.4000', depth: 10_000 } } },
    });
    // The venue creates the first order, then the response is lost: the ambiguous case.
    sim.failures['POST /portfolio/events/orders'] = { status: 500, times: 1, afterCommit: true };
    try {
      const exchange = new KalshiExchange({
        baseUrl: sim.baseUrl, environment: 'demo', credentials, readsPerSecond: 1000, writesPerSecond: 1000,
        retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 10 }, lookupDelayMs: 1, sleep: async () => undefined,
      });
      const runtime = { pool: db().pool, exchange };
      const concurrent = await Promise.all(messages.flatMap((m) => [
        runExecuteEntry(sqsEvent(sqsRecord(m)), lambdaContext, runtime),
        runExecuteEntry(sqsEvent(sqsRecord(m)), lambdaContext, runtime),
      ]));
      const late = await runExecuteEntry(sqsEvent(...messages.map((m) => sqsRecord(m, 2))), lambdaContext, runtime);
      for (const response of [...concurrent, late]) expect(response.batchItemFailures).toEqual([]);

      // The failed create was followed by a lookup, which found the order: no second create for it.
      expect(sim.failures['POST /portfolio/events/orders']!.times).toBe(0);
      expect(sim.requestsTo('GET', '/portfolio/orders').length).toBeGreaterThan(0);
      // Creates go to Create Order V2; the retired V1 write is never called.
      expect(sim.requestsTo('POST', '/portfolio/events/orders')).toHaveLength(3);
      expect(sim.requestsTo('POST', '/portfolio/orders')).toHaveLength(0);
      // At the venue: exactly one order per client order id.
      const venueIds = sim.orders().map((o) => o.client_order_id).sort();
      expect(venueIds).toEqual(messages.map((m) => m.clientOrderId).sort());
      const { rows: trades } = await db().pool.query(`SELECT client_order_id, count(*)::int AS n FROM trades WHERE execution_mode = 'live' GROUP BY 1`);
      expect(trades).toHaveLength(3);
      expect(trades.every((t) => t.n === 1)).toBe(true);
      for (const order of await orderRows()) expect(order.status).toBe('filled');
      // The venue's fills and positions agree with the books.
      const result = await reconcileVenue({ pool: db().pool, exchange });
      expect(result.desyncs).toEqual([]);
      expect(result.balance.difference).toBe('0.0000');
      // Live, the venue's cash is the truth: a deposit at the venue becomes the books' balance.
      sim.deposit(dec('250'));
      const after = await reconcileVenue({ pool: db().pool, exchange });
      expect(after.balance).toMatchObject({ difference: '250.0000', adoptedFromVenue: true });
      const { rows: [books] } = await db().pool.query(`SELECT balance FROM current_balances WHERE execution_mode = 'live'`);
      expect(books.balance.eq(after.balance.venue!)).toBe(true);
    } finally {
      await sim.close();
    }
  });
});

describe('the scan under a tripped breaker', () => {
  it('writes edges but makes no entry order, saying why; entries resume when the breaker is resolved', async () => {
    await scannedEntries(db().pool, { strategies: 1 });
    await db().pool.query(`UPDATE orders SET status = 'cancelled', status_reason = 'test'`);
    const { rows: [trip] } = await db().pool.query(
      `INSERT INTO circuit_breaker_events (breaker_type, trigger_value) VALUES ('api_failures', '{"errors": 5}') RETURNING event_id`,
    );
    const { MemoryEntryQueue } = await import('../../shared/queues/sqsEntryQueue');
    await new MarketRepository(db().pool).upsertSnapshots([quotedMarket('KXNFLGAME-25NOV27KCDAL-KC', 59, 57, 43, 41)]);
    const blocked = await scanEdges({ pool: db().pool, queue: new MemoryEntryQueue() });
    expect(blocked.edges.inserted).toBeGreaterThan(0);
    expect(blocked.orders.created).toBe(0);
    expect(blocked.skipped).toContainEqual(expect.objectContaining({ reason: 'entries blocked by circuit breaker: api_failures' }));
    await db().pool.query(`UPDATE circuit_breaker_events SET resolved_at = now(), resolution_action = 'test' WHERE event_id = $1`, [trip.event_id]);
    const resumed = await scanEdges({ pool: db().pool, queue: new MemoryEntryQueue() });
    expect(resumed.orders.created).toBe(1);
  });
});

describe('the order state machine in the database', () => {
  it('refuses backwards moves, shrinking fills, rewriting what an order is, and deletes', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    await executeEntry({ pool: db().pool, exchange: paperExchange(db().pool) }, message!);
    const id = message!.clientOrderId;
    await expect(db().pool.query(`UPDATE orders SET status = 'pending', filled_quantity = 0 WHERE client_order_id = $1`, [id]))
      .rejects.toThrow(/filled quantity cannot decrease|illegal status change filled -> pending/);
    await expect(db().pool.query(`UPDATE orders SET status = 'cancelled' WHERE client_order_id = $1`, [id]))
      .rejects.toThrow(/illegal status change filled -> cancelled/);
    await expect(db().pool.query(`UPDATE orders SET quantity = quantity + 1 WHERE client_order_id = $1`, [id]))
      .rejects.toThrow(/cannot change/);
    await expect(db().pool.query(`DELETE FROM orders`)).rejects.toThrow();
    await expect(db().pool.query(`UPDATE orders SET status = 'resting' WHERE status = 'filled'`)).rejects.toThrow(/illegal status change/);
  });

  it('refuses a status that contradicts the filled quantity', async () => {
    await scannedEntries(db().pool, { strategies: 1 });
    await expect(db().pool.query(`UPDATE orders SET status = 'filled'`)).rejects.toThrow(/orders_filled_matches_status/);
    await expect(db().pool.query(`UPDATE orders SET status = 'partially_filled'`)).rejects.toThrow(/orders_filled_matches_status/);
  });
});

describe('entry prices sit on the market\'s price levels (Kalshi simulator refusing off-level prices)', () => {
  const { credentials, publicKey } = kalshiTestCredentials('precog-key');
  const KC = 'KXNFLGAME-25NOV27KCDAL-KC';
  const DECI_CENT = [{ start: '0.0000', end: '1.0000', step: '0.0010' }];
  const CENT = [{ start: '0.0000', end: '1.0000', step: '0.0100' }];
  const levels = (ranges: typeof DECI_CENT) => ranges.map((r) => ({ start: dec(r.start), end: dec(r.end), step: dec(r.step) }));

  async function scanAndExecute(args: { yesAsk: string; ranges: typeof DECI_CENT }) {
    const messages = await scannedEntriesAt(args);
    const sim = await startKalshiPortfolioSim({
      keyId: 'precog-key', publicKey, balanceDollars: '10000.0000',
      markets: { [KC]: { yes: { ask: args.yesAsk, bid: '0.5850', depth: 10_000 }, no: { ask: '0.4150', bid: dec('1').minus(args.yesAsk).toFixed(4), depth: 10_000 }, priceRanges: args.ranges } },
    });
    try {
      const exchange = new KalshiExchange({
        baseUrl: sim.baseUrl, environment: 'demo', credentials, readsPerSecond: 1000, writesPerSecond: 1000,
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 10 }, lookupDelayMs: 1, sleep: async () => undefined,
      });
      const outcome = await executeEntry({ pool: db().pool, exchange }, messages[0]!);
      return { messages, outcome, venueOrders: sim.orders() };
    } finally {
      await sim.close();
    }
  }

  /** The halftime world with KC quoted at `yesAsk` on the given levels, scanned live: KC's entry message. */
  async function scannedEntriesAt(args: { yesAsk: string; ranges: typeof DECI_CENT }) {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    await versionedUpsert(db().pool, ACCOUNT_BALANCE, [{ platform_id: 'kalshi', execution_mode: 'live', currency: 'USD', balance: dec('10000') }]);
    await new MarketRepository(db().pool).upsertSnapshots([{
      ...quotedMarket(KC, 60, 58, 42, 40),
      yesPrice: dec(args.yesAsk), yesBid: dec('0.5850'), noPrice: dec('0.4150'), noBid: dec('1').minus(args.yesAsk),
      spread: dec(args.yesAsk).minus('0.5850'), priceLevels: levels(args.ranges),
    }]);
    const queue = new MemoryEntryQueue();
    await scanEdges({ pool: db().pool, queue, executionMode: 'live' });
    return queue.sent.filter((m) => m.marketId === KC);
  }

  it('on a 0.001-tick market the limit is the 0.001 level of the ask (0.597), which the venue takes and fills', async () => {
    const { messages, outcome, venueOrders } = await scanAndExecute({ yesAsk: '0.5970', ranges: DECI_CENT });
    expect(messages.map((m) => [m.side, m.limitPrice])).toEqual([['yes', '0.5970']]);
    expect(outcome).toMatchObject({ outcome: 'executed', status: 'filled' });
    expect(venueOrders.map((o) => o.yes_price_dollars)).toEqual(['0.5970']);
    const { rows: [trade] } = await db().pool.query(`SELECT price::text FROM trades WHERE execution_mode = 'live'`);
    expect(trade.price).toBe('0.5970');
  });

  it('an ask off the market\'s levels: the buy rounds DOWN to the level below (never pays more), and the venue accepts it', async () => {
    const { messages, outcome, venueOrders } = await scanAndExecute({ yesAsk: '0.6050', ranges: CENT });
    expect(messages.map((m) => [m.side, m.limitPrice])).toEqual([['yes', '0.6000']]);
    // Below the ask it does not cross: accepted by the venue (not rejected), nothing filled.
    expect(outcome).toMatchObject({ outcome: 'executed' });
    expect(venueOrders.map((o) => o.yes_price_dollars)).toEqual(['0.6000']);
  });
});
