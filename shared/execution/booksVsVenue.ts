import type pg from 'pg';
import { Decimal } from '../domain/decimal';
import type { Exchange, VenueOrder } from '../exchange/types';
import type { Desync } from './reconcile';

/**
 * Steps 2 and 3 of reconciliation (reconcile.ts), read-only: the books' net position per market
 * and open orders against the venue's positions and resting orders, as desyncs that are reported
 * and never written. `precog preflight` runs it before live trading is switched on; it takes no
 * lock and writes nothing, so it may disagree with a reconciliation running at the same moment.
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
}

interface LocalOrder {
  clientOrderId: string;
  ticker: string;
  status: string;
}

/** A count as Precog's types carry it (a whole number today, a Decimal with fractional contracts). */
const exact = (count: number | Decimal) => new Decimal(String(count));

/** The desyncs reconciliation would open, from both sides' state (pure). */
export function diffBooksAndVenue(input: {
  localNet: LocalNet[];
  localOpenOrders: LocalOrder[];
  /** Signed contracts (YES − NO): a whole number, or a Decimal for fractional contracts. */
  venuePositions: Array<{ ticker: string; position: number | Decimal }>;
  venueResting: Array<Pick<VenueOrder, 'ticker' | 'clientOrderId'>>;
}): Desync[] {
  const local = new Map(input.localNet.map((r) => [r.ticker, r]));
  const venue = new Map(input.venuePositions.map((p) => [p.ticker, exact(p.position)]));
  const desyncs: Desync[] = [];
  for (const ticker of new Set([...local.keys(), ...venue.keys()])) {
    const books = local.get(ticker)?.net ?? new Decimal(0);
    const held = venue.get(ticker) ?? new Decimal(0);
    if (!books.eq(held)) {
      desyncs.push({ ticker, marketId: local.get(ticker)?.marketId ?? null, kind: 'position', local: { net: books.toNumber() }, venue: { net: held.toNumber() } });
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

/** Reads both sides (the books of `mode`, the venue through `exchange`) and compares them. */
export async function compareBooksWithVenue(deps: {
  pool: pg.Pool;
  exchange: Pick<Exchange, 'getPositions' | 'listOrders'>;
  platformId?: string;
  mode: 'paper' | 'live';
}): Promise<BooksVsVenue> {
  const platformId = deps.platformId ?? 'kalshi';
  const [venuePositions, venueResting, { rows: netRows }, { rows: orderRows }] = await Promise.all([
    deps.exchange.getPositions(),
    deps.exchange.listOrders({ status: 'resting' }),
    deps.pool.query(
      `SELECT coalesce(cm.ticker, p.market_id) AS ticker, p.market_id,
              sum(CASE WHEN p.side = 'yes' THEN p.quantity ELSE -p.quantity END)::text AS net
       FROM open_positions p LEFT JOIN current_markets cm ON cm.market_id = p.market_id
       WHERE p.platform_id = $1 AND p.execution_mode = $2
       GROUP BY 1, 2`,
      [platformId, deps.mode],
    ),
    deps.pool.query(
      `SELECT o.client_order_id, coalesce(cm.ticker, o.market_id) AS ticker, o.status
       FROM orders o LEFT JOIN current_markets cm ON cm.market_id = o.market_id
       WHERE o.platform_id = $1 AND o.execution_mode = $2 AND o.status IN ('pending', 'resting', 'partially_filled')`,
      [platformId, deps.mode],
    ),
  ]);
  const localNet = netRows.map((r) => ({ ticker: r.ticker as string, marketId: r.market_id as string, net: new Decimal(r.net as string) }));
  const localOpenOrders = orderRows.map((r) => ({ clientOrderId: r.client_order_id as string, ticker: r.ticker as string, status: r.status as string }));
  return {
    desyncs: diffBooksAndVenue({ localNet, localOpenOrders, venuePositions, venueResting }),
    venuePositions: venuePositions.length,
    venueRestingOrders: venueResting.length,
    localPositions: localNet.filter((r) => !r.net.isZero()).length,
    localOpenOrders: localOpenOrders.length,
  };
}
