import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { PlatformRepository } from '../shared/db/repositories/platforms';
import { ProbabilityMatrixRepository } from '../shared/db/repositories/probabilityMatrices';
import { ProbabilityModelRepository, StrategyRepository } from '../shared/db/repositories/versionedConfigs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * What the local runtime trades with, created once (existing versions are never changed: they are
 * immutable, and an operator may have activated or deprecated them since):
 *   - the Kalshi platform;
 *   - models: elo_nfl v1.0 (pre-game) and nfl_matrix v1.0 over the shipped NFL matrix;
 *   - entry strategies: pregame_elo v1.0; halftime_entry v1.0 (halftime only); quarter_live v1.0
 *     (any live state the matrix covers: the end of Q1, halftime, the end of Q3) and its A/B
 *     sibling quarter_live v1.1, which sells whole positions at the profit target instead of in
 *     partial tranches.
 */
export const SEED_STRATEGIES = [
  { name: 'pregame_elo', version: 'v1.0', config: { model: { name: 'elo_nfl', version: 'v1.0' }, kind: 'pre_game', max_spread: '0.08' } },
  { name: 'halftime_entry', version: 'v1.0', config: { model: { name: 'nfl_matrix', version: 'v1.0' }, kind: 'halftime', max_spread: '0.08' } },
  { name: 'quarter_live', version: 'v1.0', config: { model: { name: 'nfl_matrix', version: 'v1.0' }, kind: 'live', max_spread: '0.08' } },
  {
    name: 'quarter_live', version: 'v1.1',
    config: { model: { name: 'nfl_matrix', version: 'v1.0' }, kind: 'live', max_spread: '0.08', exits: { partial_exits: false } },
  },
] as const;

export async function seedLocalDatabase(pool: pg.Pool, createdBy = 'npm start'): Promise<void> {
  await new PlatformRepository(pool).upsert({
    platformId: 'kalshi', platformType: 'trading', displayName: 'Kalshi', authMethod: 'rsa_pss', apiVersion: 'v2',
    baseUrl: 'https://demo-api.kalshi.co/trade-api/v2', feesStructure: { taker_rate: '0.07', maker_rate: '0.0175' },
  });
  const models = new ProbabilityModelRepository(pool);
  if (!(await models.get('elo_nfl', 'v1.0'))) {
    await models.create({
      name: 'elo_nfl', version: 'v1.0', type: 'elo', sport: 'nfl', status: 'active', createdBy,
      config: { k_factor: 28, initial_rating: 1500, home_advantage: 55 }, description: 'Seed model for the local runtime',
    });
  }
  const matrices = new ProbabilityMatrixRepository(pool);
  const shipped = await matrices.loadCells([{ category: 'sports', subcategory: 'nfl', version: 'v1.0' }]);
  if (shipped.length === 0) {
    await matrices.importCsv(await readFile(path.join(repoRoot, 'data', 'matrices', 'nfl-v1.0.csv'), 'utf8'));
  }
  if (!(await models.get('nfl_matrix', 'v1.0'))) {
    await models.create({
      name: 'nfl_matrix', version: 'v1.0', type: 'matrix', sport: 'nfl', status: 'active', createdBy,
      config: { category: 'sports', subcategory: 'nfl', version: 'v1.0' }, description: 'Shipped NFL matrix (quarter ends and halftime)',
    });
  }
  const strategies = new StrategyRepository(pool);
  for (const seed of SEED_STRATEGIES) {
    if (await strategies.get(seed.name, seed.version)) continue;
    await strategies.create({
      name: seed.name, version: seed.version, type: 'entry', sport: 'nfl', status: 'active', createdBy, config: seed.config,
      description: 'Seed strategy for the local runtime',
    });
  }
}
