import * as z from 'zod';
import { Decimal } from '../domain/decimal';

/**
 * zod schemas for the numbers outside APIs send. Prices arrive as decimal strings ("0.6100") or
 * integer cents; both become exact Decimals. A JS float never carries a price.
 */

const DECIMAL_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** Any decimal string, exactly. */
export const decimalString = z
  .string()
  .refine((v) => DECIMAL_TEXT.test(v.trim()), { message: 'not a decimal number' })
  .transform((v) => new Decimal(v.trim()));

/** A price or probability in dollars, 0..1 inclusive, at most 4 decimals (DECIMAL(10,4)). */
const PRICE_TEXT = /^\d+(\.\d{1,4})?$/;
/** 0..1 with at most 4 decimals, decided on the text (no arithmetic on the hot path). */
const PRICE_IN_RANGE = /^(0+(\.\d{1,4})?|0*1(\.0{1,4})?)$/;
export const dollarPrice = z.string().transform((raw, ctx) => {
  const v = raw.trim();
  if (!PRICE_TEXT.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'not a price with at most 4 decimals' });
    return z.NEVER;
  }
  if (!PRICE_IN_RANGE.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'price is outside 0..1' });
    return z.NEVER;
  }
  return new Decimal(v);
});

/** Integer cents 0..100 (older Kalshi payloads), converted exactly to dollars. */
export const centsPrice = z
  .number()
  .int({ message: 'cents must be a whole number' })
  .min(0, { message: 'price is outside 0..1' })
  .max(100, { message: 'price is outside 0..1' })
  .transform((c) => new Decimal(c).div(100));

/** A non-negative count sent as a fixed-point string ("1234.00") or an integer; whole contracts. */
export const count = z.union([
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  z.string().transform((raw, ctx) => {
    const match = /^(\d+)(\.\d+)?$/.exec(raw.trim());
    if (!match) {
      ctx.addIssue({ code: 'custom', message: 'not a non-negative count' });
      return z.NEVER;
    }
    // Whole contracts: the integer part, exactly (15 digits always fit a safe integer).
    const whole = match[1]!.replace(/^0+(?=\d)/, '');
    const n = whole.length <= 15 ? Number(whole) : Number.POSITIVE_INFINITY;
    if (!Number.isSafeInteger(n)) {
      ctx.addIssue({ code: 'custom', message: 'count is too large' });
      return z.NEVER;
    }
    return n;
  }),
]);

/**
 * Text from outside: PostgreSQL cannot store NUL characters, so a string containing one is
 * rejected here rather than failing the whole batch's write.
 */
export const text = z.string().refine((v) => !v.includes('\u0000'), { message: 'contains a NUL character' });
