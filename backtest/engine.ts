import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { useClock } from '../shared/clock/clock';
import { Decimal } from '../shared/domain/decimal';
import { EventLoop } from '../local/des/eventLoop';
import { instrumentIo } from '../local/des/instrument';
import { databaseUrl } from '../local/embeddedPostgres';
import { importTradingHandlers, wireTradingHandlers } from '../local/handlerHarness';
import { LocalEntryQueue, LocalExitQueue } from '../local/localQueue';
import { seededRandom } from '../local/runtime';
import { LocalScheduler } from '../local/scheduler';
import { BacktestInputError, chooseCatalog, formatRef, loadCatalog, type VersionRef } from './catalog';
import { DEFAULT_FILL_MODEL, describeFillModel, validateFillModel, type FillModel } from './fillModel';
import { readOutcome, type BacktestOutcome, type BacktestRunInfo } from './outcome';
import { GapFinder } from './gaps';
import { TapePlayer } from './tapePlayer';
import type { ReplayRow, ReplaySource } from './source';
import { InstantReader } from './instants';

/**
 * `precog backtest`: replays recorded history through the deployed handlers.
 *
 *   1. a fresh replay database (a throwaway database on `serverUrl`'s server), migrated, holding
 *      the catalog: every platform and probability matrix, the requested strategy versions (all
 *      active) and their model;
 *   2. a discrete-event loop (local/des) whose virtual clock starts at the window's start and is
 *      installed for the process: handlers, SQL `precog_now()`, the paper venue all read it;
 *   3. the tape player applies each instant's recorded rows AT that instant, before anything else
 *      scheduled at it (ingestion ran first at each tick of the recorded run), through the
 *      versioned upsert ingestion uses;
 *   4. the real scan-edges, execute-entry (queue), monitor-positions, execute-exit (queue),
 *      settle-markets and check-health run on their deployed schedules (local/handlerHarness.ts,
 *      shared with `npm start`); ingestion does not run: the tape replaces it;
 *   5. the venue is the paper exchange over the replayed top of book, with the stated fill model
 *      (backtest/fillModel.ts): latency, recorded sizes consumed per snapshot, Kalshi's fees;
 *   6. at the window's end the loop stops; the outcome is read from the replay database
 *      (`readOutcome`: the seam for the report, see backtest/report) and the database dropped
 *      unless `keep`.
 *
 * Deterministic: the order of everything is a function of the tape, the versions and the seed
 * (which seeds the process's Math.random, the handlers' only random choice: retry jitter).
 */

export interface BacktestOptions {
  source: ReplaySource;
  /** The window replayed; default: what the source covers. */
  from?: Date;
  to?: Date;
  strategies: VersionRef[];
  /** The model the strategies use; null/undefined: whatever their configs name (checked to exist). */
  model?: VersionRef | null;
  /** Starting cash of the paper account, dollars. */
  balance: Decimal;
  seed: number;
  fillModel?: Partial<FillModel>;
  /** A server URL whose role may CREATE DATABASE: the replay database is created there. */
  serverUrl: string;
  /** The URL the handlers connect with, on the same server (default serverUrl; the tests' PgBouncer). */
  applicationServerUrl?: string;
  /** A migrated database to clone the replay database from (fast); default: migrate a new one. */
  template?: string;
  /** Keep the replay database (its URL is in the outcome). */
  keep?: boolean;
  /** Longest stretch without market data while a game is live before the tape is refused (default 5 minutes). */
  maxGapMinutes?: number;
  /** Called as the replay advances (virtual ms done, virtual ms total). */
  onProgress?: (done: number, total: number) => void;
  /** Powertools log level of the handlers (default ERROR). */
  logLevel?: string;
  /** Test hook: called after each tape instant is applied, inside the run (e.g. to check the replay database). */
  afterInstant?: (at: Date, pool: pg.Pool) => Promise<void>;
  /**
   * Called once the replay is over, before the replay database is dropped, with a pool on it and
   * the run's description: the report (backtest/report) reads the replay database here.
   */
  afterRun?: (pool: pg.Pool, info: BacktestRunInfo) => Promise<void>;
  /** Where a handler's error goes (default: collected in the outcome's warnings). */
  onProblem?: (name: string, message: string) => void;
}

export { BacktestInputError } from './catalog';

export async function runBacktest(options: BacktestOptions): Promise<BacktestOutcome> {
  const fill = validateFillModel({ ...DEFAULT_FILL_MODEL, ...options.fillModel });
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw new BacktestInputError(`--seed must be a non-negative integer, got ${options.seed}`);
  if (!Decimal.isDecimal(options.balance) || options.balance.lte(0) || options.balance.decimalPlaces() > 4) {
    throw new BacktestInputError(`--balance must be a positive dollar amount with at most 4 decimals, got ${String(options.balance)}`);
  }
  const coverage = await options.source.coverage();
  if (!coverage) throw new BacktestInputError(`${options.source.label} holds no market or game-state versions: nothing to replay`);
  const from = options.from ?? coverage.from;
  const to = options.to ?? coverage.to;
  if (!(from.getTime() < to.getTime())) throw new BacktestInputError(`--from ${from.toISOString()} must be before --to ${to.toISOString()}`);
  if (from.getTime() < coverage.from.getTime() || to.getTime() > coverage.to.getTime()) {
    throw new BacktestInputError(
      `${options.source.label} covers ${coverage.from.toISOString()} to ${coverage.to.toISOString()}; ` +
        `the requested window ${from.toISOString()} to ${to.toISOString()} is not covered`,
    );
  }
  const catalog = await options.source.catalog();
  const chosen = chooseCatalog(catalog, { strategies: options.strategies, model: options.model ?? null, from });

  // First pass, streamed (memory flat whatever the tape's length): the gap check and, for a source
  // with no identity of its own, the hash of the rows. The replay streams the source again.
  const digest = options.source.tapeId ? null : createHash('sha256');
  const gapFinder = new GapFinder(options.maxGapMinutes ?? 5);
  for await (const row of options.source.rows(from, to)) {
    gapFinder.add(row);
    if (digest) {
      digest.update(JSON.stringify([row.table, row.at.toISOString(), row.row]));
      digest.update('\n');
    }
  }
  const tapeId = digest ? `rows-sha256:${digest.digest('hex')}` : await options.source.tapeId!();
  const gaps = gapFinder.gaps;
  if (gaps.length > 0) {
    const g = gaps[0]!;
    throw new BacktestInputError(
      `${options.source.label} has a gap: no market or game data from ${g.from.toISOString()} to ${g.to.toISOString()} (${g.minutes} minutes) ` +
        `while ${g.games.join(', ')} ${g.games.length === 1 ? 'was' : 'were'} live${gaps.length > 1 ? ` (and ${gaps.length - 1} more gaps)` : ''}`,
    );
  }

  // --- the replay database ---------------------------------------------------------------------
  const name = `precog_backtest_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: options.serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}${options.template ? ` TEMPLATE ${pg.escapeIdentifier(options.template)}` : ''}`);
  } finally {
    await admin.end();
  }
  const replayUrl = databaseUrl(options.applicationServerUrl ?? options.serverUrl, name);
  const savedEnv = { ...process.env };
  const warnings = new Map<string, number>();
  const problem = options.onProblem ?? ((n: string, message: string) => {
    const key = `${n}: ${message}`;
    warnings.set(key, (warnings.get(key) ?? 0) + 1);
  });
  let outcome: BacktestOutcome | undefined;
  const startedWall = performance.now();
  try {
    Object.assign(process.env, {
      DATABASE_URL: replayUrl, EXECUTION_MODE: 'paper', POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true',
    });
    delete process.env.EVENT_BUS_NAME;
    delete process.env.KALSHI_CREDENTIALS_SECRET_ARN;
    const { migrate } = await import('../shared/db/migrate');
    if (!options.template) await migrate({ connection: replayUrl });
    const { getPool, closeSharedPool } = await import('../shared/db/pool');
    const { withTransaction } = await import('../shared/db/transaction');
    const { installExchange } = await import('../shared/exchange/factory');
    const { PaperExchange } = await import('../shared/exchange/paper/paperExchange');
    const { IngestedBookSource } = await import('../shared/exchange/paper/bookSources');
    const { lockBalance, writeBalance } = await import('../shared/execution/ledger');
    const pool = await getPool();
    try {
      const loop = new EventLoop(from.getTime(), { onProcessError: (n, error) => problem(n, error instanceof Error ? error.message : String(error)) });
      const restoreClock = useClock(loop);
      // On the virtual clock already: every row the catalog writes is stamped with the window's start.
      await withTransaction(pool, async (client) => {
        await loadCatalog(client, catalog, chosen, from);
        // The paper account's opening cash in the books (a deployed paper stack's first reconciliation does the same).
        await lockBalance(client, 'kalshi', 'paper');
        await writeBalance(client, 'kalshi', 'paper', options.balance);
      });
      const random = seededRandom(options.seed);
      const originalRandom = Math.random;
      Math.random = random;
      const io = instrumentIo(loop);
      const exchange = new PaperExchange(pool, {
        books: new IngestedBookSource(pool, { depth: fill.displayedSize === 'recorded' ? 'recorded' : null }),
        startingBalance: options.balance, latencyMs: fill.latencyMs,
      });
      const uninstall = installExchange(() => exchange);
      try {
        const handlers = await importTradingHandlers();
        const entryQueue = new LocalEntryQueue({ now: () => loop.nowMs() });
        const exitQueue = new LocalExitQueue({ now: () => loop.nowMs() });
        const jobs = new LocalScheduler(loop, { onError: (n, error) => problem(n, (error as Error).message) });
        const wired = wireTradingHandlers({ loop, jobs, handlers, pool, entryQueue, exitQueue, exitExchange: exchange, problem });
        jobs.start(from.getTime());

        // The tape: one event per recorded instant, each scheduled when the previous one is
        // applied. Sequence 0 puts it before every other event at its instant (schedule ticks,
        // queue deliveries, wake-ups): in the recorded run ingestion wrote first at each tick.
        const player = new TapePlayer(pool);
        let tapeFailure: Error | undefined;
        const total = to.getTime() - from.getTime();
        // Streamed: the next instant is read when the previous one is applied (inside the tape
        // process, as its I/O: the loop does not advance meanwhile).
        const instants = new InstantReader(options.source.rows(from, to));
        const scheduleNext = (batch: ReplayRow[] | null) => {
          if (!batch) return;
          const at = batch[0]!.at.getTime();
          loop.at(at, () => void loop.spawn('tape', async () => {
            try {
              await player.apply(batch);
            } catch (error) {
              // A tape that cannot be applied ends the replay: what follows would run on a wrong world.
              tapeFailure = new Error(`the tape's rows at ${new Date(at).toISOString()} could not be applied: ${(error as Error).message}`);
              loop.stop();
              return;
            }
            await options.afterInstant?.(new Date(at), pool);
            options.onProgress?.(at - from.getTime(), total);
            scheduleNext(await loop.io(() => instants.next()));
          }), 0, 'tape');
        };
        scheduleNext(await instants.next());
        loop.at(to.getTime(), () => loop.stop(), undefined, 'end');
        await loop.run({ beforeAdvance: wired.ensureDeliveries });
        if (tapeFailure) throw tapeFailure;
        options.onProgress?.(total, total);

        const info: BacktestRunInfo = {
          tapeId,
          source: options.source.label,
          window: { from, to },
          strategies: chosen.strategies.map((s) => ({ name: String(s.strategy_name), version: String(s.strategy_version) })),
          model: chosen.models.length === 1 ? { name: String(chosen.models[0]!.model_name), version: String(chosen.models[0]!.model_version) } : null,
          models: chosen.models.map((m) => ({ name: String(m.model_name), version: String(m.model_version) })),
          fillModel: describeFillModel(fill),
          seed: options.seed,
          balance: options.balance,
          startedAt: from,
          finishedAt: loop.now(),
        };
        outcome = await readOutcome(pool, info, exchange);
        outcome.stats = {
          wallSeconds: (performance.now() - startedWall) / 1000, simulatedSeconds: (loop.nowMs() - from.getTime()) / 1000,
          queries: io.counters.queries, events: loop.stats.events, processes: loop.stats.processes, tapeRows: { ...player.applied }, wallMsBy: { ...loop.stats.wallMsBy },
        };
        outcome.warnings = [...warnings].map(([k, n]) => (n > 1 ? `${k} (${n} times)` : k));
        if (options.keep) outcome.replayDatabaseUrl = replayUrl;
        if (options.afterRun) await options.afterRun(pool, info);
      } finally {
        uninstall();
        io.restore();
        Math.random = originalRandom;
        restoreClock();
      }
    } finally {
      await closeSharedPool();
    }
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
    if (!options.keep) {
      const dropper = new pg.Client({ connectionString: options.serverUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    }
  }
  return outcome!;
}

export { formatRef };
