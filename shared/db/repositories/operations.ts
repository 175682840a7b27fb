import type { FailedAttempt } from '../../http/httpClient';
import type { Queryable } from '../transaction';

export type HealthStatus = 'healthy' | 'degraded' | 'down';

/** Operational records: component health and the API error log the circuit breakers read. */
export class OperationsRepository {
  constructor(private readonly db: Queryable) {}

  async recordHealth(component: string, status: HealthStatus, details: Record<string, unknown>): Promise<void> {
    await this.db.query('INSERT INTO system_health (component, status, details) VALUES ($1, $2, $3::jsonb)', [
      component, status, JSON.stringify(details),
    ]);
  }

  async latestHealth(component: string): Promise<{ status: HealthStatus; details: Record<string, unknown>; lastCheck: Date } | undefined> {
    const { rows } = await this.db.query(
      'SELECT status, details, last_check FROM system_health WHERE component = $1 ORDER BY last_check DESC, health_id DESC LIMIT 1',
      [component],
    );
    return rows[0] ? { status: rows[0].status, details: rows[0].details, lastCheck: rows[0].last_check } : undefined;
  }

  /** Appends failed API attempts in one statement. */
  async recordApiErrors(api: string, component: string, failures: readonly FailedAttempt[]): Promise<void> {
    if (failures.length === 0) return;
    await this.db.query(
      `INSERT INTO api_errors (api, component, method, url, kind, http_status, message, attempt, final)
       SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::int[], $9::boolean[])`,
      [
        api, component, failures.map((f) => f.method), failures.map((f) => f.url), failures.map((f) => f.kind),
        failures.map((f) => f.status ?? null), failures.map((f) => f.message.slice(0, 1000)), failures.map((f) => f.attempt),
        failures.map((f) => f.final),
      ],
    );
  }

  async countApiErrors(api: string, since: Date, finalOnly = false): Promise<number> {
    const { rows } = await this.db.query(
      'SELECT count(*)::int AS n FROM api_errors WHERE api = $1 AND occurred_at >= $2 AND (NOT $3 OR final)',
      [api, since, finalOnly],
    );
    return rows[0].n;
  }
}
