import { spawn } from 'node:child_process';
import { mkdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { FUNCTION_NAMES, esbuildOptions, type FunctionName } from '../../infra/bundling';
import type { Bench, BenchResult } from '../harness';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Unbundled builds live inside the repository so that Node resolves their packages from node_modules. */
const UNBUNDLED_DIR = path.join(REPO_ROOT, 'bench', '.bundles');
/** The Lambda bundle budget, in bytes (1 MB, decimal). */
const MAX_BUNDLE_BYTES = 1_000_000;
/** Timed fresh-process imports per variant (after one untimed warm-up); the median is reported. */
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 5);
const CHILD_TIMEOUT_MS = 60_000;

/**
 * Environment of the child processes: only what a handler reads at module load, set to harmless
 * values (no NODE_OPTIONS, so no loader of the parent's tsx is inherited).
 */
const CHILD_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH ?? '',
  HOME: os.tmpdir(),
  AWS_REGION: 'us-east-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  NODE_ENV: 'production',
};

/**
 * Times `await import(url)` in a fresh process (so nothing is cached in-process), checks that the
 * module exports a `handler` function, and exits without waiting on anything the module started.
 */
const CHILD_SCRIPT = `
const url = process.argv[1];
const start = performance.now();
const mod = await import(url);
const ms = performance.now() - start;
if (typeof mod.handler !== 'function') { console.error('no handler export in ' + url); process.exit(3); }
process.stdout.write(JSON.stringify({ ms }) + '\\n');
process.exit(0);
`;

function coldImport(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT, pathToFileURL(file).href], {
      cwd: os.tmpdir(),
      env: CHILD_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: CHILD_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`cold import of ${file} failed (${signal ?? code}): ${stderr.trim().slice(0, 2000)}`));
      try {
        resolve((JSON.parse(line) as { ms: number }).ms);
      } catch {
        reject(new Error(`cold import of ${file} printed no timing: ${stdout.slice(0, 500)} ${stderr.slice(0, 500)}`));
      }
    });
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const kb = (bytes: number) => `${(bytes / 1000).toFixed(0)} KB`;

/** The npm package (or "project") an esbuild input path belongs to. */
function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return '(project code)';
  const rest = input.slice(at + 'node_modules/'.length).split('/');
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
}

/** Bytes of the output each package accounts for, largest first. */
function packageShares(metafile: Metafile): [string, number][] {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = packageOf(input);
      bytes.set(pkg, (bytes.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return [...bytes].sort((a, b) => b[1] - a[1]);
}

interface Built {
  name: FunctionName;
  bytes: number;
  mapBytes: number;
  bundled: string;
  unbundled: string;
  unbundledBytes: number;
  shares: [string, number][];
}

async function buildFunction(name: FunctionName, tmpDir: string): Promise<Built> {
  const bundled = path.join(tmpDir, name, 'index.mjs');
  const unbundled = path.join(UNBUNDLED_DIR, name, 'index.mjs');
  // The deployed bundle: the exact options of infra/bundling.ts.
  const { metafile } = await build({ ...esbuildOptions(name, bundled), absWorkingDir: REPO_ROOT, metafile: true });
  // Unbundled: the same build with every npm package left as an import resolved from node_modules.
  await build({ ...esbuildOptions(name, unbundled), absWorkingDir: REPO_ROOT, packages: 'external' });
  return {
    name,
    bundled,
    unbundled,
    bytes: (await stat(bundled)).size,
    mapBytes: (await stat(`${bundled}.map`)).size,
    unbundledBytes: (await stat(unbundled)).size,
    shares: packageShares(metafile),
  };
}

/**
 * Every function bundle built with the deployed esbuild options (infra/bundling.ts): its size, and
 * its cold module-load time (a fresh `node` importing it) next to the same handler unbundled, that
 * is with its npm dependencies imported from node_modules as they would be without a bundler.
 * Records two keys: "bundle-bytes" and "cold-load-ms".
 */
export const bundlesBench: Bench = async ({ log }) => {
  const tmpDir = path.join(os.tmpdir(), `precog-bundles-${process.pid}`);
  await rm(UNBUNDLED_DIR, { recursive: true, force: true });
  try {
    const built: Built[] = [];
    for (const name of FUNCTION_NAMES) built.push(await buildFunction(name, tmpDir));
    log(`built ${built.length} bundles; timing ${COLD_RUNS} cold imports per variant (+1 warm-up)`);

    const cold = new Map<string, number>();
    for (const b of built) {
      // Warm-up (file system cache), then bundled and unbundled alternate so drift hits both alike.
      await coldImport(b.bundled);
      await coldImport(b.unbundled);
      const bundledMs: number[] = [];
      const unbundledMs: number[] = [];
      for (let i = 0; i < COLD_RUNS; i++) {
        bundledMs.push(await coldImport(b.bundled));
        unbundledMs.push(await coldImport(b.unbundled));
      }
      cold.set(`${b.name}-bundled`, median(bundledMs));
      cold.set(`${b.name}-unbundled`, median(unbundledMs));
    }

    const bySize = [...built].sort((a, b) => b.bytes - a.bytes);
    const total = built.reduce((sum, b) => sum + b.bytes, 0);
    const totalMaps = built.reduce((sum, b) => sum + b.mapBytes, 0);
    const over = built.filter((b) => b.bytes >= MAX_BUNDLE_BYTES);
    const slower = built.filter((b) => cold.get(`${b.name}-bundled`)! >= cold.get(`${b.name}-unbundled`)!);
    const topShares = (b: Built) =>
      b.shares.slice(0, 4).map(([pkg, bytes]) => `${pkg} ${((100 * bytes) / b.bytes).toFixed(0)}%`).join(', ');

    const sizes: BenchResult = {
      name: 'bundle-bytes',
      unit: 'bytes',
      figures: Object.fromEntries(built.map((b) => [b.name, b.bytes])),
      notes: [
        `${built.length} bundles (esbuild, ESM, minified, target node22, options of infra/bundling.ts): ${kb(total)} in total; source maps (${kb(totalMaps)} in total) not counted`,
        ...bySize.slice(0, 3).map((b) => `largest: ${b.name} ${kb(b.bytes)} (map ${kb(b.mapBytes)}): ${topShares(b)}`),
        `migrate's bundle excludes its SQL migrations (copied beside it at deploy)`,
        over.length === 0
          ? `every bundle under ${kb(MAX_BUNDLE_BYTES)} (goal)`
          : `OVER ${kb(MAX_BUNDLE_BYTES)}: ${over.map((b) => `${b.name} ${kb(b.bytes)} (${topShares(b)})`).join('; ')}`,
      ],
      goalMet: over.length === 0,
    };
    const loads: BenchResult = {
      name: 'cold-load-ms',
      unit: 'ms',
      digits: 1,
      figures: Object.fromEntries(cold),
      notes: [
        `median of ${COLD_RUNS} fresh \`node ${process.version}\` processes timing \`await import(handler module)\` (after one untimed warm-up, so file caches are warm here; Lambda runs Node 22, from a cold disk)`,
        `bundled = the deployed bundle; unbundled = the same esbuild build with \`packages: 'external'\`: the project's code in one file, every npm package imported from node_modules at run time`,
        `unbundled / bundled: ${built.map((b) => `${b.name} ${(cold.get(`${b.name}-unbundled`)! / cold.get(`${b.name}-bundled`)!).toFixed(1)}×`).join(', ')}`,
        slower.length === 0
          ? `bundled loads faster than unbundled for every function (goal)`
          : `bundled NOT faster for: ${slower.map((b) => b.name).join(', ')}`,
      ],
      goalMet: slower.length === 0,
    };
    return [sizes, loads];
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
    await rm(UNBUNDLED_DIR, { recursive: true, force: true });
  }
};
