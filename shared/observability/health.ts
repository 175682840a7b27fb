import type pg from 'pg';
import { OperationsRepository, type HealthStatus } from '../db/repositories/operations';

/**
 * Every function reports how its run went as a `system_health` row for its component (check-health
 * judges staleness from these). Reporting never fails the run it reports on.
 */
export async function reportHealth(
  pool: pg.Pool,
  component: string,
  status: HealthStatus,
  details: Record<string, unknown>,
  log?: (message: string, extra: object) => void,
): Promise<void> {
  try {
    await new OperationsRepository(pool).recordHealth(component, status, details);
  } catch (error) {
    log?.('could not record health', { component, error: (error as Error).message });
  }
}
