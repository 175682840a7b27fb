import { runCli, type CliIo } from '../../cli/precog';

/** Runs `precog …` in-process against a test database, capturing its output and exit code. */
export async function runPrecog(databaseUrl: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: { DATABASE_URL: databaseUrl, ...env } };
  const code = await runCli(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
