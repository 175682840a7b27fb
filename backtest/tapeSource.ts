import { openTape, type OpenedTape } from '../shared/tape';
import type { ColumnSpec } from '../shared/tape/columns';
import type { TapeRow } from '../shared/tape/values';
import { compareReplayRows, INGEST_COMPONENTS, type ReplayCatalog, type ReplayRow, type ReplaySource } from './source';

/**
 * A tape directory (shared/tape, `precog tape export`) as the replay's source (`--tape DIR`): its
 * catalog files, and its market and game-state versions merged in seen-time order by the tape
 * library (memory bounded: a row group per table).
 *
 * A tape holds no ingestion health rows. The replay assumes ingestion ran on its deployed schedule
 * (every minute from the window's start): it gives an `ingest-markets` and an `ingest-game-states`
 * health row each minute, so the data-freshness checks and the fill model's snapshots (each
 * ingestion run is a new snapshot) behave as they did. The gap check runs on the versions alone.
 */
export class TapeSource implements ReplaySource {
  readonly label: string;
  private tape: Promise<OpenedTape> | undefined;

  constructor(private readonly dir: string) {
    this.label = `tape ${dir}`;
  }

  private open(): Promise<OpenedTape> {
    this.tape ??= openTape(this.dir);
    return this.tape;
  }

  /** The tape's identity (sha256 over its manifest's file entries). */
  async tapeId(): Promise<string> {
    return (await this.open()).tapeId;
  }

  async coverage(): Promise<{ from: Date; to: Date } | null> {
    const { manifest } = await this.open();
    return { from: new Date(manifest.window.from), to: new Date(manifest.window.to) };
  }

  private async table(name: string): Promise<Record<string, unknown>[]> {
    const tape = await this.open();
    const columns = columnsOf(tape, name);
    const rows: Record<string, unknown>[] = [];
    if (!columns) return rows;
    for await (const row of tape.rows(name)) rows.push(toPgRow(row, columns));
    return rows;
  }

  async catalog(): Promise<ReplayCatalog> {
    return {
      platforms: await this.table('platforms'),
      strategies: await this.table('strategies'),
      probabilityModels: await this.table('probability_models'),
      probabilityMatrices: await this.table('probability_matrices'),
    };
  }

  async *rows(from: Date, to: Date): AsyncIterable<ReplayRow> {
    const tape = await this.open();
    const at = (seen: unknown): Date => {
      const t = seen instanceof Date ? seen : new Date(String(seen));
      return t.getTime() < from.getTime() ? from : t;
    };
    // The catalog rows of the data, when Precog first stored them, and ingestion's minutes: merged
    // with the versions below (they are few beside them).
    const extra: ReplayRow[] = [];
    for (const table of ['series', 'events', 'game_identities'] as const) {
      for (const row of await this.table(table)) {
        if (row.created_at instanceof Date && row.created_at.getTime() < to.getTime()) extra.push({ table, at: at(row.created_at), row });
      }
    }
    for (let t = from.getTime(); t < to.getTime(); t += 60_000) {
      for (const component of INGEST_COMPONENTS) extra.push({ table: 'system_health', at: new Date(t), row: { component, status: 'healthy', details: { replayed: 'tape' } } });
    }
    extra.sort(compareReplayRows);
    const columns = new Map<string, ColumnSpec[]>();
    let i = 0;
    for await (const event of tape.events(undefined, to)) {
      const table = event.table as ReplayRow['table'];
      if (table !== 'markets' && table !== 'game_states') continue;
      let specs = columns.get(table);
      if (!specs) {
        specs = columnsOf(tape, table) ?? [];
        columns.set(table, specs);
      }
      const next: ReplayRow = { table, at: at(event.at), row: toPgRow(event.row, specs) };
      while (i < extra.length && compareReplayRows(extra[i]!, next) <= 0) yield extra[i++]!;
      yield next;
    }
    while (i < extra.length) yield extra[i++]!;
  }

  async close(): Promise<void> {
    this.tape = undefined;
  }
}

function columnsOf(tape: OpenedTape, table: string): ColumnSpec[] | undefined {
  return tape.manifest.files.find((f) => f.table === table)?.columns as ColumnSpec[] | undefined;
}

/** A tape row as node-postgres would have read it: bigint as text, times as Dates, JSON parsed. */
function toPgRow(row: TapeRow, columns: readonly ColumnSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c.name];
    if (v === null || v === undefined) out[c.name] = null;
    else if (c.kind === 'timestamptz') out[c.name] = new Date(String(v));
    else if (c.kind === 'json') out[c.name] = JSON.parse(String(v));
    else if (typeof v === 'bigint') out[c.name] = v.toString();
    else out[c.name] = v;
  }
  return out;
}
