import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/settle-markets/handler';
import { ACCOUNT_BALANCE, MarketRepository, versionedUpsert } from '../../shared/db';
import { closeSharedPool } from '../../shared/db/pool';
import { withTransaction } from '../../shared/db/transaction';
import { Decimal, dec } from '../../shared/domain/decimal';
import { kalshiFee } from '../../shared/domain/fees';
import { PaperExchange } from '../../shared/exchange/paper/paperExchange';
import { IngestedBookSource } from '../../shared/exchange/paper/bookSources';
import type { Exchange } from '../../shared/exchange/types';
import { executeExit } from '../../shared/execution/executeExit';
import { applyVenueUpdate, lockOrder } from '../../shared/execution/ledger';
import { reconcileVenue } from '../../shared/execution/reconcile';
import { settleMarkets, type SettleMarketsResult } from '../../shared/settlement/settleMarkets';
import { useDatabasePerTest } from '../helpers/database';
import { openPosition, paperExchange } from '../helpers/execution';
import { GAME_EVENT, quotedMarket, seedHalftimeWorld } from '../helpers/scanWorld';
import { qty } from '../../shared/domain/quantity';

const db = useDatabasePerTest({ poolMax: 20 });

const KC = `${GAME_EVENT}-KC`;
const DAL = `${GAME_EVENT}-DAL`;
const WIDE = `${GAME_EVENT}-WIDE`;
const taker = (n: number, p: string) => kalshiFee(qty(n), dec(p), dec('0.07'));
const maker = (n: number, p: string) => kalshiFee(qty(n), dec(p), dec('0.0175'));
const sum = (values: Decimal[]) => values.reduce((a, b) => a.plus(b), new Decimal(0));

/** Quotes of KC in cents: YES ask/bid, NO ask/bid. */
async function quote(yesAsk: number, yesBid: number, noAsk: number, noBid: number, marketId = KC) {
  await new MarketRepository(db().pool).upsertSnapshots([quotedMarket(marketId, yesAsk, yesBid, noAsk, noBid)]);
}

/** Ingestion records the market as finished: settled, with its YES payout (null: none published). */
async function marketSettles(marketId: string, payout: string | null) {
  await new MarketRepository(db().pool).upsertSnapshots([{
    ...quotedMarket(marketId, 60, 58, 42, 40),
    yesPrice: null, noPrice: null, yesBid: null, noBid: null, spread: null,
    status: 'settled', settlementValue: payout === null ? null : dec(payout),
  }]);
}

/**
 * The worked example: strategy A buys 100 YES at 0.60 (taker fee 1.68), then the market moves
 * and strategy B buys 50 NO at 0.35 (taker fee 0.80). At the paper venue, one account, B's NO
 * nets 50 of A's YES at once (Kalshi pays each YES+NO pair $1): the venue holds +50 YES.
 */
async function twoStrategiesOnKc() {
  const { strategies, model } = await seedHalftimeWorld(db().pool, { strategies: 2 });
  const exchange = paperExchange(db().pool);
  const [a, b] = [strategies[0]!.id, strategies[1]!.id];
  const positionA = await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 100, price: '0.60', strategyId: a, modelId: model.id });
  await quote(67, 65, 35, 33);
  const positionB = await openPosition(db().pool, exchange, { marketId: KC, side: 'no', quantity: 50, price: '0.35', strategyId: b, modelId: model.id });
  return { exchange, strategyA: a, strategyB: b, positionA, positionB, modelId: model.id };
}

async function booksCash(mode: 'paper' | 'live' = 'paper'): Promise<Decimal> {
  const { rows } = await db().pool.query(`SELECT balance FROM current_balances WHERE platform_id = 'kalshi' AND execution_mode = $1`, [mode]);
  return rows[0].balance as Decimal;
}

/**
 * A money column as text at the 4 decimals these figures are stated in (amount columns hold 6
 * since migration 0012): the full value when its 5th or 6th decimal is not zero, so an
 * expectation at 4 decimals still fails on any difference.
 */
const money4 = (column: string, as = column) => `CASE WHEN ${column} = round(${column}, 4) THEN round(${column}, 4)::text ELSE ${column}::text END AS ${as}`;

async function currentPosition(positionId: number) {
  const { rows: [p] } = await db().pool.query(
    `SELECT status, quantity, ${money4('cost_basis')}, ${money4('realized_pnl')}, ${money4('unrealized_pnl')}, current_price::text, ${money4('fees')}
     FROM positions WHERE position_id = $1 AND row_current_ind`,
    [positionId],
  );
  return p;
}

async function strategyFigures(strategyId: number) {
  const { rows: [s] } = await db().pool.query(
    `SELECT paper_roi::text, live_roi::text, paper_trades_count, live_trades_count FROM strategies WHERE strategy_id = $1`,
    [strategyId],
  );
  return s;
}

/** Everything settlement writes: a run that changes nothing leaves this equal. */
async function footprint() {
  const { rows: [f] } = await db().pool.query(`
    SELECT (SELECT count(*) FROM settlements)::int AS settlements,
           (SELECT count(*) FROM positions)::int AS positions,
           (SELECT count(*) FROM account_balance)::int AS balances,
           (SELECT count(*) FROM trades)::int AS trades,
           (SELECT count(*) FROM paper_settlements)::int AS paper_settlements,
           (SELECT count(*) FROM paper_fills)::int AS paper_fills,
           (SELECT json_agg(json_build_object('id', strategy_id, 'paper_roi', paper_roi::text, 'live_roi', live_roi::text,
                                              'paper', paper_trades_count, 'live', live_trades_count) ORDER BY strategy_id) FROM strategies) AS strategies,
           (SELECT json_agg(json_build_object('account', account_id, 'balance', b.balance) ORDER BY account_id) FROM (SELECT account_id, ${money4('balance')} FROM paper_accounts) b) AS paper_accounts,
           (SELECT json_agg(json_build_object('ticker', ticker, 'position', position, 'realized', r.realized) ORDER BY ticker) FROM (SELECT ticker, position, ${money4('realized_pnl', 'realized')} FROM paper_positions) r) AS paper_positions,
           (SELECT json_agg(json_build_object('id', venue_order_id, 'status', status) ORDER BY order_number) FROM paper_orders) AS paper_orders,
           (SELECT json_agg(json_build_object('id', order_id, 'status', status) ORDER BY order_id) FROM orders) AS orders,
           (SELECT json_agg(json_build_object('id', exit_request_id, 'status', status) ORDER BY exit_request_id) FROM exit_requests) AS exit_requests`);
  return f;
}

/** Precog's books: starting − Σ buys − Σ fees + Σ sells + Σ settlement proceeds, from the trades. */
async function booksIdentity(settlementProceeds: Decimal, mode: 'paper' | 'live' = 'paper'): Promise<Decimal> {
  const { rows } = await db().pool.query('SELECT side, price, quantity, fees FROM trades WHERE execution_mode = $1', [mode]);
  const notional = (side: string) => sum(rows.filter((t) => t.side === side).map((t) => (t.price as Decimal).times(t.quantity)));
  return dec('10000').minus(notional('buy')).minus(sum(rows.map((t) => t.fees as Decimal))).plus(notional('sell')).plus(settlementProceeds);
}

/** The venue's account: starting − Σ buys − Σ fees + Σ sells + $1 per netted pair + Σ settlement credits. */
async function venueIdentity(nettedPairs: number, accountId = 'default'): Promise<Decimal> {
  const { rows: fills } = await db().pool.query('SELECT action, price, count, fee FROM paper_fills WHERE account_id = $1', [accountId]);
  const { rows: settled } = await db().pool.query('SELECT credited FROM paper_settlements WHERE account_id = $1', [accountId]);
  const notional = (action: string) => sum(fills.filter((f) => f.action === action).map((f) => (f.price as Decimal).times(f.count)));
  return dec('10000').minus(notional('buy')).minus(sum(fills.map((f) => f.fee as Decimal))).plus(notional('sell')).plus(nettedPairs)
    .plus(sum(settled.map((s) => s.credited as Decimal)));
}

describe('settling a market: the worked example (A: 100 YES @ 0.60, B: 50 NO @ 0.35)', () => {
  // Hand-computed. Fees: A ceil_to_cent(0.07 × 100 × 0.60 × 0.40) = 1.68; B ceil_to_cent(0.07 × 50 × 0.35 × 0.65 = 0.79625) = 0.80.
  // realized = quantity × side payout − cost − fees; ROI = realized / cost (rounded half-up, 4 places).
  const cases = [
    {
      outcome: 'yes', payout: '1.0000', priceA: '1.0000', priceB: '0.0000',
      realizedA: '38.3200', /* 100 − 60 − 1.68 */ realizedB: '-18.3000', /* 0 − 17.50 − 0.80 */
      cash: '100.0000', /* 100 × 1 + 50 × 0 */ roiA: '0.6387', /* 38.32 / 60 */ roiB: '-1.0457', /* −18.30 / 17.50 = −1.045714… */
      venueCredited: '50.0000', /* the venue's netted +50 YES × 1 */
    },
    {
      outcome: 'no', payout: '0.0000', priceA: '0.0000', priceB: '1.0000',
      realizedA: '-61.6800', /* 0 − 60 − 1.68 */ realizedB: '31.7000', /* 50 − 17.50 − 0.80 */
      cash: '50.0000', roiA: '-1.0280', /* −61.68 / 60 */ roiB: '1.8114', /* 31.70 / 17.50 = 1.811428… */
      venueCredited: '0.0000',
    },
    {
      outcome: 'scalar', payout: '0.3000', priceA: '0.3000', priceB: '0.7000',
      realizedA: '-31.6800', /* 30 − 60 − 1.68 */ realizedB: '16.7000', /* 35 − 17.50 − 0.80 */
      cash: '65.0000', /* 100 × 0.30 + 50 × 0.70 */ roiA: '-0.5280', roiB: '0.9543', /* 16.70 / 17.50 = 0.954285… */
      venueCredited: '15.0000', /* 50 × 0.30 */
    },
  ] as const;

  it.each(cases)('settles $outcome at $payout: settlement row, positions, cash, strategies, venue, ledger identities', async (c) => {
    const { exchange, strategyA, strategyB, positionA, positionB } = await twoStrategiesOnKc();
    expect(taker(100, '0.60').toFixed(2)).toBe('1.68');
    expect(taker(50, '0.35').toFixed(2)).toBe('0.80');
    const cashBefore = await booksCash();
    await marketSettles(KC, c.payout);

    const result = await settleMarkets({ pool: db().pool, exchange, executionMode: 'paper' });
    expect(result.errors).toEqual([]);
    expect(result.settled).toHaveLength(1);
    expect(result.settled[0]).toMatchObject({
      marketId: KC, outcome: c.outcome, payout: c.payout,
      cash: [{ platformId: 'kalshi', executionMode: 'paper', credited: c.cash }],
      exitRequestsCancelled: 0,
    });
    expect(result.venueSettlements).toEqual([{ marketId: KC, ticker: KC, credited: c.venueCredited }]);
    expect(result.strategiesUpdated).toEqual([strategyA, strategyB].sort((x, y) => x - y));

    const { rows: settlements } = await db().pool.query('SELECT market_id, platform_id, outcome, payout::text FROM settlements');
    expect(settlements).toEqual([{ market_id: KC, platform_id: 'kalshi', outcome: c.outcome, payout: c.payout }]);

    expect(await currentPosition(positionA)).toEqual({
      status: 'settled', quantity: 0, cost_basis: '0.0000', realized_pnl: c.realizedA, unrealized_pnl: '0.0000', current_price: c.priceA, fees: '1.6800',
    });
    expect(await currentPosition(positionB)).toEqual({
      status: 'settled', quantity: 0, cost_basis: '0.0000', realized_pnl: c.realizedB, unrealized_pnl: '0.0000', current_price: c.priceB, fees: '0.8000',
    });
    // realized P&L of a finished position = Σ proceeds − Σ cost − Σ fees (settlement charges none).
    expect(dec(c.realizedA).toFixed(4)).toBe(dec(c.priceA).times(100).minus('60').minus(taker(100, '0.60')).toFixed(4));
    expect(dec(c.realizedB).toFixed(4)).toBe(dec(c.priceB).times(50).minus('17.50').minus(taker(50, '0.35')).toFixed(4));

    expect((await booksCash()).minus(cashBefore).toFixed(4)).toBe(c.cash);
    expect(await strategyFigures(strategyA)).toEqual({ paper_roi: c.roiA, live_roi: null, paper_trades_count: 1, live_trades_count: 0 });
    expect(await strategyFigures(strategyB)).toEqual({ paper_roi: c.roiB, live_roi: null, paper_trades_count: 1, live_trades_count: 0 });

    // The ledger identities, exactly: the books from their trades, the venue from its fills.
    expect((await booksCash()).toFixed(4)).toBe((await booksIdentity(dec(c.cash))).toFixed(4));
    expect((await exchange.getBalance()).toFixed(4)).toBe((await venueIdentity(50)).toFixed(4));
    // Both agree: the venue paid the 50 netted pairs at B's buy and the rest now.
    const reconciled = await reconcileVenue({ pool: db().pool, exchange });
    expect(reconciled.desyncs).toEqual([]);
    expect(reconciled.errors).toEqual([]);
    expect(reconciled.balance.difference).toBe('0.0000');
    expect(await exchange.getPositions()).toEqual([]);
    // The venue's realized P&L excludes fees; the books' includes them: they differ by the fees exactly.
    const { rows: [venuePosition] } = await db().pool.query(`SELECT position, ${money4('cost_basis')}, realized_pnl FROM paper_positions WHERE ticker = $1`, [KC]);
    expect(venuePosition.position.isZero()).toBe(true);
    expect(venuePosition.cost_basis).toBe('0.0000');
    expect((venuePosition.realized_pnl as Decimal).toFixed(4)).toBe(dec(c.realizedA).plus(c.realizedB).plus('1.68').plus('0.80').toFixed(4));
    const { rows: venueSettled } = await db().pool.query(`SELECT ticker, yes_payout::text, position, ${money4('credited')} FROM paper_settlements`);
    expect(venueSettled).toEqual([{ ticker: KC, yes_payout: c.payout, position: 50, credited: c.venueCredited }]);

    // A second run changes nothing anywhere.
    const before = await footprint();
    const again = await settleMarkets({ pool: db().pool, exchange, executionMode: 'paper' });
    expect(again).toMatchObject({ settled: [], skipped: [], venueSettlements: [], strategiesUpdated: [], errors: [] });
    expect(await footprint()).toEqual(before);
  });
});

describe('what settles and what is skipped', () => {
  it('skips markets not settled, unknown, without a settlement value, or with an order in flight, each with its reason', async () => {
    const { exchange } = await twoStrategiesOnKc();
    await marketSettles(WIDE, null);
    // An entry scanned but not executed yet on DAL, which settles.
    await db().pool.query(
      `INSERT INTO orders (client_order_id, purpose, market_id, platform_id, side, action, order_type, limit_price, quantity, execution_mode)
       VALUES ('pc-inflight', 'entry', $1, 'kalshi', 'no', 'buy', 'limit', '0.72', 5, 'paper')`,
      [DAL],
    );
    await marketSettles(DAL, '0.0000');
    const before = await footprint();

    const asked = await settleMarkets({ pool: db().pool, exchange }, { marketIds: [KC, 'NOPE', WIDE, DAL] });
    expect(asked.settled).toEqual([]);
    const reasons = Object.fromEntries(asked.skipped.map((s) => [s.marketId, s.reason]));
    expect(reasons[KC]).toMatch(/market is open: not settled yet/);
    expect(reasons.NOPE).toBe('no such market');
    expect(reasons[WIDE]).toMatch(/settled without a settlement value.*void/);
    expect(reasons[DAL]).toMatch(/1 paper order\(s\) pending \(in flight\)/);
    // Without marketIds, markets still trading are not even looked at.
    const all = await settleMarkets({ pool: db().pool, exchange });
    expect(all.settled).toEqual([]);
    expect(all.skipped.map((s) => s.marketId).sort()).toEqual([DAL, WIDE]);
    expect(await footprint()).toMatchObject({ settlements: before.settlements, positions: before.positions, balances: before.balances });

    // Once execution concludes the order, DAL settles (nobody held it: nothing to pay).
    await db().pool.query(`UPDATE orders SET status = 'cancelled', status_reason = 'not sent: market closed' WHERE client_order_id = 'pc-inflight'`);
    const later = await settleMarkets({ pool: db().pool, exchange });
    expect(later.settled).toEqual([expect.objectContaining({ marketId: DAL, outcome: 'no', payout: '0.0000', positions: [], cash: [] })]);
    expect(later.venueSettlements).toEqual([{ marketId: DAL, ticker: DAL, credited: '0.0000' }]);
    // Asked again: already settled, with its payout; the venue's own record makes its settle a no-op.
    const askedAgain = await settleMarkets({ pool: db().pool, exchange }, { marketIds: [DAL] });
    expect(askedAgain.skipped).toEqual([{ marketId: DAL, reason: expect.stringMatching(/^already settled \(settlement \d+, payout 0\.0000\)$/) }]);
    expect(askedAgain.venueSettlements).toEqual([{ marketId: DAL, ticker: DAL, credited: null }]);
  });

  it('a dry run reports the settlement it would make and writes nothing, at the venue either', async () => {
    const { exchange, positionA } = await twoStrategiesOnKc();
    await marketSettles(KC, '1');
    const before = await footprint();
    const venueBalance = await exchange.getBalance();
    const dry = await settleMarkets({ pool: db().pool, exchange }, { dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.settled).toEqual([expect.objectContaining({
      marketId: KC, outcome: 'yes', payout: '1.0000', settlementId: null,
      cash: [{ platformId: 'kalshi', executionMode: 'paper', credited: '100.0000', balance: (await booksCash()).plus(100).toFixed(4) }],
    })]);
    expect(dry.settled[0]!.positions.find((p) => p.positionId === positionA)).toMatchObject({
      quantity: 100, sidePayout: '1.0000', proceeds: '100.0000', costBasis: '60.0000', settlementPnl: '40.0000', realizedPnl: '38.3200',
    });
    expect(dry.venueSettlements).toEqual([]);
    expect(dry.strategiesUpdated).toEqual([]);
    expect(await footprint()).toEqual(before);
    expect((await exchange.getBalance()).toFixed(4)).toBe(venueBalance.toFixed(4));
  });

  it('settles a market once when runs race: the settlements row decides, the loser writes nothing', async () => {
    const { exchange } = await twoStrategiesOnKc();
    const cashBefore = await booksCash();
    const before = await footprint();
    await marketSettles(KC, '1');
    const runs = await Promise.all([1, 2, 3].map(() => settleMarkets({ pool: db().pool, exchange: paperExchange(db().pool) })));
    expect(runs.flatMap((r) => r.errors)).toEqual([]);
    expect(runs.flatMap((r) => r.settled).map((s) => s.marketId)).toEqual([KC]);
    for (const r of runs.filter((r) => r.settled.length === 0)) {
      expect(r.skipped.every((s) => s.reason === 'settled by a concurrent run')).toBe(true);
    }
    const after = await footprint();
    expect(after.settlements).toBe(1);
    expect(after.positions).toBe(before.positions + 2);
    expect(after.balances).toBe(before.balances + 1);
    expect(after.paper_settlements).toBe(1);
    expect((await booksCash()).minus(cashBefore).toFixed(4)).toBe('100.0000');
    expect((await reconcileVenue({ pool: db().pool, exchange })).balance.difference).toBe('0.0000');
  });

  it('refuses an exchange of another mode than the run', async () => {
    await expect(settleMarkets({ pool: db().pool, exchange: paperExchange(db().pool), executionMode: 'live' }))
      .rejects.toThrow(/runs in live mode but the exchange paper is paper/);
  });
});

describe('exits in flight when the market settles', () => {
  it('records the fills made before settlement first, cancels the exit request, and the venue cancels the rest of the order', async () => {
    const { strategies, model } = await seedHalftimeWorld(db().pool, { strategies: 1 });
    const strategyId = strategies[0]!.id;
    const exchange = paperExchange(db().pool);
    const positionId = await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 100, price: '0.60', strategyId, modelId: model.id });

    // The monitor decided a profit-taking exit: a sell of 100 resting at 0.70.
    const { rows: [request] } = await db().pool.query(
      `INSERT INTO exit_requests (position_id, position_version_id, exit_condition, exit_priority, quantity, triggers)
       SELECT $1, position_version_id, 'profit_target', 'MEDIUM', 100, '[]'::jsonb FROM positions WHERE position_id = $1 AND row_current_ind
       RETURNING exit_request_id`,
      [positionId],
    );
    const clientOrderId = `px-${request.exit_request_id}-1`;
    await db().pool.query(
      `INSERT INTO orders (client_order_id, purpose, market_id, platform_id, strategy_id, model_id, position_id, side, action, order_type,
                           limit_price, quantity, execution_mode, time_in_force, exit_request_id)
       VALUES ($1, 'exit', $2, 'kalshi', $3, $4, $5, 'yes', 'sell', 'limit', '0.70', 100, 'paper', 'good_till_canceled', $6)`,
      [clientOrderId, KC, strategyId, model.id, positionId, request.exit_request_id],
    );
    const placed = await exchange.placeOrder({ ticker: KC, clientOrderId, side: 'yes', action: 'sell', count: qty(100), type: 'limit', limitPrice: dec('0.70') });
    expect(placed.status).toBe('resting');
    await withTransaction(db().pool, async (client) => {
      await applyVenueUpdate(client, (await lockOrder(client, clientOrderId))!, placed, []);
    });

    // The bid reaches 0.72 with 40 contracts: the venue fills 40 of the resting sell as maker…
    await quote(74, 72, 28, 26);
    await paperExchange(db().pool, { depth: 40 }).getBalance();
    // …and the market settles YES before Precog has read that fill back.
    await marketSettles(KC, '1.0000');

    const result = await settleMarkets({ pool: db().pool, exchange });
    expect(result.errors).toEqual([]);
    expect(result.fillsRecorded).toBe(1);
    expect(result.settled[0]).toMatchObject({
      outcome: 'yes', exitRequestsCancelled: 1,
      positions: [expect.objectContaining({ positionId, quantity: 60, proceeds: '60.0000', costBasis: '36.0000' })],
    });
    expect(result.venueSettlements).toEqual([{ marketId: KC, ticker: KC, credited: '60.0000' }]);

    // realized = 40 × 0.70 − 24 − maker fee + 60 × 1 − 36 − 1.68 = 26.32 − 0.15
    const fees = taker(100, '0.60').plus(maker(40, '0.70'));
    expect(fees.toFixed(4)).toBe('1.8300');
    expect(await currentPosition(positionId)).toMatchObject({ status: 'settled', quantity: 0, realized_pnl: '26.1700', fees: '1.8300' });
    const { rows: [req] } = await db().pool.query('SELECT status, status_reason, filled_quantity FROM exit_requests WHERE exit_request_id = $1', [request.exit_request_id]);
    // The 40 sold before settlement count for the exit (the ledger records an exit's fills whoever finds them).
    expect(req).toEqual({ status: 'cancelled', status_reason: 'market settled', filled_quantity: 40 });
    const { rows: exited } = await db().pool.query('SELECT quantity_exited, exit_price::text FROM position_exits WHERE exit_request_id = $1', [request.exit_request_id]);
    expect(exited).toEqual([{ quantity_exited: 40, exit_price: '0.7000' }]);
    const { rows: [order] } = await db().pool.query('SELECT status, filled_quantity FROM orders WHERE client_order_id = $1', [clientOrderId]);
    expect(order).toEqual({ status: 'cancelled', filled_quantity: 40 });
    expect((await exchange.getOrder(placed.venueOrderId)).status).toBe('canceled');
    // 26.17 / 60 = 0.43616… ; two trades (the buy and the sell fill).
    expect(await strategyFigures(strategyId)).toEqual({ paper_roi: '0.4362', live_roi: null, paper_trades_count: 2, live_trades_count: 0 });

    expect((await booksCash()).toFixed(4)).toBe((await booksIdentity(dec('60'))).toFixed(4));
    expect((await exchange.getBalance()).toFixed(4)).toBe((await venueIdentity(0)).toFixed(4));
    const reconciled = await reconcileVenue({ pool: db().pool, exchange });
    expect(reconciled).toMatchObject({ desyncs: [], errors: [], balance: { difference: '0.0000' } });

    // The exit message still queued finds its request cancelled and does nothing.
    const outcome = await executeExit({ pool: db().pool, exchange }, {
      version: 1, exitRequestId: request.exit_request_id, positionId, priority: 'MEDIUM', createdAt: new Date().toISOString(),
    });
    expect(outcome).toMatchObject({ outcome: 'finished', status: 'cancelled' });
    const before = await footprint();
    await settleMarkets({ pool: db().pool, exchange });
    expect(await footprint()).toEqual(before);
  });
});

describe('both execution modes', () => {
  it('settles live positions with the paper ones, crediting the live balance; only the simulated venue is told', async () => {
    const { strategies, model } = await seedHalftimeWorld(db().pool, { strategies: 2 });
    await versionedUpsert(db().pool, ACCOUNT_BALANCE, [{ platform_id: 'kalshi', execution_mode: 'live', currency: 'USD', balance: dec('10000') }]);
    const paper = paperExchange(db().pool);
    // A stand-in for Kalshi: a venue of its own (another account) that reports live mode and has no settle.
    const liveVenue = new PaperExchange(db().pool, { books: new IngestedBookSource(db().pool, { depth: null }), startingBalance: dec('10000'), accountId: 'live-stand-in' });
    const live = new Proxy(liveVenue, {
      get(target, property) {
        if (property === 'executionMode') return 'live';
        if (property === 'name') return 'kalshi-stand-in';
        if (property === 'settle') return undefined;
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as unknown as Exchange;
    const paperPosition = await openPosition(db().pool, paper, { marketId: KC, side: 'yes', quantity: 10, price: '0.60', strategyId: strategies[0]!.id, modelId: model.id });
    const livePosition = await openPosition(db().pool, live, { marketId: KC, side: 'yes', quantity: 20, price: '0.60', strategyId: strategies[1]!.id, modelId: model.id });
    const liveBefore = await booksCash('live');
    await marketSettles(KC, '1');

    const result = await settleMarkets({ pool: db().pool, exchange: paper, executionMode: 'paper' });
    expect(result.settled[0]!.cash).toEqual([
      { platformId: 'kalshi', executionMode: 'live', credited: '20.0000', balance: liveBefore.plus(20).toFixed(4) },
      { platformId: 'kalshi', executionMode: 'paper', credited: '10.0000', balance: expect.any(String) },
    ]);
    expect(await currentPosition(livePosition)).toMatchObject({ status: 'settled', quantity: 0, realized_pnl: dec('8').minus(taker(20, '0.60')).toFixed(4) });
    expect(await currentPosition(paperPosition)).toMatchObject({ status: 'settled', quantity: 0, realized_pnl: dec('4').minus(taker(10, '0.60')).toFixed(4) });
    // (20 − 12 − 0.34) / 12 = 0.638333…
    expect(await strategyFigures(strategies[1]!.id)).toEqual({ paper_roi: null, live_roi: '0.6383', paper_trades_count: 0, live_trades_count: 1 });
    expect((await booksCash('live')).toFixed(4)).toBe((await booksIdentity(dec('20'), 'live')).toFixed(4));
    // The live venue settles itself: its stand-in was not asked (it still holds its 20 YES).
    expect(result.venueSettlements).toEqual([{ marketId: KC, ticker: KC, credited: '10.0000' }]);
    expect(await live.getPositions()).toEqual([expect.objectContaining({ ticker: KC, position: 20 })]);
  });
});

describe('the paper venue settles once', () => {
  it('credits YES and NO holdings at the payout, cancels resting orders, and a second settle credits nothing', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    const exchange = paperExchange(db().pool);
    await exchange.placeOrder({ ticker: DAL, clientOrderId: 'no-1', side: 'no', action: 'buy', count: qty(10), type: 'limit', limitPrice: dec('0.72') });
    const resting = await exchange.placeOrder({ ticker: DAL, clientOrderId: 'no-2', side: 'no', action: 'buy', count: qty(10), type: 'limit', limitPrice: dec('0.50') });
    expect(resting.status).toBe('resting');
    const before = await exchange.getBalance();

    await expect(exchange.settle(DAL, dec('1.5'))).rejects.toThrow(/within 0\.\.1/);
    await expect(exchange.settle(DAL, dec('0.12345'))).rejects.toThrow(/more than 4 decimals/);
    expect((await exchange.settle(DAL, dec('0.25')))?.credited.toFixed(4)).toBe('7.5000'); // 10 NO × 0.75
    expect((await exchange.getBalance()).minus(before).toFixed(4)).toBe('7.5000');
    expect((await exchange.getOrder(resting.venueOrderId)).status).toBe('canceled');
    const { rows: [position] } = await db().pool.query(`SELECT position, ${money4('cost_basis')}, ${money4('realized_pnl')}, ${money4('fees_paid')} FROM paper_positions WHERE ticker = $1`, [DAL]);
    // 7.50 − 7.20, fees excluded (they stay in fees_paid).
    expect(position).toEqual({ position: 0, cost_basis: '0.0000', realized_pnl: '0.3000', fees_paid: taker(10, '0.72').toFixed(4) });

    expect(await exchange.settle(DAL, dec('0.25'))).toBeNull();
    expect(await exchange.settle(DAL, dec('1'))).toBeNull();
    expect((await exchange.getBalance()).minus(before).toFixed(4)).toBe('7.5000');
    // A market never traded settles with nothing to credit; concurrent settles credit once.
    expect((await exchange.settle(KC, dec('1')))?.credited.toFixed(4)).toBe('0.0000');
    const concurrent = await Promise.all([1, 2, 3].map(() => exchange.settle(WIDE, dec('1'))));
    expect(concurrent.filter((r) => r !== null)).toHaveLength(1);
    await expect(db().pool.query(`UPDATE paper_settlements SET credited = 0`)).rejects.toThrow(/append-only/);
    await expect(db().pool.query(`DELETE FROM paper_settlements`)).rejects.toThrow(/append-only/);
  });
});

describe('settle-markets function', () => {
  const context = { functionName: 'settle-markets', awsRequestId: 'test' } as unknown as Context;
  let savedEnv: NodeJS.ProcessEnv;
  beforeEach(() => {
    savedEnv = { ...process.env };
    Object.assign(process.env, { DATABASE_URL: db().url, EXECUTION_MODE: 'paper', POWERTOOLS_METRICS_DISABLED: 'true' });
  });
  afterEach(async () => {
    process.env = savedEnv;
    await closeSharedPool();
  });

  it('rejects a malformed console event naming the field, before anything runs', async () => {
    await expect(handler({ marketIds: 'KC' }, context)).rejects.toThrow(/invalid settle-markets event: marketIds: Invalid input: expected array, received string/);
    await expect(handler({ dryRun: 'yes' }, context)).rejects.toThrow(/invalid settle-markets event: dryRun: Invalid input: expected boolean/);
    await expect(handler({ marketIds: [''] }, context)).rejects.toThrow(/marketIds\.0: a market id cannot be empty/);
    await expect(handler({ marketIds: [] }, context)).rejects.toThrow(/marketIds: Too small/);
    await expect(handler({ once: true }, context)).rejects.toThrow(/invalid settle-markets event: .*Unrecognized key.*once/);
  });

  it('runs the sample events and the schedule on the paper exchange', async () => {
    const { strategyA } = await twoStrategiesOnKc();
    await marketSettles(KC, '1');
    const { readFile } = await import('node:fs/promises');
    const sample = async (name: string) => JSON.parse(await readFile(new URL(`../../events/${name}`, import.meta.url), 'utf8'));

    const dry = (await handler(await sample('settle-markets-dry-run.json'), context)) as SettleMarketsResult;
    expect(dry).toMatchObject({ dryRun: true, settled: [expect.objectContaining({ marketId: KC, settlementId: null })] });
    const { rows: [none] } = await db().pool.query('SELECT count(*)::int AS n FROM settlements');
    expect(none.n).toBe(0);

    const run = (await handler(await sample('settle-markets.json'), context)) as SettleMarketsResult;
    expect(run).toMatchObject({ dryRun: false, executionMode: 'paper', venue: 'paper', errors: [] });
    expect(run.settled).toEqual([expect.objectContaining({ marketId: KC, outcome: 'yes' })]);
    expect(run.venueSettlements).toEqual([{ marketId: KC, ticker: KC, credited: '50.0000' }]);
    expect((await strategyFigures(strategyA)).paper_roi).toBe('0.6387');

    const scheduled = (await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }, context)) as SettleMarketsResult;
    expect(scheduled).toMatchObject({ settled: [], venueSettlements: [], strategiesUpdated: [], errors: [] });
    const asked = (await handler({ marketIds: [KC, DAL] }, context)) as SettleMarketsResult;
    expect(asked.skipped.map((s) => s.marketId).sort()).toEqual([KC, DAL].sort());
  });
});
