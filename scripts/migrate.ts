/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the secret of DATABASE_SECRET_ARN). */
import pg from 'pg';
import { migrate } from '../shared/db/migrate';
import { parseDatabaseEnv, resolvePoolConfig } from '../shared/db/pool';

async function main() {
  const client = new pg.Client(await resolvePoolConfig(parseDatabaseEnv()));
  await client.connect();
  try {
    const applied = await migrate({ connection: client, dryRun: process.argv.includes('--dry-run'), log: console.log });
    console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'nothing to apply: schema is up to date');
  } finally {
    await client.end();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
