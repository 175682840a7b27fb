import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_OK, runCli, type CliIo } from '../../cli/precog';
import { MarketRepository, OperationsRepository } from '../../shared/db';
import { scanEdges } from '../../shared/edges/scanEdges';
import { executeEntry } from '../../shared/execution/executeEntry';
import { executeExit } from '../../shared/execution/executeExit';
import { sweepPositions } from '../../shared/monitor/sweep';
import { MemoryEntryQueue, MemoryExitQueue } from '../../shared/queues/sqsEntryQueue';
import { checkBreakers, loadBreakerFacts } from '../../shared/risk/breakers';
import { checkHealth } from '../../shared/risk/health';
import { DEFAULT_TRADING_RULES } from '../../shared/config/tradingRules';
import { useDatabasePerTest } from '../helpers/database';
import { flaky, openPosition, paperExchange, scannedEntries } from '../helpers/execution';
import { OrderRejectedError } from '../../shared/exchange/types';
import { GAME_EVENT, quotedMarket, seedHalftimeWorld, quoteYes } from '../helpers/scanWorld';

const db = useDatabasePerTest({ poolMax: 20 });

const KC = `${GAME_EVENT}-KC`;
const DAL = `${GAME_EVENT}-DAL`;
const quote = (market: string, yesBid: number, yesAsk: number) => quoteYes(db().pool, market, yesBid, yesAsk);
const openBreakers = async () => (await db().pool.query('SELECT breaker_type FROM circuit_breaker_events WHERE resolved_at IS NULL ORDER BY event_id')).rows.map((r) => r.breaker_type);

async function drainExit(exchange: ReturnType<typeof paperExchange>, message: Parameters<typeof executeExit>[1]) {
  for (let receive = 1; receive <= 10; receive++) {
    const outcome = await executeExit({ pool: db().pool, exchange, now: () => new Date(Date.now() + receive * 60_000) }, message, { receiveCount: receive });
    if (outcome.outcome !== 'retry') return outcome;
  }
  throw new Error('exit did not finish');
}

describe('api_failures', () => {
  it('three consecutive venue rejections trip it: entries are blocked, an exit still executes', async () => {
    const messages = await scannedEntries(db().pool, { strategies: 3 });
    const exchange = paperExchange(db().pool, { startingBalance: '10000' });
    // A position opened before the trouble.
    await quote(DAL, 28, 30);
    const positionId = await openPosition(db().pool, exchange, { marketId: DAL, side: 'yes', quantity: 20, price: '0.30' });
    // Then the venue refuses every entry.
    const refusal = () => new OrderRejectedError('kalshi rejected order: insufficient balance', 'insufficient_balance');
    const poor = flaky(exchange, { placeOrder: [refusal(), refusal(), refusal()] });
    for (const m of messages.slice(0, 2)) expect(await executeEntry({ pool: db().pool, exchange: poor }, m)).toMatchObject({ outcome: 'rejected' });
    expect((await checkBreakers({ pool: db().pool }, { only: ['api_failures'] })).trips).toEqual([]); // two: not yet
    expect(await executeEntry({ pool: db().pool, exchange: poor }, messages[2]!)).toMatchObject({ outcome: 'rejected' });
    const check = await checkBreakers({ pool: db().pool }, { only: ['api_failures'] });
    expect(check.trips).toEqual([expect.objectContaining({ type: 'api_failures', triggerValue: expect.objectContaining({ consecutive_rejections: 3 }) })]);
    // A second check does not trip it twice.
    expect((await checkBreakers({ pool: db().pool })).trips.filter((t) => t.type === 'api_failures')).toEqual([]);
    expect(await openBreakers()).toContain('api_failures');

    // Entries: the scan makes none, saying why.
    const scan = await scanEdges({ pool: db().pool, queue: new MemoryEntryQueue() });
    expect(scan.orders.created).toBe(0);
    expect(scan.skipped).toContainEqual(expect.objectContaining({ reason: 'entries blocked by circuit breaker: api_failures' }));

    // Exits go on: the position's stop loss is sold.
    await quote(DAL, 20, 22);
    const queue = new MemoryExitQueue();
    expect((await sweepPositions({ pool: db().pool, queue })).exits).toEqual([expect.objectContaining({ positionId, condition: 'stop_loss' })]);
    expect(await drainExit(exchange, queue.sent[0]!)).toMatchObject({ outcome: 'filled' });
    const { rows: [p] } = await db().pool.query('SELECT status FROM positions WHERE position_id = $1 AND row_current_ind', [positionId]);
    expect(p.status).toBe('closed');

    // It stays until an operator resolves it.
    expect((await checkBreakers({ pool: db().pool })).resolutions).toEqual([]);
    const out: string[] = [];
    const io: CliIo = { out: (l) => out.push(l), err: (l) => out.push(l), env: { DATABASE_URL: db().url } };
    expect(await runCli(['breaker', 'list'], io)).toBe(EXIT_OK);
    const id = Number(/#(\d+) +api_failures +\S+ \S+ +OPEN/.exec(out.join('\n'))![1]);
    expect(await runCli(['breaker', 'resolve', String(id), '--action', 'venue balance topped up'], io)).toBe(EXIT_OK);
    expect(await openBreakers()).not.toContain('api_failures');
  });

  it('counts venue API errors in the last five minutes, not throttling, not older ones', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    const failure = (status: number) => ({ url: 'https://x/portfolio/orders', method: 'POST', kind: 'http' as const, status, message: 'HTTP', attempt: 1, final: true });
    const ops = new OperationsRepository(db().pool);
    await ops.recordApiErrors('kalshi', 'execute-entry', [failure(500), failure(502), failure(503), failure(429), failure(500)]);
    await db().pool.query(`INSERT INTO api_errors (api, method, url, kind, message, attempt, final, occurred_at) VALUES ('kalshi', 'GET', 'u', 'timeout', 'old', 1, true, now() - interval '6 minutes')`);
    expect((await loadBreakerFacts(db().pool, DEFAULT_TRADING_RULES, 'paper')).apiErrors).toBe(4);
    expect((await checkBreakers({ pool: db().pool })).trips.map((t) => t.type)).not.toContain('api_failures');
    await ops.recordApiErrors('kalshi', 'execute-entry', [failure(504)]);
    expect((await checkBreakers({ pool: db().pool })).trips.map((t) => t.type)).toContain('api_failures');
  });
});

describe('daily_loss_limit', () => {
  it('a daily loss beyond the limit liquidates every open position through CRITICAL exits on the paper exchange', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    await quote(KC, 58, 60);
    await quote(DAL, 28, 30);
    const exchange = paperExchange(db().pool);
    const loser = await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 2000, price: '0.60' });
    const winner = await openPosition(db().pool, exchange, { marketId: DAL, side: 'yes', quantity: 100, price: '0.30' });

    // KC collapses to a bid of 0.30 (−$600 marked), DAL edges up to 0.31: the monitor marks both.
    await quote(KC, 30, 32);
    await quote(DAL, 31, 33);
    const queue = new MemoryExitQueue();
    // The loser is past its own stop loss already (CRITICAL); the winner has no reason to go.
    const marked = await sweepPositions({ pool: db().pool, queue });
    expect(marked.exits).toEqual([expect.objectContaining({ positionId: loser, condition: 'stop_loss', priority: 'CRITICAL' })]);
    const health = await checkHealth({ pool: db().pool });
    // $600 lost within minutes: the rapid-loss breaker trips with it (both liquidate).
    expect(health.breakers.trips.map((t) => t.type).sort()).toEqual(['daily_loss_limit', 'rapid_loss']);
    expect(health.dailyPnl.lt(-500)).toBe(true);
    expect(health.components).toContainEqual(expect.objectContaining({ component: 'circuit-breakers', status: 'degraded' }));

    // The next sweep liquidates: the winner too, through a circuit_breaker exit.
    const sweep = await sweepPositions({ pool: db().pool, queue });
    expect(sweep.exits).toEqual([expect.objectContaining({ positionId: winner, condition: 'circuit_breaker', priority: 'CRITICAL', quantity: 100 })]);
    for (const message of queue.sent) expect(await drainExit(exchange, message)).toMatchObject({ outcome: 'filled' });
    const { rows } = await db().pool.query(`SELECT count(*)::int AS n FROM positions WHERE row_current_ind AND status = 'open'`);
    expect(rows[0].n).toBe(0);
    expect(await exchange.getPositions()).toEqual([]);
    const { rows: exits } = await db().pool.query('SELECT DISTINCT exit_priority FROM position_exits');
    expect(exits).toEqual([{ exit_priority: 'CRITICAL' }]);

    // Entries stay blocked for the rest of the day.
    const scan = await scanEdges({ pool: db().pool, queue: new MemoryEntryQueue() });
    expect(scan.orders.created).toBe(0);
  });
});

describe('data_stale and manual', () => {
  it('data_stale clears by itself when ingestion reports again; a manual trip waits for its operator', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    await db().pool.query(`UPDATE system_health SET last_check = now() - interval '5 minutes' WHERE component = 'ingest-markets'`);
    expect((await checkBreakers({ pool: db().pool })).trips.map((t) => t.type)).toEqual(['data_stale']);
    await new OperationsRepository(db().pool).recordHealth('ingest-markets', 'healthy', {});
    expect((await checkBreakers({ pool: db().pool })).resolutions).toEqual([expect.objectContaining({ type: 'data_stale', action: 'auto: condition cleared' })]);

    const out: string[] = [];
    const io: CliIo = { out: (l) => out.push(l), err: (l) => out.push(l), env: { DATABASE_URL: db().url } };
    expect(await runCli(['breaker', 'trip', 'manual', '--reason', 'venue maintenance', '--liquidate'], io)).toBe(EXIT_OK);
    expect(out.join('\n')).toMatch(/tripped manual breaker #\d+: new entries are blocked; the monitor liquidates/);
    expect((await checkBreakers({ pool: db().pool })).resolutions).toEqual([]);
    expect(await openBreakers()).toEqual(['manual']);
    // Only the manual breaker is tripped by hand: another type is a usage error (exit 2).
    expect(await runCli(['breaker', 'trip', 'daily_loss_limit', '--reason', 'x'], io)).toBe(2);
  });
});
