import type { Context } from 'aws-lambda';

/**
 * The remaining time of the invocation running now, for things cached across invocations (the
 * exchange and its HTTP client live as long as the container; the Lambda context is new each
 * invocation). The handler calls `enter(context)` at the start of every invocation; the cached
 * client reads `remainingTimeMs()` when it decides whether another retry still fits.
 */
export class InvocationDeadline {
  private context: Pick<Context, 'getRemainingTimeInMillis'> | undefined;

  /** The invocation that runs now (undefined: none, e.g. a call from a script without a context). */
  enter(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined): void {
    this.context = typeof context?.getRemainingTimeInMillis === 'function' ? context : undefined;
  }

  /** Milliseconds left in the current invocation; Infinity outside one (no deadline to respect). */
  readonly remainingTimeMs = (): number => {
    const remaining = this.context?.getRemainingTimeInMillis();
    return remaining === undefined || !Number.isFinite(remaining) ? Number.POSITIVE_INFINITY : Math.max(0, remaining);
  };
}
