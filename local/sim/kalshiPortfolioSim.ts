import { constants, createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import type {
  AmendOrderV2Request, AmendOrderV2Response, BookSide, CancelOrderV2Response, CreateOrderV2Request, CreateOrderV2Response,
  ErrorResponse, Fill, GetBalanceResponse, GetFillsResponse, GetOrderResponse, GetOrdersResponse, GetPositionsResponse,
  GetSettlementsResponse, Market, MarketPosition, Order, PriceRange, Settlement,
} from 'kalshi-typescript';
import type { ExchangeStatus, GetAccountApiLimitsResponse } from 'kalshi-typescript';
import { currentClock, type Clock } from '../../shared/clock/clock';
import { Decimal } from '../../shared/domain/decimal';
import { DEFAULT_PRICE_LEVELS, isOnLevel, priceLevelsFromJson, priceLevelsToJson, type PriceLevels } from '../../shared/domain/priceLevels';
import type { KalshiCredentials } from '../../shared/venues/kalshi/signing';
import { startTestServer, type RecordedRequest, type Route, type TestServer } from './httpServer';

/**
 * A stateful Kalshi v2 portfolio over real HTTP: orders, fills, positions and balance, with a
 * simple matcher against scripted quotes, request signing verified with the account's PUBLIC key,
 * cursor pagination, failure injection per "METHOD path" and a read-lag knob. Responses are typed
 * with the `kalshi-typescript` models, so `tsc` proves they have the real API's shape.
 *
 * Like Kalshi since 2026, orders are written only through the V2 endpoints (Create, Cancel and
 * Amend Order V2 under /portfolio/events/orders: a single YES book, `bid`/`ask` at a YES price);
 * every V1 write (POST /portfolio/orders, DELETE /portfolio/orders/{id}, their amend/decrease)
 * is answered with `deprecated_v1_order_endpoint`, as HTTP 410 or as a 2xx holding only that
 * error (`v1WriteAnswer`). A market may quote on a 0.001 tick (`tick`); a price off the market's
 * tick is refused as Kalshi does.
 *
 * Matching: a buy fills at its side's ask when limit ≥ ask, a sell at its side's bid when
 * limit ≤ bid, up to the quote's depth (which it consumes), as taker with fee
 * ceil_to_cent(0.07 × n × P × (1 − P)). What remains rests (good_till_canceled) or is cancelled
 * (immediate_or_cancel; fill_or_kill fills all or nothing). Resting orders fill later, as maker,
 * through `fillResting` or `matchResting`.
 *
 * Time is the `clock`'s (shared/clock): every timestamp served, the Date header and the signature's
 * skew check. Ids (orders, fills, trades, a defaulted client order id) are sequence numbers, so the
 * same requests at the same times get the same answers, byte for byte; a resumed account
 * (`importState`) continues the sequence.
 */

const API = '/trade-api/v2';
const TAKER_RATE = new Decimal('0.07');
const MAKER_RATE = new Decimal('0.0175');

export interface SimSideQuote {
  /** Dollars ("0.5600"); null: nobody offers. */
  ask: string | null;
  bid: string | null;
  /** Contracts available at the ask and, separately, at the bid. Consumed by fills. */
  depth: number;
}

export interface SimMarketInput {
  yes?: Partial<SimSideQuote>;
  no?: Partial<SimSideQuote>;
  /** The market's price step, dollars: "0.01" (default) or "0.001", over the whole range. Orders off it are refused. */
  tick?: string;
  /**
   * The market's price levels (Kalshi's `price_ranges`), when they are not one step over the whole
   * range: an order price off them is refused, as the venue does. Wins over `tick`. Kept until
   * given again (quote updates leave them alone).
   */
  priceRanges?: PriceRange[];
}

/** A holding the account has in a market of its own (not traded by the test), seeded at start. */
export interface SimSeededHolding {
  ticker: string;
  side: 'yes' | 'no';
  /** Fixed-point contracts, possibly fractional ("2.97"). */
  count: string;
  /** Price paid per contract of `side`, dollars. */
  price: string;
}

export interface SimFailure {
  /** Answer with this status; absent: the real answer (use with delayMs for a slow response). */
  status?: number;
  /** How many next requests to "METHOD path" fail; decremented per use. */
  times: number;
  /** Perform the request first, then answer with the failure: the ambiguous case. */
  afterCommit?: boolean;
  retryAfterSeconds?: number;
  /** Delay before answering (a client timeout when larger than its timeoutMs). */
  delayMs?: number;
  /** Kalshi error code in the body; defaults by status. */
  code?: string;
  message?: string;
  /** The whole body instead of `{error: {code, message}}` (Kalshi's 429 is `{"error":"too many requests"}`). */
  body?: unknown;
  /** Answer with no body at all (e.g. a 2xx without an order). */
  emptyBody?: boolean;
}

export interface KalshiPortfolioSimOptions {
  /** The API key id requests must carry. */
  keyId: string;
  /** Verifies KALSHI-ACCESS-SIGNATURE: the public half of the client's key. */
  publicKey: KeyObject | string;
  markets?: Record<string, SimMarketInput>;
  /** Starting cash, dollars. Default "1000.0000". */
  balanceDollars?: string;
  /** Largest page served (a smaller `limit` query wins). Default 100. */
  pageSize?: number;
  /** New orders are missing from the next N order-list reads. Default 0. */
  readLag?: number;
  /** Timestamps further than this from the sim's clock are refused. Default 5 minutes. */
  maxClockSkewMs?: number;
  /** The venue's clock. Default: the clock installed in the process (`currentClock()`), read at each use. */
  clock?: Pick<Clock, 'nowMs'>;
  /** Put after "ord-", "fill-"…: ids unique across runs that share a database (e.g. "20260913-"). Default none. */
  idPrefix?: string;
  /**
   * Rewrites a successful JSON answer before it is sent (legacy cents payloads, malformed
   * records…); `key` is "METHOD path" with the path relative to /trade-api/v2.
   */
  transformResponse?: (key: string, json: unknown) => unknown;
  /** Called after every change of the account (orders, fills, cash, settlements): persist it here. */
  onChange?: () => void;
  /** Whether the market takes orders now; a closed market refuses them with 400 `market_closed`. */
  isTrading?: (ticker: string) => boolean;
  /**
   * How a retired V1 order write is answered: 'http410' (HTTP 410) or 'ok-with-error' (HTTP 200
   * whose body holds only the error, no order). Both carry code `deprecated_v1_order_endpoint`.
   */
  v1WriteAnswer?: 'http410' | 'ok-with-error';
  /**
   * Decimals of dollar amounts (fees, costs, exposure, P&L, balance) in responses: Kalshi emits 6
   * ("0.060000"), the default; 4 to replay older payloads. Prices stay 4 either way.
   */
  amountDecimals?: 4 | 6;
  /** Holdings seeded in other markets, e.g. a fractional "2.97" fill as Kalshi allows since 2026. */
  seededHoldings?: SimSeededHolding[];
}

/** Kalshi's answer to a retired V1 order write. */
export const DEPRECATED_V1_ORDER_ENDPOINT = 'deprecated_v1_order_endpoint';

/** The account as JSON (decimals as strings): what the local runtime saves to resume after a kill. */
export interface PortfolioState {
  cash: string;
  sequence: number;
  /** The books as they stand (their depth partly taken); absent in states saved before they were kept. */
  quotes?: [string, { yes: SavedQuote; no: SavedQuote }][];
  /** The instant (epoch ms) of the last quote refresh applied (see `quotesAsOfMs`). */
  quotesAsOfMs?: number | null;
  orders: (Omit<SimOrder, 'price' | 'takerFees' | 'makerFees' | 'takerCost' | 'makerCost'> & Record<'price' | 'takerFees' | 'makerFees' | 'takerCost' | 'makerCost', string>)[];
  fills: SimFill[];
  positions: [string, Omit<SimPosition, 'exposure' | 'realized' | 'fees' | 'traded'> & Record<'exposure' | 'realized' | 'fees' | 'traded', string>][];
  settlements: Settlement[];
}

interface SimOrder {
  id: string;
  clientOrderId: string;
  ticker: string;
  side: 'yes' | 'no';
  action: 'buy' | 'sell';
  /** Limit price of `side`, dollars. */
  price: Decimal;
  timeInForce: 'good_till_canceled' | 'immediate_or_cancel' | 'fill_or_kill';
  initial: number;
  filled: number;
  remaining: number;
  takerFees: Decimal;
  makerFees: Decimal;
  takerCost: Decimal;
  makerCost: Decimal;
  status: 'resting' | 'canceled' | 'executed';
  createdMs: number;
  updatedMs: number;
  expirationMs: number | null;
  hiddenForReads: number;
}

interface SimFill {
  fill: Fill;
  ms: number;
}

interface SimPosition {
  position: number;
  exposure: Decimal;
  realized: Decimal;
  fees: Decimal;
  traded: Decimal;
  updatedMs: number;
}

interface Quote {
  ask: Decimal | null;
  bid: Decimal | null;
  askDepth: number;
  bidDepth: number;
}

type SavedQuote = Omit<Quote, 'ask' | 'bid'> & Record<'ask' | 'bid', string | null>;

type Answer = NonNullable<ReturnType<Route>>;

/** An RSA key pair as Kalshi issues them, for tests: PKCS#8 PEM private key and the public key. */
export function generateKalshiKeyPair(): { privateKeyPem: string; publicKeyPem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKey,
  };
}

/** Credentials for a client and the public key for the sim that trusts them. */
export function kalshiTestCredentials(keyId = 'test-key-id'): { credentials: KalshiCredentials; publicKey: KeyObject } {
  const { privateKeyPem, publicKey } = generateKalshiKeyPair();
  return { credentials: { keyId, privateKeyPem }, publicKey };
}

export class KalshiPortfolioSim {
  /** Scripted failures by "METHOD path" (path relative to /trade-api/v2). */
  failures: Record<string, SimFailure> = {};
  readLag: number;
  pageSize: number;
  transformResponse?: (key: string, json: unknown) => unknown;

  private readonly keyId: string;
  private readonly publicKey: KeyObject;
  private readonly maxClockSkewMs: number;
  private readonly clock: Pick<Clock, 'nowMs'>;
  private readonly idPrefix: string;
  /**
   * The instant (epoch ms) of the last quote refresh the scenario simulator applied, kept with
   * the account so that a resumed simulator goes on from there; null: none yet.
   */
  quotesAsOfMs: number | null = null;
  private readonly quotes = new Map<string, { yes: Quote; no: Quote }>();
  private readonly levels = new Map<string, PriceLevels>();
  private readonly orderList: SimOrder[] = [];
  private readonly fillList: SimFill[] = [];
  private readonly positionMap = new Map<string, SimPosition>();
  private cash: Decimal;
  private sequence = 0;
  private readonly settlementList: Settlement[] = [];
  private readonly onChange?: () => void;
  private readonly isTrading?: (ticker: string) => boolean;
  private readonly amountDecimals: 4 | 6;
  v1WriteAnswer: 'http410' | 'ok-with-error';
  private server?: TestServer;

  constructor(options: KalshiPortfolioSimOptions) {
    this.keyId = options.keyId;
    this.publicKey = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
    this.maxClockSkewMs = options.maxClockSkewMs ?? 5 * 60_000;
    this.clock = options.clock ?? { nowMs: () => currentClock().nowMs() };
    this.idPrefix = options.idPrefix ?? '';
    this.readLag = options.readLag ?? 0;
    this.pageSize = options.pageSize ?? 100;
    this.transformResponse = options.transformResponse;
    this.cash = new Decimal(options.balanceDollars ?? '1000.0000');
    this.onChange = options.onChange;
    this.isTrading = options.isTrading;
    this.v1WriteAnswer = options.v1WriteAnswer ?? 'http410';
    this.amountDecimals = options.amountDecimals ?? 6;
    for (const [ticker, market] of Object.entries(options.markets ?? {})) this.setMarket(ticker, market);
    for (const holding of options.seededHoldings ?? []) this.seedHolding(holding);
  }

  /** Starts the HTTP server; `baseUrl` is then the Trade API root to give a client. */
  async start(): Promise<this> {
    this.server = await startTestServer((req) => this.handle(req), { clock: this.clock });
    return this;
  }

  /** Now on the venue's clock, epoch ms. */
  private now(): number {
    return this.clock.nowMs();
  }

  /** The next id of the sequence shared by orders and fills: "ord-000017", "fill-20260913-000018". */
  private nextId(kind: string): string {
    return `${kind}-${this.idPrefix}${String(++this.sequence).padStart(6, '0')}`;
  }

  get url(): string {
    return this.requireServer().url;
  }

  get baseUrl(): string {
    return `${this.url}${API}`;
  }

  /** Every request received, in order. */
  get requests(): RecordedRequest[] {
    return this.requireServer().requests;
  }

  /** Requests to "METHOD path" (path relative to /trade-api/v2, without the query). */
  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === `${API}${path}`);
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  // --- state, as the venue holds it ---------------------------------------------------------

  setMarket(ticker: string, market: SimMarketInput): void {
    const quote = (side?: Partial<SimSideQuote>): Quote => ({
      ask: side?.ask ? new Decimal(side.ask) : null,
      bid: side?.bid ? new Decimal(side.bid) : null,
      askDepth: side?.depth ?? 100,
      bidDepth: side?.depth ?? 100,
    });
    this.quotes.set(ticker, { yes: quote(market.yes), no: quote(market.no) });
    if (market.priceRanges) this.levels.set(ticker, priceLevelsFromJson(market.priceRanges));
    else if (market.tick !== undefined) {
      this.levels.set(ticker, priceLevelsFromJson([{ start: '0.0000', end: '1.0000', step: new Decimal(market.tick).toFixed(4) }]));
    }
  }

  /** The market's price levels (default: one cent over the whole range). */
  levelsOf(ticker: string): PriceLevels {
    return this.levels.get(ticker) ?? DEFAULT_PRICE_LEVELS;
  }

  /**
   * The tick fields of the market payload (`GET /markets/{ticker}`). Kalshi names the structure
   * and lists the valid ranges with their step; the ranges are what a client can act on.
   */
  priceLevels(ticker: string): Pick<Market, 'price_level_structure' | 'price_ranges'> {
    const ranges = priceLevelsToJson(this.levelsOf(ticker));
    const linearCent = ranges.length === 1 && new Decimal(ranges[0]!.step).eq('0.01');
    return { price_level_structure: linearCent ? 'linear_cent' : 'deci_cent', price_ranges: ranges };
  }

  /** A fill and the position it leaves in another market of the account, before any test trading. */
  private seedHolding(holding: SimSeededHolding): void {
    const count = Number(holding.count);
    if (!/^\d+(\.\d{1,2})?$/.test(holding.count) || !(count > 0)) throw new Error(`sim: seeded count ${holding.count} is not a fixed-point count`);
    const price = new Decimal(holding.price);
    const now = this.now();
    const cost = price.times(holding.count);
    const yesPrice = holding.side === 'yes' ? price : new Decimal(1).minus(price);
    const id = this.nextId('fill');
    this.fillList.push({
      ms: now,
      fill: {
        fill_id: id, trade_id: id.replace(/^fill-/, 'trade-'), exchange_index: 0, order_id: id.replace(/^fill-/, 'ord-seeded-'),
        ticker: holding.ticker, market_ticker: holding.ticker, side: holding.side, action: 'buy',
        outcome_side: holding.side, book_side: bookSide(holding.side, 'buy'),
        count_fp: new Decimal(holding.count).toFixed(2), yes_price_dollars: yesPrice.toFixed(4),
        no_price_dollars: new Decimal(1).minus(yesPrice).toFixed(4), is_taker: true,
        created_time: new Date(now).toISOString(), fee_cost: this.amount(new Decimal(0)), ts: Math.floor(now / 1000),
      },
    });
    this.positionMap.set(holding.ticker, {
      position: holding.side === 'yes' ? count : -count, exposure: cost, realized: new Decimal(0), fees: new Decimal(0),
      traded: cost, updatedMs: now,
    });
    this.cash = this.cash.minus(cost);
  }

  /** A dollar amount as the venue emits it (4 or 6 decimals, see `amountDecimals`). */
  private amount(value: Decimal): string {
    return value.toFixed(this.amountDecimals);
  }

  orders(): Order[] {
    return this.orderList.map((o) => this.wireOrder(o));
  }

  fills(): Fill[] {
    return this.fillList.map((f) => f.fill);
  }

  positions(): MarketPosition[] {
    return [...this.positionMap.entries()].map(([ticker, p]) => this.wirePosition(ticker, p));
  }

  /** Cash, dollars. */
  balance(): Decimal {
    return this.cash;
  }

  /** Money arriving at the venue outside Precog (a deposit), dollars. */
  deposit(amount: Decimal): void {
    this.cash = this.cash.plus(amount);
  }

  /** A maker fill of a resting order at its limit (someone hit it). */
  fillResting(orderId: string, count?: number): Fill {
    const order = this.orderList.find((o) => o.id === orderId);
    if (!order || order.status !== 'resting') throw new Error(`sim: order ${orderId} is not resting`);
    const n = count ?? order.remaining;
    if (!Number.isSafeInteger(n) || n <= 0 || n > order.remaining) throw new Error(`sim: cannot fill ${n} of ${order.remaining}`);
    return this.execute(order, n, order.price, false, this.now());
  }

  /**
   * Resting orders of `ticker` that the current quotes cross fill as maker at their limit, oldest
   * first, up to the quote's size. `atMs`: the instant of the quotes (default now), which the
   * fills carry and by which expired orders are left out.
   */
  matchResting(ticker: string, atMs = this.now()): Fill[] {
    this.expireOrders(atMs);
    const fills: Fill[] = [];
    for (const order of this.orderList) {
      if (order.ticker !== ticker || order.status !== 'resting') continue;
      const n = this.available(order);
      if (n <= 0) continue;
      fills.push(this.execute(order, n, order.price, false, atMs));
      // The quote's size is shared: what one resting order took, the next cannot.
      const quote = this.quotes.get(order.ticker)![order.side];
      if (order.action === 'buy') quote.askDepth -= n;
      else quote.bidDepth -= n;
    }
    if (fills.length > 0) this.onChange?.();
    return fills;
  }

  /**
   * The market settles: resting orders are cancelled, every contract of the winning side pays $1,
   * the position goes flat and a settlement record is kept (GET /portfolio/settlements).
   * Settling twice is a no-op. `atMs`: when it settles (default now).
   */
  settle(ticker: string, eventTicker: string, result: 'yes' | 'no', atMs = this.now()): Settlement | undefined {
    if (this.settlementList.some((x) => x.ticker === ticker)) return undefined;
    const now = atMs;
    for (const order of this.orderList) {
      if (order.ticker === ticker && order.status === 'resting') {
        order.status = 'canceled';
        order.remaining = 0;
        order.updatedMs = now;
      }
    }
    const p = this.positionMap.get(ticker);
    const yes = p && p.position > 0 ? p.position : 0;
    const no = p && p.position < 0 ? -p.position : 0;
    const revenue = new Decimal(result === 'yes' ? yes : no);
    this.cash = this.cash.plus(revenue);
    const settlement: Settlement = {
      ticker, event_ticker: eventTicker, exchange_index: 0, market_result: result,
      yes_count_fp: countFp(yes), yes_total_cost_dollars: this.amount(yes > 0 ? p!.exposure : new Decimal(0)),
      no_count_fp: countFp(no), no_total_cost_dollars: this.amount(no > 0 ? p!.exposure : new Decimal(0)),
      revenue: revenue.times(100).toNumber(), settled_time: new Date(now).toISOString(), fee_cost: this.amount(new Decimal(0)), value: result === 'yes' ? 100 : 0,
    };
    if (p) {
      p.realized = p.realized.plus(revenue.minus(p.exposure));
      p.exposure = new Decimal(0);
      p.position = 0;
      p.updatedMs = now;
    }
    this.settlementList.push(settlement);
    this.onChange?.();
    return settlement;
  }

  settlements(): Settlement[] {
    return [...this.settlementList];
  }

  /** The whole account, to save and `importState` after a restart. */
  exportState(): PortfolioState {
    const d = (x: Decimal) => x.toFixed();
    const savedQuote = (q: Quote): SavedQuote => ({ ...q, ask: q.ask && d(q.ask), bid: q.bid && d(q.bid) });
    return {
      cash: d(this.cash),
      sequence: this.sequence,
      quotes: [...this.quotes.entries()].map(([t, q]) => [t, { yes: savedQuote(q.yes), no: savedQuote(q.no) }]),
      quotesAsOfMs: this.quotesAsOfMs,
      orders: this.orderList.map((o) => ({
        ...o, price: d(o.price), takerFees: d(o.takerFees), makerFees: d(o.makerFees), takerCost: d(o.takerCost), makerCost: d(o.makerCost),
      })),
      fills: this.fillList.map((f) => ({ ...f })),
      positions: [...this.positionMap.entries()].map(([t, p]) => [t, { ...p, exposure: d(p.exposure), realized: d(p.realized), fees: d(p.fees), traded: d(p.traded) }]),
      settlements: [...this.settlementList],
    };
  }

  importState(state: PortfolioState): void {
    const D = (x: string) => new Decimal(x);
    this.cash = D(state.cash);
    this.sequence = state.sequence;
    this.orderList.splice(0, this.orderList.length, ...state.orders.map((o) => ({
      ...o, price: D(o.price), takerFees: D(o.takerFees), makerFees: D(o.makerFees), takerCost: D(o.takerCost), makerCost: D(o.makerCost),
    })));
    this.fillList.splice(0, this.fillList.length, ...state.fills);
    this.positionMap.clear();
    for (const [t, p] of state.positions) {
      this.positionMap.set(t, { ...p, exposure: D(p.exposure), realized: D(p.realized), fees: D(p.fees), traded: D(p.traded) });
    }
    this.settlementList.splice(0, this.settlementList.length, ...state.settlements);
    const quote = (q: SavedQuote): Quote => ({ ...q, ask: q.ask === null ? null : D(q.ask), bid: q.bid === null ? null : D(q.bid) });
    for (const [t, q] of state.quotes ?? []) this.quotes.set(t, { yes: quote(q.yes), no: quote(q.no) });
    this.quotesAsOfMs = state.quotesAsOfMs ?? null;
  }

  /** The current quote of a market (the simulator's order book reads it). */
  quote(ticker: string): { yes: { bid: Decimal | null; ask: Decimal | null; bidDepth: number; askDepth: number }; no: { bid: Decimal | null; ask: Decimal | null; bidDepth: number; askDepth: number } } | undefined {
    const q = this.quotes.get(ticker);
    return q && { yes: { ...q.yes }, no: { ...q.no } };
  }

  // --- HTTP -----------------------------------------------------------------------------------

  handle(req: RecordedRequest): Answer | undefined {
    if (!req.path.startsWith(`${API}/`)) return undefined;
    const path = req.path.slice(API.length);
    if (path.startsWith('/portfolio/')) {
      const refusal = this.authenticate(req);
      if (refusal) return error(401, 'authentication_error', refusal);
    }
    this.expireOrders(this.now());
    const key = `${req.method} ${path}`;
    const failure = this.failures[key];
    if (failure && failure.times > 0) {
      failure.times--;
      if (failure.status === undefined) return { ...this.route(key, req), delayMs: failure.delayMs };
      if (failure.afterCommit) this.route(key, req);
      const answer = failure.emptyBody
        ? { status: failure.status, json: undefined }
        : failure.body !== undefined
          ? { status: failure.status, json: failure.body }
          : error(failure.status, failure.code ?? defaultCode(failure.status), failure.message ?? 'simulated failure');
      return {
        ...answer,
        delayMs: failure.delayMs,
        headers: failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : undefined,
      };
    }
    return this.route(key, req);
  }

  private route(key: string, req: RecordedRequest): Answer {
    const answer = this.dispatch(key, req);
    // Persist before answering: a client that saw the answer finds the same account after a restart.
    if (req.method !== 'GET' && (answer.status ?? 200) < 300) this.onChange?.();
    if (this.transformResponse && answer.json !== undefined && (answer.status ?? 200) < 300) {
      return { ...answer, json: this.transformResponse(key, answer.json) };
    }
    return answer;
  }

  private dispatch(key: string, req: RecordedRequest): Answer {
    const [method, path] = [req.method, key.slice(key.indexOf(' ') + 1)];
    // Every V1 order write is retired: nothing is created, cancelled or changed.
    if (method !== 'GET' && (path === '/portfolio/orders' || path.startsWith('/portfolio/orders/'))) return this.deprecatedV1();
    if (path === '/portfolio/orders' && method === 'GET') return this.listOrders(req.query);
    const one = /^\/portfolio\/orders\/([^/]+)$/.exec(path);
    if (one && method === 'GET') {
      const order = this.orderList.find((o) => o.id === decodeURIComponent(one[1]!));
      if (!order) return error(404, 'not_found', 'order not found');
      return { json: { order: this.wireOrder(order) } satisfies GetOrderResponse };
    }
    if (path === '/portfolio/events/orders' && method === 'POST') return this.createV2(req.body);
    const v2 = /^\/portfolio\/events\/orders\/([^/]+)(\/amend)?$/.exec(path);
    if (v2) {
      const order = this.orderList.find((o) => o.id === decodeURIComponent(v2[1]!));
      if (!order) return error(404, 'not_found', 'order not found');
      if (method === 'DELETE' && !v2[2]) return this.cancelV2(order);
      if (method === 'POST' && v2[2]) return this.amendV2(order, req.body);
    }
    const market = /^\/markets\/([^/]+)$/.exec(path);
    if (market && method === 'GET') return this.marketAnswer(decodeURIComponent(market[1]!));
    if (path === '/portfolio/fills' && method === 'GET') return this.listFills(req.query);
    if (path === '/portfolio/settlements' && method === 'GET') {
      // Kalshi's filters: ticker, event_ticker, min_ts/max_ts (Unix seconds).
      const [ticker, eventTicker, minTs, maxTs] = ['ticker', 'event_ticker', 'min_ts', 'max_ts'].map((k) => req.query.get(k));
      const seconds = (x: Settlement) => Math.floor(Date.parse(x.settled_time) / 1000);
      const matching = this.settlementList.filter((x) => (!ticker || x.ticker === ticker) && (!eventTicker || x.event_ticker === eventTicker)
        && (!minTs || seconds(x) >= Number(minTs)) && (!maxTs || seconds(x) <= Number(maxTs)));
      const { items, cursor } = this.page(newestFirst(matching, (x) => Date.parse(x.settled_time)), req.query);
      return { json: { settlements: items, cursor } satisfies GetSettlementsResponse };
    }
    if (path === '/portfolio/positions' && method === 'GET') return this.listPositions(req.query);
    if (path === '/portfolio/balance' && method === 'GET') {
      const body: GetBalanceResponse = {
        // Kalshi's integer field is cents; sub-cent cash (4-decimal prices) shows only in dollars.
        balance: this.cash.times(100).toDecimalPlaces(0, Decimal.ROUND_DOWN).toNumber(),
        balance_dollars: this.amount(this.cash),
        portfolio_value: [...this.positionMap.values()]
          .reduce((sum, p) => sum.plus(p.exposure), new Decimal(0)).times(100).toDecimalPlaces(0, Decimal.ROUND_DOWN).toNumber(),
        updated_ts: Math.floor(this.now() / 1000),
      };
      return { json: body };
    }
    const account = this.accountRoute(method, path, req);
    if (account) return account;
    return error(404, 'not_found', `no route ${key}`);
  }

  private authenticate(req: RecordedRequest): string | undefined {
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const keyId = header('kalshi-access-key');
    const timestamp = header('kalshi-access-timestamp');
    const signature = header('kalshi-access-signature');
    if (!keyId || !timestamp || !signature) return 'missing KALSHI-ACCESS-KEY, -TIMESTAMP or -SIGNATURE header';
    if (keyId !== this.keyId) return 'unknown API key';
    if (!/^\d+$/.test(timestamp)) return 'KALSHI-ACCESS-TIMESTAMP must be milliseconds since the epoch';
    if (Math.abs(Number(timestamp) - this.now()) > this.maxClockSkewMs) return 'KALSHI-ACCESS-TIMESTAMP is too far from the server clock';
    // Signed: timestamp + METHOD + full path (with /trade-api/v2, without the query).
    const ok = verify(
      'sha256',
      Buffer.from(`${timestamp}${req.method.toUpperCase()}${req.path}`),
      { key: this.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
      Buffer.from(signature, 'base64'),
    );
    return ok ? undefined : 'invalid signature';
  }

  private deprecatedV1(): Answer {
    const body = { error: { code: DEPRECATED_V1_ORDER_ENDPOINT, message: 'Please switch to the V2 endpoints' } satisfies ErrorResponse };
    return { status: this.v1WriteAnswer === 'http410' ? 410 : 200, json: body };
  }

  /** Create Order V2: a single YES book; `side` bid/ask, `price` a YES price, `count` fixed-point. */
  private createV2(raw: string): Answer {
    let body: Partial<CreateOrderV2Request> & Record<string, unknown>;
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return { status: 400, json: { code: 'bad_request', message: 'bad request', details: 'body is not JSON' } };
    }
    if (typeof body.ticker !== 'string' || body.ticker === '') return error(400, 'missing_parameters', 'ticker is required');
    const quotes = this.quotes.get(body.ticker);
    if (!quotes) return error(404, 'market_not_found', `market ${body.ticker} not found`);
    if (this.isTrading && !this.isTrading(body.ticker)) return error(400, 'market_closed', `market ${body.ticker} is closed`);
    if (body.side !== 'bid' && body.side !== 'ask') return error(400, 'invalid_parameters', 'side must be bid or ask');
    if (body.self_trade_prevention_type !== 'taker_at_cross' && body.self_trade_prevention_type !== 'maker') {
      return error(400, 'invalid_parameters', 'self_trade_prevention_type is required (taker_at_cross or maker)');
    }
    // Whole contracts only: the sim's books count in whole numbers (fractional holdings are seeded).
    if (typeof body.count !== 'string' || !/^\d+(\.0{1,2})?$/.test(body.count) || Number.parseInt(body.count, 10) <= 0) {
      return error(400, 'invalid_parameters', 'count must be a positive fixed-point count ("10.00") of whole contracts');
    }
    const count = Number.parseInt(body.count, 10);
    if (typeof body.price !== 'string' || !/^\d+\.\d{2,4}$/.test(body.price)) {
      return error(400, 'invalid_parameters', 'price must be a dollar string with 2 to 4 decimals');
    }
    const yesPrice = new Decimal(body.price);
    if (yesPrice.lte(0) || yesPrice.gte(1)) return error(400, 'invalid_parameters', 'price must be strictly between 0 and 1');
    if (!isOnLevel(yesPrice, this.levelsOf(body.ticker))) {
      return error(400, 'invalid_price', `price ${body.price} is not on the price levels of ${body.ticker}`);
    }
    const timeInForce = body.time_in_force;
    if (timeInForce !== 'good_till_canceled' && timeInForce !== 'immediate_or_cancel' && timeInForce !== 'fill_or_kill') {
      return error(400, 'invalid_parameters', 'time_in_force must be fill_or_kill, good_till_canceled or immediate_or_cancel');
    }
    let expirationMs: number | null = null;
    if (body.expiration_time !== undefined) {
      if (timeInForce !== 'good_till_canceled') return error(400, 'invalid_parameters', 'expiration_time needs good_till_canceled');
      // Seconds: a millisecond value here would expire in the year 50000-something.
      if (!Number.isSafeInteger(body.expiration_time) || body.expiration_time > 1e11) {
        return error(400, 'invalid_parameters', 'expiration_time must be whole seconds since the epoch');
      }
      expirationMs = body.expiration_time * 1000;
    }
    // The single book in Precog's terms: a bid buys YES or sells NO, an ask sells YES or buys NO;
    // with reduce_only the side held decides which (Precog sells only what it holds).
    const held = this.positionMap.get(body.ticker)?.position ?? 0;
    let side: 'yes' | 'no';
    let action: 'buy' | 'sell';
    if (body.reduce_only) {
      if (body.side === 'ask' ? held <= 0 : held >= 0) return error(400, 'invalid_order', 'reduce_only order would not reduce a position');
      side = body.side === 'ask' ? 'yes' : 'no';
      action = 'sell';
    } else {
      side = body.side === 'bid' ? 'yes' : 'no';
      action = 'buy';
    }
    // A client that sends none gets one of the order's own number.
    const clientOrderId = typeof body.client_order_id === 'string' && body.client_order_id !== ''
      ? body.client_order_id
      : `sim-${this.idPrefix}${String(this.sequence + 1).padStart(6, '0')}`;
    if (this.orderList.some((o) => o.clientOrderId === clientOrderId)) {
      return error(409, 'order_already_exists', `an order with client_order_id ${clientOrderId} already exists`);
    }
    const price = side === 'yes' ? yesPrice : new Decimal(1).minus(yesPrice);
    if (action === 'buy') {
      const worst = price.times(count).plus(fee(TAKER_RATE, count, price));
      if (worst.gt(this.cash)) return error(400, 'insufficient_balance', 'insufficient balance');
    }
    const now = this.now();
    const order: SimOrder = {
      id: this.nextId('ord'),
      clientOrderId,
      ticker: body.ticker,
      side,
      action,
      price,
      timeInForce,
      initial: count,
      filled: 0,
      // reduce_only caps the order at what is held.
      remaining: action === 'sell' ? Math.min(count, Math.abs(held)) : count,
      takerFees: new Decimal(0),
      makerFees: new Decimal(0),
      takerCost: new Decimal(0),
      makerCost: new Decimal(0),
      status: 'resting',
      createdMs: now,
      updatedMs: now,
      expirationMs,
      hiddenForReads: this.readLag,
    };
    this.orderList.push(order);
    // Take liquidity first; fill_or_kill takes all or nothing.
    let n = this.available(order);
    if (timeInForce === 'fill_or_kill' && n < order.remaining) n = 0;
    if (n > 0) {
      const quote = quotes[order.side];
      this.execute(order, n, order.action === 'buy' ? quote.ask! : quote.bid!, true, now);
    }
    if (order.remaining > 0 && timeInForce !== 'good_till_canceled') {
      // Nothing rests: Kalshi reports a cancelled order with nothing remaining.
      order.status = 'canceled';
      order.remaining = 0;
    }
    const reply: CreateOrderV2Response = {
      order_id: order.id,
      client_order_id: order.clientOrderId,
      fill_count: countFp(order.filled),
      remaining_count: countFp(order.remaining),
      ts_ms: now,
      ...(order.filled > 0
        ? {
          // Per contract, the YES-book price like the request's; 6 decimals as Kalshi emits them.
          average_fill_price: yesOf(order.side, order.takerCost.div(order.filled)).toFixed(6),
          average_fee_paid: order.takerFees.div(order.filled).toFixed(6),
        }
        : {}),
    };
    return { status: 201, json: reply };
  }

  /** Contracts the current quote would give `order` right now. */
  private available(order: SimOrder): number {
    const quote = this.quotes.get(order.ticker)?.[order.side];
    if (!quote) return 0;
    if (order.action === 'buy') {
      return quote.ask !== null && order.price.gte(quote.ask) ? Math.min(order.remaining, quote.askDepth) : 0;
    }
    return quote.bid !== null && order.price.lte(quote.bid) ? Math.min(order.remaining, quote.bidDepth) : 0;
  }

  /** Fills `n` contracts of `order` at `price` (of the order's side) at `now`: fill, order, position, cash. */
  private execute(order: SimOrder, n: number, price: Decimal, isTaker: boolean, now: number): Fill {
    const quote = this.quotes.get(order.ticker)?.[order.side];
    if (quote && isTaker) {
      if (order.action === 'buy') quote.askDepth -= n;
      else quote.bidDepth -= n;
    }
    const feeCost = fee(isTaker ? TAKER_RATE : MAKER_RATE, n, price);
    const cost = price.times(n);
    order.filled += n;
    order.remaining -= n;
    order.updatedMs = now;
    if (isTaker) {
      order.takerFees = order.takerFees.plus(feeCost);
      order.takerCost = order.takerCost.plus(cost);
    } else {
      order.makerFees = order.makerFees.plus(feeCost);
      order.makerCost = order.makerCost.plus(cost);
    }
    if (order.remaining === 0) order.status = 'executed';
    this.trade(order.ticker, order.side, order.action, n, price, feeCost, now);
    const yesPrice = order.side === 'yes' ? price : new Decimal(1).minus(price);
    const id = this.nextId('fill');
    const fill: Fill = {
      fill_id: id,
      trade_id: id.replace(/^fill-/, 'trade-'),
      exchange_index: 0,
      order_id: order.id,
      ticker: order.ticker,
      market_ticker: order.ticker,
      side: order.side,
      action: order.action,
      outcome_side: outcomeSide(order.side, order.action),
      book_side: bookSide(order.side, order.action),
      count_fp: countFp(n),
      yes_price_dollars: yesPrice.toFixed(4),
      no_price_dollars: new Decimal(1).minus(yesPrice).toFixed(4),
      is_taker: isTaker,
      created_time: new Date(now).toISOString(),
      fee_cost: this.amount(feeCost),
      ts: Math.floor(now / 1000),
    };
    this.fillList.push({ fill, ms: now });
    return fill;
  }

  /**
   * Position and cash after a trade, in YES terms: buying YES or selling NO adds YES contracts.
   * Contracts against the held side close it first (a YES and a NO pay $1 together), the rest
   * opens the other side. Exposure is the cost of what is held; realized P&L excludes fees.
   */
  private trade(ticker: string, side: 'yes' | 'no', action: 'buy' | 'sell', n: number, price: Decimal, feeCost: Decimal, now: number): void {
    const p = this.positionMap.get(ticker)
      ?? { position: 0, exposure: new Decimal(0), realized: new Decimal(0), fees: new Decimal(0), traded: new Decimal(0), updatedMs: now };
    const yesPrice = side === 'yes' ? price : new Decimal(1).minus(price);
    const direction = (side === 'yes') === (action === 'buy') ? 1 : -1;
    let left = n;
    if (p.position !== 0 && Math.sign(p.position) !== direction) {
      const close = Math.min(left, Math.abs(p.position));
      const received = p.position > 0 ? yesPrice : new Decimal(1).minus(yesPrice);
      const average = p.exposure.div(Math.abs(p.position));
      p.realized = p.realized.plus(received.minus(average).times(close));
      p.exposure = p.exposure.minus(average.times(close));
      this.cash = this.cash.plus(received.times(close));
      p.position += direction * close;
      if (p.position === 0) p.exposure = new Decimal(0); // no rounding residue on a flat book
      left -= close;
    }
    if (left > 0) {
      const paid = direction > 0 ? yesPrice : new Decimal(1).minus(yesPrice);
      p.exposure = p.exposure.plus(paid.times(left));
      this.cash = this.cash.minus(paid.times(left));
      p.position += direction * left;
    }
    this.cash = this.cash.minus(feeCost);
    p.fees = p.fees.plus(feeCost);
    p.traded = p.traded.plus(price.times(n));
    p.updatedMs = now;
    this.positionMap.set(ticker, p);
  }

  /** Cancel Order V2: the flat reply, without the order. */
  private cancelV2(order: SimOrder): Answer {
    if (order.status !== 'resting') return error(404, 'not_found', `order ${order.id} is not resting`);
    const reducedBy = order.remaining;
    order.remaining = 0;
    order.status = 'canceled';
    order.updatedMs = this.now();
    const reply: CancelOrderV2Response = {
      order_id: order.id, client_order_id: order.clientOrderId, reduced_by: countFp(reducedBy), ts_ms: order.updatedMs,
    };
    return { json: reply };
  }

  /**
   * Amend Order V2: a resting order's price and total size (`count` = filled + what should rest).
   * An amended price that crosses the quote trades at once, as taker.
   */
  private amendV2(order: SimOrder, raw: string): Answer {
    let body: Partial<AmendOrderV2Request>;
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return error(400, 'bad_request', 'body is not JSON');
    }
    if (order.status !== 'resting') return error(400, 'invalid_order', `order ${order.id} is not resting`);
    if (body.ticker !== order.ticker) return error(400, 'invalid_parameters', 'ticker does not match the order');
    if (body.side !== bookSide(order.side, order.action)) return error(400, 'invalid_parameters', 'side does not match the order');
    if (typeof body.count !== 'string' || !/^\d+(\.0{1,2})?$/.test(body.count)) return error(400, 'invalid_parameters', 'count must be fixed-point');
    const total = Number.parseInt(body.count, 10);
    if (total <= order.filled) return error(400, 'invalid_parameters', 'count must exceed the filled count');
    if (typeof body.price !== 'string' || !/^\d+\.\d{2,4}$/.test(body.price)) return error(400, 'invalid_parameters', 'price must be a dollar string');
    const yesPrice = new Decimal(body.price);
    if (yesPrice.lte(0) || yesPrice.gte(1) || !isOnLevel(yesPrice, this.levelsOf(order.ticker))) {
      return error(400, 'invalid_price', `price ${body.price} is not a valid price of this market`);
    }
    order.price = order.side === 'yes' ? yesPrice : new Decimal(1).minus(yesPrice);
    order.initial = total;
    order.remaining = total - order.filled;
    order.updatedMs = this.now();
    const n = this.available(order);
    if (n > 0) {
      const quote = this.quotes.get(order.ticker)![order.side];
      this.execute(order, n, order.action === 'buy' ? quote.ask! : quote.bid!, true, order.updatedMs);
    }
    const reply: AmendOrderV2Response = {
      order_id: order.id, client_order_id: order.clientOrderId, fill_count: countFp(order.filled),
      remaining_count: countFp(order.remaining), ts_ms: order.updatedMs,
    };
    return { json: reply };
  }

  /** GET /markets/{ticker} for a market the sim quotes: the quote and the tick fields. */
  private marketAnswer(ticker: string): Answer {
    const q = this.quotes.get(ticker);
    if (!q) return error(404, 'not_found', `market ${ticker} not found`);
    const price = (d: Decimal | null) => (d ?? new Decimal(0)).toFixed(4);
    const open = !this.isTrading || this.isTrading(ticker);
    const market: Partial<Market> = {
      ticker, event_ticker: ticker.replace(/-[^-]+$/, ''), market_type: 'binary', status: open ? 'active' : 'closed',
      yes_bid_dollars: price(q.yes.bid), yes_ask_dollars: price(q.yes.ask), no_bid_dollars: price(q.no.bid), no_ask_dollars: price(q.no.ask),
      ...this.priceLevels(ticker),
    };
    return { json: { market } };
  }

  private expireOrders(now: number): void {
    for (const order of this.orderList) {
      if (order.status === 'resting' && order.expirationMs !== null && order.expirationMs <= now) {
        order.status = 'canceled';
        order.remaining = 0;
        order.updatedMs = now;
      }
    }
  }

  private listOrders(query: URLSearchParams): Answer {
    const ticker = query.get('ticker');
    const status = query.get('status');
    const matching = this.orderList.filter((o) => (!ticker || o.ticker === ticker) && (!status || o.status === status));
    // Read lag: a fresh order is missing from the next `readLag` list reads that would show it.
    const visible = matching.filter((o) => {
      if (o.hiddenForReads <= 0) return true;
      o.hiddenForReads--;
      return false;
    });
    const { items, cursor } = this.page(newestFirst(visible, (o) => o.createdMs), query);
    const body: GetOrdersResponse = { orders: items.map((o) => this.wireOrder(o)), cursor };
    return { json: body };
  }

  private listFills(query: URLSearchParams): Answer {
    const orderId = query.get('order_id');
    const ticker = query.get('ticker');
    const minTs = query.get('min_ts');
    const matching = this.fillList.filter((f) =>
      (!orderId || f.fill.order_id === orderId) && (!ticker || f.fill.ticker === ticker)
      && (!minTs || Math.floor(f.ms / 1000) >= Number(minTs)));
    const { items, cursor } = this.page(newestFirst(matching, (f) => f.ms), query);
    const body: GetFillsResponse = { fills: items.map((f) => f.fill), cursor };
    return { json: body };
  }

  private listPositions(query: URLSearchParams): Answer {
    const nonZeroOnly = (query.get('count_filter') ?? '').split(',').includes('position');
    const ticker = query.get('ticker');
    const matching = [...this.positionMap.entries()].filter(([t, p]) => (!ticker || t === ticker) && (!nonZeroOnly || p.position !== 0));
    const { items, cursor } = this.page(matching.sort(([a], [b]) => a.localeCompare(b)), query);
    const body: GetPositionsResponse = {
      market_positions: items.map(([t, p]) => this.wirePosition(t, p)),
      event_positions: [],
      cursor,
    };
    return { json: body };
  }

  /** One page and the cursor of the next ('' on the last page); the cursor is opaque. */
  private page<T>(all: T[], query: URLSearchParams): { items: T[]; cursor: string } {
    const limit = Number(query.get('limit') || this.pageSize);
    const size = Math.max(1, Math.min(this.pageSize, Number.isSafeInteger(limit) && limit > 0 ? limit : this.pageSize));
    const cursorText = query.get('cursor');
    const start = cursorText ? Number(Buffer.from(cursorText, 'base64url').toString()) || 0 : 0;
    const end = start + size;
    return { items: all.slice(start, end), cursor: end < all.length ? Buffer.from(String(end)).toString('base64url') : '' };
  }

  private wireOrder(o: SimOrder): Order {
    const yesPrice = o.side === 'yes' ? o.price : new Decimal(1).minus(o.price);
    return {
      order_id: o.id,
      user_id: 'sim-user',
      client_order_id: o.clientOrderId,
      ticker: o.ticker,
      side: o.side,
      action: o.action,
      outcome_side: outcomeSide(o.side, o.action),
      book_side: bookSide(o.side, o.action),
      type: 'limit',
      status: o.status,
      yes_price_dollars: yesPrice.toFixed(4),
      no_price_dollars: new Decimal(1).minus(yesPrice).toFixed(4),
      fill_count_fp: countFp(o.filled),
      remaining_count_fp: countFp(o.remaining),
      initial_count_fp: countFp(o.initial),
      taker_fill_cost_dollars: this.amount(o.takerCost),
      maker_fill_cost_dollars: this.amount(o.makerCost),
      taker_fees_dollars: this.amount(o.takerFees),
      maker_fees_dollars: this.amount(o.makerFees),
      expiration_time: o.expirationMs === null ? null : new Date(o.expirationMs).toISOString(),
      created_time: new Date(o.createdMs).toISOString(),
      last_update_time: new Date(o.updatedMs).toISOString(),
    };
  }

  private wirePosition(ticker: string, p: SimPosition): MarketPosition {
    return {
      ticker,
      exchange_index: 0,
      total_traded_dollars: this.amount(p.traded),
      position_fp: countFp(p.position),
      market_exposure_dollars: this.amount(p.exposure),
      realized_pnl_dollars: this.amount(p.realized),
      fees_paid_dollars: this.amount(p.fees),
      last_updated_ts: new Date(p.updatedMs).toISOString(),
    };
  }

  private requireServer(): TestServer {
    if (!this.server) throw new Error('sim: call start() first');
    return this.server;
  }

  // --- exchange status and account limits (what `precog preflight` reads) ------------------

  /** GET /exchange/status: set exchange_active / trading_active false to script maintenance or a halt. */
  exchangeStatus: ExchangeStatus = { exchange_active: true, trading_active: true, exchange_estimated_resume_time: null };

  /** GET /account/limits: the Basic tier as documented (200 read / 100 write tokens a second). */
  apiLimits: GetAccountApiLimitsResponse = {
    usage_tier: 'basic',
    read: { refill_rate: 200, bucket_capacity: 200 },
    write: { refill_rate: 100, bucket_capacity: 100 },
    grants: [],
  };

  /**
   * The two read-only routes above. Their Date header is the sim's own clock (`now`), so a sim
   * whose clock runs ahead or behind shows a skewed server time, as a drifting client would see.
   */
  private accountRoute(method: string, path: string, req: RecordedRequest): Answer | undefined {
    const date = { date: new Date(this.now()).toUTCString() };
    if (method === 'GET' && path === '/exchange/status') return { json: this.exchangeStatus, headers: date };
    if (method === 'GET' && path === '/account/limits') {
      const refusal = this.authenticate(req);
      if (refusal) return error(401, 'authentication_error', refusal);
      return { json: this.apiLimits, headers: date };
    }
    return undefined;
  }
}

/** Creates and starts a portfolio sim. */
export async function startKalshiPortfolioSim(options: KalshiPortfolioSimOptions): Promise<KalshiPortfolioSim> {
  return new KalshiPortfolioSim(options).start();
}

function error(status: number, code: string, message: string): Answer {
  return { status, json: { error: { code, message } } };
}

function defaultCode(status: number): string {
  if (status === 429) return 'too_many_requests';
  if (status === 409) return 'conflict';
  if (status >= 500) return 'internal_server_error';
  return 'bad_request';
}

/** Kalshi's fee: ceil to the cent of rate × n × P × (1 − P). */
function fee(rate: Decimal, n: number, price: Decimal): Decimal {
  return rate.times(n).times(price).times(new Decimal(1).minus(price)).toDecimalPlaces(2, Decimal.ROUND_CEIL);
}

/** A count as Kalshi's `_fp` text: always 2 decimals ("10.00", "-3.00", "2.97"). */
function countFp(n: number): string {
  return n.toFixed(2);
}

/** The YES-book price of a price of `side`. */
function yesOf(side: 'yes' | 'no', price: Decimal): Decimal {
  return side === 'yes' ? price : new Decimal(1).minus(price);
}

/** Buying YES bids on the YES book; buying NO is the same as offering YES. */
function bookSide(side: 'yes' | 'no', action: 'buy' | 'sell'): BookSide {
  return (side === 'yes') === (action === 'buy') ? 'bid' : 'ask';
}

/** Kalshi's outcome_side: the outcome the trade positions for (buy YES / sell NO → yes; buy NO / sell YES → no). */
function outcomeSide(side: 'yes' | 'no', action: 'buy' | 'sell'): 'yes' | 'no' {
  return bookSide(side, action) === 'bid' ? 'yes' : 'no';
}

function newestFirst<T>(items: T[], ms: (item: T) => number): T[] {
  // Stable: equal timestamps keep creation order reversed, as the venue lists newest first.
  return items.map((item, i) => ({ item, i })).sort((a, b) => ms(b.item) - ms(a.item) || b.i - a.i).map((x) => x.item);
}
