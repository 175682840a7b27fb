import { describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, runCli, type CliIo } from '../../cli/precog';
import { dec } from '../../shared/domain/decimal';
import { executeEntry } from '../../shared/execution/executeEntry';
import { runPrecog } from '../helpers/cli';
import { useTestDatabase } from '../helpers/database';
import { paperExchange, scannedEntries } from '../helpers/execution';
import { qty } from '../../shared/domain/quantity';

const db = useTestDatabase();

const precog = (...args: string[]) => runPrecog(db().url, args);

describe('precog orders / reconcile / desync', () => {
  it('lists orders, reconciles with the paper venue, and shows and resolves desyncs', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    expect((await precog('orders')).out).toMatch(/0\/833 +paper +pending +halftime_entry v1\.0$/m);
    const exchange = paperExchange(db().pool);
    await executeEntry({ pool: db().pool, exchange }, message!);
    const listed = JSON.parse((await precog('orders', '--status', 'filled', '--json')).out);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ client_order_id: message!.clientOrderId, status: 'filled', filled_quantity: '833' }); // counts are exact decimal text in JSON

    const clean = await precog('reconcile');
    expect(clean.code).toBe(EXIT_OK);
    expect(clean.out).toMatch(/reconciled with paper: 0 open orders checked/);
    expect(clean.out).toMatch(/positions and resting orders agree with the venue/);
    expect(clean.out).toMatch(/^cash: books \$[\d,]+\.\d{2} venue \$[\d,]+\.\d{2} difference \$0\.00$/m);

    // A trade at the venue the books never saw.
    await exchange.placeOrder({
      ticker: message!.marketId, clientOrderId: 'by-hand', side: 'yes', action: 'buy', count: qty(7), type: 'limit',
      limitPrice: dec('0.60'), timeInForce: 'immediate_or_cancel',
    });
    const found = JSON.parse((await precog('reconcile', '--json')).out);
    expect(found.desyncs).toEqual([expect.objectContaining({ kind: 'position', local: { net: '833' }, venue: { net: '840' } })]);
    const open = await precog('desync', 'list');
    expect(open.out).toMatch(/^ID +KIND +MARKET +MODE +BOOKS +VENUE +SINCE +STATE\n *#\d+ +position +KXNFLGAME-25NOV27KCDAL-KC +paper +\{"net":"833"\} +\{"net":"840"\} +\S+ \S+ +OPEN$/);
    const id = Number(/#(\d+)/.exec(open.out)![1]);

    expect((await precog('desync', 'resolve', String(id))).code).toBe(EXIT_USAGE); // --note is required
    const resolved = await precog('desync', 'resolve', String(id), '--note', 'sold the 7 by hand');
    expect(resolved.code).toBe(EXIT_OK);
    expect((await precog('desync', 'list')).out).toBe('no open desyncs');
    expect((await precog('desync', 'list', '--all')).out).toMatch(/resolved: operator: sold the 7 by hand/);
    const again = await precog('desync', 'resolve', String(id), '--note', 'x');
    expect(again.code).toBe(EXIT_FAILURE);
    expect(again.err).toMatch(/no open desync #\d+/);
  });

  it('refuses a bad exchange configuration before doing anything', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['reconcile'], { out: (l) => out.push(l), err: (l) => err.push(l), env: { DATABASE_URL: db().url, EXECUTION_MODE: 'live' } });
    expect(code).toBe(EXIT_FAILURE);
    expect(err.join('\n')).toMatch(/invalid exchange configuration: KALSHI_ENV/);
  });
});
