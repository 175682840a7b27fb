import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Decimal } from '../../shared/domain/decimal';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { readReport, readVenue, startLocalRun } from '../helpers/localRun';

/**
 * Two `npm start` at once on one checkout's run (issue 18, item 1): the second refuses while the
 * first runs, and the first, untouched, finishes with a report that adds up. The first is frozen
 * (SIGSTOP) while the second starts, so it is certainly mid-run then, whatever the machine's speed.
 */

let db: TestDatabase | undefined;
let dir: string | undefined;
afterAll(async () => {
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('a second start while a run is in progress exits 3 naming it; the first finishes with a consistent report', async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(path.join(tmpdir(), 'precog-start-twice-'));
  const stateFile = path.join(dir, 'state.json');
  const reportDir = path.join(dir, 'report');
  const args = ['--scenario', 'blowout', '--speed', '120', '--state', stateFile, '--report-dir', reportDir];

  const first = startLocalRun(args, db.url);
  await first.waitFor(/^venue: Kalshi simulator/m); // it holds the lock and has saved its state
  first.child.kill('SIGSTOP');
  try {
    const second = startLocalRun(args, db.url);
    const { code } = await second.exited;
    expect(code, second.output()).toBe(3);
    expect(second.output()).toContain(`the run state ${stateFile} is in use by another process: pid ${first.child.pid}`);
    expect(second.output()).toContain(`kill -INT ${first.child.pid}`);
  } finally {
    first.child.kill('SIGCONT');
  }
  const { code } = await first.exited;
  expect(code, first.output().slice(-3000)).toBe(0);
  expect(first.output()).not.toMatch(/resuming/);

  // The first's report adds up: nothing open, the venue's cash is the opening balance plus the
  // books' realized P&L to the cent, and the report says the same.
  const venue = readVenue(stateFile);
  expect({ status: venue.status, resumes: venue.resumes }).toEqual({ status: 'finished', resumes: 0 });
  const report = readReport(reportDir);
  const { rows: [books] } = await db.pool.query(
    `SELECT coalesce(sum(realized_pnl), 0)::text AS realized,
            count(*) FILTER (WHERE status = 'open')::int AS open, count(*)::int AS positions
     FROM positions WHERE row_current_ind`,
  );
  expect(books.open).toBe(0);
  expect(report.totals.openPositions).toBe(0);
  expect(report.positions).toHaveLength(books.positions);
  expect(new Decimal(report.totals.realizedPnl).toFixed(4)).toBe(new Decimal(books.realized).toFixed(4));
  expect(new Decimal(report.endingBalance).toFixed(4)).toBe(new Decimal(report.startingBalance).plus(books.realized).toFixed(4));
  expect(new Decimal(venue.cash).toFixed(4)).toBe(new Decimal(report.startingBalance).plus(books.realized).toFixed(4));
}, 300_000);
