import { constants, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { nowMs } from '../../clock/clock';

/** Kalshi API credentials: the key id and the RSA private key (PEM) it was issued with. */
export interface KalshiCredentials {
  keyId: string;
  privateKeyPem: string;
}

/**
 * The exact string Kalshi signs: timestamp (ms, as text) + HTTP method + the full URL path
 * (including /trade-api/v2, without the query string).
 */
export function signingString(timestampMs: string, method: string, path: string): string {
  const withoutQuery = path.split('?')[0]!;
  return `${timestampMs}${method.toUpperCase()}${withoutQuery}`;
}

/** RSA-PSS, SHA-256, salt length = digest length, base64: Kalshi's KALSHI-ACCESS-SIGNATURE. */
export function signKalshiRequest(key: KeyObject | string, timestampMs: string, method: string, path: string): string {
  return sign('sha256', Buffer.from(signingString(timestampMs, method, path)), {
    key: typeof key === 'string' ? createPrivateKey(key) : key,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
  }).toString('base64');
}

/** The three authentication headers for one request. */
export function kalshiAuthHeaders(
  credentials: { keyId: string; privateKey: KeyObject },
  method: string,
  path: string,
  now: () => number = nowMs,
): Record<string, string> {
  const timestamp = String(now());
  return {
    'KALSHI-ACCESS-KEY': credentials.keyId,
    'KALSHI-ACCESS-TIMESTAMP': timestamp,
    'KALSHI-ACCESS-SIGNATURE': signKalshiRequest(credentials.privateKey, timestamp, method, path),
  };
}
