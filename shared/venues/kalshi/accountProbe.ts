import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { ExchangeStatus, GetAccountApiLimitsResponse } from 'kalshi-typescript';
import * as z from 'zod';
import { machineTimeoutSignal, nowMs } from '../../clock/clock';
import { ApiError } from '../../http/errors';
import { parseStrict } from '../../http/parse';
import { kalshiAuthHeaders, type KalshiCredentials } from './signing';
import { kalshiErrorOf } from './tradingSchemas';

/**
 * Read-only questions about the venue and the account that trading itself never asks: is the
 * exchange open, what API tier is the key on, and what time does Kalshi think it is (the Date
 * header, against which signature timestamps are judged). One attempt per question, no retries:
 * `precog preflight` reports what it sees.
 */

export interface KalshiExchangeStatus {
  exchangeActive: boolean;
  tradingActive: boolean;
  /** Kalshi's estimate of the end of a maintenance window, when it gives one. */
  estimatedResumeTime: Date | null;
}

export interface KalshiBucket {
  /** Tokens a second (a request costs 10 by default). */
  refillRate: number;
  bucketCapacity: number;
}

export interface KalshiApiLimits {
  usageTier: string;
  read: KalshiBucket;
  write: KalshiBucket;
}

/** An answer with the moment it was asked and received (local clock) and the server's Date. */
export interface Timed<T> {
  value: T;
  sentAtMs: number;
  receivedAtMs: number;
  /** The response's Date header (whole seconds); null when absent or unreadable. */
  serverDate: Date | null;
}

const exchangeStatus = z.object({
  exchange_active: z.boolean(),
  trading_active: z.boolean(),
  exchange_estimated_resume_time: z.iso.datetime({ offset: true }).nullable().optional(),
}) satisfies z.ZodType<Pick<ExchangeStatus, 'exchange_active' | 'trading_active' | 'exchange_estimated_resume_time'>>;

const bucket = z.object({ refill_rate: z.number().nonnegative(), bucket_capacity: z.number().nonnegative() });
const apiLimits = z.object({
  usage_tier: z.string().min(1),
  read: bucket,
  write: bucket,
}) satisfies z.ZodType<Pick<GetAccountApiLimitsResponse, 'usage_tier' | 'read' | 'write'>>;

export interface KalshiAccountProbeOptions {
  /** The Trade API root, e.g. https://demo-api.kalshi.co/trade-api/v2. */
  baseUrl: string;
  /** Needed for the account questions (GET /account/limits); the exchange status is public. */
  credentials?: KalshiCredentials;
  /** The local clock: signature timestamps and the skew measurement. */
  now?: () => number;
  timeoutMs?: number;
}

export class KalshiAccountProbe {
  private readonly baseUrl: string;
  private readonly key?: { keyId: string; privateKey: KeyObject };
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(options: KalshiAccountProbeOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, '');
    this.key = options.credentials
      ? { keyId: options.credentials.keyId, privateKey: createPrivateKey(options.credentials.privateKeyPem) }
      : undefined;
    this.now = options.now ?? nowMs;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** GET /exchange/status (public), with the server's Date for the clock comparison. */
  async exchangeStatus(): Promise<Timed<KalshiExchangeStatus>> {
    const answer = await this.getJson('/exchange/status', false);
    const status = parseStrict('kalshi exchange status', exchangeStatus, answer.value);
    return {
      ...answer,
      value: {
        exchangeActive: status.exchange_active,
        tradingActive: status.trading_active,
        estimatedResumeTime: status.exchange_estimated_resume_time ? new Date(status.exchange_estimated_resume_time) : null,
      },
    };
  }

  /** GET /account/limits (signed): the key's usage tier and its read and write token buckets. */
  async apiLimits(): Promise<KalshiApiLimits> {
    const limits = parseStrict('kalshi account limits', apiLimits, (await this.getJson('/account/limits', true)).value);
    const of = (b: z.infer<typeof bucket>): KalshiBucket => ({ refillRate: b.refill_rate, bucketCapacity: b.bucket_capacity });
    return { usageTier: limits.usage_tier, read: of(limits.read), write: of(limits.write) };
  }

  private url(path: string): URL {
    return new URL(`${this.baseUrl}${path}`);
  }

  private async getJson(path: string, signed: boolean): Promise<Timed<unknown>> {
    const url = this.url(path);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (signed) {
      if (!this.key) throw new TypeError(`kalshi GET ${url.pathname}: needs credentials`);
      Object.assign(headers, kalshiAuthHeaders(this.key, 'GET', url.pathname, this.now));
    }
    const sentAtMs = this.now();
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { method: 'GET', headers, signal: machineTimeoutSignal(this.timeoutMs) });
      text = await response.text();
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
      throw new ApiError(
        `kalshi GET ${url.pathname}: ${timedOut ? `timed out after ${this.timeoutMs} ms` : `network error: ${(error as Error).message}`}`,
        timedOut ? 'timeout' : 'network', url.toString(),
      );
    }
    const receivedAtMs = this.now();
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const { code, message } = kalshiErrorOf(json);
      const said = [code, message].filter(Boolean).join(': ');
      throw new ApiError(`kalshi GET ${url.pathname}: HTTP ${response.status}${said ? ` ${said}` : ''}`, 'http', url.toString(), response.status);
    }
    if (json === undefined) throw new ApiError(`kalshi GET ${url.pathname}: response is not JSON`, 'payload', url.toString(), response.status);
    const dateHeader = response.headers.get('date');
    const serverMs = dateHeader ? Date.parse(dateHeader) : Number.NaN;
    return { value: json, sentAtMs, receivedAtMs, serverDate: Number.isNaN(serverMs) ? null : new Date(serverMs) };
  }
}
