import { describe, expect, it } from 'vitest';
import { archiveLocation, parseMonthArgument } from '../../cli/commands/archive';
import { UsageError } from '../../cli/commands/usage';
import { ConfigError } from '../../shared/config/environment';
import { duePartitions } from '../../shared/lifecycle/archive';
import { ARCHIVE_TIER_DEFAULTS, archiveConfigFromEnv } from '../../shared/lifecycle/archiveConfig';
import { exactMonth, hotWindowStart, monthsBetween } from '../../shared/lifecycle/archiveMonths';

describe('archive configuration (environment of archive-partitions)', () => {
  it("defaults to the schema document's storage plan: hot 18 months, warm to 42, 10 years; the bucket under archive/", () => {
    expect(ARCHIVE_TIER_DEFAULTS).toEqual({ hotMonths: 18, warmMonths: 42, retentionYears: 10 });
    expect(archiveConfigFromEnv({ ARCHIVE_BUCKET: 'precog-archive-123' })).toEqual({
      tiers: { hotMonths: 18, warmMonths: 42, retentionYears: 10 },
      location: { kind: 's3', bucket: 'precog-archive-123', prefix: 'archive/' },
    });
    expect(archiveConfigFromEnv({ ARCHIVE_DIR: '/tmp/a', ARCHIVE_HOT_MONTHS: '6', ARCHIVE_WARM_MONTHS: '12', ARCHIVE_RETENTION_YEARS: '2' })).toEqual({
      tiers: { hotMonths: 6, warmMonths: 12, retentionYears: 2 },
      location: { kind: 'directory', dir: '/tmp/a' },
    });
  });

  it.each([
    [{}, /ARCHIVE_BUCKET: required: the archive bucket \(or ARCHIVE_DIR for a directory\)/],
    [{ ARCHIVE_BUCKET: 'b-1', ARCHIVE_DIR: '/tmp/a' }, /ARCHIVE_DIR: set either ARCHIVE_BUCKET \(S3\) or ARCHIVE_DIR \(a directory\), not both/],
    [{ ARCHIVE_BUCKET: 'Not_A_Bucket' }, /ARCHIVE_BUCKET: not an S3 bucket name/],
    [{ ARCHIVE_BUCKET: 'b-1', ARCHIVE_PREFIX: 'archive' }, /ARCHIVE_PREFIX: a key prefix ending in "\/"/],
    [{ ARCHIVE_DIR: '/tmp/a', ARCHIVE_PREFIX: 'archive/' }, /ARCHIVE_PREFIX: only applies with ARCHIVE_BUCKET/],
    [{ ARCHIVE_DIR: '/tmp/a', ARCHIVE_HOT_MONTHS: 'eighteen' }, /ARCHIVE_HOT_MONTHS: the hot window \(months\) must be a whole number/],
    [{ ARCHIVE_DIR: '/tmp/a', ARCHIVE_HOT_MONTHS: '0' }, /ARCHIVE_HOT_MONTHS: the hot window \(months\) must be at least 1/],
    [{ ARCHIVE_DIR: '/tmp/a', ARCHIVE_HOT_MONTHS: '42' }, /ARCHIVE_WARM_MONTHS: the warm window \(42 months\) must end after the hot window \(42 months\)/],
    [{ ARCHIVE_DIR: '/tmp/a', ARCHIVE_RETENTION_YEARS: '3' }, /ARCHIVE_RETENTION_YEARS: the retention \(3 years\) must end after the warm window \(42 months\)/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => archiveConfigFromEnv(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => archiveConfigFromEnv(env as NodeJS.ProcessEnv)).toThrow(message);
  });
});

describe('the archival plan', () => {
  const month = (from: string, to: string, partition = from) => ({ table: 'markets', partition, from: new Date(from), to: new Date(to) });

  it('archives the partitions whose whole range ends by the first of the month hotMonths ago', () => {
    const cutoff = hotWindowStart(new Date('2026-12-07T06:00:00Z'), 18);
    expect(cutoff.toISOString()).toBe('2025-06-01T00:00:00.000Z');
    const partitions = [
      month('2025-04-01T00:00:00Z', '2025-05-01T00:00:00Z'),
      month('2025-05-01T00:00:00Z', '2025-06-01T00:00:00Z'),
      month('2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z'),
    ];
    expect(duePartitions(partitions, cutoff).map((p) => p.partition)).toEqual(['2025-04-01T00:00:00Z', '2025-05-01T00:00:00Z']);
    // On the first of a month at midnight, the month that just became 18 months old is due.
    expect(duePartitions(partitions, hotWindowStart(new Date('2026-12-01T00:00:00Z'), 18)).length).toBe(2);
    expect(duePartitions(partitions, hotWindowStart(new Date('2026-11-30T23:59:59.999Z'), 18)).length).toBe(1);
  });

  it('names a month only for a range of exactly one UTC calendar month', () => {
    expect(exactMonth(new Date('2024-02-01T00:00:00Z'), new Date('2024-03-01T00:00:00Z'))).toBe('2024-02');
    expect(exactMonth(new Date('2024-02-01T00:00:00Z'), new Date('2024-04-01T00:00:00Z'))).toBeNull();
    expect(exactMonth(new Date('2024-02-01T05:00:00Z'), new Date('2024-03-01T05:00:00Z'))).toBeNull();
    expect(monthsBetween('2024-11', '2025-02')).toEqual(['2024-11', '2024-12', '2025-01', '2025-02']);
    expect(monthsBetween('2025-02', '2024-11')).toEqual([]);
  });
});

describe('precog archive arguments', () => {
  it('months are YYYY-MM', () => {
    expect(parseMonthArgument('2024-03')).toBe('2024-03');
    for (const bad of ['2024-3', '2024-13', '2024-03-01', 'March']) expect(() => parseMonthArgument(bad), bad).toThrow(/expected a month as YYYY-MM/);
  });

  it('the archive is --dir or --bucket [--prefix], else the environment; anything else is a usage error', () => {
    expect(archiveLocation({ dir: './a' }, {})).toEqual({ kind: 'directory', dir: './a' });
    expect(archiveLocation({ bucket: 'b-1' }, {})).toEqual({ kind: 's3', bucket: 'b-1', prefix: 'archive/' });
    expect(archiveLocation({ bucket: 'b-1', prefix: 'x/y/' }, {})).toEqual({ kind: 's3', bucket: 'b-1', prefix: 'x/y/' });
    expect(archiveLocation({}, { ARCHIVE_BUCKET: 'b-2', ARCHIVE_PREFIX: 'p/' })).toEqual({ kind: 's3', bucket: 'b-2', prefix: 'p/' });
    expect(() => archiveLocation({ dir: './a', bucket: 'b-1' }, {})).toThrow(new UsageError('give either --dir or --bucket, not both'));
    expect(() => archiveLocation({ dir: './a', prefix: 'p/' }, {})).toThrow('--prefix only applies with --bucket');
    expect(() => archiveLocation({ bucket: 'b-1', prefix: 'p' }, {})).toThrow(/--prefix: "p" is not a key prefix/);
    expect(() => archiveLocation({}, {})).toThrow(UsageError);
  });
});
