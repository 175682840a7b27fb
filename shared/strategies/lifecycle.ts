import type { ModelStatus, StrategyStatus } from '../db/repositories/versionedConfigs';

/**
 * Lifecycle of immutable versions. A version moves forward only; an inactive strategy may be
 * re-activated; nothing comes back from deprecated. Anything else is an illegal jump.
 */
export const STRATEGY_TRANSITIONS: Readonly<Record<StrategyStatus, readonly StrategyStatus[]>> = {
  draft: ['testing', 'deprecated'],
  testing: ['active', 'draft', 'deprecated'],
  active: ['inactive'],
  inactive: ['active', 'deprecated'],
  deprecated: [],
};

export const MODEL_TRANSITIONS: Readonly<Record<ModelStatus, readonly ModelStatus[]>> = {
  draft: ['training', 'deprecated'],
  training: ['validating', 'deprecated'],
  validating: ['active', 'training', 'deprecated'],
  active: ['deprecated'],
  deprecated: [],
};

export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
}

export function assertTransition<S extends string>(
  what: string,
  transitions: Readonly<Record<S, readonly S[]>>,
  from: S,
  to: S,
): void {
  if (from === to) return;
  if (!transitions[from]?.includes(to)) {
    const allowed = transitions[from]?.length ? transitions[from].join(', ') : 'nothing (final)';
    throw new IllegalTransitionError(`${what}: ${from} → ${to} is not allowed (from ${from}: ${allowed})`);
  }
}
