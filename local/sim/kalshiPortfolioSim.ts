import { constants, createPublicKey, generateKeyPairSync, randomUUID, verify, type KeyObject } from 'node:crypto';
import type {
  BookSide, CreateOrderRequest, CreateOrderResponse, Fill, GetBalanceResponse, GetFillsResponse, GetOrderResponse,
  GetOrdersResponse, GetPositionsResponse, GetSettlementsResponse, MarketPosition, Order, Settlement,
} from 'kalshi-typescript';
import { Decimal } from '../../shared/domain/decimal';
import type { KalshiCredentials } from '../../shared/venues/kalshi/signing';
import { startTestServer, type RecordedRequest, type Route, type TestServer } from './httpServer';

/**
 * A stateful Kalshi v2 portfolio over real HTTP: orders, fills, positions and balance, with a
 * simple matcher against scripted quotes, request signing verified with the account's PUBLIC key,
 * cursor pagination, failure injection per "METHOD path" and a read-lag knob. Responses are typed
 * with the `kalshi-typescript` models, so `tsc` proves they have the real API's shape.
 *
 * Matching: a buy fills at its side's ask when limit ≥ ask, a sell at its side's bid when
 * limit ≤ bid, up to the quote's depth (which it consumes), as taker with fee
 * ceil_to_cent(0.07 × n × P × (1 − P)). What remains rests (good_till_canceled) or is cancelled
 * (immediate_or_cancel; fill_or_kill fills all or nothing). Resting orders fill later, as maker,
 * through `fillResting` or `matchResting`.
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
  now?: () => number;
  /**
   * Rewrites a successful JSON answer before it is sent (legacy cents payloads, malformed
   * records…); `key` is "METHOD path" with the path relative to /trade-api/v2.
   */
  transformResponse?: (key: string, json: unknown) => unknown;
  /** Called after every change of the account (orders, fills, cash, settlements): persist it here. */
  onChange?: () => void;
  /** Whether the market takes orders now; a closed market refuses them with 400 `market_closed`. */
  isTrading?: (ticker: string) => boolean;
}

/** The account as JSON (decimals as strings): what the local runtime saves to resume after a kill. */
export interface PortfolioState {
  cash: string;
  sequence: number;
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
  private readonly now: () => number;
  private readonly quotes = new Map<string, { yes: Quote; no: Quote }>();
  private readonly orderList: SimOrder[] = [];
  private readonly fillList: SimFill[] = [];
  private readonly positionMap = new Map<string, SimPosition>();
  private cash: Decimal;
  private sequence = 0;
  private readonly settlementList: Settlement[] = [];
  private readonly onChange?: () => void;
  private readonly isTrading?: (ticker: string) => boolean;
  private server?: TestServer;

  constructor(options: KalshiPortfolioSimOptions) {
    this.keyId = options.keyId;
    this.publicKey = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
    this.maxClockSkewMs = options.maxClockSkewMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.readLag = options.readLag ?? 0;
    this.pageSize = options.pageSize ?? 100;
    this.transformResponse = options.transformResponse;
    this.cash = new Decimal(options.balanceDollars ?? '1000.0000');
    this.onChange = options.onChange;
    this.isTrading = options.isTrading;
    for (const [ticker, market] of Object.entries(options.markets ?? {})) this.setMarket(ticker, market);
  }

  /** Starts the HTTP server; `baseUrl` is then the Trade API root to give a client. */
  async start(): Promise<this> {
    this.server = await startTestServer((req) => this.handle(req));
    return this;
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
    return this.execute(order, n, order.price, false);
  }

  /** Resting orders of `ticker` that the current quotes cross fill as maker at their limit, oldest first, up to the quote's size. */
  matchResting(ticker: string): Fill[] {
    this.expireOrders();
    const fills: Fill[] = [];
    for (const order of this.orderList) {
      if (order.ticker !== ticker || order.status !== 'resting') continue;
      const n = this.available(order);
      if (n <= 0) continue;
      fills.push(this.execute(order, n, order.price, false));
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
   * Settling twice is a no-op.
   */
  settle(ticker: string, eventTicker: string, result: 'yes' | 'no'): Settlement | undefined {
    if (this.settlementList.some((x) => x.ticker === ticker)) return undefined;
    const now = this.now();
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
      yes_count_fp: `${yes}.00`, yes_total_cost_dollars: (yes > 0 ? p!.exposure : new Decimal(0)).toFixed(4),
      no_count_fp: `${no}.00`, no_total_cost_dollars: (no > 0 ? p!.exposure : new Decimal(0)).toFixed(4),
      revenue: revenue.times(100).toNumber(), settled_time: new Date(now).toISOString(), fee_cost: '0.0000', value: result === 'yes' ? 100 : 0,
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
    return {
      cash: d(this.cash),
      sequence: this.sequence,
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
    this.expireOrders();
    const key = `${req.method} ${path}`;
    const failure = this.failures[key];
    if (failure && failure.times > 0) {
      failure.times--;
      if (failure.status === undefined) return { ...this.route(key, req), delayMs: failure.delayMs };
      if (failure.afterCommit) this.route(key, req);
      const answer = error(failure.status, failure.code ?? defaultCode(failure.status), failure.message ?? 'simulated failure');
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
    if (path === '/portfolio/orders' && method === 'POST') return this.create(req.body);
    if (path === '/portfolio/orders' && method === 'GET') return this.listOrders(req.query);
    const one = /^\/portfolio\/orders\/([^/]+)$/.exec(path);
    if (one) {
      const order = this.orderList.find((o) => o.id === decodeURIComponent(one[1]!));
      if (!order) return error(404, 'not_found', 'order not found');
      if (method === 'GET') return { json: { order: this.wireOrder(order) } satisfies GetOrderResponse };
      if (method === 'DELETE') return this.cancel(order);
    }
    if (path === '/portfolio/fills' && method === 'GET') return this.listFills(req.query);
    if (path === '/portfolio/settlements' && method === 'GET') {
      const ticker = req.query.get('ticker');
      const matching = this.settlementList.filter((x) => !ticker || x.ticker === ticker);
      const { items, cursor } = this.page(newestFirst(matching, (x) => Date.parse(x.settled_time)), req.query);
      return { json: { settlements: items, cursor } satisfies GetSettlementsResponse };
    }
    if (path === '/portfolio/positions' && method === 'GET') return this.listPositions(req.query);
    if (path === '/portfolio/balance' && method === 'GET') {
      const body: GetBalanceResponse = {
        // Kalshi's integer field is cents; sub-cent cash (4-decimal prices) shows only in dollars.
        balance: this.cash.times(100).toDecimalPlaces(0, Decimal.ROUND_DOWN).toNumber(),
        balance_dollars: this.cash.toFixed(4),
        portfolio_value: [...this.positionMap.values()]
          .reduce((sum, p) => sum.plus(p.exposure), new Decimal(0)).times(100).toDecimalPlaces(0, Decimal.ROUND_DOWN).toNumber(),
        updated_ts: Math.floor(this.now() / 1000),
      };
      return { json: body };
    }
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

  private create(raw: string): Answer {
    let body: Partial<CreateOrderRequest> & Record<string, unknown>;
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return { status: 400, json: { code: 'bad_request', message: 'bad request', details: 'body is not JSON' } };
    }
    if (typeof body.ticker !== 'string' || body.ticker === '') return error(400, 'missing_parameters', 'ticker is required');
    const quotes = this.quotes.get(body.ticker);
    if (!quotes) return error(404, 'market_not_found', `market ${body.ticker} not found`);
    if (this.isTrading && !this.isTrading(body.ticker)) return error(400, 'market_closed', `market ${body.ticker} is closed`);
    if (body.side !== 'yes' && body.side !== 'no') return error(400, 'invalid_order', 'side must be yes or no');
    if (body.action !== 'buy' && body.action !== 'sell') return error(400, 'invalid_order', 'action must be buy or sell');
    const count = body.count ?? (body.count_fp !== undefined ? Number(body.count_fp) : undefined);
    if (!Number.isSafeInteger(count) || count! <= 0) return error(400, 'invalid_order', 'count must be a positive whole number');
    const price = this.ownPrice(body);
    if (typeof price === 'string') return error(400, 'invalid_order', price);
    const timeInForce = body.time_in_force ?? 'good_till_canceled';
    if (!['good_till_canceled', 'immediate_or_cancel', 'fill_or_kill'].includes(timeInForce)) {
      return error(400, 'invalid_order', 'unknown time_in_force');
    }
    let expirationMs: number | null = null;
    if (body.expiration_ts !== undefined) {
      // Seconds: a millisecond value here would expire in the year 50000-something.
      if (!Number.isSafeInteger(body.expiration_ts) || body.expiration_ts > 1e11) {
        return error(400, 'invalid_parameters', 'expiration_ts must be whole seconds since the epoch');
      }
      expirationMs = body.expiration_ts * 1000;
    }
    const clientOrderId = typeof body.client_order_id === 'string' && body.client_order_id !== '' ? body.client_order_id : randomUUID();
    if (this.orderList.some((o) => o.clientOrderId === clientOrderId)) {
      return error(409, 'order_already_exists', `an order with client_order_id ${clientOrderId} already exists`);
    }
    if (body.action === 'buy') {
      const worst = price.times(count!).plus(fee(TAKER_RATE, count!, price));
      if (worst.gt(this.cash)) return error(400, 'insufficient_balance', 'insufficient balance');
    }
    const now = this.now();
    const order: SimOrder = {
      id: `ord-${++this.sequence}-${randomUUID().slice(0, 8)}`,
      clientOrderId,
      ticker: body.ticker,
      side: body.side,
      action: body.action,
      price,
      timeInForce,
      initial: count!,
      filled: 0,
      remaining: count!,
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
      this.execute(order, n, order.action === 'buy' ? quote.ask! : quote.bid!, true);
    }
    if (order.remaining > 0 && timeInForce !== 'good_till_canceled') {
      // Nothing rests: Kalshi reports a cancelled order with nothing remaining.
      order.status = 'canceled';
      order.remaining = 0;
    }
    return { status: 201, json: { order: this.wireOrder(order) } satisfies CreateOrderResponse };
  }

  /** The body's price as the price of the order's own side, or why it is unusable. */
  private ownPrice(body: Partial<CreateOrderRequest>): Decimal | string {
    const given = [
      body.yes_price_dollars !== undefined ? { side: 'yes', text: body.yes_price_dollars } : undefined,
      body.no_price_dollars !== undefined ? { side: 'no', text: body.no_price_dollars } : undefined,
      body.yes_price !== undefined ? { side: 'yes', text: cents(body.yes_price) } : undefined,
      body.no_price !== undefined ? { side: 'no', text: cents(body.no_price) } : undefined,
    ].filter((p) => p !== undefined);
    if (given.length !== 1) return 'exactly one of yes_price, no_price, yes_price_dollars, no_price_dollars is required';
    const [{ side, text }] = given as [{ side: string; text: string | undefined }];
    if (text === undefined || !/^\d+(\.\d{1,4})?$/.test(text)) return 'price must be dollars with at most 4 decimals';
    const p = new Decimal(text);
    if (p.lte(0) || p.gte(1)) return 'price must be strictly between 0 and 1';
    return side === body.side ? p : new Decimal(1).minus(p);
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

  /** Fills `n` contracts of `order` at `price` (of the order's side): fill, order, position, cash. */
  private execute(order: SimOrder, n: number, price: Decimal, isTaker: boolean): Fill {
    const quote = this.quotes.get(order.ticker)?.[order.side];
    if (quote && isTaker) {
      if (order.action === 'buy') quote.askDepth -= n;
      else quote.bidDepth -= n;
    }
    const feeCost = fee(isTaker ? TAKER_RATE : MAKER_RATE, n, price);
    const cost = price.times(n);
    const now = this.now();
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
    const id = `fill-${++this.sequence}`;
    const fill: Fill = {
      fill_id: id,
      trade_id: `trade-${this.sequence}`,
      exchange_index: 0,
      order_id: order.id,
      ticker: order.ticker,
      market_ticker: order.ticker,
      side: order.side,
      action: order.action,
      outcome_side: outcomeSide(order.side, order.action),
      book_side: bookSide(order.side, order.action),
      count_fp: `${n}.00`,
      yes_price_dollars: yesPrice.toFixed(4),
      no_price_dollars: new Decimal(1).minus(yesPrice).toFixed(4),
      is_taker: isTaker,
      created_time: new Date(now).toISOString(),
      fee_cost: feeCost.toFixed(4),
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

  private cancel(order: SimOrder): Answer {
    if (order.status !== 'resting') return error(404, 'not_found', `order ${order.id} is not resting`);
    const reducedBy = order.remaining;
    order.remaining = 0;
    order.status = 'canceled';
    order.updatedMs = this.now();
    // The legacy cancel answer (kalshi-typescript 3.30 only models the V2 one).
    return { json: { order: this.wireOrder(order), reduced_by: reducedBy } satisfies { order: Order; reduced_by: number } };
  }

  private expireOrders(): void {
    const now = this.now();
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
      fill_count_fp: `${o.filled}.00`,
      remaining_count_fp: `${o.remaining}.00`,
      initial_count_fp: `${o.initial}.00`,
      taker_fill_cost_dollars: o.takerCost.toFixed(4),
      maker_fill_cost_dollars: o.makerCost.toFixed(4),
      taker_fees_dollars: o.takerFees.toFixed(4),
      maker_fees_dollars: o.makerFees.toFixed(4),
      expiration_time: o.expirationMs === null ? null : new Date(o.expirationMs).toISOString(),
      created_time: new Date(o.createdMs).toISOString(),
      last_update_time: new Date(o.updatedMs).toISOString(),
    };
  }

  private wirePosition(ticker: string, p: SimPosition): MarketPosition {
    return {
      ticker,
      exchange_index: 0,
      total_traded_dollars: p.traded.toFixed(4),
      position_fp: `${p.position}.00`,
      market_exposure_dollars: p.exposure.toFixed(4),
      realized_pnl_dollars: p.realized.toFixed(4),
      fees_paid_dollars: p.fees.toFixed(4),
      last_updated_ts: new Date(p.updatedMs).toISOString(),
    };
  }

  private requireServer(): TestServer {
    if (!this.server) throw new Error('sim: call start() first');
    return this.server;
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

function cents(value: number): string | undefined {
  return Number.isInteger(value) ? new Decimal(value).div(100).toFixed(4) : undefined;
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
