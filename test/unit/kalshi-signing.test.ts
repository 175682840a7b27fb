import { constants, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kalshiAuthHeaders, signKalshiRequest, signingString } from '../../shared/venues/kalshi/signing';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };

describe('Kalshi request signing', () => {
  it('signs timestamp + METHOD + full path without the query, as the API documents', () => {
    expect(signingString('1703123456789', 'get', '/trade-api/v2/portfolio/orders?limit=5&cursor=x')).toBe(
      '1703123456789GET/trade-api/v2/portfolio/orders',
    );
  });

  it('produces an RSA-PSS SHA-256 signature that verifies with the public key', () => {
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const signature = signKalshiRequest(pem, '1703123456789', 'POST', '/trade-api/v2/portfolio/orders');
    const message = Buffer.from('1703123456789POST/trade-api/v2/portfolio/orders');
    expect(verify('sha256', message, { key: publicKey, ...pss }, Buffer.from(signature, 'base64'))).toBe(true);
    // A different method, path or timestamp does not verify.
    for (const other of ['1703123456789GET/trade-api/v2/portfolio/orders', '1703123456780POST/trade-api/v2/portfolio/orders', '1703123456789POST/portfolio/orders']) {
      expect(verify('sha256', Buffer.from(other), { key: publicKey, ...pss }, Buffer.from(signature, 'base64'))).toBe(false);
    }
  });

  it('builds the three headers with a millisecond timestamp', () => {
    const headers = kalshiAuthHeaders({ keyId: 'key-123', privateKey }, 'GET', '/trade-api/v2/portfolio/balance', () => 1703123456789);
    expect(headers['KALSHI-ACCESS-KEY']).toBe('key-123');
    expect(headers['KALSHI-ACCESS-TIMESTAMP']).toBe('1703123456789');
    const ok = verify('sha256', Buffer.from('1703123456789GET/trade-api/v2/portfolio/balance'), { key: publicKey, ...pss },
      Buffer.from(headers['KALSHI-ACCESS-SIGNATURE']!, 'base64'));
    expect(ok).toBe(true);
  });
});
