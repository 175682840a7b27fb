import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScanEdges } from '../../functions/scan-edges/handler';
import { closeSharedPool } from '../../shared/db/pool';
import { MarketRepository } from '../../shared/db/repositories/markets';
import { claimEdgeAlerts } from '../../shared/observability/edgeAlerts';
import { MemoryEventPublisher, type EventPublisher, type PublishResult } from '../../shared/observability/events';
import { MemoryEntryQueue } from '../../shared/queues/sqsEntryQueue';
import { useTestDatabase } from '../helpers/database';
import { GAME_EVENT, quotedMarket, seedHalftimeWorld } from '../helpers/scanWorld';

/**
 * One Edge Alert per edge: a scan writes a new version of an alert-level edge every minute its
 * figures move; only the first of an episode is announced, whichever container scans. The episode
 * ends when the edge is no longer an alert; a later alert on it is announced again.
 */
const db = useTestDatabase();
const savedEnv = { ...process.env };
const DAL = `${GAME_EVENT}-DAL`;
const queue = new MemoryEntryQueue();

beforeAll(async () => {
  Object.assign(process.env, { DATABASE_URL: db().url });
  delete process.env.EVENT_BUS_NAME;
  await seedHalftimeWorld(db().pool, { strategies: 1 });
});
afterAll(async () => {
  process.env = savedEnv;
  await closeSharedPool();
});

/** DAL YES at `ask` cents against the model's 0.20: 8–10 ¢ is an alert-level edge, 18 ¢ none. */
const quoteDal = (ask: number) => new MarketRepository(db().pool).upsertSnapshots([quotedMarket(DAL, ask, ask - 2, 100 - ask + 2, 100 - ask)]);
const scan = (publisher: EventPublisher) => runScanEdges({ marketIds: [DAL] }, { queue, publisher });
const alertsOf = (p: MemoryEventPublisher) => p.published.filter((e) => e.detailType === 'Edge Alert');

describe('edge alerts', () => {
  it('are announced once per edge while it stays an alert, and again after it stopped being one', async () => {
    const publisher = new MemoryEventPublisher();
    await quoteDal(10);
    const first = await scan(publisher);
    expect(first.alerts).toEqual([expect.objectContaining({ marketId: DAL, side: 'yes', edge: '0.1000' })]);
    expect(alertsOf(publisher)).toHaveLength(1);

    // The price moves each minute: new alert-level versions, no new announcement.
    for (const ask of [9, 8, 10]) {
      await quoteDal(ask);
      const again = await scan(publisher);
      expect(again.edges.inserted).toBeGreaterThan(0);
      expect(again).toMatchObject({ alerts: [], alertsRepeated: 1 });
    }
    expect(alertsOf(publisher)).toHaveLength(1);

    // The edge goes away (18 ¢: no alert), then comes back: a new episode, one more announcement.
    await quoteDal(18);
    expect((await scan(publisher)).alerts).toEqual([]);
    await quoteDal(9);
    expect((await scan(publisher)).alerts).toEqual([expect.objectContaining({ marketId: DAL, edge: '0.1100' })]);
    expect(alertsOf(publisher)).toHaveLength(2);
  });

  it('an alert that could not be published is not claimed: the next new version announces it', async () => {
    await quoteDal(18);
    await scan(new MemoryEventPublisher()); // episode over
    const failing: EventPublisher = {
      publish: async (events): Promise<PublishResult> => ({ published: 0, failed: events.map((event) => ({ event, error: 'bus unreachable' })) }),
    };
    await quoteDal(10);
    expect((await scan(failing)).alerts).toHaveLength(1);
    const publisher = new MemoryEventPublisher();
    await quoteDal(9);
    expect((await scan(publisher)).alerts).toHaveLength(1);
    expect(alertsOf(publisher)).toHaveLength(1);
  });

  it('two containers claiming the same edge at once: one announces it', async () => {
    await quoteDal(18);
    await scan(new MemoryEventPublisher());
    await quoteDal(10);
    // A scan whose publisher drops the alert releases its claim: the edge is current and unclaimed.
    const dropping: EventPublisher = { publish: async (events) => ({ published: 0, failed: events.map((event) => ({ event, error: 'x' })) }) };
    const [alert] = (await scan(dropping)).alerts;
    expect(alert).toBeDefined();
    const claims = await Promise.all(Array.from({ length: 4 }, () => claimEdgeAlerts(db().pool, [alert!])));
    expect(claims.map((c) => c.length).sort()).toEqual([0, 0, 0, 1]);
  });
});
