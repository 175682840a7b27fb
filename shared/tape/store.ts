import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { sha256Hex } from './codec';

/**
 * Where tape and archive files live: a local directory or an S3 prefix, same keys
 * (`manifest.json`, `<table>/<YYYY-MM>.parquet`). Keys use '/' whatever the platform.
 */
export interface ArchiveStore {
  /** Writes `bytes` at `key`; `sha256` (hex) is the caller's checksum, verified by the store on the way in. */
  put(key: string, bytes: Uint8Array, options: { sha256: string }): Promise<void>;
  /** The bytes at `key`, or null when there is none. */
  get(key: string): Promise<Uint8Array | null>;
  /** Size and sha256 (hex) of what is stored at `key`, or null when there is none. */
  stat(key: string): Promise<{ bytes: number; sha256: string } | null>;
  /** Every key under `prefix` (relative to the store), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Human name of the store for messages: a path or s3://bucket/prefix. */
  readonly location: string;
}

function checkKey(key: string): string {
  if (key === '' || key.startsWith('/') || key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`invalid store key ${JSON.stringify(key)}`);
  }
  return key;
}

function checkSha256(key: string, bytes: Uint8Array, expected: string): void {
  const actual = sha256Hex(bytes);
  if (actual !== expected) throw new Error(`${key}: sha256 of the bytes is ${actual}, the caller said ${expected}`);
}

/** A tape directory on the local file system. */
export class DirectoryStore implements ArchiveStore {
  readonly location: string;

  constructor(readonly root: string) {
    this.location = path.resolve(root);
  }

  private file(key: string): string {
    return path.join(this.location, ...checkKey(key).split('/'));
  }

  async put(key: string, bytes: Uint8Array, options: { sha256: string }): Promise<void> {
    checkSha256(key, bytes, options.sha256);
    const target = this.file(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Written aside then renamed: a crash never leaves a half file under the real name.
    const partial = `${target}.partial`;
    await writeFile(partial, bytes);
    await rename(partial, target);
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.file(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Hashes the file as a stream: a large file is never held whole. */
  async stat(key: string): Promise<{ bytes: number; sha256: string } | null> {
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      for await (const chunk of createReadStream(this.file(key))) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).byteLength;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return { bytes, sha256: hash.digest('hex') };
  }

  /** A local path for `key` (readers that read by ranges, e.g. readTableFile, use it). */
  pathOf(key: string): string {
    return this.file(key);
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (dir: string, relative: string) => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const key = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(path.join(dir, entry.name), key);
        else if (entry.isFile() && !entry.name.endsWith('.partial')) keys.push(key);
      }
    };
    await walk(this.location, '');
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }
}

/** Whether `dir` is missing or an empty directory (a new tape is written only there). */
export async function isEmptyOrMissingDirectory(dir: string): Promise<boolean> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) return false;
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

const hexToBase64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const base64ToHex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/**
 * A tape (an archive) under `prefix` of an S3 bucket. PutObject carries ChecksumSHA256, so S3
 * rejects a body that does not hash to it; HeadObject with ChecksumMode ENABLED returns the
 * stored checksum, which stat reports (a verified upload is a stat whose sha256 is the file's).
 */
export class S3Store implements ArchiveStore {
  readonly location: string;
  private readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    prefix: string,
  ) {
    this.prefix = prefix.replace(/^\/+|\/+$/g, '');
    this.location = `s3://${bucket}/${this.prefix}`;
  }

  private objectKey(key: string): string {
    checkKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async put(key: string, bytes: Uint8Array, options: { sha256: string }): Promise<void> {
    checkSha256(key, bytes, options.sha256);
    await this.client.send(new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.objectKey(key),
      Body: bytes,
      ContentLength: bytes.byteLength,
      ChecksumSHA256: hexToBase64(options.sha256),
      ContentType: key.endsWith('.json') ? 'application/json' : 'application/vnd.apache.parquet',
    }));
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      if (!out.Body) return new Uint8Array();
      return await out.Body.transformToByteArray();
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async stat(key: string): Promise<{ bytes: number; sha256: string } | null> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), ChecksumMode: 'ENABLED' }));
      if (!out.ChecksumSHA256) throw new Error(`${this.location}/${key}: S3 returned no SHA-256 checksum (object not uploaded with ChecksumSHA256?)`);
      // A multipart upload's checksum is a checksum of part checksums ("…-N"): not the file's sha256.
      if (out.ChecksumSHA256.includes('-')) throw new Error(`${this.location}/${key}: composite (multipart) checksum ${out.ChecksumSHA256} is not a whole-object sha256`);
      return { bytes: Number(out.ContentLength ?? 0), sha256: base64ToHex(out.ChecksumSHA256) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const base = this.prefix ? `${this.prefix}/` : '';
    let token: string | undefined;
    do {
      const out = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base + prefix, ContinuationToken: token }));
      for (const object of out.Contents ?? []) if (object.Key) keys.push(object.Key.slice(base.length));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }
}
