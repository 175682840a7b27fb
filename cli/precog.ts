/**
 * `precog`: the operator's command line (run with tsx: `npx tsx cli/precog.ts --help`).
 *
 * Exit codes: 0 success (and --help, --version), 1 failure (bad data, database error, refused
 * import, a component down or stale), 2 usage error (unknown command or option, missing or
 * malformed argument, a value outside its allowed range: commander's checks and the commands'
 * own UsageError). docs/cli.md documents every command.
 *
 * Every command that prints results takes --json: one JSON document on stdout, and a failure or usage
 * error as one JSON document ({"error": …}) on stderr.
 *
 * The database is DATABASE_URL (or the AWS variables of shared/db/pool.ts). This file only wires
 * commander; each command's logic is a testable function in cli/commands/.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type pg from 'pg';
import { createPool, parseDatabaseEnv, resolvePoolConfig } from '../shared/db/pool';
import type { CommandContext } from './commands/context';
import { createModel, createStrategy, listVersions, readConfig, setStatus } from './commands/versions';
import type { ModelType, StrategyType } from '../shared/db/repositories/versionedConfigs';
import { matrixImport } from './commands/matrixImport';
import { modelValidate } from './commands/modelValidate';
import { listDesyncs, listOrders, reconcile, resolveDesync } from './commands/execution';
import { configGet, configKeys, configList, configSet, configUnset, nonBlank, parseExpires, parseExpiresIn } from './commands/config';
import { listBreakers, resolveBreakerCommand, tripBreaker } from './commands/breakers';
import { InvokeUsageError, functionNames, invokeFunction } from './commands/invoke';
import { abCompare, attribution, listPositions, migrateCommand, parseSince, pnlReport } from './commands/operations';
import { healthReport } from './commands/health';
import { EDGE_ACTIONS, EXIT_STATUSES, listEdges, listExits, listTrades } from './commands/readouts';
import { showStrategy } from './commands/versions';
import { UsageError } from './commands/usage';
import { explainDatabaseError } from './commands/databaseErrors';
import { MODEL_TRANSITIONS, STRATEGY_TRANSITIONS } from '../shared/strategies/lifecycle';
import { preflight } from './commands/preflight';
import { DLQ_NAMES, dlqList, dlqRedrive, type DlqName } from './commands/dlq';
import { dbCheck } from './commands/dbCheck';

/** A --baseline file of `precog db check`: table → row count; anything else is a usage error naming the file. */
function readBaselineFile(file: string): Record<string, number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--baseline ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const counts = (parsed as { appendOnlyCounts?: unknown })?.appendOnlyCounts ?? parsed;
  if (typeof counts !== 'object' || counts === null || Array.isArray(counts)
    || !Object.values(counts).every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) {
    throw new UsageError(`--baseline ${file}: expected a JSON object of table → row count (or restore-check's {"appendOnlyCounts": {…}})`);
  }
  return counts as Record<string, number>;
}
import { archiveExportCommand, archiveListCommand, archiveLocation, archiveRestoreCommand, parseMonthArgument } from './commands/archive';
import { backtestCommand } from './commands/backtest';
import { PARTITIONED_TABLES } from '../shared/lifecycle/partitions';
import { addTapeCommands } from './commands/tape';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

/** The version in package.json (read once: the CLI runs from the checkout through tsx). */
export const PRECOG_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const SEMANTIC_VERSION = /^v\d+\.\d+(\.\d+)?$/;

function semanticVersion(value: string): string {
  if (!SEMANTIC_VERSION.test(value)) throw new InvalidArgumentError('expected a version like v1.0 or v1.0.1.');
  return value;
}

/** A failure the action already reported; carries the exit code. */
class ReportedFailure extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/**
 * Prints a failure: text (`precog: …`, or `error: …` for a usage error, as commander's) or one
 * JSON document with --json. Returns its exit code: 2 for a usage error, else 1.
 */
function reportFailure(io: CliIo, error: unknown, json: boolean): number {
  const explained = explainDatabaseError(error, io.env) ?? error;
  const message = explained instanceof Error ? explained.message : String(explained);
  const usage = explained instanceof UsageError;
  if (json) {
    const issues = (explained as { issues?: readonly unknown[] }).issues;
    io.err(JSON.stringify({
      error: message.split('\n')[0],
      ...(usage ? { code: 'precog.invalidValue' } : {}),
      ...(Array.isArray(issues) && issues.length > 0 ? { issues } : {}),
    }));
  } else {
    io.err(usage ? `error: ${message}\n(run with --help for usage)` : `precog: ${message}`);
  }
  return usage ? EXIT_USAGE : EXIT_FAILURE;
}

/** Built only when a secret is read (AWS): constructing the SDK client costs time and prints warnings. */
const lazySecrets = {
  send: (command: Parameters<SecretsManagerClient['send']>[0]) => new SecretsManagerClient({}).send(command),
} as Pick<SecretsManagerClient, 'send'>;

/** Built only when SQS is called (precog dlq). */
const lazySqs = {
  send: (command: Parameters<SQSClient['send']>[0]) => new SQSClient({}).send(command),
} as Pick<SQSClient, 'send'>;

async function withPool<T>(io: CliIo, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = createPool(await resolvePoolConfig(parseDatabaseEnv(io.env), lazySecrets));
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

/** Whether the arguments ask for JSON output (--json before any `--`): errors are then JSON too. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

const HELP_AFTER = `
Output: commands that print results take --json: one JSON document on stdout;
  failures and usage errors are then one JSON document {"error": …} on stderr.
Exit codes: 0 ok (and --help, --version); 1 failure (bad data, database
  error, refused import, a component down or stale); 2 usage error (unknown
  command or option, missing or malformed argument, a value out of its range).
Database: DATABASE_URL (postgres://user:password@host:5432/precog); in AWS
  DATABASE_SECRET_ARN (an RDS secret; DATABASE_HOST overrides its host).
Help on a command: precog <command> --help, e.g. precog config set --help.`;

export interface BuildOptions {
  /** Usage errors are left to the caller (runCli prints them as JSON) instead of printed as text. */
  jsonErrors?: boolean;
}

/** Builds the program; actions run commands against a pool opened for the invocation. */
export function buildProgram(io: CliIo, options: BuildOptions = {}): Command {
  const run = (json: boolean | undefined, fn: (ctx: CommandContext) => Promise<unknown>) =>
    withPool(io, (pool) => fn({ pool, out: io.out })).catch((error: unknown) => {
      throw new ReportedFailure(reportFailure(io, error, json === true));
    });

  /** A command that needs no database (precog dlq talks to SQS only). */
  const runWithoutDatabase = (json: boolean | undefined, fn: () => Promise<unknown>) =>
    fn().catch((error: unknown) => {
      throw new ReportedFailure(reportFailure(io, error, json === true));
    });

  // Help wraps to the terminal only when it is written to the terminal (80 columns otherwise).
  const terminal = io === processIo;
  const program = new Command('precog')
    .description('Precog: automated prediction-market trading, operator commands')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.replace(/\n$/, '')),
      writeErr: (text) => io.err(text.replace(/\n$/, '')),
      getOutHelpWidth: () => (terminal && process.stdout.isTTY ? process.stdout.columns : 80),
      getErrHelpWidth: () => (terminal && process.stderr.isTTY ? process.stderr.columns : 80),
      ...(options.jsonErrors ? { outputError: () => {} } : {}),
    })
    .showHelpAfterError(options.jsonErrors ? false : '(run with --help for usage)')
    .version(`precog ${PRECOG_VERSION}`, '-V, --version', 'print the version of Precog and exit')
    .addHelpText('after', HELP_AFTER);

  const matrix = program.command('matrix').description('probability matrices (immutable, versioned)');
  matrix
    .command('import')
    .summary('import a matrix version from a CSV file')
    .description('import one matrix version from a CSV file; every bad row is reported and nothing is written')
    .argument('<file>', 'CSV with a header row (category, subcategory, version, state_descriptor, value_bucket, win_probability, confidence_interval_lower, confidence_interval_upper, sample_size, source, methodology[, situational_factors])')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      await run(opts.json, (ctx) => matrixImport(ctx, { file, json: opts.json }));
    });

  const model = program.command('model').description('probability model versions');
  model
    .command('validate')
    .summary('score a version on game states')
    .description('run a model version over a file of game states whose outcomes are known; store its accuracy, Brier score, '
      + 'log loss and calibration by bin (model_validations; accuracy and Brier also on the version)')
    .argument('<name>', 'model name, e.g. elo_nfl')
    .argument('<version>', 'model version, e.g. v1.0', semanticVersion)
    .requiredOption('--data <file>', 'CSV of game states: home_team, away_team, status, outcome (1: the YES team won) and optionally '
      + 'yes_team, sport, home_score, away_score, period, time_remaining, possession (docs/cli.md)')
    .option('--bins <n>', 'calibration bins of equal width (default 10, at most 100)', (v) => {
      const n = positiveInt(v);
      if (n > 100) throw new InvalidArgumentError('expected at most 100 bins.');
      return n;
    })
    .option('--json', 'print the result as JSON')
    .action(async (name: string, version: string, opts: { data: string; bins?: number; json?: boolean }) => {
      await run(opts.json, (ctx) => modelValidate(ctx, { name, version, data: opts.data, bins: opts.bins, env: io.env, json: opts.json }));
    });

  for (const kind of ['strategy', 'model'] as const) {
    const group = kind === 'strategy' ? program.command('strategy').description('strategy versions (immutable configs)') : model;
    const types = kind === 'strategy' ? 'entry, exit, sizing or hedging' : 'elo or matrix';
    const nameHelp = kind === 'strategy' ? 'strategy name, e.g. halftime_entry' : 'model name, e.g. elo_nfl';
    const statuses = kind === 'strategy' ? 'draft, testing, active, inactive or deprecated' : 'draft, training, validating, active or deprecated';
    const statusNames = Object.keys(kind === 'strategy' ? STRATEGY_TRANSITIONS : MODEL_TRANSITIONS);
    const typeNames = kind === 'strategy' ? ['entry', 'exit', 'sizing', 'hedging'] : ['elo', 'matrix'];
    group
      .command('create')
      .summary(`create a ${kind} version`)
      .description(`create a new ${kind} version; its config is validated and can never change afterwards`)
      .argument('<name>', nameHelp)
      .argument('<version>', 'e.g. v1.1', semanticVersion)
      .addOption(new Option('--type <type>', types).choices(typeNames).makeOptionMandatory())
      .requiredOption('--config <json-or-file>', 'config as inline JSON or a JSON file (decimals as strings, e.g. "0.08")')
      .option('--sport <sport>', 'nfl, ncaaf, nba, …')
      .option('--description <text>', 'what this version is for, kept with it')
      .option('--json', 'print the result as JSON')
      .action(async (name: string, version: string, opts: { type: string; config: string; sport?: string; description?: string; json?: boolean }) => {
        await run(opts.json, async (ctx) => {
          const config = await readConfig(opts.config);
          const args = { name, version, sport: opts.sport, config, description: opts.description, json: opts.json };
          return kind === 'strategy'
            ? createStrategy(ctx, { ...args, type: opts.type as StrategyType })
            : createModel(ctx, { ...args, type: opts.type as ModelType });
        });
      });
    for (const [command, status, summary, what] of [
      ['activate', 'active', 'make the version active', 'make the version active (scans trade active strategy versions)'],
      ['deprecate', 'deprecated', 'retire the version for good', 'retire the version for good'],
    ] as const) {
      group
        .command(command)
        .summary(summary)
        .description(what)
        .argument('<name>', nameHelp)
        .argument('<version>', 'e.g. v1.0', semanticVersion)
        .option('--json', 'print the result as JSON')
        .action(async (name: string, version: string, opts: { json?: boolean }) => {
          await run(opts.json, (ctx) => setStatus(ctx, { kind, name, version, status, json: opts.json }));
        });
    }
    group
      .command('status')
      .summary('move the version to another status')
      .description(`move the version to another status (legal steps only: ${kind === 'strategy' ? 'draft → testing → active ⇄ inactive → deprecated' : 'draft → training → validating → active → deprecated'})`)
      .argument('<name>', nameHelp)
      .argument('<version>', 'e.g. v1.0', semanticVersion)
      .addArgument(new Argument('<status>', statuses).choices(statusNames))
      .option('--json', 'print the result as JSON')
      .action(async (name: string, version: string, status: string, opts: { json?: boolean }) => {
        await run(opts.json, (ctx) => setStatus(ctx, { kind, name, version, status, json: opts.json }));
      });
    group
      .command('list')
      .summary('list versions, newest first')
      .description(`list ${kind} versions, newest version first`)
      .option('--name <name>', `only versions of this ${kind}`)
      .addOption(new Option('--status <status>', `only versions in this status (${statuses})`).choices(statusNames))
      .option('--json', 'print the result as JSON')
      .action(async (opts: { name?: string; status?: string; json?: boolean }) => {
        await run(opts.json, (ctx) => listVersions(ctx, { kind, name: opts.name, status: opts.status, json: opts.json }));
      });
    if (kind === 'strategy') {
      group
        .command('show')
        .summary('config, status and trades')
        .description('one strategy version: its whole config, status, when and by whom it was created, and what it traded (trades, positions, cost, realized P&L, ROI)')
        .argument('<name>', nameHelp)
        .argument('<version>', 'e.g. v1.0', semanticVersion)
        .option('--json', 'print the result as JSON')
        .action(async (name: string, version: string, opts: { json?: boolean }) => {
          await run(opts.json, (ctx) => showStrategy(ctx, { name, version, json: opts.json }));
        });
    }
  }

  program
    .command('reconcile')
    .summary('sync orders and positions with the venue')
    .description('sync open orders with the venue (EXECUTION_MODE: paper by default), record missing fills, compare positions; disagreements become desyncs that block entries on that market')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      await run(opts.json, (ctx) => reconcile(ctx, { env: io.env, json: opts.json }));
    });

  program
    .command('preflight')
    .summary('read-only checks before going live')
    .description('read-only checks before switching live trading on: the Kalshi key signs and is accepted, clock skew, exchange status, '
      + 'balance, the API rate-limit tier, and the venue\'s positions and resting orders against the books; never places an order, '
      + 'writes nothing; exit 1 when any check fails. The key: KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_FILE, or KALSHI_CREDENTIALS_SECRET_ARN')
    .addOption(new Option('--env <environment>', 'the Kalshi environment to check').choices(['demo', 'production']).makeOptionMandatory())
    .option('--base-url <url>', "the Trade API root instead of the environment's (a local simulator), e.g. http://127.0.0.1:8080/trade-api/v2", httpUrl)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { env: 'demo' | 'production'; baseUrl?: string; json?: boolean }) => {
      await run(opts.json, (ctx) => preflight(ctx, { environment: opts.env, baseUrl: opts.baseUrl, env: io.env, secrets: lazySecrets, json: opts.json }));
    });

  program
    .command('orders')
    .description("Precog's orders, newest first")
    .addOption(new Option('--status <status>', 'pending, resting, partially_filled, filled, cancelled or rejected')
      .choices(['pending', 'resting', 'partially_filled', 'filled', 'cancelled', 'rejected']))
    .option('--limit <n>', 'at most this many (default 50)', positiveInt)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { status?: string; limit?: number; json?: boolean }) => {
      await run(opts.json, (ctx) => listOrders(ctx, opts));
    });

  const desync = program.command('desync').summary('books/venue disagreements found by reconcile').description('disagreements between the books and the venue found by reconciliation');
  desync
    .command('list')
    .description('open desyncs (markets taking no new entries)')
    .option('--all', 'include resolved ones')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { all?: boolean; json?: boolean }) => {
      await run(opts.json, (ctx) => listDesyncs(ctx, opts));
    });
  desync
    .command('resolve')
    .summary('resolve a desync by hand')
    .description('resolve a desync by hand (after fixing the books or the venue); the next reconciliation re-opens it if they still disagree')
    .argument('<id>', 'desync id from `precog desync list`', positiveInt)
    .requiredOption('--note <text>', 'what was done, kept with the desync')
    .option('--json', 'print the result as JSON')
    .action(async (id: number, opts: { note: string; json?: boolean }) => {
      await run(opts.json, (ctx) => resolveDesync(ctx, { id, note: opts.note, json: opts.json }));
    });

  const breaker = program.command('breaker').summary('circuit breakers: list, trip, resolve').description('circuit breakers: open trips block entries; some liquidate');
  breaker
    .command('list')
    .summary('open breakers (entries blocked while any is open)')
    .description('open breakers (entries are blocked while any is open)')
    .option('--all', 'include resolved ones')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { all?: boolean; json?: boolean }) => {
      await run(opts.json, (ctx) => listBreakers(ctx, opts));
    });
  breaker
    .command('trip')
    .summary('trip the manual breaker (optionally liquidate)')
    .description('trip a breaker by hand (only "manual"): blocks new entries; --liquidate also closes every open position')
    .addArgument(new Argument('<type>', 'the breaker to trip: manual (the others trip from their conditions)').choices(['manual']))
    .requiredOption('--reason <text>', 'why, kept with the trip')
    .option('--liquidate', 'the monitor exits every open position (CRITICAL circuit_breaker exits)')
    .option('--by <name>', 'who (default: the OS user)')
    .option('--json', 'print the result as JSON')
    .action(async (type: string, opts: { reason: string; liquidate?: boolean; by?: string; json?: boolean }) => {
      await run(opts.json, (ctx) => tripBreaker(ctx, { type, ...opts }));
    });
  breaker
    .command('resolve')
    .summary('resolve an open breaker')
    .description('resolve an open breaker (the automatic ones resolve themselves where the rules allow)')
    .argument('<id>', 'breaker event id from `precog breaker list`', positiveInt)
    .requiredOption('--action <text>', 'what was done, kept with the resolution')
    .option('--json', 'print the result as JSON')
    .action(async (id: number, opts: { action: string; json?: boolean }) => {
      await run(opts.json, (ctx) => resolveBreakerCommand(ctx, { id, action: opts.action, json: opts.json }));
    });

  program
    .command('migrate')
    .summary('apply the pending database migrations')
    .description('apply the pending migrations to DATABASE_URL (one transaction, under an advisory lock) and list them')
    .option('--dry-run', 'only list the pending migrations')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { dryRun?: boolean; json?: boolean }) => {
      await run(opts.json, (ctx) => migrateCommand(ctx, opts));
    });

  const db = program.command('db').description('the database itself');
  db
    .command('check')
    .summary("the restore test's integrity checks on this database")
    .description('one current row per key in every versioned table, each paper account\'s cash equal to its fills and settlements, '
      + 'and the append-only tables\' row counts (compared with --baseline FILE, a JSON object table → count, when given); '
      + 'exit 1 on any violation')
    .option('--baseline <file>', 'JSON file of append-only row counts recorded earlier ({"trades": 120, …})')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { baseline?: string; json?: boolean }) => {
      await run(opts.json, async (ctx) => dbCheck(ctx, { json: opts.json, baseline: opts.baseline ? readBaselineFile(opts.baseline) : undefined }));
    });

  const names = functionNames();
  program
    .command('invoke')
    .summary('run a Lambda handler locally with an event')
    .description('run a Lambda handler in this process as the Lambda console does (its sample event, the configured database and exchange); '
      + 'scan-edges and monitor-positions need ENTRY_QUEUE_URL / EXIT_QUEUE_URL unless the event is a dry run ({"dryRun": true})')
    .addArgument(new Argument('<function>', 'a folder of functions/').choices(names))
    .option('--event <file>', 'event JSON file (default: events/<function>.json)')
    .option('--timeout <seconds>', "the fake context's timeout: getRemainingTimeInMillis counts down from it (default 60)", positiveInt)
    .option('--json', 'print the result as JSON (handler logs go to stderr)')
    .action(async (name: string, opts: { event?: string; timeout?: number; json?: boolean }, command: Command) => {
      try {
        await invokeFunction(io.out, {
          functionName: name, event: opts.event, env: io.env, json: opts.json, timeoutMs: opts.timeout === undefined ? undefined : opts.timeout * 1000,
          logsToStderr: io === processIo,
        });
      } catch (error) {
        if (error instanceof InvokeUsageError) command.error(`error: ${error.message}`, { exitCode: EXIT_USAGE, code: 'precog.invokeUsage' });
        throw new ReportedFailure(reportFailure(io, error, opts.json === true));
      }
    });

  program
    .command('positions')
    .summary('open positions with P&L and versions')
    .description('open positions: quantity, entry price, cost basis, current price, unrealized and realized P&L, strategy and model versions')
    .option('--all', 'include closed and settled positions')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { all?: boolean; json?: boolean }) => {
      await run(opts.json, (ctx) => listPositions(ctx, opts));
    });

  program
    .command('pnl')
    .summary('realized and unrealized P&L since a time')
    .description('realized P&L (fees included) by strategy version and mode since a time, unrealized P&L of open positions, totals')
    .option('--since <time>', 'ISO 8601 time (2026-11-27T00:00:00Z), a date, or a duration back from now (24h, 7d); default: today 00:00 UTC', (v) => parseSince(v))
    .option('--json', 'print the result as JSON')
    .action(async (opts: { since?: Date; json?: boolean }) => {
      await run(opts.json, (ctx) => pnlReport(ctx, opts));
    });

  program
    .command('attribution')
    .summary('trades with their strategy and model versions')
    .description('trades, newest first, with the exact strategy and model versions behind each (trade_attribution)')
    .option('--strategy <name>', 'only trades of this strategy (any version)')
    .option('--limit <n>', 'at most this many (default 50)', positiveInt)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { strategy?: string; limit?: number; json?: boolean }) => {
      await run(opts.json, (ctx) => attribution(ctx, opts));
    });

  program
    .command('ab')
    .summary("A/B comparison of a strategy's versions")
    .description("A/B comparison of a strategy's versions: trades, cost, realized P&L and ROI per version")
    .argument('<strategy>', 'strategy name, e.g. halftime_entry')
    .option('--json', 'print the result as JSON')
    .action(async (strategy: string, opts: { json?: boolean }) => {
      await run(opts.json, (ctx) => abCompare(ctx, { strategy, json: opts.json }));
    });

  program
    .command('health')
    .summary('component health, open breakers and desyncs')
    .description('latest report per component (system_health) judged now: stale when older than --stale-after × the '
      + "component's period; open circuit breakers and desyncs; exit 1 when a component is down or stale, or none has reported")
    .option('--stale-after <periods>', "a component is stale after this many of its periods without a report (default 3)", positiveInt)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { staleAfter?: number; json?: boolean }) => {
      await run(opts.json, (ctx) => healthReport(ctx, opts));
    });

  program
    .command('edges')
    .summary("the scan's current edges, best EV first")
    .description("the scan's current edge per market, strategy version, model version and side: model probability, price, edge, "
      + 'EV, confidence and the action taken; actionable ones (auto_execute, alert) unless --all or --action')
    .addOption(new Option('--action <action>', 'only edges with this recommended action').choices([...EDGE_ACTIONS]))
    .option('--all', 'include ignored edges')
    .option('--strategy <name>', 'only edges of this strategy (any version)')
    .option('--limit <n>', 'at most this many (default 50)', positiveInt)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { action?: string; all?: boolean; strategy?: string; limit?: number; json?: boolean }) => {
      await run(opts.json, (ctx) => listEdges(ctx, opts));
    });

  program
    .command('trades')
    .summary('fills, newest first')
    .description('fills (buys and sells), newest first: quantity, side, price, amount, fees, position, strategy and model versions')
    .option('--strategy <name>', 'only trades of this strategy (any version)')
    .option('--market <market-id>', 'only trades in this market')
    .option('--position <id>', 'only trades of this position', positiveInt)
    .option('--limit <n>', 'at most this many (default 50)', positiveInt)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { strategy?: string; market?: string; position?: number; limit?: number; json?: boolean }) => {
      await run(opts.json, (ctx) => listTrades(ctx, opts));
    });

  program
    .command('exits')
    .summary('exit requests: what is being sold and why')
    .description('exit requests, newest first: position, condition and priority that triggered it, contracts filled, '
      + 'average price and proceeds of its sells, status')
    .addOption(new Option('--status <status>', 'only requests in this status').choices([...EXIT_STATUSES]))
    .option('--position <id>', 'only requests of this position', positiveInt)
    .option('--limit <n>', 'at most this many (default 50)', positiveInt)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { status?: string; position?: number; limit?: number; json?: boolean }) => {
      await run(opts.json, (ctx) => listExits(ctx, opts));
    });

  const config = program
    .command('config')
    .summary('trading-rule overrides: set, get, list, unset')
    .description('trading-rule overrides: code defaults < PRECOG_RULE__<KEY> environment < config_overrides rows (latest wins)');
  config
    .command('set')
    .summary('override one rule (validated)')
    .description('override one rule; the key and value are validated and nothing is written when either is wrong')
    .argument('<key>', 'dotted key, e.g. exits.stop_loss_pct (`precog config keys` lists them)')
    .argument('<value>', 'e.g. -0.10 (decimals are exact), 10, true, paper, or JSON for exits.partial_exits')
    .requiredOption('--reason <text>', 'why, kept with the override', nonBlank)
    .addOption(new Option('--expires <time>', 'stop applying at this time (ISO 8601, e.g. 2026-12-01T00:00:00Z)').argParser((v) => parseExpires(v)).conflicts('expiresIn'))
    .addOption(new Option('--expires-in <duration>', 'stop applying after this long (90m, 2h, 7d, 1h30m)').argParser((v) => parseExpiresIn(v)))
    .option('--by <name>', 'who applies it (default: the OS user)', nonBlank)
    .option('--json', 'print the result as JSON')
    .action(async (key: string, value: string, opts: { reason: string; expires?: Date; expiresIn?: Date; by?: string; json?: boolean }) => {
      await run(opts.json, (ctx) => configSet(ctx, { key, value, reason: opts.reason, expiresAt: opts.expires ?? opts.expiresIn, by: opts.by, env: io.env, json: opts.json }));
    });
  config
    .command('get')
    .summary('the value in effect and its source')
    .description('the value in effect and where it comes from (default, environment or override)')
    .argument('<key>', 'dotted key, e.g. exits.stop_loss_pct')
    .option('--json', 'print the result as JSON')
    .action(async (key: string, opts: { json?: boolean }) => {
      await run(opts.json, (ctx) => configGet(ctx, { key, env: io.env, json: opts.json }));
    });
  config
    .command('list')
    .description('overrides in force, newest first')
    .option('--all', 'also expired and deactivated ones')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { all?: boolean; json?: boolean }) => {
      await run(opts.json, (ctx) => configList(ctx, { all: opts.all, env: io.env, json: opts.json }));
    });
  config
    .command('keys')
    .summary('every overridable key, its type and default')
    .description('every overridable key with its type, accepted values and default')
    .option('--json', 'print the result as JSON')
    .action((opts: { json?: boolean }) => configKeys(io.out, opts));
  config
    .command('unset')
    .summary("deactivate the key's overrides")
    .description("deactivate the key's overrides in force (rows are kept for history)")
    .argument('<key>', 'dotted key, e.g. exits.stop_loss_pct')
    .requiredOption('--reason <text>', 'why, appended to the override', nonBlank)
    .option('--by <name>', 'who removes it (default: the OS user)', nonBlank)
    .option('--json', 'print the result as JSON')
    .action(async (key: string, opts: { reason: string; by?: string; json?: boolean }) => {
      await run(opts.json, (ctx) => configUnset(ctx, { key, reason: opts.reason, by: opts.by, env: io.env, json: opts.json }));
    });

  program
    .command('backtest')
    .summary('replay recorded history through the handlers')
    .description('replay recorded market and game-state versions into a fresh database through the real scan, entry, monitor, exit, '
      + 'settlement and health handlers on a virtual clock, the paper venue filling against the recorded quotes (docs/backtest.md); '
      + 'writes <out>/outcome.json, report.json and report.html (metrics, equity curve, drawdown, A/B) and prints the report')
    .option('--strategy <name@version>', 'a strategy version to replay (repeat for an A/B in one run)', (v: string, all: string[] = []) => [...all, v])
    .option('--model <name@version>', 'the model version the strategies use (checked against their configs)')
    .option('--tape <dir>', 'a tape directory (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--source <database-url>', 'a Precog database to read the history from (with --from and --to)')
    .option('--from <iso>', 'start of the window (default: the source\'s first row)')
    .option('--to <iso>', 'end of the window, exclusive (default: after the source\'s last row)')
    .requiredOption('--balance <usd>', 'starting cash of the paper account, dollars')
    .requiredOption('--seed <n>', 'seed of every random choice (retry jitter)')
    .option('--latency-ms <n>', 'order latency of the fill model (default 0)')
    .option('--out <dir>', 'where outcome.json and the report are written', 'reports/backtest')
    .option('--keep', 'keep the replay database (its URL is printed)')
    .option('--database-url <url>', 'server for the replay database (default DATABASE_URL\'s server, else a throwaway embedded PostgreSQL)')
    .option('--store <database-url>', 'keep the results in this Precog database (backtest_runs, backtest_results, model_validations)')
    .option('--json', 'print the result as JSON (the outcome)')
    .action(async (opts: { strategy?: string[]; model?: string; tape?: string[]; source?: string; from?: string; to?: string; balance: string; seed: string; latencyMs?: string; out: string; keep?: boolean; databaseUrl?: string; json?: boolean; store?: string }) => {
      const tty = terminal && process.stderr.isTTY;
      await runWithoutDatabase(opts.json, () => backtestCommand({
        out: io.out, env: io.env,
        progress: (text, final) => (tty ? process.stderr.write(`\r${text}${final ? '\n' : ''}`) : io.err(text)),
      }, { ...opts, strategy: opts.strategy ?? [] }));
    });

  const dlq = program
    .command('dlq')
    .summary('dead-letter queues of entry and exit orders')
    .description('the dead-letter queues of entry-orders and exit-orders on SQS (ENTRY_QUEUE_URL / EXIT_QUEUE_URL; each one\'s DLQ from its redrive policy, or ENTRY_DLQ_URL / EXIT_DLQ_URL)');
  const queueOption = () => new Option('--queue <queue>', 'which queue\'s dead letters').choices(['entry', 'exit', 'all']).default('all');
  const queuesOf = (queue: string): DlqName[] => (queue === 'all' ? [...DLQ_NAMES] : [queue as DlqName]);
  dlq
    .command('list')
    .summary('show the dead letters, leaving them in place')
    .description('show the dead letters (message id, sent, receives, exit request or entry order), leaving them in place and visible')
    .addOption(queueOption())
    .option('--limit <n>', 'at most this many per queue', positiveInt, 100)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { queue: string; limit: number; json?: boolean }) => {
      await runWithoutDatabase(opts.json, () => dlqList({ sqs: lazySqs, env: io.env, out: io.out }, { queues: queuesOf(opts.queue), limit: opts.limit, json: opts.json }));
    });
  dlq
    .command('redrive')
    .summary('send the dead letters back to their queue')
    .description('send each dead letter back to its queue (same body and attributes), then delete it from the dead-letter queue; exit 1 if any failed')
    .addOption(queueOption())
    .option('--limit <n>', 'at most this many per queue', positiveInt, 100)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { queue: string; limit: number; json?: boolean }) => {
      await runWithoutDatabase(opts.json, () => dlqRedrive({ sqs: lazySqs, env: io.env, out: io.out }, { queues: queuesOf(opts.queue), limit: opts.limit, json: opts.json }));
    });

  const archive = program
    .command('archive')
    .summary('the Parquet archive: list, restore, export')
    .description('the archive of the partitioned tables (Parquet, one file per table and month, manifest.json): '
      + 'a directory (--dir) or an S3 bucket (--bucket [--prefix]); default ARCHIVE_DIR / ARCHIVE_BUCKET');
  const archiveWhere = (command: Command) => command
    .option('--dir <dir>', 'the archive is this directory')
    .option('--bucket <bucket>', 'the archive is this S3 bucket (AWS credentials of the shell)')
    .option('--prefix <prefix>', 'key prefix in the bucket (default archive/)');
  archiveWhere(archive
    .command('list')
    .summary('archived months, from the manifest')
    .description("what is archived, from the archive's manifest.json: table, month, rows, bytes, first and last time, file")
    .addOption(new Option('--table <table>', 'only this table').choices(PARTITIONED_TABLES.map((t) => t.table))))
    .option('--json', 'print the result as JSON')
    .action(async (opts: { table?: string; dir?: string; bucket?: string; prefix?: string; json?: boolean }) => {
      await runWithoutDatabase(opts.json, () => archiveListCommand(io.out, { location: archiveLocation(opts, io.env), table: opts.table, json: opts.json }));
    });
  archiveWhere(archive
    .command('restore')
    .summary('bring archived months back into the database, exactly')
    .description('re-create the month partitions and insert the archived rows exactly (identity values kept), in one transaction; '
      + 'refused, writing nothing, when the database already has rows in those months or a file does not match the manifest')
    .addOption(new Option('--table <table>', 'a partitioned table').choices(PARTITIONED_TABLES.map((t) => t.table)).makeOptionMandatory())
    .requiredOption('--from <month>', 'first month, YYYY-MM', parseMonthArgument)
    .requiredOption('--to <month>', 'last month (included), YYYY-MM', parseMonthArgument))
    .option('--json', 'print the result as JSON')
    .action(async (opts: { table: string; from: string; to: string; dir?: string; bucket?: string; prefix?: string; json?: boolean }) => {
      await run(opts.json, (ctx) => archiveRestoreCommand(ctx, { table: opts.table, from: opts.from, to: opts.to, location: archiveLocation(opts, io.env), json: opts.json }));
    });
  archive
    .command('export')
    .summary('archive months to a directory by hand (nothing dropped)')
    .description("write the months' rows to DIR as the archive does (Parquet, manifest.json), verified; drops nothing")
    .addOption(new Option('--table <table>', 'a partitioned table').choices(PARTITIONED_TABLES.map((t) => t.table)).makeOptionMandatory())
    .requiredOption('--from <month>', 'first month, YYYY-MM', parseMonthArgument)
    .requiredOption('--to <month>', 'last month (included), YYYY-MM', parseMonthArgument)
    .requiredOption('--dir <dir>', 'the directory to write (an archive: files and manifest.json)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { table: string; from: string; to: string; dir: string; json?: boolean }) => {
      await run(opts.json, (ctx) => archiveExportCommand(ctx, { table: opts.table, from: opts.from, to: opts.to, location: { kind: 'directory', dir: opts.dir }, json: opts.json }));
    });

  addTapeCommands(program, { run, runWithoutDatabase, out: io.out });

  deferRequiredOptions(program);
  return program;
}

/**
 * Commander checks required options before unknown ones, so `--resaon` would be reported as a
 * missing --reason. Required options are checked instead just before the action (after unknown
 * options and arguments), with commander's message and code; their help says "(required)".
 */
function deferRequiredOptions(program: Command): void {
  const required = new Map<Command, Option[]>();
  const walk = (command: Command) => {
    const mandatory = command.options.filter((o) => o.mandatory);
    for (const option of mandatory) {
      option.makeOptionMandatory(false);
      option.description = option.description ? `${option.description} (required)` : '(required)';
    }
    if (mandatory.length > 0) required.set(command, mandatory);
    command.commands.forEach(walk);
  };
  walk(program);
  program.hook('preAction', (_program, action) => {
    for (const option of required.get(action) ?? []) {
      if (action.getOptionValue(option.attributeName()) === undefined) {
        action.error(`error: required option '${option.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
      }
    }
  });
}

function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('expected an http(s) URL.');
  return value.replace(/\/$/, '');
}

function positiveInt(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a positive whole number.');
  return Number(value);
}

/** Runs the CLI on user arguments (without node and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const json = wantsJson(argv);
  const program = buildProgram(io, { jsonErrors: json });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof ReportedFailure) return error.exitCode;
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
      if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
      // With --json, commander printed nothing: the usage error is one JSON document on stderr.
      if (json) io.err(JSON.stringify({ error: error.message.replace(/^error: /, '').replace(/\n/g, ' '), code: error.code }));
      return EXIT_USAGE;
    }
    return reportFailure(io, error, json);
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  process.exitCode = await runCli(process.argv.slice(2));
}
