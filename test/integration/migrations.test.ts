import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../shared/db/migrate';
import { useTestDatabase } from '../helpers/database';

const db = useTestDatabase({ migrated: false });

const EXPECTED_TABLES = [
  'platforms', 'series', 'events', 'market_identities', 'markets', 'game_identities', 'game_states',
  'probability_matrices', 'probability_models', 'strategies', 'edge_identities', 'edges',
  'position_identities', 'positions', 'trades', 'position_exits', 'exit_attempts', 'settlements',
  'balance_identities', 'account_balance', 'config_overrides', 'circuit_breaker_events', 'system_health',
];
const EXPECTED_VIEWS = [
  'current_markets', 'current_game_states', 'current_edges', 'open_positions', 'current_balances',
  'active_strategies', 'active_models', 'trade_attribution',
];

describe('migrations', () => {
  it('apply to an empty database, then a second run does nothing', async () => {
    const client = new pg.Client({ connectionString: db().url });
    await client.connect();
    try {
      const first = await migrate({ connection: client });
      expect(first.length).toBeGreaterThanOrEqual(3);
      const second = await migrate({ connection: client });
      expect(second).toEqual([]);

      const recorded = await client.query('SELECT name FROM pgmigrations ORDER BY run_on, id');
      expect(recorded.rows.map((r) => r.name)).toEqual(first);

      const tables = await client.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(EXPECTED_TABLES));
      const views = await client.query(`SELECT table_name FROM information_schema.views WHERE table_schema = 'public'`);
      expect(views.rows.map((r) => r.table_name).sort()).toEqual([...EXPECTED_VIEWS].sort());
    } finally {
      await client.end();
    }
  });

  it('declares no ON DELETE CASCADE anywhere', async () => {
    const { rows } = await db().pool.query(
      `SELECT conrelid::regclass::text AS tbl, conname FROM pg_constraint WHERE contype = 'f' AND confdeltype = 'c'`,
    );
    expect(rows).toEqual([]);
  });

  it('gives every versioned table a one-current-row partial unique index', async () => {
    const { rows } = await db().pool.query(
      // A partitioned table's one-current-row index is on its partition of current rows (0021).
      `SELECT coalesce(pg_partition_root(format('%I', tablename)::regclass)::text, tablename) AS tablename, indexdef
       FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'idx_%_current' ORDER BY 1`,
    );
    expect(rows.map((r) => r.tablename)).toEqual(['account_balance', 'edges', 'game_states', 'markets', 'positions']);
    for (const row of rows) expect(row.indexdef).toMatch(/UNIQUE INDEX .* WHERE row_current_ind/);
  });
});
