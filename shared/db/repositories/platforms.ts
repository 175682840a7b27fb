import type { Queryable } from '../transaction';
import { jsonParam } from '../rows';

export type PlatformType = 'trading' | 'data_source';
export type AuthMethod = 'rsa_pss' | 'api_key' | 'metamask' | 'none';

export interface Platform {
  platformId: string;
  platformType: PlatformType;
  displayName: string;
  baseUrl?: string | null;
  websocketUrl?: string | null;
  apiVersion?: string | null;
  authMethod?: AuthMethod | null;
  feesStructure?: Record<string, unknown> | null;
  status?: 'active' | 'inactive' | 'maintenance';
}

function toPlatform(r: Record<string, any>): Platform {
  return {
    platformId: r.platform_id,
    platformType: r.platform_type,
    displayName: r.display_name,
    baseUrl: r.base_url,
    websocketUrl: r.websocket_url,
    apiVersion: r.api_version,
    authMethod: r.auth_method,
    feesStructure: r.fees_structure,
    status: r.status,
  };
}

export class PlatformRepository {
  constructor(private readonly db: Queryable) {}

  /** Creates the platform or brings its settings up to date (platforms are not versioned). */
  async upsert(p: Platform): Promise<Platform> {
    const { rows } = await this.db.query(
      `INSERT INTO platforms (platform_id, platform_type, display_name, base_url, websocket_url, api_version,
                              auth_method, fees_structure, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
       ON CONFLICT (platform_id) DO UPDATE SET
         platform_type = EXCLUDED.platform_type, display_name = EXCLUDED.display_name,
         base_url = EXCLUDED.base_url, websocket_url = EXCLUDED.websocket_url,
         api_version = EXCLUDED.api_version, auth_method = EXCLUDED.auth_method,
         fees_structure = EXCLUDED.fees_structure, status = EXCLUDED.status
       RETURNING *`,
      [
        p.platformId, p.platformType, p.displayName, p.baseUrl ?? null, p.websocketUrl ?? null,
        p.apiVersion ?? null, p.authMethod ?? null, jsonParam(p.feesStructure), p.status ?? 'active',
      ],
    );
    return toPlatform(rows[0]);
  }

  async get(platformId: string): Promise<Platform | undefined> {
    const { rows } = await this.db.query('SELECT * FROM platforms WHERE platform_id = $1', [platformId]);
    return rows[0] ? toPlatform(rows[0]) : undefined;
  }

  async list(): Promise<Platform[]> {
    const { rows } = await this.db.query('SELECT * FROM platforms ORDER BY platform_id');
    return rows.map(toPlatform);
  }
}
