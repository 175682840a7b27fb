import { Decimal } from '../domain/decimal';

/**
 * How one fill changes a position and the cash balance. Pure and exact (Decimal): the property
 * test replays a thousand random fills through this and the database and expects both to agree
 * to the cent with the venue.
 *
 * - Buying n at price P: quantity += n, cost_basis += n × P, fees += fee; cash −= n × P + fee.
 * - Selling n at P: the cost of the contracts sold leaves the cost basis pro rata (rounded to
 *   4 decimals; selling everything removes exactly what is left, so the cost basis never drifts);
 *   realized_pnl += n × P − that cost − fee; fees += fee; cash += n × P − fee.
 * - realized_pnl includes fees: a fee is a realised cost the moment it is paid, so a buy's fee
 *   enters realized_pnl at once (negative until contracts are sold). When the position closes,
 *   realized_pnl = Σ proceeds − Σ cost − Σ fees exactly. `fees` holds every fee paid on it.
 *   For the whole account: cash paid in − cash received = cost_basis − realized_pnl.
 * - entry_price is the average cost rounded to 4 decimals (for display and the monitor's P&L %);
 *   the exact figure is cost_basis.
 */

export interface PositionBook {
  quantity: number;
  /** Contracts bought in all (the v1.5 `original_quantity`: partial exits are shares of it). */
  originalQuantity: number;
  costBasis: Decimal;
  fees: Decimal;
  realizedPnl: Decimal;
  /** Average cost, 4 decimals; kept when the position closes (entry_price is NOT NULL). */
  entryPrice: Decimal | null;
}

export interface FillAmounts {
  action: 'buy' | 'sell';
  count: number;
  price: Decimal;
  fee: Decimal;
}

export const EMPTY_POSITION: PositionBook = Object.freeze({
  quantity: 0,
  originalQuantity: 0,
  costBasis: new Decimal(0),
  fees: new Decimal(0),
  realizedPnl: new Decimal(0),
  entryPrice: null,
});

export function applyFill(position: PositionBook, fill: FillAmounts): PositionBook {
  if (!Number.isSafeInteger(fill.count) || fill.count <= 0) throw new RangeError(`fill count must be a positive integer, got ${fill.count}`);
  const notional = fill.price.times(fill.count);
  if (fill.action === 'buy') {
    const quantity = position.quantity + fill.count;
    const costBasis = position.costBasis.plus(notional);
    return {
      quantity,
      originalQuantity: position.originalQuantity + fill.count,
      costBasis,
      fees: position.fees.plus(fill.fee),
      realizedPnl: position.realizedPnl.minus(fill.fee),
      entryPrice: costBasis.div(quantity).toDecimalPlaces(4, Decimal.ROUND_HALF_UP),
    };
  }
  if (fill.count > position.quantity) {
    throw new RangeError(`cannot sell ${fill.count} contracts of a position holding ${position.quantity}`);
  }
  const quantity = position.quantity - fill.count;
  const removed = quantity === 0
    ? position.costBasis
    : position.costBasis.times(fill.count).div(position.quantity).toDecimalPlaces(4, Decimal.ROUND_HALF_UP);
  return {
    quantity,
    originalQuantity: position.originalQuantity,
    costBasis: position.costBasis.minus(removed),
    fees: position.fees.plus(fill.fee),
    realizedPnl: position.realizedPnl.plus(notional).minus(removed).minus(fill.fee),
    entryPrice: position.entryPrice,
  };
}

/** The cash a fill moves: negative for a buy (price and fee paid), positive for a sell. */
export function cashDelta(fill: FillAmounts): Decimal {
  const notional = fill.price.times(fill.count);
  return fill.action === 'buy' ? notional.plus(fill.fee).negated() : notional.minus(fill.fee);
}
