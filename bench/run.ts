import { printResult, recordResults, withBenchServer, withoutBenchServer, type Bench, type BenchResult } from './harness';
import { bundlesBench } from './benches/bundles';
import { executeEntryBench } from './benches/executeEntry';
import { ingestMarketsBench } from './benches/ingestMarkets';
import { lifecycleBench } from './benches/lifecycle';
import { localRunBench } from './benches/localRun';
import { monitorSweepBench } from './benches/monitorSweep';
import { scanEdgesBench } from './benches/scanEdges';
import { versionedUpsertBench } from './benches/versionedUpsert';
import { tapeBench } from './benches/tape';
import { backtestBench } from './benches/backtest';

/** Every benchmark, by the key it records in bench/results.json. */
const BENCHES: Record<string, Bench> = {
  'versioned-upsert': versionedUpsertBench,
  'ingest-markets': ingestMarketsBench,
  'scan-edges': scanEdgesBench,
  'execute-entry': executeEntryBench,
  'monitor-sweep': monitorSweepBench,
  bundles: bundlesBench,
  'local-run': localRunBench,
  lifecycle: lifecycleBench,
  tape: tapeBench,
  backtest: backtestBench,
};

/** Benches that use no database: a run of only these starts no PostgreSQL server. */
const NO_DATABASE = new Set(['bundles', 'local-run']);

async function main() {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !(name in BENCHES));
  if (unknown.length > 0) {
    console.error(`unknown bench: ${unknown.join(', ')} (known: ${Object.keys(BENCHES).join(', ')})`);
    process.exit(2);
  }
  const selected = wanted.length > 0 ? wanted : Object.keys(BENCHES);
  const withServer = selected.every((name) => NO_DATABASE.has(name)) ? withoutBenchServer : withBenchServer;
  const results = await withServer(async (ctx) => {
    const done: BenchResult[] = [];
    for (const name of selected) {
      const returned = await BENCHES[name]!(ctx);
      for (const result of Array.isArray(returned) ? returned : [returned]) {
        printResult(result);
        done.push(result);
      }
    }
    return done;
  });
  await recordResults(results);
  console.log(`\nfigures written to bench/results.json`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
