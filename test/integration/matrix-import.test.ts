import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  MatrixImportError,
  MatrixVersionExistsError,
  ProbabilityMatrixRepository,
  parseCsv,
} from '../../shared/db/repositories/probabilityMatrices';
import { matrixImport } from '../../cli/commands/matrixImport';
import { matrixModel } from '../../shared/models/matrixModel';
import { useTestDatabase } from '../helpers/database';

const db = useTestDatabase();
const SHIPPED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../data/matrices/nfl-v1.0.csv');

const HEADER = 'category,subcategory,version,state_descriptor,value_bucket,win_probability,confidence_interval_lower,confidence_interval_upper,sample_size,source,methodology';

async function count(where = 'TRUE', params: unknown[] = []): Promise<number> {
  const { rows } = await db().pool.query(`SELECT count(*)::int AS n FROM probability_matrices WHERE ${where}`, params);
  return rows[0].n;
}

async function importError(text: string): Promise<MatrixImportError> {
  const error = await new ProbabilityMatrixRepository(db().pool).importCsv(text).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(MatrixImportError);
  return error as MatrixImportError;
}

describe('CSV parser', () => {
  it('handles quoted fields: commas, doubled quotes, line breaks, CRLF, BOM, blank lines', () => {
    const text = '\uFEFFa,b,c\r\n"x, y","say ""hi""",plain\r\n\r\n"multi\nline",,""\n';
    const { records, issues } = parseCsv(text);
    expect(issues).toEqual([]);
    expect(records).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', 'plain'] },
      { line: 4, fields: ['multi\nline', '', ''] },
    ]);
  });

  it('a trailing comma is an empty last field; no final newline is fine', () => {
    expect(parseCsv('a,b,\n1,2,').records.map((r) => r.fields)).toEqual([['a', 'b', ''], ['1', '2', '']]);
  });

  it('reports malformed quoting with its line and field', () => {
    expect(parseCsv('a,b\nx"y,1\n"ok"z,2\n').issues).toEqual([
      { line: 2, recordLine: 2, field: 0, message: expect.stringMatching(/quote inside an unquoted field/) },
      { line: 3, recordLine: 3, field: 0, message: expect.stringMatching(/text after a closing quote/) },
    ]);
    expect(parseCsv('a,b\n1,"open\n2,3\n').issues).toEqual([
      { line: 2, recordLine: 2, field: 1, message: expect.stringMatching(/unterminated quoted field/) },
    ]);
  });
});

describe('probability matrix import', () => {
  it('imports the shipped NFL matrix; cells load back exactly, monotone in lead and time', async () => {
    const { pool } = db();
    const out: string[] = [];
    const result = await matrixImport({ pool, out: (l) => out.push(l) }, { file: SHIPPED });
    expect(result).toEqual({ category: 'sports', subcategory: 'nfl', version: 'v1.0', cells: 21 });
    expect(out).toEqual([`imported matrix sports/nfl v1.0: 21 cells from ${SHIPPED}`]);

    const cells = await new ProbabilityMatrixRepository(pool).loadCells([{ category: 'sports', subcategory: 'nfl', version: 'v1.0' }]);
    expect(cells).toHaveLength(21);
    const at = (state: string, bucket: string) => cells.find((c) => c.stateDescriptor === state && c.valueBucket === bucket)!;
    const half = at('halftime', 'lead_4_7');
    expect(half.winProbability.toFixed(4)).toBe('0.7100');
    expect([half.ciLower!.toFixed(4), half.ciUpper!.toFixed(4), half.sampleSize]).toEqual(['0.6891', '0.7300', 1900]);

    const { rows } = await pool.query(`SELECT DISTINCT source, methodology FROM probability_matrices`);
    expect(rows).toHaveLength(1);
    expect(rows[0].source).toMatch(/Pro-Football-Reference/);
    expect(rows[0].methodology).toMatch(/PAPER TRADING/);
    expect(rows[0].methodology).toMatch(/P\(the LEADING team wins\).*P\(the HOME team wins\)/);

    const leads = ['lead_1_3', 'lead_4_7', 'lead_8_10', 'lead_11_14', 'lead_15_21', 'lead_22_plus'];
    const states = ['end_q1', 'halftime', 'end_q3'];
    for (const state of states) {
      for (let i = 1; i < leads.length; i++) expect(at(state, leads[i]!).winProbability.gt(at(state, leads[i - 1]!).winProbability)).toBe(true);
      expect(at(state, 'lead_1_3').winProbability.gt(at(state, 'tied').winProbability)).toBe(true);
    }
    for (const lead of leads) {
      expect(at('halftime', lead).winProbability.gt(at('end_q1', lead).winProbability)).toBe(true);
      expect(at('end_q3', lead).winProbability.gt(at('halftime', lead).winProbability)).toBe(true);
    }
    for (const c of cells) expect(c.ciLower!.lte(c.winProbability) && c.winProbability.lte(c.ciUpper!)).toBe(true);

    // The matrix model reads the loaded cells.
    const p = matrixModel.probability(
      { category: 'sports', subcategory: 'nfl', version: 'v1.0' },
      {
        market: { marketId: 'M', yesTeam: 'KC', closeTime: null },
        game: {
          sport: 'nfl', homeTeam: 'DAL', awayTeam: 'KC', homeScore: 14, awayScore: 10, period: 'Halftime', timeRemaining: null,
          possession: null, status: 'halftime', sportMetadata: null,
        },
        matrices: cells,
      },
    );
    expect(p).toMatchObject({ probabilityMatrixId: half.probabilityId, sampleSize: 1900 });
    expect('p' in p && p.p.toFixed(4)).toBe('0.2900');
  });

  it('importing the same version twice is refused (matrices are immutable); nothing is added', async () => {
    const text = await readFile(SHIPPED, 'utf8');
    const before = await count();
    const error = await new ProbabilityMatrixRepository(db().pool).importCsv(text).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MatrixVersionExistsError);
    expect((error as Error).message).toMatch(/matrix sports\/nfl v1\.0 already exists \(21 cells\): matrices are immutable/);
    expect(await count()).toBe(before);
  });

  it('reports every bad row by line and column and writes nothing', async () => {
    const text = [
      HEADER,
      'sports,nba,v1.0,halftime,tied,0.5500,0.5000,0.6000,100,src,m', // line 2: fine
      'sports,nba,v1.0,halftime,lead_1_5,1.2000,0.5000,0.6000,100,src,m', // 3: p out of range
      'sports,nba,v1.0,halftime,lead_6_10,0.70001,0.6000,0.8000,100,src,m', // 4: 5 decimals
      'sports,nba,v1.0,halftime,lead_11_15,0.8000,0.8500,0.9000,-3,src,m', // 5: lower > p and negative n
      'sports,nba,v1.0,halftime,lead_16_20,0.9000,0.8000,,100,src,m', // 6: one bound only
      'sports,nba,1.0,end_q3,tied,0.5000,0.4000,0.6000,12.5,src,m', // 7: bad version, fractional n
      'sports,nba,v1.0,end_q3,tied,0.5000,0.4000,0.6000,10,src', // 8: too few fields
      'sports,nba,v1.1,end_q3,lead_1_5,0.6000,0.5000,0.7000,10,src,m', // 9: another version in the file
      'sports,nba,v1.0,halftime,tied,0.5600,0.5000,0.6000,100,src,m', // 10: duplicate of line 2
      ',nba,v1.0,end_q1,tied,0.5000,0.4000,0.6000,10,src,m', // 11: empty category
      'sports,nba,v1.0,end_q1,lead_1_5,0.6000,0.7000,0.5000,10,src,m', // 12: bounds swapped
    ].join('\n');
    const error = await importError(text);
    expect(error.issues.map((i) => [i.line, i.column ?? null])).toEqual([
      [3, 'win_probability'],
      [4, 'win_probability'],
      [5, 'sample_size'],
      [5, 'confidence_interval_lower'],
      [6, 'confidence_interval_upper'],
      [7, 'version'],
      [7, 'sample_size'],
      [8, null],
      [9, 'version'],
      [10, 'value_bucket'],
      [11, 'category'],
      [12, 'confidence_interval_lower'],
      [12, 'confidence_interval_upper'],
    ]);
    expect(error.message).toContain('line 3, column win_probability: must be a probability 0..1 with at most 4 decimals');
    expect(error.message).toContain('line 5, column confidence_interval_lower: 0.85 is above win_probability 0.8');
    expect(error.message).toContain('line 5, column sample_size: must be a non-negative integer');
    expect(error.message).toContain('line 8: expected 11 fields, found 10');
    expect(error.message).toContain('line 9, column version: "v1.1" differs from "v1.0" (line 2)');
    expect(error.message).toContain('line 10, column value_bucket: duplicate cell: same state_descriptor, value_bucket and situational_factors as line 2');
    expect(await count(`subcategory = 'nba'`)).toBe(0);
  });

  it('header problems: unknown, duplicate and missing columns', async () => {
    const error = await importError('category,subcategory,version,state_descriptor,value_bucket,win_probability,win_probability,sample_size,source,methodology,notes\n');
    expect(error.issues.map((i) => `${i.line}:${i.column}:${i.message}`)).toEqual([
      '1:win_probability:duplicate column',
      '1:notes:unknown column',
      '1:confidence_interval_lower:missing column',
      '1:confidence_interval_upper:missing column',
    ]);
    expect((await importError('')).issues).toEqual([{ line: 1, message: 'empty file: expected a header row' }]);
    expect((await importError(`${HEADER}\n`)).issues).toEqual([{ line: 2, message: 'no data rows after the header' }]);
  });

  it('quoted fields and situational factors (JSON) import; null CIs and sample size allowed; default source', async () => {
    const text = [
      `${HEADER},situational_factors`,
      'sports,ncaaf,v2.0,halftime,tied,0.5500,,,,,"home team, ""favoured"" side",',
      // A quoted field spanning two lines: the next row's line numbers follow the physical lines.
      'sports,ncaaf,v2.0,halftime,tied,0.6000,0.5000,0.7000,40,"PFR, 2010-2020","line one\nline two","{""home_favorite"": true}"',
      'sports,ncaaf,v2.0,halftime,lead_1_3,0.6000,0.5000,0.7000,40,src,m,"[1]"',
    ].join('\n');
    const error = await importError(text);
    expect(error.issues).toEqual([{ line: 5, column: 'situational_factors', message: 'must be a JSON object (e.g. {"home_favorite": true})' }]);

    const good = text.split('\n').slice(0, 4).join('\n');
    const repo = new ProbabilityMatrixRepository(db().pool);
    expect(await repo.importCsv(good, { source: 'test fixture' })).toEqual({ category: 'sports', subcategory: 'ncaaf', version: 'v2.0', cells: 2 });
    const { rows } = await db().pool.query(
      `SELECT win_probability, confidence_interval_lower, sample_size, source, methodology, situational_factors
       FROM probability_matrices WHERE subcategory = 'ncaaf' ORDER BY probability_id`,
    );
    expect(rows.map((r) => [r.win_probability.toFixed(4), r.confidence_interval_lower?.toFixed(4) ?? null, r.sample_size, r.source, r.methodology, r.situational_factors])).toEqual([
      ['0.5500', null, null, 'test fixture', 'home team, "favoured" side', null],
      ['0.6000', '0.5000', 40, 'PFR, 2010-2020', 'line one\nline two', { home_favorite: true }],
    ]);
    // A factors-only difference is a different cell; the same factors with keys reordered are not.
    const dup = await importError(
      `${HEADER},situational_factors\nsports,x,v1.0,halftime,tied,0.5,,,,,,"{""a"":1,""b"":2}"\nsports,x,v1.0,halftime,tied,0.5,,,,,,"{""b"":2,""a"":1}"\n`,
    );
    expect(dup.issues.map((i) => i.line)).toEqual([3]);
  });

  it('loadCells filters by version and returns nothing for no versions', async () => {
    const repo = new ProbabilityMatrixRepository(db().pool);
    expect(await repo.loadCells([])).toEqual([]);
    const cells = await repo.loadCells([
      { category: 'sports', subcategory: 'ncaaf', version: 'v2.0' },
      { category: 'sports', subcategory: 'nfl', version: 'v9.9' },
    ]);
    expect(cells.map((c) => [c.subcategory, c.version, c.valueBucket])).toEqual([
      ['ncaaf', 'v2.0', 'tied'],
      ['ncaaf', 'v2.0', 'tied'],
    ]);
  });

  it('concurrent imports of one version: exactly one wins', async () => {
    const text = `${HEADER}\nsports,race,v1.0,halftime,tied,0.5000,,,,,\n`;
    const repo = new ProbabilityMatrixRepository(db().pool);
    const results = await Promise.allSettled([repo.importCsv(text), repo.importCsv(text), repo.importCsv(text)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) expect(r.reason).toBeInstanceOf(MatrixVersionExistsError);
    expect(await count(`subcategory = 'race'`)).toBe(1);
  });
});
