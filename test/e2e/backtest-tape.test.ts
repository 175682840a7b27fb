import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runBacktest } from '../../backtest/engine';
import type { OutcomeTrade } from '../../backtest/outcome';
import { TapeSource } from '../../backtest/tapeSource';
import { Decimal } from '../../shared/domain/decimal';
import { recordedOutcome } from '../helpers/backtest';
import { recordScenarioTape, type RecordedScenarioTape } from '../helpers/tapes';

/** Parity through a tape: `npm start`, its history written as a tape (shared/tape), replayed with --tape. */

const dir = mkdtempSync(path.join(tmpdir(), 'precog-backtest-tape-'));
let recorded: RecordedScenarioTape;
beforeAll(async () => {
  recorded = await recordScenarioTape('blowout', path.join(dir, 'tape'), { keepDatabase: true });
}, 300_000);
afterAll(async () => {
  await recorded?.database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const trade = (t: OutcomeTrade) => ({ at: t.at, market: t.market, side: t.side, action: t.action, count: t.count, price: t.price, fee: t.fee, strategy: t.strategy, model: t.model });

describe('backtest --tape', () => {
  it('replays a tape of a npm start run into that run\'s trades exactly, and names the tape by its tapeId', async () => {
    const source = new TapeSource(recorded.dir);
    const outcome = await runBacktest({
      source, strategies: [{ name: 'pregame_elo', version: 'v1.0' }, { name: 'halftime_entry', version: 'v1.0' }, { name: 'quarter_live', version: 'v1.0' }, { name: 'quarter_live', version: 'v1.1' }],
      balance: new Decimal(2000), seed: 5, serverUrl: inject('adminDatabaseUrl'), applicationServerUrl: inject('applicationServerUrl'), template: inject('templateDatabase'),
    });
    const want = await recordedOutcome(recorded.database!.directUrl);
    expect(want.trades.length).toBeGreaterThan(2);
    expect(outcome.trades.map(trade)).toEqual(want.trades.map(trade));
    expect(outcome.info.tapeId).toBe(recorded.manifest.tapeId);
    expect(outcome.info.source).toBe(`tape ${recorded.dir}`);
  }, 300_000);
});
