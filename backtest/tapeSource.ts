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
    // The catalog rows of the data, when Precog first stored them (few beside the versions), and
    // ingestion's minutes, generated as the merge reaches them (2 rows a minute of the window:
    // never held whole, so memory stays flat however long the window), merged with the versions.
    const catalogRows: ReplayRow[] = [];
    for (const table of ['series', 'events', 'game_identities'] as const) {
      for (const row of await this.table(table)) {
        if (row.created_at instanceof Date && row.created_at.getTime() < to.getTime()) catalogRows.push({ table, at: at(row.created_at), row });
      }
    }
    catalogRows.sort(compareReplayRows);
    const extra = peekable(mergeSorted(catalogRows, ingestionMinutes(from, to)));
    const columns = new Map<string, ColumnSpec[]>();
    for await (const event of tape.events(undefined, to)) {
      const table = event.table as ReplayRow['table'];
      if (table !== 'markets' && table !== 'game_states') continue;
      let specs = columns.get(table);
      if (!specs) {
        specs = columnsOf(tape, table) ?? [];
        columns.set(table, specs);
      }
      const next: ReplayRow = { table, at: at(event.at), row: toPgRow(event.row, specs) };
      while (extra.peek() && compareReplayRows(extra.peek()!, next) <= 0) yield extra.take()!;
      yield next;
    }
    while (extra.peek()) yield extra.take()!;
  }

  async close(): Promise<void> {
    this.tape = undefined;
  }
}

/** The health rows of ingestion's assumed runs: both components, every minute of [from, to). */
function* ingestionMinutes(from: Date, to: Date): Generator<ReplayRow> {
  for (let t = from.getTime(); t < to.getTime(); t += 60_000) {
    for (const component of INGEST_COMPONENTS) yield { table: 'system_health', at: new Date(t), row: { component, status: 'healthy', details: { replayed: 'tape' } } };
  }
}

/** Two replay-ordered streams as one; on a tie the first stream's row comes first (a stable sort of the two would give the same). */
function* mergeSorted(first: readonly ReplayRow[], second: Iterator<ReplayRow>): Generator<ReplayRow> {
  let i = 0;
  for (let step = second.next(); !step.done; step = second.next()) {
    while (i < first.length && compareReplayRows(first[i]!, step.value) <= 0) yield first[i++]!;
    yield step.value;
  }
  while (i < first.length) yield first[i++]!;
}

function peekable<T>(iterator: Iterator<T>): { peek(): T | undefined; take(): T | undefined } {
  let head = iterator.next();
  return {
    peek: () => (head.done ? undefined : head.value),
    take: () => {
      const value = head.done ? undefined : head.value;
      if (!head.done) head = iterator.next();
      return value;
    },
  };
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
