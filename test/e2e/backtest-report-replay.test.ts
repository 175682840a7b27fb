import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BacktestOutcome } from '../../backtest/outcome';
import { buildBacktestReport } from '../../backtest/report/build';
import { reportRunInfo } from '../../cli/commands/backtest';
import { formatBacktestText } from '../../backtest/report/text';
import type { BacktestReport, BacktestRunInfo } from '../../backtest/report/types';
import { writeBacktestReport } from '../../backtest/report/write';
import { Decimal } from '../../shared/domain/decimal';
import { backtestOn, recordScenario } from '../helpers/backtest';

/**
 * End to end: a real replay (the backtest engine on a recorded `npm start` run), then the report
 * built from the replay database it kept. The report must agree with what the engine read back
 * from the same database (its outcome: trades, positions, balances).
 */
let recorded: Awaited<ReturnType<typeof recordScenario>>;
let outcome: BacktestOutcome;
let report: BacktestReport;
let run: BacktestRunInfo;
let replay: pg.Client;
const dir = mkdtempSync(path.join(tmpdir(), 'precog-backtest-replay-'));

beforeAll(async () => {
  recorded = await recordScenario('blowout');
  outcome = await backtestOn(recorded.db.directUrl, {
    strategies: [{ name: 'quarter_live', version: 'v1.0' }, { name: 'quarter_live', version: 'v1.1' }],
    balance: new Decimal(2000), seed: 1, keep: true,
  });
  // The kept replay database, reached directly (not through the test lane's PgBouncer).
  const url = new URL(outcome.replayDatabaseUrl!);
  url.port = new URL(recorded.db.directUrl).port;
  replay = new pg.Client({ connectionString: url.href });
  await replay.connect();
  // The report's description of the run, as `precog backtest` gives it.
  run = reportRunInfo(outcome.info);
  report = await buildBacktestReport(replay, run);
}, 600_000);

afterAll(async () => {
  await replay?.end();
  if (outcome?.replayDatabaseUrl) {
    const admin = new pg.Client({ connectionString: recorded.db.directUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(new URL(outcome.replayDatabaseUrl).pathname.slice(1))} WITH (FORCE)`).finally(() => admin.end());
  }
  await recorded?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('the backtest report of a real replay', () => {
  it('agrees with the engine\'s outcome: trades, positions\' P&L, the cash at the end', async () => {
    expect(outcome.trades.length).toBeGreaterThan(0);
    expect(report.totals.trades).toBe(outcome.trades.length);
    const closed = outcome.positions.filter((p) => p.status !== 'open');
    const books = closed.reduce((s, p) => s.plus(p.realizedPnl ?? '0'), new Decimal(0));
    expect(new Decimal(report.totals.pnl).minus(report.positions.filter((p) => !p.closed).reduce((s, p) => s.plus(p.pnl), new Decimal(0))).toFixed(4))
      .toBe(books.toFixed(4));
    expect(report.byVersion.map((v) => v.strategy)).toEqual(['quarter_live v1.0', 'quarter_live v1.1']);
    expect(report.ab).toHaveLength(1);
    if (report.positions.every((p) => p.closed)) expect(new Decimal(report.endingCash).toFixed(4)).toBe(new Decimal(outcome.balances.ending).toFixed(4));
  });

  it('is deterministic and writes its files', async () => {
    const again = await buildBacktestReport(replay, run);
    expect(JSON.stringify(again)).toBe(JSON.stringify(report));
    const files = await writeBacktestReport(dir, report);
    expect(JSON.parse(readFileSync(files.json, 'utf8'))).toEqual(report);
    expect(readFileSync(files.html, 'utf8')).toContain('data-testid="equity-chart"');
    expect(formatBacktestText(report)).toContain('quarter_live v1.1 vs v1.0');
  });
});
