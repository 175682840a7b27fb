import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, parseDatabaseEnv, resolvePoolConfig } from '../../shared/db/pool';

const secrets = mockClient(SecretsManagerClient);
beforeEach(() => secrets.reset());

describe('database configuration', () => {
  it('uses DATABASE_URL locally with a small Lambda-sized pool and no TLS by default', async () => {
    const config = await resolvePoolConfig(parseDatabaseEnv({ DATABASE_URL: 'postgres://u:p@localhost:5432/precog' }));
    expect(config).toMatchObject({ connectionString: 'postgres://u:p@localhost:5432/precog', max: 2, ssl: false });
    expect(secrets.calls()).toHaveLength(0);
  });

  it('reads RDS credentials from Secrets Manager, host overridable by the RDS Proxy endpoint, TLS verified', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:db' }).resolves({
      SecretString: JSON.stringify({ host: 'db.internal', port: 5432, username: 'precog', password: 's3cret', dbname: 'precog', engine: 'postgres' }),
    });
    const env = parseDatabaseEnv({
      DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:db', DATABASE_HOST: 'proxy.internal',
      DATABASE_SSL: 'verify-full', DATABASE_POOL_MAX: '3',
    });
    const config = await resolvePoolConfig(env, new SecretsManagerClient({}));
    expect(config).toMatchObject({
      host: 'proxy.internal', port: 5432, user: 'precog', password: 's3cret', database: 'precog', max: 3,
      ssl: { rejectUnauthorized: true },
    });
  });

  it('names the missing secret fields', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ host: 'db', username: 'u' }) });
    const env = parseDatabaseEnv({ DATABASE_SECRET_ARN: 'arn:secret' });
    await expect(resolvePoolConfig(env, new SecretsManagerClient({}))).rejects.toThrow(
      'secret arn:secret is missing or has invalid fields: password',
    );
  });

  it('rejects a configuration with no database, or a bad TLS mode or pool size, naming the variable', () => {
    expect(() => parseDatabaseEnv({})).toThrow(ConfigError);
    expect(() => parseDatabaseEnv({})).toThrow(/DATABASE_URL: set DATABASE_URL \(local\) or DATABASE_SECRET_ARN \(AWS\)/);
    expect(() => parseDatabaseEnv({ DATABASE_URL: 'x', DATABASE_SSL: 'yes' })).toThrow(/DATABASE_SSL/);
    expect(() => parseDatabaseEnv({ DATABASE_URL: 'x', DATABASE_POOL_MAX: '0' })).toThrow(/DATABASE_POOL_MAX/);
  });
});
