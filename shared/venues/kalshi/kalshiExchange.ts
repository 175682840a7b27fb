import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { CreateOrderRequest } from 'kalshi-typescript';
import { Decimal } from '../../domain/decimal';
import { COUNT_DECIMALS, countWireText } from '../../domain/quantity';
import {
  OrderRejectedError, OrderUncertainError,
  type Exchange, type FillFilter, type FindOrderOptions, type OrderFilter, type PlaceOrderRequest, type TimeInForce,
  type VenueFill, type VenueOrder, type VenuePosition, type VenueQuote,
} from '../../exchange/types';
import { ApiError } from '../../http/errors';
import { DEFAULT_RETRY, HttpClient, type FailedAttempt, type RetryPolicy } from '../../http/httpClient';
import { parseStrict, type Deferred } from '../../http/parse';
import { TokenBucket } from '../../http/rateLimiter';
import { KALSHI_BASE_URLS } from './client';
import * as z from 'zod';
import { kalshiMarket, page } from './schemas';
import { kalshiAuthHeaders, type KalshiCredentials } from './signing';
import { kalshiBalance, kalshiErrorOf, kalshiFill, kalshiOrder, kalshiPosition } from './tradingSchemas';

export interface KalshiExchangeOptions {
  /** Default: the environment's official URL (`KALSHI_BASE_URLS`). */
  baseUrl?: string;
  environment: 'demo' | 'production';
  /** Every portfolio request is signed: there is no unauthenticated mode. */
  credentials: KalshiCredentials;
  /** Read budget (GET), kept below Kalshi's ~10 requests/second per key. Default 8. */
  readsPerSecond?: number;
  /** Write budget (POST/DELETE), a separate bucket: Kalshi limits writes more tightly. Default 4. */
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
}

type CreateOutcome = 'throttled' | 'duplicate' | 'rejected' | 'ambiguous';

const ORDERS = '/portfolio/orders';
const MARKET_BUY_LIMIT = new Decimal('0.99');
const MARKET_SELL_LIMIT = new Decimal('0.01');

/**
 * `Exchange` over Kalshi Trade API v2 (demo or production). Reads go through a retrying
 * HttpClient; an order create is never blindly retried: a failure is classified, and after an
 * ambiguous one (timeout, network, 5xx) the order is looked up by its client order id first.
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

  constructor(options: KalshiExchangeOptions) {
    this.name = `kalshi-${options.environment}`;
    const baseUrl = options.baseUrl ?? KALSHI_BASE_URLS[options.environment];
    this.key = { keyId: options.credentials.keyId, privateKey: createPrivateKey(options.credentials.privateKeyPem) };
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.lookupAttempts = Math.max(1, options.lookupAttempts ?? 4);
    this.lookupDelayMs = options.lookupDelayMs ?? 500;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.onFailedAttempt = options.onFailedAttempt;
    this.maxPages = options.maxPages ?? 500;
    this.pageSize = options.pageSize ?? 200;
    this.writeBucket = new TokenBucket(options.writesPerSecond ?? 4);
    const common = {
      baseUrl,
      name: this.name,
      timeoutMs: this.timeoutMs,
      retry: this.retry,
      headers: (method: string, path: string) => kalshiAuthHeaders(this.key, method, path),
      onFailedAttempt: options.onFailedAttempt,
      sleep: this.sleep,
      random: this.random,
    };
    this.reads = new HttpClient({ ...common, rateLimit: new TokenBucket(options.readsPerSecond ?? 8) });
    this.writes = new HttpClient({ ...common, rateLimit: this.writeBucket });
  }

  // -------------------------------------------------------------------------------------------
  // Orders

  async placeOrder(request: PlaceOrderRequest): Promise<VenueOrder> {
    const body = this.createBody(request);
    const id = request.clientOrderId;
    /** Set once an attempt may have created the order: from then on "not placed" is unknowable. */
    let uncertain = false;
    for (let attempt = 1; ; attempt++) {
      const result = await this.createOnce(body);
      if ('json' in result) return this.orderOf(result.json, `POST ${ORDERS}`);
      const failure = result.failure;
      const outcome = classify(failure);
      const lastAttempt = attempt >= this.retry.maxAttempts;
      this.report(failure, attempt, outcome === 'rejected' || outcome === 'duplicate' || lastAttempt);
      const what = describe(failure);

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
      if (lastAttempt) {
        if (uncertain) {
          throw new OrderUncertainError(
            `${this.name}: order ${id} could not be confirmed after ${attempt} attempts (last: ${what}) and was not found`, id,
          );
        }
        // Only throttling: no attempt was processed, so the order certainly does not exist.
        throw new ApiError(
          `${this.name} POST ${this.reads.basePath}${ORDERS}: ${failure.message} (after ${attempt} attempts); order ${id} was not placed`,
          failure.kind, this.reads.url(ORDERS).toString(), failure.status, attempt,
        );
      }
      await this.sleep(outcome === 'throttled' && failure.retryAfterMs !== undefined ? failure.retryAfterMs : this.backoff(attempt));
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

  async cancelOrder(venueOrderId: string): Promise<VenueOrder> {
    const path = `${ORDERS}/${encodeURIComponent(venueOrderId)}`;
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
    const order = (body as { order?: unknown } | null)?.order;
    // The newer API answers {order_id, reduced_by} without the order: read it back.
    if (order === undefined || order === null) return this.getOrder(venueOrderId);
    return parseStrict('kalshi order', kalshiOrder, order, 'order');
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
    };
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  /** The create body, after checking the request: nothing invalid is ever sent. */
  private createBody(request: PlaceOrderRequest): CreateOrderRequest {
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
    if (!Decimal.isDecimal(price)) fail('limitPrice must be a Decimal');
    if (!price.isFinite() || price.lte(0) || price.gte(1)) fail(`limitPrice must be strictly between 0 and 1, got ${price.toString()}`);
    if (price.decimalPlaces() > 4) fail(`limitPrice has more than 4 decimals: ${price.toString()}`);
    const timeInForce: TimeInForce = request.timeInForce ?? (request.type === 'market' ? 'immediate_or_cancel' : 'good_till_canceled');
    if (!['good_till_canceled', 'immediate_or_cancel', 'fill_or_kill'].includes(timeInForce)) fail(`unknown timeInForce ${timeInForce}`);
    if (request.type === 'market' && timeInForce === 'good_till_canceled') {
      fail('a market order cannot rest: use immediate_or_cancel or fill_or_kill');
    }
    let expirationTs: number | undefined;
    if (request.expiresAt !== undefined) {
      if (!(request.expiresAt instanceof Date) || Number.isNaN(request.expiresAt.getTime())) fail('expiresAt is not a valid date');
      if (timeInForce !== 'good_till_canceled') fail('expiresAt applies to good_till_canceled orders only');
      // Kalshi takes seconds; rounding down never lets an order outlive the instant asked for.
      expirationTs = Math.floor(request.expiresAt.getTime() / 1000);
    }
    const priceText = price.toFixed(4);
    return {
      ticker: request.ticker,
      client_order_id: request.clientOrderId,
      side: request.side,
      action: request.action,
      count_fp: countWireText(request.count),
      ...(request.side === 'yes' ? { yes_price_dollars: priceText } : { no_price_dollars: priceText }),
      time_in_force: timeInForce,
      // Precog never opens a position by selling: a sell only reduces what is held.
      ...(request.action === 'sell' ? { reduce_only: true } : {}),
      ...(expirationTs !== undefined ? { expiration_ts: expirationTs } : {}),
    };
  }

  /**
   * One create attempt, never retried here. Done with fetch rather than HttpClient because the
   * classification needs what HttpClient's ApiError does not carry: Retry-After and the error body.
   */
  private async createOnce(body: CreateOrderRequest): Promise<{ json: unknown } | { failure: CreateFailure }> {
    await this.writeBucket.take();
    const url = this.reads.url(ORDERS);
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
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // The body read is covered by the same timeout; losing it after a 2xx is still ambiguous.
      text = await response.text();
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
      return {
        failure: timedOut
          ? { kind: 'timeout', message: `timed out after ${this.timeoutMs} ms` }
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
    try {
      return { json: text === '' ? null : JSON.parse(text) };
    } catch {
      throw new ApiError(`${this.name} POST ${url.pathname}: response is not JSON`, 'payload', url.toString(), response.status);
    }
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
      url: this.reads.url(ORDERS).toString(), method: 'POST', kind: failure.kind, status: failure.status,
      message: failure.message, attempt, final,
    });
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.random() * ceiling); // full jitter
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
  if (failure.status === 429) return 'throttled'; // not processed
  if (failure.status === 409 || (failure.code !== undefined && /already_?exists|duplicate/i.test(failure.code))) return 'duplicate';
  if (failure.status === 408) return 'ambiguous'; // the server gave up mid-request
  if (failure.status >= 400 && failure.status < 500) return 'rejected';
  return 'ambiguous'; // 5xx (and anything unexpected): it may have been committed
}

function describe(failure: CreateFailure): string {
  if (failure.kind !== 'http') return failure.message;
  const venue = [failure.code, failure.venueMessage].filter(Boolean).join(': ');
  return `HTTP ${failure.status}${venue ? ` ${venue}` : ''}`;
}
