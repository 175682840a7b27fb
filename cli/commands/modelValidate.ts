import { readFile } from 'node:fs/promises';
import { Decimal, ZERO } from '../../shared/domain/decimal';
import { formatIssue, parseCsv, type MatrixImportIssue } from '../../shared/db/repositories/probabilityMatrices';
import { ProbabilityModelRepository, type ProbabilityModel } from '../../shared/db/repositories/versionedConfigs';
import type { CommandContext } from './context';

/**
 * `precog model validate NAME VERSION --data FILE [--json]`: scores a model version against
 * labelled outcomes and stores the result in the version's mutable validation fields.
 *
 * The data file is CSV with a header row and the columns
 *   p        the model's predicted probability of outcome 1, 0..1 with at most 4 decimals
 *   outcome  0 or 1
 * plus any other columns (an identifier such as market_id), which are ignored.
 *
 * Metrics, all in Decimal:
 *   accuracy     share of correct calls at 0.5: p > 0.5 calls 1, p < 0.5 calls 0, and p = 0.5 (no call)
 *                counts half
 *   brier score  mean of (p − outcome)²; stored as validation_calibration (lower is better)
 *   reliability  10 bins of p ([0.0, 0.1), [0.1, 0.2), …, [0.9, 1.0]): count, mean p, observed
 *                frequency of outcome 1
 * Stored values are rounded half-up to 4 decimals (the columns' precision).
 */

export interface LabelledOutcome {
  line: number;
  p: Decimal;
  outcome: 0 | 1;
}

export interface ReliabilityBin {
  /** Inclusive lower bound. */
  lower: Decimal;
  /** Exclusive upper bound, except the last bin (1.0 inclusive). */
  upper: Decimal;
  count: number;
  meanPredicted: Decimal | null;
  observedFrequency: Decimal | null;
}

export interface ValidationMetrics {
  sampleSize: number;
  accuracy: Decimal;
  brierScore: Decimal;
  reliability: ReliabilityBin[];
}

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

const PROBABILITY = /^(0(\.\d{1,4})?|1(\.0{1,4})?|\.\d{1,4})$/;
const HALF = new Decimal('0.5');
const BINS = 10;

/** Parses a labelled-outcomes file; throws ValidationDataError listing every bad line. */
export function parseLabelledOutcomes(text: string, file = 'data'): LabelledOutcome[] {
  const { records, issues: syntax } = parseCsv(text);
  const header = records[0];
  if (!header) throw new ValidationDataError(file, [{ line: 1, message: 'empty file: expected a header row with columns p and outcome' }]);
  const columns = header.fields.map((f) => f.trim());
  const issues: MatrixImportIssue[] = syntax.map((s) => ({ line: s.line, column: columns[s.field] ?? `#${s.field + 1}`, message: s.message }));
  const pIndex = columns.indexOf('p');
  const outcomeIndex = columns.indexOf('outcome');
  for (const [name, index] of [['p', pIndex], ['outcome', outcomeIndex]] as const) {
    if (index < 0) issues.push({ line: header.line, column: name, message: 'missing column' });
    else if (columns.indexOf(name, index + 1) >= 0) issues.push({ line: header.line, column: name, message: 'duplicate column' });
  }
  if (issues.some((i) => i.line === header.line)) throw new ValidationDataError(file, issues);

  const rows: LabelledOutcome[] = [];
  const badRecords = new Set(syntax.map((s) => s.recordLine));
  for (const record of records.slice(1)) {
    if (record.fields.length !== columns.length) {
      issues.push({ line: record.line, message: `expected ${columns.length} fields, found ${record.fields.length}` });
      continue;
    }
    const p = record.fields[pIndex]!.trim();
    const outcome = record.fields[outcomeIndex]!.trim();
    let ok = !badRecords.has(record.line);
    if (!PROBABILITY.test(p)) {
      issues.push({ line: record.line, column: 'p', message: 'must be a probability 0..1 with at most 4 decimals (e.g. 0.6250)' });
      ok = false;
    }
    if (outcome !== '0' && outcome !== '1') {
      issues.push({ line: record.line, column: 'outcome', message: 'must be 0 or 1' });
      ok = false;
    }
    if (ok) rows.push({ line: record.line, p: new Decimal(p), outcome: outcome === '1' ? 1 : 0 });
  }
  if (records.length === 1) issues.push({ line: header.line + 1, message: 'no labelled outcomes after the header' });
  if (issues.length > 0) throw new ValidationDataError(file, issues.sort((a, b) => a.line - b.line));
  return rows;
}

/** Accuracy, Brier score and the reliability table of labelled predictions (pure, exact Decimal). */
export function computeValidationMetrics(rows: readonly Pick<LabelledOutcome, 'p' | 'outcome'>[]): ValidationMetrics {
  if (rows.length === 0) throw new RangeError('no labelled outcomes to validate against');
  const n = new Decimal(rows.length);
  let correct = ZERO;
  let squaredError = ZERO;
  const bins = Array.from({ length: BINS }, (_, b) => ({ count: 0, sumP: ZERO, sumOutcome: ZERO, b }));
  for (const { p, outcome } of rows) {
    const o = new Decimal(outcome);
    if (p.eq(HALF)) correct = correct.plus(HALF);
    else if ((p.gt(HALF) ? 1 : 0) === outcome) correct = correct.plus(1);
    squaredError = squaredError.plus(p.minus(o).pow(2));
    const bin = bins[Math.min(BINS - 1, p.times(BINS).floor().toNumber())]!;
    bin.count += 1;
    bin.sumP = bin.sumP.plus(p);
    bin.sumOutcome = bin.sumOutcome.plus(o);
  }
  return {
    sampleSize: rows.length,
    accuracy: correct.div(n),
    brierScore: squaredError.div(n),
    reliability: bins.map(({ count, sumP, sumOutcome, b }) => ({
      lower: new Decimal(b).div(BINS),
      upper: new Decimal(b + 1).div(BINS),
      count,
      meanPredicted: count === 0 ? null : sumP.div(count),
      observedFrequency: count === 0 ? null : sumOutcome.div(count),
    })),
  };
}

export interface ModelValidateArgs {
  name: string;
  version: string;
  /** Path of the labelled-outcomes CSV. */
  data: string;
  json?: boolean;
}

export interface ModelValidateResult {
  model: ProbabilityModel;
  metrics: ValidationMetrics;
}

const stored = (d: Decimal) => d.toDecimalPlaces(4, Decimal.ROUND_HALF_UP);
const fixed4 = (d: Decimal | null) => (d === null ? '-' : d.toFixed(4));

export async function modelValidate(ctx: CommandContext, args: ModelValidateArgs): Promise<ModelValidateResult> {
  const models = new ProbabilityModelRepository(ctx.pool);
  const found = await models.get(args.name, args.version);
  if (!found) {
    const versions = (await models.list({ name: args.name })).map((m) => m.version);
    throw new ModelNotFoundError(
      `model ${args.name} ${args.version} not found` +
        (versions.length > 0 ? ` (versions of ${args.name}: ${versions.join(', ')})` : ` (no model named ${args.name})`),
    );
  }
  const rows = parseLabelledOutcomes(await readFile(args.data, 'utf8'), args.data);
  const metrics = computeValidationMetrics(rows);
  const model = await models.recordValidation(found.id, {
    accuracy: stored(metrics.accuracy),
    calibration: stored(metrics.brierScore),
    sampleSize: metrics.sampleSize,
  });

  if (args.json) {
    ctx.out(
      JSON.stringify({
        model: { id: model.id, name: model.name, version: model.version, type: model.type },
        data: args.data,
        sampleSize: metrics.sampleSize,
        accuracy: metrics.accuracy.toFixed(),
        brierScore: metrics.brierScore.toFixed(),
        stored: {
          validationAccuracy: model.validationAccuracy?.toFixed(4) ?? null,
          validationCalibration: model.validationCalibration?.toFixed(4) ?? null,
          validationSampleSize: model.validationSampleSize,
        },
        reliability: metrics.reliability.map((b) => ({
          lower: b.lower.toFixed(1),
          upper: b.upper.toFixed(1),
          count: b.count,
          meanPredicted: b.meanPredicted?.toFixed() ?? null,
          observedFrequency: b.observedFrequency?.toFixed() ?? null,
        })),
      }),
    );
    return { model, metrics };
  }

  ctx.out(`model ${model.name} ${model.version} (${model.type}): ${metrics.sampleSize} labelled outcomes from ${args.data}`);
  ctx.out(`  accuracy     ${fixed4(metrics.accuracy)}  (share of correct calls at 0.5)`);
  ctx.out(`  brier score  ${fixed4(metrics.brierScore)}  (mean squared error; lower is better)`);
  ctx.out('');
  ctx.out('  bin          count  mean p  observed');
  for (const b of metrics.reliability) {
    const range = `[${b.lower.toFixed(1)}, ${b.upper.toFixed(1)}${b.upper.eq(1) ? ']' : ')'}`;
    ctx.out(`  ${range.padEnd(11)} ${String(b.count).padStart(6)}  ${fixed4(b.meanPredicted).padStart(6)}  ${fixed4(b.observedFrequency).padStart(8)}`);
  }
  ctx.out('');
  ctx.out(
    `stored on model_id ${model.id}: validation_accuracy ${fixed4(model.validationAccuracy)}, ` +
      `validation_calibration ${fixed4(model.validationCalibration)} (Brier score), validation_sample_size ${model.validationSampleSize}`,
  );
  return { model, metrics };
}
