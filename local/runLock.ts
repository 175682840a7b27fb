import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import * as z from 'zod';

/**
 * One process at a time per local resource (an embedded cluster's folder, a run's state file):
 * a lock file holding its owner's pid, created atomically and removed when the owner is done.
 *
 * The file is created by link(2) of a complete temporary file, so another process never reads a
 * half-written lock. A lock whose owner is gone is stale (a run killed with SIGKILL leaves one):
 * the pid no longer runs, or runs a process started later (the pid was reused; Linux's
 * /proc/<pid>/stat start time tells them apart). The next process takes a stale lock over, under
 * a short-lived guard file so that two starts cannot both take it.
 */

export const LockOwner = z.object({
  pid: z.number().int().positive(),
  /** /proc/<pid>/stat's start time (clock ticks since boot), where there is a /proc. */
  processStart: z.string().optional(),
  /** When the owner took the lock (for people). */
  since: z.string(),
  /** The owner's command line (for people). */
  command: z.string(),
});
export type LockOwner = z.infer<typeof LockOwner>;

/** A live process holds the lock. */
export class RunLockHeld extends Error {
  constructor(readonly lockFile: string, readonly owner: LockOwner, readonly resource: string) {
    super(`${resource} is in use by pid ${owner.pid} (${owner.command}, since ${owner.since}); lock file ${lockFile}`);
  }
}

export interface RunLock {
  readonly file: string;
  /** Removes the lock file if it is still this process's. Idempotent; also runs on process exit. */
  release(): void;
}

export interface AcquireOptions {
  /** What the lock guards, for the refusal message ("the embedded PostgreSQL cluster in …"). */
  resource: string;
  /** The command line recorded for whoever is refused (default: this process's argv). */
  command?: string;
}

/**
 * Takes the lock at `file` or throws RunLockHeld naming its live owner. Taking a lock this
 * process already holds succeeds and leaves it held (the outer holder releases it).
 */
export function acquireRunLock(file: string, options: AcquireOptions): RunLock {
  const mine: LockOwner = {
    pid: process.pid, processStart: processStartTime(process.pid), since: new Date().toISOString(),
    command: options.command ?? process.argv.slice(1).join(' '),
  };
  const text = `${JSON.stringify(mine)}\n`;
  // A few rounds: each either takes the lock, refuses, or removes a stale one and tries again.
  for (let round = 0; round < 5; round++) {
    if (createExclusively(file, text)) return heldLock(file, text);
    const found = readLock(file);
    if (!found) continue; // released meanwhile
    if (found.owner && isSameProcess(found.owner, mine)) return { file, release: () => undefined };
    if (found.owner && isRunning(found.owner)) throw new RunLockHeld(file, found.owner, options.resource);
    removeStale(file, found.text, text, options.resource);
  }
  throw new Error(`could not take the lock ${file}: other processes keep taking it`);
}

/** The owner of the lock at `file` if it is alive, else undefined. */
export function liveLockOwner(file: string): LockOwner | undefined {
  const found = readLock(file);
  return found?.owner && isRunning(found.owner) ? found.owner : undefined;
}

/** Whether the process recorded in `owner` still runs (EPERM: it runs, as another user). */
export function isRunning(owner: Pick<LockOwner, 'pid' | 'processStart'>): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.processStart === undefined) return true;
  const start = processStartTime(owner.pid);
  return start === undefined || start === owner.processStart;
}

/** Field 22 of /proc/<pid>/stat (start time since boot), or undefined without a /proc. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so count after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

function isSameProcess(a: LockOwner, b: LockOwner): boolean {
  return a.pid === b.pid && a.processStart === b.processStart;
}

function heldLock(file: string, text: string): RunLock {
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.removeListener('exit', release);
    if (readLock(file)?.text === text) unlinkQuietly(file);
  };
  // process.exit() paths; a death by signal leaves a stale lock, which the next start takes over.
  process.on('exit', release);
  return { file, release };
}

/** Creates `file` holding `text` unless it exists (link(2) fails on an existing name, atomically). */
function createExclusively(file: string, text: string): boolean {
  const staging = `${file}.${process.pid}.tmp`;
  writeFileSync(staging, text, { mode: 0o600 });
  try {
    linkSync(staging, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkQuietly(staging);
  }
}

function readLock(file: string): { text: string; owner?: LockOwner } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let owner: LockOwner | undefined;
  try {
    owner = LockOwner.parse(JSON.parse(text));
  } catch {
    owner = undefined; // not a lock this code wrote (never half-written): stale
  }
  return { text, owner };
}

/**
 * Removes the stale lock `file` (whose content was `staleText`) under the guard `file.takeover`,
 * so that of two processes finding the same stale lock, one removes it and the other then finds
 * the winner's live lock (never removes it).
 */
function removeStale(file: string, staleText: string, mine: string, resource: string): void {
  const guard = `${file}.takeover`;
  if (!createExclusively(guard, mine)) {
    const other = readLock(guard);
    if (other?.owner && isRunning(other.owner)) throw new RunLockHeld(file, other.owner, resource);
    unlinkQuietly(guard); // left by a process that died while taking over
    return;
  }
  try {
    if (readLock(file)?.text === staleText) unlinkQuietly(file);
  } finally {
    unlinkQuietly(guard);
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
