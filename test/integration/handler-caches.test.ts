import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as executeEntry } from '../../functions/execute-entry/handler';
import { handler as executeExit } from '../../functions/execute-exit/handler';
import { closeSharedPool } from '../../shared/db/pool';
import { useTestDatabase } from '../helpers/database';
import { lambdaContext } from '../helpers/execution';
import { kalshiTestCredentials } from '../helpers/kalshiPortfolioSim';

/**
 * A container whose first exchange creation failed (one throttled secret read) must not stay
 * broken: the next invocation creates the exchange again. Live mode, so the exchange needs the
 * Kalshi key from Secrets Manager (mocked at the SDK boundary); the sample events' messages name
 * no order or request, so no venue call is made once the exchange exists.
 */
const db = useTestDatabase();
const secrets = mockClient(SecretsManagerClient);
const savedEnv = { ...process.env };
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kalshi';
const sample = (name: string) => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));

beforeAll(() => {
  Object.assign(process.env, {
    DATABASE_URL: db().url, POWERTOOLS_METRICS_DISABLED: 'true', EXECUTION_MODE: 'live', KALSHI_ENV: 'demo', KALSHI_CREDENTIALS_SECRET_ARN: SECRET,
  });
  delete process.env.KALSHI_API_KEY_ID;
  delete process.env.KALSHI_PRIVATE_KEY_FILE;
});
afterAll(async () => {
  process.env = savedEnv;
  secrets.restore();
  await closeSharedPool();
});
beforeEach(() => {
  secrets.reset();
  const { credentials } = kalshiTestCredentials('live-key');
  secrets.on(GetSecretValueCommand, { SecretId: SECRET })
    .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
    .resolves({ SecretString: JSON.stringify(credentials) });
});

describe('a failed exchange creation is retried by the next invocation', () => {
  it.each([
    ['execute-entry', () => executeEntry(sample('execute-entry'), lambdaContext)],
    ['execute-exit', () => executeExit(sample('execute-exit'), lambdaContext)],
  ] as const)('%s', async (name, invoke) => {
    await expect(invoke(), name).rejects.toThrow(/Rate exceeded/);
    expect(await invoke()).toEqual({ batchItemFailures: [] });
    expect(await invoke()).toEqual({ batchItemFailures: [] });
    // Created once after the failure, then kept: two reads in all.
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});
