import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBacktestReport } from '../../backtest/report/build';
import { METRIC_ROWS, formatMaybe, formatRatio } from '../../backtest/report/html';
import { BacktestStoreError, storeBacktestResults } from '../../backtest/report/store';
import { formatBacktestText } from '../../backtest/report/text';
import type { BacktestReport, BacktestRunInfo } from '../../backtest/report/types';
import { writeBacktestReport } from '../../backtest/report/write';
import { findChromium } from '../../local/report/chromium';
import { formatDollars } from '../../local/report/html';
import type { RunReport } from '../../local/report/types';
import { QUERY_PATTERNS } from '../../shared/db/queryPatterns';
import { Decimal } from '../../shared/domain/decimal';
import { useTestDatabase } from '../helpers/database';
import { readReport, startLocalRun } from '../helpers/localRun';

/**
 * The backtest report over a replay-shaped database: a local run's (`npm start` writes the same
 * tables a replay does, through the same handlers). Its own run report and the books (positions'
 * realised P&L, strategies' live_roi) are the independent figures the backtest report must agree with.
 */
const db = useTestDatabase();
const dir = mkdtempSync(path.join(tmpdir(), 'precog-backtest-report-'));
const TAPE_ID = 'ab'.repeat(32);
const STRATEGIES = [
  { name: 'quarter_live', version: 'v1.0' },
  { name: 'quarter_live', version: 'v1.1' },
  { name: 'halftime_entry', version: 'v1.0' },
  { name: 'pregame_elo', version: 'v1.0' },
];
let local: RunReport;
let run: BacktestRunInfo;
let report: BacktestReport;

beforeAll(async () => {
  const started = startLocalRun(
    ['--scenario', 'sunday-slate', '--state', path.join(dir, 'state.json'), '--report-dir', path.join(dir, 'local')],
    db().url,
  );
  const { code } = await started.exited;
  expect(code, started.output().slice(-3000)).toBe(0);
  local = readReport(path.join(dir, 'local'));
  run = {
    tapeId: TAPE_ID,
    tapeLabel: 'tapes/sunday-slate',
    window: { from: new Date(local.startedAt), to: new Date(local.finishedAt) },
    strategies: STRATEGIES,
    model: null,
    fillModel: { venue: 'kalshi-sim (the local run)', fees: "Kalshi's taker formula" },
    seed: 7,
    balance: new Decimal(local.startingBalance),
    startedAt: new Date(local.startedAt),
    finishedAt: new Date(local.finishedAt),
  };
  report = await buildBacktestReport(db().pool, run);
}, 600_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('buildBacktestReport on a local run\'s database', () => {
  it('agrees with the books: every position\'s P&L, the totals, per version, fees, exits by condition', async () => {
    expect(report.positions.length).toBeGreaterThan(0);
    const { rows } = await db().pool.query(
      `SELECT position_id, realized_pnl::text AS pnl, status FROM positions WHERE row_current_ind ORDER BY position_id`,
    );
    expect(rows.every((r) => r.status !== 'open')).toBe(true);
    expect(report.positions.map((p) => [p.positionId, p.pnl])).toEqual(rows.map((r) => [Number(r.position_id), new Decimal(r.pnl).toFixed(4)]));
    expect(report.totals.pnl).toBe(local.totals.realizedPnl);
    expect(report.totals.fees).toBe(local.totals.fees);
    for (const s of local.byStrategy) {
      expect(report.byVersion.find((v) => v.strategy === s.strategy)?.pnl, s.strategy).toBe(s.realizedPnl);
    }
    // Everything closed: the equity at the end is the cash, and the balance the run ended with.
    expect(report.endingEquity).toBe(report.endingCash);
    expect(new Decimal(report.endingCash).minus(report.startingBalance).toFixed(4)).toBe(report.totals.pnl);
    // The local report rounds each fill's P&L to 4 places before summing; the metrics sum exactly.
    const local2 = Object.fromEntries(local.exitOutcomes.map((o) => [o.condition, [o.fills, new Decimal(o.realizedPnl).toFixed(2)]]));
    expect(Object.fromEntries(report.totals.byCondition.map((c) => [c.condition, [c.exits, new Decimal(c.pnl).toFixed(2)]]))).toEqual(local2);
  });

  it('fill rate from the orders, closing line from the recorded quotes, forecasts from the edge rows, A/B with its interval', async () => {
    const { rows: [o] } = await db().pool.query(`SELECT sum(quantity)::text AS ordered, sum(filled_quantity)::text AS filled, count(*)::int AS n FROM orders`);
    expect(report.totals.fillRate.contractsOrdered).toBe(new Decimal(o.ordered).toFixed());
    expect(report.totals.fillRate.contractsFilled).toBe(new Decimal(o.filled).toFixed());
    expect(report.totals.fillRate.orders).toBe(o.n);
    const entries = local.trades.filter((t) => t.purpose === 'entry').length;
    expect(report.totals.closingLine.entries).toBe(entries);
    // A Sunday afternoon is one UTC day: no Sharpe, said so, never NaN.
    expect(report.totals.dailyReturns).toHaveLength(1);
    expect(report.totals.sharpe).toEqual({ value: null, display: 'n/a (fewer than 2 days)' });
    expect(report.forecasts.length).toBeGreaterThan(0);
    for (const f of report.forecasts) {
      expect(f.modelScore.n).toBe(f.marketScore.n);
      expect(new Decimal(f.modelScore.brier).gte(0) && new Decimal(f.modelScore.brier).lte(1)).toBe(true);
    }
    expect(report.ab.map((ab) => `${ab.strategy} ${ab.b} vs ${ab.a}`)).toEqual(['quarter_live v1.1 vs v1.0']);
    expect(JSON.stringify(report)).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('is deterministic: the same database and run give the same report, text and files', async () => {
    const again = await buildBacktestReport(db().pool, run);
    expect(JSON.stringify(again)).toBe(JSON.stringify(report));
    expect(formatBacktestText(again)).toBe(formatBacktestText(report));
    const files = await writeBacktestReport(path.join(dir, 'backtest'), report);
    expect(JSON.parse(readFileSync(files.json, 'utf8'))).toEqual(report);
    const text = formatBacktestText(report);
    expect(text).toContain('quarter_live v1.1 vs v1.0');
    expect(text).not.toMatch(/NaN|undefined/);
  });
});

describe('the backtest HTML report in headless Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => browser?.close());

  it('renders the charts and tables with no error and no request, and shows the JSON\'s numbers', async () => {
    const executablePath = findChromium();
    if (!executablePath) throw new Error('headless Chromium not found: install Debian\'s chromium (apt-get install chromium) or set CHROMIUM_PATH');
    const files = await writeBacktestReport(path.join(dir, 'html'), report);
    const json = JSON.parse(readFileSync(files.json, 'utf8')) as BacktestReport;
    browser = await chromium.launch({ executablePath, timeout: 30_000, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(files.html).href;
    await page.goto(url, { waitUntil: 'load' });

    expect(await page.title()).toBe(`Precog backtest: ${json.tapeLabel}`);
    expect(await page.getByTestId('pnl').textContent()).toBe(formatDollars(json.totals.pnl));
    expect(await page.getByTestId('fees').textContent()).toBe(formatDollars(json.totals.fees, false));
    expect(await page.getByTestId('ending-equity').textContent()).toBe(formatDollars(json.endingEquity, false));
    expect(await page.getByTestId('roi').textContent()).toBe(formatRatio(json.totals.roi));
    expect(await page.getByTestId('sharpe').textContent()).toBe('n/a');
    // The equity chart: the run and each version; the drawdown area.
    expect(await page.locator('[data-testid="equity-chart"] path[data-testid="equity-line"]').count()).toBe(1 + json.byVersion.length);
    expect(await page.locator('[data-testid="drawdown-chart"] path[data-testid="drawdown-area"]').count()).toBe(1);
    // Every cell of the metrics table, for every version side by side, is the JSON's figure.
    for (const m of [json.totals, ...json.byVersion]) {
      for (const row of METRIC_ROWS) {
        const cell = page.locator(`td[data-metric="${row.key}"][data-strategy="${m.strategy}"]`);
        expect(await cell.textContent(), `${row.key} of ${m.strategy}`).toBe(row.show(m));
      }
      // …and independently of the table's own formatter, for P&L and win rate:
      expect(await page.locator(`td[data-metric="pnl"][data-strategy="${m.strategy}"]`).textContent()).toBe(formatDollars(m.pnl));
      expect(await page.locator(`td[data-metric="winRate"][data-strategy="${m.strategy}"]`).textContent()).toBe(formatMaybe(m.winRate, 'ratio'));
    }
    expect(await page.locator('[data-testid="positions-table"] tbody tr').count()).toBe(json.positions.length);
    expect(await page.locator('[data-testid="ab-table"] tbody tr').count()).toBe(json.ab.length);
    expect(await page.locator('[data-testid="ab-table"] tbody').textContent()).toContain(formatDollars(json.ab[0]!.meanDifference));
    expect(await page.locator('[data-testid="forecasts-table"] tbody tr').count()).toBe(json.forecasts.length);
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    expect(await page.content()).not.toMatch(/NaN|Infinity|undefined/);
  }, 120_000);
});

describe('storeBacktestResults', () => {
  const count = async (table: string) => Number((await db().pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n);

  it('keeps the run beside paper and live: the A/B query pattern shows backtest next to live for each version', async () => {
    const { runId } = await storeBacktestResults(db().pool, report);
    const { rows } = await db().pool.query(QUERY_PATTERNS.abTestStrategyVersionsWithBacktest, ['quarter_live']);
    expect(rows.map((r) => r.strategy_version)).toEqual(['v1.1', 'v1.0']);
    for (const r of rows) {
      const version = report.byVersion.find((v) => v.strategy === `quarter_live ${r.strategy_version}`)!;
      expect(r.backtest_tape_id).toBe(TAPE_ID);
      expect(r.backtest_tape_label).toBe('tapes/sunday-slate');
      expect(r.backtest_trades_count).toBe(version.trades);
      expect(new Decimal(r.backtest_pnl).toFixed(4)).toBe(version.pnl);
      // The local run traded live against the simulator: the same fills, so the same ROI by the same definition.
      expect(r.live_roi).not.toBeNull();
      expect(new Decimal(r.backtest_roi).toFixed(4)).toBe(new Decimal(r.live_roi).toFixed(4));
      expect(r.live_trades_count).toBe(version.trades);
    }
    const { rows: validations } = await db().pool.query(
      `SELECT v.data_file, v.data_sha256, v.sample_size, v.brier_score::text AS brier, m.model_name || ' ' || m.model_version AS model
       FROM model_validations v JOIN probability_models m ON m.model_id = v.model_id ORDER BY v.validation_id`,
    );
    expect(validations.map((v) => [v.model, v.data_file, v.data_sha256, v.sample_size, new Decimal(v.brier).toFixed(6)]))
      .toEqual(report.forecasts.map((f) => [f.model, 'tapes/sunday-slate', TAPE_ID, f.modelScore.n, f.modelScore.brier]));
    // History: never updated or deleted.
    await expect(db().pool.query('UPDATE backtest_runs SET seed = 8 WHERE backtest_run_id = $1', [runId])).rejects.toThrow(/append-only|history|not allowed|cannot/i);
    await expect(db().pool.query('DELETE FROM backtest_results WHERE backtest_run_id = $1', [runId])).rejects.toThrow(/append-only|history|not allowed|cannot/i);
    expect(await count('backtest_results')).toBe(STRATEGIES.length);
  });

  it('writes nothing when any part fails: an unknown version, a bad figure, a bad tape id', async () => {
    const before = await Promise.all(['backtest_runs', 'backtest_results', 'model_validations'].map(count));
    const unknown = { ...report, strategies: [...report.strategies, { name: 'quarter_live', version: 'v9.9' }] };
    await expect(storeBacktestResults(db().pool, unknown)).rejects.toThrow('backtest report: strategies.4: strategy quarter_live v9.9 is not in this database');
    // The run row goes in first; the second version's row breaks a CHECK: the run row must not stay.
    const bad = structuredClone(report);
    bad.byVersion[1]!.winRate = { value: '1.5', display: '150%' };
    await expect(storeBacktestResults(db().pool, bad)).rejects.toThrow(/byVersion\.1 \(quarter_live v1\.1\).*win_rate/);
    await expect(storeBacktestResults(db().pool, { ...report, tapeId: 'abc' })).rejects.toThrow(BacktestStoreError);
    await expect(storeBacktestResults(db().pool, { ...report, tapeId: 'abc' })).rejects.toThrow('backtest report: tapeId: not a sha256 (64 lowercase hex digits)');
    const bad2 = structuredClone(report);
    (bad2.totals as { pnl: unknown }).pnl = 12.5;
    await expect(storeBacktestResults(db().pool, bad2)).rejects.toThrow(/^backtest report: totals\.pnl: /);
    expect(await Promise.all(['backtest_runs', 'backtest_results', 'model_validations'].map(count))).toEqual(before);
  });
});
