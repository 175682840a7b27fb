import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selectProxyLane } from '../helpers/pgbouncer';

/** How the test setup picks the database lane: CI must not fall back to direct connections silently. */
const nowhere = mkdtempSync(path.join(os.tmpdir(), 'precog-no-pgbouncer-'));
const somewhere = mkdtempSync(path.join(os.tmpdir(), 'precog-pgbouncer-'));
const fake = path.join(somewhere, 'pgbouncer');
writeFileSync(fake, '#!/bin/sh\n', { mode: 0o755 });
afterAll(() => {
  rmSync(nowhere, { recursive: true, force: true });
  rmSync(somewhere, { recursive: true, force: true });
});

describe('database lane selection', () => {
  it('PRECOG_DB_PROXY=pgbouncer without a pgbouncer binary fails, saying how to install it', () => {
    expect(() => selectProxyLane({ PRECOG_DB_PROXY: 'pgbouncer', PATH: nowhere }, [])).toThrow(
      'PRECOG_DB_PROXY=pgbouncer but no pgbouncer binary was found (apt-get install pgbouncer, or set PGBOUNCER_PATH)',
    );
  });

  it('unset, the lane is PgBouncer when installed and direct when not', () => {
    expect(selectProxyLane({ PATH: somewhere }, [])).toEqual({ lane: 'pgbouncer', binary: fake });
    expect(selectProxyLane({ PATH: nowhere }, [])).toEqual({ lane: 'none' });
    expect(selectProxyLane({ PGBOUNCER_PATH: fake, PATH: nowhere }, [])).toEqual({ lane: 'pgbouncer', binary: fake });
  });

  it('PRECOG_DB_PROXY=none connects directly even with PgBouncer installed; another value is refused', () => {
    expect(selectProxyLane({ PRECOG_DB_PROXY: 'none', PATH: somewhere }, [])).toEqual({ lane: 'none' });
    expect(() => selectProxyLane({ PRECOG_DB_PROXY: 'rds', PATH: somewhere }, [])).toThrow('PRECOG_DB_PROXY must be pgbouncer or none, not "rds"');
  });
});
