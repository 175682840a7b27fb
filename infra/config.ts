import fs from 'node:fs';
import type { Construct } from 'constructs';
import * as z from 'zod';

/**
 * What a deployment is switched to. Each value comes from, first to last: the stack's props
 * (tests), CDK context (`-c key=value`: one deploy), the deploy settings file (checked in:
 * what every plain `npx cdk deploy` deploys), the defaults below. Every value is validated here;
 * a bad one stops the synth with a message naming where it came from and the key.
 */

/** `off`: every schedule rule exists but is disabled; `data`: ingestion + check-health run; `all`: every scheduled function. */
export const SCHEDULE_MODES = ['off', 'data', 'all'] as const;
export type ScheduleMode = (typeof SCHEDULE_MODES)[number];

export const EXECUTION_MODES = ['paper', 'live'] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];

export const KALSHI_ENVS = ['demo', 'production'] as const;
export type KalshiEnv = (typeof KALSHI_ENVS)[number];

export interface PrecogConfig {
  readonly schedules: ScheduleMode;
  readonly executionMode: ExecutionMode;
  /** Required for live trading; optional for paper (then ingestion reads that Kalshi environment's markets). */
  readonly kalshiEnv?: KalshiEnv;
  /** Email address subscribed to the alarm topic (it must confirm the subscription). */
  readonly alarmEmail?: string;
  /** NAT gateways (1 by default; 2 = one per Availability Zone, no single-AZ egress outage). */
  readonly natGateways: number;
  /** RDS instance class without the `db.` prefix (`t4g.small` by default). */
  readonly dbInstanceType: string;
  /** A standby in a second Availability Zone (doubles the instance cost). */
  readonly multiAz: boolean;
  /**
   * One reserved execution for monitor-positions. Off by default: AWS keeps 100 of the account's
   * concurrency unreserved, so an account whose limit is 10 (new accounts) cannot reserve any and
   * the function could not be created. The monitor's advisory lock is the single-runner guarantee.
   */
  readonly reservedConcurrency: boolean;
  /**
   * RDS deletion protection. Off on a first deploy so that a failed creation can roll back (a
   * protected instance cannot be deleted: ROLLBACK_FAILED); switch it on once the stack exists.
   */
  readonly databaseDeletionProtection: boolean;
}

export const CONFIG_KEYS = [
  'schedules', 'executionMode', 'kalshiEnv', 'alarmEmail', 'natGateways', 'dbInstanceType', 'multiAz',
  'reservedConcurrency', 'databaseDeletionProtection',
] as const satisfies ReadonlyArray<keyof PrecogConfig>;

/** The context keys, as typed on the command line (`-c schedules=all`): the same names as the settings file's. */
export const CONTEXT_KEYS = Object.fromEntries(CONFIG_KEYS.map((k) => [k, k])) as { readonly [K in keyof PrecogConfig]-?: K };

/** The context key naming the settings file (cdk.json sets it; `-c precogSettingsFile=…` picks another). */
export const SETTINGS_FILE_CONTEXT_KEY = 'precogSettingsFile';

export const DEFAULT_CONFIG = {
  schedules: 'off',
  executionMode: 'paper',
  natGateways: 1,
  dbInstanceType: 't4g.small',
  multiAz: false,
  reservedConcurrency: false,
  databaseDeletionProtection: false,
} as const satisfies Partial<PrecogConfig>;

/** A deployment setting that cannot be deployed. */
export class PrecogConfigError extends Error {
  override name = 'PrecogConfigError';
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const trimmed = (v: unknown) => (typeof v === 'string' ? v.trim() : v);
/** `-c multiAz=true` arrives as a string; the settings file may say `true`. */
const booleanText = (v: unknown) => (v === 'true' ? true : v === 'false' ? false : v);

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess(trimmed, z.enum(values, { error: (i) => `${JSON.stringify(i.input)} is not one of ${values.join(' | ')}` }));
const flag = z.preprocess(booleanText, z.boolean({ error: (i) => `${JSON.stringify(i.input)} is not true or false` }));

/** One schema per key: the same rules for a context string and a settings-file value. */
const VALUE_SCHEMAS = {
  schedules: oneOf(SCHEDULE_MODES),
  executionMode: oneOf(EXECUTION_MODES),
  kalshiEnv: oneOf(KALSHI_ENVS),
  alarmEmail: z.preprocess(
    trimmed,
    z.string({ error: (i) => `${JSON.stringify(i.input)} is not an email address` })
      .regex(EMAIL, { error: (i) => `${JSON.stringify(i.input)} is not an email address` }),
  ),
  // Every function needs egress (exchanges, Secrets Manager, SQS, EventBridge), so at least one;
  // the VPC spans two Availability Zones, so at most two.
  natGateways: z.preprocess(
    (v) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v),
    z.union([z.literal(1), z.literal(2)], { error: (i) => `${JSON.stringify(i.input)} must be 1 or 2 (the VPC spans two Availability Zones)` }),
  ),
  dbInstanceType: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().replace(/^db\./, '') : v),
    z.string({ error: (i) => `${JSON.stringify(i.input)} is not an instance class such as t4g.small` })
      .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: (i) => `${JSON.stringify(i.input)} is not an instance class such as t4g.small` }),
  ),
  multiAz: flag,
  reservedConcurrency: flag,
  databaseDeletionProtection: flag,
} satisfies Record<keyof PrecogConfig, z.ZodType>;

/**
 * The deploy settings file: every key optional (a missing one takes its default), no other key
 * (a misspelt key would otherwise be ignored silently). `$comment` may hold a note for people.
 */
export const SettingsFileSchema = z
  .object({ $comment: z.string().optional(), ...VALUE_SCHEMAS })
  .partial()
  .strict();
export type DeploySettings = Partial<Record<keyof PrecogConfig, unknown>>;

const issuesText = (source: string, error: z.ZodError) =>
  error.issues
    .map((i) =>
      i.code === 'unrecognized_keys'
        ? `${source}: unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')} (known: ${CONFIG_KEYS.join(', ')})`
        : `${source} ${i.path.join('.')}: ${i.message}`,
    )
    .join('; ');

/** Reads and validates a settings file; the error names the file and the bad key. */
export function loadSettingsFile(file: string): DeploySettings {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new PrecogConfigError(`deploy settings ${file}: cannot be read (${(error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PrecogConfigError(`deploy settings ${file}: not valid JSON (${(error as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new PrecogConfigError(`deploy settings ${file}: must be a JSON object of settings`);
  }
  const parsed = SettingsFileSchema.safeParse(json);
  if (!parsed.success) throw new PrecogConfigError(issuesText(file, parsed.error));
  // The raw values are kept (resolveConfig validates whichever source wins, once).
  const { $comment: _, ...settings } = json as Record<string, unknown>;
  return settings as DeploySettings;
}

export interface ResolvedConfig extends PrecogConfig {
  /** Where each value came from (deploy output and warnings). */
  readonly sources: Readonly<Record<keyof PrecogConfig, 'props' | 'context' | 'settings' | 'default'>>;
}

/**
 * Reads and validates the configuration: props first, then context, then the settings file, then
 * the defaults. `settingsFile` names the file in error messages.
 */
export function resolveConfig(
  scope: Construct,
  props: Partial<PrecogConfig> = {},
  settings: DeploySettings = {},
  settingsFile = 'deploy settings',
): ResolvedConfig {
  const sources = {} as Record<keyof PrecogConfig, 'props' | 'context' | 'settings' | 'default'>;
  const values = {} as Record<keyof PrecogConfig, unknown>;
  for (const key of CONFIG_KEYS) {
    const context: unknown = scope.node.tryGetContext(CONTEXT_KEYS[key]);
    // `-c alarmEmail=` (empty) means unset.
    const contextValue = typeof context === 'string' && context.trim() === '' ? undefined : context;
    const [source, raw, label] =
      props[key] !== undefined ? (['props', props[key], `config ${key}`] as const)
      : contextValue !== undefined ? (['context', contextValue, `context ${key}`] as const)
      : settings[key] !== undefined ? (['settings', settings[key], `${settingsFile} ${key}`] as const)
      : (['default', (DEFAULT_CONFIG as Record<string, unknown>)[key], `default ${key}`] as const);
    sources[key] = source;
    if (raw === undefined) continue;
    const parsed = VALUE_SCHEMAS[key].safeParse(raw);
    if (!parsed.success) throw new PrecogConfigError(`${label}: ${parsed.error.issues[0]!.message}`);
    values[key] = parsed.data;
  }

  const config = { ...values, sources } as ResolvedConfig;
  if (config.executionMode === 'live' && config.kalshiEnv === undefined) {
    // Real orders never rely on a default environment (shared/exchange/factory.ts insists too).
    throw new PrecogConfigError(
      `${sources.executionMode === 'settings' ? settingsFile : 'context'} executionMode=live requires kalshiEnv: add -c kalshiEnv=demo (try live trading on Kalshi demo first) or -c kalshiEnv=production, or set "kalshiEnv" in ${settingsFile}`,
    );
  }
  return config;
}
