import type pg from 'pg';
import { machineElapsedMs } from '../clock/clock';
import {
  DEFAULT_TRADING_RULES, type CircuitBreakerType, type ConfidenceLevel, type ExitPriority,
  type TradingRules,
} from '../config/tradingRules';
import { Decimal, toSqlDecimal } from '../domain/decimal';
import { decimal, decimalOrNull } from '../db/rows';
import { withTransaction } from '../db/transaction';
import { POSITIONS } from '../db/versionedTables';
import { versionedUpsert, type SnapshotRow } from '../db/versionedUpsert';
import { evaluateExits, isUrgent, partialExitStage, PRIORITY_RANK, type ExitInput, type ExitTrigger } from '../exits/conditions';
import { parseTrailingStop, updateTrailingStop, type TrailingStopState } from '../exits/trailingStop';
import { valuePosition } from '../exits/valuation';
import type { ExitOrderMessage, ExitQueue } from '../queues/messages';
import { breakerEffect } from '../risk/breakers';

/**
 * One monitor sweep: every open position (or the ones asked for) re-priced at its side's bid,
 * its trailing stop moved, the ten exit conditions evaluated, and the exits decided, in a
 * constant number of statements whatever the number of positions:
 *
 *   BEGIN; try-lock + timeouts; load positions (1); load account context (1);
 *   lock the identities of the positions to write, skipping locked ones (1);
 *   changed versions (2: stripe locks + upsert); heartbeat of the unchanged (1);
 *   supersede lower-priority exits in flight (1); new exit requests (1); COMMIT;
 *   then the exit outbox: read unsent (1), send, stamp (1).
 *
 * Two sweeps never run at once (a transaction-level advisory try-lock: the second reports
 * `skipped`), so each exit is decided once. An exit request is created only when the position
 * has none active, or supersedes an active one of lower priority; the same or a lower priority
 * waits for the one in flight.
 */

export const MONITOR_LOCK_KEY = 0x6d6f6e69; // "moni"

export interface SweepDeps {
  pool: pg.Pool;
  /** Where exit orders go; omit to record requests without sending (they stay in the outbox). */
  queue?: ExitQueue;
  rules?: TradingRules;
  /** The positions this deployment trades (paper by default). */
  executionMode?: 'paper' | 'live';
  /**
   * How long an active exit's message may go unseen (no send, no receive) before it is presumed
   * gone (dead-lettered) and sent again (default EXIT_MESSAGE_WINDOW_SECONDS).
   */
  messageWindowSeconds?: number;
}

/**
 * The exit queue's visibility timeout as deployed (infra/queues.ts: 6× execute-exit's timeout), the
 * longest a live message stays unseen: a failed receive hides it that long, a walk less (every
 * priority's wait is shorter).
 */
export const EXIT_VISIBILITY_TIMEOUT_SECONDS = 180;
/** Beyond the visibility timeout, the time Lambda's poller may take to receive a visible message. */
export const EXIT_MESSAGE_MARGIN_SECONDS = 60;
export const EXIT_MESSAGE_WINDOW_SECONDS = EXIT_VISIBILITY_TIMEOUT_SECONDS + EXIT_MESSAGE_MARGIN_SECONDS;

export interface SweepOptions {
  /** Only these positions (console filter, or the urgent ones between full sweeps). */
  positionIds?: readonly number[];
  /** Evaluate and report; write and send nothing. */
  dryRun?: boolean;
}

export interface SweepTrigger extends ExitTrigger {
  positionId: number;
}

export interface SweepExit {
  positionId: number;
  exitRequestId?: number;
  condition: string;
  priority: ExitPriority;
  quantity: Decimal;
  partialStage: number | null;
  supersedes: number | null;
}

export interface SweepResult {
  /** Set when another sweep holds the lock: nothing was evaluated. */
  skipped?: string;
  /** Positions left to the next sweep: an exit or a fill was recording a new version of them at the time. */
  moved?: number[];
  positions: number;
  versions: number;
  heartbeats: number;
  /** Every exit condition that fired, decided or not. */
  triggers: SweepTrigger[];
  exits: SweepExit[];
  /** Triggers not acted on because an exit of the same or higher priority is in flight. */
  waiting: number;
  /** Positions to look at again on the urgent cadence. */
  urgent: number[];
  enqueued: number;
  /** Of those, exits whose message was presumed gone (not seen within the message window): sent again. */
  resent: number;
  unsent: number;
  /** Positions that could not be priced (no market row, no bid), with the reason. */
  unpriced: Array<{ positionId: number; reason: string }>;
  ms: number;
}

const POSITIONS_SQL = `
SELECT p.position_id, p.position_version_id, p.market_id, p.platform_id, p.side, p.execution_mode, p.entry_price, p.quantity,
       p.original_quantity, p.cost_basis, p.fees, p.status, p.unrealized_pnl, p.realized_pnl, p.current_price, p.unrealized_pnl_pct,
       p.trailing_stop_state, p.exit_reason, p.exit_priority,
       pi.strategy_id, pi.model_id,
       m.status AS market_status, m.spread, m.volume, m.close_time,
       CASE p.side WHEN 'yes' THEN m.yes_bid ELSE m.no_bid END AS bid,
       CASE p.side WHEN 'yes' THEN m.yes_price ELSE m.no_price END AS ask,
       e.edge AS current_edge, e.expected_value AS current_ev,
       s.config->'exits' AS exit_overrides,
       (SELECT t.confidence_at_execution FROM trades t
         WHERE t.position_id = p.position_id AND t.side = 'buy' ORDER BY t.trade_id LIMIT 1) AS confidence,
       coalesce((SELECT sum(x.quantity_exited) FROM position_exits x
                  WHERE x.position_id = p.position_id AND x.exit_condition = 'partial_exit_target'), 0) AS partial_exited,
       r.exit_request_id AS active_request_id, r.exit_priority AS active_priority, r.exit_condition AS active_condition,
       r.partial_stage AS active_stage, r.quantity - r.filled_quantity AS active_remaining
FROM positions p
JOIN position_identities pi ON pi.position_id = p.position_id
LEFT JOIN markets m ON m.market_id = p.market_id AND m.row_current_ind
LEFT JOIN edges e ON e.market_id = p.market_id AND e.strategy_id = pi.strategy_id AND e.model_id = pi.model_id
                 AND e.side = p.side AND e.row_current_ind
LEFT JOIN strategies s ON s.strategy_id = pi.strategy_id
LEFT JOIN exit_requests r ON r.position_id = p.position_id AND r.status = 'active'
WHERE p.row_current_ind AND p.status = 'open' AND p.execution_mode = $2
  AND ($1::bigint[] IS NULL OR p.position_id = ANY($1::bigint[]))
ORDER BY p.position_id`;

/** Account-wide facts the conditions need, in one statement. */
const CONTEXT_SQL = `
SELECT precog_now() AS now,
       (SELECT coalesce(json_agg(json_build_object('type', breaker_type, 'value', trigger_value)), '[]')
          FROM circuit_breaker_events WHERE resolved_at IS NULL) AS breakers,
       (SELECT count(*)::int FROM positions WHERE row_current_ind AND status = 'open' AND execution_mode = $1) AS open_positions,
       (SELECT coalesce(sum(coalesce(cost_basis, quantity * entry_price)), 0)
          FROM positions WHERE row_current_ind AND status = 'open' AND execution_mode = $1) AS total_exposure,
       (SELECT max(e.expected_value) FROM edges e
          WHERE e.row_current_ind AND e.recommended_action = 'auto_execute'
            AND NOT EXISTS (SELECT 1 FROM positions p WHERE p.row_current_ind AND p.status = 'open' AND p.market_id = e.market_id
                              AND p.execution_mode = $1)
       ) AS best_opportunity_ev`;

interface Loaded {
  row: Record<string, unknown>;
  positionId: number;
  quantity: Decimal;
  costBasis: Decimal;
  entryPrice: Decimal;
  bid: Decimal | null;
  currentEv: Decimal | null;
}


export async function sweepPositions(deps: SweepDeps, options: SweepOptions = {}): Promise<SweepResult> {
  const rules = deps.rules ?? DEFAULT_TRADING_RULES;
  const mode = deps.executionMode ?? 'paper';
  const started = machineElapsedMs(); // how long the sweep took: machine time (a metric)
  const result: SweepResult = {
    positions: 0, versions: 0, heartbeats: 0, triggers: [], exits: [], waiting: 0, urgent: [], enqueued: 0, resent: 0, unsent: 0, unpriced: [], ms: 0,
  };

  await withTransaction(deps.pool, async (client) => {
    // A frozen or killed invocation must not keep the lock: the server ends an idle transaction.
    const { rows: [lock] } = await client.query(
      `SELECT set_config('idle_in_transaction_session_timeout', '15s', true), pg_try_advisory_xact_lock($1) AS locked`,
      [MONITOR_LOCK_KEY],
    );
    if (!lock.locked) {
      result.skipped = 'another monitor sweep is running';
      return;
    }
    const [{ rows }, { rows: [context] }] = [
      await client.query(POSITIONS_SQL, [options.positionIds ? [...options.positionIds] : null, mode]),
      await client.query(CONTEXT_SQL, [mode]),
    ];
    const now: Date = context.now;
    result.positions = rows.length;

    const liquidationBreaker = liquidatingBreaker(context.breakers as Array<{ type: CircuitBreakerType; value: unknown }>, rules);
    const loaded: Loaded[] = rows.map((r) => ({
      row: r,
      positionId: r.position_id as number,
      quantity: decimal(r.quantity),
      costBasis: decimalOrNull(r.cost_basis) ?? decimal(r.entry_price).times(decimal(r.quantity)),
      entryPrice: decimal(r.entry_price),
      bid: decimalOrNull(r.bid),
      currentEv: decimalOrNull(r.current_ev),
    }));
    const rebalanceId = rebalanceCandidate(loaded, context, rules);

    const versions: SnapshotRow[] = [];
    const heartbeat: number[] = [];
    const supersede: number[] = [];
    const requests: Array<SweepExit & { versionRow: SnapshotRow | null; triggers: ExitTrigger[]; currentVersionId: number }> = [];

    for (const p of loaded) {
      const r = p.row;
      if (r.market_status === undefined || r.market_status === null) result.unpriced.push({ positionId: p.positionId, reason: 'no current market row' });
      else if (p.bid === null) result.unpriced.push({ positionId: p.positionId, reason: 'no bid on the position side: marked as before' });

      const value = valuePosition({ quantity: p.quantity, costBasis: p.costBasis, bid: p.bid });
      const trailing = updateTrailingStop(parseTrailingStop(r.trailing_stop_state), { entryPrice: p.entryPrice, price: p.bid }, rules);
      const overrides = exitOverrides(r.exit_overrides);
      const input: ExitInput = {
        quantity: p.quantity,
        originalQuantity: decimalOrNull(r.original_quantity) ?? p.quantity,
        entryPrice: p.entryPrice,
        bid: p.bid,
        ask: decimalOrNull(r.ask),
        spread: decimalOrNull(r.spread),
        volume: r.volume === null || r.volume === undefined ? null : Number(r.volume),
        closeTime: (r.close_time as Date | null) ?? null,
        now,
        unrealizedPnlPct: value.unrealizedPnlPct,
        confidence: ((r.confidence as ConfidenceLevel | null) ?? 'low'),
        trailingStop: trailing,
        recomputedEdge: decimalOrNull(r.current_edge),
        partialExitedQuantity: decimal(r.partial_exited).plus(r.active_condition === 'partial_exit_target' ? decimal(r.active_remaining) : new Decimal(0)),
        liquidationBreaker,
        rebalanceCandidate: p.positionId === rebalanceId,
        overrides,
      };
      const { triggers, decision } = evaluateExits(input, rules);
      for (const t of triggers) result.triggers.push({ positionId: p.positionId, ...t });
      if (isUrgent(input, rules)) result.urgent.push(p.positionId);

      // Act on the decision unless an exit of the same or higher priority is in flight, or the
      // market no longer trades (closed, determined…: the position waits for its settlement).
      let act = decision;
      if (act && r.market_status !== 'open') {
        result.unpriced.push({ positionId: p.positionId, reason: `market is ${String(r.market_status ?? 'unknown')}: no exit can trade, awaiting settlement` });
        act = null;
      }
      const activePriority = r.active_priority as ExitPriority | null;
      if (act && activePriority && PRIORITY_RANK[act.priority] <= PRIORITY_RANK[activePriority]) {
        result.waiting++;
        act = null;
      }

      const next = {
        current_price: value.currentPrice ?? decimalOrNull(r.current_price),
        unrealized_pnl: value.unrealizedPnl ?? decimalOrNull(r.unrealized_pnl),
        unrealized_pnl_pct: value.unrealizedPnlPct ?? decimalOrNull(r.unrealized_pnl_pct),
        trailing_stop_state: trailing as TrailingStopState | null,
        exit_reason: act ? act.condition : ((r.exit_reason as string | null) ?? null),
        exit_priority: act ? act.priority : ((r.exit_priority as string | null) ?? null),
      };
      const changed = !same(next.current_price, decimalOrNull(r.current_price)) || !same(next.unrealized_pnl, decimalOrNull(r.unrealized_pnl))
        || !same(next.unrealized_pnl_pct, decimalOrNull(r.unrealized_pnl_pct))
        || JSON.stringify(next.trailing_stop_state) !== JSON.stringify(parseTrailingStop(r.trailing_stop_state))
        || next.exit_reason !== r.exit_reason || next.exit_priority !== r.exit_priority;
      let versionRow: SnapshotRow | null = null;
      if (changed) {
        versionRow = {
          position_id: p.positionId, market_id: r.market_id as string, platform_id: r.platform_id as string, side: r.side as string,
          execution_mode: r.execution_mode as string, entry_price: p.entryPrice, quantity: p.quantity,
          original_quantity: decimalOrNull(r.original_quantity), cost_basis: p.costBasis, fees: decimalOrNull(r.fees),
          status: 'open', realized_pnl: decimalOrNull(r.realized_pnl), last_update: now, ...next,
        };
        versions.push(versionRow);
      } else {
        heartbeat.push(p.positionId);
      }
      if (act) {
        if (r.active_request_id) supersede.push(r.active_request_id as number);
        requests.push({
          positionId: p.positionId, condition: act.condition, priority: act.priority, quantity: act.quantity,
          partialStage: act.condition === 'partial_exit_target' ? partialExitStage(input, act.quantity, rules) : null,
          supersedes: (r.active_request_id as number | null) ?? null, versionRow, triggers, currentVersionId: r.position_version_id as number,
        });
      }
    }

    if (!options.dryRun) {
      // Position versions are written under the position's identity lock, as the ledger and
      // settlement write theirs: a position whose fill or exit is being recorded right now is
      // skipped, and one whose version moved since this sweep read it is left to the next sweep;
      // neither is overwritten with the quantity read before (a lost update that re-opens sold
      // contracts, then sells them twice).
      // The heartbeat too: an in-place UPDATE makes a new tuple, and a ledger write that read the
      // row before it would then close nothing and add a second current version.
      const touched = [...new Set([...versions.map((v) => Number(v.position_id)), ...requests.map((q) => q.positionId), ...heartbeat])]
        .sort((a, b) => a - b);
      if (touched.length > 0) {
        // Locking the version row too makes a version superseded since this statement's snapshot
        // drop out (its row_current_ind is rechecked on the newest tuple), rather than be returned
        // as current: a lock alone re-reads only the row it locks.
        const readVersion = new Map(loaded.map((p) => [p.positionId, Number(p.row.position_version_id)]));
        const { rows: locked } = await client.query(
          `SELECT pi.position_id, p.position_version_id
           FROM position_identities pi JOIN positions p ON p.position_id = pi.position_id AND p.row_current_ind
           WHERE pi.position_id = ANY($1::bigint[]) ORDER BY pi.position_id FOR UPDATE OF pi, p SKIP LOCKED`,
          [touched],
        );
        const fresh = new Set(locked.filter((l) => Number(l.position_version_id) === readVersion.get(Number(l.position_id))).map((l) => Number(l.position_id)));
        const stale = touched.filter((id) => !fresh.has(id));
        if (stale.length > 0) {
          result.moved = stale;
          const keep = <T>(list: T[], id: (x: T) => number) => list.splice(0, list.length, ...list.filter((x) => fresh.has(id(x))));
          keep(versions, (v) => Number(v.position_id));
          keep(requests, (q) => q.positionId);
          keep(heartbeat, (id) => id);
          // The requests superseded are those of the requests kept.
          supersede.splice(0, supersede.length, ...requests.map((q) => q.supersedes).filter((x): x is number => x !== null));
        }
      }
    }
    result.exits = requests.map(({ versionRow: _v, triggers: _t, currentVersionId: _c, ...exit }) => exit);
    if (options.dryRun) return;

    const written = versions.length > 0 ? await versionedUpsert(client, POSITIONS, versions) : { inserted: 0, versions: [] };
    result.versions = written.inserted;
    const newVersion = new Map(written.versions.map((v) => [Number(v.key[0]), v.versionId]));
    if (heartbeat.length > 0) {
      await client.query('UPDATE positions SET last_update = $2 WHERE row_current_ind AND position_id = ANY($1::bigint[])', [heartbeat, now]);
      result.heartbeats = heartbeat.length;
    }
    if (supersede.length > 0) {
      await client.query(
        `UPDATE exit_requests SET status = 'superseded', status_reason = 'a higher-priority exit replaced it'
         WHERE status = 'active' AND exit_request_id = ANY($1::bigint[])`,
        [supersede],
      );
    }
    if (requests.length > 0) {
      const { rows: created } = await client.query(
        `INSERT INTO exit_requests (position_id, position_version_id, exit_condition, exit_priority, quantity, partial_stage, triggers, supersedes)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::numeric[], $6::int[], $7::jsonb[], $8::bigint[])
         ON CONFLICT DO NOTHING
         RETURNING exit_request_id, position_id`,
        [
          requests.map((q) => q.positionId), requests.map((q) => newVersion.get(q.positionId) ?? q.currentVersionId),
          requests.map((q) => q.condition), requests.map((q) => q.priority), requests.map((q) => toSqlDecimal(q.quantity)),
          requests.map((q) => q.partialStage), requests.map((q) => JSON.stringify(q.triggers)), requests.map((q) => q.supersedes),
        ],
      );
      const idOf = new Map(created.map((c) => [c.position_id as number, c.exit_request_id as number]));
      for (const exit of result.exits) exit.exitRequestId = idOf.get(exit.positionId);
    }
  });

  if (!result.skipped && !options.dryRun && deps.queue) {
    Object.assign(result, await sendUnsentExits(deps.pool, deps.queue, { messageWindowSeconds: deps.messageWindowSeconds }));
  }
  result.ms = Math.round(machineElapsedMs() - started);
  return result;
}

/**
 * Transactional outbox of exit requests, as for entry orders; and their redelivery: an active
 * request whose message was neither sent nor received within the message window has lost it (the
 * dead-letter queue took it after its receives, or it expired) and is sent again. A second message
 * of a live request is harmless: every receive locks the request, attempt n has one client order
 * id, and the first receive of a re-sent message looks for the attempt a died delivery placed.
 */
export async function sendUnsentExits(
  pool: pg.Pool,
  queue: ExitQueue,
  options: { messageWindowSeconds?: number } = {},
): Promise<{ enqueued: number; resent: number; unsent: number }> {
  const windowSeconds = options.messageWindowSeconds ?? EXIT_MESSAGE_WINDOW_SECONDS;
  // Claim before sending (one statement, rows being claimed by an overlapping run skipped), so two
  // monitors never both send a request's message. A claim whose send then fails is given back; one
  // whose process died before sending is due again after the window, like any lost message.
  const { rows } = await pool.query(
    `WITH due AS (
       SELECT exit_request_id, enqueued_at AS previous FROM exit_requests
       WHERE status = 'active'
         AND (enqueued_at IS NULL OR greatest(enqueued_at, message_received_at) < precog_now() - make_interval(secs => $1))
       FOR UPDATE SKIP LOCKED)
     UPDATE exit_requests r SET enqueued_at = precog_now() FROM due WHERE r.exit_request_id = due.exit_request_id
     RETURNING r.exit_request_id, r.position_id, r.exit_priority, r.created_at, due.previous`,
    [windowSeconds],
  );
  if (rows.length === 0) return { enqueued: 0, resent: 0, unsent: 0 };
  rows.sort((a, b) => a.exit_request_id - b.exit_request_id);
  const messages: ExitOrderMessage[] = rows.map((r) => ({
    version: 1, exitRequestId: r.exit_request_id, positionId: r.position_id, priority: r.exit_priority,
    createdAt: (r.created_at as Date).toISOString(),
  }));
  const { failed } = await queue.send(messages);
  const failedSet = new Set(failed);
  if (failed.length > 0) {
    const back = rows.filter((r) => failedSet.has(r.exit_request_id));
    await pool.query(
      `UPDATE exit_requests r SET enqueued_at = v.previous
       FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, previous) WHERE r.exit_request_id = v.id`,
      [back.map((r) => r.exit_request_id), back.map((r) => r.previous)],
    );
  }
  const sent = messages.map((m) => m.exitRequestId).filter((id) => !failedSet.has(id));
  const resends = new Set(rows.filter((r) => r.previous !== null).map((r) => r.exit_request_id as number));
  return { enqueued: sent.length, resent: sent.filter((id) => resends.has(id)).length, unsent: failed.length };
}

function same(a: Decimal | null, b: Decimal | null): boolean {
  return a === null || b === null ? a === b : a.eq(b);
}

/** The first unresolved breaker whose effect is to liquidate (manual: when its trigger says so). */
function liquidatingBreaker(breakers: Array<{ type: CircuitBreakerType; value: unknown }>, rules: TradingRules): string | null {
  for (const b of breakers) {
    if (b.type === 'manual') {
      if ((b.value as { liquidate?: unknown } | null)?.liquidate === true) return 'manual';
      continue;
    }
    if (breakerEffect(rules, b.type)?.liquidate) return b.type;
  }
  return null;
}

/**
 * rebalance: when the capital is fully committed (no room for another position under the
 * open-position or exposure limits) and an auto-execute edge on a market without a position beats
 * a profitable position's current EV by the configured margin, the profitable position with the
 * lowest current EV is the one to give way (one per sweep: the next sweep re-evaluates).
 */
function rebalanceCandidate(loaded: Loaded[], context: Record<string, unknown>, rules: TradingRules): number | null {
  const best = decimalOrNull(context.best_opportunity_ev);
  if (best === null) return null;
  const s = rules.sizing;
  const full = (context.open_positions as number) >= s.maxOpenPositions
    || decimal(context.total_exposure).plus(s.minPositionUsd).gt(s.maxTotalExposureUsd);
  if (!full) return null;
  let pick: Loaded | null = null;
  for (const p of loaded) {
    if (p.currentEv === null || p.bid === null || p.bid.times(p.quantity).lte(p.costBasis)) continue;
    if (best.minus(p.currentEv).lt(rules.exits.rebalanceMinEvAdvantage)) continue;
    if (!pick || p.currentEv.lt(pick.currentEv!)) pick = p;
  }
  return pick?.positionId ?? null;
}

function exitOverrides(json: unknown): ExitInput['overrides'] {
  if (!json || typeof json !== 'object') return undefined;
  const o = json as { stop_loss_pct?: unknown; partial_exits?: unknown };
  return {
    stopLossPct: typeof o.stop_loss_pct === 'string' ? new Decimal(o.stop_loss_pct) : undefined,
    partialExits: typeof o.partial_exits === 'boolean' ? o.partial_exits : undefined,
  };
}
