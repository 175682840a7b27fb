import { jsonParam } from '../rows';
import type { Queryable } from '../transaction';

export type EventStatus = 'scheduled' | 'live' | 'final' | 'cancelled' | 'postponed';

export interface MarketEvent {
  eventId: string;
  platformId: string;
  seriesId?: string | null;
  externalId: string;
  category: string;
  subcategory?: string | null;
  title: string;
  description?: string | null;
  startTime?: Date | null;
  endTime?: Date | null;
  status?: EventStatus | null;
  result?: Record<string, unknown> | null;
  metadata?: Record<string, unknown> | null;
}

function toEvent(r: Record<string, any>): MarketEvent {
  return {
    eventId: r.event_id,
    platformId: r.platform_id,
    seriesId: r.series_id,
    externalId: r.external_id,
    category: r.category,
    subcategory: r.subcategory,
    title: r.title,
    description: r.description,
    startTime: r.start_time,
    endTime: r.end_time,
    status: r.status,
    result: r.result,
    metadata: r.metadata,
  };
}

export class EventRepository {
  constructor(private readonly db: Queryable) {}

  /** Inserts new events and updates changed ones in one statement; returns rows written. */
  async upsertMany(events: readonly MarketEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const col = <K extends keyof MarketEvent>(k: K) => events.map((e) => e[k] ?? null);
    const result = await this.db.query(
      `INSERT INTO events (event_id, platform_id, series_id, external_id, category, subcategory, title, description,
                           start_time, end_time, status, result, metadata)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::text[], $9::timestamptz[], $10::timestamptz[], $11::text[], $12::jsonb[], $13::jsonb[])
       ON CONFLICT (event_id) DO UPDATE SET
         platform_id = EXCLUDED.platform_id, series_id = EXCLUDED.series_id, external_id = EXCLUDED.external_id,
         category = EXCLUDED.category, subcategory = EXCLUDED.subcategory, title = EXCLUDED.title,
         description = EXCLUDED.description, start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time,
         -- Two sources update events (exchange, scoreboard): a source that does not know the
         -- status or result (NULL) keeps what the other one wrote.
         status = COALESCE(EXCLUDED.status, events.status), result = COALESCE(EXCLUDED.result, events.result),
         metadata = EXCLUDED.metadata
       WHERE (events.platform_id, events.series_id, events.external_id, events.category, events.subcategory,
              events.title, events.description, events.start_time, events.end_time, events.status, events.result,
              events.metadata)
         IS DISTINCT FROM (EXCLUDED.platform_id, EXCLUDED.series_id, EXCLUDED.external_id, EXCLUDED.category,
              EXCLUDED.subcategory, EXCLUDED.title, EXCLUDED.description, EXCLUDED.start_time, EXCLUDED.end_time,
              COALESCE(EXCLUDED.status, events.status), COALESCE(EXCLUDED.result, events.result), EXCLUDED.metadata)`,
      [
        col('eventId'), col('platformId'), col('seriesId'), col('externalId'), col('category'), col('subcategory'),
        col('title'), col('description'),
        events.map((e) => e.startTime?.toISOString() ?? null), events.map((e) => e.endTime?.toISOString() ?? null),
        col('status'), events.map((e) => jsonParam(e.result)), events.map((e) => jsonParam(e.metadata)),
      ],
    );
    return result.rowCount ?? 0;
  }

  async get(eventId: string): Promise<MarketEvent | undefined> {
    const { rows } = await this.db.query('SELECT * FROM events WHERE event_id = $1', [eventId]);
    return rows[0] ? toEvent(rows[0]) : undefined;
  }

  async listBySeries(seriesId: string): Promise<MarketEvent[]> {
    const { rows } = await this.db.query('SELECT * FROM events WHERE series_id = $1 ORDER BY start_time, event_id', [seriesId]);
    return rows.map(toEvent);
  }
}
