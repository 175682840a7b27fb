import type pg from 'pg';
import { trainedThroughOf } from '../shared/models/training';
import type { ReplayCatalog } from './source';

/** A version named on the command line: `quarter_live@v1.1`. */
export interface VersionRef {
  name: string;
  version: string;
}

export const formatRef = (r: VersionRef) => `${r.name}@${r.version}`;

export class BacktestInputError extends Error {
  override name = 'BacktestInputError';
}

/** Parses NAME@VERSION; the message names the option. */
export function parseVersionRef(text: string, option: string): VersionRef {
  const match = /^([A-Za-z0-9_.-]+)@(v\d+\.\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!match) throw new BacktestInputError(`${option}: expected NAME@VERSION (e.g. quarter_live@v1.1), got ${JSON.stringify(text)}`);
  return { name: match[1]!, version: match[2]! };
}

export interface ChosenCatalog {
  strategies: Record<string, unknown>[];
  models: Record<string, unknown>[];
}

/**
 * The catalog rows of the replay: the requested strategy versions (all active: several make an
 * A/B in one run), the models they use (the requested one; a strategy configured for another is
 * an error), every platform and probability matrix. Unknown versions are errors that list the
 * known ones. A model whose config says `trained_through` is refused on a window that starts
 * before it.
 */
export function chooseCatalog(catalog: ReplayCatalog, request: { strategies: VersionRef[]; model: VersionRef | null; from: Date }): ChosenCatalog {
  if (request.strategies.length === 0) throw new BacktestInputError('--strategy: name at least one strategy version (NAME@VERSION)');
  const refOf = (r: Record<string, unknown>, kind: 'strategy' | 'model'): string =>
    kind === 'strategy' ? `${r.strategy_name}@${r.strategy_version}` : `${r.model_name}@${r.model_version}`;
  const known = (kind: 'strategy' | 'model') =>
    (kind === 'strategy' ? catalog.strategies : catalog.probabilityModels).map((r) => refOf(r, kind)).sort().join(', ') || 'none';

  const seen = new Set<string>();
  const strategies = request.strategies.map((ref) => {
    const key = formatRef(ref);
    if (seen.has(key)) throw new BacktestInputError(`--strategy ${key} is given twice`);
    seen.add(key);
    const row = catalog.strategies.find((r) => refOf(r, 'strategy') === key);
    if (!row) throw new BacktestInputError(`unknown strategy version ${key}: the source knows ${known('strategy')}`);
    return row;
  });

  const modelKeys = new Map<string, Record<string, unknown>>();
  for (const s of strategies) {
    const configured = (s.config as { model?: { name?: string; version?: string } } | null)?.model;
    if (!configured?.name || !configured.version) {
      throw new BacktestInputError(`strategy ${refOf(s, 'strategy')} names no model in its config (config.model): it cannot be replayed`);
    }
    const key = `${configured.name}@${configured.version}`;
    if (request.model && key !== formatRef(request.model)) {
      throw new BacktestInputError(`strategy ${refOf(s, 'strategy')} uses model ${key}, not the requested --model ${formatRef(request.model)}`);
    }
    const row = catalog.probabilityModels.find((r) => refOf(r, 'model') === key);
    if (!row) throw new BacktestInputError(`unknown model version ${key} (used by ${refOf(s, 'strategy')}): the source knows ${known('model')}`);
    modelKeys.set(key, row);
  }
  if (request.model && !catalog.probabilityModels.some((r) => refOf(r, 'model') === formatRef(request.model!))) {
    throw new BacktestInputError(`unknown model version ${formatRef(request.model)}: the source knows ${known('model')}`);
  }
  for (const [key, model] of modelKeys) {
    const cutOff = trainedThroughOf(model.config);
    if (cutOff && request.from.getTime() <= cutOff.getTime()) {
      throw new BacktestInputError(
        `model ${key} was trained through ${cutOff.toISOString()} (config.trained_through): a replay from ${request.from.toISOString()} ` +
          'would judge it on the data it was fitted on. Replay a window that starts after its cut-off.',
      );
    }
  }
  return { strategies, models: [...modelKeys.values()] };
}

/**
 * Loads the catalog into the replay database, identity values kept (a trade's strategy_id is the
 * source's). Every row's time is the replay's start: the versions under test exist from the start
 * of the replay as a deployed version would, and no row of the replay database carries a time
 * after the virtual clock. Strategies and models are loaded active.
 */
export async function loadCatalog(client: pg.PoolClient, catalog: ReplayCatalog, chosen: ChosenCatalog, from: Date): Promise<void> {
  const at = from.toISOString();
  await copyRows(client, 'platforms', catalog.platforms.map((r) => ({ ...r, created_at: at })));
  await copyRows(client, 'probability_matrices', catalog.probabilityMatrices.map((r) => ({ ...r, created_at: at })));
  await copyRows(client, 'probability_models', chosen.models.map((r) => ({ ...r, created_at: at, status: 'active' })));
  await copyRows(client, 'strategies', chosen.strategies.map((r) => ({
    ...r, created_at: at, status: 'active', paper_roi: null, live_roi: null, paper_trades_count: 0, live_trades_count: 0,
  })));
}

/** Inserts rows with the columns both sides have, identity values included (OVERRIDING SYSTEM VALUE). */
async function copyRows(client: pg.PoolClient, table: string, rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const { rows: described } = await client.query(
    `SELECT column_name, udt_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position`,
    [table],
  );
  const columns = described.filter((c) => rows.some((r) => (c.column_name as string) in r));
  // Row by row in chunks: JSON and domain-typed columns go as text literals PostgreSQL casts.
  for (let start = 0; start < rows.length; start += 500) {
    const chunk = rows.slice(start, start + 500);
    const params: unknown[] = [];
    const tuples = chunk.map((r) => `(${columns.map((c) => {
      const value = r[c.column_name as string];
      params.push(value === undefined || value === null ? null : c.udt_name === 'jsonb' || c.udt_name === 'json' ? JSON.stringify(value) : value instanceof Date ? value.toISOString() : value);
      return `$${params.length}`;
    }).join(', ')})`);
    await client.query(
      `INSERT INTO ${table} (${columns.map((c) => `"${c.column_name}"`).join(', ')}) OVERRIDING SYSTEM VALUE VALUES ${tuples.join(', ')}`,
      params,
    );
  }
  // Identity sequences continue after the copied ids.
  const { rows: identities } = await client.query(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND identity_generation IS NOT NULL`,
    [table],
  );
  for (const { column_name: column } of identities) {
    await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), (SELECT max("${column}") FROM ${table}))`, [table, column]);
  }
}
