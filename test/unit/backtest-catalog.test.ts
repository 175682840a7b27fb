import { describe, expect, it } from 'vitest';
import { chooseCatalog, parseVersionRef } from '../../backtest/catalog';
import type { ReplayCatalog } from '../../backtest/source';
import { validateModelConfig } from '../../shared/models/registry';

const model = (name: string, version: string, config: Record<string, unknown> = {}) => ({
  model_id: '1', model_name: name, model_version: version, model_type: 'matrix', config: { category: 'sports', subcategory: 'nfl', version: 'v1.0', ...config },
});
const strategy = (name: string, version: string, uses: [string, string]) => ({
  strategy_id: '1', strategy_name: name, strategy_version: version, config: { model: { name: uses[0], version: uses[1] }, kind: 'live' },
});
const catalog: ReplayCatalog = {
  platforms: [], probabilityMatrices: [],
  probabilityModels: [model('nfl_matrix', 'v1.0'), model('nfl_matrix', 'v2.0', { trained_through: '2026-09-13' }), model('nfl_matrix', 'v2.1', { trained_through: '2026-09-13T17:30:00Z' })],
  strategies: [strategy('quarter_live', 'v1.0', ['nfl_matrix', 'v1.0']), strategy('quarter_live', 'v2.0', ['nfl_matrix', 'v2.0']), strategy('quarter_live', 'v2.1', ['nfl_matrix', 'v2.1'])],
};
const FROM = new Date('2026-09-13T17:00:00Z');

describe('the replay catalog', () => {
  it('takes the requested versions and the models they use', () => {
    const chosen = chooseCatalog(catalog, { strategies: [parseVersionRef('quarter_live@v1.0', '--strategy')], model: null, from: FROM });
    expect(chosen.strategies.map((s) => s.strategy_version)).toEqual(['v1.0']);
    expect(chosen.models.map((m) => m.model_version)).toEqual(['v1.0']);
  });

  it('refuses a model trained through a date (the whole UTC day) or an instant at or after the window\'s start, and takes one trained before it', () => {
    expect(() => chooseCatalog(catalog, { strategies: [{ name: 'quarter_live', version: 'v2.0' }], model: null, from: FROM }))
      .toThrow('model nfl_matrix@v2.0 was trained through 2026-09-13T23:59:59.999Z (config.trained_through): a replay from 2026-09-13T17:00:00.000Z would judge it on the data it was fitted on');
    expect(() => chooseCatalog(catalog, { strategies: [{ name: 'quarter_live', version: 'v2.1' }], model: null, from: FROM }))
      .toThrow(/model nfl_matrix@v2\.1 was trained through 2026-09-13T17:30:00\.000Z/);
    const later = new Date('2026-09-14T00:00:00Z');
    expect(chooseCatalog(catalog, { strategies: [{ name: 'quarter_live', version: 'v2.0' }], model: null, from: later }).models).toHaveLength(1);
  });

  it('names unknown versions with the known ones, and a strategy configured for another model', () => {
    expect(() => chooseCatalog(catalog, { strategies: [{ name: 'quarter_live', version: 'v9.0' }], model: null, from: FROM }))
      .toThrow('unknown strategy version quarter_live@v9.0: the source knows quarter_live@v1.0, quarter_live@v2.0, quarter_live@v2.1');
    expect(() => chooseCatalog(catalog, { strategies: [{ name: 'quarter_live', version: 'v1.0' }], model: { name: 'nfl_matrix', version: 'v2.0' }, from: FROM }))
      .toThrow('strategy quarter_live@v1.0 uses model nfl_matrix@v1.0, not the requested --model nfl_matrix@v2.0');
    expect(() => chooseCatalog(catalog, { strategies: [{ name: 'quarter_live', version: 'v1.0' }, { name: 'quarter_live', version: 'v1.0' }], model: null, from: FROM }))
      .toThrow('--strategy quarter_live@v1.0 is given twice');
  });

  it('trained_through is part of every model type\'s config schema, checked for its format', () => {
    expect(validateModelConfig('matrix', { category: 'sports', subcategory: 'nfl', version: 'v1.0', trained_through: '2026-08-31' })).toMatchObject({ trained_through: '2026-08-31' });
    expect(validateModelConfig('elo', { k_factor: 20, home_advantage: 55, trained_through: '2026-08-31T12:00:00Z' })).toMatchObject({ trained_through: '2026-08-31T12:00:00Z' });
    expect(() => validateModelConfig('elo', { k_factor: 20, home_advantage: 55, trained_through: 'last week' }))
      .toThrow('invalid elo model config: config.trained_through: expected an ISO date (2026-08-31) or date-time');
  });
});
