import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/execute-entry/handler';
import { closeSharedPool } from '../../shared/db/pool';
import { useTestDatabase } from '../helpers/database';
import { lambdaContext, scannedEntries, sqsEvent, sqsRecord } from '../helpers/execution';

const db = useTestDatabase();
const savedEnv = { ...process.env };

beforeAll(() => {
  // The deployed wiring: pool and exchange from the environment (paper by default).
  Object.assign(process.env, { DATABASE_URL: db().url, POWERTOOLS_METRICS_DISABLED: 'true' });
  delete process.env.EXECUTION_MODE;
});
afterAll(async () => {
  process.env = savedEnv;
  await closeSharedPool();
});

describe('execute-entry handler (middy, Powertools batch, environment wiring)', () => {
  it('executes a queued entry on the paper exchange and reports no failures', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    const response = await handler(sqsEvent(sqsRecord(message!)), lambdaContext);
    expect(response).toEqual({ batchItemFailures: [] });
    const { rows } = await db().pool.query(`SELECT status, execution_mode FROM orders`);
    expect(rows).toEqual([{ status: 'filled', execution_mode: 'paper' }]);
  });

  it('the sample console event is a valid SQS event; its unknown order is acknowledged and nothing is written', async () => {
    const event = JSON.parse(readFileSync(new URL('../../events/execute-entry.json', import.meta.url), 'utf8'));
    const before = (await db().pool.query('SELECT count(*)::int AS n FROM trades')).rows[0].n;
    expect(await handler(event, lambdaContext)).toEqual({ batchItemFailures: [] });
    expect((await db().pool.query('SELECT count(*)::int AS n FROM trades')).rows[0].n).toBe(before);
  });
});
