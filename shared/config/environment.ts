import type { z } from 'zod';

/** A configuration value that cannot be used; the message names each variable and what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validates environment variables against a schema: the parsed values, or a ConfigError such as
 * "invalid exchange configuration: KALSHI_ENV: live trading needs …; PAPER_BOOK: …".
 */
export function parseEnvironment<S extends z.ZodType>(what: string, schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ConfigError(`invalid ${what} configuration: ${issues.join('; ')}`);
  }
  return parsed.data;
}
