import * as z from 'zod';

/**
 * `trained_through`: the last instant of the data a model version was fitted or calibrated on
 * (an ISO date, "2026-08-31", meaning the end of that UTC day, or an ISO date-time). Optional in
 * every model type's config. A backtest refuses to run the version on a tape that starts before it:
 * the model would be judged on the data it learned from (lookahead through the model).
 */
export const trainedThroughField = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], { message: 'expected an ISO date (2026-08-31) or date-time' })
  .optional();

/** The instant after which the model has seen no data; null when its config does not say. */
export function trainedThroughOf(config: unknown): Date | null {
  const value = (config as { trained_through?: unknown } | null)?.trained_through;
  if (typeof value !== 'string') return null;
  // A date covers the whole UTC day.
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T23:59:59.999Z`) : new Date(value);
}
