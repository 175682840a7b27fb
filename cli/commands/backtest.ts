import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BacktestInputError, parseVersionRef, type VersionRef } from '../../backtest/catalog';
import { runBacktest } from '../../backtest/engine';
import { outcomeJson, type BacktestOutcome } from '../../backtest/outcome';
import { DatabaseSource, type ReplaySource } from '../../backtest/source';
import { TapeSource } from '../../backtest/tapeSource';
import { Decimal } from '../../shared/domain/decimal';
import { databaseServer } from '../../local/embeddedPostgres';
import { UsageError } from './usage';
import pg from 'pg';
import { buildBacktestReport, formatBacktestText, storeBacktestResults, writeBacktestReport, type BacktestReport } from '../../backtest/report';
import type { BacktestRunInfo as ReplayRunInfo } from '../../backtest/outcome';
import type { BacktestRunInfo as ReportRunInfo } from '../../backtest/report/types';

/**
 * `precog backtest`: replays recorded history through the deployed handlers (backtest/engine.ts)
 * and writes what happened to `<out>/outcome.json` (the trades, decisions, positions, exits and
 * balances), with a short summary on stdout and a progress bar on stderr.
 *
 * The report (metrics, HTML) is built from the replay database by the report module
 * (`writeBacktestOutputs` is the seam: it receives the outcome and, with --keep, the replay
 * database's URL).
 */

export interface BacktestCommandOptions {
  strategy: string[];
  model?: string;
  tape?: string[];
  source?: string;
  from?: string;
  to?: string;
  balance: string;
  seed: string;
  latencyMs?: string;
  out: string;
  keep?: boolean;
  databaseUrl?: string;
  json?: boolean;
  /** A Precog database to keep the results in (backtest_runs / backtest_results, model_validations). */
  store?: string;
}

export interface BacktestCommandIo {
  out: (line: string) => void;
  /** Progress (stderr). */
  progress: (text: string, final: boolean) => void;
  env: NodeJS.ProcessEnv;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function instant(value: string | undefined, option: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (!ISO_INSTANT.test(value) || Number.isNaN(d.getTime())) throw new UsageError(`${option}: expected an ISO instant (2026-09-13T17:00:00Z), got ${JSON.stringify(value)}`);
  return d;
}

/** Checks the arguments all at once (usage errors, exit 2) before anything starts. */
export function parseBacktestArgs(o: BacktestCommandOptions) {
  const issues: string[] = [];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      issues.push((error as Error).message);
      return undefined;
    }
  };
  const strategies = o.strategy.map((s) => attempt(() => parseVersionRef(s, '--strategy'))).filter((r): r is VersionRef => !!r);
  if (o.strategy.length === 0) issues.push('--strategy: name at least one strategy version (NAME@VERSION; repeat for an A/B)');
  const model = o.model === undefined ? null : attempt(() => parseVersionRef(o.model!, '--model')) ?? null;
  const tapes = o.tape ?? [];
  if (tapes.length > 0 && o.source) issues.push('--tape and --source: give one source, not both');
  if (tapes.length === 0 && !o.source) issues.push('give a source: --tape DIR (repeatable) or --source DATABASE_URL with --from and --to');
  if (o.source) {
    if (!/^postgres(ql)?:\/\//.test(o.source)) issues.push(`--source: expected a postgres:// URL, got ${JSON.stringify(o.source.replace(/\/\/[^@]*@/, '//…@'))}`);
    if (!o.from) issues.push('--source needs --from (ISO instant)');
    if (!o.to) issues.push('--source needs --to (ISO instant)');
  }
  const from = attempt(() => instant(o.from, '--from'));
  const to = attempt(() => instant(o.to, '--to'));
  if (from && to && from.getTime() >= to.getTime()) issues.push(`--from ${o.from} must be before --to ${o.to}`);
  if (!/^\d+(\.\d{1,4})?$/.test(o.balance) || new Decimal(o.balance).lte(0)) issues.push(`--balance: expected positive dollars with at most 4 decimals (e.g. 2000), got ${JSON.stringify(o.balance)}`);
  if (!/^\d{1,9}$/.test(o.seed)) issues.push(`--seed: expected a whole number (0 to 999999999), got ${JSON.stringify(o.seed)}`);
  if (o.latencyMs !== undefined && !/^\d{1,7}$/.test(o.latencyMs)) issues.push(`--latency-ms: expected whole milliseconds, got ${JSON.stringify(o.latencyMs)}`);
  if (issues.length > 0) throw new UsageError('invalid backtest arguments', issues);
  return {
    strategies, model, tapes, source: o.source, from, to, balance: new Decimal(o.balance), seed: Number(o.seed),
    latencyMs: o.latencyMs === undefined ? undefined : Number(o.latencyMs),
  };
}

/** A progress bar: on a terminal one line redrawn; otherwise a line per 5 % step. */
export function progressReporter(io: BacktestCommandIo, label: string) {
  let lastStep = -1;
  return (done: number, total: number) => {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const step = Math.floor(fraction * 20);
    if (step === lastStep) return;
    lastStep = step;
    const bar = `${'#'.repeat(step)}${'.'.repeat(20 - step)}`;
    io.progress(`${label} [${bar}] ${Math.round(fraction * 100)}%`, fraction >= 1);
  };
}

export async function backtestCommand(io: BacktestCommandIo, options: BacktestCommandOptions): Promise<BacktestOutcome[]> {
  const args = parseBacktestArgs(options);
  const sources: ReplaySource[] = [];
  for (const tape of args.tapes) sources.push(new TapeSource(tape));
  if (args.source) sources.push(new DatabaseSource(args.source));
  const server = await databaseServer(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : io.env);
  const outcomes: BacktestOutcome[] = [];
  try {
    for (const [i, source] of sources.entries()) {
      let outcome: BacktestOutcome;
      let report: BacktestReport | undefined;
      try {
        outcome = await runBacktest({
          afterRun: async (pool, info) => {
            report = await buildBacktestReport(pool, reportRunInfo(info));
          },
          source, from: args.from, to: args.to, strategies: args.strategies, model: args.model, balance: args.balance, seed: args.seed,
          fillModel: args.latencyMs === undefined ? {} : { latencyMs: args.latencyMs }, serverUrl: server.url, keep: options.keep,
          onProgress: progressReporter(io, `replaying ${source.label}`),
        });
      } catch (error) {
        // What the user asked for does not fit the source (unknown version, window not covered, a
        // model trained on the window): a usage error naming it. A gap in the tape is a data failure.
        if (error instanceof BacktestInputError && !/ has a gap: /.test(error.message)) throw new UsageError(error.message);
        throw error;
      } finally {
        await source.close();
      }
      const dir = sources.length === 1 ? options.out : path.join(options.out, String(i + 1));
      const written = await writeBacktestOutputs(dir, outcome, report);
      outcomes.push(outcome);
      if (options.store && report) {
        const target = new pg.Pool({ connectionString: options.store, max: 1 });
        try {
          const { runId } = await storeBacktestResults(target, report);
          if (!options.json) io.out(`stored as backtest run ${runId}`);
        } finally {
          await target.end();
        }
      }
      if (!options.json) {
        if (report) io.out(formatBacktestText(report));
        if (written.html) io.out(`HTML report (open in a browser): file://${path.resolve(written.html)}`);
        for (const line of summarize(outcome, dir)) io.out(line);
      }
    }
  } finally {
    await server.stop();
  }
  if (options.json) io.out(JSON.stringify(outcomes.length === 1 ? JSON.parse(outcomeJson(outcomes[0]!)) : outcomes.map((o) => JSON.parse(outcomeJson(o)))));
  return outcomes;
}

/**
 * The report's description of a run from the engine's: the report keys results by a sha256
 * (a tape's tapeId; for a database source the sha256 of the rows replayed).
 */
export function reportRunInfo(info: ReplayRunInfo): ReportRunInfo {
  return {
    tapeId: info.tapeId.replace(/^rows-sha256:/, ''),
    tapeLabel: info.source,
    window: info.window,
    strategies: info.strategies,
    model: info.model,
    fillModel: info.fillModel,
    seed: info.seed,
    balance: info.balance,
    startedAt: info.startedAt,
    finishedAt: info.finishedAt,
  };
}

/**
 * Writes a run's outputs into `dir`: outcome.json (what happened), and the report built from the
 * replay database (report.json with every metric, report.html with the equity curve and drawdown).
 */
export async function writeBacktestOutputs(dir: string, outcome: BacktestOutcome, report?: BacktestReport): Promise<{ outcome: string; json?: string; html?: string }> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'outcome.json');
  await writeFile(file, outcomeJson(outcome));
  if (!report) return { outcome: file };
  const { json, html } = await writeBacktestReport(dir, report);
  return { outcome: file, json, html };
}

/** A few lines: the window, the versions, trades and realized P&L by strategy version, balances. */
export function summarize(outcome: BacktestOutcome, dir: string): string[] {
  const { info } = outcome;
  const lines = [
    `backtest of ${info.strategies.map((s) => `${s.name}@${s.version}`).join(', ')} on ${info.source}`,
    `window ${info.window.from.toISOString()} to ${info.window.to.toISOString()}; seed ${info.seed}; fill model ${Object.entries(info.fillModel).map(([k, v]) => `${k}=${v}`).join(', ')}`,
  ];
  for (const s of info.strategies) {
    const label = `${s.name}@${s.version}`;
    const trades = outcome.trades.filter((t) => t.strategy === label);
    const positions = outcome.positions.filter((p) => p.strategy === label);
    const realized = positions.reduce((sum, p) => sum.plus(p.realizedPnl ?? 0), new Decimal(0));
    const fees = trades.reduce((sum, t) => sum.plus(t.fee), new Decimal(0));
    lines.push(`  ${label.padEnd(24)} ${String(trades.filter((t) => t.action === 'buy').length).padStart(3)} buys ${String(trades.filter((t) => t.action === 'sell').length).padStart(3)} sells  `
      + `positions ${positions.length}  realized P&L ${realized.toFixed(2)} (fees ${fees.toFixed(2)} paid)`);
  }
  lines.push(`cash ${outcome.balances.starting} -> ${outcome.balances.ending}`);
  for (const w of outcome.warnings) lines.push(`  ! ${w}`);
  if (outcome.replayDatabaseUrl) lines.push(`replay database kept: ${outcome.replayDatabaseUrl.replace(/\/\/[^@]*@/, '//…@')}`);
  lines.push(`outcome: ${path.join(dir, 'outcome.json')}`);
  return lines;
}
