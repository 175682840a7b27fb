import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/db/pool';
import { createExchangeFromEnv, parseExchangeEnv } from '../../shared/exchange/factory';
import { PaperExchange } from '../../shared/exchange/paper/paperExchange';
import { KalshiExchange } from '../../shared/venues/kalshi/kalshiExchange';
import { kalshiTestCredentials } from '../helpers/kalshiPortfolioSim';

// Never connected: building an exchange does not touch the database.
const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
afterAll(() => pool.end());

describe('exchange from the environment', () => {
  it('defaults to paper on the ingested book with $10,000', async () => {
    expect(parseExchangeEnv({})).toMatchObject({
      EXECUTION_MODE: 'paper', PAPER_STARTING_BALANCE: '10000', PAPER_BOOK: 'ingested', PAPER_TOP_OF_BOOK_DEPTH: 'unlimited',
    });
    const exchange = await createExchangeFromEnv({ pool, env: {} });
    expect(exchange).toBeInstanceOf(PaperExchange);
    expect(exchange).toMatchObject({ name: 'paper', executionMode: 'paper' });
  });

  it.each([
    [{ EXECUTION_MODE: 'real' }, /EXECUTION_MODE: Invalid option: expected one of "paper"\|"live"/],
    [{ PAPER_STARTING_BALANCE: '10,000' }, /PAPER_STARTING_BALANCE: dollars/],
    [{ PAPER_TOP_OF_BOOK_DEPTH: '-5' }, /PAPER_TOP_OF_BOOK_DEPTH/],
    [{ EXECUTION_MODE: 'live' }, /KALSHI_ENV: live trading needs KALSHI_ENV set explicitly to demo or production.*KALSHI_CREDENTIALS_SECRET_ARN/],
    [{ EXECUTION_MODE: 'live', KALSHI_ENV: 'demo' }, /KALSHI_CREDENTIALS_SECRET_ARN: live trading needs the Kalshi API key secret/],
    [{ EXECUTION_MODE: 'live', KALSHI_ENV: 'sandbox', KALSHI_CREDENTIALS_SECRET_ARN: 'arn' }, /KALSHI_ENV/],
  ])('refuses %o with a clear error', (env, message) => {
    expect(() => parseExchangeEnv(env)).toThrow(ConfigError);
    expect(() => parseExchangeEnv(env)).toThrow(message);
  });

  it('live trading reads the Kalshi key from Secrets Manager and targets the chosen environment', async () => {
    const secrets = mockClient(SecretsManagerClient);
    const { credentials } = kalshiTestCredentials('live-key');
    secrets.on(GetSecretValueCommand, { SecretId: 'arn:aws:secretsmanager:us-east-1:1:secret:kalshi' })
      .resolves({ SecretString: JSON.stringify(credentials) });
    const exchange = await createExchangeFromEnv({
      pool,
      env: { EXECUTION_MODE: 'live', KALSHI_ENV: 'demo', KALSHI_CREDENTIALS_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:kalshi' },
      secrets: new SecretsManagerClient({}),
    });
    expect(exchange).toBeInstanceOf(KalshiExchange);
    expect(exchange).toMatchObject({ name: 'kalshi-demo', executionMode: 'live' });
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    secrets.restore();
  });
});
