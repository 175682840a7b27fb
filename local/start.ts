/**
 * `npm start`: Precog on this machine, no AWS account needed. Starts a persistent embedded
 * PostgreSQL 16 (or uses DATABASE_URL), applies the migrations, seeds the Kalshi platform and a
 * first strategy and model version, then reports the state of the database.
 *
 * The trading loop (ingestion, edges, execution, exits) joins this runtime as those capabilities
 * land; today it prepares and shows the database every function runs against.
 *
 *   npm start                  prepare, report, stop
 *   npm start -- --serve       keep the database up (prints its DATABASE_URL) until Ctrl-C
 *   npm start -- --fresh       start from an empty database
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from '../shared/db/migrate';
import { createPool } from '../shared/db/pool';
import { PlatformRepository } from '../shared/db/repositories/platforms';
import { ProbabilityMatrixRepository } from '../shared/db/repositories/probabilityMatrices';
import { ProbabilityModelRepository, StrategyRepository } from '../shared/db/repositories/versionedConfigs';
import { startEmbeddedPostgres } from './embeddedPostgres';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** One local cluster per checkout, kept between runs (under the temp folder the postgres user can reach). */
function localDataDir(): string {
  const id = createHash('sha256').update(repoRoot).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `precog-local-${id}`);
}

async function main() {
  const fresh = process.argv.includes('--fresh');
  let url = process.env.DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!url) {
    const dir = localDataDir();
    if (fresh) {
      const { rm } = await import('node:fs/promises');
      await rm(dir, { recursive: true, force: true });
    }
    console.log(`starting embedded PostgreSQL 16 (data in ${dir})`);
    const server = await startEmbeddedPostgres({ persistentDir: dir });
    url = server.url;
    stop = () => server.stop();
  }
  const pool = createPool({ connectionString: url, max: 2 });
  try {
    const applied = await migrate({ connection: url });
    console.log(applied.length > 0 ? `migrations applied: ${applied.join(', ')}` : 'schema up to date');

    await new PlatformRepository(pool).upsert({
      platformId: 'kalshi', platformType: 'trading', displayName: 'Kalshi', authMethod: 'rsa_pss', apiVersion: 'v2',
      baseUrl: 'https://demo-api.kalshi.co/trade-api/v2', feesStructure: { taker_rate: '0.07', maker_rate: '0.0175' },
    });
    const models = new ProbabilityModelRepository(pool);
    if (!(await models.get('elo_nfl', 'v1.0'))) {
      await models.create({
        name: 'elo_nfl', version: 'v1.0', type: 'elo', sport: 'nfl', status: 'active', createdBy: 'npm start',
        config: { k_factor: 28, initial_rating: 1500, home_advantage: 55 }, description: 'Seed model for the local runtime',
      });
    }

    // The shipped NFL win-probability matrix and a matrix model over it.
    const matrices = new ProbabilityMatrixRepository(pool);
    const shipped = await matrices.loadCells([{ category: 'sports', subcategory: 'nfl', version: 'v1.0' }]);
    if (shipped.length === 0) {
      await matrices.importCsv(await readFile(path.join(repoRoot, 'data', 'matrices', 'nfl-v1.0.csv'), 'utf8'));
    }
    if (!(await models.get('nfl_matrix', 'v1.0'))) {
      await models.create({
        name: 'nfl_matrix', version: 'v1.0', type: 'matrix', sport: 'nfl', status: 'active', createdBy: 'npm start',
        config: { category: 'sports', subcategory: 'nfl', version: 'v1.0' }, description: 'Shipped NFL matrix (halftime, quarter ends)',
      });
    }

    const strategies = new StrategyRepository(pool);
    const seedStrategies = [
      { name: 'pregame_elo', type: 'entry' as const, config: { model: { name: 'elo_nfl', version: 'v1.0' }, kind: 'pre_game', max_spread: '0.08' } },
      { name: 'halftime_entry', type: 'entry' as const, config: { model: { name: 'nfl_matrix', version: 'v1.0' }, kind: 'halftime', max_spread: '0.08' } },
    ];
    for (const seed of seedStrategies) {
      if (await strategies.get(seed.name, 'v1.0')) continue;
      await strategies.create({
        name: seed.name, version: 'v1.0', type: seed.type, sport: 'nfl', status: 'active', createdBy: 'npm start', config: seed.config,
        description: 'Seed strategy for the local runtime',
      });
    }
    const { rows } = await pool.query(`
      SELECT 'platforms' AS what, count(*)::int AS n FROM platforms
      UNION ALL SELECT 'current markets', count(*)::int FROM current_markets
      UNION ALL SELECT 'active strategies', count(*)::int FROM active_strategies
      UNION ALL SELECT 'active models', count(*)::int FROM active_models
      UNION ALL SELECT 'open positions', count(*)::int FROM open_positions
      UNION ALL SELECT 'trades', count(*)::int FROM trades`);
    console.log('\nPrecog local database');
    for (const r of rows) console.log(`  ${String(r.what).padEnd(18)} ${r.n}`);
    if (process.argv.includes('--serve')) {
      console.log(`\nserving until Ctrl-C: DATABASE_URL=${url}`);
      await new Promise<void>((resolve) => process.once('SIGINT', resolve));
    }
  } finally {
    await pool.end();
    await stop?.();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
