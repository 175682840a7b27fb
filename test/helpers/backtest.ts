import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { runBacktest, type BacktestOptions } from '../../backtest/engine';
import type { BacktestOutcome } from '../../backtest/outcome';
import { readOutcome } from '../../backtest/outcome';
import { DatabaseSource } from '../../backtest/source';
import { Decimal } from '../../shared/domain/decimal';
import type { Exchange } from '../../shared/exchange/types';
import { createPool } from '../../shared/db/pool';
import { createTestDatabase, type TestDatabase } from './database';
import { startLocalRun } from './localRun';

/** `npm start` of a scenario into a database of its own, kept for replays (drop it when done). */
export async function recordScenario(scenario: string): Promise<{ db: TestDatabase; output: string; cleanup(): Promise<void> }> {
  const db = await createTestDatabase();
  const dir = mkdtempSync(path.join(tmpdir(), 'precog-record-'));
  const run = startLocalRun(['--scenario', scenario, '--state', path.join(dir, 'state.json'), '--report-dir', path.join(dir, 'report')], db.url);
  const { code } = await run.exited;
  if (code !== 0) throw new Error(`npm start --scenario ${scenario} failed (${code}):\n${run.output().slice(-3000)}`);
  return {
    db,
    output: run.output(),
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    },
  };
}

/** The recorded run's trades, read as a replay's are. */
export async function recordedOutcome(url: string): Promise<BacktestOutcome> {
  const pool = createPool({ connectionString: url, max: 2 });
  try {
    const venue = { getBalance: async () => new Decimal(0) } as unknown as Exchange;
    return await readOutcome(pool, {
      source: 'recorded', window: { from: new Date(0), to: new Date(0) }, strategies: [], model: null, models: [], fillModel: {}, seed: 0,
      balance: new Decimal(0), startedAt: new Date(0), finishedAt: new Date(0),
    }, venue);
  } finally {
    await pool.end();
  }
}

/** A backtest on the test server (the replay database cloned from the migrated template). */
export function backtestOn(sourceUrl: string, options: Omit<BacktestOptions, 'source' | 'serverUrl'>): Promise<BacktestOutcome> {
  const source = new DatabaseSource(sourceUrl);
  return runBacktest({
    source, serverUrl: inject('adminDatabaseUrl'), applicationServerUrl: inject('applicationServerUrl'), template: inject('templateDatabase'), ...options,
  }).finally(() => source.close());
}
