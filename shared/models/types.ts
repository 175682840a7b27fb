import type { z } from 'zod';
import type { Decimal } from '../domain/decimal';

/**
 * What a probability model sees of one market at scan time. Everything is already loaded (the
 * scan loads the world in one query): models are pure functions, no I/O.
 */
export interface ModelInput {
  market: {
    marketId: string;
    /** The team whose win pays YES (Kalshi game markets: the ticker's last segment, e.g. KC). */
    yesTeam: string | null;
    closeTime: Date | null;
  };
  /** The live (or pre-game) state of the game the market's event is linked to. */
  game: GameView | null;
  /** Probability matrix cells of the matrix versions the active models name. */
  matrices: readonly MatrixCell[];
}

/** A game's current state as models see it. */
export interface GameView {
  sport: string;
  homeTeam: string;
  awayTeam: string;
  homeScore: number | null;
  awayScore: number | null;
  /** 'Q1'..'Q4', 'OT', 'Halftime', 'Final' or null before the game. */
  period: string | null;
  /** 'MM:SS' left in the period. */
  timeRemaining: string | null;
  possession: 'home' | 'away' | null;
  status: 'scheduled' | 'pregame' | 'live' | 'halftime' | 'final' | 'postponed' | 'cancelled';
  sportMetadata: Record<string, unknown> | null;
}

export interface MatrixCell {
  probabilityId: number;
  category: string;
  subcategory: string;
  version: string;
  stateDescriptor: string;
  valueBucket: string;
  situationalFactors: Record<string, unknown> | null;
  winProbability: Decimal;
  ciLower: Decimal | null;
  ciUpper: Decimal | null;
  sampleSize: number | null;
}

/** A model's answer: P(YES), with what it rests on (drives confidence and attribution). */
export type ModelOutput =
  | {
      p: Decimal;
      probabilityMatrixId?: number;
      sampleSize?: number | null;
      ciLower?: Decimal | null;
      ciUpper?: Decimal | null;
      /** Free-form explanation stored with the edge (state descriptor, bucket, ratings…). */
      basis: Record<string, unknown>;
    }
  | { skip: string };

/** A model type: its config schema (validated when a version is created) and its probability. */
export interface ModelType<C = unknown> {
  type: 'elo' | 'matrix' | 'regression' | 'ensemble' | 'ml';
  configSchema: z.ZodType<C>;
  probability(config: C, input: ModelInput): ModelOutput;
}
