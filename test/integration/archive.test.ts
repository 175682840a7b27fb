import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type pg from 'pg';
import { Readable } from 'node:stream';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { archiveRestoreCommand } from '../../cli/commands/archive';
import { closeSharedPool } from '../../shared/db/pool';
import { runArchivePartitions } from '../../functions/archive-partitions/handler';
import { DirectoryStore, openTape } from '../../shared/tape';
import { runPrecog } from '../helpers/cli';
import { ManualClock, useClock } from '../../shared/clock/clock';
import { dec } from '../../shared/domain/decimal';
import { archiveDuePartitions, type ArchiveDeps } from '../../shared/lifecycle/archive';
import { archiveDeps, partitionOps, tapeCodec } from '../../shared/lifecycle/archiveDeps';
import { readArchiveManifest } from '../../shared/lifecycle/archiveManifest';
import { RestoreError, restoreMonths } from '../../shared/lifecycle/archiveRestore';
import { withTransaction } from '../../shared/db/transaction';
import { useDatabasePerTest } from '../helpers/database';
import { marketSnapshot, seedHierarchy, seedMarkets } from '../helpers/seed';

/**
 * Issue 20, must hold: no archived partition is dropped unless its Parquet file is verified (a
 * failed upload, a checksum mismatch, a short read leave the partition with all its rows), and
 * after archiving and restoring a month every row of it is back, byte-equal.
 *
 * The history: three markets whose versions are superseded in March and April 2024 (history
 * partitions markets_history_2024_03 / _04), archived on 2026-12-07 with the 18-month hot window
 * (cutoff 2025-06-01).
 */

const db = useDatabasePerTest();
const ARCHIVE_DAY = Date.parse('2026-12-07T06:00:00Z');
const MARKETS = ['KXNFLGAME-25NOV27KCDAL-KC', 'KXNFLGAME-25NOV27KCDAL-DAL', 'KXNFLGAME-25NOV27KCDAL-TIE'];
const MARCH = 'markets_history_2024_03';
const APRIL = 'markets_history_2024_04';
const HOT = { hotMonths: 18 };

let clock: ManualClock;
let restoreClock: () => void;
let dir: string;

beforeEach(async () => {
  clock = new ManualClock(Date.parse('2024-03-05T12:00:00Z'));
  restoreClock = useClock(clock);
  dir = await mkdtemp(path.join(tmpdir(), 'precog-archive-'));
});
afterEach(async () => {
  restoreClock();
  await rm(dir, { recursive: true, force: true });
});

/** Three markets, each with a version superseded in March 2024 and one in April 2024. */
async function seedHistory(pool: pg.Pool): Promise<void> {
  await withTransaction(pool, (client) => partitionOps.ensurePartitionsFor(client, 'markets', new Date('2024-03-01T00:00:00Z'), new Date('2024-05-01T00:00:00Z')));
  await seedHierarchy(pool);
  await seedMarkets(pool, MARKETS.map((m, i) => marketSnapshot(m, `0.${41 + i}00`, { volume: 1000 + i })));
  await clock.set(Date.parse('2024-03-20T09:30:00.123Z'));
  await seedMarkets(pool, MARKETS.map((m, i) => marketSnapshot(m, `0.${51 + i}25`, { spread: dec('0.0150') })));
  await clock.set(Date.parse('2024-04-10T18:45:00.456Z'));
  await seedMarkets(pool, MARKETS.map((m, i) => marketSnapshot(m, `0.${61 + i}75`, { status: 'closed' })));
  await clock.set(ARCHIVE_DAY);
}

/** Every row of the months, as PostgreSQL prints it: the byte-equality the restore must keep. */
async function monthRows(pool: pg.Pool, from = '2024-03-01', to = '2024-05-01'): Promise<string[]> {
  const { rows } = await pool.query<{ row: string }>(
    `SELECT t::text AS row FROM markets t WHERE superseded_at >= $1 AND superseded_at < $2 ORDER BY market_id, market_version_id`,
    [from, to],
  );
  return rows.map((r) => r.row);
}

async function partitionRows(pool: pg.Pool, partition: string): Promise<number | null> {
  const exists = await pool.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [partition]);
  if (exists.rows[0]!.r === null) return null;
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${partition}`);
  return Number(rows[0]!.n);
}

describe('archival to a directory, and restore', () => {
  it('archives the months past the hot window, verified, then drops them; a restore brings every row back byte-equal', async () => {
    const pool = db().pool;
    await seedHistory(pool);
    const before = await monthRows(pool);
    expect(before).toHaveLength(6);
    expect(await partitionRows(pool, MARCH)).toBe(3);

    const deps = archiveDeps(pool, { kind: 'directory', dir });
    const result = await archiveDuePartitions(deps, HOT);
    expect(result.failures).toEqual([]);
    expect(result.cutoff.toISOString()).toBe('2025-06-01T00:00:00.000Z');
    const markets = result.archived.filter((a) => a.table === 'markets');
    expect(markets.map((a) => [a.partition, a.key, a.rows, a.uploaded])).toEqual([
      [MARCH, 'markets/2024-03.parquet', 3, true],
      [APRIL, 'markets/2024-04.parquet', 3, true],
    ]);
    expect(await partitionRows(pool, MARCH)).toBeNull();
    expect(await partitionRows(pool, APRIL)).toBeNull();
    expect(await monthRows(pool)).toEqual([]);

    // The tape layout in the directory, each file as the manifest lists it.
    const manifest = (await readArchiveManifest(deps.store))!;
    for (const month of ['2024-03', '2024-04']) {
      const entry = manifest.files.find((f) => f.table === 'markets' && f.month === month)!;
      const bytes = await readFile(path.join(dir, 'markets', `${month}.parquet`));
      expect(entry).toMatchObject({ rows: 3, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
    }

    // Restore the two months through the CLI command: exact to the row.
    const out: string[] = [];
    await archiveRestoreCommand({ pool, out: (l) => out.push(l) }, { table: 'markets', from: '2024-03', to: '2024-04', location: { kind: 'directory', dir } });
    expect(out).toEqual(['restored 6 rows of markets (2024-03: 3, 2024-04: 3)']);
    expect(await monthRows(pool)).toEqual(before);
    expect(await partitionRows(pool, MARCH)).toBe(3);

    // A second restore of the same months is refused, naming them, and writes nothing.
    await expect(restoreMonths(deps, { table: 'markets', from: '2024-03', to: '2024-04' })).rejects.toThrow(
      /markets already has rows in the months to restore; nothing restored:\n {2}2024-03: 3 rows \(first keys .*\)\n {2}2024-04: 3 rows/,
    );
    expect(await monthRows(pool)).toEqual(before);
  });

  it('a run that crashed after the upload finishes on the next run: the same object is verified again, then the partition dropped', async () => {
    const pool = db().pool;
    await seedHistory(pool);
    const crashing: ArchiveDeps = {
      ...archiveDeps(pool, { kind: 'directory', dir }),
      partitions: { ...partitionOps, detachAndDropPartition: () => Promise.reject(new Error('Lambda timed out')) },
    };
    const crashed = await archiveDuePartitions(crashing, HOT);
    expect(crashed.failures).toMatchObject([{ table: 'markets', partition: MARCH, error: 'Lambda timed out' }]);
    expect(await partitionRows(pool, MARCH)).toBe(3);
    const uploaded = await readFile(path.join(dir, 'markets', '2024-03.parquet'));

    const rerun = await archiveDuePartitions(archiveDeps(pool, { kind: 'directory', dir }), HOT);
    expect(rerun.failures).toEqual([]);
    expect(rerun.archived.filter((a) => a.table === 'markets').map((a) => [a.partition, a.uploaded])).toEqual([[MARCH, false], [APRIL, true]]);
    expect(await readFile(path.join(dir, 'markets', '2024-03.parquet'))).toEqual(uploaded);
    expect(await partitionRows(pool, MARCH)).toBeNull();
  });

  it('an object already in the archive with another content is never overwritten and its partition is kept', async () => {
    const pool = db().pool;
    await seedHistory(pool);
    await mkdir(path.join(dir, 'markets'), { recursive: true });
    await writeFile(path.join(dir, 'markets', '2024-03.parquet'), 'someone else wrote this');
    const result = await archiveDuePartitions(archiveDeps(pool, { kind: 'directory', dir }), HOT);
    expect(result.archived.filter((a) => a.table === 'markets')).toEqual([]);
    expect(result.failures).toMatchObject([{ table: 'markets', partition: MARCH, month: '2024-03', error: expect.stringMatching(/markets\/2024-03\.parquet is already in the archive with a different content .*not overwritten/) }]);
    expect(await readFile(path.join(dir, 'markets', '2024-03.parquet'), 'utf8')).toBe('someone else wrote this');
    expect(await partitionRows(pool, MARCH)).toBe(3);
    expect(await partitionRows(pool, APRIL)).toBe(3); // the table stops at its first failure
  });

  it('a short read (an export that lost rows, its file self-consistent) fails verification: nothing dropped', async () => {
    const pool = db().pool;
    await seedHistory(pool);
    const before = await monthRows(pool);
    const deps = archiveDeps(pool, { kind: 'directory', dir });
    // The cursor "stopped early": one row of the partition never reaches the file.
    const shortRead: ArchiveDeps = {
      ...deps,
      codec: { ...tapeCodec, exportTableFile: (p, spec) => tapeCodec.exportTableFile(p, { ...spec, where: `(${spec.where}) AND market_id <> '${MARKETS[2]}'` }) },
    };
    const result = await archiveDuePartitions(shortRead, HOT);
    expect(result.failures).toMatchObject([{ partition: MARCH, error: 'markets/2024-03.parquet: the file holds 2 rows, the partition 3' }]);
    expect(await partitionRows(pool, MARCH)).toBe(3);
    expect(await monthRows(pool)).toEqual(before);
  });

  it('a restore refuses months that are not archived, and a file altered since, and writes nothing', async () => {
    const pool = db().pool;
    await seedHistory(pool);
    const deps = archiveDeps(pool, { kind: 'directory', dir });
    await archiveDuePartitions(deps, HOT);
    await expect(restoreMonths(deps, { table: 'markets', from: '2024-02', to: '2024-04' })).rejects.toThrow('markets: not in the archive for 2024-02');
    await expect(restoreMonths(deps, { table: 'positions', from: '2024-03', to: '2024-03' })).rejects.toThrow(/table positions is not archived by month/);
    const file = path.join(dir, 'markets', '2024-04.parquet');
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.byteLength - 10));
    await expect(restoreMonths(deps, { table: 'markets', from: '2024-03', to: '2024-04' })).rejects.toThrow(RestoreError);
    await expect(restoreMonths(deps, { table: 'markets', from: '2024-03', to: '2024-04' })).rejects.toThrow(/markets\/2024-04\.parquet: sha256 [0-9a-f]{64}, the manifest says/);
    expect(await monthRows(pool)).toEqual([]); // March was not kept either: one transaction
  });
});

describe('archival to S3 (aws-sdk-client-mock at the SDK boundary)', () => {
  const s3 = mockClient(S3Client);
  const objects = new Map<string, Uint8Array>();
  const sha256Base64 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

  /** An S3 that keeps what it is given (PutObject with its checksum, HeadObject, GetObject, List). */
  function faithfulS3(): void {
    objects.clear();
    s3.reset();
    s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: Uint8Array; ChecksumSHA256?: string }) => {
      const body = new Uint8Array(input.Body);
      if (input.ChecksumSHA256 !== undefined && input.ChecksumSHA256 !== sha256Base64(body)) throw new Error('BadDigest');
      objects.set(input.Key, body);
      return { ChecksumSHA256: sha256Base64(body) };
    });
    s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
      const body = objects.get(input.Key);
      if (!body) throw new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'Not Found' });
      return { ContentLength: body.byteLength, ChecksumSHA256: sha256Base64(body) };
    });
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const body = objects.get(input.Key);
      if (!body) throw new S3ServiceException({ name: 'NoSuchKey', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
      // The SDK's response body: a stream with the transformTo* helpers (what sdkStreamMixin adds).
      const stream = Object.assign(Readable.from([Buffer.from(body)]), {
        transformToByteArray: async () => new Uint8Array(body),
        transformToString: async () => Buffer.from(body).toString('utf8'),
      });
      return { Body: stream, ContentLength: body.byteLength };
    });
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => ({
      Contents: [...objects.keys()].filter((k) => k.startsWith(input.Prefix ?? '')).map((Key) => ({ Key })),
    }));
  }

  const s3Deps = (pool: pg.Pool) => archiveDeps(pool, { kind: 's3', bucket: 'precog-archive-test', prefix: 'archive/' }, { s3: s3 as unknown as S3Client });

  beforeEach(() => faithfulS3());
  afterEach(() => s3.reset());

  it('puts each month at archive/<table>/<YYYY-MM>.parquet with its SHA-256, checks it with HeadObject (ChecksumMode ENABLED), then drops', async () => {
    const pool = db().pool;
    await seedHistory(pool);
    const result = await archiveDuePartitions(s3Deps(pool), HOT);
    expect(result.failures).toEqual([]);
    expect(await partitionRows(pool, MARCH)).toBeNull();
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    const march = puts.find((p) => p.Key === 'archive/markets/2024-03.parquet')!;
    expect(march).toMatchObject({ Bucket: 'precog-archive-test', ChecksumSHA256: sha256Base64(objects.get('archive/markets/2024-03.parquet')!) });
    expect(puts.some((p) => p.Key === 'archive/manifest.json')).toBe(true);
    const heads = s3.commandCalls(HeadObjectCommand).map((c) => c.args[0].input);
    expect(heads).toContainEqual(expect.objectContaining({ Bucket: 'precog-archive-test', Key: 'archive/markets/2024-03.parquet', ChecksumMode: 'ENABLED' }));
  });

  it('restores from the bucket, byte-equal', async () => {
    const pool = db().pool;
    await seedHistory(pool);
    const before = await monthRows(pool);
    await archiveDuePartitions(s3Deps(pool), HOT);
    expect(await monthRows(pool)).toEqual([]);
    const restored = await restoreMonths(s3Deps(pool), { table: 'markets', from: '2024-03', to: '2024-04' });
    expect(restored.months.map((m) => [m.key, m.rows])).toEqual([['markets/2024-03.parquet', 3], ['markets/2024-04.parquet', 3]]);
    expect(await monthRows(pool)).toEqual(before);
  });

  it('a rejected PutObject: the partition is still there with all its rows', async () => {
    const pool = db().pool;
    await seedHistory(pool);
    const before = await monthRows(pool);
    s3.on(PutObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }));
    const result = await archiveDuePartitions(s3Deps(pool), HOT);
    expect(result.archived.filter((a) => a.table === 'markets')).toEqual([]);
    expect(result.failures).toMatchObject([{ table: 'markets', partition: MARCH, error: expect.stringMatching(/Access Denied/) }]);
    expect(await partitionRows(pool, MARCH)).toBe(3);
    expect(await partitionRows(pool, APRIL)).toBe(3);
    expect(await monthRows(pool)).toEqual(before);
  });

  it('a checksum mismatch (the stored object is not what was sent): the partition is still there with all its rows', async () => {
    const pool = db().pool;
    await seedHistory(pool);
    const before = await monthRows(pool);
    // S3 acknowledges the put but stores (and reports) other bytes.
    s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: Uint8Array }) => {
      const body = new Uint8Array(input.Body);
      if (input.Key.endsWith('.parquet')) body[body.byteLength - 1] = body[body.byteLength - 1]! ^ 0xff;
      objects.set(input.Key, body);
      return {};
    });
    const result = await archiveDuePartitions(s3Deps(pool), HOT);
    expect(result.failures).toMatchObject([{ partition: MARCH, error: expect.stringMatching(/markets\/2024-03\.parquet: the archive's sha256 [0-9a-f]{64} is not the export's/) }]);
    expect(await partitionRows(pool, MARCH)).toBe(3);
    expect(await monthRows(pool)).toEqual(before);
  });
});

describe('the archive is a tape, opened by other readers', () => {
  it('openTape replays it (rows in superseded_at order) and DuckDB reads a month file', async () => {
    const pool = db().pool;
    await seedHistory(pool);
    // game_states has (empty) partitions for the same months: archived as empty files.
    await withTransaction(pool, (client) => partitionOps.ensurePartitionsFor(client, 'game_states', new Date('2024-03-01T00:00:00Z'), new Date('2024-05-01T00:00:00Z')));
    const result = await archiveDuePartitions(archiveDeps(pool, { kind: 'directory', dir }), HOT);
    expect(result.archived.map((a) => [a.partition, a.rows])).toEqual([
      [MARCH, 3], [APRIL, 3], ['game_states_history_2024_03', 0], ['game_states_history_2024_04', 0],
    ]);
    const tape = await openTape(new DirectoryStore(dir));
    expect(tape.manifest.tables).toEqual([
      { table: 'markets', role: 'timeseries', timeColumn: 'superseded_at', keyColumns: ['market_version_id'] },
      { table: 'game_states', role: 'timeseries', timeColumn: 'superseded_at', keyColumns: ['game_state_id'] },
    ]);
    expect(tape.manifest.files.find((f) => f.key === 'game_states/2024-03.parquet')).toMatchObject({ rows: 0, minTime: null, maxTime: null });
    expect(tape.manifest.window).toEqual({ from: '2024-03-01T00:00:00.000Z', to: '2024-05-01T00:00:00.000Z' });
    const events = [];
    for await (const e of tape.events()) events.push(e);
    expect(events.map((e) => [e.table, e.at.toISOString()])).toEqual([
      ...MARKETS.map(() => ['markets', '2024-03-20T09:30:00.123Z']),
      ...MARKETS.map(() => ['markets', '2024-04-10T18:45:00.456Z']),
    ]);

    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const file = path.join(dir, 'markets', '2024-03.parquet').replace(/'/g, "''");
      const reader = await connection.runAndReadAll(
        `SELECT count(*)::INTEGER AS n, min(superseded_at)::VARCHAR AS first, typeof(min(yes_price)) AS price_type FROM read_parquet('${file}')`,
      );
      expect(reader.getRowObjectsJS()).toEqual([{ n: 3, first: '2024-03-20 09:30:00.123+00', price_type: expect.stringMatching(/^DECIMAL/) }]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

describe('the archive-partitions function and the precog archive commands', () => {
  const saved = { ...process.env };
  afterEach(async () => {
    process.env = { ...saved };
    await closeSharedPool();
  });

  it('the function takes its archive from ARCHIVE_DIR; a dry run lists what is due and touches nothing', async () => {
    const pool = db().pool;
    await seedHistory(pool);
    Object.assign(process.env, { DATABASE_URL: db().url, ARCHIVE_DIR: dir });
    const dry = await runArchivePartitions({ dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, cutoff: new Date('2025-06-01T00:00:00Z') });
    expect((dry as { due: Array<{ partition: string }> }).due.map((d) => d.partition)).toEqual([MARCH, APRIL]);
    expect(await partitionRows(pool, MARCH)).toBe(3);
    const run = await runArchivePartitions({ 'detail-type': 'Scheduled Event', source: 'aws.events' });
    expect(run).toMatchObject({ failures: [], archived: [{ partition: MARCH, rows: 3 }, { partition: APRIL, rows: 3 }] });
    expect(await partitionRows(pool, MARCH)).toBeNull();
  });

  it('emits ArchiveFailures (the alarm), ArchivedPartitions and ArchivedRows on every run', async () => {
    const pool = db().pool;
    await seedHistory(pool);
    Object.assign(process.env, { DATABASE_URL: db().url, ARCHIVE_DIR: dir });
    const added = vi.spyOn(Metrics.prototype, 'addMetric');
    const emitted = () => Object.fromEntries(added.mock.calls.map(([name, , value]) => [name, value]));
    try {
      await mkdir(path.join(dir, 'markets'), { recursive: true });
      await writeFile(path.join(dir, 'markets', '2024-03.parquet'), 'not this month');
      await runArchivePartitions({});
      expect(emitted()).toEqual({ ArchivedPartitions: 0, ArchivedRows: 0, ArchiveFailures: 1 });
      expect(await partitionRows(pool, MARCH)).toBe(3);
      added.mockClear();
      await rm(path.join(dir, 'markets', '2024-03.parquet'));
      await runArchivePartitions({});
      expect(emitted()).toEqual({ ArchivedPartitions: 2, ArchivedRows: 6, ArchiveFailures: 0 });
    } finally {
      added.mockRestore();
    }
  });

  it('refuses a configuration without an archive, naming the variable', async () => {
    Object.assign(process.env, { DATABASE_URL: db().url });
    delete process.env.ARCHIVE_DIR;
    delete process.env.ARCHIVE_BUCKET;
    await expect(runArchivePartitions({})).rejects.toThrow('invalid archive configuration: ARCHIVE_BUCKET: required: the archive bucket (or ARCHIVE_DIR for a directory)');
  });

  it('precog archive export, list and restore against a directory; usage errors exit 2', async () => {
    const pool = db().pool;
    await seedHistory(pool);
    const before = await monthRows(pool);
    const exported = await runPrecog(db().url, ['archive', 'export', '--table', 'markets', '--from', '2024-03', '--to', '2024-04', '--dir', dir]);
    expect(exported).toMatchObject({ code: 0, out: 'markets/2024-03.parquet: 3 rows, verified\nmarkets/2024-04.parquet: 3 rows, verified' });
    expect(await partitionRows(pool, MARCH)).toBe(3); // export drops nothing

    const listed = await runPrecog(db().url, ['archive', 'list', '--dir', dir, '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out).files.map((f: { key: string; rows: number }) => [f.key, f.rows])).toEqual([['markets/2024-03.parquet', 3], ['markets/2024-04.parquet', 3]]);

    const refused = await runPrecog(db().url, ['archive', 'restore', '--table', 'markets', '--from', '2024-03', '--to', '2024-03', '--dir', dir]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^precog: markets already has rows in the months to restore; nothing restored:\n {2}2024-03: 3 rows/);

    // Archive (drop) them, then bring them back through the CLI.
    await archiveDuePartitions(archiveDeps(pool, { kind: 'directory', dir }), HOT);
    const restored = await runPrecog(db().url, ['archive', 'restore', '--table', 'markets', '--from', '2024-03', '--to', '2024-04', '--dir', dir]);
    expect(restored).toMatchObject({ code: 0, out: 'restored 6 rows of markets (2024-03: 3, 2024-04: 3)' });
    expect(await monthRows(pool)).toEqual(before);

    for (const args of [
      ['archive', 'restore', '--table', 'markets', '--from', '2024-3', '--to', '2024-04', '--dir', dir],
      ['archive', 'restore', '--table', 'markets', '--from', '2024-04', '--to', '2024-03', '--dir', dir],
      ['archive', 'restore', '--table', 'markets', '--from', '2024-03', '--to', '2024-04', '--dir', dir, '--bucket', 'b-1'],
      ['archive', 'restore', '--table', 'markets', '--from', '2024-03', '--to', '2024-04'],
      ['archive', 'export', '--table', 'markets', '--from', '2024-03', '--to', '2024-04'],
    ]) {
      const r = await runPrecog(db().url, args);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
