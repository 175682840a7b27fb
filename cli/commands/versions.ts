import {
  ProbabilityModelRepository, StrategyRepository, type ModelStatus, type ModelType, type NewVersion, type ProbabilityModel,
  type Strategy, type StrategyStatus, type StrategyType,
} from '../../shared/db/repositories/versionedConfigs';
import { ModelConfigError, UnsupportedModelTypeError, validateModelConfig } from '../../shared/models/registry';
import { EntryStrategyConfig, parseStrategyConfig } from '../../shared/strategies/config';
import { MODEL_TRANSITIONS, STRATEGY_TRANSITIONS, assertTransition } from '../../shared/strategies/lifecycle';
import { Decimal } from '../../shared/domain/decimal';
import { labelled, pct, table, time, usd } from '../format';
import type { CommandContext } from './context';
import { UsageError, readInputFile } from './usage';

/** `--config` is inline JSON or a path to a JSON file; unreadable or not JSON is a usage error. */
export async function readConfig(value: string): Promise<unknown> {
  const inline = value.trim().startsWith('{');
  const text = inline ? value : await readInputFile(value, '--config file');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config${inline ? '' : ` file ${value}`} is not valid JSON: ${(error as Error).message}`);
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
  if (versions.length === 0) {
    ctx.out(`no ${kind} versions`);
    return;
  }
  for (const line of table(versions, [
    { header: 'NAME', cell: (v) => v.name },
    { header: 'VERSION', cell: (v) => v.version },
    { header: 'TYPE', cell: (v) => v.type },
    { header: 'SPORT', cell: (v) => v.sport ?? '-' },
    { header: 'STATUS', cell: (v) => v.status },
    { header: 'CREATED', cell: (v) => time(v.createdAt) },
  ])) ctx.out(line);
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

/** The value at a zod issue path of the given config, for the message ("got …"). */
function valueAt(config: unknown, path: readonly PropertyKey[]): unknown {
  let node = config;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** Every problem of an entry strategy's config, each naming its field (`config.min_edge: …`). */
function entryConfigIssues(config: unknown): { issues: string[]; parsed?: EntryStrategyConfig } {
  const parsed = EntryStrategyConfig.safeParse(config);
  if (parsed.success) return { issues: [], parsed: parsed.data };
  return {
    issues: parsed.error.issues.flatMap((issue) => {
      const path = ['config', ...issue.path.map(String)].join('.');
      if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${path}.${k}: unknown field`);
      const got = valueAt(config, issue.path);
      const message = issue.message.replace(/^Invalid input: /, '');
      return [`${path}: ${got === undefined ? message.replace(/, received undefined$/, '') + ' (missing)' : `${message} (got ${JSON.stringify(got)})`}`];
    }),
  };
}

/**
 * The sport a model covers: its own sport column, or for a sports matrix the matrix's subcategory
 * (the matrix model applies a `sports/<sport>` matrix to that sport's games only).
 */
function modelSports(model: ProbabilityModel): string[] {
  const sports = new Set<string>();
  if (model.sport) sports.add(model.sport.toLowerCase());
  const config = model.config as { category?: unknown; subcategory?: unknown };
  if (model.type === 'matrix' && config.category === 'sports' && typeof config.subcategory === 'string') sports.add(config.subcategory.toLowerCase());
  return [...sports];
}

/**
 * `precog strategy create`: every problem of the arguments is reported at once (exit 2): each
 * invalid config field with what it allows, a model that does not exist, a model of another sport.
 */
export async function createStrategy(ctx: CommandContext, args: NewVersionArgs<StrategyType>): Promise<Strategy> {
  const issues: string[] = [];
  if (args.type === 'entry') {
    const checked = entryConfigIssues(args.config);
    issues.push(...checked.issues);
    // The model is checked whenever config.model itself is valid, whatever else is wrong.
    const modelRef = EntryStrategyConfig.shape.model.safeParse((args.config as { model?: unknown } | null)?.model);
    if (modelRef.success) {
      const ref = modelRef.data;
      const model = await new ProbabilityModelRepository(ctx.pool).get(ref.name, ref.version);
      if (!model) {
        const versions = (await new ProbabilityModelRepository(ctx.pool).list({ name: ref.name })).map((m) => m.version);
        issues.push(`config.model: model ${ref.name} ${ref.version} does not exist${versions.length > 0 ? ` (versions of ${ref.name}: ${versions.join(', ')})` : ''}`);
      } else {
        const sports = modelSports(model);
        const sport = args.sport?.toLowerCase();
        if (sport !== undefined && sports.length > 0 && !sports.includes(sport)) {
          issues.push(`--sport ${args.sport}: model ${ref.name} ${ref.version} covers ${sports.join(', ')} only (use a ${sport} model, or --sport ${sports[0]})`);
        }
      }
    }
  } else {
    try {
      parseStrategyConfig(args.type, args.config);
    } catch (error) {
      issues.push((error as Error).message.replace(/^invalid \w+ strategy config: /, ''));
    }
  }
  if (issues.length > 0) throw new UsageError(`invalid ${args.type} strategy ${args.name} ${args.version}: ${issues.length} problem${issues.length === 1 ? '' : 's'}`, issues);
  return createVersion(ctx, 'strategy', new StrategyRepository(ctx.pool), args);
}

export async function createModel(ctx: CommandContext, args: NewVersionArgs<ModelType>): Promise<ProbabilityModel> {
  try {
    validateModelConfig(args.type, args.config);
  } catch (error) {
    if (error instanceof ModelConfigError) {
      throw new UsageError(`invalid ${args.type} model ${args.name} ${args.version}: ${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}`, error.issues);
    }
    if (error instanceof UnsupportedModelTypeError) throw new UsageError(`--type: ${error.message}`);
    throw error;
  }
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

/** What `strategy show` adds to the version: what it traded, from the books. */
const STRATEGY_ACTIVITY_SQL = `
SELECT (SELECT count(*)::int FROM trades t WHERE t.strategy_id = $1) AS trades,
       (SELECT count(*)::int FROM positions p JOIN position_identities pi ON pi.position_id = p.position_id
         WHERE pi.strategy_id = $1 AND p.row_current_ind) AS positions,
       (SELECT count(*)::int FROM positions p JOIN position_identities pi ON pi.position_id = p.position_id
         WHERE pi.strategy_id = $1 AND p.row_current_ind AND p.status = 'open') AS open_positions,
       (SELECT coalesce(sum(t.quantity * t.price + coalesce(t.fees, 0)), 0)::text FROM trades t WHERE t.strategy_id = $1 AND t.side = 'buy') AS cost,
       (SELECT coalesce(sum(coalesce(p.realized_pnl, 0)), 0)::text FROM positions p JOIN position_identities pi ON pi.position_id = p.position_id
         WHERE pi.strategy_id = $1 AND p.row_current_ind) AS realized_pnl,
       (SELECT max(t.created_at) FROM trades t WHERE t.strategy_id = $1) AS last_trade_at`;

/** `precog strategy show NAME VERSION`: the version, its whole config and what it traded. */
export async function showStrategy(ctx: CommandContext, args: { name: string; version: string; json?: boolean }): Promise<Record<string, unknown>> {
  const repo = new StrategyRepository(ctx.pool);
  const strategy = await repo.get(args.name, args.version);
  if (!strategy) {
    const versions = (await repo.list({ name: args.name })).map((v) => v.version);
    throw new Error(`strategy ${args.name} ${args.version} does not exist${versions.length > 0 ? ` (versions of ${args.name}: ${versions.join(', ')})` : ` (no strategy named ${args.name})`}`);
  }
  const { rows: [activity] } = await ctx.pool.query(STRATEGY_ACTIVITY_SQL, [strategy.id]);
  const cost = new Decimal(activity.cost as string);
  // ROI = realized P&L (fees in) / cost of buys (fees in), as `precog ab`; none before a buy.
  const roi = cost.isZero() ? null : new Decimal(activity.realized_pnl as string).div(cost).toDecimalPlaces(4, Decimal.ROUND_HALF_UP).toFixed(4);
  const shown = {
    ...describe('strategy', strategy),
    description: strategy.description,
    createdAt: strategy.createdAt.toISOString(),
    createdBy: strategy.createdBy,
    liveRoi: strategy.liveRoi?.toFixed(4) ?? null,
    liveTrades: strategy.liveTradesCount,
    activity: {
      trades: activity.trades, positions: activity.positions, openPositions: activity.open_positions, cost: activity.cost,
      realizedPnl: activity.realized_pnl, roi, lastTradeAt: activity.last_trade_at?.toISOString() ?? null,
    },
  };
  if (args.json) {
    ctx.out(JSON.stringify(shown));
    return shown;
  }
  ctx.out(`strategy ${strategy.name} ${strategy.version}`);
  for (const line of labelled([
    ['type', strategy.type],
    ['sport', strategy.sport ?? '-'],
    ['status', strategy.status],
    ['created', `${time(strategy.createdAt)}${strategy.createdBy ? ` by ${strategy.createdBy}` : ''}`],
    ['description', strategy.description ?? '-'],
    ['trades', String(activity.trades)],
    ['positions', `${activity.positions} (${activity.open_positions} open)`],
    ['cost of buys', `${usd(activity.cost)} (fees included)`],
    ['realized P&L', usd(activity.realized_pnl, { signed: true })],
    ['ROI', roi === null ? '- (nothing bought)' : `${pct(roi)} (realized P&L / cost of buys)`],
    ['last trade', time(activity.last_trade_at)],
  ])) ctx.out(line);
  ctx.out('  config:');
  for (const line of JSON.stringify(strategy.config, null, 2).split('\n')) ctx.out(`    ${line}`);
  return shown;
}
