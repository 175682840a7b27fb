import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

/**
 * `precog invoke FUNCTION [--event FILE]`: runs a Lambda handler in this process the way the
 * Lambda console's "Test" does: the module `functions/<name>/handler.ts` is imported, its exported
 * `handler` (the middy chain, with its middlewares) is called with the parsed event and a fake
 * Lambda context. The handler reads its environment (DATABASE_URL, EXECUTION_MODE, ENTRY_QUEUE_URL,
 * EVENT_BUS_NAME, …) from process.env exactly as in Lambda; the invocation's environment is laid
 * over process.env for the call and restored afterwards.
 *
 * Queue URLs are not invented: without ENTRY_QUEUE_URL (scan-edges) or EXIT_QUEUE_URL
 * (monitor-positions) the handler runs when the event asks for a dry run (`{"dryRun": true}`)
 * and otherwise refuses with its own configuration error.
 */

/** functions/ at the repository root. */
export const FUNCTIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../functions');
/** events/ at the repository root (the console test events). */
export const EVENTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../events');

/** The functions that can be invoked: the folders of functions/ with a handler.ts. */
export function functionNames(dir: string = FUNCTIONS_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, 'handler.ts')))
    .map((d) => d.name)
    .sort();
}

/** A usage problem with the invocation's arguments (exit 2): a missing or malformed event file. */
export class InvokeUsageError extends Error {
  override name = 'InvokeUsageError';
}

/** Reads and parses the event file; a missing or non-JSON file is a usage error naming it. */
export async function readEventFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvokeUsageError(`cannot read event file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvokeUsageError(`event file ${file} is not valid JSON: ${(error as Error).message.replace(/\s+/g, ' ')}`);
  }
}

/** A Lambda context as the runtime builds it; the remaining time counts down from `timeoutMs`. */
export function fakeLambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const noop = () => undefined;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/precog-invoke/${randomUUID()}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: noop,
    fail: noop,
    succeed: noop,
  };
}

/** Lays `env` over process.env; returns a function restoring what was there. */
function overlayEnvironment(env: NodeJS.ProcessEnv): () => void {
  if (env === process.env) return () => undefined;
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(env)) {
    saved.set(key, process.env[key]);
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  return () => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

export interface InvokeOptions {
  functionName: string;
  /** Event file (default events/<function>.json). */
  event?: string;
  /** The invocation's environment (laid over process.env for the call). */
  env: NodeJS.ProcessEnv;
  /** The fake context's timeout, ms (getRemainingTimeInMillis counts down from it). Default 60 s. */
  timeoutMs?: number;
  json?: boolean;
  /** Send what the handler writes to stdout (its JSON logs) to stderr, keeping stdout for the result. */
  logsToStderr?: boolean;
}

export interface InvokeResult {
  function: string;
  eventFile: string;
  requestId: string;
  durationMs: number;
  result: unknown;
}

/**
 * Invokes the handler. Throws InvokeUsageError (exit 2) for an unusable event file; whatever the
 * handler throws (a malformed event naming its field, a configuration error) propagates (exit 1).
 */
export async function invokeFunction(out: (line: string) => void, options: InvokeOptions): Promise<InvokeResult> {
  const names = functionNames();
  if (!names.includes(options.functionName)) {
    throw new InvokeUsageError(`unknown function ${options.functionName}; one of: ${names.join(', ')}`);
  }
  const eventFile = options.event ?? path.join(EVENTS_DIR, `${options.functionName}.json`);
  const event = await readEventFile(eventFile);
  const context = fakeLambdaContext(options.functionName, options.timeoutMs ?? 60_000);

  // Local runs have no CloudWatch: metrics stay off unless the environment says otherwise.
  const env: NodeJS.ProcessEnv = { POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true', ...options.env };
  const restore = overlayEnvironment(env);
  const stdoutWrite = process.stdout.write;
  if (options.logsToStderr) {
    process.stdout.write = ((...args: Parameters<typeof process.stdout.write>) =>
      (process.stderr.write as (...a: unknown[]) => boolean)(...args)) as typeof process.stdout.write;
  }
  const started = Date.now();
  let result: unknown;
  try {
    const module = (await import(pathToFileURL(path.join(FUNCTIONS_DIR, options.functionName, 'handler.ts')).href)) as {
      handler?: (event: unknown, context: Context) => Promise<unknown>;
    };
    if (typeof module.handler !== 'function') throw new Error(`functions/${options.functionName}/handler.ts exports no handler`);
    result = await module.handler(event, context);
  } finally {
    if (options.logsToStderr) process.stdout.write = stdoutWrite;
    restore();
  }
  const invoked: InvokeResult = {
    function: options.functionName, eventFile, requestId: context.awsRequestId, durationMs: Date.now() - started, result: result ?? null,
  };
  if (options.json) {
    out(JSON.stringify(invoked));
    return invoked;
  }
  out(`invoked ${options.functionName} with ${path.relative(process.cwd(), eventFile) || eventFile} (request ${context.awsRequestId}, ${invoked.durationMs} ms)`);
  const failures = (result as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures;
  if (Array.isArray(failures) && failures.length > 0) {
    out(`${failures.length} record(s) reported as batch item failures: SQS would deliver them again`);
  }
  out(JSON.stringify(result ?? null, null, 2));
  return invoked;
}
