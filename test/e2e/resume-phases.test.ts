import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database';
import { runScenarioToEnd, startLocalRun } from '../helpers/localRun';

/**
 * Issue 18: a resume from every saved phase finishes, including after the final whistle and after
 * settlement (before: "resuming at game time SETTLED" hung until --new-run). The run is stopped as
 * Ctrl-C stops it, at the first minute of a phase (PRECOG_LOCAL_STOP_AT, a test hook of
 * local/runtime.ts), then started again: it must finish with the report of an uninterrupted run.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const newDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'precog-resume-phase-'));
  dirs.push(d);
  return d;
};

describe.sequential('resume from every phase', () => {
  let uninterrupted: string;

  it.each(['PRE', 'Q2', 'HT', 'Q4', 'FINAL', 'SETTLED'])('stopped at %s and started again: it finishes with the uninterrupted report', async (phase) => {
    uninterrupted ??= (await runScenarioToEnd('blowout', newDir(), createTestDatabase)).reportJson;
    expect(uninterrupted).not.toBe('');
    const db = await createTestDatabase();
    try {
      const dir = newDir();
      const args = ['--scenario', 'blowout', '--state', path.join(dir, 'state.json'), '--report-dir', path.join(dir, 'report')];
      const first = startLocalRun(args, db.url, { PRECOG_LOCAL_STOP_AT: phase });
      const stopped = await first.exited;
      expect(stopped.code, first.output().slice(-3000)).toBe(130);
      expect(first.output()).toMatch(new RegExp(`^${phase}\\b`, 'm'));

      const second = startLocalRun(args, db.url);
      const { code } = await second.exited;
      expect(code, second.output().slice(-3000)).toBe(0);
      expect(second.output()).toMatch(/resuming blowout/);
      const resumed = JSON.parse(readFileSync(path.join(dir, 'report', 'report.json'), 'utf8'));
      expect(JSON.stringify({ ...resumed, resumed: null }, null, 2)).toBe(JSON.stringify({ ...JSON.parse(uninterrupted), resumed: null }, null, 2));
    } finally {
      await db.drop();
    }
  }, 300_000);
});
