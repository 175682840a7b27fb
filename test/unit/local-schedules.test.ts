import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../../infra/bundling';
import { FUNCTION_SPECS, scheduledFunctions } from '../../infra/functions';
import { LOCAL_SCHEDULES } from '../../local/runtime';

/**
 * The local runtime runs the scheduled functions at their EventBridge periods (in virtual time):
 * its table must be the deployed one, function for function.
 */

/**
 * name → period in seconds of every function the stack schedules, but the daily data-lifecycle
 * jobs (group `lifecycle`: archival to S3), which a game day played locally has nothing for.
 */
const deployed = Object.fromEntries(
  FUNCTION_NAMES.flatMap((name) => {
    const schedule = FUNCTION_SPECS[name].schedule;
    return schedule && schedule.group !== 'lifecycle' ? [[name, schedule.every.toSeconds()] as const] : [];
  }),
);

describe('LOCAL_SCHEDULES', () => {
  it('equals the EventBridge periods of the scheduled functions in infra/functions.ts', () => {
    expect(LOCAL_SCHEDULES).toEqual(deployed);
  });

  it('schedules exactly the functions the stack schedules, and no queue consumer', () => {
    expect(Object.keys(LOCAL_SCHEDULES).sort()).toEqual(Object.keys(deployed).sort());
    // What `-c schedules=all` turns on is the same set.
    expect(Object.keys(LOCAL_SCHEDULES).sort()).toEqual(scheduledFunctions('all').filter((n) => FUNCTION_SPECS[n].schedule!.group !== 'lifecycle').sort());
    for (const consumer of ['execute-entry', 'execute-exit', 'reconcile', 'migrate', 'archive-partitions', 'restore-check']) {
      expect(Object.keys(LOCAL_SCHEDULES)).not.toContain(consumer);
    }
  });

  it('the periods are the documented cadences (a minute; settlement every five)', () => {
    expect(deployed['settle-markets']).toBe(300);
    expect(deployed['monitor-positions']).toBe(60);
    expect(deployed['maintain-partitions']).toBe(86_400);
    expect(Object.keys(deployed)).toHaveLength(7);
  });
});

describe('the local queues', () => {
  it('have the deployed visibility timeouts (6× the consumer timeout), receive counts and batch size', async () => {
    const { ENTRY_VISIBILITY_SECONDS, EXIT_VISIBILITY_SECONDS, ORDER_BATCH_SIZE: LOCAL_BATCH, LocalEntryQueue, LocalExitQueue } = await import('../../local/localQueue');
    const { ORDER_BATCH_SIZE } = await import('../../infra/functions');
    const { ENTRY_MAX_RECEIVE_COUNT, EXIT_MAX_RECEIVE_COUNT } = await import('../../infra/queues');
    expect(ENTRY_VISIBILITY_SECONDS).toBe(FUNCTION_SPECS['execute-entry'].timeout.toSeconds() * 6);
    expect(EXIT_VISIBILITY_SECONDS).toBe(FUNCTION_SPECS['execute-exit'].timeout.toSeconds() * 6);
    expect(LOCAL_BATCH).toBe(ORDER_BATCH_SIZE);
    expect(new LocalEntryQueue().maxReceiveCount).toBe(ENTRY_MAX_RECEIVE_COUNT);
    expect(new LocalExitQueue().maxReceiveCount).toBe(EXIT_MAX_RECEIVE_COUNT);
  });
});
