import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../cli/precog';
import { ManualClock, useClock } from '../../shared/clock/clock';
import { dec } from '../../shared/domain/decimal';
import { executeEntry } from '../../shared/execution/executeEntry';
import { executeExit } from '../../shared/execution/executeExit';
import type { ExitOrderMessage } from '../../shared/queues/messages';
import { runPrecog } from '../helpers/cli';
import { createTestDatabase, useTestDatabase } from '../helpers/database';
import { paperExchange, scannedEntries } from '../helpers/execution';
import { GAME_EVENT } from '../helpers/scanWorld';

/**
 * The read-outs added for issue 18 (edges, trades, exits, strategy show) on a traded world, the
 * tables a trader reads (aligned, `$` to the cent, `%`), health judging staleness itself, the
 * validation of config values and strategies, and database errors that name the setting and the fix.
 */

const db = useTestDatabase();
const KC = `${GAME_EVENT}-KC`;
const precog = (...args: string[]) => runPrecog(db().url, args);
const json = async (...args: string[]) => {
  const r = await precog(...args, '--json');
  expect(r.code, r.err).toBe(EXIT_OK);
  return JSON.parse(r.out);
};
const query = async (sql: string, params: unknown[] = []) => (await db().pool.query(sql, params)).rows;

/** Column starts of a table's header (in order, each header a whole cell): every row's cells line up under them. */
function expectAligned(lines: string[], headers: string[]) {
  const header = lines[0]!;
  let from = 0;
  const starts = headers.map((h) => {
    const at = header.slice(from).search(new RegExp(`(^|(?<=  ))${h.replace(/[.*+?^${}()|[\]\\%]/g, '\\$&')}(?=  |$)`));
    expect(at, `${h} in ${header}`).toBeGreaterThanOrEqual(0);
    from += at + h.length;
    return from - h.length;
  });
  return starts;
}

let positionId: number;
let exitRequestId: number;

beforeAll(async () => {
  // The halftime world scanned with one strategy version: KC YES edge (auto_execute), DAL NO (ignore).
  const [message] = await scannedEntries(db().pool, { strategies: 1 });
  const exchange = paperExchange(db().pool);
  const executed = await executeEntry({ pool: db().pool, exchange }, message!);
  expect(executed.outcome).toBe('executed');
  [{ position_id: positionId }] = await query(`SELECT position_id FROM open_positions WHERE market_id = $1`, [KC]);
  // The monitor decided a trailing-stop exit of every contract; executed on the paper venue (bid 0.58).
  const [{ quantity }] = await query(`SELECT quantity::text AS quantity FROM positions WHERE position_id = $1 AND row_current_ind`, [positionId]);
  [{ exit_request_id: exitRequestId }] = await query(
    `INSERT INTO exit_requests (position_id, position_version_id, exit_condition, exit_priority, quantity, triggers)
     SELECT $1, position_version_id, 'trailing_stop', 'HIGH', $2, '[]'::jsonb FROM positions WHERE position_id = $1 AND row_current_ind
     RETURNING exit_request_id`, [positionId, quantity]);
  const exitMessage: ExitOrderMessage = { version: 1, exitRequestId, positionId, priority: 'HIGH', createdAt: new Date().toISOString() };
  expect((await executeExit({ pool: db().pool, exchange }, exitMessage)).outcome).toBe('filled');
});

describe('edges, trades, exits, strategy show', () => {
  it('edges: the current edges, actionable by default, --all adds the ignored, each as the scan stored it', async () => {
    const expected = await query(
      `SELECT edge_id, market_id, side, true_win_probability::text AS p, market_price::text AS price, edge::text, expected_value::text AS ev, recommended_action
       FROM edges WHERE row_current_ind ORDER BY expected_value DESC, edge_id DESC`);
    expect(expected.map((e) => e.recommended_action)).toEqual(expect.arrayContaining(['auto_execute', 'ignore']));
    const actionable = await json('edges');
    expect(actionable.map((e: Record<string, unknown>) => e.edge_id)).toEqual(expected.filter((e) => e.recommended_action !== 'ignore').map((e) => e.edge_id));
    const all = await json('edges', '--all');
    expect(all.map((e: Record<string, unknown>) => ({
      edge_id: e.edge_id, market_id: e.market_id, side: e.side, p: e.model_probability, price: e.market_price, edge: e.edge, ev: e.expected_value,
      recommended_action: e.recommended_action,
    }))).toEqual(expected);
    expect(all[0]).toMatchObject({ strategy_name: 'halftime_entry', strategy_version: 'v1.0', model_name: 'nfl_matrix', model_version: 'v1.0' });
    expect((await json('edges', '--action', 'ignore')).every((e: Record<string, unknown>) => e.recommended_action === 'ignore')).toBe(true);
    expect(await json('edges', '--strategy', 'nobody')).toEqual([]);

    const lines = (await precog('edges', '--all')).out.split('\n');
    expect(lines).toHaveLength(expected.length + 1);
    const starts = expectAligned(lines, ['ID', 'MARKET', 'SIDE', 'MODEL P', 'PRICE', 'EDGE', 'EV', 'CONFIDENCE', 'ACTION', 'STRATEGY']);
    const kc = lines.find((l) => l.includes(KC) && l.includes('auto_execute'))!;
    // KC YES: model 0.80 against 0.60, EV as a percentage with one decimal.
    const e = expected.find((x) => x.market_id === KC && x.recommended_action === 'auto_execute')!;
    expect(kc).toContain(`${dec(e.p).toFixed(2)}  `);
    expect(kc).toMatch(new RegExp(` ${dec(e.ev).times(100).toFixed(1).replace('.', '\\.')}% `));
    expect(kc.indexOf(KC)).toBe(starts[1]);
  });

  it('trades: the buy and the exit sell, amounts and fees in dollars to the cent', async () => {
    const expected = await query(
      `SELECT trade_id, side, quantity, price::text, (quantity * price)::text AS amount, coalesce(fees, 0)::text AS fees, position_id
       FROM trades ORDER BY created_at DESC, trade_id DESC`);
    expect(expected.map((t) => t.side)).toEqual(['sell', 'buy']);
    const rows = await json('trades');
    expect(rows.map((r: Record<string, unknown>) => ({
      trade_id: r.trade_id, side: r.action, quantity: r.quantity, price: r.price, amount: r.amount, fees: r.fees, position_id: r.position_id,
    }))).toEqual(expected.map((t) => ({ ...t, quantity: dec(String(t.quantity)).toFixed() })));
    expect(rows[0]).toMatchObject({ side: 'yes', market_id: KC, strategy_version: 'v1.0', model_name: 'nfl_matrix' });
    expect(await json('trades', '--position', String(positionId))).toHaveLength(2);
    expect(await json('trades', '--market', 'NOWHERE')).toEqual([]);

    const lines = (await precog('trades')).out.split('\n');
    expectAligned(lines, ['TIME', 'TRADE', 'ACTION', 'QTY', 'SIDE', 'MARKET', 'PRICE', 'AMOUNT', 'FEES']);
    const buy = expected[1]!;
    const amount = dec(buy.amount).toDecimalPlaces(2, 4); // 4: ROUND_HALF_UP
    expect(lines[2]).toMatch(new RegExp(`#${buy.trade_id} +buy +${buy.quantity} +yes +${KC} +0\\.60 +\\$${amount.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ',')} +\\$\\d+\\.\\d{2} `));
  });

  it('exits: the request, why, what it sold and at what average price', async () => {
    const [sell] = await query(`SELECT quantity, price::text, (quantity * price)::text AS proceeds FROM trades WHERE side = 'sell'`);
    const rows = await json('exits');
    expect(rows).toEqual([expect.objectContaining({
      exit_request_id: exitRequestId, position_id: positionId, market_id: KC, side: 'yes', exit_condition: 'trailing_stop', exit_priority: 'HIGH',
      quantity: String(sell.quantity), filled_quantity: String(sell.quantity), status: 'filled', avg_price: sell.price, proceeds: sell.proceeds,
    })]);
    expect(await json('exits', '--status', 'active')).toEqual([]);
    const lines = (await precog('exits')).out.split('\n');
    expectAligned(lines, ['EXIT', 'CREATED', 'POSITION', 'MARKET', 'SIDE', 'CONDITION', 'PRIORITY', 'FILLED', 'AVG PRICE', 'PROCEEDS', 'STATUS']);
    expect(lines[1]).toMatch(new RegExp(`trailing_stop +HIGH +${sell.quantity}/${sell.quantity} +0\\.58 +\\$[\\d,]+\\.\\d{2} +filled`));
    expect((await precog('exits', '--status', 'active')).out).toBe('no active exit requests');
  });

  it('positions: a closed position keeps what it bought; money in dollars, the unrealized P&L as a labelled %', async () => {
    const all = await json('positions', '--all');
    const closed = all.find((p: Record<string, unknown>) => p.position_id === positionId);
    expect(closed).toMatchObject({ status: 'closed', quantity: '0' });
    const [{ quantity }] = await query(`SELECT quantity::text FROM trades WHERE side = 'buy'`);
    const bought = dec(quantity).toFixed(); // counts print exactly, without trailing zeros
    expect(closed.original_quantity).toBe(bought);
    const lines = (await precog('positions', '--all')).out.split('\n');
    expectAligned(lines, ['ID', 'MARKET', 'SIDE', 'MODE', 'STATUS', 'BOUGHT', 'HELD', 'ENTRY', 'PAID', 'COST', 'NOW', 'UNREALIZED', 'UNREAL %', 'REALIZED']);
    const row = lines.find((l) => l.includes(`#${positionId}`))!;
    const paid = dec(quantity).times('0.60').toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    expect(row).toMatch(new RegExp(`closed +${bought} +0 +0\\.60 +\\$${paid} +\\$0\\.00 `));
    expect(row).toMatch(/ -\$\d+\.\d{2} /); // realized: the stop sold below the entry (fees in)
    expect(lines.at(-1)).toMatch(/^\(PAID: BOUGHT × ENTRY; COST: cost basis of what is HELD/);
  });

  it('ab: ROI as a percentage, money to the cent', async () => {
    const [row] = await json('ab', 'halftime_entry');
    const lines = (await precog('ab', 'halftime_entry')).out.split('\n');
    expect(lines[0]).toBe('A/B of halftime_entry (ROI = realized P&L incl. fees / cost of buys incl. fees)');
    expect(lines[2]).toContain(`${dec(row.roi).times(100).toDecimalPlaces(1, 4).toFixed(1)}%`);
    expect(lines[2]).toMatch(/\$[\d,]+\.\d{2} +-\$\d+\.\d{2} +-\d+\.\d%/);
  });

  it('strategy show: config, status and what it traded', async () => {
    const shown = await json('strategy', 'show', 'halftime_entry', 'v1.0');
    const [books] = await query(
      `SELECT (SELECT count(*)::int FROM trades) AS trades, (SELECT sum(quantity * price + fees)::text FROM trades WHERE side = 'buy') AS cost,
              (SELECT realized_pnl::text FROM positions WHERE position_id = $1 AND row_current_ind) AS realized`, [positionId]);
    expect(shown).toMatchObject({
      name: 'halftime_entry', version: 'v1.0', type: 'entry', sport: 'nfl', status: 'active',
      config: { model: { name: 'nfl_matrix', version: 'v1.0' }, kind: 'halftime', max_spread: '0.08' },
      activity: { trades: books.trades, positions: 1, openPositions: 0 },
    });
    expect(dec(shown.activity.cost).eq(dec(books.cost))).toBe(true);
    expect(dec(shown.activity.realizedPnl).eq(dec(books.realized))).toBe(true);
    expect(shown.activity.roi).toBe(dec(books.realized).div(books.cost).toDecimalPlaces(4, 4).toFixed(4));
    const human = (await precog('strategy', 'show', 'halftime_entry', 'v1.0')).out.split('\n');
    expect(human[0]).toBe('strategy halftime_entry v1.0');
    expect(human).toContain('  status        active');
    expect(human).toContain(`  ROI           ${dec(shown.activity.roi).times(100).toDecimalPlaces(1, 4).toFixed(1)}% (realized P&L / cost of buys)`);
    expect(human).toContain('      "kind": "halftime",');
    const missing = await precog('strategy', 'show', 'halftime_entry', 'v9.9');
    expect(missing.code).toBe(EXIT_FAILURE);
    expect(missing.err).toBe('precog: strategy halftime_entry v9.9 does not exist (versions of halftime_entry: v1.0)');
  });
});

describe('precog health judges staleness itself', () => {
  let restore: (() => void) | undefined;
  afterEach(() => restore?.());

  it('a report older than its period × 3 is STALE (exit 1), whatever it said; fresh reports are healthy', async () => {
    const fresh = await createTestDatabase();
    try {
      const at = Date.parse('2026-12-06T18:00:00Z');
      restore = useClock(new ManualClock(at));
      const report = (component: string, secondsAgo: number, status = 'healthy') => fresh.pool.query(
        `INSERT INTO system_health (component, status, details, last_check) VALUES ($1, $2, '{}', $3)`,
        [component, status, new Date(at - secondsAgo * 1000)]);
      const health = (...args: string[]) => runPrecog(fresh.url, ['health', ...args]);

      const none = await health('--json');
      expect(none.code).toBe(EXIT_FAILURE);
      expect(JSON.parse(none.out)).toMatchObject({ status: 'unknown', components: [] });

      await report('ingest-markets', 170); // every minute: stale after 180 s
      await report('settle-markets', 890); // every 5 minutes: stale after 900 s
      await report('execute-exit', 86_400); // on demand: never stale
      const ok = await health('--json');
      expect(ok.code, ok.err).toBe(EXIT_OK);
      expect(JSON.parse(ok.out)).toMatchObject({
        status: 'healthy', checkedAt: '2026-12-06T18:00:00.000Z', staleAfterPeriods: 3,
        components: [
          { component: 'execute-exit', stale: false, periodSeconds: null, ageSeconds: 86_400 },
          { component: 'ingest-markets', stale: false, periodSeconds: 60, ageSeconds: 170 },
          { component: 'settle-markets', stale: false, periodSeconds: 300, ageSeconds: 890 },
        ],
      });

      await report('scan-edges', 181); // the last report said healthy, 181 s ago
      const stale = await health();
      expect(stale.code).toBe(EXIT_FAILURE);
      const lines = stale.out.split('\n');
      expect(lines[0]).toMatch(/^overall: stale /);
      expect(lines.find((l) => l.includes('scan-edges'))).toMatch(/scan-edges +STALE +healthy, 3 min ago +1 min/);
      expect(lines.find((l) => l.includes('ingest-markets'))).toMatch(/ingest-markets +healthy +2 min ago +1 min/);
      expect(stale.err).toBe('precog: stale (no report for 3 periods): scan-edges');
      // A wider window forgives it; a down component fails whatever the age.
      expect((await health('--stale-after', '4')).code).toBe(EXIT_OK);
      await report('prices', 10, 'down');
      const down = await health('--json', '--stale-after', '4');
      expect(down.code).toBe(EXIT_FAILURE);
      expect(JSON.parse(down.out).status).toBe('down');
    } finally {
      await fresh.drop();
    }
  });
});

describe('validation: every bad value, with its allowed range', () => {
  it('config set: a minimum above the maximum in effect is refused (exit 2) naming the range; nothing written', async () => {
    const before = await query(`SELECT count(*)::int AS n FROM config_overrides`);
    const r = await precog('config', 'set', 'sizing.min_position_usd', '600', '--reason', 'try');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toMatch(/^error: sizing\.min_position_usd expects a value from 0 to 500: at most sizing\.max_position_usd, 500 in effect \(default\); got "600"/);
    expect(await query(`SELECT count(*)::int AS n FROM config_overrides`)).toEqual(before);
    // Raising the maximum first makes room.
    expect((await precog('config', 'set', 'sizing.max_position_usd', '800', '--reason', 'bigger')).code).toBe(EXIT_OK);
    expect((await precog('config', 'set', 'sizing.min_position_usd', '600', '--reason', 'try again')).code).toBe(EXIT_OK);
    const lower = await precog('config', 'set', 'sizing.max_position_usd', '550', '--reason', 'smaller', '--json');
    expect(lower.code).toBe(EXIT_USAGE);
    expect(JSON.parse(lower.err).error).toMatch(/sizing\.max_position_usd expects a value from 600 to 1500: at least sizing\.min_position_usd, 600 in effect \(override #\d+\); got "550"/);
    await precog('config', 'unset', 'sizing.min_position_usd', '--reason', 'test done');
    await precog('config', 'unset', 'sizing.max_position_usd', '--reason', 'test done');
    const unknown = await precog('config', 'unset', 'sizing.min_positon_usd', '--reason', 'typo');
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.err).toMatch(/unknown rule "sizing\.min_positon_usd"; did you mean sizing\.min_position_usd/);
  });

  it('strategy create: an nba strategy on the NFL matrix is refused, with every other problem at once', async () => {
    const config = JSON.stringify({ model: { name: 'nfl_matrix', version: 'v1.0' }, kind: 'halftime', min_edge: '2' });
    const r = await precog('strategy', 'create', 'nba_halftime', 'v1.0', '--type', 'entry', '--sport', 'nba', '--config', config, '--json');
    expect(r.code).toBe(EXIT_USAGE);
    expect(JSON.parse(r.err)).toEqual({
      error: 'invalid entry strategy nba_halftime v1.0: 2 problems',
      code: 'precog.invalidValue',
      issues: [
        'config.min_edge: must be between 0 and 1 (got "2")',
        '--sport nba: model nfl_matrix v1.0 covers nfl only (use a nba model, or --sport nfl)',
      ],
    });
    const missingModel = await precog('strategy', 'create', 'x', 'v1.0', '--type', 'entry', '--config', JSON.stringify({ model: { name: 'nfl_matrix', version: 'v2.0' }, kind: 'live' }));
    expect(missingModel.code).toBe(EXIT_USAGE);
    expect(missingModel.err).toContain('config.model: model nfl_matrix v2.0 does not exist (versions of nfl_matrix: v1.0)');
    expect(await query(`SELECT strategy_name FROM strategies WHERE strategy_name IN ('nba_halftime', 'x')`)).toEqual([]);
    const ok = await precog('strategy', 'create', 'nfl_live', 'v1.0', '--type', 'entry', '--sport', 'nfl', '--config', JSON.stringify({ model: { name: 'nfl_matrix', version: 'v1.0' }, kind: 'live' }));
    expect(ok.code, ok.err).toBe(EXIT_OK);
  });
});

describe('database errors name the setting and the fix', () => {
  it('DATABASE_URL=not-a-url, a closed port, an unmigrated database', async () => {
    const notUrl = await runPrecog('not-a-url', ['positions']);
    expect(notUrl.code).toBe(EXIT_FAILURE);
    expect(notUrl.err).toBe('precog: invalid database configuration: DATABASE_URL: not a connection URL: expected postgres://user:password@host:5432/database (or a socket directory starting with /)');
    const http = await runPrecog('http://db.example:5432/precog', ['positions', '--json']);
    expect(JSON.parse(http.err).error).toMatch(/DATABASE_URL: scheme http:\/\/ is not PostgreSQL's/);

    const closed = await runPrecog('postgres://precog:secret@127.0.0.1:1/precog', ['positions']);
    expect(closed.code).toBe(EXIT_FAILURE);
    expect(closed.err).toBe('precog: cannot reach PostgreSQL at 127.0.0.1:1/precog (DATABASE_URL): connection refused; start PostgreSQL there, or point DATABASE_URL at a running one');
    expect(closed.err).not.toContain('secret');

    const empty = await createTestDatabase({ migrated: false });
    try {
      for (const args of [['positions'], ['health'], ['edges', '--json']]) {
        const r = await runPrecog(empty.url, args);
        expect(r.code, args.join(' ')).toBe(EXIT_FAILURE);
        const message = args.includes('--json') ? JSON.parse(r.err).error : r.err;
        expect(message).toMatch(/the database at .* \(DATABASE_URL\) is not migrated to this version of Precog \(relation "\w+" does not exist\): run `precog migrate`$/);
      }
    } finally {
      await empty.drop();
    }
  });
});
