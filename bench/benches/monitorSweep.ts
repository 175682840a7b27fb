import type pg from 'pg';
import { DEFAULT_TRADING_RULES, type ConfidenceLevel, type ExitPriority } from '../../shared/config/tradingRules';
import { Decimal } from '../../shared/domain/decimal';
import {
  EDGES, MARKETS, POSITIONS, PlatformRepository, ProbabilityModelRepository, SeriesRepository, StrategyRepository, versionedUpsert,
  withTransaction, type SnapshotRow,
} from '../../shared/db';
import { decimal, decimalOrNull } from '../../shared/db/rows';
import { marketSnapshotRow } from '../../shared/db/repositories/markets';
import { evaluateExits, isUrgent, partialExitStage, PRIORITY_RANK, type ExitInput } from '../../shared/exits/conditions';
import { parseTrailingStop, updateTrailingStop } from '../../shared/exits/trailingStop';
import { valuePosition } from '../../shared/exits/valuation';
import { sweepPositions, type SweepResult } from '../../shared/monitor/sweep';
import type { ExitOrderMessage } from '../../shared/queues/messages';
import { MemoryExitQueue } from '../../shared/queues/sqsEntryQueue';
import { KALSHI_PLATFORM } from '../../shared/venues/platforms';
import { countRoundTrips, time, type Bench } from '../harness';

const POSITIONS_COUNT = 10_000;
const SMALL_COUNT = 1_000;
/** The per-position loop is linear in positions: it is timed over this many of the 10,000. */
const PER_POSITION_SAMPLE = 1_000;
/** The urgent cadence a full sweep must fit in. */
const URGENT_CADENCE_MS = DEFAULT_TRADING_RULES.monitor.urgentIntervalSeconds * 1000;

const cents = (c: number) => new Decimal(c).div(100);

/**
 * The bench world, market i of n (one open position per market, 2 markets per game):
 *   - the position's side is YES on the home market, NO on the away one; it was bought at the
 *     side's ask a = 40..69¢ (the bid one cent under), 10..100 contracts;
 *   - a current edge of +0.05 per position (strategy × model × side), so no early exit fires;
 *   - then 20% of the markets move (a new market version, i % 5 = 0): most by +1¢ on the side's
 *     bid (a new position version, no exit), and a few percent far enough to exit:
 *       i % 100 = 0        bid at 80% of entry            → stop_loss (CRITICAL, all)
 *       i % 100 = 5 or 10  bid at 120% of entry           → partial_exit_target stage 1 (MEDIUM, half)
 *       i % 100 = 15       +1¢, and the edge falls to 0.01 → early_exit (LOW, all)
 * Expected per sweep: 20% new versions, 80% heartbeats, 4% exit requests.
 */
function sideAsk(i: number): number {
  return 40 + ((i * 7) % 30);
}

function marketIdOf(i: number): string {
  return `KXNFLGAME-26NOV27G${Math.floor(i / 2)}-${i % 2 === 0 ? 'H' : 'A'}`;
}

function sideOf(i: number): 'yes' | 'no' {
  return i % 2 === 0 ? 'yes' : 'no';
}

/** The side's bid (cents) after the move (pass 2), or before it (pass 1). */
function sideBid(i: number, pass: 1 | 2): number {
  const a = sideAsk(i);
  if (pass === 1 || i % 5 !== 0) return a - 1;
  if (i % 100 === 0) return Math.floor(a * 0.8);
  if (i % 100 === 5 || i % 100 === 10) return Math.ceil(a * 1.2);
  return a;
}

function marketRows(n: number, pass: 1 | 2, closeTime: Date) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    if (pass === 2 && i % 5 !== 0) continue;
    const bid = sideBid(i, pass);
    const ask = bid + 1;
    // The other side mirrors: its ask is 1 − this bid, its bid 1 − this ask.
    const [yesBid, yesAsk, noBid, noAsk] = sideOf(i) === 'yes' ? [bid, ask, 100 - ask, 100 - bid] : [100 - ask, 100 - bid, bid, ask];
    const id = marketIdOf(i);
    rows.push(marketSnapshotRow({
      marketId: id, platformId: 'kalshi', eventId: `KXNFLGAME-26NOV27G${Math.floor(i / 2)}`, externalId: id, ticker: id,
      title: `${id} wins`, marketType: 'binary', yesPrice: cents(yesAsk), yesBid: cents(yesBid), noPrice: cents(noAsk), noBid: cents(noBid),
      spread: cents(1), volume: 1000, openInterest: 100, status: 'open', closeTime,
    }));
  }
  return rows;
}

function edgeRow(i: number, strategyId: number, modelId: number, edgeCents: number): SnapshotRow {
  const ask = cents(sideAsk(i));
  const edge = cents(edgeCents);
  return {
    market_id: marketIdOf(i), strategy_id: strategyId, model_id: modelId, side: sideOf(i), probability_matrix_id: null, game_state_id: null,
    edge, expected_value: edge, true_win_probability: ask.plus(edge), market_implied_probability: ask, market_price: ask,
    confidence_level: 'medium', confidence_metrics: {}, recommended_action: 'auto_execute',
  };
}

/**
 * Seeds n open positions set-based (a handful of statements whatever n), as the monitor left them
 * at its previous sweep (marked at the bid, trailing stop state, last_update), then moves 20% of
 * the markets and a few edges.
 */
export async function seedPositionsWorld(pool: pg.Pool, n: number): Promise<void> {
  const games = Math.ceil(n / 2);
  const closeTime = new Date(Date.now() + 2 * 24 * 3600_000);
  await new PlatformRepository(pool).upsert(KALSHI_PLATFORM);
  await new SeriesRepository(pool).upsertMany([{ seriesId: 'KXNFLGAME', platformId: 'kalshi', externalId: 'KXNFLGAME', category: 'sports', subcategory: 'nfl', title: 'NFL' }]);
  await pool.query(
    `INSERT INTO events (event_id, platform_id, series_id, external_id, category, subcategory, title)
     SELECT 'KXNFLGAME-26NOV27G' || g, 'kalshi', 'KXNFLGAME', 'G' || g, 'sports', 'nfl', 'Game ' || g FROM generate_series(0, $1::int - 1) AS g`,
    [games],
  );
  await versionedUpsert(pool, MARKETS, marketRows(n, 1, closeTime));
  const model = await new ProbabilityModelRepository(pool).create({
    name: 'nfl_matrix', version: 'v1.0', type: 'matrix', sport: 'nfl', status: 'active', config: { category: 'sports', subcategory: 'nfl', version: 'v1.0' },
  });
  const strategy = await new StrategyRepository(pool).create({
    name: 'halftime_entry', version: 'v1.0', type: 'entry', sport: 'nfl', status: 'active',
    config: { model: { name: 'nfl_matrix', version: 'v1.0' }, kind: 'halftime', max_spread: '0.05' },
  });
  await versionedUpsert(pool, EDGES, Array.from({ length: n }, (_, i) => edgeRow(i, strategy.id, model.id, 5)));

  // Identities in market order (i = 0..n-1), then their current versions in one batch.
  const { rows: identities } = await pool.query(
    `INSERT INTO position_identities (market_id, platform_id, side, strategy_id, model_id, execution_mode)
     SELECT 'KXNFLGAME-26NOV27G' || (i / 2) || CASE WHEN i % 2 = 0 THEN '-H' ELSE '-A' END, 'kalshi',
            (CASE WHEN i % 2 = 0 THEN 'yes' ELSE 'no' END)::contract_side, $2::bigint, $3::bigint, 'paper'
     FROM generate_series(0, $1::int - 1) AS i ORDER BY i
     RETURNING position_id, market_id`,
    [n, strategy.id, model.id],
  );
  const idOf = new Map(identities.map((r) => [r.market_id as string, r.position_id as number]));
  const lastUpdate = new Date(Date.now() - 30_000);
  const positions: SnapshotRow[] = [];
  for (let i = 0; i < n; i++) {
    const entryPrice = cents(sideAsk(i));
    const quantity = new Decimal(10 + (i % 91));
    const costBasis = entryPrice.times(quantity);
    const bid = cents(sideBid(i, 1));
    const value = valuePosition({ quantity, costBasis, bid });
    positions.push({
      position_id: idOf.get(marketIdOf(i))!, market_id: marketIdOf(i), platform_id: 'kalshi', side: sideOf(i), execution_mode: 'paper',
      entry_price: entryPrice, quantity, original_quantity: quantity, cost_basis: costBasis, fees: cents(Math.ceil((10 + (i % 91)) / 10)),
      status: 'open', realized_pnl: new Decimal(0), current_price: value.currentPrice, unrealized_pnl: value.unrealizedPnl,
      unrealized_pnl_pct: value.unrealizedPnlPct, last_update: lastUpdate,
      trailing_stop_state: updateTrailingStop(null, { entryPrice, price: bid }), exit_reason: null, exit_priority: null,
    });
  }
  await versionedUpsert(pool, POSITIONS, positions);
  // One buy trade per position, on the market version and the edge it was decided on.
  await pool.query(
    `INSERT INTO trades (market_id, market_version_id, platform_id, position_id, edge_id, strategy_id, model_id, order_id, client_order_id,
                         side, contract_side, execution_mode, price, quantity, fees, edge_at_execution, confidence_at_execution, venue_fill_id)
     SELECT p.market_id, m.market_version_id, p.platform_id, p.position_id, e.edge_id, pi.strategy_id, pi.model_id,
            'bench-order-' || p.position_id, 'bench-' || p.position_id, 'buy', p.side, p.execution_mode, p.entry_price, p.quantity, p.fees,
            e.edge, (ARRAY['high', 'medium', 'low'])[(1 + p.position_id % 3)::int], 'bench-fill-' || p.position_id
     FROM positions p
     JOIN position_identities pi ON pi.position_id = p.position_id
     JOIN markets m ON m.market_id = p.market_id AND m.row_current_ind
     LEFT JOIN edges e ON e.market_id = p.market_id AND e.strategy_id = pi.strategy_id AND e.model_id = pi.model_id
                      AND e.side = p.side AND e.row_current_ind
     WHERE p.row_current_ind
     ORDER BY p.position_id`,
  );

  // A minute of trading: 20% of the markets move, and 1% of the edges fall under the early-exit line.
  await versionedUpsert(pool, MARKETS, marketRows(n, 2, closeTime));
  const fallen = [];
  for (let i = 15; i < n; i += 100) fallen.push(edgeRow(i, strategy.id, model.id, 1));
  await versionedUpsert(pool, EDGES, fallen);
  await pool.query('ANALYZE');
}

// ---------------------------------------------------------------------------------------------
// The hand-written alternative: one query per position, one write per position, one insert per exit.

const ONE_POSITION_SQL = `
SELECT p.position_id, p.position_version_id, p.market_id, p.platform_id, p.side, p.execution_mode, p.entry_price, p.quantity,
       p.original_quantity, p.cost_basis, p.fees, p.unrealized_pnl, p.realized_pnl, p.current_price, p.unrealized_pnl_pct,
       p.trailing_stop_state, p.exit_reason, p.exit_priority,
       m.status AS market_status, m.spread, m.volume, m.close_time,
       CASE p.side WHEN 'yes' THEN m.yes_bid ELSE m.no_bid END AS bid,
       CASE p.side WHEN 'yes' THEN m.yes_price ELSE m.no_price END AS ask,
       e.edge AS current_edge,
       (SELECT t.confidence_at_execution FROM trades t
         WHERE t.position_id = p.position_id AND t.side = 'buy' ORDER BY t.trade_id LIMIT 1) AS confidence,
       coalesce((SELECT sum(x.quantity_exited) FROM position_exits x
                  WHERE x.position_id = p.position_id AND x.exit_condition = 'partial_exit_target'), 0) AS partial_exited,
       r.exit_request_id AS active_request_id, r.exit_priority AS active_priority, r.exit_condition AS active_condition,
       r.quantity - r.filled_quantity AS active_remaining
FROM positions p
JOIN position_identities pi ON pi.position_id = p.position_id
LEFT JOIN markets m ON m.market_id = p.market_id AND m.row_current_ind
LEFT JOIN edges e ON e.market_id = p.market_id AND e.strategy_id = pi.strategy_id AND e.model_id = pi.model_id
                 AND e.side = p.side AND e.row_current_ind
LEFT JOIN exit_requests r ON r.position_id = p.position_id AND r.status = 'active'
WHERE p.position_id = $1 AND p.row_current_ind`;


const same = (a: Decimal | null, b: Decimal | null) => (a === null || b === null ? a === b : a.eq(b));

interface LoopResult {
  positions: number;
  versions: number;
  heartbeats: number;
  exits: Array<{ positionId: number; condition: string; quantity: Decimal }>;
  enqueued: number;
  /** The highest position id the loop covered (it goes in position id order). */
  lastPositionId: number;
}

async function perPositionSweep(pool: pg.Pool, queue: MemoryExitQueue, sample: number, rules = DEFAULT_TRADING_RULES): Promise<LoopResult> {
  const result: LoopResult = { positions: 0, versions: 0, heartbeats: 0, exits: [], enqueued: 0, lastPositionId: 0 };
  const created: Array<{ id: number; positionId: number; priority: ExitPriority; createdAt: Date }> = [];
  await withTransaction(pool, async (client) => {
    const { rows: [{ now }] } = await client.query('SELECT now() AS now');
    const { rows: ids } = await client.query(
      `SELECT position_id FROM positions WHERE row_current_ind AND status = 'open' AND execution_mode = 'paper' ORDER BY position_id LIMIT $1`,
      [sample],
    );
    for (const { position_id: positionId } of ids) {
      const { rows: [r] } = await client.query(ONE_POSITION_SQL, [positionId]);
      if (!r) continue;
      result.positions++;
      result.lastPositionId = positionId;
      const quantity = decimal(r.quantity);
      const entryPrice = decimal(r.entry_price);
      const costBasis = decimalOrNull(r.cost_basis) ?? entryPrice.times(quantity);
      const bid = decimalOrNull(r.bid);
      const value = valuePosition({ quantity, costBasis, bid });
      const trailing = updateTrailingStop(parseTrailingStop(r.trailing_stop_state), { entryPrice, price: bid }, rules);
      const input: ExitInput = {
        quantity, originalQuantity: decimalOrNull(r.original_quantity) ?? quantity, entryPrice, bid, ask: decimalOrNull(r.ask),
        spread: decimalOrNull(r.spread), volume: r.volume === null ? null : Number(r.volume), closeTime: r.close_time ?? null, now,
        unrealizedPnlPct: value.unrealizedPnlPct, confidence: (r.confidence as ConfidenceLevel | null) ?? 'low', trailingStop: trailing,
        recomputedEdge: decimalOrNull(r.current_edge),
        partialExitedQuantity: decimal(r.partial_exited).plus(r.active_condition === 'partial_exit_target' ? decimal(r.active_remaining) : new Decimal(0)),
        // The bench world has no circuit breaker tripped and room for capital: neither applies.
        liquidationBreaker: null, rebalanceCandidate: false,
      };
      const { triggers, decision } = evaluateExits(input, rules);
      isUrgent(input, rules);
      const act = decision && !(r.active_priority && PRIORITY_RANK[decision.priority] <= PRIORITY_RANK[r.active_priority as ExitPriority]) ? decision : null;
      const next = {
        current_price: value.currentPrice ?? decimalOrNull(r.current_price),
        unrealized_pnl: value.unrealizedPnl ?? decimalOrNull(r.unrealized_pnl),
        unrealized_pnl_pct: value.unrealizedPnlPct ?? decimalOrNull(r.unrealized_pnl_pct),
        trailing_stop_state: trailing,
        exit_reason: act ? act.condition : (r.exit_reason ?? null),
        exit_priority: act ? act.priority : (r.exit_priority ?? null),
      };
      const changed = !same(next.current_price, decimalOrNull(r.current_price)) || !same(next.unrealized_pnl, decimalOrNull(r.unrealized_pnl))
        || !same(next.unrealized_pnl_pct, decimalOrNull(r.unrealized_pnl_pct))
        || JSON.stringify(next.trailing_stop_state) !== JSON.stringify(parseTrailingStop(r.trailing_stop_state))
        || next.exit_reason !== r.exit_reason || next.exit_priority !== r.exit_priority;
      let versionId = r.position_version_id as number;
      if (changed) {
        const written = await versionedUpsert(client, POSITIONS, [{
          position_id: positionId, market_id: r.market_id, platform_id: r.platform_id, side: r.side, execution_mode: r.execution_mode,
          entry_price: entryPrice, quantity, original_quantity: r.original_quantity, cost_basis: costBasis, fees: decimalOrNull(r.fees),
          status: 'open', realized_pnl: decimalOrNull(r.realized_pnl), last_update: now, ...next,
        }]);
        result.versions += written.inserted;
        versionId = written.versions[0]?.versionId ?? versionId;
      } else {
        await client.query('UPDATE positions SET last_update = $2 WHERE row_current_ind AND position_id = $1', [positionId, now]);
        result.heartbeats++;
      }
      if (act) {
        const { rows: [request] } = await client.query(
          `INSERT INTO exit_requests (position_id, position_version_id, exit_condition, exit_priority, quantity, partial_stage, triggers)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING exit_request_id, created_at`,
          [positionId, versionId, act.condition, act.priority, act.quantity.toFixed(),
            act.condition === 'partial_exit_target' ? partialExitStage(input, act.quantity, rules) : null, JSON.stringify(triggers)],
        );
        created.push({ id: request.exit_request_id, positionId, priority: act.priority, createdAt: request.created_at });
        result.exits.push({ positionId, condition: act.condition, quantity: act.quantity });
      }
    }
  });
  // The outbox, one message at a time.
  for (const c of created) {
    const message: ExitOrderMessage = { version: 1, exitRequestId: c.id, positionId: c.positionId, priority: c.priority, createdAt: c.createdAt.toISOString() };
    const { failed } = await queue.send([message]);
    if (failed.length > 0) continue;
    await pool.query('UPDATE exit_requests SET enqueued_at = now() WHERE exit_request_id = $1', [c.id]);
    result.enqueued++;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

function checkSweep(label: string, r: SweepResult, n: number): void {
  const expected = { versions: n / 5, heartbeats: n - n / 5, exits: (4 * n) / 100 };
  if (r.skipped || r.positions !== n || r.versions !== expected.versions || r.heartbeats !== expected.heartbeats
    || r.exits.length !== expected.exits || r.enqueued !== expected.exits || r.unpriced.length > 0) {
    throw new Error(`monitor-sweep ${label}: unexpected sweep ${JSON.stringify({
      skipped: r.skipped, positions: r.positions, versions: r.versions, heartbeats: r.heartbeats, exits: r.exits.length, enqueued: r.enqueued,
      unpriced: r.unpriced.length,
    })}, expected ${JSON.stringify(expected)}`);
  }
}

const exitKey = (e: { positionId: number; condition: string; quantity: Decimal }) => `${e.positionId}:${e.condition}:${e.quantity.toFixed()}`;

/**
 * monitor-sweep: one sweep of 10,000 open positions (load, mark at the bid, trailing stops,
 * the ten exit conditions, changed versions, heartbeats, exit requests and their outbox), against
 * the per-position loop a developer writes first, on identically seeded databases.
 */
export const monitorSweepBench: Bench = async ({ freshDatabase }) => {
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  const trips: Record<number, number> = {};
  let projectMs = 0;
  let projectExits: SweepResult['exits'] = [];

  for (const n of [SMALL_COUNT, POSITIONS_COUNT]) {
    const { pool } = await freshDatabase();
    await seedPositionsWorld(pool, n);
    const queue = new MemoryExitQueue();
    const counter = countRoundTrips(pool);
    counter.count = 0;
    const { ms, value } = await time(() => sweepPositions({ pool, queue }));
    trips[n] = counter.count;
    checkSweep(`${n} positions`, value, n);
    if (queue.sent.length !== value.enqueued) throw new Error(`monitor-sweep: ${queue.sent.length} messages queued, ${value.enqueued} reported`);
    if (n === POSITIONS_COUNT) {
      projectMs = ms;
      projectExits = value.exits;
      figures.project = n / (ms / 1000);
      const by = (p: string) => value.exits.filter((e) => e.priority === p).length;
      notes.push(
        `project: one sweep of ${value.positions} positions in ${ms.toFixed(0)} ms (urgent cadence ${URGENT_CADENCE_MS} ms): `
        + `${value.versions} new versions, ${value.heartbeats} heartbeats, ${value.exits.length} exit requests enqueued `
        + `(${by('CRITICAL')} CRITICAL, ${by('MEDIUM')} MEDIUM, ${by('LOW')} LOW), ${value.triggers.length} triggers, ${value.urgent.length} urgent`,
      );
      // The next sweep with nothing moved: every position a heartbeat, every decided exit waiting for its request.
      counter.count = 0;
      const again = await time(() => sweepPositions({ pool, queue }));
      notes.push(
        `project, the next sweep with no price moved: ${again.ms.toFixed(0)} ms, ${again.value.versions} versions, `
        + `${again.value.heartbeats} heartbeats, ${again.value.exits.length} new exits, ${again.value.waiting} waiting, ${counter.count} round trips`,
      );
    }
  }
  notes.push(`database round trips per sweep (project): ${trips[SMALL_COUNT]} for ${SMALL_COUNT.toLocaleString('en-US')} positions, `
    + `${trips[POSITIONS_COUNT]} for ${POSITIONS_COUNT.toLocaleString('en-US')}`);

  {
    const { pool } = await freshDatabase();
    await seedPositionsWorld(pool, POSITIONS_COUNT);
    const queue = new MemoryExitQueue();
    const counter = countRoundTrips(pool);
    counter.count = 0;
    // The loop's cost is linear in positions (a query and a write per position): it is timed
    // over the first 1,000 positions of the same 10,000-position world to keep the bench short.
    const { ms, value } = await time(() => perPositionSweep(pool, queue, PER_POSITION_SAMPLE));
    figures.perPosition = value.positions / (ms / 1000);
    notes.push(
      `per-position loop over ${value.positions} of the ${POSITIONS_COUNT.toLocaleString('en-US')} positions: ${ms.toFixed(0)} ms `
      + `(${(ms * (POSITIONS_COUNT / value.positions)).toFixed(0)} ms extrapolated to all), ${value.versions} versions, ${value.heartbeats} heartbeats, `
      + `${value.exits.length} exits enqueued, ${counter.count} round trips`,
    );
    // Both variants must have decided the same exits on the positions the loop covered.
    const mine = value.exits.map(exitKey).sort();
    const theirs = projectExits.filter((e) => e.positionId <= value.lastPositionId).map(exitKey).sort();
    if (mine.join() !== theirs.join() || value.enqueued !== value.exits.length) {
      throw new Error(`monitor-sweep: the loop and the sweep disagree on exits (${mine.length} vs ${theirs.length})`);
    }
    notes.push(`per-position loop and project sweep decided the same ${mine.length} exits on those positions`);
  }

  const ratio = figures.project! / figures.perPosition!;
  const constant = trips[SMALL_COUNT] === trips[POSITIONS_COUNT];
  return {
    name: 'monitor-sweep',
    figures,
    notes: [
      ...notes,
      `project / perPosition = ${ratio.toFixed(1)}x (goals: >= 10x, the same round trips at both sizes, a 10,000-position sweep < ${URGENT_CADENCE_MS} ms)`,
    ],
    goalMet: ratio >= 10 && constant && projectMs < URGENT_CADENCE_MS,
  };
};
