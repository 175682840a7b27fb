import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { CreateOrderV2Request } from 'kalshi-typescript';
import { machineTimeoutSignal, sleep } from '../../clock/clock';
import { Decimal } from '../../domain/decimal';
import { COUNT_DECIMALS, countWireText } from '../../domain/quantity';
import {
  OrderRejectedError, OrderUncertainError,
  type Exchange, type FillFilter, type FindOrderOptions, type OrderFilter, type PlaceOrderRequest, type TimeInForce,
  type VenueFill, type VenueOrder, type VenuePosition, type VenueQuote,
  type SettlementFilter, type VenueSettlement,
} from '../../exchange/types';
import { ApiError } from '../../http/errors';
import {
  DEFAULT_DEADLINE_MARGIN_MS, DEFAULT_RETRY, HttpClient, retryDelay, timeLeft, type FailedAttempt, type RetryPolicy,
} from '../../http/httpClient';
import { parseStrict, type Deferred } from '../../http/parse';
import { KALSHI_BASIC_TIER, kalshiBucket, type TokenBucket } from '../../http/rateLimiter';
import { KALSHI_BASE_URLS } from './client';
import * as z from 'zod';
import { kalshiMarket, page } from './schemas';
import { kalshiSettlement } from './settlementSchemas';
import { kalshiAuthHeaders, type KalshiCredentials } from './signing';
import {
  amendOrderV2Body, amendOrderV2Reply, amendV2Path, cancelOrderV2Reply, createOrderV2Body, createOrderV2Reply, notAnOrderReply,
  orderFromCreateReply, orderV2Path, ORDERS_V2, type CheckedOrder,
} from './orderV2';
import { kalshiBalance, kalshiErrorOf, kalshiFill, kalshiOrder, kalshiPosition } from './tradingSchemas';

export interface KalshiExchangeOptions {
  /** Default: the environment's official URL (`KALSHI_BASE_URLS`). */
  baseUrl?: string;
  environment: 'demo' | 'production';
  /** Every portfolio request is signed: there is no unauthenticated mode. */
  credentials: KalshiCredentials;
  /**
   * Read budget (GET), requests a second. Kalshi's Basic tier allows about 20 (200 tokens a second,
   * 10 a request) per account, shared with market data (KalshiClient, 8). Default 10.
   */
  readsPerSecond?: number;
  /** Write budget (POST/DELETE), a separate bucket: Basic allows about 10 a second. Default 8. */
  writesPerSecond?: number;
  timeoutMs?: number;
  /** Reads are retried by HttpClient; creates follow their own loop bounded by `maxAttempts`. */
  retry?: Partial<RetryPolicy>;
  /** Lookups of an order by client order id before concluding it does not exist. Default 4. */
  lookupAttempts?: number;
  /** Pause between those lookups: reads lag writes. Default 500 ms. */
  lookupDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source (tests pin it). */
  random?: () => number;
  /** Every failed HTTP attempt, reads and writes (circuit breakers count them). */
  onFailedAttempt?: (failure: FailedAttempt) => void;
  /**
   * Time the caller has left (a Lambda's remaining time). No attempt, retry, lookup or pause
   * starts that could not finish `deadlineMarginMs` before it: a create that runs out of time
   * while its fate is unknown ends as OrderUncertainError, a read as ApiError.
   */
  remainingTimeMs?: () => number;
  /** Default 1000 ms. */
  deadlineMarginMs?: number;
  /** Safety stop for cursor pagination. Default 500. */
  maxPages?: number;
  /** `limit` asked of list endpoints. Default 200. */
  pageSize?: number;
}

/** One failed create attempt, with what the venue said about it. */
interface CreateFailure {
  kind: 'http' | 'timeout' | 'network';
  status?: number;
  message: string;
  retryAfterMs?: number;
  code?: string;
  venueMessage?: string;
  /** A 2xx whose body is not an order (empty, or only an error): never a placed order. */
  withoutOrder?: boolean;
}

type CreateOutcome = 'throttled' | 'duplicate' | 'rejected' | 'ambiguous' | 'gone';

/** Reads only: the V1 writes on this path are retired (orders are written under ORDERS_V2). */
const ORDERS = '/portfolio/orders';
/** Kalshi's answer to a retired endpoint (V1 order writes since 2026). */
const DEPRECATED = /^deprecated/i;
const MARKET_BUY_LIMIT = new Decimal('0.99');
const MARKET_SELL_LIMIT = new Decimal('0.01');

/**
 * `Exchange` over Kalshi Trade API v2 (demo or production). Reads go through a retrying
 * HttpClient; orders are written through the V2 endpoints (orderV2.ts). An order create is never
 * blindly retried: a failure is classified, and after an ambiguous one (timeout, network, 5xx, a
 * 2xx without an order) the order is looked up by its client order id first.
 */
export class KalshiExchange implements Exchange {
  readonly name: string;
  readonly executionMode = 'live' as const;

  private readonly reads: HttpClient;
  /** DELETE only: a cancel is idempotent, so it may be retried. */
  private readonly writes: HttpClient;
  private readonly writeBucket: TokenBucket;
  private readonly key: { keyId: string; privateKey: KeyObject };
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly lookupAttempts: number;
  private readonly lookupDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly onFailedAttempt?: (failure: FailedAttempt) => void;
  private readonly maxPages: number;
  private readonly pageSize: number;
  private readonly remainingTimeMs?: () => number;
  private readonly deadlineMarginMs: number;

  constructor(options: KalshiExchangeOptions) {
    this.name = `kalshi-${options.environment}`;
    const baseUrl = options.baseUrl ?? KALSHI_BASE_URLS[options.environment];
    this.key = { keyId: options.credentials.keyId, privateKey: createPrivateKey(options.credentials.privateKeyPem) };
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.lookupAttempts = Math.max(1, options.lookupAttempts ?? 4);
    this.lookupDelayMs = options.lookupDelayMs ?? 500;
    this.sleep = options.sleep ?? sleep; // retry backoff and lookup waits: the application's clock
    this.random = options.random ?? Math.random;
    this.onFailedAttempt = options.onFailedAttempt;
    this.maxPages = options.maxPages ?? 500;
    this.pageSize = options.pageSize ?? 200;
    this.remainingTimeMs = options.remainingTimeMs;
    this.deadlineMarginMs = options.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS;
    this.writeBucket = kalshiBucket(options.writesPerSecond ?? 8);
    const common = {
      baseUrl,
      name: this.name,
      timeoutMs: this.timeoutMs,
      retry: this.retry,
      headers: (method: string, path: string) => kalshiAuthHeaders(this.key, method, path),
      onFailedAttempt: options.onFailedAttempt,
      sleep: this.sleep,
      random: this.random,
      rateLimitCost: KALSHI_BASIC_TIER.tokensPerRequest,
      remainingTimeMs: options.remainingTimeMs,
      deadlineMarginMs: this.deadlineMarginMs,
    };
    this.reads = new HttpClient({ ...common, rateLimit: kalshiBucket(options.readsPerSecond ?? 10) });
    this.writes = new HttpClient({ ...common, rateLimit: this.writeBucket });
  }

  // -------------------------------------------------------------------------------------------
  // Orders

  async placeOrder(request: PlaceOrderRequest): Promise<VenueOrder> {
    const checked = this.checkOrder(request);
    const body = createOrderV2Body(checked);
    const id = request.clientOrderId;
    /** Set once an attempt may have created the order: from then on "not placed" is unknowable. */
    let uncertain = false;
    for (let attempt = 1; ; attempt++) {
      if (this.timeLeft() <= 0) {
        if (uncertain) {
          throw new OrderUncertainError(`${this.name}: order ${id} could not be confirmed before the caller's deadline and was not found`, id);
        }
        throw new ApiError(
          `${this.name} POST ${this.reads.basePath}${ORDERS_V2}: not sent, no time left before the caller's deadline; order ${id} was not placed`,
          'timeout', this.reads.url(ORDERS_V2).toString(), undefined, attempt - 1,
        );
      }
      const result = await this.createOnce(body);
      if ('json' in result) return this.placedOrder(checked, result.json);
      const failure = result.failure;
      const outcome = classify(failure);
      const delay = outcome === 'throttled' && failure.retryAfterMs !== undefined
        ? failure.retryAfterMs
        : retryDelay(this.retry, attempt, this.random, outcome === 'throttled');
      // Whether another create could still start (and end) before the caller's deadline.
      const outOfTime = () => this.timeLeft() < delay + this.timeoutMs;
      const lastAttempt = attempt >= this.retry.maxAttempts || outOfTime();
      this.report(failure, attempt, outcome === 'rejected' || outcome === 'duplicate' || outcome === 'gone' || lastAttempt);
      const what = describe(failure);

      if (outcome === 'gone') {
        // The endpoint is retired: asking again cannot help, but whether the venue kept the order
        // is only known by looking (the answer may have been a 2xx).
        const found = await this.lookUp(id, request.ticker, what);
        if (found) return found;
        throw new OrderUncertainError(`${this.name}: order ${id} got no order back (${what}) and was not found`, id);
      }

      if (outcome === 'duplicate') {
        // The venue already holds this client order id: return that order, never a second one.
        const found = await this.lookUp(id, request.ticker, what);
        if (found) return found;
        throw new OrderUncertainError(
          `${this.name}: order ${id} already exists at the venue (${what}) but could not be read back yet`, id,
        );
      }
      if (outcome === 'rejected') {
        if (uncertain) {
          // An earlier attempt may have landed (e.g. it used up the balance this one lacked).
          const found = await this.lookUp(id, request.ticker, what);
          if (found) return found;
          throw new OrderUncertainError(
            `${this.name}: order ${id} was refused (${what}) after an earlier attempt failed ambiguously; it may exist`, id,
          );
        }
        throw new OrderRejectedError(`${this.name} rejected order ${id}: ${what}`, failure.code);
      }
      if (outcome === 'ambiguous') {
        uncertain = true;
        const found = await this.lookUp(id, request.ticker, what);
        if (found) return found;
      }
      if (attempt >= this.retry.maxAttempts || outOfTime()) {
        const deadline = attempt < this.retry.maxAttempts ? '; no time left to try again before the caller\'s deadline' : '';
        if (uncertain) {
          throw new OrderUncertainError(
            `${this.name}: order ${id} could not be confirmed after ${attempt} attempts (last: ${what}) and was not found${deadline}`, id,
          );
        }
        // Only throttling: no attempt was processed, so the order certainly does not exist.
        throw new ApiError(
          `${this.name} POST ${this.reads.basePath}${ORDERS_V2}: ${failure.message} (after ${attempt} attempts)${deadline}; order ${id} was not placed`,
          failure.kind, this.reads.url(ORDERS_V2).toString(), failure.status, attempt,
        );
      }
      await this.sleep(delay);
    }
  }

  /**
   * The order a 2xx create reply holds. The flat V2 reply mostly suffices; when it does not (see
   * orderFromCreateReply) or cannot be read, the order, which exists, is read back by id.
   */
  private async placedOrder(checked: CheckedOrder, json: unknown): Promise<VenueOrder> {
    const orderId = (json as { order_id: string }).order_id;
    let fromReply: VenueOrder | null = null;
    let unreadable: string | undefined;
    try {
      fromReply = orderFromCreateReply(checked, parseStrict(`kalshi POST ${ORDERS_V2}`, createOrderV2Reply, json));
    } catch (error) {
      unreadable = (error as Error).message;
    }
    if (fromReply) return fromReply;
    try {
      return await this.getOrder(orderId);
    } catch (error) {
      // The order exists at the venue: never report it as not placed.
      throw new OrderUncertainError(
        `${this.name}: order ${checked.clientOrderId} was placed as ${orderId} but ${unreadable ? `its reply is unreadable (${unreadable}) and ` : ''}reading it back failed: ${(error as Error).message}`,
        checked.clientOrderId,
      );
    }
  }

  async getOrder(venueOrderId: string): Promise<VenueOrder> {
    const body = await this.reads.get(`${ORDERS}/${encodeURIComponent(venueOrderId)}`);
    return this.orderOf(body, `GET ${ORDERS}/{order_id}`);
  }

  async findOrder(clientOrderId: string, ticker: string, options: FindOrderOptions = {}): Promise<VenueOrder | null> {
    // An empty id would match every order placed outside Precog.
    if (!clientOrderId) throw new TypeError(`${this.name}: findOrder needs a client order id`);
    for (let lookup = 1; ; lookup++) {
      // Kalshi cannot filter by client order id: list the ticker's orders and filter here.
      const match = (await this.listOrders({ ticker })).find((o) => o.clientOrderId === clientOrderId);
      if (match) return match;
      if (options.settled || lookup >= this.lookupAttempts) return null;
      // Another lookup must fit before the caller's deadline, like any retry.
      if (this.timeLeft() < this.lookupDelayMs + this.timeoutMs) return null;
      await this.sleep(this.lookupDelayMs); // reads lag writes: a fresh order may not show yet
    }
  }

  async listOrders(filter: OrderFilter = {}): Promise<VenueOrder[]> {
    const orders: VenueOrder[] = [];
    await this.paginate(ORDERS, { ticker: filter.ticker, status: filter.status }, 'orders', (item, at) => {
      orders.push(parseStrict('kalshi order', kalshiOrder, item, at));
    });
    return orders;
  }

  /**
   * Cancel Order V2. Its reply ({order_id, reduced_by}) carries no counts, so the order is read
   * back. A 2xx without an order id is not a cancellation: the order read back decides.
   */
  async cancelOrder(venueOrderId: string): Promise<VenueOrder> {
    const path = orderV2Path(venueOrderId);
    let body: unknown;
    try {
      body = await this.writes.request('DELETE', path);
    } catch (error) {
      // An order that already ended (executed, cancelled, perhaps by our own earlier attempt) is
      // refused; the order as it ended is then the answer.
      if (error instanceof ApiError && error.kind === 'http' && error.status !== undefined
        && [400, 404, 409, 410].includes(error.status)) {
        const order = await this.getOrder(venueOrderId).catch(() => undefined);
        if (order && order.status !== 'resting') return order;
      }
      throw error;
    }
    const notCancelled = notAnOrderReply(body);
    if (notCancelled) {
      const order = await this.getOrder(venueOrderId);
      if (order.status !== 'resting') return order;
      throw new ApiError(
        `${this.name} DELETE ${this.reads.basePath}${path}: ${notCancelled}; order ${venueOrderId} is still resting`,
        'payload', this.reads.url(path).toString(),
      );
    }
    parseStrict(`kalshi DELETE ${ORDERS_V2}/{order_id}`, cancelOrderV2Reply, body);
    return this.getOrder(venueOrderId);
  }

  /**
   * Amend Order V2: a resting order's limit price and/or size. `count` is the new TOTAL size
   * (filled + to rest), Kalshi's amend rule; default: unchanged. Both are absolute, so repeating
   * the request is harmless and it may be retried. The reply has no counts: the order (its id
   * from the reply) is read back.
   */
  async amendOrder(order: VenueOrder, change: { limitPrice?: Decimal; count?: Decimal }): Promise<VenueOrder> {
    const limitPrice = change.limitPrice ?? order.limitPrice;
    const count = change.count ?? order.initialCount;
    const fail = (reason: string): never => {
      throw new OrderRejectedError(`${this.name}: invalid amend of order ${order.venueOrderId}: ${reason}`, 'invalid_order');
    };
    if (order.status !== 'resting') fail(`only a resting order can be amended (it is ${order.status})`);
    checkPrice(limitPrice, fail);
    if (!Decimal.isDecimal(count) || !count.isFinite() || count.decimalPlaces() > COUNT_DECIMALS || count.lte(order.filledCount)) {
      fail(`count is the new total and must exceed the ${order.filledCount.toFixed()} already filled, got ${String(count)}`);
    }
    const path = amendV2Path(order.venueOrderId);
    const body = await this.writes.request('POST', path, { body: amendOrderV2Body(order, { limitPrice, count }) });
    const notAmended = notAnOrderReply(body);
    if (notAmended) {
      throw new ApiError(`${this.name} POST ${this.reads.basePath}${path}: ${notAmended}`, 'payload', this.reads.url(path).toString());
    }
    const reply = parseStrict(`kalshi POST ${ORDERS_V2}/{order_id}/amend`, amendOrderV2Reply, body);
    return this.getOrder(reply.order_id);
  }

  // -------------------------------------------------------------------------------------------
  // Fills, positions, balance

  async getFills(filter: FillFilter = {}): Promise<VenueFill[]> {
    const fills: VenueFill[] = [];
    await this.paginate('/portfolio/fills', {
      order_id: filter.venueOrderId,
      ticker: filter.ticker,
      // Kalshi filters by whole seconds; the exact instant is applied below.
      min_ts: filter.since ? Math.floor(filter.since.getTime() / 1000) : undefined,
    }, 'fills', (item, at) => {
      fills.push(parseStrict('kalshi fill', kalshiFill, item, at));
    });
    return filter.since ? fills.filter((f) => f.createdAt.getTime() >= filter.since!.getTime()) : fills;
  }

  async getPositions(): Promise<VenuePosition[]> {
    const positions: VenuePosition[] = [];
    await this.paginate('/portfolio/positions', { count_filter: 'position' }, 'market_positions', (item, at) => {
      positions.push(parseStrict('kalshi position', kalshiPosition, item, at));
    });
    // count_filter should already drop closed markets; the interface promises non-zero only.
    return positions.filter((p) => !p.position.isZero());
  }

  async getBalance(): Promise<Decimal> {
    return parseStrict('kalshi balance', kalshiBalance, await this.reads.get('/portfolio/balance'));
  }

  /** GET /markets/{ticker}: the top of book now (a bid or ask of 0 or 1 is "nobody quotes"). */
  async getQuote(ticker: string): Promise<VenueQuote | null> {
    let body: unknown;
    try {
      body = await this.reads.get(`/markets/${encodeURIComponent(ticker)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
    const market = parseStrict('kalshi market', z.object({ market: kalshiMarket }), body).market;
    const real = (d: Decimal | null) => (d && d.gt(0) && d.lt(1) ? d : null);
    return {
      ticker, status: market.status,
      yes: { bid: real(market.yesBid), ask: real(market.yesAsk) },
      no: { bid: real(market.noBid), ask: real(market.noAsk) },
      priceLevels: market.priceLevels,
    };
  }

  /** GET /portfolio/settlements, every page; each record parsed exactly (a bad one throws with its path). */
  async getSettlements(filter: SettlementFilter = {}): Promise<VenueSettlement[]> {
    const settlements: VenueSettlement[] = [];
    await this.paginate('/portfolio/settlements', {
      ticker: filter.ticker,
      event_ticker: filter.eventTicker,
      // Kalshi filters by whole seconds; the exact instant is applied below.
      min_ts: filter.since ? Math.floor(filter.since.getTime() / 1000) : undefined,
    }, 'settlements', (item, at) => {
      settlements.push(parseStrict('kalshi settlement', kalshiSettlement, item, at));
    });
    return filter.since ? settlements.filter((s) => s.settledAt.getTime() >= filter.since!.getTime()) : settlements;
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  /** The request checked and completed (price, time in force, expiry): nothing invalid is ever sent. */
  private checkOrder(request: PlaceOrderRequest): CheckedOrder {
    const fail = (reason: string): never => {
      throw new OrderRejectedError(`${this.name}: invalid order ${request.clientOrderId || '(no client order id)'}: ${reason}`, 'invalid_order');
    };
    if (typeof request.ticker !== 'string' || request.ticker.trim() === '') fail('ticker is required');
    if (typeof request.clientOrderId !== 'string' || request.clientOrderId.trim() === '') fail('clientOrderId is required');
    if (request.side !== 'yes' && request.side !== 'no') fail(`side must be yes or no, got ${String(request.side)}`);
    if (request.action !== 'buy' && request.action !== 'sell') fail(`action must be buy or sell, got ${String(request.action)}`);
    if (request.type !== 'limit' && request.type !== 'market') fail(`type must be limit or market, got ${String(request.type)}`);
    if (!Decimal.isDecimal(request.count) || !request.count.isFinite() || request.count.lte(0) || request.count.decimalPlaces() > COUNT_DECIMALS) {
      fail(`count must be a positive number of contracts with at most ${COUNT_DECIMALS} decimals, got ${String(request.count)}`);
    }
    let price = request.limitPrice;
    if (price === undefined) {
      if (request.type === 'limit') fail('limitPrice is required for a limit order');
      price = request.action === 'buy' ? MARKET_BUY_LIMIT : MARKET_SELL_LIMIT;
    }
    checkPrice(price, fail);
    const timeInForce: TimeInForce = request.timeInForce ?? (request.type === 'market' ? 'immediate_or_cancel' : 'good_till_canceled');
    if (!['good_till_canceled', 'immediate_or_cancel', 'fill_or_kill'].includes(timeInForce)) fail(`unknown timeInForce ${timeInForce}`);
    if (request.type === 'market' && timeInForce === 'good_till_canceled') {
      fail('a market order cannot rest: use immediate_or_cancel or fill_or_kill');
    }
    let expirationTime: number | undefined;
    if (request.expiresAt !== undefined) {
      if (!(request.expiresAt instanceof Date) || Number.isNaN(request.expiresAt.getTime())) fail('expiresAt is not a valid date');
      if (timeInForce !== 'good_till_canceled') fail('expiresAt applies to good_till_canceled orders only');
      // Kalshi takes seconds; rounding down never lets an order outlive the instant asked for.
      expirationTime = Math.floor(request.expiresAt.getTime() / 1000);
    }
    return {
      ticker: request.ticker, clientOrderId: request.clientOrderId, side: request.side, action: request.action, type: request.type,
      count: request.count, limitPrice: price, timeInForce, ...(expirationTime !== undefined ? { expirationTime } : {}),
    };
  }

  /**
   * One create attempt, never retried here. Done with fetch rather than HttpClient because the
   * classification needs what HttpClient's ApiError does not carry: Retry-After and the error body.
   */
  private async createOnce(body: CreateOrderV2Request): Promise<{ json: unknown } | { failure: CreateFailure }> {
    await this.writeBucket.take(KALSHI_BASIC_TIER.tokensPerRequest);
    const url = this.reads.url(ORDERS_V2);
    // Cut to the caller's deadline: a create cut off by the runtime is worse than one timed out here.
    const timeoutMs = Math.max(1, Math.min(this.timeoutMs, this.timeLeft()));
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          ...kalshiAuthHeaders(this.key, 'POST', url.pathname),
        },
        body: JSON.stringify(body),
        signal: machineTimeoutSignal(timeoutMs), // technical timeout: machine time
      });
      // The body read is covered by the same timeout; losing it after a 2xx is still ambiguous.
      text = await response.text();
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
      return {
        failure: timedOut
          ? { kind: 'timeout', message: `timed out after ${timeoutMs} ms` }
          : { kind: 'network', message: `network error: ${(error as Error).message}` },
      };
    }
    if (!response.ok) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const { code, message } = kalshiErrorOf(json);
      const retryAfter = Number(response.headers.get('retry-after'));
      return {
        failure: {
          kind: 'http',
          status: response.status,
          message: `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
          code,
          venueMessage: message,
          retryAfterMs: Number.isFinite(retryAfter) && retryAfter >= 0 && response.headers.has('retry-after')
            ? Math.min(retryAfter * 1000, this.retry.maxDelayMs)
            : undefined,
        },
      };
    }
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = undefined;
    }
    // A 2xx is a placed order only if it holds one: an empty body or a lone error (Kalshi answers
    // retired endpoints so) proves nothing either way.
    const notAnOrder = json === undefined ? 'body is not JSON' : notAnOrderReply(json);
    if (notAnOrder) {
      const { code, message } = kalshiErrorOf(json);
      return {
        failure: {
          kind: 'http', status: response.status, withoutOrder: true, code, venueMessage: message,
          message: `HTTP ${response.status} without an order (${notAnOrder})`,
        },
      };
    }
    return { json };
  }

  /** A lookup after a failed create; a lookup that itself fails leaves the order uncertain. */
  private async lookUp(clientOrderId: string, ticker: string, after: string): Promise<VenueOrder | null> {
    try {
      return await this.findOrder(clientOrderId, ticker);
    } catch (error) {
      // Creating again without knowing would risk a duplicate order.
      throw new OrderUncertainError(
        `${this.name}: order ${clientOrderId} failed (${after}) and looking it up failed too: ${(error as Error).message}`,
        clientOrderId,
      );
    }
  }

  private report(failure: CreateFailure, attempt: number, final: boolean): void {
    this.onFailedAttempt?.({
      url: this.reads.url(ORDERS_V2).toString(), method: 'POST', kind: failure.kind, status: failure.status,
      message: failure.message, attempt, final,
    });
  }

  /** Milliseconds usable before the caller's deadline (Infinity without one). */
  private timeLeft(): number {
    return timeLeft(this.remainingTimeMs, this.deadlineMarginMs);
  }

  private orderOf(body: unknown, source: string): VenueOrder {
    return parseStrict(`kalshi ${source}`, kalshiOrder, (body as { order?: unknown } | null)?.order, 'order');
  }

  /** Follows the cursor to the last page (empty cursor), guarding against loops. */
  private async paginate(
    path: string,
    query: Record<string, string | number | undefined>,
    listName: string,
    onItem: (item: unknown, at: string) => void,
  ): Promise<void> {
    let cursor: string | undefined;
    const seen = new Set<string>();
    for (let pageIndex = 0; ; pageIndex++) {
      if (pageIndex >= this.maxPages) {
        throw new ApiError(`${this.name} GET ${path}: more than ${this.maxPages} pages`, 'payload', path);
      }
      const body = await this.reads.get(path, { ...query, limit: this.pageSize, cursor });
      const envelope = parseStrict(`kalshi ${path}`, page(listName), body) as { cursor?: string | null } & Record<string, Deferred | null>;
      // Strict per record: a trading record that cannot be read must not be silently skipped
      // (a missing fill would misstate a position).
      (envelope[listName]?.items ?? []).forEach((item, i) => onItem(item, `${listName}@page${pageIndex}[${i}]`));
      const next = envelope.cursor ?? '';
      if (next === '') return;
      if (seen.has(next)) throw new ApiError(`${this.name} GET ${path}: cursor ${next} repeated`, 'payload', path);
      seen.add(next);
      cursor = next;
    }
  }
}

/** What a failed create means for the order (see Kalshi's order-error guidance). */
function classify(failure: CreateFailure): CreateOutcome {
  if (failure.kind !== 'http' || failure.status === undefined) return 'ambiguous';
  if (failure.status === 410 || (failure.code !== undefined && DEPRECATED.test(failure.code))) return 'gone';
  if (failure.withoutOrder) return 'ambiguous'; // a 2xx that shows no order: it may or may not exist
  if (failure.status === 429) return 'throttled'; // not processed
  if (failure.status === 409 || (failure.code !== undefined && /already_?exists|duplicate/i.test(failure.code))) return 'duplicate';
  if (failure.status === 408) return 'ambiguous'; // the server gave up mid-request
  if (failure.status >= 400 && failure.status < 500) return 'rejected';
  return 'ambiguous'; // 5xx (and anything unexpected): it may have been committed
}

function describe(failure: CreateFailure): string {
  if (failure.kind !== 'http' || failure.withoutOrder) return [failure.message, failure.code].filter(Boolean).join(' ');
  const venue = [failure.code, failure.venueMessage].filter(Boolean).join(': ');
  return `HTTP ${failure.status}${venue ? ` ${venue}` : ''}`;
}

/** A limit price Kalshi can take: a Decimal strictly between 0 and 1 with at most 4 decimals. */
function checkPrice(price: unknown, fail: (reason: string) => never): asserts price is Decimal {
  if (!Decimal.isDecimal(price)) fail('limitPrice must be a Decimal');
  const p = price as Decimal;
  if (!p.isFinite() || p.lte(0) || p.gte(1)) fail(`limitPrice must be strictly between 0 and 1, got ${p.toString()}`);
  if (p.decimalPlaces() > 4) fail(`limitPrice has more than 4 decimals: ${p.toString()}`);
}
