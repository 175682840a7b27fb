/** Errors of the outside world, each saying what failed and where. */

export type ApiErrorKind = 'http' | 'timeout' | 'network' | 'payload';

/** A request that failed for good (after its retries), or a response that could not be used. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly kind: ApiErrorKind,
    readonly url: string,
    readonly status?: number,
    readonly attempts = 1,
  ) {
    super(message);
  }
}

/** A response body that does not match the documented shape; `path` names the field. */
export class PayloadError extends Error {
  override name = 'PayloadError';
  constructor(
    readonly source: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${source}: ${path}: ${reason}`);
  }
}
