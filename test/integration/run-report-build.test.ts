import { describe, expect, it } from 'vitest';
import { runExecuteEntry } from '../../functions/execute-entry/handler';
import { GAME_STATES, versionedUpsert } from '../../shared/db';
import { Decimal } from '../../shared/domain/decimal';
import { scanEdges } from '../../shared/edges/scanEdges';
import { executeExit } from '../../shared/execution/executeExit';
import { sweepPositions } from '../../shared/monitor/sweep';
import { MemoryEntryQueue, MemoryExitQueue } from '../../shared/queues/sqsEntryQueue';
import { buildRunReport, type ReportContext } from '../../local/report/build';
import { useTestDatabase } from '../helpers/database';
import { lambdaContext, openPosition, paperExchange, scannedEntries, sqsEvent, sqsRecord } from '../helpers/execution';
import { GAME_EVENT, quoteYes } from '../helpers/scanWorld';

/**
 * buildRunReport over a database the real handlers wrote: a halftime entry decided on an edge
 * row, the model's probability changing after a score, an exit on a later reading, a settlement.
 */
const db = useTestDatabase();
const KC = `${GAME_EVENT}-KC`;
const DAL = `${GAME_EVENT}-DAL`;

async function edgeWindow(): Promise<{ first: Date; last: Date }> {
  const { rows: [w] } = await db().pool.query('SELECT min(created_at) AS first, max(created_at) AS last FROM edges');
  return w;
}

function context(startedAt: Date, finishedAt: Date): ReportContext {
  return {
    scenario: 'halftime', description: '', speed: 1, startedAt, finishedAt, venue: 'paper', executionMode: 'paper', resumed: false,
    games: [{ name: 'KC at DAL', home: 'DAL', away: 'KC', homeScore: 10, awayScore: 20, tickers: [KC, DAL] }],
    startingBalance: new Decimal('10000'), endingBalance: new Decimal('10000'), samples: [],
  };
}

describe('buildRunReport from the database', () => {
  it('gives every fill its model probability, edge and trigger, every market its model line and settlement, every position its exit details', async () => {
    const { pool } = db();
    const exchange = paperExchange(pool);
    // Halftime, KC leads 20–10: the matrix says 0.80; KC YES at 0.60 is bought.
    const [message] = await scannedEntries(pool, { strategies: 1 });
    expect((await runExecuteEntry(sqsEvent(sqsRecord(message!)), lambdaContext, { pool, exchange })).batchItemFailures).toEqual([]);
    const { rows: [decided] } = await pool.query(
      `SELECT e.true_win_probability::text AS p, e.edge::text AS edge FROM trades t JOIN edges e ON e.edge_id = t.edge_id`,
    );
    expect(decided.p).toBe('0.8000');

    // Dallas scores: a new reading of the model (the scan writes edge rows again), then KC's price falls to a stop loss.
    await versionedUpsert(pool, GAME_STATES, [{
      sport: 'nfl', external_game_id: '401772900', event_id: GAME_EVENT, home_team: 'DAL', away_team: 'KC',
      home_score: 17, away_score: 20, period: 'Halftime', time_remaining: null, possession: null, status: 'halftime',
      sport_metadata: { periodNumber: 2 },
    }]);
    await scanEdges({ pool, queue: new MemoryEntryQueue() });
    const { rows: [later] } = await pool.query(
      `SELECT true_win_probability::text AS p, edge::text AS edge FROM edges WHERE market_id = $1 AND side = 'yes' ORDER BY created_at DESC, edge_id DESC LIMIT 1`,
      [KC],
    );
    expect(later.p).not.toBe('0.8000');
    await quoteYes(pool, KC, 30, 32);
    const exits = new MemoryExitQueue();
    await sweepPositions({ pool, queue: exits });
    expect(exits.sent).toHaveLength(1);
    await executeExit({ pool, exchange }, exits.sent[0]!);
    await pool.query(`INSERT INTO settlements (market_id, platform_id, outcome, payout) VALUES ($1, 'kalshi', 'no', 0)`, [DAL]);

    const { first } = await edgeWindow();
    const { rows: [end] } = await pool.query('SELECT greatest((SELECT max(created_at) FROM trades), (SELECT max(created_at) FROM settlements)) AS at');
    const report = await buildRunReport(pool, context(first, end.at));

    const [entry, exit, ...others] = report.trades;
    expect(others).toEqual([]);
    expect(entry).toMatchObject({
      ticker: KC, side: 'yes', purpose: 'entry', modelProbability: '0.8000', edge: new Decimal(decided.edge).toFixed(4), trigger: 'halftime entry', realizedPnl: null,
    });
    // The exit carries the reading it was made on: the last one before its fill, not the entry's.
    expect(exit).toMatchObject({
      ticker: KC, side: 'yes', purpose: 'exit', modelProbability: new Decimal(later.p).toFixed(4), edge: new Decimal(later.edge).toFixed(4),
    });
    expect(exit!.trigger).toMatch(new RegExp(`^${exit!.exitCondition} \\(\\w+\\)$`));
    const expectedFillPnl = new Decimal(exit!.price).minus(entry!.price).times(exit!.quantity).minus(exit!.fees)
      .minus(new Decimal(entry!.fees).times(exit!.quantity).div(entry!.quantity));
    expect(exit!.realizedPnl).toBe(expectedFillPnl.toFixed(4));

    // The model line of each market: its readings where they changed (YES probability: DAL's is 1 − KC's).
    const kcLine = report.modelLines.find((l) => l.ticker === KC)!;
    expect(kcLine.model).toBe('nfl_matrix v1.0');
    expect([...new Set(kcLine.points.map((p) => p.yesProbability))]).toEqual(['0.8000', new Decimal(later.p).toFixed(4)]);
    const dalLine = report.modelLines.find((l) => l.ticker === DAL)!;
    expect(dalLine.points[0]!.yesProbability).toBe('0.2000');
    for (const line of report.modelLines) {
      line.points.slice(1, -1).forEach((p, i) => expect(p.yesProbability).not.toBe(line.points[i]!.yesProbability));
    }

    expect(report.settlements).toEqual([{ ticker: DAL, outcome: 'no', yesPayout: '0.0000', at: expect.any(String) }]);

    const [position] = report.positions;
    const { rows: [books] } = await pool.query(`SELECT realized_pnl::text, fees::text FROM positions WHERE row_current_ind`);
    expect(position).toMatchObject({
      status: 'closed', exitPrice: exit!.price, fees: new Decimal(books.fees).toFixed(4), settlementPayout: null,
      roi: new Decimal(books.realized_pnl).div(new Decimal(entry!.price).times(entry!.quantity)).toFixed(4),
      enteredAt: entry!.at, closedAt: exit!.at,
      holdSeconds: Math.round((Date.parse(exit!.at) - Date.parse(entry!.at)) / 1000),
    });
    expect(report.exitOutcomes).toEqual([
      { condition: exit!.exitCondition, fills: 1, gains: 0, losses: 1, realizedPnl: expectedFillPnl.toFixed(4) },
    ]);

    // Only the run's window: readings before it started are not its model line.
    const { last } = await edgeWindow();
    const afterTheRun = await buildRunReport(pool, context(new Date(last.getTime() + 1), new Date(last.getTime() + 2)));
    expect(afterTheRun.modelLines).toEqual([]);
    // The same database gives the same report: every time in it comes from the data or the context.
    expect(JSON.stringify(await buildRunReport(pool, context(first, end.at)))).toBe(JSON.stringify(report));

    // A NO fill without an edge row of its own (bought by hand for the strategy): the last reading
    // of its side, as the probability that NO wins (1 − the YES probability).
    const { rows: [ids] } = await pool.query(`SELECT strategy_id, model_id FROM trades ORDER BY trade_id LIMIT 1`);
    await quoteYes(pool, DAL, 28, 30);
    await openPosition(pool, exchange, { marketId: DAL, side: 'no', quantity: 5, price: '0.72', strategyId: Number(ids.strategy_id), modelId: Number(ids.model_id) });
    const { rows: [dalNo] } = await pool.query(
      `SELECT true_win_probability::text AS p, edge::text AS edge FROM edges WHERE market_id = $1 AND side = 'no' ORDER BY created_at DESC, edge_id DESC LIMIT 1`,
      [DAL],
    );
    const { rows: [now] } = await pool.query('SELECT max(created_at) AS at FROM trades');
    const withNo = await buildRunReport(pool, context(first, now.at));
    expect(withNo.trades.find((t) => t.ticker === DAL)).toMatchObject({
      side: 'no', purpose: 'entry', modelProbability: new Decimal(1).minus(dalNo.p).toFixed(4), edge: new Decimal(dalNo.edge).toFixed(4),
    });
  });
});
