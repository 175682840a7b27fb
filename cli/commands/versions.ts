import { readFile } from 'node:fs/promises';
import {
  ProbabilityModelRepository, StrategyRepository, type ModelStatus, type ModelType, type NewVersion, type ProbabilityModel,
  type Strategy, type StrategyStatus, type StrategyType,
} from '../../shared/db/repositories/versionedConfigs';
import { validateModelConfig } from '../../shared/models/registry';
import { parseStrategyConfig, type EntryStrategyConfig } from '../../shared/strategies/config';
import { MODEL_TRANSITIONS, STRATEGY_TRANSITIONS, assertTransition } from '../../shared/strategies/lifecycle';
import type { CommandContext } from './context';

/** `--config` is inline JSON or a path to a JSON file. */
export async function readConfig(value: string): Promise<unknown> {
  const text = value.trim().startsWith('{') ? value : await readFile(value, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`--config is not valid JSON: ${(error as Error).message}`);
  }
}

type Kind = 'strategy' | 'model';

function describe(kind: Kind, v: Strategy | ProbabilityModel): Record<string, unknown> {
  const common = { id: v.id, name: v.name, version: v.version, type: v.type, sport: v.sport, status: v.status, config: v.config };
  return kind === 'strategy'
    ? { ...common, paperRoi: (v as Strategy).paperRoi?.toFixed(4) ?? null, paperTrades: (v as Strategy).paperTradesCount }
    : { ...common, accuracy: (v as ProbabilityModel).validationAccuracy?.toFixed(4) ?? null, brier: (v as ProbabilityModel).validationCalibration?.toFixed(4) ?? null };
}

function print(ctx: CommandContext, json: boolean | undefined, kind: Kind, versions: Array<Strategy | ProbabilityModel>) {
  if (json) {
    ctx.out(JSON.stringify(versions.map((v) => describe(kind, v))));
    return;
  }
  for (const v of versions) ctx.out(`${v.name.padEnd(24)} ${v.version.padEnd(8)} ${v.type.padEnd(10)} ${String(v.sport ?? '-').padEnd(6)} ${v.status}`);
  if (versions.length === 0) ctx.out(`no ${kind} versions`);
}

interface NewVersionArgs<TType> {
  name: string;
  version: string;
  type: TType;
  sport?: string;
  config: unknown;
  description?: string;
  createdBy?: string;
  json?: boolean;
}

/** The shared part of creating a version: refuse a duplicate, store the validated config as given. */
async function createVersion<TType extends string, V extends Strategy | ProbabilityModel>(
  ctx: CommandContext,
  kind: Kind,
  repo: { get(name: string, version: string): Promise<V | undefined>; create(v: NewVersion<TType, never>): Promise<V> },
  args: NewVersionArgs<TType>,
): Promise<V> {
  if (await repo.get(args.name, args.version)) {
    throw new Error(`${kind} ${args.name} ${args.version} already exists: versions are immutable, create a new version`);
  }
  // The config is stored as given (decimals as strings), after validation by the caller.
  const created = await repo.create({
    name: args.name, version: args.version, type: args.type, sport: args.sport ?? null, config: args.config as Record<string, unknown>,
    description: args.description ?? null, createdBy: args.createdBy ?? 'precog cli',
  });
  print(ctx, args.json, kind, [created]);
  return created;
}

export async function createStrategy(ctx: CommandContext, args: NewVersionArgs<StrategyType>): Promise<Strategy> {
  const config = parseStrategyConfig(args.type, args.config);
  if (args.type === 'entry') {
    const { model } = config as EntryStrategyConfig;
    if (!(await new ProbabilityModelRepository(ctx.pool).get(model.name, model.version))) {
      throw new Error(`invalid entry strategy config: config.model: model ${model.name} ${model.version} does not exist`);
    }
  }
  return createVersion(ctx, 'strategy', new StrategyRepository(ctx.pool), args);
}

export async function createModel(ctx: CommandContext, args: NewVersionArgs<ModelType>): Promise<ProbabilityModel> {
  validateModelConfig(args.type, args.config);
  return createVersion(ctx, 'model', new ProbabilityModelRepository(ctx.pool), args);
}

/** Moves a version to a new status, refusing illegal jumps (and a concurrent change). */
export async function setStatus(
  ctx: CommandContext,
  args: { kind: Kind; name: string; version: string; status: string; json?: boolean },
): Promise<Strategy | ProbabilityModel> {
  const table = args.kind === 'strategy'
    ? { repo: new StrategyRepository(ctx.pool), transitions: STRATEGY_TRANSITIONS as Record<string, readonly string[]>, sql: ['strategies', 'strategy_id'] }
    : { repo: new ProbabilityModelRepository(ctx.pool), transitions: MODEL_TRANSITIONS as Record<string, readonly string[]>, sql: ['probability_models', 'model_id'] };
  if (!(args.status in table.transitions)) {
    throw new Error(`unknown ${args.kind} status ${args.status} (one of ${Object.keys(table.transitions).join(', ')})`);
  }
  const current = await table.repo.get(args.name, args.version);
  if (!current) throw new Error(`${args.kind} ${args.name} ${args.version} does not exist`);
  assertTransition(`${args.kind} ${args.name} ${args.version}`, table.transitions, current.status, args.status);
  const { rowCount } = await ctx.pool.query(
    `UPDATE ${table.sql[0]} SET status = $2 WHERE ${table.sql[1]} = $1 AND status = $3`,
    [current.id, args.status, current.status],
  );
  if (rowCount !== 1) throw new Error(`${args.kind} ${args.name} ${args.version} changed status meanwhile; try again`);
  const updated = (await table.repo.getById(current.id))!;
  print(ctx, args.json, args.kind, [updated]);
  return updated;
}

export async function listVersions(
  ctx: CommandContext,
  args: { kind: Kind; name?: string; status?: string; json?: boolean },
): Promise<Array<Strategy | ProbabilityModel>> {
  const list = args.kind === 'strategy'
    ? await new StrategyRepository(ctx.pool).list({ name: args.name, status: args.status as StrategyStatus | undefined })
    : await new ProbabilityModelRepository(ctx.pool).list({ name: args.name, status: args.status as ModelStatus | undefined });
  print(ctx, args.json, args.kind, list);
  return list;
}
