import { createHash } from 'node:crypto';
import { now } from '../../shared/clock/clock';
import { Decimal, ONE, ZERO } from '../../shared/domain/decimal';
import { formatIssue, parseCsv, type MatrixImportIssue } from '../../shared/db/repositories/probabilityMatrices';
import { ProbabilityModelRepository, type ProbabilityModel } from '../../shared/db/repositories/versionedConfigs';
import { modelType, validateModelConfig } from '../../shared/models/registry';
import type { GameView, MatrixCell, ModelInput } from '../../shared/models/types';
import { labelled, table } from '../format';
import { operatorName } from './config';
import type { CommandContext } from './context';
import { readInputFile } from './usage';

/**
 * `precog model validate NAME VERSION --data FILE [--bins N] [--json]`: RUNS the model version
 * (its type's probability function with its stored config, and for a matrix model the matrix
 * cells it names) over a file of game states whose outcomes are known, scores what it answered,
 * and records the run in model_validations (the latest accuracy and Brier score also on the
 * version, as before).
 *
 * The data file is CSV with a header row; one game state per line:
 *   home_team, away_team   team codes as ESPN/Kalshi write them (KC, BUF)          required
 *   status                 scheduled, pregame, live, halftime, final, postponed, cancelled   required
 *   outcome                1 if the YES team won, else 0                           required
 *   yes_team               the team whose win the priced contract pays (default: home_team)
 *   sport                  nfl, ncaaf, nba, … (default: the model's sport)
 *   home_score, away_score whole numbers (empty before the game)
 *   period, time_remaining Q1..Q4, OT, Halftime; M:SS
 *   possession             home, away or empty
 * Other columns (a game id, a note) are ignored. Every bad cell is reported at once, nothing stored.
 * A state the model does not price (a final game for Elo, a pre-game state for the matrix) is
 * skipped with its reason; the metrics are over the priced ones.
 *
 * Metrics (exact Decimal, 20 significant digits for the logarithms):
 *   accuracy     share of correct calls at 0.5 (p = 0.5 counts half)
 *   Brier score  mean of (p − outcome)²
 *   log loss     −mean(outcome·ln p + (1 − outcome)·ln(1 − p)), p clipped to [1e-15, 1 − 1e-15]
 *                (scikit-learn's log_loss eps up to 1.1; 1.2 moved to the float's machine epsilon)
 *                so that a certain wrong answer costs ~34.5, not ∞
 *   calibration  N equal-width bins of p ([0, 1/N), …, [(N−1)/N, 1]): count, mean p, observed
 *                frequency of outcome 1
 */

export const GAME_STATUSES = ['scheduled', 'pregame', 'live', 'halftime', 'final', 'postponed', 'cancelled'] as const;
const REQUIRED_COLUMNS = ['home_team', 'away_team', 'status', 'outcome'] as const;
const OPTIONAL_COLUMNS = ['yes_team', 'sport', 'home_score', 'away_score', 'period', 'time_remaining', 'possession'] as const;

export interface LabelledGameState {
  line: number;
  yesTeam: string;
  game: GameView;
  outcome: 0 | 1;
}

export interface CalibrationBin {
  /** Inclusive lower bound. */
  lower: Decimal;
  /** Exclusive upper bound, except the last bin (1 inclusive). */
  upper: Decimal;
  count: number;
  meanPredicted: Decimal | null;
  observedFrequency: Decimal | null;
}

export interface ValidationMetrics {
  sampleSize: number;
  accuracy: Decimal;
  brierScore: Decimal;
  logLoss: Decimal;
  calibration: CalibrationBin[];
}

/** Bad cells of a data file, every one of them (exit 1: bad data). */
export class ValidationDataError extends Error {
  override name = 'ValidationDataError';
  constructor(
    readonly file: string,
    readonly issues: readonly MatrixImportIssue[],
  ) {
    super(`invalid validation data ${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
  }
}

export class ModelNotFoundError extends Error {
  override name = 'ModelNotFoundError';
}

const HALF = new Decimal('0.5');
/** scikit-learn's log_loss clipping (its eps default up to 1.1): a certain, wrong answer is finite. */
const LOG_LOSS_EPSILON = new Decimal('1e-15');
const SCORE = /^\d{1,3}$/;

/** Parses a file of labelled game states; throws ValidationDataError listing every bad cell. */
export function parseLabelledGameStates(text: string, options: { file?: string; defaultSport: string | null }): LabelledGameState[] {
  const file = options.file ?? 'data';
  const { records, issues: syntax } = parseCsv(text);
  const header = records[0];
  if (!header) throw new ValidationDataError(file, [{ line: 1, message: `empty file: expected a header row with columns ${REQUIRED_COLUMNS.join(', ')}` }]);
  const columns = header.fields.map((f) => f.trim());
  const issues: MatrixImportIssue[] = syntax.map((s) => ({ line: s.line, column: columns[s.field] ?? `#${s.field + 1}`, message: s.message }));
  const index: Record<string, number> = {};
  for (const name of [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]) {
    const at = columns.indexOf(name);
    if (at >= 0 && columns.indexOf(name, at + 1) >= 0) issues.push({ line: header.line, column: name, message: 'duplicate column' });
    if (at >= 0) index[name] = at;
    else if ((REQUIRED_COLUMNS as readonly string[]).includes(name)) issues.push({ line: header.line, column: name, message: 'missing column' });
  }
  if (index.sport === undefined && options.defaultSport === null) {
    issues.push({ line: header.line, column: 'sport', message: 'missing column (the model names no sport)' });
  }
  if (issues.some((i) => i.line === header.line)) throw new ValidationDataError(file, issues);

  const rows: LabelledGameState[] = [];
  const badRecords = new Set(syntax.map((s) => s.recordLine));
  for (const record of records.slice(1)) {
    if (record.fields.length !== columns.length) {
      issues.push({ line: record.line, message: `expected ${columns.length} fields, found ${record.fields.length}` });
      continue;
    }
    const cell = (name: string) => (index[name] === undefined ? '' : record.fields[index[name]!]!.trim());
    const problem = (column: string, message: string) => issues.push({ line: record.line, column, message });
    const before = issues.length;
    for (const name of ['home_team', 'away_team']) if (cell(name) === '') problem(name, 'must not be empty');
    const status = cell('status');
    if (!(GAME_STATUSES as readonly string[]).includes(status)) problem('status', `must be one of ${GAME_STATUSES.join(', ')}`);
    const outcome = cell('outcome');
    if (outcome !== '0' && outcome !== '1') problem('outcome', 'must be 0 or 1 (1: the YES team won)');
    const scores: Array<number | null> = [];
    for (const name of ['home_score', 'away_score']) {
      const v = cell(name);
      if (v !== '' && !SCORE.test(v)) problem(name, 'must be a whole number from 0 to 999, or empty');
      scores.push(v === '' ? null : Number(v));
    }
    const possession = cell('possession');
    if (possession !== '' && possession !== 'home' && possession !== 'away') problem('possession', 'must be home, away or empty');
    const yesTeam = cell('yes_team') || cell('home_team');
    if (yesTeam !== '' && yesTeam !== cell('home_team') && yesTeam !== cell('away_team')) problem('yes_team', 'must be the home_team or the away_team');
    const sport = cell('sport') || options.defaultSport || '';
    if (sport === '') problem('sport', 'must not be empty (the model names no sport)');
    if (issues.length > before || badRecords.has(record.line)) continue;
    rows.push({
      line: record.line,
      yesTeam,
      outcome: outcome === '1' ? 1 : 0,
      game: {
        sport: sport.toLowerCase(), homeTeam: cell('home_team'), awayTeam: cell('away_team'), homeScore: scores[0]!, awayScore: scores[1]!,
        period: cell('period') || null, timeRemaining: cell('time_remaining') || null,
        possession: possession === '' ? null : (possession as 'home' | 'away'), status: status as GameView['status'], sportMetadata: null,
      },
    });
  }
  if (records.length === 1) issues.push({ line: header.line + 1, message: 'no game states after the header' });
  if (issues.length > 0) throw new ValidationDataError(file, issues.sort((a, b) => a.line - b.line));
  return rows;
}

/** Accuracy, Brier score, log loss and calibration bins of priced outcomes (pure, exact Decimal). */
export function computeValidationMetrics(rows: readonly { p: Decimal; outcome: 0 | 1 }[], bins = 10): ValidationMetrics {
  if (rows.length === 0) throw new RangeError('no priced outcomes to validate against');
  const n = new Decimal(rows.length);
  let correct = ZERO;
  let squaredError = ZERO;
  let logLikelihood = ZERO;
  const acc = Array.from({ length: bins }, (_, b) => ({ count: 0, sumP: ZERO, sumOutcome: ZERO, b }));
  for (const { p, outcome } of rows) {
    if (p.lt(0) || p.gt(1)) throw new RangeError(`a probability must be within 0..1, got ${p.toFixed()}`);
    const o = new Decimal(outcome);
    if (p.eq(HALF)) correct = correct.plus(HALF);
    else if ((p.gt(HALF) ? 1 : 0) === outcome) correct = correct.plus(1);
    squaredError = squaredError.plus(p.minus(o).pow(2));
    const clipped = Decimal.min(Decimal.max(p, LOG_LOSS_EPSILON), ONE.minus(LOG_LOSS_EPSILON));
    logLikelihood = logLikelihood.plus(outcome === 1 ? clipped.ln() : ONE.minus(clipped).ln());
    const bin = acc[Math.min(bins - 1, p.times(bins).floor().toNumber())]!;
    bin.count += 1;
    bin.sumP = bin.sumP.plus(p);
    bin.sumOutcome = bin.sumOutcome.plus(o);
  }
  return {
    sampleSize: rows.length,
    accuracy: correct.div(n),
    brierScore: squaredError.div(n),
    logLoss: logLikelihood.neg().div(n),
    calibration: acc.map(({ count, sumP, sumOutcome, b }) => ({
      lower: new Decimal(b).div(bins),
      upper: new Decimal(b + 1).div(bins),
      count,
      meanPredicted: count === 0 ? null : sumP.div(count),
      observedFrequency: count === 0 ? null : sumOutcome.div(count),
    })),
  };
}

/** The matrix cells a matrix model's config names (the scan loads the same ones). */
async function loadMatrixCells(ctx: CommandContext, config: { category: string; subcategory: string; version: string }): Promise<MatrixCell[]> {
  const { rows } = await ctx.pool.query(
    `SELECT probability_id, category, subcategory, version, state_descriptor, value_bucket, situational_factors,
            win_probability::text, confidence_interval_lower::text AS ci_lower, confidence_interval_upper::text AS ci_upper, sample_size
     FROM probability_matrices WHERE category = $1 AND subcategory = $2 AND version = $3`,
    [config.category, config.subcategory, config.version],
  );
  return rows.map((r) => ({
    probabilityId: Number(r.probability_id), category: r.category, subcategory: r.subcategory, version: r.version,
    stateDescriptor: r.state_descriptor, valueBucket: r.value_bucket, situationalFactors: r.situational_factors ?? null,
    winProbability: new Decimal(r.win_probability), ciLower: r.ci_lower === null ? null : new Decimal(r.ci_lower),
    ciUpper: r.ci_upper === null ? null : new Decimal(r.ci_upper), sampleSize: r.sample_size,
  }));
}

export interface ModelValidateArgs {
  name: string;
  version: string;
  /** Path of the labelled game states (CSV). */
  data: string;
  /** Calibration bins (default 10). */
  bins?: number;
  /** The invocation's environment (who ran it: the OS user). */
  env?: NodeJS.ProcessEnv;
  json?: boolean;
}

export interface ModelValidateResult {
  model: ProbabilityModel;
  metrics: ValidationMetrics;
  validationId: number;
  skipped: Array<{ line: number; reason: string }>;
}

const stored4 = (d: Decimal) => d.toDecimalPlaces(4, Decimal.ROUND_HALF_UP);
const stored8 = (d: Decimal) => d.toDecimalPlaces(8, Decimal.ROUND_HALF_UP).toFixed(8);
const fixed = (d: Decimal | null, places = 4) => (d === null ? '-' : d.toDecimalPlaces(places, Decimal.ROUND_HALF_UP).toFixed(places));
const binJson = (b: CalibrationBin) => ({
  lower: b.lower.toFixed(), upper: b.upper.toFixed(), count: b.count,
  mean_predicted: b.meanPredicted?.toFixed() ?? null, observed_frequency: b.observedFrequency?.toFixed() ?? null,
});

export async function modelValidate(ctx: CommandContext, args: ModelValidateArgs): Promise<ModelValidateResult> {
  const text = await readInputFile(args.data, 'data file'); // an unreadable file is a usage error, before the database
  const models = new ProbabilityModelRepository(ctx.pool);
  const found = await models.get(args.name, args.version);
  if (!found) {
    const versions = (await models.list({ name: args.name })).map((m) => m.version);
    throw new ModelNotFoundError(
      `model ${args.name} ${args.version} not found` +
        (versions.length > 0 ? ` (versions of ${args.name}: ${versions.join(', ')})` : ` (no model named ${args.name})`),
    );
  }
  const implementation = modelType(found.type);
  const config = validateModelConfig(found.type, found.config);
  const states = parseLabelledGameStates(text, { file: args.data, defaultSport: found.sport });
  const matrices = found.type === 'matrix' ? await loadMatrixCells(ctx, config as { category: string; subcategory: string; version: string }) : [];
  if (found.type === 'matrix' && matrices.length === 0) {
    const m = config as { category: string; subcategory: string; version: string };
    throw new Error(`matrix ${m.category}/${m.subcategory} ${m.version} of model ${found.name} ${found.version} is not imported (precog matrix import FILE)`);
  }

  const priced: Array<{ p: Decimal; outcome: 0 | 1 }> = [];
  const skipped: Array<{ line: number; reason: string }> = [];
  for (const state of states) {
    const input: ModelInput = { market: { marketId: `${args.data}:${state.line}`, yesTeam: state.yesTeam, closeTime: null }, game: state.game, matrices };
    const answer = implementation.probability(config, input);
    if ('skip' in answer) skipped.push({ line: state.line, reason: answer.skip });
    else priced.push({ p: answer.p, outcome: state.outcome });
  }
  if (priced.length === 0) {
    throw new Error(`model ${found.name} ${found.version} priced none of the ${states.length} game states of ${args.data}: ${skipped.slice(0, 3).map((s) => `line ${s.line}: ${s.reason}`).join('; ')}`);
  }
  const metrics = computeValidationMetrics(priced, args.bins ?? 10);

  const validatedAt = now();
  const { rows: [row] } = await ctx.pool.query(
    `INSERT INTO model_validations (model_id, data_file, data_sha256, sample_size, skipped, accuracy, brier_score, log_loss, calibration, skips, validated_at, validated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12) RETURNING validation_id`,
    [
      found.id, args.data, createHash('sha256').update(text).digest('hex'), metrics.sampleSize, skipped.length,
      stored8(metrics.accuracy), stored8(metrics.brierScore), stored8(metrics.logLoss),
      JSON.stringify(metrics.calibration.map(binJson)), JSON.stringify(skipped), validatedAt, operatorName(args.env ?? {}),
    ],
  );
  const model = await models.recordValidation(found.id, {
    accuracy: stored4(metrics.accuracy),
    calibration: stored4(metrics.brierScore),
    sampleSize: metrics.sampleSize,
  });
  const validationId = Number(row.validation_id);

  if (args.json) {
    ctx.out(JSON.stringify({
      validationId,
      model: { id: model.id, name: model.name, version: model.version, type: model.type, sport: model.sport },
      data: args.data,
      gameStates: states.length,
      sampleSize: metrics.sampleSize,
      skipped,
      accuracy: metrics.accuracy.toFixed(),
      brierScore: metrics.brierScore.toFixed(),
      logLoss: metrics.logLoss.toFixed(),
      calibration: metrics.calibration.map(binJson),
      validatedAt: validatedAt.toISOString(),
    }));
    return { model, metrics, validationId, skipped };
  }

  ctx.out(`model ${model.name} ${model.version} (${model.type}) run over ${states.length} game states of ${args.data}`);
  for (const line of labelled([
    ['priced', `${metrics.sampleSize}${skipped.length > 0 ? ` (${skipped.length} skipped)` : ''}`],
    ['accuracy', `${fixed(metrics.accuracy)}  (share of correct calls at 0.5)`],
    ['Brier score', `${fixed(metrics.brierScore)}  (mean squared error; 0 is perfect, 0.25 is a coin flip)`],
    ['log loss', `${fixed(metrics.logLoss)}  (mean negative log likelihood; 0.6931 is a coin flip)`],
  ])) ctx.out(line);
  for (const s of skipped.slice(0, 10)) ctx.out(`  skipped line ${s.line}: ${s.reason}`);
  if (skipped.length > 10) ctx.out(`  … and ${skipped.length - 10} more skipped (--json lists them all)`);
  ctx.out('calibration:');
  for (const line of table(metrics.calibration, [
    { header: 'BIN', cell: (b) => `[${b.lower.toFixed(2)}, ${b.upper.toFixed(2)}${b.upper.eq(1) ? ']' : ')'}` },
    { header: 'COUNT', cell: (b) => String(b.count), align: 'right' },
    { header: 'MEAN P', cell: (b) => fixed(b.meanPredicted), align: 'right' },
    { header: 'OBSERVED', cell: (b) => fixed(b.observedFrequency), align: 'right' },
  ])) ctx.out(`  ${line}`);
  ctx.out(`stored as validation #${validationId}; on the version: validation_accuracy ${fixed(model.validationAccuracy)}, `
    + `validation_calibration ${fixed(model.validationCalibration)} (Brier), validation_sample_size ${model.validationSampleSize}`);
  return { model, metrics, validationId, skipped };
}
