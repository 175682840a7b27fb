import type pg from 'pg';
import { Decimal, ONE, ZERO } from '../domain/decimal';
import { decimal, decimalOrNull } from '../db/rows';
import { withTransaction, type Queryable } from '../db/transaction';
import { POSITIONS } from '../db/versionedTables';
import { versionedUpsert, type SnapshotRow } from '../db/versionedUpsert';
import type { Exchange } from '../exchange/types';
import { applyVenueUpdate, edgeOf, findOrders, lockBalance, lockOrder, writeBalance } from '../execution/ledger';
import { MONITOR_LOCK_KEY } from '../monitor/sweep';
import type { Desync } from '../execution/reconcile';
import { crossCheckSettlements, type SettlementCheck } from './crossCheck';

/**
 * Settlement of finished markets: when ingestion records a market as settled with its settlement
 * value (the value of one YES contract, 0..1), Precog's books follow it.
 *
 * For each market, in one transaction (and once: the settlements row is UNIQUE per market):
 *  - a `settlements` row: outcome `yes` (payout 1), `no` (payout 0) or `scalar`; payout = the YES
 *    payout;
 *  - every open position on the market, paper and live, gets a new version: quantity 0, status
 *    `settled`, cost basis 0, current price = its side's payout (YES: payout, NO: 1 − payout),
 *    unrealized P&L 0, realized P&L += quantity × side payout − cost basis (no fee is charged on
 *    settlement; the fees paid are already in realized P&L), exit fields unchanged;
 *  - the cash balance of each position's platform and mode moves by the proceeds;
 *  - the positions' active exit requests are cancelled ('market settled').
 * Then the simulated venue settles too (`exchange.settle`, paper only: a real venue settles
 * itself), on a live venue the books' settlement credits are cross-checked with the venue's
 * (crossCheck.ts: a difference opens a desync), and the strategies' ROI and trade counts are
 * recomputed.
 *
 * Fills made before the market closed must be in the books before it settles (a sell recorded
 * after would sell contracts already paid out), so the market's open orders are read back from
 * the venue first. A market with an order in flight (`pending`), or with open orders of a mode
 * this run cannot read back, is skipped with the reason and settled on a later run.
 *
 * Lock order: the monitor's lock (a sweep never straddles a settlement: it would write back the
 * open position it read), the settlements row, the positions' active exit requests (execute-exit
 * locks its request, then the position), the position identities, then the balance identities
 * (the ledger's order).
 */

export type ExecutionMode = 'paper' | 'live';

export interface SettleMarketsDeps {
  pool: pg.Pool;
  /** The venue of this run: its open orders are read back first, and a simulated venue is settled too. */
  exchange?: Exchange;
  /** The mode of this run (defaults to the exchange's, else paper); positions of both modes are settled. */
  executionMode?: ExecutionMode;
}

export interface SettleMarketsOptions {
  /** Only these markets (each settled or skipped with its reason); default every settled market not settled yet. */
  marketIds?: string[];
  /** Report what would be settled; write nothing, call no venue. */
  dryRun?: boolean;
}

export interface SettledPosition {
  positionId: number;
  strategyId: number | null;
  platformId: string;
  executionMode: ExecutionMode;
  side: 'yes' | 'no';
  /** Contracts settled, exact (fractional holdings included). */
  quantity: Decimal;
  /** What one contract of the position's side pays. */
  sidePayout: string;
  proceeds: string;
  costBasis: string;
  /** proceeds − cost basis: what settlement adds to realized P&L. */
  settlementPnl: string;
  /** The position's realized P&L after settlement (fees included, as always). */
  realizedPnl: string;
}

export interface MarketSettlement {
  marketId: string;
  ticker: string;
  platformId: string;
  outcome: 'yes' | 'no' | 'scalar';
  /** The YES payout. */
  payout: string;
  /** null in a dry run. */
  settlementId: number | null;
  positions: SettledPosition[];
  cash: Array<{ platformId: string; executionMode: ExecutionMode; credited: string; balance: string | null }>;
  exitRequestsCancelled: number;
}

export interface SettleMarketsResult {
  dryRun: boolean;
  executionMode: ExecutionMode;
  venue: string | null;
  settled: MarketSettlement[];
  skipped: Array<{ marketId: string; reason: string }>;
  /** Markets the simulated venue was asked to settle; credited null: it had settled it already. */
  venueSettlements: Array<{ marketId: string; ticker: string; credited: string | null }>;
  /** Open orders read back from the venue before (and after) settling, and the fills that recorded. */
  ordersSynced: number;
  fillsRecorded: number;
  /** Strategies whose ROI or trade counts changed. */
  strategiesUpdated: number[];
  errors: Array<{ marketId?: string; ticker?: string; error: string }>;
  /** Live: each books settlement compared with the venue's settlement credit (crossCheck.ts). */
  settlementChecks: SettlementCheck[];
  /** Settlement desyncs opened by this run (the ones to announce). */
  newDesyncs: Desync[];
}

/** The platform the exchanges trade (the paper venue simulates it). */
const VENUE_PLATFORM = 'kalshi';
/** How long a settlement waits for a running sweep or a busy position before giving up (retried next run). */
const LOCK_TIMEOUT = '30s';
export const MARKET_SETTLED_REASON = 'market settled';

export function outcomeOf(payout: Decimal): 'yes' | 'no' | 'scalar' {
  return payout.eq(1) ? 'yes' : payout.isZero() ? 'no' : 'scalar';
}

/**
 * What settlement does to one position (pure, exact): every contract pays its side's payout, the
 * cost basis leaves, and realized P&L gains the difference. No fee is charged on settlement.
 */
export function settleBook(
  position: { side: 'yes' | 'no'; quantity: Decimal; costBasis: Decimal; realizedPnl: Decimal },
  yesPayout: Decimal,
): { sidePayout: Decimal; proceeds: Decimal; settlementPnl: Decimal; realizedPnl: Decimal } {
  const sidePayout = position.side === 'yes' ? yesPayout : ONE.minus(yesPayout);
  const proceeds = sidePayout.times(position.quantity);
  const settlementPnl = proceeds.minus(position.costBasis);
  return { sidePayout, proceeds, settlementPnl, realizedPnl: position.realizedPnl.plus(settlementPnl) };
}

interface Candidate {
  marketId: string;
  platformId: string;
  ticker: string;
  payout: Decimal;
}

interface OpenPositionRow {
  row: Record<string, any>;
  positionId: number;
  side: 'yes' | 'no';
  quantity: Decimal;
  costBasis: Decimal;
  realizedPnl: Decimal;
}

export async function settleMarkets(deps: SettleMarketsDeps, options: SettleMarketsOptions = {}): Promise<SettleMarketsResult> {
  const exchange = deps.exchange;
  if (exchange && deps.executionMode && exchange.executionMode !== deps.executionMode) {
    throw new Error(`settle-markets runs in ${deps.executionMode} mode but the exchange ${exchange.name} is ${exchange.executionMode}`);
  }
  const mode: ExecutionMode = exchange?.executionMode ?? deps.executionMode ?? 'paper';
  const dryRun = options.dryRun ?? false;
  const result: SettleMarketsResult = {
    dryRun, executionMode: mode, venue: exchange?.name ?? null, settled: [], skipped: [], venueSettlements: [],
    ordersSynced: 0, fillsRecorded: 0, strategiesUpdated: [], errors: [], settlementChecks: [], newDesyncs: [],
  };

  const { candidates, skipped, alreadySettled } = await findCandidates(deps.pool, options.marketIds);
  result.skipped.push(...skipped);
  const ready = await checkOrders(deps.pool, candidates, exchange, result);

  for (const market of ready) {
    try {
      if (dryRun) {
        result.settled.push(await previewSettlement(deps.pool, market));
        continue;
      }
      // Fills made before the market closed are recorded before it settles.
      const before = await syncOpenOrders(deps.pool, exchange, market.marketId, result);
      if (before.failed) {
        result.skipped.push({ marketId: market.marketId, reason: `could not read its open orders back from ${exchange!.name}: ${before.failed}` });
        continue;
      }
      const settlement = await settleMarket(deps.pool, market);
      if (!settlement) {
        result.skipped.push({ marketId: market.marketId, reason: 'settled by a concurrent run' });
        continue;
      }
      result.settled.push(settlement);
    } catch (error) {
      result.errors.push({ marketId: market.marketId, error: (error as Error).message });
      continue;
    }
    await settleAtVenue(deps.pool, exchange, market, result);
  }

  if (!dryRun && exchange?.settle) {
    // Markets settled earlier whose venue settlement did not happen (a failure after the books
    // committed) or that were asked for again: the venue still holds something there.
    await settleLeftovers(deps.pool, exchange, alreadySettled, new Set(result.venueSettlements.map((v) => v.ticker)), result);
  }
  if (!dryRun && exchange?.executionMode === 'live' && exchange.getSettlements) {
    // The venue settles itself: its settlement credits must equal the books' (a market it has not
    // settled yet is checked again next run).
    try {
      const checked = await crossCheckSettlements(deps.pool, exchange);
      result.settlementChecks = checked.checks;
      result.newDesyncs = checked.newDesyncs;
    } catch (error) {
      result.errors.push({ error: `settlement cross-check with ${exchange.name}: ${(error as Error).message}` });
    }
  }
  if (!dryRun) result.strategiesUpdated = await recomputeStrategyFigures(deps.pool);
  return result;
}

/**
 * Current markets to settle: every settled market without a settlements row (default), or the
 * markets asked for, each settled or skipped with its reason.
 */
async function findCandidates(pool: pg.Pool, marketIds: readonly string[] | undefined): Promise<{
  candidates: Candidate[];
  skipped: SettleMarketsResult['skipped'];
  alreadySettled: Candidate[];
}> {
  const select = `SELECT m.market_id, m.platform_id, coalesce(m.ticker, m.market_id) AS ticker, m.status, m.settlement_value,
                         s.settlement_id, s.payout AS settled_payout
                  FROM markets m LEFT JOIN settlements s ON s.market_id = m.market_id`;
  const asked = marketIds ? [...new Set(marketIds)] : null;
  const { rows } = asked
    ? await pool.query(`${select} WHERE m.row_current_ind AND m.market_id = ANY($1::text[]) ORDER BY m.market_id`, [asked])
    : await pool.query(`${select} WHERE m.row_current_ind AND m.status = 'settled' AND s.settlement_id IS NULL ORDER BY m.market_id`);
  const candidates: Candidate[] = [];
  const alreadySettled: Candidate[] = [];
  const skipped: SettleMarketsResult['skipped'] = [];
  const found = new Set(rows.map((r) => r.market_id as string));
  for (const id of asked ?? []) if (!found.has(id)) skipped.push({ marketId: id, reason: 'no such market' });
  for (const r of rows) {
    const base = { marketId: r.market_id as string, platformId: r.platform_id as string, ticker: r.ticker as string };
    if (r.settlement_id !== null) {
      const payout = decimal(r.settled_payout);
      skipped.push({ marketId: base.marketId, reason: `already settled (settlement ${r.settlement_id}, payout ${payout.toFixed(4)})` });
      alreadySettled.push({ ...base, payout });
    } else if (r.status !== 'settled') {
      skipped.push({ marketId: base.marketId, reason: `market is ${r.status ?? 'without a status'}: not settled yet` });
    } else if (r.settlement_value === null) {
      skipped.push({
        marketId: base.marketId,
        reason: 'settled without a settlement value (voided, or the value is not published yet): nothing to pay out; a void market must be settled by hand',
      });
    } else {
      candidates.push({ ...base, payout: decimal(r.settlement_value) });
    }
  }
  return { candidates, skipped, alreadySettled };
}

/**
 * Drops (with the reason) the markets whose orders cannot be concluded by this run: an order in
 * flight (pending: execution or reconciliation concludes it), or open orders of a mode whose
 * venue this run cannot read.
 */
async function checkOrders(pool: pg.Pool, candidates: Candidate[], exchange: Exchange | undefined, result: SettleMarketsResult): Promise<Candidate[]> {
  if (candidates.length === 0) return [];
  const { rows } = await pool.query(
    `SELECT market_id, execution_mode, status, count(*)::int AS n FROM orders
     WHERE market_id = ANY($1::text[]) AND status IN ('pending', 'resting', 'partially_filled')
     GROUP BY 1, 2, 3`,
    [candidates.map((c) => c.marketId)],
  );
  const blocked = new Map<string, string>();
  for (const r of rows) {
    if (blocked.has(r.market_id)) continue;
    if (r.status === 'pending') {
      blocked.set(r.market_id, `${r.n} ${r.execution_mode} order(s) pending (in flight): settled once execution or reconciliation concludes them`);
    } else if (!exchange || exchange.executionMode !== r.execution_mode) {
      blocked.set(r.market_id, `${r.n} open ${r.execution_mode} order(s): reconcile them with the ${r.execution_mode} venue first (fills before settlement must be recorded)`);
    }
  }
  for (const [marketId, reason] of blocked) result.skipped.push({ marketId, reason });
  return candidates.filter((c) => !blocked.has(c.marketId));
}

/**
 * Reads the market's open orders (of the exchange's mode) back from the venue and records their
 * fills, as reconciliation does. `failed` says why they could not all be read.
 */
async function syncOpenOrders(
  pool: pg.Pool,
  exchange: Exchange | undefined,
  marketId: string,
  result: SettleMarketsResult,
): Promise<{ failed?: string }> {
  if (!exchange) return {};
  const open = await findOrders(
    pool,
    `market_id = $1 AND execution_mode = $2 AND status IN ('resting', 'partially_filled') AND venue_order_id IS NOT NULL`,
    [marketId, exchange.executionMode],
  );
  const failures: string[] = [];
  for (const candidate of open) {
    try {
      await withTransaction(pool, async (client) => {
        const order = await lockOrder(client, candidate.clientOrderId);
        if (!order || !['resting', 'partially_filled'].includes(order.status)) return;
        const venueOrder = await exchange.getOrder(order.venueOrderId!);
        const fills = venueOrder.filledCount.gt(0) ? await exchange.getFills({ venueOrderId: venueOrder.venueOrderId }) : [];
        const update = await applyVenueUpdate(client, order, venueOrder, fills, { edge: await edgeOf(client, order.edgeId) });
        result.fillsRecorded += update.newFills.length;
      });
      result.ordersSynced++;
    } catch (error) {
      failures.push(`${candidate.clientOrderId}: ${(error as Error).message}`);
    }
  }
  return failures.length > 0 ? { failed: failures.join('; ') } : {};
}

async function openPositionsOf(db: Queryable, marketId: string): Promise<OpenPositionRow[]> {
  const { rows } = await db.query(
    `SELECT p.*, pi.strategy_id FROM positions p JOIN position_identities pi ON pi.position_id = p.position_id
     WHERE p.market_id = $1 AND p.row_current_ind AND p.status = 'open'
     ORDER BY p.position_id`,
    [marketId],
  );
  return rows.map((row) => ({
    row,
    positionId: Number(row.position_id),
    side: row.side as 'yes' | 'no',
    quantity: decimal(row.quantity),
    // Positions written before cost_basis existed: their entry price is all there is (as the ledger).
    costBasis: decimalOrNull(row.cost_basis) ?? decimal(row.entry_price).times(decimal(row.quantity)),
    realizedPnl: decimalOrNull(row.realized_pnl) ?? ZERO,
  }));
}

function settledPosition(p: OpenPositionRow, payout: Decimal): { report: SettledPosition; version: SnapshotRow } {
  const s = settleBook(p, payout);
  const r = p.row;
  return {
    report: {
      positionId: p.positionId,
      strategyId: r.strategy_id === null ? null : Number(r.strategy_id),
      platformId: r.platform_id,
      executionMode: r.execution_mode,
      side: p.side,
      quantity: p.quantity,
      sidePayout: s.sidePayout.toFixed(4),
      proceeds: s.proceeds.toFixed(4),
      costBasis: p.costBasis.toFixed(4),
      settlementPnl: s.settlementPnl.toFixed(4),
      realizedPnl: s.realizedPnl.toFixed(4),
    },
    version: {
      position_id: p.positionId,
      market_id: r.market_id,
      platform_id: r.platform_id,
      side: p.side,
      execution_mode: r.execution_mode,
      entry_price: decimal(r.entry_price),
      quantity: new Decimal(0),
      original_quantity: r.original_quantity,
      cost_basis: ZERO,
      fees: decimalOrNull(r.fees),
      status: 'settled',
      unrealized_pnl: ZERO,
      realized_pnl: s.realizedPnl,
      current_price: s.sidePayout,
      unrealized_pnl_pct: ZERO,
      last_update: r.last_update,
      trailing_stop_state: r.trailing_stop_state,
      exit_reason: r.exit_reason,
      exit_priority: r.exit_priority,
    },
  };
}

/** Proceeds per platform and mode, in lock order. */
function proceedsByAccount(positions: SettledPosition[]): Array<{ platformId: string; executionMode: ExecutionMode; credited: Decimal }> {
  const sums = new Map<string, { platformId: string; executionMode: ExecutionMode; credited: Decimal }>();
  for (const p of positions) {
    const key = `${p.platformId}\u0000${p.executionMode}`;
    const entry = sums.get(key) ?? { platformId: p.platformId, executionMode: p.executionMode, credited: ZERO };
    entry.credited = entry.credited.plus(p.proceeds);
    sums.set(key, entry);
  }
  return [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

async function settleMarket(pool: pg.Pool, market: Candidate): Promise<MarketSettlement | null> {
  return withTransaction(pool, async (client) => {
    await client.query(`SELECT set_config('lock_timeout', $1, true)`, [LOCK_TIMEOUT]);
    await client.query('SELECT pg_advisory_xact_lock($1)', [MONITOR_LOCK_KEY]);
    const outcome = outcomeOf(market.payout);
    const { rows: [settlement] } = await client.query(
      `INSERT INTO settlements (market_id, platform_id, outcome, payout) VALUES ($1, $2, $3, $4)
       ON CONFLICT (market_id) DO NOTHING RETURNING settlement_id`,
      [market.marketId, market.platformId, outcome, market.payout.toFixed(4)],
    );
    if (!settlement) return null;

    // Identities first, then their exit requests: the order execute-exit and the sweep lock them in.
    await client.query('SELECT position_id FROM position_identities WHERE market_id = $1 ORDER BY position_id FOR UPDATE', [market.marketId]);
    const { rows: requests } = await client.query(
      `SELECT r.exit_request_id FROM exit_requests r JOIN position_identities pi ON pi.position_id = r.position_id
       WHERE pi.market_id = $1 AND r.status = 'active' ORDER BY r.exit_request_id FOR UPDATE OF r`,
      [market.marketId],
    );
    // Read after the locks: the current versions as the last writer committed them.
    const open = await openPositionsOf(client, market.marketId);
    const settled = open.map((p) => settledPosition(p, market.payout));
    if (settled.length > 0) await versionedUpsert(client, POSITIONS, settled.map((s) => s.version));

    const cash: MarketSettlement['cash'] = [];
    for (const account of proceedsByAccount(settled.map((s) => s.report))) {
      if (account.credited.isZero()) {
        cash.push({ platformId: account.platformId, executionMode: account.executionMode, credited: '0.0000', balance: null });
        continue;
      }
      const balance = await lockBalance(client, account.platformId, account.executionMode);
      if (balance === null) {
        throw new Error(`no ${account.platformId}/${account.executionMode} cash balance to credit ${account.credited.toFixed(4)} to`);
      }
      const after = balance.plus(account.credited);
      await writeBalance(client, account.platformId, account.executionMode, after);
      cash.push({ platformId: account.platformId, executionMode: account.executionMode, credited: account.credited.toFixed(4), balance: after.toFixed(4) });
    }

    const cancelled = requests.length === 0 ? { rowCount: 0 } : await client.query(
      `UPDATE exit_requests SET status = 'cancelled', status_reason = $2 WHERE exit_request_id = ANY($1::bigint[]) AND status = 'active'`,
      [requests.map((r) => r.exit_request_id), MARKET_SETTLED_REASON],
    );
    return {
      marketId: market.marketId, ticker: market.ticker, platformId: market.platformId, outcome, payout: market.payout.toFixed(4),
      settlementId: Number(settlement.settlement_id), positions: settled.map((s) => s.report), cash,
      exitRequestsCancelled: cancelled.rowCount ?? 0,
    };
  });
}

/** What settleMarket would do, read without locks or writes. */
async function previewSettlement(pool: pg.Pool, market: Candidate): Promise<MarketSettlement> {
  const open = await openPositionsOf(pool, market.marketId);
  const positions = open.map((p) => settledPosition(p, market.payout).report);
  const accounts = proceedsByAccount(positions);
  const { rows: balances } = await pool.query(
    `SELECT platform_id, execution_mode, balance FROM current_balances WHERE currency = 'USD'`,
  );
  const balanceOf = (platformId: string, mode: string) => decimalOrNull(balances.find((b) => b.platform_id === platformId && b.execution_mode === mode)?.balance);
  const { rows: [requests] } = await pool.query(
    `SELECT count(*)::int AS n FROM exit_requests r JOIN position_identities pi ON pi.position_id = r.position_id
     WHERE pi.market_id = $1 AND r.status = 'active'`,
    [market.marketId],
  );
  return {
    marketId: market.marketId, ticker: market.ticker, platformId: market.platformId, outcome: outcomeOf(market.payout),
    payout: market.payout.toFixed(4), settlementId: null, positions,
    cash: accounts.map((a) => ({
      platformId: a.platformId, executionMode: a.executionMode, credited: a.credited.toFixed(4),
      balance: a.credited.isZero() ? null : balanceOf(a.platformId, a.executionMode)?.plus(a.credited).toFixed(4) ?? null,
    })),
    exitRequestsCancelled: requests.n,
  };
}

/**
 * The simulated venue settles the market too (idempotent), then the market's open orders are read
 * back (the venue cancelled the resting ones) so the books close them.
 */
async function settleAtVenue(pool: pg.Pool, exchange: Exchange | undefined, market: Candidate, result: SettleMarketsResult): Promise<void> {
  if (!exchange?.settle || market.platformId !== VENUE_PLATFORM) return;
  try {
    const settled = await exchange.settle(market.ticker, market.payout);
    result.venueSettlements.push({ marketId: market.marketId, ticker: market.ticker, credited: settled ? settled.credited.toFixed(4) : null });
  } catch (error) {
    result.errors.push({ marketId: market.marketId, ticker: market.ticker, error: `${exchange.name} settlement: ${(error as Error).message}` });
    return;
  }
  const after = await syncOpenOrders(pool, exchange, market.marketId, result);
  if (after.failed) result.errors.push({ marketId: market.marketId, error: `closing its orders after settlement: ${after.failed}` });
}

/**
 * Markets settled in the books before this run whose venue settlement is still owed: the ones
 * asked for again, and any where the venue still holds a position or resting orders.
 */
async function settleLeftovers(
  pool: pg.Pool,
  exchange: Exchange,
  asked: Candidate[],
  done: Set<string>,
  result: SettleMarketsResult,
): Promise<void> {
  let tickers: string[];
  try {
    const [positions, resting] = await Promise.all([exchange.getPositions(), exchange.listOrders({ status: 'resting' })]);
    tickers = [...new Set([...positions.map((p) => p.ticker), ...resting.map((o) => o.ticker)])].filter((t) => !done.has(t));
  } catch (error) {
    result.errors.push({ error: `reading ${exchange.name} positions: ${(error as Error).message}` });
    return;
  }
  const leftovers = new Map(asked.filter((c) => !done.has(c.ticker)).map((c) => [c.ticker, c]));
  if (tickers.length > 0) {
    const { rows } = await pool.query(
      `SELECT s.market_id, s.platform_id, coalesce(cm.ticker, s.market_id) AS ticker, s.payout
       FROM settlements s LEFT JOIN current_markets cm ON cm.market_id = s.market_id
       WHERE coalesce(cm.ticker, s.market_id) = ANY($1::text[]) AND s.payout IS NOT NULL`,
      [tickers],
    );
    for (const r of rows) {
      leftovers.set(r.ticker, { marketId: r.market_id, platformId: r.platform_id, ticker: r.ticker, payout: decimal(r.payout) });
    }
  }
  for (const market of leftovers.values()) await settleAtVenue(pool, exchange, market, result);
}

/**
 * Every strategy with positions gets its figures per execution mode, in one statement:
 *  - ROI = Σ realized P&L of its closed and settled positions (current versions; fees included)
 *    / Σ notional (price × quantity) of its buy trades on those positions. The quotient is taken
 *    to 20 decimals and rounded half away from zero (decimal.js ROUND_HALF_UP) to 4; NULL when
 *    nothing was paid (no finished position in that mode).
 *  - trades count = its trades (buys and sells) in that mode.
 * Only strategies whose figures change are written; returns their ids.
 */
export async function recomputeStrategyFigures(db: Queryable): Promise<number[]> {
  const { rows } = await db.query(`
    WITH finished AS (
      SELECT pi.strategy_id, pi.execution_mode, p.position_id, coalesce(p.realized_pnl, 0) AS realized_pnl
      FROM position_identities pi
      JOIN positions p ON p.position_id = pi.position_id AND p.row_current_ind
      WHERE pi.strategy_id IS NOT NULL AND p.status IN ('closed', 'settled')
    ),
    per_mode AS (
      SELECT f.strategy_id, f.execution_mode, sum(f.realized_pnl) AS pnl,
             sum((SELECT coalesce(sum(t.price * t.quantity), 0) FROM trades t WHERE t.position_id = f.position_id AND t.side = 'buy')) AS cost
      FROM finished f GROUP BY 1, 2
    ),
    roi AS (
      SELECT strategy_id, execution_mode,
             CASE WHEN cost > 0 THEN round(pnl::numeric(40,20) / cost, 4) END AS roi
      FROM per_mode
    ),
    counts AS (
      SELECT strategy_id, execution_mode, count(*)::int AS n FROM trades WHERE strategy_id IS NOT NULL GROUP BY 1, 2
    ),
    figures AS (
      SELECT s.strategy_id,
             (SELECT r.roi FROM roi r WHERE r.strategy_id = s.strategy_id AND r.execution_mode = 'paper') AS paper_roi,
             (SELECT r.roi FROM roi r WHERE r.strategy_id = s.strategy_id AND r.execution_mode = 'live') AS live_roi,
             coalesce((SELECT c.n FROM counts c WHERE c.strategy_id = s.strategy_id AND c.execution_mode = 'paper'), 0) AS paper_trades_count,
             coalesce((SELECT c.n FROM counts c WHERE c.strategy_id = s.strategy_id AND c.execution_mode = 'live'), 0) AS live_trades_count
      FROM (SELECT DISTINCT strategy_id FROM position_identities WHERE strategy_id IS NOT NULL) s
    )
    UPDATE strategies st
       SET paper_roi = f.paper_roi, live_roi = f.live_roi,
           paper_trades_count = f.paper_trades_count, live_trades_count = f.live_trades_count
      FROM figures f
     WHERE st.strategy_id = f.strategy_id
       AND (st.paper_roi, st.live_roi, st.paper_trades_count, st.live_trades_count)
           IS DISTINCT FROM (f.paper_roi, f.live_roi, f.paper_trades_count, f.live_trades_count)
    RETURNING st.strategy_id`);
  return rows.map((r) => Number(r.strategy_id)).sort((a, b) => a - b);
}
