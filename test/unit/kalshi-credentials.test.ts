import { generateKeyPairSync } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { KalshiCredentialsError, loadKalshiCredentials } from '../../shared/venues/kalshi/credentials';
import { generateKalshiKeyPair } from '../helpers/kalshiPortfolioSim';

const secrets = mockClient(SecretsManagerClient);
beforeEach(() => secrets.reset());

const SECRET = 'arn:aws:secretsmanager:us-east-1:1:secret:kalshi-demo';
const { privateKeyPem } = generateKalshiKeyPair();
/** A distinctive piece of the key body: no error message may contain it. */
const keyFragment = privateKeyPem.split('\n')[1]!.slice(0, 40);

function secretString(value: string) {
  secrets.on(GetSecretValueCommand, { SecretId: SECRET }).resolves({ SecretString: value });
}

async function failure(): Promise<Error> {
  const error = await loadKalshiCredentials(SECRET, new SecretsManagerClient({})).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(KalshiCredentialsError);
  expect((error as Error).message).not.toContain(keyFragment);
  expect((error as Error).message).not.toContain('BEGIN');
  return error as Error;
}

describe('Kalshi credentials from Secrets Manager', () => {
  it('reads keyId and privateKeyPem and checks that the key parses', async () => {
    secretString(JSON.stringify({ keyId: 'key-123', privateKeyPem }));
    const credentials = await loadKalshiCredentials(SECRET, new SecretsManagerClient({}));
    expect(credentials).toEqual({ keyId: 'key-123', privateKeyPem });
    expect(secrets.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: SECRET });
  });

  it('accepts the snake_case names and a PEM whose newlines were stored as \\n', async () => {
    secretString(JSON.stringify({ key_id: 'key-9', private_key: privateKeyPem.replace(/\n/g, '\\n') }));
    const credentials = await loadKalshiCredentials(SECRET, new SecretsManagerClient({}));
    expect(credentials).toEqual({ keyId: 'key-9', privateKeyPem });
  });

  it('refuses malformed JSON without quoting the secret', async () => {
    secretString(`{"keyId": "key-1", "privateKeyPem": "${privateKeyPem.replace(/\n/g, '\\n')}"`); // unterminated
    expect((await failure()).message).toBe(`Kalshi secret ${SECRET} is not JSON`);
  });

  it('names a missing field and never echoes the key', async () => {
    secretString(JSON.stringify({ privateKeyPem }));
    expect((await failure()).message).toBe(
      `Kalshi secret ${SECRET} is missing or has invalid fields: keyId (expected keyId and privateKeyPem)`,
    );
    secrets.reset();
    secretString(JSON.stringify({ keyId: 'key-1', privateKeyPem: 42 }));
    expect((await failure()).message).toMatch(/invalid fields: privateKeyPem/);
    secrets.reset();
    secretString(JSON.stringify({ keyId: '', private_key: privateKeyPem }));
    expect((await failure()).message).toMatch(/invalid fields: key(Id|_id)/);
  });

  it('refuses a key that is not a readable PEM, or not RSA, without echoing it', async () => {
    const broken = privateKeyPem.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!');
    secretString(JSON.stringify({ keyId: 'key-1', privateKeyPem: broken }));
    expect((await failure()).message).toBe(`Kalshi secret ${SECRET}: privateKeyPem is not a readable PEM private key`);
    secrets.reset();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    secretString(JSON.stringify({ keyId: 'key-1', privateKeyPem: ec }));
    expect((await failure()).message).toMatch(/is a ec key, Kalshi needs RSA/);
  });

  it('refuses a secret without a SecretString (binary secret)', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    expect((await failure()).message).toBe(`Kalshi secret ${SECRET} has no SecretString`);
  });
});
