import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../local/report/types';
import { createTestDatabase } from '../helpers/database';
import { runScenarioToEnd } from '../helpers/localRun';

/**
 * Issue 18: a circuit breaker already open when `npm start` begins blocks every entry. The run
 * must say so at once and on every game minute, and the report must list it: before, the run
 * printed "edges 4 | open 0", "Circuit breaker events none" and exited 0 without a word.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a breaker open at start', () => {
  it('is printed before the game, every minute shows entries as blocked, and the report lists it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'precog-breaker-at-start-'));
    dirs.push(dir);
    let breakerId = 0;
    const run = await runScenarioToEnd('blowout', dir, async () => {
      const db = await createTestDatabase();
      const { rows } = await db.pool.query(
        `INSERT INTO circuit_breaker_events (breaker_type, notes, trigger_value) VALUES ('manual', 'venue maintenance', '{"by": "test"}') RETURNING event_id`,
      );
      breakerId = Number(rows[0].event_id);
      return db;
    });
    expect(run.code, run.output.slice(-3000)).toBe(0);
    const out = run.output;
    const atStart = `! circuit breaker manual #${breakerId} is open at start (venue maintenance): new entries are blocked until it is resolved`;
    expect(out).toContain(atStart);
    // Said before the first game minute is printed.
    expect(out.indexOf(atStart)).toBeLessThan(out.search(/^PRE /m));
    const minuteLines = out.split('\n').filter((l) => /\| edges \d+ \| open \d+ \|/.test(l));
    expect(minuteLines.length).toBeGreaterThan(10);
    expect(minuteLines.every((l) => l.endsWith('| entries blocked: manual')), minuteLines.slice(0, 3).join('\n')).toBe(true);
    expect(out).not.toMatch(/^ {2}\+ BUY /m);

    const report = JSON.parse(run.reportJson) as RunReport;
    expect(report.totals.entries).toBe(0);
    expect(report.warnings).toContain(`${atStart} (npx precog breaker resolve ${breakerId} --action "…")`);
    expect(report.breakerEvents).toEqual([expect.objectContaining({ eventId: breakerId, type: 'manual', resolvedAt: null, reason: 'venue maintenance' })]);
  }, 300_000);
});
