import { machineTimeoutSignal, sleep } from '../clock/clock';
import { ApiError } from './errors';
import { TokenBucket } from './rateLimiter';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 5_000 };

/** One failed attempt, reported whether or not a retry follows (circuit breakers count these). */
export interface FailedAttempt {
  url: string;
  method: string;
  kind: 'http' | 'timeout' | 'network';
  status?: number;
  message: string;
  attempt: number;
  /** True when no retry follows: the request failed for good. */
  final: boolean;
}

export interface HttpClientOptions {
  baseUrl: string;
  /** Identifies the API in errors ("kalshi", "espn"). */
  name: string;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  rateLimit?: TokenBucket;
  /** Tokens one request takes from `rateLimit` (Kalshi: 10). Default 1. */
  rateLimitCost?: number;
  /** Extra headers per request (signing); receives the method and the full URL path. */
  headers?: (method: string, path: string) => Record<string, string> | Promise<Record<string, string>>;
  onFailedAttempt?: (failure: FailedAttempt) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /**
   * Time the caller has left (a Lambda's `getRemainingTimeInMillis`). No attempt, retry or sleep
   * starts that could not finish `deadlineMarginMs` before it: an attempt's timeout is cut to what
   * is left, and a retry needs its delay plus a whole `timeoutMs`.
   */
  remainingTimeMs?: () => number;
  /** Kept free before the deadline (to record the outcome). Default 1000 ms. */
  deadlineMarginMs?: number;
}

export const DEFAULT_DEADLINE_MARGIN_MS = 1_000;

/**
 * The delay before retry `attempt` + 1: full jitter under a capped exponential ceiling, except
 * after a throttle (429 without Retry-After), where at least half the ceiling is waited so that a
 * retry never lands at once on a bucket that was just found empty.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number, throttled = false): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return throttled ? Math.floor(ceiling / 2 + random() * (ceiling / 2)) : Math.floor(random() * ceiling);
}

/** Milliseconds usable before the caller's deadline (less the margin); Infinity without one. */
export function timeLeft(remainingTimeMs: (() => number) | undefined, marginMs: number): number {
  return remainingTimeMs ? remainingTimeMs() - marginMs : Number.POSITIVE_INFINITY;
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | readonly string[]>;
  body?: unknown;
  /** A write that must not be blindly repeated (order create): never retried here. */
  idempotent?: boolean;
}

/**
 * JSON over HTTP with a timeout per attempt, a token-bucket rate limit, and retries with capped
 * exponential backoff and jitter on 429/5xx/timeouts/network errors (Retry-After honoured; a 429
 * without it waits at least half the ceiling), all within the caller's remaining time if given.
 */
export class HttpClient {
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  readonly basePath: string;

  constructor(private readonly options: HttpClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.sleep = options.sleep ?? sleep; // backoff and Retry-After waits: the application's clock
    this.random = options.random ?? Math.random;
    this.basePath = new URL(options.baseUrl).pathname.replace(/\/$/, '');
  }

  url(path: string, query?: RequestOptions['query']): URL {
    const url = new URL(`${this.options.baseUrl.replace(/\/$/, '')}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      url.searchParams.set(key, Array.isArray(value) ? value.join(',') : String(value));
    }
    return url;
  }

  async get(path: string, query?: RequestOptions['query']): Promise<unknown> {
    return this.request('GET', path, { query });
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<unknown> {
    const url = this.url(path, options.query);
    const maxAttempts = options.idempotent === false ? 1 : this.retry.maxAttempts;
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    for (let attempt = 1; ; attempt++) {
      await this.options.rateLimit?.take(this.options.rateLimitCost ?? 1);
      const left = this.timeLeft();
      if (left <= 0) {
        // Not sent: a request the caller's deadline would cut off midway helps nobody.
        throw new ApiError(
          `${this.options.name} ${method} ${url.pathname}: not sent, no time left before the caller's deadline${attempt > 1 ? ` (after ${attempt - 1} attempts)` : ''}`,
          'timeout', url.toString(), undefined, attempt - 1,
        );
      }
      const failure = await this.attempt(method, url, options.body, Math.min(timeoutMs, left));
      if (!('failure' in failure)) return failure.json;
      const delay = failure.retryAfterMs ?? retryDelay(this.retry, attempt, this.random, failure.failure.status === 429);
      const outOfTime = this.timeLeft() < delay + timeoutMs;
      const final = attempt >= maxAttempts || !failure.retryable || outOfTime;
      this.options.onFailedAttempt?.({ ...failure.failure, attempt, final });
      if (final) {
        const { kind, status, message } = failure.failure;
        const why = failure.retryable && attempt < maxAttempts && outOfTime ? '; no time left to retry before the caller\'s deadline' : '';
        throw new ApiError(
          `${this.options.name} ${method} ${url.pathname}: ${message}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}${why}`,
          kind, url.toString(), status, attempt,
        );
      }
      await this.sleep(delay);
    }
  }

  /** Milliseconds usable before the caller's deadline (Infinity without one). */
  timeLeft(): number {
    return timeLeft(this.options.remainingTimeMs, this.options.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS);
  }

  private async attempt(
    method: string,
    url: URL,
    body: unknown,
    timeoutMs: number,
  ): Promise<
    | { json: unknown }
    | { failure: Omit<FailedAttempt, 'attempt' | 'final'>; retryable: boolean; retryAfterMs?: number }
  > {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, await this.options.headers?.(method, url.pathname));
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // A technical timeout on this machine's I/O: machine time, whatever clock trading runs on.
        signal: machineTimeoutSignal(timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
      return {
        failure: {
          url: url.toString(), method, kind: timedOut ? 'timeout' : 'network',
          message: timedOut ? `timed out after ${timeoutMs} ms` : `network error: ${(error as Error).message}`,
        },
        retryable: true,
      };
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      const retryAfter = Number(response.headers.get('retry-after'));
      return {
        failure: {
          url: url.toString(), method, kind: 'http', status: response.status,
          message: `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
        },
        retryable: RETRYABLE_STATUS.has(response.status),
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, this.retry.maxDelayMs) : undefined,
      };
    }
    try {
      return { json: text === '' ? null : JSON.parse(text) };
    } catch {
      throw new ApiError(`${this.options.name} ${method} ${url.pathname}: response is not JSON`, 'payload', url.toString(), response.status);
    }
  }
}
