import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Decimal } from '../../shared/domain/decimal';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { readReport, readVenue, startLocalRun } from '../helpers/localRun';

/**
 * Killing the runtime (SIGKILL: no handler runs, as in a crash or a pulled plug) mid-scenario and
 * starting it again resumes: twice, once with positions open and once while exits are in flight.
 * Afterwards nothing is duplicated or lost: the venue holds each order Precog recorded once, its
 * fills are exactly the trades, every position is closed or settled, and the venue's cash is the
 * opening balance plus the books' realized P&L to the cent.
 */

let db: TestDatabase | undefined;
let dir: string | undefined;
afterAll(async () => {
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('resumes after two kills without duplicate orders or lost positions', async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(path.join(tmpdir(), 'precog-resume-'));
  // Paced (a game minute every half second) so that each kill lands near the line it waits for.
  const args = ['--scenario', 'comeback', '--pace', '120', '--state', path.join(dir, 'state.json'), '--report-dir', path.join(dir, 'report')];

  // 1. Killed in the third quarter: the halftime positions are open.
  const first = startLocalRun(args, db.url);
  await first.waitFor(/^Q3 12:00 .*open [1-9]/m);
  first.child.kill('SIGKILL');
  await first.exited;
  const { rows: [before] } = await db.pool.query(`SELECT count(*)::int AS n FROM positions WHERE row_current_ind AND status = 'open'`);
  expect(before.n).toBeGreaterThanOrEqual(1);

  // 2. Resumed, then killed again as Buffalo comes back: exits are being decided and placed.
  const second = startLocalRun(args, db.url);
  await second.waitFor(/resuming comeback/);
  await second.waitFor(/^Q3 05:00 /m);
  second.child.kill('SIGKILL');
  await second.exited;

  // 3. Resumed to the end.
  const third = startLocalRun(args, db.url);
  const { code } = await third.exited;
  expect(code, third.output().slice(-3000)).toBe(0);
  expect(third.output()).toMatch(/resuming comeback/);

  const pool = db.pool;
  const venue = readVenue(path.join(dir, 'state.json'));
  expect(venue.status).toBe('finished');
  expect(venue.resumes).toBe(2);
  const report = readReport(path.join(dir, 'report'));
  expect(report.resumed).toBe(true);

  // No duplicate orders: each client order id reached the venue once, and the venue holds
  // exactly the orders Precog recorded as placed.
  const venueIds = venue.orders.map((o) => o.clientOrderId);
  expect(new Set(venueIds).size).toBe(venueIds.length);
  const { rows: placed } = await pool.query(`SELECT client_order_id FROM orders WHERE venue_order_id IS NOT NULL ORDER BY 1`);
  expect([...venueIds].sort()).toEqual(placed.map((r) => r.client_order_id));
  // One entry per strategy version and market per entry window: no entry was placed twice.
  const { rows: entries } = await pool.query(
    `SELECT o.strategy_id, o.market_id, count(*)::int AS n FROM orders o WHERE o.purpose = 'entry' AND o.filled_quantity > 0
     GROUP BY 1, 2 HAVING count(*) > 2`,
  );
  expect(entries).toEqual([]);

  // Nothing lost: the venue's fills are the trades, one for one.
  const { rows: trades } = await pool.query(`SELECT venue_fill_id, quantity FROM trades ORDER BY venue_fill_id`);
  expect(venue.fills.map((f) => f.fill.fill_id).sort()).toEqual(trades.map((t) => t.venue_fill_id).sort());
  // Every position ended, and the venue holds nothing (settled) …
  const { rows: [open] } = await pool.query(`SELECT count(*)::int AS n FROM positions WHERE row_current_ind AND status = 'open'`);
  expect(open.n).toBe(0);
  expect(venue.positions.every(([, p]) => p.position === 0)).toBe(true);
  // … and the money agrees to the cent.
  const { rows: [pnl] } = await pool.query(`SELECT coalesce(sum(realized_pnl), 0)::text AS realized FROM positions WHERE row_current_ind`);
  expect(new Decimal(venue.cash).toFixed(4)).toBe(new Decimal(report.startingBalance).plus(pnl.realized).toFixed(4));
  const { rows: desyncs } = await pool.query(`SELECT kind, ticker FROM venue_desyncs WHERE resolved_at IS NULL`);
  expect(desyncs).toEqual([]);
}, 240_000);
