import { beforeAll, describe, expect, it } from 'vitest';
import { dec } from '../../shared/domain/decimal';
import {
  ACCOUNT_BALANCE, EDGES, GAME_STATES, MARKETS, MarketRepository, POSITIONS, versionedUpsert, withTransaction,
} from '../../shared/db';
import { marketSnapshotRow } from '../../shared/db/repositories/markets';
import { useTestDatabase } from '../helpers/database';
import { marketSnapshot, seedHierarchy, seedStrategyAndModel } from '../helpers/seed';

const db = useTestDatabase({ poolMax: 12 });
beforeAll(async () => {
  await seedHierarchy(db().pool);
});

async function versionCount(marketId: string): Promise<number> {
  const { rows } = await db().pool.query('SELECT count(*)::int AS n FROM markets WHERE market_id = $1', [marketId]);
  return rows[0].n;
}

async function currentRowsPerKey(table: string, key: string): Promise<number> {
  const { rows } = await db().pool.query(
    `SELECT coalesce(max(n), 0)::int AS worst FROM (SELECT count(*) AS n FROM ${table} WHERE row_current_ind GROUP BY ${key}) x`,
  );
  return rows[0].worst;
}

describe('versionedUpsert (markets)', () => {
  it('creates the first version of new keys, then writes nothing for unchanged snapshots', async () => {
    const { pool } = db();
    const markets = new MarketRepository(pool);
    const batch = [marketSnapshot('U-1', '0.6000'), marketSnapshot('U-2', '0.4000')];

    const first = await markets.upsertSnapshots(batch);
    expect(first).toMatchObject({ received: 2, inserted: 2, closed: 0, unchanged: 0 });

    // The same values at another scale ('0.60' vs '0.6000') are the same snapshot.
    const again = await markets.upsertSnapshots([marketSnapshot('U-1', '0.60'), marketSnapshot('U-2', '0.4')]);
    expect(again).toMatchObject({ received: 2, inserted: 0, closed: 0, unchanged: 2 });
    expect(await versionCount('U-1')).toBe(1);
    expect(await versionCount('U-2')).toBe(1);
  });

  it('a changed price makes exactly one new version and closes the old one', async () => {
    const { pool } = db();
    const markets = new MarketRepository(pool);
    await markets.upsertSnapshots([marketSnapshot('C-1', '0.5500'), marketSnapshot('C-2', '0.3000')]);

    const result = await markets.upsertSnapshots([marketSnapshot('C-1', '0.5600'), marketSnapshot('C-2', '0.3000')]);
    expect(result).toMatchObject({ received: 2, inserted: 1, closed: 1, unchanged: 1 });
    expect(result.versions.map((v) => v.key)).toEqual([['C-1']]);

    const history = await markets.history('C-1');
    expect(history).toHaveLength(2);
    expect(history[0]!.current).toBe(false);
    expect(history[0]!.supersededAt).toBeInstanceOf(Date);
    expect(history[0]!.yesPrice!.toFixed(4)).toBe('0.5500');
    expect(history[1]!.current).toBe(true);
    expect(history[1]!.supersededAt).toBeNull();
    expect(history[1]!.yesPrice!.toFixed(4)).toBe('0.5600');
    expect(await versionCount('C-2')).toBe(1);
  });

  it('treats a change of status, settlement value, metadata or a NULL as a change', async () => {
    const { pool } = db();
    const markets = new MarketRepository(pool);
    await markets.upsertSnapshots([marketSnapshot('S-1', '0.9900')]);
    await markets.upsertSnapshots([marketSnapshot('S-1', '0.9900', { status: 'settled', settlementValue: dec('1') })]);
    await markets.upsertSnapshots([marketSnapshot('S-1', '0.9900', { status: 'settled', settlementValue: dec('1'), metadata: { result: 'yes' } })]);
    await markets.upsertSnapshots([marketSnapshot('S-1', '0.9900', { status: 'settled', settlementValue: dec('1'), metadata: { result: 'yes' }, volume: null })]);
    // Same again: JSON key order and numeric scale do not matter.
    await markets.upsertSnapshots([marketSnapshot('S-1', '0.99', { status: 'settled', settlementValue: dec('1.0000'), metadata: { result: 'yes' }, volume: null })]);
    expect(await versionCount('S-1')).toBe(4);
    const current = await markets.getCurrent('S-1');
    expect(current).toMatchObject({ status: 'settled', metadata: { result: 'yes' }, volume: null });
    expect(current!.settlementValue!.toFixed(4)).toBe('1.0000');
  });

  it('takes timestamps as Date or as PostgreSQL text (with a space) and compares them as instants', async () => {
    const { pool } = db();
    const row = { ...marketSnapshotRow(marketSnapshot('TS-1', '0.5000')), close_time: '2026-11-27 20:00:00+00' };
    expect((await versionedUpsert(pool, MARKETS, [row])).inserted).toBe(1);
    const same = { ...row, close_time: new Date('2026-11-27T20:00:00Z') };
    expect((await versionedUpsert(pool, MARKETS, [same])).unchanged).toBe(1);
    expect((await new MarketRepository(pool).getCurrent('TS-1'))!.closeTime).toEqual(new Date('2026-11-27T20:00:00Z'));
  });

  it('keeps the last snapshot when a batch repeats a key', async () => {
    const { pool } = db();
    const markets = new MarketRepository(pool);
    const result = await markets.upsertSnapshots([
      marketSnapshot('D-1', '0.1000'), marketSnapshot('D-1', '0.2000'), marketSnapshot('D-1', '0.3000'),
    ]);
    expect(result).toMatchObject({ received: 1, inserted: 1 });
    expect((await markets.getCurrent('D-1'))!.yesPrice!.toFixed(4)).toBe('0.3000');
  });

  it('writes nothing of a batch when any row is rejected by the database', async () => {
    const { pool } = db();
    const markets = new MarketRepository(pool);
    await markets.upsertSnapshots([marketSnapshot('R-1', '0.5000')]);
    await expect(
      markets.upsertSnapshots([marketSnapshot('R-1', '0.5100'), marketSnapshot('R-2', '0.5000', { yesPrice: dec('1.0001') })]),
    ).rejects.toThrow(/markets_yes_price_check/);
    expect((await markets.getCurrent('R-1'))!.yesPrice!.toFixed(4)).toBe('0.5000');
    expect(await versionCount('R-1')).toBe(1);
    expect(await markets.getCurrent('R-2')).toBeUndefined();
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM market_identities WHERE market_id = 'R-2'`);
    expect(rows[0].n).toBe(0);
  });

  it('rejects snapshots with unknown columns or a missing business key', async () => {
    const { pool } = db();
    await expect(versionedUpsert(pool, MARKETS, [{ ...marketSnapshotRow(marketSnapshot('X', '0.5')), yes_prise: '0.5' }]))
      .rejects.toThrow(/unknown column yes_prise/);
    await expect(versionedUpsert(pool, MARKETS, [{ ...marketSnapshotRow(marketSnapshot('X', '0.5')), market_id: null }]))
      .rejects.toThrow(/business key market_id is missing/);
  });

  it('joins the caller transaction when given a client, and rolls back with it', async () => {
    const { pool } = db();
    await expect(
      withTransaction(pool, async (client) => {
        await versionedUpsert(client, MARKETS, [marketSnapshotRow(marketSnapshot('T-1', '0.5'))]);
        throw new Error('caller fails after the upsert');
      }),
    ).rejects.toThrow('caller fails');
    expect(await new MarketRepository(pool).getCurrent('T-1')).toBeUndefined();
  });

  it('keeps exactly one current row per key under 8 concurrent writers, last committed snapshot wins', async () => {
    const { pool } = db();
    const keys = Array.from({ length: 100 }, (_, i) => `HAMMER-${String(i).padStart(3, '0')}`);
    const prices = ['0.1000', '0.2500', '0.5000', '0.7500', '0.9000'];
    // Recorded inside each writer's critical section (after its upsert, before its COMMIT, while
    // it still holds the identity locks of its keys): per key, the order in which writes happened.
    const writeOrder = new Map<string, string[]>();
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

    const writer = async (w: number) => {
      for (let round = 0; round < 15; round++) {
        const subset = keys.filter(() => random() < 0.6);
        // Shuffle so that batches present keys in different orders (the upsert must still not deadlock).
        subset.sort(() => random() - 0.5);
        const snapshots = subset.map((k) => marketSnapshot(k, prices[Math.floor(random() * prices.length)]!, {
          metadata: random() < 0.2 ? { writer: w } : null,
        }));
        await withTransaction(pool, async (client) => {
          await versionedUpsert(client, MARKETS, snapshots.map(marketSnapshotRow));
          for (const s of snapshots) {
            const list = writeOrder.get(s.marketId) ?? [];
            list.push(JSON.stringify([s.yesPrice!.toFixed(4), s.metadata]));
            writeOrder.set(s.marketId, list);
          }
        }, { retries: 0 });
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));

    expect(await currentRowsPerKey('markets', 'market_id')).toBe(1);
    const { rows } = await pool.query(
      `SELECT market_id, yes_price, metadata, row_current_ind FROM markets WHERE market_id LIKE 'HAMMER-%' ORDER BY market_id, market_version_id`,
    );
    const history = new Map<string, string[]>();
    const current = new Map<string, string>();
    for (const r of rows) {
      const value = JSON.stringify([r.yes_price.toFixed(4), r.metadata]);
      history.set(r.market_id, [...(history.get(r.market_id) ?? []), value]);
      if (r.row_current_ind) current.set(r.market_id, value);
    }
    for (const [key, writes] of writeOrder) {
      // The final current row is the last committed snapshot …
      expect(current.get(key), key).toBe(writes.at(-1));
      // … and the version history is exactly the committed writes with repeats collapsed: no
      // update lost, no version made for an unchanged snapshot.
      const collapsed = writes.filter((v, i) => i === 0 || v !== writes[i - 1]);
      expect(history.get(key), key).toEqual(collapsed);
    }
  });
});

describe('versionedUpsert (the other SCD-2 tables)', () => {
  it('versions game states by (sport, external_game_id)', async () => {
    const { pool } = db();
    const row = {
      sport: 'nfl', external_game_id: '401547417', event_id: 'KXNFLGAME-25NOV27KCDAL', home_team: 'DAL', away_team: 'KC',
      home_score: 0, away_score: 0, period: 'Q1', time_remaining: '15:00', possession: 'home', status: 'live',
      sport_metadata: { down: 1, distance: 10 },
    };
    expect((await versionedUpsert(pool, GAME_STATES, [row])).inserted).toBe(1);
    expect((await versionedUpsert(pool, GAME_STATES, [row])).inserted).toBe(0);
    expect((await versionedUpsert(pool, GAME_STATES, [{ ...row, home_score: 7 }])).closed).toBe(1);
    expect(await currentRowsPerKey('game_states', 'sport, external_game_id')).toBe(1);
  });

  it('versions edges by (market, strategy, model, side)', async () => {
    const { pool } = db();
    await new MarketRepository(pool).upsertSnapshots([marketSnapshot('E-1', '0.4000')]);
    const { strategy, model } = await seedStrategyAndModel(pool, { strategy: 'edge_strategy', model: 'edge_model' });
    const edge = {
      market_id: 'E-1', strategy_id: strategy.id, model_id: model.id, side: 'yes', edge: dec('0.1000'),
      expected_value: dec('0.0830'), true_win_probability: dec('0.5000'), market_implied_probability: dec('0.4000'),
      market_price: dec('0.4000'), confidence_level: 'high', recommended_action: 'alert',
    };
    const first = await versionedUpsert(pool, EDGES, [edge, { ...edge, side: 'no', edge: dec('-0.1000'), expected_value: dec('-0.1200') }]);
    expect(first.inserted).toBe(2);
    expect((await versionedUpsert(pool, EDGES, [edge])).inserted).toBe(0);
    const moved = await versionedUpsert(pool, EDGES, [{ ...edge, market_price: dec('0.3900'), edge: dec('0.1100') }]);
    expect(moved).toMatchObject({ inserted: 1, closed: 1 });
    expect(await currentRowsPerKey('edges', 'market_id, strategy_id, model_id, side')).toBe(1);
  });

  it('versions positions of an existing identity and refuses an unknown one', async () => {
    const { pool } = db();
    await new MarketRepository(pool).upsertSnapshots([marketSnapshot('P-1', '0.6000')]);
    const { rows } = await pool.query(
      `INSERT INTO position_identities (market_id, platform_id, side) VALUES ('P-1', 'kalshi', 'yes') RETURNING position_id`,
    );
    const positionId = rows[0].position_id as number;
    const position = {
      position_id: positionId, market_id: 'P-1', platform_id: 'kalshi', side: 'yes', execution_mode: 'paper',
      entry_price: dec('0.6000'), quantity: dec('100'), original_quantity: dec('100'), fees: dec('1.6800'), status: 'open',
      current_price: dec('0.6000'), last_update: new Date(),
    };
    expect((await versionedUpsert(pool, POSITIONS, [position])).inserted).toBe(1);
    // A heartbeat (last_update only) is not a new version.
    expect((await versionedUpsert(pool, POSITIONS, [{ ...position, last_update: new Date() }])).inserted).toBe(0);
    const partial = await versionedUpsert(pool, POSITIONS, [{ ...position, quantity: dec('50'), current_price: dec('0.6900') }]);
    expect(partial).toMatchObject({ inserted: 1, closed: 1 });
    await expect(versionedUpsert(pool, POSITIONS, [{ ...position, position_id: 999_999 }])).rejects.toThrow(/position_id/);
  });

  it('versions balances per platform, mode and currency', async () => {
    const { pool } = db();
    const balance = { platform_id: 'kalshi', execution_mode: 'paper', currency: 'USD', balance: dec('10000.0000') };
    expect((await versionedUpsert(pool, ACCOUNT_BALANCE, [balance])).inserted).toBe(1);
    expect((await versionedUpsert(pool, ACCOUNT_BALANCE, [{ ...balance, balance: dec('9998.3200') }])).closed).toBe(1);
    expect((await versionedUpsert(pool, ACCOUNT_BALANCE, [{ ...balance, execution_mode: 'live', balance: dec('50') }])).inserted).toBe(1);
    const { rows } = await pool.query('SELECT execution_mode, balance FROM current_balances ORDER BY execution_mode');
    expect(rows.map((r) => [r.execution_mode, r.balance.toFixed(4)])).toEqual([['live', '50.0000'], ['paper', '9998.3200']]);
  });
});
