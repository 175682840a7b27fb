import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { dec } from '../../shared/domain/decimal';
import {
  ACCOUNT_BALANCE, GAME_STATES, MarketRepository, OperationsRepository, ProbabilityModelRepository, StrategyRepository,
  versionedUpsert,
} from '../../shared/db';
import { ProbabilityMatrixRepository } from '../../shared/db/repositories/probabilityMatrices';
import { seedHierarchy, marketSnapshot } from './seed';

export const GAME_EVENT = 'KXNFLGAME-25NOV27KCDAL';

/** Quotes of one market: YES ask/bid and NO ask/bid in cents. */
export function quotedMarket(marketId: string, yesAsk: number, yesBid: number, noAsk: number, noBid: number) {
  const d = (c: number) => dec(String(c)).div(100);
  return marketSnapshot(marketId, '0.5', {
    eventId: GAME_EVENT,
    yesPrice: d(yesAsk), yesBid: d(yesBid), noPrice: d(noAsk), noBid: d(noBid), spread: d(yesAsk - yesBid),
  });
}

/**
 * A halftime world: KC leads DAL 20–10 at Dallas; the shipped NFL matrix (v1.0) says the leader
 * of 8–10 at halftime wins 80% (950 games, CI 0.7733–0.8243). Markets:
 *  - …-KC  YES 0.60/0.58, NO 0.42/0.40: YES edge 0.20, EV 0.18 → auto_execute
 *  - …-DAL YES 0.30/0.28, NO 0.72/0.70: NO edge 0.08, EV 0.06 → ignore
 *  - …-WIDE spread 0.10: skipped (max_spread 0.08)
 */
export async function seedHalftimeWorld(pool: pg.Pool, options: { strategies?: number } = {}) {
  await seedHierarchy(pool);
  await pool.query(`UPDATE events SET metadata = '{"game_date": "2025-11-27", "teams": "KCDAL"}' WHERE event_id = $1`, [GAME_EVENT]);
  await new MarketRepository(pool).upsertSnapshots([
    quotedMarket(`${GAME_EVENT}-KC`, 60, 58, 42, 40),
    quotedMarket(`${GAME_EVENT}-DAL`, 30, 28, 72, 70),
    quotedMarket(`${GAME_EVENT}-WIDE`, 60, 50, 50, 40),
  ]);
  await versionedUpsert(pool, GAME_STATES, [{
    sport: 'nfl', external_game_id: '401772900', event_id: GAME_EVENT, home_team: 'DAL', away_team: 'KC',
    home_score: 10, away_score: 20, period: 'Halftime', time_remaining: null, possession: null, status: 'halftime',
    sport_metadata: { periodNumber: 2 },
  }]);
  await pool.query(
    `UPDATE game_identities SET event_id = $1, match_rule = 'test', matched_at = now() WHERE external_game_id = '401772900'`,
    [GAME_EVENT],
  );
  await versionedUpsert(pool, ACCOUNT_BALANCE, [{ platform_id: 'kalshi', execution_mode: 'paper', currency: 'USD', balance: dec('10000') }]);
  const ops = new OperationsRepository(pool);
  await ops.recordHealth('ingest-markets', 'healthy', {});
  await ops.recordHealth('ingest-game-states', 'healthy', {});

  await new ProbabilityMatrixRepository(pool).importCsv(
    readFileSync(new URL('../../data/matrices/nfl-v1.0.csv', import.meta.url), 'utf8'),
  );
  const model = await new ProbabilityModelRepository(pool).create({
    name: 'nfl_matrix', version: 'v1.0', type: 'matrix', sport: 'nfl', status: 'active',
    config: { category: 'sports', subcategory: 'nfl', version: 'v1.0' },
  });
  const strategies = new StrategyRepository(pool);
  const created = [];
  for (let i = 0; i < (options.strategies ?? 2); i++) {
    created.push(await strategies.create({
      name: 'halftime_entry', version: `v1.${i}`, type: 'entry', sport: 'nfl', status: 'active',
      config: {
        model: { name: 'nfl_matrix', version: 'v1.0' }, kind: 'halftime', max_spread: '0.08',
        ...(i > 0 ? { kelly_fraction: '0.10' } : {}),
      },
    }));
  }
  return { model, strategies: created };
}

/** A new version of a market's quotes from its YES bid and ask in cents (the NO side mirrors them). */
export function quoteYes(pool: pg.Pool, marketId: string, yesBid: number, yesAsk: number) {
  return new MarketRepository(pool).upsertSnapshots([quotedMarket(marketId, yesAsk, yesBid, 100 - yesBid, 100 - yesAsk)]);
}
