import { Decimal } from '../../shared/domain/decimal';
import { ACCOUNT_BALANCE, versionedUpsert } from '../../shared/db';
import { scanEdges } from '../../shared/edges/scanEdges';
import { IngestedBookSource } from '../../shared/exchange/paper/bookSources';
import { PaperExchange } from '../../shared/exchange/paper/paperExchange';
import { executeEntry } from '../../shared/execution/executeEntry';
import { reconcileVenue } from '../../shared/execution/reconcile';
import { MemoryEntryQueue } from '../../shared/queues/sqsEntryQueue';
import { createPool } from '../../shared/db/pool';
import { countRoundTrips, time, type Bench, type BenchContext, type BenchResult } from '../harness';
import { executeEntryKalshiSim } from './executeEntryKalshi';
import { ENTRY_BENCH_RULES } from './entryBenchRules';
import { seedWorld } from './scanEdges';

const GAMES = 400;

const RULES = ENTRY_BENCH_RULES;

/**
 * execute-entry on the paper exchange: entries executed one after another (as one consumer
 * does), each the whole path (order row lock, last-look snapshot, venue order, fills, trade,
 * position and cash versions); then every message delivered again (the duplicate path), then a
 * reconciliation over all of it. Reports entries per second, latency and database round trips
 * per entry (the consumer's and the paper venue's together).
 */
export const executeEntryBench: Bench = async (ctx) => [await executeEntryPaper(ctx), await executeEntryKalshiSim(ctx)];

async function executeEntryPaper({ freshDatabase }: BenchContext): Promise<BenchResult> {
  const { pool, url } = await freshDatabase();
  // The venue gets a pool of its own so that its round trips are counted apart from execution's.
  const venuePool = createPool({ connectionString: url, max: 2 });
  await seedWorld(pool, GAMES);
  await versionedUpsert(pool, ACCOUNT_BALANCE, [{ platform_id: 'kalshi', execution_mode: 'paper', currency: 'USD', balance: new Decimal('1e8') }]);
  await pool.query(`UPDATE orders SET status = 'cancelled', status_reason = 'bench reset' WHERE status = 'pending'`);
  const queue = new MemoryEntryQueue();
  await scanEdges({ pool, queue, rules: RULES });
  const messages = queue.sent;
  const exchange = new PaperExchange(venuePool, { books: new IngestedBookSource(venuePool, { depth: null }), startingBalance: new Decimal('1e8') });
  const counter = countRoundTrips(pool);
  const venueCounter = countRoundTrips(venuePool);

  counter.count = 0;
  venueCounter.count = 0;
  const latencies: number[] = [];
  const { ms } = await time(async () => {
    for (const message of messages) {
      const one = await time(() => executeEntry({ pool, exchange, rules: RULES }, message));
      if (one.value.outcome !== 'executed') throw new Error(`bench entry not executed: ${JSON.stringify(one.value)}`);
      latencies.push(one.ms);
    }
  });
  const entryTrips = counter.count / messages.length;
  const venueTrips = venueCounter.count / messages.length;

  counter.count = 0;
  const duplicates = await time(async () => {
    for (const message of messages) await executeEntry({ pool, exchange, rules: RULES }, message, { receiveCount: 2 });
  });
  const duplicateTrips = counter.count / messages.length;

  counter.count = 0;
  const reconcile = await time(() => reconcileVenue({ pool, exchange, rules: RULES }));
  await venuePool.end();
  if (reconcile.value.desyncs.length > 0 || reconcile.value.balance.difference !== '0.0000') {
    throw new Error(`bench books and venue disagree: ${JSON.stringify(reconcile.value.desyncs.slice(0, 3))} ${reconcile.value.balance.difference}`);
  }

  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  const MAX_TRIPS_PER_ENTRY = 20;
  return {
    name: 'execute-entry',
    figures: {
      entries: messages.length / (ms / 1000),
      duplicates: messages.length / (duplicates.ms / 1000),
    },
    notes: [
      `${messages.length} entries on the paper exchange, one consumer: ${ms.toFixed(0)} ms; latency p50 ${pct(50).toFixed(1)} ms, p95 ${pct(95).toFixed(1)} ms`,
      `database round trips per entry: ${entryTrips.toFixed(1)} by execution (bound ${MAX_TRIPS_PER_ENTRY}) + ${venueTrips.toFixed(1)} by the paper venue; per duplicate delivery: ${duplicateTrips.toFixed(1)}`,
      `reconciliation of ${reconcile.value.ordersChecked} open orders and ${messages.length} positions: ${reconcile.ms.toFixed(0)} ms, ${counter.count} round trips, books and venue equal`,
    ],
    goalMet: entryTrips <= MAX_TRIPS_PER_ENTRY,
  };
}
