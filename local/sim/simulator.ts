import type { KeyObject } from 'node:crypto';
import type { EventData, Market, Series } from 'kalshi-typescript';
import { currentClock, type Clock } from '../../shared/clock/clock';
import { Decimal } from '../../shared/domain/decimal';
import { startTestServer, type RecordedRequest, type TestServer } from './httpServer';
import { KalshiPortfolioSim, type PortfolioState } from './kalshiPortfolioSim';
import { compileScript, gameDateOf, NOISE_STEP_SECONDS, schedule, type CompiledGame, type GameSnapshot, type Scenario } from './scenario';

/**
 * The local venue and feed: one HTTP server speaking Kalshi's Trade API v2 (series, events with
 * nested markets, markets, order book, and the signed portfolio: orders, fills, positions,
 * balance, settlements) and ESPN's NFL scoreboard, both playing a scenario on the run's clock
 * (shared/clock): sim second 0 is `startMs`, and every timestamp served is read from that clock.
 *
 * Every `quoteStepSeconds` of game time (15 by default; 60 in `npm start`) and at each phase change the quotes move to the script's price at that
 * instant and the depth at the best bid and ask refills; resting orders the new quotes cross fill
 * as maker, stamped with that instant. At the final whistle the markets close (orders refused:
 * `market_closed`), and `settleAfterMinutes` later they settle: the account is paid and the
 * markets report `finalized` with their result.
 *
 * Deterministic: what the venue answers is a function of the requests and the clock's times only.
 * The quote steps are applied one by one as of their own instant whenever the venue is next
 * looked at (`update`), so the state at time t does not depend on how often anything looked
 * before t; ids are sequence numbers.
 */

const API = '/trade-api/v2';
const ESPN = '/apis/site/v2/sports';
export const GAME_SERIES = 'KXNFLGAME';
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

export interface SimGame {
  compiled: CompiledGame;
  eventTicker: string;
  homeTicker: string;
  awayTicker: string;
  espnId: string;
}

export interface SimulatorOptions {
  scenario: Scenario;
  /**
   * The run's clock: the game, every timestamp served and the signature check read it. Default:
   * the clock installed in the process (`currentClock()`), read at each use.
   */
  clock?: Pick<Clock, 'nowMs'>;
  /**
   * Epoch ms of sim second 0: `scenario.startMs`, or `startOnGameDate(scenario, date)` for a run
   * moved to another date. The games' date (event tickers, scoreboard) is its kickoff's US Eastern date.
   */
  startMs: number;
  /** Digits that make this run's ids unique in a database that holds other runs: ESPN game ids, order and fill ids. */
  runTag: string;
  keyId: string;
  publicKey: KeyObject | string;
  balanceDollars: string;
  /** A saved account (resume). */
  portfolio?: PortfolioState;
  /** After every change of the account. */
  onChange?: () => void;
  /** Signed timestamps further than this from the clock are refused. Default 5 minutes. */
  maxClockSkewMs?: number;
  /**
   * Seconds between the venue's quote refreshes (default 15, the script's noise step). `npm start`
   * uses 60: the quotes change on the minute, the instant ingestion reads them, so what the venue
   * ever showed is exactly what the run recorded and a backtest of its tape can fill as it did
   * (docs/backtest.md, parity). A whole number of seconds dividing 60.
   */
  quoteStepSeconds?: number;
}

export interface MarketView {
  ticker: string;
  status: 'active' | 'closed' | 'finalized';
  yesBid: Decimal | null;
  yesAsk: Decimal | null;
}


export class KalshiSimulator {
  readonly games: SimGame[];
  readonly portfolio: KalshiPortfolioSim;
  /** The games' date (YYYY-MM-DD, US Eastern). */
  readonly gameDate: string;
  private readonly clock: Pick<Clock, 'nowMs'>;
  private readonly startMs: number;
  private readonly settleAt: number;
  private readonly finalAt: number;
  /** Phase changes (quarter starts and ends, final whistle, settlement), ms after sim second 0: quote refreshes besides the regular steps. */
  private readonly phaseChangesMs: number[];
  /** Between two quote refreshes (besides the phase changes), ms. */
  private readonly stepMs: number;
  private server?: TestServer;

  constructor(private readonly options: SimulatorOptions) {
    const { scenario } = options;
    if (!Number.isSafeInteger(options.startMs)) throw new RangeError(`simulator: startMs must be whole epoch milliseconds, not ${options.startMs}`);
    this.clock = options.clock ?? { nowMs: () => currentClock().nowMs() };
    this.startMs = options.startMs;
    const step = options.quoteStepSeconds ?? NOISE_STEP_SECONDS;
    if (!Number.isSafeInteger(step) || step <= 0 || 60 % step !== 0) throw new RangeError(`simulator: quoteStepSeconds must be a whole number of seconds dividing 60, not ${step}`);
    this.stepMs = step * 1000;
    this.gameDate = gameDateOf(options.startMs, scenario.timing);
    const [y, m, d] = this.gameDate.split('-');
    const datePart = `${y!.slice(2)}${MONTHS[Number(m) - 1]}${d}`;
    this.games = scenario.games.map((script, i) => {
      const event = `${GAME_SERIES}-${datePart}${script.away.abbr}${script.home.abbr}`;
      return {
        compiled: compileScript(script, scenario.timing), eventTicker: event,
        homeTicker: `${event}-${script.home.abbr}`, awayTicker: `${event}-${script.away.abbr}`, espnId: `4019${options.runTag}${i}`,
      };
    });
    const s = schedule(scenario.timing);
    this.finalAt = s.final;
    this.settleAt = s.settle;
    this.phaseChangesMs = [...s.quarters.flatMap((q) => [q, q + 15 * 60]), s.final, s.settle].map((x) => Math.round(x * 1000)).sort((a, b) => a - b);
    this.portfolio = new KalshiPortfolioSim({
      keyId: options.keyId, publicKey: options.publicKey, balanceDollars: options.balanceDollars,
      clock: this.clock, onChange: options.onChange, maxClockSkewMs: options.maxClockSkewMs ?? 5 * 60_000, idPrefix: `${options.runTag}-`,
      // Trading stops at the final whistle (refused after the signature is checked, as Kalshi does).
      isTrading: () => this.now() < this.finalAt,
    });
    if (options.portfolio) this.portfolio.importState(options.portfolio);
  }

  async start(): Promise<this> {
    this.update();
    this.server = await startTestServer((req) => this.handle(req), { record: false, clock: this.clock });
    return this;
  }

  get url(): string {
    if (!this.server) throw new Error('simulator not started');
    return this.server.url;
  }

  /** What KALSHI_BASE_URL should be. */
  get tradeApiUrl(): string {
    return `${this.url}${API}`;
  }

  /** What ESPN_BASE_URL should be. */
  get espnBaseUrl(): string {
    return `${this.url}${ESPN}`;
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  /** Sim seconds at which every market has settled. */
  get endsAt(): number {
    return this.settleAt;
  }

  get finalWhistleAt(): number {
    return this.finalAt;
  }

  /** Sim seconds: (clock − startMs) / 1000. */
  now(): number {
    return (this.clock.nowMs() - this.startMs) / 1000;
  }

  /** The epoch ms of sim second t. */
  instantAt(t: number): number {
    return this.startMs + Math.round(t * 1000);
  }

  /**
   * The sim second of the quote refresh in force at sim second t: the latest 15 s step or phase
   * change at or before t. The venue's prices are the script's at that instant.
   */
  refreshAt(t: number): number {
    return this.refreshAtMs(Math.round(t * 1000)) / 1000;
  }

  private refreshAtMs(offsetMs: number): number {
    let at = Math.floor(offsetMs / this.stepMs) * this.stepMs;
    for (const change of this.phaseChangesMs) if (change <= offsetMs && change > at) at = change;
    return at;
  }

  private nextRefreshMs(afterMs: number): number {
    let next = (Math.floor(afterMs / this.stepMs) + 1) * this.stepMs;
    for (const change of this.phaseChangesMs) if (change > afterMs && change < next) next = change;
    return next;
  }

  snapshot(game: SimGame, t = this.now()): GameSnapshot {
    return game.compiled.snapshot(t);
  }

  /** Both markets of a game as the venue shows them at sim second t (prices of the refresh in force). */
  markets(game: SimGame, t = this.now()): MarketView[] {
    const snap = this.snapshot(game, this.refreshAt(t));
    const status = t >= this.settleAt ? 'finalized' : t >= this.finalAt ? 'closed' : 'active';
    const open = status === 'active';
    const home = { yesBid: open ? snap.home.yesBid : null, yesAsk: open ? snap.home.yesAsk : null };
    const one = new Decimal(1);
    return [
      { ticker: game.homeTicker, status, ...home },
      { ticker: game.awayTicker, status, yesBid: home.yesAsk && one.minus(home.yesAsk), yesAsk: home.yesBid && one.minus(home.yesBid) },
    ];
  }

  /**
   * What one contract of `side` in `ticker` is worth now: its bid while the market trades, then
   * (after the whistle, before and after settlement) what it pays at the final score.
   */
  markValue(ticker: string, side: 'yes' | 'no', t = this.now()): Decimal {
    const game = this.games.find((g) => g.homeTicker === ticker || g.awayTicker === ticker);
    if (!game) return new Decimal(0);
    if (t >= this.finalAt) {
      const [home, away] = game.compiled.finalScore();
      const yesWins = ticker === game.homeTicker ? home > away : away > home;
      return new Decimal(yesWins === (side === 'yes') ? 1 : 0);
    }
    const q = this.portfolio.quote(ticker);
    return (side === 'yes' ? q?.yes.bid : q?.no.bid) ?? new Decimal(0);
  }

  /**
   * Brings the venue to the clock: every quote refresh due since the last one is applied in turn,
   * as of its own instant (new quotes and fresh depth, resting orders crossed by them filled,
   * markets settled once their time has come). A sim that was never updated starts from sim second
   * 0 (or its first refresh before it), a resumed one from the refresh its saved account was at
   * (an account saved before the books were kept: from the refresh in force now).
   */
  update(): void {
    const nowMs = this.clock.nowMs() - this.startMs;
    const settleMs = Math.round(this.settleAt * 1000);
    const asOf = this.portfolio.quotesAsOfMs;
    let applied: number;
    if (asOf === null) {
      applied = this.refreshAtMs(this.options.portfolio ? nowMs : Math.min(nowMs, 0));
      this.applyRefresh(applied);
    } else {
      applied = asOf - this.startMs;
    }
    while (applied < nowMs) {
      // Settled: nothing moves any more, the refreshes only keep the books empty.
      const next = applied >= settleMs ? this.refreshAtMs(nowMs) : this.nextRefreshMs(applied);
      if (next > nowMs || next === applied) break;
      if (applied >= settleMs) this.portfolio.quotesAsOfMs = this.startMs + next;
      else this.applyRefresh(next);
      applied = next;
    }
  }

  /** The quote refresh at `offsetMs` after sim second 0, applied as of that instant. */
  private applyRefresh(offsetMs: number): void {
    const t = offsetMs / 1000;
    const at = this.startMs + offsetMs;
    for (const game of this.games) {
      const snap = this.snapshot(game, t);
      const [home, away] = this.markets(game, t);
      for (const view of [home!, away!]) {
        if (view.status !== 'active') {
          this.portfolio.setMarket(view.ticker, {});
          continue;
        }
        const one = new Decimal(1);
        this.portfolio.setMarket(view.ticker, {
          yes: { bid: view.yesBid!.toFixed(4), ask: view.yesAsk!.toFixed(4), depth: snap.home.depth },
          no: { bid: one.minus(view.yesAsk!).toFixed(4), ask: one.minus(view.yesBid!).toFixed(4), depth: snap.home.depth },
        });
        this.portfolio.matchResting(view.ticker, at);
      }
      if (t >= this.settleAt) {
        const [homeScore, awayScore] = game.compiled.finalScore();
        this.portfolio.settle(game.homeTicker, game.eventTicker, homeScore > awayScore ? 'yes' : 'no', at);
        this.portfolio.settle(game.awayTicker, game.eventTicker, homeScore > awayScore ? 'no' : 'yes', at);
      }
    }
    this.portfolio.quotesAsOfMs = at;
  }

  // --- HTTP ----------------------------------------------------------------------------------

  private handle(req: RecordedRequest) {
    this.update();
    if (req.path.startsWith(ESPN)) return this.scoreboard(req);
    if (!req.path.startsWith(`${API}/`)) return undefined;
    const path = req.path.slice(API.length);
    if (path.startsWith('/portfolio/')) {
      return this.portfolio.handle(req);
    }
    if (path === `/series/${GAME_SERIES}`) return { json: { series: this.series() } };
    if (path.startsWith('/series/')) return { status: 404, json: { error: { code: 'not_found', message: 'series not found' } } };
    if (path === '/events') {
      const series = req.query.get('series_ticker');
      const status = req.query.get('status');
      const events = this.games
        .filter(() => !series || series === GAME_SERIES)
        .map((g) => this.event(g))
        .filter((e) => (status === 'open' ? e.markets!.some((m) => m.status === 'active') : true));
      return { json: { events, cursor: '' } };
    }
    if (path === '/markets') {
      const tickers = req.query.get('tickers')?.split(',');
      const all = this.games.flatMap((g) => this.marketPayloads(g));
      return { json: { markets: tickers ? all.filter((m) => tickers.includes(m.ticker)) : all, cursor: '' } };
    }
    const book = /^\/markets\/([^/]+)\/orderbook$/.exec(path);
    if (book) {
      const ticker = decodeURIComponent(book[1]!);
      const q = this.portfolio.quote(ticker);
      if (!this.games.some((g) => g.homeTicker === ticker || g.awayTicker === ticker)) {
        return { status: 404, json: { error: { code: 'not_found', message: 'market not found' } } };
      }
      const level = (price: Decimal | null | undefined, depth: number) => (price && depth > 0 ? [[price.toFixed(4), `${depth}.00`]] : []);
      return { json: { orderbook_fp: { yes_dollars: level(q?.yes.bid, q?.yes.bidDepth ?? 0), no_dollars: level(q?.no.bid, q?.no.bidDepth ?? 0) } } };
    }
    const one = /^\/markets\/([^/]+)$/.exec(path);
    if (one) {
      const market = this.games.flatMap((g) => this.marketPayloads(g)).find((m) => m.ticker === decodeURIComponent(one[1]!));
      return market ? { json: { market } } : { status: 404, json: { error: { code: 'not_found', message: 'market not found' } } };
    }
    return undefined;
  }

  private series(): Series {
    return {
      ticker: GAME_SERIES, frequency: 'custom', title: 'Professional Football Game', category: 'Sports', categories: ['Sports'], tags: ['Football'],
      settlement_sources: null, contract_url: 'https://kalshi.com/contracts/nfl', contract_terms_url: 'https://kalshi.com/contracts/nfl/terms',
      fee_type: 'quadratic', fee_multiplier: 1, additional_prohibitions: null,
    } as unknown as Series;
  }

  private event(game: SimGame): EventData {
    const { home, away } = game.compiled.script;
    return {
      event_ticker: game.eventTicker, series_ticker: GAME_SERIES, sub_title: `${away.abbr} at ${home.abbr}`, title: `${away.name} at ${home.name}`,
      collateral_return_type: '', mutually_exclusive: true, category: 'Sports', settlement_sources: null, markets: this.marketPayloads(game),
    } as unknown as EventData;
  }

  private marketPayloads(game: SimGame): Market[] {
    const t = this.now();
    const snap = this.snapshot(game, t);
    const { home, away } = game.compiled.script;
    const [homeScore, awayScore] = game.compiled.finalScore();
    const iso = (ms: number) => new Date(ms).toISOString();
    const closeTime = iso(this.instantAt(this.finalAt));
    // Listed the day before the game. updated_time is Kalshi's last non-trading change: the
    // listing, then the close at the whistle, then the settlement.
    const openTime = iso(this.startMs - 86_400_000);
    const updatedTime = t >= this.settleAt ? iso(this.instantAt(this.settleAt)) : t >= this.finalAt ? closeTime : openTime;
    return this.markets(game, t).map((view, i) => {
      const team = i === 0 ? home : away;
      const won = i === 0 ? homeScore > awayScore : awayScore > homeScore;
      const q = this.portfolio.quote(view.ticker);
      const price = (d: Decimal | null) => (d ? d.toFixed(4) : '0.0000');
      const noBid = view.yesAsk ? new Decimal(1).minus(view.yesAsk) : null;
      const noAsk = view.yesBid ? new Decimal(1).minus(view.yesBid) : null;
      return {
        ticker: view.ticker, event_ticker: game.eventTicker, market_type: 'binary', title: `${away.name} at ${home.name} Winner?`,
        yes_sub_title: team.name, no_sub_title: team.name, created_time: openTime, updated_time: updatedTime, open_time: openTime,
        close_time: closeTime, latest_expiration_time: iso(this.instantAt(this.settleAt) + 7 * 86_400_000),
        settlement_timer_seconds: 60, status: view.status,
        yes_bid_dollars: price(view.yesBid), yes_bid_size_fp: `${q?.yes.bidDepth ?? 0}.00`,
        yes_ask_dollars: view.yesAsk ? price(view.yesAsk) : '1.0000', yes_ask_size_fp: `${q?.yes.askDepth ?? 0}.00`,
        no_bid_dollars: price(noBid), no_ask_dollars: noAsk ? price(noAsk) : '1.0000',
        last_price_dollars: view.yesBid ? price(view.yesBid) : won ? '0.9900' : '0.0100',
        volume_fp: `${snap.home.volume}.00`, open_interest_fp: `${Math.floor(snap.home.volume / 3)}.00`, notional_value_dollars: '1.0000',
        result: view.status === 'finalized' ? (won ? 'yes' : 'no') : '',
        ...(view.status === 'finalized' ? { settlement_value_dollars: won ? '1.0000' : '0.0000' } : {}),
        can_close_early: true, previous_yes_bid_dollars: price(view.yesBid), previous_yes_ask_dollars: price(view.yesAsk),
        previous_price_dollars: price(view.yesBid), expiration_value: '', rules_primary: `If ${team.name} wins the game, the market resolves to Yes.`,
        rules_secondary: '', price_level_structure: 'linear_cent', price_ranges: [],
      } as unknown as Market;
    });
  }

  private scoreboard(req: RecordedRequest) {
    if (req.path !== `${ESPN}/football/nfl/scoreboard`) return { status: 404, json: { code: 404, message: 'not found' } };
    const t = this.now();
    // ESPN dates the game at its kickoff, without seconds when it has none ("2026-09-13T17:02Z").
    const kickoffIso = new Date(this.instantAt(schedule(this.options.scenario.timing).quarters[0])).toISOString();
    const kickoff = kickoffIso.endsWith(':00.000Z') ? `${kickoffIso.slice(0, 16)}Z` : kickoffIso;
    const events = this.games.map((g) => {
      const snap = this.snapshot(g, t);
      const { home, away } = g.compiled.script;
      const status = espnStatus(snap);
      const competitor = (side: 'home' | 'away', team: { abbr: string; name: string }, score: number, id: string) => ({
        id, type: 'team', order: side === 'home' ? 0 : 1, homeAway: side,
        team: { id, location: team.name.split(' ').slice(0, -1).join(' '), name: team.name.split(' ').at(-1), abbreviation: team.abbr, displayName: team.name, shortDisplayName: team.name.split(' ').at(-1) },
        score: String(score),
      });
      const date = kickoff;
      return {
        id: g.espnId, uid: `s:20~l:28~e:${g.espnId}`, date, name: `${away.name} at ${home.name}`, shortName: `${away.abbr} @ ${home.abbr}`,
        season: { year: Number(this.gameDate.slice(0, 4)), type: 2, slug: 'regular-season' },
        competitions: [{
          id: g.espnId, date, neutralSite: false,
          competitors: [competitor('home', home, snap.homeScore, `${g.espnId}1`), competitor('away', away, snap.awayScore, `${g.espnId}2`)],
          status,
        }],
        status,
      };
    });
    return { json: { leagues: [{ id: '28', abbreviation: 'NFL' }], events } };
  }
}

function espnStatus(snap: GameSnapshot) {
  const p = snap.phase;
  const ordinal = ['', '1st', '2nd', '3rd', '4th'];
  const clock = (s: number) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  switch (p.kind) {
    case 'pre':
      return { clock: 0, displayClock: '0:00', period: 0, type: { id: '1', name: 'STATUS_SCHEDULED', state: 'pre', completed: false, description: 'Scheduled', detail: 'Scheduled', shortDetail: 'Scheduled' } };
    case 'live':
      return {
        clock: p.clockSeconds, displayClock: clock(p.clockSeconds), period: p.period,
        type: { id: '2', name: 'STATUS_IN_PROGRESS', state: 'in', completed: false, description: 'In Progress', detail: `${clock(p.clockSeconds)} - ${ordinal[p.period]} Quarter`, shortDetail: `${clock(p.clockSeconds)} - ${ordinal[p.period]}` },
      };
    case 'break':
      return { clock: 0, displayClock: '0:00', period: p.period, type: { id: '22', name: 'STATUS_END_PERIOD', state: 'in', completed: false, description: 'End of Period', detail: `End of ${ordinal[p.period]} Quarter`, shortDetail: `End of ${ordinal[p.period]}` } };
    case 'halftime':
      return { clock: 0, displayClock: '0:00', period: 2, type: { id: '23', name: 'STATUS_HALFTIME', state: 'in', completed: false, description: 'Halftime', detail: 'Halftime', shortDetail: 'Halftime' } };
    case 'final':
      return { clock: 0, displayClock: '0:00', period: 4, type: { id: '3', name: 'STATUS_FINAL', state: 'post', completed: true, description: 'Final', detail: 'Final', shortDetail: 'Final' } };
  }
}

