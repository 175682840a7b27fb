import { readFile } from 'node:fs/promises';

/**
 * A usage error found by a command's own checks (a value out of its range, an unreadable input
 * file, a config that does not validate): exit 2, like commander's own usage errors. `issues`
 * lists every problem found (all at once), each naming the field or argument and what is allowed.
 */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
  ) {
    super(issues.length > 0 ? `${message}\n${issues.map((i) => `  ${i}`).join('\n')}` : message);
  }
}

/** Reads a file named on the command line; an unreadable one is a usage error naming it. */
export async function readInputFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new UsageError(`cannot read ${what} ${file}: ${reason}`);
  }
}
