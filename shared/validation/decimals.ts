import { z } from 'zod';
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
export const dollarPrice = z
  .string()
  .refine((v) => /^\d+(\.\d{1,4})?$/.test(v.trim()), { message: 'not a price with at most 4 decimals' })
  .transform((v) => new Decimal(v.trim()))
  .refine((d) => d.lte(1), { message: 'price is outside 0..1' });

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
  z
    .string()
    .refine((v) => /^\d+(\.\d+)?$/.test(v.trim()), { message: 'not a non-negative count' })
    .transform((v) => new Decimal(v.trim()).floor())
    .refine((d) => d.lte(Number.MAX_SAFE_INTEGER), { message: 'count is too large' })
    .transform((d) => d.toNumber()),
]);

/**
 * Text from outside: PostgreSQL cannot store NUL characters, so a string containing one is
 * rejected here rather than failing the whole batch's write.
 */
export const text = z.string().refine((v) => !v.includes('\u0000'), { message: 'contains a NUL character' });
