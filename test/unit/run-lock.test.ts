import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acquireRunLock, processStartTime, RunLockHeld, type LockOwner } from '../../local/runLock';

/**
 * The lock `npm start` takes per cluster and per state file (local/runLock.ts): held by a live
 * process → refused, naming it; left by a dead one (or by a process whose pid was since reused) →
 * taken over; released only by its owner.
 */

let dir: string;
let other: ChildProcess;
const resource = 'the test resource';

/** A live process that is not this one (a pid the lock must respect). */
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'precog-run-lock-'));
  other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30); console.log("up")'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((resolve) => other.stdout!.once('data', resolve));
});
afterAll(async () => {
  const exited = new Promise((resolve) => other.once('exit', resolve));
  other.kill();
  await exited;
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
let file: string;
afterEach(() => {
  n++;
});
const lockFile = () => (file = path.join(dir, `lock-${n}`));

function ownerText(owner: Partial<LockOwner> & { pid: number }): string {
  return JSON.stringify({ since: '2026-12-07T10:00:00.000Z', command: 'npm start -- --serve', ...owner });
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('acquireRunLock', () => {
  it('creates the lock file (0600, this pid and command) and release removes it', () => {
    const lock = acquireRunLock(lockFile(), { resource, command: 'npm start' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, command: 'npm start', processStart: processStartTime(process.pid) });
    lock.release();
    expect(existsSync(file)).toBe(false);
    lock.release(); // idempotent
  });

  it("refuses a live process's lock with RunLockHeld naming its pid, command and the resource, and leaves the file as it was", () => {
    const text = ownerText({ pid: other.pid!, processStart: processStartTime(other.pid!) });
    writeFileSync(lockFile(), text);
    const refusal = (() => {
      try {
        acquireRunLock(file, { resource });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(RunLockHeld);
    expect((refusal as RunLockHeld).owner.pid).toBe(other.pid);
    expect((refusal as Error).message).toBe(
      `the test resource is in use by pid ${other.pid} (npm start -- --serve, since 2026-12-07T10:00:00.000Z); lock file ${file}`,
    );
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it.each([
    ['its process is gone', async () => ownerText({ pid: await deadPid() })],
    ['its pid now runs a later process (pid reused)', async () => ownerText({ pid: other.pid!, processStart: '1' })],
    ['it is not a lock this code wrote', async () => 'garbage'],
    ['it is empty', async () => ''],
  ])('takes a stale lock over when %s', async (_, content) => {
    writeFileSync(lockFile(), await content());
    const lock = acquireRunLock(file, { resource });
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    expect(existsSync(`${file}.takeover`)).toBe(false);
    lock.release();
  });

  it('taken again by its holder, it stays held until the holder releases it', () => {
    const outer = acquireRunLock(lockFile(), { resource });
    const inner = acquireRunLock(file, { resource });
    inner.release();
    expect(existsSync(file)).toBe(true);
    outer.release();
    expect(existsSync(file)).toBe(false);
  });

  it("release leaves a lock that is no longer this process's (another took it over)", () => {
    const lock = acquireRunLock(lockFile(), { resource });
    const theirs = ownerText({ pid: other.pid! });
    writeFileSync(file, theirs);
    lock.release();
    expect(readFileSync(file, 'utf8')).toBe(theirs);
  });

  it('refuses while a live process is taking the same stale lock over', async () => {
    writeFileSync(lockFile(), ownerText({ pid: await deadPid() }));
    writeFileSync(`${file}.takeover`, ownerText({ pid: other.pid! }));
    expect(() => acquireRunLock(file, { resource })).toThrow(RunLockHeld);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).not.toBe(process.pid);
  });
});
