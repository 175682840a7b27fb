import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NoSuchKey, NotFound, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryStore, S3Store, sha256Hex } from '../../shared/tape';

const s3 = mockClient(S3Client);
const bytes = new TextEncoder().encode('PAR1 a tape file PAR1');
const sha256 = sha256Hex(bytes);
const sha256Base64 = Buffer.from(sha256, 'hex').toString('base64');

beforeEach(() => s3.reset());

describe('S3Store (aws-sdk-client-mock at the SDK boundary)', () => {
  const store = () => new S3Store(new S3Client({ region: 'us-east-1' }), 'precog-archive', 'tapes/2026-09/');

  it('puts with ChecksumSHA256 (base64 of the sha256) under the prefix, so S3 itself rejects a body that does not match', async () => {
    s3.on(PutObjectCommand).resolves({});
    await store().put('markets/2026-09.parquet', bytes, { sha256 });
    const [call] = s3.commandCalls(PutObjectCommand);
    expect(call!.args[0].input).toMatchObject({
      Bucket: 'precog-archive', Key: 'tapes/2026-09/markets/2026-09.parquet', ChecksumSHA256: sha256Base64, ContentLength: bytes.byteLength,
    });
  });

  it('refuses to put bytes that do not hash to the given sha256, sending nothing', async () => {
    await expect(store().put('markets/2026-09.parquet', bytes, { sha256: '0'.repeat(64) })).rejects.toThrow(/markets\/2026-09\.parquet: sha256 of the bytes is/);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('stats through HeadObject with ChecksumMode ENABLED and reports the stored sha256 in hex', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: bytes.byteLength, ChecksumSHA256: sha256Base64 });
    expect(await store().stat('markets/2026-09.parquet')).toEqual({ bytes: bytes.byteLength, sha256 });
    expect(s3.commandCalls(HeadObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'precog-archive', Key: 'tapes/2026-09/markets/2026-09.parquet', ChecksumMode: 'ENABLED' });
  });

  it('stat: a missing object is null; an object without a whole-object SHA-256 is an error naming it', async () => {
    s3.on(HeadObjectCommand).rejectsOnce(new NotFound({ message: 'not found', $metadata: { httpStatusCode: 404 } }));
    expect(await store().stat('markets/2026-10.parquet')).toBeNull();
    s3.on(HeadObjectCommand).resolves({ ContentLength: 3 });
    await expect(store().stat('markets/2026-10.parquet')).rejects.toThrow('s3://precog-archive/tapes/2026-09/markets/2026-10.parquet: S3 returned no SHA-256 checksum');
    s3.on(HeadObjectCommand).resolves({ ContentLength: 3, ChecksumSHA256: `${sha256Base64}-2` });
    await expect(store().stat('markets/2026-10.parquet')).rejects.toThrow(/composite \(multipart\) checksum/);
  });

  it('gets the bytes (null when missing) and lists keys relative to the prefix across pages', async () => {
    s3.on(GetObjectCommand, { Key: 'tapes/2026-09/manifest.json' }).resolves({ Body: { transformToByteArray: async () => bytes } as never }); // the SDK's stream mixin, as far as the store uses it
    s3.on(GetObjectCommand, { Key: 'tapes/2026-09/nope.json' }).rejects(new NoSuchKey({ message: 'no such key', $metadata: { httpStatusCode: 404 } }));
    expect(await store().get('manifest.json')).toEqual(bytes);
    expect(await store().get('nope.json')).toBeNull();
    s3.on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'tapes/2026-09/markets/2026-09.parquet' }], IsTruncated: true, NextContinuationToken: 't1' })
      .resolvesOnce({ Contents: [{ Key: 'tapes/2026-09/manifest.json' }], IsTruncated: false });
    expect(await store().list('')).toEqual(['manifest.json', 'markets/2026-09.parquet']);
    expect(s3.commandCalls(ListObjectsV2Command)[1]!.args[0].input).toMatchObject({ Prefix: 'tapes/2026-09/', ContinuationToken: 't1' });
  });

  it('refuses keys that escape the prefix', async () => {
    await expect(store().put('../other/x.parquet', bytes, { sha256 })).rejects.toThrow(/invalid store key/);
  });
});

describe('DirectoryStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'precog-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts, gets, stats (sha256 of the stored bytes) and lists', async () => {
    const store = new DirectoryStore(dir);
    await store.put('markets/2026-09.parquet', bytes, { sha256 });
    expect(await store.get('markets/2026-09.parquet')).toEqual(bytes);
    expect(await store.stat('markets/2026-09.parquet')).toEqual({ bytes: bytes.byteLength, sha256 });
    expect(await store.stat('markets/2026-10.parquet')).toBeNull();
    expect(await store.list('')).toEqual(['markets/2026-09.parquet']);
    await expect(store.put('x.parquet', bytes, { sha256: 'f'.repeat(64) })).rejects.toThrow(/sha256 of the bytes/);
    expect(await store.list('')).toEqual(['markets/2026-09.parquet']);
  });
});
