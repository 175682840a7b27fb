import type { z } from 'zod';
import { eloModel } from './eloModel';
import { matrixModel } from './matrixModel';
import type { ModelType } from './types';

/**
 * The model types Precog can run, by `probability_models.model_type`. 'regression', 'ensemble'
 * and 'ml' are allowed by the schema but not implemented yet: `modelType` refuses them.
 */
export const MODEL_TYPES = Object.freeze({
  elo: eloModel,
  matrix: matrixModel,
}) satisfies Readonly<Record<string, ModelType<any>>>;

export type SupportedModelType = keyof typeof MODEL_TYPES;

export class UnsupportedModelTypeError extends Error {
  override name = 'UnsupportedModelTypeError';
}

export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
  constructor(
    readonly modelType: string,
    /** One entry per problem, e.g. 'config.k_factor: expected number, received string'. */
    readonly issues: readonly string[],
  ) {
    super(`invalid ${modelType} model config: ${issues.join('; ')}`);
  }
}

export function isSupportedModelType(type: string): type is SupportedModelType {
  return Object.prototype.hasOwnProperty.call(MODEL_TYPES, type);
}

/** The implementation of a model type; throws UnsupportedModelTypeError naming the supported ones. */
export function modelType(type: string): ModelType<unknown> {
  if (!isSupportedModelType(type)) {
    throw new UnsupportedModelTypeError(
      `unsupported model type ${JSON.stringify(type)}: supported types are ${Object.keys(MODEL_TYPES).join(', ')}`,
    );
  }
  return MODEL_TYPES[type] as ModelType<unknown>;
}

function issueText(issue: z.core.$ZodIssue): string {
  const path = ['config', ...issue.path.map(String)].join('.');
  // zod 4 prefixes type errors with "Invalid input: "; the path already says where.
  const message = issue.message.replace(/^Invalid input: /, '').replace(/^expected (.+), received undefined$/, 'missing (expected $1)');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${path}.${k}: unknown field`).join('; ');
  }
  return `${path}: ${message}`;
}

/**
 * Validates a model version's config against its type's schema (at creation: configs are immutable)
 * and returns the parsed config (defaults applied). Throws UnsupportedModelTypeError or
 * ModelConfigError, whose message names each offending field (`config.k_factor: expected number,
 * received string`).
 */
export function validateModelConfig<T extends SupportedModelType>(type: T, config: unknown): z.output<(typeof MODEL_TYPES)[T]['configSchema']>;
export function validateModelConfig(type: string, config: unknown): unknown;
export function validateModelConfig(type: string, config: unknown): unknown {
  const implementation = modelType(type);
  const parsed = implementation.configSchema.safeParse(config);
  if (!parsed.success) throw new ModelConfigError(type, parsed.error.issues.map(issueText));
  return parsed.data;
}
