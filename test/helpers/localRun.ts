import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { RunReport } from '../../local/report/types';
import type { PortfolioState } from '../../local/sim/kalshiPortfolioSim';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * `npm start` as a child process (node --import tsx local/start.ts: one process, so a SIGKILL
 * kills the runtime itself, as a crash would), against a test database.
 */
export interface LocalRun {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches, rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startLocalRun(args: string[], databaseUrl: string, env: NodeJS.ProcessEnv = {}): LocalRun {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const onData = (chunk: Buffer) => {
    out += String(chunk);
    for (const w of [...waiters]) {
      if (w.pattern.test(out)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 120_000) {
      if (pattern.test(out)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in:\n${out.slice(-3000)}`)), timeoutMs);
        waiters.push({ pattern, resolve: () => { clearTimeout(timer); resolve(); } });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          if (!pattern.test(out)) reject(new Error(`exited (${code ?? signal}) before ${pattern}:\n${out.slice(-3000)}`));
        });
      });
    },
  };
}

export function readReport(reportDir: string): RunReport {
  return JSON.parse(readFileSync(path.join(reportDir, 'report.json'), 'utf8')) as RunReport;
}

/** The simulated venue's account as the runtime saved it. */
export function readVenue(stateFile: string): PortfolioState & { status: string; resumes: number } {
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { portfolio: PortfolioState; status: string; resumes: number };
  return { ...state.portfolio, status: state.status, resumes: state.resumes };
}

/** Exit requests of the run that sold something, by condition. */
export async function filledExitsByCondition(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query(
    `SELECT exit_condition::text AS c, count(*)::int AS n FROM exit_requests WHERE filled_quantity > 0 GROUP BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.c, r.n]));
}

/**
 * One `npm start` of `scenario` on a new test database, to its end: the report.json text
 * (byte for byte), the exit code and the output. `extra`: more arguments (--pace …).
 */
export async function runScenarioToEnd(
  scenario: string,
  dir: string,
  createDatabase: () => Promise<{ url: string; drop(): Promise<void> }>,
  extra: string[] = [],
): Promise<{ reportJson: string; code: number | null; output: string }> {
  const db = await createDatabase();
  try {
    const args = ['--scenario', scenario, '--state', path.join(dir, 'state.json'), '--report-dir', path.join(dir, 'report'), ...extra];
    const run = startLocalRun(args, db.url);
    const { code } = await run.exited;
    const reportJson = code === 0 ? readFileSync(path.join(dir, 'report', 'report.json'), 'utf8') : '';
    return { reportJson, code, output: run.output() };
  } finally {
    await db.drop();
  }
}
