import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type pg from 'pg';
import { dec, toSqlDecimal } from '../../shared/domain/decimal';
import { qty } from '../../shared/domain/quantity';
import { ACCOUNT_BALANCE, versionedUpsert } from '../../shared/db';
import { withTransaction } from '../../shared/db/transaction';
import { applyVenueUpdate, lockOrder } from '../../shared/execution/ledger';
import { scanEdges } from '../../shared/edges/scanEdges';
import { IngestedBookSource } from '../../shared/exchange/paper/bookSources';
import { PaperExchange } from '../../shared/exchange/paper/paperExchange';
import type { Exchange } from '../../shared/exchange/types';
import { MemoryEntryQueue } from '../../shared/queues/sqsEntryQueue';
import type { EntryOrderMessage } from '../../shared/queues/messages';
import { seedHalftimeWorld } from './scanWorld';

let messageSeq = 0;

/** An SQS record as Lambda delivers it (body, receive count). */
export function sqsRecord(body: string | object, receiveCount = 1): SQSRecord {
  messageSeq++;
  return {
    messageId: `msg-${messageSeq}`,
    receiptHandle: `rh-${messageSeq}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '1795815000000',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '1795815000000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:precog-entry-orders',
    awsRegion: 'us-east-1',
  };
}

export const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

export const lambdaContext = {
  functionName: 'execute-entry', awsRequestId: 'test-request', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:execute-entry',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

/** The paper exchange over the ingested prices (unlimited top-of-book depth unless given). */
export function paperExchange(pool: pg.Pool, options: { startingBalance?: string; depth?: number | null } = {}): PaperExchange {
  return new PaperExchange(pool, {
    books: new IngestedBookSource(pool, { depth: options.depth ?? null }),
    startingBalance: dec(options.startingBalance ?? '10000'),
  });
}

/**
 * The halftime world (KC YES ask 0.60 against a 0.80 model probability) scanned: one pending
 * entry order per strategy version, and the messages the scan sent.
 */
export async function scannedEntries(
  pool: pg.Pool,
  options: { strategies?: number; executionMode?: 'paper' | 'live' } = {},
): Promise<EntryOrderMessage[]> {
  await seedHalftimeWorld(pool, { strategies: options.strategies ?? 2 });
  if (options.executionMode === 'live') {
    await versionedUpsert(pool, ACCOUNT_BALANCE, [{ platform_id: 'kalshi', execution_mode: 'live', currency: 'USD', balance: dec('10000') }]);
  }
  const queue = new MemoryEntryQueue();
  await scanEdges({ pool, queue, executionMode: options.executionMode });
  return queue.sent;
}

/** Row counts of everything execution writes: "nothing written" is these staying equal. */
export async function executionFootprint(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query(`
    SELECT (SELECT count(*) FROM orders)::int AS orders,
           (SELECT count(*) FROM orders WHERE status <> 'pending')::int AS orders_not_pending,
           (SELECT count(*) FROM trades)::int AS trades,
           (SELECT count(*) FROM positions)::int AS positions,
           (SELECT count(*) FROM account_balance)::int AS balances,
           (SELECT count(*) FROM paper_orders)::int AS paper_orders,
           (SELECT count(*) FROM paper_fills)::int AS paper_fills`);
  return rows[0];
}

/** Wraps an exchange so that a test can make one call fail the way a flaky venue does. */
export function flaky(exchange: Exchange, failures: Partial<Record<'placeOrder' | 'getFills' | 'findOrder', Error[]>>): Exchange {
  const queue = { placeOrder: [...(failures.placeOrder ?? [])], getFills: [...(failures.getFills ?? [])], findOrder: [...(failures.findOrder ?? [])] };
  return new Proxy(exchange, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const pending = queue[property as keyof typeof queue];
        const error = pending?.shift();
        if (error) {
          // The venue may have acted before the failure reached us: do the call, then fail.
          if ((error as Error & { afterCall?: boolean }).afterCall) await value.apply(target, args);
          throw error;
        }
        return value.apply(target, args);
      };
    },
  });
}

/**
 * Opens a position the way execution does (an entry order row, the venue order, the fills
 * recorded by the ledger), for tests that start from a given position: `quantity` contracts of
 * `side` bought at `price` with an immediate-or-cancel limit.
 */
export async function openPosition(
  pool: pg.Pool,
  exchange: Exchange,
  args: { marketId: string; side: 'yes' | 'no'; quantity: number | string; price: string; strategyId?: number | null; modelId?: number | null; clientOrderId?: string },
): Promise<number> {
  const clientOrderId = args.clientOrderId ?? `pc-test-${Math.random().toString(36).slice(2, 12)}`;
  const quantity = qty(args.quantity);
  await pool.query(
    `INSERT INTO orders (client_order_id, purpose, market_id, platform_id, strategy_id, model_id, side, action, order_type,
                         limit_price, quantity, execution_mode, time_in_force)
     VALUES ($1, 'entry', $2, 'kalshi', $3, $4, $5, 'buy', 'limit', $6, $7, $8, 'immediate_or_cancel')`,
    [clientOrderId, args.marketId, args.strategyId ?? null, args.modelId ?? null, args.side, args.price, toSqlDecimal(quantity), exchange.executionMode],
  );
  const venueOrder = await exchange.placeOrder({
    ticker: args.marketId, clientOrderId, side: args.side, action: 'buy', count: quantity, type: 'limit',
    limitPrice: dec(args.price), timeInForce: 'immediate_or_cancel',
  });
  const fills = await exchange.getFills({ venueOrderId: venueOrder.venueOrderId });
  return withTransaction(pool, async (client) => {
    const order = (await lockOrder(client, clientOrderId))!;
    const result = await applyVenueUpdate(client, order, venueOrder, fills, { edge: { trueWinProbability: dec('0.80'), confidenceLevel: 'high' } });
    if (!result.filledQuantity.eq(quantity)) throw new Error(`test position: only ${result.filledQuantity} of ${quantity} filled`);
    return result.positionId!;
  });
}
