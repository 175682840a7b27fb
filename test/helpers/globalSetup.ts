import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { databaseServer, databaseUrl } from '../../local/embeddedPostgres';
import { migrate } from '../../shared/db/migrate';

export const TEMPLATE_DATABASE = `precog_template_${process.pid}`;

/**
 * Starts embedded PostgreSQL unless DATABASE_URL points at a server (whose user needs CREATEDB),
 * and builds one migrated template database that every test file clones.
 */
export default async function setup(project: TestProject) {
  const { url: adminUrl, stop: stopServer } = await databaseServer();

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE}`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  await admin.end();
  await migrate({ connection: databaseUrl(adminUrl, TEMPLATE_DATABASE) });

  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', TEMPLATE_DATABASE);

  return async () => {
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE}`);
    await cleanup.end();
    await stopServer();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
  }
}
