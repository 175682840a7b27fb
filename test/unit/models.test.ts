import { describe, expect, it } from 'vitest';
import { Decimal, dec } from '../../shared/domain/decimal';
import { eloExpected, eloModel, eloUpdate, type EloModelConfig } from '../../shared/models/eloModel';
import { matrixModel, type MatrixModelConfig } from '../../shared/models/matrixModel';
import { MODEL_TYPES, ModelConfigError, UnsupportedModelTypeError, modelType, validateModelConfig } from '../../shared/models/registry';
import type { MatrixCell, ModelInput, ModelOutput } from '../../shared/models/types';

type Game = NonNullable<ModelInput['game']>;

const NFL: MatrixModelConfig = { category: 'sports', subcategory: 'nfl', version: 'v1.0' };

let nextId = 100;
function cell(state: string, bucket: string, p: string, lower: string | null, upper: string | null, n: number | null, extra: Partial<MatrixCell> = {}): MatrixCell {
  return {
    probabilityId: nextId++, category: 'sports', subcategory: 'nfl', version: 'v1.0', stateDescriptor: state, valueBucket: bucket,
    situationalFactors: null, winProbability: dec(p), ciLower: lower === null ? null : dec(lower), ciUpper: upper === null ? null : dec(upper),
    sampleSize: n, ...extra,
  };
}

const CELLS: MatrixCell[] = [
  cell('halftime', 'lead_4_7', '0.7100', '0.6891', '0.7300', 1900),
  cell('halftime', 'tied', '0.5500', '0.5142', '0.5853', 750),
  cell('end_q3', 'lead_11_14', '0.9200', null, null, null),
  // Same state in another version and another matrix: never picked for v1.0.
  cell('halftime', 'lead_4_7', '0.6000', '0.5000', '0.7000', 10, { version: 'v1.1' }),
  cell('halftime', 'lead_4_7', '0.6000', '0.5000', '0.7000', 10, { subcategory: 'ncaaf' }),
  // A situational cell is not a v1 cell.
  cell('end_q1', 'lead_1_3', '0.6000', '0.5000', '0.7000', 10, { situationalFactors: { home_favorite: true } }),
];

function game(overrides: Partial<Game> = {}): Game {
  return {
    sport: 'nfl', homeTeam: 'DAL', awayTeam: 'KC', homeScore: 17, awayScore: 10, period: 'Halftime', timeRemaining: null,
    possession: null, status: 'halftime', sportMetadata: null, ...overrides,
  };
}

function input(yesTeam: string | null, g: Game | null = game(), matrices: MatrixCell[] = CELLS): ModelInput {
  return { market: { marketId: 'KXNFLGAME-26NOV27KCDAL-DAL', yesTeam, closeTime: null }, game: g, matrices };
}

function probability(out: ModelOutput) {
  if ('skip' in out) throw new Error(`unexpected skip: ${out.skip}`);
  return out;
}

const fixed = (d: Decimal | null | undefined) => (d == null ? d : d.toFixed(4));

describe('matrix model', () => {
  it('leader is the YES team: P(YES) is the cell, with its CI and sample size', () => {
    const out = probability(matrixModel.probability(NFL, input('DAL')));
    expect(fixed(out.p)).toBe('0.7100');
    expect([fixed(out.ciLower), fixed(out.ciUpper)]).toEqual(['0.6891', '0.7300']);
    expect(out.sampleSize).toBe(1900);
    expect(out.probabilityMatrixId).toBe(CELLS[0]!.probabilityId);
    expect(out.basis).toMatchObject({ stateDescriptor: 'halftime', valueBucket: 'lead_4_7', leader: 'home', yesSide: 'home' });
  });

  it('trailing YES team: P = 1 − p and the CI flips', () => {
    const out = probability(matrixModel.probability(NFL, input('KC')));
    expect(fixed(out.p)).toBe('0.2900');
    expect([fixed(out.ciLower), fixed(out.ciUpper)]).toEqual(['0.2700', '0.3109']);
    expect(out.probabilityMatrixId).toBe(CELLS[0]!.probabilityId);
  });

  it('away leader: the cell belongs to the away team', () => {
    const g = game({ homeScore: 10, awayScore: 17 });
    expect(fixed(probability(matrixModel.probability(NFL, input('KC', g))).p)).toBe('0.7100');
    expect(fixed(probability(matrixModel.probability(NFL, input('DAL', g))).p)).toBe('0.2900');
  });

  it('tied: the cell is P(home wins)', () => {
    const g = game({ homeScore: 10, awayScore: 10 });
    const home = probability(matrixModel.probability(NFL, input('DAL', g)));
    const away = probability(matrixModel.probability(NFL, input('KC', g)));
    expect([fixed(home.p), fixed(home.ciLower), fixed(home.ciUpper)]).toEqual(['0.5500', '0.5142', '0.5853']);
    expect([fixed(away.p), fixed(away.ciLower), fixed(away.ciUpper)]).toEqual(['0.4500', '0.4147', '0.4858']);
  });

  it('live clock inside the end window maps to the end state; null CIs stay null', () => {
    const g = game({ status: 'live', period: 'Q3', timeRemaining: '1:45', homeScore: 7, awayScore: 20 });
    const out = probability(matrixModel.probability(NFL, input('KC', g)));
    expect(fixed(out.p)).toBe('0.9200');
    expect([out.ciLower, out.ciUpper, out.sampleSize]).toEqual([null, null, null]);
    const trailing = probability(matrixModel.probability(NFL, input('DAL', g)));
    expect([fixed(trailing.p), trailing.ciLower, trailing.ciUpper]).toEqual(['0.0800', null, null]);
  });

  it('YES team matched through the Kalshi code (ESPN WSH = Kalshi WAS)', () => {
    const g = game({ homeTeam: 'WSH' });
    expect(fixed(probability(matrixModel.probability(NFL, input('WAS', g))).p)).toBe('0.7100');
  });

  const skips: Array<[string, ModelInput, RegExp]> = [
    ['no game', input('DAL', null), /no game/],
    ['scheduled game', input('DAL', game({ status: 'scheduled', period: null, homeScore: null, awayScore: null })), /game is scheduled/],
    ['final game', input('DAL', game({ status: 'final', period: 'Final' })), /game is final/],
    ['no YES team', input(null), /no YES team/],
    ['YES team neither side', input('NYG'), /YES team NYG is neither the home team DAL nor the away team KC/],
    ['no cell for the state', input('DAL', game({ status: 'live', period: 'Q2', timeRemaining: '8:00' })), /no cell .* for q2 \/ lead_4_7/],
    ['no cell for the bucket', input('DAL', game({ homeScore: 40, awayScore: 0 })), /no cell .* for halftime \/ lead_22_plus/],
    ['situational cells are not v1 cells', input('DAL', game({ status: 'live', period: 'Q1', timeRemaining: '0:10', homeScore: 3, awayScore: 0 })), /no cell .* end_q1 \/ lead_1_3/],
    ['malformed clock', input('DAL', game({ status: 'live', period: 'Q2', timeRemaining: '8:0' })), /not mappable: .*not a MM:SS clock/],
    ['another sport', input('BOS', game({ sport: 'nba', homeTeam: 'BOS', awayTeam: 'NYK' })), /does not cover nba games/],
    ['matrix version not loaded', input('DAL', game(), CELLS.filter((c) => c.version !== 'v1.0')), /matrix sports\/nfl v1.0 is not loaded/],
  ];
  it.each(skips)('skips: %s', (_name, modelInput, reason) => {
    const out = matrixModel.probability(NFL, modelInput);
    expect(out).toHaveProperty('skip');
    expect((out as { skip: string }).skip).toMatch(reason);
  });
});

describe('Elo model', () => {
  const config = (c: Partial<EloModelConfig> = {}): EloModelConfig => ({ ratings: {}, initial_rating: 1500, k_factor: 20, home_advantage: 0, ...c });
  const eloInput = (yes: string, g: Partial<Game> = {}) =>
    input(yes, game({ status: 'scheduled', period: null, homeScore: null, awayScore: null, ...g }), []);

  it('equal ratings, no home advantage: exactly 0.5 for either side', () => {
    expect(eloExpected(1500, 1500).eq(new Decimal('0.5'))).toBe(true);
    const home = probability(eloModel.probability(config(), eloInput('DAL')));
    const away = probability(eloModel.probability(config(), eloInput('KC')));
    expect(home.p.eq('0.5')).toBe(true);
    expect(away.p.eq('0.5')).toBe(true);
    expect(home.basis).toMatchObject({ homeRated: false, awayRated: false, pHome: '0.5000', yesSide: 'home' });
  });

  it('equal ratings with home advantage favour the home team', () => {
    // 1 / (1 + 10^(−55/400)) = 0.578497…
    const home = probability(eloModel.probability(config({ home_advantage: 55 }), eloInput('DAL')));
    const away = probability(eloModel.probability(config({ home_advantage: 55 }), eloInput('KC')));
    expect(home.p.toFixed()).toBe('0.5785');
    expect(away.p.toFixed()).toBe('0.4215');
    expect(home.p.plus(away.p).eq(1)).toBe(true);
    expect(eloExpected(1500, 1500, 55).toFixed(6)).toBe('0.578497');
  });

  it.each([
    // diff = R_home + HA − R_away: the textbook Elo table.
    [{ DAL: 1600, KC: 1500 }, 0, '0.6401'],
    [{ DAL: 1500, KC: 1600 }, 0, '0.3599'],
    [{ DAL: 1700, KC: 1500 }, 0, '0.7597'],
    [{ DAL: 1900, KC: 1500 }, 0, '0.9091'], // 10/11
    [{ DAL: 1500, KC: 1565 }, 65, '0.5000'], // home advantage exactly offsets the gap
  ] as const)('ratings %j, HA %i → P(home) %s', (ratings, ha, expected) => {
    const out = probability(eloModel.probability(config({ ratings: { ...ratings }, home_advantage: ha }), eloInput('DAL')));
    expect(out.p.toFixed(4)).toBe(expected);
  });

  it('unrated teams start at initial_rating; ratings match the Kalshi code too', () => {
    const out = probability(eloModel.probability(config({ ratings: { WAS: 1600 }, initial_rating: 1400 }), eloInput('WAS', { homeTeam: 'WSH' })));
    expect(out.basis).toMatchObject({ homeRating: 1600, awayRating: 1400, homeRated: true, awayRated: false });
    expect(out.p.toFixed(4)).toBe('0.7597');
  });

  it('applies live too (ignoring the score, said in the basis) and skips finished games', () => {
    const liveOut = probability(eloModel.probability(config(), eloInput('DAL', { status: 'live', period: 'Q4', timeRemaining: '1:00', homeScore: 0, awayScore: 35 })));
    expect(liveOut.p.eq('0.5')).toBe(true);
    expect(liveOut.basis).toMatchObject({ ignoresScore: true });
    expect(eloModel.probability(config(), eloInput('DAL', { status: 'final' }))).toEqual({ skip: expect.stringMatching(/game is final/) });
    expect(eloModel.probability(config(), input('DAL', null))).toEqual({ skip: expect.stringMatching(/no game/) });
    expect(eloModel.probability(config(), eloInput('NYG'))).toEqual({ skip: expect.stringMatching(/neither/) });
  });

  it('eloUpdate: zero-sum, k·(score − expected)', () => {
    const even = eloUpdate(1500, 1500, 1, 20);
    expect(even.expectedA.eq('0.5')).toBe(true);
    expect([even.ratingA.toFixed(), even.ratingB.toFixed()]).toEqual(['1510', '1490']);
    const tie = eloUpdate(1500, 1500, '0.5', 20);
    expect([tie.ratingA.toFixed(), tie.ratingB.toFixed()]).toEqual(['1500', '1500']);
    // Expected 10/11 for a 400-point favourite: a win gains 20/11, a loss costs 200/11.
    const favWin = eloUpdate(1900, 1500, 1, 20);
    expect(favWin.expectedA.toFixed(10)).toBe('0.9090909091');
    expect(favWin.ratingA.toFixed(6)).toBe('1901.818182');
    expect(favWin.ratingA.plus(favWin.ratingB).eq(3400)).toBe(true);
    const upset = eloUpdate(1900, 1500, 0, 20);
    expect(upset.ratingB.toFixed(6)).toBe('1518.181818');
    // Home advantage enters the expectation only.
    const home = eloUpdate(1500, 1500, 1, 20, 55);
    expect(home.ratingA.toFixed(4)).toBe(new Decimal(1500).plus(new Decimal(20).times(new Decimal(1).minus(eloExpected(1500, 1500, 55)))).toFixed(4));
    expect(() => eloUpdate(1500, 1500, 2, 20)).toThrow(RangeError);
    expect(() => eloUpdate(1500, 1500, 1, 0)).toThrow(RangeError);
  });
});

describe('model registry', () => {
  it('maps types to implementations and refuses unsupported ones', () => {
    expect(Object.keys(MODEL_TYPES).sort()).toEqual(['elo', 'matrix']);
    expect(modelType('elo')).toBe(eloModel);
    expect(modelType('matrix')).toBe(matrixModel);
    expect(() => modelType('regression')).toThrow(UnsupportedModelTypeError);
    expect(() => modelType('regression')).toThrow('unsupported model type "regression": supported types are elo, matrix');
  });

  it('validates configs, applying defaults', () => {
    expect(validateModelConfig('elo', { k_factor: 28, home_advantage: 55 })).toEqual({ ratings: {}, initial_rating: 1500, k_factor: 28, home_advantage: 55 });
    expect(validateModelConfig('matrix', NFL)).toEqual(NFL);
  });

  it.each([
    ['elo', { k_factor: 'x', home_advantage: 55 }, 'config.k_factor: expected number'],
    ['elo', { home_advantage: 55 }, 'config.k_factor: missing (expected number)'],
    ['elo', { k_factor: -1, home_advantage: 55 }, 'config.k_factor: Too small'],
    ['elo', { k_factor: 20, home_advantage: 55, ratings: { KC: '1600' } }, 'config.ratings.KC: expected number'],
    ['elo', { k_factor: 20, home_advantage: 55, kfactor: 20 }, 'config.kfactor: unknown field'],
    ['elo', null, 'config: expected object'],
    ['matrix', { category: 'sports', subcategory: 'nfl', version: '1.0' }, 'config.version: expected a version like v1.0'],
    ['matrix', { category: 'sports', version: 'v1.0' }, 'config.subcategory: missing (expected string)'],
  ] as const)('%s %j → %s', (type, config, message) => {
    expect(() => validateModelConfig(type, config)).toThrow(ModelConfigError);
    expect(() => validateModelConfig(type, config)).toThrow(message);
  });

  it('an unsupported type is refused before its config is looked at', () => {
    expect(() => validateModelConfig('ml', {})).toThrow(UnsupportedModelTypeError);
  });
});
