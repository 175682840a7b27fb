import type pg from 'pg';
import { ManualClock, useClock } from '../../shared/clock/clock';
import { EventRepository, MarketRepository, SeriesRepository, withTransaction, type MarketSnapshot } from '../../shared/db';
import { GAME_STATES } from '../../shared/db/versionedTables';
import { versionedUpsert, type SnapshotRow } from '../../shared/db/versionedUpsert';
import { Decimal } from '../../shared/domain/decimal';
import { DEFAULT_PRICE_LEVELS } from '../../shared/domain/priceLevels';
import { EVENT_STATUS_OF_GAME } from '../../shared/ingestion/ingestGameStates';
import { MATCH_RULE } from '../../shared/ingestion/gameMatching';
import { writeTape, type ArchiveStore, type Manifest } from '../../shared/tape';
import { seededRandom } from '../../shared/backtest/metrics';
import { seedLocalDatabase } from '../../local/seed';

/**
 * A synthetic tape of NFL Sundays for the backtest bench (issue 19): 13 games a Sunday, kickoffs
 * at 13:00 (7 games), 16:05 (2), 16:25 (3) and 20:20 (1) US Eastern, both winner markets of each
 * game versioned every minute from 30 minutes before kickoff with bid/ask moving around a true
 * probability, a game state every minute (period, clock, score, status, possession), the results
 * at the end (settled markets with their settlement value, final games), and the catalog as
 * `npm start` seeds it (local/seed.ts: the shipped nfl_matrix v1.0 model and its matrix, elo_nfl,
 * quarter_live v1.0 and v1.1, halftime_entry v1.0, pregame_elo v1.0).
 *
 * Every row is written the way ingestion writes it: through the repositories and the versioned
 * upsert, one transaction a minute for the markets and one for the games, on a virtual clock, so
 * created_at is the minute the version was "seen". Then writeTape exports the whole window.
 * Deterministic for a seed on a fresh database. Memory: the generator keeps 13 games' state; the
 * tape is exported in cursor batches.
 */

export interface SyntheticSundaysOptions {
  /** A fresh migrated database to write the history into (the bench's freshDatabase()). */
  db: pg.Pool;
  sundays: number;
  seed: number;
  /** The first Sunday (YYYY-MM-DD, default 2026-09-13); the next ones follow weekly. */
  firstSunday?: string;
}

export interface SyntheticSundays {
  manifest: Manifest;
  window: { from: Date; to: Date };
  /** Versions written: what the tape's time series hold. */
  versions: { markets: number; gameStates: number };
  games: number;
}

const TEAMS = [
  'ARI', 'ATL', 'BAL', 'BUF', 'CAR', 'CHI', 'CIN', 'CLE', 'DAL', 'DEN', 'DET', 'GB', 'HOU', 'IND', 'JAX', 'KC',
  'LAC', 'LAR', 'LV', 'MIA', 'MIN', 'NE', 'NO', 'NYG', 'NYJ', 'PHI', 'PIT', 'SEA', 'SF', 'TB', 'TEN', 'WAS',
] as const;
/** Kickoff slots of a Sunday slate, US Eastern wall time: [hour, minute, games]. */
const SLOTS: ReadonlyArray<readonly [number, number, number]> = [[13, 0, 7], [16, 5, 2], [16, 25, 3], [20, 20, 1]];
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const MINUTE = 60_000;
/** Minutes after kickoff: Q1 0-45, Q2 45-90, halftime 90-110, Q3 110-155, Q4 155-200, final at 200. */
const QUARTER_MINUTES = 45;
const HALFTIME = { start: 90, end: 110 };
const GAME_MINUTES = 200;
const PREGAME_MINUTES = 30;


/** UTC offset of US Eastern on a date: EDT (-4) from the second Sunday of March to the first Sunday of November. */
function easternOffsetHours(year: number, month: number, day: number): number {
  const nthSunday = (m: number, n: number) => {
    const first = new Date(Date.UTC(year, m, 1)).getUTCDay();
    return 1 + ((7 - first) % 7) + 7 * (n - 1);
  };
  const afterStart = month > 2 || (month === 2 && day >= nthSunday(2, 2));
  const beforeEnd = month < 10 || (month === 10 && day < nthSunday(10, 1));
  return afterStart && beforeEnd ? -4 : -5;
}

interface Game {
  eventId: string;
  espnId: string;
  home: string;
  away: string;
  kickoffMs: number;
  /** Home team's strength in points (the market's pre-game view comes from it). */
  strength: number;
  homeScore: number;
  awayScore: number;
  possession: 'home' | 'away';
  volume: number;
}

/** Where the game is `minute` minutes after kickoff. */
function phase(minute: number): { status: 'scheduled' | 'live' | 'halftime' | 'final'; quarter: number; clockSeconds: number; remainingFraction: number } {
  if (minute < 0) return { status: 'scheduled', quarter: 0, clockSeconds: 900, remainingFraction: 1 };
  if (minute >= GAME_MINUTES) return { status: 'final', quarter: 4, clockSeconds: 0, remainingFraction: 0 };
  if (minute >= HALFTIME.start && minute < HALFTIME.end) return { status: 'halftime', quarter: 2, clockSeconds: 0, remainingFraction: 0.5 };
  const played = minute < HALFTIME.start ? minute : minute - (HALFTIME.end - HALFTIME.start);
  const quarter = Math.min(4, Math.floor(played / QUARTER_MINUTES) + 1);
  const intoQuarter = played - (quarter - 1) * QUARTER_MINUTES;
  const clockSeconds = Math.max(0, Math.round(900 * (1 - intoQuarter / QUARTER_MINUTES)));
  return { status: 'live', quarter, clockSeconds, remainingFraction: ((4 - quarter) * 900 + clockSeconds) / 3600 };
}

/**
 * The home team's true win chance in whole cents (1-99): a logistic of the lead plus the part of
 * the strength still to play, over the time left. Integer cents: the generator never holds a
 * price in a float, only a count of ticks that becomes a Decimal.
 */
function fairCents(game: Game, remainingFraction: number): number {
  const lead = game.homeScore - game.awayScore;
  const expected = lead + game.strength * remainingFraction;
  const scale = 2 + 13.5 * Math.sqrt(remainingFraction);
  const p = 1 / (1 + Math.exp(-expected / scale));
  return Math.min(99, Math.max(1, Math.round(p * 100)));
}

const cents = (n: number) => new Decimal(n).div(100);

function clock(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/**
 * Writes `sundays` synthetic NFL Sundays into `options.db` and their tape into `store` (empty).
 * Returns the manifest and what was written.
 */
export async function writeSyntheticSundays(store: ArchiveStore, options: SyntheticSundaysOptions): Promise<SyntheticSundays> {
  if (!Number.isInteger(options.sundays) || options.sundays < 1) throw new RangeError(`sundays must be a whole number ≥ 1, not ${options.sundays}`);
  const random = seededRandom(options.seed);
  const [y, m, d] = (options.firstSunday ?? '2026-09-13').split('-').map(Number) as [number, number, number];
  const first = Date.UTC(y, m - 1, d);
  if (new Date(first).getUTCDay() !== 0) throw new RangeError(`firstSunday ${options.firstSunday} is not a Sunday`);

  const games: Game[] = [];
  for (let s = 0; s < options.sundays; s++) {
    const day = new Date(first + s * 7 * 86_400_000);
    const offset = easternOffsetHours(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
    const teams = [...TEAMS];
    for (let i = teams.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [teams[i], teams[j]] = [teams[j]!, teams[i]!];
    }
    let g = 0;
    for (const [hour, minute, count] of SLOTS) {
      for (let k = 0; k < count; k++, g++) {
        const away = teams[2 * g]!;
        const home = teams[2 * g + 1]!;
        const date = `${String(day.getUTCFullYear()).slice(2)}${MONTHS[day.getUTCMonth()]}${String(day.getUTCDate()).padStart(2, '0')}`;
        games.push({
          eventId: `KXNFLGAME-${date}${away}${home}`,
          espnId: `4017${String(s).padStart(2, '0')}${String(g).padStart(2, '0')}`,
          home, away,
          kickoffMs: Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hour - offset, minute),
          strength: Math.round((random() * 2 - 1) * 7 + 2.5), // ± a touchdown, plus home field
          homeScore: 0, awayScore: 0, possession: random() < 0.5 ? 'home' : 'away', volume: 0,
        });
      }
    }
  }

  const pool = options.db;
  const from = new Date(Math.min(...games.map((g) => g.kickoffMs)) - PREGAME_MINUTES * MINUTE);
  const last = Math.max(...games.map((g) => g.kickoffMs)) + GAME_MINUTES * MINUTE;
  const virtual = new ManualClock(from.getTime() - 60 * MINUTE);
  const restore = useClock(virtual);
  let marketVersions = 0;
  let gameVersions = 0;
  try {
    await seedLocalDatabase(pool, 'synthetic tape');
    await new SeriesRepository(pool).upsertMany([{
      seriesId: 'KXNFLGAME', platformId: 'kalshi', externalId: 'KXNFLGAME', category: 'sports', subcategory: 'nfl',
      title: 'Professional Football Game', frequency: 'custom', metadata: { fee_type: 'quadratic', fee_multiplier: 1 },
    }]);
    await new EventRepository(pool).upsertMany(games.map((g) => {
      const kickoff = new Date(g.kickoffMs);
      const off = easternOffsetHours(kickoff.getUTCFullYear(), kickoff.getUTCMonth(), kickoff.getUTCDate());
      const local = new Date(g.kickoffMs + off * 3_600_000);
      return {
        eventId: g.eventId, platformId: 'kalshi', seriesId: 'KXNFLGAME', externalId: g.eventId, category: 'sports', subcategory: 'nfl',
        title: `${g.away} at ${g.home}`, description: `${g.away} at ${g.home}`,
        metadata: { game_date: local.toISOString().slice(0, 10), teams: `${g.away}${g.home}`, mutually_exclusive: true },
      };
    }));
    const markets = new MarketRepository(pool);

    // Minute by minute from the first pre-game market to the last final: both writers of a minute
    // (markets, games) like the ingest functions, each one transaction, only for games on the board.
    for (let t = from.getTime(); t <= last; t += MINUTE) {
      const active = games.filter((g) => t >= g.kickoffMs - PREGAME_MINUTES * MINUTE && t <= g.kickoffMs + GAME_MINUTES * MINUTE);
      if (active.length === 0) continue;
      await virtual.set(t);
      const snapshots: MarketSnapshot[] = [];
      const states: SnapshotRow[] = [];
      const eventStatus: Array<{ eventId: string; status: string }> = [];
      for (const game of active) {
        const minute = Math.round((t - game.kickoffMs) / MINUTE);
        const now = phase(minute);
        if (now.status === 'live') {
          // A score about every 16 live minutes: a touchdown (7) twice as often as a field goal (3).
          if (random() < 1 / 16) {
            const points = random() < 2 / 3 ? 7 : 3;
            if (game.possession === 'home') game.homeScore += points;
            else game.awayScore += points;
            game.possession = game.possession === 'home' ? 'away' : 'home';
          } else if (random() < 1 / 8) {
            game.possession = game.possession === 'home' ? 'away' : 'home';
          }
        }
        states.push({
          sport: 'nfl', external_game_id: game.espnId, event_id: game.eventId, home_team: game.home, away_team: game.away,
          home_score: now.status === 'scheduled' ? null : game.homeScore, away_score: now.status === 'scheduled' ? null : game.awayScore,
          period: now.status === 'live' ? `Q${now.quarter}` : now.status === 'halftime' ? 'Halftime' : now.status === 'final' ? 'Final' : null,
          time_remaining: now.status === 'live' ? clock(now.clockSeconds) : null,
          possession: now.status === 'live' ? game.possession : null,
          status: now.status,
          sport_metadata: {
            statusName: { scheduled: 'STATUS_SCHEDULED', live: 'STATUS_IN_PROGRESS', halftime: 'STATUS_HALFTIME', final: 'STATUS_FINAL' }[now.status],
            ...(now.status === 'live' ? { periodNumber: now.quarter, clockSeconds: now.clockSeconds } : {}),
          },
        });
        eventStatus.push({ eventId: game.eventId, status: EVENT_STATUS_OF_GAME[now.status] });

        const homeTicker = `${game.eventId}-${game.home}`;
        const awayTicker = `${game.eventId}-${game.away}`;
        const base = { platformId: 'kalshi', eventId: game.eventId, marketType: 'binary' as const, title: `${game.away} at ${game.home} Winner?`,
          closeTime: new Date(game.kickoffMs + GAME_MINUTES * MINUTE), priceLevelStructure: 'linear_cent', priceLevels: DEFAULT_PRICE_LEVELS };
        if (now.status === 'final') {
          const homeWon = game.homeScore > game.awayScore || (game.homeScore === game.awayScore && game.strength >= 0);
          for (const [ticker, team, won] of [[homeTicker, game.home, homeWon], [awayTicker, game.away, !homeWon]] as const) {
            snapshots.push({ ...base, marketId: ticker, externalId: ticker, ticker, status: 'settled', settlementValue: new Decimal(won ? 1 : 0),
              yesPrice: null, noPrice: null, yesBid: null, noBid: null, spread: null, lastPrice: cents(won ? 99 : 1),
              volume: game.volume, openInterest: Math.floor(game.volume / 3), metadata: { yes_sub_title: team, result: won ? 'yes' : 'no' } });
          }
          continue;
        }
        const fair = fairCents(game, now.remainingFraction);
        const spread = 1 + Math.floor(random() * 3);
        const noise = Math.floor(random() * 5) - 2;
        const homeAsk = Math.min(99, Math.max(spread + 1, fair + Math.ceil(spread / 2) + noise));
        const homeBid = homeAsk - spread;
        game.volume += Math.floor(random() * 400);
        for (const [ticker, team, bid, ask] of [[homeTicker, game.home, homeBid, homeAsk], [awayTicker, game.away, 100 - homeAsk, 100 - homeBid]] as const) {
          snapshots.push({ ...base, marketId: ticker, externalId: ticker, ticker, status: 'open', settlementValue: null,
            yesPrice: cents(ask), yesBid: cents(bid), noPrice: cents(100 - bid), noBid: cents(100 - ask), spread: cents(ask - bid),
            lastPrice: cents(bid + Math.floor(random() * (ask - bid + 1))), volume: game.volume, openInterest: Math.floor(game.volume / 3),
            metadata: { yes_sub_title: team, result: '' } });
        }
      }
      marketVersions += (await markets.upsertSnapshots(snapshots)).inserted;
      gameVersions += await withTransaction(pool, async (client) => {
        await client.query(
          `INSERT INTO game_identities (sport, external_game_id, start_time, home_team, away_team)
           SELECT 'nfl', * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
          [active.map((g) => g.espnId), active.map((g) => new Date(g.kickoffMs).toISOString()), active.map((g) => g.home), active.map((g) => g.away)],
        );
        await client.query(
          `UPDATE game_identities g SET event_id = u.event_id, match_rule = $3, matched_at = precog_now()
           FROM unnest($1::text[], $2::text[]) AS u(external_game_id, event_id)
           WHERE g.sport = 'nfl' AND g.external_game_id = u.external_game_id AND g.event_id IS NULL`,
          [active.map((g) => g.espnId), active.map((g) => g.eventId), MATCH_RULE],
        );
        const written = await versionedUpsert(client, GAME_STATES, states);
        await client.query(
          `UPDATE events e SET status = u.status FROM unnest($1::text[], $2::text[]) AS u(event_id, status)
           WHERE e.event_id = u.event_id AND e.status IS DISTINCT FROM u.status`,
          [eventStatus.map((e) => e.eventId), eventStatus.map((e) => e.status)],
        );
        return written.inserted;
      });
    }
  } finally {
    restore();
  }
  const window = { from, to: new Date(last + MINUTE) };
  const manifest = await writeTape(pool, window, store);
  return { manifest, window, versions: { markets: marketVersions, gameStates: gameVersions }, games: games.length };
}
