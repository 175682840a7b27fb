import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../backtest/engine';
import { GapFinder, findGaps } from '../../backtest/gaps';
import { InstantReader } from '../../backtest/instants';
import type { ReplayRow, ReplaySource } from '../../backtest/source';
import { Decimal } from '../../shared/domain/decimal';

const T0 = Date.parse('2026-09-13T17:00:00Z');
const row = (minute: number, table: ReplayRow['table'], id: string, status = 'live'): ReplayRow => ({
  table, at: new Date(T0 + minute * 60_000), row: { sport: 'nfl', external_game_id: id, market_id: id, status },
});

/** A row stream that records how far it has been read. */
function counted(rows: ReplayRow[]): { stream: AsyncIterable<ReplayRow>; read: () => number } {
  let read = 0;
  return {
    stream: (async function* () {
      for (const r of rows) {
        read++;
        yield r;
      }
    })(),
    read: () => read,
  };
}

describe('streamed replay input', () => {
  it('InstantReader gives the rows of one instant per batch, in order, reading at most one row past the batch', async () => {
    const rows = [row(0, 'markets', 'A'), row(0, 'game_states', 'G'), row(1, 'markets', 'A'), row(3, 'markets', 'A'), row(3, 'markets', 'B'), row(3, 'game_states', 'G')];
    const { stream, read } = counted(rows);
    const reader = new InstantReader(stream);
    expect(await reader.next()).toEqual(rows.slice(0, 2));
    expect(read()).toBe(3); // the lookahead row that ended the instant, nothing more
    expect(await reader.next()).toEqual(rows.slice(2, 3));
    expect(read()).toBe(4);
    expect(await reader.next()).toEqual(rows.slice(3, 6));
    expect(await reader.next()).toBeNull();
    expect(await reader.next()).toBeNull();
  });

  it('GapFinder fed one row at a time finds what findGaps finds on the whole array', () => {
    const rows = [row(0, 'markets', 'A'), row(1, 'game_states', 'G'), row(2, 'markets', 'A'), row(10, 'markets', 'A'), row(11, 'game_states', 'G', 'final'), row(30, 'markets', 'A')];
    const finder = new GapFinder(5);
    for (const r of rows) finder.add(r);
    expect(finder.gaps).toEqual(findGaps(rows, 5));
    expect(finder.gaps).toEqual([{ from: new Date(T0 + 2 * 60_000), to: new Date(T0 + 10 * 60_000), minutes: 8, games: ['nfl:G'] }]);
  });

  it('runBacktest refuses a source with a gap from its streamed first pass, before it creates any database', async () => {
    const rows = [row(0, 'markets', 'A'), row(1, 'game_states', 'G'), row(2, 'markets', 'A'), row(10, 'markets', 'A'), row(11, 'game_states', 'G', 'final')];
    const source: ReplaySource = {
      label: 'tape in memory',
      coverage: async () => ({ from: new Date(T0), to: new Date(T0 + 12 * 60_000) }),
      catalog: async () => ({
        platforms: [], probabilityMatrices: [],
        probabilityModels: [{ model_id: '1', model_name: 'nfl_matrix', model_version: 'v1.0', config: {} }],
        strategies: [{ strategy_id: '1', strategy_name: 'quarter_live', strategy_version: 'v1.0', config: { model: { name: 'nfl_matrix', version: 'v1.0' } } }],
      }),
      rows: () => counted(rows).stream,
      close: async () => undefined,
    };
    // Nothing listens on port 1: reaching for the server would fail with another error.
    await expect(runBacktest({ source, strategies: [{ name: 'quarter_live', version: 'v1.0' }], balance: new Decimal(100), seed: 1, serverUrl: 'postgres://127.0.0.1:1/postgres' }))
      .rejects.toThrow('tape in memory has a gap: no market or game data from 2026-09-13T17:02:00.000Z to 2026-09-13T17:10:00.000Z (8 minutes) while nfl:G was live');
  });
});
