import { createHash } from 'node:crypto';
import type pg from 'pg';
import { breakerBlocksEntries, DEFAULT_TRADING_RULES, type CircuitBreakerType, type TradingRules } from '../config/tradingRules';
import { type Decimal, toSqlDecimal } from '../domain/decimal';
import { wholeCountNumber } from '../domain/quantity';
import { decimal } from '../db/rows';
import { withTransaction } from '../db/transaction';
import { EDGES } from '../db/versionedTables';
import { versionedUpsert, type SnapshotRow, type VersionedUpsertResult } from '../db/versionedUpsert';
import { kalshiTeamCode } from '../ingestion/gameMatching';
import { modelType } from '../models/registry';
import type { ModelInput } from '../models/types';
import type { EntryOrderMessage, EntryQueue } from '../queues/messages';
import { EntryStrategyConfig } from '../strategies/config';
import { evaluateMarket, type EntryCandidate } from './evaluate';
import { loadWorld, type World } from './world';

export interface ScanEdgesDeps {
  pool: pg.Pool;
  /** Where entry orders go; omit for a dry run that writes edges only. */
  queue?: EntryQueue;
  rules?: TradingRules;
  executionMode?: 'paper' | 'live';
}

export interface ScanEdgesOptions {
  marketIds?: readonly string[];
  seriesTickers?: readonly string[];
  /** Compute and report, write nothing, send nothing. */
  dryRun?: boolean;
}

export interface SkippedMarket {
  marketId: string;
  strategy?: string;
  reason: string;
}

export interface ScanEdgesResult {
  markets: number;
  strategies: number;
  /** Market × strategy pairs priced. */
  evaluated: number;
  edges: Omit<VersionedUpsertResult, 'versions'>;
  skipped: SkippedMarket[];
  orders: { created: number; enqueued: number; unsent: number; alreadyInFlight: number };
  /** New edge versions whose recommended action is `alert`: for a person to review. */
  alerts: Array<{
    edgeId: number; marketId: string; strategy: { name: string; version: string }; model: { name: string; version: string };
    side: 'yes' | 'no'; edge: string; expectedValue: string; marketPrice: string; confidence: string;
  }>;
  /** Orders created by this scan (dry run: the ones that would be). */
  entries: Array<{ marketId: string; strategy: string; side: 'yes' | 'no'; quantity: Decimal; limitPrice: string; clientOrderId?: string }>;
}

/**
 * The deterministic client order id of an entry: market, strategy version, edge version, and the
 * attempt (how many earlier orders on that same edge version ended without a position: a
 * cancelled or rejected entry may be tried again on the next scan, under a new id). Two scans
 * making the same decision make the same id, so the order exists once.
 */
export function entryClientOrderId(marketId: string, strategyId: number, edgeId: number, attempt = 0): string {
  const key = `${marketId}|${strategyId}|${edgeId}${attempt > 0 ? `|${attempt}` : ''}`;
  return `pc-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/** The last segment of a Kalshi game market ticker names the team whose win pays YES. */
export function yesTeamOf(ticker: string | null): string | null {
  if (!ticker) return null;
  const parts = ticker.split('-');
  return parts.length >= 3 ? parts[parts.length - 1]! : null;
}

/**
 * Set-based edge scan: load the world (two statements), price every open market for every
 * active entry strategy version with the model version it names (pure computation), write the
 * edges as versions and the entry orders they justify (one transaction), then send the unsent
 * entry orders to the queue. The database round trips are the same for 10 or 20,000 markets.
 */
export async function scanEdges(deps: ScanEdgesDeps, options: ScanEdgesOptions = {}): Promise<ScanEdgesResult> {
  const rules = deps.rules ?? DEFAULT_TRADING_RULES;
  const world = await loadWorld(deps.pool, {
    marketIds: options.marketIds, seriesTickers: options.seriesTickers, executionMode: deps.executionMode,
  });
  const { edgeRows, candidates, skipped, evaluated, strategies } = priceWorld(world, rules);
  // Markets asked for by id that the scan cannot price: say why instead of leaving them out.
  if (options.marketIds) {
    const open = new Set(world.markets.map((m) => m.marketId));
    const missing = options.marketIds.filter((id) => !open.has(id));
    if (missing.length > 0) {
      const { rows } = await deps.pool.query('SELECT market_id, status FROM current_markets WHERE market_id = ANY($1::text[])', [missing]);
      const status = new Map(rows.map((r) => [r.market_id as string, r.status as string | null]));
      for (const id of missing) {
        skipped.push({ marketId: id, reason: status.has(id) ? `market is ${status.get(id) ?? 'of unknown status'}, not open` : 'no such market' });
      }
    }
  }

  const result: ScanEdgesResult = {
    markets: world.markets.length,
    strategies,
    evaluated,
    edges: { received: edgeRows.length, inserted: 0, closed: 0, unchanged: 0 },
    skipped,
    orders: { created: 0, enqueued: 0, unsent: 0, alreadyInFlight: 0 },
    entries: [],
    alerts: [],
  };
  if (options.dryRun) {
    result.entries = candidates.map((c) => ({
      marketId: c.marketId, strategy: c.strategyLabel, side: c.side, quantity: c.quantity, limitPrice: c.limitPrice.toFixed(4),
    }));
    return result;
  }

  await withTransaction(deps.pool, async (client) => {
    const written = await versionedUpsert(client, EDGES, edgeRows);
    const { versions, ...counts } = written;
    result.edges = counts;
    result.alerts = alertsOf(world, edgeRows, versions);
    if (candidates.length === 0) return;
    // The current edge version each candidate acts on (new or unchanged), in one statement.
    const { rows } = await client.query(
      `SELECT e.edge_id, e.market_id, e.strategy_id, e.side,
              (SELECT count(*)::int FROM orders o WHERE o.purpose = 'entry' AND o.edge_id = e.edge_id AND o.strategy_id = e.strategy_id) AS attempt
       FROM current_edges e
       JOIN unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) AS k(market_id, strategy_id, model_id, side)
         ON e.market_id = k.market_id AND e.strategy_id = k.strategy_id AND e.model_id = k.model_id AND e.side = k.side`,
      [candidates.map((c) => c.marketId), candidates.map((c) => c.strategyId), candidates.map((c) => c.modelId), candidates.map((c) => c.side)],
    );
    const edgeOf = new Map(rows.map((r) => [`${r.market_id}|${r.strategy_id}|${r.side}`, { edgeId: r.edge_id as number, attempt: r.attempt as number }]));
    const orders = candidates.map((c) => {
      const { edgeId, attempt } = edgeOf.get(`${c.marketId}|${c.strategyId}|${c.side}`)!;
      return { ...c, edgeId, clientOrderId: entryClientOrderId(c.marketId, c.strategyId, edgeId, attempt) };
    });
    const inserted = await client.query(
      `INSERT INTO orders (client_order_id, purpose, market_id, platform_id, strategy_id, model_id, edge_id, side, action,
                           order_type, limit_price, quantity, execution_mode)
       SELECT k.client_order_id, 'entry', k.market_id, k.platform_id, k.strategy_id, k.model_id, k.edge_id, k.side, 'buy',
              'limit', k.limit_price, k.quantity, $10
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::numeric[], $9::numeric[])
         AS k(client_order_id, market_id, platform_id, strategy_id, model_id, edge_id, side, limit_price, quantity)
       ON CONFLICT (client_order_id) DO NOTHING
       RETURNING client_order_id`,
      [
        orders.map((o) => o.clientOrderId), orders.map((o) => o.marketId), orders.map((o) => o.platformId),
        orders.map((o) => o.strategyId), orders.map((o) => o.modelId), orders.map((o) => o.edgeId), orders.map((o) => o.side),
        orders.map((o) => o.limitPrice.toFixed(4)), orders.map((o) => toSqlDecimal(o.quantity)), deps.executionMode ?? 'paper',
      ],
    );
    const created = new Set(inserted.rows.map((r) => r.client_order_id as string));
    result.orders.created = created.size;
    result.orders.alreadyInFlight = orders.length - created.size;
    result.entries = orders
      .filter((o) => created.has(o.clientOrderId))
      .map((o) => ({
        marketId: o.marketId, strategy: o.strategyLabel, side: o.side, quantity: o.quantity,
        limitPrice: o.limitPrice.toFixed(4), clientOrderId: o.clientOrderId,
      }));
  });

  if (deps.queue) Object.assign(result.orders, await sendUnsentEntries(deps.pool, deps.queue));
  return result;
}

/**
 * Transactional outbox: every pending entry order not yet sent (this scan's, and any an earlier
 * scan could not send) goes to the queue; sent ones are stamped.
 */
export async function sendUnsentEntries(pool: pg.Pool, queue: EntryQueue): Promise<{ enqueued: number; unsent: number }> {
  const { rows } = await pool.query(
    `SELECT client_order_id, market_id, platform_id, strategy_id, model_id, edge_id, side, quantity, limit_price, created_at
     FROM orders WHERE purpose = 'entry' AND status = 'pending' AND enqueued_at IS NULL ORDER BY order_id`,
  );
  if (rows.length === 0) return { enqueued: 0, unsent: 0 };
  const messages: EntryOrderMessage[] = rows.map((r) => ({
    version: 1, clientOrderId: r.client_order_id, marketId: r.market_id, platformId: r.platform_id,
    strategyId: r.strategy_id, modelId: r.model_id, edgeId: r.edge_id, side: r.side, quantity: wholeCountNumber(decimal(r.quantity)),
    limitPrice: (r.limit_price as Decimal).toFixed(4), createdAt: (r.created_at as Date).toISOString(),
  }));
  const { failed } = await queue.send(messages);
  const failedSet = new Set(failed);
  const sent = messages.map((m) => m.clientOrderId).filter((id) => !failedSet.has(id));
  if (sent.length > 0) {
    await pool.query('UPDATE orders SET enqueued_at = precog_now() WHERE client_order_id = ANY($1::text[])', [sent]);
  }
  return { enqueued: sent.length, unsent: failed.length };
}

/** The pure part: every market × strategy priced, edges and entry candidates produced. */
export function priceWorld(world: World, rules: TradingRules) {
  const edgeRows: SnapshotRow[] = [];
  const candidates: EntryCandidate[] = [];
  const skipped: SkippedMarket[] = [];
  let evaluated = 0;

  const models = new Map(world.models.map((m) => [`${m.name}@${m.version}`, m]));
  const strategies = world.strategies.flatMap((s) => {
    const parsed = EntryStrategyConfig.safeParse(s.config);
    if (!parsed.success) {
      skipped.push({ marketId: '*', strategy: `${s.name} ${s.version}`, reason: `strategy config invalid: ${parsed.error.issues[0]!.message}` });
      return [];
    }
    const model = models.get(`${parsed.data.model.name}@${parsed.data.model.version}`);
    if (!model) {
      skipped.push({ marketId: '*', strategy: `${s.name} ${s.version}`, reason: `model ${parsed.data.model.name} ${parsed.data.model.version} not found` });
      return [];
    }
    let type;
    let modelConfig: unknown;
    try {
      type = modelType(model.type);
      modelConfig = type.configSchema.parse(model.config);
    } catch (error) {
      skipped.push({ marketId: '*', strategy: `${s.name} ${s.version}`, reason: `model ${model.name} ${model.version}: ${(error as Error).message}` });
      return [];
    }
    return [{ strategy: s, config: parsed.data, model, type, modelConfig, label: `${s.name} ${s.version}` }];
  });

  const blockingBreakers = world.entriesBlockedBy.filter((b) => breakerBlocksEntries(rules, b as CircuitBreakerType));
  // Running totals so that the orders of one scan respect the limits together.
  const limits = {
    openPositions: world.openPositions,
    totalExposure: world.totalExposure,
    byEvent: new Map([...world.exposureByEvent].map(([k, v]) => [k, { ...v }])),
  };

  for (const market of world.markets) {
    const applicable = strategies.filter(
      (s) => (s.strategy.sport === null || s.strategy.sport === market.sport) && (!s.config.series || (market.seriesId !== null && s.config.series.includes(market.seriesId))),
    );
    for (const s of applicable) {
      evaluated++;
      const input: ModelInput = {
        market: { marketId: market.marketId, yesTeam: yesTeamOf(market.ticker), closeTime: market.closeTime },
        game: market.game && {
          ...market.game,
          homeTeam: kalshiTeamCode(market.game.sport, market.game.homeTeam),
          awayTeam: kalshiTeamCode(market.game.sport, market.game.awayTeam),
        },
        matrices: world.matrices,
      };
      const outcome = evaluateMarket({ market, input, world, rules, strategy: s, limits });
      if ('skip' in outcome) {
        skipped.push({ marketId: market.marketId, strategy: s.label, reason: outcome.skip });
        continue;
      }
      edgeRows.push(...outcome.edgeRows);
      if (outcome.candidate) {
        const key = `${market.marketId}|${s.strategy.strategyId}`;
        if (blockingBreakers.length > 0) {
          skipped.push({ marketId: market.marketId, strategy: s.label, reason: `entries blocked by circuit breaker: ${blockingBreakers.join(', ')}` });
        } else if (world.desynced.has(market.marketId)) {
          skipped.push({ marketId: market.marketId, strategy: s.label, reason: 'market is desynced from the venue: no new entries until reconciliation agrees' });
        } else if (world.busy.has(key)) {
          skipped.push({ marketId: market.marketId, strategy: s.label, reason: 'an entry for this market and strategy is already open or pending' });
        } else {
          world.busy.add(key);
          candidates.push(outcome.candidate);
        }
      }
    }
  }
  return { edgeRows, candidates, skipped, evaluated, strategies: strategies.length };
}


/** The new edge versions a person should review (recommended action `alert`). */
function alertsOf(world: World, rows: readonly SnapshotRow[], versions: ReadonlyArray<{ key: unknown[]; versionId: number }>): ScanEdgesResult['alerts'] {
  const byKey = new Map(rows.map((r) => [`${r.market_id}|${r.strategy_id}|${r.model_id}|${r.side}`, r]));
  const strategies = new Map(world.strategies.map((s) => [s.strategyId, s]));
  const models = new Map(world.models.map((m) => [m.modelId, m]));
  const alerts: ScanEdgesResult['alerts'] = [];
  for (const v of versions) {
    const row = byKey.get(v.key.map(String).join('|'));
    if (!row || row.recommended_action !== 'alert') continue;
    const strategy = strategies.get(Number(row.strategy_id));
    const model = models.get(Number(row.model_id));
    alerts.push({
      edgeId: v.versionId, marketId: String(row.market_id),
      strategy: { name: strategy?.name ?? '?', version: strategy?.version ?? '?' }, model: { name: model?.name ?? '?', version: model?.version ?? '?' },
      side: row.side as 'yes' | 'no', edge: (row.edge as Decimal).toFixed(4), expectedValue: (row.expected_value as Decimal).toFixed(4),
      marketPrice: (row.market_price as Decimal).toFixed(4), confidence: String(row.confidence_level),
    });
  }
  return alerts;
}
