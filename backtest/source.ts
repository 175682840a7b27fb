import pg from 'pg';

/**
 * What a replay reads: the recorded history, each row stamped with the time Precog SAW it
 * (`created_at` of a version, `last_check` of a health row), never the venue's own timestamps.
 * Two sources give the same stream: a tape directory (shared/tape, `--tape`) and a Precog database
 * (`--source DATABASE_URL --from --to`, read here).
 *
 * The stream is merged in (seen time, table order, key) order: at one instant the catalog rows
 * come before the market versions that name them, as ingestion wrote them.
 */

/** The tables a replay applies, in the order rows of one instant are applied. */
export const REPLAY_TABLES = ['series', 'events', 'game_identities', 'markets', 'game_states', 'system_health'] as const;
export type ReplayTable = (typeof REPLAY_TABLES)[number];

export interface ReplayRow {
  table: ReplayTable;
  /** When Precog saw it (the virtual instant the replay applies it at). */
  at: Date;
  row: Record<string, unknown>;
}

/** A catalog row set: the versions under test and the data they run on, loaded before the replay starts. */
export interface ReplayCatalog {
  platforms: Record<string, unknown>[];
  strategies: Record<string, unknown>[];
  probabilityModels: Record<string, unknown>[];
  probabilityMatrices: Record<string, unknown>[];
}

export interface ReplaySource {
  /** Names the source in messages and in the outcome ("database postgres://…/precog", "tape ./tapes/x"). */
  readonly label: string;
  /** The time range the source covers ([from, to)); null when it holds no time-series rows at all. */
  coverage(): Promise<{ from: Date; to: Date } | null>;
  catalog(): Promise<ReplayCatalog>;
  /**
   * The rows seen in [from, to), in replay order. A version current at `from` (seen before it and
   * not yet replaced) is given at `from`: the state the replay starts from.
   */
  rows(from: Date, to: Date): AsyncIterable<ReplayRow>;
  close(): Promise<void>;
}

/** Health rows of the ingestion components: the scan, the entry checks and the breakers judge data freshness by them. */
export const INGEST_COMPONENTS = ['ingest-markets', 'ingest-game-states'] as const;

const TABLE_ORDER = new Map<ReplayTable, number>(REPLAY_TABLES.map((t, i) => [t, i]));

/** Replay order: seen time, then table order, then the row's key (already the order within a table). */
export function compareReplayRows(a: ReplayRow, b: ReplayRow): number {
  return a.at.getTime() - b.at.getTime() || TABLE_ORDER.get(a.table)! - TABLE_ORDER.get(b.table)!;
}

/**
 * A Precog database as the source (`--source`): read-only, one transaction of REPEATABLE READ so
 * the replay sees one consistent snapshot however long it reads.
 */
export class DatabaseSource implements ReplaySource {
  readonly label: string;
  private readonly client: pg.Client;
  private opened: Promise<void> | undefined;

  constructor(private readonly url: string) {
    const shown = new URL(url);
    shown.password = '';
    shown.username = '';
    this.label = `database ${shown.host}${shown.pathname}`;
    this.client = new pg.Client({ connectionString: url });
  }

  private open(): Promise<void> {
    this.opened ??= (async () => {
      await this.client.connect();
      await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    })();
    return this.opened;
  }

  private async query(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    await this.open();
    return (await this.client.query(sql, params)).rows;
  }

  async coverage(): Promise<{ from: Date; to: Date } | null> {
    const [r] = await this.query(
      `SELECT least((SELECT min(created_at) FROM markets), (SELECT min(created_at) FROM game_states)) AS first,
              greatest((SELECT max(created_at) FROM markets), (SELECT max(created_at) FROM game_states),
                       (SELECT max(last_check) FROM system_health WHERE component = ANY($1::text[]))) AS last`,
      [[...INGEST_COMPONENTS]],
    );
    if (!r?.first || !r.last) return null;
    // Covered up to the last row seen, inclusive: [first, last + 1 ms).
    return { from: r.first as Date, to: new Date((r.last as Date).getTime() + 1) };
  }

  async catalog(): Promise<ReplayCatalog> {
    return {
      platforms: await this.query('SELECT * FROM platforms ORDER BY platform_id'),
      strategies: await this.query('SELECT * FROM strategies ORDER BY strategy_id'),
      probabilityModels: await this.query('SELECT * FROM probability_models ORDER BY model_id'),
      probabilityMatrices: await this.query('SELECT * FROM probability_matrices ORDER BY probability_id'),
    };
  }

  async *rows(from: Date, to: Date): AsyncIterable<ReplayRow> {
    const at = (seen: unknown): Date => {
      const t = seen as Date;
      return t.getTime() < from.getTime() ? from : t;
    };
    const range = [from.toISOString(), to.toISOString()];
    const all: ReplayRow[] = [];
    // Catalog rows of the data (series, events, game identities) appear when Precog first stored them.
    for (const r of await this.query('SELECT * FROM series WHERE created_at < $2 AND $1::timestamptz IS NOT NULL ORDER BY series_id', range)) {
      all.push({ table: 'series', at: at(r.created_at), row: r });
    }
    for (const r of await this.query('SELECT * FROM events WHERE created_at < $2 AND $1::timestamptz IS NOT NULL ORDER BY event_id', range)) {
      all.push({ table: 'events', at: at(r.created_at), row: r });
    }
    for (const r of await this.query(
      'SELECT * FROM game_identities WHERE created_at < $2 AND $1::timestamptz IS NOT NULL ORDER BY sport, external_game_id', range,
    )) {
      all.push({ table: 'game_identities', at: at(r.created_at), row: r });
    }
    // Versions seen in the window, and those current at its start.
    for (const r of await this.query(
      `SELECT * FROM markets WHERE created_at < $2 AND (superseded_at IS NULL OR superseded_at > $1)
        ORDER BY created_at, market_id, market_version_id`, range,
    )) {
      all.push({ table: 'markets', at: at(r.created_at), row: r });
    }
    for (const r of await this.query(
      `SELECT * FROM game_states WHERE created_at < $2 AND (superseded_at IS NULL OR superseded_at > $1)
        ORDER BY created_at, sport, external_game_id, game_state_id`, range,
    )) {
      all.push({ table: 'game_states', at: at(r.created_at), row: r });
    }
    // Ingestion's health: in the window, and the latest of each component before it.
    for (const r of await this.query(
      `SELECT * FROM system_health h WHERE component = ANY($3::text[]) AND last_check < $2
          AND (last_check >= $1 OR last_check = (SELECT max(last_check) FROM system_health x WHERE x.component = h.component AND x.last_check < $1))
        ORDER BY last_check, health_id`, [...range, [...INGEST_COMPONENTS]],
    )) {
      all.push({ table: 'system_health', at: at(r.last_check), row: r });
    }
    // Stable sort: within a table and instant, the order each query gave (its key).
    all.sort(compareReplayRows);
    yield* all;
  }

  async close(): Promise<void> {
    if (this.opened) {
      await this.opened.catch(() => undefined);
      await this.client.end().catch(() => undefined);
    }
  }
}
