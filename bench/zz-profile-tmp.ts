import { withBenchServer } from './harness';
import { seedPositionsWorld } from './benches/monitorSweep';
import { sweepPositions } from '../shared/monitor/sweep';
import { MemoryExitQueue } from '../shared/queues/sqsEntryQueue';
import { readFileSync } from 'node:fs';

const src = readFileSync('shared/monitor/sweep.ts', 'utf8');
const POSITIONS_SQL = src.split('const POSITIONS_SQL = `')[1]!.split('`;')[0]!;

await withBenchServer(async ({ freshDatabase }) => {
  const { pool } = await freshDatabase();
  await seedPositionsWorld(pool, 10_000);
  await sweepPositions({ pool, queue: new MemoryExitQueue() });
  const t = async (label: string, sql: string, params: unknown[] = []) => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const s = process.hrtime.bigint();
      await c.query(sql, params);
      console.log(`${label}: ${(Number(process.hrtime.bigint() - s) / 1e6).toFixed(0)} ms`);
      await c.query('ROLLBACK');
    } finally { c.release(); }
  };
  const ids = (await pool.query('SELECT position_id FROM positions WHERE row_current_ind')).rows.map((r) => r.position_id);
  const hb = 'UPDATE positions SET last_update = $2 WHERE row_current_ind AND position_id = ANY($1::bigint[])';
  await pool.query('VACUUM ANALYZE positions');
  await t('heartbeat 10k (after vacuum)', hb, [ids, new Date()]);
  await t('heartbeat 10k again', hb, [ids, new Date()]);
  await pool.query('ALTER TABLE positions DISABLE TRIGGER positions_versions_immutable');
  await t('heartbeat, immutable trigger disabled', hb, [ids, new Date()]);
  await pool.query('ALTER TABLE positions ENABLE TRIGGER positions_versions_immutable');
  await pool.query('DROP INDEX idx_positions_last_update');
  await pool.query('VACUUM ANALYZE positions');
  await t('heartbeat, no last_update index', hb, [ids, new Date()]);
  const plan = await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${POSITIONS_SQL}`, [null, 'paper']);
  console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
  const s = Date.now();
  const { rows } = await pool.query(POSITIONS_SQL, [null, 'paper']);
  console.log(`load: ${Date.now() - s} ms for ${rows.length} rows (incl. parse)`);
});
