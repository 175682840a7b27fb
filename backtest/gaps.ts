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
 * Stretches longer than `maxMinutes` with no market data while a game is live: a tape recorded by
 * a stack that stopped ingesting (or an archive with a missing month) would otherwise replay as a
 * frozen market. Market data = a market version or an ingest-markets health row (ingestion ran
 * and found nothing changed: an unchanged market writes no version).
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
    if (r.table === 'markets' || (r.table === 'system_health' && r.row.component === 'ingest-markets')) {
      check(r.at);
      lastData = r.at;
    } else if (r.table === 'game_states') {
      const key = `${r.row.sport}:${r.row.external_game_id}`;
      if (LIVE.has(String(r.row.status))) live.add(key);
      else live.delete(key);
    }
  }
  return gaps;
}
