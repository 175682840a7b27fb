import type { Construct } from 'constructs';

/**
 * What a deployment is switched to, from CDK context (`-c key=value` or cdk.json) or, in tests,
 * from the stack's props (props win). Every value is validated here; a bad one stops the synth
 * with a message naming the context key and the accepted values.
 */

/** `off`: no schedule (a newcomer's default); `data`: ingestion + check-health; `all`: every scheduled function. */
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
}

/** The context keys, as typed on the command line (`-c schedules=all`). */
export const CONTEXT_KEYS = {
  schedules: 'schedules',
  executionMode: 'executionMode',
  kalshiEnv: 'kalshiEnv',
  alarmEmail: 'alarmEmail',
  natGateways: 'natGateways',
  dbInstanceType: 'dbInstanceType',
  multiAz: 'multiAz',
} as const satisfies Record<keyof PrecogConfig, string>;

export const DEFAULT_CONFIG = {
  schedules: 'off',
  executionMode: 'paper',
  natGateways: 1,
  dbInstanceType: 't4g.small',
  multiAz: false,
} as const satisfies Partial<PrecogConfig>;

/** A deployment setting that cannot be deployed. */
export class PrecogConfigError extends Error {
  override name = 'PrecogConfigError';
}

const oneOf = <T extends string>(key: string, allowed: readonly T[], value: unknown): T => {
  const text = typeof value === 'string' ? value.trim() : value;
  if (typeof text === 'string' && (allowed as readonly string[]).includes(text)) return text as T;
  throw new PrecogConfigError(`context ${key}: ${JSON.stringify(value)} is not one of ${allowed.join(' | ')}`);
};

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Reads and validates the configuration: props first, then context, then the defaults. */
export function resolveConfig(scope: Construct, props: Partial<PrecogConfig> = {}): PrecogConfig {
  const raw = (key: keyof PrecogConfig): unknown => {
    if (props[key] !== undefined) return props[key];
    const value: unknown = scope.node.tryGetContext(CONTEXT_KEYS[key]);
    // `-c alarmEmail=` (empty) means unset.
    return typeof value === 'string' && value.trim() === '' ? undefined : value;
  };

  const schedules = oneOf(CONTEXT_KEYS.schedules, SCHEDULE_MODES, raw('schedules') ?? DEFAULT_CONFIG.schedules);
  const executionMode = oneOf(CONTEXT_KEYS.executionMode, EXECUTION_MODES, raw('executionMode') ?? DEFAULT_CONFIG.executionMode);
  const kalshiRaw = raw('kalshiEnv');
  const kalshiEnv = kalshiRaw === undefined ? undefined : oneOf(CONTEXT_KEYS.kalshiEnv, KALSHI_ENVS, kalshiRaw);
  if (executionMode === 'live' && kalshiEnv === undefined) {
    // Real orders never rely on a default environment (shared/exchange/factory.ts insists too).
    throw new PrecogConfigError(
      'context executionMode=live requires kalshiEnv: add -c kalshiEnv=demo (try live trading on Kalshi demo first) or -c kalshiEnv=production',
    );
  }

  const emailRaw = raw('alarmEmail');
  let alarmEmail: string | undefined;
  if (emailRaw !== undefined) {
    if (typeof emailRaw !== 'string' || !EMAIL.test(emailRaw.trim())) {
      throw new PrecogConfigError(`context alarmEmail: ${JSON.stringify(emailRaw)} is not an email address`);
    }
    alarmEmail = emailRaw.trim();
  }

  const natRaw = raw('natGateways') ?? DEFAULT_CONFIG.natGateways;
  const natGateways = typeof natRaw === 'string' && /^\d+$/.test(natRaw.trim()) ? Number(natRaw) : natRaw;
  if (natGateways !== 1 && natGateways !== 2) {
    // Every function needs egress (exchanges, Secrets Manager, SQS, EventBridge), so at least one;
    // the VPC spans two Availability Zones, so at most two.
    throw new PrecogConfigError(`context natGateways: ${JSON.stringify(natRaw)} must be 1 or 2 (the VPC spans two Availability Zones)`);
  }

  const typeRaw = raw('dbInstanceType') ?? DEFAULT_CONFIG.dbInstanceType;
  if (typeof typeRaw !== 'string' || !/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(typeRaw.trim().replace(/^db\./, ''))) {
    throw new PrecogConfigError(`context dbInstanceType: ${JSON.stringify(typeRaw)} is not an instance class such as t4g.small`);
  }
  const dbInstanceType = typeRaw.trim().replace(/^db\./, '');

  const multiRaw = raw('multiAz') ?? DEFAULT_CONFIG.multiAz;
  if (multiRaw !== true && multiRaw !== false && multiRaw !== 'true' && multiRaw !== 'false') {
    throw new PrecogConfigError(`context multiAz: ${JSON.stringify(multiRaw)} is not true or false`);
  }
  const multiAz = multiRaw === true || multiRaw === 'true';

  return { schedules, executionMode, kalshiEnv, alarmEmail, natGateways, dbInstanceType, multiAz };
}
