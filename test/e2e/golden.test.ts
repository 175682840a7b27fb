import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SHIPPED_SCENARIOS } from '../../local/sim/scenario';
import { createTestDatabase } from '../helpers/database';
import { runScenarioToEnd } from '../helpers/localRun';

/**
 * Every shipped scenario against its golden report (test/e2e/golden/<scenario>.report.json),
 * byte for byte: every trade, exit, attempt, sample and the final P&L to the cent. A rule or a
 * scenario changed on purpose: regenerate them with `npm run golden` (docs/testing.md) and review
 * the diff like code.
 */

const GOLDEN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.sequential('golden reports', () => {
  it.each(SHIPPED_SCENARIOS)('%s: report.json equals its golden file byte for byte', async (scenario) => {
    const dir = mkdtempSync(path.join(tmpdir(), `precog-golden-${scenario}-`));
    dirs.push(dir);
    const run = await runScenarioToEnd(scenario, dir, createTestDatabase);
    expect(run.code, run.output.slice(-3000)).toBe(0);
    const golden = path.join(GOLDEN_DIR, `${scenario}.report.json`);
    if (UPDATE) {
      writeFileSync(golden, run.reportJson);
      return;
    }
    if (!existsSync(golden)) throw new Error(`no golden report ${golden}: run \`npm run golden\` and commit it`);
    expect(run.reportJson, `differs from ${golden}: if the change is on purpose, \`npm run golden\` and review the diff`).toBe(readFileSync(golden, 'utf8'));
  }, 600_000);
});
