import { DEFAULT_TRADING_RULES, type TradingRules } from '../config/tradingRules';
import { Decimal } from './decimal';
import { COUNT_DECIMALS } from './quantity';

/**
 * Kalshi trading fees (trading-rules.md, "Edge and expected value"):
 *
 *   fee per order = ceil_to_cent(rate × contracts × P × (1 − P))
 *
 * with P the fill price in dollars (0..1), rate 0.07 for taker fills and 0.0175 for maker fills.
 * The fee is charged per order, so the rounding up to the cent happens once per order, not per
 * contract. Everything is exact: the product is computed without rounding (a private Decimal
 * constructor with ample precision), then rounded up to the cent.
 */

/** Enough significant digits that rate × contracts × P × (1 − P) is never rounded. */
const Exact = Decimal.clone({ precision: 200 });

/** Rounds up (towards +∞) to a whole cent; a value already on a cent is unchanged. */
export function ceilToCent(x: Decimal): Decimal {
  assertDecimal(x, 'amount');
  if (!x.isFinite()) throw new RangeError(`amount must be finite, got ${x.toString()}`);
  return new Decimal(x.toDecimalPlaces(2, Decimal.ROUND_CEIL));
}

/** Kalshi's fee of one order of `contracts` contracts filled at `price`, at fee rate `rate`. */
export function kalshiFee(contracts: Decimal, price: Decimal, rate: Decimal): Decimal {
  assertDecimal(contracts, 'contracts');
  if (!contracts.isFinite() || contracts.lt(0) || contracts.decimalPlaces() > COUNT_DECIMALS) {
    throw new RangeError(`contracts must be a non-negative count with at most ${COUNT_DECIMALS} decimals, got ${contracts.toString()}`);
  }
  assertDecimal(price, 'price');
  assertDecimal(rate, 'fee rate');
  if (!price.isFinite() || price.lt(0) || price.gt(1)) {
    throw new RangeError(`price must be within 0..1 dollars, got ${price.toString()}`);
  }
  if (!rate.isFinite() || rate.lt(0)) {
    throw new RangeError(`fee rate must be a non-negative number, got ${rate.toString()}`);
  }
  const p = new Exact(price);
  const raw = new Exact(rate).times(new Exact(contracts)).times(p).times(new Exact(1).minus(p));
  return ceilToCent(raw);
}

/** Fee of a taker fill (an order that takes liquidity: crosses the spread). */
export function takerFee(contracts: Decimal, price: Decimal, rules: TradingRules = DEFAULT_TRADING_RULES): Decimal {
  return kalshiFee(contracts, price, rules.fees.takerRate);
}

/** Fee of a maker fill (a resting order that was hit). */
export function makerFee(contracts: Decimal, price: Decimal, rules: TradingRules = DEFAULT_TRADING_RULES): Decimal {
  return kalshiFee(contracts, price, rules.fees.makerRate);
}

function assertDecimal(value: unknown, name: string): asserts value is Decimal {
  if (!Decimal.isDecimal(value)) {
    throw new TypeError(`${name} must be a Decimal, got ${typeof value}`);
  }
}
