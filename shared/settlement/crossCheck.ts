import type pg from 'pg';
import { Decimal, ONE, ZERO } from '../domain/decimal';
import { decimal } from '../db/rows';
import { withTransaction } from '../db/transaction';
import type { Exchange, VenueSettlement } from '../exchange/types';
import type { Desync } from '../execution/reconcile';

/**
 * Live settlement cross-check: the venue's settlement credit for a market (Kalshi
 * `GET /portfolio/settlements`, `revenue`) must equal what the books credited their live positions
 * there, exactly.
 *
 * What the books expect the venue to credit: Σ contracts × their side's payout over the market's
 * live positions settled by the books, less one dollar per YES+NO pair: Kalshi nets a YES and a NO
 * held in the same market as soon as both exist and pays that pair's dollar then (not at
 * settlement), while per-strategy books may hold both sides until settlement.
 *
 * Per books settlement with live positions, not checked yet:
 *  - the venue has no settlement record for the ticker yet → `pending`, nothing written: the next
 *    run asks again (Kalshi settles on its own schedule);
 *  - equal → a `settlement_checks` row (matched), never checked again;
 *  - different → a `settlement_checks` row (not matched) and a `venue_desyncs` row of kind
 *    `settlement` for the market, with both sides' figures and the reason; it stays open until an
 *    operator resolves it (reconciliation does not resolve this kind).
 * `fee_cost` on the venue's record is kept with the check, not compared (the books charge no fee
 * on settlement).
 *
 * A market where the books held nothing live is not checked here: reconciliation compares
 * positions with the venue's while the market trades.
 */

export interface SettlementCheck {
  marketId: string;
  ticker: string;
  settlementId: number;
  status: 'matched' | 'differs' | 'pending' | 'error';
  /** What the books expect the venue to have credited, dollars. */
  booksCredit: string;
  /** The venue's credit (null: not settled at the venue yet, or it could not be read). */
  venueCredit: string | null;
  reason?: string;
}

export interface CrossCheckResult {
  checks: SettlementCheck[];
  /** Settlement desyncs found this run, and those opened for the first time (the ones to announce). */
  desyncs: Desync[];
  newDesyncs: Desync[];
}

interface BooksSettlement {
  settlementId: number;
  marketId: string;
  ticker: string;
  payout: Decimal;
  yes: Decimal;
  no: Decimal;
}

/** The books' expected venue credit: contracts × payout, less the YES+NO pairs the venue paid out when it netted them. */
export function expectedVenueCredit(books: { payout: Decimal; yes: Decimal; no: Decimal }): { proceeds: Decimal; nettedPairs: Decimal; credit: Decimal } {
  const proceeds = books.yes.times(books.payout).plus(books.no.times(ONE.minus(books.payout)));
  const nettedPairs = Decimal.min(books.yes, books.no);
  return { proceeds, nettedPairs, credit: proceeds.minus(nettedPairs) };
}

export async function crossCheckSettlements(
  pool: pg.Pool,
  exchange: Exchange,
  options: { platformId?: string } = {},
): Promise<CrossCheckResult> {
  const platformId = options.platformId ?? 'kalshi';
  const mode = exchange.executionMode;
  const result: CrossCheckResult = { checks: [], desyncs: [], newDesyncs: [] };
  if (!exchange.getSettlements) return result;

  for (const books of await uncheckedSettlements(pool, platformId, mode)) {
    const expected = expectedVenueCredit(books);
    const base = { marketId: books.marketId, ticker: books.ticker, settlementId: books.settlementId, booksCredit: expected.credit.toFixed(4) };
    let records: VenueSettlement[];
    try {
      records = (await exchange.getSettlements({ ticker: books.ticker })).filter((s) => s.ticker === books.ticker);
    } catch (error) {
      result.checks.push({ ...base, status: 'error', venueCredit: null, reason: `reading ${exchange.name} settlements: ${(error as Error).message}` });
      continue;
    }
    if (records.length === 0) {
      result.checks.push({ ...base, status: 'pending', venueCredit: null, reason: `${exchange.name} has not settled ${books.ticker} yet: checked again next run` });
      continue;
    }
    // One record per market and account; subaccounts would add theirs.
    const venue = {
      revenue: records.reduce((sum, r) => sum.plus(r.revenue), ZERO),
      yes: records.reduce((sum, r) => sum.plus(r.yesCount), ZERO),
      no: records.reduce((sum, r) => sum.plus(r.noCount), ZERO),
      feeCost: records.reduce((sum, r) => sum.plus(r.feeCost), ZERO),
      settledAt: new Date(Math.max(...records.map((r) => r.settledAt.getTime()))),
      marketResult: records[0]!.marketResult,
    };
    const matched = venue.revenue.eq(expected.credit);
    const reason = matched
      ? undefined
      : `${exchange.name} credited ${venue.revenue.toFixed(4)} for ${books.ticker} (YES ${venue.yes.toFixed(2)}, NO ${venue.no.toFixed(2)}, result ${venue.marketResult}); `
        + `the books expect ${expected.credit.toFixed(4)} (YES ${books.yes.toFixed(2)}, NO ${books.no.toFixed(2)} at YES payout ${books.payout.toFixed(4)}`
        + `${expected.nettedPairs.isZero() ? '' : `, less ${expected.nettedPairs.toFixed(2)} netted pairs`}): difference ${venue.revenue.minus(expected.credit).toFixed(4)}`;
    const desync: Desync | null = matched ? null : {
      ticker: books.ticker, marketId: books.marketId, kind: 'settlement',
      local: {
        reason, settlementId: books.settlementId, expectedCredit: expected.credit.toFixed(6), proceeds: expected.proceeds.toFixed(6),
        nettedPairs: expected.nettedPairs.toFixed(2), yesCount: books.yes.toFixed(2), noCount: books.no.toFixed(2), yesPayout: books.payout.toFixed(4),
      },
      venue: {
        revenue: venue.revenue.toFixed(6), yesCount: venue.yes.toFixed(2), noCount: venue.no.toFixed(2), feeCost: venue.feeCost.toFixed(6),
        marketResult: venue.marketResult, settledAt: venue.settledAt.toISOString(),
      },
    };
    const opened = await withTransaction(pool, async (client) => {
      const { rowCount } = await client.query(
        `INSERT INTO settlement_checks (settlement_id, execution_mode, ticker, books_credit, venue_credit, venue_fee_cost, venue_settled_at, matched)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (settlement_id, execution_mode) DO NOTHING`,
        [books.settlementId, mode, books.ticker, expected.credit.toFixed(), venue.revenue.toFixed(), venue.feeCost.toFixed(), venue.settledAt, matched],
      );
      if (!desync || rowCount === 0) return false; // a concurrent run checked it first
      const { rows: [written] } = await client.query(
        `INSERT INTO venue_desyncs (platform_id, execution_mode, ticker, market_id, kind, local_value, venue_value)
         VALUES ($1, $2, $3, $4, 'settlement', $5::jsonb, $6::jsonb)
         ON CONFLICT (platform_id, execution_mode, ticker, kind) WHERE resolved_at IS NULL
         DO UPDATE SET last_seen_at = precog_now(), local_value = EXCLUDED.local_value, venue_value = EXCLUDED.venue_value
         RETURNING (xmax = 0) AS inserted`,
        [platformId, mode, books.ticker, books.marketId, JSON.stringify(desync.local), JSON.stringify(desync.venue)],
      );
      return written.inserted as boolean;
    });
    result.checks.push({ ...base, status: matched ? 'matched' : 'differs', venueCredit: venue.revenue.toFixed(4), ...(reason ? { reason } : {}) });
    if (desync) {
      result.desyncs.push(desync);
      if (opened) result.newDesyncs.push(desync);
    }
  }
  return result;
}

/** Books settlements of this platform with live positions of `mode` and no check yet, with the contracts settled per side. */
async function uncheckedSettlements(pool: pg.Pool, platformId: string, mode: string): Promise<BooksSettlement[]> {
  const { rows } = await pool.query(
    `SELECT s.settlement_id, s.market_id, coalesce(cm.ticker, s.market_id) AS ticker, s.payout, p.side, held.quantity::text AS quantity
     FROM settlements s
     JOIN positions p ON p.market_id = s.market_id AND p.row_current_ind AND p.status = 'settled'
                     AND p.platform_id = $1 AND p.execution_mode = $2
     -- What the position held when it settled: the version the settlement closed.
     JOIN LATERAL (SELECT q.quantity FROM positions q WHERE q.position_id = p.position_id AND q.position_version_id < p.position_version_id
                   ORDER BY q.position_version_id DESC LIMIT 1) held ON true
     LEFT JOIN current_markets cm ON cm.market_id = s.market_id
     WHERE s.platform_id = $1 AND s.payout IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM settlement_checks c WHERE c.settlement_id = s.settlement_id AND c.execution_mode = $2)
     ORDER BY s.settlement_id, p.position_id`,
    [platformId, mode],
  );
  const bySettlement = new Map<number, BooksSettlement>();
  for (const r of rows) {
    const id = Number(r.settlement_id);
    const entry = bySettlement.get(id)
      ?? { settlementId: id, marketId: r.market_id, ticker: r.ticker, payout: decimal(r.payout), yes: ZERO, no: ZERO };
    const quantity = new Decimal(r.quantity as string);
    if (r.side === 'yes') entry.yes = entry.yes.plus(quantity);
    else entry.no = entry.no.plus(quantity);
    bySettlement.set(id, entry);
  }
  return [...bySettlement.values()].filter((s) => s.yes.plus(s.no).gt(0));
}
