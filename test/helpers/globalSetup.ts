import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { databaseServer, databaseUrl } from '../../local/embeddedPostgres';
import { migrate } from '../../shared/db/migrate';
import { selectProxyLane, startPgBouncer, type DatabaseProxyLane } from './pgbouncer';

export const TEMPLATE_DATABASE = `precog_template_${process.pid}`;

/**
 * Starts embedded PostgreSQL unless DATABASE_URL points at a server (whose user needs CREATEDB),
 * and builds one migrated template database that every test file clones.
 *
 * The proxy lane: PgBouncer in transaction mode in front of that server (test/helpers/pgbouncer.ts)
 * carries what the code under test connects with (each file's pool and URL), as RDS Proxy does
 * in AWS; admin work (creating and dropping databases, the template) goes direct.
 */
export default async function setup(project: TestProject) {
  const lane = selectProxyLane(); // before anything starts: a misconfigured lane fails fast
  const { url: adminUrl, stop: stopServer } = await databaseServer();
  let applicationServerUrl = adminUrl;
  let stopBouncer = async (): Promise<void> => undefined;
  if (lane.lane === 'pgbouncer') {
    try {
      const bouncer = await startPgBouncer(adminUrl, { binary: lane.binary! });
      applicationServerUrl = bouncer.url;
      stopBouncer = () => bouncer.stop();
    } catch (error) {
      await stopServer();
      throw error;
    }
  }
  console.log(`database lane: ${lane.lane === 'pgbouncer' ? `PgBouncer (${lane.binary}, transaction pooling, startup parameters refused)` : 'direct'}`);

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE}`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  await admin.end();
  await migrate({ connection: databaseUrl(adminUrl, TEMPLATE_DATABASE) });

  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('applicationServerUrl', applicationServerUrl);
  project.provide('databaseProxy', lane.lane);
  project.provide('templateDatabase', TEMPLATE_DATABASE);

  return async () => {
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE}`);
    await cleanup.end();
    await stopBouncer();
    await stopServer();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the server itself: creating and dropping databases. */
    adminDatabaseUrl: string;
    /** The same server as the code under test reaches it: through PgBouncer in the proxy lane. */
    applicationServerUrl: string;
    databaseProxy: DatabaseProxyLane;
    templateDatabase: string;
  }
}
