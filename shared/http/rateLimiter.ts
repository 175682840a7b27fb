import { nowMs, sleep as clockSleep } from '../clock/clock';

/**
 * Token bucket: holds at most `burst` tokens, refilled at `perSecond` tokens a second. `take(cost)`
 * resolves once `cost` tokens are available, so callers queue instead of being rejected. With the
 * default cost of 1 a token is a request; Kalshi counts in tokens (a request costs 10 of them), and
 * a bucket built with its numbers (`perSecond` 200, cost 10) gives 20 requests a second.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number = Math.max(1, Math.floor(perSecond)),
    private readonly now: () => number = nowMs,
    private readonly sleep: (ms: number) => Promise<void> = clockSleep,
  ) {
    if (!(perSecond > 0)) throw new RangeError('perSecond must be positive');
    if (!(burst >= 1)) throw new RangeError('burst must be at least 1');
    this.tokens = this.burst;
    this.last = this.now();
  }

  take(cost = 1): Promise<void> {
    if (!(cost > 0) || cost > this.burst) throw new RangeError(`token cost ${cost} must be in (0, burst ${this.burst}]`);
    // Serialise waiters so that tokens are handed out in arrival order.
    const turn = this.queue.then(() => this.acquire(cost));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async acquire(cost: number): Promise<void> {
    for (;;) {
      const now = this.now();
      // max(0, …): a bucket made before a virtual clock was installed must not see time run backwards.
      this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.last) / 1000) * this.perSecond);
      this.last = now;
      if (this.tokens >= cost) {
        this.tokens -= cost;
        return;
      }
      await this.sleep(Math.ceil(((cost - this.tokens) / this.perSecond) * 1000));
    }
  }
}

/**
 * Kalshi's Basic tier (docs "Rate Limits and Tiers", Dec 2026): separate read and write token
 * buckets of 200 and 100 tokens a second, 10 tokens per request (about 20 reads and 10 writes a
 * second per account).
 */
export const KALSHI_BASIC_TIER = { readTokensPerSecond: 200, writeTokensPerSecond: 100, tokensPerRequest: 10 } as const;

/**
 * A bucket counting Kalshi tokens for a budget of `requestsPerSecond`: each `take(tokensPerRequest)`
 * is one request, and at most one second's budget goes out at once.
 */
export function kalshiBucket(requestsPerSecond: number, now?: () => number, sleep?: (ms: number) => Promise<void>): TokenBucket {
  const tokensPerSecond = requestsPerSecond * KALSHI_BASIC_TIER.tokensPerRequest;
  return new TokenBucket(tokensPerSecond, Math.max(KALSHI_BASIC_TIER.tokensPerRequest, tokensPerSecond), now, sleep);
}
