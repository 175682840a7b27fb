import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Decimal } from 'decimal.js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { findChromium } from '../../local/report/chromium';
import { formatDollars, renderHtmlReport } from '../../local/report/html';
import type { RunReport } from '../../local/report/types';
import { emptyRunReport, runReportFixture } from '../helpers/runReportFixture';

const NO_CHROMIUM = 'headless Chromium not found: install Debian\'s chromium (apt-get install chromium) or set CHROMIUM_PATH';
const SCREENSHOT = '/tmp/precog-report.png';
const BROWSER_TIMEOUT = 30_000;

describe('renderHtmlReport (plain node)', () => {
  it('formats money from the exact decimal, rounded half-up to cents, with a sign', () => {
    // 1.005 as a float is 1.00499999…: float rounding would print +$1.00.
    expect(formatDollars('1.005')).toBe('+$1.01');
    expect(formatDollars('-5')).toBe('−$5.00');
    expect(formatDollars('-0.004')).toBe('$0.00');
    expect(formatDollars('0.0000')).toBe('$0.00');
    expect(formatDollars('1234567.8949')).toBe('+$1,234,567.89');
    expect(formatDollars('1000.0000', false)).toBe('$1,000.00');
    expect(formatDollars('-2.1800', false)).toBe('−$2.18');
  });

  it('HTML-escapes every string from the report', () => {
    const report = runReportFixture();
    report.scenario = 'evil"<b>';
    report.description = 'a <script>alert("x")</script> & more';
    report.trades[0]!.strategy = '<img src=x onerror=alert(1)>';
    report.breakerEvents[0]!.reason = "it's <b>bad</b>";
    const html = renderHtmlReport(report);

    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('a &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('it&#39;s &lt;b&gt;bad&lt;/b&gt;');
    expect(html).toContain('<title>Precog run: evil&quot;&lt;b&gt;</title>');
  });

  it('renders an empty report with "no samples" and "none" rows, never NaN', () => {
    const html = renderHtmlReport(emptyRunReport());
    expect(html).toContain('no samples');
    expect(html).not.toContain('data-testid="equity-chart"');
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
    for (const table of ['trades-table', 'exits-table', 'exit-attempts-table', 'positions-table', 'strategy-table', 'breakers-table', 'exits-by-condition']) {
      expect(html).toMatch(new RegExp(`data-testid="${table}"[^]*?<tbody>\\s*<tr class="empty-row"><td colspan="\\d+">none</td></tr>`));
    }
  });

  it('draws flat, single-sample and gappy series without NaN', () => {
    const report = runReportFixture();
    report.samples = report.samples.slice(0, 1);
    report.samples[0]!.markets = { OTHER: { yesBid: null, yesAsk: null, held: 0 } };
    const html = renderHtmlReport(report);
    expect(html).toContain('data-testid="equity-chart"');
    expect(html).toContain('data-testid="market-chart-OTHER"');
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('makes no reference to anything outside the file', () => {
    const html = renderHtmlReport(runReportFixture());
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(|@import|https?:\/\//i);
  });
});

describe('HTML report in headless Chromium', () => {
  let browser: Browser | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'precog-report-'));

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens the rendered report as a file:// page, recording console errors and every request. */
  async function open(report: RunReport, name: string) {
    const executablePath = findChromium();
    if (!executablePath) throw new Error(NO_CHROMIUM);
    browser ??= await chromium.launch({
      executablePath,
      timeout: BROWSER_TIMEOUT,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const file = join(dir, name);
    writeFileSync(file, renderHtmlReport(report));
    const url = pathToFileURL(file).href;
    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(url, { waitUntil: 'load' });
    return { page, url, errors, requests };
  }

  const rows = (page: Page, testId: string) => page.locator(`[data-testid="${testId}"] tbody tr`).count();

  it(
    'shows the full report: headline numbers, charts and tables, with no errors and no network',
    async () => {
      const report = runReportFixture();
      const { page, url, errors, requests } = await open(report, 'report.html');

      expect(await page.title()).toContain(report.scenario);

      // The headline P&L is the exact decimal sum of the positions' P&L, rounded to cents.
      const realized = report.positions.reduce((sum, p) => sum.plus(p.realizedPnl), new Decimal(0));
      expect(realized.toFixed(4)).toBe(report.totals.realizedPnl);
      expect(await page.getByTestId('realized-pnl').textContent()).toBe('−$2.18');
      expect(await page.getByTestId('fees').textContent()).toBe('$1.63');
      expect(await page.getByTestId('entries').textContent()).toBe(String(report.totals.entries));
      expect(await page.getByTestId('exits').textContent()).toBe(String(report.totals.exits));
      expect(await page.getByTestId('trades').textContent()).toBe(String(report.trades.length));
      expect(await page.getByTestId('starting-balance').textContent()).toBe('$1,000.00');
      expect(await page.getByTestId('ending-balance').textContent()).toBe('$992.46');
      expect(await page.getByTestId('open-positions').textContent()).toBe('1');

      expect(await rows(page, 'trades-table')).toBe(report.trades.length);
      expect(await rows(page, 'exits-by-condition')).toBe(report.exitsByCondition.length);
      expect(await rows(page, 'exits-table')).toBe(report.exits.length);
      expect(await rows(page, 'exit-attempts-table')).toBe(report.exitAttempts.length);
      expect(await rows(page, 'positions-table')).toBe(report.positions.length);
      expect(await rows(page, 'strategy-table')).toBe(report.byStrategy.length);
      expect(await rows(page, 'breakers-table')).toBe(report.breakerEvents.length);
      expect(await rows(page, 'games-table')).toBe(report.games.length);
      expect(await page.getByTestId('games-table').textContent()).toContain('KC 27 – 24 LAC');

      // One equity point per sample.
      const points = await page.locator('[data-testid="equity-chart"] polyline').getAttribute('points');
      expect(points?.trim().split(/\s+/)).toHaveLength(report.samples.length);

      // A chart per market, with one marker per trade of that market.
      const tickers = report.games.flatMap((g) => g.tickers);
      expect(tickers).toHaveLength(3);
      for (const ticker of tickers) {
        const chart = page.getByTestId(`market-chart-${ticker}`);
        await expect(chart.count()).resolves.toBe(1);
        expect(await chart.locator('path.bid').getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+L/);
        expect(await chart.locator('[data-testid="trade-marker"][data-kind="entry"]').count()).toBe(
          report.trades.filter((t) => t.ticker === ticker && t.purpose === 'entry').length,
        );
        expect(await chart.locator('[data-testid="trade-marker"][data-kind="exit"]').count()).toBe(
          report.trades.filter((t) => t.ticker === ticker && t.purpose === 'exit').length,
        );
      }
      // The walked exit shows its three attempts.
      expect(await page.getByTestId('exits-table').locator('tr', { hasText: 'walked' }).count()).toBe(1);

      const html = await page.content();
      expect(html).not.toMatch(/NaN|Infinity/);

      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
      await page.close();
    },
    BROWSER_TIMEOUT,
  );

  it(
    'shows an empty run without errors',
    async () => {
      const { page, url, errors, requests } = await open(emptyRunReport(), 'empty.html');
      expect(await page.getByTestId('equity-empty').textContent()).toBe('no samples');
      expect(await page.getByTestId('realized-pnl').textContent()).toBe('$0.00');
      expect(await rows(page, 'breakers-table')).toBe(1);
      expect(await page.getByTestId('breakers-table').locator('tbody').innerText()).toBe('none');
      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
      await page.close();
    },
    BROWSER_TIMEOUT,
  );
});
