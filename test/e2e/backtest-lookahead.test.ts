import { afterAll, beforeAll, describe, expect, it, vi, inject } from 'vitest';
import { runBacktest } from '../../backtest/engine';
import { lookaheadAnalysis } from '../../backtest/lookahead';
import { DatabaseSource, type ReplayRow, type ReplaySource } from '../../backtest/source';
import { Decimal } from '../../shared/domain/decimal';
import { recordScenario } from '../helpers/backtest';

/**
 * A deliberately peeking model, test-only: the shipped matrix model, except that while a game is
 * live it answers 0.80 / 0.20 (the winner / the loser) when the market's result is in the tape it is replayed on (a side
 * channel: it reads the tape instead of the world the handlers give it). The lookahead analysis
 * must expose it, naming the decisions.
 */
const peek = vi.hoisted(() => ({ results: new Map<string, string>() }));
vi.mock('../../shared/models/matrixModel', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../shared/models/matrixModel')>();
  const { Decimal: D } = await import('../../shared/domain/decimal');
  return {
    ...original,
    matrixModel: {
      ...original.matrixModel,
      probability(config: Parameters<typeof original.matrixModel.probability>[0], input: Parameters<typeof original.matrixModel.probability>[1]) {
        const result = peek.results.get(input.market.marketId);
        const honest = original.matrixModel.probability(config, input);
        if (result === undefined || input.game?.status !== 'live') return honest;
        // As sure of itself as the matrix's best cells, so the strategy's confidence rules let it trade.
        const p = new D(result === '1.0000' ? '0.80' : '0.20');
        return { ...('p' in honest ? honest : {}), p, sampleSize: 5000, ciLower: p.minus('0.02'), ciUpper: p.plus('0.02'), basis: { peeked: true } };
      },
    },
  };
});

/** The source, plus the side channel: the settlement values found in the rows it gives the run. */
class PeekedSource implements ReplaySource {
  // One source a replay: the side channel holds what this replay's window holds. Cleared here, not
  // in rows(): the engine streams the rows twice (the gap check's first pass, then the replay), and
  // a model reading the tape sees all of it from the start, not as the replay reaches it.
  constructor(private readonly inner: DatabaseSource) {
    peek.results.clear();
  }
  get label() {
    return this.inner.label;
  }
  coverage() {
    return this.inner.coverage();
  }
  catalog() {
    return this.inner.catalog();
  }
  async *rows(from: Date, to: Date): AsyncIterable<ReplayRow> {
    for await (const row of this.inner.rows(from, to)) {
      if (row.table === 'markets' && row.row.settlement_value != null) peek.results.set(String(row.row.market_id), String(row.row.settlement_value));
      yield row;
    }
  }
  close() {
    return this.inner.close();
  }
}

let recorded: Awaited<ReturnType<typeof recordScenario>>;
beforeAll(async () => {
  recorded = await recordScenario('blowout');
}, 300_000);
afterAll(async () => recorded?.cleanup());

const replay = async (to?: Date) => {
  const inner = new DatabaseSource(recorded.db.directUrl);
  try {
    return await runBacktest({
      source: new PeekedSource(inner), to, strategies: [{ name: 'quarter_live', version: 'v1.0' }], model: { name: 'nfl_matrix', version: 'v1.0' },
      balance: new Decimal(2000), seed: 3, serverUrl: inject('adminDatabaseUrl'), applicationServerUrl: inject('applicationServerUrl'), template: inject('templateDatabase'),
    });
  } finally {
    await inner.close();
  }
};

describe('lookahead analysis', () => {
  it('exposes a model that reads the result from the tape, naming each decision', async () => {
    const full = await replay();
    const { findings } = await lookaheadAnalysis(full, (to) => replay(to));
    expect(findings.length).toBeGreaterThan(0);
    const first = findings[0]!;
    expect(first.message).toMatch(
      /^lookahead: the decision at \S+ to quarter_live@v1\.0 buy (YES|NO) KXNFLGAME-\S+ ×[\d.]+ @ 0\.\d{4} \(model nfl_matrix@v1\.0\) is not taken when the replay is cut just after \S+: it depended on data from after its own time/,
    );
    expect(full.decisions.some((d) => d.at === first.at)).toBe(true);
  }, 600_000);
});
