import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseEnv, resolvePoolConfig, sslOption } from '../../shared/db/pool';

/**
 * The TLS modes against a real handshake: a fake PostgreSQL server that accepts pg's SSLRequest,
 * completes TLS with a certificate for `localhost` from a test CA (test/fixtures/tls, made with
 * openssl, valid until 2126; not an RDS CA), then refuses the login with a marker message. Getting
 * the marker means the TLS handshake was accepted by the client.
 */
const fixture = (name: string) => readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url), 'utf8');
const TEST_CA = fixture('ca.crt');
const MARKER = 'fake server: TLS accepted';
const SSL_REQUEST_CODE = 80877103;

function errorResponse(message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0C28000\0M${message}\0\0`);
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}

let server: net.Server;
let port: number;
beforeAll(async () => {
  server = net.createServer((socket) => {
    socket.once('data', (request) => {
      if (request.length !== 8 || request.readInt32BE(4) !== SSL_REQUEST_CODE) {
        socket.end(errorResponse('fake server: expected an SSLRequest'));
        return;
      }
      socket.write('S');
      const secure = new tls.TLSSocket(socket, { isServer: true, key: fixture('server.key'), cert: fixture('server.crt') });
      secure.on('error', () => socket.destroy()); // the client refusing our certificate
      secure.once('data', () => secure.end(errorResponse(MARKER))); // the startup message
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function connectError(config: pg.ClientConfig): Promise<Error & { code?: string }> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    return error as Error & { code?: string };
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error('connected to the fake server');
}

describe('database TLS modes against a server whose certificate is not from an RDS CA', () => {
  it('verify-full (from DATABASE_URL) refuses the certificate: only the RDS bundle is trusted', async () => {
    const config = await resolvePoolConfig(parseDatabaseEnv({ DATABASE_URL: `postgres://u:p@localhost:${port}/precog`, DATABASE_SSL: 'verify-full' }));
    const error = await connectError(config);
    expect(error.message).not.toContain(MARKER);
    expect(error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('require (from DATABASE_URL) completes the handshake with any certificate', async () => {
    const config = await resolvePoolConfig(parseDatabaseEnv({ DATABASE_URL: `postgres://u:p@localhost:${port}/precog`, DATABASE_SSL: 'require' }));
    expect((await connectError(config)).message).toBe(MARKER);
  });

  it('verify-full checks the host name: the right CA is accepted for the certificate\'s name, refused for another', async () => {
    const trusting = (host: string) => ({ ...(sslOption('verify-full', host) as tls.ConnectionOptions), ca: [TEST_CA] });
    expect((await connectError({ host: 'localhost', port, user: 'u', database: 'precog', ssl: trusting('localhost') })).message).toBe(MARKER);
    const wrongName = await connectError({ host: '127.0.0.1', port, user: 'u', database: 'precog', ssl: trusting('127.0.0.1') });
    expect(wrongName.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});
