import { Decimal } from '../domain/decimal';
import { COUNT_DECIMALS } from '../domain/quantity';

/**
 * How one fill changes a position and the cash balance. Pure and exact (Decimal): the property
 * test replays a thousand random fills through this and the database and expects both to agree
 * to the cent with the venue.
 *
 * - Buying n at price P: quantity += n, cost_basis += n × P, fees += fee; cash −= n × P + fee.
 * - Selling n at P: the cost of the contracts sold leaves the cost basis pro rata (rounded to
 *   6 decimals, the amounts' precision; selling everything removes exactly what is left, so the cost basis never drifts);
 *   realized_pnl += n × P − that cost − fee; fees += fee; cash += n × P − fee.
 * - realized_pnl includes fees: a fee is a realised cost the moment it is paid, so a buy's fee
 *   enters realized_pnl at once (negative until contracts are sold). When the position closes,
 *   realized_pnl = Σ proceeds − Σ cost − Σ fees exactly. `fees` holds every fee paid on it.
 *   For the whole account: cash paid in − cash received = cost_basis − realized_pnl.
 * - entry_price is the average cost rounded to 4 decimals (for display and the monitor's P&L %);
 *   the exact figure is cost_basis.
 */

export interface PositionBook {
  /** Contracts held: whole for what Precog buys, fractional when the venue filled a fraction. */
  quantity: Decimal;
  /** Contracts bought in all (the v1.5 `original_quantity`: partial exits are shares of it). */
  originalQuantity: Decimal;
  costBasis: Decimal;
  fees: Decimal;
  realizedPnl: Decimal;
  /** Average cost, 4 decimals; kept when the position closes (entry_price is NOT NULL). */
  entryPrice: Decimal | null;
}

export interface FillAmounts {
  action: 'buy' | 'sell';
  count: Decimal;
  price: Decimal;
  fee: Decimal;
}

export const EMPTY_POSITION: PositionBook = Object.freeze({
  quantity: new Decimal(0),
  originalQuantity: new Decimal(0),
  costBasis: new Decimal(0),
  fees: new Decimal(0),
  realizedPnl: new Decimal(0),
  entryPrice: null,
});

export function applyFill(position: PositionBook, fill: FillAmounts): PositionBook {
  if (!Decimal.isDecimal(fill.count) || !fill.count.isFinite() || fill.count.lte(0) || fill.count.decimalPlaces() > COUNT_DECIMALS) {
    throw new RangeError(`fill count must be a positive count with at most ${COUNT_DECIMALS} decimals, got ${String(fill.count)}`);
  }
  const notional = fill.price.times(fill.count);
  if (fill.action === 'buy') {
    const quantity = position.quantity.plus(fill.count);
    const costBasis = position.costBasis.plus(notional);
    return {
      quantity,
      originalQuantity: position.originalQuantity.plus(fill.count),
      costBasis,
      fees: position.fees.plus(fill.fee),
      realizedPnl: position.realizedPnl.minus(fill.fee),
      entryPrice: costBasis.div(quantity).toDecimalPlaces(4, Decimal.ROUND_HALF_UP),
    };
  }
  if (fill.count.gt(position.quantity)) {
    throw new RangeError(`cannot sell ${fill.count.toFixed()} contracts of a position holding ${position.quantity.toFixed()}`);
  }
  const quantity = position.quantity.minus(fill.count);
  const removed = quantity.isZero()
    ? position.costBasis
    : position.costBasis.times(fill.count).div(position.quantity).toDecimalPlaces(6, Decimal.ROUND_HALF_UP);
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
