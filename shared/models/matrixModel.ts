import * as z from 'zod';
import { ONE, type Decimal } from '../domain/decimal';
import { GameStateError, mapGameState, resolveYesSide } from './gameState';
import type { MatrixCell, ModelInput, ModelOutput, ModelType } from './types';
import { trainedThroughField } from './training';

/**
 * The matrix model: P(YES) read from a probability matrix cell for the game's live state.
 *
 * Cell convention (every matrix this model reads, and the methodology column of the shipped CSV):
 *   - a lead bucket's win_probability is P(the LEADING team wins), whichever side leads;
 *   - the 'tied' bucket's win_probability is P(the HOME team wins).
 * So the probability is turned into P(YES) by the YES team's side: when the YES team is the leader
 * (or the home team in a tie), P(YES) = p with the cell's CI; otherwise P(YES) = 1 − p and the CI
 * flips: [1 − upper, 1 − lower].
 *
 * Cells are looked up by (category, subcategory, version) of the config and (state descriptor,
 * value bucket) of `mapGameState`; v1 uses no situational factors (a cell with null or empty
 * factors). A sports matrix's subcategory is the sport it covers: it is only applied to games of
 * that sport.
 *
 * Skips (with the reason): no game; the game is not live or at halftime; unsupported or malformed
 * state; no YES team, or one that is neither side; the matrix version is not loaded; no cell for
 * the state.
 */

export const MATRIX_VERSION = /^v\d+\.\d+(\.\d+)?$/;

export const matrixConfigSchema = z.strictObject({
  category: z.string().trim().min(1),
  subcategory: z.string().trim().min(1),
  version: z.string().regex(MATRIX_VERSION, { message: 'expected a version like v1.0' }),
  /** The last data the version was fitted on (shared/models/training.ts): a backtest refuses windows before it. */
  trained_through: trainedThroughField,
});
export type MatrixModelConfig = z.infer<typeof matrixConfigSchema>;

function hasNoFactors(cell: MatrixCell): boolean {
  return cell.situationalFactors === null || Object.keys(cell.situationalFactors).length === 0;
}

/** The v1 cell of a state in a matrix version (undefined when the matrix has none). */
export function findCell(
  cells: readonly MatrixCell[],
  matrix: MatrixModelConfig,
  stateDescriptor: string,
  valueBucket: string,
): MatrixCell | undefined {
  return cells.find(
    (c) =>
      c.category === matrix.category &&
      c.subcategory === matrix.subcategory &&
      c.version === matrix.version &&
      c.stateDescriptor === stateDescriptor &&
      c.valueBucket === valueBucket &&
      hasNoFactors(c),
  );
}

function matrixProbability(config: MatrixModelConfig, input: ModelInput): ModelOutput {
  const { game } = input;
  if (!game) return { skip: 'no game is linked to the market' };
  if (game.status !== 'live' && game.status !== 'halftime') {
    return { skip: `game is ${game.status}: the matrix model applies to live games and halftime only` };
  }
  if (config.category === 'sports' && game.sport.toLowerCase() !== config.subcategory.toLowerCase()) {
    return { skip: `matrix ${config.subcategory} ${config.version} does not cover ${game.sport} games` };
  }
  const resolved = resolveYesSide(input.market.yesTeam, game);
  if ('skip' in resolved) return resolved;
  const { side } = resolved;
  let state;
  try {
    state = mapGameState(game);
  } catch (error) {
    if (error instanceof GameStateError) return { skip: `game state not mappable: ${error.message}` };
    throw error;
  }
  const cell = findCell(input.matrices, config, state.stateDescriptor, state.valueBucket);
  if (!cell && !input.matrices.some((c) => c.category === config.category && c.subcategory === config.subcategory && c.version === config.version)) {
    return { skip: `matrix ${config.category}/${config.subcategory} ${config.version} is not loaded (no cells in the input)` };
  }
  if (!cell) {
    return {
      skip: `no cell in matrix ${config.category}/${config.subcategory} ${config.version} for ${state.stateDescriptor} / ${state.valueBucket}`,
    };
  }
  // The cell's probability belongs to the leader, or to the home team when tied.
  const cellSide = state.leader === 'tied' ? 'home' : state.leader;
  const same = side === cellSide;
  const flip = (d: Decimal | null) => (d === null ? null : ONE.minus(d));
  return {
    p: same ? cell.winProbability : ONE.minus(cell.winProbability),
    probabilityMatrixId: cell.probabilityId,
    sampleSize: cell.sampleSize,
    ciLower: same ? cell.ciLower : flip(cell.ciUpper),
    ciUpper: same ? cell.ciUpper : flip(cell.ciLower),
    basis: {
      matrix: { category: config.category, subcategory: config.subcategory, version: config.version },
      stateDescriptor: state.stateDescriptor,
      valueBucket: state.valueBucket,
      leader: state.leader,
      margin: state.margin,
      yesSide: side,
      cellProbability: cell.winProbability.toFixed(),
      cellMeans: state.leader === 'tied' ? 'P(home wins)' : 'P(leader wins)',
    },
  };
}

export const matrixModel: ModelType<MatrixModelConfig> = {
  type: 'matrix',
  configSchema: matrixConfigSchema,
  probability: matrixProbability,
};
