import { describe, expect, it } from 'vitest';
import { dec } from '../../shared/domain/decimal';
import { EventRepository, MarketRepository, PlatformRepository, SeriesRepository, StrategyRepository } from '../../shared/db';
import { useTestDatabase } from '../helpers/database';
import { marketSnapshot, seedHierarchy } from '../helpers/seed';

const db = useTestDatabase();

describe('registry repositories', () => {
  it('platforms: upsert creates, then updates settings in place', async () => {
    const platforms = new PlatformRepository(db().pool);
    await platforms.upsert({ platformId: 'polymarket', platformType: 'trading', displayName: 'Polymarket', authMethod: 'metamask' });
    const updated = await platforms.upsert({
      platformId: 'polymarket', platformType: 'trading', displayName: 'Polymarket', authMethod: 'metamask',
      baseUrl: 'https://gamma-api.polymarket.com', feesStructure: { taker: '0' },
    });
    expect(updated).toMatchObject({ baseUrl: 'https://gamma-api.polymarket.com', feesStructure: { taker: '0' }, status: 'active' });
    expect((await platforms.list()).map((p) => p.platformId)).toEqual(['polymarket']);
  });

  it('series and events: identical rows write nothing, changed rows are updated', async () => {
    const { pool } = db();
    await seedHierarchy(pool);
    const series = new SeriesRepository(pool);
    const base = { seriesId: 'KXNCAAFGAME', platformId: 'kalshi', externalId: 'KXNCAAFGAME', category: 'sports', subcategory: 'ncaaf', title: 'College Football Game' };
    expect(await series.upsertMany([base])).toBe(1);
    expect(await series.upsertMany([base])).toBe(0);
    expect(await series.upsertMany([{ ...base, title: 'NCAAF Game', metadata: { fee_multiplier: '1' } }])).toBe(1);
    expect(await series.get('KXNCAAFGAME')).toMatchObject({ title: 'NCAAF Game', metadata: { fee_multiplier: '1' } });

    const events = new EventRepository(pool);
    const event = (await events.get('KXNFLGAME-25NOV27KCDAL'))!;
    expect(event.startTime).toEqual(new Date('2026-11-27T21:30:00Z'));
    expect(await events.upsertMany([event])).toBe(0);
    const before = await pool.query(`SELECT updated_at FROM events WHERE event_id = $1`, [event.eventId]);
    expect(await events.upsertMany([{ ...event, status: 'live' }])).toBe(1);
    const after = await pool.query(`SELECT updated_at, status FROM events WHERE event_id = $1`, [event.eventId]);
    expect(after.rows[0].status).toBe('live');
    expect(after.rows[0].updated_at.getTime()).toBeGreaterThanOrEqual(before.rows[0].updated_at.getTime());
    expect((await events.listBySeries('KXNFLGAME')).map((e) => e.eventId)).toEqual(['KXNFLGAME-25NOV27KCDAL']);
  });

  it('series: a reference to an unknown platform is refused', async () => {
    await expect(
      new SeriesRepository(db().pool).upsertMany([{ seriesId: 'X', platformId: 'nowhere', externalId: 'X', category: 'sports', title: 'X' }]),
    ).rejects.toThrow(/series_platform_id_fkey/);
  });

  it('markets: listCurrent filters current versions', async () => {
    const markets = new MarketRepository(db().pool);
    await markets.upsertSnapshots([marketSnapshot('L-1', '0.5000'), marketSnapshot('L-2', '0.5000', { status: 'closed' })]);
    await markets.upsertSnapshots([marketSnapshot('L-1', '0.5100')]);
    const open = await markets.listCurrent({ eventId: 'KXNFLGAME-25NOV27KCDAL', status: 'open' });
    expect(open.map((m) => [m.marketId, m.yesPrice!.toFixed(4)])).toEqual([['L-1', '0.5100']]);
    expect((await markets.listCurrent({ platformId: 'kalshi' })).map((m) => m.marketId)).toEqual(['L-1', 'L-2']);
  });

  it('strategies: (name, version) is unique and round-trips config exactly', async () => {
    const strategies = new StrategyRepository(db().pool);
    const created = await strategies.create({
      name: 'underdog_fade', version: 'v2.0', type: 'entry', config: { max_spread: '0.0800', kelly_fraction: '0.25' }, createdBy: 'test',
    });
    expect(created).toMatchObject({ status: 'draft', paperTradesCount: 0, createdBy: 'test' });
    expect(await strategies.getById(created.id)).toEqual(created);
    await expect(strategies.create({ name: 'underdog_fade', version: 'v2.0', type: 'entry', config: {} })).rejects.toThrow(
      /strategies_strategy_name_strategy_version_key/,
    );
    const roi = await strategies.recordPerformance(created.id, { liveRoi: dec('-0.0312'), liveTradesCount: 3 });
    expect(roi.liveRoi!.toFixed(4)).toBe('-0.0312');
    expect(roi.paperRoi).toBeNull();
  });
});
