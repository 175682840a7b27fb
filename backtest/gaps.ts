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
export function findGaps(rows: Iterable<ReplayRow>, maxMinutes: number): TapeGap[] {
  const finder = new GapFinder(maxMinutes);
  for (const r of rows) finder.add(r);
  return finder.gaps;
}

/**
 * findGaps one row at a time, in replay order: the engine's first pass streams the source through
 * it, so the check holds only the games live at the moment, never the tape.
 */
export class GapFinder {
  readonly gaps: TapeGap[] = [];
  private readonly live = new Set<string>();
  private lastData: Date | null = null;

  constructor(private readonly maxMinutes: number) {}

  add(r: ReplayRow): void {
    // A tape's assumed ingestion minutes (TapeSource) say nothing about the data: only recorded rows count.
    const recordedHealth = r.table === 'system_health' && r.row.component === 'ingest-markets' && (r.row.details as { replayed?: string } | null)?.replayed !== 'tape';
    if (r.table === 'markets' || r.table === 'game_states' || recordedHealth) {
      if (this.lastData && this.live.size > 0) {
        const minutes = (r.at.getTime() - this.lastData.getTime()) / 60_000;
        if (minutes > this.maxMinutes) this.gaps.push({ from: this.lastData, to: r.at, minutes: Math.round(minutes * 10) / 10, games: [...this.live].sort() });
      }
      this.lastData = r.at;
    }
    if (r.table === 'game_states') {
      const key = `${r.row.sport}:${r.row.external_game_id}`;
      if (LIVE.has(String(r.row.status))) this.live.add(key);
      else this.live.delete(key);
    }
  }
}
