import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context, SQSEvent } from 'aws-lambda';
import type pg from 'pg';
import { Decimal } from '../shared/domain/decimal';
import type { EntryOrderMessage, ExitOrderMessage } from '../shared/queues/messages';
import { ENTRY_VISIBILITY_SECONDS, EXIT_VISIBILITY_SECONDS, LocalEntryQueue, LocalExitQueue, MAX_VISIBILITY_SECONDS, type SavedMessage } from './localQueue';
import { buildRunReport, renderTextReport } from './report/build';
import { renderHtmlReport } from './report/html';
import type { ReportGame, ReportSample, RunReport } from './report/types';
import { LocalScheduler } from './scheduler';
import type { PortfolioState } from './sim/kalshiPortfolioSim';
import { loadScenario, schedule, type Scenario } from './sim/scenario';
import { KalshiSimulator, type SimGame } from './sim/simulator';

/**
 * The local runtime (`npm start`): the real Lambda handlers on this machine, trading a scripted
 * scenario on the Kalshi simulator.
 *
 *   - scheduled functions run on the local scheduler at their EventBridge periods (infra/functions.ts),
 *     `speed` times faster than real time, each never overlapping itself;
 *   - execute-entry and execute-exit consume local queues with SQS semantics (visibility timeout,
 *     receive count, dead letters after the deployed maxReceiveCount), polled like Lambda's event
 *     source mapping;
 *   - the exchange is the live Kalshi client (signed requests) against the simulator, whose clock
 *     is the scenario's; the trading rules' game durations are divided by `speed` (dilateRules);
 *   - everything that would be lost by a kill (the venue's account, the queues' messages, the
 *     game clock) is saved to the state file on every change, so running again resumes.
 *
 * The handlers read their configuration from the environment, as in AWS: this module sets it, then
 * imports them.
 */

/** EventBridge periods of the scheduled functions, seconds (infra/functions.ts FUNCTION_SPECS; a test keeps them equal). */
export const LOCAL_SCHEDULES = {
  'ingest-markets': 60,
  'ingest-game-states': 60,
  'scan-edges': 60,
  'monitor-positions': 60,
  'check-health': 60,
  'settle-markets': 300,
} as const;

export interface RunOptions {
  databaseUrl: string;
  /** Scenario name (local/scenarios) or path; default: the saved run's, else sunday-slate. */
  scenario?: string;
  /** Game time per wall time (60: a game minute per second). */
  speed: number;
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

export interface RunResult {
  report: RunReport;
  reportJson: string;
  reportHtml: string;
  /** 0: done; 1: positions were left open or a job kept failing. */
  exitCode: number;
}

interface SavedRun {
  version: 1;
  status: 'running' | 'finished';
  scenario: string;
  speed: number;
  gameDate: string;
  runTag: string;
  startedAt: string;
  simSeconds: number;
  balance: string;
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
  portfolio?: PortfolioState;
  queues: { entry: SavedMessage<EntryOrderMessage>[]; exit: SavedMessage<ExitOrderMessage>[] };
  samples: ReportSample[];
  resumes: number;
}

const fmt = (d: Decimal | null | undefined) => (d ? d.toFixed(2).replace(/^0\./, '.') : ' -- ');

export async function runLocal(options: RunOptions): Promise<RunResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const speed = options.speed;
  if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`--speed must be a positive number, not ${speed}`);

  // --- the run: new, or the interrupted one -------------------------------------------------
  let saved: SavedRun | undefined;
  if (existsSync(options.stateFile) && !options.newRun) {
    const candidate = JSON.parse(readFileSync(options.stateFile, 'utf8')) as SavedRun;
    if (candidate.status === 'running') saved = candidate;
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
    print(`resuming ${scenario.name} at game time ${clockLabel(scenario, state.simSeconds)} (saved in ${options.stateFile})`);
  } else {
    const gameDate = await freeGameDate(pool, scenario);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    state = {
      version: 1, status: 'running', scenario: scenario.name, speed, gameDate, runTag: gameDate.replace(/-/g, ''),
      startedAt: new Date().toISOString(), simSeconds: 0, balance: options.balance ?? '2000', keyId: `precog-local-${gameDate}`,
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      queues: { entry: [], exit: [] }, samples: [], resumes: 0,
    };
  }
  const keyFile = `${options.stateFile}.key.pem`;
  writeFileSync(keyFile, state.privateKeyPem, { mode: 0o600 });

  // Sim time goes on from where it stopped (a kill pauses the game). Interim, until this runtime
  // runs on one virtual clock (issue 17, branch des): the game runs `speed` times faster than the
  // wall, and the simulator reads that dilated time from sim second 0 at the run's first start.
  const wallAtStart = Date.now();
  const simOffset = state.simSeconds;
  const clock = { simSeconds: () => simOffset + ((Date.now() - wallAtStart) / 1000) * speed };
  const simStartMs = Date.parse(state.startedAt);
  let sim: KalshiSimulator | undefined;
  let entryQueue: LocalEntryQueue | undefined;
  let exitQueue: LocalExitQueue | undefined;
  const save = () => {
    if (!sim || !entryQueue || !exitQueue) return;
    state.simSeconds = clock.simSeconds();
    state.portfolio = sim.portfolio.exportState();
    state.queues = { entry: entryQueue.exportMessages(), exit: exitQueue.exportMessages() };
    const tmp = `${options.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, options.stateFile);
  };
  sim = new KalshiSimulator({
    scenario, clock: { nowMs: () => simStartMs + Math.round(clock.simSeconds() * 1000) }, startMs: simStartMs, runTag: state.runTag,
    keyId: state.keyId, publicKey: state.publicKeyPem, balanceDollars: state.balance, portfolio: state.portfolio, onChange: save,
    // The client signs with the wall clock, which the dilated game time leaves behind.
    maxClockSkewMs: Number.MAX_SAFE_INTEGER,
  });
  await sim.start();

  Object.assign(process.env, {
    EXECUTION_MODE: 'live', KALSHI_ENV: 'demo', KALSHI_BASE_URL: sim.tradeApiUrl, KALSHI_API_KEY_ID: state.keyId, KALSHI_PRIVATE_KEY_FILE: keyFile,
    ESPN_BASE_URL: sim.espnBaseUrl, INGEST_PLATFORMS: 'kalshi', INGEST_SERIES: 'KXNFLGAME', INGEST_LEAGUES: 'nfl', HTTP_TIMEOUT_MS: '5000',
    KALSHI_READS_PER_SECOND: '10', KALSHI_RATE_LIMIT_SCALE: String(speed),
  });
  delete process.env.KALSHI_CREDENTIALS_SECRET_ARN;
  const { setRuleTimeScale } = await import('../shared/config/runtimeRules');
  setRuleTimeScale(speed);

  // Queues on the game clock, so that an exit's walk waits game seconds. Their visibility
  // timeouts are not about the game but guard a consumer still at work (6× the function's
  // timeout, in real seconds): they are stretched by the speed to stay real seconds.
  const queueClock = () => clock.simSeconds() * 1000;
  const visibility = (wallSeconds: number) => Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(wallSeconds * speed));
  entryQueue = new LocalEntryQueue({ now: queueClock, onChange: save, visibilityTimeoutSeconds: visibility(ENTRY_VISIBILITY_SECONDS) });
  exitQueue = new LocalExitQueue({ now: queueClock, onChange: save, visibilityTimeoutSeconds: visibility(EXIT_VISIBILITY_SECONDS) });
  entryQueue.importMessages(state.queues.entry);
  exitQueue.importMessages(state.queues.exit);
  save();

  const [ingestMarkets, ingestGames, scan, monitor, health, settle, entry, exit, factory] = await Promise.all([
    import('../functions/ingest-markets/handler'), import('../functions/ingest-game-states/handler'), import('../functions/scan-edges/handler'),
    import('../functions/monitor-positions/handler'), import('../functions/check-health/handler'), import('../functions/settle-markets/handler'),
    import('../functions/execute-entry/handler'), import('../functions/execute-exit/handler'), import('../shared/exchange/factory'),
  ]);
  const exitExchange = await factory.createExchangeFromEnv({ pool });
  const periodWallMs = (seconds: number) => (seconds / speed) * 1000;
  const context = (name: string, timeoutMs: number): Context => {
    const deadline = Date.now() + timeoutMs;
    return {
      functionName: `precog-${name}`, functionVersion: '$LATEST', invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:precog-${name}`,
      memoryLimitInMB: '512', awsRequestId: `local-${Date.now()}`, logGroupName: `/aws/lambda/precog-${name}`, logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: false, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined, fail: () => undefined, succeed: () => undefined,
    };
  };

  // --- progress ------------------------------------------------------------------------------
  const games: SimGame[] = sim.games;
  const tickers = games.flatMap((g) => [g.homeTicker, g.awayTicker]);
  const errors = new Map<string, number>();
  const problem = (name: string, message: string) => {
    const key = `${name}: ${message}`;
    const n = (errors.get(key) ?? 0) + 1;
    errors.set(key, n);
    if (n === 1) print(`  ! ${key}`);
  };
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
  let lastLine = '';
  const progress = async () => {
    const t = clock.simSeconds();
    const label = clockLabel(scenario, t);
    if (label === lastLine) return;
    lastLine = label;
    sim!.update();
    const { rows: [db] } = await pool.query(
      `SELECT (SELECT count(*)::int FROM positions WHERE row_current_ind AND status = 'open' AND market_id = ANY($1::text[])) AS open,
              (SELECT count(*)::int FROM edges e WHERE e.market_id = ANY($1::text[]) AND e.created_at >= now() - make_interval(secs => $2)
                 AND e.recommended_action = 'auto_execute') AS edges`,
      [tickers, 60 / speed],
    );
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
      parts.push(`${away.abbr} ${snap.awayScore}-${snap.homeScore} ${home.abbr} ${fmt(views[0]!.yesBid)}/${fmt(views[0]!.yesAsk)}`);
    }
    const pnl = equity.minus(startingBalance);
    state.samples.push({ minute: sim!.snapshot(games[0]!, t).minute, at: new Date().toISOString(), equity: equity.toFixed(4), realizedPnl: pnl.toFixed(4), markets });
    print(`${label.padEnd(9)} ${parts.join(' | ')} | edges ${db.edges} | open ${db.open} | P&L ${pnl.isNeg() ? '-' : '+'}$${pnl.abs().toFixed(2)}`);
    const notes = games.map((g) => g.compiled.moments.find((m) => m.note && m.t <= t && m.t > t - 60)).filter(Boolean);
    for (const n of notes) print(`          * ${n!.note}`);
    save();
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
    // --- run -----------------------------------------------------------------------------------
    const scheduler = new LocalScheduler();
    const invoke = (name: keyof typeof LOCAL_SCHEDULES, run: () => Promise<unknown>) =>
      scheduler.every(name, LOCAL_SCHEDULES[name], async () => {
        try {
          await run();
        } catch (error) {
          problem(name, (error as Error).message);
        }
      });
    invoke('ingest-markets', () => ingestMarkets.runIngestMarkets({}));
    invoke('ingest-game-states', () => ingestGames.runIngestGameStates({}));
    invoke('scan-edges', () => scan.runScanEdges({}, { queue: entryQueue! }));
    invoke('monitor-positions', () =>
      monitor.runMonitor({}, context('monitor-positions', periodWallMs(LOCAL_SCHEDULES['monitor-positions']) + 8_000), { queue: exitQueue! }));
    invoke('check-health', () => health.runCheckHealth({}));
    invoke('settle-markets', () => settle.runSettleMarkets({}));

    let running = true;
    const consume = async (name: string, queue: LocalEntryQueue | LocalExitQueue, handler: (event: SQSEvent) => Promise<unknown>) => {
      let deadLetters = 0;
      while (running) {
        const delivered = await queue.deliver(async (event) => (await handler(event)) as never);
        if (delivered.error) problem(name, delivered.error.message);
        // The dead-letter queue's alarm, locally: a message that used up its receives.
        for (const dead of queue.deadLetters.slice(deadLetters)) {
          problem(name, `message ${dead.messageId} moved to the dead-letter queue after ${dead.receiveCount} receives: ${dead.body}`);
        }
        deadLetters = queue.deadLetters.length;
        if (delivered.received === 0) await new Promise((r) => setTimeout(r, 20));
      }
    };
    const consumers = [
      consume('execute-entry', entryQueue, (event) => entry.runExecuteEntry(event, context('execute-entry', 60_000))),
      consume('execute-exit', exitQueue, (event) =>
        exit.runExecuteExit(event, context('execute-exit', 30_000), {
          pool, exchange: exitExchange,
          // execute-exit asks for wall seconds (its rules are dilated); the queue keeps game time.
          retryAfter: (record, seconds) => exitQueue!.retryAfter(record, seconds * speed),
        })),
    ];

    const graceSeconds = options.graceSeconds ?? 600;
    const settleAt = schedule(scenario.timing).settle;
    let leftOpen = 0;
    const watcher = (async () => {
      while (running) {
        await new Promise((r) => setTimeout(r, 50));
        try {
          await progress();
          const t = clock.simSeconds();
          if (t < settleAt) continue;
          const { rows: [r] } = await pool.query(
            `SELECT (SELECT count(*)::int FROM positions WHERE row_current_ind AND status = 'open' AND market_id = ANY($1::text[])) AS open,
                    (SELECT count(*)::int FROM markets WHERE row_current_ind AND status <> 'settled' AND market_id = ANY($1::text[])) AS unsettled`,
            [tickers],
          );
          leftOpen = r.open;
          const drained = entryQueue!.depth() === 0 && exitQueue!.depth() === 0;
          if ((r.open === 0 && r.unsettled === 0 && drained) || t >= settleAt + graceSeconds) {
            running = false;
            scheduler.stop();
          }
        } catch (error) {
          problem('runtime', (error as Error).message);
        }
      }
    })();
    let wasInterrupted = false;
    const onSignal = () => {
      print('interrupted: the run is saved; `npm start` resumes it');
      wasInterrupted = true;
      running = false;
      scheduler.stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);

    // The data first (as a deployed stack has it before trading turns on): otherwise the first
    // health check finds no prices and trips data_stale.
    await Promise.all([ingestMarkets.runIngestMarkets({}), ingestGames.runIngestGameStates({})]).catch((error: Error) => problem('ingestion', error.message));
    print(`${scenario.name}: ${scenario.description}`);
    print(`venue: Kalshi simulator at ${sim.tradeApiUrl} (live Kalshi client, signed requests; no real money); speed ${speed}x; state ${options.stateFile}`);
    await scheduler.run({ untilMs: Number.MAX_SAFE_INTEGER, speed });
    running = false;
    await Promise.all([...consumers, watcher]);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    save();

    if (wasInterrupted) {
      await sim.close();
      await closeSharedPool();
      throw new InterruptedRun();
    }

    // --- report ----------------------------------------------------------------------------------
    const finishedAt = new Date();
    const reportGames: ReportGame[] = games.map((g) => {
      const [homeScore, awayScore] = g.compiled.finalScore();
      return { name: `${g.compiled.script.away.abbr} at ${g.compiled.script.home.abbr}`, home: g.compiled.script.home.abbr, away: g.compiled.script.away.abbr, homeScore, awayScore, tickers: [g.homeTicker, g.awayTicker] };
    });
    const report = await buildRunReport(pool, {
      scenario: scenario.name, description: scenario.description, speed, startedAt: new Date(state.startedAt), finishedAt, venue: 'kalshi-sim',
      executionMode: 'live', resumed: state.resumes > 0, games: reportGames, startingBalance, endingBalance: sim.portfolio.balance(), samples: state.samples,
    });
    print(renderTextReport(report));
    await mkdir(options.reportDir, { recursive: true });
    const reportJson = path.join(options.reportDir, 'report.json');
    const reportHtml = path.join(options.reportDir, 'report.html');
    await writeFile(reportJson, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(reportHtml, renderHtmlReport(report));
    print(`\nreport: ${reportJson}\nHTML report (open in a browser): file://${reportHtml}`);
    for (const [key, n] of errors) if (n > 1) print(`  ! ${key} (${n} times)`);
    state.status = 'finished';
    writeFileSync(options.stateFile, JSON.stringify(state));
    await sim.close();
    await closeSharedPool();
    if (leftOpen > 0) print(`  ! ${leftOpen} positions still open ${graceSeconds / 60} game minutes after settlement`);
    return { report, reportJson, reportHtml, exitCode: leftOpen > 0 ? 1 : 0 };
  } finally {
    // Whatever happened, the console is the console again.
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
  }
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

/** The first date from today (US Eastern) on which none of the scenario's pairings has an event yet. */
async function freeGameDate(pool: pg.Pool, scenario: Scenario): Promise<string> {
  const pairs = scenario.games.map((g) => `${g.away.abbr}${g.home.abbr}`);
  const { rows } = await pool.query(`SELECT event_id FROM events WHERE event_id LIKE 'KXNFLGAME-%'`);
  const taken = new Set<string>(rows.map((r) => r.event_id as string));
  const today = new Date(new Date().toLocaleString('en-US', { timeZone: 'America/New_York' }));
  const months = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
  for (let offset = 0; offset < 3650; offset++) {
    const d = new Date(today.getFullYear(), today.getMonth(), today.getDate() + offset);
    const part = `${String(d.getFullYear()).slice(2)}${months[d.getMonth()]}${String(d.getDate()).padStart(2, '0')}`;
    if (pairs.every((p) => !taken.has(`KXNFLGAME-${part}${p}`))) {
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    }
  }
  throw new Error('no free game date in ten years of runs');
}
