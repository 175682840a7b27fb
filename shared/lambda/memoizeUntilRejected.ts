/**
 * A per-container cache of something created once (an exchange, a client): the first call creates
 * it, later calls share that promise. A creation that fails is forgotten, so the next invocation
 * tries again instead of every invocation of the container failing with the cached rejection (one
 * failed secret read must not break a warm container for its whole life). shared/db/pool.ts
 * `getPool` does the same for the pool.
 *
 * The arguments of the call that creates are used; later calls share its value unless `sameAs`
 * says their arguments need another (e.g. an exchange bound to a pool that has since been replaced).
 */
export interface Memoized<A extends unknown[], T> {
  (...args: A): Promise<T>;
  /** Forgets the value (the next call creates again). */
  clear(): void;
}

export function memoizeUntilRejected<A extends unknown[], T>(
  create: (...args: A) => Promise<T>,
  options: { sameAs?: (cachedFor: A, args: A) => boolean } = {},
): Memoized<A, T> {
  let cached: { promise: Promise<T>; args: A } | undefined;
  const get = (...args: A): Promise<T> => {
    if (cached && (!options.sameAs || options.sameAs(cached.args, args))) return cached.promise;
    const promise = Promise.resolve().then(() => create(...args));
    const entry = { promise, args };
    cached = entry;
    promise.catch(() => {
      // Only this creation is forgotten: a newer one (after clear(), or for other arguments) stays.
      if (cached === entry) cached = undefined;
    });
    return promise;
  };
  return Object.assign(get, { clear: () => { cached = undefined; } });
}

/** For caches of things bound to a pool: a new pool (the old one closed) needs a new value. */
export const samePool = <P>(cachedFor: readonly [P, ...unknown[]], args: readonly [P, ...unknown[]]): boolean => cachedFor[0] === args[0];
