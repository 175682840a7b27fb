import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { databaseServer, databaseUrl } from '../local/embeddedPostgres';
import { migrate } from '../shared/db/migrate';
import { createPool } from '../shared/db/pool';

export interface BenchDatabase {
  pool: pg.Pool;
  url: string;
}

export interface BenchContext {
  /**
   * A new migrated database on the run's PostgreSQL server. Variants of one bench each take a
   * fresh one, so every variant starts from the same state on the same server.
   */
  freshDatabase(): Promise<BenchDatabase>;
  log(line: string): void;
}

export interface BenchResult {
  /** Key in bench/results.json, e.g. "versioned-upsert". */
  name: string;
  /** Variant → items per second (or the unit the bench documents). */
  figures: Record<string, number>;
  /** Extra lines printed under the table (ratios, round trips, goals). */
  notes: string[];
  /** Whether the bench's stated goal held in this run. */
  goalMet: boolean;
  /** Unit of the figures, printed as the column header; "items/s" when absent. */
  unit?: string;
  /** Decimals the figures are printed and recorded with; 0 (whole numbers) when absent. */
  digits?: number;
}

/** A bench returns one result, or several when it records under several keys of results.json. */
export type Bench = (ctx: BenchContext) => Promise<BenchResult | BenchResult[]>;

export const RESULTS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'results.json');

export async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

/** Runs fn with no PostgreSQL server, for benches that need no database (freshDatabase fails). */
export async function withoutBenchServer<T>(fn: (ctx: BenchContext) => Promise<T>): Promise<T> {
  return fn({
    freshDatabase: () => Promise.reject(new Error('this bench run started no database server')),
    log: (line) => console.log(line),
  });
}

/** Runs fn against one PostgreSQL server: embedded (default) or the server of DATABASE_URL. */
export async function withBenchServer<T>(fn: (ctx: BenchContext) => Promise<T>): Promise<T> {
  const { url: serverUrl, stop } = await databaseServer();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const template = `precog_bench_template_${process.pid}`;
  const created: string[] = [];
  const pools: pg.Pool[] = [];
  const urlOf = (name: string) => databaseUrl(serverUrl, name);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${template}`);
    await admin.query(`CREATE DATABASE ${template}`);
    created.push(template);
    await migrate({ connection: urlOf(template) });
    return await fn({
      async freshDatabase() {
        const name = `precog_bench_${process.pid}_${created.length}`;
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        created.push(name);
        const pool = createPool({ connectionString: urlOf(name), max: 4 });
        pools.push(pool);
        return { pool, url: urlOf(name) };
      },
      log: (line) => console.log(line),
    });
  } finally {
    await Promise.all(pools.map((p) => p.end()));
    for (const name of created.reverse()) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    await stop();
  }
}

export function printResult(result: BenchResult): void {
  const rows = Object.entries(result.figures);
  const width = Math.max(...rows.map(([k]) => k.length), 7);
  console.log(`\n${result.name}`);
  console.log(`  ${'variant'.padEnd(width)}  ${(result.unit ?? 'items/s').padStart(12)}`);
  for (const [variant, value] of rows) {
    console.log(`  ${variant.padEnd(width)}  ${value.toFixed(result.digits ?? 0).padStart(12)}`);
  }
  for (const note of result.notes) console.log(`  ${note}`);
  console.log(`  goal ${result.goalMet ? 'MET' : 'NOT MET'}`);
}

/** Merges this run's figures into bench/results.json, keeping other benches' entries. */
export async function recordResults(results: BenchResult[]): Promise<void> {
  let existing: Record<string, Record<string, number>> = {};
  try {
    existing = JSON.parse(await readFile(RESULTS_FILE, 'utf8'));
  } catch {
    existing = {};
  }
  for (const r of results) {
    const scale = 10 ** (r.digits ?? 0);
    existing[r.name] = Object.fromEntries(Object.entries(r.figures).map(([k, v]) => [k, Math.round(v * scale) / scale]));
  }
  await writeFile(RESULTS_FILE, `${JSON.stringify(existing, null, 2)}\n`);
}

/**
 * Counts the statements every client of the pool sends from now on (each is one round trip).
 * Clients are wrapped when checked out, so connections opened earlier are counted too.
 */
export function countRoundTrips(pool: pg.Pool): { count: number } {
  const counter = { count: 0 };
  const wrapped = new WeakSet<object>();
  pool.on('acquire', (client) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      counter.count++;
      return query(...args);
    };
  });
  return counter;
}
