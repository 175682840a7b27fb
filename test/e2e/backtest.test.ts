import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../cli/precog';
import type { VersionRef } from '../../backtest/catalog';
import { BacktestInputError } from '../../backtest/engine';
import { lookaheadAnalysis, rowsFromTheFuture } from '../../backtest/lookahead';
import { outcomeJson, type BacktestOutcome, type OutcomeTrade } from '../../backtest/outcome';
import { Decimal } from '../../shared/domain/decimal';
import { backtestOn, recordScenario, recordedOutcome } from '../helpers/backtest';

/**
 * The backtest replays the history a `npm start` run recorded (its database: `--source`) through
 * the same handlers: parity with the run's trades, determinism, no lookahead.
 */

/** The strategy versions `npm start` trades (local/seed.ts), all of them: the run's own set. */
const RUN_STRATEGIES: VersionRef[] = [
  { name: 'pregame_elo', version: 'v1.0' }, { name: 'halftime_entry', version: 'v1.0' },
  { name: 'quarter_live', version: 'v1.0' }, { name: 'quarter_live', version: 'v1.1' },
];

let recorded: Awaited<ReturnType<typeof recordScenario>>;
let full: BacktestOutcome;
beforeAll(async () => {
  recorded = await recordScenario('sunday-slate');
}, 300_000);
afterAll(async () => recorded?.cleanup());

const replay = (options: { to?: Date; latencyMs?: number; afterInstant?: Parameters<typeof backtestOn>[1]['afterInstant'] } = {}) =>
  backtestOn(recorded.db.directUrl, {
    strategies: RUN_STRATEGIES, balance: new Decimal(2000), seed: 7, to: options.to, afterInstant: options.afterInstant,
    fillModel: options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs },
  });

/** What parity compares: every field of a trade but the position's id. */
const trade = (t: OutcomeTrade) => ({ at: t.at, market: t.market, side: t.side, action: t.action, count: t.count, price: t.price, fee: t.fee, strategy: t.strategy, model: t.model });

describe.sequential('backtest of a recorded npm start run', () => {
  it('parity: the replay makes the recorded run\'s trades exactly (market, side, action, count, price, fee, virtual time, versions)', async () => {
    const want = await recordedOutcome(recorded.db.directUrl);
    full = await replay();
    expect(want.trades.length).toBeGreaterThan(5);
    expect(want.trades.some((t) => t.action === 'sell')).toBe(true);
    expect(full.trades.map(trade)).toEqual(want.trades.map(trade));
    // What went wrong in the replay went wrong in the recorded run too (the dried-up book's exits dead-letter in both).
    for (const warning of full.warnings) expect(recorded.output).toContain(warning.replace(/ \(\d+ times\)$/, ''));
  }, 300_000);

  it('determinism: the same tape, versions and seed give a byte-identical outcome.json', async () => {
    const again = await replay();
    expect(outcomeJson(again)).toBe(outcomeJson(full));
  }, 300_000);

  it('no lookahead: nothing in the replay database is stamped after the virtual clock, and a run stopped at T decides as the full run did up to T', async () => {
    const entries = [...new Set(full.decisions.filter((d) => d.purpose === 'entry').map((d) => d.at))].sort();
    expect(entries.length).toBeGreaterThan(1);
    // T: just after the second instant at which anything was entered, mid-game.
    const cut = new Date(Date.parse(entries[1]!) + 1);
    const future: string[] = [];
    let instants = 0;
    const truncated = await replay({
      to: cut,
      afterInstant: async (at, pool) => {
        instants++;
        future.push(...(await rowsFromTheFuture(pool, at)));
      },
    });
    expect(instants).toBeGreaterThan(10);
    expect(future).toEqual([]);
    const before = (o: BacktestOutcome) => ({
      decisions: o.decisions.filter((d) => Date.parse(d.at) < cut.getTime()).map(({ status: _s, ...d }) => d),
      trades: o.trades.filter((t) => Date.parse(t.at) < cut.getTime()).map(trade),
    });
    expect(before(truncated).decisions.length).toBeGreaterThan(0);
    expect(before(truncated)).toEqual(before(full));
  }, 300_000);

  it('lookahead analysis: every entry decision is the same when the replay is cut just after it', async () => {
    const { checked, findings } = await lookaheadAnalysis(full, (to) => replay({ to }));
    expect(checked.length).toBeGreaterThan(1);
    expect(findings.map((f) => f.message)).toEqual([]);
  }, 600_000);

  it('precog backtest --source: the same outcome.json as the engine, a summary, progress lines on stderr', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'precog-backtest-'));
    try {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli([
        'backtest', ...RUN_STRATEGIES.flatMap((s) => ['--strategy', `${s.name}@${s.version}`]), '--source', recorded.db.directUrl,
        '--from', full.info.window.from.toISOString(), '--to', full.info.window.to.toISOString(), '--balance', '2000', '--seed', '7',
        '--out', dir, '--database-url', inject('adminDatabaseUrl'),
      ], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
      expect(code, err.join('\n')).toBe(0);
      expect(readFileSync(path.join(dir, 'outcome.json'), 'utf8')).toBe(outcomeJson(full));
      expect(out.join('\n')).toMatch(/quarter_live@v1\.1 +\d+ buys +\d+ sells/);
      expect(out.at(-1)).toBe(`outcome: ${path.join(dir, 'outcome.json')}`);
      expect(err.at(-1)).toMatch(/^replaying database \S+ \[#{20}\] 100%$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('refuses what the source cannot answer: an unknown version (listing the known ones), a window the source does not cover', async () => {
    await expect(backtestOn(recorded.db.directUrl, { strategies: [{ name: 'quarter_live', version: 'v9.9' }], balance: new Decimal(100), seed: 1 }))
      .rejects.toThrow(/unknown strategy version quarter_live@v9\.9: the source knows halftime_entry@v1\.0, pregame_elo@v1\.0, quarter_live@v1\.0, quarter_live@v1\.1/);
    await expect(backtestOn(recorded.db.directUrl, { strategies: RUN_STRATEGIES, model: { name: 'elo_nfl', version: 'v1.0' }, balance: new Decimal(100), seed: 1 }))
      .rejects.toThrow(/strategy halftime_entry@v1\.0 uses model nfl_matrix@v1\.0, not the requested --model elo_nfl@v1\.0/);
    const early = new Date(Date.parse(full.info.window.from.toISOString()) - 3_600_000);
    await expect(backtestOn(recorded.db.directUrl, { strategies: RUN_STRATEGIES, from: early, balance: new Decimal(100), seed: 1 }))
      .rejects.toThrow(new RegExp(`covers ${full.info.window.from.toISOString()} to .*; the requested window ${early.toISOString()} to .* is not covered`));
  }, 120_000);

  it('a model version trained through a date is refused on a tape that starts before it', async () => {
    const from = full.info.window.from;
    const trainedThrough = new Date(from.getTime() + 86_400_000).toISOString().slice(0, 10);
    await recorded.db.pool.query(
      `INSERT INTO probability_models (model_name, model_version, model_type, sport, config, status)
       VALUES ('nfl_matrix', 'v1.9', 'matrix', 'nfl', $1, 'active')`,
      [JSON.stringify({ category: 'sports', subcategory: 'nfl', version: 'v1.0', trained_through: trainedThrough })],
    );
    await recorded.db.pool.query(
      `INSERT INTO strategies (strategy_name, strategy_version, strategy_type, sport, config, status)
       VALUES ('quarter_live', 'v1.9', 'entry', 'nfl', $1, 'active')`,
      [JSON.stringify({ model: { name: 'nfl_matrix', version: 'v1.9' }, kind: 'live', max_spread: '0.08' })],
    );
    const attempt = backtestOn(recorded.db.directUrl, {
      strategies: [{ name: 'quarter_live', version: 'v1.9' }], model: { name: 'nfl_matrix', version: 'v1.9' }, balance: new Decimal(100), seed: 1,
    });
    await expect(attempt).rejects.toBeInstanceOf(BacktestInputError);
    await expect(attempt).rejects.toThrow(
      `model nfl_matrix@v1.9 was trained through ${trainedThrough}T23:59:59.999Z (config.trained_through): a replay from ${from.toISOString()} would judge it on the data it was fitted on`,
    );
  }, 120_000);
});
