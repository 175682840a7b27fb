import { Decimal } from '../../shared/domain/decimal';
import { ACCOUNT_BALANCE, versionedUpsert } from '../../shared/db';
import { scanEdges } from '../../shared/edges/scanEdges';
import { executeEntry } from '../../shared/execution/executeEntry';
import { reconcileVenue } from '../../shared/execution/reconcile';
import { MemoryEntryQueue } from '../../shared/queues/sqsEntryQueue';
import { KalshiExchange } from '../../shared/venues/kalshi/kalshiExchange';
import { kalshiTestCredentials, startKalshiPortfolioSim, type SimMarketInput } from '../../local/sim/kalshiPortfolioSim';
import { countRoundTrips, time, type BenchContext, type BenchResult } from '../harness';
import { ENTRY_BENCH_RULES } from './entryBenchRules';
import { seedWorld } from './scanEdges';

/** Fewer games than the paper variant: every entry here crosses real HTTP, signed and verified. */
const GAMES = 100;

const RULES = ENTRY_BENCH_RULES;

/**
 * execute-entry live, on the local Kalshi simulator (KalshiExchange over HTTP, every request
 * signed, the simulator quoting what the markets table says): entries one after another, then a
 * reconciliation. Reports entries per second and round trips per entry: HTTP requests to the
 * venue and database round trips of execution.
 */
export async function executeEntryKalshiSim({ freshDatabase }: BenchContext): Promise<BenchResult> {
  const { pool } = await freshDatabase();
  await seedWorld(pool, GAMES);
  await versionedUpsert(pool, ACCOUNT_BALANCE, [{ platform_id: 'kalshi', execution_mode: 'live', currency: 'USD', balance: new Decimal('1e8') }]);
  await pool.query(`UPDATE orders SET status = 'cancelled', status_reason = 'bench reset' WHERE status = 'pending'`);
  const queue = new MemoryEntryQueue();
  await scanEdges({ pool, queue, rules: RULES, executionMode: 'live' });
  const messages = queue.sent;

  const { rows } = await pool.query(
    `SELECT coalesce(ticker, market_id) AS ticker, yes_price::text AS yes_ask, yes_bid::text, no_price::text AS no_ask, no_bid::text
     FROM markets WHERE row_current_ind`,
  );
  const markets: Record<string, SimMarketInput> = {};
  for (const m of rows) {
    markets[m.ticker] = {
      yes: { ask: m.yes_ask, bid: m.yes_bid, depth: 1_000_000 },
      no: { ask: m.no_ask, bid: m.no_bid, depth: 1_000_000 },
    };
  }
  const { credentials, publicKey } = kalshiTestCredentials('bench-key');
  const sim = await startKalshiPortfolioSim({ keyId: 'bench-key', publicKey, markets, balanceDollars: '100000000.0000' });
  try {
    const exchange = new KalshiExchange({
      baseUrl: sim.baseUrl, environment: 'demo', credentials, readsPerSecond: 1_000_000, writesPerSecond: 1_000_000,
    });
    const counter = countRoundTrips(pool);
    counter.count = 0;
    const httpBefore = sim.requests.length;
    const { ms } = await time(async () => {
      for (const message of messages) {
        const outcome = await executeEntry({ pool, exchange, rules: RULES }, message);
        if (outcome.outcome !== 'executed') throw new Error(`bench entry not executed: ${JSON.stringify(outcome)}`);
      }
    });
    const httpPerEntry = (sim.requests.length - httpBefore) / messages.length;
    const dbPerEntry = counter.count / messages.length;
    const reconcile = await reconcileVenue({ pool, exchange, rules: RULES });
    if (reconcile.desyncs.length > 0 || reconcile.balance.difference !== '0.0000') {
      throw new Error(`bench books and venue disagree: ${JSON.stringify(reconcile.desyncs.slice(0, 3))} ${reconcile.balance.difference}`);
    }
    return {
      name: 'execute-entry-kalshi-sim',
      figures: { entries: messages.length / (ms / 1000) },
      notes: [
        `${messages.length} entries on the local Kalshi simulator (signed HTTP), one consumer: ${ms.toFixed(0)} ms`,
        `round trips per entry: ${httpPerEntry.toFixed(2)} HTTP to the venue + ${dbPerEntry.toFixed(1)} database`,
        `reconciliation: books and venue equal`,
      ],
      goalMet: true,
    };
  } finally {
    await sim.close();
  }
}
