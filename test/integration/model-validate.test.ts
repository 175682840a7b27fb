import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelNotFoundError, ValidationDataError, computeValidationMetrics, modelValidate, parseLabelledGameStates } from '../../cli/commands/modelValidate';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, runCli, type CliIo } from '../../cli/precog';
import { dec } from '../../shared/domain/decimal';
import { ProbabilityModelRepository } from '../../shared/db/repositories/versionedConfigs';
import { useTestDatabase } from '../helpers/database';

/**
 * `precog model validate` RUNS the model version over game states with known outcomes (issue 18,
 * item 13): the probabilities below come from the Elo formula and the shipped NFL matrix, not from
 * the file, and the metrics are checked by hand.
 */

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
 * Elo ratings KC 1900, BUF 1500, PHI 1700, DAL 1500, no home advantage:
 * P(home) = 1 / (1 + 10^(−(R_home − R_away)/400)), rounded half-even to 4 decimals.
 *   line 2  KC (home) vs BUF, YES = KC:  d = 400  → 1/1.1 = 0.9091        outcome 1
 *   line 3  BUF (home) vs KC, YES = BUF: d = −400 → 1/11  = 0.0909        outcome 0
 *   line 4  PHI (home) vs DAL, YES = PHI: d = 200 → 0.75975 → 0.7597      outcome 0 (upset)
 *   line 5  DAL (home) vs BUF, YES = DAL: d = 0   → 0.5                   outcome 1
 *   line 6  KC (home) vs BUF, YES = BUF (away): 1 − 0.9091 = 0.0909       outcome 0
 *   line 7  a final game: Elo does not price it (skipped)
 * accuracy: ✓ ✓ ✗ ½ ✓ = 3.5 / 5 = 0.7
 * Brier: (0.0909² × 3 + 0.7597² + 0.5²) / 5 = (0.02478843 + 0.57714409 + 0.25) / 5 = 0.170386504
 * log loss: −(3 ln 0.9091 + ln 0.2403 + ln 0.5) / 5
 *         = (3 × 0.0953001798543 + 1.4258671362397 + 0.6931471805599) / 5 = 0.48098297127…
 * calibration (10 bins): [0.0, 0.1) 2 at 0.0909 observed 0; [0.5, 0.6) 1 observed 1;
 *   [0.7, 0.8) 1 observed 0; [0.9, 1.0] 1 observed 1.
 */
const ELO_STATES = [
  'game_id,home_team,away_team,yes_team,status,home_score,away_score,period,time_remaining,possession,outcome',
  'g1,KC,BUF,KC,scheduled,,,,,,1',
  'g2,BUF,KC,BUF,pregame,,,,,,0',
  'g3,PHI,DAL,PHI,scheduled,,,,,,0',
  'g4,DAL,BUF,DAL,scheduled,,,,,,1',
  'g1,KC,BUF,BUF,scheduled,,,,,,0',
  'g5,KC,DAL,KC,final,31,17,Final,0:00,,1',
].join('\n');

async function seedElo(name = 'elo_nfl', version = 'v1.0') {
  return new ProbabilityModelRepository(db().pool).create({
    name, version, type: 'elo', sport: 'nfl',
    config: { k_factor: 20, initial_rating: 1500, home_advantage: 0, ratings: { KC: 1900, BUF: 1500, PHI: 1700, DAL: 1500 } },
  });
}

function capture(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: { DATABASE_URL: db().url, ...env } };
  return { out, err, io };
}

describe('validation metrics (pure)', () => {
  it('accuracy, Brier score, log loss and calibration bins, exactly', () => {
    const priced = (['0.9091', '0.0909', '0.7597', '0.5', '0.0909'] as const).map((p, i) => ({ p: dec(p), outcome: ([1, 0, 0, 1, 0] as const)[i]! }));
    const m = computeValidationMetrics(priced);
    expect(m.sampleSize).toBe(5);
    expect(m.accuracy.toFixed()).toBe('0.7');
    expect(m.brierScore.toFixed()).toBe('0.170386504');
    expect(m.logLoss.toFixed(10)).toBe('0.4809829713');
    expect(m.calibration.map((b) => [b.lower.toFixed(1), b.count, b.meanPredicted?.toFixed(4) ?? null, b.observedFrequency?.toFixed(4) ?? null])).toEqual([
      ['0.0', 2, '0.0909', '0.0000'], ['0.1', 0, null, null], ['0.2', 0, null, null], ['0.3', 0, null, null], ['0.4', 0, null, null],
      ['0.5', 1, '0.5000', '1.0000'], ['0.6', 0, null, null], ['0.7', 1, '0.7597', '0.0000'], ['0.8', 0, null, null], ['0.9', 1, '0.9091', '1.0000'],
    ]);
    // A certain, wrong answer is clipped (1e-15), not infinite: −ln(1e-15) = 34.538776394910683…
    expect(computeValidationMetrics([{ p: dec('1'), outcome: 0 }]).logLoss.toFixed(6)).toBe('34.538776');
    expect(computeValidationMetrics([{ p: dec('0.5'), outcome: 1 }], 4).calibration.map((b) => b.count)).toEqual([0, 0, 1, 0]);
    expect(() => computeValidationMetrics([])).toThrow(/no priced outcomes/);
  });

  it('a bad game-states file reports every bad cell at once', () => {
    const bad = [
      'home_team,away_team,status,outcome,home_score,possession,yes_team',
      'KC,BUF,scheduled,1,,,KC',
      ',BUF,live,2,7,,KC',
      'KC,BUF,playing,1,x,left,NYJ',
      'KC,BUF',
    ].join('\n');
    const error = (() => {
      try {
        parseLabelledGameStates(bad, { file: 'bad.csv', defaultSport: 'nfl' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationDataError);
    expect((error as ValidationDataError).issues.map((i) => [i.line, i.column ?? null])).toEqual([
      [3, 'home_team'], [3, 'outcome'], [3, 'yes_team'], [4, 'status'], [4, 'home_score'], [4, 'possession'], [4, 'yes_team'], [5, null],
    ]);
    expect((error as Error).message).toContain('line 4, column status: must be one of scheduled, pregame, live, halftime, final, postponed, cancelled');
    expect(() => parseLabelledGameStates('home_team,away_team,status\n', { defaultSport: null })).toThrow(/column outcome: missing column[\s\S]*column sport: missing column/);
  });
});

describe('precog model validate runs the model', () => {
  it('Elo: the probabilities are the formula\'s, the metrics hand-checked, the run stored with calibration and log loss', async () => {
    const model = await seedElo();
    const data = await file('elo.csv', ELO_STATES);
    const c = capture();
    expect(await runCli(['model', 'validate', 'elo_nfl', 'v1.0', '--data', data, '--json'], c.io), c.err.join('\n')).toBe(EXIT_OK);
    const out = JSON.parse(c.out[0]!);
    expect(out).toMatchObject({
      model: { name: 'elo_nfl', version: 'v1.0', type: 'elo' }, gameStates: 6, sampleSize: 5,
      skipped: [{ line: 7, reason: expect.stringMatching(/game is final/) }],
      accuracy: '0.7', brierScore: '0.170386504',
    });
    expect(dec(out.logLoss).toFixed(10)).toBe('0.4809829713');
    expect(out.calibration[9]).toEqual({ lower: '0.9', upper: '1', count: 1, mean_predicted: '0.9091', observed_frequency: '1' });

    const { rows: [run] } = await db().pool.query(
      `SELECT model_id, sample_size, skipped, accuracy::text, brier_score::text, log_loss::text, calibration, skips, data_file, length(data_sha256) AS sha
       FROM model_validations WHERE validation_id = $1`, [out.validationId]);
    expect(run).toMatchObject({
      model_id: model.id, sample_size: 5, skipped: 1, accuracy: '0.70000000', brier_score: '0.17038650', log_loss: '0.48098297', data_file: data, sha: 64,
    });
    expect(run.calibration).toHaveLength(10);
    expect(run.calibration[0]).toEqual({ lower: '0', upper: '0.1', count: 2, mean_predicted: '0.0909', observed_frequency: '0' });
    const stored = (await new ProbabilityModelRepository(db().pool).get('elo_nfl', 'v1.0'))!;
    expect([stored.validationAccuracy?.toFixed(4), stored.validationCalibration?.toFixed(4), stored.validationSampleSize]).toEqual(['0.7000', '0.1704', 5]);
    expect(stored.config).toEqual(model.config); // the immutable part is untouched

    const human = capture();
    expect(await runCli(['model', 'validate', 'elo_nfl', 'v1.0', '--data', data], human.io)).toBe(EXIT_OK);
    expect(human.out).toEqual(expect.arrayContaining([
      '  priced       5 (1 skipped)',
      '  Brier score  0.1704  (mean squared error; 0 is perfect, 0.25 is a coin flip)',
      '  log loss     0.4810  (mean negative log likelihood; 0.6931 is a coin flip)',
      '  BIN           COUNT  MEAN P  OBSERVED',
      '  [0.90, 1.00]      1  0.9091    1.0000',
    ]));
    const { rows: [{ n }] } = await db().pool.query(`SELECT count(*)::int AS n FROM model_validations WHERE model_id = $1`, [model.id]);
    expect(n).toBe(2); // each run is kept
    // Runs are history: never rewritten or deleted.
    await expect(db().pool.query(`UPDATE model_validations SET brier_score = 0 WHERE validation_id = $1`, [out.validationId])).rejects.toThrow(/never updated or deleted/);
    await expect(db().pool.query(`DELETE FROM model_validations WHERE validation_id = $1`, [out.validationId])).rejects.toThrow(/never updated or deleted/);
  });

  it('matrix: the cell of the shipped NFL matrix for the state, turned to the YES team\'s side', async () => {
    const imported = capture();
    expect(await runCli(['matrix', 'import', 'data/matrices/nfl-v1.0.csv'], imported.io), imported.err.join('\n')).toBe(EXIT_OK);
    await new ProbabilityModelRepository(db().pool).create({
      name: 'nfl_matrix', version: 'v1.0', type: 'matrix', sport: 'nfl', config: { category: 'sports', subcategory: 'nfl', version: 'v1.0' },
    });
    // Halftime, KC leads BUF 17–10 (lead_4_7: P(leader wins) = 0.7100 in the shipped matrix).
    //   YES = KC → 0.71, KC won (1); YES = BUF → 0.29, BUF lost (0)... and a pre-game state the matrix does not price.
    // Brier = ((0.71 − 1)² + (0.29 − 0)²) / 2 = 0.0841
    const data = await file('matrix.csv', [
      'sport,home_team,away_team,yes_team,status,home_score,away_score,period,time_remaining,possession,outcome',
      'nfl,KC,BUF,KC,halftime,17,10,Halftime,0:00,,1',
      'nfl,KC,BUF,BUF,halftime,17,10,Halftime,0:00,,0',
      'nfl,KC,BUF,KC,pregame,,,,,,1',
    ].join('\n'));
    const c = capture();
    expect(await runCli(['model', 'validate', 'nfl_matrix', 'v1.0', '--data', data, '--json'], c.io), c.err.join('\n')).toBe(EXIT_OK);
    const { rows: [cell] } = await db().pool.query(
      `SELECT win_probability::text AS p FROM probability_matrices WHERE subcategory = 'nfl' AND version = 'v1.0' AND state_descriptor = 'halftime' AND value_bucket = 'lead_4_7'`);
    expect(cell.p).toBe('0.7100');
    const out = JSON.parse(c.out[0]!);
    expect(out).toMatchObject({ sampleSize: 2, brierScore: '0.0841', accuracy: '1', skipped: [{ line: 4, reason: expect.stringMatching(/live games and halftime only/) }] });
  });

  it('errors: an unknown model (exit 1), a missing or unreadable file (exit 2, before the database), bad cells (exit 1, nothing stored)', async () => {
    const data = await file('cli.csv', ELO_STATES);
    const ctx = { pool: db().pool, out: () => undefined };
    await expect(modelValidate(ctx, { name: 'nope', version: 'v1.0', data })).rejects.toThrow(ModelNotFoundError);
    await expect(modelValidate(ctx, { name: 'elo_nfl', version: 'v9.0', data })).rejects.toThrow('model elo_nfl v9.0 not found (versions of elo_nfl: v1.0)');
    const missing = capture();
    expect(await runCli(['model', 'validate', 'ghost', 'v1.0', '--data', data], missing.io)).toBe(EXIT_FAILURE);
    expect(missing.err).toEqual(['precog: model ghost v1.0 not found (no model named ghost)']);

    const noFile = capture({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(await runCli(['model', 'validate', 'elo_nfl', 'v1.0', '--data', path.join(dir, 'nope.csv')], noFile.io)).toBe(EXIT_USAGE);
    expect(noFile.err[0]).toMatch(/^error: cannot read data file .*nope\.csv: no such file/);

    const before = (await db().pool.query(`SELECT count(*)::int AS n FROM model_validations`)).rows[0].n;
    const bad = capture();
    const badFile = await file('bad.csv', 'home_team,away_team,status,outcome\nKC,BUF,live,7\n');
    expect(await runCli(['model', 'validate', 'elo_nfl', 'v1.0', '--data', badFile, '--json'], bad.io)).toBe(EXIT_FAILURE);
    expect(JSON.parse(bad.err[0]!)).toMatchObject({ error: expect.stringMatching(/invalid validation data/), issues: [{ line: 2, column: 'outcome' }] });
    expect((await db().pool.query(`SELECT count(*)::int AS n FROM model_validations`)).rows[0].n).toBe(before);
  });

  it('usage errors exit 2', async () => {
    for (const args of [['model', 'validate', 'elo_nfl', 'v1.0'], ['model', 'validate', 'elo_nfl', '1.0', '--data', 'x'], ['model', 'validate', 'elo_nfl', 'v1.0', '--data', 'x', '--bins', '0'], ['matrix', 'import'], ['matrix', 'import', 'a', 'b']]) {
      const c = capture();
      expect(await runCli(args, c.io), args.join(' ')).toBe(EXIT_USAGE);
      expect(c.err.join('\n')).not.toBe('');
    }
  });
});

describe('precog matrix import (exit codes)', () => {
  it('every bad row on stderr, exit 1; JSON errors with --json; a missing file is a usage error', async () => {
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
    expect(await runCli(['matrix', 'import', path.join(dir, 'nope.csv')], missingFile.io)).toBe(EXIT_USAGE);
    expect(missingFile.err[0]).toMatch(/cannot read matrix file .*nope\.csv: no such file/);
    const noDatabase = capture();
    expect(await runCli(['matrix', 'import', bad], { ...noDatabase.io, env: {} })).toBe(EXIT_FAILURE);
    expect(noDatabase.err[0]).toMatch(/set DATABASE_URL/);
  });
});
