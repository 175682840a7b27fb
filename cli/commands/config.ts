import { userInfo } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { now } from '../../shared/clock/clock';
import { ConfigError } from '../../shared/config/environment';
import { Decimal } from '../../shared/domain/decimal';
import {
  OVERRIDABLE_KEYS,
  environmentOverrides,
  formatRuleValue,
  isOverridableKey,
  overridableKey,
  parseOverride,
  readStoredOverrides,
  resolveTradingRules,
  ruleValue,
  ruleValueToJson,
  validateStoredOverride,
  type AppliedOverride,
  type ResolvedTradingRules,
  type RuleValue,
  type StoredOverride,
} from '../../shared/config/overrides';
import type { CommandContext } from './context';
import { UsageError } from './usage';

/**
 * `precog config …`: runtime overrides of the trading rules (shared/config/overrides.ts). Values
 * in force: code defaults < `PRECOG_RULE__…` environment < active, unexpired `config_overrides`
 * rows (latest wins). Rows are never deleted: `unset` deactivates them, expiry ends them.
 */

interface ConfigOptions {
  /** The environment of the invocation (its PRECOG_RULE__ variables are a layer). */
  env: NodeJS.ProcessEnv;
  json?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Option parsers (commander: a thrown InvalidArgumentError is a usage error, exit 2).

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** `--expires`: an ISO 8601 time with Z or an offset, or a date (midnight UTC); in the future. */
export function parseExpires(value: string, at: Date = now()): Date {
  const match = ISO_TIME.exec(value.trim());
  const [, y, m, d] = match ?? [];
  const day = match ? new Date(Date.UTC(Number(y), Number(m) - 1, Number(d))) : undefined;
  const time = new Date(value.trim());
  if (!match || !day || day.getUTCMonth() !== Number(m) - 1 || day.getUTCDate() !== Number(d) || Number.isNaN(time.getTime())) {
    throw new InvalidArgumentError('expected an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z, or a date (midnight UTC).');
  }
  if (time.getTime() <= at.getTime()) throw new InvalidArgumentError(`${time.toISOString()} is not in the future.`);
  return time;
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--expires-in`: a duration such as 90m, 2h, 7d or 1h30m (units s, m, h, d, w), from now. */
export function parseExpiresIn(value: string, at: Date = now()): Date {
  const text = value.trim().toLowerCase();
  if (!/^(\d+[smhdw])+$/.test(text)) throw new InvalidArgumentError('expected a duration like 90m, 2h, 7d or 1h30m.');
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([smhdw])/g)) ms += Number(amount) * UNIT_MS[unit!]!;
  if (ms <= 0 || !Number.isSafeInteger(ms) || ms > 100 * 365 * UNIT_MS.d!) throw new InvalidArgumentError('expected a positive duration of at most 100 years.');
  return new Date(at.getTime() + ms);
}

/** `--reason`, `--by`: not blank. */
export function nonBlank(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must not be empty.');
  return value.trim();
}

/** The OS user, for applied_by when `--by` is not given. */
export function operatorName(env: NodeJS.ProcessEnv): string {
  try {
    const name = userInfo().username;
    if (name) return name;
  } catch {
    // no passwd entry (some containers): fall back to the environment
  }
  return env.USER ?? env.USERNAME ?? 'unknown';
}

// ---------------------------------------------------------------------------------------------
// Describing where a value comes from.

type Source = 'default' | 'env' | 'override';

interface Layer {
  key: string;
  value: RuleValue;
  source: Source;
  applied?: AppliedOverride;
}

function effective(resolved: ResolvedTradingRules, key: string): Layer {
  const applied = resolved.applied.find((a) => a.key === key);
  return { key, value: ruleValue(resolved.rules, key), source: applied?.source ?? 'default', applied };
}

function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}

function sourceText(layer: Layer): string {
  if (layer.source === 'env') return `environment ${layer.applied?.variable}`;
  if (layer.source === 'override') return `override #${layer.applied?.overrideId}`;
  return 'default';
}

function layerJson(layer: Layer): Record<string, unknown> {
  return {
    value: ruleValueToJson(layer.value),
    source: layer.source,
    ...(layer.source === 'env' ? { variable: layer.applied?.variable } : {}),
    ...(layer.source === 'override' ? { overrideId: layer.applied?.overrideId } : {}),
  };
}

function overrideJson(a: AppliedOverride): Record<string, unknown> {
  return { id: a.overrideId, reason: a.reason ?? null, appliedBy: a.appliedBy ?? null, appliedAt: iso(a.appliedAt), expiresAt: iso(a.expiresAt) };
}

function overrideDetails(a: AppliedOverride): string {
  return `by ${a.appliedBy ?? '?'} at ${iso(a.appliedAt)}, ${a.expiresAt ? `expires ${iso(a.expiresAt)}` : 'no expiry'}; reason: ${a.reason ?? '(none)'}`;
}

function printWarnings(ctx: CommandContext, warnings: readonly string[]): void {
  for (const w of warnings) ctx.out(`warning: ${w}`);
}

// ---------------------------------------------------------------------------------------------
// Validation of a value to set.

/** A bad key or value given on the command line is a usage error (exit 2); the message names it. */
function asUsageError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * Rules bounded by another rule: [lower, upper] means lower ≤ upper must hold among the values in
 * effect. A value that breaks one is refused with its allowed range (the other rule's value in
 * effect names the bound), e.g. sizing.min_position_usd above sizing.max_position_usd.
 */
export const RULE_ORDER: ReadonlyArray<readonly [lower: string, upper: string]> = [
  ['sizing.min_position_usd', 'sizing.max_position_usd'],
  ['sizing.max_position_usd', 'sizing.max_exposure_per_event_usd'],
  ['sizing.max_exposure_per_event_usd', 'sizing.max_total_exposure_usd'],
  ['sizing.max_positions_per_event', 'sizing.max_open_positions'],
  ['confidence.medium.min_sample_size', 'confidence.high.min_sample_size'],
  ['exits.trailing_stop.min_distance', 'exits.trailing_stop.initial_distance'],
  ['monitor.urgent_interval_seconds', 'monitor.interval_seconds'],
];

const asDecimal = (value: RuleValue): Decimal => new Decimal(formatRuleValue(value));

function checkAgainstRelatedRules(resolved: ResolvedTradingRules, parsed: { key: string; value: RuleValue }, raw: string): void {
  const bounds: Array<{ bound: Decimal; side: 'min' | 'max'; by: Layer }> = [];
  for (const [lower, upper] of RULE_ORDER) {
    if (lower === parsed.key) bounds.push({ bound: asDecimal(ruleValue(resolved.rules, upper)), side: 'max', by: effective(resolved, upper) });
    if (upper === parsed.key) bounds.push({ bound: asDecimal(ruleValue(resolved.rules, lower)), side: 'min', by: effective(resolved, lower) });
  }
  if (bounds.length === 0) return; // a rule no other rule bounds (booleans, strings, JSON among them)
  const value = asDecimal(parsed.value);
  const spec = overridableKey(parsed.key);
  const broken = bounds.filter((b) => (b.side === 'max' ? value.gt(b.bound) : value.lt(b.bound)));
  if (broken.length === 0) return;
  // The allowed range: the key's own range narrowed by every related rule in effect.
  const staticMin = /from (-?[\d.]+) to/.exec(spec.expects)?.[1] ?? (/non-negative|positive/.test(spec.expects) ? (spec.expects.includes('positive whole') ? '1' : '0') : undefined);
  const staticMax = /to (-?[\d.]+)$/.exec(spec.expects)?.[1];
  let min = staticMin === undefined ? undefined : new Decimal(staticMin);
  let max = staticMax === undefined ? undefined : new Decimal(staticMax);
  for (const b of bounds) {
    if (b.side === 'max' && (max === undefined || b.bound.lt(max))) max = b.bound;
    if (b.side === 'min' && (min === undefined || b.bound.gt(min))) min = b.bound;
  }
  const range = min !== undefined && max !== undefined ? `from ${min.toFixed()} to ${max.toFixed()}` : max !== undefined ? `at most ${max.toFixed()}` : `at least ${min!.toFixed()}`;
  const reasons = broken.map((b) => `${b.side === 'max' ? 'at most' : 'at least'} ${b.by.key}, ${formatRuleValue(b.by.value)} in effect (${sourceText(b.by)})`);
  throw new UsageError(`${parsed.key} expects a value ${range}: ${reasons.join('; ')}; got ${JSON.stringify(raw)}`);
}

// ---------------------------------------------------------------------------------------------
// The commands.

/** `precog config set KEY VALUE --reason …`: validates, then inserts one override row. */
export async function configSet(
  ctx: CommandContext,
  options: ConfigOptions & { key: string; value: string; reason: string; expiresAt?: Date; by?: string },
): Promise<void> {
  const parsed = asUsageError(() => parseOverride(options.key, options.value)); // an unknown key or a bad value: nothing is written
  const current = await resolveTradingRules(ctx.pool, options.env);
  checkAgainstRelatedRules(current, parsed, options.value);
  const before = effective(current, parsed.key);
  const appliedBy = options.by ?? operatorName(options.env);
  const { rows } = await ctx.pool.query(
    `INSERT INTO config_overrides (config_key, override_value, data_type, reason, applied_by, expires_at)
     VALUES ($1, $2::jsonb, $3, $4, $5, $6)
     RETURNING override_id, applied_at, expires_at`,
    [parsed.key, JSON.stringify({ value: ruleValueToJson(parsed.value) }), parsed.dataType, options.reason, appliedBy, options.expiresAt ?? null],
  );
  const row = rows[0] as { override_id: number; applied_at: Date; expires_at: Date | null };
  const resolved = await resolveTradingRules(ctx.pool, options.env);
  const after = effective(resolved, parsed.key);
  const override = { id: Number(row.override_id), reason: options.reason, appliedBy, appliedAt: iso(row.applied_at), expiresAt: iso(row.expires_at) };
  if (options.json) {
    ctx.out(JSON.stringify({
      key: parsed.key,
      dataType: parsed.dataType,
      value: ruleValueToJson(parsed.value),
      previous: layerJson(before),
      effective: layerJson(after),
      override,
      warnings: resolved.warnings,
    }));
    return;
  }
  ctx.out(`${parsed.key}: ${formatRuleValue(before.value)} (${sourceText(before)}) → ${formatRuleValue(parsed.value)} (override #${override.id})`);
  ctx.out(`  by ${appliedBy}, ${override.expiresAt ? `expires ${override.expiresAt}` : 'no expiry'}; reason: ${options.reason}`);
  if (after.applied?.overrideId !== override.id) ctx.out(`  in effect: ${formatRuleValue(after.value)} (${sourceText(after)})`);
  printWarnings(ctx, resolved.warnings);
}

/** `precog config get KEY`: the value in effect and where it comes from. */
export async function configGet(ctx: CommandContext, options: ConfigOptions & { key: string }): Promise<void> {
  const spec = asUsageError(() => overridableKey(options.key));
  const resolved = await resolveTradingRules(ctx.pool, options.env);
  const layer = effective(resolved, spec.key);
  const fromEnv = environmentOverrides(options.env).find((o) => o.key === spec.key);
  if (options.json) {
    ctx.out(JSON.stringify({
      key: spec.key,
      dataType: spec.dataType,
      expects: spec.expects,
      ...layerJson(layer),
      default: ruleValueToJson(spec.defaultValue),
      ...(layer.source === 'override' && layer.applied ? { override: overrideJson(layer.applied) } : {}),
      env: fromEnv ? { variable: fromEnv.variable, value: ruleValueToJson(fromEnv.value) } : null,
      warnings: resolved.warnings,
    }));
    return;
  }
  ctx.out(`${spec.key} = ${formatRuleValue(layer.value)}`);
  ctx.out(`  source: ${sourceText(layer)}${layer.source === 'override' && layer.applied ? ` ${overrideDetails(layer.applied)}` : ''}`);
  if (fromEnv && layer.source !== 'env') ctx.out(`  environment: ${fromEnv.variable}=${formatRuleValue(fromEnv.value)} (overridden)`);
  ctx.out(`  default: ${formatRuleValue(spec.defaultValue)}`);
  ctx.out(`  type: ${spec.dataType}, ${spec.expects}`);
  printWarnings(ctx, resolved.warnings.filter((w) => w.includes(`(${spec.key})`)));
}

export type OverrideStatus = 'in_effect' | 'superseded' | 'invalid' | 'expired' | 'inactive';

/** Each row with its status: the latest valid row in force of a key is in effect, older ones superseded. */
function classify(rows: readonly StoredOverride[]): Array<{ row: StoredOverride; status: OverrideStatus; value?: RuleValue; problem?: string }> {
  const result = rows.map((row) => {
    const checked = validateStoredOverride(row);
    if (!row.active) return { row, status: 'inactive' as OverrideStatus, ...(checked.ok ? { value: checked.value } : {}) };
    if (row.expired) return { row, status: 'expired' as OverrideStatus, ...(checked.ok ? { value: checked.value } : {}) };
    if (!checked.ok) return { row, status: 'invalid' as OverrideStatus, problem: checked.problem };
    return { row, status: 'superseded' as OverrideStatus, value: checked.value };
  });
  const winners = new Map<string, (typeof result)[number]>();
  for (const r of result) if (r.status === 'superseded') winners.set(r.row.key, r); // rows come in applied order: the last wins
  for (const r of winners.values()) r.status = 'in_effect';
  return result;
}

/** `precog config list`: overrides in force (with `all`: also expired and deactivated ones), newest first. */
export async function configList(ctx: CommandContext, options: ConfigOptions & { all?: boolean }): Promise<void> {
  const rows = classify(await readStoredOverrides(ctx.pool, { all: options.all })).reverse();
  if (options.json) {
    ctx.out(JSON.stringify(rows.map(({ row, status, value, problem }) => ({
      id: row.id,
      key: row.key,
      dataType: row.dataType,
      value: value === undefined ? ((row.storedValue as { value?: unknown } | null)?.value ?? null) : ruleValueToJson(value),
      status,
      active: row.active,
      reason: row.reason,
      appliedBy: row.appliedBy,
      appliedAt: iso(row.appliedAt),
      expiresAt: iso(row.expiresAt),
      ...(problem ? { problem } : {}),
    }))));
    return;
  }
  if (rows.length === 0) ctx.out(options.all ? 'no overrides recorded' : 'no overrides in force (every rule has its default or environment value)');
  for (const { row, status, value, problem } of rows) {
    const shown = value === undefined ? JSON.stringify((row.storedValue as { value?: unknown } | null)?.value ?? row.storedValue) : formatRuleValue(value);
    ctx.out(`#${row.id} ${row.key} = ${shown} [${status.replace('_', ' ')}] by ${row.appliedBy ?? '?'} at ${iso(row.appliedAt)}`
      + `${row.expiresAt ? ` expires ${iso(row.expiresAt)}` : ''} — ${row.reason ?? '(no reason)'}${problem ? ` (${problem})` : ''}`);
  }
}

/** `precog config keys`: every overridable key with its type, what it accepts and its default. */
export function configKeys(out: (line: string) => void, options: { json?: boolean }): void {
  if (options.json) {
    out(JSON.stringify(OVERRIDABLE_KEYS.map((k) => ({
      key: k.key,
      dataType: k.dataType,
      default: ruleValueToJson(k.defaultValue),
      expects: k.expects,
      ...(k.allowed ? { allowed: k.allowed } : {}),
      envVar: k.envVar,
    }))));
    return;
  }
  const width = Math.max(...OVERRIDABLE_KEYS.map((k) => k.key.length));
  for (const k of OVERRIDABLE_KEYS) out(`${k.key.padEnd(width)}  ${k.dataType.padEnd(7)}  ${formatRuleValue(k.defaultValue)}  (${k.expects})`);
  out(`${OVERRIDABLE_KEYS.length} keys; environment: PRECOG_RULE__<KEY> with dots as __, e.g. ${OVERRIDABLE_KEYS[0]?.envVar}`);
}

/**
 * `precog config unset KEY --reason …`: deactivates the key's overrides in force (rows are kept:
 * active = false, the reason appended). A key no longer known can still be unset when rows of it
 * remain (left over from an earlier release).
 */
export async function configUnset(
  ctx: CommandContext,
  options: ConfigOptions & { key: string; reason: string; by?: string },
): Promise<void> {
  const known = isOverridableKey(options.key);
  if (known) environmentOverrides(options.env); // a broken environment fails before anything is written
  const by = options.by ?? operatorName(options.env);
  const note = `[unset by ${by} at ${now().toISOString()}: ${options.reason}]`;
  const { rows } = await ctx.pool.query(
    `UPDATE config_overrides SET active = FALSE, reason = concat_ws(' ', reason, $2::text)
     WHERE config_key = $1 AND active AND (expires_at IS NULL OR expires_at > precog_now())
     RETURNING override_id`,
    [options.key, note],
  );
  const ids = rows.map((r: { override_id: number }) => Number(r.override_id)).sort((a, b) => a - b);
  if (!known && ids.length === 0) asUsageError(() => overridableKey(options.key)); // throws: unknown key, with suggestions
  const after = known ? effective(await resolveTradingRules(ctx.pool, options.env), options.key) : undefined;
  if (options.json) {
    ctx.out(JSON.stringify({ key: options.key, deactivated: ids, ...(after ? { effective: layerJson(after) } : {}) }));
    return;
  }
  ctx.out(ids.length === 0
    ? `${options.key}: no override in force, nothing to unset`
    : `${options.key}: deactivated override${ids.length > 1 ? 's' : ''} ${ids.map((id) => `#${id}`).join(', ')}`);
  if (after) ctx.out(`  in effect: ${formatRuleValue(after.value)} (${sourceText(after)})`);
}
