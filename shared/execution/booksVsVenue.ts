import type pg from 'pg';
import type { Queryable } from '../db/transaction';
import { Decimal } from '../domain/decimal';
import { formatCount } from '../domain/quantity';
import type { Exchange, VenueOrder } from '../exchange/types';
import type { Desync } from './reconcile';

/**
 * Steps 2 and 3 of reconciliation: the books' net position per market and open orders against
 * the venue's positions and resting orders, as desyncs. reconcile.ts reads the books under its
 * lock and records what `diffBooksAndVenue` finds; `precog preflight` runs `compareBooksWithVenue`
 * before live trading is switched on: no lock, nothing written, so it may disagree with a
 * reconciliation running at the same moment.
 */

export interface BooksVsVenue {
  desyncs: Desync[];
  venuePositions: number;
  venueRestingOrders: number;
  localPositions: number;
  localOpenOrders: number;
}

interface LocalNet {
  ticker: string;
  marketId: string;
  /** YES − NO contracts, exact (text from the database: whole or fractional). */
  net: Decimal;
  /** The market has closed (trading over: closed, determined or settled as last ingested). */
  marketClosed?: boolean;
}

interface LocalOrder {
  clientOrderId: string;
  ticker: string;
  status: string;
}

/** The desyncs reconciliation would open, from both sides' state (pure). */
export function diffBooksAndVenue(input: {
  localNet: LocalNet[];
  localOpenOrders: LocalOrder[];
  /** Signed contracts (YES − NO), exact (fractional ones included). */
  venuePositions: Array<{ ticker: string; position: Decimal }>;
  venueResting: Array<Pick<VenueOrder, 'ticker' | 'clientOrderId'>>;
}): Desync[] {
  const local = new Map(input.localNet.map((r) => [r.ticker, r]));
  const venue = new Map(input.venuePositions.map((p) => [p.ticker, p.position]));
  const desyncs: Desync[] = [];
  for (const ticker of new Set([...local.keys(), ...venue.keys()])) {
    const books = local.get(ticker)?.net ?? new Decimal(0);
    const held = venue.get(ticker) ?? new Decimal(0);
    // A closed market the venue has paid out (its position gone) while the books still hold it is
    // awaiting settle-markets, not a desync: the settlement cross-check compares the money.
    const awaitingSettlement = held.isZero() && local.get(ticker)?.marketClosed === true;
    if (!books.eq(held) && !awaitingSettlement) {
      // Recorded as decimal text ("2.97"), never a float.
      desyncs.push({ ticker, marketId: local.get(ticker)?.marketId ?? null, kind: 'position', local: { net: formatCount(books) }, venue: { net: formatCount(held) } });
    }
  }
  // A pending order may be at the venue already (an execution is committing it right now).
  const localOpen = new Set(input.localOpenOrders.map((o) => o.clientOrderId));
  const venueResting = new Set(input.venueResting.map((o) => o.clientOrderId));
  const orders = new Map<string, { local: string[]; venue: string[] }>();
  const note = (ticker: string, side: 'local' | 'venue', id: string) => {
    const entry = orders.get(ticker) ?? { local: [], venue: [] };
    entry[side].push(id);
    orders.set(ticker, entry);
  };
  for (const o of input.venueResting) if (!localOpen.has(o.clientOrderId)) note(o.ticker, 'venue', o.clientOrderId);
  for (const o of input.localOpenOrders) if (o.status !== 'pending' && !venueResting.has(o.clientOrderId)) note(o.ticker, 'local', o.clientOrderId);
  for (const [ticker, ids] of orders) {
    desyncs.push({ ticker, marketId: null, kind: 'order', local: { openNotAtVenue: ids.local }, venue: { restingNotInBooks: ids.venue } });
  }
  return desyncs;
}

/** The books of `mode`: net contracts per market held, and the orders still open. */
export async function readBooks(db: Queryable, platformId: string, mode: 'paper' | 'live'): Promise<{ localNet: LocalNet[]; localOpenOrders: LocalOrder[] }> {
  const [{ rows: netRows }, { rows: orderRows }] = await Promise.all([
    db.query(
      `SELECT coalesce(cm.ticker, p.market_id) AS ticker, p.market_id,
              sum(CASE WHEN p.side = 'yes' THEN p.quantity ELSE -p.quantity END)::text AS net,
              coalesce(bool_or(cm.status IN ('closed', 'determined', 'settled')), false) AS market_closed
       FROM open_positions p LEFT JOIN current_markets cm ON cm.market_id = p.market_id
       WHERE p.platform_id = $1 AND p.execution_mode = $2
       GROUP BY 1, 2`,
      [platformId, mode],
    ),
    db.query(
      `SELECT o.client_order_id, coalesce(cm.ticker, o.market_id) AS ticker, o.status
       FROM orders o LEFT JOIN current_markets cm ON cm.market_id = o.market_id
       WHERE o.platform_id = $1 AND o.execution_mode = $2 AND o.status IN ('pending', 'resting', 'partially_filled')`,
      [platformId, mode],
    ),
  ]);
  return {
    localNet: netRows.map((r) => ({ ticker: r.ticker as string, marketId: r.market_id as string, net: new Decimal(r.net as string), marketClosed: r.market_closed === true })),
    localOpenOrders: orderRows.map((r) => ({ clientOrderId: r.client_order_id as string, ticker: r.ticker as string, status: r.status as string })),
  };
}

/** Reads both sides (the books of `mode`, the venue through `exchange`) and compares them. */
export async function compareBooksWithVenue(deps: {
  pool: pg.Pool;
  exchange: Pick<Exchange, 'getPositions' | 'listOrders'>;
  platformId?: string;
  mode: 'paper' | 'live';
}): Promise<BooksVsVenue> {
  const [venuePositions, venueResting, { localNet, localOpenOrders }] = await Promise.all([
    deps.exchange.getPositions(),
    deps.exchange.listOrders({ status: 'resting' }),
    readBooks(deps.pool, deps.platformId ?? 'kalshi', deps.mode),
  ]);
  return {
    desyncs: diffBooksAndVenue({ localNet, localOpenOrders, venuePositions, venueResting }),
    venuePositions: venuePositions.length,
    venueRestingOrders: venueResting.length,
    localPositions: localNet.filter((r) => !r.net.isZero()).length,
    localOpenOrders: localOpenOrders.length,
  };
}
