import { describe, expect, it } from 'vitest';
import { findGaps } from '../../backtest/gaps';
import type { ReplayRow } from '../../backtest/source';

const T0 = Date.parse('2026-09-13T17:00:00Z');
const at = (minute: number) => new Date(T0 + minute * 60_000);
const game = (minute: number, status: string): ReplayRow => ({ table: 'game_states', at: at(minute), row: { sport: 'nfl', external_game_id: 'G1', status } });
const market = (minute: number): ReplayRow => ({ table: 'markets', at: at(minute), row: { market_id: 'M' } });
const health = (minute: number, replayed?: string): ReplayRow => ({
  table: 'system_health', at: at(minute), row: { component: 'ingest-markets', status: 'healthy', details: replayed ? { replayed } : {} },
});

describe('tape gaps', () => {
  it('a stretch with no data at all while a game is live is a gap, named with its games and length', () => {
    const gaps = findGaps([market(0), game(1, 'live'), market(2), market(10), game(11, 'final')], 5);
    expect(gaps).toEqual([{ from: at(2), to: at(10), minutes: 8, games: ['nfl:G1'] }]);
  });

  it('no gap when recorded ingestion or the game clock shows data kept coming (a market pinned in a decided game), or no game is live', () => {
    const minutes = Array.from({ length: 10 }, (_, i) => i + 2);
    expect(findGaps([market(0), game(1, 'live'), ...minutes.map((m) => health(m)), market(12)], 5)).toEqual([]);
    expect(findGaps([market(0), game(1, 'live'), ...minutes.map((m) => game(m, 'live')), market(12)], 5)).toEqual([]);
    expect(findGaps([market(0), game(1, 'final'), market(30)], 5)).toEqual([]);
  });

  it('the ingestion minutes a tape replay assumes are not data', () => {
    const minutes = Array.from({ length: 10 }, (_, i) => i + 2);
    expect(findGaps([market(0), game(1, 'live'), ...minutes.map((m) => health(m, 'tape')), market(12)], 5)).toHaveLength(1);
  });
});
