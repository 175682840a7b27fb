import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { useClock } from '../shared/clock/clock';
import { withTransaction } from '../shared/db/transaction';
import { Decimal } from '../shared/domain/decimal';
import type { EntryOrderMessage, ExitOrderMessage } from '../shared/queues/messages';
import { EventLoop, type Scheduled } from './des/eventLoop';
import { instrumentIo } from './des/instrument';
import { importTradingHandlers, LOCAL_SCHEDULES, wireTradingHandlers, type SavedDelivery } from './handlerHarness';
import { LocalEntryQueue, LocalExitQueue, type SavedQueue } from './localQueue';
import { buildRunReport, renderTextReport } from './report/build';
import { renderHtmlReport } from './report/html';
import type { ReportGame, ReportSample, RunReport } from './report/types';
import { blockingBreakers, emptyRunEventsState, newRunEvents, openBreakersAtStart, type RunEventsState } from './runEvents';
import { LocalScheduler, type SavedSchedule } from './scheduler';
import type { PortfolioState } from './sim/kalshiPortfolioSim';
import { gameDateOf, loadScenario, schedule, startOnGameDate, type Scenario } from './sim/scenario';
import { KalshiSimulator, type SimGame } from './sim/simulator';

/**
 * The local runtime (`npm start`): the real Lambda handlers on this machine, trading a scripted
 * scenario on the Kalshi simulator, as a discrete-event simulation (local/des/eventLoop.ts).
 *
 *   - one virtual clock for everything: it is installed as the process's clock (`useClock`), so the
 *     handlers, the rate limiters, the monitor's cadence, SQL (precog_now()), the queues and the
 *     simulator all read it; it starts at the scenario's fixed instant, never today;
 *   - the handlers run as processes of the event loop, one at a time; time moves only between
 *     them, to the next event: schedule ticks at the EventBridge periods (each job never overlapping
 *     itself), SQS deliveries when a message becomes visible (after its send, its visibility
 *     timeout, or what execute-exit's retryAfter set), a progress line per game minute. Nothing
 *     waits on the wall unless paced (`pace`: game seconds per wall second), so the same scenario
 *     on the same database gives the same trades and a byte-identical report.json;
 *   - the trading rules run as written: no time dilation;
 *   - everything a kill would lose (the clock, the event sequence, the pending ticks and
 *     deliveries, the queues with their visibility state, the venue's account) is saved to the
 *     state file on every change; running again resumes on the same timeline. Ctrl-C stops at the
 *     first instant no invocation is in progress, so a resumed run equals an uninterrupted one.
 *
 * The handlers read their configuration from the environment, as in AWS: this module sets it, then
 * imports them.
 */

export { LOCAL_SCHEDULES } from './handlerHarness';

/** Seed of the run's Math.random (the HTTP clients' retry jitter): the same every run. */
const RANDOM_SEED = 20260913;

export interface RunOptions {
  databaseUrl: string;
  /** Scenario name (local/scenarios) or path; default: the saved run's, else sunday-slate. */
  scenario?: string;
  /** Game seconds per wall second for people watching; unset: as fast as the machine allows. Results do not depend on it. */
  pace?: number;
  /** Where the resumable state is saved. */
  stateFile: string;
  /** Where report.json and report.html are written. */
  reportDir: string;
  /** Starting cash at the simulated venue, dollars. */
  balance?: string;
  /** Discard an interrupted run in the state file and start a new one. */
  newRun?: boolean;
  /** Progress and report lines. */
  print?: (line: string) => void;
  /** Powertools log level of the handlers (default WARN); their JSON logs go to handlers.log beside the report. */
  logLevel?: string;
  /** Sim seconds after the markets settle before giving up on open positions (default 600). */
  graceSeconds?: number;
}

/** Machine figures of a run (printed, never in report.json: they differ from run to run). */
export interface RunStats {
  /** Wall seconds of the event loop (this process's part of the run). */
  wallSeconds: number;
  /** CPU seconds this process used meanwhile (the handlers, the simulator, the loop; PostgreSQL's own not included). */
  cpuSeconds: number;
  /** Virtual seconds the loop covered. */
  simulatedSeconds: number;
  /** Wall seconds from the kickoff to the final whistle (null: this process did not see both). */
  gameWallSeconds: number | null;
  /** Virtual seconds from the kickoff to the final whistle. */
  gameSimulatedSeconds: number;
  events: number;
  processes: number;
  /** PostgreSQL queries (round trips) sent during the loop. */
  queries: number;
  /** HTTP requests to the simulator. */
  requests: number;
  /** Schedule ticks skipped because the job was still running, by job. */
  skipped: Record<string, number>;
  /** Wall ms spent running each kind of invocation (where the machine's time goes). */
  wallMsBy: Record<string, number>;
}

export interface RunResult {
  report: RunReport;
  reportJson: string;
  reportHtml: string;
  /** 0: done; 1: positions were left open or a job kept failing. */
  exitCode: number;
  stats: RunStats;
}

type SavedEvent = SavedDelivery;

interface SavedRun {
  version: 2;
  status: 'running' | 'finished';
  scenario: string;
  gameDate: string;
  runTag: string;
  /** Virtual epoch ms of sim second 0 (the scenario's start on the game date). */
  startMs: number;
  /** The virtual clock when saved, and the next event sequence number. */
  clockMs: number;
  sequence: number;
  schedule: SavedSchedule;
  progress: SavedEvent | null;
  deliveries: { entry: SavedEvent | null; exit: SavedEvent | null };
  randomState: number;
  balance: string;
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
  portfolio?: PortfolioState;
  queues: { entry: SavedQueue<EntryOrderMessage>; exit: SavedQueue<ExitOrderMessage> };
  samples: ReportSample[];
  lastLabel: string;
  resumes: number;
  /** What the console has said (entries, exits, warnings): watermarks, so a resume neither repeats nor skips a line. */
  events?: RunEventsState;
}

const fmt = (d: Decimal | null | undefined) => (d ? d.toFixed(2).replace(/^0\./, '.') : ' -- ');

export async function runLocal(options: RunOptions): Promise<RunResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const pace = options.pace;
  if (pace !== undefined && !(pace > 0 && Number.isFinite(pace))) throw new Error(`--pace must be a positive number, not ${pace}`);

  // --- the run: new, or the interrupted one -------------------------------------------------
  let saved: SavedRun | undefined;
  if (existsSync(options.stateFile) && !options.newRun) {
    const candidate = JSON.parse(readFileSync(options.stateFile, 'utf8')) as SavedRun | { version: number; status: string };
    if (candidate.status === 'running') {
      if (candidate.version !== 2) {
        throw new Error(`the interrupted run in ${options.stateFile} was saved by an older runtime (state version ${candidate.version}): pass --new-run to start a new one`);
      }
      saved = candidate as SavedRun;
    }
  }
  if (saved && options.scenario && options.scenario !== saved.scenario) {
    throw new Error(
      `an interrupted run of scenario ${saved.scenario} is saved in ${options.stateFile}: run it again to resume it, or pass --new-run to abandon it`,
    );
  }
  const scenario: Scenario = await loadScenario(saved?.scenario ?? options.scenario ?? 'sunday-slate');

  // --- environment of the handlers, then the handlers ----------------------------------------
  process.env.DATABASE_URL = options.databaseUrl;
  process.env.POWERTOOLS_LOG_LEVEL = options.logLevel ?? 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  delete process.env.EVENT_BUS_NAME; // operational events stay in memory locally
  const { migrate } = await import('../shared/db/migrate');
  await migrate({ connection: options.databaseUrl });
  const { getPool, closeSharedPool } = await import('../shared/db/pool');
  const pool = await getPool();
  const { seedLocalDatabase } = await import('./seed');
  await seedLocalDatabase(pool);

  let state: SavedRun;
  if (saved) {
    state = { ...saved, resumes: saved.resumes + 1 };
  } else {
    const { gameDate, startMs } = await freeGameDate(pool, scenario);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    state = {
      version: 2, status: 'running', scenario: scenario.name, gameDate, runTag: gameDate.replace(/-/g, ''), startMs, clockMs: startMs,
      sequence: 0, schedule: { next: {}, skipped: {} }, progress: null, deliveries: { entry: null, exit: null }, randomState: RANDOM_SEED,
      balance: options.balance ?? '2000', keyId: `precog-local-${gameDate}`,
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      queues: { entry: { seq: 0, messages: [], deadLetters: [] }, exit: { seq: 0, messages: [], deadLetters: [] } },
      samples: [], lastLabel: '', resumes: 0, events: emptyRunEventsState(),
    };
  }
  const keyFile = `${options.stateFile}.key.pem`;
  writeFileSync(keyFile, state.privateKeyPem, { mode: 0o600 });

  // --- the clock: the event loop, installed for the whole run ---------------------------------
  const errors = new Map<string, number>();
  const problem = (name: string, message: string) => {
    const key = `${name}: ${message}`;
    const n = (errors.get(key) ?? 0) + 1;
    errors.set(key, n);
    if (n === 1) print(`  ! ${key}`);
  };
  const loop = new EventLoop(state.clockMs, {
    sequence: state.sequence,
    onProcessError: (name, error) => problem(name, error instanceof Error ? error.message : String(error)),
  });
  const restoreClock = useClock(loop);
  const random = seededRandom(state.randomState);
  const restoreRandom = installRandom(random);
  const io = instrumentIo(loop);
  const simSeconds = () => (loop.nowMs() - state.startMs) / 1000;

  let sim: KalshiSimulator | undefined;
  let scheduler: LocalScheduler | undefined;
  let progressEvent: Scheduled | undefined;
  let deliveries: Partial<Record<'entry' | 'exit', () => Scheduled | undefined>> = {};
  const entryQueue = new LocalEntryQueue({ now: () => loop.nowMs(), onChange: () => save() });
  const exitQueue = new LocalExitQueue({ now: () => loop.nowMs(), onChange: () => save() });
  entryQueue.restoreState(state.queues.entry);
  exitQueue.restoreState(state.queues.exit);
  const eventOf = (e: Scheduled | undefined): SavedEvent | null => (e ? { at: e.at, seq: e.seq } : null);
  function save() {
    if (!sim || !scheduler) return;
    state.clockMs = loop.nowMs();
    state.sequence = loop.sequence;
    state.schedule = scheduler.saveState();
    state.progress = eventOf(progressEvent);
    state.deliveries = { entry: eventOf(deliveries.entry?.()), exit: eventOf(deliveries.exit?.()) };
    state.randomState = random.state();
    state.portfolio = sim.portfolio.exportState();
    state.queues = { entry: entryQueue.saveState(), exit: exitQueue.saveState() };
    const tmp = `${options.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, options.stateFile);
  }

  try {
    sim = new KalshiSimulator({
      scenario, clock: loop, startMs: state.startMs, runTag: state.runTag, keyId: state.keyId,
      publicKey: state.publicKeyPem, balanceDollars: state.balance, portfolio: state.portfolio, onChange: () => save(),
      // Quotes change on the minute, when ingestion reads them: the run's tape holds every quote the venue showed.
      quoteStepSeconds: 60,
    });
    await sim.start();

    Object.assign(process.env, {
      EXECUTION_MODE: 'live', KALSHI_ENV: 'demo', KALSHI_BASE_URL: sim.tradeApiUrl, KALSHI_API_KEY_ID: state.keyId, KALSHI_PRIVATE_KEY_FILE: keyFile,
      ESPN_BASE_URL: sim.espnBaseUrl, INGEST_PLATFORMS: 'kalshi', INGEST_SERIES: 'KXNFLGAME', INGEST_LEAGUES: 'nfl', HTTP_TIMEOUT_MS: '5000',
      KALSHI_READS_PER_SECOND: '10',
    });
    delete process.env.KALSHI_CREDENTIALS_SECRET_ARN;

    const [ingestMarkets, ingestGames, handlers, factory] = await Promise.all([
      import('../functions/ingest-markets/handler'), import('../functions/ingest-game-states/handler'), importTradingHandlers(),
      import('../shared/exchange/factory'),
    ]);
    const exitExchange = await factory.createExchangeFromEnv({ pool });

    // --- progress ----------------------------------------------------------------------------
    const games: SimGame[] = sim.games;
    const tickers = games.flatMap((g) => [g.homeTicker, g.awayTicker]);
    const startingBalance = new Decimal(state.balance);
    const equityNow = (): Decimal => {
      const portfolio = sim!.portfolio;
      let equity = portfolio.balance();
      for (const p of portfolio.positions()) {
        const held = Number(p.position_fp ?? 0);
        if (held === 0) continue;
        equity = equity.plus(sim!.markValue(p.ticker, held > 0 ? 'yes' : 'no').times(Math.abs(held)));
      }
      return equity;
    };
    const timing = schedule(scenario.timing);
    const graceSeconds = options.graceSeconds ?? 600;
    let leftOpen = 0;
    const wall = { loopStart: 0, kickoff: null as number | null, final: null as number | null };
    // Test hook (test/e2e/resume-phases.test.ts): interrupt, as Ctrl-C does, at the first minute of a
    // phase ("PRE", "Q2", "HT", "FINAL", "SETTLED"...), to prove a resume from any saved state finishes.
    const stopAtPhase = process.env.PRECOG_LOCAL_STOP_AT;
    let interrupt: (() => void) | undefined;
    const progress = async () => {
      const t = simSeconds();
      if (t >= timing.quarters[0] && wall.kickoff === null && state.resumes === 0) wall.kickoff = performance.now();
      if (t >= timing.final && wall.final === null && wall.kickoff !== null) wall.final = performance.now();
      const label = clockLabel(scenario, t);
      if (stopAtPhase && state.resumes === 0 && label.startsWith(stopAtPhase) && interrupt) {
        const stop = interrupt;
        interrupt = undefined;
        stop();
      }
      if (label !== state.lastLabel) {
        state.lastLabel = label;
        sim!.update();
        const equity = equityNow();
        const markets: ReportSample['markets'] = {};
        const parts: string[] = [];
        for (const g of games) {
          const snap = sim!.snapshot(g, t);
          const views = sim!.markets(g, t);
          const heldOf = (ticker: string) => {
            const p = sim!.portfolio.positions().find((x) => x.ticker === ticker);
            return Number(p?.position_fp ?? 0);
          };
          for (const v of views) {
            markets[v.ticker] = { yesBid: v.yesBid?.toFixed(4) ?? null, yesAsk: v.yesAsk?.toFixed(4) ?? null, held: heldOf(v.ticker) };
          }
          const { home, away } = g.compiled.script;
          // The home market's YES bid/ask, labelled (the away market is its mirror: 1 − ask / 1 − bid).
          parts.push(`${away.abbr} ${snap.awayScore}-${snap.homeScore} ${home.abbr} [${home.abbr} ${fmt(views[0]!.yesBid)}/${fmt(views[0]!.yesAsk)}]`);
        }
        const pnl = equity.minus(startingBalance);
        state.samples.push({ minute: sim!.snapshot(games[0]!, t).minute, at: loop.now().toISOString(), equity: equity.toFixed(4), realizedPnl: pnl.toFixed(4), markets });
        // The console's reads in one transaction: one clock stamp, not one per statement.
        const { db, blocked, happened } = await withTransaction(pool, async (client) => ({
          db: (await client.query(
            `SELECT (SELECT count(*)::int FROM positions WHERE row_current_ind AND status = 'open' AND market_id = ANY($1::text[])) AS open,
                    (SELECT count(*)::int FROM edges e WHERE e.market_id = ANY($1::text[]) AND e.created_at >= $2::timestamptz - interval '60 seconds'
                       AND e.recommended_action = 'auto_execute') AS edges`,
            [tickers, loop.now().toISOString()],
          )).rows[0],
          blocked: await blockingBreakers(client),
          happened: await newRunEvents(client, (state.events ??= emptyRunEventsState()), tickers),
        }));
        print(`${label.padEnd(9)} ${parts.join(' | ')} | edges ${db.edges} | open ${db.open} | P&L (held marked at the bid) ${pnl.isNeg() ? '-' : '+'}$${pnl.abs().toFixed(2)}${blocked.length > 0 ? ` | entries blocked: ${blocked.join(', ')}` : ''}`);
        const notes = games.map((g) => g.compiled.moments.find((m) => m.note && m.t <= t && m.t > t - 60)).filter(Boolean);
        for (const n of notes) print(`          * ${n!.note}`);
        for (const line of happened) print(line);
      }
      // The end: every market settled, nothing open, the queues drained; or the grace is over.
      if (t >= timing.settle) {
        const { rows: [r] } = await pool.query(
          `SELECT (SELECT count(*)::int FROM positions WHERE row_current_ind AND status = 'open' AND market_id = ANY($1::text[])) AS open,
                  (SELECT count(*)::int FROM markets WHERE row_current_ind AND status <> 'settled' AND market_id = ANY($1::text[])) AS unsettled`,
          [tickers],
        );
        leftOpen = r.open;
        const drained = entryQueue.depth() === 0 && exitQueue.depth() === 0;
        if ((r.open === 0 && r.unsettled === 0 && drained) || t >= timing.settle + graceSeconds) loop.stop();
      }
    };
    const scheduleProgress = (at: number, seq?: number) => {
      progressEvent = loop.at(at, () => {
        scheduleProgress(at + 60_000);
        void loop.spawn('progress', async () => {
          await progress();
          save();
        });
      }, seq, 'progress');
    };

    // The handlers' JSON logs (Powertools, as in CloudWatch) go to a file beside the report; an
    // ERROR among them is also said on the console, once per distinct message.
    await mkdir(options.reportDir, { recursive: true });
    const logFile = path.join(options.reportDir, 'handlers.log');
    writeFileSync(logFile, '');
    const stdoutWrite = process.stdout.write.bind(process.stdout);
    const stderrWrite = process.stderr.write.bind(process.stderr);
    // Powertools writes INFO/WARN to stdout and ERROR to stderr: both are filtered.
    const intercept = (original: typeof process.stdout.write) => ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (!text.startsWith('{"level":')) return (original as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
      appendFileSync(logFile, text.endsWith('\n') ? text : `${text}\n`);
      try {
        const entry = JSON.parse(text) as { level: string; service?: string; message?: string; error?: unknown };
        if (entry.level === 'ERROR' || entry.level === 'CRITICAL') {
          problem(entry.service ?? 'handler', `${entry.message ?? ''}${entry.error ? `: ${typeof entry.error === 'string' ? entry.error : JSON.stringify(entry.error)}` : ''}`);
        }
      } catch {
        // not one JSON line: kept in the file only
      }
      return true;
    }) as typeof process.stdout.write;
    process.stdout.write = intercept(stdoutWrite);
    process.stderr.write = intercept(stderrWrite);

    try {
      // --- the events ----------------------------------------------------------------------------
      const jobs = new LocalScheduler(loop, { onError: (name, error) => problem(name, (error as Error).message) });
      scheduler = jobs;
      jobs.every('ingest-markets', LOCAL_SCHEDULES['ingest-markets'], () => ingestMarkets.runIngestMarkets({}));
      jobs.every('ingest-game-states', LOCAL_SCHEDULES['ingest-game-states'], () => ingestGames.runIngestGameStates({}));
      const wired = wireTradingHandlers({
        loop, jobs, handlers, pool, entryQueue, exitQueue, exitExchange, problem, restored: state.deliveries,
      });
      deliveries = wired.pendingDelivery;

      if (saved) {
        print(`resuming ${scenario.name} at game time ${clockLabel(scenario, simSeconds())} (saved in ${options.stateFile})`);
        jobs.restore(state.schedule, loop.nowMs());
        scheduleProgress(state.progress?.at ?? loop.nowMs(), state.progress?.seq);
      } else {
        // The data first (as a deployed stack has it before trading turns on): otherwise the first
        // health check finds no prices and trips data_stale.
        loop.spawnAt(state.startMs, 'initial-data', async () => {
          await ingestMarkets.runIngestMarkets({});
          await ingestGames.runIngestGameStates({});
        });
        jobs.start(state.startMs);
        scheduleProgress(state.startMs);
      }
      save();

      // Breakers already open block every entry from the first minute: said at the start, not
      // discovered in the report (read before the lines below: the Ctrl-C handler follows them at once).
      const openAtStart = saved ? [] : await openBreakersAtStart(pool, (state.events ??= emptyRunEventsState()));
      print(`${scenario.name}: ${scenario.description}`);
      print(`venue: Kalshi simulator at ${sim.tradeApiUrl} (live Kalshi client, signed requests; no real money); ${pace === undefined ? 'unpaced' : `paced at ${pace}x`}; state ${options.stateFile}`);
      for (const line of openAtStart) print(line);

      let wasInterrupted = false;
      const onSignal = () => {
        print('interrupted: finishing the invocations in progress, then saving; `npm start` resumes the run');
        wasInterrupted = true;
        loop.stop('idle');
        // Should no instant come without an invocation in progress, stop anyway (a kill is safe too).
        loop.at(loop.nowMs() + 300_000, () => loop.stop());
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      interrupt = onSignal;

      const simFrom = loop.nowMs();
      const cpuFrom = process.cpuUsage();
      wall.loopStart = performance.now();
      try {
        await loop.run({ pace, beforeAdvance: wired.ensureDeliveries });
      } finally {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      }
      const stats: RunStats = {
        wallSeconds: (performance.now() - wall.loopStart) / 1000, cpuSeconds: cpuSecondsSince(cpuFrom), simulatedSeconds: (loop.nowMs() - simFrom) / 1000,
        gameWallSeconds: wall.kickoff !== null && wall.final !== null ? (wall.final - wall.kickoff) / 1000 : null,
        gameSimulatedSeconds: timing.final - timing.quarters[0], events: loop.stats.events, processes: loop.stats.processes,
        queries: io.counters.queries, requests: io.counters.requests, skipped: { ...jobs.skipped },
        wallMsBy: Object.fromEntries(Object.entries(loop.stats.wallMsBy).map(([k, v]) => [k, Math.round(v)])),
      };
      save();

      if (wasInterrupted) {
        await sim.close();
        await closeSharedPool();
        throw new InterruptedRun();
      }

      // What happened after the last game minute (the last settlements' exits, warnings).
      for (const line of await newRunEvents(pool, (state.events ??= emptyRunEventsState()), tickers)) print(line);

      // --- report ----------------------------------------------------------------------------------
      const reportGames: ReportGame[] = games.map((g) => {
        const [homeScore, awayScore] = g.compiled.finalScore();
        return { name: `${g.compiled.script.away.abbr} at ${g.compiled.script.home.abbr}`, home: g.compiled.script.home.abbr, away: g.compiled.script.away.abbr, homeScore, awayScore, tickers: [g.homeTicker, g.awayTicker] };
      });
      // Every time in the report is virtual; `speed` 1: the rules ran at game time, undilated.
      const report = await buildRunReport(pool, {
        scenario: scenario.name, description: scenario.description, speed: 1, startedAt: new Date(state.startMs), finishedAt: loop.now(), venue: 'kalshi-sim',
        executionMode: 'live', resumed: state.resumes > 0, games: reportGames, startingBalance, endingBalance: sim.portfolio.balance(), samples: state.samples,
        warnings: state.events?.warnings ?? [],
      });
      print(renderTextReport(report));
      const reportJson = path.join(options.reportDir, 'report.json');
      const reportHtml = path.join(options.reportDir, 'report.html');
      await writeFile(reportJson, `${JSON.stringify(report, null, 2)}\n`);
      await writeFile(reportHtml, renderHtmlReport(report));
      print(`\nreport: ${reportJson}\nHTML report (open in a browser): file://${reportHtml}`);
      for (const [key, n] of errors) if (n > 1) print(`  ! ${key} (${n} times)`);
      print(describeStats(stats));
      // The machine figures beside the report (never in report.json: they differ from run to run).
      await writeFile(path.join(options.reportDir, 'run-stats.json'), `${JSON.stringify(stats, null, 2)}\n`);
      state.status = 'finished';
      writeFileSync(options.stateFile, JSON.stringify(state));
      await sim.close();
      await closeSharedPool();
      if (leftOpen > 0) print(`  ! ${leftOpen} positions still open ${graceSeconds / 60} game minutes after settlement`);
      return { report, reportJson, reportHtml, exitCode: leftOpen > 0 ? 1 : 0, stats };
    } finally {
      // Whatever happened, the console is the console again.
      process.stdout.write = stdoutWrite;
      process.stderr.write = stderrWrite;
    }
  } finally {
    io.restore();
    restoreRandom();
    restoreClock();
  }
}

function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
}

/** The machine figures of a run, one line (console only). */
export function describeStats(s: RunStats): string {
  const minutes = s.simulatedSeconds / 60;
  const game = s.gameWallSeconds !== null && s.gameWallSeconds > 0
    ? `; game phase ${s.gameWallSeconds.toFixed(1)} s wall for ${(s.gameSimulatedSeconds / 60).toFixed(0)} game minutes (${Math.round(s.gameSimulatedSeconds / s.gameWallSeconds)}x real time)`
    : '';
  return `wall ${s.wallSeconds.toFixed(1)} s (CPU ${s.cpuSeconds.toFixed(1)} s) for ${minutes.toFixed(1)} simulated minutes${game}; ${s.events} events (${Math.round(s.events / Math.max(s.wallSeconds, 1e-9))}/s), ` +
    `${s.processes} invocations, ${Math.round(s.queries / Math.max(minutes, 1e-9))} database round trips per simulated minute\n` +
    `wall ms by invocation: ${Object.entries(s.wallMsBy).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`;
}

export class InterruptedRun extends Error {
  constructor() {
    super('interrupted');
  }
}

/** "Q2 06:00", "HT", "END Q1", "PRE", "FINAL" at sim second t. */
export function clockLabel(scenario: Scenario, t: number): string {
  const s = schedule(scenario.timing);
  if (t < s.quarters[0]) return 'PRE';
  if (t >= s.settle) return 'SETTLED';
  if (t >= s.final) return 'FINAL';
  for (let i = 3; i >= 0; i--) {
    const into = t - s.quarters[i]!;
    if (into < 0) continue;
    if (into >= 900) return i === 1 ? 'HT' : `END Q${i + 1}`;
    const left = 900 - Math.floor(into / 60) * 60;
    return `Q${i + 1} ${String(Math.floor(left / 60)).padStart(2, '0')}:00`;
  }
  return 'PRE';
}

/**
 * The first date from the scenario's start date (US Eastern) on which none of its pairings has an
 * event in this database yet, and the start instant moved to it (same time of day): deterministic
 * for a given database, never today's date.
 */
export async function freeGameDate(pool: pg.Pool, scenario: Scenario): Promise<{ gameDate: string; startMs: number }> {
  const pairs = scenario.games.map((g) => `${g.away.abbr}${g.home.abbr}`);
  const { rows } = await pool.query(`SELECT event_id FROM events WHERE event_id LIKE 'KXNFLGAME-%'`);
  const taken = new Set<string>(rows.map((r) => r.event_id as string));
  const months = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
  for (let offset = 0; offset < 3650; offset++) {
    const gameDate = gameDateOf(scenario.startMs + offset * 86_400_000, scenario.timing); // YYYY-MM-DD, US Eastern
    const [y, m, d] = gameDate.split('-');
    const part = `${y!.slice(2)}${months[Number(m) - 1]}${d}`;
    if (pairs.every((p) => !taken.has(`KXNFLGAME-${part}${p}`))) return { gameDate, startMs: startOnGameDate(scenario, gameDate) };
  }
  throw new Error('no free game date in ten years of runs');
}

/** A seeded Math.random (mulberry32) whose state can be saved. */
export function seededRandom(seed: number): (() => number) & { state(): number } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Object.assign(next, { state: () => a });
}

/** Replaces Math.random for the run (the handlers' retry jitter); returns the function that puts it back. */
function installRandom(random: () => number): () => void {
  const original = Math.random;
  Math.random = random;
  return () => {
    Math.random = original;
  };
}
