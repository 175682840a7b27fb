import * as z from 'zod';
import type { Decimal } from '../../domain/decimal';
import { DEFAULT_PRICE_LEVELS, priceLevelProblems, type PriceLevels } from '../../domain/priceLevels';
import { deferredList } from '../../http/parse';
import { contractCount } from './tradingSchemas';
import { centsPrice, count, dollarPrice, decimalString, text } from '../../validation/decimals';

/**
 * Kalshi Trade API v2 payloads as Precog reads them. Unknown fields are tolerated; the fields
 * Precog uses are required and typed, and an ill-typed one rejects the record with its path.
 * Prices come from the `*_dollars` strings when present, else exactly from integer cents.
 */

const isoTime = z.iso.datetime({ offset: true });
const optionalTime = z.union([isoTime, z.literal(''), z.null()]).optional();

export const KALSHI_MARKET_STATUSES = [
  'initialized', 'inactive', 'active', 'closed', 'determined', 'disputed', 'amended', 'finalized',
  // Older API and filter vocabulary.
  'unopened', 'open', 'settled',
] as const;

/**
 * `price_ranges`: the order prices the market takes (kalshi-typescript `PriceRange`: start, end,
 * step as dollar strings). A malformed range rejects the market with its path
 * (`price_ranges[1].step: step 0.03 does not divide 0.1..0.9`): quantising on a wrong tick would
 * send prices the venue refuses. An empty list says no more than an absent one: cent ticks.
 */
const priceRanges = z
  .array(z.object({ start: decimalString, end: decimalString, step: decimalString }))
  .transform((ranges, ctx): PriceLevels => {
    if (ranges.length === 0) return DEFAULT_PRICE_LEVELS;
    for (const problem of priceLevelProblems(ranges)) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
    return ranges;
  });

const rawMarket = z.object({
  ticker: text.min(1),
  event_ticker: text.min(1),
  market_type: z.enum(['binary', 'scalar']).optional(),
  title: text.optional(),
  yes_sub_title: text.optional(),
  no_sub_title: text.optional(),
  open_time: optionalTime,
  close_time: optionalTime,
  status: z.enum(KALSHI_MARKET_STATUSES),
  yes_bid_dollars: dollarPrice.optional(),
  yes_ask_dollars: dollarPrice.optional(),
  yes_bid_size_fp: contractCount.optional(),
  yes_ask_size_fp: contractCount.optional(),
  no_bid_dollars: dollarPrice.optional(),
  no_ask_dollars: dollarPrice.optional(),
  last_price_dollars: dollarPrice.optional(),
  settlement_value_dollars: dollarPrice.optional(),
  yes_bid: centsPrice.optional(),
  yes_ask: centsPrice.optional(),
  no_bid: centsPrice.optional(),
  no_ask: centsPrice.optional(),
  last_price: centsPrice.optional(),
  settlement_value: centsPrice.optional(),
  volume_fp: count.optional(),
  volume: count.optional(),
  open_interest_fp: count.optional(),
  open_interest: count.optional(),
  result: z.enum(['yes', 'no', 'scalar', '']).optional(),
  price_level_structure: text.optional(),
  price_ranges: priceRanges.optional(),
});

export interface KalshiMarket {
  ticker: string;
  eventTicker: string;
  marketType: 'binary' | 'scalar';
  title: string;
  yesSubTitle: string | null;
  status: (typeof KALSHI_MARKET_STATUSES)[number];
  yesBid: Decimal | null;
  yesAsk: Decimal | null;
  noBid: Decimal | null;
  noAsk: Decimal | null;
  /** Contracts offered at the best YES bid / YES ask (`yes_bid_size_fp`, `yes_ask_size_fp`); null when not sent. */
  yesBidSize: Decimal | null;
  yesAskSize: Decimal | null;
  lastPrice: Decimal | null;
  settlementValue: Decimal | null;
  volume: number | null;
  openInterest: number | null;
  result: 'yes' | 'no' | 'scalar' | null;
  openTime: Date | null;
  closeTime: Date | null;
  /** Kalshi's name of the structure ("linear_cent", "tapered_deci_cent"…); null when not sent. */
  priceLevelStructure: string | null;
  /** The order prices the market takes; a payload without `price_ranges` trades in cents. */
  priceLevels: PriceLevels;
}

const time = (v: string | null | undefined) => (v ? new Date(v) : null);

export const kalshiMarket = rawMarket.transform((m): KalshiMarket => ({
  ticker: m.ticker,
  eventTicker: m.event_ticker,
  marketType: m.market_type ?? 'binary',
  title: m.title || m.yes_sub_title || m.ticker,
  yesSubTitle: m.yes_sub_title ?? null,
  status: m.status,
  yesBid: m.yes_bid_dollars ?? m.yes_bid ?? null,
  yesAsk: m.yes_ask_dollars ?? m.yes_ask ?? null,
  noBid: m.no_bid_dollars ?? m.no_bid ?? null,
  noAsk: m.no_ask_dollars ?? m.no_ask ?? null,
  yesBidSize: m.yes_bid_size_fp ?? null,
  yesAskSize: m.yes_ask_size_fp ?? null,
  lastPrice: m.last_price_dollars ?? m.last_price ?? null,
  settlementValue: m.settlement_value_dollars ?? m.settlement_value ?? null,
  volume: m.volume_fp ?? m.volume ?? null,
  openInterest: m.open_interest_fp ?? m.open_interest ?? null,
  result: m.result ? m.result : null,
  openTime: time(m.open_time),
  closeTime: time(m.close_time),
  priceLevelStructure: m.price_level_structure ?? null,
  priceLevels: m.price_ranges ?? DEFAULT_PRICE_LEVELS,
}));

export const kalshiEvent = z.object({
  event_ticker: text.min(1),
  series_ticker: text.min(1),
  title: text,
  sub_title: text.optional(),
  category: text.optional(),
  strike_date: optionalTime,
  mutually_exclusive: z.boolean().optional(),
  /** Each nested market is parsed on its own so one bad market never costs its event. */
  markets: deferredList().optional(),
});
export type KalshiEvent = z.infer<typeof kalshiEvent>;

export const kalshiSeries = z.object({
  ticker: text.min(1),
  title: text,
  category: text,
  frequency: text.optional(),
  tags: z.array(text).nullable().optional(),
  fee_type: text.optional(),
  fee_multiplier: z.number().optional(),
});
export type KalshiSeries = z.infer<typeof kalshiSeries>;

/** Orderbook levels: [price, count] pairs of BIDS only (the ask of one side is 1 − the other's bid). */
const level = z.tuple([dollarPrice, count]);
export const kalshiOrderbook = z.object({
  orderbook_fp: z.object({
    yes_dollars: z.array(level).nullable().optional(),
    no_dollars: z.array(level).nullable().optional(),
  }),
});

/** A page envelope: the list is parsed record by record, the cursor is what matters here. */
export const page = (listName: string) =>
  z.object({ cursor: z.string().nullable().optional() }).and(z.object({ [listName]: deferredList().nullable() }));
