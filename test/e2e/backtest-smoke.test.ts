import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/domain/decimal';
import { backtestOn, recordScenario, recordedOutcome } from '../helpers/backtest';

let recorded: Awaited<ReturnType<typeof recordScenario>>;
beforeAll(async () => {
  recorded = await recordScenario('blowout');
}, 300_000);
afterAll(async () => recorded?.cleanup());

describe('smoke', () => {
  it('replays', async () => {
    const want = await recordedOutcome(recorded.db.directUrl);
    const got = await backtestOn(recorded.db.directUrl, {
      strategies: [{ name: 'pregame_elo', version: 'v1.0' }, { name: 'halftime_entry', version: 'v1.0' }, { name: 'quarter_live', version: 'v1.0' }, { name: 'quarter_live', version: 'v1.1' }],
      balance: new Decimal(2000), seed: 1, keep: true,
    });
    console.log(JSON.stringify({ want: want.trades, got: got.trades, warnings: got.warnings, stats: got.stats }, null, 1));
    const pg = await import('pg');
    const c = new pg.default.Client({ connectionString: got.replayDatabaseUrl!.replace(/:\d+\//, ':' + new URL(recorded.db.directUrl).port + '/') });
    await c.connect();
    for (const q of ['SELECT * FROM account_balance', 'SELECT * FROM paper_accounts', "SELECT recommended_action, count(*) FROM edges GROUP BY 1", 'SELECT * FROM circuit_breaker_events', 'SELECT count(*), min(created_at), max(created_at) FROM orders', "SELECT component, status, count(*) FROM system_health GROUP BY 1,2", "SELECT status, count(*) FROM game_states GROUP BY 1", "SELECT event_id, status FROM events", "SELECT sport, external_game_id, event_id FROM game_identities"]) {
      console.log(q, JSON.stringify((await c.query(q)).rows));
    }
    await c.end();
    expect(got.trades.length).toBeGreaterThan(0);
  }, 300_000);
});
