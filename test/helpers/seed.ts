import type pg from 'pg';
import { dec } from '../../shared/domain/decimal';
import {
  EventRepository, MarketRepository, PlatformRepository, ProbabilityModelRepository, SeriesRepository,
  StrategyRepository, type MarketSnapshot,
} from '../../shared/db';

/** A minimal Kalshi hierarchy: platform → NFL series → one game event. */
export async function seedHierarchy(pool: pg.Pool) {
  await new PlatformRepository(pool).upsert({
    platformId: 'kalshi', platformType: 'trading', displayName: 'Kalshi', authMethod: 'rsa_pss',
    baseUrl: 'https://demo-api.kalshi.co/trade-api/v2', apiVersion: 'v2',
  });
  await new SeriesRepository(pool).upsertMany([
    { seriesId: 'KXNFLGAME', platformId: 'kalshi', externalId: 'KXNFLGAME', category: 'sports', subcategory: 'nfl', title: 'NFL Game' },
  ]);
  await new EventRepository(pool).upsertMany([
    {
      eventId: 'KXNFLGAME-25NOV27KCDAL', platformId: 'kalshi', seriesId: 'KXNFLGAME', externalId: 'KXNFLGAME-25NOV27KCDAL',
      category: 'sports', subcategory: 'nfl', title: 'Kansas City at Dallas', status: 'scheduled',
      startTime: new Date('2026-11-27T21:30:00Z'),
    },
  ]);
}

export function marketSnapshot(marketId: string, yesPrice: string, overrides: Partial<MarketSnapshot> = {}): MarketSnapshot {
  const yes = dec(yesPrice);
  return {
    marketId,
    platformId: 'kalshi',
    eventId: 'KXNFLGAME-25NOV27KCDAL',
    externalId: marketId,
    ticker: marketId,
    title: `Market ${marketId}`,
    marketType: 'binary',
    yesPrice: yes,
    noPrice: dec('1').minus(yes),
    volume: 1000,
    openInterest: 500,
    spread: dec('0.0200'),
    status: 'open',
    ...overrides,
  };
}

export async function seedMarkets(pool: pg.Pool, snapshots: MarketSnapshot[]) {
  return new MarketRepository(pool).upsertSnapshots(snapshots);
}

export async function seedStrategyAndModel(pool: pg.Pool, names = { strategy: 'halftime_entry', model: 'elo_nfl' }) {
  const strategy = await new StrategyRepository(pool).create({
    name: names.strategy, version: 'v1.0', type: 'entry', sport: 'nfl', config: { min_lead: 7, max_spread: '0.08' }, status: 'active',
  });
  const model = await new ProbabilityModelRepository(pool).create({
    name: names.model, version: 'v1.0', type: 'elo', sport: 'nfl', config: { k_factor: 28, initial_rating: 1500 }, status: 'active',
  });
  return { strategy, model };
}
