import * as z from 'zod';
import { Decimal } from '../../domain/decimal';
import type { ContractSide, VenueFill, VenueOrder, VenuePosition } from '../../exchange/types';
import { centsPrice, dollarPrice, text } from '../../validation/decimals';

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
 * A whole-contract count: a fixed-point string ("10.00", "10") or an integer. Unlike the
 * market-data `count` (which truncates volumes), a fractional count is an error: Precog trades
 * whole contracts, and silently truncating a fill would corrupt positions.
 */
function wholeCountFrom(signed: boolean) {
  const pattern = signed ? /^([+-]?)(\d+)(?:\.(\d+))?$/ : /^()(\d+)(?:\.(\d+))?$/;
  // One transform over both wire forms (not a union), so the precise reason reaches the error.
  return z.unknown().transform((raw, ctx): number => {
    const issue = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    if (typeof raw !== 'number' && typeof raw !== 'string') return issue(`expected a count (fixed-point string or integer), got ${raw === null ? 'null' : typeof raw}`);
    if (typeof raw === 'number') {
      if (!Number.isSafeInteger(raw)) return issue(Number.isInteger(raw) ? 'count is too large' : `fractional count ${raw}: Precog trades whole contracts`);
      if (!signed && raw < 0) return issue('count must not be negative');
      return raw;
    }
    const match = pattern.exec(raw.trim());
    if (!match) return issue(signed ? 'not a count' : 'not a non-negative count');
    if (match[3] !== undefined && /[1-9]/.test(match[3])) return issue(`fractional count ${raw.trim()}: Precog trades whole contracts`);
    const digits = match[2]!.replace(/^0+(?=\d)/, '');
    // 15 digits always fit a safe integer; more is not a plausible contract count.
    if (digits.length > 15) return issue('count is too large');
    const n = Number(digits);
    return match[1] === '-' && n !== 0 ? -n : n;
  });
}
export const wholeCount = wholeCountFrom(false);
export const signedWholeCount = wholeCountFrom(true);

const MONEY_TEXT = /^[+-]?\d+(\.\d{1,4})?$/;

/**
 * A dollar amount that may exceed 1 (fees, costs, balances, exposure, P&L): a decimal string
 * with at most 4 decimals, exactly. `signed` admits negatives (realized P&L).
 */
function dollarsFrom(signed: boolean) {
  return z.string().transform((raw, ctx) => {
    const v = raw.trim();
    if (!MONEY_TEXT.test(v)) {
      ctx.addIssue({ code: 'custom', message: 'not a dollar amount with at most 4 decimals' });
      return z.NEVER;
    }
    const amount = new Decimal(v);
    if (!signed && amount.isNegative() && !amount.isZero()) {
      ctx.addIssue({ code: 'custom', message: 'amount must not be negative' });
      return z.NEVER;
    }
    return amount;
  });
}
export const dollarAmount = dollarsFrom(false);
export const signedDollarAmount = dollarsFrom(true);

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

/** `side` in the older API, `outcome_side` in the newer one (where `side` may be absent). */
function sideOf(ctx: Ctx, r: { side?: ContractSide | undefined; outcome_side?: ContractSide | undefined }): ContractSide {
  if (r.side) return r.side;
  if (r.outcome_side) return r.outcome_side;
  ctx.addIssue({ code: 'custom', message: 'required (side or outcome_side)', path: ['side'] });
  return undefined as never;
}

/** Price fields of a record, dollars preferred, cents exactly otherwise. */
const priceFields = {
  yes_price_dollars: dollarPrice.optional(),
  no_price_dollars: dollarPrice.optional(),
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
  side: side.optional(),
  outcome_side: side.optional(),
  action,
  type: z.enum(['limit', 'market']),
  status: z.enum(['resting', 'canceled', 'executed']),
  ...priceFields,
  initial_count_fp: wholeCount.optional(),
  fill_count_fp: wholeCount.optional(),
  remaining_count_fp: wholeCount.optional(),
  initial_count: wholeCount.optional(),
  fill_count: wholeCount.optional(),
  remaining_count: wholeCount.optional(),
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
  const s = sideOf(ctx, o);
  const order: VenueOrder = {
    venueOrderId: o.order_id,
    clientOrderId: o.client_order_id ?? '',
    ticker: o.ticker,
    side: s,
    action: o.action,
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
  side: side.optional(),
  outcome_side: side.optional(),
  action,
  count_fp: wholeCount.optional(),
  count: wholeCount.optional(),
  ...priceFields,
  is_taker: z.boolean(),
  /** Dollars, as a string. */
  fee_cost: dollarAmount,
  created_time: isoTime.optional(),
  /** Seconds since the epoch (older payloads). */
  ts: z.number().int().nonnegative().optional(),
});

export const kalshiFill = rawFill.transform((f, ctx): VenueFill => {
  const s = sideOf(ctx, f);
  const createdAt = f.created_time ? new Date(f.created_time) : f.ts !== undefined ? new Date(f.ts * 1000) : null;
  if (!createdAt) ctx.addIssue({ code: 'custom', message: 'required', path: ['created_time'] });
  return {
    fillId: pick(ctx, 'fill_id', f.fill_id, f.trade_id),
    venueOrderId: f.order_id,
    ticker: pick(ctx, 'ticker', f.ticker, f.market_ticker),
    side: s,
    action: f.action,
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
  position_fp: signedWholeCount.optional(),
  position: signedWholeCount.optional(),
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
