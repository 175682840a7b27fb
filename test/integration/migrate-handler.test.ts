import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { handler } from '../../functions/migrate/handler';
import { useTestDatabase } from '../helpers/database';

const db = useTestDatabase({ migrated: false });
const context = { functionName: 'migrate', awsRequestId: 'test', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
const ALL_MIGRATIONS = readdirSync(new URL('../../migrations/', import.meta.url))
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .map((f) => f.replace(/\.sql$/, ''));
const sample = (name: string) => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));

const originalUrl = process.env.DATABASE_URL;
afterEach(() => {
  if (originalUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = originalUrl;
});

async function tableCount(): Promise<number> {
  const { rows } = await db().pool.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`);
  return rows[0].n;
}

describe('migrate function', () => {
  it('rejects a malformed console event naming the field, and changes nothing', async () => {
    process.env.DATABASE_URL = db().url;
    await expect(handler({ dryRun: 'yes' }, context)).rejects.toThrow(/invalid migrate event: dryRun: .*boolean/);
    await expect(handler({ dryRn: true }, context)).rejects.toThrow(/invalid migrate event: \(event\): Unrecognized key.*dryRn/);
    expect(await tableCount()).toBe(0);
  });

  it('lists pending migrations on a dry run without applying them', async () => {
    process.env.DATABASE_URL = db().url;
    const result = await handler(sample('migrate-dry-run'), context);
    expect(result.dryRun).toBe(true);
    expect(result.migrations).toEqual(ALL_MIGRATIONS);
    expect(ALL_MIGRATIONS.slice(0, 3)).toEqual(['0001_schema', '0002_integrity-triggers', '0003_views']);
    const { rows } = await db().pool.query(`SELECT to_regclass('public.markets') AS markets`);
    expect(rows[0].markets).toBeNull();
  });

  it('applies the migrations with the sample event, then has nothing left to do', async () => {
    process.env.DATABASE_URL = db().url;
    expect((await handler(sample('migrate'), context)).migrations).toEqual(ALL_MIGRATIONS);
    expect((await handler(sample('migrate'), context)).migrations).toEqual([]);
  });
});
