import type pg from 'pg';
import { withTransaction } from '../shared/db/transaction';
import { GAME_STATES, MARKETS } from '../shared/db/versionedTables';
import { versionedUpsert, type SnapshotRow, type VersionedTableSpec } from '../shared/db/versionedUpsert';
import { EVENT_STATUS_OF_GAME } from '../shared/ingestion/ingestGameStates';
import type { ReplayRow, ReplayTable } from './source';

/**
 * Applies the recorded rows of one instant to the replay database, in one transaction, on the
 * virtual clock standing at that instant (so every `precog_now()` default stamps the recorded
 * time). Market and game-state versions go through the same versioned upsert ingestion uses, so
 * superseded_at / row_current_ind come out as they did in the recorded run, and an unchanged
 * snapshot writes nothing, as there.
 *
 * What is NOT copied as recorded, because the recorded value may be from a later time than the
 * replay has reached (no lookahead): an event's `status` and `result` (updated in place after it
 * was created; the replay derives the status from the game states, as ingest-game-states does,
 * and leaves the result unknown), `updated_at` (set to the creation time), and a game's link to
 * its event (made when the first game state naming the event is replayed).
 */

type Columns = Map<string, string>;

export class TapePlayer {
  private readonly columns = new Map<string, Columns>();
  /** Rows applied, by table (progress and the outcome). */
  readonly applied: Record<ReplayTable, number> = { series: 0, events: 0, game_identities: 0, markets: 0, game_states: 0, system_health: 0 };
  /** The latest instant applied: nothing later is in the replay database. */
  lastAppliedAt: Date | null = null;

  constructor(private readonly pool: pg.Pool) {}

  /** Applies the rows of one instant (all with the same `at`). */
  async apply(batch: readonly ReplayRow[]): Promise<void> {
    if (batch.length === 0) return;
    const at = batch[0]!.at;
    if (batch.some((r) => r.at.getTime() !== at.getTime())) throw new Error('a tape batch holds the rows of one instant');
    const of = (table: ReplayTable) => batch.filter((r) => r.table === table).map((r) => r.row);
    await withTransaction(this.pool, async (client) => {
      const series = of('series');
      if (series.length > 0) await this.insert(client, 'series', series.map((r) => ({ ...r, updated_at: r.created_at })), 'series_id');
      const events = of('events');
      if (events.length > 0) {
        await this.insert(client, 'events', events.map((r) => ({ ...r, status: null, result: null, updated_at: r.created_at })), 'event_id');
      }
      const identities = of('game_identities');
      if (identities.length > 0) {
        await this.insert(client, 'game_identities', identities.map((r) => ({ ...r, event_id: null, match_rule: null, matched_at: null })), 'sport, external_game_id');
      }
      const markets = of('markets');
      if (markets.length > 0) await versionedUpsert(client, MARKETS, markets.map((r) => snapshotOf(MARKETS, r)));
      const games = of('game_states');
      if (games.length > 0) {
        await versionedUpsert(client, GAME_STATES, games.map((r) => snapshotOf(GAME_STATES, r)));
        const linked = games.filter((g) => g.event_id != null);
        if (linked.length > 0) {
          await client.query(
            `UPDATE game_identities g SET event_id = u.event_id, match_rule = 'replayed', matched_at = precog_now()
               FROM unnest($1::text[], $2::text[], $3::text[]) AS u(sport, external_game_id, event_id)
              WHERE g.sport = u.sport AND g.external_game_id = u.external_game_id AND g.event_id IS NULL`,
            [linked.map((g) => g.sport), linked.map((g) => g.external_game_id), linked.map((g) => g.event_id)],
          );
          // Linked events follow their game's status, as ingest-game-states keeps them.
          await client.query(
            `UPDATE events e SET status = u.status
               FROM unnest($1::text[], $2::text[]) AS u(event_id, status)
              WHERE e.event_id = u.event_id AND e.status IS DISTINCT FROM u.status`,
            [linked.map((g) => g.event_id), linked.map((g) => EVENT_STATUS_OF_GAME[g.status as keyof typeof EVENT_STATUS_OF_GAME] ?? null)],
          );
        }
      }
      const health = of('system_health');
      if (health.length > 0) {
        await client.query(
          `INSERT INTO system_health (component, status, last_check, details, alert_sent)
           SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[], $5::boolean[])`,
          [health.map((h) => h.component), health.map((h) => h.status), health.map(() => at.toISOString()),
            health.map((h) => (h.details == null ? null : JSON.stringify(h.details))), health.map((h) => h.alert_sent ?? false)],
        );
      }
    });
    for (const r of batch) this.applied[r.table]++;
    this.lastAppliedAt = at;
  }

  /** Inserts catalog rows with the columns both sides have (identity values kept); a key already there is left alone. */
  private async insert(client: pg.PoolClient, table: string, rows: Record<string, unknown>[], conflictKey: string): Promise<void> {
    const columns = await this.tableColumns(client, table);
    const names = [...columns.keys()].filter((c) => rows.some((r) => c in r));
    const params = names.map((c) => rows.map((r) => encode(r[c], columns.get(c)!)));
    const list = names.map((c) => `"${c}"`).join(', ');
    const arrays = names.map((c, i) => `$${i + 1}::${arrayType(columns.get(c)!)}`).join(', ');
    await client.query(
      `INSERT INTO ${table} (${list}) SELECT * FROM unnest(${arrays}) ON CONFLICT (${conflictKey}) DO NOTHING`,
      params,
    );
  }

  private async tableColumns(client: pg.PoolClient, table: string): Promise<Columns> {
    let columns = this.columns.get(table);
    if (!columns) {
      const { rows } = await client.query(
        `SELECT column_name, udt_name FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' AND identity_generation IS NULL
          ORDER BY ordinal_position`,
        [table],
      );
      columns = new Map(rows.map((r) => [r.column_name as string, r.udt_name as string]));
      this.columns.set(table, columns);
    }
    return columns;
  }
}

function snapshotOf(spec: VersionedTableSpec, row: Record<string, unknown>): SnapshotRow {
  const snapshot: SnapshotRow = {};
  for (const [column, type] of Object.entries(spec.columns)) {
    const value = row[column] ?? null;
    // node-postgres reads bigint as text; the upsert takes integers (counts of contracts, ids).
    snapshot[column] = (type === 'bigint' || type === 'int') && typeof value === 'string' ? exactInteger(value, column) : (value as SnapshotRow[string]);
  }
  return snapshot;
}

function exactInteger(text: string, column: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${column}: ${text} is not an integer a replay can carry exactly`);
  return n;
}

function arrayType(udt: string): string {
  return `${udt === 'varchar' ? 'text' : udt}[]`;
}

function encode(value: unknown, udt: string): unknown {
  if (value === undefined || value === null) return null;
  if (udt === 'jsonb' || udt === 'json') return JSON.stringify(value);
  if (value instanceof Date) return value.toISOString();
  return value;
}
