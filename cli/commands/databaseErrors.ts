/**
 * A database failure as an operator can act on it: which setting points at the database, what
 * went wrong, and the fix. pg's own messages ("connect ECONNREFUSED 127.0.0.1:5432", "relation
 * \"positions\" does not exist") name neither.
 */

/** A failure reaching or using the database, explained (the original error is the cause). */
export class DatabaseUnusableError extends Error {
  override name = 'DatabaseUnusableError';
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/** The setting that chose the database, for the message. */
function setting(env: NodeJS.ProcessEnv): string {
  if (env.DATABASE_URL !== undefined) return 'DATABASE_URL';
  return env.DATABASE_HOST !== undefined ? 'DATABASE_SECRET_ARN (host from DATABASE_HOST)' : 'DATABASE_SECRET_ARN';
}

/** Where DATABASE_URL points, without its password. */
function target(env: NodeJS.ProcessEnv): string {
  const url = env.DATABASE_URL;
  if (url === undefined) return 'the database';
  if (url.startsWith('/')) return `the socket ${url.split(' ')[0]}`;
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname.length > 1 ? parsed.pathname : ''}`;
  } catch {
    return 'the database';
  }
}

/**
 * Whether a network error is about the database's address (a venue or SQS call fails with the
 * same codes): it dialled DATABASE_URL's port, or failed to look up its host. Without a
 * DATABASE_URL (AWS), any is taken.
 */
function aimsAtDatabase(error: unknown, env: NodeJS.ProcessEnv): boolean {
  const url = env.DATABASE_URL;
  if (url === undefined || url.startsWith('/')) return true;
  let host: string;
  let port: string;
  try {
    const parsed = new URL(url.includes('@/') ? url.replace('@/', '@localhost/') : url);
    host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    port = parsed.port || '5432';
  } catch {
    return true;
  }
  const candidates = [error, ...(((error as { errors?: unknown[] } | null)?.errors) ?? [])] as Array<{ port?: unknown; hostname?: unknown }>;
  // A connect error names the port it dialled; a failed lookup (ENOTFOUND) only the host name.
  return candidates.some((e) => (e?.port !== undefined ? String(e.port) === port : e?.hostname === host));
}

function codeOf(error: unknown): string | undefined {
  const own = (error as { code?: unknown } | null)?.code;
  if (typeof own === 'string') return own;
  // Node reports a refused localhost (tried on ::1 and 127.0.0.1) as an AggregateError.
  const inner = (error as { errors?: unknown[] } | null)?.errors?.[0];
  const code = (inner as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The explained error, or undefined when `error` is not about reaching or using the database. */
export function explainDatabaseError(error: unknown, env: NodeJS.ProcessEnv): DatabaseUnusableError | undefined {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const where = `${target(env)} (${setting(env)})`;
  const explained = (text: string) => new DatabaseUnusableError(text, { cause: error });
  if (code !== undefined && UNREACHABLE.has(code) && aimsAtDatabase(error, env)) {
    const what = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'unknown host' : code.toLowerCase();
    return explained(`cannot reach PostgreSQL at ${where}: ${what}; start PostgreSQL there, or point ${setting(env).split(' ')[0]} at a running one`);
  }
  if (/timeout expired|Connection terminated due to connection timeout/i.test(message)) {
    return explained(`cannot reach PostgreSQL at ${where}: no answer within the connection timeout. Check the host and port in ${setting(env).split(' ')[0]}`);
  }
  if (code === '28P01' || code === '28000') {
    return explained(`PostgreSQL at ${where} refused the login: ${message}. Fix the user and password in ${setting(env).split(' ')[0]}`);
  }
  if (code === '3D000') {
    return explained(`${message} at ${where}. Create it (createdb) or fix the database name in ${setting(env).split(' ')[0]}`);
  }
  // undefined_table / undefined_function / undefined_column: a schema older than this code.
  if (code === '42P01' || code === '42883' || code === '42703') {
    return explained(`the database at ${where} is not migrated to this version of Precog (${message}): run \`precog migrate\``);
  }
  return undefined;
}
