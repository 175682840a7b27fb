import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/reconcile/handler';
import { closeSharedPool } from '../../shared/db/pool';
import { executeEntry } from '../../shared/execution/executeEntry';
import { useTestDatabase } from '../helpers/database';
import { paperExchange, scannedEntries } from '../helpers/execution';

const db = useTestDatabase();
const context = { functionName: 'reconcile', awsRequestId: 'test' } as unknown as Context;
const savedEnv = { ...process.env };

beforeAll(() => {
  Object.assign(process.env, { DATABASE_URL: db().url, EXECUTION_MODE: 'paper', POWERTOOLS_METRICS_DISABLED: 'true' });
});
afterAll(async () => {
  process.env = savedEnv;
  await closeSharedPool();
});

describe('reconcile function', () => {
  it('rejects a malformed console event naming the field', async () => {
    await expect(handler({ dryRun: true }, context)).rejects.toThrow(/invalid reconcile event: .*Unrecognized key.*dryRun/);
  });

  it('runs on a database where nothing has been ingested yet (no platform, no cash)', async () => {
    const result = await handler({}, context);
    expect(result).toMatchObject({ desyncs: [], errors: [], balance: { local: null } });
  });

  it('runs from the console event and from the schedule against the paper venue', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    await executeEntry({ pool: db().pool, exchange: paperExchange(db().pool) }, message!);
    const fromConsole = await handler({}, context);
    expect(fromConsole).toMatchObject({ venue: 'paper', desyncs: [], errors: [] });
    expect(fromConsole.balance.difference).toBe('0.0000');
    const scheduled = await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }, context);
    expect(scheduled.desyncs).toEqual([]);
  });
});
