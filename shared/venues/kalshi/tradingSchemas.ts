import * as z from 'zod';
import { Decimal } from '../../domain/decimal';
import { type ContractSide, outcomeSideOf, type VenueFill, type VenueOrder, type VenuePosition } from '../../exchange/types';
import { COUNT_DECIMALS } from '../../domain/quantity';
import { centsPrice, text } from '../../validation/decimals';

/**
 * Kalshi portfolio payloads (orders, fills, positions, balance) as Precog reads them, mapped onto
 * the venue-neutral `Exchange` types. Like `schemas.ts`: unknown fields are tolerated, the fields
 * used are required and typed, and an error names the field path. Prices come from the
 * `*_dollars` strings when present, else exactly from integer cents; counts from the `*_fp`
 * fixed-point strings, else from legacy integers. Money never passes through a JS number.
 */

// ---------------------------------------------------------------------------------------------
// Validators

/**
 * A contract count: Kalshi's fixed-point string ("10.00", "2.97"; fractional contracts exist since
 * March 2026, granularity 0.01) or a legacy integer, exactly as a Decimal. More than 2 decimals is
 * an error (it cannot be traded or stored, and rounding it would corrupt positions); negative only
 * where the field is signed (a position).
 */
function countFrom(signed: boolean) {
  const pattern = /^([+-]?)(\d+)(?:\.(\d+))?$/;
  // One transform over both wire forms (not a union), so the precise reason reaches the error.
  return z.unknown().transform((raw, ctx): Decimal => {
    const issue = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    if (typeof raw !== 'number' && typeof raw !== 'string') return issue(`expected a count (fixed-point string or integer), got ${raw === null ? 'null' : typeof raw}`);
    if (typeof raw === 'number') {
      if (!Number.isSafeInteger(raw)) return issue(Number.isInteger(raw) ? 'count is too large' : `count ${raw} given as a number must be whole (fractional counts come as fixed-point strings)`);
      if (!signed && raw < 0) return issue('count must not be negative');
      return new Decimal(raw);
    }
    const v = raw.trim();
    const match = pattern.exec(v);
    if (!match) return issue(signed ? 'not a count' : 'not a non-negative count');
    if (!signed && match[1] !== '') {
      if (match[1] === '+' || /[1-9]/.test(match[2]! + (match[3] ?? ''))) return issue('count must not be negative');
    }
    const fraction = (match[3] ?? '').replace(/0+$/, '');
    if (fraction.length > COUNT_DECIMALS) return issue(`count ${v} has more than ${COUNT_DECIMALS} decimals (Kalshi's granularity is 0.01)`);
    // NUMERIC(12,2): 10 integer digits.
    if (match[2]!.replace(/^0+(?=\d)/, '').length > 10) return issue('count is too large');
    const count = new Decimal(v);
    return count.isZero() ? new Decimal(0) : count;
  });
}
export const contractCount = countFrom(false);
export const signedContractCount = countFrom(true);

/** Kalshi: "responses emit up to 6" decimals in dollar amounts ("0.060000", "-25.671900"). */
const MONEY_TEXT = /^[+-]?\d+(\.\d{1,6})?$/;

/**
 * A dollar amount that may exceed 1 (fees, costs, balances, exposure, P&L): a decimal string
 * with at most 6 decimals, exactly. `signed` admits negatives (realized P&L).
 */
function dollarsFrom(signed: boolean) {
  return z.string().transform((raw, ctx) => {
    const v = raw.trim();
    if (!MONEY_TEXT.test(v)) {
      ctx.addIssue({ code: 'custom', message: 'not a dollar amount with at most 6 decimals' });
      return z.NEVER;
    }
    const amount = new Decimal(v);
    if (!signed && amount.isNegative() && !amount.isZero()) {
      ctx.addIssue({ code: 'custom', message: 'amount must not be negative' });
      return z.NEVER;
    }
    return amount.isZero() ? new Decimal(0) : amount;
  });
}
export const dollarAmount = dollarsFrom(false);
export const signedDollarAmount = dollarsFrom(true);

/**
 * A price (0..1) in a portfolio response: Kalshi emits up to 6 decimals ("0.560000"). Precog
 * stores prices with 4 (DECIMAL(10,4); Kalshi's finest tick is 0.001), so a price with a non-zero
 * 5th or 6th decimal is an error rather than a silent rounding.
 */
export const venuePrice = z.string().transform((raw, ctx) => {
  const v = raw.trim();
  if (!/^\d+(\.\d{1,6})?$/.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'not a price with at most 6 decimals' });
    return z.NEVER;
  }
  const price = new Decimal(v);
  if (price.greaterThan(1)) {
    ctx.addIssue({ code: 'custom', message: 'price is outside 0..1' });
    return z.NEVER;
  }
  if (price.decimalPlaces() > 4) {
    ctx.addIssue({ code: 'custom', message: `price ${v} is finer than 0.0001` });
    return z.NEVER;
  }
  return price;
});

/** Integer cents of an amount that may exceed a dollar (older payloads), exactly in dollars. */
function centsFrom(signed: boolean) {
  return z
    .number()
    .int({ message: 'cents must be a whole number' })
    .min(signed ? -Number.MAX_SAFE_INTEGER : 0, { message: 'amount must not be negative' })
    .max(Number.MAX_SAFE_INTEGER)
    .transform((c) => new Decimal(c).div(100));
}
export const centsAmount = centsFrom(false);
export const signedCentsAmount = centsFrom(true);

// ---------------------------------------------------------------------------------------------
// Helpers

const isoTime = z.iso.datetime({ offset: true });
const optionalTime = z.union([isoTime, z.literal(''), z.null()]).optional();
const side = z.enum(['yes', 'no']);
const action = z.enum(['buy', 'sell']);
const time = (v: string | null | undefined) => (v ? new Date(v) : null);

type Ctx = z.core.$RefinementCtx;

/** The first present value among alternatives, or an issue at the preferred field's path. */
function pick<T>(ctx: Ctx, field: string, ...values: Array<T | undefined | null>): T {
  for (const v of values) if (v !== undefined && v !== null) return v;
  ctx.addIssue({ code: 'custom', message: 'required', path: [field] });
  return undefined as never;
}

const bookSide = z.enum(['bid', 'ask']);

interface DirectionFields {
  side?: ContractSide | undefined;
  action?: 'buy' | 'sell' | undefined;
  outcome_side?: ContractSide | undefined;
  book_side?: 'bid' | 'ask' | undefined;
}

/**
 * Direction of an order or fill. Kalshi (kalshi-typescript 3.30 Fill/Order docs, "Order
 * direction"): `outcome_side` is the outcome the trade positions the account for (buy YES and sell
 * NO give 'yes'; buy NO and sell YES give 'no'); `book_side` is the side of the single YES book
 * (`bid` buys YES, `ask` sells YES, which is buying NO at 1 − p), so yes ↔ bid and no ↔ ask. The
 * deprecated `side`/`action` pair can contradict them; the new fields win:
 *   - the direction (outcomeSide) comes from outcome_side, else book_side, else legacy side+action;
 *   - `side`/`action` are the legacy pair when it agrees with that direction; when it contradicts
 *     it (or only one of them is present), the legacy `side` is kept and `action` made to agree
 *     (or the legacy action kept and `side` made to agree); with neither, a buy of outcomeSide.
 * The new fields cannot tell buy NO from sell YES: consumers that know the order (the ledger)
 * compare by outcomeSide.
 */
function directionOf(ctx: Ctx, r: DirectionFields): { side: ContractSide; action: 'buy' | 'sell'; outcomeSide: ContractSide } {
  const fromBook = r.book_side === undefined ? undefined : r.book_side === 'bid' ? 'yes' : 'no';
  if (r.outcome_side && fromBook && r.outcome_side !== fromBook) {
    ctx.addIssue({ code: 'custom', message: `outcome_side ${r.outcome_side} contradicts book_side ${r.book_side}`, path: ['outcome_side'] });
    return undefined as never;
  }
  const fromLegacy = r.side && r.action ? outcomeSideOf(r.side, r.action) : undefined;
  const outcomeSide = r.outcome_side ?? fromBook ?? fromLegacy;
  if (!outcomeSide) {
    ctx.addIssue({ code: 'custom', message: 'required (outcome_side, book_side, or the legacy side and action)', path: ['outcome_side'] });
    return undefined as never;
  }
  if (r.side) return { side: r.side, action: r.side === outcomeSide ? 'buy' : 'sell', outcomeSide };
  if (r.action) return { side: r.action === 'buy' ? outcomeSide : outcomeSide === 'yes' ? 'no' : 'yes', action: r.action, outcomeSide };
  return { side: outcomeSide, action: 'buy', outcomeSide };
}

/** Price fields of a record, dollars preferred, cents exactly otherwise. */
const priceFields = {
  yes_price_dollars: venuePrice.optional(),
  no_price_dollars: venuePrice.optional(),
  yes_price: centsPrice.optional(),
  no_price: centsPrice.optional(),
};
type Prices = { yes_price_dollars?: Decimal; no_price_dollars?: Decimal; yes_price?: Decimal; no_price?: Decimal };

/** The price of the record's own side (a NO order's limit is its NO price). */
function ownSidePrice(ctx: Ctx, s: ContractSide, p: Prices): Decimal {
  return s === 'yes'
    ? pick(ctx, 'yes_price_dollars', p.yes_price_dollars, p.yes_price)
    : pick(ctx, 'no_price_dollars', p.no_price_dollars, p.no_price);
}

// ---------------------------------------------------------------------------------------------
// Order

const rawOrder = z.object({
  order_id: text.min(1),
  /** Orders placed outside Precog (the website) may carry none. */
  client_order_id: text.nullable().optional(),
  ticker: text.min(1),
  /** Deprecated by Kalshi: read only to tell buy NO from sell YES (see directionOf). */
  side: side.optional(),
  action: action.optional(),
  outcome_side: side.optional(),
  book_side: bookSide.optional(),
  type: z.enum(['limit', 'market']),
  status: z.enum(['resting', 'canceled', 'executed']),
  ...priceFields,
  initial_count_fp: contractCount.optional(),
  fill_count_fp: contractCount.optional(),
  remaining_count_fp: contractCount.optional(),
  initial_count: contractCount.optional(),
  fill_count: contractCount.optional(),
  remaining_count: contractCount.optional(),
  taker_fees_dollars: dollarAmount.optional(),
  maker_fees_dollars: dollarAmount.optional(),
  taker_fill_cost_dollars: dollarAmount.optional(),
  maker_fill_cost_dollars: dollarAmount.optional(),
  taker_fees: centsAmount.optional(),
  maker_fees: centsAmount.optional(),
  taker_fill_cost: centsAmount.optional(),
  maker_fill_cost: centsAmount.optional(),
  created_time: optionalTime,
  expiration_time: optionalTime,
});

export const kalshiOrder = rawOrder.transform((o, ctx): VenueOrder => {
  const d = directionOf(ctx, o);
  const s = d?.side;
  const order: VenueOrder = {
    venueOrderId: o.order_id,
    clientOrderId: o.client_order_id ?? '',
    ticker: o.ticker,
    side: s,
    action: d?.action,
    outcomeSide: d?.outcomeSide,
    type: o.type,
    status: o.status,
    limitPrice: s ? ownSidePrice(ctx, s, o) : (undefined as never),
    initialCount: pick(ctx, 'initial_count_fp', o.initial_count_fp, o.initial_count),
    filledCount: pick(ctx, 'fill_count_fp', o.fill_count_fp, o.fill_count),
    remainingCount: pick(ctx, 'remaining_count_fp', o.remaining_count_fp, o.remaining_count),
    takerFees: pick(ctx, 'taker_fees_dollars', o.taker_fees_dollars, o.taker_fees),
    makerFees: pick(ctx, 'maker_fees_dollars', o.maker_fees_dollars, o.maker_fees),
    takerFillCost: pick(ctx, 'taker_fill_cost_dollars', o.taker_fill_cost_dollars, o.taker_fill_cost),
    makerFillCost: pick(ctx, 'maker_fill_cost_dollars', o.maker_fill_cost_dollars, o.maker_fill_cost),
    createdAt: time(o.created_time),
    expiresAt: time(o.expiration_time),
  };
  return order;
});

// ---------------------------------------------------------------------------------------------
// Fill

const rawFill = z.object({
  fill_id: text.min(1).optional(),
  /** Older fills carry only the trade id, unique per fill as well. */
  trade_id: text.min(1).optional(),
  order_id: text.min(1),
  ticker: text.min(1).optional(),
  market_ticker: text.min(1).optional(),
  /** Deprecated by Kalshi: read only to tell buy NO from sell YES (see directionOf). */
  side: side.optional(),
  action: action.optional(),
  outcome_side: side.optional(),
  book_side: bookSide.optional(),
  count_fp: contractCount.optional(),
  count: contractCount.optional(),
  ...priceFields,
  is_taker: z.boolean(),
  /** Dollars, as a string. */
  fee_cost: dollarAmount,
  created_time: isoTime.optional(),
  /** Seconds since the epoch (older payloads). */
  ts: z.number().int().nonnegative().optional(),
});

export const kalshiFill = rawFill.transform((f, ctx): VenueFill => {
  const d = directionOf(ctx, f);
  const s = d?.side;
  const createdAt = f.created_time ? new Date(f.created_time) : f.ts !== undefined ? new Date(f.ts * 1000) : null;
  if (!createdAt) ctx.addIssue({ code: 'custom', message: 'required', path: ['created_time'] });
  return {
    fillId: pick(ctx, 'fill_id', f.fill_id, f.trade_id),
    venueOrderId: f.order_id,
    ticker: pick(ctx, 'ticker', f.ticker, f.market_ticker),
    side: s,
    action: d?.action,
    outcomeSide: d?.outcomeSide,
    count: pick(ctx, 'count_fp', f.count_fp, f.count),
    price: s ? ownSidePrice(ctx, s, f) : (undefined as never),
    isTaker: f.is_taker,
    fee: f.fee_cost,
    createdAt: createdAt as Date,
  };
});

// ---------------------------------------------------------------------------------------------
// Position

const rawPosition = z.object({
  ticker: text.min(1),
  position_fp: signedContractCount.optional(),
  position: signedContractCount.optional(),
  market_exposure_dollars: dollarAmount.optional(),
  market_exposure: centsAmount.optional(),
  realized_pnl_dollars: signedDollarAmount.optional(),
  realized_pnl: signedCentsAmount.optional(),
  fees_paid_dollars: dollarAmount.optional(),
  fees_paid: centsAmount.optional(),
});

export const kalshiPosition = rawPosition.transform((p, ctx): VenuePosition => ({
  ticker: p.ticker,
  position: pick(ctx, 'position_fp', p.position_fp, p.position),
  exposure: pick(ctx, 'market_exposure_dollars', p.market_exposure_dollars, p.market_exposure),
  realizedPnl: pick(ctx, 'realized_pnl_dollars', p.realized_pnl_dollars, p.realized_pnl),
  feesPaid: pick(ctx, 'fees_paid_dollars', p.fees_paid_dollars, p.fees_paid),
}));

// ---------------------------------------------------------------------------------------------
// Balance

/** `balance_dollars` preferred; else `balance`, integer cents. */
export const kalshiBalance = z
  .object({ balance_dollars: signedDollarAmount.optional(), balance: signedCentsAmount.optional() })
  .transform((b, ctx): Decimal => pick(ctx, 'balance_dollars', b.balance_dollars, b.balance));

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * Kalshi's error body: `{ "error": { "code", "message", "details" } }`, or (for bodies the API
 * could not parse) `code`/`message` at the top level. Anything else yields nothing.
 */
export function kalshiErrorOf(body: unknown): { code?: string; message?: string } {
  if (!body || typeof body !== 'object') return {};
  const record = body as Record<string, unknown>;
  const inner = record.error && typeof record.error === 'object' ? (record.error as Record<string, unknown>) : undefined;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const code = str(inner?.code) ?? str(record.code);
  const message = str(inner?.message) ?? str(record.message) ?? str(record.error);
  const details = str(inner?.details) ?? str(record.details);
  return { code, message: message && details ? `${message}: ${details}` : message ?? details };
}
