import { beforeAll, describe, expect, it } from 'vitest';
import { dec } from '../../shared/domain/decimal';
import { qty } from '../../shared/domain/quantity';
import { StaticBookSource } from '../../shared/exchange/paper/bookSources';
import type { PaperBook } from '../../shared/exchange/paper/matching';
import { PaperExchange } from '../../shared/exchange/paper/paperExchange';
import { appendOnlyTables, checkIntegrity, formatIntegrityReport, VERSIONED_TABLES } from '../../shared/lifecycle/integrity';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../cli/precog';
import { runPrecog } from '../helpers/cli';
import { useTestDatabase } from '../helpers/database';
import { marketSnapshot, seedHierarchy, seedMarkets } from '../helpers/seed';

const db = useTestDatabase();

const KC = 'KXNFLGAME-25NOV27KCDAL-KC';
const T0 = new Date('2026-11-27T22:00:00Z');

function book(yesBid: string, yesAsk: string): PaperBook {
  const level = (price: string) => [{ price: dec(price), count: null }];
  const complement = (price: string) => dec('1').minus(dec(price)).toFixed(4);
  return {
    ticker: KC, at: T0, open: true,
    yes: { bids: level(yesBid), asks: level(yesAsk) },
    no: { bids: level(complement(yesAsk)), asks: level(complement(yesBid)) },
  };
}

/**
 * A database with real history: ingested market versions, and a paper account that bought YES,
 * sold some, bought NO (netting pairs, which pay $1 each back) and was settled.
 */
beforeAll(async () => {
  const pool = db().pool;
  await seedHierarchy(pool);
  await seedMarkets(pool, [marketSnapshot(KC, '0.55')]);
  await seedMarkets(pool, [marketSnapshot(KC, '0.57')]);
  const exchange = new PaperExchange(pool, { books: new StaticBookSource([book('0.54', '0.56')]), startingBalance: dec('1000'), now: () => T0 });
  const place = (n: number, side: 'yes' | 'no', action: 'buy' | 'sell', limit: string) =>
    exchange.placeOrder({ ticker: KC, clientOrderId: `c-${side}-${action}-${n}`, side, action, count: qty(n), type: 'limit', limitPrice: dec(limit) });
  await place(10, 'yes', 'buy', '0.56');
  await place(3, 'yes', 'sell', '0.54');
  await place(4, 'no', 'buy', '0.46');
  await exchange.settle(KC, dec('1'));
});

describe('integrity checks on a real database', () => {
  it('a consistent database passes, having looked at every versioned table, the append-only tables and the paper account', async () => {
    const report = await checkIntegrity(db().pool);
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    const examined = (check: string, table: string) => report.checked.find((c) => c.check === check && c.table === table)?.examined;
    for (const spec of VERSIONED_TABLES) expect(examined('one-current-row', spec.table), spec.table).toBeDefined();
    expect(examined('one-current-row', 'markets')).toBeGreaterThan(0);
    expect(examined('paper-cash', 'paper_accounts')).toBe(1);
    expect(report.appendOnlyCounts.paper_fills).toBe(3);
    expect(report.appendOnlyCounts.paper_settlements).toBe(1);
    expect(formatIntegrityReport(report)).toMatch(/^integrity ok/);
  });

  it('append-only tables come from the catalog (their delete-rejecting trigger), not from a list', async () => {
    const tables = await appendOnlyTables(db().pool);
    expect(tables).toEqual(expect.arrayContaining(['paper_fills', 'paper_settlements', 'api_errors', 'trades', 'settlements', 'market_identities']));
    // orders only refuses TRUNCATE (statement level): its rows change status, so it is not append-only.
    expect(tables).not.toContain('orders');
  });

  it('two current rows for one key are reported with the key (the unique index dropped inside a rolled-back transaction)', async () => {
    const client = await db().pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('DROP INDEX idx_markets_current');
      // A second current version of the same market, next to the existing one.
      await client.query(
        `INSERT INTO markets (market_id, platform_id, event_id, external_id, ticker, title, market_type, yes_price, no_price, status, row_current_ind)
         SELECT market_id, platform_id, event_id, external_id, ticker, title, market_type, yes_price, no_price, status, TRUE
         FROM markets WHERE ticker = $1 AND row_current_ind`,
        [KC],
      );
      const report = await checkIntegrity(client);
      expect(report.ok).toBe(false);
      expect(report.violations).toHaveLength(1);
      expect(report.violations[0]).toMatchObject({ check: 'one-current-row', table: 'markets' });
      expect(report.violations[0]!.message).toMatch(/1 key\(s\) of markets with more than one current row: market_id=\S+ has 2 current rows/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    expect((await checkIntegrity(db().pool)).ok).toBe(true);
  });

  it('a paper balance that does not reconcile with its fills and settlements is reported with both figures', async () => {
    const client = await db().pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE paper_accounts SET balance = balance + 0.01 WHERE account_id = 'default'`);
      const report = await checkIntegrity(client);
      expect(report.ok).toBe(false);
      expect(report.violations).toEqual([expect.objectContaining({ check: 'paper-cash', table: 'paper_accounts' })]);
      expect(report.violations[0]!.message).toMatch(/paper account default: balance \d+\.\d{6} but starting 1000\.000000 \+ fills -?\d+\.\d{6} \+ settlements \d+\.\d{6} = \d+\.\d{6} \(difference 0\.010000\)/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('an append-only table with fewer rows than its recorded count is reported; archived rows count as still there', async () => {
    const { appendOnlyCounts } = await checkIntegrity(db().pool);
    const baseline = { ...appendOnlyCounts, paper_fills: appendOnlyCounts.paper_fills! + 2 };
    const report = await checkIntegrity(db().pool, { baselineCounts: baseline });
    expect(report.violations).toEqual([{
      check: 'append-only-count', table: 'paper_fills',
      message: 'paper_fills has 3 rows, fewer than the 5 recorded before: append-only rows were lost',
    }]);
    expect((await checkIntegrity(db().pool, { baselineCounts: baseline, archivedSinceBaseline: { paper_fills: 2 } })).ok).toBe(true);
    expect((await checkIntegrity(db().pool, { baselineCounts: appendOnlyCounts })).ok).toBe(true);
  });
});

describe('precog db check', () => {
  const precog = (...args: string[]) => runPrecog(db().url, args);

  it('prints what it examined and exits 0 on a consistent database', async () => {
    const r = await precog('db', 'check');
    expect(r.code, r.err).toBe(EXIT_OK);
    expect(r.out).toMatch(/one-current-row\s+markets\s+1\n/);
    expect(r.out).toMatch(/integrity: ok$/);
  });

  it('names each violation and exits 1; a bad --baseline file is a usage error', async () => {
    await db().pool.query(`INSERT INTO paper_accounts (account_id, starting_balance, balance) VALUES ('cli-check', 100, 99.5)`);
    try {
      const r = await precog('db', 'check');
      expect(r.code).toBe(EXIT_FAILURE);
      expect(r.out).toContain('VIOLATION paper-cash paper_accounts: paper account cli-check: balance 99.500000 but starting 100.000000 + fills 0.000000 + settlements 0.000000 = 100.000000 (difference -0.500000)');
      expect(r.err).toContain('integrity check failed: 1 violation(s)');
      const asJson = await precog('db', 'check', '--json');
      expect(JSON.parse(asJson.out).violations).toHaveLength(1);
    } finally {
      await db().pool.query(`DELETE FROM paper_accounts WHERE account_id = 'cli-check'`);
    }
    const missing = await precog('db', 'check', '--baseline', '/nonexistent/counts.json');
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.err).toContain('--baseline /nonexistent/counts.json: ENOENT');
  });
});
