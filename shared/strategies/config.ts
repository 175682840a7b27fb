import * as z from 'zod';
import { Decimal } from '../domain/decimal';

/**
 * Strategy configs, validated per strategy type when a version is created (and never changed
 * after). Decimals are written as strings ("0.08"): a JSON number would pass through a float.
 */
const decimalText = (min: string, max: string) =>
  z
    .string({ error: 'write decimals as strings, e.g. "0.08"' })
    .regex(/^-?\d+(\.\d+)?$/, 'not a decimal number')
    .transform((v) => new Decimal(v))
    .refine((d) => d.gte(min) && d.lte(max), { message: `must be between ${min} and ${max}` });

export const ENTRY_KINDS = ['pre_game', 'halftime', 'live', 'settlement'] as const;

export const EntryStrategyConfig = z
  .object({
    /** The model version this strategy trades on. */
    model: z.object({ name: z.string().min(1), version: z.string().regex(/^v\d+\.\d+(\.\d+)?$/) }).strict(),
    kind: z.enum(ENTRY_KINDS),
    /** Kalshi series the strategy trades (default: every series of its sport). */
    series: z.array(z.string().regex(/^[A-Z0-9-]+$/)).min(1).optional(),
    /** Minimum edge (probability − price) to act; default by kind from the trading rules. */
    min_edge: decimalText('0', '1').optional(),
    /** Markets wider than this are skipped. */
    max_spread: decimalText('0', '1').prefault('0.08'),
    /** Whether auto_execute edges are sent to the entry queue (false: edges only). */
    auto_execute: z.boolean().default(true),
    /** Fractional Kelly multiplier; default from the trading rules. */
    kelly_fraction: decimalText('0', '1').optional(),
    /** Free parameters of the entry rule (e.g. min_lead). */
    min_lead: z.number().int().nonnegative().optional(),
    /**
     * How this version's positions exit, where it differs from the trading rules: its own stop
     * loss (a negative P&L fraction, e.g. "-0.10"), or `partial_exits: false` to sell the whole
     * position at the profit target instead of in tranches.
     */
    exits: z
      .object({
        stop_loss_pct: z
          .string({ error: 'write decimals as strings, e.g. "-0.10"' })
          .regex(/^-\d+(\.\d+)?$|^-?0(\.0+)?$/, 'a negative decimal such as "-0.10"')
          .refine((v) => new Decimal(v).gte(-1), { message: 'must be between -1 and 0' })
          .optional(),
        partial_exits: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type EntryStrategyConfig = z.infer<typeof EntryStrategyConfig>;

/** Exit, sizing and hedging strategies are not traded by the scan; their configs stay open. */
const OtherStrategyConfig = z.record(z.string(), z.unknown());

export function parseStrategyConfig(type: string, config: unknown): EntryStrategyConfig | Record<string, unknown> {
  const schema = type === 'entry' ? EntryStrategyConfig : OtherStrategyConfig;
  const parsed = schema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`invalid ${type} strategy config: config.${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
