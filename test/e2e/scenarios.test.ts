import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/domain/decimal';
import { findChromium } from '../../local/report/chromium';
import { formatDollars } from '../../local/report/html';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { filledExitsByCondition, readReport, readVenue, startLocalRun } from '../helpers/localRun';

/**
 * The shipped scenarios end to end: `npm start` (local/start.ts) in a child process against a
 * database of its own, the path a newcomer runs (unpaced, as by default). Each asserts the exits
 * its scenario is designed to produce, read from SQL.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function run(scenario: string | undefined): Promise<{ db: TestDatabase; dir: string; output: string; code: number | null }> {
  const db = await createTestDatabase();
  const dir = mkdtempSync(path.join(tmpdir(), 'precog-e2e-'));
  cleanups.push(() => db.drop(), () => rmSync(dir, { recursive: true, force: true }));
  const args = ['--state', path.join(dir, 'state.json'), '--report-dir', path.join(dir, 'report')];
  if (scenario) args.push('--scenario', scenario);
  const child = startLocalRun(args, db.url);
  const { code } = await child.exited;
  return { db, dir, output: child.output(), code };
}

describe.sequential('shipped scenarios, end to end', () => {
  it('comeback: the halftime positions leave on their trailing stop, the end-of-Q3 entries on their stop loss', async () => {
    const { db, output, code } = await run('comeback');
    expect(code, output.slice(-3000)).toBe(0);
    const exits = await filledExitsByCondition(db.pool);
    expect(exits.trailing_stop, JSON.stringify(exits)).toBeGreaterThanOrEqual(1);
    expect(exits.stop_loss, JSON.stringify(exits)).toBeGreaterThanOrEqual(1);
    // The trailing stop was armed by the position's own gain before it fired.
    const { rows: trailed } = await db.pool.query(
      `SELECT p.trailing_stop_state FROM exit_requests r JOIN positions p ON p.position_id = r.position_id
       WHERE r.exit_condition = 'trailing_stop' AND r.filled_quantity > 0 AND p.trailing_stop_state IS NOT NULL`,
    );
    expect(trailed.length).toBeGreaterThanOrEqual(1);
    const { rows: [open] } = await db.pool.query(`SELECT count(*)::int AS n FROM positions WHERE row_current_ind AND status = 'open'`);
    expect(open.n).toBe(0);
  }, 150_000);

  it('blowout: v1.0 sells in partial tranches and rides the rest to settlement, v1.1 sells all at its profit target', async () => {
    const { db, output, code } = await run('blowout');
    expect(code, output.slice(-3000)).toBe(0);
    const { rows } = await db.pool.query(
      `SELECT s.strategy_version AS version, r.exit_condition::text AS condition, r.partial_stage, r.filled_quantity, r.quantity
       FROM exit_requests r JOIN position_identities pi ON pi.position_id = r.position_id JOIN strategies s ON s.strategy_id = pi.strategy_id
       WHERE r.filled_quantity > 0 ORDER BY r.exit_request_id`,
    );
    const partials = rows.filter((r) => r.condition === 'partial_exit_target');
    expect(partials.length, JSON.stringify(rows)).toBeGreaterThanOrEqual(2);
    expect(new Set(partials.map((r) => r.partial_stage))).toEqual(new Set([1, 2]));
    expect(partials.every((r) => r.version === 'v1.0')).toBe(true);
    const targets = rows.filter((r) => r.condition === 'profit_target');
    expect(targets.length, JSON.stringify(rows)).toBeGreaterThanOrEqual(1);
    expect(targets.every((r) => r.version === 'v1.1')).toBe(true);
    // What v1.0 kept after its tranches was paid at settlement.
    const { rows: settled } = await db.pool.query(
      `SELECT p.position_id FROM positions p JOIN position_identities pi ON pi.position_id = p.position_id JOIN strategies s ON s.strategy_id = pi.strategy_id
       WHERE p.row_current_ind AND p.status = 'settled' AND s.strategy_version = 'v1.0'
         AND EXISTS (SELECT 1 FROM position_exits x WHERE x.position_id = p.position_id AND x.exit_condition = 'partial_exit_target')`,
    );
    expect(settled.length).toBeGreaterThanOrEqual(1);
  }, 150_000);

  it('illiquid: liquidity_dried_up fires and an exit walks its price down to market orders', async () => {
    const { db, output, code } = await run('illiquid');
    expect(code, output.slice(-3000)).toBe(0);
    const exits = await filledExitsByCondition(db.pool);
    expect(exits.liquidity_dried_up, JSON.stringify(exits)).toBeGreaterThanOrEqual(1);
    const { rows } = await db.pool.query(
      `SELECT r.exit_request_id, array_agg(o.order_type ORDER BY o.order_id) AS types, array_agg(o.limit_price::text ORDER BY o.order_id) AS prices
       FROM exit_requests r JOIN orders o ON o.exit_request_id = r.exit_request_id
       WHERE r.exit_condition = 'liquidity_dried_up' AND r.exit_priority = 'HIGH' GROUP BY 1`,
    );
    // HIGH: a limit at the bid, one walked a cent lower, then market orders.
    const walked = rows.filter((r) => r.types.length >= 3 && r.types[0] === 'limit' && r.types[1] === 'limit'
      && new Decimal(r.prices[1]).lt(r.prices[0]) && r.types.slice(2).every((t: string) => t === 'market'));
    expect(walked.length, JSON.stringify(rows)).toBeGreaterThanOrEqual(1);
    const { rows: attempts } = await db.pool.query(
      `SELECT count(*)::int AS n FROM exit_attempts WHERE exit_request_id = $1`, [walked[0].exit_request_id],
    );
    expect(attempts[0].n).toBe(walked[0].types.length);
  }, 150_000);

  it('the default scenario (npm start): entries from several strategy versions, every kind of exit, settlement; the report agrees with SQL and its HTML page shows the numbers', async () => {
    const { db, dir, output, code } = await run(undefined);
    expect(code, output.slice(-3000)).toBe(0);
    const report = readReport(path.join(dir, 'report'));
    expect(report.scenario).toBe('sunday-slate');
    const pool = db.pool;

    // Trades: the same rows, with their attribution.
    const { rows: trades } = await pool.query(
      `SELECT t.trade_id::int AS id, t.quantity, t.price::text, s.strategy_name || ' ' || s.strategy_version AS strategy, o.purpose
       FROM trades t JOIN strategies s ON s.strategy_id = t.strategy_id JOIN orders o ON o.client_order_id = t.client_order_id ORDER BY t.trade_id`,
    );
    expect(report.trades.map((t) => [t.tradeId, t.quantity, t.price, t.strategy, t.purpose])).toEqual(
      trades.map((t) => [t.id, (t.quantity as Decimal).toFixed(), new Decimal(t.price).toFixed(4), t.strategy, t.purpose]),
    );
    expect(report.totals.entries).toBe(trades.filter((t) => t.purpose === 'entry').length);
    // Realized P&L and fees.
    const { rows: [pnl] } = await pool.query(
      `SELECT coalesce(sum(realized_pnl), 0)::text AS realized, count(*) FILTER (WHERE status = 'open')::int AS open
       FROM positions WHERE row_current_ind`,
    );
    expect(report.totals.realizedPnl).toBe(new Decimal(pnl.realized).toFixed(4));
    expect(report.totals.openPositions).toBe(0);
    expect(pnl.open).toBe(0);
    const { rows: [fees] } = await pool.query(`SELECT coalesce(sum(fees), 0)::text AS fees FROM trades`);
    expect(report.totals.fees).toBe(new Decimal(fees.fees).toFixed(4));
    // Exits by condition and priority, and every attempt.
    const { rows: byCondition } = await pool.query(
      `SELECT exit_condition::text AS condition, exit_priority::text AS priority, count(*)::int AS count
       FROM exit_requests WHERE filled_quantity > 0 GROUP BY 1, 2`,
    );
    const key = (e: { condition: string; priority: string; count: number }) => `${e.condition}/${e.priority}/${e.count}`;
    expect(report.exitsByCondition.map(key).sort()).toEqual(byCondition.map(key).sort());
    const { rows: [attempts] } = await pool.query(`SELECT count(*)::int AS n FROM exit_attempts`);
    expect(report.exitAttempts).toHaveLength(attempts.n);
    // Breaker events of the run.
    const { rows: [breakers] } = await pool.query(`SELECT count(*)::int AS n FROM circuit_breaker_events`);
    expect(report.breakerEvents).toHaveLength(breakers.n);

    // What the default scenario must exercise.
    const { rows: versions } = await pool.query(
      `SELECT DISTINCT t.strategy_id FROM trades t JOIN orders o ON o.client_order_id = t.client_order_id WHERE o.purpose = 'entry'`,
    );
    expect(versions.length).toBeGreaterThanOrEqual(2);
    const exits = await filledExitsByCondition(pool);
    expect(exits.partial_exit_target ?? 0).toBeGreaterThanOrEqual(1);
    expect((exits.trailing_stop ?? 0) + (exits.stop_loss ?? 0)).toBeGreaterThanOrEqual(1);
    const { rows: walked } = await pool.query(
      `SELECT exit_request_id FROM orders WHERE exit_request_id IS NOT NULL GROUP BY 1 HAVING count(*) >= 2 AND max(filled_quantity) > 0`,
    );
    expect(walked.length).toBeGreaterThanOrEqual(1);
    const { rows: [settled] } = await pool.query(
      `SELECT count(*)::int AS n FROM positions WHERE row_current_ind AND status = 'settled' AND quantity = 0`,
    );
    expect(settled.n).toBeGreaterThanOrEqual(1);

    // The venue agrees: its cash is the opening balance plus the books' realized P&L, to the cent,
    // and it holds every order Precog recorded, once.
    const venue = readVenue(path.join(dir, 'state.json'));
    expect(new Decimal(venue.cash).toFixed(4)).toBe(new Decimal(report.startingBalance).plus(pnl.realized).toFixed(4));
    expect(report.endingBalance).toBe(new Decimal(venue.cash).toFixed(4));
    const { rows: placed } = await pool.query(`SELECT client_order_id FROM orders WHERE venue_order_id IS NOT NULL`);
    expect(venue.orders.map((o) => o.clientOrderId).sort()).toEqual(placed.map((o) => o.client_order_id).sort());

    // The HTML report in headless Chromium shows the run's numbers.
    const executablePath = findChromium();
    if (!executablePath) throw new Error('headless Chromium not found: install Debian\'s chromium (apt-get install chromium) or set CHROMIUM_PATH');
    const browser = await chromium.launch({
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      await page.goto(pathToFileURL(path.join(dir, 'report', 'report.html')).href);
      expect(await page.getByTestId('realized-pnl').innerText()).toContain(formatDollars(pnl.realized));
      expect(await page.getByTestId('trades').innerText()).toContain(String(trades.length));
      expect(await page.locator('[data-testid="trades-table"] tbody tr').count()).toBe(trades.length);
      expect(await page.locator('[data-testid="equity-chart"] polyline').count()).toBeGreaterThanOrEqual(1);
      for (const game of report.games) {
        // A chart per traded market; a market nothing traded is a line without a chart.
        for (const ticker of game.tickers) {
          const traded = report.trades.some((t) => t.ticker === ticker);
          expect(await page.getByTestId(`market-chart-${ticker}`).count()).toBe(traded ? 1 : 0);
          expect(await page.getByTestId(`market-untraded-${ticker}`).count()).toBe(traded ? 0 : 1);
        }
      }
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 200_000);
});
