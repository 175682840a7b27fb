import pg from 'pg';
import type { EventLoop } from './eventLoop';

/**
 * Marks the runtime's I/O as I/O of the process that issued it (EventLoop.io): PostgreSQL queries
 * and client checkouts (pg), HTTP requests (fetch, body included: a response is read to its end
 * before the caller sees it). Counts the database round trips for the bench. Returns the function
 * that puts pg and fetch back.
 *
 * Patched at the prototypes because the handlers create their own pools (shared/db/pool.ts) and
 * their own clients: only the local runtime installs it, for the length of a run.
 */
export interface IoCounters {
  /** Queries sent to PostgreSQL (each a round trip). */
  queries: number;
  /** HTTP requests (the simulator, the scoreboard). */
  requests: number;
}

type AnyFn = (...args: unknown[]) => unknown;

export function instrumentIo(loop: EventLoop): { counters: IoCounters; restore: () => void } {
  const counters: IoCounters = { queries: 0, requests: 0 };
  const clientProto = pg.Client.prototype as unknown as { query: AnyFn };
  const poolProto = pg.Pool.prototype as unknown as { query: AnyFn; connect: AnyFn };
  const originals = { clientQuery: clientProto.query, poolQuery: poolProto.query, poolConnect: poolProto.connect, fetch: globalThis.fetch };
  const hasCallback = (args: unknown[]) => args.some((a) => typeof a === 'function');

  clientProto.query = function (this: unknown, ...args: unknown[]) {
    counters.queries++;
    const first = args[0] as { submit?: unknown } | undefined;
    // Callback and submittable forms (pool.query's own call, cursors) are covered by their caller.
    if (hasCallback(args) || typeof first?.submit === 'function') return originals.clientQuery.apply(this, args);
    return loop.io(() => originals.clientQuery.apply(this, args) as Promise<unknown>);
  };
  poolProto.query = function (this: unknown, ...args: unknown[]) {
    if (hasCallback(args)) return originals.poolQuery.apply(this, args);
    return loop.io(() => originals.poolQuery.apply(this, args) as Promise<unknown>);
  };
  poolProto.connect = function (this: unknown, ...args: unknown[]) {
    if (hasCallback(args)) return originals.poolConnect.apply(this, args);
    return loop.io(() => originals.poolConnect.apply(this, args) as Promise<unknown>);
  };
  globalThis.fetch = (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) =>
    loop.io(async () => {
      counters.requests++;
      const response = await originals.fetch(input, init);
      const noBody = [101, 204, 205, 304].includes(response.status) || init?.method === 'HEAD';
      const body = noBody ? null : await response.arrayBuffer();
      const buffered = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
      Object.defineProperty(buffered, 'url', { value: response.url });
      return buffered;
    });

  return {
    counters,
    restore: () => {
      clientProto.query = originals.clientQuery;
      poolProto.query = originals.poolQuery;
      poolProto.connect = originals.poolConnect;
      globalThis.fetch = originals.fetch;
    },
  };
}
