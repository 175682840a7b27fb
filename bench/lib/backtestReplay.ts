import { runBacktest } from '../../backtest/engine';
import { TapeSource } from '../../backtest/tapeSource';
import { Decimal } from '../../shared/domain/decimal';

/**
 * One replay of a tape in its own process, for the backtest bench: the peak RSS it reports
 * (process.resourceUsage().maxRSS) is this replay's alone, not the bench's or another replay's.
 *
 *   node --import tsx bench/lib/backtestReplay.ts '{"tape": DIR, "serverUrl": URL, "template": NAME}'
 *
 * Prints one JSON line: the engine's stats, the trades, and the peak RSS in bytes.
 */
export const BENCH_STRATEGIES = [
  { name: 'quarter_live', version: 'v1.0' },
  { name: 'quarter_live', version: 'v1.1' },
  { name: 'halftime_entry', version: 'v1.0' },
];

export interface ReplayFigures {
  stats: NonNullable<Awaited<ReturnType<typeof runBacktest>>['stats']>;
  trades: number;
  warnings: string[];
  maxRssBytes: number;
}

async function main() {
  const args = JSON.parse(process.argv[2] ?? '{}') as { tape: string; serverUrl: string; template?: string };
  const source = new TapeSource(args.tape);
  try {
    const outcome = await runBacktest({
      source, strategies: BENCH_STRATEGIES, balance: new Decimal(10000), seed: 1, serverUrl: args.serverUrl, template: args.template,
    });
    const figures: ReplayFigures = {
      stats: outcome.stats!, trades: outcome.trades.length, warnings: outcome.warnings,
      maxRssBytes: process.resourceUsage().maxRSS * 1024, // maxRSS is in kilobytes
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await source.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
