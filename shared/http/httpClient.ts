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
  /** Extra headers per request (signing); receives the method and the full URL path. */
  headers?: (method: string, path: string) => Record<string, string> | Promise<Record<string, string>>;
  onFailedAttempt?: (failure: FailedAttempt) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
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
 * exponential backoff and full jitter on 429/5xx/timeouts/network errors (Retry-After honoured).
 */
export class HttpClient {
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  readonly basePath: string;

  constructor(private readonly options: HttpClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
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
    for (let attempt = 1; ; attempt++) {
      await this.options.rateLimit?.take();
      const failure = await this.attempt(method, url, options.body);
      if (!('failure' in failure)) return failure.json;
      const final = attempt >= maxAttempts || !failure.retryable;
      this.options.onFailedAttempt?.({ ...failure.failure, attempt, final });
      if (final) {
        const { kind, status, message } = failure.failure;
        throw new ApiError(
          `${this.options.name} ${method} ${url.pathname}: ${message}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`,
          kind, url.toString(), status, attempt,
        );
      }
      await this.sleep(failure.retryAfterMs ?? this.backoff(attempt));
    }
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.random() * ceiling); // full jitter
  }

  private async attempt(
    method: string,
    url: URL,
    body: unknown,
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
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
      return {
        failure: {
          url: url.toString(), method, kind: timedOut ? 'timeout' : 'network',
          message: timedOut ? `timed out after ${this.options.timeoutMs ?? 10_000} ms` : `network error: ${(error as Error).message}`,
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
