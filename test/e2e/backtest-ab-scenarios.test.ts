import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { METRIC_ROWS } from '../../backtest/report/html';
import type { BacktestReport } from '../../backtest/report/types';
import { runCli } from '../../cli/precog';
import { findChromium } from '../../local/report/chromium';
import { formatDollars } from '../../local/report/html';
import { recordScenarioTape } from '../helpers/tapes';

/**
 * Issue 19's A/B in one command: quarter_live v1.0 against v1.1 on the tapes of every shipped
 * scenario (each recorded from a `npm start` run), one `precog backtest` with a --tape per
 * scenario; every HTML report opened in headless Chromium shows both versions and their difference.
 */

const SCENARIOS = ['comeback', 'blowout', 'illiquid', 'sunday-slate'] as const;
const root = mkdtempSync(path.join(tmpdir(), 'precog-backtest-ab-'));
const tapes: string[] = [];

beforeAll(async () => {
  // One after the other: each run is the whole machine's work.
  for (const scenario of SCENARIOS) {
    const dir = path.join(root, 'tapes', scenario);
    await recordScenarioTape(scenario, dir);
    tapes.push(dir);
  }
}, 900_000);

let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('precog backtest: quarter_live v1.0 vs v1.1 on the shipped scenarios\' tapes', () => {
  it('one command replays every tape and writes a report per tape with both versions side by side and their difference', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const reports = path.join(root, 'reports');
    const code = await runCli([
      'backtest', '--strategy', 'quarter_live@v1.0', '--strategy', 'quarter_live@v1.1',
      ...tapes.flatMap((t) => ['--tape', t]),
      '--balance', '2000', '--seed', '11', '--out', reports, '--database-url', inject('adminDatabaseUrl'),
    ], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
    expect(code, err.join('\n')).toBe(0);
    const text = out.join('\n');
    expect(text).not.toMatch(/NaN|undefined/);

    const executablePath = findChromium();
    if (!executablePath) throw new Error('headless Chromium not found: install Debian\'s chromium (apt-get install chromium) or set CHROMIUM_PATH');
    browser = await chromium.launch({ executablePath, timeout: 30_000, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });

    let traded = 0;
    for (const [i, tape] of tapes.entries()) {
      const dir = path.join(reports, String(i + 1));
      const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as BacktestReport;
      expect(report.tapeLabel).toContain(tape);
      expect(report.strategies).toEqual([{ name: 'quarter_live', version: 'v1.0' }, { name: 'quarter_live', version: 'v1.1' }]);
      expect(report.byVersion.map((v) => v.strategy)).toEqual(['quarter_live v1.0', 'quarter_live v1.1']);
      expect(report.ab).toHaveLength(1);
      traded += report.totals.trades;
      expect(text).toContain(`file://${path.resolve(dir, 'report.html')}`);

      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(path.join(dir, 'report.html')).href, { waitUntil: 'load' });
      expect(await page.getByTestId('pnl').textContent()).toBe(formatDollars(report.totals.pnl));
      expect(await page.locator('[data-testid="equity-chart"] path[data-testid="equity-line"]').count()).toBe(1 + report.byVersion.length);
      expect(await page.locator('[data-testid="drawdown-chart"] path[data-testid="drawdown-area"]').count()).toBe(1);
      for (const m of report.byVersion) {
        for (const row of METRIC_ROWS) {
          expect(await page.locator(`td[data-metric="${row.key}"][data-strategy="${m.strategy}"]`).textContent(), `${tape}: ${row.key} of ${m.strategy}`).toBe(row.show(m));
        }
      }
      expect(await page.locator('[data-testid="ab-table"] tbody tr').count()).toBe(1);
      expect(await page.locator('[data-testid="ab-table"] tbody').textContent()).toContain(formatDollars(report.ab[0]!.meanDifference));
      expect(errors, tape).toEqual([]);
      expect(await page.content()).not.toMatch(/NaN|Infinity|undefined/);
      await page.close();
    }
    // The scenarios are built to make quarter_live trade: an A/B over nothing would prove nothing.
    expect(traded).toBeGreaterThan(0);
  }, 900_000);
});
