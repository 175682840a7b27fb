import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelNotFoundError, ValidationDataError, computeValidationMetrics, modelValidate } from '../../cli/commands/modelValidate';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, runCli, type CliIo } from '../../cli/precog';
import { dec } from '../../shared/domain/decimal';
import { ProbabilityModelRepository } from '../../shared/db/repositories/versionedConfigs';
import { useTestDatabase } from '../helpers/database';

const db = useTestDatabase();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'precog-model-validate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, text);
  return p;
}

/**
 * Ten labelled outcomes (an id column with a quoted comma, an ignored note column):
 *   calls at 0.5: 0.9 ✓, 0.8 ✓, 0.7 ✗, 0.6 ✓, 0.5 half, 0.4 ✓, 0.2 ✗, 0.0125 ✓, 1 ✓, 0.95 ✗ → 6.5 / 10 = 0.65
 *   squared errors: .01 + .04 + .49 + .16 + .25 + .16 + .64 + .00015625 + 0 + .9025 = 2.65265625
 *   Brier = 0.265265625 (stored 0.2653)
 */
const LABELLED = [
  'market_id,p,outcome,note',
  'KXNFLGAME-A,0.9000,1,',
  'KXNFLGAME-B,0.8,1,',
  'KXNFLGAME-C,0.7000,0,upset',
  'KXNFLGAME-D,0.6000,1,',
  '"KXNFLGAME-E, replay",0.5000,1,coin flip',
  'KXNFLGAME-F,0.4000,0,',
  'KXNFLGAME-G,0.2000,1,',
  'KXNFLGAME-H,0.0125,0,',
  'KXNFLGAME-I,1.0000,1,',
  'KXNFLGAME-J,0.9500,0,',
].join('\n');

async function seedModel(name = 'elo_nfl', version = 'v1.0') {
  return new ProbabilityModelRepository(db().pool).create({
    name, version, type: 'elo', sport: 'nfl', config: { k_factor: 28, initial_rating: 1500, home_advantage: 55 },
  });
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: { DATABASE_URL: db().url } };
  return { out, err, io };
}

describe('validation metrics (pure)', () => {
  it('computes accuracy, Brier score and the reliability table exactly', () => {
    const metrics = computeValidationMetrics(
      LABELLED.split('\n').slice(1).map((l) => {
        const cells = l.match(/(".*?"|[^,]*),([^,]*),([01]),/)!;
        return { p: dec(cells[2]!), outcome: cells[3] === '1' ? 1 : 0 };
      }),
    );
    expect(metrics.sampleSize).toBe(10);
    expect(metrics.accuracy.toFixed()).toBe('0.65');
    expect(metrics.brierScore.toFixed()).toBe('0.265265625');
    const bins = metrics.reliability.map((b) => [b.lower.toFixed(1), b.count, b.meanPredicted?.toFixed(4) ?? null, b.observedFrequency?.toFixed(4) ?? null]);
    expect(bins).toEqual([
      ['0.0', 1, '0.0125', '0.0000'],
      ['0.1', 0, null, null],
      ['0.2', 1, '0.2000', '1.0000'],
      ['0.3', 0, null, null],
      ['0.4', 1, '0.4000', '0.0000'],
      ['0.5', 1, '0.5000', '1.0000'],
      ['0.6', 1, '0.6000', '1.0000'],
      ['0.7', 1, '0.7000', '0.0000'],
      ['0.8', 1, '0.8000', '1.0000'],
      ['0.9', 3, '0.9500', '0.6667'], // 0.9, 1.0 (the last bin includes 1) and 0.95
    ]);
    expect(() => computeValidationMetrics([])).toThrow(/no labelled outcomes/);
  });
});

describe('precog model validate', () => {
  it('computes the metrics on a labelled file and stores them on the model version', async () => {
    const model = await seedModel();
    const data = await file('labelled.csv', LABELLED);
    const out: string[] = [];
    const result = await modelValidate({ pool: db().pool, out: (l) => out.push(l) }, { name: 'elo_nfl', version: 'v1.0', data });
    expect(result.metrics.accuracy.toFixed()).toBe('0.65');
    expect(result.metrics.brierScore.toFixed()).toBe('0.265265625');

    const stored = (await new ProbabilityModelRepository(db().pool).get('elo_nfl', 'v1.0'))!;
    expect(stored.id).toBe(model.id);
    expect(stored.validationAccuracy!.toFixed(4)).toBe('0.6500');
    expect(stored.validationCalibration!.toFixed(4)).toBe('0.2653');
    expect(stored.validationSampleSize).toBe(10);
    expect(stored.config).toEqual(model.config); // the immutable part is untouched

    expect(out[0]).toBe(`model elo_nfl v1.0 (elo): 10 labelled outcomes from ${data}`);
    expect(out).toContain('  accuracy     0.6500  (share of correct calls at 0.5)');
    expect(out).toContain('  brier score  0.2653  (mean squared error; lower is better)');
    expect(out).toContain('  [0.9, 1.0]       3  0.9500    0.6667');
    expect(out).toContain('  [0.1, 0.2)       0       -         -');
    expect(out.at(-1)).toBe(
      `stored on model_id ${model.id}: validation_accuracy 0.6500, validation_calibration 0.2653 (Brier score), validation_sample_size 10`,
    );
  });

  it('--json prints one JSON document with exact metrics', async () => {
    const data = await file('labelled-json.csv', LABELLED);
    const out: string[] = [];
    await modelValidate({ pool: db().pool, out: (l) => out.push(l) }, { name: 'elo_nfl', version: 'v1.0', data, json: true });
    expect(out).toHaveLength(1);
    const json = JSON.parse(out[0]!);
    expect(json).toMatchObject({
      model: { name: 'elo_nfl', version: 'v1.0', type: 'elo' },
      sampleSize: 10,
      accuracy: '0.65',
      brierScore: '0.265265625',
      stored: { validationAccuracy: '0.6500', validationCalibration: '0.2653', validationSampleSize: 10 },
    });
    expect(json.reliability).toHaveLength(10);
    expect(json.reliability[9]).toEqual({ lower: '0.9', upper: '1.0', count: 3, meanPredicted: '0.95', observedFrequency: '0.66666666666666666667' });
  });

  it('an unknown model is a clear error', async () => {
    const data = await file('unknown.csv', LABELLED);
    const ctx = { pool: db().pool, out: () => undefined };
    await expect(modelValidate(ctx, { name: 'nope', version: 'v1.0', data })).rejects.toThrow(ModelNotFoundError);
    await expect(modelValidate(ctx, { name: 'nope', version: 'v1.0', data })).rejects.toThrow('model nope v1.0 not found (no model named nope)');
    await expect(modelValidate(ctx, { name: 'elo_nfl', version: 'v9.0', data })).rejects.toThrow(
      'model elo_nfl v9.0 not found (versions of elo_nfl: v1.0)',
    );
  });

  it('a bad data file reports every bad line and stores nothing', async () => {
    await seedModel('elo_nba', 'v1.0');
    const data = await file('bad.csv', ['id,p,outcome', 'a,0.5,1', 'b,1.5,1', 'c,0.3,2', 'd,0.12345,yes', 'e,0.3'].join('\n'));
    const error = await modelValidate({ pool: db().pool, out: () => undefined }, { name: 'elo_nba', version: 'v1.0', data }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationDataError);
    expect((error as ValidationDataError).issues.map((i) => [i.line, i.column ?? null])).toEqual([
      [3, 'p'], [4, 'outcome'], [5, 'p'], [5, 'outcome'], [6, null],
    ]);
    expect((error as Error).message).toContain('line 4, column outcome: must be 0 or 1');
    const stored = (await new ProbabilityModelRepository(db().pool).get('elo_nba', 'v1.0'))!;
    expect([stored.validationAccuracy, stored.validationCalibration, stored.validationSampleSize]).toEqual([null, null, null]);

    const noColumn = await file('no-outcome.csv', 'id,p\na,0.5\n');
    await expect(modelValidate({ pool: db().pool, out: () => undefined }, { name: 'elo_nba', version: 'v1.0', data: noColumn })).rejects.toThrow(
      'line 1, column outcome: missing column',
    );
  });
});

describe('precog CLI (exit codes)', () => {
  it('--help everywhere exits 0', async () => {
    for (const args of [['--help'], ['matrix', '--help'], ['matrix', 'import', '--help'], ['model', 'validate', '--help'], ['help', 'model']]) {
      const { out, io } = capture();
      expect(await runCli(args, io)).toBe(EXIT_OK);
      expect(out.join('\n')).toMatch(/Usage: precog/);
    }
  });

  it('usage errors exit 2', async () => {
    for (const args of [[], ['matrix'], ['bogus'], ['model', 'validate', 'elo_nfl', 'v1.0'], ['model', 'validate', 'elo_nfl', '1.0', '--data', 'x'], ['matrix', 'import'], ['matrix', 'import', 'a', 'b'], ['matrix', 'import', 'a', '--nope']]) {
      const { err, io } = capture();
      expect(await runCli(args, io), args.join(' ')).toBe(EXIT_USAGE);
      expect(err.join('\n')).not.toBe('');
    }
  });

  it('model validate end to end: 0 on success, 1 on an unknown model', async () => {
    const data = await file('cli.csv', LABELLED);
    const ok = capture();
    expect(await runCli(['model', 'validate', 'elo_nfl', 'v1.0', '--data', data, '--json'], ok.io)).toBe(EXIT_OK);
    expect(JSON.parse(ok.out[0]!)).toMatchObject({ accuracy: '0.65', sampleSize: 10 });

    const missing = capture();
    expect(await runCli(['model', 'validate', 'ghost', 'v1.0', '--data', data], missing.io)).toBe(EXIT_FAILURE);
    expect(missing.err).toEqual(['precog: model ghost v1.0 not found (no model named ghost)']);
  });

  it('matrix import end to end: every bad row on stderr, exit 1; JSON errors with --json', async () => {
    const bad = await file(
      'bad-matrix.csv',
      'category,subcategory,version,state_descriptor,value_bucket,win_probability,confidence_interval_lower,confidence_interval_upper,sample_size,source,methodology\n' +
        'sports,nfl,v3.0,halftime,tied,0.55,0.6,0.7,10,s,m\nsports,nfl,v3.0,halftime,lead_1_3,0.6,0.5,0.7,x,s,m\n',
    );
    const text = capture();
    expect(await runCli(['matrix', 'import', bad], text.io)).toBe(EXIT_FAILURE);
    expect(text.err.join('\n')).toContain('line 2, column confidence_interval_lower: 0.6 is above win_probability 0.55');
    expect(text.err.join('\n')).toContain('line 3, column sample_size: must be a non-negative integer');

    const json = capture();
    expect(await runCli(['matrix', 'import', bad, '--json'], json.io)).toBe(EXIT_FAILURE);
    expect(JSON.parse(json.err[0]!)).toMatchObject({ issues: [{ line: 2, column: 'confidence_interval_lower' }, { line: 3, column: 'sample_size' }] });
    const { rows } = await db().pool.query(`SELECT count(*)::int AS n FROM probability_matrices WHERE version = 'v3.0'`);
    expect(rows[0].n).toBe(0);

    const missingFile = capture();
    expect(await runCli(['matrix', 'import', path.join(dir, 'nope.csv')], missingFile.io)).toBe(EXIT_FAILURE);
    expect(missingFile.err[0]).toMatch(/ENOENT/);

    const noDatabase = capture();
    expect(await runCli(['matrix', 'import', bad], { ...noDatabase.io, env: {} })).toBe(EXIT_FAILURE);
    expect(noDatabase.err[0]).toMatch(/set DATABASE_URL/);
  });
});
