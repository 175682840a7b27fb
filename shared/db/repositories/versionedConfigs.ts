import type { Decimal } from '../../domain/decimal';
import { decimalOrNull } from '../rows';
import type { Queryable } from '../transaction';

/**
 * Strategies and probability models share the immutable-version pattern: a (name, version) whose
 * config never changes, with mutable status and metrics. One generic repository serves both.
 */

export type StrategyStatus = 'draft' | 'testing' | 'active' | 'inactive' | 'deprecated';
export type ModelStatus = 'draft' | 'training' | 'validating' | 'active' | 'deprecated';
export type StrategyType = 'entry' | 'exit' | 'sizing' | 'hedging';
export type ModelType = 'elo' | 'regression' | 'ensemble' | 'ml' | 'matrix';

interface VersionBase<TType extends string, TStatus extends string> {
  id: number;
  name: string;
  version: string;
  type: TType;
  sport: string | null;
  config: Record<string, unknown>;
  description: string | null;
  status: TStatus;
  createdAt: Date;
  createdBy: string | null;
  notes: string | null;
}

export interface Strategy extends VersionBase<StrategyType, StrategyStatus> {
  paperRoi: Decimal | null;
  liveRoi: Decimal | null;
  paperTradesCount: number;
  liveTradesCount: number;
}

export interface ProbabilityModel extends VersionBase<ModelType, ModelStatus> {
  validationAccuracy: Decimal | null;
  validationCalibration: Decimal | null;
  validationSampleSize: number | null;
}

export interface NewVersion<TType extends string, TStatus extends string> {
  name: string;
  version: string;
  type: TType;
  sport?: string | null;
  config: Record<string, unknown>;
  description?: string | null;
  status?: TStatus;
  createdBy?: string | null;
  notes?: string | null;
}

interface TableShape {
  table: 'strategies' | 'probability_models';
  id: string;
  name: string;
  version: string;
  type: string;
}

const STRATEGY_TABLE: TableShape = {
  table: 'strategies', id: 'strategy_id', name: 'strategy_name', version: 'strategy_version', type: 'strategy_type',
};
const MODEL_TABLE: TableShape = {
  table: 'probability_models', id: 'model_id', name: 'model_name', version: 'model_version', type: 'model_type',
};

abstract class VersionedConfigRepository<T extends VersionBase<string, string>, TType extends string, TStatus extends string> {
  protected constructor(
    protected readonly db: Queryable,
    private readonly shape: TableShape,
  ) {}

  protected abstract fromRow(r: Record<string, any>): T;

  protected base(r: Record<string, any>): VersionBase<string, string> {
    const s = this.shape;
    return {
      id: r[s.id], name: r[s.name], version: r[s.version], type: r[s.type], sport: r.sport, config: r.config,
      description: r.description, status: r.status, createdAt: r.created_at, createdBy: r.created_by, notes: r.notes,
    };
  }

  async create(v: NewVersion<TType, TStatus>): Promise<T> {
    const s = this.shape;
    const { rows } = await this.db.query(
      `INSERT INTO ${s.table} (${s.name}, ${s.version}, ${s.type}, sport, config, description, status, created_by, notes)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9) RETURNING *`,
      [v.name, v.version, v.type, v.sport ?? null, JSON.stringify(v.config), v.description ?? null, v.status ?? 'draft',
        v.createdBy ?? null, v.notes ?? null],
    );
    return this.fromRow(rows[0]);
  }

  async get(name: string, version: string): Promise<T | undefined> {
    const s = this.shape;
    const { rows } = await this.db.query(`SELECT * FROM ${s.table} WHERE ${s.name} = $1 AND ${s.version} = $2`, [name, version]);
    return rows[0] ? this.fromRow(rows[0]) : undefined;
  }

  async getById(id: number): Promise<T | undefined> {
    const s = this.shape;
    const { rows } = await this.db.query(`SELECT * FROM ${s.table} WHERE ${s.id} = $1`, [id]);
    return rows[0] ? this.fromRow(rows[0]) : undefined;
  }

  /** Versions ordered by name, newest version first (semantic order: v1.10 after v1.9). */
  async list(filter: { name?: string; status?: TStatus } = {}): Promise<T[]> {
    const s = this.shape;
    const { rows } = await this.db.query(
      `SELECT * FROM ${s.table} WHERE ($1::text IS NULL OR ${s.name} = $1) AND ($2::text IS NULL OR status = $2)
       ORDER BY ${s.name}, version_sort_key(${s.version}) DESC`,
      [filter.name ?? null, filter.status ?? null],
    );
    return rows.map((r) => this.fromRow(r));
  }

  async setStatus(id: number, status: TStatus): Promise<T> {
    const s = this.shape;
    const { rows } = await this.db.query(`UPDATE ${s.table} SET status = $2 WHERE ${s.id} = $1 RETURNING *`, [id, status]);
    if (!rows[0]) throw new Error(`${s.table}: no version with id ${id}`);
    return this.fromRow(rows[0]);
  }
}

export class StrategyRepository extends VersionedConfigRepository<Strategy, StrategyType, StrategyStatus> {
  constructor(db: Queryable) {
    super(db, STRATEGY_TABLE);
  }

  protected fromRow(r: Record<string, any>): Strategy {
    return {
      ...(this.base(r) as VersionBase<StrategyType, StrategyStatus>),
      paperRoi: decimalOrNull(r.paper_roi),
      liveRoi: decimalOrNull(r.live_roi),
      paperTradesCount: r.paper_trades_count,
      liveTradesCount: r.live_trades_count,
    };
  }

  /** Performance metrics are the mutable part of a strategy version. */
  async recordPerformance(
    id: number,
    m: { paperRoi?: Decimal | null; liveRoi?: Decimal | null; paperTradesCount?: number; liveTradesCount?: number },
  ): Promise<Strategy> {
    const { rows } = await this.db.query(
      `UPDATE strategies SET
         paper_roi = CASE WHEN $2 THEN $3::numeric ELSE paper_roi END,
         live_roi = CASE WHEN $4 THEN $5::numeric ELSE live_roi END,
         paper_trades_count = COALESCE($6, paper_trades_count),
         live_trades_count = COALESCE($7, live_trades_count)
       WHERE strategy_id = $1 RETURNING *`,
      [id, m.paperRoi !== undefined, m.paperRoi?.toFixed() ?? null, m.liveRoi !== undefined, m.liveRoi?.toFixed() ?? null,
        m.paperTradesCount ?? null, m.liveTradesCount ?? null],
    );
    if (!rows[0]) throw new Error(`strategies: no version with id ${id}`);
    return this.fromRow(rows[0]);
  }
}

export class ProbabilityModelRepository extends VersionedConfigRepository<ProbabilityModel, ModelType, ModelStatus> {
  constructor(db: Queryable) {
    super(db, MODEL_TABLE);
  }

  protected fromRow(r: Record<string, any>): ProbabilityModel {
    return {
      ...(this.base(r) as VersionBase<ModelType, ModelStatus>),
      validationAccuracy: decimalOrNull(r.validation_accuracy),
      validationCalibration: decimalOrNull(r.validation_calibration),
      validationSampleSize: r.validation_sample_size,
    };
  }

  /** Validation results are the mutable part of a model version. */
  async recordValidation(
    id: number,
    v: { accuracy: Decimal; calibration: Decimal; sampleSize: number },
  ): Promise<ProbabilityModel> {
    const { rows } = await this.db.query(
      `UPDATE probability_models SET validation_accuracy = $2, validation_calibration = $3, validation_sample_size = $4
       WHERE model_id = $1 RETURNING *`,
      [id, v.accuracy.toFixed(), v.calibration.toFixed(), v.sampleSize],
    );
    if (!rows[0]) throw new Error(`probability_models: no version with id ${id}`);
    return this.fromRow(rows[0]);
  }
}
