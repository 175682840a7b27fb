import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createExchangeFromEnv } from '../../shared/exchange/factory';
import { InvocationDeadline } from '../../shared/lambda/invocationDeadline';
import { memoizeUntilRejected, samePool } from '../../shared/lambda/memoizeUntilRejected';
import { kalshiTestCredentials } from '../helpers/kalshiPortfolioSim';

describe('memoizeUntilRejected', () => {
  it('a first creation that fails is forgotten: the next call creates again and that value is kept', async () => {
    let calls = 0;
    const create = memoizeUntilRejected(async () => {
      calls++;
      if (calls === 1) throw new Error('secret read throttled');
      return { n: calls };
    });
    await expect(create()).rejects.toThrow('secret read throttled');
    const second = await create();
    expect(second).toEqual({ n: 2 });
    expect(await create()).toBe(second);
    expect(calls).toBe(2);
  });

  it('concurrent first calls share one creation, failed or not', async () => {
    let calls = 0;
    let fail!: (error: Error) => void;
    const create = memoizeUntilRejected(() => {
      calls++;
      return new Promise<number>((_, reject) => { fail = reject; });
    });
    const both = Promise.allSettled([create(), create()]);
    await Promise.resolve();
    await Promise.resolve();
    fail(new Error('down'));
    expect((await both).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
  });

  it('a synchronous throw is a rejection too, and is forgotten', async () => {
    let calls = 0;
    const create = memoizeUntilRejected((): Promise<string> => {
      calls++;
      if (calls === 1) throw new Error('bad config');
      return Promise.resolve('ok');
    });
    await expect(create()).rejects.toThrow('bad config');
    expect(await create()).toBe('ok');
  });

  it('sameAs: other arguments (a replaced pool) get a value of their own; clear() forgets', async () => {
    const create = memoizeUntilRejected(async (pool: { id: number }) => ({ for: pool.id }), { sameAs: samePool });
    const a = { id: 1 };
    const b = { id: 2 };
    const first = await create(a);
    expect(await create(a)).toBe(first);
    expect(await create(b)).toEqual({ for: 2 });
    const again = await create(b);
    create.clear();
    expect(await create(b)).not.toBe(again);
  });
});

describe('InvocationDeadline', () => {
  it('reads the remaining time of the invocation entered last; none: no deadline', () => {
    const deadline = new InvocationDeadline();
    const read = deadline.remainingTimeMs; // what a cached client keeps
    expect(read()).toBe(Number.POSITIVE_INFINITY);
    deadline.enter({ getRemainingTimeInMillis: () => 12_000 });
    expect(read()).toBe(12_000);
    deadline.enter({ getRemainingTimeInMillis: () => -5 });
    expect(read()).toBe(0);
    deadline.enter(undefined);
    expect(read()).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('the exchange factory passes the remaining time to KalshiExchange', () => {
  it('gives the live exchange the invocation\'s remaining time when given, and none otherwise', async () => {
    const { credentials } = kalshiTestCredentials();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'precog-key-'));
    const keyFile = path.join(dir, 'key.pem');
    await writeFile(keyFile, credentials.privateKeyPem, { mode: 0o600 });
    const env = { EXECUTION_MODE: 'live', KALSHI_ENV: 'demo', KALSHI_API_KEY_ID: credentials.keyId, KALSHI_PRIVATE_KEY_FILE: keyFile };
    const remainingTimeMs = () => 1234;
    const pool = {} as Parameters<typeof createExchangeFromEnv>[0]['pool'];
    const withDeadline = await createExchangeFromEnv({ pool, env, remainingTimeMs });
    const without = await createExchangeFromEnv({ pool, env });
    expect((withDeadline as unknown as { remainingTimeMs?: () => number }).remainingTimeMs).toBe(remainingTimeMs);
    expect((without as unknown as { remainingTimeMs?: () => number }).remainingTimeMs).toBeUndefined();
  });
});
