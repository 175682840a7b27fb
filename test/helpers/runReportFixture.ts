import { Decimal } from 'decimal.js';
import { exitFillPnl, exitOutcomes, maxDrawdown, positionExitDetails, strategyEquitySeries } from '../../local/report/series';
import type {
  ReportExit,
  ReportModelLine,
  ReportSettlement,
  ReportExitAttempt,
  ReportPosition,
  ReportSample,
  ReportStrategyPnl,
  ReportTrade,
  RunReport,
} from '../../local/report/types';

/**
 * A realistic RunReport of a two-game local run: three markets, 60 one-minute samples, entries and
 * exits of several conditions (one exit walked its price over three attempts), an open position,
 * two strategies and one breaker event. Every derived figure (fees, P&L, balances, held contracts,
 * equity) is computed from the trades with decimal.js, so the report is self-consistent.
 */

export const KC = 'KXNFLGAME-25SEP05KCLAC-KC';
export const LAC = 'KXNFLGAME-25SEP05KCLAC-LAC';
export const BUF = 'KXNFLGAME-25SEP07BUFMIA-BUF';
/** Quoted all game, never traded: the report draws no chart for it. */
export const MIA = 'KXNFLGAME-25SEP07BUFMIA-MIA';
const TICKERS = [KC, LAC, BUF, MIA];

const HALFTIME = 'halftime_entry v1.0';
const FADE = 'momentum_fade v0.3';
const START = Date.parse('2025-09-07T17:00:00.000Z');
/** One game minute every two wall seconds (speed ×30). */
const MINUTE_MS = 2_000;

const minuteAt = (minute: number, offsetMs = 0) => new Date(START + minute * MINUTE_MS + offsetMs).toISOString();

/** Kalshi's taker fee: 0.07 × C × P × (1 − P), rounded up to the cent. */
function fee(quantity: number, price: string): string {
  const p = new Decimal(price);
  return p.times(new Decimal(1).minus(p)).times(quantity).times('0.07').toDecimalPlaces(2, Decimal.ROUND_UP).toFixed(4);
}

/** Synthetic YES mid per ticker and minute (test data only: floats never touch report money). */
function yesMid(ticker: string, minute: number): number {
  if (ticker === MIA) return 1 - yesMid(BUF, minute);
  const base = ticker === KC ? 0.45 : ticker === LAC ? 0.55 : 0.52;
  const drift = ticker === KC ? 0.004 : ticker === LAC ? -0.004 : 0.006;
  const wave = ticker === BUF ? 0.08 * Math.sin(minute / 6) : 0.05 * Math.sin(minute / 9 + 1);
  return Math.min(0.97, Math.max(0.03, base + drift * minute + wave));
}

/** The quoted YES bid/ask of a ticker at a minute, in cents. */
function quote(ticker: string, minute: number): { yesBid: Decimal; yesAsk: Decimal } {
  const mid = new Decimal(yesMid(ticker, minute).toFixed(2));
  return { yesBid: mid.minus('0.01'), yesAsk: mid.plus('0.01') };
}

/** The model's YES probability of a ticker at a minute: ahead of the market by a few cents (test data). */
function modelYes(ticker: string, minute: number): Decimal {
  const lead = ticker === BUF || ticker === KC ? 0.07 : -0.07;
  return new Decimal(Math.min(0.99, Math.max(0.01, yesMid(ticker, minute) + lead)).toFixed(2));
}
const MODEL_OF: Record<string, string> = { [KC]: 'elo_live v2.1', [LAC]: 'elo_live v2.1', [BUF]: 'logit_wp v1.1', [MIA]: 'logit_wp v1.1' };

/** Fills cross the spread: buy YES at the ask, sell YES at the bid; NO at 1 − the other side. */
function fillPrice(p: PlannedTrade): string {
  const { yesBid, yesAsk } = quote(p.ticker, p.minute);
  const one = new Decimal(1);
  const price =
    p.side === 'yes' ? (p.action === 'buy' ? yesAsk : yesBid) : p.action === 'buy' ? one.minus(yesBid) : one.minus(yesAsk);
  return price.toFixed(4);
}

interface PlannedTrade {
  minute: number;
  ticker: string;
  side: 'yes' | 'no';
  action: 'buy' | 'sell';
  quantity: number;
  purpose: 'entry' | 'exit';
  strategy: string;
  model: string;
  positionId: number;
  exitCondition: string | null;
}

const PLAN: PlannedTrade[] = [
  { minute: 10, ticker: BUF, side: 'yes', action: 'buy', quantity: 20, purpose: 'entry', strategy: FADE, model: 'logit_wp v1.1', positionId: 1, exitCondition: null },
  { minute: 25, ticker: BUF, side: 'yes', action: 'sell', quantity: 20, purpose: 'exit', strategy: FADE, model: 'logit_wp v1.1', positionId: 1, exitCondition: 'stop_loss' },
  { minute: 30, ticker: KC, side: 'yes', action: 'buy', quantity: 10, purpose: 'entry', strategy: HALFTIME, model: 'elo_live v2.1', positionId: 2, exitCondition: null },
  { minute: 31, ticker: LAC, side: 'no', action: 'buy', quantity: 15, purpose: 'entry', strategy: HALFTIME, model: 'elo_live v2.1', positionId: 3, exitCondition: null },
  { minute: 33, ticker: BUF, side: 'yes', action: 'buy', quantity: 8, purpose: 'entry', strategy: FADE, model: 'logit_wp v1.1', positionId: 4, exitCondition: null },
  { minute: 44, ticker: KC, side: 'yes', action: 'sell', quantity: 5, purpose: 'exit', strategy: HALFTIME, model: 'elo_live v2.1', positionId: 2, exitCondition: 'take_profit' },
  { minute: 55, ticker: LAC, side: 'no', action: 'sell', quantity: 15, purpose: 'exit', strategy: HALFTIME, model: 'elo_live v2.1', positionId: 3, exitCondition: 'trailing_stop' },
  { minute: 56, ticker: KC, side: 'yes', action: 'sell', quantity: 5, purpose: 'exit', strategy: HALFTIME, model: 'elo_live v2.1', positionId: 2, exitCondition: 'take_profit' },
];

export function runReportFixture(): RunReport {
  const trades: ReportTrade[] = PLAN.map((p, i) => {
    const price = fillPrice(p);
    const yes = modelYes(p.ticker, p.minute);
    const modelProbability = p.side === 'yes' ? yes : new Decimal(1).minus(yes);
    return {
      tradeId: 101 + i,
      // A fill lands a little after the sample of its minute.
      at: minuteAt(p.minute - 1, 700),
      ticker: p.ticker,
      side: p.side,
      action: p.action,
      quantity: String(p.quantity),
      price,
      fees: fee(p.quantity, price),
      purpose: p.purpose,
      strategy: p.strategy,
      model: p.model,
      positionId: p.positionId,
      exitCondition: p.exitCondition,
      modelProbability: modelProbability.toFixed(4),
      edge: modelProbability.minus(price).toFixed(4),
      trigger: p.purpose === 'entry' ? `${p.strategy.startsWith('halftime') ? 'halftime' : 'live'} entry` : `${p.exitCondition} (normal)`,
      realizedPnl: null,
    };
  });
  for (const [tradeId, pnl] of exitFillPnl(trades)) trades.find((t) => t.tradeId === tradeId)!.realizedPnl = pnl.toFixed(4);

  const positions: ReportPosition[] = [...new Set(trades.map((t) => t.positionId!))].map((id) => {
    const own = trades.filter((t) => t.positionId === id);
    const entry = own.find((t) => t.purpose === 'entry')!;
    const exits = own.filter((t) => t.purpose === 'exit');
    const sold = exits.reduce((n, t) => n + Number(t.quantity), 0);
    const fees = own.reduce((sum, t) => sum.plus(t.fees), new Decimal(0));
    const realized = exits.reduce((sum, t) => sum.plus(new Decimal(t.price).minus(entry.price).times(t.quantity)), new Decimal(0)).minus(fees);
    const closed = Number(entry.quantity) === sold;
    const position = {
      positionId: id,
      ticker: entry.ticker,
      strategy: entry.strategy,
      side: entry.side,
      entered: entry.quantity,
      entryPrice: entry.price,
      quantity: String(Number(entry.quantity) - sold),
      status: closed ? 'closed' : 'open',
      realizedPnl: realized.toFixed(4),
      closedBy: exits.map((t) => t.exitCondition!),
      fees: fees.toFixed(4),
    };
    return { ...position, ...positionExitDetails(position, trades, undefined) };
  });

  const exits: ReportExit[] = [
    { exitRequestId: 1, positionId: 1, ticker: BUF, strategy: FADE, condition: 'stop_loss', priority: 'critical', quantity: '20', filledQuantity: '20', status: 'filled', attempts: 3 },
    { exitRequestId: 2, positionId: 2, ticker: KC, strategy: HALFTIME, condition: 'take_profit', priority: 'normal', quantity: '5', filledQuantity: '5', status: 'filled', attempts: 1 },
    { exitRequestId: 3, positionId: 3, ticker: LAC, strategy: HALFTIME, condition: 'trailing_stop', priority: 'high', quantity: '15', filledQuantity: '15', status: 'filled', attempts: 1 },
    { exitRequestId: 4, positionId: 2, ticker: KC, strategy: HALFTIME, condition: 'take_profit', priority: 'normal', quantity: '5', filledQuantity: '5', status: 'filled', attempts: 1 },
    { exitRequestId: 5, positionId: 4, ticker: BUF, strategy: FADE, condition: 'take_profit', priority: 'normal', quantity: '8', filledQuantity: '0', status: 'expired', attempts: 1 },
  ];
  // Limits: the fill price, except the walked stop-loss, which asked two and one cents more first.
  const filledAt = (positionId: number, nth = 0) =>
    trades.filter((t) => t.positionId === positionId && t.purpose === 'exit')[nth]!.price;
  const walked = new Decimal(filledAt(1));
  const exitAttempts: ReportExitAttempt[] = [
    { exitRequestId: 1, positionId: 1, ticker: BUF, attempt: 1, orderType: 'limit', limitPrice: walked.plus('0.02').toFixed(4), filledQuantity: '0', outcome: 'unfilled' },
    { exitRequestId: 1, positionId: 1, ticker: BUF, attempt: 2, orderType: 'limit', limitPrice: walked.plus('0.01').toFixed(4), filledQuantity: '0', outcome: 'unfilled' },
    { exitRequestId: 1, positionId: 1, ticker: BUF, attempt: 3, orderType: 'limit', limitPrice: walked.toFixed(4), filledQuantity: '20', outcome: 'filled' },
    { exitRequestId: 2, positionId: 2, ticker: KC, attempt: 1, orderType: 'limit', limitPrice: filledAt(2, 0), filledQuantity: '5', outcome: 'filled' },
    { exitRequestId: 3, positionId: 3, ticker: LAC, attempt: 1, orderType: 'limit', limitPrice: filledAt(3), filledQuantity: '15', outcome: 'filled' },
    { exitRequestId: 4, positionId: 2, ticker: KC, attempt: 1, orderType: 'limit', limitPrice: filledAt(2, 1), filledQuantity: '5', outcome: 'filled' },
    { exitRequestId: 5, positionId: 4, ticker: BUF, attempt: 1, orderType: 'limit', limitPrice: quote(BUF, 52).yesBid.plus('0.03').toFixed(4), filledQuantity: '0', outcome: 'unfilled' },
  ];
  const exitsByCondition = [...new Set(exits.map((e) => `${e.condition}|${e.priority}`))].map((key) => {
    const [condition, priority] = key.split('|') as [string, string];
    return { condition, priority, count: exits.filter((e) => e.condition === condition && e.priority === priority).length };
  });

  const byStrategy: ReportStrategyPnl[] = [HALFTIME, FADE].map((strategy) => {
    const own = trades.filter((t) => t.strategy === strategy);
    const ownPositions = positions.filter((p) => p.strategy === strategy);
    return {
      strategy,
      trades: own.length,
      positions: ownPositions.length,
      realizedPnl: ownPositions.reduce((s, p) => s.plus(p.realizedPnl), new Decimal(0)).toFixed(4),
      fees: own.reduce((s, t) => s.plus(t.fees), new Decimal(0)).toFixed(4),
    };
  });

  // Cash and held contracts replayed from the trades, sampled once a game minute (1..60).
  const startingBalance = new Decimal('1000.0000');
  const samples: ReportSample[] = [];
  for (let minute = 1; minute <= 60; minute++) {
    const at = minuteAt(minute - 1);
    const done = trades.filter((t) => Date.parse(t.at) <= Date.parse(at));
    const cash = cashAfter(startingBalance, done);
    const markets: ReportSample['markets'] = {};
    let equity = cash;
    for (const ticker of TICKERS) {
      const q = quote(ticker, minute);
      // BUF's book is empty on the bid for a few minutes after its stop-loss sweep.
      const bidMissing = ticker === BUF && minute >= 26 && minute <= 28;
      const yesBid = bidMissing ? null : q.yesBid.toFixed(4);
      const yesAsk = q.yesAsk.toFixed(4);
      const own = done.filter((t) => t.ticker === ticker);
      const yesHeld = heldOf(own, 'yes');
      const noHeld = heldOf(own, 'no');
      markets[ticker] = { yesBid, yesAsk, held: yesHeld - noHeld };
      if (yesBid !== null) equity = equity.plus(new Decimal(yesBid).times(yesHeld));
      equity = equity.plus(new Decimal(1).minus(yesAsk).times(noHeld));
    }
    const realized = positions
      .filter((p) => done.some((t) => t.positionId === p.positionId && t.purpose === 'exit'))
      .reduce((s, p) => s.plus(p.realizedPnl), new Decimal(0));
    samples.push({ minute, at, equity: equity.toFixed(4), realizedPnl: realized.toFixed(4), markets });
  }

  const realizedPnl = positions.reduce((s, p) => s.plus(p.realizedPnl), new Decimal(0));
  const fees = trades.reduce((s, t) => s.plus(t.fees), new Decimal(0));
  // The markets of the finished game settle after the last sample; BUF's has not settled yet.
  const settlements: ReportSettlement[] = [
    { ticker: KC, outcome: 'yes', yesPayout: '1.0000', at: minuteAt(60, 1_200) },
    { ticker: LAC, outcome: 'no', yesPayout: '0.0000', at: minuteAt(60, 1_200) },
  ];
  // The model's reading every two minutes while the markets trade.
  const modelLines: ReportModelLine[] = TICKERS.map((ticker) => ({
    ticker,
    model: MODEL_OF[ticker]!,
    points: Array.from({ length: 30 }, (_, i) => ({ at: minuteAt(i * 2, 300), yesProbability: modelYes(ticker, i * 2 + 1).toFixed(4) })),
  }));
  return {
    scenario: 'two-games-halftime',
    description: 'Chiefs @ Chargers and Bills @ Dolphins played against the Kalshi simulator; halftime entries & momentum fades.',
    speed: 30,
    startedAt: minuteAt(0, -1_500),
    finishedAt: minuteAt(60, 2_300),
    wallSeconds: 123.8,
    venue: 'kalshi-sim',
    executionMode: 'live',
    resumed: false,
    games: [
      { name: 'Chiefs @ Chargers', home: 'LAC', away: 'KC', homeScore: 24, awayScore: 27, tickers: [KC, LAC] },
      { name: 'Bills @ Dolphins', home: 'MIA', away: 'BUF', homeScore: 10, awayScore: 31, tickers: [BUF, MIA] },
    ],
    startingBalance: startingBalance.toFixed(4),
    endingBalance: cashAfter(startingBalance, trades).toFixed(4),
    totals: {
      entries: trades.filter((t) => t.purpose === 'entry').length,
      exits: trades.filter((t) => t.purpose === 'exit').length,
      trades: trades.length,
      realizedPnl: realizedPnl.toFixed(4),
      fees: fees.toFixed(4),
      openPositions: positions.filter((p) => p.status === 'open').length,
      maxDrawdown: maxDrawdown(samples).toFixed(4),
    },
    trades,
    exits,
    exitsByCondition,
    exitAttempts,
    positions,
    byStrategy,
    breakerEvents: [
      {
        eventId: 1,
        type: 'daily_loss',
        trippedAt: minuteAt(24, 900),
        resolvedAt: minuteAt(28, 100),
        reason: 'the BUF stop-loss took the day\'s realized loss past the 0.1% limit: entries paused',
      },
    ],
    samples,
    settlements,
    modelLines,
    strategyEquity: strategyEquitySeries(trades, settlements, samples),
    exitOutcomes: exitOutcomes(trades, []),
  };
}

function cashAfter(start: Decimal, trades: ReportTrade[]): Decimal {
  return trades.reduce((cash, t) => {
    const notional = new Decimal(t.price).times(t.quantity);
    return (t.action === 'buy' ? cash.minus(notional) : cash.plus(notional)).minus(t.fees);
  }, start);
}

function heldOf(trades: ReportTrade[], side: 'yes' | 'no'): number {
  return trades.filter((t) => t.side === side).reduce((n, t) => n + (t.action === 'buy' ? Number(t.quantity) : -Number(t.quantity)), 0);
}

/** The report of a run that did nothing: every list empty. */
export function emptyRunReport(): RunReport {
  return {
    scenario: 'empty',
    description: '',
    speed: 1,
    startedAt: '2025-09-07T17:00:00.000Z',
    finishedAt: '2025-09-07T17:00:01.000Z',
    wallSeconds: 1,
    venue: 'paper',
    executionMode: 'paper',
    resumed: false,
    games: [],
    startingBalance: '1000.0000',
    endingBalance: '1000.0000',
    totals: { entries: 0, exits: 0, trades: 0, realizedPnl: '0.0000', fees: '0.0000', openPositions: 0, maxDrawdown: '0.0000' },
    trades: [],
    exits: [],
    exitsByCondition: [],
    exitAttempts: [],
    positions: [],
    byStrategy: [],
    breakerEvents: [],
    samples: [],
    settlements: [],
    modelLines: [],
    strategyEquity: [],
    exitOutcomes: [],
  };
}
