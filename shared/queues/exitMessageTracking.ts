import type pg from 'pg';

/**
 * Records that execute-exit received a message of the exit request (in its own statement, before
 * the attempt: a failed attempt rolls back, the receive happened all the same). The monitor's sweep
 * reads it to tell a live message from a lost one (shared/monitor/sweep.ts sendUnsentExits).
 *
 * Returns how many times the request's messages have been received, this one included (0 when the
 * request is unknown or no longer active): a re-sent message's first receive is not the request's
 * first delivery.
 */
export async function recordExitReceive(pool: Pick<pg.Pool, 'query'>, exitRequestId: number): Promise<number> {
  const { rows } = await pool.query(
    `UPDATE exit_requests SET message_received_at = precog_now(), message_receives = message_receives + 1
     WHERE exit_request_id = $1 AND status = 'active'
     RETURNING message_receives`,
    [exitRequestId],
  );
  return (rows[0]?.message_receives as number | undefined) ?? 0;
}
