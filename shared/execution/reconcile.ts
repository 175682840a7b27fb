import type pg from 'pg';
import { DEFAULT_TRADING_RULES, type TradingRules } from '../config/tradingRules';
import { withTransaction } from '../db/transaction';
import type { Exchange, VenueOrder } from '../exchange/types';
import { applyVenueUpdate, closeUnsentOrder, edgeOf, findOrders, lockBalance, lockOrder, writeBalance } from './ledger';
import { readBooks, diffBooksAndVenue } from './booksVsVenue';
import { ENTRY_LOCK_KEY } from './locks';

/**
 * Reconciliation with the venue (run by the monitor every minute, and by hand with
 * `precog reconcile`), in three steps:
 *
 * 1. Orders: every local order still open (resting, partially filled) is read back from the
 *    venue and its new fills recorded; a pending entry older than `staleEntrySeconds` is looked up
 *    by client order id (adopted if it reached the venue, cancelled if not).
 * 2. Positions: the net position per market (YES − NO contracts) in Precog's books is compared
 *    with the venue's. A difference trips a `position` desync for that market.
 * 3. Resting orders: a resting order at the venue that the books do not have open (or the
 *    reverse) trips an `order` desync.
 *
 * A desynced market takes no new entries (the scan skips it, execute-entry refuses it) until a
 * later reconciliation finds both sides agreeing again, which resolves it automatically.
 * The cash balance difference is reported (Kalshi holds collateral for resting orders and credits
 * settlements on its own schedule, so it is not a per-market desync).
 */

export interface Desync {
  ticker: string;
  marketId: string | null;
  /** `settlement`: settle-markets found the venue's settlement credit differing from the books'. */
  kind: 'position' | 'order' | 'settlement';
  local: unknown;
  venue: unknown;
}

export interface ReconcileResult {
  venue: string;
  ordersChecked: number;
  fillsRecorded: number;
  ordersClosed: Array<{ clientOrderId: string; status: string; reason?: string }>;
  /** Orders another transaction was working on (skipped this time). */
  ordersBusy: number;
  errors: Array<{ clientOrderId?: string; error: string }>;
  desyncs: Desync[];
  /** Desyncs seen for the first time (not already open): the ones to announce. */
  newDesyncs: Desync[];
  /** Desyncs found resolved this time. */
  resolved: Array<{ ticker: string; kind: string }>;
  balance: { local: string | null; venue: string; difference: string | null; adoptedFromVenue?: boolean };
}

export async function reconcileVenue(
  deps: { pool: pg.Pool; exchange: Exchange; rules?: TradingRules; platformId?: string },
): Promise<ReconcileResult> {
  const rules = deps.rules ?? DEFAULT_TRADING_RULES;
  const platformId = deps.platformId ?? 'kalshi';
  const mode = deps.exchange.executionMode;
  const result: ReconcileResult = {
    venue: deps.exchange.name, ordersChecked: 0, fillsRecorded: 0, ordersClosed: [], ordersBusy: 0, errors: [], desyncs: [], newDesyncs: [], resolved: [],
    balance: { local: null, venue: '0', difference: null },
  };

  // 1. Orders.
  const open = await findOrders(
    deps.pool,
    `platform_id = $1 AND execution_mode = $2 AND (status IN ('resting', 'partially_filled')
       OR (status = 'pending' AND created_at < precog_now() - make_interval(secs => $3)))`,
    [platformId, mode, rules.execution.staleEntrySeconds],
  );
  const tickers = await tickersOf(deps.pool, open.map((o) => o.marketId));
  for (const candidate of open) {
    result.ordersChecked++;
    try {
      await withTransaction(deps.pool, async (client) => {
        // The position's identity before the order, and never waiting for either: an exit or an
        // entry working on this position holds its identity and then writes its orders, so
        // waiting here for the identity while holding the order would deadlock with it.
        const { rows: [own] } = await client.query(
          `SELECT o.position_id, (o.position_id IS NULL OR EXISTS (
             SELECT 1 FROM position_identities pi WHERE pi.position_id = o.position_id FOR UPDATE SKIP LOCKED)) AS free
           FROM orders o WHERE o.client_order_id = $1`,
          [candidate.clientOrderId],
        );
        const order = own?.free ? await lockOrder(client, candidate.clientOrderId, { skipLocked: true }) : null;
        if (!order) {
          result.ordersBusy++;
          return;
        }
        const ticker = tickers.get(order.marketId) ?? order.marketId;
        let venueOrder: VenueOrder | null;
        if (order.status === 'pending' || order.venueOrderId === null) {
          if (order.status !== 'pending') throw new Error(`order ${order.clientOrderId} is ${order.status} but has no venue order id`);
          venueOrder = await deps.exchange.findOrder(order.clientOrderId, ticker);
          if (!venueOrder) {
            const reason = `not executed within ${rules.execution.staleEntrySeconds} s and not at the venue`;
            await closeUnsentOrder(client, order.orderId, 'cancelled', reason);
            result.ordersClosed.push({ clientOrderId: order.clientOrderId, status: 'cancelled', reason });
            return;
          }
        } else {
          venueOrder = await deps.exchange.getOrder(order.venueOrderId);
        }
        const fills = venueOrder.filledCount.gt(0) ? await deps.exchange.getFills({ venueOrderId: venueOrder.venueOrderId }) : [];
        const edge = await edgeOf(client, order.edgeId);
        const update = await applyVenueUpdate(client, order, venueOrder, fills, { edge });
        result.fillsRecorded += update.newFills.length;
        if (update.status !== order.status && ['filled', 'cancelled'].includes(update.status)) {
          result.ordersClosed.push({ clientOrderId: order.clientOrderId, status: update.status });
        }
      });
    } catch (error) {
      result.errors.push({ clientOrderId: candidate.clientOrderId, error: (error as Error).message });
    }
  }

  // 2 and 3. Positions and resting orders, both sides read after the order sync, under the
  // entry lock (no entry is between the venue and its commit while both sides are read).
  await withTransaction(deps.pool, async (client) => {
    await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${rules.execution.entryLockTimeoutMs}ms`]);
    await client.query('SELECT pg_advisory_xact_lock($1)', [ENTRY_LOCK_KEY]);
    const [venuePositions, venueResting, venueBalance] = await Promise.all([
      deps.exchange.getPositions(),
      deps.exchange.listOrders({ status: 'resting' }),
      deps.exchange.getBalance(),
    ]);
    const { localNet, localOpenOrders } = await readBooks(client, platformId, mode);
    const desyncs = diffBooksAndVenue({ localNet, localOpenOrders, venuePositions, venueResting });
    result.desyncs = desyncs;

    {
      // Market ids for tickers the books do not hold (venue-only positions or orders).
      const unknown = desyncs.filter((d) => d.marketId === null).map((d) => d.ticker);
      if (unknown.length > 0) {
        const { rows } = await client.query('SELECT market_id, ticker FROM current_markets WHERE ticker = ANY($1::text[])', [unknown]);
        const byTicker = new Map(rows.map((r) => [r.ticker as string, r.market_id as string]));
        for (const d of desyncs) d.marketId ??= byTicker.get(d.ticker) ?? null;
      }
      for (const d of desyncs) {
        const { rows: [written] } = await client.query(
          `INSERT INTO venue_desyncs (platform_id, execution_mode, ticker, market_id, kind, local_value, venue_value)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)
           ON CONFLICT (platform_id, execution_mode, ticker, kind) WHERE resolved_at IS NULL
           DO UPDATE SET last_seen_at = precog_now(), local_value = EXCLUDED.local_value, venue_value = EXCLUDED.venue_value,
                         market_id = coalesce(venue_desyncs.market_id, EXCLUDED.market_id)
           RETURNING (xmax = 0) AS inserted`,
          [platformId, mode, d.ticker, d.marketId, d.kind, JSON.stringify(d.local), JSON.stringify(d.venue)],
        );
        if (written.inserted) result.newDesyncs.push(d);
      }
      const { rows } = await client.query(
        `UPDATE venue_desyncs SET resolved_at = precog_now(), resolution = 'agreed at reconciliation'
         WHERE platform_id = $1 AND execution_mode = $2 AND resolved_at IS NULL AND kind IN ('position', 'order')
           AND NOT ((ticker, kind) IN (SELECT * FROM unnest($3::text[], $4::text[])))
         RETURNING ticker, kind`,
        [platformId, mode, desyncs.map((d) => d.ticker), desyncs.map((d) => d.kind)],
      );
      result.resolved = rows.map((r) => ({ ticker: r.ticker, kind: r.kind }));
    }

    // Before the platform is known (nothing ingested yet) the books hold no cash to compare.
    const { rowCount: platformKnown } = await client.query('SELECT 1 FROM platforms WHERE platform_id = $1', [platformId]);
    const local = platformKnown ? await lockBalance(client, platformId, mode) : null;
    result.balance = {
      local: local?.toFixed(4) ?? null,
      venue: venueBalance.toFixed(4),
      difference: local ? venueBalance.minus(local).toFixed(4) : null,
    };
    // Live: the venue's cash is the truth (it holds collateral for resting orders and pays
    // settlements on its own schedule), so the books take it as a new balance version when it
    // differs. Paper: the books' ledger stands on its own and must equal the simulated venue.
    if (mode === 'live' && platformKnown && (local === null || !local.eq(venueBalance))) {
      await writeBalance(client, platformId, mode, venueBalance);
      result.balance.adoptedFromVenue = true;
    }
  });
  return result;
}

async function tickersOf(pool: pg.Pool, marketIds: string[]): Promise<Map<string, string>> {
  if (marketIds.length === 0) return new Map();
  const { rows } = await pool.query('SELECT market_id, ticker FROM current_markets WHERE market_id = ANY($1::text[])', [marketIds]);
  return new Map(rows.filter((r) => r.ticker).map((r) => [r.market_id as string, r.ticker as string]));
}
