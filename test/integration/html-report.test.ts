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
import { BUF, KC, LAC, MIA, emptyRunReport, runReportFixture } from '../helpers/runReportFixture';

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
    // OTHER is quoted but never traded: a line, not an empty chart.
    expect(html).toContain('data-testid="market-untraded-OTHER"');
    expect(html).not.toContain('data-testid="market-chart-OTHER"');
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

      // A chart per traded market, with one marker per trade of that market.
      const tickers = [...new Set(report.trades.map((t) => t.ticker))];
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

  /** Bounding boxes in the SVG's own units (viewBox), by selector inside a chart. */
  const boxes = (page: Page, chartTestId: string, selector: string) =>
    page.getByTestId(chartTestId).evaluate((svg, sel) => [...svg.querySelectorAll(sel)].map((el) => {
      const b = (el as unknown as { getBBox(): { x: number; y: number; width: number; height: number } }).getBBox();
      return { x: b.x, y: b.y, width: b.width, height: b.height, cx: b.x + b.width / 2, cy: b.y + b.height / 2, testId: el.getAttribute('data-testid'), tradeId: el.getAttribute('data-trade-id'), side: el.getAttribute('data-side') };
    }), selector);
  /** The y (SVG units) of a price on a market chart's YES axis, read from its 0¢ and 100¢ grid lines. */
  const priceY = async (page: Page, chartTestId: string) => {
    const chart = page.getByTestId(chartTestId);
    const y0 = Number(await chart.locator('line.grid[data-price="0"]').getAttribute('y1'));
    const y1 = Number(await chart.locator('line.grid[data-price="1"]').getAttribute('y1'));
    return (price: Decimal) => y0 + price.toNumber() * (y1 - y0);
  };
  /** The texts of one column of a table, by its header. */
  const column = async (page: Page, tableTestId: string, head: string) => {
    const table = page.getByTestId(tableTestId);
    const heads = await table.locator('thead th').allTextContents();
    const index = heads.indexOf(head);
    expect(index, `column ${head} in ${heads.join(', ')}`).toBeGreaterThanOrEqual(0);
    return table.locator(`tbody tr td:nth-child(${index + 1})`).allTextContents();
  };

  it(
    'shows the fixed items: game minutes, settlement, model line, drawdown, per-strategy P&L, exit details, no chart for an untraded market, full width',
    async () => {
      const report = runReportFixture();
      const { page, errors } = await open(report, 'fixed.html');

      // Game minutes with one decimal: a fill 0.7 s after the sample of minute m (samples every 2 s) is at m + 0.35.
      const minutes = await column(page, 'trades-table', 'Game min');
      expect(minutes).toHaveLength(report.trades.length);
      for (const [i, text] of minutes.entries()) {
        expect(text).toMatch(/^\d{1,3}\.\d$/);
        const sampleMinute = report.samples.find((s) => Date.parse(s.at) === Date.parse(report.trades[i]!.at) - 700)!.minute;
        expect(Math.abs(Number(text) - (sampleMinute + 0.35))).toBeLessThanOrEqual(0.051);
      }

      // The settlement: one marker on each settled market at what a YES contract paid; none on BUF (not settled).
      for (const [ticker, payout] of [[KC, '1'], [LAC, '0']] as const) {
        const [marker, ...more] = await boxes(page, `market-chart-${ticker}`, '[data-testid="settlement-marker"]');
        expect(more).toEqual([]);
        expect(Math.abs(marker!.cy - (await priceY(page, `market-chart-${ticker}`))(new Decimal(payout)))).toBeLessThan(1);
      }
      expect(await page.getByTestId(`market-chart-${BUF}`).locator('[data-testid="settlement-marker"]').count()).toBe(0);

      // The model line beside the price: starts at the model's first reading and spans the game.
      for (const ticker of [KC, LAC, BUF]) {
        const line = report.modelLines.find((l) => l.ticker === ticker)!;
        const path = page.getByTestId(`market-chart-${ticker}`).locator('path[data-testid="model-line"]');
        expect(await path.count()).toBe(1);
        expect(await path.getAttribute('data-model')).toBe(line.model);
        const [firstY] = (await path.getAttribute('d'))!.match(/^M[\d.]+ ([\d.]+)/)!.slice(1).map(Number);
        expect(Math.abs(firstY! - (await priceY(page, `market-chart-${ticker}`))(new Decimal(line.points[0]!.yesProbability)))).toBeLessThan(0.2);
        const [box] = await boxes(page, `market-chart-${ticker}`, 'path[data-testid="model-line"]');
        const [axis] = await boxes(page, `market-chart-${ticker}`, 'line.grid[data-price="0"]');
        expect(box!.width).toBeGreaterThan(axis!.width * 0.9);
      }

      // Drawdown: the deepest fall below the running peak, recomputed here from the samples.
      let peak = new Decimal(report.samples[0]!.equity);
      let deepest = new Decimal(0);
      for (const s of report.samples) {
        peak = Decimal.max(peak, s.equity);
        deepest = Decimal.max(deepest, peak.minus(s.equity));
      }
      expect(deepest.gt(0)).toBe(true);
      expect(await page.getByTestId('max-drawdown').textContent()).toBe(formatDollars(deepest.negated().toFixed()));
      expect(await page.getByTestId('drawdown-chart').count()).toBe(1);
      const [area, ...moreAreas] = await boxes(page, 'drawdown-chart', '[data-testid="drawdown-area"]');
      expect(moreAreas).toEqual([]);
      const deepestTick = page.getByTestId('drawdown-chart').locator('text.tick', { hasText: formatDollars(deepest.negated().toFixed()) });
      expect(await deepestTick.count()).toBe(1);
      // The area reaches down to the deepest tick's grid line.
      const tickY = Number(await deepestTick.getAttribute('y')) - 4;
      expect(Math.abs(area!.y + area!.height - tickY)).toBeLessThan(0.5);

      // One P&L line per strategy version, ending at what its fills made.
      const strategies = report.byStrategy.map((s) => s.strategy).sort();
      const lines = page.getByTestId('strategy-equity-chart').locator('[data-testid="strategy-equity-line"]');
      expect(await lines.evaluateAll((els) => els.map((e) => e.getAttribute('data-name')).sort())).toEqual(strategies);
      for (const strategy of strategies) {
        const own = report.trades.filter((t) => t.strategy === strategy);
        // Cash of its fills plus what it still holds at the last sample's bid (all YES here).
        const last = report.samples[report.samples.length - 1]!;
        const cash = own.reduce((c, t) => (t.action === 'buy' ? c.minus(new Decimal(t.price).times(t.quantity)) : c.plus(new Decimal(t.price).times(t.quantity))).minus(t.fees), new Decimal(0));
        const held = report.positions.filter((p) => p.strategy === strategy && p.status === 'open')
          .reduce((v, p) => v.plus(new Decimal(last.markets[p.ticker]!.yesBid!).times(p.quantity)), new Decimal(0));
        await expect(page.getByTestId('strategy-equity-chart').locator('text', { hasText: `${strategy}: ${formatDollars(cash.plus(held).toFixed())} at the end` }).count()).resolves.toBe(1);
      }

      // Per-position exit details: exit price, fees, ROI, hold time, from the fills.
      const exitPrices = await column(page, 'positions-table', 'Exit price');
      const rois = await column(page, 'positions-table', 'ROI');
      const held = await column(page, 'positions-table', 'Held for');
      const fees = await column(page, 'positions-table', 'Fees');
      for (const [i, p] of report.positions.entries()) {
        const own = report.trades.filter((t) => t.positionId === p.positionId);
        const sells = own.filter((t) => t.purpose === 'exit');
        const sold = sells.reduce((n, t) => n + Number(t.quantity), 0);
        const average = sold === 0 ? null : sells.reduce((v, t) => v.plus(new Decimal(t.price).times(t.quantity)), new Decimal(0)).div(sold);
        expect(exitPrices[i]).toBe(average ? average.toFixed(2) : '—');
        expect(fees[i]).toBe(`$${own.reduce((f, t) => f.plus(t.fees), new Decimal(0)).toFixed(2)}`);
        if (p.status === 'open') {
          expect([rois[i], held[i]]).toEqual(['—', '—']);
          continue;
        }
        const roi = new Decimal(p.realizedPnl).div(new Decimal(p.entryPrice).times(p.entered)).times(100).toDecimalPlaces(1, Decimal.ROUND_HALF_UP);
        expect(rois[i]).toBe(`${roi.isNeg() ? '−' : '+'}${roi.abs().toFixed(1)}%`);
        const seconds = (Date.parse(sells[sells.length - 1]!.at) - Date.parse(own.find((t) => t.purpose === 'entry')!.at)) / 1000;
        expect(held[i]).toBe(`${seconds} s`);
      }

      // What happened, from the fills: the trailing stop lost after fees, and the report says so.
      const trailing = report.trades.filter((t) => t.exitCondition === 'trailing_stop');
      const trailingPnl = trailing.reduce((sum, t) => {
        const entry = report.trades.find((e) => e.positionId === t.positionId && e.purpose === 'entry')!;
        return sum.plus(new Decimal(t.price).minus(entry.price).times(t.quantity)).minus(t.fees).minus(entry.fees);
      }, new Decimal(0));
      expect(trailingPnl.isNeg()).toBe(true);
      const outcome = await page.locator('[data-testid="outcome"][data-condition="trailing_stop"]').textContent();
      expect(outcome).toContain('all at a loss after fees');
      expect(outcome).toContain(formatDollars(trailingPnl.toFixed()));

      // MIA was quoted all game and never traded: a note, no chart.
      expect(await page.getByTestId(`market-chart-${MIA}`).count()).toBe(0);
      expect(await page.getByTestId(`market-untraded-${MIA}`).textContent()).toContain('not traded');

      // Every chart uses the content width.
      const widths = await page.locator('main').evaluate((main) => {
        const style = (globalThis as unknown as { getComputedStyle(e: unknown): { paddingLeft: string; paddingRight: string } }).getComputedStyle(main);
        const content = main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return { content, charts: [...main.querySelectorAll('svg[data-testid]')].map((svg) => svg.getBoundingClientRect().width) };
      });
      expect(widths.charts.length).toBeGreaterThanOrEqual(6);
      for (const width of widths.charts) expect(Math.abs(width - widths.content)).toBeLessThan(2);

      expect(errors).toEqual([]);
      await page.close();
    },
    BROWSER_TIMEOUT,
  );

  it(
    'draws a NO fill at 1 − its price on the YES scale, hollow, and keeps markers that would coincide apart',
    async () => {
      const report = runReportFixture();
      // KC's second take-profit fills in the same second and at the same price as its first.
      const first = report.trades.find((t) => t.ticker === KC && t.purpose === 'exit')!;
      const second = report.trades.filter((t) => t.ticker === KC && t.purpose === 'exit')[1]!;
      second.at = first.at;
      second.price = first.price;
      const { page, errors } = await open(report, 'markers.html');

      const noEntry = report.trades.find((t) => t.ticker === LAC && t.side === 'no' && t.purpose === 'entry')!;
      const y = await priceY(page, `market-chart-${LAC}`);
      const [marker] = (await boxes(page, `market-chart-${LAC}`, '[data-testid="trade-marker"]')).filter((m) => m.tradeId === String(noEntry.tradeId));
      expect(marker!.side).toBe('no');
      // The entry triangle spans 7 above to 4 below its point.
      expect(Math.abs(marker!.y + 7 - y(new Decimal(1).minus(noEntry.price)))).toBeLessThan(0.2);
      expect(await page.getByTestId(`market-chart-${LAC}`).locator(`[data-trade-id="${noEntry.tradeId}"]`).getAttribute('class')).toContain('no');
      expect(await page.getByTestId(`market-chart-${LAC}`).textContent()).toContain('NO fill, at 1 − price');

      for (const ticker of [KC, LAC, BUF]) {
        const markers = await boxes(page, `market-chart-${ticker}`, '[data-testid="trade-marker"], [data-testid="settlement-marker"]');
        for (const [i, a] of markers.entries()) {
          for (const b of markers.slice(i + 1)) {
            const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
            expect(apart, `${ticker}: markers ${a.tradeId ?? a.testId} and ${b.tradeId ?? b.testId} overlap`).toBe(true);
          }
        }
      }
      // The moved marker is tied to its point.
      expect(await page.getByTestId(`market-chart-${KC}`).locator('line.leader').count()).toBe(1);
      expect(errors).toEqual([]);
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
