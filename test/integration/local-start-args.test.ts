import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm start` (local/start.ts) refuses bad arguments with exit code 2 and a message naming the
 * option, and answers --list and --help, all before it reaches for PostgreSQL: DATABASE_URL points
 * at a closed port, so a run that did try to use the database would fail with 1 instead.
 */

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NO_DATABASE = 'postgres://nobody@127.0.0.1:1/no_database';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'precog-start-args-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function start(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', ...args], {
      cwd: REPO_ROOT,
      // The state file and report would go under tmp if a run ever started.
      env: { ...process.env, DATABASE_URL: NO_DATABASE, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm start: arguments', () => {
  it.each([
    [['--pace', '0'], /--pace must be a number of game seconds per wall second from 1 to 100000, not "0"/],
    [['--pace', 'fast'], /--pace must be .* not "fast"/],
    [['--pace', '200000'], /--pace must be .* not "200000"/],
    [['--speed=-3'], /--speed must be a number of game seconds per wall second .* not "-3"/],
    [['--pace', '60', '--speed', '120'], /--speed is another name for --pace: give one of them/],
    [['--balance', '-5'], /--balance/],
    [['--balance=-5'], /--balance must be dollars like 2000 or 2500\.50, not "-5"/],
    [['--balance', '12.345'], /--balance must be dollars .* not "12\.345"/],
    [['--no-such-flag'], /--no-such-flag/],
  ])('%j: exit code 2 and a message naming the option', async (args, message) => {
    const { code, stdout, stderr } = await start(...args);
    expect({ code, stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
    expect(stdout).toBe('');
    // Nothing was started: no embedded PostgreSQL, no database error.
    expect(stderr).not.toMatch(/ECONNREFUSED|embedded PostgreSQL|precog:/);
  });

  it('--list: exit 0, one line per shipped scenario with its description, the default marked', async () => {
    const { code, stdout, stderr } = await start('--list');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(['sunday-slate', 'comeback', 'blowout', 'illiquid']);
    expect(lines[0]).toMatch(/^sunday-slate\s+\(default\) Three games at once/);
    expect(lines[1]).toMatch(/^comeback\s+Buffalo at Kansas City/);
    expect(lines.filter((l) => l.includes('(default)'))).toHaveLength(1);
  });

  it('--help and -h: exit 0 with the usage', async () => {
    for (const flag of ['--help', '-h']) {
      const { code, stdout, stderr } = await start(flag);
      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect(stdout).toMatch(/^usage: npm start -- \[--scenario NAME\|FILE\] \[--pace N\]/);
      expect(stdout).toContain('--balance DOLLARS');
    }
  });

  it('wrote nothing: no state file, no key file (tsx keeps its compile cache there, nothing else)', async () => {
    expect((await readdir(tmp)).filter((name) => !name.startsWith('tsx'))).toEqual([]);
  });
});
