import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/check-health/handler';
import { EXIT_OK, runCli, type CliIo } from '../../cli/precog';
import { forgetRules } from '../../shared/config/runtimeRules';
import { closeSharedPool } from '../../shared/db/pool';
import { useTestDatabase } from '../helpers/database';
import { seedHalftimeWorld } from '../helpers/scanWorld';

const db = useTestDatabase();
const eventBridge = mockClient(EventBridgeClient);
const context = { functionName: 'check-health', awsRequestId: 'test' } as unknown as Context;
const savedEnv = { ...process.env };

beforeAll(async () => {
  Object.assign(process.env, { DATABASE_URL: db().url, EVENT_BUS_NAME: 'precog-test-bus' });
  delete process.env.EXECUTION_MODE;
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  await seedHalftimeWorld(db().pool, { strategies: 1 });
});
afterAll(async () => {
  process.env = savedEnv;
  eventBridge.restore();
  await closeSharedPool();
});

describe('check-health function', () => {
  it('rejects a malformed console event', async () => {
    await expect(handler({ verbose: true }, context)).rejects.toThrow(/invalid check-health event: .*Unrecognized key.*verbose/);
  });

  it('trips data_stale when ingestion went quiet, records component health, and publishes the trip', async () => {
    await db().pool.query(`UPDATE system_health SET last_check = now() - interval '10 minutes' WHERE component = 'ingest-markets'`);
    const result = await handler({}, context);
    expect(result.breakers.trips.map((t) => t.type)).toEqual(['data_stale']);
    expect(result.components).toContainEqual(expect.objectContaining({ component: 'prices', status: 'down' }));
    const { rows } = await db().pool.query(`SELECT component, status FROM system_health WHERE component IN ('prices', 'circuit-breakers') ORDER BY component`);
    expect(rows).toEqual([{ component: 'circuit-breakers', status: 'degraded' }, { component: 'prices', status: 'down' }]);
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ EventBusName: 'precog-test-bus', Source: 'precog', DetailType: 'Circuit Breaker Tripped' });
    expect(JSON.parse(entries[0]!.Detail!)).toMatchObject({
      breakerType: 'data_stale', effect: { liquidate: false, blockEntries: true, reset: 'when_clear' },
    });
  });

  it('an operator override takes effect without a redeploy (and stops when it expires)', async () => {
    const out: string[] = [];
    const io: CliIo = { out: (l) => out.push(l), err: (l) => out.push(l), env: { DATABASE_URL: db().url } };
    // Ingestion is 10 minutes old; allow an hour for now.
    await db().pool.query(`INSERT INTO system_health (component, status, details, last_check) VALUES ('ingest-markets', 'healthy', '{}', now() - interval '10 minutes')`);
    await db().pool.query(`UPDATE circuit_breaker_events SET resolved_at = now(), resolution_action = 'test' WHERE resolved_at IS NULL`);
    await db().pool.query(`UPDATE system_health SET last_check = now() - interval '10 minutes' WHERE component = 'ingest-markets'`);
    expect(await runCli(['config', 'set', 'circuit_breakers.data_stale.max_price_age_seconds', '3600', '--reason', 'feed maintenance', '--expires-in', '1h'], io)).toBe(EXIT_OK);
    forgetRules();
    expect((await handler({}, context)).breakers.trips).toEqual([]);
    // Expired (as if an hour had passed): the default applies again, without anyone deleting it.
    await db().pool.query(`UPDATE config_overrides SET applied_at = now() - interval '2 hours', expires_at = now() - interval '1 minute'`);
    forgetRules();
    expect((await handler({}, context)).breakers.trips.map((t) => t.type)).toEqual(['data_stale']);
  });

  it('from the schedule: resolves the breaker once ingestion is back, and publishes the resolution', async () => {
    await db().pool.query(`INSERT INTO system_health (component, status, details) VALUES ('ingest-markets', 'healthy', '{}')`);
    eventBridge.resetHistory();
    const result = await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }, context);
    expect(result.breakers.resolutions).toEqual([expect.objectContaining({ type: 'data_stale', action: 'auto: condition cleared' })]);
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => e.DetailType)).toEqual(['Circuit Breaker Resolved']);
  });
});
