import type pg from 'pg';
import { withTransaction } from '../db/transaction';
import type { EdgeAlertDetail } from './events';

/**
 * One alert per edge, not one per scan. A scan writes a new version of an alert-worthy edge each
 * minute its figures move, and each new version used to be announced (a mail a minute). The
 * edge's identity (market, strategy, model, side) records when its alert went out
 * (`edge_identities.alert_sent_at`, in the database: many scan-edges containers run); an alert is
 * announced only for an identity without one. The episode ends, and the next alert may go out,
 * when the edge's current version is no longer an alert (it moved to ignore or auto-execute) or the
 * edge is gone.
 *
 * Returns the alerts to publish: at most one per identity, those no other scan has announced.
 */
export async function claimEdgeAlerts<A extends Pick<EdgeAlertDetail, 'edgeId'>>(pool: pg.Pool, alerts: readonly A[]): Promise<A[]> {
  return withTransaction(pool, async (client) => {
    // Episodes that ended: the identity's current edge is no longer an alert (or there is none).
    await client.query(
      `UPDATE edge_identities i SET alert_sent_at = NULL
       WHERE i.alert_sent_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM edges e
                          WHERE e.market_id = i.market_id AND e.strategy_id = i.strategy_id AND e.model_id = i.model_id
                            AND e.side = i.side AND e.row_current_ind AND e.recommended_action = 'alert')`,
    );
    if (alerts.length === 0) return [];
    // A concurrent scan claiming the same identity waits on its row, then sees it claimed.
    const { rows } = await client.query(
      `UPDATE edge_identities i SET alert_sent_at = precog_now()
       FROM edges e
       WHERE e.edge_id = ANY($1::bigint[]) AND e.recommended_action = 'alert'
         AND i.market_id = e.market_id AND i.strategy_id = e.strategy_id AND i.model_id = e.model_id AND i.side = e.side
         AND i.alert_sent_at IS NULL
       RETURNING e.edge_id`,
      [alerts.map((a) => a.edgeId)],
    );
    const claimed = new Set(rows.map((r) => Number(r.edge_id)));
    return alerts.filter((a) => claimed.has(a.edgeId));
  });
}

/** Alerts that could not be published: their identities may announce again (the next scan's new version). */
export async function releaseEdgeAlerts(pool: pg.Pool, edgeIds: readonly number[]): Promise<void> {
  if (edgeIds.length === 0) return;
  await pool.query(
    `UPDATE edge_identities i SET alert_sent_at = NULL
     FROM edges e
     WHERE e.edge_id = ANY($1::bigint[])
       AND i.market_id = e.market_id AND i.strategy_id = e.strategy_id AND i.model_id = e.model_id AND i.side = e.side`,
    [edgeIds],
  );
}
