import * as z from 'zod';
import { Decimal } from '../../domain/decimal';
import type { VenueSettlement } from '../../exchange/types';
import { text } from '../../validation/decimals';

/**
 * `GET /portfolio/settlements` records (kalshi-typescript `Settlement`) as Precog reads them, exactly:
 *  - `revenue` is integer CENTS (what the settlement paid: $1 per winning contract), → dollars;
 *  - `value` (optional) is the payout of one YES contract in cents, → dollars;
 *  - `yes_total_cost_dollars`, `no_total_cost_dollars`, `fee_cost` are dollar strings with up to
 *    6 decimals ("0.060000");
 *  - `yes_count_fp`, `no_count_fp` are fixed-point contract counts with up to 2 decimals ("2.97":
 *    fractional contracts exist), held as Decimal, never truncated.
 * Unknown fields are tolerated; a field used that is missing or ill-typed rejects the record with
 * its path.
 */

const DOLLARS_6 = /^\d+(\.\d{1,6})?$/;
const COUNT_FP = /^\d+(\.\d{1,2})?$/;

const dollars = z.string().transform((raw, ctx) => {
  const v = raw.trim();
  if (!DOLLARS_6.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'not a non-negative dollar amount with at most 6 decimals' });
    return z.NEVER;
  }
  return new Decimal(v);
});

const countFp = z.string().transform((raw, ctx) => {
  const v = raw.trim();
  if (!COUNT_FP.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'not a non-negative fixed-point count with at most 2 decimals' });
    return z.NEVER;
  }
  return new Decimal(v);
});

const cents = z
  .number()
  .int({ message: 'cents must be a whole number' })
  .nonnegative({ message: 'cents must not be negative' })
  .max(Number.MAX_SAFE_INTEGER)
  .transform((c) => new Decimal(c).div(100));

export const kalshiSettlement = z
  .object({
    ticker: text.min(1),
    event_ticker: text.min(1),
    // 'void' appears in older models (3.11): the market was cancelled, positions returned at cost.
    market_result: z.enum(['yes', 'no', 'scalar', 'void']),
    yes_count_fp: countFp,
    no_count_fp: countFp,
    yes_total_cost_dollars: dollars,
    no_total_cost_dollars: dollars,
    revenue: cents,
    settled_time: z.iso.datetime({ offset: true }),
    fee_cost: dollars,
    value: cents.nullable().optional(),
  })
  .transform((s): VenueSettlement => ({
    ticker: s.ticker,
    eventTicker: s.event_ticker,
    marketResult: s.market_result,
    yesCount: s.yes_count_fp,
    noCount: s.no_count_fp,
    yesTotalCost: s.yes_total_cost_dollars,
    noTotalCost: s.no_total_cost_dollars,
    revenue: s.revenue,
    feeCost: s.fee_cost,
    settledAt: new Date(s.settled_time),
    yesPayout: s.value ?? null,
  }));
