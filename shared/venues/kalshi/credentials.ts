import { createPrivateKey } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import type { KalshiCredentials } from './signing';

/**
 * Kalshi API credentials from Secrets Manager. The secret's SecretString is JSON
 * `{ "keyId": "...", "privateKeyPem": "-----BEGIN PRIVATE KEY-----..." }` (`key_id` and
 * `private_key` are accepted too). Errors name the secret and the field, never the key itself.
 */
export class KalshiCredentialsError extends Error {
  override name = 'KalshiCredentialsError';
}

// Checked, not trimmed: a PEM keeps its exact text (trailing newline included).
const nonEmpty = z.string().refine((v) => v.trim() !== '', { message: 'empty' });
const KalshiSecret = z
  .object({
    keyId: nonEmpty.optional(),
    key_id: nonEmpty.optional(),
    privateKeyPem: nonEmpty.optional(),
    private_key: nonEmpty.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.keyId === undefined && s.key_id === undefined) ctx.addIssue({ code: 'custom', message: 'missing', path: ['keyId'] });
    if (s.privateKeyPem === undefined && s.private_key === undefined) {
      ctx.addIssue({ code: 'custom', message: 'missing', path: ['privateKeyPem'] });
    }
  });

export async function loadKalshiCredentials(
  secretId: string,
  client: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({}),
): Promise<KalshiCredentials> {
  const response = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (response.SecretString === undefined) {
    throw new KalshiCredentialsError(`Kalshi secret ${secretId} has no SecretString`);
  }
  let json: unknown;
  try {
    json = JSON.parse(response.SecretString);
  } catch {
    // JSON.parse's own message quotes the input, which here is the private key.
    throw new KalshiCredentialsError(`Kalshi secret ${secretId} is not JSON`);
  }
  const parsed = KalshiSecret.safeParse(json);
  if (!parsed.success) {
    // Paths only: a zod message could echo a received value.
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new KalshiCredentialsError(
      `Kalshi secret ${secretId} is missing or has invalid fields: ${fields} (expected keyId and privateKeyPem)`,
    );
  }
  const keyId = (parsed.data.keyId ?? parsed.data.key_id)!.trim();
  let privateKeyPem = (parsed.data.privateKeyPem ?? parsed.data.private_key)!;
  // A PEM pasted into the console as one line often keeps its newlines as literal "\n".
  if (!privateKeyPem.includes('\n') && privateKeyPem.includes('\\n')) privateKeyPem = privateKeyPem.replace(/\\n/g, '\n');
  let keyType: string | undefined;
  try {
    keyType = createPrivateKey(privateKeyPem).asymmetricKeyType;
  } catch {
    throw new KalshiCredentialsError(`Kalshi secret ${secretId}: privateKeyPem is not a readable PEM private key`);
  }
  if (keyType !== 'rsa') {
    // Kalshi signs with RSA-PSS: any other key would fail on the first request instead.
    throw new KalshiCredentialsError(`Kalshi secret ${secretId}: privateKeyPem is a ${keyType ?? 'unknown'} key, Kalshi needs RSA`);
  }
  return { keyId, privateKeyPem };
}
