import { describe, expect, it } from 'vitest';
import { MarketRepository } from '../../shared/db';
import { scanEdges } from '../../shared/edges/scanEdges';
import { executeEntry, type EntryOutcome } from '../../shared/execution/executeEntry';
import { MemoryEntryQueue } from '../../shared/queues/sqsEntryQueue';
import { useDatabasePerTest } from '../helpers/database';
import { openPosition, paperExchange } from '../helpers/execution';
import { GAME_EVENT, quotedMarket, seedHalftimeWorld } from '../helpers/scanWorld';

/**
 * One bet per game (shared/edges/outcomes.ts). The halftime world: KC leads at Dallas, the model
 * gives KC 0.80; KC YES asks 0.60 (edge after fees 0.18). DAL NO is the same outcome (KC wins):
 * each test prices it to make it the better, the worse or an equal contract.
 */
const db = useDatabasePerTest();
const KC = `${GAME_EVENT}-KC`;
const DAL = `${GAME_EVENT}-DAL`;

/** DAL quoted so that its NO asks `noAsk` cents (YES mirrors it, spread 0.02). */
const quoteDalNo = (noAsk: number) =>
  new MarketRepository(db().pool).upsertSnapshots([quotedMarket(DAL, 100 - noAsk + 2, 100 - noAsk, noAsk, noAsk - 2)]);

describe('one bet per game: the scan', () => {
  it.each<[string, number, string, 'yes' | 'no', string]>([
    ['DAL NO cheaper (edge after fees 0.20 against 0.18): DAL NO only', 58, DAL, 'no', '0.2000 against 0.1800'],
    ['DAL NO dearer (0.16 against 0.18): KC YES only', 62, KC, 'yes', '0.1800 against 0.1600'],
    ['an exact tie (0.18 both, same price): the first market id, DAL, only', 60, DAL, 'no', '0.1800 against 0.1800'],
  ])('both legs of one outcome quoted, %s', async (_name, noAsk, chosen, side, figures) => {
    await seedHalftimeWorld(db().pool);
    await quoteDalNo(noAsk);
    const queue = new MemoryEntryQueue();
    const result = await scanEdges({ pool: db().pool, queue });

    expect(result.entries.map((e) => [e.marketId, e.side, e.strategy])).toEqual([
      [chosen, side, 'halftime_entry v1.0'], [chosen, side, 'halftime_entry v1.1'],
    ].sort((a, b) => (a[2]! < b[2]! ? -1 : 1)));
    expect(queue.sent.map((m) => [m.marketId, m.side])).toEqual([[chosen, side], [chosen, side]]);
    const other = chosen === KC ? `${DAL} NO` : `${KC} YES`;
    const skippedBecause = result.skipped.filter((s) => s.reason.includes('one bet per game'));
    expect(skippedBecause.map((s) => s.reason)).toEqual([
      `${other} is the same outcome as ${chosen} ${side.toUpperCase()}, which has the better edge after fees (${figures}): one bet per game`,
      `${other} is the same outcome as ${chosen} ${side.toUpperCase()}, which has the better edge after fees (${figures}): one bet per game`,
    ]);
    // Both legs' edges are still recorded: the scan says what it saw, it orders one.
    const { rows } = await db().pool.query(
      `SELECT count(*)::int AS n FROM current_edges WHERE recommended_action = 'auto_execute' AND (market_id, side) IN (($1, 'yes'), ($2, 'no'))`,
      [KC, DAL],
    );
    expect(rows[0].n).toBe(4);
    const orders = await db().pool.query('SELECT market_id, side FROM orders');
    expect(orders.rows).toEqual([{ market_id: chosen, side }, { market_id: chosen, side }]);
  });

  it('a strategy holding KC YES makes no order on DAL NO (the same outcome), naming the held leg; the other version does', async () => {
    const world = await seedHalftimeWorld(db().pool);
    const [v10] = world.strategies;
    await openPosition(db().pool, paperExchange(db().pool), { marketId: KC, side: 'yes', quantity: 100, price: '0.60', strategyId: v10!.id, modelId: world.model.id });
    await quoteDalNo(58);
    const result = await scanEdges({ pool: db().pool, queue: new MemoryEntryQueue() });

    expect(result.entries.map((e) => [e.marketId, e.side, e.strategy])).toEqual([[DAL, 'no', 'halftime_entry v1.1']]);
    expect(result.skipped).toContainEqual({
      marketId: DAL, strategy: 'halftime_entry v1.0',
      reason: `this strategy already holds ${KC} YES, the same outcome as ${DAL} NO: one position per outcome`,
    });
  });

  it('a strategy holding KC NO makes no order on DAL NO (the opposite outcome: a bet against its own position)', async () => {
    const world = await seedHalftimeWorld(db().pool);
    const [v10] = world.strategies;
    await openPosition(db().pool, paperExchange(db().pool), { marketId: KC, side: 'no', quantity: 100, price: '0.42', strategyId: v10!.id, modelId: world.model.id });
    await quoteDalNo(58);
    const result = await scanEdges({ pool: db().pool, queue: new MemoryEntryQueue() });

    expect(result.entries.map((e) => [e.marketId, e.side, e.strategy])).toEqual([[DAL, 'no', 'halftime_entry v1.1']]);
    expect(result.skipped).toContainEqual(expect.objectContaining({
      marketId: DAL, strategy: 'halftime_entry v1.0',
      reason: expect.stringMatching(new RegExp(`^this strategy holds ${KC} NO, the opposite outcome of ${DAL} NO in the same game`)),
    }));
  });

  it('alerts name an outcome once: the better of two equivalent alert-level contracts', async () => {
    await seedHalftimeWorld(db().pool);
    // KC YES 0.70: edge 0.10, after fees 0.08; DAL NO 0.69: edge 0.11, after fees 0.09. Both alert-level.
    await new MarketRepository(db().pool).upsertSnapshots([quotedMarket(KC, 70, 68, 32, 30)]);
    await quoteDalNo(69);
    const result = await scanEdges({ pool: db().pool, queue: new MemoryEntryQueue() });
    expect(result.entries).toEqual([]);
    expect(result.alerts.map((a) => [a.marketId, a.side, a.strategy.version, a.expectedValue])).toEqual([
      [DAL, 'no', 'v1.0', '0.0900'], [DAL, 'no', 'v1.1', '0.0900'],
    ]);
  });
});

describe('one bet per game: the last look before the venue', () => {
  it('an entry on DAL NO sent before the strategy bought KC YES is cancelled, naming the held leg; the other version executes', async () => {
    const world = await seedHalftimeWorld(db().pool);
    const [v10] = world.strategies;
    await quoteDalNo(58);
    // The scan sees only DAL (as a scan limited to it would): both versions get a DAL NO order.
    const queue = new MemoryEntryQueue();
    await scanEdges({ pool: db().pool, queue }, { marketIds: [DAL] });
    expect(queue.sent.map((m) => [m.marketId, m.side])).toEqual([[DAL, 'no'], [DAL, 'no']]);
    // Meanwhile v1.0 came to hold KC YES (the same outcome).
    const exchange = paperExchange(db().pool);
    await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 50, price: '0.60', strategyId: v10!.id, modelId: world.model.id });

    const outcomes: EntryOutcome[] = [];
    for (const message of queue.sent) outcomes.push(await executeEntry({ pool: db().pool, exchange }, message));
    const byStrategy = new Map(queue.sent.map((m, i) => [m.strategyId, outcomes[i]!]));
    expect(byStrategy.get(v10!.id)).toEqual({
      outcome: 'cancelled', clientOrderId: expect.any(String),
      reason: `this strategy already holds ${KC} YES, the same outcome as ${DAL} NO: one position per outcome (open position, cost 30.00)`,
    });
    expect([...byStrategy.entries()].filter(([id]) => id !== v10!.id).map(([, o]) => o.outcome)).toEqual(['executed']);
    const { rows } = await db().pool.query(
      `SELECT strategy_id, market_id, side FROM open_positions ORDER BY strategy_id, market_id`,
    );
    expect(rows.filter((r) => r.strategy_id === v10!.id).map((r) => [r.market_id, r.side])).toEqual([[KC, 'yes']]);
  });
});
