/**
 * How every function is bundled, shared by the CDK stack (NodejsFunction) and the bundle bench, so
 * that what is measured is what is deployed: esbuild, ESM for Node 22 (the code uses
 * import.meta.url), minified, with source maps, everything bundled except what the runtime has
 * or never loads.
 */
export const FUNCTION_NAMES = [
  'ingest-markets',
  'ingest-game-states',
  'scan-edges',
  'execute-entry',
  'monitor-positions',
  'execute-exit',
  'settle-markets',
  'check-health',
  'reconcile',
  'migrate',
  'archive-partitions',
  'restore-check',
  'maintain-partitions',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** The handler entry of a function, relative to the repository root. */
export const entryOf = (name: FunctionName) => `functions/${name}/handler.ts`;

/** Node 22 on Lambda (nodejs22.x). */
export const BUNDLE_TARGET = 'node22';

/**
 * Modules left out of the bundle: `pg-native` is an optional native driver pg never loads unless
 * asked; the AWS SDK v3 is NOT left out (the runtime's copy may differ from the tested one).
 */
export const EXTERNAL_MODULES = ['pg-native'];

/** ESM bundles still meet CommonJS dependencies that call require(): give them one. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __precogCreateRequire } from 'module'; const require = __precogCreateRequire(import.meta.url);";

/** The esbuild options of one function bundle (the bench uses them as is; CDK maps them). */
export function esbuildOptions(name: FunctionName, outfile: string) {
  return {
    entryPoints: [entryOf(name)],
    outfile,
    bundle: true,
    platform: 'node' as const,
    target: BUNDLE_TARGET,
    format: 'esm' as const,
    minify: true,
    sourcemap: true,
    external: EXTERNAL_MODULES,
    banner: { js: ESM_REQUIRE_BANNER },
    mainFields: ['module', 'main'],
    logLevel: 'silent' as const,
  };
}
