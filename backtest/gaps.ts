import type { ReplayRow } from './source';

export interface TapeGap {
  from: Date;
  to: Date;
  minutes: number;
  /** The games live during the gap ("sport:external_game_id"). */
  games: string[];
}

const LIVE = new Set(['live', 'halftime']);

/**
 * Stretches longer than `maxMinutes` with no data at all while a game is live: a tape recorded by
 * a stack that stopped ingesting (or an archive with a missing month) would otherwise replay as a
 * frozen market. Data = a market or game-state version, or a recorded ingest-markets health row
 * (ingestion ran and found nothing changed: an unchanged market writes no version, and a market
 * pinned at 0.99 in a decided game can stay unchanged for many minutes while the game clock, a
 * game-state version every minute, shows ingestion was running).
 */
export function findGaps(rows: readonly ReplayRow[], maxMinutes: number): TapeGap[] {
  const gaps: TapeGap[] = [];
  const live = new Set<string>();
  let lastData: Date | null = null;
  const check = (at: Date) => {
    if (lastData && live.size > 0) {
      const minutes = (at.getTime() - lastData.getTime()) / 60_000;
      if (minutes > maxMinutes) gaps.push({ from: lastData, to: at, minutes: Math.round(minutes * 10) / 10, games: [...live].sort() });
    }
  };
  for (const r of rows) {
    // A tape's assumed ingestion minutes (TapeSource) say nothing about the data: only recorded rows count.
    const recordedHealth = r.table === 'system_health' && r.row.component === 'ingest-markets' && (r.row.details as { replayed?: string } | null)?.replayed !== 'tape';
    if (r.table === 'markets' || r.table === 'game_states' || recordedHealth) {
      check(r.at);
      lastData = r.at;
    }
    if (r.table === 'game_states') {
      const key = `${r.row.sport}:${r.row.external_game_id}`;
      if (LIVE.has(String(r.row.status))) live.add(key);
      else live.delete(key);
    }
  }
  return gaps;
}
