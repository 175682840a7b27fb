import { jsonParam } from '../rows';
import type { Queryable } from '../transaction';

export interface Series {
  seriesId: string;
  platformId: string;
  externalId: string;
  category: string;
  subcategory?: string | null;
  title: string;
  frequency?: string | null;
  metadata?: Record<string, unknown> | null;
}

function toSeries(r: Record<string, any>): Series {
  return {
    seriesId: r.series_id,
    platformId: r.platform_id,
    externalId: r.external_id,
    category: r.category,
    subcategory: r.subcategory,
    title: r.title,
    frequency: r.frequency,
    metadata: r.metadata,
  };
}

export class SeriesRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Inserts new series and updates changed ones in one statement; identical rows are not touched
   * (no dead tuples, updated_at keeps meaning "last real change"). Returns rows written.
   */
  async upsertMany(series: readonly Series[]): Promise<number> {
    if (series.length === 0) return 0;
    const col = <K extends keyof Series>(k: K) => series.map((s) => s[k] ?? null);
    const result = await this.db.query(
      `INSERT INTO series (series_id, platform_id, external_id, category, subcategory, title, frequency, metadata)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[])
       ON CONFLICT (series_id) DO UPDATE SET
         platform_id = EXCLUDED.platform_id, external_id = EXCLUDED.external_id, category = EXCLUDED.category,
         subcategory = EXCLUDED.subcategory, title = EXCLUDED.title, frequency = EXCLUDED.frequency,
         metadata = EXCLUDED.metadata
       WHERE (series.platform_id, series.external_id, series.category, series.subcategory, series.title,
              series.frequency, series.metadata)
         IS DISTINCT FROM (EXCLUDED.platform_id, EXCLUDED.external_id, EXCLUDED.category, EXCLUDED.subcategory,
              EXCLUDED.title, EXCLUDED.frequency, EXCLUDED.metadata)`,
      [
        col('seriesId'), col('platformId'), col('externalId'), col('category'), col('subcategory'), col('title'),
        col('frequency'), series.map((s) => jsonParam(s.metadata)),
      ],
    );
    return result.rowCount ?? 0;
  }

  async get(seriesId: string): Promise<Series | undefined> {
    const { rows } = await this.db.query('SELECT * FROM series WHERE series_id = $1', [seriesId]);
    return rows[0] ? toSeries(rows[0]) : undefined;
  }

  async listByPlatform(platformId: string): Promise<Series[]> {
    const { rows } = await this.db.query('SELECT * FROM series WHERE platform_id = $1 ORDER BY series_id', [platformId]);
    return rows.map(toSeries);
  }
}
