import * as z from 'zod';
import { ConfigError, parseEnvironment } from '../config/environment';

/**
 * The storage plan of the schema document (database-schema-v1.5.md, "Archival Strategy"): hot in
 * PostgreSQL for 18 months, warm to 42 months, cold (S3 Parquet) after, 10 years in all.
 *
 * Precog keeps in PostgreSQL only the hot window: archive-partitions moves every time partition
 * older than it to the archive (Parquet) and drops it. Warm and retention are the archive's tiers
 * in S3 (the bucket's lifecycle rules move objects to a colder storage class after `warmMonths`
 * and expire them after `retentionYears`); the function validates them with the hot window and
 * reports them, it never moves or deletes an archived object itself.
 */
export const ARCHIVE_TIER_DEFAULTS = Object.freeze({ hotMonths: 18, warmMonths: 42, retentionYears: 10 });

const positiveInt = (what: string) =>
  z.coerce.number({ message: `${what} must be a whole number` }).int(`${what} must be a whole number`).positive(`${what} must be at least 1`);

export const ArchiveTiers = z
  .object({
    hotMonths: positiveInt('the hot window (months)').default(ARCHIVE_TIER_DEFAULTS.hotMonths),
    warmMonths: positiveInt('the warm window (months)').default(ARCHIVE_TIER_DEFAULTS.warmMonths),
    retentionYears: positiveInt('the retention (years)').default(ARCHIVE_TIER_DEFAULTS.retentionYears),
  })
  .superRefine((t, ctx) => {
    if (t.warmMonths <= t.hotMonths) {
      ctx.addIssue({ code: 'custom', path: ['warmMonths'], message: `the warm window (${t.warmMonths} months) must end after the hot window (${t.hotMonths} months)` });
    }
    if (t.retentionYears * 12 <= t.warmMonths) {
      ctx.addIssue({ code: 'custom', path: ['retentionYears'], message: `the retention (${t.retentionYears} years) must end after the warm window (${t.warmMonths} months)` });
    }
  });
export type ArchiveTiers = z.infer<typeof ArchiveTiers>;

/** Where the archive lives: an S3 bucket (deployed) or a directory (locally). */
export type ArchiveLocation = { kind: 's3'; bucket: string; prefix: string } | { kind: 'directory'; dir: string };

export interface ArchiveConfig {
  tiers: ArchiveTiers;
  location: ArchiveLocation;
}

/** The archive's prefix in the bucket when ARCHIVE_PREFIX is not set: objects are `archive/<table>/<YYYY-MM>.parquet`. */
export const DEFAULT_ARCHIVE_PREFIX = 'archive/';

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const ArchiveEnv = z
  .object({
    ARCHIVE_HOT_MONTHS: z.preprocess(blankToUndefined, z.string().optional()),
    ARCHIVE_WARM_MONTHS: z.preprocess(blankToUndefined, z.string().optional()),
    ARCHIVE_RETENTION_YEARS: z.preprocess(blankToUndefined, z.string().optional()),
    ARCHIVE_BUCKET: z.preprocess(blankToUndefined, z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not an S3 bucket name').optional()),
    ARCHIVE_PREFIX: z.preprocess(
      blankToUndefined,
      z.string().regex(/^([A-Za-z0-9!_.*'()-]+\/)+$/, 'a key prefix ending in "/" such as archive/').optional(),
    ),
    ARCHIVE_DIR: z.preprocess(blankToUndefined, z.string().optional()),
  })
  .superRefine((env, ctx) => {
    if (env.ARCHIVE_BUCKET !== undefined && env.ARCHIVE_DIR !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['ARCHIVE_DIR'], message: 'set either ARCHIVE_BUCKET (S3) or ARCHIVE_DIR (a directory), not both' });
    }
    if (env.ARCHIVE_BUCKET === undefined && env.ARCHIVE_DIR === undefined) {
      ctx.addIssue({ code: 'custom', path: ['ARCHIVE_BUCKET'], message: 'required: the archive bucket (or ARCHIVE_DIR for a directory)' });
    }
    if (env.ARCHIVE_PREFIX !== undefined && env.ARCHIVE_BUCKET === undefined) {
      ctx.addIssue({ code: 'custom', path: ['ARCHIVE_PREFIX'], message: 'only applies with ARCHIVE_BUCKET' });
    }
  });

/** Tiers from explicit values (CLI, tests): a ConfigError naming each bad field. */
export function parseArchiveTiers(input: Partial<Record<keyof ArchiveTiers, unknown>>): ArchiveTiers {
  return parseEnvironment('archive tiers', ArchiveTiers, input as NodeJS.ProcessEnv);
}

/**
 * The archive-partitions configuration from the environment: ARCHIVE_BUCKET [+ ARCHIVE_PREFIX]
 * or ARCHIVE_DIR, and ARCHIVE_HOT_MONTHS / ARCHIVE_WARM_MONTHS / ARCHIVE_RETENTION_YEARS (the
 * schema document's defaults when unset). A ConfigError names every variable that is wrong.
 */
export function archiveConfigFromEnv(env: NodeJS.ProcessEnv): ArchiveConfig {
  const raw = parseEnvironment('archive', ArchiveEnv, env);
  const tiersParsed = ArchiveTiers.safeParse({
    hotMonths: raw.ARCHIVE_HOT_MONTHS,
    warmMonths: raw.ARCHIVE_WARM_MONTHS,
    retentionYears: raw.ARCHIVE_RETENTION_YEARS,
  });
  if (!tiersParsed.success) {
    const envName: Record<string, string> = { hotMonths: 'ARCHIVE_HOT_MONTHS', warmMonths: 'ARCHIVE_WARM_MONTHS', retentionYears: 'ARCHIVE_RETENTION_YEARS' };
    const issues = tiersParsed.error.issues.map((i) => `${envName[String(i.path[0])] ?? 'environment'}: ${i.message}`);
    throw new ConfigError(`invalid archive configuration: ${issues.join('; ')}`);
  }
  const location: ArchiveLocation = raw.ARCHIVE_BUCKET !== undefined
    ? { kind: 's3', bucket: raw.ARCHIVE_BUCKET, prefix: raw.ARCHIVE_PREFIX ?? DEFAULT_ARCHIVE_PREFIX }
    : { kind: 'directory', dir: raw.ARCHIVE_DIR! };
  return { tiers: tiersParsed.data, location };
}
